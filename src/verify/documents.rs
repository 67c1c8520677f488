//! The documents `verify` checks: every manifest, index and config reachable from an image
//! target, walked as containerd's `images.Children` walks them, over all platforms.
//!
//! A descriptor is followed only inside its namespace and only when that namespace records
//! the blob (a platform that was never pulled is not a problem). A manifest or index must pass
//! `validateMediaType` and decode (document::children); a config must be JSON, and an image
//! config (OCI or Docker media type) must decode as one, since that is what dockerd reads.
//!
//! The walk goes level by level (targets, then their children, ...): at each level the blobs
//! to read are read and hashed in parallel, once each, and their hashes are kept so that no
//! blob is hashed twice. The bytes are dropped when the level is done.

use super::file::{Blobs, FileState, Progress};
use super::{RecordedBlobs, Visit};
use crate::containerd::root::MAX_DOCUMENT;
use crate::image::document::{self, ImageConfig, is_index_type, is_manifest_type};
use foldhash::{HashMap, HashSet};
use rayon::prelude::*;

pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// Why a descriptor names a blob: `images.Children` reads only manifests and indexes; a
/// manifest's config is read by whoever runs the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// An image target or an index entry.
    Node,
    /// `config` of a manifest.
    Config,
}

/// What a document turned out to hold.
#[derive(Clone, Debug)]
pub enum Parsed {
    /// A manifest: its config and layers.
    Manifest {
        config: Box<document::Descriptor>,
        layers: Vec<document::Descriptor>,
    },
    /// An index: its entries.
    Index(Vec<document::Descriptor>),
    /// A config, with `rootfs.diff_ids` when it is an image config that has them.
    Config(Option<Vec<String>>),
}

/// A manifest met in a namespace, kept for the diff ID check.
#[derive(Clone, Debug)]
pub struct ManifestUse {
    pub ns: usize,
    pub config: Option<(usize, String)>,
    pub layers: Vec<document::Descriptor>,
}

/// The walk's result.
#[derive(Debug, Default)]
pub struct Walked {
    /// (namespace, blob) -> (media type it was named with, what is wrong with it).
    pub invalid: HashMap<(usize, usize), (String, String)>,
    pub manifests: Vec<ManifestUse>,
    /// Parsed documents by (blob, media type, role).
    pub parsed: HashMap<(usize, String, Role), Result<Parsed, String>>,
    /// The descriptors of each manifest and index read that name a recorded blob, with the
    /// sizes they give: held to the blob's record in each namespace that visits the document.
    pub sizes_given: HashMap<usize, Vec<SizeGiven>>,
}

/// A descriptor of a manifest or index naming a recorded blob: where it is, and its size.
#[derive(Clone, Debug)]
pub struct SizeGiven {
    blob: usize,
    size: i64,
    at: Child,
}

/// Where a descriptor is in its document.
#[derive(Clone, Copy, Debug)]
enum Child {
    Config,
    Layer(usize),
    Entry(usize),
}

impl std::fmt::Display for Child {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Child::Config => write!(f, "config"),
            Child::Layer(i) => write!(f, "layer {i}"),
            Child::Entry(i) => write!(f, "manifest {i}"),
        }
    }
}

impl Parsed {
    /// Only what the walk follows: a manifest's config, an index's entries (a manifest's
    /// layers and a config's diff IDs are kept only for `--layers`; 10,000 manifests' layer
    /// descriptors are most of what a walk would hold).
    fn followed_only(self) -> Parsed {
        match self {
            Parsed::Manifest { config, .. } => Parsed::Manifest {
                config,
                layers: Vec::new(),
            },
            Parsed::Config(_) => Parsed::Config(None),
            index @ Parsed::Index(_) => index,
        }
    }
}

impl Walked {
    /// The diff IDs of a config, when it was read and is an image config.
    pub fn diff_ids(&self, blob: usize, media_type: &str) -> Option<&[String]> {
        match self.parsed.get(&(blob, media_type.to_string(), Role::Config)) {
            Some(Ok(Parsed::Config(Some(ids)))) => Some(ids),
            _ => None,
        }
    }
}

