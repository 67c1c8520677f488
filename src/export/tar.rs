//! A minimal, deterministic ustar writer: image layouts ([`header`]), and filesystem trees
//! ([`write_member`]: every file type, modes, owners, times, links, with a PAX extended header
//! for what ustar cannot hold: long or non-ASCII-safe long names, large ids and sizes, xattrs).
//!
//! ```text
//! offset size field            what we write
//!      0  100 name             the member name (`blobs/sha256/<64 hex>` is 77 bytes; a longer
//!                              one, sha512's, goes whole into a PAX `path` record before it)
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

/// One member's header: a 512-byte ustar block, after a PAX extended header holding the whole
/// name when it is longer than ustar's 100 bytes (`blobs/sha512/<128 hex>` is 141), as Go's
/// `archive/tar` writes one (the ustar name then cut to 100 bytes). An empty name, or one
/// holding a NUL, is refused.
pub fn header(name: &str, kind: Kind, size: u64) -> io::Result<Vec<u8>> {
    if name.is_empty() || name.contains('\0') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("tar member name {name:?} cannot be written"),
        ));
    }
    let mut out = Vec::with_capacity(BLOCK);
    let short = match name.as_bytes().get(..100) {
        Some(cut) if name.len() > 100 => {
            let mut records = Vec::new();
            pax_record(&mut records, b"path", name.as_bytes());
            out.extend_from_slice(&block(b"PaxHeaders.0/name", b'x', 0o644, records.len() as u64));
            let len = records.len() as u64;
            out.extend_from_slice(&records);
            out.resize(out.len() + padding(len), 0);
            cut
        }
        _ => name.as_bytes(),
    };
    let (typeflag, mode) = if kind == Kind::Dir {
        (b'5', 0o755)
    } else {
        (b'0', 0o644)
    };
    out.extend_from_slice(&block(short, typeflag, mode, size));
    Ok(out)
}

/// A ustar block: `name` (at most 100 bytes), owner 0, time 0, the checksum.
fn block(name: &[u8], typeflag: u8, mode: u64, size: u64) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    put(&mut h, NAME, name.get(..100).unwrap_or(name));
    put(&mut h, MODE, &octal(mode, 8));
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
    put(&mut h, TYPEFLAG, &[typeflag]);
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
    h
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

const LINKNAME: usize = 157;

/// A member of a filesystem tree.
pub struct Member<'a> {
    /// The path inside the archive, exact bytes (directories end with `/`).
    pub name: &'a [u8],
    /// ustar typeflag: `0` file, `1` hard link, `2` symlink, `3` char, `4` block, `5` dir,
    /// `6` fifo.
    pub typeflag: u8,
    /// Permission bits with setuid, setgid and sticky (07777).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Bytes of data that follow (regular files only).
    pub size: u64,
    pub mtime: i64,
    /// Symlink target or hard link name.
    pub link: &'a [u8],
    pub devmajor: u64,
    pub devminor: u64,
    /// Extended attributes, kept as `SCHILY.xattr.<name>` PAX records.
    pub xattrs: &'a [(Vec<u8>, Vec<u8>)],
    /// More PAX records, written as given (GNU sparse 1.0's `GNU.sparse.*`).
    pub extra: &'a [(Vec<u8>, Vec<u8>)],
}

