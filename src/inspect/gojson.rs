//! JSON written byte for byte as Go writes it, for output that must equal dockerd's.
//!
//! * Objects keep the order they are built in ([`J::Obj`]); Go's map output is sorted, so
//!   callers build map-like objects from `BTreeMap`s.
//! * Strings escape `"` `\\`, `\b` `\f` `\n` `\r` `\t`, other control characters as `\u00XX`,
//!   U+2028/U+2029 always, and, with HTML escaping on (Go's default), `<` `>` `&`.
//! * [`indent`] is Go's `json.Indent`: empty arrays and objects stay `[]` and `{}`.

use crate::image::goshape::Shape;
use std::collections::BTreeMap;

/// A JSON value with ordered object members. A number keeps whether it was written as an
/// integer: Go's decoder puts a number in an integer field only when its text is one
/// ([`J::as_go_int`]), whatever its value.
#[derive(Clone, Debug)]
pub enum J {
    Null,
    Bool(bool),
    /// An integer literal that fits an `i64`.
    Int(i64),
    /// An integer literal past `i64::MAX` (up to `u64::MAX`), or the integer literal `-0`
    /// (which Go's signed integer types take as 0 and its `float64` as -0), as written. Also,
    /// read by [`parse_for`] where a `time.Time` goes, a string literal written with an
    /// escape, as written (quotes included): that type parses the literal's raw bytes.
    Raw(String),
    /// A number read as a float: written with a fraction or an exponent (`1.0`, `1.5`, `1e3`,
    /// `-0.0`), or an integer literal past `u64` or `i64` (rounded, as Go's `float64` reads
    /// it). Kept as Go prints the float back, in its shortest form: `1.50` prints `1.5`, `1.0`
    /// prints `1`, `-0.0` prints `-0`.
    Float(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

/// Values are equal when Go prints them alike: a number written `1.0` equals the integer `1`,
/// since both print `1` and `1` reads back as the integer (what is printed then read again is
/// the same value). Only the Go type checks ([`J::as_go_int`]) tell them apart.
impl PartialEq for J {
    fn eq(&self, other: &J) -> bool {
        match (self, other) {
            (J::Null, J::Null) => true,
            (J::Bool(a), J::Bool(b)) => a == b,
            (J::Int(a), J::Int(b)) => a == b,
            (J::Int(i), J::Raw(t) | J::Float(t)) | (J::Raw(t) | J::Float(t), J::Int(i)) => *t == i.to_string(),
            (J::Raw(a) | J::Float(a), J::Raw(b) | J::Float(b)) => a == b,
            (J::Str(a), J::Str(b)) => a == b,
            (J::Arr(a), J::Arr(b)) => a == b,
            (J::Obj(a), J::Obj(b)) => a == b,
            _ => false,
        }
    }
}

/// A Go integer type a JSON number may be decoded into (dockerd's and containerd's structs
/// use these; Go's `int` is `Int64` on the 64-bit platforms they run on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoInt {
    Int32,
    Int64,
    Uint32,
}

impl GoInt {
    fn range(self) -> (i64, i64) {
        match self {
            GoInt::Int32 => (i32::MIN.into(), i32::MAX.into()),
            GoInt::Int64 => (i64::MIN, i64::MAX),
            GoInt::Uint32 => (0, u32::MAX.into()),
        }
    }

    fn signed(self) -> bool {
        !matches!(self, GoInt::Uint32)
    }
}

impl J {
    pub fn str(s: impl Into<String>) -> J {
        J::Str(s.into())
    }

    /// A `[]string`: `null` when absent.
    pub fn strings(v: Option<&[String]>) -> J {
        v.map_or(J::Null, |v| J::Arr(v.iter().map(|s| J::str(s.clone())).collect()))
    }

    /// A `map[string]string` with Go's sorted keys.
    pub fn string_map(m: &BTreeMap<String, String>) -> J {
        J::Obj(m.iter().map(|(k, v)| (k.clone(), J::str(v.clone()))).collect())
    }

