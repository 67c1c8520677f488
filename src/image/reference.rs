//! Docker image references, as `github.com/distribution/reference` parses them.
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ domain "/" ] path-component [ "/" path-component ]*
//! domain     := host [ ":" port ]            host: DNS labels, or "[ipv6]"
//! path-comp  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag        := [\w][\w.-]{0,127}
//! digest     := algorithm ":" hex{32,}
//! ```
//!
//! Normalization (`ParseNormalizedNamed`): no domain means `docker.io`, and a one-component
//! path on `docker.io` gets `library/`. The familiar form strips both again.

use std::fmt;

pub const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_PREFIX: &str = "library/";
const NAME_TOTAL_MAX: usize = 255;

/// A parsed, normalized reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub domain: String,
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// What `ParseAnyReference` returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnyRef {
    /// A bare digest or 64-hex image ID.
    Digest(String),
    Named(Named),
}

/// The errors distribution/reference reports, with its messages.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("invalid reference format")]
    Format,
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    Uppercase(String),
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexName(String),
    #[error("repository name must not be more than {NAME_TOTAL_MAX} characters")]
    NameTooLong,
    #[error("repository name must have at least one component")]
    NameEmpty,
    #[error("invalid checksum digest format")]
    Digest,
}

/// 64 lowercase hex digits: go-digest's sha256 encoding, and the IDs dockerd gives its
/// containers and images.
pub fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `reference.ParseAnyReference`.
pub fn parse_any(s: &str) -> Result<AnyRef, RefError> {
    if is_hex64(s) {
        return Ok(AnyRef::Digest(format!("sha256:{s}")));
    }
    if let Some(d) = valid_digest(s) {
        return Ok(AnyRef::Digest(d));
    }
    parse_normalized_named(s).map(AnyRef::Named)
}

/// `digest.Parse` for the algorithms go-digest registers.
fn valid_digest(s: &str) -> Option<String> {
    crate::digest::Digest::parse(s).ok().map(|d| d.to_string())
}

/// `reference.ParseNormalizedNamed`.
pub fn parse_normalized_named(s: &str) -> Result<Named, RefError> {
    if is_hex64(s) {
        return Err(RefError::HexName(s.to_string()));
    }
    let (domain, remainder) = split_docker_domain(s);
    let remote = remainder.split_once(':').map_or(remainder.as_str(), |(r, _)| r);
    if remote.to_lowercase() != remote {
        return Err(RefError::Uppercase(remote.to_string()));
    }
    parse(&format!("{domain}/{remainder}"))
}

fn split_docker_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first => {
            (first.to_string(), rest.to_string())
        }
        _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN.to_string();
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("{OFFICIAL_PREFIX}{remainder}");
    }
    (domain, remainder)
}

