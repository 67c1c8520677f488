//! `coldctr export`, run as a binary on the bundled roots (docker-28.5, containerd-1.6) and on
//! copies damaged at run time: what goes out (against the image records and a walk of the
//! fixture's own content store written here, not coldctr's), that every member hashes to its
//! name, the names in index.json and manifest.json, determinism, the safety refusals, and
//! damage with and without --salvage. skopeo and umoci, when installed, read the outputs.

use serde_json::Value;
use sha2::Digest as _;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod unprivileged;

const BLOBS: &str = "io.containerd.content.v1.content/blobs/sha256";

fn fixture(fx: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(fx)
}

fn coldctr(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(root)
        .args(["--host-platform", "linux/amd64"])
        .args(args)
        .env_remove("COLDCTR_ROOT")
        .stdin(Stdio::null())
        .output()
        .expect("run coldctr")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(data))
}

/// A ustar archive's members in order, checking every header as we go: checksum, ustar magic,
/// owners, mode and mtime as export promises.
fn read_tar(data: &[u8]) -> Vec<(String, Option<Vec<u8>>)> {
    let octal = |b: &[u8]| -> u64 {
        let s: String = b
            .iter()
            .take_while(|&&c| c != 0 && c != b' ')
            .map(|&c| c as char)
            .collect();
        u64::from_str_radix(s.trim(), 8).unwrap_or_else(|_| panic!("octal field {b:?}"))
    };
    let mut out = Vec::new();
    let mut off = 0;
    loop {
        let h = &data[off..off + 512];
        if h.iter().all(|&b| b == 0) {
            assert!(data[off..].iter().all(|&b| b == 0), "data after the end blocks");
            assert_eq!(data.len() - off, 1024, "two zero blocks end the archive");
            break;
        }
        let mut sum_copy = h.to_vec();
        sum_copy[148..156].copy_from_slice(b"        ");
        let sum: u64 = sum_copy.iter().map(|&b| b as u64).sum();
        assert_eq!(octal(&h[148..156]), sum, "header checksum");
        assert_eq!(&h[257..265], b"ustar\x0000");
        let name = String::from_utf8(h[..100].iter().take_while(|&&b| b != 0).copied().collect()).unwrap();
        assert_eq!(octal(&h[108..116]), 0, "{name}: uid");
        assert_eq!(octal(&h[116..124]), 0, "{name}: gid");
        assert_eq!(octal(&h[136..148]), 0, "{name}: mtime");
        assert!(h[265..329].iter().all(|&b| b == 0), "{name}: uname/gname empty");
        let size = octal(&h[124..136]) as usize;
        off += 512;
        match h[156] {
            b'5' => {
                assert_eq!(octal(&h[100..108]), 0o755, "{name}: mode");
                assert!(name.ends_with('/'));
                out.push((name, None));
            }
            b'0' => {
                assert_eq!(octal(&h[100..108]), 0o644, "{name}: mode");
                out.push((name, Some(data[off..off + size].to_vec())));
                off += size.div_ceil(512) * 512;
            }
            t => panic!("{name}: typeflag {t}"),
        }
    }
    out
}

/// The files of an archive or a layout directory, by name.
fn files_of(out: &Path) -> BTreeMap<String, Vec<u8>> {
    if out.is_dir() {
        let mut m = BTreeMap::new();
        for name in ["oci-layout", "index.json", "manifest.json", "repositories"] {
            if let Ok(b) = std::fs::read(out.join(name)) {
                m.insert(name.to_string(), b);
            }
        }
        if let Ok(rd) = std::fs::read_dir(out.join("blobs/sha256")) {
            for e in rd {
                let e = e.unwrap();
                m.insert(
                    format!("blobs/sha256/{}", e.file_name().to_string_lossy()),
                    std::fs::read(e.path()).unwrap(),
                );
            }
        }
        return m;
    }
    let members = read_tar(&std::fs::read(out).unwrap());
    let names: Vec<&String> = members.iter().map(|(n, _)| n).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted, "members sorted, each once");
    members.into_iter().filter_map(|(n, d)| d.map(|d| (n, d))).collect()
}

fn json(files: &BTreeMap<String, Vec<u8>>, name: &str) -> Value {
    serde_json::from_slice(files.get(name).unwrap_or_else(|| panic!("{name} missing"))).unwrap()
}

