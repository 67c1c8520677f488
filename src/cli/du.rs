//! `coldctr du`: where the disk goes, per namespace, per image and for the whole disk, with
//! what `gc` would free, every figure printed beside its definition.

use super::context::Global;
use super::gc::{Format, legend, load_marked, now, parse_at, parse_go, parse_model};
use super::listings::table::{Table, human_size, size_header};
use super::{Failure, Outcome};
use crate::containerd::gotime::GoParse;
use crate::du::{Amount, DEFINITIONS, Held, UsageReport, compute};
use crate::gc::{Clock, Model, sweep_marked};
use clap::Args;
use std::io::Write;

#[derive(Args)]
pub struct DuArgs {
    /// Also measure active snapshots and stray snapshot directories from disk (allocated
    /// blocks over unique inodes, symlinks not followed); committed snapshots use the size
    /// recorded at commit.
    #[arg(long)]
    pub scan: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The clock for lease and ingest expiry (what gc would free); default: now.
    #[arg(long, value_parser = parse_at)]
    pub at: Option<i128>,
    /// Whose collector decides what is held (see `coldctr gc --help`).
    #[arg(long, value_parser = parse_model)]
    pub model: Option<Model>,
    /// The Go containerd was built with, for how it reads lease expiry labels (see `coldctr
    /// gc --help`). Default: 1.23.
    #[arg(long = "go", value_name = "VERSION", value_parser = parse_go)]
    pub go: Option<GoParse>,
    /// Print every figure's full definition in the table's legend (JSON always carries them).
    #[arg(long)]
    pub explain: bool,
}

/// The table's legend by default, by column; `--explain` prints [`DEFINITIONS`].
const SHORT_LEGEND: [(&str, &str); 5] = [
    (
        "RECORDS, BYTES",
        "content records of the namespace and their recorded sizes",
    ),
    (
        "IMAGES, LEASES, OTHER, NOTHING",
        "the same records by their strongest holder (they add up); NOTHING is what gc frees",
    ),
    ("MISSING", "recorded digests with no blob file"),
    (
        "SNAPSHOTS, SNAP-*",
        "snapshot records and their recorded disk usage (SNAP-UNHELD: held by nothing)",
    ),
    (
        "TOTAL, SHARED, UNIQUE",
        "what an image reaches; SHARED: another image reaches it too; UNIQUE: freed if only this image were deleted",
    ),
];

pub fn run(global: &Global, args: DuArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let clock = Clock {
        now: args.at.unwrap_or_else(now),
        go: args.go.unwrap_or(GoParse::Go123),
    };
    let (mut store, marked, outcome) = load_marked(global, args.model, clock)?;
    let outcome = outcome.worst(super::context::namespace_not_found(
        global,
        store.namespaces.iter().map(|n| n.name.as_str()),
    ));
    let collection = sweep_marked(&store, marked);
    let blobs = std::mem::replace(&mut store.blobs, crate::gc::state::BlobTree::Missing);
    let mut report = compute(&store, blobs, &collection, args.scan);
    if let Some(ns) = &global.namespace {
        report.namespaces.retain(|n| &n.namespace == ns);
        report.images.retain(|n| &n.namespace == ns);
    }
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report).map_err(|e| Failure::from(std::io::Error::from(e)))?;
            writeln!(out)?;
        }
        Format::Table => table(&report, args.scan, args.explain, out)?,
    }
    for why in &report.unknown {
        super::warn(why);
    }
    for why in &report.scan_damage {
        super::warn(crate::text::one_line(why));
    }
    let outcome = if report.scan_damage.is_empty() {
        outcome
    } else {
        outcome.worst(Outcome::Damaged)
    };
    // A recorded blob that is not there as recorded is damage the figures above leave out.
    let d = &report.disk;
    let broken = d.missing_digests.len() + d.not_regular.len() + d.size_mismatch.len();
    if broken > 0 {
        super::warn(format_args!(
            "{broken} recorded blob(s) missing, not regular files, or not their recorded size (listed under missing files)"
        ));
        return Ok(outcome.worst(Outcome::Damaged));
    }
    Ok(outcome)
}

fn size(n: u64) -> String {
    human_size(i64::try_from(n).unwrap_or(i64::MAX))
}

fn amount(a: &Amount) -> String {
    format!("{} ({})", a.count, size(a.bytes))
}

fn held_lines(out: &mut dyn Write, indent: &str, h: &Held) -> std::io::Result<()> {
    writeln!(out, "{indent}held by images   {}", amount(&h.images))?;
    writeln!(out, "{indent}held by leases   {}", amount(&h.leases))?;
    writeln!(out, "{indent}held by other    {}", amount(&h.other))?;
    writeln!(
        out,
        "{indent}held by nothing  {}   (gc frees these)",
        amount(&h.nothing)
    )
}

