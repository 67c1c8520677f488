#!/usr/bin/env bash
# Builds the seed corpora from the fixtures (the corpora themselves are not committed):
#   corpus/bolt_walk/  every distinct fixture DB whole, cut at its high-water mark, and its
#                      16, 32 and 64 KiB prefixes (1 MiB inputs are slow for libFuzzer, so run
#                      with -max_len=1100000 to keep the whole ones)
#   corpus/carve/      the bolt_walk seeds (whole files, cut at the hwm, prefixes)
#   corpus/salvage_view/  the same, plus the gc scenario's meta.db after containerd's collection
#   corpus/gc_store/   the salvage_view seeds (each loaded as a root's meta.db, as gc loads it)
#   corpus/values/     Go binary times, varints, an Any and a few schema-shaped inputs
#   corpus/template/   the --format templates captured from the docker CLI
#   corpus/names/      image names and references from the fixtures' expectations, platforms
#   corpus/archive_index/  the image archives of fixtures/oci-dev/archives (tars, one gzip'd;
#                      the largest is 123 KiB, so run with -max_len=131072)
#   corpus/archive_inspect/  the same archives (written to a file and inspected)
#   corpus/layout_docs/  each layout of fixtures/oci-dev/layouts: oci-layout, index.json and its
#                      blobs under 16 KiB, joined by \0\0
#   corpus/layout_inspect/  the same cut of each layout (written to disk and inspected)
#   corpus/overlay/    the layer-stack op lists kept under fixtures/fuzz/overlay/
#   corpus/layer_tar/  the layer tars kept under fixtures/fuzz/layer_tar/
#   corpus/local_log/  the local driver's files of node-docker20-logs (rotated ones inflated),
#                      plus the hand-made inputs kept under fixtures/fuzz/local_log/
#   corpus/docker_container/, cri_status/, gojson/, graph_store/, graph_images/  only the inputs kept under fixtures/fuzz/
#                      (their seeds are committed there: config.v2.json + hostconfig.json of
#                      node-docker28-dev's containers, and one of them with every field of a
#                      typed list, StrSlice or unsigned type set, the CRI status files of cri-k8s with
#                      hand-made metadata extensions, JSON edge cases)
# plus every regression input under fixtures/fuzz/<target>/.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FIX="$HERE/../fixtures"
B="$HERE/corpus/bolt_walk"
V="$HERE/corpus/values"
T="$HERE/corpus/template"
N="$HERE/corpus/names"
mkdir -p "$B" "$V" "$T" "$N"
i=0
for ref in docker.io/library/webapp:1.0 lab/special:1.0 'registry.example.com:5000/team/webapp@sha256:1405e102bbab4dc94942f087a84294adb1fba75d24bb86c3aa1a7f593fcbeb1a' linux/arm/v7 'labels."k"==v' 'reference=lab/*'; do
  printf '%s\n%s' "$ref" "$ref" > "$N/seed-$i"; i=$((i + 1))
done
for db in "$FIX"/*/io.containerd.metadata.v1.bolt/meta.db "$FIX"/*/io.containerd.snapshotter.v1.overlayfs/metadata.db; do
  fixture="$(basename "$(dirname "$(dirname "$db")")")"
  name="$fixture.$(basename "$db" .db)"
  cp "$db" "$B/$name.full"; chmod 0644 "$B/$name.full"
  # hwm of meta 0 (little-endian u64 at file offset 56 of a 4096-byte-page file)
  hwm="$(od -An -tu8 -j56 -N8 "$db" | tr -d ' ')"
  head -c $((hwm * 4096)) "$db" > "$B/$name.hwm"
  for k in 16 32 64; do head -c $((k * 1024)) "$db" > "$B/$name.${k}k"; done
done
# Identical fixture files collapse to one seed.
(cd "$B" && md5sum -- * | sort | awk 'seen[$1]++ { print $2 }' | xargs -r rm -f --)
# values: Go time v1 (UTC) and v2, varints, an Any, schema-shaped "v1\xffsnapshots\xffk\xffkind\xff\x03".
printf '\x01\x00\x00\x00\x0e\xe2\x9b\xb8\x8a\x0f\x36\x5c\xb9\xff\xff' > "$V/time-v1"
printf '\x02\x00\x00\x00\x0e\xe2\x9b\xb8\x8a\x0f\x36\x5c\xb9\x00\x3c\x1e' > "$V/time-v2"
printf '\xfe\xad\xba\x03' > "$V/varint"
printf '\x0a\x03a/b\x12\x02{}' > "$V/any"
printf 'v1\xffsnapshots\xffk\xffkind\xff\x03' > "$V/kind"
printf 'v1\xffparents\xff\x01\x00\x02\xffx' > "$V/parents"
printf 'v1\xffversion\xff\x06' > "$V/version"
printf 'a\x1b[2J\xe2\x80\xae\xff' > "$V/escape"
python3 - "$FIX/expected/docker-28.5/templates/cases.json" "$T" <<'PY'
import json, sys
for i, c in enumerate(json.load(open(sys.argv[1]))["cases"]):
    open(f"{sys.argv[2]}/{i:02d}-{c['name']}", "w").write(c["argv"][4])
