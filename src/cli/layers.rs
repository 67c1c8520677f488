//! `coldctr snapshots tree` and `mounts`: snapshot chains with their real directories, and
//! containerd's mount line for a snapshot; and [`Node`], what every layer command (these,
//! `which`, `diff`, `fs`) opens: the root, once, with meta.db's snapshot and container records,
//! every snapshotter's metadata.db, and Docker's `containers/` beside the root (or
//! `--docker-root`).

use super::context::Global;
use super::listings::table::{self, Table};
use super::{Failure, Outcome, warn};
use crate::containerd::gotime::GoTime;
use crate::containerd::records::Damage;
use crate::containerd::root::Root;
use crate::overlay::images;
use crate::overlay::mounts;
use crate::overlay::snapshots::{Index, Snap};
use crate::overlay::target::{self, ContainerRef, Resolved};
use crate::text::escape;
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// Where Docker's data root is, for the commands that take a container: the global
/// `--docker-root` (one option for every command), kept here so callers can name another.
#[derive(Args, Clone, Debug, Default)]
pub struct DockerRoot {
    #[arg(skip)]
    pub docker_root: Option<PathBuf>,
}

/// How the snapshotter mounts, where the disk cannot say: the daemon's configuration and
/// whether it ran rootless. Every layer command takes these.
#[derive(Args, Clone, Debug, Default)]
pub struct MountOpts {
    /// The snapshotter mounted with `userxattr` (containerd in a user namespace, i.e. rootless,
    /// on kernel 5.11+): overlay attributes are user.overlay.* instead of trusted.overlay.*,
    /// and mount lines carry the option.
    #[arg(long)]
    pub userxattr: bool,
    /// An option of the snapshotter's `mount_options` (containerd's config.toml), added to
    /// overlay mount lines where containerd adds it (repeatable); `userxattr` here is
    /// --userxattr.
    #[arg(long = "mount-option", value_name = "OPT")]
    pub mount_options: Vec<String>,
    /// Leave uidmap=/gidmap= out of the mount lines of remapped snapshots (containerd 1.x, or
    /// a kernel without idmapped overlay mounts, before 5.19).
    #[arg(long)]
    pub no_remap_ids: bool,
}

impl MountOpts {
    /// The attribute namespace the mount reads.
    pub fn xattrs(&self) -> crate::overlay::merge::Xattrs {
        if self.userxattr || self.mount_options.iter().any(|o| o == "userxattr") {
            crate::overlay::merge::Xattrs::User
        } else {
            crate::overlay::merge::Xattrs::Trusted
        }
    }

    /// How the mount reads its layers: `userxattr` (or `redirect_dir=nofollow`,
    /// `metacopy=off` among the mount options) stops redirects and metacopy being followed.
    pub fn mode(&self) -> crate::overlay::merge::Mode {
        let mut mode: crate::overlay::merge::Mode = self.xattrs().into();
        if self.mount_options.iter().any(|o| o == "redirect_dir=nofollow") {
            mode.follow_redirects = false;
        }
        if self.mount_options.iter().any(|o| o == "metacopy=off") {
            mode.metacopy = false;
        }
        mode
    }

