# Sourced by the make.sh beside each fixture here (none is run by the tests): a real containerd
# (Debian's 1.6.20~ds1-1+deb12u3) run as root on its own root, state and socket in the work
# directory $W, with the CRI and the snapshotters these fixtures do not use left out, and its
# collector held off (so that nothing is removed between the steps) unless LAB_GC=on.
#
#   lab_config   writes $W/config.toml
#   lab_start    starts containerd (its pid in PID) and waits until ctr answers; exits if it never does
#   lab_stop     stops it (SIGTERM) and waits for it

lab_config() {
  cat > "$W/config.toml" <<'C'
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
C
  if [ "${LAB_GC:-held}" != on ]; then
    cat >> "$W/config.toml" <<'C'
[plugins."io.containerd.gc.v1.scheduler"]
  pause_threshold = 0.000000001
  deletion_threshold = 0
  mutation_threshold = 100000000
  schedule_delay = "0s"
  startup_delay = "100000h"
C
  fi
}

lab_start() {
  containerd --root "$W/root" --state "$W/state" --address "$W/c.sock" --config "$W/config.toml" >>"$W/log" 2>&1 &
  PID=$!
  for _ in $(seq 50); do
    ctr --address "$W/c.sock" version >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "containerd did not answer: see $W/log" >&2
  exit 1
}

lab_stop() {
  kill -TERM "$PID"
  wait "$PID" 2>/dev/null || true
}
