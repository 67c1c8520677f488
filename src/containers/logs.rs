//! A Docker container's logs, read from the files dockerd's `json-file` and `local` drivers
//! write (and dual logging's cache, in the `local` format), as `docker logs` prints them.
//!
//! ```text
//!  containers/<id>/<id>-json.log        the current file
//!  containers/<id>/<id>-json.log.1      rotated: up to .(max-file - 1), the oldest; `.N.gz`
//!  ...                                  when the driver compresses what it rotates
//!  JSON objects, one a line as the driver writes them (dockerd reads them as a stream):
//!  {"log":"failing\n","stream":"stderr","attrs":{"k":"v"},"time":"2026-11-29T18:51:59.49008007Z"}
//!         the bytes written, with their newline (none: a partial message, cut at 16 KiB)
//!  containers/<id>/local-logs/container.log(.N, .N.gz)    the `local` driver
//!  containers/<id>/container-cached.log(.N, .N.gz)        dual logging's cache
//!         framed protobuf records: see `local_log`
//! ```
//!
//! `docker logs` sends each entry to the stream it was written to, its `log` bytes as they
//! are; `--timestamps` puts the time first in Go's RFC3339NanoFixed (nine digits always);
//! `--details` the entry's attrs (json-file's `attrs`; the local format keeps none).
//! The file is read as dockerd reads it: a stream of JSON values, as Go's `json.Decoder` finds
//! them, whatever lines they are on ([`crate::containers::json_stream`]); each decoded with Go's
//! `encoding/json` rules (keys without case, the last of a key given twice, no `log` an empty
//! entry, no `time` Go's zero time, strings with U+FFFD for what is not UTF-8: [`parse_value`]).
//! Every byte is untrusted: where the stream holds no JSON value, or one that does not decode
//! (or whose time Go would not read), that is named (file, line, byte offset) and skipped, and
//! reading goes on (past the value; where the stream broke, from the next line), where dockerd
//! 28 reads no further in that file: the entries after a damaged line are still evidence.
//! No value is held past [`MAX_LINE`]; no file is followed through a link, and none is read
//! past [`MAX_LOG_FILE`] bytes.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The most bytes read of one log file (or of what a `.gz` one decompresses to): past it, the
/// rest is said to be left.
pub const MAX_LOG_FILE: u64 = 4 << 30;

/// The longest JSON value read whole: json-file writes at most 16 KiB of a message per entry
/// (a longer one is split into partial entries), under 100 KiB once escaped. Past this, the
/// value is walked to its end, named and skipped, never held.
pub const MAX_LINE: usize = 1 << 20;

/// The most rotated files looked for, whatever `max-file` says.
pub const MAX_ROTATED: u32 = 100_000;

/// Which stream an entry was written to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
    /// Neither (json-file's `stream` another word or missing, a local record's `source` empty):
    /// dockerd reads the entry (it counts for `--tail`, its time for `--since` and `--until`)
    /// and its API writer sends it to neither stream, so `docker logs` prints nothing of it.
    Neither,
}

/// One entry of the log.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub stream: Stream,
    /// The recorded time as `docker logs --timestamps` prints it (Go's RFC3339NanoFixed: nine
    /// fractional digits, `Z` for a zero offset).
    pub time: String,
    /// The same time, in nanoseconds since the Unix epoch (for `--since` and `--until`).
    pub at: i128,
    /// The bytes written, with their newline when the entry is a whole line.
    pub line: Vec<u8>,
    /// json-file's `attrs` (labels and env the container's log options named), by key.
    pub attrs: Vec<(String, String)>,
}

impl Entry {
    /// The attrs as `docker logs --details` prints them before the line: `k=v` pairs sorted by
    /// key, each side query-escaped (Go's `url.QueryEscape`), joined by commas.
    pub fn details(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.attrs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            query_escape(&mut out, k);
            out.push('=');
            query_escape(&mut out, v);
        }
        out
    }
}

/// Go's `url.QueryEscape`: letters, digits and `-_.~` as they are, a space as `+`, every other
/// byte as `%XX`.
fn query_escape(out: &mut String, s: &str) {
    use std::fmt::Write;
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            b' ' => out.push('+'),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
}

/// `t` as Go's `time.Time` reads it from the log (RFC 3339) and dockerd prints it back with
/// `RFC3339NanoFixed`: `None` when Go would refuse it (dockerd's reader then fails on the
/// line). More than nine fractional digits are cut to nine, a zero offset prints `Z`.
pub fn go_time(t: &str) -> Option<String> {
    go_time_at(t).map(|(text, _)| text)
}

/// [`go_time`], with the instant it names in nanoseconds since the Unix epoch (what `--since`
/// and `--until` compare), from the one parse.
///
/// Go's `time.Time.UnmarshalJSON` reads with `time.Parse(time.RFC3339)` (Go 1.20 added a
/// strict check and left it switched off), which also takes a one-digit hour, a comma before
/// the fraction and offsets up to `+24:60` ([`crate::containerd::gotime::parse_rfc3339`], the
/// Go of docker 28; Go 1.19's, dockerd 20.10's, took any two digits there). What dockerd
/// writes, `YYYY-MM-DDTHH:MM:SS.fffffffffZ`, is read here at once; only a time of another form
/// goes through Go's parser.
pub fn go_time_at(t: &str) -> Option<(String, i128)> {
    go_time_as_written(t).or_else(|| {
        let go = crate::containerd::gotime::parse_rfc3339(t)?;
        Some((go.rfc3339_nano_fixed(), go.unix_nanos()))
    })
}

/// [`go_time_at`] of a time in the form dockerd writes: two-digit hour, a period before the
/// fraction, `Z` or an offset below 24 hours.
fn go_time_as_written(t: &str) -> Option<(String, i128)> {
    let b = t.as_bytes();
    let num = |from: usize, to: usize| -> Option<u32> {
        let digits = b.get(from..to)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        digits
            .iter()
            .try_fold(0u32, |n, d| n.checked_mul(10)?.checked_add(u32::from(d - b'0')))
    };
    let marks = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if marks.iter().any(|&(at, c)| b.get(at) != Some(&c)) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if day < 1 || day > days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = t.get(19..)?;
    let mut fraction = "";
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        fraction = r.get(..n.min(9))?;
        rest = r.get(n..)?;
    }
    let (zone, offset) = match rest {
        "Z" => ("Z", 0i64),
        _ => {
            let z = rest.as_bytes();
            if z.len() != 6 || !matches!(z.first(), Some(b'+' | b'-')) || z.get(3) != Some(&b':') {
                return None;
            }
            let (zh, zm) = (two(z.get(1..3)?)?, two(z.get(4..6)?)?);
            if zh > 23 || zm > 59 {
                return None;
            }
            let east = i64::from(zh * 3600 + zm * 60);
            let offset = if z.first() == Some(&b'-') { -east } else { east };
            if zh == 0 && zm == 0 { ("Z", 0) } else { (rest, offset) }
        }
    };
    // Built by hand: this runs once a log line, and `format!`'s padding was a tenth of a run.
    let mut text = String::with_capacity(35);
    text.push_str(t.get(..19)?);
    text.push('.');
    text.push_str(fraction);
    text.extend(std::iter::repeat_n('0', 9 - fraction.len()));
    text.push_str(zone);
    let nanos = fraction
        .bytes()
        .chain(std::iter::repeat_n(b'0', 9 - fraction.len()))
        .fold(0i128, |n, d| n * 10 + i128::from(d - b'0'));
    let days = crate::containers::log_window::days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset;
    Some((text, i128::from(secs) * 1_000_000_000 + nanos))
}

/// Two ASCII digits as a number.
fn two(d: &[u8]) -> Option<u32> {
    match d {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Some(u32::from(a - b'0') * 10 + u32::from(b - b'0')),
        _ => None,
    }
}

/// How many files the json-file driver keeps (`max-file` in the container's log options,
/// which dockerd fills from its own defaults at create): 1 when not set.
pub fn max_files(options: Option<&str>) -> u32 {
    max_files_or(options, 1)
}

