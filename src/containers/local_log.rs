//! The files dockerd's `local` log driver writes, and dual logging's cache (the same format,
//! kept for a driver dockerd cannot read back: syslog, gelf, fluentd...), decoded record by
//! record.
//!
//! ```text
//!  containers/<id>/local-logs/container.log     the `local` driver's current file
//!  containers/<id>/local-logs/container.log.1   rotated, up to .(max-file - 1) (default 5
//!  ...                                          files); `.N.gz` when compressed (the default)
//!  containers/<id>/container-cached.log(.N.gz)  dual logging's cache, the same
//!
//!  one record:
//!  +-----------+-------------------------------+-----------+
//!  | len: u32  | LogEntry, protobuf, len bytes | len: u32  |   big-endian, the same length
//!  +-----------+-------------------------------+-----------+   twice (read backwards for tail)
//!
//!  LogEntry:       1 source (string: "stdout"/"stderr")   2 time_nano (int64, varint)
//!                  3 line (bytes, without its newline)   4 partial (bool)
//!                  5 partial_log_metadata: { 1 last (bool), 2 id (string), 3 ordinal (int32) }
//! ```
//!
//! dockerd refuses a length past [`MAX_RECORD`] (1,000,000 bytes: its copier cuts messages at
//! 16 KiB). A record's line is printed with a newline added unless it is a partial message that
//! is not the last of its line (dockerd 23 and later; 20.10 added none to the last one either).
//!
//! A record's protobuf is read as the gogo-generated `Unmarshal` dockerd uses reads it
//! ([`decode_entry`]): field numbers cut to an int32, unknown fields and their groups skipped,
//! a repeated `partial_log_metadata` merged, bits of a varint past 64 dropped.
//!
//! Every length is untrusted: it is checked against [`MAX_RECORD`] before anything is
//! allocated for it, and its footer against its header. A record whose protobuf does not
//! decode is damage and is skipped; a footer unlike its header is damage, said after the
//! record, and reading goes on by the header, as dockerd's forward reader does (it never reads
//! footers); a frame that does not hold (a length too large, a file cut short) leaves nothing
//! to find the next record by, so the rest of that file is named and not read.

use std::io::Read;

/// The longest record dockerd reads back (`maxMsgLen` of the local driver): its copier cuts a
/// message at 16 KiB, so a longer length is damage.
pub const MAX_RECORD: u32 = 1_000_000;

/// One decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `stdout` or `stderr` as the driver wrote them; anything else as found.
    pub source: Vec<u8>,
    /// Nanoseconds since the Unix epoch (Go's `UnixNano`).
    pub time_nano: i64,
    /// The bytes written, without the newline the copier took off.
    pub line: Vec<u8>,
    pub partial: bool,
    /// `partial_log_metadata.last`: this piece ends its line.
    pub last: bool,
}

impl Record {
    /// Whether `docker logs` prints a newline after the line: a whole message, or the last
    /// piece of a partial one.
    pub fn ends_line(&self) -> bool {
        !self.partial || self.last
    }
}

/// What stopped or spoiled reading, at `offset` (bytes from the start of the file, or of what
/// a `.gz` file decompresses to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub offset: u64,
    pub what: String,
    /// The rest of the file cannot be read (the framing is lost, or the file ended).
    pub fatal: bool,
    /// Reading failed (an I/O error, or a compressed stream that does not inflate), rather
    /// than the bytes read being wrong; `refused` when the system refused it (permissions,
    /// I/O error of the device: see `damage::refused_by_system`).
    pub refused: bool,
}

/// Reads records one at a time from `R`, tracking the offset of each.
pub struct Records<R> {
    src: R,
    offset: u64,
    done: bool,
    /// Damage to give before the next record (a footer unlike its header, said after the
    /// record it closes).
    pending: Option<Damage>,
}

impl<R: Read> Records<R> {
    pub fn new(src: R) -> Self {
        Self::at(src, 0)
    }

