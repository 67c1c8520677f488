//! What `coldctr gc` prints: serialize-only wire types, built from a [`Collection`], so that
//! the output's shape is not tied to the internal types.

use super::state::{Expiry, Store};
use super::sweep::BlobOutcome;
use super::{Collection, Model};
use crate::containerd::blobs::FileKind;
use crate::containerd::gotime::GoParse;
use crate::containerd::gotime::GoTime;
use crate::digest::DigestKey;
use crate::tree_usage::disk_usage;
use foldhash::HashSet;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Serialize)]
pub struct GcReport {
    /// What every field means.
    pub definitions: BTreeMap<&'static str, &'static str>,
    pub model: &'static str,
    pub clock: ClockReport,
    /// Why containerd's collection would fail before removing anything, if it would.
    pub failure: Option<String>,
    pub content: Vec<ContentItem>,
    #[serde(rename = "blobFiles")]
    pub blob_files: Vec<BlobItem>,
    pub leases: Vec<LeaseItem>,
    pub snapshots: Vec<SnapshotItem>,
    pub ingests: Vec<IngestItem>,
    pub images: Vec<ImageItem>,
    #[serde(rename = "backendSnapshots")]
    pub backend_snapshots: Vec<BackendItem>,
    #[serde(rename = "snapshotDirs")]
    pub snapshot_dirs: Vec<DirItem>,
    #[serde(rename = "ingestDirs")]
    pub ingest_dirs: Vec<IngestDirItem>,
    pub sweeps: Sweeps,
    pub pending: Pending,
    #[serde(rename = "orphanBlobFiles")]
    pub orphan_blob_files: Vec<BlobItem>,
    pub freed: Freed,
    pub namespaces: Vec<NamespaceSummary>,
    pub notes: Vec<String>,
    /// Damage met reading meta.db and the snapshotters' DBs: where (file, page, offset) and
    /// what; the records it hid are missing from the answer.
    pub damage: Vec<crate::damage::Note>,
}

#[derive(Serialize)]
pub struct ClockReport {
    /// The instant expiries were compared with.
    pub at: String,
    /// `now` or `--at`.
    pub source: &'static str,
    /// Whose reading of expiry labels (`--go`): "Go 1.23 and later".
    pub go: &'static str,
    #[serde(rename = "dependsOn")]
    pub depends_on: Vec<ClockItem>,
    /// The same result holds for every instant in this range (`(from, until]`).
    #[serde(rename = "sameResultFrom")]
    pub same_from: Option<String>,
    #[serde(rename = "sameResultUntil")]
    pub same_until: Option<String>,
}

#[derive(Serialize)]
pub struct ClockItem {
    pub namespace: String,
    pub kind: &'static str,
    pub id: String,
    pub expire: String,
    /// Go's `time.Parse(time.RFC3339, ...)` accepts it (otherwise it never expires), as the
    /// Go of `--go` reads it.
    pub parsable: bool,
    pub expired: bool,
    /// How containerd built with other Go releases reads it, where that differs.
    #[serde(rename = "otherGo", skip_serializing_if = "Vec::is_empty")]
    pub other_go: Vec<OtherGoItem>,
}

/// An expiry as containerd built with other Go releases reads it.
#[derive(Serialize)]
pub struct OtherGoItem {
    pub go: &'static str,
    /// The instant they read, in UTC; absent when they refuse it too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reads: Option<String>,
    pub expired: bool,
}

#[derive(Serialize)]
pub struct ContentItem {
    pub namespace: String,
    pub digest: String,
    pub size: i64,
}

#[derive(Clone, Serialize)]
pub struct BlobItem {
    pub digest: String,
    pub path: String,
    pub kind: FileKind,
    pub size: u64,
    pub allocated: u64,
    #[serde(rename = "recordedIn")]
    pub recorded_in: Vec<String>,
}

#[derive(Serialize)]
pub struct LeaseItem {
    pub namespace: String,
    pub id: String,
    pub expire: Option<String>,
}

#[derive(Serialize)]
pub struct SnapshotItem {
    pub namespace: String,
    pub snapshotter: String,
    pub key: String,
    #[serde(rename = "backendName")]
    pub backend_name: Option<String>,
}

#[derive(Serialize)]
pub struct IngestItem {
    pub namespace: String,
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(rename = "backendRef")]
    pub backend_ref: Option<String>,
    #[serde(rename = "expireAt")]
    pub expire_at: Option<String>,
    /// `ingest/<sha256 of backendRef>`, when that directory exists.
    pub dir: Option<String>,
    #[serde(rename = "partialBytes")]
    pub partial_bytes: u64,
}

