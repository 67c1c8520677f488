#!/bin/bash
# Remakes the captures in fixtures/expected/node-docker20-local-proto/: what a real dockerd
# 20.10's `docker logs` prints of a `local` driver file whose records hold protobuf corners
# the driver never writes but the gogo-generated LogEntry.Unmarshal reads (a field number past
# 2^32, an unknown field's groups, partial_log_metadata twice, a ten-byte varint, a field
# twice): container.log there, put in place of a stopped container's log. Run as root, on a
# host with Debian's Docker package 20.10, as tools/lab/docker20-logs.sh runs.
#
#   tools/lab/docker20-local-proto.sh WORK     (WORK: an empty directory, not on overlayfs)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(cd "${1:?usage: $0 WORK}" && pwd)
DOCKERD_NS=f9
. "$here/tools/lab/dockerd-private.sh"
lab_container lg-local --log-driver local
out="$here/fixtures/expected/node-docker20-local-proto"
cp "$out/container.log" "$work/data/containers/$id/local-logs/container.log"

export TZ=UTC
new_cases "$out"
case_ plain logs lg-local
case_ t logs -t lg-local
case_ tail2 logs -t --tail 2 lg-local
stop_dockerd "$work/dockerd.pid"
echo "made $out/"
