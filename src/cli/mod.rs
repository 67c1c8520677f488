//! The command line: flags in, a report on stdout, problems on stderr, and an exit code that
//! says what happened.
//!
//! Exit codes (the same for every command; README.md, "Exit codes", says which damage each
//! command meets):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done, nothing wrong in what was read |
//! | 1 | done, and the answer is "no": a name not found, `bolt check` findings, an inspect error |
//! | 2 | bad command line |
//! | 3 | what the command read is damaged: the report is partial or names it; stderr says where |
//! | 4 | a file could not be read at all (permissions, missing file) |

mod bolt;
pub mod containers;
pub mod context;
mod du;
mod ellipsis;
mod export;
mod fs;
mod gc;
mod generate;
pub mod graph_images;
mod history;
mod inspect;
mod interrupt;
mod layers;
pub mod listings;
mod logs;
mod meta_diff;
mod progress;
mod recover;
mod tabwriter;
mod verify;
mod which;
mod which_graph;

use crate::bolt::BoltError;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::io::Write;

/// The package version and the commit it was built from (see build.rs).
pub const VERSION: &str = env!("COLDCTR_VERSION");

/// The exit codes, for `--help` and the manual page (a rescue image has the binary, not the
/// README; sweep 29.6). README's "Exit codes" says each in full.
const EXIT_CODES: &str = "\
Exit codes (every command; when several apply, the highest):
  0  done, nothing wrong in what was read
  1  the answer is no: a name, reference or namespace not found; bolt check findings
  2  a bad command line
  3  damage in what was read (stderr says where), or a bbolt file committed to while read
  4  something could not be read at all (permissions, an I/O error); the rest is reported
  5  the output could not be written; what was written is incomplete";

#[derive(Parser)]
#[command(
    name = "coldctr",
    version = VERSION,
    about = "Read a node's container state straight from disk, read-only, with no daemon.",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(flatten)]
    global: context::Global,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run; boxing the larger arguments would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Read bbolt files (meta.db, metadata.db) directly: forensic, lock-free, read-only.
    Bolt(bolt::BoltArgs),
    /// What `docker image inspect` prints for these images, from disk.
    Inspect(inspect::InspectArgs),
    /// What containerd's garbage collector would remove now (or --at), without deleting anything.
    Gc(gc::GcArgs),
    /// Where the disk goes: per namespace, per image (shared and unique), what gc would free.
    Du(du::DuArgs),
    /// Image records with their platforms and sizes (`ctr images ls`, plus every size definition).
    ///
    /// With `-q` and no containerd `FIELD` filter, the names alone, as `ctr images ls -q` prints
    /// them: only the image records are read (and, for docker's `label=` filter, the indexes,
    /// manifests and configs it needs), so damage in content records, blobs, snapshot records
    /// and the snapshotters' metadata is not reported there; the full listing reports it.
    #[command(mut_arg("format", |a| listings::format_help(a, "`'{{.name}}'`, `'{{.target.digest}} {{.target.size}}'`")))]
    Images(listings::ImagesArgs),
    /// Content records (`ctr content ls`), and whether each blob file is there.
    #[command(mut_arg("format", |a| listings::format_help(a, "`'{{.digest}}'`, `'{{.digest}} {{.size}}'`")))]
    Content(listings::ListArgs),
    /// Namespaces and their labels (`ctr namespaces ls`).
    #[command(mut_arg("format", |a| listings::format_help(a, "`'{{.name}}'`, `'{{.name}} {{json .labels}}'`")))]
    Namespaces(listings::ListArgs),
    /// Leases (`ctr leases ls`); `--format json` adds what each holds.
    #[command(mut_arg("format", |a| listings::format_help(a, "`'{{.id}}'`, `'{{.id}} {{.createdAt}}'`")))]
    Leases(listings::ListArgs),
    /// Container records (`ctr containers ls`).
    #[command(mut_arg("format", |a| listings::format_help(a, "`'{{.id}}'`, `'{{.id}} {{.image}}'`")))]
    Containers(listings::ListArgs),
    /// Containers of every store on the node (Docker's, containerd's, the CRI's), as `docker ps`.
    Ps(containers::PsArgs),
    /// Containers' full records: `container inspect ID|NAME|PREFIX...`.
    Container(containers::ContainerArgs),
    /// What `docker logs` prints for a Docker container, from its json-file log on disk.
    Logs(logs::LogsArgs),
    /// What `docker image history` prints for an image (its config's history, the layers'
    /// sizes, the classic builder's parent images), from disk.
    History(history::HistoryArgs),
    /// Every time the node recorded (images, content, leases, snapshots, containers), sorted.
    Timeline(containers::TimelineArgs),
    /// Snapshot records per snapshotter (`ctr snapshots ls`); `snapshots tree`: the parent
    /// chains with their directories on disk.
    #[command(mut_arg("format", |a| listings::format_help(a, "`'{{.key}}'`, `'{{.key}} {{.kind}}'`")))]
    Snapshots(SnapshotsArgs),
    /// Which snapshot, containers and images a path on the disk belongs to
    /// (`.../io.containerd.snapshotter.v1.overlayfs/snapshots/<id>/fs/...`).
    Which(which::WhichArgs),
    /// The mount line `ctr snapshots mounts` prints for a snapshot or container (or a
    /// read-only one with every layer as a lowerdir).
    Mounts(layers::MountsArgs),
    /// What `docker diff` prints for a container (A/C/D), from its upper dir and lowers.
    Diff(fs::DiffArgs),
    /// Files of a container or snapshot without mounting: ls, cat, export as tar.
    Fs(fs::FsArgs),
    /// Write images out as an OCI layout, OCI archive or docker-archive, every blob re-hashed.
    Export(export::ExportArgs),
    /// Re-hash every recorded blob, validate the documents images reach, audit the bbolt files.
    Verify(verify::VerifyArgs),
    /// What changed between the previous transaction and the current one (or another copy of
    /// meta.db, --against FILE): records added, removed and changed, field by field.
    MetaDiff(meta_diff::MetaDiffArgs),
    /// Every record carved from meta.db's pages, reachable or not (deleted records of older
    /// transactions), with its page and whether the current tree still has it.
    Recover(recover::RecoverArgs),
    /// Shell completions on stdout (bash, zsh, fish, elvish, powershell).
    Completions(generate::CompletionsArgs),
    /// The man page (roff) on stdout: `coldctr man | man -l -`, or a command's page: `coldctr man gc`.
    Man(generate::ManArgs),
}

