#!/bin/bash
# Remakes the captures in fixtures/expected/node-docker20-cli28-times/: what docker 28's CLI
# (GetTimestamp, built with Go 1.24) and a real dockerd 20.10 (ParseTimestamps, time.Unix: the
# same code in dockerd 28) make of --since and --until values at the edges: zone offsets out
# of Go's range, Unix seconds near 2^63 (time.Unix wraps), Go's zero time; and the words of
# its errors for values it refuses. container-json.log there is put in place of a stopped
# json-file container's log. Run as root, on a host with Debian's Docker package 20.10 and
# docker 28's CLI (DOCKER28, default /usr/local/bin/docker), as tools/lab/docker20-logs.sh runs.
#
#   tools/lab/docker20-cli28-times.sh WORK     (WORK: an empty directory, not on overlayfs)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(cd "${1:?usage: $0 WORK}" && pwd)
DOCKERD_NS=f9
. "$here/tools/lab/dockerd-private.sh"
lab_container lg-json
out="$here/fixtures/expected/node-docker20-cli28-times"
cp "$out/container-json.log" "$work/data/containers/$id/$id-json.log"

# The cases run docker 28's CLI against this dockerd (API version negotiated).
DOCKER_CLI=${DOCKER28:-/usr/local/bin/docker}
"$DOCKER_CLI" version --format '{{.Client.Version}} {{.Client.GoVersion}}' | grep -q '^28\.'
export TZ=UTC
new_cases "$out"
n=0
for flag in since until; do
  for v in 2026-12-05T09:33:16+25:00 2026-12-05T09:33:16+23:61 2026-12-05T09:33:16+24:00 \
    2026-12-05T10:33:16-00:60 2026-12-05T09:33:16.5+24:60 2026-12-05T09:33:16.5+24:61 2026-12-05+25:00 \
    2026-12-06T09+24:00 9223372036854775807 9223372036854775807.999999999 9223371974719179007 \
    9223371974719179008 -9223372036854775808 0001-01-01T00:00:00Z 0001-01-01T00:00:00.000000001Z \
    0000-12-31T23:59:59Z -62135596800 0 1796463196.5 1796463196.4999999999; do
    n=$((n + 1))
    case_ "$flag-$n" logs -t "--$flag=$v" lg-json
  done
done
# Values the CLI refuses, for the words of its error: Go's time.ParseError writes every byte
# past ASCII as \xNN (time.quote), and names what was left where a field that takes a fixed
# number of bytes (the year's 4, the zone's 6) could not be read: the rest after those bytes;
# a value with no '-' gets %q (strconv.Quote) instead.
n=0
for v in "2026-é" 2026-12-05t09:33:16Z 2026-12-05T09:33:16.5+0a:00 "2026-12-05T09:33:16+01:0é" \
  "2026-12-05T09:33:16é1:00Z" "20é6-12-05" 2026-12-05T09:33:16+25:0x 2026-12-05T09:33:16x25:00Z \
  "$(printf '2026-12-05\033"q\\')" "yesterday é" "$(printf 'now\342\200\256')" 2026-12-05T09:33:16+0 "é-1"; do
  n=$((n + 1))
  case_ "bad-$n" logs "--since=$v" lg-json
done
stop_dockerd "$work/dockerd.pid"
echo "made $out/"
