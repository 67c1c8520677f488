//! `coldctr gc`: a dry run of containerd's garbage collector. Nothing is deleted, nothing is
//! locked: the answer is what the collector would remove if the daemon started now (or at
//! `--at`), computed from disk.

use super::context::{Global, content_outcome, namespace_not_found};
use super::listings::table::{Table, human_size, size_header};
use super::{Failure, Outcome, warn};
use crate::containerd::gotime::{GoParse, parse_rfc3339};
use crate::gc::report::{DEFINITIONS, GcReport};
use crate::gc::{Clock, Marked, Model, Store, default_model, mark_forgetting_labels, sweep_marked};
use clap::Args;
use std::io::Write;

/// How `gc` and `du` print.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people, with every definition in a legend.
    Table,
    /// One JSON object, its definitions included.
    Json,
}

#[derive(Args)]
pub struct GcArgs {
    /// Evaluate expiries (lease containerd.io/gc.expire, ingest expireat) as of this instant
    /// (RFC 3339, e.g. the moment the node was seized); default: now.
    #[arg(long, value_parser = parse_at)]
    pub at: Option<i128>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Whose collector: 1.6 or 1.7 (meta.db version 3), 2.0 or 2.1 (version 4), 2.2 (back
    /// references). Default: from meta.db's version.
    #[arg(long, value_parser = parse_model)]
    pub model: Option<Model>,
    /// The Go containerd was built with (`go version /usr/bin/containerd` prints it), for how
    /// it reads a containerd.io/gc.expire label: until 1.22 Go took zone offsets out of range
    /// (`+25:00`), until 1.19 signed ones (`++1:00`). Default: 1.23 (today's releases).
    #[arg(long = "go", value_name = "VERSION", value_parser = parse_go)]
    pub go: Option<GoParse>,
    /// Print every figure's full definition in the table's legend (JSON always carries them).
    #[arg(long)]
    pub explain: bool,
}

/// The table's legend by default: one line per row kind; `--explain` prints [`DEFINITIONS`].
const SHORT_LEGEND: [(&str, &str); 5] = [
    (
        "content, snapshot, image, ingest",
        "meta.db records the metadata sweep deletes: reachable from no root",
    ),
    ("lease", "expired: its containerd.io/gc.expire is before the clock"),
    (
        "blob file, ingest dir, backend snapshot, snapshot dir",
        "files and records the backend sweeps delete, only for stores that lost a record",
    ),
    (
        "pending",
        "left by this collection for the first later one that sweeps that store",
    ),
    ("orphan blob files", "blob files no namespace records"),
];

/// Writes the legend: short, or with `explain` every definition of the JSON output.
pub fn legend(
    out: &mut dyn Write,
    command: &str,
    explain: bool,
    short: &[(&str, &str)],
    long: &[(&str, &str)],
) -> std::io::Result<()> {
    if explain {
        writeln!(out, "\nLegend:")?;
        for (k, v) in long {
            writeln!(out, "  {k}: {v}")?;
        }
    } else {
        writeln!(
            out,
            "\nLegend (`coldctr {command} --explain` for the full definitions):"
        )?;
        for (k, v) in short {
            writeln!(out, "  {k}: {v}")?;
        }
    }
    Ok(())
}

/// `--at`: Go's RFC 3339, as nanoseconds since the epoch.
pub fn parse_at(s: &str) -> Result<i128, String> {
    parse_rfc3339(s)
        .map(|t| t.unix_nanos())
        .ok_or_else(|| format!("{s:?} is not an RFC 3339 time (e.g. 2026-12-01T00:00:00Z)"))
}

pub fn parse_go(s: &str) -> Result<GoParse, String> {
    GoParse::of_version(s).ok_or_else(|| format!("not a Go version: {s:?} (e.g. 1.19, go1.23.4)"))
}

pub fn parse_model(s: &str) -> Result<Model, String> {
    match s {
        "1.6" | "1.7" | "1" => Ok(Model::V1),
        "2.0" | "2.1" | "2" => Ok(Model::V2),
        "2.2" | "2.3" => Ok(Model::V22),
        _ => Err(format!("unknown containerd version {s:?}: 1.6, 1.7, 2.0, 2.1 or 2.2")),
    }
}

/// Now, in nanoseconds since the epoch.
pub fn now() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
        .unwrap_or(0)
}

