//! A parser for ATen schema strings, the text `str(torch._C.FunctionSchema)` prints:
//!
//! ```text
//! aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor
//! aten::max_pool2d_with_indices(Tensor self, int[2] kernel_size, int[2] stride=[], ...) -> (Tensor, Tensor)
//! aten::add_.Tensor(Tensor(a!) self, Tensor other, *, Scalar alpha=1) -> Tensor(a!)
//! ```
//!
//! The parser never panics: schemas come from a data file and from users registering custom ops.
//! Types it does not model (TorchScript's `t`, `Dict(str, t)`, tuples, class types) become
//! [`BaseType::Other`] so that every schema PyTorch prints can still be registered.

use crate::dtype::DType;
use crate::graph::{Arg, F64};
use crate::ops::{BaseType, Schema, SchemaArg, SchemaType};
use std::fmt;

/// A schema string that could not be parsed, with the byte offset of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaParseError {
    /// Byte offset into the schema string.
    pub offset: usize,
    /// What was expected or found.
    pub message: String,
    /// The schema string.
    pub schema: String,
}

impl fmt::Display for SchemaParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot parse schema at byte {}: {} in `{}`",
            self.offset, self.message, self.schema
        )
    }
}

impl std::error::Error for SchemaParseError {}

/// A parsed schema with its operator name.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedSchema {
    /// Registry name: `aten.add.Tensor`, `aten.relu.default`.
    pub name: String,
    /// Names of the returns (`running_mean_out`), empty strings where unnamed.
    pub return_names: Vec<String>,
    /// Per return, the alias set it shares with an argument (`a` for `Tensor(a)`), if any.
    pub return_alias: Vec<Option<AliasInfo>>,
    /// Per argument, its alias annotation, if any.
    pub arg_alias: Vec<Option<AliasInfo>>,
    /// Arguments and returns.
    pub schema: Schema,
}

/// An alias annotation: `(a)`, `(a!)`, `(a -> *)`, `(*)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliasInfo {
    /// The alias set (`a`), or `*` for the wildcard.
    pub set: String,
    /// True for `!` (written to).
    pub write: bool,
}

/// Converts an ATen qualified name `aten::add.Tensor` to a registry name `aten.add.Tensor`
/// (`default` when there is no overload).
pub fn registry_name(qualified: &str) -> String {
    let (ns, rest) = qualified.split_once("::").unwrap_or(("aten", qualified));
    match rest.split_once('.') {
        Some((op, ov)) if !ov.is_empty() => format!("{ns}.{op}.{ov}"),
        Some((op, _)) => format!("{ns}.{op}.default"),
        None => format!("{ns}.{rest}.default"),
    }
}

/// Parses a schema string into its registry name and [`Schema`].
pub fn parse_schema(text: &str) -> Result<ParsedSchema, SchemaParseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        text,
    };
    p.ws();
    let start = p.pos;
    while p.pos < p.s.len() && p.s[p.pos] != b'(' {
        p.pos += 1;
    }
    let qualified = text[start..p.pos].trim();
    if qualified.is_empty() {
        return Err(p.err("expected an operator name"));
    }
    let name = registry_name(qualified);
    let (args, arg_alias) = p.args()?;
    p.ws();
    p.expect("->")?;
    p.ws();
    let (returns, return_names, return_alias) = p.returns()?;
    p.ws();
    if p.pos != p.s.len() {
        return Err(p.err("trailing text"));
    }
    Ok(ParsedSchema {
        name,
        return_names,
        return_alias,
        arg_alias,
        schema: Schema { args, returns },
    })
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    text: &'a str,
}

/// A parsed type before it becomes a [`SchemaType`]; keeps the alias annotation.
struct RawType {
    ty: SchemaType,
    alias: Option<AliasInfo>,
}

type Returns = (Vec<SchemaType>, Vec<String>, Vec<Option<AliasInfo>>);

