//! Reductions (`sum`, `nansum`, `mean`, `prod`, `amax`, `amin`, `max.dim`, `min.dim`, `argmax`, `argmin`,
//! `var`, `std`, `any`, `all`, `logsumexp`, `norm`), scans (`cumsum`, `cumprod`, `logcumsumexp`), `softmax`,
//! `log_softmax`, `sort` and `topk`.
//!
//! Reduced dims are permuted to the end (one copy unless they already are), so every reduction
//! is a loop over contiguous lanes. Float sums accumulate in f64, which is at least as accurate as
//! PyTorch's cascaded f32 sums.

use crate::dtype::{DType, Element, Real};
use crate::error::{dtype_err, index_err, invalid, Result};
use crate::kernels::elementwise::par_fill;
use crate::kernels::shape::{movedim, permute};
use crate::tensor::{wrap_dim, wrap_dims, Tensor};
use crate::{with_dtype, with_real};
use rayon::prelude::*;

/// The input arranged as `outer` contiguous lanes of `r` elements each.
pub(crate) struct Lanes {
    pub data: Tensor,
    pub outer: usize,
    pub r: usize,
    pub out_shape: Vec<usize>,
}

/// Arrange `t` for reducing over `dims` (`None` or empty: all dims).
pub(crate) fn lanes(
    op: &'static str,
    t: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
) -> Result<Lanes> {
    let nd = t.ndim();
    let red: Vec<usize> = match dims {
        Some(d) if !d.is_empty() => {
            let w = wrap_dims(op, d, nd)?;
            if nd == 0 {
                Vec::new()
            } else {
                w
            }
        }
        _ => (0..nd).collect(),
    };
    let kept: Vec<usize> = (0..nd).filter(|d| !red.contains(d)).collect();
    let mut sorted_red = red.clone();
    sorted_red.sort_unstable();
    let perm: Vec<i64> = kept.iter().chain(&sorted_red).map(|&d| d as i64).collect();
    let data = if nd == 0 {
        t.clone()
    } else {
        permute(t, &perm)?
    };
    let outer: usize = kept.iter().map(|&d| t.shape()[d]).product();
    let r: usize = sorted_red.iter().map(|&d| t.shape()[d]).product();
    let out_shape = if keepdim {
        (0..nd)
            .map(|d| if red.contains(&d) { 1 } else { t.shape()[d] })
            .collect()
    } else {
        kept.iter().map(|&d| t.shape()[d]).collect()
    };
    Ok(Lanes {
        data,
        outer,
        r,
        out_shape,
    })
}

/// Apply `f` to each lane, in parallel when the work is large.
pub(crate) fn map_lanes<T: Sync, O: Copy + Default + Send>(
    s: &[T],
    outer: usize,
    r: usize,
    f: impl Fn(&[T]) -> O + Sync + Send,
) -> Vec<O> {
    par_fill(outer, r, &|start, out: &mut [O]| {
        for (j, o) in out.iter_mut().enumerate() {
            let b = (start + j) * r;
            *o = f(&s[b..b + r]);
        }
    })
}

/// NaN test for any element type (only floats can be unequal to themselves).
#[allow(clippy::eq_op)]
#[inline(always)]
fn is_nan<T: PartialEq>(x: T) -> bool {
    x != x
}

/// Output dtype of `sum`/`prod`: ints and bools accumulate to int64.
fn sum_dtype(t: DType, dtype: Option<DType>) -> DType {
    dtype.unwrap_or(if t.is_float() { t } else { DType::I64 })
}

fn sum_like(
    op: &'static str,
    t: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
    prod: bool,
) -> Result<Tensor> {
    let out = sum_dtype(t.dtype(), dtype);
    if out.is_float() {
        let l = lanes(op, t, dims, keepdim)?;
        let v: Vec<f64> = with_dtype!(l.data.dtype(), T => {
            let s = l.data.as_slice::<T>()?;
            map_lanes(s, l.outer, l.r, |x| {
                if prod {
                    x.iter().fold(1.0f64, |a, &b| a * b.to_f64())
                } else {
                    x.iter().fold(0.0f64, |a, &b| a + b.to_f64())
                }
            })
        });
        Ok(Tensor::from_parts(v, l.out_shape).to_dtype(out))
    } else {
        let l = lanes(op, &t.to_dtype(DType::I64), dims, keepdim)?;
        let s = l.data.as_slice::<i64>()?;
        let v: Vec<i64> = map_lanes(s, l.outer, l.r, |x| {
            if prod {
                x.iter().fold(1i64, |a, &b| a.wrapping_mul(b))
            } else {
                x.iter().fold(0i64, |a, &b| a.wrapping_add(b))
            }
        });
        Ok(Tensor::from_parts(v, l.out_shape).to_dtype(out))
    }
}

