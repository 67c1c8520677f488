//! Image archives read in place: an OCI archive (a tar of a layout) or a docker-archive
//! (`docker save`), plain or gzip/zstd-compressed, indexed once ([`super::tar`]) and never
//! extracted. Their blobs are then served by digest, from the members that hold them:
//!
//! ```text
//! OCI archive         blobs/<alg>/<hex>          a member per blob ("./" prefixes dropped)
//!                     index.json, oci-layout     as in a layout directory
//! docker-archive      manifest.json              [{Config, RepoTags, Layers, LayerSources}]
//!   (legacy)          <config hex>.json          config, its digest is its sha256
//!                     <id>/layer.tar, <diffid>.tar   uncompressed layers (maybe links to
//!                                                    one another: followed inside only)
//! docker 25+          both: the OCI layout is read, as containerd's import does
//! ```
//!
//! A legacy docker-archive has no manifests: each manifest.json entry gets the docker v2
//! schema 2 manifest containerd's import writes for it (config, layers with their media type
//! by magic bytes; an uncompressed layer's digest is its diff ID from the config, which verify
//! re-hashes), held in memory. Member names that are absolute, hold `..`, are duplicated, or
//! links leaving the archive are reported, never followed.

use super::import::{self, Blobs};
use super::layout::{self, Entry};
use super::tar::{self, Compression, HEAD, Member, MemberKind, TarIndex, TarProblem};
use super::{Kind, Problem, Severity, SourceError, SourceInfo};
use crate::bolt::build;
use crate::containerd::blobs::{BlobEntry, BlobTree, FileKind};
use crate::containerd::root::{ArchiveBlobs, BlobError, BlobFile, BlobStat, MAX_DOCUMENT, Root, RootError};
use crate::digest::Digest;
use crate::image::document::{DESCRIPTOR, Descriptor};
use crate::image::goshape::Shape;
use foldhash::{HashMap, HashSet};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// How many links inside an archive are followed from one name.
const MAX_HOPS: usize = 8;

/// Where a blob of the archive is.
#[derive(Clone, Debug)]
enum Place {
    /// The data of this member (index into the tar index).
    Member(usize),
    /// Made here (a legacy docker-archive's manifest).
    Memory(Arc<[u8]>),
    /// A member that is not a regular file (a symlink, a device): never read.
    Refused(FileKind, String),
}

/// An indexed archive and where each blob is in it.
pub struct Archive {
    path: PathBuf,
    file: Arc<File>,
    index: TarIndex,
    blobs: BTreeMap<Digest, Place>,
    /// Members under `blobs/` whose names are no digest, and their sizes.
    strays: Vec<(String, FileKind, u64)>,
    /// A compressed archive's small members, by header offset, kept from one streamed pass:
    /// there is no way into the middle of a gzip stream, and reading each document from the
    /// start again would make a large archive quadratic.
    small: HashMap<u64, Arc<[u8]>>,
    /// A compressed archive's first bytes of each regular member, by header offset.
    heads: HashMap<u64, Vec<u8>>,
    /// A compressed archive's decompressed streams, left where the last member read from
    /// them stopped: the next member at or after that point goes on from there instead of
    /// decompressing from the start (members read in archive order cost one pass in all;
    /// a 140 MB .tar.gz of 20 layers took 21 s to export when each began again).
    parked: Arc<Mutex<Vec<Parked>>>,
    /// What the streams passed over, for members read later that lie there.
    spool: Arc<Mutex<Spool>>,
}

/// A decompressed stream and how far into it the last reader got.
struct Parked {
    at: u64,
    stream: Box<dyn Read + Send>,
}

/// How many gzip streams are kept parked (each holds a 32 KiB window and its buffers).
const MAX_PARKED: usize = 16;
/// How many zstd streams: a zstd decoder holds the window its frame declares, up to 128 MiB
/// (`zstd --long=27`), so 16 of them could hold 2 GB.
const MAX_PARKED_ZSTD: usize = 1;

/// How many streams of `compression` are kept parked.
fn max_parked(compression: Compression) -> usize {
    match compression {
        Compression::Zstd => MAX_PARKED_ZSTD,
        Compression::Gzip | Compression::None => MAX_PARKED,
    }
}

/// One member's data, read from a decompressed stream that is parked again when dropped.
/// The stream is found (and wound on to the member) at the first read that the spool cannot
/// serve: a blob opened for its length only costs nothing.
struct StreamedMember {
    stream: Option<Box<dyn Read + Send>>,
    /// Where to find a stream when none is there yet.
    source: (Arc<File>, Compression, String),
    /// The stream's position.
    at: u64,
    /// Where the member's data ends.
    end: u64,
    parked: Arc<Mutex<Vec<Parked>>>,
    spool: Arc<Mutex<Spool>>,
    /// How many streams may stay parked.
    max_parked: usize,
    /// The error that ended reading, returned again by every later read: the member is not
    /// whole, and a caller that reads on must not take it for complete.
    failed: Option<(io::ErrorKind, String)>,
}

/// Decompressed bytes that streams passed over on their way to a member, in chunks by stream
/// offset, up to a budget (the oldest dropped first). Members read against the archive's order
/// (layers stored in the reverse of the manifest's, which `fs export --from-blobs` reads in
/// manifest order, twice) lie in what the stream passed over to reach the one before: without
/// this, each was decompressed again from the start (300 layers of 1.1 MB: 53 s), with it a
/// new decompression from the start is needed once per budget's worth of stream.
struct Spool {
    chunks: BTreeMap<u64, Arc<[u8]>>,
    /// Chunk starts and lengths, oldest first (an entry whose chunk was replaced is stale).
    order: std::collections::VecDeque<(u64, usize)>,
    bytes: u64,
    budget: u64,
    /// How many times a stream was decompressed from the start.
    restarts: u64,
}

/// Spooled chunks start at multiples of this (or where a skip started), and are at most this long.
const SPOOL_CHUNK: u64 = 1 << 20;
/// How many decompressed bytes the spool keeps: little enough for a command inside a 64 MiB
/// memory limit (issue 12's rescue setting).
const SPOOL_BUDGET: u64 = 32 << 20;

impl Spool {
    fn new(budget: u64) -> Spool {
        Spool {
            chunks: BTreeMap::new(),
            order: std::collections::VecDeque::new(),
            bytes: 0,
            budget,
            restarts: 0,
        }
    }

    /// The chunk holding stream offset `at`, and where `at` is in it.
    fn get(&self, at: u64) -> Option<(Arc<[u8]>, usize)> {
        let (&start, chunk) = self.chunks.range(..=at).next_back()?;
        let off = usize::try_from(at - start).ok()?;
        (off < chunk.len()).then(|| (chunk.clone(), off))
    }