#[derive(Serialize)]
pub struct ImageItem {
    pub namespace: String,
    pub name: String,
    pub target: Option<String>,
}

#[derive(Clone, Serialize)]
pub struct BackendItem {
    pub snapshotter: String,
    pub key: String,
    pub id: Option<u64>,
    pub kind: String,
    pub size: Option<i64>,
}

#[derive(Clone, Serialize)]
pub struct DirItem {
    pub snapshotter: String,
    /// The entry's name under `snapshots/` (normally a snapshot id).
    pub id: String,
    pub kind: FileKind,
    /// The backend snapshot that owned this id before the collection.
    pub owner: Option<String>,
    /// Allocated bytes (st_blocks*512 over unique inodes, symlinks not followed).
    pub bytes: u64,
}

#[derive(Clone, Serialize)]
pub struct IngestDirItem {
    pub dir: String,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub bytes: u64,
}

#[derive(Serialize)]
pub struct Sweeps {
    pub content: SweepState,
    pub snapshotters: Vec<SnapshotterState>,
}

#[derive(Serialize)]
pub struct SweepState {
    pub runs: bool,
    pub why: String,
    /// Where containerd's walk of the store fails, if it does.
    pub stopped: Option<String>,
}

#[derive(Serialize)]
pub struct SnapshotterState {
    pub name: String,
    pub loaded: bool,
    pub runs: bool,
    pub why: String,
    #[serde(rename = "dirPolicy")]
    pub dir_policy: &'static str,
}

/// Leftovers this collection does not delete because it does not sweep their backend; the
/// first later collection that does (one that removes a content/ingest record, or a snapshot
/// record of that snapshotter, or follows a client's delete) deletes them.
#[derive(Default, Serialize)]
pub struct Pending {
    #[serde(rename = "blobFiles")]
    pub blob_files: Vec<BlobItem>,
    #[serde(rename = "ingestDirs")]
    pub ingest_dirs: Vec<IngestDirItem>,
    #[serde(rename = "backendSnapshots")]
    pub backend_snapshots: Vec<BackendItem>,
    #[serde(rename = "snapshotDirs")]
    pub snapshot_dirs: Vec<DirItem>,
}

#[derive(Default, Serialize)]
pub struct Freed {
    #[serde(rename = "contentRecords")]
    pub content_records: usize,
    #[serde(rename = "contentRecordBytes")]
    pub content_record_bytes: i64,
    #[serde(rename = "blobFiles")]
    pub blob_files: usize,
    #[serde(rename = "blobFileBytes")]
    pub blob_file_bytes: u64,
    #[serde(rename = "blobFileAllocated")]
    pub blob_file_allocated: u64,
    #[serde(rename = "snapshotDirs")]
    pub snapshot_dirs: usize,
    #[serde(rename = "snapshotDirBytes")]
    pub snapshot_dir_bytes: u64,
    #[serde(rename = "ingestDirs")]
    pub ingest_dirs: usize,
    #[serde(rename = "ingestDirBytes")]
    pub ingest_dir_bytes: u64,
    /// blob file allocated bytes + snapshot dir bytes + ingest data bytes.
    #[serde(rename = "diskBytes")]
    pub disk_bytes: u64,
}

#[derive(Serialize)]
pub struct NamespaceSummary {
    pub namespace: String,
    pub content: usize,
    #[serde(rename = "contentBytes")]
    pub content_bytes: i64,
    pub leases: usize,
    pub snapshots: usize,
    pub ingests: usize,
    pub images: usize,
}

pub fn time(nanos: i128) -> String {
    let unix = i64::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(i64::MAX);
    let ns = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
    GoTime {
        unix,
        nanos: ns,
        offset: 0,
    }
    .rfc3339_nano()
}

