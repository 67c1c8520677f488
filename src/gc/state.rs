//! Everything containerd's garbage collector looks at, read from disk once: the records of
//! every namespace in `meta.db`, the snapshotters' own `metadata.db` records and their
//! `snapshots/` directories, the content store's `blobs/` tree (in the order containerd's
//! local store walks it) and its `ingest/` directories.
//!
//! Only what the collector reads is kept: of the labels, only `containerd.io/gc.*` ones.
//! Nothing here follows a symlink: entries are classified with `symlink_metadata`, and a
//! directory that is a symlink is reported, never entered.

use crate::bolt::{Bucket, MetaChoice, ReadMode, Tx};
use crate::containerd::blobs::{self, FileKind, IngestDir};
pub use crate::containerd::blobs::{BlobEntry, BlobTree};
use crate::containerd::file_order::{self, Pending};
use crate::containerd::gotime::GoTime;
use crate::containerd::records::{self, BackendSnapshot, Damage};
use crate::containerd::root::Root;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// The label prefix of everything the collector interprets.
pub const GC_LABEL_PREFIX: &str = "containerd.io/gc.";

/// Sorted `containerd.io/gc.*` labels of a record.
pub type GcLabels = Vec<(String, String)>;

/// A record's labels as (key, value) pairs, however they are kept.
pub trait LabelPairs {
    fn pairs(&self) -> impl Iterator<Item = (&str, Cow<'_, str>)>;
}

impl LabelPairs for GcLabels {
    fn pairs(&self) -> impl Iterator<Item = (&str, Cow<'_, str>)> {
        self.iter().map(|(k, v)| (k.as_str(), Cow::Borrowed(v.as_str())))
    }
}

/// [`GcLabels`] in one allocation, a sha256 value as its 32 bytes: the labels of content
/// records (a pulled image's manifest names its config and each layer, 50,000 labels on a
/// big node) without two strings per label.
///
/// Each label is the key's length (u32, little endian) and bytes, then the value: tag 1 and
/// the 32 bytes of `sha256:<64 lowercase hex>`, or tag 0, its length and its bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackedLabels(Box<[u8]>);

impl PackedLabels {
    pub fn pack(labels: &[(String, String)]) -> PackedLabels {
        fn len(out: &mut Vec<u8>, n: usize) {
            out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
        }
        let mut out = Vec::new();
        for (k, v) in labels {
            len(&mut out, k.len());
            out.extend_from_slice(k.as_bytes());
            match sha256_bytes(v) {
                Some(raw) => {
                    out.push(1);
                    out.extend_from_slice(&raw);
                }
                None => {
                    out.push(0);
                    len(&mut out, v.len());
                    out.extend_from_slice(v.as_bytes());
                }
            }
        }
        PackedLabels(out.into_boxed_slice())
    }
}

/// The 32 bytes of `sha256:<64 lowercase hex>` (only that spelling, so it prints back the same).
fn sha256_bytes(v: &str) -> Option<[u8; 32]> {
    crate::digest::sha256_bytes(v.strip_prefix("sha256:")?.as_bytes())
}

impl LabelPairs for PackedLabels {
    fn pairs(&self) -> impl Iterator<Item = (&str, Cow<'_, str>)> {
        fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
            let (head, tail) = rest.split_at_checked(n)?;
            *rest = tail;
            Some(head)
        }
        fn text<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
            let n = u32::from_le_bytes(take(rest, 4)?.try_into().ok()?);
            std::str::from_utf8(take(rest, n as usize)?).ok()
        }
        let mut rest: &[u8] = &self.0;
        std::iter::from_fn(move || {
            let key = text(&mut rest)?;
            let value = match take(&mut rest, 1)? {
                [1] => Cow::Owned(crate::digest::sha256_text(take(&mut rest, 32)?.try_into().ok()?)),
                _ => Cow::Borrowed(text(&mut rest)?),
            };
            Some((key, value))
        })
    }
}

