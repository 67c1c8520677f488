//! `coldctr bolt ...`: the bbolt CLI's read-only half, lock-free and damage-tolerant, with
//! containerd-aware decoding and JSON output.

use super::context::Global;
use super::{Failure, Outcome, warn};
use crate::bolt::pages::PageRow;
use crate::bolt::{BoltError, Bucket, Db, Item, Meta, MetaChoice, ReadMode, Tx, check, pages, walk};
use crate::bytes::Endian;
use crate::containerd::schema::{describe_key, describe_value, hex};
use crate::text;
use clap::{Args, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Args)]
pub struct BoltArgs {
    #[command(subcommand)]
    command: BoltCommand,
}

impl BoltArgs {
    /// `bolt get --format bytes`: a value's own bytes, not text (every other `bolt` command
    /// prints text, and its output goes through the text commands' stdout writer).
    pub fn writes_bytes(&self) -> bool {
        matches!(
            self.command,
            BoltCommand::Get {
                format: ValueFormat::Bytes,
                ..
            }
        )
    }
}

#[derive(Args)]
struct FileArgs {
    /// The bbolt file (meta.db, metadata.db, or a copy).
    file: PathBuf,
    /// Which meta page to read through: the current transaction (as bbolt chooses), the
    /// previous one (one commit older), or meta page 0 or 1.
    #[arg(long, default_value = "current", value_parser = parse_meta)]
    meta: MetaChoice,
    /// Read the file into memory instead of mapping it (for a file another process may
    /// truncate; a commit landing while it is read is said at the end either way).
    #[arg(long)]
    no_mmap: bool,
}

#[derive(Args)]
struct PathArgs {
    /// Bucket names from the root, outermost first, as `bolt keys` prints them (`\\` is a
    /// backslash, `\xNN` a byte, `\t` a tab, `\u{202e}` a character).
    path: Vec<String>,
    /// The names are given in hex (for binary keys).
    #[arg(long)]
    hex: bool,
}

