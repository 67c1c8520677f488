//! The merged filesystem of a layer stack as a tar stream: what `docker export` gives for a
//! container, from the layer directories alone.
//!
//! Order: depth first, names in byte order (Go's `filepath.Walk`, which moby's archiver uses),
//! no member for the root, directories named with a trailing `/`. A non-directory with more
//! than one link becomes a hard link member to the first path the walk met it at (moby keys
//! hard links on the inode). Sockets are left out (tar cannot hold them; moby skips them too).
//! Whiteouts and opaque markers are applied, never exported; the mount's own xattrs
//! (`trusted.overlay.*`, or `user.overlay.*` for a `userxattr` mount) are dropped and escaped
//! ones (`*.overlay.overlay.*`) unescaped, as the kernel shows them; every other xattr is kept
//! as a PAX `SCHILY.xattr` record. A metacopy file's bytes come from its lower data file.
//! A plain stack (a native snapshot's one directory, bind-mounted) has none of these: every
//! entry and every attribute is exported as it is.
//!
//! Regular files are opened with `O_NOFOLLOW | O_NONBLOCK` and checked to be the regular file
//! that was listed; exactly the listed size is written (a file that shrank is padded with
//! zeros and named in the problems). A file that cannot be opened is left out and named. The walk is iterative (a stack of pending entries).

use super::merge::{Listing, Node, Stack};
use super::xattr;
use crate::export::tar::{self, Member};
use foldhash::HashMap;
use std::ffi::OsStr;
use std::fs::Metadata;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
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
/// metacopy file (`overlay.metacopy`, metadata only) the lower file the lookup found its data
/// in (the same path below, or its absolute `overlay.redirect`); see [`Node::data`].
pub fn data_file(_stack: &Stack, node: &Node, _rel: &Path) -> PathBuf {
    node.data_file().to_path_buf()
}

/// Copies exactly `size` bytes of `f` to `out` (zeros after an early end), through one 256 KiB
/// buffer: an archive's member must have the size its header says. Returns how many came
/// from the file.
pub fn copy_exact(f: &mut dyn Read, out: &mut dyn Write, size: u64) -> io::Result<u64> {
    let mut buf = vec![0u8; usize::try_from(size).unwrap_or(usize::MAX).clamp(1, 256 << 10)];
    let got = copy_into(f, out, size, &mut buf)?;
    // What the file no longer has is written as zeros, so the archive stays whole.
    buf.fill(0);
    let mut left = size - got;
    while left > 0 {
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        out.write_all(buf.get(..n).unwrap_or_default())?;
        left -= n as u64;
    }
    Ok(got)
}

/// Copies at most `size` bytes of `f` to `out`, up to its end and no zeros after it: what a
/// read of the file gives (the kernel's read of a metacopy file whose data is shorter than
/// the size it claims gives the data's bytes). Returns how many were copied.
pub fn copy_at_most(f: &mut dyn Read, out: &mut dyn Write, size: u64) -> io::Result<u64> {
    let mut buf = vec![0u8; usize::try_from(size).unwrap_or(usize::MAX).clamp(1, 256 << 10)];
    copy_into(f, out, size, &mut buf)
}

