//! Go's `regexp` syntax (RE2, as `regexp.Compile` takes it) on the `regex` crate: containerd's
//! `~=` compiles its value with Go's package, so a pattern means here what it means there.
//!
//! The two engines share RE2's semantics (leftmost-first, `(?i)` by Unicode simple case
//! folding, `.` not matching `\n`, `$` only at the end without `(?m)`); where their syntax
//! differs the pattern is rewritten, token by token, into one the crate reads the way Go does:
//!
//! - `\Q...\E` (Go) is a run of literals;
//! - `\d \D \s \S \w \W` and `\b \B` are ASCII in Go (`\s` is `[\t\n\f\r ]`, without `\v`),
//!   Unicode in the crate;
//! - a character class is Go's: `[` inside one is a literal (the crate nests classes), `&&`,
//!   `--`, `~~` are literals (the crate's set operations);
//! - escapes are Go's: `\123` and `\0` octal, `\x{...}`, `\a \f \t \n \r \v`, a backslash
//!   before ASCII punctuation; `\u`, `\<`, `\Z` and any other are errors, as in Go;
//! - `\p{Name}` takes Go 1.19's names only (its Unicode 13 general categories, `Any` and
//!   scripts, spelled exactly: `\p{greek}` is an error); a script is the Script property (the
//!   crate's bare `\p{Greek}` is Script_Extensions) and `\p{C}` is Go's `Cc|Cf|Co|Cs`;
//! - `{` that starts no valid repetition is a literal; a count over 1000 and stacked
//!   repetitions (`a**`, `a{2}*`) are errors;
//! - named groups are `(?P<name>...)` only, as Go before 1.22 (containerd 1.6 is built with Go
//!   1.19: `(?<name>...)` does not compile there); flags are `i`, `m`, `s`, `U`.
//!
//! What still differs: the crate's Unicode tables are newer than Go 1.19's (Unicode 13), so a
//! character assigned since may be in a class here and not there; a pattern past the crate's
//! size (10 MiB compiled) or nesting (250) limits does not compile here. A pattern that does
//! not compile is `None`: containerd's selector then matches nothing.

use std::fmt::Write;

/// Go's general categories (`unicode.Categories`, Go 1.19).
const CATEGORIES: [&str; 36] = [
    "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N", "Nd", "Nl", "No", "P",
    "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs",
];

/// Go's scripts (`unicode.Scripts`, Go 1.19, Unicode 13.0.0).
const SCRIPTS: [&str; 156] = [
    "Adlam",
    "Ahom",
    "Anatolian_Hieroglyphs",
    "Arabic",
    "Armenian",
    "Avestan",
    "Balinese",
    "Bamum",
    "Bassa_Vah",
    "Batak",
    "Bengali",
    "Bhaiksuki",
    "Bopomofo",
    "Brahmi",
    "Braille",
    "Buginese",
    "Buhid",
    "Canadian_Aboriginal",
    "Carian",
    "Caucasian_Albanian",
    "Chakma",
    "Cham",
    "Cherokee",
    "Chorasmian",
    "Common",
    "Coptic",
    "Cuneiform",
    "Cypriot",
    "Cyrillic",
    "Deseret",
    "Devanagari",
    "Dives_Akuru",
    "Dogra",
    "Duployan",
    "Egyptian_Hieroglyphs",
    "Elbasan",
    "Elymaic",
    "Ethiopic",
    "Georgian",
    "Glagolitic",
    "Gothic",
    "Grantha",
    "Greek",
    "Gujarati",
    "Gunjala_Gondi",
    "Gurmukhi",
    "Han",
    "Hangul",
    "Hanifi_Rohingya",
    "Hanunoo",
    "Hatran",
    "Hebrew",
    "Hiragana",
    "Imperial_Aramaic",
    "Inherited",
    "Inscriptional_Pahlavi",
    "Inscriptional_Parthian",
    "Javanese",
    "Kaithi",
    "Kannada",
    "Katakana",
    "Kayah_Li",
    "Kharoshthi",
    "Khitan_Small_Script",
    "Khmer",
    "Khojki",
    "Khudawadi",
    "Lao",
    "Latin",
    "Lepcha",
    "Limbu",
    "Linear_A",
    "Linear_B",
    "Lisu",
    "Lycian",
    "Lydian",
    "Mahajani",
    "Makasar",
    "Malayalam",
    "Mandaic",
    "Manichaean",
    "Marchen",
    "Masaram_Gondi",
    "Medefaidrin",
    "Meetei_Mayek",
    "Mende_Kikakui",
    "Meroitic_Cursive",
    "Meroitic_Hieroglyphs",
    "Miao",
    "Modi",
    "Mongolian",
    "Mro",
    "Multani",
    "Myanmar",
    "Nabataean",
    "Nandinagari",
    "New_Tai_Lue",
    "Newa",
    "Nko",
    "Nushu",
    "Nyiakeng_Puachue_Hmong",
    "Ogham",
    "Ol_Chiki",
    "Old_Hungarian",
    "Old_Italic",
    "Old_North_Arabian",
    "Old_Permic",
    "Old_Persian",
    "Old_Sogdian",
    "Old_South_Arabian",
    "Old_Turkic",
    "Oriya",
    "Osage",
    "Osmanya",
    "Pahawh_Hmong",
    "Palmyrene",
    "Pau_Cin_Hau",
    "Phags_Pa",
    "Phoenician",
    "Psalter_Pahlavi",
    "Rejang",
    "Runic",
    "Samaritan",
    "Saurashtra",
    "Sharada",
    "Shavian",
    "Siddham",
    "SignWriting",
    "Sinhala",
    "Sogdian",
    "Sora_Sompeng",
    "Soyombo",
    "Sundanese",
    "Syloti_Nagri",
    "Syriac",
    "Tagalog",
    "Tagbanwa",
    "Tai_Le",
    "Tai_Tham",
    "Tai_Viet",
    "Takri",
    "Tamil",
    "Tangut",
    "Telugu",
    "Thaana",
    "Thai",
    "Tibetan",
    "Tifinagh",
    "Tirhuta",
    "Ugaritic",
    "Vai",
    "Wancho",
    "Warang_Citi",
    "Yezidi",
    "Yi",
    "Zanabazar_Square",
];

