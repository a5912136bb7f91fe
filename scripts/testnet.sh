#!/usr/bin/env bash
# A local network: 4 validators and 1 full node, each its own `joule` process with its own data
# directory and ports, on loopback. Ctrl-C stops them all. The full node serves the app.
#   scripts/testnet.sh [DIR]      (default ./testnet; `joule testnet init` writes it once)
set -euo pipefail
DIR=${1:-./testnet}
BIN=${JOULE_BIN:-./target/release/joule}
DIST=${DIST:-./dist}
VALIDATORS=${VALIDATORS:-4}

[ -f "$DIR/genesis.json" ] || "$BIN" testnet init --validators "$VALIDATORS" --dir "$DIR"

pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

port_of() { # the API port of node $1 from the peers file
  sed -n "/\"name\": \"$1\"/,/api/p" "$DIR/peers.json" | sed -n 's/.*"api": "http:\/\/127.0.0.1:\([0-9]*\)".*/\1/p'
}

for ((i = 0; i < VALIDATORS; i++)); do
  "$BIN" node --data-dir "$DIR/v$i/data" --genesis "$DIR/genesis.json" --peers "$DIR/peers.json" \
    --validator-key "$DIR/v$i/validator.key" --port "$(port_of "v$i")" --dist "$DIST" \
    >"$DIR/v$i.log" 2>&1 &
  pids+=($!)
done
"$BIN" node --data-dir "$DIR/full/data" --genesis "$DIR/genesis.json" --peers "$DIR/peers.json" \
  --node-key "$DIR/full/node.key" --faucet-key "$DIR/full/faucet.key" --port "$(port_of full)" \
  --dist "$DIST" >"$DIR/full.log" 2>&1 &
pids+=($!)

echo "Joule testnet: $VALIDATORS validators and a full node (logs in $DIR/*.log)"
for ((i = 0; i < VALIDATORS; i++)); do echo "  validator v$i  http://127.0.0.1:$(port_of "v$i")"; done
echo "  full node     http://127.0.0.1:$(port_of full)   <- open this one (the app, the faucet)"
echo "Stop one validator: kill \$(pgrep -f '$DIR/v3/data'); the chain goes on. Ctrl-C stops all."
wait
