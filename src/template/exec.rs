//! The executor: Go's `text/template` `exec.go` semantics on [`Value`]s, with its error texts
//! (`template: :1:2: executing "" at <.X>: map has no entry for key "X"`).
//!
//! Hostile templates are bounded: a step budget (no template runs forever), a nesting bound
//! (no stack overflow), and a cap on output and on every string a function builds.

use super::funcs::{self, Param};
use super::gofmt;
use super::parse::{Arg, Branch, Command, List, Node, Pipe};
use super::value::{MethodDef, Type, Value};
use super::{MissingKey, TemplateError};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;

/// `{{template}}` calls that may nest (Go allows 100000; deep recursion here would be a stack
/// overflow, so the limit is lower and the message names this number).
pub const MAX_TEMPLATE_DEPTH: usize = 100;
/// Nested control structures and template calls, all together.
const MAX_NESTING: usize = 200;
/// Evaluation steps one execution may take. Under the fuzzer (sanitizers and coverage make a
/// step ~30x dearer, and its harness runs each template five times) the budget is a tenth,
/// so that a template that spends it ends well inside libFuzzer's 10 s timeout: at 10^6 it
/// took 11 s (`fixtures/fuzz/template/huge-range`) and CI counted it as a hang.
const MAX_STEPS: u64 = if cfg!(fuzzing) { 100_000 } else { 1_000_000 };
/// A function costs a step per this many bytes it reads or builds (a slice's elements count
/// [`funcs::ELEMENT_BYTES`] each), so that the budget bounds time and memory, not only node
/// visits: `{{range N}}{{len (json $)}}{{end}}` on a 15 MB config is few steps and hours of
/// serializing, `eq` of two 16 MB strings one step and 10 ms, and a `split` result kept in a
/// variable 60 MB that nothing frees until the end. Every value a template can keep is data
/// it was given (shared, not copied) or a function's result, so one execution holds at most
/// `MAX_STEPS * BYTES_PER_STEP` (256 MB) of its own, and reads about as much.
const BYTES_PER_STEP: u64 = 256;
/// Bytes one execution may write, and the longest string a function may build.
pub const MAX_OUTPUT: usize = 64 << 20;

/// Why execution stopped early.
pub enum Flow {
    Break,
    Continue,
    Fail(TemplateError),
}

impl From<TemplateError> for Flow {
    fn from(e: TemplateError) -> Self {
        Flow::Fail(e)
    }
}

type R<T> = Result<T, Flow>;

