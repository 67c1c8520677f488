#!/bin/bash
# Remakes fixtures/node-docker20-overlay2.tar.gz and fixtures/expected/node-docker20-overlay2/:
# a Docker data root made by a real dockerd 20.10 on its overlay2 graph driver (no containerd
# image store), with what dockerd itself said of its containers. Run as root, on a host with
# Debian's docker.io 20.10 (/usr/sbin/dockerd, containerd, runc); nothing of the host's own
# Docker is touched: the daemon runs in a mount namespace of its own, with tmpfs over /run and
# /etc/docker, its data and exec roots in WORK, no network set up.
#
#   tools/lab/docker20-overlay2.sh WORK     (WORK: an empty directory, not on overlayfs)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(cd "${1:?usage: $0 WORK}" && pwd)
mkdir -p "$work/data" "$work/exec"
# Debian's docker.io CLI (20.10), not another docker on PATH: the captures are what it prints.
docker() { "${DOCKER_CLI:-/usr/bin/docker}" "$@"; }
# start_dockerd DATA EXEC SOCK PIDFILE: a private dockerd on DATA, until `stop_dockerd PIDFILE`.
start_dockerd() {
  unshare -m --propagation private bash -c "
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /etc/docker
exec dockerd --data-root '$1' --exec-root '$2' --pidfile '$4' \
  -H 'unix://$3' --iptables=false --ip6tables=false --bridge=none --storage-driver=overlay2 \
  --containerd-namespace f2 --containerd-plugins-namespace f2p" >>"$work/dockerd.log" 2>&1 &
  export DOCKER_HOST="unix://$3"
  for _ in $(seq 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
}
stop_dockerd() {
  kill "$(cat "$1")"
  while [ -e "$1" ]; do sleep 1; done
}
start_dockerd "$work/data" "$work/exec" "$work/docker.sock" "$work/dockerd.pid"
ns_pid=$(cat "$work/dockerd.pid")

docker load -i "$here/fixtures/docker-save/save-lab_committed_1.tar"
I=lab/committed:1
# Adds, changes (content, mode, owner) and deletes files and directories: whiteouts (a file, a
# directory), opaque directories (a directory removed and made again), odd names, a hard
# link, symlinks, a FIFO, an mtime of 0, a file named like a whiteout.
docker run --name o2-fs --network none $I sh -c '
rm /etc/os-release; rm -rf /new/deep; rm "/name with spaces.txt"
rm -rf /opt/app; mkdir -p /opt/app; echo fresh > /opt/app/fresh
rm -rf /data; mkdir /data; echo only > /data/only
echo over > /added.txt; chmod 600 /etc/group; chown 1:1 /etc/debian_version
echo x > /newfile; ln /newfile /newfile.hl; ln -s /newfile /newfile.sl; ln -s ../nowhere /dangling2
mkdir -p "/dir with space/ünï"; echo u > "/dir with space/ünï/ファイル name.txt"
printf "a\nb" > "/nl
name"; echo tab > "/t	ab"; mkfifo /fifo2; touch -d @0 /epoch
mkdir -p /var/log/app/sub && echo log > /var/log/app/sub/l
touch /opt/.wh.fake; echo done'
# Created, never started: its rw layer exists, empty.
docker create --name o2-created --network none $I echo never
# Running while its mount is read from dockerd's namespace, then stopped.
docker run -d --name o2-run --network none $I sh -c 'echo run > /runfile; exec sleep 100000'
sleep 2
out="$work/expected"; mkdir -p "$out"
nsenter -t "$ns_pid" -m grep ' overlay ' /proc/mounts > "$out/o2-run.proc-mounts.txt"
for c in o2-fs o2-created o2-run; do
  docker diff $c > "$out/$c.diff.txt"
  docker export $c | TZ=UTC LC_ALL=C tar --numeric-owner --full-time -tvf - > "$out/$c.export.tv"
done
docker stop -t 1 o2-run
# Images beside the loaded one: a commit of o2-fs (a child image: its parent is
# lab/committed:1) under three names, a commit of the untouched o2-created (an empty layer and
# no name: dangling), and lab/committed:1 pulled from a registry on the loopback under another
# name (a repo digest; the same config, so the same image).
docker commit -a 'O2 Lab <o2@example.com>' -m 'o2-fs changes' -c 'LABEL org.example.commit=o2-fs' \
  o2-fs lab/o2-fs:committed
docker tag lab/o2-fs:committed lab/o2-fs:latest
docker tag lab/o2-fs:committed example.org:5000/team/o2:v1
docker commit o2-created
python3 "$here/tools/lab/tiny-registry.py" "$here/fixtures/docker-save/save-lab_committed_1.tar" \
  5741 lab/pulled 1 >"$work/registry.out" &
registry=$!
sleep 2
docker pull localhost:5741/lab/pulled:1
kill "$registry"
stop_dockerd "$work/dockerd.pid"

# What coldctr needs of the data root (the rest is stripped to keep the fixture small):
# containerd/daemon's meta.db (the --root) and content store (the manifest the pull kept there),
# containers/, image/overlay2/, overlay2/.
mkdir "$work/stage"; cp -a "$work/data" "$work/stage/docker"
cd "$work/stage/docker"
rm -rf buildkit network plugins runtimes swarm tmp trust volumes containerd/daemon/io.containerd.content.v1.content/ingest \
  containerd/daemon/io.containerd.runtime.v1.linux containerd/daemon/io.containerd.runtime.v2.task \
  containerd/daemon/io.containerd.snapshotter.v1.* containerd/daemon/tmpmounts
cd "$work/stage"
tar --xattrs --xattrs-include='*' --numeric-owner --sort=name -czf "$work/node-docker20-overlay2.tar.gz" docker

# What dockerd says of its images, asked of a dockerd on a copy of the fixture as packed (the
# CLI's ages, "2 hours ago", against this clock; times in UTC). Each case is a line of
# images/cases.tsv: its name, docker's exit code, then docker's arguments, a tab between each;
# images/<name>.out and .err are its stdout and stderr.
# The copy takes the data root's own path, so that the paths dockerd prints (GraphDriver.Data)
# are under the data root the containers' records name.
mkdir -p "$work/check" "$work/exec2" "$out/images"
tar --xattrs --xattrs-include='*' -xpzf "$work/node-docker20-overlay2.tar.gz" -C "$work/check"
rm -rf "$work/data"; mv "$work/check/docker" "$work/data"
start_dockerd "$work/data" "$work/exec2" "$work/docker2.sock" "$work/dockerd2.pid"
export TZ=UTC
id=$(docker image inspect -f '{{.Id}}' lab/committed:1); hex=${id#sha256:}
child=$(docker image inspect -f '{{.Id}}' lab/o2-fs:committed)
dangling=$(docker images -q --no-trunc --filter dangling=true); dangling=${dangling#sha256:}
pulled=$(head -1 "$work/registry.out")
: >"$out/images/cases.tsv"
case_() {
  local name=$1; shift
  local rc=0
  docker "$@" >"$out/images/$name.out" 2>"$out/images/$name.err" || rc=$?
  (IFS=$'\t'; echo "$name	$rc	$*") >>"$out/images/cases.tsv"
}
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
stop_dockerd "$work/dockerd2.pid"
echo "made $work/node-docker20-overlay2.tar.gz and $out/"
