//! `coldctr logs` on the seized Docker 28.5 node (`fixtures/node-docker28-dev.tar.gz`),
//! against what `docker logs --timestamps` printed for each container while the node ran
//! (`fixtures/expected/node-docker28-dev/containers/<name>/logs.stdout` and `.stderr`), and
//! on damaged copies of its log files.

mod bolt_support;
mod docker28_node;

use bolt_support::{Run, coldctr, repo};
use docker28_node::CONTAINERS;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The node's meta.db and Docker's containers dir, unpacked into a temp dir.
fn unpack() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    docker28_node::unpack_members(
        dir.path(),
        &[
            "./var/lib/containerd/io.containerd.metadata.v1.bolt",
            "./var/lib/docker/containers",
        ],
    );
    let root = dir.path().join("var/lib/containerd");
    (dir, root)
}

fn logs(root: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--root".to_string(), root.display().to_string(), "logs".into()];
    all.extend(args.iter().map(|a| a.to_string()));
    coldctr(&all)
}

fn expected(name: &str, file: &str) -> String {
    let p = repo()
        .join("fixtures/expected/node-docker28-dev/containers")
        .join(name)
        .join(file);
    std::fs::read_to_string(&p).unwrap_or_default()
}

/// The container's json-file log in the unpacked store.
fn log_file(root: &Path, name: &str) -> PathBuf {
    let id = coldctr(&[
        "--root",
        root.to_str().unwrap(),
        "container",
        "inspect",
        "-f",
        "{{.Id}}",
        name,
    ])
    .stdout_text()
    .trim()
    .to_string();
    assert_eq!(id.len(), 64, "{name}: {id}");
    root.join("../docker/containers")
        .join(&id)
        .join(format!("{id}-json.log"))
}

#[test]
fn every_container_s_logs_are_what_docker_logs_printed() {
    let (_tmp, root) = unpack();
    let mut lines = 0;
    for name in CONTAINERS {
        let r = logs(&root, &["--timestamps", name]);
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
        assert_eq!(r.stdout_text(), expected(name, "logs.stdout"), "{name}");
        assert_eq!(r.stderr, expected(name, "logs.stdout.stderr"), "{name}");
        lines += r.stdout_text().lines().count() + r.stderr.lines().count();
        // Without --timestamps, the entries alone.
        let plain = logs(&root, &[name]);
        let cut = |s: &str| -> String { s.lines().map(|l| format!("{}\n", &l[31..])).collect() };
        assert_eq!(plain.stdout_text(), cut(&expected(name, "logs.stdout")), "{name}");
        assert_eq!(plain.stderr, cut(&expected(name, "logs.stdout.stderr")), "{name}");
    }
    assert!(lines >= 5, "the node's logs hold {lines} lines");
    // --tail counts entries over both streams, from the end.
    let all = logs(&root, &["dev-exit3"]);
    let last = logs(&root, &["--tail", "1", "dev-exit3"]);
    assert_eq!(last.stderr, format!("{}\n", all.stderr.lines().last().unwrap()));
}

