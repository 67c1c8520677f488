//! Puts the commit coldctr is built from into `--version`: `COLDCTR_VERSION` is
//! "0.1.0 (commit abc1234)", "... (commit abc1234-dirty)" when tracked files differ from that
//! commit, or "... (commit unknown)" outside a git checkout (a crate tarball has no .git) or
//! without git.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    // GIT_OPTIONAL_LOCKS=0: `git status` must not refresh and rewrite .git/index, which this
    // script watches; it did, and the README's second `cargo run` on a fresh clone rebuilt
    // everything (2 min 42 s) for nothing.
    let out = Command::new("git")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Reruns this script when `path` changes. Only a file that exists is named: cargo counts a
/// missing one as changed on every build, and a checkout whose refs were never packed (no
/// `packed-refs`) rebuilt the whole crate each time. A ref that is packed later removes its
/// loose file, which is watched, so the move is still seen.
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// Watches the branch HEAD names. A branch kept only in `packed-refs` (after `git gc`) has no
/// loose file, and moving it writes one that nothing watched: a commit that left the index
/// as it was (`--allow-empty`, a reworded `--amend`, `reset --soft`) kept the old commit in
/// `--version`. Then the nearest directory above it, up to `refs`, is watched instead (cargo
/// scans a directory for any file changed in it).
fn watch_ref(path: &Path) {
    for p in path.ancestors() {
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
            return;
        }
        if p.file_name().is_some_and(|n| n == "refs") {
            return;
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let pkg = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!("cargo:rerun-if-changed=build.rs");
    // A source tree inside someone else's repository (a vendored copy) is not a checkout of ours.
    let ours = git(&manifest, &["rev-parse", "--show-toplevel"])
        .and_then(|top| std::fs::canonicalize(top).ok())
        .zip(std::fs::canonicalize(&manifest).ok())
        .is_some_and(|(top, here)| top == here);
    let commit = if ours {
        git(&manifest, &["rev-parse", "--short", "HEAD"]).filter(|c| !c.is_empty())
    } else {
        None
    };
    let version = match commit {
        Some(commit) => {
            // Tracked files only: build output and editor files do not make a build dirty.
            let dirty =
                git(&manifest, &["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
            // Rebuild when HEAD moves (checkout, commit) or the branch it names does; in a
            // worktree, HEAD is in its own git dir and the branch in the common one.
            // reftable/tables.list: the ref store of a repository made with `--ref-format=reftable`.
            for path in ["HEAD", "index", "packed-refs", "reftable/tables.list"] {
                if let Some(p) = git(&manifest, &["rev-parse", "--git-path", path]) {
                    watch(&manifest.join(p));
                }
            }
            if let Some(r) = git(&manifest, &["symbolic-ref", "-q", "HEAD"])
                && let Some(p) = git(&manifest, &["rev-parse", "--git-path", &r])
            {
                watch_ref(&manifest.join(p));
            }
            // The dirty flag follows the sources too.
            for p in ["src", "Cargo.toml", "Cargo.lock"] {
                println!("cargo:rerun-if-changed={p}");
            }
            format!("{pkg} (commit {commit}{})", if dirty { "-dirty" } else { "" })
        }
        None => format!("{pkg} (commit unknown)"),
    };
    println!("cargo:rustc-env=COLDCTR_VERSION={version}");
}
