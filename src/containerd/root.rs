//! A containerd root directory, read-only:
//!
//! ```text
//! <root>/io.containerd.metadata.v1.bolt/meta.db                      bbolt metadata
//! <root>/io.containerd.content.v1.content/blobs/<alg>/<hex>          content blobs
//! <root>/io.containerd.content.v1.content/ingest/<sha256(ref)>/      partial writes
//! <root>/io.containerd.snapshotter.v1.<name>/metadata.db             snapshotter metadata
//! ```
//!
//! Blobs are read the way dockerd's proxy content store reads them: a blob is "there" for a
//! namespace only when that namespace has a content record for it and the file exists; its
//! size is the record's size, and a file shorter than that is an unexpected EOF. Digests are
//! validated before they become paths, symlinks are never followed (`O_NOFOLLOW`, and the
//! store's directories are checked once), and no allocation is sized from the record alone.

use super::blob_dirs::BlobDirs;
use super::records;
use crate::bolt::{self, BoltError, Db, ReadMode, Tx};
use crate::digest::Digest;
use std::io::Read;
use std::path::{Path, PathBuf};

pub const META_DB: &str = "io.containerd.metadata.v1.bolt/meta.db";
pub const CONTENT_DIR: &str = "io.containerd.content.v1.content";

/// Largest manifest, index or config we read into memory. containerd has no limit, but
/// registries cap manifests at 4 MiB; a larger "document" is damage, not data.
pub const MAX_DOCUMENT: u64 = 64 << 20;

/// Why a directory cannot be read as a containerd root.
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error("{}: not a containerd root: {META_DB} not found{}", dir.display(), hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    NotARoot { dir: PathBuf, hint: Option<String> },
    /// A directory on the way to meta.db exists but cannot be searched or read.
    #[error("{}: permission denied reading {what} (run as a user who can read it, e.g. root)", path.display())]
    Denied { path: PathBuf, what: &'static str },
    #[error(transparent)]
    Bolt(#[from] BoltError),
}

/// An open containerd root.
pub struct Root {
    pub dir: PathBuf,
    pub meta: Db,
    content: PathBuf,
    /// Whether blobs can be read at all.
    content_state: ContentState,
    /// Set when the records are those of an OCI layout or archive (`crate::source`).
    pub source: Option<std::sync::Arc<crate::source::SourceInfo>>,
    /// Set when the blobs are members of an archive rather than files under `content`.
    pub archive: Option<std::sync::Arc<dyn ArchiveBlobs>>,
    /// Set when `meta` is the salvage view of meta.db (`crate::recover::view`).
    pub salvage: Option<std::sync::Arc<crate::recover::view::Report>>,
    /// `blobs/<algorithm>` directories opened once, for lookups relative to them.
    blob_dirs: BlobDirs,
    /// False when the records are read through an older transaction (`--previous`), whose
    /// blobs gc may have removed since.
    pub records_current: bool,
    /// Set when a blob file could not be opened for want of permission: whatever the command
    /// made of the failed read (a missing platform, an error body), its exit code is 4.
    denied: std::sync::atomic::AtomicBool,
    /// A blob file was found not to be a regular file (a symlink, a FIFO): damage.
    not_regular: std::sync::atomic::AtomicBool,
}

/// An open blob: a file of the store, or the bytes of an archive member.
pub enum BlobFile {
    File(std::fs::File),
    Part(Box<dyn Read + Send>),
}

impl BlobFile {
    /// Why the blob, `len` bytes long, is not read: its holes are past what is hashed or
    /// copied (`crate::sparse`). An archive's member is never a sparse file of its own.
    pub fn too_sparse(&self, len: u64) -> Option<String> {
        match self {
            BlobFile::File(f) => crate::sparse::file_too_sparse(f, len),
            BlobFile::Part(_) => None,
        }
    }
}

impl Read for BlobFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            BlobFile::File(f) => f.read(buf),
            BlobFile::Part(r) => r.read(buf),
        }
    }
}

