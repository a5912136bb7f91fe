#!/usr/bin/env bash
# The network against the single-process devnet on this machine, side by side in one run:
# `joule load` at the same rate against a 4-validator testnet's full node and against a devnet
# node; proposal-to-commit latency from every validator's log. Prints a table (and JSON with
# JSON=FILE). Usage: scripts/bench-network.sh [TPS] [SECONDS]
set -euo pipefail
TPS=${1:-1000}
SECS=${2:-20}
BIN=./target/release/joule
cargo build --release --locked -p joule-server >/dev/null
WORK=$(mktemp -d)
pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap stop EXIT INT TERM

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 600); do curl -sf "$1/api/v1/chain" >/dev/null && return; sleep 0.1; done; echo "$1 not up" >&2; exit 1; }

# The network: 4 validators and a full node.
P2P=$(port); API=$(port)
"$BIN" testnet init --validators 4 --dir "$WORK/net" --p2p-port "$P2P" --api-port "$API" >/dev/null
for i in 0 1 2 3; do
  RUST_LOG=info,joule_server::network::app=debug "$BIN" node --data-dir "$WORK/net/v$i/data" \
    --genesis "$WORK/net/genesis.json" --peers "$WORK/net/peers.json" \
    --validator-key "$WORK/net/v$i/validator.key" --port $((API + i)) --dist /nonexistent \
    >"$WORK/v$i.log" 2>&1 &
  pids+=($!)
done
"$BIN" node --data-dir "$WORK/net/full/data" --genesis "$WORK/net/genesis.json" \
  --peers "$WORK/net/peers.json" --node-key "$WORK/net/full/node.key" --port $((API + 4)) \
  --dist /nonexistent >"$WORK/full.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$((API + 4))"
sleep 3
"$BIN" load --url "http://127.0.0.1:$((API + 4))" --tps "$TPS" --duration "$SECS" >"$WORK/net.load" 2>&1
kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; pids=()

# The single-process devnet, same machine, same load.
DEV=$(port)
"$BIN" node --data-dir "$WORK/devnet" --port "$DEV" --dist /nonexistent >"$WORK/devnet.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$DEV"
sleep 3
"$BIN" load --url "http://127.0.0.1:$DEV" --tps "$TPS" --duration "$SECS" >"$WORK/dev.load" 2>&1

python3 - "$WORK" "$TPS" "$SECS" "${JSON:-}" <<'PY'
import json, re, sys, glob, statistics
work, tps, secs, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def load(path):
    text = open(path).read()
    m = re.search(r"achieved\D*([\d.]+)", text)
    inc = re.search(r"included\D*(\d+)", text)
    blk = re.search(r"in a block\s+p50 (\d+) ms, p99 (\d+) ms", text)
    return (float(m.group(1)) if m else 0.0, int(inc.group(1)) if inc else 0, text,
            (int(blk.group(1)), int(blk.group(2))) if blk else (None, None))
net, dev = load(f"{work}/net.load"), load(f"{work}/dev.load")
lat = []
for f in glob.glob(f"{work}/v*.log"):
    for line in open(f):
        m = re.search(r"finality_ms\W+(\d+)", re.sub(r"\x1b\[[0-9;]*m", "", line))
        if m: lat.append(int(m.group(1)))
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
blocks = len(lat) / 4
rows = {"tps_target": tps, "seconds": secs,
        "network_tx_per_s": net[0], "devnet_tx_per_s": dev[0],
        "ratio": round(net[0] / dev[0], 3) if dev[0] else None,
        "proposal_to_commit_ms_p50": q(0.5), "proposal_to_commit_ms_p99": q(0.99),
        "network_submission_to_block_ms": net[3], "devnet_submission_to_block_ms": dev[3],
        "blocks_committed_per_validator": blocks}
print(f"network vs devnet, joule load {tps} tx/s for {secs} s, one machine")
print(f"{'':28}{'network (4 validators)':>24}{'devnet (1 process)':>20}")
print(f"{'achieved tx/s':28}{net[0]:>24.0f}{dev[0]:>20.0f}")
print(f"{'included':28}{net[1]:>24}{dev[1]:>20}")
print(f"{'submission -> block p50 ms':28}{str(net[3][0]):>24}{str(dev[3][0]):>20}")
print(f"{'submission -> block p99 ms':28}{str(net[3][1]):>24}{str(dev[3][1]):>20}")
print(f"{'proposal -> commit p50 ms':28}{q(0.5):>24}")
print(f"{'proposal -> commit p99 ms':28}{q(0.99):>24}")
print(f"network/devnet throughput: {rows['ratio']}")
if out: json.dump(rows, open(out, "w"), indent=2)
if not lat: print("(no commit latencies found in the validators' logs)"); print(net[2][-800:])
PY
