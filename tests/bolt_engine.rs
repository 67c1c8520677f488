//! The bbolt engine against real containerd files: what it reads must equal what the Go bbolt
//! library reads (the goldens), lookups agree with the walk, and damaged copies (broken metas,
//! truncation, cycles, random flips, out-of-range numbers) end in errors that name the page,
//! never in a panic or a hang. Every mutation is made at run time on a copy.

mod bolt_support;

#[allow(dead_code)]
#[path = "../fuzz/src/harness.rs"]
mod harness;

use bolt_support::*;
use coldctr::bolt::{BoltError, Db, MetaChoice, ReadMode, check, pages, walk};
use coldctr::bytes::Endian;
use std::collections::BTreeMap;

fn open_bytes(name: &str, data: Vec<u8>) -> Db {
    Db::from_bytes(name, data).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn page_of(e: &BoltError) -> Option<u64> {
    match e {
        BoltError::Corrupt { page, .. } => Some(*page),
        _ => None,
    }
}

#[test]
fn walk_equals_go_bbolt_for_every_fixture() {
    for (name, path) in all_dbs() {
        for mode in [ReadMode::Mmap, ReadMode::Read, ReadMode::Pread] {
            let db = Db::open(&path, mode).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!db.fell_back(), "{name}");
            assert_eq!(db.endian(), Endian::Little);
            let dump = lib_dump(&db, MetaChoice::Current).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(dump.damage.is_empty(), "{name}: {:?}", dump.damage);
            assert_eq!(
                dump.records,
                golden(&name),
                "{name} ({mode:?}) differs from bbolt's reading"
            );
            let tx = db.view(MetaChoice::Current).expect("current view");
            assert_eq!(check::check(&tx), vec![], "{name}");
        }
    }
}

#[test]
fn lookups_agree_with_go_bbolt() {
    for ((name, path), mode) in all_dbs()
        .into_iter()
        .flat_map(|d| [(d.clone(), ReadMode::Mmap), (d, ReadMode::Pread)])
    {
        let db = Db::open(&path, mode).expect("open");
        let tx = db.view(MetaChoice::Current).expect("view");
        let records = golden_records(&name);
        assert!(!records.is_empty());
        for r in &records {
            let what = format!("{name}: {:?} / {}", r.bucket, String::from_utf8_lossy(&r.key));
            let bucket = tx
                .bucket_at(&r.bucket)
                .unwrap_or_else(|e| panic!("{what}: {e}"))
                .unwrap_or_else(|| panic!("{what}: bucket missing"));
            let got = bucket.get(&r.key).unwrap_or_else(|e| panic!("{what}: {e}"));
            match &r.value {
                Some(v) => {
                    assert_eq!(got, Some(v.as_slice()), "{what}");
                    assert!(bucket.bucket(&r.key).expect("lookup").is_none(), "{what}");
                }
                None => {
                    assert_eq!(got, None, "{what}: a bucket has no value");
                    let child = bucket.bucket(&r.key).expect("lookup");
                    assert!(child.is_some(), "{what}: bucket not found");
                }
            }
            // A key just after this one is (almost always) absent; it must not error.
            let mut missing = r.key.clone();
            missing.push(0xff);
            bucket.get(&missing).unwrap_or_else(|e| panic!("{what}: {e}"));
        }
        assert!(tx.bucket_at(&[b"no such bucket".as_slice()]).expect("lookup").is_none());
    }
}

