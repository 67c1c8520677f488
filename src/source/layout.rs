//! The two small files that make a directory (or an archive) an OCI image layout, and the
//! names its index gives images (image-spec v1.1 `image-layout.md`):
//!
//! ```text
//! oci-layout    {"imageLayoutVersion": "1.0.0"}
//! index.json    an image index: {"schemaVersion": 2, "manifests": [descriptor, ...]}
//!               each descriptor may carry the annotations
//!                 org.opencontainers.image.ref.name   "1.0" (tag only: skopeo, umoci, docker)
//!                                                     or a full name (podman)
//!                 io.containerd.image.name            "docker.io/library/x:1.0" (ctr, docker 25+)
//! blobs/<alg>/<hex>
//! ```
//!
//! `ref.name` has no defined uniqueness: two entries may share it (then the name is
//! ambiguous), and entries may have none (then only their position `@N` and digest name them).

use super::Problem;
use crate::image::document::{Descriptor, GoShaped, Index};
use crate::image::goshape::{self, FieldNames, Shape};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// OCI's reference-name annotation: the tag (`ocispec.AnnotationRefName`).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// containerd's name annotation on index.json entries (`images.AnnotationImageName`).
pub const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// One `index.json` entry and the names it is known by.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Zero-based position in `index.json` (skopeo's `@N`).
    pub position: usize,
    pub descriptor: Descriptor,
    /// `org.opencontainers.image.ref.name`, as written.
    pub ref_name: Option<String>,
    /// `io.containerd.image.name`, or a docker-archive's RepoTags (normalized full names).
    pub full_names: Vec<String>,
    /// Each name's record gets the naming annotations on its target, as containerd's
    /// importer gives them to a docker-archive's manifest.json entries (one descriptor per
    /// RepoTag, `io.containerd.image.name` and `org.opencontainers.image.ref.name`); an
    /// index.json entry's own annotations are its target's as they are.
    pub name_annotations: bool,
}

/// `ocispec.ImageLayout`, which `oci-layout` is read as.
static IMAGE_LAYOUT: Shape = Shape::Struct("v1.ImageLayout", &[("imageLayoutVersion", Shape::Str)]);

/// `ocispec.Index`, which `index.json` is read as: each entry an `ocispec.Descriptor`.
static INDEX: Shape = <Index as GoShaped>::SHAPE;

