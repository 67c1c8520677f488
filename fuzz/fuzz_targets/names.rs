//! Arbitrary text through the parsers of references, platforms, digests and `--filter`, and
//! the record-name escape's round trip (see `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldctr_fuzz::names(data));
