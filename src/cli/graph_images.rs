//! `inspect`, `history` and `images` on a node whose dockerd keeps its images in its own
//! graph-driver store (Docker 20.10 to 27), not in containerd's records
//! ([`crate::containers::graph_images`]).
//!
//! The store is read when the Docker data root found for `--root` (as `ps` finds it) has an
//! `image/<driver>/imagedb`, and containerd's `moby` namespace holds no image record (or there
//! is no containerd root to read: `--root` the data root itself). A node on the containerd
//! image store keeps its images in `moby`, and its old graph-driver store, if left behind, is
//! then not what dockerd reads. Not with `-n`, `--salvage` or an image layout or archive.

use super::context::Global;
use super::{Outcome, warn};
use crate::containers::graph_images::{GraphImages, Lookup};
use crate::containers::{docker, docker_inspect, files};

/// The graph-driver image store to read for this command, when it is the one dockerd reads.
pub fn store(global: &Global) -> Option<GraphImages> {
    if global.namespace.is_some() || global.salvaging() || global.source_type.is_some() {
        return None;
    }
    if !std::fs::metadata(&global.root).is_ok_and(|m| m.is_dir()) {
        return None;
    }
    let located = docker::locate(&global.root, global.docker_root.as_deref());
    let data_root = located.path()?;
    if containerd_has_moby_images(global) {
        return None;
    }
    // The data root as the node had it, from its containers' records (their problems are
    // `ps`'s to say).
    let mut budget = files::MemoryBudget::new(files::CONTAINERS_MEMORY);
    let mut ignored = docker::StoreProblems::default();
    let containers = docker::read_store(data_root, &mut budget, &mut ignored);
    let node_root = docker_inspect::node_data_root(&containers.iter().collect::<Vec<_>>());
    let drivers: Vec<String> = containers
        .iter()
        .filter_map(|c| c.config.get("Driver").and_then(|d| d.as_str()).map(str::to_string))
        .collect();
    GraphImages::open(data_root, &node_root, &drivers)
}

/// Whether containerd's `moby` namespace under `--root` holds an image record.
fn containerd_has_moby_images(global: &Global) -> bool {
    // Opened quietly: what the containerd root lacks is the containerd path's to say.
    let Ok(root) = crate::containerd::root::Root::open(&global.root, global.lookup_mode()) else {
        return false;
    };
    let Ok(tx) = root.view(global.meta_choice()) else {
        return false;
    };
    matches!(
        tx.bucket_at(&[b"v1".as_slice(), b"moby", b"images"]),
        Ok(Some(b)) if matches!(b.cursor().next(), Some(Ok(_)))
    )
}

/// What reading the store met, said on stderr; the exit code it counts for.
pub fn said(store: &GraphImages) -> Outcome {
    if let Some(note) = &store.chosen {
        warn(crate::text::one_line(note));
    }
    let problems = store.problems.borrow();
    let mut outcome = Outcome::Ok;
    for d in &problems.damaged {
        warn(crate::text::one_line(d));
        outcome = outcome.worst(Outcome::Damaged);
    }
    for u in &problems.unreadable {
        warn(crate::text::one_line(u));
        outcome = outcome.worst(Outcome::Unreadable);
    }
    outcome
}

/// `images` of the graph-driver store: what dockerd 20.10's `GET /images/json` answers
/// (moby `daemon/images/images.go`), printed as docker/cli 20.10's `docker images` lays it
/// out (`formatter.imageFormat`: a row per repository and tag, `<none>` for an image with
/// neither), with the recorded creation time where docker prints an age. `--format json`
/// (and `jsonl`, templates) prints the API's `ImageSummary` objects, newest first.
pub struct ImagesOptions<'a> {
    pub all: bool,
    pub quiet: bool,
    pub no_trunc: bool,
    pub digests: bool,
    /// `dangling=true|false`.
    pub dangling: Option<bool>,
    /// `reference=` patterns, the positional `REPOSITORY[:TAG]` among them.
    pub matches: Option<&'a dyn Fn(&str) -> bool>,
    /// `label=KEY` and `label=KEY=VALUE`: an image must have every one.
    pub labels: &'a [String],
    /// `before=IMAGE`: only images created before it (Go's `time.Time` order: seconds, nanos).
    pub before: Option<(i64, u32)>,
    /// `since=IMAGE`: only images created after it.
    pub since: Option<(i64, u32)>,
}

