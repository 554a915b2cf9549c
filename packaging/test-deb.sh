#!/usr/bin/env bash
# Builds the .deb from a configured, built tree and checks what it holds:
#   bash packaging/test-deb.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: packaging/test-deb.sh BUILD_DIR}" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$out" > "$out/cpack.log" 2>&1 || { cat "$out/cpack.log"; exit 1; }
deb=$(ls "$out"/*.deb)
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"
contents=$(dpkg-deb -c "$deb")
for want in ./usr/bin/forcepipe ./usr/lib/systemd/system/forcepipe.service ./etc/forcepipe/forcepipe.yaml.example \
            ./usr/share/forcepipe/grafana/forcepipe-dashboard.json; do
  grep -q " $want\$" <<< "$contents" || { echo "missing $want in the package"; exit 1; }
done
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
grep -q 'libgrpc++' <<< "$depends" || { echo "Depends lacks libgrpc++ (shlibdeps did not run?)"; exit 1; }
# The packaged binary runs and its example config passes its own check.
dpkg-deb -x "$deb" "$out/root"
"$out/root/usr/bin/forcepipe" --version
cp "$out/root/etc/forcepipe/forcepipe.yaml.example" "$out/forcepipe.yaml"
(cd "$out" && "$out/root/usr/bin/forcepipe" config check -c forcepipe.yaml)
echo "1 passed, 0 failed"
