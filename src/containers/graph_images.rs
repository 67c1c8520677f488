//! dockerd's own image store on a graph driver node (Docker 20.10 to 27, or 28 without the
//! containerd image store): what `docker image inspect`, `docker history` and `docker images`
//! read there, as dockerd 20.10 reads it (moby v20.10.24 `image/store.go`, `image/fs.go`,
//! `image/image.go`, `layer/layer_store.go`, `layer/filestore.go`, `reference/store.go`,
//! `daemon/images/{image.go,image_inspect.go,image_history.go,images.go}`).
//!
//! ```text
//! <docker-root>/image/<driver>/
//!     repositories.json                     names -> image IDs (graph_driver::Repositories)
//!     imagedb/content/sha256/<id>           the image config; its sha256 is <id>
//!     imagedb/metadata/sha256/<id>/parent   "sha256:<parent id>" (commit, classic build)
//!     imagedb/metadata/sha256/<id>/lastUpdated   RFC 3339 time of the last tag
//!     layerdb/sha256/<chain id>/{diff,size,cache-id,parent}
//!         diff: the layer's diff ID; size: its own bytes (decimal); cache-id: the driver's
//!         layer dir (<docker-root>/overlay2/<cache-id>); parent: the chain ID below it
//! ```
//!
//! Every name that becomes a path is 64 lowercase hex first; every file is read bounded and
//! never through a symlink ([`files::read_small_below`]); a layer chain is walked at most
//! [`MAX_CHAIN`] deep. What does not read is said in [`GraphImages::problems`] and is, to
//! dockerd, an image or layer that does not load.

use super::docker::StoreProblems;
use super::files;
use super::graph_driver::Repositories;
use crate::image::goshape::{self, Shape, Tag};
use crate::image::reference::{self, AnyRef, Named};
use crate::inspect::gojson::{self, J};
use sha2::Digest as _;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The most an image config may hold (dockerd writes a few kB).
const MAX_CONFIG: u64 = files::MAX_JSON;
/// The most config text whose decoded images are kept in memory at once (a node's configs are
/// a few kB each: thousands of images fit).
const CACHE_BYTES: usize = 8 << 20;
/// The most images listed from `imagedb/content/sha256`.
const MAX_IMAGES: usize = 1 << 20;
/// The deepest layer chain followed (overlay2 itself stacks 128 at most).
pub const MAX_CHAIN: usize = 1024;
/// The largest layer size taken as real (1 PiB): a larger or negative one is damage.
const MAX_LAYER_SIZE: i64 = 1 << 50;
/// The most a small metadata file (`parent`, `size`, `diff`, `cache-id`, `lastUpdated`) holds.
const MAX_SMALL: u64 = 4096;

/// 64 lowercase hex: an image ID or chain ID that may become a path component.
pub use crate::image::reference::is_hex64;

/// moby v20.10 `api/types/container.HealthConfig` (no `StartInterval` yet).
const HEALTH20: Shape = Shape::Struct(
    "container.HealthConfig",
    &[
        ("Test", Shape::Slice(&Shape::Str)),
        ("Interval", Shape::Named("time.Duration", &Shape::Int)),
        ("Timeout", Shape::Named("time.Duration", &Shape::Int)),
        ("StartPeriod", Shape::Named("time.Duration", &Shape::Int)),
        ("Retries", Shape::Int),
    ],
);

const EMPTY: Shape = Shape::Struct("struct {}", &[]);

/// moby v20.10 `api/types/container.Config`.
pub const CONFIG20: Shape = Shape::Struct(
    "container.Config",
    &[
        ("Hostname", Shape::Str),
        ("Domainname", Shape::Str),
        ("User", Shape::Str),
        ("AttachStdin", Shape::Bool),
        ("AttachStdout", Shape::Bool),
        ("AttachStderr", Shape::Bool),
        ("ExposedPorts", Shape::Map(&EMPTY)),
        ("Tty", Shape::Bool),
        ("OpenStdin", Shape::Bool),
        ("StdinOnce", Shape::Bool),
        ("Env", Shape::Slice(&Shape::Str)),
        ("Cmd", Shape::StrSlice),
        ("Healthcheck", Shape::Ptr(&HEALTH20)),
        ("ArgsEscaped", Shape::Bool),
        ("Image", Shape::Str),
        ("Volumes", Shape::Map(&EMPTY)),
        ("WorkingDir", Shape::Str),
        ("Entrypoint", Shape::StrSlice),
        ("NetworkDisabled", Shape::Bool),
        ("MacAddress", Shape::Str),
        ("OnBuild", Shape::Slice(&Shape::Str)),
        ("Labels", Shape::Map(&Shape::Str)),
        ("StopSignal", Shape::Str),
        ("StopTimeout", Shape::Ptr(&Shape::Int)),
        ("Shell", Shape::StrSlice),
    ],
);

const HISTORY: Shape = Shape::Struct(
    "image.History",
    &[
        ("created", Shape::Time),
        ("author", Shape::Str),
        ("created_by", Shape::Str),
        ("comment", Shape::Str),
        ("empty_layer", Shape::Bool),
    ],
);

const ROOTFS: Shape = Shape::Struct(
    "image.RootFS",
    &[
        ("type", Shape::Str),
        ("diff_ids", Shape::Slice(&Shape::Named("layer.DiffID", &Shape::Str))),
    ],
);

