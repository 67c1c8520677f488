#!/usr/bin/env python3
"""Captures what the real docker CLI prints for `docker image inspect --format TEMPLATE REF...`.

There is no daemon: a tiny HTTP server on a unix socket answers the CLI with the bodies dockerd
28.5.2 returned for GET /images/{name}/json (fixtures/expected/docker-28.5/raw/*__v1.51.json).
Template formatting is done by the CLI, client-side, so its output is what the CLI prints
against the real daemon. Writes fixtures/expected/docker-28.5/templates/cases.json.

Usage: tools/capture-templates/capture.py [/path/to/docker]     (default /usr/local/bin/docker)
"""
import glob
import http.server
import json
import os
import socketserver
import subprocess
import sys
import tempfile
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EXPECTED = os.path.join(REPO, "fixtures/expected/docker-28.5")
OUT = os.path.join(EXPECTED, "templates/cases.json")
CASES = os.path.join(HERE, "cases.json")

BODIES = []  # (parsed, raw bytes)
for path in sorted(glob.glob(os.path.join(EXPECTED, "raw/sha256-*__v1.51.json"))):
    raw = open(path, "rb").read()
    BODIES.append((json.loads(raw), raw))


def resolve(ref):
    """The body dockerd returned for this reference (the refs used here are in familiar form)."""
    last = ref.rsplit("/", 1)[-1]
    if "@" not in ref and ":" not in last and not all(c in "0123456789abcdef" for c in ref):
        ref += ":latest"
    for body, raw in BODIES:
        if ref in (body.get("RepoTags") or []) or ref in (body.get("RepoDigests") or []):
            return raw
        hexid = body["Id"].split(":", 1)[1]
        short = ref[len("sha256:"):] if ref.startswith("sha256:") else ref
        if len(short) >= 4 and hexid.startswith(short):
            return raw
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Api-Version", "1.51")
        self.send_header("Docker-Experimental", "false")
        self.send_header("Ostype", "linux")
        self.send_header("Server", "Docker/28.5.2 (linux)")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = urllib.parse.urlparse(self.path).path
        parts = path.split("/", 2)
        if len(parts) == 3 and parts[1].startswith("v1."):
            path = "/" + parts[2]
        if path == "/_ping":
            return self.reply(200, b"OK", "text/plain; charset=utf-8")
        if path.startswith("/images/") and path.endswith("/json"):
            name = urllib.parse.unquote(path[len("/images/"):-len("/json")])
            raw = resolve(name)
            if raw is None:
                msg = json.dumps({"message": "No such image: " + name}) + "\n"
                return self.reply(404, msg.encode())
            return self.reply(200, raw + b"\n")
        self.reply(404, b'{"message":"page not found"}\n')


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        conn, _ = super().get_request()
        return conn, ("local", 0)


def main():
    docker = sys.argv[1] if len(sys.argv) > 1 else "/usr/local/bin/docker"
    cases = json.load(open(CASES))
    tmp = tempfile.mkdtemp()
    sock = os.path.join(tmp, "docker.sock")
    server = Server(sock, Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": tmp,
        "DOCKER_CONFIG": os.path.join(tmp, "config"),
        "DOCKER_HOST": "unix://" + sock,
    }
    version = subprocess.run([docker, "--version"], capture_output=True, env=env, text=True)
    out = {"docker": version.stdout.strip(), "cases": []}
    for case in cases:
        argv = ["docker", "image", "inspect", "--format", case["format"]] + case["refs"]
        res = subprocess.run([docker] + argv[1:], capture_output=True, env=env)
        out["cases"].append({
            "name": case["name"],
            "argv": argv,
            "stdout": res.stdout.decode(),
            "stderr": res.stderr.decode(),
            "exit_code": res.returncode,
        })
    server.shutdown()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{len(out['cases'])} cases written to {os.path.relpath(OUT, REPO)}")


if __name__ == "__main__":
    main()
