# Joule: `make run` starts a devnet with the web app; `make test` runs every test.
# Both install what is missing first (scripts/setup.sh, idempotent).

CARGO ?= cargo
PORT ?= 8080
DATA_DIR ?= ./data
# Simulated prosumers trading and voting on the devnet (`make run SIMULATE=0`: none).
SIMULATE ?= 24
export CHROMEDRIVER ?= /usr/bin/chromedriver

.PHONY: run testnet bench-network fuzz fuzz-smoke test setup setup-app app test-native test-api test-wasm test-e2e bench-wasm bench-app lint fmt clean

## Build the app and start the node with a devnet and the web UI on http://127.0.0.1:$(PORT).
run: app
	$(CARGO) run --release -p joule-server -- node --data-dir $(DATA_DIR) --port $(PORT) --dist dist --simulate $(SIMULATE)

## A local network: 4 validators and a full node, each its own process (scripts/testnet.sh;
## the full node serves the app on http://127.0.0.1:8085). TESTNET_DIR keeps its files.
TESTNET_DIR ?= ./testnet
testnet: app
	$(CARGO) build --locked --release -p joule-server
	./scripts/testnet.sh $(TESTNET_DIR)

## The network against the single-process devnet under the same load (a table).
bench-network: setup
	./scripts/bench-network.sh

## Every test: native (unit, integration over loopback HTTP), wasm in headless Chromium, end-to-end.
test: setup test-native test-api test-wasm test-e2e

setup:
	./scripts/setup.sh

setup-app:
	./scripts/setup.sh app

## The browser app, built into dist/ (served by the node): trunk, and scripts/build-wasm.sh for
## the wasm in split modules; wasm-opt comes from .tools/.
app: setup-app
	PATH="$(CURDIR)/.tools/node_modules/.bin:$$PATH" trunk build --release
	@for f in dist/pkg-*/*.wasm; do printf 'app wasm %-48s %8d bytes %8d gzip\n' "$${f##*/}" $$(wc -c <$$f) $$(gzip -9c $$f | wc -c); done

test-native:
	$(CARGO) test --locked --workspace

# The served API against its OpenAPI document: schemathesis for a minute on the binary
# test-native built (no 5xx, every response conforming, every error JSON).
test-api:
	./scripts/api-fuzz.sh 60 target/debug/joule

# The light client's and the app's tests compiled to wasm32, run in headless Chromium.
test-wasm:
	$(CARGO) test --locked -p joule-light-client -p joule-app --target wasm32-unknown-unknown

## What verifying a block commit costs in the browser (4 and 100 validators), printed as a table.
bench-wasm: setup-app
	$(CARGO) test --locked --release -p joule-light-client --target wasm32-unknown-unknown --test it cost -- --nocapture

# A real node serving the built app, driven in Chromium through chromedriver; and networks of
# real processes. The same selection as test-native (every test binary of the workspace, of
# which only the ignored tests run), so this reuses its build: selecting only the `it` binaries
# leaves joule-app out, which changes syn's features for every proc macro and rebuilt ~140
# crates (2.5 minutes of a clean `make test`).
# The networks run after the browser tests, one at a time: each is 5 processes on 2 cores.
test-e2e: app
	$(CARGO) test --locked --workspace -- --ignored --skip app_load_measurement --skip network::
	$(CARGO) test --locked --workspace -- --ignored --test-threads=1 network::

## Fuzz one decoder with afl.rs (TARGET: tx block commit proof receipt api_json; EXECS
## executions, 10 million by default); the corpus it keeps goes to fuzz/corpus/ (commit it).
TARGET ?= tx
EXECS ?= 10000000
fuzz:
	./scripts/fuzz.sh $(TARGET) $(EXECS)

## Every fuzz target for FUZZ_SECONDS (20) from the committed corpus, which stays as it is:
## CI's short run (a crash fails it). Installs cargo-afl (and AFL++) once.
FUZZ_SECONDS ?= 20
fuzz-smoke:
	./scripts/fuzz.sh --smoke $(FUZZ_SECONDS)

## The app's load time to a verified head, in Chromium against a release node (a table).
bench-app: app
	$(CARGO) build --locked --release -p joule-server
	./scripts/bench-app.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf dist
