# Shared helpers for the test-server scripts (sourced, not run).

# A free TCP port on 127.0.0.1 (the kernel picks it; a tiny race remains until
# the server binds it, so callers retry start on failure).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# A random password for a throwaway server (hex, URL-safe).
random_password() {
  head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# Writes the DSN to STATE/dsn (mode 600) and prints it with the password
# redacted: secrets never go to test output.
publish_dsn() {
  local state=$1 dsn=$2
  umask 077
  printf '%s\n' "$dsn" >"$state/dsn.tmp"
  mv "$state/dsn.tmp" "$state/dsn"
  echo "$(printf '%s' "$dsn" | sed -E 's#(://[^:/@]+):[^@]*@#\1:****@#')"
  echo "DSN file: $state/dsn"
}
