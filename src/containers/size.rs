//! A container's sizes as dockerd 28 computes them on the containerd image store
//! (`docker ps --size`, `docker container inspect --size`): moby's `GetContainerLayerSize`
//! (`daemon/containerd/service.go`), which asks the container's snapshotter, in namespace
//! `moby`, for the `Usage` of the container's snapshot (key = the container ID) and of every
//! snapshot below it (`calculateSnapshotParentUsage`, `daemon/containerd/image_snapshot.go`).
//!
//! ```text
//! SizeRw     = Usage(<id>)                        the rw layer
//! SizeRootFs = Usage(<id>) + Usage(<id>-init) + Usage(each image snapshot below it)
//!
//! Usage (containerd's overlayfs snapshotter, plugins/snapshots/overlay/overlay.go):
//!   Active      walk of snapshots/<n>/fs now: st_blocks * 512 of each inode once, symlinks
//!               not followed (continuity fs.DiskUsage; tree_usage here)
//!   Committed   the size recorded in the snapshotter's metadata.db when it was committed
//!   View        the recorded size (none: 0)
//! ```
//!
//! Both are allocated bytes, so they depend on the filesystem the layers are on (block size,
//! where ext4 keeps the overlay xattrs): a copy of the disk on another filesystem gives other
//! SizeRw figures, and the same recorded committed sizes.
//!
//! When the rw layer cannot be measured (no snapshot record, an upper directory missing,
//! unreadable, or reached through a symlink), dockerd fails the whole request (`ps --size`
//! lists nothing, `inspect --size` answers an error). Here the container is still listed, its
//! sizes left out, and the problem named. When a snapshot below it cannot be (a parent not
//! recorded), dockerd logs a warning and adds what it summed before the gap; so does this.
//! The chain is the snapshotter's own parent links (what it mounts), where dockerd follows
//! meta.db's; the two agree unless one of the files is damaged. A loop, which dockerd would
//! follow forever, ends the sum and is named.

use crate::bolt::{MetaChoice, ReadMode};
use crate::containerd::records::Damage;
use crate::containerd::root::Root;
use crate::overlay::snapshots::Index;
use crate::overlay::target::{self, ContainerRef};
use crate::text::escape;
use crate::tree_usage::disk_usage_strict;

/// `SizeRw` and `SizeRootFs`, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerSize {
    pub rw: i64,
    pub root_fs: i64,
}

/// Something that kept a size from being measured, or measured whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub kind: ProblemKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// What this reader does not measure (a graph driver, devmapper), or what this copy of
    /// the root does not hold (no directory at all for the snapshotter): not damage. The
    /// message names no container, so that it can be said once.
    NotMeasured,
    /// Missing, a symlink, not a directory, not recorded: damage (exit 3).
    Damaged,
    /// A directory could not be looked at for want of permission (exit 4).
    Unreadable,
}

impl Problem {
    fn damaged(message: String) -> Problem {
        Problem {
            message,
            kind: ProblemKind::Damaged,
        }
    }

    /// The strict walk of `top` failed. An entry below it that was listed and then gone is
    /// a running container's files changing under the walk: not measured, not damage.
    fn from_walk(e: &crate::tree_usage::WalkError, top: &std::path::Path) -> Problem {
        let kind = match e.error.kind() {
            _ if crate::damage::refused_by_system(&e.error) => ProblemKind::Unreadable,
            std::io::ErrorKind::NotFound if e.path != top => {
                return Problem {
                    message: format!("{e} (removed while measured: its files changed, as a running container's do)"),
                    kind: ProblemKind::NotMeasured,
                };
            }
            _ => ProblemKind::Damaged,
        };
        Problem {
            message: e.to_string(),
            kind,
        }
    }

    fn within(self, what: String) -> Problem {
        Problem {
            message: format!("{what}: {}", self.message),
            kind: self.kind,
        }
    }
}

/// What measuring one container gave: its sizes (`None` when the rw layer could not be
/// measured) and what went wrong on the way.
#[derive(Clone, Debug, Default)]
pub struct Measured {
    pub size: Option<LayerSize>,
    pub problems: Vec<Problem>,
}

