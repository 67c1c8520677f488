//! What `coldctr images` learns of one image target, read from the content store: its
//! platforms (present and missing, attestations apart), `ctr images check`'s content count,
//! the unpacked size along its snapshot chain, and docker's inspect Size. One walk per
//! target, shared by every record that names it.

use super::{Backends, BlobRead};
use crate::bolt::Tx;
use crate::cli::context::Global;
use crate::containerd::records::{self, Image};
use crate::containerd::root::{BlobError, Root, unlike_record};
use crate::damage::Damage;
use crate::image::document::{self, Descriptor, DocError, Manifest};
use crate::image::platform::{Matcher, Platform};
use crate::inspect::{Inspector, Parsed};
use foldhash::HashMap;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// One platform manifest of an image.
#[derive(Clone, Serialize)]
pub(super) struct PlatformEntry {
    /// `os/arch[/variant]`; null when neither the descriptor nor a readable config says.
    pub(super) platform: Option<String>,
    pub(super) digest: String,
    #[serde(rename = "mediaType")]
    pub(super) media_type: String,
    pub(super) size: i64,
    /// The manifest blob is readable in the namespace.
    pub(super) present: bool,
    /// An attestation manifest (`unknown/unknown`, `vnd.docker.reference.type`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) attestation: bool,
    /// The manifest's config digest and layer descriptors (when the manifest reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) config: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) layers: Vec<LayerEntry>,
}

/// One layer of a platform manifest, as its descriptor says.
#[derive(Clone, Serialize)]
pub(super) struct LayerEntry {
    pub(super) digest: String,
    #[serde(rename = "mediaType")]
    pub(super) media_type: String,
    pub(super) size: i64,
}

/// The config digest and layers of a manifest that read.
fn parts(doc: &Doc<Arc<Manifest>>) -> (Option<String>, Vec<LayerEntry>) {
    match doc {
        Doc::Ok(m) => (
            Some(m.config.digest.clone()),
            m.layers
                .iter()
                .map(|l| LayerEntry {
                    digest: l.digest.clone(),
                    media_type: l.media_type.clone(),
                    size: l.size,
                })
                .collect(),
        ),
        _ => (None, Vec::new()),
    }
}

/// `ctr images check` for the host platform.
#[derive(Serialize)]
pub(super) struct ContentCheck {
    pub(super) definition: &'static str,
    /// The platform the manifest was chosen for.
    pub(super) platform: String,
    /// complete, incomplete, unavailable (no usable manifest), or error.
    pub(super) status: &'static str,
    /// Bytes of the required blobs that are present.
    pub(super) present: i64,
    /// Bytes of config + layers; null when no manifest could be chosen.
    pub(super) required: Option<i64>,
    #[serde(rename = "presentCount")]
    pub(super) present_count: usize,
    #[serde(rename = "requiredCount")]
    pub(super) required_count: Option<usize>,
    /// The required blobs that are not there.
    pub(super) missing: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
}

/// The unpacked (snapshot) size of one snapshotter's chain.
#[derive(Serialize)]
pub(super) struct Unpacked {
    pub(super) definition: &'static str,
    pub(super) snapshotter: String,
    #[serde(rename = "chainId")]
    pub(super) chain_id: String,
    /// Sum of the known sizes along the chain.
    pub(super) size: i64,
    /// Snapshots in the chain found in meta.db.
    pub(super) snapshots: usize,
    /// Every snapshot of the chain was found with a size.
    pub(super) complete: bool,
}

/// Every size definition of an image. Add a definition as a field here, named for it.
#[derive(Serialize)]
pub(super) struct Sizes {
    /// `ctr images check`'s present/required.
    pub(super) content: ContentCheck,
    /// Unpacked size per snapshotter that has unpacked the host platform's manifest.
    pub(super) unpacked: Vec<Unpacked>,
    /// Docker's `image inspect` Size (moby's `size()`), for the machine's host platform.
    #[serde(rename = "dockerInspect", skip_serializing_if = "Option::is_none")]
    pub docker_inspect: Option<DockerSize>,
}

/// `docker image inspect`'s Size.
#[derive(Serialize)]
pub(super) struct DockerSize {
    pub(super) definition: &'static str,
    pub(super) size: i64,
}

