//! `coldctr du`: where a containerd root's disk goes, from the same in-memory graph as `gc`.
//!
//! Content is attributed to the first of these that holds it (so the parts add up to the
//! whole and none is negative): images, leases, other roots (containers, `gc.root` labels,
//! live ingests, sandboxes), nothing (what `gc` deletes). Blob files are shared between
//! namespaces: for the whole disk a file is held by the strongest holder over every namespace
//! that records its digest; a file no namespace records is an orphan.
//!
//! Per image (the image records of a namespace that share one target, as Docker's image ID
//! groups its names): total bytes reachable from it, bytes shared with another image (any
//! namespace), and bytes unique to it: what `gc` would free if only this image were deleted
//! (nothing else holds them: no other image, lease, container or root, in any namespace).

use crate::containerd::blobs::FileKind;
use crate::containerd::records::BackendSnapshot;
use crate::gc::Collection;
use crate::gc::graph::{Cause, Edge, Kind, Walk};
use crate::gc::state::{Backend, BlobTree, Expiry, Store};
use crate::tree_usage::disk_usage;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A file directly under `blobs/<algorithm>/` whose name is a digest.
#[derive(Clone, Debug)]
pub struct DiskBlob {
    pub digest: String,
    pub path: String,
    pub kind: FileKind,
    pub size: u64,
    pub allocated: u64,
    pub inode: (u64, u64),
}

/// Every entry of `blobs/<sha256|sha384|sha512>/` named by a valid digest, in name order.
pub fn blob_files(tree: &BlobTree) -> Vec<DiskBlob> {
    tree.files()
        .into_iter()
        .filter_map(|f| {
            let e = f.entry;
            f.digest.map(|d| DiskBlob {
                digest: d.to_string(),
                path: e.path.clone(),
                kind: e.kind,
                size: if e.kind == FileKind::Regular { e.size } else { 0 },
                allocated: e.allocated,
                inode: e.inode,
            })
        })
        .collect()
}

/// Who holds a record, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Holder {
    Images,
    Leases,
    Other,
    Nothing,
}

/// A count and its bytes.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Amount {
    pub count: u64,
    pub bytes: u64,
}

impl Amount {
    fn add(&mut self, bytes: u64) {
        self.count += 1;
        self.bytes = self.bytes.saturating_add(bytes);
    }
}

/// Content split by holder; the four parts add up to the whole.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Held {
    pub images: Amount,
    pub leases: Amount,
    pub other: Amount,
    pub nothing: Amount,
}

impl Held {
    fn add(&mut self, h: Holder, bytes: u64) {
        match h {
            Holder::Images => self.images.add(bytes),
            Holder::Leases => self.leases.add(bytes),
            Holder::Other => self.other.add(bytes),
            Holder::Nothing => self.nothing.add(bytes),
        }
    }
}

#[derive(Serialize)]
pub struct UsageReport {
    pub definitions: BTreeMap<&'static str, &'static str>,
    pub model: &'static str,
    /// The clock gc's lease and ingest expiries were compared with.
    pub clock: String,
    pub disk: Disk,
    pub namespaces: Vec<NamespaceUsage>,
    pub images: Vec<ImageUsage>,
    /// Damage met reading the records (file, page, offset where known).
    pub damage: Vec<crate::damage::Note>,
}

#[derive(Default, Serialize)]
pub struct Disk {
    /// Every entry of blobs/<algorithm>/ named by a digest (apparent and allocated bytes).
    #[serde(rename = "blobFiles")]
    pub blob_files: Amount,
    #[serde(rename = "blobFileAllocated")]
    pub blob_file_allocated: u64,
    /// Distinct digests recorded by any namespace, sized by their records.
    #[serde(rename = "recordedDigests")]
    pub recorded_digests: Amount,
    /// Recorded digests by their strongest holder over all namespaces (record sizes).
    #[serde(rename = "recordedHeld")]
    pub recorded_held: Held,
    /// Blob files by their strongest holder over all namespaces (file sizes).
    pub held: Held,
    /// Blob files no namespace records.
    #[serde(rename = "orphanFiles")]
    pub orphan_files: Amount,
    /// Recorded digests without a regular file (sized by their records).
    #[serde(rename = "missingFiles")]
    pub missing_files: Amount,
    /// Why the blob files were not listed (then nothing is counted as missing or orphaned).
    #[serde(rename = "blobFilesNotListed", skip_serializing_if = "Option::is_none")]
    pub blob_files_not_listed: Option<String>,
    /// The recorded digests with no file at all (the ones in `notRegular` have something else
    /// at their path), in digest order.
    #[serde(rename = "missingDigests")]
    pub missing_digests: Vec<String>,
    /// Recorded digests whose path is a symlink, directory or other non-file: never followed.
    #[serde(rename = "notRegular")]
    pub not_regular: Vec<String>,
    /// Recorded digests whose file size differs from the record.
    #[serde(rename = "sizeMismatch")]
    pub size_mismatch: Vec<SizeMismatch>,
    /// Ingest directories (partial writes) and the bytes they hold.
    #[serde(rename = "ingestDirs")]
    pub ingest_dirs: Amount,
    /// Ingest directories no ingest record names.
    #[serde(rename = "orphanIngestDirs")]
    pub orphan_ingest_dirs: Amount,
    pub snapshots: SnapshotDisk,
}

