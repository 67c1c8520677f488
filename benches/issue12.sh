#!/usr/bin/env bash
# Whole-process timings for issue 12, all in one session so the ratios hold: this build (NEW),
# a baseline build (BASE) and the Go reference (ORACLE, tools/lab: containerd 1.6's packages)
# on one generated store, interleaved run by run; min and median of RUNS runs, warm cache.
#
#   NEW=target/release/coldctr BASE=/tmp/base/coldctr ORACLE=/tmp/ctrlab/bin/ctroracle \
#   ROOT=/tmp/big RUNS=7 benches/issue12.sh
#   (CMDS="images images_q" runs only those; CG_CMDS likewise for the cgroup part.)
#
# With CGROUP=1 (root, cgroup v1 memory controller) it then runs each command cold (caches
# dropped) inside a 64 MiB memory cgroup and outside, then warm inside it, compares the
# outputs, and stops a run still going after 120 s.
set -u
NEW=${NEW:-target/release/coldctr}
BASE=${BASE:-}
ORACLE=${ORACLE:-/tmp/ctrlab/bin/ctroracle}
ROOT=${ROOT:-/tmp/big}
RUNS=${RUNS:-7}
for ns in k8s.io moby; do
  "$NEW" --root "$ROOT" -n $ns images --all --format json | jq -r '.[].name' > /tmp/issue12-names-$ns
done
ONE=$(sed -n 2p /tmp/issue12-names-moby)

# What each binary runs for a command: c_<name> BINARY.
c_inspect_all() { for ns in k8s.io moby; do "$1" --root "$ROOT" -n $ns inspect $(cat /tmp/issue12-names-$ns); done; }
c_inspect_one() { "$1" --root "$ROOT" -n moby inspect "$ONE"; }
c_content() { "$1" --root "$ROOT" content --format json; }
c_images() { "$1" --root "$ROOT" images --format json; }
# The same listing against the reference doing ctr's work per record (size and platforms).
c_images_ctr() { c_images "$1"; }
# The names alone (`ctr images ls -q`): the records, no analysis.
c_images_q() { "$1" --root "$ROOT" images -q; }
c_du() { "$1" --root "$ROOT" du --format json; }
c_gc() { "$1" --root "$ROOT" gc --format json; }
c_verify() { "$1" --root "$ROOT" verify --format json; }
# Every image record of one namespace (5,000 names) as an OCI archive on stdout.
c_export() { "$1" --root "$ROOT" -n moby export --format oci-archive -o - $(cat /tmp/issue12-names-moby); }
# The reference's counterparts (empty: none).
o_inspect_all() { "$ORACLE" -root "$ROOT" inspect; }
o_content() { "$ORACLE" -root "$ROOT" content; }
o_images() { "$ORACLE" -root "$ROOT" images; }
o_images_q() { "$ORACLE" -root "$ROOT" images; }
o_images_ctr() { "$ORACLE" -root "$ROOT" images-ctr; }
o_du() { "$ORACLE" -root "$ROOT" du; }

. "$(dirname "$0")/timing.sh"
stats() { local a b; read -r a b <<< "$(min_median)"; printf 'min %6d median %6d' "$a" "$b"; }

[ "${TIMINGS:-1}" = 1 ] && echo "store $ROOT, $RUNS runs each, ms"
[ "${TIMINGS:-1}" = 1 ] && for cmd in ${CMDS:-inspect_all inspect_one content images images_q du gc verify export}; do
  n=(); b=(); o=()
  for _ in $(seq "$RUNS"); do
    n+=($(ms c_$cmd "$NEW"))
    [ -n "$BASE" ] && b+=($(ms c_$cmd "$BASE"))
    declare -F o_$cmd >/dev/null && o+=($(ms o_$cmd))
  done
  printf '%-12s new %s' "$cmd" "$(printf '%s\n' "${n[@]}" | stats)"
  [ -n "$BASE" ] && printf ' | base %s' "$(printf '%s\n' "${b[@]}" | stats)"
  [ ${#o[@]} -gt 0 ] && printf ' | go %s' "$(printf '%s\n' "${o[@]}" | stats)"
  echo
done

[ "${CGROUP:-0}" = 1 ] || exit 0
CG=/sys/fs/cgroup/memory/coldctr-bench-$$
mkdir -p "$CG" && echo $((64 << 20)) > "$CG/memory.limit_in_bytes" || exit 1
trap 'rmdir "$CG" 2>/dev/null' EXIT
cold() { sync; echo 3 > /proc/sys/vm/drop_caches; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }
# gc and du print the time they ran ("clock", "at"): those lines are left out of the comparison.
same() { cmp -s <(grep -avE '^ *"(clock|at)": "' "$1") <(grep -avE '^ *"(clock|at)": "' "$2"); }
export -f c_inspect_all c_inspect_one c_content c_images c_images_q c_du c_gc c_verify c_export
export ROOT ONE
echo "cold, 64 MiB cgroup vs no limit, then warm in the cgroup (ms; same = identical stdout)"
# CG_CMDS: the commands (default all); CG_RUNS: how many times each (one run swings by a third).
for cmd in ${CG_CMDS:-inspect_one inspect_all content images images_q du gc verify export}; do
 declare -F "c_$cmd" >/dev/null || { echo "issue12.sh: no command $cmd" >&2; exit 1; }
 for _ in $(seq "${CG_RUNS:-1}"); do
  cold; s=$(date +%s%N); c_$cmd "$NEW" > /tmp/issue12-free.out 2>/dev/null; free=$(( ($(date +%s%N) - s) / 1000000 ))
  cold; s=$(date +%s%N)
  timeout ${CG_TIMEOUT:-120} bash -c "echo \$\$ > $CG/tasks; c_$cmd $NEW" > /tmp/issue12-cg.out 2>/dev/null; rc=$?
  lim=$(( ($(date +%s%N) - s) / 1000000 ))
  same=$(same /tmp/issue12-free.out /tmp/issue12-cg.out && echo same || echo DIFFERENT)
  [ $rc = 124 ] && same="stopped after ${CG_TIMEOUT:-120} s"
  [ $rc = 137 ] && same="killed (out of memory)"
  # Warm: what the cold run left cached, read again inside the limit.
  s=$(date +%s%N)
  timeout ${CG_TIMEOUT:-120} bash -c "echo \$\$ > $CG/tasks; c_$cmd $NEW" > /tmp/issue12-cg.out 2>/dev/null; rc=$?
  warm=$(( ($(date +%s%N) - s) / 1000000 ))
  wsame=$(same /tmp/issue12-free.out /tmp/issue12-cg.out && echo same || echo DIFFERENT)
  [ $rc = 124 ] && wsame="stopped"
  [ $rc = 137 ] && wsame="killed"
  printf '%-12s free %6d ms | 64 MiB %6d ms (%s) | warm 64 MiB %6d ms (%s) | %s x, %s x\n' "$cmd" "$free" \
    "$lim" "$same" "$warm" "$wsame" "$(ratio "$lim" "$free")" "$(ratio "$warm" "$free")"
 done
done
