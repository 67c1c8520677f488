//! `coldctr ps`, `coldctr container inspect` and `coldctr timeline`: the containers of every
//! store on the node ([`crate::containers`]), as docker shows them where docker would.
//!
//! * `ps` prints the rows `docker ps` prints, newest first; ages relative to the examiner's
//!   clock (`Up 2 hours`, `Exited (0) 3 days ago`) become the recorded times
//!   (`Up since T (at seizure)`, `Exited (0) at T`). `--format json` is docker's: one object a
//!   line, with docker's keys (`RunningFor` left out: an age; `Size` measured with `--size`
//!   or a template that reads it, [`crate::containers::size`], else docker's `0B`) and ours
//!   added (`Source`, `StartedAt`, `FinishedAt`, `ExitCode`...).
//! * `container inspect` prints what `docker container inspect` prints for a Docker container
//!   (see [`crate::containers::docker_inspect`] for what cannot be known offline), and
//!   `ctr containers info`'s object for a containerd or CRI record.
//! * `timeline` prints every recorded time, sorted; `--format jsonl` for Timesketch.

use super::context::Global;
use super::listings::goregex::Patterns;
use super::listings::table::Table;
use super::listings::table::human_size_with_precision;
use super::{Failure, Outcome, warn};
use crate::containers::size::{LayerSize, ProblemKind, Sizer};
use crate::containers::{self, Entry, Inventory, Lookup, Source, Sources};
use crate::inspect::gojson::{J, indent};
use clap::{Args, Subcommand, ValueEnum};
use std::collections::BTreeMap;
use std::io::Write;

#[derive(Args)]
pub struct PsArgs {
    /// Show every container (default: those running, paused or restarting when the node
    /// stopped).
    #[arg(short, long)]
    all: bool,
    /// `table` (aligned columns), `json` (one object a line, as `docker ps --format json`),
    /// `raw` (docker's `key: value` lines, a block a container), or a Go template run on each container as docker's (`{{.ID}}\t{{.Names}}`, `{{.Label
    /// "k"}}`; `table TEMPLATE` adds a header row and aligns the columns). Default: table.
    #[arg(long, value_name = "table|json|raw|TEMPLATE")]
    format: Option<String>,
    /// Print IDs, images, commands and mount names whole (by default they are cut as docker
    /// cuts them, in the table and in `--format json`).
    #[arg(long)]
    no_trunc: bool,
    /// Only the IDs.
    #[arg(short, long)]
    quiet: bool,
    /// The N newest containers (any state), as `docker ps --last` (`-n` is the namespace here).
    #[arg(long = "last", value_name = "N")]
    last: Option<usize>,
    /// The newest container (any state), as `docker ps -l`.
    #[arg(short = 'l', long)]
    latest: bool,
    /// Display total file sizes, as `docker ps --size`: a SIZE column (`61.4kB (virtual
    /// 2.36MB)`: the rw layer, and it with every layer below it) and, in `--format json`,
    /// `Size` with the exact bytes as `SizeRw` and `SizeRootFs`. A `--format` template that
    /// reads `.Size` (or `{{json .}}`) turns it on, as docker's does, unless `--size=false`.
    /// Allocated bytes, as dockerd measures them: the rw layer's upper directory walked now,
    /// the layers below it as the snapshotter recorded them.
    #[arg(short = 's', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    size: Option<bool>,
    /// Keep only the containers that match (repeatable), as `docker ps --filter`: `id=ID` (a
    /// Docker container's as dockerd's: an ID prefix no other Docker container's ID has, and
    /// the whole ID or a Go regexp matching it; a containerd or CRI container's: the whole ID
    /// or a Go regexp matching it), `name=RE` (the name, with or without its `/`, or a Go
    /// regexp matching either, unanchored; one Go does not compile matches no other name),
    /// `label=KEY[=V]`,
    /// `label!=KEY[=V]`, `status=created|running|paused|restarting|exited|dead|unknown`,
    /// `exited=CODE`, `ancestor=IMAGE` (a Docker container whose image is IMAGE, as dockerd
    /// resolves it, or any image below it; a containerd or CRI container whose image is named
    /// so as given or shown, or whose image ID starts so), and ours:
    /// `source=docker|containerd|cri`, `namespace=NS`, `pod=NAME`. Values of one key: any may
    /// match; different keys: all must.
    #[arg(short = 'f', long = "filter", value_name = "FILTER")]
    filter: Vec<String>,
}

const PS_FILTERS: [&str; 10] = [
    "id",
    "name",
    "label",
    "label!",
    "status",
    "exited",
    "ancestor",
    "source",
    "namespace",
    "pod",
];

const STATES: [&str; 8] = [
    "created",
    "running",
    "paused",
    "restarting",
    "exited",
    "dead",
    "unknown",
    "notready",
];

/// `docker ps --filter`, checked once: regexps compiled, states and codes validated.
struct PsFilter {
    filters: super::listings::filter::Filters,
    ids: Vec<GoValue>,
    names: Vec<GoValue>,
    exited: Vec<i64>,
}

/// A value of `id=` or `name=` as dockerd's `filters.Match` takes it: a source equal to it
/// matches, or one its Go regexp matches (`None`: Go's `regexp` does not compile it, and
/// dockerd skips it).
struct GoValue {
    text: String,
    re: Option<regex::Regex>,
}

impl GoValue {
    fn new(key: &str, text: &str, patterns: &mut Patterns) -> GoValue {
        let re = patterns.compile(text);
        if re.is_none() && !patterns.over_limit() {
            // dockerd says nothing (the container list is just shorter): said here.
            warn(format!(
                "filter '{key}={}': not a regular expression Go compiles: it matches only a {} equal to it, as dockerd's filter",
                crate::text::escape(text.as_bytes()),
                if key == "id" { "container ID" } else { "name" },
            ));
        }
        GoValue {
            text: text.to_string(),
            re,
        }
    }
}

/// dockerd's `filters.Match` on `source`: true when no value is given.
fn go_match(values: &[GoValue], source: &str) -> bool {
    values.is_empty()
        || values
            .iter()
            .any(|v| v.text == source || v.re.as_ref().is_some_and(|r| r.is_match(source)))
}

/// dockerd's first cut for `id=` (`filterByNameIDMatches`): the Docker containers a value is
/// an ID prefix of, when of no other Docker container's ID (moby's `GetByPrefix`, 20.10's
/// `idIndex.Get`: an empty or ambiguous prefix names none). Only these can be listed, and
/// then only if [`go_match`] takes their ID too.
fn docker_ids_by_prefix<'a>(values: &[GoValue], docker_ids: &[&'a str]) -> std::collections::HashSet<&'a str> {
    let mut found = std::collections::HashSet::new();
    for v in values.iter().filter(|v| !v.text.is_empty()) {
        let mut with = docker_ids.iter().filter(|id| id.starts_with(v.text.as_str()));
        if let (Some(id), None) = (with.next(), with.next()) {
            found.insert(*id);
        }
    }
    found
}

