//! The merged filesystem of a layer stack as a tar stream: what `docker export` gives for a
//! container, from the layer directories alone.
//!
//! Order: depth first, names in byte order (Go's `filepath.Walk`, which moby's archiver uses),
//! no member for the root, directories named with a trailing `/`. A non-directory with more
//! than one link becomes a hard link member to the first path the walk met it at (moby keys
//! hard links on the inode). Sockets are left out (tar cannot hold them; moby skips them too).
//! Whiteouts and opaque markers are applied, never exported; overlayfs' own xattrs are
//! dropped, every other xattr is kept as a PAX `SCHILY.xattr` record.
//!
//! Regular files are opened with `O_NOFOLLOW | O_NONBLOCK` and checked to be the regular file
//! that was listed; exactly the listed size is written (a file that shrank is padded with
//! zeros and named in the problems). The walk is iterative (a stack of pending entries).

use super::merge::{Node, Stack, is_whiteout};
use super::xattr;
use crate::export::tar::{self, Member};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::Metadata;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What an export wrote.
#[derive(Debug, Default)]
pub struct Summary {
    pub members: u64,
    pub bytes: u64,
    pub skipped_sockets: u64,
}

/// The ustar typeflag of a file type; `None` for a socket (and whiteouts, never exported).
pub fn typeflag(m: &Metadata) -> Option<u8> {
    let t = m.file_type();
    Some(if t.is_dir() {
        b'5'
    } else if t.is_symlink() {
        b'2'
    } else if t.is_char_device() {
        b'3'
    } else if t.is_block_device() {
        b'4'
    } else if t.is_fifo() {
        b'6'
    } else if t.is_file() {
        b'0'
    } else {
        return None;
    })
}

/// The file whose bytes a regular file of the merged tree has: itself, or for an overlayfs
/// metacopy file (`trusted.overlay.metacopy`, metadata only) the lower file it points at
/// (`trusted.overlay.redirect` when set, else the same path in the layers below).
pub fn data_file(stack: &Stack, node: &Node, rel: &Path) -> PathBuf {
    let own = stack.path_of(node, rel);
    let meta = ["trusted.overlay.metacopy", "user.overlay.metacopy"]
        .iter()
        .any(|n| xattr::get(&own, n).is_some());
    if !meta {
        return own;
    }
    let target = ["trusted.overlay.redirect", "user.overlay.redirect"]
        .iter()
        .find_map(|n| xattr::get(&own, n))
        .unwrap_or_else(|| rel.as_os_str().as_bytes().to_vec());
    let below = Stack::new(stack.layers.iter().skip(node.layer + 1).cloned().collect());
    match below.resolve(&target, false) {
        Ok((r, n)) if n.meta.is_file() => below.path_of(&n, &r),
        _ => own,
    }
}

/// Opens a regular file for reading without following a symlink or blocking on a FIFO, and
/// checks it is the file `meta` describes.
pub fn open_regular(path: &Path, meta: &Metadata) -> io::Result<std::fs::File> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    let now = f.metadata()?;
    if !now.is_file() || now.ino() != meta.ino() || now.dev() != meta.dev() {
        return Err(io::Error::other(format!("{}: changed while read", path.display())));
    }
    Ok(f)
}

/// Copies exactly `size` bytes of `f` to `out` (zeros after an early end). Returns how many
/// came from the file.
pub fn copy_exact(f: &mut dyn Read, out: &mut dyn Write, size: u64) -> io::Result<u64> {
    let got = io::copy(&mut f.take(size), out)?;
    let mut left = size - got;
    let zeros = [0u8; 8192];
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        out.write_all(zeros.get(..n).unwrap_or_default())?;
        left -= n as u64;
    }
    Ok(got)
}