/// The node an error is reported at (Go's `state.at`).
#[derive(Clone, Copy)]
enum At<'t> {
    None,
    Node(&'t Node, usize),
    Pipe(&'t Pipe),
    Cmd(&'t Command),
    Arg(&'t Arg),
}

impl At<'_> {
    fn pos(&self) -> usize {
        match self {
            At::None => 0,
            At::Node(_, pos) => *pos,
            At::Pipe(p) => p.pos,
            At::Cmd(c) => c.pos,
            At::Arg(a) => a.pos(),
        }
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::None => Ok(()),
            At::Node(n, _) => write!(f, "{n}"),
            At::Pipe(p) => write!(f, "{p}"),
            At::Cmd(c) => write!(f, "{c}"),
            At::Arg(a) => write!(f, "{a}"),
        }
    }
}

/// Dot, and whether its static Go type is `interface {}` (an element of a raw slice or map),
/// which error messages name.
#[derive(Clone)]
pub struct Dot {
    pub v: Value,
    pub iface: bool,
}

pub struct State<'t, 'o> {
    pub trees: &'t BTreeMap<String, List>,
    pub text: &'t str,
    pub name: &'t str,
    pub vars: Vec<(String, Value)>,
    pub missing: MissingKey,
    /// A table's header row: docker's `HeaderFunctions` stand in for its functions.
    pub header: bool,
    /// When set, the struct fields and methods the execution reads, and every field of a
    /// struct `json` encodes (docker/cli's `FieldsUsed`, which its `MarshalJSON` fills by
    /// calling every method).
    pub fields_used: Option<std::collections::BTreeSet<String>>,
    pub out: &'o mut dyn Write,
    at: At<'t>,
    depth: usize,
    nesting: usize,
    steps: u64,
    written: usize,
}

impl<'t, 'o> State<'t, 'o> {
    pub fn new(
        trees: &'t BTreeMap<String, List>,
        text: &'t str,
        name: &'t str,
        missing: MissingKey,
        out: &'o mut dyn Write,
    ) -> Self {
        State {
            trees,
            text,
            name,
            vars: Vec::new(),
            missing,
            header: false,
            fields_used: None,
            out,
            at: At::None,
            depth: 0,
            nesting: 0,
            steps: 0,
            written: 0,
        }
    }

    /// Notes that field or method `name` was read, when [`State::fields_used`] is on.
    fn used(&mut self, name: &str) {
        if let Some(u) = &mut self.fields_used {
            u.insert(name.to_string());
        }
    }

    /// An execution error at the current node.
    pub fn errorf(&self, msg: impl fmt::Display) -> Flow {
        // Values in the message hold Go's bytes (gostr): a stray one reads as U+FFFD.
        let msg = msg.to_string();
        let msg = super::gostr::lossy(&msg);
        let name = gofmt::quote(self.name);
        if let At::None = self.at {
            return Flow::Fail(TemplateError::Exec(format!("template: {}: {msg}", self.name)));
        }
        let pos = self.at.pos();
        let before = self.text.get(..pos).unwrap_or(self.text);
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(nl) => pos - (nl + 1),
            None => pos,
        };
        Flow::Fail(TemplateError::Exec(format!(
            "template: :{line}:{col}: executing {name} at <{}>: {msg}",
            self.at
        )))
    }

    fn step(&mut self) -> R<()> {
        self.charge(1)
    }

    /// Counts `steps` against the budget.
    fn charge(&mut self, steps: u64) -> R<()> {
        self.steps = self.steps.saturating_add(steps);
        if self.steps > MAX_STEPS {
            return Err(self.errorf(format!("execution stopped after {MAX_STEPS} steps")));
        }
        Ok(())
    }

    fn write(&mut self, s: &str) -> R<()> {
        self.write_bytes(s.as_bytes())
    }

    fn write_bytes(&mut self, s: &[u8]) -> R<()> {
        self.written = self.written.saturating_add(s.len());
        if self.written > MAX_OUTPUT {
            return Err(self.errorf(format!("output exceeds {} MiB", MAX_OUTPUT >> 20)));
        }
        self.out.write_all(s).map_err(|e| Flow::Fail(TemplateError::Io(e)))
    }

    pub fn walk_list(&mut self, dot: &Dot, list: &'t List) -> R<()> {
        for n in &list.nodes {
            self.walk(dot, n)?;
        }
        Ok(())
    }

    fn nest(&mut self) -> R<()> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.errorf(format!("nesting exceeds {MAX_NESTING} levels")));
        }
        Ok(())
    }

    fn walk(&mut self, dot: &Dot, node: &'t Node) -> R<()> {
        self.step()?;
        match node {
            Node::Text(t) => self.write(t),
            Node::Action(pipe) => {
                self.at = At::Node(node, pipe.pos);
                let val = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.print_value(&val)?;
                }
                Ok(())
            }
            Node::Break => Err(Flow::Break),
            Node::Continue => Err(Flow::Continue),
            Node::Branch {
                kind: Branch::Range, ..
            } => {
                self.nest()?;
                let r = self.walk_range(dot, node);
                self.nesting -= 1;
                r
            }
            Node::Branch {
                kind,
                pipe,
                list,
                else_list,
            } => {
                self.nest()?;
                let mark = self.vars.len();
                // Restored however the branch ends: `{{break}}` and `{{continue}}` pass through.
                let r = self.walk_if_or_with(dot, *kind, pipe, list, else_list.as_ref());
                self.vars.truncate(mark);
                self.nesting -= 1;
                r
            }
            Node::Template { pos, name, pipe } => {
                self.at = At::Node(node, *pos);
                let Some(tree) = self.trees.get(name) else {
                    return Err(self.errorf(format!("template {} not defined", gofmt::quote(name))));
                };
                if self.depth >= MAX_TEMPLATE_DEPTH {
                    return Err(self.errorf(format!("exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})")));
                }
                let dot = match pipe {
                    Some(p) => self.eval_pipeline(dot, p)?,
                    None => Value::Invalid,
                };
                self.nest()?;
                let vars = std::mem::replace(&mut self.vars, vec![("$".into(), dot.clone())]);
                let outer = std::mem::replace(&mut self.name, name.as_str());
                self.depth += 1;
                let r = self.walk_list(&Dot { v: dot, iface: false }, tree);
                self.depth -= 1;
                self.name = outer;
                self.vars = vars;
                self.nesting -= 1;
                r
            }
        }
    }

    fn walk_if_or_with(
        &mut self,
        dot: &Dot,
        kind: Branch,
        pipe: &'t Pipe,
        list: &'t List,
        else_list: Option<&'t List>,
    ) -> R<()> {
        let val = self.eval_pipeline(dot, pipe)?;
        if is_true(&indirect_interface(&val)) {
            if kind == Branch::With {
                self.walk_list(&Dot { v: val, iface: false }, list)
            } else {
                self.walk_list(dot, list)
            }
        } else if let Some(e) = else_list {
            self.walk_list(dot, e)
        } else {
            Ok(())
        }
    }

    fn walk_range(&mut self, dot: &Dot, node: &'t Node) -> R<()> {
        let Node::Branch {
            pipe, list, else_list, ..
        } = node
        else {
            return Ok(());
        };
        self.at = At::Node(node, pipe.pos);
        let mark0 = self.vars.len();
        let (val, _) = indirect(&self.eval_pipeline(dot, pipe)?);
        let mark = self.vars.len();
        let mut ran = false;
        match &val {
            Value::Slice(Some(items), ty) if !items.is_empty() => {
                let iface = *ty.elem() == Type::Any;
                for (i, e) in items.iter().enumerate() {
                    let i = i64::try_from(i).unwrap_or(i64::MAX);
                    if !self.one_iteration(pipe, list, mark, Value::int(i), Dot { v: e.clone(), iface })? {
                        break;
                    }
                }
                ran = true;
            }
            Value::Map(Some(m), ty) if !m.is_empty() => {
                let iface = *ty.elem() == Type::Any;
                let key = ty.key();
                for (k, e) in m.iter() {
                    // Each key is copied into its variable: a long one costs its bytes.
                    self.charge(k.len() as u64 / BYTES_PER_STEP)?;
                    let k = Value::Str(std::rc::Rc::from(k.as_str()), key);
                    if !self.one_iteration(pipe, list, mark, k, Dot { v: e.clone(), iface })? {
                        break;
                    }
                }
                ran = true;
            }
            // Go 1.22's range over an integer: 0..n as the integer's own type, one variable only.
            Value::Int(..) | Value::Uint(..) => {
                if pipe.decl.len() > 1 {
                    return Err(self.errorf(format!(
                        "can't use {} to iterate over more than one variable",
                        gofmt::to_string(&val)
                    )));
                }
                let (count, nth): (u64, &dyn Fn(u64) -> Value) = match &val {
                    Value::Int(n, ty) => (u64::try_from(*n).unwrap_or(0), &|i| {
                        Value::Int(i64::try_from(i).unwrap_or(i64::MAX), ty)
                    }),
                    Value::Uint(n, ty) => (*n, &|i| Value::Uint(i, ty)),
                    _ => (0, &|_| Value::Invalid),
                };
                for i in 0..count {
                    ran = true;
                    let v = nth(i);
                    if !self.one_iteration(pipe, list, mark, v.clone(), Dot { v, iface: false })? {
                        break;
                    }
                }
            }
            Value::Slice(..) | Value::Map(..) | Value::Invalid => {}
            other => {
                return Err(self.errorf(format!("range can't iterate over {}", gofmt::to_string(other))));
            }
        }
        if !ran && let Some(e) = else_list {
            self.walk_list(dot, e)?;
        }
        self.vars.truncate(mark0);
        Ok(())
    }

    /// One pass of a range body; `false` after `{{break}}`.
    fn one_iteration(&mut self, pipe: &'t Pipe, list: &'t List, mark: usize, index: Value, elem: Dot) -> R<bool> {
        self.step()?;
        let n = pipe.decl.len();
        if n > 0 {
            if pipe.is_assign {
                let (name, v) = if n > 1 { (0, index.clone()) } else { (0, elem.v.clone()) };
                self.set_var(pipe.decl.get(name).map_or("", String::as_str), v)?;
            } else {
                self.set_top_var(1, elem.v.clone());
            }
        }
        if n > 1 {
            if pipe.is_assign {
                self.set_var(pipe.decl.get(1).map_or("", String::as_str), elem.v.clone())?;
            } else {
                self.set_top_var(2, index);
            }
        }
        let r = self.walk_list(&elem, list);
        self.vars.truncate(mark);
        match r {
            Ok(()) | Err(Flow::Continue) => Ok(true),
            Err(Flow::Break) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn set_top_var(&mut self, n: usize, v: Value) {
        let len = self.vars.len();
        if let Some(slot) = len.checked_sub(n).and_then(|i| self.vars.get_mut(i)) {
            slot.1 = v;
        }
    }

    fn set_var(&mut self, name: &str, v: Value) -> R<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = v;
                Ok(())
            }
            None => Err(self.errorf(format!("undefined variable: {name}"))),
        }
    }

    fn var_value(&self, name: &str) -> R<Value> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.errorf(format!("undefined variable: {name}"))),
        }
    }

    fn print_value(&mut self, v: &Value) -> R<()> {
        let (v, _) = match v {
            Value::Ptr(..) => indirect(v),
            _ => (v.clone(), false),
        };
        let s = match v {
            Value::Invalid => "<no value>".to_string(),
            // Reached through a pointer or a field, a struct is addressable: its pointer's
            // `String` method prints it, as text/template's `printableValue` takes it.
            v => super::methods::struct_string(&v).unwrap_or_else(|| gofmt::to_string(&v)),
        };
        // A value's text holds Go's bytes (gostr); the template's own text is as written.
        let bytes = super::gostr::bytes(&s);
        self.write_bytes(&bytes)
    }

    pub fn eval_pipeline(&mut self, dot: &Dot, pipe: &'t Pipe) -> R<Value> {
        self.at = At::Pipe(pipe);
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(dot, cmd, value.take())?;
            // A nil interface{} result is no value at all (Go's "dig down one level").
            value = Some(match v {
                Value::Nil => Value::Invalid,
                v => v,
            });
        }
        let value = value.unwrap_or(Value::Invalid);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone())?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &'t [Arg], final_: &Option<Value>) -> R<()> {
        if args.len() > 1 || final_.is_some() {
            let first = args.first().map(ToString::to_string).unwrap_or_default();
            return Err(self.errorf(format!("can't give argument to non-function {first}")));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Dot, cmd: &'t Command, final_: Option<Value>) -> R<Value> {
        self.step()?;
        let Some(first) = cmd.args.first() else {
            return Err(self.errorf("empty command"));
        };
        match first {
            Arg::Field { idents, .. } => {
                return self.eval_field_node(dot, first, idents, &cmd.args, final_);
            }
            Arg::Chain { node, fields, .. } => {
                return self.eval_chain_node(dot, first, node, fields, &cmd.args, final_);
            }
            Arg::Identifier { name, .. } => {
                self.at = At::Arg(first);
                return self.eval_call(dot, At::Cmd(cmd), name, cmd.args.get(1..).unwrap_or(&[]), final_);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &final_)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable { idents, .. } => return self.eval_variable_node(dot, first, idents, &cmd.args, final_),
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, &final_)?;
        match first {
            Arg::Bool { value, .. } => Ok(Value::Bool(*value)),
            Arg::Dot { .. } => Ok(dot.v.clone()),
            Arg::Nil { .. } => Err(self.errorf("nil is not a command")),
            Arg::Number { .. } => self.ideal_constant(first),
            Arg::String { text, .. } => Ok(Value::string(text)),
            other => Err(self.errorf(format!("can't evaluate command {}", gofmt::quote(&other.to_string())))),
        }
    }

    fn ideal_constant(&mut self, arg: &'t Arg) -> R<Value> {
        self.at = At::Arg(arg);
        let Arg::Number { num, .. } = arg else {
            return Ok(Value::Invalid);
        };
        if let Some((re, im)) = num.complex {
            return Ok(Value::Complex(re, im));
        }
        let t = &num.text;
        let hex_int = t.len() > 2 && (t.starts_with("0x") || t.starts_with("0X")) && !t.contains(['p', 'P']);
        let rune = t.starts_with('\'');
        if let Some(f) = num.float
            && !hex_int
            && !rune
            && t.contains(['.', 'e', 'E', 'p', 'P'])
        {
            return Ok(Value::Float(f));
        }
        if let Some(i) = num.int {
            return Ok(Value::int(i));
        }
        if num.uint.is_some() {
            return Err(self.errorf(format!("{t} overflows int")));
        }
        Ok(Value::Invalid)
    }

    /// `.a.b args...`: `args` are the command's arguments, this node first (Go's `cmd.Args`),
    /// or none; only a method takes the others.
    fn eval_field_node(
        &mut self,
        dot: &Dot,
        node: &'t Arg,
        idents: &[String],
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at = At::Arg(node);
        // The parser gives a field at least one name; none would be the dot itself.
        if idents.is_empty() {
            return Ok(dot.v.clone());
        }
        self.eval_field_chain(dot, At::Arg(node), dot.v.clone(), dot.iface, idents, args, final_)
            .map(|(v, _)| v)
    }

    /// A method's call, as Go's `evalCall` checks and makes it: the count of arguments, then
    /// of results, then each argument against its parameter's type.
    fn call_method(
        &mut self,
        dot: &Dot,
        node: At<'t>,
        m: &MethodDef,
        receiver: &Value,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        let num_in = args.len() + usize::from(final_.is_some());
        if num_in != m.params.len() {
            return Err(self.errorf(format!(
                "wrong number of args for {}: want {} got {num_in}",
                m.name,
                m.params.len()
            )));
        }
        // Two results are a value and an error (the only second result these types have).
        if !matches!(m.results, 1 | 2) {
            return Err(self.errorf(format!(
                "can't call method/function {} with {} results",
                gofmt::quote(m.name),
                m.results
            )));
        }
        let mut argv = Vec::with_capacity(num_in);
        for (a, ty) in args.iter().zip(m.params) {
            argv.push(self.eval_arg(dot, Param::of(ty), a)?);
        }
        if let (Some(f), Some(ty)) = (final_, m.params.last()) {
            argv.push(self.validate(f, Param::of(ty))?);
        }
        // A failed call is reported at the field or chain that made it.
        self.at = node;
        let v = (m.call)(receiver, &argv).map_err(|e| self.errorf(format!("error calling {}: {e}", m.name)))?;
        // A method builds its result from the data each call (`.Labels`): a string's bytes count.
        if let Value::Str(s, _) = &v {
            self.charge(s.len() as u64 / BYTES_PER_STEP)?;
        }
        Ok(v)
    }

    fn eval_chain_node(
        &mut self,
        dot: &Dot,
        chain: &'t Arg,
        node: &'t Arg,
        fields: &[String],
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at = At::Arg(chain);
        if let Arg::Nil { .. } = node {
            return Err(self.errorf(format!("indirection through explicit nil in {chain}")));
        }
        // Untyped, as Go's `evalArg(dot, nil, ...)`: a nil result stays no value. The fields'
        // errors are reported where that evaluation left off, as Go reports them.
        let pipe = self.eval_arg(dot, Param::Value, node)?;
        self.eval_field_chain(dot, At::Arg(chain), pipe, false, fields, args, final_)
            .map(|(v, _)| v)
    }

    fn eval_variable_node(
        &mut self,
        dot: &Dot,
        node: &'t Arg,
        idents: &[String],
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at = At::Arg(node);
        let value = self.var_value(idents.first().map_or("", String::as_str))?;
        if idents.len() == 1 {
            self.not_a_function(args, &final_)?;
            return Ok(value);
        }
        self.eval_field_chain(
            dot,
            At::Arg(node),
            value,
            false,
            idents.get(1..).unwrap_or(&[]),
            args,
            final_,
        )
        .map(|(v, _)| v)
    }

    /// `.a.b.c` of `receiver`, and whether the result's static type is `interface {}`: `args`
    /// (this node first, as Go's `cmd.Args`, or none) and `final_` go to the last name.
    #[allow(clippy::too_many_arguments)]
    fn eval_field_chain(
        &mut self,
        dot: &Dot,
        node: At<'t>,
        receiver: Value,
        iface: bool,
        idents: &[String],
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<(Value, bool)> {
        let mut receiver = (receiver, iface);
        let mut final_ = final_;
        let n = idents.len();
        for (i, ident) in idents.iter().enumerate() {
            receiver = if i + 1 == n {
                self.eval_field(dot, node, ident, args, final_.take(), &receiver.0, receiver.1)?
            } else {
                self.eval_field(dot, node, ident, &[], None, &receiver.0, receiver.1)?
            };
        }
        Ok(receiver)
    }

    /// `.name` of `receiver` (a method's call, a struct's field or a map's element), and
    /// whether the result's static type is `interface {}`.
    #[allow(clippy::too_many_arguments)]
    fn eval_field(
        &mut self,
        dot: &Dot,
        node: At<'t>,
        name: &str,
        args: &'t [Arg],
        final_: Option<Value>,
        receiver: &Value,
        iface: bool,
    ) -> R<(Value, bool)> {
        if let Value::Invalid = receiver {
            if self.missing == MissingKey::Error {
                return Err(self.errorf(format!("nil data; no entry for key {}", gofmt::quote(name))));
            }
            return Ok((Value::Invalid, false));
        }
        let typ = if iface || matches!(receiver, Value::Nil) {
            "interface {}".to_string()
        } else {
            receiver.type_name()
        };
        let (r, is_nil) = indirect(receiver);
        if let Value::Nil = r {
            return Err(self.errorf(format!("nil pointer evaluating {typ}.{name}")));
        }
        // Methods first, as Go looks them up before fields and map keys. (A value reached
        // through a pointer or a field is addressable in Go, so pointer methods count too.)
        // A nil pointer still has its type's methods: Go calls them with a nil receiver,
        // which each method here takes as Go's does (`Copy` gives nil, others fail).
        let methods = match &r {
            Value::Ptr(None, Type::Ptr(t)) => t.methods(),
            r => r.methods(),
        };
        if let Some(m) = methods.iter().find(|m| m.name == name) {
            self.used(name);
            let v = self.call_method(dot, node, m, &r, args.get(1..).unwrap_or(&[]), final_)?;
            return Ok((v, false));
        }
        let has_args = args.len() > 1 || final_.is_some();
        match &r {
            Value::Struct(fields, def) => {
                self.used(name);
                if let Some((v, ty)) = funcs::struct_field(fields, def, name) {
                    if has_args {
                        return Err(self.errorf(format!("{name} has arguments but cannot be invoked as function")));
                    }
                    return Ok((v, *ty == Type::Any));
                }
            }
            // A key type other than string (`nat.Port`) takes no field name as a key.
            Value::Map(m, ty) if *ty.key() == Type::String => {
                if has_args {
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                let elem = ty.elem();
                return match m.as_ref().and_then(|m| m.get(name)) {
                    Some(v) => Ok((v.clone(), *elem == Type::Any)),
                    None => match self.missing {
                        MissingKey::Default => Ok((Value::Invalid, false)),
                        MissingKey::Zero => Ok((elem.zero(), *elem == Type::Any)),
                        MissingKey::Error => {
                            Err(self.errorf(format!("map has no entry for key {}", gofmt::quote(name))))
                        }
                    },
                };
            }
            Value::Ptr(None, Type::Ptr(Type::Struct(def))) => {
                if !funcs::has_field(def, name) {
                    return Err(self.errorf(format!("can't evaluate field {name} in type {typ}")));
                }
                if is_nil {
                    return Err(self.errorf(format!("nil pointer evaluating {typ}.{name}")));
                }
            }
            _ => {}
        }
        Err(self.errorf(format!("can't evaluate field {name} in type {typ}")))
    }

    /// Calls the function `name` with `args` (and the previous command's result, `final_`).
    fn eval_call(&mut self, dot: &Dot, node: At<'t>, name: &str, args: &'t [Arg], final_: Option<Value>) -> R<Value> {
        let header = if self.header {
            funcs::header_signature(name)
        } else {
            None
        };
        let is_header = header.is_some();
        let Some(sig) = header.or_else(|| funcs::signature(name)) else {
            return Err(self.errorf(format!("{} is not a defined function", gofmt::quote(name))));
        };
        let num_in = args.len() + usize::from(final_.is_some());
        let num_fixed = sig.fixed.len();
        if sig.variadic.is_some() {
            if num_in < num_fixed {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least {num_fixed} got {}",
                    args.len()
                )));
            }
        } else if num_in != num_fixed {
            return Err(self.errorf(format!(
                "wrong number of args for {name}: want {num_fixed} got {num_in}"
            )));
        }
        if name == "and" || name == "or" {
            let mut v = Value::Invalid;
            for a in args {
                v = self.eval_arg(dot, Param::Value, a)?;
                if is_true(&indirect_interface(&v)) == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(f) = final_ {
                v = self.validate(f, Param::Value)?;
            }
            return Ok(v);
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            let param = match sig.fixed.get(i) {
                Some(p) => *p,
                None => sig.variadic.unwrap_or(Param::Any),
            };
            argv.push(self.eval_arg(dot, param, a)?);
        }
        if let Some(f) = final_ {
            let param = match (sig.variadic, sig.fixed.get(num_in - 1)) {
                (Some(_), Some(p)) => *p,
                (Some(v), None) => v,
                (None, _) => sig.fixed.last().copied().unwrap_or(Param::Any),
            };
            argv.push(self.validate(f, param)?);
        }
        if name == "json" && self.fields_used.is_some() {
            for v in &argv {
                if let (Value::Struct(_, def), _) = indirect(&indirect_interface(v)) {
                    for f in def.fields {
                        self.used(f.name);
                    }
                }
            }
        }
        if is_header {
            // Each gives back the column's name it was handed.
            return Ok(argv.into_iter().next().unwrap_or(Value::Invalid));
        }
        let mut work = 0;
        match funcs::call(name, &argv, &mut work) {
            Ok(v) => {
                self.charge(work / BYTES_PER_STEP)?;
                Ok(v)
            }
            Err(e) => {
                self.at = node;
                Err(self.errorf(format!("error calling {name}: {e}")))
            }
        }
    }

    fn eval_arg(&mut self, dot: &Dot, param: Param, arg: &'t Arg) -> R<Value> {
        self.at = At::Arg(arg);
        match arg {
            Arg::Dot { .. } => return self.validate(dot.v.clone(), param),
            Arg::Nil { .. } => {
                return match param {
                    Param::Any => Ok(Value::Nil),
                    Param::Value => Ok(Value::Invalid),
                    Param::Strings => Ok(Value::Slice(None, &super::value::SLICE_STRING)),
                    Param::Of(ty) if can_be_nil(ty) => Ok(ty.zero()),
                    p => Err(self.errorf(format!("cannot assign nil to {}", p.name()))),
                };
            }
            Arg::Field { idents, .. } => {
                let v = self.eval_field_node(dot, arg, idents, &[], None)?;
                return self.validate(v, param);
            }
            Arg::Variable { idents, .. } => {
                let v = self.eval_variable_node(dot, arg, idents, &[], None)?;
                return self.validate(v, param);
            }
            Arg::Pipe(p) => {
                let v = self.eval_pipeline(dot, p)?;
                return self.validate(v, param);
            }
            Arg::Identifier { name, .. } => {
                let v = self.eval_call(dot, At::Arg(arg), name, &[], None)?;
                return self.validate(v, param);
            }
            Arg::Chain { node, fields, .. } => {
                let v = self.eval_chain_node(dot, arg, node, fields, &[], None)?;
                return self.validate(v, param);
            }
            _ => {}
        }
        match (param, arg) {
            (Param::Any | Param::Value, Arg::Bool { value, .. }) => Ok(Value::Bool(*value)),
            (Param::Any | Param::Value, Arg::Number { .. }) => self.ideal_constant(arg),
            (Param::Any | Param::Value | Param::String, Arg::String { text, .. }) => Ok(Value::string(text)),
            (Param::Of(ty), Arg::String { text, .. }) if *ty.under() == Type::String => {
                Ok(Value::Str(std::rc::Rc::from(text.as_str()), ty))
            }
            (Param::Int, Arg::Number { num, .. }) if num.int.is_some() => Ok(Value::int(num.int.unwrap_or(0))),
            (Param::Int, _) => Err(self.errorf(format!("expected integer; found {arg}"))),
            (Param::String, _) => Err(self.errorf(format!("expected string; found {arg}"))),
            (p, _) => Err(self.errorf(format!("can't handle {arg} for arg of type {}", p.name()))),
        }
    }

    /// `validateType` for a parameter of type `ty`: a value of that type; through one pointer
    /// to one; or, for a pointer parameter, the address of one (what templates reach through
    /// fields and pointers is addressable in Go).
    fn validate_typed(&self, value: Value, ty: &'static Type) -> R<Value> {
        let name = ty.name();
        let got = match &value {
            Value::Nil => "interface {}".to_string(),
            v => v.type_name(),
        };
        if got == name {
            return Ok(value);
        }
        match (&value, ty) {
            (Value::Ptr(target, Type::Ptr(inner)), _) if inner.name() == name => match target {
                Some(t) => Ok((**t).clone()),
                None => Err(self.errorf(format!("dereference of nil pointer of type {name}"))),
            },
            (_, Type::Ptr(inner)) if inner.name() == got => Ok(Value::Ptr(Some(std::rc::Rc::new(value)), ty)),
            _ => Err(self.errorf(format!("wrong type for value; expected {name}; got {got}"))),
        }
    }

    /// Go's `validateType`: `value` as an argument of type `param`.
    fn validate(&self, value: Value, param: Param) -> R<Value> {
        if let Value::Invalid = value {
            return match param {
                Param::Any => Ok(Value::Nil),
                Param::Value => Ok(Value::Invalid),
                Param::Strings => Ok(Value::Slice(None, &super::value::SLICE_STRING)),
                Param::Of(ty) if can_be_nil(ty) => Ok(ty.zero()),
                p => Err(self.errorf(format!("invalid value; expected {}", p.name()))),
            };
        }
        if let Param::Of(ty) = param {
            return self.validate_typed(value, ty);
        }
        let ok = match param {
            Param::Any | Param::Value => true,
            Param::String => matches!(value, Value::Str(_, Type::String)),
            Param::Int => matches!(value, Value::Int(_, Type::Int)),
            // A named `[]string` (`strslice.StrSlice`) is assignable to one.
            Param::Strings => matches!(&value, Value::Slice(_, t) if *t.under() == super::value::SLICE_STRING),
            Param::Of(_) => false,
        };
        if ok {
            return Ok(value);
        }
        let got = match value {
            Value::Nil => "interface {}".to_string(),
            v => v.type_name(),
        };
        Err(self.errorf(format!("wrong type for value; expected {}; got {got}", param.name())))
    }
}