pub const DEFINITIONS: [(&str, &str); 16] = [
    (
        "damage",
        "damage met while reading the records (file, page and offset where known): the records it hid are missing from this answer, and what they held (blobs, snapshots, leases' resources) may be listed below as removed: no record that did not read protects anything here",
    ),
    (
        "content",
        "content records (per namespace) the metadata sweep deletes: reachable from no root; size = the record's size",
    ),
    (
        "blobFiles",
        "entries of blobs/<algorithm>/ this collection deletes: their digest is recorded by no namespace after the metadata sweep and expected by no ingest; only when the content sweep runs (sweeps.content.runs); size = apparent size, allocated = st_blocks*512",
    ),
    (
        "leases",
        "leases deleted: their containerd.io/gc.expire (RFC 3339) is before the clock; what they held is then protected only by other roots",
    ),
    (
        "snapshots",
        "meta.db snapshot records (per namespace and snapshotter) the metadata sweep deletes",
    ),
    (
        "ingests",
        "ingest records deleted: expireat passed (or none) and no lease holds them; partialBytes = bytes in the ingest directory's data file",
    ),
    (
        "images",
        "2.x only: image records deleted (containerd.io/gc.expire passed and nothing holds them)",
    ),
    (
        "backendSnapshots",
        "records of a snapshotter's own metadata.db deleted: no meta.db record names them, removed children first; only when that snapshotter's sweep runs",
    ),
    (
        "snapshotDirs",
        "entries of <snapshotter>/snapshots/ deleted (overlayfs: every entry that is not the id of a remaining snapshot); bytes = allocated bytes, symlinks not followed",
    ),
    (
        "ingestDirs",
        "ingest/<sha256(ref)> directories aborted: no ingest record names their ref; only when the content sweep runs and its walk of blobs/ completes",
    ),
    (
        "sweeps",
        "containerd deletes backend files only for stores whose records this collection removed: content (a content or ingest record removed) and each snapshotter (one of its snapshot records removed)",
    ),
    (
        "pending",
        "what the backend sweeps would delete but this collection does not run: deleted by the first later collection that sweeps that backend",
    ),
    (
        "orphanBlobFiles",
        "blob files whose digest no namespace records (before the collection), reported whether or not a sweep runs",
    ),
    (
        "freed",
        "totals of what this collection deletes; diskBytes = blob files' allocated bytes + snapshot dirs' bytes + ingest data bytes",
    ),
    (
        "clock",
        "lease containerd.io/gc.expire, ingest expireat (and 2.x image gc.expire) are compared with clock.at; the result is the same for any clock in (sameResultFrom, sameResultUntil]",
    ),
    (
        "model",
        "whose collector: containerd 1.6/1.7 for meta.db version 3, 2.x for version 4 (override with --model)",
    ),
];

fn blob_item(b: &BlobOutcome) -> BlobItem {
    BlobItem {
        digest: b.digest.clone(),
        path: b.path.clone(),
        kind: b.kind,
        size: b.size,
        allocated: b.allocated,
        recorded_in: b.recorded_in.clone(),
    }
}

