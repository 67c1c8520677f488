//! The listings: `coldctr images`, `content`, `namespaces`, `leases`, `containers` and
//! `snapshots` — what `ctr ... ls` shows, read from disk, for every namespace (or `-n`).
//!
//! Tables for people (every cell escaped; an empty cell prints as `-`; digests and IDs cut to
//! 12 hex digits unless `--no-trunc`; sizes and times as [`table`] says), `--format json` for
//! machines: one JSON array in containerd's list order (namespace, then key, both in byte
//! order, as bbolt cursors return them); `--format jsonl` the same objects one a line; `-q`
//! the identifying column; `--filter` as [`filter`] says. A damaged record never stops a
//! listing: the records that can be read are listed, the damage goes to stderr and the exit
//! code is 3.

mod analysis;
pub mod filter;
pub mod goregex;
mod images;
mod json_text;
mod output;
mod selectors;
pub(super) mod table;

pub use images::{ImagesArgs, images};
pub use output::{ListArgs, format_help};

use super::context::Global;
use super::{Failure, Outcome, warn};
use crate::bolt::{Bucket, MetaChoice, Tx};
use crate::containerd::records::{self, BackendSnapshot, Damage};
use crate::containerd::root::{Root, unlike_record};
use crate::digest::Digest;
use foldhash::HashMap;
use output::{emit, filtered};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use table::Table;

/// The docker filter keys of the listings other than `images`: labels of the records.
const LABEL_KEYS: [&str; 2] = ["label", "label!"];

/// A row's record labels (`labels` of its JSON) against docker's `label` filters.
fn record_labels_match(filters: &filter::Filters, v: &serde_json::Value) -> bool {
    if !filters.has_labels() {
        return true;
    }
    let labels: BTreeMap<String, String> = v
        .get("labels")
        .and_then(|l| serde_json::from_value(l.clone()).ok())
        .unwrap_or_default();
    filters.labels_match(&labels)
}

/// What a listing works with: the open root, one view of meta.db, the namespaces it covers,
/// and the damage met so far.
pub(crate) struct Scope<'a> {
    pub root: &'a Root,
    pub tx: Tx<'a>,
    pub namespaces: Vec<(String, Bucket<'a>)>,
    pub damage: Damage,
    pub global: &'a Global,
    /// What the listing found beyond damage in meta.db (a missing blob, an unreadable store).
    pub outcome: Outcome,
    backends: Backends,
}

/// A blob as `Root::read_blob` returned it, shared.
pub(crate) type BlobRead = Result<std::rc::Rc<Vec<u8>>, crate::containerd::root::BlobError>;