/// `aten.sum.dim_IntList` (`dims = None` or empty: all). Ints/bools sum to int64.
pub fn sum(
    t: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    sum_like("sum", t, dims, keepdim, dtype, false)
}

/// `aten.nansum`: `sum` with NaNs counted as 0 (ints/bools sum to int64).
pub fn nansum(
    t: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    if !t.dtype().is_float() {
        return sum_like("nansum", t, dims, keepdim, dtype, false);
    }
    let out = sum_dtype(t.dtype(), dtype);
    let l = lanes("nansum", t, dims, keepdim)?;
    let v: Vec<f64> = with_dtype!(l.data.dtype(), T => {
        let s = l.data.as_slice::<T>()?;
        map_lanes(s, l.outer, l.r, |x| {
            x.iter()
                .map(|&b| b.to_f64())
                .filter(|b| !b.is_nan())
                .sum::<f64>()
        })
    });
    Ok(Tensor::from_parts(v, l.out_shape).to_dtype(out))
}

/// `aten.prod` over dims (ints/bools → int64).
pub fn prod(
    t: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    sum_like("prod", t, dims, keepdim, dtype, true)
}

/// `aten.mean.dim` (float dtypes only, like PyTorch).
pub fn mean(
    t: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    dtype: Option<DType>,
) -> Result<Tensor> {
    let out = dtype.unwrap_or(t.dtype());
    if !out.is_float() {
        return dtype_err("mean", out);
    }
    let l = lanes("mean", &t.to_dtype(out), dims, keepdim)?;
    let r = l.r as f64;
    let v = with_dtype!(out, T => {
        let s = l.data.as_slice::<T>()?;
        map_lanes(s, l.outer, l.r, |x| x.iter().fold(0.0f64, |a, &b| a + b.to_f64()) / r)
    });
    Ok(Tensor::from_parts(v, l.out_shape).to_dtype(out))
}

#[allow(clippy::bool_comparison)]
fn extreme(
    op: &'static str,
    t: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    want_max: bool,
) -> Result<Tensor> {
    let l = lanes(op, t, dims, keepdim)?;
    if l.r == 0 && l.outer > 0 {
        return invalid(
            op,
            "cannot reduce over a zero-size dimension: the operation has no identity",
        );
    }
    Ok(with_dtype!(t.dtype(), T => {
        let s = l.data.as_slice::<T>()?;
        let v: Vec<T> = map_lanes(s, l.outer, l.r, |x| {
            let mut best = x[0];
            for &y in &x[1..] {
                // NaN wins and sticks.
                if is_nan(best) {
                    break;
                }
                if is_nan(y) || (want_max && y > best) || (!want_max && y < best) {
                    best = y;
                }
            }
            best
        });
        Tensor::from_parts(v, l.out_shape)
    }))
}

/// `aten.amax` (NaN propagates).
pub fn amax(t: &Tensor, dims: &[i64], keepdim: bool) -> Result<Tensor> {
    extreme("amax", t, Some(dims), keepdim, true)
}

/// `aten.amin` (NaN propagates).
pub fn amin(t: &Tensor, dims: &[i64], keepdim: bool) -> Result<Tensor> {
    extreme("amin", t, Some(dims), keepdim, false)
}

/// `aten.max()` over all elements.
pub fn max_all(t: &Tensor) -> Result<Tensor> {
    extreme("max", t, None, false, true)
}

/// `aten.min()` over all elements.
pub fn min_all(t: &Tensor) -> Result<Tensor> {
    extreme("min", t, None, false, false)
}

/// Index of the max/min in a lane: first occurrence wins ties, and the first NaN is the max
/// (and the min).
fn arg_extreme<T: Element>(x: &[T], want_max: bool) -> usize {
    let mut bi = 0;
    let mut best = x[0];
    if is_nan(best) {
        return 0;
    }
    for (i, &y) in x.iter().enumerate().skip(1) {
        if is_nan(y) {
            return i;
        }
        if (want_max && y > best) || (!want_max && y < best) {
            best = y;
            bi = i;
        }
    }
    bi
}