impl BlobFile {
    /// The file, when the blob is one (it can then be mapped).
    pub fn as_file(&self) -> Option<&std::fs::File> {
        match self {
            BlobFile::File(f) => Some(f),
            BlobFile::Part(_) => None,
        }
    }
}

/// What a blob is, without opening or following it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobStat {
    pub kind: super::blobs::FileKind,
    pub len: u64,
}

impl BlobStat {
    pub fn is_file(&self) -> bool {
        self.kind == super::blobs::FileKind::Regular
    }
}

/// Blobs held in an archive (`crate::source::archive`): found by digest, read in place.
pub trait ArchiveBlobs: Send + Sync {
    fn open(&self, digest: &Digest) -> Result<(BlobFile, u64), BlobError>;
    fn stat(&self, digest: &Digest) -> std::io::Result<BlobStat>;
    /// The blobs as the content store's `blobs` directory would list them.
    fn tree(&self) -> super::blobs::BlobTree;
    /// Where the blob's data starts in the archive, when reading blobs in that order costs
    /// less (a compressed archive is one stream); `None` when the order does not matter.
    fn stream_offset(&self, _digest: &Digest) -> Option<u64> {
        None
    }
}

/// Whether the content store can be read, decided once when the root is opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContentState {
    Readable,
    /// `io.containerd.content.v1.content` does not exist: meta.db names blobs nothing holds.
    Absent(String),
    /// A directory of the store exists but cannot be listed or searched.
    Denied(String),
    /// A directory of the store is a symlink or not a directory: never followed, not read.
    Unsafe(String),
}

/// Why a blob could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// No content record in the namespace, or no file: containerd's NotFound.
    #[error("{0}: not found")]
    NotFound(String),
    /// A current content record of a containerd root says `recorded` bytes, and the file is
    /// missing (see [`Root::records_blobs`]): to containerd, NotFound like any other, worded
    /// the same; to us, a blob lost from the store, which is damage.
    #[error("content digest {digest}: not found")]
    Lost { digest: String, recorded: i64 },
    /// The file is shorter than its record says.
    #[error("unexpected EOF")]
    UnexpectedEof {
        digest: String,
        recorded: u64,
        on_disk: u64,
    },
    /// The blob is not a regular file (a symlink, a device, a directory).
    #[error("{digest}: blob is not a regular file ({what}); not followed")]
    NotRegular { digest: String, what: String },
    #[error("{digest}: blob of {size} bytes is too large to parse")]
    TooLarge { digest: String, size: u64 },
    #[error("{digest}: {message}")]
    Io { digest: String, message: String },
    #[error("{0}")]
    Meta(String),
}

impl BlobError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, BlobError::NotFound(_) | BlobError::Lost { .. })
    }

    /// The digest and recorded size of a blob whose record outlived its file.
    pub fn lost(&self) -> Option<(&str, i64)> {
        match self {
            BlobError::Lost { digest, recorded } => Some((digest, *recorded)),
            _ => None,
        }
    }
}

/// How every command words a recorded blob whose file is not as recorded (`file`: "missing",
/// or what is there instead), so that inspect, the listings and content say it alike.
pub fn unlike_record(digest: &str, recorded: impl std::fmt::Display, file: impl std::fmt::Display) -> String {
    format!("{digest}: the content record says {recorded} bytes, the blob file is {file}")
}

