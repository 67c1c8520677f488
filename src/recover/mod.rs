//! Carving: containerd records rebuilt from every page of meta.db that parses as a bbolt
//! node, reachable or not (freed pages, pages of older transactions), and each compared with
//! the current tree.
//!
//! ```text
//! scan (scan.rs) ──► nodes: pages and inline bucket pages that parse
//!                      │  a record is a leaf whose keys have a record's shape:
//!                      │    image      target/ (+ createdat, updatedat, labels/, annotations/)
//!                      │    content    size + createdat/updatedat (+ labels/), nothing else
//!                      │    lease      createdat, no updatedat (+ labels/ content/ ingests/
//!                      │               snapshots/ images/)
//!                      │    container  snapshotKey | snapshotter | runtime/ | spec
//!                      │    snapshot   name + createdat/parent/children/
//!                      │    ingest     ref (+ expireat, expected)
//!                      │    namespace  only images/ content/ leases/ containers/ snapshots/ labels/
//!                      │    backend_snapshot  id + kind (a snapshotter's metadata.db)
//!                      ▼
//! names ──► the key of the element that holds the record: the inline bucket's own element,
//!           or a bucket element (or branch element) whose page id is the record's page,
//!           followed up to the root: v1/<ns>/<kind bucket>/<name>
//! ```
//!
//! Links from stale pages are not trustworthy (a stale parent can point at a page since reused
//! for another bucket of the same shape), so a parent that the current tree reaches is
//! preferred over one the previous tree reaches, and both over stale ones; a path is used only
//! when it has the shape of the record's kind. A record whose page has no surviving parent is
//! nameless (`name: null`): a record page does not hold its own name.

mod merged;
mod scan;
pub mod view;

pub use merged::Merged;
pub use scan::{Elem, Node, Scan, scan};

use crate::bolt::check::usage;
use crate::bolt::{Db, MetaChoice};
use crate::containerd::encoding::{uvarint_exact, varint_exact};
use crate::containerd::gotime::GoTime;
use crate::containerd::records::{self, Damage, key_name, string};
use crate::containerd::schema::snapshot_kind;
use crate::meta_diff::{RecordKey, records_of};
use foldhash::{HashMap, HashSet};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// One record rebuilt from a page.
#[derive(Clone, Debug, Serialize)]
pub struct Carved {
    pub kind: &'static str,
    /// `null` when no chain of parents up to `v1/<namespace>` survives.
    pub namespace: Option<String>,
    /// `null` when no parent element naming the record survives. Snapshots are named
    /// `<snapshotter>/<key>` when the namespace is known, else by their key alone.
    pub name: Option<String>,
    pub fields: Map<String, Value>,
    /// The page the record's leaf is on (for an inline bucket, the page holding it).
    pub page: u64,
    /// True when the record is an inline bucket inside `page`.
    pub inline: bool,
    /// The current tree has a record of this kind, namespace and name; `null` when the
    /// current tree does not read at all (no valid meta page, or its root page unreadable):
    /// then nothing says whether the record was deleted.
    pub live: Option<bool>,
    /// The current tree reaches `page`.
    pub current_reaches: bool,
    /// The previous meta's tree reaches `page`.
    pub previous_reaches: bool,
    /// The previous tree has a record of this kind, namespace and name.
    pub in_previous: bool,
    /// For a record whose namespace is unknown: the namespaces where the current tree has a
    /// record of this kind and name (an old copy of a kept record, most likely), else empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub live_elsewhere: Vec<String>,
    /// What the sub-buckets the record names held, when their pages could not be read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partial: Vec<String>,
    /// The index of the record's node in the scan it was carved from.
    #[serde(skip)]
    pub node: usize,
}

/// Everything carved from one file.
#[derive(Debug, Default, Serialize)]
pub struct Recovered {
    pub records: Vec<Carved>,
    /// Pages in the file and how many of them parse as nodes.
    pub file_pages: u64,
    pub node_pages: u64,
    /// Pages claiming overflow spans that were left unchecked to keep the work bounded
    /// (forged headers; see `scan.rs`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unchecked_pages: Vec<u64>,
    /// Nodes carved with fewer elements than their header counts: page, kept, claimed.
    #[serde(skip)]
    pub cut_pages: Vec<(u64, usize, u16)>,
    /// Nodes whose header's id is not their position, carved as the page at their position:
    /// page, claimed id (see `scan.rs`).
    #[serde(skip)]
    pub misnumbered_pages: Vec<(u64, u64)>,
    /// Damage met reading the current and previous trees (where, and what).
    pub damage: Damage,
    /// The pages each meta's tree reaches (empty when no meta is valid).
    #[serde(skip)]
    pub reach_current: HashSet<u64>,
    #[serde(skip)]
    pub reach_previous: HashSet<u64>,
    /// Pages taken for the root bucket's page because they hold only a `v1` bucket, when no
    /// meta page names one (see [`recover_raw`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inferred_roots: Vec<u64>,
}

/// Carves `db`, comparing every record with the trees of both meta pages.
pub fn recover(db: &Db) -> Recovered {
    // The holes of a sparse file are passed over, not read.
    let data = db.data();
    let s = scan(db.file(), db.page_size(), db.endian(), data);
    recover_scanned(db, &s)
}

/// The current tree's records by name, for the carved records whose namespace did not
/// survive: which namespaces hold a record of that kind and name (a snapshot without its
/// namespace is named by its key alone, so a live `SNAPSHOTTER/…/KEY` counts too). Looked up,
/// not searched: 40,000 namespace-less copies against as many live records took 12 s searched.
struct LiveNames<'k> {
    by_name: HashMap<(&'static str, &'k str), Vec<&'k RecordKey>>,
    /// Live snapshots' names reversed, sorted: the names ending in `/KEY` are one range.
    snapshots_reversed: Vec<(Vec<u8>, &'k RecordKey)>,
}

