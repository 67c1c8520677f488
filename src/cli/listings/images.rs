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
//! - `dockerInspect`: what `docker image inspect` prints as Size for the machine's host
//!   platform (the SIZE column), computed by [`crate::inspect`].

use super::filter::glob_match;
use super::output::{ListArgs, emit, filtered};
use super::table::{self, Table};
use super::{LABELS_WIDTH, Scope, run};
use crate::cli::context::Global;
use crate::cli::{Failure, Outcome};
use crate::containerd::records::{self, Image};
use crate::containerd::root::BlobError;
use crate::image::document::{self, Descriptor, ImageConfig, Index, Manifest};
use crate::image::platform::{Matcher, Platform};
use crate::image::reference;
use crate::inspect::{Inspector, Options};
use clap::Args;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;

#[derive(Args)]
pub struct ImagesArgs {
    /// Also list Docker's dangling records (`moby-dangling@<digest>`, untagged images).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only the images whose reference matches (`docker image ls [REPOSITORY[:TAG]]`): the
    /// same as `--filter reference=PATTERN`.
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub pattern: Option<String>,
    #[command(flatten)]
    pub list: ListArgs,
}

/// The docker filter keys of `images` (moby's `acceptedImageFilterTags` but `until`).
const IMAGE_KEYS: [&str; 6] = ["dangling", "label", "label!", "before", "since", "reference"];

const DANGLING: &str = "moby-dangling@";
/// Indexes inside indexes deeper than this are not followed.
const MAX_NESTING: usize = 4;

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
    /// Docker's `image inspect` Size (moby's `size()`), for the machine's host platform.
    #[serde(rename = "dockerInspect", skip_serializing_if = "Option::is_none")]
    pub docker_inspect: Option<DockerSize>,
}