/// `snapshots`: the listing, or `snapshots tree`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
struct SnapshotsArgs {
    #[command(subcommand)]
    command: Option<SnapshotsCommand>,
    #[command(flatten)]
    list: listings::ListArgs,
}

#[derive(Subcommand)]
enum SnapshotsCommand {
    /// The parent chains of every snapshotter (bases first, children indented), or one
    /// snapshot's or container's chain down to its base, each with its id, kind, size and
    /// directory on disk.
    Tree(layers::TreeArgs),
}

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Ok = 0,
    No = 1,
    /// A bad command line: clap's own errors, and what is found after parsing (an unusable
    /// `--format` template, a global option `bolt` would ignore).
    Usage = 2,
    Damaged = 3,
    Unreadable = 4,
    /// The output could not be written (a full disk, a closed pipe for an archive): what was
    /// written is incomplete. Worst of all: the report or archive is not there.
    Unwritten = 5,
}

impl Outcome {
    pub fn worst(self, other: Outcome) -> Outcome {
        self.max(other)
    }

    /// What the damage met counts for: 3 for damage, 4 when a read was refused (a note
    /// marked unreadable: EACCES, EIO, EMFILE), the worse of the two when both.
    pub fn of_damage(damage: &crate::damage::Damage) -> Outcome {
        let damaged = if damage.has_damage() {
            Outcome::Damaged
        } else {
            Outcome::Ok
        };
        damaged.worst(if damage.has_unreadable() {
            Outcome::Unreadable
        } else {
            Outcome::Ok
        })
    }
}

/// A failure that ends a command, with the exit code it maps to.
pub struct Failure {
    pub outcome: Outcome,
    pub message: String,
}

impl From<BoltError> for Failure {
    fn from(e: BoltError) -> Self {
        Failure {
            outcome: if e.is_damage() {
                Outcome::Damaged
            } else {
                Outcome::Unreadable
            },
            message: match e.hint() {
                Some(hint) => format!("{e}; {hint}"),
                None => e.to_string(),
            },
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        // A reader that went away (`| head`) is not a failure of ours.
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Failure::quiet(Outcome::Ok);
        }
        Failure {
            outcome: Outcome::Unreadable,
            message: e.to_string(),
        }
    }
}

