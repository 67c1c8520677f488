//! Hostile content found by review: a graph that multiplies, and symlinks out of the root
//! in places other than the blob file itself. Every command ends, reports, never follows.

#[path = "gcdu_support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Runs coldctr and fails the test if it has not ended within a minute (a hang).
fn coldctr(root: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(root)
        .args(["--host-platform", "linux/amd64"])
        .args(args)
        .env_remove("DOCKER_API_VERSION")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("coldctr {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// A copy of the docker fixture whose `rel` was moved out of the root (to `outside` in the
/// temporary directory) and replaced by a symlink to where it went.
fn moved_out_and_linked_back(rel: &str, outside: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, root) = support::fixture_copy("docker-28.5");
    let inside = root.join(rel);
    let moved = tmp.path().join(outside);
    std::fs::rename(&inside, &moved).expect("mv");
    std::os::unix::fs::symlink(&moved, &inside).expect("ln");
    (tmp, root)
}

/// attested:1.0's index blob rewritten (same size, so its record still matches) to list
/// itself as often as it fits (4 times: 4^depth walks without a visited set); containerd
/// would walk it forever, every command here must end.
#[test]
fn an_index_that_lists_itself_ends_every_command() {
    let (_tmp, root) = support::fixture_copy("docker-28.5");
    let index = "sha256:d82b2d8221ff47bf631f2405ad25513c627e15e1a3337de1dbc85629f313272e";
    let path = support::blob_path(&root, index);
    let size = std::fs::metadata(&path).expect("blob").len() as usize;
    let entry =
        format!(r#"{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{index}","size":{size}}}"#);
    let times = (size - 16) / (entry.len() + 1);
    assert!(times >= 2, "room for {times} entries");
    let mut doc = format!(r#"{{"manifests":[{}]}}"#, vec![entry; times].join(","));
    assert!(doc.len() <= size, "the self-listing index must fit in {size} bytes");
    doc.push_str(&" ".repeat(size - doc.len()));
    std::fs::write(&path, doc).expect("write");

    let out = coldctr(&root, &["inspect", "attested:1.0", "lab/special:1.0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nested deeper"), "{stderr}");
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        printed.as_array().map(Vec::len),
        Some(1),
        "lab/special:1.0 still printed"
    );

    for cmd in [&["images"][..], &["verify"], &["gc"], &["du"]] {
        let out = coldctr(&root, cmd);
        assert_ne!(
            out.status.code(),
            Some(101),
            "{cmd:?} panicked: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Symlinks to a copy of the store's own data outside the root, where only a real directory
/// or file belongs: none is followed.
#[test]
fn symlinked_store_directories_are_not_followed() {
    let (tmp, root) = support::fixture_copy("docker-28.5");
    let outside = tmp.path().join("outside");
    // blobs/sha512 (unused by the store, but a digest may name it).
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::os::unix::fs::symlink(&outside, root.join("io.containerd.content.v1.content/blobs/sha512")).expect("ln");
    let out = coldctr(&root, &["images"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("blobs/sha512 is a symlink"), "{stderr}");

    // content/ingest a symlink to a directory of ingests elsewhere: none is read.
    let (tmp, root) = support::fixture_copy("docker-28.5");
    let outside = tmp.path().join("ingests-outside");
    std::fs::create_dir_all(outside.join("0123abcd")).expect("mkdir");
    std::fs::write(outside.join("0123abcd/ref"), "outside-ref-text").expect("ref");
    std::fs::write(outside.join("0123abcd/data"), "outside data").expect("data");
    std::os::unix::fs::symlink(&outside, root.join("io.containerd.content.v1.content/ingest")).expect("ln");
    for cmd in [&["gc", "--format", "json"][..], &["du", "--format", "json"]] {
        let out = coldctr(&root, cmd);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            !stdout.contains("outside-ref-text") && !stdout.contains("0123abcd"),
            "{cmd:?}: {stdout}"
        );
        assert!(stderr.contains("ingest: a symlink, not followed"), "{cmd:?}: {stderr}");
    }

    // The snapshotter's metadata.db moved out and linked back: not opened.
    let (_tmp, root) = moved_out_and_linked_back("io.containerd.snapshotter.v1.overlayfs/metadata.db", "metadata.db");
    let out = coldctr(&root, &["snapshots", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        rows.as_array().into_iter().flatten().all(|r| r["backend"].is_null()),
        "a snapshot was read from the symlinked metadata.db"
    );

    // meta.db itself a symlink: not a root, and said so.
    let (_tmp, root) = moved_out_and_linked_back("io.containerd.metadata.v1.bolt/meta.db", "meta.db");
    let out = coldctr(&root, &["images"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("symlink"));
    // Nor carved by recover, which reads a meta.db that does not open as a root.
    let out = coldctr(&root, &["recover", "--format", "json"]);
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("symlink"));
    assert!(out.stdout.is_empty(), "recover read the symlinked meta.db");

    // Its directory a symlink instead: not carved either.
    let (_tmp, root) = moved_out_and_linked_back("io.containerd.metadata.v1.bolt", "bolt-outside");
    let out = coldctr(&root, &["recover", "--format", "json"]);
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "recover read through the symlinked directory");
}

/// A layout whose manifests list a shared manifest as their "layers" (M0 lists M1 forty
/// times, M1 lists M2 forty times, ... with genuine digests, no cycle): containerd's size walk
/// visits each listing again, 40^5 visits without remembering them. Every command ends, and
/// inspect's Size is what that walk adds up (each listing counted, as containerd counts it).
#[test]
fn manifests_listing_shared_manifests_end_every_command() {
    let (tmp, dir) = new_layout();
    let put = |data: &[u8]| put_blob(&dir, data);
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#;
    let (config, config_size) = put(config);
    let manifest_type = "application/vnd.oci.image.manifest.v1+json";
    let (fan_out, levels) = (40usize, 6usize);
    let mut below: Option<(String, i64)> = None;
    // Size of a manifest's walk: itself, its config, and each listed manifest's walk.
    let mut walked = 0i64;
    for _ in 0..levels {
        let layers: Vec<serde_json::Value> = match &below {
            Some((d, s)) => vec![serde_json::json!({"mediaType": manifest_type, "digest": d, "size": s}); fan_out],
            None => Vec::new(),
        };
        let doc = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size},
            "layers": layers,
        });
        let (d, s) = put(doc.to_string().as_bytes());
        walked = s + config_size + if below.is_some() { fan_out as i64 * walked } else { 0 };
        below = Some((d, s));
    }
    let (top, top_size) = below.expect("a manifest");
    name_x(&dir, &top, top_size);

    let out = coldctr(&dir, &["inspect", "x"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(printed[0]["Size"].as_i64(), Some(walked), "40^5 listings counted");

    let out_dir = tmp.path().join("out");
    std::fs::create_dir_all(&out_dir).expect("mkdir");
    let archive = out_dir.join("x.tar");
    let archive = archive.to_str().expect("utf-8 path");
    for cmd in [
        &["images"][..],
        &["verify"],
        &["gc"],
        &["du"],
        &["export", "-o", archive, "x"],
    ] {
        let out = coldctr(&dir, cmd);
        assert_ne!(
            out.status.code(),
            Some(101),
            "{cmd:?} panicked: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A layer directory reached through a symlink on the way (`snapshots` itself, moved out of
/// the root and linked back): `fs ls`, `fs cat` and `diff` refuse it instead of listing what
/// the link leads to.
#[test]
fn a_symlink_above_a_layer_directory_is_not_followed() {
    let (tmp, root) = support::fixture_copy("docker-28.5");
    let snapshots = root.join("io.containerd.snapshotter.v1.overlayfs/snapshots");
    let ok = coldctr(&root, &["fs", "ls", "legacy:2.3:/"]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
    let moved = tmp.path().join("outside");
    std::fs::rename(&snapshots, &moved).expect("mv");
    std::os::unix::fs::symlink(&moved, &snapshots).expect("ln");
    for cmd in [
        &["fs", "ls", "legacy:2.3:/"][..],
        &["fs", "cat", "legacy:2.3:/etc/os-release"],
    ] {
        let out = coldctr(&root, cmd);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{cmd:?}: {stderr}");
        assert!(
            stderr.contains("snapshots: a symlink, not followed"),
            "{cmd:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{cmd:?} printed what the link leads to");
    }
}

/// A manifest listing a foreign layer whose digest is a path (`sha256:../../../../etc/passwd`):
/// its blob is never copied, but its digest would name a member in manifest.json's Layers.
/// export refuses the image (3, nothing written), and --salvage leaves it out.
#[test]
fn a_digest_that_is_a_path_names_no_member() {
    let (tmp, dir) = new_layout();
    let put = |data: &[u8]| put_blob(&dir, data);
    let (config, config_size) =
        put(br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]},"config":{}}"#);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                    "digest": "sha256:../../../../etc/passwd", "size": 1,
                    "urls": ["https://example.invalid/layer"]}],
    });
    let (top, top_size) = put(manifest.to_string().as_bytes());
    name_x(&dir, &top, top_size);

    let archive = tmp.path().join("x.tar");
    let path = archive.to_str().expect("utf-8 path");
    let out = coldctr(&dir, &["export", "--format", "docker-archive", "-o", path, "x"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("which is not a digest"), "{stderr}");
    assert!(!archive.exists(), "an archive was written");

    let out = coldctr(
        &dir,
        &["export", "--salvage", "--format", "docker-archive", "-o", path, "x"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&archive).expect("the salvaged archive");
    assert!(
        !bytes.windows(9).any(|w| w == b"etc/passwd"),
        "the digest's text reached the archive"
    );
}

/// An index.json entry whose digest holds a newline and an escape sequence: the source's
/// problems name it on one line, escaped, and forge no line of their own.
#[test]
fn a_newline_in_a_layout_entry_forges_no_line() {
    let (_tmp, dir) = new_layout();
    let forged = "sha256:00\ncoldctr: error: all good\u{1b}[2J";
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": forged, "size": 3}]});
    std::fs::write(dir.join("index.json"), index.to_string()).expect("index.json");
    for cmd in [&["images"][..], &["verify"]] {
        let out = coldctr(&dir, cmd);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(r"sha256:00\ncoldctr"), "{cmd:?}: {stderr}");
        assert!(
            !stderr.lines().any(|l| l.starts_with("coldctr: error: all good")),
            "{cmd:?} forged a line: {stderr}"
        );
        assert!(!stderr.contains('\u{1b}'), "{cmd:?} printed a raw escape: {stderr}");
    }
}

/// A template's execution error quotes the value it met (`range can't iterate over ...`): a
/// label holding a terminal title sequence is escaped there as it is in the template's output.
#[test]
fn a_template_error_quoting_the_data_prints_no_raw_escape() {
    let (_tmp, dir) = new_layout();
    let hostile = "\u{1b}]0;PWNED\u{7}\u{1b}[31mRED\r";
    let config = serde_json::json!({"architecture": "amd64", "os": "linux",
        "config": {"Labels": {"k": hostile}}, "rootfs": {"type": "layers", "diff_ids": []}});
    let (config, config_size) = put_blob(&dir, config.to_string().as_bytes());
    let manifest = serde_json::json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size},
        "layers": []});
    let (manifest, manifest_size) = put_blob(&dir, manifest.to_string().as_bytes());
    name_x(&dir, &manifest, manifest_size);
    let out = coldctr(&dir, &["inspect", "-f", "{{range .Config.Labels.k}}{{end}}", "x"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("range can't iterate over"), "{stderr}");
    assert!(stderr.contains(r"\x1b]0;PWNED\x07"), "{stderr}");
    assert!(
        !stderr.contains(['\u{1b}', '\u{7}', '\r']),
        "a raw control character: {stderr:?}"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
}

/// An export of a reference that does not resolve echoes it escaped: a script that feeds the
/// names a store holds (`images -q`) to `export` must not put their bytes raw on a terminal.
#[test]
fn an_export_of_an_unknown_reference_echoes_it_escaped() {
    let (_tmp, dir) = new_layout();
    std::fs::write(dir.join("index.json"), r#"{"schemaVersion":2,"manifests":[]}"#).expect("index");
    for reference in ["evil\u{1b}]0;PWNED\u{7}\u{1b}[2J\r", "docker.io/lab/evil\u{1b}[31m:1"] {
        let out = coldctr(&dir, &["export", "-o", "-", reference]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(r"\x1b"), "{stderr}");
        assert!(
            !stderr.contains(['\u{1b}', '\u{7}', '\r']),
            "a raw control character: {stderr:?}"
        );
    }
}

/// A fresh OCI layout (its `oci-layout` and an empty `blobs/sha256`) in a temporary directory.
fn new_layout() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("layout");
    std::fs::create_dir_all(dir.join("blobs/sha256")).expect("mkdir");
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("oci-layout");
    (tmp, dir)
}

/// Writes `data` as a blob of the layout at `dir`: its digest and size.
fn put_blob(dir: &Path, data: &[u8]) -> (String, i64) {
    use sha2::Digest;
    let hex = hex::encode(sha2::Sha256::digest(data));
    std::fs::write(dir.join("blobs/sha256").join(&hex), data).expect("blob");
    (format!("sha256:{hex}"), data.len() as i64)
}

/// The layout's index.json: one OCI manifest, named `x`.
fn name_x(dir: &Path, digest: &str, size: i64) {
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": size,
        "annotations": {"org.opencontainers.image.ref.name": "x"}}]});
    std::fs::write(dir.join("index.json"), index.to_string()).expect("index.json");
}