impl<'a> Parser<'a> {
    fn err(&self, msg: &str) -> SchemaParseError {
        SchemaParseError {
            offset: self.pos,
            message: msg.to_string(),
            schema: self.text.to_string(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, tok: &str) -> bool {
        if self.s[self.pos..].starts_with(tok.as_bytes()) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &str) -> Result<(), SchemaParseError> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.err(&format!("expected `{tok}`")))
        }
    }

    fn ident(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' {
                self.pos += 1;
            } else {
                break;
            }
        }
        (self.pos > start).then(|| &self.text[start..self.pos])
    }

    fn args(&mut self) -> Result<(Vec<SchemaArg>, Vec<Option<AliasInfo>>), SchemaParseError> {
        self.expect("(")?;
        let mut args = Vec::new();
        let mut aliases = Vec::new();
        let mut kwarg_only = false;
        loop {
            self.ws();
            if self.eat(")") {
                break;
            }
            if self.eat("*") {
                kwarg_only = true;
            } else if self.eat("...") {
                // Varargs (`prim::PythonOp(...)`): nothing to record.
            } else {
                let raw = self.ty()?;
                self.ws();
                let name = self
                    .ident()
                    .ok_or_else(|| self.err("expected an argument name"))?
                    .to_string();
                self.ws();
                let default = if self.eat("=") {
                    self.ws();
                    Some(self.default(&raw.ty)?)
                } else {
                    None
                };
                let mutable = raw.alias.as_ref().is_some_and(|a| a.write);
                aliases.push(raw.alias);
                args.push(SchemaArg {
                    name,
                    ty: raw.ty,
                    default,
                    kwarg_only,
                    mutable,
                });
            }
            self.ws();
            if self.eat(")") {
                break;
            }
            self.expect(",")?;
        }
        Ok((args, aliases))
    }

    fn returns(&mut self) -> Result<Returns, SchemaParseError> {
        let mut tys = Vec::new();
        let mut names = Vec::new();
        let mut aliases = Vec::new();
        if self.eat("...") {
            return Ok((tys, names, aliases));
        }
        // `(` starts a tuple of returns unless it is a single tuple-typed return, which PyTorch
        // always wraps in another pair of parentheses, so `(` here is always the return tuple.
        if self.eat("(") {
            loop {
                self.ws();
                if self.eat(")") {
                    break;
                }
                let raw = self.ty()?;
                self.ws();
                let name = match self.peek() {
                    Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                        self.ident().unwrap_or_default().to_string()
                    }
                    _ => String::new(),
                };
                tys.push(raw.ty);
                names.push(name);
                aliases.push(raw.alias);
                self.ws();
                if self.eat(")") {
                    break;
                }
                self.expect(",")?;
            }
        } else {
            let raw = self.ty()?;
            self.ws();
            if let Some(c) = self.peek() {
                if c.is_ascii_alphabetic() || c == b'_' {
                    self.ident();
                }
            }
            tys.push(raw.ty);
            names.push(String::new());
            aliases.push(raw.alias);
        }
        Ok((tys, names, aliases))
    }

    /// A type with its suffixes: `Tensor(a!)`, `Tensor?[]`, `int[2]`, `t[](a!)`, `Dict(str, t)`.
    fn ty(&mut self) -> Result<RawType, SchemaParseError> {
        self.ws();
        let start = self.pos;
        let base = if self.peek() == Some(b'(') {
            // A tuple type; kept by its text.
            self.skip_parens()?;
            BaseType::Other(self.text[start..self.pos].to_string())
        } else {
            let id = self
                .ident()
                .ok_or_else(|| self.err("expected a type"))?
                .to_string();
            if matches!(
                id.as_str(),
                "Dict" | "Future" | "RRef" | "Union" | "Optional" | "Await" | "Tuple" | "List"
            ) && self.peek() == Some(b'(')
            {
                self.skip_parens()?;
                BaseType::Other(self.text[start..self.pos].to_string())
            } else {
                base_type(&id)
            }
        };
        let mut ty = SchemaType {
            base,
            list: None,
            optional: false,
            optional_elements: false,
        };
        let mut alias = None;
        let mut nested = false;
        loop {
            match self.peek() {
                Some(b'(') => alias = Some(self.alias()?),
                Some(b'?') => {
                    self.pos += 1;
                    ty.optional = true;
                }
                Some(b'[') => {
                    self.pos += 1;
                    let n_start = self.pos;
                    while matches!(self.peek(), Some(b'0'..=b'9')) {
                        self.pos += 1;
                    }
                    let size = self.text[n_start..self.pos].parse::<usize>().ok();
                    self.expect("]")?;
                    if ty.list.is_some() {
                        nested = true;
                    }
                    // `T?[]`: the `?` seen so far belongs to the elements.
                    ty.optional_elements = ty.optional;
                    ty.optional = false;
                    ty.list = Some(size);
                }
                _ => break,
            }
        }
        if nested {
            // Lists of lists are not modelled; keep the text.
            ty = SchemaType {
                base: BaseType::Other(self.text[start..self.pos].to_string()),
                list: None,
                optional: false,
                optional_elements: false,
            };
        }
        Ok(RawType { ty, alias })
    }

    fn skip_parens(&mut self) -> Result<(), SchemaParseError> {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'(' => depth += 1,
                b')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        Err(self.err("unbalanced parentheses"))
    }

    fn alias(&mut self) -> Result<AliasInfo, SchemaParseError> {
        self.expect("(")?;
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == b')' {
                break;
            }
            self.pos += 1;
        }
        let inner = self.text[start..self.pos].trim().to_string();
        self.expect(")")?;
        let write = inner.contains('!');
        let set = inner
            .split(['!', ' ', '-', '|'])
            .find(|s| !s.is_empty())
            .unwrap_or("*")
            .to_string();
        Ok(AliasInfo { set, write })
    }

    /// A default value, converted with the argument type in mind: `int[2] padding=0` becomes
    /// `[0, 0]`, `float eps=1` becomes `1.0`, `ScalarType dtype=long` becomes `i64`.
    fn default(&mut self, ty: &SchemaType) -> Result<Arg, SchemaParseError> {
        let raw = self.literal()?;
        Ok(convert_default(raw, ty))
    }

    fn literal(&mut self) -> Result<Arg, SchemaParseError> {
        self.ws();
        match self.peek() {
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.eat("]") {
                        break;
                    }
                    items.push(self.literal()?);
                    self.ws();
                    if self.eat("]") {
                        break;
                    }
                    self.expect(",")?;
                }
                Ok(Arg::List(items))
            }
            Some(q @ (b'"' | b'\'')) => {
                self.pos += 1;
                let mut out = String::new();
                loop {
                    let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.pos += 1;
                    if c == q {
                        break;
                    }
                    if c == b'\\' {
                        let e = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                        self.pos += 1;
                        out.push(match e {
                            b'n' => '\n',
                            b't' => '\t',
                            b'r' => '\r',
                            b'f' => '\x0c',
                            b'v' => '\x0b',
                            b'0' => '\0',
                            other => other as char,
                        });
                    } else {
                        // Re-decode multi-byte UTF-8 by copying the raw bytes of this char.
                        let start = self.pos - 1;
                        let mut end = self.pos;
                        while end < self.s.len() && !self.text.is_char_boundary(end) {
                            end += 1;
                        }
                        out.push_str(&self.text[start..end]);
                        self.pos = end;
                    }
                }
                Ok(Arg::Str(out))
            }
            Some(c) if c == b'-' || c == b'+' || c.is_ascii_digit() || c == b'.' => {
                let start = self.pos;
                self.pos += 1;
                while let Some(c) = self.peek() {
                    let exp_sign =
                        (c == b'-' || c == b'+') && matches!(self.s[self.pos - 1], b'e' | b'E');
                    if c.is_ascii_alphanumeric() || c == b'.' || exp_sign {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                let t = &self.text[start..self.pos];
                if let Ok(i) = t.parse::<i64>() {
                    Ok(Arg::Int(i))
                } else if let Ok(f) = t.parse::<f64>() {
                    Ok(Arg::Float(F64(f)))
                } else if t == "-inf" {
                    Ok(Arg::Float(F64(f64::NEG_INFINITY)))
                } else {
                    Err(self.err(&format!("bad number `{t}`")))
                }
            }
            _ => {
                let id = self
                    .ident()
                    .ok_or_else(|| self.err("expected a default value"))?;
                Ok(match id {
                    "None" => Arg::None,
                    "True" => Arg::Bool(true),
                    "False" => Arg::Bool(false),
                    "inf" => Arg::Float(F64(f64::INFINITY)),
                    "nan" => Arg::Float(F64(f64::NAN)),
                    // An enum value (`contiguous_format`, `long`, `strided`); typed later.
                    other => Arg::Str(other.to_string()),
                })
            }
        }
    }
}