    /// Records of `src`, whose first byte is at `offset` of the file (where `--tail` starts).
    pub fn at(src: R, offset: u64) -> Self {
        Records {
            src,
            offset,
            done: false,
            pending: None,
        }
    }

    /// The offset the next record starts at (the bytes read so far).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// What the records were read from.
    pub fn into_inner(self) -> R {
        self.src
    }

    /// Reads up to `buf.len()` bytes: how many came before the end of the file.
    fn fill(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            let Some(rest) = buf.get_mut(got..) else { break };
            match self.src.read(rest) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.offset += got as u64;
        Ok(got)
    }

    fn stop(&mut self, offset: u64, what: String) -> Option<Result<Record, Damage>> {
        self.done = true;
        Some(Err(Damage {
            offset,
            what,
            fatal: true,
            refused: false,
        }))
    }

    /// Reading failed after `self.offset` bytes: what was read before was given already.
    fn failed(&mut self, e: &std::io::Error) -> Option<Result<Record, Damage>> {
        self.done = true;
        Some(Err(Damage {
            offset: self.offset,
            what: format!("cannot be read past it: {e}"),
            fatal: true,
            refused: crate::damage::refused_by_system(e),
        }))
    }
}

impl<R: Read> Iterator for Records<R> {
    type Item = Result<Record, Damage>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(d) = self.pending.take() {
            return Some(Err(d));
        }
        if self.done {
            return None;
        }
        let at = self.offset;
        let mut header = [0u8; 4];
        match self.fill(&mut header) {
            Ok(0) => {
                self.done = true;
                return None;
            }
            Ok(4) => {}
            Ok(n) => {
                return self.stop(
                    at,
                    format!("the file ends {n} bytes into a record's length (cut short)"),
                );
            }
            Err(e) => return self.failed(&e),
        }
        let len = u32::from_be_bytes(header);
        if len > MAX_RECORD {
            return self.stop(
                at,
                format!(
                    "a record's length is {len}, past the {MAX_RECORD} dockerd reads; the rest of the file is not read"
                ),
            );
        }
        // Checked above: at most MAX_RECORD + 4 bytes.
        let mut body = vec![0u8; len as usize + 4];
        match self.fill(&mut body) {
            Ok(n) if n == body.len() => {}
            Ok(n) => {
                return self.stop(
                    at,
                    format!(
                        "a record of {len} bytes is cut short: the file ends {} bytes into its {}",
                        n + 4,
                        len + 8
                    ),
                );
            }
            Err(e) => return self.failed(&e),
        }
        let (message, footer) = body.split_at(len as usize);
        let footer = u32::from_be_bytes(footer.try_into().unwrap_or_default());
        if footer != len {
            // dockerd's forward reader frames by the header alone and never reads the
            // footer (only its --tail, walking back, does): on by the header, said.
            self.pending = Some(Damage {
                offset: at,
                what: format!(
                    "a record's length is {len} at its start and {footer} at its end (read by the first, as dockerd reads forward)"
                ),
                fatal: false,
                refused: false,
            });
        }
        Some(decode_entry(message).map_err(|why| Damage {
            offset: at,
            what: format!("a record of {len} bytes is no log entry: {why}; skipped"),
            fatal: false,
            refused: false,
        }))
    }
}

