//! A layout or archive, seen as containerd would hold it right after `ctr images import` of
//! it, but without writing anything: one namespace, one image record per name, and one
//! content record (with the `containerd.io/gc.ref.content.*` labels import sets) per blob the
//! images reach. The records are laid out in an in-memory bbolt tree
//! ([`crate::bolt::build`]), so inspect, the listings, verify, du and gc read a layout through
//! the same record reader as a real `meta.db`, and print the same JSON shapes.
//!
//! ```text
//! v1/<NAMESPACE>/images/<name>/target/{digest, mediatype, size}   the index.json descriptor
//!                             /annotations/...                    its annotations
//!                             /labels/coldctr.source.entry        position in index.json
//! v1/<NAMESPACE>/content/blob/<digest>/size
//!                                     /labels/containerd.io/gc.ref.content.{m.N,config,l.N,N}
//! ```
//!
//! Image names: `io.containerd.image.name` (or a docker-archive's RepoTags) when present,
//! else `org.opencontainers.image.ref.name` as written; an entry without a name, or whose
//! name another entry also claims, is recorded as `@N` (its position), and the ambiguous
//! name is kept in its labels.

use super::Problem;
use super::layout::{Entry, REF_NAME};
use crate::bolt::build::Tree;
use crate::containerd::root::{BlobError, MAX_DOCUMENT};
use crate::digest::Digest;
use crate::image::document::{self, Descriptor};
use foldhash::{HashMap, HashSet};
use std::collections::{BTreeMap, BTreeSet};

/// How many entries a `ref-duplicate` problem lists by position.
const REF_DUPLICATES_LISTED: usize = 20;

/// The most entries of an `index.json` or a docker-archive's `manifest.json` read.
pub const MAX_ENTRIES: usize = 65_536;

/// The namespace the records of a layout or archive are in.
pub const NAMESPACE: &str = "default";
/// Label with an image record's position in index.json (or manifest.json).
pub const ENTRY_LABEL: &str = "coldctr.source.entry";
/// How deep indexes may nest below an entry.
const MAX_DEPTH: usize = crate::inspect::MAX_GRAPH_DEPTH;