/// moby v20.10 `image.Image`: `V1Image`'s fields (its `parent` shadowed by the outer one),
/// then the outer struct's, in the order `encoding/json` sees them.
pub static IMAGE20: Shape = Shape::Struct(
    "image.Image",
    &[
        ("id", Shape::Str),
        ("comment", Shape::Str),
        ("created", Shape::Time),
        ("container", Shape::Str),
        ("container_config", CONFIG20),
        ("docker_version", Shape::Str),
        ("author", Shape::Str),
        ("config", Shape::Ptr(&CONFIG20)),
        ("architecture", Shape::Str),
        ("variant", Shape::Str),
        ("os", Shape::Str),
        ("Size", Shape::Int),
        ("parent", Shape::Named("image.ID", &Shape::Str)),
        ("rootfs", Shape::Ptr(&ROOTFS)),
        ("history", Shape::Slice(&HISTORY)),
        ("os.version", Shape::Str),
        ("os.features", Shape::Slice(&Shape::Str)),
    ],
);

/// The `omitempty` fields of v20.10's `container.Config` and `HealthConfig`.
fn tags20(structure: &str, field: &str) -> Tag {
    let omitempty = match structure {
        "container.HealthConfig" => true,
        "container.Config" => matches!(
            field,
            "ExposedPorts"
                | "Healthcheck"
                | "ArgsEscaped"
                | "NetworkDisabled"
                | "MacAddress"
                | "StopSignal"
                | "StopTimeout"
                | "Shell"
        ),
        _ => false,
    };
    Tag { omitempty }
}

/// One image config, as dockerd's `image.NewFromJSON` decoded it, with its store metadata.
#[derive(Clone, Debug)]
pub struct Image {
    /// The image ID's 64 hex.
    pub hex: String,
    /// The config decoded into [`IMAGE20`] (fields by JSON name).
    pub doc: J,
    /// `imagedb/metadata/sha256/<id>/parent` as written ("" when none).
    pub parent: String,
    /// The config's length in bytes.
    config_len: usize,
}

impl Image {
    pub fn id(&self) -> String {
        format!("sha256:{}", self.hex)
    }

    fn str_field(&self, key: &str) -> &str {
        self.doc.get(key).and_then(J::as_str).unwrap_or_default()
    }

    /// `OperatingSystem()`: the config's `os`, else the daemon's (linux).
    pub fn os(&self) -> &str {
        match self.str_field("os") {
            "" => "linux",
            os => os,
        }
    }

    /// dockerd's `system.IsOSSupported` on Linux: the OS is linux, in any case.
    pub fn os_supported(&self) -> bool {
        self.os().eq_ignore_ascii_case("linux")
    }

    /// `created` as RFC 3339 (Go's zero time when unset).
    pub fn created(&self) -> &str {
        match self.str_field("created") {
            "" => "0001-01-01T00:00:00Z",
            c => c,
        }
    }

