//! `--filter` of the listings, in the two syntaxes users bring:
//!
//! - **docker's** `key=value` (`docker image ls --filter`): the key is checked against the
//!   listing's accepted keys, and an unknown one is a usage error with dockerd's message
//!   (`invalid filter 'foo'`). Values of one key are OR'd for `reference`, every `label` /
//!   `label!` must hold, different keys are AND'd (moby `daemon/containerd/image_list.go`).
//! - **containerd's** selectors (`ctr ... ls FILTER`, containerd 1.6 `filters/`):
//!   `fieldpath[(==|!=|~=)value]` joined by `,` (all must hold), e.g. `labels."k"==v`,
//!   `name~=^docker\.io/`, `target.mediatype!=x`, `name` (present). Several such filters: any
//!   may hold. The grammar, errors and fields are containerd's ([`super::selectors`]), `~=`
//!   Go's regexp ([`super::goregex`]).
//!
//! A filter is containerd's when it has `==`, `~=`, a `!=` not after `label`, a field path before
//! its `=`, or no `=` at all (a listing's bare field, or the empty filter); otherwise it is
//! docker's. The two kinds are AND'd.

pub use super::selectors::Kind;
use super::selectors::{self, Selector};
use crate::cli::{Failure, Outcome};
use foldhash::HashSet;
use serde_json::Value;
use std::collections::BTreeMap;

/// The parsed `--filter` flags of one listing.
#[derive(Default)]
pub struct Filters {
    /// docker-form filters: key (lowercase) → values, in the order given.
    docker: BTreeMap<String, Vec<String>>,
    /// containerd filters: any of them, each a list of selectors that must all hold (the
    /// empty filter, none: it matches everything).
    ctr: Vec<Vec<Selector>>,
    /// What the containerd filters' patterns were charged against
    /// [`TOTAL_LIMIT`](super::goregex::TOTAL_LIMIT): more patterns of the same command line
    /// (`ps`'s `name=` and `id=`) share that one limit.
    pub patterns_charged: usize,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(Outcome::Usage, message)
}

/// A containerd filter's parse error as `ctr` 1.6.20 prints it for each listing
/// (`fixtures/expected/containerd-1.6/filters.jsonl`): the parser's words, `ParseAll`'s `:
/// invalid argument`, and what the client adds (the gRPC error's own `invalid argument`, and
/// `failed to list images: ` or `leases: `). `content ls` adds nothing; so do the listings
/// `ctr` 1.6 has no filter for (`snapshots`, `namespaces`).
fn parse_failure(kind: Kind, e: &selectors::ParseError) -> String {
    let text = &e.text;
    match kind {
        Kind::Images => format!("failed to list images: {text}: invalid argument: invalid argument"),
        Kind::Leases => format!("failed to list leases: {text}: invalid argument: invalid argument"),
        Kind::Containers => format!("{text}: invalid argument: invalid argument"),
        Kind::Content | Kind::Snapshots | Kind::Namespaces => format!("{text}: invalid argument"),
    }
}