impl PsFilter {
    fn parse(specs: &[String]) -> Result<PsFilter, Failure> {
        let filters = super::listings::filter::Filters::parse(specs, &PS_FILTERS, None)?;
        // One limit for every pattern of the command line, containerd's and dockerd's.
        let mut patterns = Patterns::dockerd().after(filters.patterns_charged);
        let mut regexes = |key: &str| -> Result<Vec<GoValue>, Failure> {
            let values: Vec<GoValue> = filters
                .values(key)
                .iter()
                .map(|v| GoValue::new(key, v, &mut patterns))
                .collect();
            if patterns.over_limit() {
                return Err(Failure::new(Outcome::Usage, super::listings::goregex::OVER_LIMIT));
            }
            Ok(values)
        };
        for v in filters.values("status") {
            if !STATES.contains(&v.as_str()) {
                return Err(Failure::new(
                    Outcome::Usage,
                    format!("invalid filter 'status={}'", crate::text::escape(v.as_bytes())),
                ));
            }
        }
        let exited = filters
            .values("exited")
            .iter()
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    Failure::new(
                        Outcome::Usage,
                        format!("invalid filter 'exited={}'", crate::text::escape(v.as_bytes())),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PsFilter {
            ids: regexes("id")?,
            names: regexes("name")?,
            exited,
            filters,
        })
    }

    /// The Docker containers `id=` may list ([`docker_ids_by_prefix`] over every Docker
    /// container of the node, as dockerd's replica holds them all); `None` without `id=`.
    fn docker_ids<'a>(&self, inv: &'a Inventory) -> Option<std::collections::HashSet<&'a str>> {
        if self.ids.is_empty() {
            return None;
        }
        let docker: Vec<&str> = inv
            .entries
            .iter()
            .filter(|e| e.source == Source::Docker)
            .map(|e| e.id.as_str())
            .collect();
        Some(docker_ids_by_prefix(&self.ids, &docker))
    }

    /// `e` passes every filter; `ancestry` and `docker_ids` are what [`PsFilter::ancestry`]
    /// and [`PsFilter::docker_ids`] worked out.
    fn matches(&self, e: &Entry, ancestry: &Ancestry, docker_ids: Option<&std::collections::HashSet<&str>>) -> bool {
        let any = |key: &str, f: &dyn Fn(&str) -> bool| {
            let values = self.filters.values(key);
            values.is_empty() || values.iter().any(|v| f(v))
        };
        // dockerd: `Match("name", Name) || Match("name", TrimPrefix(Name, "/"))`.
        let slash_name = format!("/{}", e.name);
        let named = go_match(&self.names, &slash_name) || go_match(&self.names, &e.name);
        let by_prefix = match (e.source, docker_ids) {
            (Source::Docker, Some(ids)) => ids.contains(e.id.as_str()),
            _ => true,
        };
        by_prefix
            && go_match(&self.ids, &e.id)
            && named
            && self.filters.labels_match(&e.labels)
            && any("status", &|v| v == e.state)
            && (self.exited.is_empty() || (e.state == "exited" && self.exited.iter().any(|c| Some(*c) == e.exit_code)))
            && match (e.source, ancestry) {
                (Source::Docker, Ancestry::Images(ids)) => ids.contains(&e.image_id),
                _ => any("ancestor", &|v| {
                    v == e.image_ref
                        || v == e.image
                        || (!e.image_id.is_empty()
                            && (e.image_id.starts_with(v)
                                || e.image_id.strip_prefix("sha256:").is_some_and(|h| h.starts_with(v))))
                }),
            }
            && any("source", &|v| v == e.source.as_str())
            && any("namespace", &|v| e.namespace.as_deref() == Some(v))
            && any("pod", &|v| e.cri.as_ref().is_some_and(|c| c.pod_name == v))
    }
}

/// What `ancestor=` keeps of Docker's containers.
enum Ancestry {
    /// Matched as given (no `ancestor=` filter, or no image store to resolve it in): the name
    /// given at create, IMAGE as shown, or an image ID prefix. containerd's and the CRI's
    /// containers are always matched so: dockerd's filter is not theirs.
    AsGiven,
    /// The image IDs dockerd's `foldFilter` collects: each value's image and all its
    /// descendants. A Docker container is kept when its image ID is one of them.
    Images(std::collections::HashSet<String>),
}

impl PsFilter {
    /// dockerd's `ancestor` filter worked out on the node's own image store: Docker's on a
    /// graph driver node (`image/<driver>/`), else the containerd image store (namespace
    /// moby). A value that names no image is skipped, as dockerd skips it (it logs a
    /// warning; said here); a loop in the parent links is damage.
    fn ancestry(&self, global: &Global, inv: &Inventory, outcome: &mut Outcome) -> Ancestry {
        let values = self.filters.values("ancestor");
        let docker: Vec<&Entry> = inv.entries.iter().filter(|e| e.source == Source::Docker).collect();
        if values.is_empty() || docker.is_empty() {
            return Ancestry::AsGiven;
        }
        let shown = |v: &str| crate::text::escape(v.as_bytes());
        let mut ids = std::collections::HashSet::new();
        let mut resolved = vec![false; values.len()];
        let mut loops = Vec::new();
        let mut drivers: Vec<String> = docker
            .iter()
            .filter_map(|e| e.docker.as_ref()?.config.get("Driver")?.as_str().map(str::to_string))
            .collect();
        drivers.sort();
        drivers.dedup();
        let graph_driver = |d: &String| {
            inv.docker_root.path().is_some_and(|root| {
                !d.is_empty()
                    && !d.contains(['/', '\0'])
                    && d != "."
                    && d != ".."
                    // A symlink too: the store then says it is not followed.
                    && std::fs::symlink_metadata(root.join("image").join(d))
                        .is_ok_and(|m| m.is_dir() || m.file_type().is_symlink())
            })
        };
        let stores: Vec<containers::graph_images::GraphImages> = match inv.docker_root.path() {
            Some(root) => drivers
                .iter()
                .filter(|d| graph_driver(d))
                .filter_map(|d| containers::graph_images::GraphImages::open_driver(root, "", d))
                .collect(),
            None => Vec::new(),
        };
        // A store not read at all (a symlink, said where the containers were gathered) is no
        // store to resolve against: the containers are then matched as given, said below.
        let readable: Vec<&containers::graph_images::GraphImages> = stores.iter().filter(|s| !s.unread).collect();
        if !readable.is_empty() {
            for db in readable {
                for (v, done) in values.iter().zip(resolved.iter_mut()) {
                    let Ok(image) = db.resolve(v) else {
                        continue;
                    };
                    let id = image.id();
                    *done = true;
                    for l in containers::ancestry::add_family(&mut ids, &id, &mut |p| db.children(p)) {
                        loops.push(format!(
                            "{}: names {}, an image below {} (a loop in the parent links: dockerd's ancestor filter recurses on it without end)",
                            crate::text::escape(db.parent_file(&l.child).as_os_str().as_encoded_bytes()),
                            shown(&l.parent),
                            shown(&l.child)
                        ));
                    }
                }
                // `repositories.json` is said by `gather` already, where IMAGE was worked out
                // from it.
                let problems = db.take_image_problems();
                for m in problems.damaged {
                    warn(crate::text::escape_hazards(&m));
                    *outcome = outcome.worst(Outcome::Damaged);
                }
                for m in problems.unreadable {
                    warn(crate::text::escape_hazards(&m));
                    *outcome = outcome.worst(Outcome::Unreadable);
                }
            }
        } else if stores.is_empty()
            && let Some(root) = &inv.root
            && let Ok(tx) = root.view(global.meta_choice())
        {
            let ns = &inv.dockerd_namespace;
            let ins = crate::inspect::Inspector::new(root, tx, ns, crate::inspect::Options::for_host(global.host()));
            for (v, done) in values.iter().zip(resolved.iter_mut()) {
                let id = match ins.get_image(v) {
                    Ok(id) => id,
                    Err(e) => {
                        warn(format!(
                            "ancestor={}: {}; skipped, as dockerd skips it",
                            shown(v),
                            crate::text::escape(e.0.as_bytes())
                        ));
                        *done = true;
                        continue;
                    }
                };
                *done = true;
                for l in containers::ancestry::add_family(&mut ids, &id, &mut |p| ins.image_children(p)) {
                    loops.push(format!(
                        "image records of namespace moby: one with target {} has label org.mobyproject.image.parent {}, an image below it (a loop in the parent links: dockerd's ancestor filter recurses on it without end)",
                        shown(&l.child),
                        shown(&l.parent)
                    ));
                }
            }
            if let Ok(d) = ins.damage.lock()
                && !d.is_empty()
            {
                for note in d.distinct() {
                    warn(crate::text::one_line(&note.message));
                }
                *outcome = outcome.worst(Outcome::Damaged);
            }
            if ins.meta_damage.load(std::sync::atomic::Ordering::Relaxed) {
                *outcome = outcome.worst(Outcome::Damaged);
            }
            if ins.meta_unreadable.load(std::sync::atomic::Ordering::Relaxed) {
                *outcome = outcome.worst(Outcome::Unreadable);
            }
        } else {
            warn(
                "ancestor: no image store of dockerd was read (neither image/<driver>/ in the Docker data root nor the containerd root's image records): Docker's containers are matched by the image name given at create, IMAGE or an image ID prefix, not by the images dockerd would resolve"
                    .to_string(),
            );
            return Ancestry::AsGiven;
        }
        for (v, done) in values.iter().zip(&resolved) {
            if !done {
                warn(format!(
                    "ancestor={}: No such image; skipped, as dockerd skips it",
                    shown(v)
                ));
            }
        }
        for m in &loops {
            warn(m.clone());
            *outcome = outcome.worst(Outcome::Damaged);
        }
        Ancestry::Images(ids)
    }
}

