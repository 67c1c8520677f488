//! `coldctr which PATH`: which snapshot, containers and images a path on the disk belongs to,
//! from the path's text (`io.containerd.snapshotter.v1.<name>/snapshots/<id>/...`) and the
//! records: snapshot id → backend key → meta.db keys; containers whose chain holds it; images
//! whose unpacked chain (the chain ID of their diff IDs) holds it.

use super::context::Global;
use super::layers::{DockerRoot, Format, Node, size_cell};
use super::{Failure, Outcome};
use crate::containerd::records::Damage;
use crate::overlay::images;
use crate::overlay::snapshots::Index;
use crate::overlay::snapshots::{SNAPSHOTTER_PREFIX, Snap};
use crate::text::{escape, one_line};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

#[derive(Args)]
pub struct WhichArgs {
    /// A path on the disk inside a snapshot directory, e.g.
    /// `<disk>/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/232/fs/usr/bin/x`
    /// (only its text is read: the snapshotter name, the number and the rest).
    pub path: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[command(flatten)]
    pub docker: DockerRoot,
}

/// A path split at its snapshot directory.
#[derive(Debug, PartialEq, Eq)]
pub struct SnapshotPath {
    pub snapshotter: String,
    pub id: u64,
    /// `fs` (the files), `work` (overlayfs' work dir), or empty for the snapshot dir itself.
    pub area: String,
    /// The path inside the snapshot's files, `/`-rooted (empty outside `fs`).
    pub inner: Vec<u8>,
}

/// Finds `io.containerd.snapshotter.v1.<name>/snapshots/<id>` in `p`, lexically: right under
/// `root` when `p` is inside it, else the first one on the path. A node's snapshot can hold a
/// containerd root of its own (kind, docker-in-docker): the first is the directory on this
/// disk, and a root named inside a snapshot is that inner root. `None` when there is none; a
/// `..` is refused, as its meaning depends on links this reads nothing of.
pub fn split_snapshot_path(p: &Path, root: &Path) -> Result<Option<SnapshotPath>, String> {
    if p.components().any(|c| c == Component::ParentDir) {
        return Err(format!(
            "{}: has a `..` component; `which` reads only the path's text, so name the path without one",
            escape(p.as_os_str().as_encoded_bytes())
        ));
    }
    let normal = super::which_graph::components;
    let parts = normal(p);
    let root_parts = if root.components().any(|c| c == Component::ParentDir) {
        Vec::new()
    } else {
        normal(root)
    };
    let is_snapshotter = |c: &Vec<u8>| c.starts_with(SNAPSHOTTER_PREFIX.as_bytes());
    let at = if !root_parts.is_empty() && parts.starts_with(&root_parts) {
        Some(root_parts.len()).filter(|&i| parts.get(i).is_some_and(is_snapshotter))
    } else {
        parts.iter().position(is_snapshotter)
    };
    Ok(at.and_then(|at| split_at(&parts, at)))
}

/// A path under Docker's `rootfs/<snapshotter>/<container ID>/` (dockerd 25+ with the
/// containerd image store mounts each running container's merged root there): the ID and the
/// path inside the root, `/`-rooted. Lexical, as [`split_snapshot_path`]: the last such
/// component run on the path.
pub fn docker_rootfs_path(p: &Path) -> Option<(String, Vec<u8>)> {
    use std::os::unix::ffi::OsStrExt;
    let parts: Vec<&[u8]> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.as_bytes()),
            _ => None,
        })
        .collect();
    let is_id = |b: &[u8]| b.len() == 64 && b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    let at = (0..parts.len().saturating_sub(2))
        .rev()
        .find(|&i| parts.get(i) == Some(&&b"rootfs"[..]) && parts.get(i + 2).is_some_and(|id| is_id(id)))?;
    let id = std::str::from_utf8(parts.get(at + 2)?).ok()?.to_string();
    let mut inner = vec![b'/'];
    inner.extend_from_slice(&parts.get(at + 3..).unwrap_or_default().join(&b'/'));
    Some((id, inner))
}