    /// Keeps `data`, the stream's bytes from `start`, dropping the oldest chunks over budget.
    fn put(&mut self, start: u64, data: Vec<u8>) {
        let len = data.len();
        if len == 0 || len as u64 > self.budget || self.chunks.get(&start).is_some_and(|c| c.len() >= len) {
            return;
        }
        if let Some(old) = self.chunks.insert(start, Arc::from(data)) {
            self.bytes = self.bytes.saturating_sub(old.len() as u64);
        }
        self.bytes += len as u64;
        self.order.push_back((start, len));
        if self.order.len() > 2 * self.chunks.len() + 64 {
            let chunks = &self.chunks;
            self.order.retain(|(s, l)| chunks.get(s).is_some_and(|c| c.len() == *l));
        }
        while self.bytes > self.budget {
            let Some((s, l)) = self.order.pop_front() else {
                break;
            };
            if self.chunks.get(&s).is_some_and(|c| c.len() == l) {
                self.chunks.remove(&s);
                self.bytes = self.bytes.saturating_sub(l as u64);
            }
        }
    }
}

impl StreamedMember {
    /// The parked stream furthest along but not past the member, or a new one, wound on to
    /// the member's data; what it passes over goes to the spool.
    fn start(&mut self) -> io::Result<()> {
        let (file, compression, name) = &self.source;
        let parked = self.parked.lock().ok().and_then(|mut parked| {
            let best = (0..parked.len())
                .filter(|&i| parked.get(i).is_some_and(|p| p.at <= self.at))
                .max_by_key(|&i| parked.get(i).map_or(0, |p| p.at))?;
            Some(parked.swap_remove(best))
        });
        let Parked { at, mut stream } = match parked {
            Some(p) => p,
            None => {
                if let Ok(mut spool) = self.spool.lock() {
                    spool.restarts += 1;
                }
                Parked {
                    at: 0,
                    stream: tar::decompressed(file.clone(), *compression)?,
                }
            }
        };
        // Kept only once the archive has been read against its order (a second decompression
        // from the start): reads in archive order (`verify`) keep nothing.
        let keep = self.spool.lock().is_ok_and(|s| s.restarts > 1);
        let mut pos = at;
        while pos < self.at {
            let want = (self.at - pos).min(SPOOL_CHUNK - pos % SPOOL_CHUNK);
            // At most SPOOL_CHUNK bytes.
            let mut chunk = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
            let n = (&mut stream).take(want).read_to_end(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the archive ends before member {name} at offset {}", self.at),
                ));
            }
            if keep && let Ok(mut spool) = self.spool.lock() {
                spool.put(pos, chunk);
            }
            pos += n as u64;
        }
        self.stream = Some(stream);
        Ok(())
    }
}

impl Read for StreamedMember {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((kind, message)) = &self.failed {
            return Err(io::Error::new(*kind, message.clone()));
        }
        let left = usize::try_from(self.end.saturating_sub(self.at)).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        let Some(buf) = buf.get_mut(..want) else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        if self.stream.is_none() {
            // What a stream passed over on its way to another member.
            let spooled = self.spool.lock().ok().and_then(|s| s.get(self.at));
            if let Some((chunk, off)) = spooled {
                let src = chunk.get(off..).unwrap_or_default();
                let n = src.len().min(buf.len());
                if let (Some(dst), Some(src)) = (buf.get_mut(..n), src.get(..n)) {
                    dst.copy_from_slice(src);
                }
                self.at += n as u64;
                return Ok(n);
            }
            if let Err(e) = self.start() {
                self.stream = None;
                self.failed = Some((e.kind(), e.to_string()));
                return Err(e);
            }
        }
        let Some(stream) = self.stream.as_mut() else {
            return Ok(0);
        };
        match stream.read(buf) {
            Ok(n) => {
                self.at += n as u64;
                Ok(n)
            }
            // Nothing was read: the stream stands where it was.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                // Where a failed stream stands is unknown: it is not parked.
                self.stream = None;
                self.failed = Some((e.kind(), e.to_string()));
                Err(e)
            }
        }
    }
}

impl Drop for StreamedMember {
    fn drop(&mut self) {
        let Some(stream) = self.stream.take() else {
            return;
        };
        if let Ok(mut parked) = self.parked.lock() {
            parked.push(Parked { at: self.at, stream });
            if parked.len() > self.max_parked {
                // Members read out of archive order (export writes blobs by digest) are
                // served best by streams spread over the archive: the one closest behind
                // another adds least, and goes.
                parked.sort_by_key(|p| p.at);
                let closest = (0..parked.len())
                    .min_by_key(|&i| {
                        let before = i.checked_sub(1).and_then(|j| parked.get(j)).map_or(0, |p| p.at);
                        parked.get(i).map_or(0, |p| p.at).saturating_sub(before)
                    })
                    .unwrap_or(0);
                parked.remove(closest);
            }
        }
    }
}

/// Members up to this size are kept from a compressed archive's streamed pass...
const SMALL_MEMBER: u64 = 1 << 20;
/// ... up to this many bytes in all; larger members are streamed again when read.
const SMALL_BUDGET: u64 = 256 << 20;

impl Archive {
    /// An archive indexed as `index`, no blob found in it yet, nothing kept.
    fn new(path: PathBuf, file: File, index: TarIndex) -> Archive {
        Archive {
            path,
            file: Arc::new(file),
            index,
            blobs: BTreeMap::new(),
            strays: Vec::new(),
            small: HashMap::default(),
            heads: HashMap::default(),
            parked: Arc::default(),
            spool: Arc::new(Mutex::new(Spool::new(SPOOL_BUDGET))),
        }
    }

    fn member(&self, i: usize) -> Option<&Member> {
        self.index.members.get(i)
    }