#[derive(Subcommand)]
enum BoltCommand {
    /// Both meta pages decoded, which one is current, page size and file size.
    Info {
        #[command(flatten)]
        file: FileArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Every page with its type, element count and overflow; data past the high-water mark.
    Pages {
        #[command(flatten)]
        file: FileArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The buckets at the top level, or inside the bucket at PATH.
    Buckets {
        #[command(flatten)]
        file: FileArgs,
        #[command(flatten)]
        path: PathArgs,
    },
    /// The keys of the bucket at PATH (nested buckets end in `/`).
    Keys {
        #[command(flatten)]
        file: FileArgs,
        #[command(flatten)]
        path: PathArgs,
    },
    /// The value of KEY in the bucket at PATH: `coldctr bolt get FILE v1 version`.
    Get {
        #[command(flatten)]
        file: FileArgs,
        #[command(flatten)]
        path: PathArgs,
        /// auto: decoded where containerd's schema says what it is, else text or hex;
        /// hex; bytes: the raw value (refused on a terminal).
        #[arg(long, value_enum, default_value_t = ValueFormat::Auto)]
        format: ValueFormat,
    },
    /// The tree under PATH (everything by default), values decoded.
    Dump {
        #[command(flatten)]
        file: FileArgs,
        #[command(flatten)]
        path: PathArgs,
        /// text: an indented tree for people; jsonl: one JSON object per key.
        #[arg(long, value_enum, default_value_t = DumpFormat::Text)]
        format: DumpFormat,
    },
    /// What `bbolt check` verifies, as findings: exit 0 when clean, 1 with findings.
    Check {
        #[command(flatten)]
        file: FileArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Lines for people.
    Text,
    /// JSON, for programs.
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DumpFormat {
    Text,
    Jsonl,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ValueFormat {
    Auto,
    Hex,
    Bytes,
}

fn parse_meta(s: &str) -> Result<MetaChoice, String> {
    match s {
        "current" => Ok(MetaChoice::Current),
        "previous" => Ok(MetaChoice::Previous),
        "0" => Ok(MetaChoice::Slot(0)),
        "1" => Ok(MetaChoice::Slot(1)),
        _ => Err("expected current, previous, 0 or 1".into()),
    }
}

type Out<'a> = &'a mut dyn Write;

/// The global options `bolt` honours (`--previous`, `--no-mmap`) are folded into its own; the
/// ones it would ignore (`--root`, `--source-type`, `--docker-root`, `-n`, `--host-platform`,
/// `--salvage`, `--salvage-deleted`) are refused: a forensic tool must not print an answer to
/// a question it was not asked.
fn apply_global(file: &mut FileArgs, global: &Global, root_given: bool) -> Result<(), Failure> {
    super::refuse_unused(global, root_given, "bolt reads the FILE it is given", false)?;
    if global.previous {
        match file.meta {
            MetaChoice::Current => file.meta = MetaChoice::Previous,
            MetaChoice::Previous => {}
            MetaChoice::Slot(_) => {
                return Err(Failure::new(
                    Outcome::Usage,
                    "--previous and --meta name different meta pages; give one of them",
                ));
            }
        }
    }
    file.no_mmap |= global.no_mmap;
    Ok(())
}

pub fn run(mut args: BoltArgs, global: &Global, root_given: bool, out: Out<'_>) -> Result<Outcome, Failure> {
    let file = match &mut args.command {
        BoltCommand::Info { file, .. }
        | BoltCommand::Pages { file, .. }
        | BoltCommand::Buckets { file, .. }
        | BoltCommand::Keys { file, .. }
        | BoltCommand::Get { file, .. }
        | BoltCommand::Dump { file, .. }
        | BoltCommand::Check { file, .. } => file,
    };
    apply_global(file, global, root_given)?;
    super::given_file(&file.file)?;
    match args.command {
        BoltCommand::Info { file, format } => info(&file, format, out),
        BoltCommand::Pages { file, format } => with_view(&file, |tx| page_table(tx, format, out)),
        BoltCommand::Buckets { file, path } => with_view(&file, |tx| list(tx, &path, true, out)),
        BoltCommand::Keys { file, path } => with_view(&file, |tx| list(tx, &path, false, out)),
        BoltCommand::Get { file, path, format } => with_view(&file, |tx| get(tx, &path, format, out)),
        BoltCommand::Dump { file, path, format } => with_view(&file, |tx| dump(tx, &path, format, out)),
        BoltCommand::Check { file, format } => with_view(&file, |tx| check_cmd(tx, format, out)),
    }
}

fn open(file: &FileArgs) -> Result<Db, Failure> {
    let mode = if file.no_mmap { ReadMode::Read } else { ReadMode::Mmap };
    let db = Db::open(&file.file, mode)?;
    if db.fell_back() && file.meta == MetaChoice::Current {
        let other = 1 - db.current_slot();
        let meta = |slot: u8| db.metas().get(usize::from(slot));
        let why = meta(other)
            .and_then(|m| m.fault.as_ref())
            .map(|f| f.to_string())
            .unwrap_or_default();
        // The invalid one may be the older (both metas stored checksum 0: the newer is read).
        let which = match (meta(other), meta(db.current_slot())) {
            (Some(o), Some(c)) if o.txid <= c.txid => "the older transaction",
            _ => "the newer transaction",
        };
        warn(format_args!(
            "{}: meta page {other} ({which}) is invalid ({why}); reading through meta page {} instead",
            file.file.display(),
            db.current_slot()
        ));
    }
    Ok(db)
}

fn with_view(file: &FileArgs, f: impl FnOnce(&Tx<'_>) -> Result<Outcome, Failure>) -> Result<Outcome, Failure> {
    let db = open(file)?;
    let tx = db.view(file.meta)?;
    // A meta only bbolt 1.3.6 and older read (stored checksum 0), said before what it shows.
    let zero = check::zero_checksum(&tx);
    if let Some(e) = &zero {
        warn(e);
    }
    let outcome = f(&tx)?;
    // Falling back to the older meta is damage even when everything else read cleanly.
    Ok(if db.fell_back() || zero.is_some() {
        outcome.worst(Outcome::Damaged)
    } else {
        outcome
    })
}

fn path_bytes(p: &PathArgs) -> Result<Vec<Vec<u8>>, Failure> {
    p.path
        .iter()
        .map(|s| {
            if p.hex {
                hex::decode(s).map_err(|e| Failure::new(Outcome::Usage, format!("--hex: {s:?}: {e}")))
            } else {
                // A name as `bolt keys` printed it selects the key again (`\\` a backslash,
                // `\xNN` a byte, `\x1b`, `\t`, `\u{202e}`): the records' names are read so too.
                Ok(crate::containerd::records::key_bytes(s).into_owned())
            }
        })
        .collect()
}

fn show_path(path: &[Vec<u8>]) -> String {
    path.iter().map(|p| text::escape(p)).collect::<Vec<_>>().join("/")
}

fn open_bucket<'a>(tx: &Tx<'a>, path: &[Vec<u8>]) -> Result<Bucket<'a>, Failure> {
    tx.bucket_at(path)?
        .ok_or_else(|| Failure::new(Outcome::No, format!("bucket not found: {}", show_path(path))))
}

fn info(file: &FileArgs, format: Format, out: Out<'_>) -> Result<Outcome, Failure> {
    let db = open(file)?;
    let current = db.current_slot();
    if format == Format::Json {
        let metas: Vec<_> = db.metas().iter().map(|m| meta_json(m, m.slot == current)).collect();
        let doc = serde_json::json!({
            "file": db.path().to_string_lossy(),
            "fileSize": db.file_size(),
            "pageSize": db.page_size(),
            "byteOrder": endian_name(db.endian()),
            "current": current,
            "fellBack": db.fell_back(),
            "metas": metas,
        });
        writeln!(out, "{doc:#}")?;
    } else {
        writeln!(
            out,
            "File:        {}",
            text::escape(db.path().as_os_str().as_encoded_bytes())
        )?;
        writeln!(
            out,
            "File size:   {} bytes ({} pages)",
            db.file_size(),
            db.file_size() / u64::from(db.page_size())
        )?;
        writeln!(out, "Page size:   {}", db.page_size())?;
        writeln!(out, "Byte order:  {}", endian_name(db.endian()))?;
        for m in db.metas() {
            let freelist = if m.persists_freelist() {
                format!("page {}", m.freelist)
            } else {
                "not persisted (NoFreelistSync)".into()
            };
            let status = m
                .fault
                .as_ref()
                .map_or("valid".to_string(), |f| format!("INVALID: {f}"));
            writeln!(
                out,
                "Meta {}:      {status}{}",
                m.slot,
                if m.slot == current { " (current)" } else { "" }
            )?;
            writeln!(out, "  txid:      {}", m.txid)?;
            writeln!(out, "  root:      page {} (sequence {})", m.root, m.sequence)?;
            writeln!(out, "  freelist:  {freelist}")?;
            writeln!(out, "  hwm:       {} pages", m.pgid)?;
            writeln!(
                out,
                "  page size: {}  version: {}  flags: {:#x}",
                m.page_size, m.version, m.flags
            )?;
            writeln!(
                out,
                "  checksum:  {:#018x} (computed {:#018x})",
                m.checksum, m.computed_checksum
            )?;
        }
        let why = if db.fell_back() {
            "the newer meta is invalid"
        } else {
            "highest valid txid"
        };
        writeln!(out, "Current:     meta {current} ({why})")?;
    }
    Ok(if db.fell_back() { Outcome::Damaged } else { Outcome::Ok })
}

fn endian_name(e: Endian) -> &'static str {
    match e {
        Endian::Little => "little-endian",
        Endian::Big => "big-endian",
    }
}

fn meta_json(m: &Meta, current: bool) -> serde_json::Value {
    serde_json::json!({
        "slot": m.slot,
        "current": current,
        "valid": m.is_valid(),
        "error": m.fault.as_ref().map(|f| f.to_string()),
        "pageId": m.header_id,
        "magic": format!("{:#010x}", m.magic),
        "version": m.version,
        "pageSize": m.page_size,
        "flags": m.flags,
        "root": m.root,
        "sequence": m.sequence,
        "freelist": if m.persists_freelist() { serde_json::json!(m.freelist) } else { serde_json::Value::Null },
        "noFreelistSync": !m.persists_freelist(),
        "hwm": m.pgid,
        "txid": m.txid,
        "checksum": format!("{:016x}", m.checksum),
        "computedChecksum": format!("{:016x}", m.computed_checksum),
    })
}

fn page_table(tx: &Tx<'_>, format: Format, out: Out<'_>) -> Result<Outcome, Failure> {
    let rows = pages::list(tx);
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, &rows).map_err(std::io::Error::from)?;
        writeln!(out)?;
        return Ok(Outcome::Ok);
    }
    writeln!(out, "ID       TYPE       ITEMS  OVRFLW")?;
    writeln!(out, "======== ========== ====== ======")?;
    for PageRow {
        id,
        kind,
        count,
        overflow,
        note,
        ..
    } in &rows
    {
        let count = count.map(|c| c.to_string()).unwrap_or_default();
        // As `bbolt pages`: the overflow column is blank when the page does not overflow.
        let overflow = overflow.filter(|&c| c > 0).map(|c| c.to_string()).unwrap_or_default();
        let note = note.as_deref().map(|n| format!("  ! {n}")).unwrap_or_default();
        writeln!(out, "{id:<8} {kind:<10} {count:<6} {overflow:<6}{note}")?;
    }
    Ok(Outcome::Ok)
}

fn list(tx: &Tx<'_>, path: &PathArgs, buckets_only: bool, out: Out<'_>) -> Result<Outcome, Failure> {
    let path = path_bytes(path)?;
    if !buckets_only && path.is_empty() {
        return Err(Failure::new(
            Outcome::Usage,
            "bolt keys needs a bucket path (use `bolt buckets` for the top level)",
        ));
    }
    let bucket = open_bucket(tx, &path)?;
    let mut outcome = Outcome::Ok;
    for item in bucket.cursor() {
        match item {
            Ok(item) if buckets_only && !item.is_bucket => {}
            Ok(item) => writeln!(
                out,
                "{}{}",
                text::escape(item.key),
                if item.is_bucket && !buckets_only { "/" } else { "" }
            )?,
            Err(e) => {
                warn(&e);
                outcome = Outcome::Damaged;
            }
        }
    }
    Ok(outcome)
}

fn get(tx: &Tx<'_>, path: &PathArgs, format: ValueFormat, out: Out<'_>) -> Result<Outcome, Failure> {
    let mut path = path_bytes(path)?;
    let Some(key) = path.pop() else {
        return Err(Failure::new(Outcome::Usage, "bolt get needs a bucket path and a key"));
    };
    let bucket = if path.is_empty() {
        tx.root()
    } else {
        open_bucket(tx, &path)?
    };
    let Some(value) = bucket.get(&key)? else {
        let what = if bucket.bucket(&key)?.is_some() {
            "is a bucket, not a value"
        } else {
            "not found"
        };
        return Err(Failure::new(
            Outcome::No,
            format!("key {what}: {}/{}", show_path(&path), text::escape(&key)),
        ));
    };
    match format {
        ValueFormat::Hex => writeln!(out, "{}", hex(value))?,
        ValueFormat::Bytes if std::io::stdout().is_terminal() => {
            return Err(Failure::new(
                Outcome::Usage,
                "refusing to write raw bytes to a terminal; redirect stdout or use --format hex",
            ));
        }
        ValueFormat::Bytes => out.write_all(value)?,
        ValueFormat::Auto => {
            let names: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
            writeln!(out, "{}", describe_value(&names, &key, value))?;
        }
    }
    Ok(Outcome::Ok)
}

fn check_cmd(tx: &Tx<'_>, format: Format, out: Out<'_>) -> Result<Outcome, Failure> {
    let findings = check::check(tx);
    if format == Format::Json {
        let doc = serde_json::json!({ "file": tx.db().path().to_string_lossy(), "ok": findings.is_empty(), "findings": findings });
        writeln!(out, "{doc:#}")?;
    } else if findings.is_empty() {
        writeln!(out, "OK")?;
    } else {
        for f in &findings {
            writeln!(out, "{f}")?;
        }
        writeln!(out, "{} errors found", findings.len())?;
    }
    Ok(if findings.is_empty() { Outcome::Ok } else { Outcome::No })
}

/// Walks every bucket under `path` depth-first, printing each key; damage is reported on
/// stderr and the walk goes on with the next element.
fn dump(tx: &Tx<'_>, path: &PathArgs, format: DumpFormat, out: Out<'_>) -> Result<Outcome, Failure> {
    let path = path_bytes(path)?;
    let bucket = open_bucket(tx, &path)?;
    let mut names: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
    // A subtree's text dump starts with the path it was asked for, its keys one level in.
    if format == DumpFormat::Text && !names.is_empty() {
        writeln!(out, "{}/", show_path(&path))?;
    }
    let mut printer = DumpPrinter {
        out,
        format,
        damaged: false,
        line: Vec::new(),
        base: names.len().saturating_sub(1),
    };
    walk::walk(&bucket, &mut names, &mut printer)?;
    Ok(if printer.damaged { Outcome::Damaged } else { Outcome::Ok })
}

struct DumpPrinter<'o> {
    out: Out<'o>,
    format: DumpFormat,
    damaged: bool,
    /// The JSONL line being built.
    line: Vec<u8>,
    /// How many names of the path the dump started at are not indented for.
    base: usize,
}

