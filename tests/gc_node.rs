//! `coldctr gc` (containerd 2.x rules) and `du` on a seized Docker 28.5 / containerd 2.1.9 node
//! (`fixtures/node-docker28-dev.tar.gz`) against what containerd 2.1.9's own startup collection
//! removed from a copy of that disk (`fixtures/expected/node-docker28-dev/gc-real.json` and
//! `gc-real-details.json`; see the README there).
//!
//! The tar is unpacked at run time into a temp dir (only `var/lib/containerd`). As root, with
//! xattrs and modes, as the README says. Unprivileged, tar cannot make device nodes: those (the
//! two real char devices 1,3 in a container's upper dir, and on kernels before 5.8 the 0/0
//! whiteouts as well) are skipped, and the `trusted.overlay.*` xattrs are not restored. The
//! collector reads neither (it reads meta.db, the snapshotter's metadata.db and directory
//! listings), so the comparison is the same; the test prints what it skipped.

mod bolt_support;
mod docker28_node;

use bolt_support::{coldctr, repo};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

type Set = BTreeSet<String>;

/// An unpacked copy of the node's containerd root; made writable again before it is removed
/// (the snapshots' `work/work` dirs are mode 000).
struct Node {
    dir: tempfile::TempDir,
}

impl Node {
    fn root(&self) -> PathBuf {
        self.dir.path().join("var/lib/containerd")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        fn open_up(p: &Path) {
            use std::os::unix::fs::PermissionsExt;
            let Ok(m) = std::fs::symlink_metadata(p) else {
                return;
            };
            if m.is_dir() {
                let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755));
                if let Ok(entries) = std::fs::read_dir(p) {
                    for e in entries.flatten() {
                        open_up(&e.path());
                    }
                }
            }
        }
        open_up(self.dir.path());
    }
}

