#!/usr/bin/env bash
# Growth with the store, for issue 12's "4x the images, at most 4.4x the time": inspect of
# every record, `content --format json` and `du --format json` on a store of 5,000 images per
# namespace and one of 20,000 (both from the lab's generator, as in benches/RESULTS.md), the
# two run interleaved command by command so that the machine's drift falls on both; min and
# median ms of RUNS runs each, and the ratios.
#
#   BIN=target/release/coldctr SMALL=/tmp/big LARGE=/tmp/big20k RUNS=9 benches/growth.sh
set -u
BIN=${BIN:-target/release/coldctr}
SMALL=${SMALL:-/tmp/big}
LARGE=${LARGE:-/tmp/big20k}
RUNS=${RUNS:-9}
for root in "$SMALL" "$LARGE"; do
  for ns in k8s.io moby; do
    "$BIN" --root "$root" -n $ns images --all --format json | jq -r '.[].name' > "/tmp/growth-names-${root//\//_}-$ns"
  done
done
inspect_all() { for ns in k8s.io moby; do "$BIN" --root "$1" -n $ns inspect $(cat "/tmp/growth-names-${1//\//_}-$ns"); done; }
content() { "$BIN" --root "$1" content --format json; }
du() { "$BIN" --root "$1" du --format json; }
. "$(dirname "$0")/timing.sh"
declare -A t
for _ in $(seq "$RUNS"); do
  for c in inspect_all content du; do
    t[$c-small]+="$(ms $c "$SMALL") "
    t[$c-large]+="$(ms $c "$LARGE") "
  done
done
for c in inspect_all content du; do
  read -r a1 a2 <<< "$(echo "${t[$c-small]}" | min_median)"
  read -r b1 b2 <<< "$(echo "${t[$c-large]}" | min_median)"
  printf '%-12s small %s / %s  large %s / %s  growth %s (min) %s (median)\n' "$c" "$a1" "$a2" "$b1" "$b2" \
    "$(awk -v a="$a1" -v b="$b1" 'BEGIN { printf "%.2f", b / a }')" \
    "$(awk -v a="$a2" -v b="$b2" 'BEGIN { printf "%.2f", b / a }')"
done