PY
mkdir -p "$HERE/corpus/carve"
cp "$B"/* "$HERE/corpus/carve/"
mkdir -p "$HERE/corpus/salvage_view"
cp "$B"/* "$HERE/corpus/salvage_view/"
cp "$HERE/../tests/data/gc-scenario/after-gc-2026-12-01.meta.db" "$HERE/corpus/salvage_view/gc-scenario.after-gc"
mkdir -p "$HERE/corpus/gc_store"
cp "$HERE"/corpus/salvage_view/* "$HERE/corpus/gc_store/"
mkdir -p "$HERE/corpus/archive_index"
cp "$FIX"/oci-dev/archives/* "$HERE/corpus/archive_index/"
chmod 0644 "$HERE"/corpus/archive_index/*
mkdir -p "$HERE/corpus/archive_inspect"
cp "$FIX"/oci-dev/archives/* "$HERE/corpus/archive_inspect/"
mkdir -p "$HERE/corpus/layout_docs" "$HERE/corpus/layout_inspect"
python3 - "$FIX/oci-dev/layouts" "$HERE/corpus/layout_docs" "$HERE/corpus/layout_inspect" <<'PY'
import os, sys
src, dsts = sys.argv[1], sys.argv[2:]
for name in sorted(os.listdir(src)) if os.path.isdir(src) else []:
    d = os.path.join(src, name)
    parts = []
    for f in ("oci-layout", "index.json"):
        p = os.path.join(d, f)
        parts.append(open(p, "rb").read() if os.path.isfile(p) else b"")
    blobs = os.path.join(d, "blobs", "sha256")
    for b in sorted(os.listdir(blobs)) if os.path.isdir(blobs) else []:
        p = os.path.join(blobs, b)
        if os.path.isfile(p) and not os.path.islink(p) and os.path.getsize(p) < 16384:
            parts.append(open(p, "rb").read())
    for dst in dsts:
        open(os.path.join(dst, name), "wb").write(b"\0\0".join(parts))
PY
# overlay: op lists (see harness.rs `overlay`); the hand-made regression inputs are the seeds.
mkdir -p "$HERE/corpus/overlay" "$HERE/corpus/layer_tar"
mkdir -p "$HERE/corpus/docker_container" "$HERE/corpus/cri_status" "$HERE/corpus/gojson" "$HERE/corpus/graph_store" "$HERE/corpus/graph_images"
# local_log: every local-format file of the dockerd 20.10 logs fixture, inflated.
L="$HERE/corpus/local_log"
mkdir -p "$L"
tmp="$(mktemp -d)"
tar -xzf "$FIX/node-docker20-logs.tar.gz" -C "$tmp"
i=0
find "$tmp" \( -path '*/local-logs/*' -o -name 'container-cached.log*' \) -type f | sort | while read -r f; do
  case "$f" in
    *.gz) gzip -dc "$f" > "$L/fixture-$i" ;;
    *) cp "$f" "$L/fixture-$i" ;;
  esac
  i=$((i + 1))
done
rm -rf "$tmp"
# media_type: the JSON blobs (manifests, indexes, configs) of the fixtures' content stores.
mkdir -p "$HERE/corpus/media_type"
find "$FIX" -path '*/blobs/sha256/*' -type f -size -16k 2>/dev/null | while read -r f; do
  head -c 1 "$f" | grep -q '{' && cp "$f" "$HERE/corpus/media_type/"
done
for t in bolt_walk carve salvage_view gc_store values template names filters archive_index archive_inspect layout_docs layout_inspect overlay layer_tar docker_container cri_status gojson media_type graph_store graph_images local_log; do
  [ -d "$FIX/fuzz/$t" ] && find "$FIX/fuzz/$t" -type f -exec cp {} "$HERE/corpus/$t/" \;
done
echo "seeds: $(ls "$B" | wc -l) bolt_walk ($(du -sh "$B" | cut -f1)), $(ls "$HERE/corpus/carve" | wc -l) carve, $(ls "$HERE/corpus/salvage_view" | wc -l) salvage_view, $(ls "$HERE/corpus/gc_store" | wc -l) gc_store, $(ls "$V" | wc -l) values, $(ls "$T" | wc -l) template, $(ls "$N" | wc -l) names, $(ls "$HERE/corpus/archive_index" | wc -l) archive_index, $(ls "$HERE/corpus/archive_inspect" | wc -l) archive_inspect, $(ls "$HERE/corpus/layout_docs" | wc -l) layout_docs, $(ls "$HERE/corpus/layout_inspect" | wc -l) layout_inspect, $(ls "$HERE/corpus/overlay" | wc -l) overlay, $(ls "$HERE/corpus/layer_tar" | wc -l) layer_tar, $(ls "$HERE/corpus/docker_container" | wc -l) docker_container, $(ls "$HERE/corpus/cri_status" | wc -l) cri_status, $(ls "$HERE/corpus/gojson" | wc -l) gojson, $(ls "$HERE/corpus/media_type" | wc -l) media_type, $(ls "$HERE/corpus/graph_store" | wc -l) graph_store, $(ls "$HERE/corpus/graph_images" | wc -l) graph_images, $(ls "$HERE/corpus/local_log" | wc -l) local_log"