#[derive(Serialize)]
pub struct SizeMismatch {
    pub digest: String,
    pub recorded: i64,
    pub file: u64,
}

#[derive(Default, Serialize)]
pub struct SnapshotDisk {
    /// Committed backend snapshots and their recorded usage (metadata.db `size`).
    pub committed: Amount,
    /// Active and view snapshots; bytes only with --scan (measured from their directories).
    pub active: Amount,
    #[serde(rename = "activeMeasured")]
    pub active_measured: bool,
    /// Entries of snapshots/ that are no backend snapshot's id (bytes only with --scan).
    #[serde(rename = "orphanDirs")]
    pub orphan_dirs: Amount,
}

#[derive(Default, Serialize)]
pub struct NamespaceUsage {
    pub namespace: String,
    /// Content records and their recorded sizes.
    pub content: Amount,
    pub held: Held,
    #[serde(rename = "missingFiles")]
    pub missing_files: Vec<String>,
    /// Digests reference labels reachable from images name but this namespace has no record of.
    #[serde(rename = "danglingReferences")]
    pub dangling_references: Vec<String>,
    pub ingests: Vec<IngestUsage>,
    #[serde(rename = "ingestBytes")]
    pub ingest_bytes: u64,
    /// meta.db snapshot records, with the usage of their backend snapshots.
    pub snapshots: SnapshotUsage,
}

#[derive(Default, Serialize)]
pub struct SnapshotUsage {
    pub records: u64,
    /// Records held by images, leases, other roots (containers...), nothing; bytes = committed
    /// usage (plus measured active usage with --scan).
    pub held: Held,
    /// Records whose backend snapshot is not in the snapshotter's metadata.db.
    #[serde(rename = "withoutBackend")]
    pub without_backend: u64,
}

#[derive(Serialize)]
pub struct IngestUsage {
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(rename = "expireAt")]
    pub expire_at: Option<String>,
    /// `ingest/<sha256 of the backend ref>` when it exists.
    pub dir: Option<String>,
    #[serde(rename = "partialBytes")]
    pub partial_bytes: u64,
    pub total: Option<u64>,
    /// gc removes the record (expired, or no expiry and no lease).
    pub collectible: bool,
}

#[derive(Serialize)]
pub struct ImageUsage {
    pub namespace: String,
    pub target: Option<String>,
    pub names: Vec<String>,
    pub content: Split,
    pub snapshots: Split,
}

/// An image's bytes: total reachable, shared with another image, unique to it.
#[derive(Clone, Copy, Default, Serialize)]
pub struct Split {
    pub total: Amount,
    pub shared: Amount,
    pub unique: Amount,
}

