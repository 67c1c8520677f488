//! Opening the files and directories of layer directories that may change while they are read
//! (a running container's upper directory), without following a link out of the layer.
//!
//! ```text
//! <layer root>/etc/app/conf      opened as openat2(<layer root fd>, "etc/app/conf",
//!                                  RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH, O_NOFOLLOW)
//! ```
//!
//! A walk lists a directory, then looks at and opens its entries later. A process that
//! replaces one of the directories on the way with a symlink in between (`etc/app` -> `/etc`)
//! would otherwise have a path-based open read the host's file as the container's. `openat2`
//! resolves the whole path below the layer's root with no symlink on the way (`ELOOP`), so
//! what opens is in the layer or nothing opens; the caller's check of the inode against the
//! entry's lstat then tells a swapped file apart. Kernels before 5.6 have no `openat2`
//! (`ENOSYS`): the path is then opened as given (no link at its end is followed, and the
//! inode check remains).

use crate::noatime;
use foldhash::HashMap;
use std::cell::OnceCell;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The layer roots below which files are opened; each root's directory opened once, when
/// first needed.
pub struct LayerRoots {
    roots: Vec<(PathBuf, OnceCell<Option<File>>)>,
    /// The layers by root path (a root given twice: each of its layers, in order), so that
    /// finding a path's layer costs the path's depth, not the number of layers (a chain of
    /// 1,000 snapshots was looked through whole for every file and directory).
    by_root: HashMap<PathBuf, Vec<usize>>,
    /// The first layer whose root is an empty path: every relative path is below it.
    empty_root: Option<usize>,
}

impl LayerRoots {
    pub fn new(layers: &[PathBuf]) -> LayerRoots {
        let mut by_root: HashMap<PathBuf, Vec<usize>> = HashMap::default();
        for (i, l) in layers.iter().enumerate() {
            by_root.entry(l.clone()).or_default().push(i);
        }
        LayerRoots {
            roots: layers.iter().map(|l| (l.clone(), OnceCell::new())).collect(),
            by_root,
            empty_root: layers.iter().position(|l| l.components().next().is_none()),
        }
    }

    /// The open root of the layer `path` is in, and `path` relative to it: the first layer,
    /// in the stack's order, whose root `path` is below (component-wise, as
    /// [`Path::strip_prefix`]) and whose directory opens. The roots `path` can be below are
    /// its ancestors, looked up by path.
    fn root_of<'p>(&self, path: &'p Path) -> Option<(&File, &'p Path)> {
        let mut layers: Vec<usize> = path
            .ancestors()
            .filter_map(|a| self.by_root.get(a))
            .flatten()
            .copied()
            .chain(self.empty_root)
            .collect();
        layers.sort_unstable();
        layers.dedup();
        layers.into_iter().find_map(|i| {
            let (root, fd) = self.roots.get(i)?;
            let rel = path.strip_prefix(root).ok()?;
            let fd = fd.get_or_init(|| noatime::open(root, libc::O_DIRECTORY | libc::O_CLOEXEC).ok());
            fd.as_ref().map(|f| (f, rel))
        })
    }

    /// Opens `path` (in one of the layers) read-only with `flags`: below its layer's root
    /// with no symlink followed, or by path where the kernel cannot do that.
    pub fn open(&self, path: &Path, flags: i32) -> io::Result<File> {
        if let Some((root, rel)) = self.root_of(path)
            && let Some(f) = open_beneath(root, rel, flags)?
        {
            return Ok(f);
        }
        noatime::open(path, flags | libc::O_NOFOLLOW)
    }

    /// Opens the regular file `path` without blocking on a FIFO, and checks it is the file
    /// an earlier lstat saw (device `dev`, inode `ino`): a file swapped since is refused.
    pub fn open_regular(&self, path: &Path, dev: u64, ino: u64) -> io::Result<File> {
        use std::os::unix::fs::MetadataExt;
        let f = self.open(path, libc::O_NONBLOCK | libc::O_CLOEXEC)?;
        let now = f.metadata()?;
        if !now.is_file() || now.ino() != ino || now.dev() != dev {
            return Err(io::Error::other(format!("{}: changed while read", path.display())));
        }
        Ok(f)
    }

    /// Lists the directory `path` (in one of the layers), opened as [`LayerRoots::open`]
    /// opens: a directory swapped for a link since it was looked at is not listed (`ELOOP`).
    pub fn read_dir(&self, path: &Path) -> io::Result<noatime::ReadDir> {
        match self.root_of(path) {
            Some((root, rel)) => match open_beneath(root, rel, libc::O_DIRECTORY | libc::O_CLOEXEC)? {
                Some(dir) => noatime::read_dir_of(dir, path),
                None => noatime::read_dir_no_follow(path),
            },
            None => noatime::read_dir_no_follow(path),
        }
    }
}

