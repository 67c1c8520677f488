#!/usr/bin/env python3
"""A read-only registry (distribution API v2, plain HTTP) serving one image of a docker-save
archive as a Docker schema-2 manifest, so that a dockerd pulls it: `docker pull
localhost:PORT/NAME:TAG`. Only for the lab (docker20-overlay2.sh), on the loopback.

    tiny-registry.py ARCHIVE PORT NAME TAG

The archive's layers are served as they are when gzip, gzipped here otherwise (mtime 0); its
config as it is, so the image pulled has the archive image's ID. Prints the manifest's digest.
"""
import gzip
import hashlib
import json
import sys
import tarfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

archive, port, name, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with tarfile.open(archive) as t:
    entry = json.load(t.extractfile("manifest.json"))[0]
    config = t.extractfile(entry["Config"]).read()
    raw_layers = [t.extractfile(p).read() for p in entry["Layers"]]


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


blobs = {sha(config): config}
layers = []
for raw in raw_layers:
    blob = raw if raw[:2] == b"\x1f\x8b" else gzip.compress(raw, mtime=0)
    blobs[sha(blob)] = blob
    layers.append({
        "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "size": len(blob),
        "digest": sha(blob),
    })
manifest = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {
        "mediaType": "application/vnd.docker.container.image.v1+json",
        "size": len(config),
        "digest": sha(config),
    },
    "layers": layers,
}, indent=3).encode()
manifest_digest = sha(manifest)
print(manifest_digest, flush=True)


class Handler(BaseHTTPRequestHandler):
    def answer(self, body):
        path = self.path
        kind, content = None, None
        if path == "/v2/":
            kind, content = "application/json", b"{}"
        elif path in (f"/v2/{name}/manifests/{tag}", f"/v2/{name}/manifests/{manifest_digest}"):
            kind, content = "application/vnd.docker.distribution.manifest.v2+json", manifest
        elif path.startswith(f"/v2/{name}/blobs/") and path.rsplit("/", 1)[1] in blobs:
            kind, content = "application/octet-stream", blobs[path.rsplit("/", 1)[1]]
        if content is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(content)))
        if path != "/v2/":
            self.send_header("Docker-Content-Digest", sha(content))
        self.end_headers()
        if body:
            self.wfile.write(content)

    def do_GET(self):
        self.answer(True)

    def do_HEAD(self):
        self.answer(False)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
