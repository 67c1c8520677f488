//! Docker's stores on a graph driver node (dockerd without the containerd image store, e.g.
//! `overlay2`): image names from its reference store, and a container's layer dirs from its
//! layer store, for `ps` and `container inspect`.
//!
//! ```text
//! <docker-root>/image/<driver>/repositories.json
//!     {"Repositories":{"<familiar name>":{"<familiar name:tag | name@digest>":"sha256:<image id>"}}}
//! <docker-root>/image/overlay2/layerdb/mounts/<container id>/mount-id   the rw layer's dir name
//! <docker-root>/overlay2/<mount id>/lower      "l/<short>:l/<short>..." (the init layer first)
//! <docker-root>/overlay2/l/<short>             symlink "../<layer dir>/diff" (read, never followed)
//! ```
//!
//! Built from moby's layout (`reference/store.go`, `daemon/graphdriver/overlay2`); no capture of
//! a live graph driver node backs it here.

use super::docker::StoreProblems;
use super::files;
use crate::image::goshape::{self, Shape};
use crate::inspect::gojson::{self, J};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A graph driver name usable as one path component (`overlay2`, `btrfs`, `zfs`, `vfs`...).
pub(crate) fn is_driver_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The `repositories.json` of the graph-driver image store of the Docker data root found for
/// `containerd_root` (as `ps` finds it), when there is one: a dockerd 20.10 to 27 (or 28 without
/// the containerd image store) keeps its images there, not in containerd's records, so a
/// listing of those finds none (sweep 34.7).
pub fn graph_image_store(containerd_root: &Path, given: Option<&Path>) -> Option<PathBuf> {
    let docker = super::docker::locate(containerd_root, given);
    let images = docker.path()?.join("image");
    // Only a directory of the data root's own, not one a symlink points at.
    if !std::fs::symlink_metadata(&images).is_ok_and(|m| m.is_dir()) {
        return None;
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(&images)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(is_driver_name))
        .map(|e| e.path().join("repositories.json"))
        .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
        .collect();
    found.sort();
    found.into_iter().next()
}

/// moby's `refstore.refStore` as `repositories.json` has it (`daemon/internal/refstore`):
/// `Repositories map[string]repository`, `repository` a `map[string]digest.Digest`. Its other
/// fields are unexported.
static REFERENCE_STORE: Shape = Shape::Struct(
    "refstore.refStore",
    &[(
        "Repositories",
        Shape::Map(&Shape::Map(&Shape::Named("digest.Digest", &Shape::Str))),
    )],
);

/// The most a `repositories.json` may hold (one entry per tag and digest of every image).
const MAX_REPOSITORIES: u64 = 64 << 20;

/// Docker's own reference store on a graph driver node (no containerd image store):
///
/// ```text
/// <docker-root>/image/<driver>/repositories.json
///     {"Repositories":{"<familiar name>":{"<familiar name:tag or @digest>":"sha256:<image id>"}}}
/// ```
pub struct Repositories {
    doc: J,
    /// The references of each image ID, in the store's order: built on first use (one pass
    /// over the store, where a scan an image was images x references).
    by_id: std::sync::OnceLock<HashMap<String, Vec<String>>>,
}

impl Repositories {
    fn of(doc: J) -> Repositories {
        Repositories {
            doc,
            by_id: std::sync::OnceLock::new(),
        }
    }