/// A name holding a bidi override, a zero-width space, a BOM and DEL. JSON output wrote them
/// raw to the terminal, and a `{{json .}}` template wrote `\u{202e}` and `\x7f`, which are no
/// JSON escapes (the line did not parse). Now both write `\u202e`...: valid JSON, and the
/// value read back is the name as stored.
#[test]
fn hazards_in_json_are_json_escapes_of_the_same_value() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    support::copy_tree(&support::repo().join("fixtures/oci-dev/layouts/umoci"), &layout);
    let name = "v\u{202e}1\u{200b}x\u{feff}y\u{7f}z";
    let index = std::fs::read_to_string(layout.join("index.json")).unwrap();
    let renamed = index.replace(
        "\"org.opencontainers.image.ref.name\":\"v1\"",
        &format!(
            "\"org.opencontainers.image.ref.name\":{}",
            serde_json::to_string(name).unwrap()
        ),
    );
    assert_ne!(renamed, index);
    std::fs::write(layout.join("index.json"), renamed).unwrap();
    for args in [
        &["images", "--format", "json"][..],
        &["images", "--format", "{{json .}}"],
        &["images", "--format", "jsonl"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .arg("--root")
            .arg(&layout)
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        for raw in ['\u{202e}', '\u{200b}', '\u{feff}', '\u{7f}'] {
            assert!(!text.contains(raw), "{args:?}: {raw:?} raw in {text}");
        }
        let names: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with('{'))
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["name"].as_str().map(str::to_string))
            .chain(
                serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v.as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|v| v["name"].as_str().map(str::to_string)),
            )
            .collect();
        assert!(names.iter().any(|n| n == name), "{args:?}: {names:?} in {text}");
    }
}

