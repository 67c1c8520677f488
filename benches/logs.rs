//! Reading a json-file log: 20,000 entries of the shape dockerd writes, in memory, decoded as
//! `logs` decodes them (`read_json_values`) with whole lines parsed at once (`by_line`) and
//! with every value walked byte by byte first, as Go's `json.Decoder` finds it; and the same
//! log as empty objects, the cheapest entry a hostile file can repeat.
//!
//! `cargo bench --bench logs`. Whole-process numbers on a 138 MB log are in
//! `benches/RESULTS.md`.

use coldctr::containers::logs::read_json_bytes;

fn main() {
    divan::main();
}

const ENTRIES: usize = 20_000;

fn dockerd_log() -> Vec<u8> {
    let mut log = Vec::new();
    for i in 0..ENTRIES {
        let stream = if i % 5 == 0 { "stderr" } else { "stdout" };
        log.extend_from_slice(
            format!(
                "{{\"log\":\"line {i:07} of the log, some text to make it longer\\n\",\"stream\":\"{stream}\",\"time\":\"2026-12-05T09:33:16.{i:09}Z\"}}\n"
            )
            .as_bytes(),
        );
    }
    log
}

fn empty_objects() -> Vec<u8> {
    b"{}\n".repeat(ENTRIES)
}

/// The bytes of the entries read, so the work is not optimised away.
fn read(log: &[u8], by_line: bool) -> usize {
    let (entries, _) = read_json_bytes(log, 64 << 10, by_line);
    entries.iter().map(|e| e.line.len()).sum()
}

#[divan::bench(args = [true, false])]
fn dockerd_entries(bencher: divan::Bencher, by_line: bool) {
    let log = dockerd_log();
    bencher
        .counter(divan::counter::BytesCount::new(log.len()))
        .bench(|| read(divan::black_box(&log), by_line));
}

#[divan::bench(args = [true, false])]
fn empty_entries(bencher: divan::Bencher, by_line: bool) {
    let log = empty_objects();
    bencher
        .counter(divan::counter::BytesCount::new(log.len()))
        .bench(|| read(divan::black_box(&log), by_line));
}
