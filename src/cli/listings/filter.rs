//! `--filter` of the listings, in the two syntaxes users bring:
//!
//! - **docker's** `key=value` (`docker image ls --filter`): the key is checked against the
//!   listing's accepted keys, and an unknown one is a usage error with dockerd's message
//!   (`invalid filter 'foo'`). Values of one key are OR'd for `reference`, every `label` /
//!   `label!` must hold, different keys are AND'd (moby `daemon/containerd/image_list.go`).
//! - **containerd's** selectors (`ctr ... ls FILTER`, containerd `pkg/filters`):
//!   `fieldpath[(==|!=|~=)value]` joined by `,` (all must hold), e.g. `labels."k"==v`,
//!   `name~=^docker\.io/`, `target.mediatype!=x`. Several such filters: any may hold. A value
//!   or field may be quoted with `"..."`; a `~=` value may be written `/regex/`.
//!
//! A filter is containerd's when it has `==`, `~=`, a `!=` not after `label`, a field path before
//! its `=`, or no `=` but a `.`; otherwise it is docker's. The two kinds are AND'd.

use crate::cli::{Failure, Outcome};
use foldhash::HashSet;
use serde_json::Value;
use std::collections::BTreeMap;

/// The parsed `--filter` flags of one listing.
#[derive(Default)]
pub struct Filters {
    /// docker-form filters: key (lowercase) → values, in the order given.
    docker: BTreeMap<String, Vec<String>>,
    /// containerd filters: any of them, each a list of selectors that must all hold.
    ctr: Vec<Vec<Selector>>,
}

enum Op {
    Present,
    Equal(String),
    NotEqual(String),
    Matches(regex_lite::Regex),
}

struct Selector {
    path: Vec<String>,
    op: Op,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(Outcome::Usage, message)
}

impl Filters {
    /// Parses every `--filter` value; `accepted` are the docker keys this listing knows.
    pub fn parse(specs: &[String], accepted: &[&str]) -> Result<Filters, Failure> {
        let mut f = Filters::default();
        for spec in specs {
            if is_containerd(spec) {
                f.ctr.push(parse_selectors(spec)?);
                continue;
            }
            // docker's filters.ParseFlag, then the daemon's Validate.
            let Some((key, value)) = spec.split_once('=') else {
                return Err(usage("bad format of filter (expected name=value)"));
            };
            let key = key.trim().to_ascii_lowercase();
            if !accepted.contains(&key.as_str()) {
                return Err(usage(format!(
                    "invalid filter '{}'",
                    crate::text::escape(key.as_bytes())
                )));
            }
            f.docker.entry(key).or_default().push(value.trim().to_string());
        }
        Ok(f)
    }

    pub fn is_empty(&self) -> bool {
        self.docker.is_empty() && self.ctr.is_empty()
    }

    /// The values given for docker key `key`.
    pub fn values(&self, key: &str) -> &[String] {
        self.docker.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// `dangling=true|false` (moby's `GetBoolOrDefault`), if given.
    pub fn dangling(&self) -> Result<Option<bool>, Failure> {
        let mut want = None;
        for v in self.values("dangling") {
            let b = match v.to_ascii_lowercase().as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => {
                    return Err(usage(format!(
                        "invalid filter 'dangling={}'",
                        crate::text::escape(v.as_bytes())
                    )));
                }
            };
            if want.is_some_and(|w| w != b) {
                return Err(usage("conflicting dangling filters"));
            }
            want = Some(b);
        }
        Ok(want)
    }

    /// The containerd selectors on a row's JSON object (`aliases` map containerd's field
    /// names to ours, e.g. `runtime.name` → `runtime`).
    pub fn ctr_matches(&self, row: &Value, aliases: &[(&str, &str)]) -> bool {
        self.ctr.is_empty() || self.ctr.iter().any(|all| all.iter().all(|s| s.matches(row, aliases)))
    }

