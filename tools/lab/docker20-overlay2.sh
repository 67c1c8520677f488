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
export DOCKER_HOST="unix://$work/docker.sock"
unshare -m --propagation private bash -c "
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /etc/docker
exec dockerd --data-root '$work/data' --exec-root '$work/exec' --pidfile '$work/dockerd.pid' \
  -H '$DOCKER_HOST' --iptables=false --ip6tables=false --bridge=none --storage-driver=overlay2 \
  --containerd-namespace f2 --containerd-plugins-namespace f2p" >"$work/dockerd.log" 2>&1 &
for _ in $(seq 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
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
kill "$(cat "$work/dockerd.pid")"
while [ -e "$work/dockerd.pid" ]; do sleep 1; done

# What coldctr needs of the data root (the rest is stripped to keep the fixture small):
# containerd/daemon's meta.db (the --root), containers/, image/overlay2/, overlay2/.
mkdir "$work/stage"; cp -a "$work/data" "$work/stage/docker"
cd "$work/stage/docker"
rm -rf buildkit network plugins runtimes swarm tmp trust volumes containerd/daemon/io.containerd.content.v1.content \
  containerd/daemon/io.containerd.runtime.v1.linux containerd/daemon/io.containerd.runtime.v2.task \
  containerd/daemon/io.containerd.snapshotter.v1.* containerd/daemon/tmpmounts
cd "$work/stage"
tar --xattrs --xattrs-include='*' --numeric-owner --sort=name -czf "$work/node-docker20-overlay2.tar.gz" docker
echo "made $work/node-docker20-overlay2.tar.gz and $out/"
