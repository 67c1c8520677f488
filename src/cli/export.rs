//! `coldctr export -o OUT REF...`: images written out as an OCI layout directory, an OCI
//! archive or a docker-archive ([`crate::export`]).
//!
//! Nothing is written inside the source root, an existing OUT is kept unless `--force`, and
//! the output is built under a temporary name beside OUT and renamed at the end: a failed
//! export leaves nothing behind. `-o -` streams the archive to stdout (not to a terminal).

use super::context::{Global, image_namespace};
use super::{Failure, Outcome, warn};
use crate::export::place::Dir;
use crate::export::write::{self, Format, WriteError};
use crate::export::{Exporter, Fault, Selection};
use crate::image::platform::{self, Platform};
use crate::image::reference::{self, AnyRef};
use crate::inspect::{Inspector, Options};
use clap::{Args, ValueEnum};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// An OCI image layout directory: oci-layout, index.json, blobs/sha256/<hex>.
    OciDir,
    /// That layout as a tar.
    OciArchive,
    /// The OCI layout plus docker's manifest.json and repositories (what `docker save` writes
    /// since docker 25): loads in old and new docker, containerd, podman, skopeo.
    DockerArchive,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Image references: name[:tag], name@digest, full or short image ID.
    #[arg(required = true)]
    refs: Vec<String>,
    /// Where to write: a new file or directory (`-` streams the archive to stdout).
    #[arg(short = 'o', long = "output", required = true)]
    output: PathBuf,
    /// Only this platform's manifest (os/arch[/variant]), as `docker save --platform`.
    #[arg(long, value_parser = platform::parse, conflicts_with = "all_platforms")]
    platform: Option<Platform>,
    /// Every manifest the image's index names; one that is not on disk fails the export
    /// (unless --salvage). Default: as `docker save`, every platform present, the host's whole.
    #[arg(long)]
    all_platforms: bool,
    /// The output format (default docker-archive, as `docker save`).
    #[arg(long, value_enum, default_value = "docker-archive")]
    format: FormatArg,
    /// Replace an existing OUT.
    #[arg(long)]
    force: bool,
}

