//! The tar indexer against real archives: the image archives buildah, podman, skopeo and umoci
//! wrote (checked against their member lists, `fixtures/expected/oci-dev/archives/*/members.tsv`,
//! as the fixture generator listed them, with the sha256 of each member), and archives
//! GNU tar writes here in every format it has (checked against `tar --list` and the files on
//! disk). Plus the fuzz target's kept inputs, replayed.

use coldctr::source::tar::{
    Compression, MemberKind, TarIndex, TarProblem, index_at, index_file, index_reader, open_member, read_member,
};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn sha256_of(mut r: impl Read) -> String {
    let mut h = Sha256::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    hex::encode(h.finalize())
}

fn type_letter(k: MemberKind) -> String {
    match k {
        MemberKind::File => "f".into(),
        MemberKind::Dir => "d".into(),
        MemberKind::Symlink => "l".into(),
        MemberKind::HardLink => "h".into(),
        MemberKind::Other(t) => format!("other-{}", char::from(t)),
    }
}

/// The archive's members as members.tsv rows: name, type, size, sha256, link, mode, uid:gid.
fn rows(file: &std::fs::File, ix: &TarIndex) -> Vec<String> {
    ix.members
        .iter()
        .map(|m| {
            let sha = if m.kind == MemberKind::File {
                let streamed = sha256_of(open_member(file, ix, m).unwrap());
                let whole = read_member(file, ix, m, m.size).unwrap();
                assert_eq!(whole.len() as u64, m.size);
                assert_eq!(hex::encode(Sha256::digest(&whole)), streamed);
                streamed
            } else {
                "-".into()
            };
            // The lists drop a directory's trailing '/' (the raw name keeps it).
            let mut name = String::from_utf8(m.raw_name.clone()).unwrap();
            if m.kind == MemberKind::Dir && name.len() > 1 {
                name = name.trim_end_matches('/').to_string();
            }
            format!(
                "{}\t{}\t{}\t{}\t{}\t{:o}\t{}:{}",
                name,
                type_letter(m.kind),
                m.size,
                sha,
                m.link.as_deref().unwrap_or("-"),
                m.mode,
                m.uid,
                m.gid
            )
        })
        .collect()
}

