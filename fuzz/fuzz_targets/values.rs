//! Arbitrary bytes through containerd's value decoders and the text escaper (see
//! `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldctr_fuzz::values(data));
