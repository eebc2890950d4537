//! Higher-order ops: `cond`, `while_loop`, and the region wrappers that call their graph.
//!
//! These are not ATen operators and have no schema in the op table: their operand lists are
//! variadic (`wrap_with_autocast(device, dtype, enabled, cache, body, *args)`), so their
//! kernels read the call positionally through [`CallArgs::raw`] and [`CallArgs::args`], the
//! access reserved for schema-less operators.

use super::{KResult, KernelTable};
use crate::interp::{CallArgs, RunError, RunResult, Value};
use trtfx_ir::GraphId;

fn graph_at(c: &CallArgs<'_>, i: usize) -> RunResult<GraphId> {
    match c.args.get(i) {
        Some(Value::Graph(g)) => Ok(*g),
        _ => Err(c.err(format!("operand {i} must be a subgraph"))),
    }
}

fn list_at(c: &CallArgs<'_>, i: usize) -> Vec<Value> {
    match c.args.get(i) {
        Some(Value::List(items)) => items.clone(),
        Some(v) => vec![v.clone()],
        None => vec![],
    }
}

/// The operands from position `i` on (the variadic tail of a region wrapper).
fn rest(c: &CallArgs<'_>, i: usize) -> Vec<Value> {
    c.args[i.min(c.args.len())..].to_vec()
}

fn truthy(c: &CallArgs<'_>, v: &Value) -> RunResult<bool> {
    Ok(match v {
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Tensor(t) => t.item().map_err(|e| c.kernel_err(e))?.to_bool(),
        _ => false,
    })
}

fn cond(c: &CallArgs<'_>) -> KResult {
    let pred = c.args.first().cloned().unwrap_or(Value::None);
    let branch = if truthy(c, &pred)? {
        graph_at(c, 1)?
    } else {
        graph_at(c, 2)?
    };
    c.executor()?.run_graph(branch, list_at(c, 3))
}

fn while_loop(c: &CallArgs<'_>) -> KResult {
    let ex = c.executor()?;
    let (cond_g, body_g) = (graph_at(c, 0)?, graph_at(c, 1)?);
    let mut carried = list_at(c, 2);
    let extra = list_at(c, 3);
    // A bound keeps a buggy program from hanging the executor.
    for _ in 0..10_000_000u64 {
        let mut args = carried.clone();
        args.extend(extra.iter().cloned());
        let r = ex.run_graph(cond_g, args.clone())?;
        if !truthy(c, r.first().unwrap_or(&Value::Bool(false)))? {
            return Ok(carried);
        }
        carried = ex.run_graph(body_g, args)?;
    }
    Err(RunError::BadArgument {
        node: c.node.to_string(),
        op: c.op.to_string(),
        msg: "while_loop did not terminate within 10^7 iterations".into(),
    })
}

pub(crate) fn register(t: &mut KernelTable) {
    t.add("higher_order.cond", cond);
    t.add("higher_order.while_loop", while_loop);
    // (enabled, body, *args)
    t.add("higher_order.wrap_with_set_grad_enabled", |c| {
        c.executor()?.run_graph(graph_at(c, 1)?, rest(c, 2))
    });
    // (device_type, dtype, enabled, cache_enabled, body, *args)
    t.add("higher_order.wrap_with_autocast", |c| {
        c.executor()?.run_graph(graph_at(c, 4)?, rest(c, 5))
    });
    // (subgraph, identifier, *operands)
    t.add("higher_order.invoke_subgraph", |c| {
        c.executor()?.run_graph(graph_at(c, 0)?, rest(c, 2))
    });
}
