//! Conversion of a parsed `.pt2` program to a [`trtfx_ir::Program`].
//!
//! - Graph inputs become placeholders paired by position with the signature (spec §3.6);
//!   literal (`constant_input`) inputs become placeholders of the literal's type.
//! - Nodes become `call_function` nodes named like the registry (`aten.conv2d.default`:
//!   `torch.ops.` stripped); every result (tuple elements, `as_tensors` elements, `as_none`
//!   slots) is its own IR value, so result positions are preserved.
//! - Every referenced name is resolved through one per-graph value table, so HOP operand lists
//!   that name SymInt values through `as_tensors` work (spec §9.9).
//! - Recorded types become IR types; sympy sizes become [`Dim`]s. An expression the IR cannot
//!   represent (e.g. `Where`) becomes a fresh unbacked symbol with a warning rather than failing
//!   the import.
//! - HOP subgraphs become IR graphs; identical copies under one name (`invoke_subgraph`) are
//!   stored once.
//! - Weights stay in the archive: each is a lazy [`WeightSource`] that rebuilds the tensor on
//!   first read.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use trtfx_ir::{
    Arg, DType, Dim, DimSpec, Graph, GraphId, InputKind, InputSpec, NodeBuilder, Op, OpRegistry,
    OutputKind, Program, SymKind, SymName, Symbol, Type, ValueId, Weight, WeightData, WeightSource,
    F64,
};

use crate::archive::{parse_exported_program, PayloadEntry, Pt2Archive};
use crate::error::ImportError;
use crate::schema::{
    self, Argument, ArgumentKind, ConstantValue, Layout, MemoryFormat, OptionalTensorArgument,
    OutputSpec, ScalarType, SymBoolArgument, SymFloatArgument, SymInt, SymIntArgument,
};
use crate::sympy::{parse_sym_expr, SymAst, SymFunc};

/// Options of an import.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions<'r> {
    /// Operator schemas, used to split arguments into positional/keyword when the archive has no
    /// `kind` (torch 2.6), to place positional arguments by schema index (an argument after an
    /// omitted default is passed by keyword), and to decide which ops keep their recorded types
    /// (those without an inference function). `None` (the `Default`) uses no schemas;
    /// [`ImportOptions::standard`] uses the standard ATen registry.
    pub registry: Option<&'r OpRegistry>,
}

/// An imported program with the importer's non-fatal findings.
#[derive(Debug)]
pub struct Imported {
    /// The program.
    pub program: Program,
    /// Warnings (unexpected archive version, unrepresentable expressions, ...).
    pub warnings: Vec<String>,
}

impl ImportOptions<'static> {
    /// Options with the standard ATen registry ([`trtfx_ir::aten::registry`]).
    pub fn standard() -> Self {
        ImportOptions {
            registry: Some(trtfx_ir::aten::registry()),
        }
    }
}

/// Imports a `.pt2` file with the standard ATen registry ([`ImportOptions::standard`]); use
/// [`import_archive`] to pick another registry or none.
pub fn import_pt2(path: impl AsRef<Path>) -> Result<Program, ImportError> {
    let ar = Arc::new(Pt2Archive::open(path)?);
    Ok(import_archive(ar, &ImportOptions::standard())?.program)
}

/// Imports a `.pt2` held in memory with the standard ATen registry; `name` is used in
/// messages.
pub fn import_pt2_bytes(bytes: impl Into<Arc<[u8]>>, name: &str) -> Result<Program, ImportError> {
    let ar = Arc::new(Pt2Archive::from_bytes(bytes, name)?);
    Ok(import_archive(ar, &ImportOptions::standard())?.program)
}

/// Imports the first model (`models/model.json`) of an opened archive. The archive is kept
/// alive by the program's lazy weights.
pub fn import_archive(
    archive: Arc<Pt2Archive>,
    opts: &ImportOptions<'_>,
) -> Result<Imported, ImportError> {
    let model = archive.model_names()[0].clone();
    let json = archive.read_model_json(&model)?;
    let member = format!("{}/models/{model}.json", archive.prefix());
    let mut warnings = archive.warnings().to_vec();
    let ep = parse_exported_program(&json, archive.display_name(), &member, &mut warnings)?;
    let mut cx = Cx {
        archive: archive.clone(),
        display: archive.display_name().to_string(),
        program: Program::new(),
        sym_names: HashMap::new(),
        dim_cache: HashMap::new(),
        symbols: IndexMap::new(),
        hints: HashMap::new(),
        opaque: 0,
        warnings,
        registry: opts.registry,
        subgraphs: HashMap::new(),
    };
    cx.import_program(&ep)?;
    trtfx_ir::validate_program(&cx.program, archive.limits()).map_err(|reason| {
        ImportError::Invalid {
            archive: archive.display_name().to_string(),
            item: "imported program".into(),
            reason,
        }
    })?;
    Ok(Imported {
        program: cx.program,
        warnings: cx.warnings,
    })
}

/// Reads one tensor of the archive on demand.
#[derive(Debug)]
struct ArchiveTensor {
    archive: Arc<Pt2Archive>,
    fqn: String,
}

impl WeightSource for ArchiveTensor {
    fn read(&self) -> Result<Vec<u8>, String> {
        self.archive
            .read_tensor_by_fqn(&self.fqn)
            .map(|t| t.bytes)
            .map_err(|e| e.to_string())
    }
    fn describe(&self) -> String {
        match self.archive.payload(&self.fqn) {
            Some(e) => format!(
                "{}: member `{}`",
                self.archive.display_name(),
                e.member.name
            ),
            None => format!("{}: `{}`", self.archive.display_name(), self.fqn),
        }
    }
}

