//! Methods of the Go types the engine itself knows: `digest.Digest` (opencontainers
//! go-digest: `Algorithm`, `Encoded`, `Hex`, `String`), written from their Go semantics.
//! `Validate` and `Verifier` are left out: their answers depend on which hash packages the
//! docker binary links.

use super::value::{MethodDef, STRING, Type, Value};

/// `digest.Algorithm`, what `Algorithm` gives: a string type.
static ALGORITHM: Type = Type::Named("digest.Algorithm", &STRING, &[]);

fn text(v: &Value) -> &str {
    match v {
        Value::Str(s, _) => s,
        _ => "",
    }
}

/// Where `algorithm:encoded` splits; go-digest panics without a `:`, which a template call
/// reports as its error.
fn split(v: &Value) -> Result<(&str, &str), String> {
    let d = text(v);
    d.split_once(':')
        .ok_or_else(|| format!("no ':' separator in digest {}", super::gofmt::quote(d)))
}

fn algorithm(v: &Value, _: &[Value]) -> Result<Value, String> {
    Ok(Value::Str(split(v)?.0.into(), &ALGORITHM))
}

fn encoded(v: &Value, _: &[Value]) -> Result<Value, String> {
    Ok(Value::string(split(v)?.1))
}

fn string(v: &Value, _: &[Value]) -> Result<Value, String> {
    Ok(Value::string(text(v)))
}

const fn method(name: &'static str, call: fn(&Value, &[Value]) -> Result<Value, String>) -> MethodDef {
    MethodDef {
        name,
        params: &[],
        results: 1,
        call,
    }
}

pub static DIGEST: &[MethodDef] = &[
    method("Algorithm", algorithm),
    method("Encoded", encoded),
    method("Hex", encoded),
    method("String", string),
];

/// What a value's `String` method gives, where it has one that `fmt` calls: a struct's
/// (all such methods in these types have pointer receivers, which a template reaches
/// through a pointer or an addressable field).
pub fn struct_string(v: &Value) -> Option<String> {
    let Value::Struct(_, def) = v else { return None };
    let m = def
        .methods
        .iter()
        .find(|m| m.name == "String" && m.params.is_empty() && m.results == 1)?;
    match (m.call)(v, &[]) {
        Ok(Value::Str(s, _)) => Some(s.to_string()),
        _ => None,
    }
}

/// What a named number's or string's own `String` method gives, where it has one.
pub fn value_string(v: &Value) -> Option<String> {
    let m = v
        .methods()
        .iter()
        .find(|m| m.name == "String" && m.params.is_empty() && m.results == 1)?;
    match (m.call)(v, &[]) {
        Ok(Value::Str(s, _)) => Some(s.to_string()),
        _ => None,
    }
}
