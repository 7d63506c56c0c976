#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset, clang) and runs each for SECONDS (default 60)
# on a scratch copy of its committed corpus, so a run never writes into tests/fuzz/corpus. Fails
# on the first crash, leak or sanitizer report; the reproducer is left in the scratch directory
# (printed) and replays with: build/fuzz/tests/fuzz/TARGET REPRODUCER
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
seconds=${1:-60}
cd "$(dirname "$0")/.."
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j1
scratch=$(mktemp -d /tmp/tapstack-fuzz.XXXXXX)
for target in wire_fuzz stack_fuzz; do
  mkdir -p "$scratch/$target/corpus" "$scratch/$target/artifacts"
  cp tests/fuzz/corpus/$target/* "$scratch/$target/corpus/"
  echo "== $target for ${seconds} s (scratch: $scratch/$target)"
  if ! build/fuzz/tests/fuzz/$target -max_total_time="$seconds" -print_final_stats=1 \
      -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$scratch/$target/artifacts/" \
      "$scratch/$target/corpus" >"$scratch/$target/log" 2>&1; then
    tail -n 60 "$scratch/$target/log"
    echo "fuzz: $target failed; reproducer(s):" "$scratch/$target/artifacts"/*
    exit 1
  fi
  grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec' \
    "$scratch/$target/log" || true
done
rm -rf "$scratch"
echo "fuzz: no crash in ${seconds} s per target"