/// The image records' targets, from `coldctr images` (the records, not export).
fn targets(root: &Path, ns: &str) -> BTreeMap<String, String> {
    let o = coldctr(root, &["-n", ns, "images", "--all", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_string(),
                i["target"]["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// What `docker save` exports for a target, walked here from the fixture's blob files: the
/// target, and for an index every child manifest whose file is there, with its config and layers.
fn expected_blobs(root: &Path, target: &str) -> BTreeSet<String> {
    let read = |d: &str| std::fs::read(root.join(BLOBS).join(d.trim_start_matches("sha256:"))).ok();
    let mut out = BTreeSet::new();
    let mut stack = vec![target.to_string()];
    while let Some(d) = stack.pop() {
        let Some(data) = read(&d) else { continue };
        out.insert(d.clone());
        let v: Value = serde_json::from_slice(&data).unwrap_or(Value::Null);
        if let Some(ms) = v["manifests"].as_array() {
            stack.extend(ms.iter().map(|m| m["digest"].as_str().unwrap().to_string()));
        }
        if let Some(c) = v["config"]["digest"].as_str() {
            out.insert(c.to_string());
            for l in v["layers"].as_array().unwrap() {
                out.insert(l["digest"].as_str().unwrap().to_string());
            }
        }
    }
    out
}

/// Every blob member hashes to its name; the set of blobs.
fn blob_members(files: &BTreeMap<String, Vec<u8>>) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    for (name, data) in files {
        if let Some(hex) = name.strip_prefix("blobs/sha256/") {
            assert_eq!(sha256_hex(data), hex, "{name} does not hash to its name");
            set.insert(format!("sha256:{hex}"));
        }
    }
    set
}

/// A reference as the record names it: `webapp:1.0` -> `docker.io/library/webapp:1.0`.
fn full_name(r: &str) -> String {
    match r.split_once('/') {
        Some((domain, _)) if domain.contains(['.', ':']) => r.to_string(),
        Some(_) => format!("docker.io/{r}"),
        None => format!("docker.io/library/{r}"),
    }
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

struct Case {
    fixture: &'static str,
    namespace: &'static str,
    refs: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        fixture: "docker-28.5",
        namespace: "moby",
        refs: &[
            "webapp:1.0",
            "multi:3.1",
            "dlist:1",
            "quay.io/lab/webapp:stable",
            "multiall:3.1",
        ],
    },
    Case {
        fixture: "containerd-1.6",
        namespace: "moby",
        refs: &["webapp:1.0", "legacy:2.3", "multiall:3.1", "webapp:latest"],
    },
];

#[test]
fn every_format_holds_exactly_the_images_blobs_and_names() {
    for case in CASES {
        let root = fixture(case.fixture);
        let records = targets(&root, case.namespace);
        let dir = tmp();
        for format in ["docker-archive", "oci-archive", "oci-dir"] {
            let out = dir.path().join(format);
            let mut args = vec![
                "-n",
                case.namespace,
                "export",
                "--format",
                format,
                "-o",
                out.to_str().unwrap(),
            ];
            args.extend(case.refs);
            let o = coldctr(&root, &args);
            assert_eq!(o.status.code(), Some(0), "{} {format}: {}", case.fixture, stderr(&o));
            let files = files_of(&out);
            // (a) exactly the chosen images' blobs, (b) each hashing to its name.
            let mut want = BTreeSet::new();
            let mut full_names = Vec::new();
            for r in case.refs {
                let full = full_name(r);
                let target = records.get(&full).unwrap_or_else(|| panic!("no record {full}"));
                want.extend(expected_blobs(&root, target));
                full_names.push((full, target.clone()));
            }
            assert_eq!(blob_members(&files), want, "{} {format}", case.fixture);
            // (c) index.json: one entry per reference, named as containerd names them.
            let index = json(&files, "index.json");
            assert_eq!(index["schemaVersion"], 2);
            let entries = index["manifests"].as_array().unwrap();
            assert_eq!(entries.len(), case.refs.len());
            for (e, (full, target)) in entries.iter().zip(&full_names) {
                assert_eq!(e["digest"].as_str(), Some(target.as_str()));
                assert_eq!(
                    e["annotations"]["io.containerd.image.name"].as_str(),
                    Some(full.as_str())
                );
                let tag = full.rsplit(':').next().unwrap();
                assert_eq!(
                    e["annotations"]["org.opencontainers.image.ref.name"].as_str(),
                    Some(tag)
                );
            }
            assert_eq!(
                json(&files, "oci-layout"),
                serde_json::json!({"imageLayoutVersion": "1.0.0"})
            );
            if format == "docker-archive" {
                check_docker_manifest(&root, &files, case.refs, &full_names);
            } else {
                assert!(!files.contains_key("manifest.json"), "{format} has no manifest.json");
            }
        }
    }
}

/// manifest.json: one entry per exported image (images sharing a target share it), its
/// RepoTags familiar, its config and layers those of the host's (amd64) manifest.
fn check_docker_manifest(root: &Path, files: &BTreeMap<String, Vec<u8>>, refs: &[&str], full: &[(String, String)]) {
    let read = |d: &str| -> Value {
        serde_json::from_slice(&std::fs::read(root.join(BLOBS).join(d.trim_start_matches("sha256:"))).unwrap()).unwrap()
    };
    let mf = json(files, "manifest.json");
    let entries = mf.as_array().unwrap();
    let distinct: BTreeSet<&String> = full.iter().map(|(_, t)| t).collect();
    assert_eq!(entries.len(), distinct.len());
    for (r, (_, target)) in refs.iter().zip(full) {
        let mut m = read(target);
        if let Some(ms) = m["manifests"].as_array() {
            let amd = ms
                .iter()
                .find(|c| c["platform"]["architecture"] == "amd64")
                .expect("an amd64 manifest");
            m = read(amd["digest"].as_str().unwrap());
        }
        let config = format!(
            "blobs/sha256/{}",
            m["config"]["digest"].as_str().unwrap().trim_start_matches("sha256:")
        );
        let e = entries
            .iter()
            .find(|e| e["Config"] == config.as_str())
            .unwrap_or_else(|| panic!("{r}: no manifest.json entry for {config}"));
        let tag = if r.contains(':') {
            r.to_string()
        } else {
            format!("{r}:latest")
        };
        assert!(
            e["RepoTags"].as_array().unwrap().iter().any(|t| t == tag.as_str()),
            "{r}: RepoTags {}",
            e["RepoTags"]
        );
        let layers: Vec<String> = m["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                format!(
                    "blobs/sha256/{}",
                    l["digest"].as_str().unwrap().trim_start_matches("sha256:")
                )
            })
            .collect();
        assert_eq!(e["Layers"], serde_json::json!(layers), "{r}");
    }
    let repos = json(files, "repositories");
    assert!(repos["webapp"]["1.0"].is_string(), "{repos}");
}

#[test]
fn same_inputs_give_byte_identical_archives_also_on_stdout() {
    let root = fixture("docker-28.5");
    let dir = tmp();
    let refs = ["dlist:1", "webapp:1.0", "lab/special:1.0"];
    let mut outputs = Vec::new();
    for name in ["one.tar", "two.tar"] {
        let out = dir.path().join(name);
        let mut args = vec!["export", "-o", out.to_str().unwrap()];
        args.extend(refs);
        let o = coldctr(&root, &args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        outputs.push(std::fs::read(&out).unwrap());
    }
    let mut args = vec!["export", "-o", "-"];
    args.extend(refs);
    let streamed = coldctr(&root, &args);
    assert_eq!(streamed.status.code(), Some(0), "{}", stderr(&streamed));
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], streamed.stdout);
    // --platform: the manifest alone becomes the target, the index stays behind.
    let out = dir.path().join("p.tar");
    let o = coldctr(
        &root,
        &[
            "export",
            "--platform",
            "linux/amd64",
            "-o",
            out.to_str().unwrap(),
            "multiall:3.1",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let files = files_of(&out);
    let index = json(&files, "index.json");
    let entry = &index["manifests"][0];
    assert_eq!(entry["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(entry["platform"]["architecture"], "amd64");
    let blobs = blob_members(&files);
    assert!(!blobs.contains("sha256:146b32962b22a51ee95c445587a8f7c79b2691cc17333e9e28014662584ab2eb"));
    assert_eq!(blobs, expected_blobs(&root, entry["digest"].as_str().unwrap()));
    // An image exported by ID carries no name (as docker save).
    let o = coldctr(&root, &["export", "-o", "-", "1405e102bbab"]);
    let files: BTreeMap<String, Vec<u8>> = read_tar(&o.stdout)
        .into_iter()
        .filter_map(|(n, d)| d.map(|d| (n, d)))
        .collect();
    assert!(json(&files, "index.json")["manifests"][0].get("annotations").is_none());
    assert_eq!(json(&files, "manifest.json")[0]["RepoTags"], Value::Null);
    // A reference given twice (or spelled twice) is one entry.
    let o = coldctr(
        &root,
        &[
            "export",
            "-o",
            "-",
            "webapp:1.0",
            "docker.io/library/webapp:1.0",
            "webapp:1.0",
        ],
    );
    let files: BTreeMap<String, Vec<u8>> = read_tar(&o.stdout)
        .into_iter()
        .filter_map(|(n, d)| d.map(|d| (n, d)))
        .collect();
    assert_eq!(
        json(&files, "index.json")["manifests"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        json(&files, "manifest.json")[0]["RepoTags"],
        serde_json::json!(["webapp:1.0"])
    );
}

/// An output that cannot be written (a full device) is exit 5, said once as the output's
/// failure, not as a blob's: the stream's bytes are not the store's fault. A listing to a full
/// device is 5 too; a listing whose reader went away (`| head`) is not a failure, an archive
/// whose reader went away is (it did not arrive whole).
/// A layout's entry named by a tag alone ("v1", as umoci and skopeo write it) keeps that ref
/// name but is no repository: no RepoTags and no `repositories` (skopeo's own docker-archive
/// of it has `"RepoTags":[]`; `v1:latest` was an invented name podman then loaded).
#[test]
fn a_layout_tag_alone_is_no_repository() {
    let root = fixture("oci-dev/layouts/umoci");
    let o = coldctr(&root, &["export", "-o", "-", "v1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let files: BTreeMap<String, Vec<u8>> = read_tar(&o.stdout)
        .into_iter()
        .filter_map(|(n, d)| d.map(|d| (n, d)))
        .collect();
    let index = json(&files, "index.json");
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "v1"
    );
    assert_eq!(json(&files, "manifest.json")[0]["RepoTags"], Value::Null);
    assert!(!files.contains_key("repositories"));
}

/// An OCI artifact (the layout's `sbom`: a manifest whose config is no image config) goes into a
/// docker-archive as containerd's exporter writes it, named in manifest.json, but said on
/// stderr: docker-archive loaders build an image from the config's rootfs and refuse it
/// (skopeo: "rootFS is not set", ctr import: "mismatched image rootfs"). An image from the
/// same layout gets no such word.
#[test]
fn an_artifact_in_a_docker_archive_is_said() {
    let root = fixture("oci-dev/layouts/handmade-graph");
    let index: Value = serde_json::from_slice(&std::fs::read(root.join("index.json")).unwrap()).unwrap();
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "sbom")
        .expect("the layout names sbom");
    let digest = entry["digest"].as_str().unwrap();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join("blobs/sha256").join(&digest[7..])).unwrap()).unwrap();
    let config_type = manifest["config"]["mediaType"].as_str().unwrap();
    assert!(!config_type.contains("image.config") && !config_type.contains("container.image"));

    let o = coldctr(&root, &["export", "--format", "docker-archive", "-o", "-", "sbom"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.lines()
            .any(|l| l.contains(digest) && l.contains(config_type) && l.contains("not an image")),
        "{err}"
    );
    let files: BTreeMap<String, Vec<u8>> = read_tar(&o.stdout)
        .into_iter()
        .filter_map(|(n, d)| d.map(|d| (n, d)))
        .collect();
    let config = manifest["config"]["digest"].as_str().unwrap().replace(':', "/");
    assert_eq!(json(&files, "manifest.json")[0]["Config"], format!("blobs/{config}"));

    for format in ["docker-archive", "oci-archive"] {
        let image = coldctr(&root, &["export", "--format", format, "-o", "-", "attested"]);
        assert_eq!(image.status.code(), Some(0), "{}", stderr(&image));
        assert!(!stderr(&image).contains("not an image"), "{}", stderr(&image));
    }
    let oci = coldctr(&root, &["export", "--format", "oci-archive", "-o", "-", "sbom"]);
    assert_eq!(oci.status.code(), Some(0), "{}", stderr(&oci));
    assert!(!stderr(&oci).contains("not an image"), "{}", stderr(&oci));
}

/// A target that is neither a manifest nor an index (its descriptor's media type empty) is
/// damage, as inspect says: an export of it would load nothing (manifest.json `[]`).
#[test]
fn a_target_of_no_image_type_is_damage_not_an_empty_export() {
    let dir = tmp();
    let layout = dir.path().join("l");
    copy_root(&fixture("oci-dev/layouts/umoci"), &layout);
    let index: Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let first = &index["manifests"][0];
    let entry = serde_json::json!({
        "mediaType": "",
        "digest": first["digest"],
        "size": first["size"],
        "annotations": {"org.opencontainers.image.ref.name": "x"},
    });
    std::fs::write(
        layout.join("index.json"),
        serde_json::json!({"schemaVersion": 2, "manifests": [entry]}).to_string(),
    )
    .unwrap();
    let out = dir.path().join("x.tar");
    let o = coldctr(&layout, &["export", "-o", out.to_str().unwrap(), "x"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("neither a manifest nor index"), "{}", stderr(&o));
    assert!(!out.exists());
}

/// A copy of the umoci layout whose one image, `big`, has one layer of `size` bytes, sparse on
/// disk, beginning with `head`, named by no digest of it; with `diff_id`, the config's rootfs
/// names that layer (as `fs export --from-blobs` needs).
fn big_layout(dir: &Path, head: &[u8], size: u64, diff_id: bool) -> PathBuf {
    let layout = dir.join("big");
    copy_root(&fixture("oci-dev/layouts/umoci"), &layout);
    let blobs = layout.join("blobs/sha256");
    let layer = "1".repeat(64);
    let mut f = std::fs::File::create(blobs.join(&layer)).unwrap();
    std::io::Write::write_all(&mut f, head).unwrap();
    f.set_len(size).unwrap();
    let index: Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let first = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:");
    let manifest: Value = serde_json::from_slice(&std::fs::read(blobs.join(first)).unwrap()).unwrap();
    let mut config_descriptor = manifest["config"].clone();
    if diff_id {
        let hex = config_descriptor["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:");
        let mut config: Value = serde_json::from_slice(&std::fs::read(blobs.join(hex)).unwrap()).unwrap();
        config["rootfs"] = serde_json::json!({"type": "layers", "diff_ids": [format!("sha256:{layer}")]});
        let config = config.to_string();
        let hex = sha256_hex(config.as_bytes());
        std::fs::write(blobs.join(&hex), &config).unwrap();
        config_descriptor = serde_json::json!({"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{hex}"), "size": config.len()});
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_descriptor,
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{layer}"), "size": size}],
    })
    .to_string();
    let hex = sha256_hex(manifest.as_bytes());
    std::fs::write(blobs.join(&hex), &manifest).unwrap();
    let entry = serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": format!("sha256:{hex}"), "size": manifest.len(), "annotations": {"org.opencontainers.image.ref.name": "big"}});
    std::fs::write(
        layout.join("index.json"),
        serde_json::json!({"schemaVersion": 2, "manifests": [entry]}).to_string(),
    )
    .unwrap();
    layout
}

/// The child starts with SIGINT, SIGTERM, SIGHUP and SIGQUIT at their default action, as from
/// a terminal: a test run as a background job (CI's runner may be one) inherits SIGINT ignored,
/// and coldctr leaves an ignored signal ignored. No core file: SIGQUIT's default action dumps
/// one, in the test's directory.
fn with_default_signals(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec, only signal(2) and setrlimit(2), async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                libc::signal(s, libc::SIG_DFL);
            }
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &none);
            Ok(())
        })
    }
}

