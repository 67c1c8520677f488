#!/bin/bash
# Remakes the captures in fixtures/expected/node-docker20-json-go/: what a real dockerd 20.10's
# `docker logs` prints of a json-file log holding lines Go's encoding/json reads though they
# are not what the driver writes (keys in another case, duplicate keys, no log, no time, null
# values, invalid UTF-8 and lone surrogate escapes): container-json.log there, put in place of
# a stopped container's log. dockerd reads the file as it is each time; the container only
# gives it a json-file log to read. Run as root, on a host with Debian's Docker package 20.10, as
# tools/lab/docker20-logs.sh runs.
#
#   tools/lab/docker20-json-go.sh WORK     (WORK: an empty directory, not on overlayfs)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(cd "${1:?usage: $0 WORK}" && pwd)
DOCKERD_NS=f9
. "$here/tools/lab/dockerd-private.sh"
lab_container lg-json
out="$here/fixtures/expected/node-docker20-json-go"
cp "$out/container-json.log" "$work/data/containers/$id/$id-json.log"

export TZ=UTC
new_cases "$out"
case_ plain logs lg-json
case_ t logs -t lg-json
case_ details logs --details lg-json
case_ t-details logs -t --details lg-json
case_ tail3 logs -t --tail 3 lg-json
case_ tail20 logs -t --tail 20 lg-json
# --since falls after both entries without a time: dockerd 20.10 drops every entry before
# --since, dockerd 23 and later only those before the first that is not.
case_ since logs -t --since 2026-12-05T09:33:27Z lg-json
# --until admits an entry without a time (the zero time is before any --until).
case_ until logs -t --until 2026-12-05T09:33:22Z lg-json
stop_dockerd "$work/dockerd.pid"
echo "made $out/"
