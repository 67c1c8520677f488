//! `docker image inspect` for the containerd image store, computed from disk.
//!
//! The pipeline follows dockerd 28.5 (`daemon/containerd/image_inspect.go`):
//!
//! 1. resolve the reference to one image record ([`resolve`]);
//! 2. every record with the same target gives RepoTags, RepoDigests and LastTagTime;
//! 3. `Size` = containerd's `LimitManifests(ChildrenHandler, platform, 1)` dispatched over
//!    the target, adding each visited descriptor's declared size ([`size`]);
//! 4. the best available manifest supplies Config, Os, Architecture, RootFS
//!    (`multiPlatformSummary`, [`summary`]);
//! 5. the response is shaped as the daemon serializes it ([`response`]).

pub mod gojson;
pub mod gotypes;
pub mod history;
mod resolve;
pub mod response;
mod reuse;
mod size;

pub use size::sort_by_preference;
mod summary;

use crate::bolt::Tx;
use crate::containerd::records::{self, Image};
use crate::containerd::root::{BlobError, Root};
use crate::digest::Digest;
use crate::image::document::{self, Descriptor, DocError, Index, Manifest};
use crate::image::platform::{Matcher, Platform};
use foldhash::HashMap;
use gojson::J;
use reuse::Reuse;
pub use reuse::Shaped;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// How many levels of indexes may stand above a manifest before we call it a cycle: every
/// walk of the image graph (inspect, the listings, export, a layout's import) reads a chain of
/// this many indexes and refuses one more. containerd has no limit (an index that lists itself,
/// which only a blob that does not hash to its digest can do, makes it recurse until Go's
/// stack limit); real images nest one or two levels. 256 levels of our recursive walks fit in
/// a 512 KiB stack.
pub const MAX_GRAPH_DEPTH: usize = 256;

/// The problem of a graph nested deeper than [`MAX_GRAPH_DEPTH`] below `digest`, worded once
/// for inspect and the listings.
pub fn too_deep(digest: &str) -> String {
    format!("{digest}: image graph nested deeper than {MAX_GRAPH_DEPTH} levels (a cycle?)")
}

/// The Docker API version the output follows (1.51 is docker 28.5's default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion(pub u32);

impl ApiVersion {
    pub const DEFAULT: ApiVersion = ApiVersion(51);
    pub const MIN: ApiVersion = ApiVersion(24);

    /// Parses `1.NN`.
    pub fn parse(s: &str) -> Result<ApiVersion, String> {
        let minor = s
            .strip_prefix("1.")
            .and_then(|m| m.parse::<u32>().ok())
            .ok_or_else(|| format!("invalid API version {s:?}: expected 1.NN"))?;
        let v = ApiVersion(minor);
        if v < ApiVersion::MIN {
            return Err(format!(
                "client version {s} is too old. Minimum supported API version is 1.{}, please upgrade your client to a newer version",
                ApiVersion::MIN.0
            ));
        }
        if v > ApiVersion::DEFAULT {
            return Err(format!(
                "client version {s} is too new. Maximum supported API version is 1.{}",
                ApiVersion::DEFAULT.0
            ));
        }
        Ok(v)
    }
}

/// What the caller chose.
#[derive(Clone, Debug)]
pub struct Options {
    pub api: ApiVersion,
    /// `--platform`: only this platform, and the error when the image lacks it.
    pub platform: Option<Platform>,
    /// The platform of the node whose disk this is (dockerd's `platforms.Default()`).
    pub host: Platform,
    /// The snapshotter dockerd was configured with (`GraphDriver.Name`).
    pub snapshotter: String,
}

impl Options {
    /// Defaults for `host`: API 1.51, no `--platform`, the overlayfs snapshotter.
    pub fn for_host(host: Platform) -> Options {
        Options {
            api: ApiVersion::DEFAULT,
            platform: None,
            host,
            snapshotter: "overlayfs".into(),
        }
    }
}

/// Why one reference could not be inspected: the daemon's message, without its
/// "Error response from daemon: " prefix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InspectError(pub String);

/// Failure reading one descriptor's blob: containerd's NotFound, or anything else.
#[derive(Clone, Debug)]
pub(crate) enum ReadError {
    NotFound,
    Other(String),
}

impl From<BlobError> for ReadError {
    fn from(e: BlobError) -> Self {
        if e.is_not_found() {
            ReadError::NotFound
        } else {
            ReadError::Other(e.to_string())
        }
    }
}

impl From<DocError> for ReadError {
    fn from(e: DocError) -> Self {
        ReadError::Other(e.to_string())
    }
}

/// Target lookups answered by scanning target digests before every record is decoded into an
/// index (a scan costs about a quarter of decoding every record).
pub const LEAN_LOOKUPS: usize = 3;

/// How many bytes of blobs an [`Inspector`] keeps: configs shared by different targets (an
/// index and a record naming one of its manifests). References naming the same target share
/// the whole body instead ([`reuse`]), so this stays small.
pub const BLOB_CACHE_BYTES: usize = 1 << 20;

#[derive(Default)]
struct BlobCache {
    entries: HashMap<String, Result<Arc<[u8]>, ReadError>>,
    bytes: usize,
}

/// A manifest or index read and decoded once: containerd's `validateMediaType` verdict for
/// the descriptor's media type, and the document's children (a manifest's config then
/// layers, an index's manifests), or why it does not decode.
pub(crate) struct Parsed {
    pub(crate) valid: Result<(), DocError>,
    pub(crate) manifest: Result<Arc<Manifest>, DocError>,
    pub(crate) children: Result<Arc<Vec<Descriptor>>, DocError>,
}

