//! Go's `time.Time.MarshalBinary`, as containerd stores `createdat`, `updatedat` and
//! `expireat`, printed as Go's `time.RFC3339Nano`.
//!
//! ```text
//! version 1 (15 bytes): 0x01 | seconds since 0001-01-01 i64 | nanoseconds i32 | offset min i16
//! version 2 (16 bytes): 0x02 | ... as version 1 ...                         | offset sec i8
//! offset minutes -1 means UTC
//! ```
//!
//! This is the only big-endian data in the project besides big-endian bbolt files.

/// Seconds from 0001-01-01T00:00:00Z to the Unix epoch.
const UNIX_TO_INTERNAL: i64 = 62_135_596_800;

/// A decoded Go time: an instant plus the zone offset it was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoTime {
    /// Seconds since the Unix epoch.
    pub unix: i64,
    pub nanos: u32,
    /// Zone offset east of UTC, in seconds.
    pub offset: i32,
}

/// Why a value is not a Go binary time.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("not a Go binary time: {0} bytes")]
    Length(usize),
    #[error("unsupported Go binary time version {0}")]
    Version(u8),
    #[error("nanoseconds out of range: {0}")]
    Nanos(i32),
}

impl GoTime {
    pub fn decode(b: &[u8]) -> Result<GoTime, TimeError> {
        let version = *b.first().ok_or(TimeError::Length(0))?;
        let want = match version {
            1 => 15,
            2 => 16,
            v => return Err(TimeError::Version(v)),
        };
        if b.len() != want {
            return Err(TimeError::Length(b.len()));
        }
        let arr = |r: std::ops::Range<usize>| b.get(r).unwrap_or_default();
        let secs = i64::from_be_bytes(arr(1..9).try_into().map_err(|_| TimeError::Length(b.len()))?);
        let nanos = i32::from_be_bytes(arr(9..13).try_into().map_err(|_| TimeError::Length(b.len()))?);
        let minutes = i16::from_be_bytes(arr(13..15).try_into().map_err(|_| TimeError::Length(b.len()))?);
        if !(0..1_000_000_000).contains(&nanos) {
            return Err(TimeError::Nanos(nanos));
        }
        // As Go's `UnmarshalBinary`: minutes times 60 plus, in version 2, the seconds byte
        // read unsigned; UTC when the sum is -60 (minutes -1, no seconds), a fixed zone else.
        let mut offset = i32::from(minutes) * 60;
        if version == 2 {
            offset += i32::from(b.get(15).copied().unwrap_or(0));
        }
        if offset == -60 {
            offset = 0;
        }
        Ok(GoTime {
            unix: secs.wrapping_sub(UNIX_TO_INTERNAL),
            nanos: nanos as u32,
            offset,
        })
    }

    /// The instant of a binary time as Go's `UnmarshalBinary` reads it, in nanoseconds since
    /// the Unix epoch: version and length are checked, the nanoseconds are not (Go accepts
    /// any value there and adds it). What containerd's GC compares `expireat` with.
    pub fn decode_instant(b: &[u8]) -> Result<i128, TimeError> {
        match GoTime::decode(b) {
            Ok(t) => Ok(t.unix_nanos()),
            Err(TimeError::Nanos(nanos)) => {
                let secs = b
                    .get(1..9)
                    .and_then(|s| <[u8; 8]>::try_from(s).ok())
                    .map(i64::from_be_bytes)
                    .ok_or(TimeError::Length(b.len()))?;
                Ok((i128::from(secs) - i128::from(UNIX_TO_INTERNAL)) * 1_000_000_000 + i128::from(nanos))
            }
            Err(e) => Err(e),
        }
    }

