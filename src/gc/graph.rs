//! The collector's graph: nodes, edges and roots as containerd's `metadata/gc.go` defines
//! them, built in memory from [`Store`], and the tricolor mark over it.
//!
//! A node is (kind, namespace, key), the key spelled as containerd spells it: a content
//! digest, `<snapshotter>/<snapshot key>`, a lease id, an ingest ref, an image name, a
//! container id. Edges point at keys, not records: a label may name something that does not
//! exist (a "dead edge"); such a node is still visited, it just refers to nothing (except
//! through back references, 2.2+).
//!
//! Each node can be visited in two modes. Normal: all its references. Flat (reached from a
//! lease labelled `containerd.io/gc.flat`): a snapshot follows only its parent, an image only
//! its target, content nothing. containerd keeps the two modes apart while walking and merges
//! them when marking (`gc.Tricolor` strips the flat bit), and so do we.

use super::state::{LabelPairs, Store};
use crate::containerd::gotime::{GoParse, parse_rfc3339_as};
use foldhash::HashMap;

/// Which containerd's collector to reproduce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Model {
    /// containerd 1.6 and 1.7 (meta.db version 3): images are roots that cannot expire.
    V1,
    /// containerd 2.0 and 2.1 (meta.db version 4): images are collectible nodes, expired by
    /// `containerd.io/gc.expire`; leases may hold images; `containerd.io/gc.ref.image` labels.
    V2,
    /// containerd 2.2+: also back references (`containerd.io/gc.bref.*`), and any label that
    /// begins with `containerd.io/gc.root` makes a root.
    V22,
}

impl Model {
    pub fn describe(self) -> &'static str {
        match self {
            Model::V1 => "containerd 1.6/1.7 (metadata/gc.go)",
            Model::V2 => "containerd 2.0/2.1 (core/metadata/gc.go)",
            Model::V22 => "containerd 2.2+ (core/metadata/gc.go, with back references)",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Content,
    Snapshot,
    Image,
    Container,
    Lease,
    Ingest,
}

/// An edge (or a root): the node, and whether it is reached in flat mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    pub to: u32,
    pub flat: bool,
}

/// Why a root is a root: du attributes what is held to the first of these that holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// An image record (namespace index, image index).
    Image(u32, u32),
    /// A lease that has not expired (namespace index, lease index).
    Lease(u32, u32),
    /// A container record: its snapshot and labels.
    Container(u32, u32),
    /// A `containerd.io/gc.root` label on a content or snapshot record.
    GcRoot,
    /// An ingest whose `expireat` has not passed.
    Ingest,
    /// A sandbox's reference labels.
    Sandbox,
}

/// One collection's inputs that are not on disk.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// The instant the collector compares expiries with (nanoseconds since the epoch).
    pub now: i128,
    /// The Go containerd was built with: how its `time.Parse` reads a `gc.expire` label.
    pub go: GoParse,
}

/// Something whose status depends on the clock.
#[derive(Clone, Debug)]
pub struct Expiring {
    pub namespace: String,
    pub kind: &'static str,
    pub id: String,
    pub value: String,
    /// The instant, when it parses; `None`: the label is ignored (never expires).
    pub at: Option<i128>,
    pub expired: bool,
    /// How containerd built with another Go reads the value, where that differs from `at`
    /// (a label's text only; empty for an ingest's binary time).
    pub other: Vec<OtherReading>,
}

/// An expiry label as containerd built with another Go reads it: `time.Parse` took zone
/// offsets out of range until Go 1.23, and signed offset fields until 1.20.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherReading {
    /// The Go releases that read it so ("Go 1.22 and older").
    pub go: &'static str,
    /// The instant they read; `None`: they refuse it too (never expires).
    pub at: Option<i128>,
    pub expired: bool,
}

