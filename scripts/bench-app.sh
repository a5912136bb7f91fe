#!/usr/bin/env bash
# Starts a release node with a fresh devnet serving dist/, then runs the e2e load measurement
# (server/tests/it/e2e.rs::app_load_measurement) against it. Used by `make bench-app`.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${BENCH_PORT:-18080}"
data="$(mktemp -d)"
./target/release/joule node --data-dir "$data" --port "$port" --dist dist >"$data/node.log" 2>&1 &
node=$!
trap 'kill "$node" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do
  if curl -fs "http://127.0.0.1:$port/api/v1/blocks/3" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
JOULE_NODE_URL="http://127.0.0.1:$port" cargo test --locked -p joule-server --test it -- \
  --ignored --exact e2e::app_load_measurement --nocapture
