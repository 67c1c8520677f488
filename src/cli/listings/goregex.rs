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
//!   repetitions (`a**`, `a{2}*`) are errors; so is a counted repetition (of 2 or more) making
//!   more than 1000 copies of anything, nested counts multiplied (`(?:a{2}){501}`, Go's
//!   `repeatIsValid`);
//! - named groups are `(?P<name>...)` only, as Go before 1.22 (containerd 1.6 is built with Go
//!   1.19: `(?<name>...)` does not compile there), and `(?<name>...)` too for dockerd 28's
//!   `ps` filters ([`Patterns::dockerd`]); flags are `i`, `m`, `s`, `U`, each as often
//!   as one likes, those after `-` cleared (`(?ii)`, `(?i-i)`: the crate refuses a flag given
//!   twice);
//! - a flag group `(?i)` is no token of Go's: a repetition after one applies to what is before
//!   it (`a(?i)*` is `a*` then `(?i)`, `a*(?i)*` is `(?:a*)*`), lazy or not as the `U` flag is
//!   at the repetition.
//!
//! What still differs: the crate's Unicode tables are newer than Go 1.19's (Unicode 13), so a
//! character assigned since may be in a class here and not there; a pattern past the crate's
//! size (10 MiB compiled) or nesting (250) limits does not compile here. A pattern that does
//! not compile is `None`: containerd's selector then matches nothing. The patterns of one
//! filter set are capped together ([`Patterns`], [`TOTAL_LIMIT`]): past that, coldctr's own
//! usage error.

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

/// The most the patterns of one filter set may take compiled, together: 4 of the largest, or
/// many more smaller ones (each is charged the first of [`TIERS`] it compiles within).
pub const TOTAL_LIMIT: usize = 4 * SIZE_LIMIT;

/// The sizes a pattern is compiled within, smallest first (a try that does not fit stops
/// early, and costs no more than its size).
const TIERS: [usize; 3] = [16 << 10, 256 << 10, SIZE_LIMIT];

/// The usage error of a filter set whose patterns would take more than [`TOTAL_LIMIT`].
pub const OVER_LIMIT: &str = "the filters' regular expressions are too large together: more than 40 MiB compiled (at most 10 MiB each, coldctr's limits); give fewer or smaller ones";

/// The patterns of one filter set, each compiled once (a review: 500 selectors of
/// `(?i)\pL{300}` took 3 GB), and together within [`TOTAL_LIMIT`].
#[derive(Default)]
pub struct Patterns {
    /// Go 1.22's syntax and later (dockerd 28's Go), which also names groups `(?<name>...)`;
    /// else Go 1.19's (containerd 1.6's).
    go122: bool,
    compiled: std::collections::HashMap<String, Option<regex::Regex>>,
    /// What the patterns compiled so far were charged.
    charged: usize,
    /// A pattern was not compiled: it would have taken the set past [`TOTAL_LIMIT`].
    over: bool,
}

impl Patterns {
    /// Patterns as dockerd 28 compiles them (Go 1.22 and later: `(?<name>...)` too), for
    /// `ps`'s `name=` and `id=`.
    pub fn dockerd() -> Patterns {
        Patterns {
            go122: true,
            ..Patterns::default()
        }
    }

    /// `pattern` compiled as Go's `regexp.Compile` would take it; `None` when Go would
    /// refuse it (or it is past the crate's limits), or when it would take the set past
    /// [`TOTAL_LIMIT`] ([`Patterns::over_limit`] then says so).
    pub fn compile(&mut self, pattern: &str) -> Option<regex::Regex> {
        if let Some(known) = self.compiled.get(pattern) {
            return known.clone();
        }
        let mut compiled = None;
        if let Some(rust) = translate_as(pattern, self.go122) {
            for tier in TIERS {
                if self.charged.saturating_add(tier) > TOTAL_LIMIT {
                    self.over = true;
                    return None;
                }
                match regex::RegexBuilder::new(&rust)
                    .size_limit(tier)
                    .dfa_size_limit(tier)
                    .build()
                {
                    Ok(re) => {
                        self.charged += tier;
                        compiled = Some(re);
                        break;
                    }
                    Err(regex::Error::CompiledTooBig(_)) => continue,
                    Err(_) => break,
                }
            }
        }
        self.compiled.insert(pattern.to_string(), compiled.clone());
        compiled
    }

    /// What the patterns compiled so far were charged against [`TOTAL_LIMIT`].
    pub fn charged(&self) -> usize {
        self.charged
    }

    /// These patterns, within what is left of [`TOTAL_LIMIT`] after `charged` (what another
    /// set of the same command line took).
    pub fn after(self, charged: usize) -> Patterns {
        Patterns { charged, ..self }
    }

