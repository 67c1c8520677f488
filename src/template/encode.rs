//! docker's `json` template function: `encoding/json` with HTML escaping off, the trailing
//! newline trimmed. Structs encode in field order with their JSON names, `omitempty` and
//! embedded structs flattened; maps with sorted keys; a `json.Number` as its literal. A struct
//! with a `MarshalJSON` method (docker/cli's formatter contexts) is what that method gives:
//! theirs is `json.Marshal`, HTML escaping on, of the same fields ([`marshal_fields`]).

use super::value::{Type, Value};
use crate::inspect::gojson::write_str;

/// The JSON text of `v`, or the error `encoding/json` would return.
pub fn to_json(v: &Value) -> Result<String, String> {
    let mut out = String::new();
    write(v, &mut out, false)?;
    Ok(out)
}

/// A struct's fields as one JSON object, `<`, `>` and `&` escaped as `json.Marshal` escapes
/// them: the body of a formatter context's `MarshalJSON`.
pub fn marshal_fields(v: &Value) -> Result<String, String> {
    let mut out = String::from("{");
    write_fields(v, &mut out, &mut true, true)?;
    out.push('}');
    Ok(out)
}

fn write(v: &Value, out: &mut String, html: bool) -> Result<(), String> {
    match v {
        Value::Invalid | Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i, _) => out.push_str(&i.to_string()),
        Value::Uint(u, _) => out.push_str(&u.to_string()),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(format!(
                    "json: unsupported value: {}",
                    super::gofmt::format_float(*f, 'g', -1)
                ));
            }
            out.push_str(&super::gofmt::json_float(*f));
        }
        Value::Complex(..) => return Err("json: unsupported type: complex128".into()),
        Value::Str(s, Type::Number) => {
            let literal = if s.is_empty() { "0" } else { s };
            if serde_json::from_str::<serde_json::Number>(literal).is_err() {
                return Err(format!("json: invalid number literal {}", super::gofmt::quote(s)));
            }
            out.push_str(literal);
        }
        Value::Str(s, _) => write_go_str(out, s, html),
        Value::Slice(None, _) | Value::Map(None, _) | Value::Ptr(None, _) => out.push_str("null"),
        Value::Slice(Some(items), Type::Slice(Type::Byte)) => {
            let bytes: Vec<u8> = items
                .iter()
                .map(|b| match b {
                    Value::Uint(u, _) => u8::try_from(*u).unwrap_or(0),
                    _ => 0,
                })
                .collect();
            out.push('"');
            out.push_str(&base64(&bytes));
            out.push('"');
        }
        Value::Slice(Some(items), _) => {
            out.push('[');
            for (i, e) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(e, out, html)?;
            }
            out.push(']');
        }
        Value::Map(Some(m), _) => {
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_str(out, k, html);
                out.push(':');
                write(e, out, html)?;
            }
            out.push('}');
        }
        Value::Struct(_, def) => match def.methods.iter().find(|m| m.name == "MarshalJSON") {
            // Its output as it is: the outer encoder's compacting leaves its escapes.
            Some(m) => match (m.call)(v, &[])? {
                Value::Slice(Some(bytes), _) => {
                    let bytes: Vec<u8> = bytes
                        .iter()
                        .map(|b| match b {
                            Value::Uint(u, _) => u8::try_from(*u).unwrap_or(0),
                            _ => 0,
                        })
                        .collect();
                    out.push_str(&String::from_utf8_lossy(&bytes));
                }
                _ => out.push_str("null"),
            },
            None => {
                out.push('{');
                write_fields(v, out, &mut true, html)?;
                out.push('}');
            }
        },
        Value::Ptr(Some(t), _) => write(t, out, html)?,
        Value::Time(t) => {
            out.push('"');
            out.push_str(&t.rfc3339_nano());
            out.push('"');
        }
    }
    Ok(())
}

fn write_fields(v: &Value, out: &mut String, first: &mut bool, html: bool) -> Result<(), String> {
    let Value::Struct(fields, def) = v else { return Ok(()) };
    for (f, e) in def.fields.iter().zip(fields.iter()) {
        if f.embedded {
            // A nil embedded pointer adds nothing.
            match e {
                Value::Ptr(Some(target), _) => write_fields(target, out, first, html)?,
                e => write_fields(e, out, first, html)?,
            }
            continue;
        }
        if f.skip || (f.omitempty && is_empty(e)) {
            continue;
        }
        if !*first {
            out.push(',');
        }
        *first = false;
        write_str(out, f.json_name(), html);
        out.push(':');
        write(e, out, html)?;
    }
    Ok(())
}

/// `omitempty`'s idea of empty.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Invalid | Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i, _) => *i == 0,
        Value::Uint(u, _) => *u == 0,
        Value::Float(f) => *f == 0.0,
        Value::Complex(re, im) => *re == 0.0 && *im == 0.0,
        Value::Str(s, _) => s.is_empty(),
        Value::Slice(items, _) => items.as_ref().is_none_or(|i| i.is_empty()),
        Value::Map(m, _) => m.as_ref().is_none_or(|m| m.is_empty()),
        Value::Ptr(p, _) => p.is_none(),
        Value::Struct(..) | Value::Time(_) => false,
    }
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| char::from(ALPHABET.get((i & 63) as usize).copied().unwrap_or(b'='));
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

/// A Go string as `encoding/json` writes it: each stray byte (see gostr) as `\ufffd`.
fn write_go_str(out: &mut String, s: &str, html: bool) {
    let std::borrow::Cow::Owned(bytes) = super::gostr::bytes(s) else {
        return write_str(out, s, html);
    };
    out.push('"');
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        let (valid, bad) = super::gostr::valid_prefix(rest);
        let mut piece = String::new();
        write_str(&mut piece, valid, html);
        out.push_str(piece.get(1..piece.len().saturating_sub(1)).unwrap_or(""));
        if !bad.is_empty() {
            out.push_str("\\ufffd");
        }
        rest = bad.get(1..).unwrap_or(&[]);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::value::Numbers;

    #[test]
    fn raw_json_round_trips_sorted_without_html_escapes() {
        let j: serde_json::Value = serde_json::from_str(r#"{"b":[1,null,"<&>"],"a":{"x":1.5}}"#).unwrap();
        let v = Value::from_json(&j, Numbers::JsonNumber);
        assert_eq!(to_json(&v).unwrap(), r#"{"a":{"x":1.5},"b":[1,null,"<&>"]}"#);
        assert_eq!(base64(b"ab"), "YWI=");
    }
}
