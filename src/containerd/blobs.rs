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

use super::root::Root;
use crate::digest::Digest;
use std::io::Read;
use std::path::{Path, PathBuf};

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

    /// The kind of an `lstat`'s `st_mode`.
    pub fn of_mode(mode: libc::mode_t) -> FileKind {
        match mode & libc::S_IFMT {
            libc::S_IFREG => FileKind::Regular,
            libc::S_IFLNK => FileKind::Symlink,
            libc::S_IFDIR => FileKind::Directory,
            libc::S_IFIFO => FileKind::Fifo,
            libc::S_IFSOCK => FileKind::Socket,
            libc::S_IFBLK => FileKind::BlockDevice,
            libc::S_IFCHR => FileKind::CharDevice,
            _ => FileKind::Other,
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

/// How deep below `blobs/<algorithm>/` the walk follows sub-directories (containerd has no
/// limit; a deeper tree is damage and is reported as such).
const MAX_BLOB_DEPTH: usize = 4;

/// `io.containerd.content.v1.content/blobs`, as containerd's `filepath.Walk` meets it: the one
/// listing of the blob files every command uses (gc and du with [`Detail::Stat`], verify with
/// [`Detail::Type`]).
#[derive(Clone, Debug)]
pub enum BlobTree {
    /// No `blobs` directory (containerd's walk fails on it).
    Missing,
    /// `blobs` is not a directory (a symlink, a file): containerd's walk visits nothing.
    NotADirectory(FileKind),
    /// `blobs` could not be read.
    Unreadable(String),
    /// Not read because the content store's directories are symlinks (never followed here;
    /// containerd would follow them).
    Refused(String),
    /// Top-level entries (in name order with [`Detail::Stat`]).
    Entries(Vec<BlobEntry>),
}

/// A file or directory in the blob tree. A store lists 50,000 of these and keeps them for the
/// whole run, so the path is not stored: it is the shared directory's path and the name.
#[derive(Clone, Debug)]
pub struct BlobEntry {
    /// The entry's name ([`records::key_name`](super::records::key_name): never lossy).
    pub name: String,
    /// The directory holding it (one allocation shared by its entries).
    dir: std::sync::Arc<Path>,
    /// Where in [`BlobEntry::full`] the part relative to the content store (`blobs/...`)
    /// starts.
    rel_at: usize,
    pub kind: FileKind,
    /// Apparent size (`st_size`; of a symlink: the length of its target name); 0 without
    /// [`Detail::Stat`].
    pub size: u64,
    /// Allocated bytes (`st_blocks * 512`); 0 without [`Detail::Stat`].
    pub allocated: u64,
    /// (device, inode), to count hard-linked files once; zeros without [`Detail::Stat`].
    pub inode: (u64, u64),
    /// What few entries have: a directory's entries, why it was not listed, a name that is
    /// not its own bytes.
    extra: Option<Box<Extra>>,
}

/// The rare parts of a [`BlobEntry`].
#[derive(Clone, Debug, Default)]
struct Extra {
    /// The entries of a directory in name order (`None` for anything else, or too deep).
    children: Option<Vec<BlobEntry>>,
    /// Why a directory's entries were not listed.
    unreadable: Option<String>,
    /// The name's bytes, when `name` had to escape them.
    raw: Option<std::ffi::OsString>,
    /// The whole path, for an entry that is no directory entry (an archive member).
    full: Option<PathBuf>,
}

/// What the walk learns of each entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// `lstat` every entry: sizes, blocks, inodes (gc, du).
    Stat,
    /// Only the type the directory entry gives (no `stat` per file where the filesystem
    /// records types): a stat of each of 50,000 small blobs costs more than hashing them.
    Type,
}

/// A file the tree names, and the digest its name spells under `blobs/<algorithm>/` (`None`:
/// a stray, an entry beside the algorithm directories or a name that is no digest).
pub struct Named<'a> {
    /// The algorithm directory's name when the entry's name is a valid digest of it.
    pub alg: Option<&'a str>,
    pub entry: &'a BlobEntry,
}

