//! `coldctr recover [--format table|json]`: every record carved from meta.db's pages,
//! reachable or not, with the page it came from and whether the current tree still has it.
//! Exit 0, or 3 when the file is damaged (what was carved is still printed).

use super::context::Global;
use super::listings::table::{Table, human_size, size_header, utc_seconds};
use super::{Failure, Outcome, warn};
use crate::bolt::{BoltError, Db};
use crate::recover::{Carved, Recovered, recover, recover_raw_of};
use clap::{Args, ValueEnum};
use std::io::Write;

#[derive(Args)]
pub struct RecoverArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Print digests and long cells whole.
    #[arg(long)]
    no_trunc: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Aligned columns for people.
    Table,
    /// JSON, for programs.
    Json,
}

pub fn run(global: &Global, args: RecoverArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    super::context::no_salvage(global, "recover")?;
    super::context::containerd_only(global, "recover")?;
    super::context::no_namespace(
        global,
        "recover",
        "carves every record of every namespace from the pages",
    )?;
    let r = if global.root.is_file() {
        // A bare file is read as meta.db itself, whatever its name or place.
        carve_file(global, &global.root)?
    } else {
        match global.open_live() {
            Ok(root) => recover(&root.meta),
            Err(f) => {
                // Carved only when it is a file of the root's own: a symlink is refused here as
                // `open_live` refused it (it may lead out of the root).
                let path = global.root.join("io.containerd.metadata.v1.bolt/meta.db");
                if crate::paths::detour(&global.root, &path).is_some()
                    || !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
                {
                    return Err(f);
                }
                carve_file(global, &path)?
            }
        }
    };
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &r).map_err(|e| Failure::from(std::io::Error::from(e)))?;
            writeln!(out)?;
        }
        Format::Table => table(&r.records, !args.no_trunc, out)?,
    }
    for note in r.damage.distinct() {
        warn(crate::text::one_line(&note.message));
    }
    Ok(if r.damage.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Damaged
    })
}

/// Carves the bbolt file at `path`; when neither meta page is valid, with the page size its
/// pages show ([`crate::recover::guess_layout`]) and nothing to compare with (every record
/// `live: null`), the missing metas as damage.
fn carve_file(global: &Global, path: &std::path::Path) -> Result<Recovered, Failure> {
    match Db::open(path, global.read_mode()) {
        Ok(db) => Ok(recover(&db)),
        Err(e @ BoltError::NoValidMeta { .. }) => {
            // Every page is looked at: mapped, not read into memory (unless --no-mmap).
            let whole = crate::bolt::Source::open_whole(path, global.read_mode())
                .map_err(|e| Failure::new(Outcome::Unreadable, format!("{}: {e}", path.display())))?;
            let data = crate::bolt::DataExtents::of(path);
            let (page_size, endian) = crate::recover::guess_layout(whole.bytes(), &data);
            // No meta page says the layout: which one the carving took is said (sweep 36.13),
            // so that an examiner can tell a guess steered by forged headers.
            let order = match endian {
                crate::bytes::Endian::Little => "little-endian",
                crate::bytes::Endian::Big => "big-endian",
            };
            warn(format!(
                "{}: no valid meta page gives the page size: carved as {page_size}-byte {order} pages, the layout most of its sampled page headers show",
                crate::text::escape(path.as_os_str().as_encoded_bytes())
            ));
            let mut r = recover_raw_of(whole.bytes(), page_size, endian, &data);
            r.damage.push(e);
            let shown = path.display().to_string();
            r.damage
                .extend(crate::recover::misnumbered_notes(&r, &shown, page_size));
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// A few fields that tell records of a kind apart.
fn detail(c: &Carved) -> String {
    let f = |k: &str| c.fields.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_string();
    match c.kind {
        "image" => format!(
            "target={}",
            c.fields
                .get("target")
                .and_then(|t| t.get("digest"))
                .and_then(|d| d.as_str())
                .unwrap_or("-")
        ),
        "container" => format!("image={}", f("image")),
        "snapshot" => format!("parent={}", f("parent")),
        "ingest" => format!("ref={}", f("backend_ref")),
        "lease" => c
            .fields
            .get("labels")
            .and_then(|l| l.as_object())
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn table(records: &[Carved], truncate: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let mut t = Table::truncating(
        &[
            "KIND",
            "NAMESPACE",
            "NAME",
            "LIVE",
            "PAGE",
            "PREVIOUS",
            "CREATED",
            size_header("SIZE"),
            "DETAIL",
        ],
        truncate,
    )
    .limit("DETAIL", 60)
    .names(&["NAMESPACE", "NAME"]);
    for c in records {
        let size = c
            .fields
            .get("size")
            .or_else(|| c.fields.get("target").and_then(|t| t.get("size")))
            .and_then(|v| v.as_i64())
            .map(human_size)
            .unwrap_or_default();
        let created = c
            .fields
            .get("createdAt")
            .and_then(|v| v.as_str())
            .map(utc_seconds)
            .unwrap_or_default();
        t.row(&[
            c.kind.to_string(),
            c.namespace.clone().unwrap_or_else(|| "?".into()),
            c.name.clone().unwrap_or_else(|| "?".into()),
            if c.live == Some(true) {
                "yes".to_string()
            } else if c.live.is_none() {
                // The current tree does not read: nothing says it was deleted.
                "?".to_string()
            } else if c.live_elsewhere.is_empty() {
                "no".to_string()
            } else {
                // Namespace unknown, but the current tree has this kind and name there.
                format!("no(live:{})", c.live_elsewhere.join(","))
            },
            format!("{}{}", c.page, if c.inline { " (inline)" } else { "" }),
            if c.previous_reaches { "reaches" } else { "-" }.to_string(),
            created,
            size,
            detail(c),
        ]);
    }
    t.write(out)?;
    let deleted = records.iter().filter(|c| c.live == Some(false)).count();
    let unknown = records.iter().filter(|c| c.live.is_none()).count();
    writeln!(
        out,
        "{} records carved, {} not live (deleted, or an old copy whose parent pages did not survive: ? = unknown){}",
        records.len(),
        deleted,
        if unknown > 0 {
            format!(", {unknown} whose liveness is unknown (LIVE ?: the current tree does not read)")
        } else {
            String::new()
        }
    )
}
