//! A streaming reader of layer tars (what an image layer blob holds once uncompressed).
//!
//! ```text
//! 512-byte header: name 0..100, mode 100, uid 108, gid 116, size 124 (octal, or base-256 with
//!                  the high bit set), mtime 136, chksum 148 (octal: the sum of the block's
//!                  bytes, this field as spaces, unsigned or signed), typeflag 156, linkname 157..257,
//!                  magic 257, devmajor 329, devminor 337, prefix 345..500 (ustar)
//! then the data, padded to 512; two zero blocks, or one then the end of the stream, end the
//! archive (one zero block followed by another header is an error, as Go's reader has it).
//! 'x' PAX records for the next member (path, linkpath, size, uid, gid, mtime, SCHILY.xattr.*;
//!     a record Go's reader refuses, such as a NUL in path or linkpath, is an error),
//! 'g' global records: a member of its own (as Go's reader returns it), applying to no other,
//! 'L'/'K' GNU long name/link for the next member (up to a NUL; winning over a PAX path or
//!     linkpath, as in Go's reader; an empty one is none).
//! ```
//!
//! Every size comes from the stream: metadata members (PAX, GNU long names) are read only up
//! to [`MAX_META`] bytes, data is never held in memory but skipped or streamed by the caller.

use std::io::{self, Read};

/// The largest PAX or GNU long-name member read into memory.
const MAX_META: u64 = 1 << 20;

/// One member of a layer tar.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    /// The path as the archive names it, without a leading `./` or `/` and trailing `/`.
    pub name: Vec<u8>,
    pub typeflag: u8,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub mtime: i64,
    pub link: Vec<u8>,
    pub devmajor: u64,
    pub devminor: u64,
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    /// Where the member's own header block starts in the uncompressed stream.
    pub offset: u64,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.typeflag == b'5'
    }
}

/// Reads members one after another; the caller reads or skips each one's data.
pub struct Reader<R: Read> {
    r: R,
    /// Data and padding of the current member not yet consumed.
    left: u64,
    pad: u64,
    done: bool,
    /// Bytes consumed from the stream so far: where a header starts, for errors.
    pos: u64,
}

fn field(h: &[u8; 512], at: usize, len: usize) -> &[u8] {
    let f = h.get(at..at + len).unwrap_or_default();
    let end = f.iter().position(|&b| b == 0).unwrap_or(f.len());
    f.get(..end).unwrap_or_default()
}

/// A numeric header field as Go's `archive/tar` reads it (`parser.parseNumeric`): GNU
/// base-256 (the first byte's top bit set: a big-endian two's complement number, negative
/// when the next bit is set too), refused past an int64; else [`octal`]. `None` where Go's
/// reader sets `ErrHeader`.
pub(crate) fn numeric(raw: &[u8]) -> Option<i64> {
    let first = *raw.first()?;
    if first & 0x80 == 0 {
        return i64::try_from(octal(raw)?).ok();
    }
    let inv = if first & 0x40 != 0 { 0xff } else { 0 };
    let mut x: u64 = 0;
    for (i, &b) in raw.iter().enumerate() {
        let mut c = b ^ inv;
        if i == 0 {
            c &= 0x7f;
        }
        if x >> 56 > 0 {
            return None;
        }
        x = x << 8 | u64::from(c);
    }
    if x >> 63 > 0 {
        return None;
    }
    let v = i64::try_from(x).ok()?;
    Some(if inv == 0xff { !v } else { v })
}

/// An octal field as Go's `parser.parseOctal` reads it: spaces and NULs trimmed from both
/// ends, an empty field 0, the rest cut at a NUL, then only octal digits (no sign, no space
/// inside) that fit in 64 bits.
pub(crate) fn octal(raw: &[u8]) -> Option<u64> {
    let pad = |b: &u8| *b == b' ' || *b == 0;
    let start = raw.iter().position(|b| !pad(b)).unwrap_or(raw.len());
    let end = raw.iter().rposition(|b| !pad(b)).map_or(start, |i| i + 1);
    let text = raw.get(start..end.max(start)).unwrap_or_default();
    if text.is_empty() {
        return Some(0);
    }
    let text = text
        .get(..text.iter().position(|&b| b == 0).unwrap_or(text.len()))
        .unwrap_or_default();
    if text.is_empty() || !text.iter().all(|b| (b'0'..=b'7').contains(b)) {
        return None;
    }
    text.iter()
        .try_fold(0u64, |v, &b| v.checked_mul(8)?.checked_add(u64::from(b - b'0')))
}

/// The numeric fields of a header block Go's `Reader.readHeader` parses, as (name, offset,
/// length): all of a V7 header's; the device numbers of a ustar or GNU one (magic
/// `ustar\0`, or `ustar ` with version ` \0`); the times of a star one (ustar with the
/// trailer `tar\0`). A GNU header's times are parsed apart, their errors ignored.
pub(crate) fn numeric_fields(h: &[u8; 512]) -> Vec<(&'static str, usize, usize)> {
    let mut out = vec![
        ("size", 124, 12),
        ("mode", 100, 8),
        ("uid", 108, 8),
        ("gid", 116, 8),
        ("mtime", 136, 12),
    ];
    let magic = h.get(257..263).unwrap_or_default();
    let ustar = magic == b"ustar\0";
    let gnu = magic == b"ustar " && h.get(263..265) == Some(b" \0");
    if ustar || gnu {
        out.extend([("devmajor", 329, 8), ("devminor", 337, 8)]);
    }
    if ustar && h.get(508..512) == Some(b"tar\0") {
        out.extend([("atime", 476, 12), ("ctime", 488, 12)]);
    }
    out
}

/// A header field's value: `None` where Go's reader refuses it.
fn number(h: &[u8; 512], at: usize, len: usize) -> Option<i64> {
    numeric(h.get(at..at + len)?)
}