/// How the importer reads the blobs it walks.
pub trait Blobs {
    /// The blob's bytes, at most `limit` of them (a larger blob is [`BlobError::TooLarge`]).
    fn read(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>, BlobError>;
    /// Whether a readable blob of that digest is there.
    fn exists(&self, digest: &Digest) -> bool;
    /// Whether nothing at all is there under that digest's name (not even a symlink or a
    /// directory, which are reported as what they are).
    fn absent(&self, digest: &Digest) -> bool {
        !self.exists(digest)
    }
    /// The blob's real size, when the store can tell it without reading the blob.
    fn size(&self, _digest: &Digest) -> Option<u64> {
        None
    }
}

/// The image records an import makes, and what resolves to each of them.
#[derive(Clone, Debug)]
pub struct Named {
    /// The image record's name.
    pub record: String,
    pub entry: usize,
    /// Names a user may give for it (ref name as written, full name).
    pub aliases: Vec<String>,
}

/// The result of an import.
pub struct Imported {
    pub tree: Tree,
    pub names: Vec<Named>,
    /// Names more than one entry claims, with the entries' positions.
    pub ambiguous: BTreeMap<String, Vec<usize>>,
    /// Entry positions and target digests (for `@N` and digest references).
    pub targets: Vec<(usize, String)>,
}

/// Builds the records of `entries`, walking their documents through `blobs`.
pub fn import(entries: &[Entry], blobs: &dyn Blobs, problems: &mut Vec<Problem>) -> Imported {
    import_within(entries, blobs, problems, MAX_ENTRIES)
}

/// [`import`] of the first `max_entries` entries ([`MAX_ENTRIES`]; tests use fewer).
fn import_within(entries: &[Entry], blobs: &dyn Blobs, problems: &mut Vec<Problem>, max_entries: usize) -> Imported {
    // Each entry becomes an image record with its buckets in memory (about 9 KB): a 64 MiB
    // list of 15-byte entries would take tens of GB. Real layouts and archives hold a few.
    let entries = match entries.get(..max_entries) {
        Some(first) if entries.len() > max_entries => {
            problems.push(Problem::error(
                "entries-over-limit",
                "index.json",
                format!(
                    "{} entries; only the first {max_entries} are read (coldctr's own limit: each \
                     becomes an image record in memory)",
                    entries.len()
                ),
            ));
            first
        }
        _ => entries,
    };
    let mut tree = Tree::new();
    let ns = NAMESPACE.as_bytes();
    tree.bucket(&[b"v1", ns, b"images"]);
    tree.bucket(&[b"v1", ns, b"content", b"blob"]);

    // Every name each entry claims, then which names are claimed once. A name that reads as a
    // position would take another entry's `@N` record (and answer for `@N`): not a name.
    let mut claims: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for e in entries {
        for n in primary_names(e) {
            if is_position(&n) {
                problems.push(Problem::warning(
                    "ref-name-positional",
                    format!("index.json entry @{}", e.position),
                    format!("{n:?} is how an entry is named by its position; not used as a name"),
                ));
                continue;
            }
            claims.entry(n).or_default().insert(e.position);
        }
    }
    // 100,000 entries of one name are not one line of 700 KB: the first few, then how many.
    let listed = |who: &BTreeSet<usize>| {
        let mut s = who
            .iter()
            .take(REF_DUPLICATES_LISTED)
            .map(|p| format!("@{p}"))
            .collect::<Vec<_>>()
            .join(", ");
        if who.len() > REF_DUPLICATES_LISTED {
            s.push_str(&format!(" and {} more", who.len() - REF_DUPLICATES_LISTED));
        }
        s
    };
    // Entries that are the same descriptor make one claim (skopeo resolves the name, ctr
    // import makes one image): the name is the first one's. Only different targets are
    // ambiguous.
    let target_of: BTreeMap<usize, (&str, &str, i64)> = entries
        .iter()
        .map(|e| {
            let d = &e.descriptor;
            (e.position, (d.digest.as_str(), d.media_type.as_str(), d.size))
        })
        .collect();
    let mut ambiguous = BTreeMap::new();
    let mut first_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, who) in &claims {
        if who.len() > 1 {
            let targets: BTreeSet<_> = who.iter().filter_map(|p| target_of.get(p)).collect();
            if let (1, Some(&first)) = (targets.len(), who.first()) {
                problems.push(Problem::info(
                    "ref-duplicate",
                    "index.json",
                    format!(
                        "{name:?} names {} entries, all one descriptor: {} (the name is @{first}'s)",
                        who.len(),
                        listed(who)
                    ),
                ));
                first_of.insert(name.as_str(), first);
                continue;
            }
            problems.push(Problem::warning(
                "ref-duplicate",
                "index.json",
                format!("{name:?} names {} entries: {}", who.len(), listed(who)),
            ));
            ambiguous.insert(name.clone(), who.iter().copied().collect());
        }
    }

    let mut names = Vec::new();
    let mut targets = Vec::new();
    for e in entries {
        targets.push((e.position, e.descriptor.digest.clone()));
        let mut records: Vec<String> = primary_names(e)
            .into_iter()
            .filter(|n| {
                !ambiguous.contains_key(n)
                    && !is_position(n)
                    && first_of.get(n.as_str()).is_none_or(|&p| p == e.position)
            })
            .collect();
        if records.is_empty() {
            // Every name went to an identical earlier entry: ctr import makes one image of
            // them, so this entry makes no record of its own; `@N` names the record of the
            // name they share (which that entry made, under that name).
            let shared = primary_names(e)
                .into_iter()
                .find(|n| first_of.get(n.as_str()).is_some_and(|&p| p != e.position));
            if let Some(record) = shared {
                names.push(Named {
                    record,
                    entry: e.position,
                    aliases: Vec::new(),
                });
                continue;
            }
            records.push(format!("@{}", e.position));
        }
        for record in records {
            let image = tree.bucket(&[b"v1", ns, b"images", record.as_bytes()]);
            let target = image.bucket(&[b"target"]);
            target.put(b"digest", e.descriptor.digest.as_bytes());
            target.put(b"mediatype", e.descriptor.media_type.as_bytes());
            target.put(b"size", &varint(e.descriptor.size));
            if let Some(a) = &e.descriptor.annotations {
                let bucket = image.bucket(&[b"annotations"]);
                for (k, v) in a {
                    bucket.put(k.as_bytes(), v.as_bytes());
                }
            }
            // A docker-archive's RepoTag: the descriptor containerd's importer makes for it
            // carries its name (sweep 26: inspect's Descriptor lacked what a load shows).
            if e.name_annotations && !is_position(&record) {
                let bucket = image.bucket(&[b"annotations"]);
                bucket.put(super::layout::CONTAINERD_NAME.as_bytes(), record.as_bytes());
                bucket.put(
                    REF_NAME.as_bytes(),
                    crate::export::oci_reference_name(&record).as_bytes(),
                );
            }
            let labels = image.bucket(&[b"labels"]);
            labels.put(ENTRY_LABEL.as_bytes(), e.position.to_string().as_bytes());
            if let Some(r) = &e.ref_name {
                labels.put(REF_NAME.as_bytes(), r.as_bytes());
            }
            let mut aliases: Vec<String> = e.ref_name.iter().cloned().collect();
            aliases.extend(e.full_names.iter().cloned());
            aliases.retain(|a| !ambiguous.contains_key(a) && !is_position(a));
            names.push(Named {
                record,
                entry: e.position,
                aliases,
            });
        }
    }

