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
            c if (c as u32) < 0x80 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
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
    c.is_control() || matches!(c as u32, 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2069 | 0xfeff | 0xfff9..=0xfffb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_hazards() {
        assert_eq!(escape(b"docker.io/library/alpine:3"), "docker.io/library/alpine:3");
        assert_eq!(escape(b"a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape("x\u{202e}y".as_bytes()), "x\\u{202e}y");
        assert_eq!(escape(b"\xff\x00"), "\\xff\\x00");
        assert_eq!(escape("\u{85}".as_bytes()), "\\u{85}");
        assert!(is_plain(b"sha256:abc"));
        assert!(!is_plain(b"a\nb"));
        assert_eq!(escape_hazards("a\\b\n\tc\x1b[2J\u{202e}"), "a\\b\n\tc\\x1b[2J\\u{202e}");
        assert_eq!(one_line("a\\nb\n\tc\x1b[2J\u{202e}"), "a\\nb\\n\\tc\\x1b[2J\\u{202e}");
    }
}
