//! dockerd's graph-driver image store (repositories.json, imagedb configs with their parent
//! and lastUpdated files, layerdb chains) written to disk per input and read as `inspect`,
//! `history` and `images` read it (see `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    coldctr_fuzz::graph_images(data);
});
