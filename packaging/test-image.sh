#!/usr/bin/env bash
# Builds the container image (packaging/Dockerfile) with buildah and checks it:
#   bash packaging/test-image.sh
# Needs root (buildah's chroot isolation) and the Debian mirror; no Docker engine and no registry:
# the debian:12 / debian:12-slim base images come from ../shared/tools/oci-base.sh (next to the
# checkout). Installs buildah with apt-get when it is missing.
#
# Checks, each printed as `ok` or `FAIL`; exits non-zero when any fails:
#   the image config (non-root USER, HEALTHCHECK on /healthz, STOPSIGNAL SIGTERM, VOLUME for data_dir);
#   inside a container: runs as the non-root user, `forcepipe --version`, `forcepipe config example`
#   passes `forcepipe config check` (so does the shipped /etc/forcepipe/forcepipe.yaml.example, which
#   listens on 0.0.0.0:8080, and the config in kubernetes/forcepipe.yaml), `forcepipe demo --duration 10s` stores events in the data volume while
#   curl (the HEALTHCHECK's probe) gets /healthz, no compiler, cmake, make or -dev package is left,
#   the image is at most FORCEPIPE_IMAGE_MAX_MB.
#
# Environment:
#   FORCEPIPE_IMAGE         tag to build                                     (default forcepipe:dev)
#   FORCEPIPE_IMAGE_MAX_MB  size limit of the image in MB (10^6 bytes)       (default 120)
#   FORCEPIPE_IMAGE_BUD     extra `buildah bud` flags, e.g. --no-cache for a build without layer cache
set -Eeuo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "$repo/.." && pwd)/shared
image=${FORCEPIPE_IMAGE:-forcepipe:dev}
max_mb=${FORCEPIPE_IMAGE_MAX_MB:-120}
cd "$repo"

if [[ $(id -u) -ne 0 ]]; then
  echo "test-image: needs root (buildah --isolation chroot)" >&2
  exit 1
fi
if [[ ! -x "$shared/tools/oci-base.sh" ]]; then
  echo "test-image: $shared/tools/oci-base.sh not found (the shared folder next to the checkout)" >&2
  exit 1
fi
# Idempotent, like scripts/install-deps.sh: apt-get only when something is missing.
missing=()
for p in buildah sqlite3 python3-yaml; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "test-image: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

work=$(mktemp -d)
containers=()
cleanup() {
  for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
ok() { echo "ok    $1"; passed=$((passed + 1)); }
fail() { echo "FAIL  $1"; failed=$((failed + 1)); }
# expect NAME COMMAND...: passes when COMMAND exits 0.
expect() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else fail "$name"; fi
}

# ---- base images and build ----------------------------------------------------------------------
bash "$shared/tools/oci-base.sh"
old_id=$(buildah images -q --no-trunc "$image" 2>/dev/null || true)
bud=(buildah bud --layers --format docker --isolation chroot --network host
     --ignorefile packaging/Dockerfile.dockerignore -f packaging/Dockerfile -t "$image"
     ${FORCEPIPE_IMAGE_BUD:-})
echo "test-image: ${bud[*]} ."
start=$(date +%s)
if ! "${bud[@]}" . > "$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log"
  echo "test-image: the image build failed (log above); 0 passed, 1 failed"
  exit 1
fi
build_s=$(($(date +%s) - start))
# ccache's statistics (absent when the compile step was a layer cache hit). The ccache files live in
# buildah's cache mount (id forcepipe-ccache, under /var/tmp/buildah-cache-0), kept between runs.
grep -E '^ *(Hits|Misses): ' "$work/build.log" | sed 's/^ */test-image: ccache /' || true
# The previous build of the tag is dangling now: drop it so repeated runs do not pile images up.
new_id=$(buildah images -q --no-trunc "$image")
if [[ -n "$old_id" && "$old_id" != "$new_id" ]]; then buildah rmi "$old_id" >/dev/null 2>&1 || true; fi

# ---- the image config ---------------------------------------------------------------------------
inspect() { buildah inspect --type image --format "$1" "$image"; }
user=$(inspect '{{.Docker.Config.User}}')
expect "image USER is forcepipe:forcepipe (got '$user')" test "$user" = "forcepipe:forcepipe"
health=$(inspect '{{if .Docker.Config.Healthcheck}}{{.Docker.Config.Healthcheck.Test}}{{end}}')
expect "image HEALTHCHECK probes /healthz (got '$health')" grep -q 'http://127.0.0.1:8080/healthz' <<< "$health"
stopsig=$(inspect '{{.Docker.Config.StopSignal}}')
expect "image STOPSIGNAL is SIGTERM (got '$stopsig')" test "$stopsig" = "SIGTERM"
volumes=$(inspect '{{range $k, $v := .Docker.Config.Volumes}}{{$k}} {{end}}')
expect "image VOLUME /var/lib/forcepipe (got '$volumes')" grep -qw '/var/lib/forcepipe' <<< "$volumes"
# The size of the image's layers (uncompressed tar bytes), as `docker images` shows it.
size=$(buildah inspect --type image --format '{{.Manifest}}' "$image" |
       python3 -c 'import json, sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))')
size_mb=$(( (size + 500000) / 1000000 ))
expect "image is at most ${max_mb} MB (got ${size_mb} MB)" test "$size" -le $((max_mb * 1000000))

# ---- inside a container -------------------------------------------------------------------------
ctr=$(buildah from "$image")
containers+=("$ctr")
# Runs as the image's user (USER), in its working directory /var/lib/forcepipe.
in_ctr() { buildah run --isolation chroot --network host "$ctr" -- "$@"; }

