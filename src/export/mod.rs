//! `coldctr export`: images of a containerd root written out as an OCI image layout, an OCI
//! archive or a docker-archive, from disk, re-hashing every blob on the way.
//!
//! Two steps. [`Exporter`] walks each image's graph from its record's target and decides
//! which blobs go out ([`Plan`]): the documents (indexes, manifests, configs) are read and
//! checked against their digest and size; layers are only looked at (content record, regular
//! file of the right size). [`write`] then streams every blob from the content store, hashed
//! again while it is copied. The plan keeps no blob's bytes, so that an export of thousands
//! of images fits a small memory cgroup: a document another image needs again is read and
//! checked again. What the walk cannot find or finds damaged is a [`Problem`], named with its
//! digest and image: the export then fails, or with `salvage` goes out without it.
//!
//! Platform selection follows `docker save` on the containerd image store (docker 28, moby
//! `daemon/containerd/image_exporter.go`): by default the record's target is kept (the index
//! when there is one) with every platform whose manifest is on the node, the host's preferred
//! one complete; containerd's `WithSkipMissing` keeps a present manifest whose blobs are not
//! all there without them. `--platform` exports that platform's manifest alone (the target
//! becomes the manifest, as moby's `getPushDescriptor`); `--all-platforms` requires every
//! manifest the index names.

pub mod mounts;
pub mod place;
pub mod tar;
mod walk;
pub mod write;

pub use walk::Exporter;

use crate::digest::Digest;
use crate::image::document::Descriptor;
use crate::image::platform::Platform;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The name annotations of index.json entries, written here as the layout reader reads them:
/// containerd's (`images.AnnotationImageName`) and OCI's tag (`ocispec.AnnotationRefName`).
pub use crate::source::layout::{CONTAINERD_NAME as ANNOTATION_IMAGE_NAME, REF_NAME as ANNOTATION_REF_NAME};
/// Ours, in salvage mode: blobs the image needs that were not on disk (sorted, comma-separated).
pub const ANNOTATION_MISSING: &str = "io.coldctr.missing";
/// Ours, in salvage mode: blobs that were there but damaged, not written.
pub const ANNOTATION_DAMAGED: &str = "io.coldctr.damaged";
/// Ours, in salvage mode: blobs that were there but could not be read (permissions), not
/// written; nothing says they are damaged.
pub const ANNOTATION_UNREADABLE: &str = "io.coldctr.unreadable";

/// Which manifests of an index go out.
#[derive(Clone, Debug)]
pub enum Selection {
    /// `docker save`'s default: every platform present, the host's preferred one complete.
    Default,
    /// `--platform P`: only P's manifest (strict match), as the exported target.
    Platform(Platform),
    /// `--all-platforms`: every manifest the index names, all required.
    All,
}

/// What is wrong with one blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// No content record in the namespace, or no file.
    Missing,
    /// There, but not what its descriptor says (digest, size, not a regular file, not JSON).
    Damaged,
    /// Could not be read at all (permissions).
    Unreadable,
}

/// A blob an image needs that does not go out as it should.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Problem {
    pub image: String,
    pub digest: String,
    pub fault: Fault,
    pub detail: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.fault {
            Fault::Missing => "missing",
            Fault::Damaged => "damaged",
            Fault::Unreadable => "unreadable",
        };
        write!(f, "{}: blob {} {what}: {}", self.image, self.digest, self.detail)
    }
}

/// One blob of the output: read from the content store when it is written (documents were
/// read and checked by the walk already; every blob is hashed again as it is copied).
#[derive(Clone, Debug)]
pub struct Blob {
    pub digest: Digest,
    pub size: u64,
    /// The first image that needs it, for messages (one string for all of an image's blobs).
    pub image: Arc<str>,
    /// Planned as a document (read and checked by the walk), not as a layer.
    pub document: bool,
}

/// A `manifest.json` entry (docker-archive).
#[derive(Clone, Debug, Default)]
pub struct DockerEntry {
    pub manifest: String,
    pub config: String,
    /// The config's media type: not an image config's for an OCI artifact (an SBOM, a
    /// signature), which loaders of a docker-archive refuse.
    pub config_media_type: String,
    pub layers: Vec<String>,
    pub repo_tags: Vec<String>,
    /// Foreign layers by diff ID: their descriptors (moby's `LayerSources`), blobs not written.
    pub layer_sources: BTreeMap<String, LayerSource>,
}