fn arg_impl(
    op: &'static str,
    t: &Tensor,
    dim: Option<i64>,
    keepdim: bool,
    want_max: bool,
) -> Result<(Tensor, Tensor)> {
    if t.dtype() == DType::Bool && op.starts_with("arg") {
        return dtype_err(op, t.dtype());
    }
    let dims = dim.map(|d| vec![d]);
    let l = lanes(op, t, dims.as_deref(), keepdim && dim.is_some())?;
    if l.r == 0 {
        return index_err(op, "cannot reduce over a zero-size dimension");
    }
    with_dtype!(t.dtype(), T => {
        let s = l.data.as_slice::<T>()?;
        let idx: Vec<usize> = map_lanes(s, l.outer, l.r, |x| arg_extreme(x, want_max));
        let vals: Vec<T> = idx.iter().enumerate().map(|(o, &i)| s[o * l.r + i]).collect();
        Ok((
            Tensor::from_parts(vals, l.out_shape.clone()),
            Tensor::from_parts(idx.into_iter().map(|i| i as i64).collect::<Vec<_>>(), l.out_shape),
        ))
    })
}

/// `aten.max.dim` → (values, int64 indices).
pub fn max_dim(t: &Tensor, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
    arg_impl("max", t, Some(dim), keepdim, true)
}

/// `aten.min.dim` → (values, int64 indices).
pub fn min_dim(t: &Tensor, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
    arg_impl("min", t, Some(dim), keepdim, false)
}

/// `aten.argmax` (`dim = None`: over the flattened tensor).
pub fn argmax(t: &Tensor, dim: Option<i64>, keepdim: bool) -> Result<Tensor> {
    Ok(arg_impl("argmax", t, dim, keepdim, true)?.1)
}

/// `aten.argmin` (`dim = None`: over the flattened tensor).
pub fn argmin(t: &Tensor, dim: Option<i64>, keepdim: bool) -> Result<Tensor> {
    Ok(arg_impl("argmin", t, dim, keepdim, false)?.1)
}

/// `aten.var.correction` (float only; divisor `max(0, N - correction)`).
pub fn var(t: &Tensor, dims: Option<&[i64]>, correction: f64, keepdim: bool) -> Result<Tensor> {
    if !t.dtype().is_float() {
        return dtype_err("var", t.dtype());
    }
    let l = lanes("var", t, dims, keepdim)?;
    let v = with_dtype!(t.dtype(), T => {
        let s = l.data.as_slice::<T>()?;
        map_lanes(s, l.outer, l.r, |x| {
            let n = x.len() as f64;
            let m = x.iter().map(|v| v.to_f64()).sum::<f64>() / n;
            let ss: f64 = x.iter().map(|v| (v.to_f64() - m).powi(2)).sum();
            ss / (n - correction).max(0.0)
        })
    });
    Ok(Tensor::from_parts(v, l.out_shape).to_dtype(t.dtype()))
}

/// `aten.std.correction`.
pub fn std(t: &Tensor, dims: Option<&[i64]>, correction: f64, keepdim: bool) -> Result<Tensor> {
    let v = var(t, dims, correction, keepdim)?;
    crate::kernels::elementwise::sqrt(&v.to_dtype(DType::F64)).map(|s| s.to_dtype(t.dtype()))
}

/// `aten.var_mean.correction` → (var, mean).
pub fn var_mean(
    t: &Tensor,
    dims: Option<&[i64]>,
    correction: f64,
    keepdim: bool,
) -> Result<(Tensor, Tensor)> {
    Ok((
        var(t, dims, correction, keepdim)?,
        mean(t, dims, keepdim, None)?,
    ))
}

fn any_all(
    op: &'static str,
    t: &Tensor,
    dims: Option<&[i64]>,
    keepdim: bool,
    all: bool,
) -> Result<Tensor> {
    let l = lanes(op, &t.to_dtype(DType::Bool), dims, keepdim)?;
    let s = l.data.as_slice::<bool>()?;
    let v = map_lanes(s, l.outer, l.r, |x| {
        if all {
            x.iter().all(|&b| b)
        } else {
            x.iter().any(|&b| b)
        }
    });
    let r = Tensor::from_parts(v, l.out_shape);
    // PyTorch keeps uint8 for uint8 inputs.
    Ok(if t.dtype() == DType::U8 {
        r.to_dtype(DType::U8)
    } else {
        r
    })
}

