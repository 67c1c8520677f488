//! `coldctr which PATH` for a path in dockerd's overlay2 graph driver (Docker 20.10 to 27, 28
//! without the containerd image store): the layer dir, and whose it is by the layer store's
//! own records, never by a link followed.
//!
//! ```text
//! <docker-root>/overlay2/<dir>/{diff,merged,work,lower,link}   a layer dir (diff: its files;
//!                                                               merged: a running container's root)
//! <docker-root>/overlay2/<dir>-init/diff                       a container's init layer
//! <docker-root>/overlay2/l/<short>                             symlink "../<dir>/diff" (its text read)
//! <docker-root>/image/overlay2/layerdb/mounts/<container id>/{mount-id,init-id,parent}
//! <docker-root>/image/overlay2/layerdb/sha256/<chain id>/{cache-id,diff,parent}
//! ```

use super::layers::{Format, Node};
use super::{Failure, Outcome};
use crate::containers::docker::StoreProblems;
use crate::containers::files;
use crate::containers::graph_driver::{MAX_DEPTH, Repositories, is_layer_dir, linked_layer};
use crate::containers::graph_images::GraphImages;
use crate::text::escape;
use serde::Serialize;
use std::io::Write;
use std::path::{Component, Path};

/// The most a `mount-id`, `init-id`, `cache-id`, `diff` or `parent` file holds.
const ID_FILE_MAX: u64 = 256;

/// A path split at its overlay2 layer dir.
#[derive(Debug, PartialEq, Eq)]
pub struct GraphPath {
    /// The layer dir's name (`<id>` or `<id>-init`).
    pub layer: String,
    /// The `l/<short>` link the path went through, when it did (its text names the layer).
    pub link: Option<String>,
    /// `diff`, `merged`, `work`, another entry of the layer dir, or empty for the dir itself.
    pub area: String,
    /// The path inside `diff` or `merged`, `/`-rooted (empty elsewhere).
    pub inner: Vec<u8>,
}

/// Where `p` names `overlay2/<dir>` or `overlay2/l/<short>`, lexically: right under
/// `docker_root` when `p` is inside it, else the first such on the path (not `image/overlay2`,
/// the layer store). `(at, under_root)`: the index of the `overlay2` component.
fn find(parts: &[Vec<u8>], root_parts: &[Vec<u8>]) -> Option<(usize, bool)> {
    let names_layer = |i: usize| {
        parts
            .get(i + 1)
            .and_then(|n| std::str::from_utf8(n).ok())
            .is_some_and(is_layer_dir)
    };
    if !root_parts.is_empty() && parts.starts_with(root_parts) {
        let at = root_parts.len();
        if parts.get(at).is_some_and(|c| c == b"overlay2") && names_layer(at) {
            return Some((at, true));
        }
    }
    (0..parts.len())
        .find(|&i| {
            parts.get(i).is_some_and(|c| c == b"overlay2")
                && (i == 0 || parts.get(i - 1).is_none_or(|c| c != b"image"))
                && names_layer(i)
        })
        .map(|i| (i, false))
}

/// The path made absolute, its normal components as bytes (`.` and `..` as written dropped).
pub(super) fn components(p: &Path) -> Vec<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let whole = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    whole
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.as_bytes().to_vec()),
            _ => None,
        })
        .collect()
}

/// The overlay2 layer path in `p`, and whether it is right under `docker_root`. A link
/// `l/<short>` is answered by its text ([`linked_layer`]): `Err` when it names no layer dir.
pub fn split_graph_path(p: &Path, docker_root: &Path) -> Option<(Result<GraphPath, String>, bool)> {
    if p.components().any(|c| c == Component::ParentDir) {
        return None;
    }
    let parts = components(p);
    let root_parts = if docker_root.components().any(|c| c == Component::ParentDir) {
        Vec::new()
    } else {
        components(docker_root)
    };
    let (at, under) = find(&parts, &root_parts)?;
    let name = String::from_utf8_lossy(parts.get(at + 1)?).into_owned();
    let mut rest = parts.get(at + 2..).unwrap_or_default();
    let mut link = None;
    let layer = if name == "l" {
        let (short, tail) = rest.split_first()?;
        let short = String::from_utf8_lossy(short).into_owned();
        if !is_layer_dir(&short) {
            return None;
        }
        rest = tail;
        let found = linked_layer(docker_root, &format!("l/{short}"));
        let Some(layer) = found else {
            let at = docker_root.join("overlay2/l").join(&short);
            return Some((
                Err(format!(
                    "{}: not a symlink to ../<layer dir>/diff (none, or one elsewhere): no layer is named by it, and it is not followed",
                    escape(at.as_os_str().as_encoded_bytes())
                )),
                under,
            ));
        };
        link = Some(short);
        layer
    } else {
        name
    };
    let (area, inner_parts) = if link.is_some() {
        ("diff".to_string(), rest)
    } else {
        match rest.split_first() {
            Some((a, tail)) => (String::from_utf8_lossy(a).into_owned(), tail),
            None => (String::new(), rest),
        }
    };
    let mut inner = Vec::new();
    if area == "diff" || area == "merged" {
        inner.push(b'/');
        inner.extend_from_slice(&inner_parts.join(&b'/'));
    }
    Some((
        Ok(GraphPath {
            layer,
            link,
            area,
            inner,
        }),
        under,
    ))
}

