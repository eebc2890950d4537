//! Dispatch for reductions, linear algebra, convolution, pooling, normalization, attention,
//! interpolation, indexing and creation ops.

use super::{CallArgs, Executor, RunError, RunResult, Value};
use trtfx_ir::Type;

pub(super) fn aten_more(
    _ex: &Executor<'_>,
    c: &CallArgs<'_>,
    _name: &str,
    _overload: &str,
    _result_types: &[&Type],
) -> RunResult<Vec<Value>> {
    Err(RunError::Unsupported {
        node: c.node.to_string(),
        op: c.op.to_string(),
        hint: String::new(),
    })
}
