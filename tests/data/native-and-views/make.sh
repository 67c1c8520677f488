#!/bin/bash
# How root/ and the ctr-*.txt files were made (not run by the tests): a real containerd with its
# collector held off, its root at /tmp/native-fx/root (the paths the ctr outputs print).
#   containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3
# Files are written into the snapshot directories directly, as an applier or a container would:
# a native snapshot is a full copy of its parent (prepare copies the parent's directory), and a
# deletion really deletes (no whiteouts).
set -eu
. "$(cd "$(dirname "$0")/.." && pwd)/lab.sh"
W=/tmp/native-fx
rm -rf $W; mkdir -p $W
lab_config
lab_start
N() { ctr --address $W/c.sock -n x snapshots --snapshotter native "$@"; }
O() { ctr --address $W/c.sock -n x snapshots --snapshotter overlayfs "$@"; }
ND=$W/root/io.containerd.snapshotter.v1.native/snapshots
OD=$W/root/io.containerd.snapshotter.v1.overlayfs/snapshots
T=202601020304.05
# native: base (id 1) -> layer2 (id 2, deletes /dir1/a and /etc/gone) -> container c (id 3)
# and a view v of layer2 (id 4, no directory), an active a with no parent (id 5).
N prepare base-a "" >/dev/null
mkdir -p $ND/1/etc $ND/1/dir1/sub $ND/1/dir2
echo root:x:0:0 > $ND/1/etc/passwd; echo gone > $ND/1/etc/gone; echo a > $ND/1/dir1/a
echo s > $ND/1/dir1/sub/s; echo d > $ND/1/dir2/d; echo keep > $ND/1/keep
find $ND/1 -mindepth 1 -exec touch -h -t $T {} +
N commit base base-a
N prepare layer2-a base >/dev/null
rm $ND/2/dir1/a $ND/2/etc/gone; echo two > $ND/2/two; touch -t $T $ND/2/two
N commit layer2 layer2-a
N prepare c layer2 >/dev/null
# What a process in c does: rm /etc/passwd, rm -r /dir2, write /added, rewrite /keep.
rm $ND/3/etc/passwd; rm -r $ND/3/dir2; echo new > $ND/3/added; echo changed > $ND/3/keep
N view v layer2 >/dev/null
N prepare a "" >/dev/null
echo alone > $ND/5/alone
# overlayfs (its own ids): o1 (id 1) -> o2 (id 2); view ov1 of o1 (id 3), view ov2 of o2 (id 4), active oc on o2 (id 5).
O prepare o1-a "" >/dev/null
mkdir -p $OD/1/fs/etc; echo root > $OD/1/fs/etc/passwd
O commit o1 o1-a
O prepare o2-a o1 >/dev/null
echo two > $OD/2/fs/two
O commit o2 o2-a
O view ov1 o1 >/dev/null
O view ov2 o2 >/dev/null
O prepare oc o2 >/dev/null
echo mine > $OD/5/fs/mine
for k in c v a; do N mounts /mnt $k > $W/ctr-native-mounts-$k.txt; done
for k in ov1 ov2 oc; do O mounts /mnt $k > $W/ctr-overlayfs-mounts-$k.txt; done
N ls > $W/ctr-native-ls.txt
O ls > $W/ctr-overlayfs-ls.txt
O usage > $W/ctr-overlayfs-usage.txt
lab_stop
rm -rf root; mkdir root
# git keeps no empty directory: the tests make snapshots/3/etc (native) and 5/work back.
cp -a $W/root/io.containerd.metadata.v1.bolt $W/root/io.containerd.snapshotter.v1.native $W/root/io.containerd.snapshotter.v1.overlayfs root/
cp $W/ctr-*.txt .
# Left-over content in the overlay views' own directories, which containerd never mounts
# (a file, which also keeps the directories in git).
echo planted > root/io.containerd.snapshotter.v1.overlayfs/snapshots/3/fs/planted
echo planted > root/io.containerd.snapshotter.v1.overlayfs/snapshots/4/fs/planted