    /// The store of the graph driver `driver`; `None` when the node has none (a node on the
    /// containerd image store), a problem when it does not read.
    pub fn read(docker_root: &Path, driver: &str, problems: &mut StoreProblems) -> Option<Repositories> {
        if !is_driver_name(driver) {
            return None;
        }
        let dir = docker_root.join("image").join(driver);
        if !std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            return None;
        }
        let path = dir.join("repositories.json");
        match files::read_small_below(docker_root, &path, MAX_REPOSITORIES) {
            Ok(bytes) => Repositories::from_bytes(&path, &bytes, problems),
            Err(p) if p.missing => None,
            Err(p) => {
                problems.file(p);
                None
            }
        }
    }

    /// The store from the bytes of its `repositories.json` at `path` (named in the problem
    /// when they are not JSON). What [`Repositories::read`] does once the file is read.
    /// A text that could take more than [`files::MAX_PARSED`] of memory as a tree is refused,
    /// as the container files are: 64 MiB of `0,` would be 1.6 GB parsed.
    pub fn from_bytes(path: &Path, bytes: &[u8], problems: &mut StoreProblems) -> Option<Repositories> {
        if let Err(p) = files::check_parsed_size(path, bytes) {
            problems.file(p);
            return None;
        }
        match gojson::parse_as_go(bytes) {
            Ok(j) => Some(Repositories::decoded(path, &j, problems)),
            Err(e) => {
                problems.damaged.push(format!(
                    "{}: not JSON: {e}",
                    crate::text::escape(path.as_os_str().as_encoded_bytes())
                ));
                None
            }
        }
    }

    /// The store as dockerd's `json.Decoder` leaves it given the document `doc` (keys matched
    /// without regard to case, a repeated key decoded again). A value of another type than
    /// moby's (`{"Repositories":[]}`, `[]`, a number for an image ID) makes
    /// `NewReferenceStore` fail and dockerd not start, and a document `null` sets the store
    /// to nil, on which its `reload` fails: said, and no name is resolved (IMAGE is then the
    /// image ID), where they were taken for a store without names, silently (sweep 32).
    fn decoded(path: &Path, doc: &J, problems: &mut StoreProblems) -> Repositories {
        let shown = || crate::text::escape(path.as_os_str().as_encoded_bytes());
        let unloaded =
            "dockerd does not load its reference store (it does not start), so no image name is read from it";
        if matches!(doc, J::Null) {
            problems
                .damaged
                .push(format!("{}: null, not an object; {unloaded}", shown()));
            return Repositories::of(J::Obj(Vec::new()));
        }
        let (store, refused) = goshape::unmarshal_all(doc, &REFERENCE_STORE, "refstore.refStore");
        match refused.first() {
            None => Repositories::of(store),
            Some(r) => {
                let what = if r.field.is_empty() {
                    "the document".to_string()
                } else {
                    r.field.clone()
                };
                problems.damaged.push(format!(
                    "{}: {what} is {}, not {} ({}); {unloaded}",
                    shown(),
                    r.shown,
                    r.wanted,
                    r.go
                ));
                Repositories::of(J::Obj(Vec::new()))
            }
        }
    }

    /// The image ID `reference` names, as moby's reference store finds it (`store.Get`): the
    /// familiar name, then the familiar name with its tag (`latest` when none) or its digest
    /// (a tag beside a digest is dropped: the digest is looked up).
    pub fn resolve(&self, reference: &str) -> Option<String> {
        let named = crate::image::reference::parse_normalized_named(reference)
            .ok()?
            .docker_ref();
        self.doc
            .at(&["Repositories", &named.familiar_name(), &named.familiar()])
            .and_then(J::as_str)
            .map(str::to_string)
    }
}

impl Repositories {
    /// Every reference the store maps to image `id` (`sha256:<hex>`): `name:tag` and
    /// `name@digest`, familiar, in the store's order.
    pub fn names_of(&self, id: &str) -> Vec<String> {
        let by_id = self.by_id.get_or_init(|| {
            let mut index: HashMap<String, Vec<String>> = HashMap::new();
            if let Some(repos) = self.doc.at(&["Repositories"]) {
                for (name, image) in repos.members().iter().flat_map(|(_, refs)| refs.members().iter()) {
                    if let Some(image) = image.as_str() {
                        index.entry(image.to_string()).or_default().push(name.clone());
                    }
                }
            }
            index
        });
        by_id.get(id).cloned().unwrap_or_default()
    }
}

/// What `docker ps` shows as IMAGE on a graph driver node: the name as given while the
/// reference store still maps it to the container's image (or it is a prefix of that image's
/// ID), else the ID.
pub fn shown_image(given: &str, id: &str, repositories: &Repositories) -> String {
    if given.is_empty() || given == id {
        return id.to_string();
    }
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    let short = given.strip_prefix("sha256:").unwrap_or(given);
    let is_prefix = short.len() >= 4 && short.bytes().all(|b| b.is_ascii_hexdigit()) && hex.starts_with(short);
    if is_prefix || repositories.resolve(given).as_deref() == Some(id) {
        given.to_string()
    } else {
        id.to_string()
    }
}

