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
# docker, start_dockerd, stop_dockerd: a private dockerd and Debian's 20.10 CLI.
. "$here/tools/lab/dockerd-private.sh"
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

# What dockerd says of its images: tools/lab/docker20-overlay2-captures.sh (re-runnable alone).
"$here/tools/lab/docker20-overlay2-captures.sh" "$work"
echo "made $work/node-docker20-overlay2.tar.gz and $out/"