    /// The instant as nanoseconds since the Unix epoch: a total order for comparisons
    /// (Go's `Before`/`After` ignore the zone).
    pub fn unix_nanos(&self) -> i128 {
        i128::from(self.unix) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// Whether the instant's year, in UTC, is one RFC 3339 text (and Go's `MarshalJSON`, so
    /// ctr) can give: 0 to 9999.
    pub fn in_text_range(&self) -> bool {
        // 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z.
        (-62_167_219_200..253_402_300_800).contains(&self.unix)
    }

    /// A record's time as text that reads back as the same instant: [`GoTime::rfc3339_nano`]
    /// in the stored zone, unless RFC 3339 cannot carry that zone (an offset with seconds,
    /// which version-2 times keep and the text drops; one past 24 hours, which no parser
    /// reads): then in UTC, as containerd's API (a protobuf timestamp) and `ctr` give it.
    pub fn record_text(&self) -> String {
        if self.offset % 60 != 0 || self.offset.unsigned_abs() > 24 * 3600 {
            GoTime { offset: 0, ..*self }.rfc3339_nano()
        } else {
            self.rfc3339_nano()
        }
    }

    /// Go's `Format(time.RFC3339Nano)`: local wall time of the stored zone, trailing zeros of
    /// the fraction trimmed, `Z` for a zero offset. Years outside 0..=9999 are printed with
    /// as many digits as they need (Go errors there; we would rather show the value).
    pub fn rfc3339_nano(&self) -> String {
        self.laid_out(false)
    }

    /// Go's `Format` with dockerd's `RFC3339NanoFixed` (`2006-01-02T15:04:05.000000000Z07:00`):
    /// [`GoTime::rfc3339_nano`] with all nine digits of the fraction, as `docker logs
    /// --timestamps` prints an entry's time.
    pub fn rfc3339_nano_fixed(&self) -> String {
        self.laid_out(true)
    }

    /// RFC 3339 with the fraction's trailing zeros trimmed, or all nine digits (`fixed`).
    fn laid_out(&self, fixed: bool) -> String {
        // Written into a buffer on the stack, then copied once into a string of its length:
        // 47,000 content records have two times each, and a string grown digit by digit was
        // a twentieth of a `content` listing.
        let local = self.unix.saturating_add(i64::from(self.offset));
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400) as u64;
        let (y, m, d) = civil_from_days(days);
        let mut out = TimeText::default();
        match u64::try_from(y) {
            Ok(y) if y <= 9999 => out.digits(y, 4),
            _ => out.text(&format!("{y:04}")),
        }
        for (sep, v) in [(b'-', u64::from(m)), (b'-', u64::from(d)), (b'T', secs / 3600)] {
            out.push(sep);
            out.digits(v, 2);
        }
        for v in [secs / 60 % 60, secs % 60] {
            out.push(b':');
            out.digits(v, 2);
        }
        if fixed {
            out.push(b'.');
            out.digits(u64::from(self.nanos), 9);
        } else if self.nanos != 0 {
            out.push(b'.');
            let mut frac = self.nanos;
            let mut width = 9;
            while frac.is_multiple_of(10) {
                frac /= 10;
                width -= 1;
            }
            out.digits(u64::from(frac), width);
        }
        if self.offset == 0 {
            out.push(b'Z');
        } else {
            // Go prints the offset in whole minutes, truncated toward zero, signed by what
            // is left: -30 s is `+00:00`.
            let minutes = self.offset / 60;
            out.push(if minutes < 0 { b'-' } else { b'+' });
            let abs = u64::from(minutes.unsigned_abs());
            out.digits(abs / 60, 2);
            out.push(b':');
            out.digits(abs % 60, 2);
        }
        out.into_string()
    }
}

/// The text of a time, built on the stack. The longest any `GoTime` makes is 49 bytes (a year
/// of 12 digits and a sign from an i64 of seconds, 19 for the rest of the date and clock, a
/// fraction of up to 11 from a u32 of nanoseconds, an offset of up to 10 from an i32 of
/// seconds); a number that would end past 64 is dropped, never written out of bounds.
struct TimeText {
    bytes: [u8; 64],
    len: usize,
}

impl Default for TimeText {
    fn default() -> Self {
        TimeText {
            bytes: [b'0'; 64],
            len: 0,
        }
    }
}

impl TimeText {
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn text(&mut self, t: &str) {
        t.bytes().for_each(|b| self.push(b));
    }

    /// `v` in decimal, zero-padded to `width` digits (`format!("{v:0width$}")`), written in
    /// place from its last digit back (a division by the constant 10 is a multiply).
    fn digits(&mut self, v: u64, width: u32) {
        let mut len = 1;
        let mut rest = v / 10;
        while rest != 0 {
            len += 1;
            rest /= 10;
        }
        let end = self.len + len.max(width as usize);
        let Some(slots) = self.bytes.get_mut(self.len..end) else {
            return;
        };
        let mut n = v;
        for slot in slots.iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
        self.len = end;
    }

