//! OCI image layout directories as `--root`, checked against what the real tools said about
//! the same bytes: the dev fixtures in `fixtures/oci-dev/` were written by skopeo 1.9.3,
//! umoci 0.4.7, buildah 1.28 and podman 4.3 (plus marked hand-made edits and damaged copies),
//! and `fixtures/expected/oci-dev/` holds those tools' answers about them:
//!
//! ```text
//! <layout>/refs.tsv                  n, ref name (- = none), mediaType, digest, size, folder
//! <layout>/images.tsv                a spec walker's leaf manifests per entry (config, layers)
//! <layout>/summary.json              the walker's problems (kind, severity, digest)
//! <layout>/umoci-ls.{txt,rc}         `umoci ls`
//! <layout>/refs/NN-ref/skopeo-inspect[-config|-raw][.<os>-<arch>[-<variant>]].{json,rc}
//! <layout>/refs/NN-ref/umoci-stat.{json,rc}
//! damages.json                       what was done to each damaged copy, what must be reported
//! ```
//!
//! Every comparison is with those files (or with skopeo/umoci run right now, when installed),
//! never with what coldctr printed before. Hostile layouts are made at run time in a tempdir;
//! every run is under a timeout, so a hang fails the test instead of stalling it.
//!
//! Not compared: image history (`umoci stat` history, skopeo config `history`): coldctr has
//! no command that prints it (docker image inspect shows only the last entry's comment, as
//! `Comment`, which is compared).

#[path = "gcdu_support/mod.rs"]
mod support;
mod unprivileged;

use serde_json::Value;
use sha2::Digest as _;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const LAYOUTS: [&str; 6] = [
    "buildah",
    "handmade-graph",
    "podman-oci-dir",
    "skopeo-index",
    "skopeo-multi",
    "umoci",
];
const REF_NAME: &str = "org.opencontainers.image.ref.name";
const ENTRY_LABEL: &str = "coldctr.source.entry";

fn oci_dev(rel: &str) -> PathBuf {
    support::fixture("oci-dev").join(rel)
}

fn expected_dir(rel: &str) -> PathBuf {
    support::fixture("expected/oci-dev").join(rel)
}

fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A capture's exit code file (`X.rc`), None when the capture was not made.
fn rc(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().parse().unwrap())
}

/// Runs coldctr with the host platform fixed (captures were made on linux/amd64), failing the
/// test if it has not ended within `limit`; stdout and stderr are drained while it runs.
fn coldctr_within(root: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(root)
        .args(["--host-platform", "linux/amd64"])
        .args(args)
        .env_remove("COLDCTR_ROOT")
        .env_remove("DOCKER_API_VERSION")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn coldctr");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            r.read_to_end(&mut v).unwrap();
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "coldctr --root {} {args:?} did not end within {limit:?}",
                root.display()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let o = Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!e.contains("panicked"), "coldctr {args:?} panicked: {e}");
    o
}

fn coldctr(root: &Path, args: &[&str]) -> Output {
    coldctr_within(root, args, Duration::from_secs(60))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_of(o: &Output, what: &str) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{what}: stdout is not JSON ({e}); stderr: {}", stderr(o)))
}

/// One row of refs.tsv: an index.json entry.
#[derive(Debug, Clone)]
struct RefRow {
    n: usize,
    name: Option<String>,
    media_type: String,
    digest: String,
    size: i64,
    folder: String,
}

fn refs(rel: &str) -> Vec<RefRow> {
    read_text(&expected_dir(rel).join("refs.tsv"))
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            RefRow {
                n: f[0].parse().unwrap(),
                name: (f[1] != "-").then(|| f[1].to_string()),
                media_type: f[2].into(),
                digest: f[3].into(),
                size: f[4].parse().unwrap(),
                folder: f[5].into(),
            }
        })
        .collect()
}

/// images.tsv rows by column name.
fn images_tsv(rel: &str) -> Vec<BTreeMap<String, String>> {
    let text = read_text(&expected_dir(rel).join("images.tsv"));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            header
                .iter()
                .map(|h| h.to_string())
                .zip(l.split('\t').map(String::from))
                .collect()
        })
        .collect()
}

/// The record name the layout rule gives each entry: `io.containerd.image.name`, else the ref
/// name as written; `@N` for an entry without one or whose name another entry also has.
/// Read from the fixture's own index.json (and checked against refs.tsv).
fn expected_names(rel: &str, rows: &[RefRow]) -> BTreeMap<usize, String> {
    let index: Value = serde_json::from_str(&read_text(&oci_dev(rel).join("index.json"))).unwrap();
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), rows.len(), "{rel}: refs.tsv and index.json");
    let claimed: Vec<Option<String>> = manifests
        .iter()
        .map(|m| {
            let a = &m["annotations"];
            a["io.containerd.image.name"]
                .as_str()
                .or(a[REF_NAME].as_str())
                .map(String::from)
        })
        .collect();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for c in claimed.iter().flatten() {
        *count.entry(c).or_default() += 1;
    }
    for (m, row) in manifests.iter().zip(rows) {
        assert_eq!(
            m["annotations"][REF_NAME].as_str(),
            row.name.as_deref(),
            "{rel} @{}",
            row.n
        );
        assert_eq!(m["digest"].as_str(), Some(row.digest.as_str()));
    }
    claimed
        .iter()
        .enumerate()
        .map(|(n, c)| match c {
            Some(c) if count[c.as_str()] == 1 => (n, c.clone()),
            _ => (n, format!("@{n}")),
        })
        .collect()
}

