#!/bin/bash
# Remakes fixtures/node-docker20-logs.tar.gz and fixtures/expected/node-docker20-logs/: the
# containers of a real dockerd 20.10 logging through the `local` driver (rotated and
# compressed, and not), through gelf with dual logging's cache (and with the cache disabled),
# and through json-file with attrs, with what `docker logs` printed of each. Run as root, on a
# host with Debian's docker.io 20.10 (/usr/sbin/dockerd, containerd, runc); nothing of the
# host's own Docker is touched: the daemon runs in a mount namespace of its own, with tmpfs
# over /run and /etc/docker, its data and exec roots in WORK, no network set up (gelf's UDP
# datagrams go to 127.0.0.1:12201, where nothing listens: UDP needs no listener).
#
#   tools/lab/docker20-logs.sh WORK     (WORK: an empty directory, not on overlayfs)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(cd "${1:?usage: $0 WORK}" && pwd)
mkdir -p "$work/data" "$work/exec"
# docker, start_dockerd, stop_dockerd: a private dockerd and Debian's 20.10 CLI (containerd
# namespace f3, as the fixture was made).
DOCKERD_NS=f3
. "$here/tools/lab/dockerd-private.sh"
start_dockerd "$work/data" "$work/exec" "$work/docker.sock" "$work/dockerd.pid"

docker load -i "$here/fixtures/docker-save/save-lab_committed_1.tar"
I=lab/committed:1
# What every container writes (busybox sh): both streams, a second apart so that --since and
# --until can fall between entries; UTF-8, a byte that is not, and control characters (ESC,
# CR, BEL); a line of 20,000 bytes, which the copier cuts at 16 KiB into partial messages; an
# empty line; and a last line without its newline.
script='
echo "first line on stdout"
echo "first line on stderr" >&2
sleep 1
printf "caf\303\251 \346\227\245\346\234\254 tab\there bell\007 esc\033[31mred\033[0m cr\rend\n"
printf "\377\376 not utf-8\n" >&2
sleep 1
head -c 20000 /dev/zero | tr "\000" a; echo
sleep 1
echo
echo "last line on stderr" >&2
sleep 1
printf "no trailing newline"'
# Many short lines a tenth of a second apart, so that a small max-size rotates them.
rotating='for i in $(seq 1 60); do echo "line $i of 60, padded to be some forty bytes"; [ $((i % 10)) = 0 ] && echo "err $i" >&2; sleep 0.1; done'
docker run --name lg-local --network none --log-driver local $I sh -c "$script" || true
docker run --name lg-rot --network none --log-driver local --log-opt max-size=1k --log-opt max-file=3 \
  $I sh -c "$rotating" || true
docker run --name lg-rot-plain --network none --log-driver local --log-opt max-size=1k --log-opt max-file=4 \
  --log-opt compress=false $I sh -c "$rotating" || true
# Something listening where gelf sends: a datagram to a closed port on the loopback comes back
# as ECONNREFUSED on the next send, and dual logging caches no message whose send failed.
python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 12201))
while True:
    s.recv(65536)' &
gelf_sink=$!
sleep 1
docker run --name lg-gelf --network none --log-driver gelf --log-opt gelf-address=udp://127.0.0.1:12201 \
  $I sh -c "$script" || true
docker run --name lg-gelf-nocache --network none --log-driver gelf \
  --log-opt gelf-address=udp://127.0.0.1:12201 --log-opt cache-disabled=true $I sh -c "$script" || true
kill "$gelf_sink"
# json-file with attrs: two labels (a value that needs query escaping) and an env var.
docker run --name lg-json --network none --label team=blue --label 'note=a b&c=d/é' -e APP_ENV=prod \
  --log-opt labels=team,note --log-opt env=APP_ENV $I sh -c "$script" || true
docker run --name lg-json-rot --network none --log-opt max-size=1k --log-opt max-file=3 \
  --log-opt compress=true $I sh -c "$rotating" || true
# Compression runs after rotation, in the background: let it finish before packing.
sleep 3

