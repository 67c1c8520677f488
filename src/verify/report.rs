//! What `coldctr verify` answers: one status per problem record, orphans, bbolt findings, and
//! what was checked (the JSON shape of `verify --format json`).

use crate::containerd::blobs::FileKind;
use serde::Serialize;

/// One problem status; the order of the variants is the order of precedence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Missing,
    NotRegular,
    Unreadable,
    SizeMismatch,
    DigestMismatch,
    InvalidDocument,
    DiffIdMismatch,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Missing => "missing",
            Status::NotRegular => "not-regular",
            Status::Unreadable => "unreadable",
            Status::SizeMismatch => "size-mismatch",
            Status::DigestMismatch => "digest-mismatch",
            Status::InvalidDocument => "invalid-document",
            Status::DiffIdMismatch => "diff-id-mismatch",
        }
    }
}

/// A blob with a problem, and the namespaces whose records have that problem.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    pub digest: String,
    pub status: Status,
    pub namespaces: Vec<String>,
    /// The size the content records give.
    pub size: i64,
    /// What should have been found: a size (size-mismatch) or a digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<serde_json::Value>,
    /// What was found instead (null when nothing could be computed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<serde_json::Value>,
    /// The media type the blob was named with (invalid-document, diff-id-mismatch).
    #[serde(rename = "mediaType", skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A file under `blobs/` that no namespace records (or whose name is not a digest).
#[derive(Clone, Debug, Serialize)]
pub struct Orphan {
    /// The digest its name spells; absent for a name that is not a digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Relative to the root.
    pub path: String,
    pub kind: FileKind,
    pub size: u64,
}

/// Something wrong with a bbolt file or the store's layout.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// Relative to the root.
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    pub message: String,
}

/// The layout or archive verified.
#[derive(Clone, Debug, Serialize)]
pub struct SourceChecked {
    pub kind: &'static str,
    pub path: String,
    pub problems: Vec<crate::source::Problem>,
}

/// Per namespace, what the Go reference's `verify` counts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NamespaceChecked {
    pub namespace: String,
    /// Content records checked.
    pub records: u64,
    /// Bytes of blob files read for those records (a blob shared with another namespace
    /// counts in both).
    pub bytes: u64,
    /// Records with a problem.
    pub problems: u64,
}

/// What was checked.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Checked {
    pub namespaces: Vec<NamespaceChecked>,
    /// Content records, over the namespaces.
    pub records: u64,
    /// Distinct blob files, each read once.
    pub blobs: u64,
    /// Bytes read and hashed, each blob once.
    pub bytes: u64,
    /// Distinct (blob, media type) documents validated.
    pub documents: u64,
    /// Distinct layers decompressed (`--layers`).
    pub layers: u64,
    /// Layers whose media type names no compression we can undo (encrypted, unknown).
    #[serde(rename = "layersSkipped")]
    pub layers_skipped: u64,
    /// bbolt files audited.
    pub databases: u64,
}

/// The whole answer.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    pub problems: Vec<Problem>,
    pub orphans: Vec<Orphan>,
    pub findings: Vec<Finding>,
    pub checked: Checked,
    /// For an OCI layout or archive: what it is and every problem of the layout itself
    /// (`oci-layout`, `index.json`, names, descriptors), errors also listed as findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceChecked>,
    /// meta.db could not be read in full (records were skipped): the report is partial.
    #[serde(skip)]
    pub damaged: bool,
    /// A file the findings name could not be read for the system's refusal (permissions,
    /// an I/O error): unreadable input, exit 4.
    #[serde(skip)]
    pub refused: bool,
}

impl VerifyReport {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty() && self.findings.is_empty()
    }
}
