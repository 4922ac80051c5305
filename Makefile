# The payment channel actor, its FVM harness and the paych CLI.
# `make help` lists the targets.

CARGO ?= cargo
WASM_TARGET := wasm32-unknown-unknown
WASM_PACKAGES := -p paych-actor -p devnet-account -p devnet-init -p devnet-inert -p devnet-placeholder -p devnet-ethaccount -p test-probe
BUNDLE_CAR := $(CURDIR)/target/paych-devnet-bundle.car
# `make bundle BASE=builtin-actors.car` writes that release bundle with only
# its payment channel replaced by ours, to $(BASE_BUNDLE_CAR).
BASE_BUNDLE_CAR := $(CURDIR)/target/paych-bundle-from-base.car

# Cargo unifies dependency features over the packages a command selects, so a
# `-p one-crate` build after a `--workspace` build recompiles the FVM with other
# features. Everything on the test/CI path therefore selects the workspace.
WORKSPACE := --locked --workspace
TARGET_DIR ?= $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),$(CURDIR)/target)
BIN := $(TARGET_DIR)/debug

.PHONY: help toolchain lint-tools fuzz-tools wasm bins test test-bundle-env test-js lint check gas bundle differential demo bench vectors
.PHONY: reliability reliability-ci reliability-tests fuzz fuzz-run fuzz-smoke reliability-summary

help:
	@echo "make wasm          build the actors for Wasm; prints the payment channel's .wasm path last"
	@echo "make test          every test: actor unit tests, client, FVM conformance suite, bundle loading, JS clients"
	@echo "make test-js       real JavaScript Filecoin clients (clients/js, pinned) against a running paych daemon"
	@echo "make check         fmt, clippy -D warnings (native and Wasm), then make test"
	@echo "make gas           gas per step and Wasm size next to the built-in payment channel"
	@echo "make bundle        write the devnet bundle as a CAR ($(BUNDLE_CAR))"
	@echo "make bundle BASE=x.car  write release bundle x.car with our payment channel swapped in ($(BASE_BUNDLE_CAR))"
	@echo "make differential  ours vs a real bundle's payment channel (needs PAYCH_BUILTIN_BUNDLE)"
	@echo "make vectors       test vectors (public schema) of every scenario to $(VECTORS_DIR), then replays them"
	@echo "make demo          paych walkthrough: the whole payment channel story on a fresh temporary devnet"
	@echo "make bench         vouchers created/checked per second, raw secp256k1 rates, messages applied per second; the node API's rates (1 and 8 clients) next to in-process"
	@echo "make reliability   large property/FVM runs, malformed inputs, every fuzz target $(FUZZ_SECONDS)s; one summary"
	@echo "make reliability-ci  the bounded version CI runs (fixed seeds, $(FUZZ_SMOKE_SECONDS)s fuzz smoke per target)"
	@echo "make fuzz          every fuzz target for FUZZ_SECONDS (default $(FUZZ_SECONDS)); installs cargo-fuzz if missing"

# Every documented target installs what it needs, as .ci/run does.
toolchain:
	rustup target add $(WASM_TARGET)

lint-tools: toolchain
	rustup component add rustfmt clippy

fuzz-tools:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked

