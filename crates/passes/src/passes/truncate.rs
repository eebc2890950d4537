//! `truncate-long-double{double=f32,int64=native|int32|fallback}`: 64-bit computation inside
//! backend segments becomes 32-bit; everything outside them keeps its 64-bit types.
//!
//! It runs after `partition` (which tags every node with its segment, and judged the nodes as
//! this pass will make them: `partition{truncate-double=true,int64=int32}`) and before
//! `repair-types` and `outline-segments`. Only nodes tagged with a backend segment change.
//! Four steps, each with its own counter:
//!
//! 1. **Constants** (`constants-truncated`): a 64-bit weight read by a segment node gets a
//!    32-bit copy (`w_f32`, `w_i32`), read by a new `get_attr`; the original stays for code
//!    outside the segments. Under `int64=int32`, an i64 weight or integer literal that does not
//!    fit in i32 is an error: its value is known now, so silently wrapping it would be a
//!    miscompile.
//! 2. **Inputs** (`inputs-truncated`): a 64-bit graph input read by a segment node is cast once
//!    (`aten._to_copy.default`) after the placeholders; segment nodes read the cast.
//! 3. **Body** (`values-retyped`, `literals-truncated`): segment nodes' 64-bit results become
//!    32-bit, and their 64-bit dtype literals (`dtype=f64`) are rewritten. Nested graphs of a
//!    segment node (`cond` branches) are replaced by truncated copies.
//! 4. **Outputs** (`outputs-restored`): a program output computed in a segment is cast back to
//!    its 64-bit type before the output node, so the program's signature never changes.
//!
//! With `small-int=int32`, the 8- and 16-bit integer types (u8, i8, i16, u16), which TensorRT
//! has no arithmetic for, become i32 the same way (weights, inputs, body, outputs), and wrap-
//! around is repaired where it matters (`wraps-inserted`): after every segment node whose
//! narrow result could leave its type's range in i32 (arithmetic, casts, literals) the value
//! is reduced back into that range (`remainder(v, 2^k)`, shifted by `2^(k-1)` for signed
//! types). Wrapping arithmetic commutes with the reduction, so every later node computes what
//! the narrow type would; data movement and selection (views, `cat`, `index`, `where`,
//! `max`, `sort`, …) cannot leave the range and get no wrap.
//!
//! Edges between a segment and the fallback code are left to `repair-types`, which finds them
//! with type inference; until it runs the program's stored types disagree with inference there
//! (the pass says so with [`PassCx::defer_type_check`]).

use std::collections::{HashMap, HashSet};
use trtfx_ir::elements::{decode, encode};

use crate::declare_options;
use crate::option_enum;
use crate::partition::FALLBACK;
use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use trtfx_ir::{
    Arg, DType, Graph, GraphId, NodeBuilder, NodeId, Op, Program, Type, ValueId, Weight,
};

/// The registered name.
pub const NAME: &str = "truncate-long-double";

/// The cast operator inserted at boundaries.
pub const TO_COPY: &str = "aten._to_copy.default";

option_enum! {
    /// What happens to f64 inside backend segments.
    pub enum DoublePolicy {
        /// f64 becomes f32.
        F32 = "f32",
        /// f64 stays f64 (a backend without f64 refuses those nodes: they fall back).
        Native = "native",
    }
    expected "`f32` or `native`"
}

option_enum! {
    /// What happens to i64 inside backend segments.
    pub enum Int64Policy {
        /// i64 stays i64 (only converters that accept i64 take such nodes).
        Native = "native",
        /// i64 becomes i32; compile-time values outside the i32 range are an error.
        Int32 = "int32",
        /// Nodes with i64 values are not given to the backend at all.
        Fallback = "fallback",
    }
    expected "`native`, `int32` or `fallback`"
}

option_enum! {
    /// What happens to the 8- and 16-bit integer types (u8, i8, i16, u16) inside backend
    /// segments.
    pub enum SmallIntPolicy {
        /// They stay as they are (TensorRT refuses them: such nodes fall back).
        Native = "native",
        /// They become i32, with wrap-around repaired after arithmetic.
        Int32 = "int32",
    }
    expected "`native` or `int32`"
}

/// A truncation policy: which dtypes become which inside backend segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// f64 → f32.
    pub double: bool,
    /// i64 → i32.
    pub int64_to_int32: bool,
    /// u8, i8, i16, u16 → i32 (widening, with wrap-around repaired).
    pub small_int_to_int32: bool,
}

impl Truncation {
    /// The policy of `double` and `int64`.
    pub fn new(double: DoublePolicy, int64: Int64Policy) -> Self {
        Truncation {
            double: double == DoublePolicy::F32,
            int64_to_int32: int64 == Int64Policy::Int32,
            small_int_to_int32: false,
        }
    }

