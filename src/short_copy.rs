//! Copies of short byte strings (a label key, a digest, a time) that, in the static musl
//! build, do not call the C library's `memcpy`.
//!
//! A listing makes dozens of such copies per record: each string decoded from a page into a
//! `String`, each written into a row. glibc's `memcpy` does a short copy in a few vector
//! moves; musl's (the static build's) starts every copy with `rep movsq` and ends it with a
//! `movsb` per leftover byte, and that start-up cost was a sixth to a quarter of a static
//! build's `content`. Here a short copy is made of blocks of fixed size, 16, 8, 4, 2 and 1
//! bytes, which the compiler turns into plain moves; a long one still goes to `memcpy`, where
//! `rep movsq` pays. Other builds copy as usual.

/// Past this length a copy goes to `memcpy` as usual.
const SHORT: usize = 128;

/// Appends `bytes` to `out`: in blocks on musl, with glibc's `memcpy` elsewhere (the blocks
/// cost more instructions than glibc's copy: 13% more for `content`).
pub fn append(out: &mut Vec<u8>, bytes: &[u8]) {
    if cfg!(target_env = "musl") {
        append_in_blocks(out, bytes);
    } else {
        out.extend_from_slice(bytes);
    }
}

/// `s` as an owned `String` (what `s.to_string()` makes), in blocks on musl (see [`append`]).
pub fn string(s: &str) -> String {
    if cfg!(target_env = "musl") {
        string_in_blocks(s)
    } else {
        s.to_owned()
    }
}

/// Appends `bytes` to `out` in blocks of fixed size.
fn append_in_blocks(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() > SHORT {
        out.extend_from_slice(bytes);
        return;
    }
    out.reserve(bytes.len());
    let mut rest = bytes;
    while let Some((block, tail)) = rest.split_first_chunk::<16>() {
        out.extend_from_slice(block);
        rest = tail;
    }
    if let Some((block, tail)) = rest.split_first_chunk::<8>() {
        out.extend_from_slice(block);
        rest = tail;
    }
    if let Some((block, tail)) = rest.split_first_chunk::<4>() {
        out.extend_from_slice(block);
        rest = tail;
    }
    if let Some((block, tail)) = rest.split_first_chunk::<2>() {
        out.extend_from_slice(block);
        rest = tail;
    }
    if let Some(&b) = rest.first() {
        out.push(b);
    }
}

/// `s` as an owned `String`, copied in blocks of fixed size.
fn string_in_blocks(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    if s.len() > SHORT {
        out.push_str(s);
        return out;
    }
    // Split on character boundaries only (every index of ASCII text is one): a split that
    // would fall inside a character leaves the rest to one copy at the end.
    let mut rest = s;
    while let Some((block, tail)) = rest.split_at_checked(16) {
        out.push_str(block);
        rest = tail;
    }
    if let Some((block, tail)) = rest.split_at_checked(8) {
        out.push_str(block);
        rest = tail;
    }
    if let Some((block, tail)) = rest.split_at_checked(4) {
        out.push_str(block);
        rest = tail;
    }
    if let Some((block, tail)) = rest.split_at_checked(2) {
        out.push_str(block);
        rest = tail;
    }
    if let Some((block, tail)) = rest.split_at_checked(1) {
        out.push_str(block);
        rest = tail;
    }
    if !rest.is_empty() {
        out.push_str(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{append_in_blocks as append, string_in_blocks as string};

    #[test]
    fn appends_copy_every_length_whole() {
        let source: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..=source.len() {
            let mut out = b"head".to_vec();
            append(&mut out, &source[..len]);
            assert_eq!(&out[..4], b"head", "length {len}");
            assert_eq!(&out[4..], &source[..len], "length {len}");
        }
    }

    #[test]
    fn strings_copy_every_length_and_character_whole() {
        // ASCII, and text whose characters of 2, 3 and 4 bytes fall across every block edge.
        let texts = [
            "containerd.io/gc.ref.content.l.0123456789abcdefghijklmnopqrstuvwxyz".repeat(3),
            "é€😀a".repeat(40),
        ];
        for text in &texts {
            for (end, _) in text.char_indices().chain([(text.len(), ' ')]) {
                for (start, _) in text[..end].char_indices() {
                    let s = &text[start..end];
                    assert_eq!(string(s), s, "{start}..{end}");
                    assert_eq!(string(s).capacity(), s.len(), "{start}..{end}");
                }
            }
        }
        assert_eq!(string(""), "");
    }
}