impl Root {
    /// The file damage in a record was read from ([`Kind::records_file`](crate::source::Kind::records_file)).
    pub fn records_file(&self) -> &'static str {
        self.source.as_ref().map_or(META_DB, |s| s.kind.records_file())
    }

    /// Opens `dir` as a containerd root (or the root whose meta.db or metadata directory `dir`
    /// names); when it is not one, says where the root probably is.
    pub fn open(dir: &Path, mode: ReadMode) -> Result<Root, RootError> {
        let (dir, meta_path) = Root::locate(dir)?;
        let meta = Db::open_no_follow(&meta_path, mode)?;
        Ok(Root::with_meta(&dir, meta))
    }

    /// The root directory `dir` names (see [`Root::open`]) and its meta.db's path, checked as
    /// [`Root::open`] checks them, without opening meta.db.
    pub fn locate(dir: &Path) -> Result<(PathBuf, PathBuf), RootError> {
        let dir = &root_of(dir);
        let meta_path = dir.join(META_DB);
        // Permission denied anywhere on the way is not "no root here": say which.
        for (path, what) in [
            (dir.to_path_buf(), "the containerd root"),
            (dir.join("io.containerd.metadata.v1.bolt"), "the metadata directory"),
            (meta_path.clone(), "meta.db"),
        ] {
            if let Err(e) = std::fs::symlink_metadata(&path)
                && e.kind() == std::io::ErrorKind::PermissionDenied
            {
                return Err(RootError::Denied { path, what });
            }
        }
        // The metadata directory and meta.db must be real, not symlinks out of the root.
        if !is_real(&dir.join("io.containerd.metadata.v1.bolt"), true) || !is_real(&meta_path, false) {
            let linked = std::fs::symlink_metadata(&meta_path).is_ok_and(|m| m.file_type().is_symlink())
                || std::fs::symlink_metadata(dir.join("io.containerd.metadata.v1.bolt"))
                    .is_ok_and(|m| m.file_type().is_symlink());
            return Err(RootError::NotARoot {
                dir: dir.to_path_buf(),
                hint: if linked {
                    Some(
                        "it is a symlink, not followed out of the root; read it with `coldctr bolt` if you trust it"
                            .into(),
                    )
                } else if std::fs::symlink_metadata(dir).is_err() {
                    Some("it does not exist".into())
                } else if let Ok(m) = std::fs::symlink_metadata(&meta_path)
                    && !m.is_file()
                {
                    // There, but not a file a store could hold (`bolt info` says it alike).
                    Some(format!(
                        "it is a {}, not a regular file",
                        crate::containerd::blobs::FileKind::of(&m.file_type())
                            .as_str()
                            .replace('-', " ")
                    ))
                } else if is_real(dir, false) {
                    Some(
                        "it is a file; --root takes a containerd root, its io.containerd.metadata.v1.bolt or the meta.db inside it; read any other bbolt file with `coldctr bolt`"
                            .into(),
                    )
                } else {
                    guess_root(dir)
                },
            });
        }
        Ok((dir.to_path_buf(), meta_path))
    }

    /// The root at `dir` (found by [`Root::locate`]) with `meta` for its records: meta.db, or
    /// a view of it. Blobs are read from the root's content store.
    pub fn with_meta(dir: &Path, meta: Db) -> Root {
        let content = dir.join(CONTENT_DIR);
        let mut content_state = check_dirs(&content);
        if matches!(content_state, ContentState::Absent(_)) && names_no_blob(&meta) {
            // Nothing to lose: a store that never held a blob (a CRI node's sandboxes alone).
            content_state = ContentState::Readable;
        }
        Root {
            dir: dir.to_path_buf(),
            meta,
            blob_dirs: blob_dirs(&content, &content_state),
            content,
            content_state,
            source: None,
            archive: None,
            salvage: None,
            records_current: true,
            denied: Default::default(),
            not_regular: Default::default(),
        }
    }

    /// An OCI layout directory as a root: its blobs are at `<dir>/blobs/<alg>/<hex>`, as in a
    /// content store, and `meta` holds the records of its import (`crate::source::import`).
    pub fn for_layout(dir: &Path, meta: Db) -> Root {
        let content_state = check_dirs(dir);
        Root {
            dir: dir.to_path_buf(),
            meta,
            blob_dirs: blob_dirs(dir, &content_state),
            content: dir.to_path_buf(),
            content_state,
            source: None,
            archive: None,
            salvage: None,
            records_current: true,
            denied: Default::default(),
            not_regular: Default::default(),
        }
    }

    /// An archive as a root: blobs come from `archive`, `path` names them in reports.
    pub fn for_archive(path: &Path, meta: Db, archive: std::sync::Arc<dyn ArchiveBlobs>) -> Root {
        Root {
            dir: path.to_path_buf(),
            meta,
            content: path.to_path_buf(),
            content_state: ContentState::Readable,
            source: None,
            archive: Some(archive),
            salvage: None,
            blob_dirs: BlobDirs::default(),
            records_current: true,
            denied: Default::default(),
            not_regular: Default::default(),
        }
    }

    /// The blob files as the store's `blobs` directory lists them (or an archive's members).
    pub fn blob_tree(&self, detail: super::blobs::Detail) -> super::blobs::BlobTree {
        match &self.archive {
            Some(a) => a.tree(),
            None => super::blobs::walk(&self.content.join("blobs"), detail),
        }
    }

    /// The directory blobs live under (`<it>/blobs/<alg>/<hex>`).
    pub fn content_dir(&self) -> &Path {
        &self.content
    }

    /// Path of a blob file, for reports only.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.content.join(digest.blob_path())
    }

    /// The snapshotter's own metadata DB, when it exists. Neither its directory nor the file
    /// is read through a symlink (out of the root): one that is a symlink, or not a
    /// directory / regular file, is an `Err` naming it, not an absent database, so that no
    /// command takes the snapshotter's records for missing without saying why.
    pub fn snapshotter_db(&self, snapshotter: &str, mode: ReadMode) -> Option<Result<Db, BoltError>> {
        if !opens_snapshotter(snapshotter) {
            return None;
        }
        let dir = self.dir.join(format!("io.containerd.snapshotter.v1.{snapshotter}"));
        let path = dir.join("metadata.db");
        for (p, want_dir) in [(&dir, true), (&path, false)] {
            let source = match std::fs::symlink_metadata(p) {
                Ok(m) if m.is_dir() == want_dir && (want_dir || m.is_file()) => continue,
                Ok(m) if m.file_type().is_symlink() => std::io::Error::other("a symlink, not followed"),
                Ok(m) => std::io::Error::other(format!(
                    "{}, not a {}",
                    crate::paths::kind_of(&m.file_type()),
                    if want_dir { "directory" } else { "regular file" }
                )),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
                Err(e) => e,
            };
            return Some(Err(BoltError::Io {
                path: p.clone(),
                source,
            }));
        }
        Some(Db::open_no_follow(&path, mode))
    }

    /// Why the content store cannot be trusted, if it cannot.
    pub fn content_problem(&self) -> Option<&str> {
        match &self.content_state {
            ContentState::Readable => None,
            ContentState::Absent(why) | ContentState::Denied(why) | ContentState::Unsafe(why) => Some(why),
        }
    }

    /// Whether blobs can be read at all.
    pub fn content_state(&self) -> &ContentState {
        &self.content_state
    }

    /// The sha256 blobs that are regular files, from one read of the blobs directory (see
    /// `BlobDirs::sha256_regular_files`); `None` where blobs are not in an open directory
    /// (an archive, a store whose directories did not open), or it did not read.
    pub fn sha256_regular_blobs(&self) -> Option<foldhash::HashSet<[u8; 32]>> {
        if self.archive.is_some() {
            return None;
        }
        self.blob_dirs.sha256_regular_files()
    }

    /// What the blob is, without following a symlink.
    pub fn blob_stat(&self, digest: &Digest) -> std::io::Result<BlobStat> {
        if let Some(a) = &self.archive {
            return a.stat(digest);
        }
        if let Some(stat) = self.blob_dirs.stat_blob(digest) {
            return stat;
        }
        let m = std::fs::symlink_metadata(self.blob_path(digest))?;
        Ok(BlobStat {
            kind: super::blobs::FileKind::of(&m.file_type()),
            len: m.len(),
        })
    }

    /// Reads blob `digest` for `namespace` as dockerd would: the record's size, from the file.
    pub fn read_blob(&self, tx: &Tx<'_>, namespace: &str, digest: &str) -> Result<Vec<u8>, BlobError> {
        self.read_looked_up(digest, records::content_size_of(tx, namespace, digest))
    }

    /// [`Root::read_blob`] with the content record's size already looked up (`None`: no
    /// record), for callers that keep sizes.
    pub fn read_looked_up(&self, digest: &str, size: Result<Option<i64>, BoltError>) -> Result<Vec<u8>, BlobError> {
        match size.map_err(|e| BlobError::Meta(e.to_string()))? {
            Some(size) => self.read_recorded(digest, size).map_err(|e| match e {
                BlobError::NotFound(_) if self.records_blobs() => BlobError::Lost {
                    digest: digest.to_string(),
                    recorded: size,
                },
                e => e,
            }),
            None => Err(BlobError::NotFound(format!("content digest {digest}"))),
        }
    }

    /// Reads blob `digest` whose content record says `size` bytes (see [`Root::read_blob`]).
    pub fn read_recorded(&self, digest: &str, size: i64) -> Result<Vec<u8>, BlobError> {
        // A digest that cannot be a path cannot name a file in the store.
        let Ok(d) = Digest::parse(digest) else {
            return Err(BlobError::NotFound(format!("content digest {digest}")));
        };
        let recorded = u64::try_from(size).unwrap_or(0);
        self.read_file(&d, recorded)
    }

    /// Reads `recorded` bytes of the blob file (bounded by the file's real size).
    pub fn read_file(&self, digest: &Digest, recorded: u64) -> Result<Vec<u8>, BlobError> {
        let name = digest.to_string();
        let io = |e: std::io::Error| BlobError::Io {
            digest: digest.to_string(),
            message: e.to_string(),
        };
        let (file, len) = self.open_blob(digest)?;
        if recorded > MAX_DOCUMENT {
            return Err(BlobError::TooLarge {
                digest: name,
                size: recorded,
            });
        }
        // Sized by the file's real length (and capped above), never by the record alone.
        let want = recorded.min(len);
        let mut data = Vec::with_capacity(want as usize);
        file.take(want).read_to_end(&mut data).map_err(io)?;
        if (data.len() as u64) < recorded {
            return Err(BlobError::UnexpectedEof {
                digest: name,
                recorded,
                on_disk: data.len() as u64,
            });
        }
        Ok(data)
    }

    /// Opens the blob file read-only, never following a symlink and never blocking on a FIFO,
    /// and checks that it is a regular file: the file and its length. The path comes from a
    /// validated [`Digest`] only.
    pub fn open_blob(&self, digest: &Digest) -> Result<(BlobFile, u64), BlobError> {
        if let Some(a) = &self.archive {
            return a.open(digest);
        }
        let name = digest.to_string();
        match &self.content_state {
            ContentState::Readable => {}
            // As containerd would find it: no file.
            ContentState::Absent(_) => return Err(BlobError::NotFound(format!("content digest {name}"))),
            ContentState::Denied(why) => {
                return Err(BlobError::Io {
                    digest: name,
                    message: why.clone(),
                });
            }
            ContentState::Unsafe(why) => {
                return Err(BlobError::NotRegular {
                    digest: name,
                    what: why.clone(),
                });
            }
        }
        let io = |e: std::io::Error| BlobError::Io {
            digest: digest.to_string(),
            message: e.to_string(),
        };
        let file = match self.blob_dirs.open_blob(digest) {
            Some(opened) => opened,
            None => crate::noatime::open(&self.blob_path(digest), libc::O_NOFOLLOW | libc::O_NONBLOCK),
        };
        let file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BlobError::NotFound(format!("content digest {name}")));
            }
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                self.not_regular.store(true, std::sync::atomic::Ordering::Relaxed);
                return Err(BlobError::NotRegular {
                    digest: name,
                    what: "a symlink".into(),
                });
            }
            // Permissions, but also EIO, EMFILE, ENOMEM: the blob is not known to be
            // missing or damaged, it could not be read (exit 4; sweep 25 found EMFILE called
            // damage). Unless what is there is no regular file (a socket's open fails with
            // ENXIO): that is damage, as the content listing says it.
            Err(e) => {
                if let Ok(stat) = self.blob_stat(digest)
                    && !stat.is_file()
                {
                    self.not_regular.store(true, std::sync::atomic::Ordering::Relaxed);
                    return Err(BlobError::NotRegular {
                        digest: name,
                        what: stat.kind.as_str().to_string(),
                    });
                }
                self.denied.store(true, std::sync::atomic::Ordering::Relaxed);
                return Err(io(e));
            }
        };
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            self.not_regular.store(true, std::sync::atomic::Ordering::Relaxed);
            return Err(BlobError::NotRegular {
                digest: name,
                // The kind's name (`directory`, `fifo`), as the content listing's FILE
                // column says it, not Rust's debug form of the file type.
                what: super::blobs::FileKind::of(&meta.file_type()).as_str().to_string(),
            });
        }
        Ok((BlobFile::File(file), meta.len()))
    }

    /// Whether a content record promises its blob file: a containerd root whose content store
    /// is there, read through its current transaction. (A layout's or archive's records are
    /// made from the descriptors it holds, present or not, as a pull of one platform leaves
    /// the others; an absent store is said once for every blob; records of an older
    /// transaction, or deleted ones carved from free pages, name blobs gc may since have
    /// removed.)
    pub fn records_blobs(&self) -> bool {
        self.source.is_none()
            && self.archive.is_none()
            && self.salvage.as_ref().is_none_or(|r| r.deleted_included.is_empty())
            && self.records_current
            && matches!(self.content_state, ContentState::Readable)
    }

    /// Whether a blob file could not be opened: for want of permission, or an I/O error
    /// (not "not there", not a symlink).
    pub fn blob_denied(&self) -> bool {
        self.denied.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether a blob file opened was not a regular file (and so not read).
    pub fn blob_not_regular(&self) -> bool {
        self.not_regular.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The view through the current meta, or the error that prevents it.
    pub fn view(&self, choice: bolt::MetaChoice) -> Result<Tx<'_>, BoltError> {
        self.meta.view(choice)
    }
}

