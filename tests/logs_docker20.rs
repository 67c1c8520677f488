//! `coldctr logs` on the containers of a real dockerd 20.10 (`fixtures/node-docker20-logs.tar.gz`):
//! the `local` driver (rotated and compressed, and not), dual logging's cache of a gelf
//! container, json-file with attrs; against what `docker logs` printed for each case
//! (`fixtures/expected/node-docker20-logs/`, made by `tools/lab/docker20-logs.sh`), byte for
//! byte: stdout, stderr and exit code. Then damaged copies of the local files: each damage is
//! named by file and byte offset, the rest printed, exit 3, no panic.

mod bolt_support;

use bolt_support::repo;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The node, unpacked into a temp dir: its data root.
fn unpack() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new("tar")
        .arg("-xzf")
        .arg(repo().join("fixtures/node-docker20-logs.tar.gz"))
        .arg("-C")
        .arg(dir.path())
        .output()
        .expect("run tar");
    assert!(out.status.success(), "tar: {}", String::from_utf8_lossy(&out.stderr));
    let docker = dir.path().join("docker");
    (dir, docker)
}

/// What one run printed, bytes as they are (the logs hold bytes that are not UTF-8).
struct Printed {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Printed {
    fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// `coldctr --root <data root>/containerd/daemon logs <args>`, in UTC as the captures were.
fn logs(docker: &Path, args: &[&str]) -> Printed {
    let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(docker.join("containerd/daemon"))
        .arg("logs")
        .args(args)
        .env("TZ", "UTC")
        .env_remove("COLDCTR_ROOT")
        .output()
        .expect("run coldctr");
    Printed {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

fn expected() -> PathBuf {
    repo().join("fixtures/expected/node-docker20-logs")
}

/// The container's directory in the unpacked store.
fn container_dir(docker: &Path, name: &str) -> PathBuf {
    for e in std::fs::read_dir(docker.join("containers")).unwrap() {
        let dir = e.unwrap().path();
        let config = std::fs::read_to_string(dir.join("config.v2.json")).unwrap();
        if config.contains(&format!("\"Name\":\"/{name}\"")) {
            return dir;
        }
    }
    panic!("no container {name}");
}

/// dockerd 20.10's local reader printed no newline after the last piece of a partial message
/// (dockerd 23 and later print it, and so does coldctr): the one line of the mixed script long
/// enough to be cut, 20,000 `a`s, ends in it. Taken out of coldctr's output for those cases.
fn as_dockerd_20_printed(name: &str, out: Vec<u8>) -> Vec<u8> {
    let local_format = name.starts_with("lg-local-") || name.starts_with("lg-gelf-");
    let needle = b"aaaa\n";
    match out.windows(needle.len()).position(|w| w == needle) {
        Some(at) if local_format => [&out[..at + 4], &out[at + 5..]].concat(),
        _ => out,
    }
}

/// Runs every case of `dir/cases.tsv` (name, docker's exit code, docker's arguments) and
/// compares with what docker printed (`dir/<name>.out`, `.err`), byte for byte; how many ran.
fn check_cases(docker: &Path, dir: &Path) -> usize {
    let cases = std::fs::read_to_string(dir.join("cases.tsv")).unwrap();
    let mut n = 0;
    for line in cases.lines() {
        let mut fields = line.split('\t');
        let name = fields.next().unwrap();
        let code: i32 = fields.next().unwrap().parse().unwrap();
        assert_eq!(fields.next(), Some("logs"), "{line}");
        let args: Vec<&str> = fields.collect();
        let r = logs(docker, &args);
        let want_out = std::fs::read(dir.join(format!("{name}.out"))).unwrap();
        let want_err = std::fs::read(dir.join(format!("{name}.err"))).unwrap();
        assert_eq!(r.code, Some(code), "{name}: {}", r.err());
        let got = as_dockerd_20_printed(name, r.stdout.clone());
        assert!(
            got == want_out,
            "{name}: stdout differs:\n{}\n---- docker printed ----\n{}",
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want_out)
        );
        assert!(
            r.stderr == want_err,
            "{name}: stderr differs:\n{}\n---- docker printed ----\n{}",
            r.err(),
            String::from_utf8_lossy(&want_err)
        );
        n += 1;
    }
    n
}

#[test]
fn every_case_prints_what_docker_logs_printed() {
    let (_tmp, docker) = unpack();
    let n = check_cases(&docker, &expected());
    assert!(n >= 90, "{n} cases");
}

/// json-file lines dockerd writes no such way, which Go's encoding/json still reads (keys in
/// another case, a key twice, no log, no time, nulls, invalid UTF-8, lone surrogate escapes):
/// put in lg-json's log, against what a real dockerd 20.10 printed of the same file
/// (`fixtures/expected/node-docker20-json-go/`, made by `tools/lab/docker20-json-go.sh`).
#[test]
fn json_lines_go_reads_print_as_docker_logs_printed_them() {
    let (_tmp, docker) = unpack();
    let dir = repo().join("fixtures/expected/node-docker20-json-go");
    put_json_log(&docker, &dir);
    let n = check_cases(&docker, &dir);
    assert!(n >= 8, "{n} cases");
}

/// The same instant written in each form docker takes selects the same entries.
#[test]
fn every_form_of_a_time_selects_the_same_entries() {
    let (_tmp, docker) = unpack();
    let want = std::fs::read(expected().join("lg-json-since-exact.out")).unwrap();
    let cases = std::fs::read_to_string(expected().join("cases.tsv")).unwrap();
    let since = cases
        .lines()
        .find(|l| l.starts_with("lg-json-since-exact\t"))
        .and_then(|l| l.split('\t').nth(5))
        .unwrap()
        .to_string();
    // 2026-12-05T09:33:4x.xxxxxxxxxZ as +01:00, without a zone (this machine's: UTC here).
    let plus_one = format!(
        "{}{:02}{}+01:00",
        &since[..11],
        (since[11..13].parse::<u32>().unwrap() + 1) % 24,
        &since[13..since.len() - 1]
    );
    for form in [since.clone(), plus_one, since[..since.len() - 1].to_string()] {
        let r = logs(&docker, &["-t", "--since", &form, "lg-json"]);
        assert_eq!(r.code, Some(0), "{form}: {}", r.err());
        assert_eq!(r.stdout, want, "{form}");
    }
    // The window is empty before the first entry, whole from long before.
    let r = logs(&docker, &["--until", "2000-01-01", "lg-json"]);
    assert_eq!((r.code, r.stdout.len(), r.stderr.len()), (Some(0), 0, 0));
    let r = logs(&docker, &["--since", "946684800", "lg-json"]);
    assert_eq!(r.stdout, std::fs::read(expected().join("lg-json-plain.out")).unwrap());
}

/// The local file of lg-local, and the bytes of its records: (offset, length) each.
fn records(file: &Path) -> (Vec<u8>, Vec<(usize, usize)>) {
    let bytes = std::fs::read(file).unwrap();
    let mut at = 0;
    let mut out = Vec::new();
    while at + 4 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        out.push((at, len + 8));
        at += len + 8;
    }
    assert_eq!(at, bytes.len());
    (bytes, out)
}

#[test]
fn a_damaged_local_log_is_said_where_and_the_rest_printed() {
    let (_tmp, docker) = unpack();
    let file = container_dir(&docker, "lg-local").join("local-logs/container.log");
    let (intact, recs) = records(&file);
    assert!(recs.len() >= 8, "{} records", recs.len());
    let whole = logs(&docker, &["lg-local"]);
    assert_eq!(whole.code, Some(0));

    // Cut short in its last record (a node stopped mid-write): the rest printed, the cut named.
    let (last_at, last_len) = *recs.last().unwrap();
    std::fs::write(&file, &intact[..last_at + last_len - 3]).unwrap();
    let r = logs(&docker, &["lg-local"]);
    assert_eq!(r.code, Some(3), "{}", r.err());
    assert!(
        r.err().contains(&format!(
            "container.log: byte {last_at}: a record of {} bytes is cut short",
            last_len - 8
        )),
        "{}",
        r.err()
    );
    assert!(r.stdout.starts_with(b"first line on stdout\n"));

    // A length past dockerd's maximum: refused before anything is allocated for it; the
    // records before it printed, the rest of the file named as not read.
    let (third_at, _) = recs[2];
    let mut huge = intact.clone();
    huge[third_at..third_at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    std::fs::write(&file, &huge).unwrap();
    let r = logs(&docker, &["lg-local"]);
    assert_eq!(r.code, Some(3), "{}", r.err());
    assert!(
        r.err().contains(&format!(
            "byte {third_at}: a record's length is 4294967295, past the 1000000"
        )),
        "{}",
        r.err()
    );
    assert!(r.err().contains("first line on stderr"), "{}", r.err());

    // Header and footer that disagree: the framing is lost there.
    let mut odd = intact.clone();
    odd[third_at + 3] ^= 0x01;
    std::fs::write(&file, &odd).unwrap();
    let r = logs(&docker, &["lg-local"]);
    assert_eq!(r.code, Some(3), "{}", r.err());
    assert!(r.err().contains(&format!("byte {third_at}: ")), "{}", r.err());

    // A frame that holds around bytes that are no LogEntry: that record skipped, the rest read.
    let mut garbled = intact.clone();
    garbled[third_at + 4] = 0xff;
    std::fs::write(&file, &garbled).unwrap();
    let r = logs(&docker, &["lg-local"]);
    assert_eq!(r.code, Some(3), "{}", r.err());
    assert!(
        r.err().contains(&format!("byte {third_at}: a record of ")) && r.err().contains("skipped"),
        "{}",
        r.err()
    );
    assert!(
        r.stdout.ends_with(b"no trailing newline"),
        "{}",
        String::from_utf8_lossy(&r.stdout)
    );

    // A symlink in the log's place, and in the local-logs directory's: not followed.
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &file).unwrap();
    let r = logs(&docker, &["lg-local"]);
    assert_eq!(r.code, Some(3), "{}", r.err());
    assert!(
        r.err().contains("container.log: a symlink, not followed"),
        "{}",
        r.err()
    );
    assert!(!r.err().contains("root:") && r.stdout.is_empty());
    // A FIFO there: looked at, never opened (nor is a device node, which on a disk mounted
    // without nodev can act when opened).
    std::fs::remove_file(&file).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&file)
            .status()
            .unwrap()
            .success()
    );
    let r = logs(&docker, &["lg-local"]);
    assert_eq!(r.code, Some(3), "{}", r.err());
    assert!(
        r.err().contains("container.log: a fifo (not opened), not a log file"),
        "{}",
        r.err()
    );
    let dir = file.parent().unwrap();
    let moved = dir.with_file_name("elsewhere");
    std::fs::rename(dir, &moved).unwrap();
    std::fs::remove_file(moved.join("container.log")).unwrap();
    std::fs::write(moved.join("container.log"), &intact).unwrap();
    std::os::unix::fs::symlink(&moved, dir).unwrap();
    let r = logs(&docker, &["lg-local"]);
    assert_eq!(r.code, Some(3), "{}", r.err());
    assert!(r.err().contains("local-logs: a symlink, not followed"), "{}", r.err());
    assert!(r.stdout.is_empty());