wasm: toolchain
	$(CARGO) build --locked --target $(WASM_TARGET) --profile wasm $(WASM_PACKAGES)
	@ls -l target/$(WASM_TARGET)/wasm/*.wasm
	@echo target/$(WASM_TARGET)/wasm/paych_actor.wasm

test: toolchain
	$(CARGO) test --locked --workspace
	$(MAKE) test-bundle-env
	$(MAKE) test-js

# The PAYCH_BUILTIN_BUNDLE path, with a CAR this project writes itself: the
# conformance suite runs on the bundle's init/account and our payment channel.
test-bundle-env: bins
	$(BIN)/write-bundle $(BUNDLE_CAR)
	PAYCH_BUILTIN_BUNDLE=$(BUNDLE_CAR) $(CARGO) test $(WORKSPACE) --test suite conformance::

# Third-party JavaScript clients (shipyard, glif, iso-filecoin, pinned by
# clients/js/package-lock.json) drive a `paych daemon` each test file starts
# on a fresh temporary repo; plus the reference's captured requests replayed
# verbatim. Bounded: every wait has a timeout, and so has the whole run.
JS_DIR := $(CURDIR)/clients/js
JS_TIMEOUT ?= 150

test-js: toolchain
	$(CARGO) build $(WORKSPACE) --bin paych
	test -d $(JS_DIR)/node_modules || (cd $(JS_DIR) && npm ci --no-audit --no-fund)
	cd $(JS_DIR) && PAYCH_BIN=$(BIN)/paych timeout -k 10 $(JS_TIMEOUT) node --test --test-timeout=60000 test/

lint: lint-tools
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) clippy --locked --target $(WASM_TARGET) $(WASM_PACKAGES) -p sdk-support -- -D warnings

check: lint test

gas: bins
	$(BIN)/gas $(GAS_ARGS)

# Every binary of the workspace (paych, gas, differential, write-bundle, ...),
# built with the same features as the tests so nothing is compiled twice.
bins: toolchain
	$(CARGO) build $(WORKSPACE) --bins

bundle: bins
ifeq ($(BASE),)
	$(BIN)/write-bundle $(BUNDLE_CAR)
else
	$(BIN)/write-bundle --base $(abspath $(BASE)) $(BASE_BUNDLE_CAR)
endif

differential: bins
	@test -n "$$PAYCH_BUILTIN_BUNDLE" || { echo "set PAYCH_BUILTIN_BUNDLE=path/to/builtin-actors.car" >&2; exit 2; }
	$(BIN)/differential

# ----- reliability: model-based property tests, randomized FVM runs, the
# malformed-input table and fuzzing (reliability/, fuzz/). Tests write their
# counts to $(REL_DIR); reliability-summary adds them up with the fuzzers'
# final stats and fails on any mismatch or crash.
REL_DIR := $(CURDIR)/target/reliability
# The large run explores new ground each time; its seed is printed.
REL_SEED ?= $(shell date +%s)
REL_PROPTEST_CASES ?= 5000
REL_FVM_SEQUENCES ?= 400
REL_KILL_ROUNDS ?= 60
REL_MANAGER_SEQUENCES ?= 100
FUZZ_TARGETS := actor_params voucher address amount
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
# cargo-fuzz on stable Rust: no sanitizer (ASan needs nightly), optimised with
# debug assertions and overflow checks. Its own workspace and target dir.
FUZZ_TARGET_DIR ?= $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),$(CURDIR)/target)/fuzz
FUZZ_FLAGS := -O -a --sanitizer none --target-dir $(FUZZ_TARGET_DIR)

reliability: toolchain
	rm -rf $(REL_DIR)
	$(MAKE) reliability-tests REL_ENV="PROPTEST_CASES=$(REL_PROPTEST_CASES) PROPTEST_RNG_SEED=$(REL_SEED) PAYCH_FVM_SEQUENCES=$(REL_FVM_SEQUENCES) PAYCH_FVM_SEED=$(REL_SEED) PAYCH_KILL_ROUNDS=$(REL_KILL_ROUNDS) PAYCH_KILL_SEED=$(REL_SEED) PAYCH_CLI_CHECK_CASES=1000 PAYCH_MANAGER_SEQUENCES=$(REL_MANAGER_SEQUENCES) PAYCH_MANAGER_STEPS=20 PAYCH_MANAGER_SEED=$(REL_SEED)"
	$(MAKE) fuzz-run
	$(MAKE) reliability-summary SUMMARY_FLAGS=--require-fuzz

reliability-ci: toolchain
	rm -rf $(REL_DIR)
	$(MAKE) reliability-tests REL_ENV="PROPTEST_CASES=256 PAYCH_KILL_ROUNDS=12"
	$(MAKE) fuzz-run FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)
	$(MAKE) reliability-summary SUMMARY_FLAGS=--require-fuzz

# The crash-safety test kills the real paych binary: build it first.
reliability-tests: bins
	mkdir -p $(REL_DIR)
	env PAYCH_RELIABILITY_DIR=$(REL_DIR) $(REL_ENV) $(CARGO) test $(WORKSPACE) --test reliability -- --nocapture

reliability-summary: bins
	PAYCH_RELIABILITY_DIR=$(REL_DIR) $(BIN)/reliability-summary $(SUMMARY_FLAGS)

# Runs every target for FUZZ_SECONDS and records its log and exit status
# (new corpus entries go to target/fuzz-corpus, crashes to $(REL_DIR)/artifacts).
fuzz-run: fuzz-tools
	mkdir -p $(REL_DIR)
	cd fuzz && $(CARGO) fuzz build $(FUZZ_FLAGS)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(CURDIR)/target/fuzz-corpus/$$t $(REL_DIR)/artifacts/$$t; \
	  echo "fuzz $$t for $(FUZZ_SECONDS)s"; \
	  ( cd fuzz && $(CARGO) fuzz run $(FUZZ_FLAGS) $$t $(CURDIR)/target/fuzz-corpus/$$t seeds/$$t -- \
	      -max_total_time=$(FUZZ_SECONDS) -timeout=10 -artifact_prefix=$(REL_DIR)/artifacts/$$t/ ) \
	    > $(REL_DIR)/fuzz-$$t.log 2>&1; \
	  echo $$? > $(REL_DIR)/fuzz-$$t.status; \
	  grep -E '^Done|^==|panicked|SUMMARY' $(REL_DIR)/fuzz-$$t.log | tail -n 3; \
	done

fuzz: fuzz-run
	@for t in $(FUZZ_TARGETS); do \
	  test "$$(cat $(REL_DIR)/fuzz-$$t.status)" = 0 || { echo "fuzz target $$t failed: see $(REL_DIR)/fuzz-$$t.log and $(REL_DIR)/artifacts/$$t/"; exit 1; }; \
	done

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

# Message-class test vectors of every scenario and the walkthrough: our
# bundle, and with PAYCH_BUILTIN_BUNDLE that bundle with our payment channel
# and with its own. Replayed in a process of their own, as the standard runner.
VECTORS_DIR := $(CURDIR)/target/test-vectors

vectors: bins
	$(BIN)/vectors write $(VECTORS_DIR)
	$(BIN)/vectors replay $(VECTORS_DIR)

demo: bins
	$(BIN)/paych walkthrough

bench: toolchain
	$(CARGO) bench --locked -p paych-manager --bench throughput
	$(CARGO) bench --locked -p paych-node --bench api