/// What the walk of one target found (shared by every record with that target).
pub(super) struct Analysis {
    pub(super) platforms: Vec<PlatformEntry>,
    pub(super) sizes: Sizes,
    pub(super) problems: Vec<String>,
}

/// Indexes nest at most as deep as inspect and export follow them (containerd's walk has no
/// limit); deeper, the walk stops and says so: one of the image's problems, never a silently
/// shorter answer.
pub(super) use crate::inspect::MAX_GRAPH_DEPTH;
use crate::inspect::too_deep;

// ---- reading blobs ---------------------------------------------------------------------------

/// A blob read and decoded.
pub(super) enum Doc<T> {
    Ok(T),
    /// containerd's NotFound: no content record in the namespace, or no file.
    Missing,
    /// There, but unusable; the reason names the blob.
    Bad(String),
}

impl<T> Doc<T> {
    fn is_ok(&self) -> bool {
        matches!(self, Doc::Ok(_))
    }
}

/// What every target's analysis reads, shared by the pool's workers.
pub(super) struct Shared<'s, 'a> {
    pub(super) root: &'a Root,
    pub(super) tx: &'s Tx<'a>,
    pub(super) global: &'a Global,
    backends: &'s Backends,
    host: Platform,
    /// Each namespace's inspector: content sizes are looked up through it, so that the
    /// content check and docker's Size share them.
    inspectors: &'s HashMap<String, Inspector<'a>>,
    /// `ctr images check`'s verdict per (namespace, digest), asked once: layers are shared
    /// between images (30% on the generated store).
    present: Mutex<HashMap<String, HashMap<[u8; 32], Presence>>>,
    /// Damage met by what the analyses share (the snapshotters' DBs, the content records
    /// behind the presence answers), reported once after the analyses.
    shared_damage: Mutex<Damage>,
    /// The sha256 blobs that are regular files, listed once when most will be asked about
    /// (see [`Shared::list_blobs`]); otherwise each is looked at by name.
    regular: std::sync::OnceLock<Option<foldhash::HashSet<[u8; 32]>>>,
}

impl<'s, 'a> Shared<'s, 'a> {
    pub(super) fn new(
        root: &'a Root,
        tx: &'s Tx<'a>,
        global: &'a Global,
        backends: &'s Backends,
        inspectors: &'s HashMap<String, Inspector<'a>>,
    ) -> Self {
        Shared {
            root,
            tx,
            global,
            backends,
            host: global.host(),
            inspectors,
            present: Mutex::new(HashMap::default()),
            shared_damage: Mutex::new(Damage::new()),
            regular: std::sync::OnceLock::new(),
        }
    }

    /// Lists the blobs directory once, for analyses that will ask about most of its blobs:
    /// one read of the directory's entries instead of an `fstatat` per blob. The answers are
    /// the same: a blob is there when its entry is a regular file.
    pub(super) fn list_blobs(&self) {
        let _ = self.regular.set(self.root.sha256_regular_blobs());
    }

    /// The damage met by shared lookups so far (taken once).
    pub(super) fn take_shared_damage(&self) -> Damage {
        self.shared_damage
            .lock()
            .map(|mut d| std::mem::take(&mut *d))
            .unwrap_or_default()
    }

    /// The size in `digest`'s content record in `ns` (`records::content_size_of`).
    fn content_size(&self, ns: &str, digest: &str) -> Result<Option<i64>, crate::bolt::BoltError> {
        match self.inspectors.get(ns) {
            Some(i) => i.content_size(digest),
            None => records::content_size_of(self.tx, ns, digest),
        }
    }
}

/// One target's analysis: the blobs it read (the platform walk, the content check and the
/// config read the same manifest) and the damage it met.
pub(super) struct Walk<'w, 's, 'a> {
    pub(super) shared: &'w Shared<'s, 'a>,
    blobs: RefCell<HashMap<String, BlobRead>>,
    /// Blobs read whose content record is there but whose file is not, with the size the
    /// record says: shown as containerd shows them (not found), and a problem of the image.
    lost: RefCell<std::collections::BTreeMap<String, Lost>>,
    pub(super) damage: Damage,
}

impl<'w, 's, 'a> Walk<'w, 's, 'a> {
    pub(super) fn new(shared: &'w Shared<'s, 'a>) -> Self {
        Walk {
            shared,
            blobs: RefCell::new(HashMap::default()),
            lost: RefCell::new(std::collections::BTreeMap::new()),
            damage: Damage::new(),
        }
    }