impl Parsed {
    /// `blob` validated and decoded as `media_type` says (an index, or else a manifest).
    pub(crate) fn of(blob: &[u8], media_type: &str) -> Parsed {
        let valid = document::validate_media_type(blob, media_type);
        if document::is_index_type(media_type) {
            let index = document::decode::<Index>(blob);
            return Parsed {
                valid,
                manifest: Err(DocError::Json("an index is not a manifest".into())),
                children: index.map(|i| Arc::new(i.manifests)),
            };
        }
        let manifest = document::decode::<Manifest>(blob).map(Arc::new);
        let children = manifest.clone().map(|m| {
            let mut out = Vec::with_capacity(m.layers.len() + 1);
            out.push(m.config.clone());
            out.extend(m.layers.iter().cloned());
            Arc::new(out)
        });
        Parsed {
            valid,
            manifest,
            children,
        }
    }
}

/// A document's digest and the media type it was read as.
type DocKey = (String, String);

/// Documents kept at most (then the cache starts over): manifests are shared by the two walks
/// of each inspect and by the tags of an image, rarely further apart. (1,024 held 5 MB more
/// for no more hits: inspect-all's peak anonymous memory 32.4 -> 26.4 MB.)
const PARSED_ENTRIES: usize = 256;

/// The distinct content records one image's walk looks up, about: its manifest (or index),
/// its config, and the layers it does not share with the images walked before it. Callers
/// about to walk many images weigh their lookups with it (`Inspector::asks_most_records`).
const LOOKUPS_PER_IMAGE: usize = 4;

/// Shards of [`Inspector::sizes`].
const SIZE_SHARDS: usize = 8;

/// The 32 bytes of a `sha256:<64 lowercase hex>` digest (the only form containerd stores).
pub(crate) fn sha256_key(digest: &str) -> Option<[u8; 32]> {
    crate::digest::sha256_bytes(digest.strip_prefix("sha256:")?.as_bytes())
}

/// Every image record of a namespace in name order, their positions by target digest, and
/// the damage met reading them (reported once the index is used, not when it is built).
type ImageIndex = (Vec<Image>, HashMap<String, Vec<usize>>, crate::damage::Damage);

/// Inspects images of one namespace; caches what several references share.
pub struct Inspector<'r> {
    root: &'r Root,
    tx: Tx<'r>,
    namespace: String,
    options: Options,
    /// Every image record of the namespace, read once, with an index by target digest
    /// (built once more than [`LEAN_LOOKUPS`] references have asked for a target's records).
    images: OnceLock<ImageIndex>,
    /// The index's damage has been reported (see [`Inspector::all_images`]).
    index_used: std::sync::Once,
    /// How many target lookups were answered by a scan of the targets alone.
    lookups: AtomicUsize,
    /// What those scans found, by digest (at most [`LEAN_LOOKUPS`]): a digest asked for
    /// twice is scanned once.
    scanned: Mutex<Vec<(String, Vec<Image>)>>,
    /// One reference is inspected ([`Inspector::inspect_each`]): its RepoTags scan is the
    /// last read of the record pages it passes through.
    one_reference: std::sync::atomic::AtomicBool,
    /// A pool capped at three workers, as dockerd's semaphore of 3, and at the cores
    /// ([`crate::pipeline::workers`]).
    pool: Option<rayon::ThreadPool>,
    /// Blobs already read (dockerd reads a manifest up to four times per reference, and tags
    /// share manifests), up to [`BLOB_CACHE_BYTES`].
    blobs: Mutex<BlobCache>,
    /// Manifests and indexes by (digest, media type), decoded once: dockerd decodes a
    /// manifest up to four times per reference (Size, children, availability, pseudo-image).
    parsed: Mutex<HashMap<DocKey, Result<Arc<Parsed>, ReadError>>>,
    /// The namespace's `content/blob` bucket, found once (or why not).
    content_blobs: OnceLock<Result<Option<crate::bolt::Bucket<'r>>, String>>,
    /// Content sizes found, by sha256 (each inspect asks for a config and its layers two or
    /// three times, and tags share them); sharded for the workers.
    sizes: [Mutex<HashMap<[u8; 32], Option<i64>>>; SIZE_SHARDS],
    /// What dockerd would have logged as warnings (a config that does not read, ...).
    pub warnings: Mutex<Vec<String>>,
    /// Damage in meta.db met on the way: the answers may be partial (RepoTags, for one).
    pub damage: Mutex<crate::damage::Damage>,
    /// Blobs read whose content record is there but whose file is not (containerd answers
    /// NotFound, as dockerd shows it; the store is damaged), with the size the record says:
    /// sorted, so the report does not depend on which worker met one first.
    pub missing: Mutex<std::collections::BTreeMap<String, i64>>,
    /// Manifests and indexes read that are not what their name says (a file shorter or
    /// longer than its record, or bytes that do not hash to the digest), found when they do
    /// not decode: dockerd's message names no blob (`unexpected EOF`), these do. Sorted.
    pub damaged: Mutex<std::collections::BTreeMap<String, String>>,
    /// A content record lookup met a page that does not decode (`meta_damage`) or could not
    /// be read (`meta_unreadable`): the answer it gave, an error or a manifest passed over,
    /// says where; the exit code must say it too (sweep 30.6: "No such image"-like errors
    /// naming a damaged page exited 1).
    pub meta_damage: std::sync::atomic::AtomicBool,
    pub meta_unreadable: std::sync::atomic::AtomicBool,
}

