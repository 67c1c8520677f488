#!/bin/bash
# Remakes the captures in fixtures/expected/node-docker20-local-tail/: what a real dockerd
# 20.10's `docker logs --tail` prints of a `local` driver file whose framing breaks mid-file
# (container.log there, put in place of a stopped container's log): dockerd walks back from the
# end by the records' trailing lengths, so the entries after the break are what it tails. Run
# as root, on a host with Debian's Docker package 20.10, as tools/lab/docker20-logs.sh runs.
#
#   tools/lab/docker20-local-tail.sh WORK     (WORK: an empty directory, not on overlayfs)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(cd "${1:?usage: $0 WORK}" && pwd)
DOCKERD_NS=f9
. "$here/tools/lab/dockerd-private.sh"
lab_container lg-local --log-driver local
out="$here/fixtures/expected/node-docker20-local-tail"
cp "$out/container.log" "$work/data/containers/$id/local-logs/container.log"

export TZ=UTC
new_cases "$out"
# Tails that stop before the walk reaches the break (past it, dockerd 20.10 fails the request
# and 23 and later pass over the file: no capture agrees with both).
for n in 1 2 3; do
  case_ tail$n logs --tail $n lg-local
  case_ t-tail$n logs -t --tail $n lg-local
done
case_ tail3-since logs -t --tail 3 --since 2026-12-05T09:33:19Z lg-local
stop_dockerd "$work/dockerd.pid"
echo "made $out/"
