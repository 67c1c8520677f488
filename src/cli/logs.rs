//! `coldctr logs CONTAINER`: what `docker logs` prints for a Docker container, from the files
//! its log driver left on disk (`crate::containers::logs`): json-file's, the `local` driver's,
//! or dual logging's cache for a driver dockerd cannot read back; stdout entries on stdout,
//! stderr entries on stderr, each as written; `--timestamps`, `--details`, `--tail`,
//! `--since` and `--until` as dockerd 28 applies them (the tail first, then the window over
//! it: for json-file files the last N lines as dockerd's tailfile counts newlines back from
//! each file's end, for local-format files the last N records found walking back by their
//! trailing lengths, as dockerd finds them).

use super::context::Global;
use super::{Failure, Outcome};
use crate::containers::local_log::TailWalk;
use crate::containers::log_window;
use crate::containers::logs::{self, Stream};
use crate::containers::{self, Lookup};
use clap::Args;
use std::io::{IsTerminal, Write};

#[derive(Args)]
pub struct LogsArgs {
    /// A Docker container's ID, name or unique ID prefix.
    pub container: String,
    /// Show timestamps (each entry's recorded time, RFC 3339 with nine digits, as docker).
    #[arg(short, long)]
    pub timestamps: bool,
    /// Number of lines to show from the end of the logs (`all`: every one), as docker's
    /// `--tail`: over both streams; json-file lines as dockerd counts them (newlines, empty
    /// lines too), local-format records.
    #[arg(long, default_value = "all", value_parser = parse_tail, allow_negative_numbers = true)]
    pub tail: Tail,
    /// Show entries not before this time: RFC 3339 (`2026-12-05T09:33:16Z`, with or without
    /// fraction or zone), Unix seconds (`1796463196.5`), or a Go duration before now on this
    /// machine's clock (`42m`), as docker reads them.
    #[arg(long, allow_hyphen_values = true)]
    pub since: Option<String>,
    /// Show entries up to this time (included; the first entry after it ends the output), in
    /// the forms `--since` takes.
    #[arg(long, allow_hyphen_values = true)]
    pub until: Option<String>,
    /// Show each entry's attrs before its line (json-file's `attrs`: the labels and env its
    /// log options named, as `k=v,...`, query-escaped; none in the local format), as docker.
    #[arg(long)]
    pub details: bool,
}

#[derive(Clone, Copy, Debug)]
pub enum Tail {
    All,
    Last(usize),
}