    let content = walk(entries, blobs, problems);
    label_referrers(&mut tree, entries, &names, &content);
    let blob_bucket = tree.bucket(&[b"v1", ns, b"content", b"blob"]);
    for (digest, record) in content {
        let b = blob_bucket.bucket(&[digest.as_bytes()]);
        b.put(b"size", &varint(record.size));
        if !record.labels.is_empty() {
            let labels = b.bucket(&[b"labels"]);
            for (k, v) in &record.labels {
                labels.put(k.as_bytes(), v.as_bytes());
            }
        }
    }
    Imported {
        tree,
        names,
        ambiguous,
        targets,
    }
}

/// Label on an OCI 1.1 artifact's (or any referrer's) record: the digest of its `subject`.
pub const SUBJECT_LABEL: &str = "coldctr.source.subject";
/// Label on a referrer's record: its `artifactType` (or its config's media type).
pub const ARTIFACT_TYPE_LABEL: &str = "coldctr.source.artifact-type";
/// Label on the records a referrer points at (its subject, or an index holding the subject):
/// the referrers' record names, comma-separated, within [`MAX_LABEL`] bytes (then `,+N more`).
pub const REFERRERS_LABEL: &str = "coldctr.source.referrers";

/// The most a label may hold, key and value together: containerd refuses a longer one
/// (`labels.Validate`, 4096), so no store it wrote has one. It also keeps a layout with
/// thousands of referrers of one subject from copying all their names into every record of
/// the subject (the square of the entries).
const MAX_LABEL: usize = 4096;

/// The referrers' names joined with commas, as many as fit beside the key in [`MAX_LABEL`],
/// and `,+N more` for the rest.
fn referrers_value(who: &[String]) -> String {
    let room = MAX_LABEL - REFERRERS_LABEL.len();
    let mut out = String::new();
    for (i, name) in who.iter().enumerate() {
        let more = format!(",+{} more", who.len() - i);
        let sep = usize::from(!out.is_empty());
        // Room is kept for the tail whenever names are left after this one.
        let tail = if i + 1 < who.len() { more.len() } else { 0 };
        if out.len() + sep + name.len() + tail > room {
            if out.is_empty() {
                return format!("+{} more", who.len());
            }
            out.push_str(&more);
            return out;
        }
        if sep == 1 {
            out.push(',');
        }
        out.push_str(name);
    }
    out
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Referrer {
    subject: Option<Descriptor>,
    #[serde(rename = "artifactType")]
    artifact_type: Option<String>,
    config: Option<Descriptor>,
}

/// The gc label key containerd's import gives a child of this media type (containerd's
/// `images.ChildGCLabels`): a config it knows, a manifest, a layer, or anything else.
fn child_gc_label(media_type: &str) -> &'static str {
    const CONFIGS: [&str; 4] = [
        crate::verify::documents::DOCKER_CONFIG,
        crate::verify::documents::OCI_CONFIG,
        "application/vnd.containerd.container.criu.checkpoint.criu.tar",
        "application/vnd.containerd.container.checkpoint.config.v1+proto",
    ];
    if CONFIGS.contains(&media_type) {
        return "containerd.io/gc.ref.content.config";
    }
    if media_type == document::DOCKER_MANIFEST || media_type == document::OCI_MANIFEST {
        return "containerd.io/gc.ref.content.m.";
    }
    if document::is_layer_type(media_type) {
        return "containerd.io/gc.ref.content.l.";
    }
    "containerd.io/gc.ref.content."
}

