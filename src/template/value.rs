//! The values a template sees: a model of the Go values docker's templates run on.
//!
//! docker executes an inspect template twice at most (docker/cli
//! `cli/command/inspect/inspector.go`): first on the typed Go struct the client decoded
//! (`image.InspectResponse`), and when that fails, on the raw body decoded into `interface{}`
//! with `UseNumber` (every number a `json.Number`, a string type). What prints differs between
//! the two (a nil `[]string` prints `[]`, a JSON `null` in a map prints `<no value>`), so values
//! carry their Go type: [`Type`] for the typed model ([`Value::decode`]), and the raw model is
//! [`Value::from_json`].

use std::collections::BTreeMap;
use std::rc::Rc;

/// A Go type, as far as templates and `fmt` can tell types apart.
#[derive(Debug, PartialEq)]
pub enum Type {
    /// `interface {}`
    Any,
    Bool,
    /// `int`
    Int,
    Int64,
    Uint,
    Float64,
    String,
    /// `json.Number`: a string type that prints as its literal.
    Number,
    /// `digest.Digest`: a string type.
    Digest,
    /// `time.Duration`: an int64 that prints as `1m30s`.
    Duration,
    /// `time.Time`
    Time,
    /// `uint8`, the element of `[]byte`
    Byte,
    Slice(&'static Type),
    /// `[N]T`, given by its length and the slice type `[]T` (what slicing it gives).
    Array(usize, &'static Type),
    /// `map[K]T`: the key type (`string`, or a named string type such as `nat.Port`) and the
    /// element type.
    Map(&'static Type, &'static Type),
    Ptr(&'static Type),
    Struct(&'static StructDef),
    /// A named type (`container.NetworkMode`, `uint16`, `strslice.StrSlice`, `nat.PortMap`):
    /// printed, compared and decoded as its underlying type, called by its own name (`%T`,
    /// messages), with its own methods. Like Go's, a function whose parameter is a plain
    /// `string` does not take one over a string.
    Named(&'static str, &'static Type, &'static [MethodDef]),
}

/// A Go struct type: its name as `reflect` prints it, its fields in declaration order, and
/// the methods a template can call on it (docker's formatter contexts are all methods).
#[derive(Debug, PartialEq)]
pub struct StructDef {
    pub name: &'static str,
    pub fields: &'static [FieldDef],
    pub methods: &'static [MethodDef],
}

/// A method a template can call (docker's `.Label "k"`, moby's `.NetworkMode.IsHost`):
/// its parameter types, how many results it has (Go's templates call only methods with one,
/// or two whose second is an error), and what it does, given the receiver (the value itself,
/// not a pointer to it) and the arguments, already checked against `params`. An `Err` is a
/// failed call: Go's `error calling NAME: ...`.
#[derive(Debug)]
pub struct MethodDef {
    pub name: &'static str,
    pub params: &'static [&'static Type],
    pub results: usize,
    pub call: fn(&Value, &[Value]) -> Result<Value, String>,
}

/// Methods are the same when named alike: a type has one of each name.
impl PartialEq for MethodDef {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.params == other.params && self.results == other.results
    }
}

/// One struct field: Go name, JSON name (`None`: the Go name), `omitempty`, embedded or not.
#[derive(Debug, PartialEq)]
pub struct FieldDef {
    pub name: &'static str,
    pub json: Option<&'static str>,
    pub omitempty: bool,
    pub embedded: bool,
    /// `json:"-"`: never encoded.
    pub skip: bool,
    pub ty: &'static Type,
}

impl FieldDef {
    /// A field whose JSON name is its Go name.
    pub const fn new(name: &'static str, ty: &'static Type) -> FieldDef {
        FieldDef {
            name,
            json: None,
            omitempty: false,
            embedded: false,
            skip: false,
            ty,
        }
    }
    pub const fn skip(mut self) -> FieldDef {
        self.skip = true;
        self
    }
    pub const fn omitempty(mut self) -> FieldDef {
        self.omitempty = true;
        self
    }
    pub const fn json(mut self, name: &'static str) -> FieldDef {
        self.json = Some(name);
        self
    }
    pub const fn embedded(mut self) -> FieldDef {
        self.embedded = true;
        self
    }
    pub fn json_name(&self) -> &'static str {
        self.json.unwrap_or(self.name)
    }
}

pub static ANY: Type = Type::Any;
pub static STRING: Type = Type::String;
pub static SLICE_ANY: Type = Type::Slice(&ANY);
pub static MAP_ANY: Type = Type::Map(&Type::String, &ANY);
pub static SLICE_STRING: Type = Type::Slice(&STRING);
/// `struct {}`, the element of docker's port and volume sets.
pub static EMPTY_STRUCT: StructDef = StructDef {
    name: "struct {}",
    fields: &[],
    methods: &[],
};

impl Type {
    /// The name Go's `reflect` gives the type (`[]interface {}`, `map[string]string`).
    pub fn name(&self) -> String {
        match self {
            Type::Any => "interface {}".into(),
            Type::Bool => "bool".into(),
            Type::Int => "int".into(),
            Type::Int64 => "int64".into(),
            Type::Uint => "uint".into(),
            Type::Float64 => "float64".into(),
            Type::String => "string".into(),
            Type::Number => "json.Number".into(),
            Type::Digest => "digest.Digest".into(),
            Type::Duration => "time.Duration".into(),
            Type::Time => "time.Time".into(),
            Type::Byte => "uint8".into(),
            Type::Slice(e) => format!("[]{}", e.name()),
            Type::Array(n, s) => format!("[{n}]{}", s.elem().name()),
            Type::Map(k, e) => format!("map[{}]{}", k.name(), e.name()),
            Type::Ptr(e) => format!("*{}", e.name()),
            Type::Struct(d) => d.name.into(),
            Type::Named(name, ..) => (*name).into(),
        }
    }

    /// The type a named type names (itself for any other).
    pub fn under(&'static self) -> &'static Type {
        match self {
            Type::Named(_, under, _) => under.under(),
            other => other,
        }
    }

    /// The element type of a slice, array or map type (`interface {}` for any other).
    pub fn elem(&'static self) -> &'static Type {
        match self.under() {
            Type::Slice(e) | Type::Map(_, e) => e,
            Type::Array(_, s) => s.elem(),
            _ => &ANY,
        }
    }

    /// The key type of a map type (`string` for any other).
    pub fn key(&'static self) -> &'static Type {
        match self.under() {
            Type::Map(k, _) => k,
            _ => &STRING,
        }
    }

    /// The methods of the type: a named type's, or a struct's.
    pub fn methods(&'static self) -> &'static [MethodDef] {
        match self {
            Type::Named(_, _, m) => m,
            Type::Struct(d) => d.methods,
            Type::Digest => super::methods::DIGEST,
            _ => &[],
        }
    }

    /// The zero value of the type.
    pub fn zero(&'static self) -> Value {
        match self {
            Type::Any => Value::Nil,
            Type::Bool => Value::Bool(false),
            Type::Int | Type::Int64 | Type::Duration => Value::Int(0, self),
            Type::Uint | Type::Byte => Value::Uint(0, self),
            Type::Float64 => Value::Float(0.0),
            Type::String | Type::Number | Type::Digest => Value::Str(Rc::from(""), self),
            Type::Time => Value::Time(GoTime::ZERO),
            Type::Slice(_) => Value::Slice(None, self),
            // An array is never nil: its zero is N zero elements (N is a type's, not data's).
            Type::Array(n, s) => Value::Slice(Some(Rc::new(vec![s.elem().zero(); *n])), self),
            Type::Map(..) => Value::Map(None, self),
            Type::Ptr(_) => Value::Ptr(None, self),
            Type::Struct(d) => Value::Struct(Rc::new(d.fields.iter().map(|f| f.ty.zero()).collect()), d),
            Type::Named(_, under, _) => under.zero().renamed(self),
        }
    }
}

/// A value. Cloning is cheap: containers are shared.
#[derive(Clone, Debug)]
pub enum Value {
    /// No value at all (Go's zero `reflect.Value`): a missing map key.
    Invalid,
    /// A nil `interface {}`: JSON `null` in the raw model, or the `nil` constant.
    Nil,
    Bool(bool),
    /// `int`, `int64` or `time.Duration`.
    Int(i64, &'static Type),
    /// `uint` or `uint8`.
    Uint(u64, &'static Type),
    Float(f64),
    /// `complex128`: only a template's complex constant (`1i`, `1+2i`) makes one.
    Complex(f64, f64),
    /// `string`, `json.Number` or `digest.Digest`.
    Str(Rc<str>, &'static Type),
    /// A slice (`None`: nil) and its slice type.
    Slice(Option<Rc<Vec<Value>>>, &'static Type),
    /// A `map[string]T` (`None`: nil), keys in Go's sorted order.
    Map(Option<Rc<BTreeMap<String, Value>>>, &'static Type),
    Struct(Rc<Vec<Value>>, &'static StructDef),
    /// A pointer (`None`: nil) and its pointer type.
    Ptr(Option<Rc<Value>>, &'static Type),
    Time(GoTime),
}

/// Which Go type JSON numbers decode into in [`Value::from_json`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Numbers {
    /// `json.Number` (a decoder with `UseNumber`, as docker's raw fallback).
    JsonNumber,
    /// `float64` (plain `json.Unmarshal` into `interface{}`).
    Float64,
}

impl Value {
    /// A `string` of engine text (see [`super::gostr`]; data is [`super::gostr::encode`]d).
    pub fn string(s: &str) -> Value {
        Value::Str(Rc::from(s), &STRING)
    }

    pub fn int(i: i64) -> Value {
        Value::Int(i, &Type::Int)
    }

    /// JSON decoded into `interface{}`: objects are `map[string]interface {}`, arrays
    /// `[]interface {}`, `null` a nil interface.
    pub fn from_json(v: &serde_json::Value, numbers: Numbers) -> Value {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match numbers {
                Numbers::JsonNumber => Value::Str(Rc::from(n.to_string()), &Type::Number),
                Numbers::Float64 => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::String(s) => Value::string(&super::gostr::encode(s)),
            serde_json::Value::Array(a) => Value::Slice(
                Some(Rc::new(a.iter().map(|e| Value::from_json(e, numbers)).collect())),
                &SLICE_ANY,
            ),
            serde_json::Value::Object(m) => Value::Map(
                Some(Rc::new(
                    m.iter()
                        .map(|(k, e)| (super::gostr::encode(k).into_owned(), Value::from_json(e, numbers)))
                        .collect(),
                )),
                &MAP_ANY,
            ),
        }
    }

    /// [`from_json`](Self::from_json) of JSON text; `None` when it is not JSON.
    pub fn from_json_str(text: &str, numbers: Numbers) -> Option<Value> {
        serde_json::from_str(text).ok().map(|j| Value::from_json(&j, numbers))
    }

    /// JSON decoded into a value of Go type `ty`, as `json.Unmarshal` does: unknown members
    /// are ignored, names match case-insensitively, `null` leaves the zero value, and a member
    /// of the wrong JSON type is left at its zero value (where Go would fail the whole decode).
    pub fn decode(v: &serde_json::Value, ty: &'static Type) -> Value {
        use serde_json::Value as J;
        match (ty, v) {
            (Type::Any, _) => Value::from_json(v, Numbers::Float64),
            (_, J::Null) => ty.zero(),
            (Type::Bool, J::Bool(b)) => Value::Bool(*b),
            (Type::Int | Type::Int64 | Type::Duration, J::Number(n)) => {
                n.as_i64().map_or_else(|| ty.zero(), |i| Value::Int(i, ty))
            }
            (Type::Uint | Type::Byte, J::Number(n)) => n.as_u64().map_or_else(|| ty.zero(), |u| Value::Uint(u, ty)),
            (Type::Float64, J::Number(n)) => Value::Float(n.as_f64().unwrap_or(0.0)),
            (Type::String | Type::Digest, J::String(s)) => Value::Str(Rc::from(super::gostr::encode(s)), ty),
            (Type::Number, J::Number(n)) => Value::Str(Rc::from(n.to_string()), ty),
            (Type::Time, J::String(s)) => Value::Time(GoTime::parse_rfc3339(s).unwrap_or(GoTime::ZERO)),
            (Type::Slice(e), J::Array(a)) => {
                Value::Slice(Some(Rc::new(a.iter().map(|x| Value::decode(x, e)).collect())), ty)
            }
            // A JSON array fills the first N elements; the others stay zero, the rest is dropped.
            (Type::Array(n, s), J::Array(a)) => {
                let e = s.elem();
                let items = (0..*n).map(|i| a.get(i).map_or_else(|| e.zero(), |x| Value::decode(x, e)));
                Value::Slice(Some(Rc::new(items.collect())), ty)
            }
            (Type::Map(_, e), J::Object(m)) => Value::Map(
                Some(Rc::new(
                    m.iter()
                        .map(|(k, x)| (super::gostr::encode(k).into_owned(), Value::decode(x, e)))
                        .collect(),
                )),
                ty,
            ),
            (Type::Ptr(e), _) => Value::Ptr(Some(Rc::new(Value::decode(v, e))), ty),
            (Type::Struct(d), J::Object(m)) => decode_struct(m, d),
            (Type::Named(_, under, _), _) => Value::decode(v, under).renamed(ty),
            _ => ty.zero(),
        }
    }

    /// The name of the value's Go type (`%T`, error messages); `<nil>` for nil.
    pub fn type_name(&self) -> String {
        match self {
            Value::Invalid | Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_, t) | Value::Uint(_, t) | Value::Str(_, t) => t.name(),
            Value::Float(_) => "float64".into(),
            Value::Complex(..) => "complex128".into(),
            Value::Slice(_, t) | Value::Map(_, t) | Value::Ptr(_, t) => t.name(),
            Value::Struct(_, d) => d.name.into(),
            Value::Time(_) => "time.Time".into(),
        }
    }

    /// The value as one of the named type `ty`, where its own type carries a name (strings,
    /// numbers, slices, maps, pointers).
    fn renamed(self, ty: &'static Type) -> Value {
        match self {
            Value::Str(s, _) => Value::Str(s, ty),
            Value::Int(i, _) => Value::Int(i, ty),
            Value::Uint(u, _) => Value::Uint(u, ty),
            Value::Slice(s, _) => Value::Slice(s, ty),
            Value::Map(m, _) => Value::Map(m, ty),
            Value::Ptr(p, _) => Value::Ptr(p, ty),
            other => other,
        }
    }

    /// The methods a template can call on the value: those of its type, through pointers.
    pub fn methods(&self) -> &'static [MethodDef] {
        match self {
            Value::Int(_, t) | Value::Uint(_, t) | Value::Str(_, t) | Value::Slice(_, t) | Value::Map(_, t) => {
                t.methods()
            }
            Value::Struct(_, d) => d.methods,
            _ => &[],
        }
    }

    /// A nil interface or no value.
    pub fn is_nilish(&self) -> bool {
        matches!(self, Value::Invalid | Value::Nil)
    }
}

fn decode_struct(m: &serde_json::Map<String, serde_json::Value>, d: &'static StructDef) -> Value {
    let mut fields: Vec<Value> = d.fields.iter().map(|f| f.ty.zero()).collect();
    for (i, f) in d.fields.iter().enumerate() {
        let Some(slot) = fields.get_mut(i) else { continue };
        if f.embedded {
            // An embedded struct takes its members from the same object; an embedded pointer
            // is allocated only when one of them is there.
            if let Type::Ptr(Type::Struct(inner)) = f.ty
                && !inner
                    .fields
                    .iter()
                    .any(|g| m.keys().any(|k| k.eq_ignore_ascii_case(g.json_name())))
            {
                continue;
            }
            *slot = Value::decode(&serde_json::Value::Object(m.clone()), f.ty);
            continue;
        }
        let name = f.json_name();
        let member = m
            .get(name)
            .or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v));
        if let Some(v) = member {
            *slot = Value::decode(v, f.ty);
        }
    }
    Value::Struct(Rc::new(fields), d)
}

/// A `time.Time` as decoded from RFC 3339 text: the wall clock and its UTC offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoTime {
    pub year: i64,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub nanos: u32,
    /// Seconds east of UTC; `0` prints as the zone `UTC`.
    pub offset: i32,
}

impl GoTime {
    pub const ZERO: GoTime = GoTime {
        year: 1,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset: 0,
    };

    /// `2006-01-02T15:04:05.999999999Z07:00`.
    pub fn parse_rfc3339(s: &str) -> Option<GoTime> {
        let b = s.as_bytes();
        let num = |from: usize, len: usize| -> Option<u32> {
            let part = b.get(from..from + len)?;
            if !part.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(part).ok()?.parse().ok()
        };
        let sep = |at: usize, c: u8| b.get(at).is_some_and(|x| *x == c || (c == b'T' && *x == b't'));
        if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
            return None;
        }
        let mut t = GoTime {
            year: i64::from(num(0, 4)?),
            month: u8::try_from(num(5, 2)?).ok()?,
            day: u8::try_from(num(8, 2)?).ok()?,
            hour: u8::try_from(num(11, 2)?).ok()?,
            minute: u8::try_from(num(14, 2)?).ok()?,
            second: u8::try_from(num(17, 2)?).ok()?,
            nanos: 0,
            offset: 0,
        };
        let mut i = 19;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            i = start;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            let digits = i - start;
            if digits == 0 || digits > 9 {
                return None;
            }
            t.nanos = num(start, digits)? * 10u32.pow(u32::try_from(9 - digits).ok()?);
        }
        match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => {}
            Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && sep(i + 3, b':') => {
                let secs = i32::try_from(num(i + 1, 2)? * 3600 + num(i + 4, 2)? * 60).ok()?;
                t.offset = if *sign == b'-' { -secs } else { secs };
            }
            _ => return None,
        }
        if !(1..=12).contains(&t.month) || !(1..=31).contains(&t.day) || t.hour > 23 || t.minute > 59 || t.second > 59 {
            return None;
        }
        Some(t)
    }

    /// `String()`: `2006-01-02 15:04:05.999999999 -0700 MST`, as a client whose local zone is
    /// UTC prints it (an offset other than zero has no zone name: `+0530 +0530`).
    pub fn go_string(&self) -> String {
        let mut s = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}{} ",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.fraction()
        );
        let zone = self.numeric_offset(false);
        s.push_str(&zone);
        if self.offset == 0 {
            s.push_str(" UTC");
        } else {
            s.push(' ');
            s.push_str(&zone);
        }
        s
    }

    /// `GoString()` (`%#v`): `time.Date(2026, time.November, 27, 17, 36, 52, 660125412,
    /// time.UTC)`. A time decoded with an offset other than zero has an unnamed fixed zone,
    /// `time.Location("")`; one written `+00:00` is `time.Local` in Go (when the client's zone
    /// is UTC), which the offset alone cannot tell from `Z`: it prints as `time.UTC`.
    pub fn go_syntax(&self) -> String {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let month = MONTHS
            .get(usize::from(self.month).wrapping_sub(1))
            .copied()
            .unwrap_or("January");
        let zone = if self.offset == 0 {
            "time.UTC"
        } else {
            "time.Location(\"\")"
        };
        format!(
            "time.Date({}, time.{month}, {}, {}, {}, {}, {}, {zone})",
            self.year, self.day, self.hour, self.minute, self.second, self.nanos
        )
    }

    /// `MarshalJSON`'s RFC 3339 with nanoseconds (`Z` for UTC).
    pub fn rfc3339_nano(&self) -> String {
        let zone = if self.offset == 0 {
            "Z".to_string()
        } else {
            self.numeric_offset(true)
        };
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{}",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.fraction(),
            zone
        )
    }

    fn fraction(&self) -> String {
        if self.nanos == 0 {
            return String::new();
        }
        let digits = format!(".{:09}", self.nanos);
        digits.trim_end_matches('0').to_string()
    }

    fn numeric_offset(&self, colon: bool) -> String {
        let sign = if self.offset < 0 { '-' } else { '+' };
        let abs = self.offset.unsigned_abs();
        let (h, m) = (abs / 3600, abs / 60 % 60);
        if colon {
            format!("{sign}{h:02}:{m:02}")
        } else {
            format!("{sign}{h:02}{m:02}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_as_go() {
        let t = GoTime::parse_rfc3339("2026-11-27T17:36:52.66184832Z").unwrap();
        assert_eq!(t.go_string(), "2026-11-27 17:36:52.66184832 +0000 UTC");
        assert_eq!(t.rfc3339_nano(), "2026-11-27T17:36:52.66184832Z");
        let t = GoTime::parse_rfc3339("2024-05-06T07:08:09.123456789+05:30").unwrap();
        assert_eq!(t.go_string(), "2024-05-06 07:08:09.123456789 +0530 +0530");
        assert_eq!(t.rfc3339_nano(), "2024-05-06T07:08:09.123456789+05:30");
        assert_eq!(GoTime::ZERO.go_string(), "0001-01-01 00:00:00 +0000 UTC");
        assert!(GoTime::parse_rfc3339("2024-05-06").is_none());
        assert!(GoTime::parse_rfc3339("2024-05-06T07:08:09.Z").is_none());
    }

    #[test]
    fn type_names_are_gos() {
        assert_eq!(SLICE_ANY.name(), "[]interface {}");
        assert_eq!(MAP_ANY.name(), "map[string]interface {}");
        assert_eq!(
            Value::from_json(&serde_json::json!(7), Numbers::JsonNumber).type_name(),
            "json.Number"
        );
    }
}