/// The snapshot path whose snapshotter directory is `parts[at]`.
fn split_at(parts: &[Vec<u8>], at: usize) -> Option<SnapshotPath> {
    let snapshotter = std::str::from_utf8(parts.get(at)?.get(SNAPSHOTTER_PREFIX.len()..)?).ok()?;
    if parts.get(at + 1)?.as_slice() != b"snapshots" {
        return None;
    }
    // containerd names the directory with the id in decimal (strconv.FormatUint): `0079` or
    // `+79` is no directory it made.
    let text = std::str::from_utf8(parts.get(at + 2)?).ok()?;
    let id: u64 = text.parse().ok().filter(|id: &u64| id.to_string() == text)?;
    let rest = parts.get(at + 3..).unwrap_or_default();
    let native = snapshotter == "native";
    let (area, inner_parts) = match rest.split_first() {
        _ if native => ("fs".to_string(), rest),
        Some((a, tail)) => (String::from_utf8_lossy(a).into_owned(), tail),
        None => (String::new(), rest),
    };
    let mut inner = Vec::new();
    if area == "fs" {
        inner.push(b'/');
        inner.extend_from_slice(&inner_parts.join(&b'/'));
    }
    Some(SnapshotPath {
        snapshotter: snapshotter.to_string(),
        id,
        area,
        inner,
    })
}

#[derive(Serialize)]
struct WhichReport<'a> {
    snapshotter: String,
    id: u64,
    /// `fs`, `work` or empty.
    area: String,
    /// The path inside the snapshot's files (lossy UTF-8; `pathHex` when not UTF-8).
    path: String,
    #[serde(rename = "pathHex", skip_serializing_if = "Option::is_none")]
    path_hex: Option<String>,
    /// The snapshot whose directory it is (none when the id is shared: see `candidates`).
    snapshot: Option<&'a Snap>,
    /// The snapshots that share the id, in a damaged metadata.db (containerd never gives two
    /// snapshots one id): the directory is one of theirs at most.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    candidates: Vec<&'a Snap>,
    /// The snapshot with the id when it has no directory (a native view of a parent, which
    /// shows its parent's directory): the path is none of its files.
    #[serde(rename = "noDirectory", skip_serializing_if = "Option::is_none")]
    no_directory: Option<&'a Snap>,
    /// Containers whose rw snapshot is this one (`layer: 0`) or has it below (`layer: n`).
    containers: Vec<WhichContainer>,
    /// Images whose unpacked chain holds it.
    images: Vec<WhichImage>,
    /// The images' documents could not all be read (permissions, an I/O error): others may
    /// hold it too.
    #[serde(rename = "imagesNotKnown", skip_serializing_if = "std::ops::Not::not")]
    images_not_known: bool,
}

#[derive(Serialize)]
struct WhichContainer {
    id: String,
    name: Option<String>,
    namespace: String,
    source: &'static str,
    layer: usize,
    /// The backend key of the candidate it holds, when the id is shared.
    #[serde(skip_serializing_if = "Option::is_none")]
    candidate: Option<String>,
}

#[derive(Serialize)]
struct WhichImage {
    namespace: String,
    name: String,
    config: String,
    #[serde(rename = "chainId")]
    chain_id: String,
    layer: usize,
    /// The backend key of the candidate it holds, when the id is shared.
    #[serde(skip_serializing_if = "Option::is_none")]
    candidate: Option<String>,
}

/// Where one snapshot is in the chains of the tops asked about (its distance from each top).
/// A walk from a top stops at the first snapshot whose answer is known, so thousands of
/// containers on distinct snapshots of one long chain cost the chain once, not once each.
struct LayerOf {
    snap: usize,
    /// Per snapshot walked: `snap`'s distance from it, and the snapshot whose parent is
    /// missing where its chain ends early.
    known: foldhash::HashMap<usize, (Option<usize>, Option<usize>)>,
}

impl LayerOf {
    fn new(snap: usize) -> LayerOf {
        LayerOf {
            snap,
            known: foldhash::HashMap::default(),
        }
    }