/// Go's POSIX classes (`[:name:]`, each also `[:^name:]`), which the crate names alike.
const POSIX: [&str; 14] = [
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "word",
    "xdigit",
];

/// The most a compiled pattern may take (the crate's default): a bigger one does not compile.
const SIZE_LIMIT: usize = 10 << 20;

/// `pattern` compiled as Go's `regexp.Compile` would take it; `None` when Go would refuse it
/// (or it is past the crate's limits).
///
/// A pattern given again is compiled once: a filter repeating one large pattern hundreds of
/// times (a review: 500 selectors of `(?i)\pL{300}`, 3 GB) holds one copy of it.
pub fn compile(pattern: &str) -> Option<regex::Regex> {
    thread_local! {
        static COMPILED: std::cell::RefCell<std::collections::HashMap<String, Option<regex::Regex>>> =
            Default::default();
    }
    if let Some(known) = COMPILED.with(|c| c.borrow().get(pattern).cloned()) {
        return known;
    }
    let compiled = translate(pattern).and_then(|rust| {
        regex::RegexBuilder::new(&rust)
            .size_limit(SIZE_LIMIT)
            .dfa_size_limit(SIZE_LIMIT)
            .build()
            .ok()
    });
    COMPILED.with(|c| c.borrow_mut().insert(pattern.to_string(), compiled.clone()));
    compiled
}

/// The pattern in the crate's syntax, meaning what `pattern` means to Go; `None` where Go's
/// parser reports an error the crate's might not.
pub fn translate(pattern: &str) -> Option<String> {
    let mut t = Translator {
        s: pattern,
        at: 0,
        out: String::with_capacity(pattern.len() + 16),
    };
    t.run()?;
    Some(t.out)
}

struct Translator<'a> {
    s: &'a str,
    at: usize,
    out: String,
}

/// A character as the crate reads it anywhere, in a class or not: alphanumerics as they are,
/// anything else by its code point. A surrogate (Go's `\x{D800}`, which no text holds) is a
/// class of nothing.
fn push_char(out: &mut String, c: u32) {
    match char::from_u32(c) {
        Some(ch) if ch.is_alphanumeric() => out.push(ch),
        Some(_) => {
            let _ = write!(out, "\\x{{{c:X}}}");
        }
        None => out.push_str(NOTHING),
    }
}

