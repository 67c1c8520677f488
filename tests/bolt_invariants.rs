//! Damage that only the shape of the tree shows, met by lookups and cursors (not only by the
//! whole-file walks of `bolt check` and `bolt dump`): a branch page of a bucket whose child is
//! a page of a bucket enclosing it, a child outside its branch element's key range, and keys
//! out of order or repeated within a page (real or inline). Each is made by editing a copy of
//! the docker-28.5 fixture's meta.db; every command that reads the page exits 3 and names it.

#[path = "gcdu_support/mod.rs"]
mod support;

use coldctr::bolt::{Db, MetaChoice, ReadMode};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const META: &str = "io.containerd.metadata.v1.bolt/meta.db";
const BLOB: [&str; 4] = ["v1", "moby", "content", "blob"];

/// Runs coldctr with `args` (no `--root` added; a host platform for the commands that read
/// a root, so that platform matching does not depend on the machine).
fn coldctr(args: &[&str]) -> Output {
    let platform: &[&str] = if args.first() == Some(&"bolt") {
        &[]
    } else {
        &["--host-platform", "linux/amd64"]
    };
    Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .args(platform)
        .args(args)
        .env_remove("DOCKER_API_VERSION")
        .output()
        .expect("run coldctr")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts exit 3 and a message on stderr holding every one of `want`.
fn assert_damage(o: &Output, what: &str, want: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(3), "{what}: {err}");
    for w in want {
        assert!(err.contains(w), "{what}: wants {w:?} in: {err}");
    }
}

/// A copy of the docker-28.5 root, and its meta.db's path.
fn root_copy() -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = support::fixture_copy("docker-28.5");
    (tmp, root)
}

/// Facts about the meta.db at `db`, read with the library.
struct Layout {
    page_size: u64,
    /// The top-level bucket's root page.
    meta_root: u64,
    /// The root page of `v1/moby/content`.
    content_root: u64,
    /// The root page of `v1/moby/content/blob`: a branch page.
    blob_root: u64,
    /// Its elements' keys and children.
    blob_children: Vec<(Vec<u8>, u64)>,
}

fn layout(db: &Path) -> Layout {
    let db = Db::open(db, ReadMode::Read).expect("open");
    let tx = db.view(MetaChoice::Current).expect("view");
    let root_of = |path: &[&str]| tx.bucket_at(path).expect("path").expect("bucket").root_page();
    let blob_root = root_of(&BLOB);
    let page = tx.page(blob_root).expect("blob root");
    assert!(
        page.is_branch() && page.count >= 3,
        "the fixture's blob bucket has a branch root"
    );
    let blob_children = (0..usize::from(page.count))
        .map(|i| page.branch(i).map(|e| (e.key.to_vec(), e.child)).expect("element"))
        .collect();
    Layout {
        page_size: u64::from(db.page_size()),
        meta_root: tx.meta().root,
        content_root: root_of(&BLOB[..3]),
        blob_root,
        blob_children,
    }
}

/// Offset of branch or leaf element `i` of page `page`.
fn element(l: &Layout, page: u64, i: usize) -> usize {
    usize::try_from(page * l.page_size).expect("offset") + 16 + 16 * i
}

/// Sets the child of branch element `i` of page `page` in the file at `db` to `child`.
fn point_child(db: &Path, l: &Layout, page: u64, i: usize, child: u64) {
    let mut bytes = std::fs::read(db).expect("read");
    let at = element(l, page, i) + 8;
    bytes[at..at + 8].copy_from_slice(&child.to_le_bytes());
    std::fs::write(db, bytes).expect("write");
}