    fn into_string(self) -> String {
        // Only ASCII is ever written (checked eight bytes at a time, where the lossy reading
        // walked it chunk by chunk: a quarter of this function).
        std::str::from_utf8(self.bytes.get(..self.len).unwrap_or_default())
            .map(crate::short_copy::string)
            .unwrap_or_default()
    }
}

/// An RFC 3339 time in UTC to the second (`2026-11-27T17:44:42Z`), as `ctr leases ls` prints
/// CREATED AT; a time that does not parse is given back as it is.
pub fn utc_seconds(t: &str) -> String {
    match parse_rfc3339(t) {
        Some(g) => GoTime {
            unix: g.unix,
            nanos: 0,
            offset: 0,
        }
        .rfc3339_nano(),
        None => t.to_string(),
    }
}

/// Which Go release's `time.Parse` reads a text: they differ on the zone offset's fields, and a collector's verdict on a lease's `gc.expire` follows the Go its
/// containerd was built with (Debian's containerd 1.6.20: go1.19.8; upstream 2.x: 1.23 on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum GoParse {
    /// Go 1.19 and older: the offset's hour and minute are read with `atoi`, so each may
    /// carry a sign (`++1:00`, `+01:-5`), and they have no range test (`+99:99`).
    Go119,
    /// Go 1.20 to 1.22: plain digits everywhere (golang/go#54570), still no range test on the
    /// offset (golang/go#67470).
    Go120,
    /// Go 1.23 and later: an offset's hour over 24 or minute over 60 is refused.
    Go123,
}

impl GoParse {
    /// The releases from `from` to `to` as a reader names them ("Go 1.22 and older").
    pub fn span(from: GoParse, to: GoParse) -> &'static str {
        use GoParse::*;
        match (from, to) {
            (Go119, Go119) => "Go 1.19 and older",
            (Go119, Go120) => "Go 1.22 and older",
            (Go120, Go120) => "Go 1.20 to 1.22",
            (Go120, Go123) => "Go 1.20 and later",
            (Go123, Go123) => "Go 1.23 and later",
            _ => "every Go",
        }
    }

    /// The era of a Go version as `go version` prints it or a person writes it: `1.19`,
    /// `go1.19.8`, `1.23rc1`.
    pub fn of_version(s: &str) -> Option<GoParse> {
        let v = s.strip_prefix("go").unwrap_or(s);
        let minor = v.strip_prefix("1.")?;
        let digits = minor.bytes().take_while(u8::is_ascii_digit).count();
        let n: u32 = minor.get(..digits)?.parse().ok()?;
        Some(match n {
            0..=19 => GoParse::Go119,
            20..=22 => GoParse::Go120,
            _ => GoParse::Go123,
        })
    }
}

/// Go's `time.Parse(time.RFC3339, s)`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, as the Go of
/// today's containerd and dockerd releases reads it ([`GoParse::Go123`]).
///
/// Go's parser, not RFC 3339's grammar: `time.Parse` reads the layout
/// `2006-01-02T15:04:05Z07:00` chunk by chunk, so it also takes an hour of one digit
/// (`T0:00:00`), a comma before the fraction, more than nine fraction digits (the rest
/// dropped) and a zone offset up to `+24:00` or `+00:60` (containerd's lease expiry, Docker's
/// container times and image configs' `created` are all read so).
pub fn parse_rfc3339(s: &str) -> Option<GoTime> {
    parse_rfc3339_as(s, GoParse::Go123)
}