    /// docker's `label=KEY`, `label=KEY=VALUE`, `label!=KEY[=VALUE]` (and `label=KEY!=VALUE`)
    /// on one set of labels: every check must hold.
    pub fn labels_match(&self, labels: &BTreeMap<String, String>) -> bool {
        let checks = [("label", false), ("label!", true)];
        checks.iter().all(|(key, negated)| {
            self.values(key).iter().all(|spec| {
                let (k, v) = match spec.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (spec.as_str(), None),
                };
                let (k, negate) = match k.strip_suffix('!') {
                    Some(k) => (k, !negated),
                    None => (k, *negated),
                };
                match (labels.get(k), v) {
                    (found, None) => found.is_some() != negate,
                    (None, Some(_)) => false,
                    (Some(have), Some(want)) => (have == want) != negate,
                }
            })
        })
    }

    /// Whether any containerd selector (`FIELD==V` and the like) was given.
    pub fn has_fields(&self) -> bool {
        !self.ctr.is_empty()
    }

    /// Whether any docker label filter was given.
    pub fn has_labels(&self) -> bool {
        !self.values("label").is_empty() || !self.values("label!").is_empty()
    }

    /// The containerd selectors as far as they can be tested before a row is made: on the
    /// members of its JSON named `known` (the names as the row prints them), which must be
    /// whole and the only members of the row equal to their names but for case (`lookup`
    /// finds a member without regard to case). See [`Early`].
    pub fn early<'f, 'k>(&'f self, known: &[&'k str], aliases: &'f [(&'f str, &'f str)]) -> Early<'f, 'k> {
        let mut used: Vec<&'k str> = Vec::new();
        let mut tested = Vec::with_capacity(self.ctr.len());
        for all in &self.ctr {
            let mine: Vec<bool> = all
                .iter()
                .map(
                    |s| match known.iter().find(|k| k.eq_ignore_ascii_case(s.top_field(aliases))) {
                        Some(k) => {
                            if !used.contains(k) {
                                used.push(k);
                            }
                            true
                        }
                        None => false,
                    },
                )
                .collect();
            tested.push(mine);
        }
        Early {
            filters: self,
            aliases,
            exact: tested.iter().flatten().all(|t| *t),
            tested,
            used,
        }
    }
}

/// The containerd selectors that read only members of a row known before the row is made
/// (an image record's fields, before its target is analysed; a content record's, before its
/// blob is looked at). [`Early::may_match`] keeps every row the whole filter would keep: a
/// selector on another member is taken to hold, so a row it passes may still be dropped by
/// [`Filters::ctr_matches`] on the finished row, and one it drops never passes that.
pub struct Early<'f, 'k> {
    filters: &'f Filters,
    aliases: &'f [(&'f str, &'f str)],
    /// Per filter, per selector: whether it reads a known member.
    tested: Vec<Vec<bool>>,
    /// The known members some selector reads, the only ones [`Early::may_match`] asks for.
    used: Vec<&'k str>,
    /// Every selector reads known members: [`Early::may_match`] is the containerd filters'
    /// whole answer.
    exact: bool,
}

impl Early<'_, '_> {
    /// Whether some selector is tested early (else every row may match).
    pub fn tests(&self) -> bool {
        !self.used.is_empty()
    }

    /// Whether [`Early::may_match`] is the containerd filters' whole answer.
    pub fn is_exact(&self) -> bool {
        self.exact
    }

    /// Whether a row may pass the containerd filters, from its known members: `member` gives
    /// the JSON of the one named (asked only for those a selector reads).
    pub fn may_match(&self, member: impl Fn(&str) -> Value) -> bool {
        if self.filters.ctr.is_empty() {
            return true;
        }
        let row: serde_json::Map<String, Value> = self.used.iter().map(|k| (k.to_string(), member(k))).collect();
        let row = Value::Object(row);
        self.filters.ctr.iter().zip(&self.tested).any(|(all, tested)| {
            all.iter()
                .zip(tested)
                .all(|(s, known)| !known || s.matches(&row, self.aliases))
        })
    }
}

