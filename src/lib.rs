//! coldctr reads a node's container state straight from disk, with no daemon running:
//! containerd's bbolt metadata DB, the snapshotters' `metadata.db`, and the content store.
//!
//! Everything is opened read-only and never locked, so it works on a seized disk image
//! mounted read-only, on a copy of `meta.db`, and beside a live containerd holding its lock.
//! Every byte read is untrusted: damage becomes an error that says where, never a panic.

// Every byte read is untrusted: no panic on it. Outside tests, a panic, an unwrap or an
// unchecked index or slice is refused; each remaining site says why it cannot fail.
#![deny(
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]
#![cfg_attr(
    test,
    allow(
        clippy::print_stderr,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::string_slice
    )
)]

pub mod bolt;
pub mod bytes;
pub mod cli;
pub mod containerd;
pub mod containers;
pub mod damage;
pub mod digest;
pub mod du;
pub mod export;
pub mod gc;
pub mod gostring;
pub mod image;
pub mod inspect;
pub mod meta_diff;
pub mod noatime;
pub mod overlay;
pub mod paths;
pub mod pipeline;
pub mod recover;
pub mod short_copy;
pub mod sigbus;
pub mod source;
pub mod sparse;
pub mod template;
pub mod text;
pub mod tree_usage;
pub mod verify;
