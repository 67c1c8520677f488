//! Where images are read from: a containerd root, an OCI image layout directory, an OCI
//! archive (a tar of a layout, maybe gzip- or zstd-compressed) or a docker-archive
//! (`docker save`). `--root` names any of them; [`detect`] tells which from what is there.
//!
//! ```text
//! containerd root   io.containerd.metadata.v1.bolt/meta.db  (+ io.containerd.content.v1.content)
//! OCI layout        oci-layout, index.json, blobs/<alg>/<hex>
//! OCI archive       a tar (.tar, .tar.gz, .tar.zst) holding a layout (members with or without ./)
//! docker-archive    a tar holding manifest.json (legacy: <id>/layer.tar, <config>.json;
//!                   docker 25+: also an OCI layout, read as one, names from RepoTags)
//! ```
//!
//! A layout or archive becomes the records containerd would hold after importing it
//! ([`import`]), so every command reads every source through one record reader.

pub mod archive;
pub mod import;
pub mod layout;
pub mod tar;

use crate::bolt::build;
use crate::containerd::root::{self, ContentState, Root, RootError};
use crate::digest::Digest;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What kind of source a path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A containerd root directory (or its meta.db).
    Containerd,
    /// An OCI image layout directory.
    OciLayout,
    /// A tar of an OCI image layout (gzip and zstd too).
    OciArchive,
    /// `docker save` output.
    DockerArchive,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Containerd => "containerd root",
            Kind::OciLayout => "OCI layout",
            Kind::OciArchive => "OCI archive",
            Kind::DockerArchive => "docker-archive",
        }
    }

    /// The file a source's image records are read from: what damage in a record is reported
    /// against (a layout's records are built from its index.json, not read from a meta.db).
    pub fn records_file(self) -> &'static str {
        match self {
            Kind::Containerd => crate::containerd::root::META_DB,
            Kind::OciLayout | Kind::OciArchive => "index.json",
            Kind::DockerArchive => "manifest.json",
        }
    }
}

/// How bad a [`Problem`] is: errors make the source damaged (exit 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// Something wrong (or worth saying) about a layout or archive, in the vocabulary of
/// image-spec readers: `blob-missing`, `index-json-invalid`, `ref-duplicate`, ...
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: &'static str,
    pub severity: Severity,
    /// The file, member, entry or digest it is about.
    pub at: String,
    pub message: String,
}

impl Problem {
    pub fn error(kind: &'static str, at: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem::new(kind, Severity::Error, at, message)
    }

    pub fn warning(kind: &'static str, at: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem::new(kind, Severity::Warning, at, message)
    }

    pub fn info(kind: &'static str, at: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem::new(kind, Severity::Info, at, message)
    }

    fn new(kind: &'static str, severity: Severity, at: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            kind,
            severity,
            at: at.into(),
            message: message.into(),
        }
    }

    /// The same problem, about `at`.
    pub fn at(mut self, at: &str) -> Problem {
        self.at = at.to_string();
        self
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Info => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{sev}: {}: {}: {}",
            self.kind,
            // One line each: a newline in a digest or name from the data must not forge
            // another line of the report (backslashes kept: some messages come escaped).
            crate::text::one_line(&self.at),
            crate::text::one_line(&self.message)
        )
    }
}

/// The problems of a layout that say a file or directory could not be read for permissions.
pub const UNREADABLE_KINDS: &[&str] = &["oci-layout-unreadable", "index-json-unreadable", "blobs-dir-unreadable"];

/// What a layout or archive source adds to a [`Root`]: its kind, its problems, and how
/// references name its image records.
#[derive(Debug)]
pub struct SourceInfo {
    pub kind: Kind,
    pub path: PathBuf,
    pub problems: Vec<Problem>,
    pub names: Vec<import::Named>,
    pub ambiguous: std::collections::BTreeMap<String, Vec<usize>>,
    pub targets: Vec<(usize, String)>,
}

