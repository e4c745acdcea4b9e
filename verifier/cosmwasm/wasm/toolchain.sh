# Sourced by wasm.sh: the pinned Rust 1.96 toolchain for wasm32, from
# Debian bookworm(-security) packages unpacked into a private folder.
#
# rustup's toolchain here has no wasm32 std and cannot download one;
# Debian's rustc-web 1.96 with its std sources (rust-web-src) can build one
# (-Zbuild-std). Nothing is installed into the system: each package is
# fetched with `apt-get download` and unpacked with `dpkg -x` into
# $WASM_HOME/toolchain, so `cargo` on PATH stays rustup's. The shared
# libraries the tools need that a fresh machine lacks (libgit2 and its
# dependencies, for cargo) are unpacked there too and found through
# LD_LIBRARY_PATH; the others (libcurl, libssh2, libxml2, libz3, ...) come
# with the machine image.
#
# Every package is pinned by version and SHA-256. A Debian security update
# that removes a pinned version from the mirror makes this fail with the
# package's name: update the pin (version and digest) in one commit.

# package=version sha256
WASM_DEBS="
rustc-web=1.96.0+dfsg1-1~deb12u2 8fefe1d6377fe4082f5a9d2a47e095e2d20319eaab9754bd2f0275155c9adf90
cargo-web=1.96.0+dfsg1-1~deb12u2 daa5189c56b7e0895f9c89335aae3fc909272f5df332c101c80405695014b149
libstd-rust-web-1.96=1.96.0+dfsg1-1~deb12u2 3755f30434ae29574c91b0beb86632bee401607b0ac35c3e52810f9a53fae0d1
libstd-rust-web-dev=1.96.0+dfsg1-1~deb12u2 e38dbeaaad673fc63fb47c5140cf34da271ac71c3ecafc828b762c2fb01fe77a
rust-web-src=1.96.0+dfsg1-1~deb12u2 9de8597c464d0a9283672973ed7e50092b49a92b95861429043fe8b57468a208
rust-web-llvm=1.96.0+dfsg1-1~deb12u2 a833d36c4a9211d801a70723b71b8cd4570c16184cbebac1374f3db9092a326b
libllvm22=1:22.1.8-1~deb12u1 729ec3e943d320515c2bbdc96acfffd7ce34861e62bd5c42726bf586d644dfe2
lld-22=1:22.1.8-1~deb12u1 13103b3fb3195bfeade9835d3906a4cc91002010f9013d98aa1fc55b841d07b4
binaryen=108-1 3e78e82c38b9faa7e5645f19ab3d386f8da7c71f8dc19edfaa0ff1b080bd81a8
libgit2-1.5=1.5.1+ds-1+deb12u2 0ff5b31dc6a86baabb60584f5cdf801c3e5e9a92ec13f4099e1b3295309b9e0a
libhttp-parser2.9=2.9.4-5 98045b047b8f3ccfdd7930983797df3e316112e1cd4d161fc793260e31183b59
libmbedcrypto7=2.28.3-1 af3295f80abf7e6ba2cba419134e29bde04192bf3614622ee53ce49de8d02abe
libmbedtls14=2.28.3-1 621ddfb85c668a86d755fae7bb0f31f00d83e4456c8171f9da7445a54b04da9c
libmbedx509-1=2.28.3-1 3377b6bedec2882b9fefeb0ef960ad4dc372939854d76adf761ba70e71d35c3b
"

# A stamp of the pins: the unpacked toolchain is reused only if it was
# unpacked from exactly these packages.
wasm_pins_stamp() {
    printf '%s' "$WASM_DEBS" | sha256sum | cut -c1-16
}

