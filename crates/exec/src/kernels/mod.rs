//! ATen kernels, one function per op (named after the op), grouped by family. Every kernel takes
//! `&Tensor` operands plus plain Rust attributes and returns `Result<_, ExecError>`.

pub mod attention;
pub mod conv;
pub mod create;
pub mod elementwise;
pub mod factor;
pub mod fft;
pub mod grid_sample;
pub mod histogram;
pub mod index;
pub mod linalg;
pub mod norm;
pub mod order;
pub mod pool;
pub mod reduce;
pub mod resample;
pub mod scatter;
pub mod shape;
pub mod special;
pub mod spectral;
pub mod strided;
pub mod upsample;