/// The whole state, as of one read.
pub struct Store {
    pub dir: PathBuf,
    /// `v1/version` of meta.db (3 for containerd 1.6/1.7, 4 for 2.x).
    pub db_version: Option<i64>,
    pub namespaces: Vec<Namespace>,
    pub blobs: BlobTree,
    /// Directories under `ingest/` (symlinks are not directories and are not listed).
    pub ingest_dirs: Vec<IngestDir>,
    /// Non-directory entries under `ingest/` (containerd skips them: their `ref` never reads).
    pub ingest_strays: Vec<String>,
    pub snapshotters: Vec<Snapshotter>,
    pub damage: Damage,
}

/// One namespace's records, in bbolt key order.
#[derive(Default)]
pub struct Namespace {
    pub name: String,
    pub content: Vec<ContentRecord>,
    pub ingests: Vec<IngestRecord>,
    pub leases: Vec<LeaseRecord>,
    pub images: Vec<ImageRecord>,
    pub containers: Vec<ContainerRecord>,
    pub snapshots: Vec<SnapshotRecord>,
    pub sandboxes: Vec<SandboxRecord>,
}

pub struct ContentRecord {
    pub digest: crate::digest::PackedDigest,
    pub size: i64,
    pub labels: PackedLabels,
}

/// An ingest's `expireat`, as the collector reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// No `expireat`: the ingest is a root only while a lease holds it.
    Never,
    /// Nanoseconds since the Unix epoch, and the value as RFC 3339.
    At(i128, String),
    /// A value Go's `UnmarshalBinary` rejects: containerd's whole collection fails on it.
    Invalid(String),
}

pub struct IngestRecord {
    pub key: String,
    /// The content store's ref `<namespace>/<seq>/<key>`; its sha256 names the ingest dir.
    pub backend_ref: Option<String>,
    pub expected: Option<String>,
    pub expire_at: Expiry,
}

pub struct LeaseRecord {
    pub id: String,
    /// The `containerd.io/gc.expire` label, unparsed.
    pub expire: Option<String>,
    /// `containerd.io/gc.flat` is set: the lease holds its resources, not what they refer to.
    pub flat: bool,
    pub content: Vec<String>,
    /// (snapshotter, key)
    pub snapshots: Vec<(String, String)>,
    pub ingests: Vec<String>,
    /// Images held by the lease (2.x).
    pub images: Vec<String>,
}

pub struct ImageRecord {
    pub name: String,
    /// The target digest; `None` when the record has no target.
    pub target: Option<String>,
    pub target_size: i64,
    pub labels: GcLabels,
}

pub struct ContainerRecord {
    pub id: String,
    pub image: String,
    pub snapshotter: String,
    pub snapshot_key: String,
    pub labels: GcLabels,
}

pub struct SnapshotRecord {
    /// The name of the snapshotter bucket the record is in.
    pub snapshotter: String,
    pub key: String,
    /// The key in the snapshotter's own metadata.db.
    pub backend_name: Option<String>,
    /// Parent key in the same namespace and snapshotter; `None` when absent or empty.
    pub parent: Option<String>,
    pub labels: GcLabels,
}

pub struct SandboxRecord {
    pub id: String,
    pub labels: GcLabels,
}

/// A snapshotter directory `io.containerd.snapshotter.v1.<name>`.
pub struct Snapshotter {
    pub name: String,
    pub backend: Backend,
    /// Entries of `snapshots/` in name order; `None` when there is no such directory.
    pub dirs: Option<Vec<SnapshotDir>>,
}

/// The snapshotter's own metadata.db.
pub enum Backend {
    /// No metadata.db: containerd creates an empty one when the plugin loads.
    Missing,
    /// It exists but cannot be read: the plugin would not load. `said`: the system refused
    /// the read (permissions, an I/O error) and the damage says so already (exit 4).
    Unreadable {
        why: String,
        said: bool,
    },
    Records(Vec<BackendSnapshot>),
}

/// An entry of `snapshots/`: normally a directory named by a snapshot id.
#[derive(Clone, Debug)]
pub struct SnapshotDir {
    pub name: String,
    pub kind: FileKind,
}