pub fn run(global: &Global, args: ExportArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let format = match args.format {
        FormatArg::OciDir => Format::OciDir,
        FormatArg::OciArchive => Format::OciArchive,
        FormatArg::DockerArchive => Format::DockerArchive,
    };
    let to_stdout = args.output.as_os_str() == "-";
    if to_stdout && format == Format::OciDir {
        return Err(Failure::new(
            Outcome::Usage,
            "-o - streams an archive: --format oci-dir needs a directory name",
        ));
    }
    // A name ending in `/` says a directory: an archive is a file (docker save refuses it
    // too, "not a directory"), and dropping the slash would write, or with --force replace,
    // a file the user named as a directory.
    if format != Format::OciDir && args.output.as_os_str().as_encoded_bytes().ends_with(b"/") {
        return Err(Failure::new(
            Outcome::Usage,
            format!(
                "{}: ends in / (a directory), and an archive is a file: give a file name, or --format oci-dir",
                crate::text::escape(args.output.as_os_str().as_encoded_bytes())
            ),
        ));
    }
    // SAFETY: isatty only inspects the descriptor.
    if to_stdout && unsafe { libc::isatty(1) } == 1 {
        return Err(Failure::new(
            Outcome::Usage,
            "refusing to write an archive to a terminal: redirect stdout or use -o FILE",
        ));
    }
    // --salvage (a global option): the records carved from meta.db's pages, and what exists
    // of a damaged image written (what is missing, damaged or unreadable listed on stderr and
    // in index.json: io.coldctr.missing, io.coldctr.damaged, io.coldctr.unreadable; exit 3
    // when anything was left out, 4 when a blob could not be read).
    // A layout or archive has no meta.db to carve: there --salvage only writes what exists.
    let salvage = global.salvaging();
    let root = if salvage && !global.reads_containerd() {
        global.open_live()?
    } else {
        global.open_root()?
    };
    let target = if to_stdout {
        None
    } else {
        // The Docker data root beside a containerd root is evidence too (where fs export
        // looks for it).
        let docker = root
            .source
            .is_none()
            .then(|| crate::overlay::target::docker_root(&root.dir, global.docker_root.as_deref()));
        let also: Vec<&Path> = docker.as_deref().into_iter().collect();
        Some(check_output(
            &root.dir,
            &also,
            &args.output,
            args.force,
            format == Format::OciDir,
        )?)
    };
    let selection = match (&args.platform, args.all_platforms) {
        (Some(p), _) => Selection::Platform(p.clone()),
        (None, true) => Selection::All,
        (None, false) => Selection::Default,
    };
    let tx = root.view(global.meta_choice())?;
    let namespace = image_namespace(global, &tx)?;
    let resolver = Inspector::new(
        &root,
        root.view(global.meta_choice())?,
        &namespace,
        Options::for_host(global.host()),
    );
    resolver.prepare_for_images(args.refs.len());
    let mut exporter = Exporter::new(&root, &resolver, &namespace, global.host(), selection, salvage);
    let mut not_found = Vec::new();
    for r in &args.refs {
        // As docker save resolves it; else the record of exactly that name, as `ctr images
        // export` takes it (names ctr tagged, `x:1`, and CRI's `sha256:<config>` records,
        // which `images` lists: sweep 24).
        let resolved = resolver.resolve(r).or_else(|e| {
            let mut damage = crate::damage::Damage::new();
            match crate::containerd::records::image_named(&tx, &namespace, r, &mut damage) {
                Ok(Some(image)) => Ok(image),
                _ => Err(e),
            }
        });
        match resolved {
            // The reference is echoed escaped: a script may pass names read from the disk.
            Err(e) => not_found.push(format!(
                "{}: {}",
                crate::text::escape(r.as_bytes()),
                crate::text::escape(e.to_string().as_bytes())
            )),
            Ok(image) => {
                if let Err(e) = exporter.add(r, &image, names_image(r, &image.name, &image.target.digest)) {
                    not_found.push(crate::text::escape(e.to_string().as_bytes()));
                }
            }
        }
    }
    if !not_found.is_empty() {
        // On a damaged store a name not found may be on the pages that did not read: the
        // damage is said, as `inspect` says it, and the exit is 3, not "no such image" alone
        // (sweep 43.3: exit 1 and no word of the damage). Salvage damage counts the same.
        let damage = super::inspect::said_after_walks(&resolver, &root, &super::inspect::view_damage(&tx));
        let outcome = damage.worst(super::context::records_outcome(&root));
        return Err(Failure::new(
            outcome.worst(Outcome::No),
            format!("nothing written: {}", not_found.join("; ")),
        ));
    }
    let plan = exporter.into_plan();
    for note in &plan.notes {
        warn(crate::text::one_line(note));
    }
    if format == Format::DockerArchive {
        // Written as containerd's exporter writes it (manifest.json names every manifest),
        // but said: what reads a docker-archive builds an image from the config's rootfs.
        for e in &plan.docker {
            let mt = e.config_media_type.as_str();
            if mt != crate::verify::documents::OCI_CONFIG && mt != crate::verify::documents::DOCKER_CONFIG {
                warn(format!(
                    "manifest {}: not an image but an artifact (config media type {}): skopeo and podman, which read a docker-archive's manifest.json, refuse it (ctr import reads the index.json beside it); --format oci keeps it as an artifact",
                    crate::text::escape(e.manifest.as_bytes()),
                    crate::text::escape(mt.as_bytes()),
                ));
            }
        }
    }
    let mut outcome = super::context::records_outcome(&root);
    for p in &plan.problems {
        outcome = outcome.worst(if p.fault == Fault::Unreadable {
            Outcome::Unreadable
        } else {
            Outcome::Damaged
        });
    }
    if !plan.problems.is_empty() && !salvage {
        for p in &plan.problems {
            warn(crate::text::escape(p.to_string().as_bytes()));
        }
        // containerd's discard_unpacked_layers (and a lease-less pull) leave an image's
        // files in its snapshots after its layer blobs are gone: `fs export` writes those.
        let unpacked_hint = if root.source.is_none() && plan.problems.iter().any(|p| p.fault == Fault::Missing) {
            "; an image unpacked before its blobs went may still be in its snapshots: `coldctr fs export IMAGE -o FILE` writes its files as a tar"
        } else {
            ""
        };
        return Err(Failure::new(
            outcome,
            format!(
                "nothing written: {} blob(s) missing or damaged (--salvage writes what exists{unpacked_hint})",
                plan.problems.len()
            ),
        ));
    }
    let members = write::Members::of(&plan, format).map_err(write_failure)?;
    let total = members.blob_bytes_total();
    match target {
        None => super::progress::with_progress("export", total, |p| {
            write::write_tar(&root, &members, out, Some(p)).map_err(|e| match write_failure(e) {
                // What went out stays out: the stream is cut short before the blob's last
                // bytes (held until their hash was checked), never "nothing written".
                f if f.outcome != Outcome::Unwritten => Failure::new(
                    f.outcome,
                    format!(
                        "the stream stops here, cut short: {}",
                        f.message.strip_prefix("nothing written: ").unwrap_or(&f.message)
                    ),
                ),
                f => f,
            })
        })?,
        Some(path) => {
            if format == Format::OciDir {
                let (mut temp, dir) = Temp::dir(&path)?;
                super::progress::with_progress("export", total, |p| {
                    write::write_dir(&root, &members, &dir, Some(p)).map_err(write_failure)
                })?;
                temp.commit()?;
            } else {
                let (mut temp, file) = Temp::file(&path)?;
                let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
                super::progress::with_progress("export", total, |p| {
                    write::write_tar(&root, &members, &mut w, Some(p)).map_err(write_failure)
                })?;
                let unwritten =
                    |e: std::io::Error| Failure::new(Outcome::Unwritten, format!("writing the output: {e}"));
                let file = w.into_inner().map_err(|e| unwritten(e.into_error()))?;
                file.sync_all().map_err(unwritten)?;
                temp.commit()?;
            }
        }
    }
    if salvage && !plan.problems.is_empty() {
        warn(format_args!(
            "salvage: written without {} blob(s) missing or damaged:",
            plan.problems.len()
        ));
        for p in &plan.problems {
            warn(crate::text::escape(p.to_string().as_bytes()));
        }
    }
    Ok(outcome)
}

