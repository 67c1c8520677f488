//! `ps --filter ancestor=IMAGE` as dockerd answers it (`daemon/list.go`, `foldFilter`): each
//! value resolved to an image (`GetImage`; a value that names none is skipped, with a warning
//! in dockerd's log), that image and all its descendants (`Children`, recursively) collected,
//! and a Docker container kept when its image ID is one of them (none when no value resolved).
//!
//! Where the images and their parent links are:
//!
//! ```text
//! graph driver (dockerd 20.10 to 27, no containerd image store):
//!   <docker-root>/image/<driver>/repositories.json                 names (graph_driver.rs)
//!   <docker-root>/image/<driver>/imagedb/content/sha256/<hex>      image configs (the ID is
//!                                                                   the sha256 of the bytes)
//!   <docker-root>/image/<driver>/imagedb/metadata/sha256/<hex>/parent   "sha256:<parent hex>"
//!   <docker-root>/image/<driver>/layerdb/sha256/<chain id hex>/    the image's top layer
//! containerd image store (dockerd 28): the image records of namespace moby, a child being a
//!   record whose label org.mobyproject.image.parent is the parent's ID (Inspector::image_children)
//! ```

use super::docker::StoreProblems;
use super::files;
use crate::image::reference::is_hex64;
use crate::inspect::gojson::{self, J};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The most image configs read from one imagedb (a node has hundreds, a builder thousands).
const MAX_IMAGES: usize = 100_000;

/// The largest image config read (dockerd's have a history entry per build step: kilobytes).
const MAX_CONFIG: u64 = 16 << 20;

/// A `parent` file holds `sha256:` and 64 hex; anything longer names no image.
const MAX_PARENT: u64 = 4096;

/// A loop met in the parent links: `child`'s parent is `parent`, which descends from `child`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loop {
    pub parent: String,
    pub child: String,
}

/// dockerd's `populateImageFilterByParents`: `root` and everything below it through
/// `children`, into `set`. An image already in `set` (from an earlier value) is not walked
/// again. dockerd marks an image only once its children are done, so a loop in the links
/// recurses without end there (its stack overflows and the daemon dies); here the walk keeps
/// a stack of its own, goes round a loop once, and returns the link that closed it.
pub fn add_family(set: &mut HashSet<String>, root: &str, children: &mut dyn FnMut(&str) -> Vec<String>) -> Vec<Loop> {
    let mut loops = Vec::new();
    if set.contains(root) {
        return loops;
    }
    // (image, its children not yet visited), the path from the root down.
    let mut stack: Vec<(String, std::vec::IntoIter<String>)> = Vec::new();
    let mut on_path: HashSet<String> = HashSet::new();
    let mut kids = children(root);
    kids.sort();
    kids.dedup();
    on_path.insert(root.to_string());
    stack.push((root.to_string(), kids.into_iter()));
    while let Some((id, rest)) = stack.last_mut() {
        match rest.next() {
            Some(child) => {
                if set.contains(&child) {
                    continue;
                }
                if on_path.contains(&child) {
                    loops.push(Loop {
                        parent: id.clone(),
                        child,
                    });
                    continue;
                }
                let mut kids = children(&child);
                kids.sort();
                kids.dedup();
                on_path.insert(child.clone());
                stack.push((child, kids.into_iter()));
            }
            None => {
                let done = id.clone();
                stack.pop();
                on_path.remove(&done);
                set.insert(done);
            }
        }
    }
    loops
}

/// dockerd's image store on a graph driver node (`image/store.go`), as it stands after its
/// `restore`: the images it loaded, each with its parent, and how to find one by ID.
pub struct ImageDb {
    docker_root: PathBuf,
    /// `<docker-root>/image/<driver>/imagedb`.
    dir: PathBuf,
    /// The images dockerd loads at start (`is.images`), by hex, with their parent ID as the
    /// `parent` file says it (raw: dockerd does not check it).
    restored: BTreeMap<String, Option<String>>,
    /// Children by parent ID (`sha256:<hex>`), in ID order.
    children: HashMap<String, Vec<String>>,
    /// The restored images' `rootfs.diff_ids`, by hex, bottom first.
    diff_ids: BTreeMap<String, Vec<String>>,
}

