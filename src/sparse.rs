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

/// [`too_sparse_to_hash`] of an open file. What the disk holds of it (st_blocks) says first
/// whether it may be past the bound; where it may, its holes are counted (`SEEK_HOLE`): on a
/// compressing file system (ZFS, btrfs) a file of nothing but data holds fewer blocks than its
/// length, and is read as any other.
pub fn file_too_sparse(file: &std::fs::File, size: u64) -> Option<String> {
    // No file that short can have that many holes: no `fstat` for it.
    if size <= MAX_HASHED_HOLES {
        return None;
    }
    let held = file.metadata().map_or(size, |m| m.blocks().saturating_mul(512));
    holes_past_bound(size, held, || data_bytes(file, size))
}

/// Whether a file of `size` bytes with `held` bytes of blocks is past the bound, its data
/// counted (`count`) only when the blocks say it may be.
fn holes_past_bound(size: u64, held: u64, count: impl FnOnce() -> Option<u64>) -> Option<String> {
    too_sparse_to_hash(size, held)?;
    too_sparse_to_hash(size, count().unwrap_or(held))
}

/// How many of a file's first `size` bytes are data by `SEEK_DATA`/`SEEK_HOLE`; `None` where
/// the file system cannot say, or the file is cut into more than [`MAX_COUNTED_RUNS`] runs
/// (each run is a block of disk at least, so counting them all is reading the file's map).
fn data_bytes(file: &std::fs::File, size: u64) -> Option<u64> {
    let mut data = 0u64;
    for (i, run) in DataRuns::new(file, size).enumerate() {
        if i == MAX_COUNTED_RUNS {
            return None;
        }
        let (start, end) = run.ok()?;
        data = data.saturating_add(end - start);
    }
    Some(data)
}

/// The most data runs [`file_too_sparse`] counts before it takes st_blocks' word.
const MAX_COUNTED_RUNS: usize = 1 << 16;

/// The file system could not say where a file's data is (`lseek` failed, or answered
/// out of order): read it as all data.
#[derive(Debug, PartialEq, Eq)]
pub struct Unknown;

/// The runs of data `[start, end)` of an open file below `size`, in order, from `SEEK_DATA`
/// and `SEEK_HOLE` (a file system without them answers that everything is data). The
/// holes between them read as zeros and take no disk.
///
/// `lseek` moves the descriptor's offset, which the caller reads from next: it is put back
/// where it was when the runs are dropped (a review found every caller then reading from
/// the end of the last data run: a sound blob on ZFS read as cut short).
pub struct DataRuns<'a> {
    file: &'a std::fs::File,
    at: u64,
    size: u64,
    done: bool,
    /// The offset to put back (`None`: it could not be read, and nothing is moved).
    offset: Option<libc::off_t>,
}

impl<'a> DataRuns<'a> {
    pub fn new(file: &'a std::fs::File, size: u64) -> DataRuns<'a> {
        use std::os::fd::AsRawFd;
        // SAFETY: an open descriptor; SEEK_CUR with 0 only reads its offset.
        let offset = unsafe { libc::lseek(file.as_raw_fd(), 0, libc::SEEK_CUR) };
        DataRuns {
            file,
            at: 0,
            size,
            done: offset < 0,
            offset: (offset >= 0).then_some(offset),
        }
    }

    /// `lseek(at, whence)`; `Ok(None)` for ENXIO (no data at or after `at`).
    fn seek(&self, at: u64, whence: i32) -> Result<Option<u64>, Unknown> {
        use std::os::fd::AsRawFd;
        let at = libc::off_t::try_from(at).map_err(|_| Unknown)?;
        // SAFETY: an open descriptor; lseek only moves its offset.
        let got = unsafe { libc::lseek(self.file.as_raw_fd(), at, whence) };
        if got < 0 {
            return match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::ENXIO) => Ok(None),
                _ => Err(Unknown),
            };
        }
        u64::try_from(got).map(Some).map_err(|_| Unknown)
    }

    fn step(&mut self) -> Result<Option<(u64, u64)>, Unknown> {
        let Some(start) = self.seek(self.at, libc::SEEK_DATA)? else {
            return Ok(None);
        };
        if start >= self.size {
            return Ok(None);
        }
        // Past the start of data there is always a hole: at the end of the file at least.
        let end = self.seek(start, libc::SEEK_HOLE)?.ok_or(Unknown)?.min(self.size);
        if end <= start {
            return Err(Unknown);
        }
        self.at = end;
        Ok(Some((start, end)))
    }
}