/// The descriptors of a manifest or index that name a blob some checked namespace records.
fn sizes_given(parsed: &Parsed, store: &RecordedBlobs) -> Vec<SizeGiven> {
    let children: Vec<(Child, &document::Descriptor)> = match parsed {
        Parsed::Manifest { config, layers } => std::iter::once((Child::Config, &**config))
            .chain(layers.iter().enumerate().map(|(i, l)| (Child::Layer(i), l)))
            .collect(),
        Parsed::Index(entries) => entries.iter().enumerate().map(|(i, e)| (Child::Entry(i), e)).collect(),
        Parsed::Config(_) => return Vec::new(),
    };
    children
        .into_iter()
        .filter_map(|(at, d)| {
            Some(SizeGiven {
                blob: store.blob_of(&d.digest)?,
                size: d.size,
                at,
            })
        })
        .collect()
}

/// The first descriptor of a document visited in namespace `ns` that gives another size than
/// its blob's record there, said as a document problem: containerd reads a blob by its
/// descriptor's size (a pull or an export stops there), though the blob may be sound.
fn wrong_size(given: &[SizeGiven], ns: usize, store: &RecordedBlobs) -> Option<String> {
    given.iter().find_map(|g| {
        let recorded = store.record_size(ns, g.blob)?;
        (recorded != g.size).then(|| {
            format!(
                "{}: the descriptor says {} bytes, {} is recorded with {recorded}",
                g.at,
                g.size,
                store.digest(g.blob)
            )
        })
    })
}

/// Whether a (media type, role) is read at all.
fn is_document(media_type: &str, role: Role) -> bool {
    is_manifest_type(media_type) || is_index_type(media_type) || role == Role::Config
}

/// Checks a blob's bytes as the document a descriptor says it is.
/// Only manifests, indexes and configs get here (see `is_document`).
pub fn parse(bytes: &[u8], media_type: &str) -> Result<Parsed, String> {
    if is_manifest_type(media_type) {
        document::validate_media_type(bytes, media_type).map_err(|e| e.to_string())?;
        let m: document::Manifest = document::decode(bytes).map_err(|e| e.to_string())?;
        return Ok(Parsed::Manifest {
            config: Box::new(m.config),
            layers: m.layers,
        });
    }
    if is_index_type(media_type) {
        document::validate_media_type(bytes, media_type).map_err(|e| e.to_string())?;
        let i: document::Index = document::decode(bytes).map_err(|e| e.to_string())?;
        return Ok(Parsed::Index(i.manifests));
    }
    if media_type == OCI_CONFIG || media_type == DOCKER_CONFIG {
        let c: ImageConfig = document::decode(bytes).map_err(|e| format!("image config: {e}"))?;
        return Ok(Parsed::Config(c.rootfs.and_then(|r| r.diff_ids)));
    }
    // Other configs (artifacts, the empty descriptor, ...) must be JSON when their type says so.
    if media_type.ends_with("json") {
        crate::gostring::from_slice::<serde::de::IgnoredAny>(bytes).map_err(|e| format!("not JSON: {e}"))?;
    }
    Ok(Parsed::Config(None))
}