/// A manifest blob cut short, or of other bytes than its digest's: inspect prints dockerd's
/// error (`unexpected EOF`, which names no blob) and says which blob is damaged and how,
/// exit 3 (sweep 23: exit 1, and nothing named the blob).
#[test]
fn a_damaged_manifest_is_named_when_inspect_fails_on_it() {
    let manifest = "sha256:ba6ca0d4f91b586fdab0a8eaf14a8ca6e40ecbea2a305cd1c3df4ca1837b323f";
    let (_tmp, root) = support::fixture_copy("docker-28.5");
    let path = support::blob_path(&root, manifest);
    let bytes = std::fs::read(&path).expect("blob");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("cut");
    let out = coldctr(&root, &["inspect", "lab/special:1.0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("Error response from daemon: unexpected EOF"),
        "{stderr}"
    );
    let said = format!(
        "{manifest}: the content record says {} bytes, the blob file is {} bytes",
        bytes.len(),
        bytes.len() / 2
    );
    assert!(stderr.contains(&said), "{stderr}");

    // The same length, other bytes: not JSON, and not the digest's bytes.
    let mut other = bytes.clone();
    other[0] = b'x';
    std::fs::write(&path, &other).expect("write");
    let out = coldctr(&root, &["inspect", "lab/special:1.0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("{manifest}: the blob file hashes to sha256:")),
        "{stderr}"
    );
}

/// `--from-blobs` on an image whose manifest is cut short says which blob and how, not "no
/// manifest of the image is on the node" (sweep 23; a damaged meta.db page is named the same
/// way, with its file, page and offset).
#[test]
fn from_blobs_names_the_damaged_manifest() {
    let manifest = "sha256:ba6ca0d4f91b586fdab0a8eaf14a8ca6e40ecbea2a305cd1c3df4ca1837b323f";
    let (_tmp, root) = support::fixture_copy("docker-28.5");
    let path = support::blob_path(&root, manifest);
    let bytes = std::fs::read(&path).expect("blob");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("cut");
    let out = coldctr(&root, &["fs", "ls", "--from-blobs", "lab/special:1.0:/"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&format!("{manifest}: unexpected EOF")), "{stderr}");
    assert!(!stderr.contains("no manifest of the image"), "{stderr}");
}