pub struct Graph {
    pub kinds: Vec<Kind>,
    pub ns: Vec<u32>,
    /// Every node's key, one after the other ([`Graph::key`]): one allocation for the 50,000
    /// digests of a big store instead of two strings per node.
    key_text: Vec<u8>,
    /// Where each node's key ends in `key_text`.
    key_ends: Vec<usize>,
    /// Whether a record answers the node's lookup (false: a dead edge's target).
    pub exists: Vec<bool>,
    refs: Vec<Vec<Edge>>,
    /// The few nodes with references followed in flat mode.
    flat_refs: HashMap<u32, Vec<Edge>>,
    pub roots: Vec<(Cause, Edge)>,
    /// Hash of (namespace, kind, key) -> the first node with that hash; `same_hash` chains
    /// the others (the keys themselves are only in `key_text`).
    index: HashMap<u64, u32>,
    same_hash: Vec<u32>,
    hasher: foldhash::fast::RandomState,
    /// The node of each record, per namespace, in the store's record order.
    pub content: Vec<Vec<u32>>,
    pub snapshots: Vec<Vec<u32>>,
    pub ingests: Vec<Vec<u32>>,
    pub leases: Vec<Vec<u32>>,
    pub images: Vec<Vec<u32>>,
    /// Everything whose status depends on the clock.
    pub expiring: Vec<Expiring>,
    /// Why containerd's collection would fail before removing anything, if it would.
    pub failure: Option<String>,
}

const REF_CONTENT: &str = "containerd.io/gc.ref.content";
const REF_SNAPSHOT: &str = "containerd.io/gc.ref.snapshot.";
const REF_IMAGE: &str = "containerd.io/gc.ref.image";
const BREF_CONTAINER: &str = "containerd.io/gc.bref.container";
const BREF_CONTENT: &str = "containerd.io/gc.bref.content";
const BREF_IMAGE: &str = "containerd.io/gc.bref.image";
const BREF_SNAPSHOT: &str = "containerd.io/gc.bref.snapshot.";
const ROOT: &str = "containerd.io/gc.root";
const EXPIRE: &str = "containerd.io/gc.expire";

/// A named reference label: exactly `prefix`, or `prefix` followed by `.` or `/` and a name.
fn named(key: &str, prefix: &str) -> bool {
    match key.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('.') || rest.starts_with('/'),
        None => false,
    }
}

/// `<prefix><snapshotter>[/<name>]` -> `<snapshotter>/<value>`.
fn snapshot_key(key: &str, prefix: &str, value: &str) -> Option<String> {
    let rest = key.strip_prefix(prefix)?;
    let sn = rest.split('/').next().unwrap_or(rest);
    Some(format!("{sn}/{value}"))
}

/// The forward references of a record's labels.
fn label_refs(model: Model, labels: &impl LabelPairs, out: &mut Vec<(Kind, String)>) {
    for (k, v) in labels.pairs() {
        if named(k, REF_CONTENT) {
            out.push((Kind::Content, v.into_owned()));
        } else if let Some(key) = snapshot_key(k, REF_SNAPSHOT, &v) {
            out.push((Kind::Snapshot, key));
        } else if model >= Model::V2 && named(k, REF_IMAGE) {
            out.push((Kind::Image, v.into_owned()));
        }
    }
}

/// The back references of a record's labels (2.2+): the record is held by what they name.
fn label_brefs(model: Model, labels: &impl LabelPairs, out: &mut Vec<(Kind, String)>) {
    if model < Model::V22 {
        return;
    }
    for (k, v) in labels.pairs() {
        if named(k, BREF_CONTAINER) {
            out.push((Kind::Container, v.into_owned()));
        } else if named(k, BREF_CONTENT) {
            out.push((Kind::Content, v.into_owned()));
        } else if named(k, BREF_IMAGE) {
            out.push((Kind::Image, v.into_owned()));
        } else if let Some(key) = snapshot_key(k, BREF_SNAPSHOT, &v) {
            out.push((Kind::Snapshot, key));
        }
    }
}

