//! `coldctr verify`: is the evidence intact?
//!
//! For every content record of every namespace (or one): the blob file exists and is a regular
//! file, its length equals the record's size, and its bytes hash to the digest. Manifests,
//! indexes and configs reachable from image targets must be valid documents of the type their
//! descriptor names ([`documents`]); with `--layers`, each layer's uncompressed stream must hash
//! to the config's `rootfs.diff_ids` entry at the same index ([`layers`]). Blob files that no
//! namespace records are listed as orphans (not problems); the bbolt structure of `meta.db`
//! and of the snapshotters' `metadata.db` is audited (`bolt::check`) into findings.
//!
//! Each problem record gets exactly one [`Status`], the first failure in this order:
//!
//! | status | meaning |
//! |---|---|
//! | `missing` | no blob file |
//! | `not-regular` | the name is a symlink, directory, FIFO, device...: never opened, never followed |
//! | `unreadable` | a regular file that could not be read to its end (permissions, I/O error) |
//! | `size-mismatch` | the file's length differs from the record's size |
//! | `digest-mismatch` | the bytes do not hash to the digest |
//! | `invalid-document` | a manifest, index or config that is not what its descriptor says |
//! | `diff-id-mismatch` | (`--layers`) the uncompressed layer does not hash to its diff ID |
//!
//! `not-regular` and `unreadable` come right after `missing` because each of them means the
//! bytes were never read, so nothing after them could be checked.
//!
//! Speed: each blob file is read and hashed once, however many namespaces record it; files are
//! hashed in parallel on rayon's pool (one worker per core), largest first, in 1 MiB reads,
//! with `ring`'s SHA-256. Documents are hashed while the walk reads them and not read again.

pub mod documents;
pub mod file;
pub mod layers;
mod recorded;
mod report;

use recorded::{Loaded, Record, load};
pub use recorded::{RecordedBlobs, Visit};
pub use report::{Checked, Finding, NamespaceChecked, Orphan, Problem, SourceChecked, Status, VerifyReport};

use crate::bolt::{self, MetaChoice, ReadMode};
use crate::containerd::blobs::{self, BlobTree, FileKind};
use crate::containerd::records::{self, Damage};
use crate::containerd::root::{CONTENT_DIR, META_DB, Root};
use crate::image::document::is_layer_type;
use file::{FileState, Progress};
use foldhash::{HashMap, HashSet};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

/// What to verify.
pub struct Options<'a> {
    /// One namespace, or all of them.
    pub namespace: Option<String>,
    /// Also decompress layers and check their diff IDs.
    pub layers: bool,
    pub choice: MetaChoice,
    /// How the snapshotters' DBs are read.
    pub read_mode: ReadMode,
    pub progress: Option<&'a Progress>,
    /// When large blobs are hashed through a map.
    pub map: file::MapPolicy,
}

/// Why verify could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Bolt(#[from] bolt::BoltError),
    #[error("namespace {name} not found (namespaces: {available})")]
    NoNamespace { name: String, available: String },
}

/// The bbolt audits: meta.db (through the same meta page as the records) and each
/// snapshotter's metadata.db. An image layout or archive has none: the bbolt file its records
/// are built into in memory is ours, not the examined disk's, and is not counted.
fn check_dbs(root: &Root, opts: &Options<'_>) -> (Vec<Finding>, u64, bool) {
    if root.source.is_some() {
        return (Vec::new(), 0, false);
    }
    let mut findings = Vec::new();
    let mut databases = 0;
    match root.view(opts.choice) {
        Ok(tx) => {
            databases += 1;
            findings.extend(bolt::check::check(&tx).into_iter().map(|f| Finding {
                file: META_DB.into(),
                page: f.page,
                message: f.message,
            }));
        }
        Err(e) => findings.push(Finding {
            file: META_DB.into(),
            page: None,
            message: e.to_string(),
        }),
    }
    let (audited, refused) = check_snapshotter_dbs(root, opts.read_mode, &mut findings);
    (findings, databases + audited, refused)
}