/// Opens the root, reads everything the collector reads and marks the graph, as `model` says
/// or as the meta.db's version does (the mark runs while the blob files are listed: see
/// `Store::load_with`); damage is printed on stderr.
pub fn load_marked(global: &Global, model: Option<Model>, clock: Clock) -> Result<(Store, Marked, Outcome), Failure> {
    let root = global.open_root()?;
    let (mut store, marked) = Store::load_with(&root, global.meta_choice(), global.read_mode(), |store| {
        let model = model.unwrap_or_else(|| default_model(store));
        mark_forgetting_labels(store, model, clock)
    })?;
    // A content reference that is no digest (a resweep of sweep 30: gc listed the live blob a
    // damaged label held for removal, exit 0).
    for note in marked.references_that_are_no_digest(&store) {
        store.damage.push(note);
    }
    for d in store.damage.distinct() {
        warn(crate::text::one_line(&d.message));
    }
    // Damage hides records, and what they held then looks unreferenced (sweep 30.10: live
    // snapshots and a blob listed as removed): said once, plainly, beside the damage.
    if store.damage.has_damage() {
        warn(
            "records that did not read protect nothing in this answer: what they held may be listed as removed (or as held by nothing); do not act on it before the damage is understood",
        );
    }
    let outcome = Outcome::of_damage(&store.damage);
    Ok((store, marked, outcome.worst(content_outcome(&root))))
}

pub fn run(global: &Global, args: GcArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let (at, source) = match args.at {
        Some(at) => (at, "--at"),
        None => (now(), "now"),
    };
    let (store, marked, outcome) = load_marked(
        global,
        args.model,
        Clock {
            now: at,
            go: args.go.unwrap_or(GoParse::Go123),
        },
    )?;
    let outcome = outcome.worst(namespace_not_found(
        global,
        store.namespaces.iter().map(|n| n.name.as_str()),
    ));
    let collection = sweep_marked(&store, marked);
    let mut report = GcReport::build(&store, &collection, source);
    if let Some(ns) = &global.namespace {
        report.content.retain(|c| &c.namespace == ns);
        report.leases.retain(|c| &c.namespace == ns);
        report.snapshots.retain(|c| &c.namespace == ns);
        report.ingests.retain(|c| &c.namespace == ns);
        report.images.retain(|c| &c.namespace == ns);
        report.namespaces.retain(|c| &c.namespace == ns);
    }
    if let Some(f) = &report.failure {
        warn(crate::text::escape(f.as_bytes()));
    }
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report).map_err(|e| Failure::from(std::io::Error::from(e)))?;
            writeln!(out)?;
        }
        Format::Table => table(&report, args.explain, out)?,
    }
    Ok(outcome)
}

/// How other Go releases read an expiry, where they differ: "; Go 1.22 and older read it as
/// 2019-12-31T23:00:00Z (expired)".
fn other_go(other: &[crate::gc::report::OtherGoItem]) -> String {
    other
        .iter()
        .map(|o| match (&o.reads, o.expired) {
            (None, _) => format!("; {} refuse it: never expires", o.go),
            (Some(t), true) => format!("; {} read it as {t} (expired)", o.go),
            (Some(t), false) => format!("; {} read it as {t}", o.go),
        })
        .collect()
}

fn bytes(n: u64) -> String {
    human_size(i64::try_from(n).unwrap_or(i64::MAX))
}