/// Whether the header's checksum is right as Go's `block.getFormat` checks it: the stored
/// octal number is the sum of the block's bytes (the checksum field counted as spaces), taken
/// unsigned or signed (`int8`, as some old tars wrote it): either is accepted.
fn checksum_ok(h: &[u8; 512]) -> bool {
    let Some(stored) = h.get(148..156).and_then(octal) else {
        return false;
    };
    let (mut unsigned, mut signed) = (0i64, 0i64);
    for (i, &b) in h.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += i64::from(b);
        signed += i64::from(b as i8);
    }
    i64::try_from(stored).is_ok_and(|s| s == unsigned || s == signed)
}

/// `./a/b/` → `a/b`; `None` for the root itself or a path with a `..` component.
pub fn clean(name: &[u8]) -> Option<Vec<u8>> {
    let parts: Vec<&[u8]> = name
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    if parts.is_empty() || parts.contains(&b"..".as_slice()) {
        return None;
    }
    Some(parts.join(&b'/'))
}

/// The name a header gives: its name field, after its ustar prefix and a `/` when it has one.
fn header_name(h: &[u8; 512]) -> Vec<u8> {
    let name = field(h, 0, 100);
    let prefix = field(h, 345, 155);
    if field(h, 257, 6) != b"ustar" || prefix.is_empty() {
        return name.to_vec();
    }
    [prefix, b"/", name].concat()
}

/// A member's data and its padding, or an error when a size from the file (a PAX `size`, a
/// base-256 field) runs past what can be counted: no sum wraps to a small skip.
fn padded(size: u64, pad: u64) -> io::Result<u64> {
    size.checked_add(pad)
        .ok_or_else(|| io::Error::other(format!("a tar member of {size} bytes: more than a tar can hold")))
}

