//! `coldctr diff` and `coldctr fs ls|cat|export`: a container's or snapshot's files, resolved
//! from the layer directories in user space (see `crate::overlay`), never mounted.
//!
//! TARGET is a snapshot key, or a container ID, Docker name or unique ID prefix; `fs` takes
//! `TARGET:PATH`, the path inside the merged tree (symlinks followed inside the tree only).
//! Tables escape every name; JSON has names as UTF-8 (lossy) plus `pathHex` when they are not
//! UTF-8; tar members have the exact bytes.

use super::context::Global;
use super::layers::{DockerRoot, Format, MountOpts, Node, rfc3339};
use super::{Failure, Outcome};
use crate::overlay::beneath::LayerRoots;
use crate::overlay::blobs::{BlobEntry, BlobTree};
use crate::overlay::diff::{self, Change, Lstat};
use crate::overlay::export::{self as tree_export, copy_at_most};
use crate::overlay::merge::Stack;
use crate::overlay::target::Target;
use crate::text::escape;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::fs::Metadata;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

// ---- diff ------------------------------------------------------------------------------------

#[derive(Args)]
pub struct DiffArgs {
    /// A container ID, name or ID prefix, a snapshot key (meta.db's, or a snapshotter's backend
    /// key), or an image (compared with its parent chain).
    pub target: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Add the sha256 of each added or changed regular file (JSON).
    #[arg(long)]
    pub hash: bool,
    /// Also list, as `U`, the files the upper dir holds that docker diff does not report (a
    /// copy-up whose stat did not change, e.g. a hard link made to a lower file).
    #[arg(long)]
    pub copied_up: bool,
    #[command(flatten)]
    pub overlay: MountOpts,
    #[command(flatten)]
    pub docker: DockerRoot,
}

/// The JSON form of an entry's metadata.
#[derive(Serialize)]
pub struct EntryInfo {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub size: u64,
    /// Permission bits with setuid/setgid/sticky, octal.
    pub mode: String,
    pub uid: u32,
    pub gid: u32,
    pub mtime: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(rename = "linkHex", skip_serializing_if = "Option::is_none")]
    pub link_hex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rdev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

#[derive(Serialize)]
struct DiffRow {
    kind: String,
    path: String,
    #[serde(rename = "pathHex", skip_serializing_if = "Option::is_none")]
    path_hex: Option<String>,
    #[serde(flatten)]
    info: Option<EntryInfo>,
}

pub fn type_name(m: &Metadata) -> &'static str {
    kind_name(m.mode())
}

/// The type an `st_mode` says, as the JSON forms name it.
fn kind_name(mode: u32) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => "dir",
        libc::S_IFLNK => "symlink",
        libc::S_IFCHR => "char",
        libc::S_IFBLK => "block",
        libc::S_IFIFO => "fifo",
        libc::S_IFSOCK => "socket",
        _ => "file",
    }
}

/// `drwxr-xr-x` as ls prints it.
pub fn mode_string(m: &Metadata) -> String {
    mode_bits_string(m.mode())
}

/// `drwxr-xr-x` as ls prints it, for the `st_mode` `mode`.
fn mode_bits_string(mode: u32) -> String {
    let t = match kind_name(mode) {
        "dir" => 'd',
        "symlink" => 'l',
        "char" => 'c',
        "block" => 'b',
        "fifo" => 'p',
        "socket" => 's',
        _ => '-',
    };
    let mut s = String::from(t);
    let bits = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    for (i, (bit, c)) in bits.iter().enumerate() {
        let set = mode & bit != 0;
        let special = match i {
            2 => (mode & 0o4000 != 0).then_some(if set { 's' } else { 'S' }),
            5 => (mode & 0o2000 != 0).then_some(if set { 's' } else { 'S' }),
            8 => (mode & 0o1000 != 0).then_some(if set { 't' } else { 'T' }),
            _ => None,
        };
        s.push(special.unwrap_or(if set { *c } else { '-' }));
    }
    s
}

/// Why a file asked for has no `sha256`: said on stderr, never left out without a word.
pub enum Unhashed {
    /// The system refused it (permissions, file descriptors, the device): unreadable, exit 4.
    Refused(String),
    /// Gone, swapped, shrunk or failed while read: damage (or a live tree's churn), exit 3.
    Failed(String),
}

impl Unhashed {
    fn of(file: &Path, e: &std::io::Error) -> Unhashed {
        let why = format!("{}: {e}; no sha256", file.display());
        if crate::damage::refused_by_system(e) {
            Unhashed::Refused(why)
        } else {
            Unhashed::Failed(why)
        }
    }
}

