//! Converters from IR nodes to TensorRT layers, with capability validators.
//!
//! For every supported operator overload the [`ConverterRegistry`] holds an [`OpConverter`]:
//!
//! - a **validator**, a pure function of the node (operator, argument types after truncation,
//!   symbolic shapes, literal attributes, uses of its results) that says `Ok` or gives the
//!   reason the node cannot go to TensorRT. The partitioner calls it through
//!   [`trtfx_passes::partition::Capability`], so it never builds anything;
//! - a **converter** that emits layers through a [`NetworkBuilder`](crate::NetworkBuilder)
//!   (normally into a [`crate::RecordedNetwork`]) and returns one [`Slot`] per node result.
//!
//! Networks are strongly typed: converters insert casts so both operands of an elementwise
//! layer have the ATen-promoted dtype, and Python scalars become constants of that dtype.
//! Symbolic ints (`sym_size`, `_operator.mul` on sizes) are carried as [`Slot::Sym`]
//! expressions and only become shape-tensor layers where a layer needs them.
//!
//! Higher-order operators (`higher_order.cond`) reference subgraphs of the program, so they
//! are only checked and converted with their program at hand ([`Scope`],
//! [`ConverterRegistry::check_in`], [`ConverterRegistry::capability`]); a check of a lone
//! graph ([`ConverterRegistry::check`]) refuses them.
//!
//! An operator without a converter but with a decomposition in the op table converts through
//! it: a node is expanded into a scratch graph whose calls are checked and converted with
//! their own converters (see [`ConverterRegistry::lowering`]).

mod args;
mod ctx;
mod decompose;
mod elementwise;
mod fold;
mod hop;
mod index;
mod linalg;
mod misc;
mod movement;
mod norm;
mod registry;
mod sample;
mod scatter;
mod select;
mod shape;

pub use args::{NodeArgs, Scope};
pub use ctx::{trt_dtype, ConvertCtx};
pub(crate) use decompose::Expansion;
pub(crate) use registry::Prepared;
pub use registry::{ConvertFn, ConverterRegistry, Lowering, OpConverter, ValidateFn};

use crate::network::{NetworkError, TensorId};
use trtfx_ir::Dim;

/// What an IR value is during conversion.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    /// A tensor of the network.
    Tensor(TensorId),
    /// A build-time int (literal, or a symbolic int that is constant).
    Int(i64),
    /// A build-time float.
    Float(f64),
    /// A build-time bool.
    Bool(bool),
    /// A symbolic int, as an expression of the program's symbols; materialised as shape
    /// arithmetic on demand ([`ConvertCtx::dim_tensor`]).
    Sym(Dim),
    /// A list (e.g. `Tensor[]`).
    List(Vec<Slot>),
    /// `None` (also results that are never used and were not produced).
    None,
}

impl Slot {
    /// The tensor, if this is one.
    pub fn as_tensor(&self) -> Option<TensorId> {
        match self {
            Slot::Tensor(t) => Some(*t),
            _ => None,
        }
    }
}

/// Why conversion failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConvertError {
    /// A node's converter failed (validation passed but the layer could not be built).
    #[error("node `{node}` ({op}): {message}")]
    Node {
        /// FX node name.
        node: String,
        /// Operator.
        op: String,
        /// What went wrong.
        message: String,
    },
    /// A node has no converter, or its validator refused it.
    #[error("node `{node}` ({op}) is not supported: {reason}")]
    Unsupported {
        /// FX node name.
        node: String,
        /// Operator.
        op: String,
        /// The validator's reason.
        reason: String,
    },
    /// The network builder refused a layer.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// Anything else (graph structure, weights, profiles).
    #[error("{0}")]
    Other(String),
}

impl From<String> for ConvertError {
    fn from(s: String) -> Self {
        ConvertError::Other(s)
    }
}

impl From<&str> for ConvertError {
    fn from(s: &str) -> Self {
        ConvertError::Other(s.to_string())
    }
}

/// Result of a converter.
pub type CResult<T> = Result<T, ConvertError>;
