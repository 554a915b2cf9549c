#!/usr/bin/env bash
# Sets up everything the tests need on a fresh Debian 12 machine and runs the whole suite:
#   1. release build, every test (unit, integration with real servers, process tests) via ctest;
#   2. asan-ubsan build, the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. libFuzzer targets built with clang and run briefly.
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: hash paths relative to the checkout, so clones in other folders share the cache.
export CCACHE_BASEDIR="$PWD"
# Objects carry -g: without this ccache would key them on the build directory too, and
# no clone in another folder (CI) or preset (release vs runtime) would share a hit.
export CCACHE_NOHASHDIR=1
bash scripts/install-deps.sh

jobs=${FORCEPIPE_JOBS:-2}
fuzz_seconds=${FORCEPIPE_FUZZ_SECONDS:-30}

echo "== format: clang-format (.clang-format) must leave every C++ file unchanged"
git ls-files -z '*.cc' '*.h' | xargs -0 clang-format --dry-run --Werror

echo "== release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
echo "== README options vs forcepipe config example"
python3 scripts/check-readme-options.py build/release/src/cli/forcepipe .
echo "== release: all tests"
ctest --preset release -j "$jobs" --timeout 900

echo "== asan-ubsan build (unit test targets only)"
cmake --preset asan-ubsan >/dev/null
# Test names equal their target names, so this builds exactly what the unit run needs.
unit_targets=$(ctest --preset asan-ubsan -N | sed -n 's/^ *Test *#[0-9]*: //p')
# shellcheck disable=SC2086
cmake --build --preset asan-ubsan -j "$jobs" --target $unit_targets
echo "== asan-ubsan: unit tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  FORCEPIPE_PROPERTY_SEEDS=300 ctest --preset asan-ubsan -j "$jobs" --timeout 900

if [[ -f fuzz/CMakeLists.txt ]]; then
  echo "== fuzz: build and run each target for ${fuzz_seconds}s"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$jobs"
  bash fuzz/run.sh build/fuzz "$fuzz_seconds"
fi
echo "== all test stages passed"
