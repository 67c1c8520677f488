//! The functions templates can call: Go's builtins (`text/template` `funcs.go`: `and`, `or`,
//! `not`, `len`, `index`, `slice`, `print`, `printf`, `println`, `html`, `js`, `urlquery`,
//! `call`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`) and docker's (docker/cli `templates/templates.go`:
//! `json`, `split`, `join`, `title`, `lower`, `upper`, `pad`, `truncate`), with the parameter
//! types Go checks arguments against and the errors they return.

use super::exec::{MAX_OUTPUT, indirect, indirect_interface, is_true};
use super::gofmt;
use super::gostr;
use super::value::{FieldDef, SLICE_STRING, StructDef, Type, Value};
use std::borrow::Cow;
use std::rc::Rc;

/// A parameter's Go type, as far as argument checking goes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Param {
    /// `interface {}`
    Any,
    /// `reflect.Value`: anything, a missing value included.
    Value,
    String,
    Int,
    /// `[]string`
    Strings,
    /// A method's parameter of another type (`*container.RestartPolicy`).
    Of(&'static Type),
}

impl Param {
    /// A method's parameter of type `ty`.
    pub fn of(ty: &'static Type) -> Param {
        match ty {
            Type::Any => Param::Any,
            Type::String => Param::String,
            Type::Int => Param::Int,
            Type::Slice(Type::String) => Param::Strings,
            other => Param::Of(other),
        }
    }

    pub fn name(self) -> String {
        match self {
            Param::Any => "interface {}".into(),
            Param::Value => "reflect.Value".into(),
            Param::String => "string".into(),
            Param::Int => "int".into(),
            Param::Strings => "[]string".into(),
            Param::Of(ty) => ty.name(),
        }
    }
}

pub struct Signature {
    pub fixed: &'static [Param],
    pub variadic: Option<Param>,
}

const fn sig(fixed: &'static [Param], variadic: Option<Param>) -> Signature {
    Signature { fixed, variadic }
}

/// The signature of function `name`, `None` when there is no such function.
pub fn signature(name: &str) -> Option<Signature> {
    use Param::*;
    Some(match name {
        "and" | "or" => sig(&[Value], Some(Value)),
        "call" | "index" | "slice" => sig(&[Value], Some(Value)),
        "eq" => sig(&[Value], Some(Value)),
        "ne" | "lt" | "le" | "gt" | "ge" => sig(&[Value, Value], None),
        "html" | "js" | "urlquery" | "print" | "println" => sig(&[], Some(Any)),
        "printf" => sig(&[String], Some(Any)),
        "len" | "not" => sig(&[Value], None),
        "json" => sig(&[Any], None),
        "split" => sig(&[String, String], None),
        "join" => sig(&[Strings, String], None),
        "title" | "lower" | "upper" => sig(&[String], None),
        "pad" => sig(&[String, Int, Int], None),
        "truncate" => sig(&[String, Int], None),
        _ => return None,
    })
}

/// The signature of docker's header stand-in for function `name` (docker/cli
/// `templates.HeaderFunctions`), used for a table's header row, where each returns its first
/// argument, the column's name: `None` for the functions it keeps (`pad`, Go's builtins).
pub fn header_signature(name: &str) -> Option<Signature> {
    use Param::*;
    Some(match name {
        "json" | "title" | "lower" | "upper" => sig(&[String], None),
        "split" | "join" => sig(&[String, String], None),
        "truncate" => sig(&[String, Int], None),
        _ => return None,
    })
}

/// What one element of a slice a function reads or builds costs in `work`, besides its own
/// bytes: about a [`Value`] (32 bytes on 64-bit targets) and its allocation's header and
/// rounding (sweep 8 measured 62 bytes a `split` element). `split` results held in variables are memory that
/// nothing else counts (`{{$a := split $x ""}}{{$b := split $x ""}}...`), so the budget counts
/// them; a million elements are 64 MB of it.
pub const ELEMENT_BYTES: u64 = 64;

/// How many times over the bytes a function reads character by character count (its
/// result counts once more): `lower`, `title`, `html`, `printf "%q"` go through 20 to 40 MB a
/// second, against gigabytes for a comparison, and the budget should end each within seconds.
const PER_CHARACTER: u64 = 4;

