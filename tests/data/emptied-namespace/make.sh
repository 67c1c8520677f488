#!/bin/bash
# How root/ and the ctr outputs were made (not run by the tests): a real containerd, one small
# image imported into namespaces `default` and `ns2`, then removed from `ns2` (its last image:
# containerd leaves the empty `images` bucket). No collection ran (the collector held off), so
# the blobs stay; only meta.db and the content store are kept. From the repository's root:
#   bash tests/data/emptied-namespace/make.sh
#   containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3
set -eu
. "$(cd "$(dirname "$0")/.." && pwd)/lab.sh"
cd "$(dirname "$0")"
IMG=$(pwd)/../../../fixtures/oci-dev/archives/buildah-oci-archive.tar
W=$(mktemp -d)
lab_config
lab_start
for ns in default ns2; do
  ctr --address $W/c.sock -n $ns images import --no-unpack --index-name docker.io/lab/emptied:1 $IMG >/dev/null
done
# ctr import names the index and (with its own date) the manifest: both are removed.
ctr --address $W/c.sock -n ns2 images rm $(ctr --address $W/c.sock -n ns2 images ls -q) >/dev/null
for ns in default ns2; do ctr --address $W/c.sock -n $ns images ls > ctr-images-ls-$ns.txt; done
lab_stop
rm -rf root; mkdir root
cp -a $W/root/io.containerd.metadata.v1.bolt $W/root/io.containerd.content.v1.content root/
rm -rf root/io.containerd.content.v1.content/ingest
rm -rf $W
