//! Arbitrary bytes as a meta.db whose salvage view is built: the records carved from every
//! page, rebuilt from their raw nodes into an in-memory bbolt file (see `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldctr_fuzz::salvage_view(data));