# What coldctr needs: dockerd's containerd meta.db (the --root), each container's
# config.v2.json, hostconfig.json and log files, its rw layer's record in the layer store
# (image/overlay2/layerdb/mounts/<id>/) and, of the overlay2 driver's layers, only what ties
# them together (link, lower, an empty diff/, the l/ symlinks): without them the store reads as
# damaged. Packed before docker logs runs: reading a compressed file makes a decompressed
# `.gz.tmp` beside it for a while.
out="$here/fixtures/expected/node-docker20-logs"
rm -rf "$out"; mkdir -p "$out"
(cd "$work/data" && {
  find containerd/daemon/io.containerd.metadata.v1.bolt/meta.db containers image/overlay2/layerdb/mounts \
    \( -name config.v2.json -o -name hostconfig.json -o -name meta.db -o -name '*.log' -o -name '*.log.*' \
    -o -path '*/layerdb/mounts/*/*' \) -print0
  find overlay2 -mindepth 2 -maxdepth 2 \( -name link -o -name lower -o -name diff -o -path 'overlay2/l/*' \) -print0
} | sort -z | tar --no-recursion --null --numeric-owner --owner=0 --group=0 --transform 's,^,docker/,S' \
  -czf "$here/fixtures/node-docker20-logs.tar.gz" -T -)

# What docker logs printed. Each case is a line of cases.tsv: its name, docker's exit code,
# then docker's arguments, a tab between each; <name>.out and .err are its stdout and stderr.
# The absolute times are picked from the entries' own: one entry's time exactly (since and
# until include it), and halfway between two.
export TZ=UTC
: >"$out/cases.tsv"
cases="$out"
# time_of CONTAINER N: the recorded time of the Nth distinct time in its log (1: the first).
time_of() { docker logs -t "$1" 2>&1 | cut -d' ' -f1 | grep -E '^[0-9]{4}-' | sort -u | sed -n "$2p"; }
# halfway A B: the RFC 3339 time halfway between two.
halfway() {
  python3 -c '
import sys,datetime
def ns(t):
    d,f=t.rstrip("Z").split(".")
    return int(datetime.datetime.fromisoformat(d).replace(tzinfo=datetime.timezone.utc).timestamp())*10**9+int(f.ljust(9,"0"))
m=(ns(sys.argv[1])+ns(sys.argv[2]))//2
print(datetime.datetime.fromtimestamp(m//10**9,datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")+".%09dZ"%(m%10**9))' "$1" "$2"
}
unix_of() {
  python3 -c '
import sys,datetime
d,f=sys.argv[1].rstrip("Z").split(".")
print("%d.%s"%(datetime.datetime.fromisoformat(d).replace(tzinfo=datetime.timezone.utc).timestamp(),f))' "$1"
}
for c in lg-local lg-rot lg-rot-plain lg-gelf lg-json lg-json-rot; do
  t2=$(time_of $c 2); t3=$(time_of $c 3); t4=$(time_of $c 4)
  mid23=$(halfway "$t2" "$t3")
  case_ $c-plain logs $c
  case_ $c-t logs -t $c
  case_ $c-tail3 logs -t --tail 3 $c
  case_ $c-tail0 logs --tail 0 $c
  case_ $c-details logs --details $c
  case_ $c-t-details logs -t --details $c
  case_ $c-since-exact logs -t --since "$t2" $c
  case_ $c-since-mid logs -t --since "$mid23" $c
  case_ $c-until-exact logs -t --until "$t3" $c
  case_ $c-until-mid logs -t --until "$mid23" $c
  case_ $c-since-until logs -t --since "$t2" --until "$t4" $c
  case_ $c-since-unix logs -t --since "$(unix_of "$t3")" $c
  case_ $c-since-mid-tail2 logs -t --since "$mid23" --tail 2 $c
  case_ $c-tail4-until logs -t --tail 4 --until "$t2" $c
  case_ $c-since-10y logs --since 87600h $c
  t40=$(time_of $c 40)
  [ -n "$t40" ] && case_ $c-since-late logs -t --since "$t40" $c
done
case_ lg-gelf-nocache-plain logs lg-gelf-nocache
case_ lg-local-since-bad logs --since yesterday lg-local
case_ lg-local-until-bad logs --until 2026-13-01 lg-local
stop_dockerd "$work/dockerd.pid"
echo "made $here/fixtures/node-docker20-logs.tar.gz and $out/"
