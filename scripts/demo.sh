#!/usr/bin/env bash
# Installs what is needed, builds the release preset and runs `tapstack demo`.
# Extra arguments go to the demo (see docs/cli.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
exec build/release/tools/tapstack demo "$@"