    /// The policy with the small integer types widened to i32 or not.
    pub fn with_small_ints(mut self, small: SmallIntPolicy) -> Self {
        self.small_int_to_int32 = small == SmallIntPolicy::Int32;
        self
    }

    /// True when nothing is truncated.
    pub fn is_noop(self) -> bool {
        !self.double && !self.int64_to_int32 && !self.small_int_to_int32
    }

    /// The dtype `d` becomes, when it changes.
    pub fn dtype(self, d: DType) -> Option<DType> {
        match d {
            DType::F64 if self.double => Some(DType::F32),
            DType::I64 if self.int64_to_int32 => Some(DType::I32),
            d if self.small_int_to_int32 && small_int_bits(d).is_some() => Some(DType::I32),
            _ => None,
        }
    }

    /// `ty` with truncated tensors (also inside lists); `None` when it does not change.
    pub fn ty(self, ty: &Type) -> Option<Type> {
        match ty {
            Type::Tensor(t) => self
                .dtype(t.dtype)
                .map(|d| Type::tensor(d, t.shape.clone())),
            Type::List(inner) => self.ty(inner).map(|t| Type::List(Box::new(t))),
            _ => None,
        }
    }

    /// Rewrites dtype literals, recursively; returns whether something changed.
    pub fn arg(self, a: &mut Arg) -> bool {
        match a {
            Arg::DType(d) => match self.dtype(*d) {
                Some(n) => {
                    *d = n;
                    true
                }
                None => false,
            },
            Arg::List(items) => items.iter_mut().fold(false, |c, x| self.arg(x) | c),
            Arg::Dict(items) => items.iter_mut().fold(false, |c, (_, x)| self.arg(x) | c),
            _ => false,
        }
    }

    /// Retypes every value and dtype literal of `g` in place; returns (values, literals)
    /// changed. Weights and nested graphs are left alone.
    pub fn graph(self, g: &mut Graph) -> (u64, u64) {
        let mut values = 0;
        let ids: Vec<ValueId> = g.value_ids().collect();
        for v in ids {
            if let Some(t) = self.ty(g.ty(v)) {
                g.set_ty(v, t);
                values += 1;
            }
        }
        let mut literals = 0;
        for n in g.node_ids() {
            literals += self.node_literals(g, n);
        }
        (values, literals)
    }

    /// Rewrites the dtype literals of node `n`; returns 1 when something changed.
    fn node_literals(self, g: &mut Graph, n: NodeId) -> u64 {
        let node = g.node(n);
        let (mut args, mut kwargs) = (node.args.clone(), node.kwargs.clone());
        let mut changed = false;
        for a in args.iter_mut().chain(kwargs.iter_mut().map(|(_, a)| a)) {
            changed |= self.arg(a);
        }
        if changed {
            g.set_args(n, args, kwargs);
            1
        } else {
            0
        }
    }

    /// A copy of `p` with every graph truncated: node and value ids are those of `p`, so a
    /// capability can judge node `n` as the node it becomes inside a segment.
    pub fn view(self, p: &Program) -> Program {
        let mut c = p.clone();
        for (_, g) in c.graphs.iter_mut() {
            self.graph(g);
        }
        c
    }

    /// A truncated copy of weight `w`; an i64 value outside the i32 range is an error.
    fn weight(self, name: &str, w: &Weight) -> Result<Option<Weight>, String> {
        let Some(to) = self.dtype(w.dtype) else {
            return Ok(None);
        };
        let bytes = w.bytes().map_err(|e| format!("weight `{name}`: {e}"))?;
        let out: Vec<u8> = match (w.dtype, to) {
            (DType::F64, DType::F32) => {
                let v = decode::<f64>(&bytes).map_err(|e| format!("weight `{name}`: {e}"))?;
                encode(&v.iter().map(|&x| x as f32).collect::<Vec<f32>>())
            }
            (DType::I64, DType::I32) => {
                let v = decode::<i64>(&bytes).map_err(|e| format!("weight `{name}`: {e}"))?;
                let narrow = v
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| {
                        i32::try_from(x).map_err(|_| {
                            format!(
                                "int64=int32: weight `{name}` element {i} is {x}, outside the \
                                 int32 range; use int64=native or int64=fallback"
                            )
                        })
                    })
                    .collect::<Result<Vec<i32>, String>>()?;
                encode(&narrow)
            }
            (DType::U8, DType::I32) => widen::<u8>(name, &bytes)?,
            (DType::I8, DType::I32) => widen::<i8>(name, &bytes)?,
            (DType::I16, DType::I32) => widen::<i16>(name, &bytes)?,
            (DType::U16, DType::I32) => widen::<u16>(name, &bytes)?,
            (from, to) => {
                return Err(format!(
                    "weight `{name}`: no truncation from {from} to {to}"
                ))
            }
        };
        Ok(Some(Weight::from_bytes(to, w.shape.clone(), out)))
    }
}

