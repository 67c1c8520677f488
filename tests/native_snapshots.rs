//! The native snapshotter (a full copy per snapshot, bind-mounted, never stacked) and overlay
//! views (whose own directory containerd never mounts), on tests/data/native-and-views: a
//! root a real containerd 1.6.20 made, with what its `ctr snapshots mounts` printed.
//!
//! Each test works on its own copy of the root (git keeps no empty directory and no mtime:
//! the copy gets back the empty `snapshots/3/etc` and one time for every entry, as the
//! copies containerd made had).

mod bolt_support;

use bolt_support::{Run, coldctr, repo};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The root the fixture's containerd ran with: the prefix of the paths ctr printed.
const NODE_ROOT: &str = "/tmp/native-fx/root";

fn data() -> PathBuf {
    repo().join("tests/data/native-and-views")
}

/// A fresh copy of the fixture's root, made whole again (see the module doc).
fn copy() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::Builder::new()
        .prefix("native-and-views")
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
    std::fs::create_dir_all(root.join("io.containerd.snapshotter.v1.native/snapshots/3/etc")).expect("mkdir etc");
    std::fs::create_dir_all(root.join("io.containerd.snapshotter.v1.overlayfs/snapshots/5/work")).expect("mkdir work");
    let st = Command::new("find")
        .arg(&root)
        .args(["-exec", "touch", "-h", "-d", "@1767323045", "{}", "+"])
        .status()
        .expect("find");
    assert!(st.success());
    (t, root)
}

