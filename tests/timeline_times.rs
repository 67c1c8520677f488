//! `timeline` on times no event can be placed at: a record whose binary time is past year
//! 9999 is said on stderr (file, record, time) and the run is damaged (exit 3), not left out
//! in silence; the other records' events are printed as before.

use coldctr::bolt::build::{Tree, build};
use std::process::Command;

/// A Go `time.Time` in its binary form (version 1, UTC) at `unix` seconds.
fn time(unix: i64) -> Vec<u8> {
    let mut t = vec![1u8];
    t.extend_from_slice(&(unix + 62_135_596_800).to_be_bytes());
    t.extend_from_slice(&0i32.to_be_bytes());
    t.extend_from_slice(&(-1i16).to_be_bytes());
    t
}

#[test]
fn a_time_past_year_9999_is_said_not_dropped() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut meta = Tree::new();
    meta.bucket(&[b"v1"]).put(b"version", &[6]);
    // 253,402,300,800 s is 10000-01-01T00:00:00Z.
    for (lease, unix) in [(b"far".as_slice(), 253_402_300_800 + 86_400), (b"near", 1_700_000_000)] {
        meta.bucket(&[b"v1", b"default", b"leases", lease])
            .put(b"createdat", &time(unix));
    }
    let bolt = tmp.path().join("io.containerd.metadata.v1.bolt");
    std::fs::create_dir_all(&bolt).expect("mkdir");
    std::fs::write(bolt.join("meta.db"), build(&meta)).expect("meta.db");
    std::fs::create_dir_all(tmp.path().join("io.containerd.content.v1.content/blobs/sha256")).expect("mkdir");

    let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(tmp.path())
        .arg("timeline")
        .output()
        .expect("run");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stdout.contains("2023-11-14T22:13:20Z") && stdout.contains("near"),
        "{stdout}"
    );
    assert!(!stdout.contains("far"), "{stdout}");
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("left out of the timeline"))
        .collect();
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(said[0].contains("meta.db") && said[0].contains("lease far"), "{stderr}");
    assert!(said[0].contains("\"10000-01-02T00:00:00Z\""), "{stderr}");
}
