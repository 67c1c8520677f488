//! `--salvage`: the commands read the records carved from meta.db's pages. On an intact file
//! the view is the tree (every listing the same); on wrecked copies of a real containerd 1.6
//! meta.db (root, v1, branch pages, the upper half, both meta pages zeroed) every record the
//! carver finds a name for on a surviving page is listed, as the intact file has it; deleted
//! records come back with `--salvage-deleted` and `images --deleted` (the gc scenario's image
//! deleted with bbolt's DeleteBucket, and what containerd 1.6's own collection removed).

mod gcdu_support;

use coldctr::bolt::{Db, MetaChoice, ReadMode};
use gcdu_support::{fixture, fixture_copy, repo, scenario_copy};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

const META: &str = "io.containerd.metadata.v1.bolt/meta.db";
const UNKNOWN: &str = "(unknown)";
/// containerd 1.6 (freelist kept), 1.7 (NoFreelistSync) and dockerd 28.5's containerd.
const FIXTURES: [&str; 3] = ["containerd-1.6", "containerd-1.7", "docker-28.5"];

fn coldctr(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("COLDCTR_ROOT")
        .env_remove("COLDCTR_DOCKER_ROOT")
        .output()
        .expect("run coldctr")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(o)))
}

fn rows(o: &Output) -> Vec<Value> {
    json(o).as_array().cloned().unwrap_or_else(|| panic!("{}", stderr(o)))
}

#[test]
fn an_intact_file_lists_exactly_what_its_tree_lists() {
    for f in ["containerd-1.6", "containerd-1.7", "docker-28.5"] {
        let root = fixture(f);
        for cmd in [
            &["images", "-a", "--format", "json"][..],
            &["content", "--format", "json"],
            &["namespaces", "--format", "json"],
            &["leases", "--format", "json"],
            &["containers", "--format", "json"],
            &["snapshots", "--format", "json"],
            &["verify", "--format", "json"],
        ] {
            let live = coldctr(&root, cmd);
            let mut args = vec!["--salvage"];
            args.extend_from_slice(cmd);
            let view = coldctr(&root, &args);
            assert_eq!(view.status.code(), live.status.code(), "{f} {cmd:?}: {}", stderr(&view));
            let (mut a, mut b) = (json(&live), json(&view));
            if cmd[0] == "verify" {
                // When it ran.
                for v in [&mut a, &mut b] {
                    if let Some(o) = v.as_object_mut() {
                        o.remove("checked");
                    }
                }
            }
            assert_eq!(a, b, "{f} {cmd:?}");
            let err = stderr(&view);
            assert!(
                err.contains("coldctr: salvage: ") && err.contains("pages scanned"),
                "{f}: {err}"
            );
            assert!(!err.contains("damage"), "{f}: {err}");
        }
        assert!(rows(&coldctr(&root, &["--salvage", "images", "--format", "json"])).len() > 5);
    }
}

/// Records by (kind, namespace, name).
type Records = BTreeMap<(String, String, String), Value>;

/// Image and content records of a listing by (namespace, name), each with the fields its
/// record holds (not what is derived from other records).
fn records(images: &[Value], content: &[Value]) -> Records {
    let pick = |v: &Value, keys: &[&str]| {
        let mut m = serde_json::Map::new();
        for k in keys {
            m.insert(k.to_string(), v[*k].clone());
        }
        Value::Object(m)
    };
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let mut out = BTreeMap::new();
    for i in images {
        out.insert(
            ("image".into(), s(&i["namespace"]), s(&i["name"])),
            pick(i, &["target", "createdAt", "updatedAt", "labels"]),
        );
    }
    for c in content {
        out.insert(
            ("content".into(), s(&c["namespace"]), s(&c["digest"])),
            pick(c, &["size", "createdAt", "updatedAt", "labels"]),
        );
    }
    out
}

