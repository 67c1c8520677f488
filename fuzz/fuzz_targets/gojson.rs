//! Bytes through the order-keeping JSON reader; what reads must round-trip (see
//! `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldctr_fuzz::gojson(data));