    /// The blobs read whose record is there and whose file is not: problems of the image.
    pub(super) fn lost_problems(&self) -> Vec<String> {
        (self.lost.borrow().iter())
            .map(|(digest, (bytes, file))| unlike_record(digest, bytes, file))
            .collect()
    }
}

/// Reads blob `digest` of `ns`, once per walk.
fn read_blob(w: &Walk<'_, '_, '_>, ns: &str, digest: &str) -> BlobRead {
    if let Some(hit) = w.blobs.borrow().get(digest) {
        return hit.clone();
    }
    let read = (w.shared.root)
        .read_looked_up(digest, w.shared.content_size(ns, digest))
        .map(std::rc::Rc::new);
    // Lost, not merely unknown: one of the image's problems.
    if let Some((digest, bytes)) = read.as_ref().err().and_then(|e| e.lost()) {
        w.lost
            .borrow_mut()
            .insert(digest.to_string(), (bytes, "missing".into()));
    }
    w.blobs.borrow_mut().insert(digest.to_string(), read.clone());
    read
}

/// Reads `digest` in `ns` and decodes it as `T` (Go's `json.Unmarshal` rules).
pub(super) fn read_doc<T: document::GoShaped>(w: &Walk<'_, '_, '_>, ns: &str, digest: &str) -> Doc<T> {
    doc_of(digest, read_blob(w, ns, digest), |bytes| document::decode::<T>(bytes))
}

/// The platform of config `digest` in `ns`, as [`read_doc`] of an `ImageConfig` would say
/// ([`document::config_platform`]).
fn read_platform(w: &Walk<'_, '_, '_>, ns: &str, digest: &str) -> Doc<Platform> {
    doc_of(digest, read_blob(w, ns, digest), |bytes| {
        document::config_platform(bytes)
    })
}

/// `desc`'s manifest or index, read once per walk and validated and decoded once per
/// namespace: through the namespace's inspector, whose docker Size walk of the same target
/// then finds it decoded instead of reading it again.
fn read_parsed(w: &Walk<'_, '_, '_>, ns: &str, desc: &Descriptor) -> Result<Arc<Parsed>, BlobError> {
    let bytes = read_blob(w, ns, &desc.digest)?;
    Ok(match w.shared.inspectors.get(ns) {
        Some(i) => i.parsed_from(desc, &bytes),
        None => Arc::new(Parsed::of(&bytes, &desc.media_type)),
    })
}

/// A manifest, as [`read_doc`] would decode it, from [`read_parsed`].
fn read_manifest(w: &Walk<'_, '_, '_>, ns: &str, desc: &Descriptor) -> Doc<Arc<Manifest>> {
    doc_of(&desc.digest, read_parsed(w, ns, desc), |p| p.manifest.clone())
}

/// An index's manifests, as [`read_doc`] would decode them, from [`read_parsed`].
fn read_index(w: &Walk<'_, '_, '_>, ns: &str, desc: &Descriptor) -> Doc<Arc<Vec<Descriptor>>> {
    doc_of(&desc.digest, read_parsed(w, ns, desc), |p| p.children.clone())
}

/// What a read of `digest`, then `decode`, make of it.
fn doc_of<B, T>(digest: &str, read: Result<B, BlobError>, decode: impl FnOnce(&B) -> Result<T, DocError>) -> Doc<T> {
    match read {
        Ok(bytes) => match decode(&bytes) {
            Ok(v) => Doc::Ok(v),
            Err(e) => Doc::Bad(format!("{digest}: not a valid document: {e}")),
        },
        Err(e) if e.is_not_found() => Doc::Missing,
        Err(BlobError::UnexpectedEof { recorded, on_disk, .. }) => Doc::Bad(format!(
            "{digest}: unexpected EOF: the content record says {recorded} bytes, the file has {on_disk}"
        )),
        Err(e) => Doc::Bad(e.to_string()),
    }
}

/// An attestation manifest: buildkit's annotation, or the `unknown/unknown` platform.
fn is_attestation(d: &Descriptor) -> bool {
    d.annotation("vnd.docker.reference.type") == Some("attestation-manifest")
        || d.platform
            .as_ref()
            .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
}

