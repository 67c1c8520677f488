//! `diff`, `fs` and `mounts` of Docker containers on dockerd's overlay2 graph driver, on a data
//! root a real dockerd 20.10.24 made (`fixtures/node-docker20-overlay2.tar.gz`), against what
//! it printed (`fixtures/expected/node-docker20-overlay2/`: `docker diff`, `docker export` as
//! GNU tar's listing, the driver's mount in `/proc/mounts`); plus damaged copies made at run
//! time. The layers are the driver's dirs, not snapshots: these commands refused every such
//! container before ("the overlay2 snapshotter's metadata.db was not read").
//!
//! The tar is unpacked as root, keeping whiteouts (0/0 devices) and `trusted.overlay.*`
//! xattrs. Unprivileged, tar cannot make them: the tests that read layers then skip and say so
//! (CI runs as root); mount lines and damage found before any layer is read do not need them.

mod bolt_support;

use bolt_support::{Run, coldctr, repo};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const CONTAINERS: [&str; 3] = ["o2-fs", "o2-created", "o2-run"];

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn skip_unless_root(what: &str) -> bool {
    if !is_root() {
        eprintln!("skipped: {what} (not root: whiteouts and opaque xattrs need a root unpack)");
    }
    !is_root()
}

/// Unpacks the fixture into `dir` as its README says (as root: xattrs, devices, modes kept).
fn unpack(dir: &Path) {
    let flags: &[&str] = if is_root() {
        &["--xattrs", "--xattrs-include=*", "-xpzf"]
    } else {
        &["-xzf"]
    };
    let out = Command::new("tar")
        .args(flags)
        .arg(repo().join("fixtures/node-docker20-overlay2.tar.gz"))
        .arg("-C")
        .arg(dir)
        .output()
        .unwrap();
    if is_root() {
        assert!(out.status.success(), "tar: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(
        dir.join("docker/containerd/daemon/io.containerd.metadata.v1.bolt/meta.db")
            .is_file()
    );
}

/// The data root, unpacked once for the tests that only read it.
fn node() -> &'static Path {
    static NODE: OnceLock<PathBuf> = OnceLock::new();
    NODE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("overlay2-graph-node");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        unpack(&dir);
        dir.join("docker")
    })
}

/// `coldctr --root <data root>/containerd/daemon <args>`: dockerd's own containerd root,
/// beside which the Docker data root is found.
fn run_in(docker: &Path, args: &[&str]) -> Run {
    let mut all: Vec<OsString> = vec!["--root".into(), docker.join("containerd/daemon").into()];
    all.extend(args.iter().map(Into::into));
    coldctr(&all)
}

fn run(args: &[&str]) -> Run {
    run_in(node(), args)
}

fn expected(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("fixtures/expected/node-docker20-overlay2").join(name)).unwrap()
}

/// Lines of `text` sorted: docker diff's order is a Go map's, different from run to run.
fn sorted_lines(text: &[u8]) -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    lines.sort();
    lines
}

/// `diff --format json` as docker diff prints it: `<kind> <raw path>` a line.
fn diff_as_docker(container: &str) -> Vec<u8> {
    let r = run(&["diff", "--format", "json", container]);
    assert_eq!(r.code, Some(0), "{container}: {}", r.stderr);
    assert!(r.stderr.is_empty(), "{container}: {}", r.stderr);
    let rows: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let mut out = Vec::new();
    for row in rows.as_array().unwrap() {
        out.extend(row["kind"].as_str().unwrap().as_bytes());
        out.push(b' ');
        match row.get("pathHex") {
            Some(h) => out.extend(hex::decode(h.as_str().unwrap()).unwrap()),
            None => out.extend(row["path"].as_str().unwrap().as_bytes()),
        }
        out.push(b'\n');
    }
    out
}