impl Named<'_> {
    /// `<algorithm>:<name>`, when that is a digest (built on demand: most callers only look).
    pub fn digest(&self) -> Option<String> {
        self.alg.map(|a| format!("{a}:{}", self.entry.name))
    }
}

impl BlobEntry {
    /// An entry that is not a directory entry (an archive member): `full` is what reports
    /// print, `rel` the part of it relative to the store (`blobs/sha256/<hex>`).
    pub fn member(full: PathBuf, rel: &str, kind: FileKind, size: u64, inode: u64) -> BlobEntry {
        use std::os::unix::ffi::OsStrExt;
        let all = full.as_os_str().as_bytes().len();
        BlobEntry {
            name: rel.rsplit('/').next().unwrap_or(rel).to_string(),
            rel_at: all.saturating_sub(rel.len()),
            dir: std::sync::Arc::from(Path::new("")),
            kind,
            size,
            allocated: size,
            inode: (0, inode),
            extra: Some(Box::new(Extra {
                full: Some(full),
                ..Extra::default()
            })),
        }
    }

    /// A directory of such entries.
    pub fn member_dir(full: PathBuf, rel: &str, children: Vec<BlobEntry>) -> BlobEntry {
        let mut e = BlobEntry::member(full, rel, FileKind::Directory, 0, 0);
        e.extra_mut().children = Some(children);
        e
    }

    fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The entries of a directory in name order (`None` for anything else, or too deep).
    pub fn children(&self) -> Option<&[BlobEntry]> {
        self.extra.as_ref()?.children.as_deref()
    }

    /// Why a directory's entries (or the entry) could not be looked at.
    pub fn unreadable(&self) -> Option<&str> {
        self.extra.as_ref()?.unreadable.as_deref()
    }

    /// The size of an archive member, which its tar header gave (`None` for a directory
    /// entry, whose size is the file's, looked at with `lstat`).
    pub fn member_size(&self) -> Option<u64> {
        self.extra.as_ref()?.full.as_ref().map(|_| self.size)
    }

    /// The path to open or `lstat` it by.
    pub fn full(&self) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        let extra = self.extra.as_deref();
        if let Some(full) = extra.and_then(|x| x.full.as_ref()) {
            return full.clone();
        }
        match extra.and_then(|x| x.raw.as_ref()) {
            Some(raw) => self.dir.join(raw),
            None => self.dir.join(std::ffi::OsStr::from_bytes(self.name.as_bytes())),
        }
    }

    /// The path relative to the content store (`blobs/sha256/<hex>`), for reports; built on
    /// demand, since verify lists 50,000 entries and reports a handful.
    pub fn path(&self) -> String {
        use std::os::unix::ffi::OsStrExt;
        let full = self.full();
        super::records::key_name(full.as_os_str().as_bytes().get(self.rel_at..).unwrap_or_default())
    }
}

impl BlobTree {
    /// Why an algorithm directory (`blobs/sha256`) that is there could not be listed (EIO,
    /// EMFILE, EACCES): then the listing does not say which blobs are missing.
    pub fn unlisted_algorithm(&self) -> Option<String> {
        let BlobTree::Entries(top) = self else {
            return None;
        };
        top.iter()
            .filter(|e| e.kind == FileKind::Directory && matches!(e.name.as_str(), "sha256" | "sha384" | "sha512"))
            .find_map(|e| e.unreadable().map(|why| format!("{}: {why}", e.path())))
    }

