//! The `.fxir` parser: recursive descent over an on-demand token stream, building the program
//! through the public graph API. Every failure is a [`ParseError`] at a source position; the
//! parser never panics, whatever the input.

use super::lexer::{LexError, Lexer, Tok, Token};
use super::{not_loaded_message, FxMap, ParseError, MAX_NESTING};
use crate::dim::{Dim, SymName};
use crate::dtype::DType;
use crate::graph::{Arg, Graph, GraphId, NodeBuilder, NodeMeta, Op, SegmentTag, ValueId, F64};
use crate::program::{
    DimSpec, InputKind, InputSpec, OutputKind, Program, ProgramMeta, Signature, SymKind, Symbol,
    Weight, WeightData,
};
use crate::types::{Shape, Type};
use cranelift_entity::{EntityRef, PrimaryMap};
use indexmap::IndexMap;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// A parse failure at a byte offset; rendered into a [`ParseError`] at the end.
struct PErr {
    offset: usize,
    msg: String,
}

impl From<LexError> for PErr {
    fn from(e: LexError) -> Self {
        PErr {
            offset: e.offset,
            msg: e.msg,
        }
    }
}

type PResult<T> = Result<T, PErr>;

/// Most factors in one product of a dim expression; bounds the work hostile input can cause.
const MAX_FACTORS: usize = 1024;

pub(crate) fn parse(
    src: &str,
    weights: Option<IndexMap<String, Weight>>,
) -> Result<Program, ParseError> {
    let mut p = Parser::new(src);
    p.program_text()
        .and_then(|()| p.finish(weights))
        .map_err(|e| ParseError::new(src, e.offset, e.msg))
}

/// Per-graph facts checked once the whole text is read (the entry graph may be named late).
struct GraphInfo {
    /// One entry per placeholder in order: its signature kind (if written) and where.
    placeholder_kinds: Vec<(Option<InputKind>, usize)>,
    /// The `-> (...)` clause, if written, and where.
    outputs: Option<(Vec<OutputKind>, usize)>,
}

struct Parser<'a> {
    src: &'a str,
    lex: Lexer<'a>,
    ahead: VecDeque<Token>,
    depth: usize,
    /// Graph reference → index, from a pre-scan of `graph @name` headers, so references may
    /// point forward (the main graph calls subgraphs printed after it).
    graph_index: FxMap<String, u32>,
    graphs: PrimaryMap<GraphId, Graph>,
    infos: Vec<GraphInfo>,
    symbols: IndexMap<SymName, Symbol>,
    input_specs: Vec<InputSpec>,
    weights: IndexMap<String, Weight>,
    weight_at: HashMap<String, usize>,
    meta: ProgramMeta,
    entry: Option<(GraphId, usize)>,
    /// Symbol and small-constant dims already built: cloning shares their storage instead of
    /// allocating per occurrence.
    sym_dims: FxMap<&'a str, Dim>,
    const_dims: Vec<Dim>,
}

/// Values visible in the graph being parsed.
type Scope = FxMap<String, ValueId>;

/// Positional and keyword arguments of a node.
type ArgList = (Vec<Arg>, Vec<(String, Arg)>);

