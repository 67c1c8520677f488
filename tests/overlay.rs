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

use bolt_support::{Run, coldctr, repo};
use serde_json::Value;
use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const CONTAINERS: [&str; 8] = [
    "dev-created",
    "dev-exit3",
    "dev-from-commit",
    "dev-fschanges",
    "dev-killed",
    "dev-oldapp",
    "dev-running",
    "dev-victim",
];

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
        let mut cmd = Command::new("tar");
        if is_root() {
            cmd.args(["--xattrs", "--xattrs-include=*", "--sparse", "-xpzf"]);
        } else {
            cmd.args(["--sparse", "-xzf"]);
        }
        cmd.arg(repo().join("fixtures/node-docker28-dev.tar.gz"))
            .arg("-C")
            .arg(&dir);
        let out = cmd.output().unwrap();
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
    }
    let out = h.dir.path().join("out.tar");
    let e = h.run(&[b"fs", b"export", b"dev-oldapp", b"-o", out.as_os_str().as_bytes()]);
    assert_eq!(e.code, Some(0), "{}", e.stderr);
    let tar_size = std::fs::metadata(&out).unwrap().len();
    assert!(tar_size < 64 << 20, "{tar_size} bytes");
    let list = tvf(&out);
    assert!(list.contains(" 68719476736 ") && list.contains(" sparse\n"), "{list}");
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
