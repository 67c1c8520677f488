//! The salvage view (`--salvage`): the records carved from meta.db's pages laid out again as
//! containerd stores them, in a bbolt image built in memory ([`crate::bolt::build`]), so that
//! every command reads them through the same readers as a real meta.db (as an OCI layout's
//! records are presented). Blobs stay where they are: the root keeps its content store.
//!
//! ```text
//! carved record (kind, namespace, name, node) ──► v1/<ns>/images/<name>
//!                                                  v1/<ns>/content/blob/<digest>
//!                                                  v1/<ns>/content/ingests/<ref>
//!                                                  v1/<ns>/leases/<id>
//!                                                  v1/<ns>/containers/<id>
//!                                                  v1/<ns>/snapshots/<snapshotter>/<key>
//!   namespace record ──► v1/<ns>/labels only (its other buckets are the records above)
//!   v1's `version` ──► v1/version, from the page holding it (the current tree's first)
//! ```
//!
//! Each placed bucket is rebuilt from the raw nodes of the scan, key by key (values as they
//! are on the page, sub-buckets inline or by page, branch pages followed to their leaves), not
//! from decoded fields: the readers decode them as they decode a live file.
//!
//! Which records: every carved record with a name whose status ([`Status`]) is not
//! `deleted`: live (the tree has it) or unknown (the tree cannot be read there). Deleted
//! records (the tree is readable where the record would be and lacks it) only with
//! [`Options::include_deleted`]. Copies of one (kind, namespace, name): the copy on a page the
//! tree reaches, then one the other meta's tree reaches, then the one with the latest
//! `updatedat` (else `createdat`), then the lowest page. A record whose namespace did not
//! survive takes the namespace (and snapshotter) of the records beside it in its parent's page
//! when the tree has every one of them there and can read every other namespace; it is taken
//! for an old copy when the tree has a record of its kind and name and can be read in every
//! namespace (with no tree: when a record of its kind and name is placed); otherwise it goes
//! under the namespace [`UNKNOWN_NAMESPACE`] (not a name containerd accepts, so it never meets
//! a real one), a snapshot under the snapshotter [`UNKNOWN_NAMESPACE`] too. A record without a
//! name cannot be placed and is reported.
//!
//! Work and memory are bounded by the file: the bytes copied into the view are at most
//! [`COPY_PER_BYTE`] times what the scan's nodes hold, sub-buckets nest at most `MAX_DEPTH` deep.

use super::{Carved, Elem, Node, Recovered, Scan};
use crate::bolt::build::Tree;
use crate::bolt::{BoltError, Db, MetaChoice, ReadMode, Tx};
use crate::containerd::gotime::GoTime;
use crate::containerd::records::{self, Damage, key_bytes};
use crate::containerd::root::{Root, RootError};
use foldhash::{HashMap, HashSet};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The namespace (and snapshotter) of records whose own did not survive.
pub const UNKNOWN_NAMESPACE: &str = "(unknown)";

/// How many times the file's size the view may copy in all (a forged file can point many
/// records at the same large sub-bucket).
const COPY_PER_BYTE: u64 = 4;

/// What goes into the view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Also the records the tree is known to have lost.
    pub include_deleted: bool,
    /// Judge records against the previous meta's tree (and prefer the copies it reaches).
    pub previous: bool,
    /// Of the image records, only the deleted ones (`images --deleted`); implies
    /// `include_deleted` for the other kinds, so that their blobs can be found.
    pub deleted_images_only: bool,
}

/// What the tree says of a carved record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The tree has a record of this kind, namespace and name.
    Live,
    /// The tree is readable where the record would be, and does not have it.
    Deleted,
    /// The tree cannot be read there (or there is no tree): it may or may not have it.
    Unknown,
}

/// A record put in the view, with the copy chosen and what the tree says of it.
#[derive(Clone, Debug, Serialize)]
pub struct Placed {
    pub status: Status,
    /// The namespace the record is placed in ([`UNKNOWN_NAMESPACE`] when its own is lost).
    pub namespace: String,
    /// The chosen copy.
    pub record: Carved,
    /// Every page a copy of the record was carved from.
    pub pages: Vec<u64>,
}

/// A record without a name: it cannot be placed.
#[derive(Clone, Debug, Serialize)]
pub struct Nameless {
    pub kind: &'static str,
    pub page: u64,
    pub inline: bool,
}

/// What the salvage did, printed on stderr by the commands that read the view.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// The file carved.
    pub path: String,
    pub file_pages: u64,
    pub node_pages: u64,
    /// Neither meta page is valid: no tree to compare with, roots inferred.
    pub no_meta: bool,
    /// Records placed in the view, by kind.
    pub placed: BTreeMap<&'static str, usize>,
    /// Placed records whose namespace was lost (under [`UNKNOWN_NAMESPACE`]), by kind.
    pub unknown_namespace: BTreeMap<&'static str, usize>,
    /// Placed records whose namespace (and snapshotter) was lost and is taken from the
    /// records beside them in their parent's page, all in that one namespace of the tree.
    pub namespace_from_siblings: BTreeMap<&'static str, usize>,
    /// Deleted records left out (no `include_deleted`), by kind.
    pub deleted_left_out: BTreeMap<&'static str, usize>,
    /// Deleted records placed (`include_deleted`), by kind.
    pub deleted_included: BTreeMap<&'static str, usize>,
    /// Other copies of placed records, not used.
    pub older_copies: usize,
    pub nameless: Vec<Nameless>,
    /// Placed records with a sub-bucket that could not be read: `kind ns/name (page p): what`.
    pub partial: Vec<String>,
    /// Damage met reading the trees, and the view's own limits.
    pub damage: Damage,
}

impl Report {
    /// The view is not the whole tree: the file is damaged, or a placed record is partial.
    pub fn damaged(&self) -> bool {
        !self.damage.is_empty() || !self.partial.is_empty() || self.no_meta
    }

