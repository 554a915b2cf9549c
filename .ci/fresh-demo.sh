#!/usr/bin/env bash
# Runs the README's demo command in a fresh Debian 12 root (a clone of the committed HEAD,
# nothing installed), and fails unless it exits 0 and reports a non-zero number of stored
# events. Needs root and ../shared/tools/fresh-debian.sh beside the checkout (CI has both).
#   bash .ci/fresh-demo.sh [DURATION]     (default 20s)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-20s}
tool=../shared/tools/fresh-debian.sh
if [[ ! -x $tool && ! -f $tool ]]; then
  echo "ci-fresh-demo: $tool not found (CI lays ../shared beside the clone)" >&2
  exit 1
fi
log=$(mktemp /tmp/forcepipe-fresh-demo.XXXXXX.log)
echo "== fresh Debian 12 root: bash scripts/demo.sh --duration $duration (log: $log)"
start=$(date +%s)
set +e
bash "$tool" . -- bash scripts/demo.sh --duration "$duration" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
echo "== fresh-root demo: exit $rc after $(( $(date +%s) - start ))s"
if (( rc != 0 )); then
  echo "ci-fresh-demo: FAILED: the demo exited $rc in a fresh root" >&2
  exit 1
fi
stored=$(sed -n 's/^forcepipe demo: \([0-9][0-9]*\) events stored in .*/\1/p' "$log" | tail -n 1)
if [[ -z $stored || $stored -eq 0 ]]; then
  echo "ci-fresh-demo: FAILED: the demo reported no stored events (summary line missing or 0)" >&2
  exit 1
fi
echo "== fresh-root demo passed: $stored events stored"