/// Runs every check on an open root.
pub fn verify(root: &Root, opts: &Options<'_>) -> Result<VerifyReport, VerifyError> {
    let mut damage = Damage::new();
    let mut report = VerifyReport::default();
    let content_ok = root.content_problem().is_none();
    // Paths in the report are relative to the root; a layout's blobs are at its top.
    let store_dir = if root.source.is_some() { "." } else { CONTENT_DIR };
    let prefix = if root.source.is_some() {
        String::new()
    } else {
        format!("{CONTENT_DIR}/")
    };
    // The bbolt audits run beside the records and the hashing; the directory listing beside
    // the records, and it is reduced to its orphans as soon as the records are read (50,000
    // entries are not held while the blobs are hashed).
    let (loaded, (db_findings, databases, refused), listed) = std::thread::scope(|s| {
        let dbs = crate::pipeline::spawn_scoped(s, || check_dbs(root, opts));
        let listing = crate::pipeline::spawn_scoped(s, || content_ok.then(|| root.blob_tree(blobs::Detail::Type)));
        let loaded = load(root, opts, &mut damage, &mut report.findings);
        let listing = listing
            .join()
            .unwrap_or_else(|_| Some(BlobTree::Unreadable("the listing stopped unexpectedly".into())));
        let listed = match &loaded {
            Ok(l) => listed(listing, &l.store, &l.recorded_elsewhere, &prefix),
            Err(_) => Listed::default(),
        };
        let loaded = loaded.map(|mut l| {
            if content_ok {
                if let Some(p) = opts.progress {
                    p.total.store(
                        l.store.sizes.iter().fold(0, |a: u64, &b| a.saturating_add(b)),
                        Ordering::Relaxed,
                    );
                }
                let checks = check_content(
                    root,
                    &mut l.store,
                    std::mem::take(&mut l.targets),
                    opts,
                    &mut report.checked,
                );
                (l, checks)
            } else {
                (l, Default::default())
            }
        });
        // A worker that panicked has printed why; its part of the report says it is missing.
        let dbs = dbs.join().unwrap_or_else(|_| {
            let f = Finding {
                file: META_DB.into(),
                page: None,
                message: "the bbolt audit stopped unexpectedly".into(),
            };
            (vec![f], 0, false)
        });
        (loaded, dbs, listed)
    });
    let (
        Loaded {
            store,
            namespaces: checked_ns,
            ..
        },
        (walked, diff_failures),
    ) = loaded?;
    report.findings.extend(db_findings);
    report.checked.databases = databases;
    report.refused |= refused;

    if let Some(problem) = root.content_problem() {
        report.findings.push(Finding {
            file: store_dir.into(),
            page: None,
            message: format!("content store not read: {problem}"),
        });
    }
    report.findings.extend(listed.findings);
    report.orphans = listed.orphans;

    // One status per record; records sharing (digest, size, status) become one problem.
    let mut problems: BTreeMap<(Status, String, i64), Problem> = BTreeMap::new();
    for (ns, (name, list)) in checked_ns.iter().enumerate() {
        let mut counts = NamespaceChecked {
            namespace: name.clone(),
            ..Default::default()
        };
        for r in list {
            counts.records += 1;
            let Some(b) = r.blob else { continue };
            if let Some(len) = store.read_len(b) {
                counts.bytes += len;
            }
            if !content_ok {
                continue;
            }
            let Some(p) = status(&store, ns, b, r, &walked, &diff_failures) else {
                continue;
            };
            counts.problems += 1;
            problems
                .entry((p.status, p.digest.clone(), p.size))
                .or_insert(p)
                .namespaces
                .push(name.clone());
        }
        report.checked.records += counts.records;
        report.checked.namespaces.push(counts);
    }
    report.problems = problems.into_values().collect();
    for len in store.looked() {
        report.checked.blobs += 1;
        if let Some(len) = len {
            report.checked.bytes += len;
        }
    }
    report.checked.documents = walked.parsed.len() as u64;

    report.damaged = !damage.is_empty();
    for d in damage.distinct() {
        report.findings.push(Finding {
            file: root.records_file().into(),
            page: d.page,
            message: format!("damaged: {d}"),
        });
    }
    Ok(report)
}

/// What the blob listing gives the report: why it could not be listed, and the orphans.
#[derive(Default)]
struct Listed {
    findings: Vec<Finding>,
    orphans: Vec<Orphan>,
}

