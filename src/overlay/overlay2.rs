//! A Docker container's layers on dockerd's overlay2 graph driver (Docker 20.10 to 27's
//! default, 28's without the containerd image store), read from the driver's own directories,
//! no snapshotter involved:
//!
//! ```text
//! <docker-root>/image/overlay2/layerdb/mounts/<container id>/mount-id   its rw layer's dir name
//! <docker-root>/overlay2/<mount id>/diff    the upper dir: what the container changed
//! <docker-root>/overlay2/<mount id>/work    the work dir
//! <docker-root>/overlay2/<mount id>/lower   "l/<short>:l/<short>:..." the lowers, nearest first:
//!                                           the container's `-init` layer, then the image's
//! <docker-root>/overlay2/l/<short>          symlink "../<layer dir>/diff" (its text read, never followed)
//! ```
//!
//! That is the stack `GraphDriver.Data` describes (`crate::containers::graph_driver`). The
//! driver mounts it (`Get`, moby `daemon/graphdriver/overlay2/overlay.go`, alike in 20.10.24
//! and 28.5.2) as
//!
//! ```text
//! index=off,userxattr,lowerdir=<home>/l/<short>:...,upperdir=<home>/<id>/diff,workdir=<home>/<id>/work
//! ```
//!
//! `index=off` when the kernel has `/sys/module/overlay/parameters/index` (4.13 and later),
//! `userxattr` only in a user namespace (rootless) on a kernel that needs it; a layer
//! without a `lower` file is not mounted at all (its `diff` is the tree). Options longer than
//! a page less one byte are given relative to `<home>`, mounted from there.
//!
//! `docker diff` compares the mounted rw layer with its mounted parent, the `-init` layer
//! (the layer store's `Changes` with the init ID; the driver's `Changes` is the naive one,
//! `archive.ChangesDirs` over the two trees): the upper over the lowers against the lowers,
//! so what the init layer holds (`/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`,
//! `/dev/console`, `/.dockerenv` placeholders) is no change unless the container made one.

use crate::containers::files;
use crate::containers::graph_driver::{MAX_DEPTH, is_layer_dir, linked_layer};
use std::path::{Path, PathBuf};

/// A container's overlay2 layers: its rw layer over its lowers.
#[derive(Clone, Debug)]
pub struct Layers {
    /// The driver's home, `<docker-root>/overlay2`.
    pub home: PathBuf,
    /// The rw layer's dir name (`mount-id`).
    pub mount_id: String,
    /// The lowers, nearest first: `(link name in l/, layer dir name)`. `None`: the layer has
    /// no `lower` file, and the driver mounts nothing (its `diff` is the tree).
    pub lowers: Option<Vec<(String, String)>>,
}

/// Why a container's overlay2 layers are not read: said with the file at fault.
#[derive(Debug)]
pub struct Problem {
    pub message: String,
    /// The system refused a look (permissions): unreadable, not damaged.
    pub unreadable: bool,
}

impl Problem {
    fn damaged(message: String) -> Problem {
        Problem {
            message,
            unreadable: false,
        }
    }
}

fn shown(p: &Path) -> String {
    crate::text::escape(p.as_os_str().as_encoded_bytes())
}

impl Layers {
    /// The layers of container `id` in the Docker data root `docker_root`, as the layer store
    /// and the driver find them. Every link of `lower` must name a layer dir by its text (a
    /// link to anything else, or one missing, is damage: the stack would not be the one
    /// dockerd mounts); the dirs themselves are checked by whoever reads them.
    pub fn read(docker_root: &Path, id: &str) -> Result<Layers, Problem> {
        let mount_file = docker_root
            .join("image/overlay2/layerdb/mounts")
            .join(id)
            .join("mount-id");
        let mount_id = match files::read_small_below(docker_root, &mount_file, 256) {
            Ok(b) => String::from_utf8_lossy(&b).trim().to_string(),
            Err(p) if p.missing => {
                return Err(Problem::damaged(format!(
                    "{}: not there; dockerd's layer store has no rw layer for the container without it",
                    shown(&mount_file)
                )));
            }
            Err(p) => {
                return Err(Problem {
                    message: p.message,
                    unreadable: p.unreadable,
                });
            }
        };
        if !is_layer_dir(&mount_id) || mount_id.ends_with("-init") {
            return Err(Problem::damaged(format!(
                "{}: {:?} is not a layer directory name",
                shown(&mount_file),
                crate::text::escape(mount_id.as_bytes())
            )));
        }
        let home = docker_root.join("overlay2");
        let lower_file = home.join(&mount_id).join("lower");
        let text = match files::read_small_below(docker_root, &lower_file, 1 << 20) {
            Ok(b) => b,
            Err(p) if p.missing => {
                return Ok(Layers {
                    home,
                    mount_id,
                    lowers: None,
                });
            }
            Err(p) => {
                return Err(Problem {
                    message: p.message,
                    unreadable: p.unreadable,
                });
            }
        };
        let text = String::from_utf8_lossy(&text);
        let entries: Vec<&str> = text.trim().split(':').collect();
        if entries.len() > MAX_DEPTH {
            return Err(Problem::damaged(format!(
                "{}: {} lower layers, more than overlay2 chains ({MAX_DEPTH}, its maxDepth)",
                shown(&lower_file),
                entries.len()
            )));
        }
        let mut lowers = Vec::with_capacity(entries.len());
        for entry in entries {
            match linked_layer(docker_root, entry) {
                Some(layer) if layer == mount_id => {
                    return Err(Problem::damaged(format!(
                        "{}: lower {:?} names the layer itself",
                        shown(&lower_file),
                        crate::text::escape(entry.as_bytes())
                    )));
                }
                Some(layer) => {
                    let link = entry.strip_prefix("l/").unwrap_or(entry).to_string();
                    lowers.push((link, layer));
                }
                None => {
                    return Err(Problem::damaged(format!(
                        "{}: lower {:?} does not name a layer through {} (a link there, not a symlink to ../<layer>/diff, or none)",
                        shown(&lower_file),
                        crate::text::escape(entry.as_bytes()),
                        shown(&home.join("l"))
                    )));
                }
            }
        }
        Ok(Layers {
            home,
            mount_id,
            lowers: Some(lowers),
        })
    }

