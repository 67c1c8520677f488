//! Work made on one thread, done on the pool, and handed back in the order it was made.
//!
//! ```text
//!  caller:   make ─ make ─ make ─ make ─ ...      (walks the records: cheap, in key order)
//!              │batch 0  │batch 1  │batch 2
//!  pool:       └─ map ──►└─ map ──►└─ map ──►     (decode, stat, serialize: the cost)
//!  caller:            use 0     use 1     use 2   (write, in order)
//! ```
//!
//! The caller goes on making the next batch while the pool maps the ones before, so a walk
//! that cannot be split is no longer waited on; at most [`IN_FLIGHT`] batches are out at once,
//! so memory stays bounded whatever the store holds.

use rayon::ThreadPool;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};

/// Batches handed to the pool and not yet used, at most.
const IN_FLIGHT: usize = 3;

/// The stack of every thread we start, pools' and scoped ones': ours, not `RUST_MIN_STACK`'s
/// (a tiny one overflowed, a huge one failed every start: sweep 28.1). The main thread's size.
pub const STACK: usize = 8 << 20;

/// A pool could not be made (a pids cgroup or RLIMIT_NPROC reached, a seccomp profile
/// refusing `clone3`): later threads' work runs in place without trying.
static NO_THREADS: AtomicBool = AtomicBool::new(false);

/// A pool of at most `cap` workers (see [`workers`]), or `None` when its threads cannot all be
/// started: the caller then works in place ([`install`]).
pub fn pool(cap: usize) -> Option<ThreadPool> {
    if NO_THREADS.load(Ordering::Relaxed) {
        return None;
    }
    let built = rayon::ThreadPoolBuilder::new()
        .num_threads(workers(cap))
        .stack_size(STACK)
        .build();
    if built.is_err() {
        NO_THREADS.store(true, Ordering::Relaxed);
    }
    built.ok()
}

/// Runs `f` where its parallel iterators have a pool: `pool`; else the pool this thread is a
/// worker of; else this thread alone, made a pool of one (no thread started). rayon's global
/// pool is never used: it is made once, a failed start (not enough threads) leaves none, and
/// every parallel iterator after it panicked (sweep 28.1 and its review: exit 101 under a pids
/// limit); nor does `RAYON_NUM_THREADS` size anything of ours (28.6).
pub fn install<T: Send>(pool: Option<&ThreadPool>, f: impl FnOnce() -> T + Send) -> T {
    if let Some(pool) = pool {
        return pool.install(f);
    }
    if rayon::current_thread_index().is_some() {
        return f();
    }
    match rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .use_current_thread()
        .build()
    {
        Ok(here) => here.install(f),
        // Not reached (no thread to start); the iterators would then meet the global pool.
        Err(_) => f(),
    }
}

/// Work started on a scoped thread, or already done in place.
pub enum Spawned<'scope, T> {
    Thread(std::thread::ScopedJoinHandle<'scope, Option<T>>),
    Here(Option<T>),
}

impl<T> Spawned<'_, T> {
    /// The work's result, as [`std::thread::ScopedJoinHandle::join`] gives it.
    pub fn join(self) -> std::thread::Result<T> {
        let done = match self {
            Spawned::Thread(h) => h.join()?,
            Spawned::Here(done) => done,
        };
        done.ok_or_else(|| Box::new("the work was lost with its thread") as Box<dyn std::any::Any + Send>)
    }
}

/// Runs `f` on a new thread of `scope`, or here, now, when no thread can be started: work that
/// runs beside the caller's must not need the caller to go on (it may run first, whole).
pub fn spawn_scoped<'scope, T, F>(scope: &'scope std::thread::Scope<'scope, '_>, f: F) -> Spawned<'scope, T>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    if NO_THREADS.load(Ordering::Relaxed) {
        return Spawned::Here(Some(f()));
    }
    // Kept here too: a start that fails drops the thread's closure, not the work.
    let slot = Arc::new(Mutex::new(Some(f)));
    let theirs = Arc::clone(&slot);
    let started = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn_scoped(scope, move || {
            let f = theirs.lock().unwrap_or_else(PoisonError::into_inner).take();
            f.map(|f| f())
        });
    match started {
        Ok(h) => Spawned::Thread(h),
        Err(_) => Spawned::Here(slot.lock().unwrap_or_else(PoisonError::into_inner).take().map(|f| f())),
    }
}

/// A scoped thread for work that can be done without (a progress line): `None` when none
/// starts.
pub fn try_spawn_scoped<'scope, T, F>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    f: F,
) -> Option<std::thread::ScopedJoinHandle<'scope, T>>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    if NO_THREADS.load(Ordering::Relaxed) {
        return None;
    }
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn_scoped(scope, f)
        .ok()
}

