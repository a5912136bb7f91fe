#!/usr/bin/env bash
# Property-based test of the served API against its own OpenAPI document (schemathesis, from
# PyPI into .tools/schemathesis by scripts/setup.sh): a devnet node with market traffic from
# `joule load`, then every check schemathesis has (no 5xx, every response conforming to the
# document, every error JSON, schema-valid requests accepted, schema-violating ones refused),
# for a bounded time. Exits non-zero on any failure, naming it.
#   scripts/api-fuzz.sh [SECONDS] [BINARY]   (defaults: 120, target/debug/joule)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-120}
BIN=${2:-target/debug/joule}
ST=.tools/schemathesis/bin/schemathesis
[[ -x "$ST" ]] || { echo "api-fuzz: $ST missing: run scripts/setup.sh" >&2; exit 1; }
[[ -x "$BIN" ]] || { echo "api-fuzz: $BIN missing: build it first (cargo build -p joule-server)" >&2; exit 1; }

WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
  kill "${LOAD:-}" "${NODE:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
"$BIN" node --data-dir "$WORK/data" --port "$PORT" --block-interval-ms 500 >"$WORK/node.log" 2>&1 &
NODE=$!
# Up when /chain answers (python, not curl: only what setup.sh guarantees).
python3 - "$PORT" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/v1/chain", timeout=1)
        break
    except Exception:
        time.sleep(0.2)
else:
    sys.exit("api-fuzz: the node did not come up")
PY
# Orders, readings and trades for the market routes to return (well past the fuzzing's end).
"$BIN" load --url "http://127.0.0.1:$PORT" --workload market --tps 50 --duration $((SECS + 60)) >"$WORK/load.log" 2>&1 &
LOAD=$!
sleep 5
echo "api-fuzz: schemathesis against http://127.0.0.1:$PORT for ${SECS} s"
status=0
"$ST" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  --url "http://127.0.0.1:$PORT" --checks all --max-time "$SECS" \
  --phases examples,coverage,fuzzing,stateful --seed 1 --no-color || status=$?
if ! kill -0 "$NODE" 2>/dev/null; then
  echo "api-fuzz: the node died during the run; its log:" >&2
  tail -50 "$WORK/node.log" >&2
  exit 1
fi
if grep -q "panicked" "$WORK/node.log"; then
  echo "api-fuzz: the node panicked:" >&2
  grep -A5 panicked "$WORK/node.log" >&2
  exit 1
fi
exit $status