pub const DEFINITIONS: [(&str, &str); 13] = [
    (
        "damage",
        "damage met while reading the records (file, page and offset where known): what it hid is missing from these figures",
    ),
    (
        "content",
        "content records of a namespace; bytes = the records' sizes (equal to the files' sizes on an intact store)",
    ),
    (
        "held",
        "records (or, under disk, blob files) by their strongest holder: images (reachable from an image record through its target and containerd.io/gc.ref.* labels), leases (else reachable from a lease that has not expired), other (else from a container, a containerd.io/gc.root label, a live ingest or a sandbox), nothing (else: what gc removes); the four add up to the whole",
    ),
    (
        "disk.held",
        "blob files by the strongest holder of their digest over every namespace that records it; file sizes (disk.recordedHeld: the same for distinct recorded digests, record sizes)",
    ),
    (
        "orphanFiles",
        "blob files whose digest no namespace records: gc deletes them only in a collection that removes a content or ingest record",
    ),
    (
        "missingFiles",
        "recorded digests with no regular file at blobs/<algorithm>/<hex> (a symlink there is reported under notRegular and never followed)",
    ),
    (
        "danglingReferences",
        "digests that gc reference labels reachable from images name, with no record in the namespace (e.g. other platforms' manifests never pulled)",
    ),
    (
        "ingests",
        "partial writes: each ingest record with the bytes in its directory's data file; collectible = gc removes it now",
    ),
    (
        "snapshots",
        "meta.db snapshot records; bytes = their backend snapshot's recorded usage (committed: st_blocks*512 over unique inodes at commit), active ones measured from their directories with --scan",
    ),
    (
        "images",
        "image records of a namespace grouped by target digest (one image, several names)",
    ),
    (
        "images.total",
        "content records (snapshots) reachable from the image through gc edges",
    ),
    (
        "images.shared",
        "the part of total that another image (any namespace) also reaches",
    ),
    (
        "images.unique",
        "the part of total nothing else holds (no other image, lease, container or gc root, in any namespace): what gc frees if only this image were deleted",
    ),
];

fn ubytes(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Measures the snapshot directory a backend snapshot's usage is measured from.
fn measure_active(store: &Store, snapshotter: &str, id: Option<u64>) -> u64 {
    let Some(id) = id else { return 0 };
    let dir = store
        .dir
        .join(format!("io.containerd.snapshotter.v1.{snapshotter}"))
        .join("snapshots")
        .join(id.to_string());
    // A snapshot directory that is a symlink points out of the root: not measured.
    if !std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
        return 0;
    }
    // overlayfs measures the upper directory; the others their snapshot directory.
    let target = if snapshotter == "overlayfs" {
        dir.join("fs")
    } else {
        dir
    };
    disk_usage(&target).map_or(0, |u| u.bytes)
}

