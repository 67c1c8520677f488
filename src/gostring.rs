//! JSON strings as Go's `encoding/json` decodes them, for the files Go programs wrote and read
//! back (image configs, manifests and indexes, Docker's `config.v2.json`).
//!
//! Go's decoder is lenient where serde_json is strict: inside a string, a byte that is not
//! part of valid UTF-8 reads as U+FFFD (`utf8.RuneError`, one per byte), and a `\uXXXX`
//! escape of a UTF-16 surrogate that is not a high one followed by a low one's escape reads as
//! U+FFFD too (`unquote` in `encoding/json/decode.go`). Such a document is what dockerd and
//! containerd read, so it is what coldctr reads: when the strict parse fails, the bytes are
//! rewritten the way Go reads them and parsed again. Only the parse sees the rewritten bytes;
//! a digest is always of the file's own.

/// `parse(json)`; when that fails and `json` has something Go's decoder reads as U+FFFD,
/// `parse` of the document as Go reads it ([`as_go_reads`]), whose error is then the one
/// returned (what a document that is damaged beyond its strings fails with in Go too).
pub fn parse_like_go<T, E>(json: &[u8], parse: impl Fn(&[u8]) -> Result<T, E>) -> Result<T, E> {
    parse(json).or_else(|e| match as_go_reads(json) {
        Some(fixed) => parse(&fixed),
        None => Err(e),
    })
}

/// `serde_json::from_slice`, reading strings as Go does ([`parse_like_go`]).
pub fn from_slice<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, serde_json::Error> {
    parse_like_go(json, |b| serde_json::from_slice(b))
}

const REPLACEMENT: &[u8] = "\u{fffd}".as_bytes();

/// `json` with every byte that is not part of valid UTF-8 replaced by U+FFFD, and every
/// escape of a surrogate that is not half of a valid pair replaced by `\ufffd`; `None` when
/// there is neither. Bytes outside strings are rewritten alike, which is harmless: there they
/// are a syntax error before and after.
pub fn as_go_reads(json: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(json.len());
    let mut changed = false;
    let mut i = 0;
    while let Some(&b) = json.get(i) {
        if b == b'\\' {
            if json.get(i + 1) == Some(&b'u')
                && let Some(r) = hex4(json, i + 2)
            {
                if !(0xD800..0xE000).contains(&r) {
                    out.extend_from_slice(json.get(i..i + 6).unwrap_or_default());
                    i += 6;
                } else if r < 0xDC00
                    && json.get(i + 6) == Some(&b'\\')
                    && json.get(i + 7) == Some(&b'u')
                    && hex4(json, i + 8).is_some_and(|lo| (0xDC00..0xE000).contains(&lo))
                {
                    out.extend_from_slice(json.get(i..i + 12).unwrap_or_default());
                    i += 12;
                } else {
                    // Go: "Invalid surrogate; fall back to replacement rune." The escape after
                    // a lone high surrogate is read on its own.
                    out.extend_from_slice(b"\\ufffd");
                    changed = true;
                    i += 6;
                }
                continue;
            }
            // Any other escape: the backslash and, when ASCII, the byte it escapes (so that
            // `\\` followed by `u` is not taken for an escape). A bad escape stays bad.
            out.push(b);
            i += 1;
            if let Some(&next) = json.get(i)
                && next.is_ascii()
            {
                out.push(next);
                i += 1;
            }
            continue;
        }
        if b.is_ascii() {
            out.push(b);
            i += 1;
            continue;
        }
        // Go's `utf8.DecodeRune`: a sequence of the length its first byte says, valid as a
        // whole, or one RuneError for the first byte alone.
        let len = match b {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => 0,
        };
        match json
            .get(i..i + len)
            .filter(|s| len > 0 && std::str::from_utf8(s).is_ok())
        {
            Some(seq) => {
                out.extend_from_slice(seq);
                i += len;
            }
            None => {
                out.extend_from_slice(REPLACEMENT);
                changed = true;
                i += 1;
            }
        }
    }
    changed.then_some(out)
}

/// The four hex digits at `at`, as Go's `getu4` reads them.
fn hex4(json: &[u8], at: usize) -> Option<u32> {
    let digits = json.get(at..at + 4)?;
    digits
        .iter()
        .try_fold(0u32, |r, &c| Some(r * 16 + char::from(c).to_digit(16)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(json: &[u8]) -> String {
        let fixed = as_go_reads(json).unwrap_or_else(|| json.to_vec());
        serde_json::from_slice::<String>(&fixed).unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn reads_strings_as_go_does() {
        // What Go's json.Unmarshal into a string made of each (go1.19 and go1.24 agree).
        assert_eq!(go(br#""\ud800""#), "\u{fffd}");
        assert_eq!(go(br#""\udc00x""#), "\u{fffd}x");
        assert_eq!(go(br#""\ud800\u0041""#), "\u{fffd}A");
        assert_eq!(go(br#""\ud800\ud800\udc00""#), "\u{fffd}\u{10000}");
        assert_eq!(go(br#""\uD83D\uDE00""#), "\u{1f600}");
        assert_eq!(go(br#""\\ud800""#), "\\ud800");
        assert_eq!(go(b"\"x\xffy\""), "x\u{fffd}y");
        // One RuneError per byte, where Rust's lossy decoding makes one per sequence.
        assert_eq!(go(b"\"\xe2\x82\""), "\u{fffd}\u{fffd}");
        assert_eq!(go(b"\"\xed\xa0\x80\""), "\u{fffd}\u{fffd}\u{fffd}");
        assert_eq!(go(b"\"\xf0\x9f\x98\""), "\u{fffd}\u{fffd}\u{fffd}");
        assert_eq!(go(b"\"\xc0\xaf\""), "\u{fffd}\u{fffd}");
        assert_eq!(go(b"\"\xf4\x90\x80\x80\""), "\u{fffd}\u{fffd}\u{fffd}\u{fffd}");
        assert_eq!(go(b"\"\xf5\""), "\u{fffd}");
        assert_eq!(go("\"é😀\"".as_bytes()), "é😀");
    }

    #[test]
    fn leaves_valid_and_hopeless_documents_alone() {
        assert_eq!(as_go_reads(br#"{"a":"\u00e9\n\"\\"}"#), None);
        assert_eq!(as_go_reads(br#""\ud8"#), None);
        assert_eq!(as_go_reads(br#""\uZZZZ""#), None);
        assert_eq!(as_go_reads(b"\\"), None);
        // Still an error after the rewrite: the rewritten document's error is the one given.
        let e = from_slice::<Vec<String>>(b"[\"\xff\",]").unwrap_err();
        assert!(e.to_string().contains("trailing comma"), "{e}");
        assert_eq!(from_slice::<Vec<String>>(b"[\"\xff\"]").unwrap(), ["\u{fffd}"]);
    }
}