/// Where `docker logs --tail` starts in a local-format file of `size` bytes, as dockerd's
/// `getTailReader` finds it: from the end, back by each record's trailing length to its
/// header, which must say the same, until `want` records are counted or the file's start is
/// reached. `read4` gives the 4 bytes at an offset (`None` past either end). Every record
/// walked over counts, whatever it holds; a file under 9 bytes holds none. Nothing is
/// allocated from a length read: each only moves the offset.
pub fn tail_walk(read4: impl Fn(u64) -> Option<[u8; 4]>, size: u64, want: u64) -> TailWalk {
    if size < 9 {
        return TailWalk::From { start: size, found: 0 };
    }
    let (mut offset, mut found) = (size, 0u64);
    loop {
        // The record ending at `offset`: its length in its last 4 bytes, and again in the 4
        // that start it.
        let Some(end) = offset.checked_sub(4) else {
            return TailWalk::Broken {
                offset,
                what: "a record ends here, less than 4 bytes into the file".into(),
            };
        };
        let Some(footer) = read4(end) else {
            return TailWalk::Broken {
                offset: end,
                what: "the record that ends here cannot be read".into(),
            };
        };
        let len = u32::from_be_bytes(footer);
        let Some((start, header)) = offset
            .checked_sub(8 + u64::from(len))
            .and_then(|start| Some((start, read4(start)?)))
        else {
            return TailWalk::Broken {
                offset: end,
                what: format!("a record's length at its end is {len}, more than the file holds before it"),
            };
        };
        let head = u32::from_be_bytes(header);
        if head != len {
            return TailWalk::Broken {
                offset: end,
                what: format!("a record's length at its end is {len}, and {head} at its start (byte {start})"),
            };
        }
        found += 1;
        offset = start;
        if found == want || offset == 0 {
            return TailWalk::From { start: offset, found };
        }
    }
}

/// What [`tail_walk`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailWalk {
    /// `--tail` reads the file from `start`, `found` records (at most the number wanted).
    From { start: u64, found: u64 },
    /// The walk back lost the framing at `offset`: dockerd 28 passes over the whole file for
    /// `--tail` (its entries are not printed; older files are tailed instead), 20.10 failed
    /// the request.
    Broken { offset: u64, what: String },
}

/// A protobuf `LogEntry` (see the module's drawing), as the gogo-generated `Unmarshal` dockerd
/// uses reads it: the last value of a field wins, a second `partial_log_metadata` is merged
/// into the first (a field it leaves out keeps the first's value), unknown fields are skipped
/// (groups too), a field number is the key's bits above the wire type cut to an `int32` (so
/// 2^32 + 3 is field 3, and one that comes out 0 or negative is refused), and a varint is at
/// most ten bytes, its bits past 64 dropped.
pub fn decode_entry(mut b: &[u8]) -> Result<Record, String> {
    let mut r = Record {
        source: Vec::new(),
        time_nano: 0,
        line: Vec::new(),
        partial: false,
        last: false,
    };
    while !b.is_empty() {
        let (field, wire) = key(&mut b)?;
        match (field, wire) {
            (1, 2) => r.source = bytes(&mut b)?.to_vec(),
            (2, 0) => r.time_nano = varint(&mut b)? as i64,
            (3, 2) => r.line = bytes(&mut b)?.to_vec(),
            (4, 0) => r.partial = varint(&mut b)? != 0,
            (5, 2) => r.last = decode_partial_last(bytes(&mut b)?)?.unwrap_or(r.last),
            (1..=5, _) => return Err(format!("field {field} has wire type {wire}")),
            _ => skip(&mut b, wire)?,
        }
    }
    Ok(r)
}

/// A field's key: its number, as gogo's code cuts it to an `int32`, and its wire type. An
/// end-group tag outside a group, and a number that comes out 0 or negative, are refused.
fn key(b: &mut &[u8]) -> Result<(i32, u64), String> {
    let key = varint(b)?;
    let wire = key & 7;
    if wire == 4 {
        return Err("an end-group tag outside a group".into());
    }
    // The low 32 bits of the number, as Go's int32 conversion keeps them.
    let field = (key >> 3) as u32 as i32;
    if field <= 0 {
        return Err(format!("field number {} (read as {field})", key >> 3));
    }
    Ok((field, wire))
}