/// Whether a `--filter` value is in containerd's syntax rather than docker's: docker's is a
/// bare word, `=`, then anything (`label=a!=b` is docker's); containerd's has `==`, `!=`
/// (but `label!=`), `~=`, or is a field path alone.
fn is_containerd(spec: &str) -> bool {
    let Some((key, value)) = spec.split_once('=') else {
        return spec.contains('.') || spec.contains('"');
    };
    if value.starts_with('=') || key.ends_with('~') {
        return true;
    }
    if let Some(k) = key.strip_suffix('!') {
        return !k.trim().eq_ignore_ascii_case("label");
    }
    !key.trim()
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Selector {
    /// The member of the row this selector reads (its first field, after `aliases`), as
    /// [`lookup`] finds it.
    fn top_field<'s>(&'s self, aliases: &'s [(&str, &str)]) -> &'s str {
        let first = self.path.first().map_or("", String::as_str);
        let joined = match self.path.get(1) {
            Some(second) if self.path.len() == 2 => format!("{first}.{second}"),
            _ => first.to_string(),
        };
        match aliases.iter().find(|(from, _)| *from == joined && self.path.len() <= 2) {
            Some((_, to)) => to.split('.').next().unwrap_or(""),
            None => first,
        }
    }

    fn matches(&self, row: &Value, aliases: &[(&str, &str)]) -> bool {
        let value = lookup(row, &self.path, aliases);
        match &self.op {
            Op::Present => value.is_some(),
            Op::Equal(want) => value.as_deref() == Some(want.as_str()),
            Op::NotEqual(want) => value.as_deref().unwrap_or("") != want,
            Op::Matches(re) => re.is_match(value.as_deref().unwrap_or("")),
        }
    }
}

/// The field at `path` of a row as containerd's adaptors give it: field names match ours
/// without regard to case (`target.mediatype`), the keys of `labels` exactly; numbers and
/// booleans as text; absent, null, objects and arrays are not values.
fn lookup(row: &Value, path: &[String], aliases: &[(&str, &str)]) -> Option<String> {
    let joined = path.first().map(|first| {
        if path.len() == 2 {
            format!("{first}.{}", path.get(1).map_or("", String::as_str))
        } else {
            first.clone()
        }
    });
    let aliased: Vec<String>;
    let path = match aliases
        .iter()
        .find(|(from, _)| joined.as_deref() == Some(*from) && (path.len() <= 2))
    {
        Some((_, to)) => {
            aliased = to.split('.').map(str::to_string).collect();
            aliased.as_slice()
        }
        None => path,
    };
    let mut v = row;
    let mut in_labels = false;
    for part in path {
        let obj = v.as_object()?;
        v = if in_labels {
            obj.get(part)?
        } else {
            obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(part)).map(|(_, v)| v)?
        };
        in_labels = part.eq_ignore_ascii_case("labels");
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A small scanner over one containerd filter string.
struct Scanner<'a> {
    s: &'a str,
    at: usize,
}

impl Scanner<'_> {
    fn rest(&self) -> &str {
        self.s.get(self.at..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn error(&self, what: &str) -> Failure {
        usage(format!(
            "filter {:?}: {what} at offset {}",
            crate::text::escape(self.s.as_bytes()),
            self.at
        ))
    }

    /// A `"..."` or `/.../` quoted string, Go-style escapes `\"`, `\\`, `\/`, `\n`, `\t`.
    fn quoted(&mut self, quote: char) -> Result<String, Failure> {
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error("unterminated quoted string")),
                Some(c) if c == quote => return Ok(out),
                Some('\\') => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    // In a regex, other escapes belong to the regex.
                    Some(c) if c == quote || c == '\\' || quote == '"' => out.push(c),
                    Some(c) => {
                        out.push('\\');
                        out.push(c);
                    }
                    None => return Err(self.error("unterminated quoted string")),
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn field(&mut self) -> Result<String, Failure> {
        self.skip_spaces();
        if self.peek() == Some('"') {
            return self.quoted('"');
        }
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' || c == '-' || c == '/' {
                out.push(c);
                self.bump();
            } else {
                break;
            }
        }
        if out.is_empty() {
            return Err(self.error("expected a field name"));
        }
        Ok(out)
    }

    fn value(&mut self) -> Result<String, Failure> {
        self.skip_spaces();
        match self.peek() {
            Some('"') => self.quoted('"'),
            Some('/') => self.quoted('/'),
            _ => {
                let mut out = String::new();
                while let Some(c) = self.peek() {
                    if c == ',' {
                        break;
                    }
                    out.push(c);
                    self.bump();
                }
                let out = out.trim_end().to_string();
                if out.is_empty() {
                    return Err(self.error("expected a value"));
                }
                Ok(out)
            }
        }
    }
}

