#!/bin/bash
# How root/ and the lists here were made (not run by the tests): a real containerd, the
# leases, a copy of its root, then its own collection on the original root.
#   containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3
#   /usr/bin/containerd: go1.19.8   (`go version /usr/bin/containerd`)
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
start() { containerd --root $W/root --state $W/state --address $W/c.sock --config $W/config.toml >>$W/log 2>&1 & PID=$!
  for i in $(seq 50); do ctr --address $W/c.sock version >/dev/null 2>&1 && return; sleep 0.2; done; exit 1; }
stop() { kill -TERM $PID; wait $PID 2>/dev/null || true; }
C() { ctr --address $W/c.sock -n x "$@"; }
start
i=0
for v in '2020-01-01T00:00:00Z' '2020-01-01T00:00:00+25:00' '2020-01-01T00:00:00+00:99' \
  '2020-01-01T00:00:00++1:00' '2020-01-01T00:00:00+99:99' '2020-01-01T00:00:00+01:-5' \
  '2020-01-01T00:00:00+24:00' '2099-01-01T00:00:00+25:00' 'not a time'; do
  i=$((i+1)); C leases create -x 0 --id "lease-$i" containerd.io/gc.expire="$v" >/dev/null
done
C leases create -x 0 --id keep >/dev/null
C leases ls > ctr-leases-ls.txt
stop
mkdir -p root/io.containerd.metadata.v1.bolt
cp $W/root/io.containerd.metadata.v1.bolt/meta.db root/io.containerd.metadata.v1.bolt/
start
C leases ls -q | sort > $W/before.txt
# A blocking collection that removes nothing of its own: an empty lease, deleted with --sync.
C leases create --id trig -x 0 >/dev/null
C leases rm --sync trig >/dev/null
C leases ls -q | sort > kept-leases.txt
stop
comm -23 $W/before.txt kept-leases.txt > removed-leases.txt
rm -rf $W