impl<R: Read> Reader<R> {
    pub fn new(r: R) -> Self {
        Reader {
            r,
            left: 0,
            pad: 0,
            done: false,
            pos: 0,
        }
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        let skipped = io::copy(&mut (&mut self.r).take(n), &mut io::sink())?;
        self.pos += skipped;
        if skipped < n {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the layer tar ends inside a member",
            ));
        }
        Ok(())
    }

    /// The current member's data (up to its size); what is not read is skipped by `next`.
    pub fn data(&mut self) -> impl Read + '_ {
        ReadData { reader: self }
    }

    fn block(&mut self) -> io::Result<Option<[u8; 512]>> {
        let mut h = [0u8; 512];
        let mut got = 0;
        while got < 512 {
            let Some(rest) = h.get_mut(got..) else { break };
            match self.r.read(rest) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.pos += got as u64;
        match got {
            0 => Ok(None),
            512 => Ok(Some(h)),
            _ => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the layer tar ends inside a header",
            )),
        }
    }

    fn meta_body(&mut self, size: u64) -> io::Result<Vec<u8>> {
        if size > MAX_META {
            return Err(io::Error::other(format!(
                "a {size}-byte metadata member (more than {MAX_META})"
            )));
        }
        let mut body = Vec::new();
        (&mut self.r).take(size).read_to_end(&mut body)?;
        self.pos += body.len() as u64;
        if (body.len() as u64) < size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the layer tar ends inside a member",
            ));
        }
        self.skip(crate::export::tar::padding(size) as u64)?;
        Ok(body)
    }

    /// The next member, or `None` at the end.
    pub fn next_entry(&mut self) -> io::Result<Option<Entry>> {
        let (left, pad) = (self.left, self.pad);
        self.skip(padded(left, pad)?)?;
        self.left = 0;
        self.pad = 0;
        let mut pax: Vec<Record> = Vec::new();
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        loop {
            if self.done {
                return Ok(None);
            }
            let at = self.pos;
            let Some(h) = self.block()? else {
                self.done = true;
                return Ok(None);
            };
            if h.iter().all(|&b| b == 0) {
                // As Go's `readHeader`: a zero block, then the end of the stream or a second
                // zero block, ends the archive; a zero block then anything else is
                // `ErrHeader` (a part of a block: unexpected EOF, from `block`).
                self.done = true;
                let next = self.pos;
                return match self.block()? {
                    Some(b) if b.iter().any(|&c| c != 0) => Err(io::Error::other(format!(
                        "a zero block at offset {at}, then at offset {next} a block that is not one: a lone zero block does not end a tar ({LAYER_REFUSED})"
                    ))),
                    _ => Ok(None),
                };
            }
            if !checksum_ok(&h) {
                return Err(io::Error::other("a tar header whose checksum does not match"));
            }
            let typeflag = h.get(156).copied().unwrap_or(b'0');
            // As Go's `readHeader`: a numeric field it cannot read refuses the header,
            // whatever its type (a PAX or long-name header too).
            for (what, off, len) in numeric_fields(&h) {
                if number(&h, off, len).is_none() {
                    return Err(io::Error::other(format!(
                        "a tar header whose {what} field {} is not a number as Go reads one ({LAYER_REFUSED}), at offset {at}",
                        shown(h.get(off..off + len).unwrap_or_default())
                    )));
                }
            }
            // Go's reader refuses a negative size, but for a header-only type (which has no
            // data, whatever the field says).
            let size = number(&h, 124, 12).unwrap_or(0);
            let header_only = |t: u8| matches!(t, b'1'..=b'6');
            let Ok(size) = u64::try_from(size).or_else(|_| if header_only(typeflag) { Ok(0) } else { Err(()) }) else {
                return Err(io::Error::other(format!(
                    "a tar header whose size is negative ({LAYER_REFUSED}), at offset {at}"
                )));
            };
            match typeflag {
                b'x' => {
                    pax = parse_pax(&self.meta_body(size)?).map_err(|why| {
                        io::Error::other(format!("{why} ({LAYER_REFUSED}), in the PAX header at offset {at}"))
                    })?;
                    continue;
                }
                b'g' => {
                    // As Go's reader (`Reader.next`): the records are checked (a bad one
                    // refuses the layer), then the header is a member of its own, type 'g',
                    // named by its `path` record when that is not empty, else by its header;
                    // no size, link, owner or xattr, and the records apply to no other member.
                    // What an `x`, `L` or `K` before it said is lost with it. containerd's
                    // applier treats that name as any member's (see `blobs::place`).
                    let records = parse_pax(&self.meta_body(size)?).map_err(|why| {
                        io::Error::other(format!(
                            "{why} ({LAYER_REFUSED}), in the global PAX header at offset {at}"
                        ))
                    })?;
                    let path = records.into_iter().rev().find(|(k, _)| k == b"path").map(|(_, v)| v);
                    return Ok(Some(Entry {
                        name: path.filter(|p| !p.is_empty()).unwrap_or_else(|| header_name(&h)),
                        typeflag: b'g',
                        offset: at,
                        ..Entry::default()
                    }));
                }
                b'L' => {
                    let mut b = self.meta_body(size)?;
                    b.truncate(b.iter().position(|&c| c == 0).unwrap_or(b.len()));
                    long_name = Some(b);
                    continue;
                }
                b'K' => {
                    let mut b = self.meta_body(size)?;
                    b.truncate(b.iter().position(|&c| c == 0).unwrap_or(b.len()));
                    long_link = Some(b);
                    continue;
                }
                _ => {}
            }
            let name = header_name(&h);
            let mut e = Entry {
                name,
                typeflag: if typeflag == 0 { b'0' } else { typeflag },
                // Negative numbers (base-256) Go reads; the permission bits are the low
                // ones, as Go's `FileMode`; an owner or device below 0 is taken as 0.
                mode: number(&h, 100, 8).map_or(0, |m| u32::try_from(m & 0o7777).unwrap_or(0)),
                uid: number(&h, 108, 8).and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
                gid: number(&h, 116, 8).and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
                size,
                mtime: number(&h, 136, 12).unwrap_or(0),
                link: field(&h, 157, 100).to_vec(),
                devmajor: number(&h, 329, 8).and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
                devminor: number(&h, 337, 8).and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
                xattrs: Vec::new(),
                offset: at,
            };
            // As Go's `mergePAX`: the last record of a key is the one (a map), an empty
            // value keeps the header's own, and a number it cannot read refuses the member:
            // `uid`, `gid`, `size` (`strconv.ParseInt`), `mtime`, `atime`, `ctime`
            // (`parsePAXTime`). The records of a global header are not merged (see above).
            let mut last: std::collections::BTreeMap<Vec<u8>, Vec<u8>> = std::collections::BTreeMap::new();
            for (k, v) in &pax {
                last.insert(k.clone(), v.clone());
            }
            for (k, v) in &last {
                if v.is_empty() {
                    continue;
                }
                let ok = match k.as_slice() {
                    b"uid" | b"gid" | b"size" => pax_int(v).is_some(),
                    b"mtime" | b"atime" | b"ctime" => pax_time(v).is_some(),
                    _ => true,
                };
                if !ok {
                    return Err(io::Error::other(format!(
                        "a PAX {} record {} that is not a number as Go reads one ({LAYER_REFUSED}), for the member at offset {at}",
                        crate::text::escape(k),
                        shown(v)
                    )));
                }
            }
            let mut negative_size = None;
            for (k, v) in pax {
                if v.is_empty() {
                    continue;
                }
                match k.as_slice() {
                    b"path" => e.name = v,
                    b"linkpath" => e.link = v,
                    // Go takes any int64; what is below 0 keeps the header's own here (and
                    // a size below 0 refuses the member, but for a header-only type).
                    b"size" => match pax_int(&v).map(u64::try_from) {
                        Some(Ok(n)) => e.size = n,
                        _ => negative_size = Some(v),
                    },
                    b"uid" => e.uid = pax_int(&v).and_then(|n| u64::try_from(n).ok()).unwrap_or(e.uid),
                    b"gid" => e.gid = pax_int(&v).and_then(|n| u64::try_from(n).ok()).unwrap_or(e.gid),
                    b"mtime" => e.mtime = pax_time(&v).unwrap_or(e.mtime),
                    _ => {
                        if let Some(x) = k.strip_prefix(b"SCHILY.xattr.") {
                            e.xattrs.push((x.to_vec(), v));
                        }
                    }
                }
            }
            // As Go's `Reader.next`: a GNU long name or link ('L', 'K': up to their first NUL)
            // wins over the PAX path or linkpath, whichever came first; an empty one is none.
            if let Some(n) = long_name.take().filter(|n| !n.is_empty()) {
                e.name = n;
            }
            if let Some(l) = long_link.take().filter(|l| !l.is_empty()) {
                e.link = l;
            }
            // Old tars mark a directory with a trailing slash and type NUL (only NUL, as Go's
            // reader: a '0' member "d/" is a file with data, which containerd writes as "d").
            if typeflag == 0 && e.name.ends_with(b"/") {
                e.typeflag = b'5';
            }
            if let Some(v) = negative_size.filter(|_| !header_only(e.typeflag)) {
                return Err(io::Error::other(format!(
                    "a PAX size record {} below 0 ({LAYER_REFUSED}), for the member at offset {at}",
                    shown(&v)
                )));
            }
            // As Go's reader (`isHeaderOnlyType`): links, devices, directories and FIFOs are
            // header only, whatever their size says; every other type ('0', '7', 'S', 'V',
            // 'D', unknown ones) is followed by `size` bytes of data, which are skipped, never
            // read as headers. (What the applier then does with such a type is its business.)
            let header_only = matches!(e.typeflag, b'1'..=b'6');
            let data = if header_only { 0 } else { e.size };
            if header_only {
                e.size = 0;
            }
            self.left = data;
            self.pad = crate::export::tar::padding(data) as u64;
            return Ok(Some(e));
        }
    }
}

/// A PAX record: key, value.
pub(crate) type Record = (Vec<u8>, Vec<u8>);

/// What a [`parse_pax`] error means for a layer.
const LAYER_REFUSED: &str = "Go's archive/tar refuses it, so containerd's applier refuses the layer";

