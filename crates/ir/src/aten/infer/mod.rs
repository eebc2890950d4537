//! Shape and dtype inference rules for ATen operators.
//!
//! Each rule is a plain `fn(&Call) -> Result<Vec<Type>, String>`. [`Call`] binds a node's
//! positional and keyword arguments to the schema by name, filling omitted arguments from the
//! schema defaults (the export omits arguments left at their default), so rules read
//! `c.ints("stride")` instead of counting positions.
//!
//! Results are one [`Type`] per result value of the node. A `Tensor[]` return (`split`,
//! `unbind`) is flattened: one tensor result per element, as the export lists them.
//!
//! Data-dependent sizes (`nonzero`, `item`) need fresh unbacked symbols and broadcasting wants
//! symbol ranges; both come from an inference context installed by [`with_context`] (done by
//! `infer_program`). Without one, symbols are treated as unbounded and fresh symbols are named
//! `u0`, `u1`, ... per thread.

pub(crate) mod elementwise;
pub(crate) mod factory;
pub(crate) mod fft;
pub(crate) mod linalg;
pub(crate) mod nn;
pub(crate) mod reduce;
pub(crate) mod shape;
pub(crate) mod sym;

use crate::aten::promote::{ScalarKind, SymRanges};
use crate::dim::{Dim, SymName};
use crate::dtype::DType;
use crate::graph::Arg;
use crate::ops::{BaseType, InferArgs, Schema};
use crate::program::{SymKind, Symbol};
use crate::types::{Shape, TensorType, Type};
use indexmap::IndexMap;
use std::cell::RefCell;

/// The result of a rule.
pub(crate) type R = Result<Vec<Type>, String>;
/// A rule.
pub(crate) type Rule = fn(&Call) -> R;

/// Inference context: symbol ranges, fresh unbacked symbols, and the node's recorded result
/// types (so a data-dependent size keeps the symbol the export chose for it).
#[derive(Default)]
pub struct InferContext {
    /// The program's symbols (ranges), plus the ones minted during inference.
    pub symbols: IndexMap<SymName, Symbol>,
    /// Symbols minted during inference, in order.
    pub minted: Vec<SymName>,
    /// Result types recorded on the node being inferred.
    pub recorded: Vec<Type>,
    /// Where the search for an unused `u<N>` name starts.
    pub next_unbacked: usize,
    /// The device the program was exported for (`cpu`, `cuda:0`), when known. A few results
    /// depend on it (PyTorch's meta functions branch on `input.device.type`: batch-norm and
    /// layer-norm statistics); `None` follows the CPU rules, the device `torch.export` traces
    /// on unless the example inputs live elsewhere (the IR's types carry no device).
    pub device: Option<String>,
    /// The autocast region the graph being inferred runs in (set per graph by `infer_program` /
    /// `check_program` for the bodies of `higher_order.wrap_with_autocast`).
    pub autocast: Option<Autocast>,
}

/// An enabled `torch.autocast` region: ops on autocast's lower-precision list run with their
/// floating-point (non-`f64`) tensor arguments cast to `dtype`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Autocast {
    /// `cpu` or `cuda` (the `device_type` of the region).
    pub device_type: String,
    /// The lower-precision dtype (`torch.autocast(dtype=...)`; default `bf16` on CPU, `f16` on
    /// CUDA).
    pub dtype: DType,
}

/// Ops whose autocast policy is `lower_precision_fp` (PyTorch's `autocast_mode.cpp`), by base
/// name, for CPU and for CUDA. Other policies (`fp32`, `promote`) are not modelled: an op on
/// those lists inside an autocast region disagrees visibly rather than silently.
const AUTOCAST_LOWER_CPU: &[&str] = &[
    "conv1d",
    "conv2d",
    "conv3d",
    "bmm",
    "mm",
    "linalg_vecdot",
    "baddbmm",
    "addmm",
    "addbmm",
    "linear",
    "_convolution",
    "matmul",
    "conv_tbc",
    "mkldnn_rnn",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "prelu",
    "scaled_dot_product_attention",
    "_native_multi_head_attention",
];
const AUTOCAST_LOWER_CUDA: &[&str] = &[
    "_convolution",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_tbc",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "convolution",
    "prelu",
    "addmm",
    "addmv",
    "addr",
    "matmul",
    "einsum",
    "mm",
    "mv",
    "linalg_vecdot",
    "linear",
    "addbmm",
    "baddbmm",
    "bmm",
    "chain_matmul",
    "linalg_multi_dot",
    "_thnn_fused_lstm_cell",
    "_thnn_fused_gru_cell",
    "lstm_cell",
    "gru_cell",
    "rnn_tanh_cell",
    "rnn_relu_cell",
    "_scaled_dot_product_flash_attention",
    "scaled_dot_product_attention",
];