/// [`parse_rfc3339`] as the Go release `go` reads it.
pub fn parse_rfc3339_as(s: &str, go: GoParse) -> Option<GoTime> {
    let mut v = s.as_bytes();
    let year = digits(&mut v, 4)?;
    literal(&mut v, b'-')?;
    let month = digits(&mut v, 2)?;
    literal(&mut v, b'-')?;
    let day = digits(&mut v, 2)?;
    literal(&mut v, b'T')?;
    // `15` is the one field of the layout read as one digit or two.
    let hour = match v {
        [a, b, ..] if a.is_ascii_digit() && b.is_ascii_digit() => digits(&mut v, 2)?,
        _ => digits(&mut v, 1)?,
    };
    literal(&mut v, b':')?;
    let min = digits(&mut v, 2)?;
    literal(&mut v, b':')?;
    let sec = digits(&mut v, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    // A fraction the layout does not have: a period or comma and at least one digit.
    let mut nanos: u32 = 0;
    if let [b'.' | b',', d, ..] = v
        && d.is_ascii_digit()
    {
        let rest = v.get(1..).unwrap_or_default();
        let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        nanos = rest
            .iter()
            .take(n.min(9))
            .chain(std::iter::repeat(&b'0'))
            .take(9)
            .fold(0, |acc, d| acc * 10 + u32::from(d - b'0'));
        v = rest.get(n..).unwrap_or_default();
    }
    let offset = match v {
        [b'Z', rest @ ..] => {
            v = rest;
            0
        }
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2, rest @ ..] => {
            let (mut hh, mut mm) = (&[*h1, *h2][..], &[*m1, *m2][..]);
            let (h, m) = match go {
                GoParse::Go119 => (atoi_field(&mut hh, 2)?, atoi_field(&mut mm, 2)?),
                _ => (digits(&mut hh, 2)?, digits(&mut mm, 2)?),
            };
            // Go's range test is `>`: some write offsets of 24 hours or 60 minutes.
            if go >= GoParse::Go123 && (h > 24 || m > 60) {
                return None;
            }
            v = rest;
            // |h|, |m| <= 99: (99 * 60 + 99) * 60 fits an i32.
            let off = ((h * 60 + m) * 60) as i32;
            if *sign == b'-' { -off } else { off }
        }
        _ => return None,
    };
    if !v.is_empty() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let local = days * 86_400 + hour * 3600 + min * 60 + sec;
    Some(GoTime {
        unix: local - i64::from(offset),
        nanos,
        offset,
    })
}

/// `n` ASCII digits at the front of `v`, taken off it.
fn digits(v: &mut &[u8], n: usize) -> Option<i64> {
    let (front, rest) = (v.get(..n)?, v.get(n..)?);
    if !front.iter().all(u8::is_ascii_digit) {
        return None;
    }
    *v = rest;
    Some(front.iter().fold(0, |acc, d| acc * 10 + i64::from(d - b'0')))
}

/// Go 1.19's `atoi` of the next `n` (two) bytes: an optional sign, then only digits.
fn atoi_field(v: &mut &[u8], n: usize) -> Option<i64> {
    let (front, rest) = (v.get(..n)?, v.get(n..)?);
    let (negative, body) = match front {
        [b'-', body @ ..] => (true, body),
        [b'+', body @ ..] => (false, body),
        body => (false, body),
    };
    if !body.iter().all(u8::is_ascii_digit) {
        return None;
    }
    *v = rest;
    let x = body.iter().fold(0, |acc, d| acc * 10 + i64::from(d - b'0'));
    Some(if negative { -x } else { x })
}