fn parse_tail(s: &str) -> Result<Tail, String> {
    // docker: anything that is no number reads as all.
    Ok(match s.parse::<i64>() {
        Ok(n) if n >= 0 => Tail::Last(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => Tail::All,
    })
}

pub fn logs(global: &Global, args: LogsArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let (inv, mut outcome) = super::containers::gather(global, false)?;
    let arg = &args.container;
    let entry = match containers::find(&inv.entries, arg) {
        Ok(e) => e,
        Err(Lookup::NotFound) => {
            let mut message = format!("No such container: {}", crate::containerd::records::given_shown(arg));
            if let Some(p) = &inv.docker_unlisted {
                message.push_str(&format!(
                    " (the Docker store {} could not be read, and may hold it)",
                    crate::text::escape(p.as_os_str().as_encoded_bytes())
                ));
                return Err(Failure::new(Outcome::Unreadable, message));
            }
            return Err(Failure::new(Outcome::No, message));
        }
        Err(Lookup::Ambiguous) => {
            return Err(Failure::new(
                Outcome::No,
                format!(
                    "multiple IDs found with provided prefix: {}",
                    crate::containerd::records::given_shown(arg)
                ),
            ));
        }
        Err(Lookup::NameShared(ids)) => {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            return Err(Failure::new(
                Outcome::Damaged,
                containers::docker::name_shared(arg.strip_prefix('/').unwrap_or(arg), &ids),
            ));
        }
    };
    let Some(docker) = &entry.docker else {
        // The CRI's metadata names the kubelet's log file (`Metadata.LogPath`).
        let log_path = (entry.cri.as_ref())
            .and_then(|c| c.metadata.as_ref())
            .and_then(|m| m.get("Metadata"))
            .and_then(|m| m.get("LogPath"))
            .and_then(|p| p.as_str())
            .unwrap_or_default()
            .to_string();
        return Err(Failure::new(
            Outcome::No,
            format!(
                "{}: not a Docker container: containerd keeps no log{}",
                crate::text::escape(entry.id.as_bytes()),
                if log_path.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; the kubelet's is at {} on the node (CRI log format)",
                        crate::text::escape(log_path.as_bytes())
                    )
                }
            ),
        ));
    };
    // The docker CLI reads --since and --until before it asks dockerd for the logs: a value it
    // cannot read fails before the driver is looked at.
    let (now, local_offset) = (log_window::now(), log_window::local_offset_now());
    let mut window = Window::default();
    for (name, value, until) in [("since", &args.since, false), ("until", &args.until, true)] {
        let Some(value) = value else { continue };
        match log_window::docker_time(value, now, local_offset, until) {
            Ok(at) if until => window.until = at,
            Ok(at) => window.since = at,
            Err(e) => {
                // Go's quoting in the error already writes every control byte and every byte
                // past ASCII escaped (time.quote; strconv.Quote for %q): printed as it is.
                crate::say!("invalid value for \"{name}\": {e}");
                return Err(Failure::quiet(Outcome::No));
            }
        }
    }
    let log_config = (docker.hostconfig.as_ref()).and_then(|h| h.get("LogConfig"));
    let option = |key: &str| {
        log_config
            .and_then(|l| l.get("Config"))
            .and_then(|c| c.get(key))
            .and_then(|m| m.as_str())
    };
    // No type, null or "" (one answer for the three, sweep 37.8): dockerd writes the type at
    // create, so a file without one is read as the default driver's, json-file.
    let driver = log_config
        .and_then(|l| l.get("Type"))
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .unwrap_or("json-file")
        .to_string();
    let shown_dir = crate::text::escape(docker.dir.as_os_str().as_encoded_bytes());
    let shown_id = crate::text::escape(entry.id.as_bytes());
    let not_supported = || {
        // dockerd starts no logger for `none`, and a driver that cannot read back without its
        // cache answers the same: logger.ErrReadLogsNotSupported.
        crate::say!("Error response from daemon: configured logging driver does not support reading");
        Err(Failure::quiet(Outcome::No))
    };
    // Which files hold the entries, in which format, and how many max-file keeps when the
    // options do not say (json-file: 1; local and the cache: 5).
    let (current, local, default_files) = match driver.as_str() {
        "none" => return not_supported(),
        "json-file" => (docker.dir.join(format!("{}-json.log", docker.id)), false, 1),
        "local" => {
            let dir = docker.dir.join("local-logs");
            if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
                super::warn(format!(
                    "{}: a symlink, not followed",
                    crate::text::escape(dir.as_os_str().as_encoded_bytes())
                ));
                return Ok(outcome.worst(Outcome::Damaged));
            }
            (dir.join("container.log"), true, 5)
        }
        "journald" => {
            return Err(Failure::new(
                Outcome::No,
                format!(
                    "{shown_id}: log driver journald: dockerd reads its entries back from the node's journal, which coldctr does not read (journalctl -D <mount>/var/log/journal CONTAINER_ID_FULL={shown_id})"
                ),
            ));
        }
        _ => {
            // A driver dockerd cannot read back (syslog, gelf, fluentd...) had its entries
            // cached in the local format unless `cache-disabled` (Go's ParseBool) said not to;
            // a value ParseBool refuses disables it too.
            let cached = match option("cache-disabled").unwrap_or_default() {
                "" => true,
                "1" | "t" | "T" | "TRUE" | "true" | "True" => false,
                "0" | "f" | "F" | "FALSE" | "false" | "False" => true,
                _ => false,
            };
            if !cached {
                return not_supported();
            }
            let current = docker.dir.join("container-cached.log");
            let (paths, _) = logs::rotated_paths(&current, logs::max_files_or(option("max-file"), 5));
            if !paths.iter().any(|p| std::fs::symlink_metadata(p).is_ok()) {
                return Err(Failure::new(
                    Outcome::No,
                    format!(
                        "{shown_id}: log driver {}: no dual logging cache ({shown_dir}/container-cached.log): its entries went to the driver's destination only",
                        crate::text::escape(driver.as_bytes())
                    ),
                ));
            }
            (current, true, 5)
        }
    };
    // max-file as the container's log options hold it (dockerd writes its own defaults
    // there at create): which rotated files `docker logs` reads.
    let max_files = logs::max_files_or(option("max-file"), default_files);
    let (mut paths, beyond) = logs::rotated_paths(&current, max_files);
    for (dropped, kept) in logs::same_files(&mut paths) {
        let name = |p: &std::path::Path| crate::text::escape(p.as_os_str().as_encoded_bytes());
        super::warn(format!(
            "{}: the same file as {} (one file under two names, which log rotation does not leave); read once",
            name(&dropped),
            name(&kept)
        ));
        outcome = outcome.worst(Outcome::Damaged);
    }
    let asked = option("max-file").and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(asked) = asked.filter(|a| *a > u64::from(logs::MAX_ROTATED)) {
        // dockerd would look for every one; past this many, the rest are not looked for.
        super::warn(format!(
            "max-file {asked}: only the newest {} files are looked for; older rotated files, if any, are not read",
            logs::MAX_ROTATED
        ));
        outcome = outcome.worst(Outcome::Damaged);
    } else if !beyond.is_empty() {
        let names: Vec<String> = beyond
            .iter()
            .map(|p| crate::text::escape(p.as_os_str().as_encoded_bytes()))
            .collect();
        super::warn(format!(
            "rotated log files past max-file {max_files} are on disk and not what docker logs reads: {}",
            names.join(", ")
        ));
    }
    // Raw, as docker writes them, to a file or pipe; to a terminal, the data's control
    // characters and escape sequences escaped (newlines and tabs kept).
    let mut printer = Printer {
        out,
        stdout_tty: std::io::stdout().is_terminal(),
        stderr_tty: std::io::stderr().is_terminal(),
        timestamps: args.timestamps,
        details: args.details,
        last: None,
    };
    // dockerd reads nothing for --tail 0.
    if matches!(args.tail, Tail::Last(0)) {
        return Ok(outcome);
    }
    // dockerd opens the rotated files against --since as given, not as the window has
    // consumed it: a compressed file whose header says its last entry is before --since is
    // not read, as dockerd 23 and later skip it (its entries do not count toward --tail).
    let since = window.since;
    let passed_over = |path: &std::path::Path| {
        since.is_some_and(|since| {
            path.extension().is_some_and(|e| e == "gz") && logs::gz_last_time(path).is_some_and(|last| last < since)
        })
    };
    let tail: Option<u64> = match args.tail {
        Tail::All => None,
        Tail::Last(n) => Some(u64::try_from(n).unwrap_or(u64::MAX)),
    };
    let mut found = false;
    // --tail N, as dockerd 28 finds it: from the newest file back, each walked back from its
    // end until N are counted, then each read forward from where its walk stopped (dockerd
    // tails the files first; --since and --until then run over what is read). json-file
    // counts lines, newlines as dockerd's tailfile counts them, not entries (an empty line
    // counts, two entries on a line are one, what follows the last newline is not read), and
    // each file's part ends after its last newline. Local-format files count records, found
    // by their trailing lengths (every record walked over counts, whatever it holds); one whose
    // walk loses the framing is passed over whole (dockerd 28; 20.10 failed the request), and
    // older files are walked for the N instead. Each file's part: where it starts, and where it
    // ends (`None`: the file's end).
    let parts: Option<Vec<Option<Part>>> = match tail {
        Some(n) => {
            let mut parts = vec![None; paths.len()];
            let mut want = n;
            for (path, part) in paths.iter().zip(parts.iter_mut()).rev() {
                if want == 0 {
                    break;
                }
                if passed_over(path) {
                    continue;
                }
                if !local {
                    let (lines, read) = logs::json_tail_lines(path, want);
                    found |= !read.missing;
                    outcome = say_read(&mut printer, path, &read, outcome)?;
                    if let Some(t) = lines {
                        want = want.saturating_sub(t.found);
                        *part = Some((t.start, Some(t.end)));
                    }
                    continue;
                }
                let (walk, read) = logs::local_tail_start(path, want);
                found |= !read.missing;
                outcome = say_read(&mut printer, path, &read, outcome)?;
                match walk {
                    Some(TailWalk::From { start: at, found }) => {
                        want = want.saturating_sub(found);
                        *part = Some((at, None));
                    }
                    Some(TailWalk::Broken { offset, what }) => {
                        printer.flush().map_err(unwritten)?;
                        super::warn(format!(
                            "{}: byte {offset}: walking back from the end for --tail: {what}; the file is passed over, as dockerd passes it over for --tail",
                            crate::text::escape(path.as_os_str().as_encoded_bytes())
                        ));
                        outcome = outcome.worst(Outcome::Damaged);
                    }
                    None => {}
                }
            }
            Some(parts)
        }
        None => None,
    };
    let mut failed: Option<std::io::Error> = None;
    for (i, path) in paths.iter().enumerate() {
        if window.ended {
            // Past --until: dockerd reads no further.
            break;
        }
        if passed_over(path) {
            found = true;
            continue;
        }
        let (start, end) = match &parts {
            Some(parts) => match parts.get(i).copied().flatten() {
                Some(part) => part,
                None => continue,
            },
            None => (0, None),
        };
        let mut each = |e: logs::Entry| {
            if window.admits(&e)
                && let Err(err) = printer.print(&e)
            {
                failed = Some(err);
            }
            // Past --until, or a failed write: no further.
            !window.ended && failed.is_none()
        };
        let read = if local {
            logs::read_local_file_from(path, start, &mut each)
        } else {
            logs::read_json_section(path, start, end, &mut each)
        };
        if let Some(e) = failed.take() {
            return Err(unwritten(e));
        }
        found |= !read.missing;
        outcome = say_read(&mut printer, path, &read, outcome)?;
    }
    printer.flush().map_err(unwritten)?;
    if !found {
        // dockerd makes the file when the container is created: gone is damage of the store.
        super::warn(format!(
            "{shown_dir}: no {}: the log is gone",
            crate::text::escape(
                current
                    .strip_prefix(&docker.dir)
                    .unwrap_or(&current)
                    .as_os_str()
                    .as_encoded_bytes()
            )
        ));
        outcome = outcome.worst(Outcome::Damaged);
    }
    Ok(outcome)
}