impl SourceInfo {
    pub fn damaged(&self) -> bool {
        self.problems
            .iter()
            .any(|p| p.severity == Severity::Error && !UNREADABLE_KINDS.contains(&p.kind))
    }

    /// Whether a file or directory of the layout could not be read at all (permissions):
    /// exit 4, as a content store that cannot be listed, not damage.
    pub fn unreadable(&self) -> bool {
        self.problems.iter().any(|p| UNREADABLE_KINDS.contains(&p.kind))
    }

    /// The image record a user's reference names on this source: a record name, a ref name as
    /// written in index.json, a full name, `@N`, or an entry's digest. `Ok(None)`: not a name
    /// of this source (the caller resolves it as dockerd would, e.g. an image ID).
    pub fn resolve(&self, reference: &str) -> Result<Option<String>, String> {
        if let Some(entries) = self.ambiguous.get(reference) {
            return Err(format!(
                "{reference:?} is ambiguous: index.json entries {} all have that name; use @N or a digest",
                entries.iter().map(|p| format!("@{p}")).collect::<Vec<_>>().join(", ")
            ));
        }
        if self.names.iter().any(|n| n.record == reference) {
            return Ok(Some(reference.to_string()));
        }
        if let Some(n) = self.names.iter().find(|n| n.aliases.iter().any(|a| a == reference)) {
            return Ok(Some(n.record.clone()));
        }
        // A familiar name (`multi:3.1`) for a record kept under its full name.
        if let Ok(named) = crate::image::reference::parse_normalized_named(reference) {
            let full = named.to_string();
            if self.names.iter().any(|n| n.record == full) {
                return Ok(Some(full));
            }
        }
        let position = import::position(reference);
        let entry = match position {
            Some(p) if self.targets.iter().any(|(e, _)| *e == p) => Some(p),
            Some(p) => return Err(format!("no entry @{p}: the source has {} entries", self.targets.len())),
            None if Digest::parse(reference).is_ok() => {
                self.targets.iter().find(|(_, d)| d == reference).map(|(e, _)| *e)
            }
            None => None,
        };
        Ok(entry.and_then(|e| self.names.iter().find(|n| n.entry == e).map(|n| n.record.clone())))
    }
}

/// Why a path cannot be read as any source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Root(#[from] RootError),
    #[error("{}: {message}", path.display())]
    Unrecognized { path: PathBuf, message: String },
    #[error("{}: permission denied ({what})", path.display())]
    Denied { path: PathBuf, what: String },
    #[error("{}: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },
    /// Read, but refused for what is in it (an archive of more members than are indexed).
    #[error("{}: {message}", path.display())]
    Damaged { path: PathBuf, message: String },
}

