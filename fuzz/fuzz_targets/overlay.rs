//! Layer stacks built from the input through `diff`, the tar export and path resolution (see
//! `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldctr_fuzz::overlay(data));
