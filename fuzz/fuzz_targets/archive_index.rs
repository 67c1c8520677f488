//! Arbitrary bytes as an image archive (a tar, maybe gzip- or zstd-compressed): indexed once
//! streamed (`index_reader`) and once in place (`index_at`, as `index_file` reads a file),
//! which must agree; then every member is read, whole and streamed, and every link resolved.
//! `tests/tar_index.rs` (`replay`) runs the same checks on `fixtures/fuzz/archive_index/`.
#![no_main]

use coldctr::source::tar::{Compression, index_at, index_reader, open_member, read_member};
use std::io::Read;

/// `data` with the checksum of every block that has a ustar magic recomputed, `None` when
/// nothing changes: a mutated header almost never keeps a valid checksum, so without this
/// the fuzzer would hardly get past the first header it touches.
fn reseal(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = data.to_vec();
    for block in out.chunks_exact_mut(512) {
        if block.get(257..262) != Some(b"ustar".as_slice()) {
            continue;
        }
        block.get_mut(148..156)?.fill(b' ');
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
        block
            .get_mut(148..156)?
            .copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    }
    (out != data).then_some(out)
}

fn check(data: &[u8]) {
    check_one(data);
    if let Some(resealed) = reseal(data) {
        check_one(&resealed);
    }
}

fn check_one(data: &[u8]) {
    // In memory there is no I/O error: damage must come back as problems, never as Err.
    let streamed = index_reader(data).expect("index_reader on bytes");
    let placed = index_at(data).expect("index_at on bytes");
    assert_eq!(streamed.members, placed.members);
    assert_eq!(streamed.problems, placed.problems);
    assert_eq!(streamed.compression, placed.compression);
    let mut last_end = 0;
    for m in &placed.members {
        // Every member's data follows its own header, after the previous member's data.
        assert!(m.offset >= m.header_offset + 512 && m.header_offset >= last_end);
        assert_eq!(m.offset % 512, 0);
        last_end = m.offset + m.size;
        if placed.compression == Compression::None {
            assert!(last_end <= data.len() as u64);
        }
        if let Ok(mut r) = open_member(data, &placed, m) {
            let _ = std::io::copy(&mut r.by_ref().take(1 << 20), &mut std::io::sink());
        }
        if let Ok(whole) = read_member(data, &placed, m, 1 << 20) {
            assert_eq!(whole.len() as u64, m.size);
        }
        let _ = placed.resolve(&m.name, 16);
        let _ = placed.get(&m.name);
    }
    for (_, name, problem) in &placed.problems {
        let _ = (name.len(), problem.to_string());
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| check(data));
