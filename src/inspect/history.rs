//! `docker image history` for the containerd image store, from disk: dockerd 28.5's
//! `ImageService.ImageHistory` (`daemon/containerd/image_history.go`).
//!
//! ```text
//!  image record ──target──▶ index ──▶ manifests whose content records are there
//!                                        │ the best for the platform matcher (ties: the first)
//!                                        ▼
//!                                     config { rootfs.diff_ids, history[] }
//!  diff_ids d1 d2 d3 ──▶ chain IDs c1 c2 c3 ──▶ meta.db snapshots/<snapshotter>/c_i ──name──▶
//!                        the snapshotter's metadata.db: committed → its recorded size
//!  history[] oldest first ──▶ entries newest first; each non-empty entry takes the next
//!                             chain's size in order (more non-empty entries than layers:
//!                             dockerd fails, "unable to find the size of the layer")
//!  entry IDs: the image's target digest, then (label org.mobyproject.image.parent) its
//!             parent image's target, and so on while a parent image record is there;
//!             "<missing>" below that
//! ```
//!
//! A chain with no snapshot record (an image not unpacked) has size 0, as dockerd logs and
//! carries on; anything else that stops a size from being read is said, the size left 0.

use super::{InspectError, Inspector, MAX_GRAPH_DEPTH, ReadError, descriptor_of};
use crate::bolt::{MetaChoice, ReadMode};
use crate::containerd::records::{self, Image};
use crate::image::document::{self, Descriptor, HistoryConfig};
use crate::image::platform::{Matcher, Platform};
use foldhash::HashSet;

/// The label the classic builder sets on an image it built: its parent image's target digest.
const BUILDER_PARENT: &str = "org.mobyproject.image.parent";

/// One line of `docker image history`: the API's `HistoryResponseItem`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// A target digest, or `<missing>`.
    pub id: String,
    /// Seconds since the epoch (0 when the history entry has no time).
    pub created: i64,
    pub created_by: String,
    /// Bytes: the snapshotter's usage of the layer's chain (0 for an empty layer).
    pub size: i64,
    pub comment: String,
}

/// What `history` found: the entries, newest first; the layer chains that have no snapshot
/// (dockerd logs each and sizes it 0: an image not unpacked), in order; and what could not be
/// read (damage).
#[derive(Debug, Default)]
pub struct History {
    pub entries: Vec<Entry>,
    pub unsnapshotted: Vec<String>,
    /// How many layer chains the config has (its diff IDs).
    pub chains: usize,
    pub damage: Vec<String>,
}

/// The snapshotter's metadata.db, opened at the first chain that asks for it (`None`: not
/// there).
type BackendDb = std::cell::OnceCell<Option<Result<crate::bolt::Db, crate::bolt::BoltError>>>;

/// Where a chain's size comes from: the snapshotter dockerd uses, read as `mode` says.
pub struct Sizes<'a> {
    pub snapshotter: &'a str,
    pub mode: ReadMode,
}