impl<'k> LiveNames<'k> {
    fn of(live: &'k BTreeSet<RecordKey>) -> Self {
        let mut by_name: HashMap<(&'static str, &'k str), Vec<&'k RecordKey>> = HashMap::default();
        let mut snapshots_reversed = Vec::new();
        for k in live {
            by_name.entry((k.kind, k.name.as_str())).or_default().push(k);
            if k.kind == "snapshot" {
                snapshots_reversed.push((k.name.bytes().rev().collect::<Vec<u8>>(), k));
            }
        }
        snapshots_reversed.sort();
        LiveNames {
            by_name,
            snapshots_reversed,
        }
    }

    /// The namespaces of the live records of `kind` named `name` (and, for a snapshot, whose
    /// name ends in `/name`), in the live records' order.
    fn namespaces(&self, kind: &'static str, name: &str) -> Vec<String> {
        let mut found: Vec<&RecordKey> = self.by_name.get(&(kind, name)).cloned().unwrap_or_default();
        if kind == "snapshot" {
            let mut suffix: Vec<u8> = name.bytes().rev().collect();
            suffix.push(b'/');
            let from = self.snapshots_reversed.partition_point(|(r, _)| *r < suffix);
            found.extend(
                self.snapshots_reversed
                    .get(from..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|(r, _)| r.starts_with(&suffix))
                    .map(|(_, k)| *k),
            );
            found.sort();
        }
        found.into_iter().map(|k| k.namespace.clone()).collect()
    }
}

/// [`recover`] over a scan of `db` already made (the salvage view keeps the scan's nodes).
pub fn recover_scanned(db: &Db, s: &Scan<'_>) -> Recovered {
    let mut damage = Damage::new();
    let mut live = BTreeSet::new();
    let mut previous = BTreeSet::new();
    let mut roots = HashSet::default();
    let mut reach_current = HashSet::default();
    let mut reach_previous = HashSet::default();
    // Whether the current tree reads at all: when not, no record is known to be deleted.
    let mut current_reads = false;
    for (choice, keys, reach) in [
        (MetaChoice::Current, &mut live, &mut reach_current),
        (MetaChoice::Previous, &mut previous, &mut reach_previous),
    ] {
        let tx = match db.view(choice) {
            Ok(tx) => tx,
            Err(e) => {
                damage.push(e);
                continue;
            }
        };
        roots.insert(tx.meta().root);
        // Both containerd's meta.db and a snapshotter's metadata.db hold everything under `v1`:
        // a root page that does not read leaves the whole tree unknown.
        if let Err(e) = tx.bucket_at(&[b"v1".as_slice()]) {
            if choice == MetaChoice::Current {
                // Said once; the usage walk would add one "unreachable" line per page.
                damage.push(format!(
                    "the current tree does not read, so whether a record is live is unknown: {e}"
                ));
            }
            continue;
        }
        if choice == MetaChoice::Current {
            current_reads = true;
        }
        let mut d = Damage::new();
        if is_snapshotter_db(&tx) {
            keys.extend(records::backend_snapshots(&tx, &mut d).into_iter().map(|b| RecordKey {
                kind: "backend_snapshot",
                namespace: String::new(),
                name: b.key,
            }));
        } else {
            keys.extend(records_of(&tx, &mut d).into_keys());
        }
        let u = usage(&tx);
        reach.extend(u.reachable.into_keys());
        if choice == MetaChoice::Current {
            damage.extend(findings_said(&u.findings, db));
            for n in d.iter() {
                damage.push(n.clone());
            }
        }
    }
    // Neither meta's root page survives as a node: take the pages holding only a `v1` bucket
    // for roots, as when no meta is valid (see [`recover_raw_scanned`]).
    let mut inferred = Vec::new();
    if !roots.iter().any(|r| s.by_page.contains_key(r)) {
        inferred = root_candidates(s);
        roots.extend(inferred.iter().copied());
    }
    let mut r = carve(s, &roots, &reach_current, &reach_previous);
    r.inferred_roots = inferred;
    let elsewhere = LiveNames::of(&live);
    for c in &mut r.records {
        // Not in the tree unless found there (a record without its namespace or name is
        // not), when the tree reads; unknown when it does not.
        c.live = current_reads.then_some(false);
        if let (None, Some(name)) = (&c.namespace, &c.name) {
            c.live_elsewhere = elsewhere.namespaces(c.kind, name);
        }
        if let (Some(ns), Some(name)) = (&c.namespace, &c.name) {
            let key = RecordKey {
                kind: c.kind,
                namespace: if c.kind == "namespace" {
                    String::new()
                } else {
                    ns.clone()
                },
                name: name.clone(),
            };
            c.live = current_reads.then(|| live.contains(&key));
            c.in_previous = previous.contains(&key);
        }
    }
    if let Some(first) = r.unchecked_pages.first() {
        damage.push(format!(
            "{} pages from page {first} claim overflow spans past what a bbolt file holds; left unchecked",
            r.unchecked_pages.len()
        ));
    }
    for &(page, kept, claimed) in r.cut_pages.iter().take(20) {
        damage.push(db.corrupt(
            page,
            page.saturating_mul(u64::from(db.page_size())),
            format!("{kept} elements carved where its header counts {claimed}: its count or elements damaged"),
        ));
    }
    if r.cut_pages.len() > 20 {
        damage.push(format!("and {} more pages cut so", r.cut_pages.len() - 20));
    }
    // First: what the carving made of pages the tree reader refused, before the findings
    // that refusal leaves (a report shows its first few).
    let mut notes = misnumbered_notes(&r, &db.path().display().to_string(), db.page_size());
    notes.extend(damage);
    r.damage = notes;
    r.reach_current = reach_current;
    r.reach_previous = reach_previous;
    r
}