impl<'a> walk::Visitor<'a> for DumpPrinter<'_> {
    fn item(&mut self, names: &[&'a [u8]], item: &Item<'a>) -> std::io::Result<()> {
        match self.format {
            DumpFormat::Jsonl => self.jsonl(item, names),
            DumpFormat::Text => {
                let indent = "  ".repeat(names.len().saturating_sub(self.base));
                if item.is_bucket {
                    writeln!(self.out, "{indent}{}/", describe_key(names, item.key))
                } else {
                    let value = describe_value(names, item.key, item.value);
                    writeln!(self.out, "{indent}{} = {value}", describe_key(names, item.key))
                }
            }
        }
    }

    fn damage(&mut self, error: BoltError) {
        warn(error);
        self.damaged = true;
    }
}

impl DumpPrinter<'_> {
    /// `{"bucket": [...], "key": name, "value": "<hex>" | null}`.
    fn jsonl(&mut self, item: &Item<'_>, names: &[&[u8]]) -> std::io::Result<()> {
        // One reused buffer and one write per line: a write per piece is ~26 small copies a
        // line, and musl's memcpy has a fixed cost per call (benches/RESULTS.md).
        let line = &mut self.line;
        line.clear();
        line.extend_from_slice(b"{\"bucket\":[");
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            push_name(line, n);
        }
        line.extend_from_slice(b"],\"key\":");
        push_name(line, item.key);
        if item.is_bucket {
            line.extend_from_slice(b",\"value\":null}\n");
        } else {
            line.extend_from_slice(b",\"value\":\"");
            push_hex(line, item.value);
            line.extend_from_slice(b"\"}\n");
        }
        self.out.write_all(line)
    }
}

/// A JSON string for UTF-8 names, `{"hex": "..."}` for any other.
fn push_name(line: &mut Vec<u8>, name: &[u8]) {
    // Printable ASCII without quote or backslash needs no escaping: the common case.
    if name
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        line.push(b'"');
        line.extend_from_slice(name);
        line.push(b'"');
        return;
    }
    match std::str::from_utf8(name) {
        // Writing into a Vec cannot fail.
        Ok(s) => {
            let _ = serde_json::to_writer(&mut *line, s);
        }
        Err(_) => {
            line.extend_from_slice(b"{\"hex\":\"");
            push_hex(line, name);
            line.extend_from_slice(b"\"}");
        }
    }
}

/// Lowercase hex of `bytes`, appended.
fn push_hex(line: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    line.reserve(bytes.len() * 2);
    for &b in bytes {
        // A nibble is below 16, the length of DIGITS.
        #[allow(clippy::indexing_slicing)]
        {
            line.push(DIGITS[usize::from(b >> 4)]);
            line.push(DIGITS[usize::from(b & 15)]);
        }
    }
}