/// A class that holds nothing (valid alone and nested in a class).
const NOTHING: &str = "[^\\x{0}-\\x{10FFFF}]";

/// Go's Perl classes as ASCII sets, the inside of a class: `\d`, `\s`, `\w`.
fn perl_set(c: char) -> Option<(&'static str, bool)> {
    Some(match c {
        'd' => ("0-9", false),
        'D' => ("0-9", true),
        's' => ("\\t\\n\\x0C\\r\\x20", false),
        'S' => ("\\t\\n\\x0C\\r\\x20", true),
        'w' => ("0-9A-Za-z_", false),
        'W' => ("0-9A-Za-z_", true),
        _ => return None,
    })
}

impl<'a> Translator<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.at..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    fn run(&mut self) -> Option<()> {
        // Whether the token just written is a repetition: Go refuses another right after it.
        let mut last_repeat = false;
        while let Some(c) = self.bump() {
            let mut repeat = false;
            match c {
                '(' => self.group()?,
                ')' | '|' | '^' | '$' | '.' => self.out.push(c),
                '*' | '+' | '?' => {
                    if last_repeat {
                        return None;
                    }
                    self.out.push(c);
                    self.lazy();
                    repeat = true;
                }
                '{' => match self.counts()? {
                    Some((min, max)) => {
                        if last_repeat {
                            return None;
                        }
                        let _ = match max {
                            Some(max) if max == min => write!(self.out, "{{{min}}}"),
                            Some(max) => write!(self.out, "{{{min},{max}}}"),
                            None => write!(self.out, "{{{min},}}"),
                        };
                        self.lazy();
                        repeat = true;
                    }
                    None => push_char(&mut self.out, u32::from('{')),
                },
                '[' => self.class()?,
                '\\' => self.escape_outside()?,
                c => push_char(&mut self.out, u32::from(c)),
            }
            last_repeat = repeat;
        }
        Some(())
    }

    /// A `?` after a repetition makes it lazy (part of the same operator).
    fn lazy(&mut self) {
        if self.peek() == Some('?') {
            self.bump();
            self.out.push('?');
        }
    }

    /// After `{`: a repetition `{n}`, `{n,}`, `{n,m}` as Go reads one (`Some(None)` when this
    /// is no repetition but a literal `{`; `None` for a count Go refuses).
    #[allow(clippy::type_complexity)]
    fn counts(&mut self) -> Option<Option<(u32, Option<u32>)>> {
        let rest = self.rest();
        let Some((min, after)) = go_int(rest) else {
            return Some(None);
        };
        let (max, after) = match after.strip_prefix(',') {
            Some(after) if after.starts_with('}') => (None, after),
            Some(after) => match go_int(after) {
                Some((m, a)) => (Some(m), a),
                None => return Some(None),
            },
            None => (Some(min), after),
        };
        let Some(after) = after.strip_prefix('}') else {
            return Some(None);
        };
        // Go: a count over 1000 (or past its parseInt), or max below min, is an error.
        let bad = |n: Option<u32>| n.is_some_and(|n| n > 1000);
        if bad(Some(min)) || bad(max) || max.is_some_and(|m| m < min) {
            return None;
        }
        self.at = self.s.len() - after.len();
        Some(Some((min, max)))
    }

    /// After `(`: a group, Go's named group `(?P<name>`, or flags `(?i)` / `(?i:`.
    fn group(&mut self) -> Option<()> {
        let rest = self.rest();
        let Some(after_q) = rest.strip_prefix('?') else {
            self.out.push('(');
            return Some(());
        };
        if let Some(named) = after_q.strip_prefix("P<") {
            let end = named.find('>')?;
            let name = named.get(..end)?;
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return None;
            }
            self.at += 3 + end + 1;
            self.out.push('(');
            return Some(());
        }
        // Flags, as Go's parsePerlFlags: i m s U, one `-`, then `:` or `)`.
        self.at += 1;
        let mut text = String::from("(?");
        let mut negated = false;
        let mut saw_flag = false;
        loop {
            let c = self.bump()?;
            match c {
                'i' | 'm' | 's' | 'U' => {
                    text.push(c);
                    saw_flag = true;
                }
                '-' => {
                    if negated {
                        return None;
                    }
                    negated = true;
                    saw_flag = false;
                    text.push('-');
                }
                ':' | ')' => {
                    if negated && !saw_flag {
                        return None;
                    }
                    if text == "(?" {
                        // `(?)` sets nothing; `(?:` is a plain group.
                        if c == ':' {
                            self.out.push_str("(?:");
                        }
                        return Some(());
                    }
                    text.push(c);
                    self.out.push_str(&text);
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// After a `\` outside a class.
    fn escape_outside(&mut self) -> Option<()> {
        let c = self.peek()?;
        match c {
            'A' | 'z' => {
                self.bump();
                self.out.push('\\');
                self.out.push(c);
            }
            'b' | 'B' => {
                self.bump();
                let _ = write!(self.out, "(?-u:\\{c})");
            }
            'Q' => {
                self.bump();
                let rest = self.rest();
                let (lit, after) = rest.split_once("\\E").unwrap_or((rest, ""));
                for ch in lit.chars() {
                    push_char(&mut self.out, u32::from(ch));
                }
                self.at = self.s.len() - after.len();
            }
            'p' | 'P' => {
                // From the backslash, as in a class.
                self.at -= 1;
                let class = self.unicode_class()?;
                self.out.push_str(&class);
            }
            c if perl_set(c).is_some() => {
                self.bump();
                if let Some((set, negated)) = perl_set(c) {
                    let _ = write!(self.out, "[{}{set}]", if negated { "^" } else { "" });
                }
            }
            _ => {
                let ch = self.escape()?;
                push_char(&mut self.out, ch);
            }
        }
        Some(())
    }

    /// After `\`: Go's single-character escapes (parseEscape), as a code point.
    fn escape(&mut self) -> Option<u32> {
        let c = self.bump()?;
        let octal = |c: Option<char>| {
            c.filter(|c| ('0'..='7').contains(c))
                .map(|c| u32::from(c) - u32::from('0'))
        };
        match c {
            '1'..='7' if octal(self.peek()).is_none() => None,
            '0'..='7' => {
                let mut r = u32::from(c) - u32::from('0');
                for _ in 1..3 {
                    match octal(self.peek()) {
                        Some(d) => {
                            self.bump();
                            r = r * 8 + d;
                        }
                        None => break,
                    }
                }
                Some(r)
            }
            'x' => {
                let c = self.bump()?;
                if c == '{' {
                    let mut r: u32 = 0;
                    let mut digits = 0;
                    loop {
                        let c = self.bump()?;
                        if c == '}' {
                            break;
                        }
                        r = r * 16 + c.to_digit(16)?;
                        if r > 0x10FFFF {
                            return None;
                        }
                        digits += 1;
                    }
                    (digits > 0).then_some(r)
                } else {
                    let hi = c.to_digit(16)?;
                    let lo = self.bump()?.to_digit(16)?;
                    Some(hi * 16 + lo)
                }
            }
            'a' => Some(7),
            'f' => Some(12),
            'n' => Some(10),
            'r' => Some(13),
            't' => Some(9),
            'v' => Some(11),
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => Some(u32::from(c)),
            _ => None,
        }
    }

    /// At `\p` or `\P`: Go's Unicode class, in the crate's syntax.
    fn unicode_class(&mut self) -> Option<String> {
        let p = self.bump().and_then(|_| self.bump())?;
        let mut negated = p == 'P';
        let name = if self.peek() == Some('{') {
            let rest = self.rest();
            let end = rest.find('}')?;
            let name = rest.get(1..end)?;
            self.at += end + 1;
            name
        } else {
            let c = self.bump()?;
            let start = self.at - c.len_utf8();
            self.s.get(start..self.at)?
        };
        let name = match name.strip_prefix('^') {
            Some(n) => {
                negated = !negated;
                n
            }
            None => name,
        };
        let (p, not) = if negated { ('P', "^") } else { ('p', "") };
        if name == "Any" {
            return Some(format!("\\{p}{{Any}}"));
        }
        // Go's C is Cc, Cf, Co and Cs (the crate's adds unassigned code points); Cs, the
        // surrogates, are in no text.
        if name == "C" {
            return Some(format!("[{not}\\p{{gc=Cc}}\\p{{gc=Cf}}\\p{{gc=Co}}]"));
        }
        if name == "Cs" {
            return Some(if negated { "\\p{Any}".into() } else { NOTHING.into() });
        }
        if CATEGORIES.contains(&name) {
            return Some(format!("\\{p}{{gc={name}}}"));
        }
        if SCRIPTS.contains(&name) {
            return Some(format!("\\{p}{{sc={name}}}"));
        }
        None
    }

    /// After `[`: Go's class (parseClass), written out item by item.
    fn class(&mut self) -> Option<()> {
        let mut out = String::from("[");
        if self.peek() == Some('^') {
            self.bump();
            out.push('^');
        }
        let mut first = true;
        loop {
            let rest = self.rest();
            if rest.starts_with(']') && !first {
                self.bump();
                break;
            }
            if rest.is_empty() {
                return None;
            }
            first = false;
            // POSIX [:name:]: Go looks for the closing `:]` anywhere after.
            if rest.starts_with("[:")
                && let Some(i) = rest.get(2..).and_then(|r| r.find(":]"))
            {
                let name = rest.get(2..2 + i)?;
                let bare = name.strip_prefix('^').unwrap_or(name);
                if !POSIX.contains(&bare) {
                    return None;
                }
                let _ = write!(out, "[:{name}:]");
                self.at += 2 + i + 2;
                continue;
            }
            if rest.starts_with("\\p") || rest.starts_with("\\P") {
                out.push_str(&self.unicode_class()?);
                continue;
            }
            if let Some((set, negated)) = rest
                .strip_prefix('\\')
                .and_then(|r| r.chars().next())
                .and_then(perl_set)
            {
                self.at += 2;
                if negated {
                    let _ = write!(out, "[^{set}]");
                } else {
                    out.push_str(set);
                }
                continue;
            }
            let lo = self.class_char()?;
            let mut hi = lo;
            let rest = self.rest();
            if rest.len() >= 2 && rest.starts_with('-') && !rest.starts_with("-]") {
                self.bump();
                hi = self.class_char()?;
                if hi < lo {
                    return None;
                }
            }
            // Surrogates are no characters of any text: the range without them.
            let (lo, hi) = (
                if (0xD800..=0xDFFF).contains(&lo) { 0xE000 } else { lo },
                if (0xD800..=0xDFFF).contains(&hi) { 0xD7FF } else { hi },
            );
            if lo > hi {
                out.push_str(NOTHING);
            } else {
                push_char(&mut out, lo);
                if hi != lo {
                    out.push('-');
                    push_char(&mut out, hi);
                }
            }
        }
        out.push(']');
        self.out.push_str(&out);
        Some(())
    }

    /// One character of a class: an escape or the character itself.
    fn class_char(&mut self) -> Option<u32> {
        match self.bump()? {
            '\\' => self.escape(),
            c => Some(u32::from(c)),
        }
    }
}

/// Go's parseInt of a repetition count: digits without a leading zero; `None` for none (then
/// `{` is a literal). A count of more than 8 digits is Go's -1, refused as over 1000.
fn go_int(s: &str) -> Option<(u32, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || (digits >= 2 && s.starts_with('0')) {
        return None;
    }
    let (n, rest) = s.split_at_checked(digits)?;
    let n = if digits > 8 { u32::MAX } else { n.parse().ok()? };
    Some((n, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> Option<bool> {
        compile(pattern).map(|r| r.is_match(text))
    }

    #[test]
    fn go_syntax_on_the_crate() {
        // Unicode classes and folding, as Go.
        assert_eq!(m(r"(?i)Ü", "unicode/ünï"), Some(true));
        assert_eq!(m(r"\pL", "a"), Some(true));
        assert_eq!(m(r"[\p{Lu}]", "abc"), Some(false));
        assert_eq!(m(r"\p{Greek}", "α"), Some(true));
        assert_eq!(m(r"\p{greek}", "α"), None);
        assert_eq!(m(r"\p{^Greek}", "α"), Some(false));
        // \Q...\E
        assert_eq!(m(r"\Qa__b\E", "a__b.c"), Some(true));
        assert_eq!(m(r"\Qa.b", "axb"), Some(false));
        // ASCII Perl classes and boundaries.
        assert_eq!(m(r"^\d$", "٣"), Some(false));
        assert_eq!(m(r"^\w$", "é"), Some(false));
        assert_eq!(m(r"^\s$", "\u{a0}"), Some(false));
        assert_eq!(m(r"^\s$", "\u{b}"), Some(false));
        assert_eq!(m(r"é\b", "éa"), Some(true));
        assert_eq!(m(r"^[\d]+$", "12"), Some(true));
        assert_eq!(m(r"^[^\D]+$", "12"), Some(true));
        // What Go refuses.
        for bad in [
            "(a",
            "bad\\Z",
            "a**",
            "a*+",
            "a{2}*",
            "(?<n>x)",
            "a{1001}",
            "\\1",
            "\\u0041",
            "(?x)a",
            "[z-a]",
            "\\",
            "[[:foo:]]",
            "(?P<>x)",
            "(?i-)x",
            "\\C",
            "\\8",
        ] {
            assert_eq!(translate(bad).and_then(|_| compile(bad).map(|_| ())), None, "{bad}");
        }
        // What Go takes that the crate reads otherwise.
        assert_eq!(m(r"a{", "a{"), Some(true));
        assert_eq!(m(r"a{,2}", "a{,2}"), Some(true));
        assert_eq!(m(r"a{01}", "a{01}"), Some(true));
        assert_eq!(m(r"[a&&b]", "&"), Some(true));
        assert_eq!(m(r"[a--]", "-"), None);
        assert_eq!(m(r"[[a]", "["), Some(true));
        assert_eq!(m(r"[]a]", "]"), Some(true));
        assert_eq!(m(r"(?P<n_1>x)", "x"), Some(true));
        assert_eq!(m(r"(?P<1>x)", "x"), Some(true));
        assert_eq!(m(r"\101\0", "A\0"), Some(true));
        assert_eq!(m(r"\x41\x{42}", "AB"), Some(true));
        assert_eq!(m(r"a(?)b", "ab"), Some(true));
        assert_eq!(m(r"(?i-s:A.)", "a\n"), Some(false));
        assert_eq!(m(r"\_\%\<", "_%<"), Some(true));
        assert_eq!(m(r"[\x{D800}-\x{DFFF}]", "a"), Some(false));
        assert_eq!(m(r"\p{C}", "\u{378}"), Some(false));
        assert_eq!(m(r"\p{C}", "\u{1}"), Some(true));
        assert_eq!(m(r"a*?b??", "b"), Some(true));
        assert_eq!(m(r"[[:alpha:]]+", "ab"), Some(true));
        assert_eq!(m(r"^*a", "a"), compile("^*a").map(|_| true));
    }

    #[test]
    fn a_huge_pattern_is_refused_not_built() {
        let big = "(?:a{1000}){1000}".repeat(3);
        assert!(compile(&big).is_none());
        let deep = format!("{}a{}", "(".repeat(5000), ")".repeat(5000));
        assert!(compile(&deep).is_none());
    }

    /// Every pattern of the Go capture (tools/lab/filtercases, go1.19.8's `regexp`): refused
    /// where Go refuses it, else matching the same texts.
    #[test]
    fn as_go_1_19_compiles_and_matches() {
        let text = include_str!("../../../fixtures/expected/containerd-filters/cases.jsonl");
        let mut texts: Vec<String> = Vec::new();
        let mut wrong = Vec::new();
        let mut seen = 0;
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            if let Some(t) = v.get("texts").and_then(|t| t.as_array()) {
                texts = t.iter().filter_map(|t| t.as_str().map(str::to_string)).collect();
            }
            let Some(pattern) = v.get("pattern").and_then(|p| p.as_str()) else {
                continue;
            };
            seen += 1;
            let go_error = v.get("error").and_then(|e| e.as_str());
            let want: Vec<&str> = v
                .get("matches")
                .and_then(|m| m.as_array())
                .map(|m| m.iter().filter_map(|t| t.as_str()).collect())
                .unwrap_or_default();
            match (compile(pattern), go_error) {
                (None, Some(_)) => {}
                (Some(_), Some(e)) => wrong.push(format!("{pattern:?}: compiles here, Go: {e}")),
                (None, None) => wrong.push(format!("{pattern:?}: refused here, Go compiles it")),
                (Some(re), None) => {
                    let got: Vec<&str> = texts.iter().map(String::as_str).filter(|t| re.is_match(t)).collect();
                    if got != want {
                        wrong.push(format!(
                            "{pattern:?} ({}): matches {got:?}, Go {want:?}",
                            translate(pattern).unwrap_or_default()
                        ));
                    }
                }
            }
        }
        assert!(seen > 150);
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
