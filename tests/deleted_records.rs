//! `coldctr recover` on records deleted through containerd itself: `tests/data/deleted-1.6`
//! (a real containerd 1.6.20 daemon driven by ctr, meta.db keeps its freelist) and
//! `tests/data/deleted-nofreelist` (the same scenario through containerd's metadata stores on a
//! meta.db opened with NoFreelistSync, as containerd 1.7 and 2.x open it). What existed is what
//! the listings captured while the stores were live said (`before/`, `after/`; see each
//! README), never our own output.

mod gcdu_support;

use gcdu_support::{Key, may_be, repo, s};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn data(fixture: &str) -> PathBuf {
    repo().join("tests/data").join(fixture)
}

fn meta_db(fixture: &str) -> PathBuf {
    data(fixture).join("root/io.containerd.metadata.v1.bolt/meta.db")
}

fn recover(root: &Path) -> Vec<Value> {
    let (code, json, stderr) = gcdu_support::recover_json(root);
    // The roots hold only the bbolt files: no blob can be read, which `recover` does not need.
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(json["damage"], Value::Array(vec![]), "{json}");
    json["records"].as_array().cloned().expect("records")
}

/// The record kinds ctr's captures list, with the name of their table or field.
const CAPTURED: [(&str, &str); 6] = [
    ("image", "images"),
    ("content", "content"),
    ("lease", "leases"),
    ("container", "containers"),
    ("snapshot", "snapshots"),
    ("ingest", "ingests"),
];

fn key(kind: &str, ns: &str, name: &str) -> Key {
    (kind.to_string(), ns.to_string(), name.to_string())
}

/// What ctr listed in one capture of deleted-1.6 (`before/` or `after/`): the first column of
/// each table, below its header.
fn ctr_capture(dir: &Path) -> BTreeSet<Key> {
    let rows = |file: &str| -> Vec<String> {
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut lines = text.lines();
        let header = lines.next().expect("header");
        assert!(
            header.chars().next().is_some_and(|c| c.is_ascii_uppercase()),
            "{file}: {header}"
        );
        lines
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    };
    let mut out = BTreeSet::new();
    for ns in rows("namespaces.txt") {
        out.insert(key("namespace", "", &ns));
        for (kind, file) in CAPTURED {
            for name in rows(&format!("{ns}-{file}.txt")) {
                let name = if kind == "snapshot" {
                    format!("overlayfs/{name}")
                } else {
                    name
                };
                out.insert(key(kind, &ns, &name));
            }
        }
    }
    out
}

/// What ctrnofreelist listed through the stores (`before.json`, `after.json`).
fn store_capture(path: &Path) -> BTreeSet<Key> {
    let v = gcdu_support::read_json(path);
    let mut out = BTreeSet::new();
    for (ns, lists) in v.as_object().expect("namespaces") {
        out.insert(key("namespace", "", ns));
        for (kind, field) in CAPTURED {
            for name in lists[field].as_array().expect("list") {
                let name = name.as_str().expect("name");
                let name = if kind == "snapshot" {
                    format!("overlayfs/{name}")
                } else {
                    name.to_string()
                };
                out.insert(key(kind, ns, &name));
            }
        }
    }
    out
}

/// The name a record's bytes carry in the file (a snapshot's key without its snapshotter).
fn stored_name(k: &Key) -> &str {
    if k.0 == "snapshot" {
        k.2.split_once('/').map_or(k.2.as_str(), |(_, key)| key)
    } else {
        &k.2
    }
}

/// The pages of `file` holding `needle`.
fn pages_holding(file: &[u8], needle: &str) -> BTreeSet<u64> {
    let n = needle.as_bytes();
    file.windows(n.len())
        .enumerate()
        .filter(|(_, w)| *w == n)
        .map(|(i, _)| (i / 4096) as u64)
        .collect()
}

type Named<'a> = (&'a str, &'a str, &'a str);

struct Expect<'a> {
    /// Records listed before and not after: how many.
    removed: usize,
    /// The removed records carved (`live: false`), each as (kind, namespace, name).
    carved: &'a [Named<'a>],
    /// For removed records not carved whose name is still in the file outside every carved
    /// record: the pages where it is (a key on a stale leaf of the kind's bucket whose record
    /// page was reused; see the README). Every other record not carved is either absent from
    /// the file or named only inside the fields of carved records (a label, a parent).
    name_only: &'a [(Named<'a>, &'a [u64])],
}