/// The orphans of a listing (files no checked namespace, nor any other, records), sorted by
/// path, and what kept it from being listed; `prefix` starts the paths.
fn listed(
    listing: Option<BlobTree>,
    store: &RecordedBlobs,
    recorded_elsewhere: &HashSet<String>,
    prefix: &str,
) -> Listed {
    let mut out = Listed::default();
    let cannot_list = |message: String| Finding {
        file: format!("{prefix}blobs"),
        page: None,
        message: format!("cannot list the blob files: {message}"),
    };
    match &listing {
        Some(tree @ BlobTree::Entries(top)) => {
            // A directory of the store that could not be listed hides what it holds.
            for alg in top.iter().filter(|a| a.kind == FileKind::Directory) {
                if let Some(why) = alg.unreadable() {
                    out.findings.push(cannot_list(format!("{}: {why}", alg.path())));
                }
            }
            for f in tree.files() {
                let key = f.digest();
                if key
                    .as_ref()
                    .is_some_and(|k| store.blob_of(k).is_some() || recorded_elsewhere.contains(k))
                {
                    continue;
                }
                // An archive member's path is inside the tar: its header gave the size.
                let size = match (f.entry.kind, f.entry.member_size()) {
                    (FileKind::Regular, Some(size)) => size,
                    (FileKind::Regular, None) => std::fs::symlink_metadata(f.entry.full()).map_or(0, |m| m.len()),
                    _ => 0,
                };
                out.orphans.push(Orphan {
                    digest: key,
                    path: format!("{prefix}{}", f.entry.path()),
                    kind: f.entry.kind,
                    size,
                });
            }
            out.orphans.sort_by(|a, b| a.path.cmp(&b.path));
        }
        Some(BlobTree::Unreadable(e)) => out.findings.push(cannot_list(e.clone())),
        Some(BlobTree::NotADirectory(kind)) => {
            out.findings
                .push(cannot_list(format!("blobs is a {kind}, not a directory")));
        }
        // No blobs directory: no file, so no orphan (each record's blob is reported missing).
        Some(BlobTree::Missing | BlobTree::Refused(_)) | None => {}
    }
    out
}

/// Reads and checks every blob of `store`: the documents reachable from `targets` first (read
/// once, hashed as they are read), then every other blob in parallel, then (`--layers`) the
/// layers' diff IDs.
fn check_content(
    root: &Root,
    store: &mut RecordedBlobs,
    targets: Vec<Visit>,
    opts: &Options<'_>,
    checked: &mut Checked,
) -> (documents::Walked, HashMap<(usize, usize), DiffFailure>) {
    let mut blobs = file::Blobs::new(root.content_dir());
    blobs.archive = root.archive.clone();
    blobs.map = opts.map;
    let walked = documents::walk(&blobs, store, targets, opts.progress, opts.layers);
    // Every blob the walk did not read: largest first, so that no big file starts last.
    let mut rest: Vec<(usize, u64)> = (0..store.digests.len())
        .filter(|&b| !store.looked_at(b))
        .map(|b| (b, store.sizes.get(b).copied().unwrap_or(0)))
        .collect();
    rest.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    // In a compressed archive, in archive order: each worker goes on along the stream.
    rest.sort_by_cached_key(|&(b, _)| blobs.stream_offset(store.digest(b)));
    let states: Vec<(usize, FileState)> = rest
        .par_iter()
        .map(|&(b, largest)| (b, blobs.hash(store.digest(b), Some(largest), opts.progress)))
        .collect();
    for (b, state) in states {
        store.set_state(b, state);
    }
    let diff_failures = if opts.layers {
        check_layers(&blobs, store, &walked, opts.progress, checked)
    } else {
        HashMap::default()
    };
    (walked, diff_failures)
}

