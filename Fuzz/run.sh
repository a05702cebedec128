#!/usr/bin/env bash
# Builds the libFuzzer targets and runs one of them.
#
#   Fuzz/run.sh TARGET SECONDS     fuzz TARGET (a folder under Fuzz/Sources) for SECONDS
#   Fuzz/run.sh --build            only build every target
#   Fuzz/run.sh --list             print the target names
#
# The corpus lives in Fuzz/corpus/TARGET (git-ignored), seeded from Tests/Vectors on every run;
# a crash, leak or timeout leaves its input in fuzz-artifacts/TARGET/ and exits non-zero.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

targets() {
    for dir in "$here"/Sources/*/; do
        name="$(basename "$dir")"
        [[ "$name" == fuzz-* ]] && echo "$name"
    done
}

build() {
    # -sanitize=fuzzer instruments for coverage and links libFuzzer; address adds ASan. lld is
    # used because gold crashes (internal error in format_file_lineno) on these links.
    swift build --package-path "$here" -c release \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld 2>&1 | { grep -v '^\[' || true; }
    for t in $(targets); do
        [[ -x "$here/.build/release/$t" ]] || { echo "run.sh: $t did not build" >&2; exit 1; }
    done
}

case "${1:-}" in
    --list) targets; exit 0 ;;
    --build) build; exit 0 ;;
esac
if [[ $# -ne 2 ]]; then
    echo "usage: Fuzz/run.sh TARGET SECONDS | --build | --list" >&2
    exit 64
fi
target="$1"
seconds="$2"
[[ " $(targets | tr '\n' ' ') " == *" $target "* ]] || { echo "run.sh: unknown target $target (try --list)" >&2; exit 64; }
[[ -x "$here/.build/release/$target" ]] || build

corpus="$here/corpus/$target"
artifacts="$root/fuzz-artifacts/$target"
mkdir -p "$corpus" "$artifacts"
python3 "$here/seed-corpus.py" "$target" "$corpus"
# -timeout: an input taking over 10 s is a hang; -rss_limit_mb bounds memory (decoders must bound
# their allocations); -max_len covers the largest vectors.
log="$artifacts/last-run.log"
status=0
"$here/.build/release/$target" "$corpus" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || status=$?
if [[ $status -ne 0 ]]; then
    tail -n 60 "$log" >&2
    echo "run.sh: $target FAILED (exit $status); the input is in $artifacts/, the log in $log" >&2
    exit "$status"
fi
runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
units="$(ls "$corpus" | wc -l)"
echo "run.sh: $target ok: $runs executions in ${seconds} s ($rate/s), corpus $units inputs"
