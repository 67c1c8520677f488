//! Content digests (`sha256:<64 hex>`), checked before they ever become a path.
//!
//! A digest read from `meta.db` or a manifest is untrusted text: `sha256:../../etc/passwd`
//! must never reach the filesystem. Only the algorithms containerd's local store walks are
//! accepted, with exactly their hex length, lowercase.

use std::fmt;

/// A validated digest.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    algorithm: &'static str,
    hex: String,
}

/// Why a string is not a digest we can look up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("invalid digest {0:?}: expected <algorithm>:<hex>")]
    Format(String),
    #[error("unsupported digest algorithm in {0:?}")]
    Algorithm(String),
    #[error("invalid digest {0:?}: wrong length or not lowercase hex")]
    Hex(String),
}

impl DigestError {
    /// Why, without the text itself (for a message that names it already).
    pub fn reason(&self) -> &'static str {
        match self {
            DigestError::Format(_) => "expected <algorithm>:<hex>",
            DigestError::Algorithm(_) => "unsupported digest algorithm",
            DigestError::Hex(_) => "wrong length or not lowercase hex",
        }
    }
}

/// The 32 bytes of a sha256 digest's hex: exactly 64 lowercase hex digits, else `None`
/// (a compact key for maps of many digests).
pub fn sha256_bytes(hex: &[u8]) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    // One table load per digit and one check at the end: a big store's du decodes 700,000
    // of these, and a branch per digit cost more than the hash lookups they serve.
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let &[hi, lo] = pair else { return None };
        let (hi, lo) = (nibble(hi), nibble(lo));
        bad |= hi | lo;
        *o = hi << 4 | lo;
    }
    (bad & 0xf0 == 0).then_some(out)
}

/// `sha256:<64 lowercase hex>` of 32 bytes, made in one allocation: gc and du turn every
/// packed gc.ref label back into text, and `format!` with `hex::encode` (two allocations and a
/// char at a time) was ~15% of gc's instructions.
pub fn sha256_text(raw: &[u8; 32]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for &b in raw {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0')));
        }
    }
    out
}

/// `c`'s value as a lowercase hex digit; 0xff (a high nibble set) for any other byte.
fn nibble(c: u8) -> u8 {
    NIBBLE.get(usize::from(c)).copied().unwrap_or(0xff)
}

/// Each byte's value as a lowercase hex digit; 0xff for any other byte.
const NIBBLE: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut rest: &mut [u8] = &mut t;
    let mut c: u8 = 0;
    while let [slot, tail @ ..] = rest {
        *slot = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => 0xff,
        };
        c = c.wrapping_add(1);
        rest = tail;
    }
    t
};

/// A digest as a key of a map or a sort: a sha256 digest's 32 bytes, held inline, or any
/// other digest's (algorithm, rest) as they are spelled. Most keys of a big store are sha256,
/// and comparing or hashing them then reads 32 bytes in the key itself instead of 71 bytes of
/// text somewhere else in memory (cache misses that grew faster than the store).
///
/// Two keys are equal exactly when the texts `<algorithm>:<rest>` are: a sha256 hex that is
/// not 64 lowercase digits stays text, and text is never equal to packed bytes. Build keys
/// with [`DigestKey::of`] and [`DigestKey::of_parts`] only: a `Text` of a packable sha256 digest
/// would break that rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DigestKey<'a> {
    Sha256([u8; 32]),
    Text(&'a str, &'a str),
}

impl<'a> DigestKey<'a> {
    /// The key of `<algorithm>:<rest>` given as its two parts (a blob file: its directory and
    /// its name).
    pub fn of_parts(algorithm: &'a str, rest: &'a str) -> DigestKey<'a> {
        match (algorithm, sha256_bytes(rest.as_bytes())) {
            ("sha256", Some(bytes)) => DigestKey::Sha256(bytes),
            _ => DigestKey::Text(algorithm, rest),
        }
    }

    /// The key of a digest's text, split at its first `:`; `None` without one (such text
    /// names no blob file).
    pub fn of(digest: &'a str) -> Option<DigestKey<'a>> {
        let (algorithm, rest) = digest.split_once(':')?;
        Some(DigestKey::of_parts(algorithm, rest))
    }
}