/// The audit's findings as `recover` says them: each with the file, and with its page's offset
/// when it is about one page; a finding met on many pages once, as a count with the page
/// ranges (sweep 43: a damaged leaf left 127 lines of `page N: unreachable unfreed`). A
/// finding whose message names its place already (a read error) is said as it is.
fn findings_said(findings: &[crate::bolt::check::Finding], db: &Db) -> Damage {
    let path = db.path().display().to_string();
    let ps = u64::from(db.page_size());
    // Pages by message, messages in the order first met.
    let mut order: Vec<&str> = Vec::new();
    let mut pages: HashMap<&str, Vec<u64>> = HashMap::default();
    let mut d = Damage::new();
    for f in findings {
        match f.page {
            Some(p) if !f.message.contains(&path) => {
                let at = pages.entry(f.message.as_str()).or_default();
                if at.is_empty() {
                    order.push(f.message.as_str());
                }
                at.push(p);
            }
            Some(_) => d.push(f.to_string()),
            None if f.message.contains(&path) => d.push(f.message.clone()),
            None => d.push(format!("{path}: {}", f.message)),
        }
    }
    for message in order {
        let Some(mut ids) = pages.remove(message) else { continue };
        ids.sort_unstable();
        ids.dedup();
        match ids.as_slice() {
            [p] => {
                let offset = p.saturating_mul(ps);
                d.push(crate::damage::Note {
                    file: Some(path.clone()),
                    page: Some(*p),
                    offset: Some(offset),
                    message: format!("{path}: page {p} (offset {offset}): {message}"),
                    unreadable: false,
                });
            }
            _ => d.push(format!(
                "{path}: pages {} ({} pages): {message}",
                page_ranges(&ids),
                ids.len()
            )),
        }
    }
    d
}

/// Sorted, distinct page ids as ranges (`2-128`, `4,7-9`), the first 10 ranges then `,...`.
fn page_ranges(ids: &[u64]) -> String {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &id in ids {
        match runs.last_mut() {
            Some((_, end)) if end.checked_add(1) == Some(id) => *end = id,
            _ => runs.push((id, id)),
        }
    }
    let mut out: Vec<String> = runs
        .iter()
        .take(10)
        .map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") })
        .collect();
    if runs.len() > 10 {
        out.push("...".into());
    }
    out.join(",")
}

/// Each page carved although its header's id is another (at most 20, then how many more), named
/// with the file `path` of `page_size`-byte pages, its offset and the id it claims.
pub fn misnumbered_notes(r: &Recovered, path: &str, page_size: u32) -> Damage {
    let mut d = Damage::new();
    for &(page, claimed) in r.misnumbered_pages.iter().take(20) {
        let offset = page.saturating_mul(u64::from(page_size));
        d.push(crate::damage::Note {
            file: Some(path.to_string()),
            page: Some(page),
            offset: Some(offset),
            message: format!(
                "{path}: page {page} (offset {offset}): its header says it is page {claimed}; carved as the page at its position, which its parent's pointer names (bbolt 1.3.6 reads it so; 1.3.7 and later refuse it)"
            ),
            unreadable: false,
        });
    }
    if r.misnumbered_pages.len() > 20 {
        d.push(format!(
            "{path}: and {} more pages whose header names another page, carved so",
            r.misnumbered_pages.len() - 20
        ));
    }
    d
}

/// A snapshotter's metadata.db (`v1/snapshots` and `v1/parents`), not meta.db: its records are
/// the backend snapshots.
fn is_snapshotter_db(tx: &crate::bolt::Tx<'_>) -> bool {
    matches!(tx.bucket_at(&[b"v1".as_slice(), b"parents"]), Ok(Some(_)))
}

/// The page size of a file whose meta pages are both gone, when its pages do not say another:
/// bbolt's on linux/amd64.
pub const DEFAULT_PAGE_SIZE: u32 = 4096;

/// Pages looked at per candidate page size by [`guess_layout`], spread over the file.
const GUESS_SAMPLES: u64 = 4096;

/// The page sizes [`guess_layout`] tries: 512 bytes to 1 MiB.
const GUESS_SHIFTS: std::ops::RangeInclusive<u32> = 9..=20;

/// The page size and byte order of a bbolt file whose meta pages are both gone, read off its
/// other pages: bbolt writes each page's own id at its start, so page `k` of a file of `P`-byte
/// pages begins, at `k * P`, with `k`, a page type and an element count its page (with its
/// overflow) holds. At any other size those offsets fall inside pages (or on pages whose id is
/// another number). bbolt takes the OS page size, so a file from an ARM64 node can have 16 or
/// 64 KiB pages, and one from s390x big-endian numbers. Each power of two from 512 bytes to
/// 1 MiB is tried on up to [`GUESS_SAMPLES`] pages, holes passed over; a layout other than
/// [`DEFAULT_PAGE_SIZE`] little-endian must have more such pages than it to be taken (a wreck
/// with a few headers left, and bytes inside a page that happen to look like one, stays 4 KiB).
pub fn guess_layout(file: &[u8], data: &crate::bolt::DataExtents) -> (u32, crate::bytes::Endian) {
    use crate::bytes::Endian;
    let default = (DEFAULT_PAGE_SIZE, Endian::Little);
    let mut best = (pages_at(file, data, DEFAULT_PAGE_SIZE.into(), Endian::Little), default);
    for shift in GUESS_SHIFTS {
        for endian in [Endian::Little, Endian::Big] {
            let size = 1u64 << shift;
            if (size, endian) == (u64::from(DEFAULT_PAGE_SIZE), Endian::Little) {
                continue;
            }
            let found = pages_at(file, data, size, endian);
            if found > best.0 {
                best = (found, (size as u32, endian));
            }
        }
    }
    best.1
}