impl Failure {
    pub fn new(outcome: Outcome, message: impl Into<String>) -> Self {
        Failure {
            outcome,
            message: message.into(),
        }
    }

    /// An exit code with nothing more to say.
    pub fn quiet(outcome: Outcome) -> Self {
        Failure::new(outcome, String::new())
    }
}

/// Runs the command line this process was started with: its exit code, once every byte of
/// output is written and flushed.
pub fn main() -> u8 {
    // A file-size limit (`ulimit -f`) met while writing an export or a listing to a file
    // would end the process by SIGXFSZ, with no word and the temporary output left behind:
    // ignored, the write fails with EFBIG, said as any failed write (exit 5), and cleaned up.
    // SAFETY: sets one signal's disposition to ignore, before any thread exists.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    // A variable set to nothing is no value (as the docker CLI takes DOCKER_API_VERSION=):
    // clap would take it for an empty --root, and refuse the command line even where the
    // option was given (sweep 28.3).
    for var in ["COLDCTR_ROOT", "COLDCTR_DOCKER_ROOT", "DOCKER_API_VERSION"] {
        if std::env::var_os(var).is_some_and(|v| v.is_empty()) {
            // SAFETY: no other thread exists yet to read the environment.
            unsafe { std::env::remove_var(var) };
        }
    }
    let matches = Cli::command().try_get_matches().unwrap_or_else(|e| usage_exit(e));
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| usage_exit(e));
    let root_given = matches.value_source("root") == Some(ValueSource::CommandLine);
    cli.global.docker_root_given = matches.value_source("docker_root") == Some(ValueSource::CommandLine);
    let stdout = std::io::stdout();
    // A terminal sees rows as they come, 8 KiB at a time; a pipe or a file takes the 38 MB of
    // a big store's `images --format json` in 256 KiB writes, not 5,000 small ones.
    let buffer = match std::io::IsTerminal::is_terminal(&stdout) {
        true => 8 << 10,
        false => 256 << 10,
    };
    let mut out = Watched::new(std::io::BufWriter::with_capacity(buffer, Patient(stdout.lock())));
    let result = dispatch(cli, root_given, &mut out);
    // The command said the output failed (exit 5) itself; any other message (damage met
    // first, or an error that came up through `?`) does not say the output is what failed.
    let said = matches!(&result, Err(f) if f.outcome == Outcome::Unwritten && !f.message.is_empty());
    let _ = out.flush();
    // A signal the export's watcher took ends the process by it, not by what the command made
    // of its output going away meanwhile.
    interrupt::settle();
    let outcome = match result {
        Ok(o) => o,
        Err(f) => {
            // The output's own error come up through `?` is said below, as the output's.
            let bare = out.first.as_ref().is_some_and(|(_, why)| *why == f.message);
            if !f.message.is_empty() && !bare {
                crate::say!("coldctr: {}", crate::text::without_os_error(&f.message));
            }
            f.outcome
        }
    };
    // Pages of a mapped file the disk could not give read as zeros (crate::sigbus): the
    // command saw them as damage where it read them; here is why.
    let mut outcome = outcome;
    for (path, at, pages) in crate::sigbus::untaken() {
        crate::say!(
            "coldctr: {}: {pages} block(s) of 4 KiB from offset {at} could not be read (an I/O error of the disk, or the file cut short while read) and read as zeros (what lies there is reported damaged)",
            crate::text::escape(path.as_os_str().as_encoded_bytes())
        );
        outcome = outcome.worst(Outcome::Damaged);
    }
    // Said once: by the command when the failure ended it, else here.
    if let Some((kind, why)) = &out.first
        && *kind != std::io::ErrorKind::BrokenPipe
        && !said
    {
        crate::say!("coldctr: writing output: {}", crate::text::without_os_error(why));
    }
    match out.failed() {
        // A reader that went away (`| head`) is not a failure of ours; a command whose output
        // must arrive whole (an archive) says so itself.
        None | Some(std::io::ErrorKind::BrokenPipe) => outcome as u8,
        // Whichever way the error came up (a `?` reads it as an unreadable input), the output
        // is what failed.
        Some(_) => Outcome::Unwritten as u8,
    }
}