    /// Every entry of `blobs/` that is not an algorithm directory, and every entry of the
    /// algorithm directories, with the digest its name spells.
    pub fn files(&self) -> impl Iterator<Item = Named<'_>> {
        let top: &[BlobEntry] = match self {
            BlobTree::Entries(top) => top,
            _ => &[],
        };
        top.iter().flat_map(|alg| {
            let is_alg = alg.kind == FileKind::Directory && matches!(alg.name.as_str(), "sha256" | "sha384" | "sha512");
            let (this, below): (Option<Named<'_>>, &[BlobEntry]) = if is_alg {
                (None, alg.children().unwrap_or(&[]))
            } else {
                (Some(Named { alg: None, entry: alg }), &[])
            };
            this.into_iter().chain(below.iter().map(move |e| Named {
                alg: Digest::is_valid(&alg.name, &e.name).then_some(alg.name.as_str()),
                entry: e,
            }))
        })
    }
}

/// Lists the tree at `blobs` (the content store's `blobs` directory), never following a
/// symlink and never entering one.
pub fn walk(blobs: &Path, detail: Detail) -> BlobTree {
    match std::fs::symlink_metadata(blobs) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return BlobTree::Missing,
        Err(e) => return BlobTree::Unreadable(e.to_string()),
        Ok(m) if !m.is_dir() => return BlobTree::NotADirectory(FileKind::of(&m.file_type())),
        Ok(_) => {}
    }
    // The relative paths start at `blobs`, the last component of the path given.
    let rel_at = {
        use std::os::unix::ffi::OsStrExt;
        let all = blobs.as_os_str().as_bytes().len();
        let last = blobs.file_name().map_or(0, |n| n.as_bytes().len());
        all - last
    };
    match list_dir(blobs, rel_at, 0, detail) {
        Ok(entries) => BlobTree::Entries(entries),
        Err(e) => BlobTree::Unreadable(e.to_string()),
    }
}

/// The entries of `dir` (with [`Detail::Stat`] in byte order of their names, as Go's
/// `filepath.Walk` sorts them); directories listed down to [`MAX_BLOB_DEPTH`]. The paths
/// relative to the content store start at byte `rel_at` of each entry's path.
fn list_dir(dir: &Path, rel_at: usize, depth: usize, detail: Detail) -> std::io::Result<Vec<BlobEntry>> {
    use std::os::unix::ffi::OsStrExt;
    let read = crate::noatime::read_dir_no_follow(dir)?;
    let shared: std::sync::Arc<Path> = std::sync::Arc::from(dir);
    if detail == Detail::Type {
        // verify sorts what it reports itself: one entry at a time, in directory order, so
        // that 50,000 directory entries are never held at once.
        return read
            .map(|e| e.map(|e| entry(e, &shared, rel_at, depth, detail)))
            .collect();
    }
    // gc and du report in containerd's walk order: names by their bytes, each read once.
    // Compared first by their first eight bytes as one number (zero-padded, which keeps byte
    // order): blob names are hex and nearly always differ there, so 47,000 of them sort
    // without a byte-by-byte comparison each step (that was a twentieth of gc).
    let head = |name: &[u8]| {
        let mut word = [0u8; 8];
        word.iter_mut().zip(name).for_each(|(w, b)| *w = *b);
        u64::from_be_bytes(word)
    };
    let mut named: Vec<(u64, std::ffi::OsString, crate::noatime::DirEntry)> = read
        .map(|e| {
            e.map(|e| {
                let name = e.file_name();
                (head(name.as_bytes()), name, e)
            })
        })
        .collect::<std::io::Result<_>>()?;
    named.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.as_bytes().cmp(b.1.as_bytes())));
    Ok(named
        .into_iter()
        .map(|(_, _, e)| entry(e, &shared, rel_at, depth, detail))
        .collect())
}