impl Inspector<'_> {
    /// `docker image history REFERENCE`: the error is the daemon's.
    pub fn history(&self, reference: &str, sizes: &Sizes<'_>) -> Result<History, InspectError> {
        let image = self.resolve(reference)?;
        // `matchRequestedOrDefault(platforms.Only, platform)`.
        let matcher = match &self.options.platform {
            Some(p) => Matcher::only(p),
            None => Matcher::all_preferring(&self.options.host),
        };
        let manifest = self.best_present_manifest(&image, &matcher)?;
        let config = self
            .manifest(&manifest, false)
            .map_err(|e| InspectError(read_error(&manifest.digest, e)))?
            .config
            .clone();
        let blob = self
            .read_blob(&config)
            .map_err(|e| InspectError(read_error(&config.digest, e)))?;
        // A config that does not decode is dockerd's error, and damage: its blob is named.
        let config: HistoryConfig = document::decode(&blob).map_err(|e| {
            if let Ok(mut d) = self.damaged.lock() {
                d.insert(config.digest.clone(), format!("config {}: {e}", config.digest));
            }
            InspectError(e.to_string())
        })?;
        let mut out = History::default();
        let diff_ids = config.rootfs.diff_ids.unwrap_or_default();
        out.chains = diff_ids.len();
        let mut chain_sizes = Vec::with_capacity(diff_ids.len().min(4096));
        let mut chain: Option<String> = None;
        // The snapshotter's metadata.db, opened once for every chain (when one is asked for).
        let backend_db = std::cell::OnceCell::new();
        for diff_id in &diff_ids {
            let id = match chain.take() {
                None => diff_id.clone(),
                Some(below) => crate::digest::Digest::sha256_of(format!("{below} {diff_id}").as_bytes()).to_string(),
            };
            chain_sizes.push(self.chain_size(&id, sizes, &backend_db, &mut out));
            chain = Some(id);
        }
        let mut layer_sizes = chain_sizes.into_iter();
        let mut entries = Vec::with_capacity(config.history.len().min(4096));
        for h in &config.history {
            let size = if h.empty_layer {
                0
            } else {
                layer_sizes
                    .next()
                    .ok_or_else(|| InspectError("unable to find the size of the layer".into()))?
            };
            let created = match h.created.as_deref() {
                None => 0,
                Some(t) => crate::containerd::gotime::parse_rfc3339(t).map_or(0, |t| t.unix),
            };
            entries.push(Entry {
                id: "<missing>".into(),
                created,
                created_by: h.created_by.clone(),
                size,
                comment: h.comment.clone(),
            });
        }
        entries.reverse();
        // The IDs: this image's target, then the classic builder's parent chain while it goes.
        // A chain of labels that comes back to an image met before names the same IDs again,
        // as dockerd's does: the entries bound it.
        let mut current = image;
        for entry in &mut entries {
            entry.id = current.target.digest.clone();
            match self.builder_parent(&current) {
                Some(parent) => current = parent,
                None => break,
            }
        }
        out.entries = entries;
        Ok(out)
    }

    /// dockerd's `getParentsByBuilderLabel` and its choice among them: of the records whose
    /// target is the label's digest (name order), the last that has the label itself, else the
    /// first.
    fn builder_parent(&self, image: &Image) -> Option<Image> {
        let label = image.labels.get(BUILDER_PARENT).filter(|v| !v.is_empty())?;
        // `digest.Parse`: a value that is no digest names no parent (dockerd logs it).
        let digest = crate::digest::Digest::parse(label).ok()?.to_string();
        let parents = self.with_target(&digest, records::Scan::Keep);
        let mut next: Option<&Image> = None;
        for p in &parents {
            if next.is_none() || p.labels.contains_key(BUILDER_PARENT) {
                next = Some(p);
            }
        }
        next.cloned()
    }

    /// moby's `getBestPresentImageManifest`: containerd's `Walk` over the target with the
    /// present-children handler (a descriptor whose content record is not there is passed
    /// over, with its children); each manifest met is ranked by its platform (the
    /// descriptor's, else its config's), the first of the most preferred kept.
    fn best_present_manifest(&self, image: &Image, matcher: &Matcher) -> Result<Descriptor, InspectError> {
        let target = descriptor_of(image);
        if !document::is_manifest_type(&target.media_type) && !document::is_index_type(&target.media_type) {
            return Err(InspectError(format!(
                "error walking manifest for {}: descriptor is neither a manifest or index",
                image.name
            )));
        }
        let mut best: Option<(Descriptor, Platform)> = None;
        if document::is_manifest_type(&target.media_type) {
            // `walkImageManifests`: the image's own manifest is taken as it is, with no
            // presence check (its config is read through it, and fails there).
            self.rank(&target, matcher, &mut best)?;
        } else {
            let mut seen = HashSet::default();
            self.walk_present(&target, matcher, &mut best, &mut seen, 0)?;
        }
        match best {
            Some((d, _)) => Ok(d),
            None => {
                let name = familiar_name(image);
                Err(InspectError(match &self.options.platform {
                    Some(p) => format!(
                        "image with reference {name} was found but does not provide the specified platform ({})",
                        format_all(p)
                    ),
                    None => format!("image with reference {name} was found but does not provide any platform"),
                }))
            }
        }
    }

    fn walk_present(
        &self,
        desc: &Descriptor,
        matcher: &Matcher,
        best: &mut Option<(Descriptor, Platform)>,
        seen: &mut HashSet<(String, String)>,
        depth: usize,
    ) -> Result<(), InspectError> {
        let document = document::is_manifest_type(&desc.media_type) || document::is_index_type(&desc.media_type);
        if document && depth > MAX_GRAPH_DEPTH {
            return Err(InspectError(super::too_deep(&desc.digest)));
        }
        // `store.Info`: no record, not present.
        match self.content_size(&desc.digest) {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(()),
            Err(e) => return Err(InspectError(e.to_string())),
        }
        // Each listing is ranked by its own platform: an index may list one manifest twice,
        // for two platforms (a review: the second listing was passed over).
        if document::is_manifest_type(&desc.media_type) {
            self.rank(desc, matcher, best)?;
        }
        // Its children are the same however it is listed: walked once (an index DAG with
        // genuine digests would cost 2^depth walks).
        if !seen.insert((desc.digest.clone(), desc.media_type.clone())) {
            return Ok(());
        }
        let children = self
            .children(desc)
            .map_err(|e| InspectError(read_error(&desc.digest, e)))?;
        for child in children.iter() {
            self.walk_present(child, matcher, best, seen, depth + 1)?;
        }
        Ok(())
    }

    /// One manifest's turn: its platform (the descriptor's, else its config's) ranked, the
    /// first of the most preferred kept.
    fn rank(
        &self,
        desc: &Descriptor,
        matcher: &Matcher,
        best: &mut Option<(Descriptor, Platform)>,
    ) -> Result<(), InspectError> {
        let platform = match &desc.platform {
            Some(p) => p.clone(),
            None => self.config_platform(desc)?,
        };
        if matcher.matches(&platform) && best.as_ref().is_none_or(|(_, b)| matcher.less(&platform, b)) {
            *best = Some((desc.clone(), platform));
        }
        Ok(())
    }

    /// `ImageManifest.ImagePlatform` for a manifest whose descriptor names none: its config
    /// read into an `ocispec.Platform`.
    fn config_platform(&self, desc: &Descriptor) -> Result<Platform, InspectError> {
        let m = self
            .manifest(desc, false)
            .map_err(|e| InspectError(read_error(&desc.digest, e)))?;
        let blob = self
            .read_blob(&m.config)
            .map_err(|e| InspectError(read_error(&m.config.digest, e)))?;
        document::config_as_platform(&blob).map_err(|e| InspectError(e.to_string()))
    }

    /// The snapshotter's usage of chain `chain_id` (containerd's `Snapshotter.Usage`): a
    /// committed snapshot's recorded size, an active one's measured directory. 0 when there is
    /// no such snapshot (said as dockerd logs it) or it cannot be read (said as damage).
    fn chain_size(&self, chain_id: &str, sizes: &Sizes<'_>, backend_db: &BackendDb, out: &mut History) -> i64 {
        let ns = records::key_bytes(&self.namespace);
        let path: [&[u8]; 5] = [
            b"v1",
            &ns,
            b"snapshots",
            sizes.snapshotter.as_bytes(),
            chain_id.as_bytes(),
        ];
        let not_found = |out: &mut History| {
            out.unsnapshotted.push(chain_id.to_string());
            0
        };
        let record = match self.tx.bucket_at(&path) {
            Ok(Some(b)) => b,
            Ok(None) => return not_found(out),
            Err(e) => {
                out.damage.push(format!("snapshot {chain_id}: {e}; size 0"));
                return 0;
            }
        };
        let backend_key = match record.get(b"name") {
            Ok(Some(v)) => records::key_name(v),
            Ok(None) => return not_found(out),
            Err(e) => {
                out.damage.push(format!("snapshot {chain_id}: {e}; size 0"));
                return 0;
            }
        };
        let db = match backend_db.get_or_init(|| self.root.snapshotter_db(sizes.snapshotter, sizes.mode)) {
            Some(Ok(db)) => db,
            None => {
                out.damage.push(format!(
                    "{}: the size of snapshot {chain_id} is unknown; size 0",
                    crate::containerd::root::no_snapshotter_db(sizes.snapshotter)
                ));
                return 0;
            }
            Some(Err(e)) => {
                out.damage.push(format!("{e}; size of snapshot {chain_id}: 0"));
                return 0;
            }
        };
        let tx = match db.view(MetaChoice::Current) {
            Ok(tx) => tx,
            Err(e) => {
                out.damage.push(format!("{e}; size of snapshot {chain_id}: 0"));
                return 0;
            }
        };
        let backend = match tx.bucket_at(&[b"v1".as_slice(), b"snapshots", backend_key.as_bytes()]) {
            Ok(Some(b)) => b,
            Ok(None) => {
                out.damage.push(format!(
                    "{}; size 0",
                    records::backend_key_missing_message(&self.namespace, chain_id, sizes.snapshotter, &backend_key)
                ));
                return 0;
            }
            Err(e) => {
                out.damage.push(format!("{e}; size of snapshot {chain_id}: 0"));
                return 0;
            }
        };
        let mut damage = crate::damage::Damage::new();
        let snapshot = records::backend_snapshot(&tx, backend_key, &backend, &mut damage);
        for note in damage.distinct() {
            out.damage.push(note.message.clone());
        }
        if snapshot.kind == "Active" {
            let dir = match (sizes.snapshotter, snapshot.id) {
                ("overlayfs", Some(id)) => self
                    .root
                    .dir
                    .join(format!("io.containerd.snapshotter.v1.overlayfs/snapshots/{id}/fs")),
                ("native", Some(id)) => self
                    .root
                    .dir
                    .join(format!("io.containerd.snapshotter.v1.native/snapshots/{id}")),
                _ => {
                    out.damage.push(format!(
                        "snapshot {chain_id} ({}) is active: its directory is not known to coldctr; size 0",
                        sizes.snapshotter
                    ));
                    return 0;
                }
            };
            // continuity's `fs.DiskUsage`, which fails rather than under-count.
            return match crate::tree_usage::disk_usage_strict(&dir) {
                Ok(u) => i64::try_from(u.bytes).unwrap_or(i64::MAX),
                Err(e) => {
                    out.damage.push(format!("snapshot {chain_id}: {e}; size 0"));
                    0
                }
            };
        }
        snapshot.size.unwrap_or(0)
    }
}

/// moby's `imageFamiliarName`: a dangling record's target digest, else its name made familiar
/// (as written when it does not parse).
fn familiar_name(image: &Image) -> String {
    if image.name == format!("moby-dangling@{}", image.target.digest) {
        return image.target.digest.clone();
    }
    match crate::image::reference::parse_normalized_named(&image.name) {
        Ok(named) if named.to_string() == image.name => named.familiar(),
        _ => image.name.clone(),
    }
}

/// `platforms.FormatAll`: os/arch[/variant], with the OS version in parentheses when there is
/// one.
fn format_all(p: &Platform) -> String {
    if p.os.is_empty() {
        return "unknown".into();
    }
    let os = match p.os_version.as_str() {
        "" => p.os.clone(),
        v => format!("{}({v})", p.os),
    };
    [os.as_str(), &p.architecture, &p.variant]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// A blob that could not be read, in containerd's words.
fn read_error(digest: &str, e: ReadError) -> String {
    match e {
        ReadError::NotFound => format!("content digest {digest}: not found"),
        ReadError::Other(e) => e,
    }
}
