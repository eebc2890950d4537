//! The FFT family on complex tensors: ATen's `_fft_c2c`, `_fft_r2c` and `_fft_c2r` (what
//! `torch.fft.*` lowers to), plus conjugation and the real/complex views the lowered graphs use.
//!
//! The transforms come from `rustfft` and always compute in f64 (`complex64` data is widened
//! and rounded once at the end), so results agree with PyTorch's pocketfft/MKL within f32
//! rounding. Normalization is ATen's `fft_norm_mode`: 0 none, 1 by `1/sqrt(n)`, 2 by `1/n`,
//! where `n` is the number of elements of the transformed signal.

use crate::dtype::{DType, C128, C64};
use crate::error::{invalid, Result};
use crate::tensor::{numel, wrap_dims, Tensor};
use num_complex::Complex;
use rustfft::FftPlanner;

/// `Complex<f64>`, the computation type of every transform here.
type Cx = Complex<f64>;

/// ATen's `fft_norm_mode` (`aten/src/ATen/native/SpectralOpsUtils.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Norm {
    /// No scaling (0).
    None,
    /// Scale by `1/sqrt(n)` (1, "ortho").
    ByRootN,
    /// Scale by `1/n` (2).
    ByN,
}

impl Norm {
    /// The mode of ATen's `normalization` int argument.
    pub fn from_int(op: &'static str, v: i64) -> Result<Norm> {
        match v {
            0 => Ok(Norm::None),
            1 => Ok(Norm::ByRootN),
            2 => Ok(Norm::ByN),
            _ => invalid(op, format!("normalization must be 0, 1 or 2, got {v}")),
        }
    }

    /// The factor for a signal of `n` elements.
    fn factor(self, n: usize) -> f64 {
        match self {
            Norm::None => 1.0,
            Norm::ByRootN => 1.0 / (n as f64).sqrt(),
            Norm::ByN => 1.0 / n as f64,
        }
    }
}

/// The complex values of a complex tensor, widened to f64.
fn complex_data(op: &'static str, t: &Tensor) -> Result<Vec<Cx>> {
    match t.dtype() {
        DType::C64 => Ok(t
            .as_slice::<C64>()?
            .iter()
            .map(|c| Cx::new(c.0.re as f64, c.0.im as f64))
            .collect()),
        DType::C128 => Ok(t.as_slice::<C128>()?.iter().map(|c| c.0).collect()),
        d => invalid(op, format!("expected a complex tensor, got {d}")),
    }
}

/// A complex tensor of `dtype` (c64 or c128) from f64 values.
fn complex_tensor(v: Vec<Cx>, shape: Vec<usize>, dtype: DType) -> Tensor {
    if dtype == DType::C128 {
        Tensor::from_parts(v.into_iter().map(C128).collect(), shape)
    } else {
        Tensor::from_parts(
            v.into_iter()
                .map(|c| C64::new(c.re as f32, c.im as f32))
                .collect(),
            shape,
        )
    }
}

/// A real tensor of `dtype` (f32 or f64) from f64 values.
fn real_tensor(v: Vec<f64>, shape: Vec<usize>, dtype: DType) -> Tensor {
    if dtype == DType::F64 {
        Tensor::from_parts(v, shape)
    } else {
        Tensor::from_parts(v.into_iter().map(|x| x as f32).collect(), shape)
    }
}

/// Applies `f` to every 1-d line of `data` (row-major, `shape`) along `dim`, in place: `f`
/// gets a contiguous copy of the line when the dim is not the innermost.
fn for_each_line(data: &mut [Cx], shape: &[usize], dim: usize, mut f: impl FnMut(&mut [Cx])) {
    let n = shape[dim];
    if n == 0 || data.is_empty() {
        return;
    }
    let inner: usize = shape[dim + 1..].iter().product();
    let outer = data.len() / (n * inner);
    if inner == 1 {
        for line in data.chunks_exact_mut(n) {
            f(line);
        }
        return;
    }
    let mut buf = vec![Cx::default(); n];
    for o in 0..outer {
        for i in 0..inner {
            let base = o * n * inner + i;
            for (k, b) in buf.iter_mut().enumerate() {
                *b = data[base + k * inner];
            }
            f(&mut buf);
            for (k, b) in buf.iter().enumerate() {
                data[base + k * inner] = *b;
            }
        }
    }
}

/// Unnormalized complex transforms of `data` along each of `dims` (forward: `exp(-2πi·jk/n)`,
/// as PyTorch).
fn c2c_in_place(
    planner: &mut FftPlanner<f64>,
    data: &mut [Cx],
    shape: &[usize],
    dims: &[usize],
    forward: bool,
) {
    for &d in dims {
        let n = shape[d];
        if n == 0 {
            continue;
        }
        let plan = if forward {
            planner.plan_fft_forward(n)
        } else {
            planner.plan_fft_inverse(n)
        };
        let mut scratch = vec![Cx::default(); plan.get_inplace_scratch_len()];
        for_each_line(data, shape, d, |line| {
            plan.process_with_scratch(line, &mut scratch)
        });
    }
}