/// The filters of `docker images` as dockerd 20.10's `Images` reads them.
#[derive(Debug, Default)]
pub struct GraphFilters {
    /// `dangling`: `Some(true)` when a value is exactly `true` (dockerd's `ExactMatch`: then
    /// only the heads), `Some(false)` when one is exactly `false`.
    pub dangling: Option<bool>,
    pub labels: Vec<String>,
    pub references: Vec<String>,
    pub before: Option<(i64, u32)>,
    pub since: Option<(i64, u32)>,
}

/// Why the filters are not taken: a flag docker's CLI refuses (exit 2), or dockerd's error
/// (printed as the CLI prints it, exit 1).
#[derive(Debug)]
pub enum Refused {
    Usage(String),
    Daemon(String),
}

/// The keys dockerd 20.10 accepts (`acceptedImageFilterTags`).
const GRAPH_KEYS: [&str; 5] = ["dangling", "label", "before", "since", "reference"];

/// `--filter` flags read as docker's CLI reads them (`filters.ParseFlag`: split at the first
/// `=`, the key lowercased, both trimmed) and checked as dockerd 20.10's `Images` checks them,
/// in its order: the keys (`Invalid filter 'KEY'`), `dangling` (`Invalid filter
/// 'dangling=[V]'`), then `before` and `since`, each value looked up as `GetImage` does (its
/// error: `No such image: ...`). Where a key has several values dockerd walks them in a Go
/// map's order and keeps the last image found: here, the last in sorted order. `pattern` (the
/// positional `REPOSITORY[:TAG]`) is one more `reference`.
pub fn graph_filters(store: &GraphImages, flags: &[String], pattern: Option<&str>) -> Result<GraphFilters, Refused> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut by_key: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for flag in flags {
        let Some((key, value)) = flag.split_once('=') else {
            return Err(Refused::Usage("bad format of filter (expected name=value)".into()));
        };
        by_key
            .entry(key.trim().to_lowercase())
            .or_default()
            .insert(value.trim().to_string());
    }
    if let Some(p) = pattern {
        by_key.entry("reference".into()).or_default().insert(p.to_string());
    }
    if let Some(key) = by_key.keys().find(|k| !GRAPH_KEYS.contains(&k.as_str())) {
        return Err(Refused::Daemon(format!("Invalid filter '{key}'")));
    }
    let values =
        |key: &str| -> Vec<String> { by_key.get(key).map(|v| v.iter().cloned().collect()).unwrap_or_default() };
    let mut f = GraphFilters::default();
    if let Some(d) = by_key.get("dangling") {
        f.dangling = if d.contains("true") {
            Some(true)
        } else if d.contains("false") {
            Some(false)
        } else {
            let all: Vec<&str> = d.iter().map(String::as_str).collect();
            return Err(Refused::Daemon(format!(
                "Invalid filter 'dangling=[{}]'",
                all.join(" ")
            )));
        };
    }
    let created =
        |value: &str| -> Result<(i64, u32), Refused> {
            match store.resolve(value) {
                Ok(img) => Ok(crate::containerd::gotime::parse_rfc3339(img.created())
                    .map_or((ZERO_UNIX, 0), |t| (t.unix, t.nanos))),
                Err(Lookup::NotFound(m) | Lookup::Invalid(m)) => Err(Refused::Daemon(m)),
            }
        };
    for v in values("before") {
        f.before = Some(created(&v)?);
    }
    for v in values("since") {
        f.since = Some(created(&v)?);
    }
    f.labels = values("label");
    f.references = values("reference");
    Ok(f)
}

/// `time.Time{}.Unix()`: the zero time's seconds.
const ZERO_UNIX: i64 = -62_135_596_800;

