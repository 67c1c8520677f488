#!/bin/bash
# How root/ and ctr-snapshots-ls.txt were made (not run by the tests): a real containerd with
# its collector held off, two active overlayfs snapshots, one removed (`ctr snapshots rm`
# deletes the meta.db record; the backend snapshot and its directory wait for a collection).
#   containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3
set -eu
W=$(mktemp -d)
cat > $W/config.toml <<'C'
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[plugins."io.containerd.gc.v1.scheduler"]
  pause_threshold = 0.000000001
  deletion_threshold = 0
  mutation_threshold = 100000000
  schedule_delay = "0s"
  startup_delay = "100000h"
C
containerd --root $W/root --state $W/state --address $W/c.sock --config $W/config.toml >>$W/log 2>&1 & PID=$!
for i in $(seq 50); do ctr --address $W/c.sock version >/dev/null 2>&1 && break; sleep 0.2; done
C() { ctr --address $W/c.sock -n x "$@"; }
C snapshots prepare kept "" >/dev/null
C snapshots prepare gone "" >/dev/null
C snapshots rm gone
C snapshots ls > ctr-snapshots-ls.txt
kill -TERM $PID; wait $PID 2>/dev/null || true
rm -rf root; mkdir root
cp -a $W/root/io.containerd.metadata.v1.bolt $W/root/io.containerd.snapshotter.v1.overlayfs root/
rm -rf $W
# What a container would have written into each upper dir (git keeps no empty directory).
head -c 5000 /dev/zero | tr '\0' k > root/io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs/written
head -c 9000 /dev/zero | tr '\0' g > root/io.containerd.snapshotter.v1.overlayfs/snapshots/2/fs/written
