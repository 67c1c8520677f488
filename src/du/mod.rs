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

use crate::containerd::blobs::{BlobEntry, FileKind};
use crate::containerd::records::BackendSnapshot;
use crate::digest::{DigestKey, PackedDigest};
use crate::gc::Collection;
use crate::gc::graph::{Cause, Edge, Kind, Walk};
use crate::gc::state::{Backend, BlobTree, Expiry, Store};
use crate::tree_usage::{disk_usage, disk_usage_noting};
mod images;
mod report;

use foldhash::{HashMap, HashSet};
use images::image_usage;
pub use report::*;
use std::collections::BTreeMap;

/// A file directly under `blobs/<algorithm>/` whose name is a digest: borrowed from the
/// listing (50,000 of them are not copied).
#[derive(Clone, Copy, Debug)]
pub struct DiskBlob<'a> {
    /// The algorithm directory; the entry's name is the digest's hex.
    pub alg: &'a str,
    pub entry: &'a BlobEntry,
}

impl DiskBlob<'_> {
    pub fn kind(&self) -> FileKind {
        self.entry.kind
    }

    /// Its apparent size; 0 for anything but a regular file.
    pub fn size(&self) -> u64 {
        if self.entry.kind == FileKind::Regular {
            self.entry.size
        } else {
            0
        }
    }

    /// The digest this file is looked up by.
    fn key(&self) -> DigestKey<'_> {
        DigestKey::of_parts(self.alg, &self.entry.name)
    }
}

/// Every entry of `blobs/<sha256|sha384|sha512>/` named by a valid digest, in name order.
pub fn blob_files(tree: &BlobTree) -> Vec<DiskBlob<'_>> {
    let mut files: Vec<DiskBlob<'_>> = tree
        .files()
        .filter_map(|f| f.alg.map(|alg| DiskBlob { alg, entry: f.entry }))
        .collect();
    files.shrink_to_fit();
    files
}

