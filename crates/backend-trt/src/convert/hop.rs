//! Higher-order operators: `higher_order.cond`.
//!
//! `cond(pred, @true_graph, @false_graph, [operands])` is converted **eagerly**: both branch
//! graphs are converted inline into the same network, each with its placeholders bound to
//! the operand tensors, and every pair of branch outputs is combined by a select layer on
//! the predicate. For branches without side effects this equals `cond`, since the branch
//! that was not taken only costs compute; that is why the validator insists on pure
//! branches. The price is that both branches always run, on every input: a branch that is
//! only meaningful when taken (a gather whose indices are valid only then) still executes.
//! TensorRT's `IIfConditionalLayer` (`add_if_conditional` in the binding) would evaluate
//! lazily and is a possible later improvement; it needs a network builder with conditional
//! scopes, which the recorded network and emulator do not have yet.

use std::collections::HashMap;

use trtfx_ir::{aten, Arg, DType, Graph, GraphId, NodeId, Op, Program, Type};

use super::{CResult, ConvertCtx, ConverterRegistry, NodeArgs, OpConverter, Scope, Slot};
use crate::engine::convert_subgraph;
use crate::network::TensorId;

/// The schema of `torch.cond` (the op table has no higher-order operators), so its
/// arguments are read by name like every other operator's.
const COND_SCHEMA: &str =
    "higher_order::cond(Tensor pred, Any true_fn, Any false_fn, Any[] operands) -> Any[]";

pub(super) fn register(r: &mut ConverterRegistry) {
    let mut conv = OpConverter::new(validate_cond, convert_cond);
    match aten::parse_schema(COND_SCHEMA) {
        Ok(p) => conv = conv.with_schema(p.schema),
        // Without a schema the validator refuses every `cond` (a unit test checks it parses).
        Err(e) => debug_assert!(false, "{COND_SCHEMA}: {e}"),
    }
    r.register("higher_order.cond", conv);
}

/// The parts of a `cond` node: predicate, branch graphs, operands.
struct CondArgs<'a> {
    pred: &'a Arg,
    branches: [GraphId; 2],
    operands: Vec<Arg>,
}

/// Branch names, in argument order.
const BRANCH: [&str; 2] = ["true", "false"];

fn cond_args<'a>(a: &'a NodeArgs<'_>) -> Result<CondArgs<'a>, String> {
    let graph = |name: &str| match a.req(name)? {
        Arg::Graph(g) => Ok(*g),
        other => Err(format!("{}: `{name}` = {other} is not a subgraph", a.op)),
    };
    let operands = match a.arg("operands")? {
        Some(Arg::List(items)) => items.clone(),
        None => vec![],
        Some(other) => vec![other.clone()],
    };
    Ok(CondArgs {
        pred: a.req("pred")?,
        branches: [graph("true_fn")?, graph("false_fn")?],
        operands,
    })
}

/// The program and registry of a `cond` node, or why it cannot be checked without them.
fn scope<'a>(a: &NodeArgs<'a>) -> Result<Scope<'a>, String> {
    a.scope().ok_or_else(|| {
        format!(
            "{}: its branch graphs are not visible when one graph is checked alone \
             (check it with its program: `ConverterRegistry::check_in` or `capability`)",
            a.op
        )
    })
}

/// Why node `n` of a branch has side effects (`None` when it has none). The export-time
/// assertions count as pure: their converters emit no layers.
fn side_effect(g: &Graph, n: NodeId) -> Option<String> {
    let target = g.node(n).op.target()?;
    let def = aten::registry().get(target)?;
    let base = target.split('.').nth(1).unwrap_or("");
    let assertion = base.starts_with("_assert") || base.starts_with("sym_constrain_range");
    if def.props.mutates {
        Some(format!("`{target}` mutates an operand"))
    } else if !def.props.pure && !assertion {
        Some(format!("`{target}` has side effects"))
    } else {
        None
    }
}

