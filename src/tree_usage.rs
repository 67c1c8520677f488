//! How much disk a directory tree takes, as containerd's snapshotters measure it (continuity's
//! `fs.DiskUsage`): allocated blocks of each inode once, never following a symlink. Used by
//! `gc` (what a snapshot directory frees), `du` (where the disk goes) and the container sizes
//! of `ps --size` and `container inspect --size`, which is why it lives in none of them.

use foldhash::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Disk usage as containerd measures it (continuity `fs.DiskUsage`): `st_blocks * 512` over
/// the unique inodes of a tree, the root included; symlinks are counted, never followed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub inodes: u64,
}

/// Where a strict walk stopped: the path that could not be looked at or listed, and why.
#[derive(Debug)]
pub struct WalkError {
    pub path: PathBuf,
    pub error: std::io::Error,
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}",
            crate::text::escape(self.path.as_os_str().as_encoded_bytes()),
            self.error
        )
    }
}

/// The usage of the tree at `path` (a file, a symlink or a directory). Only `path` itself
/// must be there: what cannot be looked at below it is left out (an estimate of what a
/// removal frees, for `gc` and `du`).
pub fn disk_usage(path: &Path) -> std::io::Result<Usage> {
    walk(path, false, &mut None).map_err(|e| e.error)
}

/// [`disk_usage`], with the first place below `path` that could not be looked at or listed
/// (then the usage is what the rest took: at least that much), where an estimate must still
/// say it is one (`du --scan`). An entry gone while walked is not one.
pub fn disk_usage_noting(path: &Path) -> Result<(Usage, Option<WalkError>), WalkError> {
    let mut first = None;
    walk(path, false, &mut first).map(|u| (u, first))
}

/// [`disk_usage`] as continuity's `fs.DiskUsage` fails: a directory that cannot be listed or
/// an entry that cannot be looked at below `path` ends the walk with an error naming it (Go's
/// `filepath.Walk` hands it to the walk function, which returns it), where a snapshotter's
/// `Usage` fails rather than under-count.
pub fn disk_usage_strict(path: &Path) -> Result<Usage, WalkError> {
    walk(path, true, &mut None)
}