/// Walks from every image target (`targets`: namespace index and descriptor), reading and
/// hashing each document blob once.
pub fn walk(
    blobs: &Blobs,
    store: &mut RecordedBlobs,
    targets: Vec<Visit>,
    progress: Option<&Progress>,
    layers_wanted: bool,
) -> Walked {
    let mut out = Walked::default();
    let mut visited: HashSet<(usize, usize, String, Role)> = HashSet::default();
    let mut frontier = targets;
    // No bound on the levels: each (namespace, blob, media type, role) is visited once, so
    // the walk ends after at most that many visits however deep indexes nest (or loop, in a
    // blob that does not hash to its digest), and it is a loop, not a recursion.
    loop {
        let visits: Vec<(Visit, usize)> = frontier
            .drain(..)
            .filter(|v| is_document(&v.media_type, v.role))
            .filter_map(|v| store.recorded(v.ns, &v.digest).map(|b| (v, b)))
            .filter(|(v, b)| visited.insert((v.ns, *b, v.media_type.clone(), v.role)))
            .collect();
        if visits.is_empty() {
            break;
        }
        // A level is read in chunks, in order, so that the bytes of at most one chunk are held
        // (10,000 image targets are one level); each chunk's blobs are read (and hashed) in
        // parallel, then parsed, then followed. Blobs read by an earlier chunk of this level
        // are read again, unhashed, when a chunk needs them for another key: the bytes a whole
        // level read at once would have had.
        let mut read_this_level: HashSet<usize> = HashSet::default();
        let mut rest = visits.into_iter().peekable();
        while rest.peek().is_some() {
            let mut chunk: Vec<(Visit, usize)> = Vec::new();
            let mut budget: u64 = 0;
            while let Some((v, b)) = rest.next_if(|_| chunk.len() < CHUNK_VISITS && budget < CHUNK_BYTES) {
                if !store.looked_at(b) {
                    budget = budget.saturating_add(store.sizes.get(b).copied().unwrap_or(0));
                }
                chunk.push((v, b));
            }
            walk_chunk(
                blobs,
                store,
                &mut out,
                chunk,
                &mut read_this_level,
                progress,
                layers_wanted,
                &mut frontier,
            );
        }
    }
    out
}

/// At most this many visits of a level are read at once...
const CHUNK_VISITS: usize = 1024;
/// ... and at most about this many bytes of blobs not read yet.
const CHUNK_BYTES: u64 = 8 << 20;