/// `images --format json`, one record per entry position (asserting there is exactly one).
fn records_by_entry(root: &Path, want_rc: i32) -> BTreeMap<usize, Value> {
    let o = coldctr(root, &["images", "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(want_rc),
        "{}: images: {}",
        root.display(),
        stderr(&o)
    );
    let mut out = BTreeMap::new();
    for r in json_of(&o, "images").as_array().unwrap() {
        let n: usize = r["labels"][ENTRY_LABEL].as_str().unwrap().parse().unwrap();
        assert!(
            out.insert(n, r.clone()).is_none(),
            "{}: two records for entry @{n}",
            root.display()
        );
    }
    out
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// A platform of an image record, by its os/arch[/variant] string.
fn platform<'a>(record: &'a Value, p: &str) -> &'a Value {
    record["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["platform"].as_str() == Some(p))
        .unwrap_or_else(|| panic!("no platform {p} in {}", record["name"]))
}

fn layer_digests(platform: &Value) -> Vec<String> {
    platform["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_index_json_entry_is_one_image_record_named_by_the_layout_rule() {
    let damaged = damages();
    let mut all: Vec<(String, i32)> = LAYOUTS.iter().map(|l| (format!("layouts/{l}"), 0)).collect();
    for d in &damaged {
        let name = d["name"].as_str().unwrap();
        if name == "index-not-json" {
            continue; // no entries to read (its own test)
        }
        // `images` reads index.json, oci-layout and the documents, not the layers: it exits 3
        // when those are damaged or a blob is not followed, and shows a missing blob as the
        // image's content status (below); it re-hashes nothing (verify does).
        let rc = match name {
            "bad-layout-version" | "no-oci-layout" | "symlink-escape" => 3,
            // A missing target or config: a document every reader of the image reads.
            "index-missing-manifest" | "uppercase-hex" => 3,
            _ => 0,
        };
        all.push((format!("damaged/{name}"), rc));
    }
    for (rel, want_rc) in all {
        let rows = refs(&rel);
        let names = expected_names(&rel, &rows);
        // The damage is reported and every entry is still listed.
        let records = records_by_entry(&oci_dev(&rel), want_rc);
        assert_eq!(
            records.keys().copied().collect::<Vec<_>>(),
            rows.iter().map(|r| r.n).collect::<Vec<_>>(),
            "{rel}: one record per entry"
        );
        for row in &rows {
            let r = &records[&row.n];
            assert_eq!(r["name"].as_str(), Some(names[&row.n].as_str()), "{rel} @{}", row.n);
            assert_eq!(r["namespace"].as_str(), Some("default"));
            let t = &r["target"];
            assert_eq!(t["digest"].as_str(), Some(row.digest.as_str()), "{rel} @{}", row.n);
            assert_eq!(
                t["mediaType"].as_str(),
                Some(row.media_type.as_str()),
                "{rel} @{}",
                row.n
            );
            assert_eq!(t["size"].as_i64(), Some(row.size), "{rel} @{}", row.n);
            assert_eq!(r["labels"][REF_NAME].as_str(), row.name.as_deref(), "{rel} @{}", row.n);
        }
        // The entries the walker finds a blob missing for are the ones whose content is not
        // all there (the host's platform: all missing blobs here are linux/amd64 ones).
        let broken: BTreeSet<usize> = images_tsv(&rel)
            .iter()
            .filter(|r| r["status"].contains("missing") || r["status"].contains("symlink-refused"))
            .map(|r| r["n"].parse().unwrap())
            .collect();
        let ours: BTreeSet<usize> = records
            .iter()
            .filter(|(_, r)| !r["sizes"]["content"]["missing"].as_array().unwrap().is_empty())
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(ours, broken, "{rel}: entries with missing content");
    }
}

#[test]
fn platforms_configs_and_layers_equal_the_spec_walkers() {
    for l in LAYOUTS {
        let rel = format!("layouts/{l}");
        let records = records_by_entry(&oci_dev(&rel), 0);
        let tsv = images_tsv(&rel);
        for (n, record) in &records {
            let rows: Vec<_> = tsv.iter().filter(|r| r["n"] == n.to_string()).collect();
            let ours: BTreeSet<String> = record["platforms"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["digest"].as_str().unwrap().to_string())
                .collect();
            let theirs: BTreeSet<String> = rows.iter().map(|r| r["manifest_digest"].clone()).collect();
            assert_eq!(ours, theirs, "{rel} @{n}: leaf manifests");
            for row in rows {
                let p = record["platforms"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| p["digest"].as_str() == Some(row["manifest_digest"].as_str()))
                    .unwrap();
                let at = format!("{rel} @{n} {}", row["manifest_digest"]);
                assert_eq!(p["present"], Value::Bool(true), "{at}");
                assert_eq!(
                    p["mediaType"].as_str(),
                    Some(row["manifest_mediaType"].as_str()),
                    "{at}"
                );
                assert_eq!(p["config"].as_str(), Some(row["config_digest"].as_str()), "{at}");
                let layers = p["layers"].as_array().unwrap();
                assert_eq!(layers.len().to_string(), row["layers"], "{at}: layer count");
                let bytes: i64 = layers.iter().map(|l| l["size"].as_i64().unwrap()).sum();
                assert_eq!(bytes.to_string(), row["layer_bytes"], "{at}: layer bytes");
                // The index descriptor's platform, else the config's os/arch.
                let want = if row["platform"] != "-" {
                    &row["platform"]
                } else {
                    &row["config_os_arch"]
                };
                if want != "-" {
                    assert_eq!(p["platform"].as_str(), Some(want.as_str()), "{at}");
                }
            }
        }
    }
}

/// What one skopeo capture (a default one, or one per platform) says, and how to ask coldctr
/// the same question.
struct Capture {
    inspect: Value,
    config: Value,
    /// `os/arch[/variant]` of a per-platform capture.
    platform: Option<String>,
}

fn captures(dir: &Path) -> Vec<Capture> {
    let mut out = Vec::new();
    if rc(&dir.join("skopeo-inspect.rc")) != Some(0) {
        return out;
    }
    let load = |name: &str| support::read_json(&dir.join(name));
    out.push(Capture {
        inspect: load("skopeo-inspect.json"),
        config: load("skopeo-inspect-config.json"),
        platform: None,
    });
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for name in names {
        let Some(p) = name
            .strip_prefix("skopeo-inspect.")
            .and_then(|s| s.strip_suffix(".json"))
        else {
            continue;
        };
        if rc(&dir.join(format!("skopeo-inspect.{p}.rc"))) != Some(0)
            || rc(&dir.join(format!("skopeo-inspect-config.{p}.rc"))) != Some(0)
        {
            continue;
        }
        out.push(Capture {
            inspect: load(&name),
            config: load(&format!("skopeo-inspect-config.{p}.json")),
            platform: Some(p.replace('-', "/")),
        });
    }
    out
}

#[test]
fn inspect_equals_skopeo_inspect_and_its_config_for_every_entry_skopeo_reads() {
    let mut compared = 0;
    for l in LAYOUTS {
        let rel = format!("layouts/{l}");
        let root = oci_dev(&rel);
        let rows = refs(&rel);
        let names = expected_names(&rel, &rows);
        let records = records_by_entry(&root, 0);
        for row in &rows {
            let dir = expected_dir(&rel).join("refs").join(&row.folder);
            // skopeo resolves a name to the first entry that has it (handmade-graph's second
            // `multi` is captured as the first): compare with that entry.
            let first = rows
                .iter()
                .find(|r| r.name.is_some() && r.name == row.name)
                .unwrap_or(row);
            let reference = &names[&first.n];
            if let (true, Some(name)) = (reference.starts_with('@'), &row.name) {
                // coldctr refuses the ambiguous name instead of guessing.
                let o = coldctr(&root, &["inspect", name]);
                assert_eq!(o.status.code(), Some(1), "{rel}: inspect {name}: {}", stderr(&o));
                assert!(stderr(&o).contains("ambiguous"), "{}", stderr(&o));
            }
            let record = &records[&first.n];
            for cap in captures(&dir) {
                let at = format!("{rel} {} {:?}", row.folder, cap.platform);
                let sk = &cap.inspect;
                let cfg = &cap.config;
                // skopeo's Digest is the entry's own (the index, for an index).
                assert_eq!(sk["Digest"].as_str(), record["target"]["digest"].as_str(), "{at}");
                let index = first.media_type.contains("index") || first.media_type.contains("list");
                let plat = if !index {
                    let ps = record["platforms"].as_array().unwrap();
                    assert_eq!(ps.len(), 1, "{at}");
                    assert_eq!(ps[0]["digest"].as_str(), sk["Digest"].as_str(), "{at}: manifest digest");
                    &ps[0]
                } else {
                    // The default capture is the host's (linux/amd64) manifest.
                    let p = cap.platform.clone().unwrap_or_else(|| "linux/amd64".into());
                    let plat = platform(record, &p);
                    // The manifest the index names for that platform (skopeo inspect --raw).
                    let raw = support::read_json(&dir.join("skopeo-inspect-raw.json"));
                    let listed = raw["manifests"].as_array().unwrap().iter().find(|m| {
                        let mp = &m["platform"];
                        let mut s = format!(
                            "{}/{}",
                            mp["os"].as_str().unwrap_or(""),
                            mp["architecture"].as_str().unwrap_or("")
                        );
                        if let Some(v) = mp["variant"].as_str() {
                            s = format!("{s}/{v}");
                        }
                        s == p
                    });
                    // (nested's raw index lists an index, not the platform manifest)
                    if let Some(m) = listed {
                        assert_eq!(m["digest"], plat["digest"], "{at}: manifest digest");
                    }
                    plat
                };
                assert_eq!(layer_digests(plat), strings(&sk["Layers"]), "{at}: layers");
                assert_eq!(plat["config"].as_str().map(|c| c.len()), Some(71), "{at}");

                let mut args = vec!["inspect"];
                if let Some(p) = &cap.platform {
                    args.extend(["--platform", p.as_str()]);
                }
                args.push(reference);
                let o = coldctr(&root, &args);
                assert_eq!(o.status.code(), Some(0), "{at}: {args:?}: {}", stderr(&o));
                let ours = json_of(&o, &at);
                let ours = &ours[0];
                // What skopeo inspect prints ...
                assert_eq!(ours["Created"], sk["Created"], "{at}: Created");
                assert_eq!(ours["Architecture"], sk["Architecture"], "{at}: Architecture");
                assert_eq!(ours["Os"], sk["Os"], "{at}: Os");
                assert_eq!(ours["Config"]["Env"], sk["Env"], "{at}: Env");
                assert_eq!(ours["Config"]["Labels"], sk["Labels"], "{at}: Labels");
                // ... and the config skopeo inspect --config prints.
                assert_eq!(ours["Created"], cfg["created"], "{at}: created");
                assert_eq!(ours["Architecture"], cfg["architecture"], "{at}: architecture");
                assert_eq!(ours["Os"], cfg["os"], "{at}: os");
                assert_eq!(ours["Variant"], cfg["variant"], "{at}: variant");
                let author = cfg["author"].as_str().unwrap_or("");
                assert_eq!(ours["Author"].as_str(), Some(author), "{at}: author");
                assert_eq!(ours["Config"]["Env"], cfg["config"]["Env"], "{at}: config.Env");
                assert_eq!(ours["Config"]["Labels"], cfg["config"]["Labels"], "{at}: config.Labels");
                assert_eq!(
                    ours["RootFS"]["Layers"], cfg["rootfs"]["diff_ids"],
                    "{at}: rootfs.diff_ids"
                );
                // The one piece of history docker inspect shows: the last entry's comment.
                let last = cfg["history"].as_array().and_then(|h| h.last());
                let comment = last.and_then(|h| h["comment"].as_str()).unwrap_or("");
                assert_eq!(ours["Comment"].as_str(), Some(comment), "{at}: history[-1].comment");
                compared += 1;
            }
        }
    }
    // Every default and per-platform capture of the 6 layouts (buildah 1+1+2, handmade-graph
    // 13, podman 1, skopeo-index 8, skopeo-multi 4, umoci 4).
    assert_eq!(compared, 34, "captures compared");
}

#[test]
fn entries_skopeo_cannot_read_still_have_the_walkers_config_and_layers() {
    // skopeo 1.9 skips docker-typed index.json entries and cannot address untagged ones, and
    // refuses OCI 1.1 artifacts; the spec walker's images.tsv is the model there.
    let mut compared = 0;
    for l in LAYOUTS {
        let rel = format!("layouts/{l}");
        let root = oci_dev(&rel);
        let rows = refs(&rel);
        let names = expected_names(&rel, &rows);
        let tsv = images_tsv(&rel);
        for row in &rows {
            let dir = expected_dir(&rel).join("refs").join(&row.folder);
            if rc(&dir.join("skopeo-inspect.rc")) == Some(0) || row.media_type.contains("index") {
                continue;
            }
            let t = tsv.iter().find(|r| r["n"] == row.n.to_string()).unwrap();
            let o = coldctr(&root, &["inspect", &names[&row.n]]);
            let at = format!("{rel} @{} ({})", row.n, names[&row.n]);
            assert_eq!(o.status.code(), Some(0), "{at}: {}", stderr(&o));
            let ours = json_of(&o, &at);
            let ours = &ours[0];
            assert_eq!(ours["Id"].as_str(), Some(t["manifest_digest"].as_str()), "{at}");
            if t["config_os_arch"] != "-" {
                // An image config (an artifact's empty config has no diff IDs).
                let layers = ours["RootFS"]["Layers"].as_array().map(Vec::len).unwrap_or(0);
                assert_eq!(layers.to_string(), t["layers"], "{at}: diff ids");
                let osarch = format!(
                    "{}/{}",
                    ours["Os"].as_str().unwrap(),
                    ours["Architecture"].as_str().unwrap()
                );
                assert!(
                    t["config_os_arch"].starts_with(&osarch),
                    "{at}: {osarch} vs {}",
                    t["config_os_arch"]
                );
            }
            compared += 1;
        }
    }
    // buildah app-v2s2 and untagged @2, skopeo-multi saved-v2s2 and untagged @5, sbom.
    assert_eq!(compared, 5);
}

#[test]
fn umoci_stat_layers_and_diff_ids_equal_ours() {
    // umoci stat's history rows that carry a layer, in order: the manifest's layers and the
    // config's diff IDs. (Its history text itself is not compared: no coldctr command shows it.)
    let mut compared = 0;
    for l in LAYOUTS {
        let rel = format!("layouts/{l}");
        let root = oci_dev(&rel);
        let rows = refs(&rel);
        let names = expected_names(&rel, &rows);
        let records = records_by_entry(&root, 0);
        for row in &rows {
            let dir = expected_dir(&rel).join("refs").join(&row.folder);
            if rc(&dir.join("umoci-stat.rc")) != Some(0) {
                continue;
            }
            let stat = support::read_json(&dir.join("umoci-stat.json"));
            let with_layer: Vec<&Value> = stat["history"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|h| !h["layer"].is_null())
                .collect();
            let digests: Vec<String> = with_layer
                .iter()
                .map(|h| h["layer"]["digest"].as_str().unwrap().to_string())
                .collect();
            let diff_ids: Vec<Value> = with_layer.iter().map(|h| h["diff_id"].clone()).collect();
            let ps = record_platforms(&records[&row.n]);
            assert_eq!(layer_digests(ps[0]), digests, "{rel} {}", row.folder);
            let o = coldctr(&root, &["inspect", &names[&row.n]]);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            assert_eq!(
                json_of(&o, &rel)[0]["RootFS"]["Layers"],
                Value::Array(diff_ids),
                "{rel} {}",
                row.folder
            );
            compared += 1;
        }
    }
    // umoci x4, buildah app, podman app, skopeo-multi saved and saved-zstd.
    assert_eq!(compared, 8);
}

fn record_platforms(r: &Value) -> Vec<&Value> {
    r["platforms"].as_array().unwrap().iter().collect()
}

#[test]
fn umoci_ls_names_are_our_ref_names_in_index_order() {
    // Every intact layout, and the damaged copies umoci still lists (it refuses a layout
    // without a valid oci-layout or index.json; damage to blobs does not stop `ls`).
    let mut listed_by_umoci = 0;
    let mut all: Vec<String> = LAYOUTS.iter().map(|l| format!("layouts/{l}")).collect();
    all.extend(
        damages()
            .iter()
            .map(|d| format!("damaged/{}", d["name"].as_str().unwrap())),
    );
    for rel in all {
        if rc(&expected_dir(&rel).join("umoci-ls.rc")) != Some(0) {
            assert!(rel.starts_with("damaged/"), "{rel}");
            continue;
        }
        let listed: Vec<String> = read_text(&expected_dir(&rel).join("umoci-ls.txt"))
            .lines()
            .map(String::from)
            .collect();
        let o = coldctr(&oci_dev(&rel), &["images", "--format", "json"]);
        let mut records: Vec<(usize, Option<String>)> = json_of(&o, &rel)
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let n = r["labels"][ENTRY_LABEL].as_str().unwrap().parse().unwrap();
                (n, r["labels"][REF_NAME].as_str().map(String::from))
            })
            .collect();
        records.sort();
        let ours: Vec<String> = records.into_iter().filter_map(|(_, name)| name).collect();
        assert_eq!(ours, listed, "{rel}");
        listed_by_umoci += 1;
    }
    assert_eq!(listed_by_umoci, 13);
}

fn damages() -> Vec<Value> {
    support::read_json(&expected_dir("damages.json"))
        .as_array()
        .unwrap()
        .clone()
}