/// Opens the root, runs `body` over the namespaces the listing covers, then reports the damage.
fn run(global: &Global, body: impl FnOnce(&mut Scope<'_>) -> Result<(), Failure>) -> Result<Outcome, Failure> {
    run_on(global, global.open_root()?, body)
}

/// [`run`] on a root already open.
fn run_on(
    global: &Global,
    root: Root,
    body: impl FnOnce(&mut Scope<'_>) -> Result<(), Failure>,
) -> Result<Outcome, Failure> {
    let tx = root.view(global.meta_choice())?;
    let mut damage = Damage::new();
    // Pages the view counts as its own are missing, or bbolt could not open the file, even
    // when every record is readable: damage for every listing, as `verify` and `gc` say it.
    for e in crate::bolt::check::view_damage(&tx) {
        damage.push(e);
    }
    let mut outcome = super::context::records_outcome(&root);
    let namespaces = match &global.namespace {
        None => records::namespace_buckets(&tx, &mut damage),
        Some(ns) => match tx.bucket_at(&[b"v1".as_slice(), &records::key_bytes(ns)]) {
            Ok(Some(b)) => vec![(ns.clone(), b)],
            Ok(None) => {
                let all = records::namespace_buckets(&tx, &mut damage);
                outcome = super::context::namespace_not_found(global, all.iter().map(|(n, _)| n.as_str()));
                Vec::new()
            }
            Err(e) => {
                damage.push(e);
                Vec::new()
            }
        },
    };
    let mut scope = Scope {
        root: &root,
        tx,
        namespaces,
        damage,
        global,
        outcome: Outcome::Ok,
        backends: Backends::default(),
    };
    body(&mut scope)?;
    outcome = outcome.worst(scope.outcome);
    // A blob file the listing could not open (permissions), however the row shows it.
    if root.blob_denied() {
        outcome = outcome.worst(Outcome::Unreadable);
    }
    for d in scope.damage.distinct() {
        warn(crate::text::one_line(&d.message));
    }
    outcome = outcome.worst(Outcome::of_damage(&scope.damage));
    Ok(outcome)
}

/// A snapshotter's records by backend key.
type BackendRecords = std::sync::Arc<HashMap<String, BackendSnapshot>>;

/// The snapshotters' own metadata.db files, each read once (by whichever worker asks first).
#[derive(Default)]
struct Backends {
    /// Each snapshotter's records, and whether they read without damage: only then does a
    /// key missing from them mean the backend has no such snapshot.
    dbs: std::sync::Mutex<HashMap<String, Option<(BackendRecords, bool)>>>,
}

impl Backends {
    /// The backend records of `snapshotter`, keyed by backend key; `None` when its
    /// metadata.db is not there or cannot be opened (said once on stderr).
    fn get(&self, root: &Root, global: &Global, snapshotter: &str, damage: &mut Damage) -> Option<BackendRecords> {
        let mut dbs = self.dbs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        dbs.entry(snapshotter.to_string())
            .or_insert_with(|| {
                let shown = crate::text::escape(snapshotter.as_bytes());
                match root.snapshotter_db(snapshotter, global.read_mode()) {
                    None => {
                        warn(format_args!(
                            "{} in {}: snapshot kinds and sizes of {shown} unknown",
                            crate::containerd::root::no_snapshotter_db(snapshotter),
                            root.dir.display()
                        ));
                        None
                    }
                    Some(Err(e)) => {
                        damage.push(e);
                        None
                    }
                    Some(Ok(db)) => match db.view(MetaChoice::Current) {
                        Ok(tx) => {
                            if let Some(note) = db.fell_back_note() {
                                warn(note);
                            }
                            let before = damage.len();
                            for e in crate::bolt::check::view_damage(&tx) {
                                damage.push(e);
                            }
                            // A shared id is damage for every command that reads these.
                            let all = records::checked_backend_snapshots(&tx, snapshotter, damage);
                            let complete = damage.len() == before;
                            records::say_parent_loops(&tx, snapshotter, &all, damage);
                            let by_key = all.into_iter().map(|s| (s.key.clone(), s)).collect();
                            Some((std::sync::Arc::new(by_key), complete))
                        }
                        Err(e) => {
                            damage.push(e);
                            None
                        }
                    },
                }
            })
            .as_ref()
            .map(|(records, _)| records.clone())
    }

    /// Whether `snapshotter`'s metadata.db was asked for (`Some`), and opened and read without
    /// damage (`Some(true)`): then a key it lacks is a snapshot the backend has no record of.
    fn read_whole(&self, snapshotter: &str) -> Option<bool> {
        let dbs = self.dbs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        dbs.get(snapshotter)
            .map(|r| r.as_ref().is_some_and(|(_, complete)| *complete))
    }
}

// ---- namespaces ------------------------------------------------------------------------------

pub fn namespaces(global: &Global, args: ListArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let filters = args.filters(&LABEL_KEYS, filter::Kind::Namespaces)?;
    run(global, |s| {
        let rows: Vec<records::Namespace> = s
            .namespaces
            .iter()
            .map(|(name, b)| records::Namespace {
                name: name.clone(),
                labels: records::labels(b, b"labels", &mut s.damage),
            })
            .collect();
        let rows = filtered(rows, &filters, |_, v| record_labels_match(&filters, v));
        emit(
            out,
            &args,
            &rows,
            |r| r.name.clone(),
            |rows, trunc| {
                let mut t = Table::truncating(&["NAME", "LABELS"], trunc)
                    .limit("LABELS", LABELS_WIDTH)
                    .names(&["NAME", "LABELS"]);
                for r in rows {
                    t.row(&[r.name.clone(), table::labels(&r.labels)]);
                }
                t
            },
        )
    })
}

/// The widest a LABELS cell prints unless `--no-trunc`.
const LABELS_WIDTH: usize = 60;
/// Characters of a content key that is no digest shown in its damage line (the row keeps it
/// whole): a torn key of a megabyte was a megabyte line on stderr.
const KEY_SHOWN: usize = 200;

// ---- content ---------------------------------------------------------------------------------

/// A content record and what is on disk for it.
#[derive(Serialize)]
struct ContentRow {
    #[serde(flatten)]
    record: records::Content,
    /// The blob file exists, is a regular file (a symlink is never followed) and has the
    /// recorded size.
    present: bool,
    /// What is there: `present`, `missing`, `truncated` or `oversized` (a regular file of
    /// another length), a [`FileKind`] name (`symlink`, `directory`, `fifo`, ...) or `unknown`
    /// (not looked at: see `fileProblem`).
    #[serde(rename = "fileState")]
    file_state: &'static str,
    /// The file's length, when it is a regular file.
    #[serde(rename = "fileSize", skip_serializing_if = "Option::is_none")]
    file_size: Option<u64>,
    /// What is at the blob's path when it is not a regular file (`symlink`, `directory`, ...).
    #[serde(rename = "fileType", skip_serializing_if = "Option::is_none")]
    file_type: Option<&'static str>,
    /// Why the file was not looked at (a digest that cannot name a file, an unsafe store).
    #[serde(rename = "fileProblem", skip_serializing_if = "Option::is_none")]
    file_problem: Option<String>,
    /// On a layout or archive: the image records that reach the blob (through the
    /// `containerd.io/gc.ref.content.*` labels the import set), by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    images: Option<Vec<String>>,
    /// Why the record's key is no digest (found where the file is looked up: parsed once).
    #[serde(skip)]
    key_error: Option<String>,
    /// The file could not be looked at (EMFILE, EIO, EACCES on its directory): not known to be
    /// there, not called missing, and exit 4 (sweep 28.4: FILE `unknown` on every row, exit 0).
    #[serde(skip)]
    unreadable: bool,
    /// The blob was looked for: the record's fields pass the filters as far as they can tell
    /// (a row they drop is made without its stat, and says nothing of its file).
    #[serde(skip)]
    looked: bool,
}

/// For each content record of the namespace, the image records that reach it: from each
/// image's target along the content records' `containerd.io/gc.ref.content.*` labels.
fn reached_by(images: &[records::Image], content: &[ContentRow]) -> HashMap<String, Vec<String>> {
    let children: HashMap<&str, Vec<&str>> = content
        .iter()
        .map(|r| {
            // Each child once: a manifest naming one layer 400,000 times has one child.
            let mut kids: Vec<&str> = r
                .record
                .labels
                .iter()
                .filter(|(k, _)| k.starts_with("containerd.io/gc.ref.content"))
                .map(|(_, v)| v.as_str())
                .collect();
            kids.sort_unstable();
            kids.dedup();
            (r.record.digest.as_str(), kids)
        })
        .collect();
    // What each target reaches, walked once per target, not once per image naming it (4,096
    // names of one manifest walked it 4,096 times).
    let mut reach: HashMap<&str, Vec<&str>> = HashMap::default();
    let mut out: HashMap<String, Vec<String>> = HashMap::default();
    for image in images {
        let target = image.target.digest.as_str();
        let reached = reach.entry(target).or_insert_with(|| {
            let mut seen = foldhash::HashSet::default();
            let mut order = Vec::new();
            let mut stack = vec![target];
            while let Some(d) = stack.pop() {
                if !seen.insert(d) {
                    continue;
                }
                order.push(d);
                stack.extend(children.get(d).into_iter().flatten().copied());
            }
            order
        });
        for d in reached.iter() {
            out.entry((*d).to_string()).or_default().push(image.name.clone());
        }
    }
    out
}

impl ContentRow {
    fn new(root: &Root, record: records::Content) -> ContentRow {
        let mut row = ContentRow {
            looked: true,
            ..ContentRow::unlooked(record)
        };
        if let Some(p) = root.content_problem() {
            row.file_problem = Some(p.to_string());
            return row;
        }
        let digest = match Digest::parse(&row.record.digest) {
            Ok(d) => d,
            Err(e) => {
                row.file_problem = Some(e.to_string());
                return row;
            }
        };
        match root.blob_stat(&digest) {
            Ok(m) if m.is_file() => {
                row.file_size = Some(m.len);
                row.file_state = match i64::try_from(m.len).ok().cmp(&Some(row.record.size)) {
                    std::cmp::Ordering::Equal => "present",
                    std::cmp::Ordering::Less => "truncated",
                    std::cmp::Ordering::Greater => "oversized",
                };
                row.present = row.file_state == "present";
            }
            Ok(m) => {
                let kind = m.kind.as_str();
                row.file_type = Some(kind);
                row.file_state = kind;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => row.file_state = "missing",
            Err(e) => {
                row.file_problem = Some(e.to_string());
                row.unreadable = true;
            }
        }
        row
    }

    /// The row of a record the filters drop, with no look at its blob: only what its key says
    /// ([`ContentRow::key_damage`]) is kept of it.
    fn unlooked(record: records::Content) -> ContentRow {
        let key_error = Digest::parse(&record.digest).err().map(|e| e.reason().to_string());
        ContentRow {
            record,
            present: false,
            file_state: "unknown",
            file_size: None,
            file_type: None,
            file_problem: None,
            images: None,
            key_error,
            unreadable: false,
            looked: false,
        }
    }

    /// The row of `record`: looked at only when the filters may keep it (`early`).
    fn made(root: &Root, record: records::Content, early: &ContentFilter<'_>) -> ContentRow {
        if early.may_keep(&record) {
            ContentRow::new(root, record)
        } else {
            ContentRow::unlooked(record)
        }
    }

    /// Whether the blob is not there as recorded (said once per blob, and damage).
    fn is_unlike(&self) -> bool {
        self.looked && !self.present && (self.file_problem.is_none() || self.unreadable)
    }

    /// The row as `json`'s element (pretty, one level in) or as a `jsonl` line: what its
    /// `Serialize` prints, written by hand (see [`json_text`]).
    fn json(&self, pretty: bool) -> Vec<u8> {
        let r = &self.record;
        json_text::row(pretty, 512, |j| {
            j.str_member("namespace", &r.namespace);
            j.str_member("digest", &r.digest);
            j.int_member("size", r.size);
            j.opt_str_member("createdAt", r.created_at.as_deref());
            j.opt_str_member("updatedAt", r.updated_at.as_deref());
            j.map_member("labels", &r.labels);
            j.bool_member("present", self.present);
            j.str_member("fileState", self.file_state);
            if let Some(n) = self.file_size {
                j.int_member("fileSize", n);
            }
            if let Some(t) = self.file_type {
                j.str_member("fileType", t);
            }
            if let Some(p) = &self.file_problem {
                j.str_member("fileProblem", p);
            }
            if let Some(images) = &self.images {
                j.key("images");
                j.string_list(images);
            }
        })
    }

    /// The FILE column: present, missing, or what is there instead.
    fn file_column(&self) -> String {
        match self.file_size {
            Some(n) if !self.present => format!("{}({n}B)", self.file_state),
            _ => self.file_state.into(),
        }
    }

    /// A record whose key is no digest (no file can be its blob): damage, said as `verify`
    /// finds it, where the row only showed FILE `unknown`.
    fn key_damage(&self) -> Option<String> {
        let e = self.key_error.as_ref()?;
        Some(format!(
            "namespace {}: content record {}: the key is not a digest ({e})",
            crate::text::one_line(&self.record.namespace),
            crate::text::one_line(&crate::text::clipped(&self.record.digest, KEY_SHOWN))
        ))
    }

    /// The file as the warning's sentence says it: "the blob file is {this}" (`truncated
    /// (787 bytes)`, `a symlink`, `missing`, `not looked at (...)`).
    fn file_words(&self) -> String {
        if self.unreadable {
            return format!("not looked at ({})", self.file_problem.as_deref().unwrap_or_default());
        }
        match (self.file_size, self.file_type) {
            (Some(n), _) if !self.present => format!("{} ({n} bytes)", self.file_state),
            (_, Some("other")) => "of another file type".into(),
            (_, Some(kind)) => format!("a {}", kind.replace('-', " ")),
            _ => self.file_state.into(),
        }
    }
}

/// Content records decoded, stated and serialized on the pool per batch of this many.
const CONTENT_BATCH: usize = 512;

/// `content` with JSON, JSON lines or `-q`: the same rows, warnings and outcome as the
/// listing that holds every row, printed as they are made.
///
/// This thread only walks the `content/blob` buckets' keys; the records are decoded, their
/// blobs stated and their rows serialized on the pool meanwhile, and written here in order.
fn content_streamed(
    s: &mut Scope<'_>,
    args: &ListArgs,
    filters: &filter::Filters,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    s.outcome = s.outcome.worst(super::context::content_outcome(s.root));
    let root = s.root;
    let early = ContentFilter::new(filters);
    let ready = |(ns, step): (&str, records::RecordStep<'_>)| {
        let (damage, record) =
            step.decode(|digest, b, d| records::content_from(ns, digest, b, d).map_err(|e| d.push(e)).ok());
        let mut damage = damage;
        let row = record.map(|r| ContentRow::made(root, r, &early));
        if let Some(said) = row.as_ref().and_then(ContentRow::key_damage) {
            damage.push(said);
        }
        // What the writer needs of the row besides its text: the blob's state when it is not
        // as recorded. The row itself is dropped here, on the worker that made it (freeing a
        // record's strings on the writing thread was a tenth of the run, in the allocator).
        let unlike = row.as_ref().filter(|r| r.is_unlike()).map(|r| Unlike {
            digest: r.record.digest.clone(),
            size: r.record.size,
            file: r.file_words(),
            unreadable: r.unreadable,
        });
        let text = row.as_ref().filter(|r| r.looked && keeps(filters, &early, r)).map(|r| {
            if args.quiet {
                let mut t = crate::text::escape(r.record.digest.as_bytes()).into_bytes();
                t.push(b'\n');
                Ok(t)
            } else {
                Ok(r.json(args.format == output::Format::Json))
            }
        });
        ContentDone { damage, unlike, text }
    };
    let mut stream = ContentStream {
        args,
        written: 0,
        said: UnlikeNotes::default(),
        outcome: Outcome::Ok,
        damage: Damage::new(),
        error: None,
    };
    let pool = crate::pipeline::pool(3);
    let namespaces = &s.namespaces;
    crate::pipeline::ordered(
        pool.as_ref(),
        CONTENT_BATCH,
        |give| {
            for (ns, b) in namespaces {
                records::content_steps_where(
                    b,
                    |digest| early.key_may_match(ns, digest),
                    |step| give((ns.as_str(), step)),
                );
            }
        },
        &ready,
        &mut |done| stream.take(out, done),
    );
    stream.said.finish();
    s.damage.extend(std::mem::take(&mut stream.damage));
    s.outcome = s.outcome.worst(stream.outcome);
    if let Some(e) = stream.error {
        return Err(e);
    }
    if args.quiet || args.format == output::Format::Jsonl {
        return Ok(());
    }
    out.write_all(if stream.written == 0 { b"[]\n" } else { b"\n]\n" })?;
    Ok(())
}

/// A content record made ready on a worker: the damage met reading it, how its blob differs
/// from the record, and the row's output when the filters keep it.
struct ContentDone {
    damage: Damage,
    unlike: Option<Unlike>,
    text: Option<Result<Vec<u8>, serde_json::Error>>,
}

/// How many recorded blobs not there as recorded are named on stderr, one line each: a store
/// whose blobs/sha256 is gone would otherwise print a line per record (47,000); the rows
/// say what each file is.
const UNLIKE_SHOWN: usize = 20;

/// The "not there as recorded" lines of a content listing: once per digest, the first
/// [`UNLIKE_SHOWN`], then how many more.
#[derive(Default)]
struct UnlikeNotes {
    said: foldhash::HashSet<String>,
    more: usize,
}

impl UnlikeNotes {
    fn note(&mut self, digest: &str, size: i64, file: &str) {
        // Once per blob: a blob recorded in two namespaces is one blob.
        if !self.said.insert(digest.to_string()) {
            return;
        }
        if self.said.len() <= UNLIKE_SHOWN {
            warn(crate::text::escape(unlike_record(digest, size, file).as_bytes()));
        } else {
            self.more += 1;
        }
    }

    fn finish(&self) {
        if self.more > 0 {
            warn(format_args!(
                "... and {} more recorded blobs not there as recorded (the table's FILE column and JSON's fileState say what each is)",
                self.more
            ));
        }
    }
}

/// A recorded blob that is not there as recorded (the FILE column says what is), or that
/// could not be looked at (`unreadable`).
struct Unlike {
    digest: String,
    size: i64,
    file: String,
    unreadable: bool,
}

/// What a streamed `content` listing has written and said.
struct ContentStream<'a> {
    args: &'a ListArgs,
    written: usize,
    /// Recorded blobs not there as recorded, said.
    said: UnlikeNotes,
    outcome: Outcome,
    /// Damage met in the records, in walk order.
    damage: Damage,
    /// The first write error; nothing more is written after it.
    error: Option<Failure>,
}

impl ContentStream<'_> {
    /// Takes the next record in order: its damage, its warning, and its row's output.
    fn take(&mut self, out: &mut dyn Write, done: ContentDone) {
        self.damage.extend(done.damage);
        // A recorded blob that is not there as recorded is damage, said once per blob.
        if let Some(u) = done.unlike {
            let outcome = if u.unreadable {
                Outcome::Unreadable
            } else {
                Outcome::Damaged
            };
            self.outcome = self.outcome.worst(outcome);
            self.said.note(&u.digest, u.size, &u.file);
        }
        if let (None, Some(text)) = (&self.error, done.text)
            && let Err(e) = self.write(out, text)
        {
            self.error = Some(e);
        }
    }

    fn write(&mut self, out: &mut dyn Write, text: Result<Vec<u8>, serde_json::Error>) -> Result<(), Failure> {
        let text = text.map_err(|e| Failure::from(std::io::Error::from(e)))?;
        if !self.args.quiet && self.args.format == output::Format::Json {
            out.write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
        }
        out.write_all(&text)?;
        self.written += 1;
        Ok(())
    }
}

/// The filters as far as a content record's own fields tell, before its blob is looked at
/// (`digest==D` stated all 93,000 blobs of a store for one row: sweep 31.3).
struct ContentFilter<'f> {
    filters: &'f filter::Filters,
    early: filter::Early<'f, 'static>,
    /// The selectors a record's key answers (its digest, and the namespace it is in), tested
    /// before the record is opened.
    on_key: filter::Early<'f, 'static>,
}