impl Autocast {
    /// Whether `op` (a registry name, `aten.mm.default`) casts its inputs down in this region.
    pub fn lowers(&self, op: &str) -> bool {
        let Some(rest) = op.strip_prefix("aten.") else {
            return false;
        };
        let base = rest.split('.').next().unwrap_or(rest);
        let list = if self.device_type.starts_with("cuda") {
            AUTOCAST_LOWER_CUDA
        } else {
            AUTOCAST_LOWER_CPU
        };
        list.contains(&base)
    }

    /// The type an argument has once autocast cast it: floating-point tensors other than `f64`
    /// take the region's dtype (autocast's `is_eligible`).
    pub fn cast(&self, ty: Type) -> Type {
        match ty {
            Type::Tensor(mut t)
                if t.dtype.is_float() && t.dtype != DType::F64 && t.dtype != self.dtype =>
            {
                t.dtype = self.dtype;
                Type::Tensor(t)
            }
            other => other,
        }
    }
}

impl SymRanges for InferContext {
    fn range(&self, sym: &str) -> (Option<i64>, Option<i64>) {
        self.symbols
            .get(sym)
            .map(|s| (s.min, s.max))
            .unwrap_or((None, None))
    }
}

thread_local! {
    static CONTEXT: RefCell<InferContext> = RefCell::new(InferContext::default());
    /// How many [`with_context`] calls are active on this thread. Node-level inference outside
    /// any (a pass inferring a single node) runs in a fresh context instead of the thread's
    /// leftover one, so its result never depends on what was inferred before on the thread.
    static INSTALLED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Runs `f` with `cx` installed as this thread's inference context, returning the context
/// afterwards (with the symbols inference minted).
pub fn with_context<T>(cx: InferContext, f: impl FnOnce() -> T) -> (T, InferContext) {
    /// Restores the outer context and count even if `f` panics (the conformance runner
    /// catches panics and goes on with the next case on the same thread).
    struct Restore(Option<InferContext>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(old) = self.0.take() {
                CONTEXT.with(|c| *c.borrow_mut() = old);
            }
            INSTALLED.with(|n| n.set(n.get().saturating_sub(1)));
        }
    }
    let old = CONTEXT.with(|c| std::mem::replace(&mut *c.borrow_mut(), cx));
    INSTALLED.with(|n| n.set(n.get() + 1));
    let mut guard = Restore(Some(old));
    let out = f();
    let old = guard.0.take().unwrap_or_default();
    let cx = CONTEXT.with(|c| std::mem::replace(&mut *c.borrow_mut(), old));
    drop(guard);
    (out, cx)
}

/// Runs `f` in the installed context, or in a fresh default one when none is installed (see
/// [`InferContext`]'s `installed`).
pub(crate) fn in_some_context<T>(f: impl FnOnce() -> T) -> T {
    if INSTALLED.with(|n| n.get()) > 0 {
        f()
    } else {
        with_context(InferContext::default(), f).0
    }
}

/// Sets the recorded result types of the node about to be inferred.
pub(crate) fn set_recorded(tys: Vec<Type>) {
    CONTEXT.with(|c| c.borrow_mut().recorded = tys);
}

/// The result type recorded on the node being inferred at position `result`, if any (the
/// export's, or the previous inference's): for results whose layout PyTorch chose from facts
/// the IR does not carry.
pub(crate) fn recorded_type(result: usize) -> Option<Type> {
    CONTEXT.with(|c| c.borrow().recorded.get(result).cloned())
}

/// Sets the autocast region of the graph about to be inferred.
pub(crate) fn set_autocast(a: Option<Autocast>) {
    CONTEXT.with(|c| c.borrow_mut().autocast = a);
}

