//! `docker logs --since` and `--until`: the times the docker CLI accepts, read as it reads
//! them (`GetTimestamp` of the API's `types/time` package, then the daemon's
//! `ParseTimestamps`), and the instants log entries carry.
//!
//! ```text
//!  10m, 1h30m, -5s, 1.5h     a Go duration: that long before now (the examiner's clock), cut
//!                            to the whole second, as the CLI sends it
//!  2026-12-05T09:33:16.735285470Z, 2026-12-05T09:33:16+01:00
//!                            RFC 3339 (with or without fraction)
//!  2026-12-05T09:33:16, 2026-12-05T09, 2026-12-05
//!                            without a zone: in this machine's zone, at its offset now
//!  1796463197, 1796463197.5  Unix seconds, with an optional fraction
//! ```
//!
//! An entry is shown when it is not before `since` and not after `until` (both ends included).
//! Instants are nanoseconds since the Unix epoch, as `i128` so that any RFC 3339 year fits.
//! dockerd makes each bound with `time.Unix`, whose seconds from year 1 wrap in an int64:
//! Unix seconds near 2^63 are such wrapped instants, and Go's zero time (year 1) is no bound.

/// Nanoseconds in a second.
const NANOS: i128 = 1_000_000_000;

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian): gotime's, the one
/// calendar of the crate.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    crate::containerd::gotime::days_from_civil(year, i64::from(month), i64::from(day))
}

