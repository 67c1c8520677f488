//! `ps --filter ancestor=IMAGE` as dockerd answers it: each value resolved to an image, that
//! image and every image below it collected, a Docker container kept when its image ID is one
//! of them (moby `daemon/list.go`, `foldFilter`).
//!
//! * the containerd image store: the seized Docker 28.5 node (`fixtures/node-docker28-dev`),
//!   whose classic-builder and `docker commit` images name their parents with the label
//!   `org.mobyproject.image.parent`;
//! * a graph driver store (dockerd 20.10 on overlay2), made here in the layout dockerd 20.10
//!   writes (`image/overlay2/repositories.json`, `imagedb/content` and `metadata/.../parent`,
//!   `layerdb/sha256/<chain id>`), with the situation of a sweep against a live dockerd 20.10
//!   and what its `docker ps -a -f ancestor=...` printed there.

mod bolt_support;
mod docker28_node;

use bolt_support::coldctr;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// `coldctr --root ROOT [--docker-root D] ps -a -f source=docker -f ancestor=V...` names
/// (sorted), and the run.
fn ancestors(root: &Path, docker: Option<&Path>, values: &[&str]) -> (Vec<String>, bolt_support::Run) {
    let mut args = vec!["--root".to_string(), root.display().to_string()];
    if let Some(d) = docker {
        args.extend(["--docker-root".to_string(), d.display().to_string()]);
    }
    args.extend(["ps", "-a", "-f", "source=docker", "--format", "{{.Names}}"].map(str::to_string));
    for v in values {
        args.extend(["-f".to_string(), format!("ancestor={v}")]);
    }
    let r = coldctr(&args);
    let mut names: Vec<String> = r.stdout_text().lines().map(str::to_string).collect();
    names.sort();
    (names, r)
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// The node with its image records and content (dockerd's `GetImage` reads the image's
/// manifest and config: without them it finds no image).
fn docker28_node() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    docker28_node::unpack_members(
        dir.path(),
        &[
            "./var/lib/containerd/io.containerd.metadata.v1.bolt",
            "./var/lib/containerd/io.containerd.content.v1.content",
            "./var/lib/docker/containers",
        ],
    );
    dir
}

/// On the containerd image store a child is a record whose `org.mobyproject.image.parent`
/// label is the parent's ID (moby 28.5 `daemon/containerd/image_children.go`): on this node
/// `saved:old` -> four intermediate builder images -> `lab/toolbox:1` -> `lab/committed:1`
/// (`docker commit` of dev-fschanges), and `lab/busybox:1.38` -> the builds of dev-victim's
/// and dev-oldapp's (dangling) images. The names matched as given before: `saved:old` and
/// `lab/busybox:1.38`'s children kept nothing, `lab/toolbox:1` missed dev-from-commit.
#[test]
fn ancestor_on_the_containerd_image_store_follows_the_parent_labels() {
    let node = docker28_node();
    let root = node.path().join("var/lib/containerd");
    let toolbox = ["dev-running", "dev-exit3", "dev-from-commit", "dev-fschanges"];
    for (value, want) in [
        ("saved:old", &toolbox[..]),
        ("example.org:5000/team/saved:old", &toolbox[..]),
        ("lab/toolbox:1", &toolbox[..]),
        ("registry.example.com:5000/lab/toolbox:1", &toolbox[..]),
        ("abed1cfb6070", &toolbox[..]),
        ("lab/committed:1", &["dev-from-commit"][..]),
        ("lab/busybox:1.38", &["dev-killed", "dev-victim", "dev-oldapp"][..]),
        ("sha256:4edbd01a44a8", &["dev-oldapp"][..]),
        ("multi:3.1", &["dev-created"][..]),
    ] {
        let (names, r) = ancestors(&root, None, &[value]);
        assert_eq!(r.code, Some(0), "{value}: {}", r.stderr);
        assert_eq!(names, sorted(want), "ancestor={value}");
    }
    // Values of one key: any may match. With other keys: all must.
    let (names, _) = ancestors(&root, None, &["lab/committed:1", "multi:3.1"]);
    assert_eq!(names, sorted(&["dev-from-commit", "dev-created"]));
    let r = coldctr(&[
        "--root",
        root.to_str().unwrap(),
        "ps",
        "-a",
        "--format",
        "{{.Names}}",
        "-f",
        "status=exited",
        "-f",
        "ancestor=lab/toolbox:1",
    ]);
    assert_eq!(r.stdout_text(), "dev-exit3\ndev-from-commit\ndev-fschanges\n");
    // A value that names no image is skipped, as dockerd skips it (its log says so; here
    // stderr): alone, it keeps nothing, exit 0.
    let (names, r) = ancestors(&root, None, &["nosuch", "lab/committed:1"]);
    assert_eq!(names, ["dev-from-commit"]);
    assert!(r.stderr.contains("ancestor=nosuch: No such image"), "{}", r.stderr);
    let (names, r) = ancestors(&root, None, &["lab/committed"]);
    assert!(names.is_empty(), "{names:?}");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

/// An image for the hand-made store: its config bytes (shaped as dockerd 20.10 writes them)
/// and ID.
struct Img {
    config: Vec<u8>,
    hex: String,
}

impl Img {
    fn new(diff_ids: &[String], comment: &str) -> Img {
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64",
            "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/bin:/bin"], "Labels": null},
            "created": "2022-11-02T10:00:00Z",
            "docker_version": "20.10.21",
            "history": [{"created": "2022-11-02T10:00:00Z", "created_by": comment}],
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }))
        .unwrap();
        let hex = sha256(&config);
        Img { config, hex }
    }

    fn id(&self) -> String {
        format!("sha256:{}", self.hex)
    }
}