/// Shows each entry whose manifest has a `subject` (an SBOM, a signature) as a referrer of
/// that subject: labels on its record, and on every record whose target is the subject or an
/// index that lists it (what `oras discover` and the referrers API would answer).
fn label_referrers(tree: &mut Tree, entries: &[Entry], names: &[Named], content: &BTreeMap<String, ContentRecord>) {
    // Index -> children, from the labels the walk gave each index.
    let mut parents: HashMap<&str, Vec<&str>> = HashMap::default();
    for (digest, record) in content {
        for (k, child) in &record.labels {
            if k.starts_with("containerd.io/gc.ref.content.") {
                parents.entry(child.as_str()).or_default().push(digest.as_str());
            }
        }
    }
    let ns = NAMESPACE.as_bytes();
    // Each entry's names, and the entries of each digest, looked up once each (a layout may
    // have hundreds of thousands of entries).
    // A record shared by identical entries is labelled once, as the first entry's.
    let mut names_of: HashMap<usize, Vec<&Named>> = HashMap::default();
    let mut labelled: HashSet<&str> = HashSet::default();
    for n in names {
        if labelled.insert(n.record.as_str()) {
            names_of.entry(n.entry).or_default().push(n);
        }
    }
    let mut entries_of: HashMap<&str, Vec<&Entry>> = HashMap::default();
    for e in entries {
        entries_of.entry(e.descriptor.digest.as_str()).or_default().push(e);
    }
    let mut referrers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in entries
        .iter()
        .filter(|e| document::is_manifest_type(&e.descriptor.media_type))
    {
        let Some((subject, artifact_type)) = content.get(&e.descriptor.digest).and_then(|r| r.referrer.as_ref()) else {
            continue;
        };
        // The subject and the indexes above it, a few levels up at most.
        let mut targets = vec![subject.clone()];
        let mut i = 0;
        while let Some(t) = targets.get(i).cloned() {
            i += 1;
            if i > MAX_DEPTH {
                break;
            }
            for p in parents.get(t.as_str()).into_iter().flatten() {
                if !targets.iter().any(|x| x == p) {
                    targets.push((*p).to_string());
                }
            }
        }
        for n in names_of.get(&e.position).into_iter().flatten() {
            let labels = tree.bucket(&[b"v1", ns, b"images", n.record.as_bytes(), b"labels"]);
            labels.put(SUBJECT_LABEL.as_bytes(), subject.as_bytes());
            if !artifact_type.is_empty() {
                labels.put(ARTIFACT_TYPE_LABEL.as_bytes(), artifact_type.as_bytes());
            }
            for t in &targets {
                referrers.entry(t.clone()).or_default().push(n.record.clone());
            }
        }
    }
    for (target, who) in referrers {
        let value = referrers_value(&who);
        for e in entries_of.get(target.as_str()).into_iter().flatten() {
            for n in names_of.get(&e.position).into_iter().flatten() {
                let labels = tree.bucket(&[b"v1", ns, b"images", n.record.as_bytes(), b"labels"]);
                labels.put(REFERRERS_LABEL.as_bytes(), value.as_bytes());
            }
        }
    }
}

/// Whether a name is an `@N` reference (as [`super::SourceInfo::resolve`] reads one).
fn is_position(name: &str) -> bool {
    position(name).is_some()
}

/// The entry an `@N` reference names: N in decimal as `@N` is printed, so `@01` and `@+1`
/// (which `usize::from_str` would take) are names, not positions.
pub(crate) fn position(reference: &str) -> Option<usize> {
    let n = reference.strip_prefix('@')?;
    if !n.bytes().all(|b| b.is_ascii_digit()) || (n.len() > 1 && n.starts_with('0')) {
        return None;
    }
    n.parse().ok()
}

