//! `coldctr meta-diff`: the records one view has and the other not, against what a real
//! containerd collection removed (`tests/data/gc-scenario`: the scenario's meta.db before, and
//! the copy containerd 1.6's own GC left behind), and the one transaction the containerd-1.6
//! fixture's two meta pages differ by.

mod gcdu_support;

use gcdu_support::{repo, scenario_copy, scenario_reference};
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

fn coldctr(args: &[&std::ffi::OsStr]) -> (Option<i32>, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .args(args)
        .env_remove("COLDCTR_ROOT")
        .output()
        .expect("run coldctr");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), json, stderr)
}

fn keys(v: &Value) -> BTreeSet<(String, String, String)> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (s("kind"), s("namespace"), s("name"))
        })
        .collect()
}

#[test]
fn what_containerds_collection_removed() {
    let (tmp, before) = scenario_copy();
    // The root after the collection: the scenario with containerd's post-GC meta.db.
    let after = tmp.path().join("after");
    gcdu_support::copy_tree(&before, &after);
    std::fs::copy(
        repo().join("tests/data/gc-scenario/after-gc-2026-12-01.meta.db"),
        after.join("io.containerd.metadata.v1.bolt/meta.db"),
    )
    .expect("copy meta.db");
    let before_db = before.join("io.containerd.metadata.v1.bolt/meta.db");
    let (code, d, stderr) = coldctr(&[
        "--root".as_ref(),
        after.as_os_str(),
        "meta-diff".as_ref(),
        "--against".as_ref(),
        before_db.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(code, Some(1), "records differ: {stderr}");

    let reference = scenario_reference("gc-2026-12-01.json");
    let mut want = BTreeSet::new();
    for ns in reference["namespaces"].as_array().expect("namespaces") {
        let name = ns["namespace"].as_str().unwrap_or_default().to_string();
        let removed = &ns["removed"];
        let list = |k: &str| removed[k].as_array().cloned().unwrap_or_default();
        for c in list("content") {
            want.insert((
                "content".into(),
                name.clone(),
                c["digest"].as_str().unwrap_or_default().into(),
            ));
        }
        for i in list("ingests") {
            want.insert((
                "ingest".into(),
                name.clone(),
                i["key"].as_str().unwrap_or_default().into(),
            ));
        }
        for l in list("leases") {
            want.insert((
                "lease".into(),
                name.clone(),
                l["id"].as_str().unwrap_or_default().into(),
            ));
        }
        for s in list("snapshots") {
            let key = format!(
                "{}/{}",
                s["snapshotter"].as_str().unwrap_or_default(),
                s["key"].as_str().unwrap_or_default()
            );
            want.insert(("snapshot".into(), name.clone(), key));
        }
        for i in list("images") {
            want.insert((
                "image".into(),
                name.clone(),
                i["name"].as_str().unwrap_or_default().into(),
            ));
        }
        for c in list("containers") {
            want.insert((
                "container".into(),
                name.clone(),
                c["id"].as_str().unwrap_or_default().into(),
            ));
        }
    }
    assert_eq!(want.len(), 17, "the reference's removed records");
    assert_eq!(keys(&d["removed"]), want);
    // What the oracle wrote for its triggered sweep (tests/data/gc-scenario/README.md).
    assert_eq!(
        keys(&d["added"]),
        BTreeSet::from([("namespace".into(), String::new(), "ctroracle-gc-trigger".into())])
    );
    let changed = d["changed"].as_array().expect("changed");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["name"], "ing-live");
    assert_eq!(changed[0]["fields"][0]["field"], "expireAt");
    assert_eq!(changed[0]["fields"][0]["from"], "2027-06-01T00:00:00Z");
    // A removed record comes whole.
    let lease = d["removed"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["name"] == "short-lease"))
        .expect("short-lease removed");
    assert_eq!(
        lease["record"]["labels"]["containerd.io/gc.expire"],
        "2026-11-30T17:44:42Z"
    );
}

#[test]
fn the_previous_transaction_of_the_16_fixture() {
    let root = repo().join("fixtures/containerd-1.6");
    let (code, d, stderr) = coldctr(&[
        "--root".as_ref(),
        root.as_os_str(),
        "meta-diff".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    // The last transaction added the lease short-lease (bolt dump --meta previous shows it
    // absent; the ctr capture lists it).
    assert_eq!(
        keys(&d["added"]),
        BTreeSet::from([("lease".into(), "default".into(), "short-lease".into())])
    );
    assert_eq!(d["removed"], Value::Array(vec![]));
    assert_eq!(d["changed"], Value::Array(vec![]));
    assert!(
        std::fs::read_to_string(repo().join("fixtures/expected/containerd-1.6/ctr-leases-default.txt"))
            .expect("ctr leases")
            .contains("short-lease")
    );
    // A root whose two transactions hold the same records: exit 0.
    let same = repo().join("fixtures/docker-28.5");
    let (code, d, _) = coldctr(&[
        "--root".as_ref(),
        same.as_os_str(),
        "meta-diff".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(d["added"], Value::Array(vec![]));
}