/// How many of the sampled pages of `file`, cut in `size`-byte pages of `endian` numbers, start
/// with a header bbolt could have written there: their own id, a page type, and elements that
/// fit the page and its overflow.
fn pages_at(file: &[u8], data: &crate::bolt::DataExtents, size: u64, endian: crate::bytes::Endian) -> u64 {
    use crate::bolt::page::{BRANCH, ELEMENT_SIZE, FREELIST, HEADER_SIZE, LEAF, META};
    use crate::bytes::Bytes;
    let pages = file.len() as u64 / size;
    if pages < 3 {
        return 0;
    }
    let step = (pages / GUESS_SAMPLES).max(1);
    let mut found = 0u64;
    // Pages 0 and 1 are the metas (gone); a page whose id is its place from 2 on.
    let mut k = 2u64;
    while k < pages {
        let at = k * size;
        if data.covers(at, 16)
            && let Some(head) = usize::try_from(at).ok().and_then(|a| file.get(a..a.checked_add(16)?))
        {
            let b = Bytes::new(head, endian);
            // A freelist lists 8-byte page ids; branches and leaves 16-byte elements.
            let holds = |flags: u16, count: u16, overflow: u32| {
                let each: u64 = if flags == FREELIST { 8 } else { ELEMENT_SIZE as u64 };
                let need = HEADER_SIZE as u64 + u64::from(count) * each;
                need <= size.saturating_mul(u64::from(overflow) + 1)
            };
            let flags = b.u16_at(8).filter(|f| matches!(*f, BRANCH | LEAF | META | FREELIST));
            if b.u64_at(0) == Some(k)
                && let (Some(flags), Some(count), Some(overflow)) = (flags, b.u16_at(10), b.u32_at(12))
                && holds(flags, count, overflow)
            {
                found += 1;
            }
        }
        k += step;
    }
    found
}

/// Carves a file no meta page describes: every record `live: null` (unknown), nothing reaches a
/// page.
pub fn recover_raw(file: &[u8], page_size: u32, endian: crate::bytes::Endian) -> Recovered {
    recover_raw_of(file, page_size, endian, &crate::bolt::DataExtents::whole())
}

/// [`recover_raw`] of a file whose holes are known (`data`: passed over, never read).
pub fn recover_raw_of(
    file: &[u8],
    page_size: u32,
    endian: crate::bytes::Endian,
    data: &crate::bolt::DataExtents,
) -> Recovered {
    recover_raw_scanned(&scan(file, page_size, endian, data))
}

/// [`recover_raw`] over a scan already made. Without a meta page naming the root bucket's
/// page, every page whose leaf holds nothing but a `v1` bucket is taken for one (containerd's
/// root bucket holds only `v1`; a snapshotter's too): names then come down from it as they
/// would from a meta's root, stale ones ranking as any stale link does.
pub fn recover_raw_scanned(s: &Scan<'_>) -> Recovered {
    let none = HashSet::default();
    let inferred = root_candidates(s);
    let roots: HashSet<u64> = inferred.iter().copied().collect();
    let mut r = carve(s, &roots, &none, &none);
    r.inferred_roots = inferred;
    r
}

/// The pages whose leaf holds nothing but a `v1` bucket, in page order.
fn root_candidates(s: &Scan<'_>) -> Vec<u64> {
    let mut pages: Vec<u64> = s
        .nodes
        .iter()
        .filter(|n| {
            !n.is_inline() && n.leaf && n.elems.len() == 1 && n.elems.iter().all(|e| e.bucket && e.key == b"v1")
        })
        .map(|n| n.page)
        .collect();
    pages.sort_unstable();
    pages.dedup();
    pages
}

/// The records in a scan, without the live check (`live` and `in_previous` false). `roots` are
/// the root-bucket pages of the metas; `current`/`previous` the pages each tree reaches.
pub fn carve(s: &Scan<'_>, roots: &HashSet<u64>, current: &HashSet<u64>, previous: &HashSet<u64>) -> Recovered {
    let mut names = Names::new(s, roots, current, previous);
    let mut records = Vec::new();
    let mut copies = HashMap::default();
    let merged = Merged::of(s, current);
    // A record split over leaves under its bucket's branch root is carved once, whole, at
    // the branch: its leaves are not records of their own.
    let mut parts: HashSet<usize> = HashSet::default();
    for whole in merged.by_page.values() {
        if classify(&whole.node).is_some() {
            parts.extend(whole.leaves.iter().copied());
        }
    }
    // A leaf below a bucket's branch root that could not be merged holds only part of that
    // bucket: a record carved there is said to be a part (sweep 36.10). Only a page-level leaf
    // that is no bucket's own root: an inline record inside a leaf is whole, and so is a
    // bucket whose root page a stale branch happens to name (bbolt reuses freed pages).
    let mut part_of: HashMap<u64, String> = HashMap::default();
    for u in &merged.unmerged {
        for leaf in &u.leaves {
            part_of.insert(
                *leaf,
                format!(
                    "page {leaf} is one leaf of a bucket split over the leaves below branch page {}, which could not be read whole ({}): this is part of a record",
                    u.page, u.why
                ),
            );
        }
    }
    for (i, page_node) in s.nodes.iter().enumerate() {
        let node = match (page_node.leaf, merged.get(page_node.page)) {
            (true, _) if parts.contains(&i) => continue,
            (true, _) => page_node,
            (false, Some(whole)) if !page_node.is_inline() => whole,
            (false, _) => continue,
        };
        let Some(kind) = classify(node) else {
            continue;
        };
        let (namespace, name) = names.place(i, kind);
        let is_part = node.leaf && !node.is_inline() && !merged.roots.contains(&node.page);
        let mut partial: Vec<String> = part_of
            .get(&node.page)
            .filter(|_| is_part)
            .cloned()
            .into_iter()
            .collect();
        let fields = fields(s, &merged, node, kind, &mut copies, &mut partial);
        records.push(Carved {
            kind,
            namespace,
            name,
            fields,
            page: node.page,
            inline: node.is_inline(),
            live: None,
            current_reaches: current.contains(&node.page),
            previous_reaches: previous.contains(&node.page),
            in_previous: false,
            live_elsewhere: Vec::new(),
            partial,
            node: i,
        });
    }
    Recovered {
        records,
        file_pages: s.file_pages,
        node_pages: s.by_page.len() as u64,
        unchecked_pages: s.unchecked.clone(),
        cut_pages: s.cut.clone(),
        misnumbered_pages: s.misnumbered.clone(),
        damage: Damage::new(),
        reach_current: HashSet::default(),
        reach_previous: HashSet::default(),
        inferred_roots: Vec::new(),
    }
}