/// The situation of the sweep's dockerd 20.10 store, in small: `base` tagged `lab/committed:1`
/// and `s34/base:latest`; `commit` a `docker commit` child of it (`s34/committed:1`, and
/// `lab/committed:2` moved onto it after e-c2 was made from that tag's earlier image);
/// `saved` another image (`localhost/saved:old`, `example.org:5000/team/saved:old`,
/// `s34/base:v2` moved onto it after c-retag was made from that tag's earlier image, `base`).
struct GraphStore {
    _node: tempfile::TempDir,
    root: PathBuf,
    _dir: tempfile::TempDir,
    docker: PathBuf,
    base: Img,
    commit: Img,
    saved: Img,
}

impl GraphStore {
    fn new() -> GraphStore {
        let node = tempfile::tempdir().unwrap();
        docker28_node::unpack_members(
            node.path(),
            &[
                "./var/lib/containerd/io.containerd.metadata.v1.bolt",
                "./var/lib/docker/containers",
            ],
        );
        let dir = tempfile::tempdir().unwrap();
        let docker = dir.path().join("docker");
        let layer = |n: u8| format!("sha256:{}", sha256(&[n]));
        let base = Img::new(&[layer(1)], "ADD rootfs");
        let commit = Img::new(&[layer(1), layer(2)], "");
        let saved = Img::new(&[layer(1), layer(3)], "COPY app");
        let image = docker.join("image/overlay2");
        for img in [&base, &commit, &saved] {
            let content = image.join("imagedb/content/sha256");
            std::fs::create_dir_all(&content).unwrap();
            std::fs::write(content.join(&img.hex), &img.config).unwrap();
            let meta = image.join("imagedb/metadata/sha256").join(&img.hex);
            std::fs::create_dir_all(&meta).unwrap();
            std::fs::write(meta.join("lastUpdated"), "2026-12-05T03:31:07.024739981Z").unwrap();
            // The layer store holds each image's top layer, by chain ID.
            let config: Value = serde_json::from_slice(&img.config).unwrap();
            let diffs: Vec<&str> = config["rootfs"]["diff_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap())
                .collect();
            // Each layer as dockerd's `loadLayer` needs it: its diff ID, size and cache ID,
            // and the chain below it.
            let layer = |chain: &str, diff: &str, parent: Option<&str>| {
                let dir = image.join("layerdb/sha256").join(&chain[7..]);
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join("diff"), diff).unwrap();
                std::fs::write(dir.join("size"), "0").unwrap();
                std::fs::write(dir.join("cache-id"), &chain[7..]).unwrap();
                if let Some(p) = parent {
                    std::fs::write(dir.join("parent"), p).unwrap();
                }
            };
            let mut chain = diffs[0].to_string();
            layer(&chain, diffs[0], None);
            for d in &diffs[1..] {
                let below = chain.clone();
                chain = format!("sha256:{}", sha256(format!("{chain} {d}").as_bytes()));
                layer(&chain, d, Some(&below));
            }
        }
        // dockerd writes the parent's ID, no newline.
        std::fs::write(
            image.join("imagedb/metadata/sha256").join(&commit.hex).join("parent"),
            base.id(),
        )
        .unwrap();
        let repositories = json!({"Repositories": {
            "example.org:5000/team/saved": {"example.org:5000/team/saved:old": saved.id()},
            "lab/committed": {"lab/committed:1": base.id(), "lab/committed:2": commit.id()},
            "localhost/saved": {"localhost/saved:old": saved.id()},
            "s34/base": {"s34/base:latest": base.id(), "s34/base:v2": saved.id()},
            "s34/committed": {"s34/committed:1": commit.id()},
        }});
        std::fs::write(image.join("repositories.json"), repositories.to_string()).unwrap();
        // The containers: dev-killed's files, renamed, with the image given at create and the
        // image ID each had.
        let src = node
            .path()
            .join("var/lib/docker/containers/e7168bb2c84540963774514213b677b5c559a2956f1b0c4070e88b412c67b82e");
        let template: Value = serde_json::from_slice(&std::fs::read(src.join("config.v2.json")).unwrap()).unwrap();
        let containers = [
            ("c-run", "lab/committed:1".to_string(), base.id()),
            ("c-retag", "s34/base:v2".to_string(), base.id()),
            ("c-fromcommit", "s34/committed:1".to_string(), commit.id()),
            ("e-full", "docker.io/lab/committed:1".to_string(), base.id()),
            ("e-byid", base.hex[..12].to_string(), base.id()),
            ("e-c2", "lab/committed:2".to_string(), saved.id()),
            ("e-local", "localhost/saved:old".to_string(), saved.id()),
            (
                "c-rmimg",
                "localhost/lab-dev/app:1".to_string(),
                format!("sha256:{}", "04".repeat(32)),
            ),
        ];
        for (i, (name, given, image_id)) in containers.iter().enumerate() {
            let id = sha256(name.as_bytes());
            let mut c = template.clone();
            c["ID"] = json!(id);
            c["Name"] = json!(format!("/{name}"));
            c["Config"]["Image"] = json!(given);
            c["Image"] = json!(image_id);
            c["Driver"] = json!("overlay2");
            c["Created"] = json!(format!("2026-12-05T03:{:02}:00.000000000Z", 10 + i));
            let dir = docker.join("containers").join(&id);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("config.v2.json"), c.to_string()).unwrap();
            std::fs::copy(src.join("hostconfig.json"), dir.join("hostconfig.json")).unwrap();
            let mount = docker.join("image/overlay2/layerdb/mounts").join(&id);
            std::fs::create_dir_all(&mount).unwrap();
            std::fs::write(mount.join("mount-id"), &id).unwrap();
            std::fs::create_dir_all(docker.join("overlay2").join(&id)).unwrap();
        }
        GraphStore {
            root: node.path().join("var/lib/containerd"),
            _node: node,
            _dir: dir,
            docker,
            base,
            commit,
            saved,
        }
    }

    fn ancestors(&self, values: &[&str]) -> (Vec<String>, bolt_support::Run) {
        ancestors(&self.root, Some(&self.docker), values)
    }

    fn parent_file(&self, img: &Img) -> PathBuf {
        self.docker
            .join("image/overlay2/imagedb/metadata/sha256")
            .join(&img.hex)
            .join("parent")
    }
}

