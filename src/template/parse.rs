//! The template parser: Go's `text/template/parse` grammar, node shapes and error texts
//! (`template: :1: function "foo" not defined`). Nodes print back as Go prints them, since
//! execution errors quote the node they happened at.

use super::lex::{Kind, Token, lex};
use std::collections::BTreeMap;
use std::fmt;

/// Nesting of parentheses and control structures that parsing accepts. Go allows far more;
/// this bound keeps both the parser's and the executor's recursion small.
pub const MAX_DEPTH: usize = 100;

/// A sequence of nodes: a template body or a branch.
#[derive(Debug, Default)]
pub struct List {
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Branch {
    If,
    Range,
    With,
}

#[derive(Debug)]
pub enum Node {
    Text(String),
    Action(Pipe),
    Branch {
        kind: Branch,
        pipe: Pipe,
        list: List,
        else_list: Option<List>,
    },
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    Break,
    Continue,
}

/// `$x := cmd | cmd`.
#[derive(Debug)]
pub struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

#[derive(Debug)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// An operand.
#[derive(Debug)]
pub enum Arg {
    /// `.A.B`
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    /// `$x.A.B` (`idents[0]` is the variable)
    Variable {
        pos: usize,
        idents: Vec<String>,
    },
    Dot {
        pos: usize,
    },
    Nil {
        pos: usize,
    },
    Bool {
        pos: usize,
        value: bool,
    },
    Number {
        pos: usize,
        num: Number,
    },
    String {
        pos: usize,
        quoted: String,
        text: String,
    },
    /// A function name.
    Identifier {
        pos: usize,
        name: String,
    },
    /// `(pipeline)`
    Pipe(Box<Pipe>),
    /// `(pipeline).A.B`
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
}

/// A number constant, with every Go type its text fits.
#[derive(Debug, Clone)]
pub struct Number {
    pub text: String,
    pub int: Option<i64>,
    pub uint: Option<u64>,
    pub float: Option<f64>,
    /// A complex constant (`1i`, `1+2i`): real and imaginary parts.
    pub complex: Option<(f64, f64)>,
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Bool { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. }
            | Arg::Identifier { pos, .. }
            | Arg::Chain { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => idents.iter().try_for_each(|i| write!(f, ".{i}")),
            Arg::Variable { idents, .. } => f.write_str(&idents.join(".")),
            Arg::Dot { .. } => f.write_str("."),
            Arg::Nil { .. } => f.write_str("nil"),
            Arg::Bool { value, .. } => write!(f, "{value}"),
            Arg::Number { num, .. } => f.write_str(&num.text),
            Arg::String { quoted, .. } => f.write_str(quoted),
            Arg::Identifier { name, .. } => f.write_str(name),
            Arg::Pipe(p) => write!(f, "({p})"),
            Arg::Chain { node, fields, .. } => {
                match node.as_ref() {
                    Arg::Pipe(p) => write!(f, "({p})")?,
                    other => write!(f, "{other}")?,
                }
                fields.iter().try_for_each(|i| write!(f, ".{i}"))
            }
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Display for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.nodes.iter().try_for_each(|n| write!(f, "{n}"))
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Text(t) => f.write_str(t),
            Node::Action(p) => write!(f, "{{{{{p}}}}}"),
            Node::Branch {
                kind,
                pipe,
                list,
                else_list,
            } => {
                let name = match kind {
                    Branch::If => "if",
                    Branch::Range => "range",
                    Branch::With => "with",
                };
                write!(f, "{{{{{name} {pipe}}}}}{list}")?;
                if let Some(e) = else_list {
                    write!(f, "{{{{else}}}}{e}")?;
                }
                f.write_str("{{end}}")
            }
            Node::Template { name, pipe, .. } => {
                let q = super::gofmt::quote(name);
                match pipe {
                    Some(p) => write!(f, "{{{{template {q} {p}}}}}"),
                    None => write!(f, "{{{{template {q}}}}}"),
                }
            }
            Node::Break => f.write_str("{{break}}"),
            Node::Continue => f.write_str("{{continue}}"),
        }
    }
}

