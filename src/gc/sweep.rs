//! The backend half of a collection: what the content store and each snapshotter delete once
//! the metadata sweep has run, computed from the records that remain.
//!
//! Content (`metadata/content.go` `garbageCollect`, `content/local/store.go`): the local
//! store's `Walk` is a `filepath.Walk` over `blobs/` in name order; every entry below an
//! algorithm directory is offered as `<algorithm>:<name>` and deleted (`os.RemoveAll`) when no
//! namespace records that digest and no ingest expects it. A name that is not a valid digest
//! makes `Delete` fail, which stops the walk; so does deleting a directory that has entries.
//! When the walk completes, every ingest directory whose `ref` no ingest record names is
//! aborted (`os.RemoveAll(ingest/<sha256 of ref>)`).
//!
//! Snapshotters (`metadata/snapshot.go` `garbageCollect`): backend snapshots that no meta.db
//! record names are removed children first, starting from the snapshots without a parent;
//! one that keeps a child stays (`cannot remove snapshot with child`), and one whose parent
//! chain does not end at a parentless snapshot is never visited. Directories: overlayfs'
//! `Cleanup` then deletes every entry of `snapshots/` that is not the id of a remaining
//! snapshot; erofs does the same after a removal; the others (native, blockfile, btrfs, ...)
//! delete `snapshots/<id>` of each removed snapshot.

use super::state::{Backend, BlobEntry, BlobTree, Store};
use crate::containerd::blobs::FileKind;
use crate::containerd::records::BackendSnapshot;
use crate::digest::{Digest, DigestKey};
use foldhash::{HashMap, HashSet};

/// Algorithms go-digest makes available (the local store walks only these directories).
const ALGORITHMS: [&str; 3] = ["sha256", "sha384", "sha512"];

/// A blob-store entry the content sweep deletes.
#[derive(Clone, Debug)]
pub struct BlobOutcome {
    /// Path relative to the content store.
    pub path: String,
    /// `<algorithm>:<name>` as containerd forms it.
    pub digest: String,
    pub kind: FileKind,
    pub size: u64,
    pub allocated: u64,
    /// Namespaces whose records named this digest before the collection.
    pub recorded_in: Vec<String>,
}

/// An ingest directory the content sweep aborts.
#[derive(Clone, Debug)]
pub struct IngestDirOutcome {
    /// `ingest/<name>`.
    pub dir: String,
    pub reference: Option<String>,
    /// Bytes in `data`.
    pub bytes: u64,
}

/// The content store's sweep.
#[derive(Clone, Debug, Default)]
pub struct ContentSweep {
    /// This collection removed a content or ingest record, so the sweep runs.
    pub runs: bool,
    /// Blob files (or other entries) the sweep deletes when it runs, in walk order.
    pub files: Vec<BlobOutcome>,
    /// Where containerd's walk fails: later entries stay and ingests are not aborted.
    pub stopped: Option<String>,
    /// Ingest directories aborted when it runs.
    pub ingest_dirs: Vec<IngestDirOutcome>,
    /// What we could not decide without following a symlink, and similar.
    pub notes: Vec<String>,
}

/// An entry of `snapshots/` the snapshotter deletes.
#[derive(Clone, Debug)]
pub struct SnapshotDirOutcome {
    pub name: String,
    pub kind: FileKind,
    /// The backend snapshot that had this id before the collection, if any.
    pub owner: Option<String>,
}

/// One snapshotter's sweep.
#[derive(Clone, Debug)]
pub struct SnapshotSweep {
    pub name: String,
    /// Why containerd would not load it (then its backend is never cleaned).
    pub not_loaded: Option<String>,
    /// This collection removed one of its meta.db records, so the sweep runs.
    pub runs: bool,
    /// Backend snapshots removed when it runs.
    pub records: Vec<BackendSnapshot>,
    /// Entries of `snapshots/` deleted when it runs.
    pub dirs: Vec<SnapshotDirOutcome>,
    /// How directories go: `cleanup` (overlayfs), `after-remove` (erofs), `per-snapshot`.
    pub dir_policy: &'static str,
}

