//! The shape of `coldctr du`'s answer (`du --format json`), each figure with its definition.

use super::Holder;
use serde::Serialize;
use std::collections::BTreeMap;

/// A count and its bytes.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Amount {
    pub count: u64,
    pub bytes: u64,
}

impl Amount {
    pub(super) fn add(&mut self, bytes: u64) {
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
    pub(super) fn add(&mut self, h: Holder, bytes: u64) {
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
    /// Damage met reading the records (file, page, offset where known), then what `--scan`
    /// could not measure.
    pub damage: Vec<crate::damage::Note>,
    /// What `--scan` could not measure (also the last of `damage`): the records' damage was
    /// said while they were read, these are said by the command.
    #[serde(skip)]
    pub scan_damage: Vec<String>,
    /// Figures the report cannot give, said on stderr: a snapshotter whose records meta.db
    /// holds but whose own metadata.db is not there (its sizes count as 0).
    #[serde(skip)]
    pub unknown: Vec<String>,
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
    /// Committed backend snapshots a meta.db record names, and their recorded usage
    /// (metadata.db `size`).
    pub committed: Amount,
    /// Active and view backend snapshots a meta.db record names; bytes only with --scan
    /// (measured from their directories).
    pub active: Amount,
    #[serde(rename = "activeMeasured")]
    pub active_measured: bool,
    /// Backend snapshots no meta.db record names (committed: recorded usage; active: measured
    /// with --scan): containerd's next collection removes those it reaches (not one whose
    /// parent has no record, which its walk of the snapshot tree never meets).
    pub unreferenced: Amount,
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
        "damage met while reading the records (file, page and offset where known): the records it hid are missing from these figures, and what they held may be counted as held by nothing (what gc frees)",
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
        "backend snapshots (each snapshotter's metadata.db) that a meta.db snapshot record names, committed and active; unreferenced: backend snapshots no meta.db record names (containerd's next collection removes those it reaches: not one whose parent has no record; `gc` lists which); bytes = the backend snapshot's recorded usage (committed: st_blocks*512 over unique inodes at commit), active ones measured from their directories with --scan (views: their recorded usage, 0, as containerd's Usage gives it)",
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
