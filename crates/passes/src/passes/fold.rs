//! `fold-constants`: evaluates calls whose operands are all constants.
//!
//! The pass has no arithmetic of its own: it evaluates through the op table's constant
//! evaluator ([`trtfx_ir::ops::ConstEval`]) that the pass registry holds
//! ([`PassRegistry::set_evaluator`]; `trtfx::pass_registry()` installs the executor's kernels),
//! so a folded value is exactly what the executor would compute at run time. `passes` depends
//! only on `ir`, which is why the evaluator is injected rather than called directly.
//!
//! Constants are loaded weights (`get_attr`), literals, and the results of calls already
//! folded or evaluated. A call is evaluated when it is pure (no mutation, no randomness, no side
//! effect: the op table's effects), every value it reads is constant, and every tensor result
//! has a static shape of at most [`MAX_EVAL_ELEMENTS`] elements. Then:
//!
//! - a scalar result (SymInt, int, float, bool) replaces the value in every `call_function`
//!   user (counter `scalars-folded`); a SymInt whose recorded type is already a constant
//!   `symint(N)` is replaced the same way without evaluation;
//! - a tensor result whose elements are all equal becomes `aten.full.default`;
//! - any other tensor result becomes a new weight read by `get_attr`, if it has at most
//!   `max-elements` elements (otherwise the node stays: counter `refused-too-large`).
//!
//! Calls with no tensor operands (`full`, `arange`, `zeros`) are evaluated so that their users
//! can fold, but are not replaced themselves: they already are compact constants. A result
//! whose evaluated dtype or shape disagrees with its recorded type is left alone (counter
//! `refused-type-mismatch`): folding must not hide a type error.
//!
//! [`PassRegistry::set_evaluator`]: crate::PassRegistry::set_evaluator

use super::{result, Namer};
use crate::declare_options;
use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use crate::util::{remove_dead, Effect};
use std::collections::HashMap;
use std::sync::Arc;
use trtfx_ir::elements::{to_f64s, to_i64s};
use trtfx_ir::ops::{ConstEval, ConstValue};
use trtfx_ir::{Arg, DType, Graph, GraphId, NodeBuilder, NodeId, Op, Program, Type, ValueId, F64};

/// Default for `max-elements`.
pub const DEFAULT_MAX_ELEMENTS: u64 = 1024;

/// Largest tensor the folder evaluates or reads in memory; `max-elements` separately caps what
/// it materialises as new weights.
pub const MAX_EVAL_ELEMENTS: u64 = 1 << 20;

declare_options! {
    /// Options of `fold-constants`.
    pub struct FoldOptions {
        /// Largest number of elements of a dense folded tensor written as a new weight.
        max_elements: u64 = "max-elements", DEFAULT_MAX_ELEMENTS;
    }
}

/// Constant folding (see the module docs).
#[derive(Clone, Default)]
pub struct FoldConstants {
    /// The options.
    pub options: FoldOptions,
    /// The evaluator (`None`: only values whose type is a known constant fold).
    pub evaluator: Option<Arc<dyn ConstEval>>,
}

impl std::fmt::Debug for FoldConstants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FoldConstants")
            .field("options", &self.options)
            .field("evaluator", &self.evaluator.is_some())
            .finish()
    }
}

impl FoldConstants {
    /// The pass with `options`, evaluating with `evaluator`.
    pub fn new(options: FoldOptions, evaluator: Option<Arc<dyn ConstEval>>) -> Self {
        FoldConstants { options, evaluator }
    }
}

/// A folded scalar as a literal argument.
fn literal(c: &ConstValue) -> Option<Arg> {
    Some(match c {
        ConstValue::Int(i) => Arg::Int(*i),
        ConstValue::Float(f) => Arg::Float(F64(*f)),
        ConstValue::Bool(b) => Arg::Bool(*b),
        ConstValue::Tensor(_) => return None,
    })
}

/// The fill value of a tensor whose elements are all equal (`None`: not a splat, or a dtype
/// with no literal form).
fn splat_value(dtype: DType, bytes: &[u8]) -> Option<Arg> {
    let size = dtype.itemsize();
    let first = bytes.get(..size)?;
    if !bytes.chunks_exact(size).all(|c| c == first) {
        return None;
    }
    if dtype == DType::Bool {
        return Some(Arg::Bool(first[0] != 0));
    }
    if let Some(v) = to_i64s(dtype, first) {
        return Some(Arg::Int(*v.ok()?.first()?));
    }
    let v = to_f64s(dtype, first)?.ok()?;
    Some(Arg::Float(F64(*v.first()?)))
}