    /// `snap`'s position in `top`'s chain (as `Index::chain` lists it), if it is there. With
    /// `stops`, a chain that ends early (a missing parent, a loop) is put there with why, as
    /// walking the whole chain would find it (`Node::say_stop` says each once).
    fn of(&mut self, index: &Index, top: usize, stops: Option<&mut Vec<(Vec<usize>, String)>>) -> Option<usize> {
        let mut path = Vec::new();
        let mut seen = foldhash::HashSet::default();
        let mut at = Some(top);
        // The answer for the snapshot the walk stopped at, when it was known.
        let mut tail = None;
        while let Some(i) = at {
            if let Some(&known) = self.known.get(&i) {
                tail = Some(known);
                break;
            }
            if !seen.insert(i) {
                // A loop (damage, rare): answered by the chain itself, nothing remembered.
                let (chain, stop) = index.chain(top);
                let at = chain.iter().position(|&c| c == self.snap);
                if let (Some(stops), Some(stop)) = (stops, stop) {
                    stops.push((chain, stop));
                }
                return at;
            }
            path.push(i);
            at = index.parent(i);
        }
        let steps = path.len();
        let found = path.iter().position(|&i| i == self.snap);
        let (tail_distance, tail_broken) = match (tail, path.last()) {
            (Some(known), _) => known,
            // The base, or a snapshot whose parent has no record.
            (None, Some(&last)) => (
                None,
                index.get(last).and_then(|s| s.backend_parent.as_ref()).map(|_| last),
            ),
            (None, None) => (None, None),
        };
        for (k, &i) in path.iter().enumerate() {
            let distance = match found {
                Some(j) if k <= j => Some(j - k),
                _ => tail_distance.map(|d| d + steps - k),
            };
            self.known.insert(i, (distance, tail_broken));
        }
        if let (Some(stops), Some(broken)) = (stops, tail_broken)
            && let (chain, Some(stop)) = index.chain(broken)
        {
            stops.push((chain, stop));
        }
        self.known.get(&top).and_then(|k| k.0)
    }
}

