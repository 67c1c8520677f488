//! Values printed as Go's `fmt` prints them: `%v` of slices `[a b]`, maps `map[k:v]` (sorted
//! keys), structs `{a b}`, nil `<nil>`, floats `1.234567e+06`, durations `1m30s`, times
//! `2006-01-02 15:04:05 +0000 UTC`; and `Sprint`, `Sprintln`, `Sprintf` with the verbs, flags,
//! widths and `%!d(string=x)` complaints docker users meet.

use super::value::{Type, Value};

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    quote_with(s, false)
}

/// [`quote`] of a Rust string from outside the engine (not engine text, see gostr): every
/// character is itself.
pub fn quote_text(s: &str) -> String {
    quote_with(&super::gostr::encode(s), false)
}

/// `strconv.Quote`, or with `ascii` `strconv.QuoteToASCII` (`%+q`): every character outside
/// ASCII escaped, `\u00e9`, `\U0001f600`.
fn quote_with(s: &str, ascii: bool) -> String {
    // On Go's bytes (gostr): a byte that is no UTF-8 is `\xNN`.
    let bytes = super::gostr::bytes(s);
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut rest: &[u8] = &bytes;
    while !rest.is_empty() {
        let (valid, bad) = super::gostr::valid_prefix(rest);
        quote_chars(&mut out, valid, ascii);
        if let Some(b) = bad.first() {
            out.push_str(&format!("\\x{b:02x}"));
        }
        rest = bad.get(1..).unwrap_or(&[]);
    }
    out.push('"');
    out
}

fn quote_chars(out: &mut String, s: &str, ascii: bool) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (!ascii || c.is_ascii()) && is_print(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
}

/// An approximation of Go's `unicode.IsPrint`: graphic characters and the ASCII space.
pub fn is_print(c: char) -> bool {
    c == ' '
        || !(c.is_control()
            || c.is_whitespace()
            || ('\u{e000}'..='\u{f8ff}').contains(&c)
            // Planes 15 and 16 hold only private use and noncharacters.
            || c >= '\u{f0000}'
            || c == '\u{ad}'
            || is_format(c))
}

/// Unicode's format characters (category Cf), which Go's `IsPrint` rejects: zero-width and
/// bidi controls above all, the ones that make a terminal show other text than is there.
fn is_format(c: char) -> bool {
    matches!(c as u32,
        0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x890..=0x891 | 0x8e2 | 0x180e
        | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f
        | 0xfeff | 0xfff9..=0xfffb | 0x110bd | 0x110cd | 0x13430..=0x1343f
        | 0x1bca0..=0x1bca3 | 0x1d173..=0x1d17a | 0xe0001 | 0xe0020..=0xe007f)
}

/// `%#U`: `U+0023 '#'`.
pub fn unicode_name(c: char) -> String {
    if is_print(c) {
        format!("U+{:04X} '{c}'", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

/// `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
pub fn duration(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let mut u = d.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (prec, unit) = if u < 1_000 {
            (0, "ns")
        } else if u < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let (frac, int) = frac_digits(u, prec);
        out = format!("{int}{frac}{unit}");
    } else {
        let (frac, secs) = frac_digits(u, 9);
        u = secs;
        let s = format!("{}{frac}s", u % 60);
        u /= 60;
        if u > 0 {
            let m = format!("{}m", u % 60);
            u /= 60;
            if u > 0 {
                out.push_str(&format!("{u}h"));
            }
            out.push_str(&m);
        }
        out.push_str(&s);
    }
    if d < 0 {
        out.insert(0, '-');
    }
    out
}

/// The low `prec` decimal digits of `v` as `.ddd` without trailing zeros, and `v / 10^prec`.
fn frac_digits(v: u64, prec: u32) -> (String, u64) {
    let p = 10u64.pow(prec);
    let frac = v % p;
    if frac == 0 {
        return (String::new(), v / p);
    }
    let digits = format!("{:0width$}", frac, width = prec as usize);
    (format!(".{}", digits.trim_end_matches('0')), v / p)
}

/// Shortest decimal digits of `f` (> 0, finite) and the decimal exponent of the first.
fn shortest(f: f64) -> (String, i32) {
    let e = format!("{:e}", f.abs());
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    (mant.replace('.', ""), exp.parse().unwrap_or(0))
}

/// Go's `strconv.FormatFloat(f, fmt, prec, 64)` for `e`, `f` and `g` (`prec < 0`: shortest).
pub fn format_float(f: f64, verb: char, prec: i32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let neg = f.is_sign_negative();
    let a = f.abs();
    let body = match verb {
        'e' | 'E' => {
            let s = if prec < 0 {
                if a == 0.0 {
                    "0e+00".to_string()
                } else {
                    let (d, x) = shortest(a);
                    let mut m = d.get(..1).unwrap_or("0").to_string();
                    if d.len() > 1 {
                        m.push('.');
                        m.push_str(d.get(1..).unwrap_or(""));
                    }
                    format!("{m}{}", exp_suffix(x))
                }
            } else {
                let (s, zeros) = exact_e(a, prec_digits(prec));
                let (m, x) = s.split_once('e').unwrap_or((&s, "0"));
                format!("{m}{}{}", "0".repeat(zeros), exp_suffix(x.parse().unwrap_or(0)))
            };
            if verb == 'E' { s.to_uppercase() } else { s }
        }
        'f' | 'F' => {
            if prec < 0 {
                // Shortest digits, positional.
                if a == 0.0 {
                    "0".to_string()
                } else {
                    let (d, x) = shortest(a);
                    positional(&d, x)
                }
            } else {
                let p = prec_digits(prec);
                let exact = p.min(MAX_FRACTION_DIGITS);
                let mut s = format!("{:.*}", exact, a);
                s.push_str(&"0".repeat(p - exact));
                s
            }
        }
        _ => {
            // %g: %e when the exponent is < -4 or >= the precision (6 for shortest).
            let (digits, exp, eprec) = if a == 0.0 {
                ("0".to_string(), 0, if prec < 0 { 6 } else { prec.max(1) })
            } else if prec < 0 {
                let (d, x) = shortest(a);
                (d, x, 6)
            } else {
                let p = prec.max(1);
                // Trailing zeros are dropped below: those past the exact digits are not made.
                let (s, _) = exact_e(a, prec_digits(p - 1));
                let (m, x) = s.split_once('e').unwrap_or((&s, "0"));
                let d = m.replace('.', "");
                let d = d.trim_end_matches('0');
                let d = if d.is_empty() { "0".to_string() } else { d.to_string() };
                let eprec = if p as usize > d.len() && d.len() as i32 > x.parse::<i32>().unwrap_or(0) {
                    d.len() as i32
                } else {
                    p
                };
                (d, x.parse().unwrap_or(0), eprec)
            };
            if exp < -4 || exp >= eprec {
                let mut m = digits.get(..1).unwrap_or("0").to_string();
                if digits.len() > 1 {
                    m.push('.');
                    m.push_str(digits.get(1..).unwrap_or(""));
                }
                let s = format!("{m}{}", exp_suffix(exp));
                if verb == 'G' { s.to_uppercase() } else { s }
            } else {
                positional(&digits, exp)
            }
        }
    };
    if neg { format!("-{body}") } else { body }
}

/// A decimal of an `f64` has at most 767 significant digits and 1074 after the point, so a
/// precision past these only adds zeros; Rust's `format!` refuses a precision over 65535
/// (a panic) while Go allows up to a million (and more written in the format).
const MAX_SIGNIFICANT_DIGITS: usize = 800;
const MAX_FRACTION_DIGITS: usize = 1100;

/// A precision that is not negative, as a count of digits.
fn prec_digits(prec: i32) -> usize {
    usize::try_from(prec).unwrap_or(0)
}

/// `a` as `d.ddde±x` with `p` digits after the point: the text with at most
/// [`MAX_SIGNIFICANT_DIGITS`] of them, and how many zeros follow those.
fn exact_e(a: f64, p: usize) -> (String, usize) {
    let exact = p.min(MAX_SIGNIFICANT_DIGITS);
    (format!("{:.*e}", exact, a), p - exact)
}

fn exp_suffix(x: i32) -> String {
    let sign = if x < 0 { '-' } else { '+' };
    format!("e{sign}{:02}", x.unsigned_abs())
}

/// Digits `d` (first digit at 10^`x`) written without an exponent.
fn positional(d: &str, x: i32) -> String {
    if x < 0 {
        let zeros = "0".repeat((-x - 1) as usize);
        return format!("0.{zeros}{d}");
    }
    let int_len = (x + 1) as usize;
    if d.len() <= int_len {
        format!("{d}{}", "0".repeat(int_len - d.len()))
    } else {
        format!("{}.{}", d.get(..int_len).unwrap_or(""), d.get(int_len..).unwrap_or(""))
    }
}

/// Go's `encoding/json` float text: shortest, `e` notation outside [1e-6, 1e21).
pub fn json_float(f: f64) -> String {
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let s = format_float(f, 'e', -1);
        // e-07 becomes e-7
        if let Some((m, x)) = s.split_once("e-0") {
            return format!("{m}e-{x}");
        }
        return s;
    }
    format_float(f, 'f', -1)
}

/// Formatting flags and sizes of one verb.
#[derive(Clone, Copy, Default)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
    /// `%+v`: struct field names (`plus` is then off).
    plus_v: bool,
    /// `%#v`: Go syntax (`sharp` is then off).
    sharp_v: bool,
}