fn check(fixture: &str, before: BTreeSet<Key>, after: BTreeSet<Key>, want: Expect<'_>) {
    let carved = recover(&data(fixture).join("root"));
    let removed: BTreeSet<Key> = before.difference(&after).cloned().collect();
    assert_eq!(removed.len(), want.removed, "{fixture}: {removed:#?}");
    assert!(
        after.is_subset(&before),
        "{fixture}: the scenario creates nothing after `before`"
    );

    // Nothing that never existed.
    for r in &carved {
        assert!(
            before.iter().chain(&after).any(|k| may_be(r, k)),
            "{fixture}: carved a record that never existed: {r}"
        );
    }
    // The live records are exactly what the stores listed after the deletions.
    let live: BTreeSet<Key> = carved
        .iter()
        .filter(|r| r["live"] == true)
        .map(|r| {
            let (kind, ns, name) = (s(&r["kind"]), s(&r["namespace"]), s(&r["name"]));
            let ns = if kind.as_deref() == Some("namespace") {
                String::new()
            } else {
                ns.expect("a live record has its namespace")
            };
            (kind.expect("kind"), ns, name.expect("a live record has its name"))
        })
        .collect();
    assert_eq!(live, after, "{fixture}");

    // Each record not live is a deleted one, or an old copy of a kept one (its namespace unknown,
    // `live_elsewhere` naming where the current tree has a record of that name).
    let mut found = BTreeSet::new();
    for r in carved.iter().filter(|r| r["live"] == false) {
        let elsewhere: Vec<String> = r["live_elsewhere"]
            .as_array()
            .map(|a| a.iter().filter_map(s).collect())
            .unwrap_or_default();
        let deleted: Vec<&Key> = removed
            .iter()
            .filter(|k| may_be(r, k) && !elsewhere.contains(&k.1))
            .collect();
        if deleted.is_empty() {
            assert!(!elsewhere.is_empty(), "{fixture}: not live, not deleted: {r}");
            assert!(
                elsewhere
                    .iter()
                    .all(|ns| after.iter().any(|k| k.1 == *ns && may_be(r, k))),
                "{fixture}: {r}"
            );
        } else {
            assert_eq!(r["current_reaches"], false, "{fixture}: {r}");
            found.extend(deleted.into_iter().cloned());
        }
    }
    let want_carved: BTreeSet<Key> = want.carved.iter().map(|(a, b, c)| key(a, b, c)).collect();
    assert_eq!(found, want_carved, "{fixture}: the deleted records carved");

    // What was not carved: its record page is gone. Its name survives only inside other carved
    // records' fields, or (name_only) as a key on a stale leaf whose record pages were reused.
    let file = std::fs::read(meta_db(fixture)).expect("meta.db");
    let mut name_only = BTreeMap::new();
    for k in removed.difference(&found) {
        let name = stored_name(k);
        let explained: BTreeSet<u64> = carved
            .iter()
            .filter(|r| r["fields"].to_string().contains(name))
            .filter_map(|r| r["page"].as_u64())
            .collect();
        let left: BTreeSet<u64> = pages_holding(&file, name).difference(&explained).copied().collect();
        if !left.is_empty() {
            name_only.insert(k.clone(), left);
        }
    }
    let want_name_only: BTreeMap<Key, BTreeSet<u64>> = want
        .name_only
        .iter()
        .map(|((a, b, c), pages)| (key(a, b, c), pages.iter().copied().collect()))
        .collect();
    assert_eq!(name_only, want_name_only, "{fixture}: names left without their records");
}

