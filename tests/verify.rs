//! `coldctr verify`, run as a binary: against the reference implementation's output for
//! containerd 1.6 (`fixtures/expected/containerd-1.6/verify.json`), the damaged docker fixture
//! (`fixtures/expected/docker-28.5-damaged/damage.json`), and copies of fixtures damaged at run
//! time (deleted, truncated, flipped, replaced by a symlink out of the root, a FIFO, a
//! directory; a meta.db whose image target names an index as a manifest).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const CONTENT: &str = "io.containerd.content.v1.content";
const META: &str = "io.containerd.metadata.v1.bolt/meta.db";

fn fixture(fx: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(fx)
}

fn expected(path: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/expected")
        .join(path);
    serde_json::from_slice(&std::fs::read(&p).expect("read reference")).expect("reference JSON")
}

/// Runs coldctr, killing it if it takes more than 60 s (a blocked open would hang forever).
fn coldctr(root: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("COLDCTR_ROOT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run coldctr");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("coldctr {args:?} on {} did not finish", root.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// `verify --format json [extra]`: the exit code and the report.
fn verify(root: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["verify", "--format", "json"];
    args.extend(extra);
    let o = coldctr(root, &args);
    let report = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&o.stderr)));
    (o.status.code().unwrap_or(-1), report)
}