fn is_root(model: Model, labels: &impl LabelPairs) -> bool {
    if model >= Model::V22 {
        labels.pairs().any(|(k, _)| k.starts_with(ROOT))
    } else {
        labels.pairs().any(|(k, _)| k == ROOT)
    }
}

/// Go's `time.Parse(time.RFC3339, v)` as an instant, as the Go `go` reads it; `None` when
/// it refuses it.
fn expiry(v: &str, go: GoParse) -> Option<i128> {
    parse_rfc3339_as(v, go).map(|t| t.unix_nanos())
}

/// The readings of `v` by the Go releases other than `clock.go` where they differ from its
/// (`at`), each with its verdict at `clock.now`; neighbouring releases that agree are one.
fn other_readings(v: &str, at: Option<i128>, clock: Clock) -> Vec<OtherReading> {
    let mut out: Vec<(GoParse, GoParse, Option<i128>)> = Vec::new();
    for go in [GoParse::Go119, GoParse::Go120, GoParse::Go123] {
        let read = parse_rfc3339_as(v, go).map(|t| t.unix_nanos());
        match out.last_mut() {
            Some((_, last, r)) if *r == read => *last = go,
            _ => out.push((go, go, read)),
        }
    }
    out.into_iter()
        .filter(|&(from, to, read)| read != at && !(from..=to).contains(&clock.go))
        .map(|(from, to, read)| OtherReading {
            go: GoParse::span(from, to),
            at: read,
            expired: read.is_some_and(|r| clock.now > r),
        })
        .collect()
}

/// The end of a `same_hash` chain.
const NO_NODE: u32 = u32::MAX;

/// The first byte of a key stored packed: `sha256:` and 64 lowercase hex digits as their 32
/// bytes (no UTF-8 text starts with 0xff). Most keys are such digests.
const PACKED_SHA256: u8 = 0xff;

/// A key as `key_text` stores it: a sha256 digest packed into 33 bytes, anything else as is.
enum Stored<'a> {
    Packed([u8; 33]),
    Text(&'a [u8]),
}

impl Stored<'_> {
    fn of(key: &str) -> Stored<'_> {
        Stored::packed(key).map_or(Stored::Text(key.as_bytes()), Stored::Packed)
    }

    /// A record's digest, packed already or text that does not pack.
    fn of_digest(digest: &crate::digest::PackedDigest) -> Stored<'_> {
        match digest {
            crate::digest::PackedDigest::Sha256(bytes) => Stored::Packed(Self::with_tag(*bytes)),
            crate::digest::PackedDigest::Text(text) => Stored::Text(text.as_bytes()),
        }
    }

    fn packed(key: &str) -> Option<[u8; 33]> {
        let digest = crate::digest::sha256_bytes(key.strip_prefix("sha256:")?.as_bytes())?;
        Some(Self::with_tag(digest))
    }

    fn with_tag(digest: [u8; 32]) -> [u8; 33] {
        let mut out = [PACKED_SHA256; 33];
        for (slot, byte) in out.iter_mut().skip(1).zip(digest) {
            *slot = byte;
        }
        out
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Stored::Packed(b) => b,
            Stored::Text(b) => b,
        }
    }
}

impl Graph {
    fn hash(&self, kind: Kind, ns: u32, key: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one((ns, kind, key))
    }

    fn stored_key(&self, id: usize) -> Option<&[u8]> {
        let end = *self.key_ends.get(id)?;
        let start = match id.checked_sub(1) {
            Some(prev) => *self.key_ends.get(prev)?,
            None => 0,
        };
        self.key_text.get(start..end)
    }