/// Hashes a regular file without following links or blocking (ring's SHA-256: assembly, fast
/// in every build profile), reading `meta.size()` bytes in 1 MiB chunks. For a metacopy file
/// `path` is its data file, checked against that file's own lstat.
fn sha256_of(roots: &LayerRoots, path: &Path, file: &Path, meta: &Lstat) -> Result<String, Unhashed> {
    use std::io::Read;
    let fail = |e: &std::io::Error| Unhashed::of(path, e);
    let (dev, ino) = if path == file {
        (meta.dev, meta.ino)
    } else {
        let m = std::fs::symlink_metadata(path).map_err(|e| fail(&e))?;
        (m.dev(), m.ino())
    };
    let f = roots.open_regular(path, dev, ino).map_err(|e| fail(&e))?;
    if let Some(why) = crate::sparse::file_too_sparse(&f, meta.size) {
        return Err(Unhashed::Failed(format!("{}: {why}; no sha256", path.display())));
    }
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; (1 << 20).min(usize::try_from(meta.size).unwrap_or(1 << 20)).max(1)];
    let mut r = f.take(meta.size);
    let mut got = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                ctx.update(buf.get(..n).unwrap_or_default());
                got += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(fail(&e)),
        }
    }
    // A file that shrank since it was listed has no hash of what was listed.
    if got != meta.size {
        return Err(Unhashed::Failed(format!(
            "{}: {got} bytes read of the {} listed (changed while read); no sha256",
            path.display(),
            meta.size
        )));
    }
    Ok(hex::encode(ctx.finish()))
}

/// `m` as the JSON forms give it; `data`: the file to hash (opened below its layer's root,
/// through `roots`), if asked. A file asked for and not hashed has no `sha256`, and why is
/// given to `unhashed`.
pub fn entry_info(
    m: &Lstat,
    file: &Path,
    data: Option<&Path>,
    roots: &LayerRoots,
    unhashed: &mut dyn FnMut(Unhashed),
) -> EntryInfo {
    let link = m
        .is_symlink()
        .then(|| std::fs::read_link(file).ok())
        .flatten()
        .map(|l| l.into_os_string().into_encoded_bytes());
    let sha256 = match data.filter(|_| m.is_file()).map(|d| sha256_of(roots, d, file, m)) {
        Some(Ok(h)) => Some(h),
        Some(Err(why)) => {
            unhashed(why);
            None
        }
        None => None,
    };
    EntryInfo {
        kind: kind_name(m.mode),
        size: m.size,
        mode: format!("{:04o}", m.mode & 0o7777),
        uid: m.uid,
        gid: m.gid,
        mtime: rfc3339(m.mtime, i64::from(m.mtime_nsec)),
        link_hex: link
            .as_ref()
            .filter(|l| std::str::from_utf8(l).is_err())
            .map(hex::encode),
        link: link.map(|l| String::from_utf8_lossy(&l).into_owned()),
        rdev: m
            .is_device()
            .then(|| format!("{},{}", libc::major(m.rdev), libc::minor(m.rdev))),
        sha256,
    }
}

fn hex_if_not_utf8(b: &[u8]) -> Option<String> {
    std::str::from_utf8(b).is_err().then(|| hex::encode(b))
}

