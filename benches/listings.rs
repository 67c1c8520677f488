//! The listings and reports as whole commands on the bundled fixtures (`images`, `content`,
//! `du`, `gc`, `verify` with `--format json`, through the same entry as the binary, output
//! discarded), `export` of every whole image of the docker fixture, and containerd's
//! `validateMediaType` on every JSON blob of the fixtures.
//!
//! `cargo bench --bench listings`. Whole-process numbers on the large generated store, against
//! the Go reference and a baseline build, are in `benches/RESULTS.md` (`benches/issue12.sh`).

use std::path::PathBuf;

fn main() {
    divan::main();
}

const FIXTURES: [&str; 2] = ["docker-28.5", "containerd-1.7"];

/// `<fixture> <command>`.
const RUNS: [&str; 10] = [
    "docker-28.5 images",
    "docker-28.5 content",
    "docker-28.5 du",
    "docker-28.5 gc",
    "docker-28.5 verify",
    "containerd-1.7 images",
    "containerd-1.7 content",
    "containerd-1.7 du",
    "containerd-1.7 gc",
    "containerd-1.7 verify",
];

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// One command with `--format json` on a fixture root.
#[divan::bench(args = RUNS)]
fn command(bencher: divan::Bencher, run: &str) {
    let (name, command) = run.split_once(' ').unwrap_or((run, "images"));
    let root = fixture(name);
    let args = [
        "coldctr",
        "--root",
        &root.to_string_lossy(),
        command,
        "--format",
        "json",
    ]
    .map(String::from);
    // A command that fails would be timed failing: it must succeed once first.
    let first = coldctr::cli::run_args(args.clone(), &mut std::io::sink());
    assert!(first.is_ok(), "{run} failed");
    bencher.bench(|| coldctr::cli::run_args(args.clone(), &mut std::io::sink()).is_ok());
}

/// `validateMediaType` of every JSON blob (manifests, indexes, configs) of the fixtures, as
/// the manifest and index media types.
#[divan::bench]
fn validate_media_type(bencher: divan::Bencher) {
    use coldctr::image::document::{self, OCI_INDEX, OCI_MANIFEST};
    let mut blobs = Vec::new();
    for name in FIXTURES {
        let dir = fixture(name).join("io.containerd.content.v1.content/blobs/sha256");
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if let Ok(b) = std::fs::read(entry.path())
                && b.len() < 64 << 10
                && b.first() == Some(&b'{')
            {
                blobs.push(b);
            }
        }
    }
    assert!(!blobs.is_empty(), "no JSON blobs under the fixtures");
    bencher.bench(|| {
        blobs
            .iter()
            .flat_map(|b| [OCI_MANIFEST, OCI_INDEX].map(|mt| document::validate_media_type(b, mt).is_ok()))
            .filter(|ok| *ok)
            .count()
    });
}

/// `export` of every image of namespace `moby` on the docker fixture that exports whole (the
/// walk, the documents read and checked, every blob re-hashed and written), as an OCI
/// archive into a temporary file.
#[divan::bench]
fn export_every_image(bencher: divan::Bencher) {
    let root = fixture("docker-28.5").to_string_lossy().into_owned();
    let run = |args: &[&str], out: &mut Vec<u8>| {
        let args: Vec<String> = ["coldctr", "--root", &root, "-n", "moby"]
            .iter()
            .chain(args)
            .map(|s| s.to_string())
            .collect();
        coldctr::cli::run_args(args, out).is_ok_and(|o| o == coldctr::cli::Outcome::Ok)
    };
    let mut listing = Vec::new();
    assert!(run(&["images", "--all", "--format", "json"], &mut listing));
    let names: Vec<String> = serde_json::from_slice::<Vec<serde_json::Value>>(&listing)
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i["name"].as_str().map(String::from))
        .collect();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let out = dir.path().join("out.tar").to_string_lossy().into_owned();
    let export = |names: &[&str]| {
        let mut args = vec!["export", "--format", "oci-archive", "--force", "-o", &out];
        args.extend(names);
        run(&args, &mut Vec::new())
    };
    // Each run says on stderr which platforms were not on the node: not here.
    let whole: Vec<&str> = without_stderr(|| {
        // Images with a blob missing or damaged fail the export: the bench takes the others.
        names.iter().map(String::as_str).filter(|n| export(&[n])).collect()
    });
    assert!(whole.len() > 10, "only {} images export whole", whole.len());
    assert!(
        without_stderr(|| export(&whole)),
        "the images that export whole, together, fail"
    );
    without_stderr(|| bencher.bench(|| export(&whole)));
}

