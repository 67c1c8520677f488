#!/usr/bin/env bash
# A short fuzzing pass for CI: seeds the corpora from the fixtures and the kept regression
# inputs, then runs each target for FUZZ_SECONDS (default 30) seconds. Exits non-zero when a
# target crashes, hangs (-timeout) or runs out of memory; libFuzzer leaves the input in
# fuzz/artifacts/<target>/. To keep such an input: minimize it
# (cargo +nightly fuzz tmin <target> <file>), copy it to fixtures/fuzz/<target>/, and fix.
#
# Needs a nightly toolchain (rustup) and cargo-fuzz (installed with `cargo install` when missing).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SECS="${FUZZ_SECONDS:-30}"
cd "$HERE"
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "ci-smoke.sh: no nightly toolchain (cargo fuzz needs one): rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
./seed-corpus.sh
# Leaks that are not coldctr's (fuzz/lsan.supp says which and why).
export LSAN_OPTIONS="suppressions=$HERE/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
cargo +nightly fuzz build
status=0
# bolt_walk: whole fixture DBs are 1 MiB; libFuzzer's default max_len would cut them.
cargo +nightly fuzz run bolt_walk -- -max_total_time="$SECS" -max_len=1100000 -timeout=10 \
  -rss_limit_mb=4096 -print_final_stats=1 || status=1
# carve: the same whole-file seeds as bolt_walk.
cargo +nightly fuzz run carve -- -max_total_time="$SECS" -max_len=1100000 -timeout=10 \
  -rss_limit_mb=4096 -print_final_stats=1 || status=1
# salvage_view: the carve seeds, each built into the view --salvage reads.
cargo +nightly fuzz run salvage_view -- -max_total_time="$SECS" -max_len=1100000 -timeout=10 \
  -rss_limit_mb=4096 -print_final_stats=1 || status=1
# gc_store: the salvage_view seeds, each loaded, collected and reported as gc does it.
cargo +nightly fuzz run gc_store -- -max_total_time="$SECS" -max_len=1100000 -timeout=10 \
  -rss_limit_mb=4096 -print_final_stats=1 || status=1
cargo +nightly fuzz run values -- -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 || status=1
# template: templates are short; the dictionary-free fuzzer still finds {{ and }} quickly.
cargo +nightly fuzz run template -- -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
  -max_len=4096 -print_final_stats=1 || status=1
cargo +nightly fuzz run names -- -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
  -max_len=1024 -print_final_stats=1 || status=1
# filters: containerd filters of every listing and Go regexps (a pattern line, then filters).
cargo +nightly fuzz run filters -- -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
  -max_len=1024 -print_final_stats=1 || status=1
# archive_index: whole image archives as seeds (the largest is 123 KiB).
cargo +nightly fuzz run archive_index -- -max_total_time="$SECS" -max_len=131072 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 || status=1
# archive_inspect: the same archives written to a file, opened as --root opens it and inspected.
cargo +nightly fuzz run archive_inspect -- -max_total_time="$SECS" -max_len=131072 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 || status=1
# layout_docs: oci-layout, index.json and blobs joined by \0\0 (seeds from the layout fixtures).
cargo +nightly fuzz run layout_docs -- -max_total_time="$SECS" -max_len=65536 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 || status=1
# layout_inspect: the layout_docs cut, written to disk as a layout whose images are inspected
# (slower per run).
cargo +nightly fuzz run layout_inspect -- -max_total_time="$SECS" -max_len=65536 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 || status=1
# overlay: builds layer stacks on disk per input (slower per run); inputs are op lists.
cargo +nightly fuzz run overlay -- -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
  -max_len=512 -print_final_stats=1 || status=1
# layer_tar: the layer-tar reader of fs export --from-blobs.
cargo +nightly fuzz run layer_tar -- -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 || status=1
# docker_container: config.v2.json, hostconfig.json and repositories.json joined by \0\0 (seeds
# from fixtures/fuzz/docker_container, each about 5 KiB).
cargo +nightly fuzz run docker_container -- -max_total_time="$SECS" -max_len=16384 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 || status=1
# cri_status: a CRI status file, metadata extensions (protobuf Any) and a spec, joined by \0\0.
cargo +nightly fuzz run cri_status -- -max_total_time="$SECS" -max_len=4096 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 || status=1
# gojson: JSON text whose reading must round-trip.
cargo +nightly fuzz run gojson -- -max_total_time="$SECS" -max_len=4096 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 || status=1
# media_type: manifests and indexes against a whole-document reading (seeds: fixture blobs).
cargo +nightly fuzz run media_type -- -max_total_time="$SECS" -max_len=16384 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 || status=1
# graph_store: a graph driver's layer and image stores written to disk per input (slower per run).
cargo +nightly fuzz run graph_store -- -max_total_time="$SECS" -max_len=4096 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 || status=1
# graph_images: dockerd's graph-driver image store written to disk per input, read as inspect,
# history and images read it (slower per run).
cargo +nightly fuzz run graph_images -- -max_total_time="$SECS" -max_len=16384 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 || status=1
# local_log: local-driver files (the fixture's largest is 20 KiB: a 16 KiB partial message and
# its rest), and --since/--until values.
cargo +nightly fuzz run local_log -- -max_total_time="$SECS" -max_len=32768 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 || status=1
exit "$status"