impl Spec {
    fn pad(&self, s: &str, numeric: bool) -> String {
        let Some(w) = self.width else { return s.to_string() };
        let n = s.chars().count();
        if n >= w {
            return s.to_string();
        }
        let fill = w - n;
        if self.minus {
            format!("{s}{}", " ".repeat(fill))
        } else if self.zero && numeric {
            let (sign, digits) = match s.strip_prefix(['-', '+', ' ']) {
                Some(rest) => (s.get(..1).unwrap_or(""), rest),
                None => ("", s),
            };
            format!("{sign}{}{digits}", "0".repeat(fill))
        } else {
            format!("{}{s}", " ".repeat(fill))
        }
    }
}

/// The error of a function whose result would pass `limit` bytes.
pub fn exceeds(limit: usize) -> String {
    format!("result exceeds {} MiB", limit >> 20)
}

/// `fmt.Sprint`: operands joined, with a space between two that are not of kind string (Go's
/// `doPrint` asks the kind: `json.Number` and `digest.Digest` are strings too). Refused as
/// soon as the result would pass `limit` bytes, before it is built: `print $y $y ...` of a
/// 64 MiB `$y` would otherwise take 64 MiB per operand before any check saw it.
pub fn sprint_within(args: &[Value], limit: usize) -> Result<String, String> {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::Str(..));
        let space = i > 0 && !is_string && !prev_string;
        let piece = print_value(a, 'v', Spec::default(), 0);
        if out.len().saturating_add(usize::from(space)).saturating_add(piece.len()) > limit {
            return Err(exceeds(limit));
        }
        if space {
            out.push(' ');
        }
        out.push_str(&piece);
        prev_string = is_string;
    }
    Ok(out)
}

/// `fmt.Sprintln`: operands joined by spaces, then a newline; refused like [`sprint_within`].
pub fn sprintln_within(args: &[Value], limit: usize) -> Result<String, String> {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let piece = print_value(a, 'v', Spec::default(), 0);
        let space = usize::from(i > 0);
        // The newline still to come counts too.
        if out
            .len()
            .saturating_add(space)
            .saturating_add(piece.len())
            .saturating_add(1)
            > limit
        {
            return Err(exceeds(limit));
        }
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&piece);
    }
    if out.len() >= limit {
        return Err(exceeds(limit));
    }
    out.push('\n');
    Ok(out)
}

/// `%v` of one value, as `fmt.Fprint` prints it.
pub fn to_string(v: &Value) -> String {
    print_value(v, 'v', Spec::default(), 0)
}

/// Go's `tooLarge`: a width or precision taken from an argument (`*`) whose magnitude passes
/// this is `%!(BADWIDTH)` or `%!(BADPREC)`, and a number written in the format stops being read
/// past it (`%!(NOVERB)`), so no width or precision from the input passes 10,000,009.
const MAX_WIDTH: usize = 1_000_000;

/// `fmt.Sprintf`.
#[cfg(test)]
pub fn sprintf(format: &str, args: &[Value]) -> String {
    sprintf_within(format, args, usize::MAX).unwrap_or_default()
}

/// How many values a width is applied to when `v` is printed (one per scalar, map keys
/// included, two for a complex), and how many of them are numbers, which a precision makes
/// longer (a precision only cuts strings). Bounded by the value, which is already in memory.
fn padded_parts(v: &Value) -> (usize, usize) {
    let sum = |a: (usize, usize), b: (usize, usize)| (a.0.saturating_add(b.0), a.1.saturating_add(b.1));
    match v {
        Value::Slice(Some(items), _) => items.iter().map(padded_parts).fold((0, 0), sum),
        Value::Map(Some(m), _) => m.values().map(|e| sum(padded_parts(e), (1, 0))).fold((0, 0), sum),
        Value::Struct(fields, _) => fields.iter().map(padded_parts).fold((0, 0), sum),
        Value::Ptr(Some(t), _) => padded_parts(t),
        Value::Int(..) | Value::Uint(..) | Value::Float(_) => (1, 1),
        Value::Complex(..) => (2, 2),
        _ => (1, 0),
    }
}

/// `fmt.Sprintf`, refused before it is made when it would pass `limit` bytes: a width or
/// precision (up to a million, as Go allows) is applied to every element of a slice or map,
/// so `%999999v` of 4,000 strings is 4 GB that no check after the fact would stop.
pub fn sprintf_within(format: &str, args: &[Value], limit: usize) -> Result<String, String> {
    // Go's `doPrintf` (src/fmt/print.go), byte for byte: the format is read as bytes, and every
    // place it stops at is an ASCII byte or the end, so slicing `format` there cannot fail.
    let f = format.as_bytes();
    let end = f.len();
    let mut out = String::new();
    let mut at = Cursor::default();
    while at.i < end {
        at.good = true;
        let lasti = at.i;
        while f.get(at.i).is_some_and(|&c| c != b'%') {
            at.i += 1;
        }
        out.push_str(format.get(lasti..at.i).unwrap_or_default());
        if at.i >= end {
            break;
        }
        at.i += 1;
        let mut spec = Spec::default();
        while let Some(&c) = f.get(at.i) {
            match c {
                b'-' => spec.minus = true,
                b'+' => spec.plus = true,
                b'#' => spec.sharp = true,
                b' ' => spec.space = true,
                b'0' => spec.zero = !spec.minus,
                _ => break,
            }
            at.i += 1;
        }
        // An explicit argument index (`%[2]d`), then the width: `*` takes it from the next
        // argument, and a negative one pads on the right.
        let mut after_index = at.arg_number(f, args.len());
        if f.get(at.i) == Some(&b'*') {
            at.i += 1;
            let width = at.int_from_arg(args);
            if width.is_none() {
                out.push_str("%!(BADWIDTH)");
            }
            if width.is_some_and(|w| w < 0) {
                spec.minus = true;
                spec.zero = false;
            }
            spec.width = width.and_then(|w| usize::try_from(w.unsigned_abs()).ok());
            after_index = false;
        } else {
            let (width, next) = parse_num(f, at.i, end);
            at.i = next;
            spec.width = width;
            if after_index && width.is_some() {
                // "%[3]2d"
                at.good = false;
            }
        }
        if at.i + 1 < end && f.get(at.i) == Some(&b'.') {
            at.i += 1;
            if after_index {
                // "%[3].2d"
                at.good = false;
            }
            after_index = at.arg_number(f, args.len());
            if f.get(at.i) == Some(&b'*') {
                at.i += 1;
                // A negative precision makes no sense: refused like a bad one.
                spec.prec = at.int_from_arg(args).and_then(|p| usize::try_from(p).ok());
                if spec.prec.is_none() {
                    out.push_str("%!(BADPREC)");
                }
                after_index = false;
            } else {
                let (prec, next) = parse_num(f, at.i, end);
                at.i = next;
                spec.prec = Some(prec.unwrap_or(0));
            }
        }
        if !after_index {
            at.arg_number(f, args.len());
        }
        let Some(verb) = format.get(at.i..).and_then(|rest| rest.chars().next()) else {
            out.push_str("%!(NOVERB)");
            break;
        };
        at.i += verb.len_utf8();
        if verb == '%' {
            // Takes no argument and ignores width and precision.
            out.push('%');
            continue;
        }
        if !at.good {
            out.push_str(&format!("%!{verb}(BADINDEX)"));
            continue;
        }
        let Some(arg) = args.get(at.arg) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        at.arg += 1;
        // A width pads every scalar; a precision adds digits to every number, with any verb
        // (a bad verb prints its operand with the precision too), and only cuts strings.
        let (all, numbers) = padded_parts(arg);
        let need = all
            .saturating_mul(spec.width.unwrap_or(0))
            .saturating_add(numbers.saturating_mul(spec.prec.unwrap_or(0)));
        // A string without a precision prints whole, at the least: refused before it is
        // copied (`%s%s%s%s` of a 17 MB string took 140 MB before the result was refused).
        let least = match arg {
            Value::Str(s, _) if spec.prec.is_none() && verb != 'T' => s.len(),
            _ => 0,
        };
        if need.max(least).saturating_add(out.len()) > limit {
            return Err(exceeds(limit));
        }
        let piece = print_arg(arg, verb, spec);
        if piece.len().saturating_add(out.len()) > limit {
            return Err(exceeds(limit));
        }
        out.push_str(&piece);
    }
    // Go checks for unused arguments only when none was chosen by index.
    let argi = if at.reordered { args.len() } else { at.arg };
    if argi < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args
            .iter()
            .skip(argi)
            .map(|a| match a {
                Value::Invalid | Value::Nil => "<nil>".to_string(),
                a => format!("{}={}", a.type_name(), to_string(a)),
            })
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    Ok(out)
}

