#!/usr/bin/env bash
# Installs what is needed, builds the sanitizer preset (ASan + UBSan) and runs the whole test suite
# through ctest. Extra arguments go to ctest (e.g. -L unit, -R Keepalive).
# TAP and namespace tests need root and /dev/net/tun; with REQUIRE_TAP=1 (as CI sets) they fail
# instead of skipping when those are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh asan
ctest --preset asan "$@"