fn table(r: &GcReport, explain: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let clock = &r.clock;
    let mut validity = String::new();
    match (&clock.same_from, &clock.same_until) {
        (None, None) => {}
        (from, until) => {
            validity = format!(
                "; same result for any clock in ({}, {}]",
                from.as_deref().unwrap_or("-inf"),
                until.as_deref().unwrap_or("+inf")
            )
        }
    }
    writeln!(
        out,
        "Dry run of the {} garbage collector, clock {} ({}){validity}",
        r.model, clock.at, clock.source
    )?;
    if let Some(f) = &r.failure {
        writeln!(
            out,
            "The collection would FAIL and remove nothing: {}",
            crate::text::escape(f.as_bytes())
        )?;
    }
    writeln!(out)?;
    let mut t =
        Table::new(&["REMOVED", "NAMESPACE/STORE", "ID", size_header("SIZE")]).names(&["NAMESPACE/STORE", "ID"]);
    for c in &r.content {
        t.row(&["content", &c.namespace, &c.digest, &human_size(c.size)]);
    }
    for l in &r.leases {
        let why = l.expire.as_deref().map(|e| format!("expired {e}")).unwrap_or_default();
        t.row(&["lease", &l.namespace, &l.id, &why]);
    }
    for i in &r.images {
        t.row(&["image", &i.namespace, &i.name, ""]);
    }
    for s in &r.snapshots {
        t.row(&["snapshot", &s.namespace, &format!("{}/{}", s.snapshotter, s.key), ""]);
    }
    for i in &r.ingests {
        t.row(&["ingest", &i.namespace, &i.reference, &bytes(i.partial_bytes)]);
    }
    for f in &r.blob_files {
        t.row(&["blob file", "content", &f.digest, &bytes(f.size)]);
    }
    for d in &r.ingest_dirs {
        t.row(&["ingest dir", "content", &d.dir, &bytes(d.bytes)]);
    }
    for b in &r.backend_snapshots {
        t.row(&[
            "backend snapshot",
            &b.snapshotter,
            &b.key,
            &b.size.map(human_size).unwrap_or_default(),
        ]);
    }
    for d in &r.snapshot_dirs {
        t.row(&[
            "snapshot dir",
            &d.snapshotter,
            &format!("snapshots/{}", d.id),
            &bytes(d.bytes),
        ]);
    }
    let nothing = r.content.is_empty()
        && r.leases.is_empty()
        && r.images.is_empty()
        && r.snapshots.is_empty()
        && r.ingests.is_empty()
        && r.blob_files.is_empty()
        && r.ingest_dirs.is_empty()
        && r.backend_snapshots.is_empty()
        && r.snapshot_dirs.is_empty();
    if nothing {
        writeln!(out, "Nothing would be removed.")?;
    } else {
        t.write(out)?;
    }
    let f = &r.freed;
    writeln!(
        out,
        "\nFreed: {} content records ({}), {} blob files ({} allocated), {} snapshot dirs ({}), {} ingest dirs ({}); disk {}",
        f.content_records,
        human_size(f.content_record_bytes),
        f.blob_files,
        bytes(f.blob_file_allocated),
        f.snapshot_dirs,
        bytes(f.snapshot_dir_bytes),
        f.ingest_dirs,
        bytes(f.ingest_dir_bytes),
        bytes(f.disk_bytes)
    )?;
    writeln!(out, "\nBackend sweeps:")?;
    writeln!(
        out,
        "  content: {} ({})",
        if r.sweeps.content.runs { "runs" } else { "does not run" },
        r.sweeps.content.why
    )?;
    for s in &r.sweeps.snapshotters {
        writeln!(
            out,
            "  {}: {} ({})",
            crate::text::escape(s.name.as_bytes()),
            if s.runs { "runs" } else { "does not run" },
            s.why
        )?;
    }
    let p = &r.pending;
    if !(p.blob_files.is_empty()
        && p.ingest_dirs.is_empty()
        && p.backend_snapshots.is_empty()
        && p.snapshot_dirs.is_empty())
    {
        writeln!(
            out,
            "\nPending (left by this collection, deleted by the first later one that sweeps their store):"
        )?;
        let mut t = Table::new(&["PENDING", "STORE", "ID", size_header("SIZE")]).names(&["STORE", "ID"]);
        for f in &p.blob_files {
            t.row(&["blob file", "content", &f.digest, &bytes(f.size)]);
        }
        for d in &p.ingest_dirs {
            t.row(&["ingest dir", "content", &d.dir, &bytes(d.bytes)]);
        }
        for b in &p.backend_snapshots {
            t.row(&[
                "backend snapshot",
                &b.snapshotter,
                &b.key,
                &b.size.map(human_size).unwrap_or_default(),
            ]);
        }
        for d in &p.snapshot_dirs {
            t.row(&[
                "snapshot dir",
                &d.snapshotter,
                &format!("snapshots/{}", d.id),
                &bytes(d.bytes),
            ]);
        }
        t.write(out)?;
    }
    let orphan_bytes: u64 = r.orphan_blob_files.iter().map(|o| o.size).fold(0, u64::saturating_add);
    writeln!(
        out,
        "\nOrphan blob files (no namespace records them): {} ({})",
        r.orphan_blob_files.len(),
        bytes(orphan_bytes)
    )?;
    for o in &r.orphan_blob_files {
        let kind = if o.kind == crate::containerd::blobs::FileKind::Regular {
            String::new()
        } else {
            format!(" [{:?}, not followed]", o.kind).to_lowercase()
        };
        writeln!(out, "  {} {}{kind}", o.digest, bytes(o.size))?;
    }
    if !r.clock.depends_on.is_empty() {
        writeln!(out, "\nClock-dependent:")?;
        for c in &r.clock.depends_on {
            writeln!(
                out,
                "  {} {}/{}: expires {}{}{}",
                c.kind,
                crate::text::escape(c.namespace.as_bytes()),
                crate::text::escape(c.id.as_bytes()),
                crate::text::escape(c.expire.as_bytes()),
                match (c.parsable, c.expired) {
                    (false, _) if !c.other_go.is_empty() => format!(" ({} refuse it: never expires)", r.clock.go),
                    (false, _) => " (not RFC 3339: ignored, never expires)".into(),
                    (true, true) => " (expired)".into(),
                    (true, false) => String::new(),
                },
                other_go(&c.other_go)
            )?;
        }
    }
    for n in &r.notes {
        writeln!(out, "note: {}", crate::text::one_line(n))?;
    }
    legend(out, "gc", explain, &SHORT_LEGEND, &DEFINITIONS)
}