/// The content sweep, computed from the records that remain after the metadata sweep.
pub fn content(store: &Store, removed_content: &[(usize, usize)], removed_ingests: &[(usize, usize)]) -> ContentSweep {
    let gone_content: HashSet<(usize, usize)> = removed_content.iter().copied().collect();
    let gone_ingests: HashSet<(usize, usize)> = removed_ingests.iter().copied().collect();
    // Digests as packed keys (see `DigestKey`); text without a colon names no blob file.
    let mut seen: HashSet<DigestKey<'_>> = HashSet::default();
    let mut ingest_seen: HashSet<&str> = HashSet::default();
    // The namespaces recording each digest, asked only of the files the sweep deletes: a
    // digest still seen is kept, so only digests whose every record is removed matter, and
    // those records are all in `removed_content` (in namespace order, as they were read).
    let mut recorded: HashMap<DigestKey<'_>, Vec<String>> = HashMap::default();
    for &(nsi, ci) in removed_content {
        if let Some(ns) = store.namespaces.get(nsi)
            && let Some(c) = ns.content.get(ci)
            && let Some(key) = c.digest.key()
        {
            recorded.entry(key).or_default().push(ns.name.clone());
        }
    }
    for (nsi, ns) in store.namespaces.iter().enumerate() {
        for (ci, c) in ns.content.iter().enumerate() {
            if !gone_content.contains(&(nsi, ci))
                && let Some(key) = c.digest.key()
            {
                seen.insert(key);
            }
        }
        for (ii, i) in ns.ingests.iter().enumerate() {
            if gone_ingests.contains(&(nsi, ii)) {
                continue;
            }
            if let Some(key) = i.expected.as_deref().and_then(DigestKey::of) {
                seen.insert(key);
            }
            if let Some(r) = i.backend_ref.as_deref().filter(|r| !r.is_empty()) {
                ingest_seen.insert(r);
            }
        }
    }
    let mut sweep = ContentSweep {
        runs: !removed_content.is_empty() || !removed_ingests.is_empty(),
        ..ContentSweep::default()
    };
    walk_blobs(&store.blobs, &seen, &recorded, &mut sweep);
    if sweep.stopped.is_some() {
        return sweep;
    }
    // Ingests: each directory's `ref` names the directory containerd removes.
    let by_name: HashMap<&str, &crate::containerd::blobs::IngestDir> =
        store.ingest_dirs.iter().map(|d| (d.dir.as_str(), d)).collect();
    let mut aborted = HashSet::default();
    for d in &store.ingest_dirs {
        let Some(r) = &d.reference else {
            sweep.notes.push(format!(
                "ingest/{}: its ref file does not read (missing, or not a regular file: not followed); containerd skips the directory",
                d.dir
            ));
            continue;
        };
        if ingest_seen.contains(r.as_str()) {
            continue;
        }
        let target = Digest::sha256_of(r.as_bytes()).hex().to_string();
        if let Some(t) = by_name.get(target.as_str())
            && aborted.insert(target.clone())
        {
            sweep.ingest_dirs.push(IngestDirOutcome {
                dir: format!("ingest/{}", t.dir),
                reference: t.reference.clone(),
                bytes: t.size,
            });
        }
        if target != d.dir {
            sweep.notes.push(format!(
                "ingest/{}: its ref hashes to {target}, not to its own name; containerd aborts ingest/{target} instead",
                d.dir
            ));
        }
    }
    for s in &store.ingest_strays {
        sweep.notes.push(format!(
            "{s}: not a directory; containerd reads {s}/ref (through a symlink, if it is one) - not followed here"
        ));
    }
    sweep
}

fn walk_blobs(
    tree: &BlobTree,
    seen: &HashSet<DigestKey<'_>>,
    recorded: &HashMap<DigestKey<'_>, Vec<String>>,
    sweep: &mut ContentSweep,
) {
    let top = match tree {
        BlobTree::Missing => {
            sweep.stopped = Some("blobs/ does not exist: the local store's walk fails".into());
            return;
        }
        BlobTree::Unreadable(e) => {
            sweep.stopped = Some(format!("blobs/ cannot be read ({e}): the local store's walk fails"));
            return;
        }
        BlobTree::Refused(why) => {
            sweep.stopped = Some(format!(
                "the content store was not read ({why}; not followed): what containerd's sweep would delete there is unknown"
            ));
            return;
        }
        BlobTree::NotADirectory(kind) => {
            sweep.notes.push(format!(
                "blobs/ is a {kind:?}, not a directory: the local store's walk visits nothing"
            ));
            return;
        }
        BlobTree::Entries(top) => top,
    };
    // `filepath.Walk` with the local store's callback: `alg` is the last algorithm directory
    // entered; a non-directory is skipped while none is current.
    let mut alg: Option<&str> = None;
    for e in top {
        if e.kind != FileKind::Directory && alg.is_none() {
            continue;
        }
        if !ALGORITHMS.contains(&e.name.as_str()) {
            alg = None;
            if e.kind == FileKind::Directory {
                continue; // SkipDir
            }
            // SkipDir returned for a file skips the rest of its directory.
            sweep.notes.push(format!(
                "{}: an unknown entry in blobs/; containerd's walk skips every entry after it",
                e.path()
            ));
            break;
        }
        alg = Some(&e.name);
        if e.kind != FileKind::Directory {
            continue;
        }
        if let Some(why) = e.unreadable() {
            sweep.stopped = Some(format!("{}: {why}: the local store's walk fails", e.path()));
            return;
        }
        if let Err(stop) = walk_alg(&e.name, e.children().unwrap_or(&[]), seen, recorded, sweep) {
            sweep.stopped = Some(stop);
            return;
        }
    }
}

