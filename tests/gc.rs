//! `coldctr gc` against real containerd 1.6 collections (`fixtures/expected/*/gc.json`, and
//! `tests/data/gc-scenario`, where something goes for every rule), run at each reference's
//! clock, plus damaged copies made here.

mod bolt_support;
mod gcdu_support;

use bolt_support::{Run, coldctr};
use gcdu_support::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

type Set = BTreeSet<String>;

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn gc_json(root: &Path, at: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--root".to_string(), root.display().to_string(), "gc".into()];
    args.extend(["--at".into(), at.to_string(), "--format".into(), "json".into()]);
    args.extend(extra.iter().map(|a| a.to_string()));
    let run = coldctr(&args);
    // Every root here reads whole: the fixtures, and copies damaged only in blob files or
    // directories, which gc reports in its output, not as damaged input (exit 3).
    assert_eq!(run.code, Some(0), "gc: {}", run.stderr);
    serde_json::from_slice(&run.stdout).unwrap_or_else(|e| panic!("gc output is not JSON: {e}: {}", run.stderr))
}

/// The removed sets of a reference (containerd's own collection), as comparable strings.
struct Removed {
    content: Set,
    leases: Set,
    snapshots: Set,
    ingests: Set,
    blob_files: Set,
    ingest_dirs: Set,
    backend: Set,
    dirs: Set,
}

fn reference_removed(r: &Value) -> Removed {
    let mut out = Removed {
        content: Set::new(),
        leases: Set::new(),
        snapshots: Set::new(),
        ingests: Set::new(),
        blob_files: Set::new(),
        ingest_dirs: Set::new(),
        backend: Set::new(),
        dirs: Set::new(),
    };
    for n in arr(&r["namespaces"]) {
        let ns = s(&n["namespace"]);
        let rm = &n["removed"];
        out.content
            .extend(arr(&rm["content"]).iter().map(|c| format!("{ns} {}", s(&c["digest"]))));
        out.leases
            .extend(arr(&rm["leases"]).iter().map(|c| format!("{ns} {}", s(&c["id"]))));
        out.snapshots.extend(
            arr(&rm["snapshots"])
                .iter()
                .map(|c| format!("{ns} {}/{}", s(&c["snapshotter"]), s(&c["key"]))),
        );
        out.ingests
            .extend(arr(&rm["ingests"]).iter().map(|c| format!("{ns} {}", s(&c["key"]))));
    }
    let cb = &r["content_backend"];
    out.blob_files
        .extend(arr(&cb["blob_files_removed"]).iter().map(|f| s(&f["digest"])));
    out.ingest_dirs
        .extend(arr(&cb["ingest_dirs_removed"]).iter().map(|f| s(&f["dir"])));
    for sn in arr(&r["snapshotters"]) {
        let name = s(&sn["name"]);
        out.backend.extend(
            arr(&sn["backend_records_removed"])
                .iter()
                .map(|b| format!("{name} {}", s(&b["backend_name"]))),
        );
        out.dirs.extend(
            arr(&sn["snapshot_dirs_removed"])
                .iter()
                .map(|d| format!("{name} {}", s(&d["id"]))),
        );
    }
    out
}

fn our_removed(o: &Value) -> Removed {
    let ns_key = |v: &Value, k: &str| format!("{} {}", s(&v["namespace"]), s(&v[k]));
    Removed {
        content: arr(&o["content"]).iter().map(|c| ns_key(c, "digest")).collect(),
        leases: arr(&o["leases"]).iter().map(|c| ns_key(c, "id")).collect(),
        snapshots: arr(&o["snapshots"])
            .iter()
            .map(|c| format!("{} {}/{}", s(&c["namespace"]), s(&c["snapshotter"]), s(&c["key"])))
            .collect(),
        ingests: arr(&o["ingests"]).iter().map(|c| ns_key(c, "ref")).collect(),
        blob_files: arr(&o["blobFiles"]).iter().map(|f| s(&f["digest"])).collect(),
        ingest_dirs: arr(&o["ingestDirs"]).iter().map(|f| s(&f["dir"])).collect(),
        backend: arr(&o["backendSnapshots"])
            .iter()
            .map(|b| format!("{} {}", s(&b["snapshotter"]), s(&b["key"])))
            .collect(),
        dirs: arr(&o["snapshotDirs"])
            .iter()
            .map(|d| format!("{} {}", s(&d["snapshotter"]), s(&d["id"])))
            .collect(),
    }
}