impl<'r> Inspector<'r> {
    pub fn new(root: &'r Root, tx: Tx<'r>, namespace: &str, options: Options) -> Self {
        let pool = crate::pipeline::pool(3);
        Inspector {
            root,
            tx,
            namespace: namespace.to_string(),
            options,
            images: OnceLock::new(),
            index_used: std::sync::Once::new(),
            lookups: AtomicUsize::new(0),
            scanned: Mutex::new(Vec::new()),
            one_reference: std::sync::atomic::AtomicBool::new(false),
            pool,
            blobs: Mutex::new(BlobCache::default()),
            parsed: Mutex::new(HashMap::default()),
            content_blobs: OnceLock::new(),
            sizes: std::array::from_fn(|_| Mutex::new(HashMap::default())),
            warnings: Mutex::new(Vec::new()),
            damage: Mutex::new(crate::damage::Damage::new()),
            missing: Mutex::new(std::collections::BTreeMap::new()),
            damaged: Mutex::new(std::collections::BTreeMap::new()),
            meta_damage: std::sync::atomic::AtomicBool::new(false),
            meta_unreadable: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn warn_all(&self, messages: &[String]) {
        if messages.is_empty() {
            return;
        }
        if let Ok(mut w) = self.warnings.lock() {
            w.extend(messages.iter().cloned());
        }
    }

    /// All image records of the namespace, in name order, and the index by target digest;
    /// the damage met building it is reported from the first use on.
    fn all_images(&self) -> (&[Image], &HashMap<String, Vec<usize>>) {
        let (images, index, damage) = self.image_index();
        self.index_used.call_once(|| {
            if !damage.is_empty()
                && let Ok(mut all) = self.damage.lock()
            {
                all.extend(damage.clone());
            }
        });
        (images, index)
    }

    /// The index behind [`Inspector::all_images`], built once. Built from outside the pool,
    /// the records are decoded on it; built from a worker (the first reference to need it),
    /// on that worker alone: a worker waiting for its own pool's jobs could take up another
    /// reference's job that waits for this very index.
    fn image_index(&self) -> &ImageIndex {
        self.images.get_or_init(|| {
            let mut damage = crate::damage::Damage::new();
            let ns = records::key_bytes(&self.namespace);
            let pool = self.pool.as_ref().filter(|_| rayon::current_thread_index().is_none());
            let images = match self.tx.bucket_at(&[b"v1".as_slice(), &ns]) {
                Ok(Some(ns)) => records::images_in_on(pool, &self.namespace, &ns, &mut damage),
                Ok(None) => Vec::new(),
                Err(e) => {
                    damage.push(e);
                    Vec::new()
                }
            };
            let mut by_target: HashMap<String, Vec<usize>> = HashMap::default();
            for (i, img) in images.iter().enumerate() {
                by_target.entry(img.target.digest.clone()).or_default().push(i);
            }
            (images, by_target, damage)
        })
    }

    /// The image records whose target is `digest`, in name order. The first few lookups scan
    /// only the records' target digests, on the pool (one `inspect REF` reads 5,000 record
    /// pages but decodes one or two records); after that every record is decoded once into
    /// an index, which is cheaper than scanning again for each of many references.
    fn with_target(&self, digest: &str, scan: records::Scan) -> Vec<Image> {
        if self.images.get().is_none() && self.lookups.fetch_add(1, Ordering::Relaxed) < LEAN_LOOKUPS {
            // The same digest asked again (a digest reference resolved, then its RepoTags):
            // the records found the first time, the damage on the way already said.
            if let Some(found) = self
                .scanned
                .lock()
                .ok()
                .and_then(|s| s.iter().find(|(d, _)| d == digest).map(|(_, found)| found.clone()))
            {
                return found;
            }
            let out = self.scan_namespace(|ns, damage| {
                records::images_with_target_on(self.pool.as_ref(), &self.namespace, ns, digest, scan, damage)
            });
            self.scanned_for(digest, out.clone());
            return out;
        }
        let (images, index) = self.all_images();
        index
            .get(digest)
            .map(|ix| ix.iter().filter_map(|&i| images.get(i)).cloned().collect())
            .unwrap_or_default()
    }

    /// What `scan` finds in the namespace's bucket (nothing when there is none); the damage
    /// met on the way is kept with the inspector's, said once after the responses.
    fn scan_namespace(
        &self,
        scan: impl FnOnce(&crate::bolt::Bucket<'_>, &mut crate::damage::Damage) -> Vec<Image>,
    ) -> Vec<Image> {
        let mut damage = crate::damage::Damage::new();
        let ns = records::key_bytes(&self.namespace);
        let out = match self.tx.bucket_at(&[b"v1".as_slice(), &ns]) {
            Ok(Some(ns)) => scan(&ns, &mut damage),
            Ok(None) => Vec::new(),
            Err(e) => {
                damage.push(e);
                Vec::new()
            }
        };
        if !damage.is_empty()
            && let Ok(mut all) = self.damage.lock()
        {
            all.extend(damage);
        }
        out
    }

    /// Notes `found` as the records whose target is `digest`, for [`Inspector::with_target`]
    /// to answer without a scan (a short ID's scan picked them all).
    fn scanned_for(&self, digest: &str, found: Vec<Image>) {
        if let Ok(mut s) = self.scanned.lock()
            && !s.iter().any(|(d, _)| d == digest)
        {
            s.push((digest.to_string(), found));
        }
    }

    /// The image records `wanted` picks by their key (as stored) and target digest, in name
    /// order: found by a scan of the targets, decoding only those picked, while target
    /// lookups are answered that way ([`LEAN_LOOKUPS`]); else from the index of every
    /// record (`wanted` then passes over decoded records: the caller picks again).
    fn images_where(&self, wanted: impl Fn(&[u8], Option<&[u8]>) -> bool + Sync) -> std::borrow::Cow<'_, [Image]> {
        if self.images.get().is_none() && self.lookups.fetch_add(1, Ordering::Relaxed) < LEAN_LOOKUPS {
            let out = self.scan_namespace(|ns, damage| {
                records::images_matching_on(
                    self.pool.as_ref(),
                    &self.namespace,
                    ns,
                    records::Scan::Keep,
                    wanted,
                    damage,
                )
            });
            return std::borrow::Cow::Owned(out);
        }
        std::borrow::Cow::Borrowed(self.all_images().0)
    }

    /// How RepoTags' scan treats the record pages: read for the one look when it is the last
    /// scan of one reference (the pages a resolve kept are still used as kept), kept
    /// otherwise, for the scans that follow.
    fn repo_tags_scan(&self) -> records::Scan {
        if self.one_reference.load(Ordering::Relaxed) {
            records::Scan::Once
        } else {
            records::Scan::Keep
        }
    }

    /// The recorded size of content `digest` in the namespace, `None` without a record
    /// (`records::content_size_of`, from the namespace's blob bucket found once).
    pub(crate) fn content_size(&self, digest: &str) -> Result<Option<i64>, crate::bolt::BoltError> {
        let Some(key) = sha256_key(digest) else {
            return self.content_size_uncached(digest);
        };
        let shard = self.sizes.get(usize::from(key[0]) % SIZE_SHARDS);
        if let Some(known) = shard.and_then(|m| m.lock().ok()?.get(&key).copied()) {
            return Ok(known);
        }
        let size = self.content_size_uncached(digest).inspect_err(|e| {
            let met = if e.is_damage() {
                &self.meta_damage
            } else {
                &self.meta_unreadable
            };
            met.store(true, Ordering::Relaxed);
        })?;
        if let Some(mut m) = shard.and_then(|m| m.lock().ok()) {
            m.insert(key, size);
        }
        Ok(size)
    }

    /// The namespace's `content/blob` bucket, found once (or why not).
    fn content_blobs(&self) -> &Result<Option<crate::bolt::Bucket<'r>>, String> {
        self.content_blobs.get_or_init(|| {
            let ns = records::key_bytes(&self.namespace);
            self.tx
                .bucket_at(&[b"v1".as_slice(), &ns, b"content", b"blob"])
                .map_err(|e| e.to_string())
        })
    }

    /// Before walking `images` images: when memory is small next to meta.db, each size
    /// lookup would read the disk a page at a time, evicting the pages of the next (images
    /// of 10,000 records ran 3.2x its unconstrained time in a 64 MiB cgroup, inspect of all
    /// of them 2.4x, export 6x); one walk of the content records in key order serves them
    /// instead, when most will be asked for (`learn_content_sizes`). Unconstrained, the walk
    /// made first costs as much time as the lookups it saves, and is not made here (`images`
    /// makes it on a thread beside its analyses). Answers whether those walks will ask for
    /// most of the records ([`Inspector::asks_most_records`]).
    pub(crate) fn prepare_for_images(&self, images: usize) -> bool {
        let most = self.asks_most_records(images.saturating_mul(LOOKUPS_PER_IMAGE));
        if most && self.tx.db().reads_frugally() {
            self.learn_content_sizes();
        }
        most
    }

    /// True when `lookups`, the content records a caller expects to look up, are at least
    /// half the records the namespace has (estimated from the bucket's leftmost path).
    fn asks_most_records(&self, lookups: usize) -> bool {
        match self.content_blobs() {
            Ok(Some(blobs)) => blobs
                .estimated_keys()
                .is_some_and(|records| (lookups as u64).saturating_mul(2) >= records),
            _ => false,
        }
    }

    /// Learns every content size of the namespace from one walk of its `content/blob`
    /// bucket in key order, when that walk answers exactly what the lookups would (see
    /// `Bucket::walk_seekable`); otherwise learns nothing. For a caller about to look up
    /// most of the records when memory is small next to meta.db: scattered lookups then read
    /// the disk a page at a time, evicting one another, where a walk in order reads ahead.
    /// Only clean records are learnt; a record whose size does not read, and a digest with
    /// no record, are still looked up (and reported) one by one.
    pub(crate) fn learn_content_sizes(&self) {
        let Ok(Some(blobs)) = self.content_blobs() else {
            return;
        };
        let mut learnt: Vec<([u8; 32], i64)> = Vec::new();
        let sound = blobs.walk_seekable(&mut |item| {
            // Only a key a lookup for its digest asks for byte for byte (lower-case hex).
            let Some(key) = std::str::from_utf8(item.key).ok().and_then(sha256_key) else {
                return;
            };
            if !item.is_bucket {
                return;
            }
            let nowhere: &dyn std::fmt::Display = &"";
            if let Ok(size) = blobs
                .open_item(&item)
                .and_then(|b| records::content_size(&b, nowhere, &mut crate::damage::Damage::new()))
            {
                learnt.push((key, size));
            }
        });
        if !sound {
            return;
        }
        for (key, size) in learnt {
            if let Some(mut m) = self
                .sizes
                .get(usize::from(key[0]) % SIZE_SHARDS)
                .and_then(|m| m.lock().ok())
            {
                m.insert(key, Some(size));
            }
        }
    }

    fn content_size_uncached(&self, digest: &str) -> Result<Option<i64>, crate::bolt::BoltError> {
        match self.content_blobs() {
            // A size that is not a varint is damage the answer hides: said, exit 3.
            Ok(Some(b)) => {
                let mut met = crate::damage::Damage::new();
                let size = records::content_size_noting(b, &self.namespace, digest, &mut met);
                if !met.is_empty() {
                    self.meta_damage.store(true, Ordering::Relaxed);
                    if let Ok(mut all) = self.damage.lock() {
                        all.extend(met);
                    }
                }
                size
            }
            Ok(None) => Ok(None),
            // The path to the bucket is damaged: each lookup reports it, as before.
            Err(_) => records::content_size_of(&self.tx, &self.namespace, digest),
        }
    }

    /// Reads the blob a descriptor names, as containerd's `content.ReadBlob` does: embedded
    /// `data` when its length and digest match, else the namespace's content store. Blobs
    /// read are kept up to [`BLOB_CACHE_BYTES`] (configs: tags share them); manifests and
    /// indexes are kept decoded instead ([`Inspector::parsed`]).
    fn read_blob(&self, desc: &Descriptor) -> Result<Arc<[u8]>, ReadError> {
        if let Some(hit) = self
            .blobs
            .lock()
            .ok()
            .and_then(|c| c.entries.get(&desc.digest).cloned())
        {
            return hit;
        }
        let read = self.fetch_blob(desc);
        if let Ok(mut c) = self.blobs.lock() {
            let len = read.as_ref().map_or(0, |b: &Arc<[u8]>| b.len());
            if c.bytes + len <= BLOB_CACHE_BYTES {
                c.bytes += len;
                c.entries.insert(desc.digest.clone(), read.clone());
            }
        }
        read
    }

    /// Why `blob`, read from the content store for `desc` and not decoding, is damage: not
    /// its record's size, or not its digest's bytes (hashed only here, on the error path).
    fn note_damaged(&self, desc: &Descriptor, blob: &[u8]) {
        let recorded = self.content_size(&desc.digest).ok().flatten();
        let why =
            match recorded {
                Some(size) if i64::try_from(blob.len()).ok() != Some(size) => Some(
                    crate::containerd::root::unlike_record(&desc.digest, size, format!("{} bytes", blob.len())),
                ),
                _ => Digest::parse(&desc.digest)
                    .ok()
                    .filter(|d| d.algorithm() == "sha256")
                    .map(|_| Digest::sha256_of(blob).to_string())
                    .filter(|found| *found != desc.digest)
                    .map(|found| format!("{}: the blob file hashes to {found}", desc.digest)),
            };
        if let (Some(why), Ok(mut d)) = (why, self.damaged.lock()) {
            d.insert(desc.digest.clone(), why);
        }
    }

    /// [`Inspector::read_blob`] without the cache.
    fn fetch_blob(&self, desc: &Descriptor) -> Result<Arc<[u8]>, ReadError> {
        if let Some(data) = desc.data.as_deref().and_then(document::base64_decode)
            && data.len() as i64 == desc.size
            && Digest::sha256_of(&data).to_string() == desc.digest
        {
            return Ok(data.into());
        }
        self.root
            .read_looked_up(&desc.digest, self.content_size(&desc.digest))
            .map(Arc::from)
            .map_err(|e| {
                // Lost, not merely unknown: said once per blob, after the output.
                if let Some((digest, bytes)) = e.lost()
                    && let Ok(mut m) = self.missing.lock()
                {
                    m.insert(digest.to_string(), bytes);
                }
                // Cut short: dockerd's "unexpected EOF" names no blob.
                if let BlobError::UnexpectedEof {
                    digest,
                    recorded,
                    on_disk,
                } = &e
                    && let Ok(mut d) = self.damaged.lock()
                {
                    let why = crate::containerd::root::unlike_record(digest, recorded, format!("{on_disk} bytes"));
                    d.insert(digest.clone(), why);
                }
                ReadError::from(e)
            })
    }

    /// Inspects every reference, in parallel on the capped pool; results keep their order,
    /// and so do the warnings.
    pub fn inspect_all(&self, references: &[String]) -> Vec<Result<J, InspectError>> {
        use rayon::prelude::*;
        let done: Vec<_> = self.on_pool(|| references.par_iter().map(|r| self.inspect_noting(r)).collect());
        done.into_iter()
            .map(|(body, notes)| {
                self.warn_all(&notes);
                body
            })
            .collect()
    }

    /// Inspects every reference and hands `each` the results in reference order: `shape` runs
    /// on the workers (serializing there, in parallel) `batch` references at a time, while
    /// `each` takes the batches before (see [`crate::pipeline`]); only a few batches of shaped
    /// results are held at once, so output can stream. Many references are resolved first,
    /// and those naming one target share its body ([`reuse`]).
    pub fn inspect_each(
        &self,
        references: &[String],
        batch: usize,
        shape: impl Fn(Result<J, InspectError>) -> Shaped + Sync,
        mut each: impl FnMut(Shaped),
    ) {
        if references.len() <= LEAN_LOOKUPS {
            self.one_reference.store(references.len() == 1, Ordering::Relaxed);
            crate::pipeline::ordered(
                self.pool.as_ref(),
                batch,
                |give| references.iter().for_each(give),
                &|r: &String| {
                    let (body, notes) = self.inspect_noting(r);
                    (shape(body), notes)
                },
                // Warnings in reference order, whichever worker finished first.
                &mut |(shaped, notes)| {
                    self.warn_all(&notes);
                    each(shaped)
                },
            );
            return;
        }
        // Many references: decode every record into the index at once rather than scan
        // targets first (see `with_target`). Every RepoTags needs the index: built first, from
        // here on every worker, instead of by the first worker that asks while the others
        // wait for it.
        self.lookups.fetch_add(LEAN_LOOKUPS, Ordering::Relaxed);
        self.image_index();
        self.prepare_for_images(references.len());
        // Resolved a chunk at a time, and only a slot kept per reference: the record of the
        // first reference to each target (at most one per image record in the store), none
        // for the others; a reference that does not resolve is resolved again in its turn,
        // to say why. 100,000 names of one image hold no 100,000 records.
        let mut numbering = reuse::Numbering::default();
        let mut items: Vec<(&String, Resolved)> = Vec::with_capacity(references.len());
        for chunk in references.chunks(RESOLVE_CHUNK) {
            let images: Vec<Option<Image>> = self.on_pool(|| {
                use rayon::prelude::*;
                chunk.par_iter().map(|r| resolve::resolve(self, r).ok()).collect()
            });
            for (reference, image) in chunk.iter().zip(images) {
                let r = match image {
                    Some(image) => match numbering.slot(&image.target) {
                        (slot, true) => Resolved::First(Box::new(image), slot),
                        (slot, false) => Resolved::Again(slot),
                    },
                    None => Resolved::Unresolved,
                };
                items.push((reference, r));
            }
        }
        drop(numbering);
        let records = self.image_index().0.len();
        let budget = reuse::budget(records, self.tx.db().reads_frugally());
        let reuse = Reuse::expecting(items.iter().map(|(_, r)| r.slot()), budget);
        // Each result with what dockerd would have logged for it, warned in reference order.
        let one = |(reference, r): (&String, Resolved)| -> (Shaped, Vec<String>) {
            let (image, slot) = match r {
                Resolved::First(image, slot) => (image, Some(slot)),
                Resolved::Again(slot) => {
                    if let Some((body, notes)) = reuse.take(slot) {
                        return (body, notes.to_vec());
                    }
                    match resolve::resolve(self, reference) {
                        Ok(image) => (Box::new(image), Some(slot)),
                        Err(e) => return (shape(Err(e)), Vec::new()),
                    }
                }
                Resolved::Unresolved => match resolve::resolve(self, reference) {
                    Ok(image) => (Box::new(image), None),
                    Err(e) => return (shape(Err(e)), Vec::new()),
                },
            };
            let mut notes = Vec::new();
            let body = self.body(reference, &image, &mut notes);
            let made = body.is_ok();
            let out = shape(body);
            if let (Some(slot), true) = (slot, made) {
                reuse.offer(slot, &out, &notes);
            }
            (out, notes)
        };
        crate::pipeline::ordered(
            self.pool.as_ref(),
            batch,
            |give| items.into_iter().for_each(give),
            &one,
            &mut |(shaped, notes)| {
                self.warn_all(&notes);
                each(shaped)
            },
        );
    }

    /// Runs `f` on the capped pool (or here, when the pool could not be built).
    pub(crate) fn on_pool<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        // No pool (no thread could be started): `f` runs here, this thread its pool.
        crate::pipeline::install(self.pool.as_ref(), f)
    }