pub fn diff(global: &Global, args: DiffArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let mut node = Node::open(global, &args.docker)?;
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    // The layer directories the changes are in, for hashing them below their roots.
    let mut layers: Vec<PathBuf> = Vec::new();
    let r = match node.resolve_any(global, &args.target)? {
        Target::Snapshot(r) => r,
        Target::Overlay2(c) => {
            // The rw layer's upper over its lowers (the init layer first) against the lowers:
            // what dockerd compares, its rw layer with its init layer mounted.
            let found = node.overlay2_layers(&c)?;
            let dirs = node.overlay2_dirs(&found)?;
            layers.clone_from(&dirs);
            let Some((upper, lowers)) = dirs.split_first() else {
                return Err(Failure::new(Outcome::Damaged, "an empty layer stack"));
            };
            let changes = diff::changes_noted(
                upper,
                lowers,
                args.overlay.mode(),
                args.copied_up,
                &mut problems,
                &mut notes,
                &mut node.unreadable,
            )
            .map_err(|e| Failure::new(Outcome::Unreadable, e))?;
            return diff_out(node, &args, &changes, &layers, problems, notes, out);
        }
    };
    let chain = node.chain(r.snap);
    let changes = if node.index.is_native(r.snap) {
        // Two full copies: the snapshot's tree and its parent's, each one plain directory.
        if args.copied_up {
            return Err(Failure::new(
                node.finish(Outcome::Usage),
                "--copied-up: a native snapshot copies everything at prepare; nothing is copied up",
            ));
        }
        let (new, _) = node.tree_dirs(&chain)?;
        let old = match chain.get(1..) {
            Some(parents) if !parents.is_empty() => Some(node.tree_dirs(parents)?.0),
            _ if node.index.get(r.snap).is_some_and(|s| s.backend_parent.is_some()) => {
                // The chain stopped (said as damage): no parent tree to compare with.
                return Err(Failure::new(
                    node.finish(Outcome::Damaged),
                    "the parent snapshot is not in the chain: nothing to compare with",
                ));
            }
            _ => None,
        };
        let (Some(new), old) = (new.first(), old.as_ref().and_then(|o| o.first())) else {
            return Err(Failure::new(Outcome::Damaged, "an empty chain"));
        };
        layers.push(new.clone());
        layers.extend(old.cloned());
        diff::changes_plain(
            new,
            old.map(PathBuf::as_path),
            &mut problems,
            &mut notes,
            &mut node.unreadable,
        )
    } else if node
        .index
        .get(r.snap)
        .is_some_and(|s| s.kind == "View" && s.backend_parent.is_some())
    {
        // A view's mount is its parents' tree unchanged (its own directory is never
        // mounted): nothing differs from the parent's. Its parents are read all the same.
        node.tree_dirs(&chain)?;
        Ok(Vec::new())
    } else {
        let dirs = node.layer_dirs(&chain)?;
        layers.clone_from(&dirs);
        let Some((upper, lowers)) = dirs.split_first() else {
            return Err(Failure::new(Outcome::Damaged, "an empty chain"));
        };
        diff::changes_noted(
            upper,
            lowers,
            args.overlay.mode(),
            args.copied_up,
            &mut problems,
            &mut notes,
            &mut node.unreadable,
        )
    }
    .map_err(|e| Failure::new(Outcome::Unreadable, e))?;
    diff_out(node, &args, &changes, &layers, problems, notes, out)
}

/// Says the notes and problems of a diff, and writes its changes (`layers`: the directories
/// they are in).
fn diff_out(
    mut node: Node,
    args: &DiffArgs,
    changes: &[Change],
    layers: &[PathBuf],
    problems: Vec<String>,
    notes: Vec<String>,
    out: &mut dyn Write,
) -> Result<Outcome, Failure> {
    for n in notes {
        super::warn(crate::text::one_line(&n));
    }
    node.problems.extend(problems);
    let mut unhashed = |u| match u {
        Unhashed::Refused(p) => node.unreadable.push(p),
        Unhashed::Failed(p) => node.problems.push(p),
    };
    write_changes(
        out,
        changes,
        args.format,
        args.hash,
        &LayerRoots::new(layers),
        &mut unhashed,
    )?;
    Ok(node.finish(Outcome::Ok))
}