/// `last` of a `PartialLogEntryMetadata` (its id and ordinal are checked, not kept): `None`
/// when the message does not set it (merged into an earlier one, that one's stands).
fn decode_partial_last(mut b: &[u8]) -> Result<Option<bool>, String> {
    let mut last = None;
    while !b.is_empty() {
        let (field, wire) = key(&mut b).map_err(|e| format!("partial_log_metadata: {e}"))?;
        match (field, wire) {
            (1, 0) => last = Some(varint(&mut b)? != 0),
            (2, 2) => {
                bytes(&mut b)?;
            }
            (3, 0) => {
                varint(&mut b)?;
            }
            (1..=3, _) => return Err(format!("partial_log_metadata field {field} has wire type {wire}")),
            _ => skip(&mut b, wire)?,
        }
    }
    Ok(last)
}

/// A base-128 varint as gogo's code reads one: at most ten bytes (an eleventh is an
/// overflow), the bits the tenth carries past 64 dropped.
fn varint(b: &mut &[u8]) -> Result<u64, String> {
    let mut v: u64 = 0;
    for i in 0..10u32 {
        let Some((&byte, rest)) = b.split_first() else {
            return Err("a varint cut short".into());
        };
        *b = rest;
        // A shift of 63 at most: what passes bit 63 is dropped, as Go's shift drops it.
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("a varint longer than ten bytes".into())
}

/// A length-delimited value, borrowed: its length is checked against what is left.
fn bytes<'a>(b: &mut &'a [u8]) -> Result<&'a [u8], String> {
    let len = varint(b)?;
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= b.len())
        .ok_or_else(|| format!("a length of {len} with {} bytes left", b.len()))?;
    let (value, rest) = b.split_at(len);
    *b = rest;
    Ok(value)
}

