//! ATen kernels, one function per op (named after the op), grouped by family.

pub mod elementwise;