/// The store's algorithm directories, opened only when the store's own directories checked
/// out as real directories inside the root.
fn blob_dirs(content: &Path, state: &ContentState) -> BlobDirs {
    match state {
        ContentState::Readable => BlobDirs::open(content),
        _ => BlobDirs::default(),
    }
}

/// True when `p` is a directory (or a regular file), not a symlink to one.
fn is_real(p: &Path, dir: bool) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| if dir { m.is_dir() } else { m.is_file() })
}

/// The content store's own directories must be real directories inside the root, and
/// readable: a store that cannot be listed is not a store whose blobs are all missing.
fn check_dirs(content: &Path) -> ContentState {
    for part in ["", "blobs", "blobs/sha256", "blobs/sha384", "blobs/sha512"] {
        let p = if part.is_empty() {
            content.to_path_buf()
        } else {
            content.join(part)
        };
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                return ContentState::Unsafe(format!("{} is a symlink", p.display()));
            }
            Ok(m) if !m.is_dir() => return ContentState::Unsafe(format!("{} is not a directory", p.display())),
            // Any error listing it (EACCES, but also EIO, EMFILE, ENOMEM on a seized node):
            // what it holds is not known, so no blob is called missing (sweep 25).
            Ok(_) => {
                if let Err(e) = crate::noatime::read_dir_no_follow(&p) {
                    return ContentState::Denied(unlistable(&p, &e));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return ContentState::Denied(unlistable(&p, &e));
            }
            Err(e) if part.is_empty() && e.kind() == std::io::ErrorKind::NotFound => {
                return ContentState::Absent(format!(
                    "{} does not exist: meta.db names blobs, but no file of any of them can be read",
                    p.display()
                ));
            }
            Err(_) => {}
        }
    }
    ContentState::Readable
}

