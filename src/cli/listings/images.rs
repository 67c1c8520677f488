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

use super::analysis::{Analysis, Doc, MAX_GRAPH_DEPTH, PlatformEntry, Shared, Sizes, Walk, analyse, read_doc};
use super::filter::glob_match;
use super::json_text::{self, JsonText};
use super::output::{Format, ListArgs, RowWriter, emit, filtered};
use super::table::{self, Table};
use super::{LABELS_WIDTH, run_on};
use crate::cli::context::Global;
use crate::cli::{Failure, Outcome};
use crate::containerd::records::{self, Image};
use crate::image::document::{self, Descriptor, ImageConfig, Index, Manifest};
use crate::image::reference;
use crate::inspect::{Inspector, Options};
use clap::Args;
use foldhash::HashMap;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Arc;

#[derive(Args)]
pub struct ImagesArgs {
    /// Also list Docker's dangling records (`moby-dangling@<digest>`, untagged images).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only the images whose reference matches (`docker image ls [REPOSITORY[:TAG]]`): the
    /// same as `--filter reference=PATTERN`.
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub pattern: Option<String>,
    /// The image records carved from meta.db's pages (as `recover` does) that the tree no
    /// longer has, with the page each was found on, whether the previous meta's tree still has
    /// it, and whether its blobs are still in the content store (BLOBS and CONTENT, as `ctr
    /// images check` says it, over the records the deletion left, deleted ones included).
    #[arg(long)]
    pub deleted: bool,
    /// On a graph driver node (dockerd's own image store): a DIGEST column, as `docker images
    /// --digests`.
    #[arg(long)]
    pub digests: bool,
    #[command(flatten)]
    pub list: ListArgs,
}

/// The docker filter keys of `images` (moby's `acceptedImageFilterTags` but `until`).
const IMAGE_KEYS: [&str; 6] = ["dangling", "label", "label!", "before", "since", "reference"];

const DANGLING: &str = "moby-dangling@";

#[derive(Serialize)]
struct ImageRow<'a> {
    #[serde(flatten)]
    record: &'a Image,
    /// A Docker `moby-dangling@` record (an untagged image).
    dangling: bool,
    #[serde(flatten)]
    found: Arc<Found>,
    /// With `--deleted`: where the record was carved from.
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted: Option<&'a Evidence>,
}

/// A target's analysis as its rows need it.
enum Shown {
    Found(Arc<Found>),
    /// Only the text of its members, for JSON with no filter ([`Found::json_members`]).
    Text(Arc<Vec<u8>>),
}

/// What a row shows of its target's analysis: made once per target, shared by its records
/// (a copy per record was a tenth of the main thread's work).
#[derive(Serialize)]
struct Found {
    platforms: Vec<PlatformEntry>,
    #[serde(rename = "platformsPresent")]
    platforms_present: Vec<String>,
    #[serde(rename = "platformsMissing")]
    platforms_missing: Vec<String>,
    sizes: Sizes,
    /// Blobs that are there but cannot be used (short, not JSON, not a regular file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
}

impl From<Analysis> for Found {
    fn from(a: Analysis) -> Found {
        let (platforms_present, platforms_missing) = platform_sets(&a.platforms);
        Found {
            platforms: a.platforms,
            platforms_present,
            platforms_missing,
            sizes: a.sizes,
            problems: a.problems,
        }
    }
}

