//! `coldctr history` on the seized Docker 28.5 node (`fixtures/node-docker28-dev.tar.gz`),
//! against what `docker image history --no-trunc` printed for each of its images while the
//! node ran (`fixtures/expected/node-docker28-dev/images/<id12>/history.jsonl` with
//! `--format json`, `history.txt` the table, and for the three images dockerd failed on, its
//! message and exit code). docker's `CreatedSince` is an age against the capture's clock; ours
//! is the recorded time, so that one key is left out of the comparison and checked apart.

mod bolt_support;
mod docker28_node;

use bolt_support::{Run, coldctr, repo};
use std::path::{Path, PathBuf};

/// The node's containerd root: meta.db, the content store and the overlayfs snapshotter's
/// metadata.db (no layer directory: no device node, so any user can unpack it).
fn unpack() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    docker28_node::unpack_members(
        dir.path(),
        &[
            "./var/lib/containerd/io.containerd.metadata.v1.bolt",
            "./var/lib/containerd/io.containerd.content.v1.content",
            "./var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/metadata.db",
        ],
    );
    let root = dir.path().join("var/lib/containerd");
    (dir, root)
}

fn history(root: &Path, args: &[&str]) -> Run {
    let mut all = vec![
        "--root".to_string(),
        root.display().to_string(),
        "--host-platform".into(),
        "linux/amd64".into(),
        "history".into(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    coldctr(&all)
}

/// The image IDs (12 hex digits) the captures are kept under.
fn captured() -> Vec<(String, PathBuf)> {
    let dir = repo().join("fixtures/expected/node-docker28-dev/images");
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .expect("captures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("history.jsonl").exists())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    out.sort();
    assert_eq!(out.len(), 20, "the node's 20 images");
    out
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// docker's exit code for a capture (0 when it wrote no `.rc`).
fn docker_rc(dir: &Path, file: &str) -> i32 {
    std::fs::read_to_string(dir.join(format!("{file}.rc"))).map_or(0, |s| s.trim().parse().expect("rc"))
}

/// A capture's line with its `CreatedSince` member taken out (the key docker computes from
/// the clock; ours is left out of `--format json`), as the text docker printed otherwise.
fn without_created_since(line: &str) -> String {
    let start = line.find(r#""CreatedSince":""#).expect("CreatedSince");
    let rest = &line[start + r#""CreatedSince":""#.len()..];
    let end = rest.find("\",").expect("end of CreatedSince") + 2;
    format!("{}{}", &line[..start], &rest[end..])
}

#[test]
fn json_lines_are_dockers_but_for_the_age() {
    let (_dir, root) = unpack();
    let mut compared = 0;
    for (id, dir) in captured() {
        let run = history(&root, &["--no-trunc", "--format", "json", &format!("sha256:{id}")]);
        let rc = docker_rc(&dir, "history.jsonl");
        if rc != 0 {
            // dockerd's own failure ("unable to find the size of the layer"), word for word.
            assert_eq!(run.code, Some(1), "{id}: {}", run.stderr);
            assert_eq!(run.stderr, read(&dir.join("history.jsonl.stderr")), "{id}");
            assert!(run.stdout.is_empty(), "{id}");
            continue;
        }
        assert_eq!(run.code, Some(0), "{id}: {}", run.stderr);
        assert_eq!(run.stderr, "", "{id}");
        let want: String = read(&dir.join("history.jsonl"))
            .lines()
            .map(|l| without_created_since(l) + "\n")
            .collect();
        assert_eq!(run.stdout_text(), want, "{id}");
        compared += 1;
    }
    assert_eq!(compared, 17);
}

/// The cells of a table docker's tabwriter aligned, cut at the header's column starts.
fn cells(table: &str) -> Vec<Vec<String>> {
    let mut lines = table.lines();
    let header = lines.next().expect("header");
    let mut starts = vec![0];
    let bytes = header.as_bytes();
    for i in 1..bytes.len() {
        // A column starts after three spaces or more (the padding), not inside "CREATED BY".
        if bytes[i] != b' ' && i >= 3 && &bytes[i - 3..i] == b"   " {
            starts.push(i);
        }
    }
    std::iter::once(header)
        .chain(lines)
        .map(|l| {
            let chars: Vec<char> = l.chars().collect();
            starts
                .iter()
                .enumerate()
                .map(|(n, &s)| {
                    let end = starts.get(n + 1).copied().unwrap_or(chars.len()).min(chars.len());
                    chars[s.min(chars.len())..end]
                        .iter()
                        .collect::<String>()
                        .trim_end()
                        .to_string()
                })
                .collect()
        })
        .collect()
}

#[test]
fn tables_are_dockers_but_for_the_created_column() {
    let (_dir, root) = unpack();
    for (id, dir) in captured() {
        let run = history(&root, &["--no-trunc", &format!("sha256:{id}")]);
        if docker_rc(&dir, "history.txt") != 0 {
            assert_eq!(run.code, Some(1), "{id}");
            assert_eq!(run.stderr, read(&dir.join("history.txt.stderr")), "{id}");
            continue;
        }
        assert_eq!(run.code, Some(0), "{id}: {}", run.stderr);
        let (ours, docker) = (cells(&run.stdout_text()), cells(&read(&dir.join("history.txt"))));
        assert_eq!(ours.len(), docker.len(), "{id}");
        for (row, (o, d)) in ours.iter().zip(&docker).enumerate() {
            assert_eq!(o.len(), 5, "{id} row {row}: {o:?}");
            for col in [0, 2, 3, 4] {
                assert_eq!(o[col], d[col], "{id} row {row} column {col}");
            }
        }
        assert_eq!(ours[0][1], "CREATED");
        // The CREATED column: each entry's recorded time, as `--format json` has it.
        let times: Vec<String> = read(&dir.join("history.jsonl"))
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json");
                v["CreatedAt"].as_str().expect("CreatedAt").to_string()
            })
            .collect();
        let shown: Vec<&String> = ours[1..].iter().map(|r| &r[1]).collect();
        assert_eq!(shown, times.iter().collect::<Vec<_>>(), "{id}");
    }
}

#[test]
fn not_human_is_dockers_every_key() {
    // docker's --human=false: CreatedSince is the time itself and Size the bytes; the
    // captured human sizes are those bytes in docker's units.
    let (_dir, root) = unpack();
    let (id, dir) = captured()
        .into_iter()
        .find(|(id, _)| id == "416dbb2bd3d3")
        .expect("lab/committed:1");
    let run = history(
        &root,
        &[
            "--no-trunc",
            "--human=false",
            "--format",
            "json",
            &format!("sha256:{id}"),
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let want: Vec<serde_json::Value> = read(&dir.join("history.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<serde_json::Value> = run
        .stdout_text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), want.len());
    let human = |n: u64| -> String {
        // go-units' HumanSizeWithPrecision(n, 3), for the sizes of this image.
        let units = ["B", "kB", "MB", "GB"];
        let (mut v, mut i) = (n as f64, 0);
        while v >= 1000.0 && i < units.len() - 1 {
            v /= 1000.0;
            i += 1;
        }
        let s = format!("{:.*}", 3usize.saturating_sub(format!("{}", v.trunc() as u64).len()), v);
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        format!("{s}{}", units[i])
    };
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g["CreatedSince"], g["CreatedAt"]);
        assert_eq!(g["CreatedAt"], w["CreatedAt"]);
        assert_eq!(g["ID"], w["ID"]);
        let bytes: u64 = g["Size"].as_str().unwrap().parse().expect("bytes");
        assert_eq!(human(bytes), w["Size"].as_str().unwrap(), "{g}");
    }
}

#[test]
fn quiet_and_truncated_ids_are_the_full_ones_cut() {
    let (_dir, root) = unpack();
    let full = history(&root, &["--no-trunc", "-q", "lab/committed:1"]);
    let cut = history(&root, &["-q", "lab/committed:1"]);
    assert_eq!(full.code, Some(0));
    assert_eq!(cut.code, Some(0));
    let full = full.stdout_text();
    let cut = cut.stdout_text();
    assert_eq!(full.lines().count(), 8);
    for (f, c) in full.lines().zip(cut.lines()) {
        match f.strip_prefix("sha256:") {
            Some(hex) => assert_eq!(c, &hex[..12]),
            None => assert_eq!((f, c), ("<missing>", "<missing>")),
        }
    }
    // The default table cuts CREATED BY at 45 columns, with docker's ellipsis.
    let table = history(&root, &["lab/committed:1"]);
    let rows = cells(&table.stdout_text());
    assert!(rows.iter().skip(1).all(|r| r[2].chars().count() <= 45), "{rows:?}");
    assert!(rows.iter().any(|r| r[2].ends_with('…')), "{rows:?}");
}

#[test]
fn a_template_runs_on_dockers_context() {
    let (_dir, root) = unpack();
    let run = history(&root, &["--format", "{{.ID}} {{.Size}}", "lab/busybox:1.38"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout_text(),
        "bb11e37152b3 0B\n359a180c0560 0B\n3e1822329fce 0B\na07b7a3e408e 2.1MB\n"
    );
    // `.Header` is the field of the `formatter.HeaderContext` every docker/cli context embeds:
    // `any`, nil on a row, a map without that key in the table's header row. What docker's CLI
    // (20.10.24, against a private dockerd) printed for these two templates: `<no value>`.
    let run = history(&root, &["--format", "{{.Header}}|{{.Size}}", "lab/busybox:1.38"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout_text().starts_with("<no value>|0B\n"),
        "{}",
        run.stdout_text()
    );
    let run = history(&root, &["--format", "table {{.Header}}\t{{.Size}}", "lab/busybox:1.38"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout_text().starts_with("<no value>   SIZE\n<no value>   0B\n"),
        "{}",
        run.stdout_text()
    );
    // No such method on docker's historyContext: Go's error, nothing printed.
    let run = history(&root, &["--format", "{{.Tags}}", "lab/busybox:1.38"]);
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr
            .contains("can't evaluate field Tags in type *image.historyContext"),
        "{}",
        run.stderr
    );
}

#[test]
fn not_found_and_platforms_are_dockers_errors() {
    let (_dir, root) = unpack();
    let run = history(&root, &["nosuch"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stderr, "Error response from daemon: No such image: nosuch:latest\n");
    let run = history(&root, &["--platform", "linux/arm64", "lab/toolbox:1"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "Error response from daemon: image with reference lab/toolbox:1 was found but does not provide the specified platform (linux/arm64)\n"
    );
}

#[test]
fn sizes_that_cannot_be_read_are_said() {
    let (_dir, root) = unpack();
    let sizes = history(&root, &["--human=false", "--format", "{{.Size}}", "lab/busybox:1.38"]).stdout_text();
    let sizes: Vec<u64> = sizes.lines().map(|l| l.parse().expect("bytes")).collect();
    assert_eq!(&sizes[..3], &[0, 0, 0]);
    assert!(sizes[3] > 2_000_000, "the busybox layer's recorded usage: {sizes:?}");
    // Without the snapshotter's metadata.db: the size is not known, said, exit 3.
    std::fs::remove_file(root.join("io.containerd.snapshotter.v1.overlayfs/metadata.db")).unwrap();
    let run = history(&root, &["--human=false", "--format", "{{.Size}}", "lab/busybox:1.38"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert_eq!(run.stdout_text(), "0\n0\n0\n0\n");
    assert!(
        run.stderr.contains("metadata.db: the size of snapshot sha256:"),
        "{}",
        run.stderr
    );
}

/// docker/cli's `newHistoryFormat`: -q stands for `{{.ID}}` only in place of the table; a
/// format given is used as given (a review: -q replaced every format).
#[test]
fn quiet_gives_way_to_a_format() {
    let (_dir, root) = unpack();
    let run = history(&root, &["-q", "--format", "{{.Size}}", "lab/busybox:1.38"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout_text(), "0B\n0B\n0B\n2.1MB\n");
    let run = history(&root, &["-q", "--format", "table", "lab/busybox:1.38"]);
    assert_eq!(
        run.stdout_text(),
        "bb11e37152b3\n359a180c0560\n3e1822329fce\na07b7a3e408e\n"
    );
}

/// A config that does not decode fails as dockerd fails (its error, exit 1 at least), and is
/// damage: the blob is named and the exit code says so (a review: exit 1, nothing named).
#[test]
fn a_config_that_does_not_decode_is_named() {
    let (_dir, root) = unpack();
    let manifest = history(&root, &["-q", "--no-trunc", "lab/busybox:1.38"]).stdout_text();
    let manifest = manifest
        .lines()
        .next()
        .expect("the image's ID")
        .trim_start_matches("sha256:")
        .to_string();
    let blobs = root.join("io.containerd.content.v1.content/blobs/sha256");
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(blobs.join(&manifest)).unwrap()).unwrap();
    let config = m["config"]["digest"].as_str().unwrap().to_string();
    // As long as its record says (containerd reads that many bytes), and no image config.
    let len = std::fs::metadata(blobs.join(&config[7..])).unwrap().len() as usize;
    let text = format!("{:<len$}", "{\"history\": 5}");
    std::fs::write(blobs.join(&config[7..]), text).unwrap();
    let run = history(&root, &["lab/busybox:1.38"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains(&format!("config {config}: "))
            && run
                .stderr
                .contains("Error response from daemon: json: cannot unmarshal number"),
        "{}",
        run.stderr
    );
}

/// Layers with no snapshot (an image not unpacked in that snapshotter) are 0, as dockerd
/// sizes them; it logs each, one line here says them all, and it is no damage.
#[test]
fn layers_not_unpacked_are_zero_and_said_once() {
    let (_dir, root) = unpack();
    let run = history(
        &root,
        &["--snapshotter", "native", "--format", "{{.Size}}", "lab/busybox:1.38"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout_text(), "0B\n0B\n0B\n0B\n");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("1 of the image's 1 layer chains have no native snapshot"),
        "{}",
        run.stderr
    );
}
