//! `diff`, `fs` and `mounts` of Docker containers on dockerd's overlay2 graph driver, on a data
//! root a real dockerd 20.10.24 made (`fixtures/node-docker20-overlay2.tar.gz`), against what
//! it printed (`fixtures/expected/node-docker20-overlay2/`: `docker diff`, `docker export` as
//! GNU tar's listing, the driver's mount in `/proc/mounts`); plus damaged copies made at run
//! time. The layers are the driver's dirs, not snapshots: these commands refused every such
//! container before ("the overlay2 snapshotter's metadata.db was not read").
//!
//! The tar is unpacked as root, keeping whiteouts (0/0 devices) and `trusted.overlay.*`
//! xattrs. Unprivileged, tar cannot make them: the tests that read layers then skip and say so
//! (CI runs as root); mount lines and damage found before any layer is read do not need them.

mod bolt_support;

use bolt_support::{Run, coldctr, repo};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const CONTAINERS: [&str; 3] = ["o2-fs", "o2-created", "o2-run"];

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn skip_unless_root(what: &str) -> bool {
    if !is_root() {
        eprintln!("skipped: {what} (not root: whiteouts and opaque xattrs need a root unpack)");
    }
    !is_root()
}

/// Unpacks the fixture into `dir` as its README says (as root: xattrs, devices, modes kept).
fn unpack(dir: &Path) {
    let flags: &[&str] = if is_root() {
        &["--xattrs", "--xattrs-include=*", "-xpzf"]
    } else {
        &["-xzf"]
    };
    let out = Command::new("tar")
        .args(flags)
        .arg(repo().join("fixtures/node-docker20-overlay2.tar.gz"))
        .arg("-C")
        .arg(dir)
        .output()
        .unwrap();
    if is_root() {
        assert!(out.status.success(), "tar: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(
        dir.join("docker/containerd/daemon/io.containerd.metadata.v1.bolt/meta.db")
            .is_file()
    );
}

/// The data root, unpacked once for the tests that only read it.
fn node() -> &'static Path {
    static NODE: OnceLock<PathBuf> = OnceLock::new();
    NODE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("overlay2-graph-node");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        unpack(&dir);
        dir.join("docker")
    })
}

/// `coldctr --root <data root>/containerd/daemon <args>`: dockerd's own containerd root,
/// beside which the Docker data root is found.
fn run_in(docker: &Path, args: &[&str]) -> Run {
    let mut all: Vec<OsString> = vec!["--root".into(), docker.join("containerd/daemon").into()];
    all.extend(args.iter().map(Into::into));
    coldctr(&all)
}

fn run(args: &[&str]) -> Run {
    run_in(node(), args)
}

fn expected(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("fixtures/expected/node-docker20-overlay2").join(name)).unwrap()
}

/// Lines of `text` sorted: docker diff's order is a Go map's, different from run to run.
fn sorted_lines(text: &[u8]) -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    lines.sort();
    lines
}

/// `diff --format json` as docker diff prints it: `<kind> <raw path>` a line.
fn diff_as_docker(container: &str) -> Vec<u8> {
    let r = run(&["diff", "--format", "json", container]);
    assert_eq!(r.code, Some(0), "{container}: {}", r.stderr);
    assert!(r.stderr.is_empty(), "{container}: {}", r.stderr);
    let rows: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let mut out = Vec::new();
    for row in rows.as_array().unwrap() {
        out.extend(row["kind"].as_str().unwrap().as_bytes());
        out.push(b' ');
        match row.get("pathHex") {
            Some(h) => out.extend(hex::decode(h.as_str().unwrap()).unwrap()),
            None => out.extend(row["path"].as_str().unwrap().as_bytes()),
        }
        out.push(b'\n');
    }
    out
}

#[test]
fn diff_equals_docker_diff() {
    if skip_unless_root("overlay2 diff against docker diff") {
        return;
    }
    for c in CONTAINERS {
        assert_eq!(
            sorted_lines(&diff_as_docker(c)),
            sorted_lines(&expected(&format!("{c}.diff.txt"))),
            "{c}"
        );
    }
    // The deletions and the opaque dirs are there, and the init layer's placeholders are not.
    let fs = String::from_utf8(diff_as_docker("o2-fs")).unwrap();
    for line in [
        "D /etc/os-release",
        "D /new/deep",
        "D /opt/app/old",
        "C /opt/app",
        "A /data/only",
    ] {
        assert!(fs.lines().any(|l| l == line), "{line}: {fs}");
    }
    for hidden in ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/.dockerenv", "/dev"] {
        assert!(!fs.lines().any(|l| l.ends_with(hidden)), "{hidden}: {fs}");
    }
    // The table escapes names, by container name or ID prefix alike.
    let table = run(&["diff", "o2-fs"]);
    assert_eq!(table.code, Some(0), "{}", table.stderr);
    assert!(table.stdout_text().lines().any(|l| l == "A /nl\\nname"));
}

