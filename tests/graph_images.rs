//! `inspect`, `history` and `images` of dockerd's own image store on a graph driver node, on
//! the data root a real dockerd 20.10.24 made (`fixtures/node-docker20-overlay2.tar.gz`),
//! against what that dockerd and its docker 20.10 CLI printed
//! (`fixtures/expected/node-docker20-overlay2/images/`: each line of `cases.tsv` is a case's
//! name, docker's exit code and its arguments; `<name>.out` and `.err` what docker printed).
//! Before, `inspect` of any of these images printed `[]` and "No such image".
//!
//! `inspect` is compared byte for byte (stdout, stderr, exit code). Where docker prints an
//! age (`history`'s CREATED and CreatedSince, `images`' CREATED), coldctr prints the recorded
//! time: those cells are compared with the times the captures record, the rest as printed.
//! `docker images` orders an image's rows by a Go map, and images created in the same second
//! as sort.Sort leaves them: its rows are compared as a set.

mod bolt_support;

use bolt_support::{Run, coldctr, repo};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn skip_unless_root(what: &str) -> bool {
    if !is_root() {
        eprintln!("skipped: {what} (not root: the fixture's whiteouts and xattrs need a root unpack)");
    }
    !is_root()
}

/// The fixture unpacked once, as its README says; the Docker data root in it.
fn node() -> &'static Path {
    static NODE: OnceLock<PathBuf> = OnceLock::new();
    NODE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("graph-images-node");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new("tar")
            .args(["--xattrs", "--xattrs-include=*", "-xpzf"])
            .arg(repo().join("fixtures/node-docker20-overlay2.tar.gz"))
            .arg("-C")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "tar: {}", String::from_utf8_lossy(&out.stderr));
        dir.join("docker")
    })
}

fn captures() -> PathBuf {
    repo().join("fixtures/expected/node-docker20-overlay2/images")
}