/// One directory entry of `dir`, looked at as `detail` says (never following a symlink), and
/// listed below when it is a directory.
fn entry(
    e: crate::noatime::DirEntry,
    dir: &std::sync::Arc<Path>,
    rel_at: usize,
    depth: usize,
    detail: Detail,
) -> BlobEntry {
    use std::os::unix::ffi::OsStrExt;
    let raw = e.file_name();
    let name = super::records::key_name(raw.as_bytes());
    let mut entry = BlobEntry {
        extra: (name.as_bytes() != raw.as_bytes()).then(|| {
            Box::new(Extra {
                raw: Some(raw),
                ..Extra::default()
            })
        }),
        name,
        dir: dir.clone(),
        rel_at,
        kind: FileKind::Other,
        size: 0,
        allocated: 0,
        inode: (0, 0),
    };
    // `DirEntry::stat` and `file_type` never follow a symlink.
    let looked = match detail {
        Detail::Stat => e.stat().map(|m| {
            entry.size = m.len;
            entry.allocated = m.blocks.saturating_mul(512);
            entry.inode = (m.dev, m.ino);
            m.kind
        }),
        Detail::Type => e.file_type().map(FileKind::from),
    };
    match looked {
        Ok(kind) => entry.kind = kind,
        // Gone between readdir and lstat: containerd's walk would fail the same way.
        Err(err) => entry.extra_mut().unreadable = Some(err.to_string()),
    }
    if entry.kind == FileKind::Directory {
        if depth >= MAX_BLOB_DEPTH {
            entry.extra_mut().unreadable = Some(format!("nested deeper than {MAX_BLOB_DEPTH} directories; not listed"));
        } else {
            match list_dir(&entry.full(), rel_at, depth + 1, detail) {
                Ok(children) => entry.extra_mut().children = Some(children),
                Err(err) => entry.extra_mut().unreadable = Some(err.to_string()),
            }
        }
    }
    entry
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
    let file = crate::noatime::open(&path, libc::O_NOFOLLOW | libc::O_NONBLOCK).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut s = String::new();
    file.take(MAX_INGEST_TEXT).read_to_string(&mut s).ok()?;
    Some(s.trim().to_string())
}

/// Every ingest directory, sorted by name.
pub fn ingests(root: &Root) -> std::io::Result<Vec<IngestDir>> {
    let dir = root.content_dir().join("ingest");
    // Listed only when it is a directory of the store's own: a symlink may lead out of the
    // root (said as the error, so that its callers report it as damage).
    match std::fs::symlink_metadata(&dir) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(std::io::Error::other("a symlink, not followed"));
        }
        Ok(m) if !m.is_dir() => return Err(std::io::Error::other("not a directory")),
        _ => {}
    }
    let entries = match crate::noatime::read_dir_no_follow(&dir) {
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

#[cfg(test)]
mod tests {
    use super::{Detail, list_dir};
    use std::os::unix::ffi::OsStrExt;

    /// With `Detail::Stat` a directory's entries come in the byte order of their names, as
    /// Go's walk sorts them: names shorter than eight bytes, names alike in their first eight,
    /// bytes past ASCII, a name that is another's start.
    #[test]
    fn entries_come_in_byte_order() {
        let dir = tempfile::tempdir().unwrap();
        let names: [&[u8]; 12] = [
            b"ab",
            b"ab\x01",
            b"a",
            b"abcdefgh",
            b"abcdefgh0",
            b"abcdefgg\xff",
            b"abcdefg",
            b"\xc3\xa9t\xc3\xa9",
            b"\xff",
            b"B",
            b"0123456789abcdef",
            b"0123456789abcdee",
        ];
        for n in names {
            std::fs::write(dir.path().join(std::ffi::OsStr::from_bytes(n)), n).unwrap();
        }
        let listed = list_dir(dir.path(), 0, 0, Detail::Stat).unwrap();
        let raw = |e: &super::BlobEntry| e.full().file_name().unwrap().as_bytes().to_vec();
        let got: Vec<Vec<u8>> = listed.iter().map(raw).collect();
        let mut want: Vec<Vec<u8>> = names.iter().map(|n| n.to_vec()).collect();
        want.sort();
        assert_eq!(got, want);
        assert!(listed.iter().all(|e| e.size == raw(e).len() as u64));
    }
}