    /// The content nodes no record answers whose key is no digest, with their namespace index
    /// and the key as text: references (a `gc.ref.content` label, a lease's content) containerd
    /// writes as digests, so such a key is a damaged value, and what it held is collected. Only
    /// the nodes without a record are looked at (a few: an index's children never pulled).
    pub fn absent_content_keys_that_are_no_digest(&self) -> Vec<(u32, String)> {
        (0..self.kinds.len())
            .filter(|&i| self.kinds.get(i) == Some(&Kind::Content) && self.exists.get(i) == Some(&false))
            .filter_map(|i| {
                let stored = self.stored_key(i)?;
                if matches!(stored, [PACKED_SHA256, digest @ ..] if digest.len() == 32) {
                    return None;
                }
                let text = String::from_utf8_lossy(stored);
                (!crate::digest::Digest::is_valid_text(&text))
                    .then(|| (self.ns.get(i).copied().unwrap_or(0), text.into_owned()))
            })
            .collect()
    }

    /// The key of node `id`.
    pub fn key(&self, id: usize) -> Option<String> {
        match self.stored_key(id)? {
            [PACKED_SHA256, digest @ ..] if digest.len() == 32 => {
                digest.try_into().ok().map(crate::digest::sha256_text)
            }
            text => std::str::from_utf8(text).ok().map(str::to_string),
        }
    }

    fn find(&self, hash: u64, kind: Kind, ns: u32, key: &[u8]) -> Option<u32> {
        let mut id = *self.index.get(&hash)?;
        while id != NO_NODE {
            let i = id as usize;
            if self.kinds.get(i) == Some(&kind) && self.ns.get(i) == Some(&ns) && self.stored_key(i) == Some(key) {
                return Some(id);
            }
            id = self.same_hash.get(i).copied().unwrap_or(NO_NODE);
        }
        None
    }

    fn intern(&mut self, kind: Kind, ns: u32, key: &str) -> u32 {
        self.intern_stored(kind, ns, Stored::of(key))
    }

    fn intern_stored(&mut self, kind: Kind, ns: u32, stored: Stored<'_>) -> u32 {
        let key = stored.bytes();
        let hash = self.hash(kind, ns, key);
        if let Some(id) = self.find(hash, kind, ns, key) {
            return id;
        }
        let id = self.kinds.len() as u32;
        self.grow(key.len());
        self.kinds.push(kind);
        self.ns.push(ns);
        self.key_text.extend_from_slice(key);
        self.key_ends.push(self.key_text.len());
        self.exists.push(false);
        self.refs.push(Vec::new());
        let first = self.index.insert(hash, id).unwrap_or(NO_NODE);
        self.same_hash.push(first);
        id
    }

    /// Room for one more node with a key of `key_len` bytes: a quarter more each time rather
    /// than twice as much (60,000 nodes must not leave room for 120,000).
    fn grow(&mut self, key_len: usize) {
        let len = self.kinds.len();
        if len == self.kinds.capacity() {
            let more = (len / 4).max(1024);
            self.kinds.reserve_exact(more);
            self.ns.reserve_exact(more);
            self.key_ends.reserve_exact(more);
            self.exists.reserve_exact(more);
            self.refs.reserve_exact(more);
            self.same_hash.reserve_exact(more);
        }
        let text = self.key_text.len();
        if text + key_len > self.key_text.capacity() {
            self.key_text.reserve_exact((text / 4).max(key_len).max(64 << 10));
        }
    }

    /// The node of a key, when some edge or record names it (after [`Graph::build`], by a
    /// scan: the index is only kept while building).
    pub fn node(&self, kind: Kind, ns: u32, key: &str) -> Option<u32> {
        let stored = Stored::of(key);
        let key = stored.bytes();
        if !self.index.is_empty() {
            return self.find(self.hash(kind, ns, key), kind, ns, key);
        }
        (0..self.len())
            .find(|&i| {
                self.kinds.get(i) == Some(&kind) && self.ns.get(i) == Some(&ns) && self.stored_key(i) == Some(key)
            })
            .map(|i| i as u32)
    }

