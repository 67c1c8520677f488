//! Arbitrary bytes as a bbolt file: open, walk, check, list pages and look keys up through both
//! meta pages (see `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldctr_fuzz::bolt_walk(data));