/// Why a directory of the store cannot be listed: "permission denied" as before, or the
/// error.
fn unlistable(p: &Path, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => format!("{}: permission denied", p.display()),
        _ => format!("{}: {}", p.display(), crate::text::without_os_error(&e.to_string())),
    }
}

/// Whether meta.db's current records name no blob at all: no namespace has a `content/blob`
/// entry, and nothing on the way there is damaged (damage keeps the absent store said).
fn names_no_blob(meta: &Db) -> bool {
    let Ok(tx) = meta.view(bolt::MetaChoice::Current) else {
        return false;
    };
    let mut damage = records::Damage::new();
    let namespaces = records::namespace_buckets(&tx, &mut damage);
    damage.is_empty()
        && namespaces
            .iter()
            .all(|(_, ns)| match ns.bucket_at(&[b"content".as_slice(), b"blob"]) {
                Ok(None) => true,
                Ok(Some(blobs)) => blobs.cursor().next().is_none(),
                Err(_) => false,
            })
}

/// The name of containerd's metadata plugin directory, which holds meta.db.
const METADATA_DIR: &str = "io.containerd.metadata.v1.bolt";

/// `--root` may name meta.db itself (`<root>/io.containerd.metadata.v1.bolt/meta.db`) or its
/// directory: the root is then the directory above. Anything else is taken as it is.
pub fn root_of(given: &Path) -> PathBuf {
    let named = |p: &Path, name: &str| p.file_name().is_some_and(|n| n == name);
    let bolt_dir = if named(given, "meta.db") {
        given.parent().filter(|p| named(p, METADATA_DIR))
    } else if named(given, METADATA_DIR) {
        Some(given)
    } else {
        None
    };
    match bolt_dir.and_then(Path::parent) {
        Some(root) if root.as_os_str().is_empty() => PathBuf::from("."),
        Some(root) => root.to_path_buf(),
        None => given.to_path_buf(),
    }
}