/// `aten.any.dims` → bool.
pub fn any(t: &Tensor, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
    any_all("any", t, dims, keepdim, false)
}

/// `aten.all.dims` → bool.
pub fn all(t: &Tensor, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
    any_all("all", t, dims, keepdim, true)
}

/// `aten.logsumexp` (ints → f32), stabilized by the lane max (infinite maxes are not subtracted).
pub fn logsumexp(t: &Tensor, dims: &[i64], keepdim: bool) -> Result<Tensor> {
    let dt = t.dtype().to_float_or_default();
    let l = lanes("logsumexp", &t.to_dtype(dt), Some(dims), keepdim)?;
    let v = with_dtype!(dt, T => {
        let s = l.data.as_slice::<T>()?;
        map_lanes(s, l.outer, l.r, |x| {
            let m = x.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b.to_f64()));
            let m = if m.is_infinite() { 0.0 } else { m };
            x.iter().map(|&v| (v.to_f64() - m).exp()).sum::<f64>().ln() + m
        })
    });
    Ok(Tensor::from_parts(v, l.out_shape).to_dtype(dt))
}

/// `aten.linalg_vector_norm(x, ord, dims, keepdim)` / `aten.norm.ScalarOpt_dim` (float only).
/// `ord` may be any p, `f64::INFINITY`, `-f64::INFINITY` or 0.
pub fn norm(t: &Tensor, p: f64, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
    if !t.dtype().is_float() {
        return dtype_err("norm", t.dtype());
    }
    let l = lanes("norm", t, dims, keepdim)?;
    let v = with_dtype!(t.dtype(), T => {
        let s = l.data.as_slice::<T>()?;
        map_lanes(s, l.outer, l.r, |x| {
            let a = x.iter().map(|v| v.to_f64().abs());
            if p == 2.0 {
                a.map(|v| v * v).sum::<f64>().sqrt()
            } else if p == 1.0 {
                a.sum()
            } else if p == f64::INFINITY {
                a.fold(0.0f64, |m, v| if v.is_nan() || m.is_nan() { f64::NAN } else { m.max(v) })
            } else if p == f64::NEG_INFINITY {
                a.fold(f64::INFINITY, |m, v| if v.is_nan() || m.is_nan() { f64::NAN } else { m.min(v) })
            } else if p == 0.0 {
                a.filter(|&v| v != 0.0).count() as f64
            } else {
                a.map(|v| v.powf(p)).sum::<f64>().powf(1.0 / p)
            }
        })
    });
    Ok(Tensor::from_parts(v, l.out_shape).to_dtype(t.dtype()))
}

/// Run `f` on every lane along `dim` (moved last), producing lanes of the same length.
fn along_dim<T: Element, O: Element>(
    t: &Tensor,
    dim: usize,
    f: impl Fn(&[T], &mut [O]) + Sync + Send,
) -> Result<Tensor> {
    if t.ndim() == 0 {
        let r = along_dim(&t.with_shape(vec![1])?, 0, f)?;
        return r.with_shape(vec![]);
    }
    let moved = movedim(t, dim as i64, -1)?;
    let r = moved.shape().last().copied().unwrap_or(1);
    let s = moved.as_slice::<T>()?;
    let mut out = vec![O::default(); s.len()];
    if r > 0 {
        if s.len() >= 1 << 15 {
            out.par_chunks_mut(r)
                .zip(s.par_chunks(r))
                .for_each(|(o, x)| f(x, o));
        } else {
            out.chunks_mut(r)
                .zip(s.chunks(r))
                .for_each(|(o, x)| f(x, o));
        }
    }
    let res = Tensor::from_parts(out, moved.shape().to_vec());
    if t.ndim() == 0 {
        return Ok(res);
    }
    movedim(&res, -1, dim as i64)
}

