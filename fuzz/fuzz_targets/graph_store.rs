//! A graph driver's layer store (a container's mount-id, lower file and l/ links) and image
//! store (configs and parent files), cut at `\0\0` and written to disk (see `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    coldctr_fuzz::graph_store(data);
});
