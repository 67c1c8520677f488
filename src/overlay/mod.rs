//! Snapshot chains and overlay filesystems, read from the snapshotter's directories alone:
//! no mount, no daemon, nothing followed out of a layer.
//!
//! ```text
//! snapshots   the chains: meta.db keys ⇄ snapshotter records ⇄ snapshots/<id>/fs
//! target      what a command line names (snapshot key, container ID/name/prefix)
//! mounts      containerd's mount line for a snapshot, and a read-only one
//! overlay2    a Docker container's layers on dockerd's overlay2 graph driver, and its mount
//! merge       the merged view of a layer stack (whiteouts, opaque dirs, symlinks inside)
//! blobs       an image's merged tree from its layer blobs (snapshots gone)
//! diff        docker diff: the merged tree against the merged lowers
//! export      the merged tree as a tar stream
//! images      the snapshot key (chain ID) each image unpacks to
//! layertar    a streaming reader of layer tars (ustar, PAX, GNU long names and sparse files)
//! xattr       extended attributes without following symlinks
//! ```

pub mod beneath;
pub mod blobs;
pub mod diff;
pub mod export;
pub mod images;
pub mod layertar;
pub mod merge;
pub mod mounts;
pub mod overlay2;
pub mod snapshots;
pub mod target;
pub mod xattr;
