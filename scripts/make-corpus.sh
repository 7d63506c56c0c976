#!/usr/bin/env bash
# Regenerates the fuzz seed corpus (tests/fuzz/corpus/{wire_fuzz,stack_fuzz}) from fresh captures
# of real traffic between our stack and the Linux kernel:
#   1. the TAP interop tests (ping, TCP, keepalive) run with TAPSTACK_PCAP_DIR set, so each test
#      records what crossed its TAP device (tests/support/process.h, CapturePath);
#   2. `tapstack demo` runs its five scenarios and writes their pcaps;
#   3. make_corpus writes the builder-made seeds and turns every frame and connection the kernel
#      sent towards our stack into seeds (tests/fuzz/capture_seeds.h);
#   4. per target, libFuzzer's -merge=1 keeps the builder-made seeds and those captured seeds
#      that add coverage, under their descriptive names.
# Needs root, /dev/net/tun and network namespaces like the TAP tests (TESTBED.md); the tests and
# the demo create their namespaces and delete them when they end. Takes a few minutes.
#   scripts/make-corpus.sh [CAPTURE_DIR]     (default: a new directory under /tmp, kept)
set -euo pipefail
cd "$(dirname "$0")/.."
captures=${1:-$(mktemp -d /tmp/tapstack-captures.XXXXXX)}
# Without TAP the tests would skip and the corpus would lose its captured seeds: fail instead.
export REQUIRE_TAP=1

cmake --preset asan >/dev/null
cmake --build --preset asan --target tapstack interop_ping_test interop_tcp_test \
  interop_keepalive_test
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j2

rm -rf "$captures/tests" "$captures/demo" "$captures/raw" "$captures/merged"
mkdir -p "$captures/tests" "$captures/demo"
for test in interop_ping_test interop_tcp_test interop_keepalive_test; do
  echo "== $test (recording into $captures/tests)"
  TAPSTACK_PCAP_DIR="$captures/tests" "build/asan/tests/$test" --gtest_brief=1
done
echo "== tapstack demo (recording into $captures/demo)"
build/asan/tools/tapstack demo --out "$captures/demo" >"$captures/demo.log"

# The demo's *-server-side.pcap files record the server's link behind the NAT, not our TAP.
pcaps=("$captures"/tests/*.pcap)
for pcap in "$captures"/demo/*.pcap; do
  [[ $pcap == *-server-side.pcap ]] || pcaps+=("$pcap")
done
build/fuzz/tests/fuzz/make_corpus "$captures/raw" "${pcaps[@]}"

for target in wire_fuzz stack_fuzz; do
  merged=$captures/merged/$target
  mkdir -p "$merged"
  cp "$captures/raw/$target"/seed-* "$merged/"
  echo "== $target: merging $(ls "$captures/raw/$target" | wc -l) seeds"
  "build/fuzz/tests/fuzz/$target" -merge=1 "$merged" "$captures/raw/$target" \
    >"$captures/merge-$target.log" 2>&1
  # -merge=1 names what it adds by its SHA-1: give each file back the name make_corpus gave it.
  (cd "$captures/raw/$target" && sha1sum -- *) >"$captures/raw-$target.sha1"
  for file in "$merged"/*; do
    name=$(basename "$file")
    [[ $name == seed-* ]] && continue
    original=$(awk -v sha="$name" '$1 == sha { print $2; exit }' "$captures/raw-$target.sha1")
    [[ -n $original ]] && mv "$file" "$merged/$original"
  done
  rm -rf "tests/fuzz/corpus/$target"
  cp -r "$merged" "tests/fuzz/corpus/$target"
  echo "$target: $(ls "tests/fuzz/corpus/$target" | wc -l) seeds in tests/fuzz/corpus/$target"
done
echo "captures and logs kept in $captures"
