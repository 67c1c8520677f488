//! The seized Docker 28.5 / containerd 2.1.9 node, `fixtures/node-docker28-dev.tar.gz`: the
//! names of its containers and the unpacking of the tar, for the test files that read it.
//!
//! Every test crate that uses this module uses only part of it.
#![allow(dead_code, reason = "not every test binary that includes this module uses all of it")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The eight containers of the node, by name.
pub const CONTAINERS: [&str; 8] = [
    "dev-created",
    "dev-exit3",
    "dev-from-commit",
    "dev-fschanges",
    "dev-killed",
    "dev-oldapp",
    "dev-running",
    "dev-victim",
];

/// `fixtures/node-docker28-dev.tar.gz`.
fn tarball() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/node-docker28-dev.tar.gz")
}

/// Unpacks `members` of the node into `dir` with a plain `tar -xzf`, as any user can: for
/// members that need no xattr and no device node. `members` are tar's operands, and may hold
/// the options that apply to the members after them (`--no-recursion`, `--wildcards`).
/// Panics when tar fails.
pub fn unpack_members(dir: &Path, members: &[&str]) {
    let out = tar(&["-xzf"], dir, members);
    assert!(out.status.success(), "tar: {}", String::from_utf8_lossy(&out.stderr));
}

/// Unpacks `members` of the node (all of it when none) into `dir` as its README says when the
/// tests run as root: modes, xattrs (`trusted.overlay.*`) and device nodes (the whiteouts).
/// Unprivileged, tar makes what it can and fails on the device nodes. Returns tar's output
/// for the caller to judge, as only it knows which of the skipped members it can do without.
pub fn unpack_as_root_can(dir: &Path, members: &[&str]) -> Output {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let flags: &[&str] = if root {
        &["--xattrs", "--xattrs-include=*", "--sparse", "-xpzf"]
    } else {
        &["--sparse", "-xzf"]
    };
    tar(flags, dir, members)
}

/// `tar <flags> fixtures/node-docker28-dev.tar.gz -C <dir> <members>`, run.
fn tar(flags: &[&str], dir: &Path, members: &[&str]) -> Output {
    Command::new("tar")
        .args(flags)
        .arg(tarball())
        .arg("-C")
        .arg(dir)
        .args(members)
        .output()
        .expect("run tar")
}
