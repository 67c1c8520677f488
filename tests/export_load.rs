//! `coldctr export` loaded by the engines people load archives with, each a private instance on a
//! temp dir: an old dockerd (Debian 12's 20.10, graphdriver image store: it reads manifest.json,
//! not index.json) and podman. What they show after the load is compared with what dockerd 28.5
//! printed on the source node (fixtures/expected/docker-28.5/inspect) and with the manifests in
//! the fixture's own content store, never with coldctr's output.
//!
//! Both run as root in a mount namespace of their own whose /run is a fresh tmpfs (and whose
//! /etc/docker is a temp dir): dockerd 20.10 writes /etc/docker/key.json and /run/docker/plugins,
//! podman /run/containers/networks, whatever the flags say; in the namespace nothing of that
//! reaches the host, and dockerd finds no system containerd socket so it starts its own under
//! its exec root. Skipped, with a note, when the tools are absent or cannot start here.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BLOBS: &str = "io.containerd.content.v1.content/blobs/sha256";

fn fixture(fx: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(fx)
}

fn export(args: &[&str]) -> Output {
    export_from("docker-28.5", "moby", args).output().expect("run coldctr")
}

fn export_from(fx: &str, ns: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_coldctr"));
    c.arg("--root")
        .arg(fixture(fx))
        .args(["-n", ns, "--host-platform", "linux/amd64", "export"])
        .args(args)
        .env_remove("COLDCTR_ROOT")
        .stdin(Stdio::null());
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// What dockerd 28.5 printed for `docker image inspect NAME` on the source node.
fn source_inspect(file: &str) -> Value {
    let path = fixture("expected/docker-28.5/inspect").join(format!("{file}__api-default.stdout"));
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v[0].clone()
}

/// The config digest of a target's linux/amd64 manifest (the target itself, or the index
/// entry for it), read from the fixture's content store.
fn config_of(target: &str) -> String {
    config_in("docker-28.5", target)
}

fn config_in(fx: &str, target: &str) -> String {
    let read = |d: &str| -> Value {
        let blob = fixture(fx).join(BLOBS).join(d.trim_start_matches("sha256:"));
        serde_json::from_slice(&std::fs::read(blob).unwrap()).unwrap()
    };
    let mut m = read(target);
    if let Some(children) = m["manifests"].as_array() {
        let amd64 = children
            .iter()
            .find(|c| c["platform"]["os"] == "linux" && c["platform"]["architecture"] == "amd64")
            .unwrap();
        m = read(amd64["digest"].as_str().unwrap());
    }
    m["config"]["digest"].as_str().unwrap().to_string()
}

/// `command` run in a private mount namespace whose /run is an empty tmpfs and, with `etc`,
/// whose /etc/docker is `etc` (the bind fails, and so the command, when the host has none: then
/// dockerd would create it). `mount -n`: no utab entry under the host's /run.
fn isolated(etc: Option<&Path>, command: &str) -> Command {
    let mut script = String::from("mount -n -t tmpfs tmpfs /run && ");
    if etc.is_some() {
        script.push_str("mount -n --bind \"$0\" /etc/docker && ");
    }
    script.push_str("exec \"$@\"");
    let etc = etc.map_or(PathBuf::from("-"), Path::to_path_buf);
    if etc.is_absolute() {
        std::fs::create_dir_all(&etc).unwrap();
    }
    let mut c = Command::new("unshare");
    c.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(script)
        .arg(etc)
        .arg(command);
    c
}

/// Root, and every tool on PATH; else false with the reason printed.
fn can_run(tools: &[&str]) -> bool {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: a private {} needs root", tools.first().unwrap_or(&""));
        return false;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for tool in tools {
        if !std::env::split_paths(&path).any(|d| d.join(tool).is_file()) {
            eprintln!("skipped: {tool} is not installed; .ci/run installs it");
            return false;
        }
    }
    true
}

/// A private dockerd (data, exec root, socket and pid file under a temp dir; vfs, no networking),
/// stopped when dropped, also when the test fails: SIGTERM (it then stops its containerd), and
/// SIGKILL for it and its containerd after 10 s.
struct PrivateDockerd {
    child: Child,
    dir: PathBuf,
}

impl PrivateDockerd {
    fn socket(&self) -> String {
        format!("unix://{}", self.dir.join("docker.sock").display())
    }

    fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .arg("-H")
            .arg(self.socket())
            .args(args)
            .env("DOCKER_CONFIG", self.dir.join("client"))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

impl Drop for PrivateDockerd {
    fn drop(&mut self) {
        let pid = self.child.id() as libc::pid_t;
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let containerd = std::fs::read_to_string(self.dir.join("exec/containerd/containerd.pid"));
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(pid) = containerd.ok().and_then(|p| p.trim().parse::<libc::pid_t>().ok()) {
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

fn private_dockerd(dir: &Path) -> Option<PrivateDockerd> {
    if !can_run(&["dockerd", "docker", "unshare"]) {
        return None;
    }
    let log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
    let mut cmd = isolated(Some(&dir.join("etc-docker")), "dockerd");
    cmd.arg("--data-root")
        .arg(dir.join("data"))
        .arg("--exec-root")
        .arg(dir.join("exec"))
        .arg("--pidfile")
        .arg(dir.join("dockerd.pid"))
        .arg("-H")
        .arg(format!("unix://{}", dir.join("docker.sock").display()))
        .args([
            "--storage-driver",
            "vfs",
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
        ])
        .arg("--config-file")
        .arg(dir.join("daemon.json"));
    std::fs::write(dir.join("daemon.json"), "{}").unwrap();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut daemon = PrivateDockerd {
        child,
        dir: dir.to_path_buf(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = daemon.child.try_wait() {
            eprintln!("skipped: dockerd cannot start here ({status}):\n{}", daemon.log());
            return None;
        }
        if daemon.docker(&["version"]).status.success() {
            return Some(daemon);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the private dockerd did not answer in 30 s:\n{}", daemon.log());
}

/// Names that an old dockerd loads: the other docker-28.5 images have configs whose history
/// counts more non-empty layers than rootfs has, which the graphdriver store refuses ("too many
/// non-empty layers in History section") whoever wrote the archive (see the test below).
/// saved:old and example.org:5000/team/saved:old are one image, so one manifest.json entry.
const OLD_DOCKER_LOADS: &[(&str, &str)] = &[
    ("lab/special:1.0", "lab_special_1.0"),
    ("lab/nohist:1", "lab_nohist_1"),
    ("bx:1", "bx_1"),
    ("saved:old", "saved_old"),
    ("example.org:5000/team/saved:old", "example.org_5000_team_saved_old"),
];

/// Drops what an API 1.41 Config cannot tell from absent: zero values (20.10 prints every field,
/// 28.5 omits empty ones), and Healthcheck.StartInterval, which came with API 1.44 (docker 25).
fn comparable_config(config: &Value) -> BTreeMap<String, Value> {
    let zero = |v: &Value| match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
    };
    let mut out: BTreeMap<String, Value> = config
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| !zero(v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    if let Some(Value::Object(h)) = out.get_mut("Healthcheck") {
        h.remove("StartInterval");
    }
    out
}

#[test]
fn old_docker_loads_our_docker_archive_with_the_source_names_and_config() {
    let dir = tempfile::tempdir().unwrap();
    let Some(daemon) = private_dockerd(dir.path()) else {
        return;
    };
    let out = dir.path().join("out.tar");
    let names: Vec<&str> = OLD_DOCKER_LOADS.iter().map(|(n, _)| *n).collect();
    let mut args = vec!["-o", out.to_str().unwrap()];
    args.extend(&names);
    let o = export(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));

    let load = daemon.docker(&["load", "-i", out.to_str().unwrap()]);
    assert!(load.status.success(), "{}\n{}", text(&load.stderr), daemon.log());
    let loaded: BTreeSet<String> = text(&load.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("Loaded image: "))
        .map(String::from)
        .collect();
    assert_eq!(
        loaded,
        names.iter().map(|n| n.to_string()).collect(),
        "{}",
        text(&load.stdout)
    );

    for (name, file) in OLD_DOCKER_LOADS {
        let o = daemon.docker(&["image", "inspect", name]);
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
        let got: Value = serde_json::from_slice(&o.stdout).unwrap();
        let got = &got[0];
        let want = source_inspect(file);
        // A graphdriver image's ID is its config digest; 28.5's is the manifest's (the target).
        let target = want["Id"].as_str().unwrap();
        assert_eq!(got["Id"].as_str(), Some(config_of(target).as_str()), "{name}");
        let tags = |v: &Value| -> BTreeSet<String> {
            v["RepoTags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(tags(got), tags(&want), "{name}");
        for field in ["Author", "Comment", "Architecture", "Os", "Variant", "RootFS"] {
            assert_eq!(got.get(field), want.get(field), "{name}: {field}");
        }
        // An image whose config has no `created` (lab/nohist): 20.10 prints Go's zero time.
        let created = want
            .get("Created")
            .cloned()
            .unwrap_or(Value::from("0001-01-01T00:00:00Z"));
        assert_eq!(got["Created"], created, "{name}");
        assert_eq!(
            comparable_config(&got["Config"]),
            comparable_config(&want["Config"]),
            "{name}"
        );
        // Not compared: RepoDigests (a graphdriver `docker load` records none), Size (unpacked
        // there, content here), Descriptor (no such field before API 1.46), DockerVersion (20.10
        // shows the config's docker_version, 28.5 an empty string), LastTagTime.
    }
}

#[test]
fn old_docker_refuses_an_image_as_it_refuses_dockers_own_save_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some(daemon) = private_dockerd(dir.path()) else {
        return;
    };
    let out = dir.path().join("out.tar");
    let o = export(&["-o", out.to_str().unwrap(), "webapp-debug:1.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let ours = daemon.docker(&["load", "-i", out.to_str().unwrap()]);
    let saved = fixture("docker-save/save-webapp-debug_1.0.tar");
    let theirs = daemon.docker(&["load", "-i", saved.to_str().unwrap()]);
    // The refusal is about the image's config, not the archive: the same as dockerd 28.5's save.
    assert!(!theirs.status.success());
    assert!(
        text(&theirs.stderr).contains("too many non-empty layers in History section"),
        "{}",
        text(&theirs.stderr)
    );
    assert_eq!(ours.status.code(), theirs.status.code());
    assert_eq!(text(&ours.stderr), text(&theirs.stderr));
}

#[test]
fn old_docker_loads_a_real_image_streamed_to_its_stdin() {
    // registry.k8s.io/pause:3.9 as containerd 1.6 pulled it (an index; amd64 alone on the node).
    let dir = tempfile::tempdir().unwrap();
    let Some(daemon) = private_dockerd(dir.path()) else {
        return;
    };
    let mut coldctr = export_from("containerd-1.6", "k8s.io", &["-o", "-", "registry.k8s.io/pause:3.9"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let load = Command::new("docker")
        .arg("-H")
        .arg(daemon.socket())
        .arg("load")
        .env("DOCKER_CONFIG", dir.path().join("client"))
        .stdin(coldctr.stdout.take().unwrap())
        .output()
        .unwrap();
    let exported = coldctr.wait_with_output().unwrap();
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    assert!(load.status.success(), "{}\n{}", text(&load.stderr), daemon.log());
    assert_eq!(text(&load.stdout).trim(), "Loaded image: registry.k8s.io/pause:3.9");
    let records = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(fixture("containerd-1.6"))
        .args(["-n", "k8s.io", "images", "--format", "json"])
        .output()
        .unwrap();
    let records: Value = serde_json::from_slice(&records.stdout).unwrap();
    let target = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "registry.k8s.io/pause:3.9")
        .and_then(|r| r["target"]["digest"].as_str())
        .unwrap()
        .to_string();
    let config_digest = config_in("containerd-1.6", &target);
    let config_file = fixture("containerd-1.6")
        .join(BLOBS)
        .join(config_digest.trim_start_matches("sha256:"));
    let config: Value = serde_json::from_slice(&std::fs::read(config_file).unwrap()).unwrap();
    let o = daemon.docker(&["image", "inspect", "registry.k8s.io/pause:3.9"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let got: Value = serde_json::from_slice(&o.stdout).unwrap();
    let got = &got[0];
    assert_eq!(got["Id"].as_str(), Some(config_digest.as_str()));
    assert_eq!(strs(&got["RepoTags"]), ["registry.k8s.io/pause:3.9"]);
    assert_eq!(got["Created"], config["created"]);
    assert_eq!(got["Architecture"], config["architecture"]);
    assert_eq!(got["RootFS"]["Layers"], config["rootfs"]["diff_ids"]);
    assert_eq!(got["Config"]["Entrypoint"], config["config"]["Entrypoint"]);
}

/// A private podman: storage, run root, libpod tmp dir and network config under a temp dir, no
/// events, each command in the isolated namespace. Nothing runs between commands.
struct PrivatePodman {
    dir: PathBuf,
}

impl PrivatePodman {
    fn new(dir: &Path) -> Option<Self> {
        if !can_run(&["podman", "unshare"]) {
            return None;
        }
        let p = PrivatePodman { dir: dir.to_path_buf() };
        let o = p.podman(&["images"]);
        if !o.status.success() {
            eprintln!("skipped: podman cannot run here: {}", text(&o.stderr));
            return None;
        }
        Some(p)
    }

    fn podman(&self, args: &[&str]) -> Output {
        let d = &self.dir;
        isolated(None, "podman")
            .arg("--root")
            .arg(d.join("storage"))
            .arg("--runroot")
            .arg(d.join("run"))
            .arg("--tmpdir")
            .arg(d.join("tmp"))
            .arg("--network-config-dir")
            .arg(d.join("net"))
            .args([
                "--storage-driver",
                "vfs",
                "--events-backend",
                "none",
                "--cgroup-manager",
                "cgroupfs",
            ])
            .args(args)
            // Where it unpacks an OCI archive (else /var/tmp).
            .env("TMPDIR", d.join("tmp"))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn inspect(&self, name: &str) -> Value {
        let o = self.podman(&["image", "inspect", name]);
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v[0].clone()
    }
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

#[test]
fn podman_loads_each_format_with_the_source_name_and_digests() {
    let dir = tempfile::tempdir().unwrap();
    let want = source_inspect("lab_special_1.0");
    let target = want["Id"].as_str().unwrap().to_string();
    let config = config_of(&target);
    // Not oci-dir: podman 4.3 names an image loaded from a directory after its path (and refuses
    // a path with capitals, as a temp dir's), whatever index.json says.
    for format in ["docker-archive", "oci-archive"] {
        let sub = dir.path().join(format);
        std::fs::create_dir_all(&sub).unwrap();
        let Some(podman) = PrivatePodman::new(&sub) else {
            return;
        };
        let out = sub.join("out");
        let o = export(&["--format", format, "-o", out.to_str().unwrap(), "lab/special:1.0"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let load = podman.podman(&["load", "-i", out.to_str().unwrap()]);
        assert!(load.status.success(), "{format}: {}", text(&load.stderr));
        // One image: podman reads it as OCI (even the docker-archive, which is a layout too), so
        // it keeps the manifest, and names it from io.containerd.image.name.
        assert_eq!(
            text(&load.stdout).trim(),
            "Loaded image: docker.io/lab/special:1.0",
            "{format}"
        );
        let got = podman.inspect("docker.io/lab/special:1.0");
        assert_eq!(got["Id"].as_str(), config.strip_prefix("sha256:"), "{format}");
        assert_eq!(got["Digest"].as_str(), Some(target.as_str()), "{format}");
        assert_eq!(strs(&got["RepoTags"]), ["docker.io/lab/special:1.0"], "{format}");
        assert_eq!(
            strs(&got["RepoDigests"]),
            [format!("docker.io/lab/special@{target}")],
            "{format}"
        );
        for field in ["Created", "Author", "Architecture", "Os"] {
            assert_eq!(got[field], want[field], "{format}: {field}");
        }
        assert_eq!(got["RootFS"]["Layers"], want["RootFS"]["Layers"], "{format}");
    }
}

#[test]
fn podman_loads_a_docker_archive_of_several_images_by_its_manifest_json() {
    let dir = tempfile::tempdir().unwrap();
    let Some(podman) = PrivatePodman::new(dir.path()) else {
        return;
    };
    let out = dir.path().join("out.tar");
    let names: Vec<&str> = OLD_DOCKER_LOADS.iter().map(|(n, _)| *n).collect();
    let mut args = vec!["-o", out.to_str().unwrap()];
    args.extend(&names);
    let o = export(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let load = podman.podman(&["load", "-i", out.to_str().unwrap()]);
    assert!(load.status.success(), "{}", text(&load.stderr));
    // Podman 4 loads an OCI archive of one image only; with several it reads manifest.json as a
    // docker-archive, naming a RepoTag without a domain under localhost/ (as it names those of
    // docker's own `docker save`) and writing a manifest of its own: the image ID (the config
    // digest) is what survives.
    let podman_name = |n: &str| match n.split_once('/') {
        Some((domain, _)) if domain.contains(['.', ':']) => n.to_string(),
        _ => format!("localhost/{n}"),
    };
    let loaded: BTreeSet<String> = text(&load.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("Loaded image: "))
        .map(String::from)
        .collect();
    assert_eq!(
        loaded,
        names.iter().map(|n| podman_name(n)).collect(),
        "{}",
        text(&load.stdout)
    );
    for (name, file) in OLD_DOCKER_LOADS {
        let want = source_inspect(file);
        let got = podman.inspect(&podman_name(name));
        let config = config_of(want["Id"].as_str().unwrap());
        assert_eq!(got["Id"].as_str(), config.strip_prefix("sha256:"), "{name}");
        let tags: BTreeSet<String> = strs(&got["RepoTags"]).into_iter().collect();
        let want_tags: BTreeSet<String> = strs(&want["RepoTags"]).iter().map(|t| podman_name(t)).collect();
        assert_eq!(tags, want_tags, "{name}");
        assert_eq!(got["RootFS"]["Layers"], want["RootFS"]["Layers"], "{name}");
    }
}