    /// Member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Member `key` of an object, then of that, and so on.
    pub fn at(&self, path: &[&str]) -> Option<&J> {
        path.iter().try_fold(self, |v, k| v.get(k))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            J::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value of an integer literal that fits an `i64` (not of `1.0`: see [`J::as_go_int`]).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            J::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The value Go's `encoding/json` puts in a field of integer type `t`, or `None` when it
    /// refuses the value ("cannot unmarshal number 1.0 into Go struct field ... of type
    /// int64"). Go parses the number's text with `strconv.ParseInt` (`ParseUint` for an
    /// unsigned type), so a fraction or an exponent is refused even when the value is whole
    /// (`1.0`, `1e3`, `0e0`), as is a value out of the type's range and, for an unsigned type,
    /// any sign (`-0`). So `-0` goes into a signed type as 0 while `-0.0`, `-0e0` and `0.0`
    /// are refused ([`parse`] tells `-0` from the rest, which serde_json reads alike). A
    /// string, `null` or anything else is `None` too.
    pub fn as_go_int(&self, t: GoInt) -> Option<i64> {
        let n = match self {
            J::Int(n) => *n,
            J::Raw(s) if s == "-0" && t.signed() => 0,
            _ => return None,
        };
        let (lo, hi) = t.range();
        (lo..=hi).contains(&n).then_some(n)
    }

    /// The value as a message about its Go type shows it: compact JSON, cut at 64 bytes. A
    /// number whose print is an integer but that was written with a fraction or an exponent
    /// (`1.0` prints `1`) says so, since that alone is why an integer type refuses it.
    pub fn shown_in_message(&self) -> String {
        let mut shown = self.to_compact(false);
        if shown.len() > 64 {
            let cut = (0..=61).rev().find(|&i| shown.is_char_boundary(i)).unwrap_or(0);
            shown.truncate(cut);
            shown.push_str("...");
        }
        // An integer literal in i64's range is an Int (`-0` a Raw), so a Float that prints as
        // one was written with a fraction or an exponent. (An integer literal past i64,
        // rounded, prints out of its range: -2^63 as a float prints -9223372036854776000.)
        if let J::Float(f) = self
            && f.parse::<i64>().is_ok()
        {
            shown.push_str(" (written with a fraction or an exponent)");
        }
        shown
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            J::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The members of an object (none for anything else).
    pub fn members(&self) -> &[(String, J)] {
        match self {
            J::Obj(m) => m,
            _ => &[],
        }
    }

    /// The items of an array (none for anything else).
    pub fn items(&self) -> &[J] {
        match self {
            J::Arr(a) => a,
            _ => &[],
        }
    }

    /// Compact JSON, as `json.Marshal` (`html` = Go's default HTML escaping).
    pub fn write(&self, out: &mut String, html: bool) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Int(i) => {
                use std::fmt::Write;
                let _ = write!(out, "{i}");
            }
            J::Raw(n) | J::Float(n) => out.push_str(n),
            J::Str(s) => write_str(out, s, html),
            J::Arr(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out, html);
                }
                out.push(']');
            }
            J::Obj(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, k, html);
                    out.push(':');
                    v.write(out, html);
                }
                out.push('}');
            }
        }
    }

    /// What [`indent_at`] makes of this value's compact JSON, written in one pass: the value
    /// sits `level` levels deep, and its first line is indented too.
    pub fn write_indented(&self, out: &mut String, html: bool, indent: &str, level: usize) {
        for _ in 0..level {
            out.push_str(indent);
        }
        self.indented_at(out, html, indent, level);
    }

    fn indented_at(&self, out: &mut String, html: bool, indent: &str, depth: usize) {
        let newline = |out: &mut String, depth: usize| {
            out.push('\n');
            for _ in 0..depth {
                out.push_str(indent);
            }
        };
        match self {
            // Empty arrays and objects stay on one line, as scalars do.
            J::Arr(items) if !items.is_empty() => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    v.indented_at(out, html, indent, depth + 1);
                }
                newline(out, depth);
                out.push(']');
            }
            J::Obj(members) if !members.is_empty() => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    write_str(out, k, html);
                    out.push_str(": ");
                    v.indented_at(out, html, indent, depth + 1);
                }
                newline(out, depth);
                out.push('}');
            }
            other => other.write(out, html),
        }
    }

    pub fn to_compact(&self, html: bool) -> String {
        let mut s = String::new();
        self.write(&mut s, html);
        s
    }
}

/// JSON text read into a [`J`] keeping every object's members in file order (a Go struct
/// written to disk reads back in its field order). serde_json's recursion limit bounds the
/// nesting; a duplicate key keeps both members, as the file has them. Strings read as Go
/// reads them: invalid UTF-8 and lone surrogate escapes are U+FFFD ([`crate::gostring`]).
///
/// serde_json reads the integer literal `-0` as the float -0, as it reads `-0.0` or `-0e0`,
/// while Go's integer types take `-0` and refuse the others: a `-0` is made [`J::Raw`] here.
pub fn parse(bytes: &[u8]) -> Result<J, serde_json::Error> {
    within_tree_budget(bytes)?;
    let mut j = crate::gostring::from_slice(bytes)?;
    if let Some(negatives) = negative_numbers(bytes) {
        mark_negative_zeros(&mut j, &mut negatives.iter());
    }
    Ok(j)
}

/// The most values a tree is built of. Each costs about a hundred bytes: a 62 MB document of
/// `[0,0,...]` (60 KB gzipped in an archive) made a 3.2 GB tree. Documents are read whole
/// only up to 64 MiB; no real one comes near this many values.
const MAX_TREE_VALUES: usize = 2_000_000;

/// Refuses a document that may hold more than [`MAX_TREE_VALUES`] values, before any is
/// built: one value follows each `,`, `[` and `{` at most (one in a string counts too, so
/// the count is never below the truth).
fn within_tree_budget(bytes: &[u8]) -> Result<(), serde_json::Error> {
    let marks = memchr::memchr3_iter(b',', b'[', b'{', bytes)
        .take(MAX_TREE_VALUES)
        .count();
    if marks < MAX_TREE_VALUES {
        return Ok(());
    }
    Err(serde::de::Error::custom(format!(
        "a document of more than {MAX_TREE_VALUES} JSON values: coldctr does not read it whole"
    )))
}