    /// `desc`'s document, read, validated and decoded once (see [`Parsed`]).
    fn parsed(&self, desc: &Descriptor) -> Result<Arc<Parsed>, ReadError> {
        let key = (desc.digest.clone(), desc.media_type.clone());
        if let Some(hit) = self.parsed.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return hit;
        }
        let parsed = self.fetch_blob(desc).map(|blob| {
            let p = Parsed::of(&blob, &desc.media_type);
            if (p.valid.is_err() || p.children.is_err()) && desc.data.is_none() {
                self.note_damaged(desc, &blob);
            }
            Arc::new(p)
        });
        // Only what the content store holds is kept: a descriptor's embedded data could
        // differ from a damaged blob of the same digest, which other walks must still see.
        if desc.data.is_none() {
            self.keep_parsed(key, &parsed);
        }
        parsed
    }

    /// `desc`'s document from `blob`, bytes a caller has read from this namespace's content
    /// store as [`Inspector::parsed`] would, decoded once: a later walk of this inspector
    /// (docker's Size after an `images` analysis) reads and decodes them no more. A descriptor
    /// with embedded data is decoded here and not kept (the walks read that data instead),
    /// and nothing decoded from embedded data is kept by [`Inspector::parsed`] either.
    pub(crate) fn parsed_from(&self, desc: &Descriptor, blob: &[u8]) -> Arc<Parsed> {
        if desc.data.is_some() {
            return Arc::new(Parsed::of(blob, &desc.media_type));
        }
        let key = (desc.digest.clone(), desc.media_type.clone());
        if let Some(Ok(hit)) = self.parsed.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return hit;
        }
        let parsed = Arc::new(Parsed::of(blob, &desc.media_type));
        self.keep_parsed(key, &Ok(parsed.clone()));
        parsed
    }

    fn keep_parsed(&self, key: DocKey, parsed: &Result<Arc<Parsed>, ReadError>) {
        if let Ok(mut c) = self.parsed.lock() {
            if c.len() >= PARSED_ENTRIES {
                c.clear();
            }
            c.insert(key, parsed.clone());
        }
    }

    /// A manifest (`readJSON` into `ocispec.Manifest`), with containerd's media-type check
    /// first when `validate`.
    fn manifest(&self, desc: &Descriptor, validate: bool) -> Result<Arc<Manifest>, ReadError> {
        let p = self.parsed(desc)?;
        if validate {
            p.valid.clone()?;
        }
        Ok(p.manifest.clone()?)
    }

    /// containerd's `images.Children` for `desc` (reads only manifests and indexes), shared
    /// with the decoded document rather than copied for each walk.
    fn children(&self, desc: &Descriptor) -> Result<Arc<Vec<Descriptor>>, ReadError> {
        if !document::is_manifest_type(&desc.media_type) && !document::is_index_type(&desc.media_type) {
            return Ok(Arc::default());
        }
        let p = self.parsed(desc)?;
        // containerd's `images.Children` wraps what `validateMediaType` refuses (its JSON
        // errors too), not what the later `json.Unmarshal` into the manifest or index does.
        if let Err(e) = &p.valid {
            return Err(ReadError::Other(format!("children: invalid desc {}: {e}", desc.digest)));
        }
        match p.children.clone() {
            Ok(c) => Ok(c),
            Err(e @ DocError::Json(_)) => Err(ReadError::Other(e.to_string())),
            Err(other) => Err(ReadError::Other(format!(
                "children: invalid desc {}: {other}",
                desc.digest
            ))),
        }
    }

    /// The platform matcher dockerd uses: `OnlyStrict(--platform)`, or every platform with
    /// the host's preferred.
    fn matcher(&self) -> Matcher {
        match &self.options.platform {
            Some(p) => Matcher::strict(p),
            None => Matcher::all_preferring(&self.options.host),
        }
    }

    /// Docker's `Size` of an image record, without the rest of inspect.
    pub fn docker_size(&self, image: &Image) -> Result<i64, InspectError> {
        size::size(self, &descriptor_of(image), &self.matcher()).map_err(InspectError)
    }

    /// The image record `reference` names, as dockerd resolves it (name, ID, short ID, digest).
    pub fn resolve(&self, reference: &str) -> Result<Image, InspectError> {
        resolve::resolve(self, reference)
    }

    /// dockerd 28's `GetImage(ref, no platform)` on the containerd image store: the ID (target
    /// digest) of the record `reference` resolves to, when a manifest of it is present with a
    /// config that reads (`getBestPresentImageManifest` over every platform, then
    /// `ReadConfig`); else why not.
    pub fn get_image(&self, reference: &str) -> Result<String, InspectError> {
        let image = resolve::resolve(self, reference)?;
        let mut notes = Vec::new();
        let all = Matcher::all_preferring(&self.options.host);
        match summary::best(self, &descriptor_of(&image), &all, &mut notes).map_err(InspectError)? {
            Some(_) => Ok(image.target.digest),
            None if notes.is_empty() => Err(InspectError(format!(
                "image with reference {reference} was found but does not provide any platform"
            ))),
            None => Err(InspectError(format!(
                "image with reference {reference} was found but does not provide any platform ({})",
                notes.join("; ")
            ))),
        }
    }

    /// dockerd 28's `Children(id)` on the containerd image store: the targets of the records
    /// whose label `org.mobyproject.image.parent` is `id` (what the classic builder and
    /// `docker commit` set), in record name order, each once.
    pub fn image_children(&self, id: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for img in self.all_images().0 {
            if img.labels.get("org.mobyproject.image.parent").map(String::as_str) == Some(id)
                && !out.contains(&img.target.digest)
            {
                out.push(img.target.digest.clone());
            }
        }
        out
    }

    /// `docker image inspect REF`, as the daemon's JSON body (compact, HTML-escaped).
    pub fn inspect(&self, reference: &str) -> Result<J, InspectError> {
        let (body, notes) = self.inspect_noting(reference);
        self.warn_all(&notes);
        body
    }

    /// [`Inspector::inspect`], with what dockerd would have logged on the way handed back
    /// rather than warned: callers on the pool warn in reference order.
    fn inspect_noting(&self, reference: &str) -> (Result<J, InspectError>, Vec<String>) {
        let mut notes = Vec::new();
        let body = resolve::resolve(self, reference).and_then(|image| self.body(reference, &image, &mut notes));
        (body, notes)
    }

    /// The body for `image`, which `reference` resolved to, with what dockerd would have
    /// logged on the way put in `notes`. A body depends only on the image's target; an error
    /// can name the reference.
    fn body(&self, reference: &str, image: &Image, notes: &mut Vec<String>) -> Result<J, InspectError> {
        let matcher = self.matcher();
        let target = descriptor_of(image);
        let size = size::size(self, &target, &matcher).map_err(InspectError)?;
        let best = summary::best(self, &target, &matcher, notes).map_err(InspectError)?;
        if best.is_none()
            && let Some(p) = &self.options.platform
        {
            return Err(InspectError(format!(
                "image with reference {reference} was found but does not provide the specified platform ({})",
                p.format()
            )));
        }
        Ok(response::build(self, image, size, best.as_ref()))
    }
}