/// The bytes of an i32 copy of the `T` elements `bytes` (exact: `T` fits in i32).
fn widen<T: trtfx_ir::elements::LeElement + Into<i32>>(
    name: &str,
    bytes: &[u8],
) -> Result<Vec<u8>, String> {
    let v = decode::<T>(bytes).map_err(|e| format!("weight `{name}`: {e}"))?;
    Ok(encode(&v.into_iter().map(Into::into).collect::<Vec<i32>>()))
}

/// Bits and signedness of the small integer types `small-int=int32` widens.
pub fn small_int_bits(d: DType) -> Option<(u32, bool)> {
    match d {
        DType::U8 => Some((8, false)),
        DType::I8 => Some((8, true)),
        DType::I16 => Some((16, true)),
        DType::U16 => Some((16, false)),
        _ => None,
    }
}

/// Operators whose results only hold values of their operands (data movement, selection,
/// order statistics): computed in i32 on in-range operands they stay in range, so widening
/// needs no wrap after them. Everything else (arithmetic, casts, literals, fills) is wrapped.
fn keeps_value_range(target: &str) -> bool {
    let base = target
        .strip_prefix("aten.")
        .or_else(|| target.strip_prefix("prims."))
        .unwrap_or(target);
    let (name, overload) = base.split_once('.').unwrap_or((base, "default"));
    match name {
        "view"
        | "_unsafe_view"
        | "reshape"
        | "permute"
        | "transpose"
        | "t"
        | "expand"
        | "squeeze"
        | "unsqueeze"
        | "slice"
        | "select"
        | "narrow"
        | "flatten"
        | "unflatten"
        | "alias"
        | "clone"
        | "contiguous"
        | "detach"
        | "lift_fresh_copy"
        | "as_strided"
        | "diagonal"
        | "unfold"
        | "split"
        | "split_with_sizes"
        | "chunk"
        | "unbind"
        | "cat"
        | "concat"
        | "stack"
        | "hstack"
        | "vstack"
        | "flip"
        | "roll"
        | "rot90"
        | "repeat"
        | "tile"
        | "index"
        | "index_select"
        | "gather"
        | "take"
        | "take_along_dim"
        | "masked_select"
        | "maximum"
        | "minimum"
        | "max"
        | "min"
        | "amax"
        | "amin"
        | "sort"
        | "topk"
        | "kthvalue"
        | "median"
        | "nanmedian"
        | "mode"
        | "msort"
        | "cummax"
        | "cummin"
        | "movedim"
        | "swapaxes"
        | "expand_copy"
        | "permute_copy"
        | "view_copy"
        | "slice_copy"
        | "select_copy"
        | "squeeze_copy"
        | "unsqueeze_copy"
        | "t_copy"
        | "transpose_copy"
        | "broadcast_to"
        | "pixel_shuffle"
        | "pixel_unshuffle"
        | "channel_shuffle"
        | "max_pool1d"
        | "max_pool2d"
        | "max_pool3d"
        | "max_pool2d_with_indices"
        | "max_pool3d_with_indices"
        | "adaptive_max_pool1d"
        | "adaptive_max_pool2d"
        | "slice_scatter"
        | "select_scatter"
        | "diagonal_scatter"
        | "as_strided_scatter"
        | "index_copy"
        | "masked_scatter"
        | "reflection_pad1d"
        | "reflection_pad2d"
        | "reflection_pad3d"
        | "replication_pad1d"
        | "replication_pad2d"
        | "replication_pad3d"
        | "upsample_nearest1d"
        | "upsample_nearest2d"
        | "upsample_nearest3d"
        | "_upsample_nearest_exact1d"
        | "_upsample_nearest_exact2d"
        | "_upsample_nearest_exact3d" => true,
        // Both values come from tensors; a scalar branch may be out of range.
        "where" => overload == "self",
        _ => false,
    }
}