    /// The upper dir, `<home>/<mount id>/diff`.
    pub fn upper(&self) -> PathBuf {
        self.home.join(&self.mount_id).join("diff")
    }

    /// The work dir, `<home>/<mount id>/work`.
    pub fn work(&self) -> PathBuf {
        self.home.join(&self.mount_id).join("work")
    }

    /// Every layer's `diff` dir, the upper first, then the lowers nearest first.
    pub fn dirs(&self) -> Vec<PathBuf> {
        let mut out = vec![self.upper()];
        for (_, layer) in self.lowers.iter().flatten() {
            out.push(self.home.join(layer).join("diff"));
        }
        out
    }
}

/// Past this many bytes of options (a page less one), the driver gives its paths relative to
/// its home and mounts from there (`mountFrom`): x86-64's and most arm64 kernels' 4 KiB page.
const MOUNT_DATA_MAX: usize = 4096 - 1;

/// The mount dockerd's overlay2 driver makes of `layers` (its `Get`), with the driver's home
/// printed as `node_home` (the node's `<data-root>/overlay2`): `index=off`, `userxattr` when
/// the daemon ran in a user namespace, the lowers by their `l/` links. A layer without
/// `lower` is not mounted by the driver: a bind of its `diff`, for the record.
pub fn mount_line(layers: &Layers, node_home: &Path, target: &str, userxattr: bool) -> String {
    let home = node_home.display().to_string();
    let id = &layers.mount_id;
    let Some(lowers) = &layers.lowers else {
        return format!("mount -t bind {home}/{id}/diff {target} -o rw,rbind");
    };
    let head = if userxattr {
        "index=off,userxattr,"
    } else {
        "index=off,"
    };
    let links = |prefix: &str| -> String {
        lowers
            .iter()
            .map(|(link, _)| format!("{prefix}l/{link}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    let options = format!(
        "{head}lowerdir={},upperdir={home}/{id}/diff,workdir={home}/{id}/work",
        links(&format!("{home}/"))
    );
    if options.len() <= MOUNT_DATA_MAX {
        return format!("mount -t overlay overlay {target} -o {options}");
    }
    let relative = format!("{head}lowerdir={},upperdir={id}/diff,workdir={id}/work", links(""));
    format!("cd {home} && mount -t overlay overlay {target} -o {relative}")
}

/// Every layer of `layers` as a lowerdir of a read-only overlay (no upper, no work dir: nothing
/// can write), the rw layer's `diff` first, then the lowers by their `l/` links, as the
/// driver mounts a committed layer; one layer alone: a read-only bind of it.
pub fn read_only_line(layers: &Layers, node_home: &Path, target: &str, userxattr: bool) -> String {
    let home = node_home.display().to_string();
    let upper = format!("{home}/{}/diff", layers.mount_id);
    let lowers = match &layers.lowers {
        Some(l) if !l.is_empty() => l,
        _ => return format!("mount -t bind {upper} {target} -o ro,rbind"),
    };
    let mut dirs = vec![upper];
    dirs.extend(lowers.iter().map(|(link, _)| format!("{home}/l/{link}")));
    format!(
        "mount -t overlay overlay {target} -o ro,lowerdir={},index=off{}",
        dirs.join(":"),
        if userxattr { ",userxattr" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(lower: Option<&str>) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let cid = "c".repeat(64);
        let mount = "m".repeat(64);
        let mounts = root.join("image/overlay2/layerdb/mounts").join(&cid);
        std::fs::create_dir_all(&mounts).unwrap();
        std::fs::write(mounts.join("mount-id"), &mount).unwrap();
        std::fs::create_dir_all(root.join("overlay2/l")).unwrap();
        std::fs::create_dir_all(root.join("overlay2").join(&mount).join("diff")).unwrap();
        if let Some(l) = lower {
            std::fs::write(root.join("overlay2").join(&mount).join("lower"), l).unwrap();
        }
        std::os::unix::fs::symlink(format!("../{mount}-init/diff"), root.join("overlay2/l/AAAA")).unwrap();
        std::os::unix::fs::symlink(format!("../{}/diff", "b".repeat(64)), root.join("overlay2/l/BBBB")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("overlay2/l/EVIL")).unwrap();
        std::os::unix::fs::symlink(format!("../{mount}/diff"), root.join("overlay2/l/SELF")).unwrap();
        (dir, cid)
    }

    #[test]
    fn the_stack_is_the_rw_layer_over_its_linked_lowers() {
        let (dir, cid) = store(Some("l/AAAA:l/BBBB\n"));
        let layers = Layers::read(dir.path(), &cid).unwrap();
        let m = "m".repeat(64);
        let b = "b".repeat(64);
        let home = dir.path().join("overlay2");
        assert_eq!(
            layers.dirs(),
            vec![
                home.join(&m).join("diff"),
                home.join(format!("{m}-init")).join("diff"),
                home.join(&b).join("diff")
            ]
        );
        let node = Path::new("/var/lib/docker/overlay2");
        assert_eq!(
            mount_line(&layers, node, "/mnt", false),
            format!(
                "mount -t overlay overlay /mnt -o index=off,lowerdir=/var/lib/docker/overlay2/l/AAAA:/var/lib/docker/overlay2/l/BBBB,upperdir=/var/lib/docker/overlay2/{m}/diff,workdir=/var/lib/docker/overlay2/{m}/work"
            )
        );
        assert_eq!(
            read_only_line(&layers, node, "/mnt", true),
            format!(
                "mount -t overlay overlay /mnt -o ro,lowerdir=/var/lib/docker/overlay2/{m}/diff:/var/lib/docker/overlay2/l/AAAA:/var/lib/docker/overlay2/l/BBBB,index=off,userxattr"
            )
        );
    }

    #[test]
    fn a_link_elsewhere_or_to_the_layer_itself_is_damage() {
        for (lower, said) in [
            ("l/AAAA:l/EVIL", "\"l/EVIL\" does not name a layer"),
            ("l/AAAA:l/NONE", "\"l/NONE\" does not name a layer"),
            ("l/AAAA:../../etc", "\"../../etc\" does not name a layer"),
            ("l/AAAA::l/BBBB", "\"\" does not name a layer"),
            ("", "\"\" does not name a layer"),
            ("l/SELF", "names the layer itself"),
        ] {
            let (dir, cid) = store(Some(lower));
            let e = Layers::read(dir.path(), &cid).unwrap_err();
            assert!(
                e.message.contains("/lower: ") && e.message.contains(said),
                "{lower}: {}",
                e.message
            );
            assert!(!e.unreadable);
        }
        let (dir, _) = store(None);
        let e = Layers::read(dir.path(), &"d".repeat(64)).unwrap_err();
        assert!(
            e.message
                .ends_with("/mount-id: not there; dockerd's layer store has no rw layer for the container without it"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_layer_without_lower_is_its_diff_alone() {
        let (dir, cid) = store(None);
        let layers = Layers::read(dir.path(), &cid).unwrap();
        assert_eq!(layers.dirs().len(), 1);
        let m = "m".repeat(64);
        assert_eq!(
            mount_line(&layers, Path::new("/d/overlay2"), "/mnt", false),
            format!("mount -t bind /d/overlay2/{m}/diff /mnt -o rw,rbind")
        );
    }

    #[test]
    fn options_past_a_page_are_relative_to_the_home() {
        let lowers: Vec<(String, String)> = (0..80).map(|i| (format!("{i:026}"), format!("{i:064}"))).collect();
        let layers = Layers {
            home: PathBuf::from("/x/overlay2"),
            mount_id: "m".repeat(64),
            lowers: Some(lowers),
        };
        let line = mount_line(&layers, Path::new("/var/lib/docker/overlay2"), "/mnt", false);
        let m = "m".repeat(64);
        assert!(
            line.starts_with("cd /var/lib/docker/overlay2 && mount -t overlay overlay /mnt -o index=off,lowerdir=l/00000000000000000000000000:l/"),
            "{line}"
        );
        assert!(
            line.ends_with(&format!(",upperdir={m}/diff,workdir={m}/work")),
            "{line}"
        );
    }
}
