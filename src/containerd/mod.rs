//! containerd's on-disk encodings and schema.

pub mod blob_dirs;
pub mod blobs;
pub mod encoding;
pub mod file_order;
pub mod gotime;
pub mod records;
pub mod root;
pub mod schema;
