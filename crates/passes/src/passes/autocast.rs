//! `autocast{precision=f32|fp16|bf16,keep-f32=[op,...],reduce-extent=64}`: f32 computation
//! inside backend segments runs in f16 or bf16; numerically sensitive operators stay f32 by the
//! policy table ([`policy`]); everything outside the segments keeps its types.
//!
//! TensorRT 10+/TensorRT-RTX networks are strongly typed: the precision of every layer is the
//! type of its tensors, so reduced precision must be explicit in the program the converters
//! see. This pass makes it explicit, and the decisions show in the printed IR.
//!
//! It runs after `partition` (every node tagged with its segment), `truncate-long-double` and
//! `repair-types` (so the program it sees is consistent with type inference), and before
//! `outline-segments`. Unlike `truncate-long-double` it leaves nothing to `repair-types`: every
//! cast it needs is inserted here, *inside* the backend segment that needs it, so segment
//! interfaces (and the program's inputs and outputs) keep their f32 types and the fallback code
//! never sees a reduced-precision value. Nodes of a backend segment are visited in program
//! order; a node is
//!
//! - **reduced** (`nodes-reduced`) when it touches f32 (an f32 tensor operand or result, or an
//!   `f32` dtype literal), the policy table does not keep it, and the backend's capability still
//!   accepts it with the reduced types. Its f32 operands are read in the reduced type: an f32
//!   weight (a lifted parameter or a `get_attr`) through a reduced copy of the weight made at
//!   compile time (`weights-converted`, named `w_f16`/`w_bf16`, read by a new `get_attr`),
//!   anything else through an `aten._to_copy` inserted in the segment (`casts-to-reduced`). Its
//!   `f32` dtype literals are rewritten and its result types are what inference gives.
//! - **kept in f32** (`kept-f32`) by the policy table or `keep-f32`, because the backend refuses
//!   the reduced form (`kept-f32-backend`), because an f32 weight it reads does not fit the
//!   reduced type (f16's largest finite value is 65504: `kept-f32-range`), or because it has
//!   nested graphs (`cond` branches, `kept-f32-nested`). Its reduced operands are cast back to
//!   f32 inside the segment (`casts-to-f32`).
//! - **left alone** when it touches no f32 at all (integer and bool computation, f64 kept by
//!   `truncate-long-double{double=native}`, tensors that were f16 in the model).
//!
//! A reduced result read outside its segment (by the output node, the fallback code or another
//! segment) is cast back to f32 right after its producer, inside the segment (`casts-to-f32`).

use std::collections::{HashMap, HashSet};

use trtfx_ir::elements::{decode, encode};
use trtfx_ir::{Arg, DType, Graph, NodeBuilder, NodeId, Op, Program, Type, ValueId, Weight};

use crate::declare_options;
use crate::option_enum;
use crate::partition::SharedCapability;
use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use crate::passes::truncate::{in_backend_segment, TO_COPY};
use crate::passes::Namer;
use crate::registry::PassRegistry;

/// The registered name.
pub const NAME: &str = "autocast";

option_enum! {
    /// The precision of f32 computation inside backend segments.
    pub enum Precision {
        /// Unchanged (the pass does nothing).
        F32 = "f32",
        /// IEEE half precision (`f16`: 10-bit mantissa, largest finite value 65504).
        Fp16 = "fp16",
        /// bfloat16 (`bf16`: 7-bit mantissa, the exponent range of f32).
        Bf16 = "bf16",
    }
    expected "`f32`, `fp16` or `bf16`"
}

impl Precision {
    /// The dtype f32 values become, or `None` for `f32`.
    pub fn dtype(self) -> Option<DType> {
        match self {
            Precision::F32 => None,
            Precision::Fp16 => Some(DType::F16),
            Precision::Bf16 => Some(DType::BF16),
        }
    }
}

/// Why the policy table keeps an operator in f32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Always f32, for the stated reason.
    Always(&'static str),
    /// An accumulating reduction: f32 when it reduces more elements than `reduce-extent` (or a
    /// number not known at compile time); small reductions are reduced.
    LargeReduction,
}

