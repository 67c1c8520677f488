//! Output helpers of the listings (and of `du`, `gc`, `verify`): aligned tables whose every
//! cell is escaped, the one size convention of every table, and times.
//!
//! Conventions, the same in every table:
//! - **Sizes**: go-units `HumanSize`, decimal (kB = 1000 B, MB = 10^6 B, ...), 4 significant
//!   digits, as `ctr content ls` and `docker system df` print them; the header says so
//!   ([`size_header`]). JSON always has exact byte counts.
//! - **IDs** (listings): every `sha256:<64 hex>` digest and every bare 64-hex ID in a cell
//!   prints as its first 12 hex digits, as docker's `TruncateID` shortens image and container
//!   IDs; `--no-trunc` prints them whole ([`Table::truncating`]).
//! - **Times**: RFC 3339 in UTC to the second (`2026-11-27T17:36:52Z`), never an age relative
//!   to the examiner's clock ([`utc_seconds`]).

use crate::containerd::gotime::parse_rfc3339;
use crate::text::{escape, one_line};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The widest cell a column is padded to: real names (a reference is at most 255 characters
/// plus its tag) fit; a wider one overflows its own row.
pub const WIDEST_PADDED: usize = 1024;

/// A table for people: a header and rows, columns padded to their widest cell. Every cell is
/// escaped on the way in, so nothing from the data reaches the terminal raw.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    /// Shorten digests and IDs, and cut the cells of `limits` to their width.
    truncate: bool,
    /// The widest a cell of a column may be when truncating (by column index).
    limits: Vec<Option<usize>>,
    /// Columns whose cells are record names as [`key_name`](crate::containerd::records::key_name)
    /// writes them (or text already escaped): escaping them again would double their
    /// backslashes, and the printed name would no longer select the record.
    names: Vec<bool>,
    /// Columns never shortened or cut: record names, so that a printed name selects its
    /// record (`docker.io/x@sha256:<64 hex>` is a name, not an ID to shorten).
    whole: Vec<bool>,
}