/// The names an entry claims: its full names, else its ref name.
fn primary_names(e: &Entry) -> Vec<String> {
    if e.full_names.is_empty() {
        e.ref_name.iter().cloned().collect()
    } else {
        e.full_names.clone()
    }
}

struct ContentRecord {
    size: i64,
    labels: Vec<(String, String)>,
    /// For a manifest with a `subject`: what it refers to, read while the walk had its bytes.
    referrer: Option<Refers>,
}

/// A referrer's subject digest and artifact type.
type Refers = (String, String);

/// Walks every entry's graph (indexes, manifests, configs, layers) once per digest, as
/// containerd's import does with `images.ChildrenHandler`, and returns the content records it
/// would write.
fn walk(entries: &[Entry], blobs: &dyn Blobs, problems: &mut Vec<Problem>) -> BTreeMap<String, ContentRecord> {
    let mut records: BTreeMap<String, ContentRecord> = BTreeMap::new();
    let mut sizes: HashMap<String, i64> = HashMap::default();
    // The required blobs found missing, each said once.
    let mut missing: foldhash::HashSet<String> = foldhash::HashSet::default();
    // Each descriptor with whether a missing blob of it is an error of the source: an
    // index.json entry's target and a manifest's config, the documents every reader of the
    // image reads (a missing layer is the image's content status, as `ctr images check`
    // says; an index may name platforms never copied). verify names every missing blob.
    let mut stack: Vec<(Descriptor, usize, String, bool)> = entries
        .iter()
        .rev()
        .map(|e| {
            (
                e.descriptor.clone(),
                0,
                format!("index.json entry @{}", e.position),
                true,
            )
        })
        .collect();
    while let Some((desc, depth, via, required)) = stack.pop() {
        let Ok(digest) = Digest::parse(&desc.digest) else {
            problems.push(Problem::error(
                "descriptor-invalid",
                via,
                format!("invalid digest {:?}", desc.digest),
            ));
            continue;
        };
        let key = digest.to_string();
        // An image's target must say what it is: containerd's image store refuses a record
        // without (`Target.MediaType must be set`), and so `ctr images import` the layout
        // (sweep 24: images and verify said nothing, exit 0).
        if depth == 0 && desc.media_type.is_empty() {
            problems.push(Problem::error(
                "descriptor-invalid",
                via.clone(),
                format!("{key}: no mediaType (an image's target must have one; ctr import refuses it)"),
            ));
        }
        // Before the walk's own dedup: a manifest first met as an index's child (not
        // required) may be an index.json entry's target too.
        if required && !crate::export::is_foreign(&desc) && !missing.contains(&key) && blobs.absent(&digest) {
            missing.insert(key.clone());
            problems.push(Problem::error(
                "blob-missing",
                via.clone(),
                format!("{key}: no blob of that digest is there"),
            ));
        }
        if let Some(&seen) = sizes.get(&key) {
            if seen != desc.size {
                problems.push(Problem::error(
                    "descriptor-invalid",
                    via,
                    format!("{key}: size {} here, {seen} elsewhere", desc.size),
                ));
            }
            continue;
        }
        sizes.insert(key.clone(), desc.size);
        if desc.size < 0 {
            problems.push(Problem::error(
                "descriptor-invalid",
                via.clone(),
                format!("{key}: negative size {}", desc.size),
            ));
        }
        let present = blobs.exists(&digest);
        if !present && crate::export::is_foreign(&desc) {
            problems.push(Problem::info(
                "foreign-layer-absent",
                via,
                format!(
                    "{key}: non-distributable layer, not in the layout ({})",
                    desc.media_type
                ),
            ));
            continue;
        }
        let mut record = ContentRecord {
            size: desc.size,
            labels: Vec::new(),
            referrer: None,
        };
        let document = document::is_manifest_type(&desc.media_type) || document::is_index_type(&desc.media_type);
        if document && present {
            if depth > MAX_DEPTH {
                problems.push(Problem::error(
                    "depth-limit",
                    via,
                    format!("{key}: nested deeper than {MAX_DEPTH} levels"),
                ));
            } else {
                match read_children(blobs, &digest, &desc) {
                    Ok((children, referrer)) => {
                        record.referrer = referrer;
                        let index = document::is_index_type(&desc.media_type);
                        // An index's manifest that is not there was never pulled (`docker
                        // save` of an image pulled for one platform keeps the whole index):
                        // containerd's import walks only the platforms it takes, so it makes
                        // no record of it and labels only the children it walks, numbered
                        // among them.
                        let children: Vec<Descriptor> = if index {
                            children
                                .into_iter()
                                .filter(|child| {
                                    let absent = Digest::parse(&child.digest).is_ok_and(|d| blobs.absent(&d))
                                        && (document::is_manifest_type(&child.media_type)
                                            || document::is_index_type(&child.media_type));
                                    if absent {
                                        problems.push(Problem::info(
                                            "manifest-absent",
                                            key.clone(),
                                            format!(
                                                "{}{}: not in the layout (never pulled; a partial image, as docker save writes one)",
                                                child.digest,
                                                child
                                                    .platform
                                                    .as_ref()
                                                    .map(|p| format!(" ({})", p.format()))
                                                    .unwrap_or_default()
                                            ),
                                        ));
                                    }
                                    !absent
                                })
                                .collect()
                        } else {
                            children
                        };
                        // containerd's `SetChildrenMappedLabels` with `ChildGCLabels`: a
                        // key by the child's media type, numbered per key (sweep 24: they
                        // were numbered by position, `m.N`, `config`, `l.N`).
                        let mut counts: HashMap<&'static str, usize> = HashMap::default();
                        for child in &children {
                            let key = child_gc_label(&child.media_type);
                            let n = counts.entry(key).or_insert(0);
                            let label = if *n > 0 || key.ends_with('.') {
                                format!("{key}{n}")
                            } else {
                                key.to_string()
                            };
                            *n += 1;
                            if Digest::parse(&child.digest).is_ok() {
                                record.labels.push((label, child.digest.clone()));
                            }
                        }
                        for (i, child) in children.into_iter().enumerate().rev() {
                            stack.push((child, depth + 1, key.clone(), !index && i == 0));
                        }
                    }
                    Err(p) => problems.push(p.at(&key)),
                }
            }
        }
        records.insert(key, record);
    }
    records
}