/// Compares every removed set, and what the reference's triggered backend sweep deleted with
/// what we report as pending.
fn assert_agrees(name: &str, reference: &Value, ours: &Value) {
    let (r, o) = (reference_removed(reference), our_removed(ours));
    assert_eq!(o.content, r.content, "{name}: content records");
    assert_eq!(o.leases, r.leases, "{name}: leases");
    assert_eq!(o.snapshots, r.snapshots, "{name}: snapshot records");
    assert_eq!(o.ingests, r.ingests, "{name}: ingest records");
    assert_eq!(o.blob_files, r.blob_files, "{name}: blob files");
    assert_eq!(o.ingest_dirs, r.ingest_dirs, "{name}: ingest dirs");
    assert_eq!(o.backend, r.backend, "{name}: backend snapshots");
    assert_eq!(o.dirs, r.dirs, "{name}: snapshot dirs");
    assert_eq!(
        ours["sweeps"]["content"]["runs"].as_bool(),
        reference["gc_stats"]["content_cleanup_ran"].as_bool(),
        "{name}: content sweep runs"
    );
    // The reference then dirties every store and collects again: what that deletes is what we
    // call pending (left by this collection, deleted by the next sweep).
    let t = &reference["backend_sweep_when_triggered"];
    let pending = &ours["pending"];
    let files: Set = arr(&t["blob_files_removed"]).iter().map(|f| s(&f["digest"])).collect();
    let ours_files: Set = arr(&pending["blobFiles"]).iter().map(|f| s(&f["digest"])).collect();
    assert_eq!(ours_files, files, "{name}: pending blob files");
    let dirs: Set = arr(&t["ingest_dirs_removed"]).iter().map(|f| s(&f["dir"])).collect();
    let ours_dirs: Set = arr(&pending["ingestDirs"]).iter().map(|f| s(&f["dir"])).collect();
    assert_eq!(ours_dirs, dirs, "{name}: pending ingest dirs");
    for sn in arr(&t["snapshotters"])
        .iter()
        .filter(|x| x["triggered"].as_bool() == Some(true))
    {
        let n = s(&sn["name"]);
        let recs: Set = arr(&sn["backend_records_removed"])
            .iter()
            .map(|b| s(&b["backend_name"]))
            .collect();
        let ours_recs: Set = arr(&pending["backendSnapshots"])
            .iter()
            .filter(|b| s(&b["snapshotter"]) == n)
            .map(|b| s(&b["key"]))
            .collect();
        assert_eq!(ours_recs, recs, "{name}: pending backend snapshots of {n}");
        let dirs: Set = arr(&sn["snapshot_dirs_removed"]).iter().map(|d| s(&d["id"])).collect();
        let ours_dirs: Set = arr(&pending["snapshotDirs"])
            .iter()
            .filter(|d| s(&d["snapshotter"]) == n)
            .map(|d| s(&d["id"]))
            .collect();
        assert_eq!(ours_dirs, dirs, "{name}: pending snapshot dirs of {n}");
    }
    // Bytes freed by content records: the reference's totals.
    assert_eq!(
        ours["freed"]["contentRecordBytes"].as_i64(),
        reference["removed_totals"]["content_record_bytes"].as_i64(),
        "{name}: content record bytes"
    );
    assert_eq!(
        ours["freed"]["blobFileBytes"].as_i64(),
        reference["removed_totals"]["blob_file_bytes"].as_i64(),
        "{name}: blob file bytes"
    );
}

fn check_fixture(fixture_name: &str, reference_rel: &str, extra: &[&str]) {
    let reference = expected(reference_rel);
    let at = s(&reference["clock"]["gc_now"]);
    let ours = gc_json(&fixture(fixture_name), &at, extra);
    assert_agrees(reference_rel, &reference, &ours);
    // The clock the reference used is the clock we used.
    assert_eq!(
        ours["clock"]["at"].as_str().map(|a| a.trim_end_matches('Z')),
        Some(at.trim_end_matches('Z'))
    );
}

