//! Reading the records of several buckets in the order their pages lie in the file, with
//! results and damage still given in key order.
//!
//! ```text
//!  key order (a cursor):   ns a content  p59412  p850  p37247  p5628 ...
//!                          ns a images   p59399  p1651 ...
//!                          ns b content  p59411  p6104 ...
//!  file order (here):      p850 p851(b) p853(a, image) p854 ... one pass over the file
//! ```
//!
//! Why: bbolt allocates a record's pages wherever its freelist has room, so the roots of a
//! namespace's 23,000 content records lie scattered through the whole file in key order, and
//! the records of the other buckets and namespaces lie between them. Inside a memory limit
//! smaller than the file (`bolt/frugal.rs`) each root read in key order is a request to the
//! disk of its own: gc read 265 MB in 61,000 requests. All the buckets' roots together, sorted,
//! are nearly every page of the file in turn, and the next few megabytes of them are asked
//! for in a handful of long reads. One bucket at a time would read the whole file once per
//! bucket (tried: 1,069 MB for gc on a store of two namespaces).
//!
//! Used only when memory is tight (gc and du, `gc::state`): otherwise the pages are in the
//! page cache or read ahead by the kernel, and a walk in key order is the faster (warm, file
//! order measured 5-10% slower: gc on 10,000 images, median 377 against 352 ms).
//!
//! Damage keeps the order a key-order walk gives: each bucket's listing first, then its
//! records' damage in key order. Which of two records that claim one page (damage) is the
//! damaged one can differ from a walk's answer: the record roots are claimed while listing,
//! in key order, and the pages below them as they are read, in file order.

use crate::bolt::{Bucket, Tx};
use crate::containerd::records::{Opening, key_name, nested_buckets};
use crate::damage::Damage;

/// The nested buckets of one bucket, listed and opened but not read yet.
#[derive(Default)]
pub struct Pending<'a> {
    /// Each bucket's name, the page its records start on (its root, or for an inline
    /// bucket the leaf holding it) and the bucket.
    buckets: Vec<(String, u64, Bucket<'a>)>,
    /// What listing them met.
    pub damage: Damage,
}

