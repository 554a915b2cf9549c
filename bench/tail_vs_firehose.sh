#!/usr/bin/env bash
# `forcepipe tail` against the emulator's firehose, next to the transport limit
# measured in the same run (a client that discards events without decoding),
# plus tail's peak RSS.
#
#   bash bench/tail_vs_firehose.sh [BUILD_DIR] [EVENTS]
# defaults: build/release, 1000000 events of 400 bytes.
set -euo pipefail
build=${1:-build/release}
n=${2:-1000000}
bin=$build/src/cli/forcepipe
client=$build/bench/pubsub_discard_client
[[ -x $bin && -x $client ]] || { echo "build $bin and $client first (release preset)"; exit 2; }
work=$(mktemp -d)
trap 'kill $emu 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/emulator.yaml" <<YAML
topics:
  - name: /event/Firehose__e
    firehose_event_bytes: 400
YAML
"$bin" emulator --plaintext --config "$work/emulator.yaml" --rate 0 > "$work/emu.out" 2> "$work/emu.err" &
emu=$!
for _ in $(seq 1 100); do [[ -s $work/emu.out ]] && break; sleep 0.1; done
line=$(head -n 1 "$work/emu.out")
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$line" "$1"; }
ep=$(field grpc_endpoint); tok=$(field access_token); url=$(field instance_url); org=$(field tenant_id)

echo "transport limit (discarding client, $n events):"
"$client" "$ep" /event/Firehose__e "$tok" "$url" "$org" "$n" | tee "$work/limit.json"
echo "forcepipe tail --limit $n > /dev/null:"
/usr/bin/time -f '%e %M' -o "$work/time.txt" "$bin" --log-level warn tail /event/Firehose__e --from earliest \
  --limit "$n" --insecure --endpoint "$ep" --access-token "$tok" --instance-url "$url" --tenant-id "$org" > /dev/null
read -r secs rss_kb < "$work/time.txt"
python3 - "$work/limit.json" "$n" "$secs" "$rss_kb" <<'PY'
import json, sys
limit = json.load(open(sys.argv[1]))["events_per_s"]
n, secs, rss = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rate = n / secs
print(f"tail: {rate:,.0f} events/s ({secs:.2f}s), peak RSS {rss/1024:.1f} MiB")
print(f"ratio to transport limit: {rate/limit:.2f} (goal >= 0.7); RSS goal <= 25 MB")
PY
