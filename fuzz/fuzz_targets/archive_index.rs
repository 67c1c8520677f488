//! Arbitrary bytes as an image archive (a tar, maybe gzip- or zstd-compressed): indexed once
//! streamed (`index_reader`) and once in place (`index_at`, as `index_file` reads a file),
//! which must agree; then every member is read, whole and streamed, and every link resolved.
//! `tests/tar_index.rs` runs the same checks (`src/harness.rs`) on `fixtures/fuzz/archive_index/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldctr_fuzz::archive_index(data));
