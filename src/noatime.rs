//! Reading the evidence without writing its access times.
//!
//! A file's access time is updated by the kernel when the file is read, and a directory's when
//! it is listed (`getdents`), unless the file or directory was opened `O_NOATIME`. Under the
//! default `relatime` mount option an access time older than the modification time, or more
//! than a day old (every file of a seized disk), is rewritten on the first read: a reader that
//! opens without `O_NOATIME` changes the evidence it examines. `std::fs::read_dir` (and walkers
//! built on it) open with `opendir`, which never asks for it.
//!
//! Here every file and directory is opened `O_NOATIME` first; the kernel refuses that flag
//! (`EPERM`) on files the caller does not own unless it holds `CAP_FOWNER`, and the open is
//! then made again without it (the access time may then change; nothing else can be done).
//!
//! [`read_dir`] is `std::fs::read_dir` on such a descriptor: `fdopendir` + `readdir`, "." and
//! ".." left out, the entry types as the directory gives them (an `fstatat` of the name,
//! never following a link, when it does not), and an entry's [`DirEntry::stat`] made relative
//! to the directory's descriptor. As `std`'s, the listing ends after its first error.
//!
//! What is not covered: `readlink` of a symlink updates the link's own access time, and no
//! flag avoids that.

use crate::containerd::blobs::FileKind;
use std::ffi::{CStr, CString, OsString};
use std::fs::File;
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;

/// Opens `path` read-only with `flags` (`O_NOFOLLOW`, `O_NONBLOCK`, ...) and `O_NOATIME`, or
/// without `O_NOATIME` where the kernel refuses it (`EPERM`: a file we do not own, and no
/// `CAP_FOWNER`).
pub fn open(path: &Path, flags: i32) -> io::Result<File> {
    let open = |extra: i32| {
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags | extra)
            .open(path)
    };
    match open(libc::O_NOATIME) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => open(0),
        other => other,
    }
}

/// Lists the directory at `path` (a symlink there is followed, as `std::fs::read_dir` follows
/// it: for a path the user gave). Entries come in the directory's own order.
pub fn read_dir(path: &Path) -> io::Result<ReadDir> {
    ReadDir::open(path, 0)
}

/// [`read_dir`], but a symlink at `path` is not followed: the open fails (`ENOTDIR`). For a
/// directory of the evidence that was looked at (`lstat`) first, so that what is listed is
/// what was looked at.
pub fn read_dir_no_follow(path: &Path) -> io::Result<ReadDir> {
    ReadDir::open(path, libc::O_NOFOLLOW)
}

/// Lists the directory open at `dir` through a description of its own (`openat(dir, ".")`),
/// so that reading it moves no offset of `dir`, and so that it needs the search permission a
/// lookup by name in `dir` needs. `path` is `dir`'s path, for [`DirEntry::path`].
pub fn read_dir_at(dir: &File, path: &Path) -> io::Result<ReadDir> {
    use std::os::fd::AsRawFd;
    ReadDir::open_at(dir.as_raw_fd(), c".", 0, path)
}

/// Lists the directory `dir`, opened by the caller (read-only, `O_DIRECTORY`, `O_NOATIME`
/// where it could), through that descriptor itself; `path` is `dir`'s path, for
/// [`DirEntry::path`].
pub fn read_dir_of(dir: File, path: &Path) -> io::Result<ReadDir> {
    use std::os::fd::IntoRawFd;
    ReadDir::of_fd(dir.into_raw_fd(), path)
}

/// An open directory stream; closed when the listing and all its entries are gone.
struct Dir {
    stream: NonNull<libc::DIR>,
    /// The stream's descriptor, for `fstatat` (owned by the stream).
    fd: RawFd,
    path: PathBuf,
}

