//! Constant evaluation through the op table: the interface `fold-constants` uses to evaluate a
//! call whose operands are all constants, implemented by the executor (`trtfx-exec`).
//!
//! The IR cannot run operators itself, and a second, smaller evaluator inside a pass would
//! disagree with the executor on the ops it covers and miss the ones it does not. So the pass
//! asks a [`ConstEval`] that the caller installs (the `trtfx` facade installs the executor's),
//! and folds exactly what the executor's kernels compute.

use crate::graph::{Graph, NodeId, ValueId};
use crate::program::Weight;

/// A constant operand or result.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstValue {
    /// A tensor, as a weight (dtype, static shape, little-endian bytes).
    Tensor(Weight),
    /// An int or a SymInt with a known value.
    Int(i64),
    /// A float or a SymFloat with a known value.
    Float(f64),
    /// A bool or a SymBool with a known value.
    Bool(bool),
}

/// Why a call was not evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalRefusal {
    /// The evaluator has no kernel for the op (or the op is not a plain call).
    Unsupported(String),
    /// The kernel ran and failed, or produced a value that is not a [`ConstValue`].
    Failed(String),
}

impl std::fmt::Display for EvalRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalRefusal::Unsupported(m) => write!(f, "not evaluable: {m}"),
            EvalRefusal::Failed(m) => write!(f, "evaluation failed: {m}"),
        }
    }
}

/// Evaluates single calls on constant operands.
pub trait ConstEval: Send + Sync {
    /// Evaluates call node `n` of `g`. `operand(v)` gives the constant value of a value the
    /// node reads (`None`: not constant, which makes the call not evaluable). Returns one
    /// value per result of `n`, in order.
    fn eval_call(
        &self,
        g: &Graph,
        n: NodeId,
        operand: &dyn Fn(ValueId) -> Option<ConstValue>,
    ) -> Result<Vec<ConstValue>, EvalRefusal>;
}