    /// The data of member `m`, owned (for a compressed archive: from the kept small members,
    /// or decompressed from a parked stream before it, or from the start).
    fn open_member(&self, m: &Member) -> io::Result<Box<dyn Read + Send>> {
        if let Some(b) = self.small.get(&m.header_offset) {
            return Ok(Box::new(io::Cursor::new(b.clone())));
        }
        if self.index.compression == Compression::None {
            return tar::open_member_owned(self.file.clone(), &self.index, m).map_err(|e| match e {
                tar::TarError::Io { source, .. } => source,
                other => io::Error::new(io::ErrorKind::UnexpectedEof, other.to_string()),
            });
        }
        let end = m
            .offset
            .checked_add(m.size)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "member size past the end of the stream"))?;
        Ok(Box::new(StreamedMember {
            stream: None,
            source: (self.file.clone(), self.index.compression, m.name.clone()),
            at: m.offset,
            end,
            parked: self.parked.clone(),
            spool: self.spool.clone(),
            max_parked: max_parked(self.index.compression),
            failed: None,
        }))
    }

    /// The first bytes of member `m` (up to [`HEAD`]), from the streamed pass's heads when the
    /// archive is compressed.
    fn head(&self, m: &Member) -> Vec<u8> {
        if let Some(h) = self.heads.get(&m.header_offset) {
            return h.clone();
        }
        let mut head = Vec::with_capacity(HEAD);
        let _ = self
            .open_member(m)
            .and_then(|r| r.take(HEAD as u64).read_to_end(&mut head));
        head
    }

    /// A small member's bytes (documents), at most `limit`.
    fn read_member(&self, m: &Member, limit: u64) -> Result<Vec<u8>, String> {
        if m.size > limit {
            return Err(format!("{} bytes, over the limit of {limit}", m.size));
        }
        let mut out = Vec::with_capacity(usize::try_from(m.size).unwrap_or(0));
        self.open_member(m)
            .and_then(|r| r.take(m.size).read_to_end(&mut out))
            .map_err(|e| e.to_string())?;
        if (out.len() as u64) < m.size {
            return Err(format!("cut short: {} of {} bytes", out.len(), m.size));
        }
        Ok(out)
    }

    /// A top-level file (`index.json`, `manifest.json`), when it is a regular member.
    fn small(&self, name: &str, problems: &mut Vec<Problem>, kind: &'static str) -> Option<Vec<u8>> {
        let m = self.index.get(name)?;
        if m.kind != MemberKind::File {
            problems.push(Problem::error(kind, name, "not a regular file; not read"));
            return None;
        }
        match self.read_member(m, MAX_DOCUMENT) {
            Ok(b) => Some(b),
            Err(e) => {
                problems.push(Problem::error(kind, name, e));
                None
            }
        }
    }
}

impl ArchiveBlobs for Archive {
    fn open(&self, digest: &Digest) -> Result<(BlobFile, u64), BlobError> {
        let name = digest.to_string();
        match self.blobs.get(digest) {
            None => Err(BlobError::NotFound(format!("content digest {name}"))),
            Some(Place::Memory(b)) => Ok((BlobFile::Part(Box::new(io::Cursor::new(b.clone()))), b.len() as u64)),
            Some(Place::Refused(_, why)) => Err(BlobError::NotRegular {
                digest: name,
                what: why.clone(),
            }),
            Some(Place::Member(i)) => {
                let m = self
                    .member(*i)
                    .ok_or_else(|| BlobError::NotFound(format!("content digest {name}")))?;
                let r = self.open_member(m).map_err(|e| BlobError::Io {
                    digest: name,
                    message: format!("{}: member {}: {e}", self.path.display(), m.name),
                })?;
                Ok((BlobFile::Part(r), m.size))
            }
        }
    }

    fn stat(&self, digest: &Digest) -> io::Result<BlobStat> {
        match self.blobs.get(digest) {
            None => Err(io::ErrorKind::NotFound.into()),
            Some(Place::Memory(b)) => Ok(BlobStat {
                kind: FileKind::Regular,
                len: b.len() as u64,
            }),
            Some(Place::Refused(kind, _)) => Ok(BlobStat { kind: *kind, len: 0 }),
            Some(Place::Member(i)) => Ok(BlobStat {
                kind: FileKind::Regular,
                len: self.member(*i).map_or(0, |m| m.size),
            }),
        }
    }

    fn stream_offset(&self, digest: &Digest) -> Option<u64> {
        if self.index.compression == Compression::None {
            return None;
        }
        match self.blobs.get(digest)? {
            Place::Member(i) => self.member(*i).map(|m| m.offset),
            Place::Memory(_) | Place::Refused(..) => None,
        }
    }

    fn tree(&self) -> BlobTree {
        let mut by_alg: BTreeMap<&str, Vec<BlobEntry>> = BTreeMap::new();
        for (i, (digest, place)) in self.blobs.iter().enumerate() {
            let rel = format!("blobs/{}/{}", digest.algorithm(), digest.hex());
            let (kind, size) = match place {
                Place::Member(m) => (FileKind::Regular, self.member(*m).map_or(0, |m| m.size)),
                Place::Memory(b) => (FileKind::Regular, b.len() as u64),
                Place::Refused(kind, _) => (*kind, 0),
            };
            by_alg.entry(digest.algorithm()).or_default().push(BlobEntry::member(
                self.path.join(&rel),
                &rel,
                kind,
                size,
                i as u64,
            ));
        }
        let mut top: Vec<BlobEntry> = by_alg
            .into_iter()
            .map(|(alg, children)| {
                let rel = format!("blobs/{alg}");
                BlobEntry::member_dir(self.path.join(&rel), &rel, children)
            })
            .collect();
        // Strays sit beside the algorithm directories, as a name that is no digest does.
        for (i, (name, kind, size)) in self.strays.iter().enumerate() {
            let rel = format!("blobs/{name}");
            top.push(BlobEntry::member(
                self.path.join(&rel),
                &rel,
                *kind,
                *size,
                (self.blobs.len() + i) as u64,
            ));
        }
        BlobTree::Entries(top)
    }
}