/// A manifest's or index's children; the problem when the blob does not read or parse.
/// A manifest's `subject` (and artifact type) comes with its children: the bytes are read once.
fn read_children(
    blobs: &dyn Blobs,
    digest: &Digest,
    desc: &Descriptor,
) -> Result<(Vec<Descriptor>, Option<Refers>), Problem> {
    // A descriptor whose size is not the blob's: the blob is fine, the reference is not; read
    // to that size, the bytes would be reported as not hashing to their name.
    let size_mismatch = |on_disk: u64| {
        Problem::error(
            "blob-size-mismatch",
            "",
            format!("the descriptor says {} bytes, the blob has {on_disk}", desc.size),
        )
    };
    if let Some(on_disk) = blobs.size(digest)
        && i64::try_from(on_disk).ok() != Some(desc.size)
    {
        return Err(size_mismatch(on_disk));
    }
    let limit = u64::try_from(desc.size).unwrap_or(0).min(MAX_DOCUMENT);
    let bytes = match blobs.read(digest, limit) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Err(Problem::error("blob-missing", "", "not in the layout")),
        Err(BlobError::UnexpectedEof { on_disk, .. }) => return Err(size_mismatch(on_disk)),
        Err(e) => return Err(Problem::error("blob-unreadable", "", e.to_string())),
    };
    // (A store that cannot tell sizes shows a short blob here.)
    if (bytes.len() as i64) < desc.size {
        return Err(size_mismatch(bytes.len() as u64));
    }
    if bytes.len() as i64 != desc.size || crate::export::write::hash(digest.algorithm(), &bytes) != digest.hex() {
        // verify names the mismatch; a document that is not what its digest says is not walked.
        return Err(Problem::error(
            "blob-digest-mismatch",
            "",
            format!("{} bytes do not hash to their name", bytes.len()),
        ));
    }
    let referrer = document::is_manifest_type(&desc.media_type)
        .then(|| crate::gostring::from_slice::<Referrer>(&bytes).ok())
        .flatten()
        .and_then(|r| {
            let subject = r.subject.filter(|s| Digest::parse(&s.digest).is_ok())?;
            let artifact_type = r
                .artifact_type
                .filter(|t| !t.is_empty())
                .or_else(|| r.config.map(|c| c.media_type))
                .unwrap_or_default();
            Some((subject.digest, artifact_type))
        });
    let children = document::children(&bytes, &desc.media_type).map_err(|e| {
        let kind = match e {
            document::DocError::Json(_) => "manifest-invalid-json",
            // Valid JSON of another kind than the descriptor says (or schema 1).
            _ => "mediatype-mismatch",
        };
        Problem::error(kind, "", format!("{}: {e}", desc.media_type))
    })?;
    Ok((children, referrer))
}