/// Where containerd keeps its root on a node's disk, by distribution, relative to `/`.
pub const KNOWN_LAYOUTS: [(&str, &str); 6] = [
    ("containerd", "var/lib/containerd"),
    ("dockerd's own containerd", "var/lib/docker/containerd/daemon"),
    ("k3s", "var/lib/rancher/k3s/agent/containerd"),
    ("rke2", "var/lib/rancher/rke2/agent/containerd"),
    ("microk8s", "var/snap/microk8s/common/var/lib/containerd"),
    ("rootless containerd", "home/*/.local/share/containerd"),
];

/// The roots that exist under `dir` at `rel`, where a `*` component is any user's home
/// (the rootless layout; root's own home is `root/`, checked beside `home/*`).
fn roots_at(dir: &Path, rel: &str) -> Vec<PathBuf> {
    let has_root = |p: &Path| p.join(META_DB).is_file();
    match rel.split_once("/*/") {
        None => Some(dir.join(rel)).into_iter().filter(|p| has_root(p)).collect(),
        Some((parent, below)) => {
            let mut homes: Vec<PathBuf> = crate::noatime::read_dir(&dir.join(parent))
                .map(|entries| entries.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            homes.sort();
            homes.push(dir.join("root"));
            homes
                .into_iter()
                .map(|h| h.join(below))
                .filter(|p| has_root(p))
                .collect()
        }
    }
}

/// Where the containerd root probably is, when `dir` is a node's `/`, its `/var/lib`, a Docker
/// data-root, or a folder of roots: every root found, else the layouts to look for.
fn guess_root(dir: &Path) -> Option<String> {
    let mut found: Vec<String> = Vec::new();
    // `dir` as a node's `/` (a mounted disk), then as its /var/lib, then as a Docker data-root.
    let relative = KNOWN_LAYOUTS
        .iter()
        .map(|(_, rel)| *rel)
        .chain(KNOWN_LAYOUTS.iter().filter_map(|(_, rel)| rel.strip_prefix("var/lib/")))
        .chain(["containerd/daemon"]);
    for rel in relative {
        for p in roots_at(dir, rel) {
            let p = p.display().to_string();
            if !found.contains(&p) {
                found.push(p);
            }
        }
    }
    // A directory holding roots one level down (a folder of fixtures or backups).
    if let Ok(entries) = crate::noatime::read_dir(dir) {
        let mut below: Vec<String> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join(META_DB).is_file())
            .map(|p| p.display().to_string())
            .filter(|p| !found.contains(p))
            .collect();
        below.sort();
        found.extend(below);
    }
    match found.as_slice() {
        [] => {}
        [one] => return Some(format!("found one at {one}")),
        many => {
            return Some(format!(
                "found {}: {}; pass one with --root",
                many.len(),
                many.join(", ")
            ));
        }
    }
    // A Docker data-root: its containers, and its images (the graphdriver store's `image/`;
    // with the containerd image store, the `rootfs/` its containers are mounted under).
    let docker_data_root = dir.join("containers").is_dir()
        && ["image", "overlay2", "rootfs", "engine-id"]
            .iter()
            .any(|n| dir.join(n).exists());
    if docker_data_root
        && let Some(beside) = dir.parent().map(|p| p.join("containerd"))
        && beside.join(META_DB).is_file()
    {
        return Some(format!(
            "this looks like a Docker data-root; its node's containerd root is beside it: --root {} --docker-root {}",
            beside.display(),
            dir.display()
        ));
    }
    if docker_data_root || (dir.join("image").is_dir() && dir.join("overlay2").is_dir()) {
        return Some(
            "this looks like a Docker data-root; containerd's root is usually /var/lib/containerd, or <data-root>/containerd/daemon when dockerd runs its own containerd".into(),
        );
    }
    let layouts: Vec<String> = KNOWN_LAYOUTS
        .iter()
        .map(|(who, rel)| format!("<mount>/{rel} ({who})"))
        .collect();
    let looks_like_slash = dir.join("etc").is_dir() && dir.join("var").is_dir();
    Some(format!(
        "{}none of the known layouts is there: {}",
        if looks_like_slash {
            "this looks like a node's /, but "
        } else {
            ""
        },
        layouts.join(", ")
    ))
}