impl Blobs for Archive {
    fn read(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>, BlobError> {
        let (mut file, len) = ArchiveBlobs::open(self, digest)?;
        if len > limit.max(MAX_DOCUMENT) {
            return Err(BlobError::TooLarge {
                digest: digest.to_string(),
                size: len,
            });
        }
        let mut out = Vec::with_capacity(usize::try_from(len.min(limit)).unwrap_or(0));
        (&mut file)
            .take(limit)
            .read_to_end(&mut out)
            .map_err(|e| BlobError::Io {
                digest: digest.to_string(),
                message: e.to_string(),
            })?;
        Ok(out)
    }

    fn exists(&self, digest: &Digest) -> bool {
        matches!(self.blobs.get(digest), Some(Place::Member(_) | Place::Memory(_)))
    }

    fn absent(&self, digest: &Digest) -> bool {
        !self.blobs.contains_key(digest)
    }
}

/// Opens an archive file as a root whose records are those of its import.
pub fn open(path: &Path) -> Result<Root, SourceError> {
    let unreadable = |message: String| SourceError::Unreadable {
        path: path.into(),
        message,
    };
    let file = crate::bolt::open_read_only(path).map_err(|e| unreadable(e.to_string()))?;
    if !file.metadata().map_err(|e| unreadable(e.to_string()))?.is_file() {
        return Err(unreadable("not a regular file".into()));
    }
    let (index, kept) =
        tar::index_file_keeping(&file, tar::Kept::new(SMALL_MEMBER, SMALL_BUDGET)).map_err(|e| match e {
            tar::TarError::TooManyMembers { .. } => SourceError::Damaged {
                path: path.into(),
                message: e.to_string(),
            },
            other => unreadable(other.to_string()),
        })?;
    let mut problems: Vec<Problem> = index.problems.iter().map(tar_problem).collect();
    for (p, n) in &index.omitted {
        let mut summary = tar_problem(&(0, String::new(), p.clone()));
        summary.at = "archive".into();
        summary.message = format!(
            "{n} more members with this problem ({p}), not listed: the first {} of each kind are",
            tar::MAX_PROBLEMS_PER_KIND
        );
        problems.push(summary);
    }
    let mut archive = Archive::new(path.to_path_buf(), file, index);
    let kept = keep_small_members(&archive, kept, SMALL_BUDGET);
    archive.small = kept.data;
    archive.heads = kept.heads;
    let has_index = archive.index.get("index.json").is_some();
    let has_layout = archive.index.get("oci-layout").is_some();
    let has_manifest = archive.index.get("manifest.json").is_some();
    // containerd's import reads an archive through index.json only with an `oci-layout`
    // member; without one, a manifest.json makes it a docker-archive (a docker 25+ save whose
    // oci-layout was lost): index.json is then not read (sweep 24: names and targets differed).
    if has_index && has_manifest && !has_layout {
        problems.push(Problem::warning(
            "oci-layout-missing",
            "oci-layout",
            "no oci-layout member: read as a docker-archive through manifest.json, as containerd's import reads it; index.json is not read",
        ));
    }
    let (kind, entries) = if has_layout || (has_index && !has_manifest) {
        oci_blobs(&mut archive, &mut problems);
        let layout_file = archive.small("oci-layout", &mut problems, "oci-layout-invalid");
        layout::check_layout_file(layout_file.as_deref(), &mut problems);
        let entries = match archive.small("index.json", &mut problems, "index-json-invalid") {
            Some(b) => layout::entries(&b, &mut problems),
            None => {
                if !has_index {
                    problems.push(Problem::error(
                        "index-json-missing",
                        "index.json",
                        "no index.json member",
                    ));
                }
                Vec::new()
            }
        };
        let kind = if has_manifest {
            Kind::DockerArchive
        } else {
            Kind::OciArchive
        };
        (kind, entries)
    } else if has_manifest {
        (Kind::DockerArchive, docker_entries(&mut archive, &mut problems))
    } else {
        // What stopped the reading (a zstd window over the decoder's limit, a cut gzip) is
        // why nothing was found, when something did.
        let stopped = problems.iter().find(|p| p.severity == Severity::Error);
        let message = format!(
            "a tar of {} members, but neither an OCI archive (looked for index.json, oci-layout) nor a docker-archive (looked for manifest.json){}",
            archive.index.members.len(),
            stopped
                .map(|p| format!(" (the tar stopped being read: {p})"))
                .unwrap_or_default()
        );
        // A tar cut short (an interrupted copy: docker save writes its lists last) is damage,
        // exit 3, not a file that could not be read at all.
        return Err(match stopped {
            Some(_) => SourceError::Damaged {
                path: path.into(),
                message,
            },
            None => SourceError::Unrecognized {
                path: path.into(),
                message,
            },
        });
    };
    let imported = import::import(&entries, &archive, &mut problems);
    let meta = crate::bolt::Db::from_bytes(path, build::build(&imported.tree)).map_err(RootError::from)?;
    let mut root = Root::for_archive(path, meta, Arc::new(archive));
    root.source = Some(Arc::new(SourceInfo {
        kind,
        path: path.to_path_buf(),
        problems,
        names: imported.names,
        ambiguous: imported.ambiguous,
        targets: imported.targets,
    }));
    Ok(root)
}

/// How many more passes may fetch documents the kept ones name (an index, a manifest list,
/// a manifest, a config: a real archive needs three).
const MAX_PASSES: usize = 8;
/// The names an archive's reading starts from.
const ROOT_NAMES: [&str; 4] = ["index.json", "oci-layout", "manifest.json", "repositories"];

/// The small members of a compressed archive, kept in memory from the indexing pass
/// ([`SMALL_MEMBER`] bytes each, `budget` in all): there is no way into the middle of a gzip
/// stream, and reading each document from the start again would make an archive quadratic.
///
/// When they do not all fit, what was kept first is not what is needed: 256 MiB of junk
/// before the documents would leave every document to be streamed again from the start (a
/// 270 KB .tar.gz took 295 s). Then only the members the root files reach are kept, found
/// level by level: each kept document names the digests (64 or 128 hex digits) of what it
/// points to, and each member whose name holds such a digest is fetched in the next pass.
fn keep_small_members(archive: &Archive, mut kept: tar::Kept, budget: u64) -> tar::Kept {
    if !kept.overflowed {
        return kept;
    }
    let members = &archive.index.members;
    let by_hex = members_by_hex(&archive.index);
    let at_header = positions(&archive.index);
    let roots: Vec<usize> = ROOT_NAMES
        .iter()
        .filter_map(|n| at_header.get(&archive.index.get(n)?.header_offset).copied())
        .collect();
    for _ in 0..MAX_PASSES {
        let reach = reachable(archive, &roots, (&by_hex, &at_header), &kept.data);
        kept.data.retain(|off, _| reach.contains(off));
        kept.bytes = kept.data.values().map(|d| d.len() as u64).sum();
        let missing: Vec<&Member> = members
            .iter()
            .filter(|m| m.kind == MemberKind::File && m.size <= SMALL_MEMBER)
            .filter(|m| reach.contains(&m.header_offset) && !kept.data.contains_key(&m.header_offset))
            .collect();
        if missing.is_empty() {
            break;
        }
        let more = stream_pass(archive, missing, budget.saturating_sub(kept.bytes));
        if more.is_empty() {
            break;
        }
        kept.bytes += more.values().map(|d| d.len() as u64).sum::<u64>();
        kept.data.extend(more);
    }
    kept
}

/// One pass over the decompressed stream keeping the data of `wanted` members up to `budget`
/// bytes, by header offset. A read error ends it: what was kept stays.
fn stream_pass(archive: &Archive, mut wanted: Vec<&Member>, budget: u64) -> HashMap<u64, Arc<[u8]>> {
    let mut kept = HashMap::default();
    let Ok(mut stream) = tar::decompressed(archive.file.clone(), archive.index.compression) else {
        return kept;
    };
    wanted.sort_by_key(|m| m.offset);
    let (mut at, mut left) = (0u64, budget);
    for m in wanted {
        if m.offset < at || m.size > left {
            continue;
        }
        let skip = m.offset - at;
        if io::copy(&mut (&mut stream).take(skip), &mut io::sink()).ok() != Some(skip) {
            break;
        }
        let mut data = Vec::with_capacity(usize::try_from(m.size).unwrap_or(0));
        if (&mut stream).take(m.size).read_to_end(&mut data).is_err() || data.len() as u64 != m.size {
            break;
        }
        at = m.offset + m.size;
        left -= m.size;
        kept.insert(m.header_offset, Arc::from(data));
    }
    kept
}

/// Member indices by each 64- or 128-hex-digit component of their names (`blobs/sha256/<hex>`,
/// a docker-archive's `<hex>.json` and `<hex>/layer.tar`).
fn members_by_hex(index: &TarIndex) -> HashMap<&str, Vec<usize>> {
    let mut by_hex: HashMap<&str, Vec<usize>> = HashMap::default();
    for (i, m) in index.members.iter().enumerate() {
        for part in m.name.split(['/', '.']) {
            if is_digest_hex(part.as_bytes()) {
                by_hex.entry(part).or_default().push(i);
            }
        }
    }
    by_hex
}

fn is_digest_hex(b: &[u8]) -> bool {
    matches!(b.len(), 64 | 128) && b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// The header offsets of the members reached from `roots` through the digests named in the
/// kept documents (a link reaches its target too).
fn reachable(
    archive: &Archive,
    roots: &[usize],
    (by_hex, at_header): (&HashMap<&str, Vec<usize>>, &HashMap<u64, usize>),
    data: &HashMap<u64, Arc<[u8]>>,
) -> HashSet<u64> {
    let mut seen = HashSet::default();
    let mut expanded: HashSet<&[u8]> = HashSet::default();
    let mut todo: Vec<usize> = roots.to_vec();
    while let Some(i) = todo.pop() {
        let Some(m) = archive.index.members.get(i) else {
            continue;
        };
        if !seen.insert(m.header_offset) {
            continue;
        }
        if m.kind != MemberKind::File {
            if let Ok(t) = archive.index.resolve(&m.name, MAX_HOPS)
                && let Some(&j) = at_header.get(&t.header_offset)
            {
                todo.push(j);
            }
            continue;
        }
        let Some(bytes) = data.get(&m.header_offset) else {
            continue;
        };
        for run in bytes.split(|c| !c.is_ascii_hexdigit()) {
            // Each digest is followed once, however often documents repeat it (an index
            // naming one digest 16,000 times over 10,000 members of that name held 2.7 GB).
            if is_digest_hex(run)
                && expanded.insert(run)
                && let Ok(hex) = std::str::from_utf8(run)
                && let Some(found) = by_hex.get(hex)
            {
                todo.extend(found.iter().copied().filter(|&j| {
                    archive
                        .index
                        .members
                        .get(j)
                        .is_some_and(|x| !seen.contains(&x.header_offset))
                }));
            }
        }
    }
    seen
}

/// A tar problem in the vocabulary of source problems.
fn tar_problem((offset, name, p): &(u64, String, TarProblem)) -> Problem {
    let at = format!("member {name} (header at offset {offset})");
    let message = p.to_string();
    match p {
        TarProblem::Absolute | TarProblem::DotDot | TarProblem::LinkOutside { .. } => {
            Problem::error("archive-member-unsafe", at, message)
        }
        TarProblem::Duplicate => Problem::warning("archive-member-duplicate", at, message),
        TarProblem::Sparse | TarProblem::NotUtf8 | TarProblem::ControlCharacters | TarProblem::TrailingGarbage => {
            Problem::warning("archive-member-odd", at, message)
        }
        TarProblem::BadChecksum | TarProblem::BadHeader(_) | TarProblem::Truncated | TarProblem::Corrupt(_) => {
            Problem::error("archive-unreadable", at, message)
        }
    }
}

/// Every `blobs/<alg>/<hex>` member of an OCI archive, by digest; links are followed inside
/// the archive only for hard links (tar's way to store one file twice).
fn oci_blobs(archive: &mut Archive, problems: &mut Vec<Problem>) {
    let mut blobs = BTreeMap::new();
    let mut strays = Vec::new();
    // Where each member is in the list, by its header's offset (one per member): a hard
    // link's target is found here, not by a scan of every member for each link (quadratic:
    // 40,000 links in a 254 KB archive took 35 s).
    let at_offset: foldhash::HashMap<u64, usize> = archive
        .index
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.offset, i))
        .collect();
    for (i, m) in archive.index.members.iter().enumerate() {
        let Some(rest) = m.name.strip_prefix("blobs/") else {
            continue;
        };
        if m.kind == MemberKind::Dir && !rest.contains('/') {
            continue;
        }
        // The last member of a name wins, as extraction would leave it.
        if archive.index.get(&m.name).map(|last| last.offset) != Some(m.offset) {
            continue;
        }
        let digest = rest
            .split_once('/')
            .and_then(|(alg, hex)| Digest::parse(&format!("{alg}:{hex}")).ok());
        let Some(digest) = digest else {
            problems.push(Problem::error(
                "blob-name-invalid",
                m.name.clone(),
                "a member under blobs/ whose name is not <algorithm>/<lowercase hex>",
            ));
            strays.push((rest.to_string(), member_kind(m.kind), m.size));
            continue;
        };
        let place = match m.kind {
            MemberKind::File => Place::Member(i),
            MemberKind::HardLink => match archive.index.resolve(&m.name, MAX_HOPS) {
                Ok(target) if target.kind == MemberKind::File => at_offset
                    .get(&target.offset)
                    .copied()
                    .filter(|&t| archive.index.members.get(t).is_some_and(|x| x.name == target.name))
                    .map_or(
                        Place::Refused(FileKind::Other, "hard link to nothing".into()),
                        Place::Member,
                    ),
                Ok(_) => Place::Refused(FileKind::Other, "hard link to a member that is not a file".into()),
                Err(e) => Place::Refused(FileKind::Other, e.to_string()),
            },
            MemberKind::Symlink => {
                problems.push(Problem::error(
                    "blob-symlink",
                    m.name.clone(),
                    format!(
                        "a symlink to {}; not followed",
                        crate::text::escape(m.link.as_deref().unwrap_or_default().as_bytes())
                    ),
                ));
                Place::Refused(FileKind::Symlink, "a symlink member".into())
            }
            other => {
                problems.push(Problem::error(
                    "blob-not-regular",
                    m.name.clone(),
                    "not a regular file; not read",
                ));
                Place::Refused(member_kind(other), "not a regular file".into())
            }
        };
        blobs.insert(digest, place);
    }
    archive.blobs = blobs;
    archive.strays = strays;
}