#[derive(Serialize)]
struct GraphReport {
    driver: &'static str,
    /// The driver's home, `<docker-root>/overlay2`, on this disk.
    home: String,
    layer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    area: String,
    path: String,
    #[serde(rename = "pathHex", skip_serializing_if = "Option::is_none")]
    path_hex: Option<String>,
    /// The image layers whose `cache-id` names the dir (one, but in a damaged store).
    #[serde(rename = "imageLayers")]
    image_layers: Vec<ImageLayer>,
    /// Containers whose rw layer (`layer: 0`), init layer (`layer: 1`) or image (`layer: n`)
    /// the dir is.
    containers: Vec<GraphContainer>,
    /// Images whose top chain holds the layer.
    images: Vec<GraphImage>,
    /// Commands that answer for the path.
    commands: Vec<String>,
}

#[derive(Serialize, Clone)]
struct ImageLayer {
    #[serde(rename = "chainId")]
    chain_id: String,
    #[serde(rename = "diffId")]
    diff_id: Option<String>,
}

#[derive(Serialize)]
struct GraphContainer {
    id: String,
    name: Option<String>,
    /// `rw`, `init` or `image`.
    role: &'static str,
    layer: usize,
    /// The image layer's chain ID, for `role: image`.
    #[serde(rename = "chainId", skip_serializing_if = "Option::is_none")]
    chain_id: Option<String>,
}

#[derive(Serialize)]
struct GraphImage {
    id: String,
    names: Vec<String>,
    #[serde(rename = "chainId")]
    chain_id: String,
    layer: usize,
}

/// A container's records in the layer store.
struct MountRecord {
    id: String,
    mount_id: Option<String>,
    init_id: Option<String>,
    parent: Option<String>,
}

fn shown(p: &Path) -> String {
    escape(p.as_os_str().as_encoded_bytes())
}