/// A foreign layer's descriptor in manifest.json (`distribution.Descriptor`'s field order).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LayerSource {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
}

/// Everything the output holds, decided before a byte is written.
#[derive(Debug, Default)]
pub struct Plan {
    /// By digest string (the writer sorts them by their member names).
    pub blobs: BTreeMap<String, Blob>,
    /// index.json's entries, in reference order.
    pub index: Vec<IndexEntry>,
    /// manifest.json's entries, in reference order.
    pub docker: Vec<DockerEntry>,
    pub problems: Vec<Problem>,
    /// What was left out on purpose (platforms not on the node, foreign layers): said on stderr.
    pub notes: Vec<String>,
}

/// Why an export cannot go on at all (not a blob's damage).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The image has no manifest for the requested platform.
    #[error("image with reference {reference} was found but does not provide the specified platform ({platform})")]
    NoPlatform { reference: String, platform: String },
    /// The image's index names the platform, but its manifest is not on this node (that
    /// platform was never pulled): not damage, as the default export leaves it out.
    #[error(
        "image with reference {reference} names {platform} (manifest {manifest}), but it is not on this node: never pulled"
    )]
    NotPulled {
        reference: String,
        platform: String,
        manifest: String,
    },
}

impl Fault {
    /// What a failed read of a blob says about it.
    pub fn of(e: &crate::containerd::root::BlobError) -> Fault {
        use crate::containerd::root::BlobError;
        match e {
            BlobError::NotFound(_) | BlobError::Lost { .. } => Fault::Missing,
            BlobError::Io { .. } => Fault::Unreadable,
            _ => Fault::Damaged,
        }
    }
}

/// A layer whose blob is not ours to copy: a non-distributable media type, as containerd's
/// `IsNonDistributable` (a prefix of the type) that `WithSkipNonDistributableBlobs` asks.
/// `urls` alone make no layer foreign: any descriptor may carry them, and ctr exports the
/// blob of a `tar+gzip` layer with `urls` as any other.
pub fn is_foreign(d: &Descriptor) -> bool {
    d.media_type
        .starts_with("application/vnd.oci.image.layer.nondistributable.")
        || d.media_type.starts_with("application/vnd.docker.image.rootfs.foreign.")
}

/// `blobs/<alg>/<hex>`: a digest that does not parse keeps its text (it names no member).
pub fn member_name(digest: &str) -> String {
    match Digest::parse(digest) {
        Ok(d) => format!("blobs/{}/{}", d.algorithm(), d.hex()),
        Err(_) => format!("blobs/{}", digest.replace(':', "/")),
    }
}

/// containerd's `ociReferenceName`: the object of `reference.Parse(name)` (the tag, with
/// `@digest` when there is one, `@digest` alone, or empty), or the whole name where that
/// parse fails. The parse reads `dummy://NAME` as a URL: the host runs to the first `/` (after
/// any `user@`), a `:port` on it must be digits, the object starts at the first `:` or `@` of
/// the path. So `x:1` (a host with a port, no path) has no object, and `moby-dangling@sha256:…`
/// (a user, then a host whose port is no number) fails and is kept whole (sweep 24).
pub fn oci_reference_name(name: &str) -> String {
    reference_object(name).unwrap_or_else(|| name.to_string())
}

/// The object of containerd's `reference.Parse(name)`, `None` where Go's `url.Parse` of
/// `dummy://NAME` fails or finds no host. (A `%` escape before the path, which no image name
/// has, is taken as a failure; in the path it is unescaped first, as Go's parse does.)
fn reference_object(name: &str) -> Option<String> {
    if name.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    // The fragment and the query are no part of the path.
    let name = name.split('#').next().unwrap_or_default();
    let name = name.split('?').next().unwrap_or_default();
    let (authority, path) = match name.find('/') {
        Some(i) => (name.get(..i)?, name.get(i..)?),
        None => (name, ""),
    };
    if authority.contains('%') {
        return None;
    }
    let path = unescaped(path)?;
    let host = match authority.rfind('@') {
        Some(i) => {
            let user = authority.get(..i)?;
            // Go's `validUserinfo`: unreserved, sub-delims, `:` (and `%`, refused above).
            let ok = |c: char| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:".contains(c);
            if !user.chars().all(ok) {
                return None;
            }
            authority.get(i + 1..)?
        }
        None => authority,
    };
    if host.starts_with('[') {
        // An IPv6 literal: `]`, then an optional `:port`.
        let close = host.find(']')?;
        let port = host.get(close + 1..)?;
        if !(port.is_empty()
            || port
                .strip_prefix(':')
                .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit())))
        {
            return None;
        }
    } else if let Some(i) = host.rfind(':')
        && !host.get(i + 1..)?.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // Go's host characters (`shouldEscape` in host mode, which passes every byte past ASCII):
    // a space or `{` fails the parse.
    let host_char = |c: char| !c.is_ascii() || c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:[]<>\"".contains(c);
    if host.is_empty() || !host.chars().all(host_char) {
        return None;
    }
    Some(match path.find([':', '@']) {
        Some(i) => {
            let object = path.get(i..)?;
            object.strip_prefix(':').unwrap_or(object).to_string()
        }
        None => String::new(),
    })
}

