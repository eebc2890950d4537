//! Build-time evaluation of tensors computed from weights alone.
//!
//! TensorRT takes convolution kernels as build-time weights. Models that reparametrise their
//! weights in the forward pass (NFNet's and BiT's weight standardisation: a batch norm over the
//! kernel, then a reshape) hand the convolution a *computed* kernel. Torch-TensorRT folds such
//! chains before conversion (its `constant_fold` lowering); here the converter that needs
//! build-time data evaluates the chain itself, with the executor's kernels (so the folded
//! values are exactly what the fallback executor would compute), starting from the constants
//! the network already holds.

use std::collections::HashMap;

use trtfx_exec::interp::KernelEvaluator;
use trtfx_ir::ops::{ConstEval, ConstValue, EvalRefusal};
use trtfx_ir::{Arg, DType, Graph, InputKind, NodeId, Op, Type, ValueId, Weight};

use super::{ConvertCtx, NodeArgs, Slot};
use crate::network::{TrtDataType, Weights};

/// Most calls one folded tensor may take: a weight reparametrisation is a handful of ops,
/// and a bound keeps a mistaken fold (a whole network of constants) from running at build
/// time.
const MAX_CALLS: usize = 64;

/// IR dtype of a TensorRT weight type, for the ones constants are made of.
fn ir_dtype(d: TrtDataType) -> Option<DType> {
    Some(match d {
        TrtDataType::Float => DType::F32,
        TrtDataType::Half => DType::F16,
        TrtDataType::Bf16 => DType::BF16,
        TrtDataType::Int32 => DType::I32,
        TrtDataType::Int64 => DType::I64,
        TrtDataType::Bool => DType::Bool,
        _ => return None,
    })
}

/// Validator side: whether the value of tensor argument `name` can be known at build time:
/// every value its computation starts from is a weight (a parameter, buffer or constant
/// placeholder, or a `get_attr`) or a literal, within [`MAX_CALLS`] calls. Placeholders are
/// judged by the program's signature, so without a program (a lone graph) or in a subgraph
/// only user inputs of the main graph are known not to be constant; the converter reports
/// what it cannot fold.
pub(super) fn check_build_time(a: &NodeArgs<'_>, name: &str) -> Result<(), String> {
    let Some(Arg::Value(v)) = a.arg(name)? else {
        return Ok(());
    };
    let g = a.graph;
    let user_input = |n: NodeId| -> bool {
        let Some(scope) = a.scope() else {
            return false;
        };
        let p = scope.program;
        if !std::ptr::eq(p.main_graph(), g) {
            return false;
        }
        let i = g.placeholders().iter().position(|&x| x == n);
        matches!(
            i.and_then(|i| p.signature.inputs.get(i)),
            Some(InputKind::User { .. })
        )
    };
    let mut stack = vec![*v];
    let mut seen = std::collections::HashSet::new();
    let mut calls = 0;
    while let Some(v) = stack.pop() {
        if !seen.insert(v) {
            continue;
        }
        let n = g.value(v).def;
        let data = g.node(n);
        match &data.op {
            Op::GetAttr { .. } => {}
            Op::Placeholder => {
                if user_input(n) {
                    return Err(format!(
                        "{}: `{name}` is computed from the user input `{}`; TensorRT needs \
                         it at build time",
                        a.op, data.name
                    ));
                }
            }
            Op::Call { .. } => {
                calls += 1;
                if calls > MAX_CALLS {
                    return Err(format!(
                        "{}: `{name}` takes more than {MAX_CALLS} calls to compute at build time",
                        a.op
                    ));
                }
                stack.extend(data.inputs());
            }
            other => {
                return Err(format!(
                    "{}: `{name}` comes from a {} node, not from weights",
                    a.op,
                    other.opcode()
                ))
            }
        }
    }
    Ok(())
}

/// The build-time data of IR value `v`: the weights of the constant layer it became, or,
/// for a value computed from such constants, the result of evaluating its computation with
/// the executor's kernels. `None` when some value it depends on is only known at run time.
pub(super) fn build_time_weights(
    ctx: &ConvertCtx<'_>,
    g: &Graph,
    v: ValueId,
) -> Result<Option<Weights>, String> {
    let mut memo = HashMap::new();
    let mut calls = 0;
    let Some(c) = value_of(ctx, g, v, &mut memo, &mut calls)? else {
        return Ok(None);
    };
    let ConstValue::Tensor(w) = c else {
        return Ok(None);
    };
    let dt = super::trt_dtype(w.dtype)?;
    Weights::from_bytes(dt, w.bytes()?)
        .map(Some)
        .map_err(|e| e.to_string())
}

