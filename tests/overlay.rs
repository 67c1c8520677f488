//! `snapshots tree`, `which`, `mounts`, `diff` and `fs` on the seized Docker 28.5 / containerd
//! 2.1.9 node (`fixtures/node-docker28-dev.tar.gz`), against what the live daemons printed
//! (`fixtures/expected/node-docker28-dev/`: `docker diff` as the API body `raw-changes.json`,
//! `ctr snapshots mounts`, and `docker export` as GNU tar's listing and the sha256 of every
//! extracted file), plus hostile upper dirs made at run time.
//!
//! The tar is unpacked once per run (as root, with xattrs, as its README says). Unprivileged,
//! tar cannot make the whiteout devices nor restore `trusted.overlay.opaque`: the tests that
//! read upper dirs then skip and say so (CI runs as root); mount lines and chains do not need
//! them.

mod bolt_support;
mod docker28_node;
mod unprivileged;

use bolt_support::{Run, coldctr, repo};
use docker28_node::CONTAINERS;
use serde_json::Value;
use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Makes every directory under `p` writable again (work dirs are mode 000), then removes it.
fn remove_tree(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut todo = vec![p.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(m) = std::fs::symlink_metadata(&d) else { continue };
        if m.is_dir() {
            let _ = std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755));
            if let Ok(entries) = std::fs::read_dir(&d) {
                todo.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    let _ = std::fs::remove_dir_all(p);
}

/// The node, unpacked once for every test of this file: the disk's top directory.
fn node() -> &'static Path {
    static NODE: OnceLock<PathBuf> = OnceLock::new();
    NODE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("overlay-node");
        remove_tree(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = docker28_node::unpack_as_root_can(&dir, &[]);
        if is_root() {
            assert!(out.status.success(), "tar: {}", String::from_utf8_lossy(&out.stderr));
        }
        assert!(
            dir.join("var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db")
                .is_file()
        );
        dir
    })
}

fn root() -> PathBuf {
    node().join("var/lib/containerd")
}

fn expected_path(name: &str) -> PathBuf {
    repo().join("fixtures/expected/node-docker28-dev").join(name)
}

