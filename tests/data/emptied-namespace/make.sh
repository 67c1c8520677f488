#!/bin/bash
# How root/ and the ctr outputs were made (not run by the tests): a real containerd, one small
# image imported into namespaces `default` and `ns2`, then removed from `ns2` (its last image:
# containerd leaves the empty `images` bucket). No collection ran (the collector held off), so
# the blobs stay; only meta.db and the content store are kept. From the repository's root:
#   bash tests/data/emptied-namespace/make.sh
#   containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3
set -eu
cd "$(dirname "$0")"
IMG=$(pwd)/../../../fixtures/oci-dev/archives/buildah-oci-archive.tar
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
for ns in default ns2; do
  ctr --address $W/c.sock -n $ns images import --no-unpack --index-name docker.io/lab/emptied:1 $IMG >/dev/null
done
# ctr import names the index and (with its own date) the manifest: both are removed.
ctr --address $W/c.sock -n ns2 images rm $(ctr --address $W/c.sock -n ns2 images ls -q) >/dev/null
for ns in default ns2; do ctr --address $W/c.sock -n $ns images ls > ctr-images-ls-$ns.txt; done
kill -TERM $PID; wait $PID 2>/dev/null || true
rm -rf root; mkdir root
cp -a $W/root/io.containerd.metadata.v1.bolt $W/root/io.containerd.content.v1.content root/
rm -rf root/io.containerd.content.v1.content/ingest
rm -rf $W