/// Tells what `path` is, from what is there (never following a symlink inside it). `path`
/// itself may be a symlink: the user named it (`/var/lib/containerd` moved to a bigger disk
/// is often one), so it is what it points to.
pub fn detect(path: &Path) -> Result<Kind, SourceError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(SourceError::Denied {
                path: path.into(),
                what: "cannot look at it".into(),
            });
        }
        // Let the containerd root reader say where a root probably is.
        Err(_) => return Ok(Kind::Containerd),
    };
    if meta.is_dir() {
        let has = |name: &str| std::fs::symlink_metadata(path.join(name)).is_ok();
        if has(root::META_DB)
            || has("io.containerd.metadata.v1.bolt")
            || path.ends_with("io.containerd.metadata.v1.bolt")
        {
            return Ok(Kind::Containerd);
        }
        if has("index.json") || has("oci-layout") {
            return Ok(Kind::OciLayout);
        }
        if has("manifest.json") {
            return Err(SourceError::Unrecognized {
                path: path.into(),
                message: "looked for oci-layout/index.json (an OCI layout) and io.containerd.metadata.v1.bolt (a containerd root); found manifest.json only: an unpacked docker-archive or a containers/image dir: directory, which is not read as a directory (pass the archive file)".into(),
            });
        }
        return Ok(Kind::Containerd);
    }
    if meta.is_file() {
        let mut head = [0u8; 512];
        let n = read_head(path, &mut head)?;
        let head = head.get(..n).unwrap_or_default();
        if crate::bolt::meta::sniff_endian(head, 0).is_some() {
            return Ok(Kind::Containerd);
        }
        if is_archive_head(head) {
            return Ok(Kind::OciArchive);
        }
        // Meta page 0 damaged: a valid meta 1 where bbolt's own reader looks for it (sweep
        // 35.3: refused as not bbolt, where the same file through its directory is read
        // through meta 1); or the file's bbolt name, for the reader to say what is wrong.
        let named = path.file_name().is_some_and(|n| n == "meta.db" || n == "metadata.db");
        if named || meta_one_probed(path) {
            return Ok(Kind::Containerd);
        }
        return Err(SourceError::Unrecognized {
            path: path.into(),
            message: "not a bbolt file, a tar, or a gzip/zstd-compressed tar: looked for a containerd root, an OCI layout, an OCI archive or a docker-archive".into(),
        });
    }
    Err(SourceError::Unrecognized {
        path: path.into(),
        message: format!(
            "a {}, not a directory or file; not followed",
            crate::containerd::blobs::FileKind::of(&meta.file_type())
        ),
    })
}

/// A tar (ustar magic at 257, or an old-style header with a valid checksum) or gzip/zstd.
fn is_archive_head(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
        || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        || head.get(257..262) == Some(b"ustar".as_slice())
}

/// A valid meta page 1 where bbolt's reader looks for one ([`crate::bolt::meta::meta_one_at`]),
/// one small read per offset.
fn meta_one_probed(path: &Path) -> bool {
    use std::os::unix::fs::FileExt;
    let Ok(f) = crate::bolt::open_read_only(path) else {
        return false;
    };
    let mut page = [0u8; 128];
    crate::bolt::meta::meta_one_offsets().any(|at| {
        f.read_at(&mut page, at as u64).is_ok_and(|n| n == page.len())
            && crate::bolt::meta::meta_one_at(&page, at).is_some()
    })
}