fn expected_json(name: &str) -> Value {
    let text = std::fs::read_to_string(expected_path(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn run(args: &[&str]) -> Run {
    let mut all: Vec<std::ffi::OsString> = vec!["--root".into(), root().into()];
    all.extend(args.iter().map(Into::into));
    coldctr(&all)
}

fn skip_unless_root(what: &str) -> bool {
    if !is_root() {
        eprintln!("not root: {what} skipped (whiteouts and opaque xattrs need a root unpack)");
    }
    !is_root()
}

#[test]
fn mount_lines_equal_ctr_snapshots_mounts() {
    let mut compared = 0;
    for ns in ["moby", "default"] {
        let want = expected_json(&format!("ctr/{ns}/snapshots-mounts.json"));
        for (key, line) in want.as_object().unwrap() {
            let r = run(&[
                "-n",
                ns,
                "mounts",
                key,
                "--target",
                "/tmp/x",
                "--node-root",
                "/var/lib/containerd",
            ]);
            assert_eq!(r.code, Some(0), "{key}: {}", r.stderr);
            assert_eq!(r.stdout_text().trim_end(), line.as_str().unwrap().trim_end(), "{key}");
            compared += 1;
        }
    }
    // Every active snapshot: 8 containers and 4 lab snapshots.
    assert_eq!(compared, 12);
    // By container name as well, and the read-only variant stacks the rw layer first.
    let by_name = run(&[
        "mounts",
        "dev-fschanges",
        "--target",
        "/tmp/x",
        "--node-root",
        "/var/lib/containerd",
    ]);
    let want = expected_json("ctr/moby/snapshots-mounts.json");
    let id = "a300da2266655cd7c431213e7e0511d5e09ee7174122e3590a112df142ca38f7";
    assert_eq!(by_name.stdout_text().trim_end(), want[id].as_str().unwrap());
    let ro = run(&["mounts", "a300da", "--read-only", "--node-root", "/n"]);
    let text = ro.stdout_text();
    assert!(
        text.starts_with("mount -t overlay overlay /mnt -o ro,lowerdir=/n/io.containerd.snapshotter.v1.overlayfs/snapshots/68/fs:/n/io.containerd.snapshotter.v1.overlayfs/snapshots/67/fs:"),
        "{text}"
    );
    assert!(!text.contains("upperdir") && !text.contains("workdir"), "{text}");
    // A committed snapshot has no mount in containerd: answer no.
    let committed = run(&[
        "mounts",
        "sha256:805f9bb8f5d923b72d5296428aa7b8f4baeff296aa56238cb550076eb1e96aea",
    ]);
    assert_eq!(committed.code, Some(1), "{}", committed.stderr);
    // A root or target path the line cannot carry (`:` splits lowerdir, `,` ends an option,
    // a space splits the command) is refused, not printed as a line that mounts other
    // directories: through a --root reached by such a path, --node-root and --target.
    let odd = tempfile::tempdir().unwrap();
    let linked = odd.path().join("case:1");
    std::os::unix::fs::symlink(root(), &linked).unwrap();
    let refused = [
        coldctr(&[
            "--root".into(),
            linked.into_os_string(),
            "-n".into(),
            "moby".into(),
            "mounts".into(),
            id.into(),
        ]),
        run(&["mounts", "a300da", "--node-root", "/evidence/a,b"]),
        run(&["mounts", "a300da", "--read-only", "--target", "/mnt/sp ace"]),
        coldctr(&[
            "--root".into(),
            root().into_os_string(),
            "mounts".into(),
            "a300da".into(),
            "--node-root".into(),
            std::ffi::OsStr::from_bytes(b"/evidence/caf\xe9").to_os_string(),
        ]),
    ];
    for (r, (what, c)) in refused.iter().zip([
        ("--root", "':'"),
        ("--node-root", "','"),
        ("--target", "' '"),
        ("--node-root", "a byte that is not UTF-8"),
    ]) {
        assert_eq!(r.code, Some(2), "{what}: {}", r.stderr);
        assert!(r.stdout_text().is_empty(), "{what}: {}", r.stdout_text());
        assert!(
            r.stderr.contains(what) && r.stderr.contains(&format!("holds {c}")),
            "{what}: {}",
            r.stderr
        );
    }
    // A control character is escaped once (sweep 41: `'\\u{1b}'`, escaped twice).
    let esc = odd.path().join("case\x1b[2J");
    std::os::unix::fs::symlink(root(), &esc).unwrap();
    let r = coldctr(&[
        "--root".into(),
        esc.into_os_string(),
        "-n".into(),
        "moby".into(),
        "mounts".into(),
        id.into(),
    ]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("case\\x1b[2J: holds '\\x1b', which a mount line cannot carry"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("\\\\") && !r.stderr.contains('\x1b'), "{}", r.stderr);
}

#[test]
fn chains_and_which_name_containers_and_images() {
    let r = run(&["snapshots", "tree", "dev-fschanges", "--format", "json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let chain: Value = serde_json::from_slice(&r.stdout).unwrap();
    let ids: Vec<u64> = chain
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    // The same directories, in the same order, as ctr's lowerdir for it (upper first).
    assert_eq!(ids, [68, 67, 31, 28, 27, 7, 6]);
    assert_eq!(chain[0]["kind"], "Active");
    assert_eq!(
        chain[1]["names"][0]["key"],
        "a300da2266655cd7c431213e7e0511d5e09ee7174122e3590a112df142ca38f7-init"
    );
    assert!(
        chain[6]["dir"]
            .as_str()
            .unwrap()
            .ends_with("io.containerd.snapshotter.v1.overlayfs/snapshots/6/fs")
    );
    // The whole forest: every snapshot `ctr snapshots info` showed, once, with its kind and
    // parent.
    let all = run(&["snapshots", "tree", "--format", "json"]);
    let all: Value = serde_json::from_slice(&all.stdout).unwrap();
    let ours: BTreeSet<(String, String, String)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let key = s["names"][0]["key"].as_str().unwrap().to_string();
            (
                key,
                s["kind"].as_str().unwrap().to_string(),
                s["parent"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(ours.len(), all.as_array().unwrap().len());
    let info = expected_json("ctr/moby/snapshots-info.json");
    let ctr: BTreeSet<(String, String, String)> = info
        .as_object()
        .unwrap()
        .values()
        .map(|i| {
            let s = |k: &str| i[k].as_str().unwrap_or("").to_string();
            (s("Name"), s("Kind"), s("Parent"))
        })
        .collect();
    assert_eq!(ours, ctr);

    // A file of the container's rw layer: its snapshot and container, no image.
    let p = root().join("io.containerd.snapshotter.v1.overlayfs/snapshots/68/fs/etc/passwd");
    let w = run(&["which", p.to_str().unwrap(), "--format", "json"]);
    assert_eq!(w.code, Some(0), "{}", w.stderr);
    let w: Value = serde_json::from_slice(&w.stdout).unwrap();
    assert_eq!(w["path"], "/etc/passwd");
    assert_eq!(
        w["snapshot"]["names"][0]["key"],
        "a300da2266655cd7c431213e7e0511d5e09ee7174122e3590a112df142ca38f7"
    );
    let names: Vec<&str> = w["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dev-fschanges"]);
    assert!(w["images"].as_array().unwrap().is_empty());
    // The base layer: the toolbox image (chain ID of its diff IDs) and the containers on it.
    let base = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/6/fs/etc/os-release";
    let w: Value = serde_json::from_slice(&run(&["which", base, "--format", "json"]).stdout).unwrap();
    let images: BTreeSet<&str> = w["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert!(
        images.contains("docker.io/lab/toolbox:1") && images.contains("docker.io/lab/committed:1"),
        "{images:?}"
    );
    let names: BTreeSet<&str> = w["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["dev-exit3", "dev-fschanges", "dev-from-commit", "dev-running"])
    );
    // Not a snapshot path: no.
    assert_eq!(run(&["which", "/etc/passwd"]).code, Some(1));
    // An image reference names its unpacked top snapshot: the chain below the containers'
    // -init layers, through the builder's own -init layer.
    let r = run(&["snapshots", "tree", "lab/toolbox:1", "--format", "json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let chain: Value = serde_json::from_slice(&r.stdout).unwrap();
    let ids: Vec<u64> = chain
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [31, 28, 27, 7, 6]);
    assert_eq!(run(&["snapshots", "tree", "no-such-image:1"]).code, Some(1));
}

#[test]
fn diff_equals_docker_diff_for_every_container() {
    if skip_unless_root("diff") {
        return;
    }
    for c in CONTAINERS {
        let raw = expected_json(&format!("containers/{c}/raw-changes.json"));
        // docker's API: Kind 0 = C, 1 = A, 2 = D; non-UTF-8 bytes as U+FFFD.
        let want: BTreeSet<(String, String)> = raw
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|x| {
                let kind = ["C", "A", "D"][x["Kind"].as_u64().unwrap() as usize];
                (kind.to_string(), x["Path"].as_str().unwrap().to_string())
            })
            .collect();
        let r = run(&["diff", c, "--format", "json"]);
        assert_eq!(r.code, Some(0), "{c}: {}", r.stderr);
        let got: Value = serde_json::from_slice(&r.stdout).unwrap();
        let got: BTreeSet<(String, String)> = got
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["kind"].as_str().unwrap().to_string(),
                    x["path"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(got, want, "{c}");
    }
    // What the upper holds beyond docker's answer: the copy-up of /etc/debian_version that
    // the hard link /debian_version.hardlink forced (same stat, so docker does not show it).
    let all = run(&["diff", "dev-fschanges", "--copied-up"]).stdout_text();
    let extra: Vec<&str> = all.lines().filter(|l| l.starts_with("U ")).collect();
    assert_eq!(extra, ["U /etc/debian_version"]);
    // The table form has docker's lines for a name without hazards.
    let t = run(&["diff", "dev-oldapp"]).stdout_text();
    assert_eq!(t, "C /app\nA /app/seen.txt\n");
    // The exact bytes of a non-UTF-8 name, and hashes on request.
    let j: Value =
        serde_json::from_slice(&run(&["diff", "dev-fschanges", "--format", "json", "--hash"]).stdout).unwrap();
    let bad = j.as_array().unwrap().iter().find(|e| e["pathHex"].is_string()).unwrap();
    assert_eq!(bad["pathHex"], hex_of(b"/bad\xffname.bin"));
    let large = j
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/large.bin")
        .unwrap();
    assert_eq!(large["size"], 4194304);
    assert_eq!(
        large["sha256"],
        "dba34d7d6231b2746ca6b2b5b0632760d2d5b1931e97917b4d752201c30b78f8"
    );
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// GNU tar's verbose listing of `tar`, as the capture made it.
fn tvf(tar: &Path) -> String {
    let out = Command::new("tar")
        .args(["--numeric-owner", "--full-time", "-tvf"])
        .arg(tar)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Extracts `tar` as root and hashes every regular file the way the capture did.
fn sha256_listing(tar: &Path) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let x = Command::new("tar")
        .arg("-xpf")
        .arg(tar)
        .arg("-C")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(x.status.success(), "{}", String::from_utf8_lossy(&x.stderr));
    let out = Command::new("sh")
        .arg("-c")
        .arg("find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    remove_tree(dir.path());
    out.stdout
}

#[test]
fn export_lists_what_docker_export_gave() {
    if skip_unless_root("export") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    for c in CONTAINERS {
        let tar = work.path().join(format!("{c}.tar"));
        let r = run(&["fs", "export", c, "-o", tar.to_str().unwrap()]);
        assert_eq!(r.code, Some(0), "{c}: {}", r.stderr);
        // Paths, types, modes, owners, sizes, mtimes, link targets and hard links, in order.
        let want = std::fs::read_to_string(expected_path(&format!("containers/{c}/export-tvf.txt"))).unwrap();
        assert_eq!(tvf(&tar), want, "{c}");
        let want = std::fs::read(expected_path(&format!("containers/{c}/export-sha256.txt"))).unwrap();
        assert_eq!(sha256_listing(&tar), want, "{c}");
    }
    // An existing output is kept without --force.
    let tar = work.path().join("dev-oldapp.tar");
    assert_eq!(
        run(&["fs", "export", "dev-oldapp", "-o", tar.to_str().unwrap()]).code,
        Some(2)
    );
}

/// The Docker data root beside the containerd root is evidence as much as the containerd root:
/// neither `fs export` nor `export` writes inside it (nothing is made there), whatever the
/// privileges the node was unpacked with.
#[test]
fn exports_refuse_the_docker_root_beside() {
    let docker = node().join("var/lib/docker");
    let before: Vec<_> = std::fs::read_dir(&docker)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let inside = docker.join("x.tar");
    let deeper = docker.join("containers").join("x.tar");
    fn from_blobs(out: &Path) -> Vec<&str> {
        vec!["fs", "export", "--from-blobs", "lab/app:1", "-o", out.to_str().unwrap()]
    }
    for args in [
        from_blobs(&inside),
        from_blobs(&deeper),
        vec!["export", "-o", inside.to_str().unwrap(), "lab/app:1"],
        vec!["export", "--force", "-o", docker.to_str().unwrap(), "lab/app:1"],
    ] {
        let r = run(&args);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("var/lib/docker"), "{args:?}: {}", r.stderr);
    }
    assert!(!inside.exists() && !deeper.exists());
    let after: Vec<_> = std::fs::read_dir(&docker)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn ls_and_cat_resolve_inside_the_merged_tree() {
    if skip_unless_root("ls/cat") {
        return;
    }
    // A relative symlink of the upper to a file of a lower layer, changed by the container.
    let r = run(&["fs", "cat", "dev-fschanges:/usr/passwd.rel-link"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.starts_with(b"root:x:0:0:"));
    // Links that point out of the tree stay inside it: the host's /etc/shadow is never read.
    for link in ["/escape-link", "/host-shadow-link"] {
        let r = run(&["fs", "cat", &format!("dev-fschanges:{link}")]);
        assert_eq!(r.code, Some(1), "{link}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
    // The FIFO is refused, not opened.
    let r = run(&["fs", "cat", "dev-fschanges:/fifo"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("fifo"), "{}", r.stderr);
    // Whited-out and opaque-hidden names are gone.
    assert_eq!(run(&["fs", "ls", "dev-fschanges:/opt/app/conf"]).code, Some(1));
    let old: Value =
        serde_json::from_slice(&run(&["fs", "ls", "--format", "json", "dev-fschanges:/opt/app/old"]).stdout).unwrap();
    let names: Vec<&str> = old
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fresh.txt"]);
    // Names are escaped in the table, exact (hex) in JSON.
    let t = run(&["fs", "ls", "dev-fschanges:/"]).stdout_text();
    assert!(
        t.contains(" new\\nline.txt\n") && t.contains(" bad\\xffname.bin\n"),
        "{t}"
    );
    let mut spec = b"dev-fschanges:/bad".to_vec();
    spec.extend_from_slice(b"\xffname.bin");
    let mut args: Vec<std::ffi::OsString> = vec!["--root".into(), root().into(), "fs".into(), "ls".into()];
    args.push(std::ffi::OsStr::from_bytes(&spec).into());
    args.extend(["--format".into(), "json".into()]);
    let one: Value = serde_json::from_slice(&coldctr(&args).stdout).unwrap();
    assert_eq!(one[0]["nameHex"], hex_of(b"bad\xffname.bin"));
}

// ---- hostile upper dirs ----------------------------------------------------------------------

/// A private copy of the node whose rw layer of `dev-oldapp` (snapshot 49) gets hostile
/// entries; the copy is removed afterwards.
struct Hostile {
    dir: tempfile::TempDir,
}

impl Hostile {
    fn root(&self) -> PathBuf {
        self.dir.path().join("var/lib/containerd")
    }
    fn upper(&self) -> PathBuf {
        self.root()
            .join("io.containerd.snapshotter.v1.overlayfs/snapshots/49/fs")
    }
    fn run(&self, args: &[&[u8]]) -> Run {
        let mut all: Vec<std::ffi::OsString> = vec!["--root".into(), self.root().into()];
        all.extend(args.iter().map(|a| std::ffi::OsStr::from_bytes(a).to_os_string()));
        coldctr(&all)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        remove_tree(self.dir.path());
    }
}

fn hostile() -> Hostile {
    let dir = tempfile::tempdir().unwrap();
    let cp = Command::new("cp")
        .arg("-a")
        .arg(node().join("var"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(cp.status.success(), "{}", String::from_utf8_lossy(&cp.stderr));
    let h = Hostile { dir };
    let up = h.upper();
    // A secret outside every layer that links try to reach.
    std::fs::write(h.dir.path().join("secret"), b"host secret\n").unwrap();
    let fifo = std::ffi::CString::new(up.join("app/pipe").as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::symlink("loop-b", up.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", up.join("loop-b")).unwrap();
    std::os::unix::fs::symlink(h.dir.path().join("secret"), up.join("abs-out")).unwrap();
    std::os::unix::fs::symlink("../../../../../../../../../../secret", up.join("rel-out")).unwrap();
    std::os::unix::fs::symlink("/", up.join("root-link")).unwrap();
    std::fs::write(up.join(std::ffi::OsStr::from_bytes(b"esc\x1b[2Jape\nname")), b"x").unwrap();
    // Names and link targets longer than ustar holds (PAX path / linkpath), one not UTF-8.
    let long_dir = up.join("l".repeat(120));
    std::fs::create_dir(&long_dir).unwrap();
    let mut long_name = b"f\xff".to_vec();
    long_name.extend(std::iter::repeat_n(b'g', 150));
    std::fs::write(long_dir.join(std::ffi::OsStr::from_bytes(&long_name)), b"long").unwrap();
    std::os::unix::fs::symlink("t".repeat(180), up.join("long-link")).unwrap();
    // A deep tree, made one level at a time (an iterative walk must not care).
    let mut p = up.join("deep");
    for _ in 0..400 {
        std::fs::create_dir_all(&p).unwrap();
        p = p.join("d");
    }
    std::fs::write(p.with_file_name("leaf"), b"leaf").unwrap();
    // A huge sparse file: 64 GiB of holes.
    let f = std::fs::File::create(up.join("sparse")).unwrap();
    f.set_len(64 << 30).unwrap();
    // Another snapshot whose fs dir is a symlink to the host's root.
    let lab = h.root().join("io.containerd.snapshotter.v1.overlayfs/snapshots/97");
    std::fs::remove_dir_all(lab.join("fs")).unwrap();
    std::os::unix::fs::symlink("/", lab.join("fs")).unwrap();
    h
}

#[test]
fn hostile_upper_dirs_neither_hang_nor_escape() {
    let h = hostile();
    // diff finishes (the FIFO is listed, never opened) and escapes the names in its table.
    let d = h.run(&[b"diff", b"dev-oldapp"]);
    assert_eq!(d.code, Some(0), "{}", d.stderr);
    let text = d.stdout_text();
    assert!(text.contains("A /app/pipe\n") && text.contains("A /loop-a\n"), "{text}");
    assert!(text.contains("A /esc\\x1b[2Jape\\nname\n"), "{text}");
    assert!(text.contains("A /deep/d/d/d/d"), "{text}");
    assert!(!text.contains('\x1b'));
    // JSON: the sparse file's size is its length (64 GiB), nothing of it read.
    let j = h.run(&[b"diff", b"dev-oldapp", b"--format", b"json"]);
    let j: Value = serde_json::from_slice(&j.stdout).unwrap();
    let sparse = j.as_array().unwrap().iter().find(|e| e["path"] == "/sparse").unwrap();
    assert_eq!(sparse["size"], 64u64 << 30);
    std::fs::remove_file(h.upper().join("sparse")).unwrap();
    // --hash reads regular files only: the FIFO has none.
    let j = h.run(&[b"diff", b"dev-oldapp", b"--format", b"json", b"--hash"]);
    assert_eq!(j.code, Some(0), "{}", j.stderr);
    let j: Value = serde_json::from_slice(&j.stdout).unwrap();
    let pipe = j.as_array().unwrap().iter().find(|e| e["path"] == "/app/pipe").unwrap();
    assert_eq!(pipe["type"], "fifo");
    assert!(pipe["sha256"].is_null());
    // cat: loops end, links stay inside the merged tree, the FIFO is refused.
    let r = h.run(&[b"fs", b"cat", b"dev-oldapp:/loop-a"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("too many levels of symbolic links"), "{}", r.stderr);
    for link in [b"dev-oldapp:/abs-out".as_slice(), b"dev-oldapp:/rel-out"] {
        let r = h.run(&[b"fs", b"cat", link]);
        assert_eq!(r.code, Some(1), "{}", r.stderr);
        assert!(!String::from_utf8_lossy(&r.stdout).contains("host secret"));
    }
    let r = h.run(&[b"fs", b"cat", b"dev-oldapp:/app/pipe"]);
    assert_eq!(r.code, Some(1));
    // `/` through a link is the merged root, not the host's.
    let r = h.run(&[b"fs", b"ls", b"dev-oldapp:/root-link/app"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout_text().contains(" seen.txt\n"));
    // A snapshot whose fs dir is a symlink is refused, not followed to the host's root.
    let r = h.run(&[b"fs", b"ls", b"lab-orphan:/"]);
    assert_eq!(r.code, Some(3));
    assert!(r.stderr.contains("symlink"), "{}", r.stderr);
    assert!(!r.stdout_text().contains("proc"));
    // export: finishes with the FIFO as a FIFO member and the deep tree whole; files with
    // holes go out as GNU sparse 1.0 (64 GiB of holes are not written), and come back.
    {
        use std::io::{Seek, SeekFrom, Write};
        let f = std::fs::File::create(h.upper().join("sparse")).unwrap();
        f.set_len(64 << 30).unwrap();
        let mut g = std::fs::File::create(h.upper().join("app/holes")).unwrap();
        g.seek(SeekFrom::Start(256 << 20)).unwrap();
        g.write_all(b"middle").unwrap();
        g.seek(SeekFrom::Start((1 << 30) - 3)).unwrap();
        g.write_all(b"end").unwrap();
        // Cut into more data segments than the 4096 a sparse file was once written with:
        // written whole past that, it was 60 GiB of zeros.
        let mut m = std::fs::File::create(h.upper().join("app/many-holes")).unwrap();
        for i in 0..4200u64 {
            m.seek(SeekFrom::Start(i * (15 << 20))).unwrap();
            m.write_all(b"x").unwrap();
        }
        m.set_len(4200 * (15 << 20)).unwrap();
    }
    let out = h.dir.path().join("out.tar");
    let e = h.run(&[b"fs", b"export", b"dev-oldapp", b"-o", out.as_os_str().as_bytes()]);
    assert_eq!(e.code, Some(0), "{}", e.stderr);
    let tar_size = std::fs::metadata(&out).unwrap().len();
    assert!(tar_size < 64 << 20, "{tar_size} bytes");
    let list = tvf(&out);
    assert!(list.contains(" 68719476736 ") && list.contains(" sparse\n"), "{list}");
    assert!(
        list.contains(&format!(" {} ", 4200u64 * (15 << 20))) && list.contains(" app/many-holes\n"),
        "{list}"
    );
    let x = tempfile::tempdir().unwrap();
    let st = Command::new("tar")
        .arg("-xf")
        .arg(&out)
        .arg("-C")
        .arg(x.path())
        .arg("app/holes")
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let back = std::fs::read(x.path().join("app/holes")).unwrap();
    assert_eq!(back.len(), 1 << 30);
    assert_eq!(&back[256 << 20..(256 << 20) + 6], b"middle");
    assert_eq!(&back[(1 << 30) - 3..], b"end");
    assert!(back[..256 << 20].iter().all(|&b| b == 0));
    assert!(
        list.contains("prw-r--r-- 0/0               0 ") && list.contains(" app/pipe\n"),
        "{list}"
    );
    assert!(list.contains(" loop-a -> loop-b\n"));
    assert!(list.contains(&format!(" long-link -> {}\n", "t".repeat(180))), "{list}");
    assert!(
        list.contains(&format!("{}/f\\377{}\n", "l".repeat(120), "g".repeat(150))),
        "{list}"
    );
    assert!(list.contains("/d/leaf\n"));
}

/// A command line as text, for assertion messages.
fn shown(args: &[&[u8]]) -> String {
    let words: Vec<String> = args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    words.join(" ")
}

/// Runs each of `commands` on `h`: each must exit 3 with `said` in its output or on stderr.
/// Each command line (as text) with its stdout and stderr together, for what a test checks more.
fn each_exits_3_saying(h: &Hostile, commands: &[&[&[u8]]], said: &str) -> Vec<(String, Run)> {
    commands
        .iter()
        .map(|args| {
            let r = h.run(args);
            let args = shown(args);
            assert_eq!(r.code, Some(3), "{args}: {}", r.stderr);
            let all = format!("{}{}", r.stdout_text(), r.stderr);
            assert!(all.contains(said), "{args}: {all}");
            (args, r)
        })
        .collect()
}

/// The base layer of `dev-victim`'s chain (snapshot 13, the busybox image's) made a symlink out
/// of the root, then a FIFO, then taken away: `mounts` (both lines) and `snapshots tree` (its
/// chain and the whole forest) still print their paths, but name it on stderr and exit 3, as
/// `diff` does; they used to print the line through the link with exit 0 and not a word.
#[test]
fn a_layer_dir_that_is_a_link_or_no_directory_is_named_by_mounts_and_tree() {
    let h = node_copy();
    let snaps = h.root().join("io.containerd.snapshotter.v1.overlayfs/snapshots");
    let base = snaps.join("13");
    let elsewhere = h.dir.path().join("elsewhere");
    std::fs::rename(&base, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &base).unwrap();
    let commands: [&[&[u8]]; 5] = [
        &[b"mounts", b"dev-victim"],
        &[b"mounts", b"dev-victim", b"--read-only"],
        &[b"snapshots", b"tree", b"dev-victim"],
        &[b"snapshots", b"tree"],
        &[b"diff", b"dev-victim"],
    ];
    let check = |why: &str, named: &Path| {
        let said = format!("{}: {why}", named.display());
        for args in commands {
            let r = h.run(args);
            let args = shown(args);
            assert_eq!(r.code, Some(3), "{why}: {args}: {}", r.stderr);
            assert_eq!(r.stderr.matches(&said).count(), 1, "{why}: {args}: {}", r.stderr);
            if !args.starts_with("diff") {
                assert!(
                    r.stdout_text().contains("/snapshots/13/fs"),
                    "{why}: {args}: still printed"
                );
            }
        }
    };
    check("a symlink, not followed", &base);
    // The tree's row says it too, in JSON and in the table's DIR cell.
    let r = h.run(&[b"snapshots", b"tree", b"dev-victim", b"--format", b"json"]);
    let rows: Value = serde_json::from_slice(&r.stdout).unwrap();
    let marked: Vec<u64> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["dirProblem"].is_string())
        .map(|row| row["id"].as_u64().unwrap())
        .collect();
    assert_eq!(marked, [13]);
    let r = h.run(&[b"snapshots", b"tree", b"dev-victim"]);
    assert!(
        r.stdout_text().contains(
            "/snapshots/13/fs (io.containerd.snapshotter.v1.overlayfs/snapshots/13: a symlink, not followed)"
        ),
        "{}",
        r.stdout_text()
    );
    std::fs::remove_file(&base).unwrap();
    let fifo = std::ffi::CString::new(base.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    check("not a directory", &base);
    std::fs::remove_file(&base).unwrap();
    // Rust's "(os error 2)" is left out of what users read.
    check("No such file or directory", &base.join("fs"));
    for args in [
        &[&b"mounts"[..], b"dev-victim"][..],
        &[b"snapshots", b"tree", b"dev-victim"],
    ] {
        let r = h.run(args);
        let all = format!("{}{}", r.stdout_text(), r.stderr);
        assert!(!all.contains("(os error"), "{all}");
    }
    // The rw line names the container's work directory, which the kernel writes to: checked.
    std::fs::rename(&elsewhere, &base).unwrap();
    let work = snaps.join("64/work");
    std::fs::rename(&work, h.dir.path().join("work")).unwrap();
    std::os::unix::fs::symlink(h.dir.path().join("work"), &work).unwrap();
    let r = h.run(&[b"mounts", b"dev-victim"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("{}: a symlink, not followed", work.display())),
        "{}",
        r.stderr
    );
    let r = h.run(&[b"mounts", b"dev-victim", b"--read-only"]);
    assert_eq!(r.code, Some(0), "no work dir in the read-only line: {}", r.stderr);
}

/// The snapshotter's metadata.db with `dev-victim`'s rw snapshot given the id of the busybox
/// base layer (13), one byte patched as a bbolt writer would have put it: two snapshots, one
/// directory. containerd never does this (ids come from the bucket's sequence), so every
/// command that reads the snapshotter's records names both keys and exits 3, and `which`
/// gives both candidates instead of choosing one. All used to exit 0, `which` naming the
/// container's rw layer, `diff` empty (the upper dir was also its lowest layer).
#[test]
fn two_snapshots_with_one_id_are_damage_for_every_layer_command() {
    let h = node_copy();
    let sn = h.root().join("io.containerd.snapshotter.v1.overlayfs");
    let db = sn.join("metadata.db");
    let mut bytes = std::fs::read(&db).unwrap();
    // In the rw snapshot's inline bucket, key `id` and its uvarint value 64 sit just before
    // key `kind`: one such place in the file, the live one.
    let at: Vec<usize> = bytes
        .windows(7)
        .enumerate()
        .filter(|(_, w)| w == b"id\x40kind")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "the fixture's record of snapshot 64");
    bytes[at[0] + 2] = 13;
    std::fs::write(&db, &bytes).unwrap();
    let victim = "moby/95/974a14ba9fb0e4a92c15b57a7d7c05918701afca8479701760d8fe38b1fb12f3";
    let base = "moby/24/sha256:01313608fac5e8dd0a406458eff00b32cd278cd3698bd6a7249e66b458790de2";
    let said = format!("snapshotter overlayfs: id 13 is the id of 2 snapshots ({base}, {victim})");
    let etc = sn.join("snapshots/13/fs/etc");
    let etc = etc.as_os_str().as_bytes();
    let commands: [&[&[u8]]; 9] = [
        &[b"snapshots"],
        &[b"gc"],
        &[b"du"],
        &[b"mounts", b"dev-victim"],
        &[b"diff", b"dev-victim"],
        &[b"fs", b"ls", b"dev-victim:/"],
        &[b"snapshots", b"tree"],
        &[b"which", etc],
        &[b"verify"],
    ];
    each_exits_3_saying(&h, &commands, &said);
    let w = h.run(&[b"which", etc, b"--format", b"json"]);
    let w: Value = serde_json::from_slice(&w.stdout).unwrap();
    assert!(w["snapshot"].is_null(), "{w}");
    let keys: Vec<&str> = w["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["backendKey"].as_str().unwrap())
        .collect();
    assert_eq!(keys, [base, victim]);
    // dev-victim holds the directory either way: as its rw layer, or as its base layer.
    let victim_as: BTreeSet<(&str, u64)> = w["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "dev-victim")
        .map(|c| (c["candidate"].as_str().unwrap(), c["layer"].as_u64().unwrap()))
        .collect();
    assert_eq!(victim_as, BTreeSet::from([(base, 2), (victim, 0)]));
}

/// The snapshotter's metadata.db with layer 14's parent (layer 12) patched to layer 43, its
/// own child, as bytes a bbolt writer would have put there: 14 -> 43 -> 14, a loop no chain
/// through reaches a base. containerd never writes one (a snapshot is made on a committed
/// parent that exists); the commands that read the records for what they hold name it and
/// exit 3, as the layer commands do. `gc`, `du`, `snapshots` and `verify` used to exit 0.
#[test]
fn a_parent_loop_is_damage_for_every_reader_of_the_records() {
    let h = node_copy();
    let db = h.root().join("io.containerd.snapshotter.v1.overlayfs/metadata.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let find = |b: &[u8], what: &[u8]| -> Vec<usize> {
        b.windows(what.len())
            .enumerate()
            .filter(|(_, w)| *w == what)
            .map(|(i, _)| i)
            .collect()
    };
    // A layer's key in full (`moby/<id>/sha256:<64 hex>`), found by its id.
    let key_of = |prefix: &str| -> String {
        let at = find(&bytes, prefix.as_bytes());
        assert!(!at.is_empty(), "{prefix}");
        String::from_utf8(bytes[at[0]..at[0] + prefix.len() + 64].to_vec()).unwrap()
    };
    let (l12, l14, l43) = (
        key_of("moby/12/sha256:"),
        key_of("moby/14/sha256:"),
        key_of("moby/43/sha256:"),
    );
    // Every record whose parent is layer 12 (layer 14, and one other) now names layer 43.
    let from = [b"parent".as_slice(), l12.as_bytes()].concat();
    let at = find(&bytes, &from);
    assert!(!at.is_empty());
    for i in at {
        bytes[i + 6..i + 6 + l43.len()].copy_from_slice(l43.as_bytes());
    }
    std::fs::write(&db, &bytes).unwrap();
    let said = format!("snapshotter overlayfs: a parent loop ({l14} -> {l43} -> {l14})");
    let commands: [&[&[u8]]; 6] = [
        &[b"snapshots"],
        &[b"gc"],
        &[b"du"],
        &[b"verify"],
        &[b"images"],
        // The whole forest: every snapshot of the loop (and those hanging off it) is reached
        // from no base; the loop is said once, not once per snapshot.
        &[b"snapshots", b"tree"],
    ];
    for (args, r) in each_exits_3_saying(&h, &commands, &said) {
        // Said once by each.
        assert_eq!(
            format!("{}{}", r.stdout_text(), r.stderr).matches(&said).count(),
            1,
            "{args}"
        );
    }
    // `which` of a file of a layer on the loop: its own chain stops there, whether or not a
    // container or image runs through the layer.
    let tree = h.run(&[b"snapshots", b"tree", b"--format", b"json"]);
    let rows: serde_json::Value = serde_json::from_slice(&tree.stdout).unwrap();
    let id = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["backendKey"] == l14.as_str())
        .map(|r| r["id"].as_u64().unwrap())
        .unwrap();
    let layer = h
        .root()
        .join(format!("io.containerd.snapshotter.v1.overlayfs/snapshots/{id}/fs"));
    let r = h.run(&[b"which", layer.as_os_str().as_encoded_bytes()]);
    assert_eq!(r.code, Some(3), "{}\n{}", r.stdout_text(), r.stderr);
    assert_eq!(
        r.stderr.matches("parent chain loops back to").count(),
        1,
        "{}",
        r.stderr
    );
}

/// GNU tar's listing of `tar`, lines sorted (the two sources write in different orders).
fn sorted_tvf(tar: &Path) -> Vec<String> {
    let mut lines: Vec<String> = tvf(tar).lines().map(str::to_string).collect();
    lines.sort();
    lines
}

#[test]
fn image_from_blobs_equals_what_containerd_unpacked() {
    if skip_unless_root("from-blobs") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let tar = |name: &str, args: &[&str]| {
        let out = work.path().join(name);
        let mut all = vec!["fs", "export"];
        all.extend_from_slice(args);
        all.extend(["-o", out.to_str().unwrap()]);
        let r = run(&all);
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
        out
    };
    // The snapshot directories are containerd 2.1.9's own unpacking of these same blobs:
    // merging the blobs ourselves must give the same tree (paths, types, modes, owners, sizes,
    // mtimes, links) and the same bytes.
    for (i, image) in ["webapp:stable", "lab/busybox:1.38", "multi:3.1", "saved:old"]
        .iter()
        .enumerate()
    {
        let blobs = tar(&format!("b{i}.tar"), &["--from-blobs", image]);
        let snaps = tar(&format!("s{i}.tar"), &[image]);
        assert_eq!(sorted_tvf(&blobs), sorted_tvf(&snaps), "{image}");
        assert_eq!(sha256_listing(&blobs), sha256_listing(&snaps), "{image}");
    }
    // An image made by `docker commit` (whiteouts, an opaque dir, a device, a FIFO, hard links
    // in its top layer): the unpacked chain also has the committed container's -init layer
    // (and the builder's), which are in no blob: exactly those files differ.
    let blobs = sorted_tvf(&tar("bc.tar", &["--from-blobs", "lab/committed:1"]));
    let snaps = sorted_tvf(&tar("sc.tar", &["lab/committed:1"]));
    let name = |l: &String| l.rsplit(' ').next().unwrap_or_default().to_string();
    let only_snaps: BTreeSet<String> = snaps.iter().filter(|l| !blobs.contains(l)).map(name).collect();
    let only_blobs: BTreeSet<String> = blobs.iter().filter(|l| !snaps.contains(l)).map(name).collect();
    let init: BTreeSet<String> = [
        ".dockerenv",
        "dev/",
        "dev/console",
        "dev/pts/",
        "dev/shm/",
        "etc/hostname",
        "etc/hosts",
        "etc/resolv.conf",
        "proc/",
        "sys/",
        "/proc/mounts",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(only_snaps, init);
    // The image's own /etc/hostname, which the init layer hides in the snapshots.
    assert_eq!(only_blobs, BTreeSet::from(["etc/hostname".to_string()]));
    // Not an image: no.
    assert_eq!(
        run(&["fs", "export", "--from-blobs", "no-such:1", "-o", "-"]).code,
        Some(1)
    );
}

/// `fs ls --format json --hash` of `spec`'s rows by name, without what a layer's blobs cannot
/// say as its directory does: the layer (a directory or a digest) and a directory's size
/// (the filesystem's block, 0 in a tar).
fn ls_rows(spec: &str, blobs: bool) -> Result<std::collections::BTreeMap<String, Value>, String> {
    let mut args = vec!["fs", "ls", spec, "--format", "json", "--hash"];
    if blobs {
        args.push("--from-blobs");
    }
    let r = run(&args);
    if r.code != Some(0) {
        return Err(format!("exit {:?}: {}", r.code, r.stderr));
    }
    let rows: Vec<Value> = serde_json::from_slice(&r.stdout).map_err(|e| e.to_string())?;
    Ok(rows
        .into_iter()
        .map(|mut row| {
            let o = row.as_object_mut().unwrap();
            o.remove("layer");
            if o["type"] == "dir" {
                o.remove("size");
            }
            (o["name"].as_str().unwrap().to_string(), row)
        })
        .collect())
}

/// `--from-blobs` serves the host platform's manifest, never another's: multi:3.1 has only
/// linux/amd64 pulled, and an arm64 host was given amd64's files, exit 0 (sweep 23).
#[test]
fn from_blobs_never_serves_another_platform() {
    if skip_unless_root("from-blobs") {
        return;
    }
    let amd = run(&[
        "--host-platform",
        "linux/amd64",
        "fs",
        "ls",
        "--from-blobs",
        "multi:3.1:/",
    ]);
    assert_eq!(amd.code, Some(0), "{}", amd.stderr);
    for args in [
        &[
            "--host-platform",
            "linux/arm64",
            "fs",
            "ls",
            "--from-blobs",
            "multi:3.1:/",
        ][..],
        &[
            "--host-platform",
            "linux/arm64",
            "fs",
            "export",
            "--from-blobs",
            "multi:3.1",
            "-o",
            "-",
        ],
    ] {
        let r = run(args);
        assert_eq!(r.code, Some(1), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}");
        assert!(
            r.stderr
                .contains("no manifest for the host platform linux/arm64 is on the node (present: linux/amd64"),
            "{args:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn fs_ls_and_cat_from_blobs_equal_what_containerd_unpacked() {
    if skip_unless_root("from-blobs") {
        return;
    }
    // Every directory of each image, listed from containerd 2.1.9's unpacking and from the
    // blobs merged by us: the same names, types, modes, owners, sizes, mtimes, link targets
    // and file sha256 (hard links included: lab/committed's top layer has them).
    let dirs_of = |image: &str| -> Vec<String> {
        let r = run(&["fs", "export", image, "-o", "-"]);
        assert_eq!(r.code, Some(0), "{image}: {}", r.stderr);
        let dir = tempfile::tempdir().unwrap();
        let tar = dir.path().join("t.tar");
        std::fs::write(&tar, &r.stdout).unwrap();
        let list = Command::new("tar").arg("-tf").arg(&tar).output().unwrap();
        let mut dirs = vec!["/".to_string()];
        dirs.extend(
            String::from_utf8_lossy(&list.stdout)
                .lines()
                .filter(|l| l.ends_with('/'))
                .map(|l| format!("/{l}")),
        );
        dirs
    };
    let mut compared = 0;
    for image in ["webapp:stable", "lab/busybox:1.38", "multi:3.1", "saved:old"] {
        for dir in dirs_of(image) {
            let spec = format!("{image}:{dir}");
            let snaps = ls_rows(&spec, false).unwrap();
            assert_eq!(ls_rows(&spec, true).unwrap(), snaps, "{spec}");
            compared += snaps.len();
        }
    }
    assert!(compared > 300, "{compared}");
    // A committed container's image: its chain also has the container's -init layer, which
    // is in no blob, so exactly those entries differ (and /etc/hostname, which it hides).
    let mut differ = BTreeSet::new();
    for dir in dirs_of("lab/committed:1") {
        let spec = format!("lab/committed:1:{dir}");
        let (Ok(snaps), blobs) = (ls_rows(&spec, false), ls_rows(&spec, true)) else {
            panic!("{spec}")
        };
        let Ok(blobs) = blobs else {
            differ.insert(dir.clone());
            continue;
        };
        for name in snaps.keys().chain(blobs.keys()) {
            if snaps.get(name) != blobs.get(name) {
                differ.insert(format!("{dir}{name}"));
            }
        }
    }
    let init: BTreeSet<String> = [
        "/.dockerenv",
        "/dev",
        "/dev/",
        "/dev/pts/",
        "/dev/shm/",
        "/etc/hostname",
        "/etc/hosts",
        "/etc/mtab",
        "/etc/resolv.conf",
        "/proc",
        "/proc/",
        "/sys",
        "/sys/",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(differ, init);
    // A table row as `fs ls` prints it, a hard link as the file it is.
    let table = |blobs: bool| {
        let mut args = vec!["fs", "ls", "lab/committed:1:/added.hardlink"];
        if blobs {
            args.push("--from-blobs");
        }
        run(&args).stdout_text()
    };
    assert_eq!(table(true), table(false));
    assert!(table(true).starts_with("-rw-r--r-- 0/0          6 2001-02-03T04:05:06Z added.hardlink"));

    // fs cat: the same bytes (through a symlink and a hard link too), the same refusals.
    for spec in [
        "lab/busybox:1.38:/bin/busybox",
        "lab/busybox:1.38:/bin/sh",
        "webapp:stable:/etc/passwd",
        "lab/committed:1:/added.hardlink",
    ] {
        let snaps = run(&["fs", "cat", spec]);
        let blobs = run(&["fs", "cat", "--from-blobs", spec]);
        assert_eq!(snaps.code, Some(0), "{spec}: {}", snaps.stderr);
        assert_eq!(
            (blobs.code, &blobs.stdout),
            (Some(0), &snaps.stdout),
            "{spec}: {}",
            blobs.stderr
        );
    }
    for spec in ["lab/busybox:1.38:/etc", "lab/busybox:1.38:/nope"] {
        let snaps = run(&["fs", "cat", spec]);
        let blobs = run(&["fs", "cat", "--from-blobs", spec]);
        assert_eq!(snaps.code, Some(1), "{spec}: {}", snaps.stderr);
        assert_eq!((blobs.code, &blobs.stderr), (Some(1), &snaps.stderr), "{spec}");
    }
    assert_eq!(run(&["fs", "ls", "--from-blobs", "no-such:1:/"]).code, Some(1));
}

// ---- redirects, metacopy, xwhiteouts, userxattr --------------------------------------------

/// Sets xattr `name` of `p` (not following a link); false when the filesystem or the
/// privileges do not allow it (trusted.* needs root).
fn setx(p: &Path, name: &str, value: &[u8]) -> bool {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    // SAFETY: NUL-terminated strings; the value is valid for its length.
    unsafe { libc::lsetxattr(c.as_ptr(), n.as_ptr(), value.as_ptr().cast(), value.len(), 0) == 0 }
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex_of(&sha2::Sha256::digest(data))
}

/// One line per entry of the merged tree, as the kernel test's `find -printf` gives it:
/// `path type mode uid gid size-or-- link sha256-or--`, sorted.
fn merged_listing(stack: &coldctr::overlay::merge::Stack) -> Vec<String> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut out = Vec::new();
    let root = stack.root().unwrap();
    let mut todo = vec![(PathBuf::new(), root)];
    let mut problems = Vec::new();
    while let Some((rel, dir)) = todo.pop() {
        for (name, n) in stack.children(&dir, &mut problems) {
            let path = rel.join(std::ffi::OsStr::from_bytes(&name));
            let t = n.meta.file_type();
            let kind = if t.is_dir() {
                "d"
            } else if t.is_symlink() {
                "l"
            } else if t.is_file() {
                "f"
            } else if t.is_fifo() {
                "p"
            } else if t.is_char_device() {
                "c"
            } else {
                "?"
            };
            let link = if t.is_symlink() {
                std::fs::read_link(&n.file).unwrap().display().to_string()
            } else {
                String::new()
            };
            let (size, hash) = if t.is_file() {
                let data = std::fs::read(n.data_file()).unwrap();
                (n.meta.size().to_string(), sha256_hex(&data[..n.meta.size() as usize]))
            } else {
                ("-".into(), "-".into())
            };
            out.push(format!(
                "{} {kind} {:o} {} {} {size} {link} {hash}",
                path.display(),
                n.meta.mode() & 0o7777,
                n.meta.uid(),
                n.meta.gid()
            ));
            if n.is_dir() {
                todo.push((path, n));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:?}");
    out.sort();
    out
}

/// Runs `script` with sh in a private mount namespace; `None` (and says why) when that or an
/// overlay mount cannot be made here (not root, no unshare, no overlayfs): exit code 42 of the
/// script means its first mount failed.
fn in_mount_namespace(script: &str, what: &str) -> Option<String> {
    if !is_root() {
        eprintln!("not root: {what} skipped (kernel overlay mounts need root)");
        return None;
    }
    let out = match Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-ec", script])
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("no unshare ({e}): {what} skipped");
            return None;
        }
    };
    if out.status.code() == Some(42) || (!out.status.success() && out.stdout.is_empty()) {
        eprintln!(
            "no overlay mount here: {what} skipped ({})",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).unwrap())
}

/// The kernel's view of mount `m` as lines like [`merged_listing`]'s: `find` for the entries,
/// `sha256sum` for the files' bytes (both run inside the namespace, after `LIST` is printed).
/// A name the kernel lists but cannot stat (an xwhiteout its readdir does not apply) is left
/// out by find, with an error on stderr.
const LIST: &str = r#"cd "$M"; find . -mindepth 1 -printf '%P %y %m %U %G %s %l\n' || true; echo HASHES; find . -type f -exec sha256sum {} + || true"#;

fn kernel_listing(text: &str) -> Vec<String> {
    let (entries, hashes) = text.split_once("HASHES\n").unwrap();
    let mut sums = std::collections::BTreeMap::new();
    for l in hashes.lines() {
        let (h, p) = l.split_once("  ").unwrap();
        sums.insert(p.trim_start_matches("./").to_string(), h.to_string());
    }
    let mut out: Vec<String> = entries
        .lines()
        .map(|l| {
            // path type mode uid gid size [link]
            let f: Vec<&str> = l.splitn(7, ' ').collect();
            let file = f[1] == "f";
            format!(
                "{} {} {} {} {} {} {} {}",
                f[0],
                f[1],
                f[2],
                f[3],
                f[4],
                if file { f[5] } else { "-" },
                f.get(6).copied().unwrap_or(""),
                if file { sums[f[0]].as_str() } else { "-" }
            )
        })
        .collect();
    out.sort();
    out
}

/// Layers made by the kernel itself (redirect_dir=on, metacopy=on): a directory renamed in its
/// parent (relative redirect), one moved into a new (opaque) directory (absolute redirect),
/// then both renamed again one layer up (redirect chains across layers, and an absolute one
/// through an opaque directory), a file chmod'ed then chown'ed (metacopy over metacopy, data
/// in the base), a file removed; plus a hand-made layer under them with an xwhiteout in an
/// `opaque=x` directory. The merged view, `fs`-style, must equal the kernel's read-only mount
/// of the same four layers, entry by entry and byte for byte; and `diff` of the top layer is
/// what docker's walk of the two mounted trees gives.
#[test]
fn merged_view_equals_the_kernels_with_redirects_metacopy_and_xwhiteouts() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for sub in ["base/a/b", "base/x/y", "base/m", "u1", "u2", "w1", "w2", "xw/a", "m"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    std::fs::write(d.join("base/a/b/f1"), b"one\n").unwrap();
    std::fs::write(d.join("base/a/keep"), b"keep\n").unwrap();
    std::fs::write(d.join("base/a/kept"), b"kept\n").unwrap();
    std::fs::write(d.join("base/x/y/z"), b"deep\n").unwrap();
    std::fs::write(d.join("base/m/data"), b"metacopy data\n").unwrap();
    std::fs::write(d.join("base/base-only"), b"gone\n").unwrap();
    let make = format!(
        r#"D={d}
mount -t overlay overlay -o lowerdir=$D/base,upperdir=$D/u1,workdir=$D/w1,redirect_dir=on,metacopy=on,index=off $D/m || exit 42
cd $D/m; mv a a2; mkdir np; mv x/y np/y2; chmod 600 m/data; rm base-only; cd /; umount $D/m
mount -t overlay overlay -o lowerdir=$D/u1:$D/base,upperdir=$D/u2,workdir=$D/w2,redirect_dir=on,metacopy=on,index=off $D/m
cd $D/m; mv np/y2 y3; mv a2 a3; touch a3/new; chown 1:1 m/data; cd /; umount $D/m
"#,
        d = d.display()
    );
    if in_mount_namespace(&make, "the kernel comparison").is_none() {
        return;
    }
    // What the kernel wrote: redirects and metacopy markers (checked, so the test tests them).
    let get = |p: &str, n: &str| coldctr::overlay::xattr::get(&d.join(p), n);
    assert_eq!(
        get("u1/a2", "trusted.overlay.redirect").as_deref(),
        Some(b"a".as_slice())
    );
    assert_eq!(
        get("u1/np/y2", "trusted.overlay.redirect").as_deref(),
        Some(b"/x/y".as_slice())
    );
    assert_eq!(
        get("u2/y3", "trusted.overlay.redirect").as_deref(),
        Some(b"/np/y2".as_slice())
    );
    assert_eq!(
        get("u2/a3", "trusted.overlay.redirect").as_deref(),
        Some(b"a2".as_slice())
    );
    assert!(get("u2/m/data", "trusted.overlay.metacopy").is_some());
    assert_eq!(get("u1/np", "trusted.overlay.opaque").as_deref(), Some(b"y".as_slice()));
    // The hand-made layer: `keep` whited out by an xwhiteout, `kept` by nothing (a zero-size
    // file without the attribute is a file), in a directory marked opaque=x.
    std::fs::write(d.join("xw/a/keep"), b"").unwrap();
    std::fs::write(d.join("xw/a/empty"), b"").unwrap();
    assert!(setx(&d.join("xw/a/keep"), "trusted.overlay.whiteout", b""));
    assert!(setx(&d.join("xw/a"), "trusted.overlay.opaque", b"x"));
    let compare = format!(
        "M={d}/m\nmount -t overlay overlay -o ro,lowerdir={d}/u2:{d}/u1:{d}/xw:{d}/base,redirect_dir=follow,metacopy=on $M || exit 42\n{LIST}\n",
        d = d.display()
    );
    let Some(kernel) = in_mount_namespace(&compare, "the kernel comparison") else {
        return;
    };
    let kernel = kernel_listing(&kernel);
    let layers: Vec<PathBuf> = ["u2", "u1", "xw", "base"].iter().map(|l| d.join(l)).collect();
    let stack = coldctr::overlay::merge::Stack::with(layers, coldctr::overlay::merge::Xattrs::Trusted, false);
    let ours = merged_listing(&stack);
    assert_eq!(ours, kernel);
    // The merged tree has what the renames and the metacopy promise.
    let has = |p: &str| ours.iter().any(|l| l.starts_with(&format!("{p} ")));
    assert!(has("a3/b/f1") && has("a3/kept") && has("a3/new") && has("y3/z") && has("a3/empty"));
    assert!(!has("a3/keep") && !has("a2") && !has("a") && !has("x/y") && !has("np/y2") && !has("base-only"));
    let data = ours.iter().find(|l| l.starts_with("m/data ")).unwrap();
    assert!(
        data.starts_with("m/data f 600 1 1 14  ") && data.ends_with(&sha256_hex(b"metacopy data\n")),
        "{data}"
    );
    // diff of the top layer: the renamed directories are new at their new paths (with all
    // below them) and deleted at their old ones; the chown'ed metacopy file changed.
    let mut problems = Vec::new();
    let lowers: Vec<PathBuf> = ["u1", "xw", "base"].iter().map(|l| d.join(l)).collect();
    let changes = coldctr::overlay::diff::changes(
        &d.join("u2"),
        &lowers,
        coldctr::overlay::merge::Xattrs::Trusted,
        false,
        &mut problems,
    )
    .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let got: Vec<String> = changes
        .iter()
        .map(|c| format!("{} {}", c.kind, String::from_utf8_lossy(&c.path)))
        .collect();
    assert_eq!(
        got,
        [
            "D /a2",
            "A /a3",
            "A /a3/b",
            "A /a3/b/f1",
            "A /a3/empty",
            "A /a3/kept",
            "A /a3/new",
            "C /m",
            "C /m/data",
            "C /np",
            "D /np/y2",
            "A /y3",
            "A /y3/z",
        ]
    );
    // The metacopy file's bytes (for --hash) are the base's.
    let c = changes.iter().find(|c| &*c.path == b"/m/data").unwrap();
    assert_eq!(std::fs::read(c.data()).unwrap(), b"metacopy data\n");
}

/// A metacopy file with a relative redirect (the kernel writes `overlay.redirect` = `meta` on
/// `m/renamed` when a metacopy file `m/meta` is renamed in its directory) has its data at
/// `meta` in the same directory of the layers below: it used to be shown as zeros, said to
/// have no data, its redirect "not followed". Layers made by the kernel (chmod, rename, then
/// chown a layer up: the top metacopy file has no redirect, the one below it has), plus a
/// hand-made metacopy file whose absolute redirect leads to one with a relative redirect (the
/// name replaces the last component of the absolute path); the merged view must equal the
/// kernel's. Relative redirects that are not a plain name stay refused, and a metacopy file
/// without data says where its data was looked for.
#[test]
fn metacopy_files_follow_relative_redirects_as_the_kernel_does() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for sub in [
        "base/m", "base/d", "u1", "u2", "u3", "w1", "w2", "w3", "top", "hm/d", "m",
    ] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    std::fs::write(d.join("base/m/meta"), b"meta data\n").unwrap();
    std::fs::write(d.join("base/d/g"), b"g data\n").unwrap();
    std::fs::write(d.join("base/d/h"), b"h data\n").unwrap();
    let make = format!(
        r#"D={d}
mount -t overlay overlay -o lowerdir=$D/base,upperdir=$D/u1,workdir=$D/w1,redirect_dir=on,metacopy=on,index=off $D/m || exit 42
chmod 600 $D/m/m/meta; umount $D/m
mount -t overlay overlay -o lowerdir=$D/u1:$D/base,upperdir=$D/u2,workdir=$D/w2,redirect_dir=on,metacopy=on,index=off $D/m
mv $D/m/m/meta $D/m/m/renamed; umount $D/m
mount -t overlay overlay -o lowerdir=$D/u2:$D/u1:$D/base,upperdir=$D/u3,workdir=$D/w3,redirect_dir=on,metacopy=on,index=off $D/m
chown 5:5 $D/m/m/renamed; umount $D/m
"#,
        d = d.display()
    );
    if in_mount_namespace(&make, "the relative metacopy redirect comparison").is_none() {
        return;
    }
    let get = |p: &str, n: &str| coldctr::overlay::xattr::get(&d.join(p), n);
    assert_eq!(
        get("u2/m/renamed", "trusted.overlay.redirect").as_deref(),
        Some(b"meta".as_slice())
    );
    assert!(get("u2/m/renamed", "trusted.overlay.metacopy").is_some());
    assert!(get("u3/m/renamed", "trusted.overlay.metacopy").is_some());
    assert!(get("u3/m/renamed", "trusted.overlay.redirect").is_none());
    // Hand-made: /f's data is at /d/g, whose metacopy file there says `h`: /d/h.
    let metacopy = |p: &str, size: u64, redirect: Option<&[u8]>| {
        let f = std::fs::File::create(d.join(p)).unwrap();
        f.set_len(size).unwrap();
        assert!(setx(&d.join(p), "trusted.overlay.metacopy", b""));
        if let Some(r) = redirect {
            assert!(setx(&d.join(p), "trusted.overlay.redirect", r));
        }
    };
    metacopy("top/f", 7, Some(b"/d/g"));
    metacopy("hm/d/g", 7, Some(b"h"));
    let compare = format!(
        "M={d}/m\nmount -t overlay overlay -o ro,lowerdir={d}/u3:{d}/u2:{d}/u1:{d}/top:{d}/hm:{d}/base,redirect_dir=follow,metacopy=on $M || exit 42\n{LIST}\n",
        d = d.display()
    );
    let Some(kernel) = in_mount_namespace(&compare, "the relative metacopy redirect comparison") else {
        return;
    };
    let kernel = kernel_listing(&kernel);
    let layers: Vec<PathBuf> = ["u3", "u2", "u1", "top", "hm", "base"]
        .iter()
        .map(|l| d.join(l))
        .collect();
    let stack = coldctr::overlay::merge::Stack::with(layers.clone(), coldctr::overlay::merge::Xattrs::Trusted, false);
    let ours = merged_listing(&stack);
    assert_eq!(ours, kernel);
    let line = |p: &str| ours.iter().find(|l| l.starts_with(&format!("{p} "))).unwrap().clone();
    assert!(line("m/renamed").starts_with("m/renamed f 600 5 5 10  "), "{ours:?}");
    assert!(line("m/renamed").ends_with(&sha256_hex(b"meta data\n")), "{ours:?}");
    assert!(line("f").ends_with(&sha256_hex(b"h data\n")), "{ours:?}");
    assert!(line("d/g").ends_with(&sha256_hex(b"h data\n")), "{ours:?}");

    // Relative redirects that are not a plain name: refused as before, nothing read there;
    // and one to a name no layer below has: the message says where the data was looked for.
    let bad: [(&str, &[u8], &str); 4] = [
        ("slash", b"d/h", "a relative redirect with a `/`"),
        ("dotdot", b"..", "`.` or `..`"),
        ("empty", b"/d//h", "an empty path component"),
        ("nowhere", b"gone", "data no lower layer has at /gone"),
    ];
    for (name, v, _) in bad {
        metacopy(&format!("top/{name}"), 7, Some(v));
    }
    let stack = coldctr::overlay::merge::Stack::with(layers, coldctr::overlay::merge::Xattrs::Trusted, false);
    for (name, _, said) in bad {
        let (_, node) = stack.resolve(format!("/{name}").as_bytes(), false).unwrap();
        assert_eq!(node.data, None, "{name}");
        let problems = stack.take_problems();
        assert!(problems.iter().any(|p| p.contains(said)), "{name}: {problems:?}");
    }
}

/// A relative redirect met at the end of an absolute path replaces that path's last
/// component (the kernel keeps the directories before it): `/y` redirected to `/a/b`, whose
/// `b` says `c` a layer down, merges `/a/c` below, not `/c` of `/y`'s own directory.
#[test]
fn a_relative_redirect_on_an_absolute_path_keeps_its_directories() {
    if skip_unless_root("trusted.overlay.* redirects") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for sub in ["top/y", "mid/a/b", "base/a/c", "base/c", "m"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    std::fs::write(d.join("base/a/c/right"), b"right\n").unwrap();
    std::fs::write(d.join("base/c/wrong"), b"wrong\n").unwrap();
    assert!(setx(&d.join("top/y"), "trusted.overlay.redirect", b"/a/b"));
    assert!(setx(&d.join("mid/a/b"), "trusted.overlay.redirect", b"c"));
    let layers: Vec<PathBuf> = ["top", "mid", "base"].iter().map(|l| d.join(l)).collect();
    let stack = coldctr::overlay::merge::Stack::with(layers, coldctr::overlay::merge::Xattrs::Trusted, false);
    let ours = merged_listing(&stack);
    assert!(ours.iter().any(|l| l.starts_with("y/right f ")), "{ours:?}");
    assert!(!ours.iter().any(|l| l.starts_with("y/wrong ")), "{ours:?}");
    let compare = format!(
        "M={d}/m\nmount -t overlay overlay -o ro,lowerdir={d}/top:{d}/mid:{d}/base,redirect_dir=follow $M || exit 42\n{LIST}\n",
        d = d.display()
    );
    if let Some(kernel) = in_mount_namespace(&compare, "the relative-after-absolute redirect comparison") {
        assert_eq!(ours, kernel_listing(&kernel));
    }
}

/// A metacopy file whose data is shorter than the size it claims: the kernel's read gives
/// the data's bytes, and `fs cat` printed them padded with zeros to the claimed size. Now
/// `cat` prints the bytes there are (and says the rest is missing, exit 3); `export` keeps the
/// member the size its header says, padded with zeros, and says so.
#[test]
fn a_metacopy_file_longer_than_its_data_cats_the_data() {
    if skip_unless_root("trusted.overlay.* metacopy") {
        return;
    }
    let h = node_copy();
    let snaps = h.root().join("io.containerd.snapshotter.v1.overlayfs/snapshots");
    let passwd = std::fs::read(snaps.join("13/fs/etc/passwd")).unwrap();
    let claimed = passwd.len() as u64 + 100;
    let f = std::fs::File::create(h.upper().join("app/short")).unwrap();
    f.set_len(claimed).unwrap();
    drop(f);
    assert!(setx(&h.upper().join("app/short"), "trusted.overlay.metacopy", b""));
    assert!(setx(
        &h.upper().join("app/short"),
        "trusted.overlay.redirect",
        b"/etc/passwd"
    ));
    let said = format!("{} of {claimed} bytes read", passwd.len());
    let r = h.run(&[b"fs", b"cat", b"dev-oldapp:/app/short"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert_eq!(r.stdout, passwd);
    assert!(r.stderr.contains(&said), "{}", r.stderr);
    let out = h.dir.path().join("out.tar");
    let e = h.run(&[b"fs", b"export", b"dev-oldapp", b"-o", out.as_os_str().as_bytes()]);
    assert_eq!(e.code, Some(3), "{}", e.stderr);
    assert!(
        e.stderr.contains(&format!("{said}; zeros written for the rest")),
        "{}",
        e.stderr
    );
    let x = tempfile::tempdir().unwrap();
    let st = Command::new("tar")
        .arg("-xf")
        .arg(&out)
        .arg("-C")
        .arg(x.path())
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let mut padded = passwd.clone();
    padded.resize(claimed as usize, 0);
    assert_eq!(std::fs::read(x.path().join("app/short")).unwrap(), padded);
}

/// A private copy of the node (the tar's `var`), removed afterwards.
fn node_copy() -> Hostile {
    let dir = tempfile::tempdir().unwrap();
    let cp = Command::new("cp")
        .arg("-a")
        .arg(node().join("var"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(cp.status.success(), "{}", String::from_utf8_lossy(&cp.stderr));
    Hostile { dir }
}

/// A rootless node's layers carry user.overlay.* attributes (the kernel writes those with
/// `userxattr`), which anyone may set: they count only with --userxattr. Then opaque
/// directories and xwhiteouts work as trusted.overlay.* ones would, while redirects and
/// metacopy files are refused as the kernel refuses them there (userxattr forces
/// redirect_dir=nofollow and metacopy=off): reported (exit 3), never followed. Needs only
/// user.* xattrs, no root.
#[test]
fn userxattr_mode_reads_user_overlay_attributes() {
    let h = node_copy();
    let snaps = h.root().join("io.containerd.snapshotter.v1.overlayfs/snapshots");
    let (up, init) = (snaps.join("49/fs"), snaps.join("48/fs"));
    std::fs::create_dir(up.join("root")).unwrap();
    if !setx(&up.join("root"), "user.overlay.opaque", b"y") {
        eprintln!("no user.* xattrs on this filesystem: userxattr test skipped");
        return;
    }
    std::fs::write(snaps.join("13/fs/root/hidden"), b"h").unwrap();
    // An xwhiteout in the -init layer (a lower, not the lowest) hides the base's /etc/group.
    std::fs::write(init.join("etc/group"), b"").unwrap();
    assert!(setx(&init.join("etc/group"), "user.overlay.whiteout", b""));
    assert!(setx(&init.join("etc"), "user.overlay.opaque", b"x"));

    // Without --userxattr (a root-run daemon) none of it counts; the opaque marker of the
    // other namespace is pointed out.
    let r = h.run(&[b"fs", b"ls", b"dev-oldapp:/root"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout_text().contains(" hidden\n"), "{}", r.stdout_text());
    assert!(
        r.stderr.contains("user.overlay.opaque") && r.stderr.contains("--userxattr"),
        "{}",
        r.stderr
    );
    let r = h.run(&[b"fs", b"cat", b"dev-oldapp:/etc/group"]);
    assert_eq!((r.code, r.stdout.as_slice()), (Some(0), b"".as_slice()));
    let r = h.run(&[b"diff", b"dev-oldapp"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!r.stdout_text().contains("/root/hidden") && r.stderr.contains("user.overlay.opaque"));

    let ux = |args: &[&[u8]]| {
        let mut all = args.to_vec();
        all.push(b"--userxattr");
        h.run(&all)
    };
    let r = ux(&[b"fs", b"ls", b"dev-oldapp:/root"]);
    assert_eq!((r.code, r.stdout_text()), (Some(0), String::new()), "{}", r.stderr);
    let r = ux(&[b"fs", b"cat", b"dev-oldapp:/etc/group"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let r = ux(&[b"fs", b"cat", b"dev-oldapp:/etc/passwd"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // diff: the xwhiteout is a lower layer's, not a change of the container; the opaque dir
    // deletes what it hides.
    let r = ux(&[b"diff", b"dev-oldapp"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let text = r.stdout_text();
    assert!(
        text.contains("C /root\n") && text.contains("D /root/hidden\n"),
        "{text}"
    );
    assert!(!text.contains("/etc/group"), "{text}");
    // export: no overlay attributes of the mount's namespace.
    let out = h.dir.path().join("out.tar");
    let e = ux(&[b"fs", b"export", b"dev-oldapp", b"-o", out.as_os_str().as_bytes()]);
    assert_eq!(e.code, Some(0), "{}", e.stderr);
    let list = tvf(&out);
    assert!(!list.contains(" etc/group\n") && !list.contains("root/hidden") && list.contains(" etc/passwd\n"));
    let x = tempfile::tempdir().unwrap();
    let st = Command::new("tar")
        .args(["--xattrs", "--xattrs-include=*", "-xf"])
        .arg(&out)
        .arg("-C")
        .arg(x.path())
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    assert!(coldctr::overlay::xattr::get(&x.path().join("root"), "user.overlay.opaque").is_none());

    // Redirects and metacopy files in user.*: refused, as the kernel refuses them.
    std::fs::create_dir(up.join("bin2")).unwrap();
    assert!(setx(&up.join("bin2"), "user.overlay.redirect", b"bin"));
    std::fs::write(up.join("app/meta"), b"").unwrap();
    assert!(setx(&up.join("app/meta"), "user.overlay.metacopy", b""));
    assert!(setx(&up.join("app/meta"), "user.overlay.redirect", b"/etc/passwd"));
    let r = ux(&[b"fs", b"ls", b"dev-oldapp:/bin2"]);
    assert_eq!((r.code, r.stdout_text()), (Some(3), String::new()), "{}", r.stderr);
    assert!(r.stderr.contains("does not follow redirects"), "{}", r.stderr);
    let r = ux(&[b"fs", b"cat", b"dev-oldapp:/app/meta"]);
    assert_eq!((r.code, r.stdout.as_slice()), (Some(3), b"".as_slice()), "{}", r.stderr);
    assert!(r.stderr.contains("does not follow metacopy"), "{}", r.stderr);

    // Mount lines: userxattr and the configured mount_options where containerd puts them.
    let want = expected_json("ctr/moby/snapshots-mounts.json");
    let line = want
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.starts_with("7782f5c3458e") && !k.ends_with("-init"))
        .map(|(_, v)| v.as_str().unwrap().trim_end().to_string())
        .unwrap();
    let m = h.run(&[
        b"mounts",
        b"dev-oldapp",
        b"--target",
        b"/tmp/x",
        b"--node-root",
        b"/var/lib/containerd",
        b"--userxattr",
        b"--mount-option",
        b"metacopy=on",
    ]);
    assert_eq!(m.code, Some(0), "{}", m.stderr);
    assert_eq!(
        m.stdout_text().trim_end(),
        line.replace(",index=off", ",metacopy=on,userxattr,index=off")
    );
}

/// Redirects and metacopy files (trusted.overlay.*, root only) through the commands: renamed
/// directories list their origin, a metacopy file's bytes (cat, export, diff --hash) are its
/// lower file's; redirects that escape, hold a NUL or an empty component, or point nowhere are
/// reported (exit 3) and never followed.
#[test]
fn redirects_and_metacopy_through_the_commands() {
    if skip_unless_root("trusted.overlay.* redirects") {
        return;
    }
    let h = node_copy();
    let snaps = h.root().join("io.containerd.snapshotter.v1.overlayfs/snapshots");
    let up = snaps.join("49/fs");
    std::fs::create_dir(up.join("bin2")).unwrap();
    assert!(setx(&up.join("bin2"), "trusted.overlay.redirect", b"bin"));
    std::fs::create_dir(up.join("etc2")).unwrap();
    assert!(setx(&up.join("etc2"), "trusted.overlay.redirect", b"/etc"));
    // A metacopy file: the upper has the metadata (mode 600), the base /etc/passwd the bytes.
    let passwd = std::fs::read(snaps.join("13/fs/etc/passwd")).unwrap();
    let f = std::fs::File::create(up.join("app/meta")).unwrap();
    f.set_len(passwd.len() as u64).unwrap();
    drop(f);
    std::fs::set_permissions(up.join("app/meta"), std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    assert!(setx(&up.join("app/meta"), "trusted.overlay.metacopy", b""));
    assert!(setx(&up.join("app/meta"), "trusted.overlay.redirect", b"/etc/passwd"));

    let r = h.run(&[b"fs", b"ls", b"dev-oldapp:/bin2"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout_text().contains(" acpid -> busybox\n"), "{}", r.stdout_text());
    let r = h.run(&[b"fs", b"ls", b"dev-oldapp:/etc2"]);
    assert!(r.stdout_text().contains(" passwd\n") && r.stdout_text().contains(" hosts\n"));
    let r = h.run(&[b"fs", b"cat", b"dev-oldapp:/app/meta"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, passwd);
    let r = h.run(&[b"fs", b"ls", b"dev-oldapp:/app/meta"]);
    assert!(r.stdout_text().starts_with("-rw------- "), "{}", r.stdout_text());
    // With a mount that does not follow them (mount_options), nothing is followed.
    let r = h.run(&[
        b"fs",
        b"ls",
        b"dev-oldapp:/bin2",
        b"--mount-option",
        b"redirect_dir=nofollow",
    ]);
    assert_eq!((r.code, r.stdout_text()), (Some(3), String::new()), "{}", r.stderr);
    // diff: the renamed dirs are added with their origin's entries.
    let r = h.run(&[b"diff", b"dev-oldapp"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let text = r.stdout_text();
    for want in ["A /bin2\n", "A /bin2/acpid\n", "A /etc2/passwd\n", "A /app/meta\n"] {
        assert!(text.contains(want), "{want}: {text}");
    }
    let j = h.run(&[b"diff", b"dev-oldapp", b"--format", b"json", b"--hash"]);
    let j: Value = serde_json::from_slice(&j.stdout).unwrap();
    let meta = j.as_array().unwrap().iter().find(|e| e["path"] == "/app/meta").unwrap();
    assert_eq!(meta["sha256"], sha256_hex(&passwd));
    // export: the metacopy file's bytes.
    let out = h.dir.path().join("out.tar");
    let e = h.run(&[b"fs", b"export", b"dev-oldapp", b"-o", out.as_os_str().as_bytes()]);
    assert_eq!(e.code, Some(0), "{}", e.stderr);
    assert!(tvf(&out).contains(" bin2/acpid -> busybox\n"));
    let x = tempfile::tempdir().unwrap();
    let st = Command::new("tar")
        .arg("-xf")
        .arg(&out)
        .arg("-C")
        .arg(x.path())
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    assert_eq!(std::fs::read(x.path().join("app/meta")).unwrap(), passwd);

    // Hostile redirects: escapes, NULs, empty components, a missing origin.
    let bad: [(&str, &[u8]); 5] = [
        ("esc1", b"../../../../etc"),
        ("esc2", b"/../../etc"),
        ("esc3", b"/etc//passwd"),
        ("esc4", b"et\0c"),
        ("gone", b"/no/such/dir"),
    ];
    for (name, v) in bad {
        std::fs::create_dir(up.join(name)).unwrap();
        assert!(setx(&up.join(name), "trusted.overlay.redirect", v));
    }
    let r = h.run(&[b"fs", b"ls", b"dev-oldapp:/"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    for (name, _) in bad {
        assert!(
            r.stderr.contains(&format!("/49/fs/{name}: trusted.overlay.redirect")),
            "{name}: {}",
            r.stderr
        );
        let l = h.run(&[b"fs", b"ls", format!("dev-oldapp:/{name}").as_bytes()]);
        assert_eq!(l.stdout_text(), "", "{name}");
    }
    assert!(
        r.stderr.contains("not followed: a `.` or `..` component"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("not followed: contains a NUL"), "{}", r.stderr);
    assert!(r.stderr.contains("points to a path no layer below has"), "{}", r.stderr);
}

/// The same comparison for a `userxattr` mount (rootless containerd's): user.overlay.opaque
/// directories and xwhiteouts count, trusted.overlay.* ones are plain content, and an
/// xwhiteout in the lowest layer (which the kernel lists but cannot open) is left out and
/// noted.
#[test]
fn merged_view_equals_the_kernels_with_userxattr() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for sub in [
        "l1/op", "l1/xd", "l1/tr", "l2/op", "l2/xd", "l2/tr", "l3/op", "l3/xd", "l3/tr", "m",
    ] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    for (f, data) in [
        ("l3/op/below", "b"),
        ("l3/xd/gone", "g"),
        ("l3/xd/stays", "s"),
        ("l3/tr/below", "t"),
        ("l2/xd/gone", "g2"),
        ("l1/xd/own", "o"),
    ] {
        std::fs::write(d.join(f), data).unwrap();
    }
    // l2 (a middle layer): xd marked, `gone` an xwhiteout over l3's; l3 (lowest): an
    // "xwhiteout" that is only a file there.
    std::fs::write(d.join("l2/xd/gone"), b"").unwrap();
    std::fs::write(d.join("l3/xd/lowest"), b"").unwrap();
    let ok = setx(&d.join("l2/xd/gone"), "user.overlay.whiteout", b"")
        && setx(&d.join("l2/xd"), "user.overlay.opaque", b"x")
        && setx(&d.join("l3/xd/lowest"), "user.overlay.whiteout", b"")
        && setx(&d.join("l3/xd"), "user.overlay.opaque", b"x")
        && setx(&d.join("l1/op"), "user.overlay.opaque", b"y");
    if !ok {
        eprintln!("no user.* xattrs here: userxattr kernel comparison skipped");
        return;
    }
    // trusted.* is not what a userxattr mount reads (root can set it; then it must not count).
    setx(&d.join("l1/tr"), "trusted.overlay.opaque", b"y");
    let compare = format!(
        "M={d}/m\nmount -t overlay overlay -o ro,lowerdir={d}/l1:{d}/l2:{d}/l3,userxattr $M || exit 42\n{LIST}\n",
        d = d.display()
    );
    let Some(kernel) = in_mount_namespace(&compare, "the userxattr kernel comparison") else {
        return;
    };
    let kernel = kernel_listing(&kernel);
    let layers: Vec<PathBuf> = ["l1", "l2", "l3"].iter().map(|l| d.join(l)).collect();
    let stack = coldctr::overlay::merge::Stack::with(layers, coldctr::overlay::merge::Xattrs::User, false);
    let ours = merged_listing(&stack);
    assert_eq!(ours, kernel);
    let has = |p: &str| ours.iter().any(|l| l.starts_with(&format!("{p} ")));
    assert!(has("xd/stays") && has("xd/own") && has("tr/below"));
    assert!(!has("xd/gone") && !has("op/below") && !has("xd/lowest"));
    // The lowest layer's xwhiteout is one the kernel's readdir still lists: said.
    let notes = stack.take_notes();
    assert!(
        notes.iter().any(|n| n.contains("/l3/xd/lowest: an xwhiteout")),
        "{notes:?}"
    );
}

/// `overlay.opaque=y` on a layer's root directory (containerd's overlay applier sets it for a
/// layer tar with a top-level `.wh..wh..opq`; anyone with root can set it on an upper dir)
/// hides nothing: the kernel never looks the root up and always merges every layer's root
/// (`ovl_get_root`, "Root is always merge"). It used to hide the whole image: `fs ls /` lost
/// every lower entry, `diff` reported them all `D`, `export` left out `bin/busybox`, exit 0.
#[test]
fn an_opaque_layer_root_hides_nothing_as_in_the_kernel() {
    if skip_unless_root("trusted.overlay.opaque on layer roots") {
        return;
    }
    let h = node_copy();
    let snaps = h.root().join("io.containerd.snapshotter.v1.overlayfs/snapshots");
    let before_ls = h.run(&[b"fs", b"ls", b"dev-fschanges:/"]);
    let before_diff = h.run(&[b"diff", b"dev-fschanges"]);
    assert_eq!((before_ls.code, before_diff.code), (Some(0), Some(0)));
    // The container's upper dir, its init layer and an image layer in the middle of its chain.
    for id in ["68", "67", "31"] {
        assert!(setx(&snaps.join(id).join("fs"), "trusted.overlay.opaque", b"y"));
    }
    let ls = h.run(&[b"fs", b"ls", b"dev-fschanges:/"]);
    assert_eq!(ls.code, Some(0), "{}", ls.stderr);
    assert_eq!(ls.stdout_text(), before_ls.stdout_text());
    assert!(ls.stdout_text().contains(" bin\n"), "{}", ls.stdout_text());
    // Said, as a note (not damage: the kernel's mount shows the same).
    assert!(
        ls.stderr
            .contains("/snapshots/68/fs: trusted.overlay.opaque=y on a layer's root directory, ignored"),
        "{}",
        ls.stderr
    );
    let diff = h.run(&[b"diff", b"dev-fschanges"]);
    assert_eq!(diff.code, Some(0), "{}", diff.stderr);
    assert_eq!(diff.stdout_text(), before_diff.stdout_text());
    let out = h.dir.path().join("out.tar");
    let e = h.run(&[b"fs", b"export", b"dev-fschanges", b"-o", out.as_os_str().as_bytes()]);
    assert_eq!(e.code, Some(0), "{}", e.stderr);
    assert!(tvf(&out).contains(" bin/busybox\n"));

    // The kernel's own mount of a hand-made stack: every root opaque, one opaque directory
    // below the root still hiding what is under it.
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for dir in ["u/op", "mid/op", "base/op", "base/sub", "m"] {
        std::fs::create_dir_all(d.join(dir)).unwrap();
    }
    for (f, data) in [
        ("u/own", "u"),
        ("mid/middle", "m"),
        ("base/below", "b"),
        ("base/sub/deep", "d"),
        ("base/op/hidden", "h"),
        ("mid/op/shown", "s"),
    ] {
        std::fs::write(d.join(f), data).unwrap();
    }
    for p in ["u", "mid", "base", "mid/op"] {
        assert!(setx(&d.join(p), "trusted.overlay.opaque", b"y"));
    }
    let layers: Vec<PathBuf> = ["u", "mid", "base"].iter().map(|l| d.join(l)).collect();
    let stack = coldctr::overlay::merge::Stack::with(layers, coldctr::overlay::merge::Xattrs::Trusted, false);
    let ours = merged_listing(&stack);
    let has = |p: &str| ours.iter().any(|l| l.starts_with(&format!("{p} ")));
    assert!(has("own") && has("middle") && has("below") && has("sub/deep") && has("op/shown"));
    assert!(!has("op/hidden"), "{ours:?}");
    let compare = format!(
        "M={d}/m\nmount -t overlay overlay -o ro,lowerdir={d}/u:{d}/mid:{d}/base $M || exit 42\n{LIST}\n",
        d = d.display()
    );
    let Some(kernel) = in_mount_namespace(&compare, "the opaque-root kernel comparison") else {
        return;
    };
    assert_eq!(ours, kernel_listing(&kernel));
}

/// The snapshotter's state directory itself moved out of the root and linked back: it is not
/// followed, and every command that reads its records says so (exit 3), as when `snapshots/`
/// or `snapshots/<id>` is the link. They used to be silent: `snapshots tree` printed its
/// header with exit 0, `diff`/`fs`/`mounts` said the container's snapshot "is not recorded"
/// (exit 1) though meta.db records it, `verify` said OK.
#[test]
fn a_symlinked_snapshotter_directory_is_named_by_every_layer_command() {
    let h = node_copy();
    let sn = h.root().join("io.containerd.snapshotter.v1.overlayfs");
    let elsewhere = h.dir.path().join("overlayfs-elsewhere");
    std::fs::rename(&sn, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &sn).unwrap();
    let said = format!("{}: a symlink, not followed", sn.display());
    let commands: [&[&[u8]]; 9] = [
        &[b"gc"],
        &[b"du"],
        &[b"snapshots", b"tree"],
        &[b"snapshots", b"tree", b"dev-fschanges"],
        &[b"diff", b"dev-fschanges"],
        &[b"fs", b"ls", b"dev-fschanges:/"],
        &[b"mounts", b"dev-running"],
        &[b"snapshots"],
        &[b"verify"],
    ];
    for (args, r) in each_exits_3_saying(&h, &commands, &said) {
        let all = format!("{}{}", r.stdout_text(), r.stderr);
        assert!(!all.contains("is not recorded"), "{args}: {all}");
        assert!(
            !r.stdout_text().contains("/snapshots/68/fs"),
            "{args}: read through the link"
        );
    }
}

/// Sweep 41: `fs ls`/`fs cat` of a path that is there but longer than PATH_MAX in its layer
/// said "no such file or directory", exit 1; it was only not looked up (layers are read by
/// path), and says so, exit 3, as the walks that stop at that depth.
#[test]
fn a_path_too_deep_to_look_up_is_exit_3_not_missing() {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let h = node_copy();
    let name = "d".repeat(250);
    let c = std::ffi::CString::new(name.clone()).unwrap();
    let mut dir = std::fs::File::open(h.upper()).unwrap();
    for _ in 0..20 {
        // SAFETY: an open directory and a NUL-terminated name; the new descriptor is owned.
        let fd = unsafe {
            assert_eq!(libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), 0o755), 0);
            libc::openat(dir.as_raw_fd(), c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY)
        };
        assert!(fd >= 0);
        // SAFETY: a descriptor just returned, owned by nothing else.
        dir = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    let deep = format!("dev-oldapp:{}", format!("/{name}").repeat(20));
    for cmd in [b"ls".as_slice(), b"cat"] {
        let r = h.run(&[b"fs", cmd, deep.as_bytes()]);
        assert_eq!(r.code, Some(3), "{}", r.stderr);
        assert!(
            r.stderr.contains(": not looked up: its path in layer ")
                && r.stderr
                    .contains("longer than the system looks up (PATH_MAX, 4096 bytes)")
                && !r.stderr.contains("no such file"),
            "{}",
            r.stderr
        );
    }
    let r = h.run(&[b"fs", b"ls", format!("dev-oldapp:/{name}/none").as_bytes()]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("/none: no such file or directory"), "{}", r.stderr);
}

/// A redirect whose origin in the layers below is not a directory (a symlink out of the root,
/// a file) merges nothing, as in the kernel, and is named (exit 3): it used to show as an
/// empty directory with nothing said.
#[test]
fn a_redirect_to_a_non_directory_is_named() {
    if skip_unless_root("trusted.overlay.* redirects") {
        return;
    }
    let h = node_copy();
    let snaps = h.root().join("io.containerd.snapshotter.v1.overlayfs/snapshots");
    let (up, init) = (snaps.join("49/fs"), snaps.join("48/fs"));
    // In a lower layer (dev-oldapp's init layer): a link to a directory outside the root.
    let outside = h.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), b"host secret\n").unwrap();
    std::os::unix::fs::symlink(&outside, init.join("hostdir")).unwrap();
    let cases: [(&str, &[u8], String); 3] = [
        (
            "abs",
            b"/hostdir",
            format!("{}, a symlink", init.join("hostdir").display()),
        ),
        (
            "rel",
            b"hostdir",
            format!("{}, a symlink", init.join("hostdir").display()),
        ),
        ("file", b"/etc/passwd", "/fs/etc/passwd, a regular file".to_string()),
    ];
    for (name, v, _) in &cases {
        std::fs::create_dir(up.join(name)).unwrap();
        assert!(setx(&up.join(name), "trusted.overlay.redirect", v));
    }
    for (name, _, said) in &cases {
        let r = h.run(&[b"fs", b"ls", format!("dev-oldapp:/{name}").as_bytes()]);
        assert_eq!(r.code, Some(3), "{name}: {}", r.stderr);
        assert_eq!(r.stdout_text(), "", "{name}: nothing merged from below");
        let line = format!("{}: trusted.overlay.redirect points to ", up.join(name).display());
        assert!(
            r.stderr.lines().any(|l| l.contains(&line) && l.contains(said.as_str())),
            "{name}: {}",
            r.stderr
        );
    }
    let r = h.run(&[b"fs", b"cat", b"dev-oldapp:/abs/secret"]);
    assert_ne!(r.code, Some(0));
    assert!(!r.stdout_text().contains("host secret"));
    // diff and export say it too.
    let d = h.run(&[b"diff", b"dev-oldapp"]);
    assert_eq!(d.code, Some(3), "{}", d.stderr);
    assert!(d.stderr.contains("hostdir, a symlink"), "{}", d.stderr);
}

/// A redirect value is escaped once on stderr: it was escaped when the problem was worded,
/// then again when printed (`/../\\x1b[33mevil\\x07`).
#[test]
fn a_redirect_value_is_escaped_once_on_stderr() {
    if skip_unless_root("trusted.overlay.* redirects") {
        return;
    }
    let h = node_copy();
    let up = h.root().join("io.containerd.snapshotter.v1.overlayfs/snapshots/49/fs");
    std::fs::create_dir(up.join("esc")).unwrap();
    assert!(setx(
        &up.join("esc"),
        "trusted.overlay.redirect",
        b"/../\x1b[33mevil\x07"
    ));
    let r = h.run(&[b"fs", b"ls", b"dev-oldapp:/esc"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("trusted.overlay.redirect /../\\x1b[33mevil\\x07 not followed"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("\\\\x1b"), "escaped twice: {}", r.stderr);
    assert!(!r.stderr.contains('\x1b'), "raw escape: {}", r.stderr);
}

// ---- container sizes -----------------------------------------------------------------------

/// continuity's `fs.DiskUsage`, written again here: `st_blocks * 512` of every inode under
/// `top` once, symlinks not followed.
fn disk_usage(top: &Path) -> i64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0u64;
    let mut todo = vec![top.to_path_buf()];
    while let Some(p) = todo.pop() {
        let m = std::fs::symlink_metadata(&p).unwrap();
        if seen.insert((m.dev(), m.ino())) {
            total += m.blocks() * 512;
            if m.is_dir() {
                todo.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            }
        }
    }
    i64::try_from(total).unwrap()
}

/// `Mounts` in a fixed order: dockerd prints them in Go map order, which differs between two
/// captures of the same container (`dev-fschanges`'s inspect.json and inspect-size.json).
fn mounts_sorted(mut v: Value) -> Value {
    if let Some(m) = v
        .get_mut(0)
        .and_then(|c| c.get_mut("Mounts"))
        .and_then(Value::as_array_mut)
    {
        m.sort_by_key(|m| m["Destination"].as_str().unwrap_or_default().to_string());
    }
    v
}

/// `container inspect --size` and `ps --size` against dockerd's (`inspect-size.json`,
/// `ps-a-size.jsonl`, and `ps-a.jsonl`, whose `{{json .}}` turned sizes on). SizeRw is the
/// walk of the rw layer's upper dir, allocated blocks, so it depends on the filesystem the
/// tar was unpacked to: on ext4 with 4 KiB blocks (the node's), where the directories whose
/// `trusted.overlay.origin` and `impure` xattrs took an extra block on the node take one again,
/// it equals dockerd's for every container, and so does the whole output (SIZE strings
/// included); elsewhere SizeRw is checked against this file's own walk and said on stderr.
/// SizeRootFs - SizeRw (the layers below, as recorded at commit) is dockerd's everywhere.
#[test]
fn container_sizes_equal_dockerds() {
    if skip_unless_root("container sizes (upper dirs with their xattrs need a root unpack)") {
        return;
    }
    let truth = expected_json("truth.json");
    let docker_ps: Vec<Value> = std::fs::read_to_string(expected_path("ps-a-size.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ours_ps = run(&["ps", "-a", "--no-trunc", "--size", "--format", "json"]);
    assert_eq!(ours_ps.code, Some(0), "{}", ours_ps.stderr);
    let ours_ps: Vec<Value> = ours_ps
        .stdout_text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // `{{json .}}` turns sizes on, as it did for docker's ps-a.jsonl.
    let auto = run(&["ps", "-a", "--no-trunc", "--format", "{{json .}}"]);
    assert_eq!(auto.code, Some(0), "{}", auto.stderr);
    let auto: Vec<Value> = auto
        .stdout_text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut same_blocks = 0;
    let mut byte_for_byte = 0;
    for name in CONTAINERS {
        let want_text =
            std::fs::read_to_string(expected_path(&format!("containers/{name}/inspect-size.json"))).unwrap();
        let want: Value = serde_json::from_str(&want_text).unwrap();
        let (rw, root_fs) = (
            want[0]["SizeRw"].as_i64().unwrap(),
            want[0]["SizeRootFs"].as_i64().unwrap(),
        );
        let r = run(&["container", "inspect", "--size", name]);
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
        let ours: Value = serde_json::from_slice(&r.stdout).unwrap();
        let (our_rw, our_root_fs) = (
            ours[0]["SizeRw"].as_i64().unwrap(),
            ours[0]["SizeRootFs"].as_i64().unwrap(),
        );
        assert_eq!(
            our_root_fs - our_rw,
            root_fs - rw,
            "{name}: the layers below the rw layer"
        );
        let t = truth.as_array().unwrap().iter().find(|t| t["name"] == name).unwrap();
        let upper = node().join(t["upperdir"].as_str().unwrap().trim_start_matches('/'));
        assert_eq!(our_rw, disk_usage(&upper), "{name}: the rw layer's walk");
        let row = ours_ps.iter().find(|o| o["Names"] == name).unwrap();
        let auto_row = auto.iter().find(|o| o["Names"] == name).unwrap();
        assert_eq!(row["SizeRw"], our_rw, "{name}");
        assert_eq!(row["SizeRootFs"], our_root_fs, "{name}");
        assert_eq!(auto_row["Size"], row["Size"], "{name}");
        if our_rw != rw {
            eprintln!(
                "{name}: SizeRw {our_rw} here, {rw} on the node: this filesystem allocates the upper dir's blocks differently"
            );
            continue;
        }
        same_blocks += 1;
        let docker_row = docker_ps.iter().find(|d| d["Names"] == name).unwrap();
        assert_eq!(row["Size"], docker_row["Size"], "{name}");
        assert_eq!(mounts_sorted(ours), mounts_sorted(want.clone()), "{name}");
        if r.stdout_text() == want_text {
            byte_for_byte += 1;
        }
    }
    if same_blocks == CONTAINERS.len() {
        // All but dev-fschanges, whose Mounts docker printed in another order this time.
        assert!(byte_for_byte >= 7, "{byte_for_byte} byte for byte");
    } else {
        eprintln!("{same_blocks} of 8 upper dirs take the blocks they took on the node");
    }
}

/// `du --scan` checked each snapshot's own directory for a symlink but not `snapshots/` above
/// it: a `snapshots` linked out of the root was walked, and its bytes counted as the node's.
/// And an unreadable snapshotter metadata.db made every snapshot figure 0 in silence (exit 0).
#[test]
fn du_neither_follows_a_linked_snapshots_dir_nor_hides_an_unreadable_metadata_db() {
    let h = node_copy();
    let plugin = h.root().join("io.containerd.snapshotter.v1.overlayfs");
    let outside = h.dir.path().join("outside");
    std::fs::rename(plugin.join("snapshots"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, plugin.join("snapshots")).unwrap();
    // 4 MB outside the root, in an active snapshot's upper dir.
    std::fs::write(outside.join("49/fs/planted"), vec![7u8; 4 << 20]).unwrap();
    let r = h.run(&[b"du", b"--scan", b"--format", b"json"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("snapshots: a symlink, not followed"), "{}", r.stderr);
    let du: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(du["disk"]["snapshots"]["active"]["bytes"], 0, "{}", du["disk"]);

    let h = node_copy();
    let db = h.root().join("io.containerd.snapshotter.v1.overlayfs/metadata.db");
    std::fs::write(&db, vec![0x5au8; 65536]).unwrap();
    let r = h.run(&[b"du", b"--format", b"json"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("snapshotter overlayfs: its snapshots are not counted"),
        "{}",
        r.stderr
    );
    let du: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert!(
        du["damage"].as_array().is_some_and(|d| d
            .iter()
            .any(|n| n["message"].as_str().is_some_and(|m| m.contains("metadata.db")))),
        "{}",
        du["damage"]
    );
}

/// `fs ls --format json` wrote a name's bidi override and DEL raw (fs was left out of the
/// text commands' stdout writer with `fs cat`); it writes them as JSON escapes now, while
/// `fs cat` still gives a file's own bytes.
#[test]
fn fs_ls_json_escapes_hazards_and_cat_stays_raw() {
    let h = node_copy();
    let up = h.upper();
    let name = "evil\u{202e}txt\u{7f}";
    std::fs::write(up.join(name), "body\u{202e}\u{7f}").unwrap();
    let r = h.run(&[b"fs", b"ls", b"dev-oldapp:/", b"--format", b"json"]);
    let text = r.stdout_text();
    assert!(!text.contains('\u{202e}') && !text.contains('\u{7f}'), "{text}");
    let rows: Value = serde_json::from_str(&text).expect("JSON");
    assert!(rows.as_array().unwrap().iter().any(|row| row["name"] == name), "{text}");
    let path = format!("dev-oldapp:/{name}");
    let r = h.run(&[b"fs", b"cat", path.as_bytes()]);
    assert_eq!(r.stdout, "body\u{202e}\u{7f}".as_bytes(), "{}", r.stderr);
}

/// Files of a layer the reader may not open (run as nobody, as a responder without root reads a
/// copy): `fs export` leaves such a file out and names it, never writing zeros of its size as
/// its bytes; `fs cat` of a file under a directory it may not search says so (exit 4), not "no
/// such file"; `diff` exits 4 for the directory it could not list. (Sweep 18, finding 5.)
#[test]
fn what_the_reader_may_not_open_is_left_out_and_exit_4() {
    use std::os::unix::fs::PermissionsExt;
    if skip_unless_root("permission checks") {
        return;
    }
    let h = hostile();
    // Every directory searchable and every file readable, as the tester's copy was.
    let mut todo = vec![h.dir.path().to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(m) = std::fs::symlink_metadata(&d) else { continue };
        if m.file_type().is_symlink() {
            continue;
        }
        let mode = m.permissions().mode();
        let open = if m.is_dir() { mode | 0o555 } else { mode | 0o444 };
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(open)).unwrap();
        if m.is_dir() {
            todo.extend(std::fs::read_dir(&d).unwrap().flatten().map(|e| e.path()));
        }
    }
    let up = h.upper();
    std::fs::create_dir(up.join("secret")).unwrap();
    std::fs::write(up.join("secret/s"), b"s\n").unwrap();
    std::fs::set_permissions(up.join("secret"), std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::write(up.join("closed"), b"four").unwrap();
    std::fs::set_permissions(up.join("closed"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let run = |args: &[&str]| {
        unprivileged::coldctr_unprivileged()
            .arg("--root")
            .arg(h.root())
            .args(args)
            .env_remove("COLDCTR_ROOT")
            .output()
            .unwrap()
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();

    let export = run(&["fs", "export", "dev-oldapp", "-o", "-"]);
    let err = text(&export.stderr);
    assert_eq!(export.status.code(), Some(4), "{err}");
    assert!(
        err.contains("/fs/closed: Permission denied; left out of the archive"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("out.tar");
    std::fs::write(&tar, &export.stdout).unwrap();
    let members = tvf(&tar);
    assert!(
        !members.contains(" closed\n") && !members.ends_with(" closed"),
        "{members}"
    );
    assert!(members.contains("secret/"), "{members}");

    let cat = run(&["fs", "cat", "dev-oldapp:/secret/s"]);
    let err = text(&cat.stderr);
    assert_eq!(cat.status.code(), Some(4), "{err}");
    assert!(
        err.contains("Permission denied") && !err.contains("no such file"),
        "{err}"
    );
    let closed = run(&["fs", "cat", "dev-oldapp:/closed"]);
    let err = text(&closed.stderr);
    assert_eq!(closed.status.code(), Some(4), "{err}");
    assert!(err.contains("/fs/closed: Permission denied"), "{err}");

    let diff = run(&["diff", "dev-oldapp"]);
    let err = text(&diff.stderr);
    assert_eq!(diff.status.code(), Some(4), "{err}");
    assert!(err.contains("/fs/secret: Permission denied"), "{err}");
    assert!(
        text(&diff.stdout).lines().any(|l| l == "A /closed"),
        "{}",
        text(&diff.stdout)
    );

    // Asked for hashes, a file the kernel refuses has none, and that is said (exit 4), not
    // left out without a word.
    let sha_of = |out: &std::process::Output, name: &str| {
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let row = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name || r["path"] == format!("/{name}"))
            .cloned()
            .unwrap_or_else(|| panic!("no row {name}: {rows}"));
        row.get("sha256").cloned()
    };
    for args in [
        &["fs", "ls", "dev-oldapp:/", "--format", "json", "--hash"][..],
        &["diff", "dev-oldapp", "--format", "json", "--hash"][..],
    ] {
        let out = run(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {err}");
        assert!(
            err.contains("/fs/closed: Permission denied; no sha256"),
            "{args:?}: {err}"
        );
        assert_eq!(sha_of(&out, "closed"), None, "{args:?}");
    }
    // The same file readable: hashed, nothing said about it.
    std::fs::set_permissions(up.join("closed"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(&["fs", "ls", "dev-oldapp:/", "--format", "json", "--hash"]);
    let err = text(&out.stderr);
    // (The hostile tree's 64 GiB `sparse`, all holes, is said: it is not hashed.)
    assert!(!err.contains("/fs/closed"), "{err}");
    assert_eq!(
        sha_of(&out, "closed"),
        Some(serde_json::json!(
            "04efaf080f5a3e74e1c29d1ca6a48569382cbbcd324e8d59d2b83ef21c039f00"
        ))
    );
}

/// A file whose holes are past what `--hash` feeds to SHA-256 (audit 22: `truncate -s 15T`
/// in an upper dir was three hours of hashing zeros, nothing said): not hashed, said with its
/// length and holes, exit 3; the file beside it is hashed.
#[test]
fn a_file_mostly_holes_is_not_hashed_and_said() {
    let h = hostile();
    let dir = h.upper().join("sparse-files");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("small"), b"four").unwrap();
    let holes = std::fs::File::create(dir.join("holes")).unwrap();
    holes.set_len((4 << 30) + (1 << 20)).unwrap();
    drop(holes);
    let ls = h.run(&[
        b"fs",
        b"ls",
        b"dev-oldapp:/sparse-files",
        b"--format",
        b"json",
        b"--hash",
    ]);
    assert_eq!(ls.code, Some(3), "{}", ls.stderr);
    let rows: serde_json::Value = serde_json::from_slice(&ls.stdout).unwrap();
    let sha = |name: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()
            .get("sha256")
            .cloned()
    };
    assert_eq!(sha("holes"), None, "{rows}");
    assert_eq!(
        sha("small"),
        Some(serde_json::json!(
            "04efaf080f5a3e74e1c29d1ca6a48569382cbbcd324e8d59d2b83ef21c039f00"
        ))
    );
    let said = format!("sparse-files/holes: {} bytes long", (4u64 << 30) + (1 << 20));
    assert!(
        ls.stderr.contains(&said) && ls.stderr.contains("no sha256"),
        "{}",
        ls.stderr
    );
    let diff = h.run(&[b"diff", b"dev-oldapp", b"--format", b"json", b"--hash"]);
    assert_eq!(diff.code, Some(3), "{}", diff.stderr);
    assert!(diff.stderr.contains(&said), "{}", diff.stderr);
}

/// Sweep 20, finding 1: without CAP_SYS_ADMIN the kernel hides `trusted.*` attributes (they
/// read as absent), so the opaque directory `/opt/app/old` of dev-fschanges showed the lower
/// layers' `a` and `b` again, exit 0. The missing capability is now said, exit 4; as root the
/// same listing is whole and exit 0.
#[test]
fn trusted_attributes_hidden_from_the_reader_are_said_not_taken_as_absent() {
    if skip_unless_root("CAP_SYS_ADMIN") {
        return;
    }
    let ls = ["fs", "ls", "dev-fschanges:/opt/app/old"];
    let whole = run(&ls);
    assert_eq!(whole.code, Some(0), "{}", whole.stderr);
    assert!(!whole.stderr.contains("CAP_SYS_ADMIN"), "{}", whole.stderr);
    let names = |out: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(out)
            .lines()
            .map(|l| l.rsplit(' ').next().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(names(&whole.stdout), ["fresh.txt"]);
    for args in [&ls[..], &["diff", "dev-fschanges"][..]] {
        let out = Command::new("setpriv")
            .args(["--inh-caps=-sys_admin", "--bounding-set=-sys_admin"])
            .arg(env!("CARGO_BIN_EXE_coldctr"))
            .arg("--root")
            .arg(root())
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {err}");
        assert!(err.contains("trusted.overlay.* attributes (opaque directories, redirects, metacopy) cannot be read without CAP_SYS_ADMIN"), "{err}");
    }
    // Root of a user namespace of its own has CAP_SYS_ADMIN there, and the kernel still hides
    // `trusted.*` from it.
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user"])
        .arg(env!("CARGO_BIN_EXE_coldctr"))
        .arg("--root")
        .arg(root())
        .args(ls)
        .output();
    match out {
        Ok(out) if out.status.code() != Some(1) || !out.stderr.starts_with(b"unshare:") => {
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(4), "{err}");
            assert!(err.contains("cannot be read without CAP_SYS_ADMIN"), "{err}");
        }
        _ => eprintln!("skipped: no user namespace here (unshare --user)"),
    }
}
