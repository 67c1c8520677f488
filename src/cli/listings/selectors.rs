//! containerd's filter language (`ctr ... ls FILTER`; containerd 1.6 `filters/`), read as its
//! scanner and parser read it, and matched through each listing's adaptor as containerd's
//! metadata adaptors match (`metadata/adaptors.go`, `content/adaptor.go`).
//!
//! Grammar, as containerd's scanner tokenizes it: `selector ("," selector)*`, a selector being
//! `fieldpath [op value]`, a fieldpath `field ("." field)*`. A field is `[A-Za-z0-9_]+` or a
//! `"..."` string (Go escapes: `\"`, `\\`, `\n`, `\x41`, `\u00e9`, `\101`...). An operator is
//! a run of `=`, `!`, `~`: `==`, `!=` or `~=`, any other run is an error. A value is a
//! `"..."` string (after `~=` also `/.../` or `|...|`, where only the quote character itself
//! is escaped) or a run of printable characters but space and `,` that does not start with
//! `.`, `,`, `=`, `!`, `~`, `"`, `/` or `|`. Spaces are skipped before a token, but one after a
//! value (or a bare fieldpath) is an error, as a trailing one is. The empty filter matches
//! everything. A selector without an operator tests that the field is present.
//!
//! Errors are containerd's words and positions (`filters: parse error: [name== >|||<
//! x|]: invalid quote encountered`), the position a byte offset as Go reports it.

use crate::cli::listings::goregex;

/// The listing a filter is for: which fields its adaptor knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Images,
    Content,
    Containers,
    Leases,
    Snapshots,
    /// coldctr's own (`ctr namespaces ls` takes no filter): `name` and `labels`.
    Namespaces,
}

/// Where a selector's field is in a row's JSON, as its listing's containerd adaptor finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// No such field: never present, its value empty.
    Absent,
    /// A string member at `path`: present when not empty, or always (`always`), its value
    /// empty when absent.
    Member {
        path: &'static [&'static str],
        always: bool,
    },
    /// A snapshot's kind, as containerd's adaptor names it: `active`, `view`, `committed`.
    SnapshotKind,
    /// The entry `key` (the rest of the path joined by `.`) of the map at `path`: present when
    /// the map is not empty and has the key (`None`: a key that is not UTF-8, no entry).
    Map {
        path: &'static [&'static str],
        key: Option<String>,
    },
}

impl Field {
    /// The row member the field is in, if any.
    pub fn top(&self) -> Option<&'static str> {
        match self {
            Field::Absent => None,
            Field::Member { path, .. } | Field::Map { path, .. } => path.first().copied(),
            Field::SnapshotKind => Some("kind"),
        }
    }

    /// containerd's `Field(fieldpath)` on a row's JSON: the value and whether it is present.
    pub fn get(&self, row: &serde_json::Value) -> (String, bool) {
        let at = |path: &[&str]| path.iter().try_fold(row, |v, k| v.get(k));
        match self {
            Field::Absent => (String::new(), false),
            Field::Member { path, always } => {
                let v = at(path).and_then(|v| v.as_str()).unwrap_or("").to_string();
                let present = *always || !v.is_empty();
                (v, present)
            }
            Field::SnapshotKind => match at(&["kind"]).and_then(|v| v.as_str()) {
                Some("Active") => ("active".into(), true),
                Some("View") => ("view".into(), true),
                Some("Committed") => ("committed".into(), true),
                _ => (String::new(), false),
            },
            Field::Map { path, key } => {
                let Some(map) = at(path).and_then(|m| m.as_object()).filter(|m| !m.is_empty()) else {
                    return (String::new(), false);
                };
                match key.as_deref().and_then(|k| map.get(k)) {
                    Some(v) => (v.as_str().unwrap_or("").to_string(), true),
                    None => (String::new(), false),
                }
            }
        }
    }
}