/// Where [`sprintf_within`] is in the format and in the arguments (Go's `pp` state).
#[derive(Default)]
struct Cursor {
    /// The next byte of the format.
    i: usize,
    /// The next argument.
    arg: usize,
    /// False once this verb's argument index is bad (`%!d(BADINDEX)`).
    good: bool,
    /// An argument was chosen by index: unused ones are then not `%!(EXTRA ...)`.
    reordered: bool,
}

impl Cursor {
    /// Go's `argNumber`: a `[n]` at the cursor chooses argument n (1-based) and is stepped over;
    /// true when one was there and parsed as a number (even out of range, which is bad).
    fn arg_number(&mut self, f: &[u8], num_args: usize) -> bool {
        if f.get(self.i) != Some(&b'[') {
            return false;
        }
        self.reordered = true;
        let (index, wid, ok) = parse_arg_number(f.get(self.i..).unwrap_or_default());
        self.i += wid;
        match index.filter(|&n| ok && n < num_args) {
            Some(n) => self.arg = n,
            None => self.good = false,
        }
        ok
    }

    /// Go's `intFromArg`: the next argument as a width or precision, None when it is missing,
    /// not an integer, or too large; the argument is used up either way (when there is one).
    fn int_from_arg(&mut self, args: &[Value]) -> Option<i64> {
        let arg = args.get(self.arg)?;
        self.arg += 1;
        let n = match arg {
            Value::Int(n, _) => *n,
            Value::Uint(n, _) => i64::try_from(*n).ok()?,
            _ => return None,
        };
        (n.unsigned_abs() <= MAX_WIDTH as u64).then_some(n)
    }
}

/// Go's `parsenum`: the decimal number at `start` (None when there is no digit) and where it
/// ends; past [`MAX_WIDTH`] it stops reading and gives None and `end`, as Go does.
fn parse_num(f: &[u8], start: usize, end: usize) -> (Option<usize>, usize) {
    let mut num: Option<usize> = None;
    let mut i = start;
    while i < end
        && let Some(d) = f.get(i).filter(|c| c.is_ascii_digit())
    {
        let n = num.unwrap_or(0);
        if n > MAX_WIDTH {
            return (None, end);
        }
        num = Some(n * 10 + usize::from(d - b'0'));
        i += 1;
    }
    (num, i)
}

/// Go's `parseArgNumber` on the format from a `[`: the 0-based index (None for `[0]`), how many
/// bytes to step over (to the `]`, or the `[` alone when there is none), and whether the
/// brackets held a number.
fn parse_arg_number(f: &[u8]) -> (Option<usize>, usize, bool) {
    if f.len() < 3 {
        return (None, 1, false);
    }
    match f.iter().skip(1).position(|&c| c == b']') {
        Some(p) => {
            let close = p + 1;
            match parse_num(f, 1, close) {
                (Some(n), next) if next == close => (n.checked_sub(1), close + 1, true),
                _ => (None, close + 1, false),
            }
        }
        None => (None, 1, false),
    }
}

fn print_arg(arg: &Value, verb: char, mut spec: Spec) -> String {
    // `%+v` and `%#v` are verbs of their own (field names, Go syntax): the flags stop meaning
    // a sign and an alternate form for `v`.
    if verb == 'v' {
        spec.plus_v = spec.plus;
        spec.sharp_v = spec.sharp;
        spec.plus = false;
        spec.sharp = false;
    }
    if arg.is_nilish() {
        return match verb {
            'T' | 'v' => spec.pad("<nil>", false),
            _ => bad_verb(arg, verb, spec, 0),
        };
    }
    match verb {
        'T' => fmt_string(&arg.type_name(), 's', spec),
        // `%w` is for `fmt.Errorf` and an error operand; none of a template's values is one.
        'w' => bad_verb(arg, verb, spec, 0),
        _ => print_value(arg, verb, spec, 0),
    }
}

/// `%!d(string=x)`: a verb the operand's kind has no meaning for. The operand is printed as
/// with `%v`, the verb's width, precision and flags still applied (`%+c` of 1.5 is
/// `%!c(float64=+1.5)`).
fn bad_verb(arg: &Value, verb: char, spec: Spec, depth: usize) -> String {
    if arg.is_nilish() {
        return format!("%!{verb}(<nil>)");
    }
    format!("%!{verb}({}={})", arg.type_name(), print_value(arg, 'v', spec, depth))
}

/// The value's `String()` method, for the types that have one.
fn stringer(v: &Value) -> Option<String> {
    match v {
        Value::Int(d, Type::Duration) => Some(duration(*d)),
        Value::Time(t) => Some(t.go_string()),
        Value::Str(s, Type::Number | Type::Digest) => Some(s.to_string()),
        // `*units.Ulimit` and the like print through their `String` method, and so do named
        // numbers and strings that have one (`fs.FileMode`).
        Value::Ptr(Some(t), _) => super::methods::struct_string(t),
        Value::Int(..) | Value::Uint(..) | Value::Str(..) => super::methods::value_string(v),
        _ => None,
    }
}