fn read_head(path: &Path, buf: &mut [u8]) -> Result<usize, SourceError> {
    use std::io::Read;
    let mut f = crate::bolt::open_read_only(path).map_err(|e| SourceError::Unreadable {
        path: path.into(),
        message: e.to_string(),
    })?;
    let mut n = 0;
    while n < buf.len() {
        match f.read(buf.get_mut(n..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(SourceError::Unreadable {
                    path: path.into(),
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(n)
}

/// Opens a layout or archive source of a known kind.
pub fn open(path: &Path, kind: Kind) -> Result<Root, SourceError> {
    match kind {
        Kind::Containerd => Err(SourceError::Unrecognized {
            path: path.into(),
            message: "a containerd root is opened with Root::open".into(),
        }),
        Kind::OciLayout => open_layout(path),
        Kind::OciArchive | Kind::DockerArchive => archive::open(path),
    }
}

/// Opens an OCI layout directory as a root whose records are those of its import.
pub fn open_layout(named: &Path) -> Result<Root, SourceError> {
    // The directory the user named may itself be a symlink to the layout: that one link is
    // resolved (nothing inside the layout is ever followed).
    let resolved;
    let dir = if std::fs::symlink_metadata(named).is_ok_and(|m| m.file_type().is_symlink()) {
        resolved = std::fs::canonicalize(named).map_err(|e| SourceError::Unreadable {
            path: named.into(),
            message: e.to_string(),
        })?;
        resolved.as_path()
    } else {
        named
    };
    // Nothing there, or no directory (`--source-type oci-layout` with a typo): not a layout
    // whose every file is damaged, but a path that cannot be read as one (exit 4; sweep 25).
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(m) => {
            return Err(SourceError::Unreadable {
                path: named.into(),
                message: format!(
                    "{}, not a directory (an OCI layout is one)",
                    crate::paths::kind_of(&m.file_type())
                ),
            });
        }
        Err(e) => {
            return Err(SourceError::Unreadable {
                path: named.into(),
                message: crate::text::without_os_error(&e.to_string()).into_owned(),
            });
        }
    }
    let mut problems = Vec::new();
    // A file that cannot be used is a problem of the layout, and the rest is still read.
    // A file this user may not read is not damaged: its own kind, and exit 4 (see
    // [`SourceInfo::unreadable`]).
    let small = |name: &str, kinds: (&'static str, &'static str), problems: &mut Vec<Problem>| match read_small(
        &dir.join(name),
    ) {
        Ok(bytes) => Some(bytes),
        Err(SourceError::Unreadable { message, .. }) => {
            problems.push(Problem::error(kinds.0, name, message));
            None
        }
        Err(SourceError::Denied { what, .. }) => {
            problems.push(Problem::error(kinds.1, name, what));
            None
        }
        Err(e) => {
            problems.push(Problem::error(kinds.0, name, e.to_string()));
            None
        }
    };
    if let Some(bytes) = small(
        "oci-layout",
        ("oci-layout-invalid", "oci-layout-unreadable"),
        &mut problems,
    ) {
        layout::check_layout_file(bytes.as_deref(), &mut problems);
    }
    let entries = match small(
        "index.json",
        ("index-json-invalid", "index-json-unreadable"),
        &mut problems,
    ) {
        Some(Some(bytes)) => layout::entries(&bytes, &mut problems),
        Some(None) => {
            problems.push(Problem::error("index-json-missing", "index.json", "no index.json"));
            Vec::new()
        }
        None => Vec::new(),
    };
    let empty = crate::bolt::Db::from_bytes(dir.join("index.json"), build::build(&build::Tree::new()))
        .map_err(RootError::from)?;
    let mut root = Root::for_layout(dir, empty);
    match root.content_state() {
        ContentState::Readable => {}
        ContentState::Denied(why) => problems.push(Problem::error("blobs-dir-unreadable", "blobs", why.clone())),
        ContentState::Absent(why) | ContentState::Unsafe(why) => {
            problems.push(Problem::error("blobs-dir-symlink", "blobs", why.clone()));
        }
    }
    let blobs = RootBlobs::new(&root, &mut problems);
    let imported = import::import(&entries, &blobs, &mut problems);
    let meta =
        crate::bolt::Db::from_bytes(dir.join("index.json"), build::build(&imported.tree)).map_err(RootError::from)?;
    root.meta = meta;
    root.source = Some(std::sync::Arc::new(SourceInfo {
        kind: Kind::OciLayout,
        path: named.to_path_buf(),
        problems,
        names: imported.names,
        ambiguous: imported.ambiguous,
        targets: imported.targets,
    }));
    Ok(root)
}

/// Largest `oci-layout`, `index.json` or `manifest.json` read (as the largest document).
const MAX_SMALL: u64 = root::MAX_DOCUMENT;

/// Reads a top-level file of a layout: never through a symlink, never a FIFO, never more than
/// [`MAX_SMALL`] bytes. `Ok(None)`: it is not there.
fn read_small(path: &Path) -> Result<Option<Vec<u8>>, SourceError> {
    use std::io::Read;
    let unreadable = |message: String| SourceError::Unreadable {
        path: path.into(),
        message,
    };
    let failed = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::PermissionDenied => SourceError::Denied {
            path: path.into(),
            what: e.to_string(),
        },
        _ => unreadable(e.to_string()),
    };
    let file = crate::noatime::open(path, libc::O_NOFOLLOW | libc::O_NONBLOCK);
    let file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(unreadable("a symlink; not followed".into()));
        }
        Err(e) => return Err(failed(e)),
    };
    let meta = file.metadata().map_err(failed)?;
    if !meta.is_file() {
        return Err(unreadable("not a regular file; not read".into()));
    }
    if meta.len() > MAX_SMALL {
        return Err(unreadable(format!(
            "{} bytes: larger than any document coldctr reads ({MAX_SMALL} bytes)",
            meta.len()
        )));
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_SMALL).read_to_end(&mut data).map_err(failed)?;
    Ok(Some(data))
}

/// A layout directory's blobs, read through the root's checked blob access; which are there
/// is learnt from one listing of `blobs/` (a stat per descriptor costs more than it on a
/// layout of 20,000 blobs).
struct RootBlobs<'a> {
    root: &'a Root,
    regular: foldhash::HashSet<Digest>,
}