fn run(root: &Path, args: &[&str]) -> Run {
    let mut all: Vec<std::ffi::OsString> = vec!["--root".into(), root.into(), "-n".into(), "x".into()];
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

fn ok(r: &Run, what: &str) {
    assert_eq!(r.code, Some(0), "{what}: {}", r.stderr);
    assert!(r.stderr.is_empty(), "{what}: {}", r.stderr);
}

/// `mounts` of a native snapshot is the bind line ctr printed, byte for byte: the snapshot's
/// own directory for an active one, the parent's for a view (which has no directory).
#[test]
fn native_mount_lines_equal_ctr_snapshots_mounts() {
    let (_t, root) = copy();
    for key in ["c", "v", "a"] {
        let want = std::fs::read_to_string(data().join(format!("ctr-native-mounts-{key}.txt"))).expect("ctr output");
        let r = run(&root, &["mounts", key, "--node-root", NODE_ROOT]);
        ok(&r, key);
        assert_eq!(r.stdout_text(), want, "{key}");
    }
    // The read-only variant binds the same one directory, read-only.
    let r = run(&root, &["mounts", "--read-only", "c", "--node-root", NODE_ROOT]);
    ok(&r, "c --read-only");
    assert_eq!(
        r.stdout_text(),
        format!("mount -t bind {NODE_ROOT}/io.containerd.snapshotter.v1.native/snapshots/3 /mnt -o ro,rbind\n")
    );
}

/// `fs` reads a native snapshot's one directory: what a later layer deleted is gone, and a
/// view shows its parent's directory, having none of its own (which is no damage).
#[test]
fn native_fs_reads_one_directory() {
    let (_t, root) = copy();
    let r = run(&root, &["fs", "ls", "layer2:/dir1"]);
    ok(&r, "layer2:/dir1");
    assert_eq!(names(&r), ["sub"]);
    let r = run(&root, &["fs", "cat", "layer2:/dir1/a"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let r = run(&root, &["fs", "ls", "c:/etc"]);
    ok(&r, "c:/etc");
    assert!(names(&r).is_empty(), "{:?}", names(&r));
    let r = run(&root, &["fs", "ls", "v:/"]);
    ok(&r, "v:/");
    assert_eq!(names(&r), ["dir1", "dir2", "etc", "keep", "two"]);
    let r = run(&root, &["fs", "cat", "v:/etc/passwd"]);
    ok(&r, "v:/etc/passwd");
    assert_eq!(r.stdout, b"root:x:0:0\n");
    // The tree names no directory for the view, and no problem.
    let r = run(&root, &["snapshots", "tree", "v", "--format", "json"]);
    ok(&r, "tree v");
    let rows: serde_json::Value = serde_json::from_slice(&r.stdout).expect("json");
    assert_eq!(rows[0]["names"][0]["key"], "v");
    assert!(rows[0]["dir"].is_null(), "{}", rows[0]);
    let r = run(&root, &["snapshots", "tree"]);
    // (a bare tree takes no namespace)
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    let r = coldctr(&[
        std::ffi::OsStr::new("--root"),
        root.as_os_str(),
        "snapshots".as_ref(),
        "tree".as_ref(),
    ]);
    ok(&r, "tree");
}

/// `which` of a path under a native view's id names no snapshot: the view has no directory.
#[test]
fn which_names_no_native_view_for_a_path_it_has_not() {
    let (_t, root) = copy();
    let path = root.join("io.containerd.snapshotter.v1.native/snapshots/4/x");
    let r = coldctr(&[
        std::ffi::OsStr::new("--root"),
        root.as_os_str(),
        "which".as_ref(),
        path.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).expect("json");
    assert!(v["snapshot"].is_null(), "{v}");
    assert_eq!(v["noDirectory"]["names"][0]["key"], "v", "{v}");
}

/// A 0/0 character device in a native directory is a device the bind mount shows, not a
/// whiteout (root only: mknod).
#[test]
fn native_char_device_0_0_is_no_whiteout() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: mknod skipped");
        return;
    }
    let (_t, root) = copy();
    let dev = root.join("io.containerd.snapshotter.v1.native/snapshots/3/dev0");
    let st = Command::new("mknod")
        .arg(&dev)
        .args(["c", "0", "0"])
        .status()
        .expect("mknod");
    assert!(st.success());
    let r = run(&root, &["fs", "ls", "c:/"]);
    ok(&r, "c:/");
    assert!(names(&r).contains(&"dev0".to_string()), "{:?}", names(&r));
    let r = run(&root, &["diff", "c"]);
    ok(&r, "diff c");
    assert!(r.stdout_text().lines().any(|l| l == "A /dev0"), "{}", r.stdout_text());
}

/// `diff` of a native snapshot compares its whole tree with its parent's, as docker's
/// `ChangesDirs` does for such drivers: deletions and the directories holding them too.
#[test]
fn native_diff_compares_the_two_trees_whole() {
    let (_t, root) = copy();
    let diff = |key: &str| {
        let r = run(&root, &["diff", key]);
        ok(&r, key);
        r.stdout_text()
    };
    assert_eq!(diff("c"), "A /added\nD /dir2\nC /etc\nD /etc/passwd\nC /keep\n");
    assert_eq!(diff("layer2"), "C /dir1\nD /dir1/a\nC /etc\nD /etc/gone\nA /two\n");
    assert_eq!(diff("v"), "");
    assert_eq!(diff("a"), "A /alone\n");
    let r = run(&root, &["diff", "--copied-up", "c"]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
}

/// `fs` and `diff` of an overlay view show what its mount shows: the parents' tree, never the
/// view's own directory (here holding a left-over file).
#[test]
fn overlay_views_show_their_parents_tree() {
    let (_t, root) = copy();
    let r = run(&root, &["fs", "ls", "ov1:/"]);
    ok(&r, "ov1:/");
    assert_eq!(names(&r), ["etc"]);
    let r = run(&root, &["fs", "cat", "ov1:/planted"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let r = run(&root, &["fs", "ls", "ov2:/"]);
    ok(&r, "ov2:/");
    assert_eq!(names(&r), ["etc", "two"]);
    for key in ["ov1", "ov2"] {
        let r = run(&root, &["diff", key]);
        ok(&r, key);
        assert_eq!(r.stdout_text(), "", "{key}");
    }
    // The active snapshot still has its upper directory on top.
    let r = run(&root, &["diff", "oc"]);
    ok(&r, "oc");
    assert_eq!(r.stdout_text(), "A /mine\n");
    // Its mount line names the directories ctr's did (the option order aside).
    let want = std::fs::read_to_string(data().join("ctr-overlayfs-mounts-ov1.txt")).expect("ctr output");
    let r = run(&root, &["mounts", "ov1", "--node-root", NODE_ROOT]);
    ok(&r, "mounts ov1");
    let source = |l: &str| l.split_whitespace().nth(3).map(str::to_string);
    assert_eq!(source(&r.stdout_text()), source(&want));
}

/// The overlay lines are what this containerd 1.6.20's ctr printed, byte for byte: meta.db's
/// schema version 3 says a 1.x release, which writes `index=off` first (sweep 18, finding 4:
/// they were printed in 2.x's order, `index=off` last). `--containerd 2.1` gives 2.x's.
#[test]
fn overlay_mount_lines_are_the_releases_ctr_printed() {
    let (_tmp, root) = copy();
    for key in ["oc", "ov1", "ov2"] {
        let want = std::fs::read_to_string(data().join(format!("ctr-overlayfs-mounts-{key}.txt"))).expect("ctr output");
        let r = run(&root, &["mounts", key, "--node-root", NODE_ROOT]);
        ok(&r, key);
        assert_eq!(r.stdout_text(), want, "{key}");
    }
    let r = run(
        &root,
        &["mounts", "oc", "--node-root", NODE_ROOT, "--containerd", "2.1"],
    );
    ok(&r, "oc 2.1");
    let line = r.stdout_text();
    assert!(
        line.contains("-o workdir=") && line.trim_end().ends_with(",index=off"),
        "{line}"
    );
    let bad = run(&root, &["mounts", "oc", "--containerd", "x"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
}
