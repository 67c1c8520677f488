//! Replays every input kept under `fixtures/fuzz/<target>/` through the very code the fuzz
//! target runs (`fuzz/src/harness.rs`, included here by path). Each file there once crashed,
//! hung or exhausted memory; its name says what it caught.

#[path = "../fuzz/src/harness.rs"]
mod harness;

use std::path::PathBuf;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fuzz")
        .join(target);
    // A missing directory is a failure, not zero inputs: a replay of nothing asserts nothing.
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, data)
        })
        .collect()
}

#[test]
fn bolt_walk_regressions() {
    let files = inputs("bolt_walk");
    assert!(!files.is_empty(), "fixtures/fuzz/bolt_walk is empty");
    for (path, data) in files {
        eprintln!("replaying {}", path.display());
        harness::bolt_walk(&data);
    }
}

#[test]
fn values_regressions() {
    let files = inputs("values");
    assert!(files.len() >= 8, "fixtures/fuzz/values holds {} inputs", files.len());
    for (path, data) in &files {
        eprintln!("replaying {}", path.display());
        harness::values(data);
    }
    // What some of them must decode to, as Go's encoding/binary and time read the same bytes.
    let input = |name: &str| {
        files
            .iter()
            .find(|(p, _)| p.file_name().is_some_and(|n| n == name))
            .map(|(_, d)| d.as_slice())
            .unwrap_or_else(|| panic!("fixtures/fuzz/values/{name} is missing"))
    };
    // binary.Uvarint: more than 10 bytes, or a 10th byte > 1, overflows (n < 0).
    assert_eq!(coldctr::containerd::encoding::uvarint(input("uvarint-overflow")), None);
    // An Any whose length runs past the end is not an Any.
    assert!(coldctr::containerd::encoding::any(input("any-length-past-end")).is_none());
    // time.UnmarshalBinary: version 1 is 15 bytes, version 2 is 16.
    assert!(coldctr::containerd::gotime::GoTime::decode(input("gotime-v1-min")).is_ok());
    assert!(coldctr::containerd::gotime::GoTime::decode(input("gotime-v2-max")).is_ok());
}

#[test]
fn template_regressions() {
    let files = inputs("template");
    assert!(!files.is_empty(), "fixtures/fuzz/template is empty");
    for (path, data) in files {
        eprintln!("replaying {}", path.display());
        harness::template(&data);
    }
}

/// Layouts inspected image by image: the seeds are real layouts (skopeo, umoci, a hand-made
/// graph) cut as the target cuts them, and each must give bodies that read.
#[test]
fn layout_inspect_regressions() {
    replay_inspected("layout_inspect", harness::layout_inspect);
}

/// Image archives inspected image by image: the seeds are real archives (buildah's
/// docker-archive, podman's OCI archive, umoci's layout gzip'd), each of which must give bodies.
#[test]
fn archive_inspect_regressions() {
    replay_inspected("archive_inspect", harness::archive_inspect);
}

/// Replays `target`'s inputs through `inspect`, which says how many bodies it made: a
/// `seed-*` input must make some (a seed that inspects nothing tests nothing).
fn replay_inspected(target: &str, inspect: fn(&[u8]) -> usize) {
    let files = inputs(target);
    assert!(!files.is_empty(), "fixtures/fuzz/{target} is empty");
    for (path, data) in files {
        let made = inspect(&data);
        eprintln!("replayed {}: {made} bodies", path.display());
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(!name.starts_with("seed-") || made > 0, "{name}: no image inspected");
    }
}

/// meta.db files loaded as gc loads them: the fixtures' real ones, each of which must give
/// records, and where undamaged the same records read in file order as in key order; then
/// every input the bolt targets keep.
#[test]
fn gc_store_regressions() {
    for fixture in ["containerd-1.6", "containerd-1.7", "docker-28.5", "docker-28.5-damaged"] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(fixture)
            .join("io.containerd.metadata.v1.bolt/meta.db");
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (loaded, compared) = harness::gc_store(&data);
        assert!(loaded > 0, "{fixture}: no record loaded");
        // The damaged copy is damaged in its records: there the two reads are not compared.
        assert!(
            fixture.ends_with("-damaged") || compared > 0,
            "{fixture}: no namespace compared"
        );
    }
    for target in ["bolt_walk", "salvage_view", "carve"] {
        for (path, data) in inputs(target) {
            eprintln!("replaying {}", path.display());
            harness::gc_store(&data);
        }
    }
}

