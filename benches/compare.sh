#!/usr/bin/env bash
# Whole-process timings of two coldctr binaries on one store, interleaved run by run, min and
# median of RUNS runs each, and the ratio of the minima. BASE=<binary> [NEW=...] [ROOT=...] [RUNS=N].
BASE=${BASE:?the baseline binary, e.g. a release build of an earlier commit}
NEW=${NEW:-target/release/coldctr}
ROOT=${ROOT:-/tmp/big}
RUNS=${RUNS:-5}
t() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
for cmd in "content --format json" "images --format json" "gc --format json" "du --format json" "verify --format json" "-n moby inspect gen/app00001:v0"; do
  b=(); n=()
  for i in $(seq $RUNS); do
    b+=($(t $BASE --root $ROOT --host-platform linux/amd64 $cmd))
    n+=($(t $NEW --root $ROOT --host-platform linux/amd64 $cmd))
  done
  bs=$(printf '%s\n' "${b[@]}" | sort -n | head -1); ns=$(printf '%s\n' "${n[@]}" | sort -n | head -1)
  bm=$(printf '%s\n' "${b[@]}" | sort -n | sed -n "$(( (RUNS+1)/2 ))p"); nm=$(printf '%s\n' "${n[@]}" | sort -n | sed -n "$(( (RUNS+1)/2 ))p")
  printf '%-36s base min %6d ms med %6d ms | now min %6d ms med %6d ms | now/base (min) %.2f\n' "$cmd" "$bs" "$bm" "$ns" "$nm" "$(echo "$ns / $bs" | bc -l)"
done
