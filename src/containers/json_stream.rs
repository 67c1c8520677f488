//! A json-file log read as dockerd reads it: a stream of JSON values (Go's `json.Decoder` over
//! the file), not lines. Values follow one another with any of Go's JSON whitespace between
//! (space, tab, CR, LF): two objects on one line are two entries, one object over several lines
//! is one. Where a value ends is found as Go's scanner finds it (an object, array, string or
//! literal at its last byte; a number at the first byte that cannot continue it, and at the
//! end of the file), byte by byte, so a value of any length is walked without being held: at
//! most `max` bytes of it are kept, and one longer is only walked to its end.

use std::io::BufRead;

/// Go's `encoding/json` nesting limit: deeper than this is a syntax error.
const MAX_DEPTH: usize = 10_000;

/// What [`Values::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// A whole value, its bytes in the caller's buffer, starting at byte `at` on line `line`
    /// (1 and up, counting the newlines before it).
    Value { at: u64, line: u64 },
    /// A whole value longer than the buffer keeps: walked to its end, not held.
    TooLong { at: u64, line: u64 },
    /// Bytes that are no JSON value where one starts or goes on (Go's `SyntaxError`), or the
    /// file ended inside one (Go's `ErrUnexpectedEOF`): `what`, at the value that starts at
    /// byte `at`, found wrong at byte `bad`.
    Broken { at: u64, line: u64, bad: u64, what: String },
    /// No more values: only whitespace was left.
    End,
}

/// Where the scanner is inside a value.
#[derive(Clone, Copy, Debug)]
enum St {
    /// A value starts here (whitespace before it skipped).
    Value,
    /// After `[`: a value or `]`.
    ValueOrClose,
    /// After `{`: a key or `}`.
    KeyOrClose,
    /// After `,` in an object: a key.
    Key,
    /// After a key: `:`.
    Colon,
    /// After a value inside an array or object: `,` or the closing bracket.
    AfterValue,
    /// In a string (a key's when `key`).
    Str { key: bool },
    /// After a backslash in a string.
    Esc { key: bool },
    /// In `\u`'s hex digits, `left` still to come.
    Hex { key: bool, left: u8 },
    /// After `-`.
    Neg,
    /// After a leading `0`.
    Zero,
    /// In the integer's digits after the first, which was not `0`.
    Int,
    /// After `.`.
    Dot,
    /// In the fraction's digits.
    Frac,
    /// After `e` or `E`.
    Exp,
    /// After the exponent's sign.
    ExpSign,
    /// In the exponent's digits.
    ExpDigits,
    /// In `true`, `false` or `null`: the bytes still to come.
    Lit(&'static [u8]),
}

/// What one byte did.
enum Step {
    /// Taken; the value goes on.
    More,
    /// Taken; the value ends with it.
    Done,
    /// Not taken: the value (a top-level number) ended before it.
    DoneBefore,
    /// Not part of any JSON value here.
    Bad(String),
}

/// The scanner's state for one value: where it is, and the arrays and objects it is in (`true`
/// an object).
struct Scanner {
    st: St,
    stack: Vec<bool>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn shown(b: u8) -> String {
    match b {
        b'\'' => "'\\''".to_string(),
        b'"' => "'\"'".to_string(),
        0x20..=0x7e => format!("'{}'", char::from(b)),
        _ => format!("byte 0x{b:02x}"),
    }
}

impl Scanner {
    fn new() -> Self {
        Scanner {
            st: St::Value,
            stack: Vec::new(),
        }
    }

    /// A value inside ends: the next byte belongs to the container, or the top-level value is
    /// done.
    fn ended(&mut self) -> Step {
        if self.stack.is_empty() {
            Step::Done
        } else {
            self.st = St::AfterValue;
            Step::More
        }
    }

    /// A number ended before `b`: the top-level value is done without it, or `b` goes on in
    /// the container.
    fn number_ended(&mut self, b: u8) -> Step {
        if self.stack.is_empty() {
            return Step::DoneBefore;
        }
        self.st = St::AfterValue;
        self.step(b)
    }

