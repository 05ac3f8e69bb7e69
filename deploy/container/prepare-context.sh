#!/usr/bin/env bash
# Builds the context for deploy/Containerfile: a root file system holding the syndicast binary,
# every shared library `ldd` lists for it (with the dynamic loader), the dashboard's files and
# the few files glibc reads (passwd/group for the nobody user, nsswitch.conf).
# Usage: deploy/container/prepare-context.sh [BINARY] [CONTEXT_DIR]
#   BINARY       default .build/release/syndicast (best: swift build -c release --product syndicast
#                --static-swift-stdlib, so the Swift runtime is inside the binary)
#   CONTEXT_DIR  default .build/container (then: buildah --storage-driver vfs bud -f deploy/Containerfile CONTEXT_DIR)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:-$root/.build/release/syndicast}
context=${2:-$root/.build/container}
[ -x "$binary" ] || { echo "prepare-context.sh: no binary at $binary (swift build -c release --product syndicast --static-swift-stdlib)" >&2; exit 1; }
rm -rf "$context"
mkdir -p "$context/rootfs/usr/local/bin" "$context/rootfs/usr/local/share/syndicast" "$context/rootfs/etc" "$context/rootfs/tmp" "$context/rootfs/data"
chmod 1777 "$context/rootfs/tmp"
chmod 0777 "$context/rootfs/data"
install -m 0755 "$binary" "$context/rootfs/usr/local/bin/syndicast"
# Symbols are a quarter of a release binary (84 MB → 61 MB with the static Swift runtime).
if command -v strip >/dev/null; then strip "$context/rootfs/usr/local/bin/syndicast"; fi
cp -r "$root/web-static" "$context/rootfs/usr/local/share/syndicast/web-static"
# Every library the binary loads, at the path the loader looks for it, symlinks resolved.
ldd "$binary" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r library; do
    mkdir -p "$context/rootfs$(dirname "$library")"
    cp -L "$library" "$context/rootfs$library"
done
if [ -d /lib64 ] && [ ! -e "$context/rootfs/lib64/ld-linux-x86-64.so.2" ] && [ -e /lib64/ld-linux-x86-64.so.2 ]; then
    mkdir -p "$context/rootfs/lib64" && cp -L /lib64/ld-linux-x86-64.so.2 "$context/rootfs/lib64/"
fi
printf 'root:x:0:0:root:/:/nonexistent\nnobody:x:65534:65534:nobody:/nonexistent:/nonexistent\n' >"$context/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$context/rootfs/etc/group"
printf 'hosts: files dns\n' >"$context/rootfs/etc/nsswitch.conf"
cp "$root/deploy/Containerfile" "$context/Containerfile"
echo "prepare-context.sh: $(du -sh "$context/rootfs" | cut -f1) in $context/rootfs"