/// The changes as `format` prints them; `roots`: the layers the changed files are in (their
/// bytes hashed below them, with `hash`; a file not hashed is given to `unhashed`).
fn write_changes(
    out: &mut dyn Write,
    changes: &[Change],
    format: Format,
    hash: bool,
    roots: &LayerRoots,
    unhashed: &mut dyn FnMut(Unhashed),
) -> Result<(), Failure> {
    match format {
        Format::Table => {
            for c in changes {
                writeln!(out, "{} {}", c.kind, escape(&c.path))?;
            }
        }
        Format::Json => {
            let rows: Vec<DiffRow> = changes
                .iter()
                .map(|c| DiffRow {
                    kind: c.kind.to_string(),
                    path: String::from_utf8_lossy(&c.path).into_owned(),
                    path_hex: hex_if_not_utf8(&c.path),
                    info: c.meta.as_ref().map(|m| {
                        let data = (hash && c.kind != 'D').then_some(c.data());
                        entry_info(m, &c.file, data, roots, &mut *unhashed)
                    }),
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &rows).map_err(|e| Failure::from(std::io::Error::from(e)))?;
            writeln!(out)?;
        }
    }
    Ok(())
}

// ---- fs --------------------------------------------------------------------------------------

#[derive(Args)]
pub struct FsArgs {
    #[command(subcommand)]
    pub command: FsCommand,
}

impl FsArgs {
    /// Whether the command writes an output beside which a partial one may be left
    /// (`fs export -o FILE`; to stdout nothing is left).
    pub fn writes_output(&self) -> bool {
        matches!(&self.command, FsCommand::Export(_))
    }
}

#[derive(Subcommand)]
pub enum FsCommand {
    /// List a directory of the merged tree (or show one entry): TARGET:PATH.
    Ls(LsArgs),
    /// Print a regular file of the merged tree: TARGET:PATH (not to a terminal).
    Cat(CatArgs),
    /// The merged tree as a tar, as `docker export` gives it for a container.
    Export(FsExportArgs),
}

#[derive(Args)]
pub struct LsArgs {
    /// TARGET:PATH (TARGET: a container ID, name or ID prefix, a snapshot key (meta.db's, or a
    /// snapshotter's backend key), or an image).
    pub spec: std::ffi::OsString,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Add the sha256 of regular files (JSON).
    #[arg(long)]
    pub hash: bool,
    /// TARGET is an image: read its layer blobs (the host platform's manifest, merged as
    /// `fs export --from-blobs` merges them) instead of its snapshots.
    #[arg(long)]
    pub from_blobs: bool,
    #[command(flatten)]
    pub overlay: MountOpts,
    #[command(flatten)]
    pub docker: DockerRoot,
}

#[derive(Args)]
pub struct CatArgs {
    /// TARGET:PATH.
    pub spec: std::ffi::OsString,
    /// TARGET is an image: read the file from its layer blobs instead of its snapshots.
    #[arg(long)]
    pub from_blobs: bool,
    #[command(flatten)]
    pub overlay: MountOpts,
    #[command(flatten)]
    pub docker: DockerRoot,
}

#[derive(Args)]
pub struct FsExportArgs {
    /// A container ID, name or ID prefix, a snapshot key (meta.db's, or a snapshotter's backend
    /// key), or an image.
    pub target: String,
    /// The tar to write; `-` for stdout (not a terminal).
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Replace OUT if it exists.
    #[arg(long)]
    pub force: bool,
    /// TARGET is an image: merge its layer blobs (the host platform's manifest) instead of
    /// reading its snapshots, for an image whose snapshots are gone.
    #[arg(long)]
    pub from_blobs: bool,
    #[command(flatten)]
    pub overlay: MountOpts,
    #[command(flatten)]
    pub docker: DockerRoot,
}

/// `TARGET:PATH` split at the first `:/` (snapshot keys such as `sha256:...` have colons of
/// their own); without one, at the last `:`; without a colon, the root. The path is bytes (a
/// name need not be UTF-8); the target must be UTF-8.
pub fn split_spec(spec: &[u8]) -> Result<(&str, &[u8]), Failure> {
    let (t, p): (&[u8], &[u8]) = if let Some(at) = spec.windows(2).position(|w| w == b":/") {
        (spec.get(..at).unwrap_or_default(), spec.get(at + 1..).unwrap_or(b"/"))
    } else if let Some(at) = spec.iter().rposition(|&b| b == b':') {
        (
            spec.get(..at).unwrap_or_default(),
            spec.get(at + 1..).unwrap_or_default(),
        )
    } else {
        (spec, b"/")
    };
    let t = std::str::from_utf8(t)
        .map_err(|_| Failure::new(Outcome::Usage, format!("{}: the target is not UTF-8", escape(t))))?;
    Ok((t, p))
}

/// The layer stack of a target, as its mount shows it ([`Node::tree_dirs`]): a native
/// snapshot's one plain directory; else overlay layers, an active snapshot's own directory an
/// upper directory (xwhiteouts are not read there), every other layer a lower one.
fn stack_of(node: &mut Node, global: &Global, target: &str, opts: &MountOpts) -> Result<Stack, Failure> {
    let r = match node.resolve_any(global, target)? {
        Target::Snapshot(r) => r,
        // A container on the overlay2 graph driver: its rw layer's upper dir over its lowers.
        Target::Overlay2(c) => {
            let layers = node.overlay2_layers(&c)?;
            return Ok(Stack::with(node.overlay2_dirs(&layers)?, opts.mode(), true));
        }
    };
    let chain = node.chain(r.snap);
    let active = node.index.get(r.snap).is_some_and(|s| s.kind == "Active");
    let (dirs, plain) = node.tree_dirs(&chain)?;
    match (plain, dirs.as_slice()) {
        (true, [one]) => Ok(Stack::plain(one.clone())),
        _ => Ok(Stack::with(dirs, opts.mode(), active)),
    }
}

/// The failure of a path that does not resolve: not there (exit 1), or too deep to be looked
/// up, which is no proof that it is not there (exit 3, as the walks that stop there).
fn unresolved(e: crate::overlay::merge::Unresolved) -> Failure {
    let outcome = if e.too_deep { Outcome::Damaged } else { Outcome::No };
    Failure::new(outcome, crate::text::one_line(&e.message).into_owned())
}

/// The stack's problems and notes, to the node's (notes are said, not counted as damage).
fn drain(node: &mut Node, stack: &Stack) {
    node.problems.extend(stack.take_problems());
    node.unreadable.extend(stack.take_unreadable());
    for n in stack.take_notes() {
        super::warn(crate::text::one_line(&n));
    }
}

#[derive(Serialize)]
struct LsRow {
    name: String,
    #[serde(rename = "nameHex", skip_serializing_if = "Option::is_none")]
    name_hex: Option<String>,
    /// The layer directory the entry comes from.
    layer: String,
    #[serde(flatten)]
    info: EntryInfo,
}

pub fn fs(global: &Global, args: FsArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    match args.command {
        FsCommand::Ls(a) => ls(global, a, out),
        FsCommand::Cat(a) => cat(global, a, out),
        FsCommand::Export(a) => export(global, a, out),
    }
}

fn ls(global: &Global, args: LsArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let (target, path) = split_spec(args.spec.as_bytes())?;
    let mut node = Node::open(global, &args.docker)?;
    if args.from_blobs {
        return ls_from_blobs(node, global, target, path, &args, out);
    }
    let stack = stack_of(&mut node, global, target, &args.overlay)?;
    // A symlink is shown as itself, unless it leads to a directory (inside the tree): then
    // that directory is listed, as ls does.
    let (rel, entry) = stack.resolve(path, false).map_err(unresolved)?;
    let (rel, entry) = match stack.resolve(path, true) {
        Ok((r, n)) if entry.meta.file_type().is_symlink() && n.is_dir() => (r, n),
        _ => (rel, entry),
    };
    // The entries one at a time, each looked up in its turn and written: a directory of
    // 200,000 names holds its names, not 200,000 rows.
    let mut problems = Vec::new();
    let listing = entry
        .is_dir()
        .then(|| stack.list(&entry, entry.dirs.len(), &mut problems));
    node.problems.extend(problems);
    let mut at = 0;
    let mut single = match &listing {
        Some(_) => None,
        None => Some((
            rel.file_name().map(|n| n.as_bytes().to_vec()).unwrap_or_default(),
            rel.clone(),
            entry.clone(),
        )),
    };
    let mut next = || match &listing {
        Some(l) => loop {
            let (name, after) = l.name_at(at)?;
            let here = std::mem::replace(&mut at, after);
            if let Some(n) = stack.entry(&entry, l, here) {
                return Some((name.to_vec(), rel.join(std::ffi::OsStr::from_bytes(name)), n));
            }
        },
        None => single.take(),
    };
    let row = |name: &[u8], rel: &std::path::Path, n: &crate::overlay::merge::Node| {
        let file = stack.path_of(n, rel);
        let data = args.hash.then(|| n.data_file().to_path_buf());
        LsRow {
            name: String::from_utf8_lossy(name).into_owned(),
            name_hex: hex_if_not_utf8(name),
            layer: stack.layer(n.layer).display().to_string(),
            info: entry_info(
                &(&n.meta).into(),
                &file,
                data.as_deref(),
                &stack.files,
                &mut |u| match u {
                    Unhashed::Refused(p) => stack.refused(p),
                    Unhashed::Failed(p) => stack.problem(p),
                },
            ),
        }
    };
    match args.format {
        Format::Json => {
            let mut json = serde_json::Serializer::with_formatter(&mut *out, serde_json::ser::PrettyFormatter::new());
            serde::Serializer::collect_seq(
                &mut json,
                std::iter::from_fn(|| next().map(|(name, child, n)| row(&name, &child, &n))),
            )
            .map_err(|e| Failure::from(std::io::Error::from(e)))?;
            writeln!(out)?;
        }
        Format::Table => {
            while let Some((name, child, n)) = next() {
                let row = row(&name, &child, &n);
                let size = match &row.info.rdev {
                    Some(r) => r.clone(),
                    None => row.info.size.to_string(),
                };
                let target = n
                    .meta
                    .file_type()
                    .is_symlink()
                    .then(|| std::fs::read_link(stack.path_of(&n, &child)).ok())
                    .flatten()
                    .map(|l| l.into_os_string().into_encoded_bytes());
                writeln!(
                    out,
                    "{} {}/{} {:>10} {} {}{}",
                    mode_string(&n.meta),
                    row.info.uid,
                    row.info.gid,
                    size,
                    super::listings::table::utc_seconds(&row.info.mtime),
                    escape(&name),
                    target.map(|t| format!(" -> {}", escape(&t))).unwrap_or_default()
                )?;
            }
        }
    }
    drain(&mut node, &stack);
    Ok(node.finish(Outcome::Ok))
}

fn cat(global: &Global, args: CatArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    // SAFETY: isatty has no preconditions.
    if unsafe { libc::isatty(1) } == 1 {
        return Err(Failure::new(
            Outcome::Usage,
            "refusing to write file contents to a terminal: redirect stdout or pipe it (e.g. | less)",
        ));
    }
    let (target, path) = split_spec(args.spec.as_bytes())?;
    let mut node = Node::open(global, &args.docker)?;
    if args.from_blobs {
        return cat_from_blobs(node, global, target, path, out);
    }
    let stack = stack_of(&mut node, global, target, &args.overlay)?;
    let (rel, entry) = stack.resolve(path, true).map_err(|e| {
        // Not found because a directory on the way (or the file) was refused to us: say that,
        // as unreadable, not "no such file".
        let refused = stack.take_unreadable();
        if refused.is_empty() {
            unresolved(e)
        } else {
            Failure::new(
                Outcome::Unreadable,
                format!(
                    "{}: cannot be looked up: {}",
                    escape(path),
                    crate::text::one_line(&refused.join("; "))
                ),
            )
        }
    })?;
    if !entry.meta.is_file() {
        return Err(Failure::new(
            Outcome::No,
            format!("{}: a {}, not a regular file", escape(path), type_name(&entry.meta)),
        ));
    }
    let data = entry.data_file().to_path_buf();
    let at = |e: std::io::Error| Failure::new(Outcome::Unreadable, format!("{}: {e}", data.display()));
    let meta = if data == stack.path_of(&entry, &rel) {
        entry.meta.clone()
    } else {
        std::fs::symlink_metadata(&data).map_err(at)?
    };
    let mut f = stack.files.open_regular(&data, meta.dev(), meta.ino()).map_err(at)?;
    // The bytes the file has, as a read through the mount gives them: a metacopy file whose
    // data is shorter than its size ends with the data (said below), not padded with zeros.
    let got = copy_at_most(&mut f, out, entry.meta.size())?;
    if got < entry.meta.size() {
        node.problems
            .push(format!("{}: {got} of {} bytes read", data.display(), entry.meta.size()));
    }
    drain(&mut node, &stack);
    Ok(node.finish(Outcome::Ok))
}

/// The merged layer blobs of image `target` ([`BlobTree`]); a hard link the merge leaves out
/// is said in `problems`.
fn blob_tree<'a>(
    node: &'a Node,
    global: &Global,
    target: &str,
    problems: &mut Vec<String>,
) -> Result<BlobTree<'a>, Failure> {
    let layers = image_layers(node, global, target)?;
    BlobTree::open(&node.root, layers, problems).map_err(|e| failed(node, Outcome::Damaged, e))
}

