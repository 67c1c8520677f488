//! Ctrl-C, `kill` and a closed terminal during an export: the partial output beside OUT is
//! removed before the process ends, as a failed export leaves nothing (README).
//!
//! ```text
//! main thread, as export starts:   block SIGINT, SIGTERM, SIGHUP, SIGQUIT, those not ignored
//!   (before any other thread)      (every thread inherits the mask)
//! watcher thread:                  sigwait -> take the lock, and keep it
//!                                  -> remove the registered partial output, relative to
//!                                     OUT's directory as it was opened
//!                                  -> unblock, default action, raise: the process ends by
//!                                     the signal, as it would have without us
//! main thread, committing:         the rename to OUT (and a replaced OUT's removal) under
//!                                  the same lock: a signal meanwhile waits for it to end
//! main thread, removing on failure: under the same lock, so a signal waits for it
//! main thread, at its end:         waits for a watcher that took a signal (`settle`)
//! ```
//!
//! The removal runs on an ordinary thread, never in a signal handler. With nothing registered
//! a signal ends the process as before. A sweep found the watcher removing the temporary
//! directory while the main thread renamed it to OUT (an incomplete OUT, exit 0), and
//! removing by path after OUT's directory was swapped for a symlink.

use crate::export::place::Dir;
use std::ffi::OsString;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// A partial output to remove: OUT's directory, the entry's name there, and whether it is a
/// directory.
struct Partial {
    dir: Dir,
    name: OsString,
    is_dir: bool,
}

static PARTIAL: Mutex<Option<Partial>> = Mutex::new(None);

/// A signal was taken: the process ends by it, whatever the main thread finishes first.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Ctrl-C, `kill`, a closed terminal and Ctrl-\ (whose default action also dumps core: the
/// process still does, after the removal).
const SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// Whether `sig` is ignored (`nohup`, a shell's background job): then it is left alone, as it
/// would end nothing.
fn ignored(sig: libc::c_int) -> bool {
    // SAFETY: an all-zero sigaction is valid storage for the old action to be written into.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a valid signal, no new action, writable storage for the old one.
    unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN }
}

fn signal_set() -> Option<libc::sigset_t> {
    let watched: Vec<libc::c_int> = SIGNALS.into_iter().filter(|&s| !ignored(s)).collect();
    if watched.is_empty() {
        return None;
    }
    // SAFETY: an all-zero sigset_t is valid storage for sigemptyset to initialise.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is valid, writable storage; the signal numbers are valid.
    unsafe {
        libc::sigemptyset(&mut set);
        for s in watched {
            libc::sigaddset(&mut set, s);
        }
    }
    Some(set)
}

/// Blocks the signals in this thread (and every thread it starts) and starts the watcher.
/// Call on the main thread before any other thread exists (export and fs export do, as they
/// start).
pub fn install() {
    let Some(set) = signal_set() else {
        return;
    };
    // SAFETY: `set` is initialised; the old mask is not asked for.
    if unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) } != 0 {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .stack_size(64 << 10)
        .spawn(move || watch(set));
    if spawned.is_err() {
        // No watcher: let the signals act as they always did.
        // SAFETY: as above.
        unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
    }
}

fn watch(set: libc::sigset_t) {
    let mut sig: libc::c_int = 0;
    // SAFETY: `set` is initialised and `sig` is writable.
    if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
        return;
    }
    TAKEN.store(true, Ordering::SeqCst);
    // Kept until the process ends: a commit waits, and then never comes.
    let mut guard = PARTIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(p) = guard.take() {
        // Writers may still add entries while a directory goes: a few tries.
        let mut last = Ok(());
        for _ in 0..8 {
            last = if p.is_dir {
                p.dir.remove_tree(&p.name)
            } else {
                p.dir.remove_file(&p.name)
            };
            if last.is_ok() || p.dir.stat(&p.name).is_ok_and(|e| e.is_none()) {
                last = Ok(());
                break;
            }
        }
        // Said as it went: a removal refused (an immutable directory) is not "removed".
        match last {
            Ok(()) => crate::say!("coldctr: interrupted: the partial output was removed"),
            Err(e) => crate::say!(
                "coldctr: interrupted: the partial output {} could not be removed: {e}",
                crate::text::escape(p.name.as_encoded_bytes())
            ),
        }
    }
    // SAFETY: restores the default action of a valid signal, unblocks it for this thread and
    // raises it here: the process ends as the signal ends it.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        let mut one: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut one);
        libc::sigaddset(&mut one, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &one, std::ptr::null_mut());
        libc::raise(sig);
    }
    // Still here: the signal's default action was discarded, as the kernel does for the
    // init process of a PID namespace (a container without an init). End as the shell
    // reports a process ended by it (a review found the export hung there).
    // SAFETY: `_exit` ends the process; nothing of ours is left to run or flush.
    unsafe { libc::_exit(128 + sig) }
}

/// Creates the partial output `name` in `dir` (a file, or a directory when `is_dir`) with
/// `make` and registers it for removal on a signal, both under the lock the watcher takes
/// first: a signal that comes meanwhile waits for the entry to be made and registered, then
/// removes it.
pub fn registering<T>(
    dir: &Dir,
    name: &std::ffi::OsStr,
    is_dir: bool,
    make: impl FnOnce() -> std::io::Result<T>,
) -> std::io::Result<T> {
    let mut partial = PARTIAL.lock().ok();
    let made = make()?;
    if let (Some(p), Ok(dir)) = (partial.as_deref_mut(), dir.try_clone()) {
        *p = Some(Partial {
            dir,
            name: name.to_os_string(),
            is_dir,
        });
    }
    Ok(made)
}

/// Runs `commit` (the rename of the partial output to OUT) under the watcher's lock, and
/// forgets the partial output when it succeeds: a signal taken meanwhile waits for it, and
/// one taken before it removed the partial output, so that the commit fails.
pub fn committing<T, E>(commit: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    let mut partial = PARTIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let done = commit();
    if done.is_ok() {
        *partial = None;
    }
    done
}

/// Runs `remove` (a failed export's removal of its partial output) under the watcher's lock,
/// then forgets the partial output: a signal meanwhile waits for the removal, rather than
/// finding nothing registered and leaving it (a review found the entry left).
pub fn removing<T>(remove: impl FnOnce() -> T) -> T {
    let mut partial = PARTIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let done = remove();
    *partial = None;
    done
}

/// The partial output is committed or removed: nothing to do on a signal any more.
pub fn clear() {
    if let Ok(mut p) = PARTIAL.lock() {
        *p = None;
    }
}

/// Called as the process is about to end: when the watcher took a signal, it ends the
/// process by it, and this waits for that rather than ending with an exit code of ours.
pub fn settle() {
    // Without taking the lock: the watcher needs it to end the process (a review found both
    // threads waiting on each other when the main thread took it first).
    if TAKEN.load(Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}
