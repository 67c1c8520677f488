//! Arbitrary bytes as an OCI layout written to disk and inspected image by image, as
//! `coldctr --root <layout> inspect` reads it (see `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    coldctr_fuzz::layout_inspect(data);
});
