//! Go strings are bytes; the engine's are Rust `str`s. A byte that is not part of a valid
//! UTF-8 character (`"\xff"`, or `slice "é" 0 1`) is held as one character of the last 128
//! code points, U+10FF80..=U+10FFFF (byte `b` as U+10FF00 + `b`), and turned back into that
//! byte wherever Go works on bytes: output, `len`, `index`, `slice`, `%q`, `%x`, comparison.
//!
//! The mapping has no collisions: a character of that range in the data itself is held as
//! its four UTF-8 bytes, each such a stand-in, so it comes back as itself. Every string that
//! enters the engine passes [`encode`] (data) or [`from_bytes`] (literals, byte slices).

use std::borrow::Cow;

/// The stand-in for byte 0x80 is this plus 0x80.
const BASE: u32 = 0x10_FF00;
/// The first stand-in.
const FIRST: char = '\u{10FF80}';

/// Whether the text may hold a stand-in: every character from U+100000 on starts with the
/// byte 0xF4, which a fast byte search finds.
fn may_hold(s: &str) -> bool {
    s.as_bytes().contains(&0xF4) && s.chars().any(|c| c >= FIRST)
}

fn stand_in(b: u8) -> char {
    char::from_u32(BASE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Appends a character to engine text.
pub fn push_char(out: &mut String, c: char) {
    if c >= FIRST {
        let mut buf = [0u8; 4];
        for b in c.encode_utf8(&mut buf).bytes() {
            out.push(stand_in(b));
        }
    } else {
        out.push(c);
    }
}

/// Go's bytes as engine text.
pub fn from_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                s.chars().for_each(|c| push_char(&mut out, c));
                break;
            }
            Err(e) => {
                let (valid, bad) = rest.split_at(e.valid_up_to());
                // `valid` is UTF-8 by the error's word; the fallback only keeps this total.
                String::from_utf8_lossy(valid)
                    .chars()
                    .for_each(|c| push_char(&mut out, c));
                let Some((b, tail)) = bad.split_first() else { break };
                out.push(stand_in(*b));
                rest = tail;
            }
        }
    }
    out
}

/// A Rust string (data) as engine text: the same text unless it holds a stand-in.
pub fn encode(s: &str) -> Cow<'_, str> {
    if !may_hold(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() * 4);
    s.chars().for_each(|c| push_char(&mut out, c));
    Cow::Owned(out)
}

/// The Go bytes engine text stands for.
pub fn bytes(s: &str) -> Cow<'_, [u8]> {
    if !may_hold(s) {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match u32::from(c).checked_sub(BASE) {
            Some(b) if c >= FIRST => out.push(u8::try_from(b).unwrap_or(0xff)),
            _ => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    Cow::Owned(out)
}

/// The text with each stray byte as U+FFFD, as Go's `strings.Map` (and so `upper`, `lower`,
/// `title`) and `encoding/json` read it: one U+FFFD a byte.
pub fn lossy(s: &str) -> Cow<'_, str> {
    let Cow::Owned(b) = bytes(s) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(b.len());
    let mut rest = b.as_slice();
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(v) => {
                out.push_str(v);
                break;
            }
            Err(e) => {
                let (valid, bad) = rest.split_at(e.valid_up_to());
                out.push_str(&String::from_utf8_lossy(valid));
                out.push(char::REPLACEMENT_CHARACTER);
                rest = bad.get(1..).unwrap_or(&[]);
            }
        }
    }
    Cow::Owned(out)
}

/// The longest valid UTF-8 start of `rest`, and what follows it (empty, or starting at the
/// first byte that is no UTF-8).
pub fn valid_prefix(rest: &[u8]) -> (&str, &[u8]) {
    match std::str::from_utf8(rest) {
        Ok(v) => (v, &[][..]),
        Err(e) => {
            let (v, b) = rest.split_at(e.valid_up_to());
            (std::str::from_utf8(v).unwrap_or(""), b)
        }
    }
}

/// Calls `f` on each character of Go's bytes, and on each stray byte (`Err`), in order, as
/// Go's `range` and `utf8.DecodeRune` walk a string; stops at `f`'s first error.
pub fn walk<E>(s: &str, mut f: impl FnMut(Result<char, u8>) -> Result<(), E>) -> Result<(), E> {
    let b = bytes(s);
    let mut rest: &[u8] = &b;
    while !rest.is_empty() {
        let (valid, bad) = valid_prefix(rest);
        for c in valid.chars() {
            f(Ok(c))?;
        }
        if let Some(b) = bad.first() {
            f(Err(*b))?;
        }
        rest = bad.get(1..).unwrap_or(&[]);
    }
    Ok(())
}

/// Appends a stray byte to engine text.
pub fn push_byte(out: &mut String, b: u8) {
    if b < 0x80 {
        out.push(char::from(b));
    } else {
        out.push(stand_in(b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        for b in [
            &b"\xff"[..],
            b"a\xc3",
            b"\xc3\xa9",
            b"\xf4\x8f\xbf\xbf\xff",
            b"",
            b"\xe2\x82",
        ] {
            assert_eq!(bytes(&from_bytes(b)).as_ref(), b);
        }
        assert_eq!(from_bytes(b"\xc3\xa9"), "é");
        // A stand-in in the data comes back as itself.
        let data = "x\u{10FFFF}y";
        assert_eq!(bytes(&encode(data)).as_ref(), data.as_bytes());
        assert_eq!(lossy(&from_bytes(b"a\xffb")), "a\u{fffd}b");
        assert_eq!(lossy(&from_bytes(b"\xe2\x82")), "\u{fffd}\u{fffd}");
    }
}
