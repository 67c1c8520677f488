//! JSON decoded into a Go struct as `encoding/json`'s `Unmarshal` decodes it, for the content
//! store's documents (image configs, manifests, indexes) and Docker's container files (see
//! `containers::moby`), and printed back as its `Marshal` prints it ([`marshal`]).
//!
//! serde's derives differ from Go's decoder in three ways that change what a document says:
//! they refuse a repeated key, match keys exactly, and refuse `null` for a string. Go lets
//! every key decode into the field it names, in document order, into the value already there:
//!
//! * a key names the field whose name it equals, else the first field (in struct order) whose
//!   name it equals without regard to case (ASCII, plus 'ſ' for 's' and the Kelvin sign for
//!   'k');
//! * a struct (or a non-nil pointer's struct) keeps the fields a later object does not name;
//!   a map keeps its entries and adds the later ones (a repeated key within one map is a
//!   fresh value that replaces the entry);
//! * a slice takes the later array's length, but each element is decoded into the element
//!   already at that index of the slice's backing array, which keeps what earlier, longer
//!   arrays put there (`[]` and `null` start a new, empty one);
//! * `null` sets a pointer, slice or map to nil and leaves a string, number, bool or struct as
//!   it was (an element or map value it leaves at its zero value: `""` in a `[]string`);
//! * a value of the wrong type is an error (Go carries on but reports the first one);
//! * a value a type's own `UnmarshalJSON` refuses (`time.Time`'s, moby's `StrSlice`'s) is
//!   the error, returned at once: Go decodes nothing after it.
//!
//! The document is read into a [`J`] tree, decoded here against the Go type's [`Shape`] into
//! the value Go ends with, and that value, written without repeats in the field names the
//! serde types use, is what they read. Keys no field takes are dropped, as Go drops them.

use crate::inspect::gojson::{GoInt, J};

/// A Go type, as far as `encoding/json` decodes into it.
pub enum Shape {
    /// `string` (and a named string type such as `digest.Digest`).
    Str,
    /// `int`, `int64`, `time.Duration`.
    Int,
    /// `int32`: as [`Shape::Int`], within its narrower range.
    Int32,
    /// An unsigned integer type this many bits wide (`uint16`, `uint32`, `uint64`; Go's
    /// `uint` and `os.FileMode` are [`Shape::Named`] over one): Go reads the number's text
    /// with `strconv.ParseUint`, so a sign (`-0` too), a fraction, an exponent or a value past
    /// the type's range is refused. Kept as written.
    Uint(u32),
    Bool,
    /// `time.Time`, whose own `UnmarshalJSON` takes an RFC 3339 string and leaves the time as
    /// it was for `null`. What it refuses ends the decoding ([`Mistyped::ends`]): a string
    /// that does not parse leaves the zero time, anything else the time as it was.
    Time,
    /// `[]byte`: a base64 string (standard alphabet, padded, line breaks skipped), decoded
    /// with `base64.StdEncoding`, or an array of numbers 0 to 255 (Go's `[]uint8`); `null` sets
    /// it to nil. Kept as base64 text, as Go writes it.
    Bytes,
    /// A named Go type over a string or integer (`digest.Digest`, `time.Duration`, `int`):
    /// decoded as the type it names, which messages call by this name.
    Named(&'static str, &'static Shape),
    /// `*T`; also `[]byte`, read from a base64 string, which `null` likewise sets to nil.
    Ptr(&'static Shape),
    Slice(&'static Shape),
    /// `[N]T`: an array is decoded into the elements already there, those past its end set
    /// to their zero value and its elements past `N` skipped unchecked; `null` leaves it as it
    /// was. Never empty for `omitempty`.
    Array(usize, &'static Shape),
    /// moby's `strslice.StrSlice` (`Cmd`, `Entrypoint`, `Shell`, `CapAdd`, `CapDrop`): a
    /// `[]string` whose own `UnmarshalJSON` decodes the value into a fresh `[]string` (never
    /// into the one there), else into a string, which becomes a list of one; `null` sets it
    /// to nil. Anything else it refuses, with the error of its second try (`cannot unmarshal
    /// number into ... of type string`), and that ends the decoding ([`Mistyped::ends`]),
    /// leaving it as it was. Printed as the `[]string` it is.
    StrSlice,
    /// `map[string]T`.
    Map(&'static Shape),
    /// A struct: its Go type as messages name it (`v1.Descriptor`; "Go struct field
    /// Descriptor.size" leaves the package out, as `reflect.Type.Name` does) and its fields
    /// by JSON name, embedded structs' fields flattened in, in Go's field order. A field Go
    /// has and that is not listed is dropped unchecked, so a Go type is described whole when
    /// a wrong type anywhere in it must refuse the document.
    Struct(&'static str, &'static [(&'static str, Shape)]),
}

impl Shape {
    /// The Go type as error messages name it.
    fn go_name(&self) -> String {
        match self {
            Shape::Str => "string".into(),
            Shape::Int => "int64".into(),
            Shape::Int32 => "int32".into(),
            Shape::Uint(bits) => format!("uint{bits}"),
            Shape::Bool => "bool".into(),
            Shape::Time => "time.Time".into(),
            Shape::Bytes => "[]uint8".into(),
            Shape::Named(name, _) => (*name).to_string(),
            // Go decodes into what the pointer points to and names that type.
            Shape::Ptr(t) => t.go_name(),
            Shape::Slice(t) => format!("[]{}", t.go_name()),
            Shape::Array(n, t) => format!("[{n}]{}", t.go_name()),
            Shape::StrSlice => "strslice.StrSlice".into(),
            Shape::Map(t) => format!("map[string]{}", t.go_name()),
            Shape::Struct(name, _) => (*name).to_string(),
        }
    }

    /// What a value of the type is, in words, for a message that a value is not one ("not
    /// an integer", "not a list of strings").
    pub fn wanted(&self) -> String {
        match self {
            Shape::Str => "a string".into(),
            Shape::Int => "an integer".into(),
            Shape::Int32 => format!("an integer from {} to {}", i32::MIN, i32::MAX),
            Shape::Uint(bits) => format!("an integer from 0 to {}", uint_max(*bits)),
            Shape::Bool => "true or false".into(),
            Shape::Time => "an RFC 3339 time".into(),
            Shape::Bytes => "base64 text".into(),
            Shape::Ptr(t) | Shape::Named(_, t) => t.wanted(),
            Shape::Slice(t) | Shape::Array(_, t) => format!("a list of {}", t.plural()),
            Shape::StrSlice => "a string or a list of strings".into(),
            Shape::Map(t) => format!("an object of {}", t.plural()),
            Shape::Struct(..) => "an object".into(),
        }
    }

    fn plural(&self) -> String {
        match self {
            Shape::Str => "strings".into(),
            Shape::Int => "integers".into(),
            Shape::Int32 => format!("integers from {} to {}", i32::MIN, i32::MAX),
            Shape::Uint(bits) => format!("integers from 0 to {}", uint_max(*bits)),
            Shape::Bool => "booleans".into(),
            Shape::Time => "RFC 3339 times".into(),
            Shape::Bytes => "base64 texts".into(),
            Shape::Ptr(t) | Shape::Named(_, t) => t.plural(),
            Shape::Slice(_) | Shape::Array(..) => "lists".into(),
            Shape::StrSlice => "strings or lists of strings".into(),
            Shape::Map(_) | Shape::Struct(..) => "objects".into(),
        }
    }

    /// The Go zero value, as it is written: what a slice element or a map value that `null`
    /// left alone holds.
    fn zero(&self) -> J {
        match self {
            Shape::Str => J::str(""),
            Shape::Int | Shape::Int32 | Shape::Uint(_) => J::Int(0),
            Shape::Bool => J::Bool(false),
            Shape::Time => J::str(ZERO_TIME),
            Shape::Ptr(_) | Shape::Slice(_) | Shape::Map(_) | Shape::Bytes | Shape::StrSlice => J::Null,
            Shape::Array(n, t) => J::Arr((0..*n).map(|_| t.zero()).collect()),
            Shape::Struct(..) => J::Obj(Vec::new()),
            Shape::Named(_, t) => t.zero(),
        }
    }
}

/// Go's zero `time.Time`, as its `MarshalJSON` writes it.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The largest value of an unsigned integer type `bits` wide.
fn uint_max(bits: u32) -> u64 {
    u64::MAX >> 64u32.saturating_sub(bits).min(63)
}

/// The value Go's `strconv.ParseUint` reads from a number's text for an unsigned integer
/// type `bits` wide, or `None` when it refuses it: a sign (`-0` too), a fraction or an
/// exponent, or a value past the type's range.
fn go_uint(value: &J, bits: u32) -> Option<u64> {
    let n = match value {
        J::Int(n) => u64::try_from(*n).ok()?,
        // An integer literal past i64 (or `-0`, which does not parse).
        J::Raw(text) => text.parse::<u64>().ok()?,
        _ => return None,
    };
    (n <= uint_max(bits)).then_some(n)
}

/// A Go value being decoded into.
enum V {
    /// Never set: the zero value (nil for a pointer, slice or map).
    Zero,
    /// Set to nil by `null`.
    Nil,
    Scalar(J),
    /// A struct's fields by JSON name, in the order first set.
    Obj(Vec<(String, V)>),
    /// A map's entries in the order first set, and where each key is: a map named again and
    /// again (a crafted config's `"Labels"` repeated with its keys) costs each key once, not
    /// once per entry already there.
    Map {
        entries: Vec<(String, V)>,
        at: foldhash::HashMap<String, usize>,
    },
    /// A slice: its backing array, of which the first `len` elements are the slice.
    Arr {
        backing: Vec<V>,
        len: usize,
    },
}

/// `s` as Go compares a key with a field name: ASCII case aside, 'ſ' (U+017F) is an 's' and
/// the Kelvin sign (U+212A) a 'k' (`bytes.EqualFold`, and Go 1.21's `foldName`, on names that
/// are ASCII as every field name here is).
pub fn go_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{17f}' => 's',
            '\u{212a}' => 'k',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The field `key` decodes into: the one named exactly so, else the first whose name folds
/// alike.
fn field_for(fields: &'static [(&'static str, Shape)], key: &str) -> Option<&'static (&'static str, Shape)> {
    fields.iter().find(|(name, _)| *name == key).or_else(|| {
        let folded = go_fold(key);
        fields.iter().find(|(name, _)| go_fold(name) == folded)
    })
}

/// The type of the field `key` names among `fields` (exactly, else folded), if any.
pub fn field_shape(fields: &'static [(&'static str, Shape)], key: &str) -> Option<&'static Shape> {
    field_for(fields, key).map(|(_, shape)| shape)
}

/// Go's name for a JSON value's kind in "cannot unmarshal <kind> into ...": a number into an
/// integer type is named with its text.
fn kind_of(value: &J, into: &Shape) -> String {
    match value {
        J::Null => "null".into(),
        J::Bool(_) => "bool".into(),
        // Go shows the literal; what was read keeps its value, and says when it was written
        // as a float (`1.0` is refused as `1` would not be).
        J::Int(_) | J::Raw(_) | J::Float(_)
            if matches!(
                into,
                Shape::Int
                    | Shape::Int32
                    | Shape::Uint(_)
                    | Shape::Named(_, Shape::Int | Shape::Int32 | Shape::Uint(_))
            ) =>
        {
            format!("number {}", value.shown_in_message())
        }
        J::Int(_) | J::Raw(_) | J::Float(_) => "number".into(),
        J::Str(_) => "string".into(),
        J::Arr(_) => "array".into(),
        J::Obj(_) => "object".into(),
    }
}

/// The struct and field path a type error names ("Go struct field DockerOCIImageConfig.config.Env").
struct Path<'a> {
    top: &'static str,
    /// The innermost struct's Go name (with its package, which messages leave out), and the
    /// JSON field names from the top.
    structure: &'static str,
    fields: &'a [&'a str],
}