/// The policy table: operators (ATen names without the overload) that stay f32 inside
/// reduced-precision segments, modelled on PyTorch's autocast "float32" list. `keep-f32` adds
/// to it (by name, with or without overload).
pub const POLICY: &[(&str, Rule)] = &[
    // Softmax: exponentials of unnormalized logits, then a sum over the row.
    ("aten._softmax", Rule::Always("softmax")),
    ("aten._log_softmax", Rule::Always("softmax")),
    ("aten._safe_softmax", Rule::Always("softmax")),
    ("aten.softmax", Rule::Always("softmax")),
    ("aten.log_softmax", Rule::Always("softmax")),
    (
        "aten._scaled_dot_product_flash_attention_for_cpu",
        Rule::Always("attention (softmax inside)"),
    ),
    (
        "aten.scaled_dot_product_attention",
        Rule::Always("attention (softmax inside)"),
    ),
    // Normalizations: mean and variance statistics over whole feature maps.
    ("aten.native_layer_norm", Rule::Always("normalization")),
    ("aten.layer_norm", Rule::Always("normalization")),
    ("aten.native_group_norm", Rule::Always("normalization")),
    ("aten.group_norm", Rule::Always("normalization")),
    ("aten.native_batch_norm", Rule::Always("normalization")),
    ("aten.batch_norm", Rule::Always("normalization")),
    (
        "aten._native_batch_norm_legit",
        Rule::Always("normalization"),
    ),
    (
        "aten._native_batch_norm_legit_no_training",
        Rule::Always("normalization"),
    ),
    (
        "aten._native_batch_norm_legit_functional",
        Rule::Always("normalization"),
    ),
    ("aten.instance_norm", Rule::Always("normalization")),
    ("aten.rms_norm", Rule::Always("normalization")),
    ("aten.linalg_vector_norm", Rule::Always("norm")),
    ("aten.norm", Rule::Always("norm")),
    ("aten.renorm", Rule::Always("norm")),
    // Exponentials and logarithms: overflow (exp(11.1) > 65504) and cancellation near 1.
    ("aten.exp", Rule::Always("exp/log")),
    ("aten.exp2", Rule::Always("exp/log")),
    ("aten.expm1", Rule::Always("exp/log")),
    ("aten.log", Rule::Always("exp/log")),
    ("aten.log2", Rule::Always("exp/log")),
    ("aten.log10", Rule::Always("exp/log")),
    ("aten.log1p", Rule::Always("exp/log")),
    ("aten.logaddexp", Rule::Always("exp/log")),
    ("aten.logsumexp", Rule::Always("exp/log")),
    // Powers and reciprocals: overflow and amplified relative error near zero.
    ("aten.pow", Rule::Always("pow")),
    ("aten.reciprocal", Rule::Always("pow")),
    ("aten.rsqrt", Rule::Always("pow")),
    // Accumulating reductions.
    ("aten.sum", Rule::LargeReduction),
    ("aten.mean", Rule::LargeReduction),
    ("aten.prod", Rule::LargeReduction),
    ("aten.var", Rule::LargeReduction),
    ("aten.std", Rule::LargeReduction),
    ("aten.var_mean", Rule::LargeReduction),
    ("aten.std_mean", Rule::LargeReduction),
    ("aten.cumsum", Rule::LargeReduction),
    ("aten.cumprod", Rule::LargeReduction),
];

/// `target` without its overload (`aten.sum.dim_IntList` → `aten.sum`).
fn base_name(target: &str) -> &str {
    match target.rsplit_once('.') {
        Some((base, _)) if base.contains('.') => base,
        _ => target,
    }
}

/// The policy table's rule for `target` (an overload name), if any.
pub fn policy(target: &str) -> Option<Rule> {
    let base = base_name(target);
    POLICY.iter().find(|(n, _)| *n == base).map(|&(_, r)| r)
}

/// The policy table as text: one line per operator with its rule (for docs and snapshots).
pub fn policy_table(reduce_extent: usize) -> String {
    let mut s = String::new();
    for (name, rule) in POLICY {
        let why = match rule {
            Rule::Always(why) => format!("f32 always ({why})"),
            Rule::LargeReduction => {
                format!(
                    "f32 when it reduces more than {reduce_extent} elements (or an unknown number)"
                )
            }
        };
        s.push_str(&format!("{name:<52} {why}\n"));
    }
    s
}

