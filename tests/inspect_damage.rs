//! Inspect on a root whose meta.db has a damaged page: the images that can be read are still
//! printed, the damage is named (file, page, offset) on stderr, and the exit code is 3.

use std::path::Path;
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_type().expect("type").is_file() {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn a_damaged_image_leaf_is_named_and_the_others_still_print() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5"),
        &root,
    );
    let db = root.join("io.containerd.metadata.v1.bolt/meta.db");
    let mut data = std::fs::read(&db).expect("read meta.db");
    // The leaf page of the moby images bucket that lists lab/special:1.0 among other names.
    let page = (2..data.len() / 4096)
        .find(|&p| {
            let page = &data[p * 4096..(p + 1) * 4096];
            u64::from_le_bytes(page[0..8].try_into().unwrap()) == p as u64
                && u16::from_le_bytes(page[8..10].try_into().unwrap()) == 2
                && page.windows(22).any(|w| w == b"docker.io/lab/nohist:1")
                && page.windows(25).any(|w| w == b"docker.io/lab/special:1.0")
        })
        .expect("the images leaf page");
    // Element 2 (lab/special:1.0, after collide and nohist): its key position points nowhere.
    let elem = page * 4096 + 16 + 16 * 2;
    data[elem + 4..elem + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&db, &data).expect("write");

    let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(&root)
        .args([
            "--host-platform",
            "linux/amd64",
            "inspect",
            "lab/special:1.0",
            "webapp:1.0",
        ])
        .env_remove("DOCKER_API_VERSION")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&format!("page {page} (offset")), "{stderr}");
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    let ids: Vec<&str> = printed
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|o| o["Id"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["sha256:1405e102bbab4dc94942f087a84294adb1fba75d24bb86c3aa1a7f593fcbeb1a"]
    );
}

/// An OCI layout with one image, tagged `t`, whose config's labels object holds `labels` (the
/// bytes between its braces, as given).
fn layout_with_labels(dir: &Path, labels: &[u8]) {
    use sha2::Digest as _;
    std::fs::create_dir_all(dir.join("blobs/sha256")).expect("mkdir");
    let put = |b: &[u8]| {
        let hex: String = sha2::Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect();
        std::fs::write(dir.join("blobs/sha256").join(&hex), b).expect("write blob");
        (format!("sha256:{hex}"), b.len())
    };
    let (layer, layer_size) = put(&[0; 1024]);
    let mut config = br#"{"architecture":"amd64","os":"linux","config":{"Labels":{"#.to_vec();
    config.extend_from_slice(labels);
    config.extend_from_slice(format!(r#"}}}},"rootfs":{{"type":"layers","diff_ids":["{layer}"]}}}}"#).as_bytes());
    let (config, config_size) = put(&config);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": layer_size}],
    });
    let (manifest, manifest_size) = put(manifest.to_string().as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest,
            "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": "t"},
        }],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).expect("index.json");
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("oci-layout");
}

/// A config whose strings hold what Go's encoding/json reads as U+FFFD (lone surrogate escapes,
/// bytes that are not UTF-8) is read as dockerd reads it, not refused: docker prints the labels.
#[test]
fn a_config_with_strings_go_reads_as_replacement_characters_is_read_as_go_reads_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("layout");
    layout_with_labels(
        &root,
        b"\"a\":\"\\ud800\",\"b\":\"x\xffy\",\"c\":\"\\ud800\\u0041\",\"d\":\"\xe2\x82\",\"e\xff\":\"\\udc00\\ud83d\\ude00\"",
    );
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .arg("--root")
            .arg(&root)
            .args(["--host-platform", "linux/amd64"])
            .args(args)
            .env_remove("DOCKER_API_VERSION")
            .env_remove("COLDCTR_ROOT")
            .output()
            .expect("run")
    };
    let out = run(&["inspect", "-f", "{{json .Config.Labels}}", "t"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
    // What Go 1.19's json.Unmarshal into map[string]string, then docker's `json` template
    // function (an Encoder with SetEscapeHTML(false)), made of the same labels object.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"a\":\"\u{fffd}\",\"b\":\"x\u{fffd}y\",\"c\":\"\u{fffd}A\",\"d\":\"\u{fffd}\u{fffd}\",\"e\u{fffd}\":\"\u{fffd}\u{1f600}\"}\n"
    );
    // verify hashes the blob's own bytes and finds the document readable.
    let out = run(&["verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    // images reads the config's platform (linux/amd64), as it would without the odd strings.
    let out = run(&["images", "--format", "{{json .platformsPresent}}"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[\"linux/amd64\"]\n");
    let out = run(&["inspect", "-f", "{{.Architecture}} {{.Os}} {{len .RootFS.Layers}}", "t"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "amd64 linux 1\n");
}

/// The page of content record `digest`: the root of the bucket a leaf element keyed by the
/// digest names (a record is a bucket of its own, on a page of its own in containerd-1.6).
fn record_page(data: &[u8], digest: &[u8]) -> usize {
    let u32_at = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap()) as usize;
    for p in 2..data.len() / 4096 {
        let at = p * 4096;
        if u64::from_le_bytes(data[at..at + 8].try_into().unwrap()) != p as u64
            || u16::from_le_bytes(data[at + 8..at + 10].try_into().unwrap()) != 2
        {
            continue;
        }
        let count = u16::from_le_bytes(data[at + 10..at + 12].try_into().unwrap()) as usize;
        for i in 0..count {
            let e = at + 16 + 16 * i;
            let (flags, pos, ksize) = (u32_at(e), u32_at(e + 4), u32_at(e + 8));
            let key = e + pos;
            if flags & 1 == 1 && data.get(key..key + ksize) == Some(digest) {
                let root = &data[key + ksize..key + ksize + 8];
                return u64::from_le_bytes(root.try_into().unwrap()) as usize;
            }
        }
    }
    panic!("no record of {}", String::from_utf8_lossy(digest))
}

/// Damage in a content record inspect reads: said and exit 3, never an image printed as
/// though its blobs were not there (sweep 30.1: a zeroed layer record made the image "not
/// available", and inspect printed an empty Config, exit 0), nor "No such image", exit 1
/// (30.6: the target manifest's record).
#[test]
fn a_damaged_content_record_is_damage_not_a_missing_blob() {
    // A layer of webapp:1.0; webapp-debug:1.0's manifest.
    let layer: &[u8] = b"sha256:f7610dee326f36c1661d2583c561cbe54a033d8f4732fc114b3138f2eba14f61";
    let manifest: &[u8] = b"sha256:43ca727202ff7b42ca86147b80f5786a9824598588102279e320f68001f20a08";
    for (digest, name) in [(layer, "webapp:1.0"), (manifest, "webapp-debug:1.0")] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("root");
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/containerd-1.6"),
            &root,
        );
        let db = root.join("io.containerd.metadata.v1.bolt/meta.db");
        let mut data = std::fs::read(&db).expect("read meta.db");
        let page = record_page(&data, digest);
        data[page * 4096..(page + 1) * 4096].fill(0);
        std::fs::write(&db, &data).expect("write");
        let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .arg("--root")
            .arg(&root)
            .args(["--host-platform", "linux/amd64", "-n", "moby", "inspect", name])
            .env_remove("COLDCTR_ROOT")
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{name}, page {page}: {stderr}");
        assert!(
            stderr.contains(&format!("meta.db: page {page} (offset {})", page * 4096)),
            "{name}: {stderr}"
        );
    }
}