    fn link(&mut self, from: u32, targets: &[(Kind, String)], ns: u32) {
        for (kind, key) in targets {
            let to = self.intern(*kind, ns, key);
            if let Some(r) = self.refs.get_mut(from as usize) {
                r.push(Edge { to, flat: false });
            }
        }
    }

    fn push_ref(&mut self, from: u32, edge: Edge, flat_mode: bool) {
        if (from as usize) >= self.refs.len() {
            return;
        }
        if flat_mode {
            self.flat_refs.entry(from).or_default().push(edge);
        } else if let Some(r) = self.refs.get_mut(from as usize) {
            r.push(edge);
        }
    }

    /// Builds the graph of `store` as `model` sees it at `clock`.
    pub fn build(store: &Store, model: Model, clock: Clock) -> Graph {
        let n = store.namespaces.len();
        // Every record is a node: room for them all at once, instead of growing a quarter at
        // a time and rehashing the index as it grows (its cost grew faster than the store).
        // Dead edges' nodes, the few that are not records, still grow as before.
        let records: usize = store
            .namespaces
            .iter()
            .map(|ns| ns.content.len() + ns.snapshots.len() + ns.ingests.len() + ns.leases.len() + ns.images.len())
            .sum();
        let mut g = Graph {
            kinds: Vec::with_capacity(records),
            ns: Vec::with_capacity(records),
            key_text: Vec::with_capacity(records.saturating_mul(1 + 32)),
            key_ends: Vec::with_capacity(records),
            exists: Vec::with_capacity(records),
            refs: Vec::with_capacity(records),
            flat_refs: HashMap::default(),
            roots: Vec::new(),
            index: HashMap::with_capacity_and_hasher(records, Default::default()),
            same_hash: Vec::with_capacity(records),
            hasher: foldhash::fast::RandomState::default(),
            content: Vec::with_capacity(n),
            snapshots: Vec::with_capacity(n),
            ingests: Vec::with_capacity(n),
            leases: Vec::with_capacity(n),
            images: Vec::with_capacity(n),
            expiring: Vec::new(),
            failure: None,
        };
        let mut targets = Vec::new();
        for (nsi, ns) in store.namespaces.iter().enumerate() {
            let nsi = nsi as u32;
            // Records first, so that every record's node exists before edges are resolved.
            let content_ids: Vec<u32> = ns
                .content
                .iter()
                .map(|c| g.intern_stored(Kind::Content, nsi, Stored::of_digest(&c.digest)))
                .collect();
            let snapshot_ids = g.record_nodes(
                Kind::Snapshot,
                nsi,
                ns.snapshots.iter().map(|s| format!("{}/{}", s.snapshotter, s.key)),
            );
            let ingest_ids = g.record_nodes(Kind::Ingest, nsi, ns.ingests.iter().map(|i| i.key.as_str()));
            let lease_ids = g.record_nodes(Kind::Lease, nsi, ns.leases.iter().map(|l| l.id.as_str()));
            let image_ids = g.record_nodes(Kind::Image, nsi, ns.images.iter().map(|i| i.name.as_str()));
            for &id in content_ids
                .iter()
                .chain(&ingest_ids)
                .chain(&lease_ids)
                .chain(&image_ids)
            {
                g.set_exists(id);
            }

            // Content: label references; back references (2.2+); gc.root.
            for (c, &id) in ns.content.iter().zip(&content_ids) {
                targets.clear();
                label_refs(model, &c.labels, &mut targets);
                g.link(id, &targets, nsi);
                g.back_refs(model, &c.labels, Edge { to: id, flat: false }, nsi);
                if is_root(model, &c.labels) {
                    g.roots.push((Cause::GcRoot, Edge { to: id, flat: false }));
                }
            }
            // Snapshots: the lookup of "<sn>/<key>" cuts at the first '/', so a record whose
            // snapshotter bucket name holds a '/' is never found by its own key.
            for (s, &id) in ns.snapshots.iter().zip(&snapshot_ids) {
                if !s.snapshotter.contains('/') {
                    g.set_exists(id);
                    if let Some(parent) = &s.parent {
                        let p = g.intern(Kind::Snapshot, nsi, &format!("{}/{parent}", s.snapshotter));
                        g.push_ref(id, Edge { to: p, flat: false }, false);
                        g.push_ref(id, Edge { to: p, flat: true }, true);
                    }
                    targets.clear();
                    label_refs(model, &s.labels, &mut targets);
                    g.link(id, &targets, nsi);
                }
                g.back_refs(model, &s.labels, Edge { to: id, flat: false }, nsi);
                if is_root(model, &s.labels) {
                    g.roots.push((Cause::GcRoot, Edge { to: id, flat: false }));
                }
            }
            // Ingests: a root while `expireat` has not passed; refers to `expected`.
            for (i, &id) in ns.ingests.iter().zip(&ingest_ids) {
                if let Some(e) = &i.expected {
                    let c = g.intern(Kind::Content, nsi, e);
                    g.push_ref(id, Edge { to: c, flat: false }, false);
                }
                match &i.expire_at {
                    super::state::Expiry::Never => {}
                    super::state::Expiry::At(at, shown) => {
                        let expired = clock.now > *at;
                        g.expiring.push(Expiring {
                            namespace: ns.name.clone(),
                            kind: "ingest",
                            id: i.key.clone(),
                            value: shown.clone(),
                            at: Some(*at),
                            expired,
                            other: Vec::new(),
                        });
                        if !expired {
                            g.roots.push((Cause::Ingest, Edge { to: id, flat: false }));
                        }
                    }
                    super::state::Expiry::Invalid(why) => {
                        g.failure.get_or_insert_with(|| {
                            format!(
                                "namespace {}: ingest {:?}: expireat is not a Go binary time ({why}): containerd's collection stops with an error and removes nothing",
                                ns.name, i.key
                            )
                        });
                    }
                }
            }
            // Images.
            for ((ii, img), &id) in ns.images.iter().enumerate().zip(&image_ids) {
                if let Some(t) = &img.target {
                    let c = g.intern(Kind::Content, nsi, t);
                    g.push_ref(id, Edge { to: c, flat: false }, false);
                    if model >= Model::V2 {
                        g.push_ref(id, Edge { to: c, flat: true }, true);
                    }
                }
                targets.clear();
                label_refs(model, &img.labels, &mut targets);
                g.link(id, &targets, nsi);
                let expired = if model >= Model::V2 {
                    match img.labels.iter().find(|(k, _)| k == EXPIRE) {
                        Some((_, v)) => {
                            let at = expiry(v, clock.go);
                            let expired = at.is_some_and(|at| clock.now > at);
                            g.expiring.push(Expiring {
                                namespace: ns.name.clone(),
                                kind: "image",
                                id: img.name.clone(),
                                value: v.clone(),
                                at,
                                expired,
                                other: other_readings(v, at, clock),
                            });
                            expired
                        }
                        None => false,
                    }
                } else {
                    false
                };
                if !expired {
                    g.roots
                        .push((Cause::Image(nsi, ii as u32), Edge { to: id, flat: false }));
                } else {
                    g.back_refs(model, &img.labels, Edge { to: id, flat: false }, nsi);
                }
            }
            // Containers: their snapshot and labels (a root in every version).
            for (ci, c) in ns.containers.iter().enumerate() {
                let id = g.intern(Kind::Container, nsi, &c.id);
                g.set_exists(id);
                if !c.snapshotter.is_empty() {
                    let s = g.intern(Kind::Snapshot, nsi, &format!("{}/{}", c.snapshotter, c.snapshot_key));
                    g.push_ref(id, Edge { to: s, flat: false }, false);
                }
                targets.clear();
                label_refs(model, &c.labels, &mut targets);
                g.link(id, &targets, nsi);
                g.back_refs(model, &c.labels, Edge { to: id, flat: false }, nsi);
                g.roots
                    .push((Cause::Container(nsi, ci as u32), Edge { to: id, flat: false }));
            }
            // Sandboxes: their reference labels are roots.
            for sb in &ns.sandboxes {
                targets.clear();
                label_refs(model, &sb.labels, &mut targets);
                for (kind, key) in targets.clone() {
                    let to = g.intern(kind, nsi, &key);
                    g.roots.push((Cause::Sandbox, Edge { to, flat: false }));
                }
            }
            // Leases: unless expired, the lease and everything it holds are roots.
            for ((li, l), &lease) in ns.leases.iter().enumerate().zip(&lease_ids) {
                if let Some(v) = &l.expire {
                    let at = expiry(v, clock.go);
                    let expired = at.is_some_and(|at| clock.now > at);
                    g.expiring.push(Expiring {
                        namespace: ns.name.clone(),
                        kind: "lease",
                        id: l.id.clone(),
                        value: v.clone(),
                        at,
                        expired,
                        other: other_readings(v, at, clock),
                    });
                    if expired {
                        continue;
                    }
                }
                let cause = Cause::Lease(nsi, li as u32);
                g.roots.push((cause, Edge { to: lease, flat: false }));
                for d in &l.content {
                    let to = g.intern(Kind::Content, nsi, d);
                    g.roots.push((cause, Edge { to, flat: l.flat }));
                }
                for (sn, key) in &l.snapshots {
                    let to = g.intern(Kind::Snapshot, nsi, &format!("{sn}/{key}"));
                    g.roots.push((cause, Edge { to, flat: l.flat }));
                }
                for r in &l.ingests {
                    let to = g.intern(Kind::Ingest, nsi, r);
                    g.roots.push((cause, Edge { to, flat: false }));
                }
                if model >= Model::V2 {
                    for name in &l.images {
                        let to = g.intern(Kind::Image, nsi, name);
                        g.roots.push((cause, Edge { to, flat: l.flat }));
                    }
                }
            }
            g.content.push(content_ids);
            g.snapshots.push(snapshot_ids);
            g.ingests.push(ingest_ids);
            g.leases.push(lease_ids);
            g.images.push(image_ids);
        }
        // The graph lives as long as the report: give back what growing by doubling left over.
        g.kinds.shrink_to_fit();
        g.ns.shrink_to_fit();
        g.key_text.shrink_to_fit();
        g.key_ends.shrink_to_fit();
        g.exists.shrink_to_fit();
        g.refs.shrink_to_fit();
        // The index answers lookups while edges are resolved; nothing looks keys up after.
        g.same_hash = Vec::new();
        g.index = HashMap::default();
        g
    }

