//! One rule for exit codes, applied by every command on the same damaged roots (README, "Exit
//! codes"): 3 when what a command read was damaged, 4 when it could not be read at all, and
//! never a silent wrong answer (a store that cannot be listed is not a store whose blobs are
//! all missing; a damaged record is decoded once, the same way, everywhere).

mod bolt_support;
mod gcdu_support;
mod unprivileged;

use gcdu_support::fixture_copy;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

const META: &str = "io.containerd.metadata.v1.bolt/meta.db";
const CONTENT: &str = "io.containerd.content.v1.content";

/// Runs coldctr on `root` (as the unprivileged user 65534 when `unprivileged`; the tests run as
/// root in CI, where permissions do not stop reads).
fn run_as(root: &Path, args: &[&str], unprivileged: bool) -> Output {
    let mut cmd = if unprivileged {
        unprivileged::coldctr_unprivileged()
    } else {
        Command::new(env!("CARGO_BIN_EXE_coldctr"))
    };
    cmd.arg("--root")
        .arg(root)
        .args(["--host-platform", "linux/amd64"])
        .args(args)
        .env_remove("COLDCTR_ROOT")
        .env_remove("DOCKER_API_VERSION");
    let out = cmd.output().expect("run coldctr");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    out
}

fn run(root: &Path, args: &[&str]) -> Output {
    run_as(root, args, false)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every command that reads a root, with arguments that touch the damaged parts.
const COMMANDS: &[&[&str]] = &[
    &["images"],
    &["content"],
    &["verify"],
    &["du"],
    &["gc"],
    &["inspect", "legacy:2.3"],
];

/// Makes everything below `root` world-readable (a copy made by root keeps root's modes).
fn open_up(p: &Path) {
    let mode = if p.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    if p.is_dir() {
        for e in std::fs::read_dir(p).expect("read_dir") {
            open_up(&e.expect("entry").path());
        }
    }
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn a_root_that_cannot_be_searched_is_permission_denied_not_missing() {
    let (tmp, root) = fixture_copy("docker-28.5");
    chmod(tmp.path(), 0o755);
    open_up(&root);
    chmod(&root, 0o711);
    chmod(&root.join("io.containerd.metadata.v1.bolt"), 0o700);
    for args in COMMANDS {
        let o = run_as(&root, args, true);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(4), "{args:?}: {err}");
        assert!(err.contains("permission denied"), "{args:?}: {err}");
        assert!(!err.contains("not a containerd root"), "{args:?}: {err}");
    }
}

#[test]
fn an_unreadable_blob_directory_is_not_every_blob_missing() {
    let (tmp, root) = fixture_copy("docker-28.5");
    chmod(tmp.path(), 0o755);
    open_up(&root);
    chmod(&root.join(CONTENT).join("blobs/sha256"), 0o700);
    for args in COMMANDS {
        let o = run_as(&root, args, true);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(4), "{args:?}: {err}");
        assert!(err.contains("blobs/sha256: permission denied"), "{args:?}: {err}");
    }
    // The rest of the report is printed, and no blob is called missing.
    let o = run_as(&root, &["verify", "--format", "json"], true);
    let report: Value = serde_json::from_slice(&o.stdout).expect("verify json");
    assert_eq!(report["problems"], Value::Array(vec![]), "{report}");
    assert!(report["checked"]["records"].as_u64().unwrap_or(0) > 0, "{report}");
    let o = run_as(&root, &["du", "--format", "json"], true);
    let du: Value = serde_json::from_slice(&o.stdout).expect("du json");
    assert_eq!(du["disk"]["missingFiles"]["count"], 0, "{}", du["disk"]);
    assert_eq!(du["disk"]["missingDigests"], Value::Array(vec![]));
    assert!(
        du["disk"]["blobFilesNotListed"]
            .as_str()
            .is_some_and(|s| s.contains("permission denied"))
    );
    // A command that reads no blob is not affected.
    let o = run_as(&root, &["namespaces"], true);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// One blob file that cannot be opened (permissions) makes the commands that read it exit 4,
/// whatever they made of the failed read: an error body for `inspect`, a problem in a row for
/// `images`. The rest is still printed.
#[test]
fn one_unreadable_blob_file_is_exit_4_where_it_is_read() {
    let (tmp, root) = fixture_copy("docker-28.5");
    chmod(tmp.path(), 0o755);
    open_up(&root);
    let o = run(&root, &["inspect", "--format", "{{.Descriptor.Digest}}", "legacy:2.3"]);
    let manifest = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let hex = manifest.strip_prefix("sha256:").expect("a sha256 target");
    chmod(&root.join(CONTENT).join("blobs/sha256").join(hex), 0o000);
    for args in [
        &["inspect", "legacy:2.3"][..],
        &["images"],
        &["images", "--format", "json"],
    ] {
        let o = run_as(&root, args, true);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(4), "{args:?}: {err}");
        assert!(
            err.contains(&manifest) && err.contains("ermission denied"),
            "{args:?}: {err}"
        );
    }
    // verify marks it unreadable, not damaged, and exits 4 (it exited 3).
    let o = run_as(&root, &["verify", "--format", "json"], true);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).expect("verify json");
    let problems = report["problems"].as_array().cloned().unwrap_or_default();
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(problems[0]["digest"], manifest.as_str());
    assert_eq!(problems[0]["status"], "unreadable");
    // Every other row is still listed.
    let all = run(&root, &["images", "-q"]);
    let listed = run_as(&root, &["images", "-q"], true);
    assert_eq!(listed.stdout, all.stdout);
    let o = run_as(&root, &["images", "--format", "json"], true);
    let rows: Value = serde_json::from_slice(&o.stdout).expect("images json");
    assert_eq!(
        rows.as_array().map(Vec::len),
        Some(String::from_utf8_lossy(&all.stdout).lines().count())
    );
}

/// `fs export --from-blobs` reads the image's manifests and configs, then its layers: a
/// content store that cannot be listed, or a layer blob that cannot be opened, is exit 4 as
/// for every other command that reads blobs, never "no manifest of the image is on the node"
/// nor a damaged layer (exit 3), and nothing is written.
#[test]
fn fs_export_from_blobs_says_unreadable_not_missing() {
    let (tmp, root) = fixture_copy("docker-28.5");
    chmod(tmp.path(), 0o755);
    open_up(&root);
    let outdir = tmp.path().join("out");
    std::fs::create_dir(&outdir).expect("mkdir");
    chmod(&outdir, 0o777);
    let out = outdir.join("fs.tar");
    let out = out.to_str().expect("utf-8 path");
    let args = ["fs", "export", "--from-blobs", "webapp:1.0", "-o", out];
    let o = run_as(&root, &args, true);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::remove_file(out).expect("rm");
    let blobs = root.join(CONTENT).join("blobs/sha256");
    chmod(&blobs, 0o700);
    let o = run_as(&root, &args, true);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("blobs/sha256: permission denied"), "{err}");
    assert!(!err.contains("no manifest"), "{err}");
    assert!(!Path::new(out).exists());
    chmod(&blobs, 0o755);
    // One layer blob mode 000, the rest readable.
    let o = run(&root, &["inspect", "--format", "{{.Descriptor.Digest}}", "webapp:1.0"]);
    let manifest = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let hex = manifest.strip_prefix("sha256:").expect("a sha256 target");
    let m: Value = serde_json::from_slice(&std::fs::read(blobs.join(hex)).expect("manifest")).expect("json");
    let layer = m["layers"][0]["digest"].as_str().expect("a layer").to_string();
    chmod(&blobs.join(layer.trim_start_matches("sha256:")), 0o000);
    let o = run_as(&root, &args, true);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains(&layer) && err.contains("ermission denied"), "{err}");
    assert!(!Path::new(out).exists());
}

#[test]
fn a_root_without_a_content_store_says_so() {
    let (_tmp, root) = fixture_copy("docker-28.5");
    std::fs::remove_dir_all(root.join(CONTENT)).expect("rm content store");
    for args in [&["inspect", "lab/special:1.0"][..], &["images"][..]] {
        let o = run(&root, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains(&format!("{CONTENT} does not exist")), "{args:?}: {err}");
    }
}

/// The zig-zag varint containerd writes for a content record's size.
fn varint(n: i64) -> Vec<u8> {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    let mut out = Vec::new();
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
    out
}