fn listing(root: &Path, salvage: bool) -> (Records, String, Option<i32>) {
    let pre: &[&str] = if salvage { &["--salvage"] } else { &[] };
    let i = coldctr(root, &[pre, &["images", "-a", "--format", "json"]].concat());
    let c = coldctr(root, &[pre, &["content", "--format", "json"]].concat());
    let code = i.status.code().max(c.status.code());
    (records(&rows(&i), &rows(&c)), stderr(&i), code)
}

/// Wrecks a copy of the containerd 1.6 fixture with `zero` (on meta.db's bytes) and checks the
/// salvage view against the intact file: what it lists is the intact file's (same fields, same
/// namespace unless it is `(unknown)`); every record the carver finds a name for on a page
/// that was not zeroed is listed; the nameless ones are in the report. Returns the view's
/// records and the intact ones.
fn wrecked(fixture: &str, zero: impl Fn(&mut Vec<u8>, &Db)) -> (Records, Records, String) {
    let (_tmp, root) = fixture_copy(fixture);
    let db_path = root.join(META);
    let (intact, _, _) = listing(&root, false);
    assert!(intact.len() > 30, "{fixture}");
    let mut bytes = std::fs::read(&db_path).expect("read");
    {
        let db = Db::open(&db_path, ReadMode::Read).expect("open");
        zero(&mut bytes, &db);
    }
    std::fs::write(&db_path, &bytes).expect("write");
    let (view, err, code) = listing(&root, true);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("coldctr: salvage: ") && err.contains("damage"), "{err}");
    // Nothing that never existed, each as the intact file has it.
    for ((kind, ns, name), fields) in &view {
        // Without its namespace: one of the intact records of that kind and name (an image
        // can be in several namespaces).
        let same: Vec<&Value> = intact
            .iter()
            .filter(|((k, n_s, n), _)| k == kind && n == name && (ns == UNKNOWN || n_s == ns))
            .map(|(_, v)| v)
            .collect();
        assert!(
            same.contains(&fields),
            "{kind} {ns}/{name}: {fields} not in {same:?}: {err}"
        );
    }
    // Every record named on a page that survives.
    let carved = coldctr(&db_path, &["recover", "--format", "json"]);
    let carved = json(&carved)["records"].as_array().cloned().expect("records");
    let page_intact = |p: u64| {
        bytes
            .get(p as usize * 4096..(p as usize + 1) * 4096)
            .is_some_and(|b| b.iter().any(|&x| x != 0))
    };
    let mut nameless = 0;
    for r in carved.iter().filter(|r| r["kind"] == "image" || r["kind"] == "content") {
        assert!(page_intact(r["page"].as_u64().expect("page")));
        let kind = r["kind"].as_str().unwrap_or_default().to_string();
        let Some(name) = r["name"].as_str() else {
            nameless += 1;
            continue;
        };
        let listed = view.keys().any(|(k, ns, n)| {
            *k == kind && n == name && (r["namespace"].is_null() || r["namespace"].as_str() == Some(ns.as_str()))
        });
        // Dangling (`moby-dangling@`) records are listed with -a; none is left out.
        assert!(listed, "{kind} {name} carved but not listed: {err}");
    }
    if nameless > 0 {
        assert!(err.contains("without a name, not placed"), "{err}");
    }
    (view, intact, err)
}

/// Every record of the intact file is listed: in its namespace, or under `(unknown)` when the
/// pages naming its namespace are gone (a zeroed page here holds names, never a record).
fn all_there(fixture: &str, view: &Records, intact: &Records) -> usize {
    for (kind, ns, name) in intact.keys() {
        assert!(
            view.keys()
                .any(|(k, n_s, n)| k == kind && n == name && (n_s == ns || n_s == UNKNOWN)),
            "{fixture}: {kind} {ns}/{name} not listed"
        );
    }
    view.keys().filter(|k| k.1 == UNKNOWN).count()
}