/// The members of a content row a record's key and place say.
const CONTENT_KEY_MEMBERS: [&str; 2] = ["namespace", "digest"];

/// The members of a content row's JSON its record says ([`records::Content`]'s; no other
/// member of a row has one of these names, whatever the case).
const CONTENT_MEMBERS: [&str; 6] = ["namespace", "digest", "size", "createdAt", "updatedAt", "labels"];

impl<'f> ContentFilter<'f> {
    fn new(filters: &'f filter::Filters) -> ContentFilter<'f> {
        ContentFilter {
            filters,
            early: filters.early(&CONTENT_MEMBERS),
            on_key: filters.early(&CONTENT_KEY_MEMBERS),
        }
    }

    /// Whether the filters may keep the record whose key is `digest` in namespace `ns`, before
    /// it is opened (`digest==D` opens one record of 20,000: sweep 31.3).
    fn key_may_match(&self, ns: &str, digest: &str) -> bool {
        use serde_json::Value;
        !self.on_key.tests()
            || self.on_key.may_match(|m| match m {
                "namespace" => Value::from(ns),
                _ => Value::from(digest),
            })
    }

    /// Whether the filters may keep the record's row: its containerd selectors on the
    /// record's fields, and docker's label filters (on its labels alone).
    fn may_keep(&self, r: &records::Content) -> bool {
        (!self.filters.has_labels() || self.filters.labels_match(&r.labels))
            && (!self.early.tests() || self.early.may_match(|m| content_member(r, m)))
    }

    /// Whether [`ContentFilter::may_keep`] is the filters' whole answer.
    fn is_exact(&self) -> bool {
        self.early.is_exact()
    }
}

/// The member `name` (one of [`CONTENT_MEMBERS`]) of a record's row, as its JSON has it.
fn content_member(r: &records::Content, name: &str) -> serde_json::Value {
    use serde_json::Value;
    let json = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
    match name {
        "namespace" => Value::from(r.namespace.as_str()),
        "digest" => Value::from(r.digest.as_str()),
        "size" => Value::from(r.size),
        "createdAt" => json(serde_json::to_value(&r.created_at)),
        "updatedAt" => json(serde_json::to_value(&r.updated_at)),
        _ => json(serde_json::to_value(&r.labels)),
    }
}

/// [`filtered`]'s test for one content row whose record `early` kept.
fn keeps(filters: &filter::Filters, early: &ContentFilter<'_>, r: &ContentRow) -> bool {
    if filters.is_empty() || early.is_exact() {
        return true;
    }
    let v = serde_json::to_value(r).unwrap_or(serde_json::Value::Null);
    filters.ctr_matches(&v) && record_labels_match(filters, &v)
}

/// Runs `f` on a pool of at most three workers (the design's cap; no more than the cores), or
/// here when none can be built.
fn on_stat_pool<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    crate::pipeline::install(crate::pipeline::pool(3).as_ref(), f)
}