/// A document read as dockerd reads a container's file into a value of type `shape`
/// (`json.NewDecoder(f).Decode(&v)`, moby's `Container.FromDisk` and `readHostConfig`): the
/// first JSON value only, as [`parse`] reads it; what follows it is never looked at (Go's
/// decoder stops at the value's end: `{...}` then anything, even `}` or invalid UTF-8, decodes
/// the same), and where `shape` has a `time.Time` the string is kept as written when it holds
/// an escape ([`J::Raw`]): `Time.UnmarshalJSON` parses the literal's raw bytes, never
/// unescaped (Go 1.20 on, `parseStrictRFC3339`; before, `Parse` of the same bytes), so
/// `"2024-01-01T00:00:00\u005a"` is no time there.
///
/// serde_json builds a tree 128 levels deep at most, and Go reads 10,000: when the tree is
/// too deep, the document is read again keeping only the members of `shape`'s structs (at any
/// depth, keys folded as Go folds them) and skipping the rest, as Go skips them, without a
/// tree: a key no field takes may then nest as deep as Go allows. A document that also holds
/// the literal `-0` is not read so (which `-0` is which needs every number in the tree; it
/// stays refused).
pub fn parse_for(bytes: &[u8], shape: &'static Shape) -> Result<J, serde_json::Error> {
    within_tree_budget(bytes)?;
    let first_value = |all: bool| {
        crate::gostring::parse_like_go(bytes, |b| {
            let mut d = serde_json::Deserializer::from_slice(b);
            serde::de::DeserializeSeed::deserialize(Shaped { shape, all }, &mut d)
        })
    };
    let first = first_value(true).map(|mut j| {
        if let Some(negatives) = negative_numbers(bytes) {
            mark_negative_zeros(&mut j, &mut negatives.iter());
        }
        j
    });
    match &first {
        Err(e) if e.to_string().starts_with("recursion limit exceeded") && negative_numbers(bytes).is_none() => {
            if crate::image::document::nesting_within(bytes, crate::image::document::GO_MAX_DEPTH).is_err() {
                return first;
            }
            first_value(false).or(first)
        }
        _ => first,
    }
}

