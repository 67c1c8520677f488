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

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::meta::{self, Meta};
use crate::bytes::Endian;

/// A file opened from disk: the highest valid txid its metas held then, and where they lie.
struct Opened {
    path: PathBuf,
    txid: u64,
    page_size: u32,
    endian: Endian,
    /// For a file read whole at open: its newest txid right after that read.
    checked: Option<Result<u64, String>>,
    /// Whether a symlink at `path` is followed when the metas are read again.
    follow: bool,
}

static OPENED: Mutex<Vec<Opened>> = Mutex::new(Vec::new());

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

/// The highest txid among the valid metas (`None` when none validates).
fn newest(metas: &[Meta]) -> Option<u64> {
    metas.iter().filter(|m| m.is_readable()).map(|m| m.txid).max()
}

/// Notes a file just opened from disk with the metas read then (`page_size` and `endian`
/// as they were found). A file read whole into memory (`in_memory`) is checked at once:
/// what lands after that read cannot change the copy the command reads.
pub(super) fn opened(path: &Path, metas: &[Meta; 2], page_size: u32, endian: Endian, in_memory: bool, follow: bool) {
    let checked = in_memory.then(|| newest_now(path, page_size, endian, follow));
    if let Ok(mut o) = OPENED.lock() {
        o.push(Opened {
            path: path.to_path_buf(),
            // `Db::open` found a valid meta, so there is one.
            txid: newest(metas).unwrap_or(0),
            page_size,
            endian,
            checked,
            follow,
        });
    }
}

/// The files opened since [`forget`] (each once), and whether a symlink at each was followed.
pub fn opened_files() -> Vec<(PathBuf, bool)> {
    let Ok(o) = OPENED.lock() else {
        return Vec::new();
    };
    let mut files: Vec<(PathBuf, bool)> = o.iter().map(|o| (o.path.clone(), o.follow)).collect();
    files.sort();
    files.dedup();
    files
}

/// What to say of a file another process holds an exclusive lock on (a running containerd
/// holds meta.db's for as long as it runs), when the report found damage and no commit
/// landed: one may be under way, its pages written before its meta (sweep 27.7: `--previous`
/// and `meta-diff` on a live node named damage that was such a commit).
pub fn held_elsewhere(path: &Path, follow: bool) -> Option<String> {
    let holders = super::holders::holders(path, follow);
    let writer = holders.iter().find(|h| h.exclusive)?;
    let by = match writer.pid {
        Some(pid) => format!("process {pid}"),
        None => "another process".to_string(),
    };
    Some(format!(
        "{}: {by} holds its lock for writing (a running containerd does): a commit may have \
         been under way while it was read, and the damage named may be its pages, written \
         before its meta; run it again with that process stopped, or on a copy made then",
        crate::text::escape(path.as_os_str().as_encoded_bytes())
    ))
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
            let at_end = match o.checked {
                Some(checked) => checked,
                None => newest_now(&o.path, o.page_size, o.endian, o.follow),
            };
            (at_end.as_ref() != Ok(&o.txid)).then_some(Landed {
                path: o.path,
                at_open: o.txid,
                at_end,
            })
        })
        .collect()
}

/// The highest valid txid of the file's metas as they are now: meta 0 at offset 0 and meta 1
/// one page on, where they were found when the file was opened (any page size).
fn newest_now(path: &Path, page_size: u32, endian: Endian, follow: bool) -> Result<u64, String> {
    use std::os::unix::fs::FileExt;
    let file = super::source::open_file(path, follow)
        .map_err(|e| crate::text::without_os_error(&e.to_string()).into_owned())?;
    let mut metas = Vec::with_capacity(2);
    for (slot, offset) in [(0u8, 0u64), (1, u64::from(page_size))] {
        let mut page = vec![0u8; meta::META_END];
        let meta = match file.read_exact_at(&mut page, offset) {
            Ok(()) => meta::parse(&page, 0, slot, endian),
            Err(_) => meta::parse(&[], 0, slot, endian),
        };
        metas.push(meta);
    }
    newest(&metas).ok_or_else(|| "no meta page validates".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A meta page for `txid` with `page_size`, as bbolt writes one (little-endian).
    fn meta_page(page_size: u32, txid: u64) -> Vec<u8> {
        let mut p = vec![0u8; meta::META_END];
        p[16..20].copy_from_slice(&meta::MAGIC.to_le_bytes());
        p[20..24].copy_from_slice(&meta::VERSION.to_le_bytes());
        p[24..28].copy_from_slice(&page_size.to_le_bytes());
        p[64..72].copy_from_slice(&txid.to_le_bytes());
        let sum = meta::fnv1a64(&p[16..72]);
        p[72..80].copy_from_slice(&sum.to_le_bytes());
        p
    }

    /// Meta 1 lies one page on, for any page size: a file of 128 KiB pages read again over
    /// 128 KiB alone lost its meta 1, and a file nothing touched was said to be written.
    #[test]
    fn both_metas_are_read_again_whatever_the_page_size() {
        let tmp = tempfile::tempdir().unwrap();
        for page_size in [4096u32, 128 << 10, 1 << 24] {
            let file = tmp.path().join(format!("p{page_size}.db"));
            let mut data = meta_page(page_size, 6);
            data.resize(page_size as usize, 0);
            data.extend(meta_page(page_size, 7));
            std::fs::write(&file, &data).unwrap();
            assert_eq!(newest_now(&file, page_size, Endian::Little, true), Ok(7), "{page_size}");
        }
        let none = tmp.path().join("none.db");
        std::fs::write(&none, [0u8; 100]).unwrap();
        assert!(newest_now(&none, 4096, Endian::Little, true).is_err());
        // A root's meta.db swapped for a link to another file while we read: its metas are not
        // read through the link (sweep 27), the check says it could not read them.
        let link = tmp.path().join("link.db");
        std::os::unix::fs::symlink(tmp.path().join("p4096.db"), &link).unwrap();
        assert_eq!(newest_now(&link, 4096, Endian::Little, true), Ok(7));
        assert!(newest_now(&link, 4096, Endian::Little, false).is_err());
        assert!(crate::bolt::Db::open_no_follow(&link, crate::bolt::ReadMode::Mmap).is_err());
    }
}