/// The autocast region of the graph being inferred.
pub(crate) fn autocast() -> Option<Autocast> {
    CONTEXT.with(|c| c.borrow().autocast.clone())
}

/// Whether inference follows PyTorch's CPU conventions (see [`InferContext::device`]).
pub(crate) fn on_cpu() -> bool {
    CONTEXT.with(|c| {
        c.borrow()
            .device
            .as_deref()
            .is_none_or(|d| d == "cpu" || d.starts_with("cpu:") || d == "mtia")
    })
}

/// Broadcast with the context's symbol ranges.
pub(crate) fn broadcast(shapes: &[&[Dim]]) -> Result<Shape, String> {
    CONTEXT.with(|c| crate::aten::promote::broadcast_shapes(shapes, &*c.borrow()))
}

/// A fresh unbacked symbol for dim `dim` of result `result` (or the scalar result itself when
/// `dim` is `None`). Reuses the symbol recorded on the node at that position, if any, so that
/// re-inference agrees with the export. `min` is the lower bound (0 for sizes).
pub(crate) fn fresh_unbacked(result: usize, dim: Option<usize>, min: Option<i64>) -> Dim {
    CONTEXT.with(|c| {
        let mut cx = c.borrow_mut();
        let recorded = match (cx.recorded.get(result), dim) {
            (Some(Type::Tensor(t)), Some(d)) => t.shape.get(d).cloned(),
            (Some(Type::SymInt(Some(d))), None) => Some(d.clone()),
            _ => None,
        };
        if let Some(d) = recorded.filter(|d| d.as_sym().is_some()) {
            return d;
        }
        let name: SymName = loop {
            let cand = format!("u{}", cx.next_unbacked);
            cx.next_unbacked += 1;
            if !cx.symbols.contains_key(cand.as_str()) {
                break cand.into();
            }
        };
        cx.symbols.insert(
            name.clone(),
            Symbol {
                kind: SymKind::Unbacked,
                min,
                max: None,
                hint: None,
            },
        );
        cx.minted.push(name.clone());
        Dim::sym(name)
    })
}

/// A node's arguments bound to its schema.
pub struct Call<'a> {
    /// Registry name of the op.
    pub op: &'a str,
    /// The schema.
    pub schema: &'a Schema,
    /// The node's arguments.
    pub a: &'a InferArgs<'a>,
}

/// A bound scalar argument.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ScalarVal {
    Int(Option<Dim>),
    Float(Option<f64>),
    Bool,
    Complex,
}

impl ScalarVal {
    pub(crate) fn kind(&self) -> ScalarKind {
        match self {
            ScalarVal::Int(_) => ScalarKind::Int,
            ScalarVal::Float(_) => ScalarKind::Float,
            ScalarVal::Bool => ScalarKind::Bool,
            ScalarVal::Complex => ScalarKind::Complex,
        }
    }
}

impl<'a> Call<'a> {
    /// The op's base name: `aten.add.Tensor` → `add`.
    pub fn base(&self) -> &str {
        let mut it = self.op.split('.');
        let first = it.next().unwrap_or("");
        it.next().unwrap_or(first)
    }

    /// The overload name: `aten.add.Tensor` → `Tensor`.
    pub fn overload(&self) -> &str {
        self.op.rsplit('.').next().unwrap_or("default")
    }

