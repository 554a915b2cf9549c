#!/usr/bin/env bash
# Sets up everything `forcepipe demo` needs on a fresh Debian 12 machine and runs it.
#   bash scripts/demo.sh [demo flags, e.g. --duration 30s]
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: hash paths relative to the checkout, so clones in other folders share the cache.
export CCACHE_BASEDIR="$PWD"
# Objects carry -g: without this ccache would key them on the build directory too, and
# no clone in another folder (CI) or preset (release vs runtime) would share a hit.
export CCACHE_NOHASHDIR=1
bash scripts/install-deps.sh --runtime
# The `runtime` preset configures the product only: no tests, benchmarks or fuzzers, so
# none of their packages (GoogleTest, Google Benchmark, avro-c, clang, servers) is needed.
cmake --preset runtime >/dev/null
cmake --build --preset runtime
exec ./build/runtime/src/cli/forcepipe demo "$@"