impl Store {
    /// Reads everything once. Damage is collected in `damage`; reading goes on.
    pub fn load(root: &Root, choice: MetaChoice, mode: ReadMode) -> Result<Store, crate::bolt::BoltError> {
        Store::load_with(root, choice, mode, |_| ()).map(|(store, ())| store)
    }

    /// [`Store::load`], running `meanwhile` on the records as soon as they are decoded, while
    /// the blob files are still being listed. `meanwhile` sees the namespaces, the meta.db
    /// version, the ingest directories, the snapshotters and the damage so far, but not the
    /// blob listing (it is `Missing` until then); when memory is tight it waits for the
    /// listing to end. At 20,000 images the listing of 186,000 files
    /// ends 130 ms after the records; the collector's graph is built in that time.
    pub fn load_with<T>(
        root: &Root,
        choice: MetaChoice,
        mode: ReadMode,
        meanwhile: impl FnOnce(&mut Store) -> T,
    ) -> Result<(Store, T), crate::bolt::BoltError> {
        let tx = root.view(choice)?;
        let mut damage = Damage::new();
        // Pages the view counts as its own are missing, or bbolt could not open the file, even
        // when every record is readable: as `verify` says it.
        for e in crate::bolt::check::view_damage(&tx) {
            damage.push(e);
        }
        let db_version = records::schema_version(&tx).unwrap_or_else(|e| {
            damage.push(e);
            None
        });
        // The blob files are listed and stat'ed on a thread of their own while the records
        // are decoded here: the two were a quarter of du's time each, one after the other.
        // When memory is tight the listing is finished first, and the records read after it:
        // at once, the listing's directory and inode blocks and the records' read ahead
        // evicted each other's pages before use in some runs (gc in 64 MiB: 4 of 9 runs read
        // 577-949 MB in 35,000-60,000 requests, not 280 MB in ~5,000), and the two at once
        // peak 14 MB higher (du, 20,000 images), memory a 64 MiB cgroup needs for page cache.
        let tight = tx.db().reads_frugally();
        let (store, found) = std::thread::scope(|scope| {
            let mut listing = Some(crate::pipeline::spawn_scoped(scope, || match root.content_problem() {
                Some(why) => BlobTree::Refused(why.to_string()),
                None => root.blob_tree(blobs::Detail::Stat),
            }));
            let join = |listing: Option<crate::pipeline::Spawned<'_, BlobTree>>| {
                listing
                    .and_then(|l| l.join().ok())
                    .unwrap_or_else(|| BlobTree::Unreadable("the blob listing stopped".into()))
            };
            let listed = tight.then(|| join(listing.take()));
            let found = records::namespace_buckets(&tx, &mut damage);
            let namespaces = if tight {
                namespaces_by_page(&tx, found, &mut damage)
            } else {
                found
                    .into_iter()
                    .map(|(name, b)| namespace(name, &b, &mut damage))
                    .collect()
            };
            let content = root.content_dir().to_path_buf();
            let (ingest_dirs, ingest_strays) = ingest_listing(root, &content, &mut damage);
            let snapshotters = snapshotters(root, mode, &mut damage);
            let mut store = Store {
                dir: root.dir.clone(),
                db_version,
                namespaces,
                // Not listed yet (`meanwhile` must not read it): replaced below.
                blobs: BlobTree::Missing,
                ingest_dirs,
                ingest_strays,
                snapshotters,
                damage,
            };
            say_parents_without_records(&mut store);
            let found = meanwhile(&mut store);
            store.blobs = listed.unwrap_or_else(|| join(listing.take()));
            // An algorithm's directory that would not list: which blobs are there is not
            // known (exit 4), and none is called missing (sweep 25).
            if let Some(why) = store.blobs.unlisted_algorithm() {
                store.damage.push(crate::damage::Note::refused(why));
            }
            (store, found)
        });
        Ok((store, found))
    }

    /// Drops the content records' labels: only the graph reads them, so once it is built
    /// (`collect`) they are 4 MB of a big node's heap that nothing uses.
    pub fn forget_content_labels(&mut self) {
        for ns in &mut self.namespaces {
            for c in &mut ns.content {
                c.labels = PackedLabels::default();
            }
        }
    }

    pub fn snapshotter(&self, name: &str) -> Option<&Snapshotter> {
        self.snapshotters.iter().find(|s| s.name == name)
    }
}