    /// The mount-line options.
    pub fn options(&self) -> mounts::Options {
        mounts::Options {
            userxattr: self.xattrs() == crate::overlay::merge::Xattrs::User,
            mount_options: self.mount_options.clone(),
            remap_ids: !self.no_remap_ids,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// A root opened for the snapshot commands.
pub struct Node {
    pub root: Root,
    pub index: Index,
    pub containers: Vec<ContainerRef>,
    /// The Docker data root read beside the containerd root (given, found, or where it would
    /// be): evidence as much as the containerd root.
    pub docker_root: std::path::PathBuf,
    pub damage: Damage,
    /// Damage met outside meta.db (files named in each).
    pub problems: Vec<String>,
    /// Files that could not be read at all (permissions): exit 4.
    pub unreadable: Vec<String>,
}

impl Node {
    pub fn open(global: &Global, docker: &DockerRoot) -> Result<Node, Failure> {
        let root = global.open_root()?;
        let mut damage = Damage::new();
        let mut problems = crate::containers::docker::StoreProblems::default();
        let given = docker.docker_root.as_deref().or(global.docker_root.as_deref());
        let docker_root = target::docker_root(&root.dir, given);
        let (index, containers) = {
            let tx = root.view(global.meta_choice())?;
            let index = Index::load(&root, &tx, global.read_mode(), &mut damage);
            let containers = target::all_containers(&tx, &docker_root, &mut damage, &mut problems);
            (index, containers)
        };
        Ok(Node {
            root,
            index,
            containers,
            docker_root,
            damage,
            problems: problems.damaged,
            unreadable: problems.unreadable,
        })
    }

    /// Resolves a target: a snapshot key or container, else an image reference (its
    /// unpacked top snapshot, the host platform's when several are unpacked). Not found is
    /// exit code 1.
    pub fn resolve(&self, global: &Global, target: &str) -> Result<Resolved, Failure> {
        // What the lookup met (a Docker root not read, a config unreadable) may be why the
        // target was not found: said with the failure, and counted in its exit code.
        self.resolve_target(global, target).map_err(|f| Failure {
            outcome: self.finish(f.outcome),
            message: f.message,
        })
    }

    fn resolve_target(&self, global: &Global, target: &str) -> Result<Resolved, Failure> {
        let first = match target::resolve(&self.index, &self.containers, global.namespace.as_deref(), target) {
            Ok(r) => return Ok(r),
            Err(e) => e,
        };
        let no = |m: String| Failure::new(Outcome::No, m);
        let tx = self.root.view(global.meta_choice())?;
        let Ok(ns) = super::context::image_namespace(global, &tx) else {
            return Err(no(first));
        };
        let inspector = crate::inspect::Inspector::new(
            &self.root,
            self.root.view(global.meta_choice())?,
            &ns,
            crate::inspect::Options::for_host(global.host()),
        );
        let Ok(image) = inspector.resolve(target) else {
            return Err(no(first));
        };
        let mut damage = Damage::new();
        let tops: Vec<images::ImageTop> = images::image_tops(&self.root, &tx, &ns, &mut damage)
            .into_iter()
            .filter(|t| t.name == image.name)
            .collect();
        let host = global.host();
        let unpacked = |t: &&images::ImageTop| {
            self.index
                .snapshotters
                .iter()
                .find_map(|sn| self.index.by_name(&ns, sn, &t.chain_id))
        };
        let best = tops
            .iter()
            .filter(|t| t.os == host.os && t.architecture == host.architecture)
            .find_map(|t| unpacked(&t))
            .or_else(|| tops.iter().find_map(|t| unpacked(&t)));
        match best {
            Some(snap) => Ok(Resolved { snap, container: None }),
            None => Err(no(format!(
                "image {}: no unpacked snapshot (chain ID of its diff IDs) on this node",
                escape(image.name.as_bytes())
            ))),
        }
    }

    /// The chain of a snapshot, the stopping reason said on stderr (and counted as damage).
    pub fn chain(&mut self, snap: usize) -> Vec<usize> {
        let (chain, stop) = self.index.chain(snap);
        if let Some(s) = stop {
            self.damage.push(s);
        }
        chain
    }

    /// The layer directories of a chain, nearest first, each checked to be a real directory:
    /// one that is missing, a symlink (never followed) or not a directory is damage (3), one
    /// that cannot be looked at is unreadable (4).
    pub fn layer_dirs(&self, chain: &[usize]) -> Result<Vec<PathBuf>, Failure> {
        let dirs = self.layer_paths(chain)?;
        for d in &dirs {
            if let Some((at, why)) = self.index.detour_to(d) {
                return Err(Failure::new(
                    Outcome::Damaged,
                    format!("{}: {why}", escape(at.as_os_str().as_encoded_bytes())),
                ));
            }
            let shown = d.display();
            match std::fs::symlink_metadata(d) {
                Ok(m) if m.is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(Failure::new(
                        Outcome::Damaged,
                        format!("{shown}: a symlink, not followed"),
                    ));
                }
                Ok(_) => return Err(Failure::new(Outcome::Damaged, format!("{shown}: not a directory"))),
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    return Err(Failure::new(Outcome::Unreadable, format!("{shown}: {e}")));
                }
                Err(e) => return Err(Failure::new(Outcome::Damaged, format!("{shown}: {e}"))),
            }
        }
        Ok(dirs)
    }

    fn layer_paths(&self, chain: &[usize]) -> Result<Vec<PathBuf>, Failure> {
        chain
            .iter()
            .map(|&i| {
                self.index.fs_dir(i).ok_or_else(|| {
                    Failure::new(
                        Outcome::Damaged,
                        format!(
                            "snapshot {}: no id in the snapshotter's record, so no directory",
                            escape(self.index.get(i).map_or("", |s| s.backend_key.as_str()).as_bytes())
                        ),
                    )
                })
            })
            .collect()
    }

    /// Says the damage and problems met, and what they add to the exit code.
    pub fn finish(&self, outcome: Outcome) -> Outcome {
        let mut outcome = outcome.worst(super::context::salvage_outcome(&self.root));
        // A layout or archive with an error (said when it was opened) is damaged input, as
        // for every other command.
        if self.root.source.as_ref().is_some_and(|s| s.damaged()) {
            outcome = outcome.worst(Outcome::Damaged);
        }
        for d in self.damage.distinct() {
            warn(escape(d.message.as_bytes()));
        }
        for p in &self.problems {
            warn(escape(p.as_bytes()));
        }
        if !self.damage.is_empty() || !self.problems.is_empty() {
            outcome = outcome.worst(Outcome::Damaged);
        }
        for p in &self.unreadable {
            warn(escape(p.as_bytes()));
        }
        if !self.unreadable.is_empty() {
            outcome = outcome.worst(Outcome::Unreadable);
        }
        outcome
    }
}

// ---- snapshots tree --------------------------------------------------------------------------

#[derive(Args)]
pub struct TreeArgs {
    /// Only this snapshot's chain (a snapshot key, or a container ID, name or ID prefix), from
    /// it down to the base. Without it: every snapshotter's forest, bases first.
    pub target: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[command(flatten)]
    pub docker: DockerRoot,
}

/// One snapshot in the tree or a chain.
#[derive(Serialize)]
struct TreeRow<'a> {
    depth: usize,
    #[serde(flatten)]
    snap: &'a Snap,
    /// The key of its parent in the tree (meta.db key when named, else the backend key).
    parent: Option<&'a str>,
    /// The directory holding its files.
    dir: Option<String>,
}

