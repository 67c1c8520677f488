//! Arbitrary bytes as a containerd root's meta.db, loaded, collected and reported as
//! `coldctr gc` does it, the file-order read checked against a key-order walk (see
//! `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    coldctr_fuzz::gc_store(data);
});