/// The adaptor of `kind` (containerd 1.6 `metadata/adaptors.go`): field names are
/// case-sensitive and only these exist; a first field it knows ignores any after it
/// (`name.x` is `name`), `labels` joins the rest with `.` into one key.
pub fn resolve(kind: Kind, path: &[Vec<u8>]) -> Field {
    let part = |i: usize| path.get(i).and_then(|p| std::str::from_utf8(p).ok());
    let map = |at: &'static [&'static str]| {
        let rest: Option<Vec<&str>> = path.iter().skip(1).map(|p| std::str::from_utf8(p).ok()).collect();
        Field::Map {
            path: at,
            key: rest.map(|r| r.join(".")),
        }
    };
    let member = |at: &'static [&'static str], always: bool| Field::Member { path: at, always };
    match (kind, part(0)) {
        (_, Some("labels")) => map(&["labels"]),
        (Kind::Images, Some("name")) | (Kind::Namespaces, Some("name")) => member(&["name"], false),
        (Kind::Images, Some("target")) => match part(1) {
            Some("digest") => member(&["target", "digest"], false),
            Some("mediatype") => member(&["target", "mediaType"], false),
            _ => Field::Absent,
        },
        (Kind::Images, Some("annotations")) => map(&["target", "annotations"]),
        (Kind::Containers | Kind::Leases, Some("id")) => member(&["id"], false),
        (Kind::Containers, Some("image")) => member(&["image"], false),
        (Kind::Containers, Some("runtime")) if part(1) == Some("name") => member(&["runtime"], false),
        (Kind::Content, Some("digest")) => member(&["digest"], true),
        (Kind::Snapshots, Some("kind")) => Field::SnapshotKind,
        (Kind::Snapshots, Some("name")) => member(&["key"], true),
        (Kind::Snapshots, Some("parent")) => member(&["parent"], true),
        _ => Field::Absent,
    }
}

pub enum Op {
    Present,
    Equal(Vec<u8>),
    NotEqual(Vec<u8>),
    /// The compiled pattern; `None` when Go's `regexp` would not compile it (containerd's
    /// selector then logs the error and matches nothing).
    Matches(Option<regex::Regex>),
}

pub struct Selector {
    pub field: Field,
    pub op: Op,
}

impl Selector {
    /// containerd's `selector.Match` on a row's JSON.
    pub fn matches(&self, row: &serde_json::Value) -> bool {
        let (value, present) = self.field.get(row);
        match &self.op {
            Op::Present => present,
            Op::Equal(want) => present && value.as_bytes() == want.as_slice(),
            Op::NotEqual(want) => value.as_bytes() != want.as_slice(),
            Op::Matches(re) => re.as_ref().is_some_and(|re| re.is_match(&value)),
        }
    }
}

/// A parse error: containerd's `parseError`, before `ParseAll` and the client add their words.
#[derive(Debug, PartialEq, Eq)]
pub struct ParseError {
    /// `filters: parse error: [before >|at|< after]: message`, the filter's bytes escaped
    /// only where they would be a hazard on a terminal (`at` is one byte, as Go cuts it: a
    /// piece of a character shows as `\xNN`).
    pub text: String,
    /// The same as containerd's bytes, unescaped.
    pub raw: Vec<u8>,
}

/// A token of containerd's scanner (`filters/scanner.go`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Eof,
    Illegal,
    Quoted,
    Value,
    Field,
    Separator,
    Operator,
    /// Any other character, as itself.
    Other(char),
}

/// What the scanner's `next` reads: a character, the end, or an illegal one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rune {
    Eof,
    Illegal,
    Char(char),
}

struct Scanner<'a> {
    input: &'a str,
    /// Start of the current character.
    pos: usize,
    /// End of the current character.
    ppos: usize,
    /// The next token is a value (after an operator).
    value: bool,
    /// The first error met, sticky as containerd's.
    err: Option<&'static str>,
}

fn is_field_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

fn is_quote(c: char) -> bool {
    matches!(c, '/' | '|' | '"')
}

/// Go's `unicode.IsGraphic` but space, and not `,`: letters, marks, numbers, punctuation and
/// symbols (Go's `isValueRune`).
fn is_value_char(c: char) -> bool {
    if c == ',' || c.is_whitespace() {
        return false;
    }
    static GRAPHIC: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let mut buf = [0u8; 4];
    GRAPHIC
        .get_or_init(|| regex::Regex::new(r"^[\p{L}\p{M}\p{N}\p{P}\p{S}]$").ok())
        .as_ref()
        .is_some_and(|re| re.is_match(c.encode_utf8(&mut buf)))
}