/// `max-file` as [`max_files`] reads it, `default` when not set (the `local` driver, and dual
/// logging's cache, keep 5).
pub fn max_files_or(options: Option<&str>, default: u32) -> u32 {
    options
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(default)
        .clamp(1, MAX_ROTATED)
}

/// The files `docker logs` reads of a json-file log, oldest first, as dockerd opens them:
/// `<id>-json.log.N` (or `.N.gz`) for N from `max_files - 1` down to 1, those that are not
/// there skipped (a rotation caught between its renames leaves a gap), then `<id>-json.log`.
/// Also the rotated files past `max_files - 1` that are on disk, which dockerd does not read.
pub fn json_file_paths(dir: &Path, id: &str, max_files: u32) -> (Vec<PathBuf>, Vec<PathBuf>) {
    rotated_paths(&dir.join(format!("{id}-json.log")), max_files)
}

/// The files dockerd reads of a log whose current file is `current`, oldest first:
/// `<current>.N` (or `.N.gz`) for N from `max_files - 1` down to 1, those not there skipped,
/// then `current`; and the rotated files past `max_files - 1` that are on disk, which dockerd
/// does not read. The same for every driver built on dockerd's log files (json-file, local,
/// dual logging's cache).
pub fn rotated_paths(current: &Path, max_files: u32) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let there = |p: &PathBuf| std::fs::symlink_metadata(p).is_ok();
    let mut base = current.as_os_str().to_os_string();
    base.push(".");
    let numbered = |n: u32| {
        let mut plain = base.clone();
        plain.push(n.to_string());
        let mut gz = plain.clone();
        gz.push(".gz");
        let (plain, gz) = (PathBuf::from(plain), PathBuf::from(gz));
        if there(&plain) {
            Some(plain)
        } else if there(&gz) {
            Some(gz)
        } else {
            None
        }
    };
    let mut read: Vec<PathBuf> = (1..max_files).rev().filter_map(numbered).collect();
    read.push(current.to_path_buf());
    let beyond = (max_files..max_files.saturating_add(3)).filter_map(numbered).collect();
    (read, beyond)
}

/// Takes out of `paths` (oldest first) each file that is the same file as a newer one (a hard
/// link: one inode under two names), which dockerd's rotation, renaming files, never leaves:
/// read once, not once a name (a hostile disk can link one huge file under every rotated
/// name). Returns each name taken out with the name of the one kept.
pub fn same_files(paths: &mut Vec<PathBuf>) -> Vec<(PathBuf, PathBuf)> {
    use std::os::unix::fs::MetadataExt;
    let mut seen: Vec<((u64, u64), PathBuf)> = Vec::new();
    let mut dropped = Vec::new();
    let mut kept = Vec::with_capacity(paths.len());
    for path in paths.drain(..).rev() {
        let id = std::fs::symlink_metadata(&path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| (m.dev(), m.ino()));
        match id.and_then(|id| seen.iter().find(|(s, _)| *s == id)) {
            Some((_, first)) => dropped.push((path, first.clone())),
            None => {
                if let Some(id) = id {
                    seen.push((id, path.clone()));
                }
                kept.push(path);
            }
        }
    }
    kept.reverse();
    *paths = kept;
    dropped
}

/// The time a rotated `.gz` file's gzip header says its last entry has: dockerd (the
/// json-file and local drivers both) writes `{"lastTime":"<RFC 3339>"}` into the header's extra
/// field when it compresses the file, and, from 23 on, skips a file whose last entry is before
/// `--since` without reading it. `None` when the header has no such time (or is no gzip
/// header): the file is read. Only the header is read, never through a link.
pub fn gz_last_time(path: &Path) -> Option<i128> {
    use std::io::Read;
    // Opened as a log is (never a link, a device or a FIFO); what is wrong with the file is
    // said when it is read.
    let file = open_log(path, "", &mut LogRead::default())?;
    // ID1 ID2 CM FLG MTIME(4) XFL OS, then with FEXTRA (bit 2 of FLG) XLEN (2, LE) and XLEN bytes.
    let mut head = Vec::with_capacity(12 + 0xffff);
    file.take(12 + 0xffff).read_to_end(&mut head).ok()?;
    let fixed = head.get(..12)?;
    if fixed.get(..3)? != [0x1f, 0x8b, 8] || fixed.get(3)? & 4 == 0 {
        return None;
    }
    let xlen = usize::from(u16::from_le_bytes([*fixed.get(10)?, *fixed.get(11)?]));
    let extra = head.get(12..12 + xlen)?;
    // Go's json.Unmarshal into a struct: the field's name matched exactly, else without case;
    // a value that is no RFC 3339 time fails the whole header, and the file is read.
    let doc: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(extra).ok()?;
    let value = doc.get("lastTime").or_else(|| {
        doc.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("lastTime"))
            .map(|(_, v)| v)
    })?;
    let (t, at) = go_time_at(value.as_str()?)?;
    // Go's zero time (0001-01-01T00:00:00Z) is no time: dockerd reads the file.
    (t != "0001-01-01T00:00:00.000000000Z").then_some(at)
}

/// What reading one file met (its entries went to the caller as they were read).
#[derive(Debug, Default)]
pub struct LogRead {
    /// Lines that are no log entry, and the file's own trouble, each naming the file: the
    /// first [`MAX_SAID`], then how many more (a file of zeros is millions of bad records).
    pub damaged: Vec<String>,
    /// Damage met past the first [`MAX_SAID`], counted, not kept.
    pub more_damaged: u64,
    /// The file could not be read at all (permissions, I/O).
    pub unreadable: Vec<String>,
    /// Not there.
    pub missing: bool,
    /// Entries of neither stdout nor stderr read, which `docker logs` prints nothing of, and
    /// where the first is (its byte offset, of what a `.gz` file decompresses to).
    pub neither: Option<(u64, u64)>,
}

/// The most damage messages kept of one file; the rest are counted.
pub const MAX_SAID: usize = 100;

impl LogRead {
    /// Says `message`, or counts it past [`MAX_SAID`].
    fn damage(&mut self, message: String) {
        if self.damaged.len() < MAX_SAID {
            self.damaged.push(message);
        } else {
            self.more_damaged += 1;
        }
    }

    /// Counts an entry of neither stream, at byte `at`.
    fn neither_at(&mut self, at: u64) {
        let (n, _) = self.neither.get_or_insert((0, at));
        *n += 1;
    }

    /// What the entries of neither stream come to, said once for the file: no damage
    /// (dockerd reads them without fault, and `docker logs` says nothing of them), but a log
    /// dockerd's drivers do not write so (they write stdout and stderr only; a run of empty
    /// local records is zeros a crash left), and bytes `docker logs` does not show.
    pub fn neither_said(&self, path: &Path) -> Option<String> {
        let (n, at) = self.neither?;
        let entries = if n == 1 { "entry" } else { "entries" };
        Some(format!(
            "{}: {n} {entries} of neither stdout nor stderr (the first at byte {at}), which docker logs reads and prints nothing of",
            crate::text::escape(path.as_os_str().as_encoded_bytes())
        ))
    }

    /// The messages, and one more line for those counted only.
    pub fn damage_said(&self, path: &Path) -> Vec<String> {
        let mut all = self.damaged.clone();
        if self.more_damaged > 0 {
            all.push(format!(
                "{}: {} more lines or records that are no log entry (only the first {MAX_SAID} are named)",
                crate::text::escape(path.as_os_str().as_encoded_bytes()),
                self.more_damaged
            ));
        }
        all
    }
}

/// A log file's bytes, decompressed, buffered and bounded.
type LogReader = std::io::BufReader<std::io::Take<Box<dyn std::io::Read>>>;

/// Whether a log read as far as [`MAX_LOG_FILE`] allows goes on past it (a file of exactly
/// that many bytes from where it was read does not, and is not said to be larger).
fn goes_on(reader: LogReader) -> bool {
    use std::io::Read;
    let mut one = [0u8; 1];
    matches!(reader.into_inner().into_inner().read(&mut one), Ok(1))
}

