//! Ctrl-C, `kill` and a closed terminal during an export: the partial output beside OUT is
//! removed before the process ends, as a failed export leaves nothing (README).
//!
//! ```text
//! main thread, as export starts:   block SIGINT, SIGTERM, SIGHUP (every thread inherits it)
//!   (before any other thread)
//! watcher thread:                  sigwait -> remove the registered partial output
//!                                  -> unblock, default action, raise: the process ends by
//!                                     the signal, as it would have without us
//! ```
//!
//! The removal runs on an ordinary thread, never in a signal handler. With nothing registered
//! a signal ends the process as before.

use std::path::PathBuf;
use std::sync::Mutex;

/// The partial output to remove: its path, and whether it is a directory.
static PARTIAL: Mutex<Option<(PathBuf, bool)>> = Mutex::new(None);

const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

fn signal_set() -> libc::sigset_t {
    // SAFETY: an all-zero sigset_t is valid storage for sigemptyset to initialise.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is valid, writable storage; the signal numbers are valid.
    unsafe {
        libc::sigemptyset(&mut set);
        for s in SIGNALS {
            libc::sigaddset(&mut set, s);
        }
    }
    set
}

/// Blocks the signals in this thread (and every thread it starts) and starts the watcher.
/// Call on the main thread before any other thread exists (export does, as it starts).
pub fn install() {
    let set = signal_set();
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
    let partial = PARTIAL.lock().ok().and_then(|mut p| p.take());
    if let Some((path, dir)) = partial {
        // Writers may still add entries while a directory goes: a few tries.
        for _ in 0..8 {
            let gone = if dir {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            if gone.is_ok() || !path.exists() {
                break;
            }
        }
        crate::say!("coldctr: interrupted: the partial output was removed");
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
}

/// Creates the partial output `path` (a file, or a directory when `dir`) with `make` and
/// registers it for removal on a signal, both under the lock the watcher takes first: a signal
/// that comes meanwhile waits for the entry to be made and registered, then removes it.
pub fn registering<T>(path: PathBuf, dir: bool, make: impl FnOnce() -> std::io::Result<T>) -> std::io::Result<T> {
    let mut partial = PARTIAL.lock().ok();
    let made = make()?;
    if let Some(p) = partial.as_deref_mut() {
        *p = Some((path, dir));
    }
    Ok(made)
}

/// The partial output is committed or removed: nothing to do on a signal any more.
pub fn clear() {
    if let Ok(mut p) = PARTIAL.lock() {
        *p = None;
    }
}
