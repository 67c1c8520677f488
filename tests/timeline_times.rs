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

/// A version-2 time keeps its zone's seconds (+01:00:59), which RFC 3339 text drops: placed
/// from its text, it came 59 s late. A zone past 24 hours did not read back at all (left out,
/// exit 3), and a time before year 1 was dropped as if it were Go's zero time. Each is now
/// placed at its instant (Go's `UnmarshalBinary`), and `leases` prints it so.
#[test]
fn times_are_placed_at_their_instant_whatever_zone_they_were_written_in() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut meta = Tree::new();
    meta.bucket(&[b"v1"]).put(b"version", &[6]);
    // 1997-05-23T16:00:00Z.
    let at = 864_403_200i64;
    let mut v2 = time(at);
    v2[0] = 2;
    v2[13..15].copy_from_slice(&60i16.to_be_bytes());
    v2.push(59);
    let mut far_zone = time(at);
    far_zone[13..15].copy_from_slice(&0x7fffi16.to_be_bytes());
    // 0000-12-02T00:00:00Z: before Go's zero time, not it.
    let year0 = time(-62_135_596_800 - 30 * 86_400);
    for (lease, t) in [(b"v2".as_slice(), v2), (b"farzone", far_zone), (b"year0", year0)] {
        meta.bucket(&[b"v1", b"default", b"leases", lease])
            .put(b"createdat", &t);
    }
    let bolt = tmp.path().join("io.containerd.metadata.v1.bolt");
    std::fs::create_dir_all(&bolt).expect("mkdir");
    std::fs::write(bolt.join("meta.db"), build(&meta)).expect("meta.db");
    std::fs::create_dir_all(tmp.path().join("io.containerd.content.v1.content/blobs/sha256")).expect("mkdir");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .arg("--root")
            .arg(tmp.path())
            .args(args)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let timeline = run(&["timeline"]);
    let placed: Vec<&str> = timeline
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(
        placed,
        ["0000-12-02T00:00:00Z", "1997-05-23T16:00:00Z", "1997-05-23T16:00:00Z"],
        "{timeline}"
    );
    let leases = run(&["leases"]);
    assert_eq!(leases.matches("1997-05-23T16:00:00Z").count(), 2, "{leases}");
}

/// Sweep 20, finding 7: a time written in year 9999 with a negative offset is in year 10000
/// in UTC, where RFC 3339 has no text for it: it was placed as `10000-01-01T23:58:59Z`, exit
/// 0. It is now left out and said, as a year past 9999 is (exit 3).
#[test]
fn a_time_whose_utc_year_leaves_0_to_9999_is_said_not_placed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut meta = Tree::new();
    meta.bucket(&[b"v1"]).put(b"version", &[6]);
    // 10000-01-01T23:58:59Z, written at -23:59: 9999-12-31T23:59:59-23:59.
    let mut west = time(253_402_300_800 + 86_339);
    west[13..15].copy_from_slice(&(-1439i16).to_be_bytes());
    for (lease, t) in [(b"west".as_slice(), west), (b"near", time(1_700_000_000))] {
        meta.bucket(&[b"v1", b"default", b"leases", lease])
            .put(b"createdat", &t);
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
    assert!(!stdout.contains("10000") && !stdout.contains("west"), "{stdout}");
    assert!(stdout.contains("near"), "{stdout}");
    assert!(
        stderr.contains("lease west")
            && stderr.contains("\"9999-12-31T23:59:59-23:59\" falls outside the years 0 to 9999 in UTC"),
        "{stderr}"
    );
    // Sweep 20, finding 8: the listings printed such a time (as read) with exit 0; ctr cannot
    // print the record. Still printed, now said (exit 3).
    let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(tmp.path())
        .args(["leases", "--format", "json"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("west")
            && stderr.contains("createdat: 9999-12-31T23:59:59-23:59 is outside the years 0 to 9999 (UTC)"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("9999-12-31T23:59:59-23:59"));
}