fn parse_selectors(spec: &str) -> Result<Vec<Selector>, Failure> {
    let mut sc = Scanner { s: spec, at: 0 };
    let mut out = Vec::new();
    loop {
        let mut path = vec![sc.field()?];
        while sc.peek() == Some('.') {
            sc.bump();
            path.push(sc.field()?);
        }
        sc.skip_spaces();
        let rest = sc.rest();
        let op = if rest.is_empty() || rest.starts_with(',') {
            Op::Present
        } else if let Some(op) = ["==", "!=", "~="].into_iter().find(|op| rest.starts_with(op)) {
            sc.at += 2;
            let value = sc.value()?;
            match op {
                "==" => Op::Equal(value),
                "!=" => Op::NotEqual(value),
                _ => Op::Matches(
                    regex_lite::Regex::new(&value).map_err(|e| sc.error(&format!("bad regular expression: {e}")))?,
                ),
            }
        } else {
            return Err(sc.error("expected ==, != or ~="));
        };
        out.push(Selector { path, op });
        sc.skip_spaces();
        match sc.bump() {
            None => return Ok(out),
            Some(',') => {}
            Some(_) => return Err(sc.error("expected ,")),
        }
    }
}

/// Go's `path.Match`: `*` is any run of characters but `/`, `?` one character but `/`,
/// `[...]` a class (`^` negates, `a-z` ranges), `\` escapes. A malformed pattern matches
/// nothing (moby's reference filter treats the error as no match).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let Some(tokens) = tokenize(pattern) else {
        return false;
    };
    let name: Vec<char> = name.chars().collect();
    let mut failed = HashSet::default();
    glob_at(&tokens, &name, 0, 0, &mut failed)
}

/// Whether Go's `path.Match` takes `pattern` (it answers `ErrBadPattern`, "syntax error in
/// pattern", otherwise).
pub fn glob_valid(pattern: &str) -> bool {
    tokenize(pattern).is_some()
}

enum Tok {
    Star,
    Any,
    Lit(char),
    Class { negated: bool, ranges: Vec<(char, char)> },
}

fn tokenize(pattern: &str) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(match c {
            '*' => Tok::Star,
            '?' => Tok::Any,
            '\\' => Tok::Lit(chars.next()?),
            '[' => {
                let negated = chars.peek() == Some(&'^');
                if negated {
                    chars.next();
                }
                let mut ranges = Vec::new();
                loop {
                    let lo = match chars.next()? {
                        ']' if !ranges.is_empty() => break,
                        '\\' => chars.next()?,
                        '-' | ']' => return None,
                        c => c,
                    };
                    let hi = if chars.peek() == Some(&'-') {
                        chars.next();
                        match chars.next()? {
                            '\\' => chars.next()?,
                            '-' | ']' => return None,
                            c => c,
                        }
                    } else {
                        lo
                    };
                    ranges.push((lo, hi));
                }
                Tok::Class { negated, ranges }
            }
            c => Tok::Lit(c),
        });
    }
    Some(out)
}

