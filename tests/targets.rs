//! What `mounts`, `diff`, `fs` and `snapshots tree` take as TARGET, on tests/data/target-names:
//! a root a real containerd 1.6.20 made, with what its `ctr` printed.
//!
//! * a snapshot no meta.db record names (`ns1/6/orphan`: removed, not yet collected) is
//!   reached by its backend key, as `snapshots tree` and `gc` print it, and read;
//! * meta.db records whose backend record is gone (`unbacked`, container `c2`'s snapshot)
//!   are said as such, as damage (exit 3), not as a key that does not exist (exit 1);
//! * an image name as `images` lists it (`test/img:two`, imported by ctr, not normalised).
//!
//! Each test works on its own copy of the root (git keeps no empty directory: the copy gets
//! back the active snapshots' empty `work` directories).

mod bolt_support;

use bolt_support::{Run, coldctr, repo};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The root the fixture's containerd ran with: the prefix of the paths ctr printed.
const NODE_ROOT: &str = "/tmp/target-names-fx/root";

fn data() -> PathBuf {
    repo().join("tests/data/target-names")
}

fn golden(name: &str) -> String {
    std::fs::read_to_string(data().join(name)).expect("ctr output")
}

/// A fresh copy of the fixture's root, made whole again (see the module doc).
fn copy() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::Builder::new()
        .prefix("target-names")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    let root = t.path().join("root");
    let st = Command::new("cp")
        .arg("-a")
        .arg(data().join("root"))
        .arg(&root)
        .status()
        .expect("cp");
    assert!(st.success());
    for id in [3, 4] {
        std::fs::create_dir_all(root.join(format!("io.containerd.snapshotter.v1.overlayfs/snapshots/{id}/work")))
            .expect("mkdir work");
    }
    (t, root)
}

fn run(root: &Path, args: &[&str]) -> Run {
    let mut all: Vec<std::ffi::OsString> = vec!["--root".into(), root.into()];
    all.extend(args.iter().map(Into::into));
    coldctr(&all)
}

/// The names `fs ls` lists (the last column).
fn names(r: &Run) -> Vec<String> {
    r.stdout_text()
        .lines()
        .filter_map(|l| l.split_whitespace().last().map(str::to_string))
        .collect()
}

/// The backend key `snapshots tree` prints for the one snapshot no meta.db record names.
fn orphan_key(root: &Path) -> String {
    let r = run(root, &["snapshots", "tree", "--format", "json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let rows: serde_json::Value = serde_json::from_slice(&r.stdout).expect("json");
    let orphans: Vec<&serde_json::Value> = rows
        .as_array()
        .expect("rows")
        .iter()
        .filter(|row| row["names"].as_array().is_some_and(Vec::is_empty))
        .collect();
    assert_eq!(orphans.len(), 1, "{rows}");
    let key = orphans[0]["backendKey"].as_str().expect("backendKey").to_string();
    // The table prints it as the KEY, under NAMESPACES (none).
    let table = run(root, &["snapshots", "tree"]).stdout_text();
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some(key.as_str()) && l.contains("(none)")),
        "{table}"
    );
    key
}

