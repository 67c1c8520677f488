//! Arbitrary bytes as a manifest or index blob: containerd's `validateMediaType` as coldctr
//! reads it (only the keys Go's `unknownDocument` has, the rest skipped) must give the verdict
//! and message of a reading of the whole document into `serde_json::Value`s with Go's rules
//! applied to its top-level entries, for each descriptor media type; and decoding as a
//! manifest or index must end without a panic. Read as an image config, the platform alone
//! (`config_platform`) must come out as the whole config's (`ImageConfig`) does, and so must
//! `history`'s two partial readings of it (`config_as_platform`, `HistoryConfig`). Documents nested past serde_json's 128 levels
//! are left out (the oracle cannot read them; ours applies Go's 10,000).
#![no_main]

use coldctr::image::document::{self, DocError, GoShaped};
use coldctr::image::goshape;
use coldctr::inspect::gojson::{self, J};
use serde_json::Value;

/// serde_json errors for a `Value` that Go's decoder does not raise.
const GO_ACCEPTS: [&str; 4] = [
    "number out of range",
    "invalid unicode code point",
    "lone leading surrogate",
    "unexpected end of hex escape",
];

const TYPES: [&str; 5] = [
    document::OCI_MANIFEST,
    document::OCI_INDEX,
    document::DOCKER_MANIFEST,
    document::DOCKER_MANIFEST_LIST,
    "application/octet-stream",
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for mt in TYPES {
        let got = document::validate_media_type(data, mt);
        match (oracle(data, mt), &got) {
            // A number out of f64's range, bytes that are not UTF-8 and lone surrogates are
            // errors for a Value but not for Go, which skips the number and reads the rest as
            // U+FFFD and so goes on to a verdict on the keys; ours does too.
            (Err(DocError::Json(m)), _) if GO_ACCEPTS.iter().any(|g| m.contains(g)) => {}
            (Err(DocError::Json(m)), _) if m.contains("recursion limit exceeded") => {}
            // Both syntax errors (not Go's type errors): skipping and building report the same
            // bad input in other words or a byte apart ("[-": end of input, or invalid number).
            (Err(DocError::Json(a)), Err(DocError::Json(b)))
                if !a.starts_with("json: ") && !b.starts_with("json: ") => {}
            (want, got) => assert_eq!(&want, got, "media type {mt}"),
        }
        let _ = document::children(data, mt);
    }
    // A config read for its platform alone is taken or refused as the whole config is, with
    // the same platform and the same message.
    let platform = document::config_platform(data);
    let whole = document::decode::<document::ImageConfig>(data).map(|c| c.platform());
    assert_eq!(platform, whole, "the platform alone, against the whole config");
    // `history` reads a config twice, each time for part of it: as an `ocispec.Platform`
    // and as `{rootfs, history}`. What the whole config takes, each part takes, and the
    // values are the whole config's.
    let as_platform = document::config_as_platform(data);
    let history = document::decode::<document::HistoryConfig>(data);
    if let Ok(c) = document::decode::<document::ImageConfig>(data) {
        assert_eq!(as_platform.as_ref().ok(), Some(&c.platform()), "ocispec.Platform of a config");
        let h = history.expect("{rootfs, history} of a config the whole of it reads");
        assert_eq!(h.rootfs.diff_ids, c.rootfs.and_then(|r| r.diff_ids), "diff_ids");
        let comments: Vec<String> = c.history.unwrap_or_default().into_iter().map(|e| e.comment.unwrap_or_default()).collect();
        let got: Vec<String> = h.history.into_iter().map(|e| e.comment).collect();
        assert_eq!(got, comments, "history comments");
    }
    // The decoder's shortcut: when the key scan answers yes, no key of the document read
    // whole (escapes undone) may fold like a field name without being it.
    let shapes = [
        <document::Manifest as GoShaped>::field_names(),
        <document::Index as GoShaped>::field_names(),
        <document::ImageConfig as GoShaped>::field_names(),
    ];
    if let Ok(tree) = gojson::parse(data) {
        for names in shapes {
            if goshape::keys_are_exact(data, names) {
                let mut keys = Vec::new();
                keys_of(&tree, &mut keys);
                for key in keys {
                    let folded = goshape::go_fold(key);
                    for name in names.names() {
                        let name = std::str::from_utf8(name).unwrap();
                        assert!(
                            name == key || goshape::go_fold(name) != folded,
                            "key {key:?} folds like field {name:?}, and the scan said exact"
                        );
                    }
                }
            }
        }
    }
});