impl<'a> Scanner<'a> {
    fn error(&mut self, msg: &'static str) {
        if self.err.is_none() {
            self.err = Some(msg);
        }
    }

    fn next(&mut self) -> Rune {
        if self.pos >= self.input.len() {
            return Rune::Eof;
        }
        self.pos = self.ppos;
        let Some(c) = self.input.get(self.ppos..).and_then(|s| s.chars().next()) else {
            return Rune::Eof;
        };
        self.ppos += c.len_utf8();
        // Go's decoder cannot tell U+FFFD from a bad byte: both are a "rune error".
        if c == '\u{FFFD}' {
            self.error("rune error");
            return Rune::Illegal;
        }
        if c == '\0' {
            self.error("unexpected null");
            return Rune::Illegal;
        }
        Rune::Char(c)
    }

    fn peek(&mut self) -> Rune {
        let (pos, ppos) = (self.pos, self.ppos);
        let r = self.next();
        self.pos = pos;
        self.ppos = ppos;
        r
    }

    fn text(&self, from: usize) -> &'a str {
        self.input.get(from..self.ppos).unwrap_or("")
    }

    /// The next token: where it starts, what it is, its text.
    fn scan(&mut self) -> (usize, Tok, &'a str) {
        let mut ch = self.next();
        let mut pos = self.pos;
        loop {
            let c = match ch {
                Rune::Eof => return (self.pos, Tok::Eof, ""),
                Rune::Illegal => return (self.pos, Tok::Illegal, ""),
                Rune::Char(c) => c,
            };
            if is_quote(c) {
                let ok = self.scan_quoted(c);
                return (pos, if ok { Tok::Quoted } else { Tok::Illegal }, self.text(pos));
            }
            if c == ',' || c == '.' {
                self.value = false;
                return (pos, Tok::Separator, self.text(pos));
            }
            if matches!(c, '=' | '!' | '~') {
                while matches!(self.peek(), Rune::Char('=' | '!' | '~')) {
                    self.next();
                }
                self.value = true;
                return (pos, Tok::Operator, self.text(pos));
            }
            if c.is_whitespace() {
                ch = self.next();
                pos = self.pos;
                continue;
            }
            if self.value {
                while matches!(self.peek(), Rune::Char(c) if is_value_char(c)) {
                    self.next();
                }
                self.value = false;
                return (pos, Tok::Value, self.text(pos));
            }
            if is_field_char(c) {
                while matches!(self.peek(), Rune::Char(c) if is_field_char(c)) {
                    self.next();
                }
                return (pos, Tok::Field, self.text(pos));
            }
            return (self.pos, Tok::Other(c), "");
        }
    }

    fn scan_quoted(&mut self, quote: char) -> bool {
        let mut illegal = false;
        let mut ch = self.next();
        while ch != Rune::Char(quote) {
            match ch {
                Rune::Eof | Rune::Illegal | Rune::Char('\n') => {
                    self.error("quoted literal not terminated");
                    return false;
                }
                Rune::Char('\\') => {
                    let (c, legal) = self.scan_escape(quote);
                    ch = c;
                    illegal |= !legal;
                }
                Rune::Char(_) => ch = self.next(),
            }
        }
        !illegal
    }

    fn scan_escape(&mut self, quote: char) -> (Rune, bool) {
        let ch = self.next();
        match ch {
            Rune::Char('a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\') => (self.next(), true),
            Rune::Char(c) if c == quote => (self.next(), true),
            Rune::Char('0'..='7') => self.scan_digits(ch, 8, 3),
            Rune::Char('x') => {
                let c = self.next();
                self.scan_digits(c, 16, 2)
            }
            Rune::Char('u') => {
                let c = self.next();
                self.scan_digits(c, 16, 4)
            }
            Rune::Char('U') => {
                let c = self.next();
                self.scan_digits(c, 16, 8)
            }
            _ => {
                self.error("illegal escape sequence");
                (ch, false)
            }
        }
    }

    fn scan_digits(&mut self, mut ch: Rune, base: u32, mut n: u32) -> (Rune, bool) {
        while n > 0 && matches!(ch, Rune::Char(c) if c.to_digit(16).is_some_and(|d| d < base)) {
            ch = self.next();
            n -= 1;
        }
        if n > 0 {
            self.error("illegal numeric escape sequence");
            return (ch, false);
        }
        (ch, true)
    }
}

