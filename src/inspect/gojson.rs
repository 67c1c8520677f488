//! JSON written byte for byte as Go writes it, for output that must equal dockerd's.
//!
//! * Objects keep the order they are built in ([`J::Obj`]); Go's map output is sorted, so
//!   callers build map-like objects from `BTreeMap`s.
//! * Strings escape `"` `\\`, `\b` `\f` `\n` `\r` `\t`, other control characters as `\u00XX`,
//!   U+2028/U+2029 always, and, with HTML escaping on (Go's default), `<` `>` `&`.
//! * [`indent`] is Go's `json.Indent`: empty arrays and objects stay `[]` and `{}`.

use std::collections::BTreeMap;

/// A JSON value with ordered object members.
#[derive(Clone, Debug, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
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

    /// Compact JSON, as `json.Marshal` (`html` = Go's default HTML escaping).
    pub fn write(&self, out: &mut String, html: bool) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Int(i) => out.push_str(&i.to_string()),
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

    pub fn to_compact(&self, html: bool) -> String {
        let mut s = String::new();
        self.write(&mut s, html);
        s
    }
}

/// A Go JSON string literal.
pub fn write_str(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `json.Indent(dst, src, prefix "", indent)` over compact JSON.
pub fn indent(src: &str, indent: &str) -> String {
    let mut out = String::with_capacity(src.len() * 2);
    let mut depth = 0usize;
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

    #[test]
    fn escapes_like_go() {
        let mut s = String::new();
        write_str(&mut s, "a<b>&\"\\\n\u{1}\u{8}\u{2028}é", true);
        assert_eq!(s, r#""a\u003cb\u003e\u0026\"\\\n\u0001\b\u2028é""#);
        let mut s = String::new();
        write_str(&mut s, "<&>", false);
        assert_eq!(s, r#""<&>""#);
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
}