/// A reference of many, resolved before the walks ([`Inspector::inspect_each`]).
enum Resolved {
    /// The first reference to the target of that slot.
    First(Box<Image>, usize),
    /// A later reference to the target of that slot: its record was not kept.
    Again(usize),
    /// A reference that named no record.
    Unresolved,
}

impl Resolved {
    fn slot(&self) -> Option<usize> {
        match self {
            Resolved::First(_, slot) | Resolved::Again(slot) => Some(*slot),
            Resolved::Unresolved => None,
        }
    }
}

/// References resolved at once by [`Inspector::inspect_each`] (their records, held only until
/// each is numbered by its target).
const RESOLVE_CHUNK: usize = 1024;

/// An image record's target as a descriptor.
fn descriptor_of(image: &Image) -> Descriptor {
    Descriptor {
        media_type: image.target.media_type.clone(),
        digest: image.target.digest.clone(),
        size: image.target.size,
        annotations: (!image.target.annotations.is_empty()).then(|| image.target.annotations.clone()),
        ..Descriptor::default()
    }
}

#[cfg(test)]
mod tests {
    use super::{Inspector, Options, sha256_key};
    use crate::bolt::{MetaChoice, ReadMode};
    use crate::containerd::records;
    use crate::containerd::root::Root;

    /// Sizes learnt from one walk answer what one lookup each answers, for every content
    /// record of the fixture namespaces, and for a digest with no record.
    #[test]
    fn learnt_content_sizes_are_the_sizes_looked_up() {
        for (dir, ns) in [("fixtures/docker-28.5", "moby"), ("fixtures/containerd-1.7", "default")] {
            let root = Root::open(std::path::Path::new(dir), ReadMode::Mmap).unwrap();
            let tx = root.view(MetaChoice::Current).unwrap();
            let bucket = tx
                .root()
                .bucket_at(&[b"v1".as_slice(), ns.as_bytes()])
                .unwrap()
                .unwrap();
            let mut digests: Vec<String> = records::content_in(ns, &bucket, &mut crate::damage::Damage::new())
                .into_iter()
                .map(|c| c.digest)
                .collect();
            assert!(digests.len() > 3, "{dir}: {} records", digests.len());
            digests.push(format!("sha256:{}", "0".repeat(64)));
            let learnt = Inspector::new(
                &root,
                tx,
                ns,
                Options::for_host(crate::image::platform::Platform::host()),
            );
            learnt.learn_content_sizes();
            let cached: usize = learnt.sizes.iter().map(|m| m.lock().unwrap().len()).sum();
            assert_eq!(cached, digests.len() - 1, "{dir}: every record learnt");
            let looked_up = Inspector::new(
                &root,
                tx,
                ns,
                Options::for_host(crate::image::platform::Platform::host()),
            );
            for d in &digests {
                assert_eq!(
                    learnt.content_size(d).unwrap(),
                    looked_up.content_size(d).unwrap(),
                    "{dir} {d}"
                );
            }
            // Too few lookups for a walk to pay: nothing is learnt.
            let few = Inspector::new(
                &root,
                tx,
                ns,
                Options::for_host(crate::image::platform::Platform::host()),
            );
            assert!(!few.asks_most_records(1) && few.asks_most_records(usize::MAX), "{dir}");
            assert!(!few.prepare_for_images(0));
            assert_eq!(few.sizes.iter().map(|m| m.lock().unwrap().len()).sum::<usize>(), 0);
        }
    }