/// Whether the reference names the image by name: docker drops the names of an image exported
/// by ID, short ID or digest, `name@digest` in any spelling included (moby's
/// `specificDigestResolved`, set for every digested reference). A reference no docker
/// reference parses names the record only when it is the record's own name (`UPPER/Case:1`):
/// containerd's exporter keeps such names.
fn names_image(input: &str, record: &str, target: &str) -> bool {
    let hex = target.strip_prefix("sha256:").unwrap_or(target);
    let id = input.strip_prefix("sha256:").unwrap_or(input);
    if hex.starts_with(id) {
        return false;
    }
    match reference::parse_any(input) {
        Ok(AnyRef::Digest(_)) => false,
        Ok(AnyRef::Named(n)) => n.digest.is_none(),
        Err(_) => input == record,
    }
}

fn write_failure(e: WriteError) -> Failure {
    match e {
        WriteError::Blob(p) => Failure::new(
            if p.fault == Fault::Unreadable {
                Outcome::Unreadable
            } else {
                Outcome::Damaged
            },
            format!("nothing written: {}", crate::text::escape(p.to_string().as_bytes())),
        ),
        WriteError::Io(e) => Failure::new(Outcome::Unwritten, format!("writing the output: {e}")),
    }
}

/// Where `-o OUT` goes: its directory, open (every later step is made relative to it, see
/// [`place`]), and its name there.
pub(super) struct Output {
    dir: Dir,
    /// The directory's canonical path, for messages.
    parent: PathBuf,
    name: OsString,
    /// `--force`: what is at OUT when the output is done is replaced.
    force: bool,
}

impl Output {
    /// OUT's path, for messages.
    pub(super) fn path(&self) -> PathBuf {
        self.parent.join(&self.name)
    }
}