fn unpack() -> Node {
    let dir = tempfile::tempdir().expect("tempdir");
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let out = docker28_node::unpack_as_root_can(dir.path(), &["./var/lib/containerd"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if root {
        assert!(out.status.success(), "tar as root: {stderr}");
    } else {
        // Only device nodes may fail, and only them.
        let skipped: Vec<&str> = stderr.lines().filter(|l| l.contains("Cannot mknod")).collect();
        let other: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.contains("Cannot mknod") && !l.contains("Exiting with failure status"))
            .collect();
        assert!(other.is_empty(), "unprivileged tar: {stderr}");
        assert!(out.status.success() || !skipped.is_empty(), "tar: {stderr}");
        for s in &skipped {
            eprintln!("not root, skipped: {s}");
        }
    }
    let node = Node { dir };
    assert!(
        node.root().join("io.containerd.metadata.v1.bolt/meta.db").is_file(),
        "the tar holds no containerd root"
    );
    node
}

fn expected(name: &str) -> Value {
    let path = repo().join("fixtures/expected/node-docker28-dev").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// `fields` of every object in `v`, joined by spaces.
fn set(v: &Value, fields: &[&str]) -> Set {
    arr(v)
        .iter()
        .map(|o| {
            fields
                .iter()
                .map(|f| match &o[*f] {
                    Value::String(x) => x.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn run_json(root: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--root".to_string(), root.display().to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    let run = coldctr(&all);
    // An intact node: nothing is damaged input.
    assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
    serde_json::from_slice(&run.stdout).expect("JSON")
}

#[test]
fn gc_removes_what_containerd_2_1_removed_from_the_seized_node() {
    let node = unpack();
    let real = expected("gc-real.json");
    let details = expected("gc-real-details.json");
    // The collection read the clock when it started: the lease lab-expiring had expired.
    let at = s(&details["gc_started_at"]).to_string();
    assert!(!at.is_empty());
    let ours = run_json(&node.root(), &["gc", "--at", &at, "--format", "json"]);
    // meta.db version 4: containerd 2.0/2.1's rules, chosen without --model.
    assert!(s(&ours["model"]).contains("2.0/2.1"), "{}", ours["model"]);

    let content = ["namespace", "digest", "size"];
    assert_eq!(set(&ours["content"], &content), set(&real["content"], &content));
    let files = ["digest", "size"];
    assert_eq!(set(&ours["blobFiles"], &files), set(&real["blobFiles"], &files));
    let leases = ["namespace", "id"];
    assert_eq!(set(&ours["leases"], &leases), set(&real["leases"], &leases));
    let snaps = ["snapshotter", "key"];
    assert_eq!(set(&ours["snapshots"], &snaps), set(&real["snapshots"], &snaps));
    let snaps_ns = ["namespace", "snapshotter", "key"];
    assert_eq!(
        set(&ours["snapshots"], &snaps_ns),
        set(&details["snapshots"], &snaps_ns)
    );
    // Nothing else went: no image, no ingest.
    assert!(arr(&ours["images"]).is_empty() && arr(&details["images"]).is_empty());
    assert!(arr(&ours["ingests"]).is_empty() && arr(&details["ingests"]).is_empty());
    // The snapshotter removed the same backend records (containerd's log names them)...
    let backend: Set = arr(&ours["backendSnapshots"])
        .iter()
        .map(|b| s(&b["key"]).to_string())
        .collect();
    let logged: Set = arr(&details["containerd_log"]["removed_snapshots"])
        .iter()
        .map(|k| s(k).to_string())
        .collect();
    assert_eq!(backend, logged);
    // ...and every path that disappeared from the disk, nothing more.
    let mut paths: Set = arr(&ours["blobFiles"])
        .iter()
        .map(|f| format!("io.containerd.content.v1.content/{}", s(&f["path"])))
        .collect();
    paths.extend(arr(&ours["snapshotDirs"]).iter().map(|d| {
        format!(
            "io.containerd.snapshotter.v1.{}/snapshots/{}",
            s(&d["snapshotter"]),
            s(&d["id"])
        )
    }));
    paths.extend(
        arr(&ours["ingestDirs"])
            .iter()
            .map(|d| format!("io.containerd.content.v1.content/ingest/{}", s(&d["dir"]))),
    );
    let removed: Set = arr(&details["paths_removed"])
        .iter()
        .map(|p| s(p).to_string())
        .collect();
    assert_eq!(paths, removed);
    // Not vacuous: the reference removed something of every kind compared above.
    assert!(!removed.is_empty() && !logged.is_empty());
    for k in ["content", "blobFiles", "leases", "snapshots"] {
        assert!(!arr(&real[k]).is_empty(), "gc-real.json has no {k}");
    }
    // The answer depends on that lease's expiry, and says so.
    let expire = s(&details["leases"][0]["labels"])
        .split(',')
        .find_map(|l| l.strip_prefix("containerd.io/gc.expire="))
        .expect("lab-expiring has an expiry");
    assert_eq!(s(&ours["clock"]["sameResultFrom"]), expire);
}

#[test]
fn du_holds_nothing_but_what_containerd_2_1_removed() {
    let node = unpack();
    let real = expected("gc-real.json");
    let details = expected("gc-real-details.json");
    let at = s(&details["gc_started_at"]).to_string();
    let ours = run_json(&node.root(), &["du", "--at", &at, "--format", "json"]);
    for ns in arr(&ours["namespaces"]) {
        let name = s(&ns["namespace"]);
        let removed: Vec<&Value> = arr(&real["content"])
            .iter()
            .filter(|c| s(&c["namespace"]) == name)
            .collect();
        let bytes: u64 = removed.iter().filter_map(|c| c["size"].as_u64()).sum();
        assert_eq!(
            ns["held"]["nothing"]["count"].as_u64(),
            Some(removed.len() as u64),
            "{name}"
        );
        assert_eq!(ns["held"]["nothing"]["bytes"].as_u64(), Some(bytes), "{name}");
    }
    // Blob files held by nothing (no orphans here) are the files the collector deleted.
    let d = &ours["disk"];
    let files = arr(&real["blobFiles"]);
    let bytes: u64 = files.iter().filter_map(|f| f["size"].as_u64()).sum();
    assert_eq!(d["orphanFiles"]["count"].as_u64(), Some(0));
    assert_eq!(d["held"]["nothing"]["count"].as_u64(), Some(files.len() as u64));
    assert_eq!(d["held"]["nothing"]["bytes"].as_u64(), Some(bytes));
}