/// A value read as [`Visitor`] reads it, but for a `time.Time` written with an escape (see
/// [`parse_for`]), and, unless `all`, for the members of a struct no field of the shape takes,
/// which are skipped.
#[derive(Clone, Copy)]
struct Shaped {
    shape: &'static Shape,
    all: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for Shaped {
    type Value = J;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<J, D::Error> {
        let mut shape = self.shape;
        while let Shape::Ptr(inner) = shape {
            shape = inner;
        }
        let at = Shaped { shape, all: self.all };
        match shape {
            Shape::Struct(..) | Shape::Map(_) | Shape::Slice(_) | Shape::Array(..) => d.deserialize_any(at),
            Shape::Time => {
                let raw = <&serde_json::value::RawValue as serde::Deserialize>::deserialize(d)?;
                let text = raw.get();
                if text.starts_with('"') && text.contains('\\') {
                    return Ok(J::Raw(text.to_string()));
                }
                serde_json::from_str::<J>(text).map_err(serde::de::Error::custom)
            }
            _ => d.deserialize_any(Visitor),
        }
    }
}

impl<'de> serde::de::Visitor<'de> for Shaped {
    type Value = J;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<J, E> {
        Visitor.visit_bool(b)
    }
    fn visit_i64<E: serde::de::Error>(self, i: i64) -> Result<J, E> {
        Visitor.visit_i64(i)
    }
    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<J, E> {
        Visitor.visit_u64(u)
    }
    fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<J, E> {
        Visitor.visit_f64(f)
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<J, E> {
        Visitor.visit_str(s)
    }
    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<J, E> {
        Visitor.visit_string(s)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<J, A::Error> {
        let element = match self.shape {
            Shape::Slice(element) | Shape::Array(_, element) => Shaped {
                shape: element,
                all: self.all,
            },
            // Not what the type takes (Go refuses it): kept whole for the decoder to say so.
            _ => return Visitor.visit_seq(seq),
        };
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(element)? {
            items.push(v);
        }
        Ok(J::Arr(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
        let mut members = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let seed = |shape| Shaped { shape, all: self.all };
            let value = match self.shape {
                Shape::Struct(_, fields) => match crate::image::goshape::field_shape(fields, &key) {
                    Some(field) => map.next_value_seed(seed(field))?,
                    None if self.all => map.next_value::<J>()?,
                    None => {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        continue;
                    }
                },
                Shape::Map(value) => map.next_value_seed(seed(value))?,
                _ => map.next_value::<J>()?,
            };
            members.push((key, value));
        }
        Ok(J::Obj(members))
    }
}

/// For each negative number of `json`, in document order, whether it is the integer literal
/// `-0`; `None` when there is no such literal (nearly always: found by one search, which
/// passes over the `-0` of dates, `2024-01-05`, as no value starts there). A `-` outside a
/// string starts a negative number unless it follows an exponent's `e`.
fn negative_numbers(json: &[u8]) -> Option<Vec<bool>> {
    let starts_a_value = |at: usize| {
        let before = json.get(..at).unwrap_or_default();
        before
            .iter()
            .rev()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .is_none_or(|b| matches!(b, b':' | b'[' | b','))
    };
    if !memchr::memmem::find_iter(json, b"-0").any(starts_a_value) {
        return None;
    }
    let (mut in_string, mut escaped) = (false, false);
    let mut out = Vec::new();
    let mut prev = 0u8;
    for (i, &b) in json.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b'-' && !matches!(prev, b'e' | b'E') {
            let zero =
                json.get(i + 1) == Some(&b'0') && !matches!(json.get(i + 2), Some(b'0'..=b'9' | b'.' | b'e' | b'E'));
            out.push(zero);
        }
        prev = b;
    }
    out.contains(&true).then_some(out)
}

/// Walks `j` in document order, each negative number taking the next of `negatives`: a float
/// -0 that was written `-0` becomes [`J::Raw`]`("-0")`.
fn mark_negative_zeros(j: &mut J, negatives: &mut std::slice::Iter<'_, bool>) {
    match j {
        J::Int(i) if *i < 0 => {
            negatives.next();
        }
        J::Float(f) if f.starts_with('-') => {
            // Every negative float takes its place in `negatives`, a -0 or not.
            let written_minus_zero = negatives.next() == Some(&true);
            if written_minus_zero && f == "-0" {
                *j = J::Raw("-0".into());
            }
        }
        J::Arr(items) => items.iter_mut().for_each(|v| mark_negative_zeros(v, negatives)),
        J::Obj(members) => members.iter_mut().for_each(|(_, v)| mark_negative_zeros(v, negatives)),
        _ => {}
    }
}

/// Whether every member is named like an exported Go struct field (see [`J::folded`]).
fn is_struct_like(members: &[(String, J)]) -> bool {
    members.iter().all(|(k, _)| {
        let mut chars = k.chars();
        chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// JSON text read as Go's `encoding/json` reads it into a struct or map: [`parse`], then
/// [`J::folded`]. What a daemon made of a file with a repeated key is what this reads.
pub fn parse_as_go(bytes: &[u8]) -> Result<J, serde_json::Error> {
    parse(bytes).map(J::folded)
}

impl J {
    /// About the memory the value takes: its own size and what it allocates (each vector and
    /// string by its capacity). A tree of small values takes many times its text: `0,` is two
    /// bytes of text and 32 of memory.
    pub fn footprint(&self) -> u64 {
        let own = std::mem::size_of::<J>() as u64;
        let alloc = |cap: usize, each: usize| (cap as u64).saturating_mul(each as u64);
        let heap = match self {
            J::Null | J::Bool(_) | J::Int(_) => 0,
            J::Raw(s) | J::Float(s) | J::Str(s) => s.capacity() as u64,
            J::Arr(items) => items.iter().fold(
                alloc(items.capacity().saturating_sub(items.len()), std::mem::size_of::<J>()),
                |n, v| n.saturating_add(v.footprint()),
            ),
            J::Obj(members) => members.iter().fold(
                alloc(members.capacity(), std::mem::size_of::<(String, J)>()),
                |n, (k, v)| {
                    n.saturating_add(k.capacity() as u64)
                        .saturating_add(v.footprint().saturating_sub(own))
                },
            ),
        };
        own.saturating_add(heap)
    }

    /// Repeated keys folded as Go's decoder folds them: a repeated field of a struct is decoded
    /// into the value already there, so a later object adds its members to the earlier one
    /// (a struct's fields, a map's entries) and any other later value replaces the earlier;
    /// a repeated key of a map is decoded into a fresh value, which replaces the earlier.
    /// Go's types are not in the file: an object is taken for a struct when every member is
    /// named like an exported Go field (an upper-case letter first: `State`, `Config`), and
    /// for a map otherwise (labels, networks, repositories, mount points). Each key keeps its
    /// first place. The depth is what serde_json's recursion limit let [`parse`]
    /// build. (Go also matches a struct field's name without regard to case; that is not
    /// done here. Files whose Go types are known are decoded with them instead:
    /// [`crate::image::goshape`], which reads this way only the fields it keeps as they are.)
    pub fn folded(self) -> J {
        match self {
            J::Arr(items) => J::Arr(items.into_iter().map(J::folded).collect()),
            J::Obj(members) => {
                let a_struct = is_struct_like(&members);
                let mut kept: Vec<(String, J)> = Vec::with_capacity(members.len());
                let mut at: foldhash::HashMap<String, usize> = foldhash::HashMap::default();
                for (key, value) in members {
                    match at.get(&key).and_then(|&i| kept.get_mut(i)) {
                        Some((_, J::Obj(earlier))) if a_struct && matches!(value, J::Obj(_)) => {
                            if let J::Obj(later) = value {
                                earlier.extend(later);
                            }
                        }
                        Some((_, earlier)) => *earlier = value,
                        None => {
                            at.insert(key.clone(), kept.len());
                            kept.push((key, value));
                        }
                    }
                }
                J::Obj(kept.into_iter().map(|(k, v)| (k, v.folded())).collect())
            }
            other => other,
        }
    }
}

impl<'de> serde::Deserialize<'de> for J {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<J, D::Error> {
        d.deserialize_any(Visitor)
    }
}

struct Visitor;

impl<'de> serde::de::Visitor<'de> for Visitor {
    type Value = J;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_none<E>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<J, E> {
        Ok(J::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<J, E> {
        Ok(J::Int(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<J, E> {
        Ok(i64::try_from(u).map_or_else(|_| J::Raw(u.to_string()), J::Int))
    }
    fn visit_f64<E>(self, f: f64) -> Result<J, E> {
        // Go prints a float64 with the shortest representation that reads back the same, as
        // Rust's `Display` does; exponent forms differ, which no Docker or OCI field uses.
        // A float that prints as an integer (`1.0`, `2.5e2`) stays a float: Go's integer types
        // refuse it. It prints `1` and reads back as `Int(1)`, which is equal to it (see
        // `PartialEq`; fuzz target gojson, fixtures/fuzz/gojson/float-with-integral-value).
        // `-0` stays as Go prints it (an i64 would print `0`).
        Ok(J::Float(if f.is_finite() { f.to_string() } else { "0".into() }))
    }
    fn visit_str<E>(self, s: &str) -> Result<J, E> {
        Ok(J::Str(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<J, E> {
        Ok(J::Str(s))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<J, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(J::Arr(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
        let mut members = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, J>()? {
            members.push((k, v));
        }
        Ok(J::Obj(members))
    }
}

/// A Go JSON string literal. Runs of bytes that need no escape are copied whole; every
/// escape starts at an ASCII byte or at U+2028/U+2029's lead byte, so each run ends on a
/// character boundary.
pub fn write_str(out: &mut String, s: &str, html: bool) {
    out.push('"');
    let bytes = s.as_bytes();
    let (mut plain, mut i) = (0, 0);
    loop {
        i = next_to_look_at(bytes, i, html);
        let Some(&b) = bytes.get(i) else {
            break;
        };
        let (escape, code, len): (Option<&str>, u32, usize) = match b {
            b'"' => (Some("\\\""), 0, 1),
            b'\\' => (Some("\\\\"), 0, 1),
            0x08 => (Some("\\b"), 0, 1),
            0x0c => (Some("\\f"), 0, 1),
            b'\n' => (Some("\\n"), 0, 1),
            b'\r' => (Some("\\r"), 0, 1),
            b'\t' => (Some("\\t"), 0, 1),
            b'<' | b'>' | b'&' if html => (None, u32::from(b), 1),
            b if b < 0x20 => (None, u32::from(b), 1),
            // U+2028 and U+2029 (E2 80 A8 / A9), which Go always escapes.
            0xe2 if bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)) => (
                None,
                0x2000 | u32::from(bytes.get(i + 2).copied().unwrap_or(0) - 0x80),
                3,
            ),
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(s.get(plain..i).unwrap_or_default());
        match escape {
            Some(e) => out.push_str(e),
            None => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{code:04x}");
            }
        }
        i += len;
        plain = i;
    }
    out.push_str(s.get(plain..).unwrap_or_default());
    out.push('"');
}

/// The first byte at or after `from` that [`write_str`] may escape: `"`, `\`, a control
/// character, U+2028/U+2029's lead byte 0xE2 and, for `html`, `<`, `>` and `&`; the length
/// when there is none. Eight bytes are looked at together (inspect writes every string of
/// every config, and a byte at a time was a sixteenth of inspect-all). In each test the
/// lowest byte flagged is a true match (a borrow only carries upward), so the lowest of all
/// flags is the first such byte.
fn next_to_look_at(bytes: &[u8], from: usize, html: bool) -> usize {
    const fn each(b: u8) -> u64 {
        u64::from_ne_bytes([b; 8])
    }
    const HIGHS: u64 = each(0x80);
    let below = |w: u64, n: u8| w.wrapping_sub(each(n)) & !w & HIGHS;
    let equal = |w: u64, b: u8| below(w ^ each(b), 1);
    let mut i = from;
    while let Some(word) = bytes.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
        let w = u64::from_le_bytes(*word);
        let mut flags = below(w, 0x20) | equal(w, b'"') | equal(w, b'\\') | equal(w, 0xe2);
        if html {
            flags |= equal(w, b'<') | equal(w, b'>') | equal(w, b'&');
        }
        if flags != 0 {
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let looked_at = |b: &u8| matches!(b, b'"' | b'\\' | 0xe2 | 0..0x20) || (html && matches!(b, b'<' | b'>' | b'&'));
    bytes
        .get(i..)
        .and_then(|rest| rest.iter().position(looked_at))
        .map_or(bytes.len(), |k| i + k)
}

/// Go's `json.Indent(dst, src, prefix "", indent)` over compact JSON.
pub fn indent(src: &str, indent: &str) -> String {
    indent_at(src, indent, 0)
}

/// [`indent`] for a value that sits `level` levels deep in a larger document (an element of
/// an array being written piece by piece): every line, the first too, starts `level` indents
/// further in.
pub fn indent_at(src: &str, indent: &str, level: usize) -> String {
    let mut out = String::with_capacity(src.len() * 2 + indent.len() * level);
    for _ in 0..level {
        out.push_str(indent);
    }
    let mut depth = level;
    let mut in_string = false;
    let mut escaped = false;
    let mut need_newline = false;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(indent);
        }
    };
    for c in src.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if need_newline && c != ']' && c != '}' {
            need_newline = false;
            depth += 1;
            newline(&mut out, depth);
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                need_newline = true;
            }
            '}' | ']' => {
                if need_newline {
                    // Empty container: Go keeps it on one line.
                    need_newline = false;
                } else {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Audit 22, finding 3: a 62 MB config of `[0,0,...]` built a 3.2 GB tree. Past the
    /// budget of values, nothing is built; below it, the same document reads.
    #[test]
    fn a_document_of_too_many_values_is_refused_before_its_tree_is_built() {
        let many = format!("[{}0]", "0,".repeat(MAX_TREE_VALUES));
        let e = parse(many.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("more than 2000000 JSON values"), "{e}");
        let fewer = format!("[{}0]", "0,".repeat(MAX_TREE_VALUES - 10));
        assert!(matches!(parse(fewer.as_bytes()), Ok(J::Arr(a)) if a.len() == MAX_TREE_VALUES - 9));
    }

    /// The word-at-a-time scan stops where a byte-at-a-time one does: every byte value at
    /// every offset of a word, with and without HTML escapes, and bytes borrowing from
    /// their neighbours (0x00 before 0x20, 0x21).
    #[test]
    fn finds_each_byte_to_escape_at_any_offset() {
        let slow = |bytes: &[u8], from: usize, html: bool| {
            (from..bytes.len())
                .find(|&i| {
                    let b = bytes[i];
                    matches!(b, b'"' | b'\\' | 0xe2) || b < 0x20 || (html && matches!(b, b'<' | b'>' | b'&'))
                })
                .unwrap_or(bytes.len())
        };
        for b in 0..=255u8 {
            for at in 0..19 {
                for fill in [b'a', 0x21, 0x20, 0xff, 0x7f] {
                    let mut bytes = vec![fill; 19];
                    bytes[at] = b;
                    if at > 0 {
                        bytes[at - 1] = 0x21;
                    }
                    for html in [false, true] {
                        for from in [0, 1, at] {
                            assert_eq!(
                                next_to_look_at(&bytes, from, html),
                                slow(&bytes, from, html),
                                "byte {b:#x} at {at} in {fill:#x}, html {html}, from {from}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// A key no field takes may nest as deep as Go reads (it skips it); what a field takes is
    /// still built as a tree, 128 levels at most.
    #[test]
    fn keys_no_field_takes_nest_as_deep_as_go_reads() {
        static INNER: Shape = Shape::Struct("I", &[("Labels", Shape::Map(&Shape::Str))]);
        static S: Shape = Shape::Struct("S", &[("Name", Shape::Str), ("Config", Shape::Ptr(&INNER))]);
        let deep = |n: usize, at: &str| {
            let nested = format!("{}{}", "[".repeat(n), "]".repeat(n));
            format!(r#"{{"Name":"/x","{at}":{nested},"config":{{"Labels":{{"a":"1"}},"Other":{nested}}}}}"#)
        };
        let doc = deep(200, "Unknown");
        assert!(parse(doc.as_bytes()).is_err(), "serde_json's own limit");
        assert_eq!(
            parse_for(doc.as_bytes(), &S).unwrap().to_compact(false),
            r#"{"Name":"/x","config":{"Labels":{"a":"1"}}}"#
        );
        // Past Go's 10,000 levels, a field's value nested deep, or a -0 somewhere: refused.
        assert!(parse_for(deep(10_001, "Unknown").as_bytes(), &S).is_err());
        assert!(parse_for(deep(200, "Name").as_bytes(), &S).is_err());
        assert!(parse_for(doc.replace(r#""a":"1""#, r#""a":-0"#).as_bytes(), &S).is_err());
        // A document serde_json reads is read as before, every member kept.
        let shallow = deep(3, "Unknown");
        assert_eq!(
            parse_for(shallow.as_bytes(), &S).unwrap(),
            parse(shallow.as_bytes()).unwrap()
        );
    }

    /// As Go's `json.NewDecoder(f).Decode` (how dockerd reads a container's files): the first
    /// value only, whatever follows; a `time.Time` written with an escape kept as written
    /// (`Time.UnmarshalJSON` parses the raw bytes), in a deep document too; every other
    /// string, an escaped one where no time goes included, read as before.
    #[test]
    fn parse_for_reads_the_first_value_and_keeps_escaped_times_as_written() {
        static S: Shape = Shape::Struct(
            "S",
            &[
                ("T", Shape::Time),
                (
                    "L",
                    Shape::Slice(&Shape::Ptr(&Shape::Struct("E", &[("At", Shape::Time)]))),
                ),
                ("N", Shape::Str),
            ],
        );
        let doc = r#"{"t":"2024-01-01T00:00:00\u005a","L":[{"at":"2024-01-01T00:00:00Z"},{"AT":"\u0032"}],"N":"\u0041","x":"\u0042"}"#;
        let want =
            r#"{"t":"2024-01-01T00:00:00\u005a","L":[{"at":"2024-01-01T00:00:00Z"},{"AT":"\u0032"}],"N":"A","x":"B"}"#;
        for tail in ["", " garbage", "}", "{\"t\":1}", "\n"] {
            let j = parse_for(format!("{doc}{tail}").as_bytes(), &S).unwrap();
            assert_eq!(j.to_compact(false), want, "{tail:?}");
        }
        assert_eq!(
            parse_for(doc.as_bytes(), &S)
                .unwrap()
                .members()
                .first()
                .map(|(_, v)| v.clone()),
            Some(J::Raw(r#""2024-01-01T00:00:00\u005a""#.into()))
        );
        // Past serde_json's nesting, read again keeping the shape's members only: alike.
        let deep = format!(r#"{{"Deep":{}{},{}"#, "[".repeat(200), "]".repeat(200), &doc[1..]);
        assert_eq!(
            parse_for(format!("{deep} trailing").as_bytes(), &S)
                .unwrap()
                .to_compact(false),
            r#"{"t":"2024-01-01T00:00:00\u005a","L":[{"at":"2024-01-01T00:00:00Z"},{"AT":"\u0032"}],"N":"A"}"#
        );
        // Nothing but the value, or what is wrong inside it: still refused.
        assert!(parse_for(b"", &S).is_err());
        assert!(parse_for(b"  ", &S).is_err());
        assert!(parse_for(br#"{"N":"a" x}"#, &S).is_err());
    }

    #[test]
    fn escapes_like_go() {
        let mut s = String::new();
        write_str(&mut s, "a<b>&\"\\\n\u{1}\u{8}\u{2028}é", true);
        assert_eq!(s, r#""a\u003cb\u003e\u0026\"\\\n\u0001\b\u2028é""#);
        let mut s = String::new();
        write_str(&mut s, "<&>", false);
        assert_eq!(s, r#""<&>""#);
        // Every character that needs an escape, and the ones beside it that do not.
        let mut s = String::new();
        write_str(&mut s, "\u{2029}\u{2027}\u{202a}\u{1f}\u{7f}€x\u{0}", true);
        assert_eq!(s, "\"\\u2029\u{2027}\u{202a}\\u001f\u{7f}€x\\u0000\"");
    }

    #[test]
    fn folds_repeated_keys_as_go_decodes_them() {
        // Both expected texts are what Go 1.19's json.Unmarshal into a struct, then
        // json.Marshal, printed for these inputs (here: Config a pointer to a struct with a
        // Labels map, Args a slice, State a struct; below: o a struct with an int and a map,
        // s an interface).
        let text = br#"{"Name":"/first","Config":{"Labels":{"a":"1","b":"2"},"Image":"x","Env":["A=1","B=2"]},"Args":[1,2],"State":{"Running":true,"Pid":7},"Name":"/second","Config":{"Labels":{"a":"3"},"Env":["C=3"]},"Args":[3],"State":{"Pid":9}}"#;
        let go = r#"{"Name":"/second","Config":{"Labels":{"a":"3","b":"2"},"Image":"x","Env":["C=3"]},"Args":[3],"State":{"Running":true,"Pid":9}}"#;
        assert_eq!(parse_as_go(text).unwrap().to_compact(false), go);
        // Kept as the file has them by the plain reader.
        assert_eq!(parse(text).unwrap().to_compact(false).len(), text.len());
        // A repeat inside a repeat, and an object replaced by a number (fields named as Go
        // exports them: o a struct with K and J, J a struct, s an interface).
        let v = parse_as_go(br#"{"O":{"K":1,"K":2},"O":{"K":3,"J":{"X":1}},"O":{"J":{"Y":2}},"S":{"A":1},"S":5}"#);
        assert_eq!(v.unwrap().to_compact(false), r#"{"O":{"K":3,"J":{"X":1,"Y":2}},"S":5}"#);
        // A repeated key of a map (repositories.json's, here map[string]map[string]string) is
        // decoded into a fresh value: the later one replaces the earlier, as Go printed.
        let text = br#"{"Repositories":{"r":{"r:1":"sha256:a"},"r":{"r:2":"sha256:b"}},"State":{"Running":true},"State":{"Pid":9}}"#;
        let go = r#"{"Repositories":{"r":{"r:2":"sha256:b"}},"State":{"Running":true,"Pid":9}}"#;
        assert_eq!(parse_as_go(text).unwrap().to_compact(false), go);
    }

    #[test]
    fn parses_keeping_member_order() {
        let v = parse(br#"{"b":1,"a":[true,null,"x"],"n":18446744073709551615,"f":1.5}"#).unwrap();
        assert_eq!(
            v.to_compact(true),
            r#"{"b":1,"a":[true,null,"x"],"n":18446744073709551615,"f":1.5}"#
        );
        let deep = "[".repeat(100_000);
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn indents_like_go() {
        let v = J::Arr(vec![J::Obj(vec![
            ("A".into(), J::Arr(vec![])),
            ("B".into(), J::Obj(vec![])),
            ("C".into(), J::Arr(vec![J::Int(1), J::str("x:y,{")])),
        ])]);
        assert_eq!(
            indent(&v.to_compact(true), "    "),
            "[\n    {\n        \"A\": [],\n        \"B\": {},\n        \"C\": [\n            1,\n            \"x:y,{\"\n        ]\n    }\n]"
        );
    }

    #[test]
    fn written_indented_is_indent_of_compact() {
        let doc = br#"{"Id":"sha256:ab","RepoTags":[],"Config":{"Env":["A=<b>&c","\u2028\n"],"Labels":{},
            "Nested":[[],[{}],[1,[2,{"k":null}]]],"F":1.5,"T":true,"S":"x:y,{\"}"},"Z":[{"a":{"b":{}}}]}"#;
        let v = parse(doc).unwrap();
        for level in [0, 1, 3] {
            for html in [true, false] {
                let mut direct = String::new();
                v.write_indented(&mut direct, html, "    ", level);
                assert_eq!(
                    direct,
                    indent_at(&v.to_compact(html), "    ", level),
                    "level {level} html {html}"
                );
            }
        }
        for scalar in [J::Null, J::Int(-3), J::str("\u{1}é"), J::Arr(vec![]), J::Obj(vec![])] {
            let mut direct = String::new();
            scalar.write_indented(&mut direct, true, "  ", 1);
            assert_eq!(direct, indent_at(&scalar.to_compact(true), "  ", 1));
        }
    }

    /// What Go 1.19.8's `json.Unmarshal` did with each literal into a struct field of each
    /// type (a Go program printing the error or the value): `ok` takes the value, `-` refuses
    /// ("json: cannot unmarshal number 1.0 into Go struct field S.I64 of type int64").
    #[test]
    fn integer_types_take_what_go_takes() {
        use GoInt::{Int32, Int64, Uint32};
        for (literal, int32, int64, uint32) in [
            ("1", Some(1), Some(1), Some(1)),
            ("1.0", None, None, None),
            ("1e3", None, None, None),
            ("1E3", None, None, None),
            ("0e0", None, None, None),
            ("1.5", None, None, None),
            ("-0", Some(0), Some(0), None),
            // serde_json reads these as it reads `-0`, the float -0; Go refuses them all, and
            // `0.0`, `1e0` and `1E0` too (go 1.19.8, a struct of int32/int64/uint32 fields).
            ("-0.0", None, None, None),
            ("-0e0", None, None, None),
            ("-0E0", None, None, None),
            ("-0.00e5", None, None, None),
            ("-1e-400", None, None, None),
            ("0.0", None, None, None),
            ("1e0", None, None, None),
            ("1E0", None, None, None),
            ("-1", Some(-1), Some(-1), None),
            ("2147483647", Some(2147483647), Some(2147483647), Some(2147483647)),
            ("2147483648", None, Some(2147483648), Some(2147483648)),
            ("-2147483648", Some(-2147483648), Some(-2147483648), None),
            ("-2147483649", None, Some(-2147483649), None),
            ("4294967295", None, Some(4294967295), Some(4294967295)),
            ("4294967296", None, Some(4294967296), None),
            ("9223372036854775807", None, Some(i64::MAX), None),
            ("9223372036854775808", None, None, None),
            ("-9223372036854775808", None, Some(i64::MIN), None),
            ("-9223372036854775809", None, None, None),
            ("18446744073709551616", None, None, None),
        ] {
            let j = parse(literal.as_bytes()).unwrap();
            assert_eq!(
                [j.as_go_int(Int32), j.as_go_int(Int64), j.as_go_int(Uint32)],
                [int32, int64, uint32],
                "{literal}"
            );
        }
        // Not numbers at all.
        for other in [J::str("1"), J::Null, J::Bool(true), J::Arr(vec![])] {
            assert_eq!(other.as_go_int(Int64), None, "{other:?}");
        }
    }

    /// Which `-0` is the integer literal is told by the text, in document order, past
    /// negative numbers, exponents and strings holding `-0`; and only then.
    #[test]
    fn the_integer_literal_minus_zero_is_told_from_the_float() {
        let j = parse(br#"{"s":"-0","a":[-1,-0.0,-0,1e-0,-2.5E-3,-0],"b":{"-0":-0e1,"c":-0,"d":"\"-0"},"e":-0.0}"#)
            .unwrap();
        let got: Vec<String> = ["a", "b", "e"]
            .iter()
            .flat_map(|k| {
                let v = j.get(k).unwrap();
                let mut all: Vec<&J> = v.items().iter().collect();
                all.extend(v.members().iter().map(|(_, v)| v));
                if all.is_empty() {
                    all.push(v);
                }
                all.into_iter().map(|v| format!("{v:?}")).collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(
            got,
            [
                "Int(-1)",
                r#"Float("-0")"#,
                r#"Raw("-0")"#,
                r#"Float("1")"#,
                r#"Float("-0.0025")"#,
                r#"Raw("-0")"#,
                r#"Float("-0")"#,
                r#"Raw("-0")"#,
                r#"Str("\"-0")"#,
                r#"Float("-0")"#,
            ]
        );
        assert_eq!(j.get("s"), Some(&J::str("-0")));
        // Both print `-0`, as Go prints the float -0, and read back equal.
        assert!(
            j.to_compact(false)
                .starts_with(r#"{"s":"-0","a":[-1,-0,-0,1,-0.0025,-0]"#)
        );
        assert_eq!(parse(j.to_compact(false).as_bytes()).unwrap(), j);
        assert!(negative_numbers(br#"[-0.0,-1,"-0"]"#).is_none());
    }

    #[test]
    fn a_whole_float_is_said_to_be_one_in_messages() {
        let shown = |text: &str| parse(text.as_bytes()).unwrap().shown_in_message();
        assert_eq!(shown("1.0"), "1 (written with a fraction or an exponent)");
        assert_eq!(shown("1e3"), "1000 (written with a fraction or an exponent)");
        assert_eq!(shown("1.5"), "1.5");
        assert_eq!(shown("0.0"), "0 (written with a fraction or an exponent)");
        assert_eq!(shown("-0"), "-0");
        assert_eq!(shown("-0.0"), "-0 (written with a fraction or an exponent)");
        assert_eq!(shown("-9223372036854775809"), "-9223372036854776000");
        assert_eq!(shown("7"), "7");
        assert_eq!(shown("18446744073709551616"), "18446744073709552000");
        assert_eq!(
            shown(&format!("\"{}\"", "é".repeat(40))),
            format!("\"{}...", "é".repeat(30))
        );
    }

    #[test]
    fn floats_read_as_go_prints_them_and_read_back_the_same() {
        let j = parse(b"[1.0,2.5e2,184467440737095520.0,1.50,-0,-0.0,9223372036854775808]").unwrap();
        let want = J::Arr(vec![
            J::Float("1".into()),
            J::Float("250".into()),
            J::Float("184467440737095520".into()),
            J::Float("1.5".into()),
            J::Raw("-0".into()),
            J::Float("-0".into()),
            J::Raw("9223372036854775808".into()),
        ]);
        assert_eq!(format!("{j:?}"), format!("{want:?}"));
        assert_eq!(
            j.to_compact(true),
            "[1,250,184467440737095520,1.5,-0,-0,9223372036854775808]"
        );
        // Read back, the integral floats are integers, and equal to what was read.
        let again = parse(j.to_compact(true).as_bytes()).unwrap();
        assert_eq!(again.items().first().and_then(J::as_int), Some(1));
        assert_eq!(again, want);
        assert_ne!(J::Float("1.5".into()), J::Int(1));
        assert_ne!(J::Float("1".into()), J::str("1"));
        // Past i64 a literal is a float64, rounded correctly (serde_json's float_roundtrip, as
        // Go's strconv does): its shortest form reads back as the same float.
        let long = parse(b"-9223372032036854775808").unwrap();
        assert_eq!(format!("{long:?}"), r#"Float("-9223372032036854000000")"#);
        assert_eq!(parse(long.to_compact(true).as_bytes()).unwrap(), long);
    }
}
