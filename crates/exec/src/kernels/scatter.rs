//! Reducing scatters and running extrema: `scatter_reduce.two`, `index_reduce`, `cummax`,
//! `cummin`, and `copy` (the source broadcast into the destination's shape and dtype).
//!
//! The reductions accumulate in f64 and convert back to the destination dtype once, which for
//! every dtype the OpInfo samples use is exact (ints below 2^53) or closer than PyTorch's own
//! f32 accumulation. Integer `mean` divides with floor rounding, as ATen does.

use crate::dtype::DType;
use crate::error::{invalid, shape_err, Result};
use crate::kernels::index::{check_index_shape, scatter_offsets, wrap_index};
use crate::tensor::{contiguous_strides, wrap_dim, Tensor};
use crate::with_dtype;

/// The reduction of `scatter_reduce` / `index_reduce`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    /// `sum`
    Sum,
    /// `prod`
    Prod,
    /// `mean`
    Mean,
    /// `amax`
    Amax,
    /// `amin`
    Amin,
}

impl Reduce {
    /// Parses ATen's reduction name.
    pub fn parse(op: &'static str, s: &str) -> Result<Reduce> {
        Ok(match s {
            "sum" => Reduce::Sum,
            "prod" => Reduce::Prod,
            "mean" => Reduce::Mean,
            "amax" => Reduce::Amax,
            "amin" => Reduce::Amin,
            other => return invalid(op, format!("unknown reduce `{other}`")),
        })
    }

    fn combine(self, a: f64, b: f64) -> f64 {
        match self {
            Reduce::Sum | Reduce::Mean => a + b,
            Reduce::Prod => a * b,
            // NaN propagates, as ATen's max/min reductions do.
            Reduce::Amax if a.is_nan() || b.is_nan() => f64::NAN,
            Reduce::Amin if a.is_nan() || b.is_nan() => f64::NAN,
            Reduce::Amax => a.max(b),
            Reduce::Amin => a.min(b),
        }
    }
}

/// Reduces `src[from]` into `out[to]` for each pair. Positions that receive a value start from
/// `out` (with `include_self`) or from the first value they receive; the others keep `out`.
fn reduce_into(
    out: &mut [f64],
    pairs: &[(usize, usize)],
    src: &[f64],
    how: Reduce,
    include_self: bool,
    int_result: bool,
) {
    let mut count = vec![if include_self { 1usize } else { 0 }; out.len()];
    let mut touched = vec![false; out.len()];
    for &(to, from) in pairs {
        let v = src[from];
        if !include_self && !touched[to] {
            out[to] = v;
        } else {
            out[to] = how.combine(out[to], v);
        }
        touched[to] = true;
        count[to] += 1;
    }
    if how == Reduce::Mean {
        for (o, (&n, &t)) in out.iter_mut().zip(count.iter().zip(&touched)) {
            if t && n > 0 {
                *o /= n as f64;
                if int_result {
                    *o = o.floor();
                }
            }
        }
    }
}

fn as_f64s(t: &Tensor) -> Vec<f64> {
    t.to_f64_vec()
}

fn from_f64s(v: Vec<f64>, shape: Vec<usize>, dtype: DType) -> Result<Tensor> {
    Tensor::from_f64s(&v, shape, dtype)
}

/// `aten.scatter_reduce.two`: `src` values reduced into `self` at `index` along `dim`.
pub fn scatter_reduce(
    t: &Tensor,
    dim: i64,
    index: &Tensor,
    src: &Tensor,
    how: Reduce,
    include_self: bool,
) -> Result<Tensor> {
    let op = "scatter_reduce";
    let d = wrap_dim(op, dim, t.ndim())?;
    check_index_shape(op, t, index, d, Some(src))?;
    let pairs = scatter_offsets(op, t, d, index, src.shape())?;
    let mut out = as_f64s(t);
    let s = as_f64s(&src.to_dtype(t.dtype()));
    reduce_into(
        &mut out,
        &pairs,
        &s,
        how,
        include_self,
        !t.dtype().is_float(),
    );
    from_f64s(out, t.shape().to_vec(), t.dtype())
}

