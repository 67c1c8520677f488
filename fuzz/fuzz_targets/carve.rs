//! Arbitrary bytes as a meta.db to carve: every page that parses as a node, records rebuilt
//! and named through whatever links survive (see `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldctr_fuzz::carve(data));
