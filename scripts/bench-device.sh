#!/usr/bin/env bash
# The many-core benchmark run, prepared for a borrowed machine whose time is counted: one call,
# about a minute per binary, every table written under $OUT (default target/bench-device).
#
#   cargo build --release && strip -o .dev/joule target/release/joule
#   scripts/bench-device.sh .dev/joule [.dev/joule-before ...]
#
# With several binaries (say the build before a change and after it) each measurement runs them
# alternately, round after round, so a noisy neighbour hits both alike. The producer's per-block
# log (`RUST_LOG=info`, lines `block committed …`) is reduced to the median of each phase.
set -u
[ $# -ge 1 ] || set -- .dev/joule
OUT=${OUT:-target/bench-device}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
THREADS=${THREADS:-$(nproc)}
echo "$(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), threads $THREADS"

# Runs a command with a time limit and reports its wall time.
timed() {
  local start=$(date +%s%N)
  timeout 240 "$@"
  echo "rc=$? wall=$(( ($(date +%s%N) - start) / 1000000 )) ms"
}

# Runs a benchmark with the producer's log on, prints its output but the log, then the median
# of each of the log's phase fields over the run's blocks.
with_phases() {
  local log="$OUT/last.log"
  RUST_LOG=info timed "$@" > "$log" 2>&1
  sed -e 's/\x1b\[[0-9;]*m//g' "$log" | grep -v 'block committed'
  sed -e 's/\x1b\[[0-9;]*m//g' "$log" | grep 'block committed' | tr ' ' '\n' | grep '_ms=' |
    tr '=' ' ' | sort -k1,1 -k2,2g |
    awk '{ n[$1]++; v[$1, n[$1]] = $2 }
      END { printf "phase medians, ms:"
        for (k in n) printf "  %s %.1f", k, v[k, int((n[k] + 1) / 2)]
        print "" }'
}

tag() { basename "$1"; }

for round in 1 2; do
  for bin in "$@"; do
    echo "== exec N=10000, $(tag "$bin"), round $round"
    timed "$bin" bench exec --max-threads "$THREADS" --accounts 10000 --reps 11 --phases \
      --json "$OUT/exec-10k-$(tag "$bin")-$round.json"
  done
done
for bin in "$@"; do
  echo "== exec, every N, $(tag "$bin")"
  timed "$bin" bench exec --max-threads "$THREADS" --json "$OUT/exec-$(tag "$bin").json"
done
for round in 1 2; do
  for bin in "$@"; do
    echo "== e2e $THREADS threads, $(tag "$bin"), round $round"
    with_phases "$bin" bench e2e --threads "$THREADS" --json "$OUT/e2e-$(tag "$bin")-$round.json"
  done
done
for bin in "$@"; do
  echo "== e2e $((THREADS / 2)) threads, $(tag "$bin")"
  timed "$bin" bench e2e --threads $((THREADS / 2)) --json "$OUT/e2e-half-$(tag "$bin").json"
  echo "== e2e 1,000,000 accounts, $(tag "$bin")"
  with_phases "$bin" bench e2e --threads "$THREADS" --accounts 1000000 --blocks 5 \
    --json "$OUT/e2e-1m-$(tag "$bin").json"
  echo "== e2e 4 shards, $(tag "$bin")"
  timed "$bin" bench e2e --threads "$THREADS" --shards 4 --json "$OUT/e2e-4s-$(tag "$bin").json"
done
# The market's workloads (skipped by binaries older than `--workload`).
for bin in "$@"; do
  "$bin" bench exec --help 2>/dev/null | grep -q -- --workload || continue
  for w in market mixed; do
    echo "== exec N=10000, workload $w, $(tag "$bin")"
    timed "$bin" bench exec --workload "$w" --max-threads "$THREADS" --accounts 10000 --reps 11 \
      --json "$OUT/exec-$w-$(tag "$bin").json"
    echo "== e2e workload $w, $(tag "$bin")"
    with_phases "$bin" bench e2e --workload "$w" --threads "$THREADS" \
      --json "$OUT/e2e-$w-$(tag "$bin").json"
  done
  echo "== clear 100,000 orders, $(tag "$bin")"
  timed "$bin" bench clear --orders 100000 --threads "$THREADS" --json "$OUT/clear-$(tag "$bin").json"
done
echo "$(date -u +%FT%TZ) done"