/// The snapshotters whose `Usage` of an active snapshot is a walk of its directory
/// ([`Index::fs_dir`]): overlayfs and those laid out like it, and native. Others (devmapper,
/// btrfs, zfs) measure their own way.
const WALKED: [&str; 4] = ["overlayfs", "native", "fuse-overlayfs", "stargz"];

/// Every snapshotter's records of a root, loaded once to measure containers.
pub struct Sizer {
    index: Index,
}

impl Sizer {
    /// Loads the snapshot records (meta.db's names, each snapshotter's metadata.db); damage
    /// met in them goes to `damage`.
    pub fn load(root: &Root, choice: MetaChoice, mode: ReadMode, damage: &mut Damage) -> Result<Sizer, String> {
        let tx = root.view(choice).map_err(|e| e.to_string())?;
        Ok(Sizer {
            index: Index::load(root, &tx, mode, damage),
        })
    }

    #[cfg(test)]
    fn of(index: Index) -> Sizer {
        Sizer { index }
    }

    /// The sizes of the container whose rw snapshot is `key` in `namespace` of
    /// `snapshotter` (a Docker container: its ID, `moby`, its `Driver`).
    pub fn measure(&self, id: &str, namespace: &str, snapshotter: &str, key: &str) -> Measured {
        let mut out = Measured::default();
        if !WALKED.contains(&snapshotter) {
            out.problems.push(Problem {
                message: format!(
                    "sizes of the containers on {} are not measured (only those on the overlayfs and native snapshotters)",
                    escape(snapshotter.as_bytes())
                ),
                kind: ProblemKind::NotMeasured,
            });
            return out;
        }
        // A copy of the root without the snapshotter's directory (meta.db alone) has nothing
        // to measure; one whose metadata.db is damaged was named when the index was loaded.
        let dir = self.index.snapshotter_dir(snapshotter);
        if !self.index.snapshotters.iter().any(|s| s == snapshotter)
            && std::fs::symlink_metadata(&dir).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        {
            out.problems.push(Problem {
                message: format!(
                    "sizes not measured: {} is not there",
                    escape(dir.as_os_str().as_encoded_bytes())
                ),
                kind: ProblemKind::NotMeasured,
            });
            return out;
        }
        let c = ContainerRef {
            id: id.to_string(),
            name: None,
            namespace: namespace.to_string(),
            snapshotter: snapshotter.to_string(),
            snapshot_key: key.to_string(),
            source: "docker",
        };
        let snap = match target::container_snapshot(&self.index, &c) {
            Ok(r) => r.snap,
            Err(e) => {
                out.problems.push(Problem::damaged(format!("{e}: sizes not measured")));
                return out;
            }
        };
        let rw = match self.usage(snap) {
            Ok(u) => u,
            Err(p) => {
                out.problems
                    .push(p.within(format!("container {}: SizeRw not measured", escape(id.as_bytes()))));
                return out;
            }
        };
        // Below the rw layer: the init layer and the image's snapshots.
        let (chain, stop) = self.index.chain(snap);
        let mut below = 0u64;
        for &i in chain.iter().skip(1) {
            match self.usage(i) {
                Ok(u) => below = below.saturating_add(u),
                Err(p) => {
                    out.problems.push(p.within(format!(
                        "container {}: SizeRootFs counts the layers above {} only",
                        escape(id.as_bytes()),
                        self.index
                            .get(i)
                            .map_or(String::new(), |s| escape(s.backend_key.as_bytes())),
                    )));
                    break;
                }
            }
        }
        if let Some(stop) = stop {
            out.problems.push(Problem::damaged(format!(
                "container {}: SizeRootFs counts the layers above the gap only: {stop}",
                escape(id.as_bytes())
            )));
        }
        let bytes = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        out.size = Some(LayerSize {
            rw: bytes(rw),
            root_fs: bytes(rw.saturating_add(below)),
        });
        out
    }