/// Every object key in `j`, at any depth.
fn keys_of<'a>(j: &'a J, out: &mut Vec<&'a str>) {
    match j {
        J::Obj(members) => {
            for (k, v) in members {
                out.push(k);
                keys_of(v, out);
            }
        }
        J::Arr(items) => items.iter().for_each(|v| keys_of(v, out)),
        _ => {}
    }
}

/// The document read whole (its top-level entries in order, each value a `Value`), then the
/// rules of containerd's `validateMediaType` as Go's `json.Unmarshal` applies them.
fn oracle(blob: &[u8], media_type: &str) -> Result<(), DocError> {
    let json = |e: serde_json::Error| {
        DocError::Json(if e.is_eof() {
            "unexpected end of JSON input".to_string()
        } else {
            e.to_string()
        })
    };
    let top: Top = serde_json::from_slice(blob).map_err(json)?;
    let entries = match top {
        Top::Entries(e) => e,
        Top::Value(Value::Null) => return Ok(()),
        Top::Value(other) => {
            return Err(DocError::Json(format!(
                "json: cannot unmarshal {} into Go value of type images.unknownDocument",
                kind(&other)
            )));
        }
    };
    let (mut doc_type, mut type_error) = (String::new(), None);
    let (mut fs, mut manifests, mut config, mut layers) = (false, false, false, false);
    for (key, value) in entries {
        let folded: String = key
            .chars()
            .map(|c| match c {
                '\u{17f}' => 's',
                '\u{212a}' => 'k',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        match folded.as_str() {
            "mediatype" => match value {
                Value::String(s) => doc_type = s,
                Value::Null => {}
                other => {
                    type_error.get_or_insert(kind(&other));
                }
            },
            "fslayers" => fs = true,
            "manifests" => manifests = true,
            "config" => config = true,
            "layers" => layers = true,
            _ => {}
        }
    }
    if let Some(k) = type_error {
        return Err(DocError::Json(format!(
            "json: cannot unmarshal {k} into Go struct field unknownDocument.mediaType of type string"
        )));
    }
    if fs {
        return Err(DocError::Schema1);
    }
    if document::is_manifest_type(media_type) && (manifests || document::is_index_type(&doc_type)) {
        return Err(DocError::ExpectedManifest(media_type.to_string()));
    }
    if document::is_index_type(media_type) && (config || layers || document::is_manifest_type(&doc_type)) {
        return Err(DocError::ExpectedIndex(media_type.to_string()));
    }
    Ok(())
}

/// A top-level object as its entries in order (repeated keys kept), or any other value.
enum Top {
    Entries(Vec<(String, Value)>),
    Value(Value),
}

impl<'de> serde::Deserialize<'de> for Top {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Top;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = map.next_entry::<String, Value>()? {
                    out.push(e);
                }
                Ok(Top::Entries(out))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
                while seq.next_element::<Value>()?.is_some() {}
                Ok(Top::Value(Value::Array(Vec::new())))
            }
            fn visit_unit<E>(self) -> Result<Top, E> {
                Ok(Top::Value(Value::Null))
            }
            fn visit_bool<E>(self, b: bool) -> Result<Top, E> {
                Ok(Top::Value(Value::Bool(b)))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Top, E> {
                Ok(Top::Value(Value::from(n)))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Top, E> {
                Ok(Top::Value(Value::from(n)))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Top, E> {
                Ok(Top::Value(Value::from(n)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Top, E> {
                Ok(Top::Value(Value::String(s.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}