impl<'a> RootBlobs<'a> {
    /// The layout's blobs; the entries under `blobs/` named by no digest are problems.
    fn new(root: &'a Root, problems: &mut Vec<Problem>) -> RootBlobs<'a> {
        // A store the root refused (a symlinked blobs/) has no blob anyone may read.
        let mut invalid = Vec::new();
        let regular = if root.content_problem().is_some() {
            foldhash::HashSet::default()
        } else {
            regular_blobs(root.content_dir(), &mut invalid)
        };
        for path in invalid {
            problems.push(Problem::error(
                "blob-name-invalid",
                path,
                "an entry under blobs/ whose name is not <algorithm>/<lowercase hex>",
            ));
        }
        RootBlobs { root, regular }
    }
}

/// The regular files at `<dir>/blobs/<algorithm>/<hex>` whose names are digests: no link is
/// followed (the `blobs` directory itself included), nothing deeper read, and what cannot be
/// listed or looked at is left out. Listed without changing a directory's access time.
/// Entries under `blobs/` whose names are no `<algorithm>/<lowercase hex>` are `invalid`
/// (their paths, escaped), as an archive's members are (image-spec: blobs are named by
/// their digest).
fn regular_blobs(dir: &Path, invalid: &mut Vec<String>) -> foldhash::HashSet<Digest> {
    use std::os::unix::ffi::OsStrExt;
    let mut found = foldhash::HashSet::default();
    let Ok(algorithms) = crate::noatime::read_dir_no_follow(&dir.join("blobs")) else {
        return found;
    };
    let shown = |parts: &[&std::ffi::OsStr]| {
        let mut path = b"blobs".to_vec();
        for p in parts {
            path.push(b'/');
            path.extend_from_slice(p.as_bytes());
        }
        crate::text::escape(&path)
    };
    for alg in algorithms.flatten() {
        if !alg.file_type().is_ok_and(|t| t.is_dir()) {
            invalid.push(shown(&[&alg.file_name()]));
            continue;
        }
        let (Ok(blobs), Some(alg_name)) = (
            crate::noatime::read_dir_no_follow(&alg.path()),
            alg.file_name().to_str().map(str::to_string),
        ) else {
            continue;
        };
        for blob in blobs.flatten() {
            let digest = blob
                .file_name()
                .to_str()
                .and_then(|hex| Digest::parse(&format!("{alg_name}:{hex}")).ok());
            match digest {
                Some(d) if blob.file_type().is_ok_and(|t| t.is_file()) => {
                    found.insert(d);
                }
                Some(_) => {}
                None => invalid.push(shown(&[&alg.file_name(), &blob.file_name()])),
            }
        }
    }
    invalid.sort();
    found
}

impl import::Blobs for RootBlobs<'_> {
    fn read(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>, root::BlobError> {
        self.root.read_file(digest, limit)
    }

    fn exists(&self, digest: &Digest) -> bool {
        self.regular.contains(digest)
    }

    fn absent(&self, digest: &Digest) -> bool {
        !self.regular.contains(digest)
            && matches!(self.root.blob_stat(digest), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
    }

    fn size(&self, digest: &Digest) -> Option<u64> {
        self.root.blob_stat(digest).ok().filter(|m| m.is_file()).map(|m| m.len)
    }
}
