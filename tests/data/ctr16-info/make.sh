#!/bin/bash
# How root/ (its meta.db alone) and the ctr-info-*.json files were made (not run by the
# tests): a real containerd with its own root under /tmp/ctr16-info, two containers made with
# ctr from an OCI spec file, what `ctr containers info` printed for each, then meta.db copied
# with containerd stopped.
#   containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3
set -eu
. "$(cd "$(dirname "$0")/.." && pwd)/lab.sh"
W=/tmp/ctr16-info
OUT=$(cd "$(dirname "$0")" && pwd)
rm -rf $W; mkdir -p $W
LAB_GC=on lab_config
cat > $W/spec.json <<'S'
{"ociVersion":"1.0.2-dev","process":{"user":{"uid":0,"gid":0},"args":["sh","-c","echo <&>"],"cwd":"/"},"root":{"path":"rootfs"},"hostname":"x"}
S
lab_start
C() { ctr --address $W/c.sock -n default "$@"; }
# bare: no labels, no extensions; labelled: two labels set after create.
C containers create --config $W/spec.json bare
C containers create --config $W/spec.json labelled
C containers label labelled nerdctl/name=labelled a=b >/dev/null
for id in bare labelled; do C containers info $id > $W/ctr-info-$id.json; done
lab_stop
mkdir -p "$OUT"/root/io.containerd.metadata.v1.bolt
cp $W/root/io.containerd.metadata.v1.bolt/meta.db "$OUT"/root/io.containerd.metadata.v1.bolt/
cp $W/ctr-info-*.json "$OUT"/