// SAFETY: the stream is read (`readdir`) only through `ReadDir::next`, which takes `&mut
// ReadDir`, and there is one `ReadDir` per stream: no two threads read it at once. Entries
// use only the descriptor, for `fstatat`, which any thread may call on an open descriptor.
unsafe impl Send for Dir {}
// SAFETY: as above: through a shared `Dir` only `fstatat` on its descriptor is made.
unsafe impl Sync for Dir {}

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: the stream is open, owned by this `Dir` alone, and not used after this;
        // closing it closes its descriptor.
        unsafe { libc::closedir(self.stream.as_ptr()) };
    }
}

/// The entries of a directory, as [`read_dir`] lists them.
pub struct ReadDir {
    dir: Arc<Dir>,
    done: bool,
}

impl ReadDir {
    fn open(path: &Path, nofollow: i32) -> io::Result<ReadDir> {
        let c = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))?;
        ReadDir::open_at(libc::AT_FDCWD, &c, nofollow, path)
    }

    /// Opens `name` relative to the directory `at` (or to the working directory, `AT_FDCWD`);
    /// `path` is what entries' [`DirEntry::path`] are joined to.
    fn open_at(at: RawFd, c: &CStr, nofollow: i32, path: &Path) -> io::Result<ReadDir> {
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC | libc::O_NONBLOCK | nofollow;
        let open = |extra: i32| {
            // SAFETY: `at` is an open directory or AT_FDCWD and `c` a NUL-terminated name;
            // the descriptor returned is owned below.
            let fd = unsafe { libc::openat(at, c.as_ptr(), flags | extra) };
            if fd < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(fd)
            }
        };
        let fd = match open(libc::O_NOATIME) {
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => open(0),
            other => other,
        }?;
        ReadDir::of_fd(fd, path)
    }

    /// The listing of the open directory `fd`, which it takes over (closed with the stream).
    fn of_fd(fd: RawFd, path: &Path) -> io::Result<ReadDir> {
        // SAFETY: `fd` is an open directory owned by nothing else; on success the stream owns
        // it and `closedir` (in `Dir::drop`) closes both.
        let stream = unsafe { libc::fdopendir(fd) };
        let Some(stream) = NonNull::new(stream) else {
            let e = io::Error::last_os_error();
            // SAFETY: fdopendir failed, so `fd` is still ours to close, and only closed here.
            unsafe { libc::close(fd) };
            return Err(e);
        };
        Ok(ReadDir {
            dir: Arc::new(Dir {
                stream,
                fd,
                path: path.to_path_buf(),
            }),
            done: false,
        })
    }
}

impl ReadDir {
    /// The next entry's type (as the directory gives it: `None` for `DT_UNKNOWN`) and name,
    /// borrowed from the stream until the next call: no allocation per entry, for a caller
    /// that looks at 47,000 names and keeps few.
    pub fn next_raw(&mut self) -> Option<io::Result<(Option<FileKind>, &CStr)>> {
        while !self.done {
            // SAFETY: errno is thread-local; cleared so that the end of the stream (NULL,
            // errno untouched) is told apart from an error (NULL, errno set).
            unsafe { *libc::__errno_location() = 0 };
            // SAFETY: the stream is open, and read by this `ReadDir` alone (`&mut self`).
            let entry = unsafe { libc::readdir(self.dir.stream.as_ptr()) };
            if entry.is_null() {
                // After the end or an error, nothing more (as `std::fs::ReadDir`).
                self.done = true;
                let e = io::Error::last_os_error();
                return e.raw_os_error().is_some_and(|n| n != 0).then_some(Err(e));
            }
            // SAFETY: readdir returned an entry, valid until the next call on the stream (the
            // borrow of `self` returned ends before it); its name is NUL-terminated within it.
            let (d_type, name) = unsafe { ((*entry).d_type, CStr::from_ptr((*entry).d_name.as_ptr())) };
            if name == c"." || name == c".." {
                continue;
            }
            return Some(Ok((kind_of_d_type(d_type), name)));
        }
        None
    }
}