/// Reads, parses and follows one chunk of a level's visits (see [`walk`]).
#[allow(clippy::too_many_arguments, reason = "the walk's state, split out of its loop")]
fn walk_chunk(
    blobs: &Blobs,
    store: &mut RecordedBlobs,
    out: &mut Walked,
    visits: Vec<(Visit, usize)>,
    read_this_level: &mut HashSet<usize>,
    progress: Option<&Progress>,
    layers_wanted: bool,
    frontier: &mut Vec<Visit>,
) {
    // Read (and hash) every blob of this chunk that was not read yet, in parallel.
    let mut to_read: Vec<usize> = visits
        .iter()
        .map(|(_, b)| *b)
        .filter(|b| !store.looked_at(*b))
        .collect();
    to_read.sort_unstable();
    to_read.dedup();
    let read: Vec<(usize, FileState, Option<Vec<u8>>)> = to_read
        .par_iter()
        .map(|&b| {
            let digest = store.digest(b);
            let largest = store.sizes.get(b).copied();
            let (state, bytes) = blobs.read(digest, MAX_DOCUMENT, largest, progress);
            (b, state, bytes)
        })
        .collect();
    let mut bytes: HashMap<usize, Vec<u8>> = HashMap::default();
    for (b, state, data) in read {
        store.set_state(b, state);
        read_this_level.insert(b);
        if let Some(d) = data {
            bytes.insert(b, d);
        }
    }
    // Parse each (blob, media type, role) once.
    let mut keys: Vec<(usize, String, Role)> = visits
        .iter()
        .map(|(v, b)| (*b, v.media_type.clone(), v.role))
        .filter(|k| !out.parsed.contains_key(k))
        .collect();
    keys.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    keys.dedup();
    // Bytes an earlier chunk of this level read (a level read whole would have them).
    let mut again: Vec<usize> = keys
        .iter()
        .map(|k| k.0)
        .filter(|b| !bytes.contains_key(b) && read_this_level.contains(b))
        .filter(|b| store.read_len(*b).is_some())
        .collect();
    again.dedup();
    let reread: Vec<(usize, Option<Vec<u8>>)> = again
        .par_iter()
        .map(|&b| {
            (
                b,
                blobs
                    .read(store.digest(b), MAX_DOCUMENT, store.sizes.get(b).copied(), None)
                    .1,
            )
        })
        .collect();
    for (b, data) in reread {
        if let Some(d) = data {
            bytes.insert(b, d);
        }
    }
    let parsed: Vec<_> = keys
        .into_par_iter()
        .filter_map(|k| {
            let mut given = Vec::new();
            let result = match bytes.get(&k.0) {
                Some(data) => parse(data, &k.1).map(|p| {
                    given = sizes_given(&p, store);
                    if layers_wanted { p } else { p.followed_only() }
                }),
                // Not read: missing, not regular, unreadable (reported as such) or too
                // large to be a document.
                None => match store.read_len(k.0) {
                    Some(len) => Err(format!(
                        "{len} bytes: larger than the {} MiB a document may have",
                        MAX_DOCUMENT >> 20
                    )),
                    _ => return None,
                },
            };
            Some((k, result, given))
        })
        .collect();
    for (k, result, given) in parsed {
        if !given.is_empty() {
            out.sizes_given.insert(k.0, given);
        }
        out.parsed.insert(k, result);
    }
    drop(bytes);
    for (v, b) in visits {
        let wrong = out.sizes_given.get(&b).and_then(|given| wrong_size(given, v.ns, store));
        if let Some(why) = wrong {
            out.invalid.entry((v.ns, b)).or_insert((v.media_type.clone(), why));
        }
        match out.parsed.get(&(b, v.media_type.clone(), v.role)) {
            Some(Ok(Parsed::Manifest { config, layers })) => {
                frontier.push(Visit {
                    ns: v.ns,
                    digest: config.digest.clone(),
                    media_type: config.media_type.clone(),
                    role: Role::Config,
                });
                if layers_wanted {
                    out.manifests.push(ManifestUse {
                        ns: v.ns,
                        config: store
                            .recorded(v.ns, &config.digest)
                            .map(|c| (c, config.media_type.clone())),
                        layers: layers.clone(),
                    });
                }
            }
            Some(Ok(Parsed::Index(entries))) => {
                frontier.extend(entries.iter().map(|e| Visit {
                    ns: v.ns,
                    digest: e.digest.clone(),
                    media_type: e.media_type.clone(),
                    role: Role::Node,
                }));
            }
            Some(Ok(Parsed::Config(_))) | None => {}
            Some(Err(why)) => {
                out.invalid.entry((v.ns, b)).or_insert((v.media_type, why.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::document::{DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};

    #[test]
    fn documents_must_agree_with_their_descriptor() {
        let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:1","size":2},"layers":[]}"#;
        let index = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        assert!(matches!(parse(manifest, OCI_MANIFEST), Ok(Parsed::Manifest { .. })));
        assert!(matches!(parse(index, OCI_INDEX), Ok(Parsed::Index(_))));
        // A manifest named by an index descriptor, and the other way round.
        assert_eq!(
            parse(manifest, OCI_INDEX).err().as_deref(),
            Some("media-type: expected index but found manifest (application/vnd.oci.image.index.v1+json)")
        );
        assert!(parse(index, DOCKER_MANIFEST).is_err());
        assert!(parse(b"{\"fsLayers\":[{}]}", DOCKER_MANIFEST).is_err());
        assert!(parse(b"not json", OCI_MANIFEST).is_err());
        assert!(parse(br#"{"layers":{}}"#, OCI_MANIFEST).is_err());
    }

    #[test]
    fn configs_must_be_json() {
        let config =
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:a","sha256:b"]}}"#;
        match parse(config, OCI_CONFIG) {
            Ok(Parsed::Config(Some(ids))) => assert_eq!(ids, ["sha256:a", "sha256:b"]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse(b"null", DOCKER_CONFIG), Ok(Parsed::Config(None))));
        assert!(parse(&config[..40], DOCKER_CONFIG).is_err());
        assert!(parse(br#"{"rootfs":{"diff_ids":"x"}}"#, OCI_CONFIG).is_err());
        assert!(parse(b"{}", "application/vnd.oci.empty.v1+json").is_ok());
        assert!(parse(b"{", "application/vnd.cncf.helm.config.v1+json").is_err());
        // Not a JSON type: nothing to check.
        assert!(parse(b"\x00\x01", "application/octet-stream").is_ok());
    }
}