/// Says what reading a file met, after what the log put on stdout so far: the outcome made
/// worse by it.
fn say_read(
    printer: &mut Printer<'_>,
    path: &std::path::Path,
    read: &logs::LogRead,
    mut outcome: Outcome,
) -> Result<Outcome, Failure> {
    for d in read.damage_said(path) {
        printer.flush().map_err(unwritten)?;
        super::warn(d);
        outcome = outcome.worst(Outcome::Damaged);
    }
    for u in &read.unreadable {
        printer.flush().map_err(unwritten)?;
        super::warn(u);
        outcome = outcome.worst(Outcome::Unreadable);
    }
    if let Some(note) = read.neither_said(path) {
        // Said, and no damage: dockerd reads such entries without fault.
        printer.flush().map_err(unwritten)?;
        super::warn(note);
    }
    Ok(outcome)
}

/// `--since` and `--until` as dockerd 28's log reader applies them: entries before `since`
/// are skipped until the first that is not (after it, none is: timestamps need not be
/// monotonic, and dockerd does not filter out later ones); the first entry after `until`
/// ends the output.
#[derive(Default)]
struct Window {
    since: Option<i128>,
    until: Option<i128>,
    ended: bool,
}

impl Window {
    fn admits(&mut self, e: &logs::Entry) -> bool {
        if self.ended {
            return false;
        }
        if let Some(since) = self.since {
            if e.at < since {
                return false;
            }
            self.since = None;
        }
        if self.until.is_some_and(|u| e.at > u) {
            self.ended = true;
            return false;
        }
        true
    }
}