/// The log file at `path` opened as [`open_log`] opens it, decompressed when its name ends in
/// `.gz` (the second answer), buffered, from byte `start` (of what it decompresses to), and
/// cut at [`MAX_LOG_FILE`] bytes from there.
fn open_reader(path: &Path, shown: &str, start: u64, out: &mut LogRead) -> Option<(LogReader, bool)> {
    use std::io::{Read, Seek};
    let mut file = open_log(path, shown, out)?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    let reader: Box<dyn std::io::Read> = if gz {
        let mut inflated = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file));
        // Read through to `start`, a buffer at a time.
        if let Err(e) = std::io::copy(&mut (&mut inflated).take(start), &mut std::io::sink()) {
            out.damage(format!("{shown}: {e} (before byte {start} of what it decompresses to)"));
            return None;
        }
        Box::new(inflated)
    } else {
        if let Err(e) = file.seek(std::io::SeekFrom::Start(start)) {
            out.unreadable.push(format!("{shown}: {e}"));
            return None;
        }
        Box::new(file)
    };
    Some((
        std::io::BufReader::with_capacity(64 << 10, reader.take(MAX_LOG_FILE)),
        gz,
    ))
}

/// Reads the json-file log at `path` (gzip when its name ends in `.gz`) as dockerd reads it,
/// giving each entry to `each` (which answers whether to go on: `false` past `--until`):
/// [`read_json_section`] of the whole file.
pub fn read_json_file(path: &Path, each: &mut dyn FnMut(Entry) -> bool) -> LogRead {
    read_json_section(path, 0, None, each)
}

/// Reads bytes `start` to `end` (the file's end when `None`) of the json-file log at `path`
/// (of what it decompresses to when its name ends in `.gz`) as dockerd 28 reads a file: a
/// stream of JSON values, as Go's `json.Decoder` finds them
/// ([`crate::containers::json_stream`]: two on a line are two entries, one over several lines
/// is one), each decoded into an entry ([`parse_value`]) and given to `each`. At the first that
/// is no JSON value or that does not decode (Go's `Decode` fails: a syntax error, a file cut
/// inside an object, a value of another type, a time Go refuses), dockerd 28 reads no further
/// in the file and goes on with the next one. This names where (line and byte offset) and
/// reads on, as evidence wants: past a value that does not decode (dockerd 20.10 skipped it
/// too), and from the line after the byte where the stream broke (a node that stopped
/// mid-write leaves a line cut short, and the entries after it are still the log's). Never through a link, never a file of another kind, no value held past
/// [`MAX_LINE`] (one longer is walked to its end, named and skipped), at most
/// [`MAX_LOG_FILE`] bytes.
pub fn read_json_section(path: &Path, start: u64, end: Option<u64>, each: &mut dyn FnMut(Entry) -> bool) -> LogRead {
    use std::io::Read;
    let mut out = LogRead::default();
    let shown = crate::text::escape(path.as_os_str().as_encoded_bytes());
    let Some((reader, gz)) = open_reader(path, &shown, start, &mut out) else {
        return out;
    };
    let len = end.map_or(u64::MAX, |end| end.saturating_sub(start));
    let reader = std::io::BufReader::with_capacity(64 << 10, reader.take(len));
    let mut values = crate::containers::json_stream::Values::new(reader, start);
    let file = LogFile {
        shown: &shown,
        gz,
        from_start: start == 0,
    };
    read_json_values(&mut values, &file, true, &mut out, each);
    if values.offset().saturating_sub(start) == MAX_LOG_FILE && goes_on(values.into_inner().into_inner().into_inner()) {
        out.damage(format!(
            "{shown}: larger than {MAX_LOG_FILE} bytes; the entries after that are not read"
        ));
    }
    out
}

/// A log file as what is said of it names it.
pub struct LogFile<'a> {
    /// Its path, escaped.
    pub shown: &'a str,
    /// Read through gzip: offsets are of what it decompresses to.
    pub gz: bool,
    /// Read from its first byte: line numbers are the file's (from where --tail starts, only
    /// the offset is said).
    pub from_start: bool,
}

/// The values of a json-file log ([`read_json_section`]) decoded and given to `each`, what is
/// wrong said in `out`. With `by_line`, a value that is a line a strict JSON parser takes whole
/// is decoded in that one parse ([`Values::next_line`](crate::containers::json_stream::Values::next_line));
/// without, every value is walked byte by byte first: the two read the same (a test and the
/// fuzz target compare them).
pub fn read_json_values<R: std::io::BufRead>(
    values: &mut crate::containers::json_stream::Values<R>,
    file: &LogFile<'_>,
    by_line: bool,
    out: &mut LogRead,
    each: &mut dyn FnMut(Entry) -> bool,
) {
    use crate::containers::json_stream::Next;
    let LogFile { shown, gz, from_start } = *file;
    let of = if gz { " of what it decompresses to" } else { "" };
    let mut value = Vec::new();
    let stop = |line: u64, at: u64| {
        if from_start {
            format!("{shown}: line {line} (byte {at}{of}): ")
        } else {
            format!("{shown}: byte {at}{of}: ")
        }
    };
    // A read that fails ends the file; what was read before it was given already. Said
    // where it happens: a decoder says some errors once only (a gzip member's checksum),
    // and the next read finds the end.
    let failed = |e: std::io::Error, offset: u64, out: &mut LogRead| {
        let message = format!("{shown}: {e} (after {offset} bytes{of})");
        if !gz && crate::damage::refused_by_system(&e) {
            out.unreadable.push(message);
        } else {
            out.damage(message);
        }
    };
    loop {
        // Most values are a line each that a strict parser takes whole: one parse, no walk.
        if by_line {
            match values.next_line(MAX_LINE, parse_strict_line) {
                Ok(Some((decoded, at, line))) => {
                    match decoded {
                        Ok(e) => {
                            if !took_entry(e, at, out, each) {
                                return;
                            }
                        }
                        Err(why) => out.damage(not_decoded(&stop(line, at), &why)),
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => return failed(e, values.offset(), out),
            }
        }
        let next = match values.next(&mut value, MAX_LINE) {
            Ok(next) => next,
            Err(e) => return failed(e, values.offset(), out),
        };
        match next {
            Next::End => return,
            Next::Value { at, line } => match parse_value(&value) {
                Ok(e) => {
                    if !took_entry(e, at, out, each) {
                        return;
                    }
                }
                Err(why) => out.damage(not_decoded(&stop(line, at), &why)),
            },
            Next::TooLong { at, line } => out.damage(format!(
                "{}a value longer than {MAX_LINE} bytes, not read; skipped",
                stop(line, at)
            )),
            Next::Broken { at, line, bad, what } => {
                out.damage(format!(
                    "{}not a log entry: {what} at byte {bad}; read on from the line after that byte (dockerd 28 reads no further in this file)",
                    stop(line, at)
                ));
                if let Err(e) = values.skip_line() {
                    out.damage(format!("{shown}: {e} (after {} bytes{of})", values.offset()));
                    return;
                }
            }
        }
    }
}

/// The entries and damage of a json-file log held in memory ([`read_json_values`], through a
/// buffer of `capacity` bytes, the file named `x-json.log`): for the tests, the fuzz target and
/// the benchmark, which read a log both ways and compare.
pub fn read_json_bytes(log: &[u8], capacity: usize, by_line: bool) -> (Vec<Entry>, LogRead) {
    let reader = std::io::BufReader::with_capacity(capacity, log);
    let mut values = crate::containers::json_stream::Values::new(reader, 0);
    let file = LogFile {
        shown: "x-json.log",
        gz: false,
        from_start: true,
    };
    let (mut entries, mut out) = (Vec::new(), LogRead::default());
    read_json_values(&mut values, &file, by_line, &mut out, &mut |e| {
        entries.push(e);
        true
    });
    (entries, out)
}

/// The damage said of a value that is no entry: `at` says where, `why` what.
fn not_decoded(at: &str, why: &str) -> String {
    format!("{at}{why}; skipped (dockerd 28 reads no further in this file, 20.10 skipped it too)")
}

/// Gives `each` the entry of the value at byte `at`; `false` when it wants no more (past
/// --until: dockerd reads no further).
fn took_entry(e: Entry, at: u64, out: &mut LogRead, each: &mut dyn FnMut(Entry) -> bool) -> bool {
    if e.stream == Stream::Neither {
        out.neither_at(at);
    }
    each(e)
}

/// Opens a log file for reading: never through a link, never a file of another kind. `None`
/// when it cannot be read, with why in `out`.
fn open_log(path: &Path, shown: &str, out: &mut LogRead) -> Option<std::fs::File> {
    let said = |e: std::io::Error, out: &mut LogRead| {
        if e.kind() == std::io::ErrorKind::NotFound {
            out.missing = true;
        } else if crate::damage::refused_by_system(&e) {
            out.unreadable.push(format!("{shown}: {e}"));
        } else {
            out.damage(format!("{shown}: {e}"));
        }
    };
    // Look before opening: a device node is never opened (on a disk mounted without nodev,
    // opening one can act on this machine), nor a FIFO; and look again at what was opened,
    // which may have been swapped in between.
    let looked = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => {
            said(e, out);
            return None;
        }
    };
    if let Some(why) = not_a_log(&looked.file_type(), false) {
        out.damage(format!("{shown}: {why}"));
        return None;
    }
    let file = match crate::noatime::open(path, libc::O_NOFOLLOW | libc::O_NONBLOCK) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            out.damage(format!("{shown}: a symlink, not followed"));
            return None;
        }
        Err(e) => {
            said(e, out);
            return None;
        }
    };
    match file.metadata() {
        Ok(m) => match not_a_log(&m.file_type(), true) {
            None => Some(file),
            Some(why) => {
                out.damage(format!("{shown}: {why}"));
                None
            }
        },
        Err(e) => {
            out.unreadable.push(format!("{shown}: {e}"));
            None
        }
    }
}