/// What a `d_type` says the entry is; `None` for `DT_UNKNOWN` (the filesystem does not say).
fn kind_of_d_type(d_type: u8) -> Option<FileKind> {
    Some(match d_type {
        libc::DT_REG => FileKind::Regular,
        libc::DT_DIR => FileKind::Directory,
        libc::DT_LNK => FileKind::Symlink,
        libc::DT_FIFO => FileKind::Fifo,
        libc::DT_SOCK => FileKind::Socket,
        libc::DT_BLK => FileKind::BlockDevice,
        libc::DT_CHR => FileKind::CharDevice,
        libc::DT_UNKNOWN => return None,
        _ => FileKind::Other,
    })
}

impl Iterator for ReadDir {
    type Item = io::Result<DirEntry>;

    fn next(&mut self) -> Option<io::Result<DirEntry>> {
        let dir = Arc::clone(&self.dir);
        self.next_raw().map(|r| {
            r.map(|(kind, name)| DirEntry {
                dir,
                name: name.to_owned(),
                kind,
            })
        })
    }
}

/// One entry of a [`ReadDir`]; it keeps its directory open for [`DirEntry::stat`].
pub struct DirEntry {
    dir: Arc<Dir>,
    name: CString,
    /// As the directory gave it; `None` when it did not (`DT_UNKNOWN`).
    kind: Option<FileKind>,
}

impl DirEntry {
    /// The entry's name.
    pub fn file_name(&self) -> OsString {
        OsString::from_vec(self.name.as_bytes().to_vec())
    }

    /// The directory's path as given to [`read_dir`], joined with the name.
    pub fn path(&self) -> PathBuf {
        self.dir.path.join(std::ffi::OsStr::from_bytes(self.name.as_bytes()))
    }

    /// What the entry is, as the directory says (a symlink is a symlink); looked up with an
    /// `fstatat` (never following a link) when the filesystem does not say (`DT_UNKNOWN`).
    pub fn file_type(&self) -> io::Result<FileType> {
        match self.kind {
            Some(kind) => Ok(FileType(kind)),
            None => self.stat().map(|s| FileType(s.kind)),
        }
    }

