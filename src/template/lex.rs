//! The template lexer: Go's `text/template/parse` scanner, producing the same tokens and the
//! same error texts (`unclosed action`, `bad character U+0023 '#'`), with `{{- -}}` trimming.
//!
//! The whole input is scanned up front; a scan error becomes the last token, so the parser
//! meets it where Go's parser would.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A scan error; the token's value is the message.
    Error,
    Bool,
    /// One printable ASCII character (`,` and the like).
    Char,
    CharConstant,
    Complex,
    /// `=`
    Assign,
    /// `:=`
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl Kind {
    pub fn is_keyword(self) -> bool {
        matches!(
            self,
            Kind::Block
                | Kind::Break
                | Kind::Continue
                | Kind::Dot
                | Kind::Define
                | Kind::Else
                | Kind::End
                | Kind::If
                | Kind::Nil
                | Kind::Range
                | Kind::Template
                | Kind::With
        )
    }
}

/// A token: its kind, byte offset, text and line.
#[derive(Clone, Debug)]
pub struct Token {
    pub kind: Kind,
    pub pos: usize,
    pub val: String,
    pub line: usize,
}

impl std::fmt::Display for Token {
    /// As Go's `item.String()`, used in "unexpected ... in ..." messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            Kind::Eof => f.write_str("EOF"),
            Kind::Error => f.write_str(&self.val),
            k if k.is_keyword() => write!(f, "<{}>", self.val),
            _ if self.val.chars().count() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                write!(f, "{}...", super::gofmt::quote(&head))
            }
            _ => f.write_str(&super::gofmt::quote(&self.val)),
        }
    }
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";
const TRIM_LEN: usize = 2;

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.first() == Some(&b'-') && b.get(1).is_some_and(|c| is_space(char::from(*c)))
}

fn has_right_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(|c| is_space(char::from(*c))) && b.get(1) == Some(&b'-')
}

/// Scans `input` into tokens, ending in `Eof` or `Error`.
pub fn lex(input: &str) -> Vec<Token> {
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        paren_depth: 0,
        tokens: Vec::new(),
        counted_to: 0,
        counted_lines: 0,
    };
    l.run();
    l.tokens
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    paren_depth: i64,
    tokens: Vec<Token>,
    /// Newlines counted before `counted_to`: tokens start in order, so each line number is
    /// the count so far plus the newlines since (recounting from the start made a 100 KB
    /// template take a second).
    counted_to: usize,
    counted_lines: usize,
}

