//! A progress line on stderr for long reads (verify's hashing, export's copying): bytes done
//! of the total, percent and rate, redrawn with `\r` from the first second on, only when
//! stderr is a terminal, and erased at the end.

use super::listings::table::human_size as size_of;
use crate::verify::file::Progress;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Runs `work` with a progress counter, drawing `label: done of total` while it runs.
pub fn with_progress<T>(label: &str, total: u64, work: impl FnOnce(&Progress) -> T) -> T {
    let progress = Progress::default();
    progress.total.store(total, Ordering::Relaxed);
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let show = std::io::stderr().is_terminal();
    std::thread::scope(|s| {
        let line = show
            .then(|| crate::pipeline::try_spawn_scoped(s, || draw(label, &progress, &done, started)))
            .flatten();
        let r = work(&progress);
        done.store(true, Ordering::Relaxed);
        if let Some(l) = &line {
            l.thread().unpark();
        }
        r
    })
}

/// The `\r` line, until `done`.
pub fn draw(label: &str, p: &Progress, done: &AtomicBool, started: Instant) {
    let mut shown = false;
    while !done.load(Ordering::Relaxed) {
        std::thread::park_timeout(Duration::from_millis(200));
        if started.elapsed() < Duration::from_secs(1) || done.load(Ordering::Relaxed) {
            continue;
        }
        let d = p.done.load(Ordering::Relaxed);
        let t = p.total.load(Ordering::Relaxed).max(d);
        let pct = (d as f64 * 100.0 / t.max(1) as f64).min(100.0);
        let rate = d as f64 / started.elapsed().as_secs_f64().max(0.001);
        crate::say_part!(
            "\r{label}: {} of {} ({pct:.0}%), {}/s   ",
            size(d),
            size(t),
            size(rate as u64)
        );
        shown = true;
    }
    if shown {
        crate::say_part!("\r\x1b[K");
    }
}

fn size(n: u64) -> String {
    size_of(i64::try_from(n).unwrap_or(i64::MAX))
}
