//! Making bytes from the file safe to print: no raw control characters, escape sequences or
//! bidirectional overrides from the data ever reach a terminal.

use std::fmt::Write;

/// `b` as text with everything unprintable escaped: control characters as `\n`, `\t`,
/// `\x1b`, `\u{202e}`; bytes that are not UTF-8 as `\xNN`; backslashes doubled.
pub fn escape(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                c => push_escaped(&mut out, c),
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// [`escape_hazards`] of bytes that may not be UTF-8: a byte that is not is written `\xNN`
/// (a U+FFFD in its place could not be told from one in the data).
pub fn escape_hazards_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        out.push_str(&escape_hazards(chunk.valid()));
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// `s` with terminal hazards escaped as [`escape`] does, but newlines, tabs and backslashes
/// kept: for output whose layout a user's template wrote (`--format`), where only the data's
/// escape sequences and bidirectional overrides must not reach the terminal.
pub fn escape_hazards(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && c != '\t' && is_unsafe(c)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' => out.push_str("\\r"),
            // DEL, C1 controls, bidi and zero-width characters as JSON's (and Go's) `\u202e`:
            // a template's `{{json .}}` puts them inside strings, which must stay JSON.
            c if c as u32 >= 0x7f && is_unsafe(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `s` without the ` (os error N)` Rust's `io::Error` ends its text with: the message before
/// it says the same to a user (`No such file or directory`), the number only to a programmer.
pub fn without_os_error(s: &str) -> std::borrow::Cow<'_, str> {
    const MARK: &str = " (os error ";
    if !s.contains(MARK) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(MARK) {
        let after = rest.get(at + MARK.len()..).unwrap_or_default();
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        out.push_str(rest.get(..at).unwrap_or_default());
        if digits > 0 && after.as_bytes().get(digits) == Some(&b')') {
            rest = after.get(digits + 1..).unwrap_or_default();
        } else {
            out.push_str(MARK);
            rest = after;
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The UTF-8 of a character [`escape_hazards`] writes as `\uNNNN` (DEL, C1 controls, bidi,
/// line-separator and zero-width characters, all below U+10000: led by 7F, C2, D8, E2 or EF),
/// with its code point; `None` when `b` does not
/// start with one. `Some(None)`: `b` is too short to tell (a sequence cut by the end).
fn hazard_at(b: &[u8]) -> Option<Option<(usize, u32)>> {
    let (&first, rest) = b.split_first()?;
    let need = match first {
        0x7f => return Some(Some((1, 0x7f))),
        0xc2 | 0xd8 => 2,
        0xe2 | 0xef => 3,
        _ => return None,
    };
    if b.len() < need {
        // Only a prefix of a hazard is worth waiting for.
        return match (first, rest) {
            (0xc2 | 0xd8, []) | (0xe2 | 0xef, []) => Some(None),
            (0xe2, [0x80 | 0x81]) | (0xef, [0xbb | 0xbf]) => Some(None),
            _ => None,
        };
    }
    let c = std::str::from_utf8(b.get(..need)?).ok()?.chars().next()?;
    (is_unsafe(c)).then_some(Some((need, c as u32)))
}

/// Whether `b` may hold a byte of 0x7F or more (DEL, or any byte of a non-ASCII character):
/// per 8 bytes, a byte's high bit, or the high bit adding one sets (0x7F); a carry out of a
/// byte of 0x80 or more can only mark a word that is marked already. No early exit, so it
/// vectorizes.
fn beyond_ascii(b: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above, once per process in effect: the
        // answer is cached).
        return unsafe { beyond_ascii_avx2(b) };
    }
    beyond_ascii_words(b)
}

/// [`beyond_ascii_words`] compiled for AVX2: 32 bytes an instruction, where the baseline's
/// SSE2 takes 16 (a content listing writes 66 MB).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn beyond_ascii_avx2(b: &[u8]) -> bool {
    beyond_ascii_words(b)
}

#[inline(always)]
fn beyond_ascii_words(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let words = b.chunks_exact(8);
    let rest = words
        .remainder()
        .iter()
        .fold(0u8, |acc, &x| acc | (x | x.wrapping_add(1)));
    let marked = words.fold(0u64, |acc, w| {
        let w = u64::from_le_bytes(w.try_into().unwrap_or_default());
        acc | ((w | w.wrapping_add(ONES)) & HIGH)
    });
    marked != 0 || rest & 0x80 != 0
}

/// Standard output for text (listings, reports, JSON): any DEL, C1 control, bidi or
/// zero-width character still raw in what a command writes (only JSON leaves them raw; tables
/// and templates escape them first) goes out as `\uNNNN`, which in a JSON string is the same
/// value. Commands that write bytes (`fs cat`, archives, `bolt get`) are not given it.
pub struct Hazards<W: std::io::Write> {
    inner: W,
    /// The start of a sequence a write ended in the middle of.
    held: Vec<u8>,
}

impl<W: std::io::Write> Hazards<W> {
    pub fn new(inner: W) -> Hazards<W> {
        Hazards {
            inner,
            held: Vec::new(),
        }
    }

    /// Writes `b` whole, hazards escaped; keeps a cut sequence's start for the next write.
    fn put(&mut self, b: &[u8]) -> std::io::Result<()> {
        // Nearly all output is ASCII below DEL: one pass that the compiler vectorizes says so,
        // where the searches below cost a content listing 6% more instructions.
        if !beyond_ascii(b) {
            return self.inner.write_all(b);
        }
        let tail = |at: usize| b.get(at..).unwrap_or_default();
        // Hazards start with one of five bytes; the rest is passed on untouched. Each search
        // runs again only once the scan has passed what it found (text full of `…`, E2 80 A6,
        // would otherwise be searched for EF from every E2 on).
        let find3 = |at: usize| memchr::memchr3(0x7f, 0xc2, 0xd8, tail(at)).map_or(b.len(), |n| at + n);
        let find_ef = |at: usize| memchr::memchr2(0xe2, 0xef, tail(at)).map_or(b.len(), |n| at + n);
        let (mut next3, mut next_ef) = (find3(0), find_ef(0));
        let mut from = 0;
        let mut i = 0;
        while i < b.len() {
            if next3 < i {
                next3 = find3(i);
            }
            if next_ef < i {
                next_ef = find_ef(i);
            }
            i = next3.min(next_ef);
            if i >= b.len() {
                break;
            }
            let passed = b.get(from..i).unwrap_or_default();
            match hazard_at(tail(i)) {
                Some(Some((len, code))) => {
                    self.inner.write_all(passed)?;
                    write!(self.inner, "\\u{code:04x}")?;
                    i += len;
                    from = i;
                }
                Some(None) => {
                    self.inner.write_all(passed)?;
                    self.held.extend_from_slice(tail(i));
                    return Ok(());
                }
                None => i += 1,
            }
        }
        self.inner.write_all(tail(from))
    }
}

impl<W: std::io::Write> std::io::Write for Hazards<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.held.is_empty() {
            self.put(buf)?;
        } else {
            let mut joined = std::mem::take(&mut self.held);
            joined.extend_from_slice(buf);
            self.put(&joined)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // A cut sequence that never went on is no hazard: its bytes as they came.
        let held = std::mem::take(&mut self.held);
        self.inner.write_all(&held)?;
        self.inner.flush()
    }
}

/// `s` on one line: every control character escaped as [`escape`] does (newlines and tabs
/// too), but backslashes kept, so that text already escaped where it was worded (a member
/// name, a `{:?}`) is not escaped twice.
pub fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    std::borrow::Cow::Owned(out)
}

/// `c` as [`escape`] writes it, backslashes aside: control characters as `\n`, `\t`, `\r`,
/// `\xNN`, other hazards as `\u{NNNN}`, anything else as itself.
fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if (c as u32) < 0x80 && c.is_control() => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if is_unsafe(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// True when `b` is UTF-8 that [`escape`] would print unchanged.
pub fn is_plain(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok_and(|s| s.chars().all(|c| c != '\\' && !c.is_control() && !is_unsafe(c)))
}

/// Characters that reorder or hide text on a terminal.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c as u32, 0x061c | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2069 | 0xfeff | 0xfff9..=0xfffb)
}

/// `s` for a message: whole when at most `max` characters, else its first `max` and how long
/// it was (a torn key of megabytes made a line of megabytes on stderr).
pub fn clipped(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(s),
        Some((end, _)) => std::borrow::Cow::Owned(format!(
            "{}… ({} bytes in all)",
            s.get(..end).unwrap_or_default(),
            s.len()
        )),
    }
}

/// The most characters of a name a message prints ([`named`]).
pub const NAME_SHOWN: usize = 200;

/// The most names a message lists as candidates ([`listed`]).
pub const NAMES_LISTED: usize = 10;

/// A name from the records (or given for one) as a message says it: on one line
/// ([`one_line`]) and, past [`NAME_SHOWN`] characters, its start and how many bytes were cut
/// (sweep 42: a 30,000-character lease ID made each message naming it 30 kB).
pub fn named(s: &str) -> String {
    let shown = match s.char_indices().nth(NAME_SHOWN) {
        None => return one_line(s).into_owned(),
        Some((end, _)) => s.get(..end).unwrap_or_default(),
    };
    format!("{}… ({} more bytes)", one_line(shown), s.len() - shown.len())
}

/// Names a message offers as candidates (`namespace x not found (namespaces: a, b, ...)`),
/// each [`named`]: the first [`NAMES_LISTED`], then how many more (sweep 42: 50,000
/// namespaces made one 450 kB line); `none` when there are none.
pub fn listed<'n>(names: impl IntoIterator<Item = &'n str>) -> String {
    let mut shown: Vec<String> = Vec::new();
    let mut more = 0usize;
    for n in names {
        if shown.len() < NAMES_LISTED {
            shown.push(named(n));
        } else {
            more += 1;
        }
    }
    match (shown.is_empty(), more) {
        (true, _) => "none".to_string(),
        (false, 0) => shown.join(", "),
        (false, more) => format!("{}, and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_not_utf8_are_written_as_escapes_not_replaced() {
        assert_eq!(escape_hazards_bytes(b"caf\xc3"), "caf\\xc3");
        assert_eq!(escape_hazards_bytes(b"\xff\xfe a\tb\n"), "\\xff\\xfe a\tb\n");
        assert_eq!(escape_hazards_bytes("\u{fffd}".as_bytes()), "\u{fffd}");
        assert!(!escape_hazards_bytes(b"\x1b[31mred").contains('\x1b'));
    }

    #[test]
    fn named_cuts_long_names_and_listed_caps_the_candidates() {
        assert_eq!(named("a\x1bb"), "a\\x1bb");
        assert_eq!(named("e\u{1b}"), "e\\x1b");
        let long = "L".repeat(30_000);
        let cut = named(&long);
        assert_eq!(cut, format!("{}… (29800 more bytes)", "L".repeat(NAME_SHOWN)));
        let names: Vec<String> = (0..50_000).map(|i| format!("ns{i}")).collect();
        let all = listed(names.iter().map(String::as_str));
        assert_eq!(all, "ns0, ns1, ns2, ns3, ns4, ns5, ns6, ns7, ns8, ns9, and 49990 more");
        assert_eq!(listed(["a", "b"]), "a, b");
        assert_eq!(listed([]), "none");
    }

    #[test]
    fn clipped_keeps_short_text_and_says_how_long_the_rest_was() {
        assert_eq!(clipped("abc", 3), "abc");
        assert_eq!(clipped("abcd", 3), "abc… (4 bytes in all)");
        assert_eq!(clipped("ééé", 2), "éé… (6 bytes in all)");
    }

    #[test]
    fn escapes_terminal_hazards() {
        assert_eq!(escape(b"docker.io/library/alpine:3"), "docker.io/library/alpine:3");
        assert_eq!(escape(b"a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape("x\u{202e}y".as_bytes()), "x\\u{202e}y");
        assert_eq!(escape(b"\xff\x00"), "\\xff\\x00");
        assert_eq!(escape("\u{85}".as_bytes()), "\\u{85}");
        assert!(is_plain(b"sha256:abc"));
        assert!(!is_plain(b"a\nb"));
        assert_eq!(escape_hazards("a\\b\n\tc\x1b[2J\u{202e}"), "a\\b\n\tc\\x1b[2J\\u202e");
        assert_eq!(escape_hazards("\r\x7f\u{85}\u{feff}"), "\\r\\u007f\\u0085\\ufeff");
        assert_eq!(escape_hazards("a\u{61c}b\u{2028}c\u{2029}"), "a\\u061cb\\u2028c\\u2029");
        assert_eq!(one_line("a\\nb\n\tc\x1b[2J\u{202e}"), "a\\nb\\n\\tc\\x1b[2J\\u{202e}");
    }

    /// What [`Hazards`] makes of `chunks` written one after the other.
    fn through_hazards(chunks: &[&[u8]]) -> String {
        use std::io::Write;
        let mut out = Vec::new();
        let mut h = Hazards::new(&mut out);
        for c in chunks {
            h.write_all(c).unwrap();
        }
        h.flush().unwrap();
        drop(h);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn hazards_leave_json_valid_and_text_alone() {
        let raw = "{\"k\":\"a\u{202e}b\u{200b}c\u{feff}d\x7fe\u{85}f\"}";
        let out = through_hazards(&[raw.as_bytes()]);
        assert_eq!(out, "{\"k\":\"a\\u202eb\\u200bc\\ufeffd\\u007fe\\u0085f\"}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["k"], "a\u{202e}b\u{200b}c\u{feff}d\x7fe\u{85}f");
        assert_eq!(through_hazards(&["x\u{61c}y".as_bytes()]), "x\\u061cy");
        // Near misses pass untouched: the ellipsis (E2 80 A6), é, €, U+FFFD, Arabic, newlines.
        let plain = "x…é€\u{fffd}\u{627}\u{61b}\n\ttab ✓";
        assert_eq!(through_hazards(&[plain.as_bytes()]), plain);
        // A sequence cut between two writes, at each place.
        let bytes = "a\u{202e}b".as_bytes();
        for cut in 0..=bytes.len() {
            assert_eq!(
                through_hazards(&[&bytes[..cut], &bytes[cut..]]),
                "a\\u202eb",
                "cut at {cut}"
            );
        }
        // A cut that was no hazard after all comes out as it was.
        assert_eq!(
            through_hazards(&["x\u{2026}".as_bytes()[..2].as_ref(), &"x\u{2026}".as_bytes()[2..]]),
            "x…"
        );
    }

    #[test]
    fn os_error_numbers_are_left_out() {
        assert_eq!(
            without_os_error("/a/b: No such file or directory (os error 2)"),
            "/a/b: No such file or directory"
        );
        assert_eq!(
            without_os_error("x: Permission denied (os error 13); y: Broken pipe (os error 32)!"),
            "x: Permission denied; y: Broken pipe!"
        );
        assert_eq!(without_os_error("name (os error x)"), "name (os error x)");
        assert_eq!(without_os_error("plain"), "plain");
    }

    #[test]
    fn beyond_ascii_marks_del_and_every_non_ascii_byte() {
        assert!(!beyond_ascii(b""));
        assert!(!beyond_ascii(
            b"plain ASCII text, ~ and \x7e and \x00, longer than a word"
        ));
        for at in 0..20 {
            for byte in [0x7f, 0x80, 0xc2, 0xff] {
                let mut b = vec![b'a'; 20];
                b[at] = byte;
                assert!(beyond_ascii(&b), "{byte:#x} at {at}");
                assert!(beyond_ascii_words(&b), "{byte:#x} at {at}");
            }
        }
    }
}