/// The entries of a layer store directory (`mounts`, `sha256`) whose names are 64 hex:
/// sorted. A link on the way, or the directory a link, is damage; missing is none.
fn store_dir(docker_root: &Path, dir: &Path, problems: &mut StoreProblems) -> Vec<String> {
    if let Some((at, why)) = crate::paths::detour(docker_root, &dir.join("x")) {
        problems.damaged.push(format!("{}: {why}", shown(&at)));
        return Vec::new();
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if crate::containers::docker::not_there(&e) => return Vec::new(),
        Err(e) => {
            let said = format!("{}: {e}", shown(dir));
            if crate::damage::refused_by_system(&e) {
                problems.unreadable.push(said);
            } else {
                problems.damaged.push(said);
            }
            return Vec::new();
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.len() == 64 && n.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .take(MAX_STORE_ENTRIES + 1)
        .collect();
    if names.len() > MAX_STORE_ENTRIES {
        names.truncate(MAX_STORE_ENTRIES);
        problems.damaged.push(format!(
            "{}: more than {MAX_STORE_ENTRIES} entries; the rest not read",
            shown(dir)
        ));
    }
    names.sort();
    names
}

/// Entries of one layer store directory read at most (a node has thousands; each kept name
/// is 64 bytes): a directory of millions is not held whole.
const MAX_STORE_ENTRIES: usize = 1 << 20;

/// A small id file, trimmed; `None` when missing, said in `problems` when it does not read or
/// (with `check`) is not what the driver writes.
fn id_file(
    docker_root: &Path,
    path: &Path,
    check: fn(&str) -> bool,
    what: &str,
    problems: &mut StoreProblems,
) -> Option<String> {
    match files::read_small_below(docker_root, path, ID_FILE_MAX) {
        Ok(b) => {
            let text = String::from_utf8_lossy(&b).trim().to_string();
            if check(&text) {
                Some(text)
            } else {
                problems
                    .damaged
                    .push(format!("{}: {:?} is not {what}", shown(path), escape(text.as_bytes())));
                None
            }
        }
        Err(p) if p.missing => None,
        Err(p) => {
            if p.unreadable {
                problems.unreadable.push(p.message);
            } else {
                problems.damaged.push(p.message);
            }
            None
        }
    }
}

fn is_chain(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

fn is_plain_layer(s: &str) -> bool {
    is_layer_dir(s) && !s.ends_with("-init")
}

fn is_init_layer(s: &str) -> bool {
    is_layer_dir(s) && s.ends_with("-init")
}

/// The chain IDs from `top` down through the layer store's `parent` files, top first: at most
/// [`MAX_DEPTH`] + 1; a loop, a parent not there or not a chain ID ends it (said).
fn chain_down(docker_root: &Path, top: &str, problems: &mut StoreProblems) -> Vec<String> {
    let layers = docker_root.join("image/overlay2/layerdb/sha256");
    let mut out: Vec<String> = Vec::new();
    let mut at = Some(top.to_string());
    while let Some(chain) = at.take() {
        if out.contains(&chain) {
            problems
                .damaged
                .push(format!("{}: the parent links loop back to {chain}", shown(&layers)));
            break;
        }
        if out.len() > MAX_DEPTH {
            problems.damaged.push(format!(
                "{}: a chain of more than {MAX_DEPTH} layers below {top}",
                shown(&layers)
            ));
            break;
        }
        let Some(hex) = chain.strip_prefix("sha256:") else {
            break;
        };
        let dir = layers.join(hex);
        out.push(chain.clone());
        at = id_file(docker_root, &dir.join("parent"), is_chain, "a chain ID", problems);
    }
    out
}

/// `which` of a path in the overlay2 graph driver's home of `node.docker_root`.
pub fn which_graph(
    node: &mut Node,
    path: &Path,
    split: Result<GraphPath, String>,
    format: Format,
    out: &mut dyn Write,
) -> Result<Outcome, Failure> {
    let shown_path = escape(path.as_os_str().as_encoded_bytes());
    let gp = match split {
        Ok(gp) => gp,
        Err(why) => {
            node.problems.push(why);
            return Err(Failure::new(
                node.finish(Outcome::No),
                format!("{shown_path}: in the overlay2 driver's l/ links, through a link that names no layer"),
            ));
        }
    };
    let docker_root = node.docker_root.clone();
    let home = docker_root.join("overlay2");
    let mut problems = StoreProblems::default();

    // The layer dir itself: a real directory reached through real directories, or not the
    // driver's (never looked through).
    let dir = home.join(&gp.layer);
    let dir_state = match crate::paths::detour(&docker_root, &dir.join("x")) {
        Some((at, why)) => {
            problems.damaged.push(format!(
                "{}: {why}; the driver makes a directory there, so what it leads to is none of its layers",
                shown(&at)
            ));
            "not the driver's (see stderr)"
        }
        None => match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => "",
            Ok(_) => {
                problems.damaged.push(format!("{}: not a directory", shown(&dir)));
                "not a directory (see stderr)"
            }
            Err(e) if crate::containers::docker::not_there(&e) => "none on this disk",
            Err(e) => {
                problems.unreadable.push(format!("{}: {e}", shown(&dir)));
                "not readable (see stderr)"
            }
        },
    };

    // The layer store's records that name the dir.
    let store = docker_root.join("image/overlay2/layerdb");
    let mut mounts = Vec::new();
    for id in store_dir(&docker_root, &store.join("mounts"), &mut problems) {
        let d = store.join("mounts").join(&id);
        mounts.push(MountRecord {
            mount_id: id_file(
                &docker_root,
                &d.join("mount-id"),
                is_plain_layer,
                "a layer directory name",
                &mut problems,
            ),
            init_id: id_file(
                &docker_root,
                &d.join("init-id"),
                is_init_layer,
                "an init layer directory name",
                &mut problems,
            ),
            parent: id_file(&docker_root, &d.join("parent"), is_chain, "a chain ID", &mut problems),
            id,
        });
    }
    let mut image_layers = Vec::new();
    for hex in store_dir(&docker_root, &store.join("sha256"), &mut problems) {
        let d = store.join("sha256").join(&hex);
        let cache = id_file(
            &docker_root,
            &d.join("cache-id"),
            is_plain_layer,
            "a layer directory name",
            &mut problems,
        );
        if cache.as_deref() == Some(gp.layer.as_str()) {
            image_layers.push(ImageLayer {
                chain_id: format!("sha256:{hex}"),
                diff_id: id_file(&docker_root, &d.join("diff"), is_chain, "a diff ID", &mut problems),
            });
        }
    }

    let name_of = |id: &str| {
        node.containers
            .iter()
            .find(|c| c.id == id && c.source == "docker")
            .and_then(|c| c.name.clone())
    };
    let mut containers = Vec::new();
    for m in &mounts {
        if m.mount_id.as_deref() == Some(gp.layer.as_str()) {
            containers.push(GraphContainer {
                id: m.id.clone(),
                name: name_of(&m.id),
                role: "rw",
                layer: 0,
                chain_id: None,
            });
        }
        if m.init_id.as_deref() == Some(gp.layer.as_str()) {
            containers.push(GraphContainer {
                id: m.id.clone(),
                name: name_of(&m.id),
                role: "init",
                layer: 1,
                chain_id: None,
            });
        }
    }
    let owners = containers.len() + image_layers.len();
    if owners > 1 {
        let mut who: Vec<String> = containers
            .iter()
            .map(|c| format!("container {}'s {} layer", c.id, c.role))
            .collect();
        who.extend(image_layers.iter().map(|l| format!("image layer {}", l.chain_id)));
        problems.damaged.push(format!(
            "{}: named by {} records of the layer store ({}); the driver gives each layer a directory of its own, so the records are damaged",
            shown(&dir),
            owners,
            who.join(", ")
        ));
    }
    // Containers and images over an image layer.
    let mut images = Vec::new();
    if !image_layers.is_empty() {
        for m in &mounts {
            let Some(top) = &m.parent else { continue };
            let chain = chain_down(&docker_root, top, &mut problems);
            for l in &image_layers {
                if let Some(k) = chain.iter().position(|c| *c == l.chain_id) {
                    containers.push(GraphContainer {
                        id: m.id.clone(),
                        name: name_of(&m.id),
                        role: "image",
                        layer: k + 2,
                        chain_id: (image_layers.len() > 1).then(|| l.chain_id.clone()),
                    });
                }
            }
        }
        let repositories = Repositories::read(&docker_root, "overlay2", &mut problems);
        let db = GraphImages::open_driver(&docker_root, "", "overlay2");
        let chains_of = db.as_ref().map(GraphImages::layer_chains).unwrap_or_default();
        if let Some(db) = db {
            let said = db.take_image_problems();
            problems.damaged.extend(said.damaged);
            problems.unreadable.extend(said.unreadable);
        }
        for (id, chains) in chains_of {
            for l in &image_layers {
                if let Some(k) = chains.iter().position(|c| *c == l.chain_id) {
                    images.push(GraphImage {
                        names: repositories.as_ref().map(|r| r.names_of(&id)).unwrap_or_default(),
                        id: id.clone(),
                        chain_id: l.chain_id.clone(),
                        layer: chains.len() - 1 - k,
                    });
                }
            }
        }
    }
    if owners > 0 && dir_state == "none on this disk" {
        problems
            .damaged
            .push(format!("{}: not there, and the layer store names it", shown(&dir)));
    }

    // What answers for the path.
    let inner = escape(&gp.inner);
    let mut commands = Vec::new();
    for c in &containers {
        let id = &c.id;
        match (c.role, gp.area.as_str()) {
            ("rw", "diff" | "merged") => {
                commands.push(format!("coldctr fs ls {id}:{inner}"));
                commands.push(format!("coldctr diff {id}"));
            }
            ("rw", _) => commands.push(format!("coldctr diff {id}")),
            (_, "diff") => commands.push(format!("coldctr fs ls {id}:{inner}")),
            _ => {}
        }
        let m = format!("coldctr mounts {id}");
        if !commands.contains(&m) {
            commands.push(m);
        }
    }

    node.problems.extend(problems.damaged);
    node.unreadable.extend(problems.unreadable);

    let report = GraphReport {
        driver: "overlay2",
        home: home.display().to_string(),
        layer: gp.layer.clone(),
        link: gp.link.clone(),
        area: gp.area.clone(),
        path: String::from_utf8_lossy(&gp.inner).into_owned(),
        path_hex: std::str::from_utf8(&gp.inner).is_err().then(|| hex::encode(&gp.inner)),
        image_layers,
        containers,
        images,
        commands,
    };
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report).map_err(|e| Failure::from(std::io::Error::from(e)))?;
            writeln!(out)?;
        }
        Format::Table => write_table(&report, &gp, dir_state, out)?,
    }
    let outcome = if owners == 0 { Outcome::No } else { Outcome::Ok };
    Ok(node.finish(outcome))
}