/// Runs `f` with this process's stderr sent to /dev/null, given back when `f` returns or
/// unwinds (the assertions about its results are made after it, and are told).
fn without_stderr<T>(f: impl FnOnce() -> T) -> T {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    struct Restore(OwnedFd);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: puts the saved descriptor back as 2; the saved one is closed on drop.
            unsafe { libc::dup2(self.0.as_raw_fd(), 2) };
        }
    }
    let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") else {
        return f();
    };
    // SAFETY: duplicates this process's own descriptor 2 (close-on-exec) to restore it later.
    let saved = unsafe { libc::fcntl(2, libc::F_DUPFD_CLOEXEC, 3) };
    if saved < 0 {
        return f();
    }
    // SAFETY: `saved` is a descriptor we own from here on.
    let _restore = Restore(unsafe { OwnedFd::from_raw_fd(saved) });
    // SAFETY: replaces descriptor 2 with /dev/null until `_restore` is dropped.
    unsafe { libc::dup2(null.as_raw_fd(), 2) };
    f()
}

/// A gzip-compressed OCI archive of one image with `layers` layers of 2 MiB (each over the
/// 1 MiB a compressed archive's index pass keeps, so every layer is read from a stream), in
/// `dir`; the bytes are a cheap generator's, compressible about as real layers are.
fn compressed_archive(dir: &std::path::Path, layers: usize) -> PathBuf {
    use coldctr::digest::Digest;
    use coldctr::export::tar::{Kind, finish, header, pad};
    use std::io::Write;
    let path = dir.join("image.tar.gz");
    let file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    let mut put = |name: &str, data: &[u8]| {
        let h = header(name, Kind::File, data.len() as u64).unwrap_or_else(|e| panic!("{e}"));
        gz.write_all(&h)
            .and_then(|()| gz.write_all(data))
            .unwrap_or_else(|e| panic!("{e}"));
        pad(&mut gz, data.len() as u64).unwrap_or_else(|e| panic!("{e}"));
    };
    let mut descriptors = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..layers {
        // Words from a small vocabulary: text-like bytes that deflate about 3:1.
        let mut data = Vec::with_capacity(2 << 20);
        while data.len() < 2 << 20 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            data.extend_from_slice(format!("w{:03} ", seed % 700).as_bytes());
        }
        let digest = Digest::sha256_of(&data);
        put(&format!("blobs/sha256/{}", digest.hex()), &data);
        descriptors.push(format!(
            r#"{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{digest}","size":{}}}"#,
            data.len()
        ));
    }
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = Digest::sha256_of(config);
    put(&format!("blobs/sha256/{}", config_digest.hex()), config);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{}]}}"#,
        config.len(),
        descriptors.join(",")
    );
    let manifest_digest = Digest::sha256_of(manifest.as_bytes());
    put(&format!("blobs/sha256/{}", manifest_digest.hex()), manifest.as_bytes());
    put("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest_digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"big"}}}}]}}"#,
        manifest.len()
    );
    put("index.json", index.as_bytes());
    finish(&mut gz).unwrap_or_else(|e| panic!("{e}"));
    gz.finish()
        .and_then(|mut w| w.flush())
        .unwrap_or_else(|e| panic!("{e}"));
    path
}

/// `verify` and `export` of a .tar.gz archive of 12 layers of 2 MiB: each layer is read
/// from a decompressed stream (parked streams: one pass for verify, which reads in archive
/// order; export reads in digest order).
#[divan::bench(args = ["verify", "export"], sample_count = 20)]
fn compressed_archive_reads(bencher: divan::Bencher, command: &str) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let archive = compressed_archive(dir.path(), 12).to_string_lossy().into_owned();
    let out = dir.path().join("out.tar").to_string_lossy().into_owned();
    let args: Vec<String> = match command {
        "verify" => vec!["coldctr", "--root", &archive, "verify", "--format", "json"],
        _ => vec!["coldctr", "--root", &archive, "export", "--force", "-o", &out, "big"],
    }
    .into_iter()
    .map(String::from)
    .collect();
    let run =
        || coldctr::cli::run_args(args.clone(), &mut std::io::sink()).is_ok_and(|o| o == coldctr::cli::Outcome::Ok);
    assert!(run(), "{command} on the compressed archive failed");
    bencher.bench(run);
}