fn member_kind(k: MemberKind) -> FileKind {
    match k {
        MemberKind::File => FileKind::Regular,
        MemberKind::Dir => FileKind::Directory,
        MemberKind::Symlink => FileKind::Symlink,
        MemberKind::HardLink | MemberKind::Other(_) => FileKind::Other,
    }
}

/// containerd's `manifestDotJSON` (and `docker load`'s `manifestItem`), which a
/// docker-archive's `manifest.json` entries are read as ([`layout::read_as_go`]). `Parent` is
/// never used (and is never in an archive `docker save` writes), but Go checks its type.
static DOCKER_ITEM: Shape = Shape::Struct(
    "archive.manifestDotJSON",
    &[
        ("Layers", Shape::Slice(&Shape::Str)),
        ("Config", Shape::Str),
        ("RepoTags", Shape::Slice(&Shape::Str)),
        ("Parent", Shape::Str),
        ("LayerSources", Shape::Map(&DESCRIPTOR)),
    ],
);
static DOCKER_MANIFEST_JSON: Shape = Shape::Slice(&DOCKER_ITEM);

/// One `manifest.json` entry of a docker-archive.
#[derive(Deserialize, Default)]
#[serde(default)]
struct DockerEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags")]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Option<Vec<String>>,
    #[serde(rename = "LayerSources")]
    layer_sources: Option<BTreeMap<String, Descriptor>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RootFs {
    rootfs: Option<DiffIds>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DiffIds {
    diff_ids: Option<Vec<String>>,
}

/// The manifest containerd's import writes for a docker-archive entry (Go field order).
#[derive(Serialize)]
struct SchemaTwo<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: i64,
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    config: Plain,
    layers: Vec<Plain>,
}

