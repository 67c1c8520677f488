#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

// musl's own malloc is 2-4x slower at allocation-heavy work and does not scale across threads,
// and glibc's spent ~17% of inspect-all's CPU (malloc, free, consolidation): every build uses
// mimalloc (inspect of 5,000 names 0.27 -> 0.22 s, images 0.41 -> 0.37 s with glibc).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its `mi_option_t` value in mimalloc 2 and 3; the
/// bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Milliseconds mimalloc keeps freed memory before giving it back. mimalloc 3 keeps it a second
/// (mimalloc 2 kept it 10 ms): a whole `inspect` of 5,000 names then held 32.6 MB of anonymous
/// memory at its peak against 28.7 MB with 10 ms, in the same time; 0 cost 7% more time.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

fn main() {
    // A delay the user set (`MIMALLOC_PURGE_DELAY`) stands.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's options, a plain store into its option table, here
        // before any other thread exists.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
    let code = coldctr::cli::main();
    // Everything is written: cli::main flushed stdout, and stderr is not buffered. The process
    // ends here without the C library's exit handlers, where mimalloc would first hand every
    // page it keeps back to the kernel (a forced collect: 15 `madvise` calls, 3.5% of one
    // `inspect REF`'s samples), which the kernel reclaims at exit anyway.
    // SAFETY: `_exit` ends the process; nothing of ours is left to run or flush.
    unsafe { libc::_exit(i32::from(code)) }
}

#[cfg(test)]
mod tests {
    /// The option numbered as main.rs names it is the purge delay: mimalloc 3's default for it
    /// is 1,000 ms (read before main.rs sets it; `MIMALLOC_PURGE_DELAY` in the environment
    /// would change it).
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        // SAFETY: reads one of mimalloc's options.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        let expected = std::env::var("MIMALLOC_PURGE_DELAY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        assert_eq!(delay, expected);
    }
}