/// Refuses an OUT inside the source root (or containing it), or inside one of the `also` roots
/// read beside it (the Docker data root: evidence too), and an existing OUT without `--force`;
/// OUT's directory, opened. "Inside" is decided by the paths, and again by what the opened
/// directory and its parents are (device and inode): a link swapped in after the paths were
/// read does not hide it, nor a bind mount of the root or of a directory right under it (the
/// content store, a snapshotter's); a bind mount of a directory deeper in, or an overlay mount
/// that writes into the root, shows in the mount table ([`reached_through_mount`]).
///
/// `--force` replaces a file, or, when the output is a directory (`dir_output`), an empty
/// directory or an earlier OCI layout (one with an `oci-layout` file): never any other
/// directory, which may be an examiner's case folder.
pub(super) fn check_output(
    root: &Path,
    also: &[&Path],
    out: &Path,
    force: bool,
    dir_output: bool,
) -> Result<Output, Failure> {
    let usage = |m: String| Failure::new(Outcome::Usage, m);
    let Some(name) = out.file_name() else {
        return Err(usage(format!("{}: not a file or directory name", out.display())));
    };
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let parent = parent
        .canonicalize()
        .map_err(|e| usage(format!("{}: {e}", parent.display())))?;
    // Permissions are exit 4 (README), as for what the commands read.
    let io = |at: &Path, e: std::io::Error| {
        let outcome = if e.kind() == std::io::ErrorKind::PermissionDenied {
            Outcome::Unreadable
        } else {
            Outcome::Usage
        };
        Failure::new(outcome, format!("{}: {e}", at.display()))
    };
    let dir = Dir::open(&parent).map_err(|e| io(&parent, e))?;
    let path = parent.join(name);
    let root = root
        .canonicalize()
        .map_err(|e| Failure::new(Outcome::Unreadable, format!("{}: {e}", root.display())))?;
    // A root beside it that is not there holds nothing to protect.
    let beside = also
        .iter()
        .filter_map(|r| Some(("the Docker data root", r.canonicalize().ok()?)));
    let above = dir.ancestors().map_err(|e| io(&parent, e))?;
    let existing = dir.stat(name).map_err(|e| io(&path, e))?;
    let mounts = crate::export::mounts::Table::read();
    for (what, root) in std::iter::once(("the source root", root.clone())).chain(beside) {
        let opened = Dir::open(&root).ok();
        let known = opened.as_ref().map(Dir::with_subdirs).unwrap_or_default();
        if path.starts_with(&root) || above.iter().any(|id| known.contains(id)) {
            return Err(usage(format!(
                "{}: inside {what} {}; coldctr never writes there",
                path.display(),
                root.display()
            )));
        }
        if let Some(why) = mounts
            .as_ref()
            .and_then(|t| reached_through_mount(t, &parent, above.first(), &root))
        {
            return Err(usage(format!(
                "{}: inside {what} {}: {why}; coldctr never writes there",
                path.display(),
                root.display()
            )));
        }
        let root_above = opened.and_then(|d| d.ancestors().ok()).unwrap_or_default();
        if root.starts_with(&path) || existing.is_some_and(|e| root_above.contains(&e.id)) {
            return Err(usage(format!(
                "{}: contains {what} {}; refusing to replace it",
                path.display(),
                root.display()
            )));
        }
    }
    if existing.is_some() && !force {
        return Err(usage(format!(
            "{}: already exists (--force replaces it)",
            path.display()
        )));
    }
    // A file with another hard link on the source's file system may be the evidence under
    // another name (the archive read as --root, a blob): replacing it would drop one of the
    // evidence inode's links and change its ctime (sweep 25). Paths and directories above
    // do not show a hard link; the inode does.
    if let Some(e) = existing.filter(|e| e.file && e.links > 1) {
        use std::os::unix::fs::MetadataExt;
        let sources = std::iter::once(root.as_path()).chain(also.iter().copied());
        if let Some(source) = sources
            .filter_map(|r| std::fs::metadata(r).ok().map(|m| (r, m)))
            .find(|(_, m)| m.dev() == e.id.0)
            .map(|(r, _)| r)
        {
            return Err(usage(format!(
                "{}: has {} hard links, and is on the file system of {}: it may be that evidence under another name; refusing to replace it",
                path.display(),
                e.links,
                source.display()
            )));
        }
    }
    // --force replaces an earlier output, a file or a directory: never a device, a FIFO, a
    // socket or a symlink (`-o /dev/null --force` run as root replaced the device node).
    if existing.is_some_and(|e| !e.file && !e.dir) {
        return Err(usage(format!(
            "{}: not a regular file or directory; refusing to replace it (-o - writes to stdout)",
            path.display()
        )));
    }
    if existing.is_some_and(|e| e.dir) {
        let layout = std::fs::symlink_metadata(path.join("oci-layout")).is_ok_and(|m| m.is_file());
        let empty = std::fs::read_dir(&path).is_ok_and(|mut d| d.next().is_none());
        if !dir_output || !(layout || empty) {
            let what = if dir_output {
                "neither empty nor an OCI layout"
            } else {
                "a directory, and this output is a file"
            };
            return Err(usage(format!(
                "{}: {what}; --force replaces only an earlier output, not this",
                path.display()
            )));
        }
    }
    Ok(Output {
        dir,
        parent,
        name: name.to_os_string(),
        force,
    })
}

