//! Parser for `SymExpr.expr_str` (spec §5).
//!
//! torch writes sympy `srepr` text (`Mul(Integer(2), Symbol('s77', positive=True, integer=True))`);
//! older releases wrote infix (`2*s0 + 1`). One recursive-descent parser handles both: srepr is
//! the "function call" subset of the infix grammar. The result is a small [`SymAst`] owned by
//! this crate so that the conversion to IR dims is a separate, testable step.
//!
//! Recursion is bounded by [`MAX_DEPTH`] so adversarial nesting gives an error, not a stack
//! overflow.

use std::fmt;

/// Maximum nesting depth of calls/parentheses/unary operators.
pub const MAX_DEPTH: usize = 200;

/// Error from [`parse_sym_expr`]: byte position, message, and (a prefix of) the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymParseError {
    /// Byte offset in the input where the problem was detected.
    pub pos: usize,
    /// What was wrong.
    pub msg: String,
    /// The input, truncated to 200 bytes.
    pub expr: String,
}

impl fmt::Display for SymParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Control characters are escaped so that the message stays on one line.
        write!(
            f,
            "malformed symbolic expression at byte {}: {} in `{}`",
            self.pos,
            OneLine(&self.msg),
            OneLine(&self.expr)
        )
    }
}

/// Displays a string with its control characters escaped (`\n`, `\u{1b}`).
struct OneLine<'a>(&'a str);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for SymParseError {}

/// Functions of the sympy/torch vocabulary (spec §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SymFunc {
    /// n-ary sum.
    Add,
    /// n-ary product.
    Mul,
    /// `Pow(b, e)`.
    Pow,
    /// Python `//`.
    FloorDiv,
    /// Exact division.
    CleanDiv,
    /// Ceiling division.
    CeilDiv,
    /// Python `%`.
    PythonMod,
    /// Remainder of non-negative operands.
    Mod,
    /// `(x // d) % m`.
    ModularIndexing,
    /// n-ary max.
    Max,
    /// n-ary min.
    Min,
    /// Absolute value.
    Abs,
    /// Ceil to int.
    CeilToInt,
    /// Floor to int.
    FloorToInt,
    /// Truncate to int.
    TruncToInt,
    /// Round to int.
    RoundToInt,
    /// `RoundDecimal(x, n)`.
    RoundDecimal,
    /// Truncate, result float.
    TruncToFloat,
    /// Int → float.
    ToFloat,
    /// int / int → float.
    IntTrueDiv,
    /// float / float.
    FloatTrueDiv,
    /// int ** natural.
    PowByNatural,
    /// float ** float.
    FloatPow,
    /// `x`.
    Identity,
    /// `<<`.
    LShift,
    /// `>>`.
    RShift,
    /// `c ? a : b`.
    Where,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// Logical and.
    And,
    /// Logical or.
    Or,
    /// Logical not.
    Not,
    /// `IsNonOverlappingAndDenseIndicator(sizes..., strides...)`.
    IsNonOverlappingAndDenseIndicator,
    /// `Piecewise(ExprCondPair(e, c), ...)`.
    Piecewise,
    /// A `(expr, cond)` pair of `Piecewise`.
    ExprCondPair,
    /// sympy `floor`.
    Floor,
    /// sympy `ceiling`.
    Ceiling,
}

impl SymFunc {
    /// Looks a function up by its srepr name.
    pub fn from_name(name: &str) -> Option<Self> {
        use SymFunc::*;
        Some(match name {
            "Add" => Add,
            "Mul" => Mul,
            "Pow" => Pow,
            "FloorDiv" => FloorDiv,
            "CleanDiv" => CleanDiv,
            "CeilDiv" => CeilDiv,
            "PythonMod" => PythonMod,
            "Mod" => Mod,
            "ModularIndexing" => ModularIndexing,
            "Max" => Max,
            "Min" => Min,
            "Abs" => Abs,
            "CeilToInt" => CeilToInt,
            "FloorToInt" => FloorToInt,
            "TruncToInt" => TruncToInt,
            "RoundToInt" => RoundToInt,
            "RoundDecimal" => RoundDecimal,
            "TruncToFloat" => TruncToFloat,
            "ToFloat" => ToFloat,
            "IntTrueDiv" => IntTrueDiv,
            "FloatTrueDiv" => FloatTrueDiv,
            "PowByNatural" => PowByNatural,
            "FloatPow" => FloatPow,
            "Identity" => Identity,
            "LShift" => LShift,
            "RShift" => RShift,
            "Where" => Where,
            "Eq" | "Equality" => Eq,
            "Ne" | "Unequality" => Ne,
            "Lt" | "StrictLessThan" => Lt,
            "Le" | "LessThan" => Le,
            "Gt" | "StrictGreaterThan" => Gt,
            "Ge" | "GreaterThan" => Ge,
            "And" => And,
            "Or" => Or,
            "Not" => Not,
            "IsNonOverlappingAndDenseIndicator" => IsNonOverlappingAndDenseIndicator,
            "Piecewise" => Piecewise,
            "ExprCondPair" => ExprCondPair,
            "floor" => Floor,
            "ceiling" => Ceiling,
            _ => return None,
        })
    }

