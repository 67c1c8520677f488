//! `coldctr images`: image records with their platforms (present and missing) and their
//! sizes, each size with its definition named.
//!
//! Platforms: the target is walked. For an index (OCI index or Docker manifest list), each
//! child manifest's `platform` and whether its manifest blob is readable in the namespace;
//! a child without `platform` gets its config's. For a plain manifest, the platform of its
//! config. Attestation manifests (`unknown/unknown`) are listed in JSON but are not
//! platforms (as `ctr images ls` since 1.7).
//!
//! Sizes (`sizes` in JSON):
//! - `content`: `ctr images check` — the host platform's manifest (containerd's
//!   `images.Manifest` under `platforms.Default()`), its config and layers required; present
//!   = those with a content record in the namespace and a blob file.
//! - `unpacked`: the snapshot chain named by the config's `containerd.io/gc.ref.snapshot.<sn>`
//!   label, summed from the snapshotter's metadata.db (committed snapshots' disk usage).
//! - Docker's `image inspect` Size is computed by the inspect code; it belongs in
//!   [`Sizes`] as `dockerInspect`.

use super::table::{self, Table};
use super::{Format, Scope, run, write_json};
use crate::cli::context::Global;
use crate::cli::{Failure, Outcome};
use crate::containerd::records::{self, Image};
use crate::containerd::root::BlobError;
use clap::Args;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;