/// `docker image inspect`'s Size.
#[derive(Clone, Serialize)]
pub struct DockerSize {
    definition: &'static str,
    size: i64,
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
    let filters = args.list.filters(&IMAGE_KEYS)?;
    let dangling = filters.dangling()?;
    let mut patterns: Vec<String> = filters.values("reference").to_vec();
    patterns.extend(args.pattern.clone());
    run(global, |s| {
        s.outcome = s.outcome.worst(crate::cli::context::content_outcome(s.root));
        let mut records = Vec::new();
        for (ns, b) in &s.namespaces {
            for image in records::images_in(ns, b, &mut s.damage) {
                let is_dangling = image.name.starts_with(DANGLING);
                let wanted = match dangling {
                    Some(want) => want == is_dangling,
                    None => args.all || !is_dangling,
                };
                if wanted && (patterns.is_empty() || patterns.iter().any(|p| reference_matches(p, &image.name))) {
                    records.push(image);
                }
            }
        }
        let mut inspectors: HashMap<String, Inspector<'_>> = HashMap::new();
        let host = s.global.host();
        for ns in records.iter().map(|i| i.namespace.clone()).collect::<BTreeSet<_>>() {
            let (root, tx) = (s.root, s.tx);
            inspectors.insert(
                ns.clone(),
                Inspector::new(root, tx, &ns, Options::for_host(host.clone())),
            );
        }
        for (key, keep_before) in [("before", true), ("since", false)] {
            for r in filters.values(key) {
                records = created_relative_to(records, &inspectors, r, keep_before)?;
            }
        }
        if filters.has_labels() {
            let mut seen: HashMap<(String, String), bool> = HashMap::new();
            records.retain(|i| {
                *seen
                    .entry((i.namespace.clone(), i.target.digest.clone()))
                    .or_insert_with(|| {
                        config_labels(s, &i.namespace, &i.target)
                            .iter()
                            .any(|l| filters.labels_match(l))
                    })
            });
        }
        let mut cache: HashMap<(String, String), Analysis> = HashMap::new();
        let mut analyses = Vec::with_capacity(records.len());
        for image in &records {
            let key = (image.namespace.clone(), image.target.digest.clone());
            let a = match cache.get(&key) {
                Some(a) => a.clone(),
                None => {
                    let a = analyse(s, image, inspectors.get(&image.namespace));
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
        let rows = filtered(rows, &filters, &[], |_, _| true);
        emit(out, &args.list, &rows, |r| r.record.name.clone(), table_of)
    })
}

/// moby's reference filter (`reference.FamiliarMatch`): the pattern, a Go `path.Match` glob,
/// against the familiar reference (`webapp:1.0`) or the familiar name (`webapp`). A record
/// whose name is not a reference never matches.
fn reference_matches(pattern: &str, name: &str) -> bool {
    match reference::parse_normalized_named(name) {
        Ok(named) => glob_match(pattern, &named.familiar()) || glob_match(pattern, &named.familiar_name()),
        Err(_) => false,
    }
}

/// `before=REF` (`keep_before`) or `since=REF`: the records created strictly before (after)
/// the record `REF` names in the same namespace, both by the image record's `createdAt`.
/// Namespaces where `REF` names nothing keep nothing; `REF` naming nothing anywhere is
/// dockerd's `No such image` (exit 1).
fn created_relative_to(
    records: Vec<Image>,
    inspectors: &HashMap<String, Inspector<'_>>,
    reference: &str,
    keep_before: bool,
) -> Result<Vec<Image>, Failure> {
    let mut pivots: HashMap<&str, Option<i128>> = HashMap::new();
    let mut error = None;
    for (ns, ins) in inspectors {
        match ins.resolve(reference) {
            Ok(img) => {
                pivots.insert(ns, img.created_at.as_deref().and_then(table::unix_nanos));
            }
            Err(e) => error = Some(e.0),
        }
    }
    if pivots.is_empty() && !inspectors.is_empty() {
        let message = error.unwrap_or_else(|| format!("No such image: {reference}"));
        return Err(Failure::new(Outcome::No, crate::text::escape(message.as_bytes())));
    }
    Ok(records
        .into_iter()
        .filter(|i| {
            let created = i.created_at.as_deref().and_then(table::unix_nanos);
            match (pivots.get(i.namespace.as_str()).copied().flatten(), created) {
                (Some(pivot), Some(c)) if keep_before => c < pivot,
                (Some(pivot), Some(c)) => c > pivot,
                _ => false,
            }
        })
        .collect())
}

/// The `Config.Labels` of every config the image reaches that is present (what moby's label
/// filter reads: any one config must satisfy every label check).
fn config_labels(s: &Scope<'_>, ns: &str, target: &records::StoredTarget) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    let mut queue = vec![(
        Descriptor {
            media_type: target.media_type.clone(),
            digest: target.digest.clone(),
            size: target.size,
            ..Descriptor::default()
        },
        0usize,
    )];
    let mut seen = BTreeSet::new();
    while let Some((desc, depth)) = queue.pop() {
        if !seen.insert(desc.digest.clone()) {
            continue;
        }
        if document::is_index_type(&desc.media_type) {
            if let (Doc::Ok(index), true) = (read_doc::<Index>(s, ns, &desc.digest), depth < MAX_NESTING) {
                queue.extend(index.manifests.into_iter().rev().map(|c| (c, depth + 1)));
            }
        } else if document::is_manifest_type(&desc.media_type)
            && let Doc::Ok(m) = read_doc::<Manifest>(s, ns, &desc.digest)
            && let Doc::Ok(c) = read_doc::<ImageConfig>(s, ns, &m.config.digest)
        {
            let labels = c.config.and_then(|c| c.labels).unwrap_or_default();
            out.push(labels.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect());
        }
    }
    out
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

fn table_of(rows: &[ImageRow<'_>], trunc: bool) -> Table {
    let header = [
        "NAMESPACE",
        "NAME",
        "DIGEST",
        "PLATFORMS",
        "MISSING",
        table::size_header("SIZE"),
        table::size_header("CONTENT"),
        table::size_header("UNPACKED"),
        "LABELS",
    ];
    let mut t = Table::truncating(&header, trunc)
        .limit("PLATFORMS", PLATFORMS_WIDTH)
        .limit("MISSING", PLATFORMS_WIDTH)
        .limit("LABELS", if trunc { IMAGE_LABELS_WIDTH } else { LABELS_WIDTH });
    for r in rows {
        let c = &r.sizes.content;
        // `ctr images check` in one cell: present/required bytes (complete when they are
        // equal; the counts and the missing digests are in JSON), or why there is no answer.
        let content = match (c.status, c.required) {
            ("complete" | "incomplete", Some(req)) => {
                format!("{}/{}", table::human_size(c.present), table::human_size(req))
            }
            (status, _) => status.to_string(),
        };
        let unpacked = r
            .sizes
            .unpacked
            .iter()
            .map(|u| {
                format!(
                    "{}{}",
                    table::human_size(u.size),
                    if u.complete { "" } else { "(partial)" }
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        t.row(&[
            r.record.namespace.clone(),
            r.record.name.clone(),
            r.record.target.digest.clone(),
            r.platforms_present.join(","),
            r.platforms_missing.join(","),
            r.sizes
                .docker_inspect
                .as_ref()
                .map(|d| table::human_size(d.size))
                .unwrap_or_default(),
            content,
            unpacked,
            table::labels(&r.record.labels),
        ]);
    }
    t
}

/// The widest a PLATFORMS or MISSING cell of `images` prints unless `--no-trunc`.
const PLATFORMS_WIDTH: usize = 20;
/// The widest a LABELS cell of `images` prints unless `--no-trunc` (the table is wide).
const IMAGE_LABELS_WIDTH: usize = 20;

// ---- reading blobs ---------------------------------------------------------------------------

/// A blob read and decoded.
enum Doc<T> {
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

/// Reads `digest` in `ns` and decodes it as `T` (Go's `json.Unmarshal` rules).
fn read_doc<T: for<'de> serde::Deserialize<'de> + Default>(s: &Scope<'_>, ns: &str, digest: &str) -> Doc<T> {
    match s.root.read_blob(&s.tx, ns, digest) {
        Ok(bytes) => match document::decode::<T>(&bytes) {
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

fn analyse(s: &mut Scope<'_>, image: &Image, inspector: Option<&Inspector<'_>>) -> Analysis {
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
    let host = s.global.host();
    let (content, config) = check(s, ns, &target, &host, &mut problems);
    let unpacked = config.map(|c| unpacked(s, ns, &c)).unwrap_or_default();
    let docker_inspect = inspector.map(|i| {
        i.docker_size(image).map_err(|e| {
            problems.push(format!("Docker inspect Size: {e}"));
        })
    });
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
fn config_platform(s: &Scope<'_>, ns: &str, manifest: &Manifest, problems: &mut Vec<String>) -> Option<Platform> {
    match read_doc::<ImageConfig>(s, ns, &manifest.config.digest) {
        Doc::Ok(c) => Some(c.platform()),
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
        let index = match read_doc::<Index>(s, ns, &desc.digest) {
            Doc::Ok(v) => v,
            Doc::Missing => return,
            Doc::Bad(why) => {
                problems.push(why);
                return;
            }
        };
        for child in &index.manifests {
            if document::is_index_type(&child.media_type) {
                if depth < MAX_NESTING {
                    walk_platforms(s, ns, child, depth + 1, expanded, out, problems);
                }
                continue;
            }
            let doc = read_doc::<Manifest>(s, ns, &child.digest);
            let platform = match (&child.platform, &doc) {
                (Some(p), _) => Some(p.clone()),
                (None, Doc::Ok(m)) if document::is_manifest_type(&child.media_type) => {
                    config_platform(s, ns, m, problems)
                }
                _ => None,
            };
            if let Doc::Bad(why) = &doc {
                problems.push(why.clone());
            }
            out.push(PlatformEntry {
                platform: platform.map(|p| format_platform(&p)),
                digest: child.digest.clone(),
                media_type: child.media_type.clone(),
                size: child.size,
                present: doc.is_ok(),
                attestation: is_attestation(child),
            });
        }
        return;
    }
    if !document::is_manifest_type(mt) {
        return;
    }
    let doc = read_doc::<Manifest>(s, ns, &desc.digest);
    let platform = match &doc {
        Doc::Ok(m) => config_platform(s, ns, m, problems),
        Doc::Missing => None,
        Doc::Bad(why) => {
            problems.push(why.clone());
            None
        }
    };
    out.push(PlatformEntry {
        platform: platform.map(|p| format_platform(&p)),
        digest: desc.digest.clone(),
        media_type: desc.media_type.clone(),
        size: desc.size,
        present: doc.is_ok(),
        attestation: is_attestation(desc),
    });
}

/// Why containerd's `images.Manifest` gave up.
enum NoManifest {
    NotFound(String),
    Error(String),
}

/// Reads and validates a manifest or index blob, as `images.Manifest` does.
fn read_validated(s: &Scope<'_>, ns: &str, desc: &Descriptor) -> Result<Vec<u8>, NoManifest> {
    let bytes = match s.root.read_blob(&s.tx, ns, &desc.digest) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Err(NoManifest::NotFound(format!("{}: not found", desc.digest))),
        Err(e) => return Err(NoManifest::Error(e.to_string())),
    };
    document::validate_media_type(&bytes, &desc.media_type)
        .map_err(|e| NoManifest::Error(format!("{}: {e}", desc.digest)))?;
    Ok(bytes)
}

/// containerd's `images.Manifest(ctx, provider, target, platforms.Default())`: the first
/// manifest for the host platform; index children that do not match are filtered out, the
/// rest ranked by preference (unlike `LimitManifests`, which never filters).
fn choose_manifest(s: &Scope<'_>, ns: &str, target: &Descriptor, m: &Matcher) -> Result<Manifest, NoManifest> {
    let mut was_index = false;
    let mut queue = vec![(target.clone(), 0usize)];
    while let Some((desc, depth)) = queue.pop() {
        let mt = desc.media_type.as_str();
        if !document::is_index_type(mt) && !document::is_manifest_type(mt) {
            return Err(NoManifest::NotFound(format!(
                "unexpected media type {mt} for {}: not found",
                desc.digest
            )));
        }
        let bytes = read_validated(s, ns, &desc)?;
        if document::is_manifest_type(mt) {
            let manifest: Manifest = document::decode(&bytes).map_err(|e| NoManifest::Error(e.to_string()))?;
            if desc.digest != target.digest {
                let platform = match &desc.platform {
                    Some(p) => p.clone(),
                    None => match read_doc::<ImageConfig>(s, ns, &manifest.config.digest) {
                        Doc::Ok(c) => Platform {
                            variant: String::new(),
                            ..c.platform()
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
        if depth >= MAX_NESTING {
            continue;
        }
        let mut children = document::decode::<Index>(&bytes)
            .map_err(|e| NoManifest::Error(e.to_string()))?
            .manifests;
        children.retain(|d| d.platform.as_ref().is_none_or(|p| m.matches(p)));
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
    s: &Scope<'_>,
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
    (c, Some(manifest.config.digest.clone()))
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
            let (ns_key, sn_key, k_key) = (
                records::key_bytes(ns),
                records::key_bytes(snapshotter),
                records::key_bytes(&k),
            );
            let path: [&[u8]; 5] = [b"v1", &ns_key, b"snapshots", &sn_key, &k_key];
            let bucket = match s.tx.bucket_at(&path) {
                Ok(Some(b)) => b,
                Ok(None) => {
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
                Ok(v) => v.map(records::string),
                Err(e) => {
                    s.damage.push(e);
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