/// A snapshot only the snapshotter names is reached by the backend key `snapshots tree` and
/// `gc` print: its mount line is the one ctr printed while meta.db still named it, and `fs`,
/// `diff` and `snapshots tree` read it through its parents, saying on stderr (not as damage)
/// that no meta.db record names it. Before, every one answered "no snapshot key ..." (exit 1).
#[test]
fn an_orphaned_backend_snapshot_is_reached_by_its_backend_key() {
    let (_t, root) = copy();
    let key = orphan_key(&root);
    assert_eq!(key, "ns1/6/orphan");
    let gc = run(&root, &["gc"]);
    assert!(
        gc.stdout_text()
            .lines()
            .any(|l| l.starts_with("backend snapshot") && l.contains(&key)),
        "{}",
        gc.stdout_text()
    );
    let noted = |r: &Run, what: &str| {
        assert_eq!(r.code, Some(0), "{what}: {}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("snapshot {key} (overlayfs): no meta.db record names it")),
            "{what}: {}",
            r.stderr
        );
    };

    let r = run(&root, &["mounts", &key, "--node-root", NODE_ROOT]);
    noted(&r, "mounts");
    assert_eq!(r.stdout_text(), golden("ctr-mounts-orphan.txt"));
    // -n narrows it to the keys of that namespace.
    let r = run(&root, &["-n", "ns1", "mounts", &key, "--node-root", NODE_ROOT]);
    noted(&r, "mounts -n ns1");
    assert_eq!(r.stdout_text(), golden("ctr-mounts-orphan.txt"));
    let r = run(&root, &["-n", "x", "mounts", &key]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("nor a snapshotter's backend key"), "{}", r.stderr);

    let r = run(&root, &["fs", "ls", &format!("{key}:/")]);
    noted(&r, "fs ls");
    assert_eq!(names(&r), ["dir1", "etc", "rescued", "two"]);
    let r = run(&root, &["fs", "cat", &format!("{key}:/rescued")]);
    noted(&r, "fs cat");
    assert_eq!(r.stdout, b"rescued\n");
    let r = run(&root, &["diff", &key]);
    noted(&r, "diff");
    assert_eq!(r.stdout_text(), "A /rescued\n");

    // What a rescue does: the whole tree, out.
    let out = root.parent().expect("temp dir").join("orphan.tar");
    let r = run(&root, &["fs", "export", &key, "-o", out.to_str().expect("utf-8")]);
    noted(&r, "fs export");
    let listed = Command::new("tar").arg("-tf").arg(&out).output().expect("tar");
    assert!(listed.status.success());
    let members: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(members, ["dir1/", "dir1/a", "etc/", "etc/passwd", "rescued", "two"]);

    let r = run(&root, &["snapshots", "tree", &key, "--format", "json"]);
    noted(&r, "snapshots tree");
    let rows: serde_json::Value = serde_json::from_slice(&r.stdout).expect("json");
    let ids: Vec<u64> = rows
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|row| row["id"].as_u64())
        .collect();
    assert_eq!(ids, [4, 2, 1]);
}

/// meta.db records whose backend record is gone (`snapshots` lists them as
/// `no-backend-record`; containerd's own ctr skips them in `snapshots ls` and answers "not
/// found") are said for what they are, by key and through a container, with the backend key
/// meta.db names, as damage (exit 3). Before: "no snapshot key, container ID, name or ID
/// prefix unbacked" (exit 1), and for the container "is not recorded" (exit 1).
#[test]
fn meta_db_records_without_a_backend_record_are_damage() {
    let (_t, root) = copy();
    // The records as the listing and the real ctr show them.
    let r = run(&root, &["-n", "ns1", "snapshots"]);
    for key in ["unbacked", "c2"] {
        assert!(
            r.stdout_text()
                .lines()
                .any(|l| l.split_whitespace().nth(2) == Some(key) && l.ends_with("no-backend-record")),
            "{}",
            r.stdout_text()
        );
        assert!(
            !golden("ctr-snapshots-ls.txt")
                .lines()
                .any(|l| l.split_whitespace().next() == Some(key))
        );
    }
    assert!(golden("ctr-mounts-unbacked.txt").contains("snapshot does not exist: not found"));

    let cases = [
        (
            "unbacked",
            "snapshot ns1/unbacked (overlayfs): meta.db records it as backend snapshot ns1/7/unbacked, but the overlayfs snapshotter's metadata.db has no record of it",
        ),
        (
            "c2",
            "container c2: its snapshot ns1/c2 (overlayfs): meta.db records it as backend snapshot ns1/8/c2, but the overlayfs snapshotter's metadata.db has no record of it",
        ),
    ];
    for (target, said) in cases {
        let spec = format!("{target}:/");
        let out = root.parent().expect("temp dir").join("out.tar");
        let out = out.to_str().expect("utf-8");
        let commands: [&[&str]; 6] = [
            &["mounts", target],
            &["-n", "ns1", "mounts", target],
            &["diff", target],
            &["fs", "ls", &spec],
            &["fs", "export", target, "-o", out],
            &["snapshots", "tree", target],
        ];
        for args in commands {
            let r = run(&root, args);
            assert_eq!(r.code, Some(3), "{args:?}: {}", r.stderr);
            assert!(r.stderr.contains(said), "{args:?}: {}", r.stderr);
            assert!(r.stdout.is_empty(), "{args:?}");
        }
    }

    // Without the snapshotter's metadata.db, nothing says the backend record is gone: that
    // is said instead (before: "no snapshot key ..." for the key).
    std::fs::remove_file(root.join("io.containerd.snapshotter.v1.overlayfs/metadata.db")).expect("rm");
    let r = run(&root, &["mounts", "unbacked"]);
    assert!(
        r.stderr.contains(
            "snapshot ns1/unbacked (overlayfs) cannot be looked up: the overlayfs snapshotter's metadata.db was not read"
        ),
        "{}",
        r.stderr
    );
}

