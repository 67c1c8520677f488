//! A blob whose content record is there but whose file is gone: containerd answers NotFound
//! for it, and what `inspect` and `images` print is what a daemon would show for that; but the
//! store is damaged, so each names the blob and the size its record says on stderr and exits 3
//! (README, "Exit codes"). A blob with no record (a platform never pulled), or with a record
//! of an older transaction or a deleted one, is not damage.

#[path = "gcdu_support/mod.rs"]
mod support;

use std::path::Path;

use support::coldctr_moby as coldctr;

const IMAGE: &str = "docker.io/library/bx:1";

/// The image's target (an index) and the index's linux/amd64 manifest, as read from the
/// fixture's own files.
fn index_and_manifest(root: &Path) -> (String, String) {
    let out = coldctr(root, &["images", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let target = rows
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["name"] == IMAGE)
        .and_then(|r| support::s(&r["target"]["digest"]))
        .expect("the image's target");
    let index = support::read_json(&support::blob_path(root, &target));
    let manifest = index["manifests"]
        .as_array()
        .expect("an index")
        .iter()
        .find(|m| m["platform"]["architecture"] == "amd64" && m["platform"]["os"] == "linux")
        .and_then(|m| support::s(&m["digest"]))
        .expect("a linux/amd64 manifest");
    (target, manifest)
}

#[test]
fn a_recorded_blob_without_its_file_is_named_with_its_size_and_exit_3() {
    let (_tmp, clean) = support::fixture_copy("docker-28.5");
    let (index, manifest) = index_and_manifest(&clean);
    let config = support::read_json(&support::blob_path(&clean, &manifest))["config"]["digest"]
        .as_str()
        .expect("the manifest's config")
        .to_string();
    for lost in [&index, &manifest, &config] {
        let (_tmp, root) = support::fixture_copy("docker-28.5");
        let path = support::blob_path(&root, lost);
        let size = std::fs::metadata(&path).expect("the blob").len();
        std::fs::remove_file(&path).expect("remove the blob");
        let said = format!("{lost}: the content record says {size} bytes, the blob file is missing");
        let inspect = coldctr(&root, &["inspect", IMAGE]);
        let stderr = String::from_utf8_lossy(&inspect.stderr);
        assert_eq!(inspect.status.code(), Some(3), "{lost}: {stderr}");
        assert_eq!(stderr.matches(&said).count(), 1, "{lost}: {stderr}");
        // One line for one loss: where dockerd's own message names the blob (a config it
        // failed to read), the record's size is said on that line.
        let lines = stderr.lines().filter(|l| l.contains(lost.as_str())).count();
        assert_eq!(lines, 1, "{lost}: {stderr}");
        // The body is still printed, as the daemon would have answered.
        let body: serde_json::Value = serde_json::from_slice(&inspect.stdout).expect("a body");
        assert_eq!(body.as_array().map(Vec::len), Some(1));
        let images = coldctr(&root, &["images", "--format", "json"]);
        assert_eq!(images.status.code(), Some(3), "{lost}");
        let rows: serde_json::Value = serde_json::from_slice(&images.stdout).expect("json");
        let row = rows
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["name"] == IMAGE)
            .expect("the row");
        assert!(
            row["problems"]
                .as_array()
                .expect("problems")
                .iter()
                .any(|p| p == said.as_str()),
            "{lost}: {row}"
        );
        // The salvage view of an intact file says the same; records of an older transaction
        // or deleted ones (which gc may have emptied since) promise no file.
        let salvaged = coldctr(&root, &["--salvage", "inspect", IMAGE]);
        assert_eq!(salvaged.status.code(), Some(3), "{lost}");
        assert!(String::from_utf8_lossy(&salvaged.stderr).contains(&said), "{lost}");
        for args in [
            &["--previous", "inspect", IMAGE][..],
            &["--salvage-deleted", "inspect", IMAGE],
            &["images", "--deleted"],
        ] {
            let o = coldctr(&root, args);
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert!(!stderr.contains("the blob file is missing"), "{args:?}: {stderr}");
        }
    }
    // Every other image of the copy reads clean: a platform that was never pulled has no
    // record and is no damage.
    let out = coldctr(&clean, &["images", "-q"]);
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|n| *n != IMAGE)
        .map(str::to_string)
        .collect();
    let mut args = vec!["inspect"];
    args.extend(names.iter().map(String::as_str));
    let all = coldctr(&clean, &args);
    assert_eq!(all.status.code(), Some(0), "{}", String::from_utf8_lossy(&all.stderr));
}

/// A store whose `blobs/sha256` is gone: `content` names the first 20 missing blobs on stderr,
/// then how many more (it printed a line per record, 47,000 for a large store), while every
/// row still says its file is missing, and the exit code is 3.
#[test]
fn content_names_the_first_missing_blobs_then_counts_the_rest() {
    let (_tmp, root) = support::fixture_copy("docker-28.5");
    std::fs::remove_dir_all(root.join("io.containerd.content.v1.content/blobs/sha256")).expect("rm");
    for format in ["table", "json"] {
        let out = coldctr(&root, &["content", "--format", format]);
        assert_eq!(out.status.code(), Some(3));
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        let named = lines.iter().filter(|l| l.contains("the blob file is missing")).count();
        assert_eq!(named, 20, "{err}");
        let records = coldctr(&root, &["content", "-q"]);
        let total = String::from_utf8_lossy(&records.stdout).lines().count();
        assert!(total > 20, "the fixture has more than 20 moby records");
        let tail = format!("... and {} more recorded blobs not there as recorded", total - 20);
        assert!(lines.last().is_some_and(|l| l.contains(&tail)), "{err}");
        if format == "json" {
            let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            let rows = rows.as_array().expect("rows");
            assert_eq!(rows.len(), total);
            assert!(rows.iter().all(|r| r["fileState"] == "missing"));
        }
    }
}

/// A root whose content store is gone: the commands that read blobs say so and exit 3; the
/// listings of records, `recover` and `meta-diff` read no blob and said "content store not
/// read" all the same, with exit 0.
#[test]
fn only_commands_that_read_blobs_say_the_content_store_is_gone() {
    let (_guard, root) = support::fixture_copy("docker-28.5");
    std::fs::remove_dir_all(root.join("io.containerd.content.v1.content")).expect("remove the content store");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_coldctr"))
            .arg("--root")
            .arg(&root)
            .args(args)
            .env_remove("COLDCTR_ROOT")
            .output()
            .expect("run coldctr");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    for args in [
        &["namespaces"][..],
        &["leases"],
        &["containers"],
        &["snapshots"],
        &["recover"],
        &["meta-diff"],
    ] {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("content store not read"), "{args:?}: {stderr}");
    }
    for args in [
        &["images"][..],
        &["content"],
        &["gc"],
        &["du"],
        &["-n", "moby", "inspect", IMAGE],
    ] {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains("content store not read"), "{args:?}: {stderr}");
    }
}
