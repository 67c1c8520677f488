//! `coldctr verify [--layers] [--format table|json]`: re-hash every recorded blob, validate
//! the documents images reach, audit the bbolt files (see `crate::verify`).
//!
//! Exit: 0 when clean (orphans alone are not a problem), 1 when a problem or finding was
//! reported, 3 when meta.db could not be read in full (the report is partial), 4 when the
//! root cannot be opened.

use super::context::Global;
use super::listings::table::{Table, human_size, size_header};
use super::{Failure, Outcome, warn};
use crate::verify::file::{MapPolicy, Progress};
use crate::verify::{self, Options, VerifyError, VerifyReport};
use clap::{Args, ValueEnum};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables and a summary for people.
    Table,
    /// One JSON object: problems, orphans, findings, checked.
    Json,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Also decompress every layer and check it against the config's diff_ids.
    #[arg(long)]
    pub layers: bool,
    /// Hash large blobs through a read-only map even on a writable mount (about 15% faster on
    /// SHA-NI CPUs). For a store nothing writes to: a blob cut short while it is mapped reads
    /// as zeros past its end and is reported unreadable. Blobs on a read-only mount are always
    /// mapped (a block the disk cannot give reads the same way); `--no-mmap` never maps.
    #[arg(long)]
    pub mmap: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn run(global: &Global, args: VerifyArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let root = global.open_root()?;
    let progress = Progress::default();
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let show = std::io::stderr().is_terminal();
    let result = std::thread::scope(|s| {
        let line = show
            .then(|| {
                crate::pipeline::try_spawn_scoped(s, || super::progress::draw("verify", &progress, &done, started))
            })
            .flatten();
        let opts = Options {
            namespace: global.namespace.clone(),
            layers: args.layers,
            choice: global.meta_choice(),
            read_mode: global.read_mode(),
            progress: Some(&progress),
            map: match (args.mmap, global.no_mmap) {
                (_, true) => MapPolicy::Never,
                (true, false) => MapPolicy::Always,
                (false, false) => MapPolicy::ReadOnlyMounts,
            },
        };
        // The hashing's pool: one worker a core, or this thread alone.
        let r = crate::pipeline::install(crate::pipeline::pool(usize::MAX).as_ref(), || {
            verify::verify(&root, &opts)
        });
        done.store(true, Ordering::Relaxed);
        if let Some(l) = &line {
            l.thread().unpark();
        }
        r
    });
    let mut report = match result {
        Ok(r) => r,
        Err(VerifyError::NoNamespace { name, available }) => {
            return Err(Failure::new(
                Outcome::No,
                format!("namespace {name} not found (namespaces: {available})"),
            ));
        }
        Err(VerifyError::Bolt(e)) => return Err(Failure::from(e)),
    };
    if let Some(info) = &root.source {
        for p in info
            .problems
            .iter()
            .filter(|p| p.severity == crate::source::Severity::Error)
        {
            report.findings.push(crate::verify::Finding {
                file: p.at.clone(),
                page: None,
                message: format!("{}: {}", p.kind, p.message),
            });
        }
        report.source = Some(crate::verify::SourceChecked {
            kind: info.kind.as_str(),
            path: info.path.display().to_string(),
            problems: info.problems.clone(),
        });
    }
    let elapsed = started.elapsed();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report).map_err(|e| Failure::from(std::io::Error::from(e)))?;
            writeln!(out)?;
        }
        Format::Table => table(
            &report,
            elapsed,
            super::context::records_outcome(&root) != Outcome::Ok,
            out,
        )?,
    }
    if report.damaged {
        // Named on stderr as every other command names damage met in meta.db.
        for f in report.findings.iter().filter(|f| f.message.starts_with("damaged: ")) {
            warn(crate::text::one_line(&f.message));
        }
        let records = match &root.source {
            Some(info) => format!("the image records from {} are", info.kind.records_file()),
            None => "meta.db is".into(),
        };
        warn(format!(
            "{records} damaged: the report is partial where the findings say"
        ));
    }
    // Damage found is the answer, and the exit code says so as every other command does (3);
    // a blob file or a store that cannot be read at all is unreadable input (4).
    use crate::verify::Status;
    let unreadable = report.refused || report.problems.iter().any(|p| p.status == Status::Unreadable);
    let damaged =
        report.damaged || !report.findings.is_empty() || report.problems.iter().any(|p| p.status != Status::Unreadable);
    if !report.problems.is_empty() || !report.findings.is_empty() {
        // The exit code's "stderr says where" holds for verify too: the report is on stdout,
        // and a script that keeps only stderr learns how much it holds.
        warn(format_args!(
            "{} blob problem(s) and {} other finding(s): listed in the report",
            report.problems.len(),
            report.findings.len()
        ));
    }
    let found = match (damaged, unreadable) {
        (_, true) => Outcome::Unreadable,
        (true, false) => Outcome::Damaged,
        (false, false) => Outcome::Ok,
    };
    Ok(found.worst(super::context::content_outcome(&root)))
}