/// The (destination, source) offset pairs of the `index_*` family: element `from` of a source
/// of `src_shape` lands where its `dim` coordinate `i` is replaced by `index[i]`. Checks that
/// `index` is a vector as long as the source along `dim` and that the other dims agree.
fn index_pairs(
    op: &'static str,
    t: &Tensor,
    dim: i64,
    index: &Tensor,
    src_shape: &[usize],
) -> Result<Vec<(usize, usize)>> {
    let d = wrap_dim(op, dim, t.ndim())?;
    if index.ndim() > 1 {
        return shape_err(op, "index must be a vector");
    }
    let idx = index.to_i64_vec();
    let n = src_shape.get(d).copied().unwrap_or(1);
    if idx.len() != n {
        return shape_err(
            op,
            format!(
                "index has {} elements but source has {n} along dim {d}",
                idx.len()
            ),
        );
    }
    if src_shape.len() != t.ndim() {
        return shape_err(op, "source and self must have the same rank");
    }
    for k in (0..t.ndim()).filter(|&k| k != d) {
        if src_shape[k] != t.shape()[k] {
            return shape_err(
                op,
                format!(
                    "source shape {:?} does not match self shape {:?} outside dim {d}",
                    src_shape,
                    t.shape()
                ),
            );
        }
    }
    let size = t.shape().get(d).copied().unwrap_or(1);
    let (ost, sst) = (contiguous_strides(t.shape()), contiguous_strides(src_shape));
    let mut pairs = Vec::with_capacity(src_shape.iter().product::<usize>());
    let total = src_shape.iter().product::<usize>();
    for from in 0..total {
        // Position of `from` in source, with the `dim` coordinate replaced by index[i].
        let mut rem = from;
        let mut to = 0;
        for k in 0..src_shape.len() {
            let c = rem / sst[k];
            rem %= sst[k];
            let tc = if k == d {
                wrap_index(op, idx[c], size)?
            } else {
                c
            };
            to += tc * ost[k];
        }
        pairs.push((to, from));
    }
    if t.ndim() == 0 {
        pairs = (0..total)
            .map(|f| wrap_index(op, idx[f], 1).map(|_| (0, f)))
            .collect::<Result<_>>()?;
    }
    Ok(pairs)
}

/// `aten.index_reduce`: slice `i` of `source` along `dim` reduced into slice `index[i]` of
/// `self`.
pub fn index_reduce(
    t: &Tensor,
    dim: i64,
    index: &Tensor,
    source: &Tensor,
    how: Reduce,
    include_self: bool,
) -> Result<Tensor> {
    let op = "index_reduce";
    if how == Reduce::Sum {
        return invalid(op, "reduce must be one of prod, mean, amax or amin");
    }
    let pairs = index_pairs(op, t, dim, index, source.shape())?;
    let mut out = as_f64s(t);
    let s = as_f64s(&source.to_dtype(t.dtype()));
    reduce_into(
        &mut out,
        &pairs,
        &s,
        how,
        include_self,
        !t.dtype().is_float(),
    );
    from_f64s(out, t.shape().to_vec(), t.dtype())
}

/// `aten.index_add(self, dim, index, source, alpha)`: slice `i` of `source` times `alpha` added
/// to slice `index[i]` of `self` (repeated indices accumulate).
pub fn index_add(
    t: &Tensor,
    dim: i64,
    index: &Tensor,
    source: &Tensor,
    alpha: f64,
) -> Result<Tensor> {
    let pairs = index_pairs("index_add", t, dim, index, source.shape())?;
    let mut out = as_f64s(t);
    let s = as_f64s(&source.to_dtype(t.dtype()));
    for (to, from) in pairs {
        out[to] += alpha * s[from];
    }
    from_f64s(out, t.shape().to_vec(), t.dtype())
}

/// `aten.index_copy(self, dim, index, source)`: slice `i` of `source` copied to slice
/// `index[i]` of `self` (a repeated index keeps the last slice). Exact for every dtype.
pub fn index_copy(t: &Tensor, dim: i64, index: &Tensor, source: &Tensor) -> Result<Tensor> {
    let pairs = index_pairs("index_copy", t, dim, index, source.shape())?;
    let src = source.to_dtype(t.dtype());
    with_dtype!(t.dtype(), T => {
        let mut out = t.as_slice::<T>()?.to_vec();
        let s = src.as_slice::<T>()?;
        for (to, from) in pairs {
            out[to] = s[from];
        }
        Ok(Tensor::from_parts(out, t.shape().to_vec()))
    })
}

/// `aten.index_fill(self, dim, index, value)`: slices `index[i]` of `self` along `dim` set to
/// `value` (cast to `self`'s dtype). Exact for every dtype.
pub fn index_fill(t: &Tensor, dim: i64, index: &Tensor, value: &Tensor) -> Result<Tensor> {
    let op = "index_fill";
    if value.numel() != 1 {
        return shape_err(op, "value must be a 0-dim tensor or a number");
    }
    let d = wrap_dim(op, dim, t.ndim())?;
    // A source as long as the index along `dim`, the shape of `self` elsewhere.
    let mut src_shape = t.shape().to_vec();
    if t.ndim() > 0 {
        src_shape[d] = index.numel();
    }
    let index = if index.ndim() == 0 {
        index.with_shape(vec![1])?
    } else {
        index.clone()
    };
    let pairs = index_pairs(op, t, dim, &index, &src_shape)?;
    let v = value.to_dtype(t.dtype());
    with_dtype!(t.dtype(), T => {
        let mut out = t.as_slice::<T>()?.to_vec();
        let fill = v.as_slice::<T>()?[0];
        for (to, _) in pairs {
            out[to] = fill;
        }
        Ok(Tensor::from_parts(out, t.shape().to_vec()))
    })
}