fn prescan(src: &str) -> FxMap<String, u32> {
    let mut map = FxMap::default();
    let mut lex = Lexer::new(src);
    let mut prev_graph_kw = false;
    let mut count = 0u32;
    // A lexical error stops the scan; the main parse reports it at its position.
    while let Ok(t) = lex.next_token() {
        match t.tok {
            Tok::Eof => break,
            Tok::GraphRef if prev_graph_kw => {
                map.entry(src[t.start + 1..t.end].to_string())
                    .or_insert(count);
                count = count.saturating_add(1);
            }
            _ => {}
        }
        prev_graph_kw = t.tok == Tok::Ident && &src[t.start..t.end] == "graph";
    }
    map
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser {
            src,
            lex: Lexer::new(src),
            ahead: VecDeque::new(),
            depth: 0,
            graph_index: prescan(src),
            graphs: PrimaryMap::new(),
            infos: Vec::new(),
            symbols: IndexMap::new(),
            input_specs: Vec::new(),
            weights: IndexMap::new(),
            weight_at: HashMap::new(),
            meta: ProgramMeta::default(),
            entry: None,
            sym_dims: FxMap::default(),
            const_dims: (0..64).map(Dim::constant).collect(),
        }
    }

    // ---- token plumbing -------------------------------------------------------------------

    fn fill(&mut self, k: usize) -> PResult<()> {
        while self.ahead.len() <= k {
            let t = self.lex.next_token()?;
            self.ahead.push_back(t);
        }
        Ok(())
    }

    fn peek(&mut self) -> PResult<&Token> {
        self.peek_nth(0)
    }

    fn peek_nth(&mut self, k: usize) -> PResult<&Token> {
        self.fill(k)?;
        Ok(&self.ahead[k])
    }

    fn next(&mut self) -> PResult<Token> {
        self.fill(0)?;
        Ok(self.ahead.pop_front().unwrap_or(Token {
            tok: Tok::Eof,
            start: self.src.len(),
            end: self.src.len(),
        }))
    }

    fn text(&self, t: &Token) -> &'a str {
        let src = self.src;
        &src[t.start..t.end]
    }

    /// The name of a `%name` or `@name` token, without the sigil.
    fn sigil_name(&self, t: &Token) -> &'a str {
        let src = self.src;
        &src[t.start + 1..t.end]
    }

    fn at(&mut self, tok: &Tok) -> PResult<bool> {
        Ok(&self.peek()?.tok == tok)
    }

    fn at_ident(&mut self, word: &str) -> PResult<bool> {
        let src = self.src;
        let t = self.peek()?;
        Ok(t.tok == Tok::Ident && &src[t.start..t.end] == word)
    }

    fn eat(&mut self, tok: &Tok) -> PResult<bool> {
        if self.at(tok)? {
            self.next()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn err_here<T>(&mut self, msg: impl Into<String>) -> PResult<T> {
        let offset = self.peek()?.start;
        Err(PErr {
            offset,
            msg: msg.into(),
        })
    }

    fn err_at<T>(offset: usize, msg: impl Into<String>) -> PResult<T> {
        Err(PErr {
            offset,
            msg: msg.into(),
        })
    }

    /// Consumes `tok` or fails with "expected X `context`, found Y".
    fn expect(&mut self, tok: &Tok, context: &str) -> PResult<Token> {
        if self.at(tok)? {
            return self.next();
        }
        let found = self.peek()?.tok.describe();
        self.err_here(format!(
            "expected {} {context}, found {found}",
            tok.describe()
        ))
    }

    fn expect_ident(&mut self, what: &str) -> PResult<(&'a str, usize)> {
        let t = self.peek()?;
        if t.tok == Tok::Ident {
            let t = self.next()?;
            return Ok((self.text(&t), t.start));
        }
        let found = t.tok.describe();
        self.err_here(format!("expected {what}, found {found}"))
    }

    fn expect_str(&mut self, what: &str) -> PResult<(String, usize)> {
        if let Tok::Str(_) = self.peek()?.tok {
            let t = self.next()?;
            if let Tok::Str(s) = t.tok {
                return Ok((s, t.start));
            }
        }
        let found = self.peek()?.tok.describe();
        self.err_here(format!("expected {what}, found {found}"))
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return self.err_here(format!("nesting deeper than {MAX_NESTING} levels"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- numbers ---------------------------------------------------------------------------

    /// An optionally negative integer literal. The magnitude 2^63 is accepted only when negated
    /// (`i64::MIN`); anything else outside `i64` is an error, never a wrap.
    fn signed_int(&mut self, what: &str) -> PResult<i64> {
        let neg = self.eat(&Tok::Minus)?;
        self.int_magnitude(neg, what)
    }

    fn int_magnitude(&mut self, neg: bool, what: &str) -> PResult<i64> {
        let t = self.peek()?;
        let Tok::Int(v) = t.tok else {
            let found = t.tok.describe();
            return self.err_here(format!("expected {what}, found {found}"));
        };
        let start = t.start;
        self.next()?;
        int_from_magnitude(v, neg)
            .ok_or(())
            .or_else(|()| Self::err_at(start, "integer literal out of range for i64"))
    }

    // ---- program ---------------------------------------------------------------------------

    fn program_text(&mut self) -> PResult<()> {
        let wrapped = self.at_ident("program")? && self.peek_nth(1)?.tok == Tok::LBrace;
        if wrapped {
            self.next()?;
            self.next()?;
        }
        loop {
            let t = self.peek()?.clone();
            match t.tok {
                Tok::Eof if wrapped => return self.err_here("expected '}' to close `program {`"),
                Tok::Eof => return Ok(()),
                Tok::RBrace if wrapped => {
                    self.next()?;
                    if !self.at(&Tok::Eof)? {
                        return self.err_here("unexpected text after the end of the program");
                    }
                    return Ok(());
                }
                Tok::Ident => {
                    let word = self.text(&t);
                    match word {
                        "dialect" => {
                            self.next()?;
                            self.meta.dialect = Some(self.expect_str("a dialect string")?.0);
                        }
                        "torch_version" => {
                            self.next()?;
                            self.meta.torch_version = Some(self.expect_str("a version string")?.0);
                        }
                        "entry" => {
                            let start = self.next()?.start;
                            let g = self.graph_ref()?;
                            if self.entry.is_some() {
                                return Self::err_at(start, "the entry graph is named twice");
                            }
                            self.entry = Some((g, start));
                        }
                        "sym" => self.symbol()?,
                        "input" => self.input_spec()?,
                        "weight" => self.weight()?,
                        "graph" => self.graph()?,
                        _ => {
                            return self.err_here(format!(
                                "expected a program item (sym, input, weight, graph, ...), found `{word}`"
                            ))
                        }
                    }
                }
                _ => {
                    let found = t.tok.describe();
                    return self.err_here(format!(
                        "expected a program item (sym, input, weight, graph, ...), found {found}"
                    ));
                }
            }
        }
    }

    fn finish(&mut self, supplied: Option<IndexMap<String, Weight>>) -> PResult<Program> {
        let main = match self.entry {
            Some((g, _)) => g,
            None => GraphId::new(0),
        };
        let mut signature = Signature::default();
        for (i, info) in self.infos.iter_mut().enumerate() {
            let is_main = i == main.index();
            let mut seen_unannotated = false;
            for (kind, at) in info.placeholder_kinds.drain(..) {
                match kind {
                    Some(_) if !is_main => {
                        return Self::err_at(
                            at,
                            "only the entry graph's placeholders carry signature kinds",
                        )
                    }
                    Some(_) if seen_unannotated => {
                        return Self::err_at(
                            at,
                            "signature kind after a placeholder without one (kinds pair with the leading placeholders)",
                        )
                    }
                    Some(k) => signature.inputs.push(k),
                    None => seen_unannotated = true,
                }
            }
            if let Some((outs, at)) = info.outputs.take() {
                if !is_main {
                    return Self::err_at(at, "only the entry graph declares output kinds");
                }
                signature.outputs = outs;
            }
        }
        let mut weights = std::mem::take(&mut self.weights);
        if let Some(supplied) = supplied {
            for (name, w) in supplied {
                let Some(slot) = weights.get_mut(&name) else {
                    return Self::err_at(
                        self.src.len(),
                        format!("weight {name:?} was supplied but the text does not declare it"),
                    );
                };
                if slot.dtype != w.dtype || slot.shape != w.shape {
                    let at = self.weight_at.get(&name).copied().unwrap_or(0);
                    return Self::err_at(
                        at,
                        format!(
                            "supplied weight {name:?} is {}{:?} but the text declares {}{:?}",
                            w.dtype, w.shape, slot.dtype, slot.shape
                        ),
                    );
                }
                *slot = w;
            }
        }
        Ok(Program {
            graphs: std::mem::take(&mut self.graphs),
            main,
            symbols: std::mem::take(&mut self.symbols),
            signature,
            weights,
            input_specs: std::mem::take(&mut self.input_specs),
            meta: std::mem::take(&mut self.meta),
        })
    }

    fn graph_ref(&mut self) -> PResult<GraphId> {
        let t = self.expect(&Tok::GraphRef, "(a graph reference)")?;
        let name = self.sigil_name(&t);
        match self.graph_index.get(name) {
            Some(&i) => Ok(GraphId::new(i as usize)),
            None => Self::err_at(t.start, format!("unknown graph @{name}")),
        }
    }

    fn range(&mut self) -> PResult<(Option<i64>, Option<i64>)> {
        let lo = if matches!(self.peek()?.tok, Tok::Int(_) | Tok::Minus) {
            Some(self.signed_int("a lower bound")?)
        } else {
            None
        };
        if self.eat(&Tok::DotDotEq)? {
            Ok((lo, Some(self.signed_int("an upper bound")?)))
        } else if self.eat(&Tok::DotDot)? {
            if matches!(self.peek()?.tok, Tok::Int(_) | Tok::Lt) {
                return self
                    .err_here("ranges are inclusive: write `lo..=hi` (or `lo..` when unbounded)");
            }
            Ok((lo, None))
        } else {
            let found = self.peek()?.tok.describe();
            self.err_here(format!(
                "expected '..=' or '..' in a range (ranges are inclusive: 1..=64), found {found}"
            ))
        }
    }

    fn symbol(&mut self) -> PResult<()> {
        self.next()?; // sym
        let t = self.next()?;
        let name: SymName = match &t.tok {
            Tok::Ident => Arc::from(self.text(&t)),
            Tok::Str(s) => Arc::from(s.as_str()),
            other => {
                return Self::err_at(
                    t.start,
                    format!("expected a symbol name, found {}", other.describe()),
                )
            }
        };
        if self.symbols.contains_key(&name) {
            return Self::err_at(t.start, format!("symbol `{name}` is declared twice"));
        }
        self.expect(&Tok::Colon, "after the symbol name")?;
        let (kind, at) = self.expect_ident("a symbol kind (size, int, unbacked, float)")?;
        let kind = match kind {
            "size" => SymKind::Size,
            "int" => SymKind::Int,
            "unbacked" => SymKind::Unbacked,
            "float" => SymKind::Float,
            other => {
                return Self::err_at(
                    at,
                    format!(
                        "unknown symbol kind `{other}` (expected size, int, unbacked or float)"
                    ),
                )
            }
        };
        let (min, max) = if self.at_ident("in")? {
            self.next()?;
            self.range()?
        } else {
            (None, None)
        };
        let hint = if self.at_ident("hint")? {
            self.next()?;
            Some(self.signed_int("a hint value")?)
        } else {
            None
        };
        self.symbols.insert(
            name,
            Symbol {
                kind,
                min,
                max,
                hint,
            },
        );
        Ok(())
    }

    fn dtype(&mut self) -> PResult<DType> {
        let (word, at) = self.expect_ident("a dtype")?;
        word.parse::<DType>()
            .or_else(|_| Self::err_at(at, format!("unknown dtype `{word}`")))
    }

    fn input_spec(&mut self) -> PResult<()> {
        self.next()?; // input
        let (name, _) = self.expect_str("the input's name as a string")?;
        self.expect(&Tok::Colon, "after the input name")?;
        if self.at_ident("scalar")? {
            self.next()?;
            let dtype = self.dtype()?;
            let range = if self.at_ident("in")? {
                self.next()?;
                Some(self.range()?)
            } else {
                None
            };
            self.input_specs
                .push(InputSpec::Scalar { name, dtype, range });
            return Ok(());
        }
        let dtype = self.dtype()?;
        self.expect(&Tok::LBracket, "after the dtype")?;
        let mut dims = Vec::new();
        if !self.eat(&Tok::RBracket)? {
            loop {
                dims.push(self.dim_spec()?);
                if self.eat(&Tok::RBracket)? {
                    break;
                }
                self.expect(&Tok::Comma, "or ']' in the input's dims")?;
            }
        }
        self.input_specs
            .push(InputSpec::Tensor { name, dtype, dims });
        Ok(())
    }

    fn dim_spec(&mut self) -> PResult<DimSpec> {
        let t = self.peek()?.clone();
        let sym: Option<SymName> = match &t.tok {
            Tok::Int(_) | Tok::Minus => {
                return Ok(DimSpec::Static(self.signed_int("a static size")?));
            }
            Tok::Question => None,
            Tok::Ident => Some(Arc::from(self.text(&t))),
            Tok::Str(s) => Some(Arc::from(s.as_str())),
            other => {
                let found = other.describe();
                return self.err_here(format!(
                    "expected a size or `sym(min=.., opt=.., max=..)`, found {found}"
                ));
            }
        };
        self.next()?;
        self.expect(&Tok::LParen, "after a dynamic dim's symbol")?;
        let mut vals = [0i64; 3];
        for (i, key) in ["min", "opt", "max"].iter().enumerate() {
            if i > 0 {
                self.expect(&Tok::Comma, "between min, opt and max")?;
            }
            let (k, at) = self.expect_ident(&format!("`{key}=`"))?;
            if k != *key {
                return Self::err_at(at, format!("expected `{key}=`, found `{k}`"));
            }
            self.expect(&Tok::Eq, &format!("after `{key}`"))?;
            vals[i] = self.signed_int("a size")?;
        }
        self.expect(&Tok::RParen, "after max=")?;
        Ok(DimSpec::Dynamic {
            sym,
            min: vals[0],
            opt: vals[1],
            max: vals[2],
        })
    }

    fn weight(&mut self) -> PResult<()> {
        self.next()?; // weight
        let (name, at) = self.expect_str("the weight's name as a string")?;
        if self.weights.contains_key(&name) {
            return Self::err_at(at, format!("weight {name:?} is declared twice"));
        }
        self.expect(&Tok::Colon, "after the weight name")?;
        let dtype = self.dtype()?;
        self.expect(&Tok::LBracket, "after the dtype")?;
        let mut shape = Vec::new();
        if !self.eat(&Tok::RBracket)? {
            loop {
                shape.push(self.signed_int("a static size")?);
                if self.eat(&Tok::RBracket)? {
                    break;
                }
                self.expect(&Tok::Comma, "or ']' in the weight's shape")?;
            }
        }
        let data = if self.at_ident("opaque")? {
            self.next()?;
            WeightData::Opaque(self.expect_str("the opaque reason as a string")?.0)
        } else {
            WeightData::Opaque(not_loaded_message(&name))
        };
        self.weight_at.insert(name.clone(), at);
        self.weights.insert(name, Weight { dtype, shape, data });
        Ok(())
    }

    // ---- types and dims --------------------------------------------------------------------

    fn ty(&mut self) -> PResult<Type> {
        self.enter()?;
        let r = self.ty_inner();
        self.leave();
        r
    }

    fn ty_inner(&mut self) -> PResult<Type> {
        let (word, at) = self.expect_ident("a type")?;
        Ok(match word {
            "symint" => {
                if self.eat(&Tok::LParen)? {
                    let d = self.dim()?;
                    self.expect(&Tok::RParen, "after the symint expression")?;
                    Type::SymInt(Some(d))
                } else {
                    Type::SymInt(None)
                }
            }
            "symfloat" => Type::SymFloat,
            "symbool" => Type::SymBool,
            "int" => Type::Int,
            "float" => Type::Float,
            "bool" if !self.at(&Tok::LBracket)? => Type::Bool,
            "str" => Type::Str,
            "none" => Type::None,
            "token" => Type::Token,
            "list" => {
                self.expect(&Tok::Lt, "after `list`")?;
                let t = self.ty()?;
                self.expect(&Tok::Gt, "to close `list<`")?;
                Type::List(Box::new(t))
            }
            "object" => {
                self.expect(&Tok::Lt, "after `object`")?;
                let (c, _) = self.expect_str("the class name as a string")?;
                self.expect(&Tok::Gt, "to close `object<`")?;
                Type::Object(c)
            }
            _ => {
                let Ok(dtype) = word.parse::<DType>() else {
                    return Self::err_at(at, format!("unknown type or dtype `{word}`"));
                };
                self.expect(
                    &Tok::LBracket,
                    "after the dtype (a tensor type is `f32[2,3]`)",
                )?;
                let mut shape = Shape::new();
                if !self.eat(&Tok::RBracket)? {
                    loop {
                        shape.push(self.dim()?);
                        if self.eat(&Tok::RBracket)? {
                            break;
                        }
                        self.expect(&Tok::Comma, "or ']' in the shape")?;
                    }
                }
                Type::tensor(dtype, shape)
            }
        })
    }

    /// A dim expression in the form `Dim`'s `Display` writes: sums of products of integers,
    /// symbols and `floordiv`/`mod`/`min`/`max` calls. Rebuilt through `Dim`'s arithmetic, so
    /// the canonical form comes back.
    fn dim(&mut self) -> PResult<Dim> {
        self.enter()?;
        let r = self.dim_inner();
        self.leave();
        r
    }

    fn dim_inner(&mut self) -> PResult<Dim> {
        let neg = self.eat(&Tok::Minus)?;
        let mut acc = self.dim_term(neg)?;
        loop {
            if self.eat(&Tok::Plus)? {
                acc = acc.add(&self.dim_term(false)?);
            } else if self.eat(&Tok::Minus)? {
                acc = acc.add(&self.dim_term(true)?);
            } else {
                return Ok(acc);
            }
        }
    }

    /// A product; `neg` applies to the leading literal so that `- 9223372036854775808` (the
    /// printed form of an `i64::MIN` coefficient) is read without overflow.
    fn dim_term(&mut self, neg: bool) -> PResult<Dim> {
        let mut acc = if let Tok::Int(_) = self.peek()?.tok {
            let v = self.int_magnitude(neg, "an integer")?;
            self.const_dim(v)
        } else {
            let f = self.dim_factor()?;
            if neg {
                f.neg()
            } else {
                f
            }
        };
        let mut factors = 1usize;
        while self.at(&Tok::Star)? {
            factors += 1;
            if factors > MAX_FACTORS {
                return self.err_here(format!("more than {MAX_FACTORS} factors in one product"));
            }
            self.next()?;
            let f = self.dim_factor()?;
            acc = acc.mul(&f);
        }
        Ok(acc)
    }

    fn const_dim(&self, v: i64) -> Dim {
        usize::try_from(v)
            .ok()
            .and_then(|i| self.const_dims.get(i))
            .cloned()
            .unwrap_or_else(|| Dim::constant(v))
    }

    fn dim_factor(&mut self) -> PResult<Dim> {
        let t = self.peek()?.clone();
        match t.tok {
            Tok::Int(_) => {
                let v = self.int_magnitude(false, "an integer")?;
                Ok(self.const_dim(v))
            }
            Tok::Ident => {
                self.next()?;
                let name = self.text(&t);
                let is_call = self.at(&Tok::LParen)?;
                if is_call && matches!(name, "floordiv" | "mod" | "min" | "max") {
                    self.next()?;
                    let mut args = vec![self.dim()?];
                    while self.eat(&Tok::Comma)? {
                        args.push(self.dim()?);
                    }
                    self.expect(&Tok::RParen, &format!("to close `{name}(`"))?;
                    return match (name, args.len()) {
                        ("floordiv", 2) => Ok(args[0].floordiv(&args[1])),
                        ("mod", 2) => Ok(args[0].modulo(&args[1])),
                        ("min", _) => Ok(Dim::min_of(args)),
                        ("max", _) => Ok(Dim::max_of(args)),
                        _ => Self::err_at(t.start, format!("`{name}` takes two arguments")),
                    };
                }
                if is_call {
                    return Self::err_at(
                        t.start,
                        format!(
                            "unknown dim function `{name}` (expected floordiv, mod, min or max)"
                        ),
                    );
                }
                if let Some(d) = self.sym_dims.get(name) {
                    return Ok(d.clone());
                }
                let Some((key, _)) = self.symbols.get_key_value(name) else {
                    return Self::err_at(
                        t.start,
                        format!("undeclared symbol `{name}` (declare it with `sym {name}: size in 1..=N`)"),
                    );
                };
                let d = Dim::sym(key.clone());
                self.sym_dims.insert(name, d.clone());
                Ok(d)
            }
            ref other => {
                let found = other.describe();
                self.err_here(format!(
                    "expected a dim (integer, symbol or function), found {found}"
                ))
            }
        }
    }

    // ---- graphs ----------------------------------------------------------------------------

    fn graph(&mut self) -> PResult<()> {
        self.next()?; // graph
        let t = self.expect(&Tok::GraphRef, "after `graph`")?;
        let gref = self.sigil_name(&t);
        let index = self.graphs.len();
        if self.graph_index.get(gref).map(|&i| i as usize) != Some(index) {
            return Self::err_at(t.start, format!("graph @{gref} is defined twice"));
        }
        let name = match self.peek()?.tok {
            Tok::Str(_) => self.expect_str("a graph name")?.0,
            _ => gref.to_string(),
        };
        let mut g = Graph::new(name);
        let mut scope = Scope::default();
        let mut info = GraphInfo {
            placeholder_kinds: Vec::new(),
            outputs: None,
        };
        self.expect(&Tok::LParen, "after the graph name")?;
        while !self.eat(&Tok::RParen)? {
            self.param(&mut g, &mut scope, &mut info)?;
            if !self.eat(&Tok::Comma)? {
                self.expect(&Tok::RParen, "or ',' after a graph parameter")?;
                break;
            }
        }
        if self.at(&Tok::Arrow)? {
            let at = self.next()?.start;
            self.expect(&Tok::LParen, "after '->'")?;
            let mut outs = Vec::new();
            while !self.eat(&Tok::RParen)? {
                outs.push(self.output_kind()?);
                if !self.eat(&Tok::Comma)? {
                    self.expect(&Tok::RParen, "or ',' after an output kind")?;
                    break;
                }
            }
            info.outputs = Some((outs, at));
        }
        self.expect(&Tok::LBrace, "to open the graph body")?;
        while !self.eat(&Tok::RBrace)? {
            if self.at(&Tok::Eof)? {
                return self.err_here("expected '}' to close the graph body");
            }
            self.statement(&mut g, &mut scope, &mut info)?;
        }
        self.graphs.push(g);
        self.infos.push(info);
        Ok(())
    }

    /// A value definition `%ref ["name"]: type`; returns the reference, the value name and the
    /// reference's offset. Duplicates are checked against `scope` and `pending`.
    fn result_def(
        &mut self,
        scope: &Scope,
        pending: &[(String, String, Type)],
    ) -> PResult<(String, String, Type)> {
        let t = self.expect(&Tok::Value, "(a value definition such as `%x: f32[2]`)")?;
        let r = self.src[t.start + 1..t.end].to_string();
        if scope.contains_key(&r) || pending.iter().any(|(p, _, _)| *p == r) {
            return Self::err_at(t.start, format!("value %{r} is already defined"));
        }
        let name = match self.peek()?.tok {
            Tok::Str(_) => self.expect_str("a value name")?.0,
            _ => r.clone(),
        };
        self.expect(&Tok::Colon, "after value name")?;
        let ty = self.ty()?;
        Ok((r, name, ty))
    }

    fn param(&mut self, g: &mut Graph, scope: &mut Scope, info: &mut GraphInfo) -> PResult<()> {
        let at = self.peek()?.start;
        let (r, name, ty) = self.result_def(scope, &[])?;
        let kind = if self.eat(&Tok::Eq)? {
            Some(self.input_kind(scope)?)
        } else {
            None
        };
        let (node_name, meta) = self.attrs()?;
        let node_name = node_name.unwrap_or_else(|| name.clone());
        let n = g.append(
            NodeBuilder::new(Op::Placeholder)
                .result(name, ty)
                .name(node_name),
        );
        g.set_node_meta(n, meta);
        scope.insert(r, g.node(n).results[0]);
        info.placeholder_kinds.push((kind, at));
        Ok(())
    }

    fn input_kind(&mut self, scope: &Scope) -> PResult<InputKind> {
        let (word, at) = self.expect_ident("a placeholder kind (user, param, buffer, ...)")?;
        Ok(match word {
            "user" => InputKind::User {
                name: self.expect_str("the user input's name as a string")?.0,
            },
            "param" => InputKind::Parameter {
                target: self.expect_str("the parameter's name as a string")?.0,
            },
            "buffer" => {
                let target = self.expect_str("the buffer's name as a string")?.0;
                let persistent = if self.at_ident("nonpersistent")? {
                    self.next()?;
                    false
                } else {
                    true
                };
                InputKind::Buffer { target, persistent }
            }
            "constant" => InputKind::Constant {
                target: self.expect_str("the constant's name as a string")?.0,
            },
            "custom_obj" => InputKind::CustomObj {
                target: self.expect_str("the object's name as a string")?.0,
            },
            "constant_input" => {
                let name = self.expect_str("the input's name as a string")?.0;
                let value = self.arg(scope)?;
                InputKind::ConstantInput { name, value }
            }
            "token" => InputKind::Token,
            other => {
                return Self::err_at(
                    at,
                    format!("unknown placeholder kind `{other}` (expected user, param, buffer, constant, custom_obj, constant_input or token)"),
                )
            }
        })
    }

    fn output_kind(&mut self) -> PResult<OutputKind> {
        let (word, at) = self.expect_ident("an output kind (user, buffer_mutation, ...)")?;
        Ok(match word {
            "user" => OutputKind::User,
            "loss" => OutputKind::Loss,
            "token" => OutputKind::Token,
            "buffer_mutation" => OutputKind::BufferMutation {
                target: self.expect_str("the buffer's name as a string")?.0,
            },
            "parameter_mutation" => OutputKind::ParameterMutation {
                target: self.expect_str("the parameter's name as a string")?.0,
            },
            "user_input_mutation" => OutputKind::UserInputMutation {
                input: self.expect_str("the input's name as a string")?.0,
            },
            "gradient" => OutputKind::Gradient {
                target: self.expect_str("the gradient's target as a string")?.0,
            },
            other => {
                return Self::err_at(
                    at,
                    format!("unknown output kind `{other}` (expected user, buffer_mutation, parameter_mutation, user_input_mutation, loss, gradient or token)"),
                )
            }
        })
    }

    /// `{name = "...", recorded_types, segment = N, backend = "..."}`, optional.
    fn attrs(&mut self) -> PResult<(Option<String>, NodeMeta)> {
        let mut name = None;
        let mut meta = NodeMeta::default();
        if !self.eat(&Tok::LBrace)? {
            return Ok((name, meta));
        }
        let mut segment: Option<(u32, usize)> = None;
        let mut backend: Option<(String, usize)> = None;
        while !self.eat(&Tok::RBrace)? {
            let (word, at) =
                self.expect_ident("a node attribute (name, recorded_types, segment, backend)")?;
            match word {
                "name" => {
                    self.expect(&Tok::Eq, "after `name`")?;
                    name = Some(self.expect_str("the node name as a string")?.0);
                }
                "recorded_types" => meta.recorded_types = true,
                "segment" => {
                    self.expect(&Tok::Eq, "after `segment`")?;
                    let v = self.signed_int("a segment index")?;
                    let v = u32::try_from(v).or_else(|_| {
                        Self::err_at(at, format!("segment index {v} is out of range"))
                    })?;
                    segment = Some((v, at));
                }
                "backend" => {
                    self.expect(&Tok::Eq, "after `backend`")?;
                    backend = Some((self.expect_str("the backend id as a string")?.0, at));
                }
                other => {
                    return Self::err_at(
                        at,
                        format!(
                            "unknown node attribute `{other}` (expected name, recorded_types, \
                             segment or backend)"
                        ),
                    )
                }
            }
            if !self.eat(&Tok::Comma)? {
                self.expect(&Tok::RBrace, "or ',' in the attribute list")?;
                break;
            }
        }
        match (segment, backend) {
            (Some((index, _)), Some((backend, _))) => {
                meta.segment = Some(SegmentTag { index, backend })
            }
            (Some((_, at)), None) => {
                return Self::err_at(at, "`segment` needs a `backend` attribute too")
            }
            (None, Some((_, at))) => {
                return Self::err_at(at, "`backend` needs a `segment` attribute too")
            }
            (None, None) => {}
        }
        Ok((name, meta))
    }

    fn statement(&mut self, g: &mut Graph, scope: &mut Scope, info: &mut GraphInfo) -> PResult<()> {
        let stmt_at = self.peek()?.start;
        let mut results: Vec<(String, String, Type)> = Vec::new();
        if self.at(&Tok::Value)? {
            loop {
                let r = self.result_def(scope, &results)?;
                results.push(r);
                if !self.eat(&Tok::Comma)? {
                    break;
                }
            }
            self.expect(&Tok::Eq, "after the result types")?;
        }
        let t = self.peek()?.clone();
        let mut kind = None;
        let op;
        let (args, kwargs);
        match &t.tok {
            Tok::Ident if self.text(&t) == "output" => {
                self.next()?;
                op = Op::Output;
                (args, kwargs) = self.arglist(scope)?;
            }
            Tok::Ident if self.text(&t) == "get_attr" => {
                self.next()?;
                let target = self.expect_str("the attribute name as a string")?.0;
                op = Op::GetAttr { target };
                (args, kwargs) = self.opt_arglist(scope)?;
            }
            Tok::Ident if self.text(&t) == "call_graph" => {
                self.next()?;
                let graph = self.graph_ref()?;
                op = Op::CallGraph { graph };
                (args, kwargs) = self.arglist(scope)?;
            }
            Tok::Ident if self.text(&t) == "placeholder" => {
                self.next()?;
                let next = self.peek()?.clone();
                if next.tok == Tok::Ident
                    && matches!(
                        self.text(&next),
                        "user"
                            | "param"
                            | "buffer"
                            | "constant"
                            | "custom_obj"
                            | "constant_input"
                            | "token"
                    )
                {
                    kind = Some(self.input_kind(scope)?);
                }
                op = Op::Placeholder;
                (args, kwargs) = self.opt_arglist(scope)?;
            }
            Tok::Ident => {
                self.next()?;
                op = Op::Call {
                    target: self.text(&t).to_string(),
                };
                if !self.at(&Tok::LParen)? {
                    return self.err_here(format!(
                        "expected '(' after the operator name `{}`",
                        self.text(&t)
                    ));
                }
                (args, kwargs) = self.arglist(scope)?;
            }
            Tok::Str(s) => {
                op = Op::Call { target: s.clone() };
                self.next()?;
                (args, kwargs) = self.arglist(scope)?;
            }
            other => {
                let found = other.describe();
                return self.err_here(format!(
                    "expected a statement (`%x: type = op(...)`, `output (...)`) or '}}', found {found}"
                ));
            }
        }
        let (node_name, meta) = self.attrs()?;
        let is_placeholder = op == Op::Placeholder;
        let default_name = match results.first() {
            Some((_, n, _)) => n.clone(),
            None => op.opcode().to_string(),
        };
        let mut b = NodeBuilder::new(op).args(args);
        b.kwargs = kwargs;
        let refs: Vec<String> = results
            .into_iter()
            .map(|(r, name, ty)| {
                b.results.push((name, ty));
                r
            })
            .collect();
        let n = g.append(b.name(node_name.unwrap_or(default_name)));
        g.set_node_meta(n, meta);
        for (r, &v) in refs.into_iter().zip(g.node(n).results.iter()) {
            scope.insert(r, v);
        }
        if is_placeholder {
            info.placeholder_kinds.push((kind, stmt_at));
        }
        Ok(())
    }

    fn opt_arglist(&mut self, scope: &Scope) -> PResult<ArgList> {
        if self.at(&Tok::LParen)? {
            self.arglist(scope)
        } else {
            Ok((Vec::new(), Vec::new()))
        }
    }

    fn arglist(&mut self, scope: &Scope) -> PResult<ArgList> {
        self.expect(&Tok::LParen, "to open the argument list")?;
        let mut args = Vec::new();
        let mut kwargs: Vec<(String, Arg)> = Vec::new();
        while !self.eat(&Tok::RParen)? {
            let t = self.peek()?.clone();
            let is_kw =
                matches!(t.tok, Tok::Ident | Tok::Str(_)) && self.peek_nth(1)?.tok == Tok::Eq;
            if is_kw {
                self.next()?;
                self.next()?;
                let key = match t.tok {
                    Tok::Str(s) => s,
                    _ => self.text(&t).to_string(),
                };
                kwargs.push((key, self.arg(scope)?));
            } else {
                if !kwargs.is_empty() {
                    return self.err_here("positional argument after keyword arguments");
                }
                args.push(self.arg(scope)?);
            }
            if !self.eat(&Tok::Comma)? {
                self.expect(&Tok::RParen, "or ',' in the argument list")?;
                break;
            }
        }
        Ok((args, kwargs))
    }

    fn arg(&mut self, scope: &Scope) -> PResult<Arg> {
        self.enter()?;
        let r = self.arg_inner(scope);
        self.leave();
        r
    }

    /// A float literal, possibly negative, for `complex(...)`; ints are accepted too.
    fn number(&mut self) -> PResult<f64> {
        let neg = self.eat(&Tok::Minus)?;
        let t = self.peek()?.clone();
        let v = match t.tok {
            Tok::Float(f) => {
                self.next()?;
                f
            }
            Tok::Int(_) => self.int_magnitude(false, "a number")? as f64,
            Tok::Ident => self.float_word()?,
            ref other => {
                let found = other.describe();
                return self.err_here(format!("expected a number, found {found}"));
            }
        };
        Ok(if neg { -v } else { v })
    }

    /// `inf`, `nan` or `nan(0xBITS)`.
    fn float_word(&mut self) -> PResult<f64> {
        let (word, at) = self.expect_ident("a number")?;
        match word {
            "inf" => Ok(f64::INFINITY),
            "nan" => {
                if self.eat(&Tok::LParen)? {
                    let bits = self.int_bits()?;
                    self.expect(&Tok::RParen, "after the NaN bits")?;
                    Ok(f64::from_bits(bits))
                } else {
                    Ok(f64::NAN)
                }
            }
            other => Self::err_at(at, format!("expected a number, found `{other}`")),
        }
    }

    fn int_bits(&mut self) -> PResult<u64> {
        match self.peek()?.tok {
            Tok::Int(v) => {
                self.next()?;
                Ok(v)
            }
            ref other => {
                let found = other.describe();
                self.err_here(format!("expected the NaN's bits (0x...), found {found}"))
            }
        }
    }

    fn str_call(&mut self, what: &str) -> PResult<String> {
        self.expect(&Tok::LParen, &format!("after `{what}`"))?;
        let (s, _) = self.expect_str(&format!("the {what} as a string"))?;
        self.expect(&Tok::RParen, &format!("to close `{what}(`"))?;
        Ok(s)
    }

    fn arg_inner(&mut self, scope: &Scope) -> PResult<Arg> {
        let t = self.peek()?.clone();
        Ok(match t.tok {
            Tok::Value => {
                self.next()?;
                let r = self.sigil_name(&t);
                match scope.get(r) {
                    Some(&v) => Arg::Value(v),
                    None => return Self::err_at(t.start, format!("undefined value %{r}")),
                }
            }
            Tok::GraphRef => Arg::Graph(self.graph_ref()?),
            Tok::Int(_) => Arg::Int(self.signed_int("an integer")?),
            Tok::Float(f) => {
                self.next()?;
                Arg::Float(F64(f))
            }
            Tok::Minus => {
                self.next()?;
                match self.peek()?.tok {
                    Tok::Int(_) => Arg::Int(self.int_magnitude(true, "an integer")?),
                    Tok::Float(f) => {
                        self.next()?;
                        Arg::Float(F64(-f))
                    }
                    Tok::Ident => Arg::Float(F64(-self.float_word()?)),
                    ref other => {
                        let found = other.describe();
                        return self
                            .err_here(format!("expected a number after '-', found {found}"));
                    }
                }
            }
            Tok::Str(s) => {
                self.next()?;
                Arg::Str(s)
            }
            Tok::LBracket => {
                self.next()?;
                let mut items = Vec::new();
                while !self.eat(&Tok::RBracket)? {
                    items.push(self.arg(scope)?);
                    if !self.eat(&Tok::Comma)? {
                        self.expect(&Tok::RBracket, "or ',' in the list")?;
                        break;
                    }
                }
                Arg::List(items)
            }
            Tok::LBrace => {
                self.next()?;
                let mut items = Vec::new();
                while !self.eat(&Tok::RBrace)? {
                    let (k, _) = self.expect_str("a dict key as a string")?;
                    self.expect(&Tok::Colon, "after the dict key")?;
                    items.push((k, self.arg(scope)?));
                    if !self.eat(&Tok::Comma)? {
                        self.expect(&Tok::RBrace, "or ',' in the dict")?;
                        break;
                    }
                }
                Arg::Dict(items)
            }
            Tok::Ident => {
                let word = self.text(&t);
                match word {
                    "None" => {
                        self.next()?;
                        Arg::None
                    }
                    "true" | "True" => {
                        self.next()?;
                        Arg::Bool(true)
                    }
                    "false" | "False" => {
                        self.next()?;
                        Arg::Bool(false)
                    }
                    "inf" | "nan" => Arg::Float(F64(self.float_word()?)),
                    "complex" => {
                        self.next()?;
                        self.expect(&Tok::LParen, "after `complex`")?;
                        let re = self.number()?;
                        self.expect(&Tok::Comma, "between the real and imaginary parts")?;
                        let im = self.number()?;
                        self.expect(&Tok::RParen, "to close `complex(`")?;
                        Arg::Complex(F64(re), F64(im))
                    }
                    "device" => {
                        self.next()?;
                        Arg::Device(self.str_call("device")?)
                    }
                    "layout" => {
                        self.next()?;
                        Arg::Layout(self.str_call("layout")?)
                    }
                    "memory_format" => {
                        self.next()?;
                        Arg::MemoryFormat(self.str_call("memory_format")?)
                    }
                    "op" => {
                        self.next()?;
                        Arg::OpRef(self.str_call("op")?)
                    }
                    _ => match word.parse::<DType>() {
                        Ok(d) => {
                            self.next()?;
                            Arg::DType(d)
                        }
                        Err(_) => {
                            return Self::err_at(
                                t.start,
                                format!("unknown literal `{word}` (values are written `%name`)"),
                            )
                        }
                    },
                }
            }
            ref other => {
                let found = other.describe();
                return self.err_here(format!("expected an argument, found {found}"));
            }
        })
    }
}

/// `±magnitude` as an `i64`, if it fits.
fn int_from_magnitude(v: u64, neg: bool) -> Option<i64> {
    if neg {
        if v == 1u64 << 63 {
            Some(i64::MIN)
        } else {
            i64::try_from(v).ok().map(|x| -x)
        }
    } else {
        i64::try_from(v).ok()
    }
}
