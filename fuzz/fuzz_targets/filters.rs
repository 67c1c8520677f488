//! Arbitrary text as containerd filters of every listing and as Go regexps (see
//! `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldctr_fuzz::filters(data));