/// Skips an unknown field's value (its key read), as gogo's `skipEntry` does: a group (wire
/// type 3) to the end-group tag that closes it, whatever it holds, groups within counted;
/// wire types 6 and 7 are refused.
fn skip(b: &mut &[u8], wire: u64) -> Result<(), String> {
    let mut depth: u64 = 0;
    let mut wire = wire;
    loop {
        match wire {
            0 => {
                varint(b)?;
            }
            1 | 5 => {
                let n = if wire == 1 { 8 } else { 4 };
                *b = b.get(n..).ok_or_else(|| "a fixed-size value cut short".to_string())?;
            }
            2 => {
                bytes(b)?;
            }
            3 => depth += 1,
            4 => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| "an end-group tag outside a group".to_string())?;
            }
            w => return Err(format!("wire type {w}")),
        }
        if depth == 0 {
            return Ok(());
        }
        if b.is_empty() {
            return Err("a group not closed".into());
        }
        // Inside a group: the next key, whatever its number.
        wire = varint(b)? & 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as dockerd frames one.
    fn frame(entry: &[u8]) -> Vec<u8> {
        let len = (entry.len() as u32).to_be_bytes();
        [&len[..], entry, &len[..]].concat()
    }

    fn entry(source: &str, nanos: u64, line: &[u8], partial: Option<bool>) -> Vec<u8> {
        let mut e = vec![0x0a, source.len() as u8];
        e.extend_from_slice(source.as_bytes());
        e.push(0x10);
        let mut n = nanos;
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                e.push(byte);
                break;
            }
            e.push(byte | 0x80);
        }
        e.extend_from_slice(&[0x1a, line.len() as u8]);
        e.extend_from_slice(line);
        if let Some(last) = partial {
            e.extend_from_slice(&[0x20, 1, 0x2a, 7, 0x08, u8::from(last), 0x12, 1, b'x', 0x18]);
            e.push(1);
        }
        e
    }

    #[test]
    fn records_decode_and_say_where_they_break() {
        let a = frame(&entry("stdout", 1_796_463_196_735_285_470, b"hello", None));
        let b = frame(&entry("stderr", 5, b"part", Some(false)));
        let c = frame(&entry("stderr", 5, b"end", Some(true)));
        let all = [a.clone(), b.clone(), c.clone()].concat();
        let got: Vec<_> = Records::new(&all[..]).collect();
        assert_eq!(got.len(), 3);
        let r0 = got[0].clone().unwrap();
        assert_eq!(r0.source, b"stdout");
        assert_eq!(r0.time_nano, 1_796_463_196_735_285_470);
        assert_eq!(r0.line, b"hello");
        assert!(r0.ends_line());
        assert!(!got[1].clone().unwrap().ends_line());
        assert!(got[2].clone().unwrap().ends_line());

        // Cut short: the offset of the record that is cut.
        let cut = &all[..all.len() - 3];
        let got: Vec<_> = Records::new(cut).collect();
        let err = got[2].clone().unwrap_err();
        assert_eq!(err.offset, (a.len() + b.len()) as u64);
        assert!(err.fatal && err.what.contains("cut short"), "{err:?}");

        // A huge length: refused before any allocation, the rest not read.
        let mut huge = a.clone();
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        huge.extend_from_slice(&b);
        let got: Vec<_> = Records::new(&huge[..]).collect();
        assert_eq!(got.len(), 2);
        let err = got[1].clone().unwrap_err();
        assert_eq!(err.offset, a.len() as u64);
        assert!(err.what.contains("4294967295"), "{err:?}");

        // Footer unlike its header.
        let mut odd = a.clone();
        let last = odd.len() - 1;
        odd[last] ^= 1;
        // The record, read by its header as dockerd reads forward, then what is wrong with it.
        let mut odd_then = odd.clone();
        odd_then.extend_from_slice(&b);
        let got: Vec<_> = Records::new(&odd_then[..]).collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].clone().unwrap().line, b"hello");
        let err = got[1].clone().unwrap_err();
        assert_eq!(err.offset, 0);
        assert!(!err.fatal && err.what.contains("at its end"), "{err:?}");
        assert!(got[2].is_ok(), "the next record is read: {got:?}");

        // A frame that holds around bytes that are no protobuf: skipped, the next read.
        let bad = frame(&[0x0a, 0x7f, b'x']);
        let both = [bad.clone(), a.clone()].concat();
        let got: Vec<_> = Records::new(&both[..]).collect();
        assert!(!got[0].clone().unwrap_err().fatal);
        assert_eq!(got[1].clone().unwrap().line, b"hello");
    }

    #[test]
    fn tail_walks_back_by_footers_as_dockerd_does() {
        let a = frame(&entry("stdout", 1, b"a", None));
        let b = frame(&entry("stdout", 2, b"b", None));
        let c = frame(&entry("stderr", 3, b"c", None));
        let walk = |bytes: &[u8], want: u64| {
            let read4 = |at: u64| -> Option<[u8; 4]> {
                let at = usize::try_from(at).ok()?;
                bytes.get(at..at + 4)?.try_into().ok()
            };
            tail_walk(read4, bytes.len() as u64, want)
        };
        let all = [a.clone(), b.clone(), c.clone()].concat();
        let (ab, abc) = ((a.len() + b.len()) as u64, all.len() as u64);
        assert_eq!(walk(&all, 1), TailWalk::From { start: ab, found: 1 });
        assert_eq!(walk(&all, 3), TailWalk::From { start: 0, found: 3 });
        // Fewer than wanted: from the start, those found.
        assert_eq!(walk(&all, 9), TailWalk::From { start: 0, found: 3 });
        // Under 9 bytes: none (an 8-byte empty record included).
        assert_eq!(walk(&[0; 8], 1), TailWalk::From { start: 8, found: 0 });
        // Broken framing before the last records: they are walked to; the break only when
        // the walk reaches it. A length past dockerd's maximum is only a length here.
        let mut broken = a.clone();
        broken.extend_from_slice(&1_000_001u32.to_be_bytes());
        broken.extend_from_slice(&[0; 8]);
        broken.extend_from_slice(&b);
        broken.extend_from_slice(&c);
        let after = broken.len() as u64 - (b.len() + c.len()) as u64;
        assert_eq!(walk(&broken, 2), TailWalk::From { start: after, found: 2 });
        // The eight zero bytes are an empty record walking back: it counts.
        assert_eq!(
            walk(&broken, 3),
            TailWalk::From {
                start: after - 8,
                found: 3
            }
        );
        let TailWalk::Broken { offset, what } = walk(&broken, 4) else {
            panic!()
        };
        assert_eq!(offset, after - 12);
        assert!(what.contains("1000001, more than the file holds"), "{what}");
        // A footer unlike its header.
        let mut odd = all.clone();
        odd[abc as usize - 1] ^= 1;
        let TailWalk::Broken { offset, what } = walk(&odd, 1) else {
            panic!()
        };
        assert_eq!(offset, abc - 4);
        assert!(what.contains("at its start (byte"), "{what}");
        // A footer of u32::MAX moves nothing past the start, allocates nothing.
        let mut max = all.clone();
        max.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(walk(&max, 1), TailWalk::Broken { .. }));
    }

    #[test]
    fn protobuf_corner_cases() {
        // Unknown fields of every wire type are skipped; the last value of a field wins.
        let mut e = entry("stdout", 1, b"a", None);
        e.extend_from_slice(&[
            0x30, 0x96, 0x01, 0x39, 0, 0, 0, 0, 0, 0, 0, 0, 0x42, 1, b'z', 0x4d, 0, 0, 0, 0,
        ]);
        e.extend_from_slice(&[0x1a, 1, b'b']);
        assert_eq!(decode_entry(&e).unwrap().line, b"b");
        // Groups of an unknown field are skipped to the tag that closes them, nested too.
        let mut g = entry("stdout", 1, b"a", None);
        g.extend_from_slice(&[0x4b, 0x53, 0x08, 1, 0x54, 0x1a, 1, b'q', 0x4c, 0x1a, 1, b'g']);
        assert_eq!(decode_entry(&g).unwrap().line, b"g");
        for bad in [&[0x4b, 0x1a, 1, b'q'][..], &[0x4c], &[0x0b, 0x0c], &[0x1b]] {
            assert!(decode_entry(bad).is_err(), "{bad:x?}");
        }
        // Field numbers cut to an int32: 2^32 + 3 is the line; 2^31 (negative) and 0 refused.
        let huge3 = [0x9a, 0x80, 0x80, 0x80, 0x80, 0x01, 4, b'H', b'U', b'G', b'E'];
        assert_eq!(decode_entry(&huge3).unwrap().line, b"HUGE");
        assert!(
            decode_entry(&[0x80, 0x80, 0x80, 0x80, 0x40, 0x01])
                .unwrap_err()
                .contains("field number 2147483648")
        );
        assert!(decode_entry(&[0x00, 0x01]).is_err());
        // A wrong wire type for a known field, a length past the end.
        assert!(decode_entry(&[0x08, 1]).is_err());
        assert!(decode_entry(&[0x1a, 5, b'a']).is_err());
        // Ten-byte varints: the bits past 64 dropped; an eleventh byte refused.
        let mut ten = vec![0x10];
        ten.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        assert_eq!(decode_entry(&ten).unwrap().time_nano, -1);
        let mut eleven = vec![0x10];
        eleven.extend_from_slice(&[0xff; 10]);
        eleven.push(0x01);
        assert!(decode_entry(&eleven).is_err());
        // Negative times (before 1970) are ten-byte varints.
        let mut neg = vec![0x10];
        neg.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert_eq!(decode_entry(&neg).unwrap().time_nano, -1);
        assert_eq!(decode_entry(&[]).unwrap().time_nano, 0);
        // A second partial_log_metadata merges into the first: its `last` stands.
        let twice = [0x20, 1, 0x2a, 2, 0x08, 1, 0x2a, 3, 0x12, 1, b'x'];
        assert!(decode_entry(&twice).unwrap().ends_line());
        let then_false = [0x20, 1, 0x2a, 2, 0x08, 1, 0x2a, 2, 0x08, 0];
        assert!(!decode_entry(&then_false).unwrap().ends_line());
    }
}