enum State {
    Text,
    LeftDelim,
    Inside,
    Done,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        self.input.get(self.pos..).unwrap_or("")
    }

    fn rest_at(&self, at: usize) -> &str {
        self.input.get(at..).unwrap_or("")
    }

    fn line_at(&mut self, pos: usize) -> usize {
        if pos < self.counted_to {
            self.counted_to = 0;
            self.counted_lines = 0;
        }
        let since = self.input.get(self.counted_to..pos).unwrap_or("");
        self.counted_lines += memchr::memchr_iter(b'\n', since.as_bytes()).count();
        self.counted_to = pos;
        1 + self.counted_lines
    }

    fn emit(&mut self, kind: Kind) {
        let val = self.input.get(self.start..self.pos).unwrap_or("").to_string();
        let line = self.line_at(self.start);
        self.tokens.push(Token {
            kind,
            pos: self.start,
            val,
            line,
        });
        self.start = self.pos;
    }

    fn error(&mut self, msg: String) -> State {
        let line = self.line_at(self.start);
        self.tokens.push(Token {
            kind: Kind::Error,
            pos: self.start,
            val: msg,
            line,
        });
        State::Done
    }

    fn next(&mut self) -> Option<char> {
        let c = self.rest().chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn backup(&mut self, c: Option<char>) {
        if let Some(c) = c {
            self.pos -= c.len_utf8();
        }
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn run(&mut self) {
        let mut state = State::Text;
        loop {
            state = match state {
                State::Text => self.text(),
                State::LeftDelim => self.left_delim(),
                State::Inside => self.inside(),
                State::Done => return,
            };
        }
    }

    fn text(&mut self) -> State {
        if let Some(x) = self.rest().find(LEFT) {
            self.pos += x;
            let mut trim = 0;
            if has_left_trim(self.rest_at(self.pos + LEFT.len())) {
                let before = self.input.get(self.start..self.pos).unwrap_or("");
                trim = before.len() - before.trim_end_matches(is_space).len();
            }
            self.pos -= trim;
            if self.pos > self.start {
                self.emit(Kind::Text);
            }
            self.pos += trim;
            self.start = self.pos;
            return State::LeftDelim;
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.emit(Kind::Text);
        }
        self.emit(Kind::Eof);
        State::Done
    }

    /// At `}}` or ` -}}`: (is a right delimiter, has a trim marker).
    fn at_right_delim(&self) -> (bool, bool) {
        if has_right_trim(self.rest()) && self.rest_at(self.pos + TRIM_LEN).starts_with(RIGHT) {
            return (true, true);
        }
        (self.rest().starts_with(RIGHT), false)
    }

    fn left_delim(&mut self) -> State {
        self.pos += LEFT.len();
        let trim = has_left_trim(self.rest());
        let after = if trim { TRIM_LEN } else { 0 };
        if self.rest_at(self.pos + after).starts_with("/*") {
            self.pos += after;
            self.start = self.pos;
            return self.comment();
        }
        self.emit(Kind::LeftDelim);
        self.pos += after;
        self.start = self.pos;
        self.paren_depth = 0;
        State::Inside
    }

    fn comment(&mut self) -> State {
        self.pos += 2;
        let Some(i) = self.rest().find("*/") else {
            return self.error("unclosed comment".into());
        };
        self.pos += i + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.error("comment ends before closing delimiter".into());
        }
        if trim {
            self.pos += TRIM_LEN;
        }
        self.pos += RIGHT.len();
        if trim {
            let rest = self.rest();
            self.pos += rest.len() - rest.trim_start_matches(is_space).len();
        }
        self.start = self.pos;
        State::Text
    }

    fn right_delim(&mut self) -> State {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += TRIM_LEN;
            self.start = self.pos;
        }
        self.pos += RIGHT.len();
        self.emit(Kind::RightDelim);
        if trim {
            let rest = self.rest();
            self.pos += rest.len() - rest.trim_start_matches(is_space).len();
            self.start = self.pos;
        }
        State::Text
    }

    fn inside(&mut self) -> State {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return self.right_delim();
            }
            return self.error("unclosed left paren".into());
        }
        let Some(c) = self.next() else {
            return self.error("unclosed action".into());
        };
        match c {
            c if is_space(c) => {
                self.backup(Some(c));
                return self.space();
            }
            '=' => self.emit(Kind::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return self.error("expected :=".into());
                }
                self.emit(Kind::Declare);
            }
            '|' => self.emit(Kind::Pipe),
            '"' => return self.quote(),
            '`' => return self.raw_quote(),
            '$' => return self.variable(),
            '\'' => return self.char_constant(),
            '.' if self.peek().is_some_and(|n| !n.is_ascii_digit()) => {
                return self.field_or_variable(Kind::Field);
            }
            '.' | '+' | '-' | '0'..='9' => {
                self.backup(Some(c));
                return self.number();
            }
            c if is_alnum(c) => {
                self.backup(Some(c));
                return self.identifier();
            }
            '(' => {
                self.emit(Kind::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.emit(Kind::RightParen);
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.error(format!("unexpected right paren {}", super::gofmt::unicode_name(c)));
                }
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(Kind::Char),
            c => {
                return self.error(format!(
                    "unrecognized character in action: {}",
                    super::gofmt::unicode_name(c)
                ));
            }
        }
        State::Inside
    }

    fn space(&mut self) -> State {
        let mut spaces = 0;
        while self.peek().is_some_and(is_space) {
            self.next();
            spaces += 1;
        }
        // A space followed by `-}}` belongs to the trim marker.
        if self.pos > 0
            && has_right_trim(self.rest_at(self.pos - 1))
            && self.rest_at(self.pos - 1 + TRIM_LEN).starts_with(RIGHT)
        {
            self.pos -= 1;
            if spaces == 1 {
                return self.right_delim();
            }
        }
        self.emit(Kind::Space);
        State::Inside
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            Some(_) => self.rest().starts_with(RIGHT),
        }
    }

    fn identifier(&mut self) -> State {
        loop {
            let c = self.next();
            if c.is_some_and(is_alnum) {
                continue;
            }
            self.backup(c);
            if !self.at_terminator() {
                return self.bad_char(c);
            }
            let word = self.input.get(self.start..self.pos).unwrap_or("");
            let kind = match word {
                "block" => Kind::Block,
                "break" => Kind::Break,
                "continue" => Kind::Continue,
                "define" => Kind::Define,
                "else" => Kind::Else,
                "end" => Kind::End,
                "if" => Kind::If,
                "nil" => Kind::Nil,
                "range" => Kind::Range,
                "template" => Kind::Template,
                "with" => Kind::With,
                "true" | "false" => Kind::Bool,
                _ => Kind::Identifier,
            };
            self.emit(kind);
            return State::Inside;
        }
    }

    fn bad_char(&mut self, c: Option<char>) -> State {
        let name = c.map_or_else(|| "U+FFFFFFFFFFFFFFFF".to_string(), super::gofmt::unicode_name);
        self.error(format!("bad character {name}"))
    }

    fn variable(&mut self) -> State {
        if self.at_terminator() {
            self.emit(Kind::Variable);
            return State::Inside;
        }
        self.field_or_variable(Kind::Variable)
    }

    fn field_or_variable(&mut self, kind: Kind) -> State {
        if self.at_terminator() {
            self.emit(if kind == Kind::Variable {
                Kind::Variable
            } else {
                Kind::Dot
            });
            return State::Inside;
        }
        let mut c;
        loop {
            c = self.next();
            if !c.is_some_and(is_alnum) {
                self.backup(c);
                break;
            }
        }
        if !self.at_terminator() {
            return self.bad_char(c);
        }
        self.emit(kind);
        State::Inside
    }

    fn char_constant(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => {
                    if matches!(self.next(), None | Some('\n')) {
                        return self.error("unterminated character constant".into());
                    }
                }
                None | Some('\n') => return self.error("unterminated character constant".into()),
                Some('\'') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::CharConstant);
        State::Inside
    }

    fn number(&mut self) -> State {
        if !self.scan_number() {
            let text = self.input.get(self.start..self.pos).unwrap_or("").to_string();
            return self.error(format!("bad number syntax: {}", super::gofmt::quote(&text)));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            // Complex: 1+2i.
            if !self.scan_number() || !self.input.get(..self.pos).unwrap_or("").ends_with('i') {
                let text = self.input.get(self.start..self.pos).unwrap_or("").to_string();
                return self.error(format!("bad number syntax: {}", super::gofmt::quote(&text)));
            }
            self.emit(Kind::Complex);
        } else {
            self.emit(Kind::Number);
        }
        State::Inside
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        let mut exp = "eE";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
                exp = "pP";
            } else if self.accept("oO") {
                digits = "01234567_";
                exp = "";
            } else if self.accept("bB") {
                digits = "01_";
                exp = "";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if !exp.is_empty() && self.accept(exp) {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alnum) {
            self.next();
            return false;
        }
        true
    }

    fn quote(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => {
                    if matches!(self.next(), None | Some('\n')) {
                        return self.error("unterminated quoted string".into());
                    }
                }
                None | Some('\n') => return self.error("unterminated quoted string".into()),
                Some('"') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::String);
        State::Inside
    }

    fn raw_quote(&mut self) -> State {
        loop {
            match self.next() {
                None => return self.error("unterminated raw quoted string".into()),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::RawString);
        State::Inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Kind> {
        lex(s).iter().map(|t| t.kind).collect()
    }

    #[test]
    fn trims_around_markers() {
        let toks = lex("a  {{- .X -}}  b");
        let texts: Vec<&str> = toks
            .iter()
            .filter(|t| t.kind == Kind::Text)
            .map(|t| t.val.as_str())
            .collect();
        assert_eq!(texts, ["a", "b"]);
        assert_eq!(
            kinds("{{.X}}"),
            [Kind::LeftDelim, Kind::Field, Kind::RightDelim, Kind::Eof]
        );
    }

    #[test]
    fn reports_go_errors() {
        let last = |s: &str| lex(s).last().map(|t| t.val.clone()).unwrap_or_default();
        assert_eq!(last("{{.Id"), "unclosed action");
        assert_eq!(last("{{.I#d}}"), "bad character U+0023 '#'");
        assert_eq!(last("{{\"abc}}"), "unterminated quoted string");
        assert_eq!(last("{{/* x"), "unclosed comment");
    }
}