/// Snapshot records whose parent no record has: the chain is broken, said as `snapshots` says
/// it (a resweep of sweep 30: gc and du exit 0). A backend key the snapshotter has no record of
/// is not said here: stores made through containerd's metadata packages with another
/// snapshotter (tests/data/gc-scenario) hold such records, and its collection is what gc models.
fn say_parents_without_records(store: &mut Store) {
    let mut said = Vec::new();
    for ns in &store.namespaces {
        let links = ns
            .snapshots
            .iter()
            .map(|s| (s.snapshotter.as_str(), s.key.as_str(), s.parent.as_deref()));
        for (sn, key, parent) in records::snapshot_parents_without_records(links) {
            said.push(records::snapshot_parent_message(&ns.name, key, sn, parent));
        }
    }
    for note in said {
        store.damage.push(note);
    }
}

/// Only the labels the collector reads: `containerd.io/gc.*`.
fn gc_labels(b: &Bucket<'_>, damage: &mut Damage) -> GcLabels {
    records::labels_with_prefix(b, GC_LABEL_PREFIX, damage)
}

/// A string value; a read error is recorded as damage.
fn text(b: &Bucket<'_>, key: &[u8], damage: &mut Damage) -> Option<String> {
    match b.get(key) {
        Ok(v) => v.map(records::string),
        Err(e) => {
            damage.push(e);
            None
        }
    }
}

fn gc_only(labels: std::collections::BTreeMap<String, String>) -> GcLabels {
    labels
        .into_iter()
        .filter(|(k, _)| k.starts_with(GC_LABEL_PREFIX))
        .collect()
}

/// One namespace's records, each bucket in key order.
fn namespace(name: String, b: &Bucket<'_>, damage: &mut Damage) -> Namespace {
    let leases = leases(&name, b, damage);
    let containers = containers(&name, b, damage);
    Namespace {
        content: content(&name, b, damage),
        images: images(&name, b, damage),
        snapshots: snapshots(b, damage),
        ingests: ingests(&name, b, damage),
        sandboxes: sandboxes(b, damage),
        name,
        leases,
        containers,
    }
}

/// `content/blob/<digest>`: the size and the gc labels (the bulk of a node's records, so
/// read without the times and other labels the listings decode).
fn content(ns: &str, b: &Bucket<'_>, damage: &mut Damage) -> Vec<ContentRecord> {
    let mut out = Vec::new();
    records::content_sizes_each(ns, b, GC_LABEL_PREFIX, damage, |c| out.push(content_record(c)));
    out.shrink_to_fit();
    out
}

fn content_record(c: records::ContentSize) -> ContentRecord {
    ContentRecord {
        digest: crate::digest::PackedDigest::new(c.digest),
        size: c.size,
        labels: PackedLabels::pack(&c.labels),
    }
}

/// `images/<name>`: the target digest and size, and the gc labels.
fn images(ns: &str, b: &Bucket<'_>, damage: &mut Damage) -> Vec<ImageRecord> {
    records::image_targets_in(ns, b, GC_LABEL_PREFIX, damage)
        .into_iter()
        .map(image_record)
        .collect()
}

fn image_record(i: records::ImageTarget) -> ImageRecord {
    ImageRecord {
        target: i.target.digest,
        target_size: i.target.size,
        labels: i.labels,
        name: i.name,
    }
}