/// Why a file of this kind is not read as a log (`opened`: it was, swapped in after a look):
/// `None` for a regular file.
fn not_a_log(kind: &std::fs::FileType, opened: bool) -> Option<String> {
    if kind.is_file() {
        None
    } else if kind.is_symlink() {
        Some("a symlink, not followed".to_string())
    } else {
        let kind = crate::containerd::blobs::FileKind::of(kind);
        let opened = if opened { "" } else { " (not opened)" };
        Some(format!("a {kind}{opened}, not a log file"))
    }
}

/// Reads a log file in the `local` driver's format (dual logging's cache too) at `path`
/// (gzip when its name ends in `.gz`), giving each entry to `each` as `docker logs` prints it:
/// never through a link, at most [`MAX_LOG_FILE`] bytes. A record that is no entry is named
/// by its byte offset and skipped; where the framing is lost, the rest of the file is named
/// and not read (there is no way to find the next record), as dockerd 28 drops it.
pub fn read_local_file(path: &Path, each: &mut dyn FnMut(Entry) -> bool) -> LogRead {
    read_local_file_from(path, 0, each)
}

/// [`read_local_file`] from byte `start` (of what a `.gz` file decompresses to): where
/// `--tail` starts ([`local_tail_start`]).
pub fn read_local_file_from(path: &Path, start: u64, each: &mut dyn FnMut(Entry) -> bool) -> LogRead {
    use crate::containers::local_log::Records;
    let mut out = LogRead::default();
    let shown = crate::text::escape(path.as_os_str().as_encoded_bytes());
    let Some((reader, gz)) = open_reader(path, &shown, start, &mut out) else {
        return out;
    };
    let mut records = Records::at(reader, start);
    let of = if gz { " of what it decompresses to" } else { "" };
    // A time met twice running is laid out once: a run of empty records (the zeros a crash or
    // a sparse file leaves) all have time 0, and laying it out was most of reading them.
    let (mut previous, mut repeated): (Option<i64>, Option<(i64, String)>) = (None, None);
    loop {
        let at = records.offset();
        let Some(r) = records.next() else { break };
        let r = match r {
            Ok(r) => r,
            Err(d) => {
                let message = format!("{shown}: byte {}{of}: {}", d.offset, d.what);
                // A plain file the system refuses to read is unreadable; a .gz that does not
                // inflate is damaged, as read_json_file says them.
                if d.refused && !gz {
                    out.unreadable.push(message);
                } else {
                    out.damage(message);
                }
                continue;
            }
        };
        let stream = match r.source.as_slice() {
            b"stdout" => Stream::Stdout,
            b"stderr" => Stream::Stderr,
            _ => {
                out.neither_at(at);
                Stream::Neither
            }
        };
        // A piece of a longer line that is not its last: the next piece follows on the same
        // line, as dockerd prints it.
        let ends_line = r.ends_line();
        let mut line = r.line;
        if ends_line {
            line.push(b'\n');
        }
        let time = match &repeated {
            Some((n, text)) if *n == r.time_nano => text.clone(),
            _ => {
                let text = crate::containers::log_window::fixed_nano(r.time_nano);
                if previous == Some(r.time_nano) {
                    repeated = Some((r.time_nano, text.clone()));
                }
                text
            }
        };
        previous = Some(r.time_nano);
        let more = each(Entry {
            stream,
            time,
            at: i128::from(r.time_nano),
            line,
            attrs: Vec::new(),
        });
        if !more {
            // Past --until: dockerd reads no further.
            return out;
        }
    }
    if records.offset().saturating_sub(start) == MAX_LOG_FILE && goes_on(records.into_inner()) {
        let from = if start > 0 {
            format!(" from byte {start}, where --tail starts")
        } else {
            String::new()
        };
        out.damage(format!(
            "{shown}: larger than {MAX_LOG_FILE} bytes{from}; the entries after that are not read"
        ));
    }
    out
}

/// The most a `.gz` local-format file is decompressed into memory to walk back through for
/// `--tail` (the local driver rotates at 20 MB unless told otherwise); past it, the file is
/// named and not tailed.
pub const MAX_TAIL_INFLATED: u64 = 64 << 20;

/// A log file opened to walk back through for `--tail`: a plain file read in place, or a
/// `.gz` one decompressed (at most [`MAX_TAIL_INFLATED`] bytes), as dockerd walks the file it
/// decompresses to. Only its last [`MAX_LOG_FILE`] bytes are walked, as a forward read is
/// bounded (a sparse file of a terabyte would be read back a KiB at a time): offsets given to
/// and taken from it count from where that window starts ([`Backward::base`]).
struct Backward {
    whole: Whole,
    /// Where the window starts in the whole file.
    base: u64,
}

/// What a [`Backward`] reads.
enum Whole {
    Plain(std::fs::File, u64),
    Inflated(Vec<u8>),
}

impl Whole {
    fn len(&self) -> u64 {
        match self {
            Whole::Plain(_, size) => *size,
            Whole::Inflated(bytes) => bytes.len() as u64,
        }
    }
}

impl Backward {
    /// Opens `path` to walk back through: `None`, with why in `out`, when it cannot be opened
    /// or inflated.
    fn open(path: &Path, shown: &str, out: &mut LogRead) -> Option<Backward> {
        let file = open_log(path, shown, out)?;
        let gz = path.extension().is_some_and(|e| e == "gz");
        let whole = if gz {
            let mut inflated = Vec::new();
            let read = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file))
                .take(MAX_TAIL_INFLATED + 1)
                .read_to_end(&mut inflated);
            if let Err(e) = read {
                out.damage(format!(
                    "{shown}: {e} (after {} bytes of what it decompresses to); not tailed",
                    inflated.len()
                ));
                return None;
            }
            if inflated.len() as u64 > MAX_TAIL_INFLATED {
                out.damage(format!(
                    "{shown}: decompresses to more than {MAX_TAIL_INFLATED} bytes, more than coldctr walks back through for --tail; not tailed"
                ));
                return None;
            }
            Whole::Inflated(inflated)
        } else {
            match file.metadata() {
                Ok(m) => Whole::Plain(file, m.len()),
                Err(e) => {
                    out.unreadable.push(format!("{shown}: {e}"));
                    return None;
                }
            }
        };
        Some(Backward {
            base: whole.len().saturating_sub(MAX_LOG_FILE),
            whole,
        })
    }

    /// The window's length.
    fn size(&self) -> u64 {
        self.whole.len() - self.base
    }

    /// Where the window starts in the file: 0 unless the file is longer than [`MAX_LOG_FILE`].
    fn base(&self) -> u64 {
        self.base
    }

    /// Fills `buf` from byte `at` of the window: false when that is past the end or cannot
    /// be read.
    fn read_at(&self, buf: &mut [u8], at: u64) -> bool {
        use std::os::unix::fs::FileExt;
        if at.checked_add(buf.len() as u64).is_none_or(|end| end > self.size()) {
            return false;
        }
        let Some(at) = at.checked_add(self.base) else {
            return false;
        };
        match &self.whole {
            Whole::Plain(file, _) => file.read_exact_at(buf, at).is_ok(),
            Whole::Inflated(bytes) => {
                let from = usize::try_from(at).ok();
                match from.and_then(|from| bytes.get(from..from.checked_add(buf.len())?)) {
                    Some(part) => {
                        buf.copy_from_slice(part);
                        true
                    }
                    None => false,
                }
            }
        }
    }
}

