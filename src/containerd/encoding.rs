//! containerd's small value encodings: Go `encoding/binary` varints and serialized
//! `google.protobuf.Any`.
//!
//! ```text
//! uvarint: 7 bits per byte, low group first, high bit = more follows, at most 10 bytes
//! varint:  zig-zag over uvarint (0 -> 00, -1 -> 01, 1 -> 02, 3 -> 06)
//! Any:     0x0a len(uvarint) type_url | 0x12 len(uvarint) value
//! ```

/// Go's `binary.Uvarint`: the value and the bytes it used, or `None` for a truncated or
/// overflowing encoding.
pub fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x: u64 = 0;
    for (i, &byte) in b.iter().enumerate().take(10) {
        if i == 9 && byte > 1 {
            return None;
        }
        x |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some((x, i + 1));
        }
    }
    None
}

/// Go's `binary.Varint` (zig-zag).
pub fn varint(b: &[u8]) -> Option<(i64, usize)> {
    let (u, n) = uvarint(b)?;
    let x = (u >> 1) as i64;
    Some((if u & 1 != 0 { !x } else { x }, n))
}

/// A varint that must fill the whole value, as containerd writes them.
pub fn varint_exact(b: &[u8]) -> Option<i64> {
    varint(b).filter(|&(_, n)| n == b.len()).map(|(v, _)| v)
}

/// A uvarint that must fill the whole value.
pub fn uvarint_exact(b: &[u8]) -> Option<u64> {
    uvarint(b).filter(|&(_, n)| n == b.len()).map(|(v, _)| v)
}

/// A serialized `google.protobuf.Any`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Any<'a> {
    pub type_url: &'a str,
    pub value: &'a [u8],
}

/// Parses a serialized Any; unknown fields are skipped, anything malformed is `None`. A field
/// left out is its default, as protobuf reads it: no bytes at all are an empty Any (type URL
/// `""`, no value), which is what containerd stores for an empty one.
pub fn any(mut b: &[u8]) -> Option<Any<'_>> {
    let mut type_url = None;
    let mut value: &[u8] = &[];
    while !b.is_empty() {
        let (tag, n) = uvarint(b)?;
        b = b.get(n..)?;
        match tag & 7 {
            2 => {
                let (len, n) = uvarint(b)?;
                let len = usize::try_from(len).ok()?;
                let field = b.get(n..n.checked_add(len)?)?;
                b = b.get(n + len..)?;
                match tag >> 3 {
                    1 => type_url = Some(std::str::from_utf8(field).ok()?),
                    2 => value = field,
                    _ => {}
                }
            }
            0 => b = b.get(uvarint(b)?.1..)?,
            _ => return None,
        }
    }
    Some(Any {
        type_url: type_url.unwrap_or_default(),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_go() {
        // Vectors from containerd-metadata-schema.md.
        for (hex, v) in [
            ("06", 3),
            ("08", 4),
            ("fc0f", 1022),
            ("849001", 9218),
            ("feadba03", 3623807),
            ("8080a401", 1343488),
            ("00", 0),
            ("01", -1),
        ] {
            let b: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            assert_eq!(varint_exact(&b), Some(v), "{hex}");
        }
        assert_eq!(uvarint(&[0x11]), Some((17, 1)));
        assert_eq!(uvarint(&[0x80]), None);
        assert_eq!(uvarint(&[0xff; 11]), None);
        assert_eq!(varint_exact(&[0x06, 0x00]), None);
    }

    #[test]
    fn any_reads_type_url_and_value() {
        let mut b = vec![0x0a, 3, b'a', b'/', b'b', 0x12, 2, b'{', b'}'];
        assert_eq!(
            any(&b),
            Some(Any {
                type_url: "a/b",
                value: b"{}"
            })
        );
        b[1] = 200;
        assert_eq!(any(&b), None);
        // Fields left out are their defaults (sweep 42, L1: a 0-byte spec is an empty Any).
        assert_eq!(
            any(&[]),
            Some(Any {
                type_url: "",
                value: b""
            })
        );
        assert_eq!(
            any(&[0x12, 1, b'x']),
            Some(Any {
                type_url: "",
                value: b"x"
            })
        );
    }
}
