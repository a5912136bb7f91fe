#!/usr/bin/env bash
# Memory over time: a release devnet node under steady `joule load` for MINUTES, its resident
# memory sampled every 10 s; prints a table (and writes JSON to $OUT if set). The node should
# level off after its caches fill: compare the second half's samples with each other.
#   scripts/soak.sh [MINUTES] [TPS]   (defaults: 10, 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-10}
TPS=${2:-1000}
BIN=${BIN:-target/release/joule}
[[ -x "$BIN" ]] || cargo build --locked --release -p joule-server
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { kill "${NODE:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
"$BIN" node --data-dir "$WORK/data" --port "$PORT" >"$WORK/node.log" 2>&1 &
NODE=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/v1/chain" >/dev/null && break; sleep 0.2; done
# The load in one-minute rounds: each round ends by checking its transactions' inclusion.
(
  end=$((SECONDS + MINUTES * 60))
  while ((SECONDS < end)); do
    "$BIN" load --url "http://127.0.0.1:$PORT" --tps "$TPS" --duration 60 >>"$WORK/load.log" 2>&1 || true
  done
) &
LOADER=$!
printf '%8s %10s %12s %10s\n' "seconds" "height" "txs" "rss MB" | tee "$WORK/table"
echo "[" >"$WORK/json"
start=$SECONDS
first=1
while ((SECONDS - start < MINUTES * 60)); do
  sleep 10
  rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$NODE/status")
  stats=$(curl -sf "http://127.0.0.1:$PORT/api/v1/stats" || echo '{}')
  read -r height txs < <(python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print(s.get("head_height", 0), s.get("total_transactions", 0))' "$stats")
  t=$((SECONDS - start))
  printf '%8d %10d %12d %10.1f\n' "$t" "$height" "$txs" "$(awk -v k="$rss_kb" 'BEGIN {print k / 1024}')" | tee -a "$WORK/table"
  [[ $first -eq 1 ]] || echo "," >>"$WORK/json"
  first=0
  printf '{"seconds": %d, "height": %d, "txs": %d, "rss_kb": %d}' "$t" "$height" "$txs" "$rss_kb" >>"$WORK/json"
done
echo "]" >>"$WORK/json"
kill "$LOADER" 2>/dev/null || true
pkill -P "$LOADER" 2>/dev/null || true
[[ -n "${OUT:-}" ]] && cp "$WORK/json" "$OUT"
python3 - "$WORK/json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
half = rows[len(rows) // 2:]
rss = [r["rss_kb"] / 1024 for r in half]
print(f"second half: RSS {min(rss):.0f}-{max(rss):.0f} MB over {half[0]['seconds']}-{half[-1]['seconds']} s, "
      f"{half[-1]['txs'] - half[0]['txs']} transactions; whole run: {rows[-1]['txs']} transactions")
PY