    fn open(&mut self, object: bool) -> Step {
        if self.stack.len() >= MAX_DEPTH {
            return Step::Bad(format!("nested deeper than {MAX_DEPTH}, Go's limit"));
        }
        self.stack.push(object);
        self.st = if object { St::KeyOrClose } else { St::ValueOrClose };
        Step::More
    }

    fn begin_value(&mut self, b: u8) -> Step {
        self.st = match b {
            b'{' => return self.open(true),
            b'[' => return self.open(false),
            b'"' => St::Str { key: false },
            b'-' => St::Neg,
            b'0' => St::Zero,
            b'1'..=b'9' => St::Int,
            b't' => St::Lit(b"rue"),
            b'f' => St::Lit(b"alse"),
            b'n' => St::Lit(b"ull"),
            _ => return Step::Bad(format!("{} where a value starts", shown(b))),
        };
        Step::More
    }

    /// How many of `bytes`, from the first, [`Scanner::step`] would take without a change of
    /// state: inside a string, the bytes before a `"`, a `\\` or a control byte; none elsewhere.
    fn plain_run(&self, bytes: &[u8]) -> usize {
        match self.st {
            St::Str { .. } => bytes
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(bytes.len()),
            _ => 0,
        }
    }

    fn step(&mut self, b: u8) -> Step {
        match self.st {
            St::Value => {
                if is_space(b) {
                    return Step::More;
                }
                self.begin_value(b)
            }
            St::ValueOrClose => {
                if is_space(b) {
                    return Step::More;
                }
                if b == b']' {
                    self.stack.pop();
                    return self.ended();
                }
                self.begin_value(b)
            }
            St::KeyOrClose | St::Key => {
                if is_space(b) {
                    return Step::More;
                }
                match b {
                    b'"' => {
                        self.st = St::Str { key: true };
                        Step::More
                    }
                    b'}' if matches!(self.st, St::KeyOrClose) => {
                        self.stack.pop();
                        self.ended()
                    }
                    _ => Step::Bad(format!("{} where an object key starts", shown(b))),
                }
            }
            St::Colon => {
                if is_space(b) {
                    return Step::More;
                }
                if b == b':' {
                    self.st = St::Value;
                    return Step::More;
                }
                Step::Bad(format!("{} after an object key", shown(b)))
            }
            St::AfterValue => {
                if is_space(b) {
                    return Step::More;
                }
                let object = self.stack.last().copied().unwrap_or(false);
                match (b, object) {
                    (b',', true) => {
                        self.st = St::Key;
                        Step::More
                    }
                    (b',', false) => {
                        self.st = St::Value;
                        Step::More
                    }
                    (b'}', true) | (b']', false) => {
                        self.stack.pop();
                        self.ended()
                    }
                    (_, true) => Step::Bad(format!("{} after an object key:value pair", shown(b))),
                    (_, false) => Step::Bad(format!("{} after an array element", shown(b))),
                }
            }
            St::Str { key } => match b {
                b'"' if key => {
                    self.st = St::Colon;
                    Step::More
                }
                b'"' => self.ended(),
                b'\\' => {
                    self.st = St::Esc { key };
                    Step::More
                }
                0..0x20 => Step::Bad(format!("{} in a string", shown(b))),
                _ => Step::More,
            },
            St::Esc { key } => {
                self.st = match b {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => St::Str { key },
                    b'u' => St::Hex { key, left: 4 },
                    _ => return Step::Bad(format!("{} in a string escape", shown(b))),
                };
                Step::More
            }
            St::Hex { key, left } => {
                if !b.is_ascii_hexdigit() {
                    return Step::Bad(format!("{} in a \\u escape", shown(b)));
                }
                self.st = if left > 1 {
                    St::Hex { key, left: left - 1 }
                } else {
                    St::Str { key }
                };
                Step::More
            }
            St::Neg => {
                self.st = match b {
                    b'0' => St::Zero,
                    b'1'..=b'9' => St::Int,
                    _ => return Step::Bad(format!("{} in a number", shown(b))),
                };
                Step::More
            }
            St::Zero | St::Int => match b {
                b'0'..=b'9' if matches!(self.st, St::Int) => Step::More,
                b'.' => {
                    self.st = St::Dot;
                    Step::More
                }
                b'e' | b'E' => {
                    self.st = St::Exp;
                    Step::More
                }
                _ => self.number_ended(b),
            },
            St::Dot => {
                if !b.is_ascii_digit() {
                    return Step::Bad(format!("{} after a decimal point", shown(b)));
                }
                self.st = St::Frac;
                Step::More
            }
            St::Frac => match b {
                b'0'..=b'9' => Step::More,
                b'e' | b'E' => {
                    self.st = St::Exp;
                    Step::More
                }
                _ => self.number_ended(b),
            },
            St::Exp => {
                self.st = match b {
                    b'+' | b'-' => St::ExpSign,
                    b'0'..=b'9' => St::ExpDigits,
                    _ => return Step::Bad(format!("{} in an exponent", shown(b))),
                };
                Step::More
            }
            St::ExpSign => {
                if !b.is_ascii_digit() {
                    return Step::Bad(format!("{} in an exponent", shown(b)));
                }
                self.st = St::ExpDigits;
                Step::More
            }
            St::ExpDigits => {
                if b.is_ascii_digit() {
                    return Step::More;
                }
                self.number_ended(b)
            }
            St::Lit(rest) => match rest.split_first() {
                Some((&want, more)) if want == b => {
                    self.st = St::Lit(more);
                    if more.is_empty() { self.ended() } else { Step::More }
                }
                _ => Step::Bad(format!("{} in a literal", shown(b))),
            },
        }
    }