#[test]
fn previous_meta_is_the_older_transaction() {
    // containerd-1.6 meta.db: the last commit added the lease "short-lease".
    let db = Db::open(db_path("containerd-1.6", "meta"), ReadMode::Read).expect("open");
    let cur = db.view(MetaChoice::Current).expect("current");
    let prev = db.view(MetaChoice::Previous).expect("previous");
    assert_eq!(prev.meta().txid + 1, cur.meta().txid);
    assert_ne!(prev.meta().slot, cur.meta().slot);
    let prev_dump = lib_dump(&db, MetaChoice::Previous).expect("previous dump");
    assert!(prev_dump.damage.is_empty());
    // What bbolt reads once the current meta is broken is exactly the previous transaction.
    assert_eq!(prev_dump.records, golden("containerd-1.6.meta.meta1-checksum-flipped"));
    assert_ne!(prev_dump.records, golden("containerd-1.6.meta"));
    let lease = [b"v1".as_slice(), b"default", b"leases", b"short-lease"];
    assert!(cur.bucket_at(&lease).expect("lookup").is_some());
    assert!(prev.bucket_at(&lease).expect("lookup").is_none());
    assert!(check::check(&prev).is_empty());

    // containerd-1.7 meta.db: its last commit rewrote pages without changing any key.
    let db = Db::open(db_path("containerd-1.7", "meta"), ReadMode::Read).expect("open");
    let prev = lib_dump(&db, MetaChoice::Previous).expect("previous dump");
    assert_eq!(prev.records, golden("containerd-1.7.meta"));
    assert_ne!(db.metas()[0].txid, db.metas()[1].txid);
}

#[test]
fn broken_current_meta_falls_back_like_bbolt() {
    for (fixture, db_name, slot, golden_name) in [
        (
            "containerd-1.6",
            "meta",
            1,
            "containerd-1.6.meta.meta1-checksum-flipped",
        ),
        (
            "docker-28.5",
            "overlayfs",
            0,
            "docker-28.5.overlayfs.meta0-checksum-flipped",
        ),
    ] {
        let mut data = read(&db_path(fixture, db_name));
        assert_eq!(
            layout(&data).current,
            slot,
            "{fixture}: the mutation targets the current meta"
        );
        break_meta_checksum(&mut data, slot);
        let db = open_bytes(golden_name, data);
        assert!(db.fell_back(), "{golden_name}");
        assert_eq!(usize::from(db.current_slot()), 1 - slot);
        assert!(matches!(
            db.metas()[slot].fault,
            Some(coldctr::bolt::MetaFault::BadChecksum { .. })
        ));
        let dump = lib_dump(&db, MetaChoice::Current).expect("dump");
        assert!(dump.damage.is_empty());
        assert_eq!(dump.records, golden(golden_name), "{golden_name}");
        // The broken meta cannot be chosen explicitly.
        let err = db
            .view(MetaChoice::Slot(slot as u8))
            .err()
            .expect("broken meta refused");
        assert!(matches!(err, BoltError::MetaUnusable { .. }), "{err}");
        assert!(err.to_string().contains(&format!("meta page {slot}")), "{err}");
        // `check` reports the broken meta.
        let tx = db.view(MetaChoice::Current).expect("view");
        let findings = check::check(&tx);
        assert!(findings.iter().any(|f| f.page == Some(slot as u64)), "{findings:?}");
    }
}

