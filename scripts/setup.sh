#!/usr/bin/env bash
# Installs what `make run` and `make test` need on a fresh machine that has only Rust:
# the wasm32 target, trunk, wasm-bindgen-cli (the exact version in Cargo.lock), wasm-split-cli,
# wasm-opt, Chromium with chromedriver (and axe-core for its accessibility checks), and
# schemathesis (the API's property-based test).
# Idempotent: each step checks first, so a second run installs nothing. `setup.sh app` skips the browser (enough for `make run`).
# wasm-opt is binaryen 132 from the npm registry, in .tools/ (Debian's binaryen 108 breaks
# wasm-bindgen 0.2.130 output: WebAssembly.Table.set fails at load); it keeps the app within
# its 500 KB gzip budget.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
want_browser=1
[[ "${1:-}" == "app" ]] && want_browser=0

log() { printf '\033[1;34msetup:\033[0m %s\n' "$*"; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  if [[ $apt_updated -eq 0 ]]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [[ "$(trunk --version 2>/dev/null || true)" != "trunk $TRUNK_VERSION" ]]; then
  log "installing trunk $TRUNK_VERSION (takes several minutes once)"
  cargo install trunk --version "=$TRUNK_VERSION" --locked
fi

# wasm-bindgen-cli must match the wasm-bindgen library in Cargo.lock exactly. Installed without
# --locked: its own lockfile pins a webpki-roots release the registry here does not serve.
WB_VERSION=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WB_VERSION" ]]; then
  log "installing wasm-bindgen-cli $WB_VERSION"
  cargo install wasm-bindgen-cli --version "=$WB_VERSION" --force
fi

# wasm-split-cli splits the app's wasm so that lazy pages load their own module
# (scripts/build-wasm.sh); the version that reads what wasm_split_helpers in Cargo.lock writes.
WASM_SPLIT_VERSION=0.2.4
if ! { command -v wasm-split-cli && cargo install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; } >/dev/null; then
  log "installing wasm-split-cli $WASM_SPLIT_VERSION"
  cargo install wasm_split_cli_support --version "=$WASM_SPLIT_VERSION" --locked --features build-binary
fi

BINARYEN_VERSION=132
if [[ "$(.tools/node_modules/.bin/wasm-opt --version 2>/dev/null || true)" != "wasm-opt version $BINARYEN_VERSION"* ]]; then
  if ! command -v npm >/dev/null; then
    log "installing npm (for wasm-opt)"
    apt_install nodejs npm
  fi
  log "installing wasm-opt (binaryen $BINARYEN_VERSION from npm) into .tools/"
  npm install --silent --no-fund --no-audit --prefix .tools "binaryen@$BINARYEN_VERSION"
fi

if [[ $want_browser -eq 1 ]] && ! { command -v chromium && command -v chromedriver; } >/dev/null; then
  log "installing chromium and chromedriver"
  apt_install chromium chromium-driver
fi

# axe-core: the accessibility checks the browser tests run on each page.
AXE_VERSION=4.11.0
if [[ $want_browser -eq 1 ]] && ! grep -qs "\"version\": \"$AXE_VERSION\"" .tools/node_modules/axe-core/package.json; then
  command -v npm >/dev/null || apt_install nodejs npm
  log "installing axe-core $AXE_VERSION (from npm) into .tools/"
  npm install --silent --no-fund --no-audit --prefix .tools "axe-core@$AXE_VERSION"
fi

# schemathesis: the property-based test of the API against its OpenAPI document
# (scripts/api-fuzz.sh), from PyPI into its own virtual environment in .tools/.
ST_VERSION=4.32.5
if [[ $want_browser -eq 1 ]] && [[ "$(.tools/schemathesis/bin/schemathesis --version 2>/dev/null || true)" != *"$ST_VERSION"* ]]; then
  log "installing schemathesis $ST_VERSION (from PyPI) into .tools/schemathesis"
  rm -rf .tools/schemathesis
  python3 -m venv .tools/schemathesis
  .tools/schemathesis/bin/pip install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

# trunk and cargo --offline need every crate already downloaded.
cargo fetch --locked >/dev/null 2>&1 || cargo fetch --locked
log "tools ready"
