//! `coldctr meta-diff`: the records one view has and the other not, against what a real
//! containerd collection removed (`tests/data/gc-scenario`: the scenario's meta.db before, and
//! the copy containerd 1.6's own GC left behind), and the one transaction the containerd-1.6
//! fixture's two meta pages differ by.

mod gcdu_support;

use gcdu_support::{repo, scenario_copy, scenario_reference};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
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
    // `--against` a directory (a root given where its meta.db was meant) is a usage error.
    let (code, _, stderr) = coldctr(&[
        "--root".as_ref(),
        same.as_os_str(),
        "meta-diff".as_ref(),
        "--against".as_ref(),
        root.as_os_str(),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not a regular file (a directory)"), "{stderr}");
}

/// One view of a bbolt file as `coldctr bolt dump --meta N --format jsonl` prints it: every
/// key by its bucket path (values hex, buckets null).
fn dump(db: &std::path::Path, meta: u8) -> BTreeMap<Vec<String>, Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .args(["bolt", "dump", "--meta", &meta.to_string(), "--format", "jsonl"])
        .arg(db)
        .env_remove("COLDCTR_ROOT")
        .output()
        .expect("run coldctr bolt dump");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        db.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("jsonl");
            let mut path: Vec<String> = v["bucket"]
                .as_array()
                .expect("bucket")
                .iter()
                .map(|b| b.as_str().expect("name").to_string())
                .collect();
            path.push(v["key"].as_str().expect("key").to_string());
            (path, v["value"].clone())
        })
        .collect()
}

type Rec = (String, String, String);

/// The records of a dump: (kind, namespace, name) -> {field path below the record: value}, by
/// containerd's schema (meta.db: v1/<ns>/images|containers|leases/<name>,
/// v1/<ns>/content/blob|ingests/<name>, v1/<ns>/snapshots/<snapshotter>/<key>, the namespace
/// v1/<ns> with its labels; a snapshotter's metadata.db: v1/snapshots/<key>).
fn dump_records(d: &BTreeMap<Vec<String>, Value>) -> BTreeMap<Rec, BTreeMap<String, Value>> {
    let snapshotter_db = d.contains_key(&vec!["v1".to_string(), "parents".to_string()]);
    let mut out: BTreeMap<Rec, BTreeMap<String, Value>> = BTreeMap::new();
    for (path, value) in d {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        let (rec, field): (Rec, String) = match p.as_slice() {
            ["v1", "snapshots", key, rest @ ..] if snapshotter_db => (
                ("backend_snapshot".into(), String::new(), key.to_string()),
                rest.join("/"),
            ),
            _ if snapshotter_db => continue,
            ["v1", ns, kind @ ("images" | "containers" | "leases"), name, rest @ ..] => {
                let kind = kind.trim_end_matches('s').to_string();
                ((kind, ns.to_string(), name.to_string()), rest.join("/"))
            }
            ["v1", ns, "content", bucket @ ("blob" | "ingests"), name, rest @ ..] => {
                let kind = if *bucket == "blob" { "content" } else { "ingest" };
                ((kind.into(), ns.to_string(), name.to_string()), rest.join("/"))
            }
            ["v1", ns, "snapshots", sn, key, rest @ ..] => (
                ("snapshot".into(), ns.to_string(), format!("{sn}/{key}")),
                rest.join("/"),
            ),
            ["v1", ns] if value.is_null() => (("namespace".into(), String::new(), ns.to_string()), String::new()),
            // The namespace record's one field: its labels.
            ["v1", ns, "labels", rest @ ..] => (
                ("namespace".into(), String::new(), ns.to_string()),
                format!("labels/{}", rest.join("/")),
            ),
            _ => continue,
        };
        let fields = out.entry(rec).or_default();
        // Buckets are containers, not values: an empty labels bucket and none are the same.
        if !field.is_empty() && !value.is_null() {
            fields.insert(field, value.clone());
        }
    }
    out
}

/// A field as meta-diff names it (`labels.containerd.io/gc.expire`, `updatedAt`,
/// `target.digest`) and as the dump has it (`labels/containerd.io/gc.expire`, `updatedat`,
/// `target/digest`), compared by its first segment, case aside, and a label's whole key.
fn field_head(f: &str, sep: char) -> String {
    let (head, rest) = f.split_once(sep).unwrap_or((f, ""));
    let head = head.to_ascii_lowercase();
    match head.as_str() {
        "labels" | "annotations" => format!("{head}.{rest}"),
        _ => head,
    }
}

