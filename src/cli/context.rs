//! What every command that reads a containerd root shares: where the root is, which
//! namespace, how to read files, and how to choose a namespace when none is given.

use super::{Failure, Outcome};
use crate::bolt::{MetaChoice, ReadMode, Tx};
use crate::containerd::records::{self, Damage};
use crate::containerd::root::{ContentState, Root, RootError};
use crate::image::platform::{self, Platform};
use crate::source::{self, SourceError};
use clap::Args;
use std::path::PathBuf;

const GLOBAL: &str = "Global options";
/// Problems of one kind a layout or archive prints on stderr before summing up the rest.
const PROBLEMS_SHOWN: usize = 5;

/// Listed under their own heading in every command's `--help`, apart from its own options.
#[derive(Args, Clone)]
pub struct Global {
    /// What to read: a containerd root directory (for a mounted disk image:
    /// <mount>/var/lib/containerd), an OCI image layout directory, an OCI archive (.tar,
    /// .tar.gz, .tar.zst) or a docker-archive (`docker save` output).
    #[arg(long, global = true, help_heading = GLOBAL, env = "COLDCTR_ROOT", default_value = "/var/lib/containerd")]
    pub root: PathBuf,
    /// What --root is, when detecting it from what is there is not wanted.
    #[arg(long, global = true, help_heading = GLOBAL, value_enum, value_name = "KIND")]
    pub source_type: Option<crate::source::Kind>,
    /// The Docker data root (default: <mount>/var/lib/docker beside a <mount>/var/lib/containerd
    /// root, or the Docker root around a /var/lib/docker/containerd/daemon root).
    #[arg(long, global = true, help_heading = GLOBAL, env = "COLDCTR_DOCKER_ROOT")]
    pub docker_root: Option<PathBuf>,
    /// The containerd namespace (default: moby when it exists, else the only namespace with
    /// images; listings cover every namespace).
    #[arg(short = 'n', long = "namespace", global = true, help_heading = GLOBAL)]
    pub namespace: Option<String>,
    /// Never map meta.db (for a file another process may truncate: a map faults on pages cut
    /// off): its pages are read with pread as they are asked for, and the whole file is read
    /// into memory only by what looks at every page (recover, --salvage). Not one
    /// transaction either way: a commit landing while the file is read is said at the end.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_mmap: bool,
    /// Read meta.db through its previous transaction (meta page) instead of the current one.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub previous: bool,
    /// The platform of the node whose disk this is (default: this machine's), e.g. to read an
    /// arm64 node's disk on an amd64 laptop. Decides which manifest counts for a host.
    #[arg(long, global = true, help_heading = GLOBAL, value_parser = platform::parse_host)]
    pub host_platform: Option<Platform>,
    /// Read the records carved from every page of meta.db (what `recover` lists) instead of
    /// its tree, for a meta.db whose root, branch or meta pages are destroyed: records the
    /// tree has or cannot tell about, the copy the tree reaches first; deleted ones are left
    /// out. A report goes to stderr; exit 3 when the file is damaged. With `export`, also
    /// write what exists of a damaged image.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub salvage: bool,
    /// --salvage, with the records the tree is known to have deleted put back (a deleted
    /// image can then be inspected or exported while its blobs exist).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub salvage_deleted: bool,
    /// The command reads no blob (a listing of records, `recover`, `meta-diff`): a content
    /// store it cannot read is not its to report.
    #[arg(skip)]
    pub reads_no_blob: bool,
    /// `--docker-root` was given on the command line (not by `COLDCTR_DOCKER_ROOT`).
    #[arg(skip)]
    pub docker_root_given: bool,
}

impl Global {
    pub fn read_mode(&self) -> ReadMode {
        if self.no_mmap { ReadMode::Read } else { ReadMode::Mmap }
    }

    /// The node's platform: `--host-platform`, else this machine's.
    pub fn host(&self) -> Platform {
        self.host_platform.clone().unwrap_or_else(Platform::host)
    }