fn value_of(
    ctx: &ConvertCtx<'_>,
    g: &Graph,
    v: ValueId,
    memo: &mut HashMap<ValueId, Option<ConstValue>>,
    calls: &mut usize,
) -> Result<Option<ConstValue>, String> {
    if let Some(c) = memo.get(&v) {
        return Ok(c.clone());
    }
    let c = match ctx.slot(v).ok() {
        Some(Slot::Int(i)) => Some(ConstValue::Int(*i)),
        Some(Slot::Float(f)) => Some(ConstValue::Float(*f)),
        Some(Slot::Bool(b)) => Some(ConstValue::Bool(*b)),
        Some(Slot::Tensor(t)) if ctx.const_weights(*t).is_some() => {
            let w = ctx.const_weights(*t).expect("checked");
            match (ir_dtype(w.dtype), g.ty(v)) {
                (Some(dt), Type::Tensor(tt)) => tt.static_shape().map(|shape| {
                    ConstValue::Tensor(Weight::from_bytes(dt, shape, w.bytes.clone()))
                }),
                _ => None,
            }
        }
        _ => evaluate(ctx, g, v, memo, calls)?,
    };
    memo.insert(v, c.clone());
    Ok(c)
}

/// Evaluates the call that defines `v` once all its operands are known.
fn evaluate(
    ctx: &ConvertCtx<'_>,
    g: &Graph,
    v: ValueId,
    memo: &mut HashMap<ValueId, Option<ConstValue>>,
    calls: &mut usize,
) -> Result<Option<ConstValue>, String> {
    let n = g.value(v).def;
    let data = g.node(n);
    if !matches!(data.op, Op::Call { .. }) {
        return Ok(None);
    }
    *calls += 1;
    if *calls > MAX_CALLS {
        return Ok(None);
    }
    let mut operands = HashMap::new();
    for u in data.inputs() {
        match value_of(ctx, g, u, memo, calls)? {
            Some(c) => {
                operands.insert(u, c);
            }
            None => return Ok(None),
        }
    }
    let Some(outs) = eval_node(g, n, &operands, 0)? else {
        return Ok(None);
    };
    let mut found = None;
    for (r, c) in data.results.iter().zip(outs) {
        if *r == v {
            found = Some(c.clone());
        }
        memo.insert(*r, Some(c));
    }
    Ok(found)
}

/// The results of call `n` of `g` on known `operands`: by the executor's kernel, or, for an
/// op it runs by decomposition (`reshape_as`, `batch_norm` with batch statistics), by
/// evaluating the calls of the op's expansion in turn. `None` when some call cannot be
/// evaluated.
fn eval_node(
    g: &Graph,
    n: NodeId,
    operands: &HashMap<ValueId, ConstValue>,
    depth: usize,
) -> Result<Option<Vec<ConstValue>>, String> {
    let data = g.node(n);
    match KernelEvaluator.eval_call(g, n, &|u| operands.get(&u).cloned()) {
        Ok(o) => return Ok(Some(o)),
        Err(EvalRefusal::Unsupported(_)) => {}
        Err(EvalRefusal::Failed(e)) => {
            return Err(format!("evaluating `{}` at build time: {e}", data.name))
        }
    }
    if depth >= super::decompose::MAX_DEPTH {
        return Ok(None);
    }
    let Some(exp) = super::decompose::expand_node(g, n, trtfx_ir::aten::registry())? else {
        return Ok(None);
    };
    let mut known: HashMap<ValueId, ConstValue> = HashMap::new();
    for (outer, inner) in &exp.inputs {
        if let Some(c) = operands.get(outer) {
            known.insert(*inner, c.clone());
        }
    }
    let calls: Vec<NodeId> = exp.calls().collect();
    for m in calls {
        let Some(outs) = eval_node(&exp.graph, m, &known, depth + 1)? else {
            return Ok(None);
        };
        for (r, c) in exp.graph.node(m).results.iter().zip(outs) {
            known.insert(*r, c);
        }
    }
    let mut results = vec![];
    for (i, out) in exp.outs.iter().enumerate() {
        results.push(match out {
            Arg::Value(v) => match known.get(v) {
                Some(c) => c.clone(),
                None => return Ok(None),
            },
            Arg::Int(i) => ConstValue::Int(*i),
            Arg::Float(f) => ConstValue::Float(f.0),
            Arg::Bool(b) => ConstValue::Bool(*b),
            // An unused result the decomposition does not compute.
            _ if data
                .results
                .get(i)
                .is_none_or(|r| g.value(*r).uses().is_empty()) =>
            {
                ConstValue::Bool(false)
            }
            _ => return Ok(None),
        });
    }
    Ok(Some(results))
}