impl Found {
    /// This analysis's members of a row's JSON (`platforms` to `problems`), each after a `,`,
    /// as the row's `Serialize` prints them: for a pretty element of the top-level array
    /// (`pretty`) or for a line. Made once per target and copied into each of its rows.
    fn json_members(&self, pretty: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(4096);
        let mut j = JsonText::within_object(&mut out, pretty, 2);
        j.key("platforms");
        j.open_array();
        for p in &self.platforms {
            j.element();
            j.open_object();
            j.opt_str_member("platform", p.platform.as_deref());
            j.str_member("digest", &p.digest);
            j.str_member("mediaType", &p.media_type);
            j.int_member("size", p.size);
            j.bool_member("present", p.present);
            if p.attestation {
                j.bool_member("attestation", true);
            }
            if let Some(config) = &p.config {
                j.str_member("config", config);
            }
            if !p.layers.is_empty() {
                j.key("layers");
                j.open_array();
                for l in &p.layers {
                    j.element();
                    j.open_object();
                    j.str_member("digest", &l.digest);
                    j.str_member("mediaType", &l.media_type);
                    j.int_member("size", l.size);
                    j.close_object();
                }
                j.close_array();
            }
            j.close_object();
        }
        j.close_array();
        j.key("platformsPresent");
        j.string_list(&self.platforms_present);
        j.key("platformsMissing");
        j.string_list(&self.platforms_missing);
        j.key("sizes");
        j.open_object();
        let c = &self.sizes.content;
        j.key("content");
        j.open_object();
        j.str_member("definition", c.definition);
        j.str_member("platform", &c.platform);
        j.str_member("status", c.status);
        j.int_member("present", c.present);
        j.key("required");
        match c.required {
            Some(n) => j.integer(n),
            None => j.null(),
        }
        j.int_member("presentCount", c.present_count);
        j.key("requiredCount");
        match c.required_count {
            Some(n) => j.integer(n),
            None => j.null(),
        }
        j.key("missing");
        j.string_list(&c.missing);
        if let Some(e) = &c.error {
            j.str_member("error", e);
        }
        j.close_object();
        j.key("unpacked");
        j.open_array();
        for u in &self.sizes.unpacked {
            j.element();
            j.open_object();
            j.str_member("definition", u.definition);
            j.str_member("snapshotter", &u.snapshotter);
            j.str_member("chainId", &u.chain_id);
            j.int_member("size", u.size);
            j.int_member("snapshots", u.snapshots);
            j.bool_member("complete", u.complete);
            j.close_object();
        }
        j.close_array();
        if let Some(d) = &self.sizes.docker_inspect {
            j.key("dockerInspect");
            j.open_object();
            j.str_member("definition", d.definition);
            j.int_member("size", d.size);
            j.close_object();
        }
        j.close_object();
        if !self.problems.is_empty() {
            j.key("problems");
            j.string_list(&self.problems);
        }
        out
    }
}

/// A row of a listing printed as JSON with no filter: its record and the text of its
/// target's analysis ([`Found::json_members`]), shared by the target's records.
struct RowText<'a> {
    record: &'a Image,
    found: Arc<Vec<u8>>,
}

impl RowText<'_> {
    /// The row as [`ImageRow`]'s `Serialize` prints it (without `--deleted`), as a pretty
    /// element of the top-level array or as a line.
    fn json(&self, pretty: bool) -> Vec<u8> {
        let r = self.record;
        json_text::row(pretty, 1024 + self.found.len(), |j| {
            j.str_member("namespace", &r.namespace);
            j.str_member("name", &r.name);
            j.key("target");
            j.open_object();
            j.str_member("mediaType", &r.target.media_type);
            j.str_member("digest", &r.target.digest);
            j.int_member("size", r.target.size);
            if !r.target.annotations.is_empty() {
                j.map_member("annotations", &r.target.annotations);
            }
            j.close_object();
            j.opt_str_member("createdAt", r.created_at.as_deref());
            j.opt_str_member("updatedAt", r.updated_at.as_deref());
            j.map_member("labels", &r.labels);
            j.bool_member("dangling", r.name.starts_with(DANGLING));
            j.raw(&self.found);
        })
    }
}

/// Where a deleted image record was found (`images --deleted`).
#[derive(Serialize)]
struct Evidence {
    /// The page of the copy listed (for an inline record, the page holding it).
    page: u64,
    inline: bool,
    /// Every page a copy of the record was found on.
    pages: Vec<u64>,
    /// The previous meta's tree reaches the page (the record was deleted by the last
    /// transaction, or that tree still has it).
    #[serde(rename = "previousReaches")]
    previous_reaches: bool,
    /// The previous meta's tree still has a record of this name.
    #[serde(rename = "inPrevious")]
    in_previous: bool,
}

/// Deleted image records' evidence by (namespace, name).
type EvidenceMap = HashMap<(String, String), Evidence>;