/// Where `docker logs --tail` starts in the local-format file at `path` when `want` records
/// are still wanted, walking back from its end as dockerd does
/// ([`crate::containers::local_log::tail_walk`]): a plain file read in place, a `.gz` one
/// decompressed (at most [`MAX_TAIL_INFLATED`] bytes). `None`, with why in the [`LogRead`],
/// when the file cannot be opened or inflated.
pub fn local_tail_start(path: &Path, want: u64) -> (Option<crate::containers::local_log::TailWalk>, LogRead) {
    use crate::containers::local_log::tail_walk;
    let mut out = LogRead::default();
    let shown = crate::text::escape(path.as_os_str().as_encoded_bytes());
    let Some(file) = Backward::open(path, &shown, &mut out) else {
        return (None, out);
    };
    // At most MAX_TAIL_RECORDS records too (a sparse file of zeros is 8-byte records all the
    // way back through the window).
    let base = file.base();
    let read4 = |at: u64| {
        let mut four = [0u8; 4];
        file.read_at(&mut four, at).then_some(four)
    };
    let walk = match tail_walk(read4, file.size(), want.min(MAX_TAIL_RECORDS)) {
        crate::containers::local_log::TailWalk::From { start, found } => {
            if (start == 0 && base > 0) || (found == MAX_TAIL_RECORDS && want > found) {
                out.damage(format!(
                    "{shown}: --tail walked back {found} records ({} bytes) from the end, as far as coldctr walks; the entries before are not tailed",
                    file.size() - start
                ));
            }
            crate::containers::local_log::TailWalk::From {
                start: start + base,
                found,
            }
        }
        crate::containers::local_log::TailWalk::Broken { offset, what } => {
            crate::containers::local_log::TailWalk::Broken {
                offset: offset + base,
                what,
            }
        }
    };
    (Some(walk), out)
}

/// Records `--tail` walks back over in one local-format file at most: 4 Mi (two 4-byte reads
/// each; dockerd's default `max-size` of 20 MB holds far fewer).
const MAX_TAIL_RECORDS: u64 = 4 << 20;

/// The part of a json-file log `--tail` reads: bytes `start` to `end`, holding the `found`
/// newlines dockerd counted there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineTail {
    pub start: u64,
    pub end: u64,
    pub found: u64,
}

/// The block dockerd's `tailfile` reads back through a file by.
const TAIL_BLOCK: u64 = 1024;

/// dockerd's `tailfile.NewTailReader` over a file of `size` bytes (`read_at` fills a buffer
/// from an offset): where its last `want` lines are, lines being what newlines end, counted
/// from the end as dockerd's scanner counts them. It reads back a 1 KiB block at a time and,
/// after a newline at index i of its block, looks for the next one before index i - 1: a
/// newline right before one found is passed over, unless the one found starts its block (so
/// `"b\n\n\n"` is two lines to it, not three). The part runs from after the newline before
/// the last one counted to after the last newline of the file (bytes after it, a line without
/// its newline, are not read); none counted, it is empty; fewer than `want`, it is the whole
/// file up to there. `None`: a read failed.
pub fn tail_lines(read_at: &dyn Fn(&mut [u8], u64) -> bool, size: u64, want: u64) -> Option<LineTail> {
    /// The scanner's state: `pos` where its block starts in the file, `idx` the newline found
    /// in the block (negative: none).
    #[derive(Clone)]
    struct Back {
        pos: u64,
        idx: i64,
        buf: Vec<u8>,
    }
    let empty = LineTail {
        start: 0,
        end: 0,
        found: 0,
    };
    if size <= 1 || want == 0 {
        return Some(empty);
    }
    let last_newline = |b: &[u8], before: i64| -> i64 {
        let before = usize::try_from(before).unwrap_or(0);
        b.get(..before)
            .and_then(|b| b.iter().rposition(|&c| c == b'\n'))
            .map_or(-1, |i| i as i64)
    };
    // Scan: the next newline back, or false at the file's start.
    let scan = |s: &mut Back| -> Option<bool> {
        loop {
            let mut idx = s.idx - 1;
            if idx < 0 {
                let read = s.pos.min(s.buf.len() as u64);
                if read < 1 {
                    return Some(false);
                }
                let at = s.pos - read;
                let part = s.buf.get_mut(..usize::try_from(read).ok()?)?;
                if !read_at(part, at) {
                    return None;
                }
                s.pos = at;
                idx = read as i64;
            }
            s.idx = last_newline(&s.buf, idx);
            if s.idx >= 0 {
                return Some(true);
            }
        }
    };
    let block = usize::try_from(size.min(TAIL_BLOCK)).ok()?;
    let mut s = Back {
        pos: size,
        idx: 0,
        buf: vec![0; block],
    };
    let (mut found, mut end) = (0u64, size);
    while scan(&mut s)? {
        found += 1;
        if found == 1 {
            end = s.pos + s.idx.unsigned_abs() + 1;
        }
        if found == want {
            break;
        }
    }
    // Where the part starts: after the newline before the last one counted.
    let mut start = {
        let near = if s.idx > 0 { last_newline(&s.buf, s.idx) } else { -1 };
        if near >= 0 {
            s.pos + near.unsigned_abs() + 1
        } else {
            let mut ahead = s.clone();
            if scan(&mut ahead)? {
                ahead.pos + ahead.idx.unsigned_abs() + 1
            } else {
                0
            }
        }
    };
    if found == 0 {
        return Some(empty);
    }
    if found < want {
        start = 0;
    }
    Some(LineTail { start, end, found })
}

/// Where `docker logs --tail` reads the json-file log at `path` when `want` lines are still
/// wanted, as dockerd finds it ([`tail_lines`]): a plain file read in place, a `.gz` one
/// decompressed (at most [`MAX_TAIL_INFLATED`] bytes). `None`, with why in the [`LogRead`],
/// when the file cannot be opened, inflated or read (dockerd 28 passes such a file over).
pub fn json_tail_lines(path: &Path, want: u64) -> (Option<LineTail>, LogRead) {
    let mut out = LogRead::default();
    let shown = crate::text::escape(path.as_os_str().as_encoded_bytes());
    let Some(file) = Backward::open(path, &shown, &mut out) else {
        return (None, out);
    };
    let base = file.base();
    let read_at = |buf: &mut [u8], at: u64| file.read_at(buf, at);
    let tail = tail_lines(&read_at, file.size(), want).map(|t| {
        if base > 0 && t.start == 0 {
            out.damage(format!(
                "{shown}: --tail walked back {MAX_LOG_FILE} bytes from the end, as far as coldctr walks, and found {} lines; the entries before are not tailed",
                t.found
            ));
        }
        LineTail {
            start: t.start + base,
            end: t.end + base,
            found: t.found,
        }
    });
    if tail.is_none() {
        out.unreadable.push(format!(
            "{shown}: could not be read walking back from its end for --tail; passed over"
        ));
    }
    (tail, out)
}

