#!/bin/bash
# How root/ and the ctr-*.txt files were made (not run by the tests): a real containerd with its
# collector held off, its root at /tmp/target-names-fx/root (the paths the ctr outputs print).
#   containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3
#   umoci 0.4.7 (the image, built offline)
# Run as root from this directory.
set -eu
. "$(cd "$(dirname "$0")/.." && pwd)/lab.sh"
W=/tmp/target-names-fx
rm -rf $W; mkdir -p $W
cd "$(dirname "$0")"
T=202601020304.05
# The image: test/img:two, two layers (base: /etc/passwd, /dir1/a; two: /two), imported by ctr,
# which names it as the archive does (no docker.io/ added).
umoci init --layout $W/oci
umoci new --image $W/oci:two
umoci unpack --image $W/oci:two $W/bundle >/dev/null
mkdir -p $W/bundle/rootfs/etc $W/bundle/rootfs/dir1
echo root:x:0:0 > $W/bundle/rootfs/etc/passwd; echo a > $W/bundle/rootfs/dir1/a
find $W/bundle/rootfs -mindepth 1 -exec touch -h -t $T {} +
umoci repack --image $W/oci:two $W/bundle
# The second layer from a bundle of the first (a repack diffs against what was unpacked).
umoci unpack --image $W/oci:two $W/bundle2 >/dev/null
echo two > $W/bundle2/rootfs/two; touch -t $T $W/bundle2/rootfs/two
umoci repack --image $W/oci:two $W/bundle2
tar -C $W/oci -cf $W/oci.tar .
lab_config
C() { ctr --address $W/c.sock -n ns1 "$@"; }
OD=$W/root/io.containerd.snapshotter.v1.overlayfs/snapshots
lab_start
C images import --base-name test/img $W/oci.tar
C images ls > $W/ctr-images-ls.txt
# Container c1 on it (id 3: the layers are 1 and 2), which wrote /added.
C containers create test/img:two c1
echo new > $OD/3/fs/added; touch -t $T $OD/3/fs/added
TOP=$(C snapshots info c1 | sed -n 's/.*"Parent": "\(.*\)".*/\1/p')
echo "$TOP" > $W/image-top.txt
C snapshots mounts /mnt c1 > $W/ctr-mounts-c1.txt
# An orphan of the snapshotter: an active snapshot on the image (id 4) whose meta.db record is
# removed (the backend record and its directory wait for the next collection, held off here).
C snapshots prepare orphan "$TOP" >/dev/null
C snapshots mounts /mnt orphan > $W/ctr-mounts-orphan.txt
echo rescued > $OD/4/fs/rescued; touch -t $T $OD/4/fs/rescued
C snapshots rm orphan
lab_stop
# meta.db records that the snapshotter's metadata.db lacks: metadata.db put back as it was
# before `unbacked` (a bare snapshot) and container c2's snapshot were made, as a restore of
# an older copy of it leaves the node. Their directories (ids 5, 6) go with it.
cp -a $W/root/io.containerd.snapshotter.v1.overlayfs/metadata.db $W/metadata.db.before
lab_start
C snapshots prepare unbacked "$TOP" >/dev/null
C containers create test/img:two c2
lab_stop
cp -a $W/metadata.db.before $W/root/io.containerd.snapshotter.v1.overlayfs/metadata.db
rm -rf $OD/5 $OD/6
# What the real containerd makes of that root.
lab_start
C snapshots ls > $W/ctr-snapshots-ls.txt
{ C snapshots mounts /mnt unbacked || true; } > $W/ctr-mounts-unbacked.txt 2>&1
{ C snapshots mounts /mnt c2 || true; } > $W/ctr-mounts-c2.txt 2>&1
lab_stop
rm -rf root; mkdir root
# git keeps no empty directory: the tests make snapshots/3/work and 4/work back.
cp -a $W/root/io.containerd.metadata.v1.bolt $W/root/io.containerd.snapshotter.v1.overlayfs $W/root/io.containerd.content.v1.content root/
rm -rf root/io.containerd.content.v1.content/ingest
cp $W/ctr-*.txt $W/image-top.txt .
