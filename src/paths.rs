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
    kind_words(crate::containerd::blobs::FileKind::of(t))
}

/// [`kind_of`]'s words for a [`FileKind`](crate::containerd::blobs::FileKind) (an entry listed
/// by [`crate::noatime::read_dir`]).
pub fn kind_words(kind: crate::containerd::blobs::FileKind) -> &'static str {
    use crate::containerd::blobs::FileKind;
    match kind {
        FileKind::Symlink => "a symlink",
        FileKind::Regular => "a regular file",
        FileKind::Directory => "a directory",
        FileKind::Fifo => "a FIFO",
        FileKind::Socket => "a socket",
        FileKind::CharDevice => "a character device",
        FileKind::BlockDevice => "a block device",
        FileKind::Other => "a special file",
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