/// The bytes reading `v` touches at its top level: a string's bytes, a slice's or map's
/// elements ([`ELEMENT_BYTES`] each). What a comparison or a copy of `v` walks through.
fn shallow_bytes(v: &Value) -> u64 {
    match indirect_interface(v) {
        Value::Str(s, _) => s.len() as u64,
        Value::Slice(Some(items), _) => (items.len() as u64).saturating_mul(ELEMENT_BYTES),
        Value::Map(Some(m), _) => (m.len() as u64).saturating_mul(ELEMENT_BYTES),
        _ => 0,
    }
}

/// A function's string result, counted in `work`. Functions whose result can grow past the
/// input they were given check [`MAX_OUTPUT`] as they build it; this check is the last line.
fn string_result(s: String, work: &mut u64) -> Result<Value, String> {
    *work = work.saturating_add(s.len() as u64);
    if s.len() > MAX_OUTPUT {
        return Err(gofmt::exceeds(MAX_OUTPUT));
    }
    Ok(Value::string(&s))
}

fn str_arg(v: Option<&Value>) -> &str {
    match v {
        Some(Value::Str(s, _)) => s,
        _ => "",
    }
}

fn int_arg(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Int(i, _)) => *i,
        _ => 0,
    }
}

/// Calls `name` on arguments already checked against its signature, adding to `work` the
/// bytes it built (a step that serializes a 15 MB config costs more than one that compares
/// two numbers: the caller's budget counts both).
pub fn call(name: &str, args: &[Value], work: &mut u64) -> Result<Value, String> {
    let a0 = args.first();
    if matches!(
        name,
        "print" | "printf" | "println" | "html" | "js" | "urlquery" | "title" | "lower" | "upper"
    ) {
        let read = args.iter().map(shallow_bytes).sum::<u64>();
        *work = work.saturating_add(read.saturating_mul(PER_CHARACTER));
    }
    match name {
        "call" => match a0.map(indirect_interface) {
            None | Some(Value::Invalid) => Err("call of nil".into()),
            Some(v) => Err(format!("non-function of type {}", v.type_name())),
        },
        "index" => {
            // A string's bytes are read whole (gostr), and a map key is copied and compared:
            // both count.
            let keys = args.get(1..).unwrap_or(&[]);
            *work = work
                .saturating_add(str_arg(a0).len() as u64)
                .saturating_add(keys.iter().map(shallow_bytes).sum::<u64>());
            index(a0.unwrap_or(&Value::Invalid), keys)
        }
        "slice" => {
            // A slice of a string or slice is copied: counted at most the whole operand.
            *work = work.saturating_add(a0.map_or(0, shallow_bytes));
            slice(a0.unwrap_or(&Value::Invalid), args.get(1..).unwrap_or(&[]))
        }
        "len" => {
            *work = work.saturating_add(str_arg(a0).len() as u64);
            length(a0.unwrap_or(&Value::Invalid))
        }
        "not" => Ok(Value::Bool(!is_true(&indirect_interface(
            a0.unwrap_or(&Value::Invalid),
        )))),
        // Comparing two 16 MB strings reads them both: the bytes count, not only the step.
        "eq" => {
            *work = work.saturating_add(args.iter().map(shallow_bytes).sum::<u64>());
            eq(a0.unwrap_or(&Value::Invalid), args.get(1..).unwrap_or(&[]), work).map(Value::Bool)
        }
        "ne" => {
            *work = work.saturating_add(args.iter().map(shallow_bytes).sum::<u64>());
            eq(a0.unwrap_or(&Value::Invalid), args.get(1..).unwrap_or(&[]), work).map(|b| Value::Bool(!b))
        }
        "lt" | "le" | "gt" | "ge" => {
            *work = work.saturating_add(args.iter().map(shallow_bytes).sum::<u64>());
            let (x, y) = (a0.unwrap_or(&Value::Invalid), args.get(1).unwrap_or(&Value::Invalid));
            let less = lt(x, y)?;
            let r = match name {
                "lt" => less,
                "ge" => !less,
                _ => {
                    let le = less || eq(x, std::slice::from_ref(y), work)?;
                    if name == "le" { le } else { !le }
                }
            };
            Ok(Value::Bool(r))
        }
        "print" => string_result(gofmt::sprint_within(args, MAX_OUTPUT)?, work),
        "println" => string_result(gofmt::sprintln_within(args, MAX_OUTPUT)?, work),
        "printf" => string_result(
            gofmt::sprintf_within(str_arg(a0), args.get(1..).unwrap_or(&[]), MAX_OUTPUT)?,
            work,
        ),
        "html" => string_result(html_escape(&eval_args(args)?, MAX_OUTPUT)?, work),
        "js" => string_result(js_escape(&eval_args(args)?, MAX_OUTPUT)?, work),
        "urlquery" => string_result(query_escape(&eval_args(args)?, MAX_OUTPUT)?, work),
        // docker's `json` drops the encoder's error and returns what it wrote: nothing
        // (`{{json 1i}}` prints an empty string in Go 1.19 with docker's funcs).
        "json" => string_result(
            super::encode::to_json(a0.unwrap_or(&Value::Nil)).unwrap_or_default(),
            work,
        ),
        "split" => split(str_arg(a0), str_arg(args.get(1)), work),
        "join" => {
            let parts: Vec<&str> = match a0 {
                Some(Value::Slice(Some(items), _)) => items.iter().map(|v| str_arg(Some(v))).collect(),
                _ => Vec::new(),
            };
            // Every element is read, empty or not.
            *work = work.saturating_add((parts.len() as u64).saturating_mul(ELEMENT_BYTES));
            let sep = str_arg(args.get(1));
            let total = (parts.iter().map(|p| p.len() as u64).sum::<u64>())
                .saturating_add((sep.len() as u64).saturating_mul(parts.len().saturating_sub(1) as u64));
            if total > MAX_OUTPUT as u64 {
                return Err(format!("result exceeds {} MiB", MAX_OUTPUT >> 20));
            }
            string_result(parts.join(sep), work)
        }
        // Go's `strings.Map` reads a stray byte as U+FFFD.
        "title" => string_result(title(&gostr::lossy(str_arg(a0))), work),
        "lower" => string_result(gostr::lossy(str_arg(a0)).chars().map(simple_lower).collect(), work),
        "upper" => string_result(gostr::lossy(str_arg(a0)).chars().map(simple_upper).collect(), work),
        "pad" => {
            let s = str_arg(a0);
            if s.is_empty() {
                return Ok(Value::string(""));
            }
            let (pre, post) = (int_arg(args.get(1)), int_arg(args.get(2)));
            if pre < 0 || post < 0 {
                return Err("strings: negative Repeat count".into());
            }
            let total = (s.len() as u64).saturating_add(pre as u64).saturating_add(post as u64);
            if total > MAX_OUTPUT as u64 {
                return Err(format!("result exceeds {} MiB", MAX_OUTPUT >> 20));
            }
            string_result(
                format!("{}{s}{}", " ".repeat(pre as usize), " ".repeat(post as usize)),
                work,
            )
        }
        "truncate" => {
            let s = str_arg(a0);
            *work = work.saturating_add(s.len() as u64);
            let n = int_arg(args.get(1));
            if (gostr::bytes(s).len() as i64) < n {
                return Ok(Value::string(s));
            }
            if n < 0 {
                return Err(format!("runtime error: slice bounds out of range [:{n}]"));
            }
            Ok(Value::string(&byte_slice(s, 0, n as usize)))
        }
        _ => Err(format!("{} is not a defined function", gofmt::quote(name))),
    }
}

