#!/usr/bin/env bash
# An OCI archive holding one image with a layer of SIZE_MB MiB of random bytes (default 2048),
# written to OUT (default /tmp/big-archive.tar), to measure that reading an archive in place
# keeps memory bounded: `/usr/bin/time -v coldctr --root OUT verify --layers`.
set -euo pipefail
SIZE_MB="${SIZE_MB:-2048}"
OUT="${OUT:-/tmp/big-archive.tar}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/l/blobs/sha256" "$work/t"
# The layer is a tar (so --layers can compute its diff ID) of one random file.
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom > "$work/t/data"
tar -C "$work/t" -cf "$work/layer.tar" data
rm "$work/t/data"
layer="$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
size="$(stat -c %s "$work/layer.tar")"
mv "$work/layer.tar" "$work/l/blobs/sha256/$layer"
config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$layer\"]}}"
cd_=$(printf '%s' "$config" | sha256sum | cut -d' ' -f1)
printf '%s' "$config" > "$work/l/blobs/sha256/$cd_"
manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$cd_\",\"size\":${#config}},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$layer\",\"size\":$size}]}"
md=$(printf '%s' "$manifest" | sha256sum | cut -d' ' -f1)
printf '%s' "$manifest" > "$work/l/blobs/sha256/$md"
printf '{"imageLayoutVersion":"1.0.0"}' > "$work/l/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"big"}}]}' "$md" "${#manifest}" > "$work/l/index.json"
tar -C "$work/l" -cf "$OUT" oci-layout index.json blobs
ls -l "$OUT"
