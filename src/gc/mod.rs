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
    finish(store, model, clock, graph)
}

/// The graph built and marked, and what it was built for.
pub struct Marked {
    model: Model,
    clock: Clock,
    graph: Graph,
    marked: Vec<bool>,
}

impl Marked {
    /// What [`Graph::absent_content_keys_that_are_no_digest`] finds, said with the namespace's
    /// name: a reference that holds nothing, so what it held is listed as removed.
    pub fn references_that_are_no_digest(&self, store: &Store) -> Vec<String> {
        self.graph
            .absent_content_keys_that_are_no_digest()
            .into_iter()
            .map(|(ns, key)| {
                let name = store.namespaces.get(ns as usize).map_or("?", |n| n.name.as_str());
                format!(
                    "namespace {name}: a content reference (a containerd.io/gc.ref.content label, or a lease's) is \"{key}\", not a digest: the collector holds nothing by it"
                )
            })
            .collect()
    }
}

/// The graph and its mark, from the records alone (not the blob files, ingest directories or
/// snapshotters: see `Store::load_with`), the content records' labels dropped once read:
/// what `gc` and `du` run, so that the labels and the whole collection are never held together.
pub fn mark_forgetting_labels(store: &mut Store, model: Model, clock: Clock) -> Marked {
    let graph = Graph::build(store, model, clock);
    store.forget_content_labels();
    mark(model, clock, graph)
}

fn mark(model: Model, clock: Clock, graph: Graph) -> Marked {
    let marked = if graph.failure.is_some() {
        // containerd's collection fails before sweeping: everything stays.
        vec![true; graph.len()]
    } else {
        graph.mark()
    };
    Marked {
        model,
        clock,
        graph,
        marked,
    }
}

/// The mark and the sweeps over a built graph.
fn finish(store: &Store, model: Model, clock: Clock, graph: Graph) -> Collection {
    sweep_marked(store, mark(model, clock, graph))
}

/// The sweeps of a marked graph: what is removed, and what the content and snapshot stores
/// would delete on disk.
pub fn sweep_marked(store: &Store, marked: Marked) -> Collection {
    let Marked {
        model,
        clock,
        graph,
        marked,
    } = marked;
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

#[cfg(test)]
mod tests {
    use super::state::*;
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> GcLabels {
        let mut v: GcLabels = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        v.sort();
        v
    }

    fn content(digest: &str, l: &[(&str, &str)]) -> ContentRecord {
        ContentRecord {
            digest: crate::digest::PackedDigest::new(digest.into()),
            size: 1,
            labels: PackedLabels::pack(&labels(l)),
        }
    }

    fn image(name: &str, target: &str, l: &[(&str, &str)]) -> ImageRecord {
        ImageRecord {
            name: name.into(),
            target: Some(target.into()),
            target_size: 1,
            labels: labels(l),
        }
    }

    const PAST: &str = "2020-01-01T00:00:00Z";

    /// 2.x rules on a store built in memory: image expiry, image references, leases holding
    /// images (flat), and 2.2's back references and prefix roots.
    fn store() -> Store {
        let ns = Namespace {
            name: "ns".into(),
            content: vec![
                content("A", &[]),
                content("B", &[]),
                content("C", &[("containerd.io/gc.ref.content.l.0", "D")]),
                content("D", &[]),
                content("E", &[("containerd.io/gc.bref.image", "live")]),
                content("F", &[("containerd.io/gc.root.x", "1")]),
                content("G", &[("containerd.io/gc.root", "1")]),
                content("H", &[]),
            ],
            images: vec![
                image("old", "A", &[("containerd.io/gc.expire", PAST)]),
                image("live", "Z", &[("containerd.io/gc.ref.image", "old2")]),
                image("old2", "B", &[("containerd.io/gc.expire", PAST)]),
                image("old3", "C", &[("containerd.io/gc.expire", PAST)]),
                image(
                    "old4",
                    "H",
                    &[
                        ("containerd.io/gc.expire", PAST),
                        ("containerd.io/gc.bref.content", "G"),
                    ],
                ),
            ],
            leases: vec![LeaseRecord {
                id: "l".into(),
                expire: None,
                flat: true,
                content: vec![],
                snapshots: vec![],
                ingests: vec![],
                images: vec!["old3".into()],
            }],
            ..Namespace::default()
        };
        Store {
            dir: "/nonexistent".into(),
            db_version: Some(4),
            namespaces: vec![ns],
            blobs: BlobTree::Entries(Vec::new()),
            ingest_dirs: Vec::new(),
            ingest_strays: Vec::new(),
            snapshotters: Vec::new(),
            damage: crate::damage::Damage::new(),
        }
    }

    fn removed(model: Model) -> (Vec<String>, Vec<String>) {
        let s = store();
        let c = collect(
            &s,
            model,
            Clock {
                now: 1_800_000_000_000_000_000,
                go: crate::containerd::gotime::GoParse::Go123,
            },
        );
        let ns = &s.namespaces[0];
        (
            c.content
                .iter()
                .map(|&(_, i)| ns.content[i].digest.to_string())
                .collect(),
            c.images.iter().map(|&(_, i)| ns.images[i].name.clone()).collect(),
        )
    }

    #[test]
    fn containerd_1x_keeps_every_image_and_what_it_reaches() {
        assert_eq!(default_model(&store()), Model::V2);
        let (content, images) = removed(Model::V1);
        // No image expires in 1.x; the lease's images are ignored; no back references.
        assert_eq!(content, vec!["E", "F"]);
        assert!(images.is_empty());
    }

    #[test]
    fn containerd_20_expires_images() {
        let (content, images) = removed(Model::V2);
        // old: expired, nothing holds it. old2: named by live's gc.ref.image. old3: held by a
        // flat lease, so its target stays but not what the target refers to. old4: expired.
        assert_eq!(images, vec!["old", "old4"]);
        assert_eq!(content, vec!["A", "D", "E", "F", "H"]);
    }

    #[test]
    fn containerd_22_follows_back_references() {
        let (content, images) = removed(Model::V22);
        // E hangs on live (a root); old4 hangs on G (gc.root), so old4 and H stay;
        // F's gc.root.x is a root label in 2.2.
        assert_eq!(images, vec!["old"]);
        assert_eq!(content, vec!["A", "D"]);
    }
}