/// The cases of `cases.tsv`: (name, docker's exit code, docker's arguments).
fn cases(prefix: &str) -> Vec<(String, i32, Vec<String>)> {
    std::fs::read_to_string(captures().join("cases.tsv"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| {
            let mut f = l.split('\t');
            let name = f.next().unwrap().to_string();
            let rc = f.next().unwrap().parse().unwrap();
            (name, rc, f.map(str::to_string).collect())
        })
        .collect()
}

fn capture(name: &str, ext: &str) -> String {
    std::fs::read_to_string(captures().join(format!("{name}.{ext}"))).unwrap()
}

/// `coldctr --root <root> <args>`.
fn run_at(root: &Path, args: &[String]) -> Run {
    let mut all: Vec<OsString> = vec!["--root".into(), root.into()];
    all.extend(args.iter().map(Into::into));
    coldctr(&all)
}

/// On dockerd's own containerd root, beside which the data root is found.
fn run(args: &[String]) -> Run {
    run_at(&node().join("containerd/daemon"), args)
}

/// coldctr's arguments for docker's: `image inspect X` is `inspect X`.
fn ours(docker: &[String]) -> Vec<String> {
    match docker.first().map(String::as_str) {
        Some("image") => docker.get(1..).unwrap_or_default().to_vec(),
        _ => docker.to_vec(),
    }
}

#[test]
fn inspect_is_dockers_byte_for_byte() {
    if skip_unless_root("graph-driver inspect against docker image inspect") {
        return;
    }
    let all = cases("inspect-");
    assert_eq!(all.len(), 19);
    for (name, rc, args) in &all {
        let r = run(&ours(args));
        assert_eq!(r.stdout_text(), capture(name, "out"), "{name}: stdout");
        assert_eq!(r.stderr, capture(name, "err"), "{name}: stderr");
        assert_eq!(r.code, Some(*rc), "{name}: exit code");
    }
    // `--root` the data root itself (no containerd root): the same answer.
    let r = run_at(node(), &["inspect".into(), "lab/committed:1".into()]);
    assert_eq!(r.stdout_text(), capture("inspect-tag", "out"));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

/// `line` with its `"CreatedSince":"..."` member taken out.
fn without_created_since(line: &str) -> String {
    let start = line.find(r#""CreatedSince":""#).expect("CreatedSince");
    let rest = &line[start + r#""CreatedSince":""#.len()..];
    let end = rest.find("\",").expect("end of CreatedSince") + 2;
    format!("{}{}", &line[..start], &rest[end..])
}

/// The cells of an aligned table (split where three spaces or more pad them, and at line
/// ends), with those `is_time` says are the CREATED column's left out, and those cells.
fn cells_but(text: &str, is_time: impl Fn(&str) -> bool) -> (Vec<String>, Vec<String>) {
    let (mut kept, mut times) = (Vec::new(), Vec::new());
    for line in text.lines() {
        for cell in line.split("   ").map(str::trim).filter(|c| !c.is_empty()) {
            if is_time(cell) {
                times.push(cell.to_string());
            } else {
                kept.push(cell.to_string());
            }
        }
    }
    (kept, times)
}

fn is_age(cell: &str) -> bool {
    cell.ends_with(" ago") && !cell.contains('\n')
}

fn is_rfc3339(cell: &str) -> bool {
    cell.len() == 20 && cell.ends_with('Z') && cell.as_bytes().get(10) == Some(&b'T')
}

#[test]
fn history_is_dockers_but_for_the_age() {
    if skip_unless_root("graph-driver history against docker history") {
        return;
    }
    let all = cases("history-");
    assert_eq!(all.len(), 9);
    for (name, rc, args) in &all {
        let r = run(args);
        assert_eq!(r.code, Some(*rc), "{name}: {}", r.stderr);
        assert_eq!(r.stderr, capture(name, "err"), "{name}: stderr");
        let docker = capture(name, "out");
        if name.ends_with("-json") {
            // `{{json .}}` is `--format json`: CreatedSince, an age, left out.
            let want: String = docker.lines().map(|l| without_created_since(l) + "\n").collect();
            assert_eq!(r.stdout_text(), want, "{name}");
        } else if args.iter().any(|a| a == "-H=false") || *rc != 0 {
            assert_eq!(r.stdout_text(), docker, "{name}");
        } else {
            let (ours, times) = cells_but(&r.stdout_text(), is_rfc3339);
            let (theirs, ages) = cells_but(&docker, is_age);
            assert_eq!(ours, theirs, "{name}");
            assert_eq!(times.len(), ages.len(), "{name}");
            // Each time shown is the entry's, as docker's own JSON of it records.
            let json = if name.contains("dangling") {
                "history-dangling-json"
            } else if name.contains("child") {
                "history-child-json"
            } else {
                "history-tag-json"
            };
            let recorded: Vec<String> = capture(json, "out")
                .lines()
                .map(|l| {
                    serde_json::from_str::<serde_json::Value>(l).unwrap()["CreatedAt"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect();
            assert_eq!(times, recorded, "{name}");
        }
    }
}

/// A table's header and its rows as a sorted set of cells, the CREATED column left out and
/// given apart (each row's).
fn table_rows(text: &str, is_time: impl Fn(&str) -> bool) -> (String, Vec<(Vec<String>, String)>) {
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut rows: Vec<(Vec<String>, String)> = lines
        .map(|l| {
            let cells: Vec<String> = l
                .split("   ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect();
            let time = cells.iter().find(|c| is_time(c)).cloned().unwrap_or_default();
            (cells.into_iter().filter(|c| !is_time(c)).collect(), time)
        })
        .collect();
    rows.sort();
    (header, rows)
}

#[test]
fn images_are_dockers_rows_but_for_the_age() {
    if skip_unless_root("graph-driver images against docker images") {
        return;
    }
    // Each image's creation time, as docker's `{{json .}}` rows record it (UTC).
    let created: std::collections::BTreeMap<String, String> = capture("images-json", "out")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let at = v["CreatedAt"]
                .as_str()
                .unwrap()
                .replace(" +0000 UTC", "Z")
                .replacen(' ', "T", 1);
            (v["ID"].as_str().unwrap().to_string(), at)
        })
        .collect();
    let mut compared = 0;
    for (name, rc, args) in cases("images") {
        if name == "images-json" {
            continue;
        }
        let r = run(&args);
        assert_eq!(r.code, Some(rc), "{name}: {}", r.stderr);
        assert_eq!(r.stderr, capture(&name, "err"), "{name}");
        let (h1, ours) = table_rows(&r.stdout_text(), is_rfc3339);
        let (h2, theirs) = table_rows(&capture(&name, "out"), is_age);
        assert_eq!(h1, h2, "{name}: header");
        assert_eq!(
            ours.iter().map(|(c, _)| c).collect::<Vec<_>>(),
            theirs.iter().map(|(c, _)| c).collect::<Vec<_>>(),
            "{name}"
        );
        for (cells, time) in &ours {
            let id = cells.iter().find(|c| {
                created
                    .keys()
                    .any(|k| c.starts_with(k.as_str()) || c.contains(k.as_str()))
            });
            let id = id.expect("an image ID cell");
            let short: String = id.trim_start_matches("sha256:").chars().take(12).collect();
            assert_eq!(Some(time), created.get(&short), "{name}: {cells:?}");
        }
        compared += 1;
    }
    // 4 tables, and 19 with dockerd 20.10's filters (label, before, since, dangling,
    // reference, alone and together) and the ones it refuses (its message, exit 1).
    assert_eq!(compared, 23);
    // `--format json`: the API's summaries, the same images and sizes as docker's rows.
    let r = run(&["images".into(), "--format".into(), "json".into()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let summaries: Vec<serde_json::Value> = serde_json::from_slice(&r.stdout).unwrap();
    let ids: std::collections::BTreeSet<String> = summaries
        .iter()
        .map(|s| s["Id"].as_str().unwrap()[7..19].to_string())
        .collect();
    assert_eq!(ids, created.keys().cloned().collect());
    assert!(summaries.iter().all(|s| s["Size"] == 6288980 || s["Size"] == 6288886));
}

/// Copies the node's data root to a fresh directory (as root, keeping what tar kept).
fn copy_node(what: &str) -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("graph-images-{what}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new("cp").arg("-a").arg(node()).arg(&dir).output().unwrap();
    assert!(out.status.success());
    let docker = dir.join("docker");
    (dir, docker)
}

fn image_id(tag: &str) -> String {
    let r = run(&["inspect".into(), "-f".into(), "{{.Id}}".into(), tag.into()]);
    r.stdout_text().trim().trim_start_matches("sha256:").to_string()
}

#[test]
fn damage_is_named_and_the_rest_still_answers() {
    if skip_unless_root("graph-driver image store damage") {
        return;
    }
    let committed = image_id("lab/committed:1");
    let child = image_id("lab/o2-fs:committed");
    let (_dir, docker) = copy_node("damaged");
    let store = docker.join("image/overlay2");
    // A config that no longer hashes to its name: dockerd refuses it.
    let config = store.join("imagedb/content/sha256").join(&child);
    let mut bytes = std::fs::read(&config).unwrap();
    bytes.push(b' ');
    std::fs::write(&config, bytes).unwrap();
    let args = |r: &str| vec!["inspect".to_string(), r.to_string()];
    let r = run_at(&docker.join("containerd/daemon"), &args("lab/o2-fs:committed"));
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("does not hash to its name"), "{}", r.stderr);
    assert!(
        r.stderr.contains("Error: No such image: lab/o2-fs:committed"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout_text(), "[]\n");
    // The other image still answers, as docker printed it.
    let r = run_at(&docker.join("containerd/daemon"), &args("lab/committed:1"));
    assert_eq!(r.stdout_text(), capture("inspect-tag", "out"));
    assert_eq!(r.code, Some(3));
    // A layer's size that is no number: the layer, and the images on it, do not load.
    let chain = std::fs::read_dir(store.join("layerdb/sha256"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| !p.join("parent").exists())
        .expect("a base layer");
    std::fs::write(chain.join("size"), "12\u{1b}[31m").unwrap();
    let r = run_at(&docker.join("containerd/daemon"), &args(&committed));
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr.contains("Error response from daemon: layer does not exist"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("size: not a decimal size"), "{}", r.stderr);
    assert!(
        !r.stderr.contains('\u{1b}'),
        "raw escape on the terminal: {:?}",
        r.stderr
    );
    // A symlinked imagedb content file is not followed.
    let content = store.join("imagedb/content/sha256").join(&committed);
    let elsewhere = docker.join("moved-config");
    std::fs::rename(&content, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &content).unwrap();
    let r = run_at(&docker.join("containerd/daemon"), &args("lab/committed:1"));
    assert!(r.stderr.contains("not followed"), "{}", r.stderr);
    assert_eq!(r.stdout_text(), "[]\n");
    // history and images on the same damage: said, exit 3, no panic.
    let r = run_at(&docker.join("containerd/daemon"), &["images".to_string()]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    let r = run_at(
        &docker.join("containerd/daemon"),
        &["history".to_string(), "lab/committed:1".to_string()],
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
}

#[test]
fn a_layer_parent_loop_is_cut() {
    if skip_unless_root("graph-driver layer loop") {
        return;
    }
    let (_dir, docker) = copy_node("loop");
    let layers = docker.join("image/overlay2/layerdb/sha256");
    // The base layer made the child of the top one: every chain now loops.
    let all: Vec<PathBuf> = std::fs::read_dir(&layers).unwrap().map(|e| e.unwrap().path()).collect();
    let base = all.iter().find(|p| !p.join("parent").exists()).unwrap();
    let top = all
        .iter()
        .find(|p| {
            let name = format!("sha256:{}", p.file_name().unwrap().to_str().unwrap());
            !all.iter()
                .any(|q| std::fs::read_to_string(q.join("parent")).is_ok_and(|t| t.trim() == name))
        })
        .unwrap();
    std::fs::write(
        base.join("parent"),
        format!("sha256:{}", top.file_name().unwrap().to_str().unwrap()),
    )
    .unwrap();
    let r = run_at(
        &docker.join("containerd/daemon"),
        &["inspect".into(), "lab/committed:1".into()],
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("or a cycle"), "{}", r.stderr);
}

/// A relative `--root containerd/daemon`, from the data root: the working directory is the
/// Docker root around it (it was looked for at the empty path, and `ps` listed no container).
#[test]
fn a_relative_containerd_root_finds_the_docker_root_around_it() {
    if skip_unless_root("relative --root on the graph-driver node") {
        return;
    }
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .current_dir(node())
            .args(["--root", "containerd/daemon"])
            .args(args)
            .output()
            .unwrap()
    };
    let ps = run(&["ps", "-a", "-q"]);
    assert_eq!(String::from_utf8_lossy(&ps.stdout).lines().count(), 3, "{ps:?}");
    let inspect = run(&["inspect", "lab/committed:1"]);
    assert_eq!(String::from_utf8_lossy(&inspect.stdout), capture("inspect-tag", "out"));
}

/// Sweep 36: a store reached through a symlink is said, not silently replaced by containerd's
/// (36.1, 36.17); a leftover store of another driver is not read in place of the containers'
/// (36.14); a parent loop in `history`, a config with more non-empty entries than layers and a
/// layer size no layer has are damage, named, exit 3 (36.6, 36.15, 36.7).
#[test]
fn sweep_36_store_damage_is_said() {
    if skip_unless_root("graph-driver image store, sweep 36") {
        return;
    }
    let committed = image_id("lab/committed:1");
    let child = image_id("lab/o2-fs:committed");
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();

    // A stale aufs store beside overlay2 (sorted first, dockerd's second choice): the
    // containers' driver is read, and which one is said.
    let (_d1, docker) = copy_node("stale-aufs");
    let aufs = docker.join("image/aufs/imagedb/content/sha256");
    std::fs::create_dir_all(&aufs).unwrap();
    let r = run_at(
        &docker.join("containerd/daemon"),
        &s(&["inspect", "lab/o2-fs:committed"]),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout_text(), capture("inspect-child", "out"));
    assert!(
        r.stderr
            .contains("image stores of several graph drivers (overlay2, aufs); reading overlay2's"),
        "{}",
        r.stderr
    );

    // `image/overlay2` a symlink: not followed, said, exit 3 (was: an empty containerd listing).
    let (_d2, docker) = copy_node("symlinked-store");
    let store = docker.join("image/overlay2");
    let moved = docker.join("moved-store");
    std::fs::rename(&store, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &store).unwrap();
    let r = run_at(&docker.join("containerd/daemon"), &s(&["images"]));
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr.contains("image/overlay2: a symlink, not followed"),
        "{}",
        r.stderr
    );
    // `ps -f ancestor=` has no store to resolve against: the containers are matched as given
    // (all three were made from lab/committed:1), and that is said; no "No such image".
    let r = run_at(
        &docker.join("containerd/daemon"),
        &s(&["ps", "-a", "-q", "-f", "ancestor=lab/committed:1"]),
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert_eq!(r.stdout_text().lines().count(), 3, "{}", r.stdout_text());
    assert!(r.stderr.contains("no image store of dockerd was read"), "{}", r.stderr);
    assert!(!r.stderr.contains("No such image"), "{}", r.stderr);
    std::fs::remove_file(&store).unwrap();
    std::fs::rename(&moved, &store).unwrap();

    // The child's parent file names the child itself: dockerd's history repeats its ID.
    let parent = store.join("imagedb/metadata/sha256").join(&child).join("parent");
    std::fs::write(&parent, format!("sha256:{child}")).unwrap();
    let r = run_at(
        &docker.join("containerd/daemon"),
        &s(&["history", "-q", "lab/o2-fs:committed"]),
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("a loop in the parent links"), "{}", r.stderr);
    assert!(
        r.stdout_text().lines().all(|l| child.starts_with(l)),
        "{}",
        r.stdout_text()
    );

    // A layer of an impossible size: loaded, as dockerd loads it, and said.
    let base = std::fs::read_dir(store.join("layerdb/sha256"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| !p.join("parent").exists())
        .expect("a base layer");
    std::fs::write(base.join("size"), "-1").unwrap();
    let r = run_at(&docker.join("containerd/daemon"), &s(&["inspect", &committed]));
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("an impossible size (-1 bytes)"), "{}", r.stderr);
    assert!(r.stdout_text().starts_with("[\n"), "{}", r.stdout_text());
}
