//! A Docker container's logs, read from the files dockerd's `json-file` driver writes, as
//! `docker logs` prints them.
//!
//! ```text
//!  containers/<id>/<id>-json.log        the current file
//!  containers/<id>/<id>-json.log.1      rotated (max-file): .N is the oldest; `.N.gz` when
//!  ...                                  the driver compresses what it rotates
//!  one JSON object a line:
//!  {"log":"failing\n","stream":"stderr","attrs":{"k":"v"},"time":"2026-11-29T18:51:59.49008007Z"}
//!         the bytes written, with their newline (none: a partial message, cut at 16 KiB)
//! ```
//!
//! `docker logs` sends each entry to the stream it was written to, its `log` bytes as they
//! are; `--timestamps` puts the time first in Go's RFC3339NanoFixed (nine digits always).
//! Every line is untrusted: one that is not such an object is named (file, line, byte
//! offset) and skipped, and the rest are still read. No file is followed through a link, and
//! none is read past [`MAX_LOG_FILE`] bytes.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest log file read (json-file's default has no limit; dockerd's own reader streams).
/// Past it, the file's first this many bytes are read and the rest said to be left.
pub const MAX_LOG_FILE: u64 = 4 << 30;

/// The most rotated files looked for (dockerd's `max-file` is a small number, default 1).
const MAX_ROTATED: u32 = 1000;

/// Which stream an entry was written to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One entry of the log.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub stream: Stream,
    /// As recorded (RFC 3339, Go's `RFC3339Nano`: trailing zeros cut).
    pub time: String,
    /// The bytes written, with their newline when the entry is a whole line.
    pub line: Vec<u8>,
}

impl Entry {
    /// The time as `docker logs --timestamps` prints it: nine fractional digits always.
    pub fn time_fixed(&self) -> String {
        fixed_nanos(&self.time)
    }
}

/// `t` (RFC 3339 with any number of fractional digits) with exactly nine, as Go's
/// `RFC3339NanoFixed` formats it; text that is no such time is returned as it is.
pub fn fixed_nanos(t: &str) -> String {
    // The seconds end at byte 19 (`2006-01-02T15:04:05`); then `.digits`, then the zone.
    let (Some(head), Some(rest)) = (t.get(..19), t.get(19..)) else {
        return t.to_string();
    };
    let (digits, zone) = match rest.strip_prefix('.') {
        Some(r) => {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            (r.get(..n).unwrap_or_default(), r.get(n..).unwrap_or_default())
        }
        None => ("", rest),
    };
    if digits.len() > 9 || !(zone == "Z" || zone.starts_with('+') || zone.starts_with('-')) {
        return t.to_string();
    }
    format!("{head}.{digits:0<9}{zone}")
}

/// The files of a json-file log, oldest first: `<id>-json.log.N[.gz]` ... `.1[.gz]`, then
/// `<id>-json.log`. Only names that are there (looked at with `lstat`) are listed.
pub fn json_file_paths(dir: &Path, id: &str) -> Vec<PathBuf> {
    let current = dir.join(format!("{id}-json.log"));
    let mut rotated = Vec::new();
    for n in 1..=MAX_ROTATED {
        let plain = dir.join(format!("{id}-json.log.{n}"));
        let gz = dir.join(format!("{id}-json.log.{n}.gz"));
        match (
            std::fs::symlink_metadata(&plain).is_ok(),
            std::fs::symlink_metadata(&gz).is_ok(),
        ) {
            (true, _) => rotated.push(plain),
            (false, true) => rotated.push(gz),
            (false, false) => break,
        }
    }
    rotated.reverse();
    rotated.push(current);
    rotated
}

/// What reading one file met.
#[derive(Debug, Default)]
pub struct LogRead {
    pub entries: Vec<Entry>,
    /// Lines that are no log entry, and the file's own trouble, each naming the file.
    pub damaged: Vec<String>,
    /// The file could not be read at all (permissions, I/O).
    pub unreadable: Vec<String>,
    /// Not there.
    pub missing: bool,
}