/// A PAX integer as Go's `strconv.ParseInt(v, 10, 64)` reads it: an optional sign, then
/// decimal digits only, within an int64.
pub(crate) fn pax_int(v: &[u8]) -> Option<i64> {
    let digits = v.strip_prefix(b"+").or_else(|| v.strip_prefix(b"-")).unwrap_or(v);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// A PAX time as Go's `parsePAXTime` reads it, in whole seconds as Go's `Time.Unix` gives
/// them: [`pax_int`] seconds, then optionally `.` and only digits (none is fine); a negative
/// time with a fraction is that much further below (`-1.5` is -2 s and 0.5 s).
pub(crate) fn pax_time(v: &[u8]) -> Option<i64> {
    let (secs, frac) = match v.iter().position(|&b| b == b'.') {
        Some(i) => (v.get(..i)?, v.get(i + 1..)?),
        None => (v, &b""[..]),
    };
    let s = pax_int(secs)?;
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let below = secs.first() == Some(&b'-') && frac.iter().take(9).any(|&b| b != b'0');
    if below { s.checked_sub(1) } else { Some(s) }
}

/// PAX records `<len> <key>=<value>\n`, refused as Go's `archive/tar` refuses them (its
/// `parsePAXRecord`/`validPAXRecord`): a malformed record, an empty key or one holding a NUL,
/// a `path`, `linkpath`, `uname` or `gname` holding a NUL. Go's reader then returns
/// `ErrHeader`, so containerd's applier fails on the layer and containerd's and docker's
/// importers on an image archive (`crate::source::tar` reads those with this too); and a NUL
/// in a name would make two names of one (the member keeps "a\0b" while every reader of a
/// ustar field stops at "a"). The error says which record; the caller says what it refuses.
pub(crate) fn parse_pax(mut body: &[u8]) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    while !body.is_empty() {
        let Some(sp) = body.iter().position(|&b| b == b' ') else {
            return Err("a PAX record without a length".into());
        };
        let len = std::str::from_utf8(body.get(..sp).unwrap_or_default())
            .ok()
            .and_then(|l| l.parse::<usize>().ok())
            .filter(|&l| l >= 5 && l > sp + 1)
            .ok_or("a PAX record whose length is not a number of 5 or more")?;
        let Some(record) = body.get(sp + 1..len) else {
            return Err(format!("a PAX record of {len} bytes past the end of its header"));
        };
        let Some(record) = record.strip_suffix(b"\n") else {
            return Err("a PAX record not ending in a newline".into());
        };
        let Some(eq) = record.iter().position(|&b| b == b'=') else {
            return Err("a PAX record without '='".into());
        };
        let (k, v) = (
            record.get(..eq).unwrap_or_default(),
            record.get(eq + 1..).unwrap_or_default(),
        );
        let named = matches!(k, b"path" | b"linkpath" | b"uname" | b"gname");
        let refused = if k.is_empty() {
            Some("a PAX record with an empty key".to_string())
        } else if k.contains(&0) {
            Some(format!("a PAX record whose key {} holds a NUL", shown(k)))
        } else if named && v.contains(&0) {
            Some(format!("a PAX {} record {} holding a NUL", shown(k), shown(v)))
        } else {
            None
        };
        if let Some(why) = refused {
            return Err(why);
        }
        out.push((k.to_vec(), v.to_vec()));
        body = body.get(len..).unwrap_or_default();
    }
    Ok(out)
}

/// `b` escaped, its first 256 bytes only: a PAX value can be a megabyte.
fn shown(b: &[u8]) -> String {
    let head = crate::text::escape(b.get(..b.len().min(256)).unwrap_or_default());
    if b.len() > 256 { format!("{head}...") } else { head }
}

struct ReadData<'a, R: Read> {
    reader: &'a mut Reader<R>,
}

