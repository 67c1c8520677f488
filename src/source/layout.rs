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
use crate::image::document::Descriptor;
use serde::Deserialize;

pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
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
}

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
    match crate::gostring::from_slice::<LayoutFile>(bytes) {
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
        Err(e) => problems.push(Problem::error(
            "oci-layout-invalid",
            "oci-layout",
            format!("not JSON: {e}"),
        )),
    }
}

/// The entries of `index.json`; a file that is not an index is a problem and no entries.
pub fn entries(bytes: &[u8], problems: &mut Vec<Problem>) -> Vec<Entry> {
    let index: IndexFile = match crate::gostring::from_slice(bytes) {
        Ok(i) => i,
        Err(e) => {
            problems.push(Problem::error(
                "index-json-invalid",
                "index.json",
                format!("not an image index: {}", json_message(&e)),
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
        });
    }
    out
}

/// Go's wording for a truncated document, serde's otherwise.
pub fn json_message(e: &serde_json::Error) -> String {
    if e.is_eof() {
        "unexpected end of JSON input".into()
    } else {
        e.to_string()
    }
}