    /// At the end of the input: whether the value is whole (a top-level number whose digits
    /// can end there, as Go's decoder takes it at EOF).
    fn whole_at_end(&self) -> bool {
        self.stack.is_empty() && matches!(self.st, St::Zero | St::Int | St::Frac | St::ExpDigits)
    }
}

/// The values of a reader, one after another, as Go's `json.Decoder` finds them.
pub struct Values<R> {
    r: R,
    /// Bytes read so far (from where the reader started: `start` given to [`Values::new`]).
    offset: u64,
    /// Newlines read so far.
    newlines: u64,
}

impl<R: BufRead> Values<R> {
    /// Values from `r`, whose first byte is byte `start` of its file.
    pub fn new(r: R, start: u64) -> Self {
        Values {
            r,
            offset: start,
            newlines: 0,
        }
    }

    /// Bytes read so far, as an offset in the file.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// What the values were read from.
    pub fn into_inner(self) -> R {
        self.r
    }

    fn consume(&mut self, n: usize) {
        self.r.consume(n);
        self.offset += n as u64;
    }

    /// The next value when it is the rest of a line already in the reader's buffer and
    /// `whole` takes it: `whole(line)` is `Some` only when the line, up to its newline and at
    /// most `max` bytes, is one JSON value and whitespace (a strict JSON parser's yes, which Go's
    /// scanner agrees with: it ends that value where the parser did). Then the line is passed
    /// over and what `whole` made is returned with where the value starts (`at`, `line`, as
    /// [`Next::Value`]). Otherwise `None`, nothing but the whitespace before the value passed
    /// over, and [`Values::next`] walks the value byte by byte.
    ///
    /// A log is one entry a line: a whole line checked by the parser that decodes it anyway
    /// costs one search for its newline, where the byte-by-byte walk costs a step per byte.
    pub fn next_line<T>(
        &mut self,
        max: usize,
        whole: impl FnOnce(&[u8]) -> Option<T>,
    ) -> std::io::Result<Option<(T, u64, u64)>> {
        if !self.skip_space()? {
            return Ok(None);
        }
        let chunk = self.r.fill_buf()?;
        let window = chunk.get(..chunk.len().min(max.saturating_add(1))).unwrap_or_default();
        let Some(end) = memchr::memchr(b'\n', window) else {
            return Ok(None);
        };
        let Some(made) = chunk.get(..end).and_then(whole) else {
            return Ok(None);
        };
        let (at, line) = (self.offset, self.newlines + 1);
        self.consume(end);
        Ok(Some((made, at, line)))
    }

