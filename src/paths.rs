//! Paths below a root, looked at one directory at a time: a reader of a seized disk must never
//! be led out of the root by a symlink on the way to what it reads (`var/lib/docker ->
//! /data/docker`, `snapshots/6 -> /`), not only by one at the end.
//!
//! ```text
//! <root>/a/b/c/file     a, b and c are each `lstat`ed: a real directory, or the reader stops
//! ```

use std::path::{Path, PathBuf};

/// The first directory between `root` and `path` (both left out) that is a symlink or not a
/// directory, with why. `None` when every one is a real directory, when `path` is not below
/// `root`, and when one cannot be looked at (the caller's own look at `path` then says why).
pub fn detour(root: &Path, path: &Path) -> Option<(PathBuf, &'static str)> {
    let rel = path.strip_prefix(root).ok()?;
    let mut at = root.to_path_buf();
    let mut parts = rel.components().peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            break;
        }
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => return Some((at, "a symlink, not followed")),
            Ok(_) => return Some((at, "not a directory")),
            Err(_) => return None,
        }
    }
    None
}

/// What a file of type `t` is, for messages: "a directory", "a FIFO", ... (an `lstat`'s type:
/// a link is "a symlink"). One wording for every reader that refuses a file that is not
/// regular.
pub fn kind_of(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_symlink() {
        "a symlink"
    } else if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_first_link_on_the_way() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(tmp.path().join("outside/c")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("outside"), root.join("a/b/link")).unwrap();
        std::fs::write(root.join("a/file"), b"").unwrap();
        assert_eq!(detour(&root, &root.join("a/b/x")), None);
        // The last part is the caller's to look at, link or not.
        assert_eq!(detour(&root, &root.join("a/b/link")), None);
        assert_eq!(
            detour(&root, &root.join("a/b/link/c/f")),
            Some((root.join("a/b/link"), "a symlink, not followed"))
        );
        assert_eq!(
            detour(&root, &root.join("a/file/x")),
            Some((root.join("a/file"), "not a directory"))
        );
        assert_eq!(detour(&root, &root.join("a/none/x")), None);
        assert_eq!(detour(&root, Path::new("/elsewhere/x")), None);
    }
}
