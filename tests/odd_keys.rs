//! Record keys holding a backslash or a byte that is not UTF-8, named by the values of other
//! records: a container's snapshot key, a snapshot's parent and backend name, a content
//! record's `containerd.io/gc.ref.snapshot.*` label. containerd compares the bytes, so each
//! value meets the key it names; so must every command (a key is shown escaped, `\\` and
//! `\xNN`, and the values naming it must be read the same way, or they never meet).
//!
//! The store is made at run time with the crate's own bbolt builder: a committed snapshot
//! `P` (the odd key), an active one on it held by container `ctr1`, and a committed snapshot
//! `G` (odd too) held only by a gc.ref label of a `gc.root` content record.

use coldctr::bolt::build::{Tree, build};
use std::path::Path;
use std::process::{Command, Output};

/// A Go `time.Time` in its binary form (version 1, UTC): 2023-11-14T22:13:20Z.
fn time() -> Vec<u8> {
    let mut t = vec![1u8];
    t.extend_from_slice(&(1_700_000_000i64 + 62_135_596_800).to_be_bytes());
    t.extend_from_slice(&0i32.to_be_bytes());
    t.extend_from_slice(&(-1i16).to_be_bytes());
    t
}

/// Writes a containerd root at `root` whose odd keys are `parent` and `held`.
fn store(root: &Path, parent: &[u8], held: &[u8]) {
    let (active, digest) = (b"child".as_slice(), format!("sha256:{}", "a".repeat(64)));
    let backend = |id: u8, key: &[u8]| [b"default/".as_slice(), &[b'0' + id], b"/", key].concat();
    let mut meta = Tree::new();
    meta.bucket(&[b"v1"]).put(b"version", &[6]);
    let snapshots: &[&[u8]] = &[b"v1", b"default", b"snapshots", b"overlayfs"];
    for (id, key, parent_key) in [(1, parent, None), (2, active, Some(parent)), (3, held, None)] {
        let s = meta.bucket(&[snapshots, &[key][..]].concat());
        s.put(b"name", &backend(id, key));
        if let Some(p) = parent_key {
            s.put(b"parent", p);
        }
        s.put(b"createdat", &time());
        s.put(b"updatedat", &time());
    }
    let c = meta.bucket(&[b"v1", b"default", b"containers", b"ctr1"]);
    c.put(b"snapshotter", b"overlayfs");
    c.put(b"snapshotKey", active);
    c.put(b"createdat", &time());
    c.put(b"updatedat", &time());
    meta.bucket(&[b"v1", b"default", b"containers", b"ctr1", b"runtime"])
        .put(b"name", b"io.containerd.runc.v2");
    let blob: &[&[u8]] = &[b"v1", b"default", b"content", b"blob", digest.as_bytes()];
    let b = meta.bucket(blob);
    b.put(b"size", &[4]); // varint 2
    b.put(b"createdat", &time());
    b.put(b"updatedat", &time());
    let labels = meta.bucket(&[blob, &[b"labels"]].concat());
    labels.put(b"containerd.io/gc.root", b"x");
    labels.put(b"containerd.io/gc.ref.snapshot.overlayfs", held);

    let mut backends = Tree::new();
    for (id, key, kind, parent_key) in [
        (1u8, parent, 3u8, None),
        (2, active, 2, Some(parent)),
        (3, held, 3, None),
    ] {
        let s = backends.bucket(&[b"v1".as_slice(), b"snapshots", &backend(id, key)]);
        s.put(b"id", &[id]);
        s.put(b"kind", &[kind]);
        s.put(b"createdat", &time());
        s.put(b"updatedat", &time());
        if let Some(p) = parent_key {
            s.put(b"parent", &backend(1, p));
            backends
                .bucket(&[b"v1".as_slice(), b"parents"])
                .put(&[1, 0, id], &backend(id, key));
        }
    }

    let bolt = root.join("io.containerd.metadata.v1.bolt");
    let overlay = root.join("io.containerd.snapshotter.v1.overlayfs");
    std::fs::create_dir_all(&bolt).expect("mkdir");
    std::fs::write(bolt.join("meta.db"), build(&meta)).expect("meta.db");
    for id in 1..=3 {
        std::fs::create_dir_all(overlay.join(format!("snapshots/{id}/fs"))).expect("mkdir");
    }
    std::fs::create_dir_all(overlay.join("snapshots/2/work")).expect("mkdir");
    std::fs::write(overlay.join("snapshots/1/fs/hello"), "hi\n").expect("file");
    std::fs::write(overlay.join("metadata.db"), build(&backends)).expect("metadata.db");
    let blobs = root.join("io.containerd.content.v1.content/blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("mkdir");
    std::fs::write(blobs.join("a".repeat(64)), "{}").expect("blob");
}

fn coldctr(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .expect("run coldctr")
}

/// `key_shown`: the odd parent key as every table shows it (`key_name`: `\\`, `\xNN`).
fn check(parent: &[u8], held: &[u8], key_shown: &str) {
    let tmp = tempfile::tempdir().expect("tmp");
    store(tmp.path(), parent, held);
    let shown = |o: &Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };

    // containerd's collector removes nothing here: every snapshot is held.
    let gc = coldctr(tmp.path(), &["gc", "--format", "json"]);
    assert_eq!(gc.status.code(), Some(0), "{}", shown(&gc));
    let report: serde_json::Value = serde_json::from_slice(&gc.stdout).expect("gc json");
    for list in [
        &report["snapshots"],
        &report["snapshotDirs"],
        &report["backendSnapshots"],
        &report["pending"]["snapshotDirs"],
        &report["pending"]["backendSnapshots"],
    ] {
        assert_eq!(
            list.as_array().map(Vec::len),
            Some(0),
            "gc would remove a snapshot: {report}"
        );
    }

    // The container's chain resolves: its lower is the odd parent, whose file is there.
    let ls = coldctr(tmp.path(), &["fs", "ls", "ctr1:/"]);
    assert_eq!(ls.status.code(), Some(0), "{}", shown(&ls));
    assert!(String::from_utf8_lossy(&ls.stdout).contains("hello"), "{}", shown(&ls));
    let mounts = coldctr(tmp.path(), &["mounts", "ctr1"]);
    assert_eq!(mounts.status.code(), Some(0), "{}", shown(&mounts));
    assert!(
        String::from_utf8_lossy(&mounts.stdout).contains("snapshots/1/fs"),
        "{}",
        shown(&mounts)
    );

    // Both tables show the key once escaped, the same way.
    for args in [&["snapshots"][..], &["snapshots", "tree"]] {
        let o = coldctr(tmp.path(), args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", shown(&o));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            stdout.lines().any(|l| l.split_whitespace().any(|w| w == key_shown)),
            "{args:?} does not show {key_shown}: {stdout}"
        );
    }

    // Every snapshot record has its backend record.
    let snapshots = coldctr(tmp.path(), &["snapshots", "--format", "json"]);
    assert_eq!(snapshots.status.code(), Some(0), "{}", shown(&snapshots));
    assert!(
        !String::from_utf8_lossy(&snapshots.stdout).contains("no-backend-record"),
        "{}",
        shown(&snapshots)
    );
}

#[test]
fn keys_with_a_backslash_are_met_by_the_values_naming_them() {
    check(b"p\\q", b"g\\h", r"p\\q");
}

#[test]
fn keys_with_bytes_that_are_not_utf8_are_met_by_the_values_naming_them() {
    check(b"p\xffq", b"g\xfeh", r"p\xffq");
}