#[test]
fn containerd_16_as_collected_by_containerd() {
    check_fixture("containerd-1.6", "containerd-1.6/gc.json", &[]);
}

#[test]
fn containerd_16_after_its_lease_expired() {
    check_fixture("containerd-1.6", "containerd-1.6/gc-now-2026-12-01.json", &[]);
    let ours = gc_json(&fixture("containerd-1.6"), "2026-12-01T00:00:00Z", &[]);
    let leases: Vec<String> = arr(&ours["leases"]).iter().map(|l| s(&l["id"])).collect();
    assert_eq!(leases, vec!["short-lease"]);
    // Expired since 2026-11-30T17:44:42Z: the same answer for any later clock.
    assert_eq!(ours["clock"]["sameResultFrom"], "2026-11-30T17:44:42Z");
    assert!(ours["clock"]["sameResultUntil"].is_null());
}

#[test]
fn containerd_17_as_collected_by_containerd() {
    check_fixture("containerd-1.7", "containerd-1.7/gc.json", &[]);
}

#[test]
fn docker_28_5_as_collected_by_containerd() {
    // The reference ran containerd 1.6's collector over this 2.x (version 4) meta.db.
    check_fixture("docker-28.5", "docker-28.5/gc.json", &["--model", "1.6"]);
    // 2.x's own rules agree here: no image carries an expiry.
    check_fixture("docker-28.5", "docker-28.5/gc.json", &[]);
}

#[test]
fn scenario_matches_containerd_at_both_clocks() {
    let (_guard, root) = scenario_copy();
    for name in ["gc-2026-12-01.json", "gc-2027-07-01.json"] {
        let reference = scenario_reference(name);
        let at = s(&reference["clock"]["gc_now"]);
        let ours = gc_json(&root, &at, &[]);
        assert_agrees(name, &reference, &ours);
        // Something goes for every kind, so these comparisons are not vacuous.
        for k in [
            "content",
            "leases",
            "snapshots",
            "ingests",
            "blobFiles",
            "ingestDirs",
            "backendSnapshots",
            "snapshotDirs",
        ] {
            assert!(!arr(&ours[k]).is_empty(), "{name}: nothing in {k}");
        }
    }
}

#[test]
fn scenario_names_why_things_stay() {
    let (_guard, root) = scenario_copy();
    let ours = gc_json(&root, "2026-12-01T00:00:00Z", &[]);
    let content: Set = arr(&ours["content"]).iter().map(|c| s(&c["digest"])).collect();
    let kept = |body: &str| {
        use sha2::Digest as _;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(body.as_bytes())))
    };
    // A flat lease holds the manifest but not what its labels name.
    assert!(!content.contains(&kept("gc scenario: manifest held by a flat lease\n")));
    assert!(content.contains(&kept("gc scenario: config below the flat-leased manifest\n")));
    // gc.ref.content/<name> is a reference; gc.ref.contentious is not.
    assert!(!content.contains(&kept("gc scenario: named by gc.ref.content/extra\n")));
    assert!(content.contains(&kept("gc scenario: named by gc.ref.contentious (not a reference)\n")));
    // An unparsable gc.expire never expires.
    assert!(!content.contains(&kept("gc scenario: held by a lease with an unparsable expiry\n")));
    let bad: Vec<&Value> = arr(&ours["clock"]["dependsOn"])
        .iter()
        .filter(|d| d["id"] == "bad-expiry")
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0]["parsable"], false);
    // The live ingest's expiry bounds the window in which this answer holds.
    assert_eq!(ours["clock"]["sameResultUntil"], "2027-06-01T00:00:00Z");
}