fn txid(file: &[u8], meta: usize) -> u64 {
    let at = meta * 4096 + 16 + 48; // page header, then magic .. pgid
    u64::from_le_bytes(file[at..at + 8].try_into().expect("8 bytes"))
}

/// `coldctr meta-diff` of the file against what its two meta pages' dumps differ by.
fn agrees_with_dumps(db: &std::path::Path) -> usize {
    let bytes = std::fs::read(db).expect("read");
    let (older, newer) = if txid(&bytes, 0) < txid(&bytes, 1) {
        (0, 1)
    } else {
        (1, 0)
    };
    let (raw_from, raw_to) = (dump(db, older), dump(db, newer));
    let (from, to) = (dump_records(&raw_from), dump_records(&raw_to));
    assert!(!to.is_empty(), "{}", db.display());
    let (code, d, stderr) = coldctr(&[
        "--root".as_ref(),
        db.as_os_str(),
        "meta-diff".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(d["damage"], Value::Array(vec![]), "{}: {stderr}", db.display());
    let rec = |k: &Rec| (k.0.clone(), k.1.clone(), k.2.clone());
    let added: BTreeSet<Rec> = to.keys().filter(|k| !from.contains_key(*k)).map(rec).collect();
    let removed: BTreeSet<Rec> = from.keys().filter(|k| !to.contains_key(*k)).map(rec).collect();
    let mut changed: BTreeMap<Rec, BTreeSet<String>> = BTreeMap::new();
    for (k, old) in &from {
        let Some(new) = to.get(k) else { continue };
        if old == new {
            continue;
        }
        let fields = old
            .keys()
            .chain(new.keys())
            .filter(|f| old.get(*f) != new.get(*f))
            .map(|f| field_head(f, '/'))
            .collect();
        changed.insert(rec(k), fields);
    }
    let what = |x: &Value| keys(x);
    assert_eq!(what(&d["added"]), added, "{}: added", db.display());
    assert_eq!(what(&d["removed"]), removed, "{}: removed", db.display());
    let reported: BTreeMap<Rec, BTreeSet<String>> = d["changed"]
        .as_array()
        .expect("changed")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            let fields = c["fields"]
                .as_array()
                .expect("fields")
                .iter()
                .map(|f| field_head(f["field"].as_str().expect("field"), '.'))
                .collect();
            ((s("kind"), s("namespace"), s("name")), fields)
        })
        .collect();
    assert_eq!(reported, changed, "{}: changed", db.display());
    let n = added.len() + removed.len() + changed.len();
    assert_eq!(code, Some(if n == 0 { 0 } else { 1 }), "{}: {stderr}", db.display());
    if n == 0 {
        // Here the last transaction changed nothing at all (a collection that removed
        // nothing still commits): the two trees are the same, key for key.
        assert_eq!(raw_from, raw_to, "{}", db.display());
    }
    n
}

