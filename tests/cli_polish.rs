//! Shell completions, the man page, the help's global-options heading and `--version`.

mod bolt_support;

use bolt_support::{coldctr, repo};
use std::process::{Command, Stdio};

const COMMANDS: [&str; 13] = [
    "bolt",
    "inspect",
    "gc",
    "du",
    "images",
    "content",
    "namespaces",
    "leases",
    "containers",
    "snapshots",
    "verify",
    "completions",
    "man",
];

/// Runs `program args` with `input` on stdin; None when the program is not installed.
fn pipe(program: &str, args: &[&str], input: &[u8]) -> Option<(bool, String, String)> {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("wait");
    let _ = writer.join();
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn completions_for_every_shell_name_every_command_and_global_flag() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = coldctr(&["completions", shell]);
        assert_eq!(run.code, Some(0), "{shell}: {}", run.stderr);
        let text = run.stdout_text();
        // Flags by their long names (fish writes `-l root`).
        for word in COMMANDS.iter().chain(&["root", "host-platform", "previous", "no-mmap"]) {
            assert!(text.contains(word), "{shell} completions lack {word}");
        }
    }
    // The bash script parses (bash is on every machine this runs on).
    let bash = coldctr(&["completions", "bash"]);
    if let Some((ok, _, err)) = pipe("bash", &["-n"], &bash.stdout) {
        assert!(ok, "bash -n: {err}");
    }
    let run = coldctr(&["completions", "tcsh"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn man_pages_are_roff_that_groff_reads() {
    let run = coldctr(&["man"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let roff = run.stdout_text();
    assert!(roff.contains(".TH coldctr 1"), "{roff}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(roff.contains(section), "no {section}");
    }
    for c in COMMANDS {
        assert!(roff.contains(&format!("coldctr\\-{c}(1)")), "main page lists no {c}");
    }
    // The exit codes, in the page and in --help: a rescue image has the binary, not the
    // README (sweep 29.6).
    let help = coldctr(&["--help"]).stdout_text();
    for text in [&roff, &help] {
        assert!(
            text.contains("Exit codes (every command; when several apply, the highest)"),
            "{text}"
        );
        for code in 0..=5 {
            assert!(text.contains(&format!("\n  {code}  ")), "no exit code {code}: {text}");
        }
    }
    // A command's own page, two levels down.
    let run = coldctr(&["man", "bolt", "dump"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let dump = run.stdout_text();
    assert!(dump.contains(".TH coldctr-bolt-dump 1"), "{dump}");
    // The program's name and version in the header, not the command's ("dump 0.1.0").
    let header = dump.lines().find(|l| l.starts_with(".TH")).unwrap_or_default();
    assert!(header.contains("\"coldctr 0.1.0"), "{header}");
    assert!(dump.contains("\\-\\-format"), "{dump}");
    // A global option given to man asks a question it does not answer: refused (sweep 29.4).
    let run = coldctr(&["-n", "moby", "man"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("has no use for --namespace"), "{}", run.stderr);
    let run = coldctr(&["--salvage", "completions", "bash"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("has no use for --salvage"), "{}", run.stderr);
    // A command that does not exist is a usage error, as `coldctr help no-such-command`.
    let run = coldctr(&["man", "no-such-command"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("no-such-command"), "{}", run.stderr);
    // groff reads it without a warning, when it is installed.
    if let Some((ok, text, err)) = pipe("groff", &["-man", "-Tutf8", "-ww"], roff.as_bytes()) {
        assert!(ok && err.is_empty(), "groff: {err}");
        assert!(text.contains("GLOBAL OPTIONS") || text.contains("G\u{8}GL"), "{text}");
    }
}

#[test]
fn help_lists_global_options_apart_from_the_command_s_own() {
    for args in [vec!["--help"], vec!["gc", "--help"], vec!["du", "-h"]] {
        let run = coldctr(&args);
        assert_eq!(run.code, Some(0), "{args:?}");
        let text = run.stdout_text();
        let heading = text
            .find("\nGlobal options:\n")
            .unwrap_or_else(|| panic!("{args:?}: no global heading\n{text}"));
        let (own, global) = text.split_at(heading);
        for flag in ["--root", "--namespace", "--no-mmap", "--previous", "--host-platform"] {
            assert!(global.contains(flag), "{args:?}: {flag} not under the global heading");
            assert!(!own.contains(flag), "{args:?}: {flag} among the command's own options");
        }
        if args[0] == "gc" {
            assert!(own.contains("--at") && own.contains("--model"), "{text}");
        }
    }
}

#[test]
fn version_names_the_commit() {
    let run = coldctr(&["--version"]);
    assert_eq!(run.code, Some(0));
    let line = run.stdout_text();
    let version = env!("CARGO_PKG_VERSION");
    let rest = line
        .trim_end()
        .strip_prefix(&format!("coldctr {version} (commit "))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{line:?}"));
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(repo())
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let top = git(&["rev-parse", "--show-toplevel"]).and_then(|t| std::fs::canonicalize(t).ok());
    if top.is_some() && top == std::fs::canonicalize(repo()).ok() {
        let head = git(&["rev-parse", "--short", "HEAD"]).expect("HEAD");
        let commit = rest.strip_suffix("-dirty").unwrap_or(rest);
        assert_eq!(commit, head, "{line:?}");
    } else {
        assert_eq!(rest, "unknown", "{line:?}");
    }
}

/// A command line that cannot be run as written is exit 2 (usage), as clap's own errors and
/// `coldctr help nosuch` are: a missing bucket path or key, a `--hex` name that is not hex, an
/// unknown command for `man` (these were 1, "the answer is no"). The man error names the
/// command as it is typed.
#[test]
fn command_lines_that_cannot_run_are_usage_errors() {
    let db = repo().join("fixtures/docker-28.5/io.containerd.metadata.v1.bolt/meta.db");
    let db = db.display().to_string();
    for args in [
        vec!["bolt", "keys", db.as_str()],
        vec!["bolt", "get", db.as_str()],
        vec!["bolt", "get", "--hex", db.as_str(), "7631", "zz"],
        vec!["man", "nosuch"],
        vec!["man", "bolt", "nosuch"],
    ] {
        let r = coldctr(&args);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("coldctr-"), "{args:?}: {}", r.stderr);
    }
    // What clap quotes of the command line is escaped like every other message: no escape
    // sequence, BEL or CR from a pasted value reaches the terminal (sweep 39, F6).
    for args in [
        vec!["images", "--bog\x1b]0;TITLE\x07us\r"],
        vec!["images", "--format"],
        vec!["--source-type", "\x1b[2J\r", "images"],
    ] {
        let r = coldctr(&args);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.stderr);
        assert!(
            !r.stderr.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{args:?}: {:?}",
            r.stderr
        );
    }
    assert!(coldctr(&["images", "--bogus\r"]).stderr.contains("'--bogus\\r'"));
    // Quoted as given, escaped, not stripped.
    let r = coldctr(&["--source-type", "\x1b[31mred\x07", "images"]);
    assert!(r.stderr.contains("'\\x1b[31mred\\x07'"), "{}", r.stderr);
    let r = coldctr(&["man", "bolt", "nosuch"]);
    assert!(r.stderr.contains("see `coldctr bolt --help`"), "{}", r.stderr);
    // Not found in a file that reads is still "no".
    let r = coldctr(&["bolt", "get", db.as_str(), "v1", "nosuch"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
}

/// A variable set to nothing is no value: `COLDCTR_ROOT=` beside `--root`, an empty
/// `COLDCTR_DOCKER_ROOT` for a command that does not use it, and `DOCKER_API_VERSION=` (the
/// docker CLI takes it as unset) leave the command line as it is (sweep 28.3: exit 2 each).
#[test]
fn empty_environment_variables_are_unset() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/docker-28.5");
    let db = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/docker-28.5/io.containerd.metadata.v1.bolt/meta.db"
    );
    for (var, args) in [
        ("COLDCTR_ROOT", &["--root", root, "namespaces"][..]),
        ("COLDCTR_DOCKER_ROOT", &["bolt", "info", db]),
        (
            "DOCKER_API_VERSION",
            &["--root", root, "-n", "moby", "inspect", "webapp:1.0"],
        ),
    ] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .args(args)
            .env(var, "")
            .output()
            .expect("run coldctr");
        assert_eq!(
            o.status.code(),
            Some(0),
            "{var}=: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// stdout a pipe inherited with O_NONBLOCK set, read slower than written: the output is whole,
/// exit 0 (sweep 28.5: cut at the pipe's 64 KiB, "Resource temporarily unavailable", exit 5).
#[test]
fn a_non_blocking_stdout_pipe_gets_the_whole_output() {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    let db = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/docker-28.5/io.containerd.metadata.v1.bolt/meta.db"
    );
    let whole = std::process::Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .args(["bolt", "dump", db])
        .output()
        .expect("run coldctr");
    assert!(whole.stdout.len() > 65536, "more than a pipe holds");
    let mut fds = [0i32; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just made and are owned here alone.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: a valid descriptor; F_GETFL/F_SETFL take and give flags.
    unsafe {
        let flags = libc::fcntl(fds[1], libc::F_GETFL);
        libc::fcntl(fds[1], libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .args(["bolt", "dump", db])
        .stdout(std::process::Stdio::from(write))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run coldctr");
    // A slow reader: the pipe fills first.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut got = Vec::new();
    std::fs::File::from(read).read_to_end(&mut got).expect("read");
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(got.len(), whole.stdout.len());
    assert!(got == whole.stdout);
}