    /// Whether a pattern was left out for [`TOTAL_LIMIT`]: the filter set is then refused.
    pub fn over_limit(&self) -> bool {
        self.over
    }
}

/// `pattern` compiled as Go's `regexp.Compile` would take it, alone: see [`Patterns`].
pub fn compile(pattern: &str) -> Option<regex::Regex> {
    Patterns::default().compile(pattern)
}

/// The pattern in the crate's syntax, meaning what `pattern` means to Go; `None` where Go's
/// parser reports an error the crate's might not.
pub fn translate(pattern: &str) -> Option<String> {
    translate_as(pattern, false)
}

/// [`translate`], with Go 1.22's syntax and later when `go122` (`(?<name>...)` names a group).
fn translate_as(pattern: &str, go122: bool) -> Option<String> {
    let mut t = Translator {
        go122,
        s: pattern,
        at: 0,
        out: String::with_capacity(pattern.len() + 16),
        pending: String::new(),
        frames: vec![Frame {
            weight: 0,
            last: None,
            outer_lazy: false,
        }],
        lazy: false,
        written_lazy: false,
    };
    t.run()?;
    Some(t.out)
}

struct Translator<'a> {
    /// Go 1.22's syntax and later: see [`Patterns`].
    go122: bool,
    s: &'a str,
    at: usize,
    out: String,
    /// Flag groups (`(?i)`) read but not yet written: see [`Translator::group`].
    pending: String,
    /// The groups open, the whole pattern first.
    frames: Vec<Frame>,
    /// Go's `U` flag where the pattern is read.
    lazy: bool,
    /// The crate's `U` flag where the output is written (`lazy` before `pending`).
    written_lazy: bool,
}

/// Go's flags, in the order they are written.
const FLAGS: [char; 4] = ['i', 'm', 's', 'U'];

/// What a repetition applies to: Go's top of stack.
#[derive(Clone, Copy)]
struct Atom {
    /// The most copies of anything inside it its repetitions make (Go's `repeatIsValid`): 1
    /// for a literal, 0 inside `x{0}`, which Go does not look into.
    weight: u32,
    /// It is itself a repetition.
    repeated: bool,
}

/// An open group (or the whole pattern).
struct Frame {
    /// The largest weight of its atoms before `last`.
    weight: u32,
    /// Its last atom, if any since its start or its last `|`.
    last: Option<Atom>,
    /// Go's `U` flag outside it, back at its `)`.
    outer_lazy: bool,
}