/// Every namespace's records when memory is tight: the content and image records, the bulk
/// of a node's, of all namespaces at once in file order (see `containerd/file_order.rs`);
/// the damage in the order [`namespace`] meets it, one namespace after another. Which of two
/// records that claim one page is the damaged one can differ from [`namespace`]'s: the
/// record roots are claimed first, all of them, and the pages below them in file order.
fn namespaces_by_page<'a>(tx: &Tx<'a>, found: Vec<(String, Bucket<'a>)>, damage: &mut Damage) -> Vec<Namespace> {
    // Two jobs per namespace: its content records, then its image records.
    let mut pending = Vec::with_capacity(found.len() * 2);
    for (_, b) in &found {
        let mut d = Damage::new();
        let blobs = records::content_blob_bucket(b, &mut d);
        pending.push(listed(blobs, "content/blob", d));
        let mut d = Damage::new();
        let images = records::images_bucket(b, &mut d);
        pending.push(listed(images, "images", d));
    }
    fn slots<T>(p: Option<&Pending<'_>>) -> Vec<Option<T>> {
        std::iter::repeat_with(|| None)
            .take(p.map_or(0, Pending::len))
            .collect()
    }
    let mut content: Vec<Vec<Option<ContentRecord>>> = (0..found.len()).map(|n| slots(pending.get(2 * n))).collect();
    let mut images: Vec<Vec<Option<ImageRecord>>> = (0..found.len()).map(|n| slots(pending.get(2 * n + 1))).collect();
    let record_damage = file_order::read(tx, &mut pending, |job, index, key, b, d| {
        let Some((ns, _)) = found.get(job / 2) else { return };
        if job % 2 == 0 {
            if let Some(slot) = content.get_mut(job / 2).and_then(|c| c.get_mut(index)) {
                *slot = records::content_size_record(ns, key, b, GC_LABEL_PREFIX, d).map(content_record);
            }
        } else if let Some(slot) = images.get_mut(job / 2).and_then(|i| i.get_mut(index)) {
            *slot = Some(image_record(records::image_target_record(
                ns,
                key,
                b,
                GC_LABEL_PREFIX,
                d,
            )));
        }
    });
    let mut listings = pending.into_iter().map(|p| p.damage).zip(record_damage);
    found
        .into_iter()
        .zip(content.into_iter().zip(images))
        .map(|((name, b), (content, images))| {
            let (content_listed, content_records) = listings.next().unwrap_or_default();
            let (images_listed, image_records) = listings.next().unwrap_or_default();
            let leases = leases(&name, &b, damage);
            let containers = containers(&name, &b, damage);
            damage.extend(content_listed);
            damage.extend(content_records);
            let mut content: Vec<ContentRecord> = content.into_iter().flatten().collect();
            content.shrink_to_fit();
            damage.extend(images_listed);
            damage.extend(image_records);
            Namespace {
                content,
                images: images.into_iter().flatten().collect(),
                snapshots: snapshots(&b, damage),
                ingests: ingests(&name, &b, damage),
                sandboxes: sandboxes(&b, damage),
                name,
                leases,
                containers,
            }
        })
        .collect()
}

/// The nested buckets of `b`, if there is one, after the damage met finding it.
fn listed<'a>(b: Option<Bucket<'a>>, what: &str, mut found: Damage) -> Pending<'a> {
    let mut p = b.map_or_else(Pending::default, |b| Pending::list(&b, what));
    found.extend(std::mem::take(&mut p.damage));
    p.damage = found;
    p
}

fn leases(name: &str, b: &Bucket<'_>, damage: &mut Damage) -> Vec<LeaseRecord> {
    records::leases_in(name, b, damage)
        .into_iter()
        .map(|l| LeaseRecord {
            expire: l.labels.get("containerd.io/gc.expire").cloned(),
            flat: l.labels.contains_key("containerd.io/gc.flat"),
            id: l.id,
            content: l.content,
            snapshots: l.snapshots,
            ingests: l.ingests,
            images: l.images,
        })
        .collect()
}

