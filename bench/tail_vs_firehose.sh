#!/usr/bin/env bash
# `forcepipe tail` against the emulator's firehose, next to the transport limit
# measured in the same run (a client that discards events without decoding),
# plus tail's peak RSS.
#
#   bash bench/tail_vs_firehose.sh [BUILD_DIR] [EVENTS] [SHAPE]
# defaults: build/release, 1000000 events, SHAPE flat (400-byte /event/Firehose__e events).
# SHAPE cdc: the realistic firehose of /data/AccountChangeEvent (a pool of 4096 generated
# change events: ~90 fields, mostly null, real bitmaps), the shape real CDC has.
set -euo pipefail
build=${1:-build/release}
n=${2:-1000000}
shape=${3:-flat}
bin=$build/src/cli/forcepipe
client=$build/bench/pubsub_discard_client
[[ -x $bin && -x $client ]] || { echo "build $bin and $client first (release preset)"; exit 2; }
work=$(mktemp -d)
trap 'kill $emu 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
case $shape in
  flat)
    topic=/event/Firehose__e
    printf 'topics:\n  - name: %s\n    firehose_event_bytes: 400\n' "$topic" > "$work/emulator.yaml" ;;
  cdc)
    topic=/data/AccountChangeEvent
    printf 'topics:\n  - {name: %s, schema: AccountChangeEvent, kind: cdc, firehose: true, pool_size: 4096}\n' \
      "$topic" > "$work/emulator.yaml" ;;
  *) echo "SHAPE is flat or cdc"; exit 2 ;;
esac
echo "shape: $shape ($topic)"
"$bin" emulator --plaintext --config "$work/emulator.yaml" --rate 0 > "$work/emu.out" 2> "$work/emu.err" &
emu=$!
for _ in $(seq 1 100); do [[ -s $work/emu.out ]] && break; sleep 0.1; done
line=$(head -n 1 "$work/emu.out")
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$line" "$1"; }
ep=$(field grpc_endpoint); tok=$(field access_token); url=$(field instance_url); org=$(field tenant_id)

echo "transport limit (discarding client, $n events):"
/usr/bin/time -f '%e %M' -o "$work/client_time.txt" \
  "$client" "$ep" "$topic" "$tok" "$url" "$org" "$n" | tee "$work/limit.json"
read -r _ client_rss_kb < "$work/client_time.txt"
echo "forcepipe tail --limit $n > /dev/null:"
/usr/bin/time -f '%e %M' -o "$work/time.txt" "$bin" --log-level warn tail "$topic" --from earliest \
  --limit "$n" --insecure --endpoint "$ep" --access-token "$tok" --instance-url "$url" --tenant-id "$org" > /dev/null
read -r secs rss_kb < "$work/time.txt"
python3 - "$work/limit.json" "$n" "$secs" "$rss_kb" "$client_rss_kb" <<'PY'
import json, sys
limit = json.load(open(sys.argv[1]))["events_per_s"]
n, secs, rss, client_rss = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rate = n / secs
print(f"discarding client: {limit:,.0f} events/s, peak RSS {client_rss/1024:.1f} MiB")
print(f"tail: {rate:,.0f} events/s ({secs:.2f}s), peak RSS {rss/1024:.1f} MiB")
print(f"ratio to transport limit: {rate/limit:.2f} (goal >= 0.6); "
      f"RSS over the client's: {(rss - client_rss)/1024:+.1f} MiB (goal <= +4 MiB)")
PY
