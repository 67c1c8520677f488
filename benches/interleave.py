#!/usr/bin/env python3
"""Whole-process timings of several builds, interleaved run by run (the order reversed every
other round), each process spawned directly: no shell's start-up in the numbers, which matters
for commands of ~10 ms. Prints min, first quartile and median per build, in ms.

    benches/interleave.py 150 'BIN --root /tmp/big -n moby inspect docker.io/gen/app00002:v0' \
        /tmp/base/coldctr target/release/coldctr
"""
import shlex
import subprocess
import sys
import time

runs, command, builds = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
times = {b: [] for b in builds}
for r in range(runs):
    for b in builds if r % 2 == 0 else builds[::-1]:
        args = shlex.split(command.replace("BIN", b))
        start = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times[b].append((time.perf_counter() - start) * 1000)
for b in builds:
    v = sorted(times[b])
    print(f"{b}: min {v[0]:.1f} p25 {v[len(v) // 4]:.1f} median {v[len(v) // 2]:.1f} ms")
