//! Arbitrary bytes as a manifest or index blob: containerd's `validateMediaType` as coldctr
//! reads it (only the keys Go's `unknownDocument` has, the rest skipped) must give the verdict
//! and message a reading of the whole document as a `serde_json::Value` gives, for each
//! descriptor media type; and decoding as a manifest or index must end without a panic.
#![no_main]

use coldctr::image::document::{self, DocError};
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
            // Both syntax errors: serde_json may place the column one byte apart.
            (Err(DocError::Json(a)), Err(DocError::Json(b))) if a.contains(" at line ") && b.contains(" at line ") => {}
            (want, got) => assert_eq!(&want, got, "media type {mt}"),
        }
        let _ = document::children(data, mt);
    }
});

/// The document read whole, then the rules of containerd's `validateMediaType`.
fn oracle(blob: &[u8], media_type: &str) -> Result<(), DocError> {
    let v: Value = serde_json::from_slice(blob).map_err(|e| {
        DocError::Json(if e.is_eof() { "unexpected end of JSON input".to_string() } else { e.to_string() })
    })?;
    let obj = match &v {
        Value::Object(o) => o,
        Value::Null => return Ok(()),
        other => {
            return Err(DocError::Json(format!(
                "json: cannot unmarshal {} into Go value of type images.unknownDocument",
                kind(other)
            )));
        }
    };
    let doc_type = match obj.get("mediaType") {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Null) | None => "",
        Some(other) => {
            return Err(DocError::Json(format!(
                "json: cannot unmarshal {} into Go struct field unknownDocument.mediaType of type string",
                kind(other)
            )));
        }
    };
    if obj.get("fsLayers").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
        return Err(DocError::Schema1);
    }
    if document::is_manifest_type(media_type) && (obj.contains_key("manifests") || document::is_index_type(doc_type)) {
        return Err(DocError::ExpectedManifest(doc_type.to_string()));
    }
    if document::is_index_type(media_type)
        && (obj.contains_key("config") || obj.contains_key("layers") || document::is_manifest_type(doc_type))
    {
        return Err(DocError::ExpectedIndex(doc_type.to_string()));
    }
    Ok(())
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