/// GNU tar's verbose listing of `tar`, as the capture made it.
fn tvf(tar: &Path) -> Vec<u8> {
    let out = Command::new("tar")
        .args(["--numeric-owner", "--full-time", "-tvf"])
        .arg(tar)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn export_lists_as_docker_export() {
    if skip_unless_root("overlay2 export against docker export") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for c in CONTAINERS {
        let tar = dir.path().join(format!("{c}.tar"));
        let r = run(&["fs", "export", c, "-o", tar.to_str().unwrap()]);
        assert_eq!(r.code, Some(0), "{c}: {}", r.stderr);
        assert!(r.stderr.is_empty(), "{c}: {}", r.stderr);
        // Names, types, modes, owners, sizes, mtimes and link targets, in docker's order.
        assert_eq!(
            String::from_utf8_lossy(&tvf(&tar)),
            String::from_utf8_lossy(&expected(&format!("{c}.export.tv"))),
            "{c}"
        );
    }
}

#[test]
fn ls_and_cat_read_the_merged_tree() {
    if skip_unless_root("overlay2 fs ls and cat") {
        return;
    }
    let cat = |spec: &str| run(&["fs", "cat", spec]);
    let r = cat("o2-fs:/opt/app/fresh");
    assert_eq!(
        (r.code, r.stdout.as_slice()),
        (Some(0), b"fresh\n".as_slice()),
        "{}",
        r.stderr
    );
    // Changed in the rw layer, kept from the image, hidden by a whiteout.
    assert_eq!(cat("o2-fs:/added.txt").stdout, b"over\n");
    assert_eq!(cat("o2-created:/added.txt").stdout, b"added\n");
    let gone = cat("o2-fs:/etc/os-release");
    assert_eq!(gone.code, Some(1), "{}", gone.stderr);
    assert!(cat("o2-created:/etc/os-release").stdout.starts_with(b"PRETTY_NAME="));
    // The rw layer of a stopped container keeps what it wrote.
    assert_eq!(cat("o2-run:/runfile").stdout, b"run\n");

    let names = |spec: &str| -> Vec<String> {
        let r = run(&["fs", "ls", "--format", "json", spec]);
        assert_eq!(r.code, Some(0), "{spec}: {}", r.stderr);
        let rows: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    // Opaque dirs show only what the rw layer has; the image's /opt/app holds `old`.
    assert_eq!(names("o2-fs:/opt/app"), ["fresh"]);
    assert_eq!(names("o2-fs:/data"), ["only"]);
    assert_eq!(names("o2-created:/opt/app"), ["old"]);
    // The init layer is in the stack: its placeholders are in the tree.
    let etc = names("o2-fs:/etc");
    for n in ["hostname", "hosts", "resolv.conf"] {
        assert!(etc.iter().any(|e| e == n), "{n}: {etc:?}");
    }
    assert!(!etc.iter().any(|e| e == "os-release"), "{etc:?}");
    // Each entry says the layer dir it comes from: the rw layer's upper for the new file.
    let r = run(&["fs", "ls", "--format", "json", "o2-fs:/newfile"]);
    let rows: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let layer = rows[0]["layer"].as_str().unwrap();
    let mount_id = std::fs::read_to_string(
        node()
            .join("image/overlay2/layerdb/mounts")
            .join(container_id("o2-fs"))
            .join("mount-id"),
    )
    .unwrap();
    assert!(
        layer.ends_with(&format!("/overlay2/{}/diff", mount_id.trim())),
        "{layer}"
    );
}

/// The full ID of a container of the fixture, from its name.
fn container_id(name: &str) -> String {
    let r = run(&["container", "inspect", "-f", "{{.Id}}", name]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    r.stdout_text().trim().to_string()
}

#[test]
fn mounts_print_the_drivers_mount() {
    // What the kernel listed of the driver's mount of o2-run while it ran: `rw,relatime`
    // added, `index=off` (the module's default) not listed.
    let proc_line = String::from_utf8(expected("o2-run.proc-mounts.txt")).unwrap();
    let fields: Vec<&str> = proc_line.split(' ').collect();
    let options = fields[3].strip_prefix("rw,relatime,").unwrap();
    // The data root dockerd ran with, as the line names it.
    let upper = options.split(",upperdir=").nth(1).unwrap();
    let node_root = &upper[..upper.find("/overlay2/").unwrap()];
    let r = run(&["mounts", "o2-run", "--node-root", node_root]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout_text().trim_end(),
        format!("mount -t overlay overlay /mnt -o index=off,{options}")
    );
    // The dirs `container inspect` derives are the ones the driver mounted.
    let data = run(&[
        "container",
        "inspect",
        "-f",
        "upperdir={{.GraphDriver.Data.UpperDir}},workdir={{.GraphDriver.Data.WorkDir}}",
        "o2-run",
    ]);
    assert_eq!(data.code, Some(0), "{}", data.stderr);
    assert_eq!(data.stdout_text().trim_end(), format!("upperdir={upper}"));
    // By ID prefix, paths under the copy read by default, with --userxattr and a target.
    let id = container_id("o2-run");
    let r = run(&["mounts", &id[..12], "--userxattr", "--target", "/evidence/m"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let home = node().join("overlay2");
    let home = home.to_str().unwrap();
    let line = r.stdout_text();
    assert!(
        line.starts_with(&format!(
            "mount -t overlay overlay /evidence/m -o index=off,userxattr,lowerdir={home}/l/"
        )),
        "{line}"
    );
    // Read-only: the rw layer's diff first, then the same links, no upper, no work dir.
    let ro = run(&["mounts", "o2-run", "--read-only", "--node-root", "/n"]);
    assert_eq!(ro.code, Some(0), "{}", ro.stderr);
    let lowers = options
        .split(",upperdir=")
        .next()
        .unwrap()
        .replace(&format!("{node_root}/"), "/n/");
    let mount_id = upper.split('/').rev().nth(1).unwrap();
    assert_eq!(
        ro.stdout_text().trim_end(),
        format!(
            "mount -t overlay overlay /mnt -o ro,lowerdir=/n/overlay2/{mount_id}/diff:{},index=off",
            lowers.strip_prefix("lowerdir=").unwrap()
        )
    );
    // A node root the line cannot carry is refused (exit 2), as for a snapshot's line.
    let odd = run(&["mounts", "o2-run", "--node-root", "/evidence/a,b"]);
    assert_eq!(odd.code, Some(2), "{}", odd.stderr);
    assert!(odd.stdout.is_empty());
}

#[test]
fn commands_that_need_a_snapshot_say_it_is_the_graph_driver() {
    let r = run(&["snapshots", "tree", "o2-fs"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("on dockerd's overlay2 graph driver"), "{}", r.stderr);
    assert!(!r.stderr.contains("metadata.db"), "{}", r.stderr);
}

/// A fresh unpack of the fixture, for a test to damage.
fn damaged_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::TempDir::new_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    unpack(dir.path());
    let docker = dir.path().join("docker");
    (dir, docker)
}

/// The rw layer dir of container `name` in the data root `docker`, and its `lower` entries.
fn rw_layer(docker: &Path, id: &str) -> (PathBuf, Vec<String>) {
    let mount_id =
        std::fs::read_to_string(docker.join("image/overlay2/layerdb/mounts").join(id).join("mount-id")).unwrap();
    let dir = docker.join("overlay2").join(mount_id.trim());
    let lower = std::fs::read_to_string(dir.join("lower")).unwrap();
    (dir, lower.split(':').map(str::to_string).collect())
}

#[test]
fn a_link_out_of_the_data_root_is_damage_and_not_followed() {
    let id = container_id("o2-fs");
    let (_dir, docker) = damaged_copy();
    let (_, lowers) = rw_layer(&docker, &id);
    // The image's lowest layer's link now leads to the host's /etc.
    let link = docker.join("overlay2").join(lowers.last().unwrap());
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("/etc", &link).unwrap();
    for args in [
        &["diff", "o2-fs"][..],
        &["fs", "cat", "o2-fs:/passwd"],
        &["fs", "ls", "o2-fs:/"],
        &["mounts", "o2-fs"],
        &["mounts", "o2-fs", "--read-only"],
    ] {
        let r = run_in(&docker, args);
        assert_eq!(r.code, Some(3), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout_text());
        assert!(
            r.stderr.contains("/lower: lower ") && r.stderr.contains("does not name a layer"),
            "{args:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn a_missing_mount_id_or_a_symlinked_upper_is_damage() {
    let fs = container_id("o2-fs");
    let run_id = container_id("o2-run");
    let (_dir, docker) = damaged_copy();
    std::fs::remove_file(docker.join("image/overlay2/layerdb/mounts").join(&fs).join("mount-id")).unwrap();
    let r = run_in(&docker, &["diff", "o2-fs"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("/mount-id: not there"), "{}", r.stderr);
    // An upper dir swapped for a symlink (to the host's root) is never read through.
    let (dir, _) = rw_layer(&docker, &run_id);
    let upper = dir.join("diff");
    std::fs::rename(&upper, dir.join("diff.moved")).unwrap();
    std::os::unix::fs::symlink("/", &upper).unwrap();
    for args in [
        &["diff", "o2-run"][..],
        &["fs", "ls", "o2-run:/"],
        &["fs", "export", "o2-run", "-o", "-"],
    ] {
        let r = run_in(&docker, args);
        assert_eq!(r.code, Some(3), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}");
        assert!(
            r.stderr.contains("/diff: a symlink, not followed"),
            "{args:?}: {}",
            r.stderr
        );
    }
    // mounts prints the line for the record, and says what is wrong with it.
    let r = run_in(&docker, &["mounts", "o2-run"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stdout_text()
            .starts_with("mount -t overlay overlay /mnt -o index=off,lowerdir=")
    );
    assert!(r.stderr.contains("/diff: a symlink, not followed"), "{}", r.stderr);
}