pub fn content(global: &Global, args: ListArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let filters = args.filters(&LABEL_KEYS, filter::Kind::Content)?;
    run(global, |s| {
        // JSON, JSON lines and -q print each row on its own: rows are streamed a batch at a
        // time (47,000 records need not be held at once); a table needs every row for its
        // widths, and a layout's rows need every record for the images reaching them.
        if s.root.source.is_none()
            && (args.quiet || matches!(args.format, output::Format::Json | output::Format::Jsonl))
        {
            return content_streamed(s, &args, &filters, out);
        }
        let early = ContentFilter::new(&filters);
        let mut rows = Vec::new();
        for (ns, b) in &s.namespaces {
            let first = rows.len();
            // One stat per blob, on the pool: the lookups in a directory of 47,000 names
            // are system time that runs beside the decoding of the next records.
            let found = records::content_in_where(ns, b, |digest| early.key_may_match(ns, digest), &mut s.damage);
            let root = s.root;
            let early = &early;
            rows.extend(on_stat_pool(|| {
                use rayon::prelude::*;
                found
                    .into_par_iter()
                    .map(|r| ContentRow::made(root, r, early))
                    .collect::<Vec<_>>()
            }));
            // A layout's users ask which images each blob belongs to; on a containerd root
            // the records alone say it only through the same labels, at a cost per image.
            if s.root.source.is_some() {
                let images = records::images_in(ns, b, &mut s.damage);
                let reached = reached_by(&images, rows.get(first..).unwrap_or_default());
                for r in rows.iter_mut().skip(first) {
                    r.images = Some(reached.get(&r.record.digest).cloned().unwrap_or_default());
                }
            }
        }
        // A recorded blob that is not there as recorded is damage, said once per blob.
        s.outcome = s.outcome.worst(super::context::content_outcome(s.root));
        for said in rows.iter().filter_map(ContentRow::key_damage) {
            s.damage.push(said);
        }
        let mut said = UnlikeNotes::default();
        for r in rows.iter().filter(|r| r.is_unlike()) {
            let outcome = if r.unreadable {
                Outcome::Unreadable
            } else {
                Outcome::Damaged
            };
            s.outcome = s.outcome.worst(outcome);
            said.note(&r.record.digest, r.record.size, &r.file_words());
        }
        said.finish();
        // The rows of records the filters dropped were never looked at; the others have their
        // whole filter run, on what they show of their blobs too.
        rows.retain(|r| r.looked);
        let rows = if early.is_exact() {
            rows
        } else {
            filtered(rows, &filters, |_, v| record_labels_match(&filters, v))
        };
        emit(
            out,
            &args,
            &rows,
            |r| r.record.digest.clone(),
            |rows, trunc| {
                let header = [
                    "NAMESPACE",
                    "DIGEST",
                    table::size_header("SIZE"),
                    "CREATED",
                    "FILE",
                    "LABELS",
                ];
                let mut t = Table::truncating(&header, trunc).limit("LABELS", LABELS_WIDTH).names(&[
                    "NAMESPACE",
                    "DIGEST",
                    "LABELS",
                ]);
                for r in rows {
                    t.row(&[
                        r.record.namespace.clone(),
                        r.record.digest.clone(),
                        table::human_size(r.record.size),
                        r.record
                            .created_at
                            .as_deref()
                            .map(table::utc_seconds)
                            .unwrap_or_default(),
                        r.file_column(),
                        table::labels(&r.record.labels),
                    ]);
                }
                t
            },
        )
    })
}

