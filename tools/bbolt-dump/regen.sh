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
  case "$fixture" in golden|fuzz) continue ;; esac
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

# Mutated goldens: what bbolt reads from a fixture copy after a run-time mutation. The tests
# (tests/bolt_cli.rs, tests/bolt_engine.rs, `break_meta_checksum` in tests/bolt_support) apply
# the identical mutation to their own copy and compare against these files.
#
# xor_ff FILE OFFSET: XOR 0xff into the byte at OFFSET.
xor_ff() {
  local f="$1" off="$2" b
  b="$(od -An -tu1 -j"$off" -N1 "$f" | tr -d ' ')"
  printf "$(printf '\\%03o' $((b ^ 0xff)))" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}
# mutated FIXTURE DB SLOT NAME: break the checksum of meta page SLOT (XOR 0xff into its first
# checksum byte, page offset 72 = file offset SLOT*4096 + 72; all fixtures use 4096-byte pages)
# and dump to fixtures/golden/FIXTURE.DB.NAME.jsonl.
mutated() {
  local fixture="$1" db="$2" slot="$3" name="$4" rel
  case "$db" in
    meta) rel=io.containerd.metadata.v1.bolt/meta.db ;;
    overlayfs) rel=io.containerd.snapshotter.v1.overlayfs/metadata.db ;;
  esac
  local copy="$TMP/$fixture.$db.$name.db"
  cp "$FIX/$fixture/$rel" "$copy"; chmod 0644 "$copy"
  xor_ff "$copy" $((slot * 4096 + 72))
  "$BIN" "$copy" > "$OUT/$fixture.$db.$name.jsonl" || status=1
  printf '%-40s %6d lines\n' "$fixture.$db.$name.jsonl" "$(wc -l < "$OUT/$fixture.$db.$name.jsonl")"
}
# containerd-1.6 meta.db: meta 1 (txid 525) is current; broken, bbolt falls back to meta 0.
mutated containerd-1.6 meta 1 meta1-checksum-flipped
# docker-28.5 overlayfs metadata.db: meta 0 (txid 120) is current; broken, bbolt reads meta 1.
mutated docker-28.5 overlayfs 0 meta0-checksum-flipped

exit "$status"
