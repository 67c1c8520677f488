//! A bbolt file larger than the memory cgroup the reader runs in: `bolt check`, `bolt keys` and
//! a `content` listing must complete there (not thrash, not be OOM-killed) and print what they
//! print without the limit. Needs root and a writable cgroup v1 memory controller; says it skipped otherwise.
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

/// A fresh memory cgroup with `LIMIT`, named for the test (tests run at once, each removes
/// its own), or why there is none.
fn cgroup(test: &str) -> Result<PathBuf, String> {
    let base = Path::new("/sys/fs/cgroup/memory");
    if !base.join("memory.limit_in_bytes").exists() {
        return Err("no cgroup v1 memory controller at /sys/fs/cgroup/memory".into());
    }
    let dir = base.join(format!("coldctr-test-{}-{test}", std::process::id()));
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
    let dir = match cgroup("bolt") {
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
        same_inside_the_limit(dir, &db, &args);
    }
    let failed = std::fs::read_to_string(dir.join("memory.failcnt")).unwrap_or_default();
    eprintln!("limit hit {} times", failed.trim());
}

/// `content` inside the limit: the map is read frugally (`bolt/frugal.rs`), each record's root
/// read ahead from its leaf, and the blobs stated one by one as the rows stream out: the same
/// rows, warnings and exit code as without the limit.
#[test]
fn a_content_listing_inside_the_memory_limit_is_the_same() {
    use coldctr::source::import::varint;
    let tmp = tempfile::tempdir().expect("tempdir");
    let root_dir = tmp.path().join("root");
    let bolt_dir = root_dir.join("io.containerd.metadata.v1.bolt");
    let blobs = root_dir.join("io.containerd.content.v1.content/blobs/sha256");
    std::fs::create_dir_all(&bolt_dir).expect("mkdir");
    std::fs::create_dir_all(&blobs).expect("mkdir");
    let db = bolt_dir.join("meta.db");
    let mut root = Tree::new();
    // Each record padded to its own leaf and overflow pages, as a large store's records are
    // scattered over many pages; two namespaces, as file order reads them together.
    let pad = vec![b'p'; 6 << 10];
    for i in 0..12_000u32 {
        let ns: &[u8] = if i % 3 == 0 { b"default" } else { b"k8s.io" };
        let hex = format!("{:064x}", u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let digest = format!("sha256:{hex}");
        let size = i64::from(i % 977);
        let b = root.bucket(&[b"v1", ns, b"content", b"blob", digest.as_bytes()]);
        b.put(b"size", &varint(size));
        b.put(b"zpad", &pad);
        b.bucket(&[b"labels"]).put(
            b"containerd.io/gc.ref.content.l.0",
            format!("sha256:{i:064x}").as_bytes(),
        );
        // Some blobs are there as recorded, some a byte short, the rest missing (warned).
        match i % 50 {
            0 => std::fs::write(blobs.join(&hex), vec![0u8; size as usize]).expect("blob"),
            1 => std::fs::write(blobs.join(&hex), vec![0u8; (size as usize).saturating_sub(1)]).expect("blob"),
            _ => {}
        }
    }
    let bytes = build(&root);
    assert!(bytes.len() as u64 > 2 * LIMIT, "{} bytes", bytes.len());
    std::fs::write(&db, &bytes).expect("write");
    drop(bytes);
    let dir = match cgroup("content") {
        Ok(d) => Gone(d),
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let root_arg = root_dir.to_string_lossy().into_owned();
    for format in ["json", "jsonl"] {
        let args = ["--root", root_arg.as_str(), "content", "--format", format];
        let free = same_inside_the_limit(&dir.0, &db, &args);
        let text = String::from_utf8_lossy(&free.stdout);
        assert_eq!(text.matches("\"digest\"").count(), 12_000, "{format}");
        // Damage: the missing and short blobs, warned once each, exit 3.
        assert_eq!(free.status.code(), Some(3), "{format}");
        assert!(String::from_utf8_lossy(&free.stderr).contains("the blob file is missing"));
    }
    // The limit was reached: the file did not fit, so the listing ran as memory ran short.
    let failed = std::fs::read_to_string(dir.0.join("memory.failcnt")).unwrap_or_default();
    eprintln!("limit hit {} times", failed.trim());
    assert!(failed.trim().parse::<u64>().is_ok_and(|n| n > 0), "{failed:?}");
}

/// Runs `args` cold without a limit and cold inside `dir`'s limit, and requires the same exit
/// code, stdout and stderr; returns the run without a limit.
fn same_inside_the_limit(dir: &Path, db: &Path, args: &[&str]) -> Output {
    evict(db);
    let free = run(None, args);
    evict(db);
    let limited = run(Some(dir), args);
    assert_eq!(
        limited.status.code(),
        free.status.code(),
        "{args:?}: {}",
        String::from_utf8_lossy(&limited.stderr)
    );
    assert_eq!(limited.stdout, free.stdout, "{args:?}");
    assert_eq!(limited.stderr, free.stderr, "{args:?}");
    assert!(!free.stdout.is_empty(), "{args:?}");
    free
}

/// A cgroup directory removed when the test ends, passed or not.
struct Gone(PathBuf);

impl Drop for Gone {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// A container's upper dir with 50,000 names in one directory: `fs ls`, `fs export` and
/// `diff` inside the limit print what they print without it. Each walk looks a directory's
/// entries up one at a time (the names alone are held), and a change keeps a compact lstat:
/// before, ~1.5 KiB per name of the widest directory (300 MB for 200,000 names) was held,
/// so these were killed here (sweep 18, finding 8).
#[test]
fn a_wide_directory_inside_the_memory_limit_is_the_same() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/snapshot-backend-labels/root");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&fixture)
        .arg(&root)
        .status()
        .expect("cp");
    assert!(status.success());
    let root_arg = root.to_string_lossy().into_owned();
    // The layer directories, as the container's mount names them.
    let mounts = run(None, &["--root", root_arg.as_str(), "mounts", "-n", "ns1", "c1"]);
    let line = String::from_utf8_lossy(&mounts.stdout).into_owned();
    let option = |name: &str| -> String {
        let at = line.find(&format!("{name}=")).expect(name) + name.len() + 1;
        line[at..].split([',', '\n']).next().unwrap_or_default().to_string()
    };
    let upper = PathBuf::from(option("upperdir"));
    for lower in option("lowerdir").split(':') {
        std::fs::create_dir_all(lower).expect("lower");
    }
    let wide = upper.join("wide");
    std::fs::create_dir_all(&wide).expect("upper");
    for i in 0..50_000 {
        std::fs::File::create(wide.join(format!("f{i:07}"))).expect("file");
    }
    let dir = match cgroup("wide") {
        Ok(d) => Gone(d),
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let db = root.join("io.containerd.metadata.v1.bolt/meta.db");
    for args in [
        &["fs", "ls", "-n", "ns1", "c1:/wide"][..],
        &["fs", "ls", "--format", "json", "-n", "ns1", "c1:/wide"],
        &["fs", "export", "-n", "ns1", "c1", "-o", "-"],
        &["diff", "-n", "ns1", "c1"],
        &["diff", "--format", "json", "-n", "ns1", "c1"],
    ] {
        let mut all = vec!["--root", root_arg.as_str()];
        all.extend_from_slice(args);
        let free = same_inside_the_limit(&dir.0, &db, &all);
        assert!(free.stdout.len() > 50_000 * 8, "{args:?}");
    }
}