/// A value Go's decoder refuses for its field's type. Go carries on past it (leaving the
/// field as it was) and reports the first one, unless a type's own `UnmarshalJSON` refused it
/// ([`Mistyped::ends`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mistyped {
    /// Go's message: "json: cannot unmarshal string into Go struct field State.State.Pid of
    /// type int64" (an integer type is named `int64` whatever its Go width; a time's message
    /// is not Go's `time` package's).
    pub go: String,
    /// The JSON names of the struct fields from the top to the refused value's (Go's
    /// `Field`: `State.Pid`; a map's keys and a slice's indexes are not in it).
    pub field: String,
    /// The value the field was given, as a message shows it ([`J::shown_in_message`]): the
    /// whole list or object when one of its elements is refused.
    pub shown: String,
    /// What the field's type takes, in words ([`Shape::wanted`]).
    pub wanted: String,
    /// Refused by the type's own `UnmarshalJSON` (`time.Time`, `strslice.StrSlice`), whose
    /// error Go's decoder returns at once (`d.value` hands it up through every level): nothing
    /// after it in the document is decoded, and it is the error `json.Unmarshal` returns, over
    /// any type error saved before it. Always the last refusal.
    pub ends: bool,
}

fn type_error(value: &J, shape: &Shape, path: &Path<'_>) -> String {
    if let Shape::StrSlice = shape {
        // Its UnmarshalJSON returns the error of its second try, into a string, and the
        // decoder puts the field's context on that error: "... Config.Config.Cmd of type
        // string".
        return type_error(value, &Shape::Str, path);
    }
    if let Shape::Time = shape {
        // time.Time's own UnmarshalJSON (Go 1.20 on), not the decoder, refuses it.
        return match value {
            J::Str(s) => format!(
                "parsing time {}: not an RFC 3339 time",
                J::str(s.clone()).shown_in_message()
            ),
            // A string written with an escape, as written (see `gojson::parse_for`).
            J::Raw(r) if r.starts_with('"') => format!(
                "parsing time {}: not an RFC 3339 time (written with an escape, which time.Time never unescapes)",
                value.shown_in_message()
            ),
            _ => "Time.UnmarshalJSON: input is not a JSON string".into(),
        };
    }
    let kind = kind_of(value, shape);
    match path.fields.is_empty() {
        true => format!("json: cannot unmarshal {kind} into Go value of type {}", path.top),
        // The struct by its name without the package (Go's `reflect.Type.Name`), the field's
        // type with it (`String`): "Manifest.subject of type v1.Descriptor".
        false => format!(
            "json: cannot unmarshal {kind} into Go struct field {}.{} of type {}",
            path.structure.rsplit_once('.').map_or(path.structure, |(_, name)| name),
            path.fields.join("."),
            shape.go_name()
        ),
    }
}

/// The value given to the struct field being decoded (or the whole document), and its type:
/// what a refusal inside it names.
#[derive(Clone, Copy)]
struct Given<'j> {
    value: &'j J,
    shape: &'static Shape,
}

/// Decoding stopped where Go's decoder stops: a type's own `UnmarshalJSON` refused a value
/// ([`Mistyped::ends`]), and what comes after it in the document is not decoded.
struct Stop;