    /// The nodes of a namespace's records of one kind, in record order.
    fn record_nodes<S: AsRef<str>>(&mut self, kind: Kind, ns: u32, keys: impl Iterator<Item = S>) -> Vec<u32> {
        keys.map(|k| self.intern(kind, ns, k.as_ref())).collect()
    }

    fn set_exists(&mut self, id: u32) {
        if let Some(e) = self.exists.get_mut(id as usize) {
            *e = true;
        }
    }

    /// 2.2+: each back reference label of the record `from` makes an edge from the node it
    /// names to `from` (followed only when that node is visited in normal mode).
    fn back_refs(&mut self, model: Model, labels: &impl LabelPairs, from: Edge, ns: u32) {
        let mut targets = Vec::new();
        label_brefs(model, labels, &mut targets);
        for (kind, key) in targets {
            let t = self.intern(kind, ns, &key);
            self.push_ref(t, from, false);
        }
    }

    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// The nodes reached from `starts`, each reported once to `visit` (flat and normal visits
    /// of the same node count as one, as containerd marks them).
    pub fn reach(&self, starts: impl IntoIterator<Item = Edge>, walk: &mut Walk, mut visit: impl FnMut(u32)) {
        walk.next_generation(self.len());
        let mut stack: Vec<Edge> = Vec::new();
        for e in starts {
            if walk.enter(e) {
                stack.push(e);
            }
        }
        while let Some(e) = stack.pop() {
            if walk.mark(e.to) {
                visit(e.to);
            }
            let list = if e.flat {
                self.flat_refs.get(&e.to)
            } else {
                self.refs.get(e.to as usize)
            };
            for &next in list.map(Vec::as_slice).unwrap_or(&[]) {
                if walk.enter(next) {
                    stack.push(next);
                }
            }
        }
    }