fn zero_page(bytes: &mut [u8], p: usize) {
    assert!(p > 1);
    bytes[p * 4096..(p + 1) * 4096].fill(0);
}

#[test]
fn wrecked_root_page() {
    for fixture in FIXTURES {
        let (view, intact, _) = wrecked(fixture, |bytes, db| {
            let root = db.view(MetaChoice::Current).expect("view").meta().root as usize;
            zero_page(bytes, root);
        });
        // The previous transaction's root page, or else the stale pages holding only `v1`,
        // name every namespace again.
        all_there(fixture, &view, &intact);
        assert_eq!(view, intact, "{fixture}");
    }
}

#[test]
fn wrecked_v1_root_page() {
    for fixture in FIXTURES {
        let (view, intact, _) = wrecked(fixture, |bytes, db| {
            let tx = db.view(MetaChoice::Current).expect("view");
            let v1 = tx.bucket_at(&[b"v1"]).expect("v1").expect("v1 bucket");
            zero_page(bytes, v1.root_page() as usize);
        });
        let unknown = all_there(fixture, &view, &intact);
        // containerd 1.6's previous transaction kept a `v1` page naming the namespaces; in the
        // 1.7 and docker files no page with the namespaces' names survives.
        if fixture == "containerd-1.6" {
            assert_eq!(view, intact);
        } else {
            assert!(unknown > 0, "{fixture}");
        }
    }
}

#[test]
fn wrecked_branch_page() {
    for fixture in FIXTURES {
        let (view, intact, _) = wrecked(fixture, |bytes, db| {
            let tx = db.view(MetaChoice::Current).expect("view");
            let reachable = coldctr::bolt::check::usage(&tx).reachable;
            let branch = coldctr::bolt::pages::list(&tx)
                .into_iter()
                .find(|r| r.kind == "branch" && reachable.contains_key(&r.id))
                .expect("a branch page in the current tree")
                .id as usize;
            zero_page(bytes, branch);
        });
        all_there(fixture, &view, &intact);
        if fixture == "containerd-1.6" {
            assert_eq!(view, intact);
        }
    }
}

/// A leaf page whose header's id alone is wrong (bbolt#705, "page N: expected to be X"): bbolt
/// 1.3.6 reads it and containerd 1.6.20 listed every image, while coldctr's tree reader, as
/// bbolt 1.3.7+, refuses it. The salvage view takes the page at its position, as the parent's
/// pointer means it, and says so: the moby images are listed with their names (none were).
#[test]
fn a_page_whose_header_names_another_page_is_taken_at_its_position() {
    let page = std::cell::Cell::new(0u64);
    let (view, intact, err) = wrecked("containerd-1.6", |bytes, db| {
        let tx = db.view(MetaChoice::Current).expect("view");
        let images = tx
            .bucket_at(&[&b"v1"[..], b"moby", b"images"])
            .expect("read")
            .expect("bucket");
        let p = images.root_page();
        page.set(p);
        let at = p as usize * 4096;
        bytes[at..at + 8].copy_from_slice(&(p + 1).to_le_bytes());
    });
    assert_eq!(view, intact);
    let p = page.get();
    let note = format!(
        "page {p} (offset {}): its header says it is page {}; carved as the page at its position",
        p * 4096,
        p + 1
    );
    assert!(err.contains(&note), "{note}: {err}");
}

#[test]
fn wrecked_meta_pages() {
    for fixture in FIXTURES {
        // No meta page: the root bucket's pages are the ones holding only `v1`, and every
        // namespace is named from them.
        let (view, intact, err) = wrecked(fixture, |bytes, _| bytes[..2 * 4096].fill(0));
        assert!(err.contains("no valid meta page"), "{err}");
        all_there(fixture, &view, &intact);
        assert_eq!(view, intact, "{fixture}");
    }
}