/// Computes the report. `scan`: measure active snapshots and orphan snapshot dirs.
pub fn compute(store: &Store, c: &Collection, scan: bool) -> UsageReport {
    let g = &c.graph;
    let n = g.len();
    // Reach per holder class.
    let mut walk = Walk::default();
    let class_reach = |pred: &dyn Fn(&Cause) -> bool, walk: &mut Walk| -> Vec<bool> {
        let mut v = vec![false; n];
        g.reach(
            g.roots.iter().filter(|(cause, _)| pred(cause)).map(|(_, e)| *e),
            walk,
            |x| {
                if let Some(b) = v.get_mut(x as usize) {
                    *b = true;
                }
            },
        );
        v
    };
    let by_images = class_reach(&|c| matches!(c, Cause::Image(..)), &mut walk);
    let by_leases = class_reach(&|c| matches!(c, Cause::Lease(..)), &mut walk);
    let by_other = class_reach(&|c| !matches!(c, Cause::Image(..) | Cause::Lease(..)), &mut walk);
    let failed = g.failure.is_some();
    let holder = |node: u32| -> Holder {
        let i = node as usize;
        if by_images.get(i).copied().unwrap_or(false) {
            Holder::Images
        } else if by_leases.get(i).copied().unwrap_or(false) {
            Holder::Leases
        } else if failed || by_other.get(i).copied().unwrap_or(false) {
            Holder::Other
        } else {
            Holder::Nothing
        }
    };

    // Files on disk.
    let files = blob_files(&store.blobs);
    // Without a listing of the blob files, no recorded blob can be called missing.
    let listed = matches!(store.blobs, BlobTree::Entries(_));
    let file_of: HashMap<&str, &DiskBlob> = files.iter().map(|f| (f.digest.as_str(), f)).collect();
    let mut disk = Disk {
        blob_files_not_listed: match &store.blobs {
            BlobTree::Entries(_) => None,
            BlobTree::Missing => Some("no blobs directory".into()),
            BlobTree::NotADirectory(kind) => Some(format!("blobs is a {kind}, not a directory")),
            BlobTree::Unreadable(why) | BlobTree::Refused(why) => Some(why.clone()),
        },
        ..Disk::default()
    };
    let mut inodes = HashSet::new();
    for f in &files {
        disk.blob_files.add(f.size);
        if inodes.insert(f.inode) {
            disk.blob_file_allocated = disk.blob_file_allocated.saturating_add(f.allocated);
        }
    }

    // Per namespace, and each digest's strongest holder over all namespaces.
    let mut digest_holder: HashMap<&str, Holder> = HashMap::new();
    let mut digest_size: BTreeMap<&str, i64> = BTreeMap::new();
    let mut namespaces = Vec::new();
    let backends: HashMap<&str, HashMap<&str, &BackendSnapshot>> = store
        .snapshotters
        .iter()
        .filter_map(|s| match &s.backend {
            Backend::Records(r) => Some((s.name.as_str(), r.iter().map(|b| (b.key.as_str(), b)).collect())),
            _ => None,
        })
        .collect();
    let mut active_measured: HashMap<(String, String), u64> = HashMap::new();
    // Dangling references: content nodes images reach that no record answers.
    let mut dangling: HashMap<u32, Vec<String>> = HashMap::new();
    for i in 0..n {
        if by_images.get(i).copied().unwrap_or(false)
            && g.kinds.get(i) == Some(&Kind::Content)
            && !g.exists.get(i).copied().unwrap_or(true)
            && let (Some(ns), Some(key)) = (g.ns.get(i), g.keys.get(i))
        {
            dangling.entry(*ns).or_default().push(key.clone());
        }
    }
    for v in dangling.values_mut() {
        v.sort();
    }
    let ingest_dirs: HashMap<&str, &crate::containerd::blobs::IngestDir> =
        store.ingest_dirs.iter().map(|d| (d.dir.as_str(), d)).collect();
    for (nsi, ns) in store.namespaces.iter().enumerate() {
        let mut u = NamespaceUsage {
            namespace: ns.name.clone(),
            ..NamespaceUsage::default()
        };
        for (ci, rec) in ns.content.iter().enumerate() {
            let node = g.content.get(nsi).and_then(|v| v.get(ci)).copied().unwrap_or(0);
            let h = holder(node);
            let size = ubytes(rec.size);
            u.content.add(size);
            u.held.add(h, size);
            let e = digest_holder.entry(rec.digest.as_str()).or_insert(h);
            *e = (*e).min(h);
            digest_size.entry(rec.digest.as_str()).or_insert(rec.size);
            match file_of.get(rec.digest.as_str()) {
                Some(f) if f.kind == FileKind::Regular => {}
                _ if !listed => {}
                _ => u.missing_files.push(rec.digest.clone()),
            }
        }
        u.dangling_references = dangling.remove(&(nsi as u32)).unwrap_or_default();
        // Ingests.
        let removed: HashSet<usize> = c.ingests.iter().filter(|(n, _)| *n == nsi).map(|(_, i)| *i).collect();
        for (ii, i) in ns.ingests.iter().enumerate() {
            let dir = i.backend_ref.as_deref().and_then(|r| {
                let hex = crate::digest::Digest::sha256_of(r.as_bytes()).hex().to_string();
                ingest_dirs.get(hex.as_str()).copied()
            });
            let partial = dir.map_or(0, |d| d.size);
            u.ingest_bytes = u.ingest_bytes.saturating_add(partial);
            u.ingests.push(IngestUsage {
                reference: i.key.clone(),
                expire_at: match &i.expire_at {
                    Expiry::At(_, s) => Some(s.clone()),
                    _ => None,
                },
                dir: dir.map(|d| format!("ingest/{}", d.dir)),
                partial_bytes: partial,
                total: dir.and_then(|d| d.total),
                collectible: removed.contains(&ii),
            });
        }
        // Snapshots.
        for (si, s) in ns.snapshots.iter().enumerate() {
            u.snapshots.records += 1;
            let node = g.snapshots.get(nsi).and_then(|v| v.get(si)).copied().unwrap_or(0);
            let backend = s
                .backend_name
                .as_deref()
                .and_then(|b| backends.get(s.snapshotter.as_str())?.get(b).copied());
            let bytes = match backend {
                None => {
                    u.snapshots.without_backend += 1;
                    0
                }
                Some(b) if b.kind == "Committed" => ubytes(b.size.unwrap_or(0)),
                Some(b) if scan => *active_measured
                    .entry((s.snapshotter.clone(), b.key.clone()))
                    .or_insert_with(|| measure_active(store, &s.snapshotter, b.id)),
                Some(_) => 0,
            };
            u.snapshots.held.add(holder(node), bytes);
        }
        namespaces.push(u);
    }

    // The whole disk.
    for (d, size) in &digest_size {
        disk.recorded_digests.add(ubytes(*size));
        if let Some(h) = digest_holder.get(d) {
            disk.recorded_held.add(*h, ubytes(*size));
        }
        match file_of.get(d) {
            _ if !listed => {}
            Some(f) if f.kind == FileKind::Regular => {
                if i64::try_from(f.size).ok() != Some(*size) {
                    disk.size_mismatch.push(SizeMismatch {
                        digest: d.to_string(),
                        recorded: *size,
                        file: f.size,
                    });
                }
            }
            Some(_) => {
                disk.not_regular.push(d.to_string());
                disk.missing_files.add(ubytes(*size));
            }
            None => {
                disk.missing_files.add(ubytes(*size));
                disk.missing_digests.push(d.to_string());
            }
        }
    }
    for f in &files {
        match digest_holder.get(f.digest.as_str()) {
            Some(h) => disk.held.add(*h, f.size),
            None => disk.orphan_files.add(f.size),
        }
    }
    let named_refs: HashSet<&str> = store
        .namespaces
        .iter()
        .flat_map(|n| n.ingests.iter().filter_map(|i| i.backend_ref.as_deref()))
        .collect();
    let named_dirs: HashSet<String> = named_refs
        .iter()
        .map(|r| crate::digest::Digest::sha256_of(r.as_bytes()).hex().to_string())
        .collect();
    for d in &store.ingest_dirs {
        disk.ingest_dirs.add(d.size);
        if !named_dirs.contains(&d.dir) {
            disk.orphan_ingest_dirs.add(d.size);
        }
    }
    disk.snapshots.active_measured = scan;
    for sn in &store.snapshotters {
        let Backend::Records(records) = &sn.backend else {
            continue;
        };
        let ids: HashSet<String> = records.iter().map(|r| r.id.unwrap_or(0).to_string()).collect();
        for r in records {
            if r.kind == "Committed" {
                disk.snapshots.committed.add(ubytes(r.size.unwrap_or(0)));
            } else {
                let bytes = if scan {
                    *active_measured
                        .entry((sn.name.clone(), r.key.clone()))
                        .or_insert_with(|| measure_active(store, &sn.name, r.id))
                } else {
                    0
                };
                disk.snapshots.active.add(bytes);
            }
        }
        for d in sn.dirs.as_deref().unwrap_or(&[]) {
            if !ids.contains(&d.name) {
                let bytes = if scan {
                    let p = store
                        .dir
                        .join(format!("io.containerd.snapshotter.v1.{}", sn.name))
                        .join("snapshots")
                        .join(&d.name);
                    disk_usage(&p).map_or(0, |u| u.bytes)
                } else {
                    0
                };
                disk.snapshots.orphan_dirs.add(bytes);
            }
        }
    }

    let images = image_usage(store, c, &by_leases, &by_other, &backends, &mut walk);
    UsageReport {
        definitions: DEFINITIONS.into_iter().collect(),
        model: c.model.describe(),
        clock: crate::gc::report::time(c.clock.now),
        disk,
        namespaces,
        images,
        damage: store.damage.distinct().into_iter().cloned().collect(),
    }
}