/// Ctrl-C or `kill` during an export removes the partial output beside OUT (a failed export
/// leaves nothing), and the process still ends by the signal. The image's one layer is a
/// 1 GiB sparse file, far from copied when the signal comes.
#[test]
fn a_signal_during_an_export_leaves_nothing_behind() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tmp();
    // Its one layer's name is no digest of it: the copy would only find that at its end.
    let layout = big_layout(dir.path(), &[], 1 << 30, false);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for (signal, format) in [
        (libc::SIGINT, "docker-archive"),
        (libc::SIGTERM, "oci-dir"),
        (libc::SIGQUIT, "oci-archive"),
    ] {
        let child = with_default_signals(
            Command::new(env!("CARGO_BIN_EXE_coldctr"))
                .arg("--root")
                .arg(&layout)
                .args(["export", "--format", format, "-o"])
                .arg(out.join(format))
                .arg("big")
                .stdout(Stdio::null())
                .stderr(Stdio::piped()),
        )
        .spawn()
        .unwrap();
        // Until the partial output is there, then the signal.
        let started = std::time::Instant::now();
        while std::fs::read_dir(&out).unwrap().next().is_none() && started.elapsed().as_secs() < 20 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // SAFETY: a signal to our own child, by its pid.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.signal(), Some(signal), "{format}: {}", stderr(&o));
        assert!(stderr(&o).contains("the partial output was removed"), "{}", stderr(&o));
        let left: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{format}: {left:?}");
    }
}

#[test]
fn a_full_output_or_a_closed_pipe_is_exit_5_not_damage() {
    let run = |args: &[&str], stdout: Stdio| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .arg("--root")
            .arg(fixture("docker-28.5"))
            .args(["-n", "moby"])
            .args(args)
            .env_remove("COLDCTR_ROOT")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("run coldctr");
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().expect("stderr"), &mut err).expect("stderr");
        (child.wait().expect("wait").code(), err)
    };
    let archive = ["export", "--format", "oci-archive", "-o", "-", "webapp:1.0"];
    let full = || match std::fs::OpenOptions::new().write(true).open("/dev/full") {
        Ok(f) => Some(Stdio::from(f)),
        Err(_) => {
            eprintln!("skipped: no /dev/full");
            None
        }
    };
    if let Some(out) = full() {
        let (code, err) = run(&archive, out);
        assert_eq!(code, Some(5), "{err}");
        assert_eq!(
            err.matches("writing the output: No space left on device").count(),
            1,
            "{err}"
        );
        assert!(!err.contains("writing the output: writing the output"), "{err}");
        assert!(!err.contains("damaged") && !err.contains("missing"), "{err}");
    }
    if let Some(out) = full() {
        let (code, err) = run(&["images", "--format", "json"], out);
        assert_eq!(code, Some(5), "{err}");
        assert!(err.contains("No space left on device"), "{err}");
    }
    // A pipe whose reader is gone before anything is written.
    let closed = || {
        let mut fds = [0; 2];
        // SAFETY: pipe(2) fills the two descriptors; the read end is closed at once and the
        // write end handed to the child (owned by the Stdio).
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            libc::close(fds[0]);
            Stdio::from(<std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[1]))
        }
    };
    let tar = ["fs", "export", "--from-blobs", "webapp:1.0", "-o", "-"];
    // An archive small enough (2,560 bytes) to sit whole in the output's buffer until the end:
    // it too must arrive.
    let small = ["fs", "export", "--from-blobs", "lab/nohist:1", "-o", "-"];
    for args in [&archive[..], &tar, &small] {
        let (code, err) = run(args, closed());
        assert_eq!(code, Some(5), "{args:?}: {err}");
        assert_eq!(err.matches("Broken pipe").count(), 1, "{args:?}: {err}");
    }
    let (code, err) = run(&["images", "--format", "json"], closed());
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn refuses_to_write_in_the_root_or_over_an_existing_output() {
    let dir = tmp();
    let copy = dir.path().join("root");
    copy_root(&fixture("docker-28.5"), &copy);
    let before = listing(&copy);
    // Inside the root, also through `..` and a symlinked parent.
    std::os::unix::fs::symlink(copy.join("io.containerd.content.v1.content"), dir.path().join("link")).unwrap();
    for out in [
        copy.join("x.tar"),
        copy.join("io.containerd.content.v1.content/../out.tar"),
        dir.path().join("link/x.tar"),
        copy.clone(),
        dir.path().to_path_buf(),
    ] {
        let o = coldctr(&copy, &["export", "--force", "-o", out.to_str().unwrap(), "webapp:1.0"]);
        assert_eq!(o.status.code(), Some(2), "{}: {}", out.display(), stderr(&o));
        assert!(stderr(&o).contains("source root"), "{}", stderr(&o));
    }
    assert_eq!(listing(&copy), before, "nothing written in the root");
    // An existing OUT is kept without --force, replaced with it.
    let out = dir.path().join("out.tar");
    std::fs::write(&out, b"keep me").unwrap();
    let o = coldctr(&copy, &["export", "-o", out.to_str().unwrap(), "webapp:1.0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("already exists"));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    let o = coldctr(&copy, &["export", "--force", "-o", out.to_str().unwrap(), "webapp:1.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(files_of(&out).contains_key("manifest.json"));
    // A name ending in `/` is a directory's: no archive is written or replaced there (sweep
    // 40, F3: the slash was dropped, and --force replaced the file it named).
    let replaced = format!("{}/", out.display());
    let new = format!("{}/", dir.path().join("new").display());
    for args in [
        vec!["export", "--force", "-o", replaced.as_str(), "webapp:1.0"],
        vec!["export", "--format", "oci-archive", "-o", new.as_str(), "webapp:1.0"],
    ] {
        let o = coldctr(&copy, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("ends in / (a directory)"), "{}", stderr(&o));
    }
    assert!(files_of(&out).contains_key("manifest.json"));
    assert!(!dir.path().join("new").exists());
    // A directory that is no earlier output (a case folder) is never replaced, by an archive
    // or by a layout; an earlier layout is.
    let d = dir.path().join("layout");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("stale"), b"x").unwrap();
    let force = |format: &str| {
        coldctr(
            &copy,
            &[
                "export",
                "--force",
                "--format",
                format,
                "-o",
                d.to_str().unwrap(),
                "webapp:1.0",
            ],
        )
    };
    for format in ["oci-dir", "docker-archive", "oci-archive"] {
        let o = force(format);
        assert_eq!(o.status.code(), Some(2), "{format}: {}", stderr(&o));
        assert!(stderr(&o).contains("replaces only an earlier output"), "{}", stderr(&o));
        assert!(d.join("stale").is_file(), "{format}: the folder is kept");
    }
    std::fs::write(d.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let o = force("docker-archive");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = force("oci-dir");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!d.join("stale").exists() && d.join("index.json").is_file());
    // --force replaces an earlier output, never a FIFO or a symlink (nor a device: as root,
    // `-o /dev/null --force` replaced the device node with the archive).
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let link = dir.path().join("link-out");
    std::os::unix::fs::symlink(&out, &link).unwrap();
    for (special, format) in [(&fifo, "docker-archive"), (&fifo, "oci-dir"), (&link, "oci-archive")] {
        let o = coldctr(
            &copy,
            &[
                "export",
                "--force",
                "--format",
                format,
                "-o",
                special.to_str().unwrap(),
                "webapp:1.0",
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("not a regular file or directory"), "{}", stderr(&o));
    }
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    std::fs::remove_file(&fifo).unwrap();
    std::fs::remove_file(&link).unwrap();
    // -o - with a directory format is a usage error; so is a bad platform.
    let o = coldctr(&copy, &["export", "--format", "oci-dir", "-o", "-", "webapp:1.0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = coldctr(&copy, &["export", "--platform", "linux//x", "-o", "-", "webapp:1.0"]);
    assert_eq!(o.status.code(), Some(2));
    // A reference that names nothing: exit 1, nothing written.
    let o = coldctr(
        &copy,
        &[
            "export",
            "-o",
            dir.path().join("n.tar").to_str().unwrap(),
            "webapp:1.0",
            "nosuch:1",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(!dir.path().join("n.tar").exists());
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

/// A directory of the root reached through a bind mount elsewhere is still inside the root:
/// the paths do not show it, what the output's directory is (device and inode, up through its
/// parents) does. Needs root and a private mount namespace (`unshare -m`); says it skipped
/// otherwise.
#[test]
fn refuses_a_root_reached_through_a_bind_mount() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: the bind-mount export check skipped");
        return;
    }
    let dir = tmp();
    let copy = dir.path().join("root");
    copy_root(&fixture("docker-28.5"), &copy);
    let before = listing(&copy);
    let alias = dir.path().join("alias");
    std::fs::create_dir(&alias).unwrap();
    let script = r#"mount --bind "$1/io.containerd.content.v1.content" "$2" || exit 42
"$3" --root "$1" --host-platform linux/amd64 export -o "$2/x.tar" webapp:1.0; echo "rc=$?""#;
    let out = match Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(&copy)
        .arg(&alias)
        .arg(env!("CARGO_BIN_EXE_coldctr"))
        .output()
    {
        Ok(o) if o.status.code() != Some(42) && o.status.success() => o,
        other => {
            eprintln!("no private mount namespace here: the bind-mount export check skipped ({other:?})");
            return;
        }
    };
    let said = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("rc=2"), "{said} {err}");
    assert!(err.contains("inside the source root"), "{err}");
    assert_eq!(listing(&copy), before, "nothing written in the root");
}

/// A directory deep in the root reached through a bind mount, and an overlay mount whose upper
/// directory lies in the root (a running container's root file system, mounted from its
/// snapshots): neither the paths nor the identities up from the mount show them, the mount
/// table does (sweep 41.1). Needs root and a private mount namespace; says it skipped
/// otherwise.
#[test]
fn refuses_a_directory_deep_in_the_root_reached_through_a_mount() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: the deep-mount export check skipped");
        return;
    }
    let dir = tmp();
    let copy = dir.path().join("root");
    copy_root(&fixture("docker-28.5"), &copy);
    for d in ["up", "work"] {
        std::fs::create_dir(copy.join(d)).unwrap();
    }
    let before = listing(&copy);
    for d in ["bound", "merged", "lower"] {
        std::fs::create_dir(dir.path().join(d)).unwrap();
    }
    let script = r#"mount --bind "$1/io.containerd.content.v1.content/blobs/sha256" "$2/bound" || exit 42
mount -t overlay overlay -o "lowerdir=$2/lower,upperdir=$1/up,workdir=$1/work" "$2/merged" || exit 42
"$3" --root "$1" --host-platform linux/amd64 export -o "$2/bound/x.tar" webapp:1.0; echo "bound rc=$?"
"$3" --root "$1" --host-platform linux/amd64 export -o "$2/merged/x.tar" webapp:1.0; echo "merged rc=$?"
"$3" --root "$1" --host-platform linux/amd64 export -o "$2/lower/x.tar" webapp:1.0; echo "outside rc=$?""#;
    let out = match Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(&copy)
        .arg(dir.path())
        .arg(env!("CARGO_BIN_EXE_coldctr"))
        .output()
    {
        Ok(o) if o.status.code() != Some(42) && o.status.success() => o,
        other => {
            eprintln!("no private mount namespace or overlay here: the deep-mount export check skipped ({other:?})");
            return;
        }
    };
    let said = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("bound rc=2") && said.contains("merged rc=2"),
        "{said} {err}"
    );
    assert!(err.contains("is reached through the mount at"), "{err}");
    assert!(err.contains("it is on an overlay mount that writes to"), "{err}");
    // The check is no blanket refusal: a directory outside the root is written to.
    assert!(said.contains("outside rc=0"), "{said} {err}");
    // (The kernel makes its own `work/work` when the overlay is mounted.)
    let ours = |l: Vec<(PathBuf, u64, std::time::SystemTime)>| {
        l.into_iter()
            .filter(|(p, ..)| !p.starts_with(copy.join("work")))
            .collect::<Vec<_>>()
    };
    assert_eq!(ours(listing(&copy)), ours(before), "nothing written in the root");
}

/// Entries already at the names export gives its temporary output and the old output it moves
/// aside (`.OUT.coldctr-PID.tmp`, `.OUT.coldctr-PID.old`) are left as they were: the process
/// is started from a shell that makes them under its own PID, then execs coldctr.
#[test]
fn entries_at_the_temporary_names_are_left_alone() {
    let dir = tmp();
    let out = dir.path();
    let root = fixture("docker-28.5");
    let bin = env!("CARGO_BIN_EXE_coldctr");
    let run = |prepare: &str, args: &str| {
        let script = format!("{prepare} && exec \"$0\" --root \"$1\" --host-platform linux/amd64 export {args}");
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(bin)
            .arg(&root)
            .current_dir(out)
            .env_remove("COLDCTR_ROOT")
            .stdin(Stdio::null())
            .output()
            .expect("run sh")
    };
    // A directory (with a file in it) where the directory output's temporary would go.
    let o = run(
        "mkdir .layout.coldctr-$$.tmp && echo precious > .layout.coldctr-$$.tmp/data",
        "--format oci-dir -o layout webapp:1.0",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.join("layout/index.json").is_file());
    // A file where a file output's temporary would go.
    let o = run("echo precious > .a.tar.coldctr-$$.tmp", "-o a.tar webapp:1.0");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(files_of(&out.join("a.tar")).contains_key("manifest.json"));
    // A file where the replaced directory is moved aside (--force over `layout`).
    let o = run(
        "echo precious > .layout.coldctr-$$.old",
        "--force --format oci-dir -o layout webapp:1.0",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.join("layout/index.json").is_file());
    let mut kept: Vec<(String, Vec<u8>)> = Vec::new();
    for e in std::fs::read_dir(out).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.contains(".coldctr-") {
            continue;
        }
        let file = if e.path().is_dir() {
            e.path().join("data")
        } else {
            e.path()
        };
        kept.push((name, std::fs::read(file).unwrap()));
    }
    kept.sort();
    let names: Vec<&str> = kept.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        kept.len(),
        3,
        "the three entries made before each run, and nothing else: {names:?}"
    );
    assert!(kept.iter().all(|(_, data)| data == b"precious\n"), "{names:?}");
    for suffix in [".tmp", ".tmp", ".old"] {
        assert!(names.iter().any(|n| n.ends_with(suffix)), "{names:?}");
    }
}

