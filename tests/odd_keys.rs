//! Record keys holding a backslash or a byte that is not UTF-8, named by the values of other
//! records: a container's snapshot key, a snapshot's parent and backend name, a content
//! record's `containerd.io/gc.ref.snapshot.*` label. containerd compares the bytes, so each
//! value meets the key it names; so must every command (a key is shown escaped, `\\` and
//! `\xNN`, and the values naming it must be read the same way, or they never meet).
//!
//! The store is made at run time with the crate's own bbolt builder, every odd key holding
//! the same odd part: a committed snapshot `p?q`, an active one on it held by container
//! `ctr1`, a committed `g?h` held only by a gc.ref label of a `gc.root` content record, a
//! committed `l?b` held only by a gc.ref label of `ctr1`, and container `ctr2` naming a
//! snapshot `m?k` that is not recorded.

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

/// `part` between `a` and `b`: an odd key.
fn odd(a: &str, part: &[u8], b: &str) -> Vec<u8> {
    [a.as_bytes(), part, b.as_bytes()].concat()
}

/// Writes a containerd root at `root` whose odd keys hold `part`.
fn store(root: &Path, part: &[u8]) {
    let (parent, held, labeled) = (odd("p", part, "q"), odd("g", part, "h"), odd("l", part, "b"));
    let (parent, held, labeled) = (parent.as_slice(), held.as_slice(), labeled.as_slice());
    let (active, digest) = (b"child".as_slice(), format!("sha256:{}", "a".repeat(64)));
    let backend = |id: u8, key: &[u8]| [b"default/".as_slice(), &[b'0' + id], b"/", key].concat();
    let mut meta = Tree::new();
    meta.bucket(&[b"v1"]).put(b"version", &[6]);
    let snapshots: &[&[u8]] = &[b"v1", b"default", b"snapshots", b"overlayfs"];
    let committed = [
        (1, parent, None),
        (2, active, Some(parent)),
        (3, held, None),
        (4, labeled, None),
    ];
    for (id, key, parent_key) in committed {
        let s = meta.bucket(&[snapshots, &[key][..]].concat());
        s.put(b"name", &backend(id, key));
        if let Some(p) = parent_key {
            s.put(b"parent", p);
        }
        s.put(b"createdat", &time());
        s.put(b"updatedat", &time());
    }
    let missing = odd("m", part, "k");
    for (id, key) in [(b"ctr1".as_slice(), active), (b"ctr2", missing.as_slice())] {
        let c = meta.bucket(&[b"v1", b"default", b"containers", id]);
        c.put(b"snapshotter", b"overlayfs");
        c.put(b"snapshotKey", key);
        c.put(b"createdat", &time());
        c.put(b"updatedat", &time());
        meta.bucket(&[b"v1", b"default", b"containers", id, b"runtime"])
            .put(b"name", b"io.containerd.runc.v2");
    }
    meta.bucket(&[b"v1", b"default", b"containers", b"ctr1", b"labels"])
        .put(b"containerd.io/gc.ref.snapshot.overlayfs", labeled);
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
        (4, labeled, 3, None),
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
    for id in 1..=4 {
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

/// `part_shown`: the odd part as every table and message shows it (`key_name`: `\\`,
/// `\xNN`), escaped once.
fn check(part: &[u8], part_shown: &str) {
    let tmp = tempfile::tempdir().expect("tmp");
    store(tmp.path(), part);
    let shown = |o: &Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let parent = format!("p{part_shown}q");
    let has_word = |text: &str, word: &str| text.lines().any(|l| l.split_whitespace().any(|w| w == word));

    // containerd's collector removes nothing here: every snapshot is held, `l?b` by a
    // container's label.
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

    // A snapshot that is not recorded is named as the tables name keys.
    let missing = coldctr(tmp.path(), &["mounts", "ctr2"]);
    let said = format!("its snapshot default/m{part_shown}k (overlayfs) is not recorded");
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains(&said),
        "{}",
        shown(&missing)
    );

    // The listing (KEY and PARENT), the tree and the timeline show the key escaped once.
    let o = coldctr(tmp.path(), &["snapshots"]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    let listing = String::from_utf8_lossy(&o.stdout);
    assert!(has_word(&listing, &parent), "{listing}");
    let child = listing.lines().find(|l| l.contains("child")).unwrap_or_default();
    assert!(has_word(child, &parent), "PARENT of child: {listing}");
    let o = coldctr(tmp.path(), &["snapshots", "tree"]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    assert!(has_word(&String::from_utf8_lossy(&o.stdout), &parent), "{}", shown(&o));
    let o = coldctr(tmp.path(), &["timeline"]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    let id = format!("overlayfs/{parent}");
    assert!(has_word(&String::from_utf8_lossy(&o.stdout), &id), "{}", shown(&o));

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
    check(b"\\", r"\\");
}

#[test]
fn keys_with_a_byte_that_is_not_utf8_are_met_by_the_values_naming_them() {
    check(b"\xff", r"\xff");
}

/// A root whose one namespace, container and snapshot names hold an escape sequence
/// (`\x1b[31m`): a table prints them escaped, and that form must select them again.
fn escape_store(root: &Path) {
    let (ns, id, key) = (
        b"ns\x1b[31mred".as_slice(),
        b"ctr\x1b[31mred".as_slice(),
        b"snap\x1b[31mred".as_slice(),
    );
    let mut meta = Tree::new();
    meta.bucket(&[b"v1"]).put(b"version", &[6]);
    let c = meta.bucket(&[b"v1", ns, b"containers", id]);
    c.put(b"snapshotter", b"overlayfs");
    c.put(b"snapshotKey", key);
    c.put(b"createdat", &time());
    c.put(b"updatedat", &time());
    meta.bucket(&[b"v1", ns, b"containers", id, b"runtime"])
        .put(b"name", b"io.containerd.runc.v2");
    let s = meta.bucket(&[b"v1", ns, b"snapshots", b"overlayfs", key]);
    s.put(b"name", b"x/1");
    s.put(b"createdat", &time());
    s.put(b"updatedat", &time());
    let mut backends = Tree::new();
    let s = backends.bucket(&[b"v1".as_slice(), b"snapshots", b"x/1"]);
    s.put(b"id", &[1]);
    s.put(b"kind", &[2]);
    s.put(b"createdat", &time());
    s.put(b"updatedat", &time());
    let bolt = root.join("io.containerd.metadata.v1.bolt");
    let overlay = root.join("io.containerd.snapshotter.v1.overlayfs");
    std::fs::create_dir_all(&bolt).expect("mkdir");
    std::fs::write(bolt.join("meta.db"), build(&meta)).expect("meta.db");
    std::fs::create_dir_all(overlay.join("snapshots/1/fs")).expect("mkdir");
    std::fs::create_dir_all(overlay.join("snapshots/1/work")).expect("mkdir");
    std::fs::write(overlay.join("metadata.db"), build(&backends)).expect("metadata.db");
}

/// Sweep 42: `containers -n 'ns\x1b[31mred'` selected the namespace, but `container inspect`,
/// `timeline`, `mounts` and `gc` said it was not found, and an escaped container ID was
/// refused (its message escaping the backslashes again).
#[test]
fn escaped_forms_select_namespaces_and_containers_in_every_command() {
    let tmp = tempfile::tempdir().expect("tmp");
    escape_store(tmp.path());
    let (ns, id, key) = (r"ns\x1b[31mred", r"ctr\x1b[31mred", r"snap\x1b[31mred");
    let shown = |o: &Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    for args in [
        &["-n", ns, "containers"][..],
        &["-n", ns, "container", "inspect", id],
        &["-n", "ns\x1b[31mred", "container", "inspect", id],
        &["-n", ns, "timeline"],
        &["-n", ns, "mounts", key],
        &["-n", ns, "mounts", id],
        &["-n", ns, "gc"],
    ] {
        let o = coldctr(tmp.path(), args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", shown(&o));
        assert!(!shown(&o).contains("not found"), "{args:?}: {}", shown(&o));
    }
    let inspect = coldctr(tmp.path(), &["-n", ns, "container", "inspect", id]);
    assert!(
        String::from_utf8_lossy(&inspect.stdout).contains(r#""ID": "ctr\u001b[31mred""#),
        "{}",
        shown(&inspect)
    );
    // A name that selects nothing is said as it was given, escaped once.
    let o = coldctr(tmp.path(), &["-n", ns, "container", "inspect", r"ctr\x1b[32mgreen"]);
    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(r"No such container: ctr\x1b[32mgreen"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "{stderr}");
}

/// Sweep 42: with 50,000 namespaces, `namespace x not found (namespaces: ...)` was one 450 kB
/// line, and a 30,000-character name was printed whole: the first ten are listed, then how
/// many more, and a long name is cut to its start and how many bytes were cut.
#[test]
fn a_namespace_not_found_lists_ten_candidates_and_cuts_long_names() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut meta = Tree::new();
    meta.bucket(&[b"v1"]).put(b"version", &[6]);
    let long = "L".repeat(30_000);
    for i in 0..50 {
        let ns = format!("ns{i:02}");
        meta.bucket(&[b"v1", ns.as_bytes(), b"labels"]).put(b"k", b"v");
    }
    meta.bucket(&[b"v1", long.as_bytes(), b"labels"]).put(b"k", b"v");
    let bolt = tmp.path().join("io.containerd.metadata.v1.bolt");
    std::fs::create_dir_all(&bolt).expect("mkdir");
    std::fs::write(bolt.join("meta.db"), build(&meta)).expect("meta.db");
    for args in [
        &["-n", "nosuch", "containers"][..],
        &["-n", &long[..299], "container", "inspect", "c1"],
    ] {
        let o = coldctr(tmp.path(), args);
        assert_eq!(o.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&o.stderr);
        let line = stderr
            .lines()
            .find(|l| l.contains("not found (namespaces:"))
            .expect("said");
        assert!(line.ends_with("ns07, ns08, and 41 more)"), "{line}");
        assert!(line.len() < 600, "{line}");
    }
    let o = coldctr(tmp.path(), &["-n", &long[..299], "containers"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!("namespace {}… (99 more bytes) not found", &long[..200])),
        "{stderr}"
    );
}