/// containerd's size encoding: Go's `binary.PutVarint`.
pub fn varint(v: i64) -> Vec<u8> {
    let mut u = ((v << 1) ^ (v >> 63)) as u64;
    let mut out = Vec::with_capacity(10);
    while u >= 0x80 {
        out.push((u as u8) | 0x80);
        u >>= 7;
    }
    out.push(u as u8);
    out
}

#[cfg(test)]
mod tests {

    /// A store with no blobs at all.
    struct Nothing;
    impl Blobs for Nothing {
        fn read(&self, digest: &Digest, _limit: u64) -> Result<Vec<u8>, BlobError> {
            Err(BlobError::NotFound(digest.to_string()))
        }
        fn exists(&self, _digest: &Digest) -> bool {
            false
        }
    }

    #[test]
    fn entries_past_the_limit_are_named_not_built() {
        let entries: Vec<Entry> = (0..5)
            .map(|position| Entry {
                position,
                descriptor: serde_json::from_value(serde_json::json!({
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": format!("sha256:{:064x}", position),
                    "size": 2,
                }))
                .unwrap(),
                ref_name: Some(format!("v{position}")),
                name_annotations: false,
                full_names: Vec::new(),
            })
            .collect();
        let mut problems = Vec::new();
        let imported = import_within(&entries, &Nothing, &mut problems, 3);
        assert_eq!(imported.names.len(), 3);
        let over: Vec<&Problem> = problems.iter().filter(|p| p.kind == "entries-over-limit").collect();
        assert_eq!(over.len(), 1);
        assert!(
            over[0].message.starts_with("5 entries; only the first 3 are read"),
            "{}",
            over[0].message
        );
        let mut problems = Vec::new();
        assert_eq!(import_within(&entries, &Nothing, &mut problems, 5).names.len(), 5);
        assert!(problems.iter().all(|p| p.kind != "entries-over-limit"));
    }

    #[test]
    fn referrer_labels_stay_within_containerds_label_limit() {
        let few: Vec<String> = vec!["sbom".into(), "sig".into()];
        assert_eq!(referrers_value(&few), "sbom,sig");
        let many: Vec<String> = (0..10_000).map(|i| format!("@{i}")).collect();
        let v = referrers_value(&many);
        assert!(v.len() + REFERRERS_LABEL.len() <= MAX_LABEL, "{}", v.len());
        let listed = v.split(',').filter(|p| p.starts_with('@')).count();
        assert!(v.ends_with(&format!(",+{} more", 10_000 - listed)), "{v}");
        assert!(v.starts_with("@0,@1,@2,"));
        let long: Vec<String> = vec!["x".repeat(5000)];
        assert_eq!(referrers_value(&long), "+1 more");
    }
    use super::*;
    use crate::containerd::encoding::varint_exact;

    #[test]
    fn varint_round_trips() {
        for v in [0i64, 1, -1, 63, 64, 300, i64::MAX, i64::MIN, 1 << 40] {
            assert_eq!(varint_exact(&varint(v)), Some(v), "{v}");
        }
    }

    #[test]
    fn positions_are_written_as_printed() {
        assert_eq!(position("@0"), Some(0));
        assert_eq!(position("@12"), Some(12));
        for name in ["@01", "@+1", "@-1", "@", "@ 1", "1", "@1a", "@00"] {
            assert_eq!(position(name), None, "{name}");
        }
    }
}
