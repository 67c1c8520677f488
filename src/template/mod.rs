//! Go templates as docker's `--format` runs them: the `text/template` language (fields, `index`,
//! `range`, `if`/`else`, `with`, variables, pipelines, `{{- -}}`, `define`/`template`/`block`,
//! `break`/`continue`), Go's builtin functions and docker's own (`json`, `split`, `join`,
//! `title`, `lower`, `upper`, `pad`, `truncate`), printing values as Go's `fmt` does, with Go's
//! error messages.
//!
//! ```text
//!   lex.rs    text -> tokens            parse.rs  tokens -> named trees of nodes
//!   value.rs  the Go values templates see (typed structs, or raw JSON as interface{})
//!   exec.rs   walks a tree over a value  funcs.rs  the functions
//!   gofmt.rs  Go's fmt printing          encode.rs docker's `json` function
//! ```
//!
//! Sources of truth: Go's `src/text/template` (exec.go, funcs.go, parse/) and docker/cli
//! `templates/templates.go`, `cli/command/inspect/inspector.go`.
//!
//! Safe on hostile templates and data: nothing here panics, parsing and execution nest at
//! most [`parse::MAX_DEPTH`] levels, and execution has a step budget and an output cap.

mod encode;
mod exec;
mod funcs;
pub(crate) mod gofmt;
pub(crate) mod gostr;
mod lex;
mod methods;
mod parse;
mod value;

pub use encode::marshal_fields;
pub use gofmt::to_string as go_print;
pub use value::{EMPTY_STRUCT, FieldDef, GoTime, MethodDef, Numbers, StructDef, Type, Value};

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;

/// What a missing map key gives (Go's `missingkey=` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingKey {
    /// No value: prints `<no value>` (the default).
    Default,
    /// The zero value of the map's element type.
    Zero,
    /// An execution error (`map has no entry for key "X"`).
    Error,
}

/// A template that failed to parse or to execute, or output that could not be written.
#[derive(Debug)]
pub enum TemplateError {
    /// Go's parse error text, e.g. `template: :1: function "foo" not defined`.
    Parse(String),
    /// Go's execution error text, e.g.
    /// `template: :1:2: executing "" at <.X>: map has no entry for key "X"`.
    Exec(String),
    Io(std::io::Error),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Parse(m) | TemplateError::Exec(m) => f.write_str(m),
            TemplateError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for TemplateError {}

/// A parsed template, named `""` as docker names it (`template.New("")`).
#[derive(Debug)]
pub struct Template {
    text: String,
    trees: BTreeMap<String, parse::List>,
}

impl Template {
    /// Parses a template with Go's builtins and docker's functions.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let trees = parse::parse(text, &|name| funcs::signature(name).is_some()).map_err(TemplateError::Parse)?;
        Ok(Template {
            text: text.to_string(),
            trees,
        })
    }

    /// Executes on a JSON document decoded as Go decodes into `interface{}` with `UseNumber`
    /// (docker's raw fallback): objects are maps, numbers print as written.
    pub fn execute(&self, data: &serde_json::Value, out: &mut dyn Write) -> Result<(), TemplateError> {
        self.execute_value(&Value::from_json(data, Numbers::JsonNumber), MissingKey::Default, out)
    }

    /// Executes on `data`. Output already written stays written when execution fails.
    pub fn execute_value(&self, data: &Value, missing: MissingKey, out: &mut dyn Write) -> Result<(), TemplateError> {
        self.execute_as(data, missing, false, out)
    }