declare_options! {
    /// Options of `autocast`.
    pub struct AutocastOptions {
        /// The precision of f32 computation in backend segments: `f32` (off), `fp16` or `bf16`.
        precision: Precision = "precision", Precision::F32;
        /// More operators kept in f32 (`aten.gelu` or `aten.gelu.default`).
        keep_f32: Vec<String> = "keep-f32", Vec::new();
        /// Accumulating reductions over more elements than this stay f32.
        reduce_extent: usize = "reduce-extent", 64;
    }
}

/// The `autocast` pass (see the module docs).
#[derive(Clone)]
pub struct Autocast {
    /// The options.
    pub options: AutocastOptions,
    /// Capabilities of the registered backends, by id: a node is only reduced when its
    /// segment's backend accepts the reduced form.
    backends: HashMap<String, SharedCapability>,
}

impl std::fmt::Debug for Autocast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Autocast")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Autocast {
    /// The pass; backend capabilities come from `registry`.
    pub fn new(options: AutocastOptions, registry: &PassRegistry) -> Self {
        let backends = registry
            .backends()
            .map(|(id, e)| (id.to_string(), e.capability.clone()))
            .collect();
        Autocast { options, backends }
    }

    /// Whether node `target` is kept in f32 by the table or `keep-f32`, given the number of
    /// elements it reduces (`None`: unknown or not a reduction).
    fn kept_by_policy(&self, target: &str, extent: Option<u64>) -> bool {
        let base = base_name(target);
        if self
            .options
            .keep_f32
            .iter()
            .any(|k| k == target || k == base)
        {
            return true;
        }
        match policy(target) {
            Some(Rule::Always(_)) => true,
            Some(Rule::LargeReduction) => {
                extent.is_none_or(|e| e > self.options.reduce_extent as u64)
            }
            None => false,
        }
    }
}

/// How many elements the reduction node `n` combines into one, when known: the product of its
/// reduced dims (argument 1: a dim list, one dim, or none for all) of operand 0.
fn reduced_extent(g: &Graph, n: NodeId) -> Option<u64> {
    let node = g.node(n);
    let x = node.args.first()?.as_value()?;
    let Type::Tensor(t) = g.ty(x) else {
        return None;
    };
    let rank = t.shape.len() as i64;
    let all: Vec<i64> = (0..rank).collect();
    let target = node.op.target().unwrap_or_default();
    let dims: Vec<i64> = if target.ends_with(".default") && base_name(target) != "aten.cumsum" {
        all
    } else {
        match node.args.get(1).or_else(|| node.kwarg("dim")) {
            None | Some(Arg::None) => all,
            Some(Arg::Int(d)) => vec![*d],
            Some(a) => match a.as_int_list() {
                Some(l) if l.is_empty() => all,
                Some(l) => l,
                None => return None,
            },
        }
    };
    let mut e: u64 = 1;
    for d in dims {
        let d = if d < 0 { d + rank } else { d };
        let k = t.shape.get(usize::try_from(d).ok()?)?.as_const()?;
        e = e.saturating_mul(u64::try_from(k).ok()?);
    }
    Some(e)
}

/// True when `d` is f32.
fn is_f32(ty: &Type) -> bool {
    matches!(ty, Type::Tensor(t) if t.dtype == DType::F32)
}

/// `ty` with dtype `d` (tensors only).
fn with_dtype(ty: &Type, d: DType) -> Type {
    match ty {
        Type::Tensor(t) => Type::tensor(d, t.shape.clone()),
        t => t.clone(),
    }
}

/// Rewrites `f32` dtype literals to `low`, recursively; returns whether something changed.
fn retype_literal(a: &mut Arg, low: DType) -> bool {
    match a {
        Arg::DType(d) if *d == DType::F32 => {
            *d = low;
            true
        }
        Arg::List(items) => items
            .iter_mut()
            .fold(false, |c, x| retype_literal(x, low) | c),
        Arg::Dict(items) => items
            .iter_mut()
            .fold(false, |c, (_, x)| retype_literal(x, low) | c),
        _ => false,
    }
}

fn has_f32_literal(a: &Arg) -> bool {
    match a {
        Arg::DType(d) => *d == DType::F32,
        Arg::List(items) => items.iter().any(has_f32_literal),
        Arg::Dict(items) => items.iter().any(|(_, x)| has_f32_literal(x)),
        _ => false,
    }
}