/// The kind of record a leaf holds, by its keys.
pub fn classify(node: &Node<'_>) -> Option<&'static str> {
    let has = |k: &str| node.get(k.as_bytes()).is_some();
    let bucket = |k: &str| node.get(k.as_bytes()).is_some_and(|e| e.bucket);
    let value = |k: &str| node.get(k.as_bytes()).is_some_and(|e| !e.bucket);
    let only = |allowed: &[&str]| node.elems.iter().all(|e| allowed.iter().any(|a| a.as_bytes() == e.key));
    if node.elems.is_empty() {
        return None;
    }
    if bucket("target") && only(&["createdat", "updatedat", "target", "labels", "annotations"]) {
        return Some("image");
    }
    if value("size")
        && (value("createdat") || value("updatedat"))
        && only(&["createdat", "updatedat", "size", "labels"])
    {
        return Some("content");
    }
    if (value("snapshotKey") || value("snapshotter") || bucket("runtime") || value("spec"))
        && only(&[
            "createdat",
            "updatedat",
            "image",
            "snapshotter",
            "snapshotKey",
            "sandboxid",
            "spec",
            "runtime",
            "extensions",
            "labels",
        ])
    {
        return Some("container");
    }
    if value("name")
        && (value("createdat") || has("parent") || bucket("children"))
        && only(&["name", "parent", "children", "createdat", "updatedat", "labels"])
    {
        return Some("snapshot");
    }
    if value("id")
        && value("kind")
        && only(&[
            "id",
            "kind",
            "parent",
            "createdat",
            "updatedat",
            "labels",
            "size",
            "inodes",
        ])
    {
        return Some("backend_snapshot");
    }
    if value("ref") && only(&["ref", "expireat", "expected"]) {
        return Some("ingest");
    }
    if value("createdat") && only(&["createdat", "labels", "content", "ingests", "snapshots", "images"]) {
        return Some("lease");
    }
    if node.elems.iter().all(|e| e.bucket)
        && only(&[
            "images",
            "content",
            "leases",
            "containers",
            "snapshots",
            "labels",
            "sandboxes",
        ])
    {
        return Some("namespace");
    }
    None
}

/// Where a record sits in the tree, `v1/<ns>/...`: (namespace, name) for its kind.
fn place_path(kind: &str, path: &[&[u8]]) -> Option<(String, String)> {
    let n = |b: &[u8]| key_name(b);
    match (kind, path) {
        ("namespace", [b"v1", ns]) => Some((n(ns), n(ns))),
        ("image", [b"v1", ns, b"images", name]) => Some((n(ns), n(name))),
        ("content", [b"v1", ns, b"content", b"blob", d]) => Some((n(ns), n(d))),
        ("ingest", [b"v1", ns, b"content", b"ingests", r]) => Some((n(ns), n(r))),
        ("lease", [b"v1", ns, b"leases", id]) => Some((n(ns), n(id))),
        ("container", [b"v1", ns, b"containers", id]) => Some((n(ns), n(id))),
        ("snapshot", [b"v1", ns, b"snapshots", sn, key]) => Some((n(ns), format!("{}/{}", n(sn), n(key)))),
        // A snapshotter's own metadata.db: v1/snapshots/<backend key>, no namespace.
        ("backend_snapshot", [b"v1", b"snapshots", key]) => Some((String::new(), n(key))),
        _ => None,
    }
}

/// A link from a holder element to a node's page.
#[derive(Clone, Copy)]
struct Link {
    holder: usize,
    elem: usize,
    /// A bucket element (its key names the child bucket); false for a branch element.
    names: bool,
}

/// Resolves nodes to their bucket paths from the root, memoized, preferring trusted links.
struct Names<'s, 'a> {
    s: &'s Scan<'a>,
    roots: &'s HashSet<u64>,
    links: HashMap<u64, Vec<Link>>,
    memo: HashMap<usize, Option<Vec<&'a [u8]>>>,
    busy: HashSet<usize>,
}

impl<'s, 'a> Names<'s, 'a> {
    fn new(s: &'s Scan<'a>, roots: &'s HashSet<u64>, current: &HashSet<u64>, previous: &HashSet<u64>) -> Self {
        let mut links: HashMap<u64, Vec<Link>> = HashMap::default();
        for (holder, node) in s.nodes.iter().enumerate() {
            for (elem, e) in node.elems.iter().enumerate() {
                if let Some(child) = e.child {
                    links.entry(child).or_default().push(Link {
                        holder,
                        elem,
                        names: e.bucket,
                    });
                }
            }
        }
        // Trust order: holders the current tree reaches, then the previous tree's, then the
        // rest in page order.
        let rank = |page: u64| {
            if current.contains(&page) {
                0
            } else if previous.contains(&page) {
                1
            } else {
                2
            }
        };
        for list in links.values_mut() {
            list.sort_by_key(|l| (s.nodes.get(l.holder).map_or(2, |n| rank(n.page)), l.holder));
        }
        Names {
            s,
            roots,
            links,
            memo: HashMap::default(),
            busy: HashSet::default(),
        }
    }

    /// The keys leading from the root bucket to the bucket node `i` belongs to.
    fn path(&mut self, i: usize, depth: usize) -> Option<Vec<&'a [u8]>> {
        if let Some(p) = self.memo.get(&i) {
            return p.clone();
        }
        if depth > 2 * crate::bolt::MAX_DEPTH || !self.busy.insert(i) {
            return None;
        }
        let s = self.s;
        let node = s.nodes.get(i)?;
        let found = match node.parent {
            Some((holder, elem)) => {
                let key = s.nodes.get(holder).and_then(|h| h.elems.get(elem)).map(|e| e.key);
                match (self.path(holder, depth + 1), key) {
                    (Some(mut p), Some(k)) => {
                        p.push(k);
                        Some(p)
                    }
                    _ => None,
                }
            }
            None if self.roots.contains(&node.page) => Some(Vec::new()),
            None => {
                let links = self.links.get(&node.page).cloned().unwrap_or_default();
                let mut found = None;
                for l in links {
                    if let Some(mut p) = self.path(l.holder, depth + 1) {
                        if l.names {
                            let key = s.nodes.get(l.holder).and_then(|h| h.elems.get(l.elem)).map(|e| e.key);
                            let Some(k) = key else { continue };
                            p.push(k);
                        }
                        found = Some(p);
                        break;
                    }
                }
                found
            }
        };
        self.busy.remove(&i);
        self.memo.insert(i, found.clone());
        found
    }

    /// (namespace, name) of the record at node `i`: both from a path of the kind's shape, or
    /// only the name from the element that holds the record, or neither.
    fn place(&mut self, i: usize, kind: &str) -> (Option<String>, Option<String>) {
        if let Some((ns, name)) = self.path(i, 0).and_then(|p| place_path(kind, &p)) {
            let ns = if kind == "namespace" { String::new() } else { ns };
            return (Some(ns), Some(name));
        }
        let s = self.s;
        let Some(node) = s.nodes.get(i) else {
            return (None, None);
        };
        // Only a holder whose own place is unknown can name the record: one with a known path
        // that does not fit the kind (a kind bucket pointing at the page, say) names nothing.
        let holder = match node.parent {
            Some((h, e)) => Some((h, e)),
            None => self
                .links
                .get(&node.page)
                .and_then(|ls| ls.iter().find(|l| l.names).map(|l| (l.holder, l.elem))),
        };
        let holder_key = match holder {
            Some((h, e)) if self.path(h, 0).is_none() => s.nodes.get(h).and_then(|n| n.elems.get(e)).map(|e| e.key),
            _ => None,
        };
        // A snapshot's snapshotter is one bucket further up: without a path, only its key. A
        // namespace needs no namespace.
        let ns = (matches!(kind, "namespace" | "backend_snapshot") && holder_key.is_some()).then(String::new);
        (ns, holder_key.map(key_name))
    }
}