impl ImageDb {
    /// The image store of graph driver `driver`: every config under `imagedb/content/sha256`
    /// that dockerd would load (its name a sha256, its bytes hashing to it, JSON with a
    /// `rootfs`, its top layer in the layer store), what is not being said in `problems`.
    pub fn read(docker_root: &Path, driver: &str, problems: &mut StoreProblems) -> ImageDb {
        let dir = docker_root.join("image").join(driver).join("imagedb");
        let mut db = ImageDb {
            docker_root: docker_root.to_path_buf(),
            dir: dir.clone(),
            restored: BTreeMap::new(),
            children: HashMap::new(),
            diff_ids: BTreeMap::new(),
        };
        let content = dir.join("content/sha256");
        let shown = |p: &Path| crate::text::escape(p.as_os_str().as_encoded_bytes());
        if let Some((at, why)) = crate::paths::detour(docker_root, &content) {
            problems.damaged.push(format!("{}: {why}", shown(&at)));
            return db;
        }
        let entries = match std::fs::read_dir(&content) {
            Ok(rd) => rd,
            Err(e) if super::docker::not_there(&e) => return db,
            Err(e) => {
                let said = format!("{}: {e}", shown(&content));
                if crate::damage::refused_by_system(&e) {
                    problems.unreadable.push(said);
                } else {
                    problems.damaged.push(said);
                }
                return db;
            }
        };
        let mut names = Vec::new();
        for entry in entries {
            let Ok(entry) = entry else { continue };
            // dockerd's Walk skips a name that is not a sha256 digest's hex (a debug log).
            if let Some(name) = entry.file_name().to_str().filter(|n| is_hex64(n)) {
                names.push(name.to_string());
            }
            if names.len() > MAX_IMAGES {
                problems.damaged.push(format!(
                    "{}: more than {MAX_IMAGES} images; the rest not read",
                    shown(&content)
                ));
                break;
            }
        }
        names.sort();
        for hex in names {
            match db.config(&hex) {
                Ok(config) => {
                    if let Some(why) = db.unrestorable(&config) {
                        problems.damaged.push(format!(
                            "{}: {why}; dockerd does not load the image",
                            shown(&content.join(&hex))
                        ));
                        continue;
                    }
                    let parent = db.parent(&hex, problems);
                    db.diff_ids.insert(hex.clone(), rootfs_diff_ids(&config));
                    db.restored.insert(hex, parent);
                }
                Err(p) => {
                    let said = format!("{p}; dockerd does not load the image");
                    if p.unreadable {
                        problems.unreadable.push(said);
                    } else {
                        problems.damaged.push(said);
                    }
                }
            }
        }
        for (hex, parent) in &db.restored {
            if let Some(p) = parent
                && p.strip_prefix("sha256:").is_some_and(|h| db.restored.contains_key(h))
            {
                db.children.entry(p.clone()).or_default().push(format!("sha256:{hex}"));
            }
        }
        db
    }