#[test]
fn both_metas_broken_is_a_clear_error() {
    for (name, path) in all_dbs() {
        let mut data = read(&path);
        break_meta_checksum(&mut data, 0);
        break_meta_checksum(&mut data, 1);
        let err = Db::from_bytes(&name, data).err().expect("no valid meta");
        assert!(matches!(err, BoltError::NoValidMeta { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("meta page 0") && msg.contains("meta page 1"), "{msg}");
        assert!(msg.contains("checksum"), "{msg}");
    }
    // Not a bbolt file at all.
    let err = Db::from_bytes("zeros", vec![0; 16384])
        .err()
        .expect("zeros are not bbolt");
    assert!(err.to_string().contains("meta page 0"), "{err}");
}

#[test]
fn truncated_files_never_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, path) in all_dbs() {
        let data = read(&path);
        let l = layout(&data);
        let end = l.hwm as usize * l.page_size;
        let mut lens = vec![
            0,
            1,
            15,
            16,
            79,
            80,
            100,
            1024,
            4095,
            4096,
            4096 + 80,
            8191,
            8192,
            8192 + 16,
            12288,
            data.len() / 2,
            end - 1,
            end,
            end + 1,
            data.len() - 1,
        ];
        // Every page boundary of the first 64 pages, and one byte into each.
        lens.extend((2..64).flat_map(|p| [p * l.page_size, p * l.page_size + 1]));
        for len in lens.into_iter().filter(|&n| n <= data.len()) {
            let cut = data[..len].to_vec();
            harness::bolt_walk(&cut);
            // Read page by page from a file, the cut reads as it does from memory.
            let file = dir.path().join("cut.db");
            std::fs::write(&file, &cut).expect("write cut");
            // Keys walked and damage met (without the file's name).
            let summary = |db: Db| {
                let tx = db.view(MetaChoice::Current).expect("a located meta is valid");
                let (n, damage) = walk::count(&tx.root());
                (
                    n,
                    damage
                        .iter()
                        .map(|e| e.to_string().replace(&*file.to_string_lossy(), ""))
                        .collect::<Vec<_>>(),
                )
            };
            let lazily = Db::open(&file, ReadMode::Pread).map(summary);
            let in_memory = Db::from_bytes(&file, cut.clone()).map(summary);
            assert_eq!(lazily.is_ok(), in_memory.is_ok(), "{name} cut at {len}");
            if let (Ok(a), Ok(b)) = (&lazily, &in_memory) {
                assert_eq!(a, b, "{name} cut at {len}");
            }
            match Db::from_bytes(&name, cut) {
                Err(e) => assert!(len < 8192, "{name} cut at {len}: {e}"),
                Ok(db) => {
                    let tx = db.view(MetaChoice::Current).expect("a located meta is valid");
                    let (_, damage) = walk::count(&tx.root());
                    if len >= end {
                        assert!(damage.is_empty(), "{name} cut at {len}: {damage:?}");
                    }
                    for e in &damage {
                        assert!(page_of(e).is_some(), "{name} cut at {len}: {e}");
                    }
                }
            }
        }
    }
}

/// `containerd-1.6` meta.db with the last child of its first branch page pointing back at the
/// branch page itself. Returns the data, the branch page id and that element's key.
fn self_referencing_branch() -> (Vec<u8>, u64, Vec<u8>) {
    let mut data = read(&db_path("containerd-1.6", "meta"));
    let db = open_bytes("meta.db", data.clone());
    let tx = db.view(MetaChoice::Current).expect("view");
    let row = pages::list(&tx)
        .into_iter()
        .find(|r| r.kind == "branch" && r.count.unwrap_or(0) >= 2)
        .expect("containerd-1.6 meta.db has a branch page");
    let page = tx.page(row.id).expect("branch page");
    let last = usize::from(page.count) - 1;
    let key = page.branch(last).expect("element").key.to_vec();
    let ps = db.page_size() as usize;
    put_le_u64(&mut data, row.id as usize * ps + 16 + 16 * last + 8, row.id);
    (data, row.id, key)
}

#[test]
fn branch_pointing_to_itself_is_reported_not_followed() {
    let (data, id, key) = self_referencing_branch();
    let db = open_bytes("cycle.db", data);
    let tx = db.view(MetaChoice::Current).expect("view");
    let dump = lib_dump(&db, MetaChoice::Current).expect("walk");
    assert!(
        dump.damage.iter().any(|e| page_of(e) == Some(id)),
        "walk damage should name page {id}: {:?}",
        dump.damage
    );
    assert!(dump.records.len() < golden("containerd-1.6.meta").len());
    let findings = check::check(&tx);
    assert!(
        findings
            .iter()
            .any(|f| f.page == Some(id) && f.message.contains("multiple references")),
        "{findings:?}"
    );
    // A lookup of the key that leads through the bad element errors instead of looping.
    let mut errors = 0;
    for r in golden_records("containerd-1.6.meta").iter().filter(|r| r.key == key) {
        let Ok(Some(bucket)) = tx.bucket_at(&r.bucket) else {
            continue;
        };
        if let Err(e) = bucket.get(&r.key) {
            assert_eq!(page_of(&e), Some(id), "{e}");
            errors += 1;
        }
    }
    assert!(errors > 0, "no lookup went through page {id}");
    let _ = pages::list(&tx);
}

