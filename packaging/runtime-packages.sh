#!/bin/sh
# Prints the Debian packages that provide the shared libraries BINARY loads
# (one per line), for installing a minimal runtime image:
#   packaging/runtime-packages.sh build/release/src/cli/forcepipe
set -eu
bin="${1:?usage: runtime-packages.sh BINARY}"
ldd "$bin" | awk '/=> \//{print $3}' | while read -r lib; do
  # Debian 12 registers most libraries under /lib, some under /usr/lib (merged /usr).
  dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")" 2>/dev/null \
    || dpkg -S "/usr$lib" 2>/dev/null || dpkg -S "${lib#/usr}" 2>/dev/null \
    || echo "runtime-packages: no package owns $lib" >&2
done | cut -d: -f1 | sort -u