/// Where coldctr puts each kind of problem the spec walker (summary.json) reports.
enum Place {
    /// verify's `problems`: a blob status.
    Blob(&'static str),
    /// verify's `orphans`.
    Orphan,
    /// `source.problems`.
    Source,
}

/// The digests of a layout's index.json targets and of the configs of the manifests it
/// holds (read from its own files).
fn documents_read_by_every_reader(rel: &str) -> BTreeSet<String> {
    let dir = oci_dev(rel);
    let mut out = BTreeSet::new();
    let index = support::read_json(&dir.join("index.json"));
    for m in index["manifests"].as_array().into_iter().flatten() {
        out.extend(m["digest"].as_str().map(str::to_string));
    }
    for e in std::fs::read_dir(dir.join("blobs/sha256"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(doc) = serde_json::from_slice::<Value>(&std::fs::read(e.path()).unwrap_or_default()) else {
            continue;
        };
        if doc["layers"].is_array() {
            out.extend(doc["config"]["digest"].as_str().map(str::to_string));
        }
    }
    out
}

fn place(kind: &str) -> Place {
    match kind {
        "blob-missing" => Place::Blob("missing"),
        "blob-size-mismatch" => Place::Blob("size-mismatch"),
        "blob-digest-mismatch" => Place::Blob("digest-mismatch"),
        "blob-symlink" => Place::Blob("not-regular"),
        "blob-orphan" | "blob-name-invalid" => Place::Orphan,
        _ => Place::Source,
    }
}

/// What the walker's summary.json says a reader must report, in coldctr's places.
struct Report {
    blobs: BTreeSet<(String, String)>,
    orphans: BTreeSet<Option<String>>,
    source: BTreeSet<(String, String)>,
}

fn walker_report(rel: &str) -> Report {
    let summary = support::read_json(&expected_dir(rel).join("summary.json"));
    let mut r = Report {
        blobs: BTreeSet::new(),
        orphans: BTreeSet::new(),
        source: BTreeSet::new(),
    };
    for p in summary["oci"]["problems"].as_array().unwrap() {
        let kind = p["kind"].as_str().unwrap();
        match place(kind) {
            Place::Blob(status) => {
                let digest = p["digest"].as_str().unwrap().to_string();
                // A missing target or config is also an error of the layout (see
                // `verify_finds_exactly_the_listed_damage`).
                if kind == "blob-missing" && documents_read_by_every_reader(rel).contains(&digest) {
                    r.source.insert((kind.to_string(), "error".to_string()));
                }
                r.blobs.insert((digest, status.to_string()));
            }
            Place::Orphan if kind == "blob-name-invalid" => {
                // An orphan whose name is no digest, and an error of the layout.
                r.orphans.insert(None);
                r.source.insert((kind.to_string(), "error".to_string()));
            }
            Place::Orphan => {
                r.orphans.insert(Some(p["digest"].as_str().unwrap().to_string()));
            }
            Place::Source => {
                r.source
                    .insert((kind.to_string(), p["severity"].as_str().unwrap().to_string()));
            }
        }
    }
    // One status per blob: a blob short of its size is not also reported as a digest mismatch.
    let short: BTreeSet<String> = r
        .blobs
        .iter()
        .filter(|(_, s)| s == "size-mismatch")
        .map(|(d, _)| d.clone())
        .collect();
    r.blobs.retain(|(d, s)| !(s == "digest-mismatch" && short.contains(d)));
    r
}

fn verify(root: &Path) -> (Option<i32>, Value) {
    let o = coldctr(root, &["verify", "--format", "json"]);
    let v = json_of(&o, &root.display().to_string());
    (o.status.code(), v)
}

fn blob_statuses(v: &Value) -> BTreeSet<(String, String)> {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["digest"].as_str().unwrap().to_string(),
                p["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn orphan_digests(v: &Value) -> BTreeSet<Option<String>> {
    v["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["digest"].as_str().map(String::from))
        .collect()
}

fn source_problems(v: &Value) -> BTreeSet<(String, String)> {
    v["source"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_string(),
                p["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn verify_finds_exactly_the_listed_damage() {
    let records = damages();
    assert_eq!(records.len(), 10);
    for d in &records {
        let name = d["name"].as_str().unwrap();
        let rel = format!("damaged/{name}");
        let (code, v) = verify(&oci_dev(&rel));
        let at = format!("{rel}: {v:#}");
        assert_eq!(v["source"]["kind"].as_str(), Some("OCI layout"), "{at}");

        // damages.json's must_report, in coldctr's vocabulary.
        let mut blobs = BTreeSet::new();
        let mut orphans = BTreeSet::new();
        let mut source = BTreeSet::new();
        for m in strings(&d["must_report"]) {
            let (kind, arg) = m
                .split_once(':')
                .map(|(k, a)| (k, Some(a)))
                .unwrap_or((m.as_str(), None));
            match (place(kind), arg) {
                (Place::Blob(status), Some(digest)) => {
                    blobs.insert((digest.to_string(), status.to_string()));
                    // A missing target or config is also an error of the layout itself
                    // (every reader of the image reads them); a missing layer is not.
                    if kind == "blob-missing" && documents_read_by_every_reader(&rel).contains(digest) {
                        source.insert(kind.to_string());
                    }
                }
                (Place::Orphan, _) if kind == "blob-name-invalid" => {
                    // The upper-case file is an orphan whose name is no digest, and an
                    // error of the layout (as in an archive of it).
                    orphans.insert(None);
                    source.insert(kind.to_string());
                }
                (Place::Orphan, _) => {
                    orphans.insert(Some(d["orphan"]["digest"].as_str().unwrap().to_string()));
                }
                (Place::Source, _) => {
                    source.insert(kind.to_string());
                }
                (Place::Blob(_), None) => panic!("{m}: no digest"),
            }
        }
        let short: BTreeSet<String> = blobs
            .iter()
            .filter(|(_, s)| s == "size-mismatch")
            .map(|(d, _)| d.clone())
            .collect();
        blobs.retain(|(d, s)| !(s == "digest-mismatch" && short.contains(d)));

        assert_eq!(blob_statuses(&v), blobs, "{at}");
        let errors: BTreeSet<String> = source_problems(&v)
            .into_iter()
            .filter(|(_, sev)| sev == "error")
            .map(|(k, _)| k)
            .collect();
        assert_eq!(errors, source, "{at}");
        // Error-level source problems are findings too, and nothing else is.
        let findings: BTreeSet<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["message"].as_str().unwrap().split(':').next().unwrap().to_string())
            .collect();
        assert_eq!(findings, source, "{at}");
        // The orphans the damage made, and the ones the walker finds (a missing manifest
        // leaves its config and layers unreferenced; an unreadable index.json, every blob).
        let walker = walker_report(&rel);
        let ours = orphan_digests(&v);
        assert!(orphans.is_subset(&ours), "{at}");
        assert_eq!(ours, walker.orphans, "{at}");
        assert_eq!(blob_statuses(&v), walker.blobs, "{at}");
        assert_eq!(source_problems(&v), walker.source, "{at}");
        let want_rc = if name == "orphan-blob" { 0 } else { 3 };
        assert_eq!(code, Some(want_rc), "{at}");
        // A command that reads no blob still says the source has an error (README: a source
        // with an error exits 3); damage in a blob alone is not its answer.
        let want_rc = if source.is_empty() { 0 } else { 3 };
        for cmd in ["namespaces", "leases", "containers", "snapshots"] {
            let o = coldctr(&oci_dev(&rel), &[cmd]);
            assert_eq!(o.status.code(), Some(want_rc), "{cmd} {at}");
        }
    }
}

#[test]
fn verify_on_the_intact_layouts_says_what_the_walker_says() {
    for l in LAYOUTS {
        let rel = format!("layouts/{l}");
        let (code, v) = verify(&oci_dev(&rel));
        let walker = walker_report(&rel);
        assert_eq!(code, Some(0), "{rel}: {v:#}");
        assert!(blob_statuses(&v).is_empty() && walker.blobs.is_empty(), "{rel}: {v:#}");
        assert!(
            orphan_digests(&v).is_empty() && walker.orphans.is_empty(),
            "{rel}: {v:#}"
        );
        assert_eq!(source_problems(&v), walker.source, "{rel}: {v:#}");
        assert_eq!(v["findings"], Value::Array(vec![]), "{rel}");
        // Every blob file was re-hashed: the checked count is the number of files in blobs/.
        let files = std::fs::read_dir(oci_dev(&rel).join("blobs/sha256")).unwrap().count();
        assert_eq!(v["checked"]["blobs"].as_u64(), Some(files as u64), "{rel}");
    }
}

#[test]
fn a_symlinked_blob_is_reported_and_never_followed() {
    let rel = "damaged/symlink-escape";
    let digest = "sha256:cb922b334e18e809c49abe3564af1bbf30f4de901ce9a71eda18307cfb8b42cb";
    let hex = digest.strip_prefix("sha256:").unwrap();
    // The fixture is what the ground truth lists: a relative symlink to an identical copy
    // outside the layout.
    let files = read_text(&expected_dir(rel).join("files.tsv"));
    let line = files.lines().find(|l| l.contains(hex)).unwrap();
    let target = line.split('\t').nth(4).unwrap();
    let blob = oci_dev(rel).join("blobs/sha256").join(hex);
    assert_eq!(std::fs::read_link(&blob).unwrap(), PathBuf::from(target));
    let outside = std::fs::read(oci_dev("damaged/_outside/symlink-escape").join(hex)).unwrap();
    assert_eq!(hex::encode(sha2::Sha256::digest(&outside)), hex);

    // A copy whose outside file is a FIFO: opening it for reading would block forever, and
    // reading through the link would find other bytes there.
    let tmp = tempfile::tempdir().unwrap();
    support::copy_tree(&oci_dev(rel), &tmp.path().join("damaged/symlink-escape"));
    let out_dir = tmp.path().join("damaged/_outside/symlink-escape");
    std::fs::create_dir_all(&out_dir).unwrap();
    mkfifo(&out_dir.join(hex));
    for root in [oci_dev(rel), tmp.path().join("damaged/symlink-escape")] {
        let (code, v) = verify(&root);
        assert_eq!(code, Some(3), "{v:#}");
        let p = v["problems"].as_array().unwrap();
        assert_eq!(p.len(), 1, "{v:#}");
        assert_eq!(p[0]["digest"].as_str(), Some(digest));
        assert_eq!(p[0]["status"].as_str(), Some("not-regular"));
        assert_eq!(p[0]["found"].as_str(), Some("symlink"));
        // Exit 3 where the blob is read (not followed: a partial answer); gc reads records
        // only, and the symlink's digest is recorded, so it has nothing to say (0).
        for (args, code) in [
            (&["images", "--format", "json"][..], 3),
            (&["inspect", "multi-amd64"], 3),
            (&["content", "--format", "json"], 3),
            (&["du", "--format", "json"], 3),
            (&["gc", "--format", "json"], 0),
        ] {
            let o = coldctr_within(&root, args, Duration::from_secs(30));
            assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        }
    }
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(st.success());
}

#[test]
fn gc_names_exactly_the_orphan_blob_umoci_gc_would_delete() {
    let d = damages().into_iter().find(|d| d["name"] == "orphan-blob").unwrap();
    let orphan = d["orphan"]["digest"].as_str().unwrap();
    let o = coldctr(&oci_dev("damaged/orphan-blob"), &["gc", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let gc = json_of(&o, "gc");
    let digests = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|b| b["digest"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(digests(&gc["orphanBlobFiles"]), vec![orphan.to_string()], "{gc:#}");
    assert_eq!(gc["orphanBlobFiles"][0]["size"].as_i64(), d["orphan"]["size"].as_i64());
    // containerd removes no record here (everything is referenced), so its own sweep would
    // not run: the orphan is pending, not in blobFiles.
    assert_eq!(gc["content"], Value::Array(vec![]), "{gc:#}");
    assert_eq!(gc["blobFiles"], Value::Array(vec![]), "{gc:#}");
    assert_eq!(digests(&gc["pending"]["blobFiles"]), vec![orphan.to_string()], "{gc:#}");
    // And on the layouts it was copied from, nothing.
    for l in LAYOUTS {
        let o = coldctr(&oci_dev(&format!("layouts/{l}")), &["gc", "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let gc = json_of(&o, l);
        assert_eq!(gc["orphanBlobFiles"], Value::Array(vec![]), "{l}");
        assert_eq!(gc["content"], Value::Array(vec![]), "{l}");
    }
    // umoci gc, run now on a copy, deletes exactly that blob.
    let (_tmp, dir) = layout_copy("damaged/orphan-blob");
    let before = blob_names(&dir);
    let Some(_) = tool_ok("umoci", &["gc", "--layout", dir.to_str().unwrap()]) else {
        return;
    };
    let deleted: Vec<String> = before
        .difference(&blob_names(&dir))
        .map(|h| format!("sha256:{h}"))
        .collect();
    assert_eq!(deleted, vec![orphan.to_string()]);
}

#[test]
fn an_unreadable_index_json_leaves_no_images_and_says_why() {
    let root = oci_dev("damaged/index-not-json");
    let o = coldctr(&root, &["images", "--format", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(json_of(&o, "images"), Value::Array(vec![]));
    let e = stderr(&o);
    assert!(e.contains("error: index-json-invalid: index.json:"), "{e}");
    // Not found, on a damaged source: 3, the damage outranks "no".
    let o = coldctr(&root, &["inspect", "multi"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("No such image: multi"), "{}", stderr(&o));
}

#[test]
fn a_containers_image_dir_directory_is_refused_saying_what_was_looked_for() {
    let root = oci_dev("other/podman-docker-dir");
    for args in [&["images"][..], &["verify", "--format", "json"]] {
        let o = coldctr(&root, args);
        assert_eq!(o.status.code(), Some(4), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty());
        let e = stderr(&o);
        for what in [
            "oci-layout",
            "index.json",
            "io.containerd.metadata.v1.bolt",
            "found manifest.json",
        ] {
            assert!(e.contains(what), "{what}: {e}");
        }
    }
    // Told it is a layout, it is one without its two files: damage, exit 3.
    let o = coldctr(&root, &["--source-type", "oci-layout", "verify", "--format", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v = json_of(&o, "verify");
    assert_eq!(
        source_problems(&v),
        BTreeSet::from([
            ("index-json-missing".to_string(), "error".to_string()),
            ("oci-layout-missing".to_string(), "error".to_string())
        ])
    );
}

// --- hostile layouts, made at run time --------------------------------------------------------

/// A writable copy of a dev layout in a tempdir.
fn layout_copy(rel: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("layout");
    support::copy_tree(&oci_dev(rel), &dir);
    (tmp, dir)
}

fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

fn put_blob(dir: &Path, data: &[u8]) -> String {
    let d = sha256(data);
    std::fs::write(dir.join("blobs/sha256").join(d.strip_prefix("sha256:").unwrap()), data).unwrap();
    d
}

/// Every command on a hostile layout ends within `limit`, without a panic, with one of the
/// documented codes.
fn every_command_ends(root: &Path, limit: Duration) {
    for args in [
        &["images", "--format", "json"][..],
        &["content", "--format", "json"],
        &["verify", "--format", "json"],
        &["du", "--format", "json"],
        &["gc", "--format", "json"],
        &["inspect", "x"],
    ] {
        let o = coldctr_within(root, args, limit);
        assert!(
            matches!(o.status.code(), Some(0..=4)),
            "{args:?}: {:?} {}",
            o.status,
            stderr(&o)
        );
    }
}

#[test]
fn a_one_gigabyte_sparse_index_json_is_refused_unread_and_fast() {
    // Exit 3: index.json is damage of the layout; its size is refused before any read.
    let (_tmp, dir) = layout_copy("layouts/umoci");
    let f = std::fs::File::create(dir.join("index.json")).unwrap();
    f.set_len(1 << 30).unwrap();
    drop(f);
    let start = Instant::now();
    let o = coldctr_within(&dir, &["verify", "--format", "json"], Duration::from_secs(20));
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v = json_of(&o, "verify");
    let p = &v["source"]["problems"][0];
    assert_eq!(p["kind"].as_str(), Some("index-json-invalid"), "{v:#}");
    assert!(p["message"].as_str().unwrap().contains("1073741824 bytes"), "{v:#}");
    // Its blobs are all there, referenced by nothing readable.
    assert_eq!(v["orphans"].as_array().unwrap().len(), blob_names(&dir).len(), "{v:#}");
    every_command_ends(&dir, Duration::from_secs(20));
}

#[test]
fn an_index_json_that_is_a_fifo_is_not_read() {
    // Exit 3 (index-json-invalid: not a regular file); no writer ever comes, so a read would hang.
    let (_tmp, dir) = layout_copy("layouts/umoci");
    std::fs::remove_file(dir.join("index.json")).unwrap();
    mkfifo(&dir.join("index.json"));
    let o = coldctr_within(&dir, &["verify", "--format", "json"], Duration::from_secs(20));
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v = json_of(&o, "verify");
    let p = &v["source"]["problems"][0];
    assert_eq!(p["kind"].as_str(), Some("index-json-invalid"), "{v:#}");
    assert!(p["message"].as_str().unwrap().contains("not a regular file"), "{v:#}");
    every_command_ends(&dir, Duration::from_secs(20));
    // oci-layout as a FIFO too.
    std::fs::remove_file(dir.join("oci-layout")).unwrap();
    mkfifo(&dir.join("oci-layout"));
    let o = coldctr_within(&dir, &["verify", "--format", "json"], Duration::from_secs(20));
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let kinds: BTreeSet<String> = source_problems(&json_of(&o, "verify"))
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(kinds.contains("oci-layout-invalid"), "{kinds:?}");
}

/// index.json, oci-layout or blobs/sha256 that this user may not read (mode 000) is exit 4
/// with a kind that says so (`index-json-unreadable`, `oci-layout-unreadable`,
/// `blobs-dir-unreadable`), not damage (`index-json-invalid`, exit 3) nor a symlink
/// (`blobs-dir-symlink`), and no blob is then called missing. Run as the unprivileged user
/// 65534 when the tests run as root, as tests/exit_codes.rs does.
#[test]
fn layout_files_unreadable_for_permissions_are_exit_4_and_say_so() {
    use std::os::unix::fs::PermissionsExt;
    let chmod = |p: &Path, mode: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    let (tmp, dir) = layout_copy("layouts/umoci");
    chmod(tmp.path(), 0o755);
    let st = Command::new("chmod").arg("-R").arg("a+rX").arg(&dir).status().unwrap();
    assert!(st.success());
    let run = |args: &[&str]| {
        unprivileged::coldctr_unprivileged()
            .arg("--root")
            .arg(&dir)
            .args(args)
            .env_remove("COLDCTR_ROOT")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    for (path, mode, kind, wrong) in [
        ("index.json", 0o000, "index-json-unreadable", "index-json-invalid"),
        ("oci-layout", 0o000, "oci-layout-unreadable", "oci-layout-invalid"),
        ("blobs/sha256", 0o000, "blobs-dir-unreadable", "blobs-dir-symlink"),
    ] {
        let at = dir.join(path);
        let before = std::fs::metadata(&at).unwrap().permissions().mode() & 0o7777;
        chmod(&at, mode);
        for args in [&["images"][..], &["verify"]] {
            let o = run(args);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(4), "{path} {args:?}: {err}");
            assert!(err.contains(&format!("error: {kind}:")), "{path} {args:?}: {err}");
            assert!(!err.contains(wrong), "{path} {args:?}: {err}");
        }
        let o = run(&["verify", "--format", "json"]);
        let v = json_of(&o, "verify");
        let kinds: BTreeSet<String> = source_problems(&v).into_iter().map(|(k, _)| k).collect();
        assert!(kinds.contains(kind), "{path}: {v:#}");
        assert!(!kinds.contains("blob-missing"), "{path}: {v:#}");
        chmod(&at, before);
    }
}

#[test]
fn a_blobs_directory_that_is_a_symlink_is_not_followed() {
    // Exit 3: blobs-dir-symlink, and every blob unreadable (not read through the link).
    let (tmp, dir) = layout_copy("layouts/umoci");
    std::fs::rename(dir.join("blobs"), tmp.path().join("elsewhere")).unwrap();
    std::os::unix::fs::symlink("../elsewhere", dir.join("blobs")).unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(code, Some(3), "{v:#}");
    let kinds: BTreeSet<String> = source_problems(&v).into_iter().map(|(k, _)| k).collect();
    assert!(kinds.contains("blobs-dir-symlink"), "{v:#}");
    assert_eq!(
        v["checked"]["bytes"].as_u64(),
        Some(0),
        "nothing hashed through the link: {v:#}"
    );
    // The entries are still listed (from index.json): manifest not read, platform unknown,
    // content status error.
    let records = records_by_entry(&dir, 3);
    assert_eq!(records.len(), 4);
    for r in records.values() {
        let p = r["platforms"].as_array().unwrap();
        assert_eq!(p.len(), 1, "{r:#}");
        assert_eq!(p[0]["present"], Value::Bool(false), "{r:#}");
        assert!(p[0]["platform"].is_null() && p[0]["layers"].is_null(), "{r:#}");
        assert_eq!(r["sizes"]["content"]["status"].as_str(), Some("error"), "{r:#}");
    }
    every_command_ends(&dir, Duration::from_secs(30));
}

#[test]
fn an_index_cycle_ends_every_command() {
    // index A (an entry) lists index B, and B's file lists A. Digests make a real cycle
    // impossible, so B's file is not what its name says: a reader that walks documents without
    // checking them would go round forever. Exit 3 (B's digest mismatch), bounded time.
    let (_tmp, dir) = layout_copy("layouts/umoci");
    let idx = "application/vnd.oci.image.index.v1+json";
    let b_placeholder = br#"{"schemaVersion":2,"manifests":[]}"#;
    let b_digest = sha256(b_placeholder);
    let a = format!(
        r#"{{"schemaVersion":2,"mediaType":"{idx}","manifests":[{{"mediaType":"{idx}","digest":"{b_digest}","size":SIZE}}]}}"#
    );
    // B lists A; pad B to the size A declares for it.
    let b_len = 400;
    let a = a.replace("SIZE", &b_len.to_string());
    let a_digest = put_blob(&dir, a.as_bytes());
    let mut b = format!(
        r#"{{"schemaVersion":2,"mediaType":"{idx}","manifests":[{{"mediaType":"{idx}","digest":"{a_digest}","size":{}}},{{"mediaType":"{idx}","digest":"{a_digest}","size":{}}}]}}"#,
        a.len(),
        a.len()
    );
    assert!(b.len() <= b_len);
    b.push_str(&" ".repeat(b_len - b.len()));
    std::fs::write(
        dir.join("blobs/sha256").join(b_digest.strip_prefix("sha256:").unwrap()),
        &b,
    )
    .unwrap();
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{idx}","digest":"{a_digest}","size":{},"annotations":{{"{REF_NAME}":"x"}}}}]}}"#,
            a.len()
        ),
    )
    .unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(code, Some(3), "{v:#}");
    assert!(
        blob_statuses(&v).contains(&(b_digest.clone(), "digest-mismatch".to_string())),
        "{v:#}"
    );
    every_command_ends(&dir, Duration::from_secs(30));
    // inspect reads documents as they are (as dockerd would) and stops at the depth limit;
    // exit 3: the layout is damaged.
    let o = coldctr(&dir, &["inspect", "x"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("nested deeper"), "{}", stderr(&o));
}

/// umoci's layout with its base manifest under a real chain of `levels` indexes (each names
/// the next by its true digest) as the one entry, named `x`.
fn index_chain(levels: usize) -> (tempfile::TempDir, PathBuf) {
    index_fan(levels, 1)
}

/// [`index_chain`] with each index listing the one below `copies` times.
fn index_fan(levels: usize, copies: usize) -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = layout_copy("layouts/umoci");
    let idx = "application/vnd.oci.image.index.v1+json";
    let base = &refs("layouts/umoci")[0];
    let mut child = format!(
        r#"{{"mediaType":"{}","digest":"{}","size":{},"platform":{{"os":"linux","architecture":"amd64"}}}}"#,
        base.media_type, base.digest, base.size
    );
    for _ in 0..levels {
        let listed = vec![child.as_str(); copies].join(",");
        let doc = format!(r#"{{"schemaVersion":2,"mediaType":"{idx}","manifests":[{listed}]}}"#);
        let d = put_blob(&dir, doc.as_bytes());
        child = format!(r#"{{"mediaType":"{idx}","digest":"{d}","size":{}}}"#, doc.len());
    }
    let with_name = child.replacen('{', &format!(r#"{{"annotations":{{"{REF_NAME}":"x"}},"#), 1);
    std::fs::write(
        dir.join("index.json"),
        format!(r#"{{"schemaVersion":2,"manifests":[{with_name}]}}"#),
    )
    .unwrap();
    (tmp, dir)
}

/// The depth limit of the image graph's walks (`MAX_GRAPH_DEPTH`): a chain of this many
/// indexes is read everywhere, one more is refused everywhere.
const GRAPH_DEPTH: usize = 256;

/// coldctr in a 2 MiB stack (`ulimit -s`, which sets the main thread's; a quarter of the usual), as a small rescue
/// shell may give it: the limit's levels must fit there.
fn coldctr_small_stack(root: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .args(["-c", "ulimit -s 2048 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(root)
        .args(["--host-platform", "linux/amd64"])
        .args(args)
        .env_remove("COLDCTR_ROOT")
        .env_remove("DOCKER_API_VERSION")
        .stdin(Stdio::null())
        .output()
        .expect("spawn sh")
}

#[test]
fn a_chain_of_indexes_at_the_depth_limit_is_read_by_every_command_and_one_more_by_none() {
    // Sweep 21: inspect refused 32 levels that `images` listed, verify checked 32 levels of
    // documents and said nothing of the rest; containerd walks any depth.
    let base = &refs("layouts/umoci")[0];
    let (tmp, dir) = index_chain(GRAPH_DEPTH);
    let i = coldctr_small_stack(&dir, &["inspect", "x", "--format", "{{.Os}}/{{.Architecture}} {{.Id}}"]);
    assert_eq!(i.status.code(), Some(0), "{}", stderr(&i));
    assert!(
        String::from_utf8_lossy(&i.stdout).starts_with("linux/amd64 sha256:"),
        "{}",
        String::from_utf8_lossy(&i.stdout)
    );
    let o = coldctr_small_stack(&dir, &["images", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json_of(&o, "images");
    assert_eq!(v[0]["platforms"][0]["digest"], base.digest.as_str(), "{v:#}");
    let o = coldctr_small_stack(&dir, &["verify", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = tmp.path().join("x.tar");
    let o = coldctr_small_stack(&dir, &["export", "-o", out.to_str().unwrap(), "x"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    drop(tmp);

    let (tmp, dir) = index_chain(GRAPH_DEPTH + 1);
    let limit = format!("nested deeper than {GRAPH_DEPTH} levels");
    for args in [&["inspect", "x"][..], &["images"], &["verify"]] {
        let o = coldctr_small_stack(&dir, args);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(&limit), "{args:?}: {}", stderr(&o));
    }
    let out = tmp.path().join("x.tar");
    let o = coldctr_small_stack(&dir, &["export", "-o", out.to_str().unwrap(), "x"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains(&limit), "{}", stderr(&o));
}

#[test]
fn indexes_nested_past_the_depth_limit_are_a_bounded_error() {
    // A chain of indexes one past the depth limit over umoci's base manifest: the walk stops
    // there (exit 3, depth-limit), in bounded time.
    let (_tmp, dir) = index_chain(GRAPH_DEPTH + 1);
    let (code, v) = verify(&dir);
    assert_eq!(code, Some(3), "{v:#}");
    let kinds: BTreeSet<String> = source_problems(&v).into_iter().map(|(k, _)| k).collect();
    assert!(kinds.contains("depth-limit"), "{v:#}");
    every_command_ends(&dir, Duration::from_secs(30));
}

#[test]
fn images_follows_nested_indexes_as_far_as_inspect_and_says_where_it_stops() {
    let base = &refs("layouts/umoci")[0];
    // Six levels: inspect finds the manifest, and so does `images` (it used to stop at four,
    // with no platform, content "unavailable", exit 0 and nothing said).
    let (_tmp, dir) = index_chain(6);
    let o = coldctr(&dir, &["images", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json_of(&o, "images");
    let image = &v[0];
    assert_eq!(image["platformsPresent"], serde_json::json!(["linux/amd64"]), "{v:#}");
    assert_eq!(image["platforms"][0]["digest"], base.digest.as_str(), "{v:#}");
    assert_eq!(image["sizes"]["content"]["status"], "complete", "{v:#}");
    let i = coldctr(&dir, &["inspect", "x", "--format", "{{.Os}}/{{.Architecture}}"]);
    assert_eq!(i.status.code(), Some(0), "{}", stderr(&i));
    assert_eq!(String::from_utf8_lossy(&i.stdout).trim(), "linux/amd64");

    // One level past the limit inspect and export use: one of the image's problems (exit 3,
    // and stderr names the image and the limit), as inspect says it, not a silent "-".
    let (_tmp, dir) = index_chain(GRAPH_DEPTH + 1);
    let o = coldctr(&dir, &["images"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).lines().any(|l| l.contains(r#"image "x": "#)
            && l.contains(&format!("image graph nested deeper than {GRAPH_DEPTH} levels"))),
        "{}",
        stderr(&o)
    );
    let i = coldctr(&dir, &["inspect", "x"]);
    assert_eq!(i.status.code(), Some(3), "{}", stderr(&i));
    assert!(
        stderr(&i).contains(&format!("image graph nested deeper than {GRAPH_DEPTH} levels")),
        "{}",
        stderr(&i)
    );
}

#[test]
fn recover_and_meta_diff_refuse_a_layout_or_archive_which_has_no_meta_db() {
    // Their records live in a bbolt file built in memory: its pages carve as records that
    // "reach" nothing and a diff of its two transactions says nothing; both are refused as
    // --salvage is (exit 2), and verify audits no bbolt file there.
    for rel in ["layouts/umoci", "archives/layout-umoci.tar.gz"] {
        let root = oci_dev(rel);
        for cmd in [&["recover"][..], &["recover", "--format", "json"], &["meta-diff"]] {
            let o = coldctr(&root, cmd);
            assert_eq!(o.status.code(), Some(2), "{rel} {cmd:?}: {}", stderr(&o));
            assert!(
                o.stdout.is_empty(),
                "{rel} {cmd:?}: {}",
                String::from_utf8_lossy(&o.stdout)
            );
            assert!(
                stderr(&o).contains(&format!(
                    "{} reads the pages of a containerd meta.db; this is an image layout or archive",
                    cmd[0]
                )),
                "{rel} {cmd:?}: {}",
                stderr(&o)
            );
        }
        let (code, v) = verify(&root);
        assert_eq!(code, Some(0), "{rel}: {v:#}");
        assert_eq!(v["checked"]["databases"], 0, "{rel}: {v:#}");
        assert!(v["checked"]["documents"].as_u64() > Some(0), "{rel}: {v:#}");
    }
}

#[test]
fn a_blob_named_with_a_newline_is_an_orphan_printed_escaped() {
    // A file in blobs/ whose name is no digest is an orphan without a digest and an error of
    // the layout (`blob-name-invalid`, as the spec walker and an archive of it say: exit 3),
    // and its name never reaches the terminal raw.
    let (_tmp, dir) = layout_copy("layouts/umoci");
    std::fs::write(dir.join("blobs/sha256/ab\ncd\x1b[31m"), b"x").unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(code, Some(3), "{v:#}");
    let orphans = v["orphans"].as_array().unwrap();
    assert_eq!(orphans.len(), 1, "{v:#}");
    assert!(orphans[0]["digest"].is_null());
    assert_eq!(orphans[0]["path"].as_str(), Some("blobs/sha256/ab\ncd\x1b[31m"));
    for args in [&["verify"][..], &["gc"], &["content"], &["du"], &["images"]] {
        let o = coldctr(&dir, args);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("blob-name-invalid: blobs/sha256/ab\\ncd\\x1b[31m"),
            "{args:?}: {}",
            stderr(&o)
        );
        for stream in [&o.stdout, &o.stderr] {
            assert!(!stream.contains(&0x1b), "{args:?}: raw ESC printed");
            let text = String::from_utf8_lossy(stream);
            assert!(!text.contains("ab\ncd"), "{args:?}: raw newline printed: {text}");
        }
    }
    every_command_ends(&dir, Duration::from_secs(30));
}

#[test]
fn a_descriptor_digest_with_dot_dot_builds_no_path() {
    // Exit 3 (descriptor-invalid). The path the digest would make, <layout>/etc/passwd, is a
    // FIFO: opening it would hang, reading it would find a document.
    let (_tmp, dir) = layout_copy("layouts/umoci");
    std::fs::create_dir(dir.join("etc")).unwrap();
    mkfifo(&dir.join("etc/passwd"));
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../etc/passwd","size":10,"annotations":{{"{REF_NAME}":"x"}}}}]}}"#
        ),
    )
    .unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(code, Some(3), "{v:#}");
    let kinds: BTreeSet<String> = source_problems(&v).into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, BTreeSet::from(["descriptor-invalid".to_string()]), "{v:#}");
    let records = records_by_entry(&dir, 3);
    assert_eq!(
        records[&0]["target"]["digest"].as_str(),
        Some("sha256:../../etc/passwd")
    );
    assert!(
        records[&0]["platforms"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["present"] == Value::Bool(false))
    );
    every_command_ends(&dir, Duration::from_secs(30));
}

#[test]
fn an_entry_without_a_digest_is_damage_of_index_json_not_of_a_meta_db() {
    // The record built for the entry has no target: verify names index.json, which the
    // layout has, for it (a meta.db path here would send the examiner to a file that is not
    // there).
    let (_tmp, dir) = layout_copy("layouts/umoci");
    let index = std::fs::read_to_string(dir.join("index.json")).unwrap();
    let mut v: Value = serde_json::from_str(&index).unwrap();
    v["manifests"][0].as_object_mut().unwrap().remove("digest");
    std::fs::write(dir.join("index.json"), v.to_string()).unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(code, Some(3), "{v:#}");
    let files: BTreeSet<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["file"].as_str())
        .collect();
    assert!(files.contains("index.json"), "{v:#}");
    assert!(!files.iter().any(|f| f.contains("meta.db")), "{v:#}");
    let o = coldctr(&dir, &["verify"]);
    let err = stderr(&o);
    assert!(err.contains("the image records from index.json are damaged"), "{err}");
    assert!(!err.contains("meta.db"), "{err}");
}

// --- against skopeo and umoci, run now (CI installs them) --------------------------------------

/// Runs an external tool; None (with the reason printed) when it is not installed.
fn tool(name: &str, args: &[&str]) -> Option<Output> {
    match Command::new(name).args(args).stdin(Stdio::null()).output() {
        Ok(o) => Some(o),
        Err(e) => {
            eprintln!("skipped: {name} is not installed ({e}); .ci/run installs it");
            None
        }
    }
}

fn tool_ok(name: &str, args: &[&str]) -> Option<Vec<u8>> {
    let o = tool(name, args)?;
    assert!(
        o.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(o.stdout)
}

#[test]
fn a_layout_written_now_by_skopeo_and_umoci_reads_as_they_read_it() {
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    let policy = tmp.path().join("policy.json");
    std::fs::write(&policy, r#"{"default":[{"type":"insecureAcceptAnything"}]}"#).unwrap();
    let policy = policy.to_str().unwrap();
    let src = format!("oci:{}:v1", oci_dev("layouts/umoci").display());
    let dst = format!("oci:{}:x", l.display());
    let Some(_) = tool_ok("skopeo", &["--policy", policy, "copy", "--quiet", &src, &dst]) else {
        return;
    };
    // umoci makes a second image from it (a new config, so a new manifest) and tags it.
    let image = format!("{}:x", l.display());
    let Some(_) = tool_ok(
        "umoci",
        &[
            "config",
            "--image",
            &image,
            "--config.env",
            "MADE=now",
            "--config.label",
            "made.by=umoci",
            "--tag",
            "y",
        ],
    ) else {
        return;
    };
    let ls = tool_ok("umoci", &["ls", "--layout", l.to_str().unwrap()]).unwrap();
    let listed: BTreeSet<String> = String::from_utf8(ls).unwrap().lines().map(String::from).collect();
    let records = records_by_entry(&l, 0);
    let ours: BTreeSet<String> = records
        .values()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ours, listed);
    for tag in ["x", "y"] {
        let r = format!("oci:{}:{tag}", l.display());
        let sk: Value = serde_json::from_slice(&tool_ok("skopeo", &["inspect", &r]).unwrap()).unwrap();
        let cfg: Value = serde_json::from_slice(&tool_ok("skopeo", &["inspect", "--config", &r]).unwrap()).unwrap();
        let raw = tool_ok("skopeo", &["inspect", "--raw", &r]).unwrap();
        let record = records.values().find(|v| v["name"] == tag).unwrap();
        assert_eq!(
            record["target"]["digest"].as_str(),
            Some(sha256(&raw).as_str()),
            "{tag}"
        );
        assert_eq!(record["target"]["digest"], sk["Digest"], "{tag}");
        assert_eq!(layer_digests(&record["platforms"][0]), strings(&sk["Layers"]), "{tag}");
        let o = coldctr(&l, &["inspect", tag]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let ours = &json_of(&o, tag)[0];
        assert_eq!(ours["Created"], sk["Created"], "{tag}");
        assert_eq!(ours["Architecture"], sk["Architecture"], "{tag}");
        assert_eq!(ours["Os"], sk["Os"], "{tag}");
        assert_eq!(ours["Config"]["Env"], sk["Env"], "{tag}");
        assert_eq!(ours["Config"]["Labels"], sk["Labels"], "{tag}");
        assert_eq!(
            ours["Author"].as_str(),
            Some(cfg["author"].as_str().unwrap_or("")),
            "{tag}"
        );
        assert_eq!(ours["RootFS"]["Layers"], cfg["rootfs"]["diff_ids"], "{tag}");
        // umoci stat's layer rows: the same layers and diff IDs.
        let stat: Value = serde_json::from_slice(
            &tool_ok(
                "umoci",
                &["stat", "--json", "--image", &format!("{}:{tag}", l.display())],
            )
            .unwrap(),
        )
        .unwrap();
        let rows: Vec<&Value> = stat["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| !h["layer"].is_null())
            .collect();
        let diff_ids: Vec<Value> = rows.iter().map(|h| h["diff_id"].clone()).collect();
        assert_eq!(ours["RootFS"]["Layers"], Value::Array(diff_ids), "{tag}");
    }
    let y = &json_of(&coldctr(&l, &["inspect", "y"]), "y")[0];
    assert!(strings(&y["Config"]["Env"]).contains(&"MADE=now".to_string()), "{y:#}");

    // umoci config left x's old config reachable? No: x is unchanged; nothing is orphaned yet.
    // Remove y: its manifest and config become garbage; ours must be exactly what umoci gc deletes.
    tool_ok("umoci", &["rm", "--image", &format!("{}:y", l.display())]).unwrap();
    let before: BTreeSet<String> = blob_names(&l);
    let o = coldctr(&l, &["gc", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ours: BTreeSet<String> = json_of(&o, "gc")["orphanBlobFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            b["digest"]
                .as_str()
                .unwrap()
                .strip_prefix("sha256:")
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(!ours.is_empty());
    tool_ok("umoci", &["gc", "--layout", l.to_str().unwrap()]).unwrap();
    let deleted: BTreeSet<String> = before.difference(&blob_names(&l)).cloned().collect();
    assert_eq!(ours, deleted);
}

fn blob_names(layout: &Path) -> BTreeSet<String> {
    std::fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

#[test]
fn content_records_are_the_blobs_the_walker_reaches() {
    // The walker's summary lists every file under blobs/ (with `referenced`) and the
    // referenced digests it found missing: the content records an import makes are exactly the
    // referenced ones, present when the file is a regular file of the descriptor's size.
    let mut all: Vec<String> = LAYOUTS.iter().map(|l| format!("layouts/{l}")).collect();
    all.extend(
        damages()
            .iter()
            .map(|d| format!("damaged/{}", d["name"].as_str().unwrap())),
    );
    for rel in all {
        let summary = support::read_json(&expected_dir(&rel).join("summary.json"));
        let problems = summary["oci"]["problems"].as_array().unwrap();
        let short: BTreeSet<&str> = problems
            .iter()
            .filter(|p| p["kind"] == "blob-size-mismatch")
            .map(|p| p["digest"].as_str().unwrap())
            .collect();
        let mut want: BTreeMap<String, (bool, Option<u64>)> = BTreeMap::new();
        for b in summary["oci"]["blobs"].as_array().unwrap() {
            if b["referenced"] != Value::Bool(true) {
                continue;
            }
            // Named by its path (its `sha256` is what its bytes hash to).
            let path = b["path"].as_str().unwrap();
            let digest = format!("sha256:{}", path.strip_prefix("blobs/sha256/").unwrap());
            let regular = b["type"] == "file";
            let size = regular.then(|| b["size"].as_u64().unwrap());
            want.insert(digest.clone(), (regular && !short.contains(digest.as_str()), size));
        }
        for p in problems {
            if p["kind"] == "blob-missing" {
                want.insert(p["digest"].as_str().unwrap().to_string(), (false, None));
            }
        }
        let o = coldctr(&oci_dev(&rel), &["content", "--format", "json"]);
        let got: BTreeMap<String, (bool, Option<u64>)> = json_of(&o, &rel)
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["digest"].as_str().unwrap().to_string(),
                    (c["present"] == Value::Bool(true), c["fileSize"].as_u64()),
                )
            })
            .collect();
        assert_eq!(got, want, "{rel}");
    }
}

/// umoci's layout with index.json's entries rewritten by `edit`.
fn umoci_with_index(edit: impl FnOnce(&mut Vec<Value>)) -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = layout_copy("layouts/umoci");
    let mut index: Value = serde_json::from_str(&read_text(&dir.join("index.json"))).unwrap();
    edit(index["manifests"].as_array_mut().unwrap());
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    (tmp, dir)
}

fn source_kinds(v: &Value) -> Vec<(String, String)> {
    v["source"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_string(),
                p["at"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_descriptor_whose_size_is_not_the_blobs_is_a_size_mismatch_not_a_bad_hash() {
    // Entry @0 (base) says 10 bytes and @1 (v1) 5000: both manifests are intact 500-byte files.
    // Exit 3; verify's blob status is size-mismatch, and the source problem that says why the
    // manifests were not walked says the same (it said blob-digest-mismatch "10 bytes do not
    // hash to their name" and blob-unreadable "unexpected EOF" before).
    let rows = refs("layouts/umoci");
    let (_tmp, dir) = umoci_with_index(|m| {
        m[0]["size"] = 10.into();
        m[1]["size"] = 5000.into();
    });
    let (code, v) = verify(&dir);
    assert_eq!(code, Some(3), "{v:#}");
    assert_eq!(
        blob_statuses(&v),
        BTreeSet::from([
            (rows[0].digest.clone(), "size-mismatch".to_string()),
            (rows[1].digest.clone(), "size-mismatch".to_string())
        ]),
        "{v:#}"
    );
    assert_eq!(
        source_kinds(&v),
        vec![
            ("blob-size-mismatch".to_string(), rows[0].digest.clone()),
            ("blob-size-mismatch".to_string(), rows[1].digest.clone())
        ],
        "{v:#}"
    );
    let m = v["source"]["problems"][0]["message"].as_str().unwrap();
    assert!(m.contains("10") && m.contains("500"), "{m}");
}

#[test]
fn a_document_of_another_kind_than_its_descriptor_says_is_a_media_type_mismatch() {
    // Entry @0 calls base's manifest an index: exit 3, mediatype-mismatch (not
    // manifest-invalid-json: the JSON is fine), verify's invalid-document.
    let rows = refs("layouts/umoci");
    let (_tmp, dir) = umoci_with_index(|m| {
        m[0]["mediaType"] = "application/vnd.oci.image.index.v1+json".into();
    });
    let (code, v) = verify(&dir);
    assert_eq!(code, Some(3), "{v:#}");
    assert_eq!(
        source_kinds(&v),
        vec![("mediatype-mismatch".to_string(), rows[0].digest.clone())],
        "{v:#}"
    );
    assert_eq!(
        blob_statuses(&v),
        BTreeSet::from([(rows[0].digest.clone(), "invalid-document".to_string())])
    );

    // A manifest cut short but named by its own digest: manifest-invalid-json.
    let bad = br#"{"schemaVersion":2,"#;
    let (_tmp, dir) = layout_copy("layouts/umoci");
    let d = put_blob(&dir, bad);
    let mut index: Value = serde_json::from_str(&read_text(&dir.join("index.json"))).unwrap();
    index["manifests"].as_array_mut().unwrap().push(serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": d,
        "size": bad.len(),
        "annotations": {REF_NAME: "bad"}
    }));
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(code, Some(3), "{v:#}");
    assert_eq!(
        source_kinds(&v),
        vec![("manifest-invalid-json".to_string(), d.clone())],
        "{v:#}"
    );
    assert_eq!(blob_statuses(&v), BTreeSet::from([(d, "invalid-document".to_string())]));
    let o = coldctr(&dir, &["inspect", "bad"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("unexpected end of JSON input"), "{}", stderr(&o));
}

#[test]
fn sha512_blobs_and_containerd_names_are_read() {
    // umoci's v1 re-addressed by sha512 (blobs/sha512/<hex>), its entry also carrying
    // io.containerd.image.name: the record is named by that full name, and the ref name, the
    // familiar name, @0 and the digest all reach it. Exit 0, nothing to report.
    let src = oci_dev("layouts/umoci");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    std::fs::create_dir_all(dir.join("blobs/sha512")).unwrap();
    std::fs::copy(src.join("oci-layout"), dir.join("oci-layout")).unwrap();
    let put512 = |data: &[u8]| {
        let hex = hex::encode(sha2::Sha512::digest(data));
        std::fs::write(dir.join("blobs/sha512").join(&hex), data).unwrap();
        format!("sha512:{hex}")
    };
    let v1 = &refs("layouts/umoci")[1];
    let blob = |d: &str| std::fs::read(src.join("blobs/sha256").join(d.strip_prefix("sha256:").unwrap())).unwrap();
    let mut manifest: Value = serde_json::from_slice(&blob(&v1.digest)).unwrap();
    let old_layers = manifest["layers"].clone();
    manifest["config"]["digest"] = put512(&blob(manifest["config"]["digest"].as_str().unwrap())).into();
    for l in manifest["layers"].as_array_mut().unwrap() {
        l["digest"] = put512(&blob(l["digest"].as_str().unwrap())).into();
    }
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let digest = put512(&bytes);
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest,
        "size": bytes.len(),
        "annotations": {REF_NAME: "v1", "io.containerd.image.name": "docker.io/lab/umoci:v1"}
    }]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();

    let (code, v) = verify(&dir);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["checked"]["blobs"].as_u64(), Some(4), "{v:#}");
    let records = records_by_entry(&dir, 0);
    assert_eq!(records[&0]["name"].as_str(), Some("docker.io/lab/umoci:v1"));
    assert_eq!(records[&0]["target"]["digest"].as_str(), Some(digest.as_str()));
    // The same config, so the same diff IDs as skopeo printed for the sha256 original.
    let cfg = support::read_json(&expected_dir("layouts/umoci/refs/01-v1/skopeo-inspect-config.json"));
    for r in ["v1", "docker.io/lab/umoci:v1", "lab/umoci:v1", "@0", digest.as_str()] {
        let o = coldctr(&dir, &["inspect", r]);
        assert_eq!(o.status.code(), Some(0), "{r}: {}", stderr(&o));
        let ours = &json_of(&o, r)[0];
        assert_eq!(ours["Id"].as_str(), Some(digest.as_str()), "{r}");
        assert_eq!(ours["RootFS"]["Layers"], cfg["rootfs"]["diff_ids"], "{r}");
    }
    let layers = layer_digests(&records[&0]["platforms"][0]);
    assert_eq!(layers.len(), old_layers.as_array().unwrap().len());
    assert!(layers.iter().all(|l| l.starts_with("sha512:")), "{layers:?}");
}

#[test]
fn a_ref_name_that_reads_as_a_position_does_not_take_another_entrys_place() {
    // Entry @0 (base) named "@1", entry @1 (v1) untagged: "@1" must still be entry 1 and @0
    // entry 0, one record each (before, both were written to one record "@1": base vanished
    // and @0 answered with v1). Exit 0, a warning says why the name is not used.
    let rows = refs("layouts/umoci");
    let (_tmp, dir) = umoci_with_index(|m| {
        m[0]["annotations"][REF_NAME] = "@1".into();
        m[1].as_object_mut().unwrap().remove("annotations");
    });
    let records = records_by_entry(&dir, 0);
    assert_eq!(records.len(), 4);
    assert_eq!(records[&0]["name"].as_str(), Some("@0"));
    assert_eq!(records[&0]["labels"][REF_NAME].as_str(), Some("@1"));
    assert_eq!(records[&1]["name"].as_str(), Some("@1"));
    for (r, row) in [("@0", &rows[0]), ("@1", &rows[1])] {
        let o = coldctr(&dir, &["inspect", "-f", "{{.Id}}", r]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), row.digest, "{r}");
    }
    let (code, v) = verify(&dir);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(
        source_kinds(&v),
        vec![
            ("entry-untagged".to_string(), "index.json entry @1".to_string()),
            ("ref-name-positional".to_string(), "index.json entry @0".to_string())
        ]
    );
}

#[test]
fn an_empty_ref_name_is_no_name_and_control_characters_are_escaped() {
    // Entry @0 named "" (it was recorded under an empty name, which no bbolt key can be, and
    // `inspect ''` found it); entry @1 named with a newline and an ESC. Exit 0.
    let (_tmp, dir) = umoci_with_index(|m| {
        m[0]["annotations"][REF_NAME] = "".into();
        m[1]["annotations"][REF_NAME] = "a\nb\x1b[31mc".into();
    });
    let records = records_by_entry(&dir, 0);
    assert_eq!(records[&0]["name"].as_str(), Some("@0"));
    assert_eq!(records[&1]["name"].as_str(), Some("a\nb\x1b[31mc"));
    let o = coldctr(&dir, &["images"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = String::from_utf8(o.stdout).unwrap();
    assert!(!table.contains('\x1b') && !table.contains("a\nb"), "{table}");
    assert!(table.contains(r"a\nb\x1b[31mc"), "{table}");
    let (_, v) = verify(&dir);
    assert_eq!(
        source_kinds(&v),
        vec![("entry-untagged".to_string(), "index.json entry @0".to_string())]
    );
}

#[test]
fn an_index_copied_now_by_skopeo_reads_per_platform_as_skopeo_reads_it() {
    // `skopeo copy --all` of skopeo-index's multi (3 platforms) into a fresh layout, then
    // skopeo inspect with --override-os/arch/variant for each platform, run now.
    let tmp = tempfile::tempdir().unwrap();
    let l = tmp.path().join("l");
    let policy = tmp.path().join("policy.json");
    std::fs::write(&policy, r#"{"default":[{"type":"insecureAcceptAnything"}]}"#).unwrap();
    let policy = policy.to_str().unwrap();
    let src = format!("oci:{}:multi", oci_dev("layouts/skopeo-index").display());
    let dst = format!("oci:{}:m", l.display());
    let Some(_) = tool_ok("skopeo", &["--policy", policy, "copy", "--all", "--quiet", &src, &dst]) else {
        return;
    };
    let records = records_by_entry(&l, 0);
    assert_eq!(records.len(), 1);
    let record = &records[&0];
    assert_eq!(record["name"].as_str(), Some("m"));
    let raw = tool_ok("skopeo", &["inspect", "--raw", &dst]).unwrap();
    assert_eq!(record["target"]["digest"].as_str(), Some(sha256(&raw).as_str()));
    let index: Value = serde_json::from_slice(&raw).unwrap();
    let mut seen = 0;
    for m in index["manifests"].as_array().unwrap() {
        let p = &m["platform"];
        let (os, arch) = (p["os"].as_str().unwrap(), p["architecture"].as_str().unwrap());
        let mut args = vec!["--override-os", os, "--override-arch", arch];
        let mut plat = format!("{os}/{arch}");
        if let Some(v) = p["variant"].as_str() {
            args.extend(["--override-variant", v]);
            plat = format!("{plat}/{v}");
        }
        let inspect: Vec<&str> = args.iter().copied().chain(["inspect", dst.as_str()]).collect();
        let sk: Value = serde_json::from_slice(&tool_ok("skopeo", &inspect).unwrap()).unwrap();
        let with_config: Vec<&str> = args
            .iter()
            .copied()
            .chain(["inspect", "--config", dst.as_str()])
            .collect();
        let cfg: Value = serde_json::from_slice(&tool_ok("skopeo", &with_config).unwrap()).unwrap();
        let ours_p = platform(record, &plat);
        assert_eq!(ours_p["digest"], m["digest"], "{plat}");
        assert_eq!(layer_digests(ours_p), strings(&sk["Layers"]), "{plat}");
        let o = coldctr(&l, &["inspect", "--platform", &plat, "m"]);
        assert_eq!(o.status.code(), Some(0), "{plat}: {}", stderr(&o));
        let ours = &json_of(&o, &plat)[0];
        assert_eq!(ours["Created"], sk["Created"], "{plat}");
        assert_eq!(ours["Architecture"], sk["Architecture"], "{plat}");
        assert_eq!(ours["Os"], sk["Os"], "{plat}");
        assert_eq!(ours["Variant"], cfg["variant"], "{plat}");
        assert_eq!(ours["Config"]["Env"], sk["Env"], "{plat}");
        assert_eq!(ours["Config"]["Labels"], sk["Labels"], "{plat}");
        assert_eq!(ours["RootFS"]["Layers"], cfg["rootfs"]["diff_ids"], "{plat}");
        seen += 1;
    }
    assert_eq!(seen, 3);
    let (code, v) = verify(&l);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["orphans"], Value::Array(vec![]));
}

#[test]
fn skopeo_inspect_raw_is_each_entrys_target_and_its_descriptors_are_ours() {
    // The byte-exact document skopeo read for a ref hashes to our record's target, and a
    // manifest's config and layer descriptors are the ones our images list shows.
    let mut compared = 0;
    for l in LAYOUTS {
        let rel = format!("layouts/{l}");
        let rows = refs(&rel);
        let records = records_by_entry(&oci_dev(&rel), 0);
        for row in &rows {
            let dir = expected_dir(&rel).join("refs").join(&row.folder);
            if rc(&dir.join("skopeo-inspect-raw.rc")) != Some(0) {
                continue;
            }
            // skopeo resolves a name to its first entry.
            let first = rows
                .iter()
                .find(|r| r.name.is_some() && r.name == row.name)
                .unwrap_or(row);
            let record = &records[&first.n];
            let raw = std::fs::read(dir.join("skopeo-inspect-raw.json")).unwrap();
            let at = format!("{rel} {}", row.folder);
            assert_eq!(record["target"]["digest"].as_str(), Some(sha256(&raw).as_str()), "{at}");
            assert_eq!(record["target"]["size"].as_u64(), Some(raw.len() as u64), "{at}");
            let doc: Value = serde_json::from_slice(&raw).unwrap();
            if doc.get("layers").is_some() {
                let p = &record["platforms"][0];
                assert_eq!(p["config"], doc["config"]["digest"], "{at}");
                let theirs: Vec<Value> = doc["layers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| serde_json::json!([l["digest"], l["mediaType"], l["size"]]))
                    .collect();
                let ours: Vec<Value> = p["layers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| serde_json::json!([l["digest"], l["mediaType"], l["size"]]))
                    .collect();
                assert_eq!(ours, theirs, "{at}");
            }
            compared += 1;
        }
    }
    // Every entry of the 26 but the two docker-typed ones and the two untagged ones.
    assert_eq!(compared, 22);
}

#[test]
fn a_root_named_through_a_symlink_is_what_it_points_to() {
    // The path given to --root may be a symlink (a relocated /var/lib/containerd often is):
    // the user named it, so it is read as its target; links inside stay unfollowed (the
    // symlink-escape and blobs-symlink tests). Before, a symlinked containerd root was refused
    // (exit 4, "a symlink, not a directory or file") and a symlinked layout's blobs were all
    // "not followed" (exit 3).
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout-link");
    std::os::unix::fs::symlink(oci_dev("layouts/umoci"), &layout).unwrap();
    let (code, v) = verify(&layout);
    assert_eq!(code, Some(0), "{v:#}");
    let (_, direct) = verify(&oci_dev("layouts/umoci"));
    assert_eq!(v["checked"], direct["checked"]);
    assert_eq!(records_by_entry(&layout, 0).len(), 4);

    let ctr = tmp.path().join("containerd-link");
    std::os::unix::fs::symlink(support::fixture("docker-28.5"), &ctr).unwrap();
    let o = coldctr(&ctr, &["images", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let direct = coldctr(&support::fixture("docker-28.5"), &["images", "--format", "json"]);
    assert_eq!(json_of(&o, "link"), json_of(&direct, "direct"));
}

/// Every digest (with its size) the walker's tree reaches from a node.
fn reach(node: &Value, out: &mut BTreeMap<String, u64>) {
    if let (Some(d), Some(s)) = (node["digest"].as_str(), node["size"].as_u64()) {
        out.insert(d.to_string(), s);
    }
    if !node["config"].is_null() {
        reach(&node["config"], out);
    }
    for key in ["layers", "children"] {
        for child in node[key].as_array().into_iter().flatten() {
            reach(child, out);
        }
    }
}

#[test]
fn du_per_image_totals_are_what_the_walker_reaches() {
    // Per distinct target: total = every blob the walker's tree reaches from it; shared = the
    // part another target also reaches; unique = the rest (nothing but images holds content
    // in a layout).
    for l in LAYOUTS {
        let rel = format!("layouts/{l}");
        let summary = support::read_json(&expected_dir(&rel).join("summary.json"));
        let mut by_target: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for e in summary["oci"]["entries"].as_array().unwrap() {
            let mut r = BTreeMap::new();
            reach(&e["node"], &mut r);
            by_target.insert(e["node"]["digest"].as_str().unwrap().to_string(), r);
        }
        let o = coldctr(&oci_dev(&rel), &["du", "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let du = json_of(&o, &rel);
        let images = du["images"].as_array().unwrap();
        assert_eq!(images.len(), by_target.len(), "{rel}: one row per distinct target");
        for img in images {
            let target = img["target"].as_str().unwrap();
            let mine = &by_target[target];
            let others: BTreeSet<&String> = by_target
                .iter()
                .filter(|(t, _)| *t != target)
                .flat_map(|(_, r)| r.keys())
                .collect();
            let sum = |f: &dyn Fn(&String) -> bool| -> (u64, u64) {
                let hit: Vec<u64> = mine.iter().filter(|(d, _)| f(d)).map(|(_, s)| *s).collect();
                (hit.len() as u64, hit.iter().sum())
            };
            let at = format!("{rel} {target}");
            let c = &img["content"];
            let pair = |v: &Value| (v["count"].as_u64().unwrap(), v["bytes"].as_u64().unwrap());
            assert_eq!(pair(&c["total"]), sum(&|_| true), "{at}: total");
            assert_eq!(pair(&c["shared"]), sum(&|d| others.contains(d)), "{at}: shared");
            assert_eq!(pair(&c["unique"]), sum(&|d| !others.contains(d)), "{at}: unique");
        }
    }
}

#[test]
fn a_ref_name_on_many_entries_lists_the_first_twenty_and_counts_the_rest() {
    // 30 entries of one name: one stderr line naming @0..@19 and "and 10 more", not all 30
    // (100,000 made one line of 700 KB).
    let (_tmp, dir) = umoci_with_index(|m| {
        let first = m[0].clone();
        m.clear();
        for _ in 0..30 {
            let mut e = first.clone();
            e["annotations"] = serde_json::json!({REF_NAME: "same"});
            m.push(e);
        }
    });
    let o = coldctr(&dir, &["images", "-q"]);
    let err = stderr(&o);
    let line = err.lines().find(|l| l.contains("ref-duplicate")).unwrap_or_default();
    assert!(
        line.contains("\"same\" names 30 entries") && line.contains(": @0, @1,"),
        "{err}"
    );
    assert!(line.contains(", @19 and 10 more"), "{err}");
    assert!(!line.contains("@20"), "{err}");
}

/// `v` with the keys of Go struct fields written in other cases, as Go's `encoding/json`
/// (containerd's import, skopeo, umoci) still reads them: `index.json`'s own fields, each
/// entry's descriptor fields (`size` as `ſize`, which Go folds to `size`) and its platform's.
/// Annotation keys are map keys, which Go matches exactly: they stay.
fn recased_index(v: &Value) -> Value {
    let recase = |obj: &serde_json::Map<String, Value>, names: &[(&str, &str)]| -> serde_json::Map<String, Value> {
        obj.iter()
            .map(|(k, v)| {
                let k = names
                    .iter()
                    .find(|(from, _)| from == k)
                    .map_or(k.clone(), |(_, to)| to.to_string());
                (k, v.clone())
            })
            .collect()
    };
    let mut top = recase(
        v.as_object().unwrap(),
        &[
            ("schemaVersion", "SchemaVersion"),
            ("mediaType", "MEDIATYPE"),
            ("manifests", "Manifests"),
            ("annotations", "Annotations"),
        ],
    );
    let entries: Vec<Value> = top["Manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut e = recase(
                e.as_object().unwrap(),
                &[
                    ("mediaType", "MediaType"),
                    ("digest", "DIGEST"),
                    ("size", "\u{17f}ize"),
                    ("annotations", "Annotations"),
                    ("platform", "Platform"),
                ],
            );
            if let Some(Value::Object(p)) = e.get("Platform") {
                let p = recase(
                    p,
                    &[("architecture", "Architecture"), ("os", "OS"), ("variant", "VARIANT")],
                );
                e.insert("Platform".into(), Value::Object(p));
            }
            Value::Object(e)
        })
        .collect();
    top.insert("Manifests".into(), Value::Array(entries));
    Value::Object(top)
}

/// index.json and oci-layout keys in any case are read as Go's `encoding/json` reads them
/// (umoci ls and skopeo inspect read such a layout; containerd's import decodes
/// `ocispec.Index` with encoding/json): every command sees what it sees with the keys as the
/// tools wrote them. Written with the keys as they were, nothing was read: no image, and
/// verify called every blob an orphan.
#[test]
fn index_json_and_oci_layout_keys_in_any_case_read_as_go_reads_them() {
    for rel in LAYOUTS {
        let (_tmp, dir) = layout_copy(&format!("layouts/{rel}"));
        let (_tmp2, recased) = layout_copy(&format!("layouts/{rel}"));
        let index: Value = serde_json::from_str(&read_text(&dir.join("index.json"))).unwrap();
        std::fs::write(
            recased.join("index.json"),
            serde_json::to_string(&recased_index(&index)).unwrap(),
        )
        .unwrap();
        std::fs::write(recased.join("oci-layout"), r#"{"ImageLayoutVersion":"1.0.0"}"#).unwrap();
        for args in [
            &["images", "--format", "json"][..],
            &["images", "-q"],
            &["verify", "--format", "json"],
            &["content", "--format", "json"],
        ] {
            let want = coldctr(&dir, args);
            let got = coldctr(&recased, args);
            let show =
                |o: &Output| String::from_utf8_lossy(&o.stdout).replace(&recased.display().to_string(), "<root>");
            let plain = |o: &Output| String::from_utf8_lossy(&o.stdout).replace(&dir.display().to_string(), "<root>");
            assert_eq!(
                got.status.code(),
                want.status.code(),
                "{rel} {args:?}: {}",
                stderr(&got)
            );
            assert_eq!(show(&got), plain(&want), "{rel} {args:?}: {}", stderr(&got));
            assert!(!plain(&want).trim().is_empty(), "{rel} {args:?}: nothing listed");
        }
    }
}

/// The entry of umoci's `base` (index.json entry @0), with the text given for its size.
fn umoci_base_entry(size: &str) -> String {
    format!(
        r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:d4791fbfad870236c52e15e28b75ff85ab4c58629569e85d760ca113afd47a15","size":{size},"annotations":{{"{REF_NAME}":"base"}}}}"#
    )
}

/// A descriptor's `size` of `-0` is 0, as Go's `int64` reads it (README: an integer field
/// "takes `-0` as 0"): the entry is read, and its manifest (500 bytes) is then not the size
/// the descriptor says, as skopeo would find. `-0.0` is a float, refused as before.
#[test]
fn an_index_json_size_of_minus_zero_is_zero() {
    let (_tmp, dir) = layout_copy("layouts/umoci");
    std::fs::write(
        dir.join("index.json"),
        format!(r#"{{"schemaVersion":2,"manifests":[{}]}}"#, umoci_base_entry("-0")),
    )
    .unwrap();
    let o = coldctr(&dir, &["images", "-q"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "base\n", "{e}");
    assert!(e.contains("blob-size-mismatch"), "{e}");
    assert!(e.contains("the descriptor says 0 bytes, the blob has 500"), "{e}");
    assert!(!e.contains("descriptor-invalid"), "{e}");

    std::fs::write(
        dir.join("index.json"),
        format!(r#"{{"schemaVersion":2,"manifests":[{}]}}"#, umoci_base_entry("-0.0")),
    )
    .unwrap();
    let o = coldctr(&dir, &["images", "-q"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert!(
        e.contains("descriptor-invalid: index.json entry @0: not a descriptor: invalid type: floating point `-0.0`, expected i64"),
        "{e}"
    );
}

/// A repeated key decodes again into what the first one set, as Go decodes it (checked with
/// Go 1.19.8's `json.Unmarshal` into `ocispec.Index`): `MANIFESTS` of one element leaves one
/// entry, the first one's descriptor with its annotations map given the new name.
#[test]
fn a_repeated_index_json_key_decodes_again_as_go_decodes_it() {
    let (_tmp, dir) = layout_copy("layouts/umoci");
    let index: Value = serde_json::from_str(&read_text(&dir.join("index.json"))).unwrap();
    let entries = serde_json::to_string(&index["manifests"]).unwrap();
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":{entries},"MANIFESTS":[{{"Annotations":{{"{REF_NAME}":"renamed"}}}}]}}"#
        ),
    )
    .unwrap();
    let o = coldctr(&dir, &["images", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "renamed\n", "{}", stderr(&o));
    let (_tmp2, plain) = layout_copy("layouts/umoci");
    let digest = |root: &Path, r: &str| {
        let o = coldctr(root, &["images", "--format", "json"]);
        json_of(&o, "images")
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == r)
            .map(|i| i["target"]["digest"].clone())
    };
    assert_eq!(digest(&dir, "renamed"), digest(&plain, "base"));
    assert!(digest(&plain, "base").is_some());
}

/// Sweep 21, finding 3: an index that also lists its manifest's config and a layer is intact
/// (containerd's `images.Children` reads nothing of a config or layer entry, and `ctr images
/// ls` lists such an image cleanly); `images` read every entry as a manifest and said
/// damage. Finding 4: records of one digest with another media type were given the first
/// record's analysis, so an index-typed record over a manifest listed cleanly.
#[test]
fn images_reads_only_manifests_of_an_index_and_each_target_descriptor_on_its_own() {
    let (_tmp, dir) = layout_copy("layouts/umoci");
    let manifest = "sha256:d4791fbfad870236c52e15e28b75ff85ab4c58629569e85d760ca113afd47a15";
    let oci = "application/vnd.oci.image";
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{oci}.index.v1+json","manifests":[{{"mediaType":"{oci}.config.v1+json","digest":"sha256:dc8e6e52f37fac41265790d094c3b8c33542968c454419210a3fd40d7d6a878f","size":448}},{{"mediaType":"{oci}.layer.v1.tar+gzip","digest":"sha256:175c1675125efa5c18f0977d0576b88654105a4e6a1045883cacb41ce264e279","size":107}},{{"mediaType":"{oci}.manifest.v1+json","digest":"{manifest}","size":500}}]}}"#
    );
    let index_digest = put_blob(&dir, index.as_bytes());
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{oci}.index.v1+json","digest":"{index_digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"mixed"}}}}]}}"#,
            index.len()
        ),
    )
    .unwrap();
    let o = coldctr(&dir, &["images", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows = json_of(&o, "images");
    let platforms = rows[0]["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), 1, "{platforms:?}");
    assert_eq!(platforms[0]["digest"], manifest);
    assert_eq!(platforms[0]["present"], true);

    // The manifest named twice: once as what it is, once as an index.
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{oci}.manifest.v1+json","digest":"{manifest}","size":500,"annotations":{{"org.opencontainers.image.ref.name":"right"}}}},{{"mediaType":"{oci}.index.v1+json","digest":"{manifest}","size":500,"annotations":{{"org.opencontainers.image.ref.name":"wrong"}}}}]}}"#
        ),
    )
    .unwrap();
    let o = coldctr(&dir, &["images", "--format", "json"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("image \"wrong\""), "{err}");
    assert!(!err.contains("image \"right\""), "{err}");
    let rows = json_of(&o, "images");
    let by_name = |n: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("right")["platforms"][0]["present"], true);
    assert_ne!(by_name("wrong")["platforms"], by_name("right")["platforms"]);
}

/// Sweep 21, finding 9: moby sums Size in a Go `int64`, which wraps; coldctr saturated at
/// 2^63-1. Layers whose declared sizes pass it (damage only) give moby's negative number.
#[test]
fn inspect_size_wraps_as_gos_int64_sum_does() {
    let (_tmp, dir) = layout_copy("layouts/umoci");
    let oci = "application/vnd.oci.image";
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{oci}.manifest.v1+json","config":{{"mediaType":"{oci}.config.v1+json","digest":"sha256:dc8e6e52f37fac41265790d094c3b8c33542968c454419210a3fd40d7d6a878f","size":448}},"layers":[{{"mediaType":"{oci}.layer.v1.tar+gzip","digest":"sha256:{}","size":9223372036854775000}},{{"mediaType":"{oci}.layer.v1.tar+gzip","digest":"sha256:{}","size":1000}}]}}"#,
        "1".repeat(64),
        "2".repeat(64)
    );
    let digest = put_blob(&dir, manifest.as_bytes());
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{oci}.manifest.v1+json","digest":"{digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"huge"}}}}]}}"#,
            manifest.len()
        ),
    )
    .unwrap();
    let o = coldctr(&dir, &["inspect", "-f", "{{.Size}}", "huge"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let want = (manifest.len() as i64)
        .wrapping_add(448)
        .wrapping_add(9_223_372_036_854_775_000)
        .wrapping_add(1000);
    assert!(want < 0);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), want.to_string());
}

/// Sweep 21, finding 5: containerd's `images.Children` wraps what `validateMediaType` refuses,
/// JSON errors included (`children: invalid desc <digest>: ...`), and dockerd returns it as
/// is; inspect printed the bare JSON error.
#[test]
fn a_manifest_that_is_not_json_is_refused_in_containerds_words() {
    let (_tmp, dir) = layout_copy("layouts/umoci");
    for (blob, said) in [
        (
            &b"\"str\""[..],
            "json: cannot unmarshal string into Go value of type images.unknownDocument",
        ),
        (&b"{\"manifests\":["[..], "unexpected end of JSON input"),
    ] {
        let digest = put_blob(&dir, blob);
        std::fs::write(
            dir.join("index.json"),
            format!(
                r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"bad"}}}}]}}"#,
                blob.len()
            ),
        )
        .unwrap();
        let o = coldctr(&dir, &["inspect", "bad"]);
        // 3: the layout's own damage is said too (a node's store gives 1, the daemon's).
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!(
                "Error response from daemon: children: invalid desc {digest}: {said}"
            )),
            "{}",
            stderr(&o)
        );
    }
}

/// Sweep 21, finding 8: dockerd 28.3+ sends the config through a `map[string]any`, so its
/// numbers are `float64`s: a healthcheck duration past 2^53 comes back rounded (Go prints
/// 9007199254740993 as 9007199254740992), where coldctr printed it exactly.
#[test]
fn config_numbers_past_2_53_print_as_dockerds_float64_round_trip() {
    let (_tmp, dir) = layout_copy("layouts/umoci");
    let oci = "application/vnd.oci.image";
    let config = r#"{"architecture":"amd64","os":"linux","config":{"Healthcheck":{"Test":["CMD","true"],"Interval":9007199254740993,"Timeout":30000000000,"Retries":123456789012345678}},"rootfs":{"type":"layers","diff_ids":["sha256:65a6f5f9a4d982799eb69403d2998844b3c0dd318791ddd1dae07f67f44409fb","sha256:e365be852f7fc6892bfc44255bb80e9200bcd03715bd3db5e84eefbbb80bb433"]}}"#;
    let config_digest = put_blob(&dir, config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{oci}.manifest.v1+json","config":{{"mediaType":"{oci}.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"{oci}.layer.v1.tar+gzip","digest":"sha256:4c7338882790a1bd8cd910ade42921003f8f85171f3b606fd69f825a84884dec","size":2121}},{{"mediaType":"{oci}.layer.v1.tar+gzip","digest":"sha256:175c1675125efa5c18f0977d0576b88654105a4e6a1045883cacb41ce264e279","size":107}}]}}"#,
        config.len()
    );
    let digest = put_blob(&dir, manifest.as_bytes());
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{oci}.manifest.v1+json","digest":"{digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"hc"}}}}]}}"#,
            manifest.len()
        ),
    )
    .unwrap();
    let o = coldctr(&dir, &["inspect", "hc"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("\"Interval\": 9007199254740992,"), "{text}");
    assert!(text.contains("\"Retries\": 123456789012345680"), "{text}");
    assert!(text.contains("\"Timeout\": 30000000000"), "{text}");
}

