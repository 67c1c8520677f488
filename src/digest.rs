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

/// The 32 bytes of a sha256 digest's hex: exactly 64 lowercase hex digits, else `None`
/// (a compact key for maps of many digests).
pub fn sha256_bytes(hex: &[u8]) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let &[hi, lo] = pair else { return None };
        *o = nibble(hi)? << 4 | nibble(lo)?;
    }
    Some(out)
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
    hex.len() == len && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