/// A file named on the command line where a bbolt file is read (`bolt FILE`, `meta-diff
/// --against FILE`): a directory (a root given for its meta.db) or a device there is a mistake
/// of the command line (2), not an unreadable input. One that cannot be looked at is left to
/// the open, which says why (4).
pub(crate) fn given_file(path: &std::path::Path) -> Result<(), Failure> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => Err(Failure::new(
            Outcome::Usage,
            format!(
                "{}: not a regular file ({})",
                crate::text::escape(path.as_os_str().as_encoded_bytes()),
                crate::paths::kind_of(&m.file_type())
            ),
        )),
        _ => Ok(()),
    }
}

/// A writer that remembers the first write or flush that failed, so that a full disk is told
/// apart from an unreadable input (exit 5, not 4) whichever path carried the error up.
/// stdout that waits when it would block: a pipe inherited with O_NONBLOCK set (node's
/// `child_process`, a pipe an earlier program left so) fails a write with EAGAIN whenever the
/// reader is behind, which cut listings and exports at 64 KiB, exit 5 (sweep 28.5). The
/// descriptor's flags are shared with other processes, so they are left as they are.
struct Patient<W>(W);

impl<W: Write + std::os::fd::AsFd> Patient<W> {
    /// Waits until the descriptor takes bytes again (or says why not: the next write does).
    fn wait(&self) {
        use std::os::fd::AsRawFd;
        let mut pfd = libc::pollfd {
            fd: self.0.as_fd().as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: one valid pollfd; -1 waits as a blocking write would.
        unsafe { libc::poll(&mut pfd, 1, -1) };
    }
}

impl<W: Write + std::os::fd::AsFd> Write for Patient<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        loop {
            match self.0.write(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => self.wait(),
                other => return other,
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        loop {
            match self.0.flush() {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => self.wait(),
                other => return other,
            }
        }
    }
}

pub struct Watched<W> {
    inner: W,
    /// The first failure: its kind and what the system said.
    first: Option<(std::io::ErrorKind, String)>,
}

impl<W: Write> Watched<W> {
    pub fn new(inner: W) -> Self {
        Watched { inner, first: None }
    }

    /// The kind of the first write or flush that failed.
    pub fn failed(&self) -> Option<std::io::ErrorKind> {
        self.first.as_ref().map(|(k, _)| *k)
    }

    /// The failure to return for a write that failed, if one did (`what`: the output's name).
    pub fn failure(&self, what: &dyn std::fmt::Display) -> Option<Failure> {
        self.first
            .as_ref()
            .map(|(_, said)| Failure::new(Outcome::Unwritten, format!("writing {what}: {said}")))
    }

    fn note<T>(&mut self, r: std::io::Result<T>) -> std::io::Result<T> {
        // An interrupted write is retried by whoever wrote (`write_all`): no failure.
        if let Err(e) = &r
            && e.kind() != std::io::ErrorKind::Interrupted
            && self.first.is_none()
        {
            self.first = Some((e.kind(), e.to_string()));
        }
        r
    }
}

impl<W: Write> Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.note(r)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let r = self.inner.write_all(buf);
        self.note(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.note(r)
    }
}

/// Ends the process for a command line clap refused, or for `--help` and `--version`, as
/// clap does (its colours on a terminal), with what it quotes of the command line escaped.
fn usage_exit(e: clap::Error) -> ! {
    escaped(e).exit()
}

/// clap's error with what it quotes of the command line (the value or argument refused, the
/// one it suggests) escaped as every other message escapes what it quotes: a value pasted from
/// a hostile file must not drive the terminal.
fn escaped(mut e: clap::Error) -> clap::Error {
    use clap::error::ContextValue;
    let quoted: Vec<_> = e
        .context()
        .filter_map(|(kind, value)| {
            let value = match value {
                ContextValue::String(s) => ContextValue::String(crate::text::escape_hazards(s).into_owned()),
                ContextValue::Strings(all) => ContextValue::Strings(
                    all.iter()
                        .map(|s| crate::text::escape_hazards(s).into_owned())
                        .collect(),
                ),
                // A tip quoting the argument: its styles go, its text is kept escaped.
                ContextValue::StyledStr(s) => ContextValue::StyledStr(quoted_plain(s)),
                ContextValue::StyledStrs(all) => ContextValue::StyledStrs(all.iter().map(quoted_plain).collect()),
                _ => return None,
            };
            Some((kind, value))
        })
        .collect();
    for (kind, value) in quoted {
        e.insert(kind, value);
    }
    e
}