/// The first failure of one record, if any.
fn status(
    store: &RecordedBlobs,
    ns: usize,
    b: usize,
    r: &Record,
    walked: &documents::Walked,
    diff_failures: &HashMap<(usize, usize), DiffFailure>,
) -> Option<Problem> {
    let state = store.state(b)?;
    let recorded = store.digest(b).to_string();
    let mut p = Problem {
        digest: recorded.clone(),
        status: Status::Missing,
        namespaces: Vec::new(),
        size: r.size,
        expected: None,
        found: None,
        media_type: None,
        detail: None,
    };
    match &state {
        FileState::Missing => {}
        FileState::NotRegular { kind, .. } => {
            p.status = Status::NotRegular;
            p.found = Some(kind.clone().into());
            p.detail = Some(state.describe());
        }
        FileState::Unreadable(why) => {
            p.status = Status::Unreadable;
            p.detail = Some(why.clone());
        }
        FileState::Oversized { len } => {
            p.status = Status::SizeMismatch;
            p.expected = Some(r.size.into());
            p.found = Some((*len).into());
            p.detail = Some(state.describe());
        }
        FileState::Read { len, digest } => {
            if i64::try_from(*len).ok() != Some(r.size) {
                p.status = Status::SizeMismatch;
                p.expected = Some(r.size.into());
                p.found = Some((*len).into());
            } else if *digest != recorded {
                p.status = Status::DigestMismatch;
                p.expected = Some(recorded.into());
                p.found = Some(digest.clone().into());
            } else if let Some((mt, why)) = walked.invalid.get(&(ns, b)) {
                p.status = Status::InvalidDocument;
                p.media_type = Some(mt.clone());
                p.detail = Some(why.clone());
            } else if let Some(f) = diff_failures.get(&(ns, b)) {
                p.status = Status::DiffIdMismatch;
                p.media_type = Some(f.media_type.clone());
                p.expected = f.expected.clone().map(Into::into);
                p.found = Some(f.found.clone().map_or(serde_json::Value::Null, Into::into));
                p.detail = f.detail.clone();
            } else {
                return None;
            }
        }
    }
    Some(p)
}

/// A layer whose uncompressed stream is not what its config says.
struct DiffFailure {
    media_type: String,
    expected: Option<String>,
    found: Option<String>,
    detail: Option<String>,
}

/// Decompresses every intact layer named by a walked manifest (once per blob and compression)
/// and compares it with the config's diff ID at the same index.
fn check_layers(
    blobs: &file::Blobs,
    store: &RecordedBlobs,
    walked: &documents::Walked,
    progress: Option<&Progress>,
    checked: &mut Checked,
) -> HashMap<(usize, usize), DiffFailure> {
    struct Expect {
        ns: usize,
        blob: usize,
        media_type: String,
        diff_id: Option<String>,
        detail: Option<String>,
        compression: Option<layers::Compression>,
    }
    let mut expects: Vec<Expect> = Vec::new();
    for m in &walked.manifests {
        let Some((config, config_type)) = &m.config else {
            continue;
        };
        let Some(diff_ids) = walked.diff_ids(*config, config_type) else {
            continue;
        };
        for (i, layer) in m.layers.iter().enumerate() {
            if !is_layer_type(&layer.media_type) {
                continue;
            }
            let Some(blob) = store.recorded(m.ns, &layer.digest) else {
                continue;
            };
            if !store.intact(m.ns, blob) {
                continue;
            }
            let diff_id = diff_ids.get(i).cloned();
            expects.push(Expect {
                ns: m.ns,
                blob,
                media_type: layer.media_type.clone(),
                detail: diff_id
                    .is_none()
                    .then(|| format!("layer {i} has no diff ID: the config lists {}", diff_ids.len())),
                diff_id,
                compression: layers::compression(&layer.media_type),
            });
        }
    }
    let mut jobs: Vec<(usize, layers::Compression)> = expects
        .iter()
        .filter(|e| e.diff_id.is_some())
        .filter_map(|e| e.compression.map(|c| (e.blob, c)))
        .collect();
    jobs.sort_unstable();
    jobs.dedup();
    jobs.sort_by_cached_key(|&(b, _)| blobs.stream_offset(store.digest(b)));
    let mut skipped: HashSet<usize> = HashSet::default();
    for e in &expects {
        if e.compression.is_none() {
            skipped.insert(e.blob);
        }
    }
    checked.layers_skipped = skipped.len() as u64;
    checked.layers = jobs.len() as u64;
    if let Some(p) = progress {
        let extra: u64 = jobs.iter().map(|(b, _)| store.read_len(*b).unwrap_or(0)).sum();
        p.total.fetch_add(extra, Ordering::Relaxed);
    }
    let results: HashMap<(usize, layers::Compression), Result<String, String>> = jobs
        .par_iter()
        .map(|&(b, c)| ((b, c), layers::diff_id(blobs, store.digest(b), c, progress)))
        .collect();
    let mut out = HashMap::default();
    for e in expects {
        let Some(c) = e.compression else { continue };
        let failure = match (&e.diff_id, results.get(&(e.blob, c))) {
            (None, _) => Some((None, e.detail)),
            (Some(want), Some(Ok(got))) if got == want => None,
            (Some(_), Some(Ok(got))) => Some((Some(got.clone()), None)),
            (Some(_), Some(Err(why))) => Some((None, Some(why.clone()))),
            (Some(_), None) => None,
        };
        if let Some((found, detail)) = failure {
            out.entry((e.ns, e.blob)).or_insert(DiffFailure {
                media_type: e.media_type,
                expected: e.diff_id,
                found,
                detail,
            });
        }
    }
    out
}