#[derive(Serialize)]
struct Plain {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    urls: Option<Vec<String>>,
}

const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The most layer names of a docker-archive's manifest.json made into manifests, over all its
/// entries. Each becomes a descriptor in memory (and the manifests are held whole): a 64 KiB
/// gzip'd manifest.json naming one layer 16 million times took 7 GB before the built manifest
/// met the 64 MiB document limit. `docker save` writes one name per layer of each image.
const MAX_LAYER_NAMES: usize = 1 << 18;

/// The most strings a docker-archive's manifest.json may hold to be read at all (about 40 MB
/// of them in memory); 65,536 entries of ten strings each are under it.
const MAX_MANIFEST_STRINGS: usize = 1 << 20;

/// The entries of a legacy docker-archive: a manifest made per manifest.json entry.
fn docker_entries(archive: &mut Archive, problems: &mut Vec<Problem>) -> Vec<Entry> {
    let Some(bytes) = archive.small("manifest.json", problems, "docker-archive-invalid") else {
        return Vec::new();
    };
    // Every string of it becomes one in memory before any limit on entries or layers can be
    // applied (16 million layer names: an abort on a 512 MiB allocation). Quotes bound the
    // strings from above; `docker save` writes a few per layer and entry.
    let quotes = memchr::memchr_iter(b'"', &bytes).count();
    if quotes > 2 * MAX_MANIFEST_STRINGS {
        problems.push(Problem::error(
            "entries-over-limit",
            "manifest.json",
            format!(
                "{quotes} quote characters: more than the {MAX_MANIFEST_STRINGS} strings read \
                 (coldctr's own limit: each becomes one in memory); no image read"
            ),
        ));
        return Vec::new();
    }
    let read =
        layout::read_as_go::<Option<Vec<DockerEntry>>>(&bytes, &DOCKER_MANIFEST_JSON, "[]archive.manifestDotJSON");
    let list: Vec<DockerEntry> = match read {
        Ok(l) => l.unwrap_or_default(),
        Err(e) => {
            problems.push(Problem::error("docker-archive-invalid", "manifest.json", e.message()));
            return Vec::new();
        }
    };
    let mut entries = Vec::new();
    let mut seen = Seen {
        positions: positions(&archive.index),
        layers: HashMap::default(),
    };
    let mut layer_names = 0usize;
    for (position, e) in list.into_iter().enumerate() {
        let at = format!("manifest.json entry @{position}");
        let names = e.layers.as_ref().map_or(0, Vec::len);
        if layer_names.saturating_add(names) > MAX_LAYER_NAMES {
            problems.push(Problem::error(
                "entries-over-limit",
                at,
                format!(
                    "image left out: its {names} layer names would pass the {MAX_LAYER_NAMES} read \
                     from one manifest.json (coldctr's own limit: each becomes a descriptor in memory)"
                ),
            ));
            continue;
        }
        layer_names += names;
        match docker_manifest(archive, &mut seen, &e, &at, problems) {
            Some(manifest) => {
                let digest = Digest::sha256_of(&manifest);
                let descriptor = Descriptor {
                    media_type: crate::image::document::DOCKER_MANIFEST.into(),
                    digest: digest.to_string(),
                    size: manifest.len() as i64,
                    ..Descriptor::default()
                };
                archive.blobs.insert(digest, Place::Memory(manifest.into()));
                let mut full_names = Vec::new();
                for tag in e.repo_tags.unwrap_or_default() {
                    // Named as containerd's importer names them: `x` is docker.io/library/x:latest.
                    match crate::image::reference::parse_normalized_named(&tag) {
                        Ok(n) => full_names.push(n.docker_ref().to_string()),
                        Err(err) => problems.push(Problem::error(
                            "docker-archive-invalid",
                            at.clone(),
                            format!("RepoTags {tag:?}: {err}"),
                        )),
                    }
                }
                entries.push(Entry {
                    position,
                    descriptor,
                    ref_name: None,
                    full_names,
                    name_annotations: true,
                });
            }
            None => continue,
        }
    }
    entries
}

/// What the entries of one manifest.json share.
struct Seen {
    /// Member positions by header offset.
    positions: HashMap<u64, usize>,
    /// Each layer member's compression and digest by header offset, worked out once however
    /// many entries list it (for a compressed archive each costs a pass over the stream).
    layers: HashMap<u64, (Compression, Option<Digest>)>,
}

