//! Arbitrary bytes as a `--format` template, parsed and executed on a fixed image inspect body
//! (see `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldctr_fuzz::template(data));