/// One line of a json-file log (its newline included or not): the entry, nothing for an
/// empty line, or why it is none. Read as dockerd's `decodeLogLine` reads it, Go's
/// `encoding/json` into a `jsonlog.JSONLog`: a key names a field exactly or without case (Go
/// folds `ſ` to `s` too), a later key overwrites an earlier one, a `null` leaves the field as
/// it was, a field not there stays as `Reset` left it (no `log`: an empty message, printed as
/// nothing; no `time`: Go's zero time, 0001-01-01T00:00:00Z), other keys are passed over, and
/// strings hold what Go makes of them (invalid UTF-8 and lone surrogate escapes as U+FFFD,
/// [`crate::gostring`]).
pub fn parse_line(raw: &[u8]) -> Result<Option<Entry>, String> {
    let text = raw.strip_suffix(b"\n").unwrap_or(raw);
    if text.is_empty() {
        return Ok(None);
    }
    parse_value(text).map(Some)
}

/// One JSON value of a json-file log as dockerd's `decodeLogLine` decodes it ([`parse_line`]):
/// an object, the entry; `null`, which Go leaves a reset `JSONLog` for, an entry of nothing
/// (no stream, Go's zero time); any other value, or an object Go fails on, why it is none.
pub fn parse_value(text: &[u8]) -> Result<Entry, String> {
    if text == b"null" {
        return entry_of(GoLine::default());
    }
    // A line cut short (a node that stopped mid-write) is said the same way.
    crate::gostring::parse_like_go(text, |b| {
        use serde::de::Deserializer;
        let mut de = serde_json::Deserializer::from_slice(b);
        let l = (&mut de).deserialize_map(GoLineVisitor)?;
        de.end()?;
        Ok(entry_of(l))
    })
    .map_err(|e: serde_json::Error| format!("not a log entry: {e}"))?
}

/// [`parse_value`] of a line that strict JSON takes as one object and whitespace: `None` for
/// anything else (bytes Go reads as U+FFFD, a value of the wrong type, more than one value,
/// not JSON), which is then walked as Go's scanner walks it and decoded by [`parse_value`].
/// What strict JSON takes whole, Go's scanner ends where it ended, and decodes the same.
fn parse_strict_line(line: &[u8]) -> Option<Result<Entry, String>> {
    use serde::de::Deserializer;
    if line.first() != Some(&b'{') {
        return None;
    }
    let mut de = serde_json::Deserializer::from_slice(line);
    let l = (&mut de).deserialize_map(GoLineVisitor).ok()?;
    de.end().ok()?;
    Some(entry_of(l))
}

/// The entry of a line Go's decoder read, or why docker logs would print nothing of it.
fn entry_of(l: GoLine<'_>) -> Result<Entry, String> {
    if let Some(raw) = l.bad_time {
        return Err(format!(
            "time {} is no RFC 3339 time (dockerd's reader stops there)",
            crate::text::escape(raw.as_bytes())
        ));
    }
    // Any other stream (or none): an entry all the same, which docker logs prints nothing of.
    let stream = match l.stream.as_ref() {
        "stdout" => Stream::Stdout,
        "stderr" => Stream::Stderr,
        _ => Stream::Neither,
    };
    let (time, at) = l.time.unwrap_or_else(|| (GO_ZERO_TIME.to_string(), GO_ZERO_TIME_AT));
    Ok(Entry {
        stream,
        time,
        at,
        line: l.log.into_owned().into_bytes(),
        attrs: l.attrs.unwrap_or_default().into_iter().collect(),
    })
}

/// Go's zero `time.Time` as dockerd prints it: an entry without a time has it.
pub const GO_ZERO_TIME: &str = "0001-01-01T00:00:00.000000000Z";

/// [`GO_ZERO_TIME`] in nanoseconds since the Unix epoch: before every `--since`, after no
/// `--until`.
pub const GO_ZERO_TIME_AT: i128 = -62_135_596_800 * 1_000_000_000;

/// A json-file line's fields as Go's decoder leaves them in a reset `jsonlog.JSONLog`.
#[derive(Default)]
struct GoLine<'a> {
    log: std::borrow::Cow<'a, str>,
    stream: std::borrow::Cow<'a, str>,
    /// The time as printed and its instant; `None`: Go's zero time.
    time: Option<(String, i128)>,
    /// Go's `map[string]string`: `None` is a nil map (a `null` sets it so).
    attrs: Option<std::collections::BTreeMap<String, String>>,
    /// A time value Go refused (its JSON text): Go stops decoding there, the line is no entry.
    bad_time: Option<&'a str>,
}

/// The `JSONLog` fields, by their JSON names.
#[derive(Clone, Copy)]
enum GoField {
    Log,
    Stream,
    Time,
    Attrs,
}

/// The field a key names as Go's decoder matches it: the name exactly, else equal under Go's
/// case folding (ASCII letters either case, and `ſ` U+017F for `s`; the names hold no `k`,
/// whose Kelvin sign would fold too). `None`: a key of no field, passed over.
fn go_field(key: &str) -> Option<GoField> {
    const FIELDS: [(&str, GoField); 4] = [
        ("log", GoField::Log),
        ("stream", GoField::Stream),
        ("time", GoField::Time),
        ("attrs", GoField::Attrs),
    ];
    let folds = |name: &str| {
        let mut k = key.chars();
        name.chars().all(|c| {
            k.next()
                .is_some_and(|kc| kc.to_ascii_lowercase() == c && kc.is_ascii() || (c == 's' && kc == '\u{17f}'))
        }) && k.next().is_none()
    };
    FIELDS.iter().find(|(name, _)| folds(name)).map(|&(_, f)| f)
}

/// Reads a key into the field it names, without holding the key.
struct GoKey(Option<GoField>);

impl<'de> serde::Deserialize<'de> for GoKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = GoKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<GoKey, E> {
                Ok(GoKey(go_field(key)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A string field's value: the string, or `None` for `null` (Go leaves the field as it was).
struct GoStr<'a>(Option<std::borrow::Cow<'a, str>>);

impl<'de> serde::Deserialize<'de> for GoStr<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = GoStr<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<GoStr<'de>, E> {
                Ok(GoStr(Some(std::borrow::Cow::Borrowed(s))))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<GoStr<'de>, E> {
                Ok(GoStr(Some(std::borrow::Cow::Owned(s.to_string()))))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<GoStr<'de>, E> {
                Ok(GoStr(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// `attrs`' value: its pairs (a `null` value reads as ""), or `None` for `null`.
struct GoAttrs(Option<Vec<(String, String)>>);

impl<'de> serde::Deserialize<'de> for GoAttrs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = GoAttrs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of strings, or null")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<GoAttrs, E> {
                Ok(GoAttrs(None))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<GoAttrs, A::Error> {
                let mut pairs = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    let GoStr(v) = map.next_value()?;
                    pairs.push((k, v.map(std::borrow::Cow::into_owned).unwrap_or_default()));
                }
                Ok(GoAttrs(Some(pairs)))
            }
        }
        d.deserialize_any(V)
    }
}

/// The line's object, its keys in order.
struct GoLineVisitor;