#[test]
fn diff_equals_docker_diff() {
    if skip_unless_root("overlay2 diff against docker diff") {
        return;
    }
    for c in CONTAINERS {
        assert_eq!(
            sorted_lines(&diff_as_docker(c)),
            sorted_lines(&expected(&format!("{c}.diff.txt"))),
            "{c}"
        );
    }
    // The deletions and the opaque dirs are there, and the init layer's placeholders are not.
    let fs = String::from_utf8(diff_as_docker("o2-fs")).unwrap();
    for line in [
        "D /etc/os-release",
        "D /new/deep",
        "D /opt/app/old",
        "C /opt/app",
        "A /data/only",
    ] {
        assert!(fs.lines().any(|l| l == line), "{line}: {fs}");
    }
    for hidden in ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/.dockerenv", "/dev"] {
        assert!(!fs.lines().any(|l| l.ends_with(hidden)), "{hidden}: {fs}");
    }
    // The table escapes names, by container name or ID prefix alike.
    let table = run(&["diff", "o2-fs"]);
    assert_eq!(table.code, Some(0), "{}", table.stderr);
    assert!(table.stdout_text().lines().any(|l| l == "A /nl\\nname"));
}

/// GNU tar's verbose listing of `tar`, as the capture made it.
fn tvf(tar: &Path) -> Vec<u8> {
    let out = Command::new("tar")
        .args(["--numeric-owner", "--full-time", "-tvf"])
        .arg(tar)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn export_lists_as_docker_export() {
    if skip_unless_root("overlay2 export against docker export") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for c in CONTAINERS {
        let tar = dir.path().join(format!("{c}.tar"));
        let r = run(&["fs", "export", c, "-o", tar.to_str().unwrap()]);
        assert_eq!(r.code, Some(0), "{c}: {}", r.stderr);
        assert!(r.stderr.is_empty(), "{c}: {}", r.stderr);
        // Names, types, modes, owners, sizes, mtimes and link targets, in docker's order.
        assert_eq!(
            String::from_utf8_lossy(&tvf(&tar)),
            String::from_utf8_lossy(&expected(&format!("{c}.export.tv"))),
            "{c}"
        );
    }
}

#[test]
fn ls_and_cat_read_the_merged_tree() {
    if skip_unless_root("overlay2 fs ls and cat") {
        return;
    }
    let cat = |spec: &str| run(&["fs", "cat", spec]);
    let r = cat("o2-fs:/opt/app/fresh");
    assert_eq!(
        (r.code, r.stdout.as_slice()),
        (Some(0), b"fresh\n".as_slice()),
        "{}",
        r.stderr
    );
    // Changed in the rw layer, kept from the image, hidden by a whiteout.
    assert_eq!(cat("o2-fs:/added.txt").stdout, b"over\n");
    assert_eq!(cat("o2-created:/added.txt").stdout, b"added\n");
    let gone = cat("o2-fs:/etc/os-release");
    assert_eq!(gone.code, Some(1), "{}", gone.stderr);
    assert!(cat("o2-created:/etc/os-release").stdout.starts_with(b"PRETTY_NAME="));
    // The rw layer of a stopped container keeps what it wrote.
    assert_eq!(cat("o2-run:/runfile").stdout, b"run\n");

    let names = |spec: &str| -> Vec<String> {
        let r = run(&["fs", "ls", "--format", "json", spec]);
        assert_eq!(r.code, Some(0), "{spec}: {}", r.stderr);
        let rows: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    // Opaque dirs show only what the rw layer has; the image's /opt/app holds `old`.
    assert_eq!(names("o2-fs:/opt/app"), ["fresh"]);
    assert_eq!(names("o2-fs:/data"), ["only"]);
    assert_eq!(names("o2-created:/opt/app"), ["old"]);
    // The init layer is in the stack: its placeholders are in the tree.
    let etc = names("o2-fs:/etc");
    for n in ["hostname", "hosts", "resolv.conf"] {
        assert!(etc.iter().any(|e| e == n), "{n}: {etc:?}");
    }
    assert!(!etc.iter().any(|e| e == "os-release"), "{etc:?}");
    // Each entry says the layer dir it comes from: the rw layer's upper for the new file.
    let r = run(&["fs", "ls", "--format", "json", "o2-fs:/newfile"]);
    let rows: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let layer = rows[0]["layer"].as_str().unwrap();
    let mount_id = std::fs::read_to_string(
        node()
            .join("image/overlay2/layerdb/mounts")
            .join(container_id("o2-fs"))
            .join("mount-id"),
    )
    .unwrap();
    assert!(
        layer.ends_with(&format!("/overlay2/{}/diff", mount_id.trim())),
        "{layer}"
    );
}

/// The full ID of a container of the fixture, from its name.
fn container_id(name: &str) -> String {
    let r = run(&["container", "inspect", "-f", "{{.Id}}", name]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    r.stdout_text().trim().to_string()
}

#[test]
fn mounts_print_the_drivers_mount() {
    // What the kernel listed of the driver's mount of o2-run while it ran: `rw,relatime`
    // added, `index=off` (the module's default) not listed.
    let proc_line = String::from_utf8(expected("o2-run.proc-mounts.txt")).unwrap();
    let fields: Vec<&str> = proc_line.split(' ').collect();
    let options = fields[3].strip_prefix("rw,relatime,").unwrap();
    // The data root dockerd ran with, as the line names it.
    let upper = options.split(",upperdir=").nth(1).unwrap();
    let node_root = &upper[..upper.find("/overlay2/").unwrap()];
    let r = run(&["mounts", "o2-run", "--node-root", node_root]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout_text().trim_end(),
        format!("mount -t overlay overlay /mnt -o index=off,{options}")
    );
    // The dirs `container inspect` derives are the ones the driver mounted.
    let data = run(&[
        "container",
        "inspect",
        "-f",
        "upperdir={{.GraphDriver.Data.UpperDir}},workdir={{.GraphDriver.Data.WorkDir}}",
        "o2-run",
    ]);
    assert_eq!(data.code, Some(0), "{}", data.stderr);
    assert_eq!(data.stdout_text().trim_end(), format!("upperdir={upper}"));
    // By ID prefix, paths under the copy read by default, with --userxattr and a target.
    let id = container_id("o2-run");
    let r = run(&["mounts", &id[..12], "--userxattr", "--target", "/evidence/m"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let home = node().join("overlay2");
    let home = home.to_str().unwrap();
    let line = r.stdout_text();
    assert!(
        line.starts_with(&format!(
            "mount -t overlay overlay /evidence/m -o index=off,userxattr,lowerdir={home}/l/"
        )),
        "{line}"
    );
    // Read-only: the rw layer's diff first, then the same links, no upper, no work dir.
    let ro = run(&["mounts", "o2-run", "--read-only", "--node-root", "/n"]);
    assert_eq!(ro.code, Some(0), "{}", ro.stderr);
    let lowers = options
        .split(",upperdir=")
        .next()
        .unwrap()
        .replace(&format!("{node_root}/"), "/n/");
    let mount_id = upper.split('/').rev().nth(1).unwrap();
    assert_eq!(
        ro.stdout_text().trim_end(),
        format!(
            "mount -t overlay overlay /mnt -o ro,lowerdir=/n/overlay2/{mount_id}/diff:{},index=off",
            lowers.strip_prefix("lowerdir=").unwrap()
        )
    );
    // A node root the line cannot carry is refused (exit 2), as for a snapshot's line.
    let odd = run(&["mounts", "o2-run", "--node-root", "/evidence/a,b"]);
    assert_eq!(odd.code, Some(2), "{}", odd.stderr);
    assert!(odd.stdout.is_empty());
}

#[test]
fn commands_that_need_a_snapshot_say_it_is_the_graph_driver() {
    let r = run(&["snapshots", "tree", "o2-fs"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("on dockerd's overlay2 graph driver"), "{}", r.stderr);
    assert!(!r.stderr.contains("metadata.db"), "{}", r.stderr);
}

/// A fresh unpack of the fixture, for a test to damage.
fn damaged_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::TempDir::new_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    unpack(dir.path());
    let docker = dir.path().join("docker");
    (dir, docker)
}

/// The rw layer dir of container `name` in the data root `docker`, and its `lower` entries.
fn rw_layer(docker: &Path, id: &str) -> (PathBuf, Vec<String>) {
    let mount_id =
        std::fs::read_to_string(docker.join("image/overlay2/layerdb/mounts").join(id).join("mount-id")).unwrap();
    let dir = docker.join("overlay2").join(mount_id.trim());
    let lower = std::fs::read_to_string(dir.join("lower")).unwrap();
    (dir, lower.split(':').map(str::to_string).collect())
}

#[test]
fn a_link_out_of_the_data_root_is_damage_and_not_followed() {
    let id = container_id("o2-fs");
    let (_dir, docker) = damaged_copy();
    let (_, lowers) = rw_layer(&docker, &id);
    // The image's lowest layer's link now leads to the host's /etc.
    let link = docker.join("overlay2").join(lowers.last().unwrap());
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("/etc", &link).unwrap();
    for args in [
        &["diff", "o2-fs"][..],
        &["fs", "cat", "o2-fs:/passwd"],
        &["fs", "ls", "o2-fs:/"],
        &["mounts", "o2-fs"],
        &["mounts", "o2-fs", "--read-only"],
    ] {
        let r = run_in(&docker, args);
        assert_eq!(r.code, Some(3), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout_text());
        assert!(
            r.stderr.contains("/lower: lower ") && r.stderr.contains("does not name a layer"),
            "{args:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn a_missing_mount_id_or_a_symlinked_upper_is_damage() {
    let fs = container_id("o2-fs");
    let run_id = container_id("o2-run");
    let (_dir, docker) = damaged_copy();
    std::fs::remove_file(docker.join("image/overlay2/layerdb/mounts").join(&fs).join("mount-id")).unwrap();
    let r = run_in(&docker, &["diff", "o2-fs"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("/mount-id: not there"), "{}", r.stderr);
    // An upper dir swapped for a symlink (to the host's root) is never read through.
    let (dir, _) = rw_layer(&docker, &run_id);
    let upper = dir.join("diff");
    std::fs::rename(&upper, dir.join("diff.moved")).unwrap();
    std::os::unix::fs::symlink("/", &upper).unwrap();
    for args in [
        &["diff", "o2-run"][..],
        &["fs", "ls", "o2-run:/"],
        &["fs", "export", "o2-run", "-o", "-"],
    ] {
        let r = run_in(&docker, args);
        assert_eq!(r.code, Some(3), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}");
        assert!(
            r.stderr.contains("/diff: a symlink, not followed"),
            "{args:?}: {}",
            r.stderr
        );
    }
    // mounts prints the line for the record, and says what is wrong with it.
    let r = run_in(&docker, &["mounts", "o2-run"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stdout_text()
            .starts_with("mount -t overlay overlay /mnt -o index=off,lowerdir=")
    );
    assert!(r.stderr.contains("/diff: a symlink, not followed"), "{}", r.stderr);
}

/// The fixture's containers by name, from their own `config.v2.json` (`Name`, `/`-led).
fn fixture_id(docker: &Path, name: &str) -> String {
    for entry in std::fs::read_dir(docker.join("containers")).unwrap() {
        let entry = entry.unwrap();
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(entry.path().join("config.v2.json")).unwrap()).unwrap();
        if config["Name"].as_str() == Some(&format!("/{name}")) {
            return entry.file_name().into_string().unwrap();
        }
    }
    panic!("{name}: no such container in the fixture")
}

fn layerdb_file(docker: &Path, rest: &str) -> String {
    std::fs::read_to_string(docker.join("image/overlay2/layerdb").join(rest))
        .unwrap()
        .trim()
        .to_string()
}

/// `which --format json PATH` on the shared copy: exit code and the report.
fn which_json(docker: &Path, path: &Path) -> (Option<i32>, serde_json::Value, String) {
    let r = run_in(docker, &["which", "--format", "json", path.to_str().unwrap()]);
    let v = serde_json::from_slice(&r.stdout).unwrap_or(serde_json::Value::Null);
    (r.code, v, r.stderr)
}

/// moby's chain ID of the first `n` diff IDs.
fn chain_of(diff_ids: &[String]) -> String {
    use sha2::Digest;
    let mut chain = diff_ids[0].clone();
    for d in &diff_ids[1..] {
        chain = format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(format!("{chain} {d}").as_bytes()))
        );
    }
    chain
}

#[test]
fn which_names_a_containers_rw_layer_its_merged_root_and_its_init_layer() {
    let docker = node();
    let home = docker.join("overlay2");
    // o2-fs's upper file, by its rw layer's dir (its layer store's mount-id).
    let fs = fixture_id(docker, "o2-fs");
    let mount = layerdb_file(docker, &format!("mounts/{fs}/mount-id"));
    let path = home.join(&mount).join("diff/newfile");
    let r = run_in(docker, &["which", path.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let table = r.stdout_text();
    for line in [
        format!("layer:        {mount}"),
        "area:         files (diff)".to_string(),
        "path:         /newfile".to_string(),
        format!("container:    {fs} (o2-fs) [docker]: its rw layer"),
        "image:        none".to_string(),
        format!("command:      coldctr fs ls {fs}:/newfile"),
        format!("command:      coldctr diff {fs}"),
        format!("command:      coldctr mounts {fs}"),
    ] {
        assert!(table.lines().any(|l| l == line), "{line}\n{table}");
    }
    // o2-run's merged root, by the dir dockerd mounted it on (its captured /proc/mounts line).
    let proc_line = String::from_utf8(expected("o2-run.proc-mounts.txt")).unwrap();
    let merged = proc_line.split(' ').nth(1).unwrap();
    let run_mount = merged
        .trim_end_matches("/merged")
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let run_id = fixture_id(docker, "o2-run");
    let (code, v, stderr) = which_json(docker, &home.join(&run_mount).join("merged/runfile"));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(v["area"], "merged");
    assert_eq!(v["path"], "/runfile");
    assert_eq!(v["containers"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["containers"][0]["id"], run_id.as_str());
    assert_eq!(v["containers"][0]["name"], "o2-run");
    assert_eq!(v["containers"][0]["role"], "rw");
    // The node's own path (dockerd's data root as the capture names it): read by its text
    // against this copy's records.
    let r = run_in(docker, &["which", &format!("{merged}/runfile")]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout_text().contains(&format!(
            "container:    {run_id} (o2-run) [docker]: its rw layer; merged is its mounted root while it runs"
        )),
        "{}",
        r.stdout_text()
    );
    // Its -init layer: the nearest lower of the mount, its link's target.
    let lowers: Vec<&str> = proc_line
        .split("lowerdir=")
        .nth(1)
        .unwrap()
        .split(",upperdir=")
        .next()
        .unwrap()
        .split(':')
        .collect();
    let init_link = lowers[0].rsplit('/').next().unwrap();
    let init_dir = std::fs::read_link(home.join("l").join(init_link)).unwrap();
    let init_dir = init_dir
        .to_str()
        .unwrap()
        .trim_start_matches("../")
        .trim_end_matches("/diff");
    assert_eq!(init_dir, format!("{run_mount}-init"));
    assert_eq!(layerdb_file(docker, &format!("mounts/{run_id}/init-id")), init_dir);
    let r = run_in(
        docker,
        &["which", home.join(init_dir).join("diff/etc/hosts").to_str().unwrap()],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout_text()
            .lines()
            .any(|l| l
                == format!("container:    {run_id} (o2-run) [docker]: its init layer (layer 1 below its rw layer)")),
        "{}",
        r.stdout_text()
    );
    // Through the link itself, the same answer.
    let r = run_in(
        docker,
        &[
            "which",
            home.join("l").join(init_link).join("etc/hosts").to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout_text().contains(&format!("(through link l/{init_link})")),
        "{}",
        r.stdout_text()
    );
    assert!(r.stdout_text().contains("its init layer"), "{}", r.stdout_text());
    // Its work dir and its layer dir.
    let (code, v, _) = which_json(docker, &home.join(&run_mount).join("work/work"));
    assert_eq!((code, v["area"].as_str()), (Some(0), Some("work")));
    assert_eq!(v["commands"][0], format!("coldctr diff {run_id}"));
}

#[test]
fn which_names_an_image_layers_chain_images_and_containers() {
    let docker = node();
    let home = docker.join("overlay2");
    // The image's layers, from its config; its ID, from the reference store.
    let content = docker.join("image/overlay2/imagedb/content/sha256");
    let repositories: serde_json::Value =
        serde_json::from_slice(&std::fs::read(docker.join("image/overlay2/repositories.json")).unwrap()).unwrap();
    let image_id = repositories["Repositories"]["lab/committed"]["lab/committed:1"]
        .as_str()
        .unwrap()
        .to_string();
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(content.join(&image_id[7..])).unwrap()).unwrap();
    let diff_ids: Vec<String> = config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    // The mount dockerd made for o2-run, lowers nearest first: the init layer, then the
    // image's top down to its base.
    let proc_line = String::from_utf8(expected("o2-run.proc-mounts.txt")).unwrap();
    let lowers: Vec<String> = proc_line
        .split("lowerdir=")
        .nth(1)
        .unwrap()
        .split(",upperdir=")
        .next()
        .unwrap()
        .split(':')
        .map(|l| l.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(lowers.len(), diff_ids.len() + 1);
    let ids: Vec<String> = CONTAINERS.iter().map(|c| fixture_id(docker, c)).collect();
    for below_top in [0, 1, diff_ids.len() - 1] {
        let link = &lowers[1 + below_top];
        let target = std::fs::read_link(home.join("l").join(link)).unwrap();
        let dir = target
            .to_str()
            .unwrap()
            .trim_start_matches("../")
            .trim_end_matches("/diff")
            .to_string();
        let n = diff_ids.len() - below_top;
        let chain = chain_of(&diff_ids[..n]);
        assert_eq!(layerdb_file(docker, &format!("sha256/{}/cache-id", &chain[7..])), dir);
        for path in [
            home.join(&dir).join("diff/etc/os-release"),
            home.join("l").join(link).join("etc/os-release"),
        ] {
            let (code, v, stderr) = which_json(docker, &path);
            assert_eq!(code, Some(0), "{}: {stderr}", path.display());
            assert!(stderr.is_empty(), "{stderr}");
            assert_eq!(v["layer"], dir.as_str());
            assert_eq!(v["path"], "/etc/os-release");
            assert_eq!(v["imageLayers"].as_array().unwrap().len(), 1, "{v}");
            assert_eq!(v["imageLayers"][0]["chainId"], chain.as_str());
            assert_eq!(v["imageLayers"][0]["diffId"], diff_ids[n - 1].as_str());
            // lab/committed:1 (also pulled under another name), the untagged commit of
            // o2-created (the same layers) and the commit of o2-fs, one layer above them.
            let images = v["images"].as_array().unwrap();
            assert_eq!(images.len(), 3, "{v}");
            let of = |id: &str| images.iter().find(|i| i["id"] == id).expect("the image");
            let it = of(&image_id);
            assert_eq!(
                it["names"],
                serde_json::json!([
                    "lab/committed:1",
                    "localhost:5741/lab/pulled:1",
                    "localhost:5741/lab/pulled@sha256:196385c8e432954b9b9ac1d7b35d007d576f28f76052d5ddaa86525f02186194"
                ])
            );
            assert_eq!(it["layer"], below_top);
            let child = images
                .iter()
                .find(|i| i["names"][0] == "example.org:5000/team/o2:v1")
                .expect("the commit");
            assert_eq!(child["layer"], below_top + 1);
            let dangling = images
                .iter()
                .find(|i| i["names"] == serde_json::json!([]))
                .expect("the dangling one");
            assert_eq!(dangling["layer"], below_top);
            // Every container of the image, the layer 2 + below_top under its rw layer.
            let mut got: Vec<(String, String, u64)> = v["containers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["id"].as_str().unwrap().to_string(),
                        c["role"].as_str().unwrap().to_string(),
                        c["layer"].as_u64().unwrap(),
                    )
                })
                .collect();
            got.sort();
            let mut want: Vec<(String, String, u64)> = ids
                .iter()
                .map(|i| (i.clone(), "image".to_string(), 2 + below_top as u64))
                .collect();
            want.sort();
            assert_eq!(got, want);
            for id in &ids {
                assert!(
                    v["commands"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|c| c == &format!("coldctr fs ls {id}:/etc/os-release")),
                    "{v}"
                );
            }
        }
    }
    // The table says it in the words `which` uses for snapshots.
    let top = std::fs::read_link(home.join("l").join(&lowers[1])).unwrap();
    let top = top
        .to_str()
        .unwrap()
        .trim_start_matches("../")
        .trim_end_matches("/diff")
        .to_string();
    let r = run_in(docker, &["which", home.join(&top).join("diff/x").to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let table = r.stdout_text();
    assert!(
        table
            .lines()
            .any(|l| l
                == format!(
                    "image:        lab/committed:1, localhost:5741/lab/pulled:1, localhost:5741/lab/pulled@sha256:196385c8e432954b9b9ac1d7b35d007d576f28f76052d5ddaa86525f02186194 {image_id}: its top layer"
                )),
        "{table}"
    );
    assert!(
        table.lines().any(|l| l
            == format!(
                "container:    {} (o2-fs) [docker]: layer 2 below its rw layer (its image's)",
                ids[0]
            )),
        "{table}"
    );
    // A layer dir no record names: exit 1, said.
    let r = run_in(
        docker,
        &["which", home.join("f".repeat(64)).join("diff/x").to_str().unwrap()],
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stdout_text().contains("record:       none"), "{}", r.stdout_text());
}

#[test]
fn which_says_a_layer_store_that_lies_or_a_symlinked_layer_dir_is_damage() {
    let (_dir, docker) = damaged_copy();
    let home = docker.join("overlay2");
    let fs = fixture_id(&docker, "o2-fs");
    let run_id = fixture_id(&docker, "o2-run");
    let fs_mount = layerdb_file(&docker, &format!("mounts/{fs}/mount-id"));
    let run_mount = layerdb_file(&docker, &format!("mounts/{run_id}/mount-id"));
    // An image layer's cache-id naming o2-fs's rw layer dir: two owners, neither trusted.
    let layers = docker.join("image/overlay2/layerdb/sha256");
    let mut chains: Vec<_> = std::fs::read_dir(&layers).unwrap().map(|e| e.unwrap().path()).collect();
    chains.sort();
    std::fs::write(chains[0].join("cache-id"), &fs_mount).unwrap();
    let r = run_in(
        &docker,
        &["which", home.join(&fs_mount).join("diff/newfile").to_str().unwrap()],
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr.contains("named by 2 records of the layer store"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout_text()
            .contains(&format!("container:    {fs} (o2-fs) [docker]: its rw layer"))
    );
    // A cache-id leading out of the store is not a layer dir name: damage.
    std::fs::write(chains[1].join("cache-id"), "../../../etc").unwrap();
    let r = run_in(
        &docker,
        &["which", home.join(&run_mount).join("diff/runfile").to_str().unwrap()],
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("/cache-id: \"../../../etc\" is not a layer directory name"),
        "{}",
        r.stderr
    );
    // o2-run's rw layer dir swapped for a symlink (to the host's root): not followed.
    let dir = home.join(&run_mount);
    std::fs::rename(&dir, home.join("moved")).unwrap();
    std::os::unix::fs::symlink("/", &dir).unwrap();
    let r = run_in(&docker, &["which", dir.join("diff/etc/passwd").to_str().unwrap()]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{run_mount}: a symlink, not followed")),
        "{}",
        r.stderr
    );
    // A link of l/ to the host's /etc names no layer: damage, not followed.
    let link = std::fs::read_dir(home.join("l"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("/etc", &link).unwrap();
    let r = run_in(&docker, &["which", link.join("passwd").to_str().unwrap()]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("names no layer"), "{}", r.stderr);
}
