//! Commits that land in a bbolt file while this process reads it (a live node: containerd
//! running beside us, holding the lock we do not take).
//!
//! ```text
//!  opened:   meta 1 txid T (meta 0: T-1)     -> we read the tree of T
//!  commit:   T+1, into meta 0's slot, frees the pages of T it replaced (pending, kept)
//!  commit:   T+2 may write over those pages: bbolt counts the readers of its own
//!            process, never ours
//!  the end:  the metas read again: a txid other than T means commits landed mid-read
//! ```
//!
//! Nothing can stop a writer we do not lock out; what can be known is whether one wrote.
//! Each file opened from disk is noted with the highest valid txid of its metas, and at the
//! end of a command the metas are read again. One commit alone cannot have reused a page of
//! the transaction read, but the next may already be under way when we look (its pages are
//! written before its meta), so any change is reported: the report may mix transactions.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::meta::{self, Meta};

/// A file opened from disk and the highest valid txid its metas held then.
struct Opened {
    path: PathBuf,
    txid: u64,
}

static OPENED: Mutex<Vec<Opened>> = Mutex::new(Vec::new());

/// Bytes read again at the end: both metas of any page size bbolt writes (up to 64 KiB).
const METAS_READ: u64 = 128 << 10;

/// A file that changed while it was read.
#[derive(Debug)]
pub struct Landed {
    pub path: PathBuf,
    /// The highest valid txid when the file was opened.
    pub at_open: u64,
    /// The highest valid txid at the end, or why the metas could not be read again.
    pub at_end: Result<u64, String>,
}

impl std::fmt::Display for Landed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = crate::text::escape(self.path.as_os_str().as_encoded_bytes());
        match &self.at_end {
            Ok(now) => write!(
                f,
                "{path}: written while it was read (txid {} when opened, {now} at the end): \
                 bbolt reuses a transaction's pages two commits on and does not count readers \
                 in other processes, so what this report says, damage included, may come from \
                 several transactions; run it again while nothing commits (containerd stopped), \
                 or on a copy made then",
                self.at_open
            ),
            Err(why) => write!(
                f,
                "{path}: its metas held txid {} when opened and cannot be read again at the \
                 end ({why}): it was changed while read, and what this report says, damage \
                 included, may come from several transactions",
                self.at_open
            ),
        }
    }
}

/// The highest txid among the valid metas (0 when none validates).
fn newest(metas: &[Meta; 2]) -> u64 {
    metas.iter().filter(|m| m.is_valid()).map(|m| m.txid).max().unwrap_or(0)
}

/// Notes a file just opened from disk with the metas read then.
pub(super) fn opened(path: &Path, metas: &[Meta; 2]) {
    if let Ok(mut o) = OPENED.lock() {
        o.push(Opened {
            path: path.to_path_buf(),
            txid: newest(metas),
        });
    }
}

/// Forgets the files opened so far (a new command line starts).
pub fn forget() {
    if let Ok(mut o) = OPENED.lock() {
        o.clear();
    }
}

/// The files opened since [`forget`] whose metas changed since (each file once), and
/// forgets them.
pub fn landed() -> Vec<Landed> {
    let opened = match OPENED.lock() {
        Ok(mut o) => std::mem::take(&mut *o),
        Err(_) => return Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    opened
        .into_iter()
        .filter(|o| seen.insert((o.path.clone(), o.txid)))
        .filter_map(|o| {
            let at_end = newest_now(&o.path);
            (at_end.as_ref() != Ok(&o.txid)).then_some(Landed {
                path: o.path,
                at_open: o.txid,
                at_end,
            })
        })
        .collect()
}

/// The highest valid txid of the file's metas as they are now.
fn newest_now(path: &Path) -> Result<u64, String> {
    let file = super::open_read_only(path).map_err(|e| crate::text::without_os_error(&e.to_string()).into_owned())?;
    let mut head = Vec::new();
    file.take(METAS_READ)
        .read_to_end(&mut head)
        .map_err(|e| crate::text::without_os_error(&e.to_string()).into_owned())?;
    match meta::locate(&head) {
        Ok(m) => Ok(newest(&m.metas)),
        Err(_) => Err("no meta page validates".into()),
    }
}