impl GcReport {
    pub fn build(store: &Store, c: &Collection, source: &'static str) -> GcReport {
        let g = &c.graph;
        let ns_name = |i: usize| store.namespaces.get(i).map(|n| n.name.clone()).unwrap_or_default();
        let mut content = Vec::new();
        for &(n, i) in &c.content {
            if let Some(r) = store.namespaces.get(n).and_then(|x| x.content.get(i)) {
                content.push(ContentItem {
                    namespace: ns_name(n),
                    digest: r.digest.to_string(),
                    size: r.size,
                });
            }
        }
        let leases = c
            .leases
            .iter()
            .filter_map(|&(n, i)| store.namespaces.get(n)?.leases.get(i).map(|l| (n, l)))
            .map(|(n, l)| LeaseItem {
                namespace: ns_name(n),
                id: l.id.clone(),
                expire: l.expire.clone(),
            })
            .collect();
        let snapshots = c
            .snapshots
            .iter()
            .filter_map(|&(n, i)| store.namespaces.get(n)?.snapshots.get(i).map(|s| (n, s)))
            .map(|(n, s)| SnapshotItem {
                namespace: ns_name(n),
                snapshotter: s.snapshotter.clone(),
                key: s.key.clone(),
                backend_name: s.backend_name.clone(),
            })
            .collect();
        let dirs: foldhash::HashMap<&str, &crate::containerd::blobs::IngestDir> =
            store.ingest_dirs.iter().map(|d| (d.dir.as_str(), d)).collect();
        let ingest_dir_of = |r: &Option<String>| -> Option<&crate::containerd::blobs::IngestDir> {
            let hex = crate::digest::Digest::sha256_of(r.as_deref()?.as_bytes())
                .hex()
                .to_string();
            dirs.get(hex.as_str()).copied()
        };
        let ingests = c
            .ingests
            .iter()
            .filter_map(|&(n, i)| store.namespaces.get(n)?.ingests.get(i).map(|r| (n, r)))
            .map(|(n, r)| {
                let dir = ingest_dir_of(&r.backend_ref);
                IngestItem {
                    namespace: ns_name(n),
                    reference: r.key.clone(),
                    backend_ref: r.backend_ref.clone(),
                    expire_at: match &r.expire_at {
                        Expiry::At(_, s) => Some(s.clone()),
                        _ => None,
                    },
                    dir: dir.map(|d| format!("ingest/{}", d.dir)),
                    partial_bytes: dir.map_or(0, |d| d.size),
                }
            })
            .collect();
        let images = c
            .images
            .iter()
            .filter_map(|&(n, i)| store.namespaces.get(n)?.images.get(i).map(|r| (n, r)))
            .map(|(n, r)| ImageItem {
                namespace: ns_name(n),
                name: r.name.clone(),
                target: r.target.clone(),
            })
            .collect();

        // Backends: removed now, or pending.
        let cs = &c.content_sweep;
        let files: Vec<BlobItem> = cs.files.iter().map(blob_item).collect();
        let idirs: Vec<IngestDirItem> = cs
            .ingest_dirs
            .iter()
            .map(|d| IngestDirItem {
                dir: d.dir.clone(),
                reference: d.reference.clone(),
                bytes: d.bytes,
            })
            .collect();
        let mut pending = Pending::default();
        let (blob_files, ingest_dirs) = if cs.runs {
            (files, idirs)
        } else {
            pending.blob_files = files;
            pending.ingest_dirs = idirs;
            (Vec::new(), Vec::new())
        };
        let mut backend_snapshots = Vec::new();
        let mut snapshot_dirs = Vec::new();
        let mut sn_states = Vec::new();
        for s in &c.snapshot_sweeps {
            let base = store
                .dir
                .join(format!("io.containerd.snapshotter.v1.{}", s.name))
                .join("snapshots");
            let recs: Vec<BackendItem> = s
                .records
                .iter()
                .map(|r| BackendItem {
                    snapshotter: s.name.clone(),
                    key: r.key.clone(),
                    id: r.id,
                    kind: r.kind.clone(),
                    size: r.size,
                })
                .collect();
            let dirs: Vec<DirItem> = s
                .dirs
                .iter()
                .map(|d| DirItem {
                    snapshotter: s.name.clone(),
                    id: d.name.clone(),
                    kind: d.kind,
                    owner: d.owner.clone(),
                    bytes: disk_usage(&base.join(&d.name)).map_or(0, |u| u.bytes),
                })
                .collect();
            if s.runs && s.not_loaded.is_none() {
                backend_snapshots.extend(recs);
                snapshot_dirs.extend(dirs);
            } else if s.not_loaded.is_none() {
                pending.backend_snapshots.extend(recs);
                pending.snapshot_dirs.extend(dirs);
            }
            sn_states.push(SnapshotterState {
                name: s.name.clone(),
                loaded: s.not_loaded.is_none(),
                runs: s.runs && s.not_loaded.is_none(),
                why: match (&s.not_loaded, s.runs) {
                    (Some(why), _) => format!("not loaded: {why}"),
                    (None, true) => "this collection removes one of its snapshot records".into(),
                    (None, false) => "this collection removes none of its snapshot records".into(),
                },
                dir_policy: s.dir_policy,
            });
        }

        // Orphans, before the collection: files under the algorithm directories whose
        // digest no namespace records.
        let recorded: HashSet<DigestKey<'_>> = store
            .namespaces
            .iter()
            .flat_map(|n| n.content.iter().filter_map(|c| c.digest.key()))
            .collect();
        let orphan_blob_files = store
            .blobs
            .files()
            .filter_map(|f| {
                let alg = f.alg?;
                let e = f.entry;
                (!recorded.contains(&DigestKey::of_parts(alg, &e.name))).then(|| BlobItem {
                    digest: format!("{alg}:{}", e.name),
                    path: e.path(),
                    kind: e.kind,
                    size: if e.kind == FileKind::Regular { e.size } else { 0 },
                    allocated: e.allocated,
                    recorded_in: Vec::new(),
                })
            })
            .collect();

        let mut freed = Freed {
            content_records: c.content.len(),
            content_record_bytes: c
                .content
                .iter()
                .filter_map(|&(n, i)| store.namespaces.get(n)?.content.get(i))
                .map(|r| r.size.max(0))
                .fold(0i64, i64::saturating_add),
            ..Freed::default()
        };
        for f in &blob_files {
            freed.blob_files += 1;
            freed.blob_file_bytes = freed.blob_file_bytes.saturating_add(f.size);
            freed.blob_file_allocated = freed.blob_file_allocated.saturating_add(f.allocated);
        }
        freed.snapshot_dirs = snapshot_dirs.len();
        freed.snapshot_dir_bytes = snapshot_dirs.iter().map(|d| d.bytes).fold(0, u64::saturating_add);
        freed.ingest_dirs = ingest_dirs.len();
        freed.ingest_dir_bytes = ingest_dirs.iter().map(|d| d.bytes).fold(0, u64::saturating_add);
        freed.disk_bytes = freed
            .blob_file_allocated
            .saturating_add(freed.snapshot_dir_bytes)
            .saturating_add(freed.ingest_dir_bytes);

        let mut per_ns: Vec<NamespaceSummary> = store
            .namespaces
            .iter()
            .map(|n| NamespaceSummary {
                namespace: n.name.clone(),
                content: 0,
                content_bytes: 0,
                leases: 0,
                snapshots: 0,
                ingests: 0,
                images: 0,
            })
            .collect();
        for &(n, i) in &c.content {
            let size = store
                .namespaces
                .get(n)
                .and_then(|x| x.content.get(i))
                .map_or(0, |r| r.size.max(0));
            if let Some(s) = per_ns.get_mut(n) {
                s.content += 1;
                s.content_bytes = s.content_bytes.saturating_add(size);
            }
        }
        let count = |per_ns: &mut Vec<NamespaceSummary>, list: &[(usize, usize)], f: fn(&mut NamespaceSummary)| {
            for &(n, _) in list {
                if let Some(s) = per_ns.get_mut(n) {
                    f(s);
                }
            }
        };
        count(&mut per_ns, &c.leases, |s| s.leases += 1);
        count(&mut per_ns, &c.snapshots, |s| s.snapshots += 1);
        count(&mut per_ns, &c.ingests, |s| s.ingests += 1);
        count(&mut per_ns, &c.images, |s| s.images += 1);

        let mut notes: Vec<String> = cs.notes.clone();
        let by_go = c
            .graph
            .expiring
            .iter()
            .filter(|e| e.other.iter().any(|o| o.expired != e.expired))
            .count();
        if by_go > 0 {
            notes.push(format!(
                "{by_go} expiry label(s) expire or not depending on the Go containerd was built with (see Clock-dependent): this prediction reads them as {} do (--go; `go version` on the containerd binary tells)",
                GoParse::span(c.clock.go, c.clock.go)
            ));
        }
        if let Some(stop) = &cs.stopped {
            notes.push(format!("content sweep: {stop}"));
        }
        let why = if cs.runs {
            "this collection removes a content or ingest record".to_string()
        } else {
            "this collection removes no content or ingest record: blob files and ingest dirs no record names stay (see pending)".to_string()
        };
        // Dedupe notes, keep order.
        let mut seen = BTreeSet::new();
        notes.retain(|n| seen.insert(n.clone()));

        GcReport {
            damage: store.damage.distinct().into_iter().cloned().collect(),
            definitions: DEFINITIONS.into_iter().collect(),
            model: c.model.describe(),
            clock: clock_report(c, source),
            failure: g.failure.clone(),
            content,
            blob_files,
            leases,
            snapshots,
            ingests,
            images,
            backend_snapshots,
            snapshot_dirs,
            ingest_dirs,
            sweeps: Sweeps {
                content: SweepState {
                    runs: cs.runs,
                    why,
                    stopped: cs.stopped.clone(),
                },
                snapshotters: sn_states,
            },
            pending,
            orphan_blob_files,
            freed,
            namespaces: per_ns,
            notes,
        }
    }
}