// ---- leases ----------------------------------------------------------------------------------

#[derive(Serialize)]
struct LeaseRow {
    namespace: String,
    id: String,
    #[serde(rename = "createdAt")]
    created_at: Option<String>,
    labels: BTreeMap<String, String>,
    resources: LeaseResources,
}

#[derive(Serialize)]
struct LeaseResources {
    content: Vec<String>,
    ingests: Vec<String>,
    snapshots: Vec<SnapshotRef>,
    images: Vec<String>,
}

#[derive(Serialize)]
struct SnapshotRef {
    snapshotter: String,
    key: String,
}

pub fn leases(global: &Global, args: ListArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let filters = args.filters(&LABEL_KEYS, filter::Kind::Leases)?;
    run(global, |s| {
        let mut rows = Vec::new();
        for (ns, b) in &s.namespaces {
            for l in records::leases_in(ns, b, &mut s.damage) {
                rows.push(LeaseRow {
                    namespace: l.namespace,
                    id: l.id,
                    created_at: l.created_at,
                    labels: l.labels,
                    resources: LeaseResources {
                        content: l.content,
                        ingests: l.ingests,
                        snapshots: l
                            .snapshots
                            .into_iter()
                            .map(|(snapshotter, key)| SnapshotRef { snapshotter, key })
                            .collect(),
                        images: l.images,
                    },
                });
            }
        }
        let rows = filtered(rows, &filters, |_, v| record_labels_match(&filters, v));
        emit(
            out,
            &args,
            &rows,
            |r| r.id.clone(),
            |rows, trunc| {
                let mut t = Table::truncating(&["NAMESPACE", "ID", "CREATED AT", "LABELS"], trunc)
                    .limit("LABELS", LABELS_WIDTH)
                    .names(&["NAMESPACE", "ID", "LABELS"]);
                for r in rows {
                    t.row(&[
                        r.namespace.clone(),
                        r.id.clone(),
                        r.created_at.as_deref().map(table::utc_seconds).unwrap_or_default(),
                        table::labels(&r.labels),
                    ]);
                }
                t
            },
        )
    })
}