/// Whether `snapshotter`, a name from the records, is one whose directory
/// (`io.containerd.snapshotter.v1.<name>`) coldctr opens: not empty, no `/`, not starting with
/// `.` (no `..`), so that no record names a directory out of the root.
pub fn opens_snapshotter(snapshotter: &str) -> bool {
    !(snapshotter.is_empty() || snapshotter.contains('/') || snapshotter.starts_with('.'))
}

/// Why a snapshotter's metadata.db was not read when [`Root::snapshotter_db`] found none: the
/// file is not there, or the name is none coldctr opens a directory by (sweep 42: `no
/// io.containerd.snapshotter.v1.x/../../outside/metadata.db` read as if it had been looked for).
pub fn no_snapshotter_db(snapshotter: &str) -> String {
    let shown = crate::text::named(&crate::text::escape(snapshotter.as_bytes()));
    if opens_snapshotter(snapshotter) {
        format!("no io.containerd.snapshotter.v1.{shown}/metadata.db")
    } else {
        format!(
            "snapshotter name {shown} is no directory name coldctr opens (it is empty, holds `/` or starts with `.`): its metadata.db is not read"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sweep 42: a snapshotter named `x/../../outside` was said to have no
    /// `io.containerd.snapshotter.v1.x/../../outside/metadata.db`, as if it had been looked for.
    #[test]
    fn a_snapshotter_name_with_a_path_is_said_to_be_none_coldctr_opens() {
        assert_eq!(
            no_snapshotter_db("overlayfs"),
            "no io.containerd.snapshotter.v1.overlayfs/metadata.db"
        );
        for name in ["x/../../outside", "..", "", "a/b", ".hidden"] {
            let said = no_snapshotter_db(name);
            assert!(said.contains("is no directory name coldctr opens"), "{said}");
            assert!(!said.contains("io.containerd.snapshotter.v1."), "{said}");
        }
    }
}