fn has_graph(a: &Arg) -> bool {
    match a {
        Arg::Graph(_) => true,
        Arg::List(items) => items.iter().any(has_graph),
        Arg::Dict(items) => items.iter().any(|(_, x)| has_graph(x)),
        _ => false,
    }
}

/// The weight an f32 value of the main graph reads directly: a `get_attr`, or a lifted
/// parameter/buffer/constant placeholder.
fn weight_of(p: &Program, v: ValueId) -> Option<String> {
    let g = &p.graphs[p.main];
    let def = g.value(v).def;
    match &g.node(def).op {
        Op::GetAttr { target } => Some(target.clone()),
        Op::Placeholder => {
            let i = g.placeholders().iter().position(|&n| n == def)?;
            p.signature.inputs.get(i)?.weight_target().map(String::from)
        }
        _ => None,
    }
}

/// `w` (f32) converted to `low` with round-to-nearest-even (the `half` crate); `Ok(None)` when a
/// finite element does not fit (f16 overflows past 65504).
fn convert_weight(name: &str, w: &Weight, low: DType) -> Result<Option<Weight>, String> {
    let bytes = w.bytes().map_err(|e| format!("weight `{name}`: {e}"))?;
    let v = decode::<f32>(&bytes).map_err(|e| format!("weight `{name}`: {e}"))?;
    let out = match low {
        DType::F16 => {
            let h: Vec<half::f16> = v.iter().map(|&x| half::f16::from_f32(x)).collect();
            if v.iter()
                .zip(&h)
                .any(|(x, y)| x.is_finite() && !y.is_finite())
            {
                return Ok(None);
            }
            encode(&h)
        }
        DType::BF16 => {
            let h: Vec<half::bf16> = v.iter().map(|&x| half::bf16::from_f32(x)).collect();
            if v.iter()
                .zip(&h)
                .any(|(x, y)| x.is_finite() && !y.is_finite())
            {
                return Ok(None);
            }
            encode(&h)
        }
        d => unreachable!("autocast reduces to f16 or bf16, not {d}"),
    };
    Ok(Some(Weight::from_bytes(low, w.shape.clone(), out)))
}

fn suffix(d: DType) -> &'static str {
    match d {
        DType::F16 => "f16",
        DType::BF16 => "bf16",
        _ => "f32",
    }
}

/// Replaces value `from` by `to` in the arguments of node `n` only.
fn rewire(g: &mut Graph, n: NodeId, from: ValueId, to: ValueId) {
    let node = g.node(n);
    let (mut args, mut kwargs) = (node.args.clone(), node.kwargs.clone());
    let mut f = |v: ValueId| if v == from { to } else { v };
    for a in args.iter_mut().chain(kwargs.iter_mut().map(|(_, a)| a)) {
        a.map_values(&mut f);
    }
    g.set_args(n, args, kwargs);
}

/// A node as it will be when reduced: arguments with rewritten literals, inferred results.
struct ReducedForm {
    args: Vec<Arg>,
    kwargs: Vec<(String, Arg)>,
    results: Vec<Type>,
}

/// The working state of one run.
struct State {
    low: DType,
    namer: Namer,
    /// Values this pass retyped from f32 to `low`.
    retyped: HashSet<ValueId>,
    /// (value, segment) → its `low` cast in that segment.
    to_low: HashMap<(ValueId, u32), ValueId>,
    /// (value, segment) → its f32 cast in that segment.
    to_f32: HashMap<(ValueId, u32), ValueId>,
    /// f32 weight → its reduced copy (`None`: out of range).
    weight_copies: HashMap<String, Option<String>>,
    /// Main-graph value reading a weight → the `get_attr` of its reduced copy.
    weight_values: HashMap<ValueId, ValueId>,
}