/// Whether `small-int=int32` computes operator `target` exactly on widened operands with one
/// wrap after it: operators whose result is one ring operation (or comparison, selection,
/// cast) of their operands, so the reduction of the wide result is the narrow result. A
/// composite (a loss, a distance, a normalization) wraps inside itself in the narrow type,
/// which one wrap after it cannot repair, and `pow`/`prod` may overflow i32 where PyTorch
/// does not: `partition{small-int=int32}` leaves nodes of other operators with narrow values
/// on the executor.
pub fn widening_is_exact(target: &str) -> bool {
    if keeps_value_range(target) {
        return true;
    }
    let base = target
        .strip_prefix("aten.")
        .or_else(|| target.strip_prefix("prims."))
        .unwrap_or(target);
    let name = base.split_once('.').map_or(base, |(n, _)| n);
    matches!(
        name,
        "add"
            | "sub"
            | "rsub"
            | "mul"
            | "neg"
            | "abs"
            | "remainder"
            | "fmod"
            | "floor_divide"
            | "div"
            | "true_divide"
            | "eq"
            | "ne"
            | "lt"
            | "le"
            | "gt"
            | "ge"
            | "logical_and"
            | "logical_or"
            | "logical_xor"
            | "logical_not"
            | "clamp"
            | "clamp_min"
            | "clamp_max"
            | "sign"
            | "relu"
            | "_to_copy"
            | "to"
            | "copy"
            | "sum"
            | "cumsum"
            | "square"
            | "fill"
            | "full"
            | "full_like"
            | "zeros"
            | "zeros_like"
            | "ones"
            | "ones_like"
            | "scalar_tensor"
            | "arange"
            | "masked_fill"
            | "index_put"
            | "scatter"
            | "constant_pad_nd"
            | "isnan"
            | "isinf"
            | "isfinite"
            | "empty"
            | "empty_like"
            | "new_zeros"
            | "new_ones"
            | "new_full"
            | "where"
    )
}

/// Operators whose integer literal arguments are tensor element values (not sizes or dims),
/// by position: under `int64=int32` they must fit in i32.
fn value_literal_positions(target: &str) -> &'static [usize] {
    match target {
        "aten.full.default" | "aten.full_like.default" | "aten.new_full.default" => &[1],
        "aten.scalar_tensor.default" => &[0],
        "aten.arange.default" => &[0],
        "aten.arange.start" | "aten.arange.start_step" => &[0, 1, 2],
        "aten.fill.Scalar" | "aten.fill_.Scalar" => &[1],
        t if t.ends_with(".Scalar") || t.ends_with(".Scalar_Tensor") => &[1],
        _ => &[],
    }
}

declare_options! {
    /// Options of `truncate-long-double`.
    pub struct TruncateOptions {
        /// f64 inside backend segments: `f32` or `native`.
        double: DoublePolicy = "double", DoublePolicy::F32;
        /// i64 inside backend segments: `native`, `int32` or `fallback`.
        int64: Int64Policy = "int64", Int64Policy::Native;
        /// u8/i8/i16/u16 inside backend segments: `native` or `int32` (widened, wraps repaired).
        small_int: SmallIntPolicy = "small-int", SmallIntPolicy::Native;
    }
}

/// The `truncate-long-double` pass (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct TruncateLongDouble {
    /// The options.
    pub options: TruncateOptions,
}

/// True when node `n` is tagged with a backend (not fallback) segment.
pub(crate) fn in_backend_segment(g: &Graph, n: NodeId) -> bool {
    g.node(n)
        .meta
        .segment
        .as_ref()
        .is_some_and(|t| t.backend != FALLBACK)
}

/// `base` made unique against `taken` (and recorded there).
fn fresh(taken: &mut HashSet<String>, base: &str) -> String {
    let mut name = base.to_string();
    let mut i = 1;
    while taken.contains(&name) {
        name = format!("{base}_{i}");
        i += 1;
    }
    taken.insert(name.clone());
    name
}

fn suffix(d: DType) -> &'static str {
    match d {
        DType::F32 => "f32",
        DType::I32 => "i32",
        DType::F64 => "f64",
        DType::I64 => "i64",
        DType::U8 => "u8",
        DType::I8 => "i8",
        DType::I16 => "i16",
        DType::U16 => "u16",
        _ => "cast",
    }
}

/// The graphs an argument references.
fn collect_graphs(a: &Arg, out: &mut Vec<GraphId>) {
    match a {
        Arg::Graph(h) => out.push(*h),
        Arg::List(items) => items.iter().for_each(|x| collect_graphs(x, out)),
        Arg::Dict(items) => items.iter().for_each(|(_, x)| collect_graphs(x, out)),
        _ => {}
    }
}