#[test]
fn image_archives_match_their_member_lists() {
    let expected = fixtures().join("expected/oci-dev/archives");
    let mut names: Vec<_> = std::fs::read_dir(&expected)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), 9, "{names:?}");
    for name in names {
        let path = fixtures().join("oci-dev/archives").join(&name);
        let file = std::fs::File::open(&path).unwrap();
        let ix = index_file(&file).unwrap();
        let want: Vec<String> = std::fs::read_to_string(expected.join(&name).join("members.tsv"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(rows(&file, &ix), want, "{name:?}");
        assert_eq!(ix.problems, vec![], "{name:?}");
        let gz = name.as_bytes().ends_with(b".gz");
        let want_c = if gz { Compression::Gzip } else { Compression::None };
        assert_eq!(ix.compression, want_c);
        // The streamed pass sees the same.
        let streamed = index_reader(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(streamed.members, ix.members, "{name:?}");
        assert_eq!(streamed.problems, ix.problems);
        if !gz {
            assert_eq!(ix.stream_len, file.metadata().unwrap().len());
        }
    }
}

#[test]
fn docker_archive_layer_symlinks_resolve_inside_the_archive() {
    let mut resolved = 0;
    for name in [
        "buildah-docker-archive.tar",
        "podman-docker-archive.tar",
        "podman-docker-archive-multi.tar",
        "skopeo-docker-archive.tar",
    ] {
        let file = std::fs::File::open(fixtures().join("oci-dev/archives").join(name)).unwrap();
        let ix = index_file(&file).unwrap();
        for m in ix.members.iter().filter(|m| m.kind == MemberKind::Symlink) {
            // "<id>/layer.tar" -> "../<diffid>.tar"
            let target = m.link.as_deref().unwrap();
            let layer = ix.resolve(&m.name, 8).unwrap();
            assert_eq!(layer.kind, MemberKind::File);
            assert_eq!(layer.name, target.strip_prefix("../").unwrap());
            // docker-archive layers are named by the sha256 of their (uncompressed) tar.
            let digest = layer.name.strip_suffix(".tar").unwrap();
            assert_eq!(sha256_of(open_member(&file, &ix, layer).unwrap()), digest);
            resolved += 1;
        }
    }
    assert_eq!(resolved, 9);
}

#[test]
fn umoci_dotslash_names_and_gzip() {
    let file = std::fs::File::open(fixtures().join("oci-dev/archives/layout-umoci.tar.gz")).unwrap();
    let ix = index_file(&file).unwrap();
    assert_eq!(ix.compression, Compression::Gzip);
    assert_eq!(ix.members[0].name, ".");
    assert_eq!(ix.members[0].raw_name, b"./");
    let layout = ix.get("oci-layout").unwrap();
    assert_eq!(layout.raw_name, b"./oci-layout");
    let body = read_member(&file, &ix, layout, 1024).unwrap();
    assert!(body.starts_with(b"{\"imageLayoutVersion\""));
    assert!(ix.get("blobs/sha256").is_some());
}

/// A tree with the names that push tar's formats: a path over 100 bytes, a 120-byte component,
/// a long symlink target, a hardlink, a name that is not UTF-8, an empty directory.
fn make_tree(dir: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let deep = "deep/".repeat(25) + "leaf.json";
    let long_component = format!("dir/{}", "c".repeat(120));
    let mut files: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (b"oci-layout".to_vec(), b"{\"imageLayoutVersion\":\"1.0.0\"}".to_vec()),
        (deep.clone().into_bytes(), vec![b'd'; 1000]),
        (long_component.into_bytes(), vec![b'c'; 513]),
        (b"blobs/sha256/empty".to_vec(), vec![]),
        (b"caf\xe9-latin1".to_vec(), b"x".to_vec()),
    ];
    for (name, data) in &files {
        let p = dir.join(std::ffi::OsStr::from_bytes(name));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
    }
    std::fs::create_dir_all(dir.join("empty-dir")).unwrap();
    let target = format!("../{deep}");
    std::os::unix::fs::symlink(&target, dir.join("blobs/long-link")).unwrap();
    std::fs::hard_link(dir.join("oci-layout"), dir.join("hard")).unwrap();
    files.push((b"hard".to_vec(), b"{\"imageLayoutVersion\":\"1.0.0\"}".to_vec()));
    files
}

fn gnu_tar(dir: &Path, out: &Path, format: &str, extra: &[&str]) {
    let status = Command::new("tar")
        .arg("-C")
        .arg(dir)
        .args([
            &format!("--format={format}"),
            "--sort=name",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--mtime=@1700000000",
        ])
        .args(extra)
        .arg("-cf")
        .arg(out)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success(), "tar --format={format}");
}