pub(super) fn size_cell(s: &Snap) -> String {
    s.size.map(table::human_size).unwrap_or_else(|| "-".into())
}

pub fn tree(global: &Global, args: TreeArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let mut node = Node::open(global, &args.docker)?;
    let mut order: Vec<(usize, usize)> = Vec::new();
    if let Some(t) = &args.target {
        let r = node.resolve(global, t)?;
        for (depth, i) in node.chain(r.snap).into_iter().enumerate() {
            order.push((depth, i));
        }
    } else {
        let children = node.index.children();
        let mut seen = vec![false; node.index.snaps.len()];
        let roots: Vec<usize> = (0..node.index.snaps.len())
            .filter(|&i| node.index.parent(i).is_none())
            .collect();
        let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&i| (0, i)).collect();
        while let Some((depth, i)) = stack.pop() {
            if seen.get(i).copied().unwrap_or(true) {
                continue;
            }
            if let Some(s) = seen.get_mut(i) {
                *s = true;
            }
            order.push((depth, i));
            if let Some(kids) = children.get(&i) {
                let mut kids = kids.clone();
                kids.sort_by(|a, b| {
                    let ka = node.index.get(*a).map(Snap::key);
                    let kb = node.index.get(*b).map(Snap::key);
                    kb.cmp(&ka)
                });
                stack.extend(kids.into_iter().map(|k| (depth + 1, k)));
            }
        }
        // Snapshots in a parent loop are reached from no base.
        for (i, s) in seen.iter().enumerate() {
            if !s {
                node.damage.push(format!(
                    "snapshot {}: in a parent loop, reached from no base",
                    escape(node.index.get(i).map_or("", |s| s.backend_key.as_str()).as_bytes())
                ));
                order.push((0, i));
            }
        }
        // Bases grouped by snapshotter, in snapshotter order.
        order.sort_by_key(|&(_, i)| node.index.get(i).map(|s| s.snapshotter.clone()));
    }
    let rows: Vec<TreeRow<'_>> = order
        .iter()
        .filter_map(|&(depth, i)| {
            let snap = node.index.get(i)?;
            Some(TreeRow {
                depth,
                snap,
                parent: node.index.parent(i).and_then(|p| node.index.get(p)).map(Snap::key),
                dir: node.index.fs_dir(i).map(|p| p.display().to_string()),
            })
        })
        .collect();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &rows).map_err(|e| Failure::from(std::io::Error::from(e)))?;
            writeln!(out)?;
        }
        Format::Table => {
            let mut t = Table::new(&[
                "SNAPSHOTTER",
                "KEY",
                "KIND",
                "ID",
                table::size_header("SIZE"),
                "NAMESPACES",
                "DIR",
            ]);
            for r in &rows {
                let indent = if args.target.is_some() {
                    String::new()
                } else {
                    "  ".repeat(r.depth.min(64))
                };
                let namespaces: Vec<&str> = r.snap.names.iter().map(|n| n.namespace.as_str()).collect();
                t.row(&[
                    r.snap.snapshotter.clone(),
                    format!("{indent}{}", r.snap.key()),
                    r.snap.kind.clone(),
                    r.snap.id.map(|i| i.to_string()).unwrap_or_else(|| "-".into()),
                    size_cell(r.snap),
                    if namespaces.is_empty() {
                        "(none)".into()
                    } else {
                        namespaces.join(",")
                    },
                    r.dir.clone().unwrap_or_else(|| "-".into()),
                ]);
            }
            t.write(out)?;
        }
    }
    Ok(node.finish(Outcome::Ok))
}