    /// The report for stderr, a line each.
    pub fn lines(&self) -> Vec<String> {
        let counts = |m: &BTreeMap<&'static str, usize>| {
            m.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ")
        };
        let mut out = vec![format!(
            "salvage: {}: {} pages scanned, {} parse as nodes; placed: {}",
            self.path,
            self.file_pages,
            self.node_pages,
            if self.placed.is_empty() {
                "nothing".to_string()
            } else {
                counts(&self.placed)
            }
        )];
        if self.older_copies > 0 {
            out.push(format!(
                "salvage: {} older copies of placed records not used (the copy the tree reaches, else the latest, is)",
                self.older_copies
            ));
        }
        if self.no_meta {
            out.push("salvage: no valid meta page: nothing to compare with, every record's status is unknown".into());
        }
        if !self.unknown_namespace.is_empty() {
            out.push(format!(
                "salvage: namespace lost (placed under {UNKNOWN_NAMESPACE}): {}",
                counts(&self.unknown_namespace)
            ));
        }
        if !self.namespace_from_siblings.is_empty() {
            out.push(format!(
                "salvage: namespace lost, taken from the records beside them on their parent page (all in that namespace): {}",
                counts(&self.namespace_from_siblings)
            ));
        }
        if !self.deleted_left_out.is_empty() {
            out.push(format!(
                "salvage: deleted records left out (--salvage-deleted includes them): {}",
                counts(&self.deleted_left_out)
            ));
        }
        if !self.deleted_included.is_empty() {
            out.push(format!(
                "salvage: deleted records included: {}",
                counts(&self.deleted_included)
            ));
        }
        if !self.nameless.is_empty() {
            let mut by_kind: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for n in &self.nameless {
                by_kind
                    .entry(n.kind)
                    .or_default()
                    .push(format!("{}{}", n.page, if n.inline { "i" } else { "" }));
            }
            for (kind, pages) in by_kind {
                let shown: Vec<&str> = pages.iter().take(10).map(String::as_str).collect();
                out.push(format!(
                    "salvage: {} {kind} record(s) without a name, not placed (pages {}{})",
                    pages.len(),
                    shown.join(","),
                    if pages.len() > shown.len() { ",..." } else { "" }
                ));
            }
        }
        for p in &self.partial {
            out.push(format!("salvage: partial: {p}"));
        }
        let damage = self.damage.distinct();
        for d in damage.iter().take(5) {
            out.push(format!("salvage: damage: {}", d.message));
        }
        if damage.len() > 5 {
            out.push(format!(
                "salvage: damage: ... and {} more (coldctr recover lists what was carved)",
                damage.len() - 5
            ));
        }
        out
    }
}

/// The view and what went into it.
pub struct Salvage {
    pub tree: Tree,
    pub report: Report,
    /// The records placed, in (kind, namespace, name) order.
    pub placed: Vec<Placed>,
}

/// The salvage view of `db` (whose meta pages are valid).
pub fn salvage_db(db: &Db, opts: Options) -> Salvage {
    let data = db.data();
    let s = super::scan(db.file(), db.page_size(), db.endian(), data);
    let r = super::recover_scanned(db, &s);
    let choice = if opts.previous {
        MetaChoice::Previous
    } else {
        MetaChoice::Current
    };
    let mut report = Report {
        path: db.path().display().to_string(),
        ..Report::default()
    };
    match db.view(choice) {
        Ok(tx) => build(&s, &r, Some(&tx), opts, report),
        Err(e) => {
            report.damage.push(e);
            build(&s, &r, None, opts, report)
        }
    }
}

/// The salvage view of a file no meta page describes (`page_size` guessed by the caller).
pub fn salvage_raw(path: &str, file: &[u8], page_size: u32, endian: crate::bytes::Endian, opts: Options) -> Salvage {
    salvage_raw_of(path, file, page_size, endian, opts, &crate::bolt::DataExtents::whole())
}

/// [`salvage_raw`] of a file whose holes are known (`data`: passed over, never read).
pub fn salvage_raw_of(
    path: &str,
    file: &[u8],
    page_size: u32,
    endian: crate::bytes::Endian,
    opts: Options,
    data: &crate::bolt::DataExtents,
) -> Salvage {
    let s = super::scan(file, page_size, endian, data);
    let mut r = super::recover_raw_scanned(&s);
    r.damage.extend(super::misnumbered_notes(&r, path, page_size));
    let report = Report {
        path: path.to_string(),
        no_meta: true,
        ..Report::default()
    };
    build(&s, &r, None, opts, report)
}

/// The bucket path of a record: `v1/<ns>/<kind bucket>/<name>`.
fn record_path(kind: &str, ns: &[u8], name: &str) -> Option<Vec<Vec<u8>>> {
    let n = key_bytes(name).into_owned();
    let v1 = b"v1".to_vec();
    let ns = ns.to_vec();
    Some(match kind {
        "namespace" => vec![v1, ns],
        "image" => vec![v1, ns, b"images".to_vec(), n],
        "content" => vec![v1, ns, b"content".to_vec(), b"blob".to_vec(), n],
        "ingest" => vec![v1, ns, b"content".to_vec(), b"ingests".to_vec(), n],
        "lease" => vec![v1, ns, b"leases".to_vec(), n],
        "container" => vec![v1, ns, b"containers".to_vec(), n],
        "snapshot" => {
            // `<snapshotter>/<key>`; snapshotter names hold no `/`, keys may.
            let (sn, key) = name.split_once('/')?;
            vec![
                v1,
                ns,
                b"snapshots".to_vec(),
                key_bytes(sn).into_owned(),
                key_bytes(key).into_owned(),
            ]
        }
        "backend_snapshot" => vec![v1, b"snapshots".to_vec(), n],
        _ => return None,
    })
}

/// Whether `tx` has the bucket at `path`: `None` when a page on the way cannot be read.
fn has(tx: &Tx<'_>, path: &[Vec<u8>]) -> Option<bool> {
    tx.bucket_at(path).ok().map(|b| b.is_some())
}