const MULTI: [&str; 4] = [
    "sha256:2b1402f6299661e3dc5988c6042f33bc8dc3090077761ba8335106348804458a",
    "sha256:4092abe436195c73b7ed07439bdefc1d6b1daa3d78801d5e52fa15b0b338b0f8",
    "sha256:44bb60e75fb8a8043abc33eca0df55646ef000ebd252e66c6f63a003bcc867d8",
    "sha256:cb922b334e18e809c49abe3564af1bbf30f4de901ce9a71eda18307cfb8b42cb",
];
const APP_DEBUG: [&str; 3] = [
    "sha256:57b42381f1737e1951f5a14c1e4c03c14693fe39c589639a1d233c437ba9adad",
    "sha256:a5e0b03ecb897ece671a0a8314c9fa7be4574bae6310bf012a3da382b028aa57",
    "sha256:c09b8a74500330264dd2277d0fbd3845f03b8b5b6da10960458a693ba8c88735",
];

#[test]
fn deleted_through_a_containerd_16_daemon() {
    let dir = data("deleted-1.6");
    let before = ctr_capture(&dir.join("before"));
    let after = ctr_capture(&dir.join("after"));
    assert!(before.contains(&key("lease", "default", "lease-rm")));
    assert!(after.contains(&key("container", "default", "c-multi")));
    let mut carved: Vec<(&str, &str, &str)> = MULTI.iter().map(|d| ("content", "default", *d)).collect();
    carved.extend(APP_DEBUG.iter().map(|d| ("content", "second", *d)));
    carved.push(("lease", "default", "lease-expire"));
    carved.push((
        "snapshot",
        "default",
        "overlayfs/sha256:edd340463f411a66a0e701ac4d2285b9a20a3b7dfbd2674d9c328479c921af2c",
    ));
    check(
        "deleted-1.6",
        before,
        after,
        Expect {
            removed: 28,
            carved: &carved,
            // Page 45 is a stale leaf of default's overlayfs snapshot bucket (the carved edd340..
            // is inline on it); its key ef26e6.. names a bucket on page 11, reused since.
            name_only: &[(
                (
                    "snapshot",
                    "default",
                    "overlayfs/sha256:ef26e6ad378e0d07cd548e1aa8be0a6be769a0915fb6cd76b0ececcf3d67a227",
                ),
                &[45],
            )],
        },
    );
}

/// The labels column of a ctr table (`k=v,k=v`; the last column, which has no spaces), by the
/// first column.
fn ctr_labels(file: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(file).expect("capture");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split(['\t', ' ']).filter(|c| !c.is_empty()).collect();
            let labels = cols
                .last()
                .filter(|c| c.contains('=') && cols.len() > 2)
                .map_or_else(BTreeMap::new, |c| {
                    c.split(',')
                        .filter_map(|kv| kv.split_once('='))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                });
            Some((cols.first()?.to_string(), labels))
        })
        .collect()
}

/// The deleted records carved from deleted-1.6 carry what ctr listed for them before.
#[test]
fn deleted_16_records_hold_what_ctr_listed() {
    let dir = data("deleted-1.6");
    let carved = recover(&dir.join("root"));
    let mut checked = 0;
    for r in carved
        .iter()
        .filter(|r| r["live"] == false && r["live_elsewhere"].is_null())
    {
        let (kind, name) = (s(&r["kind"]).unwrap_or_default(), s(&r["name"]).expect("name"));
        let file = match kind.as_str() {
            "content" => "content",
            "lease" => "leases",
            _ => continue,
        };
        let ns = if APP_DEBUG.contains(&name.as_str()) {
            "second"
        } else {
            "default"
        };
        let listed = ctr_labels(&dir.join(format!("before/{ns}-{file}.txt")));
        let labels = listed.get(&name).unwrap_or_else(|| panic!("{name} not listed in {ns}"));
        let carved_labels: BTreeMap<String, String> = r["fields"]["labels"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), s(v).unwrap_or_default())).collect())
            .unwrap_or_default();
        assert_eq!(&carved_labels, labels, "{r}");
        checked += 1;
    }
    assert_eq!(checked, 8, "7 content records and lease-expire");
}