impl<'de> serde::de::Visitor<'de> for GoLineVisitor {
    type Value = GoLine<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<GoLine<'de>, A::Error> {
        let mut l = GoLine::default();
        while let Some(GoKey(field)) = map.next_key()? {
            if l.bad_time.is_some() {
                // Go stopped at the bad time; the rest is only read through for its syntax.
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            }
            match field {
                Some(GoField::Log) => {
                    if let GoStr(Some(s)) = map.next_value()? {
                        l.log = s;
                    }
                }
                Some(GoField::Stream) => {
                    if let GoStr(Some(s)) = map.next_value()? {
                        l.stream = s;
                    }
                }
                Some(GoField::Time) => {
                    // time.Time's UnmarshalJSON: `null` leaves it; otherwise the value's own
                    // bytes between its quotes, escapes not undone, read as RFC 3339.
                    let raw = map.next_value::<&'de serde_json::value::RawValue>()?.get();
                    if raw == "null" {
                        continue;
                    }
                    match raw
                        .strip_prefix('"')
                        .and_then(|r| r.strip_suffix('"'))
                        .and_then(go_time_at)
                    {
                        Some(t) => l.time = Some(t),
                        None => l.bad_time = Some(raw),
                    }
                }
                Some(GoField::Attrs) => match map.next_value()? {
                    // A second `attrs` adds to the map the first made, as Go decodes into it.
                    GoAttrs(Some(pairs)) => l.attrs.get_or_insert_default().extend(pairs),
                    GoAttrs(None) => l.attrs = None,
                },
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read that reached its bound says "larger" only when the file goes on past it.
    #[test]
    fn a_file_ending_at_the_bound_is_not_larger() {
        use std::io::Read;
        let at_bound = |file: &'static [u8]| {
            let inner: Box<dyn std::io::Read> = Box::new(file);
            let mut reader = std::io::BufReader::new(inner.take(2));
            let mut all = Vec::new();
            reader.read_to_end(&mut all).unwrap_or_default();
            assert_eq!(all, b"ab");
            goes_on(reader)
        };
        assert!(!at_bound(b"ab"));
        assert!(at_bound(b"abc"));
    }

    #[test]
    fn lines_decoded_whole_read_as_values_walked_first() {
        let ok = br#"{"log":"a\n","stream":"stdout","time":"2026-12-05T09:33:16.000000001Z"}"#;
        let mut log = Vec::new();
        for piece in [
            &ok[..],
            // Two values on a line; one over two lines; trailing spaces and CR.
            b"{\"log\":\"b\",\"stream\":\"stderr\"} {\"log\":\"c\",\"stream\":\"stdout\"}",
            b"{\"log\":\"d\",\n\"stream\":\"stdout\"}",
            b"{\"log\":\"e\",\"stream\":\"stdout\"}  \r",
            // Bytes Go reads as U+FFFD; a lone surrogate; a key in another case; a bad time.
            b"{\"log\":\"f\xff\",\"stream\":\"stdout\"}",
            b"{\"log\":\"g\\ud800\",\"stream\":\"stdout\"}",
            b"{\"LOG\":\"h\",\"Stream\":\"stdout\"}",
            b"{\"log\":\"i\",\"stream\":\"stdout\",\"time\":\"yesterday\"}",
            // A value of the wrong type, a line cut short, null, a number, a stray word.
            b"{\"log\":5,\"stream\":\"stdout\"}",
            b"{\"log\":\"j\",\"str",
            b"null",
            b"12",
            b"nonsense",
            // A raw control byte in a string; an object with a duplicate key; deep nesting.
            b"{\"log\":\"k\x01\",\"stream\":\"stdout\"}",
            b"{\"log\":\"l\",\"log\":\"m\",\"stream\":\"stdout\"}",
            &[&b"{\"attrs\":"[..], &[b'['; 200], &[b']'; 200], b",\"log\":\"n\"}"].concat(),
            &ok[..],
        ] {
            log.extend_from_slice(piece);
            log.push(b'\n');
        }
        for capacity in [7, 64, 200, 64 << 10] {
            let (walked, walked_said) = read_json_bytes(&log, capacity, false);
            let (whole, whole_said) = read_json_bytes(&log, capacity, true);
            assert_eq!(whole, walked, "capacity {capacity}");
            assert_eq!(whole_said.damaged, walked_said.damaged, "capacity {capacity}");
            assert_eq!(whole_said.neither, walked_said.neither, "capacity {capacity}");
            // What is there to find, as Go reads it: `null` an entry of nothing, the last
            // duplicate key's value; the time, the number, the type, the cut line, the stray
            // word, the control byte and the attrs that are no map named.
            let lines: Vec<&[u8]> = walked.iter().map(|e| e.line.as_slice()).collect();
            let want: [&[u8]; 11] = [
                b"a\n",
                b"b",
                b"c",
                b"d",
                b"e",
                "f\u{fffd}".as_bytes(),
                "g\u{fffd}".as_bytes(),
                b"h",
                b"",
                b"m",
                b"a\n",
            ];
            assert_eq!(lines, want);
            assert_eq!(walked_said.damaged.len(), 7, "{:#?}", walked_said.damaged);
        }
    }

    #[test]
    fn the_instant_of_one_parse_is_the_printed_times() {
        for t in [
            "2026-11-29T18:51:59.49008007Z",
            "2026-11-29T18:51:59Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.999999999Z",
            "2024-02-29T23:30:00.5+05:30",
            "2024-03-01T01:00:00.123456789123-08:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999-00:00",
        ] {
            let (text, at) = go_time_at(t).unwrap_or_else(|| panic!("{t}"));
            assert_eq!(Some(text.clone()), go_time(t), "{t}");
            assert_eq!(Some(at), crate::containers::log_window::instant(&text), "{t}");
        }
    }

    #[test]
    fn times_are_laid_out_as_go_prints_them_and_refused_where_go_refuses() {
        let t = |s: &str| go_time(s);
        assert_eq!(
            t("2026-11-29T18:51:59.49008007Z").as_deref(),
            Some("2026-11-29T18:51:59.490080070Z")
        );
        assert_eq!(
            t("2026-11-29T18:51:59Z").as_deref(),
            Some("2026-11-29T18:51:59.000000000Z")
        );
        assert_eq!(
            t("2026-11-29T18:51:59.5+01:00").as_deref(),
            Some("2026-11-29T18:51:59.500000000+01:00")
        );
        // A zero offset prints Z; digits past nine are cut.
        assert_eq!(
            t("2026-11-29T18:51:59.5+00:00").as_deref(),
            Some("2026-11-29T18:51:59.500000000Z")
        );
        assert_eq!(
            t("2026-11-29T18:51:59.1234567891Z").as_deref(),
            Some("2026-11-29T18:51:59.123456789Z")
        );
        assert_eq!(
            t("2024-02-29T00:00:00Z").as_deref(),
            Some("2024-02-29T00:00:00.000000000Z")
        );
        // What Go's time.Parse(RFC3339) takes besides (`time.Time.UnmarshalJSON` in Go 1.19
        // and 1.23 alike): a one-digit hour, a comma before the fraction, an offset of 24
        // hours or 60 minutes; printed back as Go's Format prints it.
        assert_eq!(
            t("2026-12-05T9:33:16Z").as_deref(),
            Some("2026-12-05T09:33:16.000000000Z")
        );
        assert_eq!(
            t("2026-12-05T09:33:17,5Z").as_deref(),
            Some("2026-12-05T09:33:17.500000000Z")
        );
        assert_eq!(
            go_time_at("2026-12-05T09:33:18+24:00"),
            Some((
                "2026-12-05T09:33:18.000000000+24:00".to_string(),
                1_796_376_798_000_000_000
            ))
        );
        assert_eq!(
            t("2026-12-05T09:33:18-00:60").as_deref(),
            Some("2026-12-05T09:33:18.000000000-01:00")
        );
        assert_eq!(
            t("2026-11-29T18:51:59+24:01").as_deref(),
            Some("2026-11-29T18:51:59.000000000+24:01")
        );
        // Go 1.19 took any two digits (`+99:99`, printed `+100:39`); docker 28's Go does not.
        assert_eq!(t("2026-11-29T18:51:59+99:99"), None);
        for bad in [
            "yesterday",
            "2026-99-99T99:99:99Z",
            "2026-02-29T00:00:00Z",
            "2026-11-29T18:51:60Z",
            "2026-11-29T18:51:59.Z",
            "2026-11-29T18:51:59",
            "2026-11-29 18:51:59Z",
            "2026-11-29T18:51:59+0100",
            "2026-11-29T18:51:59+25:00",
            "2026-11-29T018:51:59Z",
            "2026-11-29T18:51:59,Z",
            "2026-11-29T18:51:59Zjunk",
            "٢٠٢٦-11-29T18:51:59Z",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn lines_that_are_no_entry_say_why() {
        let ok = parse_line(b"{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-01T00:00:00Z\"}\n");
        assert_eq!(
            ok,
            Ok(Some(Entry {
                stream: Stream::Stdout,
                time: "2026-01-01T00:00:00.000000000Z".into(),
                at: 1_767_225_600_000_000_000,
                line: b"a\n".to_vec(),
                attrs: Vec::new(),
            }))
        );
        assert_eq!(parse_line(b"\n"), Ok(None));
        let why = |raw: &[u8]| parse_line(raw).err().unwrap_or_default();
        assert!(why(b"{\"log\":\"b").starts_with("not a log entry"));
        // Another stream is an entry all the same, of neither.
        let tty = parse_line(b"{\"log\":\"d\",\"stream\":\"tty\",\"time\":\"2026-01-01T00:00:00Z\"}");
        assert_eq!(tty.map(|e| e.map(|e| e.stream)), Ok(Some(Stream::Neither)));
        assert!(why(b"{\"log\":\"d\",\"stream\":\"stdout\",\"time\":\"later\"}").contains("no RFC 3339 time"));
    }

    #[test]
    fn lines_are_read_as_go_s_decoder_reads_them() {
        let entry = |raw: &str| {
            parse_line(raw.as_bytes())
                .unwrap_or_else(|e| panic!("{raw}: {e}"))
                .unwrap()
        };
        let t = "\"2026-01-01T00:00:00Z\"";
        // Keys without case, and ſ for s; the last of two keys for one field wins.
        let e = entry(&format!("{{\"LoG\":\"a\",\"\u{17f}TREAM\":\"stderr\",\"Time\":{t}}}"));
        assert_eq!((e.line.as_slice(), e.stream), (&b"a"[..], Stream::Stderr));
        let e = entry(&format!(
            "{{\"log\":\"a\",\"LOG\":\"b\",\"stream\":\"stdout\",\"time\":{t}}}"
        ));
        assert_eq!(e.line, b"b");
        // A key is matched once unescaped; one that only looks like a field is passed over.
        let e = entry(&format!(
            "{{\"\\u006cog\":\"c\",\"logs\":\"x\",\"stream\":\"stdout\",\"time\":{t}}}"
        ));
        assert_eq!(e.line, b"c");
        // No log, or null: empty. No time, or null first: Go's zero time, before everything.
        let e = entry("{\"stream\":\"stdout\",\"log\":null}");
        assert_eq!(
            (e.line.len(), e.time.as_str(), e.at),
            (0, GO_ZERO_TIME, GO_ZERO_TIME_AT)
        );
        assert_eq!(
            go_time_at("0001-01-01T00:00:00Z"),
            Some((GO_ZERO_TIME.into(), GO_ZERO_TIME_AT))
        );
        // A null keeps what an earlier key gave.
        let e = entry(&format!(
            "{{\"log\":\"d\",\"stream\":\"stdout\",\"time\":{t},\"time\":null,\"log\":null}}"
        ));
        assert_eq!((e.line.as_slice(), e.at), (&b"d"[..], 1_767_225_600_000_000_000));
        // Attrs: a second object adds to the first's map; null empties it; a null value is "".
        let e = entry("{\"stream\":\"stdout\",\"attrs\":{\"a\":\"1\",\"b\":\"2\"},\"ATTRS\":{\"b\":\"3\",\"c\":null}}");
        assert_eq!(e.details(), "a=1,b=3,c=");
        let e = entry("{\"stream\":\"stdout\",\"attrs\":{\"a\":\"1\"},\"attrs\":null}");
        assert_eq!(e.details(), "");
        // Strings as Go makes them: one U+FFFD a bad byte, one a lone surrogate escape.
        let e = entry("{\"stream\":\"stdout\",\"log\":\"\\ud800\\u0041 \u{e9}\"}");
        assert_eq!(e.line, "\u{fffd}A \u{e9}".as_bytes());
        let e = parse_line(b"{\"stream\":\"stdout\",\"log\":\"\xe2\x82x\"}")
            .unwrap()
            .unwrap();
        assert_eq!(e.line, "\u{fffd}\u{fffd}x".as_bytes());
    }

    #[test]
    fn lines_go_fails_on_are_no_entry() {
        let why = |raw: &str| parse_line(raw.as_bytes()).err().unwrap_or_default();
        // time.Time reads the value's own bytes: an escape in it, a number, are no time; and a
        // bad time fails the line though a good one follows (Go stops decoding there).
        assert!(why("{\"stream\":\"stdout\",\"time\":\"2026-01-01T00:00:0\\u0030Z\"}").contains("no RFC 3339 time"));
        assert!(why("{\"stream\":\"stdout\",\"time\":5}").contains("time 5 is no RFC 3339 time"));
        assert!(
            why("{\"stream\":\"stdout\",\"time\":\"later\",\"time\":\"2026-01-01T00:00:00Z\"}")
                .contains("time \"later\" is no RFC 3339 time")
        );
        // A value of another type (Go's UnmarshalTypeError fails the Decode).
        assert!(why("{\"stream\":\"stdout\",\"log\":5}").starts_with("not a log entry: invalid type"));
        assert!(why("{\"stream\":\"stdout\",\"attrs\":{\"a\":1}}").starts_with("not a log entry"));
        assert!(why("{\"stream\":\"stdout\",\"attrs\":[]}").starts_with("not a log entry"));
        // No stream: an entry dockerd sends to neither.
        assert_eq!(
            parse_line(b"{\"log\":\"a\"}").map(|e| e.map(|e| e.stream)),
            Ok(Some(Stream::Neither))
        );
        assert!(why("[]").starts_with("not a log entry"));
    }

    #[test]
    fn tail_lines_counts_newlines_back_as_dockerd_s_scanner_does() {
        fn tail(data: &[u8], want: u64) -> (&[u8], u64) {
            let read = |buf: &mut [u8], at: u64| {
                let at = usize::try_from(at).unwrap();
                buf.copy_from_slice(&data[at..at + buf.len()]);
                true
            };
            let t = tail_lines(&read, data.len() as u64, want).unwrap();
            (&data[t.start as usize..t.end as usize], t.found)
        }
        // A newline right before one found is passed over: "b\n\n\n" ends in two lines.
        let d = b"a\nb\n\n\n";
        assert_eq!(tail(d, 1), (&b"\n"[..], 1));
        assert_eq!(tail(d, 2), (&b"b\n\n\n"[..], 2));
        assert_eq!(tail(d, 3), (&d[..], 3));
        assert_eq!(tail(d, 9), (&d[..], 3));
        // What follows the last newline is not read; no newline, nothing.
        assert_eq!(tail(b"a\nb", 5), (&b"a\n"[..], 1));
        assert_eq!(tail(b"ab", 5), (&b""[..], 0));
        assert_eq!(tail(b"\n", 5), (&b""[..], 0));
        // At a block's start the newline before is found: counted.
        let mut d = vec![b'x'; 3000];
        let size = d.len();
        d[size - 1] = b'\n';
        d[size - 1024] = b'\n';
        d[size - 1025] = b'\n';
        d[100] = b'\n';
        assert_eq!(tail(&d, 2).0.len(), 1024);
        assert_eq!(tail(&d, 3), (&d[101..], 3));
        assert_eq!(tail(&d, 4), (&d[..], 4));
        // Away from a block's start, it is passed over.
        d[size - 1024] = b'x';
        d[size - 500] = b'\n';
        d[size - 501] = b'\n';
        assert_eq!(tail(&d, 2).0.len(), 500);
        assert_eq!(tail(&d, 3).0.len(), size - 101);
    }

    #[test]
    fn rotated_files_are_those_dockerd_opens_gaps_skipped() {
        let t = tempfile::tempdir().unwrap();
        let id = "c";
        for name in ["c-json.log", "c-json.log.2", "c-json.log.3.gz", "c-json.log.5"] {
            std::fs::write(t.path().join(name), b"").unwrap();
        }
        let names = |ps: Vec<PathBuf>| -> Vec<String> {
            ps.iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        let (read, beyond) = json_file_paths(t.path(), id, 4);
        assert_eq!(names(read), ["c-json.log.3.gz", "c-json.log.2", "c-json.log"]);
        assert_eq!(names(beyond), ["c-json.log.5"]);
        // No max-file: only the current file is read; the rotated ones are named apart.
        let (read, beyond) = json_file_paths(t.path(), id, max_files(None));
        assert_eq!(names(read), ["c-json.log"]);
        assert_eq!(names(beyond), ["c-json.log.2", "c-json.log.3.gz"]);
        assert_eq!(max_files(Some("3")), 3);
        assert_eq!(max_files(Some("x")), 1);
    }
}
