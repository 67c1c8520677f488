//! Micro-benchmarks of the bbolt engine on the bundled fixtures.
//!
//! `cargo bench --bench bolt`. Whole-process numbers on a large generated meta.db, against
//! the Go reference dumper, are in `benches/RESULTS.md`.

use coldctr::bolt::{Db, MetaChoice, ReadMode, check, walk};
use std::path::PathBuf;

fn main() {
    divan::main();
}

/// The fixture roots whose `meta.db` the walk benchmarks read.
const FIXTURES: &[&str] = &["containerd-1.6", "containerd-1.7", "docker-28.5", "docker-28.5-damaged"];

fn meta_db(fixture: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(fixture)
        .join("io.containerd.metadata.v1.bolt/meta.db")
}

/// Open the file, pick the current meta, and walk every key of every bucket.
#[divan::bench(args = FIXTURES)]
fn open_and_walk(bencher: divan::Bencher, fixture: &str) {
    let path = meta_db(fixture);
    bencher.bench(|| {
        let db = Db::open(&path, ReadMode::Mmap).expect("open");
        let tx = db.view(MetaChoice::Current).expect("view");
        walk::count(&tx.root())
    });
}

/// An image record of the docker-28.5 fixture.
const IMAGE: &str = "docker.io/library/webapp:1.0";

/// One lookup of `v1/moby/images/<name>` on an already open file: only the pages on the path.
#[divan::bench]
fn lookup_image(bencher: divan::Bencher) {
    let db = Db::open(meta_db("docker-28.5"), ReadMode::Mmap).expect("open");
    let path = ["v1", "moby", "images", IMAGE];
    bencher.bench(|| {
        let tx = db.view(MetaChoice::Current).expect("view");
        tx.bucket_at(&path).expect("lookup").expect("image found").root_page()
    });
}

/// `bolt check` without the printing: the reachability walk and every audit.
#[divan::bench(args = FIXTURES)]
fn check_file(bencher: divan::Bencher, fixture: &str) {
    let db = Db::open(meta_db(fixture), ReadMode::Mmap).expect("open");
    bencher.bench(|| {
        let tx = db.view(MetaChoice::Current).expect("view");
        check::check(&tx)
    });
}

/// Records in the built `content/blob`-like bucket of the two benchmarks below.
const RECORDS: usize = 20_000;

/// A bucket of `RECORDS` sub-buckets named like sha256 digests, each with a `size` value (a
/// containerd content record's shape), built in memory.
fn content_like() -> Db {
    use coldctr::bolt::build::{Tree, build};
    let mut root = Tree::new();
    let blobs = root.bucket(&[b"blob"]);
    for i in 0..RECORDS {
        let name = format!("sha256:{:064x}", (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let record = blobs.bucket(&[name.as_bytes()]);
        record.put(b"size", &[0x80, 0x01]);
        record
            .bucket(&[b"labels"])
            .put(b"containerd.io/uncompressed", b"sha256:00");
    }
    Db::from_bytes("content.db", build(&root)).expect("open")
}

/// Every record's size by one lookup each (the scattered lookups an analysis makes).
#[divan::bench(sample_count = 20)]
fn sizes_by_lookup(bencher: divan::Bencher) {
    let db = content_like();
    let tx = db.view(MetaChoice::Current).expect("view");
    let blobs = tx.root().bucket(b"blob").expect("lookup").expect("bucket");
    let mut names: Vec<Vec<u8>> = Vec::with_capacity(RECORDS);
    blobs.walk_seekable(&mut |item| names.push(item.key.to_vec()));
    bencher.bench(|| {
        names
            .iter()
            .filter_map(|n| {
                blobs
                    .bucket(n)
                    .ok()
                    .flatten()?
                    .get(b"size")
                    .ok()
                    .flatten()
                    .map(<[u8]>::len)
            })
            .sum::<usize>()
    });
}

/// The same sizes from one walk in key order, vouched for as a lookup would answer
/// (`Bucket::walk_seekable`: what `images` and `export` use when memory is tight).
#[divan::bench(sample_count = 20)]
fn sizes_by_seekable_walk(bencher: divan::Bencher) {
    let db = content_like();
    let tx = db.view(MetaChoice::Current).expect("view");
    let blobs = tx.root().bucket(b"blob").expect("lookup").expect("bucket");
    bencher.bench(|| {
        let mut sum = 0;
        let sound = blobs.walk_seekable(&mut |item| {
            if let Ok(b) = blobs.open_item(&item)
                && let Ok(Some(v)) = b.get(b"size")
            {
                sum += v.len();
            }
        });
        (sound, sum)
    });
}