/// A styled piece of clap's message as plain text, escaped.
fn quoted_plain(s: &clap::builder::StyledStr) -> clap::builder::StyledStr {
    crate::text::escape_hazards(&s.to_string()).into_owned().into()
}

/// Runs one command line (`args` with the program name first) writing to `out`, as `coldctr`
/// does but returning the outcome: for the benches.
pub fn run_args<I, T>(args: I, out: &mut dyn Write) -> Result<Outcome, Failure>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let usage = |e: clap::Error| Failure::new(Outcome::Usage, escaped(e).to_string());
    let matches = Cli::command().try_get_matches_from(args).map_err(usage)?;
    let mut cli = Cli::from_arg_matches(&matches).map_err(usage)?;
    let root_given = matches.value_source("root") == Some(ValueSource::CommandLine);
    cli.global.docker_root_given = matches.value_source("docker_root") == Some(ValueSource::CommandLine);
    dispatch(cli, root_given, out)
}

fn dispatch(cli: Cli, root_given: bool, out: &mut dyn Write) -> Result<Outcome, Failure> {
    crate::bolt::commits::forget();
    let result = dispatch_to(cli, root_given, out);
    // A bbolt file committed to while it was read (a live node): said after the report (and
    // before a failure's own line), which may mix transactions; damage (3) at least, whether
    // the command ended in a report or in a failure (a "not found" may be the commits' doing).
    let opened = crate::bolt::commits::opened_files();
    let landed = crate::bolt::commits::landed();
    for l in &landed {
        warn(l);
    }
    if landed.is_empty() {
        // No commit landed, but damage found in a file a writer holds: one may be landing.
        let outcome = match &result {
            Ok(o) => *o,
            Err(f) => f.outcome,
        };
        if outcome >= Outcome::Damaged {
            for (path, follow) in &opened {
                if let Some(said) = crate::bolt::commits::held_elsewhere(path, *follow) {
                    warn(said);
                }
            }
        }
        return result;
    }
    match result {
        Ok(o) => Ok(o.worst(Outcome::Damaged)),
        Err(mut f) => {
            f.outcome = f.outcome.worst(Outcome::Damaged);
            Err(f)
        }
    }
}

fn dispatch_to(cli: Cli, root_given: bool, out: &mut dyn Write) -> Result<Outcome, Failure> {
    match cli.command {
        // They write bytes of their own (a file, an archive, a bbolt value, roff) or text
        // coldctr wrote: stdout as it is.
        Command::Bolt(ref b) if b.writes_bytes() => run_command(cli, root_given, out),
        Command::Fs(fs::FsArgs {
            command: fs::FsCommand::Cat(_) | fs::FsCommand::Export(_),
        })
        | Command::Export(_)
        | Command::Logs(_)
        | Command::Completions(_)
        | Command::Man(_) => run_command(cli, root_given, out),
        // Text from the data: no raw bidi or zero-width character, DEL or C1 control reaches
        // the terminal, even inside JSON (written `\u202e` there, the same value).
        _ => {
            // Buffered in front: serde writes a pretty report a token at a time (du's 4 MB
            // were 1.3 million writes, +21% instructions through the writer); it sees 8 KiB.
            let mut text = std::io::BufWriter::with_capacity(8 << 10, crate::text::Hazards::new(&mut *out));
            let result = run_command(cli, root_given, &mut text);
            let _ = text.flush();
            result
        }
    }
}

/// Global options given on the command line to a command that has no use for them: refused
/// (exit 2), as a forensic tool must not print an answer to a question it was not asked.
/// `--previous` and `--no-mmap` count too when `all` (bolt honours them).
pub fn refuse_unused(global: &context::Global, root_given: bool, what: &str, all: bool) -> Result<(), Failure> {
    let ignored = global.given_options(root_given, all);
    if ignored.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        Outcome::Usage,
        format!(
            "{what} and has no use for {}; drop {}",
            ignored.join(", "),
            if ignored.len() == 1 { "it" } else { "them" }
        ),
    ))
}