/// dockerd's label filter (`Args.MatchKVList`): every `KEY` or `KEY=VALUE` in `wanted` is in
/// `labels` (with that value); no labels at all match nothing.
fn labels_match(wanted: &[String], labels: Option<&[(String, String)]>) -> bool {
    let labels = labels.unwrap_or_default();
    if wanted.is_empty() {
        return true;
    }
    if labels.is_empty() {
        return false;
    }
    wanted.iter().all(|w| {
        let (key, value) = match w.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (w.as_str(), None),
        };
        // A Go map: the last of a key written twice is the one kept.
        match labels.iter().rev().find(|(k, _)| k == key) {
            Some((_, v)) => value.is_none_or(|want| want == v),
            None => false,
        }
    })
}

/// The API's `types.ImageSummary` (moby v20.10 `api/types/image_summary.go`), its keys as
/// dockerd sends them.
#[derive(serde::Serialize)]
pub struct Summary {
    #[serde(rename = "Containers")]
    containers: i64,
    #[serde(rename = "Created")]
    created: i64,
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Labels")]
    labels: Option<std::collections::BTreeMap<String, String>>,
    #[serde(rename = "ParentId")]
    parent_id: String,
    #[serde(rename = "RepoDigests")]
    repo_digests: Vec<String>,
    #[serde(rename = "RepoTags")]
    repo_tags: Vec<String>,
    #[serde(rename = "SharedSize")]
    shared_size: i64,
    #[serde(rename = "Size")]
    size: i64,
    #[serde(rename = "VirtualSize")]
    virtual_size: i64,
    /// The creation time as recorded (RFC 3339), for the table's CREATED column.
    #[serde(skip)]
    created_text: String,
}

/// The summaries dockerd's `Images(filters, all)` returns, newest first (ties by ID).
pub fn summaries(store: &GraphImages, opts: &ImagesOptions<'_>) -> Vec<Summary> {
    use crate::containers::graph_images::chain_id;
    let restored = store.restored();
    // One image decoded at a time (a store of large configs is not held whole: the store
    // keeps what fits its cache); the parent links first.
    let parents: std::collections::HashSet<String> =
        restored.iter().filter_map(|h| store.get(h)).map(|i| i.parent).collect();
    let has_children = |id: &str| parents.contains(id);
    let mut out = Vec::new();
    for img in restored.iter().filter_map(|h| store.get(h)) {
        let id = img.id();
        let dangling_only = opts.dangling == Some(true);
        // `Heads()`: the images no other is the child of.
        if dangling_only && has_children(&id) {
            continue;
        }
        let created = crate::containerd::gotime::parse_rfc3339(img.created());
        let at = created.map_or((ZERO_UNIX, 0), |t| (t.unix, t.nanos));
        if opts.before.is_some_and(|b| at >= b) || opts.since.is_some_and(|s| at <= s) {
            continue;
        }
        // An image without a config (very old ones) has no labels to match.
        if !opts.labels.is_empty()
            && (matches!(img.doc.get("config"), None | Some(crate::inspect::gojson::J::Null))
                || !labels_match(opts.labels, img.labels().as_deref()))
        {
            continue;
        }
        if !img.os_supported() {
            continue;
        }
        let size = match chain_id(&img.diff_ids()) {
            None => 0,
            Some(chain) => match store.layer(&chain) {
                Some(l) => l.chain_size,
                None => continue,
            },
        };
        let (mut tags, mut digests) = (Vec::new(), Vec::new());
        for r in store.references(&img.hex) {
            let familiar = r.familiar();
            if let Some(m) = opts.matches
                && !m(&familiar)
            {
                continue;
            }
            if r.digest.is_some() {
                digests.push(familiar.clone());
            }
            if r.tag.is_some() {
                tags.push(familiar);
            }
        }
        if tags.is_empty() && digests.is_empty() {
            // Untagged: listed when no child image stands above it (or with -a), and not when
            // the filter asks for tagged images or names.
            if (!opts.all && has_children(&id)) || opts.dangling == Some(false) || opts.matches.is_some() {
                continue;
            }
            digests.push("<none>@<none>".into());
            tags.push("<none>:<none>".into());
        } else if dangling_only && !tags.is_empty() {
            continue;
        }
        out.push(Summary {
            containers: -1,
            created: created.map_or(ZERO_UNIX, |t| t.unix),
            id,
            labels: img.labels().map(|l| l.into_iter().collect()),
            parent_id: img.parent.clone(),
            repo_digests: digests,
            repo_tags: tags,
            shared_size: -1,
            size,
            virtual_size: size,
            created_text: created.map_or_else(
                || img.created().to_string(),
                |t| {
                    crate::containerd::gotime::GoTime {
                        nanos: 0,
                        offset: 0,
                        ..t
                    }
                    .rfc3339_nano()
                },
            ),
        });
    }
    out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
    out
}