impl Filters {
    /// Parses every `--filter` value; `accepted` are the docker keys this listing knows, `kind`
    /// the listing whose containerd adaptor the selectors are matched through (`None` for a
    /// docker command, `ps`, whose bare words are docker's malformed filters).
    pub fn parse(specs: &[String], accepted: &[&str], kind: Option<Kind>) -> Result<Filters, Failure> {
        let mut f = Filters::default();
        let mut patterns = super::goregex::Patterns::default();
        for spec in specs {
            if is_containerd(spec, kind.is_some()) {
                let kind = kind.unwrap_or(Kind::Containers);
                match selectors::parse_with(spec, kind, &mut patterns) {
                    Ok(all) => f.ctr.push(all.unwrap_or_default()),
                    Err(e) => return Err(usage(parse_failure(kind, &e))),
                }
                if patterns.over_limit() {
                    return Err(usage(super::goregex::OVER_LIMIT));
                }
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
        f.patterns_charged = patterns.charged();
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

    /// The containerd selectors on a row's JSON object, through the listing's adaptor.
    pub fn ctr_matches(&self, row: &Value) -> bool {
        self.ctr.is_empty() || self.ctr.iter().any(|all| all.iter().all(|s| s.matches(row)))
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
    /// whole. A selector on a field its adaptor does not know reads no member. See [`Early`].
    pub fn early<'f, 'k>(&'f self, known: &[&'k str]) -> Early<'f, 'k> {
        let mut used: Vec<&'k str> = Vec::new();
        let mut tested = Vec::with_capacity(self.ctr.len());
        for all in &self.ctr {
            let mine: Vec<bool> = all
                .iter()
                .map(|s| match s.field.top() {
                    None => true,
                    Some(top) => match known.iter().find(|k| **k == top) {
                        Some(k) => {
                            if !used.contains(k) {
                                used.push(k);
                            }
                            true
                        }
                        None => false,
                    },
                })
                .collect();
            tested.push(mine);
        }
        Early {
            filters: self,
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
        self.tested.iter().flatten().any(|t| *t)
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
        self.filters
            .ctr
            .iter()
            .zip(&self.tested)
            .any(|(all, tested)| all.iter().zip(tested).all(|(s, known)| !known || s.matches(&row)))
    }
}

/// Whether a `--filter` value is in containerd's syntax rather than docker's: docker's is a
/// bare word, `=`, then anything (`label=a!=b` is docker's); containerd's has `==`, `!=`
/// (but `label!=`), `~=`, or is a field path alone (`name`, the empty filter: for a docker
/// command, `ps`, a bare word is docker's malformed filter).
fn is_containerd(spec: &str, listing: bool) -> bool {
    let Some((key, value)) = spec.split_once('=') else {
        return listing || spec.contains('.') || spec.contains('"');
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
        parse_as(specs, Some(Kind::Images))
    }

    fn parse_as(specs: &[&str], kind: Option<Kind>) -> Result<Filters, Failure> {
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        Filters::parse(&specs, &["label", "label!", "reference"], kind)
    }

    #[test]
    fn docker_keys_are_checked() {
        let e = parse(&["foo=bar"]).err().map(|e| (e.outcome, e.message));
        assert_eq!(e, Some((Outcome::Usage, "invalid filter 'foo'".to_string())));
        let e = parse_as(&["foo"], None).err().map(|e| e.message);
        assert_eq!(e.as_deref(), Some("bad format of filter (expected name=value)"));
        // A listing's bare word is containerd's presence test.
        assert!(parse(&["foo"]).is_ok());
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
            "target": {"mediaType": "application/vnd.oci.image.index.v1+json", "size": 10,
                       "annotations": {"org.opencontainers.image.ref.name": "1.0"}},
            "labels": {"a.b": "x", "A": "y"},
        });
        let ok = |spec: &str| {
            let f = parse(&[spec]);
            assert!(f.is_ok(), "{spec}");
            f.ok().is_some_and(|f| f.ctr_matches(&row))
        };
        assert!(ok(r#"labels."a.b"==x"#));
        assert!(ok("labels.a.b==x"));
        assert!(!ok(r#"labels."a.b"==y"#));
        assert!(ok("labels.A==y"));
        assert!(!ok("labels.a==y"));
        assert!(ok("name~=^docker\\.io/library/web"));
        assert!(ok("name~=/web.pp/"));
        assert!(ok("name~=|web.pp|"));
        assert!(!ok("name~=^web"));
        assert!(ok("target.mediatype==application/vnd.oci.image.index.v1+json"));
        assert!(!ok("target.size==10"));
        assert!(!ok("Name~=web"));
        assert!(ok(r#"annotations."org.opencontainers.image.ref.name"==1.0"#));
        assert!(ok("name!=x,labels.A"));
        assert!(!ok("name!=x,labels.B"));
        assert!(ok("labels.nope!=x"));
        assert!(ok("name"));
        assert!(ok(""));
        // A pattern Go does not compile matches nothing.
        assert!(!ok("name~=(a"));
        assert!(!ok("name!=x,name~=a**"));
        // Several filters: any.
        let f = parse(&["name==nope", "labels.A==y"]).ok().unwrap_or_default();
        assert!(f.ctr_matches(&row));
        for bad in ["name==", "==x", "name==x,", r#"labels."a"#, "name==a b", "name=x"] {
            assert!(parse(&[bad]).is_err(), "{bad}");
        }
        let e = parse(&["name==|x|"]).err().map(|e| (e.outcome, e.message));
        assert_eq!(
            e,
            Some((
                Outcome::Usage,
                "failed to list images: filters: parse error: [name== >|||< x|]: invalid quote encountered: invalid argument: invalid argument".to_string()
            ))
        );
    }
}