/// Workers for a pool of at most `cap`: no more than the cores this process may run on.
///
/// Why: the caller's thread works beside the pool (it walks the keys, writes the output), so
/// on two cores three workers made four runnable threads, and the time went to switching
/// between them: `content` on the 5,000-image store switched 1,882 times with three workers
/// and 284 with two, and ran 6% faster with two. The image-graph walk too: at most three
/// workers (dockerd's semaphore of 3), fewer on fewer cores.
pub fn workers(cap: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(cap, |n| n.get().min(cap))
        .max(1)
}

/// Runs `make`, which hands items to the function it is given; maps them with `map` on the
/// pool, `batch` at a time, while `make` goes on; and calls `use_each` on every result in the
/// order the items were made, on this thread. Without a pool, everything runs here.
pub fn ordered<T, R>(
    pool: Option<&ThreadPool>,
    batch: usize,
    make: impl FnOnce(&mut dyn FnMut(T)),
    map: &(impl Fn(T) -> R + Sync),
    use_each: &mut dyn FnMut(R),
) where
    T: Send,
    R: Send,
{
    let Some(pool) = pool else {
        make(&mut |item| use_each(map(item)));
        return;
    };
    let batch = batch.max(1);
    pool.in_place_scope(|scope| {
        let (done_tx, done_rx) = mpsc::channel::<(usize, std::thread::Result<Vec<R>>)>();
        let mut order = Order {
            done: done_rx,
            ready: BTreeMap::new(),
            next: 0,
            sent: 0,
        };
        let mut pending: Vec<T> = Vec::with_capacity(batch);
        let send = |items: Vec<T>, order: &mut Order<R>| {
            let seq = order.sent;
            order.sent += 1;
            let done = done_tx.clone();
            scope.spawn(move |_| {
                use rayon::prelude::*;
                // A panic is sent back and raised again on the caller's thread: unsent, the
                // caller would wait for this batch forever.
                let mapped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    items.into_par_iter().map(map).collect::<Vec<R>>()
                }));
                // The receiver lives until every batch is back: a send cannot fail.
                let _ = done.send((seq, mapped));
            });
        };
        make(&mut |item| {
            pending.push(item);
            if pending.len() >= batch {
                send(std::mem::replace(&mut pending, Vec::with_capacity(batch)), &mut order);
                // Use what is back; wait only when too many batches are out.
                order.take_ready(use_each, IN_FLIGHT);
            }
        });
        if !pending.is_empty() {
            send(pending, &mut order);
        }
        order.take_ready(use_each, 1);
    });
}

/// The batches sent to the pool and what has come back of them.
struct Order<R> {
    done: mpsc::Receiver<(usize, std::thread::Result<Vec<R>>)>,
    /// Back, but not next in order.
    ready: BTreeMap<usize, Vec<R>>,
    /// The batch to use next.
    next: usize,
    /// Batches sent.
    sent: usize,
}

impl<R> Order<R> {
    /// Uses the batches that are back in order, waiting until fewer than `limit` are out.
    fn take_ready(&mut self, use_each: &mut dyn FnMut(R), limit: usize) {
        loop {
            while let Some(items) = self.ready.remove(&self.next) {
                self.next += 1;
                items.into_iter().for_each(&mut *use_each);
            }
            let out = self.sent - self.next;
            let got = if out >= limit {
                self.done.recv().ok()
            } else {
                self.done.try_recv().ok()
            };
            match got {
                Some((seq, Ok(items))) => {
                    self.ready.insert(seq, items);
                }
                Some((_, Err(panic))) => std::panic::resume_unwind(panic),
                None => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_the_order_made() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        for batch in [1, 3, 64] {
            let mut got = Vec::new();
            ordered(
                Some(&pool),
                batch,
                |give| (0..500u64).for_each(give),
                // The first batch finishes last: order must come from the sequence, not from
                // which batch is back first.
                &|i: u64| {
                    if i < batch as u64 {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    i * 2
                },
                &mut |r| got.push(r),
            );
            assert_eq!(got, (0..500u64).map(|i| i * 2).collect::<Vec<_>>(), "batch {batch}");
        }
    }

    #[test]
    fn a_panic_in_the_mapping_reaches_the_caller() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ordered(
                Some(&pool),
                4,
                |give| (0..40u32).for_each(give),
                &|i: u32| {
                    assert!(i != 17, "item 17");
                    i
                },
                &mut |_| {},
            )
        }));
        assert!(outcome.is_err());
    }

    #[test]
    fn without_a_pool_everything_runs_in_order_here() {
        let mut got = Vec::new();
        ordered(None, 4, |give| (0..10).for_each(give), &|i: i32| -i, &mut |r| {
            got.push(r)
        });
        assert_eq!(got, (0..10).map(|i| -i).collect::<Vec<_>>());
    }

    #[test]
    fn nothing_made_nothing_used() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let mut n = 0;
        ordered(Some(&pool), 8, |_give: &mut dyn FnMut(u8)| {}, &|i: u8| i, &mut |_| {
            n += 1
        });
        assert_eq!(n, 0);
    }
}