/// The walk; not `strict`, what cannot be looked at is left out, the first such place kept
/// in `missed`.
fn walk(path: &Path, strict: bool, missed: &mut Option<WalkError>) -> Result<Usage, WalkError> {
    let mut miss = |path: &Path, error: std::io::Error| {
        if missed.is_none() {
            *missed = Some(WalkError {
                path: path.to_path_buf(),
                error,
            });
        }
    };
    let mut seen = HashSet::default();
    let mut usage = Usage::default();
    // Directories are listed below the walk's top with no symlink on the way (openat2): one
    // swapped for a link while we walk (a running container's upper dir: `a` -> `/`) is not
    // entered (sweep 27: `du --scan` walked the host's /etc as the snapshot's).
    let beneath = crate::overlay::beneath::LayerRoots::new(&[path.to_path_buf()]);
    // A stack on the heap, not recursion: a deep tree cannot overflow ours.
    let mut stack = vec![path.to_path_buf()];
    let mut first = true;
    while let Some(p) = stack.pop() {
        let meta = match std::fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(error) if first || strict => return Err(WalkError { path: p, error }),
            // Gone while walking: nothing to count.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => {
                miss(&p, error);
                continue;
            }
        };
        first = false;
        // Each inode once, and a directory entered once: a damaged image whose directory
        // entry points at an ancestor must not loop.
        let new = seen.insert((meta.dev(), meta.ino()));
        if new {
            usage.bytes = usage.bytes.saturating_add(meta.blocks().saturating_mul(512));
            usage.inodes += 1;
        }
        if !(new && meta.is_dir()) {
            continue;
        }
        match beneath.read_dir(&p) {
            Ok(entries) => {
                for e in entries {
                    match e {
                        Ok(e) => stack.push(e.path()),
                        Err(error) if strict => return Err(WalkError { path: p, error }),
                        Err(error) => miss(&p, error),
                    }
                }
            }
            Err(error) if strict => return Err(WalkError { path: p, error }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => miss(&p, error),
        }
    }
    Ok(usage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn blocks(p: &Path) -> u64 {
        std::fs::symlink_metadata(p).unwrap().blocks() * 512
    }

    #[test]
    fn counts_each_inode_once_and_follows_no_link() {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path().join("top");
        std::fs::create_dir_all(top.join("d")).unwrap();
        std::fs::write(top.join("d/f"), vec![7u8; 10_000]).unwrap();
        std::fs::hard_link(top.join("d/f"), top.join("g")).unwrap();
        // A link to a large tree outside: its target is not counted.
        std::fs::create_dir(tmp.path().join("outside")).unwrap();
        std::fs::write(tmp.path().join("outside/big"), vec![1u8; 100_000]).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("outside"), top.join("link")).unwrap();
        let want = blocks(&top) + blocks(&top.join("d")) + blocks(&top.join("d/f")) + blocks(&top.join("link"));
        let u = disk_usage_strict(&top).unwrap();
        assert_eq!(u.bytes, want);
        assert_eq!(u.inodes, 4);
        assert_eq!(disk_usage(&top).unwrap(), u);
    }

    #[test]
    fn strict_walk_names_what_it_cannot_list() {
        // Root reads a mode-000 directory anyway: nothing to test then.
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path().join("top");
        std::fs::create_dir_all(top.join("closed")).unwrap();
        std::fs::set_permissions(top.join("closed"), std::fs::Permissions::from_mode(0o000)).unwrap();
        let e = disk_usage_strict(&top).unwrap_err();
        assert_eq!(e.path, top.join("closed"));
        assert_eq!(e.error.kind(), std::io::ErrorKind::PermissionDenied);
        // The lenient walk counts what it can.
        assert!(disk_usage(&top).is_ok());
        std::fs::set_permissions(top.join("closed"), std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Sweep 20, finding 5: `du --scan` under-counted a tree deeper than a path can name
    /// without a word. The noting walk counts what it can and says where it stopped.
    #[test]
    fn a_noting_walk_says_where_it_stopped() {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path().join("top");
        std::fs::create_dir(&top).unwrap();
        // 20 levels of 250-byte names: past PATH_MAX (4096) by path, made one level at a time.
        let name = std::ffi::CString::new("d".repeat(250)).unwrap();
        let mut dir = std::fs::File::open(&top).unwrap();
        for _ in 0..20 {
            // SAFETY: an open directory and a NUL-terminated name; the new descriptor is owned.
            let fd = unsafe {
                assert_eq!(libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), 0o755), 0);
                libc::openat(dir.as_raw_fd(), name.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY)
            };
            assert!(fd >= 0);
            // SAFETY: a descriptor just returned, owned by nothing else.
            dir = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        let (u, missed) = disk_usage_noting(&top).unwrap();
        let missed = missed.expect("the walk cannot name the deepest directories");
        assert_eq!(missed.error.raw_os_error(), Some(libc::ENAMETOOLONG), "{missed}");
        assert!(u.inodes >= 2 && u.inodes < 21, "{u:?}");
        assert_eq!(disk_usage(&top).unwrap(), u);
        assert!(disk_usage_strict(&top).is_err());
        // A whole tree: nothing noted.
        let small = tmp.path().join("small");
        std::fs::create_dir_all(small.join("a/b")).unwrap();
        assert!(disk_usage_noting(&small).unwrap().1.is_none());
    }

    #[test]
    fn a_missing_top_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        let e = disk_usage_strict(&tmp.path().join("none")).unwrap_err();
        assert_eq!(e.path, tmp.path().join("none"));
        assert_eq!(e.error.kind(), std::io::ErrorKind::NotFound);
    }
}
