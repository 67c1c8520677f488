//! The one place that slices untrusted bytes.
//!
//! Every parser in coldctr reads through [`Bytes`]: each accessor returns `None` when the
//! requested range falls outside the slice, so a number read from a damaged file can never
//! index past the end. Callers turn `None` into an error that names the file, page and offset.
//! Offsets and lengths are combined with checked arithmetic only.

/// Byte order of a bbolt file: the native order of the machine that wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

/// A bounds-checked view of untrusted bytes.
#[derive(Clone, Copy, Debug)]
pub struct Bytes<'a> {
    data: &'a [u8],
    endian: Endian,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8], endian: Endian) -> Self {
        Bytes { data, endian }
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn as_slice(&self) -> &'a [u8] {
        self.data
    }

    /// `len` bytes at `off`, or `None` when any of them is outside.
    pub fn slice(&self, off: usize, len: usize) -> Option<&'a [u8]> {
        let end = off.checked_add(len)?;
        self.data.get(off..end)
    }

    /// A sub-view of `len` bytes at `off`.
    pub fn sub(&self, off: usize, len: usize) -> Option<Bytes<'a>> {
        Some(Bytes::new(self.slice(off, len)?, self.endian))
    }

    fn array<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        self.slice(off, N)?.try_into().ok()
    }

    pub fn u16_at(&self, off: usize) -> Option<u16> {
        let a = self.array(off)?;
        Some(match self.endian {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        })
    }

    pub fn u32_at(&self, off: usize) -> Option<u32> {
        let a = self.array(off)?;
        Some(match self.endian {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        })
    }

    pub fn u64_at(&self, off: usize) -> Option<u64> {
        let a = self.array(off)?;
        Some(match self.endian {
            Endian::Little => u64::from_le_bytes(a),
            Endian::Big => u64::from_be_bytes(a),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_at_the_end() {
        let b = Bytes::new(&[1, 0, 0, 0, 0, 0, 0, 0, 9], Endian::Little);
        assert_eq!(b.u64_at(0), Some(1));
        assert_eq!(b.u64_at(2), None);
        assert_eq!(b.u16_at(8), None);
        assert_eq!(b.slice(usize::MAX, 2), None);
        assert_eq!(b.slice(9, 0), Some(&[][..]));
        let be = Bytes::new(&[0, 1], Endian::Big);
        assert_eq!(be.u16_at(0), Some(1));
    }
}