struct Parser<'a> {
    input: &'a str,
    sc: Scanner<'a>,
    kind: Kind,
    /// The `~=` patterns of the filter set, compiled.
    patterns: &'a mut goregex::Patterns,
}

impl Parser<'_> {
    fn mkerr(&self, pos: usize, msg: &str) -> ParseError {
        let b = self.input.as_bytes();
        let parts: Vec<&[u8]> = match (b.get(..pos), b.get(pos..=pos), b.get(pos + 1..)) {
            (Some(before), Some(at), Some(after)) if pos < b.len() => {
                vec![b"[", before, b" >|", at, b"|< ", after, b"]: ", msg.as_bytes()]
            }
            _ => vec![b"[", b, b"]: ", msg.as_bytes()],
        };
        let mut raw = b"filters: parse error: ".to_vec();
        let mut text = String::from("filters: parse error: ");
        for p in parts {
            raw.extend_from_slice(p);
            text.push_str(&crate::text::escape_hazards_bytes(p));
        }
        ParseError { text, raw }
    }

    fn scanner_err(&self, pos: usize) -> ParseError {
        self.mkerr(pos, self.sc.err.unwrap_or(""))
    }

    fn selectors(&mut self) -> Result<Vec<Selector>, ParseError> {
        let mut all = vec![self.selector()?];
        loop {
            match self.sc.peek() {
                Rune::Char(',') => {
                    let (pos, tok, _) = self.sc.scan();
                    if tok != Tok::Separator {
                        return Err(self.mkerr(pos, "expected a separator"));
                    }
                    all.push(self.selector()?);
                }
                Rune::Eof => return Ok(all),
                other => {
                    let c = match other {
                        Rune::Char(c) => c,
                        _ => '\u{FFFD}',
                    };
                    return Err(self.mkerr(self.sc.ppos, &format!("unexpected input: {c}")));
                }
            }
        }
    }

    fn selector(&mut self) -> Result<Selector, ParseError> {
        let path = self.fieldpath()?;
        let field = resolve(self.kind, &path);
        if matches!(self.sc.peek(), Rune::Char(',') | Rune::Eof) {
            return Ok(Selector { field, op: Op::Present });
        }
        let (pos, tok, text) = self.sc.scan();
        let op = match tok {
            Tok::Operator => match text {
                "==" | "!=" | "~=" => text,
                _ => return Err(self.mkerr(pos, &format!("unsupported operator {text:?}"))),
            },
            Tok::Illegal => return Err(self.scanner_err(pos)),
            _ => return Err(self.mkerr(pos, r#"expected an operator ("=="|"!="|"~=")"#)),
        };
        let value = self.value(op == "~=")?;
        let op = match op {
            "==" => Op::Equal(value),
            "!=" => Op::NotEqual(value),
            _ => Op::Matches(String::from_utf8(value).ok().and_then(|v| self.patterns.compile(&v))),
        };
        Ok(Selector { field, op })
    }

    fn fieldpath(&mut self) -> Result<Vec<Vec<u8>>, ParseError> {
        let mut path = vec![self.field()?];
        while self.sc.peek() == Rune::Char('.') {
            let (pos, tok, _) = self.sc.scan();
            if tok != Tok::Separator {
                return Err(self.mkerr(pos, "expected a field separator (`.`)"));
            }
            path.push(self.field()?);
        }
        Ok(path)
    }

    fn field(&mut self) -> Result<Vec<u8>, ParseError> {
        let (pos, tok, text) = self.sc.scan();
        match tok {
            Tok::Field => Ok(text.as_bytes().to_vec()),
            Tok::Quoted => self.unquote(pos, text, false),
            Tok::Illegal => Err(self.scanner_err(pos)),
            _ => Err(self.mkerr(pos, "expected field or quoted")),
        }
    }

    fn value(&mut self, alt_quotes: bool) -> Result<Vec<u8>, ParseError> {
        let (pos, tok, text) = self.sc.scan();
        match tok {
            Tok::Value | Tok::Field => Ok(text.as_bytes().to_vec()),
            Tok::Quoted => self.unquote(pos, text, alt_quotes),
            Tok::Illegal => Err(self.scanner_err(pos)),
            _ => Err(self.mkerr(pos, "expected value or quoted")),
        }
    }

    fn unquote(&self, pos: usize, text: &str, alt_quotes: bool) -> Result<Vec<u8>, ParseError> {
        if !alt_quotes && !text.starts_with('"') {
            return Err(self.mkerr(pos, "invalid quote encountered"));
        }
        unquote(text).ok_or_else(|| self.mkerr(pos, "unquoting failed: quote syntax error"))
    }
}

/// containerd's `unquote` (Go's `strconv.Unquote` with `/` and `|` as double quotes): the
/// bytes the quoted string stands for (`\xff` is one byte, not UTF-8), `None` on Go's
/// `quote syntax error`.
pub fn unquote(s: &str) -> Option<Vec<u8>> {
    let quote = s.chars().next()?;
    let inner = s.get(1..s.len().checked_sub(1)?)?;
    if s.len() < 2 || !s.ends_with(quote) || !matches!(quote, '"' | '/' | '|') || inner.contains('\n') {
        return None;
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(c) = rest.chars().next() {
        rest = rest.get(c.len_utf8()..)?;
        if c == quote {
            return None;
        }
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let e = rest.chars().next()?;
        rest = rest.get(e.len_utf8()..)?;
        let hex = |rest: &mut &str, n: usize| -> Option<u32> {
            let digits = rest.get(..n)?;
            let v = digits.chars().try_fold(0u32, |v, d| Some((v << 4) | d.to_digit(16)?))?;
            *rest = rest.get(n..)?;
            Some(v)
        };
        match e {
            'a' => out.push(7),
            'b' => out.push(8),
            'f' => out.push(12),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            'v' => out.push(11),
            '\\' => out.push(b'\\'),
            'x' => out.push(u8::try_from(hex(&mut rest, 2)?).ok()?),
            'u' | 'U' => {
                let v = hex(&mut rest, if e == 'u' { 4 } else { 8 })?;
                if v > 0x10FFFF {
                    return None;
                }
                // A surrogate encodes as U+FFFD, as Go's utf8.EncodeRune writes it.
                let c = char::from_u32(v).unwrap_or('\u{FFFD}');
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            '0'..='7' => {
                let digits = rest.get(..2)?;
                let mut v = e.to_digit(8)?;
                for d in digits.chars() {
                    v = (v << 3) | d.to_digit(8)?;
                }
                rest = rest.get(2..)?;
                out.push(u8::try_from(v).ok()?);
            }
            '\'' | '"' | '|' | '/' if e == quote => out.push(e as u8),
            _ => return None,
        }
    }
    Some(out)
}

/// Parses one filter (containerd's `filters.Parse`): `Ok(None)` for the empty filter, which
/// matches everything.
#[cfg(test)]
pub fn parse(input: &str, kind: Kind) -> Result<Option<Vec<Selector>>, ParseError> {
    parse_with(input, kind, &mut goregex::Patterns::default())
}

/// [`parse`], its `~=` patterns compiled in `patterns`, the filter set's.
pub fn parse_with(
    input: &str,
    kind: Kind,
    patterns: &mut goregex::Patterns,
) -> Result<Option<Vec<Selector>>, ParseError> {
    if input.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        input,
        sc: Scanner {
            input,
            pos: 0,
            ppos: 0,
            value: false,
            err: None,
        },
        kind,
        patterns,
    };
    p.selectors().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        match parse(s, Kind::Images) {
            Err(e) => e.text,
            Ok(_) => "ok".into(),
        }
    }

    #[test]
    fn containerd_errors_word_for_word() {
        let cases = [
            (
                "name==Upper/Case:bad ",
                "[name==Upper/Case:bad >| |< ]: unexpected input:  ",
            ),
            (
                r#"labels."with space"==a b"#,
                r#"[labels."with space"==a >| |< b]: unexpected input:  "#,
            ),
            (r"name~=.*\.io", r"[name~= >|.|< *\.io]: expected value or quoted"),
            (
                "labels.x.y/z==1",
                "[labels.x.y >|/|< z==1]: quoted literal not terminated",
            ),
            (
                "name==|Upper/Case:bad|",
                "[name== >|||< Upper/Case:bad|]: invalid quote encountered",
            ),
            ("name=x", r#"[name >|=|< x]: unsupported operator "=""#),
            ("name ", "[name ]: expected an operator (\"==\"|\"!=\"|\"~=\")"),
            (" ", "[ ]: expected field or quoted"),
            ("name==", "[name==]: expected value or quoted"),
            ("name==x,", "[name==x,]: expected field or quoted"),
            (r#"name=="\q""#, r#"[name== >|"|< \q"]: illegal escape sequence"#),
            (
                r#"name=="\777""#,
                r#"[name== >|"|< \777"]: unquoting failed: quote syntax error"#,
            ),
            (
                r#"name=="\x4""#,
                r#"[name== >|"|< \x4"]: illegal numeric escape sequence"#,
            ),
            ("-x", "[ >|-|< x]: expected field or quoted"),
        ];
        for (filter, want) in cases {
            assert_eq!(err(filter), format!("filters: parse error: {want}"), "{filter}");
        }
        assert_eq!(
            err("é==x"),
            "filters: parse error: [ >|\\xc3|< \\xa9==x]: expected field or quoted"
        );
    }

    #[test]
    fn what_parses() {
        for ok in [
            "name",
            "name,labels.x",
            "labels.\"a b\"==\"x y\"",
            "name~=/a\\/b/",
            r"name~=|a\|b|",
            "  name == x",
            "name==x, labels.y",
            "name==a=b.c/d:e",
            r#"name=="\u00e9\x41\101""#,
        ] {
            assert_eq!(err(ok), "ok", "{ok}");
        }
        assert!(parse("", Kind::Images).is_ok_and(|f| f.is_none()));
        assert_eq!(unquote(r#""\u00e9\x41\101""#), Some("éAA".as_bytes().to_vec()));
        assert_eq!(unquote(r"|a\|b|"), Some(b"a|b".to_vec()));
        assert_eq!(unquote(r"/a\|b/"), None);
        assert_eq!(unquote(r#""\xff""#), Some(vec![0xff]));
    }

    #[test]
    fn adaptors_know_their_fields_only() {
        let row = serde_json::json!({
            "name": "docker.io/x:1",
            "target": {"digest": "sha256:aa", "mediaType": "m", "size": 3, "annotations": {"a.b": "c"}},
            "labels": {"k": "v", "x.y": "z"},
        });
        let get = |p: &str| {
            let path: Vec<Vec<u8>> = p.split('.').map(|s| s.as_bytes().to_vec()).collect();
            resolve(Kind::Images, &path).get(&row)
        };
        assert_eq!(get("name"), ("docker.io/x:1".into(), true));
        assert_eq!(get("name.whatever"), ("docker.io/x:1".into(), true));
        assert_eq!(get("Name"), (String::new(), false));
        assert_eq!(get("target.size"), (String::new(), false));
        assert_eq!(get("target.Digest"), (String::new(), false));
        assert_eq!(get("target.mediatype"), ("m".into(), true));
        assert_eq!(get("labels.x.y"), ("z".into(), true));
        assert_eq!(get("annotations.a.b"), ("c".into(), true));
        assert_eq!(get("labels"), (String::new(), false));
    }

    /// Every filter of the capture (tools/lab/filtercases: containerd 1.6's `filters.Parse`):
    /// the same error, word for word, or none.
    #[test]
    fn as_containerd_parses() {
        let text = include_str!("../../../fixtures/expected/containerd-filters/cases.jsonl");
        let mut wrong = Vec::new();
        let mut seen = 0;
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            let Some(filter) = v.get("filter").and_then(|p| p.as_str()) else {
                continue;
            };
            seen += 1;
            let want = v.get("error").and_then(|e| e.as_str()).unwrap_or("ok");
            // Go's JSON writes each byte that is not UTF-8 as U+FFFD.
            let got = match parse(filter, Kind::Images) {
                Err(e) => String::from_utf8_lossy(&e.raw).to_string(),
                Ok(_) => "ok".into(),
            };
            if got != want {
                wrong.push(format!("{filter:?}: {got:?}, containerd: {want:?}"));
            }
        }
        assert!(seen > 100);
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
