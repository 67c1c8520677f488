//! A bbolt file larger than the memory cgroup the reader runs in: `bolt check` and `bolt keys`
//! must complete there (not thrash, not be OOM-killed) and print what they print without the
//! limit. Needs root and a writable cgroup v1 memory controller; says it skipped otherwise.
//!
//! The file is made at run time with the crate's own bbolt builder: 12,000 nested buckets
//! of 6 KiB values each (every bucket on its own leaf and overflow pages), about 100 MiB, read
//! inside a 32 MiB limit, with the file's pages dropped from the page cache first (cold).

use coldctr::bolt::build::{Tree, build};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const LIMIT: u64 = 32 << 20;

fn coldctr() -> &'static str {
    env!("CARGO_BIN_EXE_coldctr")
}

/// A fresh memory cgroup with `LIMIT`, or why there is none.
fn cgroup() -> Result<PathBuf, String> {
    let base = Path::new("/sys/fs/cgroup/memory");
    if !base.join("memory.limit_in_bytes").exists() {
        return Err("no cgroup v1 memory controller at /sys/fs/cgroup/memory".into());
    }
    let dir = base.join(format!("coldctr-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    std::fs::write(dir.join("memory.limit_in_bytes"), LIMIT.to_string())
        .map_err(|e| format!("cannot set the limit: {e}"))?;
    Ok(dir)
}

/// Evicts `file`'s clean pages from the page cache (a cold read, without dropping every
/// cache of the machine).
fn evict(file: &Path) {
    use std::os::fd::AsRawFd;
    let f = std::fs::File::open(file).expect("open");
    // SAFETY: an open fd; the call only drops clean cached pages of this file.
    unsafe {
        libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
    }
}

/// Runs coldctr with `args`, inside `cgroup` when given; fails the test if it has not
/// finished after two minutes (a thrashing reader never would).
fn run(cgroup: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = match cgroup {
        Some(dir) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg("echo $$ > \"$0\"/tasks && exec \"$@\"")
                .arg(dir)
                .arg(coldctr());
            c
        }
        None => Command::new(coldctr()),
    };
    let child = cmd
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    // Output is drained while waiting (a full pipe would stall the child, not the reader).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(out) => out.expect("output"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("{args:?} did not finish in two minutes inside a {LIMIT}-byte memory limit");
        }
    }
}

#[test]
fn a_file_larger_than_the_memory_limit_reads_the_same() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("big.db");
    let mut root = Tree::new();
    let value = vec![b'x'; 6 << 10];
    for i in 0..12_000u32 {
        let name = format!("record-{:05}", (i * 7919) % 12_000);
        let b = root.bucket(&[b"v1".as_slice(), b"blobs", name.as_bytes()]);
        b.put(b"size", &i.to_le_bytes());
        b.put(b"data", &value);
    }
    let bytes = build(&root);
    assert!(bytes.len() as u64 > 2 * LIMIT, "{} bytes", bytes.len());
    std::fs::write(&db, &bytes).expect("write");
    drop(bytes);
    let file = db.to_string_lossy().into_owned();
    let dir = match cgroup() {
        Ok(d) => Gone(d),
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let dir = &dir.0;

    for args in [
        vec!["bolt", "check", file.as_str()],
        vec!["bolt", "keys", file.as_str(), "v1", "blobs"],
    ] {
        evict(&db);
        let free = run(None, &args);
        evict(&db);
        let limited = run(Some(dir), &args);
        assert_eq!(
            limited.status.code(),
            free.status.code(),
            "{args:?}: {}",
            String::from_utf8_lossy(&limited.stderr)
        );
        assert_eq!(limited.stdout, free.stdout, "{args:?}");
        assert!(!free.stdout.is_empty(), "{args:?}");
    }
    let failed = std::fs::read_to_string(dir.join("memory.failcnt")).unwrap_or_default();
    eprintln!("limit hit {} times", failed.trim());
}

/// A cgroup directory removed when the test ends, passed or not.
struct Gone(PathBuf);

impl Drop for Gone {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}
