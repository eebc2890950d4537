//! The executor's error type.

use crate::dtype::DType;

/// Errors raised by kernels for bad arguments. Kernels never panic on user data; they return one
/// of these instead, with a message in the spirit of PyTorch's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExecError {
    /// Shapes that cannot be broadcast, multiplied, concatenated, ...
    #[error("{op}: shape mismatch: {msg}")]
    Shape {
        /// ATen op name.
        op: &'static str,
        /// What was wrong.
        msg: String,
    },
    /// A dtype the op does not support.
    #[error("{op}: not implemented for dtype {dtype}")]
    DType {
        /// ATen op name.
        op: &'static str,
        /// Offending dtype.
        dtype: DType,
    },
    /// A dimension or an index value out of range.
    #[error("{op}: index out of range: {msg}")]
    Index {
        /// ATen op name.
        op: &'static str,
        /// What was out of range.
        msg: String,
    },
    /// Any other invalid argument (negative sizes, zero step, integer division by zero, ...).
    #[error("{op}: invalid argument: {msg}")]
    Invalid {
        /// ATen op name.
        op: &'static str,
        /// What was wrong.
        msg: String,
    },
}

/// Result alias used throughout the crate.
pub type Result<T, E = ExecError> = std::result::Result<T, E>;

pub(crate) fn shape_err<T>(op: &'static str, msg: impl Into<String>) -> Result<T> {
    Err(ExecError::Shape {
        op,
        msg: msg.into(),
    })
}

pub(crate) fn dtype_err<T>(op: &'static str, dtype: DType) -> Result<T> {
    Err(ExecError::DType { op, dtype })
}

pub(crate) fn index_err<T>(op: &'static str, msg: impl Into<String>) -> Result<T> {
    Err(ExecError::Index {
        op,
        msg: msg.into(),
    })
}

pub(crate) fn invalid<T>(op: &'static str, msg: impl Into<String>) -> Result<T> {
    Err(ExecError::Invalid {
        op,
        msg: msg.into(),
    })
}