pub fn which(global: &Global, args: WhichArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    super::context::no_namespace(global, "which", "names every namespace the path's snapshot is in")?;
    let mut node = Node::open(global, &args.docker)?;
    let split = split_snapshot_path(&args.path, &node.root.dir).map_err(|e| Failure::new(Outcome::Usage, e))?;
    // dockerd's overlay2 graph driver (Docker 20.10 to 27): a layer dir right under the Docker
    // data root is answered first (a containerd root inside a layer is the layer's file),
    // one elsewhere on the path after the snapshot and rootfs forms.
    let graph = super::which_graph::split_graph_path(&args.path, &node.docker_root);
    let graph = match graph {
        Some((g, true)) => return super::which_graph::which_graph(&mut node, &args.path, g, args.format, out),
        Some((g, false)) => Some(g),
        None => None,
    };
    let Some(sp) = split else {
        // Docker's mount point of a container's merged root (what process roots and alerts
        // show on a node with the containerd image store): the file may be in any of its
        // layers, which the merged tree answers, not the path's text (sweep 33).
        if let Some((id, inner)) = docker_rootfs_path(&args.path) {
            let known = node.containers.iter().find(|c| c.id == id);
            let said = match known {
                Some(c) => format!(
                    "container {id}{}",
                    c.name
                        .as_deref()
                        .map(|n| format!(" ({})", escape(n.as_bytes())))
                        .unwrap_or_default()
                ),
                None => format!("container {id}, which no container record here names"),
            };
            return Err(Failure::new(
                node.finish(Outcome::No),
                format!(
                    "{}: inside Docker's mount point of {said}'s merged root, not a snapshot directory: `coldctr fs ls {id}:{}` shows the entry, `coldctr mounts {id}` its layers",
                    escape(args.path.as_os_str().as_encoded_bytes()),
                    escape(&inner)
                ),
            ));
        }
        if let Some(g) = graph {
            return super::which_graph::which_graph(&mut node, &args.path, g, args.format, out);
        }
        // "No" to the question, and whatever damage opening the records met (a fallen-back
        // meta page), as every reader says it.
        return Err(Failure::new(
            node.finish(Outcome::No),
            format!(
                "{}: not inside io.containerd.snapshotter.v1.<name>/snapshots/<id>, Docker's rootfs/<snapshotter>/<container ID> or its overlay2/<layer> (overlay2/l/<link>)",
                escape(args.path.as_os_str().as_encoded_bytes())
            ),
        ));
    };
    // One snapshot, or none. Several share the id only in a damaged metadata.db (said when
    // the index was loaded): nothing says whose the directory is, so each is a candidate, and
    // the containers and images are those of any candidate, each with the one it holds.
    let (candidates, dirless): (Vec<usize>, Vec<usize>) = node
        .index
        .by_id(&sp.snapshotter, sp.id)
        .iter()
        .partition(|&&i| node.index.has_dir(i));
    // A native view of a parent has the id but no directory (it binds its parent's): the
    // path is none of its files, and no snapshot's.
    let dirless = match (candidates.as_slice(), dirless.as_slice()) {
        ([], [one, ..]) => Some(*one),
        _ => None,
    };
    let shared = candidates.len() > 1;
    let mut containers = Vec::new();
    let mut images_found = Vec::new();
    let mut images_not_known = false;
    for &snap in &candidates {
        let candidate = shared
            .then(|| node.index.get(snap).map(|s| s.backend_key.clone()))
            .flatten();
        // The snapshot's own chain: one that stops early (a parent the snapshotter has no
        // record of, a loop) is damage, as every layer command says it, whether or not a
        // container or image runs through it.
        node.chain(snap);
        let mut layer_in = LayerOf::new(snap);
        for c in node.containers.clone() {
            let Some(top) = node.index.by_name(&c.namespace, &c.snapshotter, &c.snapshot_key) else {
                continue;
            };
            let mut stops = Vec::new();
            let layer = layer_in.of(&node.index, top, Some(&mut stops));
            for (chain, stop) in stops {
                node.say_stop(&chain, stop);
            }
            if let Some(layer) = layer {
                containers.push(WhichContainer {
                    id: c.id,
                    name: c.name,
                    namespace: c.namespace,
                    source: c.source,
                    layer,
                    candidate: candidate.clone(),
                });
            }
        }
        let tx = node.root.view(global.meta_choice())?;
        let namespaces: Vec<String> = node
            .index
            .get(snap)
            .map(|s| s.names.iter().map(|n| n.namespace.clone()).collect())
            .unwrap_or_default();
        let mut damage = Damage::new();
        let mut done = std::collections::BTreeSet::new();
        for ns in namespaces {
            if !done.insert(ns.clone()) {
                continue;
            }
            for top in images::image_tops(&node.root, &tx, &ns, None, &mut damage) {
                let Some(i) = node.index.by_name(&ns, &sp.snapshotter, &top.chain_id) else {
                    continue;
                };
                let layer = layer_in.of(&node.index, i, None);
                if let Some(layer) = layer {
                    images_found.push(WhichImage {
                        namespace: ns.clone(),
                        name: top.name,
                        config: top.config,
                        chain_id: top.chain_id,
                        layer,
                        candidate: candidate.clone(),
                    });
                }
            }
        }
        images_not_known |= damage.has_unreadable();
        node.damage.extend(damage);
    }
    let report = WhichReport {
        path: String::from_utf8_lossy(&sp.inner).into_owned(),
        path_hex: std::str::from_utf8(&sp.inner).is_err().then(|| hex::encode(&sp.inner)),
        snapshotter: sp.snapshotter.clone(),
        id: sp.id,
        area: sp.area.clone(),
        snapshot: match candidates.as_slice() {
            [one] => node.index.get(*one),
            _ => None,
        },
        candidates: if shared {
            candidates.iter().filter_map(|&i| node.index.get(i)).collect()
        } else {
            Vec::new()
        },
        no_directory: dirless.and_then(|i| node.index.get(i)),
        containers,
        images: images_found,
        images_not_known,
    };
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report).map_err(|e| Failure::from(std::io::Error::from(e)))?;
            writeln!(out)?;
        }
        Format::Table => {
            let area = match sp.area.as_str() {
                "fs" => "files (fs)".to_string(),
                "work" => "overlayfs work dir (not content)".to_string(),
                "" => "the snapshot directory".to_string(),
                other => format!("{} (not a snapshotter area)", escape(other.as_bytes())),
            };
            writeln!(out, "snapshotter:  {}", escape(sp.snapshotter.as_bytes()))?;
            writeln!(out, "id:           {}", sp.id)?;
            writeln!(out, "area:         {area}")?;
            if sp.area == "fs" {
                writeln!(out, "path:         {}", escape(&sp.inner))?;
            }
            if let Some(s) = report.no_directory {
                writeln!(
                    out,
                    "snapshot:     none: id {} is {} ({} view of a parent), which has no directory and shows its parent's",
                    sp.id,
                    one_line(s.key()),
                    escape(s.snapshotter.as_bytes())
                )?;
            } else if report.snapshot.is_none() && report.candidates.is_empty() {
                writeln!(
                    out,
                    "snapshot:     none: the snapshotter has no record with id {}",
                    sp.id
                )?;
            }
            if !report.candidates.is_empty() {
                writeln!(
                    out,
                    "snapshot:     unknown: {} snapshots have id {} (damage), each a candidate",
                    report.candidates.len(),
                    sp.id
                )?;
            }
            let label = if report.candidates.is_empty() {
                "snapshot:  "
            } else {
                "candidate: "
            };
            for s in report.snapshot.iter().chain(&report.candidates) {
                writeln!(out, "{label}   {} ({}, {})", one_line(s.key()), s.kind, size_cell(s))?;
                writeln!(out, "backend key:  {}", one_line(&s.backend_key))?;
                for n in &s.names {
                    writeln!(
                        out,
                        "named:        {} in namespace {}",
                        one_line(&n.key),
                        one_line(&n.namespace)
                    )?;
                }
            }
            for c in &report.containers {
                let role = if c.layer == 0 {
                    "its rw layer".to_string()
                } else {
                    format!("layer {} below its rw layer", c.layer)
                };
                let name = c
                    .name
                    .as_deref()
                    .map(|n| format!(" ({})", escape(n.as_bytes())))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "container:    {}{name} [{} {}]: {role}{}",
                    one_line(&c.id),
                    c.source,
                    one_line(&c.namespace),
                    as_candidate(c.candidate.as_deref())
                )?;
            }
            for i in &report.images {
                let role = if i.layer == 0 {
                    "its top layer".to_string()
                } else {
                    format!("layer {} below its top", i.layer)
                };
                writeln!(
                    out,
                    "image:        {} [{}]: {role}{}",
                    one_line(&i.name),
                    one_line(&i.namespace),
                    as_candidate(i.candidate.as_deref())
                )?;
            }
            if report.containers.is_empty() {
                writeln!(out, "container:    none")?;
            }
            if report.images_not_known {
                let others = if report.images.is_empty() { "" } else { "others " };
                writeln!(
                    out,
                    "image:        {others}not known: image documents could not be read (see stderr)"
                )?;
            } else if report.images.is_empty() {
                writeln!(out, "image:        none")?;
            }
        }
    }
    let outcome = if candidates.is_empty() {
        Outcome::No
    } else {
        Outcome::Ok
    };
    Ok(node.finish(outcome))
}

