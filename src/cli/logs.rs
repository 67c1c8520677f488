//! `coldctr logs CONTAINER`: what `docker logs` prints for a Docker container, from the files
//! its log driver left on disk (`crate::containers::logs`): stdout entries on stdout, stderr
//! entries on stderr, each as written; `--timestamps` as docker's.

use super::context::Global;
use super::{Failure, Outcome};
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
    /// `--tail`: entries counted over both streams.
    #[arg(long, default_value = "all", value_parser = parse_tail, allow_negative_numbers = true)]
    pub tail: Tail,
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
            let mut message = format!("No such container: {}", crate::text::escape(arg.as_bytes()));
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
                    crate::text::escape(arg.as_bytes())
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
    let driver = (docker.hostconfig.as_ref())
        .and_then(|h| h.get("LogConfig"))
        .and_then(|l| l.get("Type"))
        .and_then(|t| t.as_str())
        .unwrap_or("json-file")
        .to_string();
    if driver == "none" {
        // dockerd starts no logger for `none` and answers with logger.ErrReadLogsNotSupported.
        crate::say!("Error response from daemon: configured logging driver does not support reading");
        return Err(Failure::quiet(Outcome::No));
    }
    if driver != "json-file" {
        // `local` writes local-logs/container.log; a driver dockerd cannot read back (syslog,
        // gelf...) gets the same format in container-cached.log unless its cache is disabled.
        let file = if driver == "local" {
            "local-logs/container.log"
        } else {
            "container-cached.log"
        };
        return Err(Failure::new(
            Outcome::No,
            format!(
                "{}: log driver {}: coldctr reads only json-file logs (this one's entries, in the `local` driver's format, are in {}/{file} when dockerd kept them)",
                crate::text::escape(entry.id.as_bytes()),
                crate::text::escape(driver.as_bytes()),
                crate::text::escape(docker.dir.as_os_str().as_encoded_bytes())
            ),
        ));
    }
    // max-file as the container's log options hold it (dockerd writes its own defaults
    // there at create): which rotated files `docker logs` reads.
    let max_files = logs::max_files(
        (docker.hostconfig.as_ref())
            .and_then(|h| h.get("LogConfig"))
            .and_then(|l| l.get("Config"))
            .and_then(|c| c.get("max-file"))
            .and_then(|m| m.as_str()),
    );
    let (paths, beyond) = logs::json_file_paths(&docker.dir, &docker.id, max_files);
    if !beyond.is_empty() {
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
        last: None,
    };
    // --tail keeps the last N entries only; without it each goes out as it is read.
    let mut tail = match args.tail {
        Tail::All => None,
        Tail::Last(n) => Some((n, std::collections::VecDeque::with_capacity(n.min(4096)))),
    };
    let mut failed: Option<std::io::Error> = None;
    let mut found = false;
    for path in &paths {
        let read = logs::read_json_file(path, &mut |e| match &mut tail {
            Some((n, kept)) if *n > 0 => {
                if kept.len() == *n {
                    kept.pop_front();
                }
                kept.push_back(e);
            }
            Some(_) => {}
            None if failed.is_none() => {
                if let Err(err) = printer.print(&e) {
                    failed = Some(err);
                }
            }
            None => {}
        });
        if let Some(e) = failed.take() {
            return Err(e.into());
        }
        found |= !read.missing;
        for d in &read.damaged {
            printer.flush()?;
            super::warn(d);
            outcome = outcome.worst(Outcome::Damaged);
        }
        for u in &read.unreadable {
            printer.flush()?;
            super::warn(u);
            outcome = outcome.worst(Outcome::Unreadable);
        }
    }
    if let Some((_, kept)) = tail {
        for e in &kept {
            printer.print(e)?;
        }
    }
    printer.flush()?;
    if !found {
        // dockerd makes the file when the container is created: gone is damage of the store.
        super::warn(format!(
            "{}: no {}-json.log: the log is gone",
            crate::text::escape(docker.dir.as_os_str().as_encoded_bytes()),
            docker.id
        ));
        outcome = outcome.worst(Outcome::Damaged);
    }
    Ok(outcome)
}

/// Writes entries to the stream each was written to, in order: stdout is flushed before an
/// entry goes to stderr, so that `2>&1` keeps the log's order, as the docker CLI's unbuffered
/// writes keep it.
struct Printer<'o> {
    out: &'o mut dyn Write,
    stdout_tty: bool,
    stderr_tty: bool,
    timestamps: bool,
    last: Option<Stream>,
}

impl Printer<'_> {
    fn print(&mut self, e: &logs::Entry) -> std::io::Result<()> {
        if self.last == Some(Stream::Stdout) && e.stream == Stream::Stderr {
            self.out.flush()?;
        }
        self.last = Some(e.stream);
        let stderr = std::io::stderr();
        let mut err = stderr.lock();
        let (w, tty): (&mut dyn Write, bool) = match e.stream {
            Stream::Stdout => (&mut *self.out, self.stdout_tty),
            Stream::Stderr => (&mut err, self.stderr_tty),
        };
        if self.timestamps {
            write!(w, "{} ", e.time)?;
        }
        if tty {
            w.write_all(crate::text::escape_hazards(&String::from_utf8_lossy(&e.line)).as_bytes())
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