// ---- containers ------------------------------------------------------------------------------

pub fn containers(global: &Global, args: ListArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let filters = args.filters(&LABEL_KEYS, filter::Kind::Containers)?;
    run(global, |s| {
        let mut rows = Vec::new();
        for (ns, b) in &s.namespaces {
            rows.extend(records::containers_in(ns, b, &mut s.damage));
        }
        let rows = filtered(rows, &filters, |_, v| record_labels_match(&filters, v));
        emit(
            out,
            &args,
            &rows,
            |c| c.id.clone(),
            |rows, trunc| {
                let mut t = Table::truncating(&["NAMESPACE", "CONTAINER", "IMAGE", "RUNTIME", "CREATED"], trunc)
                    .names(&["NAMESPACE", "CONTAINER"]);
                for c in rows {
                    let created = c.created_at.as_deref().map(table::utc_seconds).unwrap_or_default();
                    t.row(&[c.namespace.as_str(), &c.id, &c.image, &c.runtime, &created]);
                }
                t
            },
        )
    })
}

// ---- snapshots -------------------------------------------------------------------------------

/// A snapshot record of meta.db with what its snapshotter's own metadata.db says about it.
#[derive(Serialize)]
struct SnapshotRow {
    #[serde(flatten)]
    record: records::Snapshot,
    /// From the snapshotter's metadata.db: View, Active or Committed; null when unknown.
    kind: Option<String>,
    /// The snapshotter's record (id, kind, size and inodes for committed snapshots); null
    /// when its metadata.db is not there or has no record under `backendName` (`ctr` skips
    /// such snapshots).
    backend: Option<BackendSnapshot>,
}