    /// Canonical srepr name.
    pub fn name(self) -> &'static str {
        use SymFunc::*;
        match self {
            Add => "Add",
            Mul => "Mul",
            Pow => "Pow",
            FloorDiv => "FloorDiv",
            CleanDiv => "CleanDiv",
            CeilDiv => "CeilDiv",
            PythonMod => "PythonMod",
            Mod => "Mod",
            ModularIndexing => "ModularIndexing",
            Max => "Max",
            Min => "Min",
            Abs => "Abs",
            CeilToInt => "CeilToInt",
            FloorToInt => "FloorToInt",
            TruncToInt => "TruncToInt",
            RoundToInt => "RoundToInt",
            RoundDecimal => "RoundDecimal",
            TruncToFloat => "TruncToFloat",
            ToFloat => "ToFloat",
            IntTrueDiv => "IntTrueDiv",
            FloatTrueDiv => "FloatTrueDiv",
            PowByNatural => "PowByNatural",
            FloatPow => "FloatPow",
            Identity => "Identity",
            LShift => "LShift",
            RShift => "RShift",
            Where => "Where",
            Eq => "Eq",
            Ne => "Ne",
            Lt => "Lt",
            Le => "Le",
            Gt => "Gt",
            Ge => "Ge",
            And => "And",
            Or => "Or",
            Not => "Not",
            IsNonOverlappingAndDenseIndicator => "IsNonOverlappingAndDenseIndicator",
            Piecewise => "Piecewise",
            ExprCondPair => "ExprCondPair",
            Floor => "floor",
            Ceiling => "ceiling",
        }
    }

    /// Allowed argument count `(min, max)`.
    fn arity(self) -> (usize, usize) {
        use SymFunc::*;
        match self {
            Add | Mul | Max | Min | And | Or | Piecewise => (1, usize::MAX),
            IsNonOverlappingAndDenseIndicator => (0, usize::MAX),
            ModularIndexing | Where => (3, 3),
            Abs | CeilToInt | FloorToInt | TruncToInt | RoundToInt | TruncToFloat | ToFloat
            | Identity | Not | Floor | Ceiling => (1, 1),
            _ => (2, 2),
        }
    }
}

/// A parsed symbolic expression.
#[derive(Clone, Debug, PartialEq)]
pub enum SymAst {
    /// A symbol (`s77`, `u0`, `zuf0`) with the assumptions srepr lists.
    Symbol {
        /// Symbol name.
        name: String,
        /// `integer=True`.
        integer: bool,
        /// `positive=True`.
        positive: bool,
        /// `nonnegative=True`.
        nonnegative: bool,
    },
    /// `Integer(n)` or an integer literal.
    Integer(i64),
    /// `Rational(p, q)`, q > 0.
    Rational(i64, i64),
    /// `Float('1.5', precision=53)` or a float literal.
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
    /// `oo`.
    Infinity,
    /// `-oo`.
    NegInfinity,
    /// `int_oo`.
    IntInfinity,
    /// `-int_oo`.
    NegIntInfinity,
    /// `zoo`.
    ComplexInfinity,
    /// `nan`.
    NaN,
    /// A function application.
    Call(SymFunc, Vec<SymAst>),
}

