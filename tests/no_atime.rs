//! Reading a node must not write its access times: every file and directory coldctr opens is
//! opened `O_NOATIME` (README: "files are opened `O_RDONLY` (with `O_NOATIME` where allowed)").
//!
//! The seized Docker 28.5 node (`fixtures/node-docker28-dev.tar.gz`) and an OCI layout are
//! copied into a temporary directory, every access time there is set to 2020 (as on a disk
//! seized long after it was written: under `relatime` the first read then rewrites it), and
//! after each command no access time may have changed. A symlink's own access time is left
//! out: `readlink` updates it and no flag avoids that.
//!
//! Needs root (root may use `O_NOATIME` on every file, and tar restores the node's xattrs and
//! whiteout devices only as root) and a filesystem that updates access times (not mounted
//! `noatime`); says it skipped otherwise. `COLDCTR_UNDER_TEST` names another coldctr binary to
//! run instead of this build's (to see an older build fail it).

mod bolt_support;

use bolt_support::repo;
use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// 2020-01-01T00:00:00Z.
const OLD: i64 = 1_577_836_800;

fn coldctr() -> PathBuf {
    std::env::var_os("COLDCTR_UNDER_TEST").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_coldctr")), PathBuf::from)
}

/// Sets `path`'s own access time (a link's, not its target's) to [`OLD`], its modification
/// time untouched.
fn make_old(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    let times = [
        libc::timespec {
            tv_sec: OLD,
            tv_nsec: 0,
        },
        libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
    ];
    // SAFETY: a NUL-terminated path and two timespecs, as utimensat takes them.
    let rc = unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) };
    assert_eq!(
        rc,
        0,
        "utimensat {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
}

/// Every path under `top` but symlinks, listed once (the listing itself updates the
/// directories' access times: they are set after it).
fn paths_under(top: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![top.to_path_buf()];
    while let Some(p) = stack.pop() {
        let m = std::fs::symlink_metadata(&p).unwrap();
        if m.file_type().is_symlink() {
            continue;
        }
        if m.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        }
        out.push(p);
    }
    out
}

fn atimes(paths: &[PathBuf]) -> BTreeMap<PathBuf, i64> {
    paths
        .iter()
        .map(|p| (p.clone(), std::fs::symlink_metadata(p).unwrap().atime()))
        .collect()
}

/// Whether the filesystem of `dir` updates an old access time on a plain read.
fn updates_atimes(dir: &Path) -> bool {
    let probe = dir.join("probe");
    std::fs::write(&probe, b"x").unwrap();
    make_old(&probe);
    std::fs::read(&probe).unwrap();
    let changed = std::fs::symlink_metadata(&probe).unwrap().atime() != OLD;
    std::fs::remove_file(&probe).unwrap();
    changed
}

fn unpack_node(dir: &Path) {
    let out = Command::new("tar")
        .args(["--xattrs", "--xattrs-include=*", "-xzpf"])
        .arg(repo().join("fixtures/node-docker28-dev.tar.gz"))
        .arg("-C")
        .arg(dir)
        .output()
        .expect("run tar");
    assert!(out.status.success(), "tar: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn commands_change_no_access_time() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        println!("skipped: needs root (O_NOATIME on every file, and tar restoring the node's xattrs)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    if !updates_atimes(tmp.path()) {
        println!("skipped: {} does not update access times", tmp.path().display());
        return;
    }
    let node = tmp.path().join("node");
    std::fs::create_dir(&node).unwrap();
    unpack_node(&node);
    let layout = tmp.path().join("layout");
    let out = Command::new("cp")
        .arg("-a")
        .arg(repo().join("fixtures/oci-dev/layouts/umoci"))
        .arg(&layout)
        .output()
        .unwrap();
    assert!(out.status.success(), "cp: {}", String::from_utf8_lossy(&out.stderr));
    let root = node.join("var/lib/containerd");
    let outputs = tempfile::tempdir().unwrap();
    let export = outputs.path().join("export.tar");

    let mut paths = paths_under(&node);
    paths.extend(paths_under(&layout));
    let runs: Vec<(&Path, Vec<&str>)> = vec![
        (&root, vec!["ps", "-a"]),
        (&root, vec!["container", "inspect", "dev-running"]),
        (&root, vec!["timeline"]),
        (&root, vec!["images"]),
        (&root, vec!["du", "--scan"]),
        (&root, vec!["gc"]),
        (&root, vec!["verify"]),
        (&root, vec!["diff", "dev-fschanges"]),
        (
            &root,
            vec!["fs", "export", "dev-fschanges", "-o", export.to_str().unwrap()],
        ),
        (&layout, vec!["images"]),
        (&layout, vec!["verify"]),
    ];
    let mut changed: Vec<String> = Vec::new();
    for (at, args) in &runs {
        paths.iter().for_each(|p| make_old(p));
        let before = atimes(&paths);
        assert!(before.values().all(|t| *t == OLD));
        let o = Command::new(coldctr())
            .arg("--root")
            .arg(at)
            .args(args)
            .env_remove("COLDCTR_ROOT")
            .stdin(Stdio::null())
            .output()
            .expect("run coldctr");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "coldctr {args:?} panicked: {err}");
        // Every command read what it reads (else it would prove nothing).
        assert!(
            o.status.success() || !o.stdout.is_empty(),
            "coldctr --root {} {args:?} failed and printed nothing: {err}",
            at.display()
        );
        let after = atimes(&paths);
        let touched: Vec<String> = after
            .iter()
            .filter(|(p, t)| before.get(*p) != Some(*t))
            .map(|(p, _)| p.strip_prefix(tmp.path()).unwrap_or(p).display().to_string())
            .collect();
        if !touched.is_empty() {
            changed.push(format!(
                "coldctr {}: {} access time(s) changed, e.g. {}",
                args.join(" "),
                touched.len(),
                touched.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    assert!(changed.is_empty(), "{}", changed.join("\n"));
}
