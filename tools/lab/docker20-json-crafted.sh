#!/bin/bash
# Remakes the captures of crafted json-file logs: for each DIR given (a directory under
# fixtures/expected/ holding `container-json.log` and `args.tsv`), what a real dockerd 20.10's
# `docker logs` prints of that file put in place of a stopped container's log. Each line of
# DIR/args.tsv is a case's name, then docker's arguments (after `docker`), a tab between each;
# the captures go to DIR/<name>.out and DIR/<name>.err, and DIR/cases.tsv (name, exit code,
# arguments), as tools/lab/docker20-json-go.sh makes them. dockerd reads the file as it is each
# time; the container only gives it a json-file log to read. Run as root, on a host with
# Debian's Docker package 20.10, as tools/lab/docker20-logs.sh runs.
#
#   tools/lab/docker20-json-crafted.sh WORK DIR...   (WORK: an empty directory, not on overlayfs)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(cd "${1:?usage: $0 WORK DIR...}" && pwd)
shift
[ $# -gt 0 ] || { echo "usage: $0 WORK DIR..." >&2; exit 2; }
DOCKERD_NS=f10
. "$here/tools/lab/dockerd-private.sh"
lab_container lg-json
export TZ=UTC
for dir in "$@"; do
  new_cases "$(cd "$dir" && pwd)"
  cp "$cases/container-json.log" "$work/data/containers/$id/$id-json.log"
  while IFS=$'\t' read -r -a argv; do
    [ "${#argv[@]}" -gt 0 ] || continue
    case_ "${argv[@]}"
  done <"$cases/args.tsv"
  echo "made $cases/"
done
stop_dockerd "$work/dockerd.pid"
