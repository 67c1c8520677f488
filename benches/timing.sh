# Shell helpers the whole-process benches share (sourced, not run).
#
# ms CMD...: the wall time of CMD in milliseconds, its output discarded.
ms() { local s e; s=$(date +%s%N); "$@" > /dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
# min_median: the minimum and the median of the numbers on stdin (one per line or space
# separated), as "MIN MEDIAN".
min_median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {printf "%d %d", a[1], a[int((NR+1)/2)]}'; }