/// The kernel's `struct open_how` (`include/uapi/linux/openat2.h`), its first version: three
/// u64, 24 bytes (the crate's own is not constructible outside it).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// `openat2(root, rel, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH)`, read-only with `flags` and
/// `O_NOATIME` (without it where the kernel refuses it, as [`noatime::open`]); `Ok(None)`
/// where the kernel has no `openat2`.
fn open_beneath(root: &File, rel: &Path, flags: i32) -> io::Result<Option<File>> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    let c = std::ffi::CString::new(rel.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))?;
    let open = |extra: i32| -> io::Result<Option<File>> {
        // The flags are non-negative bits (`O_*`): as the kernel's u64 without sign change.
        let bits = (libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC | flags | extra).cast_unsigned();
        let how = OpenHow {
            flags: u64::from(bits),
            mode: 0,
            resolve: libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS | libc::RESOLVE_BENEATH,
        };
        // SAFETY: `root` is an open directory, `c` a NUL-terminated path, `how` a valid
        // `open_how` of the size given; the descriptor returned is owned below.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                root.as_raw_fd(),
                c.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::ENOSYS) => Ok(None),
                // A link on the way or at the end (what was looked at as a directory or a
                // file is a link now), or a path that leads out of the layer.
                Some(libc::ELOOP | libc::EXDEV) => Err(io::Error::other(
                    "a link where the walk met none (changed while read): not followed",
                )),
                _ => Err(e),
            };
        }
        let Ok(fd) = i32::try_from(fd) else {
            return Err(io::Error::other("openat2 returned no descriptor"));
        };
        // SAFETY: the kernel returned a new descriptor, owned by nothing else.
        Ok(Some(unsafe { File::from_raw_fd(fd) }))
    };
    match open(libc::O_NOATIME) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => match open(0) {
            // Not permitted without O_NOATIME either: a seccomp filter that answers a call it
            // does not know with EPERM (older container runtimes' profiles, systemd's
            // SystemCallFilter), taken as glibc and systemd take it, as no openat2 (sweep
            // 28.2: every layer "Operation not permitted", `fs` and `diff` exit 4).
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => Ok(None),
            other => other,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of a layer swapped for a link to a directory outside it: neither its
    /// files nor its listing open through the link; inside, they open as by path.
    #[test]
    fn nothing_opens_through_a_link_out_of_the_layer() {
        let t = tempfile::tempdir().unwrap();
        let layer = t.path().join("layer");
        let host = t.path().join("host");
        std::fs::create_dir_all(layer.join("real")).unwrap();
        std::fs::create_dir_all(&host).unwrap();
        std::fs::write(layer.join("real/f"), b"mine").unwrap();
        std::fs::write(host.join("f"), b"HOST").unwrap();
        std::os::unix::fs::symlink(&host, layer.join("swapped")).unwrap();
        std::os::unix::fs::symlink("f", layer.join("real/link")).unwrap();
        let roots = LayerRoots::new(std::slice::from_ref(&layer));
        let mut s = String::new();
        use std::io::Read;
        roots
            .open(&layer.join("real/f"), 0)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "mine");
        assert!(roots.open(&layer.join("swapped/f"), 0).is_err());
        assert!(roots.read_dir(&layer.join("swapped")).is_err());
        assert!(roots.open(&layer.join("real/link"), 0).is_err());
        let names: Vec<_> = roots
            .read_dir(&layer.join("real"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2);
        // A path in no layer opens by path, no link at its end followed.
        assert!(roots.open(&host.join("f"), 0).is_ok());
    }
}

#[cfg(test)]
mod root_tests {
    use super::*;

    /// The layer of each path as the lookup by ancestors finds it is the one the scan of
    /// every root in order found: nested roots, a root given twice, a root that does not
    /// open (the next one that holds the path is taken), a long stack, odd spellings.
    #[test]
    fn each_path_has_the_layer_a_scan_of_every_root_finds() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path();
        let mut layers: Vec<PathBuf> = (0..300).map(|i| base.join(format!("s/{i}/fs"))).collect();
        for l in &layers {
            std::fs::create_dir_all(l.join("etc/app")).unwrap();
        }
        // A root inside another layer, before and after it; the same root twice; a root
        // that is a file (its directory never opens); the parent of them all, last.
        layers.insert(3, base.join("s/200/fs/etc"));
        layers.push(base.join("s/7/fs/etc/app"));
        layers.push(base.join("s/5/fs"));
        std::fs::write(base.join("plain"), b"").unwrap();
        layers.insert(0, base.join("plain"));
        layers.push(base.join("s"));
        let roots = LayerRoots::new(&layers);
        let scan = |path: &Path| -> Option<(usize, PathBuf)> {
            roots.roots.iter().enumerate().find_map(|(i, (root, fd))| {
                let rel = path.strip_prefix(root).ok()?;
                let fd = fd.get_or_init(|| noatime::open(root, libc::O_DIRECTORY | libc::O_CLOEXEC).ok());
                fd.as_ref().map(|_| (i, rel.to_path_buf()))
            })
        };
        let index_of = |f: &File| {
            use std::os::fd::AsRawFd;
            roots.roots.iter().position(|(_, fd)| {
                fd.get()
                    .and_then(|o| o.as_ref())
                    .is_some_and(|g| g.as_raw_fd() == f.as_raw_fd())
            })
        };
        let mut paths: Vec<PathBuf> = Vec::new();
        for i in [0, 5, 7, 100, 200, 299] {
            let l = base.join(format!("s/{i}/fs"));
            paths.extend([
                l.clone(),
                l.join("etc"),
                l.join("etc/app"),
                l.join("etc/app/conf"),
                l.join("etc/./app//conf"),
            ]);
        }
        paths.extend([
            base.join("plain"),
            base.join("plain/x"),
            base.join("s"),
            base.join("s/x"),
            base.to_path_buf(),
            PathBuf::from("/"),
            PathBuf::from("relative/path"),
        ]);
        for p in &paths {
            let found = roots.root_of(p).map(|(f, rel)| (index_of(f), rel.to_path_buf()));
            let want = scan(p).map(|(i, rel)| (Some(i), rel));
            assert_eq!(found, want, "{}", p.display());
        }
    }
}