#[test]
fn a_damaged_size_is_decoded_once_the_same_way_everywhere() {
    let (_tmp, root) = fixture_copy("docker-28.5");
    let db = root.join(META);
    let mut data = std::fs::read(&db).expect("meta.db");
    // A content record whose `size` key and value occur once in the file.
    let listed = run(&root, &["-n", "moby", "content", "--format", "json"]);
    let records: Vec<Value> = serde_json::from_slice(&listed.stdout).expect("content json");
    let (digest, at, len) = records
        .iter()
        .find_map(|r| {
            let mut pat = b"size".to_vec();
            pat.extend(varint(r["size"].as_i64()?));
            let hits: Vec<usize> = (0..data.len()).filter(|&i| data[i..].starts_with(&pat)).collect();
            (hits.len() == 1).then(|| (r["digest"].as_str().map(String::from), hits[0], pat.len()))
        })
        .expect("a record with a unique size");
    let digest = digest.expect("digest");
    // The last byte of the varint gets a continuation bit: no longer one exact varint.
    data[at + len - 1] |= 0x80;
    std::fs::write(&db, &data).expect("write");

    // content, du, gc and verify keep the record, say where it is damaged, and exit 3.
    for args in [&["content"][..], &["du"], &["gc"], &["verify"]] {
        let o = run(&root, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(
            err.contains(&format!("content {digest}: size: not a varint")),
            "{args:?}: {err}"
        );
    }
    let o = run(&root, &["-n", "moby", "content", "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_slice(&o.stdout).expect("content json");
    assert_eq!(rows.len(), records.len(), "no record dropped");
    let o = run(&root, &["verify", "--format", "json"]);
    let report: Value = serde_json::from_slice(&o.stdout).expect("verify json");
    // The record is still a record: its blob is not an orphan.
    let orphans = report["orphans"].as_array().expect("orphans");
    assert!(orphans.iter().all(|o| o["digest"] != digest.as_str()), "{orphans:?}");
    let findings = report["findings"].to_string();
    assert!(findings.contains(&digest), "{findings}");
}

#[test]
fn one_damaged_content_store_one_rule() {
    // docker-28.5-damaged: a layer deleted, a config truncated, a layer with a flipped bit
    // (fixtures/expected/docker-28.5-damaged/damage.json).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5-damaged");
    let truncated = "sha256:370c8dd0b95f01f30d49d08e4c41d19cd0f42043cb943587dd1bbe3f4b234988";
    let deleted = "sha256:f79b65c924a066738b2da4361d657fb68d1a9bbcccaa755de7f8455e19c94cd0";
    // Each command that meets the damage exits 3 and names it.
    for (args, names) in [
        (&["content"][..], &[truncated, deleted][..]),
        (&["du"], &[]),
        (&["verify"], &[]),
        (&["images"], &[truncated]),
        (&["inspect", "legacy:2.3"], &["unexpected EOF"]),
    ] {
        let o = run(&root, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        for n in names {
            assert!(err.contains(n), "{args:?} does not name {n}: {err}");
        }
    }
    // The truncated blob is not "present".
    let o = run(&root, &["content", "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_slice(&o.stdout).expect("content json");
    let row = rows.iter().find(|r| r["digest"] == truncated).expect("row");
    assert_eq!(row["present"], false);
    assert_eq!(row["fileState"], "truncated");
    assert_eq!(row["fileSize"], 787);
    // du lists the deleted blob under missing files and the truncated one apart.
    let o = run(&root, &["du"]);
    let text = String::from_utf8_lossy(&o.stdout);
    let missing = text
        .split("missing files")
        .nth(1)
        .and_then(|t| t.split("size mismatch").next());
    let missing = missing.expect("a missing files section and a size mismatch one");
    assert!(missing.contains(deleted), "{text}");
    assert!(!missing.contains(truncated), "{text}");
    // Commands that read no blob, and an image whose blobs are intact, are unaffected.
    for args in [
        &["namespaces"][..],
        &["leases"],
        &["snapshots"],
        &["inspect", "lab/special:1.0"],
    ] {
        let o = run(&root, args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    }
}

/// A leaf's elements and data (keys sorted by the caller): each entry a key and either a
/// value or the entries of an inline bucket.
enum Node<'a> {
    Value(&'a [u8]),
    Bucket(Vec<(&'a [u8], Node<'a>)>),
}

fn leaf(entries: &[(&[u8], Node<'_>)]) -> Vec<u8> {
    let mut elems = Vec::new();
    let mut data = Vec::new();
    let n = entries.len();
    for (i, (key, node)) in entries.iter().enumerate() {
        let (flags, value) = match node {
            Node::Value(v) => (0u32, v.to_vec()),
            Node::Bucket(children) => {
                // Inline bucket: header (root 0, sequence 0), then a leaf page.
                let mut v = vec![0u8; 16];
                let mut page = vec![0u8; 16];
                page[8..10].copy_from_slice(&0x02u16.to_le_bytes());
                page[10..12].copy_from_slice(&(children.len() as u16).to_le_bytes());
                page.extend(leaf(children));
                v.extend(page);
                (1u32, v)
            }
        };
        // pos: from this element to its key, past the remaining elements and earlier data.
        let pos = 16 * (n - i) + data.len();
        elems.extend(flags.to_le_bytes());
        elems.extend((pos as u32).to_le_bytes());
        elems.extend((key.len() as u32).to_le_bytes());
        elems.extend((value.len() as u32).to_le_bytes());
        data.extend_from_slice(key);
        data.extend(value);
    }
    elems.extend(data);
    elems
}

#[test]
fn names_that_are_not_utf8_never_merge() {
    let labels = || {
        Node::Bucket(vec![
            (b"k\xfe".as_slice(), Node::Value(b"2")),
            (b"k\xff".as_slice(), Node::Value(b"1")),
        ])
    };
    let ns = |l| Node::Bucket(vec![(b"labels".as_slice(), l)]);
    // An image record with no target: damage that names its namespace and itself.
    let images = Node::Bucket(vec![(
        b"i\xfe".as_slice(),
        Node::Bucket(vec![(b"createdat".as_slice(), Node::Value(b"x"))]),
    )]);
    let v1 = Node::Bucket(vec![
        (b"n\xfe".as_slice(), ns(labels())),
        (
            b"n\xff".as_slice(),
            Node::Bucket(vec![(b"images".as_slice(), images), (b"labels".as_slice(), labels())]),
        ),
        (b"version".as_slice(), Node::Value(&[6])),
    ]);
    let root_leaf = leaf(&[(b"v1".as_slice(), v1)]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("io.containerd.metadata.v1.bolt")).expect("mkdir");
    std::fs::create_dir_all(root.join(CONTENT).join("blobs/sha256")).expect("mkdir");
    let db = bolt_support::tiny_db(1, &root_leaf);
    std::fs::write(root.join(META), db).expect("write meta.db");
    let bolt = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .args(["bolt", "check"])
        .arg(root.join(META))
        .output()
        .expect("run");
    assert_eq!(bolt.status.code(), Some(0), "{}", stderr(&bolt));

    let o = run(&root, &["namespaces", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let list: Vec<Value> = serde_json::from_slice(&o.stdout).expect("json");
    let names: Vec<&str> = list.iter().filter_map(|n| n["name"].as_str()).collect();
    assert_eq!(names, ["n\\xfe", "n\\xff"]);
    for n in &list {
        let labels = n["labels"].as_object().expect("labels");
        assert_eq!(labels.len(), 2, "{n}");
        assert_eq!(labels["k\\xfe"], "2");
        assert_eq!(labels["k\\xff"], "1");
    }
    // The table and `-q` print each name once escaped, the form that selects it again.
    let o = run(&root, &["namespaces"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = String::from_utf8(o.stdout).expect("utf-8");
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(
        rows,
        ["n\\xfe   k\\xfe=2,k\\xff=1", "n\\xff   k\\xfe=2,k\\xff=1"],
        "{table}"
    );
    let o = run(&root, &["namespaces", "-q"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "n\\xfe\nn\\xff\n");
    // The name as printed selects that namespace again.
    let o = run(&root, &["-n", "n\\xff", "namespaces", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let list: Vec<Value> = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["labels"].as_object().map(|l| l.len()), Some(2));
    // Damage on stderr names the record in the same once-escaped form.
    let o = run(&root, &["images"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("namespace n\\xff: image \"i\\xfe\""), "{err}");
    assert!(!err.contains("\\\\x"), "escaped twice: {err}");
}

#[test]
fn a_wrecked_meta_page_is_exit_3_everywhere_and_json_says_where() {
    let (_tmp, root) = fixture_copy("docker-28.5");
    let db = root.join(META);
    let mut data = std::fs::read(&db).expect("meta.db");
    // The leaf page of the moby images bucket holding lab/special:1.0 (as in inspect_damage.rs);
    // its third element's key position is made to point past the page.
    let le16 = |d: &[u8], at: usize| u16::from_le_bytes([d[at], d[at + 1]]);
    let page = (2..data.len() / 4096)
        .find(|&p| {
            let pg = &data[p * 4096..(p + 1) * 4096];
            u64::from_le_bytes(pg[0..8].try_into().unwrap()) == p as u64
                && le16(pg, 8) == 2
                && pg.windows(22).any(|w| w == b"docker.io/lab/nohist:1")
                && pg.windows(25).any(|w| w == b"docker.io/lab/special:1.0")
        })
        .expect("the images leaf page");
    let elem = page * 4096 + 16 + 16 * 2;
    data[elem + 4..elem + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&db, &data).expect("write");

    for args in [
        &["images"][..],
        &["gc"],
        &["du"],
        &["verify"],
        &["meta-diff"],
        &["inspect", "lab/special:1.0"],
    ] {
        let o = run(&root, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains(&format!("page {page} (offset")), "{args:?}: {err}");
    }
    for cmd in ["gc", "du"] {
        let o = run(&root, &[cmd, "--format", "json"]);
        let report: Value = serde_json::from_slice(&o.stdout).expect("json");
        let damage = report["damage"].as_array().expect("damage");
        assert!(
            damage.iter().any(|d| d["page"] == page as u64
                && d["offset"].as_u64().is_some()
                && d["file"].as_str().is_some_and(|f| f.ends_with("meta.db"))),
            "{cmd}: {damage:?}"
        );
    }
    let o = run(&root, &["verify", "--format", "json"]);
    let report: Value = serde_json::from_slice(&o.stdout).expect("json");
    let findings = report["findings"].as_array().expect("findings");
    assert!(findings.iter().any(|f| f["page"] == page as u64), "{findings:?}");
    // An intact root reports no damage.
    let intact = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5");
    let o = run(&intact, &["gc", "--format", "json"]);
    let report: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(report["damage"], Value::Array(vec![]));
}

/// A meta page whose high-water mark (`pgid`) lies past the end of the file, nothing any view
/// reads being past it (the metas' `pgid` raised, their checksums recomputed): `verify` and
/// `recover` found it, while `gc`, `du` and `meta-diff` answered exit 0. Now each of them says
/// it with `verify`'s message, exits 3 and still prints its report.
#[test]
fn a_high_water_mark_past_the_end_is_damage_for_every_reader_of_the_view() {
    let (_tmp, root) = fixture_copy("containerd-1.7");
    let db = root.join(META);
    let mut data = std::fs::read(&db).expect("meta.db");
    let ps = bolt_support::layout(&data).page_size;
    let file_pages = data.len() / ps;
    let hwm = file_pages + 7;
    for slot in 0..2 {
        data[slot * ps + 56..slot * ps + 64].copy_from_slice(&(hwm as u64).to_le_bytes());
        bolt_support::reseal_meta_le(&mut data, slot, ps);
    }
    std::fs::write(&db, &data).expect("write");
    let message = format!(
        "high-water mark {hwm} is past the end of the file ({file_pages} pages); pages {file_pages} and up are missing"
    );
    for (args, report) in [
        (&["verify"][..], "FINDING"),
        (&["recover"], "KIND"),
        (&["gc"], "Dry run of the"),
        (&["du"], "NAMESPACE"),
        (&["meta-diff"], "No record differs."),
        // Every listing, ps and inspect read the view's records too.
        (&["images"], "docker.io/library/legacy:2.3"),
        (&["content"], "DIGEST"),
        (&["leases"], "NAMESPACE"),
        (&["snapshots"], "Committed"),
        (&["containers"], "c17"),
        (&["ps", "-a"], "CONTAINER"),
        (
            &["-n", "default", "inspect", "docker.io/library/legacy:2.3"],
            "\"RepoTags\"",
        ),
    ] {
        let o = run(&root, args);
        let (out, err) = (String::from_utf8_lossy(&o.stdout), stderr(&o));
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(
            err.contains(&message) || out.contains(&message),
            "{args:?}: {message} in {err} / {out}"
        );
        assert!(out.contains(report), "{args:?}: the report is still printed: {out}");
    }
    for cmd in ["gc", "du"] {
        let o = run(&root, &[cmd, "--format", "json"]);
        let report: Value = serde_json::from_slice(&o.stdout).expect("json");
        let damage = report["damage"].as_array().expect("damage");
        assert!(
            damage
                .iter()
                .any(|d| d["message"].as_str().is_some_and(|m| m.contains(&message))
                    && d["file"].as_str().is_some_and(|f| f.ends_with("meta.db"))
                    && d["page"].as_u64().is_some_and(|p| p < 2)),
            "{cmd}: {damage:?}"
        );
    }
    // The intact fixture: nothing of the kind.
    let intact = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/containerd-1.7");
    for cmd in ["gc", "du", "meta-diff"] {
        let o = run(&intact, &[cmd]);
        assert!(!stderr(&o).contains("high-water mark"), "{cmd}: {}", stderr(&o));
        assert_ne!(o.status.code(), Some(3), "{cmd}: {}", stderr(&o));
    }
}

/// A manifest blob that is a FIFO or a symlink is not followed, and it is damage (exit 3) for
/// `inspect` as for `images`: the error body counted as "no" (exit 1).
#[test]
fn a_blob_that_is_no_regular_file_is_exit_3_where_it_is_read() {
    // A socket's open fails (ENXIO): still damage, not an unreadable file (a review of
    // d742b67, which made every failed open exit 4).
    for kind in ["fifo", "symlink", "socket"] {
        let (_tmp, root) = fixture_copy("docker-28.5");
        let o = run(&root, &["inspect", "--format", "{{.Descriptor.Digest}}", "legacy:2.3"]);
        let manifest = String::from_utf8_lossy(&o.stdout).trim().to_string();
        let hex = manifest.strip_prefix("sha256:").expect("a sha256 target");
        let blob = root.join(CONTENT).join("blobs/sha256").join(hex);
        let copy = root.join("elsewhere");
        std::fs::rename(&blob, &copy).unwrap();
        let _listener;
        if kind == "fifo" {
            let c = std::ffi::CString::new(blob.to_str().unwrap()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        } else if kind == "socket" {
            // Bound at a short path (a socket's is at most 108 bytes), then moved into place.
            let short = tempfile::tempdir().unwrap();
            _listener = std::os::unix::net::UnixListener::bind(short.path().join("s")).unwrap();
            std::fs::rename(short.path().join("s"), &blob).unwrap();
        } else {
            std::os::unix::fs::symlink(&copy, &blob).unwrap();
        }
        for args in [&["inspect", "legacy:2.3"][..], &["images"]] {
            let o = run(&root, args);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(3), "{kind} {args:?}: {err}");
            assert!(
                err.contains(&manifest) && err.contains("not a regular file"),
                "{kind} {args:?}: {err}"
            );
        }
        // `content` says what the file is in a sentence ("is symlink" before).
        let o = run(&root, &["content"]);
        let err = stderr(&o);
        let want = match kind {
            "fifo" => "a fifo",
            "socket" => "a socket",
            _ => "a symlink",
        };
        assert!(err.contains(&format!("the blob file is {want}")), "{kind}: {err}");
    }
    // A short file: "truncated (787 bytes)", not "truncated(787B)".
    let damaged = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5-damaged");
    let err = stderr(&run(&damaged, &["content"]));
    assert!(
        err.contains("the content record says 1574 bytes, the blob file is truncated (787 bytes)"),
        "{err}"
    );
}

/// A meta page whose freelist id names a leaf page: bbolt's `freelist.read` panics on it, so
/// containerd cannot open the file, and `verify` says so. Every record is still readable, but
/// `gc`, `du`, the listings and `inspect` answered exit 0 as if the file were sound. Now each
/// says it, names the page, exits 3 and still prints its report.
#[test]
fn a_freelist_that_is_no_freelist_page_is_damage_for_every_reader_of_the_view() {
    let (_tmp, root) = fixture_copy("containerd-1.6");
    let db = root.join(META);
    let mut data = std::fs::read(&db).expect("meta.db");
    let ps = bolt_support::layout(&data).page_size;
    // Both metas: the fallback to the older one must not hide it either.
    let mut leaf = 0u64;
    for slot in 0..2 {
        let at = slot * ps;
        let freelist = u64::from_le_bytes(data[at + 48..at + 56].try_into().expect("8 bytes"));
        assert_ne!(freelist, u64::MAX, "the fixture persists its freelist");
        leaf = u64::from_le_bytes(data[at + 32..at + 40].try_into().expect("8 bytes"));
        data[at + 48..at + 56].copy_from_slice(&leaf.to_le_bytes());
        bolt_support::reseal_meta_le(&mut data, slot, ps);
    }
    std::fs::write(&db, &data).expect("write");
    let message = "expected a freelist page, found leaf";
    let page = format!("page {leaf}");
    for (args, report) in [
        (&["verify"][..], "FINDING"),
        (&["gc"], "Dry run of the"),
        (&["du"], "blob files"),
        (&["meta-diff"], "previous transaction"),
        (&["images"], "docker.io/library/webapp:1.0"),
        (&["content"], "DIGEST"),
        (&["containers"], "lab-c1"),
        (&["ps", "-a"], "lab-c1"),
        (
            &["-n", "default", "inspect", "docker.io/library/webapp:1.0"],
            "\"RepoTags\"",
        ),
    ] {
        let o = run(&root, args);
        let (out, err) = (String::from_utf8_lossy(&o.stdout), stderr(&o));
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        let said = |s: &str| s.contains(message) && s.contains(&page);
        assert!(
            said(&err) || said(&out),
            "{args:?}: {message} at {page} in {err} / {out}"
        );
        assert!(out.contains(report), "{args:?}: the report is still printed: {out}");
        // What it means for the node, said where the damage is named.
        if args != ["verify"] {
            assert!(err.contains("containerd will not start"), "{args:?}: {err}");
        }
    }
}

/// A freelist page that lists ids no page has (past the high-water mark, or a meta page):
/// bbolt reads it without a word, then a write handed such an id panics (containerd 1.6.20 did
/// not start: "pgid (3735879680) above high water mark (144)"). Every reader of the view
/// exited 0 and `bolt check` blamed only the real free pages; now each names the freelist
/// page, the offset of the first such id and the id.
#[test]
fn a_freelist_listing_ids_past_the_high_water_mark_is_damage() {
    for (first, want) in [
        (
            0xdead_0000u64,
            "page 3735879680 (0xdead0000) as free, at or past the high-water mark",
        ),
        (1, "page 1 as free, a meta page"),
    ] {
        let (_tmp, root) = fixture_copy("containerd-1.6");
        let db = root.join(META);
        let mut data = std::fs::read(&db).expect("meta.db");
        let l = bolt_support::layout(&data);
        let freelist = bolt_support::le_u64(&data, l.current * l.page_size + 48) as usize;
        let at = freelist * l.page_size;
        let count = usize::from(bolt_support::le_u16(&data, at + 10));
        assert!(count > 1 && count < 0xffff, "the fixture's freelist lists a few ids");
        for i in 0..count {
            bolt_support::put_le_u64(&mut data, at + 16 + 8 * i, first + i as u64);
        }
        std::fs::write(&db, &data).expect("write");
        // The first id is at the page's offset plus its header.
        let place = format!("page {freelist} (offset {})", at + 16);
        let o = bolt_support::coldctr(&["bolt", "check", db.to_str().expect("utf-8")]);
        let out = o.stdout_text();
        assert!(out.contains(&place) && out.contains(want), "bolt check: {out}");
        for args in [&["images"][..], &["gc"], &["verify"]] {
            let o = run(&root, args);
            let all = format!("{}{}", stderr(&o), String::from_utf8_lossy(&o.stdout));
            assert_eq!(o.status.code(), Some(3), "{args:?}: {all}");
            assert!(all.contains(&place) && all.contains(want), "{args:?}: {all}");
            assert!(all.contains("containerd will not start"), "{args:?}: {all}");
        }
    }
}

/// The root page of meta.db's bucket tree, from the meta page of the newest transaction.
fn root_page(data: &[u8]) -> usize {
    let u64_at = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().expect("8 bytes"));
    // Meta: page header (16), magic, version, page size, flags (16), root bucket (root pgid,
    // sequence), freelist, pgid, txid.
    let meta = if u64_at(4096 + 64) > u64_at(64) { 4096 } else { 0 };
    u64_at(meta + 32) as usize
}

/// With no `-n`, the single-image commands choose the namespace from what meta.db holds; when
/// the root page cannot be read they said "no single namespace holds images (none)", exit 1, as
/// though the store were empty. The damage is the answer: exit 3, the page named.
#[test]
fn a_wrecked_root_page_is_damage_not_an_empty_store_when_no_namespace_is_given() {
    let (_tmp, root) = fixture_copy("containerd-1.7");
    let intact = run(&root, &["inspect", "docker.io/library/multi:3.1"]);
    assert_eq!(intact.status.code(), Some(0), "{}", stderr(&intact));
    let db = root.join(META);
    let mut data = std::fs::read(&db).expect("meta.db");
    let page = root_page(&data);
    data[page * 4096 + 16..page * 4096 + 216].fill(0xff);
    std::fs::write(&db, &data).expect("write");
    for args in [
        &["inspect", "docker.io/library/multi:3.1"][..],
        &["export", "-o", "-", "docker.io/library/multi:3.1"],
    ] {
        let o = run(&root, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains(&format!("page {page} (offset")), "{args:?}: {err}");
        assert!(!err.contains("(none)"), "{args:?}: {err}");
    }
}

/// An image named where a snapshot is expected is found through its config's diff IDs: with
/// the blobs directory unreadable, `fs`, `diff`, `mounts` and `snapshots tree` said "no
/// unpacked snapshot on this node", exit 1. Unreadable is never reported as missing: exit 4.
#[test]
fn an_image_whose_documents_cannot_be_read_is_not_called_unpacked_nowhere() {
    let (tmp, root) = fixture_copy("docker-28.5");
    chmod(tmp.path(), 0o755);
    open_up(&root);
    let readable = run(&root, &["fs", "ls", "webapp:1.0:/"]);
    assert_eq!(readable.status.code(), Some(0), "{}", stderr(&readable));
    chmod(&root.join(CONTENT).join("blobs/sha256"), 0o700);
    for args in [
        &["fs", "ls", "webapp:1.0:/"][..],
        &["diff", "webapp:1.0"],
        &["mounts", "webapp:1.0"],
        &["snapshots", "tree", "webapp:1.0"],
    ] {
        let o = run_as(&root, args, true);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(4), "{args:?}: {err}");
        assert!(err.contains("permission denied"), "{args:?}: {err}");
        assert!(!err.contains("no unpacked snapshot"), "{args:?}: {err}");
    }
}

/// `-n` names one namespace for every command: one that does not exist is exit 1 with the
/// listings' words everywhere (gc and du printed an empty report, exit 0; ps and timeline
/// ignored -n), and a command whose report -n cannot narrow refuses it (exit 2) rather than
/// print the whole store as though it were the namespace's.
#[test]
fn an_unknown_namespace_is_not_found_everywhere_and_an_ignored_one_is_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5");
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("a.tar");
    let archive = archive.to_str().unwrap();
    // The single-image commands too: a typo of -n read as "No such image" (sweep 29.7).
    for args in [
        &["images"][..],
        &["gc"],
        &["du"],
        &["ps", "-a"],
        &["timeline"],
        &["verify"],
        &["inspect", "webapp:1.0"],
        &["export", "-o", archive, "webapp:1.0"],
        &["snapshots", "tree", "webapp:1.0"],
        &["fs", "ls", "webapp:1.0"],
    ] {
        let mut all = vec!["-n", "nosuch"];
        all.extend_from_slice(args);
        let o = run(&root, &all);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("namespace nosuch not found (namespaces: moby"),
            "{args:?}: {err}"
        );
    }
    for args in [&["recover"][..], &["meta-diff"], &["snapshots", "tree"]] {
        let mut all = vec!["-n", "moby"];
        all.extend_from_slice(args);
        let o = run(&root, &all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("drop -n"), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    // A namespace that exists narrows the timeline to its events.
    let o = run(&root, &["-n", "moby_history", "timeline", "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let events: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e["namespace"] == "moby_history"), "{events:?}");
    let whole = run(&root, &["timeline", "--format", "jsonl"]);
    assert!(String::from_utf8_lossy(&whole.stdout).lines().count() > events.len());
}

/// An image layout or archive holds no containers: `ps`, `timeline` and `container inspect`
/// said "meta.db not found ... read any other bbolt file with `coldctr bolt`" and exited 4, as
/// though a node's store could not be read. It is the wrong input, said as `recover` says it.
#[test]
fn container_commands_on_an_image_layout_or_archive_say_it_holds_none() {
    let oci = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/oci-dev");
    for root in [
        oci.join("layouts/umoci"),
        oci.join("archives/podman-docker-archive-multi.tar"),
    ] {
        for args in [&["ps", "-a"][..], &["timeline"], &["container", "inspect", "x"]] {
            let o = run(&root, args);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains("this is an image layout or archive"), "{args:?}: {err}");
            assert!(!err.contains("bolt"), "{args:?}: {err}");
        }
    }
}

/// One damaged page is one line: `timeline` said it twice (the container records' reader and
/// the timeline's met it each), and `recover` put `page 67: ` before a message that starts with
/// the file and `page 67 (offset ...)`.
#[test]
fn a_damaged_page_is_said_once_and_named_once() {
    let (_tmp, root) = fixture_copy("containerd-1.7");
    let db = root.join(META);
    let mut data = std::fs::read(&db).expect("meta.db");
    let page = root_page(&data);
    data[page * 4096 + 16..page * 4096 + 216].fill(0xff);
    std::fs::write(&db, &data).expect("write");
    for args in [&["timeline"][..], &["recover"]] {
        let o = run(&root, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        let named = format!("page {page} (offset");
        assert_eq!(err.lines().filter(|l| l.contains(&named)).count(), 1, "{args:?}: {err}");
        assert!(!err.contains(&format!("page {page}: ")), "{args:?}: {err}");
    }
}

/// A meta.db that is a directory is there: "not found" with the known layouts' guesses sent
/// the user looking elsewhere. Exit 4 as before, saying what is there.
#[test]
fn a_meta_db_that_is_a_directory_is_said_to_be_one() {
    let (_tmp, root) = fixture_copy("docker-28.5");
    let db = root.join(META);
    std::fs::remove_file(&db).expect("rm meta.db");
    std::fs::create_dir(&db).expect("mkdir meta.db");
    let o = run(&root, &["images"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("(it is a directory, not a regular file)"), "{err}");
}

/// A content record whose key is no digest has no blob file to be: `content` listed it with
/// FILE `unknown`, exit 0 and nothing said, where `verify` finds it. It is damage, named.
#[test]
fn a_content_key_that_is_no_digest_is_damage_in_content() {
    use coldctr::bolt::build::{Tree, build};
    let tmp = tempfile::tempdir().unwrap();
    let mut meta = Tree::new();
    meta.bucket(&[b"v1"]).put(b"version", &[3]);
    for key in [&b"sha256:../../etc/passwd"[..], b"md5:0123"] {
        meta.bucket(&[b"v1", b"default", b"content", b"blob", key])
            .put(b"size", &varint(4));
    }
    let bolt = tmp.path().join("io.containerd.metadata.v1.bolt");
    std::fs::create_dir_all(&bolt).unwrap();
    std::fs::write(bolt.join("meta.db"), build(&meta)).unwrap();
    std::fs::create_dir_all(tmp.path().join(CONTENT).join("blobs/sha256")).unwrap();
    for args in [&["content"][..], &["content", "--format", "json"], &["content", "-q"]] {
        let o = run(tmp.path(), args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(
            err.contains("content record sha256:../../etc/passwd: the key is not a digest"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("content record md5:0123: the key is not a digest"),
            "{args:?}: {err}"
        );
    }
}

/// Another image's damage is not why this one is not unpacked: the walk read every image of
/// the namespace, and a target that is simply not unpacked was exit 3 with `legacy:2.3`'s
/// damage (the docker-28.5-damaged root, its snapshotter's metadata.db taken away).
#[test]
fn only_the_target_images_damage_stops_its_resolution() {
    let (_tmp, root) = fixture_copy("docker-28.5-damaged");
    std::fs::remove_file(root.join("io.containerd.snapshotter.v1.overlayfs/metadata.db")).unwrap();
    let o = run(&root, &["fs", "ls", "webapp:1.0:/"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    // meta.db records its unpacked snapshot: that it cannot be looked up is what is said (it
    // said "no unpacked snapshot", which a record on the node contradicts).
    assert!(
        err.contains("webapp:1.0: its unpacked snapshot moby/sha256:")
            && err.contains("cannot be looked up: the overlayfs snapshotter's metadata.db was not read"),
        "{err}"
    );
    assert!(!err.contains("legacy"), "{err}");
    // The damaged image itself: its blob named, exit 3.
    let o = run(&root, &["fs", "ls", "legacy:2.3:/"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("sha256:370c8dd0b95f01f30d49d08e4c41d19cd0f42043cb943587dd1bbe3f4b234988: unexpected EOF"),
        "{err}"
    );
}

/// A namespace whose last image was removed keeps an empty `images` bucket (a real containerd
/// 1.6.20: tests/data/emptied-namespace, where `ctr -n ns2 images ls` lists nothing). It holds
/// no image: without -n, inspect and export take the only namespace that does.
#[test]
fn an_emptied_namespace_holds_no_images() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/emptied-namespace");
    let listed = |ns: &str| {
        std::fs::read_to_string(data.join(format!("ctr-images-ls-{ns}.txt")))
            .expect("ctr output")
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .count()
    };
    assert_eq!((listed("default"), listed("ns2")), (2, 0));
    let root = data.join("root");
    let o = run(&root, &["inspect", "lab/emptied:1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v[0]["RepoTags"][0], "lab/emptied:1");
    let e = run(&root, &["export", "-o", "-", "lab/emptied:1"]);
    assert_eq!(e.status.code(), Some(0), "{}", stderr(&e));
}

/// When meta.db's newer meta page fails its checksum, bbolt (and coldctr) read the previous
/// transaction through the other one. That is damage by the README's rule, as `bolt` and
/// `verify` said: every command that reads the records now says it and exits 3, `meta-diff`
/// too (on either side), which compared the older transaction without a word.
#[test]
fn a_fallen_back_meta_page_is_damage_for_every_reader() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/emptied-namespace/root");
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    for dir in [
        "io.containerd.metadata.v1.bolt",
        "io.containerd.content.v1.content/blobs/sha256",
    ] {
        std::fs::create_dir_all(root.join(dir)).expect("mkdir");
        for e in std::fs::read_dir(data.join(dir)).expect("ls") {
            let e = e.expect("entry");
            std::fs::copy(e.path(), root.join(dir).join(e.file_name())).expect("copy");
        }
    }
    let db = root.join("io.containerd.metadata.v1.bolt/meta.db");
    let intact = tmp.path().join("intact.db");
    std::fs::copy(&db, &intact).expect("copy");
    let mut bytes = std::fs::read(&db).expect("meta.db");
    // bbolt's meta: after the 16-byte page header, txid at +48 and the checksum at +56.
    let newer = newer_meta(&bytes);
    bytes[newer * 4096 + 16 + 56] ^= 1;
    std::fs::write(&db, &bytes).expect("write");

    for args in [
        &["images"][..],
        &["content"],
        &["namespaces"],
        &["leases"],
        &["containers"],
        &["snapshots"],
        &["du"],
        &["gc"],
        &["verify"],
        &["timeline"],
        &["ps", "-a"],
        // Not a snapshot's path: "no", and the records' damage all the same.
        &["which", "/x"],
    ] {
        let o = run(&root, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains("newer meta page is invalid"), "{args:?}: {err}");
    }
    let d = db.display().to_string();
    let i = intact.display().to_string();
    for (of, against) in [(&d, &i), (&i, &d)] {
        let o = Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .args(["meta-diff", "--root", of, "--against", against])
            .env_remove("COLDCTR_ROOT")
            .output()
            .expect("run");
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains(&format!("{d}: the newer meta page is invalid")), "{err}");
    }
}

/// A snapshotter metadata.db whose meta page reads but whose tree does not (cut to 100 bytes)
/// proves no snapshot absent: the listing's kinds are `unknown`, not `no-backend-record`, and
/// a container's snapshot "cannot be looked up", not "is not recorded" (which reads as
/// deleted). Sweep 18, finding 3.
#[test]
fn a_damaged_snapshotter_db_proves_no_absence() {
    let (_tmp, root) = fixture_copy("containerd-1.6");
    let db = root.join("io.containerd.snapshotter.v1.overlayfs/metadata.db");
    let bytes = std::fs::read(&db).expect("metadata.db");
    std::fs::write(&db, &bytes[..100]).expect("cut");
    let o = run(&root, &["-n", "default", "snapshots"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    let table = String::from_utf8_lossy(&o.stdout);
    let kinds: Vec<&str> = table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    // ctr listed 5 snapshots in this namespace (fixtures/expected/containerd-1.6).
    assert!(kinds.len() >= 4 && kinds.iter().all(|k| *k == "unknown"), "{table}");
    let m = run(&root, &["-n", "default", "mounts", "lab-c1"]);
    let err = stderr(&m);
    assert_eq!(m.status.code(), Some(3), "{err}");
    assert!(
        err.contains("cannot be looked up") && !err.contains("is not recorded"),
        "{err}"
    );
}

/// A backend snapshot whose parent key has no record (containerd's storage then fails every
/// mount below it) is damage for the listing and the whole-forest tree too, not only for a
/// chain through it: the snapshot was drawn as a base with nothing said (sweep 18, finding 9).
/// The copy's `lab-c1` gets a parent key one character off, in its `parent` value alone.
#[test]
fn a_parent_without_a_record_is_said_by_every_reader() {
    let (_tmp, root) = fixture_copy("containerd-1.6");
    let db = root.join("io.containerd.snapshotter.v1.overlayfs/metadata.db");
    let mut bytes = std::fs::read(&db).expect("metadata.db");
    // ctr's `snapshots ls`: lab-c1's parent (fixtures/expected/containerd-1.6).
    let listed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/expected/containerd-1.6/ctr-snapshots-default.txt"),
    )
    .expect("ctr output");
    let parent = listed
        .lines()
        .find_map(|l| {
            l.strip_prefix("lab-c1 ")
                .map(|r| r.split_whitespace().next().unwrap().to_string())
        })
        .expect("lab-c1's parent");
    // The child's `parent` element: key "parent", then the value "default/<n>/<parent key>".
    let end = (0..bytes.len())
        .find_map(|at| {
            let rest = bytes.get(at..)?.strip_prefix(b"parentdefault/")?;
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            let key = rest.get(digits..)?.strip_prefix(b"/")?;
            key.starts_with(parent.as_bytes())
                .then_some(at + "parentdefault/".len() + digits + 1 + parent.len())
        })
        .expect("lab-c1's parent value");
    bytes[end - 1] = if bytes[end - 1] == b'0' { b'1' } else { b'0' };
    std::fs::write(&db, &bytes).expect("write");
    for args in [&["-n", "default", "snapshots"][..], &["snapshots", "tree"]] {
        let o = run(&root, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(
            err.contains("has no record in the snapshotter's metadata.db"),
            "{args:?}: {err}"
        );
    }
    // Not gc's: containerd's collection walks such a snapshot as any other (the lab scenario,
    // tests/data/gc-scenario, has one), and gc's answer is whole.
    assert_eq!(run(&root, &["gc"]).status.code(), Some(0));
}

/// stderr that cannot be written (a full disk, a reader gone) loses only what stderr would
/// have said: each command's stdout and exit code are what they are with stderr intact (sweep
/// 25: every command with a warning panicked, exit 101, its report lost).
#[test]
fn a_stderr_that_cannot_be_written_loses_nothing_else() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5-damaged");
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full here");
        return;
    };
    let mut said = 0;
    for args in COMMANDS {
        let intact = run(&root, args);
        if intact.stderr.is_empty() {
            continue;
        }
        said += 1;
        let o = Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .arg("--root")
            .arg(&root)
            .args(["--host-platform", "linux/amd64"])
            .args(*args)
            .env_remove("COLDCTR_ROOT")
            .stderr(full.try_clone().expect("dup /dev/full"))
            .output()
            .expect("run coldctr");
        assert_eq!(o.status.code(), intact.status.code(), "{args:?}");
        // gc's clock and verify's hashing time differ from run to run; nothing else does.
        let steady = |out: &[u8]| -> Vec<String> {
            String::from_utf8_lossy(out)
                .lines()
                .filter(|l| !l.starts_with("checked ") && !l.contains("clock"))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(steady(&o.stdout), steady(&intact.stdout), "{args:?}");
        assert!(!o.stdout.is_empty(), "{args:?}");
    }
    assert!(said >= 4, "only {said} commands say anything on this root");
}

/// A blob directory that exists but will not open for another reason than permission (EMFILE
/// here, as on a node out of descriptors; EIO on a bad disk) is not every blob missing: exit
/// 4, the directory and the error named (sweep 25: 76 blobs "missing", exit 3).
#[test]
fn a_blob_directory_that_will_not_open_is_not_every_blob_missing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5");
    let limited = |args: &[&str], fds: u64| -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_coldctr"));
        cmd.arg("--root")
            .arg(&root)
            .args(["--host-platform", "linux/amd64"])
            .args(args)
            .env_remove("COLDCTR_ROOT");
        // SAFETY: between fork and exec, only setrlimit (async-signal-safe) runs.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                let lim = libc::rlimit {
                    rlim_cur: fds,
                    rlim_max: fds,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.output().expect("run coldctr")
    };
    let mut refused = 0;
    for args in [&["du"][..], &["verify"], &["gc"], &["images"]] {
        let whole = limited(args, 1024);
        assert_eq!(whole.status.code(), Some(0), "{args:?}: {}", stderr(&whole));
        // Descriptors enough to open meta.db, not every directory of the store.
        for fds in 4..=6 {
            let o = limited(args, fds);
            let err = stderr(&o);
            let out = String::from_utf8_lossy(&o.stdout);
            assert!(!err.contains("panicked"), "{args:?} {fds}: {err}");
            match o.status.code() {
                Some(0) => {}
                Some(4) => refused += 1,
                code => panic!("{args:?} with {fds} descriptors: exit {code:?}: {out}{err}"),
            }
            // No blob is called missing: verify lists none so, du knows of none or says so.
            assert!(!out.lines().any(|l| l.starts_with("missing ")), "{args:?} {fds}: {out}");
            if let Some(line) = out.lines().find(|l| l.trim_start().starts_with("missing files")) {
                assert!(
                    line.contains("not known") || line.trim_end().ends_with(" 0 (0B)"),
                    "{args:?} {fds}: {line}"
                );
            }
        }
    }
    assert!(refused > 0, "no run met the limit");
}

/// A snapshotter's metadata.db, or its `snapshots` directory, that the user may not read is
/// unreadable input (exit 4) for every command that reads it, not damage (sweep 25: exit 3
/// from ten commands, while each message said "Permission denied").
#[test]
fn a_snapshotter_the_user_may_not_read_is_exit_4() {
    let (tmp, root) = fixture_copy("docker-28.5");
    chmod(tmp.path(), 0o755);
    open_up(&root);
    let overlay = root.join("io.containerd.snapshotter.v1.overlayfs");
    chmod(&overlay.join("metadata.db"), 0o600);
    for args in [
        &["images"][..],
        &["snapshots"],
        &["snapshots", "tree"],
        &["verify"],
        &["du"],
        &["gc"],
    ] {
        let o = run_as(&root, args, true);
        // Said on stderr, or in verify's report.
        let said = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
        assert_eq!(o.status.code(), Some(4), "{args:?}: {said}");
        assert!(said.contains("metadata.db: Permission denied"), "{args:?}: {said}");
    }
    chmod(&overlay.join("metadata.db"), 0o644);
    chmod(&overlay.join("snapshots"), 0o711);
    for args in [&["du"][..], &["gc"]] {
        let o = run_as(&root, args, true);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(4), "{args:?}: {err}");
        assert!(err.contains("snapshots: Permission denied"), "{args:?}: {err}");
    }
}

/// Where no thread can be started (a pids cgroup or RLIMIT_NPROC reached, a seccomp profile
/// refusing `clone3`) the work runs on the main thread: the same output and exit code, no
/// panic (sweep 28.1: exit 101 from images, content, verify and inspect of several names).
/// Likewise a `RUST_MIN_STACK` too small or too large for any thread: our threads have their
/// own stack size.
#[test]
fn no_thread_to_start_is_the_same_answer() {
    use std::os::unix::process::CommandExt;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5");
    // As root, a user of its own: RLIMIT_NPROC counts the user's processes, and exec after a
    // change of user fails (EAGAIN) when it is over, as it would be for nobody while other
    // tests run as nobody. Not root: this user, whose processes are over the limit already.
    let as_one_user = || {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=65533",
                "--regid=65533",
                "--clear-groups",
                env!("CARGO_BIN_EXE_coldctr"),
            ]);
            c
        } else {
            Command::new(env!("CARGO_BIN_EXE_coldctr"))
        }
    };
    for args in [
        &["images", "--format", "json"][..],
        &["content", "--format", "json"],
        &["verify", "--format", "json"],
        &["gc", "--format", "json", "--at", "2026-12-01T00:00:00Z"],
        &["du", "--format", "json", "--at", "2026-12-01T00:00:00Z"],
        &[
            "-n",
            "moby",
            "inspect",
            "lab/special:1.0",
            "dlist:1",
            "webapp:1.0",
            "multiall:3.1",
        ],
    ] {
        let mut free = as_one_user();
        free.arg("--root").arg(&root).args(args).env_remove("COLDCTR_ROOT");
        let free = free.output().expect("run coldctr");
        assert_eq!(free.status.code(), Some(0), "{args:?}: {}", stderr(&free));
        let json = |o: &Output| -> Value { serde_json::from_slice(&o.stdout).expect("JSON") };
        // No thread at all; one thread but not a pool's worth (a review found a pool that
        // failed half-built left rayon's global pool unmade, and the next iterator panicked).
        for most in [1, 2] {
            let mut limited = as_one_user();
            limited.arg("--root").arg(&root).args(args).env_remove("COLDCTR_ROOT");
            // SAFETY: between fork and exec, only setrlimit(2), async-signal-safe.
            unsafe {
                limited.pre_exec(move || {
                    let limit = libc::rlimit {
                        rlim_cur: most,
                        rlim_max: most,
                    };
                    libc::setrlimit(libc::RLIMIT_NPROC, &limit);
                    Ok(())
                });
            }
            let limited = limited.output().expect("run coldctr");
            assert_eq!(limited.status.code(), Some(0), "{args:?} {most}: {}", stderr(&limited));
            assert!(!stderr(&limited).contains("panicked"), "{args:?}: {}", stderr(&limited));
            assert_eq!(json(&limited), json(&free), "{args:?} {most}");
        }
        for stack in ["4096", "100000000000000"] {
            let o = Command::new(env!("CARGO_BIN_EXE_coldctr"))
                .arg("--root")
                .arg(&root)
                .args(args)
                .env_remove("COLDCTR_ROOT")
                .env("RUST_MIN_STACK", stack)
                .output()
                .expect("run coldctr");
            assert_eq!(
                o.status.code(),
                Some(0),
                "{args:?} RUST_MIN_STACK={stack}: {}",
                stderr(&o)
            );
            assert_eq!(json(&o), json(&free), "{args:?} RUST_MIN_STACK={stack}");
        }
    }
}

/// The txid of meta page `slot` of a 4 KiB-page bbolt file.
fn meta_txid(b: &[u8], slot: usize) -> u64 {
    u64::from_le_bytes(b[slot * 4096 + 64..slot * 4096 + 72].try_into().unwrap())
}

/// The meta page with the higher txid (the one bbolt reads).
fn newer_meta(b: &[u8]) -> usize {
    if meta_txid(b, 0) > meta_txid(b, 1) { 0 } else { 1 }
}

/// The checksum of the meta page at byte `o` made again (bbolt's FNV-1a over its fields), as
/// bbolt writes one.
fn seal_meta(b: &mut [u8], o: usize) {
    let sum = b[o + 16..o + 72].iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3)
    });
    b[o + 72..o + 80].copy_from_slice(&sum.to_le_bytes());
}

/// A meta page zeroed (a bad sector) says nothing of its txid, but bbolt never leaves one
/// invalid: the other is read, said to be maybe not the last commit, exit 3 (sweep 30.4: read
/// silently as the last commit, a lease of the last transaction missing).
#[test]
fn a_zeroed_meta_page_is_damage() {
    let (_tmp, root) = fixture_copy("containerd-1.6");
    let db = root.join(META);
    let mut bytes = std::fs::read(&db).expect("meta.db");
    let newer = newer_meta(&bytes);
    bytes[newer * 4096..(newer + 1) * 4096].fill(0);
    std::fs::write(&db, &bytes).expect("write");
    let said = format!(
        "meta page {newer} is invalid (bad magic 0x00000000); reading meta page {}",
        1 - newer
    );
    for args in [
        &["leases"][..],
        &["images"],
        &["gc"],
        &["-n", "moby", "inspect", "webapp:1.0"],
    ] {
        let o = run(&root, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains(&said), "{args:?}: {err}");
    }
}

/// The page of the bucket leaf element `key` names in `data` (the first such element found):
/// the root page id its value's bucket header gives, and the file offset of that header.
fn bucket_element(data: &[u8], key: &[u8]) -> Option<(u64, usize)> {
    let u32_at = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap()) as usize;
    (2..data.len() / 4096).find_map(|p| {
        let at = p * 4096;
        let flags = u16::from_le_bytes(data[at + 8..at + 10].try_into().unwrap());
        if u64::from_le_bytes(data[at..at + 8].try_into().unwrap()) != p as u64 || flags != 2 {
            return None;
        }
        let count = u16::from_le_bytes(data[at + 10..at + 12].try_into().unwrap()) as usize;
        (0..count).find_map(|i| {
            let e = at + 16 + 16 * i;
            let (kind, pos, ksize) = (u32_at(e), u32_at(e + 4), u32_at(e + 8));
            let k = e + pos;
            (kind & 1 == 1 && data.get(k..k + ksize) == Some(key)).then(|| {
                let v = k + ksize;
                (u64::from_le_bytes(data[v..v + 8].try_into().unwrap()), v)
            })
        })
    })
}

/// The labels of a config's content record that do not read: `images` says so, exit 3, as
/// every other command does (sweep 30.3: it printed the image without its unpacked size,
/// exit 0).
#[test]
fn a_config_record_whose_labels_do_not_read_is_damage_to_images() {
    let (_tmp, root) = fixture_copy("containerd-1.6");
    let listed: Value =
        serde_json::from_slice(&run(&root, &["-n", "moby", "images", "--format", "json", "webapp:1.0"]).stdout)
            .expect("JSON");
    let config = listed[0]["platforms"][0]["config"]
        .as_str()
        .expect("config")
        .to_string();
    assert!(
        !listed[0]["sizes"]["unpacked"].as_array().expect("unpacked").is_empty(),
        "{listed}"
    );
    let db = root.join(META);
    let mut data = std::fs::read(&db).expect("meta.db");
    let (record, _) = bucket_element(&data, config.as_bytes()).expect("the config's record");
    // The record's own page: its `labels` element, an inline bucket (root 0), made to name a
    // page past the file.
    let page = &data[record as usize * 4096..(record as usize + 1) * 4096];
    let (root_id, header) = {
        let count = u16::from_le_bytes(page[10..12].try_into().unwrap()) as usize;
        let u = |o: usize| u32::from_le_bytes(page[o..o + 4].try_into().unwrap()) as usize;
        (0..count)
            .find_map(|i| {
                let e = 16 + 16 * i;
                let (pos, ksize) = (u(e + 4), u(e + 8));
                let v = e + pos + ksize;
                (&page[e + pos..v] == b"labels").then(|| {
                    let root_id = u64::from_le_bytes(page[v..v + 8].try_into().unwrap());
                    (root_id, record as usize * 4096 + v)
                })
            })
            .expect("the labels element")
    };
    assert_eq!(root_id, 0, "an inline labels bucket");
    data[header..header + 8].copy_from_slice(&0xFFFF_FFFFu64.to_le_bytes());
    std::fs::write(&db, &data).expect("write");
    let o = run(&root, &["-n", "moby", "images", "webapp:1.0"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains(&format!("namespace moby: content {config}: ")), "{err}");
}

/// The offset of the first `key` immediately followed by a value starting with `value`, as a
/// record's inline bucket lays a key and its value out (found by their bytes).
fn key_and_value(data: &[u8], key: &[u8], value: &[u8]) -> usize {
    let both = [key, value].concat();
    data.windows(both.len())
        .position(|w| w == both.as_slice())
        .map(|at| at + key.len())
        .expect("the key and value")
}

/// Values that name nothing, though they decode (sweeps 30.7 and 30.8, each exit 0 before):
/// an image's target digest that is no digest (printed as the image ID); a snapshot whose
/// backend key the snapshotter has no record of (kind null); a snapshot whose parent has no
/// record (an image's unpacked size cut short). Each is damage, said, exit 3.
#[test]
fn values_that_name_nothing_are_damage() {
    type Edit = fn(&mut Vec<u8>);
    let cases: [(&str, Edit, &[&[&str]], &str); 3] = [
        (
            "target digest",
            |d| {
                let at = key_and_value(d, b"digest", b"sha256:1405e102");
                d[at + 6] = 0xfe;
            },
            // The record damaged is the first in the file with that target: asked for by its
            // name (a pattern it does not match leaves it unopened, and unsaid).
            &[&["-n", "moby", "images", "registry.example.com/team/webapp:1.0"]],
            "its target digest sha256",
        ),
        (
            "backend key",
            |d| {
                let at = key_and_value(d, b"name", b"moby/");
                let colon = at + d[at..].iter().position(|&b| b == b':').expect("a colon");
                d[colon] = b'&';
            },
            &[&["snapshots"]],
            "of which the snapshotter's metadata.db has no record",
        ),
        (
            "parent",
            |d| {
                let at = key_and_value(d, b"parent", b"sha256:");
                d[at + 20] = b'/';
            },
            &[&["snapshots"], &["gc"]],
            "has no record",
        ),
    ];
    for (what, edit, runs, said) in cases {
        let (_tmp, root) = fixture_copy("containerd-1.6");
        let db = root.join(META);
        let mut data = std::fs::read(&db).expect("meta.db");
        edit(&mut data);
        std::fs::write(&db, &data).expect("write");
        for args in runs {
            let o = run(&root, args);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(3), "{what} {args:?}: {err}");
            assert!(err.contains(said), "{what} {args:?}: {err}");
        }
    }
}

/// Over damaged records, gc and du say that what the records held may be listed as removed
/// (sweep 30.10: live snapshots and a blob in gc's removals, exit 3 with only the page named).
#[test]
fn gc_over_damage_says_its_removals_are_not_to_act_on() {
    let (_tmp, root) = fixture_copy("containerd-1.6");
    let db = root.join(META);
    let mut data = std::fs::read(&db).expect("meta.db");
    let layer = b"sha256:f7610dee326f36c1661d2583c561cbe54a033d8f4732fc114b3138f2eba14f61";
    let (page, _) = bucket_element(&data, layer).expect("a layer's record");
    let page = usize::try_from(page).expect("page");
    data[page * 4096..(page + 1) * 4096].fill(0);
    std::fs::write(&db, &data).expect("write");
    for args in [&["gc"][..], &["du"]] {
        let o = run(&root, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains(&format!("page {page}")), "{args:?}: {err}");
        assert!(
            err.contains("records that did not read protect nothing in this answer"),
            "{args:?}: {err}"
        );
    }
    let o = run(&fixture_copy("containerd-1.6").1, &["gc"]);
    assert!(!stderr(&o).contains("protect nothing"), "{}", stderr(&o));
}

/// A meta page whose checksum is good but whose root names a record's page (a bucket with no
/// `v1`): not a containerd tree, damage, exit 3 (sweep 30.5: read as an empty store, every
/// blob an orphan, exit 0).
#[test]
fn a_root_that_is_no_containerd_tree_is_damage() {
    let (_tmp, root) = fixture_copy("containerd-1.7");
    let db = root.join(META);
    let mut data = std::fs::read(&db).expect("meta.db");
    let newer = newer_meta(&data);
    // A leaf page the tree holds that is not the root: the first leaf after the metas.
    let leaf = (2..data.len() / 4096)
        .find(|&p| u16::from_le_bytes(data[p * 4096 + 8..p * 4096 + 10].try_into().unwrap()) == 2)
        .expect("a leaf");
    let o = newer * 4096;
    data[o + 32..o + 40].copy_from_slice(&(leaf as u64).to_le_bytes());
    seal_meta(&mut data, o);
    std::fs::write(&db, &data).expect("write");
    // inspect too, which looks records up without listing the namespaces (it said "No such
    // image", exit 1).
    for args in [
        &["images"][..],
        &["verify"],
        &["gc"],
        &["-n", "moby", "inspect", "webapp:1.0"],
    ] {
        let o = run(&root, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains("the root bucket has no v1 bucket"), "{args:?}: {err}");
    }
}

/// With too few file descriptors to open the blob directories, `content` cannot look at the
/// blob files: each row's file is not known, said, exit 4, none called missing (sweep 28.4:
/// FILE `unknown` on every row, nothing said, exit 0).
#[test]
fn blob_files_that_cannot_be_looked_at_are_exit_4() {
    use std::os::unix::process::CommandExt;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5");
    for format in ["table", "json"] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_coldctr"));
        cmd.arg("--root")
            .arg(&root)
            .args(["content", "--format", format])
            .env_remove("COLDCTR_ROOT");
        // SAFETY: between fork and exec, only setrlimit(2), async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                let four = libc::rlimit {
                    rlim_cur: 4,
                    rlim_max: 4,
                };
                libc::setrlimit(libc::RLIMIT_NOFILE, &four);
                Ok(())
            });
        }
        let o = cmd.output().expect("run coldctr");
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(4), "{format}: {err}");
        assert!(err.contains("the blob file is not looked at"), "{format}: {err}");
        assert!(!err.contains("missing"), "{format}: {err}");
    }
}

/// A copy bbolt makes of a live file (`Tx.WriteTo`, its backup) holds the current txid on meta
/// page 0 and the one before on page 1, whatever their parity: sound, exit 0 (a review of
/// 30.4's first fix found such backups called damaged).
#[test]
fn a_bbolt_backup_s_metas_are_sound() {
    let (_tmp, root) = fixture_copy("containerd-1.6");
    let db = root.join(META);
    let mut bytes = std::fs::read(&db).expect("meta.db");
    let newer = newer_meta(&bytes);
    let t = meta_txid(&bytes, newer);
    assert_eq!(t % 2, 1, "the fixture's current txid is odd, on page 1");
    // WriteTo: the current meta on page 0 (its header id 0), and on page 1 with txid - 1.
    let current: Vec<u8> = bytes[newer * 4096 + 16..newer * 4096 + 80].to_vec();
    for (slot, id) in [(0usize, t), (1, t - 1)] {
        let o = slot * 4096;
        bytes[o..o + 8].copy_from_slice(&(slot as u64).to_le_bytes());
        bytes[o + 16..o + 80].copy_from_slice(&current);
        bytes[o + 64..o + 72].copy_from_slice(&id.to_le_bytes());
        seal_meta(&mut bytes, o);
    }
    std::fs::write(&db, &bytes).expect("write");
    for args in [&["leases"][..], &["namespaces"], &["gc"]] {
        let o = run(&root, args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(
            o.stderr.is_empty() || !stderr(&o).contains("damaged"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

/// A content record whose size is no varint, read by `inspect`'s size lookups: the size used is
/// its prefix's, and the record's damage is said, exit 3 (the lookup dropped the note: only the
/// config's failed decode was said, which names no record).
#[test]
fn a_size_that_is_no_varint_is_damage_to_inspect() {
    let (_tmp, root) = fixture_copy("containerd-1.6");
    let listed: Value =
        serde_json::from_slice(&run(&root, &["-n", "moby", "images", "--format", "json", "webapp:1.0"]).stdout)
            .expect("JSON");
    let config = listed[0]["platforms"][0]["config"]
        .as_str()
        .expect("config")
        .to_string();
    let db = root.join(META);
    let mut data = std::fs::read(&db).expect("meta.db");
    let (record, _) = bucket_element(&data, config.as_bytes()).expect("the config's record");
    let at = record as usize * 4096;
    let page = data[at..at + 4096].to_vec();
    let count = u16::from_le_bytes(page[10..12].try_into().unwrap()) as usize;
    let u = |o: usize| u32::from_le_bytes(page[o..o + 4].try_into().unwrap()) as usize;
    let value = (0..count)
        .find_map(|i| {
            let e = 16 + 16 * i;
            let (pos, ksize, vsize) = (u(e + 4), u(e + 8), u(e + 12));
            (&page[e + pos..e + pos + ksize] == b"size").then_some((at + e + pos + ksize, vsize))
        })
        .expect("the size element");
    // Every byte with its continuation bit: no varint ends inside the value.
    data[value.0..value.0 + value.1].fill(0xff);
    std::fs::write(&db, &data).expect("write");
    let o = run(&root, &["-n", "moby", "inspect", "webapp:1.0"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains(&format!("content {config}: size: not a varint")), "{err}");
}

/// A `containerd.io/gc.ref.content` label whose value is no digest (containerd writes one
/// there): the collector holds nothing by it, so what it held is listed as removed; gc and du
/// say so, exit 3 (a resweep of 30: a live config listed for removal, exit 0).
#[test]
fn a_content_reference_that_is_no_digest_is_damage() {
    let (_tmp, root) = fixture_copy("containerd-1.6");
    let db = root.join(META);
    let mut data = std::fs::read(&db).expect("meta.db");
    let at = key_and_value(&data, b"containerd.io/gc.ref.content.config", b"sha256:");
    data[at + 20] = b'/';
    std::fs::write(&db, &data).expect("write");
    for args in [&["gc"][..], &["du"]] {
        let o = run(&root, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(
            err.contains(
                "namespace moby: a content reference (a containerd.io/gc.ref.content label, or a lease's) is \"sha256:"
            ) && err.contains("not a digest"),
            "{args:?}: {err}"
        );
    }
}