#[test]
fn branch_pointing_to_an_ancestor_terminates() {
    // Point every child of the first branch page at the bucket's root chain: the tree root.
    let mut data = read(&db_path("containerd-1.6", "meta"));
    let db = open_bytes("meta.db", data.clone());
    let tx = db.view(MetaChoice::Current).expect("view");
    let root = tx.meta().root;
    let ps = db.page_size() as usize;
    for row in pages::list(&tx).into_iter().filter(|r| r.kind == "branch") {
        for i in 0..usize::from(row.count.unwrap_or(0)) {
            put_le_u64(&mut data, row.id as usize * ps + 16 + 16 * i + 8, root);
        }
    }
    // The fuzz target's own path over the mutated bytes (not the pristine file).
    harness::bolt_walk(&data);
    let db = open_bytes("ancestor.db", data);
    let dump = lib_dump(&db, MetaChoice::Current).expect("walk");
    assert!(!dump.damage.is_empty());
    let tx = db.view(MetaChoice::Current).expect("view");
    assert!(!check::check(&tx).is_empty());
}

/// Applies `mutate` to a copy of containerd-1.6 meta.db and returns the damage of a full walk
/// and the `check` findings.
fn damaged(mutate: impl FnOnce(&mut Vec<u8>, &Db)) -> (Vec<BoltError>, Vec<check::Finding>, Db) {
    let mut data = read(&db_path("containerd-1.6", "meta"));
    let pristine = open_bytes("meta.db", data.clone());
    mutate(&mut data, &pristine);
    harness::bolt_walk(&data);
    let db = open_bytes("damaged.db", data);
    let dump = {
        let tx = db.view(MetaChoice::Current).expect("view");
        let (_, damage) = walk::count(&tx.root());
        (damage, check::check(&tx))
    };
    (dump.0, dump.1, db)
}

/// Reachable leaf and branch pages of the current view of a pristine file.
fn node_pages(db: &Db, kind: &str) -> Vec<(u64, u16)> {
    let tx = db.view(MetaChoice::Current).expect("view");
    pages::list(&tx)
        .into_iter()
        .filter(|r| r.kind == kind)
        .map(|r| (r.id, r.count.unwrap_or(0)))
        .collect()
}

#[test]
fn out_of_range_numbers_are_corrupt_errors_naming_the_page() {
    // A branch child beyond the high-water mark.
    let mut target = 0;
    let (damage, findings, db) = damaged(|d, db| {
        let (id, _) = node_pages(db, "branch")[0];
        let hwm = db.view(MetaChoice::Current).expect("view").hwm();
        target = hwm + 5;
        put_le_u64(d, id as usize * db.page_size() as usize + 16 + 8, target);
    });
    assert!(damage.iter().any(|e| page_of(e) == Some(target)), "{damage:?}");
    assert!(
        damage.iter().any(|e| e.to_string().contains("high-water mark")),
        "{damage:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.page == Some(target) && f.message.contains("out of bounds")),
        "{findings:?}"
    );
    drop(db);

    // A leaf whose overflow count is huge; one whose count is 0xFFFF; one whose first element
    // points outside the page.
    type Mutation = fn(&mut [u8], usize);
    let cases: [(&str, Mutation); 4] = [
        ("overflow", |d, off| put_le_u32(d, off + 12, u32::MAX)),
        ("count", |d, off| put_le_u16(d, off + 10, 0xFFFF)),
        ("pos", |d, off| put_le_u32(d, off + 16 + 4, 0x7FFF_0000)),
        ("ksize", |d, off| put_le_u32(d, off + 16 + 8, u32::MAX)),
    ];
    for (what, f) in cases {
        let mut id = 0;
        let (damage, findings, _db) = damaged(|d, db| {
            id = node_pages(db, "leaf").iter().find(|(_, c)| *c > 0).expect("a leaf").0;
            f(d, id as usize * db.page_size() as usize);
        });
        assert!(!damage.is_empty(), "{what}");
        for e in &damage {
            assert_eq!(page_of(e), Some(id), "{what}: {e}");
        }
        assert!(findings.iter().any(|f| f.page == Some(id)), "{what}: {findings:?}");
    }
    // The same on a branch page.
    let mut id = 0;
    let (damage, _, _db) = damaged(|d, db| {
        id = node_pages(db, "branch")[0].0;
        put_le_u16(d, id as usize * db.page_size() as usize + 10, 0xFFFF);
    });
    assert!(damage.iter().any(|e| page_of(e) == Some(id)), "{damage:?}");

    // The persisted freelist claiming 0xFFFF entries, then a real count of 2^60.
    let mut free = 0;
    let (_, findings, db) = damaged(|d, db| {
        let tx = db.view(MetaChoice::Current).expect("view");
        free = tx.meta().freelist;
        let off = free as usize * db.page_size() as usize;
        put_le_u16(d, off + 10, 0xFFFF);
        put_le_u64(d, off + 16, 1 << 60);
    });
    assert!(findings.iter().any(|f| f.page == Some(free)), "{findings:?}");
    let tx = db.view(MetaChoice::Current).expect("view");
    let err = tx.freelist().expect_err("freelist refused");
    assert_eq!(page_of(&err), Some(free), "{err}");
}