/// Writes the merged tree of `stack` under `start` (relative; empty for the root) as a tar.
pub fn export(stack: &Stack, out: &mut dyn Write, problems: &mut Vec<String>) -> Result<Summary, String> {
    let root = stack.root()?;
    let mut summary = Summary::default();
    let mut links: HashMap<(u64, u64), Vec<u8>> = HashMap::new();
    // Pending entries, the next one last.
    let mut todo: Vec<(PathBuf, Node)> = Vec::new();
    let push_children = |todo: &mut Vec<(PathBuf, Node)>, rel: &Path, node: &Node, problems: &mut Vec<String>| {
        let children = stack.children(rel, &node.dirs, problems);
        for (name, child) in children.into_iter().rev() {
            todo.push((rel.join(OsStr::from_bytes(&name)), child));
        }
    };
    push_children(&mut todo, Path::new(""), &root, problems);
    let io_err = |e: io::Error| format!("writing the archive: {e}");
    while let Some((rel, node)) = todo.pop() {
        let m = &node.meta;
        if is_whiteout(m) {
            continue;
        }
        let Some(mut flag) = typeflag(m) else {
            summary.skipped_sockets += 1;
            continue;
        };
        let own = stack.path_of(&node, &rel);
        let mut name = rel.as_os_str().as_bytes().to_vec();
        if flag == b'5' {
            name.push(b'/');
        }
        let mut link = Vec::new();
        if flag == b'2' {
            match std::fs::read_link(&own) {
                Ok(t) => link = t.into_os_string().into_vec_bytes(),
                Err(e) => problems.push(format!("{}: {e}", own.display())),
            }
        }
        let mut size = if flag == b'0' { m.size() } else { 0 };
        if flag != b'5' && m.nlink() > 1 {
            match links.get(&(m.dev(), m.ino())) {
                Some(first) => {
                    flag = b'1';
                    link = first.clone();
                    size = 0;
                }
                None => {
                    links.insert((m.dev(), m.ino()), name.clone());
                }
            }
        }
        let xattrs: Vec<(Vec<u8>, Vec<u8>)> = xattr::list(&own)
            .into_iter()
            .filter(|(k, _)| !xattr::is_overlay_private(k))
            .collect();
        let (devmajor, devminor) = if matches!(flag, b'3' | b'4') {
            (u64::from(libc::major(m.rdev())), u64::from(libc::minor(m.rdev())))
        } else {
            (0, 0)
        };
        let member = Member {
            name: &name,
            typeflag: flag,
            mode: m.mode(),
            uid: u64::from(m.uid()),
            gid: u64::from(m.gid()),
            size,
            mtime: m.mtime(),
            link: &link,
            devmajor,
            devminor,
            xattrs: &xattrs,
        };
        tar::write_member(out, &member).map_err(io_err)?;
        summary.members += 1;
        if flag == b'0' {
            let data = data_file(stack, &node, &rel);
            let data_meta = if data == own {
                Ok(m.clone())
            } else {
                std::fs::symlink_metadata(&data)
            };
            let opened = data_meta.and_then(|dm| open_regular(&data, &dm));
            let got = match opened {
                Ok(mut f) => copy_exact(&mut f, out, size).map_err(io_err)?,
                Err(e) => {
                    problems.push(format!("{}: {e}", data.display()));
                    copy_exact(&mut io::empty(), out, size).map_err(io_err)?
                }
            };
            if got < size {
                problems.push(format!(
                    "{}: {got} of {size} bytes read; zeros written for the rest",
                    data.display()
                ));
            }
            tar::pad(out, size).map_err(io_err)?;
            summary.bytes += size;
        }
        if node.is_dir() {
            push_children(&mut todo, &rel, &node, problems);
        }
    }
    tar::finish(out).map_err(io_err)?;
    Ok(summary)
}

/// `OsString` bytes (unix).
trait IntoVecBytes {
    fn into_vec_bytes(self) -> Vec<u8>;
}

impl IntoVecBytes for std::ffi::OsString {
    fn into_vec_bytes(self) -> Vec<u8> {
        use std::os::unix::ffi::OsStringExt;
        self.into_vec()
    }
}