impl<'a> Pending<'a> {
    /// The nested buckets of `b` (`what` names it in damage).
    pub fn list(b: &Bucket<'a>, what: &str) -> Pending<'a> {
        let mut pending = Pending::default();
        // Opened without the read ahead of their roots in key order: they are read in file
        // order below. The name is copied now: the leaf it lies on is not read again (inside
        // a memory limit, read in file order it would be read once per record).
        nested_buckets(b, what, Opening::Quietly, |found| match found {
            Ok((i, child)) => {
                let page = if child.is_inline() { i.page } else { child.root_page() };
                pending.buckets.push((key_name(i.key), page, child));
            }
            Err(note) => pending.damage.push(note),
        });
        pending
    }

    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

/// How many roots are asked of the kernel at a time, and the gap (in pages) up to which two
/// roots are read as one run: the pages between belong to the records (their overflow,
/// their labels) or to their neighbours, read soon anyway.
const READ_AHEAD_ROOTS: usize = 1024;
/// At most this much of the file from the first root asked for at a time: inside a 64 MiB
/// limit, pages read far ahead would be evicted before their turn.
const READ_AHEAD_BYTES: u64 = 8 << 20;
const READ_AHEAD_GAP: u64 = 32;

/// Reads every bucket of every `pending` in file order, calling `work(job, index, name,
/// bucket, damage)`, where `job` is the position in `pending` and `index` the bucket's in its
/// key order (each name is handed over once: `pending` keeps the buckets, not their names).
/// When memory is tight, the kernel is asked for the next roots ahead of the reads. Returns
/// each job's record damage in key order.
pub fn read<'a>(
    tx: &Tx<'a>,
    pending: &mut [Pending<'a>],
    mut work: impl FnMut(usize, usize, String, &Bucket<'a>, &mut Damage),
) -> Vec<Damage> {
    // (first page, job, index).
    let mut order: Vec<(u64, usize, usize)> = Vec::with_capacity(pending.iter().map(Pending::len).sum());
    for (job, p) in pending.iter().enumerate() {
        order.extend(
            p.buckets
                .iter()
                .enumerate()
                .map(|(index, &(_, page, _))| (page, job, index)),
        );
    }
    order.sort_unstable();
    let mut noted: Vec<(usize, usize, Damage)> = Vec::new();
    let frugal = tx.db().reads_frugally();
    let mut ahead = 0usize;
    for (at, &(_, job, index)) in order.iter().enumerate() {
        if frugal && ahead < order.len() && at >= ahead.saturating_sub(READ_AHEAD_ROOTS / 2) {
            ahead = read_roots_ahead(tx, &order, ahead.max(at));
        }
        let Some((name, _, bucket)) = pending.get_mut(job).and_then(|p| p.buckets.get_mut(index)) else {
            continue;
        };
        let mut damage = Damage::new();
        work(job, index, std::mem::take(name), bucket, &mut damage);
        if !damage.is_empty() {
            noted.push((job, index, damage));
        }
    }
    noted.sort_by_key(|&(job, index, _)| (job, index));
    let mut out: Vec<Damage> = std::iter::repeat_with(Damage::new).take(pending.len()).collect();
    for (job, _, damage) in noted {
        if let Some(d) = out.get_mut(job) {
            d.extend(damage);
        }
    }
    out
}

/// Starts reading the roots `order[from..]`, up to [`READ_AHEAD_ROOTS`] of them within
/// [`READ_AHEAD_BYTES`] of the first, as few long runs; returns where the next read ahead
/// starts.
fn read_roots_ahead(tx: &Tx<'_>, order: &[(u64, usize, usize)], from: usize) -> usize {
    let span = READ_AHEAD_BYTES / u64::from(tx.db().page_size()).max(1);
    let rest = order.get(from..).unwrap_or_default();
    let first = rest.first().map_or(0, |&(p, ..)| p);
    let n = rest
        .iter()
        .take(READ_AHEAD_ROOTS)
        .take_while(|&&(p, ..)| p <= first.saturating_add(span))
        .count()
        .max(1);
    tx.read_ahead_runs(rest.iter().take(n).map(|&(page, ..)| page), READ_AHEAD_GAP, 1);
    from.saturating_add(n)
}

#[cfg(test)]
mod tests {
    use super::{Pending, read};
    use crate::bolt::{Db, MetaChoice, ReadMode};
    use crate::containerd::records;
    use crate::damage::Damage;

    /// Each namespace's content records of a real meta.db: the file order of their pages, and
    /// the order results and damage come back in.
    #[test]
    fn records_are_read_in_file_order_and_given_back_in_key_order() {
        for fixture in ["containerd-1.7", "docker-28.5"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures")
                .join(fixture)
                .join("io.containerd.metadata.v1.bolt/meta.db");
            let db = Db::open(&path, ReadMode::Mmap).expect("open");
            let tx = db.view(MetaChoice::Current).expect("view");
            let mut damage = Damage::new();
            let namespaces = records::namespace_buckets(&tx, &mut damage);
            let mut pending: Vec<Pending<'_>> = namespaces
                .iter()
                .map(|(_, ns)| {
                    let blobs = records::content_blob_bucket(ns, &mut damage).expect("content/blob");
                    Pending::list(&blobs, "content/blob")
                })
                .collect();
            let key_order: Vec<Vec<String>> = namespaces
                .iter()
                .map(|(_, ns)| {
                    let blobs = records::content_blob_bucket(ns, &mut damage).expect("content/blob");
                    records::sub_buckets(&blobs, "content/blob", &mut damage)
                        .into_iter()
                        .map(|(k, _)| k)
                        .collect()
                })
                .collect();
            assert!(damage.is_empty(), "{fixture}: {damage:?}");
            let mut pages = Vec::new();
            let mut got: Vec<Vec<Option<String>>> = key_order.iter().map(|k| vec![None; k.len()]).collect();
            let noted = read(&tx, &mut pending, |job, index, name, b, d| {
                pages.push(if b.is_inline() { 0 } else { b.root_page() });
                d.push(format!("{job} {index} {name}"));
                got[job][index] = Some(name);
            });
            // Paged roots in ascending page order, and the fixture is one where that differs
            // from the key order (or the test would not tell the two apart).
            let paged: Vec<u64> = pages.iter().copied().filter(|&p| p != 0).collect();
            assert!(paged.windows(2).all(|w| w[0] <= w[1]), "{fixture}: {paged:?}");
            let in_key_order: Vec<u64> = namespaces
                .iter()
                .flat_map(|(_, ns)| {
                    let blobs = records::content_blob_bucket(ns, &mut Damage::new()).expect("content/blob");
                    records::sub_buckets(&blobs, "content/blob", &mut Damage::new())
                        .into_iter()
                        .filter(|(_, b)| !b.is_inline())
                        .map(|(_, b)| b.root_page())
                        .collect::<Vec<_>>()
                })
                .collect();
            assert_ne!(paged, in_key_order, "{fixture}: file order is key order here");
            // Every record once, in its key-order slot; its damage in key order.
            for (job, names) in key_order.iter().enumerate() {
                let slots: Vec<String> = got[job].iter().map(|n| n.clone().expect("read")).collect();
                assert_eq!(&slots, names, "{fixture}");
                let said: Vec<String> = noted[job].iter().map(|n| n.to_string()).collect();
                let want: Vec<String> = names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| format!("{job} {i} {n}"))
                    .collect();
                assert_eq!(said, want, "{fixture}");
            }
        }
    }
}