/// Per image group: total, shared and unique content and snapshot bytes.
fn image_usage(
    store: &Store,
    c: &Collection,
    by_leases: &[bool],
    by_other: &[bool],
    backends: &HashMap<&str, HashMap<&str, &BackendSnapshot>>,
    walk: &mut Walk,
) -> Vec<ImageUsage> {
    let g = &c.graph;
    // Identity of what a node stands for across namespaces: a content digest, or a backend
    // snapshot; with its size.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum What {
        Content,
        Snapshot,
    }
    let mut ident: HashMap<String, u32> = HashMap::new();
    let mut ident_size: Vec<u64> = Vec::new();
    let mut node_ident: Vec<Option<(What, u32)>> = vec![None; g.len()];
    let mut intern = |key: String, size: u64| -> u32 {
        let next = ident.len() as u32;
        let id = *ident.entry(key).or_insert(next);
        if id == next {
            ident_size.push(size);
        }
        id
    };
    for (nsi, ns) in store.namespaces.iter().enumerate() {
        for (ci, rec) in ns.content.iter().enumerate() {
            if let Some(&node) = g.content.get(nsi).and_then(|v| v.get(ci)) {
                let id = intern(format!("c {}", rec.digest), ubytes(rec.size));
                if let Some(slot) = node_ident.get_mut(node as usize) {
                    *slot = Some((What::Content, id));
                }
            }
        }
        for (si, s) in ns.snapshots.iter().enumerate() {
            let Some(&node) = g.snapshots.get(nsi).and_then(|v| v.get(si)) else {
                continue;
            };
            if !g.exists.get(node as usize).copied().unwrap_or(false) {
                continue;
            }
            let backend = s
                .backend_name
                .as_deref()
                .and_then(|b| backends.get(s.snapshotter.as_str())?.get(b).copied());
            let size = backend
                .filter(|b| b.kind == "Committed")
                .map_or(0, |b| ubytes(b.size.unwrap_or(0)));
            let key = match &s.backend_name {
                Some(b) => format!("s {}\0{b}", s.snapshotter),
                None => format!("n {nsi}\0{}\0{}", s.snapshotter, s.key),
            };
            let id = intern(key, size);
            if let Some(slot) = node_ident.get_mut(node as usize) {
                *slot = Some((What::Snapshot, id));
            }
        }
    }
    // Held by something other than images, anywhere.
    let mut other_held = vec![false; ident_size.len()];
    for (node, slot) in node_ident.iter().enumerate() {
        if let Some((_, id)) = slot
            && (by_leases.get(node).copied().unwrap_or(false) || by_other.get(node).copied().unwrap_or(false))
            && let Some(o) = other_held.get_mut(*id as usize)
        {
            *o = true;
        }
    }
    // Groups: (namespace, target) -> image indexes.
    // (namespace, target, name when there is no target) -> image indexes.
    type GroupKey<'a> = (usize, Option<&'a str>, Option<&'a str>);
    let mut groups: BTreeMap<GroupKey<'_>, Vec<usize>> = BTreeMap::new();
    for (nsi, ns) in store.namespaces.iter().enumerate() {
        for (ii, img) in ns.images.iter().enumerate() {
            // An image without a target is its own group.
            let key = match &img.target {
                Some(t) => (nsi, Some(t.as_str()), None),
                None => (nsi, None, Some(img.name.as_str())),
            };
            groups.entry(key).or_default().push(ii);
        }
    }
    // Roots of each group: its image records' nodes, when they are roots (2.x: not expired).
    let roots: HashMap<(u32, u32), Edge> = g
        .roots
        .iter()
        .filter_map(|(cause, e)| match cause {
            Cause::Image(n, i) => Some(((*n, *i), *e)),
            _ => None,
        })
        .collect();
    let mut reached: Vec<Vec<u32>> = Vec::with_capacity(groups.len());
    let mut groups_of: Vec<u8> = vec![0; ident_size.len()];
    for ((nsi, _, _), members) in &groups {
        let starts: Vec<Edge> = members
            .iter()
            .filter_map(|&ii| roots.get(&(*nsi as u32, ii as u32)).copied())
            .collect();
        let mut ids = Vec::new();
        g.reach(starts, walk, |node| {
            if let Some(Some((_, id))) = node_ident.get(node as usize) {
                ids.push(*id);
            }
        });
        ids.sort_unstable();
        ids.dedup();
        for &id in &ids {
            if let Some(c) = groups_of.get_mut(id as usize) {
                *c = c.saturating_add(1);
            }
        }
        reached.push(ids);
    }
    let kind_of: HashMap<u32, What> = node_ident.iter().flatten().map(|(w, id)| (*id, *w)).collect();
    let mut out = Vec::with_capacity(groups.len());
    for (((nsi, target, _), members), ids) in groups.iter().zip(reached) {
        let Some(ns) = store.namespaces.get(*nsi) else { continue };
        let mut content = Split::default();
        let mut snapshots = Split::default();
        for id in ids {
            let size = ident_size.get(id as usize).copied().unwrap_or(0);
            let split = match kind_of.get(&id) {
                Some(What::Snapshot) => &mut snapshots,
                _ => &mut content,
            };
            split.total.add(size);
            let count = groups_of.get(id as usize).copied().unwrap_or(0);
            if count >= 2 {
                split.shared.add(size);
            } else if !other_held.get(id as usize).copied().unwrap_or(true) {
                split.unique.add(size);
            }
        }
        let mut names: Vec<String> = members
            .iter()
            .filter_map(|&i| ns.images.get(i).map(|m| m.name.clone()))
            .collect();
        names.sort();
        out.push(ImageUsage {
            namespace: ns.name.clone(),
            target: target.map(String::from),
            names,
            content,
            snapshots,
        });
    }
    out
}
