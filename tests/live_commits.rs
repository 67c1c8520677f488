//! A bbolt file committed to while coldctr reads it (containerd running beside it): bbolt's
//! writer reuses pages without counting readers in other processes, so the report may mix
//! transactions. The metas are read again at the end; a txid that moved is said, exit 3.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Command, Stdio};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The meta page at `offset` given `txid`, its checksum made again (as a commit writes it).
fn commit_meta(file: &Path, offset: u64, txid: u64) {
    let mut f = std::fs::OpenOptions::new().read(true).write(true).open(file).unwrap();
    let mut page = [0u8; 80];
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.read_exact(&mut page).unwrap();
    page[64..72].copy_from_slice(&txid.to_le_bytes());
    let sum = coldctr::bolt::meta::fnv1a64(&page[16..72]);
    page[72..80].copy_from_slice(&sum.to_le_bytes());
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(&page).unwrap();
}

/// A copy of the docker-28.5 root in a temporary directory: the directory, the root and its
/// meta.db.
fn docker_copy() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(repo().join("fixtures/docker-28.5"))
        .arg(&root)
        .status()
        .unwrap();
    assert!(copied.success());
    let file = root.join("io.containerd.metadata.v1.bolt/meta.db");
    (dir, root, file)
}

/// `bolt dump` of a copy of the docker-28.5 meta.db (txid 693 in meta 1, 692 in meta 0),
/// stopped on a full pipe (the file open, its metas read, the command not ended) after its
/// first output; `commit` runs then; the rest is read.
fn dump_while(commit: impl FnOnce(&Path)) -> (Option<i32>, String) {
    run_while(&["bolt", "dump", "--format", "jsonl", "FILE"], commit)
}

/// `args` (`FILE` standing for the meta.db, `ROOT` for its root) on a copy of docker-28.5,
/// as [`dump_while`] runs it.
fn run_while(args: &[&str], commit: impl FnOnce(&Path)) -> (Option<i32>, String) {
    let (_dir, root, file) = docker_copy();
    let args: Vec<std::ffi::OsString> = args
        .iter()
        .map(|a| match *a {
            "FILE" => file.clone().into_os_string(),
            "ROOT" => root.clone().into_os_string(),
            a => a.into(),
        })
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // The output is over 130 KB: after its first byte the process waits on the pipe, the
    // file open and its metas read, until the rest is taken.
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    commit(&file);
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    assert!(rest.len() > 50_000, "the command went on after the commit");
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_commit_landing_mid_read_is_said_and_exits_3() {
    let (code, stderr) = dump_while(|file| commit_meta(file, 0, 694));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("meta.db: written while it was read (txid 693 when opened, 694 at the end)"),
        "{stderr}"
    );
}

#[test]
fn metas_that_no_longer_validate_are_said() {
    // Both metas torn (a checksum that no longer matches): the file changed under the read.
    let (code, stderr) = dump_while(|file| {
        let mut f = std::fs::OpenOptions::new().write(true).open(file).unwrap();
        for offset in [64, 4096 + 64] {
            f.seek(SeekFrom::Start(offset)).unwrap();
            f.write_all(&[0xff; 8]).unwrap();
        }
    });
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("its metas held txid 693 when opened and cannot be read again"),
        "{stderr}"
    );
}

#[test]
fn a_file_left_alone_says_nothing() {
    let (code, stderr) = dump_while(|_| {});
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("while it was read"), "{stderr}");
    // A command over a whole root, no commit: nothing said either.
    let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(repo().join("fixtures/docker-28.5"))
        .arg("images")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("while it was read"));
}

/// A command that fails (an image not found: exit 1) while a commit lands: its answer may be
/// the commit's doing, so the exit is 3 too.
#[test]
fn a_failure_while_a_commit_lands_exits_3() {
    let mut args = vec!["--root", "ROOT", "-n", "moby", "inspect"];
    args.extend(std::iter::repeat_n("lab/special:1.0", 40));
    args.push("nosuch:1");
    let (code, stderr) = run_while(&args, |_| {});
    assert_eq!(code, Some(1), "{stderr}");
    let (code, stderr) = run_while(&args, |file| commit_meta(file, 0, 694));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("No such image: nosuch:1"), "{stderr}");
    assert!(
        stderr.contains("written while it was read (txid 693 when opened, 694 at the end)"),
        "{stderr}"
    );
}

/// Damage in a file another process holds locked for writing (a running containerd holds
/// meta.db's lock): no commit landed yet, but one may be under way, its pages written before
/// its meta; said beside the damage. Not said without the damage, nor without the lock
/// (sweep 27.7).
#[test]
fn damage_in_a_file_a_writer_holds_is_said_to_be_maybe_a_commit() {
    use std::os::fd::AsRawFd;
    let (_dir, root, file) = docker_copy();
    let images = || {
        let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .arg("--root")
            .arg(&root)
            .arg("images")
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let said = "holds its lock for writing";
    let locked = std::fs::File::open(&file).unwrap();
    // SAFETY: a valid descriptor; flock takes no pointer.
    assert_eq!(unsafe { libc::flock(locked.as_raw_fd(), libc::LOCK_EX) }, 0);
    // Sound: nothing said, though the lock is held.
    let (code, stderr) = images();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains(said), "{stderr}");
    // The current tree's root page (meta 1, txid 693: page 160) made no page.
    let mut f = std::fs::OpenOptions::new().read(true).write(true).open(&file).unwrap();
    let mut root_id = [0u8; 8];
    f.seek(SeekFrom::Start(4096 + 32)).unwrap();
    f.read_exact(&mut root_id).unwrap();
    f.seek(SeekFrom::Start(u64::from_le_bytes(root_id) * 4096 + 8)).unwrap();
    f.write_all(&0x40u16.to_le_bytes()).unwrap();
    drop(f);
    let (code, stderr) = images();
    assert_eq!(code, Some(3), "{stderr}");
    let holder = format!("meta.db: process {} {said}", std::process::id());
    assert!(stderr.contains(&holder), "{stderr}");
    // The lock let go: the damage alone.
    drop(locked);
    let (code, stderr) = images();
    assert_eq!(code, Some(3), "{stderr}");
    assert!(!stderr.contains(said), "{stderr}");
}