fn glob_at(toks: &[Tok], name: &[char], t: usize, n: usize, failed: &mut HashSet<(usize, usize)>) -> bool {
    if failed.contains(&(t, n)) {
        return false;
    }
    let ok = match toks.get(t) {
        None => n == name.len(),
        Some(Tok::Star) => {
            let mut end = n;
            loop {
                if glob_at(toks, name, t + 1, end, failed) {
                    break true;
                }
                match name.get(end) {
                    Some(c) if *c != '/' => end += 1,
                    _ => break false,
                }
            }
        }
        Some(tok) => match name.get(n) {
            None => false,
            Some(&c) => {
                let one = match tok {
                    Tok::Any => c != '/',
                    Tok::Lit(l) => c == *l,
                    Tok::Class { negated, ranges } => {
                        c != '/' && ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
                    }
                    Tok::Star => false,
                };
                one && glob_at(toks, name, t + 1, n + 1, failed)
            }
        },
    };
    if !ok {
        failed.insert((t, n));
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_like_go_path_match() {
        assert!(glob_match("lab/*", "lab/special"));
        assert!(!glob_match("lab/*", "lab/special/x"));
        assert!(!glob_match("*", "quay.io/lab/webapp"));
        assert!(glob_match("*/*/webapp", "quay.io/lab/webapp"));
        assert!(glob_match("web?pp:1.?", "webapp:1.0"));
        assert!(glob_match("[a-c]*", "bx"));
        assert!(!glob_match("[^a-c]*", "bx"));
        assert!(glob_match("a\\*", "a*"));
        assert!(!glob_match("a\\*", "ab"));
        assert!(!glob_match("[", "["));
        assert!(!glob_match("[]", "x"));
        assert!(glob_match("*a*a*a*a*a*a*b", &"a".repeat(40).add_b()));
    }

    trait AddB {
        fn add_b(self) -> String;
    }
    impl AddB for String {
        fn add_b(mut self) -> String {
            self.push('b');
            self
        }
    }

    fn parse(specs: &[&str]) -> Result<Filters, Failure> {
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        Filters::parse(&specs, &["label", "label!", "reference"])
    }

    #[test]
    fn docker_keys_are_checked() {
        let e = parse(&["foo=bar"]).err().map(|e| (e.outcome, e.message));
        assert_eq!(e, Some((Outcome::Usage, "invalid filter 'foo'".to_string())));
        let e = parse(&["foo"]).err().map(|e| e.message);
        assert_eq!(e.as_deref(), Some("bad format of filter (expected name=value)"));
        let f = parse(&["Reference=lab/*", "reference=x"]).ok().unwrap_or_default();
        assert_eq!(f.values("reference"), ["lab/*", "x"]);
    }

    #[test]
    fn docker_labels() {
        let labels: BTreeMap<String, String> = [("a".to_string(), "1".to_string()), ("e".into(), "".into())].into();
        let ok = |specs: &[&str]| parse(specs).ok().is_some_and(|f| f.labels_match(&labels));
        assert!(ok(&["label=a"]));
        assert!(ok(&["label=a=1", "label=e"]));
        assert!(ok(&["label=e="]));
        assert!(!ok(&["label=a=2"]));
        assert!(!ok(&["label=a", "label=b"]));
        assert!(ok(&["label!=b"]));
        assert!(!ok(&["label!=a"]));
        assert!(ok(&["label=a!=2"]));
        assert!(!ok(&["label!=a=1"]));
    }

    #[test]
    fn containerd_selectors() {
        let row = serde_json::json!({
            "name": "docker.io/library/webapp:1.0",
            "target": {"mediaType": "application/vnd.oci.image.index.v1+json", "size": 10},
            "labels": {"a.b": "x", "A": "y"},
            "runtime": "io.containerd.runc.v2",
        });
        let ok = |spec: &str| {
            let f = parse(&[spec]);
            assert!(f.is_ok(), "{spec}");
            f.ok()
                .is_some_and(|f| f.ctr_matches(&row, &[("runtime.name", "runtime")]))
        };
        assert!(ok(r#"labels."a.b"==x"#));
        assert!(!ok(r#"labels."a.b"==y"#));
        assert!(ok("labels.A==y"));
        assert!(!ok("labels.a==y"));
        assert!(ok("name~=^docker\\.io/library/web"));
        assert!(ok("name~=/web.pp/"));
        assert!(!ok("name~=^web"));
        assert!(ok("target.mediatype==application/vnd.oci.image.index.v1+json"));
        assert!(ok("target.size==10"));
        assert!(ok("name!=x,labels.A"));
        assert!(!ok("name!=x,labels.B"));
        assert!(ok("runtime.name==io.containerd.runc.v2"));
        assert!(ok("labels.nope!=x"));
        // Several filters: any.
        let f = parse(&["name==nope", "labels.A==y"]).ok().unwrap_or_default();
        assert!(f.ctr_matches(&row, &[]));
        for bad in ["name==", "name~=(", "==x", "name==x,", r#"labels."a"#] {
            assert!(parse(&[bad]).is_err(), "{bad}");
        }
    }
}