    // Gone: said, exit 3.
    std::fs::remove_file(dir).unwrap();
    let r = logs(&docker, &["lg-local"]);
    assert_eq!(r.code, Some(3), "{}", r.err());
    assert!(
        r.err().contains("no local-logs/container.log: the log is gone"),
        "{}",
        r.err()
    );
}

#[test]
fn a_bad_gz_is_named_and_the_other_files_read() {
    let (_tmp, docker) = unpack();
    let dir = container_dir(&docker, "lg-rot").join("local-logs");
    let whole = logs(&docker, &["lg-rot"]);
    assert_eq!(whole.code, Some(0));
    // The oldest rotated file's deflate stream spoiled halfway.
    let gz = dir.join("container.log.2.gz");
    let mut bytes = std::fs::read(&gz).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 8] {
        *b ^= 0x5a;
    }
    std::fs::write(&gz, &bytes).unwrap();
    let r = logs(&docker, &["lg-rot"]);
    assert_eq!(r.code, Some(3), "{}", r.err());
    assert!(
        r.err().contains("container.log.2.gz: byte ") && r.err().contains("of what it decompresses to"),
        "{}",
        r.err()
    );
    // The newer files are all there.
    let text = String::from_utf8_lossy(&r.stdout).into_owned();
    assert!(
        text.ends_with("line 60 of 60, padded to be some forty bytes\n"),
        "{text}"
    );
    let intact = String::from_utf8_lossy(&whole.stdout).into_owned();
    let newer: Vec<&str> = intact.lines().collect();
    for l in &newer[newer.len() - 15..] {
        assert!(text.contains(l), "{l} not printed: {text}");
    }
    // Not gzip at all.
    std::fs::write(&gz, b"not gzip").unwrap();
    let r = logs(&docker, &["lg-rot"]);
    assert_eq!(r.code, Some(3), "{}", r.err());
    assert!(r.err().contains("container.log.2.gz: byte 0"), "{}", r.err());
}