pub fn snapshots(global: &Global, args: ListArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let filters = args.filters(&LABEL_KEYS, filter::Kind::Snapshots)?;
    run(global, |s| {
        let mut rows = Vec::new();
        for (ns, b) in &s.namespaces {
            for mut record in records::snapshots_in(ns, b, &mut s.damage) {
                let backend = match s.backends.get(s.root, s.global, &record.snapshotter, &mut s.damage) {
                    Some(all) => record.backend_name.as_ref().and_then(|n| all.get(n)).cloned(),
                    None => None,
                };
                // containerd's `Stat`/`Walk` (metadata/snapshot.go `overlayInfo`): the backend
                // snapshot's labels, with meta.db's laid over them (a remote snapshotter's own
                // labels, or a backend label update whose meta.db half did not commit).
                if let Some(b) = &backend {
                    let mut labels = b.labels.clone();
                    labels.append(&mut record.labels);
                    record.labels = labels;
                }
                rows.push(SnapshotRow {
                    kind: backend.as_ref().map(|b| b.kind.clone()),
                    backend,
                    record,
                });
            }
        }
        // A record whose backend key the snapshotter's metadata.db (read whole) has no record
        // of, or whose parent no record has: the two files disagree, or the chain is broken;
        // said, exit 3 (sweep 30.7: listed with a null kind, exit 0).
        for r in rows.iter().filter(|r| r.backend.is_none()) {
            if let (Some(bk), Some(true)) = (&r.record.backend_name, s.backends.read_whole(&r.record.snapshotter)) {
                let (ns, key, sn) = (&r.record.namespace, &r.record.key, &r.record.snapshotter);
                s.damage.push(records::backend_key_missing_message(ns, key, sn, bk));
            }
        }
        for group in rows.chunk_by(|a, b| a.record.namespace == b.record.namespace) {
            let links = group.iter().map(|r| {
                (
                    r.record.snapshotter.as_str(),
                    r.record.key.as_str(),
                    r.record.parent.as_deref(),
                )
            });
            for (sn, key, parent) in records::snapshot_parents_without_records(links) {
                let ns = group.first().map_or("", |r| r.record.namespace.as_str());
                s.damage.push(records::snapshot_parent_message(ns, key, sn, parent));
            }
        }
        // A backend parent without a record (containerd then fails every mount below it):
        // said for each snapshotter listed, as a chain through it says it.
        let mut listed: Vec<&str> = rows.iter().map(|r| r.record.snapshotter.as_str()).collect();
        listed.sort_unstable();
        listed.dedup();
        for sn in listed {
            if let Some(all) = s.backends.get(s.root, s.global, sn, &mut s.damage) {
                for (key, parent) in records::missing_parents(all.values()) {
                    s.damage.push(format!(
                        "{}: {}",
                        s.root
                            .dir
                            .join(format!("io.containerd.snapshotter.v1.{sn}/metadata.db"))
                            .display(),
                        records::missing_parent_message(key, parent)
                    ));
                }
            }
        }
        let rows = filtered(rows, &filters, |_, v| record_labels_match(&filters, v));
        let backends = &s.backends;
        emit(
            out,
            &args,
            &rows,
            |r| r.record.key.clone(),
            |rows, trunc| {
                let mut t = Table::truncating(&["NAMESPACE", "SNAPSHOTTER", "KEY", "PARENT", "KIND"], trunc).names(&[
                    "NAMESPACE",
                    "SNAPSHOTTER",
                    "KEY",
                    "PARENT",
                ]);
                for r in rows {
                    // A damaged metadata.db proves no absence: the kind is unknown then.
                    let kind = match (&r.kind, backends.read_whole(&r.record.snapshotter)) {
                        (Some(k), _) => k.clone(),
                        (None, Some(true)) => "no-backend-record".into(),
                        (None, _) => "unknown".into(),
                    };
                    t.row(&[
                        r.record.namespace.clone(),
                        r.record.snapshotter.clone(),
                        r.record.key.clone(),
                        r.record.parent.clone().unwrap_or_default(),
                        kind,
                    ]);
                }
                t
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::ContentRow;
    use crate::containerd::records::Content;

    /// Rows of every shape: times absent, labels empty and hostile, each optional file field.
    fn rows() -> Vec<ContentRow> {
        let odd = "a\"b\\c\u{1}\u{1b}[2J\n\u{7f}é😀";
        let record = |labels: &[(&str, &str)], times: bool| Content {
            namespace: odd.to_string(),
            digest: format!("sha256:{}", "ab".repeat(32)),
            size: -1,
            created_at: times.then(|| "2026-12-01T08:32:24.484501947Z".to_string()),
            updated_at: None,
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        let row = |record, file_size: Option<u64>, file_type, file_problem: Option<&str>, images| ContentRow {
            record,
            present: file_size == Some(549),
            file_state: if file_size.is_some() { "present" } else { "missing" },
            file_size,
            file_type,
            file_problem: file_problem.map(str::to_string),
            images,
            key_error: None,
            unreadable: false,
            looked: true,
        };
        vec![
            row(record(&[], true), Some(549), None, None, None),
            row(
                record(&[("k", "v"), (odd, odd)], false),
                None,
                Some("symlink"),
                Some(odd),
                None,
            ),
            row(record(&[("only", "")], true), Some(u64::MAX), None, None, Some(vec![])),
            row(
                record(&[], false),
                None,
                None,
                None,
                Some(vec![odd.to_string(), "b:1".into()]),
            ),
        ]
    }

    #[test]
    fn content_rows_print_as_their_serialize_does() {
        for r in rows() {
            let element = super::output::element(&r).unwrap_or_default();
            assert_eq!(
                String::from_utf8_lossy(&r.json(true)),
                String::from_utf8_lossy(&element)
            );
            let line = super::output::line(&r).unwrap_or_default();
            assert_eq!(String::from_utf8_lossy(&r.json(false)), String::from_utf8_lossy(&line));
        }
    }
}
