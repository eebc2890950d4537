//! The cost model: a weight per operator, with the forms TensorRT handles best made cheaper
//! than the chains they replace (a fused `addmm`/`linear` below `mm` + `add` or a shuffle
//! before a matrix multiply; a folded convolution below convolution + batch-norm), and
//! computations on weights only (which `fold-constants` precomputes, TENSAT's
//! `--all_weight_only`) almost free.
//!
//! Every call costs more than zero, so extraction never prefers a cyclic term. The same
//! weights give the e-graph extractor's per-node cost ([`EggCost`]) and the DAG cost of a
//! graph ([`graph_cost`]), which the pass compares before and after: it keeps the rewritten
//! graph only when that cost went down.

use crate::egraph::{Key, TNode, EG};
use egg::{CostFunction, Id, Language};
use trtfx_ir::{Graph, GraphId, InputKind, Op, Program};

/// Cost factor of a call whose operands are all weights or literals.
pub const WEIGHT_ONLY_FACTOR: f64 = 0.01;

/// The weight of one call of `target`.
pub fn op_weight(target: &str) -> f64 {
    match target {
        "aten.view.default"
        | "aten.reshape.default"
        | "aten._unsafe_view.default"
        | "aten.permute.default"
        | "aten.transpose.int"
        | "aten.t.default"
        | "aten.expand.default"
        | "aten.squeeze.dim"
        | "aten.squeeze.dims"
        | "aten.unsqueeze.default"
        | "aten.slice.Tensor"
        | "aten.alias.default"
        | "aten.clone.default" => 1.0,
        "aten.zeros_like.default" | "aten.full_like.default" | "aten.ones_like.default" => 0.5,
        "aten._to_copy.default" | "aten.to.dtype" | "prims.convert_element_type.default" => 1.5,
        "aten.mm.default" | "aten.bmm.default" | "aten.matmul.default" => 16.0,
        // Below mm + add (18) and permute + addmm (17.5): one TensorRT matrix multiply with a
        // transpose flag and a fused bias.
        "aten.addmm.default" => 16.5,
        "aten.linear.default" => 16.0,
        "aten.convolution.default" => 32.0,
        "aten._native_batch_norm_legit_no_training.default" | "aten.batch_norm.default" => 4.0,
        "aten.cat.default" => 2.0,
        t if t.starts_with("aten.sum")
            || t.starts_with("aten.mean")
            || t.starts_with("aten.amax")
            || t.starts_with("aten._softmax") =>
        {
            4.0
        }
        _ => 2.0,
    }
}

/// egg's per-node cost: the operator weight (scaled down for weight-only nodes) plus the
/// operands' costs. Leaves cost nothing.
pub struct EggCost<'a> {
    /// The e-graph (for keys and the weight-only analysis).
    pub egraph: &'a EG,
}

impl CostFunction<TNode> for EggCost<'_> {
    type Cost = f64;

    fn cost<C>(&mut self, enode: &TNode, mut costs: C) -> f64
    where
        C: FnMut(Id) -> f64,
    {
        let own = match self.egraph.analysis.key(enode) {
            Key::Leaf(_) => 0.0,
            Key::Call { target, .. } => {
                let w = op_weight(target);
                if enode.kids.iter().all(|&k| self.egraph[k].data.weight_only) {
                    w * WEIGHT_ONLY_FACTOR
                } else {
                    w
                }
            }
        };
        enode.fold(own, |acc, k| acc + costs(k))
    }
}

/// The DAG cost of graph `g`, standing for graph `gid` of `p` (a rewritten copy is not in
/// `p` yet): the sum of the weights of its calls, weight-only calls scaled by
/// [`WEIGHT_ONLY_FACTOR`]. Placeholders, `get_attr`, the output and `getitem` are free; a
/// call of another graph or a higher-order op costs the default weight.
pub fn graph_cost(p: &Program, gid: GraphId, g: &Graph) -> f64 {
    let mut total = 0.0;
    walk(p, gid, g, |w, weight_only| {
        total += if weight_only {
            w * WEIGHT_ONLY_FACTOR
        } else {
            w
        }
    });
    total
}

/// The number of calls of `g` that do not depend on weights only (what runs per inference
/// once weight-only computations are folded).
pub fn compute_nodes(p: &Program, gid: GraphId, g: &Graph) -> usize {
    let mut n = 0;
    walk(p, gid, g, |_, weight_only| n += usize::from(!weight_only));
    n
}

/// Calls `f(weight, weight_only)` for every costed node of `g`.
fn walk(p: &Program, gid: GraphId, g: &Graph, mut f: impl FnMut(f64, bool)) {
    let is_main = gid == p.main;
    let mut weight = cranelift_entity::SecondaryMap::<trtfx_ir::ValueId, bool>::new();
    let mut ph = 0usize;
    for n in g.nodes() {
        let d = g.node(n);
        match &d.op {
            Op::Placeholder => {
                let w = is_main
                    && matches!(
                        p.signature.inputs.get(ph),
                        Some(
                            InputKind::Parameter { .. }
                                | InputKind::Buffer { .. }
                                | InputKind::Constant { .. }
                        )
                    );
                ph += 1;
                for &r in &d.results {
                    weight[r] = w;
                }
            }
            Op::GetAttr { .. } => {
                for &r in &d.results {
                    weight[r] = true;
                }
            }
            Op::Output => {}
            Op::Call { target } if target == "_operator.getitem" => {}
            op => {
                let mut all_weight = true;
                d.for_each_input(|v| all_weight &= weight[v]);
                let w = match op {
                    Op::Call { target } => op_weight(target),
                    _ => 2.0,
                };
                f(w, all_weight);
                let pure_call =
                    matches!(op, Op::Call { target } if !target.starts_with("higher_order."));
                for &r in &d.results {
                    weight[r] = all_weight && pure_call;
                }
            }
        }
    }
}