/// What the tree says of a record of `kind` named `name` whose namespace is unknown: live when
/// some namespace has it and every namespace can be read there, deleted when every namespace
/// can be read and none has it, else unknown.
fn status_anywhere(tx: &Tx<'_>, kind: &str, name: &str) -> Status {
    let mut damage = Damage::new();
    let namespaces = records::namespace_buckets(tx, &mut damage);
    let mut unknown = !damage.is_empty();
    let mut live = false;
    if matches!(tx.bucket_at(&[b"v1"]), Err(_) | Ok(None)) {
        unknown = true;
    }
    for (ns, b) in &namespaces {
        let found = if kind == "snapshot" {
            // Named by its key alone: any snapshotter of the namespace.
            let mut d = Damage::new();
            let sns = match b.bucket(b"snapshots") {
                Ok(Some(snaps)) => records::sub_buckets(&snaps, "snapshots", &mut d),
                Ok(None) => Vec::new(),
                Err(_) => {
                    unknown = true;
                    Vec::new()
                }
            };
            unknown |= !d.is_empty();
            let mut any = Some(false);
            for (_, sb) in sns {
                match sb.bucket(&key_bytes(name)) {
                    Ok(Some(_)) => {
                        any = Some(true);
                        break;
                    }
                    Ok(None) => {}
                    Err(_) => any = None,
                }
            }
            any
        } else {
            let Some(path) = record_path(kind, &key_bytes(ns), name) else {
                continue;
            };
            has(tx, &path)
        };
        match found {
            Some(true) => live = true,
            Some(false) => {}
            None => unknown = true,
        }
    }
    // Found in one namespace while another cannot be read: it may be that one's record.
    match (live, unknown) {
        (_, true) => Status::Unknown,
        (true, false) => Status::Live,
        (false, false) => Status::Deleted,
    }
}

/// The record buckets of one kind in every namespace of a tree (a snapshot's: each of its
/// snapshotters), with the keys of those that read in one walk: a name is asked of the buckets
/// that hold it and of those whose keys did not read, rather than of every namespace (5,000
/// lost records against 5,000 namespaces took 14.5 s asked of each). The answers are
/// [`where_in_tree`]'s and [`status_anywhere`]'s: a bucket whose keys all read answers `None`
/// for a name it does not hold, as asking it would.
struct KindIndex<'a> {
    /// A namespace's bucket for the kind (or its snapshotters) does not read.
    damaged: bool,
    /// Every record bucket of the kind: its namespace, its snapshotter (snapshots), the bucket.
    buckets: Vec<(String, Option<String>, crate::bolt::Bucket<'a>)>,
    /// The buckets holding each key, of those whose keys read, in bucket order.
    by_key: HashMap<Vec<u8>, Vec<usize>>,
    /// The buckets whose keys did not read: asked for every name.
    unread: Vec<usize>,
}