fn containers(name: &str, b: &Bucket<'_>, damage: &mut Damage) -> Vec<ContainerRecord> {
    let bucket = b.bucket(b"containers").ok().flatten();
    records::containers_in(name, b, damage)
        .into_iter()
        .map(|c| {
            // The gc labels read again as every other record's are (`labels_with_prefix`: the
            // values as keys are read, so a gc.ref naming an odd key meets it); what reading
            // them meets was said by `containers_in` already.
            let record = bucket
                .as_ref()
                .and_then(|cb| cb.bucket(&records::key_bytes(&c.id)).ok().flatten());
            let labels = match record {
                Some(r) => records::labels_with_prefix(&r, GC_LABEL_PREFIX, &mut Damage::new()),
                None => gc_only(c.labels),
            };
            ContainerRecord {
                id: c.id,
                image: c.image,
                snapshotter: c.snapshotter,
                snapshot_key: c.snapshot_key,
                labels,
            }
        })
        .collect()
}

/// `snapshots/<snapshotter>/<key>`: backend name, parent, gc labels.
fn snapshots(b: &Bucket<'_>, damage: &mut Damage) -> Vec<SnapshotRecord> {
    records::snapshot_links_in(b, GC_LABEL_PREFIX, damage)
        .into_iter()
        .map(|l| SnapshotRecord {
            snapshotter: l.snapshotter,
            key: l.key,
            backend_name: l.backend_name,
            parent: l.parent,
            labels: l.labels,
        })
        .collect()
}