/// Maps a schema dtype code to the IR's.
pub fn dtype_of(st: ScalarType) -> Option<DType> {
    use ScalarType as S;
    Some(match st {
        S::Unknown => return None,
        S::Byte => DType::U8,
        S::Char => DType::I8,
        S::Short => DType::I16,
        S::Int => DType::I32,
        S::Long => DType::I64,
        S::Half => DType::F16,
        S::Float => DType::F32,
        S::Double => DType::F64,
        S::ComplexHalf => DType::C32,
        S::ComplexFloat => DType::C64,
        S::ComplexDouble => DType::C128,
        S::Bool => DType::Bool,
        S::BFloat16 => DType::BF16,
        S::UInt16 => DType::U16,
        S::Float8E4M3FN => DType::F8E4M3FN,
        S::Float8E5M2 => DType::F8E5M2,
        S::Float8E4M3FNUZ => DType::F8E4M3FNUZ,
        S::Float8E5M2FNUZ => DType::F8E5M2FNUZ,
        S::Float8E8M0FNU => DType::F8E8M0FNU,
        S::UInt32 => DType::U32,
        S::UInt64 => DType::U64,
    })
}

fn layout_name(l: Layout) -> &'static str {
    match l {
        Layout::Unknown => "unknown",
        Layout::SparseCoo => "sparse_coo",
        Layout::SparseCsr => "sparse_csr",
        Layout::SparseCsc => "sparse_csc",
        Layout::SparseBsr => "sparse_bsr",
        Layout::SparseBsc => "sparse_bsc",
        Layout::Mkldnn => "_mkldnn",
        Layout::Strided => "strided",
    }
}

fn memory_format_name(m: MemoryFormat) -> &'static str {
    match m {
        MemoryFormat::Unknown => "unknown",
        MemoryFormat::ContiguousFormat => "contiguous_format",
        MemoryFormat::ChannelsLast => "channels_last",
        MemoryFormat::ChannelsLast3d => "channels_last_3d",
        MemoryFormat::PreserveFormat => "preserve_format",
    }
}

/// The registry name of an export target: `torch.ops.aten.add.Tensor` → `aten.add.Tensor`.
pub fn op_name(target: &str) -> &str {
    target.strip_prefix("torch.ops.").unwrap_or(target)
}

/// Python-level scalar functions: their inputs are always positional (spec §4).
fn is_python_scalar_fn(target: &str) -> bool {
    [
        "_operator.",
        "math.",
        "builtins.",
        "torch.sym_",
        "torch._sym_",
    ]
    .iter()
    .any(|p| target.starts_with(p))
}