/// A digest's text kept compactly (du and gc hold every content record of a store: 186,000
/// at 20,000 images): a sha256 digest as its 32 bytes, anything else as the text it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PackedDigest {
    Sha256([u8; 32]),
    /// Text that does not pack (another algorithm, or not a digest at all).
    Text(Box<str>),
}

impl PackedDigest {
    pub fn new(text: String) -> PackedDigest {
        match text
            .strip_prefix("sha256:")
            .and_then(|hex| sha256_bytes(hex.as_bytes()))
        {
            Some(bytes) => PackedDigest::Sha256(bytes),
            None => PackedDigest::Text(text.into_boxed_str()),
        }
    }

    /// Its [`DigestKey`]; `None` for text without a colon (it names no blob file).
    pub fn key(&self) -> Option<DigestKey<'_>> {
        match self {
            PackedDigest::Sha256(bytes) => Some(DigestKey::Sha256(*bytes)),
            PackedDigest::Text(text) => DigestKey::of(text),
        }
    }

    /// Ordered as the texts are (two packed digests: by their bytes, which sort as their hex).
    pub fn cmp_text(&self, other: &PackedDigest) -> std::cmp::Ordering {
        match (self, other) {
            (PackedDigest::Sha256(a), PackedDigest::Sha256(b)) => a.cmp(b),
            (PackedDigest::Text(a), PackedDigest::Text(b)) => a.cmp(b),
            _ => self.to_string().cmp(&other.to_string()),
        }
    }
}

impl fmt::Display for PackedDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackedDigest::Sha256(bytes) => f.write_str(&sha256_text(bytes)),
            PackedDigest::Text(text) => f.write_str(text),
        }
    }
}

impl Digest {
    pub fn parse(s: &str) -> Result<Digest, DigestError> {
        let Some((alg, hex)) = s.split_once(':') else {
            return Err(DigestError::Format(s.to_string()));
        };
        let Some(algorithm) = known_algorithm(alg) else {
            return Err(DigestError::Algorithm(s.to_string()));
        };
        if !valid_hex(algorithm, hex) {
            return Err(DigestError::Hex(s.to_string()));
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_string(),
        })
    }

    /// Whether `<alg>:<hex>` would parse, without building it (what a listing of 50,000 blob
    /// files asks of each name).
    pub fn is_valid(alg: &str, hex: &str) -> bool {
        known_algorithm(alg).is_some_and(|a| valid_hex(a, hex))
    }

    /// Whether `text` would parse ([`Digest::parse`]), without building it.
    pub fn is_valid_text(text: &str) -> bool {
        text.split_once(':')
            .is_some_and(|(alg, hex)| Digest::is_valid(alg, hex))
    }

    /// The sha256 digest of `data`.
    pub fn sha256_of(data: &[u8]) -> Digest {
        use sha2::Digest as _;
        Digest {
            algorithm: "sha256",
            hex: hex::encode(sha2::Sha256::digest(data)),
        }
    }

    pub fn algorithm(&self) -> &'static str {
        self.algorithm
    }

    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// `blobs/<algorithm>/<hex>`, relative to the content store: safe by construction.
    pub fn blob_path(&self) -> std::path::PathBuf {
        ["blobs", self.algorithm, &self.hex].iter().collect()
    }
}

/// The algorithm names accepted, as static strings.
fn known_algorithm(alg: &str) -> Option<&'static str> {
    match alg {
        "sha256" => Some("sha256"),
        "sha384" => Some("sha384"),
        "sha512" => Some("sha512"),
        _ => None,
    }
}

