#!/usr/bin/env bash
# Remake fixtures/expected/containerd-1.6/filters.jsonl: what `ctr ... ls -q FILTER...` of a
# real containerd 1.6 (Debian's 1.6.20) prints for each case of filters-1.6.cases, on a copy of
# fixtures/containerd-1.6 served by a private daemon (its own root, state and socket; the
# collector is held off so the copy stays as the fixture is). Needs root.
# Usage: tools/lab/filters-1.6.sh [OUT]
# Each case line: NAMESPACE<TAB>KIND<TAB>FILTER[<TAB>FILTER...] (KIND: images content containers
# leases); each output line: {"ns","kind","filters","stdout","stderr","exit"}.
set -euo pipefail
LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$LAB/../.." && pwd)"
OUT="${1:-$REPO/fixtures/expected/containerd-1.6/filters.jsonl}"
W="$(mktemp -d /tmp/filters16.XXXXXX)"
SOCK="$W/containerd.sock"
cp -a "$REPO/fixtures/containerd-1.6" "$W/root"
cat > "$W/config.toml" <<TOML
version = 2
root = "$W/root"
state = "$W/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins]
  [plugins."io.containerd.gc.v1.scheduler"]
    pause_threshold = 0.02
    deletion_threshold = 0
    mutation_threshold = 1000000
    schedule_delay = "10h"
    startup_delay = "10h"
TOML
containerd --config "$W/config.toml" > "$W/daemon.log" 2>&1 &
DAEMON=$!
trap 'kill $DAEMON 2>/dev/null || true; wait $DAEMON 2>/dev/null || true; rm -rf "$W"' EXIT
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.2; done
sleep 1
python3 - "$SOCK" "$LAB/filters-1.6.cases" "$OUT" <<'PY'
import json, subprocess, sys
sock, cases, out = sys.argv[1:4]
with open(cases, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as o:
    for line in f:
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        ns, kind, *filters = line.split("\t")
        p = subprocess.run(["/usr/bin/ctr", "-a", sock, "-n", ns, kind, "ls", "-q", *filters], capture_output=True)
        o.write(json.dumps({"ns": ns, "kind": kind, "filters": filters,
                            "stdout": p.stdout.decode("utf-8", "replace"),
                            "stderr": p.stderr.decode("utf-8", "replace"),
                            "exit": p.returncode}, ensure_ascii=False) + "\n")
PY
echo "wrote $OUT ($(wc -l < "$OUT") cases)"