    /// Passes over whitespace; `false` at the end of the input.
    fn skip_space(&mut self) -> std::io::Result<bool> {
        loop {
            let chunk = self.r.fill_buf()?;
            if chunk.is_empty() {
                return Ok(false);
            }
            let spaces = chunk.iter().take_while(|&&b| is_space(b)).count();
            let nl = chunk
                .get(..spaces)
                .unwrap_or_default()
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.newlines += nl as u64;
            let more = spaces == chunk.len();
            self.consume(spaces);
            if !more {
                return Ok(true);
            }
        }
    }

    /// The next value, its bytes (at most `max` of them) in `buf` (cleared first).
    pub fn next(&mut self, buf: &mut Vec<u8>, max: usize) -> std::io::Result<Next> {
        buf.clear();
        if !self.skip_space()? {
            return Ok(Next::End);
        }
        let (at, line) = (self.offset, self.newlines + 1);
        let mut scanner = Scanner::new();
        let mut too_long = false;
        loop {
            let chunk = self.r.fill_buf()?;
            if chunk.is_empty() {
                if scanner.whole_at_end() {
                    break;
                }
                let what = "the file ends inside it".to_string();
                return Ok(Next::Broken {
                    at,
                    line,
                    bad: self.offset,
                    what,
                });
            }
            let mut taken = 0;
            let mut outcome = None;
            while let Some(&b) = chunk.get(taken) {
                // Most of a log's bytes are inside the `log` string: a run of them that
                // neither ends the string, starts an escape nor is a control byte changes
                // nothing, and is passed over at once.
                let run = scanner.plain_run(chunk.get(taken..).unwrap_or_default());
                if run > 0 {
                    taken += run;
                    continue;
                }
                match scanner.step(b) {
                    Step::More => taken += 1,
                    Step::Done => {
                        taken += 1;
                        outcome = Some(None);
                        break;
                    }
                    Step::DoneBefore => {
                        outcome = Some(None);
                        break;
                    }
                    Step::Bad(what) => {
                        outcome = Some(Some(what));
                        break;
                    }
                }
            }
            self.keep(buf, taken, max, &mut too_long);
            self.consume(taken);
            match outcome {
                None => {}
                Some(None) => break,
                Some(Some(what)) => {
                    return Ok(Next::Broken {
                        at,
                        line,
                        bad: self.offset,
                        what,
                    });
                }
            }
        }
        Ok(if too_long {
            buf.clear();
            Next::TooLong { at, line }
        } else {
            Next::Value { at, line }
        })
    }

    /// Passes over the rest of the line the reader is on, its newline included (where a
    /// broken value leaves off, the next line is where entries start again).
    pub fn skip_line(&mut self) -> std::io::Result<()> {
        loop {
            let chunk = self.r.fill_buf()?;
            if chunk.is_empty() {
                return Ok(());
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.newlines += 1;
                    self.consume(i + 1);
                    return Ok(());
                }
                None => {
                    let n = chunk.len();
                    self.consume(n);
                }
            }
        }
    }

