//! State the workers of one walk all update, split so that they do not share a cache line.
//!
//! ```text
//!  thread -> slot (handed out once per thread, round robin)
//!  Tally:  | slot 0: count | slot 1: count | ... | slot 15: count |   each 128 bytes apart
//!  Keyed:  | shard 0: lock + map | ... | shard 15: lock + map |      shard = hash(key)
//!  PerSlot: | slot 0: value | ... | slot 15: value |                  made on first use
//! ```
//!
//! Why: a scan such as dockerd's `List("target.digest==")` reads one page per image record on
//! two or three workers. One shared counter, or one lock taken to look a page up, is written
//! by every worker for every page; the line it sits on then moves between cores on each read
//! (15% of a 20,000-record scan's samples went to those two instructions). The same holds in the
//! kernel for one open file read by many threads: each `pread` takes and drops a reference on
//! the file's shared count, so each slot reads through a descriptor of its own.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Slots (and shards): more than the pool's workers, so that two rarely share one.
const SLOTS: usize = 16;

/// Two cache lines: the adjacent-line prefetcher pulls lines in pairs.
#[repr(align(128))]
#[derive(Default)]
struct Padded<T>(T);

/// This thread's slot.
fn slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SLOTS;
    }
    SLOT.with(|s| *s)
}

/// A count that many threads add to.
#[derive(Default)]
pub struct Tally([Padded<AtomicU64>; SLOTS]);

impl Tally {
    /// Adds `n` in this thread's slot.
    pub fn add(&self, n: u64) {
        if let Some(s) = self.0.get(slot()) {
            s.0.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The sum over every slot.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

/// A value per slot, made by the first thread of the slot that asks.
pub struct PerSlot<T>([Padded<std::sync::OnceLock<T>>; SLOTS]);

impl<T> Default for PerSlot<T> {
    fn default() -> Self {
        PerSlot(std::array::from_fn(|_| Padded(std::sync::OnceLock::new())))
    }
}

impl<T> PerSlot<T> {
    /// This thread's slot's value, made by `init` when the slot has none.
    pub fn get_or_init(&self, init: impl FnOnce() -> T) -> &T {
        let [first, ..] = &self.0;
        self.0.get(slot()).unwrap_or(first).0.get_or_init(init)
    }
}

/// A map from file offsets, split in shards each behind its own lock.
pub struct Keyed<V>([Padded<RwLock<foldhash::HashMap<usize, V>>>; SLOTS]);

impl<V> Default for Keyed<V> {
    fn default() -> Self {
        Keyed(std::array::from_fn(|_| Padded(RwLock::default())))
    }
}

impl<V: Copy> Keyed<V> {
    fn shard(&self, key: usize) -> &RwLock<foldhash::HashMap<usize, V>> {
        // Keys are page offsets, multiples of the page size: the bits above 4 KiB are mixed
        // so that neighbouring pages land in different shards.
        let mixed = (key >> 12).wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize);
        let [first, ..] = &self.0;
        &self.0.get((mixed >> (usize::BITS - 4)) % SLOTS).unwrap_or(first).0
    }

    /// The value at `key` (`None` also when a writer panicked while holding its shard).
    pub fn get(&self, key: usize) -> Option<V> {
        self.shard(key).read().ok()?.get(&key).copied()
    }

    /// Runs `f` on the map of `key`'s shard under its write lock (nothing when poisoned): `f`
    /// touches `key` alone, as [`Keyed::get`] looks another key up in its own shard.
    pub fn update(&self, key: usize, f: impl FnOnce(&mut foldhash::HashMap<usize, V>)) {
        if let Ok(mut map) = self.shard(key).write() {
            f(&mut map);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_sums_every_thread() {
        let t = Tally::default();
        std::thread::scope(|s| {
            for _ in 0..20 {
                s.spawn(|| (0..1000).for_each(|_| t.add(1)));
            }
        });
        assert_eq!(t.total(), 20_000);
    }

    #[test]
    fn keyed_finds_what_it_kept_across_shards() {
        let k = Keyed::<(usize, usize)>::default();
        for page in 0..1000usize {
            k.update(page * 4096, |m| {
                m.insert(page * 4096, (page, 1));
            });
        }
        assert!((0..1000usize).all(|p| k.get(p * 4096) == Some((p, 1))));
        assert_eq!(k.get(4096 * 1000), None);
        assert_eq!(k.get(7), None, "an offset never kept");
        let used = k.0.iter().filter(|s| s.0.read().is_ok_and(|m| !m.is_empty())).count();
        assert_eq!(used, SLOTS, "consecutive pages spread over every shard");
    }
}
