//! Files whose length the disk does not hold: a sparse file (or a tar member's sparse map) can
//! claim terabytes in no blocks at all, and hashing or copying its holes is hours of zeros
//! (`truncate -s 15T`). Past a bound such a file is not hashed or copied, and that is said.

use std::os::unix::fs::MetadataExt;

/// The most bytes of holes one file's bytes are hashed or copied with: 4 GiB is a few
/// seconds of hashing, where 15 TiB of zeros is some three hours.
pub const MAX_HASHED_HOLES: u64 = 4 << 30;

/// Why a file of `size` bytes of which only `data` are held is not hashed, when its holes are
/// past [`MAX_HASHED_HOLES`].
pub fn too_sparse_to_hash(size: u64, data: u64) -> Option<String> {
    let holes = size.saturating_sub(data);
    (holes > MAX_HASHED_HOLES).then(|| {
        format!(
            "{size} bytes long, {holes} of them holes (sparse): past {} GiB of holes, not read",
            MAX_HASHED_HOLES >> 30
        )
    })
}

/// [`too_sparse_to_hash`] of an open file, from what the disk holds of it (st_blocks; a small
/// file stored inline has none, and is far below the bound).
pub fn file_too_sparse(file: &std::fs::File, size: u64) -> Option<String> {
    // No file that short can have that many holes: no `fstat` for it.
    if size <= MAX_HASHED_HOLES {
        return None;
    }
    let held = file.metadata().map_or(size, |m| m.blocks().saturating_mul(512));
    too_sparse_to_hash(size, held)
}
