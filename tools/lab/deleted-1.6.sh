#!/usr/bin/env bash
# Remake tests/data/deleted-1.6: records deleted through a real containerd 1.6 daemon.
# Needs root, Debian's containerd (1.6.20) and the lab's ctrtrail (./build-go.sh).
# Usage: tools/lab/deleted-1.6.sh [OUT]   (default: tests/data/deleted-1.6)
set -euo pipefail
LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$LAB/../.." && pwd)"
OUT="${1:-$REPO/tests/data/deleted-1.6}"
BIN="${CTRLAB_BIN:-/tmp/ctrlab/bin}"
W="$(mktemp -d /tmp/deleted16.XXXXXX)"
SOCK="$W/containerd.sock"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
rm -rf "$OUT/before" "$OUT/after"
rm -f "$OUT/trail.jsonl" "$OUT/events.txt" "$OUT/commands.txt" "$OUT/gc-log.txt"

cat > "$W/config.toml" <<TOML
version = 2
root = "$W/root"
state = "$W/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[debug]
  level = "debug"
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
TOML
containerd --config "$W/config.toml" > "$W/daemon.log" 2>&1 &
DAEMON=$!
trap 'kill $DAEMON 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.2; done
sleep 1

# Every command the scenario runs is echoed into commands.txt.
run() { echo "$*" | sed "s#$SOCK#SOCK#g; s#$REPO/##g; s#$BIN/##g; s#$OUT/##g" >> "$OUT/commands.txt"; "$@"; }
ctr() { run /usr/bin/ctr -a "$SOCK" "$@"; }
trail() { run "$BIN/ctrtrail" -a "$SOCK" -trail "$OUT/trail.jsonl" "$@"; }

{ containerd --version; /usr/bin/ctr --version; } > "$OUT/versions.txt"
/usr/bin/ctr -a "$SOCK" events > "$OUT/events.txt" &
EVENTS=$!
sleep 0.5

A="$REPO/fixtures/oci-dev/archives"
D="$REPO/fixtures/docker-save"
# default: three archives, two more tags, three leases, three containers.
trail -n default import -base-name localhost/lab-dev/app "$A/podman-docker-archive.tar"
trail -n default import -base-name docker.io/library/multi "$A/skopeo-docker-archive.tar"
trail -n default import -base-name docker.io/library/webapp-debug "$D/save-webapp-debug_1.0.tar"
ctr -n default images tag localhost/lab-dev/app:1 localhost/lab-dev/app:keep
ctr -n default images tag localhost/lab-dev/app:1 localhost/lab-dev/app:gone
ctr -n default leases create --id lease-keep --expires 0 team=a
ctr -n default leases create --id lease-rm --expires 0 purpose=rm
ctr -n default leases create --id lease-expire --expires 20s purpose=expire
trail -n default container-create localhost/lab-dev/app:1 c-keep
trail -n default container-create localhost/lab-dev/app:1 c-gone
trail -n default container-create docker.io/library/multi:3.1 c-multi
# second: two archives, a container, a lease.
trail -n second import -base-name localhost/lab-dev/app "$A/podman-oci-archive.tar"
trail -n second import -base-name localhost/lab-dev/app "$A/podman-docker-archive.tar"
trail -n second container-create localhost/lab-dev/app:debug c-second
ctr -n second leases create --id lease-second --expires 0 ns=second

capture() {
  local dir="$OUT/$1"
  mkdir -p "$dir"
  /usr/bin/ctr -a "$SOCK" namespaces ls > "$dir/namespaces.txt"
  for ns in default second; do
    /usr/bin/ctr -a "$SOCK" -n $ns images ls > "$dir/$ns-images.txt"
    /usr/bin/ctr -a "$SOCK" -n $ns content ls > "$dir/$ns-content.txt"
    /usr/bin/ctr -a "$SOCK" -n $ns leases ls > "$dir/$ns-leases.txt"
    /usr/bin/ctr -a "$SOCK" -n $ns containers ls > "$dir/$ns-containers.txt"
    /usr/bin/ctr -a "$SOCK" -n $ns snapshots --snapshotter overlayfs ls > "$dir/$ns-snapshots.txt"
    /usr/bin/ctr -a "$SOCK" -n $ns content active > "$dir/$ns-ingests.txt"
  done
}
echo "# capture before" >> "$OUT/commands.txt"
capture before
START=$(date +%s)

# Deletions, each through the daemon.
ctr -n default images rm localhost/lab-dev/app:gone
ctr -n default containers rm c-gone
ctr -n default leases rm lease-rm
WEBCFG=$(/usr/bin/ctr -a "$SOCK" -n default images ls | awk '$1 ~ /webapp-debug/ {print $3}')
WEBCFG=$(/usr/bin/ctr -a "$SOCK" -n default content get "$WEBCFG" | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])')
ctr -n default content rm "$WEBCFG"
ctr -n default images rm docker.io/library/webapp-debug:1.0
ctr -n default images rm docker.io/library/multi:latest
ctr -n second containers rm c-second
ctr -n second images rm localhost/lab-dev/app:debug
ctr -n second leases rm lease-second
# lease-expire runs out 20 s after it was made; the collection below removes it.
while [ $(( $(date +%s) - START )) -lt 25 ]; do sleep 1; done
ctr -n default images rm --sync docker.io/library/multi:3.1
echo "# capture after" >> "$OUT/commands.txt"
capture after

kill $EVENTS 2>/dev/null || true
kill -TERM $DAEMON
wait $DAEMON || true
trap - EXIT
# Only the two bbolt files of the root (no blobs, no snapshot directories).
rm -rf "$OUT/root"
mkdir -p "$OUT/root/io.containerd.metadata.v1.bolt" "$OUT/root/io.containerd.snapshotter.v1.overlayfs"
cp "$W/root/io.containerd.metadata.v1.bolt/meta.db" "$OUT/root/io.containerd.metadata.v1.bolt/"
cp "$W/root/io.containerd.snapshotter.v1.overlayfs/metadata.db" "$OUT/root/io.containerd.snapshotter.v1.overlayfs/"
# The collections' own account of what they removed (debug lines of metadata/gc.go, db.go).
grep -E 'garbage collect|remove (content|snapshot|ingest)|schedule .*cleanup' "$W/daemon.log" \
  | sed -E 's/^time="[^"]*" //' > "$OUT/gc-log.txt" || true
rm -rf "$W"
echo "made $OUT"
