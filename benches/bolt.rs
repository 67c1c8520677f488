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
