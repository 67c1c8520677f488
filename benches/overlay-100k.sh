#!/usr/bin/env bash
# `coldctr diff` and `coldctr fs export` on a container whose upper dir holds ~100,000 files,
# beside find/tar doing the equivalent work on the same tree (benches/RESULTS.md, "overlay").
#
# The node is the seized docker28 dev fixture, unpacked (as root, with xattrs) into WORK; the
# rw layer of container dev-oldapp (snapshot 49, 3 lowers) gets 100 dirs x 1000 files of
# 0.4 to 4 KiB (100,000 added files, 196 MB).
#
#   benches/overlay-100k.sh [COLDCTR] [WORK]
#
# COLDCTR defaults to target/debug/coldctr (the project builds debug on the shared machine);
# WORK to /tmp/overlay-100k (removed first). Needs: tar, find, GNU time (/usr/bin/time).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-$HERE/target/debug/coldctr}"
WORK="${2:-/tmp/overlay-100k}"
if [ -d "$WORK" ]; then chmod -R u+rwx "$WORK" 2>/dev/null || true; rm -rf "$WORK"; fi
mkdir -p "$WORK/node"
tar --xattrs --xattrs-include='*' --sparse -xpzf "$HERE/fixtures/node-docker28-dev.tar.gz" -C "$WORK/node"
ROOT="$WORK/node/var/lib/containerd"
SNAP="$ROOT/io.containerd.snapshotter.v1.overlayfs/snapshots"
UPPER="$SNAP/49/fs"
# 100 x 1000 files with distinct small contents.
python3 - "$UPPER" <<'EOF'
import os, sys
up = sys.argv[1]
for d in range(100):
    p = os.path.join(up, "data", "d%03d" % d)
    os.makedirs(p, exist_ok=True)
    for f in range(1000):
        with open(os.path.join(p, "f%04d" % f), "wb") as fh:
            fh.write((b"%d/%d " % (d, f)) * (100 + (f % 300)))
EOF
echo "files in the upper dir: $(find "$UPPER" -type f | wc -l)"
LOWERS="$SNAP/48/fs $SNAP/44/fs $SNAP/13/fs"
t() { /usr/bin/time -f "%e s elapsed, %M KiB max RSS" "$@"; }

echo "== coldctr diff (table)"
t "$BIN" --root "$ROOT" diff dev-oldapp > "$WORK/diff.txt"
wc -l < "$WORK/diff.txt"
echo "== find: the upper dir walked with lstat (type, mode, owner, size, mtime), then every name looked up in the lowers"
t sh -c "find '$UPPER' -printf '%y %m %U %G %s %T@ %P\n' > '$WORK/find.txt'"
t sh -c "cd '$UPPER' && find . -mindepth 1 -printf '%P\n' | while IFS= read -r p; do for l in $LOWERS; do [ -e \"\$l/\$p\" ] && break; done; done" || true
echo "== coldctr diff --format json --hash"
t "$BIN" --root "$ROOT" diff dev-oldapp --format json --hash > "$WORK/diff.json"
echo "== find + sha256sum of the upper dir's files"
t sh -c "cd '$UPPER' && find . -type f -print0 | xargs -0 sha256sum > '$WORK/sha.txt'"

echo "== coldctr fs export"
t "$BIN" --root "$ROOT" fs export dev-oldapp -o "$WORK/export.tar"
ls -l "$WORK/export.tar"
echo "== tar of the same layers (upper + lowers, one archive each), with xattrs"
t sh -c "for l in $UPPER $LOWERS; do tar --xattrs -C \"\$l\" -cf - . ; done > '$WORK/layers.tar'"
ls -l "$WORK/layers.tar"
