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
use crate::overlay::overlay2;
use crate::overlay::snapshots::{Index, Snap};
use crate::overlay::target::{self, ContainerRef, Resolved, Target};
use crate::text::escape;
use clap::{Args, ValueEnum};
use foldhash::{HashMap, HashSet};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

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
    /// on kernel 5.11+): overlay attributes are user.overlay.* instead of trusted.overlay.*
    /// (and `mounts`' lines carry the option).
    #[arg(long)]
    pub userxattr: bool,
    /// An option of the snapshotter's `mount_options` (containerd's config.toml), repeatable:
    /// `redirect_dir=nofollow` and `metacopy=off` change how the layers are read; `mounts`
    /// adds each to its overlay lines where containerd adds it; `userxattr` here is
    /// --userxattr.
    #[arg(long = "mount-option", value_name = "OPT")]
    pub mount_options: Vec<String>,
    /// For `mounts`: leave uidmap=/gidmap= out of the lines of remapped snapshots (containerd
    /// 1.x, or a kernel without idmapped overlay mounts, before 5.19). Nothing else reads it.
    #[arg(long)]
    pub no_remap_ids: bool,
    /// For `mounts`: the containerd release whose line to print (`1.6`, `1.7.3`, `1.7`, `2.1`;
    /// nothing else reads it, but a version that is none is refused everywhere): 1.x puts
    /// the snapshotter's options first (1.6 and 1.7.0-1.7.3 `index=off,userxattr`, later 1.7
    /// `<mount options>,userxattr,index=off`) and never remaps ids; 2.x puts them last.
    /// Default: the store's (meta.db's schema version, 4: 2.x, 3: 1.x; with schema 3, 1.6 when
    /// no container record has 1.7's `sandboxid` key, else a late 1.7)
    #[arg(long = "containerd", value_name = "VERSION", value_parser = parse_release)]
    pub containerd: Option<mounts::Release>,
}