/// `reference.Parse` of a full `domain/path[:tag][@digest]` string.
pub fn parse(s: &str) -> Result<Named, RefError> {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    // The tag separator is the last ':' with no '/' after it.
    let (name, tag) = match rest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (rest, None),
    };
    if name.is_empty() {
        return Err(if s.is_empty() {
            RefError::NameEmpty
        } else {
            RefError::Format
        });
    }
    let (domain, path) = match name.split_once('/') {
        Some((d, p)) if is_domain(d) => (d, p),
        _ => return Err(RefError::Format),
    };
    if !path.split('/').all(is_path_component) {
        return Err(RefError::Format);
    }
    if let Some(t) = tag
        && !is_tag(t)
    {
        return Err(RefError::Format);
    }
    if let Some(d) = digest {
        if !is_digest_syntax(d) {
            return Err(RefError::Format);
        }
        if valid_digest(d).is_none() {
            return Err(RefError::Digest);
        }
    }
    if name.len() > NAME_TOTAL_MAX {
        return Err(RefError::NameTooLong);
    }
    Ok(Named {
        domain: domain.to_string(),
        path: path.to_string(),
        tag: tag.map(str::to_string),
        digest: digest.map(str::to_string),
    })
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let mut i = 0;
    loop {
        let start = i;
        while b.get(i).is_some_and(|&c| is_alnum(c)) {
            i += 1;
        }
        if i == start {
            return false;
        }
        match b.get(i) {
            None => return true,
            Some(b'.') => i += 1,
            Some(b'_') => i += if b.get(i + 1) == Some(&b'_') { 2 } else { 1 },
            Some(b'-') => {
                while b.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// DNS-ish labels with an optional port, or a bracketed IPv6 address.
fn is_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return false;
        };
        if ip.is_empty() || !ip.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return false;
        }
        match after.strip_prefix(':') {
            Some(p) => ("x", Some(p)),
            None if after.is_empty() => ("x", None),
            None => return false,
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b.first().is_some_and(u8::is_ascii_alphanumeric)
            && b.last().is_some_and(u8::is_ascii_alphanumeric)
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    };
    host.split('.').all(label_ok) && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `[\w][\w.-]{0,127}`
fn is_tag(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = t.as_bytes();
    b.len() <= 128 && b.first().is_some_and(|&c| word(c)) && b.iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
fn is_digest_syntax(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|part| {
        let b = part.as_bytes();
        b.first().is_some_and(u8::is_ascii_alphabetic) && b.iter().all(u8::is_ascii_alphanumeric)
    });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Named {
    /// `domain/path`, what `Name()` returns.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The familiar repository: `docker.io/library/x` -> `x`, `docker.io/u/x` -> `u/x`.
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            match self.path.strip_prefix(OFFICIAL_PREFIX) {
                Some(rest) if !rest.contains('/') => rest.to_string(),
                _ => self.path.clone(),
            }
        } else {
            self.name()
        }
    }

    /// `reference.FamiliarString`.
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// `reference.ParseDockerRef` of what [`parse_normalized_named`] gave: a tag beside a
    /// digest is dropped (the digest names the content), and a name alone gets `:latest`
    /// ([`Named::tag_name_only`]). containerd's archive importer names images so
    /// (`normalizeReference`), for `docker load` and `ctr images import` alike.
    pub fn docker_ref(mut self) -> Named {
        if self.digest.is_some() {
            self.tag = None;
        }
        self.tag_name_only()
    }

    /// `reference.TagNameOnly`: `:latest` when there is neither tag nor digest.
    pub fn tag_name_only(mut self) -> Named {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some("latest".into());
        }
        self
    }
}

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        parse_normalized_named(s)
            .map(|n| n.to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn normalizes_like_distribution_reference() {
        assert_eq!(norm("alpine"), "docker.io/library/alpine");
        assert_eq!(norm("alpine:3"), "docker.io/library/alpine:3");
        assert_eq!(norm("lab/collide:1"), "docker.io/lab/collide:1");
        assert_eq!(norm("index.docker.io/alpine"), "docker.io/library/alpine");
        assert_eq!(norm("ghcr.io/example/tool:v1"), "ghcr.io/example/tool:v1");
        assert_eq!(norm("localhost/x"), "localhost/x");
        assert_eq!(norm("localhost:5000/x:1"), "localhost:5000/x:1");
        assert_eq!(norm("sha256:1405"), "docker.io/library/sha256:1405");
        assert_eq!(
            norm("Invalid_Upper:1"),
            "invalid reference format: repository name (library/Invalid_Upper) must be lowercase"
        );
        assert_eq!(norm("a//b"), "invalid reference format");
        assert_eq!(norm("a:b:c"), "invalid reference format");
    }

    /// `reference.ParseDockerRef`, as containerd's importer applies it to RepoTags.
    #[test]
    fn docker_refs_tag_a_bare_name_and_drop_a_tag_beside_a_digest() {
        let d = format!("sha256:{}", "a".repeat(64));
        let docker_ref = |s: &str| parse_normalized_named(s).map(|n| n.docker_ref().to_string());
        assert_eq!(docker_ref("x"), Ok("docker.io/library/x:latest".into()));
        assert_eq!(docker_ref("localhost:5000/x"), Ok("localhost:5000/x:latest".into()));
        assert_eq!(docker_ref("x:1"), Ok("docker.io/library/x:1".into()));
        assert_eq!(docker_ref(&format!("x@{d}")), Ok(format!("docker.io/library/x@{d}")));
        assert_eq!(docker_ref(&format!("x:1@{d}")), Ok(format!("docker.io/library/x@{d}")));
    }

    #[test]
    fn familiar_strings() {
        let n = parse_normalized_named("docker.io/library/alpine:3").ok();
        assert_eq!(n.map(|n| n.familiar()), Some("alpine:3".into()));
        let n = parse_normalized_named("docker.io/u/x").ok().map(Named::tag_name_only);
        assert_eq!(n.map(|n| n.familiar()), Some("u/x:latest".into()));
        let id = "a".repeat(64);
        assert_eq!(parse_any(&id), Ok(AnyRef::Digest(format!("sha256:{id}"))));
        assert!(matches!(parse_any(&format!("x@sha256:{id}")), Ok(AnyRef::Named(_))));
    }
}