#[derive(Args)]
pub struct ContainerArgs {
    #[command(subcommand)]
    command: ContainerCommand,
}

#[derive(Subcommand)]
enum ContainerCommand {
    /// What `docker container inspect` printed for these containers (a JSON array), from disk.
    ///
    /// A Docker container is printed as dockerd 28 (API 1.51) prints it, from config.v2.json
    /// and hostconfig.json. What dockerd only knows while it runs, and what is printed there
    /// instead: State of a container running when the node stopped is what the disk says
    /// (Running true, the Pid of a process that is gone), as dockerd printed it live, where a
    /// restarted dockerd would mark it exited; State.Health is the stale saved one; ExecIDs is
    /// null; NetworkSettings is the last saved (a running container's SandboxKey names a
    /// namespace that is gone); GraphDriver.Data is null (right for the containerd
    /// snapshotters); SizeRw and SizeRootFs (--size) are measured now, as dockerd measures
    /// them: the rw layer's upper directory walked, the layers below as recorded. A containerd or CRI record is
    /// printed as `ctr containers info` of the release that wrote the store prints it (see
    /// --containerd), plus a CRI member (pod, kind, the CRI metadata and status file) for a
    /// Kubernetes one.
    Inspect {
        /// Container IDs, names or unique ID prefixes (a CRI container also as POD/NAME).
        #[arg(required = true)]
        containers: Vec<String>,
        /// Print the containerd record (as `ctr containers info`) even for a Docker container
        /// that has one (a container whose task was running); one without is not found.
        /// `--containerd=VERSION` (`1.6`, `1.7`, `2.1`; with the `=`) also names the ctr
        /// whose object to print: 1.6's has no `SandboxID` and a record without extensions
        /// has `"Extensions": null`; 1.7's and later have `SandboxID` and `{}`. Default: the
        /// store's, as `mounts` takes it (meta.db's schema 4: 2.x; schema 3: 1.6 when no
        /// container record has 1.7's `sandboxid` key, else 1.7).
        #[arg(long, value_name = "VERSION", require_equals = true, value_parser = super::layers::parse_release)]
        containerd: Option<Option<crate::overlay::mounts::Release>>,
        /// `json` (the array, compact), or a Go template run on each container's object as
        /// docker runs `-f`: `{{.State.Status}}`, `{{json .Mounts}}`, `{{.Config.Image}}`,
        /// `{{range .Mounts}}{{.Source}} {{end}}` (as docker: a key the object does not have
        /// fails the template, `map has no entry for key`, exit 1).
        #[arg(short, long)]
        format: Option<String>,
        /// Display total file sizes, as `docker container inspect --size`: SizeRw (the rw
        /// layer) and SizeRootFs (it and every layer below it), in bytes, after GraphDriver,
        /// as dockerd measures them (allocated bytes; see `ps --size`).
        #[arg(short, long)]
        size: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TimelineFormat {
    /// Aligned columns for people.
    Table,
    /// JSON Lines with Timesketch's fields (message, datetime, timestamp_desc) and ours.
    Jsonl,
}

#[derive(Args)]
pub struct TimelineArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: TimelineFormat,
}

fn sources<'a>(global: &'a Global, with_timeline: bool) -> Sources<'a> {
    Sources {
        containerd_root: &global.root,
        docker_root: global.docker_root.as_deref(),
        read_mode: global.read_mode(),
        meta_choice: global.meta_choice(),
        host: global.host(),
        with_timeline,
        salvage: global.salvaging().then(|| global.salvage_options()),
    }
}