#[test]
fn wrecked_upper_half_of_the_pages() {
    let (view, intact, err) = wrecked("containerd-1.6", |bytes, db| {
        let hwm = db.view(MetaChoice::Current).expect("view").hwm() as usize;
        bytes[hwm / 2 * 4096..hwm * 4096].fill(0);
    });
    // The namespace buckets were on the upper pages: what is named is under (unknown).
    let images: Vec<_> = view.keys().filter(|k| k.0 == "image").collect();
    assert!(images.len() >= 10, "{images:?}");
    assert!(view.keys().all(|k| k.1 == UNKNOWN), "{view:?}");
    assert!(view.len() < intact.len());
    assert!(err.contains("namespace lost (placed under (unknown))"), "{err}");
}

/// The gc scenario's image record `default/ghcr.io/example/tool:v1`, removed by gen.go with
/// bbolt's DeleteBucket in the last transaction: carved from page 107, which the previous
/// meta's tree still reaches.
#[test]
fn images_deleted_lists_the_deleted_image_with_its_blobs() {
    let (_tmp, root) = scenario_copy();
    let name = "ghcr.io/example/tool:v1";
    let manifest = "sha256:7ec6b7cb452a59df7959d856c1f2aa0310d235c71b69749f678473f4b37b2f4d".to_string();
    let o = coldctr(&root, &["images", "--deleted", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let listed = rows(&o);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let d = &listed[0];
    assert_eq!(
        (d["namespace"].as_str(), d["name"].as_str()),
        (Some("default"), Some(name))
    );
    assert_eq!(d["target"]["digest"], manifest.as_str());
    assert_eq!(d["deleted"]["page"], 107);
    assert_eq!(d["deleted"]["inPrevious"], true);
    assert_eq!(d["sizes"]["content"]["status"], "complete");
    // The table says the same.
    let o = coldctr(&root, &["images", "--deleted"]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let line = text.lines().nth(1).expect("a row");
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cells[..6],
        ["default", name, "7ec6b7cb452a", "107", "has", "it"],
        "{text}"
    );
    assert!(line.contains(" present "), "{text}");

    // Not in the tree, not in the salvage view; back with --salvage-deleted.
    let o = coldctr(&root, &["-n", "default", "inspect", name]);
    assert_eq!(o.status.code(), Some(1));
    let o = coldctr(&root, &["--salvage", "images", "--format", "json"]);
    assert!(
        !rows(&o)
            .iter()
            .any(|i| i["name"] == name && i["namespace"] == "default")
    );
    assert!(stderr(&o).contains("deleted records left out (--salvage-deleted includes them): 1 image"));
    let o = coldctr(&root, &["--salvage-deleted", "-n", "default", "inspect", name]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)[0]["Id"], manifest.as_str());
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("tool.tar");
    let o = coldctr(
        &root,
        &[
            "--salvage-deleted",
            "-n",
            "default",
            "export",
            "-o",
            out.to_str().expect("utf-8"),
            name,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let tar = Command::new("tar").arg("tf").arg(&out).output().expect("tar");
    let members = String::from_utf8_lossy(&tar.stdout).into_owned();
    assert!(
        members.contains(&format!("blobs/sha256/{}", &manifest[7..])),
        "{members}"
    );

    // --previous: the previous transaction still had it, so it is live there.
    let o = coldctr(
        &root,
        &["--previous", "--salvage", "-n", "default", "images", "--format", "json"],
    );
    let prev = coldctr(&root, &["--previous", "-n", "default", "images", "--format", "json"]);
    assert_eq!(json(&o), json(&prev));
    assert!(rows(&o).iter().any(|i| i["name"] == name));

    // Its blobs going: a layer (partial), then the manifest (gone).
    let layer = "3a5852ec7baa16a0e1d56efd63f1e8846d08e40bc0b835476a1261d396e72034";
    std::fs::remove_file(gcdu_support::blob_path(&root, &format!("sha256:{layer}"))).expect("rm layer");
    let o = coldctr(&root, &["images", "--deleted", "--format", "json"]);
    let d = &rows(&o)[0];
    assert_eq!(d["sizes"]["content"]["status"], "incomplete");
    assert_eq!(
        d["sizes"]["content"]["missing"],
        serde_json::json!([format!("sha256:{layer}")])
    );
    let text = String::from_utf8_lossy(&coldctr(&root, &["images", "--deleted"]).stdout).into_owned();
    assert!(text.contains("partial(1 missing)"), "{text}");
    std::fs::remove_file(gcdu_support::blob_path(&root, &manifest)).expect("rm manifest");
    let text = String::from_utf8_lossy(&coldctr(&root, &["images", "--deleted"]).stdout).into_owned();
    assert!(text.lines().nth(1).is_some_and(|l| l.contains(" gone")), "{text}");
}

/// `after-gc-2026-12-01.meta.db`: containerd 1.6's own collection (`gc-2026-12-01.json`)
/// removed records of `scen`; those whose pages no later commit reused come back with
/// --salvage-deleted, and nothing else does.
#[test]
fn what_containerds_collection_removed_comes_back_with_salvage_deleted() {
    let (_tmp, root) = scenario_copy();
    std::fs::copy(
        repo().join("tests/data/gc-scenario/after-gc-2026-12-01.meta.db"),
        root.join(META),
    )
    .expect("copy");
    let gc = gcdu_support::scenario_reference("gc-2026-12-01.json");
    let scen = gc["namespaces"]
        .as_array()
        .and_then(|a| a.iter().find(|n| n["namespace"] == "scen"))
        .cloned()
        .expect("scen");
    let removed: BTreeSet<String> = scen["removed"]["content"]
        .as_array()
        .expect("content")
        .iter()
        .filter_map(|c| c["digest"].as_str().map(str::to_string))
        .collect();
    assert_eq!(removed.len(), 4);
    let live = coldctr(&root, &["-n", "scen", "content", "--format", "json"]);
    let salvaged = coldctr(&root, &["--salvage", "-n", "scen", "content", "--format", "json"]);
    assert_eq!(json(&live), json(&salvaged));
    assert!(stderr(&salvaged).contains("deleted records left out (--salvage-deleted includes them): 4 content"));
    let back = coldctr(
        &root,
        &["--salvage-deleted", "-n", "scen", "content", "--format", "json"],
    );
    let digests = |o: &Output| -> BTreeSet<String> {
        rows(o)
            .iter()
            .filter_map(|c| c["digest"].as_str().map(str::to_string))
            .collect()
    };
    let added: BTreeSet<String> = digests(&back).difference(&digests(&live)).cloned().collect();
    assert_eq!(added, removed);
    // Their sizes as the collection's report gives them.
    for c in scen["removed"]["content"].as_array().expect("content") {
        let row = rows(&back)
            .into_iter()
            .find(|r| r["digest"] == c["digest"])
            .expect("row");
        assert_eq!(row["size"], c["size"]);
    }
    // Their namespace's pages were reused: each is placed by the records beside it on its
    // parent's page (the scen records the collection kept), and the report says so.
    assert!(
        stderr(&back).contains("taken from the records beside them on their parent page"),
        "{}",
        stderr(&back)
    );
    let o = coldctr(&root, &["--salvage-deleted", "leases", "--format", "json"]);
    let lease = rows(&o)
        .into_iter()
        .find(|l| l["id"] == "exp-snap-lease")
        .expect("lease");
    assert_eq!(lease["namespace"], "scen");
    assert_eq!(lease["createdAt"], "2026-11-28T00:00:00Z");
    let keys = |o: &Output| -> BTreeSet<String> {
        rows(o)
            .iter()
            .filter(|r| r["namespace"] == "scen")
            .filter_map(|r| r["key"].as_str().map(str::to_string))
            .collect()
    };
    let live = coldctr(&root, &["snapshots", "--format", "json"]);
    let back = coldctr(&root, &["--salvage-deleted", "snapshots", "--format", "json"]);
    let added: BTreeSet<String> = keys(&back).difference(&keys(&live)).cloned().collect();
    let removed: BTreeSet<String> = scen["removed"]["snapshots"]
        .as_array()
        .expect("snapshots")
        .iter()
        .filter_map(|s| s["key"].as_str().map(str::to_string))
        .collect();
    // Every snapshot the collection removed (s-lone, s-old, s-top) survives on a page no
    // later commit reused.
    assert_eq!(added, removed);
    // The image record gen.go deleted before the collection: its page was reused since.
    let o = coldctr(&root, &["images", "--deleted", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(rows(&o), Vec::<Value>::new());
}

#[test]
fn salvage_is_refused_where_it_means_nothing() {
    let layout = repo().join("fixtures/oci-dev/layouts");
    let first = std::fs::read_dir(&layout)
        .expect("layouts")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.join("index.json").is_file())
        .expect("a layout");
    let o = coldctr(&first, &["--salvage", "images"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--salvage carves a containerd meta.db"));
    // export's own meaning (write what exists) still holds there: nothing to carve.
    let name = String::from_utf8_lossy(&coldctr(&first, &["images", "-q"]).stdout)
        .lines()
        .find(|l| !l.starts_with('@'))
        .map(str::to_string)
        .expect("a named image");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.tar");
    let o = coldctr(
        &first,
        &["export", "--salvage", "-o", out.to_str().expect("utf-8"), &name],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.is_file());
    let root = fixture("containerd-1.6");
    for args in [
        &["--salvage", "recover"][..],
        &["--salvage", "meta-diff"],
        &["--salvage-deleted", "recover"],
    ] {
        let o = coldctr(&root, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let o = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .args(["bolt", "--salvage", "info"])
        .arg(root.join(META))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn ps_reads_the_view_too() {
    let root = fixture("containerd-1.6");
    let live = coldctr(&root, &["ps", "-a", "--format", "json"]);
    let view = coldctr(&root, &["--salvage", "ps", "-a", "--format", "json"]);
    assert_eq!(live.stdout, view.stdout);
    assert_eq!(live.status.code(), view.status.code());
    assert!(stderr(&view).contains("coldctr: salvage: "));
}

/// A record whose sub-bucket's page is destroyed is placed without it and reported partial.
#[test]
fn a_record_missing_a_sub_bucket_page_is_partial() {
    let mut found = None;
    for f in FIXTURES {
        let db = Db::open(fixture(f).join(META), ReadMode::Read).expect("open");
        let tx = db.view(MetaChoice::Current).expect("view");
        let v1 = tx.bucket_at(&[b"v1"]).expect("v1").expect("v1");
        for ns in ["moby", "default", "k8s.io"] {
            let Ok(Some(leases)) = v1.bucket_at(&[ns.as_bytes(), b"leases"]) else {
                continue;
            };
            for item in leases.cursor() {
                let Ok(item) = item else { continue };
                let Ok(Some(lease)) = leases.bucket(item.key) else {
                    continue;
                };
                for sub in ["content", "snapshots", "labels"] {
                    if let Ok(Some(b)) = lease.bucket(sub.as_bytes())
                        && b.root_page() != 0
                        && found.is_none()
                    {
                        let id = String::from_utf8_lossy(item.key).into_owned();
                        found = Some((f, ns.to_string(), id, sub, b.root_page()));
                    }
                }
            }
        }
    }
    let (f, ns, id, sub, page) = found.expect("a lease with a sub-bucket on a page of its own");
    let (_tmp, root) = fixture_copy(f);
    let mut bytes = std::fs::read(root.join(META)).expect("read");
    zero_page(&mut bytes, page as usize);
    std::fs::write(root.join(META), &bytes).expect("write");
    let o = coldctr(&root, &["--salvage", "-n", &ns, "leases", "--format", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.lines().any(|l| l.contains("salvage: partial: lease ")
            && l.contains(&format!("{ns}/{id}"))
            && l.contains(&format!("/{sub}: page {page} is not a readable node"))),
        "{err}"
    );
    assert!(rows(&o).iter().any(|l| l["id"] == id.as_str()), "{}", err);
}

/// What the listings captured while the stores were live said existed, per
/// `tests/data/deleted-*` (ctr's tables for deleted-1.6, the stores' JSON for
/// deleted-nofreelist): (kind, namespace, name), a snapshot named `overlayfs/<key>`.
fn captured(fixture: &str, when: &str) -> BTreeSet<(String, String, String)> {
    let dir = repo().join("tests/data").join(fixture);
    let kinds = [
        ("image", "images"),
        ("content", "content"),
        ("lease", "leases"),
        ("container", "containers"),
        ("snapshot", "snapshots"),
    ];
    let mut out = BTreeSet::new();
    let mut add = |kind: &str, ns: &str, name: &str| {
        let name = if kind == "snapshot" {
            format!("overlayfs/{name}")
        } else {
            name.to_string()
        };
        out.insert((kind.to_string(), ns.to_string(), name));
    };
    let json = dir.join(format!("{when}.json"));
    if json.is_file() {
        let v = gcdu_support::read_json(&json);
        for (ns, lists) in v.as_object().expect("namespaces") {
            for (kind, field) in kinds {
                for name in lists[field].as_array().expect("list") {
                    add(kind, ns, name.as_str().expect("name"));
                }
            }
        }
        return out;
    }
    let first_column = |file: &str| -> Vec<String> {
        let text = std::fs::read_to_string(dir.join(when).join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        text.lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    };
    for ns in first_column("namespaces.txt") {
        for (kind, file) in kinds {
            for name in first_column(&format!("{ns}-{file}.txt")) {
                add(kind, &ns, &name);
            }
        }
    }
    out
}

/// Records deleted through containerd itself (a real 1.6 daemon; the stores on a
/// NoFreelistSync file as 1.7/2.x open it): what `--salvage-deleted` adds to each listing and
/// what `images --deleted` lists are records that existed before the deletions and not after,
/// in their namespace or under `(unknown)`; without `--salvage-deleted` the view is the tree.
#[test]
fn salvage_deleted_on_containerds_own_deletions() {
    for fixture in ["deleted-1.6", "deleted-nofreelist"] {
        let root = repo().join("tests/data").join(fixture).join("root");
        let (before, after) = (captured(fixture, "before"), captured(fixture, "after"));
        let deleted: BTreeSet<_> = before.difference(&after).cloned().collect();
        assert!(deleted.len() > 10, "{fixture}: {deleted:?}");
        let was_deleted = |kind: &str, ns: &str, name: &str| {
            deleted.iter().any(|(k, n_s, n)| {
                k == kind
                    && (n_s == ns || ns == UNKNOWN)
                    && (n == name
                        || (kind == "snapshot"
                            && n.rsplit_once('/').map(|(_, key)| key) == name.rsplit_once('/').map(|(_, key)| key)))
            })
        };
        let mut brought_back = 0;
        for (cmd, kind, id) in [
            ("images", "image", "name"),
            ("content", "content", "digest"),
            ("leases", "lease", "id"),
            ("containers", "container", "id"),
            ("snapshots", "snapshot", "key"),
        ] {
            let name_of = |r: &Value| -> (String, String) {
                let ns = r["namespace"].as_str().unwrap_or_default().to_string();
                let name = r[id].as_str().unwrap_or_default();
                let name = if kind == "snapshot" {
                    format!("{}/{name}", r["snapshotter"].as_str().unwrap_or_default())
                } else {
                    name.to_string()
                };
                (ns, name)
            };
            let live = coldctr(&root, &[cmd, "--format", "json"]);
            let view = coldctr(&root, &["--salvage", cmd, "--format", "json"]);
            assert_eq!(json(&live), json(&view), "{fixture} {cmd}");
            let live: BTreeSet<_> = rows(&live).iter().map(name_of).collect();
            let back = coldctr(&root, &["--salvage-deleted", cmd, "--format", "json"]);
            for (ns, name) in rows(&back).iter().map(name_of).filter(|k| !live.contains(k)) {
                assert!(
                    was_deleted(kind, &ns, &name),
                    "{fixture}: {kind} {ns}/{name} never existed"
                );
                brought_back += 1;
            }
        }
        // Each fixture's README: 9 of the 28 deleted records survive on a page (deleted-1.6:
        // multi's four content records, lease-expire, app:debug's three content records, a
        // snapshot; nofreelist: multi's four, lease-expire, lease-second, c-second, two of
        // app:debug's): every one comes back, once.
        assert_eq!(brought_back, 9, "{fixture}");
        // No deleted image record survives on a page in either file.
        let o = coldctr(&root, &["images", "--deleted", "--format", "json"]);
        for r in rows(&o) {
            let (ns, name) = (
                r["namespace"].as_str().unwrap_or_default(),
                r["name"].as_str().unwrap_or_default(),
            );
            assert!(was_deleted("image", ns, name), "{fixture}: image {ns}/{name}");
        }
    }
}

/// With both meta pages gone, a command that reads the tree says so (exit 3: damage, for
/// `ps` too, where it once said 4 as for a file it could not read), and tells a stranger what
/// can still read the file: `recover`, and `--salvage`, which then lists the records.
#[test]
fn no_meta_page_points_at_recover_and_salvage() {
    let (_tmp, root) = fixture_copy("docker-28.5");
    let meta = root.join(META);
    let mut bytes = std::fs::read(&meta).unwrap();
    bytes[..8192].fill(0);
    std::fs::write(&meta, &bytes).unwrap();
    for args in [&["images"][..], &["ps", "-a"], &["inspect", "lab/special:1.0"], &["du"]] {
        let o = coldctr(&root, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains("not a readable bbolt file"), "{args:?}: {err}");
        assert!(
            err.contains("`coldctr recover` carves them") && err.contains("`--salvage`"),
            "{args:?}: {err}"
        );
    }
    let o = coldctr(&root, &["--salvage", "images", "--format", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(!rows(&o).is_empty(), "--salvage lists the carved images");
}

/// `--salvage verify` on a file whose content records lost their namespace (the content
/// branch of an invalid page type): every blob it reached is intact, but it reached few, and
/// it said "OK: every blob is intact" (sweep 43). Its OK now says it covers what was checked.
#[test]
fn salvage_verify_says_its_ok_covers_what_the_damaged_records_reached() {
    let (_dir, root) = fixture_copy("docker-28.5");
    let db_path = root.join("io.containerd.metadata.v1.bolt/meta.db");
    let page = {
        let db = Db::open(&db_path, ReadMode::Mmap).unwrap();
        let tx = db.view(MetaChoice::Current).unwrap();
        let blobs = tx
            .bucket_at(&[b"v1".as_slice(), b"moby", b"content", b"blob"])
            .unwrap()
            .unwrap();
        blobs.root_page()
    };
    let mut bytes = std::fs::read(&db_path).unwrap();
    bytes[page as usize * 4096 + 8] = 0x20;
    std::fs::write(&db_path, &bytes).unwrap();
    let o = coldctr(&root, &["--salvage", "verify"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("OK for what was checked"), "{out}");
    assert!(!out.contains("OK: every blob is intact"), "{out}");
    // The sound fixture keeps its plain OK.
    let o = coldctr(&fixture("docker-28.5"), &["--salvage", "verify"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("OK: every blob is intact"));
}