uid=$(in_ctr id -u)
uname=$(in_ctr id -un)
expect "runs as a non-root user (uid $uid, $uname)" test "$uid" != 0 -a "$uname" = forcepipe

version=$(in_ctr forcepipe --version)
expect "forcepipe --version: $version" grep -Eq '^forcepipe [0-9]+\.[0-9]+\.[0-9]+' <<< "$version"

expect "forcepipe config example passes forcepipe config check" \
  in_ctr sh -c 'forcepipe config example > /tmp/example.yaml && forcepipe config check -c /tmp/example.yaml'
expect "/etc/forcepipe/forcepipe.yaml.example passes forcepipe config check" \
  in_ctr forcepipe config check -c /etc/forcepipe/forcepipe.yaml.example
expect "/etc/forcepipe/forcepipe.yaml.example listens on 0.0.0.0:8080" \
  in_ctr grep -q '^  listen: "0.0.0.0:8080"$' /etc/forcepipe/forcepipe.yaml.example

# The Kubernetes manifest's ConfigMap config passes `config check`, with stand-in files where the
# pod mounts its Secret.
mnt=$(buildah mount "$ctr")
python3 -c 'import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "ConfigMap"]
sys.stdout.write(docs[0]["data"]["forcepipe.yaml"])' packaging/kubernetes/forcepipe.yaml > "$mnt/tmp/k8s.yaml"
mkdir -p "$mnt/etc/forcepipe/secrets"
printf 'stand-in\n' > "$mnt/etc/forcepipe/secrets/client_secret"
printf 'stand-in\n' > "$mnt/etc/forcepipe/secrets/auth_token"
chmod 0644 "$mnt/tmp/k8s.yaml" "$mnt/etc/forcepipe/secrets/"*
buildah umount "$ctr" >/dev/null
expect "packaging/kubernetes/forcepipe.yaml's config passes forcepipe config check" \
  in_ctr forcepipe config check -c /tmp/k8s.yaml

# The demo (emulator -> Pub/Sub source -> SQLite) in the data volume, as the non-root user. While it
# runs, curl (the HEALTHCHECK's probe) asks its /healthz; port 0: the host network is shared.
in_ctr sh -c '
  forcepipe demo --duration 10s --listen 127.0.0.1:0 > demo.log 2>&1 &
  demo=$!
  health=1
  # Wait (at most 30 s) for the status page line, then probe it.
  for i in $(seq 300); do
    url=$(sed -n "s|^  status page: \(http://[^ ]*\)/status .*|\1|p" demo.log)
    if [ -n "$url" ]; then curl -fsS "$url/healthz" > healthz.out && health=0; break; fi
    kill -0 $demo 2>/dev/null || break
    sleep 0.1
  done
  wait $demo
  echo "demo exit status $?"
  echo "healthz exit status $health: $(cat healthz.out 2>/dev/null)"
  cat demo.log' > "$work/demo.log" 2>&1 || true
grep -E '^(forcepipe demo: |demo exit|healthz exit|  by type|  [A-Za-z_]+: [0-9]+)' "$work/demo.log" || true
expect "forcepipe demo exits 0" grep -q '^demo exit status 0$' "$work/demo.log"
expect "curl gets /healthz from the running demo" grep -q '^healthz exit status 0' "$work/demo.log"
# The summary line: `forcepipe demo: N events stored in DB` (newer) or
# `forcepipe demo: N events delivered, M rows in DB` (older): the stored count is N, resp. M.
stored=$(sed -En 's/^forcepipe demo: ([0-9]+) events stored in .*/\1/p;
                  s/^forcepipe demo: [0-9]+ events delivered, ([0-9]+) rows in .*/\1/p' "$work/demo.log" | tail -n 1)
expect "forcepipe demo stored events (${stored:-no summary line})" test "${stored:-0}" -gt 0
# The store is in the data volume and owned by the non-root user; count its rows from the host too.
expect "events.db is in /var/lib/forcepipe/forcepipe-demo, owned by forcepipe" \
  in_ctr sh -c 'test "$(stat -c %U forcepipe-demo/events.db)" = forcepipe'
in_ctr cat /var/lib/forcepipe/forcepipe-demo/events.db > "$work/events.db"
rows=$(sqlite3 "$work/events.db" 'SELECT count(*) FROM events' 2>&1 || true)
expect "events.db holds the stored events (host sqlite3: $rows rows)" test "$rows" = "${stored:-x}"

# No build tool and no development package is left in the runtime image.
tools=$(in_ctr sh -c 'for t in gcc g++ cc c++ cpp cmake make ninja ld as ccache; do
                        command -v "$t" || true; done')
expect "no build tool in the image (found: ${tools:-none})" test -z "$tools"
pkgs=$(in_ctr dpkg-query -W -f '${db:Status-Abbrev}${Package}\n' | sed -n 's/^ii *//p')
expect "dpkg-query lists the image's packages ($(wc -l <<< "$pkgs"))" test -n "$pkgs"
devpkgs=$(grep -E -- '-dev$|^(gcc|g\+\+|cpp)(-[0-9]+)?$|^binutils|^(cmake|make|ninja-build|ccache)$' <<< "$pkgs" |
          tr '\n' ' ' || true)
expect "no -dev, compiler or binutils package in the image (found: ${devpkgs:-none})" test -z "$devpkgs"

echo "test-image: $image $size_mb MB ($size bytes), built in ${build_s}s"
echo "$passed passed, $failed failed"
((failed == 0))