/// Each item's key with its position, sorted by key (items without a key left out). Lists that
/// come sorted, as the blob listing and a bucket's records do, cost one pass to check.
fn by_key<'a>(keys: impl Iterator<Item = Option<DigestKey<'a>>>) -> Vec<(DigestKey<'a>, usize)> {
    let mut out: Vec<(DigestKey<'a>, usize)> = keys.enumerate().filter_map(|(i, k)| Some((k?, i))).collect();
    if !out.is_sorted_by(|a, b| a.0 <= b.0) {
        out.sort_by(|a, b| a.0.cmp(&b.0));
    }
    out
}

/// Calls `matched(left position, right position)` for each key in both lists ([`by_key`]'s).
/// A key may repeat on the left (a damaged bucket); each right key is distinct (file names in
/// a directory).
///
/// The right list is skipped through by galloping (steps that double, then a binary search in
/// the last one): a walk one by one would cost the whole file list for every namespace, and a
/// meta.db can hold thousands of namespaces of one record each. Lists of like length still
/// cost about one pass.
fn join_by_key(
    left: &[(DigestKey<'_>, usize)],
    right: &[(DigestKey<'_>, usize)],
    mut matched: impl FnMut(usize, usize),
) {
    let mut rest = right;
    for (key, l) in left {
        let mut step = 1usize;
        while rest.get(step - 1).is_some_and(|(r, _)| r < key) {
            step = step.saturating_mul(2);
        }
        // Everything before rest[step / 2 - 1] is below `key`; the first key not below it is
        // within the first `step`.
        let skip = rest
            .get(..step.min(rest.len()))
            .map_or(0, |first| first.partition_point(|(r, _)| r < key));
        rest = rest.get(skip..).unwrap_or_default();
        if let Some((r, at)) = rest.first()
            && r == key
        {
            matched(*l, *at);
        }
    }
}

/// Who holds a record, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Holder {
    Images,
    Leases,
    Other,
    Nothing,
}

fn ubytes(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Measures the snapshot directory a backend snapshot's usage is measured from, or says why it
/// cannot be (the path named): a directory that is a symlink (it points out of the root and is
/// never followed) or not a directory, as the layer commands refuse it. One that is not there
/// counts 0, as before: copies of a store often leave the layer directories behind, and the
/// records say what they held. `Err` says why it was not measured, or was measured only in
/// part (a directory below it that could not be listed, a path too long to look at), with
/// the bytes counted.
fn measure_active(store: &Store, snapshotter: &str, id: Option<u64>) -> Result<u64, (u64, String)> {
    let Some(id) = id else { return Ok(0) };
    if snapshotter.contains('/') || snapshotter.contains('\0') {
        return Err((
            0,
            format!(
                "snapshotter {}: active snapshot {id} not measured: the name is no directory name",
                crate::text::one_line(snapshotter)
            ),
        ));
    }
    let plugin = store.dir.join(format!("io.containerd.snapshotter.v1.{snapshotter}"));
    let dir = plugin.join("snapshots").join(id.to_string());
    // Every directory from the root down is checked, not only the snapshot's own: a
    // `snapshots` that is a symlink would otherwise be followed out of the root. overlayfs
    // measures the upper directory; the others their snapshot directory.
    let mut on_the_way = vec![plugin.clone(), plugin.join("snapshots"), dir.clone()];
    if snapshotter == "overlayfs" {
        on_the_way.push(dir.join("fs"));
    }
    for p in &on_the_way {
        let why = match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => continue,
            Ok(m) if m.file_type().is_symlink() => "a symlink, not followed".to_string(),
            Ok(_) => "not a directory".to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => e.to_string(),
        };
        return Err((
            0,
            format!(
                "snapshotter {snapshotter}: active snapshot {id} not measured: {}: {why}",
                crate::text::escape(p.as_os_str().as_encoded_bytes())
            ),
        ));
    }
    let target = on_the_way.last().unwrap_or(&dir);
    match disk_usage_noting(target) {
        Ok((u, None)) => Ok(u.bytes),
        // An estimate that says it is one: what could be walked, and where it stopped.
        Ok((u, Some(missed))) => Err((
            u.bytes,
            format!(
                "snapshotter {snapshotter}: active snapshot {id} measured in part (at least {} bytes): {missed}",
                u.bytes
            ),
        )),
        Err(e) => Err((
            0,
            format!(
                "snapshotter {snapshotter}: active snapshot {id} not measured: {}: {}",
                crate::text::escape(target.as_os_str().as_encoded_bytes()),
                e.error
            ),
        )),
    }
}

/// Whether a backend snapshot of `kind` has its usage measured from its directory. The
/// snapshotters' `Usage()` (overlayfs, native) walks only an active snapshot's directory;
/// for any other (committed, view) it reports the usage recorded with it: 0 for a view,
/// whose directory (empty, or missing for a native view of a parent) is never measured.
fn measured_kind(kind: &str) -> bool {
    kind == "Active"
}

/// Computes the report. `scan`: measure active snapshots and orphan snapshot dirs.
///
/// `blobs` is the store's listing of the blob files, taken out of it (`std::mem::replace`):
/// it is dropped once the disk figures are made, before the per-image walks.
pub fn compute(store: &Store, blobs: BlobTree, c: &Collection, scan: bool) -> UsageReport {
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
    let files = blob_files(&blobs);
    // Without a listing of the blob files, no recorded blob can be called missing: nor when
    // an algorithm's directory would not list (sweep 25: EMFILE made every blob "missing").
    let unlisted = blobs.unlisted_algorithm();
    let listed = matches!(blobs, BlobTree::Entries(_)) && unlisted.is_none();
    // Records are paired with files by merging lists sorted by packed digest: a binary
    // search per record, then a hash lookup per record, each grew faster than the store
    // (20,000 images: 186,000 records and files) from the memory they touched at random.
    // The listing and a namespace's records come in digest order already.
    let file_keys = by_key(files.iter().map(|f| Some(f.key())));
    let mut disk = Disk {
        blob_files_not_listed: match &blobs {
            BlobTree::Entries(_) => unlisted,
            BlobTree::Missing => Some("no blobs directory".into()),
            BlobTree::NotADirectory(kind) => Some(format!("blobs is a {kind}, not a directory")),
            BlobTree::Unreadable(why) | BlobTree::Refused(why) => Some(why.clone()),
        },
        ..Disk::default()
    };
    // Each inode's blocks once (the first file met with it counts, as it always did).
    let mut inodes: Vec<((u64, u64), u64)> = Vec::with_capacity(files.len());
    for f in &files {
        disk.blob_files.add(f.size());
        inodes.push((f.entry.inode, f.entry.allocated));
    }
    inodes.sort_by_key(|(inode, _)| *inode);
    inodes.dedup_by_key(|(inode, _)| *inode);
    for (_, allocated) in inodes {
        disk.blob_file_allocated = disk.blob_file_allocated.saturating_add(allocated);
    }

    // Per namespace, and each digest's strongest holder over all namespaces: every record's
    // (digest, size, holder), then merged by digest (the first record's size, the strongest
    // holder), then paired with the files by a merge.
    let mut digests: Vec<(&PackedDigest, i64, Holder)> =
        Vec::with_capacity(store.namespaces.iter().map(|n| n.content.len()).sum());
    let mut namespaces = Vec::new();
    let backends: HashMap<&str, HashMap<&str, &BackendSnapshot>> = store
        .snapshotters
        .iter()
        .filter_map(|s| match &s.backend {
            Backend::Records(r) => Some((s.name.as_str(), r.iter().map(|b| (b.key.as_str(), b)).collect())),
            _ => None,
        })
        .collect();
    let mut active_measured: HashMap<(String, String), u64> = HashMap::default();
    // What --scan could not measure, each once (the map above measures a snapshot once).
    let mut scan_damage: Vec<String> = Vec::new();
    // Dangling references: content nodes images reach that no record answers.
    let mut dangling: HashMap<u32, Vec<String>> = HashMap::default();
    for i in 0..n {
        if by_images.get(i).copied().unwrap_or(false)
            && g.kinds.get(i) == Some(&Kind::Content)
            && !g.exists.get(i).copied().unwrap_or(true)
            && let (Some(ns), Some(key)) = (g.ns.get(i), g.key(i))
        {
            dangling.entry(*ns).or_default().push(key);
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
        let mut regular = vec![false; ns.content.len()];
        join_by_key(
            &by_key(ns.content.iter().map(|r| r.digest.key())),
            &file_keys,
            |ci, fi| {
                if let (Some(r), Some(f)) = (regular.get_mut(ci), files.get(fi)) {
                    *r = f.kind() == FileKind::Regular;
                }
            },
        );
        for ((ci, rec), regular) in ns.content.iter().enumerate().zip(regular) {
            let node = g.content.get(nsi).and_then(|v| v.get(ci)).copied().unwrap_or(0);
            let h = holder(node);
            let size = ubytes(rec.size);
            u.content.add(size);
            u.held.add(h, size);
            digests.push((&rec.digest, rec.size, h));
            if listed && !regular {
                u.missing_files.push(rec.digest.to_string());
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
                Some(b) if !measured_kind(&b.kind) => ubytes(b.size.unwrap_or(0)),
                Some(b) if scan => *active_measured
                    .entry((s.snapshotter.clone(), b.key.clone()))
                    .or_insert_with(|| {
                        measure_active(store, &s.snapshotter, b.id).unwrap_or_else(|(bytes, why)| {
                            scan_damage.push(why);
                            bytes
                        })
                    }),
                Some(_) => 0,
            };
            u.snapshots.held.add(holder(node), bytes);
        }
        namespaces.push(u);
    }

    // The whole disk.
    digests.sort_by(|a, b| a.0.cmp_text(b.0));
    digests.dedup_by(|later, first| {
        let same = later.0 == first.0;
        if same {
            first.2 = first.2.min(later.2);
        }
        same
    });
    // Each digest's file, and each file's holder (the digests are distinct: so are their keys).
    let mut file_of = vec![None; digests.len()];
    let mut holder_of = vec![None; files.len()];
    join_by_key(
        &by_key(digests.iter().map(|(d, _, _)| d.key())),
        &file_keys,
        |di, fi| {
            if let (Some(file), Some(holder), Some(&(_, _, h))) =
                (file_of.get_mut(di), holder_of.get_mut(fi), digests.get(di))
            {
                *file = files.get(fi);
                *holder = Some(h);
            }
        },
    );
    for (&(d, size, h), file) in digests.iter().zip(file_of) {
        disk.recorded_digests.add(ubytes(size));
        disk.recorded_held.add(h, ubytes(size));
        match file {
            _ if !listed => {}
            Some(f) if f.kind() == FileKind::Regular => {
                if i64::try_from(f.size()).ok() != Some(size) {
                    disk.size_mismatch.push(SizeMismatch {
                        digest: d.to_string(),
                        recorded: size,
                        file: f.size(),
                    });
                }
            }
            Some(_) => {
                disk.not_regular.push(d.to_string());
                disk.missing_files.add(ubytes(size));
            }
            None => {
                disk.missing_files.add(ubytes(size));
                disk.missing_digests.push(d.to_string());
            }
        }
    }
    for (f, holder) in files.iter().zip(holder_of) {
        match holder {
            Some(h) => disk.held.add(h, f.size()),
            None => disk.orphan_files.add(f.size()),
        }
    }
    drop(digests);
    drop(file_keys);
    drop(files);
    drop(blobs);
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
        let records = match &sn.backend {
            Backend::Records(records) => records,
            // Its snapshots are not counted: said, never a silent 0 (gc says the plugin would
            // not load; `snapshots` names the file).
            // One the system refused to read was said already, as such (exit 4).
            Backend::Unreadable { said: true, .. } => continue,
            Backend::Unreadable { why, .. } => {
                scan_damage.push(format!(
                    "snapshotter {}: its snapshots are not counted (0 in every figure): {}",
                    crate::text::one_line(&sn.name),
                    crate::text::one_line(why)
                ));
                continue;
            }
            Backend::Missing => continue,
        };
        let ids: HashSet<String> = records.iter().map(|r| r.id.unwrap_or(0).to_string()).collect();
        // The backend snapshots some namespace's meta.db record names; the others are what
        // containerd's next collection removes (`ctr snapshots rm` deletes only the record).
        let named: HashSet<&str> = store
            .namespaces
            .iter()
            .flat_map(|n| n.snapshots.iter())
            .filter(|s| s.snapshotter == sn.name)
            .filter_map(|s| s.backend_name.as_deref())
            .collect();
        for r in records {
            let unreferenced = !named.contains(r.key.as_str());
            if r.kind == "Committed" {
                let bytes = ubytes(r.size.unwrap_or(0));
                if unreferenced {
                    disk.snapshots.unreferenced.add(bytes);
                } else {
                    disk.snapshots.committed.add(bytes);
                }
            } else {
                let bytes = if !measured_kind(&r.kind) {
                    ubytes(r.size.unwrap_or(0))
                } else if scan {
                    *active_measured
                        .entry((sn.name.clone(), r.key.clone()))
                        .or_insert_with(|| {
                            measure_active(store, &sn.name, r.id).unwrap_or_else(|(bytes, why)| {
                                scan_damage.push(why);
                                bytes
                            })
                        })
                } else {
                    0
                };
                if unreferenced {
                    disk.snapshots.unreferenced.add(bytes);
                } else {
                    disk.snapshots.active.add(bytes);
                }
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

    let unknown = snapshotters_without_records(store);
    let images = image_usage(store, c, &by_leases, &by_other, &backends, &mut walk);
    UsageReport {
        definitions: DEFINITIONS.into_iter().collect(),
        model: c.model.describe(),
        clock: crate::gc::report::time(c.clock.now),
        disk,
        namespaces,
        images,
        damage: store
            .damage
            .distinct()
            .into_iter()
            .cloned()
            .chain(scan_damage.iter().cloned().map(crate::damage::Note::from))
            .collect(),
        scan_damage,
        unknown,
    }
}

/// The snapshotters meta.db's snapshot records name whose own metadata.db is not there (a
/// copy that left it out, a plugin directory deleted): their kinds and sizes are unknown,
/// and every figure counts them as 0. Said, as `snapshots` says it, never a silent 0.
/// (containerd would make an empty metadata.db when the plugin loads: not damage.)
fn snapshotters_without_records(store: &Store) -> Vec<String> {
    let mut named: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for s in store.namespaces.iter().flat_map(|n| n.snapshots.iter()) {
        *named.entry(s.snapshotter.as_str()).or_default() += 1;
    }
    named
        .into_iter()
        .filter(|(name, _)| store.snapshotter(name).is_none_or(|sn| matches!(sn.backend, Backend::Missing)))
        .map(|(name, records)| {
            let shown = crate::text::escape(name.as_bytes());
            format!(
                "{}: the {records} snapshot record(s) of {shown} are counted with unknown kinds and sizes (0 in every figure)",
                crate::containerd::root::no_snapshotter_db(name)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(byte: &str) -> String {
        format!("sha256:{}", byte.repeat(32))
    }

    #[test]
    fn join_pairs_every_equal_key_whatever_the_order_and_repeats_on_the_left() {
        let texts = [sha("0a"), sha("ff"), sha("10"), "sha512:odd".to_string(), sha("0a")];
        let files = [sha("10"), sha("0a"), "sha512:odd".to_string(), sha("77")];
        let left = by_key(texts.iter().map(|t| DigestKey::of(t)));
        let right = by_key(files.iter().map(|t| DigestKey::of(t)));
        assert!(left.is_sorted_by(|a, b| a.0 <= b.0));
        let mut pairs = Vec::new();
        join_by_key(&left, &right, |l, r| pairs.push((l, r)));
        pairs.sort();
        // Both records of 0a find its file; ff and 77 have no partner.
        assert_eq!(pairs, vec![(0, 1), (2, 0), (3, 2), (4, 1)]);
        // One record against many files, and empty lists.
        let mut one = Vec::new();
        join_by_key(&by_key([sha("ff")].iter().map(|t| DigestKey::of(t))), &right, |l, r| {
            one.push((l, r))
        });
        assert!(one.is_empty());
        let many: Vec<String> = (0u8..=255).map(|b| sha(&format!("{b:02x}"))).collect();
        let many = by_key(many.iter().map(|t| DigestKey::of(t)));
        for probe in ["00", "01", "7f", "80", "fe", "ff"] {
            let text = sha(probe);
            let mut hit = Vec::new();
            join_by_key(&by_key([&text].into_iter().map(|t| DigestKey::of(t))), &many, |l, r| {
                hit.push((l, r))
            });
            assert_eq!(
                hit,
                vec![(0, usize::from_str_radix(probe, 16).unwrap_or(999))],
                "{probe}"
            );
        }
        let mut all = Vec::new();
        join_by_key(&many, &many, |l, r| all.push((l, r)));
        assert_eq!(all, (0..256).map(|i| (i, i)).collect::<Vec<_>>());
        let mut none = Vec::new();
        join_by_key(&[], &many, |l, r| none.push((l, r)));
        join_by_key(&many, &[], |l, r| none.push((l, r)));
        assert!(none.is_empty(), "empty lists paired {none:?}");
        // A text without a colon has no key and pairs with nothing.
        assert!(by_key(["nocolon"].iter().map(|t| DigestKey::of(t))).is_empty());
    }
}
