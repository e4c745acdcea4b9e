# zkinfer — the commands a new machine needs. Everything comes from
# Cargo.toml and crates.io; no system packages.

CARGO ?= cargo
ZKINFER := target/release/zkinfer
DEMO := target/demo

.PHONY: build test demo models fmt clippy

build:
	$(CARGO) build --release --locked

# What CI runs (.ci/run): formatting, lints, every test, in release.
test:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --locked --workspace --all-targets -- -D warnings
	$(CARGO) test --release --locked --workspace

# The main job on the bundled digits models.
demo: build
	@echo "== bundled models"
	$(ZKINFER) models
	@echo
	@echo "== quantized inference in candle on a held-out 7 (digits-mlp)"
	$(ZKINFER) infer --model digits-mlp --input examples/inputs/digit-7.json
	@echo
	@echo "== the same 7 as an EZKL input file, on digits-cnn"
	$(ZKINFER) infer --model digits-cnn --input examples/inputs/digit-7.ezkl.json
	@echo
	@echo "== accuracy on the held-out split"
	$(ZKINFER) eval --model digits-mlp
	$(ZKINFER) eval --model digits-cnn
	@echo
	@echo "== quantizing a float model from its architecture, weights and calibration data"
	@mkdir -p $(DEMO)
	$(ZKINFER) quantize --arch models/bundled/digits-mlp/arch.json \
		--weights models/bundled/digits-mlp/weights.safetensors \
		--calibration examples/inputs/calibration-100.ezkl.json --out $(DEMO)/mlp-100.json
	$(ZKINFER) infer --model $(DEMO)/mlp-100.json --input examples/inputs/digit-3.json

# Retrain and requantize the bundled models from the vendored digits (about
# a minute). Builds without the `bundled` feature, since it rewrites those files.
models:
	$(CARGO) run --release --locked -p zkinfer-models --no-default-features --example train_digits

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