impl Summary {
    /// The image ID (`sha256:<hex>`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the store names the image (a tag or a digest), not `<none>`.
    pub fn is_named(&self) -> bool {
        self.repo_tags
            .iter()
            .chain(&self.repo_digests)
            .any(|r| !r.starts_with("<none>"))
    }
}

/// docker/cli's rows for one image: (repository, tag, digest), sorted (docker's order is a
/// Go map's).
fn rows_of(s: &Summary, digests: bool) -> Vec<(String, String, String)> {
    use std::collections::BTreeMap;
    if s.repo_tags == ["<none>:<none>"] && s.repo_digests == ["<none>@<none>"] {
        return vec![("<none>".into(), "<none>".into(), "<none>".into())];
    }
    let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut by_repo: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in &s.repo_tags {
        if let Ok(n) = crate::image::reference::parse_normalized_named(t)
            && let Some(tag) = n.tag.clone()
        {
            tags.entry(n.familiar_name()).or_default().push(tag);
        }
    }
    for d in &s.repo_digests {
        if let Ok(n) = crate::image::reference::parse_normalized_named(d)
            && let Some(digest) = n.digest.clone()
        {
            by_repo.entry(n.familiar_name()).or_default().push(digest);
        }
    }
    let mut rows = Vec::new();
    for (repo, ts) in tags {
        let ds = by_repo.remove(&repo).filter(|_| digests).unwrap_or_default();
        for t in ts {
            if ds.is_empty() {
                rows.push((repo.clone(), t.clone(), "<none>".into()));
            }
            for d in &ds {
                rows.push((repo.clone(), t.clone(), d.clone()));
            }
        }
    }
    for (repo, ds) in by_repo {
        if digests {
            rows.extend(ds.into_iter().map(|d| (repo.clone(), "<none>".to_string(), d)));
        } else {
            rows.push((repo, "<none>".into(), String::new()));
        }
    }
    rows.sort();
    rows
}

/// The table (or `-q`'s IDs) docker/cli prints for `summaries`.
pub fn images_table(summaries: &[Summary], opts: &ImagesOptions<'_>) -> String {
    let id_of = |s: &Summary| {
        if opts.no_trunc {
            s.id.clone()
        } else {
            s.id.trim_start_matches("sha256:").chars().take(12).collect()
        }
    };
    let mut text = String::new();
    if !opts.quiet {
        text.push_str(if opts.digests {
            "REPOSITORY\tTAG\tDIGEST\tIMAGE ID\tCREATED\tSIZE\n"
        } else {
            "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n"
        });
    }
    for s in summaries {
        for (repo, tag, digest) in rows_of(s, opts.digests) {
            if opts.quiet {
                text.push_str(&id_of(s));
                text.push('\n');
                continue;
            }
            let size = super::listings::table::human_size_with_precision(s.size, 3);
            let mut cells = vec![repo, tag];
            if opts.digests {
                cells.push(digest);
            }
            cells.extend([id_of(s), s.created_text.clone(), size]);
            text.push_str(&cells.join("\t"));
            text.push('\n');
        }
    }
    let text = crate::text::escape_hazards(&text).into_owned();
    if opts.quiet {
        text
    } else {
        super::tabwriter::columns(&text, 10, 3)
    }
}
