#!/usr/bin/env bash
# Builds the real bbolt 1.3.6 command-line tool (main.go here, GOPATH mode against Debian's
# bbolt 1.3.6) and rewrites fixtures/expected/bbolt-1.3.6/: what it prints for every fixture DB,
#   <fixture>.<meta|overlayfs>.pages.txt     bbolt pages FILE
#   <fixture>.<meta|overlayfs>.page-0-1.txt  bbolt page FILE 0 1   (both meta pages)
# Each DB is read from a copy in a temp dir, and the copy must be unchanged afterwards.
#
# Needs: apt-get install -y golang-go golang-github-coreos-bbolt-dev
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
FIX="$REPO/fixtures"
OUT="$FIX/expected/bbolt-1.3.6"

command -v go >/dev/null || { echo "regen.sh: go not found; apt-get install -y golang-go golang-github-coreos-bbolt-dev" >&2; exit 1; }
[ -d /usr/share/gocode/src/go.etcd.io/bbolt ] || { echo "regen.sh: bbolt source not found; apt-get install -y golang-github-coreos-bbolt-dev" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
BIN="$TMP/bbolt"
(cd "$HERE" && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= \
  GOCACHE="${GOCACHE:-$TMP/gocache}" go build -o "$BIN" .)
echo "built bbolt (library $(dpkg-query -W -f='${Version}' golang-github-coreos-bbolt-dev 2>/dev/null || echo '?'), $(go version))"

mkdir -p "$OUT"
for dir in "$FIX"/*/; do
  fixture="$(basename "$dir")"
  for pair in meta:io.containerd.metadata.v1.bolt/meta.db overlayfs:io.containerd.snapshotter.v1.overlayfs/metadata.db; do
    db="${pair%%:*}"; rel="${pair#*:}"
    src="$dir$rel"
    [ -f "$src" ] || continue
    copy="$TMP/$fixture.$db.db"
    cp "$src" "$copy"; chmod 0644 "$copy"
    "$BIN" pages "$copy" > "$OUT/$fixture.$db.pages.txt"
    "$BIN" page "$copy" 0 1 > "$OUT/$fixture.$db.page-0-1.txt"
    cmp -s "$src" "$copy" || { echo "regen.sh: bbolt changed its copy of $fixture/$rel" >&2; exit 1; }
    printf '%-40s %5d pages listed\n' "$fixture.$db" "$(($(wc -l < "$OUT/$fixture.$db.pages.txt") - 2))"
  done
done