#[derive(Deserialize, Default)]
#[serde(default)]
struct LayoutFile {
    #[serde(rename = "imageLayoutVersion")]
    image_layout_version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IndexFile {
    #[serde(rename = "schemaVersion")]
    schema_version: Option<i64>,
    manifests: Option<Vec<serde_json::Value>>,
}

/// Checks `oci-layout` (`None`: the file is absent).
pub fn check_layout_file(bytes: Option<&[u8]>, problems: &mut Vec<Problem>) {
    let Some(bytes) = bytes else {
        problems.push(Problem::error("oci-layout-missing", "oci-layout", "no oci-layout file"));
        return;
    };
    match read_as_go::<LayoutFile>(bytes, &IMAGE_LAYOUT, "v1.ImageLayout") {
        Ok(LayoutFile {
            image_layout_version: Some(v),
        }) if v == "1.0.0" => {}
        Ok(LayoutFile {
            image_layout_version: Some(v),
        }) => problems.push(Problem::error(
            "oci-layout-version-unsupported",
            "oci-layout",
            format!("imageLayoutVersion {:?} is not 1.0.0", v),
        )),
        Ok(_) => problems.push(Problem::error(
            "oci-layout-invalid",
            "oci-layout",
            "no imageLayoutVersion",
        )),
        Err(NotRead::Json(e)) => problems.push(Problem::error(
            "oci-layout-invalid",
            "oci-layout",
            format!("not JSON: {e}"),
        )),
        Err(NotRead::Go(go)) => problems.push(Problem::error(
            "oci-layout-invalid",
            "oci-layout",
            format!("not an image layout: {go}"),
        )),
    }
}

/// The entries of `index.json`; a file that is not an index is a problem and no entries.
pub fn entries(bytes: &[u8], problems: &mut Vec<Problem>) -> Vec<Entry> {
    let index: IndexFile = match read_as_go(bytes, &INDEX, Index::GO_NAME) {
        Ok(i) => i,
        Err(e) => {
            problems.push(Problem::error(
                "index-json-invalid",
                "index.json",
                format!("not an image index: {}", e.message()),
            ));
            return Vec::new();
        }
    };
    if index.schema_version != Some(2) {
        problems.push(Problem::warning(
            "index-json-invalid",
            "index.json",
            format!("schemaVersion {:?}, expected 2", index.schema_version),
        ));
    }
    let mut out = Vec::new();
    // Each entry as Go left it (keys under their own names, `-0` made 0), or as written when
    // an entry's value is of the wrong type and the keys need no folding: that entry's problem.
    for (position, raw) in index.manifests.unwrap_or_default().into_iter().enumerate() {
        let descriptor: Descriptor = match serde_json::from_value(raw) {
            Ok(d) => d,
            Err(e) => {
                problems.push(Problem::error(
                    "descriptor-invalid",
                    format!("index.json entry @{position}"),
                    format!("not a descriptor: {e}"),
                ));
                continue;
            }
        };
        // An empty name names nothing (and cannot be a record's key): the entry is unnamed.
        let ref_name = descriptor
            .annotation(REF_NAME)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        let full_names = descriptor
            .annotation(CONTAINERD_NAME)
            .filter(|n| !n.is_empty())
            .map(|n| vec![n.to_string()])
            .unwrap_or_default();
        if ref_name.is_none() && full_names.is_empty() {
            problems.push(Problem::info(
                "entry-untagged",
                format!("index.json entry @{position}"),
                format!("{} has no name", descriptor.digest),
            ));
        }
        out.push(Entry {
            position,
            descriptor,
            ref_name,
            full_names,
            name_annotations: false,
        });
    }
    out
}

/// Why a JSON file was not read ([`read_as_go`]).
#[derive(Debug)]
pub enum NotRead {
    /// serde's error, reading the file with its keys as written: not JSON, or a value of the
    /// wrong type (the messages these files were always refused with).
    Json(serde_json::Error),
    /// Go's message for a value of the wrong type that only a key in another case, or a
    /// repeated key, gave its field.
    Go(String),
}

impl NotRead {
    /// The message: Go's, or serde's in Go's wording for a truncated document.
    pub fn message(&self) -> String {
        match self {
            NotRead::Json(e) => json_message(e),
            NotRead::Go(go) => go.clone(),
        }
    }
}

/// `T`, whose serde field names are those of the Go struct `shape` describes, read from
/// `bytes` as Go's `json.Unmarshal` into that struct reads it (containerd's import, `docker
/// load`, skopeo and umoci read `index.json`, `oci-layout` and `manifest.json` so), with the
/// rules of [`goshape`] that manifests and configs are read with: a key names the field it
/// names in any case (the exact name first), a repeated key decodes again into what the
/// first one set, an integer takes `-0` as 0, `null` leaves a string empty.
///
/// A document Go refuses (a value of the wrong type) is read with its keys as written, as
/// it always was: what serde refuses keeps its message ([`NotRead::Json`]) and what it takes
/// is taken (an index.json entry that is no descriptor is then that entry's problem alone).
/// When it took the document only because a key in another case went unseen, Go's refusal
/// is the answer ([`NotRead::Go`]), not a document without that field.
pub fn read_as_go<T: DeserializeOwned>(
    bytes: &[u8],
    shape: &'static Shape,
    go_name: &'static str,
) -> Result<T, NotRead> {
    let as_written = || crate::gostring::from_slice::<T>(bytes).map_err(NotRead::Json);
    // Not JSON (or nested past what a tree is built for): serde says why, or skips it.
    let Ok(doc) = crate::inspect::gojson::parse_for(bytes, shape) else {
        return as_written();
    };
    let (value, refused) = goshape::unmarshal_all(&doc, shape, go_name);
    // Go returns the error of an `UnmarshalJSON` that stopped it, else the first one.
    let Some(go) = refused
        .iter()
        .rfind(|r| r.ends)
        .or(refused.first())
        .map(|r| r.go.clone())
    else {
        // What Go ended with, each field once under its own name. A document that is not
        // an object (`null` for an index) is refused as it was, with serde's message.
        return serde_json::from_str(&value.to_compact(false)).or_else(|_| as_written());
    };
    let taken = as_written()?;
    // serde's derives read an array as a struct's fields in order, where Go refuses it.
    let names = FieldNames::of(shape);
    match goshape::keys_are_exact(bytes, &names) && goshape::no_array_for_a_struct(bytes, &names) {
        true => Ok(taken),
        false => Err(NotRead::Go(go)),
    }
}

/// Go's wording for a truncated document, serde's otherwise.
pub fn json_message(e: &serde_json::Error) -> String {
    if e.is_eof() {
        "unexpected end of JSON input".into()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout_problems(doc: &str) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        check_layout_file(Some(doc.as_bytes()), &mut problems);
        problems.into_iter().map(|p| (p.kind, p.message)).collect()
    }

    /// Each entry's position, digest, size and ref name; each problem's kind and message.
    type Read = (Vec<(usize, String, i64, Option<String>)>, Vec<(&'static str, String)>);

    fn read(doc: &str) -> Read {
        let mut problems = Vec::new();
        let entries = entries(doc.as_bytes(), &mut problems)
            .into_iter()
            .map(|e| (e.position, e.descriptor.digest, e.descriptor.size, e.ref_name))
            .collect();
        (entries, problems.into_iter().map(|p| (p.kind, p.message)).collect())
    }

    const D: &str = "sha256:d4791fbfad870236c52e15e28b75ff85ab4c58629569e85d760ca113afd47a15";

    /// Expectations from Go 1.19.8's `json.Unmarshal` into `ocispec.ImageLayout`: a key in
    /// any case names `imageLayoutVersion`, the last one given wins.
    #[test]
    fn oci_layout_keys_in_any_case() {
        assert_eq!(layout_problems(r#"{"ImageLayoutVersion":"1.0.0"}"#), []);
        assert_eq!(layout_problems(r#"{"imagelayoutversion":"1.0.0"}"#), []);
        assert_eq!(
            layout_problems(r#"{"imageLayoutVersion":"1.0.0","IMAGELAYOUTVERSION":"2"}"#),
            [(
                "oci-layout-version-unsupported",
                r#"imageLayoutVersion "2" is not 1.0.0"#.to_string()
            )]
        );
        // Refused as it was with the key as written, with Go's words when only its case
        // hid it.
        assert_eq!(
            layout_problems(r#"{"imageLayoutVersion":5}"#),
            [(
                "oci-layout-invalid",
                "not JSON: invalid type: integer `5`, expected a string at line 1 column 23".to_string()
            )]
        );
        assert_eq!(
            layout_problems(r#"{"ImageLayoutVersion":5}"#),
            [(
                "oci-layout-invalid",
                "not an image layout: json: cannot unmarshal number into Go struct field ImageLayout.imageLayoutVersion of type string".to_string()
            )]
        );
        assert_eq!(
            layout_problems("{}"),
            [("oci-layout-invalid", "no imageLayoutVersion".to_string())]
        );
    }

    #[test]
    fn index_json_keys_in_any_case_and_minus_zero() {
        let doc = format!(
            r#"{{"SchemaVersion":2,"Manifests":[{{"MediaType":"m","DIGEST":"{D}","ſize":-0,"Annotations":{{"{REF_NAME}":"a"}}}}]}}"#
        );
        assert_eq!(read(&doc), (vec![(0, D.to_string(), 0, Some("a".into()))], vec![]));
        // Annotations are a map: its keys are matched exactly.
        let doc = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"digest":"{D}","size":1,"annotations":{{"ORG.opencontainers.image.ref.name":"a"}}}}]}}"#
        );
        let (entries, problems) = read(&doc);
        assert_eq!(entries, [(0, D.to_string(), 1, None)]);
        assert_eq!(problems.first().map(|p| p.0), Some("entry-untagged"));
    }

    #[test]
    fn a_bad_index_json_keeps_its_message() {
        let (entries, problems) = read(r#"{"schemaVersion":2,"manifests":5}"#);
        assert!(entries.is_empty());
        assert_eq!(
            problems,
            [(
                "index-json-invalid",
                "not an image index: invalid type: integer `5`, expected a sequence at line 1 column 32".to_string()
            )]
        );
        // An entry of the wrong type is that entry's problem, the others are read.
        let doc = format!(r#"{{"schemaVersion":2,"manifests":[{{"digest":5}},{{"digest":"{D}","size":1}}]}}"#);
        let (entries, problems) = read(&doc);
        assert_eq!(entries.iter().map(|e| e.0).collect::<Vec<_>>(), [1]);
        assert_eq!(
            problems.first(),
            Some(&(
                "descriptor-invalid",
                "not a descriptor: invalid type: integer `5`, expected a string".to_string()
            ))
        );
        // With a key only Go sees, Go's refusal: the whole index, as Go refuses it.
        let (entries, problems) = read(r#"{"schemaVersion":2,"Manifests":[{"digest":5}]}"#);
        assert!(entries.is_empty());
        assert_eq!(
            problems,
            [(
                "index-json-invalid",
                "not an image index: json: cannot unmarshal number into Go struct field Descriptor.manifests.digest of type digest.Digest".to_string()
            )]
        );
    }
}