#[test]
fn every_fixture_agrees_with_its_two_meta_pages() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for tarball in ["cri-k8s", "node-docker28-dev"] {
        let dir = tmp.path().join(tarball);
        std::fs::create_dir(&dir).expect("mkdir");
        let out = Command::new("tar")
            .arg("-xzf")
            .arg(repo().join("fixtures").join(format!("{tarball}.tar.gz")))
            .arg("-C")
            .arg(&dir)
            .args(["--wildcards", "*.db"])
            .output()
            .expect("run tar");
        assert!(out.status.success(), "tar: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut dbs = Vec::new();
    for fixture in ["containerd-1.6", "containerd-1.7", "docker-28.5", "docker-28.5-damaged"] {
        let root = repo().join("fixtures").join(fixture);
        dbs.push(root.join("io.containerd.metadata.v1.bolt/meta.db"));
        dbs.push(root.join("io.containerd.snapshotter.v1.overlayfs/metadata.db"));
    }
    for data in ["deleted-1.6", "deleted-nofreelist"] {
        let root = repo().join("tests/data").join(data).join("root");
        dbs.push(root.join("io.containerd.metadata.v1.bolt/meta.db"));
        dbs.push(root.join("io.containerd.snapshotter.v1.overlayfs/metadata.db"));
    }
    dbs.push(repo().join("tests/data/gc-scenario/after-gc-2026-12-01.meta.db"));
    dbs.push(tmp.path().join("cri-k8s/io.containerd.metadata.v1.bolt/meta.db"));
    let node = tmp.path().join("node-docker28-dev/var/lib/containerd");
    dbs.push(node.join("io.containerd.metadata.v1.bolt/meta.db"));
    dbs.push(node.join("io.containerd.snapshotter.v1.overlayfs/metadata.db"));
    let mut differing = BTreeMap::new();
    for db in &dbs {
        let n = agrees_with_dumps(db);
        let name = db
            .strip_prefix(repo())
            .or_else(|_| db.strip_prefix(tmp.path()))
            .expect("a fixture")
            .display()
            .to_string();
        differing.insert(name, n);
    }
    // How many records each file's last transaction added, removed or changed (the
    // assertions above say which); 0 where the two meta pages hold the same tree.
    let want: BTreeMap<String, usize> = [
        ("cri-k8s/io.containerd.metadata.v1.bolt/meta.db", 2),
        ("fixtures/containerd-1.6/io.containerd.metadata.v1.bolt/meta.db", 1),
        (
            "fixtures/containerd-1.6/io.containerd.snapshotter.v1.overlayfs/metadata.db",
            1,
        ),
        ("fixtures/containerd-1.7/io.containerd.metadata.v1.bolt/meta.db", 0),
        (
            "fixtures/containerd-1.7/io.containerd.snapshotter.v1.overlayfs/metadata.db",
            1,
        ),
        ("fixtures/docker-28.5-damaged/io.containerd.metadata.v1.bolt/meta.db", 0),
        (
            "fixtures/docker-28.5-damaged/io.containerd.snapshotter.v1.overlayfs/metadata.db",
            1,
        ),
        ("fixtures/docker-28.5/io.containerd.metadata.v1.bolt/meta.db", 0),
        (
            "fixtures/docker-28.5/io.containerd.snapshotter.v1.overlayfs/metadata.db",
            1,
        ),
        (
            "node-docker28-dev/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db",
            2,
        ),
        (
            "node-docker28-dev/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/metadata.db",
            1,
        ),
        ("tests/data/deleted-1.6/root/io.containerd.metadata.v1.bolt/meta.db", 5),
        (
            "tests/data/deleted-1.6/root/io.containerd.snapshotter.v1.overlayfs/metadata.db",
            1,
        ),
        (
            "tests/data/deleted-nofreelist/root/io.containerd.metadata.v1.bolt/meta.db",
            5,
        ),
        (
            "tests/data/deleted-nofreelist/root/io.containerd.snapshotter.v1.overlayfs/metadata.db",
            1,
        ),
        ("tests/data/gc-scenario/after-gc-2026-12-01.meta.db", 0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(differing, want);
}

/// The last transaction of both deleted-* files is the collection after `images rm --sync
/// multi:3.1`: multi's four content records and the expired lease, as gc-log.txt (the
/// daemon's own lines) and gc.jsonl say.
#[test]
fn the_last_collection_of_the_deleted_fixtures() {
    let want = BTreeSet::from([
        (
            "content".to_string(),
            "default".to_string(),
            "sha256:2b1402f6299661e3dc5988c6042f33bc8dc3090077761ba8335106348804458a".to_string(),
        ),
        (
            "content".into(),
            "default".into(),
            "sha256:4092abe436195c73b7ed07439bdefc1d6b1daa3d78801d5e52fa15b0b338b0f8".into(),
        ),
        (
            "content".into(),
            "default".into(),
            "sha256:44bb60e75fb8a8043abc33eca0df55646ef000ebd252e66c6f63a003bcc867d8".into(),
        ),
        (
            "content".into(),
            "default".into(),
            "sha256:cb922b334e18e809c49abe3564af1bbf30f4de901ce9a71eda18307cfb8b42cb".into(),
        ),
        ("lease".into(), "default".into(), "lease-expire".into()),
    ]);
    let log = std::fs::read_to_string(repo().join("tests/data/deleted-1.6/gc-log.txt")).expect("gc-log");
    let last: Vec<&str> = log
        .rsplit("level=debug msg=\"garbage collected\"")
        .nth(1)
        .expect("collections")
        .lines()
        .collect();
    for (kind, _, name) in want.iter().filter(|k| k.0 == "content") {
        assert!(
            last.iter()
                .any(|l| l.contains("remove content") && l.contains(name.as_str())),
            "{kind} {name}"
        );
    }
    let gc = std::fs::read_to_string(repo().join("tests/data/deleted-nofreelist/gc.jsonl")).expect("gc.jsonl");
    let last: Value = serde_json::from_str(gc.lines().last().expect("a collection")).expect("json");
    let removed: BTreeSet<(String, String, String)> = last["removed"]
        .as_array()
        .expect("removed")
        .iter()
        .map(|r| {
            let mut p = r.as_str().expect("str").splitn(3, '/');
            let mut next = || p.next().unwrap_or_default().to_string();
            (next(), next(), next())
        })
        .collect();
    assert_eq!(removed, want);
    for fixture in ["deleted-1.6", "deleted-nofreelist"] {
        let root = repo().join("tests/data").join(fixture).join("root");
        let (code, d, stderr) = coldctr(&[
            "--root".as_ref(),
            root.as_os_str(),
            "meta-diff".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
        ]);
        assert_eq!(code, Some(1), "{fixture}: {stderr}");
        assert_eq!(keys(&d["removed"]), want, "{fixture}");
        assert_eq!(d["added"], Value::Array(vec![]), "{fixture}");
        assert_eq!(d["changed"], Value::Array(vec![]), "{fixture}");
    }
}

/// Snapshotter names are bucket keys, any bytes: snapshotter `overlayfs` with key `x/y` and
/// snapshotter `overlayfs/x` with key `y` were keyed alike (`overlayfs/x/y`), one record hid
/// the other, and a label added to one was "No record differs.", exit 0.
#[test]
fn snapshots_whose_names_join_alike_are_two_records() {
    use coldctr::bolt::build::{Tree, build};
    let dir = tempfile::tempdir().unwrap();
    let meta = |labelled: bool| {
        let mut t = Tree::new();
        t.bucket(&[b"v1"]).put(b"version", &[3]);
        for (sn, key) in [(&b"overlayfs"[..], &b"x/y"[..]), (b"overlayfs/x", b"y")] {
            let s = t.bucket(&[b"v1", b"moby", b"snapshots", sn, key]);
            s.put(b"name", b"moby/1/k");
            if labelled && sn == b"overlayfs" {
                t.bucket(&[b"v1", b"moby", b"snapshots", sn, key, b"labels"])
                    .put(b"changed", b"in-last-tx");
            }
        }
        build(&t)
    };
    let bolt = dir.path().join("root/io.containerd.metadata.v1.bolt");
    std::fs::create_dir_all(&bolt).unwrap();
    std::fs::write(bolt.join("meta.db"), meta(true)).unwrap();
    let before = dir.path().join("before.db");
    std::fs::write(&before, meta(false)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(dir.path().join("root"))
        .args(["meta-diff", "--format", "json", "--against"])
        .arg(&before)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let changed = d["changed"].as_array().expect("changed");
    assert_eq!(changed.len(), 1, "{d}");
    assert_eq!(changed[0]["name"], "overlayfs/x/y", "{d}");
}

/// `--previous` was ignored by meta-diff (the same report with it and without). Without
/// `--against` both sides would be the previous transaction: refused (2). With it, the root's
/// side is its previous transaction.
#[test]
fn previous_is_refused_alone_and_honoured_with_against() {
    let root = repo().join("fixtures/docker-28.5");
    let db = root.join("io.containerd.metadata.v1.bolt/meta.db");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .arg("--root")
            .arg(&root)
            .args(args)
            .output()
            .unwrap()
    };
    let alone = run(&["--previous", "meta-diff"]);
    assert_eq!(
        alone.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&alone.stderr)
    );
    let against = db.to_str().unwrap();
    let current = run(&["meta-diff", "--format", "json", "--against", against]);
    let previous = run(&["--previous", "meta-diff", "--format", "json", "--against", against]);
    let to = |o: &std::process::Output| serde_json::from_slice::<Value>(&o.stdout).unwrap()["to"].clone();
    assert_ne!(
        to(&current),
        to(&previous),
        "{}",
        String::from_utf8_lossy(&previous.stdout)
    );
}

/// A changed value prints in the text report as its JSON text, once: it was escaped a second
/// time (`"a\\"b` for the value `a"b`), so it no longer read as the value it is.
#[test]
fn a_changed_value_prints_as_its_json_text() {
    use coldctr::bolt::build::{Tree, build};
    let dir = tempfile::tempdir().unwrap();
    let meta = |value: &[u8]| {
        let mut t = Tree::new();
        t.bucket(&[b"v1"]).put(b"version", &[3]);
        t.bucket(&[b"v1", b"moby", b"leases", b"l1", b"labels"])
            .put(b"q", value);
        build(&t)
    };
    let bolt = dir.path().join("root/io.containerd.metadata.v1.bolt");
    std::fs::create_dir_all(&bolt).unwrap();
    std::fs::write(bolt.join("meta.db"), meta(b"a\"b\\c\x1b[31m\nend\x7f")).unwrap();
    let before = dir.path().join("before.db");
    std::fs::write(&before, meta(b"plain")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(dir.path().join("root"))
        .args(["meta-diff", "--against"])
        .arg(&before)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    // The JSON text of each side, as serde_json writes it, with DEL escaped on the terminal.
    let line = "    labels.q: \"plain\" -> \"a\\\"b\\\\c\\u001b[31m\\nend\\u007f\"\n";
    assert!(text.contains(line), "{text}");
    let to = text
        .split(" -> ")
        .nth(1)
        .and_then(|t| t.lines().next())
        .expect("a changed field");
    let value: Value = serde_json::from_str(to).expect("the printed value is JSON");
    assert_eq!(value, "a\"b\\c\x1b[31m\nend\x7f");
}

/// A snapshotter's metadata.db against a meta.db: two schemas with no record in common, every
/// record "removed" and "added" in silence (sweep 42, L4). Refused (2), naming both; the same
/// schema on both sides still compares.
#[test]
fn files_of_two_schemas_are_refused() {
    let root = repo().join("fixtures/docker-28.5");
    let snapshots = root.join("io.containerd.snapshotter.v1.overlayfs/metadata.db");
    let run = |r: &std::path::Path, against: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .arg("--root")
            .arg(r)
            .arg("meta-diff")
            .arg("--against")
            .arg(against)
            .output()
            .unwrap()
    };
    let mixed = run(&root, &snapshots);
    let said = String::from_utf8_lossy(&mixed.stderr);
    assert_eq!(mixed.status.code(), Some(2), "{said}");
    assert!(
        said.contains("is a snapshotter's metadata.db and") && said.contains("is containerd's meta.db"),
        "{said}"
    );
    assert!(mixed.stdout.is_empty());
    let same = run(&snapshots, &snapshots);
    assert_eq!(same.status.code(), Some(0), "{}", String::from_utf8_lossy(&same.stderr));
}

/// A torn last commit (its meta landed, its root page did not): the current transaction reads
/// no record, and every record of the previous one was listed as removed (sweep 43.4). Nothing
/// is compared now, and that is said (exit 3).
#[test]
fn a_side_that_reads_no_record_is_not_compared() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let bolt = root.join("io.containerd.metadata.v1.bolt");
    std::fs::create_dir_all(&bolt).unwrap();
    let fixture = repo().join("fixtures/containerd-1.6/io.containerd.metadata.v1.bolt/meta.db");
    let mut file = std::fs::read(&fixture).unwrap();
    // The current meta (the higher txid) and its root page: page header 16 bytes, then magic,
    // version, page size, flags (4 bytes each), then the root bucket's page id.
    let (current, _) = (0..2).map(|m| (m, txid(&file, m))).max_by_key(|&(_, t)| t).unwrap();
    let at = current * 4096 + 32;
    let root_page = u64::from_le_bytes(file[at..at + 8].try_into().unwrap()) as usize;
    file[root_page * 4096..(root_page + 1) * 4096].fill(0);
    std::fs::write(bolt.join("meta.db"), &file).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(&root)
        .arg("meta-diff")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{said}");
    assert!(
        said.contains("no record of it reads") && said.contains("nothing compared"),
        "{said}"
    );
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("removed"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}