/// The root to list from: with `--deleted`, the salvage view of the deleted image records
/// (and every other record, deleted ones included, so that their blobs can be found), with
/// each one's evidence by (namespace, name).
fn open(global: &Global, deleted: bool) -> Result<(crate::containerd::root::Root, EvidenceMap), Failure> {
    if !deleted {
        return Ok((global.open_root()?, HashMap::default()));
    }
    let opts = crate::recover::view::Options {
        include_deleted: true,
        previous: global.previous,
        deleted_images_only: true,
    };
    let (root, placed) = global.open_salvaged(opts, global.salvaging())?;
    let evidence = placed
        .into_iter()
        .filter(|p| p.record.kind == "image" && p.status == crate::recover::view::Status::Deleted)
        .map(|p| {
            let c = p.record;
            (
                (p.namespace, c.name.clone().unwrap_or_default()),
                Evidence {
                    page: c.page,
                    inline: c.inline,
                    pages: p.pages,
                    previous_reaches: c.previous_reaches,
                    in_previous: c.in_previous,
                },
            )
        })
        .collect();
    Ok((root, evidence))
}

pub fn images(global: &Global, args: ImagesArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    // dockerd's own graph-driver store takes its filters as dockerd 20.10 does (its keys, its
    // messages), before containerd's are parsed.
    if !args.deleted
        && let Some(store) = crate::cli::graph_images::store(global)
    {
        return graph_images(&store, &args, out);
    }
    let filters = args.list.filters(&IMAGE_KEYS, super::filter::Kind::Images)?;
    let dangling = filters.dangling()?;
    let mut patterns: Vec<String> = filters.values("reference").to_vec();
    patterns.extend(args.pattern.clone());
    // containerd's selectors on what a record's key says (its name, its namespace) are tested
    // before any record is opened, those on its other fields once it is decoded, and the rest
    // on the finished rows. With `before` or `since`, the keys are tested by those two only:
    // the namespaces their reference is looked up in are those with records left.
    let by_date = !filters.values("before").is_empty() || !filters.values("since").is_empty();
    let on_key = filters.early(&KEY_MEMBERS);
    let on_record = filters.early(&RECORD_MEMBERS);
    let (root, evidence) = open(global, args.deleted)?;
    let deleted = args.deleted;
    run_on(global, root, |s| {
        s.outcome = s.outcome.worst(crate::cli::context::content_outcome(s.root));
        let mut records = Vec::new();
        // The records are decoded on the pool, at most three workers and one a core (5,000 a
        // namespace were a tenth of the run, on one thread).
        let pool = crate::pipeline::pool(3);
        for (ns, b) in &s.namespaces {
            // The record's name is its key: whatever is tested on the name is tested on the key,
            // and a record no pattern can match is not opened.
            let wanted = |name: &str| {
                let is_dangling = name.starts_with(DANGLING);
                let wanted = match dangling {
                    Some(want) => want == is_dangling,
                    None => args.all || !is_dangling,
                };
                wanted
                    && (patterns.is_empty() || patterns.iter().any(|p| reference_matches(p, name)))
                    && (by_date
                        || !on_key.tests()
                        || on_key.may_match(|m| match m {
                            "namespace" => Value::from(ns.as_str()),
                            "name" => Value::from(name),
                            _ => Value::Bool(is_dangling),
                        }))
            };
            records.extend(records::images_where_on(pool.as_ref(), ns, b, wanted, &mut s.damage));
        }
        if records.is_empty()
            && let Some(store) =
                crate::containers::graph_driver::graph_image_store(&s.root.dir, s.global.docker_root.as_deref())
        {
            crate::cli::warn(format_args!(
                "no image records here; this node's dockerd keeps its images in its graph-driver store ({}), which `images`, `inspect` and `history` read without -n (`ps`, `container inspect` and `ps -f ancestor=` read it too)",
                crate::text::escape(store.as_os_str().as_encoded_bytes())
            ));
        }
        let mut inspectors: HashMap<String, Inspector<'_>> = HashMap::default();
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
        // The selectors on the records' fields, before any target is analysed (`name==X` of
        // 20,000 records analysed every target for one row: sweep 31.2).
        if on_record.tests() {
            records.retain(|r| on_record.may_match(|m| record_member(r, m)));
        }
        // `-q` prints the names, which no analysis changes unless a containerd filter tests
        // the rows' fields: as `ctr images ls -q`, no target is analysed (10,000 records:
        // 0.4 s with every target analysed, against the listing of the records alone). With
        // a containerd filter the rows it keeps are analysed, as the full listing analyses
        // them, so their damage is said as the README and --help promise (a review: `-q -f
        // name~=legacy` printed a damaged image's name, exit 0); the records the filter
        // dropped above are not.
        let names_only = args.list.quiet && !filters.has_fields();
        let mut most = false;
        // The namespaces whose content sizes are learnt beside the analyses (when memory is
        // tight, `prepare_for_images` has learnt them already).
        let mut learn_beside: Vec<&Inspector<'_>> = Vec::new();
        if !names_only {
            // When the analyses will ask about most of a namespace's content records and blobs:
            let mut distinct: HashMap<&str, BTreeSet<&str>> = HashMap::default();
            for r in &records {
                distinct.entry(&r.namespace).or_default().insert(&r.target.digest);
            }
            for (ns, targets) in distinct {
                let Some(i) = inspectors.get(ns) else { continue };
                let asks_most = i.prepare_for_images(targets.len());
                if asks_most && !s.tx.db().reads_frugally() {
                    learn_beside.push(i);
                }
                most |= asks_most;
            }
        }
        let shared = Shared::new(s.root, &s.tx, s.global, &s.backends, &inspectors);
        if filters.has_labels() {
            let mut seen: HashMap<(String, String), bool> = HashMap::default();
            // What the filter could not read: said, and exit 3, as the full listing says it
            // (an image dropped by it was gone without a word: sweep 29.1).
            let mut said = Vec::new();
            records.retain(|i| {
                *seen
                    .entry((i.namespace.clone(), i.target.digest.clone()))
                    .or_insert_with(|| {
                        let w = Walk::new(&shared);
                        let mut problems = Vec::new();
                        let labels = config_labels(&w, &i.namespace, &i.target, &mut problems);
                        problems.extend(w.lost_problems());
                        problems.sort();
                        problems.dedup();
                        said.extend((problems.into_iter()).map(|p| {
                            crate::damage::Note::from(format!("namespace {}: image \"{}\": {p}", i.namespace, i.name))
                        }));
                        said.extend(w.damage);
                        labels.iter().any(|l| filters.labels_match(l))
                    })
            });
            for note in said {
                s.damage.push(note);
            }
        }
        if names_only {
            for r in &records {
                writeln!(out, "{}", crate::text::one_line(&r.name))?;
            }
            s.damage.extend(shared.take_shared_damage());
            return Ok(());
        }
        // One analysis per (namespace, target descriptor), the first record naming it in list
        // order; the others share it. The whole descriptor: records of one digest can carry
        // another media type or size (hand-written or damaged), and containerd and dockerd
        // size each record by its own.
        let mut first: HashMap<(&str, &str, &str, i64), usize> = HashMap::default();
        let mut targets: Vec<&Image> = Vec::new();
        let slot: Vec<usize> = records
            .iter()
            .map(|image| {
                let t = &image.target;
                *first
                    .entry((
                        image.namespace.as_str(),
                        t.digest.as_str(),
                        t.media_type.as_str(),
                        t.size,
                    ))
                    .or_insert_with(|| {
                        targets.push(image);
                        targets.len() - 1
                    })
            })
            .collect();
        // The last record of each target: its analysis is dropped after it.
        let mut last = vec![0usize; targets.len()];
        for (i, &t) in slot.iter().enumerate() {
            if let Some(l) = last.get_mut(t) {
                *l = i;
            }
        }
        // JSON, JSON lines and -q are written a batch of records at a time (an analysis is
        // kept only until its target's last record); a table needs every row for its widths.
        let streams = !deleted && (args.list.quiet || matches!(args.list.format, Format::Json | Format::Jsonl));
        let batch = if streams { RECORD_BATCH } else { records.len().max(1) };
        // JSON with no filter to run on the rows' JSON: each target's members are written once,
        // on the worker that analysed it, and the analysis dropped there.
        let by_hand = streams && !args.list.quiet && filters.is_empty();
        let pretty = args.list.format == Format::Json;
        let finish = |a: Analysis| {
            let found = Found::from(a);
            if by_hand {
                Shown::Text(Arc::new(found.json_members(pretty)))
            } else {
                Shown::Found(Arc::new(found))
            }
        };
        let mut analyses: Vec<Option<Shown>> = Vec::new();
        let mut held: Vec<ImageRow<'_>> = Vec::new();
        let mut writer = RowWriter::default();
        std::thread::scope(|scope| -> Result<(), Failure> {
            if most {
                // Whether each blob is a regular file, from one read of the directory, then
                // every content size from one walk of the records in key order, on a thread of
                // its own: the analyses ask by name until each is there. (Walked before the
                // analyses, the sizes cost as much time as the lookups they saved.)
                let (shared, learn_beside) = (&shared, &learn_beside);
                crate::pipeline::spawn_scoped(scope, move || {
                    shared.list_blobs();
                    for i in learn_beside {
                        i.learn_content_sizes();
                    }
                });
            }
            for (n, chunk) in records.chunks(batch).enumerate() {
                let start = n * batch;
                // The targets first named in this batch, analysed on the pool.
                let wanted = chunk
                    .iter()
                    .enumerate()
                    .filter_map(|(i, _)| slot.get(start + i).copied())
                    .max()
                    .map_or(0, |m| m + 1);
                let new = targets.get(analyses.len()..wanted).unwrap_or_default();
                for (shown, damage) in analyse_all(&shared, &inspectors, new, &finish) {
                    s.damage.extend(damage);
                    analyses.push(Some(shown));
                }
                let mut rows = Vec::with_capacity(chunk.len());
                let mut texts = Vec::new();
                for (i, record) in chunk.iter().enumerate() {
                    let Some(&t) = slot.get(start + i) else { continue };
                    let a = match analyses.get(t).and_then(Option::as_ref) {
                        Some(Shown::Found(a)) => a,
                        Some(Shown::Text(text)) => {
                            texts.push(RowText {
                                record,
                                found: Arc::clone(text),
                            });
                            continue;
                        }
                        None => continue,
                    };
                    rows.push(ImageRow {
                        record,
                        dangling: record.name.starts_with(DANGLING),
                        found: Arc::clone(a),
                        deleted: if evidence.is_empty() {
                            None
                        } else {
                            evidence.get(&(record.namespace.clone(), record.name.clone()))
                        },
                    });
                }
                for (i, _) in chunk.iter().enumerate() {
                    if let Some(&t) = slot.get(start + i)
                        && last.get(t) == Some(&(start + i))
                        && let Some(a) = analyses.get_mut(t)
                    {
                        *a = None;
                    }
                }
                if by_hand {
                    writer.rows_as(
                        out,
                        &args.list,
                        &texts,
                        |r| r.record.name.clone(),
                        |r, pretty| Ok(r.json(pretty)),
                    )?;
                    continue;
                }
                let rows = filtered(rows, &filters, |_, _| true);
                if streams {
                    writer.rows(out, &args.list, &rows, |r| r.record.name.clone())?;
                } else {
                    held.extend(rows);
                }
            }
            Ok(())
        })?;
        s.damage.extend(shared.take_shared_damage());
        if streams {
            return writer.finish(out, &args.list);
        }
        if deleted {
            return emit(out, &args.list, &held, |r| r.record.name.clone(), deleted_table);
        }
        emit(out, &args.list, &held, |r| r.record.name.clone(), table_of)
    })
}