#[test]
fn meta_numbers_out_of_range_end_in_errors() {
    let data = read(&db_path("containerd-1.6", "meta"));
    let l = layout(&data);
    let ps = l.page_size;
    // (field offset in the meta page, value): root beyond hwm, hwm far beyond the file, hwm 0,
    // freelist beyond hwm.
    for (off, value) in [
        (32, l.hwm + 7),
        (56, 1u64 << 62),
        (56, u64::MAX),
        (56, 0),
        (48, l.hwm + 1),
    ] {
        let mut d = data.clone();
        for slot in 0..2 {
            put_le_u64(&mut d, slot * ps + off, value);
            reseal_meta_le(&mut d, slot, ps);
        }
        harness::bolt_walk(&d);
        let db = open_bytes("meta.db", d);
        let tx = db.view(MetaChoice::Current).expect("resealed meta is valid");
        let (_, damage) = walk::count(&tx.root());
        let findings = check::check(&tx);
        let rows = pages::list(&tx);
        assert!(
            rows.len() <= data.len() / ps + 2,
            "field {off} = {value}: {} rows",
            rows.len()
        );
        if off == 32 || off == 56 && value <= 1 {
            assert!(!damage.is_empty(), "field {off} = {value}");
            assert!(damage.iter().all(|e| page_of(e).is_some()), "{damage:?}");
        }
        assert!(!findings.is_empty(), "field {off} = {value}");
        assert!(
            findings.len() <= data.len() / ps + 8,
            "field {off} = {value}: {}",
            findings.len()
        );
        if off == 56 && value > l.hwm {
            assert!(
                findings[0].message.contains("past the end of the file"),
                "{:?}",
                findings[0]
            );
        }
    }
}

#[test]
fn hand_made_file_reads() {
    let d = tiny_db(1, &one_element_leaf(0, b"k", b"v"));
    harness::bolt_walk(&d);
    let db = open_bytes("tiny.db", d);
    let tx = db.view(MetaChoice::Current).expect("view");
    assert_eq!(tx.root().get(b"k").expect("get"), Some(&b"v"[..]));
    assert_eq!(check::check(&tx), vec![]);
    assert_eq!(walk::count(&tx.root()).0, 1);
}