#[derive(Args)]
pub struct ImagesArgs {
    /// Also list Docker's dangling records (`moby-dangling@<digest>`, untagged images).
    #[arg(short = 'a', long)]
    pub all: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DANGLING: &str = "moby-dangling@";
/// Indexes inside indexes deeper than this are not followed.
const MAX_NESTING: usize = 4;

fn is_index(mt: &str) -> bool {
    mt == OCI_INDEX || mt == DOCKER_LIST
}

fn is_manifest(mt: &str) -> bool {
    mt == OCI_MANIFEST || mt == DOCKER_MANIFEST
}

/// One platform manifest of an image.
#[derive(Clone, Serialize)]
pub struct PlatformEntry {
    /// `os/arch[/variant]`; null when neither the descriptor nor a readable config says.
    platform: Option<String>,
    digest: String,
    #[serde(rename = "mediaType")]
    media_type: String,
    size: i64,
    /// The manifest blob is readable in the namespace.
    present: bool,
    /// An attestation manifest (`unknown/unknown`, `vnd.docker.reference.type`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    attestation: bool,
}

/// `ctr images check` for the host platform.
#[derive(Clone, Serialize)]
pub struct ContentCheck {
    definition: &'static str,
    /// The platform the manifest was chosen for.
    platform: String,
    /// complete, incomplete, unavailable (no usable manifest), or error.
    status: &'static str,
    /// Bytes of the required blobs that are present.
    present: i64,
    /// Bytes of config + layers; null when no manifest could be chosen.
    required: Option<i64>,
    #[serde(rename = "presentCount")]
    present_count: usize,
    #[serde(rename = "requiredCount")]
    required_count: Option<usize>,
    /// The required blobs that are not there.
    missing: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The unpacked (snapshot) size of one snapshotter's chain.
#[derive(Clone, Serialize)]
pub struct Unpacked {
    definition: &'static str,
    snapshotter: String,
    #[serde(rename = "chainId")]
    chain_id: String,
    /// Sum of the known sizes along the chain.
    size: i64,
    /// Snapshots in the chain found in meta.db.
    snapshots: usize,
    /// Every snapshot of the chain was found with a size.
    complete: bool,
}

/// Every size definition of an image. Add a definition as a field here, named for it.
#[derive(Clone, Serialize)]
pub struct Sizes {
    /// `ctr images check`'s present/required.
    content: ContentCheck,
    /// Unpacked size per snapshotter that has unpacked the host platform's manifest.
    unpacked: Vec<Unpacked>,
    /// Docker's `image inspect` Size (moby's `size()`): filled in by the inspect code.
    #[serde(rename = "dockerInspect", skip_serializing_if = "Option::is_none")]
    pub docker_inspect: Option<i64>,
}

/// What the walk of one target found (shared by every record with that target).
#[derive(Clone)]
struct Analysis {
    platforms: Vec<PlatformEntry>,
    sizes: Sizes,
    problems: Vec<String>,
}

#[derive(Serialize)]
struct ImageRow<'a> {
    #[serde(flatten)]
    record: &'a Image,
    /// A Docker `moby-dangling@` record (an untagged image).
    dangling: bool,
    platforms: &'a [PlatformEntry],
    #[serde(rename = "platformsPresent")]
    platforms_present: Vec<String>,
    #[serde(rename = "platformsMissing")]
    platforms_missing: Vec<String>,
    sizes: &'a Sizes,
    /// Blobs that are there but cannot be used (short, not JSON, not a regular file).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    problems: &'a [String],
}

pub fn images(global: &Global, args: ImagesArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    run(global, |s| {
        let mut records = Vec::new();
        for (ns, b) in &s.namespaces {
            for image in records::images_in(ns, b, &mut s.damage) {
                if args.all || !image.name.starts_with(DANGLING) {
                    records.push(image);
                }
            }
        }
        let mut cache: HashMap<(String, String), Analysis> = HashMap::new();
        let mut analyses = Vec::with_capacity(records.len());
        for image in &records {
            let key = (image.namespace.clone(), image.target.digest.clone());
            let a = match cache.get(&key) {
                Some(a) => a.clone(),
                None => {
                    let a = analyse(s, image);
                    cache.insert(key, a.clone());
                    a
                }
            };
            analyses.push(a);
        }
        let rows: Vec<ImageRow<'_>> = records
            .iter()
            .zip(&analyses)
            .map(|(record, a)| {
                let (platforms_present, platforms_missing) = platform_sets(&a.platforms);
                ImageRow {
                    record,
                    dangling: record.name.starts_with(DANGLING),
                    platforms: &a.platforms,
                    platforms_present,
                    platforms_missing,
                    sizes: &a.sizes,
                    problems: &a.problems,
                }
            })
            .collect();
        match args.format {
            Format::Json => write_json(out, &rows),
            Format::Table => write_table(&rows, out),
        }
    })
}

/// The platforms present and missing, each sorted and deduplicated, attestations left out.
fn platform_sets(entries: &[PlatformEntry]) -> (Vec<String>, Vec<String>) {
    let mut present = BTreeSet::new();
    let mut missing = BTreeSet::new();
    for e in entries.iter().filter(|e| !e.attestation) {
        let p = e.platform.clone().unwrap_or_else(|| "unknown".into());
        if e.present {
            present.insert(p);
        } else {
            missing.insert(p);
        }
    }
    (present.into_iter().collect(), missing.into_iter().collect())
}

fn write_table(rows: &[ImageRow<'_>], out: &mut dyn Write) -> Result<(), Failure> {
    let mut t = Table::new(&[
        "NAMESPACE",
        "NAME",
        "TYPE",
        "DIGEST",
        "PLATFORMS",
        "MISSING",
        "CHECK",
        "CONTENT",
        "UNPACKED",
        "LABELS",
    ]);
    for r in rows {
        let c = &r.sizes.content;
        let check = match (c.status, c.required_count) {
            ("complete" | "incomplete", Some(n)) => format!("{}({}/{n})", c.status, c.present_count),
            ("unavailable", _) => format!("unavailable({}/?)", c.present_count),
            (s, _) => s.to_string(),
        };
        let content = match (c.status, c.required) {
            ("error", _) => String::new(),
            (_, Some(req)) => format!("{}/{}", table::binary_size(c.present), table::binary_size(req)),
            (_, None) => format!("{}/?", table::binary_size(c.present)),
        };
        let unpacked = r
            .sizes
            .unpacked
            .iter()
            .map(|u| {
                format!(
                    "{}{}",
                    table::binary_size(u.size),
                    if u.complete { "" } else { "(partial)" }
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        t.row(&[
            r.record.namespace.clone(),
            r.record.name.clone(),
            short_type(&r.record.target.media_type),
            r.record.target.digest.clone(),
            r.platforms_present.join(","),
            r.platforms_missing.join(","),
            check,
            content,
            unpacked,
            table::labels(&r.record.labels),
        ]);
    }
    Ok(t.write(out)?)
}

/// A short name for the common target media types.
fn short_type(mt: &str) -> String {
    match mt {
        OCI_INDEX => "oci-index".into(),
        OCI_MANIFEST => "oci-manifest".into(),
        DOCKER_LIST => "docker-list".into(),
        DOCKER_MANIFEST => "docker-manifest".into(),
        other => other.into(),
    }
}

// ---- reading blobs ---------------------------------------------------------------------------

/// A blob read as JSON.
enum Doc {
    Json(Value),
    /// containerd's NotFound: no content record in the namespace, or no file.
    Missing,
    /// There, but unusable; the reason names the blob.
    Bad(String),
}

fn read_doc(s: &Scope<'_>, ns: &str, digest: &str) -> Doc {
    match s.root.read_blob(&s.tx, ns, digest) {
        Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => Doc::Json(v),
            Err(e) => Doc::Bad(format!("{digest}: not JSON: {e}")),
        },
        Err(e) if e.is_not_found() => Doc::Missing,
        Err(BlobError::UnexpectedEof { recorded, on_disk, .. }) => Doc::Bad(format!(
            "{digest}: unexpected EOF: the content record says {recorded} bytes, the file has {on_disk}"
        )),
        Err(e) => Doc::Bad(e.to_string()),
    }
}

fn str_field<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A descriptor of a manifest or index.
struct Desc {
    media_type: String,
    digest: String,
    size: i64,
    platform: Option<Platform>,
    attestation: bool,
}

impl Desc {
    fn from_json(v: &Value) -> Desc {
        let platform = v.get("platform").filter(|p| p.is_object()).map(Platform::from_json);
        let annotated = v
            .get("annotations")
            .and_then(|a| a.get("vnd.docker.reference.type"))
            .and_then(Value::as_str)
            == Some("attestation-manifest");
        let unknown = platform
            .as_ref()
            .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown");
        Desc {
            media_type: str_field(v, "mediaType").to_string(),
            digest: str_field(v, "digest").to_string(),
            size: v.get("size").and_then(Value::as_i64).unwrap_or(0),
            platform,
            attestation: annotated || unknown,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Platform {
    os: String,
    architecture: String,
    variant: String,
}

impl Platform {
    /// From a descriptor's `platform` or an image config (`os`, `architecture`, `variant`).
    fn from_json(v: &Value) -> Platform {
        Platform {
            os: str_field(v, "os").to_string(),
            architecture: str_field(v, "architecture").to_string(),
            variant: str_field(v, "variant").to_string(),
        }
    }

    /// containerd's `platforms.Format`.
    fn format(&self) -> String {
        if self.os.is_empty() {
            return "unknown".into();
        }
        [self.os.as_str(), &self.architecture, &self.variant]
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("/")
    }

    /// containerd's `platforms.Normalize`.
    fn normalize(&self) -> Platform {
        let os = self.os.to_lowercase();
        let (architecture, variant) = match (self.architecture.to_lowercase().as_str(), self.variant.as_str()) {
            ("i386", _) => ("386".to_string(), String::new()),
            ("x86_64" | "x86-64" | "amd64", "v1") => ("amd64".into(), String::new()),
            ("x86_64" | "x86-64" | "amd64", v) => ("amd64".into(), v.to_string()),
            ("aarch64" | "arm64", "8" | "v8") => ("arm64".into(), String::new()),
            ("aarch64" | "arm64", v) => ("arm64".into(), v.to_string()),
            ("armhf", _) => ("arm".into(), "v7".into()),
            ("armel", _) => ("arm".into(), "v6".into()),
            ("arm", "" | "7") => ("arm".into(), "v7".into()),
            ("arm", v @ ("5" | "6" | "8")) => ("arm".into(), format!("v{v}")),
            (a, v) => (a.to_string(), v.to_string()),
        };
        Platform {
            os,
            architecture,
            variant,
        }
    }
}

/// The host platform as containerd's `platforms.Default()` sees it, and the platforms it
/// accepts in order of preference (`platforms.Only`).
struct HostMatcher {
    host: Platform,
    accepted: Vec<Platform>,
}

impl HostMatcher {
    fn new() -> HostMatcher {
        let p = |arch: &str, variant: &str| Platform {
            os: std::env::consts::OS.to_string(),
            architecture: arch.to_string(),
            variant: variant.to_string(),
        };
        let arm_down = |from: u8| (5..=from).rev().map(|v| p("arm", &format!("v{v}"))).collect::<Vec<_>>();
        let (host, mut rest) = match std::env::consts::ARCH {
            "x86_64" => (p("amd64", ""), vec![p("386", "")]),
            "x86" => (p("386", ""), vec![]),
            "aarch64" => (p("arm64", ""), arm_down(8)),
            "arm" => (p("arm", "v7"), arm_down(6)),
            "powerpc64" if cfg!(target_endian = "little") => (p("ppc64le", ""), vec![]),
            "riscv64" => (p("riscv64", ""), vec![]),
            "s390x" => (p("s390x", ""), vec![]),
            other => (p(other, ""), vec![]),
        };
        let mut accepted = vec![host.clone()];
        accepted.append(&mut rest);
        HostMatcher { host, accepted }
    }

    fn rank(&self, p: &Platform) -> Option<usize> {
        let n = p.normalize();
        self.accepted.iter().position(|a| *a == n)
    }
}

// ---- the walk ----------------------------------------------------------------------------------

fn analyse(s: &mut Scope<'_>, image: &Image) -> Analysis {
    let ns = image.namespace.as_str();
    let mut problems = Vec::new();
    let mut platforms = Vec::new();
    let target = Desc {
        media_type: image.target.media_type.clone(),
        digest: image.target.digest.clone(),
        size: image.target.size,
        platform: None,
        attestation: false,
    };
    walk_platforms(s, ns, &target, 0, &mut platforms, &mut problems);
    let matcher = HostMatcher::new();
    let (content, config) = check(s, ns, &target, &matcher, &mut problems);
    let unpacked = config.map(|c| unpacked(s, ns, &c)).unwrap_or_default();
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
            docker_inspect: None,
        },
        problems,
    }
}

/// The platform of a manifest's config; None when the config cannot be read.
fn config_platform(s: &Scope<'_>, ns: &str, manifest: &Value, problems: &mut Vec<String>) -> Option<Platform> {
    let config = manifest.get("config")?;
    let digest = str_field(config, "digest");
    match read_doc(s, ns, digest) {
        Doc::Json(c) => Some(Platform::from_json(&c)),
        Doc::Missing => None,
        Doc::Bad(why) => {
            problems.push(why);
            None
        }
    }
}

fn walk_platforms(
    s: &Scope<'_>,
    ns: &str,
    desc: &Desc,
    depth: usize,
    out: &mut Vec<PlatformEntry>,
    problems: &mut Vec<String>,
) {
    let mt = desc.media_type.as_str();
    let doc = read_doc(s, ns, &desc.digest);
    if is_index(mt) {
        let index = match doc {
            Doc::Json(v) => v,
            Doc::Missing => return,
            Doc::Bad(why) => {
                problems.push(why);
                return;
            }
        };
        let children = index
            .get("manifests")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for child in &children {
            let child = Desc::from_json(child);
            if is_index(&child.media_type) {
                if depth < MAX_NESTING {
                    walk_platforms(s, ns, &child, depth + 1, out, problems);
                }
                continue;
            }
            let doc = read_doc(s, ns, &child.digest);
            let present = matches!(doc, Doc::Json(_));
            let platform = match (&child.platform, &doc) {
                (Some(p), _) => Some(p.clone()),
                (None, Doc::Json(m)) if is_manifest(&child.media_type) => config_platform(s, ns, m, problems),
                _ => None,
            };
            if let Doc::Bad(why) = &doc {
                problems.push(why.clone());
            }
            out.push(PlatformEntry {
                platform: platform.map(|p| p.format()),
                digest: child.digest,
                media_type: child.media_type,
                size: child.size,
                present,
                attestation: child.attestation,
            });
        }
        return;
    }
    if !is_manifest(mt) {
        return;
    }
    let platform = match &doc {
        Doc::Json(m) => config_platform(s, ns, m, problems),
        Doc::Missing => None,
        Doc::Bad(why) => {
            problems.push(why.clone());
            None
        }
    };
    out.push(PlatformEntry {
        platform: platform.map(|p| p.format()),
        digest: desc.digest.clone(),
        media_type: desc.media_type.clone(),
        size: desc.size,
        present: matches!(doc, Doc::Json(_)),
        attestation: desc.attestation,
    });
}

/// Why containerd's `images.Manifest` gave up.
enum NoManifest {
    NotFound(String),
    Error(String),
}

/// containerd's `images.validateMediaType`.
fn validate_media_type(doc: &Value, mt: &str) -> Result<(), String> {
    let has = |k: &str| doc.get(k).is_some_and(|v| !v.is_null());
    if doc
        .get("fsLayers")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        return Err("media-type: schema 1 not supported".into());
    }
    if is_index(mt) && (has("config") || has("layers")) {
        return Err("media-type: expected index but found manifest".into());
    }
    if is_manifest(mt) && has("manifests") {
        return Err("media-type: expected manifest but found index".into());
    }
    Ok(())
}

/// containerd's `images.Manifest(ctx, provider, target, platforms.Default())`: the first
/// manifest for the host platform, following only the best child of each index.
fn choose_manifest(s: &Scope<'_>, ns: &str, target: &Desc, m: &HostMatcher) -> Result<Value, NoManifest> {
    let mut found = None;
    let mut was_index = false;
    let mut queue = vec![(
        Desc {
            media_type: target.media_type.clone(),
            digest: target.digest.clone(),
            size: target.size,
            platform: target.platform.clone(),
            attestation: false,
        },
        0usize,
    )];
    while let Some((desc, depth)) = queue.pop() {
        let mt = desc.media_type.as_str();
        if !is_index(mt) && !is_manifest(mt) {
            return Err(NoManifest::NotFound(format!(
                "unexpected media type {mt} for {}: not found",
                desc.digest
            )));
        }
        let doc = match read_doc(s, ns, &desc.digest) {
            Doc::Json(v) => v,
            Doc::Missing => return Err(NoManifest::NotFound(format!("{}: not found", desc.digest))),
            Doc::Bad(why) => return Err(NoManifest::Error(why)),
        };
        validate_media_type(&doc, mt).map_err(|e| NoManifest::Error(format!("{}: {e}", desc.digest)))?;
        if is_manifest(mt) {
            if desc.digest != target.digest {
                let platform = match &desc.platform {
                    Some(p) => Some(p.clone()),
                    None => {
                        let cfg = doc.get("config").map(|c| str_field(c, "digest")).unwrap_or("");
                        match read_doc(s, ns, cfg) {
                            Doc::Json(c) => {
                                let p = Platform::from_json(&c);
                                Some(Platform {
                                    variant: String::new(),
                                    ..p
                                })
                            }
                            Doc::Missing => return Err(NoManifest::NotFound(format!("{cfg}: not found"))),
                            Doc::Bad(why) => return Err(NoManifest::Error(why)),
                        }
                    }
                };
                if platform.is_some_and(|p| m.rank(&p).is_none()) {
                    continue;
                }
            }
            found = Some(doc);
            break;
        }
        was_index = true;
        if depth >= MAX_NESTING {
            continue;
        }
        let mut children: Vec<Desc> = doc
            .get("manifests")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(Desc::from_json).collect())
            .unwrap_or_default();
        children.retain(|d| d.platform.as_ref().is_none_or(|p| m.rank(p).is_some()));
        // Stable: matching platforms by preference, children without a platform last.
        children.sort_by_key(|d| d.platform.as_ref().and_then(|p| m.rank(p)).unwrap_or(usize::MAX));
        if let Some(best) = children.into_iter().next() {
            queue.push((best, depth + 1));
        }
    }
    match found {
        Some(doc) => Ok(doc),
        None if was_index => Err(NoManifest::NotFound(format!(
            "no match for platform in manifest: manifest {}: not found",
            target.digest
        ))),
        None => Err(NoManifest::NotFound(format!("manifest {}: not found", target.digest))),
    }
}

/// `ctr images check` for the host platform; also returns the chosen manifest's config
/// digest for the unpacked size.
fn check(
    s: &Scope<'_>,
    ns: &str,
    target: &Desc,
    m: &HostMatcher,
    problems: &mut Vec<String>,
) -> (ContentCheck, Option<String>) {
    let mut c = ContentCheck {
        definition: "ctr images check: config and layers of the host platform's manifest; present = content record in the namespace and blob file",
        platform: m.host.format(),
        status: "complete",
        present: 0,
        required: None,
        present_count: 0,
        required_count: None,
        missing: Vec::new(),
        error: None,
    };
    let manifest = match choose_manifest(s, ns, target, m) {
        Ok(doc) => doc,
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
    let mut required: Vec<Desc> = Vec::new();
    if let Some(cfg) = manifest.get("config") {
        required.push(Desc::from_json(cfg));
    }
    if let Some(layers) = manifest.get("layers").and_then(Value::as_array) {
        required.extend(layers.iter().map(Desc::from_json));
    }
    let mut total = 0i64;
    for d in &required {
        total = total.saturating_add(d.size);
        if blob_present(s, ns, &d.digest) {
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
    let config = manifest.get("config").map(|d| str_field(d, "digest").to_string());
    (c, config)
}

/// containerd's `ReaderAt` succeeds: a content record in the namespace and a blob file.
fn blob_present(s: &Scope<'_>, ns: &str, digest: &str) -> bool {
    let Ok(Some(_)) = records::content_record(&s.tx, ns, digest) else {
        return false;
    };
    let Ok(d) = crate::digest::Digest::parse(digest) else {
        return false;
    };
    s.root.content_problem().is_none() && s.root.blob_stat(&d).is_ok_and(|m| m.file_type().is_file())
}

/// The unpacked size of each snapshot chain the config's content record names.
fn unpacked(s: &mut Scope<'_>, ns: &str, config: &str) -> Vec<Unpacked> {
    let labels: BTreeMap<String, String> = match records::content_record(&s.tx, ns, config) {
        Ok(Some(c)) => c.labels,
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for (key, chain_id) in &labels {
        let Some(snapshotter) = key.strip_prefix("containerd.io/gc.ref.snapshot.") else {
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
            let path: [&[u8]; 5] = [b"v1", ns.as_bytes(), b"snapshots", snapshotter.as_bytes(), k.as_bytes()];
            let bucket = match s.tx.bucket_at(&path) {
                Ok(Some(b)) => b,
                Ok(None) => {
                    u.complete = false;
                    break;
                }
                Err(e) => {
                    s.damage.push(e.to_string());
                    u.complete = false;
                    break;
                }
            };
            u.snapshots += 1;
            let mut value = |k: &[u8]| match bucket.get(k) {
                Ok(v) => v.map(records::string),
                Err(e) => {
                    s.damage.push(e.to_string());
                    None
                }
            };
            let name = value(b"name");
            key = value(b"parent");
            let size = match (s.backends.get(s.root, s.global, snapshotter, &mut s.damage), name) {
                (Some(all), Some(n)) => all.get(&n).and_then(|b| b.size),
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