fn copy_root(from: &Path, to: &Path) {
    let st = Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
    assert!(st.success());
}

/// Every path under `dir` with its size and mtime: a root that nothing wrote in lists the same.
fn listing(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            if m.is_dir() {
                stack.push(e.path());
            }
            out.push((e.path(), m.len(), m.modified().unwrap()));
        }
    }
    out.sort();
    out
}

/// Temporary outputs left beside the outputs.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".coldctr-"))
        .collect()
}

/// The manifest, config and layers of a single-manifest image in the fixture.
fn manifest_of(root: &Path, target: &str) -> (String, Vec<String>) {
    let m: Value =
        serde_json::from_slice(&std::fs::read(root.join(BLOBS).join(target.trim_start_matches("sha256:"))).unwrap())
            .unwrap();
    let config = m["config"]["digest"].as_str().unwrap().to_string();
    let layers = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .collect();
    (config, layers)
}

fn blob_file(root: &Path, digest: &str) -> PathBuf {
    root.join(BLOBS).join(digest.trim_start_matches("sha256:"))
}

fn flip_byte(path: &Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    b[at] ^= 0x20;
    std::fs::write(path, b).unwrap();
}

#[test]
fn damage_fails_cleanly_and_salvage_lists_exactly_it() {
    let dir = tmp();
    let copy = dir.path().join("root");
    copy_root(&fixture("docker-28.5"), &copy);
    let records = targets(&copy, "moby");
    let webapp = &records["docker.io/library/webapp:1.0"];
    let legacy = &records["docker.io/library/legacy:2.3"];
    let special = &records["docker.io/lab/special:1.0"];
    let (_, webapp_layers) = manifest_of(&copy, webapp);
    let (legacy_config, _) = manifest_of(&copy, legacy);
    let (_, special_layers) = manifest_of(&copy, special);
    // webapp:1.0 loses its top layer (only it uses that one), legacy:2.3's config gets one
    // byte flipped, and a layer of lab/special:1.0 is flipped: the last is only found while
    // it is streamed.
    let lost = webapp_layers.last().unwrap().clone();
    assert!(!special_layers.contains(&lost));
    std::fs::remove_file(blob_file(&copy, &lost)).unwrap();
    flip_byte(&blob_file(&copy, &legacy_config), 10);
    let flipped_layer = special_layers.last().unwrap().clone();
    flip_byte(&blob_file(&copy, &flipped_layer), 40);

    for (r, digest) in [
        ("webapp:1.0", &lost),
        ("legacy:2.3", &legacy_config),
        ("lab/special:1.0", &flipped_layer),
    ] {
        for format in ["docker-archive", "oci-dir"] {
            let out = dir.path().join(format!("out-{format}"));
            let o = coldctr(&copy, &["export", "--format", format, "-o", out.to_str().unwrap(), r]);
            assert_eq!(o.status.code(), Some(3), "{r}: {}", stderr(&o));
            let err = stderr(&o);
            assert!(err.contains(digest.as_str()) && err.contains(r), "{r}: {err}");
            assert!(!out.exists(), "{r}: no partial output");
            assert_eq!(leftovers(dir.path()), Vec::<String>::new());
        }
    }

    // Salvage: the three images and a clean one go out without exactly those three blobs.
    let out = dir.path().join("salvaged.tar");
    let o = coldctr(
        &copy,
        &[
            "export",
            "--salvage",
            "-o",
            out.to_str().unwrap(),
            "webapp:1.0",
            "legacy:2.3",
            "lab/special:1.0",
            "dlist:1",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let files = files_of(&out);
    let blobs = blob_members(&files);
    let damaged: BTreeSet<String> = [&lost, &legacy_config, &flipped_layer].into_iter().cloned().collect();
    let mut want = BTreeSet::new();
    for t in [webapp, legacy, special, &records["docker.io/library/dlist:1"]] {
        want.extend(expected_blobs(&copy, t));
    }
    want.retain(|d| !damaged.contains(d));
    assert_eq!(blobs, want);
    // The report: exactly the three digests, each once, with its image.
    let err = stderr(&o);
    let reported: Vec<&str> = err.lines().filter(|l| l.contains(": blob sha256:")).collect();
    assert_eq!(reported.len(), 3, "{err}");
    for (img, d, what) in [
        ("webapp:1.0", &lost, "missing"),
        ("legacy:2.3", &legacy_config, "damaged"),
        ("lab/special:1.0", &flipped_layer, "damaged"),
    ] {
        assert!(
            reported
                .iter()
                .any(|l| l.contains(img) && l.contains(&format!("{d} {what}"))),
            "{img} {d} {what}: {err}"
        );
    }
    // And in index.json, on each image's entry.
    let index = json(&files, "index.json");
    let ann = |i: usize, k: &str| index["manifests"][i]["annotations"][k].as_str().map(str::to_string);
    assert_eq!(ann(0, "io.coldctr.missing"), Some(lost.clone()));
    assert_eq!(ann(0, "io.coldctr.damaged"), None);
    assert_eq!(ann(1, "io.coldctr.damaged"), Some(legacy_config.clone()));
    assert_eq!(ann(2, "io.coldctr.damaged"), Some(flipped_layer.clone()));
    assert_eq!(ann(3, "io.coldctr.missing"), None);
    assert_eq!(ann(3, "io.coldctr.damaged"), None);
}

/// A layer blob this user may not read (mode 000; intact: root hashes it to its name) is left
/// out by `--salvage` as unreadable, exit 4, and index.json says `io.coldctr.unreadable`, not
/// `io.coldctr.damaged`: the written artifact must not claim damage nobody saw. Run as the
/// unprivileged user 65534 when the tests run as root, as tests/exit_codes.rs does.
#[test]
fn salvage_names_an_unreadable_blob_unreadable_not_damaged() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tmp();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = dir.path().join("root");
    copy_root(&fixture("docker-28.5"), &copy);
    let st = Command::new("chmod").arg("-R").arg("a+rX").arg(&copy).status().unwrap();
    assert!(st.success());
    let records = targets(&copy, "moby");
    let (_, layers) = manifest_of(&copy, &records["docker.io/library/webapp:1.0"]);
    let shut = layers.last().unwrap().clone();
    let file = blob_file(&copy, &shut);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    let outdir = dir.path().join("out");
    std::fs::create_dir(&outdir).unwrap();
    std::fs::set_permissions(&outdir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = outdir.join("w.tar");
    let o = unprivileged::coldctr_unprivileged()
        .arg("--root")
        .arg(&copy)
        .args(["--host-platform", "linux/amd64", "export", "--salvage", "-o"])
        .arg(&out)
        .arg("webapp:1.0")
        .env_remove("COLDCTR_ROOT")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains(&format!("{shut} unreadable")), "{err}");
    let files = files_of(&out);
    assert!(!blob_members(&files).contains(&shut));
    let ann = &json(&files, "index.json")["manifests"][0]["annotations"];
    assert_eq!(ann["io.coldctr.unreadable"].as_str(), Some(shut.as_str()), "{ann}");
    assert!(ann.get("io.coldctr.damaged").is_none(), "{ann}");
    assert!(ann.get("io.coldctr.missing").is_none(), "{ann}");
}

/// `--all-platforms` needs every manifest the index names: one never pulled (no record, no
/// file: multi:3.1's arm64 and arm/v7) is exit 1, "not on this node", as `--platform`'s, not
/// damage (sweep 29.2: exit 3, "missing", on a sound store); `--salvage` leaves it out, says
/// so, and the store being sound, exits 0.
#[test]
fn all_platforms_needs_every_manifest_unless_salvage() {
    let root = fixture("docker-28.5");
    let dir = tmp();
    let out = dir.path().join("all.tar");
    let o = coldctr(
        &root,
        &["export", "--all-platforms", "-o", out.to_str().unwrap(), "multi:3.1"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("image with reference multi:3.1 names linux/arm64/v8 (manifest sha256:ca0f8b4c607d7b94df2b4a8268d4d1f05eb2a1fd2a4c5a31d5c8d9639fc41e57), but it is not on this node: never pulled"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    let o = coldctr(
        &root,
        &["export", "--all-platforms", "-o", out.to_str().unwrap(), "multiall:3.1"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let index: Value = serde_json::from_slice(
        &std::fs::read(
            root.join(BLOBS)
                .join("146b32962b22a51ee95c445587a8f7c79b2691cc17333e9e28014662584ab2eb"),
        )
        .unwrap(),
    )
    .unwrap();
    let blobs = blob_members(&files_of(&out));
    for m in index["manifests"].as_array().unwrap() {
        assert!(blobs.contains(m["digest"].as_str().unwrap()), "{m}");
    }
    let o = coldctr(
        &root,
        &[
            "export",
            "--all-platforms",
            "--salvage",
            "-o",
            out.to_str().unwrap(),
            "--force",
            "multi:3.1",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for left in [
        "sha256:ca0f8b4c607d7b94df2b4a8268d4d1f05eb2a1fd2a4c5a31d5c8d9639fc41e57 (linux/arm64/v8)",
        "sha256:b8dae51e9c07d56b602317ffd772d032b24b9345bd47b38ea7e9425c77948f15 (linux/arm/v7)",
    ] {
        let said = format!("multi:3.1: manifest {left} is not on this node (never pulled); left out");
        assert!(stderr(&o).contains(&said), "{}", stderr(&o));
    }
    let ann = &json(&files_of(&out), "index.json")["manifests"][0]["annotations"];
    assert!(ann.get("io.coldctr.missing").is_none(), "{ann}");
}

/// Runs an external reader when it is installed; None (with the reason printed) when not.
fn tool(name: &str, args: &[&str]) -> Option<Output> {
    match Command::new(name).args(args).output() {
        Ok(o) => Some(o),
        Err(e) => {
            eprintln!("skipped: {name} is not installed ({e}); .ci/run installs it");
            None
        }
    }
}

#[test]
fn skopeo_reads_our_archives_as_we_wrote_them() {
    let root = fixture("docker-28.5");
    let dir = tmp();
    let records = targets(&root, "moby");
    let webapp = &records["docker.io/library/webapp:1.0"];
    let (config, layers) = manifest_of(&root, webapp);
    for format in ["oci-archive", "docker-archive"] {
        let out = dir.path().join(format);
        let o = coldctr(
            &root,
            &[
                "export",
                "--format",
                format,
                "-o",
                out.to_str().unwrap(),
                "webapp:1.0",
                "dlist:1",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let src = if format == "oci-archive" {
            format!("oci-archive:{}:1.0", out.display())
        } else {
            format!("docker-archive:{}:webapp:1.0", out.display())
        };
        let Some(o) = tool("skopeo", &["inspect", "--raw", &src]) else {
            return;
        };
        assert!(o.status.success(), "{src}: {}", String::from_utf8_lossy(&o.stderr));
        let raw: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(raw["config"]["digest"].as_str(), Some(config.as_str()), "{src}");
        let got: Vec<&str> = raw["layers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| l["digest"].as_str())
            .collect();
        // skopeo reads a docker-archive's layers as docker does, uncompressed: their digests
        // are the config's diff_ids; an OCI archive's manifest is read as it is.
        let want = if format == "oci-archive" {
            layers.clone()
        } else {
            let c: Value = serde_json::from_slice(&std::fs::read(blob_file(&root, &config)).unwrap()).unwrap();
            c["rootfs"]["diff_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(got, want.iter().map(String::as_str).collect::<Vec<_>>(), "{src}");
        if format == "oci-archive" {
            // The manifest skopeo reads is ours byte for byte: the target digest.
            assert_eq!(format!("sha256:{}", sha256_hex(&o.stdout)), *webapp);
        }
        let Some(o) = tool("skopeo", &["inspect", "--config", "--raw", &src]) else {
            return;
        };
        assert!(o.status.success());
        assert_eq!(format!("sha256:{}", sha256_hex(&o.stdout)), config);
    }
}

#[test]
fn umoci_stats_our_layout() {
    // umoci 0.4 reads the history of real images only (the lab images' histories make it
    // index past their layers), so the real pause image of the containerd 1.6 fixture.
    let root = fixture("containerd-1.6");
    let dir = tmp();
    let out = dir.path().join("layout");
    let o = coldctr(
        &root,
        &[
            "-n",
            "k8s.io",
            "export",
            "--format",
            "oci-dir",
            "--platform",
            "linux/amd64",
            "-o",
            out.to_str().unwrap(),
            "registry.k8s.io/pause:3.9",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let files = files_of(&out);
    let index = json(&files, "index.json");
    let manifest = index["manifests"][0]["digest"].as_str().unwrap().to_string();
    let (_, layers) = manifest_of(&root, &manifest);
    let Some(o) = tool(
        "umoci",
        &["stat", "--image", &format!("{}:3.9", out.display()), "--json"],
    ) else {
        return;
    };
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stat: Value = serde_json::from_slice(&o.stdout).unwrap();
    let seen: Vec<&str> = stat["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["layer"]["digest"].as_str())
        .collect();
    assert_eq!(seen, layers.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn the_damaged_fixture_reports_exactly_its_recorded_damage() {
    // fixtures/expected/docker-28.5-damaged/damage.json says what was damaged after shutdown
    // (a deleted layer, a truncated config, a flipped layer) and which images use it.
    let root = fixture("docker-28.5-damaged");
    let damage: Value =
        serde_json::from_slice(&std::fs::read(fixture("expected/docker-28.5-damaged/damage.json")).unwrap()).unwrap();
    let dir = tmp();
    let mut damaged_images = BTreeSet::new();
    for d in damage["damage"].as_array().unwrap() {
        let digest = d["digest"].as_str().unwrap();
        for image in d["images"].as_array().unwrap() {
            let image = image.as_str().unwrap();
            damaged_images.insert(image.to_string());
            let out = dir.path().join("out.tar");
            let o = coldctr(&root, &["export", "-o", out.to_str().unwrap(), image]);
            assert_eq!(o.status.code(), Some(3), "{image}: {}", stderr(&o));
            assert!(stderr(&o).contains(digest), "{image}: {}", stderr(&o));
            assert!(!out.exists());
            // Into a stream, what went out stays out, but never the damaged blob whole under
            // its digest's name: its last bytes wait for the hash, and the stream is cut.
            let o = coldctr(&root, &["export", "-o", "-", image]);
            assert_eq!(o.status.code(), Some(3), "{image}: {}", stderr(&o));
            let name = format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"));
            let at = (0..o.stdout.len() / 512)
                .map(|b| b * 512)
                .find(|&h| o.stdout[h..].starts_with(name.as_bytes()));
            if let Some(h) = at {
                let size = u64::from_str_radix(
                    std::str::from_utf8(&o.stdout[h + 124..h + 135])
                        .unwrap()
                        .trim_start_matches('0'),
                    8,
                )
                .unwrap_or(0);
                assert!(
                    ((o.stdout.len() - h - 512) as u64) < size,
                    "{image}: {digest} went out whole"
                );
                assert!(stderr(&o).contains("cut short"), "{image}: {}", stderr(&o));
            }
            let o = coldctr(&root, &["export", "--salvage", "-o", out.to_str().unwrap(), image]);
            assert_eq!(o.status.code(), Some(3), "{image}: {}", stderr(&o));
            let err = stderr(&o);
            let reported: Vec<&str> = err.lines().filter(|l| l.contains(": blob sha256:")).collect();
            assert_eq!(reported.len(), 1, "{image}: {err}");
            assert!(reported[0].contains(digest), "{image}: {err}");
            let files = files_of(&out);
            assert!(!blob_members(&files).contains(digest));
            let ann = &json(&files, "index.json")["manifests"][0]["annotations"];
            let listed = ann["io.coldctr.missing"]
                .as_str()
                .or(ann["io.coldctr.damaged"].as_str());
            assert_eq!(listed, Some(digest), "{image}: {ann}");
            std::fs::remove_file(&out).unwrap();
        }
    }
    // Every other named image goes out clean, all in one archive.
    let clean: Vec<String> = targets(&root, "moby")
        .into_keys()
        .filter(|n| !n.contains('@') && !damaged_images.contains(n))
        .collect();
    assert!(clean.len() > 5);
    let out = dir.path().join("clean.tar");
    let mut args = vec!["export", "-o", out.to_str().unwrap()];
    args.extend(clean.iter().map(String::as_str));
    let o = coldctr(&root, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let files = files_of(&out);
    blob_members(&files);
    assert_eq!(
        json(&files, "index.json")["manifests"].as_array().unwrap().len(),
        clean.len()
    );
}

#[test]
fn skopeo_copies_our_archives_with_their_digests() {
    // skopeo copy checks every blob it copies against its digest.
    let root = fixture("docker-28.5");
    let dir = tmp();
    let records = targets(&root, "moby");
    let out = dir.path().join("all.tar");
    let o = coldctr(
        &root,
        &[
            "export",
            "--all-platforms",
            "--format",
            "oci-archive",
            "-o",
            out.to_str().unwrap(),
            "webapp:1.0",
            "multiall:3.1",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for (tag, name, all) in [
        ("1.0", "docker.io/library/webapp:1.0", false),
        ("3.1", "docker.io/library/multiall:3.1", true),
    ] {
        let dest = dir.path().join(format!("copy-{tag}"));
        let mut args = vec!["copy", "--quiet"];
        if all {
            args.push("--all");
        }
        let src = format!("oci-archive:{}:{tag}", out.display());
        let dst = format!("oci:{}:x", dest.display());
        args.extend([src.as_str(), dst.as_str()]);
        let Some(o) = tool("skopeo", &args) else { return };
        assert!(o.status.success(), "{src}: {}", String::from_utf8_lossy(&o.stderr));
        let index: Value = serde_json::from_slice(&std::fs::read(dest.join("index.json")).unwrap()).unwrap();
        assert_eq!(
            index["manifests"][0]["digest"].as_str(),
            Some(records[name].as_str()),
            "{src}"
        );
    }
}

#[test]
fn refuses_to_stream_an_archive_to_a_terminal() {
    // util-linux `script` gives the command a terminal for stdout.
    let cmd = format!(
        "{} --root {} export -o - webapp:1.0",
        env!("CARGO_BIN_EXE_coldctr"),
        fixture("docker-28.5").display()
    );
    let Some(o) = tool("script", &["-qec", &cmd, "/dev/null"]) else {
        return;
    };
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stdout));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("refusing to write an archive to a terminal"), "{text}");
    assert!(!text.contains("ustar"), "no archive on the terminal");
}

/// A private containerd (its own root, state and socket under a temp dir; no CRI), killed when
/// dropped.
struct PrivateContainerd {
    child: std::process::Child,
    socket: PathBuf,
}

impl Drop for PrivateContainerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn private_containerd(dir: &Path) -> Option<PrivateContainerd> {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: a private containerd needs root");
        return None;
    }
    let socket = dir.join("c.sock");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "version = 2\nroot = \"{}\"\nstate = \"{}\"\n[grpc]\n  address = \"{}\"\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  disable = true\n",
            dir.join("root").display(),
            dir.join("state").display(),
            socket.display()
        ),
    )
    .unwrap();
    let child = match Command::new("containerd")
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("skipped: containerd is not installed ({e}); .ci/run installs it");
            return None;
        }
    };
    let daemon = PrivateContainerd { child, socket };
    for _ in 0..100 {
        let up = Command::new("ctr")
            .arg("-a")
            .arg(&daemon.socket)
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success());
        if up {
            return Some(daemon);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the private containerd did not answer in 10 s");
}

#[test]
fn ctr_images_import_loads_the_same_names_and_digests() {
    let dir = tmp();
    let Some(daemon) = private_containerd(dir.path()) else {
        return;
    };
    let root = fixture("docker-28.5");
    let records = targets(&root, "moby");
    for format in ["docker-archive", "oci-archive"] {
        let out = dir.path().join(format!("{format}.tar"));
        let o = coldctr(
            &root,
            &[
                "export",
                "--format",
                format,
                "-o",
                out.to_str().unwrap(),
                "webapp:1.0",
                "multi:3.1",
                "lab/special:1.0",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let ns = format!("import-{format}");
        let import = Command::new("ctr")
            .arg("-a")
            .arg(&daemon.socket)
            // No unpack: that would mount overlays, which a CI container may not allow; names
            // and digests are what is compared.
            .args(["-n", &ns, "images", "import", "--no-unpack"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
        let ls = Command::new("ctr")
            .arg("-a")
            .arg(&daemon.socket)
            .args(["-n", &ns, "images", "ls"])
            .output()
            .unwrap();
        let listed: BTreeMap<String, String> = String::from_utf8_lossy(&ls.stdout)
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                Some((f.first()?.to_string(), f.get(2)?.to_string()))
            })
            .collect();
        for name in [
            "docker.io/library/webapp:1.0",
            "docker.io/library/multi:3.1",
            "docker.io/lab/special:1.0",
        ] {
            assert_eq!(listed.get(name), records.get(name), "{format}: {name}: {listed:?}");
        }
        assert_eq!(listed.len(), 3, "{format}: {listed:?}");
    }
}

/// containerd's varint (`binary.PutVarint`: zigzag, then 7 bits a byte).
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

/// A manifest whose layer descriptor gives the wrong size is damage of the image that has
/// it, whichever descriptor of that blob the export meets first: the same verdict for the
/// wrong size after the right one in one manifest, before it, and for another image that
/// gives the right size (never blamed for the wrong one). verify names those manifests.
#[test]
fn a_descriptor_of_the_wrong_size_is_its_images_damage_in_any_order() {
    use coldctr::bolt::build::{Tree, build};
    let dir = tmp();
    let root = dir.path().join("root");
    let blobs = root.join("io.containerd.content.v1.content/blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let mut meta = Tree::new();
    meta.bucket(&[b"v1"]).put(b"version", &[6]);
    let mut time = vec![1u8];
    time.extend_from_slice(&(1_700_000_000i64 + 62_135_596_800).to_be_bytes());
    time.extend_from_slice(&0i32.to_be_bytes());
    time.extend_from_slice(&(-1i16).to_be_bytes());
    // A blob file and its content record; its descriptor.
    let mut put_blob = |bytes: &[u8], media_type: &str| {
        let hex = sha256_hex(bytes);
        std::fs::write(blobs.join(&hex), bytes).unwrap();
        let digest = format!("sha256:{hex}");
        let r = meta.bucket(&[b"v1", b"default", b"content", b"blob", digest.as_bytes()]);
        r.put(b"size", &varint(bytes.len() as i64));
        r.put(b"createdat", &time);
        r.put(b"updatedat", &time);
        serde_json::json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
    };
    let layer = put_blob(b"not much of a layer", "application/vnd.oci.image.layer.v1.tar");
    let config = put_blob(
        serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
        })
        .to_string()
        .as_bytes(),
        "application/vnd.oci.image.config.v1+json",
    );
    let mut wrong = layer.clone();
    wrong["size"] = (layer["size"].as_i64().unwrap() + 1000).into();
    // -1 naming an empty file is no size either.
    let mut minus = put_blob(b"", "application/vnd.oci.image.layer.v1.tar");
    minus["size"] = (-1).into();
    let mut targets = Vec::new();
    for (name, layers) in [
        ("good", vec![layer.clone()]),
        ("after", vec![layer.clone(), wrong.clone()]),
        ("before", vec![wrong.clone(), layer.clone()]),
        ("minus", vec![minus.clone(), layer.clone()]),
    ] {
        let m = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config,
            "layers": layers,
        });
        targets.push((
            name,
            put_blob(m.to_string().as_bytes(), "application/vnd.oci.image.manifest.v1+json"),
        ));
    }
    for (name, target) in &targets {
        let full = format!("docker.io/library/{name}:1");
        let image = meta.bucket(&[b"v1", b"default", b"images", full.as_bytes()]);
        image.put(b"createdat", &time);
        image.put(b"updatedat", &time);
        let t = meta.bucket(&[b"v1", b"default", b"images", full.as_bytes(), b"target"]);
        t.put(b"digest", target["digest"].as_str().unwrap().as_bytes());
        t.put(b"mediatype", target["mediaType"].as_str().unwrap().as_bytes());
        t.put(b"size", &varint(target["size"].as_i64().unwrap()));
    }
    // Another namespace records the layer with a size its file does not have: that record's
    // damage, not that of the manifests of this one that give the file's size.
    let other = meta.bucket(&[
        b"v1",
        b"other",
        b"content",
        b"blob",
        layer["digest"].as_str().unwrap().as_bytes(),
    ]);
    other.put(b"size", &varint(layer["size"].as_i64().unwrap() + 5));
    let bolt = root.join("io.containerd.metadata.v1.bolt");
    std::fs::create_dir_all(&bolt).unwrap();
    std::fs::write(bolt.join("meta.db"), build(&meta)).unwrap();

    let said = format!(
        "damaged: file is {} bytes, the descriptor says {}",
        layer["size"], wrong["size"]
    );
    let export = |refs: &[&str]| {
        let mut args = vec!["-n", "default", "export", "-o", "-"];
        args.extend(refs.iter().map(|r| match *r {
            "good" => "good:1",
            "after" => "after:1",
            "minus" => "minus:1",
            _ => "before:1",
        }));
        coldctr(&root, &args)
    };
    let o = export(&["good"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!o.stdout.is_empty());
    for refs in [
        &["after"][..],
        &["before"],
        &["good", "after"],
        &["good", "before"],
        &["before", "good"],
        &["after", "good"],
    ] {
        let o = export(refs);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{refs:?}: {err}");
        assert!(o.stdout.is_empty(), "{refs:?}: something written");
        let bad = refs.iter().find(|r| **r != "good").unwrap();
        let named = format!("{bad}:1: blob {}", layer["digest"].as_str().unwrap());
        assert!(err.contains(&named), "{refs:?}: {err}");
        assert!(err.contains(&said), "{refs:?}: {err}");
        assert!(!err.contains("good:1: blob"), "{refs:?}: the sound image blamed: {err}");
    }
    let o = export(&["minus", "good"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("minus:1: blob") && stderr(&o).contains("the descriptor's size -1 is negative"));
    assert!(!stderr(&o).contains("good:1: blob"), "{}", stderr(&o));
    // verify says the same of those manifests (invalid-document), and nothing of the rest.
    let v = coldctr(&root, &["verify", "--format", "json"]);
    assert_eq!(v.status.code(), Some(3), "{}", stderr(&v));
    let report: Value = serde_json::from_slice(&v.stdout).unwrap();
    let text = report.to_string();
    let bad: Vec<&str> = targets
        .iter()
        .filter(|(n, _)| *n != "good")
        .map(|(_, t)| t["digest"].as_str().unwrap())
        .collect();
    for digest in &bad {
        assert!(text.contains(digest), "{digest} not named: {text}");
    }
    assert!(
        !text.contains(targets[0].1["digest"].as_str().unwrap()),
        "the sound manifest named: {text}"
    );
    assert_eq!(text.matches("invalid-document").count(), 3, "{text}");
    assert_eq!(text.matches("size-mismatch").count(), 1, "{text}");
    assert!(
        text.contains(&format!("the descriptor says {} bytes", wrong["size"])),
        "{text}"
    );
}

/// `--platform` for a platform the index names but that was never pulled (multi:3.1 on the
/// docker-28.5 node has only linux/amd64; `verify` of that root is clean): exit 1 and "not on
/// this node", as the default export says of it, not damage (exit 3); nothing written. A
/// platform the index does not name at all is docker's "does not provide" (exit 1).
#[test]
fn a_platform_never_pulled_is_not_on_this_node_not_damage() {
    let root = fixture("docker-28.5");
    let dir = tmp();
    let out = dir.path().join("a.tar");
    let o = coldctr(
        &root,
        &[
            "export",
            "--platform",
            "linux/arm64",
            "-o",
            out.to_str().unwrap(),
            "multi:3.1",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "names linux/arm64/v8 (manifest sha256:ca0f8b4c607d7b94df2b4a8268d4d1f05eb2a1fd2a4c5a31d5c8d9639fc41e57), but it is not on this node: never pulled"
        ),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    let o = coldctr(
        &root,
        &[
            "export",
            "--platform",
            "linux/s390x",
            "-o",
            out.to_str().unwrap(),
            "multi:3.1",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("does not provide the specified platform (linux/s390x)"),
        "{}",
        stderr(&o)
    );
    let o = coldctr(
        &root,
        &[
            "export",
            "--platform",
            "linux/amd64",
            "-o",
            out.to_str().unwrap(),
            "multi:3.1",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A record whose name no docker reference reads (upper case, a space), exported by that
/// name: kept as `io.containerd.image.name` with its tag as the ref name, as containerd's
/// exporter keeps any name, and said on stderr (docker load cannot name it). Before, it went
/// out unnamed with nothing said, and `ctr images import` then made no image of it.
#[test]
fn a_name_no_docker_reference_reads_is_kept_and_said() {
    let dir = tmp();
    let layout = dir.path().join("L");
    let cp = Command::new("cp")
        .arg("-a")
        .arg(fixture("oci-dev/layouts/skopeo-multi"))
        .arg(&layout)
        .status()
        .expect("cp");
    assert!(cp.success());
    let index_path = layout.join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let names = ["UPPER/Case:1", "docker.io/library/sp ace:2"];
    let manifests = index["manifests"].as_array_mut().unwrap();
    for (m, name) in manifests.iter_mut().zip(names) {
        m["annotations"] = serde_json::json!({ "io.containerd.image.name": name });
    }
    manifests.truncate(names.len());
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    for (name, tag) in names.iter().zip(["1", "2"]) {
        let out = dir.path().join(format!("out-{tag}"));
        let o = coldctr(
            &layout,
            &["export", "--format", "oci-dir", "-o", out.to_str().unwrap(), name],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let written: Value = serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
        let annotations = &written["manifests"][0]["annotations"];
        assert_eq!(annotations["io.containerd.image.name"], *name);
        assert_eq!(annotations["org.opencontainers.image.ref.name"], tag);
        assert!(
            stderr(&o).contains(&format!(
                "{name}: not a docker reference; written as io.containerd.image.name only"
            )),
            "{}",
            stderr(&o)
        );
        // As a docker-archive: no RepoTags (docker load refuses a tag it cannot parse).
        let tar = dir.path().join(format!("out-{tag}.tar"));
        let o = coldctr(&layout, &["export", "-o", tar.to_str().unwrap(), name]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let files = files_of(&tar);
        assert!(json(&files, "manifest.json")[0]["RepoTags"].is_null());
        assert_eq!(
            json(&files, "index.json")["manifests"][0]["annotations"]["io.containerd.image.name"],
            *name
        );
    }
}

/// A record `images` lists whose name docker's resolution does not find (CRI's
/// `sha256:<config>` record in `k8s.io`) is exported by that exact name, as `ctr images
/// export` takes it (sweep 24: "No such image").
#[test]
fn a_record_docker_does_not_resolve_is_exported_by_its_exact_name() {
    let root = fixture("containerd-1.6");
    let name = "sha256:0861753a4a03bcd8532d8a127514ae65b322666a70825d27b4227834e437673e";
    let dir = tmp();
    let out = dir.path().join("cri.tar");
    let o = coldctr(&root, &["-n", "k8s.io", "export", "-o", out.to_str().unwrap(), name]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let files = files_of(&out);
    let manifest = json(&files, "manifest.json");
    assert_eq!(manifest[0]["Config"], format!("blobs/sha256/{}", &name[7..]));
    // Not a name at all: still not found.
    let o = coldctr(
        &root,
        &[
            "-n",
            "k8s.io",
            "export",
            "-o",
            out.to_str().unwrap(),
            "--force",
            "nope:1",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

/// A layer of a distributable type with `urls` (any descriptor may carry them) is exported
/// with its blob, as `ctr images export --skip-non-distributable` exports it (sweep 26: it
/// was kept as a foreign descriptor, and the archive loaded as an incomplete image); a
/// `rootfs.foreign` layer is still left out.
#[test]
fn urls_alone_make_no_layer_foreign() {
    let dir = tmp();
    let root = dir.path().join("layout");
    let blobs = root.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |data: &[u8]| -> (String, usize) {
        let hex = sha256_hex(data);
        std::fs::write(blobs.join(&hex), data).unwrap();
        (format!("sha256:{hex}"), data.len())
    };
    let mut layer_tar = vec![0u8; 1024];
    layer_tar[..5].copy_from_slice(b"empty");
    let (layer, layer_size) = put(&layer_tar);
    let foreign = format!("sha256:{}", "f".repeat(64));
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer.clone(), foreign.clone()]}
    })
    .to_string();
    let (config, config_size) = put(config.as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": config, "size": config_size},
        "layers": [
            {"mediaType": "application/vnd.docker.image.rootfs.diff.tar", "digest": layer, "size": layer_size,
             "urls": ["https://mirror.example.invalid/layer.tar"]},
            {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "digest": foreign, "size": 10,
             "urls": ["https://mirror.example.invalid/foreign.tar.gz"]}
        ]
    })
    .to_string();
    let (manifest, manifest_size) = put(manifest.as_bytes());
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": manifest, "size": manifest_size,
        "annotations": {"org.opencontainers.image.ref.name": "urls"}}]});
    std::fs::write(root.join("index.json"), index.to_string()).unwrap();
    std::fs::write(root.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();

    let o = coldctr(&root, &["export", "--format", "oci-archive", "-o", "-", "urls"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let members: BTreeSet<String> = read_tar(&o.stdout).into_iter().map(|(n, _)| n).collect();
    assert!(
        members.contains(&format!("blobs/sha256/{}", &layer[7..])),
        "{members:?}"
    );
    assert!(
        !members.contains(&format!("blobs/sha256/{}", &foreign[7..])),
        "{members:?}"
    );
    let err = stderr(&o);
    assert!(!err.contains(&layer[..19]), "{err}");
    assert!(err.contains(&foreign[..19]), "{err}");
}

/// A file-size limit (`ulimit -f`) met while writing an archive is a failed write (exit 5,
/// said, the temporary output removed), not death by SIGXFSZ with nothing said and the
/// temporary file left (sweep 25).
#[test]
fn a_file_size_limit_is_a_failed_write_not_a_signal() {
    let dir = tmp();
    let out = dir.path().join("out.tar");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coldctr"));
    cmd.arg("--root")
        .arg(fixture("docker-28.5"))
        .args(["-n", "moby", "export", "--format", "oci-archive", "-o"])
        .arg(&out)
        .arg("webapp:1.0")
        .env_remove("COLDCTR_ROOT")
        .stdin(Stdio::null());
    // SAFETY: between fork and exec, only setrlimit (async-signal-safe) runs.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            let lim = libc::rlimit {
                rlim_cur: 10_000,
                rlim_max: 10_000,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = cmd.output().expect("run coldctr");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(5), "{:?}: {err}", o.status);
    assert!(err.contains("File too large"), "{err}");
    assert!(!out.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// `--force` onto a hard link of the source archive (or of any file on the source's file
/// system with other links) is refused: replacing it would drop a link of the evidence inode
/// and change its ctime (sweep 25: done, exit 0, where the same through a symlink was refused).
#[test]
fn force_never_replaces_a_hard_link_of_the_evidence() {
    let dir = tmp();
    let source = dir.path().join("hard.tar");
    std::fs::copy(fixture("oci-dev/archives/layout-plain.tar"), &source).unwrap();
    let link = dir.path().join("src.tar");
    std::fs::hard_link(&source, &link).unwrap();
    let before = std::fs::read(&source).unwrap();
    let o = coldctr(&source, &["export", "--force", "-o", link.to_str().unwrap(), "saved"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("hard links"), "{}", stderr(&o));
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&source).unwrap().nlink(), 2);
    assert_eq!(std::fs::read(&link).unwrap(), before);
    // An earlier output of one link is replaced as before.
    let earlier = dir.path().join("earlier.tar");
    std::fs::write(&earlier, b"old").unwrap();
    let o = coldctr(
        &source,
        &["export", "--force", "-o", earlier.to_str().unwrap(), "saved"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_ne!(std::fs::read(&earlier).unwrap(), b"old");
}

/// `fs export -o FILE` removes its partial output on a signal as `export` does (sweep 27: it
/// left `.FILE.coldctr-PID.tmp`, nothing said), and a signal the caller ignores (`nohup`, a
/// script's background job) is left to be ignored: the export goes on (sweep 27: SIGHUP under
/// nohup ended it, exit 129).
#[test]
fn fs_export_cleans_up_on_a_signal_and_ignored_signals_stay_ignored() {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let dir = tmp();
    // A layer tar of one 1 GiB file.
    let size: u64 = 1 << 30;
    let mut header = [0u8; 512];
    let put = |h: &mut [u8; 512], at: usize, v: &[u8]| h[at..at + v.len()].copy_from_slice(v);
    put(&mut header, 0, b"big");
    put(&mut header, 100, b"0000644\0");
    put(&mut header, 108, b"0000000\0");
    put(&mut header, 116, b"0000000\0");
    put(&mut header, 124, format!("{size:011o}\0").as_bytes());
    put(&mut header, 136, b"00000000000\0");
    put(&mut header, 148, b"        ");
    put(&mut header, 156, b"0");
    put(&mut header, 257, b"ustar\x0000");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    put(&mut header, 148, format!("{sum:06o}\0 ").as_bytes());
    let layout = big_layout(dir.path(), &header, 512 + size + 1024, true);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let run = |ignore_hup: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_coldctr"));
        cmd.arg("--root")
            .arg(&layout)
            .args([
                "--host-platform",
                "linux/amd64",
                "fs",
                "export",
                "--from-blobs",
                "big",
                "-o",
            ])
            .arg(out.join("fs.tar"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        with_default_signals(&mut cmd);
        if ignore_hup {
            // SAFETY: between fork and exec, only signal(2), async-signal-safe.
            unsafe {
                cmd.pre_exec(|| {
                    libc::signal(libc::SIGHUP, libc::SIG_IGN);
                    Ok(())
                });
            }
        }
        let child = cmd.spawn().unwrap();
        let started = std::time::Instant::now();
        while std::fs::read_dir(&out).unwrap().next().is_none() && started.elapsed().as_secs() < 20 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        child
    };
    // SIGTERM during fs export: nothing left, said, the process ended by the signal.
    let child = run(false);
    // SAFETY: a signal to our own child, by its pid.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) }, 0);
    let o = child.wait_with_output().unwrap();
    if o.status.success() {
        eprintln!("skipped: the export ended before the signal came");
    } else {
        assert_eq!(o.status.signal(), Some(libc::SIGTERM), "{}", stderr(&o));
        assert!(stderr(&o).contains("the partial output was removed"), "{}", stderr(&o));
    }
    let left: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty() || o.status.success(), "{left:?}");
    let _ = std::fs::remove_file(out.join("fs.tar"));
    // SIGHUP ignored by the caller: the export goes on to its end.
    let child = run(true);
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGHUP) }, 0);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{:?}: {}", o.status, stderr(&o));
    assert!(!stderr(&o).contains("interrupted"), "{}", stderr(&o));
    assert_eq!(std::fs::metadata(out.join("fs.tar")).unwrap().len() % 512, 0);
}

/// An oci-dir layout's modes are 0755 directories and 0644 files less the umask, as the
/// archives' files and `cp`'s are: under `umask 077` the layout is private (sweep 28.8: it
/// was made world-readable whatever the umask).
#[test]
fn an_oci_dir_takes_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    for (mask, dirs, files) in [(0o022u32, 0o755u32, 0o644u32), (0o077, 0o700, 0o600)] {
        let dir = tmp();
        let out = dir.path().join("layout");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_coldctr"));
        cmd.arg("--root")
            .arg(fixture("docker-28.5"))
            .args(["-n", "moby", "export", "--format", "oci-dir", "-o"])
            .arg(&out)
            .arg("webapp:1.0")
            .env_remove("COLDCTR_ROOT");
        // SAFETY: between fork and exec, only umask(2).
        unsafe {
            cmd.pre_exec(move || {
                libc::umask(mask as libc::mode_t);
                Ok(())
            });
        }
        let o = cmd.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&out), dirs, "umask {mask:o}: the layout");
        assert_eq!(mode(&out.join("blobs/sha256")), dirs, "umask {mask:o}: blobs/sha256");
        assert_eq!(mode(&out.join("index.json")), files, "umask {mask:o}: index.json");
        for blob in std::fs::read_dir(out.join("blobs/sha256")).unwrap() {
            assert_eq!(mode(&blob.unwrap().path()), files, "umask {mask:o}: a blob");
        }
    }
}

/// A layer blob gone after the image was unpacked (containerd's discard_unpacked_layers):
/// export writes nothing and points at `fs export`, which writes the image's files from its
/// snapshots (sweep 33: only --salvage was named).
#[test]
fn an_unpacked_image_without_its_layer_blob_is_pointed_at_fs_export() {
    let t = tmp();
    let root = t.path().join("root");
    let cp = Command::new("cp")
        .arg("-a")
        .arg(fixture("containerd-1.6"))
        .arg(&root)
        .output()
        .unwrap();
    assert!(cp.status.success(), "{}", stderr(&cp));
    let image = "registry.k8s.io/pause:3.9";
    let blobs = expected_blobs(&root, &targets(&root, "k8s.io")[image]);
    // A layer: the content record unpacking labelled with its uncompressed digest.
    let o = coldctr(&root, &["-n", "k8s.io", "content", "--format", "json"]);
    let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
    let layer = (rows.as_array().unwrap().iter())
        .filter(|r| r["labels"]["containerd.io/uncompressed"].is_string())
        .filter_map(|r| r["digest"].as_str())
        .find(|d| blobs.contains(*d))
        .expect("a layer blob")
        .to_string();
    let hex = layer.strip_prefix("sha256:").unwrap();
    std::fs::remove_file(root.join("io.containerd.content.v1.content/blobs/sha256").join(hex)).unwrap();
    let out = t.path().join("x.tar");
    let o = coldctr(&root, &["-n", "k8s.io", "export", image, "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`coldctr fs export IMAGE -o FILE`"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    let o = coldctr(
        &root,
        &["-n", "k8s.io", "fs", "export", image, "-o", out.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let tar = std::fs::read(&out).unwrap();
    assert!(
        tar.len() > 1024 && tar.get(257..262) == Some(&b"ustar"[..]),
        "not a tar"
    );
}

/// An output name of 238 to 255 bytes: the temporary file beside it, `.OUT.coldctr-PID.tmp`,
/// cuts OUT's part to fit a file name (sweep 40, F2: "File name too long", exit 5).
#[test]
fn a_long_output_name_is_written() {
    let dir = tmp();
    for len in [237, 250, 255] {
        let out = dir.path().join("a".repeat(len));
        let o = coldctr(
            &fixture("docker-28.5"),
            &["export", "-o", out.to_str().unwrap(), "webapp:1.0"],
        );
        assert_eq!(o.status.code(), Some(0), "{len}: {}", stderr(&o));
        assert!(files_of(&out).contains_key("manifest.json"), "{len}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3, "nothing left beside");
}

/// A name not found on a damaged store may be on the pages that did not read: the damage is
/// said and the exit is 3, as README's exit codes say (sweep 43.3: exit 1, "No such image"
/// alone); on the intact store it stays 1.
#[test]
fn a_name_not_found_on_a_damaged_store_is_exit_3_with_the_damage() {
    let dir = tmp();
    let copy = dir.path().join("root");
    copy_root(&fixture("docker-28.5"), &copy);
    let out = dir.path().join("x.tar");
    let args = ["-n", "moby", "export", "-o", out.to_str().unwrap(), "nosuch:1"];
    let intact = coldctr(&copy, &args);
    assert_eq!(intact.status.code(), Some(1), "{}", stderr(&intact));
    // Cut meta.db to half: its metas' high-water mark lies past the end.
    let db = copy.join("io.containerd.metadata.v1.bolt/meta.db");
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    for salvage in [false, true] {
        let mut a: Vec<&str> = if salvage { vec!["--salvage"] } else { Vec::new() };
        a.extend(args);
        let o = coldctr(&copy, &a);
        assert_eq!(o.status.code(), Some(3), "salvage {salvage}: {}", stderr(&o));
        assert!(stderr(&o).contains("No such image: nosuch:1"), "{}", stderr(&o));
        assert!(!out.exists());
    }
    let o = coldctr(&copy, &args);
    assert!(stderr(&o).contains("meta.db"), "the damage is named: {}", stderr(&o));
}

/// "invalid page type" on the content records' page (containerd #3347's shape; sweep 43.1):
/// the image records salvage, and `--salvage export` took every blob as missing, each file
/// intact on disk, and wrote an archive nothing loads. Salvage now takes a blob whose record
/// does not read from its file, hashed against its digest, and says so: the archive is the
/// one the intact store gives, byte for byte.
#[test]
fn salvage_export_takes_blobs_whose_records_are_on_a_damaged_page() {
    use coldctr::bolt::{Db, MetaChoice, ReadMode};
    let dir = tmp();
    let copy = dir.path().join("root");
    copy_root(&fixture("docker-28.5"), &copy);
    let db_path = copy.join("io.containerd.metadata.v1.bolt/meta.db");
    let page = {
        let db = Db::open(&db_path, ReadMode::Mmap).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let blobs = tx
            .bucket_at(&[b"v1".as_slice(), b"moby", b"content", b"blob"])
            .unwrap()
            .unwrap();
        blobs.root_page()
    };
    assert!(page > 1);
    let mut bytes = std::fs::read(&db_path).unwrap();
    // The page header's flags (after its 8-byte id): no page type bbolt knows.
    bytes[page as usize * 4096 + 8] = 0x20;
    std::fs::write(&db_path, &bytes).unwrap();
    let intact = dir.path().join("intact.tar");
    let o = coldctr(
        &fixture("docker-28.5"),
        &["export", "-o", intact.to_str().unwrap(), "webapp:1.0"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let salvaged = dir.path().join("salvaged.tar");
    let o = coldctr(
        &copy,
        &["--salvage", "export", "-o", salvaged.to_str().unwrap(), "webapp:1.0"],
    );
    assert_eq!(o.status.code(), Some(3), "the store is damaged: {}", stderr(&o));
    assert!(
        stderr(&o).contains("did not read (lost with damaged pages) were taken from their blob files"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&salvaged).unwrap(), std::fs::read(&intact).unwrap());
    // Without --salvage nothing is written, and the damaged page is named.
    let o = coldctr(
        &copy,
        &["export", "-o", dir.path().join("n.tar").to_str().unwrap(), "webapp:1.0"],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains(&format!("page {page}")), "{}", stderr(&o));
}