/// `content/ingests/<ref>`: read here rather than through the listings' reader because the
/// collector tells a missing `expireat` from an unreadable one.
fn ingests(ns: &str, b: &Bucket<'_>, damage: &mut Damage) -> Vec<IngestRecord> {
    let bucket = match b.bucket_at(&[b"content".as_slice(), b"ingests"]) {
        Ok(Some(i)) => i,
        Ok(None) => return Vec::new(),
        Err(e) => {
            damage.push(e);
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (key, ib) in records::sub_buckets(&bucket, "content/ingests", damage) {
        let backend_ref = text(&ib, b"ref", damage);
        let expected = text(&ib, b"expected", damage).filter(|e| !e.is_empty());
        let expire_at = match ib.get(b"expireat") {
            Ok(None) => Expiry::Never,
            Ok(Some(v)) => match GoTime::decode_instant(v) {
                Ok(at) => Expiry::At(
                    at,
                    GoTime::decode(v)
                        .map(|t| t.rfc3339_nano())
                        .unwrap_or_else(|_| format!("{at}ns")),
                ),
                Err(e) => {
                    damage.push(format!("namespace {ns}: ingest \"{key}\": expireat: {e}"));
                    Expiry::Invalid(e.to_string())
                }
            },
            Err(e) => {
                let why = e.to_string();
                damage.push(e);
                Expiry::Invalid(why)
            }
        };
        out.push(IngestRecord {
            key,
            backend_ref,
            expected,
            expire_at,
        });
    }
    out
}

/// `sandboxes/<id>/labels` (1.7 experimental, 2.x): their gc.ref labels are roots.
fn sandboxes(b: &Bucket<'_>, damage: &mut Damage) -> Vec<SandboxRecord> {
    let bucket = match b.bucket(b"sandboxes") {
        Ok(Some(s)) => s,
        Ok(None) => return Vec::new(),
        Err(e) => {
            damage.push(e);
            return Vec::new();
        }
    };
    records::sub_buckets(&bucket, "sandboxes", damage)
        .into_iter()
        .map(|(id, sb)| SandboxRecord {
            labels: gc_labels(&sb, damage),
            id,
        })
        .collect()
}

fn ingest_listing(root: &Root, content: &Path, damage: &mut Damage) -> (Vec<IngestDir>, Vec<String>) {
    // An archive has no ingest directory to list (its path is the archive file).
    if root.content_problem().is_some() || root.archive.is_some() {
        return (Vec::new(), Vec::new());
    }
    let dirs = match blobs::ingests(root) {
        Ok(d) => d,
        Err(e) => {
            // Nothing more is read from it (a symlink is not followed: damage; an OS error:
            // unreadable).
            damage.push(crate::damage::Note::io(&content.join("ingest"), &e));
            return (Vec::new(), Vec::new());
        }
    };
    let mut strays = Vec::new();
    if let Ok(entries) = crate::noatime::read_dir_no_follow(&content.join("ingest")) {
        for e in entries.flatten() {
            if !e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                strays.push(format!("ingest/{}", e.file_name().to_string_lossy()));
            }
        }
    }
    strays.sort();
    (dirs, strays)
}

/// Every `io.containerd.snapshotter.v1.<name>` directory (a symlink is not entered).
fn snapshotters(root: &Root, mode: ReadMode, damage: &mut Damage) -> Vec<Snapshotter> {
    const PREFIX: &str = "io.containerd.snapshotter.v1.";
    // An archive holds no snapshotter (its path is the archive file, no directory).
    if root.archive.is_some() {
        return Vec::new();
    }
    let mut names: Vec<String> = match crate::noatime::read_dir(&root.dir) {
        Ok(entries) => entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_str()?.strip_prefix(PREFIX)?.to_string();
                match e.file_type() {
                    Ok(t) if t.is_dir() => Some(name).filter(|n| !n.is_empty()),
                    // A snapshotter whose directory is a link: its snapshots are not read, and
                    // that is said (as every other command says it). A file is no snapshotter.
                    Ok(t) if t.is_symlink() => {
                        damage.push(format!("{}: {}, not followed", e.path().display(), t.words()));
                        None
                    }
                    Ok(_) | Err(_) => None,
                }
            })
            .collect(),
        Err(e) => {
            damage.push(crate::damage::Note::io(&root.dir, &e));
            Vec::new()
        }
    };
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let dir = root.dir.join(format!("{PREFIX}{name}"));
            // A link or a file of the wrong kind is named by the look every command makes.
            let backend = match root.snapshotter_db(&name, mode) {
                None => Backend::Missing,
                // Permissions or an I/O error: said, and the command exits 4.
                Some(Err(e)) => {
                    let note = crate::damage::Note::from(e);
                    let (why, said) = (note.message.clone(), note.unreadable);
                    if said {
                        damage.push(note);
                    }
                    Backend::Unreadable { why, said }
                }
                Some(Ok(db)) => match db.view(MetaChoice::Current) {
                    Ok(tx) => {
                        for e in crate::bolt::check::view_damage(&tx) {
                            damage.push(e);
                        }
                        // Two records with one id share one directory: the collector
                        // would remove a live snapshot's files with a dead one's.
                        let all = records::checked_backend_snapshots(&tx, &name, damage);
                        // A loop: no chain through it is a real one (du's unpacked sizes).
                        records::say_parent_loops(&tx, &name, &all, damage);
                        Backend::Records(all)
                    }
                    Err(e) => Backend::Unreadable {
                        why: e.to_string(),
                        said: false,
                    },
                },
            };
            let dirs = snapshot_dirs(&dir.join("snapshots"), damage);
            Snapshotter { name, backend, dirs }
        })
        .collect()
}

fn snapshot_dirs(dir: &Path, damage: &mut Damage) -> Option<Vec<SnapshotDir>> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            damage.push(format!("{}: not a directory; not entered", dir.display()));
            return None;
        }
        Err(_) => return None,
    }
    let listed =
        crate::noatime::read_dir_no_follow(dir).and_then(|entries| entries.collect::<std::io::Result<Vec<_>>>());
    match listed {
        Ok(mut entries) => {
            use std::os::unix::ffi::OsStrExt;
            // Byte order of the names, as containerd walks them; `file_type` never follows.
            entries.sort_by(|a, b| a.file_name().as_bytes().cmp(b.file_name().as_bytes()));
            Some(
                entries
                    .into_iter()
                    .map(|e| SnapshotDir {
                        kind: e.file_type().map_or(FileKind::Other, FileKind::from),
                        name: records::key_name(e.file_name().as_bytes()),
                    })
                    .collect(),
            )
        }
        Err(e) => {
            damage.push(crate::damage::Note::io(dir, &e));
            None
        }
    }
}
