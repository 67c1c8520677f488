#!/bin/bash
# How root/ and ctr-snapshots-ls.txt were made (not run by the tests): a real containerd with
# its collector held off, two active overlayfs snapshots, one removed (`ctr snapshots rm`
# deletes the meta.db record; the backend snapshot and its directory wait for a collection).
#   containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3
set -eu
. "$(cd "$(dirname "$0")/.." && pwd)/lab.sh"
W=$(mktemp -d)
lab_config
lab_start
C() { ctr --address $W/c.sock -n x "$@"; }
C snapshots prepare kept "" >/dev/null
C snapshots prepare gone "" >/dev/null
C snapshots rm gone
C snapshots ls > ctr-snapshots-ls.txt
lab_stop
rm -rf root; mkdir root
cp -a $W/root/io.containerd.metadata.v1.bolt $W/root/io.containerd.snapshotter.v1.overlayfs root/
rm -rf $W
# What a container would have written into each upper dir (git keeps no empty directory).
head -c 5000 /dev/zero | tr '\0' k > root/io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs/written
head -c 9000 /dev/zero | tr '\0' g > root/io.containerd.snapshotter.v1.overlayfs/snapshots/2/fs/written