/// Why the directory `parent` (canonical; `id` its device and inode) is `root` or lies in it
/// though no path or parent says so: a bind mount of a directory deep in `root`, or an overlay
/// mount whose upper or work directory lies in it (a running container's root file system).
/// `None` when the mount table does not show either.
fn reached_through_mount(
    table: &crate::export::mounts::Table,
    parent: &Path,
    id: Option<&crate::export::place::FileId>,
    root: &Path,
) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let &(dev, _) = id?;
    let root_dev = std::fs::metadata(root).ok()?.dev();
    let in_root = |dir: &Path, dir_dev: u64| {
        dir.starts_with(root)
            || (dir_dev == root_dev
                && table
                    .on_file_system(dir, dir_dev)
                    .zip(table.on_file_system(root, root_dev))
                    .is_some_and(|(d, r)| d.starts_with(r)))
    };
    if dev == root_dev && in_root(parent, dev) {
        let shown = |p: &Path| crate::text::escape(p.as_os_str().as_encoded_bytes());
        let point = table.mount_of(parent, dev).map(|m| shown(&m.point));
        return Some(format!(
            "its file system's directory {} is reached through the mount at {}",
            shown(&table.on_file_system(parent, dev).unwrap_or_default()),
            point.unwrap_or_default()
        ));
    }
    table.overlay_writes_to(parent, dev).into_iter().find_map(|upper| {
        let real = upper.canonicalize().ok()?;
        let upper_dev = std::fs::metadata(&real).ok()?.dev();
        in_root(&real, upper_dev).then(|| {
            format!(
                "it is on an overlay mount that writes to {}",
                crate::text::escape(real.as_os_str().as_encoded_bytes())
            )
        })
    })
}

/// The output under construction, beside OUT: an entry this process created itself (never one
/// found there), removed unless committed.
pub(super) struct Temp<'o> {
    out: &'o Output,
    name: OsString,
    dir: bool,
    committed: bool,
}

/// The longest file name Linux file systems take, in bytes.
const NAME_MAX: usize = 255;

/// How many names [`create_beside`] tries before giving up.
const BESIDE_TRIES: u32 = 64;