    /// The entry's `lstat`: an `fstatat` relative to the directory, never following a link.
    pub fn stat(&self) -> io::Result<Stat> {
        let mut st = std::mem::MaybeUninit::<libc::stat>::zeroed();
        // SAFETY: the directory's descriptor is open while `self.dir` is alive; the name is
        // NUL-terminated and the buffer of the right type.
        let rc = unsafe {
            libc::fstatat(
                self.dir.fd,
                self.name.as_ptr(),
                st.as_mut_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fstatat succeeded and filled the buffer.
        let st = unsafe { st.assume_init() };
        Ok(Stat {
            kind: FileKind::of_mode(st.st_mode),
            len: u64::try_from(st.st_size).unwrap_or(0),
            blocks: u64::try_from(st.st_blocks).unwrap_or(0),
            dev: st.st_dev,
            ino: st.st_ino,
        })
    }
}

/// What a directory entry is (never a followed link).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileType(FileKind);

impl FileType {
    pub fn is_dir(self) -> bool {
        self.0 == FileKind::Directory
    }

    pub fn is_file(self) -> bool {
        self.0 == FileKind::Regular
    }

    pub fn is_symlink(self) -> bool {
        self.0 == FileKind::Symlink
    }

    /// The store's vocabulary for it.
    pub fn kind(self) -> FileKind {
        self.0
    }

    /// "a directory", "a FIFO", ...: [`crate::paths::kind_of`]'s words.
    pub fn words(self) -> &'static str {
        crate::paths::kind_words(self.0)
    }
}

impl From<FileType> for FileKind {
    fn from(t: FileType) -> FileKind {
        t.0
    }
}

/// What callers need of an entry's `lstat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub kind: FileKind,
    /// Size in bytes.
    pub len: u64,
    /// 512-byte blocks allocated.
    pub blocks: u64,
    pub dev: u64,
    pub ino: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn lists_names_and_kinds_without_following_links() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(d.join("file"), b"12345").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::os::unix::fs::symlink("sub", d.join("link")).unwrap();
        std::os::unix::fs::symlink("nowhere", d.join("dangling")).unwrap();
        let fifo = CString::new(d.join("fifo").as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let listed: BTreeMap<OsString, (FileKind, Stat, PathBuf)> = read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name(),
                    (e.file_type().unwrap().kind(), e.stat().unwrap(), e.path()),
                )
            })
            .collect();
        let kinds: Vec<(&str, FileKind)> = listed.iter().map(|(n, (k, _, _))| (n.to_str().unwrap(), *k)).collect();
        assert_eq!(
            kinds,
            [
                ("dangling", FileKind::Symlink),
                ("fifo", FileKind::Fifo),
                ("file", FileKind::Regular),
                ("link", FileKind::Symlink),
                ("sub", FileKind::Directory),
            ]
        );
        for (name, (kind, stat, path)) in &listed {
            assert_eq!(stat.kind, *kind, "{name:?}");
            assert_eq!(*path, d.join(name));
            let m = std::fs::symlink_metadata(path).unwrap();
            use std::os::unix::fs::MetadataExt;
            assert_eq!(
                (stat.dev, stat.ino, stat.len, stat.blocks),
                (m.dev(), m.ino(), m.len(), m.blocks())
            );
        }
        let file = read_dir(d)
            .unwrap()
            .flatten()
            .find(|e| e.file_name() == "file")
            .unwrap();
        assert!(file.file_type().unwrap().is_file());
        assert_eq!(file.file_type().unwrap().words(), "a regular file");
        assert_eq!(FileKind::from(file.file_type().unwrap()), FileKind::Regular);
        // An entry outlives its listing and still looks its file up.
        assert_eq!(file.stat().unwrap().len, 5);

        // Followed at the path given, not with read_dir_no_follow.
        assert_eq!(read_dir(&d.join("link")).unwrap().count(), 0);
        // O_NOFOLLOW with O_DIRECTORY: a symlink is not a directory.
        let e = read_dir_no_follow(&d.join("link")).err().unwrap();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTDIR));
        assert_eq!(read_dir_no_follow(&d.join("sub")).unwrap().count(), 0);
    }

    #[test]
    fn a_missing_directory_and_a_file_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let e = read_dir(&tmp.path().join("missing")).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        std::fs::write(tmp.path().join("file"), b"x").unwrap();
        let e = read_dir(&tmp.path().join("file")).err().unwrap();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTDIR));
        // A FIFO is not opened for reading (no block): ENOTDIR too.
        let fifo = CString::new(tmp.path().join("fifo").as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let e = read_dir(&tmp.path().join("fifo")).err().unwrap();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTDIR));
    }

    #[test]
    fn entries_can_be_sent_across_threads() {
        fn sendable<T: Send + Sync>() {}
        sendable::<ReadDir>();
        sendable::<DirEntry>();
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("a"), b"abc").unwrap();
        let entries: Vec<DirEntry> = read_dir(tmp.path()).unwrap().map(Result::unwrap).collect();
        let sizes = std::thread::spawn(move || entries.iter().map(|e| e.stat().unwrap().len).collect::<Vec<_>>())
            .join()
            .unwrap();
        assert_eq!(sizes, [3]);
    }

    #[test]
    fn open_reads_a_file() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("f"), b"data").unwrap();
        let f = open(&tmp.path().join("f"), libc::O_NOFOLLOW | libc::O_NONBLOCK).unwrap();
        assert_eq!(io::read_to_string(f).unwrap(), "data");
        std::os::unix::fs::symlink("f", tmp.path().join("l")).unwrap();
        let e = open(&tmp.path().join("l"), libc::O_NOFOLLOW).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
    }
}