/// `aten.cummax` (`max = true`) / `aten.cummin`: running extremum along `dim` and the index
/// where it was taken. Ties and NaNs take the latest index; a NaN stays once seen.
pub fn cum_extremum(t: &Tensor, dim: i64, max: bool) -> Result<(Tensor, Tensor)> {
    let op = if max { "cummax" } else { "cummin" };
    let d = wrap_dim(op, dim, t.ndim())?;
    let shape = t.shape().to_vec();
    let n = shape.get(d).copied().unwrap_or(1);
    let inner: usize = shape.iter().skip(d + 1).product();
    let outer = if n == 0 { 0 } else { t.numel() / (n * inner) };
    let mut idx = vec![0i64; t.numel()];
    let values = with_dtype!(t.dtype(), T => {
        let x = t.as_slice::<T>()?;
        let mut out = x.to_vec();
        for o in 0..outer {
            for i in 0..inner {
                let base = o * n * inner + i;
                let (mut best, mut at) = (x[base], 0usize);
                for k in 0..n {
                    let p = base + k * inner;
                    let v = x[p];
                    #[allow(clippy::eq_op)]
                    let v_nan = v != v;
                    #[allow(clippy::eq_op)]
                    let b_nan = best != best;
                    let better = if max { v >= best } else { v <= best };
                    if v_nan || (!b_nan && better) {
                        best = v;
                        at = k;
                    }
                    out[p] = best;
                    idx[p] = at as i64;
                }
            }
        }
        Tensor::from_parts(out, shape.clone())
    });
    Ok((values, Tensor::from_vec(idx, shape)?))
}