impl State {
    /// The name of weight `name`'s reduced copy (made on first use), or `None` when a value
    /// does not fit the reduced type.
    fn weight_copy(&mut self, p: &mut Program, name: &str) -> Result<Option<String>, PassError> {
        if let Some(c) = self.weight_copies.get(name) {
            return Ok(c.clone());
        }
        let w = p
            .weights
            .get(name)
            .ok_or_else(|| PassError::new(format!("weight `{name}` is not in the program")))?;
        let copy = convert_weight(name, w, self.low).map_err(PassError::new)?;
        let made = match copy {
            None => None,
            Some(copy) => {
                let base = format!("{name}_{}", suffix(self.low));
                let mut cand = base.clone();
                let mut i = 1;
                // Reuse an identical copy (a rerun); never clobber another weight.
                while p.weights.get(&cand).is_some_and(|x| x != &copy) {
                    cand = format!("{base}_{i}");
                    i += 1;
                }
                p.weights.insert(cand.clone(), copy);
                Some(cand)
            }
        };
        self.weight_copies.insert(name.to_string(), made.clone());
        Ok(made)
    }
}

/// A cast of `v` to `dtype` inserted before `before` (or right after the producer of `v` when
/// `after_def`), tagged with `before`'s segment (or the producer's).
fn insert_cast(
    g: &mut Graph,
    namer: &mut Namer,
    v: ValueId,
    dtype: DType,
    at: NodeId,
    after_def: bool,
) -> ValueId {
    let name = namer.fresh(&format!("{}_{}", g.value(v).name, suffix(dtype)));
    let ty = with_dtype(g.ty(v), dtype);
    let b = NodeBuilder::call(TO_COPY)
        .args(vec![Arg::Value(v)])
        .kwarg("dtype", Arg::DType(dtype))
        .result(name, ty);
    let tag = g.node(at).meta.segment.clone();
    let c = if after_def {
        g.insert_after(at, b)
    } else {
        g.insert_before(at, b)
    };
    g.node_meta_mut(c).segment = tag;
    g.node(c).results[0]
}

impl Pass for Autocast {
    fn name(&self) -> &str {
        NAME
    }