fn problems(report: &Value) -> Vec<&Value> {
    report["problems"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// digest -> status of every problem.
fn statuses(report: &Value) -> BTreeMap<String, String> {
    problems(report)
        .iter()
        .map(|p| {
            (
                p["digest"].as_str().unwrap_or("").to_string(),
                p["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn namespace<'a>(report: &'a Value, ns: &str) -> &'a Value {
    report["checked"]["namespaces"]
        .as_array()
        .and_then(|a| a.iter().find(|n| n["namespace"] == ns))
        .unwrap_or_else(|| panic!("namespace {ns} not in {}", report["checked"]))
}

#[test]
fn containerd16_agrees_with_the_reference() {
    let (code, report) = verify(&fixture("containerd-1.6"), &[]);
    assert_eq!(code, 3, "a missing blob is a problem");
    let reference = expected("containerd-1.6/verify.json");
    let reference = reference.as_array().expect("array");
    let names: Vec<&str> = reference.iter().filter_map(|r| r["namespace"].as_str()).collect();
    let ours: Vec<&str> = report["checked"]["namespaces"]
        .as_array()
        .expect("namespaces")
        .iter()
        .filter_map(|n| n["namespace"].as_str())
        .collect();
    assert_eq!(ours, names);
    let mut bad_total = 0;
    for r in reference {
        let ns = r["namespace"].as_str().expect("namespace");
        let n = namespace(&report, ns);
        assert_eq!(n["records"], r["checked"], "{ns}: records");
        assert_eq!(n["bytes"], r["bytes"], "{ns}: bytes");
        let bad = r["bad"].as_array().expect("bad");
        assert_eq!(n["problems"].as_u64(), Some(bad.len() as u64), "{ns}");
        for b in bad {
            let p = problems(&report)
                .into_iter()
                .find(|p| p["digest"] == b["digest"])
                .unwrap_or_else(|| panic!("{} not reported", b["digest"]));
            assert_eq!(p["status"], b["status"]);
            assert_eq!(p["size"], b["size"]);
            assert!(p["namespaces"].as_array().is_some_and(|a| a.contains(&Value::from(ns))));
        }
        bad_total += bad.len();
    }
    assert_eq!(problems(&report).len(), bad_total, "{}", report["problems"]);
    assert_eq!(report["findings"], Value::Array(vec![]));
    // The same with the layers decompressed: every intact layer matches its diff ID.
    let (code, layers) = verify(&fixture("containerd-1.6"), &["--layers"]);
    assert_eq!(code, 3);
    assert_eq!(statuses(&layers), statuses(&report));
    assert!(layers["checked"]["layers"].as_u64() > Some(10), "{}", layers["checked"]);
}

#[test]
fn damaged_docker_fixture_gives_exactly_the_damage() {
    let damage = expected("docker-28.5-damaged/damage.json");
    let want: BTreeMap<String, String> = damage["damage"]
        .as_array()
        .expect("damage")
        .iter()
        .map(|d| {
            let status = match d["kind"].as_str() {
                Some("layer-blob-deleted") => "missing",
                Some("config-truncated") => "size-mismatch",
                Some("layer-bit-flipped") => "digest-mismatch",
                other => panic!("unknown damage {other:?}"),
            };
            (d["digest"].as_str().unwrap_or("").to_string(), status.to_string())
        })
        .collect();
    for extra in [&[][..], &["--layers"][..]] {
        let (code, report) = verify(&fixture("docker-28.5-damaged"), extra);
        assert_eq!(code, 3, "{extra:?}");
        assert_eq!(statuses(&report), want, "{extra:?}");
        assert_eq!(report["findings"], Value::Array(vec![]));
        for d in damage["damage"].as_array().expect("damage") {
            let p = problems(&report)
                .into_iter()
                .find(|p| p["digest"] == d["digest"])
                .expect("reported");
            assert_eq!(p["namespaces"], serde_json::json!(["moby"]));
            match d["kind"].as_str() {
                Some("config-truncated") => {
                    assert_eq!(p["size"], d["recorded_size"]);
                    assert_eq!(p["expected"], d["recorded_size"]);
                    assert_eq!(p["found"], d["size_on_disk"]);
                }
                Some("layer-bit-flipped") => {
                    assert_eq!(p["expected"], d["digest"]);
                    assert_eq!(p["found"], d["sha256_on_disk"]);
                }
                _ => assert_eq!(p["size"], d["size"]),
            }
        }
    }
}

#[test]
fn intact_fixtures_are_clean_with_layers() {
    for fx in ["containerd-1.7", "docker-28.5"] {
        let (code, report) = verify(&fixture(fx), &["--layers"]);
        assert_eq!(code, 0, "{fx}: {report}");
        assert_eq!(report["problems"], Value::Array(vec![]), "{fx}");
        assert_eq!(report["findings"], Value::Array(vec![]), "{fx}");
        assert!(
            report["checked"]["layers"].as_u64() > Some(5),
            "{fx}: {}",
            report["checked"]
        );
        assert!(report["checked"]["documents"].as_u64() > Some(10), "{fx}");
        assert_eq!(report["checked"]["databases"], 2, "{fx}: meta.db and overlayfs");
        // The table for people says the same.
        let o = coldctr(&fixture(fx), &["verify"]);
        assert_eq!(o.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&o.stdout).contains("OK: every blob is intact"));
    }
}

#[test]
fn one_namespace() {
    let (code, report) = verify(&fixture("containerd-1.6"), &["-n", "k8s.io"]);
    assert_eq!(code, 0, "{report}");
    let names: Vec<&Value> = report["checked"]["namespaces"].as_array().expect("ns").iter().collect();
    assert_eq!(names.len(), 1);
    assert_eq!(names[0]["namespace"], "k8s.io");
    assert_eq!(names[0]["records"], 9);
    // Orphans are files that no namespace records, whichever namespace is checked.
    let (_, all) = verify(&fixture("containerd-1.6"), &[]);
    assert_eq!(report["orphans"], all["orphans"]);
    let o = coldctr(&fixture("containerd-1.6"), &["-n", "nosuch", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("namespace nosuch not found"));
}

/// Copies a fixture root (meta.db, content store, snapshotter DBs) with std::fs.
fn copy_root(fx: &str, to: &Path) {
    fn copy(from: &Path, to: &Path) {
        let meta = std::fs::symlink_metadata(from).expect("stat");
        if meta.is_dir() {
            std::fs::create_dir_all(to).expect("mkdir");
            for e in std::fs::read_dir(from).expect("read_dir") {
                let e = e.expect("entry");
                copy(&e.path(), &to.join(e.file_name()));
            }
        } else if meta.is_file() {
            std::fs::copy(from, to).expect("copy");
        }
    }
    let from = fixture(fx);
    for part in [
        "io.containerd.metadata.v1.bolt",
        CONTENT,
        "io.containerd.snapshotter.v1.overlayfs/metadata.db",
    ] {
        let to = to.join(part);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        copy(&from.join(part), &to);
    }
}

fn blob_path(root: &Path, digest: &str) -> PathBuf {
    let (alg, hex) = digest.split_once(':').expect("digest");
    root.join(CONTENT).join("blobs").join(alg).join(hex)
}

/// The recorded digests of a root (from an intact verify), largest blobs first.
fn recorded(root: &Path) -> Vec<String> {
    let (code, report) = verify(root, &[]);
    assert_eq!(code, 0, "{report}");
    let orphans: BTreeSet<&str> = report["orphans"]
        .as_array()
        .expect("orphans")
        .iter()
        .filter_map(|o| o["digest"].as_str())
        .collect();
    let dir = root.join(CONTENT).join("blobs/sha256");
    let mut all: Vec<(u64, String)> = std::fs::read_dir(&dir)
        .expect("blobs")
        .map(|e| e.expect("entry"))
        .map(|e| {
            (
                e.metadata().expect("stat").len(),
                format!("sha256:{}", e.file_name().to_string_lossy()),
            )
        })
        .filter(|(_, d)| !orphans.contains(d.as_str()))
        .collect();
    all.sort_by(|a, b| b.cmp(a));
    all.into_iter().map(|(_, d)| d).collect()
}

#[test]
fn damage_made_at_run_time() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    copy_root("docker-28.5", &root);
    let digests = recorded(&root);
    let [deleted, truncated, flipped, linked, fifo, dir] = [0, 1, 2, 3, 4, 5].map(|i| digests[i].clone());
    let before = verify(&root, &[]).1["checked"]["bytes"].as_u64().expect("bytes");

    std::fs::remove_file(blob_path(&root, &deleted)).expect("delete");
    let t = blob_path(&root, &truncated);
    let full = std::fs::read(&t).expect("read");
    std::fs::write(&t, &full[..full.len() / 2]).expect("truncate");
    let f = blob_path(&root, &flipped);
    let mut bytes = std::fs::read(&f).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&f, &bytes).expect("flip");
    // A symlink out of the root to a file with exactly the right content: following it would
    // make the blob look intact. It must be reported, never read.
    let l = blob_path(&root, &linked);
    let outside = tmp.path().join("outside");
    std::fs::rename(&l, &outside).expect("move out");
    std::os::unix::fs::symlink(&outside, &l).expect("symlink");
    let linked_size = std::fs::metadata(&outside).expect("stat").len();
    // A FIFO (an open that blocks, if we let it) and a directory.
    let p = blob_path(&root, &fifo);
    std::fs::remove_file(&p).expect("rm");
    let status = Command::new("mkfifo").arg(&p).status().expect("mkfifo");
    assert!(status.success());
    let p = blob_path(&root, &dir);
    std::fs::remove_file(&p).expect("rm");
    std::fs::create_dir(&p).expect("mkdir");
    // An unrecorded blob and a stray name: orphans, not problems.
    let orphan = b"nobody records me";
    let orphan_digest = format!("sha256:{}", sha256_hex(orphan));
    std::fs::write(blob_path(&root, &orphan_digest), orphan).expect("orphan");
    std::fs::write(root.join(CONTENT).join("blobs/sha256/not-a-digest"), b"x").expect("stray");

    let (code, report) = verify(&root, &[]);
    assert_eq!(code, 3);
    let want: BTreeMap<String, String> = [
        (&deleted, "missing"),
        (&truncated, "size-mismatch"),
        (&flipped, "digest-mismatch"),
        (&linked, "not-regular"),
        (&fifo, "not-regular"),
        (&dir, "not-regular"),
    ]
    .into_iter()
    .map(|(d, s)| (d.clone(), s.to_string()))
    .collect();
    assert_eq!(statuses(&report), want, "{}", report["problems"]);
    let link = problems(&report)
        .into_iter()
        .find(|p| p["digest"] == linked.as_str())
        .expect("link");
    assert_eq!(link["found"], "symlink");
    assert!(
        link["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&*outside.to_string_lossy())),
        "{link}"
    );
    let kinds: BTreeSet<&str> = problems(&report)
        .iter()
        .filter(|p| p["status"] == "not-regular")
        .filter_map(|p| p["found"].as_str())
        .collect();
    assert_eq!(kinds, BTreeSet::from(["directory", "fifo", "symlink"]));
    let trunc = problems(&report)
        .into_iter()
        .find(|p| p["digest"] == truncated.as_str())
        .expect("t");
    assert_eq!(trunc["expected"], full.len() as u64);
    assert_eq!(trunc["found"], (full.len() / 2) as u64);
    let flip = problems(&report)
        .into_iter()
        .find(|p| p["digest"] == flipped.as_str())
        .expect("f");
    assert_eq!(flip["found"], format!("sha256:{}", sha256_hex(&bytes)));
    // Nothing behind the symlink, the FIFO or the directory was read.
    let sizes = |d: &str| {
        std::fs::metadata(fixture("docker-28.5").join(CONTENT).join("blobs/sha256").join(&d[7..]))
            .expect("stat")
            .len()
    };
    let after = report["checked"]["bytes"].as_u64().expect("bytes");
    assert_eq!(
        after,
        before - sizes(&deleted) - (full.len() - full.len() / 2) as u64 - linked_size - sizes(&fifo) - sizes(&dir)
    );
    let orphans: BTreeSet<String> = report["orphans"]
        .as_array()
        .expect("orphans")
        .iter()
        .map(|o| o["path"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        orphans.contains(&format!("{CONTENT}/blobs/sha256/{}", &orphan_digest[7..])),
        "{orphans:?}"
    );
    assert!(
        orphans.contains(&format!("{CONTENT}/blobs/sha256/not-a-digest")),
        "{orphans:?}"
    );

    // The table for people names every status.
    let o = coldctr(&root, &["verify"]);
    assert_eq!(o.status.code(), Some(3));
    let text = String::from_utf8_lossy(&o.stdout);
    for s in ["missing", "size-mismatch", "digest-mismatch", "not-regular", "ORPHAN"] {
        assert!(text.contains(s), "{s}: {text}");
    }
}

#[test]
fn a_symlinked_store_is_not_read() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    copy_root("containerd-1.7", &root);
    let blobs = root.join(CONTENT).join("blobs/sha256");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::rename(&blobs, &elsewhere).expect("move");
    std::os::unix::fs::symlink(&elsewhere, &blobs).expect("symlink");
    let (code, report) = verify(&root, &[]);
    assert_eq!(code, 3);
    assert_eq!(report["checked"]["bytes"], 0);
    assert!(
        report["findings"].as_array().is_some_and(|f| f
            .iter()
            .any(|f| f["message"].as_str().is_some_and(|m| m.contains("is a symlink")))),
        "{}",
        report["findings"]
    );
}

/// An image target that names an index blob with a manifest media type: the index is an
/// invalid document for that descriptor. Made by rewriting the target's digest in place in a
/// copy of meta.db (same length, in a leaf page: no bbolt structure changes).
#[test]
fn a_document_that_disagrees_with_its_descriptor() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    copy_root("docker-28.5", &root);
    // docker.io/lab/nohist:1 targets an OCI manifest; docker.io/library/bx:1 is an OCI index.
    let manifest = "sha256:3ce5ffe025fde45311b1f901e9c2c36b8b6c3f53d0ed73b0514003018e9bbf62";
    let index = "sha256:841a0e7330b3d600f58005c7129bd14e1a578120d44be1acdb9008f639f99a4a";
    let meta = root.join(META);
    let mut db = std::fs::read(&meta).expect("meta.db");
    let needle = [b"digest".as_slice(), manifest.as_bytes()].concat();
    let at: Vec<usize> = db
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "the target digest value appears once");
    db[at[0] + 6..at[0] + needle.len()].copy_from_slice(index.as_bytes());
    std::fs::write(&meta, db).expect("write meta.db");

    let (code, report) = verify(&root, &[]);
    assert_eq!(code, 3);
    let p = problems(&report);
    assert_eq!(p.len(), 1, "{}", report["problems"]);
    assert_eq!(p[0]["digest"], index);
    assert_eq!(p[0]["status"], "invalid-document");
    assert_eq!(p[0]["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert!(
        p[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("expected manifest but found index")),
        "{}",
        p[0]
    );
    assert_eq!(
        report["findings"],
        Value::Array(vec![]),
        "the bbolt structure is intact"
    );
}

fn sha256_hex(data: &[u8]) -> String {
    coldctr::digest::Digest::sha256_of(data).hex().to_string()
}

/// A meta.db with a page of garbage: never a panic; the report still comes out, with the
/// damage as findings and exit 3 when records could not be read (1 for structure alone).
#[test]
fn a_wrecked_meta_page_is_reported_not_fatal() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    copy_root("containerd-1.7", &root);
    let meta = root.join(META);
    let good = std::fs::read(&meta).expect("meta.db");
    let mut codes = BTreeMap::new();
    for page in (2..good.len() / 4096).step_by(3) {
        let mut bad = good.clone();
        bad[page * 4096..(page + 1) * 4096].fill(0xA5);
        std::fs::write(&meta, &bad).expect("write");
        let (code, report) = verify(&root, &[]);
        assert!(matches!(code, 0 | 1 | 3), "page {page}: exit {code}");
        if code == 3 {
            assert!(
                report["findings"].as_array().is_some_and(|f| !f.is_empty()),
                "page {page}"
            );
        }
        *codes.entry(code).or_insert(0) += 1;
    }
    assert!(codes.contains_key(&3), "{codes:?}");
}

/// The machine's SHA-256 limits with ring, for benches/RESULTS.md: 1 GiB in memory, hashed on
/// one thread and split over every core; and, when `VERIFY_BENCH_DIR` names a directory of
/// large files (already in the page cache), the same files read with read() in 1 MiB chunks and
/// hashed, one file per thread: the most any read()-based verifier can do.
/// `cargo test --release --test verify machine -- --ignored --nocapture`
#[test]
#[ignore]
fn machine_sha256_limit() {
    use std::io::Read;
    const SIZE: usize = 1 << 30;
    let data: Vec<u8> = (0..SIZE).map(|i| (i as u8).wrapping_mul(31)).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for threads in [1, cores] {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            std::thread::scope(|s| {
                for part in data.chunks(SIZE / threads) {
                    s.spawn(move || ring::digest::digest(&ring::digest::SHA256, part));
                }
            });
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!(
            "ring sha256 in memory, {threads} thread(s): {:.0} MB/s (1 GiB in {best:.2} s, best of 3)",
            SIZE as f64 / best / 1e6
        );
    }
    let Some(dir) = std::env::var_os("VERIFY_BENCH_DIR") else {
        return;
    };
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("VERIFY_BENCH_DIR")
        .map(|e| e.expect("entry").path())
        .collect();
    for threads in [1, cores] {
        let mut best = f64::MAX;
        let mut bytes = 0;
        for _ in 0..3 {
            let next = std::sync::atomic::AtomicUsize::new(0);
            let total = std::sync::atomic::AtomicU64::new(0);
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| {
                        let mut buf = vec![0u8; 1 << 20];
                        while let Some(f) = files.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                            let mut file = std::fs::File::open(f).expect("open");
                            let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
                            loop {
                                let n = file.read(&mut buf).expect("read");
                                if n == 0 {
                                    break;
                                }
                                ctx.update(&buf[..n]);
                                total.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                            }
                            ctx.finish();
                        }
                    });
                }
            });
            best = best.min(start.elapsed().as_secs_f64());
            bytes = total.into_inner();
        }
        println!(
            "ring sha256 over read(1 MiB), {threads} thread(s): {:.0} MB/s ({bytes} bytes in {best:.2} s, best of 3)",
            bytes as f64 / best / 1e6
        );
    }
}