/// A failure of a `--from-blobs` lookup, with what the node met before it.
fn failed(node: &Node, outcome: Outcome, e: String) -> Failure {
    Failure::new(node.finish(outcome), crate::text::one_line(&e).into_owned())
}

/// `fs ls --from-blobs`: the rows `fs ls` prints, from the merged layer blobs. A hard link
/// the merge leaves out (its file replaced by a later layer) is said, and counts as damage.
fn ls_from_blobs(
    mut node: Node,
    global: &Global,
    target: &str,
    path: &[u8],
    args: &LsArgs,
    out: &mut dyn Write,
) -> Result<Outcome, Failure> {
    let mut problems = Vec::new();
    let tree = blob_tree(&node, global, target, &mut problems)?;
    let at = tree.lookup(path, false).map_err(|e| failed(&node, Outcome::No, e))?;
    // A symlink that leads to a directory (inside the tree) lists that directory, as ls does.
    let at = match tree.lookup(path, true) {
        Ok(dir) if tree.is_dir(&dir) => dir,
        _ => at,
    };
    let paths = if tree.is_dir(&at) { tree.children(&at) } else { vec![at] };
    let entries = tree
        .entries(&paths, args.hash)
        .map_err(|e| failed(&node, Outcome::Damaged, e))?;
    problems.extend(entries.iter().flatten().filter_map(|e| e.unhashed.clone()));
    let rows: Vec<(Vec<u8>, LsRow, &BlobEntry)> = paths
        .iter()
        .zip(&entries)
        .filter_map(|(p, e)| Some((p, e.as_ref()?)))
        .map(|(p, e)| {
            let name = p.rsplit(|&b| b == b'/').next().unwrap_or_default().to_vec();
            let link = (e.mode & libc::S_IFMT == libc::S_IFLNK).then(|| e.link.clone());
            let row = LsRow {
                name: String::from_utf8_lossy(&name).into_owned(),
                name_hex: hex_if_not_utf8(&name),
                layer: tree.layer(e.layer).map(|l| l.digest.clone()).unwrap_or_default(),
                info: EntryInfo {
                    kind: kind_name(e.mode),
                    size: e.size,
                    mode: format!("{:04o}", e.mode & 0o7777),
                    uid: u32::try_from(e.uid).unwrap_or(u32::MAX),
                    gid: u32::try_from(e.gid).unwrap_or(u32::MAX),
                    mtime: rfc3339(e.mtime, 0),
                    link_hex: link.as_deref().and_then(hex_if_not_utf8),
                    link: link.map(|l| String::from_utf8_lossy(&l).into_owned()),
                    rdev: matches!(e.mode & libc::S_IFMT, libc::S_IFCHR | libc::S_IFBLK)
                        .then(|| format!("{},{}", e.devmajor, e.devminor)),
                    sha256: e.sha256.clone(),
                },
            };
            (name, row, e)
        })
        .collect();
    match args.format {
        Format::Json => {
            let rows: Vec<&LsRow> = rows.iter().map(|(_, r, _)| r).collect();
            serde_json::to_writer_pretty(&mut *out, &rows).map_err(|e| Failure::from(std::io::Error::from(e)))?;
            writeln!(out)?;
        }
        Format::Table => {
            for (name, row, e) in &rows {
                let size = row.info.rdev.clone().unwrap_or_else(|| row.info.size.to_string());
                let target = (e.mode & libc::S_IFMT == libc::S_IFLNK).then(|| format!(" -> {}", escape(&e.link)));
                writeln!(
                    out,
                    "{} {}/{} {:>10} {} {}{}",
                    mode_bits_string(e.mode),
                    row.info.uid,
                    row.info.gid,
                    size,
                    super::listings::table::utc_seconds(&row.info.mtime),
                    escape(name),
                    target.unwrap_or_default()
                )?;
            }
        }
    }
    // The tree borrows the node; what the merge left out is the node's to say.
    drop(tree);
    node.problems.extend(problems);
    Ok(node.finish(Outcome::Ok))
}

