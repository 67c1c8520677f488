//! The listings and reports as whole commands on the bundled fixtures (`images`, `content`,
//! `du`, `gc`, `verify` with `--format json`, through the same entry as the binary, output
//! discarded), and containerd's `validateMediaType` on every JSON blob of the fixtures.
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
