#!/usr/bin/env bash
# Build bbolt-dump (GOPATH mode against Debian's bbolt) and regenerate
# fixtures/golden/<fixture>.<meta|overlayfs>.jsonl from fixtures/*/.
# Each DB is dumped from a copy in a temp dir; fixtures are never opened.
# Also runs `bbolt-dump -check` on every DB and prints the results.
#
# Needs: apt-get install -y golang-go golang-github-coreos-bbolt-dev
# Env: BBOLT_DUMP_BIN (default /tmp/bbolt-dump/bbolt-dump)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
FIX="$REPO/fixtures"
OUT="$FIX/golden"
BIN="${BBOLT_DUMP_BIN:-/tmp/bbolt-dump/bbolt-dump}"

command -v go >/dev/null || { echo "regen.sh: go not found; apt-get install -y golang-go golang-github-coreos-bbolt-dev" >&2; exit 1; }
[ -d /usr/share/gocode/src/go.etcd.io/bbolt ] || { echo "regen.sh: bbolt source not found; apt-get install -y golang-github-coreos-bbolt-dev" >&2; exit 1; }

mkdir -p "$(dirname "$BIN")"
(cd "$HERE" && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= \
  GOCACHE="${GOCACHE:-/tmp/bbolt-dump/gocache}" go build -o "$BIN" .)
echo "built $BIN (bbolt $(dpkg-query -W -f='${Version}' golang-github-coreos-bbolt-dev 2>/dev/null || echo '?'), $(go version))"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"
status=0
for dir in "$FIX"/*/; do
  fixture="$(basename "$dir")"
  [ "$fixture" = golden ] && continue
  for pair in meta:io.containerd.metadata.v1.bolt/meta.db overlayfs:io.containerd.snapshotter.v1.overlayfs/metadata.db; do
    db="${pair%%:*}"; rel="${pair#*:}"
    src="$dir$rel"
    [ -f "$src" ] || continue
    copy="$TMP/$fixture.$db.db"
    cp "$src" "$copy"; chmod 0644 "$copy"
    "$BIN" "$copy" > "$OUT/$fixture.$db.jsonl"
    cmp -s "$src" "$copy" || { echo "regen.sh: $fixture/$rel: copy changed while reading" >&2; status=1; }
    printf '%-40s %6d lines\n' "$fixture.$db.jsonl" "$(wc -l < "$OUT/$fixture.$db.jsonl")"
    # check on a fresh copy
    cp "$src" "$copy"; chmod 0644 "$copy"
    if result="$("$BIN" -check "$copy" 2>&1)"; then :; else status=1; fi
    echo "  check: ${result//$'\n'/$'\n'         }"
  done
done
exit "$status"