#[test]
fn names_regressions() {
    let files = inputs("names");
    assert!(files.len() >= 5, "fixtures/fuzz/names holds {} inputs", files.len());
    for (path, data) in files {
        eprintln!("replaying {}", path.display());
        harness::names(&data);
    }
}

/// The filter target's inputs, and the names target's (text with filters in it too).
#[test]
fn filters_regressions() {
    let mut files = inputs("filters");
    assert!(files.len() >= 3, "fixtures/fuzz/filters holds {} inputs", files.len());
    files.extend(inputs("names"));
    for (path, data) in files {
        eprintln!("replaying {}", path.display());
        harness::filters(&data);
    }
}

/// The salvage view's own inputs, and the carver's (each also built into a view).
#[test]
fn salvage_view_regressions() {
    let mut files = inputs("salvage_view");
    assert!(!files.is_empty(), "fixtures/fuzz/salvage_view is empty");
    files.extend(inputs("carve"));
    for (path, data) in &files {
        eprintln!("replaying {}", path.display());
        harness::salvage_view(data);
    }
}

#[test]
fn carve_regressions() {
    use coldctr::bytes::Endian;
    use coldctr::recover::{recover, recover_raw};
    let files = inputs("carve");
    assert!(files.len() >= 4, "fixtures/fuzz/carve holds {} inputs", files.len());
    for (path, data) in &files {
        eprintln!("replaying {}", path.display());
        harness::carve(data);
    }
    let input = |name: &str| {
        files
            .iter()
            .find(|(p, _)| p.file_name().is_some_and(|n| n == name))
            .map(|(_, d)| d.clone())
            .unwrap_or_else(|| panic!("fixtures/fuzz/carve/{name} is missing"))
    };
    // Parents that point at each other name nothing, and the walk up ends.
    let r = recover_raw(&input("parent-links-in-a-loop"), 4096, Endian::Little);
    let found: Vec<_> = r.records.iter().map(|c| (c.kind, c.page, c.name.clone())).collect();
    assert_eq!(found, [("content", 5, None)]);
    // Inline buckets nested past the depth cap are not followed.
    assert!(
        recover_raw(&input("inline-buckets-80-deep"), 4096, Endian::Little)
            .records
            .is_empty()
    );
    // Out-of-bounds and repeated keys: those pages do not parse (pages 2 and 3: half their
    // elements are bad). Page 4's count (65,535) is damaged: its first element's key says the
    // array holds one element, which parses, and the page is carved cut to it (sweep 23: a
    // damaged count lost the whole page).
    let r = recover_raw(&input("elements-out-of-bounds-and-repeated"), 4096, Endian::Little);
    assert_eq!((r.node_pages, r.records.len()), (1, 0));
    assert_eq!(r.cut_pages, [(4, 1, 65535)]);
    // A record named through the live tree, and a lease-shaped page the `leases` bucket points
    // at directly: a known path that does not fit a lease names nothing.
    let db = coldctr::bolt::Db::from_bytes("t.db", input("names-through-live-and-stale-parents")).expect("open");
    let r = recover(&db);
    let found: Vec<_> = r
        .records
        .iter()
        .map(|c| (c.kind, c.namespace.clone(), c.name.clone(), c.page, c.live))
        .collect();
    assert_eq!(
        found,
        [
            ("namespace", Some(String::new()), Some("ns".to_string()), 4, Some(true)),
            (
                "content",
                Some("ns".to_string()),
                Some("sha256:aa".to_string()),
                6,
                Some(true)
            ),
            ("lease", None, None, 7, Some(false)),
        ]
    );
    assert!(!r.damage.is_empty());
}

