//! Where an export's output is made, without trusting a path twice.
//!
//! ```text
//! <OUT's directory>/            opened once, when OUT is checked  ── Dir
//!     .OUT.coldctr-PID.tmp      the output under construction (ours: created here, O_EXCL)
//!     .OUT.coldctr-PID.old/old  a replaced OUT, until it is removed
//!     OUT
//! ```
//!
//! A path is resolved again each time it is used: a directory on the way to OUT swapped for a
//! symlink after the checks would send the next step elsewhere (into the evidence, onto a file
//! someone else owns). Here OUT's directory is opened once, and every later step (creating the
//! temporary entry, the renames, removing a replaced OUT or a failed output) is made relative
//! to that open directory (`openat`, `mkdirat`, `renameat`, `unlinkat`), never following a
//! symlink. Where the directory is checked against the roots it must not be inside, it is
//! checked by what it is (device and inode, up through its parents), so that a bind mount or
//! a link in the path cannot hide that it is inside one.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// This process's umask: from `/proc/self/status` (read, not changed), else set and put back
/// (no other thread of an export makes files meanwhile).
pub fn umask() -> u32 {
    let listed = std::fs::read_to_string("/proc/self/status").ok().and_then(|status| {
        let line = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
        u32::from_str_radix(line.trim(), 8).ok()
    });
    listed.unwrap_or_else(|| {
        // SAFETY: umask(2) cannot fail; the old mask is put back at once.
        unsafe {
            let old = libc::umask(0o022);
            libc::umask(old);
            old
        }
    })
}

/// How many parent directories [`Dir::ancestors`] climbs: deeper than any real tree.
const MAX_ANCESTORS: usize = 4096;
/// How deep [`Dir::remove_tree`] goes (each level holds a descriptor open); a deeper tree is
/// left where it is, and said.
const MAX_REMOVE_DEPTH: usize = 256;

/// A file's identity: device and inode.
pub type FileId = (u64, u64);

/// What [`Dir::stat`] found at a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: FileId,
    pub dir: bool,
    /// A regular file.
    pub file: bool,
    /// Its hard links.
    pub links: libc::nlink_t,
}

/// An open directory, the base of every step made in it.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
}

fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a name with a NUL byte"))
}

/// One component of a relative name we made: not empty, `.` or `..`.
fn component(part: &str) -> io::Result<CString> {
    if part.is_empty() || part == "." || part == ".." {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{part:?}: not a name inside the output"),
        ));
    }
    c_name(OsStr::new(part))
}

/// The result of a libc call that returns -1 on failure.
fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(r) }
}

fn open_at(base: BorrowedFd<'_>, name: &CString, flags: libc::c_int, mode: libc::mode_t) -> io::Result<OwnedFd> {
    // SAFETY: `name` is NUL-terminated and lives across the call; `base` is an open descriptor.
    let fd = check(unsafe {
        libc::openat(
            base.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC | libc::O_NOFOLLOW,
            libc::c_uint::from(mode),
        )
    })?;
    // SAFETY: `fd` was just returned by openat and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn stat_at(base: BorrowedFd<'_>, name: &CString) -> io::Result<libc::stat> {
    // SAFETY: zeroed is a valid `stat` (plain integers); fstatat fills it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `name` is NUL-terminated; `st` is a valid, writable `stat`.
    check(unsafe { libc::fstatat(base.as_raw_fd(), name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) })?;
    Ok(st)
}

fn id_of(st: &libc::stat) -> FileId {
    (st.st_dev, st.st_ino)
}

