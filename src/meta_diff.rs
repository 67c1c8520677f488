//! What changed between two views of meta.db's records: the previous transaction and the
//! current one (bbolt keeps both meta pages), or another copy of the file (a backup, an earlier
//! seizure) and this one. Every kind of record is read through `containerd::records`, keyed
//! by (kind, namespace, name), and compared field by field:
//!
//! ```text
//! from view ──┐                      added:   keys only `to` has
//!             ├─ records by key ──►  removed: keys only `from` has
//! to view   ──┘                      changed: keys both have, with each differing field
//! ```
//!
//! A field is a path into the record's JSON (`target.digest`, `labels.containerd.io/gc.expire`),
//! so a label set on an image shows as that one label, not as the whole record.

use crate::bolt::Tx;
use crate::containerd::records::{self, Damage};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Which record: its kind, namespace (empty for a namespace itself) and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RecordKey {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
}

/// A record one view has and the other does not.
#[derive(Clone, Debug, Serialize)]
pub struct Whole {
    #[serde(flatten)]
    pub key: RecordKey,
    pub record: Value,
}

/// One field that differs; `null` on a side that lacks it.
#[derive(Clone, Debug, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Value,
    pub to: Value,
}

/// A record both views have, with what differs.
#[derive(Clone, Debug, Serialize)]
pub struct Changed {
    #[serde(flatten)]
    pub key: RecordKey,
    pub fields: Vec<FieldChange>,
}

/// The differences, each list in key order.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MetaDiff {
    pub added: Vec<Whole>,
    pub removed: Vec<Whole>,
    pub changed: Vec<Changed>,
}

impl MetaDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Every record of a view, as JSON without its namespace field (the key holds it).
pub fn records_of(tx: &Tx<'_>, damage: &mut Damage) -> BTreeMap<RecordKey, Value> {
    let mut out = BTreeMap::new();
    let mut put = |kind: &'static str, namespace: &str, name: &str, v: Value| {
        let v = match v {
            Value::Object(mut m) => {
                m.remove("namespace");
                Value::Object(m)
            }
            other => other,
        };
        out.insert(
            RecordKey {
                kind,
                namespace: namespace.to_string(),
                name: name.to_string(),
            },
            v,
        );
    };
    let json = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
    for (ns, b) in records::namespace_buckets(tx, damage) {
        put(
            "namespace",
            "",
            &ns,
            serde_json::json!({ "labels": records::labels(&b, b"labels", damage) }),
        );
        for r in records::images_in(&ns, &b, damage) {
            put("image", &ns, &r.name, json(serde_json::to_value(&r)));
        }
        for r in records::content_in(&ns, &b, damage) {
            put("content", &ns, &r.digest, json(serde_json::to_value(&r)));
        }
        for r in records::ingests_in(&ns, &b, damage) {
            put("ingest", &ns, &r.reference, json(serde_json::to_value(&r)));
        }
        for r in records::leases_in(&ns, &b, damage) {
            put("lease", &ns, &r.id, json(serde_json::to_value(&r)));
        }
        for r in records::containers_in(&ns, &b, damage) {
            put("container", &ns, &r.id, json(serde_json::to_value(&r)));
        }
        for r in records::snapshots_in(&ns, &b, damage) {
            // A snapshotter name is any bytes: its `/` written `\x2f` (as `key_name` writes
            // what is not plain text), or `overlayfs`/`x/y` and `overlayfs/x`/`y` would be one
            // record and a change to either lost.
            let name = format!("{}/{}", r.snapshotter.replace('/', "\\x2f"), r.key);
            put("snapshot", &ns, &name, json(serde_json::to_value(&r)));
        }
    }
    out
}

/// Which of containerd's two schemas a file holds, as [`records_of_file`] reads it: a
/// snapshotter's metadata.db (`v1/parents` is there) or, anything else, meta.db.
pub fn schema_of(tx: &Tx<'_>) -> &'static str {
    if matches!(tx.bucket_at(&[b"v1".as_slice(), b"parents"]), Ok(Some(_))) {
        "a snapshotter's metadata.db"
    } else {
        "containerd's meta.db"
    }
}

/// The records of either kind of containerd bbolt file: a snapshotter's metadata.db
/// (`v1/snapshots` and `v1/parents`) holds backend snapshots, keyed by their key; anything
/// else is read as meta.db.
pub fn records_of_file(tx: &Tx<'_>, damage: &mut Damage) -> BTreeMap<RecordKey, Value> {
    if schema_of(tx) == "containerd's meta.db" {
        return records_of(tx, damage);
    }
    records::backend_snapshots(tx, damage)
        .into_iter()
        .map(|b| {
            let key = RecordKey {
                kind: "backend_snapshot",
                namespace: String::new(),
                name: b.key.clone(),
            };
            (key, serde_json::to_value(&b).unwrap_or(Value::Null))
        })
        .collect()
}

/// Compares two sets of records.
pub fn diff(from: BTreeMap<RecordKey, Value>, mut to: BTreeMap<RecordKey, Value>) -> MetaDiff {
    let mut d = MetaDiff::default();
    for (key, old) in from {
        match to.remove(&key) {
            None => d.removed.push(Whole { key, record: old }),
            Some(new) if new == old => {}
            Some(new) => {
                let mut fields = Vec::new();
                changes("", &old, &new, &mut fields);
                d.changed.push(Changed { key, fields });
            }
        }
    }
    d.added = to.into_iter().map(|(key, record)| Whole { key, record }).collect();
    d
}

/// The fields that differ between `a` and `b`, objects compared member by member (the path
/// joined with `.`), anything else as a whole.
fn changes(path: &str, a: &Value, b: &Value, out: &mut Vec<FieldChange>) {
    if a == b {
        return;
    }
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let (va, vb) = (x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null));
                changes(&join(k), va, vb, out);
            }
        }
        _ => out.push(FieldChange {
            field: path.to_string(),
            from: a.clone(),
            to: b.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(kind: &'static str, name: &str) -> RecordKey {
        RecordKey {
            kind,
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    #[test]
    fn added_removed_and_changed_fields() {
        let from = BTreeMap::from([
            (
                key("image", "a"),
                json!({"target": {"digest": "d1", "size": 1}, "labels": {"x": "1"}}),
            ),
            (key("lease", "gone"), json!({"labels": {}})),
            (key("content", "same"), json!({"size": 3})),
        ]);
        let to = BTreeMap::from([
            (
                key("image", "a"),
                json!({"target": {"digest": "d2", "size": 1}, "labels": {"x": "1", "y": "2"}}),
            ),
            (key("lease", "new"), json!({"labels": {}})),
            (key("content", "same"), json!({"size": 3})),
        ]);
        let d = diff(from, to);
        assert_eq!(d.removed.len(), 1);
        assert_eq!(d.removed[0].key.name, "gone");
        assert_eq!(d.added.len(), 1);
        assert_eq!(d.added[0].key.name, "new");
        assert_eq!(d.changed.len(), 1);
        let fields: Vec<(&str, &Value, &Value)> = d.changed[0]
            .fields
            .iter()
            .map(|f| (f.field.as_str(), &f.from, &f.to))
            .collect();
        assert_eq!(
            fields,
            [
                ("labels.y", &Value::Null, &json!("2")),
                ("target.digest", &json!("d1"), &json!("d2"))
            ]
        );
    }
}
