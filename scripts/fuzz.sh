#!/usr/bin/env bash
# Coverage-guided fuzzing of the decoders with afl.rs (stable Rust; `cargo install cargo-afl`
# builds AFL++ with gcc and make — no nightly, nothing downloaded beyond the crate).
#
#   scripts/fuzz.sh TARGET [EXECUTIONS]   a campaign (targets: tx block commit proof receipt
#                                         api_json; default 10,000,000 executions)
#   scripts/fuzz.sh --smoke [SECONDS]     every target for SECONDS (default 20), two at a time,
#                                         from the committed corpus, which it leaves alone (CI)
#   scripts/fuzz.sh --minimize            every committed corpus cut to its coverage (afl-cmin)
#
# A campaign starts from fuzz/corpus/TARGET (else fuzz/seeds/TARGET), writes what it finds to
# fuzz/out/TARGET, then replaces fuzz/corpus/TARGET with what it kept, minimized (commit it),
# and prints the run's statistics. Either way a crash is a failure: its input is in
# fuzz/out/TARGET/default/crashes (fuzz/out-smoke/… for the smoke run).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
TARGETS=(tx block commit proof receipt api_json)

AFL_VERSION=0.18.2
if [[ "$(cargo afl --version 2>/dev/null || true)" != *"$AFL_VERSION"* ]]; then
  cargo install cargo-afl --version "$AFL_VERSION" --locked
fi
# The install builds AFL++ too, but only warns where that failed: then build it now.
cargo afl build --help >/dev/null 2>&1 || cargo afl config --build
# AFL++ refuses to start where crashes go to a handler (core_pattern) or the CPU scales its
# frequency; neither matters to finding crashes. No affinity: CI may share its cores.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1

# fuzz OUT_DIR TARGET AFL_LIMIT...: one afl-fuzz run; statistics in OUT_DIR/TARGET/default.
fuzz() {
  local out=$1 t=$2
  shift 2
  local in=corpus/$t
  [[ -d $in && -n "$(ls -A "$in" 2>/dev/null)" ]] || in=seeds/$t
  rm -rf "${out:?}/$t"
  mkdir -p "$out"
  cargo afl fuzz -i "$in" -o "$out/$t" "$@" "target/release/$t" >"$out-$t.log" 2>&1 || true
  [[ -f $out/$t/default/fuzzer_stats ]] || { tail -20 "$out-$t.log" >&2; echo "$t: afl-fuzz did not start" >&2; return 1; }
}

# minimize TARGET: fuzz/corpus/TARGET cut to a smallest set of inputs with the same coverage,
# by AFL++'s afl-cmin.bash (its Python afl-cmin records no coverage from afl.rs's persistent
# binaries); the seeds' real encodings are always kept (the corpus replay checks them).
minimize() {
  local t=$1 bin
  bin=$(dirname "$(find "${XDG_DATA_HOME:-$HOME/.local/share}/afl.rs" -path "*afl.rs-$AFL_VERSION/afl/bin/afl-showmap" | sort | tail -1)")
  rm -rf "corpus/$t.min"
  AFL_PATH=$bin "$bin/afl-cmin.bash" -i "corpus/$t" -o "corpus/$t.min" -- "target/release/$t" >"out-cmin-$t.log" 2>&1
  cp seeds/"$t"/real-* "corpus/$t.min/" 2>/dev/null || true
  echo "$t: corpus minimized from $(ls "corpus/$t" | wc -l) to $(ls "corpus/$t.min" | wc -l) inputs"
  rm -rf "corpus/$t"
  mv "corpus/$t.min" "corpus/$t"
}

stat() { sed -n "s/^$2 *: //p" "$1/default/fuzzer_stats"; }
crashes() { find "$1/default/crashes" -name 'id:*' | wc -l; }

if [[ "${1:-}" == "--smoke" ]]; then
  SECONDS_EACH=${2:-20}
  cargo afl build --release --locked >/dev/null
  failed=0
  # Two at a time: one per core of the 2-core CI machine.
  for ((i = 0; i < ${#TARGETS[@]}; i += 2)); do
    pids=()
    for t in "${TARGETS[@]:i:2}"; do
      fuzz out-smoke "$t" -V "$SECONDS_EACH" &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  done
  printf '%-9s %12s %9s %9s %8s %6s\n' target executions "exec/s" corpus crashes hangs
  for t in "${TARGETS[@]}"; do
    d=out-smoke/$t
    [[ -f $d/default/fuzzer_stats ]] || continue
    n=$(crashes "$d")
    printf '%-9s %12s %9s %9s %8s %6s\n' "$t" "$(stat "$d" execs_done)" "$(stat "$d" execs_per_sec)" \
      "$(stat "$d" corpus_count)" "$n" "$(stat "$d" saved_hangs)"
    ((n == 0)) || { echo "$t: crashing inputs in fuzz/$d/default/crashes" >&2; failed=1; }
  done
  exit "$failed"
fi

if [[ "${1:-}" == "--minimize" ]]; then
  cargo afl build --release --locked >/dev/null
  for t in "${TARGETS[@]}"; do minimize "$t"; done
  exit
fi

T=${1:?target: ${TARGETS[*]}, --smoke or --minimize}
EXECS=${2:-10000000}
cargo afl build --release --locked --bin "$T" >/dev/null
fuzz out "$T" -E "$EXECS"
grep -E "^(execs_done|execs_per_sec|corpus_count|bitmap_cvg|saved_crashes|saved_hangs|run_time)" \
  "out/$T/default/fuzzer_stats" | sed "s/^/$T: /"
# The corpus keeps the inputs it started from (under their names) and those that added
# coverage (named by their contents: no clash with names kept from earlier campaigns).
rm -rf "corpus/$T.new"
mkdir -p "corpus/$T.new"
for f in out/"$T"/default/queue/id:*; do
  case $f in
    *orig:*) cp "$f" "corpus/$T.new/${f##*orig:}" ;;
    *+cov*) cp "$f" "corpus/$T.new/cov-$(sha256sum "$f" | cut -c1-16)" ;;
  esac
done
rm -rf "corpus/$T"
mv "corpus/$T.new" "corpus/$T"
minimize "$T"
n=$(crashes "out/$T")
if ((n > 0)); then
  echo "$T: $n crashing inputs in fuzz/out/$T/default/crashes" >&2
  exit 1
fi