    fn options(&self) -> crate::options::PassOptions {
        crate::options::OptionSet::to_pass_options(&self.options)
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let Some(low) = self.options.precision.dtype() else {
            return Ok(PassOutcome::unchanged());
        };
        let ops = cx.ops_handle();
        let main = p.main;
        let seg: Vec<NodeId> = {
            let g = &p.graphs[main];
            g.nodes().filter(|&n| in_backend_segment(g, n)).collect()
        };
        if seg.is_empty() {
            return Ok(PassOutcome::unchanged());
        }
        let first_body = {
            let g = &p.graphs[main];
            g.nodes()
                .find(|&n| !matches!(g.node(n).op, Op::Placeholder))
        };
        let mut st = State {
            low,
            namer: Namer::new(&p.graphs[main]),
            retyped: HashSet::new(),
            to_low: HashMap::new(),
            to_f32: HashMap::new(),
            weight_copies: HashMap::new(),
            weight_values: HashMap::new(),
        };
        let mut changed = false;
        for &n in &seg {
            let g = &p.graphs[main];
            let node = g.node(n).clone();
            let Some(target) = node.op.target().map(String::from) else {
                continue;
            };
            let tag = node.meta.segment.clone().expect("segment node");
            let operands: Vec<ValueId> = {
                let mut v = node.inputs();
                v.dedup();
                let mut seen = HashSet::new();
                v.retain(|x| seen.insert(*x));
                v
            };
            let touches_f32 = operands
                .iter()
                .any(|&v| is_f32(g.ty(v)) || st.retyped.contains(&v))
                || node.results.iter().any(|&r| is_f32(g.ty(r)))
                || node
                    .args
                    .iter()
                    .chain(node.kwargs.iter().map(|(_, a)| a))
                    .any(has_f32_literal);
            if !touches_f32 {
                continue;
            }
            let nested = node
                .args
                .iter()
                .chain(node.kwargs.iter().map(|(_, a)| a))
                .any(has_graph);
            let policy_keeps =
                self.kept_by_policy(&target, policy(&target).and_then(|_| reduced_extent(g, n)));
            let mut keep: Option<&str> = if nested {
                Some("kept-f32-nested")
            } else if policy_keeps {
                Some("kept-f32")
            } else {
                None
            };

            // Weights read in f32 need a reduced copy that fits.
            let mut weight_reads: Vec<(ValueId, String)> = Vec::new();
            if keep.is_none() {
                for &v in &operands {
                    if !is_f32(p.graphs[main].ty(v)) {
                        continue;
                    }
                    if let Some(w) = weight_of(p, v) {
                        match st.weight_copy(p, &w)? {
                            Some(c) => weight_reads.push((v, c)),
                            None => keep = Some("kept-f32-range"),
                        }
                    }
                }
            }

            // The reduced form: operand types, literals, inferred result types. The backend
            // judges it (types set on the graph for the check, then restored).
            let mut reduced: Option<ReducedForm> = None;
            if keep.is_none() {
                let g = &mut p.graphs[main];
                let over: HashMap<ValueId, Type> = operands
                    .iter()
                    .filter(|&&v| is_f32(g.ty(v)))
                    .map(|&v| (v, with_dtype(g.ty(v), low)))
                    .collect();
                let (mut args, mut kwargs) = (node.args.clone(), node.kwargs.clone());
                for a in args.iter_mut().chain(kwargs.iter_mut().map(|(_, a)| a)) {
                    retype_literal(a, low);
                }
                g.set_args(n, args.clone(), kwargs.clone());
                let results: Option<Vec<Type>> =
                    match crate::passes::repair_types::infer_with(g, n, &ops, &over) {
                        Some(Ok(ts)) if ts.len() == node.results.len() => Some(ts),
                        Some(_) => None,
                        None => Some(
                            node.results
                                .iter()
                                .map(|&r| {
                                    if is_f32(g.ty(r)) {
                                        with_dtype(g.ty(r), low)
                                    } else {
                                        g.ty(r).clone()
                                    }
                                })
                                .collect(),
                        ),
                    };
                let accepted = match (&results, self.backends.get(&tag.backend)) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    (Some(rs), Some(cap)) => {
                        let saved: Vec<(ValueId, Type)> = over
                            .keys()
                            .copied()
                            .chain(node.results.iter().copied())
                            .map(|v| (v, g.ty(v).clone()))
                            .collect();
                        for (v, t) in &over {
                            g.set_ty(*v, t.clone());
                        }
                        for (&r, t) in node.results.iter().zip(rs) {
                            g.set_ty(r, t.clone());
                        }
                        let ok = cap.supports_in(p, &p.graphs[main], n).is_ok();
                        let g = &mut p.graphs[main];
                        for (v, t) in saved {
                            g.set_ty(v, t);
                        }
                        ok
                    }
                };
                let g = &mut p.graphs[main];
                g.set_args(n, node.args.clone(), node.kwargs.clone());
                match results {
                    Some(results) if accepted => {
                        reduced = Some(ReducedForm {
                            args,
                            kwargs,
                            results,
                        })
                    }
                    _ => keep = Some("kept-f32-backend"),
                }
            }

            match reduced {
                Some(ReducedForm {
                    args,
                    kwargs,
                    results,
                }) => {
                    let (mut wires, mut need_get_attr) = (Vec::new(), Vec::new());
                    for &v in &operands {
                        let g = &p.graphs[main];
                        if !is_f32(g.ty(v)) {
                            continue;
                        }
                        if let Some((_, c)) = weight_reads.iter().find(|(x, _)| *x == v) {
                            need_get_attr.push((v, c.clone()));
                        } else {
                            wires.push(v);
                        }
                    }
                    let g = &mut p.graphs[main];
                    g.set_args(n, args, kwargs);
                    for (v, wname) in need_get_attr {
                        let c = match st.weight_values.get(&v) {
                            Some(&c) => c,
                            None => {
                                let def = g.value(v).def;
                                let name = st.namer.fresh(&wname.replace('.', "_"));
                                let ty = with_dtype(g.ty(v), low);
                                let b = NodeBuilder::new(Op::GetAttr {
                                    target: wname.clone(),
                                })
                                .result(name, ty);
                                // Never inside the placeholder block.
                                let a = if matches!(g.node(def).op, Op::Placeholder) {
                                    match first_body {
                                        Some(f) => g.insert_before(f, b),
                                        None => g.insert_before(n, b),
                                    }
                                } else {
                                    g.insert_after(def, b)
                                };
                                let c = g.node(a).results[0];
                                st.weight_values.insert(v, c);
                                cx.stat("weights-converted", 1);
                                c
                            }
                        };
                        rewire(g, n, v, c);
                    }
                    for v in wires {
                        let key = (v, tag.index);
                        let c = match st.to_low.get(&key) {
                            Some(&c) => c,
                            None => {
                                let c = insert_cast(g, &mut st.namer, v, low, n, false);
                                st.to_low.insert(key, c);
                                cx.stat("casts-to-reduced", 1);
                                c
                            }
                        };
                        rewire(g, n, v, c);
                    }
                    let mut retyped_here = Vec::new();
                    for (&r, t) in node.results.iter().zip(results) {
                        if &t != g.ty(r) {
                            if is_f32(g.ty(r)) && matches!(&t, Type::Tensor(x) if x.dtype == low) {
                                retyped_here.push(r);
                            }
                            g.set_ty(r, t);
                        }
                    }
                    cx.stat("nodes-reduced", 1);
                    // Users outside this segment read an f32 copy made inside it.
                    for r in retyped_here {
                        st.retyped.insert(r);
                        let outside: Vec<NodeId> = {
                            let mut u: Vec<NodeId> = g
                                .value(r)
                                .uses()
                                .iter()
                                .copied()
                                .filter(|&u| {
                                    g.node(u).meta.segment.as_ref().map(|t| t.index)
                                        != Some(tag.index)
                                })
                                .collect();
                            u.dedup();
                            let mut seen = HashSet::new();
                            u.retain(|x| seen.insert(*x));
                            u
                        };
                        if outside.is_empty() {
                            continue;
                        }
                        let c = insert_cast(g, &mut st.namer, r, DType::F32, n, true);
                        st.to_f32.insert((r, tag.index), c);
                        cx.stat("casts-to-f32", 1);
                        for u in outside {
                            rewire(g, u, r, c);
                        }
                    }
                    changed = true;
                }
                None => {
                    if let Some(why) = keep {
                        cx.stat(why, 1);
                    }
                    let g = &mut p.graphs[main];
                    for &v in &operands {
                        if !st.retyped.contains(&v) {
                            continue;
                        }
                        let key = (v, tag.index);
                        let c = match st.to_f32.get(&key) {
                            Some(&c) => c,
                            None => {
                                let c = insert_cast(g, &mut st.namer, v, DType::F32, n, false);
                                st.to_f32.insert(key, c);
                                cx.stat("casts-to-f32", 1);
                                c
                            }
                        };
                        rewire(g, n, v, c);
                        changed = true;
                    }
                }
            }
        }
        Ok(PassOutcome::from_changed(changed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_names_drop_the_overload() {
        assert_eq!(base_name("aten.sum.dim_IntList"), "aten.sum");
        assert_eq!(base_name("aten.exp.default"), "aten.exp");
        assert_eq!(base_name("aten.exp"), "aten.exp");
        assert_eq!(
            policy("aten._softmax.default"),
            Some(Rule::Always("softmax"))
        );
        assert_eq!(policy("aten.mean.dim"), Some(Rule::LargeReduction));
        assert_eq!(policy("aten.convolution.default"), None);
    }

    #[test]
    fn policy_table_snapshot() {
        insta::assert_snapshot!(policy_table(64));
    }

    #[test]
    fn f16_weights_out_of_range_are_refused() {
        let w = Weight::from_bytes(DType::F32, vec![2], encode(&[1.0f32, 70000.0]));
        assert!(convert_weight("w", &w, DType::F16).unwrap().is_none());
        let b = convert_weight("w", &w, DType::BF16).unwrap().unwrap();
        let vals = decode::<half::bf16>(&b.bytes().unwrap()).unwrap();
        // bf16 keeps 8 significant bits: at 2^16 its spacing is 2^(16-7) = 512, and
        // 70000 / 512 = 136.7 rounds to 137, so 70000 becomes 137 * 512 = 70144.
        assert_eq!(vals[1].to_f32(), 70144.0);
        let ok = Weight::from_bytes(DType::F32, vec![1], encode(&[0.1f32]));
        let h = convert_weight("w", &ok, DType::F16).unwrap().unwrap();
        assert_eq!(
            decode::<half::f16>(&h.bytes().unwrap()).unwrap()[0].to_bits(),
            0x2e66
        );
    }
}
