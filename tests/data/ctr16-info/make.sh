#!/bin/bash
# How root/ (its meta.db alone) and the ctr-info-*.json files were made (not run by the
# tests): a real containerd with its own root under /tmp/ctr16-info, two containers made with
# ctr from an OCI spec file, what `ctr containers info` printed for each, then meta.db copied
# with containerd stopped.
#   containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3
set -eu
W=/tmp/ctr16-info
OUT=$(cd "$(dirname "$0")" && pwd)
rm -rf $W; mkdir -p $W
cat > $W/config.toml <<'C'
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
C
cat > $W/spec.json <<'S'
{"ociVersion":"1.0.2-dev","process":{"user":{"uid":0,"gid":0},"args":["sh","-c","echo <&>"],"cwd":"/"},"root":{"path":"rootfs"},"hostname":"x"}
S
containerd --root $W/root --state $W/state --address $W/c.sock --config $W/config.toml >>$W/log 2>&1 & PID=$!
for i in $(seq 50); do ctr --address $W/c.sock version >/dev/null 2>&1 && break; sleep 0.2; done
C() { ctr --address $W/c.sock -n default "$@"; }
# bare: no labels, no extensions; labelled: two labels set after create.
C containers create --config $W/spec.json bare
C containers create --config $W/spec.json labelled
C containers label labelled nerdctl/name=labelled a=b >/dev/null
for id in bare labelled; do C containers info $id > $W/ctr-info-$id.json; done
kill $PID; wait $PID || true
mkdir -p "$OUT"/root/io.containerd.metadata.v1.bolt
cp $W/root/io.containerd.metadata.v1.bolt/meta.db "$OUT"/root/io.containerd.metadata.v1.bolt/
cp $W/ctr-info-*.json "$OUT"/