#[test]
fn archive_index_regressions() {
    let files = inputs("archive_index");
    assert!(!files.is_empty(), "fixtures/fuzz/archive_index is empty");
    for (path, data) in files {
        eprintln!("replaying {}", path.display());
        harness::archive_index(&data);
    }
}

#[test]
fn overlay_regressions() {
    let files = inputs("overlay");
    assert!(files.len() >= 4, "fixtures/fuzz/overlay holds {} inputs", files.len());
    for (path, data) in files {
        eprintln!("replaying {}", path.display());
        harness::overlay(&data);
    }
}

#[test]
fn layer_tar_regressions() {
    let files = inputs("layer_tar");
    assert!(files.len() >= 3, "fixtures/fuzz/layer_tar holds {} inputs", files.len());
    for (path, data) in files {
        eprintln!("replaying {}", path.display());
        harness::layer_tar(&data);
    }
    // What the reader gives for the hand-made GNU tar (Python's tarfile wrote it).
    use coldctr::overlay::layertar::Reader;
    let gnu = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz/layer_tar/gnu-long-names"))
        .unwrap();
    let mut r = Reader::new(gnu.as_slice());
    let first = r.next_entry().unwrap().unwrap();
    assert_eq!(first.name, format!("g/{}", "m".repeat(300)).into_bytes());
    let second = r.next_entry().unwrap().unwrap();
    assert_eq!(
        (second.typeflag, second.link),
        (b'1', format!("g/{}", "m".repeat(300)).into_bytes())
    );
    assert!(r.next_entry().unwrap().is_none());
}

/// Graph-driver stores written to disk from the kept inputs: the layer store and the image
/// store each read, their invariants checked in the harness.
#[test]
fn graph_store_regressions() {
    let files = inputs("graph_store");
    assert!(!files.is_empty(), "fixtures/fuzz/graph_store is empty");
    for (path, data) in files {
        let (layers, images) = harness::graph_store(&data);
        match path.file_name().and_then(|n| n.to_str()).unwrap_or_default() {
            "seed-two-lowers" => assert!(layers, "two lowers through their links read"),
            "seed-images-parent" => assert_eq!((layers, images), (true, 2), "full IDs resolve, loaded or not"),
            "seed-link-out" => assert!(!layers, "a link out of overlay2/ read"),
            _ => {}
        }
    }
}

/// The graph-driver image store inputs: the fixture's own store restores its three images
/// (each config hashes to its name, and every chain gets a layer); the hand-made one none.
#[test]
fn graph_images_regressions() {
    let files = inputs("graph_images");
    assert!(!files.is_empty(), "fixtures/fuzz/graph_images is empty");
    for (path, data) in files {
        let restored = harness::graph_images(&data);
        match path.file_name().and_then(|n| n.to_str()).unwrap_or_default() {
            "node-docker20-overlay2" => assert_eq!(restored, 3, "the fixture's images restore"),
            "hand-made" => assert_eq!(restored, 0, "a size of -1 is read, a parent that is no chain ID is not"),
            _ => {}
        }
    }
}

#[test]
fn docker_container_regressions() {
    let files = inputs("docker_container");
    assert!(!files.is_empty(), "fixtures/fuzz/docker_container is empty");
    for (path, data) in files {
        eprintln!("replaying {}", path.display());
        harness::docker_container(&data);
    }
}

#[test]
fn local_log_regressions() {
    let files = inputs("local_log");
    assert!(!files.is_empty(), "fixtures/fuzz/local_log is empty");
    for (path, data) in files {
        eprintln!("replaying {}", path.display());
        harness::local_log(&data);
    }
}

#[test]
fn cri_status_regressions() {
    let files = inputs("cri_status");
    assert!(!files.is_empty(), "fixtures/fuzz/cri_status is empty");
    for (path, data) in files {
        eprintln!("replaying {}", path.display());
        harness::cri_status(&data);
    }
}

#[test]
fn gojson_regressions() {
    let files = inputs("gojson");
    assert!(!files.is_empty(), "fixtures/fuzz/gojson is empty");
    for (path, data) in files {
        eprintln!("replaying {}", path.display());
        harness::gojson(&data);
    }
}