/// Parses `text` into its named trees: `""` for the body, one per `define` and `block`.
pub fn parse(text: &str, has_function: &dyn Fn(&str) -> bool) -> Result<BTreeMap<String, List>, String> {
    let mut p = Parser {
        tokens: lex(text),
        i: 0,
        line: 1,
        vars: vec!["$".into()],
        range_depth: 0,
        depth: 0,
        has_function,
        trees: BTreeMap::new(),
    };
    let root = p.parse_root()?;
    add_tree(&mut p.trees, String::new(), root, 1)?;
    Ok(p.trees)
}

fn is_empty_tree(l: &List) -> bool {
    l.nodes
        .iter()
        .all(|n| matches!(n, Node::Text(t) if t.trim_matches([' ', '\t', '\r', '\n']).is_empty()))
}

fn add_tree(trees: &mut BTreeMap<String, List>, name: String, list: List, line: usize) -> Result<(), String> {
    match trees.get(&name) {
        Some(old) if !is_empty_tree(old) => {
            if !is_empty_tree(&list) {
                return Err(format!(
                    "template: :{line}: template: multiple definition of template {}",
                    super::gofmt::quote(&name)
                ));
            }
        }
        _ => {
            trees.insert(name, list);
        }
    }
    Ok(())
}

/// What ended an item list.
enum End {
    End,
    Else { if_follows: bool },
}

struct Parser<'a> {
    tokens: Vec<Token>,
    i: usize,
    line: usize,
    vars: Vec<String>,
    range_depth: usize,
    depth: usize,
    has_function: &'a dyn Fn(&str) -> bool,
    trees: BTreeMap<String, List>,
}

type R<T> = Result<T, String>;