/// Creates a new entry beside OUT with `make` (which must fail with `AlreadyExists` when
/// something is at the name), named `.NAME.coldctr-PID.SUFFIX` or, when something is already
/// there, `.NAME.coldctr-PID-N.SUFFIX`: what is already there is never opened, replaced or
/// removed.
fn create_beside<T>(
    out: &Output,
    suffix: &str,
    make: impl Fn(&OsStr) -> std::io::Result<T>,
) -> std::io::Result<(OsString, T)> {
    let pid = std::process::id();
    let mut last = std::io::Error::from(std::io::ErrorKind::AlreadyExists);
    for n in 0..BESIDE_TRIES {
        let tag = if n == 0 { pid.to_string() } else { format!("{pid}-{n}") };
        let ours = format!(".coldctr-{tag}.{suffix}");
        // A file name holds at most NAME_MAX (255) bytes: OUT's part is cut to fit (a name of
        // 238 bytes or more is still a name OUT may have).
        let room = NAME_MAX.saturating_sub(1 + ours.len());
        let whole = out.name.as_encoded_bytes();
        let mut name = OsString::from(".");
        name.push(<OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(
            whole.get(..whole.len().min(room)).unwrap_or(whole),
        ));
        name.push(ours);
        match make(&name) {
            Ok(made) => return Ok((name, made)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

impl<'o> Temp<'o> {
    /// Creates the output's temporary file beside OUT, open for writing.
    pub(super) fn file(out: &'o Output) -> Result<(Temp<'o>, std::fs::File), Failure> {
        let (name, file) = create_beside(out, "tmp", |n| {
            super::interrupt::registering(&out.dir, n, false, || out.dir.create_file(n))
        })
        .map_err(|e| beside_failure(out, e))?;
        Ok((Temp::ours(out, name, false), file))
    }

    /// Creates the output's temporary directory beside OUT, empty, and opens it.
    pub(super) fn dir(out: &'o Output) -> Result<(Temp<'o>, Dir), Failure> {
        let (name, ()) = create_beside(out, "tmp", |n| {
            super::interrupt::registering(&out.dir, n, true, || out.dir.create_dir(n))
        })
        .map_err(|e| beside_failure(out, e))?;
        let temp = Temp::ours(out, name, true);
        let opened = out.dir.open_dir(&temp.name).map_err(|e| beside_failure(out, e))?;
        Ok((temp, opened))
    }

    fn ours(out: &'o Output, name: OsString, dir: bool) -> Temp<'o> {
        Temp {
            out,
            name,
            dir,
            committed: false,
        }
    }

    /// Renames the finished output to OUT, replacing what is there (`--force` was checked),
    /// under the signal watcher's lock: a Ctrl-C meanwhile waits until OUT is whole.
    pub(super) fn commit(&mut self) -> Result<(), Failure> {
        super::interrupt::committing(|| self.commit_now())
    }

    fn commit_now(&mut self) -> Result<(), Failure> {
        let out = self.out;
        let io = |e: std::io::Error| Failure::new(Outcome::Unwritten, format!("{}: {e}", out.path().display()));
        let existing = out.dir.stat(&out.name).map_err(io)?;
        // Without --force, OUT was not there when checked; something made there since (another
        // export to the same OUT) is not replaced either.
        let made_meanwhile = || {
            Failure::new(
                Outcome::Usage,
                format!(
                    "{}: created while the export ran; not replaced (--force replaces it)",
                    out.path().display()
                ),
            )
        };
        if existing.is_some() && !out.force {
            return Err(made_meanwhile());
        }
        if !out.force {
            return match out.dir.rename_new(&self.name, &out.name) {
                Ok(()) => {
                    self.committed = true;
                    Ok(())
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(made_meanwhile()),
                Err(e) => Err(io(e)),
            };
        }
        if existing.is_some_and(|m| m.dir || self.dir) {
            // rename(2) replaces neither a non-empty directory nor a file by a directory: move
            // the old one aside first (into a directory of our own, so that nothing already
            // beside OUT is replaced), then remove it.
            let (aside, ()) =
                create_beside(out, "old", |n| out.dir.create_dir(n)).map_err(|e| beside_failure(out, e))?;
            let old = OsStr::new("old");
            let moved = out
                .dir
                .open_dir(&aside)
                .and_then(|a| out.dir.rename(&out.name, &a, old).map(|()| a));
            let aside_dir = match moved {
                Ok(a) => a,
                Err(e) => {
                    let _ = out.dir.remove_tree(&aside);
                    return Err(io(e));
                }
            };
            if let Err(e) = out.dir.rename(&self.name, &out.dir, &out.name) {
                // The old OUT goes back where it was: a failed export leaves what it found.
                if aside_dir.rename(old, &out.dir, &out.name).is_ok() {
                    let _ = out.dir.remove_tree(&aside);
                }
                return Err(io(e));
            }
            self.committed = true;
            // The new OUT is in place: an old one that will not go is said, not a failure.
            if let Err(e) = out.dir.remove_tree(&aside) {
                super::warn(format_args!(
                    "{}: the replaced output is left there: {e}",
                    out.parent.join(&aside).display()
                ));
            }
        } else {
            out.dir.rename(&self.name, &out.dir, &out.name).map_err(io)?;
            self.committed = true;
        }
        Ok(())
    }
}

fn beside_failure(out: &Output, e: std::io::Error) -> Failure {
    Failure::new(
        Outcome::Unwritten,
        format!("{}: a temporary entry beside it: {e}", out.path().display()),
    )
}

impl Drop for Temp<'_> {
    fn drop(&mut self) {
        if self.committed {
            super::interrupt::clear();
            return;
        }
        // The entry is ours (made by `create_beside`): what is in it is what we wrote. Removed
        // under the signal watcher's lock: a signal meanwhile waits, then finds it gone.
        super::interrupt::removing(|| {
            let _ = if self.dir {
                self.out.dir.remove_tree(&self.name)
            } else {
                self.out.dir.remove_file(&self.name)
            };
        });
    }
}

#[cfg(test)]
mod tests {
    use super::names_image;

    /// A digested reference exports unnamed whether it is spelled as the record's full name
    /// or familiarly (sweep 26: the full spelling kept the name, the familiar one dropped it).
    #[test]
    fn a_digested_reference_names_no_image_in_any_spelling() {
        let d = format!("sha256:{}", "9a".repeat(32));
        let record = format!("docker.io/lab/beta@{d}");
        assert!(!names_image(&record, &record, &d));
        assert!(!names_image(&format!("lab/beta@{d}"), &record, &d));
        assert!(!names_image(&format!("docker.io/lab/beta:1@{d}"), &record, &d));
        assert!(!names_image(&d, &record, &d));
        assert!(names_image("lab/beta:1", "docker.io/lab/beta:1", &d));
        // A name no docker reference reads: its own record's name only.
        assert!(names_image("UPPER/Case:1", "UPPER/Case:1", &d));
        assert!(!names_image("UPPER/Case:1", "other", &d));
    }
}