impl<R: Read> Read for ReadData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = usize::try_from(self.reader.left).unwrap_or(usize::MAX).min(buf.len());
        let Some(chunk) = buf.get_mut(..want) else { return Ok(0) };
        if chunk.is_empty() {
            return Ok(0);
        }
        let n = self.reader.r.read(chunk)?;
        self.reader.left -= n as u64;
        self.reader.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tar::{self, Member};

    /// A PAX `size` of u64::MAX (review): skipping the member and its padding is an error,
    /// not an overflow (a panic in debug, a wrapped skip of 0 that read the next header from
    /// the member's data in release). Since sweep 5 such a size is refused at the header, as
    /// Go refuses one past an int64; the largest it takes, i64::MAX, is skipped to an error.
    #[test]
    fn a_size_past_what_can_be_counted_is_an_error() {
        let extra = vec![(b"size".to_vec(), u64::MAX.to_string().into_bytes())];
        let m = Member {
            name: b"f",
            typeflag: b'0',
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            link: b"",
            devmajor: 0,
            devminor: 0,
            xattrs: &[],
            extra: &extra,
        };
        let mut out = Vec::new();
        tar::write_member(&mut out, &m).unwrap();
        tar::finish(&mut out).unwrap();
        let e = Reader::new(out.as_slice()).next_entry().unwrap_err();
        assert!(e.to_string().contains("not a number as Go reads one"), "{e}");
        let extra = vec![(b"size".to_vec(), i64::MAX.to_string().into_bytes())];
        let m = Member {
            name: b"f",
            typeflag: b'0',
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            link: b"",
            devmajor: 0,
            devminor: 0,
            xattrs: &[],
            extra: &extra,
        };
        let mut out = Vec::new();
        tar::write_member(&mut out, &m).unwrap();
        out.extend([b'x'; 512]);
        tar::finish(&mut out).unwrap();
        let mut r = Reader::new(out.as_slice());
        let f = r.next_entry().unwrap().unwrap();
        assert_eq!(f.size, i64::MAX as u64);
        let Err(_) = r.next_entry() else {
            panic!("an error, not a next member");
        };
    }

    /// A raw PAX header with `records`, then a symlink header named `placeholder`.
    fn pax_then_symlink(records: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let x = Member {
            name: b"PaxHeaders/x",
            typeflag: b'x',
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: records.len() as u64,
            mtime: 0,
            link: b"",
            devmajor: 0,
            devminor: 0,
            xattrs: &[],
            extra: &[],
        };
        tar::write_member(&mut out, &x).unwrap();
        out.extend_from_slice(records);
        tar::pad(&mut out, records.len() as u64).unwrap();
        let l = Member {
            name: b"placeholder",
            typeflag: b'2',
            link: b"/outside",
            size: 0,
            ..x
        };
        tar::write_member(&mut out, &l).unwrap();
        tar::finish(&mut out).unwrap();
        out
    }

    /// Sweep 4, #3: a PAX `path` "lnk\0zz" was kept as a name of its own, so "lnk/evil" was
    /// not below the symlink, and the output's ustar field read back "lnk". Go's reader
    /// refuses such a record (and so containerd the layer): an error naming the member and
    /// where its PAX header is; likewise a NUL in linkpath, uname, gname or a key, and a
    /// malformed record. A NUL in another value (an xattr's) is fine.
    #[test]
    fn a_pax_record_go_refuses_is_an_error() {
        let mut front = vec![0u8; 1024];
        let ok = Member {
            name: b"front",
            typeflag: b'0',
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 1000,
            mtime: 0,
            link: b"",
            devmajor: 0,
            devminor: 0,
            xattrs: &[],
            extra: &[],
        };
        front.clear();
        tar::write_member(&mut front, &ok).unwrap();
        front.extend([b'd'; 1000]);
        tar::pad(&mut front, 1000).unwrap();
        for (records, want) in [
            (&b"15 path=lnk\0zz\n"[..], r"a PAX path record lnk\x00zz holding a NUL"),
            (b"18 linkpath=/x\0/y\n", r"a PAX linkpath record /x\x00/y holding a NUL"),
            (b"11 uname=\0\n", "a PAX uname record"),
            (b"11 a\0b=val\n", r"whose key a\x00b holds a NUL"),
            (b"7 =val\n", "an empty key"),
            (b"8 pathx\n", "without '='"),
            (b"20 path=short\n", "past the end"),
            (b"12 path=abc!", "not ending in a newline"),
        ] {
            let data = [front.clone(), pax_then_symlink(records)].concat();
            let mut r = Reader::new(data.as_slice());
            assert_eq!(r.next_entry().unwrap().unwrap().name, b"front");
            let e = r.next_entry().unwrap_err().to_string();
            assert!(e.contains(want), "{want:?} in {e}");
            assert!(e.contains("at offset 1536"), "{e}");
        }
        let fine = pax_then_symlink(b"27 SCHILY.xattr.user.k=v\0\xff\n");
        let l = Reader::new(fine.as_slice()).next_entry().unwrap().unwrap();
        assert_eq!(l.xattrs, vec![(b"user.k".to_vec(), b"v\0\xff".to_vec())]);
    }

    /// A header block as the sweep's `mktar.py` makes one (mode 0644, owner 0, mtime 0,
    /// magic `magic`), with `patch` bytes written over it, then the checksum.
    fn raw(name: &[u8], tf: u8, body: &[u8], patch: &[(usize, &[u8])], magic: &[u8; 8]) -> Vec<u8> {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name);
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{:011o}\0", body.len()).as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[156] = tf;
        h[257..265].copy_from_slice(magic);
        for (at, v) in patch {
            h[*at..*at + v.len()].copy_from_slice(v);
        }
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let mut out = h.to_vec();
        out.extend_from_slice(body);
        out.resize(out.len() + (512 - body.len() % 512) % 512, 0);
        out
    }

    const USTAR: &[u8; 8] = b"ustar\x0000";

    /// `block`'s checksum field set to `sum`.
    fn set_checksum(block: &mut [u8], sum: i64) {
        block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    }

    /// The unsigned and signed byte sums of a header block, its checksum field as spaces.
    fn sums(block: &[u8]) -> (i64, i64) {
        let mut h = block[..512].to_vec();
        h[148..156].copy_from_slice(b"        ");
        (
            h.iter().map(|&b| i64::from(b)).sum(),
            h.iter().map(|&b| i64::from(b as i8)).sum(),
        )
    }

    /// Go's reader (`block.getFormat`) takes a checksum that is the unsigned or the signed
    /// sum of the header's bytes; we took the unsigned one only, so a header an old tar wrote
    /// with signed chars was refused. What Go 1.19.8's `tar.Reader.Next` gave for the same
    /// bytes (written by a Python script under /tmp, listed by a Go program): bytes 0xe9 0xe8
    /// in the prefix (the sums differ by 512) read as member "\xe9\xe8/a" with either sum,
    /// "invalid tar header" with neither; a name of 0xff 0xfe with the signed sum reads too.
    #[test]
    fn a_checksum_is_the_unsigned_or_the_signed_sum() {
        let high: &[(usize, &[u8])] = &[(345, b"\xe9\xe8")];
        let mut member = raw(b"a", b'0', b"x", high, USTAR);
        let (unsigned, signed) = sums(&member);
        assert_eq!(unsigned - signed, 512);
        let read = |m: &[u8]| {
            let data = [m, &[0u8; 1024][..]].concat();
            Reader::new(data.as_slice()).next_entry().map(|e| e.map(|e| e.name))
        };
        for sum in [unsigned, signed] {
            set_checksum(&mut member, sum);
            assert_eq!(read(&member).unwrap(), Some(b"\xe9\xe8/a".to_vec()), "{sum}");
        }
        set_checksum(&mut member, 12345);
        let e = read(&member).unwrap_err().to_string();
        assert!(e.contains("checksum"), "{e}");
        let mut named = raw(b"\xff\xfe", b'0', b"x", &[], USTAR);
        let signed = sums(&named).1;
        set_checksum(&mut named, signed);
        assert_eq!(read(&named).unwrap(), Some(b"\xff\xfe".to_vec()));
    }

    /// One PAX record.
    fn rec(k: &[u8], v: &[u8]) -> Vec<u8> {
        let body = [k, b"=", v, b"\n"].concat();
        let mut n = body.len() + 2;
        while n.to_string().len() + 1 + body.len() != n {
            n += 1;
        }
        [format!("{n} ").into_bytes(), body].concat()
    }

    /// A member's uid, mtime and size.
    type Read3 = (u64, i64, u64);

    /// Sweep 5, #5: numbers Go's reader refuses were read as 0 or ignored (the member
    /// exported, where containerd fails the layer). Each case's `Some`/`None` is what Go
    /// 1.19.8's `tar.Reader.Next` gave for the same bytes (made by the sweep's `mktar.py`,
    /// listed by a Go program under /tmp): `None` is "archive/tar: invalid tar header",
    /// `Some((uid, mtime, size))` the member it returned (a uid below 0, which Go keeps,
    /// is the header's 0 here).
    #[test]
    fn numbers_are_read_as_go_reads_them() {
        let file = |patch: &[(usize, &[u8])]| raw(b"a", b'0', b"a", patch, USTAR);
        let pax = |recs: &[(&[u8], &[u8])], member: Vec<u8>| {
            let x: Vec<u8> = recs.iter().flat_map(|(k, v)| rec(k, v)).collect();
            [raw(b"PaxHeaders/a", b'x', &x, &[], USTAR), member].concat()
        };
        let a = || file(&[]);
        let dir = |tf: u8| raw(b"d/", tf, b"", &[], USTAR);
        let ff = [0xffu8; 12];
        let cases: Vec<(&str, Vec<u8>, Option<Read3>)> = vec![
            ("pax uid=abc", pax(&[(b"uid", b"abc")], a()), None),
            ("pax uid=+5", pax(&[(b"uid", b"+5")], a()), Some((5, 0, 1))),
            ("pax uid=-5", pax(&[(b"uid", b"-5")], a()), Some((0, 0, 1))),
            (
                "pax uid past int64",
                pax(&[(b"uid", b"99999999999999999999")], a()),
                None,
            ),
            (
                "pax uid=abc then 5",
                pax(&[(b"uid", b"abc"), (b"uid", b"5")], a()),
                Some((5, 0, 1)),
            ),
            (
                "pax uid=5 then abc",
                pax(&[(b"uid", b"5"), (b"uid", b"abc")], a()),
                None,
            ),
            ("pax uid empty", pax(&[(b"uid", b"")], a()), Some((0, 0, 1))),
            ("pax uid=' 5'", pax(&[(b"uid", b" 5")], a()), None),
            ("pax uid=1_0", pax(&[(b"uid", b"1_0")], a()), None),
            ("pax gid=0x10", pax(&[(b"gid", b"0x10")], a()), None),
            ("pax size=-1 file", pax(&[(b"size", b"-1")], a()), None),
            ("pax size=-1 dir", pax(&[(b"size", b"-1")], dir(b'5')), Some((0, 0, 0))),
            (
                "pax size=-1 NUL-type d/",
                pax(&[(b"size", b"-1")], dir(0)),
                Some((0, 0, 0)),
            ),
            ("pax size=x1", pax(&[(b"size", b"x1")], a()), None),
            ("pax mtime=1.2.3", pax(&[(b"mtime", b"1.2.3")], a()), None),
            ("pax mtime=5.", pax(&[(b"mtime", b"5.")], a()), Some((0, 5, 1))),
            ("pax mtime=.5", pax(&[(b"mtime", b".5")], a()), None),
            ("pax mtime=-1.5", pax(&[(b"mtime", b"-1.5")], a()), Some((0, -2, 1))),
            ("pax atime=zz", pax(&[(b"atime", b"zz")], a()), None),
            ("pax ctime=1.x", pax(&[(b"ctime", b"1.x")], a()), None),
            (
                "global uid=abc",
                [raw(b"pax_global_header", b'g', &rec(b"uid", b"abc"), &[], USTAR), a()].concat(),
                Some((0, 0, 1)),
            ),
            ("mode zzzzzzz", file(&[(100, b"zzzzzzz")]), None),
            ("uid zz", file(&[(108, b"zz")]), None),
            ("gid -1", file(&[(116, b"-1")]), None),
            ("mtime 9999", file(&[(136, b"9999")]), None),
            ("uid +000007", file(&[(108, b"+000007")]), None),
            ("uid 00 0007", file(&[(108, b"00 0007")]), None),
            ("uid 07 NUL zz", file(&[(108, b"07\0zz\0\0")]), Some((7, 0, 1))),
            ("uid '  00007'", file(&[(108, b"  00007")]), Some((7, 0, 1))),
            ("uid all NUL", file(&[(108, &[0; 8])]), Some((0, 0, 1))),
            ("uid all spaces", file(&[(108, b"        ")]), Some((0, 0, 1))),
            ("devmajor zz, ustar", file(&[(329, b"zz")]), None),
            (
                "devmajor zz, v7",
                raw(b"a", b'0', b"a", &[(329, b"zz")], &[0; 8]),
                Some((0, 0, 1)),
            ),
            (
                "devminor zz, gnu",
                raw(b"a", b'0', b"a", &[(337, b"zz")], b"ustar  \0"),
                None,
            ),
            (
                "gnu atime zz",
                raw(b"a", b'0', b"a", &[(345, b"zz")], b"ustar  \0"),
                Some((0, 0, 1)),
            ),
            ("star atime zz", file(&[(476, b"zz"), (508, b"tar\0")]), None),
            (
                "mtime base-256 -2",
                file(&[(
                    136,
                    &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe],
                )]),
                Some((0, -2, 1)),
            ),
            (
                "uid base-256 2^56-1",
                file(&[(108, &[0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]),
                Some(((1 << 56) - 1, 0, 1)),
            ),
            (
                "mtime base-256 past int64",
                file(&[(136, &[0x80, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0])]),
                None,
            ),
            (
                "size base-256 -1 dir",
                raw(b"d/", b'5', b"", &[(124, &ff)], USTAR),
                Some((0, 0, 0)),
            ),
            ("size base-256 -1 file", file(&[(124, &ff)]), None),
            (
                "PAX header mode zz",
                [
                    raw(b"PaxHeaders/a", b'x', &rec(b"comment", b"c"), &[(100, b"zz")], USTAR),
                    a(),
                ]
                .concat(),
                None,
            ),
        ];
        for (what, mut data, want) in cases {
            data.extend([0u8; 1024]);
            let mut r = Reader::new(data.as_slice());
            let got = loop {
                match r.next_entry() {
                    Ok(Some(e)) if e.typeflag == b'g' => continue,
                    Ok(Some(e)) => break Some((e.uid, e.mtime, e.size)),
                    Ok(None) => panic!("{what}: no member"),
                    Err(e) => {
                        assert!(e.to_string().contains("Go's archive/tar refuses it"), "{what}: {e}");
                        break None;
                    }
                }
            };
            assert_eq!(got, want, "{what}");
        }
    }

    /// A zero block ended the archive whatever came after it. Go's `readHeader` reads one
    /// more block: a zero one or the end of the stream ends the archive, anything else is
    /// `ErrHeader` (and a part of a block "unexpected EOF"). What Go 1.19.8's
    /// `tar.Reader.Next` gave on the same bytes (written by a Python script under /tmp, listed
    /// by a Go program): member "a", then the end for "zero then EOF" and "zero zero then a
    /// member"; "invalid tar header" for "zero then a member" and "zero then a block holding
    /// one 0x01"; "unexpected EOF" for "zero then 3 bytes"; the end at once for an empty
    /// stream and a lone zero block.
    #[test]
    fn a_zero_block_then_a_header_is_an_error() {
        let a = raw(b"a", b'0', b"x", &[], USTAR);
        let b = raw(b"b", b'0', b"y", &[], USTAR);
        let z = [0u8; 512];
        let mut one = [0u8; 512];
        one[0] = 1;
        // The names read, or what the error says.
        type Want<'a> = Result<Vec<&'a str>, &'a str>;
        let cases: Vec<(&str, Vec<u8>, Want)> = vec![
            ("zero then EOF", [&a[..], &z].concat(), Ok(vec!["a"])),
            ("zero zero then a member", [&a[..], &z, &z, &b].concat(), Ok(vec!["a"])),
            (
                "zero then a member",
                [&a[..], &z, &b, &z, &z].concat(),
                Err("a zero block at offset 1024, then at offset 1536 a block that is not one"),
            ),
            (
                "zero then 0x01",
                [&a[..], &z, &one].concat(),
                Err("a lone zero block does not end a tar (Go's archive/tar refuses it"),
            ),
            (
                "zero then 3 bytes",
                [&a[..], &z, b"abc"].concat(),
                Err("ends inside a header"),
            ),
            ("empty", Vec::new(), Ok(vec![])),
            ("one zero block", z.to_vec(), Ok(vec![])),
        ];
        for (what, data, want) in cases {
            let mut r = Reader::new(data.as_slice());
            let mut names = Vec::new();
            let got = loop {
                match r.next_entry() {
                    Ok(Some(e)) => names.push(String::from_utf8(e.name).unwrap()),
                    Ok(None) => break Ok(names),
                    Err(e) => break Err(e.to_string()),
                }
            };
            match (got, want) {
                (Ok(names), Ok(want)) => assert_eq!(names, want, "{what}"),
                (Err(e), Err(want)) => assert!(e.contains(want), "{what}: {e}"),
                (got, want) => panic!("{what}: {got:?}, not {want:?}"),
            }
            // The end, or an error, is for good.
            assert!(matches!(r.next_entry(), Ok(None)), "{what}");
        }
    }

    /// A GNU long name ('L') or link ('K') gave way to a PAX `path` or `linkpath`, and an
    /// empty one emptied the name. Go's `Reader.next` merges the PAX records first, then sets
    /// a long name or link that is not empty over them. What Go 1.19.8's `tar.Reader.Next`
    /// gave on the same bytes (written by a Python script under /tmp, listed by a Go
    /// program): "from-L" with the `x` header before or after the 'L' one; the header's "a"
    /// after an 'L' holding only a NUL; link "link-K" over a PAX linkpath; the header's link
    /// "hdrlink" after an empty 'K'.
    #[test]
    fn a_gnu_long_name_wins_over_a_pax_path() {
        let long = |tf: u8, v: &[u8]| raw(b"././@LongLink", tf, v, &[], USTAR);
        let x = |k: &[u8], v: &[u8]| raw(b"PaxHeaders/x", b'x', &rec(k, v), &[], USTAR);
        let file = raw(b"a", b'0', b"x", &[], USTAR);
        let link = raw(b"s", b'2', b"", &[(157, b"hdrlink")], USTAR);
        let cases: Vec<(&str, Vec<u8>, (&str, &str))> = vec![
            (
                "pax then L",
                [x(b"path", b"from-pax"), long(b'L', b"from-L\0"), file.clone()].concat(),
                ("from-L", ""),
            ),
            (
                "L then pax",
                [long(b'L', b"from-L\0"), x(b"path", b"from-pax"), file.clone()].concat(),
                ("from-L", ""),
            ),
            ("empty L", [long(b'L', b"\0"), file.clone()].concat(), ("a", "")),
            (
                "pax then K",
                [x(b"linkpath", b"link-pax"), long(b'K', b"link-K\0"), link.clone()].concat(),
                ("s", "link-K"),
            ),
            ("empty K", [long(b'K', b"\0"), link.clone()].concat(), ("s", "hdrlink")),
        ];
        for (what, mut data, (name, target)) in cases {
            data.extend([0u8; 1024]);
            let e = Reader::new(data.as_slice()).next_entry().unwrap().unwrap();
            assert_eq!(
                (e.name.as_slice(), e.link.as_slice()),
                (name.as_bytes(), target.as_bytes()),
                "{what}"
            );
        }
    }

    /// A member of mode 0644 owned by root, its `data` and padding, appended to `out`.
    fn put_member(out: &mut Vec<u8>, name: &[u8], typeflag: u8, data: &[u8]) {
        let m = Member {
            name,
            typeflag,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: data.len() as u64,
            mtime: 0,
            link: b"",
            devmajor: 0,
            devminor: 0,
            xattrs: &[],
            extra: &[],
        };
        tar::write_member(out, &m).unwrap();
        out.extend_from_slice(data);
        tar::pad(out, data.len() as u64).unwrap();
    }

    /// Sweep 4, #4: only types '1'-'6' are header only (Go's `isHeaderOnlyType`); a 'V'
    /// member's 1024 bytes of data (a whole member "bin/hidden") were read as headers. And
    /// only a NUL type with a trailing slash is a directory: a '0' "d/" is a file whose data
    /// was read as headers too. A global header is checked as Go checks it.
    #[test]
    fn data_is_skipped_as_go_skips_it() {
        let member = put_member;
        let mut hidden = Vec::new();
        member(&mut hidden, b"bin/hidden", b'0', b"only coldctr sees this\n");
        let mut out = Vec::new();
        member(&mut out, b"bin/volume-label", b'V', &hidden);
        member(&mut out, b"d/", b'0', &hidden);
        member(&mut out, b"old/", 0, b"");
        member(&mut out, b"bin/real", b'0', b"real\n");
        tar::finish(&mut out).unwrap();
        let mut r = Reader::new(out.as_slice());
        let mut seen = Vec::new();
        while let Some(e) = r.next_entry().unwrap() {
            seen.push((String::from_utf8(e.name).unwrap(), e.typeflag, e.size, e.offset));
        }
        let expect = [
            ("bin/volume-label", b'V', 1024, 0),
            ("d/", b'0', 1024, 1536),
            ("old/", b'5', 0, 3072),
            ("bin/real", b'0', 5, 3584),
        ];
        let expect: Vec<_> = expect.iter().map(|&(n, t, s, o)| (n.to_string(), t, s, o)).collect();
        assert_eq!(seen, expect);
        let mut g = Vec::new();
        member(&mut g, b"pax_global_header", b'g', b"13 path=a\0zz\n");
        member(&mut g, b"f", b'0', b"");
        tar::finish(&mut g).unwrap();
        let e = Reader::new(g.as_slice()).next_entry().unwrap_err().to_string();
        assert!(e.contains(r"a\x00zz holding a NUL"), "{e}");
        assert!(e.contains("in the global PAX header at offset 0"), "{e}");
    }

    /// A 'g' header is a member of its own, as Go's reader returns it (a Go 1.19.8 program
    /// listing the same tars with `tar.Reader.Next`): named by its `path` record when that is
    /// not empty, else by its header; no size, owner or link; its
    /// records (uid, size, path) apply to no later member; and an `x` record or GNU long name
    /// before it is lost, not carried to the member after it.
    #[test]
    fn a_global_header_is_a_member_of_its_own() {
        let put = put_member;
        let mut t = Vec::new();
        put(&mut t, b"pax_global_header", b'g', b"8 uid=7\n9 size=5\n");
        put(&mut t, b"f", b'0', b"abc");
        put(&mut t, b"PaxHeaders/x", b'x', b"16 path=renamed\n");
        put(&mut t, b"g2", b'g', b"19 path=etc/passwd\n");
        put(&mut t, b"././@LongLink", b'L', b"long-name\0");
        put(&mut t, &[b'p'; 120], b'g', b"8 path=\n");
        put(&mut t, b"plain", b'0', b"");
        tar::finish(&mut t).unwrap();
        let mut r = Reader::new(t.as_slice());
        let mut seen = Vec::new();
        while let Some(e) = r.next_entry().unwrap() {
            seen.push((String::from_utf8(e.name).unwrap(), e.typeflag, e.size, e.uid));
        }
        // The writer put the 120-byte name in an `x` record before the 'g' header: lost with
        // it, the header's own 100 bytes name the member (Go lists these tar bytes the same).
        let long = "p".repeat(100);
        let want = [
            ("pax_global_header".to_string(), b'g', 0, 0),
            ("f".to_string(), b'0', 3, 0),
            ("etc/passwd".to_string(), b'g', 0, 0),
            (long, b'g', 0, 0),
            ("plain".to_string(), b'0', 0, 0),
        ];
        assert_eq!(seen, want);
    }

    #[test]
    fn reads_what_the_writer_writes() {
        let long = vec![b'n'; 150];
        let mut out = Vec::new();
        let x = vec![(b"user.a".to_vec(), b"1".to_vec())];
        for (name, flag, size, link) in [
            (b"./d/".to_vec(), b'5', 0u64, b"".to_vec()),
            (long.clone(), b'0', 5, b"".to_vec()),
            (b"d/l".to_vec(), b'2', 0, vec![b't'; 120]),
        ] {
            let m = Member {
                name: &name,
                typeflag: flag,
                mode: 0o755,
                uid: 1,
                gid: 2,
                size,
                mtime: 7,
                link: &link,
                devmajor: 0,
                devminor: 0,
                xattrs: &x,
                extra: &[],
            };
            tar::write_member(&mut out, &m).unwrap();
            out.extend(std::iter::repeat_n(b'z', size as usize));
            tar::pad(&mut out, size).unwrap();
        }
        tar::finish(&mut out).unwrap();
        let mut r = Reader::new(out.as_slice());
        let d = r.next_entry().unwrap().unwrap();
        assert_eq!((clean(&d.name).unwrap(), d.typeflag), (b"d".to_vec(), b'5'));
        let f = r.next_entry().unwrap().unwrap();
        assert_eq!(f.name, long);
        assert_eq!(f.xattrs, x);
        let mut data = Vec::new();
        r.data().read_to_end(&mut data).unwrap();
        assert_eq!(data, b"zzzzz");
        let l = r.next_entry().unwrap().unwrap();
        assert_eq!(l.link, vec![b't'; 120]);
        assert!(r.next_entry().unwrap().is_none());
        assert_eq!(clean(b"./a/../b"), None);
        assert_eq!(clean(b"./"), None);
        // A damaged header is an error, not a guess.
        let mut bad = out.clone();
        bad[0] ^= 1;
        assert!(Reader::new(bad.as_slice()).next_entry().is_err());
    }
}
