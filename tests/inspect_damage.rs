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