fn is_dir(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

impl Dir {
    /// Opens the directory `path` (its last component not a symlink): for reading, or, where
    /// it may only be searched (mode 0711), as a path (`O_PATH`), which is all the steps made
    /// in it need (listing it is not one of them). For reading with `O_NOATIME` where the
    /// kernel allows it: a source root is listed too ([`Dir::with_subdirs`]), and listing
    /// the evidence must not write its access time.
    pub fn open(path: &Path) -> io::Result<Dir> {
        let name = c_name(path.as_os_str())?;
        let flags = libc::O_DIRECTORY | libc::O_CLOEXEC | libc::O_NOFOLLOW;
        // SAFETY: `name` is NUL-terminated and lives across the call.
        let open = |how: i32| check(unsafe { libc::open(name.as_ptr(), how | flags) });
        // O_NOATIME is refused (EPERM) on a directory we do not own, unless privileged.
        let fd = match open(libc::O_RDONLY | libc::O_NOATIME) {
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => open(libc::O_RDONLY),
            other => other,
        };
        let fd = match fd {
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => open(libc::O_PATH),
            other => other,
        }?;
        // SAFETY: `fd` was just returned by open and is owned by nothing else.
        Ok(Dir {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Another handle on this directory (the signal watcher removes a partial output through
    /// its own, relative to it).
    pub fn try_clone(&self) -> io::Result<Dir> {
        Ok(Dir {
            fd: self.fd.try_clone()?,
        })
    }

    /// This directory's identity.
    pub fn id(&self) -> io::Result<FileId> {
        stat_at(self.fd.as_fd(), &component_dot()).map(|st| id_of(&st))
    }

    /// What is at `name` here (a symlink is itself), or `None` when nothing is.
    pub fn stat(&self, name: &OsStr) -> io::Result<Option<Entry>> {
        match stat_at(self.fd.as_fd(), &c_name(name)?) {
            Ok(st) => Ok(Some(Entry {
                id: id_of(&st),
                dir: is_dir(&st),
                file: st.st_mode & libc::S_IFMT == libc::S_IFREG,
                links: st.st_nlink,
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// This directory and each one above it, up to `/`, by identity.
    pub fn ancestors(&self) -> io::Result<Vec<FileId>> {
        let dotdot = c_name(OsStr::new(".."))?;
        let mut out = vec![self.id()?];
        let mut at = self.fd.try_clone()?;
        while out.len() < MAX_ANCESTORS {
            // `..` of `/` is `/` itself: the top.
            let up = {
                // SAFETY: `dotdot` is NUL-terminated; `at` is an open descriptor.
                // O_PATH: a parent that may only be searched is climbed all the same.
                let fd = check(unsafe {
                    libc::openat(
                        at.as_raw_fd(),
                        dotdot.as_ptr(),
                        libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
                    )
                })?;
                // SAFETY: `fd` was just returned by openat and is owned by nothing else.
                unsafe { OwnedFd::from_raw_fd(fd) }
            };
            let id = stat_at(up.as_fd(), &component_dot()).map(|st| id_of(&st))?;
            if out.last() == Some(&id) {
                break;
            }
            out.push(id);
            at = up;
        }
        Ok(out)
    }

    /// This directory's identity and those of the directories right in it (a symlink is not
    /// one): what a bind mount of it or of one of them elsewhere has too.
    pub fn with_subdirs(&self) -> Vec<FileId> {
        let mut out: Vec<FileId> = self.id().into_iter().collect();
        for name in self.names().unwrap_or_default() {
            if let Ok(st) = stat_at(self.fd.as_fd(), &name)
                && is_dir(&st)
            {
                out.push(id_of(&st));
            }
        }
        out
    }

    /// Creates the file `name` here, new (never one already there, never through a link),
    /// open for writing.
    pub fn create_file(&self, name: &OsStr) -> io::Result<File> {
        self.create_file_c(&c_name(name)?)
    }

    fn create_file_c(&self, name: &CString) -> io::Result<File> {
        let fd = open_at(
            self.fd.as_fd(),
            name,
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL,
            0o644,
        )?;
        Ok(File::from(fd))
    }

    /// Creates the directory `name` here, new and empty (0755 before the umask).
    pub fn create_dir(&self, name: &OsStr) -> io::Result<()> {
        self.create_dir_c(&c_name(name)?)
    }

    fn create_dir_c(&self, name: &CString) -> io::Result<()> {
        // SAFETY: `name` is NUL-terminated and lives across the call.
        check(unsafe { libc::mkdirat(self.fd.as_raw_fd(), name.as_ptr(), 0o755) }).map(|_| ())
    }

    /// Opens the directory `name` here (not a symlink).
    pub fn open_dir(&self, name: &OsStr) -> io::Result<Dir> {
        self.open_dir_c(&c_name(name)?)
    }

    fn open_dir_c(&self, name: &CString) -> io::Result<Dir> {
        open_at(self.fd.as_fd(), name, libc::O_RDONLY | libc::O_DIRECTORY, 0).map(|fd| Dir { fd })
    }

    /// Sets this directory's mode.
    pub fn chmod(&self, mode: libc::mode_t) -> io::Result<()> {
        // SAFETY: an open descriptor and a mode.
        check(unsafe { libc::fchmod(self.fd.as_raw_fd(), mode) }).map(|_| ())
    }

    /// Renames `from` here to `to` in `into` (the same directory or another open one).
    pub fn rename(&self, from: &OsStr, into: &Dir, to: &OsStr) -> io::Result<()> {
        let (from, to) = (c_name(from)?, c_name(to)?);
        // SAFETY: both names are NUL-terminated; both descriptors are open.
        check(unsafe { libc::renameat(self.fd.as_raw_fd(), from.as_ptr(), into.fd.as_raw_fd(), to.as_ptr()) })
            .map(|_| ())
    }

    /// Renames `from` here to `to` here only if nothing is at `to` (`renameat2`'s
    /// `RENAME_NOREPLACE`): `AlreadyExists` otherwise. A filesystem without it is checked
    /// first instead, which leaves a moment for a race.
    pub fn rename_new(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        let (f, t) = (c_name(from)?, c_name(to)?);
        let fd = self.fd.as_raw_fd();
        // SAFETY: both names are NUL-terminated; the descriptor is open; renameat2's
        // arguments are two (dirfd, path) pairs and flags.
        let r = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                fd,
                f.as_ptr(),
                fd,
                t.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        // EPERM too: a seccomp filter refusing renameat2 (sweep 28.2: every export exit 5);
        // a rename that is truly not permitted fails the same way below.
        if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS | libc::EPERM)) {
            return Err(e);
        }
        if self.stat(to)?.is_some() {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        self.rename(from, self, to)
    }

    /// Removes the file (or symlink) `name` here.
    pub fn remove_file(&self, name: &OsStr) -> io::Result<()> {
        let name = c_name(name)?;
        // SAFETY: `name` is NUL-terminated; the descriptor is open.
        check(unsafe { libc::unlinkat(self.fd.as_raw_fd(), name.as_ptr(), 0) }).map(|_| ())
    }

    /// Removes `name` here and, for a directory, everything in it, never through a symlink
    /// (a link inside is removed, not followed). Directories are opened one level at a time
    /// from their parent's descriptor, so a path swapped meanwhile leads nowhere else.
    pub fn remove_tree(&self, name: &OsStr) -> io::Result<()> {
        let name = c_name(name)?;
        match stat_at(self.fd.as_fd(), &name) {
            Ok(st) if !is_dir(&st) => return self.remove_file(OsStr::from_bytes(name.as_bytes())),
            Ok(_) => {}
            Err(e) => return Err(e),
        }
        let top = self.open_dir_c(&name)?;
        let device = top.id()?.0;
        // Each level: the open directory, its name in the level above, and its subdirectories
        // still to remove (each directory is listed once: its files and links go then).
        let pending = top.empty_but_subdirs(device)?;
        let mut stack: Vec<(Dir, CString, Vec<CString>)> = vec![(top, name, pending)];
        loop {
            let depth = stack.len();
            let Some((top, _, pending)) = stack.last_mut() else {
                break;
            };
            match pending.pop() {
                Some(_) if depth >= MAX_REMOVE_DEPTH => {
                    return Err(io::Error::other(format!(
                        "more than {MAX_REMOVE_DEPTH} directories deep; not removed"
                    )));
                }
                Some(entry) => {
                    let dir = top.open_dir_c(&entry)?;
                    let below = dir.empty_but_subdirs(device)?;
                    stack.push((dir, entry, below));
                }
                None => {
                    // Empty now: removed from the level above.
                    let Some((done, done_name, _)) = stack.pop() else { break };
                    drop(done);
                    let parent = stack.last().map_or(self.fd.as_raw_fd(), |(p, _, _)| p.fd.as_raw_fd());
                    // SAFETY: the name is NUL-terminated; the descriptor is open.
                    check(unsafe { libc::unlinkat(parent, done_name.as_ptr(), libc::AT_REMOVEDIR) })?;
                }
            }
        }
        Ok(())
    }

    /// Removes every entry of this directory but its subdirectories, and names those. A
    /// subdirectory on another device (a filesystem mounted inside) is not entered: an error.
    fn empty_but_subdirs(&self, device: u64) -> io::Result<Vec<CString>> {
        let mut subdirs = Vec::new();
        for entry in self.names()? {
            let st = stat_at(self.fd.as_fd(), &entry)?;
            if is_dir(&st) {
                if st.st_dev != device {
                    return Err(io::Error::other(format!(
                        "{}: another filesystem is mounted there; not removed",
                        String::from_utf8_lossy(entry.as_bytes())
                    )));
                }
                subdirs.push(entry);
            } else {
                // SAFETY: `entry` is NUL-terminated; the descriptor is open.
                check(unsafe { libc::unlinkat(self.fd.as_raw_fd(), entry.as_ptr(), 0) })?;
            }
        }
        Ok(subdirs)
    }

    /// The names in this directory, `.` and `..` left out.
    fn names(&self) -> io::Result<Vec<CString>> {
        // fdopendir takes the descriptor over: give it a duplicate.
        let dup = self.fd.try_clone()?;
        // SAFETY: `dup` is an open directory descriptor; on success the stream owns it.
        let stream = unsafe { libc::fdopendir(dup.as_raw_fd()) };
        if stream.is_null() {
            return Err(io::Error::last_os_error());
        }
        std::mem::forget(dup);
        // A duplicate shares the offset: start at the top whatever read it before.
        // SAFETY: `stream` is a valid directory stream.
        unsafe { libc::rewinddir(stream) };
        let mut out = Vec::new();
        loop {
            // SAFETY: `stream` is valid until closedir below.
            let entry = unsafe { libc::readdir(stream) };
            if entry.is_null() {
                break;
            }
            // SAFETY: readdir returned a valid entry whose d_name is NUL-terminated.
            let name = unsafe { std::ffi::CStr::from_ptr((*entry).d_name.as_ptr()) };
            if name.to_bytes() != b"." && name.to_bytes() != b".." {
                out.push(name.to_owned());
            }
        }
        // SAFETY: `stream` is valid and closed once (closing its descriptor too).
        unsafe { libc::closedir(stream) };
        Ok(out)
    }

    /// Creates the directory `rel` (a `/`-separated name made by the export, its parents
    /// already made) below this one.
    pub fn create_dir_below(&self, rel: &str) -> io::Result<Dir> {
        let (parent, last) = self.walk_to_parent(rel)?;
        let base = parent.as_ref().unwrap_or(self);
        base.create_dir_c(&last)?;
        base.open_dir_c(&last)
    }

    /// Creates the file `rel` below this one, new, open for writing.
    pub fn create_file_below(&self, rel: &str) -> io::Result<File> {
        let (parent, last) = self.walk_to_parent(rel)?;
        parent.as_ref().unwrap_or(self).create_file_c(&last)
    }

    /// The directory holding `rel`'s last component (`None`: this one), opened one component
    /// at a time without following a link, and that component.
    fn walk_to_parent(&self, rel: &str) -> io::Result<(Option<Dir>, CString)> {
        let mut parts = rel.trim_end_matches('/').split('/').peekable();
        let mut at: Option<Dir> = None;
        while let Some(part) = parts.next() {
            let c = component(part)?;
            if parts.peek().is_none() {
                return Ok((at, c));
            }
            let next = at.as_ref().unwrap_or(self).open_dir_c(&c)?;
            at = Some(next);
        }
        Err(io::Error::new(io::ErrorKind::InvalidInput, "an empty name"))
    }
}

fn component_dot() -> CString {
    c".".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_tree_removes_links_not_what_they_lead_to() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("keep"), b"x").unwrap();
        let base = tmp.path().join("base");
        std::fs::create_dir_all(base.join("t/a/b/c")).unwrap();
        std::fs::write(base.join("t/a/f"), b"1").unwrap();
        std::fs::write(base.join("t/a/b/c/g"), b"2").unwrap();
        std::os::unix::fs::symlink(&outside, base.join("t/a/b/link")).unwrap();
        std::os::unix::fs::symlink(&outside, base.join("t/top-link")).unwrap();
        let dir = Dir::open(&base).unwrap();
        dir.remove_tree(OsStr::new("t")).unwrap();
        assert!(!base.join("t").exists());
        assert!(outside.join("keep").is_file(), "nothing followed out");
        // A name that is a symlink to a directory: the link goes, not the directory.
        std::os::unix::fs::symlink(&outside, base.join("l")).unwrap();
        dir.remove_tree(OsStr::new("l")).unwrap();
        assert!(outside.join("keep").is_file());
    }

    #[test]
    fn remove_tree_stops_at_its_depth_and_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let mut deep = tmp.path().join("d");
        for _ in 0..MAX_REMOVE_DEPTH + 2 {
            deep = deep.join("x");
        }
        std::fs::create_dir_all(&deep).unwrap();
        let dir = Dir::open(tmp.path()).unwrap();
        let e = dir.remove_tree(OsStr::new("d")).unwrap_err();
        assert!(e.to_string().contains("deep"), "{e}");
    }

    #[test]
    fn names_below_are_made_without_following_links() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let dir = Dir::open(&out).unwrap();
        dir.create_dir_below("blobs").unwrap();
        dir.create_dir_below("blobs/sha256/").unwrap();
        dir.create_file_below("blobs/sha256/ab").unwrap();
        assert!(out.join("blobs/sha256/ab").is_file());
        std::os::unix::fs::symlink(&outside, out.join("linked")).unwrap();
        assert!(dir.create_file_below("linked/x").is_err());
        assert!(dir.create_file_below("blobs/../x").is_err());
        assert!(
            dir.create_file_below("blobs/sha256/ab").is_err(),
            "never one already there"
        );
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    }

    #[test]
    fn rename_new_never_replaces() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("a"), b"a").unwrap();
        std::fs::write(tmp.path().join("b"), b"b").unwrap();
        let dir = Dir::open(tmp.path()).unwrap();
        let e = dir.rename_new(OsStr::new("a"), OsStr::new("b")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(tmp.path().join("b")).unwrap(), b"b");
        dir.rename_new(OsStr::new("a"), OsStr::new("c")).unwrap();
        assert_eq!(std::fs::read(tmp.path().join("c")).unwrap(), b"a");
    }

    #[test]
    fn ancestors_reach_the_top() {
        let tmp = tempfile::tempdir().unwrap();
        let sub = tmp.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let up = Dir::open(&sub).unwrap().ancestors().unwrap();
        let id = |p: &Path| Dir::open(p).unwrap().id().unwrap();
        assert_eq!(up.first(), Some(&id(&sub)));
        assert!(up.contains(&id(tmp.path())));
        assert_eq!(up.last(), Some(&id(Path::new("/"))));
    }
}