impl SymAst {
    /// Calls `f` on every symbol name, in order of appearance (with repeats).
    pub fn for_each_symbol<'s>(&'s self, f: &mut impl FnMut(&'s SymAst)) {
        // Explicit stack: expressions can be deep and this must not recurse unboundedly.
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            match e {
                SymAst::Symbol { .. } => f(e),
                SymAst::Call(_, args) => stack.extend(args.iter().rev()),
                _ => {}
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Int(i128),
    Float(f64),
    Str(String),
    Name(String),
    LParen,
    RParen,
    Comma,
    Assign,
    Plus,
    Minus,
    Star,
    StarStar,
    Slash,
    SlashSlash,
    Percent,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
}

struct Parser<'s> {
    lex: Lexer<'s>,
    tok: Tok,
    tok_pos: usize,
    depth: usize,
}

/// One item of a call's argument list.
enum Item {
    Expr(SymAst),
    Str(String),
    Kw(String, SymAst),
}

/// Parses an `expr_str` into a [`SymAst`].
pub fn parse_sym_expr(src: &str) -> Result<SymAst, SymParseError> {
    let mut p = Parser {
        lex: Lexer { src, pos: 0 },
        tok: Tok::Eof,
        tok_pos: 0,
        depth: 0,
    };
    p.bump()?;
    if p.tok == Tok::Eof {
        return Err(p.err("empty expression"));
    }
    let e = p.expr()?;
    if p.tok != Tok::Eof {
        return Err(p.err(format!("unexpected {} after the expression", p.describe())));
    }
    Ok(e)
}

impl Lexer<'_> {
    fn make_err(&self, pos: usize, msg: impl Into<String>) -> SymParseError {
        let mut end = self.src.len().min(200);
        while !self.src.is_char_boundary(end) {
            end -= 1;
        }
        let mut expr = self.src[..end].to_string();
        if end < self.src.len() {
            expr.push_str("...");
        }
        SymParseError {
            pos,
            msg: msg.into(),
            expr,
        }
    }

    fn next(&mut self) -> Result<(Tok, usize), SymParseError> {
        let b = self.src.as_bytes();
        while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&c) = b.get(self.pos) else {
            return Ok((Tok::Eof, start));
        };
        let two = |s: &mut Self, t2: Tok, t1: Tok, second: u8| {
            if b.get(s.pos + 1) == Some(&second) {
                s.pos += 2;
                t2
            } else {
                s.pos += 1;
                t1
            }
        };
        let tok = match c {
            b'(' => {
                self.pos += 1;
                Tok::LParen
            }
            b')' => {
                self.pos += 1;
                Tok::RParen
            }
            b',' => {
                self.pos += 1;
                Tok::Comma
            }
            b'+' => {
                self.pos += 1;
                Tok::Plus
            }
            b'-' => {
                self.pos += 1;
                Tok::Minus
            }
            b'%' => {
                self.pos += 1;
                Tok::Percent
            }
            b'*' => two(self, Tok::StarStar, Tok::Star, b'*'),
            b'/' => two(self, Tok::SlashSlash, Tok::Slash, b'/'),
            b'=' => two(self, Tok::EqEq, Tok::Assign, b'='),
            b'<' => two(self, Tok::Le, Tok::Lt, b'='),
            b'>' => two(self, Tok::Ge, Tok::Gt, b'='),
            b'!' => {
                if b.get(self.pos + 1) == Some(&b'=') {
                    self.pos += 2;
                    Tok::NotEq
                } else {
                    return Err(self.make_err(start, "unexpected `!`"));
                }
            }
            b'\'' | b'"' => {
                let q = c;
                let mut i = self.pos + 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' {
                        return Err(
                            self.make_err(i, "escape sequences in strings are not supported")
                        );
                    }
                    i += 1;
                }
                if i >= b.len() {
                    return Err(self.make_err(start, "unterminated string"));
                }
                let s = self.src[self.pos + 1..i].to_string();
                self.pos = i + 1;
                Tok::Str(s)
            }
            b'0'..=b'9' | b'.' => {
                let mut i = self.pos;
                let mut is_float = false;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if i < b.len() && b[i] == b'.' {
                    is_float = true;
                    i += 1;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                    let mut j = i + 1;
                    if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                        j += 1;
                    }
                    if j < b.len() && b[j].is_ascii_digit() {
                        is_float = true;
                        i = j;
                        while i < b.len() && b[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
                let text = &self.src[self.pos..i];
                self.pos = i;
                if is_float {
                    Tok::Float(
                        text.parse()
                            .map_err(|_| self.make_err(start, format!("bad number `{text}`")))?,
                    )
                } else {
                    Tok::Int(text.parse().map_err(|_| {
                        self.make_err(start, format!("integer `{text}` out of range"))
                    })?)
                }
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                let mut i = self.pos;
                while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                let s = self.src[self.pos..i].to_string();
                self.pos = i;
                Tok::Name(s)
            }
            _ => {
                let ch = self.src[start..].chars().next().unwrap_or('?');
                return Err(self.make_err(start, format!("unexpected character {ch:?}")));
            }
        };
        Ok((tok, start))
    }
}