/// Decodes `value` into `slot` as Go decodes it into a value of type `shape` that holds what
/// `slot` holds. A value of the wrong type is added to `refused` (once for each field) and
/// leaves the slot as it was, as Go leaves it; one a type's own `UnmarshalJSON` refuses is
/// added too and stops the decoding, leaving what was decoded so far as Go leaves it.
fn decode_into(
    slot: &mut V,
    value: &J,
    shape: &'static Shape,
    path: &Path<'_>,
    given: Given<'_>,
    refused: &mut Vec<Mistyped>,
) -> Result<(), Stop> {
    if let J::Null = value {
        // An `UnmarshalJSON` is given `null` too: StrSlice's sets itself to nil, time.Time's
        // does nothing.
        if let Shape::Ptr(_) | Shape::Slice(_) | Shape::Map(_) | Shape::Bytes | Shape::StrSlice = shape {
            *slot = V::Nil;
        }
        return Ok(());
    }
    match (shape, value) {
        (Shape::Str, J::Str(_)) | (Shape::Bool, J::Bool(_)) => *slot = V::Scalar(value.clone()),
        // Kept as Go's time.Time keeps it, and written back as its MarshalJSON writes it
        // (`T0:00:00,5Z` is `T00:00:00.5Z`).
        (Shape::Time, J::Str(s)) => match crate::containerd::gotime::parse_rfc3339(s) {
            Some(t) => *slot = V::Scalar(J::str(t.rfc3339_nano())),
            None => {
                // `*t, err = parseStrictRFC3339(...)`: the zero time on the way out.
                *slot = V::Scalar(J::str(ZERO_TIME));
                return Err(stop(refused, type_error(value, shape, path), path, given));
            }
        },
        // A string written with an escape: `Time.UnmarshalJSON` parses the literal's raw
        // bytes (it never unescapes, go.dev/issue/47353), where a `\` is no part of a time.
        (Shape::Time, J::Raw(r)) if r.starts_with('"') => {
            *slot = V::Scalar(J::str(ZERO_TIME));
            return Err(stop(refused, type_error(value, shape, path), path, given));
        }
        // Not a JSON string: refused before the time is touched (Go 1.20 on).
        (Shape::Time, _) => return Err(stop(refused, type_error(value, shape, path), path, given)),
        (Shape::StrSlice, J::Str(_)) => *slot = V::Scalar(J::Arr(vec![value.clone()])),
        // A fresh []string: `null` elements are "".
        (Shape::StrSlice, J::Arr(items)) if items.iter().all(|i| matches!(i, J::Str(_) | J::Null)) => {
            let strings = items
                .iter()
                .map(|i| match i {
                    J::Null => J::str(""),
                    i => i.clone(),
                })
                .collect();
            *slot = V::Scalar(J::Arr(strings));
        }
        (Shape::StrSlice, _) => return Err(stop(refused, type_error(value, shape, path), path, given)),
        (Shape::Int, value) if value.as_go_int(GoInt::Int64).is_some() => {
            *slot = V::Scalar(J::Int(value.as_go_int(GoInt::Int64).unwrap_or_default()));
        }
        (Shape::Int32, value) if value.as_go_int(GoInt::Int32).is_some() => {
            *slot = V::Scalar(J::Int(value.as_go_int(GoInt::Int32).unwrap_or_default()));
        }
        (Shape::Uint(bits), value) if go_uint(value, *bits).is_some() => *slot = V::Scalar(value.clone()),
        (Shape::Named(_, inner), value) if fits(inner, value) => {
            decode_into(slot, value, inner, path, given, refused)?;
        }
        (Shape::Bytes, J::Str(s)) => match go_base64_error(s.as_bytes()) {
            None => *slot = V::Scalar(value.clone()),
            // Not a type error: Go's message has no field in it.
            Some(at) => refuse(refused, format!("illegal base64 data at input byte {at}"), path, given),
        },
        (Shape::Bytes, J::Arr(items)) => {
            // Each element a uint8; `null` leaves one 0, a refused one too (Go carries on).
            static UINT8: Shape = Shape::Uint(8);
            let mut bytes = Vec::with_capacity(items.len());
            for item in items {
                let byte = match item {
                    J::Null => Some(0),
                    item => go_uint(item, 8).and_then(|n| u8::try_from(n).ok()),
                };
                if byte.is_none() {
                    refuse(refused, type_error(item, &UINT8, path), path, given);
                }
                bytes.push(byte.unwrap_or_default());
            }
            *slot = V::Scalar(J::Str(crate::containers::record_inspect::base64(&bytes)));
        }
        (Shape::Ptr(inner), value) => {
            // A nil pointer gets a new zero value; a set one is decoded into.
            if let V::Nil = slot {
                *slot = V::Zero;
            }
            decode_into(slot, value, inner, path, given, refused)?;
        }
        (Shape::Slice(elem), J::Arr(items)) => {
            if items.is_empty() || !matches!(slot, V::Arr { .. }) {
                *slot = V::Arr {
                    backing: Vec::new(),
                    len: 0,
                };
            }
            if let V::Arr { backing, len } = slot {
                for (i, item) in items.iter().enumerate() {
                    // Go grows the slice to take element i before decoding it, and cuts it
                    // to the array's length only at the end: a decoding stopped at element i
                    // leaves the longer of the slice there and i + 1 elements.
                    *len = (*len).max(i + 1);
                    if backing.len() <= i {
                        backing.push(V::Zero);
                    }
                    if let Some(at) = backing.get_mut(i) {
                        decode_into(at, item, elem, path, given, refused)?;
                    }
                }
                *len = items.len();
            }
        }
        (Shape::Array(n, elem), J::Arr(items)) => {
            if !matches!(slot, V::Arr { .. }) {
                *slot = V::Arr {
                    backing: Vec::new(),
                    len: *n,
                };
            }
            if let V::Arr { backing, .. } = slot {
                backing.resize_with(*n, || V::Zero);
                // Elements past the array's end are skipped, unchecked.
                for (at, item) in backing.iter_mut().zip(items) {
                    decode_into(at, item, elem, path, given, refused)?;
                }
                // Those the JSON array did not reach are zeroed.
                for at in backing.iter_mut().skip(items.len()) {
                    *at = V::Zero;
                }
            }
        }
        (Shape::Map(elem), J::Obj(members)) => {
            if !matches!(slot, V::Map { .. }) {
                *slot = V::Map {
                    entries: Vec::new(),
                    at: foldhash::HashMap::default(),
                };
            }
            if let V::Map { entries, at } = slot {
                for (key, item) in members {
                    let mut fresh = V::Zero;
                    // Stopped inside, the entry is not stored (Go sets it after decoding it).
                    decode_into(&mut fresh, item, elem, path, given, refused)?;
                    match at.get(key).and_then(|&i| entries.get_mut(i)) {
                        Some((_, v)) => *v = fresh,
                        None => {
                            at.insert(key.clone(), entries.len());
                            entries.push((key.clone(), fresh));
                        }
                    }
                }
            }
        }
        (Shape::Struct(name, fields), J::Obj(members)) => {
            if !matches!(slot, V::Obj(_)) {
                *slot = V::Obj(Vec::new());
            }
            if let V::Obj(set) = slot {
                for (key, item) in members {
                    let Some((field, field_shape)) = field_for(fields, key) else {
                        continue;
                    };
                    let at = match set.iter().position(|(k, _)| k == field) {
                        Some(at) => at,
                        None => {
                            set.push(((*field).to_string(), V::Zero));
                            set.len() - 1
                        }
                    };
                    let mut fields_path = path.fields.to_vec();
                    fields_path.push(field);
                    let inner = Path {
                        top: path.top,
                        structure: name,
                        fields: &fields_path,
                    };
                    let given = Given {
                        value: item,
                        shape: field_shape,
                    };
                    if let Some((_, v)) = set.get_mut(at) {
                        decode_into(v, item, field_shape, &inner, given, refused)?;
                    }
                }
            }
        }
        (shape, value) => refuse(refused, type_error(value, shape, path), path, given),
    }
    Ok(())
}

/// Whether a string or integer type (what [`Shape::Named`] names) takes `value`.
fn fits(shape: &Shape, value: &J) -> bool {
    match shape {
        Shape::Str => matches!(value, J::Str(_)),
        Shape::Int => value.as_go_int(GoInt::Int64).is_some(),
        Shape::Int32 => value.as_go_int(GoInt::Int32).is_some(),
        Shape::Uint(bits) => go_uint(value, *bits).is_some(),
        // Not named here: decoded as it is, which refuses what it refuses.
        _ => true,
    }
}

/// Adds Go's message `go` for the value given to the field at `path`, unless that field was
/// refused already: a list of a million wrong elements is one refusal.
fn refuse(refused: &mut Vec<Mistyped>, go: String, path: &Path<'_>, given: Given<'_>) {
    let field = path.fields.join(".");
    if !refused.iter().any(|r| r.field == field) {
        refused.push(Mistyped {
            go,
            field,
            shown: given.value.shown_in_message(),
            wanted: given.shape.wanted(),
            ends: false,
        });
    }
}