#[test]
fn elements_sharing_one_inline_bucket_are_audited_once() {
    // 60 levels of two bucket elements that share one value: 2^60 paths, 61 distinct pages.
    let d = tiny_db(1, &one_element_leaf(0x01, b"b", &shared_inline_buckets(60, 2)));
    harness::bolt_walk(&d);
    let db = open_bytes("shared.db", d);
    let tx = db.view(MetaChoice::Current).expect("view");
    let (keys, damage) = walk::count(&tx.root());
    assert!(keys < 200, "{keys}");
    assert!(!damage.is_empty());
    assert!(damage.iter().all(|e| page_of(e) == Some(3)), "{damage:?}");
    let findings = check::check(&tx);
    assert!(
        findings.iter().any(|f| f.message.contains("a second time")),
        "{findings:?}"
    );
    assert!(findings.len() < 1000);
}

#[test]
fn random_byte_flips_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let files: Vec<(String, Vec<u8>)> = all_dbs()
        .into_iter()
        .filter(|(n, _)| !n.starts_with("docker-28.5-damaged"))
        .map(|(n, p)| (n, read(&p)))
        .collect();
    let mut opened = 0;
    let mut damaged = 0;
    for round in 0..300 {
        let (name, pristine) = &files[round % files.len()];
        let mut d = pristine.clone();
        let l = layout(&d);
        let flips = 1 + rng.below(8);
        for _ in 0..flips {
            let page = rng.below(l.hwm) as usize;
            let base = page * l.page_size;
            let count = usize::from(le_u16(&d, base + 10)).min(l.page_size / 16);
            // Page headers, element arrays, or anywhere in the page, in equal parts.
            let off = match rng.below(3) {
                0 => base + rng.below(16) as usize,
                1 => base + 16 + rng.below((16 * count.max(1)) as u64) as usize,
                _ => base + rng.below(l.page_size as u64) as usize,
            };
            if off < d.len() {
                d[off] ^= 1 << rng.below(8);
            }
        }
        harness::bolt_walk(&d);
        if let Ok(db) = Db::from_bytes(name, d) {
            opened += 1;
            for slot in 0..2 {
                if let Ok(tx) = db.view(MetaChoice::Slot(slot)) {
                    let (_, damage) = walk::count(&tx.root());
                    let findings = check::check(&tx);
                    if !damage.is_empty() || !findings.is_empty() {
                        damaged += 1;
                    }
                }
            }
        }
    }
    assert!(opened > 150, "{opened}");
    assert!(damaged > 50, "{damaged}");
}

#[test]
fn every_page_below_hwm_is_listed_once() {
    for (name, path) in all_dbs() {
        let db = Db::open(&path, ReadMode::Read).expect("open");
        for slot in 0..2 {
            let tx = db.view(MetaChoice::Slot(slot)).expect("both metas valid");
            let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
            for r in pages::list(&tx).iter().filter(|r| !r.above_hwm) {
                assert!(r.note.is_none(), "{name}: {r:?}");
                let run = if r.kind == "free" { 0 } else { r.overflow.unwrap_or(0) };
                for id in r.id..=r.id + u64::from(run) {
                    *seen.entry(id).or_default() += 1;
                }
            }
            let want: Vec<u64> = (0..tx.hwm()).collect();
            assert_eq!(seen.keys().copied().collect::<Vec<_>>(), want, "{name} meta {slot}");
            assert!(seen.values().all(|&n| n == 1), "{name} meta {slot}: {seen:?}");
        }
    }
}

#[test]
fn freelist_kinds() {
    let db = Db::open(db_path("containerd-1.7", "meta"), ReadMode::Read).expect("open");
    let tx = db.view(MetaChoice::Current).expect("view");
    assert!(!tx.meta().persists_freelist());
    assert_eq!(tx.freelist().expect("no freelist"), None);
    let db = Db::open(db_path("containerd-1.6", "meta"), ReadMode::Read).expect("open");
    let tx = db.view(MetaChoice::Current).expect("view");
    assert!(tx.meta().persists_freelist());
    let ids = tx.freelist().expect("freelist").expect("persisted");
    assert!(ids.iter().all(|&id| id >= 2 && id < tx.hwm()));
}