    /// The global options given on the command line (`root_given`: `--root` was; the
    /// environment's `COLDCTR_ROOT` and `COLDCTR_DOCKER_ROOT` are no question asked), in
    /// `--help`'s order; `--no-mmap` and `--previous` only with `meta_too`.
    pub fn given_options(&self, root_given: bool, meta_too: bool) -> Vec<&'static str> {
        [
            (root_given, "--root"),
            (self.source_type.is_some(), "--source-type"),
            (self.docker_root_given, "--docker-root"),
            (self.namespace.is_some(), "--namespace"),
            (meta_too && self.no_mmap, "--no-mmap"),
            (meta_too && self.previous, "--previous"),
            (self.host_platform.is_some(), "--host-platform"),
            (self.salvage, "--salvage"),
            (self.salvage_deleted, "--salvage-deleted"),
        ]
        .into_iter()
        .filter_map(|(given, name)| given.then_some(name))
        .collect()
    }

    /// `--salvage` or `--salvage-deleted`.
    pub fn salvaging(&self) -> bool {
        self.salvage || self.salvage_deleted
    }

    /// What the salvage view holds, as the options say.
    pub fn salvage_options(&self) -> crate::recover::view::Options {
        crate::recover::view::Options {
            include_deleted: self.salvage_deleted,
            previous: self.previous,
            deleted_images_only: false,
        }
    }

    /// The view's meta pages are one; `--previous` was applied when it was built.
    pub fn meta_choice(&self) -> MetaChoice {
        if self.previous && !self.salvaging() {
            MetaChoice::Previous
        } else {
            MetaChoice::Current
        }
    }

    /// Opens the root, warning when the newer meta page had to be skipped; with `--salvage`,
    /// the root with the salvage view of its meta.db, its report on stderr.
    pub fn open_root(&self) -> Result<Root, Failure> {
        self.open_root_reading(self.read_mode())
    }

    /// How meta.db is read for a command that asks a few questions of it (point lookups):
    /// page by page (`ReadMode::Pread`; with `--no-mmap`, `ReadMode::Read`, page by page too).
    pub fn lookup_mode(&self) -> ReadMode {
        if self.no_mmap { ReadMode::Read } else { ReadMode::Pread }
    }

    /// [`Global::open_root`], reading meta.db as `mode` says (with `--salvage`, the salvage
    /// view, which reads the whole file whatever the mode).
    pub fn open_root_reading(&self, mode: ReadMode) -> Result<Root, Failure> {
        if self.salvaging() {
            return self.open_salvaged(self.salvage_options(), true).map(|(root, _)| root);
        }
        self.open_live_reading(mode)
    }

    /// Whether --root is a containerd root (as given by --source-type, else as detected; a
    /// meta.db whose meta pages are gone is not recognized, and counts as one).
    pub fn reads_containerd(&self) -> bool {
        self.source_type
            .unwrap_or_else(|| source::detect(&self.root).unwrap_or(source::Kind::Containerd))
            == source::Kind::Containerd
    }

    /// The root with the salvage view built with `opts`, and the records placed in it; the
    /// salvage report on stderr (with `report`; else only when the file is damaged).
    pub fn open_salvaged(
        &self,
        opts: crate::recover::view::Options,
        report: bool,
    ) -> Result<(Root, Vec<crate::recover::view::Placed>), Failure> {
        if !self.reads_containerd() {
            return Err(Failure::new(
                Outcome::Usage,
                format!(
                    "{}: --salvage carves a containerd meta.db; this is an image layout or archive, read it without --salvage",
                    self.root.display()
                ),
            ));
        }
        let (root, placed) =
            crate::recover::view::open_root(&self.root, self.read_mode(), opts).map_err(|e| match e {
                RootError::Bolt(b) => Failure::from(b),
                other => Failure::new(Outcome::Unreadable, crate::text::escape(other.to_string().as_bytes())),
            })?;
        if let Some(r) = root.salvage.as_ref().filter(|r| report || r.damaged()) {
            for line in r.lines() {
                super::warn(crate::text::escape(line.as_bytes()));
            }
        }
        if let Some(problem) = root.content_problem().filter(|_| !self.reads_no_blob) {
            super::warn(format_args!("content store not read: {problem}"));
        }
        Ok((root, placed))
    }

    /// Opens the root and its meta.db's tree, whatever `--salvage` says (`recover`, `meta-diff`).
    pub fn open_live(&self) -> Result<Root, Failure> {
        self.open_live_reading(self.read_mode())
    }

    /// [`Global::open_live`], reading meta.db as `mode` says.
    pub fn open_live_reading(&self, mode: ReadMode) -> Result<Root, Failure> {
        let kind = match self.source_type {
            Some(k) => k,
            None => source::detect(&self.root).map_err(source_failure)?,
        };
        if kind != source::Kind::Containerd {
            let root = source::open(&self.root, kind).map_err(source_failure)?;
            if let Some(info) = &root.source {
                // A layout of 5,000 untagged entries is not 5,000 lines of stderr: a few of
                // each kind, then how many more (verify --format json lists them all).
                let mut shown: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
                for p in &info.problems {
                    let n = shown.entry(p.kind).or_default();
                    *n += 1;
                    if *n <= PROBLEMS_SHOWN {
                        super::warn(format_args!("{}: {p}", info.path.display()));
                    }
                }
                for (kind, n) in shown.into_iter().filter(|(_, n)| *n > PROBLEMS_SHOWN) {
                    super::warn(format_args!(
                        "{}: ... and {} more {kind} (verify --format json lists every one)",
                        info.path.display(),
                        n - PROBLEMS_SHOWN
                    ));
                }
            }
            return Ok(root);
        }
        let mut root = Root::open(&self.root, mode).map_err(|e| match e {
            RootError::Bolt(b) => Failure::from(b),
            other => Failure::new(Outcome::Unreadable, crate::text::escape(other.to_string().as_bytes())),
        })?;
        root.records_current = !self.previous;
        if let Some(note) = root.meta.fell_back_note().filter(|_| !self.previous) {
            super::warn(note);
        }
        if let Some(problem) = root.content_problem().filter(|_| !self.reads_no_blob) {
            super::warn(format_args!("content store not read: {problem}"));
        }
        Ok(root)
    }

    /// The namespaces a listing covers: `-n`, or all of them.
    pub fn listing_namespaces(&self, tx: &Tx<'_>, damage: &mut Damage) -> Vec<String> {
        match &self.namespace {
            Some(ns) => vec![ns.clone()],
            None => records::namespace_buckets(tx, damage)
                .into_iter()
                .map(|(n, _)| n)
                .collect(),
        }
    }
}

