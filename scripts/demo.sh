#!/usr/bin/env bash
# Sets up everything `forcepipe demo` needs on a fresh Debian 12 machine and runs it.
#   bash scripts/demo.sh [demo flags, e.g. --duration 30s]
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: hash paths relative to the checkout, so clones in other folders share the cache.
export CCACHE_BASEDIR="$PWD"
bash scripts/install-deps.sh --runtime
cmake --preset release >/dev/null
cmake --build --preset release --target forcepipe
exec ./build/release/src/cli/forcepipe demo "$@"