/// Exactly the algorithm's hex length, lowercase.
fn valid_hex(algorithm: &str, hex: &str) -> bool {
    let len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        _ => 128,
    };
    // As `sha256_bytes` checks its digits: every byte looked up, one check at the end.
    hex.len() == len && hex.bytes().fold(0u8, |bad, b| bad | nibble(b)) & 0xf0 == 0
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each byte value at each place of a digest: lowercase hex digits are taken, every other
    /// byte (uppercase, the bytes around '0'..'9' and 'a'..'f', non-ASCII) refused.
    #[test]
    fn digests_take_lowercase_hex_only() {
        for at in [0, 7, 8, 63] {
            for b in 0..=255u8 {
                let mut hex = vec![b'0'; 64];
                hex[at] = b;
                let Ok(hex) = String::from_utf8(hex) else {
                    continue;
                };
                let want = b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
                assert_eq!(Digest::parse(&format!("sha256:{hex}")).is_ok(), want, "{b:#x} at {at}");
            }
        }
        assert!(Digest::parse(&format!("sha256:{}", "a".repeat(63))).is_err());
        assert!(Digest::parse(&format!("sha512:{}", "f".repeat(128))).is_ok());
    }

    #[test]
    fn sha256_text_is_the_hex_of_the_bytes() {
        let mut raw = [0u8; 32];
        for (i, b) in raw.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        for bytes in [[0u8; 32], [0xff; 32], raw] {
            let text = sha256_text(&bytes);
            assert_eq!(text, format!("sha256:{}", hex::encode(bytes)));
            assert_eq!(
                sha256_bytes(text.strip_prefix("sha256:").unwrap().as_bytes()),
                Some(bytes)
            );
        }
    }

    #[test]
    fn packed_digests_print_and_sort_as_their_text() {
        let texts = [
            format!("sha256:{}", "0f".repeat(32)),
            format!("sha256:{}", "0F".repeat(32)),
            "sha256:short".to_string(),
            format!("sha256:{}", "a0".repeat(32)),
            format!("sha512:{}", "1".repeat(128)),
            "nocolon".to_string(),
        ];
        let packed: Vec<PackedDigest> = texts.iter().cloned().map(PackedDigest::new).collect();
        assert!(matches!(packed[0], PackedDigest::Sha256(_)));
        assert!(matches!(packed[1], PackedDigest::Text(_)));
        for (p, t) in packed.iter().zip(&texts) {
            assert_eq!(&p.to_string(), t);
            assert_eq!(p.key(), DigestKey::of(t));
        }
        for (a, ta) in packed.iter().zip(&texts) {
            for (b, tb) in packed.iter().zip(&texts) {
                assert_eq!(a.cmp_text(b), ta.cmp(tb), "{ta} vs {tb}");
                assert_eq!(a == b, ta == tb);
            }
        }
    }

    #[test]
    fn digest_keys_are_equal_exactly_when_the_texts_are() {
        let hex = "ab".repeat(32);
        let text = format!("sha256:{hex}");
        assert_eq!(DigestKey::of(&text), Some(DigestKey::of_parts("sha256", &hex)));
        assert!(matches!(DigestKey::of(&text), Some(DigestKey::Sha256(_))));
        // Uppercase hex names a different file: it must not pack to the same bytes.
        let upper = format!("sha256:{}", hex.to_uppercase());
        assert_ne!(DigestKey::of(&upper), DigestKey::of(&text));
        assert_eq!(
            DigestKey::of(&upper),
            Some(DigestKey::Text("sha256", &hex.to_uppercase()))
        );
        // Other algorithms and odd text stay text, split at the first colon.
        assert_eq!(DigestKey::of("sha512:a:b"), Some(DigestKey::Text("sha512", "a:b")));
        assert_eq!(DigestKey::of("nocolon"), None);
        // Packed bytes sort as their hex does.
        let lo = format!("sha256:{}", "0f".repeat(32));
        let hi = format!("sha256:{}", "a0".repeat(32));
        assert!(DigestKey::of(&lo) < DigestKey::of(&hi));
    }

    #[test]
    fn only_well_formed_digests_become_paths() {
        let good = format!("sha256:{}", "ab".repeat(32));
        let d = Digest::parse(&good).ok();
        assert_eq!(d.as_ref().map(|d| d.to_string()), Some(good.clone()));
        assert_eq!(
            d.map(|d| d.blob_path()),
            Some(["blobs", "sha256", &"ab".repeat(32)].iter().collect())
        );
        for bad in [
            "sha256:../../etc/passwd",
            "sha256:ABAB",
            &format!("sha256:{}", "AB".repeat(32)),
            &format!("sha256:{}/", "ab".repeat(32)),
            &format!("md5:{}", "ab".repeat(16)),
            "sha256",
            "",
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Digest::sha256_of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