fn clock_report(c: &Collection, source: &'static str) -> ClockReport {
    let now = c.clock.now;
    let mut from: Option<i128> = None;
    let mut until: Option<i128> = None;
    let mut depends_on = Vec::new();
    for e in &c.graph.expiring {
        if let Some(at) = e.at {
            if now > at {
                from = Some(from.map_or(at, |f| f.max(at)));
            } else {
                until = Some(until.map_or(at, |u| u.min(at)));
            }
        }
        depends_on.push(ClockItem {
            namespace: e.namespace.clone(),
            kind: e.kind,
            id: e.id.clone(),
            expire: e.value.clone(),
            parsable: e.at.is_some(),
            expired: e.expired,
            other_go: e
                .other
                .iter()
                .map(|o| OtherGoItem {
                    go: o.go,
                    reads: o.at.map(time),
                    expired: o.expired,
                })
                .collect(),
        });
    }
    ClockReport {
        at: time(now),
        source,
        go: GoParse::span(c.clock.go, c.clock.go),
        depends_on,
        same_from: from.map(time),
        same_until: until.map(time),
    }
}

/// The model's name for `--model`.
pub fn model_name(m: Model) -> &'static str {
    match m {
        Model::V1 => "1.6",
        Model::V2 => "2.0",
        Model::V22 => "2.2",
    }
}
