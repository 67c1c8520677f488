//! A minimal, deterministic ustar writer: the only tar coldctr writes is an image layout.
//!
//! ```text
//! offset size field            what we write
//!      0  100 name             the member name (at most 100 bytes: `blobs/sha256/<64 hex>` is 77)
//!    100    8 mode             0000644 (files) or 0000755 (directories), octal, NUL-terminated
//!    108    8 uid, 116 8 gid   0
//!    124   12 size             octal (11 digits); base-256 (GNU) above 8 GiB - 1
//!    136   12 mtime            0
//!    148    8 chksum           sum of the header's bytes with this field as spaces
//!    156    1 typeflag         '0' file, '5' directory
//!    157  100 linkname         empty
//!    257    6 magic            "ustar\0", then version "00"
//!    265   32 uname, 297 32 gname   empty
//!    329    8 devmajor, 337 8 devminor   0
//!    345  155 prefix           empty
//! ```
//!
//! Data follows each header, padded with zeros to 512 bytes; two zero blocks end the archive.

use std::io::{self, Write};

pub const BLOCK: usize = 512;

const NAME: usize = 0;
const MODE: usize = 100;
const UID: usize = 108;
const GID: usize = 116;
const SIZE: usize = 124;
const MTIME: usize = 136;
const CHKSUM: usize = 148;
const TYPEFLAG: usize = 156;
const MAGIC: usize = 257;
const VERSION: usize = 263;
const DEVMAJOR: usize = 329;
const DEVMINOR: usize = 337;

/// What a member is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
}

/// Copies `bytes` into `h` at `at`; the offsets above are constants inside the block, so
/// this never fails for them, and an out-of-range write is dropped rather than panicking.
fn put(h: &mut [u8; BLOCK], at: usize, bytes: &[u8]) {
    if let Some(dst) = h.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

/// `width - 1` octal digits and a NUL, as ustar numbers are written.
fn octal(value: u64, width: usize) -> Vec<u8> {
    let mut s = format!("{value:0w$o}", w = width - 1).into_bytes();
    s.push(0);
    s
}

/// One member's 512-byte header. Names longer than 100 bytes are refused: every name we
/// write is short, and a long one would need the prefix split or a PAX header.
pub fn header(name: &str, kind: Kind, size: u64) -> io::Result<[u8; BLOCK]> {
    if name.len() > 100 || name.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("tar member name {name:?} does not fit a ustar header"),
        ));
    }
    let mut h = [0u8; BLOCK];
    put(&mut h, NAME, name.as_bytes());
    put(&mut h, MODE, &octal(if kind == Kind::Dir { 0o755 } else { 0o644 }, 8));
    put(&mut h, UID, &octal(0, 8));
    put(&mut h, GID, &octal(0, 8));
    if size < 1 << 33 {
        put(&mut h, SIZE, &octal(size, 12));
    } else {
        // GNU base-256: the high bit of the first byte set, the value big-endian after it.
        let mut field = [0u8; 12];
        let be = size.to_be_bytes();
        put_slice(&mut field, 4, &be);
        if let Some(first) = field.first_mut() {
            *first = 0x80;
        }
        put(&mut h, SIZE, &field);
    }
    put(&mut h, MTIME, &octal(0, 12));
    put(&mut h, TYPEFLAG, if kind == Kind::Dir { b"5" } else { b"0" });
    put(&mut h, MAGIC, b"ustar\0");
    put(&mut h, VERSION, b"00");
    put(&mut h, DEVMAJOR, &octal(0, 8));
    put(&mut h, DEVMINOR, &octal(0, 8));
    put(&mut h, CHKSUM, b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    // Six octal digits, NUL, space: what GNU tar and Go's archive/tar write.
    let mut c = format!("{sum:06o}").into_bytes();
    c.push(0);
    c.push(b' ');
    put(&mut h, CHKSUM, &c);
    Ok(h)
}

fn put_slice(field: &mut [u8; 12], at: usize, bytes: &[u8]) {
    if let Some(dst) = field.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

/// Zeros that pad `size` bytes of data to a whole block.
pub fn padding(size: u64) -> usize {
    let rem = (size % BLOCK as u64) as usize;
    if rem == 0 { 0 } else { BLOCK - rem }
}

/// Writes the zero padding after `size` bytes of member data.
pub fn pad(out: &mut dyn Write, size: u64) -> io::Result<()> {
    out.write_all([0u8; BLOCK].get(..padding(size)).unwrap_or_default())
}

/// The end of an archive: two zero blocks.
pub fn finish(out: &mut dyn Write) -> io::Result<()> {
    out.write_all(&[0u8; 2 * BLOCK])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_and_checksum() {
        let h = header("blobs/sha256/", Kind::Dir, 0).unwrap();
        assert_eq!(&h[..13], b"blobs/sha256/");
        assert_eq!(&h[100..108], b"0000755\0");
        assert_eq!(&h[124..136], b"00000000000\0");
        assert_eq!(h[156], b'5');
        assert_eq!(&h[257..265], b"ustar\x0000");
        // The checksum is the sum with the field as spaces.
        let mut copy = h;
        copy[148..156].copy_from_slice(b"        ");
        let sum: u32 = copy.iter().map(|&b| u32::from(b)).sum();
        let field = std::str::from_utf8(&h[148..154]).unwrap();
        assert_eq!(u32::from_str_radix(field, 8).unwrap(), sum);
        let f = header("index.json", Kind::File, 1234).unwrap();
        assert_eq!(&f[124..136], b"00000002322\0");
        assert_eq!(&f[100..108], b"0000644\0");
        assert!(header(&"x".repeat(101), Kind::File, 0).is_err());
        let big = header("big", Kind::File, 1 << 34).unwrap();
        assert_eq!(big[124], 0x80);
        assert_eq!(&big[128..136], &(1u64 << 34).to_be_bytes());
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(512), 0);
    }
}