/// A URL path with its `%XX` escapes decoded, as Go's `url.Parse` sets `Path`: `None` where an
/// escape is not two hex digits (the parse fails), or the bytes are not UTF-8.
fn unescaped(path: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !path.contains('%') {
        return Some(std::borrow::Cow::Borrowed(path));
    }
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let s = std::str::from_utf8(hex).ok()?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(s, 16).ok()?);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok().map(std::borrow::Cow::Owned)
}

/// An index.json entry, in Go's field order for `ocispec.Descriptor` (mediaType, digest,
/// size, urls, annotations, platform); annotations sorted by key, as Go marshals maps.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IndexEntry {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_names_as_containerd() {
        assert_eq!(oci_reference_name("docker.io/library/webapp:1.0"), "1.0");
        assert_eq!(oci_reference_name("example.org:5000/team/saved:old"), "old");
        assert_eq!(oci_reference_name("example.org:5000/team/saved"), "");
        assert_eq!(oci_reference_name("docker.io/x/y@sha256:ab"), "@sha256:ab");
        assert_eq!(oci_reference_name("docker.io/x/y:t@sha256:ab"), "t@sha256:ab");
        // Sweep 24, against ctr export (containerd 1.6): a name without a path is a host
        // with a port, no object; one whose `user@host:port` does not parse is kept whole.
        assert_eq!(oci_reference_name("x:1"), "");
        let dangling = format!("moby-dangling@sha256:{}", "1e86".repeat(16));
        assert_eq!(oci_reference_name(&dangling), dangling);
        assert_eq!(oci_reference_name("localhost:5000/z"), "");
        assert_eq!(oci_reference_name("localhost:5000/z:2"), "2");
        assert_eq!(oci_reference_name("x"), "");
        assert_eq!(oci_reference_name("x:y/z:1"), "x:y/z:1");
        assert_eq!(oci_reference_name("my reg/x:1"), "my reg/x:1");
        assert_eq!(oci_reference_name("reg{1}/x:2"), "reg{1}/x:2");
        // Sweep 40, against Go 1.19's url.Parse: bytes past ASCII and `<>"` in a host; escapes
        // in the path decoded (a bad one fails the parse).
        assert_eq!(oci_reference_name("café/app:1"), "1");
        assert_eq!(oci_reference_name("a\u{202e}b:1"), "");
        assert_eq!(oci_reference_name("é:1"), "");
        assert_eq!(oci_reference_name("a<b>/c:1"), "1");
        assert_eq!(oci_reference_name("a\"b/c:2"), "2");
        assert_eq!(oci_reference_name("h/p%41:4"), "4");
        assert_eq!(oci_reference_name("h/p%3Ax"), "x");
        assert_eq!(oci_reference_name("h/p%zz:5"), "h/p%zz:5");
        assert_eq!(oci_reference_name("h%41/p:6"), "h%41/p:6");
    }

    #[test]
    fn foreign_layers() {
        let mut d = Descriptor {
            media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
            ..Descriptor::default()
        };
        assert!(!is_foreign(&d));
        // URLs on a distributable type (sweep 26): exported with its blob, as ctr does.
        d.urls = Some(vec!["https://example.invalid/l".into()]);
        assert!(!is_foreign(&d));
        d.urls = None;
        d.media_type = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip".into();
        assert!(is_foreign(&d));
        d.media_type = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip".into();
        assert!(is_foreign(&d));
        // Only as a prefix, as containerd matches it.
        d.media_type = "application/x.example.rootfs.foreign.tar".into();
        assert!(!is_foreign(&d));
        assert_eq!(
            member_name(&format!("sha256:{}", "a".repeat(64))),
            format!("blobs/sha256/{}", "a".repeat(64))
        );
    }
}
