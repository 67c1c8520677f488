//! The inspect path on the bundled dockerd fixture: `docker image inspect` of every image
//! record (open the root, resolve, Size, Best manifest, response), and of one image.
//!
//! `cargo bench --bench inspect`. Whole-process numbers on a large generated store, against
//! the Go reference, are in `benches/RESULTS.md`.

use coldctr::bolt::{MetaChoice, ReadMode};
use coldctr::containerd::root::Root;
use coldctr::image::platform::Platform;
use coldctr::inspect::{Inspector, Options, Shaped};
use std::path::PathBuf;

fn main() {
    divan::main();
}

fn root() -> Root {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5");
    Root::open(&dir, ReadMode::Mmap).expect("open fixture root")
}

fn options() -> Options {
    Options::for_host(Platform::new("linux", "amd64", ""))
}

/// Every image record of the moby namespace, inspected in one run (as `coldctr inspect` with
/// all of them as arguments): opening the root included.
#[divan::bench]
fn inspect_every_record(bencher: divan::Bencher) {
    let names: Vec<String> = {
        let root = root();
        let tx = root.view(MetaChoice::Current).expect("view");
        let images = tx
            .bucket_at(&[b"v1".as_slice(), b"moby", b"images"])
            .expect("read")
            .expect("images");
        images
            .cursor()
            .filter_map(Result::ok)
            .map(|i| String::from_utf8_lossy(i.key).into_owned())
            .collect()
    };
    bencher.bench(|| {
        let root = root();
        let tx = root.view(MetaChoice::Current).expect("view");
        let inspector = Inspector::new(&root, tx, "moby", options());
        inspector.inspect_all(&names).into_iter().filter(Result::is_ok).count()
    });
}

/// Every image record of the moby namespace and then each one's target digest (as `coldctr
/// inspect` with all of them as arguments: the CLI's path, bodies serialized on the workers),
/// so every target is named at least twice, far apart, and its body is shared.
#[divan::bench]
fn inspect_each_name_and_digest(bencher: divan::Bencher) {
    let refs: Vec<String> = {
        let root = root();
        let tx = root.view(MetaChoice::Current).expect("view");
        let mut damage = coldctr::damage::Damage::new();
        let ns = tx.bucket_at(&[b"v1".as_slice(), b"moby"]).expect("read").expect("moby");
        let images = coldctr::containerd::records::images_in("moby", &ns, &mut damage);
        let names = images.iter().map(|i| i.name.clone());
        let digests = images.iter().map(|i| i.target.digest.clone());
        names.chain(digests).collect()
    };
    bencher.bench(|| {
        let root = root();
        let tx = root.view(MetaChoice::Current).expect("view");
        let inspector = Inspector::new(&root, tx, "moby", options());
        let mut bytes = 0usize;
        inspector.inspect_each(
            &refs,
            96,
            |r| Shaped::fixed(r.map(|body| body.to_compact(true)).map_err(|e| e.to_string())),
            |shaped| bytes += shaped.now.map_or(0, |t| t.len()),
        );
        bytes
    });
}

/// One multi-platform image by tag, on an open root (resolution, Size, Best, response).
#[divan::bench]
fn inspect_one_index_image(bencher: divan::Bencher) {
    let root = root();
    bencher.bench(|| {
        let tx = root.view(MetaChoice::Current).expect("view");
        let inspector = Inspector::new(&root, tx, "moby", options());
        inspector.inspect("dlist:1").is_ok()
    });
}

/// One image by tag, the root opened as `coldctr inspect REF` opens it for a few references:
/// meta.db read page by page (`ReadMode::Pread`), RepoTags from a scan of target digests.
#[divan::bench]
fn inspect_one_image_read_page_by_page(bencher: divan::Bencher) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5");
    bencher.bench(|| {
        let root = Root::open(&dir, ReadMode::Pread).expect("open fixture root");
        let tx = root.view(MetaChoice::Current).expect("view");
        let inspector = Inspector::new(&root, tx, "moby", options());
        inspector.inspect("dlist:1").is_ok()
    });
}

/// The records whose target is one digest, reading only target digests (RepoTags' lookup):
/// through the map, and page by page as one `inspect REF` reads them (each record's page read
/// for the one look at its target, not kept).
#[divan::bench(args = ["mmap", "pread"])]
fn images_with_one_target(bencher: divan::Bencher, read: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/docker-28.5");
    let mode = if read == "pread" {
        ReadMode::Pread
    } else {
        ReadMode::Mmap
    };
    let root = Root::open(&dir, mode).expect("open fixture root");
    let tx = root.view(MetaChoice::Current).expect("view");
    let ns = tx.bucket_at(&[b"v1".as_slice(), b"moby"]).expect("read").expect("moby");
    let first = coldctr::containerd::records::images_in("moby", &ns, &mut Default::default());
    let digest = first.first().map(|i| i.target.digest.clone()).unwrap_or_default();
    bencher.bench(|| {
        coldctr::containerd::records::images_with_target("moby", &ns, &digest, &mut Default::default()).len()
    });
}

/// The fixture's JSON blobs (manifests, indexes, configs), each at most 1 MiB.
fn json_blobs() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/docker-28.5/io.containerd.content.v1.content/blobs/sha256");
    let mut blobs: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("blobs")
        .filter_map(Result::ok)
        .filter(|e| e.metadata().is_ok_and(|m| m.is_file() && m.len() <= 1 << 20))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter(|b| b.first() == Some(&b'{'))
        .collect();
    blobs.sort();
    blobs
}

/// Every JSON blob validated as a manifest (containerd's `validateMediaType`) and decoded as
/// a manifest and as an image config, as Go's `encoding/json` decodes them: the key check,
/// then serde's derives (`images` does this for thousands of documents).
#[divan::bench]
fn decode_documents(bencher: divan::Bencher) {
    use coldctr::image::document::{self, ImageConfig, Manifest};
    let blobs = json_blobs();
    bencher.bench(|| {
        blobs
            .iter()
            .filter(|b| {
                let valid = document::validate_media_type(b, document::OCI_MANIFEST).is_ok();
                let manifest = document::decode::<Manifest>(b).is_ok();
                let config = document::decode::<ImageConfig>(b).is_ok();
                valid && manifest && config
            })
            .count()
    });
}

/// Every JSON blob written back as Go's `json.Marshal` writes it (each string through
/// `write_str`, which looks for bytes to escape eight at a time).
#[divan::bench]
fn write_documents_as_go(bencher: divan::Bencher) {
    let trees: Vec<_> = json_blobs()
        .iter()
        .filter_map(|b| coldctr::inspect::gojson::parse(b).ok())
        .collect();
    bencher.bench(|| trees.iter().map(|j| j.to_compact(true).len()).sum::<usize>());
}
