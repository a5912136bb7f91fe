#!/usr/bin/env bash
# Coverage-guided fuzzing of one decoder with afl.rs (stable Rust; `cargo install cargo-afl`
# builds AFL++ with gcc and make — no nightly, nothing downloaded beyond the crate):
#   scripts/fuzz.sh TARGET [EXECUTIONS]   (targets: tx block commit proof receipt api_json;
#                                          default 10,000,000 executions)
# Starts from fuzz/corpus/TARGET (else fuzz/seeds/TARGET), writes what it finds to
# fuzz/out/TARGET, then replaces fuzz/corpus/TARGET with what it kept (commit it) and prints
# the run's statistics. A crash is a failure: its input is in fuzz/out/TARGET/default/crashes.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
T=${1:?target: tx block commit proof receipt api_json}
EXECS=${2:-10000000}
command -v cargo-afl >/dev/null || cargo install cargo-afl --version 0.18.2 --locked
cargo afl build --release --bin "$T" >/dev/null
in=corpus/$T
[[ -d $in && -n "$(ls -A "$in" 2>/dev/null)" ]] || in=seeds/$T
rm -rf "out/$T"
mkdir -p out
AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
  cargo afl fuzz -i "$in" -o "out/$T" -E "$EXECS" "target/release/$T" >"out-$T.log" 2>&1 || true
stats=out/$T/default/fuzzer_stats
grep -E "^(execs_done|execs_per_sec|corpus_count|bitmap_cvg|saved_crashes|saved_hangs|run_time)" "$stats" | sed "s/^/$T: /"
# The corpus keeps the inputs it started from and those that added coverage, under names
# without AFL's colons and commas.
rm -rf "corpus/$T.new"
mkdir -p "corpus/$T.new"
for f in out/"$T"/default/queue/id:*; do
  case $f in *orig* | *+cov*) cp "$f" "corpus/$T.new/$(basename "$f" | cut -d, -f1 | tr ':' '-')" ;; esac
done
rm -rf "corpus/$T"
mv "corpus/$T.new" "corpus/$T"
crashes=$(find "out/$T/default/crashes" -name 'id:*' | wc -l)
if ((crashes > 0)); then
  echo "$T: $crashes crashing inputs in fuzz/out/$T/default/crashes" >&2
  exit 1
fi
