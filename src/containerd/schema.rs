//! What containerd's values mean, for a human-readable dump of `meta.db` and the
//! snapshotters' `metadata.db`.
//!
//! Key names are containerd's bucket-key constants (`core/metadata/buckets.go`,
//! `core/snapshots/storage/bolt.go`); the decoding is chosen by key name and, where a name is
//! ambiguous, by the enclosing buckets. Anything we do not know is shown as hex.

use super::encoding::{any, uvarint, uvarint_exact, varint_exact};
use super::gotime::GoTime;
use crate::text;

/// A value decoded for people, e.g. `2026-11-27T17:36:52.66184832Z (time)`.
pub fn describe_value(buckets: &[&[u8]], key: &[u8], value: &[u8]) -> String {
    let parent = buckets.last().copied().unwrap_or_default();
    let decoded = match key {
        b"createdat" | b"updatedat" | b"expireat" => GoTime::decode(value)
            .ok()
            .map(|t| format!("{} (time)", t.rfc3339_nano())),
        b"size" | b"inodes" => varint_exact(value).map(|v| format!("{v} (varint)")),
        b"version" if buckets == [b"v1".as_slice()] => varint_exact(value).map(|v| format!("{v} (schema version)")),
        b"id" if in_snapshotter_db(buckets) => uvarint_exact(value).map(|v| format!("{v} (snapshot id)")),
        b"kind" if in_snapshotter_db(buckets) => {
            snapshot_kind(value).map(|k| format!("{k} (kind {})", value.first().copied().unwrap_or_default()))
        }
        b"spec" | b"options" => any_summary(value),
        _ if parent == b"extensions" => any_summary(value),
        _ => None,
    };
    decoded.unwrap_or_else(|| plain(value))
}

/// A key decoded for people: the snapshotter's `parents` keys are `uvarint 0x00 uvarint`.
pub fn describe_key(buckets: &[&[u8]], key: &[u8]) -> String {
    if buckets == [b"v1".as_slice(), b"parents".as_slice()]
        && let Some((parent, n)) = uvarint(key)
        && key.get(n) == Some(&0)
        && let Some(child) = key.get(n + 1..).and_then(uvarint_exact)
    {
        return format!("parent {parent} / child {child}");
    }
    if text::is_plain(key) {
        String::from_utf8_lossy(key).into_owned()
    } else {
        format!("{} (hex)", hex(key))
    }
}

/// The snapshotter DB keeps `v1/snapshots/<key>/{id,kind,...}`.
fn in_snapshotter_db(buckets: &[&[u8]]) -> bool {
    matches!(buckets, [v1, snapshots, _] if *v1 == b"v1" && *snapshots == b"snapshots")
}

/// containerd's `snapshots.Kind`.
pub fn snapshot_kind(value: &[u8]) -> Option<&'static str> {
    match value {
        [1] => Some("View"),
        [2] => Some("Active"),
        [3] => Some("Committed"),
        [0] => Some("Unknown"),
        _ => None,
    }
}

fn any_summary(value: &[u8]) -> Option<String> {
    let a = any(value)?;
    Some(format!(
        "Any {{ type_url: \"{}\", {} bytes }}",
        text::escape(a.type_url.as_bytes()),
        a.value.len()
    ))
}

/// Text in quotes when the value is printable UTF-8, hex otherwise.
fn plain(value: &[u8]) -> String {
    if text::is_plain(value) {
        format!("\"{}\"", String::from_utf8_lossy(value))
    } else {
        format!("{} (hex)", hex(value))
    }
}

pub fn hex(b: &[u8]) -> String {
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_by_key_and_place() {
        assert_eq!(describe_value(&[b"v1"], b"version", &[6]), "3 (schema version)");
        assert_eq!(describe_value(&[b"v1", b"default"], b"version", &[6]), "06 (hex)");
        assert_eq!(
            describe_value(&[b"v1", b"snapshots", b"k"], b"kind", &[3]),
            "Committed (kind 3)"
        );
        assert_eq!(
            describe_value(&[b"v1", b"snapshots", b"k"], b"id", &[0x11]),
            "17 (snapshot id)"
        );
        assert_eq!(describe_value(&[], b"size", &[0xfc, 0x0f]), "1022 (varint)");
        assert_eq!(describe_value(&[], b"digest", b"sha256:ab"), "\"sha256:ab\"");
        assert_eq!(describe_key(&[b"v1", b"parents"], &[1, 0, 2]), "parent 1 / child 2");
        assert_eq!(hex(&[0, 0xab]), "00ab");
    }
}