/// The members of an image row's JSON its record's key says: its name, its namespace, and
/// whether it is a dangling one.
const KEY_MEMBERS: [&str; 3] = ["namespace", "name", "dangling"];

/// The members of an image row's JSON its record says ([`ImageRow`] but `found` and
/// `deleted`; no other member of a row has one of these names, whatever the case).
const RECORD_MEMBERS: [&str; 7] = [
    "namespace",
    "name",
    "target",
    "createdAt",
    "updatedAt",
    "labels",
    "dangling",
];

/// The member `name` (one of [`RECORD_MEMBERS`]) of a record's row, as [`ImageRow`]'s JSON
/// has it.
fn record_member(r: &Image, name: &str) -> Value {
    let json = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
    match name {
        "namespace" => Value::from(r.namespace.as_str()),
        "name" => Value::from(r.name.as_str()),
        "target" => json(serde_json::to_value(&r.target)),
        "createdAt" => json(serde_json::to_value(&r.created_at)),
        "updatedAt" => json(serde_json::to_value(&r.updated_at)),
        "labels" => json(serde_json::to_value(&r.labels)),
        _ => Value::Bool(r.name.starts_with(DANGLING)),
    }
}

/// Records listed per batch when the output streams.
const RECORD_BATCH: usize = 512;

