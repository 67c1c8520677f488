//! The output options every listing shares: `--format`, `-q/--quiet`, `--no-trunc` and
//! `--filter`, and writing the rows in the chosen form.

use super::filter::Filters;
use super::table::Table;
use crate::cli::{Failure, Outcome};
use crate::template::Template;
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
    /// A Go template (docker's `--format '{{...}}'`) run on each row's JSON object, one output
    /// line per row. The text was parsed when the option was read.
    Template(String),
}

fn parse_format(s: &str) -> Result<Format, String> {
    match s {
        "table" => Ok(Format::Table),
        "json" => Ok(Format::Json),
        "jsonl" => Ok(Format::Jsonl),
        t if t.contains("{{") => match Template::parse(t) {
            Ok(_) => Ok(Format::Template(t.to_string())),
            Err(e) => Err(format!("template parsing error: {e}")),
        },
        other => Err(format!(
            "unknown format {other:?} (table, json, jsonl, or a Go template such as '{{{{.name}}}}')"
        )),
    }
}

#[derive(Args)]
pub struct ListArgs {
    /// `table`; `json` (one array); `jsonl` (one object per line, the array's elements); or
    /// a Go template run on each row's JSON object, one line per row: `'{{json .}}'` (the
    /// fields are those of `json`).
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
    /// `before=REF`, `since=REF`), or containerd's `FIELD==V`, `FIELD!=V`, `FIELD~=REGEX` (Go's
    /// regexp), `FIELD` (present) on the fields containerd's adaptors know (`name`,
    /// `labels."k"==v`, `name~=^docker`, `target.digest`; joined by `,`: all must hold).
    #[arg(short, long = "filter", value_name = "FILTER")]
    pub filter: Vec<String>,
}

/// `--format`'s help for one listing, with `examples` (templates on the fields of its JSON
/// rows): the shared help named fields some listings' rows do not have, which print
/// `<no value>` on every row.
pub fn format_help(arg: clap::Arg, examples: &str) -> clap::Arg {
    arg.help(format!(
        "`table`; `json` (one array); `jsonl` (one object per line, the array's elements); or a Go template run on each row's JSON object, one line per row: {examples}, `'{{{{json .}}}}'` (the fields are those of `json`)"
    ))
}

impl ListArgs {
    /// The filters, with `accepted` the docker keys of this listing; a usage error otherwise.
    pub fn filters(&self, accepted: &[&str], kind: super::filter::Kind) -> Result<Filters, Failure> {
        Filters::parse(&self.filter, accepted, Some(kind))
    }
}

/// Keeps the rows whose JSON passes the containerd selectors and `keep` (the docker filters).
pub fn filtered<R: Serialize>(
    rows: Vec<R>,
    filters: &Filters,
    mut keep: impl FnMut(&R, &serde_json::Value) -> bool,
) -> Vec<R> {
    if filters.is_empty() {
        return rows;
    }
    rows.into_iter()
        .filter(|r| {
            let v = serde_json::to_value(r).unwrap_or(serde_json::Value::Null);
            filters.ctr_matches(&v) && keep(r, &v)
        })
        .collect()
}

/// Writes rows given a batch at a time as [`emit`] writes them all at once: JSON, JSON lines,
/// or `-q`'s identifying column.
#[derive(Default)]
pub struct RowWriter {
    written: usize,
    /// The workers that serialize, made once for all batches.
    pool: Option<rayon::ThreadPool>,
}

impl RowWriter {
    pub fn rows<R: Serialize + Sync>(
        &mut self,
        out: &mut dyn Write,
        args: &ListArgs,
        rows: &[R],
        id: impl Fn(&R) -> String,
    ) -> Result<(), Failure> {
        self.rows_as(
            out,
            args,
            rows,
            id,
            |r, pretty| if pretty { element(r) } else { line(r) },
        )
    }

    /// [`RowWriter::rows`] with each row's JSON made by `json`: a pretty element of the
    /// top-level array when asked for `pretty`, else a line (what [`element`] and [`line`]
    /// make of a row's `Serialize`).
    pub fn rows_as<R: Sync>(
        &mut self,
        out: &mut dyn Write,
        args: &ListArgs,
        rows: &[R],
        id: impl Fn(&R) -> String,
        json: impl Fn(&R, bool) -> Result<Vec<u8>, serde_json::Error> + Sync,
    ) -> Result<(), Failure> {
        if args.quiet {
            for r in rows {
                writeln!(out, "{}", crate::text::one_line(&id(r)))?;
            }
        } else if args.format == Format::Jsonl {
            let line = |r: &R| json(r, false);
            serialized(pool_for(&mut self.pool, rows.len()), rows, line, |bytes| {
                out.write_all(&bytes)
            })?;
        } else {
            let pool = pool_for(&mut self.pool, rows.len());
            let written = &mut self.written;
            let element = |r: &R| json(r, true);
            serialized(pool, rows, element, |bytes| {
                out.write_all(if *written == 0 { b"[\n" } else { b",\n" })?;
                *written += 1;
                out.write_all(&bytes)
            })?;
        }
        Ok(())
    }

