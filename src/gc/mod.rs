//! A dry run of containerd's garbage collector: what it would remove if the daemon started
//! now (or at another instant), computed from disk without changing anything.
//!
//! containerd collects in two stages (`metadata/db.go` `GarbageCollect`):
//!
//! ```text
//! 1. metadata (one bolt transaction)
//!    roots  = non-expired leases and what they hold (flat leases: not what that refers to),
//!             images (2.x: unless expired), containers -> snapshot + labels,
//!             content/snapshots labelled containerd.io/gc.root, ingests whose expireat has
//!             not passed, sandboxes' reference labels
//!    edges  = image -> target, containerd.io/gc.ref.content[.name|/name] -> content,
//!             containerd.io/gc.ref.snapshot.<sn>[/name] -> snapshot, snapshot -> parent,
//!             ingest -> expected (2.x: gc.ref.image, back references gc.bref.*)
//!    sweep  = every content, snapshot, ingest and lease record (2.x: image) not marked
//! 2. backends, only for the stores whose records were swept ("dirty"):
//!    content     -> delete blob files whose digest no namespace records (nor any ingest
//!                   expects), then abort ingest dirs whose ref no ingest record names
//!    snapshotter -> remove backend snapshots no meta.db record names (leaves first; one
//!                   with a remaining child stays), then overlayfs' Cleanup deletes every
//!                   entry of snapshots/ that is not a remaining snapshot's id
//! ```
//!
//! So an unrecorded blob file survives every collection that sweeps no content record: we
//! report such leftovers as *pending* (what the next content sweep deletes), either way.

pub mod graph;
pub mod report;
pub mod state;
mod sweep;

pub use graph::{Cause, Clock, Graph, Kind, Model};
pub use state::Store;
pub use sweep::{BlobOutcome, ContentSweep, IngestDirOutcome, SnapshotSweep};

/// What one collection removes.
pub struct Collection {
    pub model: Model,
    pub clock: Clock,
    pub graph: Graph,
    /// Per node: reachable from a root.
    pub marked: Vec<bool>,
    /// Records removed, as (namespace index, record index) in the store's order.
    pub content: Vec<(usize, usize)>,
    pub snapshots: Vec<(usize, usize)>,
    pub ingests: Vec<(usize, usize)>,
    pub leases: Vec<(usize, usize)>,
    /// 2.x only: images whose `containerd.io/gc.expire` passed and that nothing holds.
    pub images: Vec<(usize, usize)>,
    pub content_sweep: ContentSweep,
    pub snapshot_sweeps: Vec<SnapshotSweep>,
}

impl Collection {
    /// Whether the record's node is marked (kept).
    pub fn kept(&self, node: u32) -> bool {
        self.marked.get(node as usize).copied().unwrap_or(false)
    }
}

/// The collector of the containerd that wrote this meta.db: version 4 is 2.x.
pub fn default_model(store: &Store) -> Model {
    match store.db_version {
        Some(v) if v >= 4 => Model::V2,
        _ => Model::V1,
    }
}

/// Runs the collection in memory.
pub fn collect(store: &Store, model: Model, clock: Clock) -> Collection {
    let graph = Graph::build(store, model, clock);
    let marked = if graph.failure.is_some() {
        // containerd's collection fails before sweeping: everything stays.
        vec![true; graph.len()]
    } else {
        graph.mark()
    };
    let is_kept = |n: u32| marked.get(n as usize).copied().unwrap_or(false);
    let removed = |nodes: &Vec<Vec<u32>>| -> Vec<(usize, usize)> {
        nodes
            .iter()
            .enumerate()
            .flat_map(|(ns, ids)| {
                ids.iter()
                    .enumerate()
                    .filter(|(_, n)| !is_kept(**n))
                    .map(move |(i, _)| (ns, i))
            })
            .collect()
    };
    let content = removed(&graph.content);
    let snapshots = removed(&graph.snapshots);
    let ingests = removed(&graph.ingests);
    let leases = removed(&graph.leases);
    let images = if model >= Model::V2 {
        removed(&graph.images)
    } else {
        Vec::new()
    };
    let content_sweep = sweep::content(store, &content, &ingests);
    let snapshot_sweeps = sweep::snapshots(store, &snapshots);
    Collection {
        model,
        clock,
        graph,
        marked,
        content,
        snapshots,
        ingests,
        leases,
        images,
        content_sweep,
        snapshot_sweeps,
    }
}