    /// The snapshotter's `Usage` of snapshot `i`: an active one's directory walked now, the
    /// others' recorded size.
    fn usage(&self, i: usize) -> Result<u64, Problem> {
        let Some(s) = self.index.get(i) else {
            return Ok(0);
        };
        if s.kind != "Active" {
            // containerd keeps the usage as an int64; a negative one in a damaged file is 0.
            return Ok(s.size.map_or(0, |n| u64::try_from(n).unwrap_or(0)));
        }
        let Some(dir) = self.index.fs_dir(i) else {
            return Err(Problem::damaged(format!(
                "snapshot {}: no id in the snapshotter's record, so no directory",
                escape(s.backend_key.as_bytes())
            )));
        };
        // Nothing on the way from the root to the directory may lead elsewhere.
        if let Some((at, why)) = self.index.detour_to(&dir) {
            return Err(Problem::damaged(format!(
                "{}: {why}",
                escape(at.as_os_str().as_encoded_bytes())
            )));
        }
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(m) => {
                let why = if m.file_type().is_symlink() {
                    "a symlink, not followed"
                } else {
                    "not a directory"
                };
                return Err(Problem::damaged(format!(
                    "{}: {why}",
                    escape(dir.as_os_str().as_encoded_bytes())
                )));
            }
            // The walk below says why, naming the directory.
            Err(_) => {}
        }
        disk_usage_strict(&dir)
            .map(|u| u.bytes)
            .map_err(|e| Problem::from_walk(&e, &dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overlay::snapshots::{Name, Snap};
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    /// A walk that found an entry listed and gone (a running container's files) has not
    /// measured the container; the snapshot directory itself gone is damage.
    #[test]
    fn an_entry_gone_mid_walk_is_not_measured_not_damage() {
        let top = Path::new("/r/snapshots/6/fs");
        let gone = |path: &str| crate::tree_usage::WalkError {
            path: path.into(),
            error: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let below = Problem::from_walk(&gone("/r/snapshots/6/fs/churn/d12"), top);
        assert_eq!(below.kind, ProblemKind::NotMeasured);
        assert!(below.message.contains("removed while measured"), "{}", below.message);
        assert_eq!(
            Problem::from_walk(&gone("/r/snapshots/6/fs"), top).kind,
            ProblemKind::Damaged
        );
    }

    fn snap(key: &str, id: u64, kind: &str, parent: Option<&str>, size: Option<i64>) -> Snap {
        Snap {
            snapshotter: "overlayfs".into(),
            backend_key: key.into(),
            id: Some(id),
            kind: kind.into(),
            backend_parent: parent.map(str::to_string),
            size,
            inodes: None,
            created_at: None,
            names: vec![Name {
                namespace: "moby".into(),
                key: key.into(),
            }],
            labels: Default::default(),
        }
    }

    /// An index over `snaps` whose meta.db names are their backend keys (namespace moby).
    fn sizer(root: &Path, snaps: Vec<Snap>) -> Sizer {
        Sizer::of(Index::from_snaps_named(root.to_path_buf(), snaps))
    }

    fn upper(root: &Path, id: u64) -> std::path::PathBuf {
        root.join(format!("io.containerd.snapshotter.v1.overlayfs/snapshots/{id}/fs"))
    }

    fn allocated(p: &Path) -> i64 {
        i64::try_from(std::fs::symlink_metadata(p).unwrap().blocks() * 512).unwrap()
    }

    #[test]
    fn rw_is_the_upper_walk_and_root_fs_adds_the_recorded_parents() {
        let tmp = tempfile::tempdir().unwrap();
        let fs = upper(tmp.path(), 3);
        std::fs::create_dir_all(&fs).unwrap();
        std::fs::write(fs.join("f"), vec![1u8; 5000]).unwrap();
        let s = sizer(
            tmp.path(),
            vec![
                snap("c", 3, "Active", Some("c-init"), None),
                snap("c-init", 2, "Committed", Some("base"), Some(8192)),
                snap("base", 1, "Committed", None, Some(100_000)),
            ],
        );
        let m = s.measure("c", "moby", "overlayfs", "c");
        let rw = allocated(&fs) + allocated(&fs.join("f"));
        assert_eq!(m.problems, vec![]);
        assert_eq!(
            m.size,
            Some(LayerSize {
                rw,
                root_fs: rw + 108_192
            })
        );
    }

    #[test]
    fn a_missing_upper_dir_leaves_the_sizes_out_and_names_it() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("io.containerd.snapshotter.v1.overlayfs/snapshots/3")).unwrap();
        let s = sizer(tmp.path(), vec![snap("c", 3, "Active", None, None)]);
        let m = s.measure("c", "moby", "overlayfs", "c");
        assert_eq!(m.size, None);
        let [p] = m.problems.as_slice() else {
            panic!("{:?}", m.problems)
        };
        assert!(
            p.message.contains(&upper(tmp.path(), 3).display().to_string()),
            "{}",
            p.message
        );
        assert_eq!(p.kind, ProblemKind::Damaged);
    }

    #[test]
    fn a_link_on_the_way_is_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(outside.path().join("fs")).unwrap();
        std::fs::write(outside.path().join("fs/big"), vec![1u8; 50_000]).unwrap();
        let snapshots = tmp.path().join("io.containerd.snapshotter.v1.overlayfs/snapshots");
        std::fs::create_dir_all(&snapshots).unwrap();
        std::os::unix::fs::symlink(outside.path(), snapshots.join("3")).unwrap();
        let s = sizer(tmp.path(), vec![snap("c", 3, "Active", None, None)]);
        let m = s.measure("c", "moby", "overlayfs", "c");
        assert_eq!(m.size, None);
        assert!(m.problems[0].message.contains("snapshots/3: a symlink, not followed"));
        // The upper dir itself a link: the same.
        std::fs::remove_file(snapshots.join("3")).unwrap();
        std::fs::create_dir(snapshots.join("3")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("fs"), snapshots.join("3/fs")).unwrap();
        let m = s.measure("c", "moby", "overlayfs", "c");
        assert_eq!(m.size, None);
        assert!(m.problems[0].message.contains("3/fs: a symlink, not followed"));
    }