/// containerd's `platforms.Format`, and "unknown" when nothing says.
fn format_platform(p: &Platform) -> String {
    if p.os.is_empty() { "unknown".into() } else { p.format() }
}

// ---- the walk ----------------------------------------------------------------------------------

pub(super) fn analyse(s: &mut Walk<'_, '_, '_>, image: &Image, inspector: Option<&Inspector<'_>>) -> Analysis {
    let ns = image.namespace.as_str();
    let mut problems = Vec::new();
    let mut platforms = Vec::new();
    let target = Descriptor {
        media_type: image.target.media_type.clone(),
        digest: image.target.digest.clone(),
        size: image.target.size,
        ..Descriptor::default()
    };
    walk_platforms(s, ns, &target, 0, &mut BTreeSet::new(), &mut platforms, &mut problems);
    let host = s.shared.host.clone();
    let (content, config) = check(s, ns, &target, &host, &mut problems);
    let unpacked = config.map(|c| unpacked(s, ns, &c)).unwrap_or_default();
    let docker_inspect = inspector.map(|i| {
        i.docker_size(image).map_err(|e| {
            problems.push(format!("Docker inspect Size: {e}"));
        })
    });
    problems.extend(s.lost_problems());
    problems.sort();
    problems.dedup();
    for p in &problems {
        s.damage.push(format!("namespace {ns}: image \"{}\": {p}", image.name));
    }
    Analysis {
        platforms,
        sizes: Sizes {
            content,
            unpacked,
            docker_inspect: docker_inspect.and_then(Result::ok).map(|size| DockerSize {
                definition: "docker image inspect Size: target + the host-preferred manifest + its config and layers, as declared (moby size())",
                size,
            }),
        },
        problems,
    }
}

/// The platform of a manifest's config; None when the config cannot be read.
fn config_platform(
    s: &Walk<'_, '_, '_>,
    ns: &str,
    manifest: &Manifest,
    problems: &mut Vec<String>,
) -> Option<Platform> {
    match read_platform(s, ns, &manifest.config.digest) {
        Doc::Ok(p) => Some(p),
        Doc::Missing => None,
        Doc::Bad(why) => {
            problems.push(why);
            None
        }
    }
}

fn walk_platforms(
    s: &Walk<'_, '_, '_>,
    ns: &str,
    desc: &Descriptor,
    depth: usize,
    expanded: &mut BTreeSet<String>,
    out: &mut Vec<PlatformEntry>,
    problems: &mut Vec<String>,
) {
    let mt = desc.media_type.as_str();
    if document::is_index_type(mt) {
        // Each index once: an index that lists itself (or a DAG of them) must not multiply.
        if !expanded.insert(desc.digest.clone()) {
            return;
        }
        let index = match read_index(s, ns, desc) {
            Doc::Ok(v) => v,
            Doc::Missing => return,
            Doc::Bad(why) => {
                problems.push(why);
                return;
            }
        };
        for child in index.iter() {
            if depth >= MAX_GRAPH_DEPTH {
                problems.push(too_deep(&child.digest));
                break;
            }
            if document::is_index_type(&child.media_type) {
                walk_platforms(s, ns, child, depth + 1, expanded, out, problems);
                continue;
            }
            // A config, a layer or a type containerd does not know, listed in an index, is no
            // platform's manifest: containerd's `images.Children` reads nothing of it (a
            // debug log), so it is neither read nor listed here.
            if !document::is_manifest_type(&child.media_type) {
                continue;
            }
            let doc = read_manifest(s, ns, child);
            let platform = match (&child.platform, &doc) {
                (Some(p), _) => Some(p.clone()),
                (None, Doc::Ok(m)) => config_platform(s, ns, m, problems),
                _ => None,
            };
            if let Doc::Bad(why) = &doc {
                problems.push(why.clone());
            }
            let (config, layers) = parts(&doc);
            out.push(PlatformEntry {
                platform: platform.map(|p| format_platform(&p)),
                digest: child.digest.clone(),
                media_type: child.media_type.clone(),
                size: child.size,
                present: doc.is_ok(),
                attestation: is_attestation(child),
                config,
                layers,
            });
        }
        return;
    }
    if !document::is_manifest_type(mt) {
        return;
    }
    let doc = read_manifest(s, ns, desc);
    let platform = match &doc {
        Doc::Ok(m) => config_platform(s, ns, m, problems),
        Doc::Missing => None,
        Doc::Bad(why) => {
            problems.push(why.clone());
            None
        }
    };
    let (config, layers) = parts(&doc);
    out.push(PlatformEntry {
        platform: platform.map(|p| format_platform(&p)),
        digest: desc.digest.clone(),
        media_type: desc.media_type.clone(),
        size: desc.size,
        present: doc.is_ok(),
        attestation: is_attestation(desc),
        config,
        layers,
    });
}