/// `fs cat --from-blobs`: a regular file's bytes from the merged layer blobs.
fn cat_from_blobs(
    mut node: Node,
    global: &Global,
    target: &str,
    path: &[u8],
    out: &mut dyn Write,
) -> Result<Outcome, Failure> {
    let mut problems = Vec::new();
    let tree = blob_tree(&node, global, target, &mut problems)?;
    let at = tree.lookup(path, true).map_err(|e| failed(&node, Outcome::No, e))?;
    // What it is first (a pass over the layers up to its member), as `fs cat` says it.
    let mode = if tree.is_dir(&at) {
        libc::S_IFDIR
    } else {
        let entries = tree
            .entries(std::slice::from_ref(&at), false)
            .map_err(|e| failed(&node, Outcome::Damaged, e))?;
        entries
            .first()
            .and_then(Option::as_ref)
            .map_or(libc::S_IFDIR, |e| e.mode)
    };
    if mode & libc::S_IFMT != libc::S_IFREG {
        let e = format!("{}: a {}, not a regular file", escape(path), kind_name(mode));
        return Err(failed(&node, Outcome::No, e));
    }
    let (got, size) = tree
        .copy_data(&at, out)
        .map_err(|e| failed(&node, Outcome::Damaged, e))?;
    if got < size {
        problems.push(format!("{}: {got} of {size} bytes in its layer", escape(path)));
    }
    // The tree borrows the node; what the merge left out is the node's to say.
    drop(tree);
    node.problems.extend(problems);
    Ok(node.finish(Outcome::Ok))
}