/// The manifest bytes for one manifest.json entry, registering its config and layers as
/// blobs; `None` when the config cannot be read, or a layer is neither in the archive nor
/// named by a diff ID (the problems say why).
fn docker_manifest(
    archive: &mut Archive,
    seen: &mut Seen,
    e: &DockerEntry,
    at: &str,
    problems: &mut Vec<Problem>,
) -> Option<Vec<u8>> {
    let missing = |what: &str, name: &str, why: String| {
        Problem::error("docker-archive-member-missing", at, format!("{what} {name:?}: {why}"))
    };
    let (config_index, config_bytes) = match archive.index.resolve(&e.config, MAX_HOPS) {
        Ok(m) if m.kind != MemberKind::File => {
            problems.push(missing("Config", &e.config, not_a_file(m.kind)));
            return None;
        }
        Ok(m) => {
            let i = seen.positions.get(&m.header_offset).copied();
            let m = m.clone();
            match archive.read_member(&m, MAX_DOCUMENT) {
                Ok(b) => (i, b),
                Err(why) => {
                    problems.push(missing("Config", &e.config, why));
                    return None;
                }
            }
        }
        Err(why) => {
            problems.push(missing("Config", &e.config, why.to_string()));
            return None;
        }
    };
    let config_digest = Digest::sha256_of(&config_bytes);
    if let Some(i) = config_index {
        archive.blobs.insert(config_digest.clone(), Place::Member(i));
    }
    let diff_ids = crate::gostring::from_slice::<RootFs>(&config_bytes)
        .ok()
        .and_then(|r| r.rootfs)
        .and_then(|r| r.diff_ids)
        .unwrap_or_default();
    let names = e.layers.clone().unwrap_or_default();
    if names.len() != diff_ids.len() {
        problems.push(Problem::warning(
            "diffid-count-mismatch",
            at,
            format!("{} layers, {} diff IDs in the config", names.len(), diff_ids.len()),
        ));
    }
    let mut layers = Vec::new();
    for (j, name) in names.iter().enumerate() {
        let diff_id = diff_ids.get(j);
        // A foreign layer: its descriptor is in LayerSources, its blob may be absent.
        if let Some(src) = diff_id.and_then(|d| e.layer_sources.as_ref()?.get(d))
            && archive.index.resolve(name, MAX_HOPS).is_err()
        {
            layers.push(Plain {
                media_type: src.media_type.clone(),
                digest: src.digest.clone(),
                size: src.size,
                urls: src.urls.clone(),
            });
            continue;
        }
        // A layer the archive does not hold (or that cannot be read) stays in the manifest,
        // named by its diff ID (what `docker save` writes a layer as: uncompressed, its digest
        // its diff ID), so that the image is not taken for one with fewer layers: its blob is
        // missing, which export, verify and inspect report. Without a diff ID the image cannot
        // be described at all.
        let mut absent = |why: String, problems: &mut Vec<Problem>| {
            problems.push(missing("layer", name, why));
            let Some(digest) = diff_id.and_then(|d| Digest::parse(d).ok()) else {
                problems.push(Problem::error(
                    "docker-archive-member-missing",
                    at,
                    format!("image left out: layer {j} is not in the archive and the config gives it no diff ID"),
                ));
                return None;
            };
            layers.push(Plain {
                media_type: DOCKER_LAYER.into(),
                digest: digest.to_string(),
                size: 0,
                urls: None,
            });
            Some(())
        };
        let member = match archive.index.resolve(name, MAX_HOPS) {
            Ok(m) if m.kind != MemberKind::File => {
                absent(not_a_file(m.kind), problems)?;
                continue;
            }
            Ok(m) => m.clone(),
            Err(why) => {
                absent(why.to_string(), problems)?;
                continue;
            }
        };
        let compression = match seen.layers.get(&member.header_offset) {
            Some((c, _)) => *c,
            None => tar::detect(&archive.head(&member)),
        };
        // containerd's importer (`detectLayerMediaType`) calls every compressed layer gzip,
        // zstd too (sweep 24: the manifest, and so the image's digest, was not the one an
        // import makes).
        let media_type = match compression {
            Compression::None => DOCKER_LAYER,
            Compression::Gzip | Compression::Zstd => DOCKER_LAYER_GZIP,
        };
        // An uncompressed layer is its diff ID (verify hashes it); any other is hashed now, as
        // the importer names every layer by its own digest: bzip2 or xz, which docker's legacy
        // loader reads, is no tar (sweep 24: it was named by its diff ID, then "damaged").
        let tar_itself = compression == Compression::None && !tar::bzip2_or_xz(&archive.head(&member));
        let digest = match (tar_itself, diff_id.and_then(|d| Digest::parse(d).ok())) {
            (true, Some(d)) => Some(d),
            _ => seen
                .layers
                .entry(member.header_offset)
                .or_insert_with(|| (compression, hash_member(archive, &member).ok()))
                .1
                .clone(),
        };
        let Some(digest) = digest else {
            absent("cannot be read".into(), problems)?;
            continue;
        };
        if let Some(&i) = seen.positions.get(&member.header_offset) {
            archive.blobs.insert(digest.clone(), Place::Member(i));
        }
        layers.push(Plain {
            media_type: media_type.into(),
            digest: digest.to_string(),
            size: member.size as i64,
            urls: None,
        });
    }
    let manifest = SchemaTwo {
        schema_version: 2,
        media_type: crate::image::document::DOCKER_MANIFEST,
        config: Plain {
            media_type: DOCKER_CONFIG.into(),
            digest: config_digest.to_string(),
            size: config_bytes.len() as i64,
            urls: None,
        },
        layers,
    };
    serde_json::to_vec(&manifest).ok()
}

/// Why a member named as a config or layer, links followed, holds no file's data.
fn not_a_file(kind: MemberKind) -> String {
    let what = match kind {
        MemberKind::Dir => "a directory".to_string(),
        MemberKind::Symlink => "a symlink".to_string(),
        MemberKind::HardLink => "a hard link".to_string(),
        MemberKind::Other(t) => format!("of tar type {:?}", char::from(t)),
        MemberKind::File => "a file".to_string(),
    };
    format!("{what} in the archive, not a regular file")
}

/// Each member's position in the index, by its header offset (one per member).
fn positions(index: &TarIndex) -> HashMap<u64, usize> {
    index
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.header_offset, i))
        .collect()
}