/// An aligned table with every cell escaped (an empty one printed as `-`).
fn aligned(out: &mut dyn Write, header: &[&'static str], rows: Vec<Vec<String>>) -> std::io::Result<()> {
    let mut t = Table::new(header);
    for r in &rows {
        t.row(r);
    }
    t.write(out)
}

/// Sizes as `ctr` prints them (go-units, decimal).
fn size(n: u64) -> String {
    human_size(i64::try_from(n).unwrap_or(i64::MAX))
}

fn value(v: &Option<serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The report as a table; `records_damaged`: the records read (the salvage view, a
/// layout's index) are themselves damaged, so a clean report covers only what they reached.
fn table(r: &VerifyReport, elapsed: Duration, records_damaged: bool, out: &mut dyn Write) -> std::io::Result<()> {
    if !r.problems.is_empty() {
        let rows: Vec<Vec<String>> = r
            .problems
            .iter()
            .map(|p| {
                let detail = match (&p.expected, &p.found, &p.detail) {
                    (_, _, Some(d)) => d.clone(),
                    (Some(_), _, None) => format!("expected {}, found {}", value(&p.expected), value(&p.found)),
                    _ => String::new(),
                };
                vec![
                    p.status.as_str().to_string(),
                    p.digest.clone(),
                    // Under `SIZE(kB=1000B)`, as every table's sizes (the exact bytes are in
                    // DETAIL and the JSON).
                    human_size(p.size),
                    p.namespaces.join(","),
                    detail,
                ]
            })
            .collect();
        aligned(
            out,
            &["STATUS", "DIGEST", size_header("SIZE"), "NAMESPACES", "DETAIL"],
            rows,
        )?;
        writeln!(out)?;
    }
    if !r.findings.is_empty() {
        let rows: Vec<Vec<String>> = r
            .findings
            .iter()
            .map(|f| {
                vec![
                    f.file.clone(),
                    f.page.map(|p| p.to_string()).unwrap_or_default(),
                    f.message.clone(),
                ]
            })
            .collect();
        aligned(out, &["FILE", "PAGE", "FINDING"], rows)?;
        writeln!(out)?;
    }
    if !r.orphans.is_empty() {
        writeln!(
            out,
            "Blob files that no namespace records (not problems; the next GC may remove them):"
        )?;
        let rows: Vec<Vec<String>> = r
            .orphans
            .iter()
            .map(|o| vec![o.path.clone(), format!("{:?}", o.kind).to_lowercase(), size(o.size)])
            .collect();
        aligned(out, &["ORPHAN", "KIND", size_header("SIZE")], rows)?;
        writeln!(out)?;
    }
    let c = &r.checked;
    let rows: Vec<Vec<String>> = c
        .namespaces
        .iter()
        .map(|n| {
            vec![
                n.namespace.clone(),
                n.records.to_string(),
                size(n.bytes),
                n.problems.to_string(),
            ]
        })
        .collect();
    aligned(out, &["NAMESPACE", "RECORDS", size_header("BYTES"), "PROBLEMS"], rows)?;
    // The report says what was checked, the same on every run; how long it took goes to
    // stderr, on a terminal, with the progress line (sweep 28.7: stdout differed run to run).
    let secs = elapsed.as_secs_f64();
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        crate::say!(
            "coldctr: verify: {} hashed in {secs:.2}s, {}/s",
            size(c.bytes),
            size((c.bytes as f64 / secs.max(0.001)) as u64)
        );
    }
    writeln!(
        out,
        "\nchecked {} records: {} blob files ({} hashed), {} documents{}, {} bbolt files",
        c.records,
        c.blobs,
        size(c.bytes),
        c.documents,
        if c.layers + c.layers_skipped > 0 {
            format!(", {} layers decompressed ({} skipped)", c.layers, c.layers_skipped)
        } else {
            String::new()
        },
        c.databases
    )?;
    if r.is_clean() && records_damaged {
        // Sweep 43: `--salvage verify` on a file whose content records lost their namespace
        // said "OK: every blob is intact" having checked no document.
        writeln!(
            out,
            "OK for what was checked: every blob the records reached is intact, but the records are damaged (stderr says where): what they did not reach was not checked"
        )?;
    } else if r.is_clean() {
        writeln!(out, "OK: every blob is intact")?;
    } else {
        writeln!(
            out,
            "NOT OK: {} problem blobs, {} findings",
            r.problems.len(),
            r.findings.len()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_ctrs_and_saturate() {
        // go-units HumanSize, as `ctr` prints sizes (tested in full in listings::table).
        assert_eq!(size(999), "999B");
        assert_eq!(size(1000), "1kB");
        assert_eq!(size(u64::MAX), human_size(i64::MAX));
    }
}