    /// Closes the JSON array (`[]` when no row was written).
    pub fn finish(self, out: &mut dyn Write, args: &ListArgs) -> Result<(), Failure> {
        if !args.quiet && args.format == Format::Json {
            out.write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        Ok(())
    }
}

/// The writer's pool, made when a batch first has enough rows to be worth it.
fn pool_for(pool: &mut Option<rayon::ThreadPool>, rows: usize) -> Option<&rayon::ThreadPool> {
    if pool.is_none() && rows > SERIALIZE_BATCH / 4 {
        *pool = crate::pipeline::pool(3);
    }
    pool.as_ref()
}

/// Rows serialized this many at a time on the workers, then written in order.
const SERIALIZE_BATCH: usize = 256;

/// Serializes `rows` with `shape` on the pool's workers (at most three), a batch at a time, and hands `write` the
/// bytes in row order (a listing of 10,000 images is 38 MB of pretty JSON).
fn serialized<R: Sync>(
    pool: Option<&rayon::ThreadPool>,
    rows: &[R],
    shape: impl Fn(&R) -> Result<Vec<u8>, serde_json::Error> + Sync,
    mut write: impl FnMut(Vec<u8>) -> std::io::Result<()>,
) -> Result<(), Failure> {
    use rayon::prelude::*;
    let json = |e: serde_json::Error| Failure::from(std::io::Error::from(e));
    for chunk in rows.chunks(SERIALIZE_BATCH) {
        let shaped = || chunk.par_iter().map(&shape).collect::<Vec<_>>();
        let done = match pool {
            Some(p) => p.install(shaped),
            None => chunk.iter().map(&shape).collect(),
        };
        for bytes in done {
            write(bytes.map_err(json)?)?;
        }
    }
    Ok(())
}

/// A row as one line of JSON lines.
pub(super) fn line<R: Serialize>(r: &R) -> Result<Vec<u8>, serde_json::Error> {
    let mut v = serde_json::to_vec(r)?;
    v.push(b'\n');
    Ok(v)
}

/// A row as an element of the pretty array `serde_json::to_writer_pretty` prints: one level
/// in. It is serialized as that array with the row alone in it, then cut out of it (the
/// array's `[\n` and `\n]`), so no second pass re-indents it.
pub(super) fn element<R: Serialize>(r: &R) -> Result<Vec<u8>, serde_json::Error> {
    let mut text = serde_json::to_vec_pretty(std::slice::from_ref(r))?;
    text.truncate(text.len().saturating_sub(2));
    text.drain(..2.min(text.len()));
    Ok(text)
}

/// Writes `rows` as `args` asks: the identifying column (`id`) with `-q`, else JSON, JSON
/// lines, or the table `table` builds (truncating unless `--no-trunc`).
pub fn emit<R: Serialize + Sync>(
    out: &mut dyn Write,
    args: &ListArgs,
    rows: &[R],
    id: impl Fn(&R) -> String,
    table: impl FnOnce(&[R], bool) -> Table,
) -> Result<(), Failure> {
    if args.quiet {
        for r in rows {
            writeln!(out, "{}", crate::text::one_line(&id(r)))?;
        }
        return Ok(());
    }
    match &args.format {
        Format::Json | Format::Jsonl => {
            let mut w = RowWriter::default();
            w.rows(out, args, rows, id)?;
            w.finish(out, args)
        }
        Format::Table => Ok(table(rows, !args.no_trunc).write(out)?),
        Format::Template(text) => {
            let template = Template::parse(text)
                .map_err(|e| Failure::new(Outcome::Usage, format!("template parsing error: {e}")))?;
            let mut line = Vec::new();
            for r in rows {
                let v = serde_json::to_value(r).map_err(|e| Failure::from(std::io::Error::from(e)))?;
                line.clear();
                template
                    .execute(&v, &mut line)
                    .map_err(|e| Failure::new(Outcome::No, crate::text::escape(e.to_string().as_bytes())))?;
                // The layout is the user's; escape sequences from the data are not.
                writeln!(out, "{}", crate::text::escape_hazards(&String::from_utf8_lossy(&line)))?;
            }
            Ok(())
        }
    }
}