    /// The argument supplied for `name` (positional or keyword), else its default. `None` when
    /// neither exists.
    pub fn arg(&self, name: &str) -> Option<&'a Arg> {
        let i = self.schema.arg_index(name)?;
        let sa = &self.schema.args[i];
        if !sa.kwarg_only {
            if let Some(a) = self.a.args.get(i) {
                return Some(a);
            }
        }
        if let Some((_, a)) = self.a.kwargs.iter().find(|(k, _)| k == name) {
            return Some(a);
        }
        // A kwarg-only argument passed positionally (hand-built graphs).
        if sa.kwarg_only {
            if let Some(a) = self.a.args.get(i) {
                return Some(a);
            }
        }
        sa.default.as_ref()
    }

    /// The i-th argument of the schema (by position), bound like [`Call::arg`].
    pub fn nth(&self, i: usize) -> Option<&'a Arg> {
        let name = &self.schema.args.get(i)?.name;
        self.arg(name)
    }

    fn present(&self, name: &str) -> Option<&'a Arg> {
        self.arg(name).filter(|a| **a != Arg::None)
    }

    fn missing(&self, name: &str) -> String {
        format!("missing argument `{name}`")
    }

    /// The type of a value argument.
    pub fn ty(&self, a: &Arg) -> Option<Type> {
        a.as_value().map(|v| (self.a.type_of)(v))
    }

    /// A required tensor argument.
    pub fn tensor(&self, name: &str) -> Result<TensorType, String> {
        self.opt_tensor(name)?.ok_or_else(|| self.missing(name))
    }

    /// An optional tensor argument.
    pub fn opt_tensor(&self, name: &str) -> Result<Option<TensorType>, String> {
        match self.present(name) {
            None => Ok(None),
            Some(a) => as_tensor(self, a)
                .map(Some)
                .ok_or_else(|| format!("argument `{name}` is not a tensor: {a:?}")),
        }
    }

    /// A `Tensor[]` argument.
    pub fn tensors(&self, name: &str) -> Result<Vec<TensorType>, String> {
        self.opt_tensors(name)?
            .into_iter()
            .map(|t| t.ok_or_else(|| format!("`{name}` has a None element")))
            .collect()
    }

    /// A `Tensor?[]` argument.
    pub fn opt_tensors(&self, name: &str) -> Result<Vec<Option<TensorType>>, String> {
        let a = self.present(name).ok_or_else(|| self.missing(name))?;
        match a {
            Arg::List(items) => items
                .iter()
                .map(|x| match x {
                    Arg::None => Ok(None),
                    x => as_tensor(self, x)
                        .map(Some)
                        .ok_or_else(|| format!("`{name}` element is not a tensor")),
                })
                .collect(),
            other => match self.ty(other) {
                Some(Type::List(inner)) => match *inner {
                    Type::Tensor(t) => Ok(vec![Some(t)]),
                    _ => Err(format!("`{name}` is not a tensor list")),
                },
                _ => Err(format!("`{name}` is not a tensor list")),
            },
        }
    }

    /// A required integer (possibly symbolic) argument.
    pub fn sym(&self, name: &str) -> Result<Dim, String> {
        self.opt_sym(name)?.ok_or_else(|| self.missing(name))
    }

    /// An optional integer (possibly symbolic) argument.
    pub fn opt_sym(&self, name: &str) -> Result<Option<Dim>, String> {
        match self.present(name) {
            None => Ok(None),
            Some(a) => as_dim(self, a)
                .map(Some)
                .ok_or_else(|| format!("argument `{name}` is not a known integer: {a:?}")),
        }
    }

    /// A required concrete integer argument.
    pub fn int(&self, name: &str) -> Result<i64, String> {
        self.opt_int(name)?.ok_or_else(|| self.missing(name))
    }

    /// An optional concrete integer argument.
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, String> {
        match self.opt_sym(name)? {
            None => Ok(None),
            Some(d) => d
                .as_const()
                .map(Some)
                .ok_or_else(|| format!("argument `{name}` must be a constant, got {d}")),
        }
    }

    /// A list of (possibly symbolic) integers; a single integer counts as a one-element list.
    pub fn syms(&self, name: &str) -> Result<Vec<Dim>, String> {
        self.opt_syms(name)?.ok_or_else(|| self.missing(name))
    }

    /// An optional list of (possibly symbolic) integers.
    pub fn opt_syms(&self, name: &str) -> Result<Option<Vec<Dim>>, String> {
        let Some(a) = self.present(name) else {
            return Ok(None);
        };
        match a {
            Arg::List(items) => items
                .iter()
                .map(|x| {
                    as_dim(self, x)
                        .ok_or_else(|| format!("`{name}` element is not a known integer: {x:?}"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            other => match self.ty(other) {
                Some(Type::List(_)) => Err(format!("`{name}` is a list value of unknown contents")),
                _ => as_dim(self, other)
                    .map(|d| Some(vec![d]))
                    .ok_or_else(|| format!("`{name}` is not an integer list: {other:?}")),
            },
        }
    }

    /// A list of concrete integers; for fixed-size schema lists (`int[2]`), a shorter list is
    /// expanded the way ATen does (`[1]` → `[1, 1]`).
    pub fn ints(&self, name: &str) -> Result<Vec<i64>, String> {
        self.opt_ints(name)?.ok_or_else(|| self.missing(name))
    }

    /// An optional list of concrete integers.
    pub fn opt_ints(&self, name: &str) -> Result<Option<Vec<i64>>, String> {
        let Some(v) = self.opt_syms(name)? else {
            return Ok(None);
        };
        let mut v = v
            .iter()
            .map(|d| {
                d.as_const()
                    .ok_or_else(|| format!("`{name}` must be constant, got {d}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let fixed = self
            .schema
            .arg_index(name)
            .and_then(|i| self.schema.args[i].ty.list)
            .flatten();
        if let (Some(n), 1) = (fixed, v.len()) {
            v = vec![v[0]; n];
        }
        Ok(Some(v))
    }

    /// A float argument (ints accepted).
    pub fn opt_float(&self, name: &str) -> Option<f64> {
        self.present(name).and_then(Arg::as_f64)
    }

    /// A list of floats.
    pub fn opt_floats(&self, name: &str) -> Option<Vec<f64>> {
        match self.present(name)? {
            Arg::List(items) => items.iter().map(Arg::as_f64).collect(),
            a => a.as_f64().map(|f| vec![f]),
        }
    }

    /// A bool argument (a `SymBool` value counts as unknown → `default`).
    pub fn bool_or(&self, name: &str, default: bool) -> bool {
        match self.present(name) {
            Some(Arg::Bool(b)) => *b,
            Some(Arg::Int(i)) => *i != 0,
            _ => default,
        }
    }

    /// A dtype argument.
    pub fn opt_dtype(&self, name: &str) -> Result<Option<DType>, String> {
        match self.present(name) {
            None => Ok(None),
            Some(Arg::DType(d)) => Ok(Some(*d)),
            Some(Arg::Str(s)) => crate::aten::schema_parse::scalar_type_from_name(s)
                .map(Some)
                .ok_or_else(|| format!("unknown dtype `{s}`")),
            Some(a) => Err(format!("argument `{name}` is not a dtype: {a:?}")),
        }
    }

    /// A string argument.
    pub fn opt_str(&self, name: &str) -> Option<&'a str> {
        match self.present(name)? {
            Arg::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A `Scalar` argument's kind and value.
    pub(crate) fn scalar(&self, name: &str) -> Option<ScalarVal> {
        scalar_of(self, self.present(name)?)
    }

    /// Whether the schema argument `name` is a (non-list) tensor or scalar type.
    pub(crate) fn arg_base(&self, name: &str) -> Option<&BaseType> {
        let i = self.schema.arg_index(name)?;
        Some(&self.schema.args[i].ty.base)
    }
}

pub(crate) fn as_tensor(c: &Call, a: &Arg) -> Option<TensorType> {
    match c.ty(a)? {
        Type::Tensor(t) => Some(t),
        _ => None,
    }
}

pub(crate) fn as_dim(c: &Call, a: &Arg) -> Option<Dim> {
    match a {
        Arg::Int(i) => Some(Dim::constant(*i)),
        Arg::Bool(b) => Some(Dim::constant(*b as i64)),
        Arg::Value(_) => match c.ty(a)? {
            Type::SymInt(Some(d)) => Some(d),
            // A 0-dim integer tensor used as a size is not a static fact.
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn scalar_of(c: &Call, a: &Arg) -> Option<ScalarVal> {
    Some(match a {
        Arg::Int(i) => ScalarVal::Int(Some(Dim::constant(*i))),
        Arg::Float(f) => ScalarVal::Float(Some(f.0)),
        Arg::Bool(_) => ScalarVal::Bool,
        Arg::Complex(..) => ScalarVal::Complex,
        Arg::Value(_) => match c.ty(a)? {
            Type::SymInt(d) => ScalarVal::Int(d),
            Type::Int => ScalarVal::Int(None),
            Type::SymFloat | Type::Float => ScalarVal::Float(None),
            Type::SymBool | Type::Bool => ScalarVal::Bool,
            _ => return None,
        },
        _ => return None,
    })
}

/// Normalizes a possibly negative dim index against `rank` (rank 0 accepts -1 and 0, as PyTorch
/// does for scalars).
pub(crate) fn norm_dim(d: i64, rank: usize) -> Result<usize, String> {
    let r = rank.max(1) as i64;
    let n = if d < 0 { d + r } else { d };
    if n < 0 || n >= r {
        return Err(format!("dim {d} out of range for a tensor of rank {rank}"));
    }
    Ok(n as usize)
}

/// A tensor result.
pub(crate) fn t(dtype: DType, shape: impl Into<Shape>) -> Type {
    Type::tensor(dtype, shape)
}

/// Exact division of an expression by another when the divisor divides every term (a monomial
/// divisor with a coefficient, `12*s0 / s0 = 12`), else Python floor division.
pub(crate) fn div_dim(a: &Dim, b: &Dim) -> Dim {
    if let Some(q) = exact_div(a, b) {
        return q;
    }
    a.floordiv(b)
}

fn exact_div(a: &Dim, b: &Dim) -> Option<Dim> {
    if let Some(k) = b.as_const() {
        if k != 0 && a.constant_term() % k == 0 && a.terms().iter().all(|(_, c)| c % k == 0) {
            return Some(a.floordiv(b));
        }
        return None;
    }
    if b.constant_term() != 0 || b.terms().len() != 1 || a.constant_term() != 0 {
        return None;
    }
    let (bm, bc) = &b.terms()[0];
    let mut out = Dim::constant(0);
    for (m, c) in a.terms() {
        if *bc == 0 || c % bc != 0 {
            return None;
        }
        let mut rest = Dim::constant(c / bc);
        let mut m = m.clone();
        for (atom, e) in bm {
            let pos = m.iter().position(|(x, _)| x == atom)?;
            if m[pos].1 < *e {
                return None;
            }
            m[pos].1 -= e;
        }
        for (atom, e) in m {
            if e > 0 {
                rest = rest.mul(&atom_dim(&atom).pow(e));
            }
        }
        out = out.add(&rest);
    }
    Some(out)
}

fn atom_dim(a: &crate::dim::Atom) -> Dim {
    use crate::dim::Atom;
    match a {
        Atom::Sym(s) => Dim::sym(s.clone()),
        Atom::FloorDiv(x, y) => x.floordiv(y),
        Atom::Mod(x, y) => x.modulo(y),
        Atom::Min(v) => Dim::min_of(v.iter().cloned()),
        Atom::Max(v) => Dim::max_of(v.iter().cloned()),
    }
}

/// `ceil(a / b)` for a positive constant or symbolic `b`.
pub(crate) fn ceil_div(a: &Dim, b: &Dim) -> Dim {
    if let Some(q) = exact_div(a, b) {
        return q;
    }
    div_dim(&a.add(b).sub(&Dim::constant(1)), b)
}

/// The registry's rule for `op`, if any: looked up by full name, then by `base.overload`
/// patterns each family module declares.
///
/// Patterns by bare base name apply only to tensor-level overloads (`tensor_level`), so that
/// TorchScript's scalar overloads (`add.int(int a, int b) -> int`) get no tensor rule.
pub(crate) fn rule_for(
    op: &str,
    schema: &Schema,
    tags: &[&str],
    tensor_level: bool,
) -> Option<Rule> {
    let (ns, rest) = op.split_once('.')?;
    let (base, overload) = rest.rsplit_once('.').unwrap_or((rest, "default"));
    let tables: [&[(&str, Rule)]; 8] = [
        fft::RULES,
        linalg::RULES,
        shape::RULES,
        nn::RULES,
        reduce::RULES,
        factory::RULES,
        sym::RULES,
        elementwise::RULES,
    ];
    let key = format!("{base}.{overload}");
    for table in tables {
        for (pat, rule) in table {
            if *pat == key || (tensor_level && *pat == base) {
                return Some(*rule);
            }
        }
    }
    if !tensor_level {
        return None;
    }
    // `permute_copy` & co compute the same as the view they copy.
    if let Some(view) = base.strip_suffix("_copy") {
        let key = format!("{view}.{overload}");
        for table in [shape::RULES, reduce::RULES] {
            for (pat, rule) in table {
                if *pat == key || *pat == view {
                    return Some(*rule);
                }
            }
        }
    }
    if ns == "aten" || ns == "prims" {
        elementwise::generic_rule(base, overload, schema, tags)
    } else {
        None
    }
}