impl<'a> KindIndex<'a> {
    /// The index of `kind`'s records in the namespaces `all`; `None` for a kind not kept in
    /// the namespaces' buckets.
    fn new(all: &[(String, crate::bolt::Bucket<'a>)], kind: &str) -> Option<Self> {
        let below = record_bucket(kind)?;
        let mut index = KindIndex {
            damaged: false,
            buckets: Vec::new(),
            by_key: HashMap::default(),
            unread: Vec::new(),
        };
        for (ns, b) in all {
            let bucket = match b.bucket_at(below) {
                Ok(Some(bucket)) => bucket,
                Ok(None) => continue,
                Err(_) => {
                    index.damaged = true;
                    continue;
                }
            };
            if kind == "snapshot" {
                let mut d = Damage::new();
                for (sn, sb) in records::sub_buckets(&bucket, "snapshots", &mut d) {
                    index.buckets.push((ns.clone(), Some(sn), sb));
                }
                index.damaged |= !d.is_empty();
            } else {
                index.buckets.push((ns.clone(), None, bucket));
            }
        }
        for (i, (_, _, b)) in index.buckets.iter().enumerate() {
            let keys: Result<Vec<Vec<u8>>, _> = b.cursor().map(|item| item.map(|i| i.key.to_vec())).collect();
            match keys {
                Ok(keys) => keys
                    .into_iter()
                    .for_each(|k| index.by_key.entry(k).or_default().push(i)),
                Err(_) => index.unread.push(i),
            }
        }
        Some(index)
    }

    /// The buckets to ask for `key`, in bucket order.
    fn candidates(&self, key: &[u8]) -> Vec<usize> {
        let mut at: Vec<usize> = self.by_key.get(key).cloned().unwrap_or_default();
        at.extend(&self.unread);
        at.sort_unstable();
        at.dedup();
        at
    }

    /// [`where_in_tree`] of `name`.
    fn locate(&self, name: &str) -> Option<BTreeSet<Location>> {
        if self.damaged {
            return None;
        }
        let key = key_bytes(name);
        let mut found = BTreeSet::new();
        for i in self.candidates(&key) {
            let (ns, sn, b) = self.buckets.get(i)?;
            if b.bucket(&key).ok()?.is_some() {
                found.insert((ns.clone(), sn.clone()));
            }
        }
        Some(found)
    }

    /// [`status_anywhere`] of `name`; `unknown`: the tree's namespaces do not all read.
    fn status(&self, name: &str, unknown: bool) -> Status {
        let key = key_bytes(name);
        let (mut found, mut failed) = (BTreeSet::new(), BTreeSet::new());
        for i in self.candidates(&key) {
            let Some((ns, _, b)) = self.buckets.get(i) else {
                continue;
            };
            match b.bucket(&key) {
                Ok(Some(_)) => {
                    found.insert(ns.as_str());
                }
                Ok(None) => {}
                Err(_) => {
                    failed.insert(ns.as_str());
                }
            }
        }
        // A namespace that has it answers, whatever its other snapshotters say.
        let unknown = unknown || self.damaged || failed.iter().any(|ns| !found.contains(ns));
        match (!found.is_empty(), unknown) {
            (_, true) => Status::Unknown,
            (true, false) => Status::Live,
            (false, false) => Status::Deleted,
        }
    }
}

/// The bucket below a namespace's that holds the records of `kind` (a snapshot's, below that
/// one its snapshotter's); `None` for a kind kept elsewhere.
fn record_bucket(kind: &str) -> Option<&'static [&'static [u8]]> {
    Some(match kind {
        "image" => &[b"images"],
        "content" => &[b"content", b"blob"],
        "ingest" => &[b"content", b"ingests"],
        "lease" => &[b"leases"],
        "container" => &[b"containers"],
        "snapshot" => &[b"snapshots"],
        _ => return None,
    })
}

/// Where the namespaces `all` of a tree hold a record of `kind` named `name` (a snapshot by
/// its key, in any snapshotter); `None` when a page on the way cannot be read.
fn where_in_tree(all: &[(String, crate::bolt::Bucket<'_>)], kind: &str, name: &str) -> Option<BTreeSet<Location>> {
    let key = key_bytes(name);
    let below = record_bucket(kind)?;
    let mut found = BTreeSet::new();
    for (ns, b) in all {
        let Some(bucket) = b.bucket_at(below).ok()? else {
            continue;
        };
        if kind == "snapshot" {
            let mut d = Damage::new();
            for (sn, sb) in records::sub_buckets(&bucket, "snapshots", &mut d) {
                if sb.bucket(&key).ok()?.is_some() {
                    found.insert((ns.clone(), Some(sn)));
                }
            }
            if !d.is_empty() {
                return None;
            }
        } else if bucket.bucket(&key).ok()?.is_some() {
            found.insert((ns.clone(), None));
        }
    }
    Some(found)
}

/// The node a record was carved from: its leaf, or the leaves below its bucket's branch root
/// merged (`super::merged`).
fn record_node<'s, 'a>(s: &'s Scan<'a>, i: usize) -> Option<std::borrow::Cow<'s, Node<'a>>> {
    let node = s.nodes.get(i)?;
    if node.leaf {
        return Some(std::borrow::Cow::Borrowed(node));
    }
    super::merged::gather(s, node).map(|w| std::borrow::Cow::Owned(w.node))
}

/// A record's latest time (`updatedat`, else `createdat`) as Unix nanoseconds, for choosing
/// among stale copies.
fn latest(s: &Scan<'_>, c: &Carved) -> i128 {
    let Some(node) = record_node(s, c.node) else {
        return i128::MIN;
    };
    ["updatedat", "createdat"]
        .iter()
        .find_map(|k| {
            node.get(k.as_bytes())
                .filter(|e| !e.bucket)
                .and_then(|e| GoTime::decode(e.value).ok())
        })
        .map_or(i128::MIN, |t| t.unix_nanos())
}

/// Copies the raw nodes of buckets into a [`Tree`], within a byte budget.
struct Copier<'s, 'a> {
    s: &'s Scan<'a>,
    budget: u64,
    exhausted: bool,
}

impl<'a> Copier<'_, 'a> {
    /// Copies leaf `node` into `tree`; what could not be read goes to `partial`.
    fn leaf(&mut self, node: usize, tree: &mut Tree, depth: usize, at: &str, partial: &mut Vec<String>) {
        let s = self.s;
        let Some(n) = s.nodes.get(node) else { return };
        for e in &n.elems {
            if !self.elem(e, tree, depth, at, partial) {
                return;
            }
        }
    }

    /// Copies one element (a value, or a bucket and what it holds); false when the budget
    /// is spent.
    fn elem(&mut self, e: &Elem<'a>, tree: &mut Tree, depth: usize, at: &str, partial: &mut Vec<String>) -> bool {
        let s = self.s;
        let cost = (e.key.len() + e.value.len()) as u64 + 16;
        if self.budget < cost {
            self.exhausted = true;
            partial.push(format!("{at}: not copied, the view's work budget is spent"));
            return false;
        }
        self.budget -= cost;
        if !e.bucket {
            tree.put(e.key, e.value);
            return true;
        }
        let here = format!("{at}/{}", records::key_name(e.key));
        if depth + 1 >= crate::bolt::MAX_DEPTH {
            partial.push(format!(
                "{here}: nested deeper than {}, coldctr's limit (not damage)",
                crate::bolt::MAX_DEPTH
            ));
            return true;
        }
        match (e.inline, e.child) {
            (Some(i), _) => self.leaf(i, tree.bucket(&[e.key]), depth + 1, &here, partial),
            (None, Some(page)) if s.by_page.contains_key(&page) => {
                let mut seen = HashSet::default();
                self.page(page, tree.bucket(&[e.key]), depth + 1, &here, partial, &mut seen)
            }
            (None, Some(page)) => partial.push(format!("{here}: page {page} is not a readable node")),
            (None, None) => partial.push(format!("{here}: inline bucket does not parse")),
        }
        true
    }

    /// Copies the bucket whose root is `page` (a leaf, or a branch and its leaves); `seen`:
    /// the bucket's pages copied so far.
    ///
    /// Every page is charged to the budget, branches too, and a page met a second time in
    /// one bucket (a cycle, or two branch elements naming one page: bbolt never shares one)
    /// is said and not copied again: forged branches naming each other would otherwise be
    /// walked once per path, 2^40 paths from a 40-page chain of two-element branches.
    fn page(
        &mut self,
        page: u64,
        tree: &mut Tree,
        depth: usize,
        at: &str,
        partial: &mut Vec<String>,
        seen: &mut HashSet<u64>,
    ) {
        let s = self.s;
        if self.exhausted {
            partial.push(format!("{at}: not copied, the view's work budget is spent"));
            return;
        }
        let Some(&i) = s.by_page.get(&page) else {
            partial.push(format!("{at}: page {page} is not a readable node"));
            return;
        };
        let Some(n) = s.nodes.get(i) else { return };
        if !seen.insert(page) {
            partial.push(format!(
                "{at}: page {page} reached a second time (a cycle or a shared page)"
            ));
            return;
        }
        let cost = 16 * (n.elems.len() as u64 + 1);
        if self.budget < cost {
            self.exhausted = true;
            partial.push(format!("{at}: not copied, the view's work budget is spent"));
            return;
        }
        self.budget -= cost;
        if n.leaf {
            self.leaf(i, tree, depth, at, partial);
            return;
        }
        if depth + 1 >= crate::bolt::MAX_DEPTH {
            partial.push(format!("{at}: branch pages nested too deep"));
            return;
        }
        for e in &n.elems {
            if self.exhausted {
                break;
            }
            if let Some(child) = e.child {
                self.page(child, tree, depth + 1, at, partial, seen);
            }
        }
    }
}

/// Where a record is placed: its namespace, and a snapshot's snapshotter.
type Location = (String, Option<String>);

fn build(s: &Scan<'_>, r: &Recovered, tx: Option<&Tx<'_>>, opts: Options, mut report: Report) -> Salvage {
    report.file_pages = r.file_pages;
    report.node_pages = r.node_pages;
    for d in r.damage.iter() {
        report.damage.push(d.clone());
    }
    let include_deleted = opts.include_deleted || opts.deleted_images_only;
    let (mine, other) = if opts.previous {
        (&r.reach_previous, &r.reach_current)
    } else {
        (&r.reach_current, &r.reach_previous)
    };
    // Copies by (kind, namespace, name); namespace None for a lost one.
    type Key = (&'static str, Option<String>, String);
    let mut groups: BTreeMap<Key, Vec<&Carved>> = BTreeMap::new();
    for c in &r.records {
        match &c.name {
            Some(name) => groups
                .entry((c.kind, c.namespace.clone(), name.clone()))
                .or_default()
                .push(c),
            None => report.nameless.push(Nameless {
                kind: c.kind,
                page: c.page,
                inline: c.inline,
            }),
        }
    }
    let rank = |c: &Carved| {
        let reach = if mine.contains(&c.page) {
            0
        } else if other.contains(&c.page) {
            1
        } else {
            2
        };
        (reach, std::cmp::Reverse(latest(s, c)), c.page, c.node)
    };
    let mut placed: Vec<Placed> = Vec::new();
    // Kind and name of every record placed in a known namespace.
    let mut known: HashSet<(&'static str, String)> = HashSet::default();
    let mut lost: Vec<(Key, Vec<&Carved>)> = Vec::new();
    for (key, mut copies) in groups {
        // Cached: a record carved at a branch root gathers its leaves to find its time.
        copies.sort_by_cached_key(|c| rank(c));
        let (kind, ns, name) = &key;
        let Some(ns) = ns else {
            lost.push((key, copies));
            continue;
        };
        let ns = if *kind == "namespace" { name } else { ns };
        let status = match (tx, record_path(kind, &key_bytes(ns), name)) {
            (Some(tx), Some(path)) => match has(tx, &path) {
                Some(true) => Status::Live,
                Some(false) => Status::Deleted,
                None => Status::Unknown,
            },
            _ => Status::Unknown,
        };
        let Some(first) = copies.first() else { continue };
        let pages = copies.iter().map(|c| c.page).collect();
        report.older_copies += copies.len() - 1;
        if status == Status::Deleted && !include_deleted {
            *report.deleted_left_out.entry(kind).or_default() += 1;
            continue;
        }
        if *kind == "image" && opts.deleted_images_only && status != Status::Deleted {
            continue;
        }
        known.insert((
            kind,
            if *kind == "snapshot" {
                snapshot_key(name)
            } else {
                name.clone()
            },
        ));
        placed.push(Placed {
            status,
            namespace: ns.clone(),
            record: (*first).clone(),
            pages,
        });
    }
    // Where the tree has records of each kind and name (a snapshot's by its key): for
    // naming a lost record from the records beside it. `None`: some namespace cannot be read
    // there, so the answer is not known.
    let namespaces = tx.map(|tx| {
        let mut d = Damage::new();
        let all = records::namespace_buckets(tx, &mut d);
        (all, d.is_empty())
    });
    // What status_anywhere takes for unknown whatever the name: namespaces that do not read.
    let unreadable = tx.is_some_and(|tx| matches!(tx.bucket_at(&[b"v1"]), Err(_) | Ok(None)))
        || namespaces.as_ref().is_some_and(|(_, readable)| !readable);
    // Each lost kind's records in the tree, indexed once.
    let mut indexes: HashMap<&'static str, KindIndex<'_>> = HashMap::default();
    if let Some((all, _)) = &namespaces {
        for ((kind, _, _), _) in &lost {
            if !indexes.contains_key(kind)
                && let Some(index) = KindIndex::new(all, kind)
            {
                indexes.insert(kind, index);
            }
        }
    }
    let mut where_cache: HashMap<(&'static str, String), Option<BTreeSet<Location>>> = HashMap::default();
    let mut holder_cache: HashMap<(usize, &'static str), Option<BTreeSet<Location>>> = HashMap::default();
    // The nodes whose bucket elements point at each page.
    let mut holders: HashMap<u64, Vec<usize>> = HashMap::default();
    for (i, n) in s.nodes.iter().enumerate() {
        for e in n.elems.iter().filter(|e| e.bucket) {
            if let Some(child) = e.child {
                holders.entry(child).or_default().push(i);
            }
        }
    }
    for ((kind, _, name), copies) in lost {
        let Some(first) = copies.first() else { continue };
        report.older_copies += copies.len() - 1;
        if tx.is_none() && known.contains(&(kind, name.clone())) {
            // No tree to ask: taken for a copy of the record placed in its namespace.
            report.older_copies += 1;
            continue;
        }
        // The records beside it in the bucket page that holds it (its parent's leaf): when
        // the tree has every one of them in one namespace (and snapshotter) and can read every
        // other namespace there, the page was that namespace's, and so is the record.
        let mut beside: Option<BTreeSet<Location>> = Some(BTreeSet::new());
        for c in &copies {
            let Some(node) = s.nodes.get(c.node) else { continue };
            let parents: Vec<usize> = match node.parent {
                Some((h, _)) => vec![h],
                None => holders.get(&node.page).cloned().unwrap_or_default(),
            };
            for h in parents {
                let at = holder_cache
                    .entry((h, kind))
                    .or_insert_with(|| {
                        let (all, readable) = namespaces.as_ref()?;
                        if !readable {
                            return None;
                        }
                        let hn = s.nodes.get(h)?;
                        let mut found = BTreeSet::new();
                        for e in hn.elems.iter().filter(|e| e.bucket) {
                            let sibling = records::key_name(e.key);
                            let at =
                                where_cache
                                    .entry((kind, sibling.clone()))
                                    .or_insert_with(|| match indexes.get(kind) {
                                        Some(index) => index.locate(&sibling),
                                        None => where_in_tree(all, kind, &sibling),
                                    });
                            found.extend(at.clone()?);
                        }
                        Some(found)
                    })
                    .clone();
                match (&mut beside, at) {
                    (Some(b), Some(at)) => b.extend(at),
                    _ => beside = None,
                }
            }
        }
        let beside = beside.unwrap_or_default();
        let inferred = match (beside.len(), beside.into_iter().next()) {
            (1, Some(at)) => Some(at),
            _ => None,
        };
        if let Some((ns, sn)) = inferred {
            let full = match &sn {
                Some(sn) => format!("{sn}/{name}"),
                None => name.clone(),
            };
            let status = match (tx, record_path(kind, &key_bytes(&ns), &full)) {
                (Some(tx), Some(path)) => match has(tx, &path) {
                    Some(true) => Status::Live,
                    Some(false) => Status::Deleted,
                    None => Status::Unknown,
                },
                _ => Status::Unknown,
            };
            match status {
                Status::Live => {
                    report.older_copies += 1;
                    continue;
                }
                Status::Deleted if !include_deleted => {
                    *report.deleted_left_out.entry(kind).or_default() += 1;
                    continue;
                }
                _ => {}
            }
            if kind == "image" && opts.deleted_images_only && status != Status::Deleted {
                continue;
            }
            *report.namespace_from_siblings.entry(kind).or_default() += 1;
            placed.push(Placed {
                status,
                namespace: ns,
                record: {
                    let mut c = (*first).clone();
                    c.name = Some(full);
                    c
                },
                pages: copies.iter().map(|c| c.page).collect(),
            });
            continue;
        }
        let status = match (tx, indexes.get(kind)) {
            (Some(_), Some(index)) => index.status(&name, unreadable),
            (Some(tx), None) => status_anywhere(tx, kind, &name),
            (None, _) => Status::Unknown,
        };
        match status {
            // An old copy of a record the tree has (under a name we could not find).
            Status::Live => {
                report.older_copies += 1;
                continue;
            }
            Status::Deleted if !include_deleted => {
                *report.deleted_left_out.entry(kind).or_default() += 1;
                continue;
            }
            _ => {}
        }
        if kind == "image" && opts.deleted_images_only && status != Status::Deleted {
            continue;
        }
        // A snapshot named by its key alone goes under the unknown snapshotter.
        let name = if kind == "snapshot" {
            format!("{UNKNOWN_NAMESPACE}/{name}")
        } else {
            name
        };
        *report.unknown_namespace.entry(kind).or_default() += 1;
        placed.push(Placed {
            status,
            namespace: UNKNOWN_NAMESPACE.to_string(),
            record: {
                let mut c = (*first).clone();
                c.name = Some(name);
                c
            },
            pages: copies.iter().map(|c| c.page).collect(),
        });
    }
    placed.sort_by(|a, b| {
        (a.record.kind, &a.namespace, &a.record.name).cmp(&(b.record.kind, &b.namespace, &b.record.name))
    });

    let mut tree = Tree::new();
    let mut copier = Copier {
        s,
        budget: s
            .nodes
            .iter()
            .flat_map(|n| &n.elems)
            .map(|e| (e.key.len() + e.value.len()) as u64 + 16)
            .sum::<u64>()
            .saturating_mul(COPY_PER_BYTE)
            .max(1 << 20),
        exhausted: false,
    };
    if let Some(version) = version(s, mine, other) {
        tree.bucket(&[b"v1"]).put(b"version", version);
    }
    for p in &placed {
        let kind = p.record.kind;
        let name = p.record.name.clone().unwrap_or_default();
        let Some(path) = record_path(kind, &key_bytes(&p.namespace), &name) else {
            continue;
        };
        let refs: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
        let at = format!("{kind} {}/{name} (page {})", p.namespace, p.record.page);
        let mut partial = Vec::new();
        if kind == "namespace" {
            // Only the namespace's labels: its other buckets are records placed on their own.
            let ns_tree = tree.bucket(&refs);
            if let Some(labels) = record_node(s, p.record.node)
                .as_ref()
                .and_then(|n| n.get(b"labels").cloned())
                .filter(|e| e.bucket)
            {
                copier.elem(&labels, ns_tree, refs.len(), &at, &mut partial);
            }
        } else if s.nodes.get(p.record.node).is_some_and(|n| !n.leaf) {
            // Carved whole at its bucket's branch root: copied as a bucket, leaf by leaf.
            let mut seen = HashSet::default();
            copier.page(
                p.record.page,
                tree.bucket(&refs),
                refs.len(),
                &at,
                &mut partial,
                &mut seen,
            );
        } else {
            // Its depth in the view counts from the root: the readers follow MAX_DEPTH levels.
            copier.leaf(p.record.node, tree.bucket(&refs), refs.len(), &at, &mut partial);
        }
        report.partial.extend(partial);
        *report.placed.entry(kind).or_default() += 1;
        if p.status == Status::Deleted {
            *report.deleted_included.entry(kind).or_default() += 1;
        }
    }
    if copier.exhausted {
        report
            .damage
            .push("the salvage view's work budget was spent: records past it were left partial".to_string());
    }
    Salvage { tree, report, placed }
}

/// The key of a snapshot named `<snapshotter>/<key>`.
fn snapshot_key(name: &str) -> String {
    name.split_once('/').map_or(name, |(_, k)| k).to_string()
}

/// v1's `version` value: from a leaf holding `version` beside nothing but buckets, the one the
/// tree reaches first, then the other tree's, then the lowest page.
fn version<'a>(s: &Scan<'a>, mine: &HashSet<u64>, other: &HashSet<u64>) -> Option<&'a [u8]> {
    let mut best: Option<((u8, u64), &'a [u8])> = None;
    for n in s.nodes.iter().filter(|n| n.leaf && !n.is_inline()) {
        let Some(v) = n.get(b"version").filter(|e| !e.bucket) else {
            continue;
        };
        if n.elems.len() < 2 || !n.elems.iter().all(|e| e.bucket || e.key == b"version") {
            continue;
        }
        let rank = (
            if mine.contains(&n.page) {
                0
            } else if other.contains(&n.page) {
                1
            } else {
                2
            },
            n.page,
        );
        if best.is_none_or(|(r, _)| rank < r) {
            best = Some((rank, v.value));
        }
    }
    best.map(|(_, v)| v)
}

/// Opens the containerd root `dir` with the salvage view of its meta.db for records (blobs
/// from its content store), and the records placed. A meta.db neither of whose meta pages is
/// valid is carved whole, at the page size its pages show ([`super::guess_layout`]).
pub fn open_root(dir: &Path, mode: ReadMode, opts: Options) -> Result<(Root, Vec<Placed>), RootError> {
    let (dir, meta_path) = Root::locate(dir)?;
    let salvage = match Db::open(&meta_path, mode) {
        Ok(db) => salvage_db(&db, opts),
        Err(e @ BoltError::NoValidMeta { .. }) => {
            let io = |source| BoltError::Io {
                path: meta_path.clone(),
                source,
            };
            // Every page is looked at: mapped, not read into memory (unless --no-mmap).
            let whole = crate::bolt::Source::open_whole(&meta_path, mode).map_err(io)?;
            let shown = meta_path.display().to_string();
            let data = crate::bolt::DataExtents::of(&meta_path);
            let (page_size, endian) = super::guess_layout(whole.bytes(), &data);
            let mut s = salvage_raw_of(&shown, whole.bytes(), page_size, endian, opts, &data);
            s.report.damage.push(e);
            s
        }
        Err(e) => return Err(e.into()),
    };
    let name = PathBuf::from(format!("{} (salvage view)", meta_path.display()));
    let meta = Db::from_bytes(name, crate::bolt::build::build(&salvage.tree))?;
    let mut root = Root::with_meta(&dir, meta);
    root.salvage = Some(Arc::new(salvage.report));
    Ok((root, salvage.placed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    /// Go's `time.MarshalBinary` of a UTC instant `unix` seconds.
    fn go_time(unix: i64) -> Vec<u8> {
        let mut v = vec![1u8];
        v.extend((unix + 62_135_596_800).to_be_bytes());
        v.extend(0i32.to_be_bytes());
        v.extend([0xff, 0xff]);
        v
    }

    fn elem<'a>(key: &'a [u8], value: &'a [u8]) -> Elem<'a> {
        Elem {
            key,
            value,
            bucket: false,
            child: None,
            inline: None,
        }
    }

    fn carved(node: usize, page: u64, namespace: Option<&str>) -> Carved {
        Carved {
            kind: "content",
            namespace: namespace.map(str::to_string),
            name: Some("sha256:aa".into()),
            fields: Map::new(),
            page,
            inline: false,
            live: Some(false),
            current_reaches: false,
            previous_reaches: false,
            in_previous: false,
            live_elsewhere: Vec::new(),
            partial: Vec::new(),
            node,
        }
    }

    /// A content record's leaf on `page`, created and updated at `t`.
    fn leaf<'a>(page: u64, t: &'a [u8], size: &'a [u8]) -> Node<'a> {
        Node {
            page,
            leaf: true,
            overflow: 0,
            parent: None,
            elems: vec![elem(b"createdat", t), elem(b"size", size), elem(b"updatedat", t)],
        }
    }

    /// The `size` value the view holds for `v1/ns/content/blob/sha256:aa`.
    fn size_in_view(s: &Salvage) -> Option<Vec<u8>> {
        let db = Db::from_bytes("view", crate::bolt::build::build(&s.tree)).ok()?;
        let tx = db.view(MetaChoice::Current).ok()?;
        let b = tx
            .bucket_at(&[b"v1".as_slice(), b"ns", b"content", b"blob", b"sha256:aa"])
            .ok()??;
        b.get(b"size").ok()?.map(<[u8]>::to_vec)
    }

    /// A record's labels bucket whose root is a chain of branch pages, each naming the next
    /// twice (and, `to_self`, one branch naming itself twice): each page is copied once and
    /// every second visit is said, in time and memory linear in the pages, not one visit per
    /// path (2^40 of them).
    #[test]
    fn branches_naming_one_page_twice_are_copied_once() {
        for to_self in [false, true] {
            let t = go_time(1_700_000_000);
            let depth: u64 = if to_self { 1 } else { 40 };
            let branch = |page: u64| {
                let next = if to_self { page } else { page + 1 };
                let child = |key: &'static [u8]| Elem {
                    key,
                    value: b"",
                    bucket: false,
                    child: Some(next),
                    inline: None,
                };
                Node {
                    page,
                    leaf: false,
                    overflow: 0,
                    parent: None,
                    elems: vec![child(b"a"), child(b"b")],
                }
            };
            let mut record = leaf(10, &t, b"\x02");
            record.elems.push(Elem {
                key: b"labels",
                value: b"",
                bucket: true,
                child: Some(20),
                inline: None,
            });
            let mut nodes = vec![record];
            nodes.extend((20..20 + depth).map(branch));
            nodes.push(Node {
                page: 20 + depth,
                leaf: true,
                overflow: 0,
                parent: None,
                elems: vec![elem(b"k", b"v")],
            });
            let scan = Scan {
                by_page: nodes.iter().enumerate().map(|(i, n)| (n.page, i)).collect(),
                nodes,
                file_pages: 100,
                ..Scan::default()
            };
            let r = Recovered {
                records: vec![carved(0, 10, Some("ns"))],
                ..Recovered::default()
            };
            let s = build(&scan, &r, None, Options::default(), Report::default());
            assert_eq!(size_in_view(&s), Some(b"\x02".to_vec()), "to_self {to_self}");
            let twice: Vec<&String> = s
                .report
                .partial
                .iter()
                .filter(|p| p.contains("reached a second time"))
                .collect();
            // One per branch, its second element naming the page its first one copied; both
            // of a branch naming itself.
            let want = if to_self { 2 } else { depth };
            assert_eq!(twice.len() as u64, want, "to_self {to_self}: {:?}", s.report.partial);
            assert!(twice[0].contains("/labels: page"), "{twice:?}");
        }
    }

    /// The tree's records of each kind indexed once answer where and whether a name is, as
    /// asking every namespace did: several namespaces, snapshotters, a name in two of them, a
    /// name kept as a plain value, names nowhere.
    #[test]
    fn indexed_kinds_answer_as_every_namespace_asked() {
        let mut root = Tree::new();
        for ns in [b"a".as_slice(), b"b", b"c"] {
            root.bucket(&[b"v1", ns]).put(b"x", b"y");
        }
        root.bucket(&[b"v1", b"a", b"images", b"x:1"]).put(b"createdat", b"t");
        root.bucket(&[b"v1", b"b", b"images", b"x:1"]).put(b"createdat", b"t");
        root.bucket(&[b"v1", b"b", b"images", b"y:1"]).put(b"createdat", b"t");
        root.bucket(&[b"v1", b"b", b"images"]).put(b"plain", b"value");
        for i in 0..200 {
            root.bucket(&[b"v1", b"c", b"content", b"blob", format!("sha256:{i:03}").as_bytes()])
                .put(b"size", b"\x02");
        }
        root.bucket(&[b"v1", b"a", b"snapshots", b"overlayfs", b"k"])
            .put(b"kind", b"\x01");
        root.bucket(&[b"v1", b"a", b"snapshots", b"native", b"k"])
            .put(b"kind", b"\x01");
        root.bucket(&[b"v1", b"c", b"snapshots", b"overlayfs", b"j"])
            .put(b"kind", b"\x01");
        root.bucket(&[b"v1", b"c", b"leases", b"l"]).put(b"createdat", b"t");
        let db = Db::from_bytes("tree", crate::bolt::build::build(&root)).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let mut d = Damage::new();
        let all = records::namespace_buckets(&tx, &mut d);
        assert!(d.is_empty() && all.len() == 3);
        let names = [
            "x:1",
            "y:1",
            "plain",
            "sha256:007",
            "sha256:199",
            "sha256:200",
            "k",
            "j",
            "l",
            "",
            "nothing",
        ];
        for kind in ["image", "content", "ingest", "lease", "container", "snapshot"] {
            let index = KindIndex::new(&all, kind).unwrap();
            for name in names {
                assert_eq!(index.locate(name), where_in_tree(&all, kind, name), "{kind} {name}");
                assert_eq!(
                    index.status(name, false),
                    status_anywhere(&tx, kind, name),
                    "{kind} {name}"
                );
            }
        }
        let images = KindIndex::new(&all, "image").unwrap();
        assert_eq!(images.status("x:1", false), Status::Live);
        assert_eq!(images.status("x:1", true), Status::Unknown);
        assert_eq!(images.status("z:1", false), Status::Deleted);
        let snapshots = KindIndex::new(&all, "snapshot").unwrap();
        assert_eq!(snapshots.locate("k").map(|l| l.len()), Some(2));
        assert!(KindIndex::new(&all, "namespace").is_none());
    }

    #[test]
    fn the_copy_the_tree_reaches_then_the_latest() {
        let (old, new) = (go_time(1_700_000_000), go_time(1_700_000_100));
        let scan = Scan {
            nodes: vec![leaf(10, &old, b"\x02"), leaf(11, &new, b"\x04")],
            by_page: [(10, 0), (11, 1)].into_iter().collect(),
            file_pages: 12,
            ..Scan::default()
        };
        let mut r = Recovered {
            records: vec![carved(0, 10, Some("ns")), carved(1, 11, Some("ns"))],
            ..Recovered::default()
        };
        // No tree to ask: status unknown, both copies stale: the latest updatedat.
        let s = build(&scan, &r, None, Options::default(), Report::default());
        assert_eq!(size_in_view(&s), Some(b"\x04".to_vec()));
        assert_eq!(s.report.older_copies, 1);
        assert_eq!(s.placed.len(), 1);
        assert_eq!(s.placed[0].pages, [11, 10]);
        // The copy the tree reaches wins over a later one.
        r.reach_current.insert(10);
        let s = build(&scan, &r, None, Options::default(), Report::default());
        assert_eq!(size_in_view(&s), Some(b"\x02".to_vec()));
        // With --previous, the previous tree's copy.
        r.reach_previous.insert(11);
        let opts = Options {
            previous: true,
            ..Options::default()
        };
        let s = build(&scan, &r, None, opts, Report::default());
        assert_eq!(size_in_view(&s), Some(b"\x04".to_vec()));
    }

    #[test]
    fn without_a_namespace_under_unknown_without_a_name_reported() {
        let scan = Scan {
            nodes: vec![Node {
                page: 5,
                leaf: true,
                overflow: 0,
                parent: None,
                elems: vec![elem(b"createdat", b""), elem(b"size", b"\x02")],
            }],
            by_page: [(5, 0)].into_iter().collect(),
            ..Scan::default()
        };
        let mut nameless = carved(0, 5, None);
        nameless.name = None;
        let r = Recovered {
            records: vec![carved(0, 5, None), nameless],
            ..Recovered::default()
        };
        let s = build(&scan, &r, None, Options::default(), Report::default());
        assert_eq!(s.placed.len(), 1);
        assert_eq!(s.placed[0].namespace, UNKNOWN_NAMESPACE);
        assert_eq!(s.report.unknown_namespace.get("content"), Some(&1));
        assert_eq!(s.report.nameless.len(), 1);
        let lines = s.report.lines();
        assert!(
            lines
                .iter()
                .any(|l| l.contains("1 content record(s) without a name, not placed (pages 5)"))
        );
    }

    #[test]
    fn record_paths_follow_the_schema() {
        let p = |kind, name| {
            record_path(kind, b"ns", name).map(|p| p.iter().map(|k| records::key_name(k)).collect::<Vec<_>>().join("/"))
        };
        assert_eq!(
            p("content", "sha256:aa").as_deref(),
            Some("v1/ns/content/blob/sha256:aa")
        );
        assert_eq!(p("ingest", "r").as_deref(), Some("v1/ns/content/ingests/r"));
        assert_eq!(
            p("snapshot", "overlayfs/a/b").as_deref(),
            Some("v1/ns/snapshots/overlayfs/a/b")
        );
        assert_eq!(p("snapshot", "nosnapshotter"), None);
        assert_eq!(p("namespace", "ns").as_deref(), Some("v1/ns"));
        assert_eq!(p("whatever", "x"), None);
    }
}