/// The static shape of tensor type `ty`, if it has one of at most [`MAX_EVAL_ELEMENTS`].
fn evaluable_shape(ty: &Type) -> Option<Vec<i64>> {
    let t = ty.as_tensor()?;
    let shape = t.static_shape()?;
    let numel = shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(u64::try_from(d).ok()?))?;
    (numel <= MAX_EVAL_ELEMENTS).then_some(shape)
}

/// The single SymInt result of call `n` and its value, when its type says it is a constant:
/// the recorded type, or the type the op table infers from the operands' types.
fn constant_symint(g: &Graph, n: NodeId, cx: &PassCx) -> Option<(ValueId, i64)> {
    let r = result(g, n)?;
    let Type::SymInt(recorded) = g.ty(r) else {
        return None;
    };
    if let Some(c) = recorded.as_ref().and_then(|d| d.as_const()) {
        return Some((r, c));
    }
    if !matches!(g.node(n).op, Op::Call { .. }) {
        return None;
    }
    match trtfx_ir::aten::infer_node(g, n, cx.ops())?.ok()?.as_slice() {
        [Type::SymInt(Some(d))] => Some((r, d.as_const()?)),
        _ => None,
    }
}

/// What sweeping a graph knows to be constant.
#[derive(Default)]
struct Known {
    values: HashMap<ValueId, ConstValue>,
}

impl FoldConstants {
    /// Evaluates call `n` if it is pure, reads only constants, and has small static results.
    fn evaluate(
        &self,
        p: &Program,
        g: &Graph,
        n: NodeId,
        k: &Known,
        cx: &PassCx,
    ) -> Option<Vec<ConstValue>> {
        let ev = self.evaluator.as_ref()?;
        let d = g.node(n);
        if !matches!(d.op, Op::Call { .. }) || d.results.is_empty() {
            return None;
        }
        let mut all_known = true;
        d.for_each_input(|v| all_known &= k.values.contains_key(&v));
        if !all_known {
            return None;
        }
        for &r in &d.results {
            match g.ty(r) {
                Type::Tensor(_) if evaluable_shape(g.ty(r)).is_none() => return None,
                Type::Tensor(_)
                | Type::SymInt(_)
                | Type::SymBool
                | Type::SymFloat
                | Type::Int
                | Type::Bool
                | Type::Float => {}
                _ => return None,
            }
        }
        if cx.effect(p, g, n) != Effect::Pure {
            return None;
        }
        ev.eval_call(g, n, &|v| k.values.get(&v).cloned()).ok()
    }

    /// Removes `n` and the nodes of `inputs` if they became unused; whether any went.
    fn remove_dead(
        &self,
        p: &mut Program,
        gid: GraphId,
        mut inputs: Vec<NodeId>,
        n: NodeId,
        cx: &PassCx,
    ) -> bool {
        inputs.push(n);
        let ops = cx.ops_handle();
        remove_dead(p, gid, inputs, Some(&*ops)) > 0
    }

