//! coldctr reads a node's container state straight from disk, with no daemon running:
//! containerd's bbolt metadata DB, the snapshotters' `metadata.db`, and the content store.
//!
//! Everything is opened read-only and never locked, so it works on a seized disk image
//! mounted read-only, on a copy of `meta.db`, and beside a live containerd holding its lock.
//! Every byte read is untrusted: damage becomes an error that says where, never a panic.

pub mod bolt;
pub mod bytes;
pub mod cli;
pub mod containerd;
pub mod digest;
pub mod du;
pub mod gc;
pub mod image;
pub mod inspect;
pub mod template;
pub mod text;
pub mod verify;