/// `s[from..to]` by Go's bytes (a cut inside a character leaves stray bytes, as in Go).
fn byte_slice(s: &str, from: usize, to: usize) -> String {
    gostr::from_bytes(gostr::bytes(s).get(from..to).unwrap_or(&[]))
}

/// A field of a struct by Go name, promoted fields of embedded structs included.
pub fn struct_field(fields: &[Value], def: &'static StructDef, name: &str) -> Option<(Value, &'static Type)> {
    for (f, v) in def.fields.iter().zip(fields.iter()) {
        if f.name == name {
            return Some((v.clone(), f.ty));
        }
    }
    for (f, v) in def.fields.iter().zip(fields.iter()) {
        if !f.embedded {
            continue;
        }
        // An embedded struct, or a non-nil embedded pointer to one.
        let embedded = match v {
            Value::Ptr(Some(target), _) => target.as_ref(),
            other => other,
        };
        if let Value::Struct(inner, d) = embedded
            && let Some(found) = struct_field(inner, d, name)
        {
            return Some(found);
        }
    }
    None
}

/// Whether a struct type has a field `name` (promoted fields included).
pub fn has_field(def: &StructDef, name: &str) -> bool {
    def.fields.iter().any(|f: &FieldDef| {
        f.name == name
            || (f.embedded && matches!(f.ty, Type::Struct(d) | Type::Ptr(Type::Struct(d)) if has_field(d, name)))
    })
}