fn base_type(id: &str) -> BaseType {
    match id {
        "Tensor" => BaseType::Tensor,
        "int" => BaseType::Int,
        "SymInt" => BaseType::SymInt,
        "float" => BaseType::Float,
        "bool" => BaseType::Bool,
        "Scalar" => BaseType::Scalar,
        "ScalarType" => BaseType::ScalarType,
        "str" => BaseType::Str,
        "Layout" => BaseType::Layout,
        "Device" => BaseType::Device,
        "MemoryFormat" => BaseType::MemoryFormat,
        "Generator" => BaseType::Generator,
        "Dimname" => BaseType::Dimname,
        other => BaseType::Other(other.to_string()),
    }
}

/// The dtype an ATen `ScalarType` enum name stands for (`long`, `float`, `Half`, `torch.int32`).
pub fn scalar_type_from_name(name: &str) -> Option<DType> {
    let n = name.strip_prefix("torch.").unwrap_or(name);
    Some(match n.to_ascii_lowercase().as_str() {
        "long" | "int64" => DType::I64,
        "int" | "int32" => DType::I32,
        "short" | "int16" => DType::I16,
        "char" | "int8" => DType::I8,
        "byte" | "uint8" => DType::U8,
        "bool" => DType::Bool,
        "half" | "float16" => DType::F16,
        "bfloat16" => DType::BF16,
        "float" | "float32" => DType::F32,
        "double" | "float64" => DType::F64,
        "complexhalf" | "complex32" => DType::C32,
        "complexfloat" | "complex64" | "cfloat" => DType::C64,
        "complexdouble" | "complex128" | "cdouble" => DType::C128,
        _ => return n.parse().ok(),
    })
}

