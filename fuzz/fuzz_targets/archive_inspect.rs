//! Arbitrary bytes as an image archive file (docker-archive or OCI archive, plain or
//! compressed), opened as `coldctr --root <file>` opens it and inspected image by image (see
//! `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    coldctr_fuzz::archive_inspect(data);
});