impl Frame {
    /// `last` is no longer the last atom: a token after it, or `|`.
    fn fold(&mut self) {
        if let Some(a) = self.last.take() {
            self.weight = self.weight.max(a.weight);
        }
    }
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
        // Whether the token just read is a repetition: Go refuses another right after it (but
        // not after a flag group between them: `a*(?i)*` is `(?:a*)*`).
        let mut last_repeat = false;
        while let Some(c) = self.bump() {
            let mut repeat = false;
            match c {
                '*' | '+' | '?' => {
                    if last_repeat {
                        return None;
                    }
                    let (min, max) = match c {
                        '*' => (0, None),
                        '+' => (1, None),
                        _ => (0, Some(1)),
                    };
                    self.repeat(c, min, max, false)?;
                    repeat = true;
                }
                '{' => match self.counts()? {
                    Some((min, max)) => {
                        if last_repeat {
                            return None;
                        }
                        self.repeat('{', min, max, true)?;
                        repeat = true;
                    }
                    None => {
                        self.atom();
                        push_char(&mut self.out, u32::from('{'));
                    }
                },
                '(' => self.group()?,
                ')' => self.close()?,
                '|' => {
                    self.flush();
                    let frame = self.frames.last_mut()?;
                    frame.fold();
                    self.out.push('|');
                }
                '^' | '$' | '.' => {
                    self.atom();
                    self.out.push(c);
                }
                '[' => {
                    self.atom();
                    self.class()?;
                }
                '\\' => self.escape_outside()?,
                c => {
                    self.atom();
                    push_char(&mut self.out, u32::from(c));
                }
            }
            last_repeat = repeat;
        }
        self.flush();
        // A group left open: Go's "missing closing )".
        (self.frames.len() == 1).then_some(())
    }

    /// Writes the flag groups read since the last token: the next token is no repetition.
    fn flush(&mut self) {
        self.out.push_str(&self.pending);
        self.pending.clear();
        self.written_lazy = self.lazy;
    }

    /// A token Go pushes on its stack (a literal, class, assertion...) is next: what a
    /// repetition after it applies to.
    fn atom(&mut self) {
        self.flush();
        if let Some(frame) = self.frames.last_mut() {
            frame.fold();
            frame.last = Some(Atom {
                weight: 1,
                repeated: false,
            });
        }
    }

    /// A repetition (`*`, `+`, `?`, or `{...}` when `counted`) of the last atom, checked as
    /// Go's parser checks one.
    fn repeat(&mut self, op: char, min: u32, max: Option<u32>, counted: bool) -> Option<()> {
        // Go: a repetition of nothing (at the start, after `(` or `|`) is an error.
        let atom = self.frames.last_mut()?.last.as_mut()?;
        let weight = if !counted {
            atom.weight
        } else if max == Some(0) {
            // Go does not look inside `x{0}`.
            0
        } else {
            atom.weight.saturating_mul(max.unwrap_or(min).max(1))
        };
        // Go (repeatIsValid): a counted repetition of 2 or more may not make more than 1000
        // copies of anything inside it, nested repetitions multiplied.
        if counted && (min >= 2 || max.is_some_and(|m| m >= 2)) && weight > 1000 {
            return None;
        }
        let stacked = atom.repeated;
        atom.weight = weight;
        atom.repeated = true;
        // A repetition of a repetition (a flag group between them) is written counted: the
        // crate reads `a*?` as lazy, not as `(?:a*)?`.
        if counted || stacked {
            let _ = match max {
                Some(max) if max == min => write!(self.out, "{{{min}}}"),
                Some(max) => write!(self.out, "{{{min},{max}}}"),
                None => write!(self.out, "{{{min},}}"),
            };
        } else {
            self.out.push(op);
        }
        // Lazy as Go makes it: its `U` flag now (flag groups not yet written included), turned
        // over by a `?` after the repetition; the crate's `U` is the one written so far.
        let mut lazy = self.lazy;
        if self.peek() == Some('?') {
            self.bump();
            lazy = !lazy;
        }
        if lazy != self.written_lazy {
            self.out.push('?');
        }
        Some(())
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
            self.open("(");
            return Some(());
        };
        let angle = if self.go122 {
            after_q.strip_prefix('<').map(|n| (n, 2))
        } else {
            None
        };
        if let Some((named, opening)) = after_q.strip_prefix("P<").map(|n| (n, 3)).or(angle) {
            let end = named.find('>')?;
            let name = named.get(..end)?;
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return None;
            }
            self.at += opening + end + 1;
            self.open("(");
            return Some(());
        }
        // Flags, as Go's parsePerlFlags: i m s U (each as often as one likes), one `-`, then
        // `:` or `)`. A flag after the `-` is cleared, whatever was before it: `(?i-i)` is
        // `(?-i)`. The crate refuses a flag given twice, so the flags are written once each.
        self.at += 1;
        let mut set = [false; 4];
        let mut cleared = [false; 4];
        let mut negated = false;
        let mut saw_flag = false;
        loop {
            let c = self.bump()?;
            match c {
                'i' | 'm' | 's' | 'U' => {
                    let i = FLAGS.iter().position(|&f| f == c)?;
                    let slot = if negated { cleared.get_mut(i)? } else { set.get_mut(i)? };
                    *slot = true;
                    saw_flag = true;
                }
                '-' => {
                    if negated {
                        return None;
                    }
                    negated = true;
                    saw_flag = false;
                }
                ':' | ')' => {
                    if negated && !saw_flag {
                        return None;
                    }
                    let mut text = String::from("(?");
                    for ((f, s), c) in FLAGS.iter().zip(set).zip(cleared) {
                        if s && !c {
                            text.push(*f);
                        }
                    }
                    if cleared.contains(&true) {
                        text.push('-');
                        for (f, c) in FLAGS.iter().zip(cleared) {
                            if c {
                                text.push(*f);
                            }
                        }
                    }
                    let lazy = match (set.get(3), cleared.get(3)) {
                        (_, Some(true)) => false,
                        (Some(true), _) => true,
                        _ => self.lazy,
                    };
                    if c == ':' {
                        text.push(':');
                        self.open(&text);
                        self.lazy = lazy;
                        self.written_lazy = lazy;
                    } else {
                        // Flags for the rest of the group: no token of Go's, so a repetition
                        // right after applies to what is before them (`a(?i)*`). Written
                        // before the next token that is not a repetition.
                        if text != "(?" {
                            text.push(')');
                            self.pending.push_str(&text);
                        }
                        self.lazy = lazy;
                    }
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A group opens (`text`, the crate's opening).
    fn open(&mut self, text: &str) {
        self.flush();
        self.frames.push(Frame {
            weight: 0,
            last: None,
            outer_lazy: self.lazy,
        });
        self.out.push_str(text);
    }

    /// At `)`: the group closes, and is the atom a repetition after it applies to.
    fn close(&mut self) -> Option<()> {
        self.flush();
        if self.frames.len() < 2 {
            // Go: "unexpected )".
            return None;
        }
        let mut frame = self.frames.pop()?;
        frame.fold();
        self.lazy = frame.outer_lazy;
        self.written_lazy = frame.outer_lazy;
        self.out.push(')');
        let parent = self.frames.last_mut()?;
        parent.fold();
        parent.last = Some(Atom {
            weight: frame.weight.max(1),
            repeated: false,
        });
        Some(())
    }

    /// After a `\` outside a class.
    fn escape_outside(&mut self) -> Option<()> {
        let c = self.peek()?;
        // Each is an atom of Go's, but an empty `\Q\E`, which is nothing.
        if c != 'Q' {
            self.atom();
        }
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
                if !lit.is_empty() {
                    self.atom();
                }
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

    /// Go 1.22's `(?<name>...)`: a group for dockerd 28's patterns, an error for containerd
    /// 1.6's (Go 1.19), a name as `(?P<` takes it either way.
    #[test]
    fn angle_named_groups_are_go_1_22_s() {
        let mut dockerd = Patterns::dockerd();
        assert!(dockerd.compile("^(?<n_1>web)$").is_some_and(|r| r.is_match("web")));
        assert!(dockerd.compile("(?<>web)").is_none());
        assert!(dockerd.compile("(?<a b>web)").is_none());
        assert!(Patterns::default().compile("(?<n>web)").is_none());
        assert!(Patterns::default().compile("(?P<n>web)").is_some());
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
    fn a_filter_sets_patterns_are_capped_together() {
        // `\pL{30}` takes more than 256 KiB: charged 10 MiB, four fit in the 40 MiB.
        let mut set = Patterns::default();
        for i in 0..4 {
            assert!(set.compile(&format!("\\pL{{30}}{i}")).is_some());
        }
        // Given again: compiled once, charged once.
        assert!(set.compile("\\pL{30}0").is_some());
        assert!(!set.over_limit());
        assert!(set.compile("\\pL{30}4").is_none());
        assert!(set.over_limit());
        // Small ones are charged 16 KiB each.
        let mut set = Patterns::default();
        for i in 0..1000 {
            assert!(set.compile(&format!("^docker\\.io/x{i}$")).is_some());
        }
        assert!(!set.over_limit());
        // One Go refuses, or past the crate's limit, costs nothing.
        let mut set = Patterns::default();
        for _ in 0..10 {
            assert!(set.compile("(?:a{1000}){1000}").is_none());
            assert!(set.compile(&"\\pL{1000}".repeat(3)).is_none());
        }
        assert!(!set.over_limit());
    }

    #[test]
    fn a_huge_pattern_is_refused_not_built() {
        let big = "(?:a{1000}){1000}".repeat(3);
        assert!(compile(&big).is_none());
        let deep = format!("{}a{}", "(".repeat(5000), ")".repeat(5000));
        assert!(compile(&deep).is_none());
    }

    /// Each pattern of a Go capture (filtercases' or regexcmp's lines) this translation does
    /// not take as Go did, and how many patterns there were.
    fn differences(capture: &str) -> (Vec<String>, usize) {
        let mut texts: Vec<String> = Vec::new();
        let mut wrong = Vec::new();
        let mut seen = 0;
        for line in capture.lines() {
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
                (Some(_), Some(e)) => wrong.push(format!(
                    "{pattern:?} ({}): compiles here, Go: {e}",
                    translate(pattern).unwrap_or_default()
                )),
                (None, None) => wrong.push(format!(
                    "{pattern:?} ({:?}): refused here, Go compiles it",
                    translate(pattern)
                )),
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
        (wrong, seen)
    }

    /// Every pattern of the Go capture (tools/lab/filtercases, go1.19.8's `regexp`): refused
    /// where Go refuses it, else matching the same texts.
    #[test]
    fn as_go_1_19_compiles_and_matches() {
        let (wrong, seen) = differences(include_str!(
            "../../../fixtures/expected/containerd-filters/cases.jsonl"
        ));
        assert!(seen > 150);
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// A lab capture of random patterns (tools/lab/regexcmp), named by `GOREGEX_CASES`.
    #[test]
    #[ignore = "a lab tool: needs a capture made with Go"]
    fn goregex_cases_from_env() {
        let path = std::env::var("GOREGEX_CASES").unwrap_or_default();
        let capture = std::fs::read_to_string(&path).unwrap_or_default();
        let (wrong, seen) = differences(&capture);
        assert!(seen > 0, "no patterns in {path:?}");
        assert!(wrong.is_empty(), "{} of {seen}:\n{}", wrong.len(), wrong.join("\n"));
    }
}
