//! Arbitrary bytes through the layer-tar reader `fs export --from-blobs` uses (see
//! `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldctr_fuzz::layer_tar(data));