/// An index.json entry with no name is recorded as `@N`, its position: exported, it goes out
/// with no name (sweep 24: `@2` was written as its image and ref name, and `ctr import` made
/// an image called `@2`; skopeo and umoci refuse such a ref).
#[test]
fn an_unnamed_entry_is_exported_without_a_name() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = oci_dev("layouts/buildah");
    let dir = tmp.path().join("out");
    let o = coldctr(
        &layout,
        &["export", "--format", "oci-dir", "-o", dir.to_str().unwrap(), "@2"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let index: Value = serde_json::from_str(&read_text(&dir.join("index.json"))).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{index:#}");
    assert_eq!(entries[0].get("annotations"), None, "{index:#}");
    let tar = tmp.path().join("out.tar");
    let o = coldctr(&layout, &["export", "-o", tar.to_str().unwrap(), "@2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let manifest = Command::new("tar")
        .arg("-xOf")
        .arg(&tar)
        .arg("manifest.json")
        .output()
        .unwrap();
    let manifest: Value = serde_json::from_slice(&manifest.stdout).unwrap();
    assert_eq!(manifest[0]["RepoTags"], Value::Null, "{manifest:#}");
}

/// `export --platform` finds the platform's manifest below a nested index, as containerd's
/// platform walk and `inspect --platform` do (sweep 24: every platform was refused for
/// handmade-graph's `nested`, index -> index -> three manifests).
#[test]
fn export_for_a_platform_descends_into_nested_indexes() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = oci_dev("layouts/handmade-graph");
    for platform in ["linux/amd64", "linux/arm/v7"] {
        let i = coldctr(
            &layout,
            &["inspect", "--platform", platform, "--format", "{{.Id}}", "nested"],
        );
        assert_eq!(i.status.code(), Some(0), "{}", stderr(&i));
        let id = String::from_utf8_lossy(&i.stdout).trim().to_string();
        let tar = tmp.path().join(format!("{}.tar", platform.replace('/', "-")));
        let o = coldctr(
            &layout,
            &["export", "--platform", platform, "-o", tar.to_str().unwrap(), "nested"],
        );
        assert_eq!(o.status.code(), Some(0), "{platform}: {}", stderr(&o));
        // The archive's index.json names the manifest chosen, which inspect's Id is.
        let index = Command::new("tar")
            .arg("-xOf")
            .arg(&tar)
            .arg("index.json")
            .output()
            .unwrap();
        let index: Value = serde_json::from_slice(&index.stdout).unwrap();
        assert_eq!(
            index["manifests"][0]["digest"].as_str(),
            Some(id.as_str()),
            "{platform}"
        );
    }
    // A platform the image does not have is still refused, as before.
    let tar = tmp.path().join("s390x.tar");
    let o = coldctr(
        &layout,
        &[
            "export",
            "--platform",
            "linux/s390x",
            "-o",
            tar.to_str().unwrap(),
            "nested",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

/// index.json entries with no `mediaType`: containerd refuses such an image target
/// (`Target.MediaType must be set`, so `ctr images import` refuses the layout), and the
/// layout says so (sweep 24: `images` and `verify` said nothing, exit 0).
#[test]
fn an_entry_without_a_media_type_is_a_problem_of_the_layout() {
    let (_tmp, dir) = layout_copy("layouts/umoci");
    let mut index: Value = serde_json::from_str(&read_text(&dir.join("index.json"))).unwrap();
    for e in index["manifests"].as_array_mut().unwrap() {
        e.as_object_mut().unwrap().remove("mediaType");
    }
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    for args in [&["images"][..], &["verify"]] {
        let o = coldctr(&dir, args);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("descriptor-invalid: index.json entry @0") && stderr(&o).contains("no mediaType"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

/// Two index.json entries that are one descriptor under one name are one claim: the name is
/// the first's (skopeo resolves it, ctr import makes one image); sweep 24 found it refused as
/// ambiguous. Different targets under one name stay ambiguous.
#[test]
fn identical_entries_under_one_name_are_one_claim() {
    let (_tmp, dir) = layout_copy("layouts/umoci");
    let mut index: Value = serde_json::from_str(&read_text(&dir.join("index.json"))).unwrap();
    let entries = index["manifests"].as_array_mut().unwrap();
    let first = entries[0].clone();
    let name = first["annotations"][REF_NAME].as_str().unwrap().to_string();
    entries.push(first.clone());
    let second = format!("@{}", entries.len() - 1);
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    let o = coldctr(&dir, &["inspect", "--format", "{{.Id}}", &name]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        first["digest"].as_str().unwrap()
    );
    assert!(stderr(&o).contains("all one descriptor"), "{}", stderr(&o));
    // One record, as ctr import makes one image; `@N` of the second entry names it.
    let o = coldctr(&dir, &["images", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let listed = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(listed.lines().filter(|l| *l == name).count(), 1, "{listed}");
    assert!(!listed.lines().any(|l| l == second), "{listed}");
    let o = coldctr(&dir, &["inspect", "--format", "{{.Id}} {{.RepoTags}}", &second]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let shown = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(shown.starts_with(first["digest"].as_str().unwrap()), "{shown}");

    // Another target under the same name: ambiguous, as before.
    let entries = index["manifests"].as_array_mut().unwrap();
    let last = entries.len() - 1;
    entries[last]["size"] = serde_json::json!(first["size"].as_i64().unwrap() + 1);
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    let o = coldctr(&dir, &["inspect", &name]);
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("ambiguous"), "{}", stderr(&o));
}

/// A layer blob of terabytes that are holes, sized as its descriptor says (sweep 23: verify
/// hashed zeros for hours, export wrote them into OUT until its disk was full): not read, and
/// said with its length and holes.
#[test]
fn a_blob_of_holes_is_neither_hashed_nor_copied() {
    let (tmp, dir) = layout_copy("layouts/umoci");
    let base = &refs("layouts/umoci")[0];
    let manifest_path = dir
        .join("blobs/sha256")
        .join(base.digest.strip_prefix("sha256:").unwrap());
    let mut manifest: Value = serde_json::from_str(&read_text(&manifest_path)).unwrap();
    let fake = format!("sha256:{}", "b".repeat(64));
    let size: u64 = 15 << 40;
    let f = std::fs::File::create(dir.join("blobs/sha256").join("b".repeat(64))).unwrap();
    f.set_len(size).unwrap();
    drop(f);
    manifest["layers"][0]["digest"] = fake.clone().into();
    manifest["layers"][0]["size"] = size.into();
    let bytes = manifest.to_string();
    let digest = put_blob(&dir, bytes.as_bytes());
    let mut index: Value = serde_json::from_str(&read_text(&dir.join("index.json"))).unwrap();
    index["manifests"][0]["digest"] = digest.into();
    index["manifests"][0]["size"] = bytes.len().into();
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    let said = format!("{size} bytes long, {size} of them holes");

    let o = coldctr_within(&dir, &["verify", "--format", "json"], Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&said),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let name = index["manifests"][0]["annotations"][REF_NAME]
        .as_str()
        .unwrap()
        .to_string();
    let out = tmp.path().join("out.tar");
    let o = coldctr_within(
        &dir,
        &["export", "-o", out.to_str().unwrap(), &name],
        Duration::from_secs(60),
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&said) && stderr(&o).contains(&fake),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

/// Indexes 26 levels deep, each listing the one below twice (a 10 KB layout): `export
/// --platform` of a platform none has looks into each index once, where it walked 2^26 paths
/// (the review of the nested-index search: killed after 120 s).
#[test]
fn a_platform_search_looks_into_each_index_once() {
    let (tmp, dir) = index_fan(26, 2);
    let out = tmp.path().join("x.tar");
    let o = coldctr_within(
        &dir,
        &["export", "--platform", "linux/s390x", "-o", out.to_str().unwrap(), "x"],
        Duration::from_secs(60),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("does not provide the specified platform"),
        "{}",
        stderr(&o)
    );
}

/// `--source-type oci-layout` on a path that is not there, or is a file, is a path that
/// cannot be read as a layout (exit 4, the error said), not a layout whose every file is
/// damaged (sweep 25: an empty table and exit 3).
#[test]
fn a_layout_that_is_not_there_is_unreadable_not_damaged() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    for (root, said) in [
        (tmp.path().join("no-such-dir"), "No such file or directory"),
        (file, "not a directory"),
    ] {
        let o = coldctr(&root, &["--source-type", "oci-layout", "images"]);
        assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
        assert!(stderr(&o).contains(said), "{}", stderr(&o));
        assert!(o.stdout.is_empty(), "{}", String::from_utf8_lossy(&o.stdout));
    }
}

/// A config whose `Healthcheck.Interval` is 2^63 - 1 (a valid `time.Duration`) reaches the
/// CLI as dockerd relays it, a `float64`: 9223372036854776000, which the CLI's
/// `json.Unmarshal` into `time.Duration` refuses. docker prints no element, encoding/json's
/// error, exit 1 (sweep 26: the body was printed, exit 0, and `-f` read the interval as 0s).
/// The same image with an interval that fits prints as before.
#[test]
fn a_body_the_cli_cannot_decode_is_its_error() {
    let (_tmp, dir) = layout_copy("layouts/umoci");
    let mut index: Value = serde_json::from_str(&read_text(&dir.join("index.json"))).unwrap();
    let entry = index["manifests"][0].clone();
    let name = entry["annotations"][REF_NAME].as_str().unwrap().to_string();
    let blob = |d: &str| dir.join("blobs/sha256").join(d.strip_prefix("sha256:").unwrap());
    let mut manifest: Value = serde_json::from_str(&read_text(&blob(entry["digest"].as_str().unwrap()))).unwrap();
    let config: Value =
        serde_json::from_str(&read_text(&blob(manifest["config"]["digest"].as_str().unwrap()))).unwrap();
    let mut with = |interval: &str| {
        let mut c = config.clone();
        c["config"]["Healthcheck"] =
            serde_json::from_str(&format!(r#"{{"Test":["CMD","true"],"Interval":{interval}}}"#)).unwrap();
        let bytes = c.to_string().into_bytes();
        manifest["config"]["digest"] = Value::from(put_blob(&dir, &bytes));
        manifest["config"]["size"] = Value::from(bytes.len());
        let m = manifest.to_string().into_bytes();
        index["manifests"][0]["digest"] = Value::from(put_blob(&dir, &m));
        index["manifests"][0]["size"] = Value::from(m.len());
        std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    };
    with("9223372036854775807");
    let said = "json: cannot unmarshal number 9223372036854776000 into Go struct field \
                HealthcheckConfig.Config.DockerOCIImageConfigExt.Healthcheck.Interval of type time.Duration";
    let o = coldctr(&dir, &["inspect", &name]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "[]\n");
    assert!(stderr(&o).contains(said), "{}", stderr(&o));
    let o = coldctr(&dir, &["inspect", "-f", "{{.Config.Healthcheck.Interval}}", &name]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "\n");
    with("30000000000");
    let o = coldctr(&dir, &["inspect", "-f", "{{.Config.Healthcheck.Interval}}", &name]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "30s\n");
}

/// The walker's unreferenced blobs are verify's orphans, with their sizes, whether the layout
/// is a directory or a tar of it (sweep 33: an archive's orphans were all 0 bytes, their
/// size looked up by a path inside the tar), and the table prints the size as its header
/// says (kB), not raw bytes.
#[test]
fn verify_orphans_are_the_walker_s_unreferenced_blobs_in_a_directory_and_a_tar() {
    let rel = "damaged/orphan-blob";
    let summary = support::read_json(&expected_dir(rel).join("summary.json"));
    let want: Vec<(String, u64)> = (summary["oci"]["blobs"].as_array().unwrap().iter())
        .filter(|b| b["referenced"] == Value::Bool(false))
        .map(|b| (b["path"].as_str().unwrap().to_string(), b["size"].as_u64().unwrap()))
        .collect();
    assert_eq!(want.len(), 1, "{summary:#}");
    let tmp = tempfile::tempdir().unwrap();
    let tar = tmp.path().join("orphan.tar");
    let made = std::process::Command::new("tar")
        .arg("-C")
        .arg(oci_dev(rel))
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    for root in [oci_dev(rel), tar] {
        let o = coldctr(&root, &["verify", "--format", "json"]);
        let got: Vec<(String, u64)> = (json_of(&o, rel)["orphans"].as_array().unwrap().iter())
            .map(|b| (b["path"].as_str().unwrap().to_string(), b["size"].as_u64().unwrap()))
            .collect();
        assert_eq!(got, want, "{}", root.display());
        let o = coldctr(&root, &["verify"]);
        let table = String::from_utf8_lossy(&o.stdout).into_owned();
        let row = table.lines().find(|l| l.starts_with(&want[0].0)).unwrap_or_default();
        assert!(row.ends_with(" 58B"), "{}: {table}", root.display());
    }
}
