#!/usr/bin/env bash
# Builds the two images the Python API tests run (python/tests), FROM scratch since no registry
# is reachable: NAME-sh (a static busybox) and NAME-py (busybox + the host's Debian python3.11
# with the shared libraries it loads and its standard library, without tests). Prints nothing
# but errors.   scripts/python-test-images.sh NAME
set -euo pipefail
name="$1"
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
busybox="$(command -v busybox)"
mkdir -p "$ctx/sh/bin"
cp "$busybox" "$ctx/sh/bin/busybox"
cat >"$ctx/sh/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY bin/busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
USER 1000:1000
DOCKERFILE
docker build --quiet -t "$name-sh" "$ctx/sh" >/dev/null

python=/usr/bin/python3.11
[ -x "$python" ] || { echo "python-test-images: $python is missing (apt-get install python3)" >&2; exit 1; }
root="$ctx/py/root"
mkdir -p "$root/bin" "$root/usr/bin" "$root/usr/lib"
cp "$busybox" "$root/bin/busybox"
cp "$python" "$root/usr/bin/python3"
# the libraries the interpreter and its extension modules load
for f in "$python" /usr/lib/python3.11/lib-dynload/*.so; do
  ldd "$f" 2>/dev/null | awk '$2 == "=>" {print $3} $1 ~ /ld-linux/ {print $1}'
done | sort -u | while read -r lib; do
  [ -n "$lib" ] && [ -e "$lib" ] && cp -L --parents "$lib" "$root"
done
tar -C / --exclude='python3.11/test' --exclude='python3.11/idlelib' --exclude='python3.11/tkinter' \
  --exclude='__pycache__' --exclude='python3.11/site-packages' --exclude='python3.11/dist-packages' \
  -cf - usr/lib/python3.11 | tar -C "$root" -xf -
cat >"$ctx/py/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY root/ /
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PYTHONDONTWRITEBYTECODE=1
USER 1000:1000
DOCKERFILE
docker build --quiet -t "$name-py" "$ctx/py" >/dev/null
