//! The output options every listing shares: `--format`, `-q/--quiet`, `--no-trunc` and
//! `--filter`, and writing the rows in the chosen form.

use super::filter::Filters;
use super::table::Table;
use crate::cli::Failure;
use clap::Args;
use serde::Serialize;
use std::io::Write;

/// How a listing prints its rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// One JSON array, in containerd's list order.
    Json,
    /// One JSON object per line: the elements of `json`'s array.
    Jsonl,
}

fn parse_format(s: &str) -> Result<Format, String> {
    match s {
        "table" => Ok(Format::Table),
        "json" => Ok(Format::Json),
        "jsonl" => Ok(Format::Jsonl),
        other => Err(format!("unknown format {other:?} (table, json or jsonl)")),
    }
}

#[derive(Args)]
pub struct ListArgs {
    /// `table`; `json` (one array); `jsonl` (one object per line, the array's elements).
    #[arg(long, default_value = "table", value_parser = parse_format)]
    pub format: Format,
    /// Print only what identifies each row, one a line, in full: names of images and
    /// namespaces, digests of content, IDs of leases and containers, keys of snapshots.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print digests and IDs whole, and cells in full (tables shorten `sha256:` digests and
    /// 64-hex IDs to 12 hex digits, as docker does, and cut long LABELS cells with `…`).
    #[arg(long)]
    pub no_trunc: bool,
    /// Keep only the rows that match (repeatable): docker's `label=KEY[=VALUE]`,
    /// `label!=KEY[=VALUE]` (plus, for images, `reference=PATTERN`, `dangling=true|false`,
    /// `before=REF`, `since=REF`), or containerd's `FIELD==V`, `FIELD!=V`, `FIELD~=REGEX`,
    /// `FIELD` (`labels."k"==v`, `name~=^docker`; joined by `,`: all must hold).
    #[arg(short, long = "filter", value_name = "FILTER")]
    pub filter: Vec<String>,
}

impl ListArgs {
    /// The filters, with `accepted` the docker keys of this listing; a usage error otherwise.
    pub fn filters(&self, accepted: &[&str]) -> Result<Filters, Failure> {
        Filters::parse(&self.filter, accepted)
    }
}

/// Keeps the rows whose JSON passes the containerd selectors and `keep` (the docker filters).
pub fn filtered<R: Serialize>(
    rows: Vec<R>,
    filters: &Filters,
    aliases: &[(&str, &str)],
    mut keep: impl FnMut(&R, &serde_json::Value) -> bool,
) -> Vec<R> {
    if filters.is_empty() {
        return rows;
    }
    rows.into_iter()
        .filter(|r| {
            let v = serde_json::to_value(r).unwrap_or(serde_json::Value::Null);
            filters.ctr_matches(&v, aliases) && keep(r, &v)
        })
        .collect()
}

/// Writes `rows` as `args` asks: the identifying column (`id`) with `-q`, else JSON, JSON
/// lines, or the table `table` builds (truncating unless `--no-trunc`).
pub fn emit<R: Serialize>(
    out: &mut dyn Write,
    args: &ListArgs,
    rows: &[R],
    id: impl Fn(&R) -> String,
    table: impl FnOnce(&[R], bool) -> Table,
) -> Result<(), Failure> {
    if args.quiet {
        for r in rows {
            writeln!(out, "{}", crate::text::escape(id(r).as_bytes()))?;
        }
        return Ok(());
    }
    match &args.format {
        Format::Json => super::write_json(out, &rows),
        Format::Jsonl => {
            for r in rows {
                serde_json::to_writer(&mut *out, r).map_err(|e| Failure::from(std::io::Error::from(e)))?;
                writeln!(out)?;
            }
            Ok(())
        }
        Format::Table => Ok(table(rows, !args.no_trunc).write(out)?),
    }
}