fn scan(
    op: &'static str,
    t: &Tensor,
    dim: i64,
    dtype: Option<DType>,
    is_prod: bool,
) -> Result<Tensor> {
    let out = sum_dtype(t.dtype(), dtype);
    let d = wrap_dim(op, dim, t.ndim())?;
    let x = t.to_dtype(out);
    if out.is_float() {
        with_real!(out, F => {
            let xf = x.to_dtype(F::DTYPE);
            let r = along_dim::<F, F>(&xf, d, |a, o| {
                // Accumulate in the compute type, rounding only at the end (f16/bf16).
                let mut acc = if is_prod { F::one() } else { F::zero() };
                for (y, &v) in o.iter_mut().zip(a) {
                    if is_prod { acc *= v } else { acc += v }
                    *y = acc;
                }
            })?;
            Ok(r.to_dtype(out))
        })
    } else {
        let xi = x.to_dtype(DType::I64);
        let r = along_dim::<i64, i64>(&xi, d, |a, o| {
            let mut acc = if is_prod { 1i64 } else { 0 };
            for (y, &v) in o.iter_mut().zip(a) {
                acc = if is_prod {
                    acc.wrapping_mul(v)
                } else {
                    acc.wrapping_add(v)
                };
                *y = acc;
            }
        })?;
        Ok(r.to_dtype(out))
    }
}

/// `aten.cumsum` (ints/bools → int64).
pub fn cumsum(t: &Tensor, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
    scan("cumsum", t, dim, dtype, false)
}

/// `aten.segment_reduce(data, reduce, lengths=, offsets=, axis, unsafe, initial)`: `data`
/// split along `axis` into consecutive segments of the given lengths (or between consecutive
/// offsets), each reduced by `max`, `min`, `sum`, `mean` or `prod`, starting from `initial`
/// (default: -inf, inf, 0, 0, 1; an empty segment's mean is NaN without one). `lengths` has
/// the shape of `data` up to `axis` plus the segment count. As ATen's CPU kernel, `max`/`min`
/// propagate NaN and `mean` divides the sum (with `initial`) by the length.
pub fn segment_reduce(
    data: &Tensor,
    reduce: &str,
    lengths: Option<&Tensor>,
    offsets: Option<&Tensor>,
    axis: i64,
    unsafe_: bool,
    initial: Option<f64>,
) -> Result<Tensor> {
    const OP: &str = "segment_reduce";
    if !data.dtype().is_float() {
        return dtype_err(OP, data.dtype());
    }
    let ax = wrap_dim(OP, axis, data.ndim())?;
    if data.ndim() == 0 {
        return invalid(OP, "data must have at least one dim");
    }
    // Per outer row, the segment lengths.
    let (lens, lshape): (Vec<i64>, Vec<usize>) = match (lengths, offsets) {
        (Some(l), None) => (l.to_i64_vec(), l.shape().to_vec()),
        (None, Some(o)) => {
            let s = o.shape();
            let Some(&last) = s.last() else {
                return invalid(OP, "offsets must have at least one dim");
            };
            if last == 0 {
                return invalid(OP, "offsets must not be empty");
            }
            let v = o.to_i64_vec();
            let lens = v
                .chunks(last)
                .flat_map(|r| r.windows(2).map(|w| w[1] - w[0]))
                .collect();
            let mut ls = s.to_vec();
            *ls.last_mut().unwrap_or(&mut 0) = last - 1;
            (lens, ls)
        }
        _ => {
            return invalid(
                OP,
                "exactly one of lengths and offsets is needed (indices are not supported)",
            )
        }
    };
    if lshape.len() != ax + 1 || lshape[..ax] != data.shape()[..ax] {
        return invalid(
            OP,
            format!(
                "lengths {lshape:?} must have data's sizes {:?} before axis {ax} plus the segment count",
                &data.shape()[..ax]
            ),
        );
    }
    let segs = lshape[ax];
    let outer: usize = data.shape()[..ax].iter().product();
    let size = data.shape()[ax];
    let inner: usize = data.shape()[ax + 1..].iter().product();
    for row in lens.chunks(segs.max(1)).take(outer) {
        if let Some(bad) = row.iter().find(|&&l| l < 0) {
            return invalid(OP, format!("lengths must be non-negative, got {bad}"));
        }
        let total: i64 = row.iter().sum();
        if total > size as i64 || (!unsafe_ && total != size as i64) {
            return invalid(
                OP,
                format!("the lengths sum to {total}, but data has {size} elements along axis {ax}"),
            );
        }
    }
    let how = match reduce {
        "max" | "min" | "sum" | "mean" | "prod" => reduce,
        r => return invalid(OP, format!("unknown reduction {r:?}")),
    };
    let dt = data.dtype();
    let x = data.to_f64_vec();
    let mut out = vec![0f64; outer * segs * inner];
    for o in 0..outer {
        let row = &lens[o * segs..(o + 1) * segs];
        let mut start = 0usize;
        for (k, &len) in row.iter().enumerate() {
            let len = len as usize;
            for i in 0..inner {
                let mut acc = initial
                    .map(|v| with_real!(dt, F => F::lit(v).to_f64()))
                    .unwrap_or(match how {
                        "max" => f64::NEG_INFINITY,
                        "min" => f64::INFINITY,
                        "prod" => 1.0,
                        _ => 0.0,
                    });
                for j in 0..len {
                    let v = x[(o * size + start + j) * inner + i];
                    acc = match how {
                        "max" if v.is_nan() || acc.is_nan() => f64::NAN,
                        "max" => acc.max(v),
                        "min" if v.is_nan() || acc.is_nan() => f64::NAN,
                        "min" => acc.min(v),
                        "prod" => acc * v,
                        _ => acc + v,
                    };
                }
                if how == "mean" {
                    if len == 0 && initial.is_none() {
                        acc = f64::NAN;
                    } else if len > 0 {
                        acc /= len as f64;
                    }
                }
                out[(o * segs + k) * inner + i] = acc;
            }
            start += len;
        }
    }
    let mut shape = data.shape().to_vec();
    shape[ax] = segs;
    Tensor::from_f64s(&out, shape, dt)
}