fn print_value(v: &Value, verb: char, spec: Spec, depth: usize) -> String {
    if spec.sharp_v {
        return go_syntax(v, spec, depth);
    }
    if matches!(verb, 'v' | 's' | 'x' | 'X' | 'q')
        && let Some(s) = stringer(v)
    {
        return fmt_string(&s, verb, spec);
    }
    match v {
        Value::Invalid => match depth {
            0 => spec.pad("<invalid reflect.Value>", false),
            _ => "<invalid reflect.Value>".into(),
        },
        // A nil inside a slice, map or struct is `<nil>` whatever the verb, and not padded.
        Value::Nil if depth > 0 => "<nil>".into(),
        Value::Nil => match verb {
            'v' => spec.pad("<nil>", false),
            _ => bad_verb(v, verb, spec, depth),
        },
        Value::Bool(b) => match verb {
            't' | 'v' => spec.pad(if *b { "true" } else { "false" }, false),
            _ => bad_verb(v, verb, spec, depth),
        },
        Value::Int(i, _) => fmt_int(i128::from(*i), verb, spec).unwrap_or_else(|| bad_verb(v, verb, spec, depth)),
        Value::Uint(u, _) => fmt_int(i128::from(*u), verb, spec).unwrap_or_else(|| bad_verb(v, verb, spec, depth)),
        Value::Float(f) => fmt_float(*f, verb, spec).unwrap_or_else(|| bad_verb(v, verb, spec, depth)),
        Value::Complex(re, im) => fmt_complex(*re, *im, verb, spec).unwrap_or_else(|| bad_verb(v, verb, spec, depth)),
        Value::Str(s, _) => match verb {
            'v' | 's' | 'q' | 'x' | 'X' => fmt_string(s, verb, spec),
            _ => bad_verb(v, verb, spec, depth),
        },
        // A `[]byte` is a string to the string verbs.
        Value::Slice(items, Type::Slice(Type::Byte)) if matches!(verb, 's' | 'q' | 'x' | 'X') => {
            let bytes: Vec<u8> = items
                .iter()
                .flat_map(|i| i.iter())
                .map(|b| match b {
                    Value::Uint(u, _) => u8::try_from(*u).unwrap_or(0),
                    _ => 0,
                })
                .collect();
            if matches!(verb, 'x' | 'X') {
                let cut = spec.prec.map_or(bytes.as_slice(), |p| bytes.get(..p).unwrap_or(&bytes));
                spec.pad(&hex_bytes(cut, verb, spec), false)
            } else {
                fmt_string(&String::from_utf8_lossy(&bytes), verb, spec)
            }
        }
        Value::Slice(items, _) => {
            let parts: Vec<String> = items
                .iter()
                .flat_map(|i| i.iter())
                .map(|e| print_value(e, verb, spec, depth + 1))
                .collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Map(entries, _) => {
            // Keys are printed with the verb too: `%d` of a map is `map[%!d(string=k):...]`.
            let parts: Vec<String> = entries
                .iter()
                .flat_map(|m| m.iter())
                .map(|(k, e)| format!("{}:{}", print_key(k, verb, spec), print_value(e, verb, spec, depth + 1)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
        Value::Struct(fields, def) => {
            let parts: Vec<String> = fields
                .iter()
                .zip(def.fields.iter())
                .map(|(e, f)| {
                    let s = print_value(e, verb, spec, depth + 1);
                    if spec.plus_v { format!("{}:{s}", f.name) } else { s }
                })
                .collect();
            format!("{{{}}}", parts.join(" "))
        }
        Value::Ptr(target, _) => match (target, verb) {
            // At the top, a pointer to a composite prints as `&{...}`.
            (Some(t), _) if depth == 0 && matches!(**t, Value::Struct(..) | Value::Slice(..) | Value::Map(..)) => {
                format!("&{}", print_value(t, verb, spec, depth + 1))
            }
            (None, 'v') if depth > 0 => "<nil>".into(),
            (None, 'v') => spec.pad("<nil>", false),
            // Else Go prints the address, which no reimplementation can know (a fixed stand-in
            // here), with `%v` or as an integer (nil: 0); other verbs are bad verbs.
            (None, 'b' | 'o' | 'd' | 'x' | 'X') => fmt_int(0, verb, spec).unwrap_or_default(),
            (Some(_), 'b' | 'o' | 'd' | 'x' | 'X') => fmt_int(ADDRESS_VALUE, verb, spec).unwrap_or_default(),
            (Some(_), 'v') => spec.pad(ADDRESS, false),
            _ => match target {
                None => format!("%!{verb}({}=<nil>)", v.type_name()),
                Some(_) => format!("%!{verb}({}={ADDRESS})", v.type_name()),
            },
        },
        Value::Time(_) => bad_verb(v, verb, spec, depth),
    }
}

/// What stands for a pointer's address, which Go prints and no reimplementation can know.
const ADDRESS: &str = "0xc000000000";
const ADDRESS_VALUE: i128 = 0xc0_0000_0000;

/// A map key (always a string here) printed with the map's verb.
fn print_key(k: &str, verb: char, spec: Spec) -> String {
    match verb {
        'v' | 's' | 'q' | 'x' | 'X' => fmt_string(k, verb, spec),
        _ => format!("%!{verb}(string={})", fmt_string(k, 'v', spec)),
    }
}

/// `%#v`: the value as Go source text: `"a"`, `[]interface {}{"a"}`,
/// `map[string]string{"k":"v"}`, `v1.Platform{Architecture:"amd64", ...}`, `(*T)(nil)`.
/// Width, precision and the space and zero flags still apply to each scalar, as in `%v`.
fn go_syntax(v: &Value, spec: Spec, depth: usize) -> String {
    let plain = Spec {
        sharp_v: false,
        plus_v: false,
        ..spec
    };
    let list = |items: Vec<String>| items.join(", ");
    match v {
        Value::Invalid => "<invalid reflect.Value>".into(),
        // A nil interface inside a slice, map or struct (at the top, `<nil>`: `print_arg`).
        Value::Nil => "interface {}(nil)".into(),
        // Numbers without their `String` method: a time.Duration is its count of nanoseconds.
        Value::Bool(_) => print_value(v, 'v', plain, depth),
        Value::Int(i, _) => fmt_int(i128::from(*i), 'd', plain).unwrap_or_default(),
        Value::Float(f) => fmt_float(*f, 'v', plain).unwrap_or_default(),
        Value::Complex(re, im) => fmt_complex(*re, *im, 'v', plain).unwrap_or_default(),
        // Unsigned integers print in hex, `0x1f`.
        // (No `String` method here: `%#v` would take a `GoString` one only.)
        Value::Uint(u, _) => fmt_int(i128::from(*u), 'x', Spec { sharp: true, ..plain }).unwrap_or_default(),
        // json.Number and digest.Digest have no `GoString`: they print as the strings they are.
        Value::Str(s, _) => fmt_string(s, 'q', plain),
        Value::Time(t) => t.go_syntax(),
        Value::Slice(items, ty) => {
            // A `[]byte` at the top is named as `fmt` names it, deeper as `reflect` does.
            let name = match ty {
                Type::Slice(Type::Byte) if depth == 0 => "[]byte".to_string(),
                _ => ty.name(),
            };
            match items {
                None => format!("{name}(nil)"),
                Some(items) => {
                    let parts = items.iter().map(|e| go_syntax(e, spec, depth + 1)).collect();
                    format!("{name}{{{}}}", list(parts))
                }
            }
        }
        Value::Map(entries, ty) => match entries {
            None => format!("{}(nil)", ty.name()),
            Some(m) => {
                let parts = m
                    .iter()
                    .map(|(k, e)| format!("{}:{}", fmt_string(k, 'q', plain), go_syntax(e, spec, depth + 1)))
                    .collect();
                format!("{}{{{}}}", ty.name(), list(parts))
            }
        },
        Value::Struct(fields, def) => {
            let parts = fields
                .iter()
                .zip(def.fields.iter())
                .map(|(e, f)| format!("{}:{}", f.name, go_syntax(e, spec, depth + 1)))
                .collect();
            format!("{}{{{}}}", def.name, list(parts))
        }
        Value::Ptr(target, ty) => match target {
            None => format!("({})(nil)", ty.name()),
            Some(t) if depth == 0 && matches!(**t, Value::Struct(..) | Value::Slice(..) | Value::Map(..)) => {
                format!("&{}", go_syntax(t, spec, depth + 1))
            }
            Some(_) => format!("({})({ADDRESS})", ty.name()),
        },
    }
}

fn fmt_string(s: &str, verb: char, spec: Spec) -> String {
    // A precision cuts the input: in bytes for %x, in characters otherwise.
    let s = match spec.prec {
        Some(p) if verb == 'x' || verb == 'X' => {
            let b = super::gostr::bytes(s);
            super::gostr::from_bytes(b.get(..p).unwrap_or(&b))
        }
        Some(p) => s.chars().take(p).collect::<String>(),
        None => s.to_string(),
    };
    let body = match verb {
        'q' => {
            if spec.sharp && can_backquote(&s) {
                format!("`{s}`")
            } else {
                quote_with(&s, spec.plus)
            }
        }
        'x' | 'X' => hex_bytes(&super::gostr::bytes(&s), verb, spec),
        _ => s,
    };
    spec.pad(&body, false)
}

/// `%x` of a string: two hex digits a byte; `% x` spaces them, `%#x` prefixes `0x` (once, or
/// to each byte with a space).
fn hex_bytes(bytes: &[u8], verb: char, spec: Spec) -> String {
    let mut h = String::with_capacity(bytes.len() * 2);
    for (i, b) in bytes.iter().enumerate() {
        if spec.space && i > 0 {
            h.push(' ');
        }
        if spec.sharp && (spec.space || i == 0) {
            h.push_str(if verb == 'x' { "0x" } else { "0X" });
        }
        // Two digits from a table: a `format!` a byte hexed 6 MB a second.
        let digits: &[u8; 16] = if verb == 'x' {
            b"0123456789abcdef"
        } else {
            b"0123456789ABCDEF"
        };
        for d in [b >> 4, b & 0xf] {
            h.push(char::from(digits.get(usize::from(d)).copied().unwrap_or(b'0')));
        }
    }
    h
}

/// Go's `strconv.CanBackquote`: one line, no backquote, no control character but tab (nor
/// the byte order mark).
fn can_backquote(s: &str) -> bool {
    // Stray bytes (gostr) are no UTF-8: Go's CanBackquote refuses them.
    matches!(super::gostr::bytes(s), std::borrow::Cow::Borrowed(_))
        && !s
            .chars()
            .any(|c| c == '`' || (c < ' ' && c != '\t') || c == '\u{7f}' || c == '\u{feff}')
}

fn fmt_int(i: i128, verb: char, spec: Spec) -> Option<String> {
    let neg = i < 0;
    let a = i.unsigned_abs();
    let mut digits = match verb {
        'v' | 'd' => a.to_string(),
        'b' => format!("{a:b}"),
        'o' | 'O' => format!("{a:o}"),
        'x' => format!("{a:x}"),
        'X' => format!("{a:X}"),
        'c' => {
            let c = u32::try_from(i).ok().and_then(char::from_u32).unwrap_or('\u{fffd}');
            return Some(spec.pad(&c.to_string(), false));
        }
        'q' => {
            let c = u32::try_from(i).ok().and_then(char::from_u32).unwrap_or('\u{fffd}');
            return Some(spec.pad(&quote_rune(c, spec.plus), false));
        }
        'U' => {
            // A negative operand is its 64-bit two's complement, as Go's uint64 conversion.
            let u = if neg {
                (i as i64) as u64
            } else {
                u64::try_from(a).unwrap_or(u64::MAX)
            };
            // Padded by hand: a precision past u16 (`%.*U` with 70000) is Go's to print and
            // past what Rust's width takes (a fuzz crash: "Formatting argument out of range").
            let width = spec.prec.unwrap_or(0).max(4);
            let hex = format!("{u:X}");
            let mut s = String::from("U+");
            s.push_str(&"0".repeat(width.saturating_sub(hex.len())));
            s.push_str(&hex);
            if spec.sharp
                && let Some(c) = u32::try_from(u).ok().and_then(char::from_u32)
                && is_print(c)
            {
                s.push_str(&format!(" '{c}'"));
            }
            return Some(spec.pad(&s, false));
        }
        _ => return None,
    };
    let sign = if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    // The digits are at least the precision long; with the zero flag (and no precision) they
    // fill the width but for the sign, and a `0x` prefix comes on top (`%07O` of 1 is
    // `0o0000001`, `% 07x` is ` 000001`).
    let min_digits = match (spec.prec, spec.width) {
        (Some(p), _) => Some(p),
        (None, Some(w)) if spec.zero && !spec.minus => Some(w.saturating_sub(sign.len())),
        _ => None,
    };
    if spec.prec == Some(0) && a == 0 {
        // Nothing at all, not even a sign or a prefix; the width still pads.
        return Some(spec.pad("", false));
    }
    if let Some(p) = min_digits
        && digits.len() < p
    {
        digits = format!("{}{digits}", "0".repeat(p - digits.len()));
    }
    // `%#o` makes sure the number starts with a 0, and `%O` prefixes 0o to that.
    if spec.sharp && matches!(verb, 'o' | 'O') && !digits.starts_with('0') {
        digits.insert(0, '0');
    }
    let prefix = match verb {
        'O' => "0o",
        'x' if spec.sharp => "0x",
        'X' if spec.sharp => "0X",
        'b' if spec.sharp => "0b",
        _ => "",
    };
    Some(spec.pad(&format!("{sign}{prefix}{digits}"), false))
}

/// `%q` of a rune: `'x'`, Go-escaped (`'\n'`); `%+q` escapes all but ASCII (`'\u00e9'`).
fn quote_rune(c: char, ascii: bool) -> String {
    if c == '\'' {
        return "'\\''".into();
    }
    let q = quote_with(&c.to_string(), ascii);
    let inner = q.get(1..q.len().saturating_sub(1)).unwrap_or("").replace("\\\"", "\"");
    format!("'{inner}'")
}

fn fmt_float(f: f64, verb: char, spec: Spec) -> Option<String> {
    let prec = spec.prec.map_or(-1, |p| i32::try_from(p).unwrap_or(i32::MAX));
    let s = match verb {
        'v' => format_float(f, 'g', prec),
        'e' | 'E' | 'g' | 'G' => format_float(f, verb, if matches!(verb, 'e' | 'E') && prec < 0 { 6 } else { prec }),
        'f' | 'F' => format_float(f, 'f', if prec < 0 { 6 } else { prec }),
        'x' | 'X' => hex_float(f, verb == 'X', spec.prec),
        'b' => binary_float(f),
        _ => return None,
    };
    let s = if spec.sharp && verb != 'b' && f.is_finite() {
        alternate_float(s, verb, prec)
    } else {
        s
    };
    let s = if spec.plus && !s.starts_with(['-', '+']) {
        format!("+{s}")
    } else if spec.space && !s.starts_with(['-', '+']) {
        format!(" {s}")
    } else if s.starts_with('+') && !spec.plus {
        // `+Inf` keeps its sign only with `+`; with a space it is ` Inf`.
        if spec.space {
            format!(" {}", s.get(1..).unwrap_or(""))
        } else {
            s
        }
    } else {
        s
    };
    Some(spec.pad(&s, f.is_finite()))
}

/// `%#e`, `%#f`, `%#g`, `%#x`: the mantissa always has a point, and `%#g` (`%#v` of a bad
/// verb) and `%#x` keep trailing zeros up to the precision (6 when none is given) in
/// significant digits. Go counts the `x` of a hex float's `0x` as one (`%#x` of 1.0 is
/// `0x1.0000p+00`), and a zero as one digit (`%#g` of 0.0 is `0.00000`).
fn alternate_float(s: String, verb: char, prec: i32) -> String {
    let exp_marks: &[char] = match verb {
        'x' | 'X' => &['p', 'P'],
        _ => &['e', 'E'],
    };
    let (mant, exp) = match s.find(exp_marks) {
        Some(i) => s.split_at(i),
        None => (s.as_str(), ""),
    };
    let mut mant = mant.to_string();
    if !mant.contains('.') {
        mant.push('.');
    }
    if matches!(verb, 'v' | 'g' | 'G' | 'x') {
        let want = if prec < 0 {
            6
        } else {
            usize::try_from(prec).unwrap_or(0)
        };
        let body = mant.trim_start_matches(['-', '+']);
        let significant = body.trim_start_matches(['0', '.']);
        let have = if significant.is_empty() {
            1
        } else {
            significant.chars().filter(|c| *c != '.').count()
        };
        if have < want {
            mant.push_str(&"0".repeat(want - have));
        }
    }
    format!("{mant}{exp}")
}

/// A float's IEEE 754 fields: its sign as printed (`-` or nothing), its biased exponent (0
/// for zero and subnormals) and its 52 fraction bits.
fn float_fields(f: f64) -> (&'static str, i32, u64) {
    let bits = f.to_bits();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    // 11 bits: always fits.
    let raw_exp = i32::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    (sign, raw_exp, bits & ((1u64 << 52) - 1))
}

/// `%x` of a float: `0x1.8p+00`, the mantissa's hex digits (all that are needed, or
/// `prec` of them, rounded to even) and the power of two, at least two digits.
fn hex_float(f: f64, upper: bool, prec: Option<usize>) -> String {
    if !f.is_finite() {
        return format_float(f, 'g', -1);
    }
    let (sign, raw_exp, frac) = float_fields(f);
    // The value as 1.m × 2^exp, with m 52 bits (a subnormal is normalized first).
    let (mut mant, mut exp) = if raw_exp == 0 {
        if frac == 0 {
            (0u64, 0i32)
        } else {
            let shift = frac.leading_zeros() - 11;
            (
                (frac << shift) & ((1u64 << 52) - 1) | (1u64 << 52),
                -1022 - i32::try_from(shift).unwrap_or(0),
            )
        }
    } else {
        (frac | (1u64 << 52), raw_exp - 1023)
    };
    // 13 hex digits follow the point; round to `prec` of them.
    let mut digits = 13usize;
    if let Some(p) = prec
        && p < 13
    {
        let drop = 4 * u32::try_from(13 - p).unwrap_or(0);
        let half = 1u64 << (drop - 1);
        let rest = mant & ((1u64 << drop) - 1);
        mant >>= drop;
        if rest > half || (rest == half && mant & 1 == 1) {
            mant += 1;
        }
        if mant >> (4 * p) >= 2 {
            // 1.f…f rounded up to 2.0
            mant >>= 1;
            exp += 1;
        }
        digits = p;
    }
    let lead = mant >> (4 * digits);
    let mut frac_hex = if digits == 0 {
        String::new()
    } else {
        format!("{:0w$x}", mant & ((1u64 << (4 * digits)) - 1), w = digits)
    };
    match prec {
        None => {
            let t = frac_hex.trim_end_matches('0').len();
            frac_hex.truncate(t);
        }
        Some(p) if p > 13 => frac_hex.push_str(&"0".repeat(p - 13)),
        Some(_) => {}
    }
    let point = if frac_hex.is_empty() { "" } else { "." };
    let esign = if exp < 0 { '-' } else { '+' };
    let s = format!("{sign}0x{lead}{point}{frac_hex}p{esign}{:02}", exp.unsigned_abs());
    if upper { s.to_uppercase() } else { s }
}

/// `%b` of a float: the 53-bit integer mantissa and its power of two, `4503599627370496p-52`.
fn binary_float(f: f64) -> String {
    if !f.is_finite() {
        return format_float(f, 'g', -1);
    }
    let (sign, raw_exp, frac) = float_fields(f);
    let (mant, exp) = if raw_exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), raw_exp - 1075)
    };
    let esign = if exp < 0 { '-' } else { '+' };
    format!("{sign}{mant}p{esign}{}", exp.unsigned_abs())
}

/// A complex number, `(1+2i)`: both parts printed with the verb and flags, the imaginary one
/// always signed.
fn fmt_complex(re: f64, im: f64, verb: char, spec: Spec) -> Option<String> {
    if !matches!(verb, 'v' | 'b' | 'g' | 'G' | 'x' | 'X' | 'f' | 'F' | 'e' | 'E') {
        return None;
    }
    let r = fmt_float(re, verb, spec)?;
    let i = fmt_float(im, verb, Spec { plus: true, ..spec })?;
    Some(format!("({r}{i}i)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    /// A width applied to every element (review: `%999999v` of a container's 4,000 Args took
    /// 15.8 GB before the 64 MiB check on the result): refused before it is made.
    #[test]
    fn a_width_times_the_elements_past_the_limit_is_refused() {
        let items: Vec<Value> = (0..100).map(|i| Value::string(&i.to_string())).collect();
        let slice = Value::Slice(Some(std::rc::Rc::new(items)), &crate::template::value::SLICE_STRING);
        let e = sprintf_within("%999999v", std::slice::from_ref(&slice), 64 << 20).unwrap_err();
        assert_eq!(e, "result exceeds 64 MiB");
        let ok = sprintf_within("%3v", std::slice::from_ref(&slice), 64 << 20).unwrap();
        assert!(ok.starts_with("[  0   1 "), "{ok}");
        assert_eq!(
            sprintf_within("%.999999d", &[Value::int(1)], 64 << 20).unwrap().len(),
            999_999
        );
        // A bad verb prints its operand with the precision, and `#` keeps a float's zeros:
        // 100 floats under `%#.999999c` would be 100 MB. A precision only cuts strings.
        let floats: Vec<Value> = (0..100).map(|i| Value::Float(f64::from(i))).collect();
        let floats = Value::Slice(Some(std::rc::Rc::new(floats)), &crate::template::value::SLICE_ANY);
        let e = sprintf_within("%#.999999c", std::slice::from_ref(&floats), 64 << 20).unwrap_err();
        assert_eq!(e, "result exceeds 64 MiB");
        assert!(sprintf_within("%.999999s", std::slice::from_ref(&slice), 64 << 20).is_ok());
        // A complex is two numbers, each padded.
        let c = Value::Complex(0.0, 1.0);
        assert!(sprintf_within("%600000v", std::slice::from_ref(&c), 1 << 20).is_err());
        assert_eq!(sprintf_within("%400000v", &[c], 1 << 20).unwrap().len(), 800_003);
    }

    /// `*` widths and precisions and explicit argument indexes, with their error forms. Each
    /// expected string is what `fmt.Sprintf` printed for the same format and arguments (go1.19,
    /// whose `doPrintf` is the current one for these).
    #[test]
    fn printf_star_and_argument_indexes_like_go() {
        let i = Value::int;
        let s = Value::string;
        let cases: &[(&str, Vec<Value>, &str)] = &[
            ("%*d|", vec![i(5), i(1)], "    1|"),
            ("%[1]d %[1]d", vec![i(7)], "7 7"),
            ("%.*f", vec![i(2), Value::Float(1.23456)], "1.23"),
            ("%999999999d", vec![i(1)], "%!(NOVERB)%!(EXTRA int=1)"),
            ("%[2]*[1]d|", vec![i(12), i(5)], "   12|"),
            ("%*d|", vec![i(-5), i(1)], "1    |"),
            ("%0*d|", vec![i(-5), i(1)], "1    |"),
            ("%*d", vec![s("x"), i(1)], "%!(BADWIDTH)1"),
            ("%*d", vec![i(1_000_001), i(1)], "%!(BADWIDTH)1"),
            ("%.*d", vec![i(-1), i(1)], "%!(BADPREC)1"),
            ("%.*d", vec![i(1_000_001), i(1)], "%!(BADPREC)1"),
            ("%[3]d", vec![i(1), i(2)], "%!d(BADINDEX)"),
            ("%[0]d", vec![i(1)], "%!d(BADINDEX)"),
            ("%[x]d", vec![i(1)], "%!d(BADINDEX)"),
            ("%[1]2d", vec![i(1)], "%!d(BADINDEX)"),
            ("%[1].2d", vec![i(1)], "%!d(BADINDEX)"),
            ("%[2]d %d", vec![i(1), i(2)], "2 %!d(MISSING)"),
            ("%d %d %[1]d", vec![i(1), i(2)], "1 2 1"),
            ("%[1]d", vec![i(1), i(2)], "1"),
            ("%*d", vec![i(5)], "%!d(MISSING)"),
            ("%*d", vec![], "%!(BADWIDTH)%!d(MISSING)"),
            ("%[", vec![i(1)], "%!(NOVERB)"),
            ("%[12d", vec![i(1)], "%!d(BADINDEX)"),
            ("%[1]*d", vec![i(3), i(4)], "  4"),
            ("%[3]*.[2]*[1]f", vec![Value::Float(12.0), i(2), i(6)], " 12.00"),
            ("%.*s|%-*s|", vec![i(2), s("abc"), i(3), s("€")], "ab|€  |"),
            ("%12345678d", vec![i(1)], "%!(NOVERB)%!(EXTRA int=1)"),
            ("%.12345678d", vec![i(1)], "%!(NOVERB)%!(EXTRA int=1)"),
            ("%d %[2]d %d", vec![i(1), i(2), i(3)], "1 2 3"),
            ("%[2]d%%%[1]d", vec![i(1), i(2)], "2%1"),
            ("%[1]*.*d|", vec![i(4), i(2), i(7)], "  07|"),
            ("%*.*d|", vec![i(5), s("p"), i(7)], "%!(BADPREC)    7|"),
            ("%d %d", vec![i(1), i(2), i(3), s("x")], "1 2%!(EXTRA int=3, string=x)"),
            ("%[2]d %d", vec![i(1), i(2), i(3)], "2 3"),
        ];
        for (format, args, go) in cases {
            assert_eq!(sprintf(format, args), *go, "{format}");
        }
        // A width written in the format is read up to Go's limit and then applied (Go printed
        // 1000001 and 10000009 bytes); one from `*` stops at a million (above).
        assert_eq!(sprintf("%1000001d", &[i(1)]).len(), 1_000_001);
        assert_eq!(sprintf("%10000009d", &[i(1)]).len(), 10_000_009);
        assert_eq!(sprintf("%*d", &[i(1_000_000), i(1)]).len(), 1_000_000);
        // Bounded by the caller's limit before anything is made.
        assert!(sprintf_within("%10000009d", &[i(1)], 1 << 20).is_err());
    }

    #[test]
    fn floats_like_go() {
        assert_eq!(format_float(1234567.0, 'g', -1), "1.234567e+06");
        assert_eq!(format_float(123456.0, 'g', -1), "123456");
        assert_eq!(format_float(1500.0, 'g', -1), "1500");
        assert_eq!(format_float(0.0001, 'g', -1), "0.0001");
        assert_eq!(format_float(0.00001, 'g', -1), "1e-05");
        assert_eq!(format_float(1.23456, 'f', 2), "1.23");
        assert_eq!(format_float(1.23456, 'e', 6), "1.234560e+00");
        assert_eq!(json_float(1e21), "1e+21");
        assert_eq!(json_float(1e-7), "1e-7");
        assert_eq!(json_float(1500.0), "1500");
        assert_eq!(json_float(0.5), "0.5");
    }

    /// A float's precision past 65535, the most Rust's `format!` takes (it panicked, exit 101):
    /// Go allows up to a million, and the digits past a float's exact decimal are zeros. Each
    /// expected string is what go1.19's `text/template` printed for the same `printf` (by
    /// parts: the digits Go printed, how many zeros followed them, and what came after).
    #[test]
    fn float_precisions_past_u16_like_go() {
        let f = Value::Float;
        let z = |n: usize| "0".repeat(n);
        let tiny = "4.940656458412465441765687928682213723650598026143247644255856825006755072702087518652998363616359923797965646954457177309266567103559397963987747960107818781263007131903114045278458171678489821036887186360569987307230500063874091535649843873124733972731696151400317153853980741262385655911710266585566867681870395603106249319452715914924553293054565444011274801297099995419319894090804165633245247571478690147267801593552386115501348035264934720193790268107107491703332226844753335720832431936092382893458368060106011506169809753078342277318329247904982524730776375927247874656084778203734469699533647017972677717585125660551199131504891101451037862738167250955837389733598993664809941164205702637090279242767544565229087538682506419718265533447265625";
        let e300 = "1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160";
        let cases: Vec<(&str, Vec<Value>, String)> = vec![
            ("%.65536f", vec![f(1.5)], format!("1.5{}", z(65535))),
            ("%.*f", vec![Value::int(65536), f(1.5)], format!("1.5{}", z(65535))),
            ("%.70000e", vec![f(1.5)], format!("1.5{}e+00", z(69999))),
            ("%.70000E", vec![f(-2.5)], format!("-2.5{}E+00", z(69999))),
            ("%.70000g", vec![f(1.5)], "1.5".into()),
            ("%.70000v", vec![f(1.5)], "1.5".into()),
            ("%.70000G", vec![f(1e300)], e300.into()),
            ("%.70000f", vec![f(1e300)], format!("{e300}.{}", z(70000))),
            (
                "%.70000f",
                vec![f(0.1)],
                format!("0.1000000000000000055511151231257827021181583404541015625{}", z(69945)),
            ),
            ("%.70000e", vec![f(5e-324)], format!("{tiny}{}e-324", z(69250))),
            ("%.70000g", vec![f(5e-324)], format!("{tiny}e-324")),
            (
                "%.70000g",
                vec![f(0.1)],
                "0.1000000000000000055511151231257827021181583404541015625".into(),
            ),
            ("%+080.65540f", vec![f(2.0)], format!("+2.{}", z(65540))),
            ("%.65536e", vec![f(0.0)], format!("0.{}e+00", z(65536))),
            ("%.65536f", vec![f(0.0)], format!("0.{}", z(65536))),
        ];
        for (format, args, go) in &cases {
            assert_eq!(&sprintf(format, args), go, "{format}");
        }
        // Go printed 1000002 and 10000011 bytes: a million from `*`, more written in the format.
        assert_eq!(sprintf("%.*f", &[Value::int(1_000_000), f(1.0)]).len(), 1_000_002);
        assert_eq!(sprintf("%.10000009f", &[f(1.0)]).len(), 10_000_011);
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(duration(30_000_000_000), "30s");
        assert_eq!(duration(90_500_000_000), "1m30.5s");
        assert_eq!(duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(duration(1_500_000), "1.5ms");
        assert_eq!(duration(-2), "-2ns");
    }

    #[test]
    fn printf_like_go() {
        let n = Value::Str(Rc::from("7292"), &Type::Number);
        assert_eq!(sprintf("%d", std::slice::from_ref(&n)), "%!d(json.Number=7292)");
        assert_eq!(sprintf("%s", &[n]), "7292");
        assert_eq!(
            sprintf(
                "%5.2f|%x|%-6s|%t",
                &[
                    Value::Float(1.23456),
                    Value::int(255),
                    Value::string("linux"),
                    Value::Bool(true)
                ]
            ),
            " 1.23|ff|linux |true"
        );
        assert_eq!(sprintf("%d %d", &[Value::int(1)]), "1 %!d(MISSING)");
        assert_eq!(
            sprintf("%d", &[Value::int(1), Value::string("x")]),
            "1%!(EXTRA string=x)"
        );
        assert_eq!(sprintf("%q", &[Value::string("a\"b\n")]), "\"a\\\"b\\n\"");
        assert_eq!(
            sprint_within(
                &[Value::string("a"), Value::int(1), Value::int(2), Value::string("b")],
                64
            )
            .unwrap(),
            "a1 2b"
        );
        // The kind counts, not the type: no space next to a json.Number or a digest.Digest.
        // go1.19 printed `69976997` and `1 2a3557false <nil> 4` for `print` of these.
        let n = |s: &str| Value::Str(Rc::from(s), &Type::Number);
        assert_eq!(sprint_within(&[n("6997"), n("6997")], 64).unwrap(), "69976997");
        let args = [
            Value::int(1),
            Value::int(2),
            Value::string("a"),
            Value::int(3),
            n("557"),
            Value::Bool(false),
            Value::Nil,
            Value::int(4),
        ];
        assert_eq!(sprint_within(&args, 64).unwrap(), "1 2a3557false <nil> 4");
        let d = Value::Str(Rc::from("sha256:4eff"), &Type::Digest);
        assert_eq!(sprint_within(&[Value::int(20505), d], 64).unwrap(), "20505sha256:4eff");
    }

    fn json(text: &str) -> Value {
        Value::from_json_str(text, crate::template::value::Numbers::JsonNumber).unwrap()
    }

    /// fmt's corners: a bad verb keeps the width, precision and flags on its operand, map keys
    /// get the verb, `%w` is one bad verb, `%+v`/`%#O`/zero padding of integers. Each expected
    /// string is what Go 1.19.8's text/template (docker's funcs) printed for the same `printf`
    /// on the same values (the map is an image listing row's `.target.annotations`).
    #[test]
    fn verbs_flags_and_bad_verbs_like_go() {
        let ann = json(
            r#"{"io.containerd.image.name":"docker.io/lab/special:1.0","org.opencontainers.image.ref.name":"1.0"}"#,
        );
        let s = Value::string;
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("%10U", vec![s("A")], "%!U(string=         A)"),
            ("%.2U", vec![s("docker")], "%!U(string=do)"),
            ("%+c", vec![Value::Float(1.5)], "%!c(float64=+1.5)"),
            (
                "%#c|%#t",
                vec![Value::Float(1.5), Value::Float(1.5)],
                "%!c(float64=1.50000)|%!t(float64=1.50000)",
            ),
            (
                "%d",
                vec![ann.clone()],
                "map[%!d(string=io.containerd.image.name):%!d(string=docker.io/lab/special:1.0) %!d(string=org.opencontainers.image.ref.name):%!d(string=1.0)]",
            ),
            (
                "%x",
                vec![ann.clone()],
                "map[696f2e636f6e7461696e6572642e696d6167652e6e616d65:646f636b65722e696f2f6c61622f7370656369616c3a312e30 6f72672e6f70656e636f6e7461696e6572732e696d6167652e7265662e6e616d65:312e30]",
            ),
            (
                "%w|%10w|%w",
                vec![ann, Value::int(3), Value::Nil],
                "%!w(map[string]interface {}=map[io.containerd.image.name:docker.io/lab/special:1.0 org.opencontainers.image.ref.name:1.0])|%!w(int=         3)|%!w(<nil>)",
            ),
            (
                "%+v|%+d|% v|%#O|%07O|% 07x|%.0d|%5.0x",
                vec![3, 3, 3, 1, 1, 1, 0, 0].into_iter().map(Value::int).collect(),
                "3|+3| 3|0o01|0o0000001| 000001||     ",
            ),
            (
                "%#U|%.6U|%#U|%#U|%#U",
                vec![
                    Value::int(-1),
                    Value::int(65),
                    Value::int(10),
                    Value::int(0x1F600),
                    Value::int(65),
                ],
                "U+FFFFFFFFFFFFFFFF|U+000041|U+000A|U+1F600 '😀'|U+0041 'A'",
            ),
            (
                "%+q|%#+q|%+q|%#q|%+q|%#q|%#q",
                vec![
                    s("é😀"),
                    s("é"),
                    Value::int(233),
                    Value::int(233),
                    s("a\u{ff}b"),
                    s("a\u{85}b"),
                    s("a\u{7f}b"),
                ],
                "\"\\u00e9\\U0001f600\"|`é`|'\\u00e9'|'é'|\"a\\u00ffb\"|`a\u{85}b`|\"a\\x7fb\"",
            ),
            (
                "%.0x|%.1x|%.2T|%8T",
                vec![s("abc"), s("abc"), s("x"), s("x")],
                "|61|st|  string",
            ),
            // A nil inside a slice is `<nil>` with any verb, unpadded.
            (
                "%d|%7d|%-7x|%7q",
                vec![json(r#"[null,"a",1.5,true]"#); 4],
                "[<nil> %!d(string=a) %!d(json.Number=1.5) %!d(bool=true)]|[<nil> %!d(string=      a) %!d(json.Number=    1.5) %!d(bool=   true)]|[<nil> 61      312e35  %!x(bool=true   )]|[<nil>     \"a\"   \"1.5\" %!q(bool=   true)]",
            ),
        ];
        for (format, args, go) in &cases {
            assert_eq!(&sprintf(format, args), go, "{format}");
        }
    }

    /// Floats in hex and binary, and `#` keeping zeros and the point. Expected strings from Go
    /// 1.19.8's `printf` in text/template.
    #[test]
    fn float_hex_binary_and_alternate_forms_like_go() {
        let f = Value::Float;
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            (
                "%x|%X|%b|%#x|%.2x|%.0x|%12.3x|%+x|%x|%x|%x",
                vec![
                    f(1.5),
                    f(1.5),
                    f(1.5),
                    f(1.5),
                    f(1.0),
                    f(1.5),
                    f(3.1),
                    f(1.5),
                    f(0.0),
                    f(1e21),
                    f(-0.1),
                ],
                "0x1.8p+00|0X1.8P+00|6755399441055744p-52|0x1.8000p+00|0x1.00p+00|0x1p+01| 0x1.8cdp+01|+0x1.8p+00|0x0p+00|0x1.b1ae4d6e2ef5p+69|-0x1.999999999999ap-04",
            ),
            (
                "%b|%b|%b",
                vec![f(0.0), f(5e-324), f(-2.0)],
                "0p-1074|1p-1074|-4503599627370496p-51",
            ),
            (
                "%x|%x",
                vec![f(5e-324), f(1.7976931348623157e308)],
                "0x1p-1074|0x1.fffffffffffffp+1023",
            ),
            (
                "%012x|%012X|% 012x",
                vec![f(1.5), f(-1.5), f(1.0)],
                "0000x1.8p+00|-000X1.8P+00| 00000x1p+00",
            ),
            (
                "%#g|%#g|%#g|%#g|%#.0g|%#.0e|%#.0f|%#e|%#g|%#G",
                vec![
                    f(1.0),
                    f(1.5),
                    f(1.2345678),
                    f(1e21),
                    f(1.0),
                    f(1.0),
                    f(1.0),
                    f(1.0),
                    f(0.0),
                    f(1e-7),
                ],
                "1.00000|1.50000|1.2345678|1.00000e+21|1.|1.e+00|1.|1.000000e+00|0.00000|1.00000E-07",
            ),
            (
                "%#g|%#g|%#g|%#g|%#g|%#g|%#g",
                vec![
                    f(123456789.0),
                    f(1234567.0),
                    f(0.000012345),
                    f(100000.0),
                    f(1e6),
                    f(0.0001),
                    f(12.0),
                ],
                "1.23456789e+08|1.234567e+06|1.23450e-05|100000.|1.00000e+06|0.000100000|12.0000",
            ),
            (
                "%#x|%#x|%#x|%#.3x|%#.0x|%#x|%#x|%#X",
                vec![f(1.0), f(0.0), f(1.25), f(1.0), f(1.0), f(0.1), f(3.0), f(1.5)],
                "0x1.0000p+00|0x0.0000p+00|0x1.4000p+00|0x1.000p+00|0x1.p+00|0x1.999999999999ap-04|0x1.8000p+01|0X1.8P+00",
            ),
            (
                "%#.3g|%#g|%#x|%#x|%#g|%#.3g|%#.5e|%#v|%#x",
                vec![
                    f(0.0),
                    f(0.001),
                    f(1.625),
                    f(-1.6875),
                    f(-0.0),
                    f(0.05),
                    f(0.0),
                    f(0.0),
                    f(-0.0),
                ],
                "0.00|0.00100000|0x1.a000p+00|-0x1.b000p+00|-0.00000|0.0500|0.00000e+00|0|-0x0.0000p+00",
            ),
            (
                "%#7.2g|%#-9g|%#+g|%#08g|%#+x",
                vec![f(1.0), f(1.0), f(1.0), f(-1.0), f(1.0)],
                "    1.0|1.00000  |+1.00000|-1.00000|+0x1.0000p+00",
            ),
            (
                "%+ 07v|%#0 9.3d",
                vec![f(1.5), f(1.5)],
                " 0001.5|%!d(float64= 00001.50)",
            ),
        ];
        for (format, args, go) in &cases {
            assert_eq!(&sprintf(format, args), go, "{format}");
        }
    }

    /// `%#v`, Go syntax, of the raw (untyped) model and of typed values. Expected strings from
    /// Go 1.19.8: `printf` in text/template on a listing row, and on docker's
    /// `image.InspectResponse` decoded from an inspect body.
    #[test]
    fn go_syntax_like_go() {
        use crate::template::value::{FieldDef, SLICE_STRING, StructDef};
        let row = json(r#"{"labels":{},"n":7292,"ok":true,"p":["linux/amd64"],"z":null}"#);
        assert_eq!(
            sprintf("%#v", std::slice::from_ref(&row)),
            r#"map[string]interface {}{"labels":map[string]interface {}{}, "n":"7292", "ok":true, "p":[]interface {}{"linux/amd64"}, "z":interface {}(nil)}"#
        );
        let p = json(r#"["linux/amd64"]"#);
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            (
                "%#v|%#5v|%#.3v",
                vec![Value::string("a\"b\tc"), Value::string("x"), Value::string("abcdef")],
                "\"a\\\"b\\tc\"|  \"x\"|\"abc\"",
            ),
            (
                "%#+v|%#.2v|%#v",
                vec![p.clone(), p, Value::string("`")],
                "[]interface {}{\"linux/amd64\"}|[]interface {}{\"li\"}|\"`\"",
            ),
            (
                "%#v|%#v|%#v|%#v|%#v|%#v|%#v|%#v",
                vec![
                    Value::int(1),
                    Value::Float(1.0),
                    Value::Float(1.5),
                    Value::Float(1e21),
                    Value::Bool(true),
                    Value::Nil,
                    Value::Str(Rc::from("557"), &Type::Number),
                    Value::int(65),
                ],
                "1|1|1.5|1e+21|true|<nil>|\"557\"|65",
            ),
            (
                "%#v|%#v|%#v|%#v",
                vec![
                    Value::Float(1e-7),
                    Value::Float(-0.0),
                    Value::Float(100000.0),
                    Value::Float(1e6),
                ],
                "1e-07|-0|100000|1e+06",
            ),
            (
                "%#08v|%#+8v|%# v",
                vec![Value::Float(1.5), Value::Float(1.5), Value::Float(1.5)],
                "000001.5|     1.5| 1.5",
            ),
            (
                "%#5v|%#05v|%#-5v|%#+v|%# v",
                vec![3, 3, 3, 3, 3].into_iter().map(Value::int).collect(),
                "    3|00003|3    |3| 3",
            ),
        ];
        for (format, args, go) in &cases {
            assert_eq!(&sprintf(format, args), go, "{format}");
        }
        // Typed: image inspect's `[]string`, a nil map, a struct, a nil pointer, a time.
        static STR_MAP: Type = Type::Map(&Type::String, &crate::template::value::STRING);
        static DRIVER: StructDef = StructDef {
            name: "storage.DriverData",
            fields: &[
                FieldDef::new("Data", &STR_MAP),
                FieldDef::new("Name", &crate::template::value::STRING),
            ],
            methods: &[],
        };
        static PLATFORM: StructDef = StructDef {
            name: "v1.Platform",
            fields: &[],
            methods: &[],
        };
        static PLATFORM_T: Type = Type::Struct(&PLATFORM);
        static PLATFORM_PTR: Type = Type::Ptr(&PLATFORM_T);
        let tags = Value::Slice(Some(Rc::new(vec![Value::string("lab/special:1.0")])), &SLICE_STRING);
        let driver = Value::Struct(
            Rc::new(vec![Value::Map(None, &STR_MAP), Value::string("overlayfs")]),
            &DRIVER,
        );
        let time =
            Value::Time(crate::template::value::GoTime::parse_rfc3339("2026-11-27T17:36:52.660125412Z").unwrap());
        let local =
            Value::Time(crate::template::value::GoTime::parse_rfc3339("2024-05-06T07:08:09.123456789+05:30").unwrap());
        assert_eq!(
            sprintf(
                "%#v|%#v|%#v|%#v|%#v|%#v",
                &[
                    tags,
                    driver,
                    Value::Ptr(None, &PLATFORM_PTR),
                    Value::Map(None, &STR_MAP),
                    time,
                    local
                ]
            ),
            "[]string{\"lab/special:1.0\"}|storage.DriverData{Data:map[string]string(nil), Name:\"overlayfs\"}|(*v1.Platform)(nil)|map[string]string(nil)|time.Date(2026, time.November, 27, 17, 36, 52, 660125412, time.UTC)|time.Date(2024, time.May, 6, 7, 8, 9, 123456789, time.Location(\"\"))"
        );
        static BYTES: Type = Type::Slice(&Type::Byte);
        let bytes = Value::Slice(None, &BYTES);
        assert_eq!(sprintf("%#v", &[bytes]), "[]byte(nil)");
        // A nil `[]byte` and a nil pointer in a struct, with the string verbs, an integer verb
        // and others, as Go printed a v1.Descriptor's `Data` and `Platform`.
        static DESC: StructDef = StructDef {
            name: "v1.Descriptor",
            fields: &[FieldDef::new("Data", &BYTES), FieldDef::new("Platform", &PLATFORM_PTR)],
            methods: &[],
        };
        let desc = Value::Struct(
            Rc::new(vec![Value::Slice(None, &BYTES), Value::Ptr(None, &PLATFORM_PTR)]),
            &DESC,
        );
        let five: Vec<Value> = (0..5).map(|_| desc.clone()).collect();
        assert_eq!(
            sprintf("%s|%x|%q|%t|%v", &five),
            "{ %!s(*v1.Platform=<nil>)}|{ 0}|{\"\" %!q(*v1.Platform=<nil>)}|{[] %!t(*v1.Platform=<nil>)}|{[] <nil>}"
        );
        // A time.Duration in Go syntax is its nanoseconds (`Interval:30000000000`).
        assert_eq!(
            sprintf(
                "%#v|%v",
                &[
                    Value::Int(30_000_000_000, &Type::Duration),
                    Value::Int(30_000_000_000, &Type::Duration)
                ]
            ),
            "30000000000|30s"
        );
    }
}
