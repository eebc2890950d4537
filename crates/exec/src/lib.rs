//! `trtfx-exec`: the reference/fallback executor, running any IR graph on CPU with ATen semantics.
//!
//! Phase 1 is a standalone kernel library: a CPU [`Tensor`] (dtype + shape + contiguous storage)
//! and one function per ATen op in [`kernels`], taking tensors plus plain Rust attributes and
//! returning `Result<Tensor, ExecError>`. The IR interpreter maps graph nodes onto these calls.
//! Semantics follow PyTorch: broadcasting, type promotion ([`promote::result_type`]), integer
//! floor division and remainder, NaN propagation, f16/bf16 computed in f32, views as copies.
//!
//! ```
//! use trtfx_exec::{kernels::elementwise::add, Scalar, Tensor};
//! let a = Tensor::from_vec(vec![1i64, 2, 3], vec![3]).unwrap();
//! let b = Tensor::scalar(2.5f32);
//! let c = add(&a, &b, Scalar::Int(1)).unwrap(); // 0-dim f32 promotes int64 → f32
//! assert_eq!(c.to_f64_vec(), vec![3.5, 4.5, 5.5]);
//! ```

pub mod dtype;
pub mod error;
pub mod interp;
pub mod kernels;
pub mod ops;
pub mod promote;
pub mod tensor;

pub use dtype::{DType, Element};
pub use error::{ExecError, Result};
pub use interp::KernelEvaluator;
pub use ops::has_kernel;
pub use tensor::{Scalar, Tensor};