    /// Keeps the first `n` bytes of the reader's buffer in `buf` while it stays within `max`,
    /// and counts their newlines.
    fn keep(&mut self, buf: &mut Vec<u8>, n: usize, max: usize, too_long: &mut bool) {
        let Ok(chunk) = self.r.fill_buf() else { return };
        let part = chunk.get(..n).unwrap_or_default();
        self.newlines += part.iter().filter(|&&b| b == b'\n').count() as u64;
        if *too_long {
            return;
        }
        if buf.len() + part.len() > max {
            *too_long = true;
            buf.clear();
        } else {
            buf.extend_from_slice(part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], max: usize) -> Vec<(Next, Vec<u8>)> {
        let mut v = Values::new(std::io::BufReader::with_capacity(3, input), 0);
        let mut out = Vec::new();
        let mut buf = Vec::new();
        loop {
            let n = v.next(&mut buf, max).unwrap();
            let stop = !matches!(n, Next::Value { .. } | Next::TooLong { .. });
            out.push((n, buf.clone()));
            if stop {
                return out;
            }
        }
    }

    #[test]
    fn values_are_found_as_go_s_decoder_finds_them() {
        let got = all(
            b"{\"a\":1} {\"b\":[1,2.5e-3,\"x\\\"\\u00e9\"]}\n{\"c\":\n true}\n\n",
            100,
        );
        let bufs: Vec<&[u8]> = got.iter().map(|(_, b)| b.as_slice()).collect();
        assert_eq!(
            bufs,
            [
                &b"{\"a\":1}"[..],
                b"{\"b\":[1,2.5e-3,\"x\\\"\\u00e9\"]}",
                b"{\"c\":\n true}",
                b""
            ]
        );
        assert_eq!(got.first().map(|g| &g.0), Some(&Next::Value { at: 0, line: 1 }));
        assert_eq!(got.get(2).map(|g| &g.0), Some(&Next::Value { at: 37, line: 2 }));
        assert_eq!(got.get(3).map(|g| &g.0), Some(&Next::End));
        // Top-level numbers end at the byte that cannot go on, and at the end of the input;
        // literals at their last byte.
        let got = all(b"12-3 null true0", 100);
        let bufs: Vec<&[u8]> = got.iter().map(|(_, b)| b.as_slice()).collect();
        assert_eq!(bufs, [&b"12"[..], b"-3", b"null", b"true", b"0", b""]);
    }

    #[test]
    fn what_is_no_value_is_broken_where_go_finds_it() {
        let broken = |input: &[u8]| match all(input, 100).pop() {
            Some((Next::Broken { at, bad, what, .. }, _)) => (at, bad, what),
            other => panic!("{other:?}"),
        };
        // An object cut, then the next: the `{` after the pair is where it breaks.
        let (at, bad, what) = broken(b"{\"a\":1}\n{\"log\":\"x\"\n{\"log\":\"y\"}\n");
        assert_eq!((at, bad), (8, 19), "{what}");
        assert!(what.contains("'{' after an object key:value pair"), "{what}");
        // A raw newline in a string; a cut value; a key that is no string; depth.
        assert_eq!(broken(b"{\"a\":\"x\ny\"}").1, 7);
        assert_eq!(broken(b"{\"a\":tru").2, "the file ends inside it");
        assert_eq!(broken(b"1.").2, "the file ends inside it");
        assert!(broken(b"{a:1}").2.contains("object key"));
        assert!(broken(b"stream\":1").2.contains("where a value starts"));
        let deep = [vec![b'['; MAX_DEPTH + 1], vec![b']'; MAX_DEPTH + 1]].concat();
        assert!(broken(&deep).2.contains("deeper"));
        let ok = [vec![b'['; MAX_DEPTH], vec![b']'; MAX_DEPTH]].concat();
        assert!(matches!(all(&ok, 1 << 20).first(), Some((Next::Value { .. }, _))));
    }

    #[test]
    fn a_value_past_the_bound_is_walked_not_held() {
        let long = [&b"{\"log\":\""[..], &[b'x'; 50], b"\"} {\"a\":2}"].concat();
        let got = all(&long, 20);
        assert_eq!(
            got.first().map(|g| (&g.0, g.1.len())),
            Some((&Next::TooLong { at: 0, line: 1 }, 0))
        );
        assert_eq!(got.get(1).map(|g| g.1.as_slice()), Some(&b"{\"a\":2}"[..]));
    }
}