/// Reads the json-file log at `path` (gzip when its name ends in `.gz`): never through a
/// link, never a file of another kind, at most [`MAX_LOG_FILE`] bytes.
pub fn read_json_file(path: &Path) -> LogRead {
    let mut out = LogRead::default();
    let shown = crate::text::escape(path.as_os_str().as_encoded_bytes());
    let file = match crate::noatime::open(path, libc::O_NOFOLLOW | libc::O_NONBLOCK) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            out.missing = true;
            return out;
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            out.damaged.push(format!("{shown}: a symlink, not followed"));
            return out;
        }
        Err(e) if crate::damage::refused_by_system(&e) => {
            out.unreadable.push(format!("{shown}: {e}"));
            return out;
        }
        Err(e) => {
            out.damaged.push(format!("{shown}: {e}"));
            return out;
        }
    };
    match file.metadata() {
        Ok(m) if m.is_file() => {}
        Ok(m) => {
            let kind = crate::containerd::blobs::FileKind::of(&m.file_type());
            out.damaged.push(format!("{shown}: a {kind}, not a log file"));
            return out;
        }
        Err(e) => {
            out.unreadable.push(format!("{shown}: {e}"));
            return out;
        }
    }
    let gz = path.extension().is_some_and(|e| e == "gz");
    let mut reader: Box<dyn std::io::Read> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file)))
    } else {
        Box::new(file)
    };
    let mut data = Vec::new();
    let read = (&mut reader).take(MAX_LOG_FILE).read_to_end(&mut data);
    if let Err(e) = read {
        // What was read before the failure is kept.
        let message = format!("{shown}: {e} (after {} bytes)", data.len());
        if gz || !crate::damage::refused_by_system(&e) {
            out.damaged.push(message);
        } else {
            out.unreadable.push(message);
        }
    } else if data.len() as u64 == MAX_LOG_FILE {
        let mut probe = [0u8; 1];
        if reader.read(&mut probe).is_ok_and(|n| n > 0) {
            out.damaged.push(format!(
                "{shown}: larger than {MAX_LOG_FILE} bytes; the entries after that are not read"
            ));
        }
    }
    parse_json_lines(&data, &shown, &mut out);
    out
}

/// The entries of a json-file log's bytes; each line that is none is named in `out.damaged`.
pub fn parse_json_lines(data: &[u8], shown: &str, out: &mut LogRead) {
    #[derive(serde::Deserialize)]
    struct Line<'a> {
        #[serde(borrow)]
        log: std::borrow::Cow<'a, str>,
        stream: std::borrow::Cow<'a, str>,
        time: std::borrow::Cow<'a, str>,
    }
    let mut offset = 0usize;
    for (n, raw) in data.split_inclusive(|&b| b == b'\n').enumerate() {
        let at = offset;
        offset += raw.len();
        let text = raw.strip_suffix(b"\n").unwrap_or(raw);
        if text.is_empty() {
            continue;
        }
        let bad = |why: &str| format!("{shown}: line {} (byte {at}): {why}", n + 1);
        // The last line of a file cut short (a node that stopped mid-write): said the same.
        match serde_json::from_slice::<Line<'_>>(text) {
            Ok(l) => {
                let stream = match l.stream.as_ref() {
                    "stdout" => Stream::Stdout,
                    "stderr" => Stream::Stderr,
                    other => {
                        out.damaged.push(bad(&format!(
                            "stream {:?} is neither stdout nor stderr",
                            crate::text::escape(other.as_bytes())
                        )));
                        continue;
                    }
                };
                out.entries.push(Entry {
                    stream,
                    time: l.time.into_owned(),
                    line: l.log.into_owned().into_bytes(),
                });
            }
            Err(e) => out.damaged.push(bad(&format!("not a log entry: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_get_nine_digits_as_go_s_fixed_layout() {
        assert_eq!(
            fixed_nanos("2026-11-29T18:51:59.49008007Z"),
            "2026-11-29T18:51:59.490080070Z"
        );
        assert_eq!(fixed_nanos("2026-11-29T18:51:59Z"), "2026-11-29T18:51:59.000000000Z");
        assert_eq!(
            fixed_nanos("2026-11-29T18:51:59.5+01:00"),
            "2026-11-29T18:51:59.500000000+01:00"
        );
        assert_eq!(fixed_nanos("yesterday"), "yesterday");
        assert_eq!(
            fixed_nanos("2026-11-29T18:51:59.1234567891Z"),
            "2026-11-29T18:51:59.1234567891Z"
        );
    }

    #[test]
    fn lines_that_are_no_entry_are_named_and_the_rest_read() {
        let data = b"{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-01T00:00:00Z\"}\n\
            {\"log\":\"b\n\
            {\"log\":\"c\",\"stream\":\"stderr\",\"attrs\":{\"x\":\"y\"},\"time\":\"2026-01-01T00:00:01.5Z\"}\n\
            {\"log\":\"d\",\"stream\":\"tty\",\"time\":\"t\"}\n";
        let mut out = LogRead::default();
        parse_json_lines(data, "f", &mut out);
        assert_eq!(
            out.entries,
            vec![
                Entry {
                    stream: Stream::Stdout,
                    time: "2026-01-01T00:00:00Z".into(),
                    line: b"a\n".to_vec()
                },
                Entry {
                    stream: Stream::Stderr,
                    time: "2026-01-01T00:00:01.5Z".into(),
                    line: b"c".to_vec()
                },
            ]
        );
        assert_eq!(out.damaged.len(), 2, "{:?}", out.damaged);
        assert!(
            out.damaged[0].starts_with("f: line 2 (byte 62): not a log entry"),
            "{:?}",
            out.damaged
        );
        assert!(out.damaged[1].contains("line 4"), "{:?}", out.damaged);
    }
}
