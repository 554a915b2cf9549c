#!/usr/bin/env bash
# Runs every fuzz target built in BUILD_DIR for SECONDS each, from its seed
# corpus in fuzz/corpus/<target> when present. Fails on the first crash.
#   bash fuzz/run.sh build/fuzz 30
set -euo pipefail
build=$(cd "${1:?usage: fuzz/run.sh BUILD_DIR SECONDS}" && pwd)
secs=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
# Undefined behaviour (an overflow, a bad shift) is a finding like a crash: stop on it.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
found=0
for bin in $(find "$build/fuzz" -maxdepth 1 -type f -name '*_fuzz' -perm -u+x | sort); do
  name=$(basename "$bin")
  found=1
  work=$(mktemp -d)
  corpus=()
  [[ -d "$here/corpus/$name" ]] && corpus=("$here/corpus/$name")
  echo "fuzz: $name for ${secs}s"
  (cd "$work" && "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
     "$work" "${corpus[@]}" 2>"$work/log") || { tail -50 "$work/log"; echo "fuzz: $name FAILED"; exit 1; }
  grep -E 'stat::number_of_executed_runs' "$work/log" | sed "s/^/  $name /" || true
  rm -rf "$work"
done
[[ $found = 1 ]] || { echo "fuzz: no targets in $build/fuzz"; exit 1; }
echo "fuzz: all targets ran clean"