/// Reads everything, says on stderr what went wrong, and gives the exit code so far.
pub(super) fn gather(global: &Global, with_timeline: bool) -> Result<(Inventory, Outcome), Failure> {
    if !global.reads_containerd() {
        // Said as `recover` says it: not "meta.db not found ... read any other bbolt file".
        return Err(Failure::new(
            Outcome::Usage,
            format!(
                "{}: containers are read from a node's containerd root and Docker data root; this is an image layout or archive, which has none",
                crate::text::escape(global.root.as_os_str().as_encoded_bytes())
            ),
        ));
    }
    let inv = containers::gather(&sources(global, with_timeline));
    let mut outcome = Outcome::Ok;
    let containerd_missing = inv.notes.iter().any(|n| n.starts_with("containerd root not read"));
    if containerd_missing && inv.docker_root.path().is_none() {
        // A Docker root refused for being a symlink, or one that cannot be read, is said too:
        // it may be why nothing is read.
        let said: Vec<String> = inv
            .notes
            .iter()
            .chain(&inv.damaged)
            .chain(&inv.unreadable)
            .cloned()
            .collect();
        // A meta.db that reads but is no bbolt tree is damage (3), as for every other
        // command; one that cannot be read at all, or a root with nothing, is 4.
        let outcome = if inv.containerd_damaged && inv.unreadable.is_empty() {
            Outcome::Damaged
        } else {
            // Something could not be read at all: the worse of the two.
            Outcome::Unreadable
        };
        return Err(Failure::new(outcome, said.join("; ")));
    }
    for note in &inv.notes {
        warn(note);
        if note.starts_with("containerd root not read") {
            outcome = outcome.worst(if inv.containerd_unreadable {
                Outcome::Unreadable
            } else {
                Outcome::Damaged
            });
        }
    }
    // One damaged page met by two readers (the container records, the timeline's) is said once.
    let mut said = std::collections::HashSet::new();
    for m in inv.damaged.iter().filter(|m| said.insert(m.as_str())) {
        warn(crate::text::escape_hazards(m));
        outcome = outcome.worst(Outcome::Damaged);
    }
    for m in inv.unreadable.iter().filter(|m| said.insert(m.as_str())) {
        warn(crate::text::escape_hazards(m));
        outcome = outcome.worst(Outcome::Unreadable);
    }
    Ok((inv, outcome))
}

/// Go's `strconv.Quote`: `"..."` with `"` and `\` escaped, control and non-printing
/// characters as `\n`, `\t`, `\x1b`, `\u200b` (the template engine's).
pub use crate::template::gofmt::quote_text as go_quote;

/// `docker ps`'s CreatedAt: Go's `time.Time.String()` to the second, in UTC.
fn created_at(rfc3339: &str) -> String {
    if crate::containerd::gotime::parse_rfc3339(rfc3339).is_none() {
        return rfc3339.to_string();
    }
    // 2026-11-29T18:52:01Z -> 2026-11-29 18:52:01 +0000 UTC
    let s = containers::short_time(rfc3339);
    format!("{} +0000 UTC", s.trim_end_matches('Z').replacen('T', " ", 1))
}

/// docker's `TruncateID`: what follows the algorithm, cut to 12.
fn truncate_id(id: &str) -> String {
    let hex = id.split_once(':').map_or(id, |(_, h)| h);
    hex.chars().take(12).collect()
}

/// docker's IMAGE when truncating: the short ID when it is the image ID, a reference without
/// its digest, else as it is.
fn truncated_image(e: &Entry) -> String {
    if e.image.is_empty() {
        return "<no image>".into();
    }
    if !e.image_id.is_empty() && truncate_id(&e.image_id) == truncate_id(&e.image) {
        return truncate_id(&e.image_id);
    }
    match crate::image::reference::parse_normalized_named(&e.image) {
        Ok(mut named) => {
            named.digest = None;
            named.familiar()
        }
        Err(_) => e.image.clone(),
    }
}

/// docker's SIZE cell (`ContainerContext.Size`): the rw layer, and `(virtual ...)` with the
/// layers below it when that is not 0, each as go-units `HumanSizeWithPrecision(n, 3)`.
pub fn size_text(s: &LayerSize) -> String {
    let rw = human_size_with_precision(s.rw, 3);
    if s.root_fs > 0 {
        format!("{rw} (virtual {})", human_size_with_precision(s.root_fs, 3))
    } else {
        rw
    }
}

/// What `ps` knows of a row's sizes.
#[derive(Clone, Copy)]
pub enum RowSize<'a> {
    /// Not asked for (no `--size`, no template reading `.Size`): docker/cli's `Size()` of a
    /// summary without sizes, `0B` (`docker ps --format json` prints `"Size":"0B"`).
    NotAsked,
    /// Measured: `Size`, and ours `SizeRw` and `SizeRootFs` with the exact bytes.
    Measured(&'a LayerSize),
    /// Asked for and not measured (said on stderr): left out, as no number stands for it.
    Unmeasured,
}

impl<'a> RowSize<'a> {
    /// Row `i`'s of `sizes`, which were measured when `sized`.
    fn of(sized: bool, size: Option<&'a LayerSize>) -> Self {
        match (sized, size) {
            (false, _) => RowSize::NotAsked,
            (true, Some(s)) => RowSize::Measured(s),
            (true, None) => RowSize::Unmeasured,
        }
    }
}