/// Copies up to `size` bytes of `f` to `out` through `buf` (not empty), until `f` ends.
fn copy_into(f: &mut dyn Read, out: &mut dyn Write, size: u64, buf: &mut [u8]) -> io::Result<u64> {
    let mut got = 0u64;
    while got < size {
        let want = usize::try_from(size - got).unwrap_or(usize::MAX).min(buf.len());
        let Some(chunk) = buf.get_mut(..want) else { break };
        match f.read(chunk) {
            Ok(0) => break,
            Ok(n) => {
                out.write_all(chunk.get(..n).unwrap_or_default())?;
                got += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Writes the merged tree of `stack` under `start` (relative; empty for the root) as a tar.
pub fn export(stack: &Stack, out: &mut dyn Write, problems: &mut Vec<String>) -> Result<Summary, String> {
    let root = stack.root()?;
    let mut summary = Summary::default();
    let mut links: HashMap<(u64, u64), Vec<u8>> = HashMap::default();
    // The directories being written, the deepest last: each one's names, and how far it is.
    // An entry is looked up when its turn comes, so a wide directory holds its names alone.
    struct Open {
        rel: PathBuf,
        dir: Node,
        listing: Listing,
        at: usize,
    }
    let open = |rel: PathBuf, dir: Node, problems: &mut Vec<String>| Open {
        listing: stack.list(&dir, dir.dirs.len(), problems),
        rel,
        dir,
        at: 0,
    };
    let mut walk = vec![open(PathBuf::new(), root, problems)];
    let io_err = |e: io::Error| format!("writing the archive: {e}");
    while let Some(top) = walk.last_mut() {
        let Some((name, next)) = top.listing.name_at(top.at) else {
            walk.pop();
            continue;
        };
        let at = std::mem::replace(&mut top.at, next);
        let rel = top.rel.join(OsStr::from_bytes(name));
        let Some(node) = stack.entry(&top.dir, &top.listing, at) else {
            continue;
        };
        let m = &node.meta;
        if stack.hides(m) {
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
                Err(e) if crate::damage::refused_by_system(&e) => stack.refused(format!("{}: {e}", own.display())),
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
        let prefix = stack.xattrs.prefix();
        // A plain directory's attributes are all its own: a bind mount shows every one.
        let xattrs: Vec<(Vec<u8>, Vec<u8>)> = xattr::list(&own)
            .into_iter()
            .filter_map(|(k, v)| {
                if stack.plain {
                    return Some((k, v));
                }
                xattr::merged_name(&k, prefix).map(|k| (k, v))
            })
            .collect();
        let (devmajor, devminor) = if matches!(flag, b'3' | b'4') {
            (u64::from(libc::major(m.rdev())), u64::from(libc::minor(m.rdev())))
        } else {
            (0, 0)
        };
        // A regular file's data is opened first: a file with holes goes out as GNU sparse
        // 1.0 (a map, then only the data), so 64 GiB of holes do not become 64 GiB of tar.
        let mut file = None;
        let mut sparse: Option<Vec<(u64, u64)>> = None;
        if flag == b'0' {
            let data = data_file(stack, &node, &rel);
            let data_meta = if data == own {
                Ok(m.clone())
            } else {
                std::fs::symlink_metadata(&data)
            };
            match data_meta.and_then(|dm| stack.files.open_regular(&data, dm.dev(), dm.ino()).map(|f| (f, dm))) {
                Ok((f, dm)) => {
                    let mut keep = true;
                    let on_disk = dm.blocks().saturating_mul(512);
                    match data_plan(&f, size, on_disk, MAX_SEGMENTS) {
                        DataPlan::Sparse(segments) => sparse = Some(segments),
                        DataPlan::Whole => {}
                        DataPlan::Empty => {
                            problems.push(format!(
                                "{}: more than {MAX_SEGMENTS} data segments between holes of more than three times its data ({size} bytes, {on_disk} on disk); written empty",
                                stack.path_of(&node, &rel).display(),
                            ));
                            size = 0;
                            keep = false;
                        }
                    }
                    if keep {
                        file = Some(f);
                    }
                }
                Err(e) => {
                    // Left out, never written as zeros of its size: an archive member whose
                    // bytes are not the file's would be evidence invented. A later hard link
                    // to it is then the first path met again.
                    let why = format!("{}: {e}; left out of the archive", data.display());
                    if crate::damage::refused_by_system(&e) {
                        stack.refused(why);
                    } else {
                        problems.push(why);
                    }
                    if links.get(&(m.dev(), m.ino())) == Some(&name) {
                        links.remove(&(m.dev(), m.ino()));
                    }
                    continue;
                }
            }
        }
        let mut extra = Vec::new();
        let mut map = Vec::new();
        let mut stored = size;
        let mut header_name = name.clone();
        if let Some(segments) = &sparse {
            map = sparse_map(segments, size);
            stored = map.len() as u64 + segments.iter().map(|(_, len)| len).sum::<u64>();
            extra = vec![
                (b"GNU.sparse.major".to_vec(), b"1".to_vec()),
                (b"GNU.sparse.minor".to_vec(), b"0".to_vec()),
                (b"GNU.sparse.name".to_vec(), name.clone()),
                (b"GNU.sparse.realsize".to_vec(), size.to_string().into_bytes()),
            ];
            let base = name.rsplit(|&b| b == b'/').next().unwrap_or_default();
            header_name = b"GNUSparseFile.0/".to_vec();
            header_name.extend_from_slice(base.get(..base.len().min(80)).unwrap_or_default());
        }
        let member = Member {
            name: &header_name,
            typeflag: flag,
            mode: m.mode(),
            uid: u64::from(m.uid()),
            gid: u64::from(m.gid()),
            size: stored,
            mtime: m.mtime(),
            link: &link,
            devmajor,
            devminor,
            xattrs: &xattrs,
            extra: &extra,
        };
        tar::write_member(out, &member).map_err(io_err)?;
        summary.members += 1;
        if flag == b'0' {
            let shown = stack.path_of(&node, &rel);
            let got = match (&mut file, &sparse) {
                (Some(f), Some(segments)) => {
                    out.write_all(&map).map_err(io_err)?;
                    let mut got = 0;
                    for &(offset, len) in segments {
                        use std::io::Seek;
                        f.seek(io::SeekFrom::Start(offset))
                            .map_err(|e| format!("{}: {e}", shown.display()))?;
                        got += copy_exact(f, out, len).map_err(io_err)?;
                    }
                    got + (size - segments.iter().map(|(_, l)| l).sum::<u64>())
                }
                (Some(f), None) => copy_exact(f, out, size).map_err(io_err)?,
                (None, _) => copy_exact(&mut io::empty(), out, size).map_err(io_err)?,
            };
            if got < size && file.is_some() {
                problems.push(format!(
                    "{}: {got} of {size} bytes read; zeros written for the rest",
                    shown.display()
                ));
            }
            tar::pad(out, stored).map_err(io_err)?;
            summary.bytes += stored;
        }
        if node.is_dir() {
            let dir = open(rel, node, problems);
            walk.push(dir);
        }
    }
    tar::finish(out).map_err(io_err)?;
    Ok(summary)
}

/// The most data segments a sparse file is written with. Each segment is at least a block of
/// data on disk, so the map (~40 bytes a segment, held in memory) stays small beside the data
/// it maps; a file cut into more is written whole only when that adds at most three times its
/// data in zeros (see `export`).
const MAX_SEGMENTS: usize = 1 << 20;

/// How a file with fewer blocks than its size is written.
enum Segments {
    /// Its data segments (offset, length), from `SEEK_DATA`/`SEEK_HOLE`.
    Holes(Vec<(u64, u64)>),
    /// Whole: the file system cannot say where its holes are, or it has none.
    Whole,
    /// More data segments than the most asked for ([`MAX_SEGMENTS`]).
    TooMany,
}

/// How a regular file's data is written.
enum DataPlan {
    /// As GNU sparse 1.0: these data segments, the holes between them left out.
    Sparse(Vec<(u64, u64)>),
    Whole,
    /// Not at all (named as a problem).
    Empty,
}

/// How a file of `size` bytes, `on_disk` of them allocated, is written. One with fewer
/// blocks than its size goes out sparse; one cut into more than `max` segments (4 GiB of data
/// or more on disk at the cap) is written whole when its holes are at most three times its
/// data (a disk image, a fragmented database), else not at all: whole, the zeros would be up
/// to its apparent size (a hostile file of 1 TiB: hours, and a full disk).
fn data_plan(f: &std::fs::File, size: u64, on_disk: u64, max: usize) -> DataPlan {
    if on_disk >= size {
        return DataPlan::Whole;
    }
    match data_segments(f, size, max) {
        Segments::Holes(segments) => DataPlan::Sparse(segments),
        Segments::Whole => DataPlan::Whole,
        Segments::TooMany if size <= on_disk.saturating_mul(4) => DataPlan::Whole,
        Segments::TooMany => DataPlan::Empty,
    }
}

/// The data segments of a file with holes, up to `max` of them.
fn data_segments(f: &std::fs::File, size: u64, max: usize) -> Segments {
    let mut out = Vec::new();
    for run in crate::sparse::DataRuns::new(f, size) {
        let Ok((start, end)) = run else {
            return Segments::Whole;
        };
        if out.len() == max {
            return Segments::TooMany;
        }
        out.push((start, end - start));
    }
    let covered: u64 = out.iter().map(|(_, l)| l).sum();
    if covered < size {
        Segments::Holes(out)
    } else {
        Segments::Whole
    }
}

/// GNU sparse 1.0's map: the count, then offset and length of each segment, one decimal
/// number a line, padded with zeros to whole blocks. A file ending in a hole gets a last
/// empty segment at its size, as GNU tar writes it, so the size comes back on extraction.
fn sparse_map(segments: &[(u64, u64)], size: u64) -> Vec<u8> {
    let mut all = segments.to_vec();
    if all.last().is_none_or(|(o, l)| o + l < size) {
        all.push((size, 0));
    }
    let mut map = format!("{}\n", all.len()).into_bytes();
    for (o, l) in &all {
        map.extend_from_slice(format!("{o}\n{l}\n").as_bytes());
    }
    map.resize(map.len() + tar::padding(map.len() as u64), 0);
    map
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

#[cfg(test)]
mod tests {
    use super::{DataPlan, Segments, data_plan, data_segments};
    use std::io::{Seek, SeekFrom, Write};
    use std::os::unix::fs::MetadataExt;

    /// A file of five data blocks between holes has five segments, and is too many for a cap
    /// of four; one with no holes is written whole.
    #[test]
    fn data_segments_are_counted_against_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("holes");
        let mut f = std::fs::File::create(&path).unwrap();
        for i in 0..5u64 {
            f.seek(SeekFrom::Start(i << 20)).unwrap();
            f.write_all(b"data").unwrap();
        }
        f.set_len(8 << 20).unwrap();
        let f = std::fs::File::open(&path).unwrap();
        match data_segments(&f, 8 << 20, 5) {
            Segments::Holes(s) => {
                assert_eq!(s.len(), 5);
                assert!(s.iter().enumerate().all(|(i, &(o, l))| o == (i as u64) << 20 && l > 0));
            }
            _ => panic!("five segments expected"),
        }
        assert!(matches!(data_segments(&f, 8 << 20, 4), Segments::TooMany));
        // Over the cap: whole when the holes are at most three times the data, else empty.
        let blocks = f.metadata().unwrap().blocks() * 512;
        assert!(matches!(data_plan(&f, 8 << 20, blocks, 5), DataPlan::Sparse(_)));
        assert!(matches!(data_plan(&f, 8 << 20, blocks, 4), DataPlan::Empty));
        assert!(matches!(data_plan(&f, 8 << 20, (8 << 20) / 4, 4), DataPlan::Whole));
        assert!(matches!(data_plan(&f, 8 << 20, 8 << 20, 4), DataPlan::Whole));
        let dense = dir.path().join("dense");
        std::fs::write(&dense, vec![1u8; 10_000]).unwrap();
        let d = std::fs::File::open(&dense).unwrap();
        assert!(matches!(data_segments(&d, 10_000, 4), Segments::Whole));
    }
}