/// One PAX record: `<len> <key>=<value>\n`, where len counts the whole record.
fn pax_record(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    let body = key.len() + value.len() + 3; // space, '=', newline
    let mut len = body + 1;
    while body + len.to_string().len() != len {
        len = body + len.to_string().len();
    }
    out.extend_from_slice(len.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// Largest value an octal field of `width` bytes holds (width - 1 digits).
fn octal_max(width: usize) -> u64 {
    (1u64 << (3 * (width as u32 - 1))) - 1
}

/// A ustar header block for `m`, with `name`/`link` already cut to what the fields hold.
fn member_block(m: &Member<'_>, name: &[u8], link: &[u8], typeflag: u8, size: u64) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    put(&mut h, NAME, name.get(..name.len().min(100)).unwrap_or_default());
    put(&mut h, MODE, &octal(u64::from(m.mode & 0o7777), 8));
    put(&mut h, UID, &octal(m.uid.min(octal_max(8)), 8));
    put(&mut h, GID, &octal(m.gid.min(octal_max(8)), 8));
    put(&mut h, SIZE, &octal(size.min(octal_max(12)), 12));
    let mtime = u64::try_from(m.mtime).unwrap_or(0).min(octal_max(12));
    put(&mut h, MTIME, &octal(mtime, 12));
    put(&mut h, TYPEFLAG, &[typeflag]);
    put(&mut h, LINKNAME, link.get(..link.len().min(100)).unwrap_or_default());
    put(&mut h, MAGIC, b"ustar\0");
    put(&mut h, VERSION, b"00");
    put(&mut h, DEVMAJOR, &octal(m.devmajor.min(octal_max(8)), 8));
    put(&mut h, DEVMINOR, &octal(m.devminor.min(octal_max(8)), 8));
    put(&mut h, CHKSUM, b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let mut c = format!("{sum:06o}").into_bytes();
    c.push(0);
    c.push(b' ');
    put(&mut h, CHKSUM, &c);
    h
}

/// Writes `m`'s header (a PAX extended header first when ustar cannot hold it). The caller
/// writes `m.size` bytes of data and [`pad`]s them.
pub fn write_member(out: &mut dyn Write, m: &Member<'_>) -> io::Result<()> {
    // A NUL ends a ustar field for every reader, and Go's reader refuses a PAX path, linkpath
    // or key holding one: a name "a\0b" would be read back as "a", another member than the
    // one written (a symlink's name, say, with files "below" it). Nothing with one goes out.
    let xattr_bad = m
        .xattrs
        .iter()
        .any(|(k, _)| k.is_empty() || k.contains(&0) || k.contains(&b'='));
    let extra_bad = m
        .extra
        .iter()
        .any(|(k, _)| k.is_empty() || k.contains(&0) || k.contains(&b'='));
    if m.name.contains(&0) || m.link.contains(&0) || xattr_bad || extra_bad {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "tar member {}: a name, link or extended attribute name holding a NUL (or an empty or '=' attribute name) cannot be written",
                crate::text::escape(m.name)
            ),
        ));
    }
    let mut pax = Vec::new();
    if m.name.len() > 100 {
        if std::str::from_utf8(m.name).is_err() {
            pax_record(&mut pax, b"hdrcharset", b"BINARY");
        }
        pax_record(&mut pax, b"path", m.name);
    }
    if m.link.len() > 100 {
        if std::str::from_utf8(m.link).is_err() && m.name.len() <= 100 {
            pax_record(&mut pax, b"hdrcharset", b"BINARY");
        }
        pax_record(&mut pax, b"linkpath", m.link);
    }
    if m.uid > octal_max(8) {
        pax_record(&mut pax, b"uid", m.uid.to_string().as_bytes());
    }
    if m.gid > octal_max(8) {
        pax_record(&mut pax, b"gid", m.gid.to_string().as_bytes());
    }
    if m.size > octal_max(12) {
        pax_record(&mut pax, b"size", m.size.to_string().as_bytes());
    }
    if m.mtime < 0 || u64::try_from(m.mtime).is_ok_and(|t| t > octal_max(12)) {
        pax_record(&mut pax, b"mtime", m.mtime.to_string().as_bytes());
    }
    for (k, v) in m.extra {
        pax_record(&mut pax, k, v);
    }
    for (k, v) in m.xattrs {
        let mut key = b"SCHILY.xattr.".to_vec();
        key.extend_from_slice(k);
        pax_record(&mut pax, &key, v);
    }
    if !pax.is_empty() {
        let mut pax_name = b"PaxHeaders/".to_vec();
        let base = m.name.rsplit(|&b| b == b'/').find(|c| !c.is_empty()).unwrap_or(b"x");
        pax_name.extend_from_slice(base.get(..base.len().min(80)).unwrap_or_default());
        let x = Member {
            name: &pax_name,
            typeflag: b'x',
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: pax.len() as u64,
            mtime: 0,
            link: b"",
            devmajor: 0,
            devminor: 0,
            xattrs: &[],
            extra: &[],
        };
        out.write_all(&member_block(&x, &pax_name, b"", b'x', pax.len() as u64))?;
        out.write_all(&pax)?;
        pad(out, pax.len() as u64)?;
    }
    out.write_all(&member_block(m, m.name, m.link, m.typeflag, m.size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records_count_their_own_length() {
        // Lengths around the points where the length's own digit count changes.
        for n in 0..300 {
            let mut out = Vec::new();
            let value = vec![b'v'; n];
            pax_record(&mut out, b"path", &value);
            let text = String::from_utf8(out.clone()).unwrap();
            let (len, _) = text.split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), out.len(), "{n}");
            assert!(out.ends_with(b"\n"));
        }
    }

    #[test]
    fn members_beyond_ustar_get_a_pax_header() {
        let long = vec![b'n'; 150];
        let xattrs = vec![(b"user.k".to_vec(), b"v\x00\xff".to_vec())];
        let m = Member {
            name: &long,
            typeflag: b'0',
            mode: 0o4755,
            uid: 1 << 30,
            gid: 7,
            size: 3,
            mtime: -1,
            link: b"",
            devmajor: 0,
            devminor: 0,
            xattrs: &xattrs,
            extra: &[],
        };
        let mut out = Vec::new();
        write_member(&mut out, &m).unwrap();
        assert_eq!(out.len() % BLOCK, 0);
        assert_eq!(out[156], b'x');
        let pax = String::from_utf8_lossy(&out[BLOCK..2 * BLOCK]).into_owned();
        for want in ["path=nnn", "uid=1073741824", "mtime=-1", "SCHILY.xattr.user.k=v"] {
            assert!(pax.contains(want), "{want} in {pax:?}");
        }
        let h = &out[out.len() - BLOCK..];
        assert_eq!(h[156], b'0');
        assert_eq!(&h[100..108], b"0004755\0");
        assert_eq!(&h[116..124], b"0000007\0");
        // Fits ustar: no PAX header at all.
        let short = Member {
            name: b"a",
            uid: 0,
            mtime: 5,
            xattrs: &[],
            ..m
        };
        let mut out = Vec::new();
        write_member(&mut out, &short).unwrap();
        assert_eq!(out.len(), BLOCK);
    }

    /// A name holding a NUL (sweep 4, #3) went into the ustar field as is and read back as the
    /// part before the NUL: refused, whichever field it is in, and nothing is written.
    #[test]
    fn a_nul_in_a_name_link_or_xattr_name_is_refused() {
        let xattrs = vec![(b"user.a\0b".to_vec(), b"v".to_vec())];
        let base = Member {
            name: b"ok",
            typeflag: b'2',
            mode: 0o777,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            link: b"target",
            devmajor: 0,
            devminor: 0,
            xattrs: &[],
            extra: &[],
        };
        let mut out = Vec::new();
        write_member(&mut out, &base).unwrap();
        let long = [vec![b'n'; 120], b"\0zz".to_vec()].concat();
        for m in [
            Member {
                name: b"lnk\0zz",
                ..base
            },
            Member { name: &long, ..base },
            Member {
                link: b"/outside\0x",
                ..base
            },
            Member {
                xattrs: &xattrs,
                ..base
            },
        ] {
            let mut out = Vec::new();
            let e = write_member(&mut out, &m).unwrap_err();
            assert!(e.to_string().contains("holding a NUL"), "{e}");
            assert!(out.is_empty());
        }
    }

    #[test]
    fn header_fields_and_checksum() {
        let h = header("blobs/sha256/", Kind::Dir, 0).unwrap();
        assert_eq!(&h[..13], b"blobs/sha256/");
        assert_eq!(&h[100..108], b"0000755\0");
        assert_eq!(&h[124..136], b"00000000000\0");
        assert_eq!(h[156], b'5');
        assert_eq!(&h[257..265], b"ustar\x0000");
        // The checksum is the sum with the field as spaces.
        let mut copy = h.clone();
        copy[148..156].copy_from_slice(b"        ");
        let sum: u32 = copy.iter().map(|&b| u32::from(b)).sum();
        let field = std::str::from_utf8(&h[148..154]).unwrap();
        assert_eq!(u32::from_str_radix(field, 8).unwrap(), sum);
        let f = header("index.json", Kind::File, 1234).unwrap();
        assert_eq!(&f[124..136], b"00000002322\0");
        assert_eq!(&f[100..108], b"0000644\0");
        assert!(header("", Kind::File, 0).is_err());
        // A name past 100 bytes: a PAX header with the whole name, then the ustar block.
        let name = format!("blobs/sha512/{}", "ab".repeat(64));
        let long = header(&name, Kind::File, 7).unwrap();
        assert_eq!(long.len(), 3 * BLOCK);
        assert_eq!(long[156], b'x');
        let record = format!("151 path={name}\n");
        assert_eq!(&long[BLOCK..BLOCK + record.len()], record.as_bytes());
        assert_eq!(&long[2 * BLOCK..2 * BLOCK + 100], &name.as_bytes()[..100]);
        assert_eq!(long[2 * BLOCK + 156], b'0');
        let big = header("big", Kind::File, 1 << 34).unwrap();
        assert_eq!(big[124], 0x80);
        assert_eq!(&big[128..136], &(1u64 << 34).to_be_bytes());
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(512), 0);
    }
}