fn write_table(report: &GraphReport, gp: &GraphPath, dir_state: &str, out: &mut dyn Write) -> std::io::Result<()> {
    let area = match gp.area.as_str() {
        "diff" => "files (diff)".to_string(),
        "merged" => "the mounted root (merged: every layer of the stack, while it runs)".to_string(),
        "work" => "overlayfs work dir (not content)".to_string(),
        "" => "the layer directory".to_string(),
        other => format!("{} (the driver's metadata, not content)", escape(other.as_bytes())),
    };
    writeln!(out, "driver:       overlay2 (dockerd's graph driver), {}", report.home)?;
    let via = gp
        .link
        .as_deref()
        .map(|l| format!(" (through link l/{})", escape(l.as_bytes())))
        .unwrap_or_default();
    let state = if dir_state.is_empty() {
        String::new()
    } else {
        format!(" (directory: {dir_state})")
    };
    writeln!(out, "layer:        {}{via}{state}", escape(gp.layer.as_bytes()))?;
    writeln!(out, "area:         {area}")?;
    if gp.area == "diff" || gp.area == "merged" {
        writeln!(out, "path:         {}", escape(&gp.inner))?;
    }
    for l in &report.image_layers {
        writeln!(out, "image layer:  chain ID {}", l.chain_id)?;
        writeln!(
            out,
            "diff ID:      {}",
            l.diff_id.as_deref().unwrap_or("unknown (no diff file)")
        )?;
    }
    for c in &report.containers {
        let name = c
            .name
            .as_deref()
            .map(|n| format!(" ({})", escape(n.as_bytes())))
            .unwrap_or_default();
        let role = match c.role {
            "rw" if gp.area == "merged" => "its rw layer; merged is its mounted root while it runs".to_string(),
            "rw" => "its rw layer".to_string(),
            "init" => "its init layer (layer 1 below its rw layer)".to_string(),
            _ => format!(
                "layer {} below its rw layer (its image's){}",
                c.layer,
                c.chain_id.as_deref().map(|ch| format!(", as {ch}")).unwrap_or_default()
            ),
        };
        writeln!(out, "container:    {}{name} [docker]: {role}", c.id)?;
    }
    for i in &report.images {
        let names = if i.names.is_empty() {
            "(no name)".to_string()
        } else {
            i.names
                .iter()
                .map(|n| escape(n.as_bytes()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let role = if i.layer == 0 {
            "its top layer".to_string()
        } else {
            format!("layer {} below its top", i.layer)
        };
        writeln!(out, "image:        {names} {}: {role}", i.id)?;
    }
    if report.containers.is_empty() {
        writeln!(out, "container:    none")?;
    }
    if report.images.is_empty() {
        writeln!(out, "image:        none")?;
    }
    if report.image_layers.is_empty() && report.containers.is_empty() {
        writeln!(
            out,
            "record:       none: no mount-id, init-id or cache-id of the layer store names {}",
            escape(gp.layer.as_bytes())
        )?;
    }
    for c in &report.commands {
        writeln!(out, "command:      {c}")?;
    }
    Ok(())
}

/// The dir a path names, for tests.
#[cfg(test)]
fn split(p: &str, root: &str) -> Option<GraphPath> {
    split_graph_path(Path::new(p), Path::new(root)).and_then(|(r, _)| r.ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_paths_split() {
        let id = "a".repeat(64);
        let p = split(
            &format!("/d/var/lib/docker/overlay2/{id}/diff/etc/x"),
            "/d/var/lib/docker",
        )
        .unwrap();
        assert_eq!(
            p,
            GraphPath {
                layer: id.clone(),
                link: None,
                area: "diff".into(),
                inner: b"/etc/x".to_vec()
            }
        );
        let m = split(&format!("/else/overlay2/{id}-init/merged"), "/d").unwrap();
        assert_eq!(
            (m.layer.as_str(), m.area.as_str(), m.inner.as_slice()),
            (&*format!("{id}-init"), "merged", &b"/"[..])
        );
        let w = split(&format!("/else/overlay2/{id}/work/work"), "/d").unwrap();
        assert_eq!((w.area.as_str(), w.inner.len()), ("work", 0));
        // The layer store is not a layer dir; `..` is not read here.
        assert!(split("/d/image/overlay2/layerdb/mounts/x", "/d").is_none());
        assert!(split(&format!("/d/overlay2/{id}/../x"), "/d").is_none());
        assert!(split("/etc/passwd", "/d").is_none());
    }
}