/// `GraphDriver.Data` of an `overlay2` container, as dockerd's overlay2 driver derives it from
/// its layer store:
///
/// ```text
/// <docker-root>/image/overlay2/layerdb/mounts/<container id>/mount-id   the rw layer's dir name
/// <docker-root>/overlay2/<mount id>/lower      "l/<short>:l/<short>..." (the init layer first)
/// <docker-root>/overlay2/l/<short>             symlink "../<layer dir>/diff" (read, not followed)
/// ```
///
/// Paths are printed under the node's own data root (`node_root`). `None` when the layer
/// store does not have the container, or dockerd's driver would have no metadata of its
/// layer: damage (dockerd's inspect of it fails, `RWLayer ... unexpectedly nil` or the
/// driver's error), but for a container marked `dead`, whose layer may be gone (dockerd's
/// inspect then prints `Data` null and says nothing).
pub fn overlay2_data(
    docker_root: &Path,
    node_root: &str,
    id: &str,
    dead: bool,
    problems: &mut StoreProblems,
) -> Option<J> {
    let shown = |p: &Path| crate::text::escape(p.as_os_str().as_encoded_bytes());
    let mount_file = docker_root
        .join("image/overlay2/layerdb/mounts")
        .join(id)
        .join("mount-id");
    let mount_id = match files::read_small_below(docker_root, &mount_file, 256) {
        // Bytes that are not UTF-8 name no layer dir either: said below as any other value
        // that is not one (dockerd's `isValidID` refuses them; they were dropped silently).
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        // The layer store's `loadMount` needs it: without, the container has no rw layer.
        Err(p) if p.missing => {
            if !dead {
                problems.damaged.push(format!(
                    "{}: not there; dockerd's layer store loads no rw layer for the container without it",
                    shown(&mount_file)
                ));
            }
            return None;
        }
        Err(p) => {
            problems.file(p);
            return None;
        }
    };
    layer_data(docker_root, node_root, mount_id.trim(), &mount_file, dead, problems)
}