/// `aten.logcumsumexp`: `log(sum_{j <= i} exp(x_j))` along `dim`, as ATen's scan of
/// `log1p(exp(min - max)) + max` (never overflowing; equal infinities stay themselves, NaN
/// propagates). Float inputs only; accumulates in f64.
pub fn logcumsumexp(t: &Tensor, dim: i64) -> Result<Tensor> {
    const OP: &str = "logcumsumexp";
    if !t.dtype().is_float() {
        return dtype_err(OP, t.dtype());
    }
    let d = wrap_dim(OP, dim, t.ndim())?;
    let x = t.to_dtype(DType::F64);
    let r = along_dim::<f64, f64>(&x, d, |a, o| {
        let mut acc = f64::NEG_INFINITY;
        for (y, &v) in o.iter_mut().zip(a) {
            acc = log_add_exp(acc, v);
            *y = acc;
        }
    })?;
    Ok(r.to_dtype(t.dtype()))
}

/// `log(e^x + e^y)` for the running sum `x` and the next element `y`.
fn log_add_exp(x: f64, y: f64) -> f64 {
    let (lo, hi) = if y.is_nan() {
        (y, y)
    } else {
        (x.min(y), x.max(y))
    };
    if lo != hi || lo.is_finite() {
        (lo - hi).exp().ln_1p() + hi
    } else {
        // Both the same infinity (or the running sum is NaN, which stays NaN).
        x
    }
}

/// `aten.cumprod` (ints/bools → int64).
pub fn cumprod(t: &Tensor, dim: i64, dtype: Option<DType>) -> Result<Tensor> {
    scan("cumprod", t, dim, dtype, true)
}

fn softmax_impl(
    op: &'static str,
    t: &Tensor,
    dim: i64,
    half_to_float: bool,
    log: bool,
) -> Result<Tensor> {
    if !t.dtype().is_float() {
        return dtype_err(op, t.dtype());
    }
    let out = if half_to_float && matches!(t.dtype(), DType::F16 | DType::BF16) {
        DType::F32
    } else {
        t.dtype()
    };
    let d = wrap_dim(op, dim, t.ndim())?;
    with_real!(t.dtype(), F => {
        let x = t.to_dtype(F::DTYPE);
        let r = along_dim::<F, F>(&x, d, |a, o| softmax_lane(a, o, log))?;
        Ok(r.to_dtype(out))
    })
}

fn softmax_lane<F: Real>(a: &[F], o: &mut [F], log: bool) {
    let m = a.iter().fold(
        F::neg_infinity(),
        |m, &v| if v > m || v.is_nan() { v } else { m },
    );
    let mut sum = F::zero();
    for (y, &v) in o.iter_mut().zip(a) {
        *y = (v - m).exp();
        sum += *y;
    }
    if log {
        let ls = sum.ln();
        for (y, &v) in o.iter_mut().zip(a) {
            *y = v - m - ls;
        }
    } else {
        let inv = F::one() / sum;
        for y in o.iter_mut() {
            *y *= inv;
        }
    }
}

