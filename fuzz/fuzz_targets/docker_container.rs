//! A Docker container's config.v2.json, hostconfig.json, repositories.json and json-file log, cut at `\0\0`,
//! through the store reader, `container inspect` and the `ps` row (see `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldctr_fuzz::docker_container(data));
