//! How much disk a directory tree takes, as containerd's snapshotters measure it (continuity's
//! `fs.DiskUsage`): allocated blocks of each inode once, never following a symlink. Used by
//! `gc` (what a snapshot directory frees) and `du` (where the disk goes), which is why it lives
//! in neither.

use foldhash::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Disk usage as containerd measures it (continuity `fs.DiskUsage`): `st_blocks * 512` over
/// the unique inodes of a tree, the root included; symlinks are counted, never followed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub inodes: u64,
}

/// The usage of the tree at `path` (a file, a symlink or a directory).
pub fn disk_usage(path: &Path) -> std::io::Result<Usage> {
    let mut seen = HashSet::default();
    let mut usage = Usage::default();
    let mut stack = vec![path.to_path_buf()];
    let mut first = true;
    while let Some(p) = stack.pop() {
        let meta = match std::fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) if first => return Err(e),
            // Gone while walking: nothing to count.
            Err(_) => continue,
        };
        first = false;
        // Each inode once, and a directory entered once: a damaged image whose directory
        // entry points at an ancestor must not loop.
        let new = seen.insert((meta.dev(), meta.ino()));
        if new {
            usage.bytes = usage.bytes.saturating_add(meta.blocks().saturating_mul(512));
            usage.inodes += 1;
        }
        if new
            && meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(&p)
        {
            for e in entries.flatten() {
                stack.push(e.path());
            }
        }
    }
    Ok(usage)
}
