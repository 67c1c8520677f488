#!/bin/bash
# Remakes fixtures/expected/node-docker20-overlay2/images/: what a real dockerd 20.10 says of
# the images of fixtures/node-docker20-overlay2.tar.gz (inspect, history, images and its
# filters), asked of a private dockerd started on a copy of the fixture as packed. Run as root
# (Debian's docker.io 20.10); docker20-overlay2.sh runs it after making the fixture.
#
#   tools/lab/docker20-overlay2-captures.sh WORK [FIXTURE]
#
# WORK is the directory the fixture was made in (/tmp/g-lab for the committed one): the copy
# takes the data root's own path, WORK/data, so that the paths dockerd prints
# (GraphDriver.Data) are under the data root the containers' records name. FIXTURE defaults to
# WORK/node-docker20-overlay2.tar.gz, else the committed one. Writes WORK/expected/images/.
#
# The CLI's ages ("2 hours ago") are against this clock; times in UTC. Each case is a line of
# images/cases.tsv: its name, docker's exit code, then docker's arguments, a tab between each;
# images/<name>.out and .err are its stdout and stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:?usage: $0 WORK [FIXTURE]}
mkdir -p "$work"; work=$(cd "$work" && pwd)
fixture=${2:-$work/node-docker20-overlay2.tar.gz}
[ -e "$fixture" ] || fixture="$here/fixtures/node-docker20-overlay2.tar.gz"
out="$work/expected"
. "$here/tools/lab/dockerd-private.sh"

rm -rf "$work/check" "$work/data" "$work/exec2"
mkdir -p "$work/check" "$work/exec2" "$out/images"
tar --xattrs --xattrs-include='*' -xpzf "$fixture" -C "$work/check"
mv "$work/check/docker" "$work/data"
start_dockerd "$work/data" "$work/exec2" "$work/docker2.sock" "$work/dockerd2.pid"
export TZ=UTC
id=$(docker image inspect -f '{{.Id}}' lab/committed:1); hex=${id#sha256:}
child=$(docker image inspect -f '{{.Id}}' lab/o2-fs:committed)
dangling=$(docker images -q --no-trunc --filter dangling=true); dangling=${dangling#sha256:}
pulled=$(docker image inspect -f '{{index .RepoDigests 0}}' localhost:5741/lab/pulled:1); pulled=${pulled#*@}
: >"$out/images/cases.tsv"
cases="$out/images"
case_ inspect-tag image inspect lab/committed:1
case_ inspect-docker-io image inspect docker.io/lab/committed:1
case_ inspect-full-id image inspect "$id"
case_ inspect-hex-id image inspect "$hex"
case_ inspect-short-id image inspect "${hex:0:12}"
case_ inspect-short-sha256 image inspect "sha256:${hex:0:12}"
case_ inspect-prefix image inspect "${hex:0:5}"
case_ inspect-child image inspect lab/o2-fs:committed
case_ inspect-child-latest image inspect lab/o2-fs
case_ inspect-child-registry image inspect example.org:5000/team/o2:v1
case_ inspect-pulled-tag image inspect localhost:5741/lab/pulled:1
case_ inspect-pulled-digest image inspect "localhost:5741/lab/pulled@$pulled"
case_ inspect-pulled-tag-digest image inspect "localhost:5741/lab/pulled:9@$pulled"
case_ inspect-dangling image inspect "$dangling"
case_ inspect-missing image inspect nosuch:1
case_ inspect-missing-latest image inspect lab/committed
case_ inspect-missing-digest image inspect "lab/committed@$pulled"
case_ inspect-several image inspect lab/committed:1 nosuch lab/o2-fs:latest "${dangling:0:12}"
case_ inspect-template image inspect -f '{{.Id}} {{.Parent}} {{.Size}} {{.RepoTags}} {{.Metadata.LastTagTime}}' \
  lab/o2-fs "$dangling"
case_ history-tag history --no-trunc lab/committed:1
case_ history-tag-json history --format '{{json .}}' lab/committed:1
case_ history-child history --no-trunc "${child#sha256:}"
case_ history-child-json history --format '{{json .}}' lab/o2-fs:committed
case_ history-child-trunc history lab/o2-fs:committed
case_ history-child-raw history -H=false --no-trunc lab/o2-fs:committed
case_ history-dangling history --no-trunc "$dangling"
case_ history-dangling-json history --format '{{json .}}' "$dangling"
case_ history-missing history nosuch:1
case_ images images
case_ images-no-trunc images --no-trunc
case_ images-digests images --digests
case_ images-all images -a
case_ images-json images --format '{{json .}}'
# The filters dockerd 20.10's `Images` takes (label, before, since, dangling, reference), alone
# and together, and ones it refuses.
case_ images-label images --filter label=org.example.commit
case_ images-label-value images --filter label=org.example.commit=o2-fs
case_ images-label-other-value images --filter label=org.example.commit=other
case_ images-label-and images --filter label=org.example.commit --filter label=nosuch
case_ images-label-not images --filter 'label!=org.example.commit'
case_ images-since images --filter since=lab/committed:1
case_ images-since-all images -a --filter "since=${hex:0:12}"
case_ images-since-child images --filter since=lab/o2-fs:committed
case_ images-before images --filter before=lab/o2-fs:committed
case_ images-before-dangling images --digests --filter "before=$dangling"
case_ images-before-label images --filter "before=$dangling" --filter label=org.example.commit
case_ images-since-reference images --filter 'reference=lab/*' --filter since=lab/committed:1
case_ images-since-missing images --filter since=nosuch
case_ images-before-missing images --filter before=nosuch:1
case_ images-dangling-one images --filter dangling=1
case_ images-dangling-false images --filter dangling=false
case_ images-until images --filter until=1h
case_ images-reference-bad images --filter 'reference=['
case_ images-since-upper images --filter since=UPPER
stop_dockerd "$work/dockerd2.pid"
echo "made $out/images/"
