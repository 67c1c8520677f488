//! Snapshot chains and overlay filesystems, read from the snapshotter's directories alone:
//! no mount, no daemon, nothing followed out of a layer.
//!
//! ```text
//! snapshots   the chains: meta.db keys ⇄ snapshotter records ⇄ snapshots/<id>/fs
//! target      what a command line names (snapshot key, container ID/name/prefix)
//! mounts      containerd's mount line for a snapshot, and a read-only one
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
pub mod snapshots;
pub mod target;
pub mod xattr;

/// The most bytes of holes `--hash` feeds to SHA-256 for one file. A sparse file (or a tar
/// member's sparse map) can claim terabytes the disk does not hold: 15 TiB of zeros is some
/// three hours of hashing, where 4 GiB is a few seconds.
pub const MAX_HASHED_HOLES: u64 = 4 << 30;

/// Why a regular file of `size` bytes of which only `data` are held is not hashed, when its
/// holes are past [`MAX_HASHED_HOLES`].
pub fn too_sparse_to_hash(size: u64, data: u64) -> Option<String> {
    let holes = size.saturating_sub(data);
    (holes > MAX_HASHED_HOLES).then(|| {
        format!(
            "{size} bytes long, {holes} of them holes (sparse): past {} GiB of holes, not hashed",
            MAX_HASHED_HOLES >> 30
        )
    })
}
