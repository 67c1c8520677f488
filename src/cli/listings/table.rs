//! Output helpers of the listings: aligned tables whose every cell is escaped, and the
//! human-readable sizes and ages `ctr` prints.

use crate::text::escape;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// A table for people: a header and rows, columns padded to their widest cell. Every cell is
/// escaped on the way in, so nothing from the data reaches the terminal raw.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&'static str]) -> Table {
        Table {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row of cells from the data; each is escaped. An empty cell prints as `-`, so
    /// that every row has every column when split on whitespace.
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) {
        self.rows.push(cells.iter().map(|c| cell(c.as_ref())).collect());
    }

    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, c) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(c.chars().count());
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

/// Labels as `ctr` prints them: `k=v` pairs sorted, joined by commas; `-` for none.
pub fn labels(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "-".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// go-units `HumanSize` (what `ctr content ls` prints): decimal units, `%.4g`.
pub fn human_size(size: i64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut v = size as f64;
    let mut i = 0;
    while v.abs() >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    format!("{}{}", go_g4(v), UNITS.get(i).copied().unwrap_or("B"))
}

/// Go's `%.4g` for values whose exponent is below 4 (what `human_size` produces).
fn go_g4(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    // The decimal exponent after rounding to 4 significant digits.
    let sci = format!("{v:.3e}");
    let exp: i32 = sci.rsplit('e').next().and_then(|e| e.parse().ok()).unwrap_or(0);
    if !(-4..4).contains(&exp) {
        // Go: mantissa without trailing zeros, exponent with a sign and at least two digits.
        let (mant, _) = sci.split_once('e').unwrap_or((&sci, ""));
        let mant = trim_fraction(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.unsigned_abs());
    }
    let decimals = usize::try_from(3 - exp).unwrap_or(0);
    trim_fraction(&format!("{v:.decimals$}")).to_string()
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// containerd's `progress.Bytes` (what `ctr images ls`/`check` print: `11.0 KiB`), without
/// the space, so that a table column stays one word.
pub fn binary_size(size: i64) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut v = size as f64;
    let mut i = 0;
    while v.abs() >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1}{}", UNITS.get(i).copied().unwrap_or("B"))
}

/// go-units `HumanDuration` (what `ctr content ls` prints as AGE).
pub fn human_duration(seconds: i64) -> String {
    let hours = (seconds as f64 / 3600.0).round() as i64;
    match seconds {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        s if s / 60 == 1 => "About a minute".into(),
        s if s / 60 < 60 => format!("{} minutes", s / 60),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        s => format!("{} years", s / 3600 / 24 / 365),
    }
}

/// Seconds since the Unix epoch of an RFC 3339 time as records print it
/// (`2026-11-27T17:36:52.66184832Z`, or with a `+hh:mm` offset).
pub fn unix_seconds(t: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| t.get(r).and_then(|s| s.parse::<i64>().ok());
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if t.get(4..5)? != "-" || t.get(10..11)? != "T" {
        return None;
    }
    let rest = t
        .get(19..)?
        .trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match rest {
        "Z" => 0,
        r if r.len() == 6 => {
            let sign = if r.starts_with('-') { -1 } else { 1 };
            sign * (r.get(1..3)?.parse::<i64>().ok()? * 3600 + r.get(4..6)?.parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset)
}

/// RFC 3339 without the fraction, as `ctr leases ls` prints CREATED AT (we keep UTC).
pub fn rfc3339_seconds(t: &str) -> String {
    match t.find('.') {
        Some(dot) => {
            let tail = t
                .get(dot + 1..)
                .unwrap_or("")
                .trim_start_matches(|c: char| c.is_ascii_digit());
            format!("{}{tail}", t.get(..dot).unwrap_or(t))
        }
        None => t.to_string(),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Now, in seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

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
        assert_eq!(binary_size(702), "702.0B");
        assert_eq!(binary_size(8806), "8.6KiB");
    }

    #[test]
    fn durations_like_go_units() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(45), "45 seconds");
        assert_eq!(human_duration(90), "About a minute");
        assert_eq!(human_duration(52 * 60), "52 minutes");
        assert_eq!(human_duration(3600), "About an hour");
        assert_eq!(human_duration(5 * 3600), "5 hours");
        assert_eq!(human_duration(3 * 86400), "3 days");
        assert_eq!(human_duration(20 * 86400), "2 weeks");
        assert_eq!(human_duration(90 * 86400), "3 months");
        assert_eq!(human_duration(800 * 86400), "2 years");
    }

    #[test]
    fn parses_record_times() {
        assert_eq!(unix_seconds("2023-11-14T22:13:20.000000123Z"), Some(1_700_000_000));
        assert_eq!(unix_seconds("2023-11-14T16:43:20.12-05:30"), Some(1_700_000_000));
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("garbage"), None);
        assert_eq!(
            rfc3339_seconds("2026-11-27T17:44:42.270336375Z"),
            "2026-11-27T17:44:42Z"
        );
        assert_eq!(rfc3339_seconds("2026-11-27T17:44:42Z"), "2026-11-27T17:44:42Z");
    }

    #[test]
    fn cells_are_escaped_and_never_empty() {
        let mut t = Table::new(&["A", "B"]);
        t.row(&["x\x1b[2J", ""]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "A          B\nx\\x1b[2J   -\n");
    }
}
