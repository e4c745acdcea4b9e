# zkinfer — the commands a new machine needs. Everything comes from
# Cargo.toml and crates.io; the wasm targets also unpack pinned Debian
# packages (Rust 1.96 for wasm32, lld, binaryen) into .wasm/, installing
# nothing into the system.

CARGO ?= cargo
ZKINFER := target/release/zkinfer
DEMO := target/demo

.PHONY: build test demo bench models fmt clippy params-pins fuzz wasm wasm-test wasm-bless

build:
	$(CARGO) build --release --locked

# What CI runs (.ci/run): formatting, lints, every test, in release, then
# the contract as wasm in the real CosmWasm VM (wasm-test).
# `cargo fetch` first brings every crate for every target (the dependency
# tests read the wasm32 tree offline).
test:
	$(CARGO) fetch --locked
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --locked --workspace --all-targets -- -D warnings
	$(CARGO) test --release --locked --workspace
	$(MAKE) wasm-test

# The CosmWasm contract as a chain runs it (verifier/cosmwasm/wasm/wasm.sh):
# the pinned Debian toolchain unpacked into .wasm/ (cached), the wasm32
# builds with their own size profile — zkinfer_cosmwasm.wasm and, with
# polycommit models, zkinfer_cosmwasm_committed.wasm — wasm-opt,
# cosmwasm-vm 3.0.11's static checks (what cosmwasm-check runs), and sizes.
wasm:
	bash verifier/cosmwasm/wasm/wasm.sh build

# wasm, then the VM scenarios (fresh instance per message, wasmd's gas) with
# every message's gas checked against verifier/cosmwasm/wasm/gas_budgets.json
# (the committed-weights module's: gas_budgets.committed.json).
wasm-test:
	bash verifier/cosmwasm/wasm/wasm.sh test

# Rewrites gas_budgets.json from a run (10 % above what it measures).
wasm-bless:
	bash verifier/cosmwasm/wasm/wasm.sh bless

# The fuzz targets of every parser, longer than `make test` runs them:
# ZKINFER_FUZZ_CASES cases for a target whose default is 10^4 (the
# expensive proof-bundle target runs a tenth). About an hour at 10^6 on two
# cores; `make fuzz FUZZ_CASES=100000` for a few minutes.
FUZZ_CASES ?= 1000000
FUZZ_TARGETS := --test fuzz_model --test fuzz_onnx --test fuzz_files \
	--test fuzz_bundle --test fuzz_contract --test fuzz_package
fuzz:
	ZKINFER_FUZZ_CASES=$(FUZZ_CASES) $(CARGO) test --release --locked \
		-p zkinfer-quant -p zkinfer-models -p zkinfer-verifier -p zkinfer-prover \
		$(FUZZ_TARGETS) -- --nocapture

# The main job on the bundled digits models: infer, prove, verify.
demo: build
	@mkdir -p $(DEMO)
	@echo "== bundled models"
	$(ZKINFER) models
	@echo
	@echo "== quantized inference in candle on a held-out 7 (digits-cnn)"
	$(ZKINFER) infer --model digits-cnn --input examples/inputs/digit-7.json
	@echo
	@echo "== prove it (IPA over Pasta: parameters derived and cached locally, no setup)"
	$(ZKINFER) prove --model digits-cnn --input examples/inputs/digit-7.json --out $(DEMO)/digit-7.proof.json
	@echo
	@echo "== verify it, as a chain-side verifier would"
	$(ZKINFER) verify --model digits-cnn --proof $(DEMO)/digit-7.proof.json
	@echo
	@echo "== the same with a private input, and an EZKL input file, on digits-mlp"
	$(ZKINFER) prove --model digits-mlp --input examples/inputs/digit-7.ezkl.json --private-input --out $(DEMO)/mlp-private.proof.json
	$(ZKINFER) verify --model digits-mlp --proof $(DEMO)/mlp-private.proof.json
	@echo
	@echo "== the ML engineer's path: an ONNX model (Conv + BatchNorm + pooling) in, a circuit package out"
	@echo "   (a fixture with random weights: its class says nothing about the digit)"
	$(ZKINFER) export --onnx models/fixtures/onnx/cnn_bn_pool.onnx \
		--calibration models/fixtures/onnx/cnn_bn_pool.calibration.json --out $(DEMO)/cnn_bn_pool
	$(ZKINFER) prove --model $(DEMO)/cnn_bn_pool --input examples/inputs/digit-0.json --out $(DEMO)/onnx.proof.json
	$(ZKINFER) verify --model $(DEMO)/cnn_bn_pool --proof $(DEMO)/onnx.proof.json
	@echo
	@echo "== a tiny GPT (2 layers, 2 heads, d 32, 16 characters of context), trained on Alice in Wonderland:"
	@echo "   exported from PyTorch's ONNX, the next character after a prompt proved and verified"
	$(ZKINFER) export --onnx models/fixtures/tiny_gpt/tiny_gpt.onnx --profile wide --target accuracy \
		--calibration models/fixtures/tiny_gpt/tiny_gpt.calibration.json --out $(DEMO)/tiny_gpt
	@echo "prompt: 'they had a large'"
	python3 examples/gpt_chars.py encode "they had a large" > $(DEMO)/gpt-prompt.json
	$(ZKINFER) prove --model $(DEMO)/tiny_gpt --input $(DEMO)/gpt-prompt.json --out $(DEMO)/gpt.proof.json
	$(ZKINFER) verify --model $(DEMO)/tiny_gpt --proof $(DEMO)/gpt.proof.json --json \
		| python3 examples/gpt_chars.py decode
	@echo
	@echo "== accuracy on the held-out split"
	$(ZKINFER) eval --model digits-mlp
	$(ZKINFER) eval --model digits-cnn
	@echo
	@echo "== quantizing a float model from its architecture, weights and calibration data"
	$(ZKINFER) quantize --arch models/bundled/digits-mlp/arch.json \
		--weights models/bundled/digits-mlp/weights.safetensors \
		--calibration examples/inputs/calibration-100.ezkl.json --out $(DEMO)/mlp-100.json
	$(ZKINFER) infer --model $(DEMO)/mlp-100.json --input examples/inputs/digit-3.json

# Proving and verifying costs of the bundled models: a table, not a test.
bench:
	$(CARGO) bench --locked --bench prove

# Regenerate IPA parameters for every k and check them against the SHA-256
# digests pinned in verifier/src/params.rs (the tests check k ≤ 10; this
# checks all, and takes over an hour: k = 19 took 17 minutes, k = 20 over 30).
params-pins:
	$(CARGO) run --release --locked -p zkinfer-verifier --example params_pins -- 1 20

# Retrain and requantize the bundled models from the vendored digits (about
# a minute). Builds without the `bundled` feature, since it rewrites those files.
models:
	$(CARGO) run --release --locked -p zkinfer-models --no-default-features --example train_digits

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
