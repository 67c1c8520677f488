//! A CRI status file, metadata extensions and spec, cut at `\0\0`, through the CRI view,
//! `container inspect --containerd` and the `ps` row (see `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldctr_fuzz::cri_status(data));