/// Which candidate a container's or image's chain holds, when the id is shared.
fn as_candidate(backend_key: Option<&str>) -> String {
    backend_key
        .map(|k| format!(" (if the directory is {}'s)", one_line(k)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_s_rootfs_mount_points_are_told_by_their_text() {
        let id = "a300da2266655cd7c431213e7e0511d5e09ee7174122e3590a112df142ca38f7";
        let found = |p: &str| docker_rootfs_path(Path::new(p));
        assert_eq!(
            found(&format!("/var/lib/docker/rootfs/overlayfs/{id}/etc/passwd")),
            Some((id.to_string(), b"/etc/passwd".to_vec()))
        );
        assert_eq!(
            found(&format!("/mnt/disk/var/lib/docker/rootfs/overlayfs/{id}")),
            Some((id.to_string(), b"/".to_vec()))
        );
        // Not an ID (upper case, short), or no `rootfs` two components above it.
        assert_eq!(
            found(&format!("/var/lib/docker/rootfs/overlayfs/{}/x", id.to_uppercase())),
            None
        );
        assert_eq!(found("/var/lib/docker/rootfs/overlayfs/a300da226665/x"), None);
        assert_eq!(found(&format!("/var/lib/docker/overlayfs/{id}/x")), None);
    }

    /// A chain `s0 <- s1 <- ... <- s39`, a branch `b0 <- b1` off s9, a snapshot whose parent
    /// is missing, and a loop `l0 <- l1 <- l0`: every snapshot as a top, in an order that
    /// reuses earlier answers, gives the position `Index::chain` gives, and broken chains are
    /// reported.
    #[test]
    fn layer_of_agrees_with_the_chain_and_reports_broken_ones() {
        use crate::overlay::snapshots::Snap;
        let snap = |key: &str, id: u64, parent: Option<&str>| Snap {
            snapshotter: "overlayfs".into(),
            backend_key: key.into(),
            id: Some(id),
            kind: "Committed".into(),
            backend_parent: parent.map(str::to_string),
            size: None,
            inodes: None,
            created_at: None,
            names: Vec::new(),
            labels: Default::default(),
        };
        let mut snaps: Vec<Snap> = (0..40)
            .map(|i| {
                let parent = (i > 0).then(|| format!("s{}", i - 1));
                snap(&format!("s{i}"), i, parent.as_deref())
            })
            .collect();
        snaps.push(snap("b0", 100, Some("s9")));
        snaps.push(snap("b1", 101, Some("b0")));
        snaps.push(snap("orphan", 102, Some("gone")));
        snaps.push(snap("l0", 103, Some("l1")));
        snaps.push(snap("l1", 104, Some("l0")));
        let n = snaps.len();
        let index = Index::from_snaps(std::path::PathBuf::from("/r"), snaps);
        for target in 0..n {
            let mut layer_of = LayerOf::new(target);
            let mut stops = Vec::new();
            // Middle tops first, so that later walks stop at known snapshots.
            let order: Vec<usize> = (0..n)
                .filter(|i| i % 3 == 1)
                .chain((0..n).filter(|i| i % 3 != 1))
                .collect();
            for top in order {
                let want = index.chain(top).0.iter().position(|&i| i == target);
                assert_eq!(
                    layer_of.of(&index, top, Some(&mut stops)),
                    want,
                    "top {top}, target {target}"
                );
            }
            let notes: Vec<String> = stops.into_iter().map(|(_, stop)| stop).collect();
            assert!(
                notes.iter().any(|d| d.contains("orphan") && d.contains("gone")),
                "{notes:?}"
            );
            assert!(notes.iter().any(|d| d.contains("loops back")), "{notes:?}");
        }
    }

    #[test]
    fn snapshot_paths_split() {
        let root = Path::new("/x/var/lib/containerd");
        let split = |p: &str| split_snapshot_path(Path::new(p), root).unwrap();
        let p =
            split("/x/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/232/fs/usr/bin/x").unwrap();
        assert_eq!(p.snapshotter, "overlayfs");
        assert_eq!(p.id, 232);
        assert_eq!(p.area, "fs");
        assert_eq!(p.inner, b"/usr/bin/x");
        let w = split("/y/io.containerd.snapshotter.v1.overlayfs/snapshots/7/work/work").unwrap();
        assert_eq!(w.area, "work");
        assert!(w.inner.is_empty());
        assert!(split("/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/x/fs").is_none());
        assert!(split("/etc/passwd").is_none());
        let n = split("/y/io.containerd.snapshotter.v1.native/snapshots/3/etc").unwrap();
        assert_eq!(n.inner, b"/etc");
        // A containerd root inside a snapshot (kind, docker-in-docker): the node's snapshot 79
        // holds the file, not the inner root's snapshot 6...
        let nested = "/x/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/79/fs/\
                      var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/6/fs/etc/passwd";
        let o = split(nested).unwrap();
        assert_eq!(
            (o.id, o.inner.as_slice()),
            (
                79,
                &b"/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/6/fs/etc/passwd"[..]
            )
        );
        // ...unless that inner root is the one examined.
        let inner_root = Path::new(
            "/x/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/79/fs/var/lib/containerd",
        );
        let i = split_snapshot_path(Path::new(nested), inner_root).unwrap().unwrap();
        assert_eq!((i.id, i.inner.as_slice()), (6, &b"/etc/passwd"[..]));
        // Under the root but not in a snapshotter's directory.
        assert!(split("/x/var/lib/containerd/io.containerd.content.v1.content/io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs").is_none());
        // Only the names containerd gives: no leading zero or sign.
        for id in ["0079", "+79", "079"] {
            assert!(
                split(&format!(
                    "/y/io.containerd.snapshotter.v1.overlayfs/snapshots/{id}/fs/a"
                ))
                .is_none(),
                "{id}"
            );
        }
        assert_eq!(
            split("/y/io.containerd.snapshotter.v1.overlayfs/snapshots/0/fs").map(|s| s.id),
            Some(0)
        );
        // `..` is refused, not dropped (it used to read as snapshot 79's /etc/passwd).
        let up =
            "/x/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/79/fs/../../../../../etc/passwd";
        assert!(split_snapshot_path(Path::new(up), root).unwrap_err().contains("`..`"));
    }
}