/// What the content store's state adds to the exit code of a command that reads blobs
/// (inspect, images, content, du, gc, verify): a blob file that could not be opened, or a
/// store that cannot be listed, is unreadable input (4; the store's state is said once on
/// stderr by [`Global::open_root`], the blob by the command that met it); a store that is
/// absent or not followed leaves the report partial (3).
pub fn content_outcome(root: &Root) -> Outcome {
    // A blob file that could not be opened (permissions, an I/O error): unreadable, whatever else.
    if root.blob_denied() {
        return Outcome::Unreadable;
    }
    // A blob file that is a symlink or a FIFO: not followed, not read, and damage.
    let found = if root.blob_not_regular() {
        Outcome::Damaged
    } else {
        Outcome::Ok
    };
    let records = records_outcome(root);
    if records == Outcome::Damaged {
        return Outcome::Damaged;
    }
    found.worst(records).worst(match root.content_state() {
        ContentState::Readable => Outcome::Ok,
        ContentState::Denied(_) => Outcome::Unreadable,
        ContentState::Absent(_) | ContentState::Unsafe(_) => Outcome::Damaged,
    })
}

/// Damaged (3) when the records are a salvage view of a damaged meta.db, or were built from
/// an image layout or archive with an error (a command that reads no blob says so too);
/// unreadable (4) when a layout's index.json, oci-layout or blobs directory could not be
/// read for permissions.
pub fn records_outcome(root: &Root) -> Outcome {
    // The current transaction read through the older meta page (the newer one invalid): the
    // records are a transaction behind, and that is damage, as `bolt` and `verify` say.
    let fell_back = root.records_current && root.source.is_none() && root.meta.fell_back();
    let damaged = fell_back
        || root.salvage.as_ref().is_some_and(|s| s.damaged())
        || root.source.as_ref().is_some_and(|s| s.damaged());
    let unreadable = root.source.as_ref().is_some_and(|s| s.unreadable());
    match (damaged, unreadable) {
        (_, true) => Outcome::Unreadable,
        (true, false) => Outcome::Damaged,
        (false, false) => Outcome::Ok,
    }
}

/// The refusal of a command that reads meta.db's pages itself (`recover`, `meta-diff`, `bolt`).
pub fn no_salvage(global: &Global, command: &str) -> Result<(), Failure> {
    if global.salvaging() {
        return Err(Failure::new(
            Outcome::Usage,
            format!(
                "{command} reads meta.db's pages itself: --salvage does not apply (coldctr recover lists what --salvage reads)"
            ),
        ));
    }
    Ok(())
}

/// The refusal of `-n` by a command whose report is not narrowed by namespace (`recover` and
/// `meta-diff` read every page; `snapshots tree` draws the snapshotters' own trees, which the
/// namespaces share): a forensic tool must not print an answer to a question it was not asked.
pub fn no_namespace(global: &Global, command: &str, why: &str) -> Result<(), Failure> {
    if global.namespace.is_some() {
        return Err(Failure::new(
            Outcome::Usage,
            format!("{command} {why}: -n does not narrow it; drop -n"),
        ));
    }
    Ok(())
}