    /// A table's header row, as docker's formatter writes it: the template on the map of
    /// column names, with docker's header stand-ins for `json`, `split`, `join`, `title`,
    /// `lower`, `upper` and `truncate`; what was written before an error stays, and the error
    /// is dropped, as docker drops it.
    pub fn header_row(&self, columns: &Value) -> String {
        let mut out = Vec::new();
        let _ = self.execute_as(columns, MissingKey::Default, true, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// [`Template::header_row`] on docker/cli's `formatter.SubHeaderContext` of `columns`
    /// (field name, column name): a map whose `Label "k"` method names a label's column by
    /// its key's last dotted part, `-` and `_` as spaces (`com.example.owner` → `owner`).
    pub fn sub_header_row(&self, columns: &[(&str, &str)]) -> String {
        let map: BTreeMap<String, Value> = columns
            .iter()
            .map(|(k, v)| (k.to_string(), Value::Str((*v).into(), &value::STRING)))
            .collect();
        self.header_row(&Value::Map(Some(std::rc::Rc::new(map)), &SUB_HEADER_CONTEXT))
    }

    /// The struct fields and methods an execution on `data` reads (`json` of a struct reads
    /// them all), as docker/cli finds out whether a `ps` template uses `.Size`: it runs the
    /// template once on an empty container and looks at what was called. What is written is
    /// dropped, and so is an error (what was read before it counts).
    pub fn fields_used(&self, data: &Value) -> std::collections::BTreeSet<String> {
        let mut sink = std::io::sink();
        let mut used = Some(std::collections::BTreeSet::new());
        let _ = self.execute_with(data, MissingKey::Default, false, &mut used, &mut sink);
        used.unwrap_or_default()
    }

    fn execute_as(
        &self,
        data: &Value,
        missing: MissingKey,
        header: bool,
        out: &mut dyn Write,
    ) -> Result<(), TemplateError> {
        self.execute_with(data, missing, header, &mut None, out)
    }

    fn execute_with(
        &self,
        data: &Value,
        missing: MissingKey,
        header: bool,
        fields_used: &mut Option<std::collections::BTreeSet<String>>,
        out: &mut dyn Write,
    ) -> Result<(), TemplateError> {
        let Some(root) = self.trees.get("") else {
            return Err(TemplateError::Exec(
                "template: \"\" is an incomplete or empty template".into(),
            ));
        };
        let mut state = exec::State::new(&self.trees, &self.text, "", missing, out);
        state.header = header;
        state.fields_used = fields_used.take();
        state.vars.push(("$".into(), data.clone()));
        let dot = exec::Dot {
            v: data.clone(),
            iface: false,
        };
        let result = match state.walk_list(&dot, root) {
            Ok(()) => Ok(()),
            Err(exec::Flow::Fail(e)) => Err(e),
            // The parser allows these only inside a range, which consumes them.
            Err(exec::Flow::Break | exec::Flow::Continue) => Ok(()),
        };
        *fields_used = state.fields_used.take();
        result
    }

    /// [`execute_value`](Self::execute_value) into a string.
    pub fn render(&self, data: &Value, missing: MissingKey) -> Result<String, TemplateError> {
        let mut out = Vec::new();
        self.execute_value(data, missing, &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

/// docker/cli's `formatter.SubHeaderContext`, a `map[string]string` with a `Label` method.
static SUB_HEADER_CONTEXT: Type = Type::Named(
    "formatter.SubHeaderContext",
    &SUB_HEADER_MAP,
    &[MethodDef {
        name: "Label",
        params: &[&value::STRING],
        results: 1,
        call: header_label,
    }],
);
static SUB_HEADER_MAP: Type = Type::Map(&Type::String, &value::STRING);

/// `SubHeaderContext.Label`: the key's last `.`-separated part, `-` and `_` as spaces.
fn header_label(_: &Value, args: &[Value]) -> Result<Value, String> {
    let name = match args.first() {
        Some(Value::Str(s, _)) => s.to_string(),
        _ => String::new(),
    };
    let last = name.rsplit('.').next().unwrap_or("");
    Ok(Value::Str(last.replace(['-', '_'], " ").into(), &value::STRING))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// docker/cli's header for a label column is the key's last dotted part (sweep 34.4: a
    /// dockerd 20.10 with the 28.2 CLI printed `owner` and `eq` for these; ours printed none).
    #[test]
    fn a_label_column_is_headed_by_its_key() {
        let t = Template::parse(r#"{{.Names}}	{{.Label "com.example.owner"}}	{{.Label "k.snake_case-x"}}"#).unwrap();
        assert_eq!(t.sub_header_row(&[("Names", "NAMES")]), "NAMES\towner\tsnake case x");
    }

    fn run(t: &str, data: serde_json::Value) -> String {
        let mut out = Vec::new();
        match Template::parse(t).and_then(|t| t.execute(&data, &mut out)) {
            Ok(()) => String::from_utf8(out).unwrap(),
            Err(e) => format!("ERR {e}"),
        }
    }

    /// Go strings are bytes: a literal's `\xff` is one byte, not U+00FF, for printing, `len`,
    /// `index`, `slice`, `%q`, `%x` and comparisons. Each expected byte string is what Go
    /// 1.19.8's text/template (docker's funcs) wrote, read with `od -c`.
    #[test]
    fn string_literals_are_bytes_as_in_go() {
        let bytes = |t: &str| {
            let mut out = Vec::new();
            match Template::parse(t).and_then(|t| t.execute(&json!({}), &mut out)) {
                Ok(()) => out,
                Err(e) => format!("ERR {e}").into_bytes(),
            }
        };
        let cases: &[(&str, &[u8])] = &[
            (
                r#"{{"\xff"}}|{{len "\xff"}}|{{printf "%q" "\xff"}}|{{printf "%x" "\xffa"}}|{{index "\xff" 0}}|{{slice "a\xffb" 1 2}}|{{eq "\xff" "\u00ff"}}|{{lt "\xff" "\u00ff"}}"#,
                b"\xff|1|\"\\xff\"|ff61|255|\xff|false|false",
            ),
            (
                r#"{{printf "%q" "\377\xc3"}}|{{len "\u00ff"}}|{{printf "%s|%v|%+q|%#q" "\xff" "\xff" "\xff" "\xff"}}"#,
                b"\"\\xff\\xc3\"|2|\xff|\xff|\"\\xff\"|\"\\xff\"",
            ),
            (
                r#"{{json "\xff"}}|{{upper "\xff"}}|{{lower "a\xffB"}}|{{title "\xffa b"}}|{{split "a\xffb" "\xff"}}|{{join (split "a\xffb" "\xff") "\xfe"}}"#,
                b"\"\\ufffd\"|\xef\xbf\xbd|a\xef\xbf\xbdb|\xef\xbf\xbda B|[a b]|a\xfeb",
            ),
            (
                r#"{{printf "%.1s|%5s|%-3q|" "\xff\xfe" "\xff" "\xff"}}"#,
                b"\xff|    \xff|\"\\xff\"|",
            ),
            (
                r#"{{truncate "\xff\xfe" 1}}|{{pad "\xff" 1 1}}|{{html "\xff"}}|{{js "\xff"}}|{{urlquery "\xff"}}|{{print "\xff" 1}}"#,
                b"\xff| \xff |\xff|\xff|%FF|\xff1",
            ),
            (
                r#"{{"\xc3\xa9"}}|{{len "\xc3\xa9"}}|{{printf "%q" "\xc3"}}{{print "\xc3" "\xa9"}}|{{slice "é" 0 1}}|{{printf "%q" (slice "é" 0 1)}}|{{printf "%x" (truncate "é" 1)}}"#,
                b"\xc3\xa9|2|\"\\xc3\"\xc3\xa9|\xc3|\"\\xc3\"|c3",
            ),
            (
                r#"{{printf "%#v" "\xff"}}|{{printf "%T" "\xff"}}|{{eq (print "\xc3" "\xa9") "é"}}|{{printf "%U" "\xff"}}"#,
                b"\"\\xff\"|string|true|%!U(string=\xff)",
            ),
        ];
        for (t, want) in cases {
            assert_eq!(bytes(t), *want, "{t}");
        }
        // Data holding the code points that stand for stray bytes comes back as itself.
        let mut out = Vec::new();
        let t = Template::parse("{{.}}|{{len .}}|{{printf \"%x\" .}}").unwrap();
        t.execute(&json!("\u{10FFFF}"), &mut out).unwrap();
        assert_eq!(out, "\u{10FFFF}|4|f48fbfbf".as_bytes());
    }

    #[test]
    fn range_over_an_integer() {
        // Go 1.22+: 0..n in the integer's type; none for n <= 0 (the else branch); one variable.
        assert_eq!(run("{{range 3}}{{.}},{{end}}", json!({})), "0,1,2,");
        assert_eq!(run("{{range $i := 2}}[{{$i}}]{{end}}", json!({})), "[0][1]");
        assert_eq!(run("{{range -1}}x{{else}}none{{end}}", json!({})), "none");
        assert_eq!(
            run("{{range len .L}}{{printf \"%T\" .}} {{end}}", json!({"L": [1, 2]})),
            "int int "
        );
        assert!(
            run("{{range $i, $e := 2}}{{end}}", json!({}))
                .contains("can't use 2 to iterate over more than one variable")
        );
    }

    #[test]
    fn fields_json_index_range() {
        let d = json!({"Id": "x", "Tags": ["a", "b"], "L": {"k": "v"}, "N": 1234567, "Z": null});
        assert_eq!(
            run("{{.Id}} {{json .Tags}} {{index .Tags 1}} {{index .L \"k\"}}", d.clone()),
            "x [\"a\",\"b\"] b v"
        );
        assert_eq!(
            run("{{range $i, $e := .Tags}}{{$i}}={{$e}},{{end}}", d.clone()),
            "0=a,1=b,"
        );
        assert_eq!(
            run("{{.N}} {{.Z}} {{.Missing}} {{.L}}", d.clone()),
            "1234567 <no value> <no value> map[k:v]"
        );
        assert_eq!(
            run("{{with .L}}{{.k}}{{end}}{{if .Z}}y{{else}}n{{end}}", d.clone()),
            "vn"
        );
        assert_eq!(
            run("{{index .Tags 5}}", d),
            "ERR template: :1:2: executing \"\" at <index .Tags 5>: error calling index: index out of range: 5"
        );
    }

    #[test]
    fn continue_and_break_inside_branches_leave_no_nesting_behind() {
        let d = json!({"L": (0..500).collect::<Vec<_>>()});
        let t = "{{range $i, $e := .L}}{{if lt $i 498}}{{continue}}{{end}}{{with $e}}{{if eq $i 499}}{{break}}{{end}}{{end}}{{.}},{{end}}";
        assert_eq!(run(t, d), "498,");
    }

    #[test]
    fn floats_print_as_go() {
        let v = Value::from_json(&json!({"N": 1234567}), Numbers::Float64);
        let t = Template::parse("{{.N}} {{json .N}}").unwrap();
        assert_eq!(t.render(&v, MissingKey::Default).unwrap(), "1.234567e+06 1234567");
    }

    /// Number literals as Go's spec writes them (`1_000`, `0x_1F`, hex floats, imaginary and
    /// complex constants) and what templates do with them. Each expected text is what Go
    /// 1.19.8's text/template (with docker's funcs) printed, or `ERR ` and its error
    /// (/tmp/fixG-go/t6.txt).
    #[test]
    fn number_literals_like_go() {
        let cases: &[(&str, &str)] = &[
            ("{{json 1i}}|", "|"),
            ("{{print 1i}}", "(0+1i)"),
            (
                "{{printf \"%v|%.2f|%+g|%e|%T|%d|%8.1f|%#v|%s|%q\" 1i 1i 2i 1i 1i 1i 1i 1i 1i 1i}}",
                "(0+1i)|(0.00+1.00i)|(+0+2i)|(0.000000e+00+1.000000e+00i)|complex128|%!d(complex128=(0+1i))|(     0.0    +1.0i)|(0+1i)|%!s(complex128=(0+1i))|%!q(complex128=(0+1i))",
            ),
            ("{{print 1+2i}}", "(1+2i)"),
            ("{{print 0i}}", "(0+0i)"),
            (
                "{{eq 1i 1i}} {{eq 1i 2i}} {{ne 0i 1}}",
                "ERR template: :1:28: executing \"\" at <ne 0i 1>: error calling ne: incompatible types for comparison",
            ),
            (
                "{{lt 1i 1i}}",
                "ERR template: :1:2: executing \"\" at <lt 1i 1i>: error calling lt: invalid type for comparison",
            ),
            ("{{if 0i}}t{{else}}f{{end}}{{if 1i}}t{{end}}{{if 0+0i}}x{{end}}", "ft"),
            (
                "{{len 1i}}",
                "ERR template: :1:2: executing \"\" at <len 1i>: error calling len: len of type complex128",
            ),
            (
                "{{index \"ab\" 0i}}",
                "ERR template: :1:2: executing \"\" at <index \"ab\" 0i>: error calling index: cannot index slice/array with type complex128",
            ),
            ("{{pad \"x\" 0i 1}}|", "x |"),
            (
                "{{pad \"x\" 1i 1}}",
                "ERR template: :1:10: executing \"\" at <1i>: expected integer; found 1i",
            ),
            ("{{pad \"x\" 1+0i 1}}|", " x |"),
            (
                "{{1_000}} {{0x1p-2}} {{0x_1F}} {{0b1_0}} {{0o1_7}} {{0_7}} {{1_0.5}} {{0x1.8p1}} {{1e1_0}}",
                "1000 0.25 31 2 15 7 10.5 3 1e+10",
            ),
            (
                "{{print -1i}} {{print +1i}} {{print 1.5e3i}} {{print 0x1p1i}}",
                "(0-1i) (0+1i) (0+1500i) (0+2i)",
            ),
            ("{{print 1_i}}", "ERR template: :1: illegal number syntax: \"1_i\""),
            ("{{print 1__0}}", "ERR template: :1: illegal number syntax: \"1__0\""),
            ("{{print 0x_}}", "ERR template: :1: illegal number syntax: \"0x_\""),
            ("{{print 0x}}", "ERR template: :1: illegal number syntax: \"0x\""),
            ("{{print 08}}", "ERR template: :1: integer overflow: \"08\""),
            ("{{print 0_8}}", "ERR template: :1: integer overflow: \"0_8\""),
            ("{{print 1e}}", "ERR template: :1: illegal number syntax: \"1e\""),
            ("{{print 0x1p}}", "ERR template: :1: illegal number syntax: \"0x1p\""),
            ("{{print 0x1.8}}", "ERR template: :1: illegal number syntax: \"0x1.8\""),
            ("{{print 1-2i}}", "(1-2i)"),
            ("{{print 1+2}}", "ERR template: :1: bad number syntax: \"1+2\""),
            ("{{print 1.5+0.5i}}", "(1.5+0.5i)"),
            ("{{print 0x1p-1074}} {{print 0x1p-1075}}", "5e-324 0"),
            (
                "{{print 0x1p1024}}",
                "ERR template: :1: illegal number syntax: \"0x1p1024\"",
            ),
            ("{{print 1e400}}", "ERR template: :1: illegal number syntax: \"1e400\""),
            (
                "{{print 9223372036854775808}}",
                "ERR template: :1:8: executing \"\" at <9223372036854775808>: 9223372036854775808 overflows int",
            ),
            (
                "{{print 18446744073709551616}}",
                "ERR template: :1: integer overflow: \"18446744073709551616\"",
            ),
            ("{{print -0x8000000000000000}}", "-9223372036854775808"),
            ("{{print 0x1p63}}", "9.223372036854776e+18"),
            (
                "{{printf \"%T\" 0x1p4}} {{printf \"%T\" 1e3}} {{printf \"%T\" 0x10}} {{printf \"%T\" 0i}} {{printf \"%T\" -0x1e}} {{print -0x1e}}",
                "float64 float64 int complex128 float64 -30",
            ),
            (
                "{{print 1i+2i}}",
                "ERR template: :1: syntax error scanning complex number",
            ),
            (
                "{{print 0x1+2i}}",
                "ERR template: :1: strconv.ParseFloat: parsing \"0x1\": invalid syntax",
            ),
            ("{{print 1_0+2i}}", "(10+2i)"),
            ("{{print 0x1p1+0x1p2i}}", "(2+4i)"),
            ("{{print 1e3+1e3i}}", "(1000+1000i)"),
            ("{{print 08+1i}}", "(8+1i)"),
            ("{{print 1.5+0x1p-2i}}", "(1.5+0.25i)"),
            (
                "{{print 0b1+1i}}",
                "ERR template: :1: syntax error scanning complex number",
            ),
            (
                "{{print 1+1e400i}}",
                "ERR template: :1: strconv.ParseFloat: parsing \"+1e400\": value out of range",
            ),
            (
                "{{print 1+2_i}}",
                "ERR template: :1: strconv.ParseFloat: parsing \"+2_\": invalid syntax",
            ),
            (
                "{{print 1+i}}",
                "ERR template: :1: syntax error scanning complex number",
            ),
            (
                "{{print 0x1.fffffffffffff8p0}} {{print 0x1.00000000000008p0}} {{print 0x1.00000000000008000001p0}} {{print 0X1P+2}} {{print 0x.8p1}} {{print 0x1.p1}}",
                "2 1 1.0000000000000002 4 1 2",
            ),
            (
                "{{print 1.}} {{print .5}} {{print -.5}} {{print 0x1_0p0}} {{print 0x_1p0}} {{print 1_000.000_1}} {{print 1e+1_0}} {{print 0.e1}} {{print 0e0}} {{print 00.5}} {{print 0x1p+1_0}}",
                "1 0.5 -0.5 16 1 1000.0001 1e+10 0 0 0.5 1024",
            ),
            ("{{print 0b}}", "ERR template: :1: illegal number syntax: \"0b\""),
            ("{{print 0b2}}", "ERR template: :1: bad number syntax: \"0b2\""),
            ("{{print 1_}}", "ERR template: :1: illegal number syntax: \"1_\""),
            ("{{print 0x1i}}", "ERR template: :1: illegal number syntax: \"0x1i\""),
            (
                "{{print 07i}} {{print 0x1p0i}} {{print 0_1i}} {{print 1_0i}}",
                "(0+7i) (0+1i) (0+1i) (0+10i)",
            ),
            ("{{'ab'}}", "ERR template: :1: malformed character constant: 'ab'"),
            ("{{print 'a' '\\'' '\\x41' '\\u00e9' '\\377'}}", "97 39 65 233 255"),
            ("{{''}}", "ERR template: :1: invalid syntax"),
            (
                "{{print 1e-400}} {{print -0.0}} {{printf \"%T\" -0}} {{print -0}}",
                "0 -0 int 0",
            ),
            ("{{print 1e19}} {{printf \"%T\" 1e19}}", "1e+19 float64"),
            (
                "{{range 2i}}{{end}}",
                "ERR template: :1:8: executing \"\" at <2i>: range can't iterate over (0+2i)",
            ),
            (
                "{{printf \"%x|%X|%b\" 1i 1i 1i}}",
                "(0x0p+00+0x1p+00i)|(0X0P+00+0X1P+00i)|(0p-1074+4503599627370496p-52i)",
            ),
            ("{{print 0x1P-2 0X1p-2}}", "0.25 0.25"),
            (
                "{{slice \"abc\" 1i}}",
                "ERR template: :1:2: executing \"\" at <slice \"abc\" 1i>: error calling slice: cannot index slice/array with type complex128",
            ),
            ("{{print 1.0i}}", "(0+1i)"),
            ("{{print 0.0i}}", "(0+0i)"),
            ("{{print -0i}}", "(0-0i)"),
            // Hex floats rounded to nearest, ties to even, into subnormals and across the
            // top of the mantissa (Go's %b of each).
            (
                "{{printf \"%b %b %b %b %b %b %b %b %b %b\" 0x1.8p-1074 0x1.0000000000001p-1075 0x1.fffffffffffffp-1023 0x1.fffffffffffff8p-1023 0x1.fffffffffffff7p-1023 0x1.fffffffffffff7p1023 0x123456789abcdef123p0 0x0.000000000000000000001p0 0x1.00000000000018p0 0x3p-1076}}",
                "2p-1074 1p-1074 4503599627370496p-1074 4503599627370496p-1074 4503599627370496p-1074 9007199254740991p+971 5124095576030431p+16 4503599627370496p-136 4503599627370498p-52 1p-1074",
            ),
            (
                "{{printf \"%v\" 0x1.fffffffffffff8p1023}}",
                "ERR template: :1: illegal number syntax: \"0x1.fffffffffffff8p1023\"",
            ),
        ];
        for (t, go) in cases {
            assert_eq!(run(t, json!({})), *go, "{t}");
        }
    }

    #[test]
    fn hostile_templates_end_in_errors() {
        let d = json!({"L": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]});
        let nested = "{{range .L}}".repeat(8) + "x" + &"{{end}}".repeat(8);
        assert!(run(&nested, d.clone()).starts_with("ERR "));
        let rec = "{{define \"a\"}}{{template \"a\" .}}{{end}}{{template \"a\" .}}";
        assert!(run(rec, d.clone()).contains("exceeded maximum template depth"));
        let grow = "{{$x := printf \"%1000000s\" \"\"}}{{range .L}}{{$x = printf \"%s%s\" $x $x}}{{end}}";
        // Doubling a string ends on the budget (each printf reads and builds its megabytes)
        // or the 64 MiB cap, whichever comes first.
        let r = run(grow, d.clone());
        assert!(r.contains("steps") || r.contains("exceeds"), "{r}");
        // One result past 64 MiB is refused before it is built.
        let s20 = json!({"S": "x".repeat(20 << 20)});
        let r = run("{{printf \"%s%s%s%s\" $.S $.S $.S $.S}}", s20);
        assert!(r.ends_with("error calling printf: result exceeds 64 MiB"), "{r}");
        assert!(run("{{range 1000000000}}{{end}}", d.clone()).contains("steps"));
        // Few steps, each building a megabyte: the budget counts the bytes too.
        let big = json!({"S": "x".repeat((1 << 20) + 1)});
        let r = run("{{range 100000}}{{len (print $.S)}}{{end}}", big.clone());
        assert!(
            r.starts_with("ERR ") && r.contains("steps"),
            "{}",
            &r[..r.len().min(200)]
        );
        // join and split are refused before they build what they would refuse.
        let r = run("{{len (split $.S \"\")}}", big);
        assert!(r.contains("exceeds 1048576 elements") || r.contains("steps"), "{r}");
        // Nesting as deep as parsing allows (branches and parentheses together), called
        // recursively until the executor stops it, fits a test
        // thread's 2 MiB stack (debug build).
        let parens = format!("{}1{}", "(".repeat(49), ")".repeat(49));
        let body = "{{if 1}}".repeat(50) + "{{print " + &parens + "}}{{template \"a\" .}}" + &"{{end}}".repeat(50);
        let deep = format!("{{{{define \"a\"}}}}{body}{{{{end}}}}{{{{template \"a\" .}}}}");
        let r = run(&deep, d);
        assert!(r.contains("nesting exceeds") || r.contains("template depth"), "{r}");
    }

    /// The budget counts the bytes a function reads, not one step per call: `eq` of two
    /// 1 MB strings costs thousands of steps (sweep 8 #10: 16 MB ones cost one step, and the
    /// budget let 25 minutes of comparing through).
    #[test]
    fn comparisons_cost_the_bytes_they_read() {
        let big = json!({"A": "x".repeat(1 << 20), "B": "x".repeat(1 << 20)});
        for f in ["eq", "ne", "lt", "le"] {
            let r = run(
                &format!("{{{{range 1000}}}}{{{{$y := {f} $.A $.B}}}}{{{{end}}}}"),
                big.clone(),
            );
            assert!(r.contains("execution stopped after"), "{f}: {r}");
        }
        // Short strings, as many times, fit.
        let small = json!({"A": "x", "B": "x"});
        assert_eq!(run("{{range 1000}}{{$y := eq $.A $.B}}{{end}}ok", small), "ok");
        // What is read character by character counts four times over, beside the result
        // (these go through 20 to 40 MB a second; a comparison through gigabytes).
        let text = Value::string(&"X".repeat(1000));
        for f in ["lower", "title", "html", "print"] {
            let mut work = 0;
            funcs::call(f, std::slice::from_ref(&text), &mut work).unwrap();
            assert_eq!(work, 5000, "{f}");
        }
        let mut work = 0;
        funcs::call("printf", &[Value::string("%q"), text.clone()], &mut work).unwrap();
        assert_eq!(work, 4 * 1002 + 1002);
        // A map key used by `index` is read and copied.
        let keyed = json!({"A": "x".repeat(1 << 20), "M": {}});
        let r = run("{{range 1000}}{{$y := index $.M $.A}}{{end}}", keyed);
        assert!(r.contains("execution stopped after"), "{r}");
    }

    /// Every element a function builds counts (sweep 8 #4: `split` results kept in 300
    /// variables took 3.8 GB at a few steps each). 100,000 one-character elements are about
    /// 26,000 steps, so the budget ends this loop near its fortieth `split` (each result is
    /// dropped here; kept in variables, they would be as many megabytes, no more).
    #[test]
    fn built_elements_count_against_the_budget() {
        let t = "{{$x := printf \"%0100000d\" 0}}{{range 100}}{{$v := split $x \"\"}}{{end}}";
        let r = run(t, json!({}));
        assert!(r.contains("execution stopped after"), "{r}");
        // Ten of them fit.
        let t = "{{$x := printf \"%0100000d\" 0}}{{range 10}}{{$v := split $x \"\"}}{{end}}ok";
        assert_eq!(run(t, json!({})), "ok");
        // `join` reads each element, even empty ones that build nothing.
        let t = "{{$x := printf \"%0100000d\" 0}}{{$v := split $x \"\"}}{{range 100}}{{$j := join $v \"\"}}{{end}}";
        assert!(run(t, json!({})).contains("execution stopped after"));
    }

    /// The nesting limits (README lists them among the differences from Go): each ends in an
    /// error naming it, never a stack overflow, on a test thread's 2 MiB stack.
    #[test]
    fn nesting_limits_are_errors() {
        let ifs = |n: usize| "{{if 1}}".repeat(n) + "x" + &"{{end}}".repeat(n);
        assert_eq!(run(&ifs(parse::MAX_DEPTH), json!({})), "x");
        assert_eq!(
            run(&ifs(parse::MAX_DEPTH + 1), json!({})),
            "ERR template: :1: max expression depth exceeded"
        );
        let parens = |n: usize| format!("{{{{print {}1{}}}}}", "(".repeat(n), ")".repeat(n));
        assert_eq!(run(&parens(parse::MAX_DEPTH - 1), json!({})), "1");
        assert!(run(&parens(parse::MAX_DEPTH + 1), json!({})).contains("max expression depth exceeded"));
        let rec = |n: usize| {
            format!(
                "{{{{define \"r\"}}}}{{{{if lt (len .) {n}}}}}{{{{template \"r\" (printf \"%sx\" .)}}}}{{{{else}}}}{{{{len .}}}}{{{{end}}}}{{{{end}}}}{{{{template \"r\" \"\"}}}}"
            )
        };
        assert_eq!(run(&rec(exec::MAX_TEMPLATE_DEPTH - 1), json!({})), "99");
        assert!(
            run(&rec(150), json!({})).ends_with("exceeded maximum template depth (100)"),
            "{}",
            run(&rec(150), json!({}))
        );
    }
}