/// `aten._softmax(x, dim, half_to_float)` / `aten.softmax.int` (float inputs).
pub fn softmax(t: &Tensor, dim: i64, half_to_float: bool) -> Result<Tensor> {
    softmax_impl("softmax", t, dim, half_to_float, false)
}

/// `aten._log_softmax(x, dim, half_to_float)`.
pub fn log_softmax(t: &Tensor, dim: i64, half_to_float: bool) -> Result<Tensor> {
    softmax_impl("log_softmax", t, dim, half_to_float, true)
}

/// Total order used by sort/topk: NaN is larger than every number.
fn cmp_nan_last<T: Element>(a: &T, b: &T) -> std::cmp::Ordering {
    match (is_nan(*a), is_nan(*b)) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    }
}

/// `aten.sort.stable` → (values, int64 indices). Always stable; NaN sorts as the largest value.
pub fn sort(t: &Tensor, dim: i64, descending: bool) -> Result<(Tensor, Tensor)> {
    let d = wrap_dim("sort", dim, t.ndim())?;
    with_dtype!(t.dtype(), T => {
        let idx = along_dim::<T, i64>(t, d, |a, o| {
            let mut p: Vec<usize> = (0..a.len()).collect();
            if descending {
                p.sort_by(|&i, &j| cmp_nan_last(&a[j], &a[i]));
            } else {
                p.sort_by(|&i, &j| cmp_nan_last(&a[i], &a[j]));
            }
            for (y, i) in o.iter_mut().zip(p) {
                *y = i as i64;
            }
        })?;
        let vals = crate::kernels::index::gather(t, d as i64, &idx)?;
        Ok((vals, idx))
    })
}