/// The table's SIZE column is headed `SIZE(kB=1000B)`, as every table's; its cells were the
/// raw byte counts (`1574`). They are go-units' HumanSize now (`1.574kB`), the exact bytes
/// staying in DETAIL and the JSON; and stderr says how much the report holds (exit 3 with
/// nothing on stderr broke "stderr says where").
#[test]
fn the_problem_table_sizes_are_human_sizes_and_stderr_counts_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5-damaged");
    let o = coldctr(&root, &["verify"]);
    assert_eq!(o.status.code(), Some(3));
    let table = String::from_utf8_lossy(&o.stdout);
    let row = |status: &str| {
        table
            .lines()
            .find(|l| l.starts_with(status))
            .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    // go-units HumanSize: %.4g with decimal units.
    assert_eq!(row("missing").get(2).map(String::as_str), Some("346B"), "{table}");
    assert_eq!(
        row("size-mismatch").get(2).map(String::as_str),
        Some("1.574kB"),
        "{table}"
    );
    assert_eq!(
        row("digest-mismatch").get(2).map(String::as_str),
        Some("330B"),
        "{table}"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("3 blob problem(s) and 0 other finding(s)"), "{err}");
    let sound = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5");
    let o = coldctr(&sound, &["verify"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Audit 22, findings 1 and 3: a sparse file is as long as it says at no cost on disk. A
/// blob file of 4 TiB of holes was hashed to its end (hours of zeros) though its length alone
/// makes it a size mismatch; a meta.db with a 4 TiB tail was read whole by `--no-mmap` (the
/// kernel's OOM kill). Now the blob is `size-mismatch` at once, not hashed, and `--no-mmap`
/// reads up to the high-water mark; both end within the minute `coldctr` allows.
#[test]
fn sparse_files_of_terabytes_end_at_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    copy_root("docker-28.5", &root);
    let digests = recorded(&root);
    let huge: u64 = 4 << 40;
    let big = blob_path(&root, &digests[0]);
    let f = std::fs::OpenOptions::new().write(true).open(&big).expect("open");
    if f.set_len(huge).is_err() {
        eprintln!("skipped: this filesystem holds no 4 TiB sparse file");
        return;
    }
    drop(f);
    let (code, report) = verify(&root, &[]);
    assert_eq!(code, 3, "{report}");
    let p = problems(&report)
        .into_iter()
        .find(|p| p["digest"] == digests[0].as_str())
        .expect("the sparse blob")
        .clone();
    assert_eq!(p["status"], "size-mismatch", "{p}");
    assert_eq!(p["found"], huge, "{p}");
    assert!(p["detail"].as_str().unwrap_or_default().contains("not hashed"), "{p}");
    assert!(
        report["checked"]["bytes"].as_u64().expect("bytes") < 1 << 30,
        "{report}"
    );

    let db = root.join("io.containerd.metadata.v1.bolt/meta.db");
    let images = |extra: &[&str]| {
        let mut args = extra.to_vec();
        args.extend(["images", "--format", "json"]);
        coldctr(&root, &args)
    };
    let mapped = images(&[]);
    let f = std::fs::OpenOptions::new().write(true).open(&db).expect("open");
    f.set_len(huge).expect("a sparse tail");
    drop(f);
    let read = images(&["--no-mmap"]);
    assert_eq!(
        read.status.code(),
        mapped.status.code(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    assert_eq!(read.stdout, mapped.stdout);
}

/// The table report is the same on every run of the same store: what was checked, not how
/// long it took (sweep 28.7: the hashing speed on stdout differed run to run).
#[test]
fn the_table_report_is_the_same_every_run() {
    let root = fixture("docker-28.5");
    let first = coldctr(&root, &["verify"]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(text.contains("blob files (239.2kB hashed)"), "{text}");
    for _ in 0..3 {
        assert_eq!(coldctr(&root, &["verify"]).stdout, first.stdout);
    }
}