#[test]
fn a_damaged_log_is_said_where_and_the_rest_printed() {
    let (_tmp, root) = unpack();
    let file = log_file(&root, "dev-exit3");
    let intact = logs(&root, &["dev-exit3"]);
    // One mangled between the entries: dockerd 28 reads no further in the file (a decode
    // error ends it); coldctr names where, skips it and prints the rest, as 20.10 did.
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<String> = text.lines().map(|l| format!("{l}\n")).collect();
    let mut damaged = lines.clone();
    damaged.insert(1, "{\"log\":\"x\\n\",\"stream\":7}\n".into());
    std::fs::write(&file, damaged.concat()).unwrap();
    let r = logs(&root, &["dev-exit3"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    let offset = damaged[0].len();
    assert!(
        r.stderr.contains(&format!(
            "-json.log: line 2 (byte {offset}): not a log entry: invalid type: integer `7`"
        )) && r.stderr.contains("skipped (dockerd 28 reads no further in this file"),
        "{}",
        r.stderr
    );
    assert_eq!(
        (&r.stdout, r.stderr.lines().count()),
        (&intact.stdout, intact.stderr.lines().count() + 1)
    );
    // Cut mid-line (a node that stopped mid-write, then wrote on): the entries after the
    // cut line are read, from the next line.
    let mut cut = lines.clone();
    cut.insert(1, "{\"log\":\"half".into());
    std::fs::write(&file, cut.concat()).unwrap();
    let r = logs(&root, &["dev-exit3"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr.contains("read on from the line after that byte"),
        "{}",
        r.stderr
    );
    let later: String = lines.iter().skip(2).map(|l| l.as_str()).collect();
    std::fs::write(&file, [lines[0].clone(), later].concat()).unwrap();
    let without_second = logs(&root, &["dev-exit3"]);
    assert_eq!(r.stdout, without_second.stdout, "{}", r.stderr);
    // A line cut short (a node stopped mid-write) after the entries: they are printed, the
    // cut named.
    std::fs::write(&file, [text.clone(), "{\"log\":\"cut".into()].concat()).unwrap();
    let r = logs(&root, &["dev-exit3"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "line {} (byte {}): not a log entry: the file ends inside it",
            lines.len() + 1,
            text.len()
        )),
        "{}",
        r.stderr
    );
    for l in intact.stderr.lines() {
        assert!(r.stderr.contains(l), "{l} not printed: {}", r.stderr);
    }
    // A link in the log's place is not followed; a log that is gone is said.
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &file).unwrap();
    let r = logs(&root, &["dev-exit3"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("a symlink, not followed"), "{}", r.stderr);
    assert!(!r.stderr.contains("root:"), "{}", r.stderr);
    std::fs::remove_file(&file).unwrap();
    let r = logs(&root, &["dev-exit3"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("the log is gone"), "{}", r.stderr);
}

#[test]
fn rotated_logs_are_read_oldest_first_gzip_too() {
    use std::io::Write;
    let (_tmp, root) = unpack();
    let file = log_file(&root, "dev-running");
    // dockerd reads the rotated files max-file allows (1 when not set: none).
    let hostconfig = file.with_file_name("hostconfig.json");
    let text = std::fs::read_to_string(&hostconfig).unwrap();
    let three = text.replace(
        r#""LogConfig":{"Type":"json-file","Config":{}}"#,
        r#""LogConfig":{"Type":"json-file","Config":{"max-file":"3"}}"#,
    );
    assert_ne!(text, three);
    let entry = |s: &str, t: &str| format!("{{\"log\":\"{s}\\n\",\"stream\":\"stdout\",\"time\":\"{t}\"}}\n");
    let rotated = |n: u32| PathBuf::from(format!("{}.{n}", file.display()));
    std::fs::write(rotated(1), entry("one", "2026-11-29T18:00:01Z")).unwrap();
    let gz = PathBuf::from(format!("{}.2.gz", file.display()));
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(entry("two", "2026-11-29T18:00:00.5Z").as_bytes())
        .unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let r = logs(&root, &["-t", "dev-running"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout_text(), expected("dev-running", "logs.stdout"));
    assert!(
        r.stderr
            .contains("past max-file 1 are on disk and not what docker logs reads"),
        "{}",
        r.stderr
    );
    std::fs::write(&hostconfig, three).unwrap();
    let r = logs(&root, &["-t", "dev-running"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let want = format!(
        "2026-11-29T18:00:00.500000000Z two\n2026-11-29T18:00:01.000000000Z one\n{}",
        expected("dev-running", "logs.stdout")
    );
    assert_eq!(r.stdout_text(), want);
}

/// Sweep 34.5: `none` keeps no log and dockerd says so in its own words; a driver dockerd
/// cannot read back keeps a cache in the `local` format, which is named.
#[test]
fn drivers_that_keep_no_json_log_are_said_as_docker_says_them() {
    let (_tmp, root) = unpack();
    let file = log_file(&root, "dev-running");
    let hostconfig = file.with_file_name("hostconfig.json");
    let text = std::fs::read_to_string(&hostconfig).unwrap();
    let json_file = r#""LogConfig":{"Type":"json-file","Config":{}}"#;
    assert!(text.contains(json_file));
    std::fs::write(
        &hostconfig,
        text.replace(json_file, r#""LogConfig":{"Type":"none","Config":{}}"#),
    )
    .unwrap();
    let r = logs(&root, &["dev-running"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert_eq!(
        r.stderr,
        "Error response from daemon: configured logging driver does not support reading\n"
    );
    std::fs::write(
        &hostconfig,
        text.replace(json_file, r#""LogConfig":{"Type":"syslog","Config":{}}"#),
    )
    .unwrap();
    let r = logs(&root, &["dev-running"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("log driver syslog") && r.stderr.contains("/container-cached.log"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_name_no_container_has_is_not_found() {
    let (_tmp, root) = unpack();
    let r = logs(&root, &["no-such"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("No such container: no-such"), "{}", r.stderr);
}

/// Entries go out in the log's order when both streams go to one place (`2>&1`), as the
/// docker CLI's unbuffered writes keep it (a review: stderr's came first); a time Go would
/// not read is damage, not printed as a time, and skipped.
#[test]
fn the_streams_keep_the_log_s_order_and_a_bad_time_is_damage() {
    let (_tmp, root) = unpack();
    let file = log_file(&root, "dev-exit3");
    let entry =
        |s: &str, stream: &str, t: &str| format!("{{\"log\":\"{s}\\n\",\"stream\":\"{stream}\",\"time\":\"{t}\"}}\n");
    let t = "2026-11-29T18:00:00Z";
    let log = [
        entry("out1", "stdout", t),
        entry("err2", "stderr", t),
        entry("out3", "stdout", t),
        entry("bad", "stdout", "yesterday"),
        entry("out5", "stdout", "2026-11-29T18:00:00.5+00:00"),
    ];
    std::fs::write(&file, log.concat()).unwrap();
    let both = Command::new("sh")
        .arg("-c")
        .arg(r#"exec "$0" --root "$1" logs -t dev-exit3 2>&1"#)
        .arg(env!("CARGO_BIN_EXE_coldctr"))
        .arg(&root)
        .env_remove("COLDCTR_ROOT")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&both.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some("2026-11-29T18:00:00.000000000Z out1"),
        "{text}"
    );
    assert_eq!(
        lines.get(1).copied(),
        Some("2026-11-29T18:00:00.000000000Z err2"),
        "{text}"
    );
    assert_eq!(
        lines.get(2).copied(),
        Some("2026-11-29T18:00:00.000000000Z out3"),
        "{text}"
    );
    // dockerd 28 reads no further in the file after a time Go refuses; 20.10 skipped the
    // entry and read on, as coldctr does.
    assert!(text.contains("2026-11-29T18:00:00.500000000Z out5"), "{text}");
    assert!(!text.contains("yesterday bad"), "{text}");
    assert!(text.contains("line 4 (byte "), "{text}");
    assert!(text.contains("time \"yesterday\" is no RFC 3339 time"), "{text}");
    assert_eq!(both.status.code(), Some(3), "{text}");
}