# The file name `apt-get download` gives package=version (the epoch's ':'
# becomes %3a).
wasm_deb_file() {
    local name=${1%%=*} version=${1#*=}
    printf '%s_%s_*.deb' "$name" "${version//:/%3a}"
}

wasm_fetch_debs() {
    local debs=$1 spec sha file missing=()
    mkdir -p "$debs"
    while read -r spec sha; do
        [ -n "$spec" ] || continue
        # shellcheck disable=SC2086
        file=$(ls "$debs"/$(wasm_deb_file "$spec") 2>/dev/null | head -n1)
        if [ -z "$file" ] || ! echo "$sha  $file" | sha256sum --quiet -c - 2>/dev/null; then
            rm -f "$file"
            missing+=("$spec")
        fi
    done <<<"$WASM_DEBS"
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "wasm: downloading ${#missing[@]} Debian packages" >&2
    # A fresh machine may have no (or old) package lists.
    if ! (cd "$debs" && apt-get download -q -o APT::Sandbox::User=root "${missing[@]}" >/dev/null); then
        apt-get update -q >/dev/null
        (cd "$debs" && apt-get download -q -o APT::Sandbox::User=root "${missing[@]}" >/dev/null) || {
            echo "wasm: apt-get download failed for: ${missing[*]}" >&2
            echo "wasm: a pinned version may have left the mirror (apt-cache policy NAME); update the pins in $0" >&2
            return 1
        }
    fi
    while read -r spec sha; do
        [ -n "$spec" ] || continue
        # shellcheck disable=SC2086
        file=$(ls "$debs"/$(wasm_deb_file "$spec") | head -n1)
        echo "$sha  $file" | sha256sum --quiet -c - || {
            echo "wasm: $file does not match its pinned SHA-256" >&2
            return 1
        }
    done <<<"$WASM_DEBS"
}

# Installs (if needed) and activates the toolchain: sets WASM_TC and the
# environment for cargo.
wasm_toolchain() {
    local home=$1 stamp
    stamp=$(wasm_pins_stamp)
    WASM_TC=$home/toolchain
    if [ "$(cat "$WASM_TC/.pins" 2>/dev/null)" != "$stamp" ]; then
        wasm_fetch_debs "$home/debs" || return 1
        echo "wasm: unpacking the toolchain into $WASM_TC" >&2
        rm -rf "$WASM_TC"
        mkdir -p "$WASM_TC"
        local spec sha file
        while read -r spec sha; do
            [ -n "$spec" ] || continue
            # shellcheck disable=SC2086
            file=$(ls "$home"/debs/$(wasm_deb_file "$spec") | head -n1)
            dpkg -x "$file" "$WASM_TC"
        done <<<"$WASM_DEBS"
        echo "$stamp" >"$WASM_TC/.pins"
    fi
    export LD_LIBRARY_PATH="$WASM_TC/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export RUSTC="$WASM_TC/usr/bin/rustc" RUSTDOC="$WASM_TC/usr/bin/rustdoc"
    # Appended: rustup's cargo and rustc stay first for everything else.
    export PATH="$PATH:$WASM_TC/usr/bin"
    WASM_CARGO=$WASM_TC/usr/bin/cargo
    WASM_OPT=$WASM_TC/usr/bin/wasm-opt
    # Checks that the unpacked tools run (a missing shared library shows here).
    local v
    v=$("$RUSTC" --version) && [[ $v == "rustc 1.96.0 "* ]] || {
        echo "wasm: $RUSTC does not run as rustc 1.96.0: $v" >&2
        return 1
    }
    "$WASM_CARGO" --version >/dev/null && "$WASM_OPT" --version >/dev/null &&
        "$WASM_TC/usr/bin/rust-lld" -flavor wasm --version >/dev/null || {
        echo "wasm: the unpacked cargo, wasm-opt or rust-lld does not run (ldd them)" >&2
        return 1
    }
    [ -d "$WASM_TC/usr/lib/rustlib/src/rust/library/std" ] || {
        echo "wasm: no std sources under $WASM_TC/usr/lib/rustlib/src/rust" >&2
        return 1
    }
}
