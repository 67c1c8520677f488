//! Shared helpers of the gc and du tests: writable copies of containerd roots (fixtures are
//! read-only on disk), the gc scenario laid over a copy, and running `coldctr ... --format json`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    repo().join("fixtures").join(name)
}

/// The reference JSON `fixtures/expected/<rel>`.
pub fn expected(rel: &str) -> serde_json::Value {
    read_json(&repo().join("fixtures/expected").join(rel))
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Copies the tree at `src` to `dst` (symlinks as symlinks), everything writable.
pub fn copy_tree(src: &Path, dst: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(src).expect("readlink");
        std::os::unix::fs::symlink(target, dst).expect("symlink");
    } else if meta.is_dir() {
        std::fs::create_dir_all(dst).expect("mkdir");
        for e in std::fs::read_dir(src).expect("readdir") {
            let e = e.expect("entry");
            copy_tree(&e.path(), &dst.join(e.file_name()));
        }
        std::fs::set_permissions(dst, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    } else {
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::copy(src, dst).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        std::fs::set_permissions(dst, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
}

/// A writable copy of fixture `name` in a fresh temp dir: (guard, root).
pub fn fixture_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    copy_tree(&fixture(name), &root);
    (dir, root)
}

/// `tests/data/gc-scenario`: the containerd 1.6 fixture with the scenario laid over it.
pub fn scenario_copy() -> (tempfile::TempDir, PathBuf) {
    let (dir, root) = fixture_copy("containerd-1.6");
    let data = repo().join("tests/data/gc-scenario");
    copy_tree(&data.join("overlay"), &root);
    let dirs = std::fs::read_to_string(data.join("empty-dirs.txt")).expect("empty-dirs.txt");
    for d in dirs.lines().filter(|l| !l.is_empty()) {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    (dir, root)
}

pub fn scenario_reference(name: &str) -> serde_json::Value {
    read_json(&repo().join("tests/data/gc-scenario").join(name))
}

pub fn blob_path(root: &Path, digest: &str) -> PathBuf {
    let (alg, hex) = digest.split_once(':').expect("digest");
    root.join("io.containerd.content.v1.content/blobs").join(alg).join(hex)
}

/// A record as (kind, namespace, name), for comparing carved records with listings.
pub type Key = (String, String, String);

/// A JSON string value.
pub fn s(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// Whether a carved record (`recover --format json`) can be `key`: same kind, and the same
/// namespace and name where the carver found them (a snapshot without its namespace is named
/// by its key alone; with it, `<snapshotter>/<key>`, the key itself possibly holding `/`).
pub fn may_be(r: &serde_json::Value, key: &Key) -> bool {
    let kind = s(&r["kind"]).unwrap_or_default();
    if kind != key.0 {
        return false;
    }
    match (s(&r["namespace"]), s(&r["name"])) {
        (Some(ns), Some(name)) => ns == key.1 && name == key.2,
        (None, Some(name)) if kind == "snapshot" => key.2.split_once('/').is_some_and(|(_, k)| k == name),
        (None, Some(name)) => name == key.2,
        (_, None) => false,
    }
}

/// `coldctr --root ROOT recover --format json`: its exit code, its JSON and its stderr.
#[allow(dead_code)]
pub fn recover_json(root: &Path) -> (Option<i32>, serde_json::Value, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(root)
        .args(["recover", "--format", "json"])
        .env_remove("COLDCTR_ROOT")
        .output()
        .expect("run coldctr");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    (out.status.code(), json, stderr)
}

/// Runs coldctr on `root` in the moby namespace with linux/amd64 as the host platform (the
/// inspect tests' setting), without the environment's own root or API version.
pub fn coldctr_moby(root: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(root)
        .args(["--host-platform", "linux/amd64", "-n", "moby"])
        .args(args)
        .env_remove("COLDCTR_ROOT")
        .env_remove("DOCKER_API_VERSION")
        .output()
        .expect("run coldctr")
}