#[test]
fn deleted_on_a_nofreelistsync_meta_db() {
    let dir = data("deleted-nofreelist");
    let before = store_capture(&dir.join("before.json"));
    let after = store_capture(&dir.join("after.json"));
    // The same scenario as deleted-1.6: the same records before and after.
    let d16 = data("deleted-1.6");
    assert_eq!(before, ctr_capture(&d16.join("before")));
    assert_eq!(after, ctr_capture(&d16.join("after")));
    let mut carved: Vec<(&str, &str, &str)> = MULTI.iter().map(|d| ("content", "default", *d)).collect();
    carved.extend(APP_DEBUG[..2].iter().map(|d| ("content", "second", *d)));
    carved.push(("lease", "default", "lease-expire"));
    carved.push(("lease", "second", "lease-second"));
    carved.push(("container", "second", "c-second"));
    check(
        "deleted-nofreelist",
        before,
        after,
        Expect {
            removed: 28,
            carved: &carved,
            // Stale leaves of the kind buckets: keys whose bucket pages were reused since.
            name_only: &[
                (("content", "second", APP_DEBUG[2]), &[39]),
                (("image", "default", "docker.io/library/multi:3.1"), &[57]),
                (("image", "default", "docker.io/library/multi:latest"), &[57]),
                (("image", "default", "docker.io/library/webapp-debug:1.0"), &[57]),
                (("image", "second", "localhost/lab-dev/app:debug"), &[46]),
                (("snapshot", "second", "overlayfs/c-second"), &[48]),
            ],
        },
    );
}

/// The meta pages' freelist field: a page id in the 1.6 file, bbolt's "not persisted"
/// (0xffffffffffffffff) in the NoFreelistSync one.
#[test]
fn freelist_pages() {
    let freelist = |fixture: &str| -> Vec<u64> {
        let file = std::fs::read(meta_db(fixture)).expect("meta.db");
        [0usize, 1]
            .iter()
            .map(|p| {
                let at = p * 4096 + 16 + 32; // page header, then magic..flags and the root bucket
                u64::from_le_bytes(file[at..at + 8].try_into().expect("8 bytes"))
            })
            .collect()
    };
    assert_eq!(freelist("deleted-nofreelist"), vec![u64::MAX, u64::MAX]);
    let kept = freelist("deleted-1.6");
    assert!(kept.iter().all(|&p| p > 1 && p < 128), "{kept:?}");
}

/// The snapshotter's own metadata.db of both fixtures: its live backend snapshots are the
/// snapshots listed after the deletions, and each one carved not live is a deleted snapshot
/// (backend keys are `<namespace>/<id>/<key>`, containerd's metadata snapshotter naming).
/// In both, the one deleted backend record carved is app:debug's layer in `second`, removed
/// by the last collection of the snapshotter's file (its previous meta still reaches it).
#[test]
fn snapshotter_metadata_db() {
    for (fixture, before, after) in [
        (
            "deleted-1.6",
            ctr_capture(&data("deleted-1.6/before")),
            ctr_capture(&data("deleted-1.6/after")),
        ),
        (
            "deleted-nofreelist",
            store_capture(&data("deleted-nofreelist/before.json")),
            store_capture(&data("deleted-nofreelist/after.json")),
        ),
    ] {
        let db = data(fixture).join("root/io.containerd.snapshotter.v1.overlayfs/metadata.db");
        let carved = recover(&db);
        let as_key = |r: &Value| -> Key {
            let name = s(&r["name"]).expect("backend key");
            let mut p = name.splitn(3, '/');
            let (ns, _id, key) = (p.next(), p.next(), p.next());
            (
                "snapshot".into(),
                ns.expect("namespace").to_string(),
                format!("overlayfs/{}", key.expect("key")),
            )
        };
        let live: BTreeSet<Key> = carved.iter().filter(|r| r["live"] == true).map(as_key).collect();
        let listed: BTreeSet<Key> = after.iter().filter(|k| k.0 == "snapshot").cloned().collect();
        assert_eq!(live, listed, "{fixture}");
        let gone: Vec<Key> = carved.iter().filter(|r| r["live"] == false).map(as_key).collect();
        for k in &gone {
            assert!(before.contains(k) && !after.contains(k), "{fixture}: {k:?}");
        }
        assert_eq!(
            gone,
            vec![key(
                "snapshot",
                "second",
                "overlayfs/sha256:586e46ac16f8becff8206abe7076899996299308417256e1c70001b0351763f6"
            )],
            "{fixture}"
        );
    }
}