fn scale(data: &mut [Cx], f: f64) {
    if f != 1.0 {
        for x in data {
            *x *= f;
        }
    }
}

/// `aten._fft_c2c`: the complex FFT of `x` over `dims` (forward or inverse), normalized by
/// `norm` over the product of the transformed sizes.
pub fn fft_c2c(x: &Tensor, dims: &[i64], norm: Norm, forward: bool) -> Result<Tensor> {
    const OP: &str = "_fft_c2c";
    let dims = wrap_dims(OP, dims, x.ndim())?;
    let mut data = complex_data(OP, x)?;
    let shape = x.shape().to_vec();
    c2c_in_place(&mut FftPlanner::new(), &mut data, &shape, &dims, forward);
    scale(
        &mut data,
        norm.factor(dims.iter().map(|&d| shape[d]).product()),
    );
    Ok(complex_tensor(data, shape, x.dtype()))
}

/// `aten._fft_r2c`: the forward FFT of real `x` (f32 or f64) over `dims`; with `onesided` the
/// last transformed dim keeps only its `n/2 + 1` non-redundant (Hermitian) entries.
pub fn fft_r2c(x: &Tensor, dims: &[i64], norm: Norm, onesided: bool) -> Result<Tensor> {
    const OP: &str = "_fft_r2c";
    if !matches!(x.dtype(), DType::F32 | DType::F64) {
        return invalid(
            OP,
            format!("expected a float32 or float64 tensor, got {}", x.dtype()),
        );
    }
    let dims = wrap_dims(OP, dims, x.ndim())?;
    let Some(&last) = dims.last() else {
        return invalid(OP, "expected at least one dim to transform");
    };
    let shape = x.shape().to_vec();
    let mut data: Vec<Cx> = x.to_f64_vec().into_iter().map(Cx::from).collect();
    c2c_in_place(&mut FftPlanner::new(), &mut data, &shape, &dims, true);
    scale(
        &mut data,
        norm.factor(dims.iter().map(|&d| shape[d]).product()),
    );
    let out_dtype = x.dtype().to_complex();
    if !onesided {
        return Ok(complex_tensor(data, shape, out_dtype));
    }
    // Keep entries 0..=n/2 of the last transformed dim.
    let n = shape[last];
    let keep = n / 2 + 1;
    let inner: usize = shape[last + 1..].iter().product();
    let outer: usize = shape[..last].iter().product();
    let mut out = Vec::with_capacity(outer * keep.min(n) * inner);
    for o in 0..outer {
        let base = o * n * inner;
        out.extend_from_slice(&data[base..base + keep.min(n) * inner]);
    }
    let mut out_shape = shape;
    out_shape[last] = keep.min(n);
    Ok(complex_tensor(out, out_shape, out_dtype))
}

/// `aten._fft_c2r`: the inverse of a one-sided FFT. The complex transform runs over every dim
/// of `dims` but the last (as ATen does), then the last dim is read as the first `n/2 + 1`
/// entries of a Hermitian signal of `last_dim_size = n` entries and transformed to `n` real
/// values. As in pocketfft, the imaginary parts of the zero-frequency entry (and of the
/// Nyquist entry when `n` is even) are ignored, missing entries count as zero and extra ones
/// are ignored. Normalized by `norm` over the output signal's size.
pub fn fft_c2r(x: &Tensor, dims: &[i64], norm: Norm, last_dim_size: i64) -> Result<Tensor> {
    const OP: &str = "_fft_c2r";
    if last_dim_size < 1 {
        return invalid(
            OP,
            format!("Invalid number of data points ({last_dim_size}) specified"),
        );
    }
    let dims = wrap_dims(OP, dims, x.ndim())?;
    let Some((&last, rest)) = dims.split_last() else {
        return invalid(OP, "expected at least one dim to transform");
    };
    let mut data = complex_data(OP, x)?;
    let shape = x.shape().to_vec();
    let mut planner = FftPlanner::new();
    c2c_in_place(&mut planner, &mut data, &shape, rest, false);

    let n = last_dim_size as usize;
    let m = shape[last];
    let mut out_shape = shape.clone();
    out_shape[last] = n;
    let inner: usize = shape[last + 1..].iter().product();
    let outer: usize = shape[..last].iter().product();
    let mut out = vec![0f64; numel(&out_shape)];
    if !out.is_empty() {
        let plan = planner.plan_fft_inverse(n);
        let mut scratch = vec![Cx::default(); plan.get_inplace_scratch_len()];
        let mut full = vec![Cx::default(); n];
        for o in 0..outer {
            for i in 0..inner {
                let at = |k: usize| data[(o * m + k) * inner + i];
                for (k, f) in full.iter_mut().enumerate().take(n / 2 + 1) {
                    *f = if k < m { at(k) } else { Cx::default() };
                }
                full[0].im = 0.0;
                if n.is_multiple_of(2) {
                    full[n / 2].im = 0.0;
                }
                for k in 1..n.div_ceil(2) {
                    full[n - k] = full[k].conj();
                }
                plan.process_with_scratch(&mut full, &mut scratch);
                for (k, f) in full.iter().enumerate() {
                    out[(o * n + k) * inner + i] = f.re;
                }
            }
        }
    }
    let f = norm.factor(rest.iter().map(|&d| shape[d]).product::<usize>() * n);
    if f != 1.0 {
        for v in &mut out {
            *v *= f;
        }
    }
    Ok(real_tensor(out, out_shape, x.dtype().to_real()))
}