/// Why containerd's `images.Manifest` gave up.
enum NoManifest {
    NotFound(String),
    Error(String),
}

/// Reads and validates a manifest or index blob, as `images.Manifest` does.
fn read_validated(s: &Walk<'_, '_, '_>, ns: &str, desc: &Descriptor) -> Result<Arc<Parsed>, NoManifest> {
    let parsed = match read_parsed(s, ns, desc) {
        Ok(p) => p,
        Err(e) if e.is_not_found() => return Err(NoManifest::NotFound(format!("{}: not found", desc.digest))),
        Err(e) => return Err(NoManifest::Error(e.to_string())),
    };
    if let Err(e) = &parsed.valid {
        return Err(NoManifest::Error(format!("{}: {e}", desc.digest)));
    }
    Ok(parsed)
}

/// containerd's `images.Manifest(ctx, provider, target, platforms.Default())`: the first
/// manifest for the host platform; index children that do not match are filtered out, the
/// rest ranked by preference (unlike `LimitManifests`, which never filters).
fn choose_manifest(
    s: &Walk<'_, '_, '_>,
    ns: &str,
    target: &Descriptor,
    m: &Matcher,
) -> Result<Arc<Manifest>, NoManifest> {
    let mut was_index = false;
    let mut queue = vec![(target.clone(), 0usize)];
    while let Some((desc, depth)) = queue.pop() {
        if depth > MAX_GRAPH_DEPTH {
            return Err(NoManifest::Error(too_deep(&desc.digest)));
        }
        let mt = desc.media_type.as_str();
        if !document::is_index_type(mt) && !document::is_manifest_type(mt) {
            return Err(NoManifest::NotFound(format!(
                "unexpected media type {mt} for {}: not found",
                desc.digest
            )));
        }
        let parsed = read_validated(s, ns, &desc)?;
        if document::is_manifest_type(mt) {
            let manifest = parsed.manifest.clone().map_err(|e| NoManifest::Error(e.to_string()))?;
            if desc.digest != target.digest {
                let platform = match &desc.platform {
                    Some(p) => p.clone(),
                    None => match read_platform(s, ns, &manifest.config.digest) {
                        Doc::Ok(p) => Platform {
                            variant: String::new(),
                            ..p
                        },
                        Doc::Missing => {
                            return Err(NoManifest::NotFound(format!("{}: not found", manifest.config.digest)));
                        }
                        Doc::Bad(why) => return Err(NoManifest::Error(why)),
                    },
                };
                if !m.matches(&platform) {
                    continue;
                }
            }
            return Ok(manifest);
        }
        was_index = true;
        let mut children: Vec<Descriptor> = parsed
            .children
            .clone()
            .map_err(|e| NoManifest::Error(e.to_string()))?
            .iter()
            .filter(|d| d.platform.as_ref().is_none_or(|p| m.matches(p)))
            .cloned()
            .collect();
        crate::inspect::sort_by_preference(&mut children, m);
        if let Some(best) = children.into_iter().next() {
            queue.push((best, depth + 1));
        }
    }
    if was_index {
        Err(NoManifest::NotFound(format!(
            "no match for platform in manifest: manifest {}: not found",
            target.digest
        )))
    } else {
        Err(NoManifest::NotFound(format!("manifest {}: not found", target.digest)))
    }
}