fn table(r: &UsageReport, scan: bool, explain: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let d = &r.disk;
    writeln!(
        out,
        "Disk (blob files are shared between namespaces; clock {}, {})",
        r.clock, r.model
    )?;
    writeln!(
        out,
        "  blob files       {}, {} allocated",
        amount(&d.blob_files),
        size(d.blob_file_allocated)
    )?;
    held_lines(out, "    ", &d.held)?;
    writeln!(out, "  orphan files     {}", amount(&d.orphan_files))?;
    match &d.blob_files_not_listed {
        Some(why) => writeln!(
            out,
            "  missing files    not known: the blob files were not listed ({})",
            crate::text::escape(why.as_bytes())
        )?,
        None => writeln!(out, "  missing files    {}", amount(&d.missing_files))?,
    }
    for n in &d.missing_digests {
        writeln!(out, "    {}", crate::text::escape(n.as_bytes()))?;
    }
    for n in &d.not_regular {
        writeln!(
            out,
            "    {} is not a regular file (not followed)",
            crate::text::escape(n.as_bytes())
        )?;
    }
    if !d.size_mismatch.is_empty() {
        writeln!(
            out,
            "  size mismatch    {} (the file's length is not the recorded size)",
            d.size_mismatch.len()
        )?;
    }
    for m in &d.size_mismatch {
        writeln!(out, "    {}: recorded {} B, file {} B", m.digest, m.recorded, m.file)?;
    }
    writeln!(
        out,
        "  ingest dirs      {} ({} name no record)",
        amount(&d.ingest_dirs),
        d.orphan_ingest_dirs.count
    )?;
    let s = &d.snapshots;
    writeln!(
        out,
        "  snapshots        committed {}, active {}{}, unreferenced {} (no record names them: `gc` lists what it removes), stray dirs {}",
        amount(&s.committed),
        if scan {
            amount(&s.active)
        } else {
            s.active.count.to_string()
        },
        if scan { "" } else { " (--scan measures them)" },
        if scan || s.unreferenced.count == 0 {
            amount(&s.unreferenced)
        } else {
            // Active ones are not measured without --scan: the bytes are the committed ones'.
            format!("{} ({} committed)", s.unreferenced.count, size(s.unreferenced.bytes))
        },
        if scan {
            amount(&s.orphan_dirs)
        } else {
            s.orphan_dirs.count.to_string()
        }
    )?;
    writeln!(out)?;
    let mut t = Table::new(&[
        "NAMESPACE",
        "RECORDS",
        size_header("BYTES"),
        "IMAGES",
        "LEASES",
        "OTHER",
        "NOTHING",
        "MISSING",
        "INGESTS",
        "SNAPSHOTS",
        "SNAP-BYTES",
        "SNAP-UNHELD",
    ]);
    for n in &r.namespaces {
        let sh = &n.snapshots.held;
        let snap_bytes = [sh.images.bytes, sh.leases.bytes, sh.other.bytes, sh.nothing.bytes]
            .into_iter()
            .fold(0u64, u64::saturating_add);
        t.row(&[
            n.namespace.clone(),
            n.content.count.to_string(),
            size(n.content.bytes),
            size(n.held.images.bytes),
            size(n.held.leases.bytes),
            size(n.held.other.bytes),
            size(n.held.nothing.bytes),
            n.missing_files.len().to_string(),
            format!("{}({})", n.ingests.len(), size(n.ingest_bytes)),
            n.snapshots.records.to_string(),
            size(snap_bytes),
            size(sh.nothing.bytes),
        ]);
    }
    t.write(out)?;
    if !r.images.is_empty() {
        writeln!(out)?;
        let mut t = Table::new(&[
            "NAMESPACE",
            "IMAGE",
            "TOTAL",
            "SHARED",
            "UNIQUE",
            "SNAP-TOTAL",
            "SNAP-SHARED",
            "SNAP-UNIQUE",
        ]);
        for i in &r.images {
            let name = match i.names.as_slice() {
                [] => String::new(),
                [one] => one.clone(),
                [first, rest @ ..] => format!("{first} (+{} names)", rest.len()),
            };
            t.row(&[
                i.namespace.clone(),
                name,
                size(i.content.total.bytes),
                size(i.content.shared.bytes),
                size(i.content.unique.bytes),
                size(i.snapshots.total.bytes),
                size(i.snapshots.shared.bytes),
                size(i.snapshots.unique.bytes),
            ]);
        }
        t.write(out)?;
    }
    legend(out, "du", explain, &SHORT_LEGEND, &DEFINITIONS)
}