fn index_arg(index: &Value, cap: usize) -> Result<usize, String> {
    let x: i128 = match index {
        Value::Int(i, _) => i128::from(*i),
        Value::Uint(u, _) => i128::from(*u),
        Value::Invalid | Value::Nil => return Err("cannot index slice/array with nil".into()),
        other => return Err(format!("cannot index slice/array with type {}", other.type_name())),
    };
    if x < 0 || x > cap as i128 {
        return Err(format!("index out of range: {x}"));
    }
    usize::try_from(x).map_err(|_| format!("index out of range: {x}"))
}

fn index(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    let mut item = indirect_interface(item);
    if let Value::Invalid = item {
        return Err("index of untyped nil".into());
    }
    for idx in indexes {
        let idx = indirect_interface(idx);
        let (it, is_nil) = indirect(&item);
        if is_nil {
            return Err("index of nil pointer".into());
        }
        item = match &it {
            Value::Slice(items, _) => {
                let items = items.as_deref().map_or(&[][..], Vec::as_slice);
                let x = index_arg(&idx, items.len())?;
                items.get(x).cloned().ok_or("reflect: slice index out of range")?
            }
            Value::Str(s, _) => {
                let s = gostr::bytes(s);
                let x = index_arg(&idx, s.len())?;
                let b = s.get(x).ok_or("reflect: string index out of range")?;
                Value::Uint(u64::from(*b), &Type::Byte)
            }
            Value::Map(m, ty) => {
                // The key must be of the map's key type: a `string` is no `nat.Port`.
                let want = ty.key();
                let key = match &idx {
                    Value::Str(k, t) if std::ptr::eq(*t, want) || *t == want => k.to_string(),
                    Value::Invalid => return Err(format!("value is nil; should be of type {}", want.name())),
                    other => {
                        return Err(format!(
                            "value has type {}; should be {}",
                            other.type_name(),
                            want.name()
                        ));
                    }
                };
                match m.as_ref().and_then(|m| m.get(&key)) {
                    Some(v) => v.clone(),
                    None => ty.elem().zero(),
                }
            }
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

fn slice(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    let item = indirect_interface(item);
    if let Value::Invalid = item {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let len = match &item {
        Value::Str(s, _) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            gostr::bytes(s).len()
        }
        Value::Slice(items, _) => items.as_ref().map_or(0, |i| i.len()),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut idx = [0, len, len];
    for (i, index) in indexes.iter().enumerate() {
        if let Some(slot) = idx.get_mut(i) {
            *slot = index_arg(&indirect_interface(index), len)?;
        }
    }
    let [lo, hi, max] = idx;
    if lo > hi {
        return Err(format!("invalid slice index: {lo} > {hi}"));
    }
    if indexes.len() == 3 && hi > max {
        return Err(format!("invalid slice index: {hi} > {max}"));
    }
    Ok(match &item {
        Value::Str(s, t) => Value::Str(Rc::from(byte_slice(s, lo, hi)), t),
        Value::Slice(items, t) => {
            let items = items.as_deref().map_or(&[][..], Vec::as_slice);
            let part = items.get(lo..hi).unwrap_or(&[]).to_vec();
            // A slice keeps its type (`strslice.StrSlice`); an array's is `[]T`.
            let t = match t {
                Type::Array(_, slice_type) => slice_type,
                t => t,
            };
            Value::Slice(Some(Rc::new(part)), t)
        }
        _ => Value::Invalid,
    })
}

fn length(item: &Value) -> Result<Value, String> {
    let (item, is_nil) = indirect(item);
    if is_nil {
        return Err("len of nil pointer".into());
    }
    let n = match &item {
        Value::Invalid => return Err("reflect: call of reflect.Value.Type on zero Value".into()),
        Value::Slice(i, _) => i.as_ref().map_or(0, |i| i.len()),
        Value::Map(m, _) => m.as_ref().map_or(0, |m| m.len()),
        Value::Str(s, _) => gostr::bytes(s).len(),
        other => return Err(format!("len of type {}", other.type_name())),
    };
    Ok(Value::int(i64::try_from(n).unwrap_or(i64::MAX)))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    Complex,
    String,
    Uint,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(..) => Kind::Int,
        Value::Uint(..) => Kind::Uint,
        Value::Float(_) => Kind::Float,
        Value::Complex(..) => Kind::Complex,
        Value::Str(..) => Kind::String,
        _ => Kind::Invalid,
    }
}

fn eq(arg1: &Value, rest: &[Value], work: &mut u64) -> Result<bool, String> {
    let a = indirect_interface(arg1);
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(&a);
    for arg in rest {
        let b = indirect_interface(arg);
        let k2 = basic_kind(&b);
        let truth = if k1 != k2 {
            match (&a, &b) {
                (Value::Int(i, _), Value::Uint(u, _)) | (Value::Uint(u, _), Value::Int(i, _)) => {
                    *i >= 0 && *i as u64 == *u
                }
                (Value::Invalid, _) | (_, Value::Invalid) => false,
                _ => return Err("incompatible types for comparison".into()),
            }
        } else {
            match (&a, &b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x, _), Value::Int(y, _)) => x == y,
                (Value::Uint(x, _), Value::Uint(y, _)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::Complex(xr, xi), Value::Complex(yr, yi)) => xr == yr && xi == yi,
                (Value::Str(x, _), Value::Str(y, _)) => gostr::bytes(x) == gostr::bytes(y),
                _ => compare_other(&a, &b, work)?,
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `eq` on values that are not of a basic kind: nil-ness, else Go's `==` where it is defined.
/// Structs compare by their printed form, which `work` counts.
fn compare_other(a: &Value, b: &Value, work: &mut u64) -> Result<bool, String> {
    let nil = |v: &Value| match v {
        Value::Invalid | Value::Nil => true,
        Value::Slice(i, _) => i.is_none(),
        Value::Map(m, _) => m.is_none(),
        Value::Ptr(p, _) => p.is_none(),
        _ => false,
    };
    let same_kind = std::mem::discriminant(a) == std::mem::discriminant(b)
        || matches!(a, Value::Invalid)
        || matches!(b, Value::Invalid);
    if !same_kind {
        return Err(format!(
            "non-comparable types {}: {}, {}: {}",
            as_s(a),
            a.type_name(),
            b.type_name(),
            gofmt::to_string(b)
        ));
    }
    if nil(a) || nil(b) {
        return Ok(nil(a) == nil(b));
    }
    match (a, b) {
        // Arrays of comparable elements compare element by element, when of one type.
        (Value::Slice(Some(x), tx @ Type::Array(..)), Value::Slice(Some(y), ty @ Type::Array(..))) if tx == ty => {
            for (p, q) in x.iter().zip(y.iter()) {
                if !compare_other_or_basic(p, q, work)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (Value::Slice(..) | Value::Map(..), _) => Err(format!("non-comparable type {}: {}", as_s(b), b.type_name())),
        (Value::Ptr(Some(x), _), Value::Ptr(Some(y), _)) => Ok(Rc::ptr_eq(x, y)),
        (Value::Time(x), Value::Time(y)) => Ok(x == y),
        // A struct with a map or a slice in it has no `==` (moby's GraphDriverData, LogConfig,
        // the image's RootFS): Go's `eq` refuses it, where comparing the printed forms said
        // true.
        (_, Value::Struct(_, def)) if !struct_comparable(def, 0) => {
            Err(format!("non-comparable type {}: {}", as_s(b), b.type_name()))
        }
        _ => {
            let (x, y) = (gofmt::to_string(a), gofmt::to_string(b));
            *work = work.saturating_add(x.len() as u64).saturating_add(y.len() as u64);
            Ok(a.type_name() == b.type_name() && x == y)
        }
    }
}

/// `v` as Go's `%s` prints it in `eq`'s messages (`RW:%!s(bool=false)` inside a map).
fn as_s(v: &Value) -> String {
    gofmt::sprintf_within("%s", std::slice::from_ref(v), MAX_OUTPUT).unwrap_or_else(|e| e)
}

/// Whether Go's `==` is defined on values of struct type `def` (`reflect.Type.Comparable`):
/// no field a map, a slice or a struct without it. The types are the engine's own tables,
/// not input, but the depth is bounded all the same.
fn struct_comparable(def: &StructDef, depth: usize) -> bool {
    def.fields.iter().all(|f| type_comparable(f.ty, depth + 1))
}

fn type_comparable(t: &Type, depth: usize) -> bool {
    if depth > 32 {
        return true;
    }
    match t {
        Type::Slice(_) | Type::Map(..) => false,
        Type::Array(_, Type::Slice(elem)) => type_comparable(elem, depth + 1),
        Type::Struct(def) => struct_comparable(def, depth),
        Type::Named(_, under, _) => type_comparable(under, depth + 1),
        _ => true,
    }
}

/// One element of an array against another, as `==` compares them.
fn compare_other_or_basic(a: &Value, b: &Value, work: &mut u64) -> Result<bool, String> {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => Ok(x == y),
        (Value::Int(x, _), Value::Int(y, _)) => Ok(x == y),
        (Value::Uint(x, _), Value::Uint(y, _)) => Ok(x == y),
        (Value::Float(x), Value::Float(y)) => Ok(x == y),
        (Value::Str(x, _), Value::Str(y, _)) => Ok(x == y),
        _ => compare_other(a, b, work),
    }
}

fn lt(arg1: &Value, arg2: &Value) -> Result<bool, String> {
    let (a, b) = (indirect_interface(arg1), indirect_interface(arg2));
    let (k1, k2) = (basic_kind(&a), basic_kind(&b));
    if k1 == Kind::Invalid || k2 == Kind::Invalid {
        return Err("invalid type for comparison".into());
    }
    if k1 != k2 {
        return match (&a, &b) {
            (Value::Int(i, _), Value::Uint(u, _)) => Ok(*i < 0 || (*i as u64) < *u),
            (Value::Uint(u, _), Value::Int(i, _)) => Ok(*i >= 0 && *u < *i as u64),
            _ => Err("incompatible types for comparison".into()),
        };
    }
    match (&a, &b) {
        (Value::Int(x, _), Value::Int(y, _)) => Ok(x < y),
        (Value::Uint(x, _), Value::Uint(y, _)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::Str(x, _), Value::Str(y, _)) => Ok(gostr::bytes(x) < gostr::bytes(y)),
        _ => Err("invalid type for comparison".into()),
    }
}

/// Go's `evalArgs` for `html`, `js`, `urlquery`: one string as is, else `fmt.Sprint`
/// (refused past [`MAX_OUTPUT`] as `print` is).
fn eval_args(args: &[Value]) -> Result<Cow<'_, str>, String> {
    if let [Value::Str(s, Type::String)] = args {
        return Ok(Cow::Borrowed(s));
    }
    let printable: Vec<Value> = args
        .iter()
        .map(|a| match indirect(a).0 {
            Value::Invalid | Value::Nil => Value::string("<no value>"),
            v => v,
        })
        .collect();
    gofmt::sprint_within(&printable, MAX_OUTPUT).map(Cow::Owned)
}

fn within(out: String, limit: usize) -> Result<String, String> {
    if out.len() > limit {
        return Err(gofmt::exceeds(limit));
    }
    Ok(out)
}

/// Escapes make a result up to six times its input: each one stops as soon as the result
/// passes `limit`, rather than after building it whole.
fn html_escape(s: &str, limit: usize) -> Result<String, String> {
    let mut out = String::with_capacity(s.len().min(limit));
    for c in s.chars() {
        if out.len() > limit {
            return Err(gofmt::exceeds(limit));
        }
        match c {
            '\0' => out.push('\u{fffd}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    within(out, limit)
}

fn js_escape(s: &str, limit: usize) -> Result<String, String> {
    let mut out = String::with_capacity(s.len().min(limit));
    gostr::walk(s, |piece| {
        if out.len() > limit {
            return Err(gofmt::exceeds(limit));
        }
        match piece {
            // Go reads a stray byte as U+FFFD, printable: the byte is written as it is.
            Err(b) => gostr::push_byte(&mut out, b),
            Ok('\\') => out.push_str("\\\\"),
            Ok('\'') => out.push_str("\\'"),
            Ok('"') => out.push_str("\\\""),
            Ok('<') => out.push_str("\\u003C"),
            Ok('>') => out.push_str("\\u003E"),
            Ok('&') => out.push_str("\\u0026"),
            Ok('=') => out.push_str("\\u003D"),
            Ok(c) if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            Ok(c) if !c.is_ascii() && !gofmt::is_print(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            Ok(c) => gostr::push_char(&mut out, c),
        }
        Ok(())
    })?;
    within(out, limit)
}

fn query_escape(s: &str, limit: usize) -> Result<String, String> {
    let mut out = String::with_capacity(s.len().min(limit));
    for b in gostr::bytes(s).iter().copied() {
        if out.len() > limit {
            return Err(gofmt::exceeds(limit));
        }
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    within(out, limit)
}

fn split(s: &str, sep: &str, work: &mut u64) -> Result<Value, String> {
    // Counted before anything is built: one string per character of a 64 MiB string would
    // take gigabytes.
    let count = if sep.is_empty() {
        s.chars().count()
    } else {
        s.matches(sep).count() + 1
    };
    if count > 1 << 20 {
        return Err("result exceeds 1048576 elements".into());
    }
    // Read twice (counted, then cut), and every element is a value of its own.
    *work = work
        .saturating_add((s.len() as u64).saturating_mul(2))
        .saturating_add((count as u64).saturating_mul(ELEMENT_BYTES));
    let parts: Vec<String> = if sep.is_empty() {
        s.chars().map(String::from).collect()
    } else {
        s.split(sep).map(str::to_string).collect()
    };
    Ok(Value::Slice(
        Some(Rc::new(parts.iter().map(|p| Value::string(p)).collect())),
        &SLICE_STRING,
    ))
}

/// Characters whose case mapping came after Unicode 13.0, the tables of Go 1.19's `unicode`:
/// Go leaves them as they are, where Rust's newer tables map them. Found by comparing every
/// code point's Rust mapping with Go 1.19.8's `unicode.ToLower`/`ToUpper`
/// (/tmp/fixG-go/casedump).
const CASED_AFTER_GO: &[(u32, u32)] = &[
    (0x19b, 0x19b),
    (0x264, 0x264),
    (0x1c89, 0x1c8a),
    (0x2c2f, 0x2c2f),
    (0x2c5f, 0x2c5f),
    (0xa7c0, 0xa7c1),
    (0xa7cb, 0xa7dc),
    (0x10570, 0x105bc),
    (0x10d50, 0x10d85),
    (0x16ea0, 0x16ed3),
];

fn cased_after_go(c: char) -> bool {
    let u = u32::from(c);
    CASED_AFTER_GO.iter().any(|&(lo, hi)| (lo..=hi).contains(&u))
}

/// Rust's full mapping when it is one character; `None` when it expands (`İ` lowercases to
/// `i̇`, `ᾳ` uppercases to `ΑΙ`), where Go's simple mapping is one character still.
fn single(mut mapped: impl Iterator<Item = char>) -> Option<char> {
    match (mapped.next(), mapped.next()) {
        (Some(x), None) => Some(x),
        _ => None,
    }
}

/// Go's `unicode.ToLower`: Unicode's simple lowercase mapping, one character to one.
fn simple_lower(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    if cased_after_go(c) {
        return c;
    }
    match single(c.to_lowercase()) {
        Some(l) => l,
        // The one character whose full lowercase expands: U+0130 İ, simple lowercase i.
        None if c == '\u{130}' => 'i',
        None => c,
    }
}

/// Go's `unicode.ToUpper`: Unicode's simple uppercase mapping.
fn simple_upper(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    if cased_after_go(c) {
        return c;
    }
    let u = u32::from(c);
    match single(c.to_uppercase()) {
        Some(x) => x,
        // Greek with ypogegrammeni: the full uppercase spells the iota out (ᾀ → ἈΙ), the
        // simple one is the letter with prosgegrammeni (ᾀ → ᾈ).
        None if matches!(u, 0x1f80..=0x1f87 | 0x1f90..=0x1f97 | 0x1fa0..=0x1fa7) => char::from_u32(u + 8).unwrap_or(c),
        None if matches!(u, 0x1fb3 | 0x1fc3 | 0x1ff3) => char::from_u32(u + 9).unwrap_or(c),
        None => c,
    }
}

/// Go's `unicode.ToTitle`: the uppercase but for the digraphs, whose title case is their
/// own letter (ǆ, Ǆ → ǅ), and Georgian, which has no title case of its own (ა stays ა where
/// its uppercase is Ა).
fn simple_title(c: char) -> char {
    match u32::from(c) {
        0x1c4..=0x1c6 => '\u{1c5}',
        0x1c7..=0x1c9 => '\u{1c8}',
        0x1ca..=0x1cc => '\u{1cb}',
        0x1f1..=0x1f3 => '\u{1f2}',
        0x10d0..=0x10fa | 0x10fd..=0x10ff => c,
        _ => simple_upper(c),
    }
}

/// `strings.Title`: the first letter of each word in title case.
fn title(s: &str) -> String {
    let separator = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else if c.is_alphanumeric() {
            false
        } else {
            c.is_whitespace()
        }
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if separator(prev) { simple_title(c) } else { c };
            prev = c;
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapers_like_go() {
        assert_eq!(
            html_escape("<a href='x'>&\"</a>", 64).unwrap(),
            "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;"
        );
        assert_eq!(
            js_escape("Author <a@b> & co='x'", 64).unwrap(),
            "Author \\u003Ca@b\\u003E \\u0026 co\\u003D\\'x\\'"
        );
        assert_eq!(query_escape("a b/c@d", 64).unwrap(), "a+b%2Fc%40d");
        assert_eq!(title("hello wide_world-x"), "Hello Wide_world-X");
    }

    #[test]
    fn builders_refuse_past_the_limit() {
        let s = |x: &str| Value::string(x);
        let two = [s("ab"), s("cd")];
        assert_eq!(gofmt::sprint_within(&two, 4).unwrap(), "abcd");
        assert_eq!(gofmt::sprint_within(&two, 3).unwrap_err(), "result exceeds 0 MiB");
        // The space Go puts between two operands that are not strings counts.
        let ints = [Value::int(1), Value::int(2)];
        assert_eq!(gofmt::sprint_within(&ints, 3).unwrap(), "1 2");
        assert!(gofmt::sprint_within(&ints, 2).is_err());
        assert_eq!(gofmt::sprintln_within(&two, 6).unwrap(), "ab cd\n");
        assert!(gofmt::sprintln_within(&two, 5).is_err());
        assert_eq!(gofmt::sprintln_within(&[], 1).unwrap(), "\n");
        assert!(gofmt::sprintln_within(&[], 0).is_err());
        assert_eq!(html_escape("<<", 8).unwrap(), "&lt;&lt;");
        assert!(html_escape("<<", 7).is_err());
        assert_eq!(js_escape("<", 6).unwrap(), "\\u003C");
        assert!(js_escape("<<", 11).is_err());
        assert_eq!(query_escape("//", 6).unwrap(), "%2F%2F");
        assert!(query_escape("//", 5).is_err());
    }

    #[test]
    fn index_errors_like_go() {
        let v = Value::Slice(Some(Rc::new(vec![Value::string("a")])), &SLICE_STRING);
        assert_eq!(
            index(&v, &[Value::int(1)]).unwrap_err(),
            "reflect: slice index out of range"
        );
        assert_eq!(index(&v, &[Value::int(5)]).unwrap_err(), "index out of range: 5");
        assert!(matches!(index(&v, &[Value::int(0)]), Ok(Value::Str(..))));
    }

    /// `lower`, `upper` and `title` map as Go's `unicode` tables (simple mappings, Unicode
    /// 13.0 in Go 1.19). Expected strings printed by Go 1.19.8's text/template with docker's
    /// funcs. Every code point's lower, upper and title case was also checked against Go's
    /// `unicode.ToLower`/`ToUpper`/`ToTitle` (/tmp/fixG-go/casedump) when the tables were made.
    #[test]
    fn case_mapping_like_go() {
        let lower = |s: &str| s.chars().map(simple_lower).collect::<String>();
        let upper = |s: &str| s.chars().map(simple_upper).collect::<String>();
        assert_eq!(lower("İSTANBUL"), "istanbul");
        assert_eq!(upper("ᾳ ß ǆ ǅ ſ ı"), "ᾼ ß Ǆ Ǆ S I");
        assert_eq!(lower("ǅ Ω K Å"), "ǆ ω k å");
        // Cased only after Unicode 13: Go 1.19 leaves them.
        assert_eq!(upper("ɤƛ ⱟ"), "ɤƛ ⱟ");
        assert_eq!(lower("Ⱟ 𐕰"), "Ⱟ 𐕰");
        assert_eq!(upper("ანა"), "ᲐᲜᲐ");
        assert_eq!(
            title("ǆemal|hello wORLD|ǳ x ǉ|ანა|élan vital|a_b c-d x.y 1a ⅰx|ᾳ ß|a\u{a0}b a\u{2028}b a·b a\u{301}b"),
            "ǅemal|Hello WORLD|ǲ X ǈ|ანა|Élan Vital|A_b C-D X.Y 1a Ⅰx|ᾼ ß|A\u{a0}B A\u{2028}B A·b A\u{301}b"
        );
        assert_eq!(simple_title('ǆ'), 'ǅ');
        assert_eq!(simple_title('ა'), 'ა');
        assert_eq!(simple_upper('\u{1f80}'), '\u{1f88}');
        assert_eq!(simple_upper('\u{1ff3}'), '\u{1ffc}');
    }
}