impl Drop for DataRuns<'_> {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        if let Some(offset) = self.offset {
            // SAFETY: an open descriptor; lseek only moves its offset.
            unsafe { libc::lseek(self.file.as_raw_fd(), offset, libc::SEEK_SET) };
        }
    }
}

impl Iterator for DataRuns<'_> {
    type Item = Result<(u64, u64), Unknown>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.at >= self.size {
            return None;
        }
        let step = self.step();
        // One answer out of order and nothing after it is believed.
        if !matches!(step, Ok(Some(_))) {
            self.done = true;
        }
        step.transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::{DataRuns, MAX_HASHED_HOLES, data_bytes, file_too_sparse, holes_past_bound};
    use std::io::{Seek, SeekFrom, Write};

    /// Data at 1 MiB and 5 MiB of an 8 MiB file: two runs (a block each at least), the
    /// rest holes; an empty file has none.
    #[test]
    fn runs_of_data_and_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("holes");
        let mut f = std::fs::File::create(&path).unwrap();
        for at in [1u64 << 20, 5 << 20] {
            f.seek(SeekFrom::Start(at)).unwrap();
            f.write_all(b"data").unwrap();
        }
        f.set_len(8 << 20).unwrap();
        let f = std::fs::File::open(&path).unwrap();
        let runs: Vec<_> = DataRuns::new(&f, 8 << 20).collect::<Result<_, _>>().unwrap();
        // A file system that keeps no holes answers one run of everything.
        if runs != [(0, 8 << 20)] {
            assert_eq!(runs.len(), 2, "{runs:?}");
            assert!(runs[0].0 <= 1 << 20 && runs[0].1 > 1 << 20, "{runs:?}");
            assert!(runs[1].0 <= 5 << 20 && runs[1].1 > 5 << 20, "{runs:?}");
            assert!(data_bytes(&f, 8 << 20).unwrap() < 8 << 20);
        }
        // Runs stop at the size asked for.
        let first: Vec<_> = DataRuns::new(&f, 2 << 20).collect::<Result<_, _>>().unwrap();
        assert!(first.iter().all(|&(_, end)| end <= 2 << 20), "{first:?}");
        let empty = std::fs::File::create(dir.path().join("empty")).unwrap();
        assert_eq!(DataRuns::new(&empty, 0).count(), 0);
        // The offset is where it was: the caller's read starts there, not at a run's end.
        use std::io::Read;
        let mut f = std::fs::File::open(&path).unwrap();
        f.seek(SeekFrom::Start(3)).unwrap();
        assert!(DataRuns::new(&f, 8 << 20).count() >= 1);
        assert!(data_bytes(&f, 8 << 20).is_some());
        assert_eq!(f.stream_position().unwrap(), 3);
        let mut head = [1u8; 4];
        f.read_exact(&mut head).unwrap();
        assert_eq!(head, [0; 4]);
    }

    /// A file whose length is past the bound in holes is too sparse; one with data (the
    /// same length) is not, whatever st_blocks says.
    #[test]
    fn holes_are_counted_not_guessed() {
        let dir = tempfile::tempdir().unwrap();
        let len = MAX_HASHED_HOLES + (1 << 20);
        let path = dir.path().join("sparse");
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(len).unwrap();
        let f = std::fs::File::open(&path).unwrap();
        assert!(file_too_sparse(&f, len).is_some());
    }

    /// Few blocks (a compressed file) but every byte data by its runs: read. Few blocks and
    /// runs that cannot be counted: st_blocks decides. Enough blocks: runs not asked.
    #[test]
    fn blocks_only_ask_and_runs_decide() {
        let len = MAX_HASHED_HOLES * 3;
        assert!(holes_past_bound(len, len / 4, || Some(len)).is_none());
        assert!(holes_past_bound(len, len / 4, || Some(len / 4)).is_some());
        assert!(holes_past_bound(len, len / 4, || None).is_some());
        assert!(holes_past_bound(len, len, || panic!("counted")).is_none());
    }
}
