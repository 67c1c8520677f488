//! A `local` log driver file (and dual logging's cache): framed protobuf records through the
//! reader `coldctr logs` uses, and the same bytes as a `--since`/`--until` value (see
//! `src/harness.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldctr_fuzz::local_log(data));
