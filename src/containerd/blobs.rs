//! The files of the content store, listed without following anything:
//!
//! ```text
//! io.containerd.content.v1.content/blobs/<sha256|sha384|sha512>/<hex>   committed blobs
//! io.containerd.content.v1.content/ingest/<sha256 hex of backend ref>/  partial writes:
//!     ref        backend ref "<namespace>/<seq>/<client ref>"
//!     data       bytes received so far
//!     startedat, updatedat   RFC 3339 text
//!     total      expected size in decimal, when known
//! ```
//!
//! Entries are classified by `symlink_metadata` (never `metadata`): a symlink is reported as
//! a symlink, whatever it points to. Names that are not a valid digest for their directory
//! are reported as strays, never turned into digests.

use super::root::{CONTENT_DIR, Root};
use crate::digest::Digest;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// What a directory entry in the store is: the one vocabulary every command uses (tables and
/// JSON print [`FileKind::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    Regular,
    Symlink,
    Directory,
    Fifo,
    Socket,
    BlockDevice,
    CharDevice,
    /// A type the platform reports that is none of the above.
    Other,
}

impl FileKind {
    /// The kind of a directory entry or `lstat` result (never a followed link).
    pub fn of(t: &std::fs::FileType) -> FileKind {
        use std::os::unix::fs::FileTypeExt;
        if t.is_symlink() {
            FileKind::Symlink
        } else if t.is_file() {
            FileKind::Regular
        } else if t.is_dir() {
            FileKind::Directory
        } else if t.is_fifo() {
            FileKind::Fifo
        } else if t.is_socket() {
            FileKind::Socket
        } else if t.is_block_device() {
            FileKind::BlockDevice
        } else if t.is_char_device() {
            FileKind::CharDevice
        } else {
            FileKind::Other
        }
    }

    /// The name tables and JSON use (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Regular => "regular",
            FileKind::Symlink => "symlink",
            FileKind::Directory => "directory",
            FileKind::Fifo => "fifo",
            FileKind::Socket => "socket",
            FileKind::BlockDevice => "block-device",
            FileKind::CharDevice => "char-device",
            FileKind::Other => "other",
        }
    }
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file under `blobs/<algorithm>/`.
#[derive(Clone, Debug)]
pub struct BlobFile {
    pub digest: Digest,
    pub kind: FileKind,
    /// Apparent size (`st_size`) of a regular file; 0 otherwise.
    pub size: u64,
    /// Allocated bytes (`st_blocks * 512`).
    pub allocated: u64,
}

/// An entry under `blobs/` whose name is not a digest of its directory's algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stray {
    pub path: PathBuf,
    pub kind: FileKind,
}

/// Every blob file, sorted by digest, and the strays. An unreadable directory is an error.
pub fn list(root: &Root) -> std::io::Result<(Vec<BlobFile>, Vec<Stray>)> {
    use std::os::unix::fs::MetadataExt;
    let blobs = root.dir.join(CONTENT_DIR).join("blobs");
    let mut files = Vec::new();
    let mut strays = Vec::new();
    if root.content_problem().is_some() {
        return Ok((files, strays));
    }
    let top = match std::fs::read_dir(&blobs) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((files, strays)),
        Err(e) => return Err(e),
    };
    for alg in top {
        let alg = alg?;
        let alg_name = alg.file_name().to_string_lossy().into_owned();
        let kind = FileKind::of(&alg.file_type()?);
        if !matches!(alg_name.as_str(), "sha256" | "sha384" | "sha512") || kind != FileKind::Directory {
            strays.push(Stray { path: alg.path(), kind });
            continue;
        }
        for entry in std::fs::read_dir(alg.path())? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let meta = std::fs::symlink_metadata(entry.path())?;
            let kind = FileKind::of(&meta.file_type());
            match Digest::parse(&format!("{alg_name}:{name}")) {
                Ok(digest) => files.push(BlobFile {
                    digest,
                    size: if kind == FileKind::Regular { meta.len() } else { 0 },
                    allocated: meta.blocks().saturating_mul(512),
                    kind,
                }),
                Err(_) => strays.push(Stray {
                    path: entry.path(),
                    kind,
                }),
            }
        }
    }
    files.sort_by(|a, b| a.digest.cmp(&b.digest));
    strays.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((files, strays))
}

/// An ingest directory: a write into the content store that never committed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct IngestDir {
    /// Directory name: sha256 hex of the backend ref.
    pub dir: String,
    /// Backend ref `<namespace>/<seq>/<client ref>`, when the `ref` file reads.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// Bytes in `data` so far.
    pub size: u64,
    /// `total` when the writer knew it.
    pub total: Option<u64>,
    #[serde(rename = "startedAt")]
    pub started_at: Option<String>,
    #[serde(rename = "updatedAt")]
    pub updated_at: Option<String>,
}

/// Largest small text file (`ref`, `total`, times) we read from an ingest directory.
const MAX_INGEST_TEXT: u64 = 4096;

fn small_text(path: PathBuf) -> Option<String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut s = String::new();
    file.take(MAX_INGEST_TEXT).read_to_string(&mut s).ok()?;
    Some(s.trim().to_string())
}

/// Every ingest directory, sorted by name.
pub fn ingests(root: &Root) -> std::io::Result<Vec<IngestDir>> {
    let dir = root.dir.join(CONTENT_DIR).join("ingest");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let p = entry.path();
        let size = std::fs::symlink_metadata(p.join("data"))
            .ok()
            .filter(|m| m.is_file())
            .map_or(0, |m| m.len());
        out.push(IngestDir {
            dir: entry.file_name().to_string_lossy().into_owned(),
            reference: small_text(p.join("ref")),
            size,
            total: small_text(p.join("total")).and_then(|t| t.parse().ok()),
            started_at: small_text(p.join("startedat")),
            updated_at: small_text(p.join("updatedat")),
        });
    }
    out.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(out)
}