/// Audits each snapshotter's `metadata.db`; returns how many were audited, and whether one
/// could not be read for the system's refusal (permissions, EIO: exit 4, not damage).
fn check_snapshotter_dbs(root: &Root, mode: ReadMode, findings: &mut Vec<Finding>) -> (u64, bool) {
    const PREFIX: &str = "io.containerd.snapshotter.v1.";
    let mut audited = 0;
    let mut refused = false;
    let Ok(entries) = crate::noatime::read_dir(&root.dir) else {
        return (audited, refused);
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter_map(|n| n.strip_prefix(PREFIX).map(str::to_string))
        .collect();
    names.sort();
    for name in names {
        let file = format!("{PREFIX}{name}/metadata.db");
        match root.snapshotter_db(&name, mode) {
            None => {}
            Some(Err(e)) => {
                refused |= matches!(&e, crate::bolt::BoltError::Io { source, .. } if source.raw_os_error().is_some());
                findings.push(Finding {
                    file,
                    page: None,
                    message: e.to_string(),
                });
            }
            Some(Ok(db)) => {
                audited += 1;
                match db.view(MetaChoice::Current) {
                    Ok(tx) => {
                        findings.extend(bolt::check::check(&tx).into_iter().map(|f| Finding {
                            file: file.clone(),
                            page: f.page,
                            message: f.message,
                        }));
                        // Sound pages can still hold one id twice, which gives two snapshots
                        // one directory, or a parent loop. Only those are looked for in the
                        // records here; what does not decode is the layer commands' to report.
                        let backend = records::backend_snapshots(&tx, &mut Damage::new());
                        findings.extend(records::shared_ids(&backend).into_iter().map(|(id, keys)| Finding {
                            file: file.clone(),
                            page: None,
                            message: records::shared_id_message(&name, id, &keys),
                        }));
                        findings.extend(records::parent_loops(&backend).into_iter().map(|keys| Finding {
                            file: file.clone(),
                            page: None,
                            message: records::parent_loop_message(&name, &keys),
                        }));
                    }
                    Err(e) => findings.push(Finding {
                        file,
                        page: None,
                        message: e.to_string(),
                    }),
                }
            }
        }
    }
    (audited, refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::image::document::{OCI_INDEX, OCI_MANIFEST};
    use documents::Role;
    use std::io::Write;

    /// A root with a copy of a fixture's meta.db (only so that it opens) and hand-made blobs.
    struct Lab {
        _dir: tempfile::TempDir,
        root: Root,
    }

    fn lab() -> Lab {
        let dir = tempfile::tempdir().expect("tempdir");
        let meta = dir.path().join(META_DB);
        std::fs::create_dir_all(meta.parent().expect("parent")).expect("mkdir");
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/containerd-1.7")
            .join(META_DB);
        std::fs::copy(fixture, &meta).expect("copy meta.db");
        std::fs::create_dir_all(dir.path().join(CONTENT_DIR).join("blobs/sha256")).expect("mkdir");
        let root = Root::open(dir.path(), ReadMode::Read).expect("open");
        Lab { _dir: dir, root }
    }

    impl Lab {
        fn blob(&self, data: &[u8]) -> String {
            let d = Digest::sha256_of(data);
            std::fs::write(self.root.blob_path(&d), data).expect("write blob");
            d.to_string()
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).expect("gzip");
        e.finish().expect("gzip")
    }

    #[test]
    fn documents_and_diff_ids_per_namespace() {
        let lab = lab();
        let tar1 = b"first layer".repeat(1000);
        let tar2 = b"second layer".repeat(1000);
        let l1_bytes = gzip(&tar1);
        let l1 = lab.blob(&l1_bytes);
        let l2 = lab.blob(&tar2);
        let good1 = Digest::sha256_of(&tar1).to_string();
        let good2 = Digest::sha256_of(&tar2).to_string();
        let wrong = Digest::sha256_of(b"something else").to_string();
        let config_json = format!(
            r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{good1}","{wrong}"]}}}}"#
        );
        let config = lab.blob(config_json.as_bytes());
        let manifest_json = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"{}","digest":"{config}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{l1}","size":{}}},{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{l2}","size":{}}}]}}"#,
            documents::OCI_CONFIG,
            config_json.len(),
            l1_bytes.len(),
            tar2.len()
        );
        let manifest = lab.blob(manifest_json.as_bytes());

        // Namespace 0 records everything and has an image on the manifest; namespace 1 records
        // only the manifest, and its image names it as an index.
        let mut store = RecordedBlobs::default();
        let mut records: Vec<Vec<(String, Record)>> = vec![Vec::new(), Vec::new()];
        store.recorded = vec![HashMap::default(), HashMap::default()];
        for (ns, digest) in [(0, &l1), (0, &l2), (0, &config), (0, &manifest), (1, &manifest)] {
            let d = Digest::parse(digest).expect("digest");
            let size = std::fs::metadata(lab.root.blob_path(&d)).expect("stat").len() as i64;
            let b = store.add(digest, size).expect("digest");
            store.recorded[ns].insert(b, size);
            records[ns].push((digest.clone(), Record { size, blob: Some(b) }));
        }
        let targets = vec![
            Visit {
                ns: 0,
                digest: manifest.clone(),
                media_type: OCI_MANIFEST.into(),
                role: Role::Node,
            },
            Visit {
                ns: 1,
                digest: manifest.clone(),
                media_type: OCI_INDEX.into(),
                role: Role::Node,
            },
        ];
        let opts = Options {
            namespace: None,
            layers: true,
            choice: MetaChoice::Current,
            read_mode: ReadMode::Read,
            progress: None,
            map: file::MapPolicy::Never,
        };
        let mut checked = Checked::default();
        let (walked, diffs) = check_content(&lab.root, &mut store, targets, &opts, &mut checked);
        assert_eq!(checked.layers, 2);
        let statuses: Vec<(usize, String, Option<Problem>)> = records
            .iter()
            .enumerate()
            .flat_map(|(ns, list)| list.iter().map(move |r| (ns, r)))
            .map(|(ns, (digest, r))| {
                let b = r.blob.expect("blob");
                (ns, digest.clone(), status(&store, ns, b, r, &walked, &diffs))
            })
            .collect();
        let problems: Vec<(usize, &str, Status)> = statuses
            .iter()
            .filter_map(|(ns, d, p)| p.as_ref().map(|p| (*ns, d.as_str(), p.status)))
            .collect();
        assert_eq!(
            problems,
            vec![
                (0, l2.as_str(), Status::DiffIdMismatch),
                (1, manifest.as_str(), Status::InvalidDocument)
            ]
        );
        let diff = statuses
            .iter()
            .find_map(|(_, d, p)| p.as_ref().filter(|_| *d == l2))
            .expect("l2 problem");
        assert_eq!(diff.expected, Some(wrong.clone().into()));
        assert_eq!(diff.found, Some(good2.clone().into()));
        let doc = statuses
            .iter()
            .find_map(|(ns, _, p)| p.as_ref().filter(|_| *ns == 1))
            .expect("manifest problem");
        assert_eq!(doc.media_type.as_deref(), Some(OCI_INDEX));
        assert!(
            doc.detail.as_deref().is_some_and(|d| d.contains("expected index")),
            "{doc:?}"
        );
        // The manifest was read once, by the walk, and never hashed again.
        assert!(matches!(
            store.state(store.recorded(0, &manifest).expect("m")),
            Some(FileState::Read { .. })
        ));
    }
}