fn int_of(v: i128) -> Option<i64> {
    i64::try_from(v).ok()
}

fn neg(e: SymAst) -> SymAst {
    match e {
        SymAst::Integer(n) if n != i64::MIN => SymAst::Integer(-n),
        SymAst::Float(x) => SymAst::Float(-x),
        SymAst::Rational(p, q) if p != i64::MIN => SymAst::Rational(-p, q),
        SymAst::Infinity => SymAst::NegInfinity,
        SymAst::NegInfinity => SymAst::Infinity,
        SymAst::IntInfinity => SymAst::NegIntInfinity,
        SymAst::NegIntInfinity => SymAst::IntInfinity,
        e => SymAst::Call(SymFunc::Mul, vec![SymAst::Integer(-1), e]),
    }
}

impl Parser<'_> {
    fn err(&self, msg: impl Into<String>) -> SymParseError {
        self.lex.make_err(self.tok_pos, msg)
    }

    fn bump(&mut self) -> Result<Tok, SymParseError> {
        let (t, p) = self.lex.next()?;
        self.tok_pos = p;
        Ok(std::mem::replace(&mut self.tok, t))
    }

    fn describe(&self) -> String {
        match &self.tok {
            Tok::Eof => "end of input".into(),
            Tok::Name(n) => format!("name `{n}`"),
            Tok::Int(v) => format!("number `{v}`"),
            Tok::Float(v) => format!("number `{v}`"),
            Tok::Str(s) => format!("string '{s}'"),
            t => format!("token {t:?}"),
        }
    }

    fn expect(&mut self, t: Tok, what: &str) -> Result<(), SymParseError> {
        if self.tok == t {
            self.bump()?;
            Ok(())
        } else {
            Err(self.err(format!("expected {what}, found {}", self.describe())))
        }
    }

    fn enter(&mut self) -> Result<(), SymParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(format!("nesting deeper than {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<SymAst, SymParseError> {
        self.enter()?;
        let lhs = self.additive()?;
        let f = match self.tok {
            Tok::EqEq => SymFunc::Eq,
            Tok::NotEq => SymFunc::Ne,
            Tok::Lt => SymFunc::Lt,
            Tok::Le => SymFunc::Le,
            Tok::Gt => SymFunc::Gt,
            Tok::Ge => SymFunc::Ge,
            _ => {
                self.depth -= 1;
                return Ok(lhs);
            }
        };
        self.bump()?;
        let rhs = self.additive()?;
        self.depth -= 1;
        Ok(SymAst::Call(f, vec![lhs, rhs]))
    }

    fn additive(&mut self) -> Result<SymAst, SymParseError> {
        let mut terms = vec![self.term()?];
        loop {
            match self.tok {
                Tok::Plus => {
                    self.bump()?;
                    terms.push(self.term()?);
                }
                Tok::Minus => {
                    self.bump()?;
                    let t = self.term()?;
                    terms.push(neg(t));
                }
                _ => break,
            }
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one term")
        } else {
            SymAst::Call(SymFunc::Add, terms)
        })
    }

    fn term(&mut self) -> Result<SymAst, SymParseError> {
        let mut lhs = self.unary()?;
        loop {
            let op = self.tok.clone();
            match op {
                Tok::Star => {
                    self.bump()?;
                    let rhs = self.unary()?;
                    lhs = match lhs {
                        SymAst::Call(SymFunc::Mul, mut v) => {
                            v.push(rhs);
                            SymAst::Call(SymFunc::Mul, v)
                        }
                        l => SymAst::Call(SymFunc::Mul, vec![l, rhs]),
                    };
                }
                Tok::Slash => {
                    self.bump()?;
                    let rhs = self.unary()?;
                    lhs = SymAst::Call(
                        SymFunc::Mul,
                        vec![
                            lhs,
                            SymAst::Call(SymFunc::Pow, vec![rhs, SymAst::Integer(-1)]),
                        ],
                    );
                }
                Tok::SlashSlash => {
                    self.bump()?;
                    let rhs = self.unary()?;
                    lhs = SymAst::Call(SymFunc::FloorDiv, vec![lhs, rhs]);
                }
                Tok::Percent => {
                    self.bump()?;
                    let rhs = self.unary()?;
                    lhs = SymAst::Call(SymFunc::PythonMod, vec![lhs, rhs]);
                }
                _ => return Ok(lhs),
            }
        }
    }

    fn unary(&mut self) -> Result<SymAst, SymParseError> {
        match self.tok {
            Tok::Minus => {
                self.enter()?;
                self.bump()?;
                let e = self.unary()?;
                self.depth -= 1;
                Ok(neg(e))
            }
            Tok::Plus => {
                self.enter()?;
                self.bump()?;
                let e = self.unary()?;
                self.depth -= 1;
                Ok(e)
            }
            _ => {
                let base = self.primary()?;
                if self.tok == Tok::StarStar {
                    self.enter()?;
                    self.bump()?;
                    let e = self.unary()?;
                    self.depth -= 1;
                    Ok(SymAst::Call(SymFunc::Pow, vec![base, e]))
                } else {
                    Ok(base)
                }
            }
        }
    }

    fn primary(&mut self) -> Result<SymAst, SymParseError> {
        let pos = self.tok_pos;
        match self.bump()? {
            Tok::Int(v) => int_of(v).map(SymAst::Integer).ok_or_else(|| {
                self.lex
                    .make_err(pos, format!("integer {v} out of i64 range"))
            }),
            Tok::Float(v) => Ok(SymAst::Float(v)),
            Tok::LParen => {
                let e = self.expr()?;
                self.expect(Tok::RParen, "`)`")?;
                Ok(e)
            }
            Tok::Name(name) => {
                if self.tok == Tok::LParen {
                    self.enter()?;
                    self.bump()?;
                    let items = self.items()?;
                    self.depth -= 1;
                    self.call(&name, items, pos)
                } else {
                    Ok(match name.as_str() {
                        "true" | "True" => SymAst::Bool(true),
                        "false" | "False" => SymAst::Bool(false),
                        "oo" => SymAst::Infinity,
                        "int_oo" => SymAst::IntInfinity,
                        "zoo" => SymAst::ComplexInfinity,
                        "nan" => SymAst::NaN,
                        // Infix fallback: bare names are symbols with unknown assumptions.
                        _ => SymAst::Symbol {
                            name,
                            integer: false,
                            positive: false,
                            nonnegative: false,
                        },
                    })
                }
            }
            Tok::Str(s) => Err(self
                .lex
                .make_err(pos, format!("string '{s}' outside of a call argument"))),
            Tok::Eof => Err(self.lex.make_err(pos, "unexpected end of input")),
            t => Err(self.lex.make_err(pos, format!("unexpected token {t:?}"))),
        }
    }

    /// Parses call items after `(` up to and including `)`.
    fn items(&mut self) -> Result<Vec<(Item, usize)>, SymParseError> {
        let mut items = Vec::new();
        loop {
            if self.tok == Tok::RParen {
                self.bump()?;
                return Ok(items);
            }
            let pos = self.tok_pos;
            let item = match &self.tok {
                Tok::Str(s) => {
                    let s = s.clone();
                    self.bump()?;
                    Item::Str(s)
                }
                Tok::Name(n) => {
                    // `name=value` keyword vs an expression starting with a name: peek by
                    // lexing one token ahead on a copy of the lexer.
                    let mut look = Lexer {
                        src: self.lex.src,
                        pos: self.lex.pos,
                    };
                    if let Ok((Tok::Assign, _)) = look.next() {
                        let n = n.clone();
                        self.bump()?; // name
                        self.bump()?; // '='
                        Item::Kw(n, self.expr()?)
                    } else {
                        Item::Expr(self.expr()?)
                    }
                }
                _ => Item::Expr(self.expr()?),
            };
            items.push((item, pos));
            match self.tok {
                Tok::Comma => {
                    self.bump()?;
                }
                Tok::RParen => {}
                _ => {
                    return Err(self.err(format!(
                        "expected `,` or `)` in argument list, found {}",
                        self.describe()
                    )))
                }
            }
        }
    }

    fn call(
        &self,
        name: &str,
        items: Vec<(Item, usize)>,
        pos: usize,
    ) -> Result<SymAst, SymParseError> {
        let e = |msg: String| self.lex.make_err(pos, msg);
        let int_arg = |it: &Item| match it {
            Item::Expr(SymAst::Integer(v)) => Some(*v),
            _ => None,
        };
        match name {
            "Symbol" => {
                let mut it = items.into_iter();
                let Some((Item::Str(sym), _)) = it.next() else {
                    return Err(e("Symbol(...) needs a quoted name first".into()));
                };
                if sym.is_empty() {
                    return Err(e("empty symbol name".into()));
                }
                let (mut integer, mut positive, mut nonnegative) = (false, false, false);
                for (item, p) in it {
                    match item {
                        Item::Kw(k, SymAst::Bool(v)) => match k.as_str() {
                            "integer" => integer = v,
                            "positive" => positive = v,
                            "nonnegative" => nonnegative = v,
                            // Other assumptions (real, finite...) carry no information we use.
                            _ => {}
                        },
                        _ => {
                            return Err(self
                                .lex
                                .make_err(p, "Symbol assumptions must be `name=True|False`"))
                        }
                    }
                }
                Ok(SymAst::Symbol {
                    name: sym,
                    integer,
                    positive,
                    nonnegative,
                })
            }
            "Integer" => match items.as_slice() {
                [(it, _)] => int_arg(it)
                    .map(SymAst::Integer)
                    .ok_or_else(|| e("Integer(...) needs one integer literal".into())),
                _ => Err(e("Integer(...) needs exactly one argument".into())),
            },
            "Rational" => match items.as_slice() {
                [(a, _), (b, _)] => match (int_arg(a), int_arg(b)) {
                    (Some(_), Some(0)) => Err(e("Rational with zero denominator".into())),
                    (Some(p), Some(q)) if q < 0 => Ok(SymAst::Rational(
                        p.checked_neg()
                            .ok_or_else(|| e("Rational overflow".into()))?,
                        q.checked_neg()
                            .ok_or_else(|| e("Rational overflow".into()))?,
                    )),
                    (Some(p), Some(q)) => Ok(SymAst::Rational(p, q)),
                    _ => Err(e("Rational(p, q) needs two integer literals".into())),
                },
                _ => Err(e("Rational(...) needs exactly two arguments".into())),
            },
            "Float" => {
                let mut val = None;
                for (item, p) in items {
                    match item {
                        Item::Str(s) if val.is_none() => {
                            val = Some(parse_float_text(&s).ok_or_else(|| {
                                self.lex.make_err(p, format!("bad Float literal '{s}'"))
                            })?);
                        }
                        Item::Expr(SymAst::Float(v)) if val.is_none() => val = Some(v),
                        Item::Expr(SymAst::Integer(v)) if val.is_none() => val = Some(v as f64),
                        Item::Kw(..) => {}
                        _ => return Err(self.lex.make_err(p, "bad Float(...) argument")),
                    }
                }
                val.map(SymAst::Float)
                    .ok_or_else(|| e("Float(...) needs a value".into()))
            }
            "Symbol_" | "Dummy" => Err(e(format!("unsupported sympy leaf `{name}`"))),
            _ => {
                let Some(f) = SymFunc::from_name(name) else {
                    return Err(e(format!("unknown or unsupported sympy function `{name}`")));
                };
                let mut args = Vec::with_capacity(items.len());
                for (item, p) in items {
                    match item {
                        Item::Expr(a) => args.push(a),
                        Item::Str(_) => {
                            return Err(self
                                .lex
                                .make_err(p, format!("string argument to `{name}`")))
                        }
                        Item::Kw(k, _) => {
                            return Err(self
                                .lex
                                .make_err(p, format!("keyword `{k}` in call to `{name}`")))
                        }
                    }
                }
                let (lo, hi) = f.arity();
                if args.len() < lo || args.len() > hi {
                    return Err(e(format!(
                        "`{name}` takes {} arguments, got {}",
                        if lo == hi {
                            lo.to_string()
                        } else {
                            format!("at least {lo}")
                        },
                        args.len()
                    )));
                }
                if f == SymFunc::IsNonOverlappingAndDenseIndicator && args.len() % 2 != 0 {
                    return Err(e(format!(
                        "`{name}` needs as many strides as sizes, got {} arguments",
                        args.len()
                    )));
                }
                Ok(SymAst::Call(f, args))
            }
        }
    }
}

