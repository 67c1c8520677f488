//! What meta.db records for verify: every checked namespace's content records (digest and
//! size, decoded as every command decodes them), the blobs they name (each once, however many
//! namespaces record it), and the image targets the document walk starts from.

use super::documents::Role;
use super::file::FileState;
use super::{Finding, Options, VerifyError};
use crate::bolt::Bucket;
use crate::containerd::records::{self, Damage};
use crate::containerd::root::Root;
use crate::digest::Digest;
use foldhash::{HashMap, HashSet};

/// A descriptor to follow in a namespace.
#[derive(Clone, Debug)]
pub struct Visit {
    pub ns: usize,
    pub digest: String,
    pub media_type: String,
    pub role: Role,
}

/// One content record: its size and the blob it names (`None`: its digest names no blob; the
/// digest is then reported when it is read). A named blob's digest is the record's, spelled
/// the same (parsing accepts only the canonical spelling).
pub(super) struct Record {
    pub(super) size: i64,
    pub(super) blob: Option<usize>,
}

/// The end of a `same_hash` chain.
const NO_BLOB: u32 = u32::MAX;

/// What is known of a blob's file, small: most files read whole and hash to their name.
#[derive(Default)]
enum Stored {
    #[default]
    NotYet,
    /// Read to its end, `len` bytes, hashing to the blob's own digest.
    Matches(u64),
    Other(FileState),
}

/// The blobs the checked namespaces record, each once, and what their files hold.
#[derive(Default)]
pub struct RecordedBlobs {
    pub(super) digests: Vec<Digest>,
    /// The largest size any record gives (to hash big blobs first, and for the progress line).
    pub(super) sizes: Vec<u64>,
    states: Vec<Stored>,
    /// Hash of a digest's text -> the first blob with that hash; `same_hash` chains the others
    /// (the digests themselves are only in `digests`).
    index: HashMap<u64, u32>,
    same_hash: Vec<u32>,
    hasher: foldhash::fast::RandomState,
    /// Per namespace: blob -> record size.
    pub(super) recorded: Vec<HashMap<usize, i64>>,
}

/// Whether `text` is `d` as it prints (`<algorithm>:<hex>`), without printing it.
fn spelled(d: &Digest, text: &str) -> bool {
    text.split_once(':') == Some((d.algorithm(), d.hex()))
}

impl RecordedBlobs {
    /// The blob named `digest` (added once however many records name it), or why that name
    /// cannot be a blob.
    pub(super) fn add(&mut self, digest: &str, size: i64) -> Result<usize, crate::digest::DigestError> {
        let size = u64::try_from(size).unwrap_or(0);
        if let Some(i) = self.blob_of(digest) {
            if let Some(s) = self.sizes.get_mut(i) {
                *s = (*s).max(size);
            }
            return Ok(i);
        }
        // Parsing accepts only the canonical spelling, so `digest` is its key as it is.
        let parsed = Digest::parse(digest)?;
        let id = self.digests.len();
        self.digests.push(parsed);
        self.sizes.push(size);
        self.states.push(Stored::NotYet);
        let hash = std::hash::BuildHasher::hash_one(&self.hasher, digest);
        let first = self.index.insert(hash, id as u32).unwrap_or(NO_BLOB);
        self.same_hash.push(first);
        Ok(id)
    }

    /// The blob named `digest`, when a checked namespace records it.
    pub(super) fn blob_of(&self, digest: &str) -> Option<usize> {
        let hash = std::hash::BuildHasher::hash_one(&self.hasher, digest);
        let mut id = *self.index.get(&hash)?;
        while id != NO_BLOB {
            let i = id as usize;
            if self.digests.get(i).is_some_and(|d| spelled(d, digest)) {
                return Some(i);
            }
            id = self.same_hash.get(i).copied().unwrap_or(NO_BLOB);
        }
        None
    }

    /// The blob `digest` when namespace `ns` records it.
    pub fn recorded(&self, ns: usize, digest: &str) -> Option<usize> {
        let b = self.blob_of(digest)?;
        self.recorded.get(ns)?.contains_key(&b).then_some(b)
    }