fn remap_graphs(a: &mut Arg, remap: &HashMap<GraphId, GraphId>) {
    match a {
        Arg::Graph(h) => {
            if let Some(&n) = remap.get(h) {
                *h = n;
            }
        }
        Arg::List(items) => items.iter_mut().for_each(|x| remap_graphs(x, remap)),
        Arg::Dict(items) => items.iter_mut().for_each(|(_, x)| remap_graphs(x, remap)),
        _ => {}
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

/// Inserts, after node `after` (in node `n`'s segment), the reduction of the i32 value `v`
/// (type `ty`) into the range of a `bits`-bit integer type, and makes every other user of `v`
/// read it. Returns the reduced value and the last inserted node.
#[allow(clippy::too_many_arguments)]
fn insert_wrap(
    g: &mut Graph,
    names: &mut HashSet<String>,
    n: NodeId,
    after: NodeId,
    v: ValueId,
    ty: &trtfx_ir::TensorType,
    bits: u32,
    signed: bool,
) -> (ValueId, NodeId) {
    let modulus = 1i64 << bits;
    let half = modulus / 2;
    let segment = g.node(n).meta.segment.clone();
    let base = g.value(v).name.clone();
    let t = Type::Tensor(ty.clone());
    let steps: &[(&str, i64, &str)] = if signed {
        &[
            ("aten.add.Scalar", half, "shift"),
            ("aten.remainder.Scalar", modulus, "mod"),
            ("aten.sub.Scalar", half, "wrap"),
        ]
    } else {
        &[("aten.remainder.Scalar", modulus, "wrap")]
    };
    let (mut last, mut x) = (after, v);
    let mut first = None;
    for &(op, k, suffix) in steps {
        let name = fresh(names, &format!("{base}_{suffix}"));
        let node = g.insert_after(
            last,
            NodeBuilder::call(op)
                .args(vec![Arg::Value(x), Arg::Int(k)])
                .result(name, t.clone()),
        );
        g.node_meta_mut(node).segment = segment.clone();
        first.get_or_insert(node);
        last = node;
        x = g.node(node).results[0];
    }
    g.replace_all_uses(v, x);
    // The first wrap node reads the unreduced value.
    if let Some(f) = first {
        rewire(g, f, x, v);
    }
    (x, last)
}

impl TruncateLongDouble {
    /// Under `int64=int32`, fails on an integer literal of a segment node that is a tensor
    /// element value outside the i32 range.
    fn check_literals(&self, g: &Graph, seg: &[NodeId]) -> Result<(), PassError> {
        if self.options.int64 != Int64Policy::Int32 {
            return Ok(());
        }
        for &n in seg {
            let node = g.node(n);
            let Some(target) = node.op.target() else {
                continue;
            };
            for &i in value_literal_positions(target) {
                if let Some(Arg::Int(x)) = node.args.get(i) {
                    if i32::try_from(*x).is_err() {
                        return Err(PassError::at(
                            format!(
                                "int64=int32: literal {x} (argument {i} of {target}) is outside \
                                 the int32 range; use int64=native or int64=fallback"
                            ),
                            g,
                            n,
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Replaces a nested graph used by a segment node by a truncated copy (recursively), so
    /// other users of the original keep their types. Returns the copy's id.
    fn truncate_nested(
        &self,
        p: &mut Program,
        h: GraphId,
        tr: Truncation,
        weights: &mut HashMap<String, String>,
        cx: &mut PassCx,
    ) -> Result<GraphId, PassError> {
        let mut copy = p.graphs[h].clone();
        let base = format!("{}_{}", copy.name, if tr.double { "f32" } else { "i32" });
        copy.name = base.clone();
        let mut k = 1;
        while p.graph_by_name(&copy.name).is_some() {
            copy.name = format!("{base}_{k}");
            k += 1;
        }
        let new = p.add_graph(copy);
        for n in p.graphs[new].node_ids() {
            let node = p.graphs[new].node(n).clone();
            if let Op::GetAttr { target } = &node.op {
                if let Some(name) = self.weight_copy(p, target, tr, weights, cx)? {
                    p.graphs[new].set_op(n, Op::GetAttr { target: name });
                }
                continue;
            }
            let mut nested = Vec::new();
            for a in node.args.iter().chain(node.kwargs.iter().map(|(_, a)| a)) {
                collect_graphs(a, &mut nested);
            }
            let mut remap = HashMap::new();
            for g in nested {
                if let std::collections::hash_map::Entry::Vacant(e) = remap.entry(g) {
                    e.insert(self.truncate_nested(p, g, tr, weights, cx)?);
                }
            }
            if !remap.is_empty() {
                let (mut args, mut kwargs) = (node.args.clone(), node.kwargs.clone());
                for a in args.iter_mut().chain(kwargs.iter_mut().map(|(_, a)| a)) {
                    remap_graphs(a, &remap);
                }
                p.graphs[new].set_args(n, args, kwargs);
            }
        }
        let (v, l) = tr.graph(&mut p.graphs[new]);
        if v > 0 {
            cx.stat("values-retyped", v);
        }
        if l > 0 {
            cx.stat("literals-truncated", l);
        }
        Ok(new)
    }

    /// The name of the truncated copy of weight `target` (made on first use), or `None` when
    /// it is not truncated.
    fn weight_copy(
        &self,
        p: &mut Program,
        target: &str,
        tr: Truncation,
        made: &mut HashMap<String, String>,
        cx: &mut PassCx,
    ) -> Result<Option<String>, PassError> {
        if let Some(n) = made.get(target) {
            return Ok(Some(n.clone()));
        }
        let Some(w) = p.weights.get(target) else {
            return Ok(None);
        };
        let Some(copy) = tr.weight(target, w).map_err(PassError::new)? else {
            return Ok(None);
        };
        let base = format!("{target}_{}", suffix(copy.dtype));
        // Reuse an identical copy (a rerun, or another pass made it); never clobber another
        // weight of that name.
        let name = if p.weights.get(&base) == Some(&copy) {
            base
        } else {
            let mut taken: HashSet<String> = p.weights.keys().cloned().collect();
            let name = fresh(&mut taken, &base);
            p.weights.insert(name.clone(), copy);
            cx.stat("constants-truncated", 1);
            name
        };
        made.insert(target.to_string(), name.clone());
        Ok(Some(name))
    }
}

impl Pass for TruncateLongDouble {
    fn name(&self) -> &str {
        NAME
    }

    fn options(&self) -> crate::options::PassOptions {
        crate::options::OptionSet::to_pass_options(&self.options)
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let tr = Truncation::new(self.options.double, self.options.int64)
            .with_small_ints(self.options.small_int);
        let ops = cx.ops_handle();
        let main = p.main;
        let g = &p.graphs[main];
        let seg: Vec<NodeId> = g.nodes().filter(|&n| in_backend_segment(g, n)).collect();
        if tr.is_noop() || seg.is_empty() {
            return Ok(PassOutcome::unchanged());
        }
        self.check_literals(g, &seg)?;
        let mut in_seg: HashSet<NodeId> = seg.iter().copied().collect();
        let epoch_before: Vec<u64> = p.graphs.values().map(|g| g.epoch()).collect();
        let weights_before = p.weights.len();

        // 1. Constants: segment operands read from 64-bit weights read a 32-bit copy.
        let mut made: HashMap<String, String> = HashMap::new();
        let mut attr_copies: HashMap<ValueId, ValueId> = HashMap::new();
        let mut names: HashSet<String> = {
            let g = &p.graphs[main];
            g.value_ids()
                .map(|v| g.value(v).name.clone())
                .chain(g.nodes().map(|n| g.node(n).name.clone()))
                .collect()
        };
        for &n in &seg {
            for v in p.graphs[main].node(n).inputs() {
                let def = p.graphs[main].value(v).def;
                let Op::GetAttr { target } = p.graphs[main].node(def).op.clone() else {
                    continue;
                };
                let copy_v = match attr_copies.get(&v) {
                    Some(&c) => c,
                    None => {
                        let Some(wname) = self.weight_copy(p, &target, tr, &mut made, cx)? else {
                            continue;
                        };
                        let g = &mut p.graphs[main];
                        let ty = tr.ty(g.ty(v)).unwrap_or_else(|| g.ty(v).clone());
                        let vname = fresh(&mut names, &wname);
                        let a = g.insert_after(
                            def,
                            NodeBuilder::new(Op::GetAttr { target: wname }).result(vname, ty),
                        );
                        let c = g.node(a).results[0];
                        attr_copies.insert(v, c);
                        c
                    }
                };
                rewire(&mut p.graphs[main], n, v, copy_v);
            }
        }

        // 2. Inputs: one cast per 64-bit placeholder read by the segments, after the
        // placeholders.
        let g = &mut p.graphs[main];
        let first_body = g
            .nodes()
            .find(|&n| !matches!(g.node(n).op, Op::Placeholder));
        let mut input_casts: HashMap<ValueId, ValueId> = HashMap::new();
        for &n in &seg {
            for v in g.node(n).inputs() {
                let def = g.value(v).def;
                if !matches!(g.node(def).op, Op::Placeholder) {
                    continue;
                }
                let Some(ty) = tr.ty(g.ty(v)) else { continue };
                let Type::Tensor(t) = &ty else {
                    return Err(PassError::at(
                        format!(
                            "input %{} has type {}: only tensors can be cast at a segment \
                             boundary",
                            g.value(v).name,
                            g.ty(v)
                        ),
                        g,
                        n,
                    ));
                };
                let dtype = t.dtype;
                let c = match input_casts.get(&v) {
                    Some(&c) => c,
                    None => {
                        let name = fresh(
                            &mut names,
                            &format!("{}_{}", g.value(v).name, suffix(dtype)),
                        );
                        let b = NodeBuilder::call(TO_COPY)
                            .args(vec![Arg::Value(v)])
                            .kwarg("dtype", Arg::DType(dtype))
                            .result(name, ty.clone());
                        let c = match first_body {
                            Some(f) => g.insert_before(f, b),
                            None => g.append(b),
                        };
                        let c = g.node(c).results[0];
                        input_casts.insert(v, c);
                        cx.stat("inputs-truncated", 1);
                        c
                    }
                };
                rewire(g, n, v, c);
            }
        }

        // 3. Body: results and dtype literals of segment nodes; nested graphs by copies.
        let mut original: HashMap<ValueId, Type> = HashMap::new();
        for &n in &seg {
            let node = p.graphs[main].node(n).clone();
            let mut nested = Vec::new();
            for a in node.args.iter().chain(node.kwargs.iter().map(|(_, a)| a)) {
                collect_graphs(a, &mut nested);
            }
            let mut remap = HashMap::new();
            for h in nested {
                if let std::collections::hash_map::Entry::Vacant(e) = remap.entry(h) {
                    e.insert(self.truncate_nested(p, h, tr, &mut made, cx)?);
                }
            }
            let g = &mut p.graphs[main];
            if !remap.is_empty() {
                let (mut args, mut kwargs) = (node.args.clone(), node.kwargs.clone());
                for a in args.iter_mut().chain(kwargs.iter_mut().map(|(_, a)| a)) {
                    remap_graphs(a, &remap);
                }
                g.set_args(n, args, kwargs);
            }
            let lit = tr.node_literals(g, n);
            if lit > 0 {
                cx.stat("literals-truncated", lit);
            }
            // The new types are what inference gives on the truncated operands and literals
            // (segment nodes are visited in program order, so operands are already retyped):
            // an op whose result dtype is fixed (argmax's i64 indices) keeps it, and the
            // program stays consistent with inference. Without inference, the dtype map.
            // Operands from outside the segments are seen truncated too: `repair-types` will
            // cast them, so a mixed f64/f32 operation still computes in f32 inside.
            let mut over = HashMap::new();
            for v in g.node(n).inputs() {
                if !in_seg.contains(&g.value(v).def) {
                    if let Some(t) = tr.ty(g.ty(v)) {
                        over.insert(v, t);
                    }
                }
            }
            let inferred = crate::passes::repair_types::infer_with(g, n, &ops, &over);
            for (k, r) in node.results.iter().copied().enumerate() {
                let new = match &inferred {
                    Some(Ok(ts)) if ts.len() == node.results.len() => Some(ts[k].clone()),
                    _ => tr.ty(g.ty(r)),
                };
                if let Some(t) = new.filter(|t| t != g.ty(r)) {
                    original.insert(r, g.ty(r).clone());
                    g.set_ty(r, t);
                    cx.stat("values-retyped", 1);
                }
            }
        }

        // 3b. Wrap-around: a widened small-int result that may leave its type's range is
        // reduced back into it, and every user reads the reduced value.
        if tr.small_int_to_int32 {
            for &n in &seg {
                let g = &mut p.graphs[main];
                let target = g.node(n).op.target().unwrap_or_default().to_string();
                if keeps_value_range(&target) {
                    continue;
                }
                let results = g.node(n).results.clone();
                let mut after = n;
                for r in results {
                    let Some(orig) = original.get(&r).cloned() else {
                        continue;
                    };
                    let Type::Tensor(ot) = &orig else { continue };
                    let Some((bits, signed)) = small_int_bits(ot.dtype) else {
                        continue;
                    };
                    let Type::Tensor(now) = g.ty(r).clone() else {
                        continue;
                    };
                    if now.dtype != DType::I32 {
                        continue;
                    }
                    let (w, last) = insert_wrap(g, &mut names, n, after, r, &now, bits, signed);
                    // The wrap nodes belong to the segment (outputs read from them are cast
                    // back like any segment result).
                    let mut k = last;
                    while k != after {
                        in_seg.insert(k);
                        k = g.prev_node(k).expect("wrap nodes follow `after`");
                    }
                    after = last;
                    original.insert(w, orig);
                    cx.stat("wraps-inserted", 1);
                }
            }
        }

        // 3c. Narrow values widened in a segment and read outside it are cast back before
        // their readers: the values are in range (wrapped), so the cast is exact, and a
        // reader whose inference does not see the operand dtype (`addmm` takes its dtype from
        // `self`) needs no help from `repair-types`.
        if tr.small_int_to_int32 {
            let g = &mut p.graphs[main];
            let readers: Vec<NodeId> = g
                .nodes()
                .filter(|n| !in_seg.contains(n))
                .filter(|&n| matches!(g.node(n).op, Op::Call { .. }))
                .collect();
            let mut back: HashMap<ValueId, ValueId> = HashMap::new();
            for r in readers {
                for v in g.node(r).inputs() {
                    let Some(Type::Tensor(ot)) = original.get(&v).cloned() else {
                        continue;
                    };
                    if small_int_bits(ot.dtype).is_none() || !in_seg.contains(&g.value(v).def) {
                        continue;
                    }
                    let c = match back.get(&v) {
                        Some(&c) => c,
                        None => {
                            let name = fresh(
                                &mut names,
                                &format!("{}_{}", g.value(v).name, suffix(ot.dtype)),
                            );
                            // Readers are visited in program order: the first one is
                            // before every other.
                            let cast = g.insert_before(
                                r,
                                NodeBuilder::call(TO_COPY)
                                    .args(vec![Arg::Value(v)])
                                    .kwarg("dtype", Arg::DType(ot.dtype))
                                    .result(name, Type::Tensor(ot.clone())),
                            );
                            // Outside the segments: tagged like the reader.
                            let mut meta = g.node(cast).meta.clone();
                            meta.segment = g.node(r).meta.segment.clone();
                            g.set_node_meta(cast, meta);
                            let c = g.node(cast).results[0];
                            back.insert(v, c);
                            cx.stat("narrow-reads-restored", 1);
                            c
                        }
                    };
                    rewire(g, r, v, c);
                }
            }
        }

        // Calls of subgraphs outside the segments that read a retyped value: the verifier
        // checks their operand types against the subgraph's placeholders (structure, not
        // inference), so they are cast back here rather than by `repair-types`.
        let calls: Vec<(NodeId, GraphId)> = {
            let g = &p.graphs[main];
            g.nodes()
                .filter(|n| !in_seg.contains(n))
                .filter_map(|n| match g.node(n).op {
                    Op::CallGraph { graph } => Some((n, graph)),
                    _ => None,
                })
                .collect()
        };
        for (c, sub) in calls {
            let expected: Vec<Type> = {
                let sg = &p.graphs[sub];
                sg.placeholders()
                    .iter()
                    .map(|&n| sg.ty(sg.node(n).results[0]).clone())
                    .collect()
            };
            let g = &mut p.graphs[main];
            let args = g.node(c).args.clone();
            for (a, want) in args.iter().zip(&expected) {
                let Some(v) = a.as_value() else { continue };
                if g.ty(v) == want || !original.contains_key(&v) {
                    continue;
                }
                let Type::Tensor(t) = want else { continue };
                let name = fresh(
                    &mut names,
                    &format!("{}_{}", g.value(v).name, suffix(t.dtype)),
                );
                let cast = g.insert_before(
                    c,
                    NodeBuilder::call(TO_COPY)
                        .args(vec![Arg::Value(v)])
                        .kwarg("dtype", Arg::DType(t.dtype))
                        .result(name, want.clone()),
                );
                let mut meta = g.node(cast).meta.clone();
                meta.segment = g.node(c).meta.segment.clone();
                g.set_node_meta(cast, meta);
                let r = g.node(cast).results[0];
                rewire(g, c, v, r);
                cx.stat("calls-restored", 1);
            }
        }

        // 4. Outputs: a program output computed in a segment is cast back before the output.
        let g = &mut p.graphs[main];
        if let Some(out) = g.output_node() {
            let mut back: HashMap<ValueId, ValueId> = HashMap::new();
            for v in g.node(out).inputs() {
                if !in_seg.contains(&g.value(v).def) || back.contains_key(&v) {
                    continue;
                }
                let Some(orig) = original.get(&v).cloned() else {
                    continue;
                };
                let Type::Tensor(t) = &orig else {
                    return Err(PassError::at(
                        format!(
                            "output %{} has type {orig}: only tensors can be cast at a segment \
                             boundary",
                            g.value(v).name
                        ),
                        g,
                        out,
                    ));
                };
                let name = fresh(
                    &mut names,
                    &format!("{}_{}", g.value(v).name, suffix(t.dtype)),
                );
                let c = g.insert_before(
                    out,
                    NodeBuilder::call(TO_COPY)
                        .args(vec![Arg::Value(v)])
                        .kwarg("dtype", Arg::DType(t.dtype))
                        .result(name, orig.clone()),
                );
                let c = g.node(c).results[0];
                back.insert(v, c);
                cx.stat("outputs-restored", 1);
            }
            for (v, c) in back {
                rewire(g, out, v, c);
            }
        }

        let changed = p.weights.len() != weights_before
            || p.graphs.len() != epoch_before.len()
            || p.graphs
                .values()
                .zip(&epoch_before)
                .any(|(g, &e)| g.epoch() != e);
        if changed {
            cx.defer_type_check("truncate-long-double left segment boundaries to repair-types");
        }
        Ok(PassOutcome::from_changed(changed))
    }
}