/// An image name as `images` (and `ctr images ls`) lists it: ctr keeps an archive's names as
/// written (`test/img:two`), which docker's normalisation reads as `docker.io/test/img:two`.
/// Before, only the digest resolved: "no snapshot key, container ID, name or ID prefix
/// test/img:two" (exit 1).
#[test]
fn image_names_resolve_as_images_lists_them() {
    let (_t, root) = copy();
    let name = golden("ctr-images-ls.txt")
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .expect("a ctr row")
        .to_string();
    assert_eq!(name, "test/img:two");
    let listed = run(&root, &["-n", "ns1", "images", "-q"]);
    assert_eq!(listed.stdout_text().trim(), name, "{}", listed.stderr);
    let top = golden("image-top.txt").trim().to_string();

    let r = run(&root, &["-n", "ns1", "fs", "ls", &format!("{name}:/")]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(names(&r), ["dir1", "etc", "two"]);
    let r = run(&root, &["-n", "ns1", "mounts", "--read-only", &name]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let by_key = run(&root, &["-n", "ns1", "mounts", "--read-only", &top]);
    assert_eq!(r.stdout_text(), by_key.stdout_text());
    let r = run(&root, &["-n", "ns1", "diff", &name]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout_text(), "A /two\n");
    let out = root.parent().expect("temp dir").join("img.tar");
    let r = run(
        &root,
        &[
            "-n",
            "ns1",
            "fs",
            "export",
            &name,
            "--from-blobs",
            "-o",
            out.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

/// An image whose unpacked top meta.db records, in a snapshotter's metadata.db that has no
/// record of it (here one with no snapshots at all, as a metadata.db restored from before the
/// pull leaves it): said as such, exit 3 (before: "no unpacked snapshot", exit 1).
#[test]
fn an_image_top_without_a_backend_record_is_damage() {
    use coldctr::bolt::build::{Tree, build};
    let (_t, root) = copy();
    let mut empty = Tree::new();
    empty.bucket(&[b"v1", b"snapshots"]);
    let db = root.join("io.containerd.snapshotter.v1.overlayfs/metadata.db");
    std::fs::write(&db, build(&empty)).expect("write metadata.db");
    let top = golden("image-top.txt").trim().to_string();
    let r = run(&root, &["-n", "ns1", "fs", "ls", "test/img:two:/"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "image test/img:two: its unpacked snapshot ns1/{top} (overlayfs): meta.db records it as backend snapshot ns1/4/{top}, but the overlayfs snapshotter's metadata.db has no record of it"
        )),
        "{}",
        r.stderr
    );
}

/// The key meta.db no longer names points to the backend key that still holds it: `orphan`
/// was `ns1/6/orphan`'s meta.db key (before: only "no snapshot key ...").
#[test]
fn a_removed_key_points_to_its_backend_key() {
    let (_t, root) = copy();
    for ns in [None, Some("ns1")] {
        let mut args = Vec::new();
        if let Some(ns) = ns {
            args.extend(["-n", ns]);
        }
        args.extend(["fs", "ls", "orphan:/"]);
        let r = run(&root, &args);
        assert_eq!(r.code, Some(1), "{}", r.stderr);
        assert!(
            r.stderr.contains(
                "the snapshotter still has ns1/6/orphan (overlayfs), which no meta.db record names: give that backend key to read it"
            ),
            "{}",
            r.stderr
        );
    }
}

/// The rescue case: meta.db's page of ns1's snapshot records is damaged, so no record names
/// the container's snapshot. Its backend key (which the container's own lookup now points
/// to) reads and exports the whole tree, the damage said (exit 3). Before: "is not recorded"
/// for the container, "no snapshot key ..." (exit 1, nothing exported) for the backend key.
#[test]
fn a_damaged_meta_db_leaves_the_snapshots_reachable_by_backend_key() {
    let (_t, root) = copy();
    let db = root.join("io.containerd.metadata.v1.bolt/meta.db");
    let mut bytes = std::fs::read(&db).expect("meta.db");
    let page = bytes
        .chunks(4096)
        .position(|p| p.windows(8).any(|w| w == b"ns1/5/c1"))
        .expect("the page of c1's snapshot record");
    for b in bytes.iter_mut().skip(page * 4096 + 16).take(4096 - 16) {
        *b ^= 0x5a;
    }
    std::fs::write(&db, &bytes).expect("write meta.db");

    let r = run(&root, &["mounts", "c1"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "container c1: its snapshot ns1/c1 (overlayfs) is not recorded among meta.db's snapshot records that read (meta.db is damaged, said above); the snapshotter still has ns1/5/c1 (overlayfs)"
        ),
        "{}",
        r.stderr
    );
    let out = root.parent().expect("temp dir").join("c1.tar");
    let r = run(&root, &["fs", "export", "ns1/5/c1", "-o", out.to_str().expect("utf-8")]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("snapshot ns1/5/c1 (overlayfs): no meta.db record names it"),
        "{}",
        r.stderr
    );
    let listed = Command::new("tar").arg("-tf").arg(&out).output().expect("tar");
    assert!(listed.status.success());
    let members: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(members, ["added", "dir1/", "dir1/a", "etc/", "etc/passwd", "two"]);
}

/// This root is containerd 1.6.20's: schema 3, container records without 1.7's `sandboxid`
/// key. With `userxattr` its mount line is 1.6's order, `index=off,userxattr` (1.7.4 and
/// later write `userxattr,index=off`), without naming the release; ctr's own line, recorded
/// without `userxattr`, is the rest of it byte for byte.
#[test]
fn a_1_6_stores_mount_line_is_1_6s_without_naming_the_release() {
    let (_tmp, root) = copy();
    let want = golden("ctr-mounts-c1.txt");
    let plain = run(&root, &["-n", "ns1", "mounts", "c1", "--node-root", NODE_ROOT]);
    assert_eq!(plain.code, Some(0), "{}", plain.stderr);
    assert_eq!(plain.stdout_text(), want);
    let r = run(
        &root,
        &["-n", "ns1", "mounts", "c1", "--node-root", NODE_ROOT, "--userxattr"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout_text(),
        want.replacen("-o index=off,", "-o index=off,userxattr,", 1)
    );
    let late = run(
        &root,
        &[
            "-n",
            "ns1",
            "mounts",
            "c1",
            "--node-root",
            NODE_ROOT,
            "--userxattr",
            "--containerd",
            "1.7.4",
        ],
    );
    assert_eq!(
        late.stdout_text(),
        want.replacen("-o index=off,", "-o userxattr,index=off,", 1)
    );
}

/// An image unpacked by overlayfs and by a proxy snapshotter (stargz, nydus, gcfs: their
/// metadata.db is not under the root) records the same chain IDs for each in one namespace.
/// The key resolves to the snapshot that reads, as before the unbacked records were counted;
/// `-n` could not tell the two apart (review of the session, F2).
#[test]
fn a_key_a_proxy_snapshotter_also_records_is_the_snapshot_that_reads() {
    use coldctr::bolt::build::{Tree, build};
    let (_tmp, root) = copy();
    let db = root.join("io.containerd.metadata.v1.bolt/meta.db");
    let dump = coldctr(&["bolt", "dump", "--format", "jsonl", db.to_str().expect("path")]);
    assert_eq!(dump.code, Some(0), "{}", dump.stderr);
    // meta.db again, with every committed layer record of ns1's overlayfs also under stargz.
    let mut tree = Tree::new();
    for line in dump.stdout_text().lines() {
        let r: serde_json::Value = serde_json::from_str(line).expect("jsonl");
        let mut path: Vec<String> = r["bucket"]
            .as_array()
            .expect("bucket")
            .iter()
            .map(|b| b.as_str().expect("name").to_string())
            .collect();
        let key = r["key"].as_str().expect("key").to_string();
        let mut paths = vec![path.clone()];
        if path
            .get(..4)
            .is_some_and(|p| p == ["v1", "ns1", "snapshots", "overlayfs"])
            && path.get(4).is_some_and(|k| k.starts_with("sha256:"))
        {
            path[3] = "stargz".into();
            paths.push(path);
        } else if path == ["v1", "ns1", "snapshots", "overlayfs"] && key.starts_with("sha256:") {
            paths.push(vec!["v1".into(), "ns1".into(), "snapshots".into(), "stargz".into()]);
        }
        for p in paths {
            let names: Vec<&[u8]> = p.iter().map(|s| s.as_bytes()).collect();
            let bucket = tree.bucket(&names);
            match r["value"].as_str() {
                Some(v) => bucket.put(key.as_bytes(), &hex_bytes(v)),
                None => {
                    bucket.bucket(&[key.as_bytes()]);
                }
            }
        }
    }
    std::fs::write(&db, build(&tree)).expect("write meta.db");
    let top = golden("image-top.txt");
    let top = top.trim();
    let r = run(&root, &["-n", "ns1", "snapshots"]);
    assert!(r.stdout_text().contains("stargz"), "{}", r.stdout_text());
    let r = run(&root, &["-n", "ns1", "fs", "ls", &format!("{top}:/")]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(names(&r), ["dir1", "etc", "two"]);
    let r = run(&root, &["-n", "ns1", "diff", top]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout_text(), "A /two\n");
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}
