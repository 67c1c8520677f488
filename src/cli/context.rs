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
    /// Read meta.db into memory instead of mapping it (for a file that may still change).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_mmap: bool,
    /// Read meta.db through its previous transaction (meta page) instead of the current one.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub previous: bool,
    /// The platform of the node whose disk this is (default: this machine's), e.g. to read an
    /// arm64 node's disk on an amd64 laptop. Decides which manifest counts for a host.
    #[arg(long, global = true, help_heading = GLOBAL, value_parser = platform::parse_host)]
    pub host_platform: Option<Platform>,
}

impl Global {
    pub fn read_mode(&self) -> ReadMode {
        if self.no_mmap { ReadMode::Read } else { ReadMode::Mmap }
    }

    /// The node's platform: `--host-platform`, else this machine's.
    pub fn host(&self) -> Platform {
        self.host_platform.clone().unwrap_or_else(Platform::host)
    }

    pub fn meta_choice(&self) -> MetaChoice {
        if self.previous {
            MetaChoice::Previous
        } else {
            MetaChoice::Current
        }
    }

    /// Opens the root, warning when the newer meta page had to be skipped.
    pub fn open_root(&self) -> Result<Root, Failure> {
        self.open_root_reading(self.read_mode())
    }

    /// How meta.db is read for a command that asks a few questions of it (point lookups):
    /// page by page (`ReadMode::Pread`), unless `--no-mmap` asked for a copy.
    pub fn lookup_mode(&self) -> ReadMode {
        if self.no_mmap { ReadMode::Read } else { ReadMode::Pread }
    }

    /// [`Global::open_root`], reading meta.db as `mode` says.
    pub fn open_root_reading(&self, mode: ReadMode) -> Result<Root, Failure> {
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
        let root = Root::open(&self.root, mode).map_err(|e| match e {
            RootError::Bolt(b) => Failure::from(b),
            other => Failure::new(Outcome::Unreadable, crate::text::escape(other.to_string().as_bytes())),
        })?;
        if root.meta.fell_back() && !self.previous {
            super::warn(format_args!(
                "{}: the newer meta page is invalid; reading the previous transaction (meta page {})",
                root.meta.path().display(),
                root.meta.current_slot()
            ));
        }
        if let Some(problem) = root.content_problem() {
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
/// (inspect, images, content, du, gc, verify): a store that cannot be listed is unreadable
/// input (4), one that is absent or not followed leaves the report partial (3). Said once on
/// stderr by [`Global::open_root`].
pub fn content_outcome(root: &Root) -> Outcome {
    if root.source.as_ref().is_some_and(|s| s.damaged()) {
        return Outcome::Damaged;
    }
    match root.content_state() {
        ContentState::Readable => Outcome::Ok,
        ContentState::Denied(_) => Outcome::Unreadable,
        ContentState::Absent(_) | ContentState::Unsafe(_) => Outcome::Damaged,
    }
}

/// The namespace a single-image command works in: `-n` when given; otherwise `moby` when it
/// exists, else the only namespace holding images, else an error listing the namespaces.
pub fn image_namespace(global: &Global, tx: &Tx<'_>) -> Result<String, Failure> {
    if let Some(ns) = &global.namespace {
        return Ok(ns.clone());
    }
    let mut damage = Damage::new();
    let all = records::namespace_buckets(tx, &mut damage);
    if all.iter().any(|(n, _)| n == "moby") {
        return Ok("moby".into());
    }
    let with_images: Vec<&String> = all
        .iter()
        .filter(|(_, b)| matches!(b.bucket(b"images"), Ok(Some(_))))
        .map(|(n, _)| n)
        .collect();
    match with_images.as_slice() {
        [only] => Ok((*only).clone()),
        _ => {
            let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
            Err(Failure::new(
                Outcome::No,
                format!(
                    "no namespace given and no single namespace holds images; choose one with -n: {}",
                    if names.is_empty() {
                        "(none)".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            ))
        }
    }
}

/// The exit code and message of a source that cannot be opened.
fn source_failure(e: SourceError) -> Failure {
    match e {
        SourceError::Root(RootError::Bolt(b)) => Failure::from(b),
        other => Failure::new(Outcome::Unreadable, crate::text::escape(other.to_string().as_bytes())),
    }
}