    /// dockerd's `fs.Get` and `NewFromJSON`: the config `hex` names, read, checked against
    /// its name, decoded, with a `rootfs`.
    fn config(&self, hex: &str) -> Result<J, files::FileProblem> {
        let path = self.dir.join("content/sha256").join(hex);
        let shown = || crate::text::escape(path.as_os_str().as_encoded_bytes());
        let bad = |message: String| files::FileProblem {
            message: format!("{}: {message}", shown()),
            unreadable: false,
            missing: false,
        };
        let bytes = files::read_small_below(&self.docker_root, &path, MAX_CONFIG)?;
        if crate::digest::Digest::sha256_of(&bytes).hex() != hex {
            return Err(bad("its bytes do not hash to its name".into()));
        }
        files::check_parsed_size(&path, &bytes)?;
        let j = gojson::parse_as_go(&bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
        match member(&j, "rootfs") {
            Some(J::Obj(_)) => Ok(j),
            None | Some(J::Null) => Err(bad("invalid image JSON, no RootFS key".into())),
            Some(_) => Err(bad("rootfs is not an object".into())),
        }
    }

    /// Why dockerd's `restore` would pass over the image of `config`: a layer store without
    /// its top layer (`layer does not exist, not restoring image`), an OS it does not run.
    fn unrestorable(&self, config: &J) -> Option<String> {
        let rootfs = member(config, "rootfs")?;
        let diff_ids: Vec<String> = match member(rootfs, "diff_ids") {
            None | Some(J::Null) => Vec::new(),
            Some(J::Arr(a)) => {
                let ids: Vec<String> = a.iter().filter_map(|d| d.as_str().map(str::to_string)).collect();
                if ids.len() != a.len() {
                    return Some("rootfs.diff_ids holds a value that is not a string".into());
                }
                ids
            }
            Some(_) => return Some("rootfs.diff_ids is not an array".into()),
        };
        // No layers: no layer to find.
        let chain = chain_id(&diff_ids)?;
        let os = match member(config, "os") {
            None | Some(J::Null) => String::new(),
            Some(J::Str(s)) => s.clone(),
            Some(_) => return Some("os is not a string".into()),
        };
        if !os.is_empty() && os != "linux" {
            return Some(format!("its os is {os:?}, not linux"));
        }
        let Some(hex) = chain.strip_prefix("sha256:").filter(|h| is_hex64(h)) else {
            return Some(format!("its layer chain ID {chain:?} is not a sha256 digest"));
        };
        let driver_dir = self.dir.parent()?;
        let layer = driver_dir.join("layerdb/sha256").join(hex);
        if crate::paths::detour(&self.docker_root, &layer).is_none()
            && std::fs::symlink_metadata(&layer).is_ok_and(|m| m.is_dir())
        {
            None
        } else {
            Some(format!(
                "its top layer {chain} is not in {}",
                crate::text::escape(driver_dir.join("layerdb/sha256").as_os_str().as_encoded_bytes())
            ))
        }
    }

    /// dockerd's `GetParent`: the `parent` metadata file, as it is (its content is taken as
    /// an ID unchecked); `None` when there is none.
    fn parent(&self, hex: &str, problems: &mut StoreProblems) -> Option<String> {
        let path = self.dir.join("metadata/sha256").join(hex).join("parent");
        match files::read_small_below(&self.docker_root, &path, MAX_PARENT) {
            Ok(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            Err(p) if p.missing => None,
            Err(p) => {
                problems.file(p);
                None
            }
        }
    }

    /// The `parent` file whose link makes `child` a child: named in what is said of a loop.
    pub fn parent_file(&self, child: &str) -> PathBuf {
        let hex = child.strip_prefix("sha256:").unwrap_or(child);
        self.dir.join("metadata/sha256").join(hex).join("parent")
    }

    /// dockerd's `imageStore.Get` of an ID: the image when its config reads and decodes
    /// (loaded at start or not).
    fn get(&self, id: &str) -> Option<String> {
        let hex = id.strip_prefix("sha256:").filter(|h| is_hex64(h))?;
        if self.restored.contains_key(hex) || self.config(hex).is_ok() {
            Some(format!("sha256:{hex}"))
        } else {
            None
        }
    }

    /// dockerd's `imageStore.Search` (a `digestset` lookup): the one loaded image whose ID
    /// starts with `term` (hex, or `sha256:` and hex); none when no image or several do.
    fn search(&self, term: &str) -> Option<String> {
        let hex = match term.split_once(':') {
            Some(("sha256", hex)) => hex,
            Some(_) => return None,
            None => term,
        };
        if hex.is_empty() {
            return None;
        }
        let mut hits = self
            .restored
            .range(hex.to_string()..)
            .take_while(|(id, _)| id.starts_with(hex));
        match (hits.next(), hits.next()) {
            (Some((id, _)), None) => Some(format!("sha256:{id}")),
            _ => None,
        }
    }

    /// dockerd 20.10's `GetImage(refOrID, nil)` on a graph driver node: a full ID or digest
    /// as the ID; a name by the reference store (`name` is `name:latest`), then as a short
    /// ID. `None` when it names no image (dockerd skips the value).
    pub fn get_image(&self, repositories: Option<&super::graph_driver::Repositories>, value: &str) -> Option<String> {
        use crate::image::reference::{self, AnyRef};
        match reference::parse_any(value).ok()? {
            AnyRef::Digest(d) => self.get(&d),
            AnyRef::Named(_) => repositories
                .and_then(|r| r.resolve(value))
                .and_then(|id| self.get(&id))
                .or_else(|| self.search(value)),
        }
    }

    /// The loaded images, each as `sha256:<hex>` with the chain IDs of its layers (moby's
    /// `RootFS.ChainID` of each prefix of its `diff_ids`), bottom first: the layer store's
    /// `layerdb/sha256/<chain ID>` directories its top chain holds.
    pub fn layer_chains(&self) -> Vec<(String, Vec<String>)> {
        self.diff_ids
            .iter()
            .map(|(hex, ids)| {
                let chains = (1..=ids.len())
                    .filter_map(|n| ids.get(..n).and_then(chain_id))
                    .collect();
                (format!("sha256:{hex}"), chains)
            })
            .collect()
    }

    /// dockerd's `imageStore.Children`: the loaded images whose `parent` names `id`.
    pub fn children(&self, id: &str) -> Vec<String> {
        self.children.get(id).cloned().unwrap_or_default()
    }
}

/// A config's `rootfs.diff_ids` (keys matched without regard to case, the last one winning,
/// as Go's decoder does); empty when there are none or they are not strings.
fn rootfs_diff_ids(config: &J) -> Vec<String> {
    match member(config, "rootfs").and_then(|r| member(r, "diff_ids")) {
        Some(J::Arr(a)) => a.iter().filter_map(|d| d.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// Member `key` of an object as Go's decoder finds a field: the key matched without regard
/// to case, the last one winning.
fn member<'a>(j: &'a J, key: &str) -> Option<&'a J> {
    j.members()
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// moby's `RootFS.ChainID`, containerd's `identity.ChainID`: one computation for both.
use crate::overlay::images::chain_id;

#[cfg(test)]
mod tests {
    use super::*;

    fn tree<'a>(links: &'a [(&'a str, &'a str)]) -> impl FnMut(&str) -> Vec<String> + 'a {
        move |id: &str| {
            links
                .iter()
                .filter(|(p, _)| *p == id)
                .map(|(_, c)| c.to_string())
                .collect()
        }
    }

    #[test]
    fn a_family_is_the_image_and_all_below_it() {
        let links = [("a", "b"), ("b", "c"), ("b", "d"), ("x", "y")];
        let mut set = HashSet::new();
        assert!(add_family(&mut set, "b", &mut tree(&links)).is_empty());
        let mut got: Vec<_> = set.iter().cloned().collect();
        got.sort();
        assert_eq!(got, ["b", "c", "d"]);
        // An image already collected stops the walk, as dockerd's map does.
        assert!(add_family(&mut set, "a", &mut tree(&links)).is_empty());
        assert_eq!(set.len(), 4);
    }

    #[test]
    fn a_loop_in_the_parent_links_ends_and_is_named() {
        let links = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "c")];
        let mut set = HashSet::new();
        let loops = add_family(&mut set, "a", &mut tree(&links));
        assert_eq!(set.len(), 3);
        assert_eq!(
            loops,
            [
                Loop {
                    parent: "c".into(),
                    child: "a".into()
                },
                Loop {
                    parent: "c".into(),
                    child: "c".into()
                }
            ]
        );
    }

    #[test]
    fn chain_ids_are_mobys() {
        let a = format!("sha256:{}", "a".repeat(64));
        let b = format!("sha256:{}", "b".repeat(64));
        assert_eq!(chain_id(&[]), None);
        assert_eq!(chain_id(std::slice::from_ref(&a)), Some(a.clone()));
        let want = crate::digest::Digest::sha256_of(format!("{a} {b}").as_bytes()).to_string();
        assert_eq!(chain_id(&[a, b]), Some(want));
    }
}
