//! `--root`: a containerd root, its metadata directory or the meta.db inside it; and when the
//! directory given is none of these, an error that names every root found under it (a mounted
//! node disk of any known layout), or the layouts to look for.

mod bolt_support;

use bolt_support::{coldctr, repo};
use std::path::{Path, PathBuf};

/// A fake root: only what the discovery looks at (`io.containerd.metadata.v1.bolt/meta.db`).
fn fake_root(at: &Path) {
    let bolt = at.join("io.containerd.metadata.v1.bolt");
    std::fs::create_dir_all(&bolt).expect("mkdir");
    std::fs::write(bolt.join("meta.db"), b"").expect("meta.db");
}

fn namespaces(root: &Path) -> (Option<i32>, String, String) {
    let run = coldctr(&["--root".as_ref(), root.as_os_str(), "namespaces".as_ref()]);
    let out = run.stdout_text();
    (run.code, out, run.stderr)
}

/// The names in the first column of ctr's `namespaces ls`.
fn ctr_namespaces(fixture: &str) -> Vec<String> {
    let path = repo()
        .join("fixtures/expected")
        .join(fixture)
        .join("ctr-namespaces.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect()
}

#[test]
fn meta_db_or_its_directory_opens_the_root_around_it() {
    for fixture in ["containerd-1.6", "containerd-1.7"] {
        let root = repo().join("fixtures").join(fixture);
        let (code, expected, err) = namespaces(&root);
        assert_eq!(code, Some(0), "{err}");
        let names: Vec<String> = expected
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .map(String::from)
            .collect();
        assert_eq!(names, ctr_namespaces(fixture));
        let bolt = root.join("io.containerd.metadata.v1.bolt");
        let with_slash = PathBuf::from(format!("{}/", bolt.display()));
        for given in [bolt.join("meta.db"), bolt.clone(), with_slash] {
            let (code, out, err) = namespaces(&given);
            assert_eq!(code, Some(0), "{}: {err}", given.display());
            assert_eq!(out, expected, "{}", given.display());
        }
    }
    // The root around it is what is read: its content store too (images finds the blobs).
    let meta = repo().join("fixtures/docker-28.5/io.containerd.metadata.v1.bolt/meta.db");
    let run = coldctr(&[
        "--root".as_ref(),
        meta.as_os_str(),
        "--host-platform".as_ref(),
        "linux/amd64".as_ref(),
        "inspect".as_ref(),
        "lab/special:1.0".as_ref(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let expected = repo().join("fixtures/expected/docker-28.5/inspect/lab_special_1.0__api-default.stdout");
    assert_eq!(run.stdout, std::fs::read(expected).expect("expected inspect"));
}

/// `--root` naming meta.db itself, whose meta page 0 is gone: the root around it is read
/// through meta page 1 (said, exit 3), as when its directory is named (sweep 35.3: refused as
/// "not a bbolt file", exit 4). A file of that name with no meta at all is the bbolt reader's
/// to describe (exit 3), not an unknown kind of input.
#[test]
fn meta_db_with_meta_page_0_gone_is_read_through_meta_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let bolt = root.join("io.containerd.metadata.v1.bolt");
    std::fs::create_dir_all(&bolt).expect("mkdir");
    let meta = bolt.join("meta.db");
    let mut bytes = std::fs::read(repo().join("fixtures/containerd-1.7/io.containerd.metadata.v1.bolt/meta.db"))
        .expect("read fixture");
    bytes[..4096].fill(0);
    std::fs::write(&meta, &bytes).expect("write");
    let (dir_code, by_dir, dir_err) = namespaces(&root);
    assert_eq!(dir_code, Some(3), "{dir_err}");
    assert!(dir_err.contains("reading meta page 1"), "{dir_err}");
    let (code, by_file, err) = namespaces(&meta);
    assert_eq!((code, &by_file), (Some(3), &by_dir), "{err}");
    assert!(err.contains("reading meta page 1"), "{err}");
    assert!(by_file.lines().count() > 1, "{by_file}");

    bytes[4096..8192].fill(0);
    std::fs::write(&meta, &bytes).expect("write");
    let (code, _, err) = namespaces(&meta);
    assert_eq!(code, Some(3), "{err}");
    assert!(!err.contains("not a bbolt file"), "{err}");
}

#[test]
fn a_copy_of_meta_db_elsewhere_is_refused_with_the_way_to_read_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("meta.db");
    std::fs::copy(
        repo().join("fixtures/containerd-1.6/io.containerd.metadata.v1.bolt/meta.db"),
        &copy,
    )
    .expect("copy");
    let (code, _, err) = namespaces(&copy);
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("it is a file") && err.contains("coldctr bolt"), "{err}");
}

#[test]
fn every_root_on_a_mounted_disk_is_named() {
    let disk = tempfile::tempdir().expect("tempdir");
    let d = disk.path();
    std::fs::create_dir_all(d.join("etc")).expect("etc");
    let layouts = [
        "var/lib/containerd",
        "var/lib/docker/containerd/daemon",
        "var/lib/rancher/k3s/agent/containerd",
        "var/lib/rancher/rke2/agent/containerd",
        "var/snap/microk8s/common/var/lib/containerd",
        "home/alice/.local/share/containerd",
        "home/bob/.local/share/containerd",
        "root/.local/share/containerd",
    ];
    for l in layouts {
        fake_root(&d.join(l));
    }
    // A user with no rootless containerd is not named.
    std::fs::create_dir_all(d.join("home/carol/.local/share")).expect("carol");
    let (code, _, err) = namespaces(d);
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains(&format!("found {}:", layouts.len())), "{err}");
    for l in layouts {
        assert!(err.contains(&d.join(l).display().to_string()), "{l} not named: {err}");
    }
    assert!(!err.contains("carol"), "{err}");
    // From the disk's /var/lib, the ones below it.
    let (code, _, err) = namespaces(&d.join("var/lib"));
    assert_eq!(code, Some(4));
    assert!(err.contains("found 4:"), "{err}");
    // From a Docker data-root whose dockerd ran its own containerd: that one.
    let (_, _, err) = namespaces(&d.join("var/lib/docker"));
    let expected = d.join("var/lib/docker/containerd/daemon").display().to_string();
    assert!(err.contains(&format!("found one at {expected}")), "{err}");
}