fn leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in(month: u32, year: i64) -> u32 {
    match month {
        2 if leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `nanos` as docker prints a local-format entry's time with `--timestamps` (Go's
/// `RFC3339NanoFixed`), in UTC, as dockerd 25 and later print it (moby afe281964d); 20.10 to
/// 24 printed it in the daemon's zone, which the disk does not record: the same instant.
pub fn fixed_nano(nanos: i64) -> String {
    // Laid out on the stack: this runs once a record, and `format!` was most of reading a
    // file of empty records.
    crate::containerd::gotime::GoTime {
        unix: nanos.div_euclid(1_000_000_000),
        nanos: nanos.rem_euclid(1_000_000_000) as u32,
        offset: 0,
    }
    .rfc3339_nano_fixed()
}

/// The instant of a time as [`super::logs::go_time`] lays it out
/// (`YYYY-MM-DDTHH:MM:SS.nnnnnnnnn` then `Z` or `±hh:mm`).
pub fn instant(t: &str) -> Option<i128> {
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let frac = num(20..29)?;
    let zone = t.get(29..)?;
    let offset = match zone {
        "Z" => 0,
        _ => {
            let sign = match zone.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let zh: i64 = zone.get(1..3)?.parse().ok()?;
            let zm: i64 = zone.get(4..6)?.parse().ok()?;
            sign * (zh * 3600 + zm * 60)
        }
    };
    let days = days_from_civil(y, u32::try_from(mo).ok()?, u32::try_from(d).ok()?);
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset;
    Some(i128::from(secs) * NANOS + i128::from(frac))
}

/// Reads a `--since`/`--until` value as the docker CLI and dockerd read it: `now` (nanoseconds
/// since the epoch) for durations, `local_offset` (seconds east of UTC, this machine's zone
/// now) for times without a zone. `Ok(None)`: no bound (`--until 0`, as dockerd takes it).
/// The error is the CLI's, after `invalid value for "since": `.
pub fn docker_time(value: &str, now: i128, local_offset: i64, until: bool) -> Result<Option<i128>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    // GetTimestamp: a Go duration first (but "0"), then a time, then Unix seconds passed as
    // they are; dockerd reads the result with ParseTimestamps.
    if value != "0"
        && let Some(d) = go_duration(value)
    {
        let at = now - d;
        // The CLI sends reference.Add(-d).Unix(): whole seconds, rounded down.
        return Ok(Some(at.div_euclid(NANOS) * NANOS));
    }
    match parse_time(value, local_offset) {
        // The CLI sends "%d.%09d" of the time's Unix seconds and nanoseconds.
        Ok(at) => Ok(go_unix(at.div_euclid(NANOS) as i64, at.rem_euclid(NANOS) as i64)),
        Err(e) if value.contains('-') => Err(e),
        Err(_) => {
            let (secs, nanos) = unix_seconds(value)
                .ok_or_else(|| format!("failed to parse value as time or duration: {}", quote_text(value)))?;
            // dockerd: an until of "0" is no until.
            if until && value == "0" {
                Ok(None)
            } else {
                Ok(go_unix(secs, nanos))
            }
        }
    }
}

/// Seconds from Go's year 1 to the Unix epoch (`unixToInternal`).
const UNIX_TO_INTERNAL: i64 = 62_135_596_800;

/// dockerd's `time.Unix(secs, nanos)` as the instant its log reader compares entries with:
/// the nanoseconds carried into the seconds, then the seconds counted from year 1 in an
/// int64 that wraps (Unix seconds near 2^63 name a time long before year 1, or long after:
/// `--since 9223372036854775807` admits every entry). `None` for Go's zero time, which
/// dockerd takes for no bound at all (`--until 0001-01-01T00:00:00Z` ends nothing).
fn go_unix(secs: i64, nanos: i64) -> Option<i128> {
    const N: i64 = NANOS as i64;
    let (mut secs, mut nanos) = (secs, nanos);
    if !(0..N).contains(&nanos) {
        let carry = nanos / N;
        secs = secs.wrapping_add(carry);
        nanos -= carry * N;
        if nanos < 0 {
            nanos += N;
            secs = secs.wrapping_sub(1);
        }
    }
    let internal = secs.wrapping_add(UNIX_TO_INTERNAL);
    if internal == 0 && nanos == 0 {
        return None;
    }
    Some((i128::from(internal) - i128::from(UNIX_TO_INTERNAL)) * NANOS + i128::from(nanos))
}

/// `%q` of the CLI's message: `strconv.Quote`.
use crate::template::gofmt::quote_text;

/// Go's `time.quote`, which a `time.ParseError` writes its value and layout with: in double
/// quotes, `"` and `\` escaped, and every byte that is not printable ASCII (a control byte,
/// or any byte of a character past ASCII, valid UTF-8 or not) as `\xNN`. DEL too, which Go
/// leaves as it is: a control byte from the command line does not reach the terminal.
fn time_quote(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(b.len() + 2);
    out.push('"');
    for &c in b {
        match c {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(c));
            }
            0x20..0x7f => out.push(char::from(c)),
            _ => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push('"');
    out
}

/// dockerd's `parseTimestamp`: `SECONDS[.FRACTION]`, each read by `strconv.ParseInt`, the
/// fraction scaled to nanoseconds through a float64 as dockerd does: the seconds and the
/// nanoseconds, as `time.Unix` is given them.
fn unix_seconds(value: &str) -> Option<(i64, i64)> {
    let (secs, frac) = match value.split_once('.') {
        Some((s, f)) => (s, Some(f)),
        None => (value, None),
    };
    let s = go_parse_int(secs)?;
    let n = match frac {
        None => 0,
        Some(f) => {
            let n = go_parse_int(f)?;
            let digits = i32::try_from(f.len()).ok()?;
            // int64(float64(n) * math.Pow(10, 9-len)): Pow of an integer exponent is exact
            // up to 10^22, a negative one is its reciprocal.
            let k = 9 - digits;
            let scale = if k >= 0 { 10f64.powi(k) } else { 1.0 / 10f64.powi(-k) };
            (n as f64 * scale) as i64
        }
    };
    Some((s, n))
}

/// Go's `strconv.ParseInt(s, 10, 64)`: an optional sign, decimal digits, in range.
fn go_parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.strip_prefix('+').unwrap_or(s).parse().ok()
}