/// What dockerd 20.10 printed for the same situation (sweep 34, `docker ps -a -f
/// ancestor=...`): every tag of an image is that image, a `docker commit` child is below it,
/// a tag moved since a container was made names its new image, not the container's.
/// coldctr matched the name given at create: `s34/base` nothing, `lab/committed:2` e-c2,
/// `docker.io/lab/committed:1` only e-full.
#[test]
fn ancestor_on_a_graph_driver_store_is_dockerd_20_10s() {
    let g = GraphStore::new();
    let family = ["c-run", "c-retag", "c-fromcommit", "e-full", "e-byid"];
    let saved = ["e-c2", "e-local"];
    let short = |img: &Img| img.hex[..12].to_string();
    let (base_short, saved_short) = (short(&g.base), short(&g.saved));
    let base_id = g.base.id();
    for (value, want) in [
        ("lab/committed:1", &family[..]),
        ("s34/base", &family[..]),
        ("s34/base:latest", &family[..]),
        ("docker.io/lab/committed:1", &family[..]),
        (base_short.as_str(), &family[..]),
        (base_id.as_str(), &family[..]),
        ("lab/committed:2", &["c-fromcommit"][..]),
        ("s34/committed:1", &["c-fromcommit"][..]),
        ("localhost/saved:old", &saved[..]),
        ("example.org:5000/team/saved:old", &saved[..]),
        ("s34/base:v2", &saved[..]),
        (saved_short.as_str(), &saved[..]),
    ] {
        let (names, r) = g.ancestors(&[value]);
        assert_eq!(r.code, Some(0), "{value}: {}", r.stderr);
        assert_eq!(names, sorted(want), "ancestor={value}");
        assert!(r.stderr.is_empty(), "{value}: {}", r.stderr);
    }
    // `lab/committed` is `lab/committed:latest`, which is no image: nothing, exit 0.
    let (names, r) = g.ancestors(&["lab/committed"]);
    assert!(names.is_empty(), "{names:?}");
    assert_eq!(r.code, Some(0));
    assert!(
        r.stderr.contains("ancestor=lab/committed: No such image"),
        "{}",
        r.stderr
    );
    // A short ID that starts two images' IDs names neither (dockerd: ambiguous).
    let common: String = g
        .base
        .hex
        .chars()
        .zip(g.commit.hex.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    if !common.is_empty() {
        let (names, _) = g.ancestors(&[&common]);
        assert!(names.is_empty(), "{common}: {names:?}");
    }
}

/// The imagedb is untrusted: a parent link loop (dockerd's recursion would not end) is said,
/// naming the `parent` file, and the walk ends; a config whose bytes do not hash to its name
/// is not an image dockerd loads, so it has no children and no short ID.
#[test]
fn a_graph_driver_imagedbs_damage_is_said_and_ends() {
    let g = GraphStore::new();
    std::fs::write(g.parent_file(&g.base), g.commit.id()).unwrap();
    let (names, r) = g.ancestors(&["s34/committed:1"]);
    assert_eq!(names, sorted(&["c-run", "c-retag", "c-fromcommit", "e-full", "e-byid"]));
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("a loop in the parent links"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&g.parent_file(&g.base).display().to_string())
            || r.stderr.contains(&g.parent_file(&g.commit).display().to_string()),
        "{}",
        r.stderr
    );
    std::fs::remove_file(g.parent_file(&g.base)).unwrap();
    // The commit's config altered: dockerd's image store does not load it.
    let content = g
        .docker
        .join("image/overlay2/imagedb/content/sha256")
        .join(&g.commit.hex);
    let mut bytes = g.commit.config.clone();
    bytes.push(b'\n');
    std::fs::write(&content, bytes).unwrap();
    let (names, r) = g.ancestors(&["lab/committed:1"]);
    assert_eq!(names, sorted(&["c-run", "c-retag", "e-full", "e-byid"]));
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr.contains(&content.display().to_string()) && r.stderr.contains("hash to its name"),
        "{}",
        r.stderr
    );
    let (names, _) = g.ancestors(&[&g.commit.hex[..12]]);
    assert!(names.is_empty(), "{names:?}");
}