    fn run_graph(&self, p: &mut Program, gid: GraphId, cx: &mut PassCx) -> bool {
        let mut k = Known::default();
        let mut changed = false;
        let mut namer = Namer::new(&p.graphs[gid]);
        let mut made_weights: Vec<String> = Vec::new();
        for n in p.graphs[gid].node_ids() {
            let g = &p.graphs[gid];
            if g.get_node(n).is_none() {
                continue;
            }
            if let Op::GetAttr { target } = &g.node(n).op {
                if let (Some(r), Some(w)) = (result(g, n), p.weights.get(target)) {
                    if (w.numel().max(0) as u64) <= MAX_EVAL_ELEMENTS {
                        k.values.insert(r, ConstValue::Tensor(w.clone()));
                    }
                }
                continue;
            }
            // A SymInt whose type (recorded, or inferred from its operands' types, like the
            // size of a static dim) is a constant needs no evaluation.
            if let Some((r, c)) = constant_symint(g, n, cx) {
                let inputs: Vec<NodeId> =
                    g.node(n).inputs().iter().map(|&v| g.value(v).def).collect();
                k.values.insert(r, ConstValue::Int(c));
                if substitute_literal(&mut p.graphs[gid], r, Arg::Int(c)) {
                    cx.stat("scalars-folded", 1);
                    changed = true;
                    self.remove_dead(p, gid, inputs, n, cx);
                }
                continue;
            }
            let Some(outs) = self.evaluate(p, g, n, &k, cx) else {
                continue;
            };
            let results = g.node(n).results.clone();
            if outs.len() != results.len() {
                continue;
            }
            let inputs: Vec<NodeId> = g.node(n).inputs().iter().map(|&v| g.value(v).def).collect();
            // A source (no value operands) is recorded, not replaced.
            let is_source = inputs.is_empty();
            let mut replaced = false;
            for (&r, c) in results.iter().zip(outs) {
                if let Some(lit) = literal(&c) {
                    if substitute_literal(&mut p.graphs[gid], r, lit) {
                        cx.stat("scalars-folded", 1);
                        changed = true;
                        replaced = true;
                    }
                    k.values.insert(r, c);
                    continue;
                }
                let ConstValue::Tensor(w) = &c else {
                    continue;
                };
                let g = &p.graphs[gid];
                let ty = g.ty(r).clone();
                let fits = ty.as_tensor().is_some_and(|t| {
                    t.dtype == w.dtype && t.static_shape() == Some(w.shape.clone())
                });
                if !fits {
                    cx.stat("refused-type-mismatch", 1);
                    continue;
                }
                if is_source {
                    k.values.insert(r, c);
                    continue;
                }
                let Ok(bytes) = w.bytes() else {
                    continue;
                };
                let name = g.node(n).name.clone();
                let new = if let Some(fill) = splat_value(w.dtype, &bytes) {
                    let b = NodeBuilder::call("aten.full.default")
                        .args(vec![
                            Arg::List(w.shape.iter().map(|&x| Arg::Int(x)).collect()),
                            fill,
                        ])
                        .kwarg("dtype", Arg::DType(w.dtype))
                        .result(namer.fresh(&format!("{name}_folded")), ty);
                    p.graphs[gid].insert_before(n, b)
                } else {
                    if w.numel() as u64 > self.options.max_elements {
                        cx.stat("refused-too-large", 1);
                        k.values.insert(r, c);
                        continue;
                    }
                    let mut wname = format!("_folded.{name}");
                    let mut i = 1;
                    while p.weights.contains_key(&wname) {
                        wname = format!("_folded.{name}_{i}");
                        i += 1;
                    }
                    p.weights.insert(wname.clone(), w.clone());
                    made_weights.push(wname.clone());
                    let b = NodeBuilder::new(Op::GetAttr { target: wname })
                        .result(namer.fresh(&format!("{name}_folded")), ty);
                    p.graphs[gid].insert_before(n, b)
                };
                let g = &mut p.graphs[gid];
                let nv = g.node(new).results[0];
                g.replace_all_uses(r, nv);
                k.values.insert(nv, c);
                cx.stat("tensors-folded", 1);
                changed = true;
                replaced = true;
            }
            if replaced {
                changed |= self.remove_dead(p, gid, inputs, n, cx);
            }
        }
        // Intermediate folded weights no longer read by anyone are dropped again.
        for w in made_weights {
            let used = p.graphs.values().any(|g| {
                g.nodes()
                    .any(|n| matches!(&g.node(n).op, Op::GetAttr { target } if *target == w))
            });
            if !used {
                p.weights.shift_remove(&w);
            }
        }
        changed
    }
}

/// Replaces `v` by a literal in every `call_function` user. Outputs and `call_graph` operands
/// keep the value (their interface is typed values). Returns whether anything changed.
fn substitute_literal(g: &mut Graph, v: ValueId, lit: Arg) -> bool {
    let mut users: Vec<NodeId> = g.value(v).uses().to_vec();
    users.sort();
    users.dedup();
    let mut changed = false;
    for u in users {
        if !matches!(g.node(u).op, Op::Call { .. }) {
            continue;
        }
        let sub = |a: &Arg| replace_in(a, v, &lit);
        let args: Vec<Arg> = g.node(u).args.iter().map(sub).collect();
        let kwargs: Vec<(String, Arg)> = g
            .node(u)
            .kwargs
            .iter()
            .map(|(k, a)| (k.clone(), replace_in(a, v, &lit)))
            .collect();
        g.set_args(u, args, kwargs);
        changed = true;
    }
    changed
}

fn replace_in(a: &Arg, v: ValueId, lit: &Arg) -> Arg {
    match a {
        Arg::Value(x) if *x == v => lit.clone(),
        Arg::List(items) => Arg::List(items.iter().map(|x| replace_in(x, v, lit)).collect()),
        Arg::Dict(items) => Arg::Dict(
            items
                .iter()
                .map(|(k, x)| (k.clone(), replace_in(x, v, lit)))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl Pass for FoldConstants {
    fn name(&self) -> &str {
        "fold-constants"
    }

    fn options(&self) -> crate::options::PassOptions {
        use crate::options::OptionSet;
        self.options.to_pass_options()
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let mut changed = false;
        for gid in cx.graphs(p) {
            changed |= self.run_graph(p, gid, cx);
        }
        Ok(PassOutcome::from_changed(changed))
    }
}
