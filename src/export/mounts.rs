//! Where a directory lies on its file system, from the kernel's table of this process's
//! mounts (`/proc/self/mountinfo`): what an output check needs to see that a directory reached
//! through a bind mount of a directory deep inside the evidence, or through an overlay mount
//! whose upper directory lies there (a running container's root file system, mounted from the
//! line `coldctr mounts` prints), is the evidence. Device and inode of the directory and its
//! parents catch a bind mount of the root or of a directory right in it; nothing of a
//! directory deeper in shows on the way up from the mount, only this table says it.
//!
//! ```text
//! 36 35 8:1 /var/lib/containerd/snapshots/1/fs /mnt/x rw,relatime shared:1 - ext4 /dev/sda1 rw
//! id parent dev root (the mount's top, as a path      mount point  options [optional fields]
//!               of its file system)                              - type source super-options
//! ```
//!
//! Paths and super-options are written with `\ooo` octal escapes for space, tab, newline and
//! backslash (overlay's options also for `,` and `=`). An overlay writes to its `upperdir` and
//! `workdir`. The table is trusted no more than any file: a line that does not read is passed
//! over, and without `/proc` (a bare rescue image) the check is simply not made.

use std::io::Read;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};

/// More than any host's table; what is past it is not read.
const MOST: u64 = 16 << 20;

/// One line of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// The file system's device, `major:minor`.
    pub dev: (u32, u32),
    /// The mount's top as a path of its file system (`/` for a whole file system, the bound
    /// directory for a bind mount).
    pub root: PathBuf,
    /// Where it is mounted.
    pub point: PathBuf,
    pub fs_type: String,
    /// The file system's own options (overlay's `upperdir=...`), unescaped per option.
    pub super_options: Vec<Vec<u8>>,
}

/// The mounts of this process, in the kernel's order (a later mount on the same point hides
/// an earlier one).
#[derive(Debug, Default)]
pub struct Table(Vec<Mount>);

impl Table {
    /// This process's mounts; `None` when `/proc/self/mountinfo` cannot be read.
    pub fn read() -> Option<Table> {
        let mut text = Vec::new();
        std::fs::File::open("/proc/self/mountinfo")
            .and_then(|f| f.take(MOST).read_to_end(&mut text))
            .ok()?;
        Some(Table::parse(&text))
    }

    /// The table `text` lists (a line that does not read is passed over). Public for the fuzz
    /// target (`names`).
    pub fn parse(text: &[u8]) -> Table {
        Table(text.split(|&b| b == b'\n').filter_map(mount).collect())
    }

    /// The mount `path` (absolute, canonical) lies on, given the device it is on (`st_dev`):
    /// of the mounts of that device whose point is `path` or above it, the deepest, the last
    /// listed of equals.
    pub fn mount_of(&self, path: &Path, dev: u64) -> Option<&Mount> {
        let dev = (libc::major(dev), libc::minor(dev));
        self.0
            .iter()
            .filter(|m| m.dev == dev && path.starts_with(&m.point))
            .fold(None, |best: Option<&Mount>, m| match best {
                Some(b) if depth(&b.point) > depth(&m.point) => Some(b),
                _ => Some(m),
            })
    }

    /// `path` (absolute, canonical, on device `dev`) as a path of its file system: where it
    /// lies whichever mount reaches it.
    pub fn on_file_system(&self, path: &Path, dev: u64) -> Option<PathBuf> {
        let m = self.mount_of(path, dev)?;
        let below = path.strip_prefix(&m.point).ok()?;
        // (Joined with nothing, a path would gain a trailing `/`.)
        Some(if below.as_os_str().is_empty() {
            m.root.clone()
        } else {
            m.root.join(below)
        })
    }

    /// Where writes to the overlay mount `path` lies on go (`upperdir`, `workdir`); empty when
    /// that mount is no overlay.
    pub fn overlay_writes_to(&self, path: &Path, dev: u64) -> Vec<PathBuf> {
        let Some(m) = self.mount_of(path, dev).filter(|m| m.fs_type == "overlay") else {
            return Vec::new();
        };
        m.super_options
            .iter()
            .filter_map(|o| o.strip_prefix(b"upperdir=").or_else(|| o.strip_prefix(b"workdir=")))
            .map(|p| PathBuf::from(std::ffi::OsString::from_vec(p.to_vec())))
            .collect()
    }
}

/// How many normal components `path` has.
fn depth(path: &Path) -> usize {
    path.components().filter(|c| matches!(c, Component::Normal(_))).count()
}