/// One file under two names (a hard link, which rotation never leaves: a hostile disk can link
/// one huge file under every rotated name) is read once, and said (sweep 39, F3).
#[test]
fn a_file_under_two_rotated_names_is_read_once() {
    let (_tmp, docker) = unpack();
    let dir = container_dir(&docker, "lg-local").join("local-logs");
    let whole = logs(&docker, &["lg-local"]);
    assert_eq!(whole.code, Some(0), "{}", whole.err());
    let tail = logs(&docker, &["--tail", "3", "lg-local"]);
    for n in 1..=4 {
        std::fs::hard_link(dir.join("container.log"), dir.join(format!("container.log.{n}"))).unwrap();
    }
    let r = logs(&docker, &["lg-local"]);
    assert_eq!(r.code, Some(3), "{}", r.err());
    assert_eq!(r.stdout, whole.stdout);
    for n in 1..=4 {
        assert!(
            r.err().contains(&format!(
                "container.log.{n}: the same file as {}",
                dir.join("container.log").display()
            )),
            "{}",
            r.err()
        );
    }
    let r = logs(&docker, &["--tail", "3", "lg-local"]);
    assert_eq!(r.stdout, tail.stdout);
    assert_eq!(r.code, Some(3), "{}", r.err());
}

/// A gelf container's cache that is gone is said, not damage (dockerd may never have made
/// one: the container's driver never started); a journald one names where its entries are.
#[test]
fn drivers_without_a_readable_cache_are_named() {
    let (_tmp, docker) = unpack();
    let dir = container_dir(&docker, "lg-gelf");
    std::fs::remove_file(dir.join("container-cached.log")).unwrap();
    let r = logs(&docker, &["lg-gelf"]);
    assert_eq!(r.code, Some(1), "{}", r.err());
    assert!(
        r.err().contains("log driver gelf: no dual logging cache") && r.err().contains("container-cached.log"),
        "{}",
        r.err()
    );
    let hostconfig = dir.join("hostconfig.json");
    let text = std::fs::read_to_string(&hostconfig).unwrap();
    assert!(text.contains(r#""Type":"gelf""#));
    std::fs::write(&hostconfig, text.replace(r#""Type":"gelf""#, r#""Type":"journald""#)).unwrap();
    let r = logs(&docker, &["lg-gelf"]);
    assert_eq!(r.code, Some(1), "{}", r.err());
    assert!(r.err().contains("journal"), "{}", r.err());
}

/// A rotated `.gz` whose gzip header says its last entry is before `--since` is not read, as
/// dockerd 23 and later skip it; Go's zero time there, or no such header, and it is read.
#[test]
fn a_compressed_file_ending_before_since_is_skipped_as_dockerd_skips_it() {
    use std::io::{Read, Write};
    let (_tmp, docker) = unpack();
    let dir = container_dir(&docker, "lg-json-rot");
    let gz = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-json.log.1.gz"))
        .unwrap();
    let mut content = Vec::new();
    flate2::read::GzDecoder::new(&std::fs::read(&gz).unwrap()[..])
        .read_to_end(&mut content)
        .unwrap();
    let first = String::from_utf8_lossy(&content).lines().next().unwrap().to_string();
    let rewrite = |extra: &[u8]| {
        let mut enc = flate2::GzBuilder::new()
            .extra(extra.to_vec())
            .write(Vec::new(), flate2::Compression::default());
        enc.write_all(&content).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    };
    // The whole log's first time: every entry is at or after it.
    let all = logs(&docker, &["-t", "lg-json-rot"]);
    let since = String::from_utf8_lossy(&all.stdout)
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let entry = |r: &Printed| String::from_utf8_lossy(&r.stdout).contains(&first[8..30]);
    // The header as dockerd wrote it (its true last time): read.
    let r = logs(&docker, &["-t", "--since", &since, "lg-json-rot"]);
    assert_eq!(r.stdout, all.stdout, "{}", r.err());
    // A last time before --since: not read, though its entries are after it.
    rewrite(br#"{"lastTime":"2000-01-01T00:00:00Z"}"#);
    let r = logs(&docker, &["-t", "--since", &since, "lg-json-rot"]);
    assert_eq!(r.code, Some(0), "{}", r.err());
    assert!(
        !entry(&r) && r.stdout.len() < all.stdout.len(),
        "{}",
        String::from_utf8_lossy(&r.stdout)
    );
    // Without --since it is read all the same.
    assert_eq!(logs(&docker, &["-t", "lg-json-rot"]).stdout, all.stdout);
    // Go's zero time, a header that is no JSON, no extra field: read.
    for extra in [&br#"{"lastTime":"0001-01-01T00:00:00Z"}"#[..], b"{not json", b""] {
        rewrite(extra);
        let r = logs(&docker, &["-t", "--since", &since, "lg-json-rot"]);
        assert_eq!(r.stdout, all.stdout, "{}", String::from_utf8_lossy(extra));
    }
}

/// Sweep 37: a footer unlike its header is read by the header, as dockerd's forward reader
/// reads (37.4); a file of millions of bad records names the first hundred and counts the
/// rest, never holding them (37.1; a file of zeros, once such a flood, is empty records dockerd
/// reads as entries of neither stream, said in one line); `--tail` is the same entries whatever it costs to find
/// them (37.2: it no longer holds N entries).
#[test]
fn sweep_37_footers_floods_and_tails() {
    let (_tmp, docker) = unpack();
    let file = container_dir(&docker, "lg-local").join("local-logs/container.log");
    let (intact, recs) = records(&file);
    let whole = logs(&docker, &["lg-local"]);
    assert_eq!(whole.code, Some(0));

    // The third record's footer off by one: every entry printed, the footer said.
    let (third_at, third_len) = recs[2];
    let mut odd = intact.clone();
    odd[third_at + third_len - 1] ^= 0x01;
    std::fs::write(&file, &odd).unwrap();
    let r = logs(&docker, &["lg-local"]);
    assert_eq!(r.code, Some(3), "{}", r.err());
    assert_eq!(r.stdout, whole.stdout);
    assert!(
        r.err().contains(&format!("byte {third_at}: a record's length is")) && r.err().contains("at its end"),
        "{}",
        r.err()
    );

    // 64 KiB of zeros: 8,192 empty records, entries of neither stream dockerd reads without
    // fault and prints nothing of: said once, not one line each.
    std::fs::write(&file, vec![0u8; 64 << 10]).unwrap();
    let r = logs(&docker, &["lg-local"]);
    assert_eq!((r.code, r.stdout.as_slice()), (Some(0), &b""[..]), "{}", r.err());
    assert_eq!(r.err().lines().count(), 1, "{}", r.err());
    assert!(
        r.err()
            .contains("container.log: 8192 entries of neither stdout nor stderr (the first at byte 0)"),
        "{}",
        r.err()
    );
    // 7,281 records of one byte that is no LogEntry: the first hundred named, the rest counted.
    let bad_record = [0u8, 0, 0, 1, 0xff, 0, 0, 0, 1];
    std::fs::write(&file, bad_record.repeat(7281)).unwrap();
    let r = logs(&docker, &["lg-local"]);
    assert_eq!(r.code, Some(3));
    let said = r.err().lines().filter(|l| l.contains("container.log: byte ")).count();
    assert_eq!(said, 100, "{}", r.err());
    assert!(
        r.err().contains("7181 more lines or records that are no log entry"),
        "{}",
        r.err()
    );

    // --tail over rotated files: the last entries of all of them, in order.
    std::fs::write(&file, &intact).unwrap();
    for n in ["1", "3", "1000"] {
        let r = logs(&docker, &["--tail", n, "lg-rot"]);
        let all = logs(&docker, &["lg-rot"]);
        assert_eq!(r.code, all.code, "{}", r.err());
        let want: Vec<&str> = {
            let text = std::str::from_utf8(&all.stdout).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let k = n.parse::<usize>().unwrap().min(lines.len());
            lines[lines.len() - k..].to_vec()
        };
        let got: Vec<&str> = std::str::from_utf8(&r.stdout).unwrap().lines().collect();
        // stdout alone: a tail of both streams may hold stderr entries too, so ours is a
        // suffix of the stdout lines.
        assert!(want.ends_with(&got), "--tail {n}: {got:?} of {want:?}");
    }
}

/// `--tail` over a `local` file whose framing breaks mid-file (a length past dockerd's maximum,
/// then eight zero bytes, between the second and third of four entries): dockerd walks back from
/// the end by the records' trailing lengths, so it tails the entries after the break, and the
/// zero bytes read backwards as an empty record, which counts and prints nothing. Against what a
/// real dockerd 20.10 printed (`fixtures/expected/node-docker20-local-tail/`, made by
/// `tools/lab/docker20-local-tail.sh`); where the walk reaches the break, dockerd 20.10 failed
/// the request and 23 and later pass over the file (`getTailFiles`), which coldctr does: the
/// older files are tailed instead, a `.gz` one decompressed to walk back through.
#[test]
fn local_tail_walks_back_from_the_end_as_dockerd_does() {
    let (_tmp, docker) = unpack();
    let dir = repo().join("fixtures/expected/node-docker20-local-tail");
    let logs_dir = container_dir(&docker, "lg-local").join("local-logs");
    let crafted = std::fs::read(dir.join("container.log")).unwrap();
    std::fs::write(logs_dir.join("container.log"), &crafted).unwrap();
    // The empty record docker prints nothing of, coldctr says (an entry of neither stream,
    // no damage).
    let empty_said = format!(
        "coldctr: {}: 1 entry of neither stdout nor stderr (the first at byte 66), which docker logs reads and prints nothing of\n",
        logs_dir.join("container.log").display()
    );
    let cases = std::fs::read_to_string(dir.join("cases.tsv")).unwrap();
    let mut n = 0;
    for line in cases.lines() {
        let mut fields = line.split('\t');
        let name = fields.next().unwrap();
        let code: i32 = fields.next().unwrap().parse().unwrap();
        assert_eq!((code, fields.next()), (0, Some("logs")), "{line}");
        let args: Vec<&str> = fields.collect();
        let r = logs(&docker, &args);
        let want_out = std::fs::read(dir.join(format!("{name}.out"))).unwrap();
        let mut want_err = std::fs::read(dir.join(format!("{name}.err"))).unwrap();
        let reaches_empty = name.contains("tail3");
        if reaches_empty {
            want_err.extend_from_slice(empty_said.as_bytes());
        }
        assert_eq!(r.code, Some(0), "{name}: {}", r.err());
        assert_eq!(
            String::from_utf8_lossy(&r.stdout),
            String::from_utf8_lossy(&want_out),
            "{name}"
        );
        assert_eq!(r.err(), String::from_utf8_lossy(&want_err), "{name}");
        n += 1;
    }
    assert!(n >= 7, "{n} cases");

    // The walk reaches the break: the file is passed over, said where.
    let r = logs(&docker, &["--tail", "4", "lg-local"]);
    assert_eq!((r.code, r.stdout.as_slice()), (Some(3), &b""[..]), "{}", r.err());
    assert!(
        r.err().contains("container.log: byte 62: walking back from the end for --tail: a record's length at its end is 1000001, more than the file holds before it; the file is passed over"),
        "{}",
        r.err()
    );
    // ... and the older files are tailed for the four: an intact rotated one, read whole.
    let rotated = [
        &crafted[..31],   // one
        &crafted[31..62], // two
    ]
    .concat();
    std::fs::write(logs_dir.join("container.log.1"), &rotated).unwrap();
    let r = logs(&docker, &["--tail", "4", "lg-local"]);
    assert_eq!((r.code, r.stdout.as_slice()), (Some(3), &b"one\n"[..]), "{}", r.err());
    // (the walk's word on the file comes before any entry is read)
    assert!(
        r.err().ends_with("as dockerd passes it over for --tail\ntwo\n"),
        "{}",
        r.err()
    );
    // Reached before the break, the older file is not read.
    let r = logs(&docker, &["--tail", "2", "lg-local"]);
    assert_eq!(
        (r.code, r.stdout.as_slice(), r.err().as_str()),
        (Some(0), &b"three\n"[..], "four\n")
    );
    std::fs::remove_file(logs_dir.join("container.log.1")).unwrap();

    // A rotated `.gz` is walked back through as dockerd walks the file it decompresses to.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &crafted).unwrap();
    std::fs::write(logs_dir.join("container.log.1.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(logs_dir.join("container.log"), &rotated[..31]).unwrap();
    let r = logs(&docker, &["--tail", "3", "lg-local"]);
    assert_eq!(
        (r.code, r.stdout.as_slice()),
        (Some(0), &b"three\none\n"[..]),
        "{}",
        r.err()
    );
    assert_eq!(r.err(), "four\n");
    std::fs::remove_file(logs_dir.join("container.log.1.gz")).unwrap();

    // A file past the 4 GiB coldctr reads of one (sparse: zeros, then the last record): the
    // walk starts at its end, and the bound counts from where the tail starts.
    let big = std::fs::File::create(logs_dir.join("container.log")).unwrap();
    let last = &crafted[107..];
    let size = (5u64 << 30) + last.len() as u64;
    big.set_len(size).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&big, last, size - last.len() as u64).unwrap();
    drop(big);
    let r = logs(&docker, &["--tail", "1", "lg-local"]);
    assert_eq!((r.code, r.err().as_str()), (Some(0), "four\n"));
}

/// `--since` and `--until` at the edges, as docker 28's CLI (GetTimestamp, Go 1.24) and
/// dockerd (ParseTimestamps, then time.Unix) read them: zone offsets past Go's range (an hour
/// over 24, a minute over 60) refused in the CLI's words, 24 hours and 60 minutes taken;
/// Unix seconds near 2^63, which time.Unix wraps past year 1 (long before every entry, or long
/// after); Go's zero time, which dockerd takes for no bound; and the words of the errors for
/// values the CLI refuses (Go's time.quote, \xNN past ASCII). Against what docker 28.2.2's CLI
/// printed with a real dockerd 20.10.24 reading the same json-file log (an entry without a
/// time, then two with), `fixtures/expected/node-docker20-cli28-times/`, made by
/// `tools/lab/docker20-cli28-times.sh`.
#[test]
fn edge_times_are_read_as_docker_28_reads_them() {
    let (_tmp, docker) = unpack();
    let dir = repo().join("fixtures/expected/node-docker20-cli28-times");
    put_json_log(&docker, &dir);
    let n = check_cases(&docker, &dir);
    assert!(n >= 53, "{n} cases");
}

/// `local` records holding protobuf corners dockerd's writer never makes but the gogo-generated
/// `LogEntry.Unmarshal` reads: a field number past 2^32 (cut to an int32: 2^32 + 3 is the
/// line), an unknown field's groups (skipped, nested too), `partial_log_metadata` twice (merged:
/// the first's `last` stands), a ten-byte varint whose last byte carries bits past 64
/// (dropped: the time is -1 ns), a source and a time given twice (the last wins). Against what
/// a real dockerd 20.10 printed of the same file (`fixtures/expected/node-docker20-local-proto/`,
/// made by `tools/lab/docker20-local-proto.sh`).
#[test]
fn local_records_decode_as_dockerd_s_protobuf_code_decodes_them() {
    let (_tmp, docker) = unpack();
    let dir = repo().join("fixtures/expected/node-docker20-local-proto");
    let logs_dir = container_dir(&docker, "lg-local").join("local-logs");
    std::fs::copy(dir.join("container.log"), logs_dir.join("container.log")).unwrap();
    let cases = std::fs::read_to_string(dir.join("cases.tsv")).unwrap();
    let mut n = 0;
    for line in cases.lines() {
        let mut fields = line.split('\t');
        let name = fields.next().unwrap();
        let code: i32 = fields.next().unwrap().parse().unwrap();
        assert_eq!(fields.next(), Some("logs"), "{line}");
        let args: Vec<&str> = fields.collect();
        let r = logs(&docker, &args);
        assert_eq!(r.code, Some(code), "{name}: {}", r.err());
        let got = String::from_utf8(r.stdout.clone()).unwrap();
        if !args.contains(&"--tail") {
            // The last piece of a partial message ends its line (dockerd 23 and later; the
            // merged metadata says `last`), one before it does not.
            assert!(
                got.contains("piece\n") && got.contains("part-") && !got.contains("part-\n"),
                "{got}"
            );
        }
        // dockerd 20.10 printed no newline after a last piece in the local format.
        let got = got.replace("piece\n", "piece").replace("end\n", "end");
        let want_out = std::fs::read_to_string(dir.join(format!("{name}.out"))).unwrap();
        let want_err = std::fs::read_to_string(dir.join(format!("{name}.err"))).unwrap();
        assert_eq!(got, want_out, "{name}");
        assert_eq!(r.err(), want_err, "{name}");
        n += 1;
    }
    assert!(n >= 3, "{n} cases");
}

/// What coldctr adds to what docker printed for a case: its lines on stderr (each `coldctr: `
/// and the log's path, then the text given), before docker's stderr or after it, and its exit
/// code when not docker's (3: damage said).
#[derive(Default)]
struct Added {
    lines: Vec<String>,
    before: bool,
    code: Option<i32>,
}

/// `dir`'s crafted `container-json.log` put in place of lg-json's log (dockerd reads the file as
/// it is each time); the log's path.
fn put_json_log(docker: &Path, dir: &Path) -> PathBuf {
    let log = container_dir(docker, "lg-json");
    let id = log.file_name().unwrap().to_str().unwrap().to_string();
    let file = log.join(format!("{id}-json.log"));
    std::fs::copy(dir.join("container-json.log"), &file).unwrap();
    file
}

/// Runs every case of `dir/cases.tsv` (but those `skip` names) with `dir/container-json.log`
/// in lg-json's log, and compares with what docker printed, byte for byte, with what
/// `added` says coldctr adds for the case (by its name).
fn check_json_cases(dir: &Path, skip: &dyn Fn(&str) -> bool, added: &dyn Fn(&str) -> Added) -> usize {
    let (_tmp, docker) = unpack();
    let file = put_json_log(&docker, dir);
    let cases = std::fs::read_to_string(dir.join("cases.tsv")).unwrap();
    let mut n = 0;
    for line in cases.lines() {
        let mut fields = line.split('\t');
        let name = fields.next().unwrap();
        if skip(name) {
            continue;
        }
        let code: i32 = fields.next().unwrap().parse().unwrap();
        assert_eq!(fields.next(), Some("logs"), "{line}");
        let args: Vec<&str> = fields.collect();
        let r = logs(&docker, &args);
        let want_out = std::fs::read(dir.join(format!("{name}.out"))).unwrap();
        let docker_err = std::fs::read(dir.join(format!("{name}.err"))).unwrap();
        let add = added(name);
        let ours: Vec<u8> = add
            .lines
            .iter()
            .flat_map(|l| format!("coldctr: {}: {l}\n", file.display()).into_bytes())
            .collect();
        let want_err = if add.before {
            [ours, docker_err].concat()
        } else {
            [docker_err, ours].concat()
        };
        assert_eq!(r.code, Some(add.code.unwrap_or(code)), "{name}: {}", r.err());
        assert_eq!(
            String::from_utf8_lossy(&r.stdout),
            String::from_utf8_lossy(&want_out),
            "{name}"
        );
        assert_eq!(r.err(), String::from_utf8_lossy(&want_err), "{name}");
        n += 1;
    }
    n
}

/// coldctr's line on the entries of neither stream it read of a file.
fn neither(n: u64, at: u64) -> String {
    let entries = if n == 1 { "entry" } else { "entries" };
    format!(
        "{n} {entries} of neither stdout nor stderr (the first at byte {at}), which docker logs reads and prints nothing of"
    )
}

/// json-file entries of neither stdout nor stderr (`"stream":"tty"`, no stream, `""`): dockerd
/// reads them, counts them for `--tail`, lets them end `--until` (the `tty` entry at :30 ends
/// the output before `e` at :17), and its API writer sends them to neither stream; against what
/// a real dockerd 20.10 printed (`fixtures/expected/node-docker20-json-nostream/`, made by
/// `tools/lab/docker20-json-crafted.sh`). coldctr says once which of what it read were such
/// entries (no damage: exit 0).
#[test]
fn entries_of_neither_stream_print_nothing_and_count_as_dockerd_counts_them() {
    let dir = repo().join("fixtures/expected/node-docker20-json-nostream");
    let added = |name: &str| {
        // What was read: --tail reads from where dockerd's count of lines starts.
        let (n, at) = match name {
            "tail1" | "tail2" => (1, 227),
            "until" => (1, 62),
            "tail3" => (2, 121),
            _ => (3, 62),
        };
        Added {
            lines: vec![neither(n, at)],
            ..Added::default()
        }
    };
    let n = check_json_cases(&dir, &|_| false, &added);
    assert!(n >= 7, "{n} cases");
}

/// A json-file log read as the JSON stream dockerd decodes (Go's json.Decoder over the file):
/// two objects on a line, one over two lines, a `null` between (an entry of neither stream),
/// then an object cut short whose next line starts the next object (a syntax error at that
/// `{`); dockerd reads no further in the file, and coldctr reads on from the line after that
/// byte: `f`, on the line the break is found on, is not printed either. Against what a
/// real dockerd 20.10 printed (`fixtures/expected/node-docker20-json-stream/`, made by
/// `tools/lab/docker20-json-crafted.sh`); under 512 bytes, so 20.10's retry (a new decoder where
/// its reader had got to: the file's end) and 28's stop agree. coldctr says where the log
/// breaks (exit 3).
#[test]
fn a_json_file_log_is_read_as_the_json_stream_dockerd_decodes() {
    let dir = repo().join("fixtures/expected/node-docker20-json-stream");
    let at_e = "not a log entry: '{' after an object key:value pair at byte 317; read on from the line after that byte (dockerd 28 reads no further in this file)";
    let not_object = "not a log entry: invalid type: string \"stream\", expected a JSON object at line 1 column 8; skipped (dockerd 28 reads no further in this file, 20.10 skipped it too)";
    let colon = "not a log entry: ':' where a value starts at byte 147; read on from the line after that byte (dockerd 28 reads no further in this file)";
    let added = |name: &str| match name {
        "until" => Added {
            lines: vec![neither(1, 189)],
            ..Added::default()
        },
        "tail1" => Added::default(),
        "tail2" => Added {
            lines: vec![format!("byte 256: {at_e}")],
            code: Some(3),
            ..Added::default()
        },
        "tail3" => Added {
            lines: vec![
                format!("byte 139: {not_object}"),
                format!("byte 147: {colon}"),
                format!("byte 256: {at_e}"),
            ],
            code: Some(3),
            ..Added::default()
        },
        "tail4" => Added {
            lines: vec![format!("byte 256: {at_e}"), neither(1, 189)],
            code: Some(3),
            ..Added::default()
        },
        _ => Added {
            lines: vec![format!("line 4 (byte 256): {at_e}"), neither(1, 189)],
            code: Some(3),
            ..Added::default()
        },
    };
    let n = check_json_cases(&dir, &|_| false, &added);
    assert!(n >= 7, "{n} cases");
}

/// An object Go's decoder reads whole but cannot decode (`"log":5`, a `time` that is no time):
/// dockerd 20.10 retried with the same decoder, so it skipped the object and printed `b` and
/// `d` after it (`fixtures/expected/node-docker20-json-typeerr/`, made by
/// `tools/lab/docker20-json-crafted.sh`); dockerd 23 to 27 failed the request at it, and 28
/// reads no further in the file (loggerutils' tailFiles turns a decode error into the file's
/// end). coldctr reads on as 20.10 did, the entries after a damaged one being evidence too:
/// what 20.10 printed, byte for byte, and each such object named (exit 3).
#[test]
fn an_object_that_does_not_decode_is_skipped_as_in_dockerd_20_10() {
    let (_tmp, docker) = unpack();
    let dir = repo().join("fixtures/expected/node-docker20-json-typeerr");
    put_json_log(&docker, &dir);
    for name in ["plain", "t"] {
        let args: &[&str] = if name == "t" { &["-t", "lg-json"] } else { &["lg-json"] };
        let r = logs(&docker, args);
        let printed_20 = std::fs::read_to_string(dir.join(format!("{name}.out"))).unwrap();
        assert_eq!(
            (r.code, String::from_utf8_lossy(&r.stdout)),
            (Some(3), printed_20.as_str().into()),
            "{}",
            r.err()
        );
        // The log's stderr entries as 20.10 printed them, then the two objects named.
        let err_20 = std::fs::read_to_string(dir.join(format!("{name}.err"))).unwrap();
        assert!(r.err().starts_with(&err_20), "{err_20:?} / {}", r.err());
        assert_eq!(r.err().lines().count(), err_20.lines().count() + 2, "{}", r.err());
        assert!(
            r.err()
                .contains("-json.log: line 2 (byte 62): not a log entry: invalid type: integer `5`")
                && r.err().contains("line 4 (byte ")
                && r.err()
                    .matches("skipped (dockerd 28 reads no further in this file")
                    .count()
                    == 2,
            "{}",
            r.err()
        );
    }
}

/// json-file `--tail N` is the last N lines as dockerd's tailfile counts them from the end of the
/// file, not the last N entries: newlines, empty lines included, but a newline right before one
/// it found passed over unless that one starts the 1 KiB block it reads back by (the file puts a
/// block's start on the second of two newlines after `p2`: `--tail 9` counts both, so `p1` is not
/// printed), and nothing after the last newline (`d`, at the end without one, is printed whole
/// but never tailed). Against what a real dockerd 20.10 printed
/// (`fixtures/expected/node-docker20-json-tail/`, made by `tools/lab/docker20-json-crafted.sh`);
/// the tailfile code is the same in dockerd 28.
#[test]
fn json_file_tail_counts_lines_as_dockerd_s_tailfile_does() {
    let dir = repo().join("fixtures/expected/node-docker20-json-tail");
    let n = check_json_cases(&dir, &|_| false, &|_| Added::default());
    assert!(n >= 13, "{n} cases");
}

/// `--tail` walks back through the last 4 GiB of a file only (a forward read's bound): the
/// entries it finds there are where the window's offsets, translated back to the file's, say
/// they are. A sparse json-file log of 4.5 GiB of holes, then three entries.
#[test]
fn tail_past_four_gib_reads_the_entries_at_the_file_s_end() {
    use std::io::Write;
    let (_tmp, docker) = unpack();
    let log = container_dir(&docker, "lg-json");
    let id = log.file_name().unwrap().to_str().unwrap().to_string();
    let path = log.join(format!("{id}-json.log"));
    let _ = std::fs::remove_file(&path);
    let mut file = std::fs::File::create(&path).unwrap();
    let hole = (9u64 << 30) / 2;
    file.set_len(hole).unwrap();
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(hole)).unwrap();
    for n in 1..=3 {
        writeln!(
            file,
            r#"{{"log":"entry {n}\n","stream":"stdout","time":"2026-12-05T09:33:1{n}Z"}}"#
        )
        .unwrap();
    }
    drop(file);
    let r = logs(&docker, &["--tail", "2", "lg-json"]);
    assert_eq!(String::from_utf8_lossy(&r.stdout), "entry 2\nentry 3\n", "{}", r.err());
    assert_eq!(r.code, Some(0), "{}", r.err());
}

/// Records of one time running: each printed with that time (a time met twice running is
/// laid out once and kept), and the next time laid out anew.
#[test]
fn records_of_one_time_running_print_that_time_each() {
    let (_tmp, docker) = unpack();
    let file = container_dir(&docker, "lg-local").join("local-logs/container.log");
    let (bytes, recs) = records(&file);
    // The first two records alone: whole lines, of stderr and of stdout.
    let record = |i: usize| &bytes[recs[i].0..recs[i].0 + recs[i].1];
    std::fs::write(&file, [record(0), record(1)].concat()).unwrap();
    let once = logs(&docker, &["-t", "lg-local"]);
    assert_eq!(once.code, Some(0), "{}", once.err());
    let line = |out: &[u8]| String::from_utf8_lossy(out).into_owned();
    let (first, second) = (line(&once.stderr), line(&once.stdout));
    assert!(first.ends_with("first line on stderr\n"), "{first}");
    assert!(second.ends_with("first line on stdout\n"), "{second}");
    std::fs::write(&file, [record(0), record(0), record(1), record(1), record(0)].concat()).unwrap();
    let r = logs(&docker, &["-t", "lg-local"]);
    assert_eq!(r.code, Some(0), "{}", r.err());
    assert_eq!(line(&r.stderr), first.repeat(3));
    assert_eq!(line(&r.stdout), second.repeat(2));
}

/// A rotated `.gz` whose gzip trailer does not match (its checksum, its length): said, exit 3,
/// the entries before printed. The decoder says such an error once; the next read is the end
/// (the review of sweep 39's changes: the whole-line path dropped it).
#[test]
fn a_gz_trailer_that_does_not_match_is_said() {
    let (_tmp, docker) = unpack();
    let dir = container_dir(&docker, "lg-json-rot");
    let id = dir.file_name().unwrap().to_str().unwrap().to_string();
    let gz = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_str().unwrap().ends_with(".gz"))
        .unwrap_or_else(|| panic!("no .gz in {}", dir.display()));
    assert!(gz.file_name().unwrap().to_str().unwrap().starts_with(&id));
    let whole = logs(&docker, &["lg-json-rot"]);
    assert_eq!(whole.code, Some(0), "{}", whole.err());
    let intact = std::fs::read(&gz).unwrap();
    for (what, at) in [("checksum", 8), ("length", 4)] {
        let mut bytes = intact.clone();
        let n = bytes.len();
        bytes[n - at] ^= 1;
        std::fs::write(&gz, &bytes).unwrap();
        let r = logs(&docker, &["lg-json-rot"]);
        assert_eq!(r.code, Some(3), "{what}: {}", r.err());
        assert!(r.err().contains(".gz: corrupt gzip stream"), "{what}: {}", r.err());
        assert_eq!(r.stdout, whole.stdout, "{what}");
    }
}