#[test]
fn a_disk_without_a_root_gets_the_layouts_to_look_for() {
    let disk = tempfile::tempdir().expect("tempdir");
    for dir in ["etc", "var/lib"] {
        std::fs::create_dir_all(disk.path().join(dir)).expect("mkdir");
    }
    let (code, _, err) = namespaces(disk.path());
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("this looks like a node's /"), "{err}");
    for rel in [
        "var/lib/containerd",
        "var/lib/docker/containerd/daemon",
        "var/lib/rancher/k3s/agent/containerd",
        "var/lib/rancher/rke2/agent/containerd",
        "var/snap/microk8s/common/var/lib/containerd",
        "home/*/.local/share/containerd",
    ] {
        assert!(err.contains(rel), "{rel} not hinted: {err}");
    }
    let (code, _, err) = namespaces(&disk.path().join("no-such-dir"));
    assert_eq!(code, Some(4));
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn an_unreadable_root_is_permission_denied_not_missing() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // root reads a mode-000 directory; nothing to test.
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("containerd");
    fake_root(&root);
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let (code, _, err) = namespaces(&root);
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("permission denied") && !err.contains("not found"), "{err}");
}

/// A Docker data-root given as `--root` on a node whose containerd root is beside it (Docker
/// 28's containerd image store keeps no `image/` directory): the error names that root and
/// the options to read both (sweep 33: only the generic layouts were listed).
#[test]
fn a_docker_data_root_names_the_containerd_root_beside_it() {
    let disk = tempfile::tempdir().expect("tempdir");
    let lib = disk.path().join("var/lib");
    fake_root(&lib.join("containerd"));
    for dir in ["docker/containers", "docker/rootfs", "docker/volumes"] {
        std::fs::create_dir_all(lib.join(dir)).expect("mkdir");
    }
    std::fs::write(lib.join("docker/engine-id"), b"x").expect("engine-id");
    let (code, _, err) = namespaces(&lib.join("docker"));
    assert_eq!(code, Some(4), "{err}");
    let want = format!(
        "its node's containerd root is beside it: --root {} --docker-root {}",
        lib.join("containerd").display(),
        lib.join("docker").display()
    );
    assert!(err.contains(&want), "{err}");
    // Without a root beside it, still said to be a Docker data-root.
    std::fs::remove_dir_all(lib.join("containerd")).expect("rm");
    let (_, _, err) = namespaces(&lib.join("docker"));
    assert!(err.contains("this looks like a Docker data-root"), "{err}");
}