    /// containerd's mark: every node reachable from a root.
    pub fn mark(&self) -> Vec<bool> {
        let mut marked = vec![false; self.len()];
        let mut walk = Walk::default();
        self.reach(self.roots.iter().map(|(_, e)| *e), &mut walk, |n| {
            if let Some(m) = marked.get_mut(n as usize) {
                *m = true;
            }
        });
        marked
    }
}

/// Reusable visit stamps, so that many walks over one graph allocate once.
#[derive(Default)]
pub struct Walk {
    generation: u32,
    normal: Vec<u32>,
    flat: Vec<u32>,
    node: Vec<u32>,
}

impl Walk {
    fn next_generation(&mut self, len: usize) {
        if self.normal.len() < len || self.generation == u32::MAX {
            self.normal = vec![0; len];
            self.flat = vec![0; len];
            self.node = vec![0; len];
            self.generation = 0;
        }
        self.generation += 1;
    }

    /// First time this (node, mode) is seen in this generation?
    fn enter(&mut self, e: Edge) -> bool {
        let v = if e.flat { &mut self.flat } else { &mut self.normal };
        match v.get_mut(e.to as usize) {
            Some(s) if *s != self.generation => {
                *s = self.generation;
                true
            }
            _ => false,
        }
    }

    /// First time this node is reached (in either mode) in this generation?
    fn mark(&mut self, n: u32) -> bool {
        match self.node.get_mut(n as usize) {
            Some(s) if *s != self.generation => {
                *s = self.generation;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gc::state::GcLabels;

    #[test]
    fn reference_label_names() {
        assert!(named("containerd.io/gc.ref.content", REF_CONTENT));
        assert!(named("containerd.io/gc.ref.content.l.0", REF_CONTENT));
        assert!(named("containerd.io/gc.ref.content/config", REF_CONTENT));
        assert!(!named("containerd.io/gc.ref.contentx", REF_CONTENT));
        assert_eq!(
            snapshot_key("containerd.io/gc.ref.snapshot.overlayfs", REF_SNAPSHOT, "sha256:1"),
            Some("overlayfs/sha256:1".into())
        );
        assert_eq!(
            snapshot_key("containerd.io/gc.ref.snapshot.overlayfs/top", REF_SNAPSHOT, "k"),
            Some("overlayfs/k".into())
        );
        let labels: GcLabels = vec![
            ("containerd.io/gc.ref.content.m.0".into(), "sha256:a".into()),
            ("containerd.io/gc.ref.contentious".into(), "sha256:b".into()),
            ("containerd.io/gc.ref.image.base".into(), "img".into()),
        ];
        let mut out = Vec::new();
        label_refs(Model::V1, &labels, &mut out);
        assert_eq!(out, vec![(Kind::Content, "sha256:a".to_string())]);
        out.clear();
        label_refs(Model::V2, &labels, &mut out);
        assert_eq!(out.len(), 2);
        assert!(is_root(Model::V1, &vec![(ROOT.to_string(), String::new())]));
        assert!(!is_root(Model::V1, &vec![(format!("{ROOT}.x"), String::new())]));
        assert!(is_root(Model::V22, &vec![(format!("{ROOT}.x"), String::new())]));
    }
}