/// The sha256 of a member's data.
fn hash_member(archive: &Archive, m: &Member) -> io::Result<Digest> {
    let r = archive.open_member(m)?;
    let digest = crate::verify::layers::hash_stream(r).map_err(io::Error::other)?;
    Digest::parse(&digest).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::tar::tests::{end, file};
    use std::io::Write;

    fn sha(data: &[u8]) -> String {
        Digest::sha256_of(data).hex().to_string()
    }

    /// A gzip archive: `junk` small members first, then an image (config, manifest, index).
    fn junk_then_image(dir: &Path, junk: &[(&str, Vec<u8>)], budget: u64) -> (Archive, tar::Kept, Vec<String>) {
        let mut tar = Vec::new();
        for (name, data) in junk {
            file(&mut tar, name, data);
        }
        let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{}","size":{}}},"layers":[]}}"#,
            sha(config),
            config.len()
        );
        let index = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":{}}}]}}"#,
            sha(manifest.as_bytes()),
            manifest.len()
        );
        let needed = vec![
            format!("blobs/sha256/{}", sha(config)),
            format!("blobs/sha256/{}", sha(manifest.as_bytes())),
            "index.json".to_string(),
        ];
        file(&mut tar, &needed[0], config);
        file(&mut tar, &needed[1], manifest.as_bytes());
        file(&mut tar, &needed[2], index.as_bytes());
        end(&mut tar);
        let path = dir.join("a.tar.gz");
        let mut gz = flate2::write::GzEncoder::new(File::create(&path).unwrap(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        gz.finish().unwrap();
        let f = File::open(&path).unwrap();
        let (index, kept) = tar::index_file_keeping(&f, tar::Kept::new(SMALL_MEMBER, budget)).unwrap();
        (Archive::new(path, f, index), kept, needed)
    }

    fn kept_names(archive: &Archive, kept: &tar::Kept) -> Vec<String> {
        let mut names: Vec<String> = (archive.index.members.iter())
            .filter(|m| kept.data.contains_key(&m.header_offset))
            .map(|m| m.name.clone())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn members_read_in_any_order_from_parked_streams_are_their_own_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<Vec<u8>> = (0..6u8)
            .map(|i| (0..5000u32).map(|j| (j as u8) ^ i).collect())
            .collect();
        // Nothing kept: every read goes through a stream.
        let names: Vec<String> = (0..data.len()).map(|i| format!("m/{i}")).collect();
        let members: Vec<(&str, Vec<u8>)> = names.iter().map(String::as_str).zip(data.iter().cloned()).collect();
        let (archive, _, _) = junk_then_image(dir.path(), &members, 0);
        let read = |i: usize, limit: u64| {
            let m = archive.index.get(&format!("m/{i}")).unwrap();
            let mut out = Vec::new();
            archive
                .open_member(m)
                .unwrap()
                .take(limit)
                .read_to_end(&mut out)
                .unwrap();
            out
        };
        // Forward, backward, a partial read left behind, an open never read, and again.
        for &(i, limit) in &[
            (0, 9999),
            (3, 9999),
            (1, 10),
            (2, 9999),
            (5, 9999),
            (4, 9999),
            (1, 9999),
            (0, 9999),
        ] {
            let want = &data[i][..data[i].len().min(limit as usize)];
            assert_eq!(read(i, limit), want, "member {i}");
            let _unread = archive.open_member(archive.index.get("m/2").unwrap()).unwrap();
        }
        let parked = archive.parked.lock().unwrap();
        assert!(!parked.is_empty() && parked.len() <= MAX_PARKED);
    }

    /// Reads member `m/{i}` of `archive` whole.
    fn read_whole(archive: &Archive, i: usize) -> Vec<u8> {
        let m = archive.index.get(&format!("m/{i}")).unwrap();
        let mut out = Vec::new();
        archive.open_member(m).unwrap().read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn members_read_against_the_archive_order_are_not_each_decompressed_from_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let count = 40;
        let data: Vec<Vec<u8>> = (0..count as u32)
            .map(|i| (0..100_000u32).map(|j| (j.wrapping_mul(31) ^ i) as u8).collect())
            .collect();
        let names: Vec<String> = (0..count).map(|i| format!("m/{i}")).collect();
        let members: Vec<(&str, Vec<u8>)> = names.iter().map(String::as_str).zip(data.iter().cloned()).collect();
        let (archive, _, _) = junk_then_image(dir.path(), &members, 0);
        // In archive order: one decompression, and nothing kept.
        for (i, d) in data.iter().enumerate() {
            assert_eq!(&read_whole(&archive, i), d, "member {i}");
        }
        assert_eq!(archive.spool.lock().unwrap().restarts, 1);
        assert_eq!(archive.spool.lock().unwrap().bytes, 0);
        *archive.spool.lock().unwrap() = Spool::new(SPOOL_BUDGET);
        archive.parked.lock().unwrap().clear();
        // Last member first (layers stored in the reverse of the manifest's order), twice.
        for _ in 0..2 {
            for i in (0..count).rev() {
                assert_eq!(read_whole(&archive, i), data[i], "member {i}");
            }
        }
        // Three in all, not once per member (80): the first read of the last member keeps
        // nothing (the archive had not been read against its order yet), the second pass
        // needs the one member read, never passed over, in the first.
        assert_eq!(archive.spool.lock().unwrap().restarts, 3);

        // A spool of 1 MiB holds ten members: a new decompression per ten, not per member.
        *archive.spool.lock().unwrap() = Spool::new(SPOOL_CHUNK);
        archive.parked.lock().unwrap().clear();
        for i in (0..count).rev() {
            assert_eq!(read_whole(&archive, i), data[i], "member {i}");
        }
        let spool = archive.spool.lock().unwrap();
        assert!(spool.restarts <= 8, "{} restarts", spool.restarts);
        assert!(spool.bytes <= SPOOL_CHUNK);
    }

    #[test]
    fn within_budget_every_small_member_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (archive, kept, mut needed) = junk_then_image(dir.path(), &[("junk/0", vec![b'x'; 3000])], 1 << 20);
        let kept = keep_small_members(&archive, kept, 1 << 20);
        needed.push("junk/0".into());
        needed.sort();
        assert_eq!(kept_names(&archive, &kept), needed);
        assert!(!kept.overflowed);
    }

    #[test]
    fn over_budget_the_documents_the_index_reaches_are_kept_not_the_junk_before_them() {
        let dir = tempfile::tempdir().unwrap();
        // Junk that fills the budget before any document: plain bytes, and JSON that looks
        // like a blob (a digest name) but that nothing names.
        let json_junk = format!("{{{}}}", " ".repeat(2500));
        let junk = [
            ("junk/0", vec![b'x'; 3000]),
            ("junk/1", vec![b'y'; 3000]),
            (
                &*format!("blobs/sha256/{}", sha(json_junk.as_bytes())),
                json_junk.into_bytes(),
            ),
        ];
        let (archive, kept, mut needed) = junk_then_image(dir.path(), &junk, 4000);
        assert!(kept.overflowed);
        let kept = keep_small_members(&archive, kept, 4000);
        needed.sort();
        assert_eq!(kept_names(&archive, &kept), needed);
        // Every regular member's head was kept, the junk's too.
        assert_eq!(kept.heads.len(), archive.index.members.len());
        assert_eq!(kept.heads.values().map(Vec::len).max(), Some(HEAD));
    }
}
