//! Replays every input kept under `fixtures/fuzz/<target>/` through the very code the fuzz
//! target runs (`fuzz/src/harness.rs`, included here by path). Each file there once crashed,
//! hung or exhausted memory; its name says what it caught.

#[path = "../fuzz/src/harness.rs"]
mod harness;

use std::path::PathBuf;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fuzz")
        .join(target);
    // git keeps no empty directories: a target with no crash kept yet has none.
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, data)
        })
        .collect()
}

#[test]
fn bolt_walk_regressions() {
    let files = inputs("bolt_walk");
    assert!(!files.is_empty(), "fixtures/fuzz/bolt_walk is empty");
    for (path, data) in files {
        eprintln!("replaying {}", path.display());
        harness::bolt_walk(&data);
    }
}

#[test]
fn values_regressions() {
    for (path, data) in inputs("values") {
        eprintln!("replaying {}", path.display());
        harness::values(&data);
    }
}

#[test]
fn template_regressions() {
    let files = inputs("template");
    assert!(!files.is_empty(), "fixtures/fuzz/template is empty");
    for (path, data) in files {
        eprintln!("replaying {}", path.display());
        harness::template(&data);
    }
}