// ---- mounts ----------------------------------------------------------------------------------

#[derive(Args)]
pub struct MountsArgs {
    /// A snapshot key, or a container ID, name or ID prefix.
    pub target: String,
    /// The mount point to print in the line (`ctr snapshots mounts TARGET KEY`).
    #[arg(long = "target", value_name = "DIR", default_value = "/mnt")]
    pub mount_point: String,
    /// Every layer as a lowerdir of a read-only overlay (no upper, no work dir): for evidence.
    #[arg(long)]
    pub read_only: bool,
    /// Print paths under this root instead of --root (e.g. /var/lib/containerd, the node's own
    /// paths, as ctr printed them there).
    #[arg(long, value_name = "DIR")]
    pub node_root: Option<PathBuf>,
    #[command(flatten)]
    pub overlay: MountOpts,
    #[command(flatten)]
    pub docker: DockerRoot,
}

pub fn mounts_cmd(global: &Global, args: MountsArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let mut node = Node::open(global, &args.docker)?;
    let r = node.resolve(global, &args.target)?;
    let chain = node.chain(r.snap);
    let root = match &args.node_root {
        Some(p) => p.clone(),
        None => std::path::absolute(&node.root.dir).unwrap_or_else(|_| node.root.dir.clone()),
    };
    let line = if args.read_only {
        mounts::read_only_line(&node.index, &chain, &root, &args.mount_point, &args.overlay.options())
    } else {
        mounts::ctr_line(&node.index, &chain, &root, &args.mount_point, &args.overlay.options())
    };
    match line {
        Ok(l) => writeln!(out, "{}", escape(l.as_bytes()))?,
        Err(e) => {
            node.finish(Outcome::Ok);
            return Err(Failure::new(Outcome::No, escape(e.as_bytes())));
        }
    }
    Ok(node.finish(Outcome::Ok))
}

/// Seconds and nanoseconds as RFC 3339 in UTC.
pub fn rfc3339(secs: i64, nanos: i64) -> String {
    GoTime {
        unix: secs,
        nanos: u32::try_from(nanos).unwrap_or(0),
        offset: 0,
    }
    .rfc3339_nano()
}