fn convert_default(raw: Arg, ty: &SchemaType) -> Arg {
    if raw == Arg::None {
        return Arg::None;
    }
    if let Some(size) = ty.list {
        let elem = SchemaType {
            base: ty.base.clone(),
            list: None,
            optional: ty.optional_elements,
            optional_elements: false,
        };
        return match raw {
            Arg::List(items) => Arg::List(
                items
                    .into_iter()
                    .map(|a| convert_default(a, &elem))
                    .collect(),
            ),
            // `int[2] padding=0` means `[0, 0]`; ATen expands a scalar to the fixed size.
            scalar => {
                let v = convert_default(scalar, &elem);
                Arg::List(vec![v; size.unwrap_or(1)])
            }
        };
    }
    match (&ty.base, raw) {
        (BaseType::Float, Arg::Int(i)) => Arg::Float(F64(i as f64)),
        (BaseType::ScalarType, Arg::Str(s)) => match scalar_type_from_name(&s) {
            Some(d) => Arg::DType(d),
            None => Arg::Str(s),
        },
        (BaseType::Layout, Arg::Str(s)) => Arg::Layout(s),
        (BaseType::MemoryFormat, Arg::Str(s)) => Arg::MemoryFormat(s),
        (BaseType::Device, Arg::Str(s)) => Arg::Device(s),
        (_, a) => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_tensor() {
        let p = parse_schema(
            "aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor",
        )
        .unwrap();
        assert_eq!(p.name, "aten.add.Tensor");
        let s = &p.schema;
        assert_eq!(s.args.len(), 3);
        assert!(s.args[2].kwarg_only && !s.args[1].kwarg_only);
        assert_eq!(s.args[2].default, Some(Arg::Int(1)));
        assert_eq!(s.returns.len(), 1);
        assert_eq!(s.returns[0].base, BaseType::Tensor);
    }

    #[test]
    fn lists_optionals_aliases() {
        let p = parse_schema(
            "aten::max_pool2d_with_indices(Tensor self, int[2] kernel_size, int[2] stride=[], \
             int[2] padding=0, int[2] dilation=1, bool ceil_mode=False) -> (Tensor, Tensor)",
        )
        .unwrap();
        let s = &p.schema;
        assert_eq!(s.args[1].ty.list, Some(Some(2)));
        assert_eq!(s.args[2].default, Some(Arg::List(vec![])));
        assert_eq!(
            s.args[3].default,
            Some(Arg::List(vec![Arg::Int(0), Arg::Int(0)]))
        );
        assert_eq!(s.returns.len(), 2);

        let p =
            parse_schema("aten::index.Tensor(Tensor self, Tensor?[] indices) -> Tensor").unwrap();
        let t = &p.schema.args[1].ty;
        assert!(t.optional_elements && !t.optional && t.list == Some(None));

        let p = parse_schema(
            "aten::add_.Tensor(Tensor(a!) self, Tensor other, *, Scalar alpha=1) -> Tensor(a!)",
        )
        .unwrap();
        assert!(p.schema.args[0].mutable);
        assert_eq!(
            p.return_alias[0],
            Some(AliasInfo {
                set: "a".into(),
                write: true
            })
        );
        let p = parse_schema(
            "aten::split.Tensor(Tensor(a -> *) self, SymInt split_size, int dim=0) -> Tensor(a)[]",
        )
        .unwrap();
        assert_eq!(p.schema.returns[0].list, Some(None));
        assert!(!p.schema.args[0].mutable);
    }

    #[test]
    fn defaults() {
        let p = parse_schema(
            "aten::foo(Tensor? w=None, float eps=1, float p=0.5, float q=1., str r=\"mean\", \
             ScalarType? dtype=long, MemoryFormat m=contiguous_format, bool b=True, int d=-1, \
             SymInt[] s=[0,0], float e=1.0000000000000001e-05, str sp=\" \\n\") -> ()",
        )
        .unwrap();
        let d: Vec<_> = p
            .schema
            .args
            .iter()
            .map(|a| a.default.clone().unwrap())
            .collect();
        assert_eq!(d[0], Arg::None);
        assert_eq!(d[1], Arg::Float(F64(1.0)));
        assert_eq!(d[2], Arg::Float(F64(0.5)));
        assert_eq!(d[3], Arg::Float(F64(1.0)));
        assert_eq!(d[4], Arg::Str("mean".into()));
        assert_eq!(d[5], Arg::DType(DType::I64));
        assert_eq!(d[6], Arg::MemoryFormat("contiguous_format".into()));
        assert_eq!(d[7], Arg::Bool(true));
        assert_eq!(d[8], Arg::Int(-1));
        assert_eq!(d[9], Arg::List(vec![Arg::Int(0), Arg::Int(0)]));
        assert_eq!(d[10], Arg::Float(F64(1e-5)));
        assert_eq!(d[11], Arg::Str(" \n".into()));
        assert!(p.schema.returns.is_empty());
    }

    #[test]
    fn torchscript_types_and_garbage() {
        for s in [
            "aten::__getitem__.Dict_str(Dict(str, t) self, str key) -> t(*)",
            "aten::items.str(Dict(str, t) self) -> ((str, t)[])",
            "aten::add.t(t[](a!) self, t[] b) -> t[]",
            "prim::PythonOp(...) -> ...",
            "aten::divmod.int(int x, int y) -> (int, int)",
        ] {
            parse_schema(s).unwrap_or_else(|e| panic!("{e}"));
        }
        for bad in [
            "",
            "aten::x(",
            "aten::x(Tensor) -> Tensor",
            "aten::x(Tensor a=) -> Tensor",
            "aten::x() ->",
            "aten::x(Tensor a=\"abc) -> ()",
        ] {
            assert!(parse_schema(bad).is_err(), "{bad}");
        }
    }
}
