# Sourced by the tools/lab/docker20-*.sh scripts (needs $work): a private dockerd 20.10 and
# Debian's docker CLI. Nothing of the host's own Docker is touched: the daemon runs in a mount
# namespace of its own, with tmpfs over /run and /etc/docker, its data and exec roots where the
# caller says, no network set up. DOCKERD_NS names its containerd namespace (default f2).

# Debian's docker.io CLI (20.10), not another docker on PATH: the captures are what it prints.
docker() { "${DOCKER_CLI:-/usr/bin/docker}" "$@"; }
# start_dockerd DATA EXEC SOCK PIDFILE: a private dockerd on DATA, until `stop_dockerd PIDFILE`.
start_dockerd() {
  unshare -m --propagation private bash -c "
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /etc/docker
exec dockerd --data-root '$1' --exec-root '$2' --pidfile '$4' \
  -H 'unix://$3' --iptables=false --ip6tables=false --bridge=none --storage-driver=overlay2 \
  --containerd-namespace ${DOCKERD_NS:-f2} --containerd-plugins-namespace ${DOCKERD_NS:-f2}p" >>"$work/dockerd.log" 2>&1 &
  export DOCKER_HOST="unix://$3"
  for _ in $(seq 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
}
stop_dockerd() {
  kill "$(cat "$1")"
  while [ -e "$1" ]; do sleep 1; done
}
# case_ NAME ARGS...: one capture into $cases (a directory): docker ARGS' stdout and stderr as
# NAME.out and NAME.err, and a line of $cases/cases.tsv: NAME, docker's exit code, then ARGS,
# a tab between each.
case_() {
  local name=$1; shift
  local rc=0
  docker "$@" >"$cases/$name.out" 2>"$cases/$name.err" || rc=$?
  (IFS=$'\t'; echo "$name	$rc	$*") >>"$cases/cases.tsv"
}
# lab_container NAME [DOCKER RUN OPTIONS...]: the private dockerd started on $work (its data,
# exec root, socket and pid file there), lab/committed:1 loaded from the fixtures ($here), and
# container NAME run from it (`true`: it stops at once, leaving a log for dockerd to read); its
# ID in $id. The captures of crafted logs put their file in place of NAME's.
lab_container() {
  local name=$1; shift
  mkdir -p "$work/data" "$work/exec"
  start_dockerd "$work/data" "$work/exec" "$work/docker.sock" "$work/dockerd.pid"
  docker load -i "$here/fixtures/docker-save/save-lab_committed_1.tar"
  docker run --name "$name" --network none "$@" lab/committed:1 true
  id=$(docker inspect -f '{{.Id}}' "$name")
}
# new_cases DIR: captures go to DIR (as $cases), those there before removed.
new_cases() {
  cases=$1
  rm -f "$cases"/*.out "$cases"/*.err
  : >"$cases/cases.tsv"
}