    #[test]
    fn a_gap_or_a_loop_below_keeps_the_sum_so_far_as_dockerd_does() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(upper(tmp.path(), 3)).unwrap();
        let rw = allocated(&upper(tmp.path(), 3));
        let gap = sizer(
            tmp.path(),
            vec![
                snap("c", 3, "Active", Some("c-init"), None),
                snap("c-init", 2, "Committed", Some("gone"), Some(4096)),
            ],
        );
        let m = gap.measure("c", "moby", "overlayfs", "c");
        assert_eq!(m.size, Some(LayerSize { rw, root_fs: rw + 4096 }));
        assert!(
            m.problems[0].message.contains("parent gone has no record"),
            "{:?}",
            m.problems
        );
        let looped = sizer(
            tmp.path(),
            vec![
                snap("c", 3, "Active", Some("a"), None),
                snap("a", 2, "Committed", Some("b"), Some(10)),
                snap("b", 1, "Committed", Some("a"), Some(20)),
            ],
        );
        let m = looped.measure("c", "moby", "overlayfs", "c");
        assert_eq!(m.size, Some(LayerSize { rw, root_fs: rw + 30 }));
        assert!(m.problems[0].message.contains("loops"), "{:?}", m.problems);
    }

    #[test]
    fn an_unrecorded_snapshot_or_another_snapshotter_is_not_measured() {
        let tmp = tempfile::tempdir().unwrap();
        let s = sizer(tmp.path(), vec![]);
        let m = s.measure("c", "moby", "overlayfs", "c");
        assert_eq!(m.size, None);
        assert!(m.problems[0].message.contains("is not recorded"), "{:?}", m.problems);
        // No directory for the snapshotter at all: not measured, not damage.
        let m = s.measure("c", "moby", "native", "c");
        assert_eq!(m.size, None);
        assert_eq!(m.problems[0].kind, ProblemKind::NotMeasured);
        assert!(
            m.problems[0]
                .message
                .contains("io.containerd.snapshotter.v1.native is not there")
        );
        let m = s.measure("c", "moby", "devmapper", "c");
        assert_eq!(m.size, None);
        assert!(m.problems[0].message.contains("devmapper"), "{:?}", m.problems);
        assert_eq!(m.problems[0].kind, ProblemKind::NotMeasured);
    }
}