    pub(super) fn record_size(&self, ns: usize, blob: usize) -> Option<i64> {
        self.recorded.get(ns)?.get(&blob).copied()
    }

    /// The digest of blob `blob` (an index this store handed out).
    #[allow(
        clippy::indexing_slicing,
        reason = "blob indexes come from this store (add), never from data"
    )]
    pub fn digest(&self, blob: usize) -> &Digest {
        &self.digests[blob]
    }

    /// What the blob's file holds, once looked at (built from the compact form: the digest of
    /// a file that hashes to its name is its name).
    pub fn state(&self, blob: usize) -> Option<FileState> {
        match self.states.get(blob)? {
            Stored::NotYet => None,
            Stored::Matches(len) => Some(FileState::Read {
                len: *len,
                digest: self.digests.get(blob)?.to_string(),
            }),
            Stored::Other(s) => Some(s.clone()),
        }
    }

    /// Whether the blob's file was looked at.
    pub fn looked_at(&self, blob: usize) -> bool {
        !matches!(self.states.get(blob), None | Some(Stored::NotYet))
    }

    /// The length of a file read to its end.
    pub fn read_len(&self, blob: usize) -> Option<u64> {
        match self.states.get(blob)? {
            Stored::Matches(len) | Stored::Other(FileState::Read { len, .. }) => Some(*len),
            _ => None,
        }
    }

    /// Every blob looked at: the length of those read to their end.
    pub(super) fn looked(&self) -> impl Iterator<Item = Option<u64>> + '_ {
        self.states.iter().filter_map(|s| match s {
            Stored::NotYet => None,
            Stored::Matches(len) | Stored::Other(FileState::Read { len, .. }) => Some(Some(*len)),
            Stored::Other(_) => Some(None),
        })
    }

    pub fn set_state(&mut self, blob: usize, state: FileState) {
        let compact = match (&state, self.digests.get(blob)) {
            (FileState::Read { len, digest }, Some(d)) if spelled(d, digest) => Stored::Matches(*len),
            _ => Stored::Other(state),
        };
        if let Some(s) = self.states.get_mut(blob) {
            *s = compact;
        }
    }

    /// The blob's bytes are what its record says: read, of the record's size, with its digest.
    pub(super) fn intact(&self, ns: usize, blob: usize) -> bool {
        let size = self.record_size(ns, blob);
        match self.states.get(blob) {
            Some(Stored::Matches(len)) => i64::try_from(*len).ok() == size && size.is_some(),
            Some(Stored::Other(FileState::Read { len, digest })) => {
                i64::try_from(*len).ok() == size
                    && size.is_some()
                    && self.digests.get(blob).is_some_and(|d| spelled(d, digest))
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
        // Names as `key_name` wrote them: only their control characters escaped.
        return Err(VerifyError::NoNamespace {
            name: crate::text::named(name),
            available: crate::text::listed(all.iter().map(|(n, _)| n.as_str())),
        });
    }
    let mut l = Loaded {
        store: RecordedBlobs::default(),
        namespaces: Vec::new(),
        targets: Vec::new(),
        recorded_elsewhere: HashSet::default(),
    };
    for (name, bucket) in &all {
        let recs = content_records(name, bucket, damage);
        if opts.namespace.as_ref().is_some_and(|n| n != name) {
            l.recorded_elsewhere.extend(recs.into_iter().map(|(d, _)| d));
            continue;
        }
        let ns = l.namespaces.len();
        let mut sizes = HashMap::with_capacity_and_hasher(recs.len(), Default::default());
        let mut list = Vec::with_capacity(recs.len());
        for (digest, size) in recs {
            let blob = match l.store.add(&digest, size) {
                Ok(b) => {
                    sizes.insert(b, size);
                    Some(b)
                }
                Err(e) => {
                    findings.push(Finding {
                        file: root.records_file().into(),
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
            list.push(Record { size, blob });
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