/// The names `tar --list` prints, raw.
fn gnu_list(archive: &Path) -> Vec<Vec<u8>> {
    let out = Command::new("tar")
        .args(["--quoting-style=literal", "-tf"])
        .arg(archive)
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

#[test]
fn gnu_tar_formats_index_as_tar_lists_them() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let files = make_tree(&tree);
    for format in ["gnu", "posix", "oldgnu"] {
        let archive = tmp.path().join(format!("{format}.tar"));
        gnu_tar(&tree, &archive, format, &[]);
        let file = std::fs::File::open(&archive).unwrap();
        let ix = index_file(&file).unwrap();
        // tar lists directories with their trailing slash; raw names are as written.
        let listed = gnu_list(&archive);
        let ours: Vec<Vec<u8>> = ix.members.iter().map(|m| m.raw_name.clone()).collect();
        assert_eq!(ours, listed, "{format}");
        // Only the latin-1 name is a problem.
        let problems: Vec<_> = ix.problems.iter().map(|(_, n, p)| (n.as_str(), p.clone())).collect();
        assert_eq!(problems, vec![("./caf\\xe9-latin1", TarProblem::NotUtf8)], "{format}");
        for (name, data) in &files {
            let lossy = String::from_utf8_lossy(name);
            let m = ix.get(&lossy).unwrap_or_else(|| panic!("{format}: {lossy}"));
            let m = ix.resolve(&m.name, 4).unwrap();
            assert_eq!(&read_member(&file, &ix, m, 1 << 20).unwrap(), data, "{format}: {lossy}");
            assert_eq!((m.uid, m.gid, m.mtime), (0, 0, 1_700_000_000), "{format}");
        }
        let link = ix.get("blobs/long-link").unwrap();
        assert_eq!(link.kind, MemberKind::Symlink);
        assert_eq!(
            link.link.as_deref(),
            Some(&*format!("../{}", "deep/".repeat(25) + "leaf.json"))
        );
        assert_eq!(ix.resolve("blobs/long-link", 1).unwrap().size, 1000);
        // Sorted by name, "hard" comes first: "oci-layout" is the link to it.
        let layout = ix.get("oci-layout").unwrap();
        assert_eq!(
            (layout.kind, layout.link.as_deref()),
            (MemberKind::HardLink, Some("./hard"))
        );
        assert_eq!(ix.get("hard").unwrap().kind, MemberKind::File);
        assert_eq!(ix.get("empty-dir").unwrap().kind, MemberKind::Dir);
        assert_eq!(ix.get(".").unwrap().kind, MemberKind::Dir);

        // The same archive gzip- and zstd-compressed: the same index, members read by
        // decompressing up to them.
        let plain = std::fs::read(&archive).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        let zst = ruzstd::encoding::compress_to_vec(&plain[..], ruzstd::encoding::CompressionLevel::Fastest);
        for (blob, c) in [(gz, Compression::Gzip), (zst, Compression::Zstd)] {
            let cix = index_at(&blob[..]).unwrap();
            assert_eq!(cix.compression, c);
            assert_eq!(cix.members, ix.members, "{format} {c:?}");
            assert_eq!(cix.problems, ix.problems);
            let deep = cix.resolve("blobs/long-link", 2).unwrap();
            assert_eq!(read_member(&blob[..], &cix, deep, 1000).unwrap(), vec![b'd'; 1000]);
        }
    }
    // ustar: names up to 256 bytes through the prefix field; the 120-byte component cannot be
    // stored, so that tree is archived without it.
    std::fs::remove_dir_all(tree.join("dir")).unwrap();
    let archive = tmp.path().join("ustar.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&tree)
        .args(["--format=ustar", "--sort=name", "-cf"])
        .arg(&archive)
        .args(["oci-layout", &("deep/".repeat(25) + "leaf.json")])
        .status()
        .unwrap();
    assert!(status.success());
    let raw = std::fs::read(&archive).unwrap();
    // The second header (after oci-layout's header and one data block) uses the prefix field.
    assert_eq!(&raw[1024 + 345..1024 + 355], b"deep/deep/", "the prefix field is used");
    let ix = index_at(&raw[..]).unwrap();
    assert_eq!(ix.problems, vec![]);
    let names: Vec<_> = ix.members.iter().map(|m| m.name.clone()).collect();
    assert_eq!(
        names,
        gnu_list(&archive)
            .iter()
            .map(|n| String::from_utf8(n.clone()).unwrap())
            .collect::<Vec<_>>()
    );
    assert_eq!(ix.get(&("deep/".repeat(25) + "leaf.json")).unwrap().size, 1000);
}

#[test]
fn gnu_tar_sparse_files_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let mut f = std::fs::File::create(tree.join("holes")).unwrap();
    f.write_all(b"start").unwrap();
    f.set_len(4 << 20).unwrap();
    std::os::unix::fs::FileExt::write_at(&f, b"end", (4 << 20) - 3).unwrap();
    drop(f);
    std::fs::write(tree.join("after"), b"after").unwrap();
    for format in ["gnu", "posix"] {
        let archive = tmp.path().join(format!("{format}.tar"));
        gnu_tar(&tree, &archive, format, &["--sparse"]);
        let file = std::fs::File::open(&archive).unwrap();
        let ix = index_file(&file).unwrap();
        // Whether the file system reported holes decides if tar wrote a sparse member.
        let holes = ix.get("holes").unwrap();
        if holes.size < 4 << 20 {
            assert_eq!(holes.kind, MemberKind::Other(b'S'), "{format}");
            assert!(
                ix.problems
                    .iter()
                    .any(|(o, _, p)| *o == holes.header_offset && *p == TarProblem::Sparse),
                "{format}: {:?}",
                ix.problems
            );
        }
        assert_eq!(read_member(&file, &ix, ix.get("after").unwrap(), 10).unwrap(), b"after");
    }
}