/// One `docker ps --format json` object (keys sorted, as docker's are), with ours added.
/// `trunc` (no `--no-trunc`) cuts ID, IMAGE, COMMAND and MOUNTS as docker's formatter does.
pub fn ps_json(e: &Entry, trunc: bool, size: RowSize<'_>) -> J {
    let mut m: BTreeMap<&str, J> = BTreeMap::new();
    let command = if trunc {
        super::ellipsis::ellipsis(&e.command, 20)
    } else {
        e.command.clone()
    };
    m.insert("Command", J::str(go_quote(&command)));
    m.insert("CreatedAt", J::str(created_at(&e.created)));
    m.insert("ID", J::str(if trunc { truncate_id(&e.id) } else { e.id.clone() }));
    m.insert(
        "Image",
        J::str(if trunc { truncated_image(e) } else { e.image.clone() }),
    );
    m.insert(
        "Labels",
        J::str(
            e.labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
        ),
    );
    m.insert("LocalVolumes", J::str(e.local_volumes.to_string()));
    let mounts: Vec<String> = e
        .mounts
        .iter()
        .map(|n| {
            if trunc {
                super::ellipsis::ellipsis(n, 15)
            } else {
                n.clone()
            }
        })
        .collect();
    m.insert("Mounts", J::str(mounts.join(",")));
    m.insert("Names", J::str(e.name.clone()));
    m.insert("Networks", J::str(e.networks.join(",")));
    if let Some(p) = &e.platform {
        m.insert("Platform", p.clone());
    }
    m.insert("Ports", J::str(e.ports.clone()));
    match size {
        RowSize::NotAsked => {
            m.insert("Size", J::str(size_text(&LayerSize { rw: 0, root_fs: 0 })));
        }
        RowSize::Measured(s) => {
            m.insert("Size", J::str(size_text(s)));
            m.insert("SizeRw", J::Int(s.rw));
            m.insert("SizeRootFs", J::Int(s.root_fs));
        }
        RowSize::Unmeasured => {}
    }
    m.insert("State", J::str(e.state.clone()));
    m.insert("Status", J::str(e.status.clone()));
    // Ours.
    m.insert("Source", J::str(e.source.as_str()));
    if let Some(ns) = &e.namespace {
        m.insert("Namespace", J::str(ns.clone()));
    }
    m.insert("Created", J::str(e.created.clone()));
    m.insert("ImageRef", J::str(e.image_ref.clone()));
    if !e.image_id.is_empty() {
        m.insert("ImageID", J::str(e.image_id.clone()));
    }
    let opt_str = |v: &Option<String>| v.clone().map_or(J::Null, J::Str);
    m.insert("StartedAt", opt_str(&e.started_at));
    m.insert("FinishedAt", opt_str(&e.finished_at));
    m.insert("ExitCode", e.exit_code.map_or(J::Null, J::Int));
    if let Some(o) = e.oom_killed {
        m.insert("OOMKilled", J::Bool(o));
    }
    if let Some(p) = e.pid {
        m.insert("Pid", J::Int(p));
    }
    if let Some(p) = &e.restart_policy {
        m.insert("RestartPolicy", J::str(p.clone()));
    }
    if let Some(c) = e.restart_count {
        m.insert("RestartCount", J::Int(c));
    }
    m.insert("TaskAtSeizure", J::Bool(e.task_bundle));
    m.insert("ContainerdRecord", J::Bool(e.record.is_some()));
    if let Some(c) = &e.cri {
        m.insert("CriKind", J::str(c.kind.clone()));
        m.insert("PodName", J::str(c.pod_name.clone()));
        m.insert("PodNamespace", J::str(c.pod_namespace.clone()));
        m.insert("PodUID", J::str(c.pod_uid.clone()));
    }
    J::Obj(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn is_up(e: &Entry) -> bool {
    matches!(e.state.as_str(), "running" | "paused" | "restarting")
}

/// Whether a `ps --format` template reads `.Size`, found as docker/cli finds it
/// (`buildContainerListOptions`): the template run once on an empty container, `json` of it
/// reading every field. Ours, `.SizeRw` and `.SizeRootFs`, count too (they would print
/// `<nil>` unmeasured). `json` and `table` are docker's format keys, not templates.
fn template_reads_size(format: &str) -> bool {
    if matches!(format, "" | "table" | "json") {
        return false;
    }
    let Ok(t) = crate::template::Template::parse(format) else {
        // Said when the template is used.
        return false;
    };
    let empty = containers::gotypes::container_context(&serde_json::json!({}));
    let used = t.fields_used(&empty);
    ["Size", "SizeRw", "SizeRootFs"].iter().any(|f| used.contains(*f))
}

/// The snapshot a container's sizes are measured from: namespace, snapshotter, key. A
/// Docker container's is its ID in dockerd's namespace (`moby`), of its `Driver` (dockerd's
/// `ctr.Driver`).
fn sized_snapshot(e: &Entry) -> Option<(&str, &str, &str)> {
    if let Some(d) = &e.docker {
        let driver = d
            .config
            .get("Driver")
            .and_then(J::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("overlayfs");
        return Some((e.namespace.as_deref().unwrap_or("moby"), driver, e.id.as_str()));
    }
    let r = e.record.as_ref()?;
    (!r.snapshot_key.is_empty()).then_some((r.namespace.as_str(), r.snapshotter.as_str(), r.snapshot_key.as_str()))
}

/// The sizes of `entries` as dockerd measures them ([`containers::size`]), `None` where one
/// could not be: each problem said once on stderr and counted in `outcome`.
fn measure_sizes(
    global: &Global,
    inv: &Inventory,
    entries: &[&Entry],
    outcome: &mut Outcome,
) -> Vec<Option<LayerSize>> {
    let none = vec![None; entries.len()];
    if entries.is_empty() {
        return none;
    }
    let Some(root) = &inv.root else {
        // Why the root was not read was said already.
        warn("sizes not measured: the containerd root was not read");
        return none;
    };
    let mut damage = crate::containerd::records::Damage::new();
    let sizer = match Sizer::load(root, global.meta_choice(), global.read_mode(), &mut damage) {
        Ok(s) => s,
        Err(e) => {
            warn(format!("sizes not measured: {}", crate::text::one_line(&e)));
            *outcome = outcome.worst(Outcome::Damaged);
            return none;
        }
    };
    for d in damage.distinct() {
        warn(crate::text::one_line(&d.message));
    }
    *outcome = outcome.worst(Outcome::of_damage(&damage));
    let mut said = foldhash::HashSet::default();
    entries
        .iter()
        .map(|e| {
            let (ns, snapshotter, key) = sized_snapshot(e)?;
            let m = sizer.measure(&e.id, ns, snapshotter, key);
            for p in m.problems {
                *outcome = outcome.worst(match p.kind {
                    ProblemKind::NotMeasured => Outcome::Ok,
                    ProblemKind::Damaged => Outcome::Damaged,
                    ProblemKind::Unreadable => Outcome::Unreadable,
                });
                if said.insert(p.message.clone()) {
                    warn(crate::text::one_line(&p.message));
                }
            }
            m.size
        })
        .collect()
}

/// Whether a container or event of `namespace` is in the one `-n` names (all are without it;
/// Docker's own containers are in `moby`, as dockerd's records in containerd are).
fn in_namespace(global: &Global, namespace: Option<&str>) -> bool {
    global.namespace.as_deref().is_none_or(|ns| namespace == Some(ns))
}

/// `-n NAME` checked against meta.db's namespaces and those of the containers found (`moby`
/// for a Docker root read alone): exit 1 and the listings' warning when none is NAME.
fn namespace_known(global: &Global, inv: &containers::Inventory) -> Outcome {
    if global.namespace.is_none() {
        return Outcome::Ok;
    }
    let mut names: Vec<String> = inv.entries.iter().filter_map(|e| e.namespace.clone()).collect();
    if let Some(tx) = inv.root.as_ref().and_then(|r| r.view(global.meta_choice()).ok()) {
        let mut damage = crate::damage::Damage::new();
        names.extend(
            crate::containerd::records::namespace_buckets(&tx, &mut damage)
                .into_iter()
                .map(|(n, _)| n),
        );
    }
    names.sort();
    names.dedup();
    super::context::namespace_not_found(global, names.iter().map(String::as_str))
}

/// A listing (`ps`, `timeline`) of Docker's containers says each name two of them carry, as
/// a lookup by that name does: both rows are listed, but dockerd would load only one (sweep
/// 32: listed silently, exit 0). Damage, exit 3.
fn say_names_shared(global: &Global, inv: &Inventory) -> Outcome {
    if !in_namespace(global, Some(&inv.dockerd_namespace)) {
        return Outcome::Ok;
    }
    let said = containers::names_shared(&inv.entries);
    for m in &said {
        warn(crate::text::escape_hazards(m));
    }
    if said.is_empty() { Outcome::Ok } else { Outcome::Damaged }
}

pub fn ps(global: &Global, args: PsArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let filter = PsFilter::parse(&args.filter)?;
    let (inv, mut outcome) = gather(global, false)?;
    outcome = outcome.worst(namespace_known(global, &inv));
    outcome = outcome.worst(say_names_shared(global, &inv));
    let ancestry = filter.ancestry(global, &inv, &mut outcome);
    let docker_ids = filter.docker_ids(&inv);
    // docker: -n and -l count over every container, newest first.
    let all = args.all || args.last.is_some() || args.latest;
    let limit = if args.latest { Some(1) } else { args.last };
    let rows: Vec<&Entry> = inv
        .entries
        .iter()
        .filter(|e| all || is_up(e))
        .filter(|e| in_namespace(global, e.namespace.as_deref()))
        .filter(|e| filter.matches(e, &ancestry, docker_ids.as_ref()))
        .take(limit.unwrap_or(usize::MAX))
        .collect();
    // docker/cli's `runPs`: a format given (even `table`) is used; none, or an empty one, is
    // the default table.
    let given = args.format.as_deref().filter(|f| !f.is_empty());
    let format = given.unwrap_or("table");
    if args.quiet {
        // docker/cli's `NewContainerFormat` with quiet: `{{.ID}}`, or for `raw`
        // `container_id: {{.ID}}`; any format given is otherwise ignored, with its warning.
        let prefix = match format {
            "raw" => "container_id: ",
            _ => "",
        };
        if given.is_some() {
            // docker/cli's own words, unprefixed, as it writes them.
            crate::say!("WARNING: Ignoring custom format, because both --format and --quiet are set.");
        }
        for e in rows {
            let id = if args.no_trunc {
                e.id.as_str()
            } else {
                e.id.get(..12).unwrap_or(&e.id)
            };
            writeln!(out, "{prefix}{}", crate::text::one_line(id))?;
        }
        return Ok(outcome);
    }
    // docker/cli: --size, else (unless --size=false) whether the template reads .Size.
    let sized = args.size.unwrap_or_else(|| template_reads_size(format));
    let sizes = if sized {
        measure_sizes(global, &inv, &rows, &mut outcome)
    } else {
        vec![None; rows.len()]
    };
    match format {
        "json" => {
            for (e, size) in rows.iter().zip(&sizes) {
                let size = RowSize::of(sized, size.as_ref());
                writeln!(out, "{}", ps_json(e, !args.no_trunc, size).to_compact(true))?;
            }
        }
        "table" | "" => {
            let mut header = vec![
                "CONTAINER ID",
                "IMAGE",
                "COMMAND",
                "CREATED",
                "STATUS",
                "PORTS",
                "NAMES",
                "SOURCE",
            ];
            if sized {
                header.push("SIZE");
            }
            // COMMAND is cut before it is quoted, as docker/cli's `ContainerContext.Command`
            // does (`"sh -c 'echo runnin…"`, quotes inside escaped): not a cell cut by the table.
            let mut t = Table::truncating(&header, !args.no_trunc).names(&["COMMAND"]);
            for (e, size) in rows.iter().zip(&sizes) {
                let source = match &e.namespace {
                    Some(ns) if e.source != Source::Docker => format!("{}:{ns}", e.source.as_str()),
                    _ => e.source.as_str().to_string(),
                };
                let mut row = vec![
                    e.id.clone(),
                    e.image.clone(),
                    go_quote(&if args.no_trunc {
                        e.command.clone()
                    } else {
                        super::ellipsis::ellipsis(&e.command, 20)
                    }),
                    containers::short_time(&e.created),
                    e.status.clone(),
                    e.ports.clone(),
                    e.name.clone(),
                    source,
                ];
                if sized {
                    row.push(size.as_ref().map_or_else(|| "-".to_string(), size_text));
                }
                t.row(&row);
            }
            t.write(out)?;
        }
        "raw" => {
            let format = if sized {
                format!("{PS_RAW_FORMAT}size: {{{{.Size}}}}\n")
            } else {
                PS_RAW_FORMAT.to_string()
            };
            return ps_template(&format, &rows, (sized, &sizes), !args.no_trunc, outcome, out);
        }
        template => return ps_template(template, &rows, (sized, &sizes), !args.no_trunc, outcome, out),
    }
    Ok(outcome)
}

/// docker/cli's `raw` format for containers (`NewContainerFormat`, `RawFormatKey`): one
/// `key: value` line a field, each container's block then ended by the formatter's newline;
/// `pad` leaves an empty state, status, labels or ports as the bare key. With sizes on, a
/// `size: {{.Size}}` line follows.
const PS_RAW_FORMAT: &str = "container_id: {{.ID}}
image: {{.Image}}
command: {{.Command}}
created_at: {{.CreatedAt}}
state: {{- pad .State 1 0}}
status: {{- pad .Status 1 0}}
names: {{.Names}}
labels: {{- pad .Labels 1 0}}
ports: {{- pad .Ports 1 0}}
";

/// The column names docker's container formatter gives a table's header row
/// (`NewContainerContext`).
const PS_HEADER: [(&str, &str); 15] = [
    ("ID", "CONTAINER ID"),
    ("Names", "NAMES"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("LocalVolumes", "LOCAL VOLUMES"),
    ("Networks", "NETWORKS"),
    ("Platform", "PLATFORM"),
];

/// `ps --format TEMPLATE` as docker/cli's formatter runs it: `table` taken off the front (a
/// header row then, and the columns aligned by Go's tabwriter), spaces trimmed, `\t` and `\n`
/// written as they read; the template on each row's `ContainerContext`. A row the template
/// fails on stops it with nothing printed, as docker's buffered output is never flushed then.
fn ps_template(
    format: &str,
    rows: &[&Entry],
    (sized, sizes): (bool, &[Option<LayerSize>]),
    trunc: bool,
    outcome: Outcome,
    out: &mut dyn Write,
) -> Result<Outcome, Failure> {
    let (table, body) = match format.strip_prefix("table") {
        Some(rest) => (true, rest),
        None => (false, format),
    };
    let body = body.trim_matches(' ').replace("\\t", "\t").replace("\\n", "\n");
    let t = crate::template::Template::parse(&body)
        .map_err(|e| Failure::new(Outcome::Usage, format!("template parsing error: {e}")))?;
    let mut text = String::new();
    for (i, e) in rows.iter().enumerate() {
        let size = RowSize::of(sized, sizes.get(i).and_then(Option::as_ref));
        let mut row: serde_json::Value =
            serde_json::from_str(&ps_json(e, trunc, size).to_compact(false)).unwrap_or_default();
        if let Some(m) = row.as_object_mut() {
            m.insert("RunningFor".into(), containers::short_time(&e.created).into());
            m.insert("c".into(), serde_json::json!(e.labels));
        }
        let value = containers::gotypes::container_context(&row);
        match t.render(&value, crate::template::MissingKey::Default) {
            Ok(s) => {
                text.push_str(&s);
                text.push('\n');
            }
            Err(e) => {
                // The error quotes the data (`range can't iterate over <value>`).
                crate::say!(
                    "{}",
                    crate::text::escape_hazards(&format!("template parsing error: {e}"))
                );
                return Ok(outcome.worst(Outcome::No));
            }
        }
    }
    // What the template wrote stays; escape sequences from the data do not.
    let text = crate::text::escape_hazards(&text);
    if table {
        let header = crate::text::escape_hazards(&t.sub_header_row(&PS_HEADER)).into_owned();
        out.write_all(super::tabwriter::columns(&format!("{header}\n{text}"), 10, 3).as_bytes())?;
    } else {
        out.write_all(text.as_bytes())?;
    }
    Ok(outcome)
}

pub fn container(global: &Global, args: ContainerArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let ContainerCommand::Inspect {
        containers: wanted,
        containerd,
        format,
        size,
    } = args.command;
    let template = match format.as_deref() {
        None | Some("") | Some("json") => None,
        Some(t) => match crate::template::Template::parse(t) {
            Ok(t) => Some(t),
            Err(e) => return Err(Failure::new(Outcome::Usage, format!("template parsing error: {e}"))),
        },
    };
    let (mut inv, mut outcome) = gather(global, false)?;
    // Whose ctr prints the records: --containerd=VERSION, else meta.db's schema version.
    let (containerd, release) = match containerd {
        None => (false, None),
        Some(r) => (true, r),
    };
    let release = release.unwrap_or_else(|| {
        let schema = inv
            .root
            .as_ref()
            .and_then(|root| root.view(global.meta_choice()).ok())
            .and_then(|tx| crate::containerd::records::schema_version(&tx).ok().flatten());
        let records = inv.entries.iter().filter_map(|e| e.record.as_ref());
        crate::overlay::mounts::Release::of_store(schema, crate::containerd::records::sandbox_keys(records))
    });
    // -n: the containers of that namespace alone (Docker's are in moby), as ps lists them.
    outcome = outcome.worst(namespace_known(global, &inv));
    inv.entries.retain(|e| in_namespace(global, e.namespace.as_deref()));
    let data_root = inv.docker_node_root.clone();
    // dockerd's `--size`: a Docker container's SizeRw and SizeRootFs, each measured once.
    let mut sizes: BTreeMap<String, LayerSize> = BTreeMap::new();
    if size && !containerd {
        let mut seen = foldhash::HashSet::default();
        let docker: Vec<&Entry> = wanted
            .iter()
            .filter_map(|a| containers::find(&inv.entries, a).ok())
            .filter(|e| e.docker.is_some() && seen.insert(e.id.clone()))
            .collect();
        let measured = measure_sizes(global, &inv, &docker, &mut outcome);
        for (e, m) in docker.iter().zip(measured) {
            if let Some(m) = m {
                sizes.insert(e.id.clone(), m);
            }
        }
    }
    // Each object escaped as the tool that prints it: the docker CLI leaves `<>&` alone,
    // ctr's json.MarshalIndent escapes them. A Docker container's body is what the docker CLI
    // types (`container.InspectResponse`); a containerd record's is ctr's, which no CLI runs
    // templates on.
    let mut found: Vec<Result<(String, bool), String>> = Vec::new();
    let mut name_shared = false;
    let mut spec_problems: Vec<String> = Vec::new();
    for arg in &wanted {
        let found_entry = containers::find(&inv.entries, arg).and_then(|e| {
            if containerd && e.record.is_none() {
                Err(Lookup::NotFound)
            } else {
                Ok(e)
            }
        });
        found.push(match found_entry {
            Ok(e) if containerd => Ok(match &e.record {
                Some(r) => {
                    let (object, problem) =
                        containers::record_inspect::inspect_with_problem(r, e.cri.as_ref(), release);
                    spec_problems.extend(problem);
                    (object.to_compact(true), false)
                }
                None => ("null".to_string(), false),
            }),
            Ok(e) => Ok(match (&e.docker, &e.record) {
                (Some(d), _) => (
                    containers::docker_inspect::inspect(d, &data_root, sizes.get(&e.id)).to_compact(false),
                    true,
                ),
                (None, Some(r)) => {
                    let (object, problem) =
                        containers::record_inspect::inspect_with_problem(r, e.cri.as_ref(), release);
                    spec_problems.extend(problem);
                    (object.to_compact(true), false)
                }
                (None, None) => ("null".to_string(), false),
            }),
            // What the daemon answers, as the docker CLI prints it (after the output).
            Err(Lookup::NotFound) => Err(format!(
                "Error response from daemon: No such container: {}",
                crate::containerd::records::given_shown(arg)
            )),
            Err(Lookup::Ambiguous) => Err(format!(
                "Error response from daemon: multiple IDs found with provided prefix: {}",
                crate::containerd::records::given_shown(arg)
            )),
            // Damage dockerd would not load, not an answer of the daemon's: said as coldctr's.
            Err(Lookup::NameShared(ids)) => {
                name_shared = true;
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                Err(format!(
                    "coldctr: {}",
                    containers::docker::name_shared(arg.strip_prefix('/').unwrap_or(arg), &ids)
                ))
            }
        });
    }
    // Said once each: not again where the listing already said it of the record.
    spec_problems.sort();
    spec_problems.dedup();
    for p in &spec_problems {
        if !inv.damaged.contains(p) {
            crate::say!("coldctr: {p}");
        }
        outcome = outcome.worst(Outcome::Damaged);
    }
    let mut errors = Vec::new();
    let bodies: Vec<&(String, bool)> = found
        .iter()
        .filter_map(|f| match f {
            Ok(body) => Some(body),
            Err(e) => {
                errors.push(e.clone());
                None
            }
        })
        .collect();
    match (&template, format.as_deref()) {
        (Some(t), _) => {
            // In reference order, errors among them, as the CLI's inspector meets them.
            errors.clear();
            let mut text = String::new();
            let mut fell_back = false;
            for f in &found {
                let shaped = match f {
                    Err(e) => Err(e.clone()),
                    Ok((body, docker)) => {
                        let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
                        let typed = docker.then(|| containers::gotypes::inspect_response(&json));
                        super::inspect::execute(t, &json, typed.as_ref()).in_order(&mut fell_back)
                    }
                };
                match shaped {
                    Ok(s) => text.push_str(&s),
                    Err(e) => errors.push(e),
                }
            }
            // docker/cli's `TemplateInspector.Flush`: one newline when no reference printed
            // (each that did ends in one), as `inspect -f` does for images.
            if text.is_empty() {
                text.push('\n');
            }
            out.write_all(text.as_bytes())?;
        }
        (None, Some("json")) => {
            let joined: Vec<&str> = bodies.iter().map(|(b, _)| b.as_str()).collect();
            writeln!(out, "[{}]", joined.join(","))?
        }
        (None, _) => {
            let joined: Vec<&str> = bodies.iter().map(|(b, _)| b.as_str()).collect();
            writeln!(out, "{}", indent(&format!("[{}]", joined.join(",")), "    "))?
        }
    }
    for e in &errors {
        crate::say!("{e}");
    }
    if name_shared {
        outcome = outcome.worst(Outcome::Damaged);
    }
    if !errors.is_empty() {
        outcome = outcome.worst(Outcome::No);
        // A store that could not be read may hold them (unreadable is never missing): said
        // with the failure, exit 4 already.
        if let Some(p) = &inv.docker_unlisted {
            super::warn(format!(
                "{} not found among the containers read: the Docker store {} could not be read (said above), and may hold {}",
                if errors.len() == 1 {
                    "a container was"
                } else {
                    "containers were"
                },
                crate::text::escape(p.as_os_str().as_encoded_bytes()),
                if errors.len() == 1 { "it" } else { "them" },
            ));
        }
    }
    Ok(outcome)
}

pub fn timeline(global: &Global, args: TimelineArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let (inv, mut outcome) = gather(global, true)?;
    let meta_db = crate::containerd::root::root_of(&global.root)
        .join("io.containerd.metadata.v1.bolt/meta.db")
        .display()
        .to_string();
    outcome = outcome.worst(namespace_known(global, &inv));
    outcome = outcome.worst(say_names_shared(global, &inv));
    let (mut events, unplaced) = containers::timeline::events(&inv, &meta_db);
    events.retain(|e| in_namespace(global, e.namespace.as_deref()));
    for u in &unplaced {
        super::warn(crate::text::one_line(&u.why));
    }
    if unplaced.iter().any(|u| u.damage) {
        outcome = outcome.worst(Outcome::Damaged);
    }
    match args.format {
        TimelineFormat::Jsonl => {
            for e in &events {
                let line = serde_json::to_string(e).map_err(|e| Failure::new(Outcome::Unreadable, e.to_string()))?;
                writeln!(out, "{line}")?;
            }
        }
        TimelineFormat::Table => {
            // IDs and namespaces are record names (image names, digests, snapshotter/key),
            // escaped once already (`key_name`), or Docker's hex IDs.
            let mut t =
                Table::new(&["TIME", "WHAT", "ARTIFACT", "ID", "NAME", "NAMESPACE"]).names(&["ID", "NAMESPACE"]);
            for e in &events {
                t.row(&[
                    e.datetime.clone(),
                    e.timestamp_desc.clone(),
                    e.artifact.clone(),
                    e.id.clone(),
                    e.name.clone().unwrap_or_default(),
                    e.namespace.clone().unwrap_or_default(),
                ]);
            }
            t.write(out)?;
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("sh -c 'echo \"x\" > /a'"), r#""sh -c 'echo \"x\" > /a'""#);
        assert_eq!(go_quote("a\nb\x1b\u{202e}é"), r#""a\nb\x1b\u202eé""#);
        // The code points the template engine uses for stray bytes are text here.
        assert_eq!(go_quote("\u{10ffff}"), r#""\U0010ffff""#);
        assert_eq!(
            created_at("2026-11-29T18:52:01.128495737Z"),
            "2026-11-29 18:52:01 +0000 UTC"
        );
    }

    #[test]
    fn a_template_reading_size_turns_it_on_as_docker_cli_finds_out() {
        for (format, reads) in [
            ("{{json .}}", true),
            ("{{. | json}}", true),
            ("table {{.Names}}\t{{.Size}}", true),
            ("{{printf \"%s\" .Size}}", true),
            ("{{.ID}} {{.Names}}", false),
            ("{{.SizeRw}}", true),
            ("{{json .Labels}}", false),
            // Run on an empty container, as docker/cli runs it: a branch not taken reads nothing.
            ("{{if .Names}}{{.Size}}{{end}}", false),
            ("{{if not .Names}}{{.Size}}{{end}}", true),
            // What is read before an error counts; docker's format keys are not templates.
            ("{{.Size}}{{.Nope}}", true),
            ("{{.Nope}}{{.Size}}", false),
            ("json", false),
            ("table", false),
            ("{{.Size", false),
        ] {
            assert_eq!(template_reads_size(format), reads, "{format}");
        }
    }

    fn values(key: &str, texts: &[&str]) -> Vec<GoValue> {
        let mut patterns = Patterns::dockerd();
        texts.iter().map(|t| GoValue::new(key, t, &mut patterns)).collect()
    }

    /// moby's `filters.Match` (20.10 and 28): a value equal to the source, or a Go regexp
    /// matching it, unanchored; one Go does not compile is skipped, not an error.
    #[test]
    fn name_and_id_values_match_as_dockerd_does() {
        let m = |texts: &[&str], source: &str| go_match(&values("name", texts), source);
        assert!(m(&[], "/anything"));
        assert!(m(&["web"], "/my-web-1"));
        assert!(m(&["^web$"], "web"));
        assert!(!m(&["^web$"], "/web"));
        // Go's syntax and meaning, not the crate's: ASCII `\w`, `\Q..\E`, `(?ii)`, a flag group
        // before a repetition; nested counts past 1000 copies are refused; `(?<n>..)` is
        // taken, as dockerd 28's Go (1.22 and later) takes it (Go 1.19's refused it).
        assert!(!m(&["^\\w+$"], "é"));
        assert!(m(&["\\Qa.b\\E"], "/xa.b"));
        assert!(!m(&["\\Qa.b\\E"], "/xaxb"));
        assert!(m(&["(?ii)WEB"], "/web"));
        assert!(m(&["^/web(?i)*$"], "/we"));
        assert!(!m(&["(?:b{2}){600}|web"], "/web"));
        assert!(m(&["(?<n>web)"], "/web"));
        assert!(!m(&["(?<>web)", "(?<n-1>web)"], "/web"));
        // Refused by Go: only an equal source matches (moby's ExactMatch comes first).
        assert!(!m(&["web("], "/web"));
        assert!(m(&["web("], "web("));
        assert!(m(&["web(", "^/w"], "/web"));
        // An equal source matches though the value, as a regexp, does not.
        assert!(m(&["a+b"], "a+b"));
    }

    /// dockerd's `filterByNameIDMatches` (moby 28's `GetByPrefix`, 20.10's truncindex): each
    /// `id=` value names the one container whose ID starts with it, or none.
    #[test]
    fn id_values_name_docker_containers_by_unique_prefix() {
        let ids = ["abc123", "abd456", "fff000", "ff0111"];
        let by = |texts: &[&str]| {
            let mut got: Vec<&str> = docker_ids_by_prefix(&values("id", texts), &ids).into_iter().collect();
            got.sort();
            got
        };
        assert_eq!(by(&["abc"]), ["abc123"]);
        // Ambiguous, empty, a regexp or a piece from the middle: no container.
        assert!(by(&["ab"]).is_empty());
        assert!(by(&[""]).is_empty());
        assert!(by(&["^abc"]).is_empty());
        assert!(by(&[".*"]).is_empty());
        assert!(by(&["123"]).is_empty());
        assert_eq!(by(&["ab", "fff", "abd456", "zz"]), ["abd456", "fff000"]);
        assert_eq!(by(&["abc123"]), ["abc123"]);
        assert!(by(&["abc1234"]).is_empty());
    }

    #[test]
    fn size_cells_as_docker_prints_them() {
        // dockerd's SizeRw/SizeRootFs and the docker CLI's cells for them, from the dev node
        // (`containers/*/inspect-size.json`, `ps-a-size.jsonl`).
        for (rw, root_fs, want) in [
            (61440, 2_355_200, "61.4kB (virtual 2.36MB)"),
            (12288, 2_142_208, "12.3kB (virtual 2.14MB)"),
            (8192, 2_301_952, "8.19kB (virtual 2.3MB)"),
            (24576, 6_680_576, "24.6kB (virtual 6.68MB)"),
            (4_378_624, 6_672_384, "4.38MB (virtual 6.67MB)"),
            (4096, 143_360, "4.1kB (virtual 143kB)"),
            (12288, 2_154_496, "12.3kB (virtual 2.15MB)"),
            // No layers at all: the rw size alone.
            (0, 0, "0B"),
        ] {
            assert_eq!(size_text(&LayerSize { rw, root_fs }), want);
        }
    }
}
