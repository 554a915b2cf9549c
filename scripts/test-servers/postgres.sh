#!/usr/bin/env bash
# Starts / stops a throwaway PostgreSQL 15 on 127.0.0.1 for integration tests.
#
#   postgres.sh start STATE_DIR   initdb in a temp dir, start on a free port, create
#                                 database "forcepipe" owned by superuser "forcepipe"
#                                 (random password, scram-sha-256 over TCP); writes the
#                                 DSN to STATE_DIR/dsn and prints it redacted
#   postgres.sh stop STATE_DIR    stop the server and delete its data
#
# initdb refuses to run as root, so as root the server runs as the "postgres"
# user (or nobody) in a temp dir it owns. Exit status non-zero when the server
# could not be started, so ctest fixtures (and the tests needing them) fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
state=${2:-}
[[ -n "$cmd" && -n "$state" ]] || die "usage: $0 start|stop STATE_DIR"

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$owner" -- "$@"
  else
    "$@"
  fi
}

stop() {
  [[ -f "$state/datadir" ]] || return 0
  local data
  data=$(cat "$state/datadir")
  owner=$(stat -c %U "$data" 2>/dev/null || echo root)
  if [[ -d "$data/db" ]]; then
    as_owner "$PGBIN/pg_ctl" -D "$data/db" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$data"
  rm -f "$state/datadir" "$state/dsn"
}

start() {
  [[ -x "$PGBIN/initdb" ]] || die "no PostgreSQL binaries in $PGBIN (apt-get install postgresql)"
  mkdir -p "$state"
  stop
  owner=$(id -un)
  if [[ $(id -u) -eq 0 ]]; then
    if id postgres >/dev/null 2>&1; then owner=postgres; else owner=nobody; fi
  fi
  local data
  data=$(mktemp -d /tmp/forcepipe-pg.XXXXXX)
  echo "$data" >"$state/datadir"
  chmod 700 "$data"
  local pw
  pw=$(random_password)
  printf '%s\n' "$pw" >"$data/pwfile"
  chown -R "$owner" "$data"
  if ! as_owner "$PGBIN/initdb" -D "$data/db" -U forcepipe --pwfile="$data/pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale >"$data/initdb.log" 2>&1; then
    cat "$data/initdb.log" >&2
    die "initdb failed"
  fi
  rm -f "$data/pwfile"
  local port attempt
  for attempt in 1 2 3; do
    port=$(free_port)
    if as_owner "$PGBIN/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 \
        -o "-p $port -h 127.0.0.1 -k $data -c max_connections=50 -c shared_buffers=128MB" \
        start >/dev/null </dev/null; then
      break
    fi
    port=""
  done
  if [[ -z "$port" ]]; then
    tail -20 "$data/server.log" >&2 || true
    die "PostgreSQL did not start"
  fi
  as_owner "$PGBIN/createdb" -h "$data" -p "$port" -U forcepipe forcepipe ||
    die "createdb failed"
  publish_dsn "$state" "postgresql://forcepipe:$pw@127.0.0.1:$port/forcepipe"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop STATE_DIR" ;;
esac