/// Writes entries to the stream each was written to, in order: stdout is flushed before an
/// entry goes to stderr, so that `2>&1` keeps the log's order, as the docker CLI's unbuffered
/// writes keep it.
struct Printer<'o> {
    out: &'o mut dyn Write,
    stdout_tty: bool,
    stderr_tty: bool,
    timestamps: bool,
    details: bool,
    last: Option<Stream>,
}

impl Printer<'_> {
    fn print(&mut self, e: &logs::Entry) -> std::io::Result<()> {
        if e.stream == Stream::Neither {
            // dockerd's API writer sends it to neither stream.
            return Ok(());
        }
        if self.last == Some(Stream::Stdout) && e.stream == Stream::Stderr {
            self.out.flush()?;
        }
        self.last = Some(e.stream);
        let stderr = std::io::stderr();
        let mut err = stderr.lock();
        let (w, tty): (&mut dyn Write, bool) = match e.stream {
            Stream::Stderr => (&mut err, self.stderr_tty),
            _ => (&mut *self.out, self.stdout_tty),
        };
        if self.timestamps {
            write!(w, "{} ", e.time)?;
        }
        if self.details {
            // Always the space, after no attrs too, as dockerd writes it.
            let attrs = e.details();
            let attrs = if tty {
                crate::text::escape_hazards(&attrs).into_owned()
            } else {
                attrs
            };
            write!(w, "{attrs} ")?;
        }
        if tty {
            w.write_all(crate::text::escape_hazards_bytes(&e.line).as_bytes())
        } else {
            w.write_all(&e.line)
        }
    }

    /// Before coldctr's own words on stderr, what the log put on stdout goes out.
    fn flush(&mut self) -> std::io::Result<()> {
        self.last = None;
        self.out.flush()
    }
}

/// A log entry that could not be written, to stdout or to stderr (entries of the stderr
/// stream go there): the output is incomplete, exit 5, as for any output (sweep 37.10: a full
/// stderr said 4). A reader that went away (`| head`) is no failure.
fn unwritten(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Failure::quiet(Outcome::Ok);
    }
    Failure::new(Outcome::Unwritten, format!("writing the log: {e}"))
}

/// Where `--tail` reads a file: from this byte, to this one (`None`: the file's end).
type Part = (u64, Option<u64>);