/// Adds the refusal that ends the decoding ([`Mistyped::ends`]), whether or not its field was
/// refused before: it is the one Go returns.
fn stop(refused: &mut Vec<Mistyped>, go: String, path: &Path<'_>, given: Given<'_>) -> Stop {
    refused.push(Mistyped {
        go,
        field: path.fields.join("."),
        shown: given.value.shown_in_message(),
        wanted: given.shape.wanted(),
        ends: true,
    });
    Stop
}

/// Where Go's `base64.StdEncoding.Decode` stops on `s` ("illegal base64 data at input byte
/// N"), or `None` when it decodes: four letters of the standard alphabet at a time, `\r` and
/// `\n` skipped anywhere, the last group padded with `=` to four (the bits padding leaves
/// over are not checked), nothing but line breaks after the padding.
pub fn go_base64_error(s: &[u8]) -> Option<usize> {
    let letter = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    let newline = |b: &u8| *b == b'\n' || *b == b'\r';
    let mut si = 0;
    loop {
        let mut j = 0;
        while j < 4 {
            let Some(&b) = s.get(si) else {
                // The input ends: between groups it is done, within one it lacks padding.
                return (j != 0).then_some(si - j);
            };
            si += 1;
            if letter(b) {
                j += 1;
                continue;
            }
            if newline(&b) {
                continue;
            }
            if b != b'=' || j < 2 {
                return Some(si - 1);
            }
            if j == 2 {
                // "==" is wanted; the first is read.
                si += s
                    .get(si..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|b| newline(b))
                    .count();
                match s.get(si) {
                    None => return Some(s.len()),
                    Some(b'=') => si += 1,
                    Some(_) => return Some(si - 1),
                }
            }
            si += s
                .get(si..)
                .unwrap_or_default()
                .iter()
                .take_while(|b| newline(b))
                .count();
            // Padding ends the input, bar line breaks.
            return (si < s.len()).then_some(si);
        }
    }
}

/// The decoded value written out: a struct's fields that were set, a slice's elements, a
/// map's entries; an element or entry left unset is its zero value.
fn written(v: V, shape: &Shape) -> Option<J> {
    let elem_of = |v: V, elem: &Shape| written(v, elem).unwrap_or_else(|| elem.zero());
    match (v, shape) {
        (V::Zero, _) => None,
        (V::Nil, _) => Some(J::Null),
        (v, Shape::Ptr(inner) | Shape::Named(_, inner)) => written(v, inner),
        (V::Scalar(j), _) => Some(j),
        (V::Obj(set), Shape::Struct(_, fields)) => Some(J::Obj(
            set.into_iter()
                .filter_map(|(k, v)| {
                    let (_, field_shape) = fields.iter().find(|(name, _)| *name == k)?;
                    Some((k, written(v, field_shape)?))
                })
                .collect(),
        )),
        (V::Map { entries, .. }, Shape::Map(elem)) => Some(J::Obj(
            entries.into_iter().map(|(k, v)| (k, elem_of(v, elem))).collect(),
        )),
        (V::Arr { backing, len }, Shape::Slice(elem) | Shape::Array(_, elem)) => Some(J::Arr(
            backing.into_iter().take(len).map(|v| elem_of(v, elem)).collect(),
        )),
        // Not built by `decode_into`.
        (V::Obj(_) | V::Map { .. } | V::Arr { .. }, _) => None,
    }
}

/// The JSON names of every field of a shape, at any depth, each once, grouped by length: a
/// key is compared with the few names of its own length only (a manifest's keys were each
/// compared with every name, and that was most of the cost of [`keys_are_exact`]).
pub struct FieldNames {
    /// Index `n`: the names `n` bytes long, each with whether another name folds like it.
    by_len: Vec<Vec<(&'static [u8], bool)>>,
    /// The names of fields that are a struct (or a pointer to one) somewhere in the shape.
    structs: Vec<&'static [u8]>,
}

impl FieldNames {
    pub fn of(shape: &'static Shape) -> FieldNames {
        fn walk(shape: &'static Shape, out: &mut FieldNames) {
            match shape {
                Shape::Str
                | Shape::Int
                | Shape::Int32
                | Shape::Uint(_)
                | Shape::Bool
                | Shape::Time
                | Shape::Bytes
                | Shape::StrSlice => {}
                Shape::Ptr(inner)
                | Shape::Slice(inner)
                | Shape::Array(_, inner)
                | Shape::Map(inner)
                | Shape::Named(_, inner) => walk(inner, out),
                Shape::Struct(_, fields) => {
                    for (name, inner) in *fields {
                        let name = name.as_bytes();
                        if out.by_len.len() <= name.len() {
                            out.by_len.resize_with(name.len() + 1, Vec::new);
                        }
                        if let Some(same_len) = out.by_len.get_mut(name.len())
                            && !same_len.iter().any(|(n, _)| *n == name)
                        {
                            let mut folds_like_another = false;
                            for (_, its) in same_len.iter_mut().filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
                                (*its, folds_like_another) = (true, true);
                            }
                            same_len.push((name, folds_like_another));
                        }
                        if is_struct(inner) && !out.structs.contains(&name) {
                            out.structs.push(name);
                        }
                        walk(inner, out);
                    }
                }
            }
        }
        fn is_struct(shape: &Shape) -> bool {
            match shape {
                Shape::Struct(..) => true,
                Shape::Ptr(inner) | Shape::Named(_, inner) => is_struct(inner),
                _ => false,
            }
        }
        let mut out = FieldNames {
            by_len: Vec::new(),
            structs: Vec::new(),
        };
        walk(shape, &mut out);
        out
    }

    /// Every name.
    pub fn names(&self) -> impl Iterator<Item = &'static [u8]> + '_ {
        self.by_len.iter().flatten().map(|(n, _)| *n)
    }

    /// Whether `key` folds like a name under ASCII case without being that name.
    fn folds_to_another(&self, key: &[u8]) -> bool {
        let Some(names) = self.by_len.get(key.len()) else {
            return false;
        };
        // Most keys are a name: one exact comparison settles it, unless another name folds
        // like it (`config` and `Config`, both fields somewhere in an image config).
        if let Some((_, folds_like_another)) = names.iter().find(|(n, _)| *n == key) {
            return *folds_like_another;
        }
        names.iter().any(|(n, _)| n.eq_ignore_ascii_case(key))
    }
}

/// Whether every key of the JSON text `blob` that folds like one of `names` (a shape's
/// [`FieldNames`]) is that name exactly: then a decoder that matches keys exactly,
/// refuses a repeated field and refuses `null` for a string (serde's derives) reads what Go
/// reads whenever it reads anything, and [`unmarshal`]'s tree is not needed. One pass over
/// the bytes, from quote to quote; a key with an escape, or with the two non-ASCII letters
/// that fold to ASCII ('ſ', the Kelvin sign), answers no. A key of data (a label named
/// `env`) may answer no too: the slow way is always right.
pub fn keys_are_exact(blob: &[u8], names: &FieldNames) -> bool {
    // Quote to quote: where a string opened (after its quote), and whether it held an escape.
    let mut open: Option<(usize, bool)> = None;
    // Bytes before this one were escaped (the byte after a backslash is never a delimiter).
    let mut from = 0;
    for at in memchr::memchr2_iter(b'"', b'\\', blob) {
        if at < from {
            continue;
        }
        if blob.get(at) == Some(&b'\\') {
            from = at + 2;
            if let Some((_, escaped)) = open.as_mut() {
                *escaped = true;
            }
            continue;
        }
        let Some((start, escaped)) = open.take() else {
            open = Some((at + 1, false));
            continue;
        };
        let after = blob.get(at + 1..).unwrap_or_default();
        let next = after.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        if next != Some(&b':') {
            continue;
        }
        let Some(text) = blob.get(start..at) else {
            return false;
        };
        if escaped {
            return false;
        }
        if !text.is_ascii()
            && (text.windows(2).any(|w| w == [0xc5, 0xbf]) || text.windows(3).any(|w| w == [0xe2, 0x84, 0xaa]))
        {
            return false;
        }
        if names.folds_to_another(text) {
            return false;
        }
    }
    // An unterminated string is not JSON: the slow way says why.
    open.is_none()
}

