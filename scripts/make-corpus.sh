#!/usr/bin/env bash
# Regenerates the fuzz seed corpus (tests/fuzz/corpus/{wire_fuzz,stack_fuzz}) from fresh captures
# of real traffic between our stack and the Linux kernel:
#   1. the TAP interop tests (ping, TCP, keepalive) run with TAPSTACK_PCAP_DIR set, so each test
#      records what crossed its TAP device (tests/support/files.h, CapturePath);
#   2. `tapstack demo` runs its five scenarios and writes their pcaps;
#   3. make_corpus writes the builder-made seeds and turns the frames and connections the kernel
#      sent towards our stack into seeds, one per shape (tests/fuzz/capture_seeds.h), which
#      replace tests/fuzz/corpus/<target>/.
# Needs root, /dev/net/tun and network namespaces like the TAP tests (docs/testbed.md); the tests and
# the demo create their namespaces and delete them when they end. Takes a few minutes.
#   scripts/make-corpus.sh [CAPTURE_DIR]
# The pcaps (about 160 MB, mostly the 32 MiB transfers) and the logs stay in CAPTURE_DIR when it
# is given; otherwise they go to a scratch directory that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -ge 1 ]]; then
  captures=$1
  mkdir -p "$captures"
else
  captures=$(mktemp -d /tmp/tapstack-captures.XXXXXX)
  trap 'rm -rf "$captures"' EXIT
fi
# Without TAP the tests would skip and the corpus would lose its captured seeds: fail instead.
export REQUIRE_TAP=1

cmake --preset asan >/dev/null
cmake --build --preset asan --target tapstack interop_ping_test interop_tcp_test \
  interop_keepalive_test
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j2

rm -rf "$captures/tests" "$captures/demo" "$captures/raw"
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
  rm -rf "tests/fuzz/corpus/$target"
  cp -r "$captures/raw/$target" "tests/fuzz/corpus/$target"
  echo "$target: $(ls "tests/fuzz/corpus/$target" | wc -l) seeds in tests/fuzz/corpus/$target"
done
[[ $# -ge 1 ]] && echo "captures and logs kept in $captures"
exit 0