/// One line of the table, or `None` when it does not read as one.
fn mount(line: &[u8]) -> Option<Mount> {
    let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let sep = fields.iter().position(|f| *f == b"-")?;
    let (Some(dev), Some(root), Some(point)) = (fields.get(2), fields.get(3), fields.get(4)) else {
        return None;
    };
    if sep < 6 {
        return None;
    }
    let (major, minor) = std::str::from_utf8(dev).ok()?.split_once(':')?;
    let path = |f: &[u8]| Some(PathBuf::from(std::ffi::OsStr::from_bytes(&unescape(f)))).filter(|p| p.is_absolute());
    Some(Mount {
        dev: (major.parse().ok()?, minor.parse().ok()?),
        root: path(root)?,
        point: path(point)?,
        fs_type: String::from_utf8_lossy(fields.get(sep + 1)?).into_owned(),
        super_options: fields
            .get(sep + 3)
            .map(|o| o.split(|&b| b == b',').map(unescape).collect())
            .unwrap_or_default(),
    })
}

/// A field with its `\ooo` escapes decoded (a backslash not followed by three octal digits is
/// kept as it is).
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut rest = field;
    while let Some((&first, tail)) = rest.split_first() {
        let octal = match tail {
            [a @ b'0'..=b'3', b @ b'0'..=b'7', c @ b'0'..=b'7', ..] if first == b'\\' => {
                Some(((a - b'0') << 6) | ((b - b'0') << 3) | (c - b'0'))
            }
            _ => None,
        };
        match (octal, tail.get(3..)) {
            (Some(o), Some(after)) => {
                out.push(o);
                rest = after;
            }
            _ => {
                out.push(first);
                rest = tail;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[u8] = b"\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 8:1 /var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs /mnt/layer rw,relatime shared:1 - ext4 /dev/sda1 rw
41 22 0:52 / /mnt/rootfs rw,relatime - overlay overlay rw,lowerdir=/var/lib/containerd/s/1/fs,upperdir=/var/lib/containerd/s/14/fs,workdir=/var/lib/containerd/s/14/work
42 22 8:1 /home/a\\040b /mnt/with\\040space rw - ext4 /dev/sda1 rw
43 22 0:60 / /mnt/odd rw - overlay overlay rw,upperdir=/up\\054per,workdir=/w
44 22 8:1 /srv /mnt/layer rw - ext4 /dev/sda1 rw
not a line
45 22 8:1 relative /mnt/rel rw - ext4 /dev/sda1 rw
";

    fn dev(major: u32, minor: u32) -> u64 {
        libc::makedev(major, minor)
    }

    #[test]
    fn a_bind_mount_of_a_directory_deep_in_is_that_directory_of_its_file_system() {
        let t = Table::parse(TABLE);
        assert_eq!(
            t.on_file_system(Path::new("/mnt/with space/x"), dev(8, 1)),
            Some(PathBuf::from("/home/a b/x"))
        );
        // Mounted over: the later mount on the same point is the one that is reached.
        assert_eq!(
            t.on_file_system(Path::new("/mnt/layer/etc"), dev(8, 1)),
            Some(PathBuf::from("/srv/etc"))
        );
        assert_eq!(
            t.on_file_system(Path::new("/var/lib/x"), dev(8, 1)),
            Some(PathBuf::from("/var/lib/x"))
        );
        // Another device: no mount of it reaches the path.
        assert_eq!(t.on_file_system(Path::new("/mnt/layer/etc"), dev(8, 2)), None);
        // A root that is no absolute path is no line.
        assert_eq!(
            t.mount_of(Path::new("/mnt/rel"), dev(8, 1)).map(|m| m.point.clone()),
            Some(PathBuf::from("/"))
        );
    }

    #[test]
    fn an_overlay_writes_to_its_upper_and_work_directories() {
        let t = Table::parse(TABLE);
        assert_eq!(
            t.overlay_writes_to(Path::new("/mnt/rootfs/tmp"), dev(0, 52)),
            vec![
                PathBuf::from("/var/lib/containerd/s/14/fs"),
                PathBuf::from("/var/lib/containerd/s/14/work")
            ]
        );
        assert_eq!(
            t.overlay_writes_to(Path::new("/mnt/odd"), dev(0, 60)),
            vec![PathBuf::from("/up,per"), PathBuf::from("/w")]
        );
        assert!(t.overlay_writes_to(Path::new("/mnt/layer"), dev(8, 1)).is_empty());
    }

    #[test]
    fn escapes_decode_and_a_stray_backslash_stays() {
        assert_eq!(unescape(b"a\\040b\\134c\\012"), b"a b\\c\n");
        assert_eq!(unescape(b"a\\04"), b"a\\04");
        assert_eq!(unescape(b"\\999\\"), b"\\999\\");
    }
}