/// `ctr images check` for the host platform; also returns the chosen manifest's config
/// digest for the unpacked size.
fn check(
    s: &Walk<'_, '_, '_>,
    ns: &str,
    target: &Descriptor,
    host: &Platform,
    problems: &mut Vec<String>,
) -> (ContentCheck, Option<String>) {
    let mut c = ContentCheck {
        definition: "ctr images check: config and layers of the host platform's manifest; present = content record in the namespace and blob file",
        platform: host.format(),
        status: "complete",
        present: 0,
        required: None,
        present_count: 0,
        required_count: None,
        missing: Vec::new(),
        error: None,
    };
    let manifest = match choose_manifest(s, ns, target, &Matcher::only(host)) {
        Ok(m) => m,
        Err(NoManifest::NotFound(why)) => {
            c.status = "unavailable";
            c.missing.push(target.digest.clone());
            c.error = Some(why);
            return (c, None);
        }
        Err(NoManifest::Error(why)) => {
            c.status = "error";
            problems.push(why.clone());
            c.error = Some(why);
            return (c, None);
        }
    };
    let required: Vec<&Descriptor> = std::iter::once(&manifest.config).chain(&manifest.layers).collect();
    let mut total = 0i64;
    for (i, d) in required.iter().enumerate() {
        total = total.saturating_add(d.size);
        // The config is read (labels, Docker's Size): lost, it is damage (README's rule for
        // images); a layer not there is what `ctr images check` calls incomplete.
        if blob_present(s, ns, &d.digest, i == 0) {
            c.present = c.present.saturating_add(d.size);
            c.present_count += 1;
        } else {
            c.missing.push(d.digest.clone());
        }
    }
    c.required = Some(total);
    c.required_count = Some(required.len());
    if !c.missing.is_empty() {
        c.status = "incomplete";
    }
    (c, Some(manifest.config.digest.clone()))
}

/// A blob whose current content record is there and whose file is not (see
/// `Root::records_blobs`): the size the record says, and what the file is ("missing", or its
/// kind).
type Lost = (i64, String);

/// What [`blob_present`] found.
#[derive(Clone)]
struct Presence {
    present: bool,
    lost: Option<Lost>,
}

/// containerd's `ReaderAt` succeeds: a content record in the namespace and a blob file. With
/// `read`, a record whose file is not there is also one of the image's problems (damage).
fn blob_present(s: &Walk<'_, '_, '_>, ns: &str, digest: &str, read: bool) -> bool {
    // Layers are shared between images (30% on the generated store): each answered once.
    let key = crate::inspect::sha256_key(digest);
    let known = key.and_then(|key| s.shared.present.lock().ok()?.get(ns)?.get(&key).cloned());
    let found = match known {
        Some(known) => known,
        None => {
            let found = blob_present_uncached(s, ns, digest);
            if let (Some(key), Ok(mut p)) = (key, s.shared.present.lock()) {
                p.entry(ns.to_string()).or_default().insert(key, found.clone());
            }
            found
        }
    };
    if let Some(lost) = found.lost.filter(|_| read) {
        s.lost.borrow_mut().insert(digest.to_string(), lost);
    }
    found.present
}

fn blob_present_uncached(s: &Walk<'_, '_, '_>, ns: &str, digest: &str) -> Presence {
    let absent = Presence {
        present: false,
        lost: None,
    };
    let size = match s.shared.content_size(ns, digest) {
        Ok(Some(size)) => size,
        Ok(None) => return absent,
        // A record that does not read is no record (as containerd's reader finds none), and
        // damage: said once, as the answer is shared by every image that asks.
        Err(e) => {
            if let Ok(mut d) = s.shared.shared_damage.lock() {
                d.push(crate::damage::Note::from(e).within(format!(
                    "namespace {}: content {}",
                    crate::text::one_line(ns),
                    crate::text::one_line(digest)
                )));
            }
            return absent;
        }
    };
    let Ok(d) = crate::digest::Digest::parse(digest) else {
        return absent;
    };
    let root = s.shared.root;
    if root.content_problem().is_some() {
        return absent;
    }
    let present = match (
        s.shared.regular.get().and_then(Option::as_ref),
        crate::inspect::sha256_key(digest),
    ) {
        (Some(regular), Some(key)) => regular.contains(&key),
        _ => root.blob_stat(&d).is_ok_and(|m| m.is_file()),
    };
    // Only now, on the way out, is the file looked at again to say what it is.
    let lost = (!present && root.records_blobs()).then(|| {
        let file = match root.blob_stat(&d) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "missing".to_string(),
            Err(e) => e.to_string(),
            Ok(m) => m.kind.as_str().to_string(),
        };
        (size, file)
    });
    Presence { present, lost }
}

/// The label a config's content record names its unpacked snapshot chain with, per snapshotter.
const SNAPSHOT_LABEL: &str = "containerd.io/gc.ref.snapshot.";