/// The byte `c` at the front of `v`, taken off it.
fn literal(v: &mut &[u8], c: u8) -> Option<()> {
    let (first, rest) = v.split_first()?;
    (*first == c).then(|| *v = rest)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    /// The formatting `rfc3339_nano` did with `format!`, as the oracle for its digit writer.
    fn formatted(t: &GoTime) -> String {
        let local = t.unix.saturating_add(i64::from(t.offset));
        let (y, m, d) = civil_from_days(local.div_euclid(86_400));
        let secs = local.rem_euclid(86_400);
        let mut s = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        if t.nanos != 0 {
            s.push('.');
            s.push_str(format!("{:09}", t.nanos).trim_end_matches('0'));
        }
        if t.offset == 0 {
            s.push('Z');
        } else {
            // Go's `appendFormat`: `zone := offset / 60`, its sign, then hours and minutes.
            let zone = t.offset / 60;
            let sign = if zone < 0 { '-' } else { '+' };
            let abs = zone.unsigned_abs();
            s.push_str(&format!("{sign}{:02}:{:02}", abs / 60, abs % 60));
        }
        s
    }

    /// Version-2 times with a seconds byte, as Go 1.19's `UnmarshalBinary` and
    /// `Format(time.RFC3339Nano)` print them (a Go program run on these bytes, `TZ=UTC`).
    #[test]
    fn version_2_offsets_read_and_print_as_go() {
        let enc = |minutes: i16, seconds: u8| {
            let mut b = vec![2u8];
            b.extend_from_slice(&(1_700_000_000i64 + UNIX_TO_INTERNAL).to_be_bytes());
            b.extend_from_slice(&0i32.to_be_bytes());
            b.extend_from_slice(&minutes.to_be_bytes());
            b.push(seconds);
            b
        };
        for (minutes, seconds, go) in [
            (0, 0xe2, "2023-11-14T22:17:06+00:03"),
            (-1, 30, "2023-11-14T22:12:50+00:00"),
            (-1, 0, "2023-11-14T22:13:20Z"),
            (7, 7, "2023-11-14T22:20:27+00:07"),
            (-2, 0, "2023-11-14T22:11:20-00:02"),
        ] {
            let t = GoTime::decode(&enc(minutes, seconds)).expect("decodes");
            assert_eq!(t.rfc3339_nano(), go, "minutes {minutes}, seconds {seconds}");
            assert_eq!(t.unix, 1_700_000_000, "the instant does not move with the zone");
        }
    }

    #[test]
    fn digits_written_as_format_writes_them() {
        let units = [
            i64::MIN,
            -62_135_596_800 - 86_400 * 400,
            -62_135_596_800,
            -1,
            0,
            951_782_400,
            1_764_460_800,
            253_402_300_799,
            253_402_300_800,
            i64::MAX,
        ];
        let nanos = [0, 1, 10, 500_000_000, 123_456_789, 999_999_999, 100_000_000];
        let offsets = [0, 3600, -3600, 19_800, -34_200, 50_400, i32::MIN, i32::MAX, 59];
        for &unix in &units {
            for &n in &nanos {
                for &offset in &offsets {
                    let t = GoTime { unix, nanos: n, offset };
                    assert_eq!(t.rfc3339_nano(), formatted(&t), "{unix} {n} {offset}");
                }
            }
        }
    }

    use super::*;

    fn enc(secs_internal: i64, nanos: i32, minutes: i16) -> Vec<u8> {
        let mut v = vec![1];
        v.extend_from_slice(&secs_internal.to_be_bytes());
        v.extend_from_slice(&nanos.to_be_bytes());
        v.extend_from_slice(&minutes.to_be_bytes());
        v
    }

    /// Go's `UnmarshalBinary` then `UTC().Format(time.RFC3339Nano)` gave the instants below
    /// (the sweep's go1.19 helper): a version-2 time at +01:00:59 and a version-1 time at
    /// +546:07 are both 1997-05-23T16:00:00Z plus their nanoseconds. Their RFC 3339 text in
    /// the stored zone reads back 59 s late, or not at all; a record's text is then UTC.
    #[test]
    fn a_zone_rfc3339_cannot_carry_is_written_in_utc() {
        let internal = 864_403_200i64 + 62_135_596_800; // 1997-05-23T16:00:00Z
        let unix = internal - 62_135_596_800;
        let mut v2 = enc(internal, 1, 60);
        v2[0] = 2;
        v2.push(59);
        let t = GoTime::decode(&v2).unwrap();
        assert_eq!(t.unix, unix);
        assert_eq!(t.rfc3339_nano(), "1997-05-23T17:00:59.000000001+01:00");
        assert_eq!(t.record_text(), "1997-05-23T16:00:00.000000001Z");
        let far = GoTime::decode(&enc(internal, 5, 0x7fff)).unwrap();
        assert_eq!(far.record_text(), "1997-05-23T16:00:00.000000005Z");
        assert_eq!(
            parse_rfc3339(&far.record_text()).unwrap().unix_nanos(),
            far.unix_nanos()
        );
        // A zone RFC 3339 carries keeps its text.
        let ist = GoTime::decode(&enc(internal, 0, 330)).unwrap();
        assert_eq!(ist.record_text(), "1997-05-23T21:30:00+05:30");
    }

    #[test]
    fn formats_like_go_rfc3339nano() {
        // Examples from containerd-metadata-schema.md.
        let t = GoTime::decode(&enc(0, 0, -1)).unwrap();
        assert_eq!(t.rfc3339_nano(), "0001-01-01T00:00:00Z");
        let t = GoTime::decode(&enc(1_700_000_000 + UNIX_TO_INTERNAL, 123, -1)).unwrap();
        assert_eq!(t.rfc3339_nano(), "2023-11-14T22:13:20.000000123Z");
        let t = GoTime::decode(&enc(1_700_000_000 + UNIX_TO_INTERNAL, 500_000_000, 0)).unwrap();
        assert_eq!(t.rfc3339_nano(), "2023-11-14T22:13:20.5Z");
        let t = GoTime::decode(&enc(1_700_000_000 + UNIX_TO_INTERNAL, 120_000_000, -330)).unwrap();
        assert_eq!(t.rfc3339_nano(), "2023-11-14T16:43:20.12-05:30");
        let t = GoTime::decode(&enc(1_700_000_000 + UNIX_TO_INTERNAL, 1, 120)).unwrap();
        assert_eq!(t.rfc3339_nano(), "2023-11-15T00:13:20.000000001+02:00");
    }

    #[test]
    fn rejects_what_go_rejects() {
        assert_eq!(GoTime::decode(&[]), Err(TimeError::Length(0)));
        assert_eq!(GoTime::decode(&[3; 15]), Err(TimeError::Version(3)));
        assert_eq!(GoTime::decode(&[1; 14]), Err(TimeError::Length(14)));
        assert!(GoTime::decode(&enc(0, -1, -1)).is_err());
    }

    #[test]
    fn rfc3339_round_trips_like_go() {
        for (input, output) in [
            (
                "2024-05-06T07:08:09.123456789+05:30",
                "2024-05-06T07:08:09.123456789+05:30",
            ),
            ("2024-03-01T12:34:56.100Z", "2024-03-01T12:34:56.1Z"),
            ("2024-03-01T12:34:56+00:00", "2024-03-01T12:34:56Z"),
            ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
        ] {
            assert_eq!(
                parse_rfc3339(input).map(|t| t.rfc3339_nano()),
                Some(output.to_string()),
                "{input}"
            );
        }
        for bad in [
            "2024-02-30T00:00:00Z",
            "2024-03-01 12:34:56Z",
            "2024-03-01T12:34:56",
            "x",
        ] {
            assert!(parse_rfc3339(bad).is_none(), "{bad}");
        }
    }

    /// What `time.Parse(time.RFC3339, s)` makes of times RFC 3339 itself would refuse, and
    /// refuses: each printed by go1.19.8 (`t.Format(time.RFC3339Nano)`, `t.UnixNano()`), but
    /// for `+25:00` and `+00:61`, which 1.19 took and Go since 1.23 refuses (its range test,
    /// `hr > 24`, `mm > 60`, in `time/format.go`; today's containerd and dockerd are built
    /// with it; see [`GoParse`] for the older readings).
    #[test]
    fn rfc3339_is_read_as_go_parses_it() {
        for (input, printed, unix_nanos) in [
            ("2020-01-01T0:00:00Z", "2020-01-01T00:00:00Z", 1577836800000000000),
            ("2020-01-01T00:00:00,5Z", "2020-01-01T00:00:00.5Z", 1577836800500000000),
            (
                "2020-01-01T00:00:00+24:00",
                "2020-01-01T00:00:00+24:00",
                1577750400000000000,
            ),
            (
                "2020-01-01T00:00:00+00:60",
                "2020-01-01T00:00:00+01:00",
                1577833200000000000,
            ),
            (
                "2020-01-01T9:05:07.1234567891234-01:30",
                "2020-01-01T09:05:07.123456789-01:30",
                1577874907123456789,
            ),
            ("2020-02-29T00:00:00Z", "2020-02-29T00:00:00Z", 1582934400000000000),
            ("2020-01-01T00:00:00-00:00", "2020-01-01T00:00:00Z", 1577836800000000000),
            (
                "2020-01-01T00:00:00.000000000Z",
                "2020-01-01T00:00:00Z",
                1577836800000000000,
            ),
        ] {
            let t = parse_rfc3339(input).unwrap_or_else(|| panic!("{input}"));
            assert_eq!(
                (t.rfc3339_nano().as_str(), t.unix_nanos()),
                (printed, unix_nanos),
                "{input}"
            );
        }
        for refused in [
            "2020-01-01T00:00:00+25:00",
            "2020-01-01T00:00:00+00:61",
            "2020-01-01T24:00:00Z",
            "2020-01-01T00:00:60Z",
            "2020-01-01T00:00:00.Z",
            "2020-01-01T00:00:00,Z",
            "2020-1-01T00:00:00Z",
            "2020-01-1T00:00:00Z",
            "2020-01-01T00:0:00Z",
            "2020-01-01T00:00:0Z",
            "2020-01-01T123:00:00Z",
            "2021-02-29T00:00:00Z",
            "2020-01-01T00:00:00z",
            "2020-01-01T00:00:00+0100",
            "2020-01-01T00:00:00+01:00x",
            "+020-01-01T00:00:00Z",
            "2020-01-01T1:2:03Z",
            "2020-00-01T00:00:00Z",
            "2020-01-00T00:00:00Z",
            "2020-01-01T00:00:00.5",
            "2020-01-01t00:00:00Z",
            "2020-01-01T00:00:00+1:00",
        ] {
            assert!(parse_rfc3339(refused).is_none(), "{refused}");
        }
    }

    /// How each Go release reads zone offsets today's Go refuses: Go 1.19's instants are
    /// what go1.19.8 printed (`time.Parse(time.RFC3339, s)`, `t.UnixNano()`); Go 1.20 to
    /// 1.22 take plain digits without a range test, and Go 1.23 refuses them all.
    #[test]
    fn zone_offsets_are_read_as_each_go_release_reads_them() {
        use GoParse::*;
        let read = |s: &str, go| parse_rfc3339_as(s, go).map(|t| t.unix_nanos());
        for (input, go119, go120) in [
            ("2020-01-01T00:00:00+25:00", Some(1577746800000000000), true),
            ("2020-01-01T00:00:00+00:99", Some(1577830860000000000), true),
            ("2020-01-01T00:00:00+99:99", Some(1577474460000000000), true),
            ("2020-01-01T00:00:00+00:61", Some(1577833140000000000), true),
            ("2099-01-01T00:00:00+25:00", Some(4070818800000000000), true),
            ("2020-01-01T00:00:00++1:00", Some(1577833200000000000), false),
            ("2020-01-01T00:00:00+-1:00", Some(1577840400000000000), false),
            ("2020-01-01T00:00:00-+1:-5", Some(1577840100000000000), false),
            ("2020-01-01T00:00:00+01:+5", Some(1577832900000000000), false),
            ("+020-01-01T00:00:00Z", None, false),
            ("-001-03-01T00:00:00Z", None, false),
            ("2020-01-01T00:00:00+1+:00", None, false),
            ("2020-01-01T00:00:00+ 1:00", None, false),
            ("2020-01-01T00:00:00+--:00", None, false),
        ] {
            assert_eq!(read(input, Go119), go119, "{input}");
            assert_eq!(read(input, Go120), if go120 { go119 } else { None }, "{input}");
            assert_eq!(read(input, Go123), None, "{input}");
        }
        // Where every release agrees.
        for input in [
            "2020-01-01T00:00:00+24:00",
            "2020-01-01T00:00:00+00:60",
            "2020-01-01T00:00:00Z",
        ] {
            let t = read(input, Go123);
            assert!(t.is_some());
            assert_eq!((read(input, Go119), read(input, Go120)), (t, t), "{input}");
        }
    }

    #[test]
    fn go_versions_name_their_reading() {
        use GoParse::*;
        for (v, go) in [
            ("1.19", Some(Go119)),
            ("go1.19.8", Some(Go119)),
            ("1.17", Some(Go119)),
            ("1.20", Some(Go120)),
            ("go1.22.4", Some(Go120)),
            ("1.23", Some(Go123)),
            ("go1.24rc1", Some(Go123)),
            ("1.100", Some(Go123)),
            ("2.0", None),
            ("1.", None),
            ("one", None),
            ("", None),
        ] {
            assert_eq!(GoParse::of_version(v), go, "{v}");
        }
    }
}