/// Swaps leaf elements `i` and `i + 1` of the node whose first byte is at `page_at` (a page, or
/// an inline bucket's page inside a value): their keys then sort out of order. A key's
/// position is relative to its element, so each position moves by the 16 bytes between them.
fn swap_leaf_elements(bytes: &mut [u8], page_at: usize, i: usize) {
    let a = page_at + 16 + 16 * i;
    let b = a + 16;
    let mut ea: [u8; 16] = bytes[a..a + 16].try_into().expect("element");
    let mut eb: [u8; 16] = bytes[b..b + 16].try_into().expect("element");
    let pos_a = u32::from_le_bytes(ea[4..8].try_into().expect("pos"));
    let pos_b = u32::from_le_bytes(eb[4..8].try_into().expect("pos"));
    ea[4..8].copy_from_slice(&(pos_a - 16).to_le_bytes());
    eb[4..8].copy_from_slice(&(pos_b + 16).to_le_bytes());
    bytes[a..a + 16].copy_from_slice(&eb);
    bytes[b..b + 16].copy_from_slice(&ea);
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// The blob bucket's last branch element points back at the top-level bucket's root page:
/// the cursor used to walk it as more of `blob` (the key `v1` listed as a digest) and say
/// nothing. A listing and a lookup that reaches it now both end in damage naming the page.
#[test]
fn a_branch_pointing_at_the_top_level_bucket_is_damage() {
    let (_tmp, root) = root_copy();
    let db = root.join(META);
    let l = layout(&db);
    let last = l.blob_children.len() - 1;
    point_child(&db, &l, l.blob_root, last, l.meta_root);
    let db = path_str(&db);

    let mut args = vec!["bolt", "keys", db];
    args.extend(BLOB);
    let keys = coldctr(&args);
    let page = format!("page {} (offset {})", l.blob_root, element(&l, l.blob_root, last));
    let child = format!("points to page {}, the root page of the top-level bucket", l.meta_root);
    assert_damage(&keys, "bolt keys", &[&page, &child]);
    assert!(
        !String::from_utf8_lossy(&keys.stdout).lines().any(|k| k == "v1/"),
        "no key of the top-level bucket is listed as a blob"
    );

    // A lookup whose key sorts into that child.
    let key = String::from_utf8(l.blob_children[last].0.clone()).expect("digest");
    let mut args = vec!["bolt", "get", db];
    args.extend(BLOB);
    args.push(&key);
    assert_damage(&coldctr(&args), "bolt get", &[&page, &child]);

    let content = coldctr(&["--root", path_str(&root), "content"]);
    assert_damage(&content, "content", &[&page, &child]);
}

/// The blob bucket's branch points at the root of `v1/moby/content`, the bucket that holds
/// `blob` itself: the cursor used to list `blob/` and `ingests/` among the digests.
#[test]
fn a_branch_pointing_at_an_enclosing_bucket_is_damage() {
    let (_tmp, root) = root_copy();
    let db = root.join(META);
    let l = layout(&db);
    point_child(&db, &l, l.blob_root, 1, l.content_root);

    let mut args = vec!["bolt", "keys", path_str(&db)];
    args.extend(BLOB);
    let keys = coldctr(&args);
    let page = format!("page {} (offset {})", l.blob_root, element(&l, l.blob_root, 1));
    let child = format!(
        "points to page {}, the root page of the bucket whose header",
        l.content_root
    );
    assert_damage(&keys, "bolt keys", &[&page, &child]);
    assert!(
        !String::from_utf8_lossy(&keys.stdout).lines().any(|k| k == "blob/"),
        "the enclosing bucket's keys are not listed"
    );
    let images = coldctr(&["--root", path_str(&root), "images", "--format", "json"]);
    assert_damage(&images, "images", &[&page]);
}

/// Branch element 0 of the blob bucket leads to element 1's page: a lookup of element 0's
/// first key went there, missed it and said "not found"; the keys of that page do not lie
/// below element 1's key, so it is damage, naming the branch page and the child.
#[test]
fn a_child_outside_its_elements_key_range_is_damage() {
    let (_tmp, root) = root_copy();
    let db = root.join(META);
    let l = layout(&db);
    let second = l.blob_children[1].1;
    point_child(&db, &l, l.blob_root, 0, second);
    let key = String::from_utf8(l.blob_children[0].0.clone()).expect("digest");
    let mut args = vec!["bolt", "get", path_str(&db)];
    args.extend(BLOB);
    args.push(&key);
    args.push("size");
    let page = format!("page {} (offset {})", l.blob_root, element(&l, l.blob_root, 0));
    let child = format!("leads to page {second} ");
    assert_damage(
        &coldctr(&args),
        "bolt get",
        &[&page, &child, "last key does not sort before"],
    );
}

/// Two image records swapped on their page: `images` listed both and `inspect` of one of them
/// found nothing (the binary search went the wrong way), all with exit 0.
#[test]
fn keys_out_of_order_in_a_leaf_are_damage_for_every_reader() {
    let (_tmp, root) = root_copy();
    let db = root.join(META);
    let (page, first, second) = {
        let d = Db::open(&db, ReadMode::Read).expect("open");
        let tx = d.view(MetaChoice::Current).expect("view");
        let images = tx.bucket_at(&["v1", "moby", "images"]).expect("path").expect("images");
        let page = tx.page(images.root_page()).expect("page");
        assert!(page.is_leaf() && page.count >= 3, "one leaf of images");
        let key = |i| String::from_utf8(page.key(i).expect("key").to_vec()).expect("name");
        (page.id, key(1), key(2))
    };
    let mut bytes = std::fs::read(&db).expect("read");
    let ps = 4096;
    // Elements 1 and 2: element 0's key stays where bbolt writes it, right after the
    // headers (otherwise the element count is what is damaged).
    swap_leaf_elements(&mut bytes, usize::try_from(page).expect("page") * ps, 1);
    std::fs::write(&db, bytes).expect("write");
    let at = format!("page {page} (offset {})", page as usize * ps + 48);
    let what = "leaf element 2's key sorts before the key before it";

    let root_s = path_str(&root);
    let images = coldctr(&["--root", root_s, "images", "--format", "json"]);
    assert_damage(&images, "images", &[&at, what]);
    for name in [&first, &second] {
        let inspect = coldctr(&["--root", root_s, "-n", "moby", "inspect", name]);
        assert_damage(&inspect, &format!("inspect {name}"), &[&at, what]);
    }
    let mut args = vec!["bolt", "keys", path_str(&db)];
    args.extend(["v1", "moby", "images"]);
    assert_damage(&coldctr(&args), "bolt keys", &[&at, what]);
}

/// An inline bucket (an image record's `target`, a page inside a value) whose keys are out of
/// order: a lookup of `digest` in it missed, and the image was listed with no target.
#[test]
fn keys_out_of_order_in_an_inline_bucket_are_damage() {
    let (_tmp, root) = root_copy();
    let db = root.join(META);
    let (inline_at, holder, name) = {
        let d = Db::open(&db, ReadMode::Read).expect("open");
        let tx = d.view(MetaChoice::Current).expect("view");
        let images = tx.bucket_at(&["v1", "moby", "images"]).expect("path").expect("images");
        let record = images
            .cursor()
            .map(|i| i.expect("item"))
            .find(|i| i.is_bucket)
            .expect("a record");
        let name = String::from_utf8(record.key.to_vec()).expect("name");
        let r = images.open_item(&record).expect("record");
        let target = r
            .cursor()
            .map(|i| i.expect("item"))
            .find(|i| i.key == b"target")
            .expect("target");
        assert_eq!(&target.value[..8], &[0; 8], "an inline target");
        (target.value_offset + 16, target.page, name)
    };
    let mut bytes = std::fs::read(&db).expect("read");
    let at = usize::try_from(inline_at).expect("offset");
    assert!(
        u16::from_le_bytes([bytes[at + 10], bytes[at + 11]]) >= 3,
        "a target of 3 keys or more"
    );
    swap_leaf_elements(&mut bytes, at, 1);
    std::fs::write(&db, bytes).expect("write");
    let want = format!("page {holder} (offset {})", at + 48);
    let what = "leaf element 2's key sorts before the key before it";
    let images = coldctr(&["--root", path_str(&root), "images", "--format", "json"]);
    assert_damage(&images, "images", &[&want, what]);
    let inspect = coldctr(&["--root", path_str(&root), "-n", "moby", "inspect", &name]);
    assert_damage(&inspect, "inspect", &[&want, what]);
}

/// A page's element count lowered hides its last records from every reader, bbolt's too: the
/// first key then lies past where the counted headers end, which bbolt never writes (sweep
/// 30.2: records dropped, exit 0, `bolt check` OK). A record's page with its count set to 0
/// still has an element header after its header. Both are damage naming the page.
#[test]
fn a_lowered_element_count_is_damage() {
    for lowered_to in [Some(1u16), None] {
        let (_tmp, root) = root_copy();
        let db = root.join(META);
        let (page, count) = {
            let d = Db::open(&db, ReadMode::Read).expect("open");
            let tx = d.view(MetaChoice::Current).expect("view");
            let images = tx.bucket_at(&["v1", "moby", "images"]).expect("path").expect("images");
            let page = tx.page(images.root_page()).expect("page");
            assert!(page.is_leaf() && page.count >= 3, "one leaf of images");
            (page.id, page.count)
        };
        let mut bytes = std::fs::read(&db).expect("read");
        let at = usize::try_from(page).expect("page") * 4096 + 10;
        let new = lowered_to.map_or(0, |by| count - by);
        bytes[at..at + 2].copy_from_slice(&new.to_le_bytes());
        std::fs::write(&db, bytes).expect("write");
        let want = format!("page {page} (offset {at})");
        let what = "the element count is damaged";
        let root_s = path_str(&root);
        assert_damage(&coldctr(&["--root", root_s, "images"]), "images", &[&want, what]);
        // `bolt check` reports findings as bbolt's does: on stdout, exit 1.
        let check = coldctr(&["bolt", "check", path_str(&db)]);
        let out = String::from_utf8_lossy(&check.stdout);
        assert_eq!(check.status.code(), Some(1), "{out}");
        assert!(out.contains(&want) && out.contains(what), "{out}");
    }
}