/// `aten.topk(x, k, dim, largest, sorted)` → (values, int64 indices), sorted by value.
pub fn topk(t: &Tensor, k: i64, dim: i64, largest: bool) -> Result<(Tensor, Tensor)> {
    let d = wrap_dim("topk", dim, t.ndim())?;
    let n = t.shape().get(d).copied().unwrap_or(1) as i64;
    if k < 0 || k > n {
        return index_err(
            "topk",
            format!("k ({k}) is out of range for dimension of size {n}"),
        );
    }
    if t.ndim() == 0 {
        // A 0-dim tensor is its own top element, for k = 0 as well (PyTorch returns it then too).
        return Ok((t.clone(), Tensor::scalar(0i64)));
    }
    let (_, idx) = sort(t, d as i64, largest)?;
    let idx = crate::kernels::shape::narrow(&idx, d as i64, 0, k)?;
    let vals = crate::kernels::index::gather(t, d as i64, &idx)?;
    Ok((vals, idx))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: &[f32], s: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), s.to_vec()).unwrap()
    }

    #[test]
    fn topk_of_a_scalar() {
        let x = Tensor::scalar(-8.5f32);
        for k in [0, 1] {
            let (v, i) = topk(&x, k, 0, true).unwrap();
            assert_eq!((v.shape(), v.to_f64_vec()), (&[] as &[usize], vec![-8.5]));
            assert_eq!((i.shape(), i.to_i64_vec()), (&[] as &[usize], vec![0]));
        }
        assert!(topk(&x, 2, 0, true).is_err());
    }

    #[test]
    fn sums() {
        let x = f(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
        assert_eq!(
            sum(&x, Some(&[0]), false, None).unwrap().to_f64_vec(),
            vec![5., 7., 9.]
        );
        let s = sum(&x, Some(&[1]), true, None).unwrap();
        assert_eq!(
            (s.shape().to_vec(), s.to_f64_vec()),
            (vec![2, 1], vec![6., 15.])
        );
        assert_eq!(sum(&x, None, false, None).unwrap().shape(), &[] as &[usize]);
        let b = Tensor::from_slice(&[true, true, false]);
        let s = sum(&b, None, false, None).unwrap();
        assert_eq!((s.dtype(), s.to_i64_vec()), (DType::I64, vec![2]));
        let s = sum(&Tensor::from_slice(&[1i8, 127]), None, false, None).unwrap();
        assert_eq!((s.dtype(), s.to_i64_vec()), (DType::I64, vec![128]));
        assert_eq!(
            sum(&Tensor::zeros(&[0, 3], DType::F32), Some(&[0]), false, None)
                .unwrap()
                .to_f64_vec(),
            vec![0.; 3]
        );
        assert_eq!(
            prod(&x, Some(&[1]), false, None).unwrap().to_f64_vec(),
            vec![6., 120.]
        );
        assert_eq!(
            mean(&x, Some(&[-1]), false, None).unwrap().to_f64_vec(),
            vec![2., 5.]
        );
        assert!(mean(&Tensor::from_slice(&[1i64]), None, false, None).is_err());
        let c = cumsum(&Tensor::from_slice(&[true, true, false]), 0, None).unwrap();
        assert_eq!((c.dtype(), c.to_i64_vec()), (DType::I64, vec![1, 2, 2]));
        assert_eq!(
            cumsum(&x, 0, None).unwrap().to_f64_vec(),
            vec![1., 2., 3., 5., 7., 9.]
        );
    }

    #[test]
    fn extremes_and_args() {
        let x = f(&[1., 3., 3., f32::NAN, 0., 2.], &[2, 3]);
        let m = amax(&x, &[1], false).unwrap().to_f64_vec();
        assert_eq!(m[0], 3.0);
        assert!(m[1].is_nan());
        let (v, i) = max_dim(&x, 1, false).unwrap();
        assert_eq!(i.to_i64_vec(), vec![1, 0]);
        assert!(v.to_f64_vec()[1].is_nan());
        let (_, i) = min_dim(&x, 1, true).unwrap();
        assert_eq!(
            (i.shape().to_vec(), i.to_i64_vec()),
            (vec![2, 1], vec![0, 0])
        );
        assert_eq!(
            argmax(&f(&[1., 5., 5.], &[3]), None, false)
                .unwrap()
                .to_i64_vec(),
            vec![1]
        );
        assert_eq!(
            argmin(&f(&[2., 1., 1.], &[3]), Some(0), false)
                .unwrap()
                .to_i64_vec(),
            vec![1]
        );
        assert!(amax(&Tensor::zeros(&[0], DType::F32), &[0], false).is_err());
    }

    #[test]
    fn stats() {
        let x = f(&[1., 2., 3., 4.], &[4]);
        assert_eq!(
            var(&x, None, 1.0, false).unwrap().to_f64_vec(),
            vec![(5.0f32 / 3.0) as f64]
        );
        assert_eq!(var(&x, None, 0.0, false).unwrap().to_f64_vec(), vec![1.25]);
        let n = norm(&f(&[3., 4.], &[2]), 2.0, None, false).unwrap();
        assert_eq!(n.to_f64_vec(), vec![5.0]);
        let l = logsumexp(&f(&[0., 0.], &[2]), &[0], false)
            .unwrap()
            .to_f64_vec()[0];
        assert!((l - 2f64.ln()).abs() < 1e-6);
        let l = logsumexp(
            &f(&[f32::NEG_INFINITY, f32::NEG_INFINITY], &[2]),
            &[0],
            false,
        )
        .unwrap();
        assert_eq!(l.to_f64_vec(), vec![f64::NEG_INFINITY]);
        assert_eq!(
            any(&f(&[0., 1.], &[2]), None, false).unwrap().to_bool_vec(),
            vec![true]
        );
        assert_eq!(
            all(&f(&[0., 1.], &[2]), None, false).unwrap().to_bool_vec(),
            vec![false]
        );
        let s = softmax(&f(&[0., 0., 1000., 1000.], &[2, 2]), 1, false).unwrap();
        assert_eq!(s.to_f64_vec(), vec![0.5; 4]);
        let s = log_softmax(&f(&[0., 0.], &[2]), 0, false)
            .unwrap()
            .to_f64_vec();
        assert!((s[0] + 2f64.ln()).abs() < 1e-6);
    }

    #[test]
    fn sorting() {
        let x = f(&[3., f32::NAN, 1., 3.], &[4]);
        let (v, i) = sort(&x, 0, false).unwrap();
        assert_eq!(i.to_i64_vec(), vec![2, 0, 3, 1]);
        assert!(v.to_f64_vec()[3].is_nan());
        let (_, i) = sort(&x, 0, true).unwrap();
        assert_eq!(i.to_i64_vec(), vec![1, 0, 3, 2]);
        let (v, i) = topk(&f(&[1., 4., 2., 3.], &[4]), 2, 0, true).unwrap();
        assert_eq!((v.to_f64_vec(), i.to_i64_vec()), (vec![4., 3.], vec![1, 3]));
        assert!(topk(&x, 5, 0, true).is_err());
    }
}