/// `aten.conj_physical` (and `_conj`, `conj`, `resolve_conj`, materialized): the complex
/// conjugate; a real tensor is returned unchanged.
pub fn conj(x: &Tensor) -> Result<Tensor> {
    let shape = x.shape().to_vec();
    Ok(match x.dtype() {
        DType::C64 => Tensor::from_parts(
            x.as_slice::<C64>()?
                .iter()
                .map(|c| C64(c.0.conj()))
                .collect(),
            shape,
        ),
        DType::C128 => Tensor::from_parts(
            x.as_slice::<C128>()?
                .iter()
                .map(|c| C128(c.0.conj()))
                .collect(),
            shape,
        ),
        _ => x.clone(),
    })
}

/// `aten.view_as_real`: a complex tensor as its real components, with a trailing dim of 2
/// (real, imaginary).
pub fn view_as_real(x: &Tensor) -> Result<Tensor> {
    let mut shape = x.shape().to_vec();
    shape.push(2);
    let data = complex_data("view_as_real", x)?;
    let flat: Vec<f64> = data.iter().flat_map(|c| [c.re, c.im]).collect();
    Ok(real_tensor(flat, shape, x.dtype().to_real()))
}

/// `aten.view_as_complex`: a float32/float64 tensor whose last dim is 2 as complex values.
pub fn view_as_complex(x: &Tensor) -> Result<Tensor> {
    const OP: &str = "view_as_complex";
    if !matches!(x.dtype(), DType::F32 | DType::F64) {
        return invalid(
            OP,
            format!(
                "is only supported for float and double tensors, got {}",
                x.dtype()
            ),
        );
    }
    if x.shape().last() != Some(&2) {
        return invalid(OP, "tensor must have a last dimension of size 2");
    }
    let v = x.to_f64_vec();
    let data: Vec<Cx> = v.chunks_exact(2).map(|p| Cx::new(p[0], p[1])).collect();
    let shape = x.shape()[..x.ndim() - 1].to_vec();
    Ok(complex_tensor(data, shape, x.dtype().to_complex()))
}

/// `aten.real`: the real part of a complex tensor; a real tensor is returned unchanged.
pub fn real(x: &Tensor) -> Result<Tensor> {
    if !x.dtype().is_complex() {
        return Ok(x.clone());
    }
    Ok(x.to_dtype(x.dtype().to_real()))
}

/// `aten.imag`: the imaginary part of a complex tensor (PyTorch refuses real tensors).
pub fn imag(x: &Tensor) -> Result<Tensor> {
    let data = complex_data("imag", x)?;
    let v: Vec<f64> = data.iter().map(|c| c.im).collect();
    Ok(real_tensor(v, x.shape().to_vec(), x.dtype().to_real()))
}

/// The values of a complex tensor as `(re, im)` pairs in f64 (for tests and printing).
pub fn complex_values(x: &Tensor) -> Result<Vec<(f64, f64)>> {
    Ok(complex_data("complex_values", x)?
        .into_iter()
        .map(|c| (c.re, c.im))
        .collect())
}

/// A complex tensor of `dtype` (c64 or c128) from `(re, im)` pairs (for tests).
pub fn complex_from_pairs(v: &[(f64, f64)], shape: Vec<usize>, dtype: DType) -> Result<Tensor> {
    if !dtype.is_complex() {
        return invalid("complex_from_pairs", format!("{dtype} is not complex"));
    }
    if numel(&shape) != v.len() {
        return invalid("complex_from_pairs", "shape does not match the values");
    }
    Ok(complex_tensor(
        v.iter().map(|&(r, i)| Cx::new(r, i)).collect(),
        shape,
        dtype,
    ))
}
