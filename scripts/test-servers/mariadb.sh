#!/usr/bin/env bash
# Starts / stops a throwaway MariaDB on 127.0.0.1 for integration tests.
#
#   mariadb.sh start STATE_DIR   mariadb-install-db into a temp dir, mariadbd on a free
#                                port (socket in the temp dir), user "forcepipe" with a
#                                random password and all privileges, database
#                                "forcepipe"; writes the DSN to STATE_DIR/dsn and prints
#                                it redacted
#   mariadb.sh stop STATE_DIR    shut the server down and delete its data
#
# Exit status non-zero when the server could not be started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

cmd=${1:-}
state=${2:-}
[[ -n "$cmd" && -n "$state" ]] || die "usage: $0 start|stop STATE_DIR"
MARIADBD=${MARIADBD:-$(command -v mariadbd || echo /usr/sbin/mariadbd)}

stop() {
  [[ -f "$state/datadir" ]] || return 0
  local data pid
  data=$(cat "$state/datadir")
  if [[ -S "$data/sock" ]]; then
    mariadb-admin --no-defaults --socket="$data/sock" -uroot shutdown >/dev/null 2>&1 || true
  fi
  if [[ -f "$data/pid" ]]; then
    pid=$(cat "$data/pid" 2>/dev/null || true)
    # Wait (bounded) for the server to exit, then make sure.
    for _ in $(seq 1 300); do
      [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$data"
  rm -f "$state/datadir" "$state/dsn"
}

start() {
  [[ -x "$MARIADBD" ]] || die "mariadbd not found (apt-get install mariadb-server)"
  mkdir -p "$state"
  stop
  local data pw port attempt pid
  data=$(mktemp -d /tmp/forcepipe-maria.XXXXXX)
  echo "$data" >"$state/datadir"
  local user_opt=(--user="$(id -un)")
  if ! mariadb-install-db --no-defaults --datadir="$data/db" "${user_opt[@]}" \
      --auth-root-authentication-method=socket --skip-test-db >"$data/install.log" 2>&1; then
    cat "$data/install.log" >&2
    die "mariadb-install-db failed"
  fi
  pw=$(random_password)
  for attempt in 1 2 3; do
    port=$(free_port)
    setsid "$MARIADBD" --no-defaults --datadir="$data/db" --socket="$data/sock" --port="$port" \
      --bind-address=127.0.0.1 "${user_opt[@]}" --pid-file="$data/pid" \
      --log-error="$data/error.log" --skip-name-resolve --skip-log-bin \
      --innodb-buffer-pool-size=128M --max-connections=100 </dev/null >/dev/null 2>&1 &
    pid=$!
    # Wait for readiness with a deadline (60 s), or for the server to die.
    local ok=""
    for _ in $(seq 1 600); do
      if mariadb-admin --no-defaults --socket="$data/sock" -uroot ping >/dev/null 2>&1; then
        ok=1
        break
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    [[ -n "$ok" ]] && break
    kill -9 "$pid" 2>/dev/null || true
    port=""
  done
  if [[ -z "$port" ]]; then
    tail -20 "$data/error.log" >&2 || true
    die "MariaDB did not start"
  fi
  echo "$pid" >"$data/pid"
  mariadb --no-defaults --socket="$data/sock" -uroot <<SQL || die "creating the test user failed"
CREATE DATABASE forcepipe CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER 'forcepipe'@'127.0.0.1' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON *.* TO 'forcepipe'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
  publish_dsn "$state" "mariadb://forcepipe:$pw@127.0.0.1:$port/forcepipe"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop STATE_DIR" ;;
esac