/// The unpacked size of each snapshot chain the config's content record names.
fn unpacked(s: &mut Walk<'_, '_, '_>, ns: &str, config: &str) -> Vec<Unpacked> {
    // Only the record's snapshot labels, not its times and other labels; a record whose
    // size does not read is no record, as for every other reader.
    let (ns_key, config_key) = (records::key_bytes(ns), records::key_bytes(config));
    let path: [&[u8]; 5] = [b"v1", &ns_key, b"content", b"blob", &config_key];
    // What does not read is said (sweep 30.3: a damaged labels bucket left the image with no
    // unpacked size, exit 0).
    let labels: Vec<(String, String)> = match s.shared.tx.bucket_at(&path) {
        Ok(Some(b)) => {
            let mut met = Damage::new();
            let labels = match records::content_size(&b, &config, &mut met) {
                Ok(_) => records::labels_with_prefix(&b, SNAPSHOT_LABEL, &mut met),
                Err(e) => {
                    met.push(e);
                    Vec::new()
                }
            };
            for note in met {
                s.damage.push(note.within(format!("namespace {ns}: content {config}")));
            }
            labels
        }
        Ok(None) => return Vec::new(),
        Err(e) => {
            s.damage
                .push(crate::damage::Note::from(e).within(format!("namespace {ns}: content {config}")));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (key, chain_id) in &labels {
        let Some(snapshotter) = key.strip_prefix(SNAPSHOT_LABEL) else {
            continue;
        };
        let mut u = Unpacked {
            definition: "sum of the snapshotter's recorded disk usage (size) along the snapshot chain",
            snapshotter: snapshotter.to_string(),
            chain_id: chain_id.clone(),
            size: 0,
            snapshots: 0,
            complete: true,
        };
        let mut key = Some(chain_id.clone());
        let mut seen = BTreeSet::new();
        while let Some(k) = key.take() {
            if !seen.insert(k.clone()) {
                break;
            }
            let (ns_key, sn_key, k_key) = (
                records::key_bytes(ns),
                records::key_bytes(snapshotter),
                records::key_bytes(&k),
            );
            let path: [&[u8]; 5] = [b"v1", &ns_key, b"snapshots", &sn_key, &k_key];
            let bucket = match s.shared.tx.bucket_at(&path) {
                Ok(Some(b)) => b,
                // The top not there: not unpacked (the label outlived it). A parent a record
                // names not there: the chain is broken, damage (sweep 30.7: an UNPACKED size
                // cut short, exit 0).
                Ok(None) => {
                    if u.snapshots > 0 {
                        s.damage.push(format!(
                            "namespace {ns}: snapshot chain {chain_id} ({snapshotter}): the parent {k} a record names has no record"
                        ));
                    }
                    u.complete = false;
                    break;
                }
                Err(e) => {
                    s.damage.push(e);
                    u.complete = false;
                    break;
                }
            };
            u.snapshots += 1;
            let mut value = |k: &[u8]| match bucket.get(k) {
                Ok(v) => v.map(records::key_name),
                Err(e) => {
                    s.damage.push(e);
                    None
                }
            };
            let name = value(b"name");
            key = value(b"parent");
            let shared = s.shared;
            // What loading a snapshotter's DB met is said once, at a fixed place (whichever
            // worker loads it first must not decide where in the report it lands).
            let mut loading = Damage::new();
            let backend = shared
                .backends
                .get(shared.root, shared.global, snapshotter, &mut loading);
            if !loading.is_empty()
                && let Ok(mut d) = shared.shared_damage.lock()
            {
                d.extend(loading);
            }
            let size = match (backend, name) {
                (Some(all), Some(n)) => match all.get(&n) {
                    Some(b) => b.size,
                    // The backend's records read, and none is this one: said, as `snapshots`
                    // says it (a resweep of sweep 30: an UNPACKED size cut short, exit 0).
                    None if shared.backends.read_whole(snapshotter) == Some(true) => {
                        s.damage
                            .push(records::backend_key_missing_message(ns, &k, snapshotter, &n));
                        None
                    }
                    None => None,
                },
                _ => None,
            };
            match size {
                Some(n) => u.size = u.size.saturating_add(n),
                None => u.complete = false,
            }
        }
        out.push(u);
    }
    out
}