/// Analyses `targets` (in list order, so grouped by namespace): each namespace's on its
/// inspector's pool (at most three workers, as dockerd's semaphore of 3, and no more than the
/// cores), each made into what the rows need by `finish` on the worker that analysed it, with
/// the damage it met.
fn analyse_all<X: Send>(
    shared: &Shared<'_, '_>,
    inspectors: &HashMap<String, Inspector<'_>>,
    targets: &[&Image],
    finish: &(impl Fn(Analysis) -> X + Sync),
) -> Vec<(X, crate::damage::Damage)> {
    let mut out = Vec::with_capacity(targets.len());
    for group in targets.chunk_by(|a, b| a.namespace == b.namespace) {
        let inspector = group.first().and_then(|i| inspectors.get(&i.namespace));
        let walk = |image: &&Image| {
            let mut w = Walk::new(shared);
            let a = analyse(&mut w, image, inspector);
            (finish(a), w.damage)
        };
        match inspector {
            Some(i) => out.extend(i.on_pool(|| group.par_iter().map(walk).collect::<Vec<_>>())),
            None => out.extend(group.iter().map(walk)),
        }
    }
    out
}

/// moby's reference filter (`reference.FamiliarMatch`): the pattern, a Go `path.Match` glob,
/// against the familiar reference (`webapp:1.0`) or the familiar name (`webapp`). A record
/// whose name is not a reference never matches.
/// `images` of dockerd's own graph-driver image store ([`crate::cli::graph_images`]), with the
/// filters dockerd 20.10's `Images` takes (`dangling`, `label`, `before`, `since`,
/// `reference`, the positional pattern being one); what it refuses, it refuses with dockerd's
/// message (exit 1), printing no table.
fn graph_images(
    store: &crate::containers::graph_images::GraphImages,
    args: &ImagesArgs,
    out: &mut dyn Write,
) -> Result<Outcome, Failure> {
    use crate::cli::graph_images::{ImagesOptions, Refused, graph_filters, images_table, said, summaries};
    let filters = match graph_filters(store, &args.list.filter, args.pattern.as_deref()) {
        Ok(f) => f,
        Err(Refused::Usage(m)) => return Err(Failure::new(Outcome::Usage, m)),
        Err(Refused::Daemon(m)) => {
            let outcome = said(store);
            crate::say!("Error response from daemon: {}", crate::text::escape(m.as_bytes()));
            return Ok(outcome.worst(Outcome::No));
        }
    };
    let matches = |name: &str| filters.references.iter().any(|p| reference_matches(p, name));
    let opts = ImagesOptions {
        all: args.all,
        quiet: args.list.quiet,
        no_trunc: args.list.no_trunc,
        digests: args.digests,
        dangling: filters.dangling,
        matches: (!filters.references.is_empty()).then_some(&matches as &dyn Fn(&str) -> bool),
        labels: &filters.labels,
        before: filters.before,
        since: filters.since,
    };
    // dockerd 20.10 matches each reference of each image against the patterns with Go's
    // `path.Match`, and a malformed one fails the request once any image has a reference.
    if filters.references.iter().any(|p| !super::filter::glob_valid(p))
        && summaries(
            store,
            &ImagesOptions {
                matches: None,
                all: true,
                ..opts
            },
        )
        .iter()
        .any(|r| r.is_named())
    {
        let outcome = said(store);
        crate::say!("Error response from daemon: syntax error in pattern");
        return Ok(outcome.worst(Outcome::No));
    }
    let rows = summaries(store, &opts);
    match &args.list.format {
        Format::Table => out.write_all(images_table(&rows, &opts).as_bytes())?,
        _ if args.list.quiet => out.write_all(images_table(&rows, &opts).as_bytes())?,
        _ => emit(out, &args.list, &rows, |r| r.id().to_string(), |_, _| Table::new(&[]))?,
    }
    Ok(said(store))
}

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
    let mut pivots: HashMap<&str, Option<i128>> = HashMap::default();
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
/// filter reads: any one config must satisfy every label check); an index, manifest or config
/// there but unusable is one of `problems`.
fn config_labels(
    s: &Walk<'_, '_, '_>,
    ns: &str,
    target: &records::StoredTarget,
    problems: &mut Vec<String>,
) -> Vec<BTreeMap<String, String>> {
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
            if let (Some(index), true) = (
                usable(read_doc::<Index>(s, ns, &desc.digest), problems),
                depth < MAX_GRAPH_DEPTH,
            ) {
                queue.extend(index.manifests.into_iter().rev().map(|c| (c, depth + 1)));
            }
        } else if document::is_manifest_type(&desc.media_type)
            && let Some(m) = usable(read_doc::<Manifest>(s, ns, &desc.digest), problems)
            && let Some(c) = usable(read_doc::<ImageConfig>(s, ns, &m.config.digest), problems)
        {
            let labels = c.config.and_then(|c| c.labels).unwrap_or_default();
            out.push(labels.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect());
        }
    }
    out
}