fn is_builtin_namespace(name: &str) -> bool {
    [
        "aten.",
        "prims.",
        "higher_order.",
        "_operator.",
        "math.",
        "builtins.",
        "torch.",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

struct Cx<'r> {
    archive: Arc<Pt2Archive>,
    display: String,
    program: Program,
    sym_names: HashMap<String, SymName>,
    /// expr_str → Dim: the same strings repeat across a graph's value tables.
    dim_cache: HashMap<String, Dim>,
    /// Symbols in order of first appearance, with their kind.
    symbols: IndexMap<String, SymKind>,
    hints: HashMap<String, i64>,
    opaque: usize,
    warnings: Vec<String>,
    registry: Option<&'r OpRegistry>,
    /// Subgraph base name → imported graphs with that name (for deduplication).
    subgraphs: HashMap<String, Vec<GraphId>>,
}

/// Per-graph state: the schema graph and its name → value table.
struct GCx<'g, 'j> {
    g: &'g schema::Graph<'j>,
    gname: String,
    /// Every reference of the graph is resolved here, so it uses foldhash (seeded per map).
    values: FastMap<&'g str, ValueId>,
    tokens: HashSet<&'g str>,
    /// Node names taken so far; borrowed from the JSON where the name is the export's own.
    node_names: FastSet<Cow<'g, str>>,
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

impl Cx<'_> {
    fn invalid(&self, item: impl Into<String>, reason: impl Into<String>) -> ImportError {
        ImportError::Invalid {
            archive: self.display.clone(),
            item: item.into(),
            reason: reason.into(),
        }
    }

    fn unsupported(&self, item: impl Into<String>, reason: impl Into<String>) -> ImportError {
        ImportError::Unsupported {
            archive: self.display.clone(),
            item: item.into(),
            reason: reason.into(),
        }
    }

    fn sym_name(&mut self, name: &str) -> SymName {
        if let Some(s) = self.sym_names.get(name) {
            return s.clone();
        }
        let s: SymName = Arc::from(name);
        self.sym_names.insert(name.to_string(), s.clone());
        s
    }

    fn note_symbol(&mut self, ast: &SymAst) {
        if let SymAst::Symbol {
            name,
            integer,
            positive,
            nonnegative: _,
        } = ast
        {
            if self.symbols.contains_key(name.as_str()) {
                return;
            }
            let kind = if name.starts_with('u') {
                SymKind::Unbacked
            } else if !integer {
                SymKind::Float
            } else if *positive {
                SymKind::Size
            } else {
                SymKind::Int
            };
            self.symbols.insert(name.clone(), kind);
        }
    }

    /// Converts an integer-valued AST to a Dim; `None` if the IR cannot express it.
    fn ast_to_dim(&mut self, e: &SymAst) -> Option<Dim> {
        use SymFunc as F;
        Some(match e {
            SymAst::Integer(v) => Dim::constant(*v),
            SymAst::Rational(p, 1) => Dim::constant(*p),
            SymAst::Bool(b) => Dim::constant(*b as i64),
            SymAst::Symbol { name, .. } => {
                self.note_symbol(e);
                Dim::sym(self.sym_name(name))
            }
            SymAst::Call(f, args) => {
                let mut ds = Vec::with_capacity(args.len());
                for a in args {
                    ds.push(self.ast_to_dim(a)?);
                }
                match (f, ds.as_slice()) {
                    (F::Add, _) => ds.iter().fold(Dim::constant(0), |acc, d| acc.add(d)),
                    (F::Mul, _) => ds.iter().fold(Dim::constant(1), |acc, d| acc.mul(d)),
                    (F::Pow | F::PowByNatural, [b, k]) => {
                        let k = u32::try_from(k.as_const()?).ok()?;
                        b.pow(k)
                    }
                    (F::FloorDiv | F::CleanDiv, [a, b]) => a.floordiv(b),
                    (F::CeilDiv, [a, b]) => a.neg().floordiv(b).neg(),
                    (F::PythonMod | F::Mod, [a, b]) => a.modulo(b),
                    (F::ModularIndexing, [x, d, m]) => x.floordiv(d).modulo(m),
                    (F::Max, _) => Dim::max_of(ds.iter().cloned()),
                    (F::Min, _) => Dim::min_of(ds.iter().cloned()),
                    (F::Abs, [x]) => x.maximum(&x.neg()),
                    (F::Identity, [x]) => x.clone(),
                    _ => return None,
                }
            }
            _ => return None,
        })
        .or_else(|| match e {
            // FloorToInt(IntTrueDiv(a, b)) and friends are integer divisions in disguise.
            SymAst::Call(f @ (F::FloorToInt | F::CeilToInt), args) => match args.as_slice() {
                [SymAst::Call(F::IntTrueDiv, ab)] if ab.len() == 2 => {
                    let a = self.ast_to_dim(&ab[0])?;
                    let b = self.ast_to_dim(&ab[1])?;
                    Some(if *f == F::FloorToInt {
                        a.floordiv(&b)
                    } else {
                        a.neg().floordiv(&b).neg()
                    })
                }
                _ => None,
            },
            _ => None,
        })
    }

    /// The Dim of an `expr_str`; unrepresentable expressions become fresh unbacked symbols.
    fn expr_dim(
        &mut self,
        expr: &str,
        hint: Option<i64>,
        item: &dyn Fn() -> String,
    ) -> Result<Dim, ImportError> {
        if let Some(d) = self.dim_cache.get(expr) {
            return Ok(d.clone());
        }
        let ast = parse_sym_expr(expr).map_err(|source| ImportError::SymExpr {
            archive: self.display.clone(),
            item: item(),
            source,
        })?;
        if let (SymAst::Symbol { name, .. }, Some(h)) = (&ast, hint) {
            self.hints.entry(name.clone()).or_insert(h);
        }
        let d = match self.ast_to_dim(&ast) {
            Some(d) => d,
            None => {
                let name = format!("_opaque{}", self.opaque);
                self.opaque += 1;
                self.warnings.push(format!(
                    "{}: {}: expression `{expr}` is not representable as an IR dim; using fresh symbol `{name}`",
                    self.display,
                    item()
                ));
                self.symbols.insert(name.clone(), SymKind::Unbacked);
                if let Some(h) = hint {
                    self.hints.insert(name.clone(), h);
                }
                Dim::sym(self.sym_name(&name))
            }
        };
        self.dim_cache.insert(expr.to_string(), d.clone());
        Ok(d)
    }

    fn symint_dim(
        &mut self,
        s: &SymInt<'_>,
        item: &dyn Fn() -> String,
    ) -> Result<Dim, ImportError> {
        match s {
            SymInt::Int(v) => Ok(Dim::constant(*v)),
            SymInt::Expr(e) => {
                let hint = match e.hint {
                    Some(schema::SymExprHint::Int(h)) => Some(h),
                    _ => None,
                };
                self.expr_dim(&e.expr_str, hint, item)
            }
        }
    }

    /// `item` names the value in messages; it is only formatted for an error.
    fn tensor_type(
        &mut self,
        tm: &schema::TensorMeta<'_>,
        item: &dyn Fn() -> String,
    ) -> Result<Type, ImportError> {
        let dtype = dtype_of(tm.dtype)
            .ok_or_else(|| self.invalid(item(), "tensor with dtype code 0 (UNKNOWN)"))?;
        let mut shape = trtfx_ir::Shape::new();
        for (i, s) in tm.sizes.iter().enumerate() {
            shape.push(match s {
                // The common case, a static size, needs no message.
                SymInt::Int(v) => Dim::constant(*v),
                _ => self.symint_dim(s, &|| format!("{} size {i}", item()))?,
            });
        }
        Ok(Type::tensor(dtype, shape))
    }

    /// The recorded type of a named value of graph `gc`.
    fn value_type(&mut self, gc: &GCx<'_, '_>, name: &str) -> Result<Type, ImportError> {
        let item = || format!("value `{name}` of graph `{}`", gc.gname);
        if gc.tokens.contains(name) {
            return Ok(Type::Token);
        }
        if let Some(tm) = gc.g.tensor_values.get(name) {
            return self.tensor_type(tm, &item);
        }
        if let Some(s) = gc.g.sym_int_values.get(name) {
            return Ok(Type::SymInt(Some(self.symint_dim(s, &item)?)));
        }
        if let Some(s) = gc.g.sym_float_values.get(name) {
            if let schema::SymFloat::Expr(e) = s {
                // Parse for validation and to learn the symbols (zuf0...).
                let ast = parse_sym_expr(&e.expr_str).map_err(|source| ImportError::SymExpr {
                    archive: self.display.clone(),
                    item: item(),
                    source,
                })?;
                ast.for_each_symbol(&mut |s| self.note_symbol(s));
            }
            return Ok(Type::SymFloat);
        }
        if let Some(s) = gc.g.sym_bool_values.get(name) {
            if let schema::SymBool::Expr(e) = s {
                let ast = parse_sym_expr(&e.expr_str).map_err(|source| ImportError::SymExpr {
                    archive: self.display.clone(),
                    item: item(),
                    source,
                })?;
                ast.for_each_symbol(&mut |s| self.note_symbol(s));
            }
            return Ok(Type::SymBool);
        }
        if let Some(c) = gc.g.custom_obj_values.get(name) {
            return Ok(Type::Object(c.class_fqn.to_string()));
        }
        Err(self.invalid(
            item(),
            "not in any value table (tensor_values, sym_int_values, ...)",
        ))
    }

    fn lookup(
        &self,
        gc: &GCx<'_, '_>,
        name: &str,
        user: &dyn Fn() -> String,
    ) -> Result<ValueId, ImportError> {
        gc.values.get(name).copied().ok_or_else(|| {
            self.invalid(
                user(),
                format!(
                    "refers to `{name}`, which is not defined before it in graph `{}`",
                    gc.gname
                ),
            )
        })
    }

    fn convert_arg(
        &mut self,
        gc: &GCx<'_, '_>,
        a: &Argument<'_>,
        user: &dyn Fn() -> String,
    ) -> Result<Arg, ImportError> {
        let f = |v: &schema::Float| Arg::Float(F64(v.0));
        Ok(match a {
            Argument::None(_) => Arg::None,
            Argument::Tensor(t) => Arg::Value(self.lookup(gc, &t.name, user)?),
            Argument::Tensors(ts) => Arg::List(
                ts.iter()
                    .map(|t| self.lookup(gc, &t.name, user).map(Arg::Value))
                    .collect::<Result<_, _>>()?,
            ),
            Argument::Int(v) => Arg::Int(*v),
            Argument::Ints(v) => Arg::List(v.iter().map(|&x| Arg::Int(x)).collect()),
            Argument::Float(v) => f(v),
            Argument::Floats(v) => Arg::List(v.iter().map(f).collect()),
            Argument::String(s) => Arg::Str(s.to_string()),
            Argument::Strings(v) => Arg::List(v.iter().map(|s| Arg::Str(s.to_string())).collect()),
            Argument::Bool(b) => Arg::Bool(*b),
            Argument::Bools(v) => Arg::List(v.iter().map(|&b| Arg::Bool(b)).collect()),
            Argument::SymInt(s) => self.sym_int_arg(gc, s, user)?,
            Argument::SymInts(v) => Arg::List(
                v.iter()
                    .map(|s| self.sym_int_arg(gc, s, user))
                    .collect::<Result<_, _>>()?,
            ),
            Argument::SymFloat(s) => self.sym_float_arg(gc, s, user)?,
            Argument::SymFloats(v) => Arg::List(
                v.iter()
                    .map(|s| self.sym_float_arg(gc, s, user))
                    .collect::<Result<_, _>>()?,
            ),
            Argument::SymBool(s) => self.sym_bool_arg(gc, s, user)?,
            Argument::SymBools(v) => Arg::List(
                v.iter()
                    .map(|s| self.sym_bool_arg(gc, s, user))
                    .collect::<Result<_, _>>()?,
            ),
            Argument::ScalarType(st) => Arg::DType(
                dtype_of(*st)
                    .ok_or_else(|| self.invalid(user(), "dtype argument UNKNOWN (code 0)"))?,
            ),
            Argument::MemoryFormat(m) => Arg::MemoryFormat(memory_format_name(*m).into()),
            Argument::Layout(l) => Arg::Layout(layout_name(*l).into()),
            Argument::Device(d) => Arg::Device(match d.index {
                Some(i) => format!("{}:{i}", d.kind),
                None => d.kind.to_string(),
            }),
            Argument::OptionalTensors(v) => Arg::List(
                v.iter()
                    .map(|o| self.opt_tensor(gc, o, user))
                    .collect::<Result<_, _>>()?,
            ),
            Argument::OptionalTensor(o) => self.opt_tensor(gc, o, user)?,
            Argument::Graph(ga) => Arg::Graph(self.import_subgraph(&ga.name, &ga.graph)?),
            Argument::CustomObj(c) => Arg::Value(self.lookup(gc, &c.name, user)?),
            Argument::Operator(o) => Arg::OpRef(op_name(o).to_string()),
            Argument::Complex(c) => Arg::Complex(F64(c.real.0), F64(c.imag.0)),
            Argument::IntLists(v) => Arg::List(
                v.iter()
                    .map(|l| Arg::List(l.iter().map(|&x| Arg::Int(x)).collect()))
                    .collect(),
            ),
            Argument::FloatLists(v) => Arg::List(
                v.iter()
                    .map(|l| Arg::List(l.iter().map(f).collect()))
                    .collect(),
            ),
            Argument::NestedTensors(v) => {
                let mut out = Vec::with_capacity(v.len());
                for l in v {
                    let mut inner = Vec::with_capacity(l.len());
                    for t in l {
                        inner.push(Arg::Value(self.lookup(gc, &t.name, user)?));
                    }
                    out.push(Arg::List(inner));
                }
                Arg::List(out)
            }
            Argument::StringToArgument(m) => {
                let mut out = Vec::with_capacity(m.len());
                for (k, v) in m {
                    out.push((k.to_string(), self.convert_arg(gc, v, user)?));
                }
                Arg::Dict(out)
            }
        })
    }

    fn opt_tensor(
        &mut self,
        gc: &GCx<'_, '_>,
        o: &OptionalTensorArgument<'_>,
        user: &dyn Fn() -> String,
    ) -> Result<Arg, ImportError> {
        Ok(match o {
            OptionalTensorArgument::Tensor(t) => Arg::Value(self.lookup(gc, &t.name, user)?),
            OptionalTensorArgument::None(_) => Arg::None,
        })
    }

    fn sym_int_arg(
        &mut self,
        gc: &GCx<'_, '_>,
        s: &SymIntArgument<'_>,
        user: &dyn Fn() -> String,
    ) -> Result<Arg, ImportError> {
        Ok(match s {
            SymIntArgument::Name(n) => Arg::Value(self.lookup(gc, n, user)?),
            SymIntArgument::Int(v) => Arg::Int(*v),
        })
    }

    fn sym_float_arg(
        &mut self,
        gc: &GCx<'_, '_>,
        s: &SymFloatArgument<'_>,
        user: &dyn Fn() -> String,
    ) -> Result<Arg, ImportError> {
        Ok(match s {
            SymFloatArgument::Name(n) => Arg::Value(self.lookup(gc, n, user)?),
            SymFloatArgument::Float(v) => Arg::Float(F64(v.0)),
        })
    }

    fn sym_bool_arg(
        &mut self,
        gc: &GCx<'_, '_>,
        s: &SymBoolArgument<'_>,
        user: &dyn Fn() -> String,
    ) -> Result<Arg, ImportError> {
        Ok(match s {
            SymBoolArgument::Name(n) => Arg::Value(self.lookup(gc, n, user)?),
            SymBoolArgument::Bool(b) => Arg::Bool(*b),
        })
    }

    /// The name a graph input/output argument refers to, if it is a reference.
    fn ref_name<'a>(a: &'a Argument<'_>) -> Option<&'a str> {
        match a {
            Argument::Tensor(t) => Some(&t.name),
            Argument::SymInt(SymIntArgument::Name(n))
            | Argument::SymFloat(SymFloatArgument::Name(n))
            | Argument::SymBool(SymBoolArgument::Name(n)) => Some(n),
            Argument::CustomObj(c) => Some(&c.name),
            _ => None,
        }
    }

    fn literal_of(&self, a: &Argument<'_>) -> Option<(Arg, Type)> {
        Some(match a {
            Argument::None(_) => (Arg::None, Type::None),
            Argument::Int(v) => (Arg::Int(*v), Type::Int),
            Argument::Float(v) => (Arg::Float(F64(v.0)), Type::Float),
            Argument::Bool(b) => (Arg::Bool(*b), Type::Bool),
            Argument::String(s) => (Arg::Str(s.to_string()), Type::Str),
            _ => return None,
        })
    }

    fn unique_node_name<'g>(gc: &mut GCx<'g, '_>, base: Cow<'g, str>) -> String {
        if !gc.node_names.contains(base.as_ref()) {
            let name = base.to_string();
            gc.node_names.insert(base);
            return name;
        }
        let mut k = 1;
        loop {
            let cand = format!("{base}_{k}");
            if !gc.node_names.contains(cand.as_str()) {
                gc.node_names.insert(Cow::Owned(cand.clone()));
                return cand;
            }
            k += 1;
        }
    }

    /// Imports one graph's placeholders, nodes and output.
    fn import_graph<'g, 'j>(
        &mut self,
        g: &'g schema::Graph<'j>,
        gname: &str,
        tokens: HashSet<&'g str>,
        input_names: &[Option<String>],
    ) -> Result<Graph, ImportError> {
        // Sized up front: appending 10^5 nodes would otherwise regrow the arenas many times.
        let mut graph = Graph::with_capacity(
            gname,
            g.inputs.len() + g.nodes.len() + 1,
            g.inputs.len() + g.tensor_values.len() + g.sym_int_values.len(),
        );
        let mut gc = GCx {
            g,
            gname: gname.to_string(),
            values: FastMap::with_capacity_and_hasher(
                g.tensor_values.len() + g.sym_int_values.len(),
                Default::default(),
            ),
            tokens,
            node_names: FastSet::with_capacity_and_hasher(g.nodes.len(), Default::default()),
        };
        // Placeholders.
        for (i, inp) in g.inputs.iter().enumerate() {
            let item = || format!("input {i} of graph `{gname}`");
            let (name, ty) = if let Some(name) = Self::ref_name(inp) {
                (name.to_string(), self.value_type(&gc, name)?)
            } else if let Some((_, ty)) = self.literal_of(inp) {
                let name = input_names
                    .get(i)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| format!("const_input_{i}"));
                (name, ty)
            } else {
                return Err(self.unsupported(
                    item(),
                    format!("graph input of kind `{}`", inp.variant_name()),
                ));
            };
            let node_name = Self::unique_node_name(&mut gc, Cow::Owned(name.clone()));
            let n = graph.append(
                NodeBuilder::new(Op::Placeholder)
                    .result(name.clone(), ty)
                    .name(node_name),
            );
            let v = graph.node(n).results[0];
            if let Some(r) = Self::ref_name(inp) {
                if gc.values.insert(r, v).is_some() {
                    return Err(self.invalid(item(), format!("value `{r}` defined twice")));
                }
            }
        }
        // Nodes.
        for (ni, node) in g.nodes.iter().enumerate() {
            self.import_node(&mut graph, &mut gc, node, ni)?;
        }
        // Output.
        let mut outs = Vec::with_capacity(g.outputs.len());
        for (i, o) in g.outputs.iter().enumerate() {
            let user = || format!("output {i} of graph `{gname}`");
            outs.push(self.convert_arg(&gc, o, &user)?);
        }
        let name = Self::unique_node_name(&mut gc, Cow::Borrowed("output"));
        graph.append(NodeBuilder::new(Op::Output).args(outs).name(name));
        Ok(graph)
    }

    fn import_node<'g>(
        &mut self,
        graph: &mut Graph,
        gc: &mut GCx<'g, '_>,
        node: &'g schema::Node<'_>,
        ni: usize,
    ) -> Result<(), ImportError> {
        let target: &'g str = op_name(&node.target);
        // Borrowed from the JSON: only the names that end up in the graph are allocated.
        let base_name: Cow<'g, str> = match &node.name {
            Some(n) => Cow::Borrowed(n.as_str()),
            None => match node.outputs.iter().find_map(Self::ref_name) {
                Some(n) => Cow::Borrowed(n),
                None => Cow::Owned(target.replace('.', "_")),
            },
        };
        // Formatted only for an error message.
        let user = || {
            format!(
                "node `{base_name}` ({target}) of graph `{}`",
                gc.gname.as_str()
            )
        };
        let def = self.registry.and_then(|r| r.get(target));
        let schema = def.and_then(|d| d.schema.as_ref());

        let mut args = Vec::new();
        let mut kwargs = Vec::new();
        let mut omitted_before = false;
        for na in &node.inputs {
            let a = self.convert_arg(gc, &na.arg, &user)?;
            let positional = match na.kind {
                // Torch omits arguments left at their default even when later ones are passed
                // positionally; appending would shift such an argument into an earlier slot.
                // With a schema, an argument stays positional only when it lands in its own
                // slot; otherwise it (and every later one) is passed by keyword.
                Some(ArgumentKind::Positional) => match schema {
                    Some(s) if !na.name.is_empty() && !is_python_scalar_fn(&node.target) => {
                        match s.arg_index(&na.name) {
                            Some(idx) => idx == args.len(),
                            None => true,
                        }
                    }
                    _ => true,
                },
                Some(ArgumentKind::Keyword) => false,
                _ if na.name.is_empty() || is_python_scalar_fn(&node.target) => true,
                _ => match schema {
                    // torch 2.6 (no `kind`): required non-kwarg-only arguments were passed
                    // positionally; once an argument was omitted the rest must be keywords.
                    Some(s) => match s.arg_index(&na.name) {
                        Some(idx) => {
                            let sa = &s.args[idx];
                            if !omitted_before {
                                omitted_before = s.args[..idx]
                                    .iter()
                                    .any(|p| !node.inputs.iter().any(|x| *x.name == *p.name));
                            }
                            !sa.kwarg_only
                                && sa.default.is_none()
                                && !omitted_before
                                && idx == args.len()
                        }
                        None => false,
                    },
                    // No schema: a keyword is always unambiguous.
                    None => false,
                },
            };
            if positional && kwargs.is_empty() {
                args.push(a);
            } else if positional && na.name.is_empty() {
                return Err(self.invalid(user(), "positional argument after a keyword argument"));
            } else {
                kwargs.push((na.name.to_string(), a));
            }
        }

        // Results.
        let mut results: Vec<(String, Type)> = Vec::new();
        let mut result_refs: Vec<Option<&'g str>> = Vec::new();
        for (oi, o) in node.outputs.iter().enumerate() {
            match o {
                Argument::Tensor(t) => {
                    let ty = if target == "higher_order.with_effects" && oi == 0 {
                        Type::Token
                    } else {
                        self.value_type(gc, &t.name)?
                    };
                    results.push((t.name.to_string(), ty));
                    result_refs.push(Some(&t.name));
                }
                Argument::Tensors(ts) => {
                    for t in ts {
                        let ty = self.value_type(gc, &t.name)?;
                        results.push((t.name.to_string(), ty));
                        result_refs.push(Some(&t.name));
                    }
                }
                Argument::SymInt(SymIntArgument::Name(n))
                | Argument::SymFloat(SymFloatArgument::Name(n))
                | Argument::SymBool(SymBoolArgument::Name(n)) => {
                    let ty = self.value_type(gc, n)?;
                    results.push((n.to_string(), ty));
                    result_refs.push(Some(n));
                }
                Argument::None(_) => {
                    results.push((format!("{base_name}_none_{oi}"), Type::None));
                    result_refs.push(None);
                }
                Argument::OptionalTensors(ts) => {
                    for (k, t) in ts.iter().enumerate() {
                        match t {
                            OptionalTensorArgument::Tensor(t) => {
                                let ty = self.value_type(gc, &t.name)?;
                                results.push((t.name.to_string(), ty));
                                result_refs.push(Some(&t.name));
                            }
                            OptionalTensorArgument::None(_) => {
                                results.push((format!("{base_name}_none_{oi}_{k}"), Type::None));
                                result_refs.push(None);
                            }
                        }
                    }
                }
                other => {
                    return Err(self.unsupported(
                        user(),
                        format!("output {oi} of kind `{}`", other.variant_name()),
                    ))
                }
            }
        }
        let node_name = Self::unique_node_name(gc, base_name.clone());
        let mut b = NodeBuilder::call(target).args(args).name(node_name);
        b.kwargs = kwargs;
        b.results = results;
        let n = graph.append(b);
        let recorded = match self.registry {
            Some(_) => def.is_none_or(|d| d.infer.is_none()),
            None => !is_builtin_namespace(target),
        };
        if recorded {
            graph.node_meta_mut(n).recorded_types = true;
        }
        let res: Vec<ValueId> = graph.node(n).results.to_vec();
        for (v, r) in res.into_iter().zip(result_refs) {
            if let Some(r) = r {
                if gc.values.insert(r, v).is_some() {
                    return Err(self.invalid(
                        format!("node {ni} (`{base_name}`) of graph `{}`", gc.gname),
                        format!("value `{r}` defined twice"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn import_subgraph(
        &mut self,
        name: &str,
        g: &schema::Graph<'_>,
    ) -> Result<GraphId, ImportError> {
        let mut graph = self.import_graph(g, name, HashSet::new(), &[])?;
        // A subgraph used by several nodes is serialized once per use: keep one copy.
        let same: Vec<GraphId> = self.subgraphs.get(name).cloned().unwrap_or_default();
        for id in &same {
            graph.name = self.program.graphs[*id].name.clone();
            if self.program.graphs[*id] == graph {
                return Ok(*id);
            }
        }
        let mut unique = name.to_string();
        let mut k = 1;
        while unique == "main" || self.program.graph_by_name(&unique).is_some() {
            unique = format!("{name}_{k}");
            k += 1;
        }
        graph.name = unique;
        let id = self.program.add_graph(graph);
        self.subgraphs.entry(name.to_string()).or_default().push(id);
        Ok(id)
    }

    fn weight_for(
        &self,
        fqn: &str,
        entry: Option<&PayloadEntry>,
        item: &str,
    ) -> Result<Weight, ImportError> {
        let e = entry.ok_or_else(|| {
            self.invalid(
                item,
                format!("`{fqn}` is not in the weights or constants config"),
            )
        })?;
        let Some(view) = &e.view else {
            if e.use_pickle {
                return Err(self.unsupported(
                    item,
                    format!("pickled payload `{}` without a tensor meta", e.member.name),
                ));
            }
            return Err(self.invalid(
                item,
                format!("`{fqn}` has no tensor_meta in its payload config"),
            ));
        };
        let dtype = dtype_of(view.dtype)
            .ok_or_else(|| self.invalid(item, "payload dtype UNKNOWN (code 0)"))?;
        let data = if e.use_pickle {
            WeightData::Opaque(format!(
                "{}: tensor `{fqn}`: pickled payload in member `{}` (tensor subclass, use_pickle=true) is not supported",
                self.display, e.member.name
            ))
        } else {
            WeightData::Lazy(Arc::new(ArchiveTensor {
                archive: self.archive.clone(),
                fqn: fqn.to_string(),
            }))
        };
        Ok(Weight {
            dtype,
            shape: view.sizes.clone(),
            data,
        })
    }

    fn import_program(&mut self, ep: &schema::ExportedProgram<'_>) -> Result<(), ImportError> {
        let gm = &ep.graph_module;
        let g = &gm.graph;
        let sig = &gm.signature;
        if sig.input_specs.len() != g.inputs.len() {
            return Err(self.invalid(
                "graph signature",
                format!(
                    "{} input specs for {} graph inputs",
                    sig.input_specs.len(),
                    g.inputs.len()
                ),
            ));
        }
        if sig.output_specs.len() != g.outputs.len() {
            return Err(self.invalid(
                "graph signature",
                format!(
                    "{} output specs for {} graph outputs",
                    sig.output_specs.len(),
                    g.outputs.len()
                ),
            ));
        }
        // Signature inputs, token names and literal-input names, by position.
        let mut tokens = HashSet::new();
        let mut kinds = Vec::with_capacity(sig.input_specs.len());
        let mut input_names = Vec::with_capacity(sig.input_specs.len());
        for (i, (spec, inp)) in sig.input_specs.iter().zip(&g.inputs).enumerate() {
            use schema::InputSpec as S;
            let item = format!("input spec {i}");
            let mut lit_name = None;
            let spec_ref: Option<&str> = match spec {
                S::UserInput { arg } => {
                    let name = Self::ref_name(arg).ok_or_else(|| {
                        self.unsupported(
                            &item,
                            format!("user input of kind `{}`", arg.variant_name()),
                        )
                    })?;
                    kinds.push(InputKind::User {
                        name: name.to_string(),
                    });
                    Some(name)
                }
                S::Parameter {
                    arg,
                    parameter_name,
                } => {
                    let w = self.weight_for(
                        parameter_name,
                        self.archive
                            .weights()
                            .get(&**parameter_name)
                            .or_else(|| self.archive.payload(parameter_name)),
                        &item,
                    )?;
                    self.program.weights.insert(parameter_name.to_string(), w);
                    kinds.push(InputKind::Parameter {
                        target: parameter_name.to_string(),
                    });
                    Some(&arg.name)
                }
                S::Buffer {
                    arg,
                    buffer_name,
                    persistent,
                } => {
                    let entry = if *persistent {
                        self.archive.weights().get(&**buffer_name)
                    } else {
                        self.archive.constants().get(&**buffer_name)
                    }
                    .or_else(|| self.archive.payload(buffer_name));
                    let w = self.weight_for(buffer_name, entry, &item)?;
                    self.program.weights.insert(buffer_name.to_string(), w);
                    kinds.push(InputKind::Buffer {
                        target: buffer_name.to_string(),
                        persistent: *persistent,
                    });
                    Some(&arg.name)
                }
                S::TensorConstant {
                    arg,
                    tensor_constant_name,
                } => {
                    let entry = self
                        .archive
                        .constants()
                        .get(&**tensor_constant_name)
                        .or_else(|| self.archive.payload(tensor_constant_name));
                    let w = self.weight_for(tensor_constant_name, entry, &item)?;
                    self.program
                        .weights
                        .insert(tensor_constant_name.to_string(), w);
                    kinds.push(InputKind::Constant {
                        target: tensor_constant_name.to_string(),
                    });
                    Some(&arg.name)
                }
                S::CustomObj {
                    arg,
                    custom_obj_name,
                } => {
                    kinds.push(InputKind::CustomObj {
                        target: custom_obj_name.to_string(),
                    });
                    Some(&arg.name)
                }
                S::Token { arg } => {
                    tokens.insert(&*arg.name);
                    kinds.push(InputKind::Token);
                    Some(&arg.name)
                }
                S::ConstantInput { name, value } => {
                    let v = match value {
                        ConstantValue::None(_) => Arg::None,
                        ConstantValue::Int(v) => Arg::Int(*v),
                        ConstantValue::Float(v) => Arg::Float(F64(v.0)),
                        ConstantValue::String(s) => Arg::Str(s.to_string()),
                        ConstantValue::Bool(b) => Arg::Bool(*b),
                    };
                    kinds.push(InputKind::ConstantInput {
                        name: name.to_string(),
                        value: v,
                    });
                    lit_name = Some(name.to_string());
                    None
                }
            };
            if let (Some(s), Some(g)) = (spec_ref, Self::ref_name(inp)) {
                if s != g {
                    return Err(
                        self.invalid(&item, format!("names `{s}` but graph input {i} is `{g}`"))
                    );
                }
            }
            input_names.push(lit_name);
        }
        for (spec, out) in sig.output_specs.iter().zip(&g.outputs) {
            if let (OutputSpec::Token { arg }, _) = (spec, out) {
                tokens.insert(&*arg.name);
            }
        }
        let main = self.import_graph(g, "main", tokens, &input_names)?;
        let mid = self.program.main;
        self.program.graphs[mid] = main;
        self.program.signature.inputs = kinds;
        self.program.signature.outputs = sig
            .output_specs
            .iter()
            .map(|s| match s {
                OutputSpec::UserOutput { .. } => OutputKind::User,
                OutputSpec::LossOutput { .. } => OutputKind::Loss,
                OutputSpec::BufferMutation { buffer_name, .. } => OutputKind::BufferMutation {
                    target: buffer_name.to_string(),
                },
                OutputSpec::ParameterMutation { parameter_name, .. } => {
                    OutputKind::ParameterMutation {
                        target: parameter_name.to_string(),
                    }
                }
                OutputSpec::GradientToParameter { parameter_name, .. } => OutputKind::Gradient {
                    target: parameter_name.to_string(),
                },
                OutputSpec::GradientToUserInput {
                    user_input_name, ..
                } => OutputKind::Gradient {
                    target: user_input_name.to_string(),
                },
                OutputSpec::UserInputMutation {
                    user_input_name, ..
                } => OutputKind::UserInputMutation {
                    input: user_input_name.to_string(),
                },
                OutputSpec::Token { .. } => OutputKind::Token,
            })
            .collect();

        // Symbols: those seen in expressions, then range-constrained ones not seen.
        for (name, _) in ep.range_constraints.iter() {
            if !self.symbols.contains_key(&**name) {
                let kind = if name.starts_with('u') {
                    SymKind::Unbacked
                } else if name.starts_with("zf") || name.starts_with("zuf") {
                    SymKind::Float
                } else {
                    SymKind::Size
                };
                self.symbols.insert(name.to_string(), kind);
            }
        }
        for (name, kind) in std::mem::take(&mut self.symbols) {
            // torch.export records a range for every symbol it creates; a symbol without one
            // was not declared by the export, and inventing an unbounded one would hide a
            // corrupt or hand-edited archive until a backend needs the range.
            let Some(rc) = ep.range_constraints.get(name.as_str()).copied() else {
                return Err(self.invalid(
                    format!("symbol {name}"),
                    "used by a shape or value but not declared in `range_constraints`",
                ));
            };
            if let (Some(lo), Some(hi)) = (rc.min_val, rc.max_val) {
                if lo > hi {
                    return Err(self.invalid(
                        format!("symbol {name}"),
                        format!(
                            "`range_constraints` gives an empty range {lo}..={hi} (min is \
                             greater than max)"
                        ),
                    ));
                }
            }
            let sym = Symbol {
                kind,
                min: rc.min_val,
                max: rc.max_val,
                hint: self.hints.get(&name).copied(),
            };
            let sn = self.sym_name(&name);
            self.program.declare_symbol(sn, sym);
        }

        // User input specs.
        let main = self.program.main_graph();
        let phs = main.input_values();
        let mut specs = Vec::new();
        for (i, kind) in self.program.signature.inputs.iter().enumerate() {
            let InputKind::User { name } = kind else {
                continue;
            };
            let v = phs[i];
            let ty = main.ty(v).clone();
            specs.push(match ty {
                Type::Tensor(t) => {
                    let recorded =
                        Self::ref_name(&g.inputs[i]).and_then(|n| g.tensor_values.get(n));
                    let dims = t
                        .shape
                        .iter()
                        .enumerate()
                        .map(|(d, dim)| self.dim_spec(dim, recorded.and_then(|tm| tm.sizes.get(d))))
                        .collect();
                    InputSpec::Tensor {
                        name: name.clone(),
                        dtype: t.dtype,
                        dims,
                    }
                }
                Type::SymInt(d) => InputSpec::Scalar {
                    name: name.clone(),
                    dtype: DType::I64,
                    range: d.as_ref().and_then(|d| d.as_sym()).map(|s| {
                        let sym = &self.program.symbols[s];
                        (sym.min, sym.max)
                    }),
                },
                Type::SymFloat => InputSpec::Scalar {
                    name: name.clone(),
                    dtype: DType::F64,
                    range: None,
                },
                Type::SymBool => InputSpec::Scalar {
                    name: name.clone(),
                    dtype: DType::Bool,
                    range: None,
                },
                _ => continue,
            });
        }
        self.program.input_specs = specs;
        self.program.meta.dialect = Some(
            ep.verifiers
                .first()
                .map(|v| v.to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "ATEN".into()),
        );
        self.program.meta.torch_version = Some(ep.torch_version.to_string());
        Ok(())
    }

    /// min/opt/max of one user-input dim: symbol ranges for min/max, the recorded hint for opt.
    fn dim_spec(&self, dim: &Dim, recorded: Option<&SymInt<'_>>) -> DimSpec {
        if let Some(c) = dim.as_const() {
            return DimSpec::Static(c);
        }
        let syms = &self.program.symbols;
        let at = |pick_max: bool| {
            dim.eval(&|s: &str| {
                let sym = syms.get(s)?;
                if pick_max {
                    sym.max
                } else {
                    sym.min
                }
            })
        };
        let hint = match recorded {
            Some(SymInt::Expr(e)) => match e.hint {
                Some(schema::SymExprHint::Int(h)) => Some(h),
                _ => None,
            },
            _ => None,
        }
        .or_else(|| dim.eval(&|s: &str| syms.get(s)?.hint));
        let lo = at(false).unwrap_or(0);
        let hi = at(true).unwrap_or(i64::MAX);
        let (min, max) = (lo.min(hi), lo.max(hi));
        DimSpec::Dynamic {
            sym: dim.as_sym().cloned(),
            min,
            opt: hint.unwrap_or(min).clamp(min, max),
            max,
        }
    }
}