#[test]
fn a_lookup_reads_only_its_path() {
    let db = Db::open(db_path("docker-28.5", "meta"), ReadMode::Mmap).expect("open");
    assert_eq!(db.pages_read(), 0, "opening reads only the metas");
    let name = golden_records("docker-28.5.meta")
        .into_iter()
        .find(|r| r.bucket == [b"v1".as_slice(), b"moby", b"images"] && r.value.is_none())
        .expect("an image in the golden")
        .key;
    let tx = db.view(MetaChoice::Current).expect("view");
    let before = db.pages_read();
    let image = tx
        .bucket_at(&[b"v1".as_slice(), b"moby", b"images", &name])
        .expect("lookup")
        .expect("image bucket");
    let _ = image.get(b"createdat").expect("lookup");
    let read = db.pages_read() - before;
    assert!((1..=8).contains(&read), "a lookup read {read} pages");
    assert!(tx.hwm() > 100, "hwm {}", tx.hwm());
}

#[test]
fn an_exclusive_lock_does_not_block_reading() {
    let (_dir, path) = temp_copy(&db_path("docker-28.5", "meta"));
    let holder = std::fs::File::open(&path).expect("open");
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file descriptor we own, for the duration of the test.
    assert_eq!(unsafe { libc::flock(holder.as_raw_fd(), libc::LOCK_EX) }, 0);
    // The premise: a second, separately opened descriptor cannot take even a shared lock.
    let probe = std::fs::File::open(&path).expect("open");
    // SAFETY: as above.
    let r = unsafe { libc::flock(probe.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) };
    assert_eq!(r, -1, "the exclusive lock is held");
    for mode in [ReadMode::Mmap, ReadMode::Read] {
        let db = Db::open(&path, mode).expect("read past the lock");
        assert_eq!(
            lib_dump(&db, MetaChoice::Current).expect("dump").records,
            golden("docker-28.5.meta")
        );
    }
    drop(holder);
}

#[test]
fn big_endian_files_read_the_same() {
    for (name, path) in all_dbs() {
        let le = read(&path);
        let be = to_big_endian(&le);
        assert_ne!(le, be);
        let le_db = open_bytes(&name, le);
        let be_db = open_bytes(&name, be);
        assert_eq!(be_db.endian(), Endian::Big, "{name}");
        assert_eq!(be_db.page_size(), le_db.page_size());
        assert!(!be_db.fell_back(), "{name}");
        for (a, b) in le_db.metas().iter().zip(be_db.metas()) {
            assert!(b.is_valid(), "{name}: {:?}", b.fault);
            assert_eq!(
                (a.root, a.freelist, a.pgid, a.txid),
                (b.root, b.freelist, b.pgid, b.txid)
            );
        }
        for choice in [MetaChoice::Current, MetaChoice::Previous] {
            let a = lib_dump(&le_db, choice).expect("le");
            let b = lib_dump(&be_db, choice).expect("be");
            assert!(b.damage.is_empty(), "{name}: {:?}", b.damage);
            assert_eq!(a.records, b.records, "{name} {choice:?}");
            let tx = be_db.view(choice).expect("view");
            assert_eq!(check::check(&tx), vec![], "{name} {choice:?}");
            let le_tx = le_db.view(choice).expect("view");
            let below = |rows: Vec<pages::PageRow>| rows.into_iter().filter(|r| !r.above_hwm).collect::<Vec<_>>();
            assert_eq!(below(pages::list(&tx)), below(pages::list(&le_tx)), "{name}");
            assert_eq!(tx.freelist().expect("be"), le_tx.freelist().expect("le"));
        }
        assert_eq!(
            lib_dump(&be_db, MetaChoice::Current).expect("be").records,
            golden(&name)
        );
        // Lookups through the big-endian tree.
        let tx = be_db.view(MetaChoice::Current).expect("view");
        for r in golden_records(&name).iter().step_by(7) {
            let bucket = tx.bucket_at(&r.bucket).expect("lookup").expect("bucket");
            assert_eq!(bucket.get(&r.key).expect("get").map(<[u8]>::to_vec), r.value, "{name}");
        }
    }
}