    pub fn diff_ids(&self) -> Vec<String> {
        self.doc
            .at(&["rootfs", "diff_ids"])
            .map(|d| {
                d.items()
                    .iter()
                    .map(|i| i.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn history(&self) -> &[J] {
        self.doc.get("history").map(J::items).unwrap_or_default()
    }

    /// The image's `Config.Labels`: `None` (Go's nil map, `null`) for an image without a
    /// config or whose config has none.
    pub fn labels(&self) -> Option<Vec<(String, String)>> {
        match self.doc.at(&["config", "Labels"]) {
            Some(l @ J::Obj(_)) => Some(
                l.members()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// `layer.CreateChainID`: containerd's and moby's chain ID are the same computation.
pub use crate::overlay::images::{chain_id, chain_ids};

/// One layer of the layer store, as dockerd's `loadLayer` loads it.
#[derive(Clone, Debug)]
pub struct Layer {
    pub cache_id: String,
    /// Its own size (`DiffSize`).
    pub size: i64,
    /// Its size with every layer below it (`Size`).
    pub chain_size: i64,
}

/// Why a reference names no image: not found (the daemon's 404, and its message), or a
/// reference that does not parse (its 400).
#[derive(Clone, Debug)]
pub enum Lookup {
    NotFound(String),
    Invalid(String),
}

/// dockerd's image store on a graph driver node.
pub struct GraphImages {
    root: PathBuf,
    store: PathBuf,
    /// The driver's name (`GraphDriver.Name`): the store's directory under `image/`.
    pub driver: String,
    /// The data root as the node had it, for the paths printed.
    pub node_root: String,
    refs: Option<Repositories>,
    /// The image IDs dockerd restores at start (config reads and hashes to its ID, its layer
    /// chain loads), sorted: the ones a short ID and `docker images` find.
    restored: Vec<String>,
    images: RefCell<HashMap<String, Option<Image>>>,
    /// The config bytes of the images held in `images`.
    cached_bytes: std::cell::Cell<usize>,
    layers: RefCell<HashMap<String, Option<Layer>>>,
    /// `restore`'s second pass: the restored images by the parent their `parent` file names
    /// (as written, `sha256:<hex>`), built on first use.
    children: RefCell<Option<HashMap<String, Vec<String>>>>,
    /// What did not read (damage, unreadable), named by file.
    pub problems: RefCell<StoreProblems>,
    /// How many of the damaged and unreadable [`Self::problems`] are `repositories.json`'s
    /// (the first ones): said already by a caller that read that file itself.
    refs_said: (usize, usize),
    /// Which of several drivers' stores was read, and why (a note, not damage).
    pub chosen: Option<String>,
    /// The store was not read at all (reached through a symlink): it holds no image, and
    /// what names no image here is not known to name none on the node.
    pub unread: bool,
}

/// dockerd's order of preference among graph drivers found on disk (moby v20.10
/// `daemon/graphdriver/driver_linux.go`, `priority`).
const DRIVER_PRIORITY: [&str; 8] = [
    "btrfs",
    "zfs",
    "overlay2",
    "fuse-overlayfs",
    "aufs",
    "overlay",
    "devicemapper",
    "vfs",
];

impl GraphImages {
    /// The image store of the graph driver under the Docker data root `root`, `None` when
    /// there is none. Where `image/` holds several (a node moved from `aufs` to `overlay2`
    /// keeps the old one; dockerd then starts only with `--storage-driver`), the one most of
    /// `container_drivers` (the containers' `Driver`) name, else one that is no symlink, else
    /// one whose driver home (`<root>/<driver>`) is there, else the first in dockerd's order of
    /// preference; which one is said ([`GraphImages::chosen`]). A store reached through a
    /// symlink is not read, and said.
    pub fn open(root: &Path, node_root: &str, container_drivers: &[String]) -> Option<GraphImages> {
        let images = root.join("image");
        let meta = std::fs::symlink_metadata(&images).ok()?;
        if meta.file_type().is_symlink() {
            let why = format!(
                "{}: a symlink, not followed; dockerd's image store not read",
                Self::shown(&images)
            );
            return Some(Self::unread(root, node_root, "overlay2", why));
        }
        if !meta.is_dir() {
            return None;
        }
        let mut drivers: Vec<String> = crate::noatime::read_dir_no_follow(&images)
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| super::graph_driver::is_driver_name(n))
            .filter(|n| {
                let dir = images.join(n);
                std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink())
                    || std::fs::symlink_metadata(dir.join("imagedb")).is_ok()
            })
            .collect();
        let named = |d: &str| container_drivers.iter().filter(|c| c.as_str() == d).count();
        let linked = |d: &str| std::fs::symlink_metadata(images.join(d)).is_ok_and(|m| m.file_type().is_symlink());
        // The driver's own home (`<root>/overlay2`), where its layers are.
        let home = |d: &str| std::fs::symlink_metadata(root.join(d)).is_ok_and(|m| m.is_dir());
        let preference = |d: &str| {
            DRIVER_PRIORITY
                .iter()
                .position(|p| *p == d)
                .unwrap_or(DRIVER_PRIORITY.len())
        };
        drivers.sort_by(|a, b| {
            named(b)
                .cmp(&named(a))
                .then_with(|| linked(a).cmp(&linked(b)))
                .then_with(|| home(b).cmp(&home(a)))
                .then_with(|| preference(a).cmp(&preference(b)))
                .then_with(|| a.cmp(b))
        });
        let driver = drivers.first()?.clone();
        let mut store = Self::open_driver(root, node_root, &driver)?;
        if drivers.len() > 1 {
            // dockerd itself refuses to start on several drivers' state unless told which
            // (`--storage-driver`): the choice is coldctr's, on the evidence there is.
            let why = if named(&driver) > 0 {
                "the driver its containers name"
            } else if home(&driver) {
                "the one whose layer directories are there"
            } else {
                "the first in dockerd's order of preference"
            };
            store.chosen = Some(format!(
                "{}: image stores of several graph drivers ({}); reading {driver}'s, {why}",
                Self::shown(&images),
                drivers.join(", ")
            ));
        }
        Some(store)
    }

    /// The image store of graph driver `driver` (`image/<driver>/`, its `imagedb` a
    /// directory), restored as dockerd restores it; `None` when there is none. One reached
    /// through a symlink (`image/<driver>`, `imagedb`, `content`...) is not read: a store
    /// without images, the link said as damage.
    pub fn open_driver(root: &Path, node_root: &str, driver: &str) -> Option<GraphImages> {
        if !super::graph_driver::is_driver_name(driver) {
            return None;
        }
        let store = root.join("image").join(driver);
        // Every directory down to `content/sha256`, the last one included.
        if let Some((at, why)) = crate::paths::detour(root, &store.join("imagedb/content/sha256/-")) {
            let why = format!("{}: {why}; dockerd's image store not read", Self::shown(&at));
            return Some(Self::unread(root, node_root, driver, why));
        }
        if !std::fs::symlink_metadata(store.join("imagedb")).is_ok_and(|m| m.is_dir()) {
            return None;
        }
        let mut problems = StoreProblems::default();
        let refs = Repositories::read(root, driver, &mut problems);
        let refs_said = (problems.damaged.len(), problems.unreadable.len());
        let mut store = GraphImages {
            refs,
            problems: RefCell::new(problems),
            refs_said,
            ..Self::unread(root, node_root, driver, String::new())
        };
        store.restore();
        Some(store)
    }

    /// A store of `driver` with no image read, `why` its one problem (none when empty).
    fn unread(root: &Path, node_root: &str, driver: &str, why: String) -> GraphImages {
        let unread = !why.is_empty();
        let problems = StoreProblems {
            damaged: if why.is_empty() { Vec::new() } else { vec![why] },
            ..StoreProblems::default()
        };
        GraphImages {
            root: root.to_path_buf(),
            store: root.join("image").join(driver),
            driver: driver.to_string(),
            node_root: node_root.to_string(),
            refs: None,
            restored: Vec::new(),
            images: RefCell::default(),
            cached_bytes: std::cell::Cell::new(0),
            layers: RefCell::default(),
            children: RefCell::default(),
            problems: RefCell::new(problems),
            refs_said: (0, 0),
            chosen: None,
            unread,
        }
    }

    fn shown(p: &Path) -> String {
        crate::text::escape(p.as_os_str().as_encoded_bytes())
    }

    /// `store.restore`: every config of `imagedb/content/sha256` that reads, whose chain's
    /// layer loads and whose OS is this one's.
    fn restore(&mut self) {
        let dir = self.store.join("imagedb/content/sha256");
        let listed = match crate::noatime::read_dir_no_follow(&dir) {
            Ok(l) => l,
            Err(e) if super::docker::not_there(&e) => return,
            Err(e) => {
                self.problems
                    .borrow_mut()
                    .unreadable
                    .push(format!("{}: {e}", Self::shown(&dir)));
                return;
            }
        };
        let mut names = Vec::new();
        for entry in listed {
            match entry {
                Ok(e) => {
                    if names.len() >= MAX_IMAGES {
                        self.problems.borrow_mut().damaged.push(format!(
                            "{}: more than {MAX_IMAGES} entries; the rest are not read",
                            Self::shown(&dir)
                        ));
                        break;
                    }
                    // Go's digest.Validate skips any other name.
                    if let Some(n) = e.file_name().to_str().filter(|n| is_hex64(n)) {
                        names.push(n.to_string());
                    }
                }
                Err(e) => {
                    self.problems
                        .borrow_mut()
                        .unreadable
                        .push(format!("{}: {e}", Self::shown(&dir)));
                    break;
                }
            }
        }
        names.sort();
        for hex in names {
            let Some(img) = self.get(&hex) else { continue };
            let why_not = match chain_id(&img.diff_ids()) {
                None => None,
                Some(_) if !img.os_supported() => Some(format!(
                    "its os is {}, which dockerd on Linux does not run",
                    J::str(img.os()).shown_in_message()
                )),
                Some(chain) if self.layer(&chain).is_none() => Some(format!(
                    "its top layer {} does not load from {} (a layer of its chain is missing or damaged)",
                    crate::text::escape(chain.as_bytes()),
                    Self::shown(&self.store.join("layerdb/sha256"))
                )),
                Some(_) => None,
            };
            match why_not {
                None => self.restored.push(hex),
                Some(why) => self.problems.borrow_mut().damaged.push(format!(
                    "{}: {why}; dockerd does not restore the image",
                    Self::shown(&dir.join(&hex))
                )),
            }
        }
    }

    /// What did not read, but for `repositories.json`'s problems (for a caller that has said
    /// those already), taken: said once.
    pub fn take_image_problems(&self) -> StoreProblems {
        let mut all = self.problems.take();
        let (damaged, unreadable) = self.refs_said;
        all.damaged.drain(..damaged.min(all.damaged.len()));
        all.unreadable.drain(..unreadable.min(all.unreadable.len()));
        all
    }

    /// The restored image IDs (hex), sorted.
    pub fn restored(&self) -> &[String] {
        &self.restored
    }

    /// `store.Children`: the restored images whose `parent` file names `id` as it is written
    /// (dockerd does not check it), each as `sha256:<hex>`, in ID order.
    pub fn children(&self, id: &str) -> Vec<String> {
        if self.children.borrow().is_none() {
            let mut index: HashMap<String, Vec<String>> = HashMap::new();
            for hex in &self.restored {
                let Some(img) = self.get(hex) else { continue };
                let restored_parent = img
                    .parent
                    .strip_prefix("sha256:")
                    .is_some_and(|p| self.restored.binary_search_by(|r| r.as_str().cmp(p)).is_ok());
                if restored_parent {
                    index.entry(img.parent.clone()).or_default().push(img.id());
                }
            }
            *self.children.borrow_mut() = Some(index);
        }
        self.children
            .borrow()
            .as_ref()
            .and_then(|index| index.get(id).cloned())
            .unwrap_or_default()
    }

    /// The `parent` file whose link makes `child` (`sha256:<hex>`) a child: named in what is
    /// said of a loop.
    pub fn parent_file(&self, child: &str) -> PathBuf {
        let hex = child.strip_prefix("sha256:").unwrap_or(child);
        self.store.join("imagedb/metadata/sha256").join(hex).join("parent")
    }

    /// The restored images, each as `sha256:<hex>` with the chain IDs of its layers (each
    /// prefix of its `diff_ids`), bottom first: the `layerdb/sha256/<chain ID>` directories
    /// its top layer stands on.
    pub fn layer_chains(&self) -> Vec<(String, Vec<String>)> {
        self.restored
            .iter()
            .filter_map(|hex| self.get(hex))
            .map(|img| (img.id(), chain_ids(&img.diff_ids())))
            .collect()
    }

    /// `store.Get`: the config `hex` names, decoded, with its parent; `None` (said) when it
    /// does not read, does not hash to its name, or is no image config.
    pub fn get(&self, hex: &str) -> Option<Image> {
        if !is_hex64(hex) {
            return None;
        }
        if let Some(known) = self.images.borrow().get(hex) {
            return known.clone();
        }
        let img = self.read_image(hex);
        // Not found and damaged are always kept (said once); decoded configs while their text
        // stays within CACHE_BYTES, past which they are read again when asked for: thousands
        // of megabyte configs are not all held at once (review of 878c552: 408 MB for 74 MB
        // of configs).
        let keep = img.as_ref().is_none_or(|i| {
            let used = self.cached_bytes.get().saturating_add(i.config_len);
            let fits = used <= CACHE_BYTES;
            if fits {
                self.cached_bytes.set(used);
            }
            fits
        });
        if keep {
            self.images.borrow_mut().insert(hex.to_string(), img.clone());
        }
        img
    }

    fn read_image(&self, hex: &str) -> Option<Image> {
        let path = self.store.join("imagedb/content/sha256").join(hex);
        let bytes = match files::read_small_below(&self.root, &path, MAX_CONFIG) {
            Ok(b) => b,
            Err(p) if p.missing => return None,
            Err(p) => {
                self.problems.borrow_mut().file(p);
                return None;
            }
        };
        let mut problems = self.problems.borrow_mut();
        let shown = Self::shown(&path);
        if hex::encode(sha2::Sha256::digest(&bytes)) != hex {
            problems.damaged.push(format!(
                "{shown}: does not hash to its name; dockerd refuses it (failed to verify)"
            ));
            return None;
        }
        let doc = match image_config(&bytes) {
            Ok(doc) => doc,
            Err(e) => {
                problems.damaged.push(format!("{shown}: {}", crate::text::one_line(&e)));
                return None;
            }
        };
        drop(problems);
        let parent_file = self.store.join("imagedb/metadata/sha256").join(hex).join("parent");
        let parent = match files::read_small_below(&self.root, &parent_file, MAX_SMALL) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(p) if p.missing => String::new(),
            Err(p) => {
                self.problems.borrow_mut().file(p);
                String::new()
            }
        };
        Some(Image {
            hex: hex.to_string(),
            doc,
            parent,
            config_len: bytes.len(),
        })
    }

    /// `lastUpdated` of image `hex` as `GetLastUpdated` reads it: `Ok(None)` when there is
    /// none (Go's zero time), `Err` with why when it is no RFC 3339 time.
    pub fn last_updated(&self, hex: &str) -> Result<Option<String>, String> {
        let path = self.store.join("imagedb/metadata/sha256").join(hex).join("lastUpdated");
        match files::read_small_below(&self.root, &path, MAX_SMALL) {
            Ok(b) if b.is_empty() => Ok(None),
            Ok(b) => {
                let text = String::from_utf8_lossy(&b);
                match crate::containerd::gotime::parse_rfc3339(&text) {
                    Some(t) => Ok(Some(t.rfc3339_nano())),
                    None => {
                        self.problems.borrow_mut().damaged.push(format!(
                            "{}: {} is not an RFC 3339 time",
                            Self::shown(&path),
                            J::str(text.clone().into_owned()).shown_in_message()
                        ));
                        // dockerd's error is time.Parse's, which quotes the text as it is
                        // (escaped where it is printed).
                        Err(format!("parsing time \"{text}\": not an RFC 3339 time"))
                    }
                }
            }
            Err(p) if p.missing => Ok(None),
            Err(p) => {
                let said = p.message.clone();
                self.problems.borrow_mut().file(p);
                Err(said)
            }
        }
    }

    /// The layer of chain ID `chain` (`sha256:<hex>`) as `loadLayer` loads it, its parents
    /// with it; `None` (said) when it or one below it does not load.
    pub fn layer(&self, chain: &str) -> Option<Layer> {
        let hex = chain.strip_prefix("sha256:").filter(|h| is_hex64(h))?;
        if let Some(known) = self.layers.borrow().get(hex) {
            return known.clone();
        }
        // Walk down to the base (or a layer already known), then size back up.
        let mut down: Vec<(String, String, i64)> = Vec::new();
        let mut at = Some(hex.to_string());
        let mut base = 0i64;
        while let Some(h) = at.take() {
            if let Some(known) = self.layers.borrow().get(&h) {
                match known {
                    Some(l) => base = l.chain_size,
                    None => {
                        self.fail_all(&down);
                        return None;
                    }
                }
                break;
            }
            if down.len() >= MAX_CHAIN || down.iter().any(|(d, _, _)| *d == h) {
                self.problems.borrow_mut().damaged.push(format!(
                    "{}: a parent chain deeper than {MAX_CHAIN} layers, or a cycle; not followed",
                    Self::shown(&self.store.join("layerdb/sha256").join(hex))
                ));
                self.fail_all(&down);
                return None;
            }
            match self.read_layer(&h) {
                Some((cache_id, size, parent)) => {
                    down.push((h, cache_id, size));
                    at = parent;
                }
                None => {
                    down.push((h, String::new(), 0));
                    self.fail_all(&down);
                    return None;
                }
            }
        }
        let mut layers = self.layers.borrow_mut();
        let mut total = base;
        for (h, cache_id, size) in down.into_iter().rev() {
            // Go's int64 sum, which wraps (only forged sizes get there).
            total = total.wrapping_add(size);
            layers.insert(
                h,
                Some(Layer {
                    cache_id,
                    size,
                    chain_size: total,
                }),
            );
        }
        layers.get(hex).cloned().flatten()
    }

    fn fail_all(&self, down: &[(String, String, i64)]) {
        let mut layers = self.layers.borrow_mut();
        for (h, _, _) in down {
            layers.insert(h.clone(), None);
        }
    }

    /// One layer's files: its cache ID, size, and the parent chain's hex.
    fn read_layer(&self, hex: &str) -> Option<(String, i64, Option<String>)> {
        let dir = self.store.join("layerdb/sha256").join(hex);
        if !std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            return None;
        }
        let read = |name: &str, required: bool| -> Result<Option<String>, ()> {
            match files::read_small_below(&self.root, &dir.join(name), MAX_SMALL) {
                Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
                Err(p) if p.missing && !required => Ok(None),
                Err(p) => {
                    self.problems.borrow_mut().file(p);
                    Err(())
                }
            }
        };
        let bad = |name: &str, why: &str| {
            self.problems.borrow_mut().damaged.push(format!(
                "{}: {why}; dockerd does not load the layer",
                Self::shown(&dir.join(name))
            ));
        };
        let diff = read("diff", true).ok()??;
        if crate::digest::Digest::parse(diff.trim()).is_err() {
            bad("diff", "not a digest");
            return None;
        }
        // `strconv.ParseInt` of the whole file, untrimmed.
        let size_text = read("size", true).ok()??;
        let Ok(size) = size_text.parse::<i64>() else {
            bad("size", "not a decimal size");
            return None;
        };
        if !(0..=MAX_LAYER_SIZE).contains(&size) {
            // dockerd's ParseInt takes it, and loads the layer (its sums wrap): damage all the
            // same, as no layer is that size.
            self.problems.borrow_mut().damaged.push(format!(
                "{}: an impossible size ({size} bytes); dockerd loads the layer with it",
                Self::shown(&dir.join("size"))
            ));
        }
        let cache_id = read("cache-id", true).ok()??.trim().to_string();
        if cache_id.is_empty() {
            bad("cache-id", "empty");
            return None;
        }
        let parent = match read("parent", false).ok()? {
            None => None,
            Some(p) => match p.trim().strip_prefix("sha256:").filter(|h| is_hex64(h)) {
                Some(h) => Some(h.to_string()),
                None => {
                    bad("parent", "not a sha256 chain ID");
                    return None;
                }
            },
        };
        Some((cache_id, size, parent))
    }

    /// Every reference the store maps to image `hex`, as `References` returns them: sorted by
    /// their full string (`docker.io/library/x:1`).
    pub fn references(&self, hex: &str) -> Vec<Named> {
        let id = format!("sha256:{hex}");
        let Some(refs) = &self.refs else {
            return Vec::new();
        };
        let mut by_str: BTreeMap<String, Named> = BTreeMap::new();
        for name in refs.names_of(&id) {
            if let Ok(n) = reference::parse_normalized_named(&name) {
                by_str.insert(name, n);
            }
        }
        let mut all: Vec<Named> = by_str.into_values().collect();
        all.sort_by_key(|n| n.to_string());
        all
    }

    /// `GetImage(refOrID)`: a full ID or digest, a name in the reference store, else an ID
    /// prefix of a restored image.
    pub fn resolve(&self, input: &str) -> Result<Image, Lookup> {
        let parsed = reference::parse_any(input).map_err(|e| Lookup::Invalid(words_of_2010(&e.to_string())))?;
        let named = match parsed {
            AnyRef::Digest(d) => {
                return d
                    .strip_prefix("sha256:")
                    .and_then(|h| self.get(h))
                    .ok_or_else(|| Lookup::NotFound(format!("No such image: {d}")));
            }
            AnyRef::Named(n) => n,
        };
        if let Some(refs) = &self.refs
            && let Some(id) = refs.resolve(input)
            && let Some(img) = id.strip_prefix("sha256:").and_then(|h| self.get(h))
        {
            return Ok(img);
        }
        if let Some(hex) = self.search(input)
            && let Some(img) = self.get(&hex)
        {
            return Ok(img);
        }
        Err(Lookup::NotFound(format!(
            "No such image: {}",
            named.tag_name_only().familiar()
        )))
    }

    /// `digestset.Lookup` over the restored IDs: `term` as a digest prefix (`sha256:<hex
    /// prefix>`, or a bare prefix); `None` when no ID or more than one starts with it.
    fn search(&self, term: &str) -> Option<String> {
        let prefix = match term.split_once(':') {
            // go-digest: no algorithm, or nothing after it: the whole term is the prefix.
            None => term,
            Some(("", _)) | Some((_, "")) => term,
            Some(("sha256", hex)) => {
                // A 64-character encoding with a wrong character is an invalid format: the
                // whole term is then the prefix (which no ID starts with).
                if hex.len() == 64 && !is_hex64(hex) { term } else { hex }
            }
            // Another algorithm: no restored ID is of it.
            Some(_) => return None,
        };
        let at = self.restored.partition_point(|id| id.as_str() < prefix);
        let first = self.restored.get(at).filter(|id| id.starts_with(prefix))?;
        if first == prefix {
            return Some(first.clone());
        }
        if self.restored.get(at + 1).is_some_and(|id| id.starts_with(prefix)) {
            return None;
        }
        Some(first.clone())
    }

    /// `GraphDriver.Data` of the layer with cache ID `cache_id` (overlay2 only), or `Err`
    /// with why the driver would have none.
    fn driver_data(&self, cache_id: &str, named_by: &Path) -> Result<J, String> {
        if self.driver != "overlay2" {
            return Ok(J::Null);
        }
        let mut problems = self.problems.borrow_mut();
        super::graph_driver::layer_data(&self.root, &self.node_root, cache_id, named_by, false, &mut problems)
            .ok_or_else(|| {
                // Raw: the caller escapes what it prints.
                format!("stat {}/overlay2/{cache_id}: no such file or directory", self.node_root)
            })
    }

    /// `LookupImage(input)`: the body dockerd 20.10 sends for `docker image inspect`, or its
    /// error (`Lookup::NotFound` for its 404).
    pub fn inspect(&self, input: &str) -> Result<J, Lookup> {
        let img = self.resolve(input).map_err(|e| match e {
            Lookup::Invalid(m) => Lookup::Invalid(format!("no such image: {input}: {m}")),
            nf => nf,
        })?;
        if !img.os_supported() {
            return Err(Lookup::Invalid("operating system is not supported".into()));
        }
        let (mut tags, mut digests) = (Vec::new(), Vec::new());
        for r in self.references(&img.hex) {
            if r.tag.is_some() {
                tags.push(J::Str(r.familiar()));
            } else if r.digest.is_some() {
                digests.push(J::Str(r.familiar()));
            }
        }
        let (size, data) = match chain_id(&img.diff_ids()) {
            None => (0, J::Null),
            Some(chain) => {
                let Some(layer) = self.layer(&chain) else {
                    return Err(Lookup::Invalid("layer does not exist".into()));
                };
                let named_by = self
                    .store
                    .join("layerdb/sha256")
                    .join(chain.trim_start_matches("sha256:"))
                    .join("cache-id");
                let data = self.driver_data(&layer.cache_id, &named_by).map_err(Lookup::Invalid)?;
                (layer.chain_size, data)
            }
        };
        let comment = match img.str_field("comment") {
            "" => img
                .history()
                .last()
                .and_then(|h| h.get("comment"))
                .and_then(J::as_str)
                .unwrap_or_default()
                .to_string(),
            c => c.to_string(),
        };
        let last = self.last_updated(&img.hex).map_err(Lookup::Invalid)?;
        let config = |key: &str, shape: &Shape| match img.doc.get(key) {
            Some(v) => goshape::marshal(v, shape, tags20),
            None => goshape::marshal(&J::Null, shape, tags20),
        };
        let container_config = match img.doc.get("container_config") {
            Some(v @ J::Obj(_)) => goshape::marshal(v, &CONFIG20, tags20),
            _ => goshape::marshal(&J::Obj(Vec::new()), &CONFIG20, tags20),
        };
        let mut o: Vec<(String, J)> = Vec::new();
        let mut put = |k: &str, v: J| o.push((k.to_string(), v));
        put("Id", J::Str(img.id()));
        put("RepoTags", J::Arr(tags));
        put("RepoDigests", J::Arr(digests));
        put("Parent", J::Str(img.parent.clone()));
        put("Comment", J::Str(comment));
        put("Created", J::str(img.created()));
        put("Container", J::str(img.str_field("container")));
        put("ContainerConfig", container_config);
        put("DockerVersion", J::str(img.str_field("docker_version")));
        put("Author", J::str(img.str_field("author")));
        put("Config", config("config", &CONFIG20));
        put("Architecture", J::str(img.str_field("architecture")));
        if !img.str_field("variant").is_empty() {
            put("Variant", J::str(img.str_field("variant")));
        }
        put("Os", J::str(img.os()));
        if !img.str_field("os.version").is_empty() {
            put("OsVersion", J::str(img.str_field("os.version")));
        }
        put("Size", J::Int(size));
        put("VirtualSize", J::Int(size));
        put(
            "GraphDriver",
            J::Obj(vec![
                ("Data".into(), data),
                ("Name".into(), J::str(self.driver.clone())),
            ]),
        );
        let mut rootfs = vec![(
            "Type".to_string(),
            J::str(img.doc.at(&["rootfs", "type"]).and_then(J::as_str).unwrap_or_default()),
        )];
        let layers = img.diff_ids();
        if !layers.is_empty() {
            rootfs.push(("Layers".into(), J::Arr(layers.into_iter().map(J::Str).collect())));
        }
        put("RootFS", J::Obj(rootfs));
        put(
            "Metadata",
            J::Obj(vec![(
                "LastTagTime".into(),
                J::str(last.unwrap_or_else(|| "0001-01-01T00:00:00Z".into())),
            )]),
        );
        Ok(J::Obj(o))
    }

    /// `ImageHistory(input)`: entries newest first, each non-empty one sized by its own
    /// layer; IDs down the imagedb parent chain, one an entry (as dockerd 20.10 gives them),
    /// `<missing>` below. `Err`: the daemon's message.
    pub fn history(&self, input: &str) -> Result<Vec<crate::inspect::history::Entry>, String> {
        let img = self.resolve(input).map_err(|e| match e {
            Lookup::NotFound(m) | Lookup::Invalid(m) => m,
        })?;
        let config = self.store.join("imagedb/content/sha256").join(&img.hex);
        self.history_of(img).map_err(|e| {
            // The config, or its layers, are not what dockerd writes: damage, named.
            self.problems
                .borrow_mut()
                .damaged
                .push(format!("{}: {e}", Self::shown(&config)));
            e
        })
    }

    fn history_of(&self, img: Image) -> Result<Vec<crate::inspect::history::Entry>, String> {
        let diff_ids = img.diff_ids();
        // Each layer's chain from the one below it (a chain per entry from scratch is a hash of
        // every layer below: quadratic in an image of thousands of layers).
        let chains = chain_ids(&diff_ids);
        let mut entries = Vec::new();
        let mut layer_counter = 0usize;
        for h in img.history() {
            let mut size = 0;
            if h.get("empty_layer").and_then(J::as_bool) != Some(true) {
                if diff_ids.len() <= layer_counter {
                    return Err("too many non-empty layers in History section".into());
                }
                if !img.os_supported() {
                    return Err("operating system is not supported".into());
                }
                let chain = chains.get(layer_counter).map(String::as_str).unwrap_or_default();
                size = self.layer(chain).ok_or("layer does not exist")?.size;
                layer_counter += 1;
            }
            let created = h
                .get("created")
                .and_then(J::as_str)
                .and_then(crate::containerd::gotime::parse_rfc3339)
                .map_or(ZERO_UNIX, |t| t.unix);
            let text = |k: &str| h.get(k).and_then(J::as_str).unwrap_or_default().to_string();
            entries.push(crate::inspect::history::Entry {
                id: "<missing>".into(),
                created,
                created_by: text("created_by"),
                size,
                comment: text("comment"),
            });
        }
        entries.reverse();
        let mut id = img.id();
        let mut at = img;
        let mut seen = std::collections::HashSet::new();
        // The image whose `parent` file gave `id`, and whether a loop was said.
        let mut named_by: Option<String> = None;
        let mut looped = false;
        for e in entries.iter_mut() {
            if !looped && !seen.insert(id.clone()) {
                // dockerd walks on, one step an entry, so the IDs repeat: printed as it gives
                // them, and said once.
                looped = true;
                let file = self
                    .store
                    .join("imagedb/metadata/sha256")
                    .join(named_by.as_deref().unwrap_or_default())
                    .join("parent");
                self.problems.borrow_mut().damaged.push(format!(
                    "{}: names {}, an image already above it in this history (a loop in the parent links): the IDs below repeat, as dockerd gives them",
                    Self::shown(&file),
                    crate::text::escape(id.as_bytes())
                ));
            }
            e.id = id;
            let parent = at.parent.clone();
            if parent.is_empty() {
                break;
            }
            // `GetImage(parent)`: a digest, read from the image store.
            match parent
                .strip_prefix("sha256:")
                .filter(|h| is_hex64(h))
                .and_then(|h| self.get(h))
            {
                Some(p) => {
                    named_by = Some(at.hex.clone());
                    id = p.id();
                    at = p;
                }
                None => break,
            }
        }
        Ok(entries)
    }
}

/// A reference error as dockerd 20.10's vendored `docker/distribution` words it: it does not
/// yet name the repository in "must be lowercase" (`repository name (library/UPPER) must
/// be lowercase` is the later wording).
fn words_of_2010(message: &str) -> String {
    const LATER: &str = "invalid reference format: repository name (";
    match message.strip_prefix(LATER) {
        Some(rest) if rest.ends_with(") must be lowercase") => {
            "invalid reference format: repository name must be lowercase".to_string()
        }
        _ => message.to_string(),
    }
}

/// `time.Time{}.Unix()`: the zero time's seconds.
const ZERO_UNIX: i64 = -62_135_596_800;

/// An image config as `image.NewFromJSON` takes it: decoded into [`IMAGE20`], with a
/// `rootfs`; `Err` with why not.
pub fn image_config(bytes: &[u8]) -> Result<J, String> {
    if files::parsed_bound(bytes) > files::MAX_PARSED {
        return Err(format!(
            "could take more than {} MiB of memory once read; not read",
            files::MAX_PARSED >> 20
        ));
    }
    let doc = gojson::parse_as_go(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let doc = goshape::unmarshal(doc, &IMAGE20, "image.Image")?;
    if matches!(doc.get("rootfs"), None | Some(J::Null)) {
        return Err("invalid image JSON, no RootFS key".into());
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_as_moby_makes_them() {
        let d = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        assert_eq!(chain_id(&[]), None);
        assert_eq!(chain_id(&[d('a')]), Some(d('a')));
        let two = chain_id(&[d('a'), d('b')]).unwrap();
        let want = hex::encode(sha2::Sha256::digest(format!("{} {}", d('a'), d('b')).as_bytes()));
        assert_eq!(two, format!("sha256:{want}"));
    }

    #[test]
    fn a_config_without_rootfs_is_no_image() {
        assert!(image_config(br#"{"os":"linux"}"#).unwrap_err().contains("no RootFS"));
        assert!(image_config(br#"{"rootfs":{"type":"layers"},"created":"bad"}"#).is_err());
        assert!(image_config(b"[").is_err());
        let ok = image_config(br#"{"rootfs":{"type":"layers","diff_ids":[]},"Config":{"Cmd":"sh"}}"#).unwrap();
        assert_eq!(ok.at(&["config", "Cmd"]).unwrap().items().len(), 1);
    }
}
