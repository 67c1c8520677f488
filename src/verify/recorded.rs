//! What meta.db records for verify: every checked namespace's content records (digest and
//! size, decoded as every command decodes them), the blobs they name (each once, however many
//! namespaces record it), and the image targets the document walk starts from.

use super::documents::Role;
use super::file::FileState;
use super::{Finding, Options, VerifyError};
use crate::bolt::Bucket;
use crate::containerd::records::{self, Damage};
use crate::containerd::root::{META_DB, Root};
use crate::digest::Digest;
use std::collections::{HashMap, HashSet};

/// A descriptor to follow in a namespace.
#[derive(Clone, Debug)]
pub struct Visit {
    pub ns: usize,
    pub digest: String,
    pub media_type: String,
    pub role: Role,
}

/// One content record.
pub(super) struct Record {
    pub(super) digest: String,
    pub(super) size: i64,
    pub(super) blob: Option<usize>,
}

/// The blobs the checked namespaces record, each once, and what their files hold.
#[derive(Default)]
pub struct RecordedBlobs {
    pub(super) digests: Vec<Digest>,
    /// The largest size any record gives (to hash big blobs first, and for the progress line).
    pub(super) sizes: Vec<u64>,
    pub(super) states: Vec<Option<FileState>>,
    pub(super) by_digest: HashMap<String, usize>,
    /// Per namespace: digest -> record size.
    pub(super) recorded: Vec<HashMap<String, (i64, usize)>>,
}

impl RecordedBlobs {
    /// The blob named `digest` (added once however many records name it), or why that name
    /// cannot be a blob.
    pub(super) fn add(&mut self, digest: &str, size: i64) -> Result<usize, crate::digest::DigestError> {
        let size = u64::try_from(size).unwrap_or(0);
        if let Some(&i) = self.by_digest.get(digest) {
            if let Some(s) = self.sizes.get_mut(i) {
                *s = (*s).max(size);
            }
            return Ok(i);
        }
        // Parsing accepts only the canonical spelling, so `digest` is its key as it is.
        let parsed = Digest::parse(digest)?;
        self.digests.push(parsed);
        self.sizes.push(size);
        self.states.push(None);
        self.by_digest.insert(digest.to_string(), self.digests.len() - 1);
        Ok(self.digests.len() - 1)
    }

    /// The blob `digest` when namespace `ns` records it.
    pub fn recorded(&self, ns: usize, digest: &str) -> Option<usize> {
        self.recorded.get(ns)?.get(digest).map(|&(_, b)| b)
    }

    pub(super) fn record_size(&self, ns: usize, blob: usize) -> Option<i64> {
        let key = self.digests.get(blob)?.to_string();
        self.recorded.get(ns)?.get(&key).map(|&(s, _)| s)
    }

    /// The digest of blob `blob` (an index this store handed out).
    #[allow(
        clippy::indexing_slicing,
        reason = "blob indexes come from this store (add), never from data"
    )]
    pub fn digest(&self, blob: usize) -> &Digest {
        &self.digests[blob]
    }

    pub fn state(&self, blob: usize) -> Option<&FileState> {
        self.states.get(blob)?.as_ref()
    }

    pub fn set_state(&mut self, blob: usize, state: FileState) {
        if let Some(s) = self.states.get_mut(blob) {
            *s = Some(state);
        }
    }

    /// The blob's bytes are what its record says: read, of the record's size, with its digest.
    pub(super) fn intact(&self, ns: usize, blob: usize) -> bool {
        match (self.state(blob), self.record_size(ns, blob)) {
            (Some(FileState::Read { len, digest }), Some(size)) => {
                i64::try_from(*len).ok() == Some(size) && *digest == self.digest(blob).to_string()
            }
            _ => false,
        }
    }
}

/// The content records of one namespace: digest and size only (what verify needs), decoded
/// as every other command decodes them.
fn content_records(name: &str, ns: &Bucket<'_>, damage: &mut Damage) -> Vec<(String, i64)> {
    records::content_sizes_in(name, ns, "", damage)
        .into_iter()
        .map(|c| (c.digest, c.size))
        .collect()
}

/// The image targets of one namespace (what the walk starts from): digest and media type.
fn image_targets(name: &str, ns: &Bucket<'_>, damage: &mut Damage) -> Vec<(String, String)> {
    records::image_targets_in(name, ns, "", damage)
        .into_iter()
        .filter_map(|i| i.target.digest.map(|d| (d, i.target.media_type)))
        .collect()
}

/// What the records say: every checked namespace's records, the blobs they name (each once),
/// the image targets, and the digests only other namespaces record (for orphans).
pub(super) struct Loaded {
    pub(super) store: RecordedBlobs,
    pub(super) namespaces: Vec<(String, Vec<Record>)>,
    pub(super) targets: Vec<Visit>,
    pub(super) recorded_elsewhere: HashSet<String>,
}

pub(super) fn load(
    root: &Root,
    opts: &Options<'_>,
    damage: &mut Damage,
    findings: &mut Vec<Finding>,
) -> Result<Loaded, VerifyError> {
    let tx = root.view(opts.choice)?;
    let all = records::namespace_buckets(&tx, damage);
    if let Some(name) = &opts.namespace
        && !all.iter().any(|(n, _)| n == name)
    {
        let names: Vec<String> = all.iter().map(|(n, _)| crate::text::escape(n.as_bytes())).collect();
        return Err(VerifyError::NoNamespace {
            name: crate::text::escape(name.as_bytes()),
            available: if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            },
        });
    }
    let mut l = Loaded {
        store: RecordedBlobs::default(),
        namespaces: Vec::new(),
        targets: Vec::new(),
        recorded_elsewhere: HashSet::new(),
    };
    for (name, bucket) in &all {
        let recs = content_records(name, bucket, damage);
        if opts.namespace.as_ref().is_some_and(|n| n != name) {
            l.recorded_elsewhere.extend(recs.into_iter().map(|(d, _)| d));
            continue;
        }
        let ns = l.namespaces.len();
        let mut sizes = HashMap::with_capacity(recs.len());
        let mut list = Vec::with_capacity(recs.len());
        for (digest, size) in recs {
            let blob = match l.store.add(&digest, size) {
                Ok(b) => {
                    sizes.insert(digest.clone(), (size, b));
                    Some(b)
                }
                Err(e) => {
                    findings.push(Finding {
                        file: META_DB.into(),
                        page: None,
                        message: format!(
                            "namespace {}: content record {}: {e}; no blob file can hold it",
                            crate::text::escape(name.as_bytes()),
                            crate::text::escape(digest.as_bytes())
                        ),
                    });
                    None
                }
            };
            list.push(Record { digest, size, blob });
        }
        l.store.recorded.push(sizes);
        for (digest, media_type) in image_targets(name, bucket, damage) {
            l.targets.push(Visit {
                ns,
                digest,
                media_type,
                role: Role::Node,
            });
        }
        l.namespaces.push((name.clone(), list));
    }
    Ok(l)
}