/// The refusal of a command that reads meta.db's own pages (`recover`, `meta-diff`) on an
/// image layout or archive: it has no meta.db, and the pages of the bbolt file its records are
/// built into in memory are no evidence of anything (nothing was ever deleted or older there).
pub fn containerd_only(global: &Global, command: &str) -> Result<(), Failure> {
    if global.reads_containerd() {
        return Ok(());
    }
    Err(Failure::new(
        Outcome::Usage,
        format!(
            "{}: {command} reads the pages of a containerd meta.db; this is an image layout or archive, which has none",
            crate::text::escape(global.root.as_os_str().as_encoded_bytes())
        ),
    ))
}

/// `-n NAME` that names none of `namespaces`: the warning every command gives (the listings'
/// words), and the outcome it adds (exit 1, a name not found). The report is still printed.
pub fn namespace_not_found<'n>(global: &Global, namespaces: impl Iterator<Item = &'n str>) -> Outcome {
    let Some(ns) = &global.namespace else {
        return Outcome::Ok;
    };
    let mut all = Vec::new();
    for n in namespaces {
        if n == ns {
            return Outcome::Ok;
        }
        all.push(n);
    }
    super::warn(format_args!(
        "namespace {} not found (namespaces: {})",
        crate::text::named(ns),
        crate::text::listed(all)
    ));
    Outcome::No
}

/// The namespace a single-image command works in: `-n` when given; otherwise `moby` when it
/// exists, else the only namespace holding images, else an error listing the namespaces.
pub fn image_namespace(global: &Global, tx: &Tx<'_>) -> Result<String, Failure> {
    if let Some(ns) = &global.namespace {
        // A `-n` that names no namespace is said as the listings say it: otherwise a typo
        // reads as "No such image" (sweep 29.7). The command's own answer (not found, exit
        // 1) follows; when the namespaces do not read, nothing is said of them here.
        let mut damage = Damage::new();
        let all = records::namespace_buckets(tx, &mut damage);
        if damage.is_empty() {
            namespace_not_found(global, all.iter().map(|(n, _)| n.as_str()));
        }
        return Ok(ns.clone());
    }
    let mut damage = Damage::new();
    let all = records::namespace_buckets(tx, &mut damage);
    if all.iter().any(|(n, _)| n == "moby") {
        return Ok("moby".into());
    }
    let mut with_images: Vec<&String> = Vec::new();
    let mut with_bucket: Vec<&String> = Vec::new();
    for (n, b) in &all {
        // An `images` bucket holds images only if it holds a key: containerd leaves the empty
        // bucket behind when a namespace's last image is removed.
        let first = b
            .bucket(b"images")
            .and_then(|images| images.map(|i| i.cursor().next().transpose()).transpose());
        match first {
            Ok(Some(Some(_))) => with_images.push(n),
            Ok(Some(None)) => with_bucket.push(n),
            Ok(None) => {}
            Err(e) => {
                damage.push(crate::damage::Note::from(e).within(format!("namespace {}", crate::text::one_line(n))))
            }
        }
    }
    // No namespace holds an image: the one that had some (an empty bucket), or the only one,
    // is where a reference resolves to "no such image", as docker says on an empty store.
    if with_images.is_empty() {
        with_images = match (with_bucket.as_slice(), all.as_slice()) {
            ([only], _) => vec![*only],
            ([], [(only, _)]) => vec![only],
            _ => Vec::new(),
        };
    }
    match with_images.as_slice() {
        [only] if damage.is_empty() => Ok((*only).clone()),
        // Damage hides which namespaces hold images: say it rather than "none" (a rescue on a
        // damaged meta.db must not read as an empty store).
        _ if !damage.is_empty() => {
            let said: Vec<String> = damage.distinct().iter().map(|n| n.to_string()).collect();
            Err(Failure::new(
                Outcome::Damaged,
                format!(
                    "no namespace given, and which namespaces hold images cannot be told: {}; choose one with -n",
                    said.join("; ")
                ),
            ))
        }
        _ => Err(Failure::new(
            Outcome::No,
            format!(
                "no namespace given and no single namespace holds images; choose one with -n: {}",
                crate::text::listed(all.iter().map(|(n, _)| n.as_str()))
            ),
        )),
    }
}

/// The exit code and message of a source that cannot be opened.
fn source_failure(e: SourceError) -> Failure {
    match e {
        SourceError::Root(RootError::Bolt(b)) => Failure::from(b),
        SourceError::Damaged { .. } => Failure::new(Outcome::Damaged, crate::text::escape(e.to_string().as_bytes())),
        other => Failure::new(Outcome::Unreadable, crate::text::escape(other.to_string().as_bytes())),
    }
}