/// Runs `write` on stdout (`-o -`) or on a temporary file beside `-o OUT` that becomes OUT
/// only once the whole tar is written (the export command's own output rules).
fn write_tar(
    node: &Node,
    args: &FsExportArgs,
    to_stdout: bool,
    out: &mut dyn Write,
    write: impl FnOnce(&mut dyn Write) -> Result<(), Failure>,
) -> Result<(), Failure> {
    if to_stdout {
        // A reader that goes away leaves the archive incomplete: the output's failure (exit 5).
        let mut w = super::Watched::new(out);
        // Flushed here: the archive's end still in the buffer is part of what must arrive.
        let written = write(&mut w).and_then(|()| w.flush().map_err(Failure::from));
        if let Some(f) = w.failure(&"the archive") {
            return Err(f);
        }
        return written;
    }
    let path = super::export::check_output(&node.root.dir, &[&node.docker_root], &args.output, args.force, false)?;
    let (mut temp, file) = super::export::Temp::file(&path)?;
    let mut w = super::Watched::new(std::io::BufWriter::with_capacity(1 << 20, file));
    // A write that failed is the output's failure (exit 5), whatever the writer made of it.
    let written = write(&mut w).and_then(|()| w.flush().map_err(Failure::from));
    if let Some(f) = w.failure(&path.path().display()) {
        return Err(f);
    }
    written?;
    temp.commit()?;
    Ok(())
}

