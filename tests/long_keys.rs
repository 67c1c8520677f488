//! Over-long keys: what a torn read of a live meta.db yields (a leaf page whose header claims
//! overflow pages it does not have, an element's key reaching across them), or a crafted file.
//! A value's key over bbolt's `MaxKeySize` (32,768 bytes; `Put` refuses longer) is damage (a
//! bucket's name has no limit); a long name overflows its own row of a table, not every row (one name of a megabyte padded
//! 3,000 rows to its width: 11 GB of output, exit 0).

use coldctr::bolt::build::{Tree, build};
use std::process::Command;

/// A Go `time.Time` in its binary form (version 1, UTC).
fn time() -> Vec<u8> {
    let mut t = vec![1u8];
    t.extend_from_slice(&(1_700_000_000i64 + 62_135_596_800).to_be_bytes());
    t.extend_from_slice(&0i32.to_be_bytes());
    t.extend_from_slice(&(-1i16).to_be_bytes());
    t
}

/// A root of leases named `ids`, and what `leases` prints of it: (exit, stdout, stderr).
fn leases(ids: &[Vec<u8>]) -> (Option<i32>, String, String) {
    let mut t = Tree::new();
    t.bucket(&[b"v1"]).put(b"version", &[3]);
    for id in ids {
        t.bucket(&[b"v1", b"default", b"leases", id]).put(b"createdat", &time());
    }
    run(&t)
}

/// What `leases` prints of a root whose meta.db is `t`: (exit, stdout, stderr).
fn run(t: &Tree) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let bolt = dir.path().join("io.containerd.metadata.v1.bolt");
    std::fs::create_dir_all(&bolt).unwrap();
    std::fs::write(bolt.join("meta.db"), build(t)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(dir.path())
        .arg("leases")
        .env_remove("COLDCTR_ROOT")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_values_key_over_bbolts_maximum_is_damage_a_buckets_name_is_not() {
    // A label (a value) whose key is 40,000 bytes: `Put` refuses it, so the page is damaged.
    let mut t = Tree::new();
    t.bucket(&[b"v1"]).put(b"version", &[3]);
    t.bucket(&[b"v1", b"default", b"leases", b"l1"])
        .put(b"createdat", &time());
    t.bucket(&[b"v1", b"default", b"leases", b"l1", b"labels"])
        .put(&vec![b'k'; 40_000], b"v");
    let (code, _, stderr) = run(&t);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("has a key of 40000 bytes, over bbolt's maximum of 32768 for a value's key"),
        "{stderr}"
    );
    // A bucket's name has no limit (`CreateBucket` sets none): a lease of a 40,000-byte id
    // is a lease like any other.
    let (code, stdout, stderr) = leases(&[b"a".to_vec(), vec![b'x'; 40_000], b"z".to_vec()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(&"x".repeat(40_000)));
}

#[test]
fn a_long_name_overflows_its_own_row_not_every_row() {
    let mut ids: Vec<Vec<u8>> = (0..50).map(|i| format!("lease-{i:02}").into_bytes()).collect();
    ids.push(vec![0u8; 5_000]);
    let (code, stdout, stderr) = leases(&ids);
    assert_eq!(code, Some(0), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 52, "{stdout}");
    // The long name, escaped (`\x00` each), is on its row; every other row stays narrow.
    let long: Vec<&&str> = lines.iter().filter(|l| l.contains(r"\x00\x00")).collect();
    assert_eq!(long.len(), 1);
    assert!(long[0].len() >= 20_000);
    for l in lines.iter().filter(|l| !l.contains(r"\x00")) {
        assert!(l.len() < 200, "a row padded to the long name: {} characters", l.len());
    }
}

/// A content record's key (a bucket's name, any length) that is no digest: its damage line
/// shows the first 200 characters and the length, not the whole key (a torn key of a
/// megabyte was a 3.8 MB line on stderr).
#[test]
fn a_long_key_that_is_no_digest_is_named_in_part() {
    let mut t = Tree::new();
    t.bucket(&[b"v1"]).put(b"version", &[3]);
    let key = [b"sha256:".as_slice(), &[b'z'; 40_000]].concat();
    let blob = t.bucket(&[b"v1", b"default", b"content", b"blob", &key]);
    blob.put(b"createdat", &time());
    blob.put(b"size", &[2]);
    let dir = tempfile::tempdir().unwrap();
    let bolt = dir.path().join("io.containerd.metadata.v1.bolt");
    std::fs::create_dir_all(&bolt).unwrap();
    std::fs::write(bolt.join("meta.db"), build(&t)).unwrap();
    std::fs::create_dir_all(dir.path().join("io.containerd.content.v1.content/blobs/sha256")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(dir.path())
        .args(["content", "--format", "json"])
        .env_remove("COLDCTR_ROOT")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("the key is not a digest"))
        .expect("the key's damage");
    assert!(line.contains("… (40007 bytes in all)"), "{line}");
    assert!(line.len() < 600, "{} characters", line.len());
    // The row itself keeps the key whole.
    assert!(String::from_utf8_lossy(&out.stdout).contains(&"z".repeat(40_000)));
}