fn run_command(mut cli: Cli, root_given: bool, out: &mut dyn Write) -> Result<Outcome, Failure> {
    // `-n` as the record name it selects, once for every command: a namespace printed escaped
    // (`ns\x1b[31m`) is then compared as the name it was printed from, wherever it is compared.
    if let Some(ns) = &mut cli.global.namespace {
        *ns = crate::containerd::records::selected_name(ns).into_owned();
    }
    cli.global.reads_no_blob = matches!(
        cli.command,
        Command::Namespaces(_)
            | Command::Leases(_)
            | Command::Containers(_)
            | Command::Snapshots(SnapshotsArgs { command: None, .. })
            | Command::MetaDiff(_)
            | Command::Recover(_)
    );
    match cli.command {
        Command::Bolt(args) => bolt::run(args, &cli.global, root_given, out),
        Command::Inspect(args) => inspect::run(&cli.global, args, out),
        Command::Gc(args) => gc::run(&cli.global, args, out),
        Command::Du(args) => du::run(&cli.global, args, out),
        Command::Images(args) => listings::images(&cli.global, args, out),
        Command::Content(args) => listings::content(&cli.global, args, out),
        Command::Namespaces(args) => listings::namespaces(&cli.global, args, out),
        Command::Leases(args) => listings::leases(&cli.global, args, out),
        Command::Containers(args) => listings::containers(&cli.global, args, out),
        Command::Ps(args) => containers::ps(&cli.global, args, out),
        Command::Container(args) => containers::container(&cli.global, args, out),
        Command::Logs(args) => logs::logs(&cli.global, args, out),
        Command::History(args) => history::history(&cli.global, args, out),
        Command::Timeline(args) => containers::timeline(&cli.global, args, out),
        Command::Snapshots(args) => match args.command {
            Some(SnapshotsCommand::Tree(t)) => layers::tree(&cli.global, t, out),
            None => listings::snapshots(&cli.global, args.list, out),
        },
        Command::Which(args) => which::which(&cli.global, args, out),
        Command::Mounts(args) => layers::mounts_cmd(&cli.global, args, out),
        Command::Diff(args) => fs::diff(&cli.global, args, out),
        Command::Fs(args) => {
            // `fs export` leaves a partial output to remove on a signal too (sweep 27).
            if args.writes_output() {
                interrupt::install();
            }
            fs::fs(&cli.global, args, out)
        }
        Command::Verify(args) => verify::run(&cli.global, args, out),
        Command::MetaDiff(args) => meta_diff::run(&cli.global, args, out),
        Command::Recover(args) => recover::run(&cli.global, args, out),
        Command::Export(args) => {
            // Only export leaves a partial output to remove on a signal; every other command
            // is spared the watcher thread (a tenth of a millisecond of one `inspect REF`). No
            // other thread exists yet.
            interrupt::install();
            export::run(&cli.global, args, out)
        }
        Command::Completions(args) => {
            refuse_unused(
                &cli.global,
                root_given,
                "completions writes a shell's completion script",
                true,
            )?;
            generate::completions(args, out)
        }
        Command::Man(args) => {
            refuse_unused(&cli.global, root_given, "man prints a manual page", true)?;
            generate::man(args, out)
        }
    }
}

/// Prints a problem found along the way on stderr; the command goes on.
pub fn warn(message: impl std::fmt::Display) {
    crate::say!("coldctr: {}", crate::text::without_os_error(&message.to_string()));
}

/// Writes to stderr, and a failure to is let be: `eprintln!` panics when stderr is a full
/// disk or a pipe whose reader left, and the run's report on stdout and its exit code were
/// lost with it (sweep 25). What stderr could not take is lost; the rest is not.
pub fn say_fmt(args: std::fmt::Arguments, newline: bool) {
    use std::io::Write;
    let mut e = std::io::stderr().lock();
    let _ = e.write_fmt(args);
    if newline {
        let _ = e.write_all(b"\n");
    }
}

/// `eprintln!` that never panics: see [`say_fmt`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::say_fmt(format_args!($($arg)*), true)
    };
}

/// `eprint!` that never panics: see [`say_fmt`].
#[macro_export]
macro_rules! say_part {
    ($($arg:tt)*) => {
        $crate::cli::say_fmt(format_args!($($arg)*), false)
    };
}