fn export(global: &Global, args: FsExportArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let to_stdout = args.output.as_os_str() == "-";
    // SAFETY: isatty has no preconditions.
    if to_stdout && unsafe { libc::isatty(1) } == 1 {
        return Err(Failure::new(
            Outcome::Usage,
            "refusing to write an archive to a terminal: redirect stdout or use -o FILE",
        ));
    }
    let mut node = Node::open(global, &args.docker)?;
    let mut problems = Vec::new();
    if args.from_blobs {
        let layers = image_layers(&node, global, &args.target)?;
        let damaged = |e: String| Failure::new(Outcome::Damaged, crate::text::one_line(&e).into_owned());
        write_tar(&node, &args, to_stdout, out, |w| {
            crate::overlay::blobs::export(&node.root, &layers, w, &mut problems)
                .map(drop)
                .map_err(damaged)
        })?;
        node.problems.extend(problems);
        return Ok(node.finish(Outcome::Ok));
    }
    let stack = stack_of(&mut node, global, &args.target, &args.overlay)?;
    write_tar(&node, &args, to_stdout, out, |w| {
        tree_export::export(&stack, w, &mut problems)
            .map(drop)
            .map_err(|e| Failure::new(Outcome::Unreadable, e))
    })?;
    node.problems.extend(problems);
    drain(&mut node, &stack);
    Ok(node.finish(Outcome::Ok))
}

/// The layer blobs of image `reference` (the record of that exact name, else as `inspect`
/// resolves it), the host platform's.
fn image_layers(node: &Node, global: &Global, reference: &str) -> Result<Vec<crate::overlay::blobs::Layer>, Failure> {
    let tx = node.root.view(global.meta_choice())?;
    let ns = super::context::image_namespace(global, &tx)?;
    let inspector = crate::inspect::Inspector::new(
        &node.root,
        node.root.view(global.meta_choice())?,
        &ns,
        crate::inspect::Options::for_host(global.host()),
    );
    let image = super::layers::image_of(&tx, &ns, &inspector, reference)
        .map_err(|e| Failure::new(Outcome::No, escape(e.to_string().as_bytes())))?;
    let host = global.host();
    crate::overlay::blobs::image_layers(
        &node.root,
        &tx,
        &ns,
        &image.target.media_type,
        &image.target.digest,
        &host.os,
        &host.architecture,
    )
    .map_err(|e| {
        // Unreadable (permissions) is exit 4, never "not on the node" (exit 3).
        let outcome = match e {
            crate::overlay::blobs::LayersError::NotFound | crate::overlay::blobs::LayersError::Damaged(_) => {
                Outcome::Damaged
            }
            crate::overlay::blobs::LayersError::NoHost { .. } => Outcome::No,
            crate::overlay::blobs::LayersError::Unreadable(_) => Outcome::Unreadable,
        };
        Failure::new(outcome, format!("image {}: {e}", crate::text::one_line(&image.name)))
    })
    .and_then(|layers| {
        // A layer blob that cannot be opened for permissions is exit 4 too, found before
        // anything is written (the layer reader's errors are damage, exit 3).
        for layer in &layers {
            if let Ok(d) = crate::digest::Digest::parse(&layer.digest)
                && let Err(e @ crate::containerd::root::BlobError::Io { .. }) = node.root.open_blob(&d)
            {
                return Err(Failure::new(
                    Outcome::Unreadable,
                    format!("image {}: layer {e}", crate::text::one_line(&image.name)),
                ));
            }
        }
        Ok(layers)
    })
}

#[cfg(test)]
mod tests {
    use super::split_spec;

    #[test]
    fn specs_split_at_the_path() {
        let ok = |s: &'static [u8]| match split_spec(s) {
            Ok(v) => v,
            Err(e) => panic!("{}", e.message),
        };
        assert_eq!(
            ok(b"dev-fschanges:/etc/passwd"),
            ("dev-fschanges", b"/etc/passwd".as_slice())
        );
        assert_eq!(ok(b"sha256:abc:/etc"), ("sha256:abc", b"/etc".as_slice()));
        assert_eq!(ok(b"abc"), ("abc", b"/".as_slice()));
        assert_eq!(ok(b"abc:etc"), ("abc", b"etc".as_slice()));
        assert_eq!(ok(b"abc:/bad\xffname"), ("abc", b"/bad\xffname".as_slice()));
        assert!(split_spec(b"\xff:/x").is_err());
    }
}
