#!/bin/bash
# How root/ and the lists here were made (not run by the tests): a real containerd, the
# leases, a copy of its root, then its own collection on the original root.
#   containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3
#   /usr/bin/containerd: go1.19.8   (`go version /usr/bin/containerd`)
set -eu
. "$(cd "$(dirname "$0")/.." && pwd)/lab.sh"
W=$(mktemp -d)
lab_config
C() { ctr --address $W/c.sock -n x "$@"; }
lab_start
i=0
for v in '2020-01-01T00:00:00Z' '2020-01-01T00:00:00+25:00' '2020-01-01T00:00:00+00:99' \
  '2020-01-01T00:00:00++1:00' '2020-01-01T00:00:00+99:99' '2020-01-01T00:00:00+01:-5' \
  '2020-01-01T00:00:00+24:00' '2099-01-01T00:00:00+25:00' 'not a time'; do
  i=$((i+1)); C leases create -x 0 --id "lease-$i" containerd.io/gc.expire="$v" >/dev/null
done
C leases create -x 0 --id keep >/dev/null
C leases ls > ctr-leases-ls.txt
lab_stop
mkdir -p root/io.containerd.metadata.v1.bolt
cp $W/root/io.containerd.metadata.v1.bolt/meta.db root/io.containerd.metadata.v1.bolt/
lab_start
C leases ls -q | sort > $W/before.txt
# A blocking collection that removes nothing of its own: an empty lease, deleted with --sync.
C leases create --id trig -x 0 >/dev/null
C leases rm --sync trig >/dev/null
C leases ls -q | sort > kept-leases.txt
lab_stop
comm -23 $W/before.txt kept-leases.txt > removed-leases.txt
rm -rf $W