impl Table {
    pub fn new(header: &[&'static str]) -> Table {
        Table {
            header: header.to_vec(),
            rows: Vec::new(),
            truncate: false,
            limits: Vec::new(),
            names: Vec::new(),
            whole: Vec::new(),
        }
    }

    /// A table that, when `truncate` is on (no `--no-trunc`), shortens digests and IDs to 12
    /// hex digits ([`short_ids`]) and cuts the cells of the columns given to [`Table::limit`].
    pub fn truncating(header: &[&'static str], truncate: bool) -> Table {
        Table {
            truncate,
            ..Table::new(header)
        }
    }

    /// When truncating, cells of column `name` longer than `max` characters end in `…`.
    pub fn limit(mut self, name: &str, max: usize) -> Table {
        if let Some(i) = self.header.iter().position(|h| *h == name) {
            if self.limits.len() <= i {
                self.limits.resize(i + 1, None);
            }
            if let Some(l) = self.limits.get_mut(i) {
                *l = Some(max.max(2));
            }
        }
        self
    }

    /// The columns `names` hold record names or already escaped text: only what would reach
    /// the terminal raw (control characters, bidirectional overrides) is escaped in them.
    pub fn names(mut self, names: &[&str]) -> Table {
        flag(&self.header, &mut self.names, names);
        self
    }

    /// The columns `names` hold names of records ([`Table::names`]) that are printed whole,
    /// never shortened or cut.
    pub fn whole_names(mut self, names: &[&str]) -> Table {
        self = self.names(names);
        flag(&self.header, &mut self.whole, names);
        self
    }

    /// Adds a row of cells from the data; each is escaped (once: see [`Table::names`]). An empty cell prints as `-`, so
    /// that every row has every column when split on whitespace.
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) {
        let row = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let cell = |s: &str| match self.names.get(i) {
                    Some(true) => name_cell(s),
                    _ => cell(s),
                };
                if !self.truncate || self.whole.get(i) == Some(&true) {
                    return cell(c.as_ref());
                }
                let text = cell(&short_ids(c.as_ref()));
                match self.limits.get(i).copied().flatten() {
                    Some(max) if text.chars().count() > max => {
                        let mut cut: String = text.chars().take(max - 1).collect();
                        cut.push('…');
                        cut
                    }
                    _ => text,
                }
            })
            .collect();
        self.rows.push(row);
    }

    /// Writes the header and rows, each column padded to its widest cell of at most
    /// [`WIDEST_PADDED`] characters.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, c) in row.iter().enumerate() {
                // A cell wider than any a column is padded to overflows its row alone: one
                // name of megabytes (a torn or crafted key) padded every row to its width.
                let n = c.chars().count();
                if let Some(w) = widths.get_mut(i)
                    && n <= WIDEST_PADDED
                {
                    *w = (*w).max(n);
                }
            }
        }
        let header: Vec<String> = self.header.iter().map(|h| h.to_string()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            let last = row.len().saturating_sub(1);
            for (i, c) in row.iter().enumerate() {
                line.push_str(c);
                if i < last {
                    let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(c.chars().count());
                    line.extend(std::iter::repeat_n(' ', pad + 3));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

fn cell(s: &str) -> String {
    if s.is_empty() { "-".into() } else { escape(s.as_bytes()) }
}

/// Sets `flags` (by column) for the columns of `header` named in `names`.
fn flag(header: &[&str], flags: &mut Vec<bool>, names: &[&str]) {
    for name in names {
        if let Some(i) = header.iter().position(|h| h == name) {
            if flags.len() <= i {
                flags.resize(i + 1, false);
            }
            if let Some(f) = flags.get_mut(i) {
                *f = true;
            }
        }
    }
}

/// A cell of a [`Table::names`] column.
fn name_cell(s: &str) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        one_line(s).into_owned()
    }
}

/// Labels as `ctr` prints them: `k=v` pairs sorted, joined by commas; `-` for none. The text
/// is escaped already (a key is a record name, a value data), so its column goes to
/// [`Table::names`].
pub fn labels(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "-".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{}={}", one_line(k), escape(v.as_bytes())))
        .collect::<Vec<_>>()
        .join(",")
}

/// The header of a size column, naming the unit convention: `SIZE(kB=1000B)`.
pub fn size_header(name: &'static str) -> &'static str {
    match name {
        "SIZE" => "SIZE(kB=1000B)",
        "CONTENT" => "CONTENT(kB=1000B)",
        "UNPACKED" => "UNPACKED(kB=1000B)",
        "BYTES" => "BYTES(kB=1000B)",
        other => other,
    }
}

/// `s` with every `sha256:<64 hex>` digest and every bare run of exactly 64 hex digits cut to
/// its first 12 hex digits (docker's `stringid.TruncateID`, which also drops the algorithm).
pub fn short_ids(s: &str) -> String {
    const PREFIX: &str = "sha256:";
    let b = s.as_bytes();
    let is_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    let is_word = |c: u8| c.is_ascii_alphanumeric();
    let hex_run = |from: usize| {
        b.get(from..)
            .map_or(0, |r| r.iter().take_while(|c| is_hex(**c)).count())
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        let starts_word = i == 0 || b.get(i - 1).is_none_or(|c| !is_word(*c));
        if !starts_word {
            i += 1;
            continue;
        }
        let skip = if s.get(i..).is_some_and(|r| r.starts_with(PREFIX)) {
            PREFIX.len()
        } else {
            0
        };
        let run = hex_run(i + skip);
        let ends_word = b.get(i + skip + run).is_none_or(|c| !is_word(*c));
        if run == 64 && ends_word {
            out.push_str(s.get(copied..i).unwrap_or(""));
            out.push_str(s.get(i + skip..i + skip + 12).unwrap_or(""));
            i += skip + 64;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(s.get(copied..).unwrap_or(""));
    out
}

/// go-units `HumanSize` (what `ctr content ls` prints): decimal units, `%.4g`.
pub fn human_size(size: i64) -> String {
    human_size_with_precision(size, 4)
}

/// go-units `HumanSizeWithPrecision(size, precision)`: decimal units (kB = 1000 B), the
/// number as Go's `%.{precision}g` prints it. `docker ps --size` uses precision 3
/// (`61.4kB (virtual 2.36MB)`).
pub fn human_size_with_precision(size: i64, precision: usize) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut v = size as f64;
    let mut i = 0;
    // go-units divides while the size is at least the base: a negative size (damaged data)
    // stays in bytes, `-1.5e+06B`.
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    format!("{}{}", go_g(v, precision), UNITS.get(i).copied().unwrap_or("B"))
}

/// Go's `%.{precision}g` for values whose exponent is small (what `human_size` produces).
fn go_g(v: f64, precision: usize) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let precision = precision.clamp(1, 17);
    // The decimal exponent after rounding to `precision` significant digits.
    let sci = format!("{v:.*e}", precision - 1);
    let exp: i32 = sci.rsplit('e').next().and_then(|e| e.parse().ok()).unwrap_or(0);
    let p = i32::try_from(precision).unwrap_or(17);
    if exp < -4 || exp >= p {
        // Go: mantissa without trailing zeros, exponent with a sign and at least two digits.
        let (mant, _) = sci.split_once('e').unwrap_or((&sci, ""));
        let mant = trim_fraction(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.unsigned_abs());
    }
    let decimals = usize::try_from(p - 1 - exp).unwrap_or(0);
    trim_fraction(&format!("{v:.decimals$}")).to_string()
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Nanoseconds since the Unix epoch of an RFC 3339 time, for exact comparisons.
pub fn unix_nanos(t: &str) -> Option<i128> {
    parse_rfc3339(t).map(|g| g.unix_nanos())
}

pub use crate::containerd::gotime::utc_seconds;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_go_units() {
        for (n, want) in [
            (1723, "1.723kB"),
            (330, "330B"),
            (11360, "11.36kB"),
            (4096, "4.096kB"),
            (3320, "3.32kB"),
            (90590, "90.59kB"),
            (0, "0B"),
            (1000, "1kB"),
            (999_999, "1000kB"),
            (1_500_000, "1.5MB"),
        ] {
            assert_eq!(human_size(n), want, "{n}");
        }
    }

    #[test]
    fn sizes_with_precision_three_like_docker_ps() {
        for (n, want) in [
            (61440, "61.4kB"),
            (2_355_200, "2.36MB"),
            (4096, "4.1kB"),
            (143_360, "143kB"),
            (8192, "8.19kB"),
            (4_378_624, "4.38MB"),
            (0, "0B"),
            (999, "999B"),
            // Go's %.3g of 999.5 rounds up to an exponent it prints in e-notation.
            (999_500, "1e+03kB"),
            (1_000_000, "1MB"),
        ] {
            assert_eq!(human_size_with_precision(n, 3), want, "{n}");
        }
    }

    #[test]
    fn ids_are_cut_like_truncate_id() {
        let hex = "1405e102bbab4dc94942f087a84294adb1fba75d24bb86c3aa1a7f593fcbeb1a";
        assert_eq!(short_ids(&format!("sha256:{hex}")), "1405e102bbab");
        assert_eq!(short_ids(hex), "1405e102bbab");
        assert_eq!(short_ids(&format!("{hex}-init")), "1405e102bbab-init");
        assert_eq!(
            short_ids(&format!("a=sha256:{hex},b=sha256:{hex}")),
            "a=1405e102bbab,b=1405e102bbab"
        );
        assert_eq!(
            short_ids(&format!("moby-dangling@sha256:{hex}")),
            "moby-dangling@1405e102bbab"
        );
        // Not a whole 64-hex word: left alone.
        assert_eq!(short_ids(&format!("{hex}0")), format!("{hex}0"));
        assert_eq!(short_ids(&format!("x{hex}")), format!("x{hex}"));
        assert_eq!(short_ids("sha256:abc"), "sha256:abc");
        assert_eq!(short_ids("é sha256:"), "é sha256:");
    }

    #[test]
    fn truncating_tables_cut_limited_columns() {
        let hex = "1405e102bbab4dc94942f087a84294adb1fba75d24bb86c3aa1a7f593fcbeb1a";
        let mut t = Table::truncating(&["ID", "LABELS"], true).limit("LABELS", 6);
        t.row(&[format!("sha256:{hex}"), "k=verylong".into()]);
        t.row(&["x".to_string(), "k=v".into()]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ID             LABELS\n1405e102bbab   k=ver…\nx              k=v\n"
        );
        let mut t = Table::truncating(&["ID", "LABELS"], false).limit("LABELS", 6);
        t.row(&[format!("sha256:{hex}"), "k=verylong".into()]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains(&format!("sha256:{hex}   k=verylong"))
        );
    }

    #[test]
    fn parses_record_times() {
        assert_eq!(
            unix_nanos("2023-11-14T22:13:20.000000123Z"),
            Some(1_700_000_000_000_000_123)
        );
        assert_eq!(
            unix_nanos("2023-11-14T16:43:20.12-05:30"),
            Some(1_700_000_000_120_000_000)
        );
        assert_eq!(unix_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_nanos("garbage"), None);
        assert_eq!(unix_nanos("2023-11-14T22:13:20.Z"), None);
        assert_eq!(unix_nanos("1970-01-01T00:00:01.5Z"), Some(1_500_000_000));
        assert_eq!(unix_nanos("1970-01-01T00:00:00.000000001Z"), Some(1));
        assert_eq!(utc_seconds("2026-11-27T17:44:42.270336375Z"), "2026-11-27T17:44:42Z");
        assert_eq!(utc_seconds("2026-11-27T17:44:42Z"), "2026-11-27T17:44:42Z");
        // An offset is turned into UTC.
        assert_eq!(utc_seconds("2023-11-14T16:43:20.12-05:30"), "2023-11-14T22:13:20Z");
        assert_eq!(utc_seconds("2024-02-29T23:59:59+00:00"), "2024-02-29T23:59:59Z");
        assert_eq!(utc_seconds("1969-12-31T23:59:59Z"), "1969-12-31T23:59:59Z");
        assert_eq!(utc_seconds("garbage"), "garbage");
    }

    #[test]
    fn cells_are_escaped_and_never_empty() {
        let mut t = Table::new(&["A", "B"]);
        t.row(&["x\x1b[2J", ""]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "A          B\nx\\x1b[2J   -\n");
    }

    /// A name holding a digest (`repo@sha256:<64 hex>`, CRI's and `moby-dangling@` records)
    /// prints whole in a truncating table, where IDs in other columns are shortened (sweep 26:
    /// the printed name selected nothing).
    #[test]
    fn whole_names_are_never_shortened() {
        let hex = "1405e102bbab0f2a5e0e8f1d6bc1e6a5d8c4d1c0b7f6e5d4c3b2a19080706050";
        let name = format!("docker.io/lab/beta@sha256:{hex}");
        let mut t = Table::truncating(&["NAME", "DIGEST"], true).whole_names(&["NAME"]);
        t.row(&[name.clone(), format!("sha256:{hex}")]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let row: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(row, [name.as_str(), "1405e102bbab"]);
    }

    #[test]
    fn name_cells_keep_the_form_that_selects_the_record() {
        use crate::containerd::records::{key_bytes, key_name};
        let raw: [&[u8]; 4] = [b"n\xff", b"a\\b", b"e\x1b[2J", b"t\\x1b"];
        let mut t = Table::new(&["NAME", "DATA", "LABELS"]).names(&["NAME", "LABELS"]);
        let mut labels = BTreeMap::new();
        labels.insert(key_name(b"k\xff"), "v\\\x1b".to_string());
        for r in raw {
            t.row(&[key_name(r), key_name(r), self::labels(&labels)]);
        }
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split_whitespace().collect()).collect();
        let names: Vec<&str> = rows.iter().map(|r| r[0]).collect();
        assert_eq!(names, ["n\\xff", "a\\\\b", "e\\x1b[2J", "t\\\\x1b"]);
        // Each printed name gives its record's bytes back, and no two print alike.
        for (printed, r) in names.iter().zip(raw) {
            assert_eq!(&*key_bytes(printed), r);
        }
        // A data column escapes what it is given, backslashes included.
        assert_eq!(rows[0][1], "n\\\\xff");
        // A label key is a name, its value data.
        assert_eq!(rows[0][2], "k\\xff=v\\\\\\x1b");
        assert!(!text.contains('\x1b'));
    }
}