/// The node of a sub-bucket: inline, the leaf at its root page, or the leaves below a branch
/// there, merged.
fn sub<'s, 'a>(s: &'s Scan<'a>, merged: &'s Merged<'a>, e: &Elem<'a>) -> Option<&'s Node<'a>> {
    if let Some(i) = e.inline {
        return s.nodes.get(i);
    }
    let page = e.child?;
    let i = *s.by_page.get(&page)?;
    s.nodes.get(i).filter(|n| n.leaf).or_else(|| merged.get(page))
}

fn time(v: &[u8]) -> Value {
    GoTime::decode(v).map_or(Value::Null, |t| Value::String(t.record_text()))
}

/// How many carved records may read one sub-bucket page (labels, a target, a lease's
/// content): the versions of one record that bbolt's copy-on-write left on free pages share
/// the sub-buckets they did not change, a few at most. A crafted file can make thousands of
/// records name one page of thousands of labels, each copy a new map: past this, the page is
/// not read again, and the record says so.
const MAX_SUB_BUCKET_READERS: u32 = 16;

/// The decoded fields of a record's leaf, named as the record readers' JSON names them.
/// `copies` counts, by page, the records that have read each sub-bucket page so far.
fn fields<'s, 'a>(
    s: &'s Scan<'a>,
    merged: &'s Merged<'a>,
    node: &'s Node<'a>,
    kind: &str,
    copies: &mut HashMap<u64, u32>,
    partial: &mut Vec<String>,
) -> Map<String, Value> {
    let mut f = Map::new();
    let copies = std::cell::RefCell::new(copies);
    // A sub-bucket's node, unless its page has been read by too many records already.
    let counted = |what: &str, e: &Elem<'a>, partial: &mut Vec<String>| -> Result<Option<&'s Node<'a>>, ()> {
        if let (Some(page), Ok(mut copies)) = (e.child.filter(|_| e.inline.is_none()), copies.try_borrow_mut()) {
            let readers = copies.entry(page).or_insert(0);
            *readers = readers.saturating_add(1);
            if *readers > MAX_SUB_BUCKET_READERS {
                partial.push(format!(
                    "{what}: page {page} is a bucket of more than {MAX_SUB_BUCKET_READERS} carved records \
                     (one page of many buckets): not read again"
                ));
                return Err(());
            }
        }
        Ok(sub(s, merged, e))
    };
    let sub_node = |key: &str, partial: &mut Vec<String>| {
        let e = node.get(key.as_bytes()).filter(|e| e.bucket)?;
        let n = counted(key, e, partial).ok()?;
        if n.is_none() {
            partial.push(match e.child {
                Some(p) => format!("{key}: page {p} is not a readable leaf"),
                None => format!("{key}: inline bucket does not parse"),
            });
        }
        n
    };
    let map_of = |n: Option<&Node<'_>>| {
        let m: Map<String, Value> = n
            .map(|n| {
                n.elems
                    .iter()
                    .filter(|e| !e.bucket)
                    .map(|e| (key_name(e.key), Value::String(string(e.value))))
                    .collect()
            })
            .unwrap_or_default();
        Value::Object(m)
    };
    let keys_of = |n: Option<&Node<'_>>| {
        Value::Array(
            n.map(|n| n.elems.iter().map(|e| Value::String(key_name(e.key))).collect())
                .unwrap_or_default(),
        )
    };
    let val = |k: &str| node.get(k.as_bytes()).filter(|e| !e.bucket).map(|e| e.value);
    let text = |k: &str| val(k).map_or(Value::Null, |v| Value::String(string(v)));
    let tm = |k: &str| val(k).map_or(Value::Null, time);
    if kind != "namespace" && kind != "ingest" {
        f.insert("createdAt".into(), tm("createdat"));
    }
    match kind {
        "namespace" => {
            f.insert("labels".into(), map_of(sub_node("labels", partial)));
        }
        "image" => {
            f.insert("updatedAt".into(), tm("updatedat"));
            let t = sub_node("target", partial);
            let tv = |k: &str| {
                t.and_then(|n| n.get(k.as_bytes()))
                    .filter(|e| !e.bucket)
                    .map(|e| e.value)
            };
            f.insert(
                "target".into(),
                json!({
                    "mediaType": tv("mediatype").map(string),
                    "digest": tv("digest").map(string),
                    "size": tv("size").and_then(varint_exact),
                    // The target's annotations: a bucket of the image record, beside target.
                    "annotations": map_of(sub_node("annotations", partial)),
                }),
            );
            f.insert("labels".into(), map_of(sub_node("labels", partial)));
        }
        "content" => {
            f.insert("updatedAt".into(), tm("updatedat"));
            f.insert("size".into(), json!(val("size").and_then(varint_exact)));
            f.insert("labels".into(), map_of(sub_node("labels", partial)));
        }
        "ingest" => {
            f.insert("backend_ref".into(), text("ref"));
            f.insert("expireAt".into(), tm("expireat"));
            f.insert("expected".into(), text("expected"));
        }
        "lease" => {
            f.insert("labels".into(), map_of(sub_node("labels", partial)));
            for k in ["content", "ingests", "images"] {
                f.insert(k.into(), keys_of(sub_node(k, partial)));
            }
            let mut snaps = Vec::new();
            if let Some(sn) = sub_node("snapshots", partial) {
                for e in sn.elems.iter().filter(|e| e.bucket) {
                    let what = format!("snapshots/{}", key_name(e.key));
                    match counted(&what, e, partial) {
                        Err(()) => {}
                        Ok(Some(keys)) => {
                            for k in &keys.elems {
                                snaps.push(json!([key_name(e.key), key_name(k.key)]));
                            }
                        }
                        Ok(None) => partial.push(format!("{what}: not readable")),
                    }
                }
            }
            f.insert("snapshots".into(), Value::Array(snaps));
        }
        "container" => {
            f.insert("updatedAt".into(), tm("updatedat"));
            for (k, json_name) in [
                ("image", "image"),
                ("snapshotter", "snapshotter"),
                ("snapshotKey", "snapshotKey"),
                ("sandboxid", "sandboxId"),
            ] {
                f.insert(json_name.into(), text(k));
            }
            let rt = sub_node("runtime", partial);
            let name = rt
                .and_then(|n| n.get(b"name"))
                .filter(|e| !e.bucket)
                .map(|e| string(e.value));
            f.insert("runtime".into(), json!(name));
            // The spec's type URL (its bytes are a protobuf Any) and the extensions' names, as
            // the records' reader gives them.
            let spec_type =
                val("spec").and_then(|v| crate::containerd::encoding::any(v).map(|a| a.type_url.to_string()));
            f.insert("specType".into(), json!(spec_type));
            f.insert("extensions".into(), keys_of(sub_node("extensions", partial)));
            f.insert("labels".into(), map_of(sub_node("labels", partial)));
        }
        "backend_snapshot" => {
            f.insert("updatedAt".into(), tm("updatedat"));
            f.insert("id".into(), json!(val("id").and_then(uvarint_exact)));
            f.insert("kind".into(), json!(val("kind").and_then(snapshot_kind)));
            f.insert("parent".into(), text("parent"));
            f.insert("size".into(), json!(val("size").and_then(varint_exact)));
            f.insert("inodes".into(), json!(val("inodes").and_then(varint_exact)));
            f.insert("labels".into(), map_of(sub_node("labels", partial)));
        }
        "snapshot" => {
            f.insert("updatedAt".into(), tm("updatedat"));
            f.insert("backendName".into(), text("name"));
            f.insert("parent".into(), text("parent"));
            f.insert("children".into(), keys_of(sub_node("children", partial)));
            f.insert("labels".into(), map_of(sub_node("labels", partial)));
        }
        _ => {}
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The live records' names looked up give what searching every one of them gave: the
    /// namespaces holding the kind and name, a snapshot also by a name ending in `/KEY`, in
    /// the live records' order, a namespace as often as it matches.
    #[test]
    fn live_names_looked_up_are_the_ones_searched() {
        let key = |kind: &'static str, ns: &str, name: &str| RecordKey {
            kind,
            namespace: ns.to_string(),
            name: name.to_string(),
        };
        let live: BTreeSet<RecordKey> = [
            key("image", "a", "x:1"),
            key("image", "b", "x:1"),
            key("image", "b", "y:1"),
            key("content", "a", "x:1"),
            key("snapshot", "a", "overlayfs/k"),
            key("snapshot", "a", "native/k"),
            key("snapshot", "b", "overlayfs/deep/k"),
            key("snapshot", "b", "k"),
            key("snapshot", "c", "overlayfs/kk"),
            key("snapshot", "c", "overlayfs/k/"),
            key("snapshot", "d", "/k"),
            key("lease", "a", "k"),
        ]
        .into_iter()
        .collect();
        let searched = |kind: &'static str, name: &str| -> Vec<String> {
            let suffix = format!("/{name}");
            live.iter()
                .filter(|k| k.kind == kind && (k.name == name || (kind == "snapshot" && k.name.ends_with(&suffix))))
                .map(|k| k.namespace.clone())
                .collect()
        };
        let names = LiveNames::of(&live);
        for kind in ["image", "content", "snapshot", "lease", "container"] {
            for name in [
                "x:1",
                "y:1",
                "k",
                "kk",
                "deep/k",
                "",
                "/k",
                "k/",
                "overlayfs/k",
                "nothing",
            ] {
                assert_eq!(names.namespaces(kind, name), searched(kind, name), "{kind} {name:?}");
            }
        }
        assert_eq!(names.namespaces("snapshot", "k"), ["a", "a", "b", "b", "d"]);
    }

    fn node(keys: &[(&'static str, bool)]) -> Node<'static> {
        Node {
            page: 9,
            leaf: true,
            overflow: 0,
            parent: None,
            elems: keys
                .iter()
                .map(|&(k, bucket)| Elem {
                    key: k.as_bytes(),
                    value: b"",
                    bucket,
                    child: None,
                    inline: None,
                })
                .collect(),
        }
    }

    /// Content records (versions left by copy-on-write share a labels page) read a shared
    /// labels page up to MAX_SUB_BUCKET_READERS times; past that, each says it was not read
    /// again instead of copying it: a crafted file of N records naming one page of K labels
    /// cost N x K (1.2 GB from a 1.3 MB file).
    #[test]
    fn a_labels_page_of_many_records_is_read_a_bounded_number_of_times() {
        let labels_page = 50;
        let elem = |key: &'static [u8], bucket: bool, child: Option<u64>| Elem {
            key,
            value: b"",
            bucket,
            child,
            inline: None,
        };
        let record = |page: u64| Node {
            page,
            leaf: true,
            overflow: 0,
            parent: None,
            elems: vec![
                elem(b"createdat", false, None),
                elem(b"labels", true, Some(labels_page)),
                elem(b"size", false, None),
                elem(b"updatedat", false, None),
            ],
        };
        let labels = Node {
            page: labels_page,
            leaf: true,
            overflow: 0,
            parent: None,
            elems: vec![Elem {
                key: b"k",
                value: b"v",
                bucket: false,
                child: None,
                inline: None,
            }],
        };
        let records = 40u64;
        let mut scan = Scan {
            file_pages: 100,
            ..Scan::default()
        };
        scan.nodes.push(labels);
        scan.by_page.insert(labels_page, 0);
        for p in 0..records {
            scan.by_page.insert(p + 2, scan.nodes.len());
            scan.nodes.push(record(p + 2));
        }
        let none = HashSet::default();
        let carved = carve(&scan, &none, &none, &none);
        let content: Vec<&Carved> = carved.records.iter().filter(|r| r.kind == "content").collect();
        assert_eq!(content.len(), records as usize);
        let read = content
            .iter()
            .filter(|r| r.fields["labels"] == json!({"k": "v"}))
            .count();
        assert_eq!(read, MAX_SUB_BUCKET_READERS as usize);
        for r in content.iter().filter(|r| r.fields["labels"] == json!({})) {
            assert_eq!(
                r.partial,
                [format!(
                    "labels: page {labels_page} is a bucket of more than {MAX_SUB_BUCKET_READERS} carved records \
                     (one page of many buckets): not read again"
                )]
            );
        }
    }

    #[test]
    fn kinds_by_their_keys() {
        type Keys = &'static [(&'static str, bool)];
        let cases: [(Keys, Option<&str>); 10] = [
            (
                &[
                    ("createdat", false),
                    ("labels", true),
                    ("size", false),
                    ("updatedat", false),
                ],
                Some("content"),
            ),
            (
                &[("createdat", false), ("target", true), ("updatedat", false)],
                Some("image"),
            ),
            (
                &[
                    ("content", true),
                    ("createdat", false),
                    ("labels", true),
                    ("snapshots", true),
                ],
                Some("lease"),
            ),
            (
                &[
                    ("image", false),
                    ("runtime", true),
                    ("snapshotKey", false),
                    ("spec", false),
                ],
                Some("container"),
            ),
            (
                &[
                    ("children", true),
                    ("createdat", false),
                    ("name", false),
                    ("parent", false),
                ],
                Some("snapshot"),
            ),
            (&[("expireat", false), ("ref", false)], Some("ingest")),
            (
                &[("content", true), ("images", true), ("leases", true)],
                Some("namespace"),
            ),
            // A content record with a key containerd never writes is not guessed at.
            (&[("createdat", false), ("size", false), ("whatever", false)], None),
            // `v1` itself, and a bucket of records (digests as keys).
            (&[("default", true), ("version", false)], None),
            (&[("sha256:aa", true), ("sha256:bb", true)], None),
        ];
        for (keys, want) in cases {
            assert_eq!(classify(&node(keys)), want, "{keys:?}");
        }
    }

    #[test]
    fn places_by_the_shape_of_the_path() {
        let p = |parts: &[&'static str]| parts.iter().map(|s| s.as_bytes()).collect::<Vec<&[u8]>>();
        assert_eq!(
            place_path("content", &p(&["v1", "ns", "content", "blob", "sha256:aa"])),
            Some(("ns".into(), "sha256:aa".into()))
        );
        assert_eq!(
            place_path("snapshot", &p(&["v1", "ns", "snapshots", "overlayfs", "k"])),
            Some(("ns".into(), "overlayfs/k".into()))
        );
        // The right depth under the wrong bucket names nothing.
        assert_eq!(
            place_path("content", &p(&["v1", "ns", "content", "ingests", "r"])),
            None
        );
        assert_eq!(place_path("lease", &p(&["v1", "ns", "containers", "id"])), None);
        assert_eq!(
            place_path("namespace", &p(&["v1", "ns"])),
            Some(("ns".into(), "ns".into()))
        );
    }
}