/// `aten.copy`: `src` converted to `self`'s dtype and broadcast to its shape.
pub fn copy(t: &Tensor, src: &Tensor) -> Result<Tensor> {
    let s = src.to_dtype(t.dtype());
    if s.shape() == t.shape() {
        return Ok(s);
    }
    crate::kernels::elementwise::broadcast_to(&s, t.shape())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_add_copy_fill() {
        // x = zeros(3, 2); rows 2 and 0 receive source rows 0 and 1 (torch.index_add etc.).
        let x = Tensor::from_vec(vec![1i64, 2, 3, 4, 5, 6], vec![3, 2]).unwrap();
        let idx = Tensor::from_vec(vec![2i64, 0, 2], vec![3]).unwrap();
        let src = Tensor::from_vec(vec![10i64, 20, 30, 40, 50, 60], vec![3, 2]).unwrap();
        // Row 2 gets 2 * (10 + 50), 2 * (20 + 60); row 0 gets 2 * 30, 2 * 40.
        let a = index_add(&x, 0, &idx, &src, 2.0).unwrap();
        assert_eq!(a.to_i64_vec(), vec![61, 82, 3, 4, 125, 166]);
        // A repeated index keeps the last slice.
        let c = index_copy(&x, 0, &idx, &src).unwrap();
        assert_eq!(c.to_i64_vec(), vec![30, 40, 3, 4, 50, 60]);
        // Along dim 1 with a negative index: column -1 is column 1.
        let f = index_fill(&x, 1, &Tensor::from_slice(&[-1i64]), &Tensor::scalar(0i64)).unwrap();
        assert_eq!(f.to_i64_vec(), vec![1, 0, 3, 0, 5, 0]);
        // The fill value is cast to self's dtype; a 0-dim index works too.
        let fx = Tensor::from_vec(vec![1.5f32, 2.5], vec![2]).unwrap();
        let f = index_fill(&fx, 0, &Tensor::scalar(1i64), &Tensor::scalar(7i64)).unwrap();
        assert_eq!((f.dtype(), f.to_f64_vec()), (DType::F32, vec![1.5, 7.0]));
        // u64 values past 2^53 are copied exactly.
        let big = Tensor::from_vec(vec![u64::MAX, 1], vec![2]).unwrap();
        let z = Tensor::from_vec(vec![0u64, 0], vec![2]).unwrap();
        let c = index_copy(&z, 0, &Tensor::from_slice(&[1i64, 0]), &big).unwrap();
        assert_eq!(c.as_slice::<u64>().unwrap(), &[1, u64::MAX]);
        assert!(index_copy(&x, 0, &Tensor::from_slice(&[5i64, 0, 1]), &src).is_err());
        assert!(index_add(&x, 0, &Tensor::from_slice(&[0i64]), &src, 1.0).is_err());
    }

    /// Equal to f32 rounding (the results are f32 tensors).
    fn assert_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1e-6 * w.abs(), "{got:?} vs {want:?}");
        }
    }

    fn t(v: Vec<f32>, shape: Vec<usize>) -> Tensor {
        Tensor::from_vec(v, shape).unwrap()
    }

    #[test]
    fn scatter_reduce_modes() {
        // self = [1, 2, 3, 4], index = [0, 1, 0, 1, 2, 1], src = [1..=6]
        let x = t(vec![1., 2., 3., 4.], vec![4]);
        let idx = Tensor::from_vec(vec![0i64, 1, 0, 1, 2, 1], vec![6]).unwrap();
        let src = t(vec![1., 2., 3., 4., 5., 6.], vec![6]);
        let run = |how, inc| {
            scatter_reduce(&x, 0, &idx, &src, how, inc)
                .unwrap()
                .to_f64_vec()
        };
        assert_eq!(run(Reduce::Sum, true), vec![5., 14., 8., 4.]);
        assert_eq!(run(Reduce::Sum, false), vec![4., 12., 5., 4.]);
        assert_eq!(run(Reduce::Prod, true), vec![3., 96., 15., 4.]);
        assert_close(&run(Reduce::Mean, true), &[5. / 3., 3.5, 4., 4.]);
        assert_eq!(run(Reduce::Mean, false), vec![2., 4., 5., 4.]);
        assert_eq!(run(Reduce::Amax, true), vec![3., 6., 5., 4.]);
        assert_eq!(run(Reduce::Amin, false), vec![1., 2., 5., 4.]);
    }

    #[test]
    fn integer_mean_floors() {
        let x = Tensor::from_vec(vec![0i32, 0], vec![2]).unwrap();
        let idx = Tensor::from_vec(vec![0i64, 0, 1], vec![3]).unwrap();
        let src = Tensor::from_vec(vec![1i32, 2, -3], vec![3]).unwrap();
        let y = scatter_reduce(&x, 0, &idx, &src, Reduce::Mean, false).unwrap();
        assert_eq!(y.dtype(), DType::I32);
        // mean(1, 2) = 1.5 -> 1; mean(-3) = -3.
        assert_eq!(y.to_i64_vec(), vec![1, -3]);
    }

    #[test]
    fn index_reduce_rows() {
        // self = ones(3, 2); rows 0 and 2 of source go to row 0, row 1 to row 2.
        let x = t(vec![1.; 6], vec![3, 2]);
        let src = t(vec![2., 3., 4., 5., 6., 7.], vec![3, 2]);
        let idx = Tensor::from_vec(vec![0i64, 2, 0], vec![3]).unwrap();
        let y = index_reduce(&x, 0, &idx, &src, Reduce::Prod, true).unwrap();
        assert_eq!(y.to_f64_vec(), vec![12., 21., 1., 1., 4., 5.]);
        let y = index_reduce(&x, 0, &idx, &src, Reduce::Amax, false).unwrap();
        assert_eq!(y.to_f64_vec(), vec![6., 7., 1., 1., 4., 5.]);
        let y = index_reduce(&x, 0, &idx, &src, Reduce::Mean, true).unwrap();
        assert_close(&y.to_f64_vec(), &[3., 11. / 3., 1., 1., 2.5, 3.]);
        assert!(index_reduce(&x, 0, &idx, &src, Reduce::Sum, true).is_err());
    }

    #[test]
    fn cummax_takes_the_latest_tie_and_keeps_nan() {
        let x = t(vec![1., 3., 3., 2., f32::NAN, 5.], vec![6]);
        let (v, i) = cum_extremum(&x, 0, true).unwrap();
        let v = v.to_f64_vec();
        assert_eq!(&v[..4], &[1., 3., 3., 3.]);
        assert!(v[4].is_nan() && v[5].is_nan());
        assert_eq!(i.to_i64_vec(), vec![0, 1, 2, 2, 4, 4]);
        let x = t(vec![2., 1., 4., 1.], vec![2, 2]);
        let (v, i) = cum_extremum(&x, 0, false).unwrap();
        assert_eq!(v.to_f64_vec(), vec![2., 1., 2., 1.]);
        assert_eq!(i.to_i64_vec(), vec![0, 0, 0, 1]);
    }

    #[test]
    fn copy_broadcasts_and_casts() {
        let x = Tensor::from_vec(vec![0i64; 4], vec![2, 2]).unwrap();
        let y = copy(&x, &t(vec![1.5, 2.5], vec![2])).unwrap();
        assert_eq!(y.dtype(), DType::I64);
        assert_eq!(y.to_i64_vec(), vec![1, 2, 1, 2]);
        assert!(copy(&x, &t(vec![1., 2., 3.], vec![3])).is_err());
    }
}