/// The same lease in `timeline`: no Lease Expires event, said, and no damage (exit 0): `ctr
/// leases create` writes such a label and containerd's collector ignores it (sweep 42, M2).
#[test]
fn timeline_says_an_unparsable_expiry_and_calls_it_no_damage() {
    let (_guard, root) = scenario_copy();
    let run = coldctr(&["--root", root.to_str().unwrap(), "timeline", "--format", "jsonl"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(r#"lease bad-expiry in namespace default: its containerd.io/gc.expire label "next tuesday" is no RFC 3339 time"#),
        "{}",
        run.stderr
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let expires: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["timestamp_desc"] == "Lease Expires")
        .collect();
    assert!(!expires.is_empty(), "the parsable expiries are events");
    assert!(expires.iter().all(|e| e["id"] != "bad-expiry"));
}

#[test]
fn a_name_that_is_not_a_digest_stops_the_content_sweep() {
    // containerd's Delete fails on it, which ends the walk: files after it stay, and no ingest
    // directory is aborted (checked once against the real collector).
    let (_guard, root) = scenario_copy();
    let bad = root.join("io.containerd.content.v1.content/blobs/sha256/7777notvalid");
    std::fs::write(&bad, b"x").expect("write");
    let ours = gc_json(&root, "2026-12-01T00:00:00Z", &[]);
    assert!(
        ours["sweeps"]["content"]["stopped"]
            .as_str()
            .unwrap_or("")
            .contains("7777notvalid")
    );
    let files: Set = arr(&ours["blobFiles"]).iter().map(|f| s(&f["digest"])).collect();
    let reference = reference_removed(&scenario_reference("gc-2026-12-01.json"));
    let before: Set = reference
        .blob_files
        .iter()
        .filter(|d| d.as_str() < "sha256:7777")
        .cloned()
        .collect();
    assert_eq!(files, before);
    assert!(arr(&ours["ingestDirs"]).is_empty());
}

#[test]
fn damaged_blobs_are_reported_and_symlinks_never_followed() {
    let (guard, root) = fixture_copy("containerd-1.6");
    // A recorded blob deleted, another truncated: the collection does not look at files it
    // keeps, so nothing changes in what goes.
    let deleted = "sha256:3737e095dc67221b97f78ba2a2e57c66b59f30773eb42d172377627e6d82f541";
    let truncated = "sha256:f7610dee326f36c1661d2583c561cbe54a033d8f4732fc114b3138f2eba14f61";
    std::fs::remove_file(blob_path(&root, deleted)).expect("rm");
    std::fs::write(blob_path(&root, truncated), b"short").expect("truncate");
    // A recorded blob replaced by a symlink out of the root, to a FIFO: opening it would hang.
    let fifo = guard.path().join("outside-fifo");
    let c = std::ffi::CString::new(fifo.display().to_string()).expect("path");
    // SAFETY: mkfifo on a NUL-terminated path we own.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let linked = "sha256:88a3f0fc7a83ad2a58e928e53f12efd9f79ce50cc820534ced1dce3ce61cf55f";
    std::fs::remove_file(blob_path(&root, linked)).expect("rm");
    std::os::unix::fs::symlink(&fifo, blob_path(&root, linked)).expect("symlink");
    // An unrecorded one: a symlink with a digest name, out of the root.
    let stray = format!("sha256:{}", "ab".repeat(32));
    std::os::unix::fs::symlink(&fifo, blob_path(&root, &stray)).expect("symlink");

    let reference = expected("containerd-1.6/gc.json");
    let ours = gc_json(&root, &s(&reference["clock"]["gc_now"]), &[]);
    let r = our_removed(&ours);
    assert!(r.content.is_empty() && r.blob_files.is_empty());
    // The stray symlink is an orphan (reported as a symlink, size 0) and pending: containerd
    // deletes the link itself when its content sweep next runs.
    let pending: Vec<&Value> = arr(&ours["pending"]["blobFiles"])
        .iter()
        .filter(|f| s(&f["digest"]) == stray)
        .collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["kind"], "symlink");
    assert_eq!(pending[0]["size"], 0);
    assert!(arr(&ours["orphanBlobFiles"]).iter().any(|f| s(&f["digest"]) == stray));
    // The recorded symlink is kept (recorded), never followed: the run above finished although
    // the FIFO behind it has no writer.
    assert!(arr(&ours["orphanBlobFiles"]).iter().all(|f| s(&f["digest"]) != linked));
    // Table output too.
    let run = coldctr(&[
        "--root",
        &root.display().to_string(),
        "gc",
        "--at",
        "2026-11-27T18:00:00Z",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let text = run.stdout_text();
    assert!(text.contains("Nothing would be removed."), "{text}");
    assert!(text.contains("[symlink, not followed]"), "{text}");
    assert!(text.contains("\nLegend ("), "{text}");
}

#[test]
fn the_damaged_docker_fixture_still_answers() {
    let ours = gc_json(&fixture("docker-28.5-damaged"), "2026-11-27T18:00:00Z", &[]);
    let r = our_removed(&ours);
    assert!(r.content.is_empty() && r.blob_files.is_empty() && r.snapshots.is_empty());
}

#[test]
fn bad_clock_is_a_usage_error() {
    let run: Run = coldctr(&[
        "--root",
        &fixture("containerd-1.6").display().to_string(),
        "gc",
        "--at",
        "yesterday",
    ]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

/// Lease expiry labels with zone offsets out of range or signed (tests/data/gc-go-expiry, made
/// by a containerd 1.6.20 built with go1.19.8): `--go 1.19` removes exactly the leases that
/// containerd's own collection removed; by default (Go 1.23 and later) those labels are
/// refused and never expire, and each says how older Go reads it.
#[test]
fn lease_expiry_follows_the_go_containerd_was_built_with() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gc-go-expiry");
    let root = data.join("root");
    let list = |name: &str| -> Set {
        std::fs::read_to_string(data.join(name))
            .expect("list")
            .lines()
            .map(str::to_string)
            .collect()
    };
    let (removed, kept) = (list("removed-leases.txt"), list("kept-leases.txt"));
    let leases = |v: &Value| -> Set { arr(&v["leases"]).iter().map(|l| s(&l["id"])).collect() };
    let go119 = gc_json(&root, "2026-12-04T02:00:00Z", &["--go", "go1.19.8"]);
    assert_eq!(leases(&go119), removed);
    assert!(leases(&go119).is_disjoint(&kept));
    assert_eq!(go119["clock"]["go"], "Go 1.19 and older");

    let today = gc_json(&root, "2026-12-04T02:00:00Z", &[]);
    let gone = leases(&today);
    assert_eq!(
        gone,
        ["lease-1", "lease-7"].map(String::from).into_iter().collect::<Set>()
    );
    let depends = arr(&today["clock"]["dependsOn"]);
    let item = |id: &str| depends.iter().find(|d| d["id"] == id).unwrap_or_else(|| panic!("{id}"));
    // +25:00: refused since Go 1.23, read by 1.22 and older.
    let l2 = item("lease-2");
    assert_eq!(
        (l2["parsable"].as_bool(), l2["expired"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(l2["otherGo"][0]["go"], "Go 1.22 and older");
    assert_eq!(l2["otherGo"][0]["reads"], "2019-12-30T23:00:00Z");
    assert_eq!(l2["otherGo"][0]["expired"], true);
    // ++1:00: only Go 1.19 and older take the sign.
    assert_eq!(item("lease-4")["otherGo"][0]["go"], "Go 1.19 and older");
    // 2099 with +25:00: older Go reads an instant not yet passed (the same verdict today,
    // another one after it), so it is listed but not counted in the note.
    let l8 = item("lease-8");
    assert_eq!(l8["otherGo"][0]["reads"], "2098-12-30T23:00:00Z");
    assert_eq!(l8["otherGo"][0]["expired"], false);
    // No other reading where every Go agrees.
    for id in ["lease-1", "lease-7", "lease-9"] {
        assert!(item(id).get("otherGo").is_none(), "{id}");
    }
    assert!(
        arr(&today["notes"])
            .iter()
            .any(|n| s(n).starts_with("5 expiry label(s) expire or not depending on the Go")),
        "{:?}",
        today["notes"]
    );
    // The table says it too.
    let run = coldctr(&[
        "--root",
        root.to_str().unwrap_or_default(),
        "gc",
        "--at",
        "2026-12-04T02:00:00Z",
    ]);
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("lease x/lease-2: expires 2020-01-01T00:00:00+25:00 (Go 1.23 and later refuse it: never expires); Go 1.22 and older read it as 2019-12-30T23:00:00Z (expired)"),
        "{text}"
    );
    let bad = coldctr(&["--root", root.to_str().unwrap_or_default(), "gc", "--go", "one"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
}