/// Whether a value of the type can be nil (Go's `canBeNil`).
fn can_be_nil(ty: &'static Type) -> bool {
    matches!(ty.under(), Type::Any | Type::Slice(_) | Type::Map(..) | Type::Ptr(_))
}

/// Follows pointers; a nil pointer or nil interface stops there: `(value, is_nil)`.
pub fn indirect(v: &Value) -> (Value, bool) {
    let mut v = v.clone();
    loop {
        match v {
            Value::Ptr(Some(t), _) => v = (*t).clone(),
            Value::Ptr(None, _) | Value::Nil => return (v, true),
            other => return (other, false),
        }
    }
}

/// A nil interface is no value.
pub fn indirect_interface(v: &Value) -> Value {
    match v {
        Value::Nil => Value::Invalid,
        v => v.clone(),
    }
}

/// Go's `isTrue`: the zero of each type is false, structs are always true.
pub fn is_true(v: &Value) -> bool {
    match v {
        Value::Invalid | Value::Nil => false,
        Value::Bool(b) => *b,
        Value::Int(i, _) => *i != 0,
        Value::Uint(u, _) => *u != 0,
        Value::Float(f) => *f != 0.0,
        Value::Complex(re, im) => *re != 0.0 || *im != 0.0,
        Value::Str(s, _) => !s.is_empty(),
        Value::Slice(i, _) => i.as_ref().is_some_and(|i| !i.is_empty()),
        Value::Map(m, _) => m.as_ref().is_some_and(|m| !m.is_empty()),
        Value::Ptr(p, _) => p.is_some(),
        Value::Struct(..) | Value::Time(_) => true,
    }
}
