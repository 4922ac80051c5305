# The payment channel actor, its FVM harness and the paych CLI.
# `make help` lists the targets.

CARGO ?= cargo
WASM_TARGET := wasm32-unknown-unknown
WASM_PACKAGES := -p paych-actor -p devnet-account -p devnet-init -p devnet-inert -p test-probe
BUNDLE_CAR := target/paych-devnet-bundle.car

.PHONY: help toolchain wasm test test-bundle-env lint check gas bundle differential

help:
	@echo "make wasm          build the actors for Wasm; prints the payment channel's .wasm path last"
	@echo "make test          every test: actor unit tests, client, FVM conformance suite, bundle loading"
	@echo "make check         fmt, clippy -D warnings (native and Wasm), then make test"
	@echo "make gas           gas per step and Wasm size next to the built-in payment channel"
	@echo "make bundle        write the devnet bundle as a CAR ($(BUNDLE_CAR))"
	@echo "make differential  ours vs a real bundle's payment channel (needs PAYCH_BUILTIN_BUNDLE)"

toolchain:
	rustup target add $(WASM_TARGET)

wasm: toolchain
	$(CARGO) build --locked --target $(WASM_TARGET) --profile wasm $(WASM_PACKAGES)
	@ls -l target/$(WASM_TARGET)/wasm/*.wasm
	@echo target/$(WASM_TARGET)/wasm/paych_actor.wasm

test: toolchain
	$(CARGO) test --locked --workspace
	$(MAKE) test-bundle-env

# The PAYCH_BUILTIN_BUNDLE path, with a CAR this project writes itself: the
# conformance suite runs on the bundle's init/account and our payment channel.
test-bundle-env: bundle
	PAYCH_BUILTIN_BUNDLE=$(BUNDLE_CAR) $(CARGO) test --locked -p paych-integration-tests --test suite conformance::

lint: toolchain
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) clippy --locked --target $(WASM_TARGET) $(WASM_PACKAGES) -p sdk-support -- -D warnings

check: lint test

gas: toolchain
	$(CARGO) run --locked -q -p paych-integration-tests --bin gas

bundle: toolchain
	$(CARGO) run --locked -q -p paych-bundle --bin write-bundle -- $(BUNDLE_CAR)

differential: toolchain
	@test -n "$$PAYCH_BUILTIN_BUNDLE" || { echo "set PAYCH_BUILTIN_BUNDLE=path/to/builtin-actors.car" >&2; exit 2; }
	$(CARGO) run --locked -q -p paych-integration-tests --bin differential