fn parse_float_text(s: &str) -> Option<f64> {
    match s.trim() {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        t => t.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(name: &str, integer: bool, positive: bool) -> SymAst {
        SymAst::Symbol {
            name: name.into(),
            integer,
            positive,
            nonnegative: false,
        }
    }

    #[test]
    fn srepr_leaves() {
        assert_eq!(
            parse_sym_expr("Symbol('s77', positive=True, integer=True)").unwrap(),
            sym("s77", true, true)
        );
        assert_eq!(
            parse_sym_expr("Symbol('u0', integer=True)").unwrap(),
            sym("u0", true, false)
        );
        assert_eq!(
            parse_sym_expr("Symbol('zuf0')").unwrap(),
            sym("zuf0", false, false)
        );
        assert_eq!(parse_sym_expr("Integer(-1)").unwrap(), SymAst::Integer(-1));
        assert_eq!(
            parse_sym_expr("Rational(1, 2)").unwrap(),
            SymAst::Rational(1, 2)
        );
        assert_eq!(
            parse_sym_expr("Float('1.5', precision=53)").unwrap(),
            SymAst::Float(1.5)
        );
        assert_eq!(parse_sym_expr("-oo").unwrap(), SymAst::NegInfinity);
        assert_eq!(parse_sym_expr("int_oo").unwrap(), SymAst::IntInfinity);
        assert_eq!(parse_sym_expr("-int_oo").unwrap(), SymAst::NegIntInfinity);
        assert_eq!(parse_sym_expr("true").unwrap(), SymAst::Bool(true));
        assert_eq!(parse_sym_expr("zoo").unwrap(), SymAst::ComplexInfinity);
        assert_eq!(parse_sym_expr("nan").unwrap(), SymAst::NaN);
        assert_eq!(
            parse_sym_expr("Integer(9223372036854775807)").unwrap(),
            SymAst::Integer(i64::MAX)
        );
    }

    #[test]
    fn srepr_functions() {
        let s = || sym("s77", true, true);
        assert_eq!(
            parse_sym_expr("Mul(Integer(2), Symbol('s77', positive=True, integer=True))").unwrap(),
            SymAst::Call(SymFunc::Mul, vec![SymAst::Integer(2), s()])
        );
        let e = parse_sym_expr(
            "FloorDiv(Add(Symbol('s77', positive=True, integer=True), Integer(-1)), Integer(2))",
        )
        .unwrap();
        assert_eq!(
            e,
            SymAst::Call(
                SymFunc::FloorDiv,
                vec![
                    SymAst::Call(SymFunc::Add, vec![s(), SymAst::Integer(-1)]),
                    SymAst::Integer(2)
                ]
            )
        );
        for (src, f) in [
            ("CleanDiv(Integer(4), Integer(2))", SymFunc::CleanDiv),
            ("CeilDiv(Integer(4), Integer(2))", SymFunc::CeilDiv),
            ("PythonMod(Integer(4), Integer(2))", SymFunc::PythonMod),
            ("Mod(Integer(4), Integer(2))", SymFunc::Mod),
            (
                "ModularIndexing(Integer(4), Integer(2), Integer(3))",
                SymFunc::ModularIndexing,
            ),
            ("Max(Integer(4), Integer(2))", SymFunc::Max),
            ("Min(Integer(4), Integer(2), Integer(1))", SymFunc::Min),
            ("Abs(Integer(-4))", SymFunc::Abs),
            ("CeilToInt(Float('1.5', precision=53))", SymFunc::CeilToInt),
            (
                "FloorToInt(Float('1.5', precision=53))",
                SymFunc::FloorToInt,
            ),
            (
                "TruncToInt(Float('1.5', precision=53))",
                SymFunc::TruncToInt,
            ),
            ("Where(true, Integer(1), Integer(2))", SymFunc::Where),
            ("StrictLessThan(Integer(1), Integer(2))", SymFunc::Lt),
            ("LessThan(Integer(1), Integer(2))", SymFunc::Le),
            ("StrictGreaterThan(Integer(1), Integer(2))", SymFunc::Gt),
            ("GreaterThan(Integer(1), Integer(2))", SymFunc::Ge),
            ("Equality(Integer(1), Integer(2))", SymFunc::Eq),
            ("Unequality(Integer(1), Integer(2))", SymFunc::Ne),
            ("And(true, false)", SymFunc::And),
            ("Or(true, false)", SymFunc::Or),
            ("Not(true)", SymFunc::Not),
            ("ToFloat(Integer(1))", SymFunc::ToFloat),
            ("IntTrueDiv(Integer(1), Integer(2))", SymFunc::IntTrueDiv),
            (
                "PowByNatural(Integer(2), Integer(3))",
                SymFunc::PowByNatural,
            ),
            ("Pow(Symbol('x'), Rational(1, 2))", SymFunc::Pow),
            ("Identity(Integer(1))", SymFunc::Identity),
            (
                "IsNonOverlappingAndDenseIndicator(Integer(2), Integer(1))",
                SymFunc::IsNonOverlappingAndDenseIndicator,
            ),
        ] {
            match parse_sym_expr(src) {
                Ok(SymAst::Call(g, _)) => assert_eq!(g, f, "{src}"),
                other => panic!("{src}: {other:?}"),
            }
        }
    }

    #[test]
    fn infix_fallback() {
        let s0 = || sym("s0", false, false);
        assert_eq!(
            parse_sym_expr("2*s0 + 1").unwrap(),
            SymAst::Call(
                SymFunc::Add,
                vec![
                    SymAst::Call(SymFunc::Mul, vec![SymAst::Integer(2), s0()]),
                    SymAst::Integer(1)
                ]
            )
        );
        assert_eq!(
            parse_sym_expr("s0 - 1").unwrap(),
            SymAst::Call(SymFunc::Add, vec![s0(), SymAst::Integer(-1)])
        );
        assert_eq!(
            parse_sym_expr("(s0 + 1)//2").unwrap(),
            SymAst::Call(
                SymFunc::FloorDiv,
                vec![
                    SymAst::Call(SymFunc::Add, vec![s0(), SymAst::Integer(1)]),
                    SymAst::Integer(2)
                ]
            )
        );
        assert_eq!(
            parse_sym_expr("s0**2").unwrap(),
            SymAst::Call(SymFunc::Pow, vec![s0(), SymAst::Integer(2)])
        );
        assert_eq!(
            parse_sym_expr("Max(1, s0) <= 64").unwrap(),
            SymAst::Call(
                SymFunc::Le,
                vec![
                    SymAst::Call(SymFunc::Max, vec![SymAst::Integer(1), s0()]),
                    SymAst::Integer(64)
                ]
            )
        );
        assert_eq!(
            parse_sym_expr("-s0").unwrap(),
            SymAst::Call(SymFunc::Mul, vec![SymAst::Integer(-1), s0()])
        );
    }

    #[test]
    fn malformed() {
        for (src, needle) in [
            ("", "empty expression"),
            ("Add(Integer(1), ", "unexpected end of input"),
            ("Add(Integer(1) Integer(2))", "expected `,` or `)`"),
            ("Symbol(s0)", "quoted name"),
            ("Symbol('s0", "unterminated string"),
            ("Integer('x')", "integer literal"),
            ("Rational(1, 0)", "zero denominator"),
            (
                "OpaqueUnaryFn_exp(Integer(1))",
                "unsupported sympy function",
            ),
            ("FloorDiv(Integer(1))", "takes 2 arguments"),
            ("Integer(1))", "after the expression"),
            ("Integer(99999999999999999999)", "out of i64 range"),
            ("Integer(1) $", "unexpected character"),
            ("'abc'", "outside of a call"),
        ] {
            let err = parse_sym_expr(src).unwrap_err();
            assert!(
                err.to_string().contains(needle),
                "{src:?}: {err} does not mention {needle:?}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let n = 100_000;
        let src = format!("{}Integer(1){}", "Abs(".repeat(n), ")".repeat(n));
        let err = parse_sym_expr(&src).unwrap_err();
        assert!(err.msg.contains("nesting deeper"), "{err}");
        assert!(err.expr.len() <= 203);
        let src = format!("{}1{}", "(".repeat(n), ")".repeat(n));
        assert!(parse_sym_expr(&src).is_err());
        let src = format!("{}1", "-".repeat(n));
        assert!(parse_sym_expr(&src).is_err());
        // Moderate nesting is fine.
        let src = format!("{}Integer(1){}", "Abs(".repeat(50), ")".repeat(50));
        assert!(parse_sym_expr(&src).is_ok());
    }

    #[test]
    fn symbols_are_collected() {
        let e = parse_sym_expr("Add(Symbol('a'), Mul(Symbol('b'), Symbol('a')))").unwrap();
        let mut names = vec![];
        e.for_each_symbol(&mut |s| {
            if let SymAst::Symbol { name, .. } = s {
                names.push(name.clone())
            }
        });
        assert_eq!(names, ["a", "b", "a"]);
    }
}