/// Go's `time.ParseDuration`, in nanoseconds; `None` where Go returns an error.
pub fn go_duration(s: &str) -> Option<i128> {
    const MAX: u128 = 1 << 63;
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let first = *rest.as_bytes().first()?;
        if !(first == b'.' || first.is_ascii_digit()) {
            return None;
        }
        // The integer part: overflow is an error.
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let mut v: u128 = 0;
        for b in rest.get(..int_len)?.bytes() {
            v = v * 10 + u128::from(b - b'0');
            if v > MAX {
                return None;
            }
        }
        let pre = int_len > 0;
        rest = rest.get(int_len..)?;
        // The fraction: digits past what fits are read and dropped, as Go's leadingFraction.
        let (mut f, mut scale, mut post) = (0u128, 1f64, false);
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for b in r.get(..n)?.bytes() {
                if overflow || f > (MAX - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = f * 10 + u128::from(b - b'0');
                if y > MAX - 1 {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10.0;
            }
            post = n > 0;
            rest = r.get(n..)?;
        }
        if !pre && !post {
            return None;
        }
        let unit_len = rest.bytes().take_while(|&b| b != b'.' && !b.is_ascii_digit()).count();
        let unit: u128 = match rest.get(..unit_len)? {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = rest.get(unit_len..)?;
        if v > MAX / unit {
            return None;
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u128;
            if v > MAX {
                return None;
            }
        }
        total += v;
        if total > MAX {
            return None;
        }
    }
    if neg {
        return Some(-(total as i128));
    }
    if total > MAX - 1 {
        return None;
    }
    Some(total as i128)
}

/// The layouts `GetTimestamp` picks between, as the element sequences Go's `time.Parse` walks.
#[derive(Clone, Copy, PartialEq)]
enum Elem {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    /// `.999999999`: an optional fraction.
    Fraction,
    /// `Z07:00`.
    Zone,
    Lit(&'static str),
}

/// `GetTimestamp`'s reading of a time: the layout chosen from the value's characters, then
/// parsed as Go parses it. The error is Go's `time.ParseError` text.
fn parse_time(value: &str, local_offset: i64) -> Result<i128, String> {
    use Elem::*;
    let in_location = !(value.contains(['z', 'Z', '+']) || value.matches('-').count() == 3);
    let date: &[Elem] = &[Year, Lit("-"), Month, Lit("-"), Day];
    let mut layout: Vec<Elem> = date.to_vec();
    if value.contains('.') {
        layout.extend([Lit("T"), Hour, Lit(":"), Minute, Lit(":"), Second, Fraction]);
        if !in_location {
            layout.push(Zone);
        }
    } else if value.contains('T') {
        let mut colons = value.matches(':').count();
        if !in_location && !value.contains(['z', 'Z']) && colons > 0 {
            colons -= 1;
        }
        layout.extend([Lit("T"), Hour]);
        match colons {
            0 => {}
            1 => layout.extend([Lit(":"), Minute]),
            _ => layout.extend([Lit(":"), Minute, Lit(":"), Second]),
        }
        if !in_location {
            layout.push(Zone);
        }
    } else if !in_location {
        layout.push(Zone);
    }
    let layout_text: String = layout
        .iter()
        .map(|e| match e {
            Year => "2006",
            Month => "01",
            Day => "02",
            Hour => "15",
            Minute => "04",
            Second => "05",
            Fraction => ".999999999",
            Zone => "Z07:00",
            Lit(s) => s,
        })
        .collect();
    // Go's words: the value and, where it could not read on, what was left of it when it
    // began the field (Go 1.20 on: Go 1.19 named the rest after a field's fixed bytes).
    let quoted = time_quote(value.as_bytes());
    let cannot = |rest: &[u8], elem: &str| {
        format!(
            "parsing time {quoted} as \"{layout_text}\": cannot parse {} as \"{elem}\"",
            time_quote(rest)
        )
    };
    let range = |what: &str| format!("parsing time {quoted}: {what} out of range");
    let (mut year, mut month, mut day, mut hour, mut minute, mut second) = (0i64, 1u32, 1u32, 0i64, 0i64, 0i64);
    let mut frac: i128 = 0;
    let mut offset: Option<i64> = None;
    // Bytes, as Go's parser slices them: a field may end inside a character.
    let mut rest = value.as_bytes();
    // Digits at the start of rest: exactly `n`, or 1 to 2 when `n` is 0.
    let digits = |b: &[u8], fixed: bool| -> Option<(i64, usize)> {
        let first = b.first().filter(|c| c.is_ascii_digit())?;
        match b.get(1) {
            Some(c) if c.is_ascii_digit() => Some((i64::from(first - b'0') * 10 + i64::from(c - b'0'), 2)),
            _ if fixed => None,
            _ => Some((i64::from(first - b'0'), 1)),
        }
    };
    for (i, e) in layout.iter().enumerate() {
        match *e {
            Lit(s) => {
                rest = rest.strip_prefix(s.as_bytes()).ok_or_else(|| cannot(rest, s))?;
            }
            Year => {
                let (Some(y), Some(after)) = (rest.get(..4), rest.get(4..)) else {
                    return Err(cannot(rest, "2006"));
                };
                if !y.iter().all(u8::is_ascii_digit) {
                    return Err(cannot(rest, "2006"));
                }
                year = y.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0'));
                rest = after;
            }
            Month | Day | Hour | Minute | Second => {
                let (name, fixed) = match *e {
                    Month => ("01", true),
                    Day => ("02", true),
                    Hour => ("15", false),
                    Minute => ("04", true),
                    _ => ("05", true),
                };
                let (n, len) = digits(rest, fixed).ok_or_else(|| cannot(rest, name))?;
                rest = rest.get(len..).unwrap_or_default();
                match *e {
                    Month if !(1..=12).contains(&n) => return Err(range("month")),
                    Month => month = n as u32,
                    // Go checks the day against the month once the whole value is read.
                    Day => day = n as u32,
                    Hour if n >= 24 => return Err(range("hour")),
                    Hour => hour = n,
                    Minute if n >= 60 => return Err(range("minute")),
                    Minute => minute = n,
                    Second if n >= 60 => return Err(range("second")),
                    _ => second = n,
                }
                // Go reads a fraction after the seconds even where the layout has none.
                if *e == Second && layout.get(i + 1) != Some(&Fraction) {
                    frac = fraction(&mut rest);
                }
            }
            Fraction => frac = fraction(&mut rest),
            Zone => {
                if let Some(r) = rest.strip_prefix(b"Z") {
                    offset = Some(0);
                    rest = r;
                } else {
                    // Go's Z07:00 reader: six bytes, a colon the fourth; hours, then minutes,
                    // each two digits; from Go 1.23 (docker 28's CLI) a range test on them, `>`
                    // (offsets of 24 hours or 60 minutes are written), whose word comes before
                    // anything wrong with the digits or the sign; then the sign.
                    let b = rest;
                    if b.len() < 6 || b.get(3) != Some(&b':') {
                        return Err(cannot(rest, "Z07:00"));
                    }
                    let after = b.get(6..).unwrap_or_default();
                    let two = |at: usize| -> Option<i64> {
                        let d = b.get(at..at + 2)?;
                        d.iter()
                            .all(u8::is_ascii_digit)
                            .then(|| d.iter().fold(0, |n, c| n * 10 + i64::from(c - b'0')))
                    };
                    let hh = two(1);
                    let mm = hh.and(two(4));
                    let (h, m) = (hh.unwrap_or(0), mm.unwrap_or(0));
                    // The later test's word wins, as Go overwrites it.
                    let out_of_range = match (h > 24, m > 60) {
                        (_, true) => Some("time zone offset minute"),
                        (true, false) => Some("time zone offset hour"),
                        _ => None,
                    };
                    if let Some(what) = out_of_range {
                        return Err(range(what));
                    }
                    let sign = match b.first() {
                        Some(b'+') => 1,
                        Some(b'-') => -1,
                        _ => 0,
                    };
                    if sign == 0 || mm.is_none() {
                        return Err(cannot(rest, "Z07:00"));
                    }
                    offset = Some(sign * (h * 3600 + m * 60));
                    rest = after;
                }
            }
        }
    }
    if !rest.is_empty() {
        return Err(format!("parsing time {quoted}: extra text: {}", time_quote(rest)));
    }
    if day < 1 || day > days_in(month, year) {
        return Err(range("day"));
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset.unwrap_or(local_offset);
    Ok(i128::from(secs) * NANOS + frac)
}

/// A `.ddd` or `,ddd` fraction of a second at the start of `rest`, taken whatever its length
/// (nanoseconds, digits past nine dropped); none when no digit follows the mark.
fn fraction(rest: &mut &[u8]) -> i128 {
    let b = *rest;
    if !matches!(b.first(), Some(b'.' | b',')) || !b.get(1).is_some_and(u8::is_ascii_digit) {
        return 0;
    }
    let n = b.iter().skip(1).take_while(|c| c.is_ascii_digit()).count();
    let mut v: i128 = 0;
    for (k, c) in b.iter().skip(1).take(n).enumerate() {
        if k < 9 {
            v = v * 10 + i128::from(c - b'0');
        }
    }
    for _ in n..9 {
        v *= 10;
    }
    *rest = rest.get(n + 1..).unwrap_or_default();
    v
}

/// This machine's offset from UTC now, in seconds east (the zone the docker CLI reads a time
/// without one in: `time.FixedZone(reference.Zone())`).
pub fn local_offset_now() -> i64 {
    // SAFETY: time(NULL) and localtime_r with valid pointers have no other preconditions;
    // tm is plain data that localtime_r fills.
    unsafe {
        let t = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return 0;
        }
        tm.tm_gmtoff
    }
}

/// Now, in nanoseconds since the epoch (the examiner's clock).
pub fn now() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i128 = 1_796_463_200_500_000_000;

    fn at(v: &str) -> Result<Option<i128>, String> {
        docker_time(v, NOW, 0, false)
    }

    #[test]
    fn instants_print_and_read_back() {
        assert_eq!(fixed_nano(1_796_463_196_735_285_470), "2026-12-05T09:33:16.735285470Z");
        assert_eq!(fixed_nano(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(fixed_nano(-1), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(fixed_nano(i64::MIN), "1677-09-21T00:12:43.145224192Z");
        assert_eq!(fixed_nano(i64::MAX), "2262-04-11T23:47:16.854775807Z");
        // Every layout reads back as its instant, across the range an i64 of nanoseconds has.
        let mut n = i64::MIN;
        while let Some(next) = n.checked_add(7_777_777_777_777_777) {
            assert_eq!(instant(&fixed_nano(n)), Some(i128::from(n)), "{n}");
            n = next;
        }
        assert_eq!(
            instant("2026-12-05T09:33:16.735285470Z"),
            Some(1_796_463_196_735_285_470)
        );
        assert_eq!(
            instant("2026-12-05T10:33:16.735285470+01:00"),
            Some(1_796_463_196_735_285_470)
        );
        assert_eq!(instant("0001-01-01T00:00:00.000000000Z"), Some(-62_135_596_800 * NANOS));
    }

    #[test]
    fn the_cli_s_forms() {
        let t = 1_796_463_196_735_285_470;
        assert_eq!(at("2026-12-05T09:33:16.735285470Z"), Ok(Some(t)));
        assert_eq!(at("2026-12-05T10:33:16.73528547+01:00"), Ok(Some(t)));
        assert_eq!(at("2026-12-05T09:33:16Z"), Ok(Some(t - 735_285_470)));
        assert_eq!(at("2026-12-05T09:33Z"), Ok(Some(t - 16_735_285_470)));
        assert_eq!(at("2026-12-05T09:33:16.735285470"), Ok(Some(t)));
        assert_eq!(
            docker_time("2026-12-05T10:33:16.735285470", NOW, 3600, false),
            Ok(Some(t))
        );
        assert_eq!(at("2026-12-05T09"), Ok(Some(t - 33 * 60 * NANOS - 16_735_285_470)));
        assert_eq!(
            at("2026-12-05"),
            Ok(Some(t - (9 * 3600 + 33 * 60) * NANOS - 16_735_285_470))
        );
        assert_eq!(at("2026-12-05Z"), at("2026-12-05"));
        assert_eq!(at("1796463196.73528547"), Ok(Some(t)));
        assert_eq!(at("1796463196"), Ok(Some(t - 735_285_470)));
        assert_eq!(at("1796463196.5"), Ok(Some(1_796_463_196_500_000_000)));
        // Durations: before now, whole seconds.
        assert_eq!(at("10m"), Ok(Some(1_796_463_200 * NANOS - 600 * NANOS)));
        assert_eq!(at("1h30m"), Ok(Some((1_796_463_200 - 5400) * NANOS)));
        assert_eq!(at("-1s"), Ok(Some((1_796_463_201) * NANOS)));
        assert_eq!(at("1.5s"), Ok(Some((1_796_463_199) * NANOS)));
        assert_eq!(at("0"), Ok(Some(0)));
        assert_eq!(docker_time("0", NOW, 0, true), Ok(None));
        assert_eq!(at(""), Ok(None));
        // The CLI's words.
        assert_eq!(
            at("yesterday"),
            Err("failed to parse value as time or duration: \"yesterday\"".into())
        );
        assert_eq!(
            at("2026-13-01"),
            Err("parsing time \"2026-13-01\": month out of range".into())
        );
        assert_eq!(
            at("2026-02-30"),
            Err("parsing time \"2026-02-30\": day out of range".into())
        );
        assert!(at("2026-12-05T09:33:16Zjunk").unwrap_err().contains("extra text"));
        assert!(at("2026-1-05").unwrap_err().contains("cannot parse"));
    }

    #[test]
    fn edges_as_docker_28_reads_them() {
        // Zone offsets: Go 1.23's range test, `>`; the minute's word when both are out.
        let range = |v: &str, what: &str| Err(format!("parsing time \"{v}\": time zone offset {what} out of range"));
        assert_eq!(
            at("2026-12-05T09:33:16+25:00"),
            range("2026-12-05T09:33:16+25:00", "hour")
        );
        assert_eq!(
            at("2026-12-05T09:33:16-23:61"),
            range("2026-12-05T09:33:16-23:61", "minute")
        );
        assert_eq!(
            at("2026-12-05T09:33:16+25:61"),
            range("2026-12-05T09:33:16+25:61", "minute")
        );
        assert_eq!(at("2026-12-05+99:00"), range("2026-12-05+99:00", "hour"));
        assert_eq!(
            at("2026-12-05T09:33:16+24:60"),
            Ok(Some((1_796_463_196 - 25 * 3600) * NANOS))
        );
        // time.Unix: seconds from year 1 in an int64 that wraps; Go's zero time is no bound.
        let year1 = -62_135_596_800i128;
        let wrapped = |secs: i128| (secs + 62_135_596_800 - (1i128 << 64)) - 62_135_596_800;
        assert_eq!(
            at("9223372036854775807"),
            Ok(Some(wrapped(i128::from(i64::MAX)) * NANOS))
        );
        assert_eq!(
            at("9223371974719179007"),
            Ok(Some(i128::from(i64::MAX - 62_135_596_800) * NANOS))
        );
        assert!(at("9223371974719179008").unwrap().unwrap() < year1 * NANOS);
        assert_eq!(at("0001-01-01T00:00:00Z"), Ok(None));
        assert_eq!(docker_time("0001-01-01T00:00:00Z", NOW, 0, true), Ok(None));
        assert_eq!(at("0001-01-01T00:00:00.000000001Z"), Ok(Some(year1 * NANOS + 1)));
        assert_eq!(at("0000-12-31T23:59:59Z"), Ok(Some((year1 - 1) * NANOS)));
        assert_eq!(go_unix(0, -1), Some(-1));
        assert_eq!(go_unix(0, 1_500_000_000), Some(1_500_000_000));
        assert_eq!(go_unix(-62_135_596_801, 1_000_000_000), None);
    }

    #[test]
    fn errors_quote_as_go_quotes_them() {
        // time.quote: each byte past ASCII, and each control byte, as \xNN.
        assert_eq!(
            at("2026-\u{e9}"),
            Err(r#"parsing time "2026-\xc3\xa9" as "2006-01-02": cannot parse "\xc3\xa9" as "01""#.into())
        );
        assert_eq!(
            at("2026-12-05\x1b\"q\\"),
            Err(r#"parsing time "2026-12-05\x1b\"q\\": extra text: "\x1b\"q\\""#.into())
        );
        // DEL, which Go leaves as it is, escaped too (sweep 39, F6).
        assert_eq!(
            at("2026-12-05\x7f"),
            Err(r#"parsing time "2026-12-05\x7f": extra text: "\x7f""#.into())
        );
        // What was left when the field began (Go 1.20 on), whole characters or not.
        assert_eq!(
            at("2026-12-05t09:33:16Z"),
            Err(
                r#"parsing time "2026-12-05t09:33:16Z" as "2006-01-02Z07:00": cannot parse "t09:33:16Z" as "Z07:00""#
                    .into()
            )
        );
        assert!(
            at("20\u{e9}6-12-05")
                .unwrap_err()
                .ends_with(r#"cannot parse "20\xc3\xa96-12-05" as "2006""#)
        );
        // The zone's range test comes before its sign or digits are found wrong.
        assert!(
            at("2026-12-05T09:33:16x25:00Z")
                .unwrap_err()
                .ends_with("time zone offset hour out of range")
        );
        // %q, strconv.Quote: printable characters kept, the rest escaped.
        assert_eq!(
            at("yesterday \u{e9}\u{202e}"),
            Err("failed to parse value as time or duration: \"yesterday \u{e9}\\u202e\"".into())
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("1h"), Some(3_600 * NANOS));
        assert_eq!(go_duration("1.5ms"), Some(1_500_000));
        assert_eq!(go_duration(".5s"), Some(500_000_000));
        assert_eq!(go_duration("1µs1ns"), Some(1_001));
        assert_eq!(go_duration("-0"), Some(0));
        assert_eq!(go_duration("2562047h47m16.854775807s"), Some(i128::from(i64::MAX)));
        assert_eq!(go_duration("-2562047h47m16.854775808s"), Some(i128::from(i64::MIN)));
        for bad in [
            "",
            "1",
            "h",
            ".s",
            "1x",
            "9223372036854775808ns",
            "3000000h",
            "+",
            "1h-",
        ] {
            assert_eq!(go_duration(bad), None, "{bad}");
        }
    }
}