/// The entries below an algorithm directory; `Err` says where the walk fails.
fn walk_alg(
    alg: &str,
    entries: &[BlobEntry],
    seen: &HashSet<DigestKey<'_>>,
    recorded: &HashMap<DigestKey<'_>, Vec<String>>,
    sweep: &mut ContentSweep,
) -> Result<(), String> {
    for e in entries {
        if e.kind != FileKind::Directory
            && let Some(why) = e.unreadable()
        {
            return Err(format!("{}: {why}: the local store's walk fails", e.path()));
        }
        let key = DigestKey::of_parts(alg, &e.name);
        let removed = if seen.contains(&key) {
            false
        } else {
            let digest = format!("{alg}:{}", e.name);
            if Digest::parse(&digest).is_err() {
                return Err(format!(
                    "{}: {digest:?} is not a valid digest; deleting it fails and stops the local store's walk",
                    e.path()
                ));
            }
            sweep.files.push(BlobOutcome {
                path: e.path().clone(),
                recorded_in: recorded.get(&key).cloned().unwrap_or_default(),
                digest,
                kind: e.kind,
                size: if e.kind == FileKind::Regular { e.size } else { 0 },
                allocated: e.allocated,
            });
            true
        };
        if e.kind == FileKind::Directory {
            if let Some(why) = e.unreadable() {
                return Err(format!("{}: {why}: the local store's walk fails", e.path()));
            }
            let children = e.children().unwrap_or(&[]);
            if removed && !children.is_empty() {
                return Err(format!(
                    "{}: a directory deleted with its entries; the walk then fails on them",
                    e.path()
                ));
            }
            if !removed {
                walk_alg(alg, children, seen, recorded, sweep)?;
            }
        }
    }
    Ok(())
}