    /// The fixture's moby namespace: its root, and every image record.
    fn moby() -> (Root, Vec<records::Image>) {
        let root = Root::open(std::path::Path::new("fixtures/docker-28.5"), ReadMode::Mmap).unwrap();
        let images = {
            let tx = root.view(MetaChoice::Current).unwrap();
            let ns = tx.root().bucket_at(&[b"v1".as_slice(), b"moby"]).unwrap().unwrap();
            records::images_in("moby", &ns, &mut crate::damage::Damage::new())
        };
        assert!(images.len() > 10, "{} records", images.len());
        (root, images)
    }

    fn inspector(root: &Root) -> Inspector<'_> {
        let tx = root.view(MetaChoice::Current).unwrap();
        Inspector::new(
            root,
            tx,
            "moby",
            Options::for_host(crate::image::platform::Platform::host()),
        )
    }

    /// One inspect by digest scans the namespace's records once: RepoTags' lookup of the
    /// digest the resolve scanned for reads no page, and finds what a scan finds.
    #[test]
    fn a_digest_resolved_is_not_scanned_again_for_its_tags() {
        let (root, images) = moby();
        for img in &images {
            let digest = &img.target.digest;
            for reference in [
                digest.clone(),
                format!("{}@{digest}", img.name.split([':', '@']).next().unwrap()),
            ] {
                let ins = inspector(&root);
                let found = super::resolve::resolve(&ins, &reference);
                let read = ins.tx.db().pages_read();
                let tagged = ins.with_target(digest, records::Scan::Once);
                assert_eq!(ins.tx.db().pages_read(), read, "{reference}: scanned again");
                let want: Vec<&str> = images
                    .iter()
                    .filter(|i| &i.target.digest == digest)
                    .map(|i| i.name.as_str())
                    .collect();
                assert_eq!(tagged.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), want);
                if reference == *digest {
                    assert_eq!(found.map(|i| i.name), Ok(want[0].to_string()));
                }
            }
        }
    }

    /// A short ID resolves, or fails, as when every record is decoded first (the index), for
    /// each prefix of each target from 4 characters (ambiguous ones among them), with and
    /// without `sha256:`; the scan decodes only the records it picks.
    #[test]
    fn short_ids_resolve_as_from_every_record() {
        let (root, images) = moby();
        let mut prefixes: Vec<String> = Vec::new();
        for img in &images {
            let hex = img.target.digest.strip_prefix("sha256:").unwrap();
            for n in [4, 5, 6, 12, 63, 64] {
                prefixes.push(hex[..n].to_string());
                prefixes.push(format!("sha256:{}", &hex[..n]));
            }
        }
        prefixes.extend(["0123456789ab".to_string(), "ffff".into(), "sha256:0000".into()]);
        let mut ambiguous = 0;
        for p in &prefixes {
            let lean = inspector(&root);
            let found = super::resolve::resolve(&lean, p);
            assert!(lean.images.get().is_none(), "{p}: every record decoded");
            let full = inspector(&root);
            full.all_images();
            let want = super::resolve::resolve(&full, p);
            assert_eq!(format!("{found:?}"), format!("{want:?}"), "{p}");
            // RepoTags' lookup after it: answered from the short ID's scan, as a scan does.
            if let Ok(img) = &found {
                let read = lean.tx.db().pages_read();
                let tagged = lean.with_target(&img.target.digest, records::Scan::Once);
                assert_eq!(lean.tx.db().pages_read(), read, "{p}: scanned again");
                let want: Vec<&str> = images
                    .iter()
                    .filter(|i| i.target.digest == img.target.digest)
                    .map(|i| i.name.as_str())
                    .collect();
                assert_eq!(tagged.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), want, "{p}");
            }
            ambiguous += usize::from(want.is_err_and(|e| e.0 == "ambiguous reference"));
        }
        assert!(ambiguous > 0, "no ambiguous prefix among {}", prefixes.len());
    }

    #[test]
    fn only_lowercase_sha256_digests_are_size_cache_keys() {
        let hex = "00ff".repeat(16);
        let key = sha256_key(&format!("sha256:{hex}"));
        assert_eq!(key.map(|k| (k[0], k[1], k[31])), Some((0, 0xff, 0xff)));
        assert_eq!(sha256_key(&format!("sha256:{}", hex.to_uppercase())), None);
        assert_eq!(sha256_key(&format!("sha512:{hex}")), None);
        assert_eq!(sha256_key(&format!("sha256:{}", &hex[1..])), None);
        assert_eq!(sha256_key(&format!("sha256:{hex}0")), None);
        assert_eq!(sha256_key("sha256:"), None);
    }
}