/// `GraphDriver.Data` of the overlay2 layer dir `layer` (a container's mount ID, an image
/// layer's cache ID), named by the file `named_by`: the overlay2 driver's `GetMetadata`.
/// `None` when the driver would have no metadata of it (said, but when `quiet_if_gone` and
/// the dir is not there).
pub(crate) fn layer_data(
    docker_root: &Path,
    node_root: &str,
    layer: &str,
    named_by: &Path,
    quiet_if_gone: bool,
    problems: &mut StoreProblems,
) -> Option<J> {
    let shown = |p: &Path| crate::text::escape(p.as_os_str().as_encoded_bytes());
    let mount_id = layer;
    if !is_layer_dir(mount_id) {
        problems
            .damaged
            .push(format!("{}: not a layer directory name", shown(named_by)));
        return None;
    }
    // The driver's `GetMetadata` stats the layer dir first: the dirs of one that is not there
    // are no answer (they were printed as if it were).
    let layer_dir = docker_root.join("overlay2").join(mount_id);
    match std::fs::symlink_metadata(&layer_dir) {
        Ok(_) => {}
        Err(e) if super::docker::not_there(&e) => {
            if !quiet_if_gone {
                problems.damaged.push(format!(
                    "{}: not there, but {} names it; dockerd's overlay2 driver has no metadata of the layer",
                    shown(&layer_dir),
                    shown(named_by)
                ));
            }
            return None;
        }
        Err(e) => {
            let said = format!("{}: {e}", shown(&layer_dir));
            if crate::damage::refused_by_system(&e) {
                problems.unreadable.push(said);
            } else {
                problems.damaged.push(said);
            }
            return None;
        }
    }
    let home = format!("{node_root}/overlay2");
    let dir = format!("{home}/{mount_id}");
    let mut data = Vec::new();
    let lower_file = layer_dir.join("lower");
    match files::read_small_below(docker_root, &lower_file, 1 << 20) {
        Ok(b) => {
            let text = String::from_utf8_lossy(&b).into_owned();
            let mut lowers = Vec::new();
            // A layer with no parent has no lower file (below). One that is there but empty
            // is one empty entry to dockerd's `getLowerDirs`, whose readlink of the driver's
            // home fails (EINVAL): its LowerDir was dropped without a word.
            if text.trim().is_empty() {
                problems.damaged.push(format!(
                    "{}: empty, so it names no layer; dockerd's overlay2 driver fails to read it",
                    shown(&lower_file)
                ));
            }
            // An empty entry (`l/A::l/B`) names no link either: said below, as dockerd fails on it.
            let entries = text.trim();
            let count = if entries.is_empty() {
                0
            } else {
                entries.split(':').count()
            };
            // More than the driver ever chains: said once, and neither resolved nor printed
            // (10,000 entries were a line of 900 kB, each one looked up).
            if count > MAX_DEPTH {
                problems.damaged.push(format!(
                    "{}: {count} lower layers, more than overlay2 chains ({MAX_DEPTH}, its maxDepth); LowerDir not printed",
                    shown(&lower_file)
                ));
            }
            for short in entries.split(':').filter(|_| count > 0 && count <= MAX_DEPTH) {
                match linked_layer(docker_root, short) {
                    // The layer below a layer is never itself: LowerDir would hold its
                    // UpperDir. Printed as dockerd would print it, and said.
                    Some(layer) if layer == mount_id => {
                        problems.damaged.push(format!(
                            "{}: lower {:?} names the layer itself ({mount_id}): its UpperDir would be one of its LowerDirs, which no overlay2 chain has",
                            shown(&lower_file),
                            crate::text::escape(short.as_bytes())
                        ));
                        lowers.push(format!("{home}/{layer}/diff"));
                    }
                    Some(layer) => lowers.push(format!("{home}/{layer}/diff")),
                    None => {
                        problems.damaged.push(format!(
                            "{}: lower {:?} does not name a layer through overlay2/l",
                            crate::text::escape(lower_file.as_os_str().as_encoded_bytes()),
                            crate::text::escape(short.as_bytes())
                        ));
                    }
                }
            }
            if !lowers.is_empty() {
                data.push(("LowerDir".to_string(), J::Str(lowers.join(":"))));
            }
        }
        // The lowest layer has none, and `getLowerDirs` none of it (no LowerDir).
        Err(p) if p.missing => {}
        Err(p) => problems.file(p),
    }
    // Go's map[string]string: keys sorted.
    data.push(("MergedDir".into(), J::Str(format!("{dir}/merged"))));
    data.push(("UpperDir".into(), J::Str(format!("{dir}/diff"))));
    data.push(("WorkDir".into(), J::Str(format!("{dir}/work"))));
    Some(J::Obj(data))
}

/// The layer dir an entry of a `lower` file (`l/<short>`) names: the text of the symlink
/// `overlay2/l/<short>`, which the driver writes as `../<layer dir>/diff`, read by name and
/// never followed. `None` for an entry that is no link name, a link reached through a symlink
/// or not there, and a link whose text is anything else (a link elsewhere is damage).
pub(crate) fn linked_layer(docker_root: &Path, entry: &str) -> Option<String> {
    let link = entry.strip_prefix("l/").filter(|s| is_layer_dir(s))?;
    let path = docker_root.join("overlay2/l").join(link);
    if crate::paths::detour(docker_root, &path).is_some() {
        return None;
    }
    let target = std::fs::read_link(path).ok()?;
    target
        .to_str()?
        .strip_prefix("../")
        .and_then(|t| t.strip_suffix("/diff"))
        .filter(|d| is_layer_dir(d))
        .map(str::to_string)
}

/// overlay2's `maxDepth`: the driver's `getLower` refuses to make a layer with more lower
/// layers than this (moby `daemon/graphdriver/overlay2/overlay.go`).
pub(crate) const MAX_DEPTH: usize = 128;