/// Each snapshotter's sweep, computed from the meta.db snapshot records that remain.
pub fn snapshots(store: &Store, removed: &[(usize, usize)]) -> Vec<SnapshotSweep> {
    let gone: HashSet<(usize, usize)> = removed.iter().copied().collect();
    // Dirty snapshotters: the part of a removed node's key before its first '/'.
    let mut dirty: HashSet<String> = HashSet::default();
    for &(nsi, si) in removed {
        if let Some(s) = store.namespaces.get(nsi).and_then(|n| n.snapshots.get(si)) {
            let key = format!("{}/{}", s.snapshotter, s.key);
            if let Some((sn, _)) = key.split_once('/').filter(|(sn, _)| !sn.is_empty()) {
                dirty.insert(sn.to_string());
            }
        }
    }
    let mut out = Vec::new();
    for sn in &store.snapshotters {
        let gone = &gone;
        let seen: HashSet<&str> = store
            .namespaces
            .iter()
            .enumerate()
            .flat_map(|(nsi, ns)| {
                ns.snapshots
                    .iter()
                    .enumerate()
                    .filter(move |(si, s)| s.snapshotter == sn.name && !gone.contains(&(nsi, *si)))
                    .filter_map(|(_, s)| s.backend_name.as_deref().filter(|b| !b.is_empty()))
            })
            .collect();
        let dir_policy = match sn.name.as_str() {
            "overlayfs" => "cleanup",
            "erofs" => "after-remove",
            _ => "per-snapshot",
        };
        let mut sweep = SnapshotSweep {
            name: sn.name.clone(),
            not_loaded: None,
            runs: false,
            records: Vec::new(),
            dirs: Vec::new(),
            dir_policy,
        };
        let empty = Vec::new();
        let records = match &sn.backend {
            Backend::Unreadable { why, .. } => {
                sweep.not_loaded = Some(format!(
                    "its metadata.db cannot be read ({why}): the plugin would not load"
                ));
                out.push(sweep);
                continue;
            }
            Backend::Missing => &empty,
            Backend::Records(r) => r,
        };
        sweep.runs = dirty.contains(&sn.name);
        sweep.records = prune(records, &seen);
        let removed_keys: HashSet<&str> = sweep.records.iter().map(|r| r.key.as_str()).collect();
        let id_of = |r: &BackendSnapshot| r.id.unwrap_or(0).to_string();
        let owner: HashMap<String, &str> = records.iter().map(|r| (id_of(r), r.key.as_str())).collect();
        let remaining: HashSet<String> = records
            .iter()
            .filter(|r| !removed_keys.contains(r.key.as_str()))
            .map(id_of)
            .collect();
        let removed_ids: HashSet<String> = sweep.records.iter().map(id_of).collect();
        for d in sn.dirs.as_deref().unwrap_or(&[]) {
            let goes = match dir_policy {
                "cleanup" => !remaining.contains(&d.name),
                "after-remove" => !sweep.records.is_empty() && !remaining.contains(&d.name),
                _ => removed_ids.contains(&d.name),
            };
            if goes {
                sweep.dirs.push(SnapshotDirOutcome {
                    name: d.name.clone(),
                    kind: d.kind,
                    owner: owner.get(&d.name).map(|s| s.to_string()),
                });
            }
        }
        out.push(sweep);
    }
    // Snapshotters meta.db names that have no directory here: their records are swept, their
    // backends never cleaned.
    for name in dirty {
        if store.snapshotter(&name).is_none() {
            out.push(SnapshotSweep {
                name,
                not_loaded: Some("no io.containerd.snapshotter.v1.<name> directory in this root".into()),
                runs: false,
                records: Vec::new(),
                dirs: Vec::new(),
                dir_policy: "per-snapshot",
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// containerd's `walkTree` + `pruneBranch`: the backend snapshots removed.
fn prune(records: &[BackendSnapshot], seen: &HashSet<&str>) -> Vec<BackendSnapshot> {
    let mut children: HashMap<&str, Vec<usize>> = HashMap::default();
    let mut roots = Vec::new();
    for (i, r) in records.iter().enumerate() {
        match r.parent.as_deref().filter(|p| !p.is_empty()) {
            None => roots.push(i),
            Some(p) => children.entry(p).or_default().push(i),
        }
    }
    // Iterative post-order from each root: a node goes when it is unseen and all of its
    // children went.
    let mut removed = vec![false; records.len()];
    let mut done = vec![false; records.len()];
    for root in roots {
        let mut stack = vec![(root, false)];
        while let Some((i, expanded)) = stack.pop() {
            let Some(r) = records.get(i) else { continue };
            let kids = children.get(r.key.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            if !expanded {
                if done.get(i).copied().unwrap_or(true) {
                    continue;
                }
                stack.push((i, true));
                for &k in kids {
                    stack.push((k, false));
                }
                continue;
            }
            if let Some(d) = done.get_mut(i) {
                *d = true;
            }
            let all_kids_gone = kids.iter().all(|&k| removed.get(k).copied().unwrap_or(false));
            if !seen.contains(r.key.as_str())
                && all_kids_gone
                && let Some(x) = removed.get_mut(i)
            {
                *x = true;
            }
        }
    }
    records
        .iter()
        .zip(&removed)
        .filter(|(_, gone)| **gone)
        .map(|(r, _)| r.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(key: &str, parent: Option<&str>, id: u64) -> BackendSnapshot {
        BackendSnapshot {
            key: key.into(),
            id: Some(id),
            kind: "Committed".into(),
            parent: parent.map(String::from),
            created_at: None,
            updated_at: None,
            labels: Default::default(),
            size: None,
            inodes: None,
        }
    }

    #[test]
    fn prune_removes_leaves_first_and_keeps_parents_of_kept_children() {
        let recs = vec![
            snap("a", None, 1),
            snap("b", Some("a"), 2),
            snap("c", Some("b"), 3),
            snap("d", Some("a"), 4),
            // parent chain that never reaches a root: never visited
            snap("x", Some("nowhere"), 5),
        ];
        // c is named by meta.db: b and a stay (b has a child), d goes.
        let seen: HashSet<&str> = ["c"].into_iter().collect();
        let gone: Vec<String> = prune(&recs, &seen).into_iter().map(|r| r.key).collect();
        assert_eq!(gone, vec!["d"]);
        let none: HashSet<&str> = HashSet::default();
        let gone: Vec<String> = prune(&recs, &none).into_iter().map(|r| r.key).collect();
        assert_eq!(gone, vec!["a", "b", "c", "d"]);
    }
}