/// A document read, or none; one there but unusable is one of `problems`.
fn usable<T>(doc: Doc<T>, problems: &mut Vec<String>) -> Option<T> {
    match doc {
        Doc::Ok(v) => Some(v),
        Doc::Missing => None,
        Doc::Bad(why) => {
            problems.push(why);
            None
        }
    }
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
        .limit("LABELS", if trunc { IMAGE_LABELS_WIDTH } else { LABELS_WIDTH })
        .names(&["LABELS"])
        .whole_names(&["NAMESPACE", "NAME"]);
    for r in rows {
        let c = &r.found.sizes.content;
        // `ctr images check` in one cell: present/required bytes (complete when they are
        // equal; the counts and the missing digests are in JSON), or why there is no answer.
        let content = match (c.status, c.required) {
            ("complete" | "incomplete", Some(req)) => {
                format!("{}/{}", table::human_size(c.present), table::human_size(req))
            }
            (status, _) => status.to_string(),
        };
        let unpacked = r
            .found
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
            r.found.platforms_present.join(","),
            r.found.platforms_missing.join(","),
            r.found
                .sizes
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

/// `images --deleted`: each record with where it was found and what is left of its blobs.
fn deleted_table(rows: &[ImageRow<'_>], trunc: bool) -> Table {
    let header = [
        "NAMESPACE",
        "NAME",
        "DIGEST",
        "PAGE",
        "PREVIOUS",
        "CREATED",
        "UPDATED",
        "BLOBS",
        table::size_header("CONTENT"),
    ];
    let mut t = Table::truncating(&header, trunc).whole_names(&["NAMESPACE", "NAME"]);
    for r in rows {
        let c = &r.found.sizes.content;
        let content = match (c.status, c.required) {
            ("complete" | "incomplete", Some(req)) => {
                format!("{}/{}", table::human_size(c.present), table::human_size(req))
            }
            _ => String::new(),
        };
        // What is left: every blob of the host platform's image, some, or not even the
        // manifest (or index) the record names.
        let blobs = match c.status {
            "complete" => "present".to_string(),
            "incomplete" => format!("partial({} missing)", c.missing.len()),
            "unavailable" => "gone".to_string(),
            other => other.to_string(),
        };
        let (page, previous) = match r.deleted {
            Some(e) => (
                format!("{}{}", e.page, if e.inline { " (inline)" } else { "" }),
                if e.in_previous {
                    "has it"
                } else if e.previous_reaches {
                    "reaches"
                } else {
                    "-"
                }
                .to_string(),
            ),
            None => (String::new(), String::new()),
        };
        t.row(&[
            r.record.namespace.clone(),
            r.record.name.clone(),
            r.record.target.digest.clone(),
            page,
            previous,
            r.record
                .created_at
                .as_deref()
                .map(table::utc_seconds)
                .unwrap_or_default(),
            r.record
                .updated_at
                .as_deref()
                .map(table::utc_seconds)
                .unwrap_or_default(),
            blobs,
            content,
        ]);
    }
    t
}

/// The widest a PLATFORMS or MISSING cell of `images` prints unless `--no-trunc`.
const PLATFORMS_WIDTH: usize = 20;
/// The widest a LABELS cell of `images` prints unless `--no-trunc` (the table is wide).
const IMAGE_LABELS_WIDTH: usize = 20;

#[cfg(test)]
mod tests {
    use super::{Found, ImageRow, RowText};
    use crate::cli::listings::analysis::{ContentCheck, DockerSize, LayerEntry, PlatformEntry, Sizes, Unpacked};
    use crate::containerd::records::{Image, StoredTarget};
    use std::sync::Arc;

    const ODD: &str = "a\"b\\c\u{1}\u{1b}[2J\n\u{7f}é😀";

    fn image(name: &str, annotations: &[(&str, &str)], times: bool) -> Image {
        Image {
            namespace: ODD.into(),
            name: name.into(),
            target: StoredTarget {
                media_type: "application/vnd.oci.image.index.v1+json".into(),
                digest: format!("sha256:{}", "cd".repeat(32)),
                size: 1234,
                annotations: annotations
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            },
            created_at: times.then(|| "2026-12-01T08:32:15.193013024Z".into()),
            updated_at: None,
            labels: [(ODD.to_string(), ODD.to_string()), ("gen".into(), "1".into())].into(),
            updated: None,
        }
    }

    fn platform(platform: Option<&str>, attestation: bool, layers: usize) -> PlatformEntry {
        PlatformEntry {
            platform: platform.map(str::to_string),
            digest: format!("sha256:{}", "ef".repeat(32)),
            media_type: ODD.into(),
            size: -5,
            present: layers > 0,
            attestation,
            config: (layers > 0).then(|| "sha256:config".into()),
            layers: (0..layers)
                .map(|i| LayerEntry {
                    digest: format!("sha256:{i}"),
                    media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
                    size: i as i64,
                })
                .collect(),
        }
    }

    /// Analyses of every shape: an index with an attestation, an unreadable manifest, no
    /// platform at all; a check with and without an answer; unpacked sizes; problems.
    fn founds() -> Vec<Found> {
        let check = |required: Option<i64>, error: Option<&str>| ContentCheck {
            definition: "ctr images check",
            platform: "linux/amd64".into(),
            status: if required.is_some() { "complete" } else { "unavailable" },
            present: 10,
            required,
            present_count: 2,
            required_count: required.map(|_| 3),
            missing: error.map(|e| vec![e.to_string()]).unwrap_or_default(),
            error: error.map(str::to_string),
        };
        let unpacked = |n: usize| {
            (0..n)
                .map(|i| Unpacked {
                    definition: "unpacked",
                    snapshotter: format!("overlayfs{i}"),
                    chain_id: "sha256:chain".into(),
                    size: 4096,
                    snapshots: i,
                    complete: i == 0,
                })
                .collect()
        };
        vec![
            Found {
                platforms: vec![
                    platform(Some("linux/amd64"), false, 2),
                    platform(Some("unknown/unknown"), true, 0),
                    platform(None, false, 0),
                ],
                platforms_present: vec!["linux/amd64".into()],
                platforms_missing: vec!["unknown".into(), ODD.into()],
                sizes: Sizes {
                    content: check(Some(30), None),
                    unpacked: unpacked(2),
                    docker_inspect: Some(DockerSize {
                        definition: "docker",
                        size: 99,
                    }),
                },
                problems: vec![ODD.into()],
            },
            Found {
                platforms: Vec::new(),
                platforms_present: Vec::new(),
                platforms_missing: Vec::new(),
                sizes: Sizes {
                    content: check(None, Some(ODD)),
                    unpacked: unpacked(0),
                    docker_inspect: None,
                },
                problems: Vec::new(),
            },
        ]
    }

    #[test]
    fn rows_written_by_hand_print_as_their_serialize_does() {
        let records = [
            image("docker.io/library/a:1", &[], true),
            image(
                "moby-dangling@sha256:00",
                &[("org.opencontainers.image.ref.name", ODD)],
                false,
            ),
        ];
        for found in founds() {
            let found = Arc::new(found);
            for record in &records {
                let row = ImageRow {
                    record,
                    dangling: record.name.starts_with(super::DANGLING),
                    found: Arc::clone(&found),
                    deleted: None,
                };
                for pretty in [true, false] {
                    let by_hand = RowText {
                        record,
                        found: Arc::new(found.json_members(pretty)),
                    }
                    .json(pretty);
                    let serde = if pretty {
                        super::super::output::element(&row)
                    } else {
                        super::super::output::line(&row)
                    }
                    .unwrap_or_default();
                    assert_eq!(String::from_utf8_lossy(&by_hand), String::from_utf8_lossy(&serde));
                }
            }
        }
    }
}
