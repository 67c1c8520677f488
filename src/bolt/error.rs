//! Errors of the bbolt reader. Every error that comes from the file's bytes names the file,
//! the page and the byte offset where the damage was seen.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a bbolt file, or a part of it, could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BoltError {
    /// The file could not be opened or read at all.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Neither meta page validates: the file is not bbolt, or both metas are damaged.
    #[error("{}: not a readable bbolt file: meta page 0: {meta0}; meta page 1: {meta1}", path.display())]
    NoValidMeta {
        path: Arc<Path>,
        meta0: String,
        meta1: String,
    },
    /// The caller asked for a meta page that does not validate.
    #[error("{}: meta page {slot} is not usable: {why}", path.display())]
    MetaUnusable { path: Arc<Path>, slot: u8, why: String },
    /// Structural damage at a known place.
    #[error("{}: page {page} ({}): {what}", path.display(), offset_words(*offset))]
    Corrupt {
        path: Arc<Path>,
        page: u64,
        offset: u64,
        what: String,
    },
}

/// "offset N"; a page id whose offset does not fit in 64 bits is computed saturated to
/// `u64::MAX` (no page starts there: offsets are multiples of the page size), and said so.
fn offset_words(offset: u64) -> String {
    if offset == u64::MAX {
        "offset past 2^64".to_string()
    } else {
        format!("offset {offset}")
    }
}

impl BoltError {
    /// What a stranger to the tool can do next: when neither meta page is valid the tree
    /// cannot be found, but its pages may still hold every record.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            BoltError::NoValidMeta { .. } => Some(
                "its pages may still hold the records: `coldctr recover` carves them, and `--salvage` makes `images`, `content`, `ps`, `inspect` and the other readers of records read them",
            ),
            _ => None,
        }
    }

    /// True when the error describes damage in the file rather than a failure to read it.
    pub fn is_damage(&self) -> bool {
        !matches!(self, BoltError::Io { .. })
    }
}

pub type Result<T, E = BoltError> = std::result::Result<T, E>;