/// Whether no array of the JSON text `blob` can stand where Go wants a struct: the top level
/// is an object (or `null`), no array is an element of an array (slices of structs), and no
/// array is the value of a key that names a struct field anywhere in `names`' shape. serde's
/// derived structs read an array as the fields in order, where Go refuses it, so a document
/// that might hold one is read the slow way ([`unmarshal`]), which refuses it as Go does.
/// Conservative: a `[` inside a string may answer no, never a wrong yes. Looks only at the
/// bytes before each `[` (documents have few), not at every byte.
pub fn no_array_for_a_struct(blob: &[u8], names: &FieldNames) -> bool {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    if !matches!(blob.iter().find(|b| !ws(b)), Some(b'{' | b'n')) {
        return false;
    }
    for at in memchr::memchr_iter(b'[', blob) {
        let before = blob.get(..at).unwrap_or_default();
        let Some(p) = before.iter().rposition(|b| !ws(b)) else {
            return false;
        };
        match before.get(p) {
            Some(b'[' | b',') => return false,
            Some(b':') => {
                // The key: the string that ends just before the colon.
                let key_end = before.get(..p).unwrap_or_default();
                let Some(q) = key_end.iter().rposition(|b| !ws(b)) else {
                    return false;
                };
                let Some(open) = key_end.get(..q).and_then(|k| k.iter().rposition(|&b| b == b'"')) else {
                    return false;
                };
                let key = key_end.get(open + 1..q).unwrap_or_default();
                if names.structs.iter().any(|n| n.eq_ignore_ascii_case(key)) {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

/// Reads one JSON value from `d` and answers whether Go's decoder takes it for a value of
/// type `shape` (`Err` when it would not, or might not), keeping nothing: what a serde field
/// that only checks a Go field's type reads. Keys of a struct are its fields' names exactly
/// (what [`keys_are_exact`] has made sure of); a float for an integer, or an array for a
/// `[]byte`, is `Err` too, for [`unmarshal`] to decide.
pub fn check<'de, D: serde::Deserializer<'de>>(d: D, shape: &'static Shape) -> Result<(), D::Error> {
    serde::de::DeserializeSeed::deserialize(Check(shape), d)
}

/// [`check`] as a seed (for elements, map values and fields) and as the visitor.
#[derive(Clone, Copy)]
struct Check(&'static Shape);

impl<'de> serde::de::DeserializeSeed<'de> for Check {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.0 {
            Shape::Ptr(inner) | Shape::Named(_, inner) => serde::de::DeserializeSeed::deserialize(Check(inner), d),
            _ => d.deserialize_any(self),
        }
    }
}

impl<'de> serde::de::Visitor<'de> for Check {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}", self.0.wanted())
    }
    // `null` is taken by every type.
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<(), E> {
        match self.0 {
            Shape::Bool => Ok(()),
            _ => Err(E::invalid_type(serde::de::Unexpected::Bool(b), &self)),
        }
    }
    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<(), E> {
        match self.0 {
            Shape::Int => Ok(()),
            Shape::Int32 if i32::try_from(n).is_ok() => Ok(()),
            Shape::Uint(bits) if u64::try_from(n).is_ok_and(|n| n <= uint_max(*bits)) => Ok(()),
            _ => Err(E::invalid_type(serde::de::Unexpected::Signed(n), &self)),
        }
    }
    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<(), E> {
        match self.0 {
            Shape::Int if i64::try_from(n).is_ok() => Ok(()),
            Shape::Int32 if i32::try_from(n).is_ok() => Ok(()),
            Shape::Uint(bits) if n <= uint_max(*bits) => Ok(()),
            _ => Err(E::invalid_type(serde::de::Unexpected::Unsigned(n), &self)),
        }
    }
    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<(), E> {
        Err(E::invalid_type(serde::de::Unexpected::Float(n), &self))
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<(), E> {
        let taken = match self.0 {
            Shape::Str | Shape::StrSlice => true,
            Shape::Time => crate::containerd::gotime::parse_rfc3339(s).is_some(),
            Shape::Bytes => go_base64_error(s.as_bytes()).is_none(),
            _ => false,
        };
        match taken {
            true => Ok(()),
            false => Err(E::invalid_value(serde::de::Unexpected::Str(s), &self)),
        }
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // A StrSlice's elements are strings (or `null`, an empty one).
        static STR: Shape = Shape::Str;
        let (elem, checked) = match self.0 {
            Shape::Slice(elem) => (*elem, usize::MAX),
            Shape::Array(n, elem) => (*elem, *n),
            Shape::StrSlice => (&STR, usize::MAX),
            _ => return Err(serde::de::Error::invalid_type(serde::de::Unexpected::Seq, &self)),
        };
        for _ in 0..checked {
            if seq.next_element_seed(Check(elem))?.is_none() {
                return Ok(());
            }
        }
        // Past an array's end Go skips elements unchecked.
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        match self.0 {
            Shape::Map(elem) => {
                while map.next_key::<serde::de::IgnoredAny>()?.is_some() {
                    map.next_value_seed(Check(elem))?;
                }
            }
            Shape::Struct(_, fields) => {
                while let Some(field) = map.next_key_seed(FieldOf(fields))? {
                    match field {
                        Some(shape) => map.next_value_seed(Check(shape))?,
                        None => map.next_value::<serde::de::IgnoredAny>().map(|_| ())?,
                    }
                }
            }
            _ => return Err(serde::de::Error::invalid_type(serde::de::Unexpected::Map, &self)),
        }
        Ok(())
    }
}

/// A key of a struct: the shape of the field it names exactly, or `None` for one Go drops.
struct FieldOf(&'static [(&'static str, Shape)]);

impl<'de> serde::de::DeserializeSeed<'de> for FieldOf {
    type Value = Option<&'static Shape>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for FieldOf {
    type Value = Option<&'static Shape>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().find(|(name, _)| *name == key).map(|(_, shape)| shape))
    }
}

/// What Go's `json.Unmarshal` leaves in a zero value of type `shape` (named `top` in
/// messages) given `doc`, written as JSON with each field once, under its own name; `Err`
/// with Go's message when a value has the wrong type.
pub fn unmarshal(doc: J, shape: &'static Shape, top: &'static str) -> Result<J, String> {
    let (value, mut refused) = unmarshal_all(&doc, shape, top);
    // A value a type's own UnmarshalJSON refuses ends the decoding there, and Go returns its
    // error over a type error it had saved (Go 1.19.8: `{"history":[{"empty_layer":"x",
    // "created":"bad"}]}` says "parsing time ..."); other refusals are saved, the first kept.
    let ends = refused.iter().position(|r| r.ends);
    match ends.or((!refused.is_empty()).then_some(0)) {
        Some(at) => Err(refused.swap_remove(at).go),
        None => Ok(value),
    }
}

/// [`unmarshal`] carried on past values of the wrong type, as Go's decoder carries on: what
/// it leaves in the value (each refused value leaves its field as it was) and every value it
/// refused, in document order, the first of each field (Go returns the first of all). A value
/// a type's own `UnmarshalJSON` refuses ([`Mistyped::ends`]) stops it, as it stops Go: the
/// value is then what was decoded before it, and that refusal the last.
pub fn unmarshal_all(doc: &J, shape: &'static Shape, top: &'static str) -> (J, Vec<Mistyped>) {
    let mut v = V::Zero;
    let mut refused = Vec::new();
    // Stopped or not, what was decoded is kept; the refusal says which.
    let _ = decode_into(
        &mut v,
        doc,
        shape,
        &Path {
            top,
            structure: top,
            fields: &[],
        },
        Given { value: doc, shape },
        &mut refused,
    );
    (written(v, shape).unwrap_or(J::Null), refused)
}

/// How `encoding/json` prints one struct field, past what its [`Shape`] says: the field's
/// tag. See [`marshal`].
#[derive(Clone, Copy, Default)]
pub struct Tag {
    /// Tagged `json:",omitempty"`: left out when empty (false, 0, "", a nil pointer, a nil or
    /// empty slice or map).
    pub omitempty: bool,
}

/// Each struct field's [`Tag`], by the struct's Go name (as its [`Shape::Struct`] has it) and
/// the field's JSON name.
pub type Tags = fn(&str, &str) -> Tag;

/// A value decoded against `shape` ([`unmarshal_all`]) printed as Go's `json.Marshal` prints
/// the Go value: a struct's fields in the struct's order, each one the value does not set as
/// its zero value, those tagged `omitempty` left out when empty; a map's keys sorted by their
/// bytes. A value not of its shape's type is printed as it is.
pub fn marshal(value: &J, shape: &Shape, tags: Tags) -> J {
    match (shape, value) {
        (_, J::Null) => J::Null,
        (Shape::Ptr(inner) | Shape::Named(_, inner), v) => marshal(v, inner, tags),
        (Shape::Struct(name, fields), J::Obj(members)) => {
            let mut out = Vec::with_capacity(fields.len());
            for (field, declared) in fields.iter() {
                let v = match members.iter().find(|(k, _)| k == field) {
                    Some((_, v)) => marshal(v, declared, tags),
                    None => marshalled_zero(declared, tags),
                };
                if tags(name, field).omitempty && is_empty(&v, declared) {
                    continue;
                }
                out.push(((*field).to_string(), v));
            }
            J::Obj(out)
        }
        (Shape::Map(elem), J::Obj(members)) => {
            let mut entries: Vec<(String, J)> = members
                .iter()
                .map(|(k, v)| (k.clone(), marshal(v, elem, tags)))
                .collect();
            // Go sorts a map's keys as strings, byte by byte, as Rust's `String` orders them.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            J::Obj(entries)
        }
        (Shape::Slice(elem) | Shape::Array(_, elem), J::Arr(items)) => {
            J::Arr(items.iter().map(|v| marshal(v, elem, tags)).collect())
        }
        _ => value.clone(),
    }
}

/// The zero value of `shape` as [`marshal`] prints it: a struct's every field at its zero.
fn marshalled_zero(shape: &Shape, tags: Tags) -> J {
    match shape {
        Shape::Struct(..) => marshal(&J::Obj(Vec::new()), shape, tags),
        Shape::Array(n, elem) => J::Arr((0..*n).map(|_| marshalled_zero(elem, tags)).collect()),
        _ => shape.zero(),
    }
}

/// Whether `omitempty` leaves out `v`, printed for a field of type `shape`: a struct, a time
/// or an array (of a length above 0) never; a slice when `null` or `[]`, a pointer when
/// `null`.
fn is_empty(v: &J, shape: &Shape) -> bool {
    match (shape, v) {
        // A named string or integer type is empty as its underlying type is.
        (Shape::Named(_, inner), v) => is_empty(v, inner),
        (Shape::Struct(..) | Shape::Time | Shape::Array(..), _) => false,
        (_, J::Null) => true,
        (Shape::Str, J::Str(s)) => s.is_empty(),
        (Shape::Int | Shape::Int32 | Shape::Uint(_), J::Int(n)) => *n == 0,
        (Shape::Int, J::Raw(r)) => r == "-0",
        (Shape::Bool, J::Bool(b)) => !b,
        (Shape::Slice(_) | Shape::StrSlice, J::Arr(items)) => items.is_empty(),
        (Shape::Map(_), J::Obj(members)) => members.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::gojson::parse;

    const HEALTH: Shape = Shape::Struct(
        "H",
        &[
            ("Test", Shape::Slice(&Shape::Str)),
            ("Interval", Shape::Int),
            ("Retries", Shape::Int),
        ],
    );
    const EMPTY: Shape = Shape::Struct("struct {}", &[]);

    /// `marshal` (Go's `json.Marshal`): omitempty leaves out an empty value by its type (a
    /// non-nil pointer to an empty struct, and a struct, stay); map keys sort by their bytes;
    /// a value of another type than its shape's is printed as it is.
    #[test]
    fn marshal_orders_fills_omits_and_sorts_as_go() {
        const INNER: Shape = Shape::Struct("I", &[("A", Shape::Int)]);
        const S: Shape = Shape::Struct(
            "S",
            &[
                ("P", Shape::Ptr(&INNER)),
                ("Q", Shape::Ptr(&INNER)),
                ("In", INNER),
                ("M", Shape::Map(&Shape::Str)),
                ("L", Shape::Slice(&Shape::Str)),
                ("N", Shape::Int),
                ("X", Shape::Str),
            ],
        );
        fn tags(structure: &str, field: &str) -> Tag {
            Tag {
                omitempty: structure == "S" && field != "X",
            }
        }
        let j = parse(br#"{"X":7,"M":{},"L":[],"N":0,"P":{},"Q":null}"#).unwrap();
        assert_eq!(
            marshal(&j, &S, tags).to_compact(true),
            r#"{"P":{"A":0},"In":{"A":0},"X":7}"#
        );
        let j = parse(br#"{"M":{"b":"1","B":"2","\u00e9":"3","a":"4"}}"#).unwrap();
        assert_eq!(
            marshal(&j, &S, tags).to_compact(true),
            r#"{"In":{"A":0},"M":{"B":"2","a":"4","b":"1","é":"3"},"X":""}"#
        );
    }

    /// The fast way's test: a key that folds like a field name but is not it, at any depth,
    /// or one with an escape or a non-ASCII letter that folds to ASCII, sends the document
    /// the slow way; values, unknown keys and exact names do not.
    #[test]
    fn keys_are_exact_only_when_no_key_needs_folding() {
        const S: Shape = Shape::Struct(
            "S",
            &[("config", Shape::Ptr(&HEALTH)), ("Labels", Shape::Map(&Shape::Str))],
        );
        let names = FieldNames::of(&S);
        let exact = |j: &str| keys_are_exact(j.as_bytes(), &names);
        assert!(exact(r#"{"config":{"Test":["CMD"],"Retries":3},"other":1}"#));
        assert!(exact(r#"{"Labels":{"a":"RETRIES","b":"Config"}, "x" : "Test"}"#));
        assert!(exact(r#"{"config" :null,"Labels":{"é":"1"}}"#));
        assert!(!exact(r#"{"Config":{}}"#));
        assert!(!exact(r#"{"config":{"retries":3}}"#));
        assert!(!exact(r#"{"config" : {"TEST" : []}}"#));
        assert!(!exact(r#"{"Labels":{"labels":"a label named like a field"}}"#));
        assert!(!exact(r#"{"confi\u0067":{}}"#));
        assert!(!exact("{\"Label\u{17f}\":{}}"));
        assert!(
            !exact("{\"\u{212a}ey\":1}"),
            "the Kelvin sign is looked at the slow way"
        );
        // A string value that looks like a key is not one.
        assert!(exact(r#"{"x":"Config", "y":["retries", ":"]}"#));
        // Escaped quotes and backslashes end no string; a long value is crossed too.
        assert!(!exact(r#"{"x":"\\","Config":{}}"#));
        assert!(!exact(r#"{"x":"\":\\\"","Config":{}}"#));
        assert!(exact(r#"{"x":"\"Config\":1"}"#));
        let long = format!(r#"{{"x":"{}","y":"a{}","Config":1}}"#, "b".repeat(100), "\\".repeat(40));
        assert!(!exact(&long));
        assert!(exact(&long.replace("Config", "config")));
        assert!(!exact(r#"{"config":"unterminated}"#));
        // A name that another folds like (fields `config` and `Config` at two depths) is
        // never taken as exact: which struct the key is in is not known here.
        const AMBIGUOUS: Shape = Shape::Struct("A", &[("config", Shape::Struct("B", &[("Config", Shape::Str)]))]);
        let names = FieldNames::of(&AMBIGUOUS);
        assert!(!keys_are_exact(br#"{"config":{}}"#, &names));
        assert!(!keys_are_exact(br#"{"Config":""}"#, &names));
        assert!(keys_are_exact(br#"{"other":{"x":1}}"#, &names));
    }
    const CONFIG: Shape = Shape::Struct(
        "C",
        &[
            ("User", Shape::Str),
            ("ExposedPorts", Shape::Map(&EMPTY)),
            ("Env", Shape::Slice(&Shape::Str)),
            ("Labels", Shape::Map(&Shape::Str)),
            ("Healthcheck", Shape::Ptr(&HEALTH)),
        ],
    );
    const HISTORY: Shape = Shape::Struct(
        "Hist",
        &[
            ("created", Shape::Ptr(&Shape::Str)),
            ("created_by", Shape::Str),
            ("comment", Shape::Str),
        ],
    );
    const ROOTFS: Shape = Shape::Struct(
        "RootFS",
        &[("type", Shape::Str), ("diff_ids", Shape::Slice(&Shape::Str))],
    );
    static IMG: Shape = Shape::Struct(
        "Img",
        &[
            ("created", Shape::Ptr(&Shape::Str)),
            ("author", Shape::Str),
            ("architecture", Shape::Str),
            ("os.version", Shape::Str),
            ("config", CONFIG),
            ("rootfs", ROOTFS),
            ("history", Shape::Slice(&HISTORY)),
        ],
    );

    fn go(doc: &str) -> String {
        let j = parse(doc.as_bytes()).unwrap();
        match unmarshal(j, &IMG, "main.Img") {
            Ok(j) => j.to_compact(false),
            Err(e) => e,
        }
    }

    /// Each expectation is what Go 1.19's `json.Unmarshal` into the same struct shapes (`Img`
    /// with `Config C`, `RootFS RootFS`, `History []Hist`, `Healthcheck *H`), then
    /// `json.Marshal`, printed for the input (fields Go printed only as zero values, which
    /// serde's defaults supply, left out; errors are Go's message).
    #[test]
    fn decodes_as_go_decodes() {
        for (doc, want) in [
            // Slices: the last array's length, over the backing array earlier ones filled.
            (
                r#"{"config":{"Env":["a","b","c"]},"config":{"Env":["x"]},"config":{"Env":["y",null,null]}}"#,
                r#"{"config":{"Env":["y","b","c"]}}"#,
            ),
            (
                r#"{"config":{"Env":["a","b"]},"config":{"Env":[]},"config":{"Env":["y",null]}}"#,
                r#"{"config":{"Env":["y",""]}}"#,
            ),
            (
                r#"{"config":{"Env":["a","b"]},"config":{"Env":null},"config":{"Env":["y",null]}}"#,
                r#"{"config":{"Env":["y",""]}}"#,
            ),
            // Maps keep their entries; a null value is "".
            (
                r#"{"config":{"Labels":{"a":"1","b":"2"}},"config":{"Labels":{"a":null,"c":"3"}}}"#,
                r#"{"config":{"Labels":{"a":"","b":"2","c":"3"}}}"#,
            ),
            (
                r#"{"config":{"Labels":{"a":"1"}},"config":{"Labels":null},"config":{"Labels":{"c":"3"}}}"#,
                r#"{"config":{"Labels":{"c":"3"}}}"#,
            ),
            (
                r#"{"config":{"Labels":{"a":"1","a":"2"}}}"#,
                r#"{"config":{"Labels":{"a":"2"}}}"#,
            ),
            (
                r#"{"config":{"ExposedPorts":{"80/tcp":{}}},"config":{"ExposedPorts":{"81/tcp":{"x":1}}}}"#,
                r#"{"config":{"ExposedPorts":{"80/tcp":{},"81/tcp":{}}}}"#,
            ),
            // Structs, through a pointer too, keep fields a later object leaves out.
            (
                r#"{"config":{"User":"u","Healthcheck":{"Test":["x"],"Retries":3}},"config":{"Healthcheck":{"Interval":5}}}"#,
                r#"{"config":{"User":"u","Healthcheck":{"Test":["x"],"Retries":3,"Interval":5}}}"#,
            ),
            (
                r#"{"config":{"Healthcheck":{"Retries":3}},"config":{"Healthcheck":null},"config":{"Healthcheck":{"Interval":5}}}"#,
                r#"{"config":{"Healthcheck":{"Interval":5}}}"#,
            ),
            // Keys without regard to case; null leaves a struct and a string alone.
            (
                r#"{"config":{"User":"u"},"config":null,"CONFIG":{"user":null,"ENV":["q"]}}"#,
                r#"{"config":{"User":"u","Env":["q"]}}"#,
            ),
            (
                r#"{"history":[{"comment":"a","created_by":"x"},{"comment":"b"}],"history":[{"comment":"c"}],"history":[{},{"created_by":null}]}"#,
                r#"{"history":[{"comment":"c","created_by":"x"},{"comment":"b"}]}"#,
            ),
            (
                r#"{"created":"2020-01-01T00:00:00Z","created":null,"author":"me","author":null,"ARCHITECTURE":"arm","OS.VERSION":"1","o\u017f.version":"2"}"#,
                r#"{"created":null,"author":"me","architecture":"arm","os.version":"2"}"#,
            ),
            (
                r#"{"rootfs":{"type":"layers","diff_ids":["a"]},"rootfs":null,"RootFS":{"Diff_IDs":["b",null]}}"#,
                r#"{"rootfs":{"type":"layers","diff_ids":["b",""]}}"#,
            ),
            (r#"{"history":[{"comment":"a"}],"history":[]}"#, r#"{"history":[]}"#),
            (r#"{"author":"\u212a"}"#, "{\"author\":\"\u{212a}\"}"),
            (r#"{"autho\u0052":"R","Author":"x"}"#, r#"{"author":"x"}"#),
            // Type errors, in Go's words (the struct named is the innermost one).
            (
                r#"{"config":{"Env":["a"]},"config":{"Env":"x"},"author":"z"}"#,
                "json: cannot unmarshal string into Go struct field C.config.Env of type []string",
            ),
            (
                r#"{"config":{"Env":["a",5]}}"#,
                "json: cannot unmarshal number into Go struct field C.config.Env of type string",
            ),
            (
                r#"{"config":{"Healthcheck":{"Retries":1.0}}}"#,
                // Go: "number 1.0 into ... of type int" (the literal, and Go's own type name).
                "json: cannot unmarshal number 1 (written with a fraction or an exponent) into Go struct field H.config.Healthcheck.Retries of type int64",
            ),
            ("[1]", "json: cannot unmarshal array into Go value of type main.Img"),
            ("null", "null"),
        ] {
            assert_eq!(go(doc), want, "{doc}");
        }
    }

    /// Go carries on past a refused value, leaving its field as it was, and returns the
    /// first refusal: checked with Go 1.19.8's `json.Unmarshal` into `struct { T time.Time;
    /// N int; L []string; K struct{ A, B int } }`, which printed
    /// `{"T":"2024-01-01T00:00:00Z","N":4,"L":["","a",""],"K":{"A":3,"B":2}}` and "json:
    /// cannot unmarshal string into Go struct field S.N of type int" (`int64` here).
    #[test]
    fn carries_on_past_refusals_saying_each_field_once() {
        const K: Shape = Shape::Struct("K", &[("A", Shape::Int), ("B", Shape::Int)]);
        static S: Shape = Shape::Struct(
            "S",
            &[
                ("T", Shape::Time),
                ("N", Shape::Int),
                ("L", Shape::Slice(&Shape::Str)),
                ("K", K),
            ],
        );
        let doc = parse(
            br#"{"T":"2024-01-01T00:00:00Z","T":null,"N":"x","L":[1,"a",2],"N":4,"K":{"A":1},"K":{"B":2},"k":{"A":3}}"#,
        )
        .unwrap();
        let (value, refused) = unmarshal_all(&doc, &S, "S");
        assert_eq!(
            value.to_compact(false),
            r#"{"T":"2024-01-01T00:00:00Z","N":4,"L":["","a",""],"K":{"A":3,"B":2}}"#
        );
        assert_eq!(
            refused,
            [
                Mistyped {
                    go: "json: cannot unmarshal string into Go struct field S.N of type int64".into(),
                    field: "N".into(),
                    shown: r#""x""#.into(),
                    wanted: "an integer".into(),
                    ends: false,
                },
                // One for the list, shown whole, though two of its elements were refused.
                Mistyped {
                    go: "json: cannot unmarshal number into Go struct field S.L of type string".into(),
                    field: "L".into(),
                    shown: r#"[1,"a",2]"#.into(),
                    wanted: "a list of strings".into(),
                    ends: false,
                },
            ]
        );
        assert_eq!(unmarshal(doc, &S, "S").unwrap_err(), refused[0].go);
    }

    /// A value a type's own `UnmarshalJSON` refuses (`time.Time`, moby's `strslice.StrSlice`)
    /// stops Go's decoder where it is, and that error is returned over one saved before: the
    /// expectations are what Go 1.19.8's `json.Unmarshal` into the same types (a `StrSlice`
    /// with moby's `UnmarshalJSON`, `E struct { T time.Time; N int }`) left, printed with
    /// `json.Marshal`, and its error. A time that is no JSON string is the one case read from
    /// Go 1.24's `time.Time.UnmarshalJSON` (dockerd 28.5's Go) instead: it refuses it before
    /// touching the time, where Go 1.19's zeroed it.
    #[test]
    fn stops_where_an_unmarshaler_refuses_as_go_does() {
        static S: Shape = Shape::Struct(
            "S",
            &[("T", Shape::Time), ("N", Shape::Int), ("L", Shape::Slice(&Shape::Str))],
        );
        static E: Shape = Shape::Struct("E", &[("T", Shape::Time), ("N", Shape::Int)]);
        static UINT: Shape = Shape::Named("uint", &Shape::Uint(64));
        static S2: Shape = Shape::Struct(
            "S2",
            &[
                ("C", Shape::StrSlice),
                ("L", Shape::Slice(&Shape::Ptr(&E))),
                ("M", Shape::Map(&Shape::Ptr(&E))),
                ("A", Shape::Array(2, &UINT)),
                ("N", Shape::Int),
            ],
        );
        fn no_tags(_: &str, _: &str) -> Tag {
            Tag::default()
        }
        let run = |shape: &'static Shape, doc: &str| {
            let doc = parse(doc.as_bytes()).unwrap();
            let (value, refused) = unmarshal_all(&doc, shape, "S");
            let go = unmarshal(doc, shape, "S").err();
            (marshal(&value, shape, no_tags).to_compact(false), refused, go)
        };
        let parsing = |t: &str| format!("parsing time \"{t}\": not an RFC 3339 time");

        // The time is zeroed, the type error before it kept but not returned, N's 4 unread.
        let (printed, refused, go) = run(&S, r#"{"N":"x","T":"2024-13-01T00:00:00Z","L":["a"],"N":4}"#);
        assert_eq!(printed, r#"{"T":"0001-01-01T00:00:00Z","N":0,"L":null}"#);
        assert_eq!(
            refused.iter().map(|r| (r.field.as_str(), r.ends)).collect::<Vec<_>>(),
            [("N", false), ("T", true)]
        );
        assert_eq!(go, Some(parsing("2024-13-01T00:00:00Z")));
        // Go 1.24: not a string, the time is left as it was.
        let (printed, _, go) = run(&S, r#"{"T":"2024-01-01T00:00:00Z","T":5,"N":1}"#);
        assert_eq!(printed, r#"{"T":"2024-01-01T00:00:00Z","N":0,"L":null}"#);
        assert_eq!(go.as_deref(), Some("Time.UnmarshalJSON: input is not a JSON string"));

        for (doc, want, error, stopped) in [
            // A string is a list of one; an array of 1 into [2]uint zeroes the rest; a slice
            // stopped at element 1 keeps the 3 elements it had.
            (
                r#"{"C":"sh","A":[1,2],"A":[3],"L":[{"N":1},{"N":2},{"N":3}],"L":[{"N":9},{"N":8,"T":"bad"}],"N":5}"#,
                r#"{"C":["sh"],"L":[{"T":"0001-01-01T00:00:00Z","N":9},{"T":"0001-01-01T00:00:00Z","N":8},{"T":"0001-01-01T00:00:00Z","N":3}],"M":null,"A":[3,0],"N":0}"#,
                Some(parsing("bad")),
                true,
            ),
            // ... or grows to the element it stopped at.
            (
                r#"{"L":[{"N":1}],"L":[{"N":9},{"N":8,"T":"bad"}],"N":5}"#,
                r#"{"C":null,"L":[{"T":"0001-01-01T00:00:00Z","N":9},{"T":"0001-01-01T00:00:00Z","N":8}],"M":null,"A":[0,0],"N":0}"#,
                Some(parsing("bad")),
                true,
            ),
            // A map entry stopped inside is not stored.
            (
                r#"{"M":{"a":{"T":"2024-01-01T00:00:00Z"}},"M":{"b":{"N":1,"T":"bad"}},"N":5}"#,
                r#"{"C":null,"L":null,"M":{"a":{"T":"2024-01-01T00:00:00Z","N":0}},"A":[0,0],"N":0}"#,
                Some(parsing("bad")),
                true,
            ),
            // StrSlice refuses anything but a string or strings with its second try's error.
            (
                r#"{"C":["a"],"C":{},"N":5}"#,
                r#"{"C":["a"],"L":null,"M":null,"A":[0,0],"N":0}"#,
                Some("json: cannot unmarshal object into Go struct field S2.C of type string".into()),
                true,
            ),
            (
                r#"{"N":"x","C":[1],"N":5}"#,
                r#"{"C":null,"L":null,"M":null,"A":[0,0],"N":0}"#,
                Some("json: cannot unmarshal array into Go struct field S2.C of type string".into()),
                true,
            ),
            // Not stops: a null element is "", an array's refused element is left, one past
            // its end skipped unchecked; null sets a StrSlice to nil and leaves an array.
            (
                r#"{"C":["a",null],"A":[1,"x",-1],"N":7}"#,
                r#"{"C":["a",""],"L":null,"M":null,"A":[1,0],"N":7}"#,
                Some("json: cannot unmarshal string into Go struct field S2.A of type uint".into()),
                false,
            ),
            (
                r#"{"C":["a"],"C":null,"A":[4,5],"A":null,"N":7}"#,
                r#"{"C":null,"L":null,"M":null,"A":[4,5],"N":7}"#,
                None,
                false,
            ),
        ] {
            let (printed, refused, go) = run(&S2, doc);
            assert_eq!(printed, want, "{doc}");
            assert_eq!(go, error, "{doc}");
            assert_eq!(refused.last().is_some_and(|r| r.ends), stopped, "{doc}");
        }
    }

    /// Unsigned integers as Go's `strconv.ParseUint` reads them into each width: Go 1.19.8
    /// refused `-0`, 65536 and `1.0` for a `uint16` ("cannot unmarshal number -0 into Go
    /// struct field HostConfig.BlkioWeight of type uint16") and -1 for a `uint64`, and took
    /// 18446744073709551615. Past `u64` it shows the literal, 18446744073709551616, where the
    /// tree has kept the float it read.
    #[test]
    fn unsigned_integers_take_what_parse_uint_takes() {
        static H: Shape = Shape::Struct("H", &[("W", Shape::Uint(16)), ("B", Shape::Uint(64))]);
        for (doc, refused) in [
            (r#"{"W":65535,"B":18446744073709551615}"#, None),
            (r#"{"W":65536}"#, Some("number 65536")),
            (r#"{"W":-0}"#, Some("number -0")),
            (
                r#"{"W":1.0}"#,
                Some("number 1 (written with a fraction or an exponent)"),
            ),
            (r#"{"B":-1}"#, Some("number -1")),
            (r#"{"B":18446744073709551616}"#, Some("number 18446744073709552000")),
        ] {
            let j = parse(doc.as_bytes()).unwrap();
            match (unmarshal(j, &H, "H"), refused) {
                (Ok(v), None) => assert_eq!(v.to_compact(false), doc),
                (Err(e), Some(kind)) => assert!(
                    e.starts_with(&format!("json: cannot unmarshal {kind} into Go struct field H.")),
                    "{doc}: {e}"
                ),
                (got, _) => panic!("{doc}: {got:?}"),
            }
        }
    }

    #[test]
    fn an_exact_name_wins_over_a_folded_one() {
        static TWO: Shape = Shape::Struct("T", &[("ab", Shape::Str), ("AB", Shape::Str)]);
        let j = parse(br#"{"AB":"1","Ab":"2","ab":"3"}"#).unwrap();
        // Go: "AB" goes to AB, "Ab" to the first field that folds alike (ab), "ab" to ab.
        assert_eq!(
            unmarshal(j, &TWO, "T").unwrap().to_compact(false),
            r#"{"AB":"1","ab":"3"}"#
        );
    }
}
