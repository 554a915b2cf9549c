#!/usr/bin/env bash
# Installs the Debian 12 packages forcepipe needs to build, test and run.
# Idempotent: installs nothing when every package is present, and runs
# `apt-get update` only when something is missing.
#
#   scripts/install-deps.sh            # build + test dependencies
#   scripts/install-deps.sh --runtime  # only what `forcepipe demo` needs to build and run
set -euo pipefail

# What `cmake --preset runtime` and the demo need (also the Dockerfile's build stage).
build_pkgs=(
  build-essential cmake ninja-build pkg-config ccache ca-certificates
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev libgrpc-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev libcpp-httplib-dev nlohmann-json3-dev
  libsnappy-dev zlib1g-dev libzstd-dev libsimdjson-dev libcurl4-openssl-dev libssl-dev
  libsqlite3-dev libpq-dev libmariadb-dev prometheus-cpp-dev sqlite3 libjemalloc-dev
)
# What the tests, benchmarks and fuzzers add (`cmake --preset release`, scripts/test.sh).
test_pkgs=(
  git clang libclang-rt-14-dev clang-format
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libavro-dev sqlite3 postgresql mariadb-server prometheus chromium curl python3 procps time
  file dpkg-dev
)

pkgs=("${build_pkgs[@]}")
if [[ "${1:-}" != "--runtime" ]]; then
  pkgs+=("${test_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#pkgs[@]} packages already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# Do not start database services: the test harness starts its own servers.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