/// Checks one branch graph: its arity, every node (with the registry, so nested `cond`
/// recurses), purity, and that its outputs are tensors. Returns the output types.
fn check_branch<'p>(
    op: &str,
    which: &str,
    program: &'p Program,
    registry: &ConverterRegistry,
    gid: GraphId,
    n_operands: usize,
) -> Result<Vec<&'p Type>, String> {
    let g = program
        .graphs
        .get(gid)
        .ok_or_else(|| format!("{op}: no graph {gid}"))?;
    let prefix = format!("{op}: {which} branch @{}", g.name);
    let n_phs = g.placeholders().len();
    if n_phs != n_operands {
        return Err(format!(
            "{prefix} takes {n_phs} inputs, the node passes {n_operands}"
        ));
    }
    for n in g.nodes() {
        let data = g.node(n);
        let refused = match &data.op {
            Op::Placeholder | Op::GetAttr { .. } | Op::Output => None,
            Op::Call { .. } => side_effect(g, n)
                .map(|why| format!("{why} (both branches are computed, so they must be pure)"))
                .or_else(|| registry.check_in(program, g, n).err()),
            Op::CallGraph { .. } => Some("call_graph: nested graphs are not converted".into()),
        };
        if let Some(reason) = refused {
            let what = data.op.target().unwrap_or(data.op.opcode());
            return Err(format!(
                "{prefix}: node `{}` ({what}) is not supported: {reason}",
                data.name
            ));
        }
    }
    g.outputs()
        .iter()
        .enumerate()
        .map(|(i, a)| match a {
            Arg::Value(v) if g.ty(*v).as_tensor().is_some() => Ok(g.ty(*v)),
            _ => Err(format!("{prefix}: output {i} ({a}) is not a tensor")),
        })
        .collect()
}

/// A `cond` converts when its predicate is a bool scalar tensor and both branches are pure,
/// fully convertible and give outputs of equal types (the select needs one type per output).
fn validate_cond(a: &NodeArgs<'_>) -> Result<(), String> {
    let Scope { program, registry } = scope(a)?;
    let c = cond_args(a)?;
    let pred_ok = match c.pred {
        Arg::Value(v) => match a.graph.ty(*v) {
            Type::Tensor(t) => {
                t.dtype == DType::Bool && t.shape.iter().all(|d| d.as_const() == Some(1))
            }
            _ => false,
        },
        _ => false,
    };
    if !pred_ok {
        let got = match c.pred {
            Arg::Value(v) => a.graph.ty(*v).to_string(),
            other => format!("the literal {other}"),
        };
        return Err(format!(
            "{}: the predicate must be a bool tensor of one element, got {got}",
            a.op
        ));
    }
    let n = c.operands.len();
    let [t, f] = [0, 1].map(|i| check_branch(a.op, BRANCH[i], program, registry, c.branches[i], n));
    let (t, f) = (t?, f?);
    let n_results = a.results().len();
    if t.len() != f.len() || t.len() != n_results {
        return Err(format!(
            "{}: the true branch gives {} outputs, the false branch {}, the node has {n_results} \
             results",
            a.op,
            t.len(),
            f.len()
        ));
    }
    for (i, (tt, ft)) in t.iter().zip(&f).enumerate() {
        if tt != ft {
            return Err(format!(
                "{}: output {i} is {tt} in the true branch but {ft} in the false branch \
                 (both are computed and selected, so their types must agree)",
                a.op
            ));
        }
    }
    Ok(())
}

/// Both branches inline, then one select per output (see the module docs for why this is
/// eager). Outputs that are the same tensor in both branches need no select.
fn convert_cond(ctx: &mut ConvertCtx<'_>, a: &NodeArgs<'_>) -> CResult<Vec<Slot>> {
    let Scope { program, registry } = scope(a)?;
    let c = cond_args(a)?;
    let pred = match ctx.arg_slot(c.pred)? {
        Slot::Tensor(t) => t,
        s => return Err(format!("{}: the predicate is {s:?}, not a tensor", a.op).into()),
    };
    let operands: Vec<Slot> = c
        .operands
        .iter()
        .map(|x| ctx.arg_slot(x))
        .collect::<CResult<_>>()?;
    let mut outs = vec![];
    for gid in c.branches {
        outs.push(convert_subgraph(ctx, program, registry, gid, &operands)?);
    }
    let (f, t) = (
        outs.pop().unwrap_or_default(),
        outs.pop().unwrap_or_default(),
    );
    // The 0-d predicate is brought to each output's rank once, not once per output.
    let mut preds: HashMap<usize, TensorId> = HashMap::new();
    let mut results = vec![];
    for (x, y) in t.into_iter().zip(f) {
        let r = match (x, y) {
            (Slot::Tensor(x), Slot::Tensor(y)) if x == y => x,
            (Slot::Tensor(x), Slot::Tensor(y)) => {
                let rank = ctx.rank(x)?.max(ctx.rank(y)?);
                let c = match preds.get(&rank) {
                    Some(&c) => c,
                    None => {
                        let c = ctx.to_rank(pred, rank)?;
                        preds.insert(rank, c);
                        c
                    }
                };
                ctx.select(c, x, y)?
            }
            (x, y) => {
                return Err(
                    format!("{}: branch outputs {x:?} and {y:?} are not tensors", a.op).into(),
                )
            }
        };
        results.push(Slot::Tensor(r));
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cond_schema_parses() {
        let s = trtfx_ir::aten::parse_schema(super::COND_SCHEMA)
            .unwrap()
            .schema;
        let names: Vec<&str> = s.args.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["pred", "true_fn", "false_fn", "operands"]);
    }
}