impl Parser<'_> {
    fn errorf(&self, msg: impl fmt::Display) -> String {
        format!("template: :{}: {msg}", self.line)
    }

    fn next(&mut self) -> Token {
        let t = self.tokens.get(self.i).cloned().unwrap_or(Token {
            kind: Kind::Eof,
            pos: 0,
            val: String::new(),
            line: self.line,
        });
        if self.i < self.tokens.len() {
            self.i += 1;
        }
        self.line = t.line;
        t
    }

    fn backup(&mut self) {
        self.i = self.i.saturating_sub(1);
    }

    fn peek(&mut self) -> Token {
        let t = self.next();
        self.backup();
        t
    }

    fn next_non_space(&mut self) -> Token {
        loop {
            let t = self.next();
            if t.kind != Kind::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Token {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn unexpected(&self, t: &Token, context: &str) -> String {
        if t.kind == Kind::Error {
            return self.errorf(&t.val);
        }
        self.errorf(format!("unexpected {t} in {context}"))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> R<Token> {
        let t = self.next_non_space();
        if t.kind != kind {
            return Err(self.unexpected(&t, context));
        }
        Ok(t)
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.errorf("max expression depth exceeded"));
        }
        Ok(())
    }

    fn parse_root(&mut self) -> R<List> {
        let mut root = List::default();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let save = self.i;
                self.next();
                if self.next_non_space().kind == Kind::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Ok(n) => root.nodes.push(n),
                Err(End::End) => return Err(self.errorf("unexpected {{end}}")),
                Err(End::Else { .. }) => return Err(self.errorf("unexpected {{else}}")),
            }
        }
        if let Some(t) = self.tokens.get(self.i)
            && t.kind == Kind::Error
        {
            return Err(self.errorf(&t.val));
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> R<()> {
        let context = "define clause";
        let t = self.next_non_space();
        if !matches!(t.kind, Kind::String | Kind::RawString) {
            return Err(self.unexpected(&t, context));
        }
        let name = self.unquote(&t)?;
        self.expect(Kind::RightDelim, context)?;
        let outer = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (list, end) = self.item_list()?;
        self.vars = outer;
        if !matches!(end, End::End) {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {context}")));
        }
        add_tree(&mut self.trees, name, list, self.line)
    }

    /// Nodes up to `{{end}}` or `{{else}}`.
    fn item_list(&mut self) -> R<(List, End)> {
        let mut list = List::default();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Ok(n) => list.nodes.push(n),
                Err(end) => return Ok((list, end)),
            }
        }
        if let Some(t) = self.tokens.get(self.i)
            && t.kind == Kind::Error
        {
            return Err(self.errorf(&t.val));
        }
        Err(self.errorf("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> R<Result<Node, End>> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Text => Ok(Ok(Node::Text(t.val))),
            Kind::LeftDelim => self.action(),
            _ => Err(self.unexpected(&t, "input")),
        }
    }

    fn action(&mut self) -> R<Result<Node, End>> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Block => return self.block_control().map(Ok),
            Kind::Break | Kind::Continue => {
                let name = if t.kind == Kind::Break { "break" } else { "continue" };
                let n = self.next_non_space();
                if n.kind != Kind::RightDelim {
                    return Err(self.unexpected(&n, &format!("{{{{{name}}}}}")));
                }
                if self.range_depth == 0 {
                    return Err(self.errorf(format!("{{{{{name}}}}} outside {{{{range}}}}")));
                }
                return Ok(Ok(if t.kind == Kind::Break {
                    Node::Break
                } else {
                    Node::Continue
                }));
            }
            Kind::Else => {
                if self.peek_non_space().kind == Kind::If {
                    return Ok(Err(End::Else { if_follows: true }));
                }
                self.expect(Kind::RightDelim, "else")?;
                return Ok(Err(End::Else { if_follows: false }));
            }
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Err(End::End));
            }
            Kind::If => return self.control(Branch::If).map(Ok),
            Kind::Range => return self.control(Branch::Range).map(Ok),
            Kind::With => return self.control(Branch::With).map(Ok),
            Kind::Template => return self.template_control().map(Ok),
            _ => {}
        }
        self.backup();
        Ok(Ok(Node::Action(self.pipeline("command", Kind::RightDelim)?)))
    }

    fn control(&mut self, kind: Branch) -> R<Node> {
        self.enter()?;
        let context = match kind {
            Branch::If => "if",
            Branch::Range => "range",
            Branch::With => "with",
        };
        let nvars = self.vars.len();
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        if kind == Branch::Range {
            self.range_depth += 1;
        }
        let (list, end) = self.item_list()?;
        if kind == Branch::Range {
            self.range_depth -= 1;
        }
        let else_list = match end {
            End::End => None,
            End::Else { if_follows: true } if kind != Branch::Range => {
                // `{{else if ...}}` / `{{else with ...}}`: a nested branch that ends with ours.
                let t = self.next_non_space();
                let nested = match (kind, t.kind) {
                    (_, Kind::If) => self.control(Branch::If)?,
                    (Branch::With, Kind::With) => self.control(Branch::With)?,
                    _ => return Err(self.unexpected(&t, "else")),
                };
                Some(List { nodes: vec![nested] })
            }
            End::Else { if_follows } => {
                if if_follows {
                    let t = self.next_non_space();
                    return Err(self.unexpected(&t, "else"));
                }
                let (e, end) = self.item_list()?;
                if !matches!(end, End::End) {
                    return Err(self.errorf("expected end; found {{else}}"));
                }
                Some(e)
            }
        };
        self.vars.truncate(nvars);
        self.depth -= 1;
        Ok(Node::Branch {
            kind,
            pipe,
            list,
            else_list,
        })
    }

    fn unquote(&self, t: &Token) -> R<String> {
        unquote(&t.val).ok_or_else(|| self.errorf("invalid syntax"))
    }

    fn template_name(&mut self, context: &str) -> R<(Token, String)> {
        let t = self.next_non_space();
        if !matches!(t.kind, Kind::String | Kind::RawString) {
            return Err(self.unexpected(&t, context));
        }
        let name = self.unquote(&t)?;
        Ok((t, name))
    }

    fn template_control(&mut self) -> R<Node> {
        let context = "template clause";
        let (t, name) = self.template_name(context)?;
        let pipe = if self.next_non_space().kind != Kind::RightDelim {
            self.backup();
            Some(self.pipeline(context, Kind::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template { pos: t.pos, name, pipe })
    }

    fn block_control(&mut self) -> R<Node> {
        let context = "block clause";
        self.enter()?;
        let (t, name) = self.template_name(context)?;
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let outer = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let outer_range = std::mem::replace(&mut self.range_depth, 0);
        let (list, end) = self.item_list()?;
        self.vars = outer;
        self.range_depth = outer_range;
        if !matches!(end, End::End) {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {context}")));
        }
        add_tree(&mut self.trees, name.clone(), list, self.line)?;
        self.depth -= 1;
        Ok(Node::Template {
            pos: t.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> R<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        'decls: loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                break;
            }
            let save = self.i;
            self.next_non_space();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                }
                Kind::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue 'decls,
                            _ => return Err(self.errorf("range can only initialize variables")),
                        }
                    }
                    return Err(self.errorf(format!("too many declarations in {context}")));
                }
                _ => self.i = save,
            }
            break;
        }
        loop {
            let t = self.next_non_space();
            match t.kind {
                k if k == end => {
                    if pipe.cmds.is_empty() {
                        return Err(self.errorf(format!("missing value for {context}")));
                    }
                    for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
                        if matches!(
                            c.args.first(),
                            Some(
                                Arg::Bool { .. }
                                    | Arg::Dot { .. }
                                    | Arg::Nil { .. }
                                    | Arg::Number { .. }
                                    | Arg::String { .. }
                            )
                        ) {
                            return Err(self.errorf(format!("non executable command in pipeline stage {}", i + 1)));
                        }
                    }
                    return Ok(pipe);
                }
                Kind::Bool
                | Kind::CharConstant
                | Kind::Complex
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&t, context)),
            }
        }
    }

    fn command(&mut self) -> R<Command> {
        let pos = self.peek_non_space().pos;
        let mut cmd = Command { pos, args: Vec::new() };
        loop {
            self.peek_non_space();
            if let Some(a) = self.operand()? {
                cmd.args.push(a);
            }
            let t = self.next();
            match t.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return Err(self.unexpected(&t, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> R<Option<Arg>> {
        let Some(node) = self.term()? else { return Ok(None) };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            let t = self.next();
            fields.push(t.val.trim_start_matches('.').to_string());
        }
        Ok(Some(match node {
            // As Go's parser: a field chain is placed where its second field starts.
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field { pos, idents }
            }
            Arg::Variable { mut idents, .. } => {
                idents.extend(fields);
                Arg::Variable { pos, idents }
            }
            Arg::Bool { .. } | Arg::String { .. } | Arg::Number { .. } | Arg::Nil { .. } | Arg::Dot { .. } => {
                return Err(self.errorf(format!(
                    "unexpected . after term {}",
                    super::gofmt::quote(&node.to_string())
                )));
            }
            other => Arg::Chain {
                pos,
                node: Box::new(other),
                fields,
            },
        }))
    }

    fn term(&mut self) -> R<Option<Arg>> {
        let t = self.next_non_space();
        let pos = t.pos;
        Ok(Some(match t.kind {
            Kind::Identifier => {
                if !(self.has_function)(&t.val) {
                    return Err(self.errorf(format!("function {} not defined", super::gofmt::quote(&t.val))));
                }
                Arg::Identifier { pos, name: t.val }
            }
            Kind::Dot => Arg::Dot { pos },
            Kind::Nil => Arg::Nil { pos },
            Kind::Variable => {
                let idents: Vec<String> = t.val.split('.').map(str::to_string).collect();
                let name = idents.first().cloned().unwrap_or_default();
                if !self.vars.contains(&name) {
                    return Err(self.errorf(format!("undefined variable {}", super::gofmt::quote(&name))));
                }
                Arg::Variable { pos, idents }
            }
            Kind::Field => Arg::Field {
                pos,
                idents: vec![t.val.trim_start_matches('.').to_string()],
            },
            Kind::Bool => Arg::Bool {
                pos,
                value: t.val == "true",
            },
            Kind::CharConstant | Kind::Complex | Kind::Number => {
                let num = parse_number(&t).map_err(|e| self.errorf(e))?;
                Arg::Number { pos, num }
            }
            Kind::LeftParen => {
                self.enter()?;
                let p = self.pipeline("parenthesized pipeline", Kind::RightParen)?;
                self.depth -= 1;
                Arg::Pipe(Box::new(p))
            }
            Kind::String | Kind::RawString => {
                let text = self.unquote(&t)?;
                Arg::String {
                    pos,
                    quoted: t.val,
                    text,
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

/// Go's `strconv.Unquote` for `"..."`, `` `...` `` and `'.'`.
pub fn unquote(s: &str) -> Option<String> {
    if let Some(raw) = s.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        return (!raw.contains('`')).then(|| super::gostr::encode(&raw.replace('\r', "")).into_owned());
    }
    let quote = s.chars().next()?;
    let body = s.strip_prefix(quote)?.strip_suffix(quote)?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    // A `\x` or octal escape is one byte, as in Go; the bytes are the string (see gostr).
    let mut out = Vec::new();
    let mut rest = body;
    let mut chars = 0;
    while !rest.is_empty() {
        let byte_escape = rest.starts_with("\\x")
            || rest
                .get(1..2)
                .is_some_and(|d| rest.starts_with('\\') && d.bytes().all(|b| (b'0'..=b'7').contains(&b)));
        let (c, r) = unquote_char(rest, quote)?;
        match u8::try_from(u32::from(c)) {
            Ok(b) if byte_escape && quote == '"' => out.push(b),
            _ => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        chars += 1;
        rest = r;
    }
    if quote == '\'' && chars != 1 {
        return None;
    }
    Some(super::gostr::from_bytes(&out))
}

fn unquote_char(s: &str, quote: char) -> Option<(char, &str)> {
    let mut it = s.chars();
    let c = it.next()?;
    if c == quote || c == '\n' {
        return None;
    }
    if c != '\\' {
        return Some((c, it.as_str()));
    }
    let e = it.next()?;
    let rest = it.as_str();
    let simple = match e {
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{b}'),
        '\\' => Some('\\'),
        '\'' | '"' if e == quote => Some(e),
        _ => None,
    };
    if let Some(c) = simple {
        return Some((c, rest));
    }
    let (len, radix) = match e {
        'x' => (2, 16),
        'u' => (4, 16),
        'U' => (8, 16),
        '0'..='7' => (2, 8),
        _ => return None,
    };
    let digits = rest.get(..len)?;
    let v = u32::from_str_radix(digits, radix).ok()?;
    if e.is_digit(8) {
        let v = u32::from_str_radix(s.get(1..4)?, 8).ok()?;
        return (v <= 255)
            .then(|| (char::from_u32(v), s.get(4..)))
            .and_then(|(c, r)| Some((c?, r?)));
    }
    Some((char::from_u32(v)?, rest.get(len..)?))
}

/// Go's `parse.newNumber`: which of int, uint, float64 and complex128 the constant fits.
/// Integers are read as `strconv.ParseInt`/`ParseUint` with base 0 read them and floats as
/// `ParseFloat` does: Go's literal syntax, with `_` between digits or after a base prefix.
fn parse_number(t: &Token) -> Result<Number, String> {
    let text = t.val.clone();
    let illegal = || format!("illegal number syntax: {}", super::gofmt::quote(&t.val));
    let mut n = Number {
        text: text.clone(),
        int: None,
        uint: None,
        float: None,
        complex: None,
    };
    if t.kind == Kind::CharConstant {
        // One character (or escape) after the quote, then the closing quote alone.
        let (c, tail) = unquote_char(text.get(1..).unwrap_or(""), '\'').ok_or("invalid syntax")?;
        if tail != "'" {
            return Err(format!("malformed character constant: {text}"));
        }
        let v = u32::from(c);
        n.int = Some(i64::from(v));
        n.uint = Some(u64::from(v));
        n.float = Some(f64::from(v));
        return Ok(n);
    }
    if t.kind == Kind::Complex {
        // `1+2i`, read as `fmt.Sscan` reads a complex128: a float, a signed float, `i`.
        let scan_error = || "syntax error scanning complex number".to_string();
        let re_len = float_token(&text);
        let (re, rest) = text.split_at(re_len);
        if re.is_empty() || !rest.starts_with(['+', '-']) {
            return Err(scan_error());
        }
        let im_len = float_token(rest);
        let (im, tail) = rest.split_at(im_len);
        if im.len() < 2 || tail != "i" {
            return Err(scan_error());
        }
        let part = |s: &str| {
            parse_float(s).map_err(|why| format!("strconv.ParseFloat: parsing {}: {why}", super::gofmt::quote(s)))
        };
        n.complex = Some((part(re)?, part(im)?));
        simplify_complex(&mut n);
        return Ok(n);
    }
    if let Some(imag) = text.strip_suffix('i') {
        // An imaginary constant: `ParseFloat` of what precedes the i (so `08i` is 8i).
        n.complex = Some((0.0, parse_float(imag).map_err(|_| illegal())?));
        simplify_complex(&mut n);
        return Ok(n);
    }
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    let mag = parse_uint_base0(body);
    n.uint = if neg { None } else { mag };
    n.int = mag.and_then(|m| {
        if neg {
            0i64.checked_sub_unsigned(m)
        } else {
            i64::try_from(m).ok()
        }
    });
    if let Some(i) = n.int {
        n.float = Some(i as f64);
    } else if let Some(u) = n.uint {
        n.float = Some(u as f64);
    } else if let Ok(f) = parse_float(&text) {
        // What reads as a float but looks like an integer is one too large for 64 bits
        // (or, like `08`, not an integer Go reads).
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", super::gofmt::quote(&text)));
        }
        n.float = Some(f);
        set_integral(&mut n, f);
    }
    if n.int.is_none() && n.uint.is_none() && n.float.is_none() {
        return Err(illegal());
    }
    Ok(n)
}

/// A float constant with no fraction is an int (and a uint when not negative) too.
fn set_integral(n: &mut Number, f: f64) {
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        n.int = Some(f as i64);
        if f >= 0.0 {
            n.uint = Some(f as u64);
        }
    }
}

/// A complex constant whose imaginary part is zero is also a float (and maybe an int):
/// `pad "x" 1+0i 1` passes 1 as the int.
fn simplify_complex(n: &mut Number) {
    if let Some((re, 0.0)) = n.complex {
        n.float = Some(re);
        set_integral(n, re);
    }
}

/// Where underscores may go in a number (Go's literal syntax): each one between two digits,
/// or between a base prefix (`0x`, `0b`, `0o`, or the `0` of an old-style octal) and a digit.
/// `hex` tells which letters are digits before a `p` exponent.
fn underscores_ok(s: &str, hex: bool) -> bool {
    let b = s.as_bytes();
    let mut in_exponent = false;
    for (i, &c) in b.iter().enumerate() {
        if matches!(c, b'p' | b'P') || (!hex && matches!(c, b'e' | b'E')) {
            in_exponent = true;
        }
        if c != b'_' {
            continue;
        }
        let is_digit = |x: Option<&u8>| {
            x.is_some_and(|x| {
                if hex && !in_exponent {
                    x.is_ascii_hexdigit()
                } else {
                    x.is_ascii_digit()
                }
            })
        };
        let prev = i.checked_sub(1).and_then(|j| b.get(j));
        // A base prefix: the `0` (i == 1) or its letter (i == 2) at the start.
        let after_prefix = (i == 1 && prev == Some(&b'0'))
            || (i == 2 && b.first() == Some(&b'0') && prev.is_some_and(|p| b"xXbBoO".contains(p)));
        if !(is_digit(prev) || after_prefix) || !is_digit(b.get(i + 1)) {
            return false;
        }
    }
    true
}

fn parse_uint_base0(s: &str) -> Option<u64> {
    if !underscores_ok(s, s.starts_with("0x") || s.starts_with("0X")) {
        return None;
    }
    let lower = s.to_ascii_lowercase().replace('_', "");
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower.get(1..)?)
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// How much of `s` `fmt`'s scanner takes as one float: a sign, digits (hex ones after `0x`),
/// underscores, a point, an exponent (`e`, or `p` after `0x`) and its sign and digits.
fn float_token(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let hex = b.get(i) == Some(&b'0') && matches!(b.get(i + 1), Some(b'x' | b'X'));
    if hex {
        i += 2;
    }
    let digit = |c: u8| c == b'_' || if hex { c.is_ascii_hexdigit() } else { c.is_ascii_digit() };
    while b.get(i).is_some_and(|&c| digit(c)) {
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|&c| digit(c)) {
            i += 1;
        }
    }
    let exp: &[u8] = if hex { b"pP" } else { b"eE" };
    if b.get(i).is_some_and(|c| exp.contains(c)) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        while b.get(i).is_some_and(|&c| c == b'_' || c.is_ascii_digit()) {
            i += 1;
        }
    }
    i
}

/// `strconv.ParseFloat(s, 64)` on a Go float literal (decimal, or hex with a `p` exponent),
/// signed or not; the error is strconv's reason, `invalid syntax` or `value out of range`.
fn parse_float(s: &str) -> Result<f64, &'static str> {
    const SYNTAX: &str = "invalid syntax";
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let hex = body.starts_with("0x") || body.starts_with("0X");
    if body.is_empty() || !underscores_ok(body, hex) {
        return Err(SYNTAX);
    }
    let clean = body.replace('_', "");
    let f = if hex {
        clean.get(2..).and_then(parse_hex_float).ok_or(SYNTAX)?
    } else {
        // Decimal digits, one point, an exponent: Rust reads the same text with correct
        // rounding, but also words (`inf`, `nan`) that are not Go literals.
        if !clean
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return Err(SYNTAX);
        }
        clean.parse::<f64>().map_err(|_| SYNTAX)?
    };
    if !f.is_finite() {
        return Err("value out of range");
    }
    Ok(if neg { -f } else { f })
}

/// The hex float after `0x`: hex digits with at most one point (at least one digit), then
/// a `p` exponent, which Go requires. Rounded to nearest, ties to even.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once(['p', 'P'])?;
    let exp: i64 = match exp.strip_prefix('+') {
        Some(e) if !e.starts_with('-') => e.parse().ok()?,
        _ => exp.parse().ok()?,
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    // The significant bits, kept to 64 with a sticky bit for any dropped below them.
    let mut bits: u64 = 0;
    let mut scale: i64 = 0;
    let mut sticky = false;
    for (i, c) in int.chars().chain(frac.chars()).enumerate() {
        let d = u64::from(c.to_digit(16)?);
        let in_frac = i >= int.len();
        if bits >> 60 == 0 {
            bits = bits << 4 | d;
            if in_frac {
                scale -= 4;
            }
        } else {
            sticky |= d != 0;
            if !in_frac {
                scale += 4;
            }
        }
    }
    if bits == 0 {
        return Some(0.0);
    }
    let exp = exp.checked_add(scale)?;
    // value = bits × 2^exp; normalise to 53 bits with rounding.
    let top = 63 - i64::from(bits.leading_zeros());
    let mut e2 = exp + top; // the exponent of the leading bit
    if e2 > 1023 {
        return Some(f64::INFINITY);
    }
    // How many bits the result keeps: 53, fewer for a subnormal.
    let keep = if e2 >= -1022 { 53 } else { 53 - (-1022 - e2) };
    if keep <= 0 {
        // Below half the smallest subnormal (or exactly half: ties to even, 0).
        let half = keep == 0 && (bits & !(1u64 << top) != 0 || sticky);
        return Some(if half { f64::from_bits(1) } else { 0.0 });
    }
    let drop = top + 1 - keep;
    let mut m = if drop > 0 {
        let d = u32::try_from(drop).ok()?;
        let rest = bits & ((1u64 << d) - 1);
        let half = 1u64 << (d - 1);
        let mut m = bits >> d;
        if rest > half || (rest == half && (sticky || m & 1 == 1)) {
            m += 1;
        }
        m
    } else {
        bits << u32::try_from(-drop).ok()?
    };
    if e2 < -1022 {
        // A subnormal: m counts units of 2^-1074 (rounded up to 2^-1022, it is the smallest
        // normal, which the same bits spell).
        return Some(f64::from_bits(m));
    }
    if m >> keep != 0 {
        // Rounded up past the width: one more power of two.
        m >>= 1;
        e2 += 1;
        if e2 > 1023 {
            return Some(f64::INFINITY);
        }
    }
    let f = {
        let frac_bits = m & ((1u64 << 52) - 1);
        let biased = u64::try_from(e2 + 1023).ok()?;
        f64::from_bits(biased << 52 | frac_bits)
    };
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<String, String> {
        parse(s, &|n| n == "printf" || n == "json").map(|t| t.get("").map(|l| l.to_string()).unwrap_or_default())
    }

    #[test]
    fn round_trips_like_go_node_strings() {
        assert_eq!(p("a{{.X.Y | json}}b").unwrap(), "a{{.X.Y | json}}b");
        assert_eq!(
            p("{{range $i, $e := .L}}{{$e}}{{else}}none{{end}}").unwrap(),
            "{{range $i, $e := .L}}{{$e}}{{else}}none{{end}}"
        );
        assert_eq!(p("{{(printf \"%d\" 1).X}}").unwrap(), "{{(printf \"%d\" 1).X}}");
    }

    #[test]
    fn errors_are_gos() {
        assert_eq!(
            p("{{foo .Id}}").unwrap_err(),
            "template: :1: function \"foo\" not defined"
        );
        assert_eq!(p("{{.Id").unwrap_err(), "template: :1: unclosed action");
        assert_eq!(p("{{range .X}}").unwrap_err(), "template: :1: unexpected EOF");
        assert_eq!(p("{{end}}").unwrap_err(), "template: :1: unexpected {{end}}");
        assert_eq!(p("\n{{$x}}").unwrap_err(), "template: :2: undefined variable \"$x\"");
        assert_eq!(p("{{break}}").unwrap_err(), "template: :1: {{break}} outside {{range}}");
        assert_eq!(p("{{}}").unwrap_err(), "template: :1: missing value for command");
        let deep = format!("{}1{}", "{{".to_string() + &"(".repeat(200), ")".repeat(200) + "}}");
        assert!(p(&deep).unwrap_err().contains("max expression depth exceeded"));
    }

    #[test]
    fn numbers_take_go_types() {
        let t = Token {
            kind: Kind::Number,
            pos: 0,
            val: "0x1F".into(),
            line: 1,
        };
        assert_eq!(parse_number(&t).unwrap().int, Some(31));
        let t = Token {
            val: "1.5e3".into(),
            ..t
        };
        let n = parse_number(&t).unwrap();
        assert_eq!((n.int, n.float), (Some(1500), Some(1500.0)));
        assert_eq!(unquote("\"q\\tx\\u00e9\"").as_deref(), Some("q\txé"));
        assert_eq!(unquote("'a'").as_deref(), Some("a"));
    }
}
