//! The listings (`coldctr images|content|namespaces|leases|containers|snapshots`) list what
//! containerd itself lists: compared with `ctr` outputs captured from the daemons that wrote
//! the fixtures (`fixtures/expected/*/ctr-*`), and with the reference implementation's
//! `images.json`, `content.json` and `meta.json` for containerd 1.6.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(fx: &str) -> PathBuf {
    repo().join("fixtures").join(fx)
}

fn coldctr(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("COLDCTR_ROOT")
        .output()
        .expect("run coldctr")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The one content record of the captured fixtures whose blob file is missing (containerd-1.6,
/// namespace moby; the reference's content.json says `file_present: false`). Every listing
/// that looks at blob files exits 3 for it.
const MISSING_BLOB: (&str, &str) = (
    "containerd-1.6",
    "sha256:86961aaca806177c84debb38aa0799f5db7bf0ce8e16b8b65d4592a1c37e9144",
);

/// `coldctr --root fixtures/<fx> [-n ns] <cmd> --format json`, which must succeed (exit 0, or
/// 3 naming [`MISSING_BLOB`] where the listing covers it).
fn json(fx: &str, ns: Option<&str>, cmd: &[&str]) -> Vec<Value> {
    let mut args: Vec<&str> = Vec::new();
    if let Some(ns) = ns {
        args.extend(["-n", ns]);
    }
    args.extend(cmd);
    args.extend(["--format", "json"]);
    let o = coldctr(&fixture(fx), &args);
    let damaged = fx == MISSING_BLOB.0 && cmd == ["content"] && ns.is_none_or(|n| n == "moby");
    if damaged {
        assert_eq!(o.status.code(), Some(3), "{fx} {args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(MISSING_BLOB.1), "{}", stderr(&o));
    } else {
        assert_eq!(o.status.code(), Some(0), "{fx} {args:?}: {}", stderr(&o));
    }
    match serde_json::from_slice(&o.stdout) {
        Ok(Value::Array(a)) => a,
        other => panic!("{fx} {args:?}: not a JSON array: {other:?}"),
    }
}

/// The data rows of a table as whitespace-separated fields (the header dropped).
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// The captured output of `ctr <cmd> ls` for `ns`, if the fixture has one.
fn ctr_output(fx: &str, cmd: &str, ns: &str) -> Option<String> {
    let exp = repo().join("fixtures/expected");
    let candidates = [
        exp.join(fx).join(format!("ctr-{cmd}-{ns}.txt")),
        exp.join(fx).join("cli").join(format!("ctr-{cmd}-ls-{ns}.stdout")),
    ];
    candidates.iter().find_map(|p| std::fs::read_to_string(p).ok())
}

/// The namespaces `ctr namespaces ls` printed.
fn ctr_namespaces(fx: &str) -> Vec<String> {
    let exp = repo().join("fixtures/expected").join(fx);
    let text = std::fs::read_to_string(exp.join("ctr-namespaces.txt"))
        .or_else(|_| std::fs::read_to_string(exp.join("cli/ctr-namespaces-ls.stdout")))
        .expect("a ctr namespaces capture");
    rows(&text).into_iter().map(|r| r[0].clone()).collect()
}

const CAPTURED: [&str; 3] = ["containerd-1.6", "containerd-1.7", "docker-28.5"];

fn str_of(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

/// A `labels` object as `k=v` strings.
fn label_set(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default()
}

/// ctr's LABELS column (`-` for none) as `k=v` strings. containerd 1.6 prints them in Go map
/// order, so only the set is compared.
fn ctr_labels(s: &str) -> BTreeSet<String> {
    if s == "-" || s.is_empty() {
        return BTreeSet::new();
    }
    s.split(',').map(str::to_string).collect()
}

#[test]
fn namespaces_match_ctr() {
    for fx in CAPTURED {
        let ours: Vec<String> = json(fx, None, &["namespaces"])
            .iter()
            .map(|n| str_of(n, "name"))
            .collect();
        assert_eq!(ours, ctr_namespaces(fx), "{fx}");
        for n in json(fx, None, &["namespaces"]) {
            assert!(n.get("labels").is_some_and(Value::is_object), "{fx}: {n}");
        }
    }
}

/// (name, media type, digest, platforms, labels) of one image record.
type ImageLine = (String, String, String, BTreeSet<String>, BTreeSet<String>);

#[test]
fn images_match_ctr_images_ls() {
    let mut compared = 0;
    for fx in CAPTURED {
        for ns in ctr_namespaces(fx) {
            let Some(text) = ctr_output(fx, "images", &ns) else {
                continue;
            };
            // REF TYPE DIGEST SIZE(two fields) PLATFORMS LABELS
            let want: BTreeSet<ImageLine> = rows(&text)
                .into_iter()
                .map(|r| {
                    assert_eq!(r.len(), 7, "{fx}/{ns}: {r:?}");
                    let platforms = r[5]
                        .split(',')
                        .filter(|p| *p != "unknown/unknown" && *p != "-")
                        .map(str::to_string)
                        .collect();
                    (r[0].clone(), r[1].clone(), r[2].clone(), platforms, ctr_labels(&r[6]))
                })
                .collect();
            let all = json(fx, Some(&ns), &["images", "--all"]);
            let got: BTreeSet<_> = all
                .iter()
                .map(|i| {
                    assert_eq!(str_of(i, "namespace"), ns);
                    let t = &i["target"];
                    let mut platforms: BTreeSet<String> = BTreeSet::new();
                    for k in ["platformsPresent", "platformsMissing"] {
                        for p in i[k].as_array().into_iter().flatten() {
                            platforms.insert(p.as_str().unwrap_or("").to_string());
                        }
                    }
                    (
                        str_of(i, "name"),
                        str_of(t, "mediaType"),
                        str_of(t, "digest"),
                        platforms,
                        label_set(&i["labels"]),
                    )
                })
                .collect();
            assert_eq!(got, want, "{fx}/{ns}");
            // In containerd's list order, and without --all only the non-dangling ones.
            let names: Vec<String> = all.iter().map(|i| str_of(i, "name")).collect();
            let mut sorted = names.clone();
            sorted.sort();
            assert_eq!(names, sorted, "{fx}/{ns}: order");
            let tagged: Vec<String> = json(fx, Some(&ns), &["images"])
                .iter()
                .map(|i| str_of(i, "name"))
                .collect();
            let want_tagged: Vec<String> = names.into_iter().filter(|n| !n.starts_with("moby-dangling@")).collect();
            assert_eq!(tagged, want_tagged, "{fx}/{ns}: without --all");
            compared += want.len();
        }
    }
    assert!(compared > 40, "only {compared} image records compared");
}

#[test]
fn images_match_reference_images_json() {
    let text = std::fs::read_to_string(repo().join("fixtures/expected/containerd-1.6/images.json")).unwrap();
    let reference: Vec<Value> = serde_json::from_str(&text).unwrap();
    let ours = json("containerd-1.6", None, &["images", "--all"]);
    let mut want = Vec::new();
    for ns in &reference {
        for i in ns["images"].as_array().unwrap() {
            let mut target = i["target"].clone();
            if target.get("annotations").is_some_and(Value::is_null) {
                target.as_object_mut().unwrap().remove("annotations");
            }
            want.push(serde_json::json!({
                "namespace": ns["namespace"],
                "name": i["name"],
                "target": target,
                "createdAt": i["created_at"],
                "updatedAt": i["updated_at"],
                "labels": if i["labels"].is_null() { serde_json::json!({}) } else { i["labels"].clone() },
            }));
        }
    }
    let got: Vec<Value> = ours
        .iter()
        .map(|i| {
            let keep = ["namespace", "name", "target", "createdAt", "updatedAt", "labels"];
            Value::Object(keep.iter().map(|k| (k.to_string(), i[*k].clone())).collect())
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn content_matches_ctr_content_ls() {
    let mut compared = 0;
    for fx in CAPTURED {
        for ns in ctr_namespaces(fx) {
            let Some(text) = ctr_output(fx, "content", &ns) else {
                continue;
            };
            // ctr separates columns with tabs (AGE has spaces): DIGEST SIZE AGE LABELS.
            let want: BTreeSet<(String, String, BTreeSet<String>)> = text
                .lines()
                .skip(1)
                .map(|l| {
                    let f: Vec<&str> = l.split('\t').filter(|f| !f.is_empty()).collect();
                    assert_eq!(f.len(), 4, "{fx}/{ns}: {l:?}");
                    (f[0].to_string(), f[1].to_string(), ctr_labels(f[3]))
                })
                .collect();
            // Our table, whole: NAMESPACE DIGEST SIZE CREATED FILE LABELS.
            let o = coldctr(&fixture(fx), &["-n", &ns, "content", "--no-trunc"]);
            let want_code = if (fx, ns.as_str()) == (MISSING_BLOB.0, "moby") {
                3
            } else {
                0
            };
            assert_eq!(o.status.code(), Some(want_code), "{}", stderr(&o));
            let got: BTreeSet<_> = rows(&String::from_utf8(o.stdout).unwrap())
                .into_iter()
                .map(|r| {
                    assert_eq!(r[0], ns);
                    (r[1].clone(), r[2].clone(), ctr_labels(&r[r.len() - 1]))
                })
                .collect();
            assert_eq!(got, want, "{fx}/{ns}");
            let digests: Vec<String> = json(fx, Some(&ns), &["content"])
                .iter()
                .map(|c| str_of(c, "digest"))
                .collect();
            assert_eq!(digests.iter().collect::<BTreeSet<_>>().len(), want.len());
            compared += want.len();
        }
    }
    assert!(compared > 150, "only {compared} content records compared");
}

#[test]
fn content_matches_reference_content_json() {
    let text = std::fs::read_to_string(repo().join("fixtures/expected/containerd-1.6/content.json")).unwrap();
    let reference: Value = serde_json::from_str(&text).unwrap();
    let mut want = Vec::new();
    for ns in reference["namespaces"].as_array().unwrap() {
        for b in ns["blobs"].as_array().unwrap() {
            want.push((
                str_of(ns, "namespace"),
                str_of(b, "digest"),
                b["size"].as_i64().unwrap(),
                str_of(b, "created_at"),
                str_of(b, "updated_at"),
                label_set(&b["labels"]),
                b["file_present"].as_bool().unwrap(),
            ));
        }
    }
    let got: Vec<_> = json("containerd-1.6", None, &["content"])
        .iter()
        .map(|c| {
            let present = c["present"].as_bool().unwrap();
            // fileSize is there exactly when the file is.
            assert_eq!(c.get("fileSize").is_some(), present, "{c}");
            if present {
                assert_eq!(c["fileSize"], c["size"], "{c}");
            }
            (
                str_of(c, "namespace"),
                str_of(c, "digest"),
                c["size"].as_i64().unwrap(),
                str_of(c, "createdAt"),
                str_of(c, "updatedAt"),
                label_set(&c["labels"]),
                present,
            )
        })
        .collect();
    assert_eq!(got, want);
    assert!(
        got.iter().any(|c| !c.6),
        "the fixture has a record whose blob file is missing"
    );
}

#[test]
fn a_symlinked_blob_is_not_present() {
    let (dir, root, blobs) = copied_fixture("containerd-1.7");
    let victim = json("containerd-1.7", Some("default"), &["content"])[0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let target = dir.path().join("elsewhere");
    move_behind_symlink(&blobs.join(&victim), &target);
    let o = coldctr(&root, &["-n", "default", "content", "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "a recorded blob that is a symlink is damage: {}",
        stderr(&o)
    );
    let rows: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let row = rows.iter().find(|r| str_of(r, "digest").ends_with(&victim)).unwrap();
    assert_eq!(row["present"], false);
    assert_eq!(row["fileState"], "symlink");
    assert_eq!(row["fileType"], "symlink");
    let table = coldctr(&root, &["-n", "default", "content", "--no-trunc"]);
    let text = String::from_utf8(table.stdout).unwrap();
    let line = text.lines().find(|l| l.contains(&victim)).unwrap();
    assert!(line.contains(" symlink "), "{line}");
}

#[test]
fn leases_match_ctr_and_meta_json() {
    let mut compared = 0;
    for fx in CAPTURED {
        for ns in ctr_namespaces(fx) {
            let Some(text) = ctr_output(fx, "leases", &ns) else {
                continue;
            };
            // ID CREATED-AT LABELS (the header's "CREATED AT" is two words).
            let want: BTreeSet<(String, String, BTreeSet<String>)> = rows(&text)
                .into_iter()
                .map(|r| (r[0].clone(), r[1].clone(), ctr_labels(&r[2])))
                .collect();
            let got: BTreeSet<_> = json(fx, Some(&ns), &["leases"])
                .iter()
                .map(|l| {
                    let created = str_of(l, "createdAt");
                    let seconds = match created.split_once('.') {
                        Some((s, _)) => format!("{s}Z"),
                        None => created,
                    };
                    (str_of(l, "id"), seconds, label_set(&l["labels"]))
                })
                .collect();
            assert_eq!(got, want, "{fx}/{ns}");
            compared += want.len();
        }
    }
    assert!(compared >= 9, "only {compared} leases compared");

    let meta = meta_json();
    for ns in meta["namespaces"].as_array().unwrap() {
        let name = str_of(ns, "namespace");
        let want: Vec<Value> = ns["leases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let mut res: Vec<(String, String)> = l["resources"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| (str_of(r, "Type"), str_of(r, "ID")))
                    .collect();
                res.sort();
                serde_json::json!([l["id"], l["created_at"], label_set(&l["labels"]), res])
            })
            .collect();
        let got: Vec<Value> = json("containerd-1.6", Some(&name), &["leases"])
            .iter()
            .map(|l| {
                let r = &l["resources"];
                let mut res: Vec<(String, String)> = Vec::new();
                for kind in ["content", "ingests", "images"] {
                    for id in r[kind].as_array().into_iter().flatten() {
                        let kind = if kind == "ingests" {
                            "ingest"
                        } else {
                            kind.trim_end_matches('s')
                        };
                        res.push((kind.to_string(), id.as_str().unwrap_or("").to_string()));
                    }
                }
                for s in r["snapshots"].as_array().into_iter().flatten() {
                    res.push((format!("snapshots/{}", str_of(s, "snapshotter")), str_of(s, "key")));
                }
                res.sort();
                serde_json::json!([l["id"], l["createdAt"], label_set(&l["labels"]), res])
            })
            .collect();
        assert_eq!(got, want, "meta.json {name}");
    }
}

fn meta_json() -> Value {
    let text = std::fs::read_to_string(repo().join("fixtures/expected/containerd-1.6/meta.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn containers_match_ctr_and_meta_json() {
    let mut compared = 0;
    for fx in CAPTURED {
        for ns in ctr_namespaces(fx) {
            let Some(text) = ctr_output(fx, "containers", &ns) else {
                continue;
            };
            let want: BTreeSet<Vec<String>> = rows(&text).into_iter().collect();
            let got: BTreeSet<Vec<String>> = json(fx, Some(&ns), &["containers"])
                .iter()
                .map(|c| {
                    let image = str_of(c, "image");
                    vec![
                        str_of(c, "id"),
                        if image.is_empty() { "-".into() } else { image },
                        str_of(c, "runtime"),
                    ]
                })
                .collect();
            assert_eq!(got, want, "{fx}/{ns}");
            compared += want.len();
        }
    }
    assert!(compared >= 2, "only {compared} containers compared");

    for ns in meta_json()["namespaces"].as_array().unwrap() {
        let name = str_of(ns, "namespace");
        let want: Vec<Value> = ns["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                serde_json::json!([
                    c["id"],
                    c["image"],
                    c["snapshotter"],
                    c["snapshot_key"],
                    c["runtime"],
                    c["spec_type_url"],
                    label_set(&c["labels"]),
                    c["extensions"],
                    c["created_at"],
                    c["updated_at"]
                ])
            })
            .collect();
        let got: Vec<Value> = json("containerd-1.6", Some(&name), &["containers"])
            .iter()
            .map(|c| {
                serde_json::json!([
                    c["id"],
                    c["image"],
                    c["snapshotter"],
                    c["snapshotKey"],
                    c["runtime"],
                    c["specType"],
                    label_set(&c["labels"]),
                    c["extensions"],
                    c["createdAt"],
                    c["updatedAt"]
                ])
            })
            .collect();
        assert_eq!(got, want, "meta.json {name}");
    }
}

#[test]
fn snapshots_match_ctr_and_meta_json() {
    let mut compared = 0;
    for fx in CAPTURED {
        for ns in ctr_namespaces(fx) {
            let Some(text) = ctr_output(fx, "snapshots", &ns) else {
                continue;
            };
            // KEY [PARENT] KIND: a base layer has no parent.
            let want: BTreeSet<(String, String, String)> = rows(&text)
                .into_iter()
                .map(|r| match r.as_slice() {
                    [k, kind] => (k.clone(), String::new(), kind.clone()),
                    [k, p, kind] => (k.clone(), p.clone(), kind.clone()),
                    other => panic!("{fx}/{ns}: {other:?}"),
                })
                .collect();
            let all = json(fx, Some(&ns), &["snapshots"]);
            // ctr skips a meta.db record whose snapshotter has no record for it.
            let got: BTreeSet<_> = all
                .iter()
                .filter(|s| str_of(s, "snapshotter") == "overlayfs" && !s["kind"].is_null())
                .map(|s| (str_of(s, "key"), str_of(s, "parent"), str_of(s, "kind")))
                .collect();
            assert_eq!(got, want, "{fx}/{ns}");
            for s in &all {
                if s["kind"].as_str() == Some("Committed") {
                    assert!(s["backend"]["size"].is_i64(), "committed snapshot without a size: {s}");
                }
            }
            compared += want.len();
        }
    }
    assert!(compared > 50, "only {compared} snapshots compared");

    for ns in meta_json()["namespaces"].as_array().unwrap() {
        let name = str_of(ns, "namespace");
        let want: Vec<Value> = ns["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                serde_json::json!([
                    s["snapshotter"],
                    s["key"],
                    s["backend_name"],
                    s["parent"].as_str().unwrap_or(""),
                    s.get("children").cloned().unwrap_or(serde_json::json!([])),
                    label_set(&s["labels"]),
                    s["created_at"],
                    s["updated_at"]
                ])
            })
            .collect();
        let got: Vec<Value> = json("containerd-1.6", Some(&name), &["snapshots"])
            .iter()
            .map(|s| {
                serde_json::json!([
                    s["snapshotter"],
                    s["key"],
                    s["backendName"],
                    s["parent"].as_str().unwrap_or(""),
                    s["children"],
                    label_set(&s["labels"]),
                    s["createdAt"],
                    s["updatedAt"]
                ])
            })
            .collect();
        assert_eq!(got, want, "meta.json {name}");
    }
}

#[test]
fn without_n_every_namespace_is_listed_in_order() {
    for fx in CAPTURED {
        let namespaces = ctr_namespaces(fx);
        for cmd in ["images", "content", "leases", "containers", "snapshots"] {
            let mut args = vec![cmd];
            if cmd == "images" {
                args.push("--all");
            }
            let all = json(fx, None, &args);
            let mut per_ns = Vec::new();
            for ns in &namespaces {
                per_ns.extend(json(fx, Some(ns), &args));
            }
            assert_eq!(all, per_ns, "{fx} {cmd}");
        }
    }
}

#[test]
fn tables_have_every_column_on_every_row() {
    for fx in CAPTURED {
        for (cmd, columns) in [
            ("namespaces", 2),
            ("leases", 4),
            ("containers", 5),
            ("snapshots", 5),
            ("content", 6),
            ("images", 9),
        ] {
            let o = coldctr(
                &fixture(fx),
                &[cmd, "--all"]
                    .into_iter()
                    .filter(|a| cmd == "images" || *a != "--all")
                    .collect::<Vec<_>>(),
            );
            let want = if (fx, cmd) == (MISSING_BLOB.0, "content") { 3 } else { 0 };
            assert_eq!(o.status.code(), Some(want), "{fx} {cmd}: {}", stderr(&o));
            let text = String::from_utf8(o.stdout).unwrap();
            for r in rows(&text) {
                assert_eq!(r.len(), columns, "{fx} {cmd}: {r:?}");
            }
        }
    }
}

#[test]
fn images_show_platforms_present_and_missing() {
    let images = json("containerd-1.6", Some("k8s.io"), &["images"]);
    let multi = images
        .iter()
        .find(|i| str_of(i, "name") == "docker.io/library/multi:3.1")
        .unwrap();
    assert_eq!(multi["platformsPresent"], serde_json::json!(["linux/amd64"]));
    assert_eq!(
        multi["platformsMissing"],
        serde_json::json!(["linux/arm/v7", "linux/arm64/v8"])
    );
    for k in [
        "namespace",
        "name",
        "target",
        "createdAt",
        "updatedAt",
        "labels",
        "sizes",
    ] {
        assert!(multi.get(k).is_some(), "{k} missing: {multi}");
    }
    for k in ["mediaType", "digest", "size"] {
        assert!(multi["target"].get(k).is_some(), "target.{k} missing");
    }
    // The attestation of attested:1.0 is listed, but is not a platform.
    let moby = json("containerd-1.6", Some("moby"), &["images"]);
    let attested = moby
        .iter()
        .find(|i| str_of(i, "name") == "docker.io/library/attested:1.0")
        .unwrap();
    assert_eq!(attested["platformsPresent"], serde_json::json!(["linux/amd64"]));
    assert!(
        attested["platforms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["attestation"] == true)
    );
    // broken:1 lacks a layer blob: ctr images check says incomplete.
    let broken = moby
        .iter()
        .find(|i| str_of(i, "name") == "docker.io/library/broken:1")
        .unwrap();
    let check = &broken["sizes"]["content"];
    assert_eq!(check["status"], "incomplete", "{check}");
    assert_eq!(check["missing"].as_array().unwrap().len(), 1);
    assert!(check["present"].as_i64() < check["required"].as_i64());
}

#[test]
fn a_damaged_blob_is_reported_and_the_listing_goes_on() {
    let o = coldctr(&fixture("docker-28.5-damaged"), &["images", "--format", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.starts_with("coldctr: "), "{err}");
    assert!(
        err.contains("sha256:370c8dd0b95f01f30d49d08e4c41d19cd0f42043cb943587dd1bbe3f4b234988"),
        "{err}"
    );
    let listed: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let healthy = json("docker-28.5", None, &["images"]);
    assert_eq!(listed.len(), healthy.len());
}

/// Copies a fixture root (files and directories; symlinks are recreated as symlinks).
/// A fixture root copied into a temporary directory (kept while the first value lives), with
/// its sha256 blobs directory.
fn copied_fixture(fx: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    copy_dir(&fixture(fx), &root);
    let blobs = root.join("io.containerd.content.v1.content/blobs/sha256");
    (dir, root, blobs)
}

/// Moves the file at `path` to `target` and leaves a symlink to it in its place.
fn move_behind_symlink(path: &Path, target: &Path) {
    std::fs::rename(path, target).unwrap();
    std::os::unix::fs::symlink(target, path).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        let dest = to.join(e.file_name());
        if t.is_dir() {
            copy_dir(&e.path(), &dest);
        } else if t.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &dest).unwrap();
        } else if t.is_file() {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

#[test]
fn a_damaged_meta_page_names_the_page_and_the_rest_is_listed() {
    use coldctr::bolt::{Db, MetaChoice, ReadMode};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    copy_dir(&fixture("docker-28.5"), &root);
    let meta = root.join("io.containerd.metadata.v1.bolt/meta.db");

    // The leaf page holding one image's record (its own bucket's root page).
    let victim = "docker.io/library/webapp:1.0";
    let (page, page_size) = {
        let db = Db::open(&meta, ReadMode::Read).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let path: [&[u8]; 4] = [b"v1", b"moby", b"images", victim.as_bytes()];
        let b = tx.bucket_at(&path).unwrap().expect("the image's bucket");
        assert!(!b.is_inline(), "the image record has a page of its own");
        (b.root_page(), u64::from(db.page_size()))
    };
    assert!(page > 1);
    // Wreck the page header's flags and count: it is no longer a leaf.
    let mut bytes = std::fs::read(&meta).unwrap();
    let at = usize::try_from(page * page_size).unwrap();
    bytes[at + 8..at + 12].copy_from_slice(&[0x5a, 0x5a, 0xff, 0xff]);
    std::fs::write(&meta, &bytes).unwrap();

    let o = coldctr(&root, &["images", "--all", "--format", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.starts_with("coldctr: "), "{err}");
    assert!(err.contains(&format!("page {page}")), "{err}");
    let listed: BTreeSet<String> = serde_json::from_slice::<Vec<Value>>(&o.stdout)
        .unwrap()
        .iter()
        .map(|i| str_of(i, "name"))
        .collect();
    let mut want: BTreeSet<String> = json("docker-28.5", None, &["images", "--all"])
        .iter()
        .map(|i| str_of(i, "name"))
        .collect();
    assert!(want.remove(victim));
    assert_eq!(listed, want);

    // The table too lists the others, and the other listings are untouched.
    let o = coldctr(&root, &["images"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(!String::from_utf8_lossy(&o.stdout).contains(victim));
    assert!(String::from_utf8_lossy(&o.stdout).contains("docker.io/library/legacy:2.3"));
    let o = coldctr(&root, &["content", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn not_a_root_says_what_was_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["images", "content", "namespaces", "leases", "containers", "snapshots"] {
        let o = coldctr(dir.path(), &[cmd]);
        assert_eq!(o.status.code(), Some(4), "{cmd}");
        let err = stderr(&o);
        assert!(err.contains("io.containerd.metadata.v1.bolt/meta.db"), "{cmd}: {err}");
        assert!(err.contains(&dir.path().display().to_string()), "{cmd}: {err}");
        assert!(o.stdout.is_empty());
    }
    // fixtures/ holds roots one level down: say which.
    let o = coldctr(&repo().join("fixtures"), &["images"]);
    assert_eq!(o.status.code(), Some(4));
    let err = stderr(&o);
    assert!(err.contains("io.containerd.metadata.v1.bolt/meta.db"), "{err}");
    assert!(err.contains("fixtures/containerd-1.6"), "{err}");
}

#[test]
fn an_unknown_namespace_is_said_and_lists_nothing() {
    let o = coldctr(
        &fixture("containerd-1.6"),
        &["-n", "nope", "images", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        serde_json::from_slice::<Value>(&o.stdout).unwrap(),
        serde_json::json!([])
    );
    let err = stderr(&o);
    assert!(err.contains("nope") && err.contains("default, k8s.io, moby"), "{err}");
}

#[test]
fn lease_resources_and_label_order() {
    let leases = json("containerd-1.6", Some("default"), &["leases"]);
    let ids: Vec<String> = leases.iter().map(|l| str_of(l, "id")).collect();
    assert_eq!(ids, ["lab-lease", "short-lease"]);
    let lab = &leases[0];
    assert_eq!(lab["resources"]["content"].as_array().unwrap().len(), 2);
    let labels: BTreeMap<String, String> = serde_json::from_value(lab["labels"].clone()).unwrap();
    assert_eq!(labels.get("owner").map(String::as_str), Some("lab"));
}

#[test]
fn images_docker_size_is_what_docker_inspect_printed() {
    // Every captured default-API inspect of docker-28.5 gives an image ID and its Size.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/expected/docker-28.5");
    let index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let mut want = std::collections::BTreeMap::new();
    for case in index["inspect"].as_array().unwrap() {
        if case["expected_exit_code"] != 0 || case["platform"] != Value::Null || case["api_version"] != "default" {
            continue;
        }
        let out: Value =
            serde_json::from_slice(&std::fs::read(dir.join(case["expected_stdout_file"].as_str().unwrap())).unwrap())
                .unwrap_or(Value::Null);
        for o in out.as_array().into_iter().flatten() {
            want.insert(o["Id"].as_str().unwrap().to_string(), o["Size"].as_i64().unwrap());
        }
    }
    assert!(want.len() >= 10, "{want:?}");
    // The capture was made on an amd64 host.
    let images = json(
        "docker-28.5",
        Some("moby"),
        &["--host-platform", "linux/amd64", "images", "--all"],
    );
    let mut compared = 0;
    for i in &images {
        let id = i["target"]["digest"].as_str().unwrap();
        if let Some(size) = want.get(id) {
            assert_eq!(
                i["sizes"]["dockerInspect"]["size"].as_i64(),
                Some(*size),
                "{}",
                str_of(i, "name")
            );
            compared += 1;
        }
    }
    assert!(compared >= 10, "only {compared} images compared");
}

/// Whether a layer is present in `images`' content check: a blob file that is a symlink, a
/// FIFO or a directory is not, whether the listing asks about every blob (all images: one
/// read of the blobs directory, used once it is there) or about one image's (a lookup by
/// name). The listing itself is held to this in `blob_dirs`' own test.
#[test]
fn images_counts_only_regular_blob_files_present_both_ways() {
    let (dir, root, blobs) = copied_fixture("docker-28.5");
    let layers = |image: &Value| -> Vec<String> {
        let amd64 = image["platforms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["platform"] == "linux/amd64")
            .unwrap();
        amd64["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| str_of(l, "digest"))
            .collect()
    };
    let one = |name: &str| -> Value {
        let o = coldctr(
            &root,
            &["--host-platform", "linux/amd64", "images", "--format", "json", name],
        );
        let rows: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(rows.len(), 1, "{name}: {}", stderr(&o));
        rows[0].clone()
    };
    let picked = ["lab/special:1.0", "dlist:1"];
    let mut victims = Vec::new();
    for name in picked {
        let image = one(name);
        assert_eq!(image["sizes"]["content"]["status"], "complete", "{name}");
        victims.push(layers(&image)[0].clone());
    }
    // One layer becomes a symlink to its own bytes elsewhere, the other a FIFO.
    let hex = |d: &str| d.trim_start_matches("sha256:").to_string();
    let target = dir.path().join("elsewhere");
    move_behind_symlink(&blobs.join(hex(&victims[0])), &target);
    std::fs::remove_file(blobs.join(hex(&victims[1]))).unwrap();
    let fifo = std::ffi::CString::new(blobs.join(hex(&victims[1])).into_os_string().into_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);

    let all = coldctr(&root, &["--host-platform", "linux/amd64", "images", "--format", "json"]);
    let all: Vec<Value> = serde_json::from_slice(&all.stdout).unwrap();
    for (name, victim) in picked.iter().zip(&victims) {
        let alone = one(name);
        let listed = all.iter().find(|r| str_of(r, "name").ends_with(name)).unwrap();
        for row in [&alone, listed] {
            let content = &row["sizes"]["content"];
            assert_eq!(content["status"], "incomplete", "{name}: {content}");
            let missing: Vec<String> = content["missing"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().map_or_else(|| str_of(m, "digest"), str::to_string))
                .collect();
            assert!(
                missing.iter().any(|m| m == victim),
                "{name}: {victim} not missing in {content}"
            );
        }
        assert_eq!(alone["sizes"], listed["sizes"], "{name}: the two ways disagree");
    }
}

/// A content record `images` needs whose bucket does not read (its header names a page past the
/// end of the file) is damage, said with the page, and exit 3, as `content` says it: not a
/// silent smaller CONTENT. The copy is of tests/data/emptied-namespace (a real containerd
/// 1.6.20 root); the layer is found from the blobs themselves.
#[test]
fn an_unreadable_content_record_is_damage_in_images() {
    let data = repo().join("tests/data/emptied-namespace");
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    for dir in [
        "io.containerd.metadata.v1.bolt",
        "io.containerd.content.v1.content/blobs/sha256",
    ] {
        std::fs::create_dir_all(root.join(dir)).expect("mkdir");
        for e in std::fs::read_dir(data.join("root").join(dir)).expect("ls") {
            let e = e.expect("entry");
            std::fs::copy(e.path(), root.join(dir).join(e.file_name())).expect("copy");
        }
    }
    let blob = |digest: &str| -> Value {
        let path = root
            .join("io.containerd.content.v1.content/blobs/sha256")
            .join(&digest[7..]);
        serde_json::from_slice(&std::fs::read(path).expect("blob")).expect("json")
    };
    // ctr images ls names the index; its one manifest names the layer.
    let listed = std::fs::read_to_string(data.join("ctr-images-ls-default.txt")).expect("ctr");
    let index = listed
        .lines()
        .find(|l| l.starts_with("docker.io/lab/emptied:1 "))
        .and_then(|l| l.split_whitespace().nth(2))
        .expect("the index digest");
    let manifest = blob(blob(index)["manifests"][0]["digest"].as_str().unwrap());
    let layer = manifest["layers"][0]["digest"].as_str().unwrap().to_string();

    // Every leaf element keyed by the layer's digest that is a bucket (its content record, in
    // each namespace): its header's root page is set far past the end.
    let db = root.join("io.containerd.metadata.v1.bolt/meta.db");
    let mut bytes = std::fs::read(&db).expect("meta.db");
    let ps = 4096;
    let far: u64 = 1_000_000_000_000;
    let mut patched = 0;
    for p in 2..bytes.len() / ps {
        let page = p * ps;
        let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
        let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
        if u16_at(&bytes, page + 8) != 0x02 {
            continue;
        }
        for i in 0..u16_at(&bytes, page + 10) {
            let elem = page + 16 + 16 * i;
            let (flags, pos, ksize) = (u32_at(&bytes, elem), u32_at(&bytes, elem + 4), u32_at(&bytes, elem + 8));
            let key = elem + pos;
            if flags & 1 == 1 && bytes.get(key..key + ksize) == Some(layer.as_bytes()) {
                bytes[key + ksize..key + ksize + 8].copy_from_slice(&far.to_le_bytes());
                patched += 1;
            }
        }
    }
    assert!(patched >= 1, "the layer's content record");
    std::fs::write(&db, &bytes).expect("write");

    let o = coldctr(&root, &["-n", "default", "images"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.lines()
            .any(|l| l.contains(&layer) && l.contains(&format!("page {far}"))),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("lab/emptied:1"));
}

/// A snapshot's labels are the backend snapshot's with meta.db's laid over them, as
/// containerd's `Stat` merges them (tests/data/snapshot-backend-labels: a backend label meta.db
/// lacks, and one both hold with different values); the label filter sees the merged set.
#[test]
fn snapshot_labels_merge_the_backends_as_ctr_shows_them() {
    let data = repo().join("tests/data/snapshot-backend-labels");
    let ctr: Value =
        serde_json::from_slice(&std::fs::read(data.join("ctr-snapshots-info-c1.json")).expect("ctr")).expect("json");
    let root = data.join("root");
    let o = coldctr(&root, &["-n", "ns1", "snapshots", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Vec<Value> = serde_json::from_slice(&o.stdout).expect("json");
    let c1 = rows.iter().find(|r| r["key"] == "c1").expect("c1");
    assert_eq!(c1["labels"], ctr["Labels"]);
    let q = coldctr(
        &root,
        &["-n", "ns1", "snapshots", "-q", "-f", "label=containerd.io/snapshot/x"],
    );
    assert_eq!(String::from_utf8_lossy(&q.stdout), "c1\n", "{}", stderr(&q));
}

/// Sweep 34.7: on a dockerd 20.10 node, `--root <docker>/containerd/daemon` holds no image
/// records (dockerd keeps its images in its graph-driver store), and `images` printed an empty
/// table with nothing said. It now names that store; a root with no such store says nothing.
#[test]
fn images_on_a_graph_driver_nodes_containerd_name_dockers_image_store() {
    let dir = tempfile::tempdir().unwrap();
    let docker = dir.path().join("docker");
    let bolt = docker.join("containerd/daemon/io.containerd.metadata.v1.bolt");
    std::fs::create_dir_all(&bolt).unwrap();
    std::fs::copy(
        repo().join("tests/data/emptied-namespace/root/io.containerd.metadata.v1.bolt/meta.db"),
        bolt.join("meta.db"),
    )
    .unwrap();
    // The content store too (meta.db names blobs, and a root without one is damage).
    let status = Command::new("cp")
        .arg("-a")
        .arg(repo().join("tests/data/emptied-namespace/root/io.containerd.content.v1.content"))
        .arg(docker.join("containerd/daemon"))
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::create_dir_all(docker.join("containers")).unwrap();
    let root = docker.join("containerd/daemon");
    let quiet = coldctr(&root, &["-n", "ns2", "images"]);
    assert_eq!(quiet.status.code(), Some(0), "{}", stderr(&quiet));
    assert_eq!(stderr(&quiet), "");
    std::fs::create_dir_all(docker.join("image/overlay2")).unwrap();
    std::fs::write(
        docker.join("image/overlay2/repositories.json"),
        r#"{"Repositories":{}}"#,
    )
    .unwrap();
    let said = coldctr(&root, &["-n", "ns2", "images"]);
    assert_eq!(said.status.code(), Some(0), "{}", stderr(&said));
    assert!(
        stderr(&said).contains("graph-driver store (")
            && stderr(&said).contains("/docker/image/overlay2/repositories.json)"),
        "{}",
        stderr(&said)
    );
}