/// A containerd release as `--containerd` takes it (`mounts` and the layer commands,
/// `container inspect`).
pub(crate) fn parse_release(v: &str) -> Result<mounts::Release, String> {
    mounts::Release::parse(v).ok_or_else(|| format!("{v:?} is no containerd release (1.6, 1.7.3, 2.1, ...)"))
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

    /// The mount-line options; `store`: the release the store says ([`store_release`]),
    /// taken when `--containerd` does not name one.
    pub fn options(&self, store: mounts::Release) -> mounts::Options {
        mounts::Options {
            userxattr: self.xattrs() == crate::overlay::merge::Xattrs::User,
            mount_options: self.mount_options.clone(),
            remap_ids: !self.no_remap_ids,
            release: self.containerd.unwrap_or(store),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// JSON, for programs.
    Json,
}

/// A root opened for the snapshot commands.
pub struct Node {
    pub root: Root,
    pub index: Index,
    pub containers: Vec<ContainerRef>,
    /// Whether containerd's container records carry 1.7's `sandboxid` key (`None`: no
    /// record), for the release the store says ([`store_release`]).
    sandbox_keys: Option<bool>,
    /// The Docker data root read beside the containerd root (given, found, or where it would
    /// be): evidence as much as the containerd root.
    pub docker_root: std::path::PathBuf,
    /// The Docker store (its data root, or `containers/` in it) could not be read: a
    /// container target not found may be one of its containers.
    docker_unlisted: Option<std::path::PathBuf>,
    pub damage: Damage,
    /// Damage met outside meta.db (files named in each).
    pub problems: Vec<String>,
    /// Files that could not be read at all (permissions): exit 4.
    pub unreadable: Vec<String>,
    /// The snapshots of parent loops already said: every chain that runs into a loop stops
    /// there, each with its own last key, and a tree of 20,000 looped snapshots said it
    /// 20,000 times.
    loops_said: foldhash::HashSet<usize>,
}

/// Why a layer directory (or a work directory) is not read as one.
pub struct DirProblem {
    /// The directory at fault: the layer's own, or one on the way to it (`snapshots/<id>`).
    pub at: PathBuf,
    pub why: String,
    /// Damaged (missing, a symlink, not a directory) or Unreadable (cannot be looked at).
    pub outcome: Outcome,
}

/// A snapshot whose record has no id has no directory the snapshotter could have made.
fn no_directory(snap: Option<&Snap>) -> String {
    format!(
        "snapshot {}: no id in the snapshotter's record, so no directory",
        snap.map_or("", |s| s.backend_key.as_str())
    )
}

impl DirProblem {
    /// The problem with the faulty directory's path from `root` (a table cell's worth).
    fn short(&self, root: &Path) -> String {
        let cell = format!(
            "{}: {}",
            self.at.strip_prefix(root).unwrap_or(&self.at).display(),
            self.why
        );
        crate::text::without_os_error(&cell).into_owned()
    }
}

impl Node {
    pub fn open(global: &Global, docker: &DockerRoot) -> Result<Node, Failure> {
        let root = global.open_root()?;
        let mut damage = Damage::new();
        let mut problems = crate::containers::docker::StoreProblems::default();
        let given = docker.docker_root.as_deref().or(global.docker_root.as_deref());
        let docker_root = target::docker_root(&root.dir, given);
        let (index, (containers, sandbox_keys)) = {
            let tx = root.view(global.meta_choice())?;
            let index = Index::load(&root, &tx, global.read_mode(), &mut damage);
            let containers = target::all_containers(&tx, &docker_root, given, &mut damage, &mut problems);
            (index, containers)
        };
        Ok(Node {
            root,
            index,
            containers,
            sandbox_keys,
            docker_root,
            docker_unlisted: problems.unlisted,
            damage,
            problems: problems.damaged,
            unreadable: problems.unreadable,
            loops_said: foldhash::HashSet::default(),
        })
    }

    /// Resolves a target: a snapshot key or container, else an image reference (its
    /// unpacked top snapshot, the host platform's when several are unpacked). Not found is
    /// exit code 1; a meta.db record whose backend snapshot is gone is damage (3). A snapshot
    /// no meta.db record names (reached by its backend key) is read, and said on stderr.
    pub fn resolve(&self, global: &Global, target: &str) -> Result<Resolved, Failure> {
        match self.resolve_any(global, target)? {
            Target::Snapshot(r) => Ok(r),
            Target::Overlay2(c) => Err(Failure::new(self.finish(Outcome::No), target::no_snapshot(&c).message)),
        }
    }

    /// [`Node::resolve`], a Docker container on the overlay2 graph driver answered as itself
    /// ([`Target::Overlay2`]): for the commands that read its layers (`diff`, `fs`, `mounts`).
    pub fn resolve_any(&self, global: &Global, target: &str) -> Result<Target, Failure> {
        // What the lookup met (a Docker root not read, a config unreadable) may be why the
        // target was not found: said with the failure, and counted in its exit code.
        let r = self.resolve_target(global, target).map_err(|f| {
            let mut message = f.message;
            // Unreadable is never reported as missing: the store not read may hold it.
            if let (Some(p), Outcome::No) = (&self.docker_unlisted, f.outcome) {
                message.push_str(&format!(
                    "; the Docker store {} could not be read (said above), and may hold it",
                    crate::text::escape(p.as_os_str().as_encoded_bytes())
                ));
            }
            Failure {
                outcome: self.finish(f.outcome),
                message,
            }
        })?;
        if let Target::Snapshot(r) = &r
            && let Some(s) = self.index.get(r.snap)
            && s.names.is_empty()
        {
            warn(format!(
                "snapshot {} ({}): no meta.db record names it (removed and not yet collected, or meta.db lost the record): read from the {} snapshotter's own record",
                crate::text::one_line(&s.backend_key),
                crate::text::one_line(&s.snapshotter),
                crate::text::one_line(&s.snapshotter),
            ));
        }
        Ok(r)
    }

    fn resolve_target(&self, global: &Global, target: &str) -> Result<Target, Failure> {
        // The record an escaped form names (`snap\x1b[31m`), as `-n` and container IDs are taken.
        let selected = crate::containerd::records::selected_name(target);
        let target = selected.as_ref();
        let first = match target::resolve_target(&self.index, &self.containers, global.namespace.as_deref(), target) {
            Ok(r) => return Ok(r),
            Err(e) if e.damaged => return Err(Failure::new(Outcome::Damaged, e.message)),
            Err(e) => e.message,
        };
        let no = |m: String| Failure::new(Outcome::No, m);
        let tx = self.root.view(global.meta_choice())?;
        let ns = match super::context::image_namespace(global, &tx) {
            Ok(ns) => ns,
            // Damage that hides the namespaces is the answer, not "not found".
            Err(f) if f.outcome != Outcome::No => return Err(f),
            Err(_) => return Err(no(first)),
        };
        let inspector = crate::inspect::Inspector::new(
            &self.root,
            self.root.view(global.meta_choice())?,
            &ns,
            crate::inspect::Options::for_host(global.host()),
        );
        let Ok(image) = image_of(&tx, &ns, &inspector, target) else {
            return Err(no(first));
        };
        let mut damage = Damage::new();
        let tops: Vec<images::ImageTop> = images::image_tops(&self.root, &tx, &ns, Some(&image.name), &mut damage);
        let host = global.host();
        let unpacked = |t: &&images::ImageTop| {
            self.index
                .snapshotters
                .iter()
                .find_map(|sn| self.index.by_name(&ns, sn, &t.chain_id))
        };
        // The host platform's tops first, then every top (the host's again: they did not match).
        let host_first = || {
            tops.iter()
                .filter(|t| t.os == host.os && t.architecture == host.architecture)
                .chain(tops.iter())
        };
        let best = host_first().find_map(|t| unpacked(&t));
        // A top meta.db records whose backend snapshot is gone: damage, not "not unpacked".
        let unbacked =
            || host_first().find_map(|t| self.index.unbacked_named(Some(&ns), &t.chain_id).into_iter().next());
        match best {
            Some(snap) => Ok(Target::Snapshot(Resolved { snap, container: None })),
            // Its documents could not all be read: which snapshot it unpacks to is not known,
            // and "not unpacked" would be a guess (unreadable is never reported as missing).
            None if !damage.is_empty() => {
                let denied = self.root.blob_denied()
                    || matches!(
                        self.root.content_state(),
                        crate::containerd::root::ContentState::Denied(_)
                    );
                let said: Vec<String> = damage
                    .distinct()
                    .iter()
                    .map(|d| crate::text::one_line(&d.message).into_owned())
                    .collect();
                Err(Failure::new(
                    if denied { Outcome::Unreadable } else { Outcome::Damaged },
                    format!(
                        "image {}: which snapshot it unpacks to cannot be told: {}",
                        crate::text::one_line(&image.name),
                        said.join("; ")
                    ),
                ))
            }
            None => match unbacked() {
                Some(u) => {
                    let what = format!(
                        "image {}: its unpacked snapshot {}",
                        crate::text::one_line(&image.name),
                        target::key_where(u)
                    );
                    let e = target::unbacked_snapshot(&self.index, u, &what);
                    Err(Failure::new(
                        if e.damaged { Outcome::Damaged } else { Outcome::No },
                        e.message,
                    ))
                }
                None => {
                    let said = format!(
                        "image {}: no unpacked snapshot (chain ID of its diff IDs) on this node",
                        crate::text::one_line(&image.name)
                    );
                    // Its top's backend snapshot may still be there, no meta.db record naming
                    // it (removed before a collection, or meta.db damaged): said, to be named.
                    let orphaned = host_first().find(|t| !self.index.unnamed_keyed(Some(&ns), &t.chain_id).is_empty());
                    Err(no(match orphaned {
                        Some(t) => target::not_named(&self.index, Some(&ns), &t.chain_id, said).message,
                        None => said,
                    }))
                }
            },
        }
    }

    /// The chain of a snapshot, the stopping reason said on stderr (and counted as damage).
    pub fn chain(&mut self, snap: usize) -> Vec<usize> {
        let (chain, stop) = self.index.chain(snap);
        if let Some(s) = stop {
            self.say_stop(&chain, s);
        }
        chain
    }

    /// Says why `chain` (as [`Index::chain`] gave it) stops early. A loop is said once, by
    /// the first chain that runs into it: its snapshots are those from the last one's parent
    /// on.
    pub fn say_stop(&mut self, chain: &[usize], stop: String) {
        let looped = chain
            .last()
            .and_then(|&last| self.index.parent(last))
            .and_then(|p| chain.iter().position(|&c| c == p))
            .and_then(|at| chain.get(at..));
        let first_time = match looped {
            Some(members) => {
                // Every member is marked, not only up to the first new one.
                let mut new = false;
                for &m in members {
                    new |= self.loops_said.insert(m);
                }
                new
            }
            None => true,
        };
        if first_time {
            self.damage.push(stop);
        }
    }

    /// The layer directories of a chain, nearest first, each checked to be a real directory:
    /// one that is missing, a symlink (never followed) or not a directory is damage (3), one
    /// that cannot be looked at is unreadable (4). For the commands that read through them.
    pub fn layer_dirs(&self, chain: &[usize]) -> Result<Vec<PathBuf>, Failure> {
        let dirs = self.layer_paths(chain)?;
        for d in &dirs {
            if let Some(p) = self.dir_problem(d) {
                return Err(Failure::new(
                    p.outcome,
                    format!("{}: {}", escape(p.at.as_os_str().as_encoded_bytes()), p.why),
                ));
            }
        }
        Ok(dirs)
    }

    /// The layers of Docker container `c` on the overlay2 graph driver, read from the Docker
    /// data root ([`overlay2::Layers::read`]): what is wrong with them is damage (3), or
    /// unreadable (4), said with the file at fault.
    pub fn overlay2_layers(&self, c: &ContainerRef) -> Result<overlay2::Layers, Failure> {
        overlay2::Layers::read(&self.docker_root, &c.id).map_err(|p| {
            let outcome = if p.unreadable {
                Outcome::Unreadable
            } else {
                Outcome::Damaged
            };
            Failure::new(
                self.finish(outcome),
                format!(
                    "container {}: {}",
                    crate::text::one_line(&c.id),
                    crate::text::one_line(&p.message)
                ),
            )
        })
    }

    /// The `diff` dirs of `layers`, the upper first, each checked as [`Node::layer_dirs`]
    /// checks a snapshot's (a real directory, reached through real directories from the
    /// Docker data root).
    pub fn overlay2_dirs(&self, layers: &overlay2::Layers) -> Result<Vec<PathBuf>, Failure> {
        let dirs = layers.dirs();
        for d in &dirs {
            if let Some(p) = self.dir_problem(d) {
                return Err(Failure::new(
                    self.finish(p.outcome),
                    format!("{}: {}", escape(p.at.as_os_str().as_encoded_bytes()), p.why),
                ));
            }
        }
        Ok(dirs)
    }

    /// The directories of the tree snapshot `chain[0]` shows when mounted
    /// ([`Index::tree_of`]: a native snapshot's one directory, an overlay view's parents),
    /// checked as [`Node::layer_dirs`] checks them, and whether they are one plain directory
    /// (native: no whiteouts, no overlay attributes) rather than overlay layers.
    pub fn tree_dirs(&self, chain: &[usize]) -> Result<(Vec<PathBuf>, bool), Failure> {
        let tree = self.index.tree_of(chain);
        if tree.is_empty() {
            let key = chain
                .first()
                .and_then(|&i| self.index.get(i))
                .map_or("", |s| s.backend_key.as_str());
            return Err(Failure::new(
                Outcome::Damaged,
                format!(
                    "snapshot {}: a view whose parent is not in its chain, so the tree it shows is not known",
                    crate::text::one_line(key)
                ),
            ));
        }
        let plain = chain.first().is_some_and(|&i| self.index.is_native(i));
        Ok((self.layer_dirs(tree)?, plain))
    }

    /// What is wrong with a layer directory `dir`, if anything: it, or a directory on the way
    /// to it from the root (`snapshots/<id>`), is a symlink or not a directory, or it is
    /// missing (damage); or it cannot be looked at (unreadable).
    fn dir_problem(&self, dir: &Path) -> Option<DirProblem> {
        let detour = match self.index.detour_to(dir) {
            // A dir of the overlay2 graph driver is below the Docker data root, not the
            // containerd root (which may itself be below the data root: containerd/daemon).
            None if !dir.starts_with(&self.index.root_dir) && dir.starts_with(&self.docker_root) => {
                crate::paths::detour(&self.docker_root, dir)
            }
            d => d,
        };
        if let Some((at, why)) = detour {
            return Some(DirProblem {
                at,
                why: why.into(),
                outcome: Outcome::Damaged,
            });
        }
        let (why, outcome) = match std::fs::symlink_metadata(dir) {
            Ok(m) if m.is_dir() => return None,
            Ok(m) if m.file_type().is_symlink() => ("a symlink, not followed".to_string(), Outcome::Damaged),
            Ok(_) => ("not a directory".to_string(), Outcome::Damaged),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => (e.to_string(), Outcome::Unreadable),
            Err(e) => (e.to_string(), Outcome::Damaged),
        };
        Some(DirProblem {
            at: dir.to_path_buf(),
            why,
            outcome,
        })
    }

    /// Checks the directories of snapshots `snaps` as [`Node::layer_dirs`] does, without
    /// stopping at the first: for the commands that print their paths (`mounts`, `snapshots
    /// tree`) rather than read through them. A path through a symlink is still printed, so it
    /// must not be printed silently: each problem is said on stderr by [`Node::finish`] and
    /// counted in the exit code, and returned by snapshot so that its row can say it too.
    pub fn check_layer_dirs(&mut self, snaps: &[usize]) -> HashMap<usize, DirProblem> {
        let mut found = HashMap::default();
        // A native view of a parent has no directory of its own, and needs none.
        let laid_out: Vec<usize> = snaps
            .iter()
            .copied()
            .filter(|&i| self.lays_out_dirs(i) && self.index.has_dir(i))
            .collect();
        for i in laid_out {
            match self.index.fs_dir(i) {
                Some(dir) => {
                    if let Some(p) = self.check_dir(&dir) {
                        found.insert(i, p);
                    }
                }
                None => self.problems.push(no_directory(self.index.get(i))),
            }
        }
        found
    }

    /// Whether snapshot `i`'s snapshotter keeps a directory per snapshot where `fs_dir` says
    /// (overlayfs and those laid out like it, native), and this copy of the root has its
    /// `snapshots` directory at all: devmapper, btrfs or zfs keep their layers elsewhere, and a
    /// copy of the records alone has no layer directories to check.
    pub fn lays_out_dirs(&self, i: usize) -> bool {
        const LAID_OUT: [&str; 4] = ["overlayfs", "native", "fuse-overlayfs", "stargz"];
        self.index.get(i).is_some_and(|s| {
            LAID_OUT.contains(&s.snapshotter.as_str())
                && std::fs::symlink_metadata(self.index.snapshotter_dir(&s.snapshotter).join("snapshots")).is_ok()
        })
    }

    /// Checks one directory a command prints (a layer's, an active snapshot's work directory),
    /// as [`Node::check_layer_dirs`] does.
    pub fn check_dir(&mut self, dir: &Path) -> Option<DirProblem> {
        let p = self.dir_problem(dir)?;
        let said = format!("{}: {}", p.at.display(), p.why);
        match p.outcome {
            Outcome::Unreadable => self.unreadable.push(said),
            _ => self.problems.push(said),
        }
        Some(p)
    }

    fn layer_paths(&self, chain: &[usize]) -> Result<Vec<PathBuf>, Failure> {
        chain
            .iter()
            .map(|&i| {
                self.index.fs_dir(i).ok_or_else(|| {
                    Failure::new(
                        Outcome::Damaged,
                        crate::text::one_line(&no_directory(self.index.get(i))).into_owned(),
                    )
                })
            })
            .collect()
    }

    /// Says the damage and problems met, and what they add to the exit code.
    pub fn finish(&self, outcome: Outcome) -> Outcome {
        // A layout or archive with an error (said when it was opened) is damaged input, as
        // for every other command.
        let mut outcome = outcome.worst(super::context::records_outcome(&self.root));
        for d in self.damage.distinct() {
            warn(crate::text::one_line(&d.message));
        }
        // A directory met on the way to several layers (`snapshots`) is said once.
        let mut said = HashSet::default();
        for p in self.problems.iter().filter(|p| said.insert(p.as_str())) {
            warn(crate::text::one_line(p));
        }
        outcome = outcome.worst(Outcome::of_damage(&self.damage));
        if !self.problems.is_empty() {
            outcome = outcome.worst(Outcome::Damaged);
        }
        for p in self.unreadable.iter().filter(|p| said.insert(p.as_str())) {
            warn(crate::text::one_line(p));
        }
        if !self.unreadable.is_empty() {
            outcome = outcome.worst(Outcome::Unreadable);
        }
        outcome
    }
}

/// The image record a layer command's TARGET names: the record named exactly TARGET first
/// (`ctr images import` keeps an archive's names as written, `test/img:two`, which docker's
/// normalisation reads as `docker.io/test/img:two`: the name `images` lists must resolve),
/// else the reference as `inspect` resolves it (dockerd's rules). A record that reads only in
/// part is still found; the page it is on is damage `inspect` would say.
pub(super) fn image_of(
    tx: &crate::bolt::Tx<'_>,
    namespace: &str,
    inspector: &crate::inspect::Inspector<'_>,
    target: &str,
) -> Result<crate::containerd::records::Image, crate::inspect::InspectError> {
    let mut damage = Damage::new();
    if let Ok(Some(image)) = crate::containerd::records::image_named(tx, namespace, target, &mut damage) {
        return Ok(image);
    }
    inspector.resolve(target)
}

// ---- snapshots tree --------------------------------------------------------------------------

#[derive(Args)]
pub struct TreeArgs {
    /// Only this snapshot's chain (a snapshot key, meta.db's or a snapshotter's backend key, a
    /// container ID, name or ID prefix, or an image), from
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
    /// Why that directory is not one to read (`<path>: a symlink, not followed`), where it
    /// is not: said on stderr as well, and exit code 3 (4 when it cannot be looked at).
    #[serde(rename = "dirProblem", skip_serializing_if = "Option::is_none")]
    dir_problem: Option<String>,
    /// The same, with the path from the root, for the table's DIR cell.
    #[serde(skip)]
    dir_problem_short: Option<String>,
}

pub(super) fn size_cell(s: &Snap) -> String {
    s.size.map(table::human_size).unwrap_or_else(|| "-".into())
}

pub fn tree(global: &Global, args: TreeArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    if args.target.is_none() {
        // With a TARGET, -n says where to look the key or image up.
        super::context::no_namespace(
            global,
            "snapshots tree",
            "without a TARGET draws the snapshotters' trees, which namespaces share",
        )?;
    }
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
        // Snapshots in a parent loop, or whose chain runs into one, are reached from no base:
        // listed at the end, each loop said once as the listings say it (20,000 looped
        // snapshots were 20,000 lines), found in one pass as `records::parent_loops` finds them.
        let unseen: Vec<usize> = seen.iter().enumerate().filter(|(_, s)| !**s).map(|(i, _)| i).collect();
        order.extend(unseen.iter().map(|&i| (0, i)));
        for members in crate::containerd::records::loops_among(seen.len(), unseen, |i| node.index.parent(i)) {
            let mut keys: Vec<&str> = members
                .iter()
                .filter_map(|&p| node.index.get(p).map(|s| s.backend_key.as_str()))
                .collect();
            crate::containerd::records::least_first(&mut keys);
            let snapshotter = members
                .first()
                .and_then(|&i| node.index.get(i))
                .map_or("", |s| s.snapshotter.as_str());
            let said = crate::containerd::records::parent_loop_message(snapshotter, &keys);
            node.damage.push(crate::text::one_line(&said).into_owned());
        }
        // A snapshot whose parent has no record is drawn as a base, but is none: said, as
        // a chain through it says it.
        for (i, s) in node.index.snaps.iter().enumerate() {
            if let (None, Some(p)) = (node.index.parent(i), s.backend_parent.as_deref()) {
                let said = crate::containerd::records::missing_parent_message(&s.backend_key, p);
                node.damage.push(said);
            }
        }
        // Bases grouped by snapshotter, in snapshotter order.
        order.sort_by_key(|&(_, i)| node.index.get(i).map(|s| s.snapshotter.clone()));
    }
    let listed: Vec<usize> = order.iter().map(|&(_, i)| i).collect();
    let problems = node.check_layer_dirs(&listed);
    let rows: Vec<TreeRow<'_>> = order
        .iter()
        .filter_map(|&(depth, i)| {
            let snap = node.index.get(i)?;
            Some(TreeRow {
                depth,
                snap,
                parent: node.index.parent(i).and_then(|p| node.index.get(p)).map(Snap::key),
                dir: node
                    .index
                    .fs_dir(i)
                    .filter(|_| node.index.has_dir(i))
                    .map(|p| p.display().to_string()),
                dir_problem: problems
                    .get(&i)
                    .map(|p| crate::text::without_os_error(&format!("{}: {}", p.at.display(), p.why)).into_owned()),
                dir_problem_short: problems.get(&i).map(|p| p.short(&node.index.root_dir)),
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
            ])
            // Keys and namespaces are record names, escaped once already (`key_name`).
            .names(&["SNAPSHOTTER", "KEY", "NAMESPACES"]);
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
                    match (&r.dir, &r.dir_problem_short) {
                        (Some(dir), Some(p)) => format!("{dir} ({p})"),
                        (Some(dir), None) => dir.clone(),
                        (None, _) => "-".into(),
                    },
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
    /// A snapshot key (meta.db's, or a snapshotter's backend key), a container ID, name or ID
    /// prefix, or an image.
    pub target: String,
    /// The mount point to print in the line (`ctr snapshots mounts TARGET KEY`).
    #[arg(long = "target", value_name = "DIR", default_value = "/mnt")]
    pub mount_point: String,
    /// Every layer as a lowerdir of a read-only overlay (no upper, no work dir): for evidence.
    #[arg(long)]
    pub read_only: bool,
    /// Print paths under this root instead of --root (e.g. /var/lib/containerd, the node's own
    /// paths, as ctr printed them there); for a container on dockerd's overlay2 graph driver,
    /// instead of the Docker data root read (e.g. /var/lib/docker).
    #[arg(long, value_name = "DIR")]
    pub node_root: Option<PathBuf>,
    #[command(flatten)]
    pub overlay: MountOpts,
    #[command(flatten)]
    pub docker: DockerRoot,
}

/// The containerd release that wrote the store, as far as meta.db says it (when
/// `--containerd` does not): its schema version, and for schema 3 whether its container
/// records (read when the node was opened) have 1.7's `sandboxid` key
/// ([`mounts::Release::of_store`]); a meta.db that does not read says 2.x.
/// A path the mount line cannot carry (a `,` or `:` in it, white space, the shell's
/// characters) would make a line that mounts other directories or none: refused (exit 2), not
/// printed. `user` are the paths the user gave, each with how the message names it.
fn refuse_uncarried(node: &Node, user: &[(&Path, &str)]) -> Result<(), Failure> {
    for (path, what) in user {
        if let Some(said) = mounts::uncarried(path) {
            return Err(Failure::new(
                node.finish(Outcome::Usage),
                format!(
                    "{what} {}: holds {}, which a mount line cannot carry as printed; give a path without `,`, `:`, white space or shell characters (a symlink to it will do)",
                    escape(path.as_os_str().as_encoded_bytes()),
                    said
                ),
            ));
        }
    }
    Ok(())
}

pub fn store_release(node: &Node, global: &Global) -> mounts::Release {
    let schema = node
        .root
        .view(global.meta_choice())
        .ok()
        .and_then(|tx| crate::containerd::records::schema_version(&tx).ok().flatten());
    mounts::Release::of_store(schema, node.sandbox_keys)
}

pub fn mounts_cmd(global: &Global, args: MountsArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let mut node = Node::open(global, &args.docker)?;
    let r = match node.resolve_any(global, &args.target)? {
        Target::Snapshot(r) => r,
        Target::Overlay2(c) => return overlay2_mounts(node, &c, &args, out),
    };
    let chain = node.chain(r.snap);
    let root = match &args.node_root {
        Some(p) => p.clone(),
        None => std::path::absolute(&node.root.dir).unwrap_or_else(|_| node.root.dir.clone()),
    };
    let opts = args.overlay.options(store_release(&node, global));
    let line = if args.read_only {
        mounts::read_only_line(&node.index, &chain, &root, &args.mount_point, &opts)
    } else {
        mounts::ctr_line(&node.index, &chain, &root, &args.mount_point, &opts)
    };
    let line = match line {
        Ok(l) => l,
        Err(e) => {
            return Err(Failure::new(
                node.finish(Outcome::No),
                crate::text::one_line(&e).into_owned(),
            ));
        }
    };
    // A path the line cannot carry (a `,` or `:` in it, white space, the shell's characters)
    // would make a line that mounts other directories or none: refused, not printed. The
    // root and the target are the user's (exit 2); a snapshotter's name comes from the disk.
    let user = [
        (
            root.as_path(),
            if args.node_root.is_some() {
                "--node-root"
            } else {
                "--root"
            },
        ),
        (Path::new(&args.mount_point), "--target"),
    ];
    refuse_uncarried(&node, &user)?;
    // The directories the line names: a native snapshot's one, an overlay chain's every one
    // (a view's own directory aside, checked all the same).
    let named: Vec<usize> = if node.index.is_native(r.snap) {
        node.index.tree_of(&chain).to_vec()
    } else {
        chain.clone()
    };
    for &i in &named {
        let Some(dir) = node.index.fs_dir_under(i, &root) else {
            continue;
        };
        if let Some(said) = mounts::uncarried(dir.strip_prefix(&root).unwrap_or(&dir)) {
            return Err(Failure::new(
                node.finish(Outcome::Damaged),
                format!(
                    "{}: holds {}, which a mount line cannot carry as printed",
                    escape(dir.as_os_str().as_encoded_bytes()),
                    said
                ),
            ));
        }
    }
    // The line names every layer of the chain (a view's own directory aside, checked all the
    // same), and an active snapshot's work directory, which the kernel writes to. A line
    // through a symlink or to a missing directory is still printed, for the record, but
    // never without a word.
    node.check_layer_dirs(&named);
    let active = node.index.get(r.snap).is_some_and(|s| s.kind == "Active");
    if !args.read_only
        && active
        && !node.index.is_native(r.snap)
        && chain.len() > 1
        && node.lays_out_dirs(r.snap)
        && let Some(work) = node.index.work_dir_under(r.snap, &node.root.dir)
    {
        node.check_dir(&work);
    }
    writeln!(out, "{}", escape(line.as_bytes()))?;
    Ok(node.finish(Outcome::Ok))
}

/// `mounts` of a Docker container on the overlay2 graph driver: the mount dockerd's driver
/// makes of its layers ([`overlay2::mount_line`]), or the read-only one, with paths under the
/// Docker data root (`--node-root`: the node's, e.g. /var/lib/docker). A layer dir that is
/// missing or not a real directory is said, and the line still printed, for the record.
fn overlay2_mounts(
    mut node: Node,
    c: &ContainerRef,
    args: &MountsArgs,
    out: &mut dyn Write,
) -> Result<Outcome, Failure> {
    let layers = node.overlay2_layers(c)?;
    let root = match &args.node_root {
        Some(p) => p.clone(),
        None => std::path::absolute(&node.docker_root).unwrap_or_else(|_| node.docker_root.clone()),
    };
    let user = [
        (
            root.as_path(),
            if args.node_root.is_some() {
                "--node-root"
            } else {
                "the Docker data root"
            },
        ),
        (Path::new(&args.mount_point), "--target"),
    ];
    refuse_uncarried(&node, &user)?;
    let home = root.join("overlay2");
    let userxattr = args.overlay.xattrs() == crate::overlay::merge::Xattrs::User;
    let line = if args.read_only {
        overlay2::read_only_line(&layers, &home, &args.mount_point, userxattr)
    } else {
        overlay2::mount_line(&layers, &home, &args.mount_point, userxattr)
    };
    // The dirs the line names, and the work dir the kernel writes to.
    let mut named = layers.dirs();
    if !args.read_only && layers.lowers.is_some() {
        named.push(layers.work());
    }
    for d in &named {
        node.check_dir(d);
    }
    writeln!(out, "{}", escape(line.as_bytes()))?;
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