/// An overlay2 layer dir or link name: 64 hex (and `-init`), or a 26-character link name.
pub(crate) fn is_layer_dir(s: &str) -> bool {
    let base = s.strip_suffix("-init").unwrap_or(s);
    !base.is_empty() && base.len() <= 128 && base.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_resolve_like_mobys_reference_store() {
        let dd = format!("sha256:{}", "d".repeat(64));
        let r = Repositories::of(
            gojson::parse(
                format!(
                    r#"{{"Repositories":{{"alpine":{{"alpine:3.19":"sha256:aa","alpine@{dd}":"sha256:aa"}},
                    "example.org:5000/team/app":{{"example.org:5000/team/app:latest":"sha256:bb"}}}}}}"#
                )
                .as_bytes(),
            )
            .unwrap(),
        );
        assert_eq!(r.resolve("alpine:3.19").as_deref(), Some("sha256:aa"));
        assert_eq!(
            r.names_of("sha256:aa"),
            ["alpine:3.19".to_string(), format!("alpine@{dd}")]
        );
        assert!(r.names_of("sha256:cc").is_empty());
        assert_eq!(r.resolve("docker.io/library/alpine:3.19").as_deref(), Some("sha256:aa"));
        assert_eq!(r.resolve(&format!("alpine@{dd}")).as_deref(), Some("sha256:aa"));
        assert_eq!(r.resolve("example.org:5000/team/app").as_deref(), Some("sha256:bb"));
        assert_eq!(r.resolve("alpine"), None);
        assert_eq!(shown_image("alpine:3.19", "sha256:aa", &r), "alpine:3.19");
        // Re-tagged away: the ID.
        assert_eq!(shown_image("alpine:3.19", "sha256:cc", &r), "sha256:cc");
        // A short ID as given stays.
        let id = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(shown_image("abab", &id, &r), "abab");
    }

    #[test]
    fn a_repositories_json_too_big_to_parse_is_named_not_parsed() {
        // 8 MiB of `0,`: 4 Mi values, each a tree node costing far more than its two bytes.
        let mut text = b"{\"Repositories\":{\"a\":[".to_vec();
        text.extend(b"0,".repeat(4 << 20));
        text.extend(b"0]}}");
        let mut problems = StoreProblems::default();
        let path = Path::new("/d/image/overlay2/repositories.json");
        assert!(Repositories::from_bytes(path, &text, &mut problems).is_none());
        assert_eq!(problems.damaged.len(), 1, "{:?}", problems.damaged);
        let said = problems.damaged.first().unwrap();
        assert!(
            said.starts_with("/d/image/overlay2/repositories.json: ") && said.ends_with("; not read"),
            "{said}"
        );
        // A small one still reads.
        let mut problems = StoreProblems::default();
        assert!(Repositories::from_bytes(path, br#"{"Repositories":{}}"#, &mut problems).is_some());
        assert!(problems.damaged.is_empty());
    }

    #[test]
    fn overlay2_data_from_the_layer_store() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let cid = "c".repeat(64);
        let mount = "m".repeat(64);
        std::fs::create_dir_all(root.join("image/overlay2/layerdb/mounts").join(&cid)).unwrap();
        std::fs::write(
            root.join("image/overlay2/layerdb/mounts").join(&cid).join("mount-id"),
            &mount,
        )
        .unwrap();
        std::fs::create_dir_all(root.join("overlay2/l")).unwrap();
        std::fs::create_dir_all(root.join("overlay2").join(&mount)).unwrap();
        std::fs::write(root.join("overlay2").join(&mount).join("lower"), "l/AAAA:l/BBBB:l/EVIL").unwrap();
        std::os::unix::fs::symlink(format!("../{mount}-init/diff"), root.join("overlay2/l/AAAA")).unwrap();
        std::os::unix::fs::symlink(format!("../{}/diff", "b".repeat(64)), root.join("overlay2/l/BBBB")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("overlay2/l/EVIL")).unwrap();
        let mut problems = StoreProblems::default();
        let data = overlay2_data(root, "/var/lib/docker", &cid, false, &mut problems).unwrap();
        assert_eq!(
            data.to_compact(false),
            format!(
                r#"{{"LowerDir":"/var/lib/docker/overlay2/{mount}-init/diff:/var/lib/docker/overlay2/{b}/diff","MergedDir":"/var/lib/docker/overlay2/{mount}/merged","UpperDir":"/var/lib/docker/overlay2/{mount}/diff","WorkDir":"/var/lib/docker/overlay2/{mount}/work"}}"#,
                b = "b".repeat(64)
            )
        );
        assert_eq!(problems.damaged.len(), 1, "{:?}", problems.damaged);
        assert!(overlay2_data(root, "/var/lib/docker", &"d".repeat(64), false, &mut problems).is_none());
    }
}
