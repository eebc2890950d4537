//! Histograms: `histc`, `histogram` (a bin count or bin edges), `histogramdd` and its parts
//! (`_histogramdd_bin_edges`, `_histogramdd_from_bin_cts`, `_histogramdd_from_bin_tensors`).
//!
//! As ATen's CPU kernels: the input `[.., N]` is `M` points in `N` dims; the outer edges come
//! from `range` or the data's extremes (an empty range widens by 0.5 each way, or by 1 for
//! `histc`); edges are `linspace` in the input dtype; a point outside the edges or NaN is
//! skipped; each bin holds its left edge, the last also its right edge. `histc` picks a bin
//! by `(x - left) * bins / (right - left)` truncated (computed in the input dtype), the
//! others by that position corrected against the edges or by binary search. `density`
//! divides by the total weight and the bin volume. Float inputs only.

use crate::dtype::DType;
use crate::error::{dtype_err, invalid, shape_err, Result};
use crate::kernels::create::linspace;
use crate::tensor::{Scalar, Tensor};
use crate::with_real;

/// How a point's coordinate is mapped to its bin.
#[derive(Clone, Copy, PartialEq)]
enum Select {
    /// `histc`: linear position, truncated.
    Linear,
    /// Linear position, moved to the neighbouring bin where the edges say so.
    LinearLocal,
    /// Binary search over arbitrary increasing edges.
    Search,
}

fn float_input(op: &'static str, t: &Tensor) -> Result<()> {
    if t.dtype().is_float() {
        Ok(())
    } else {
        dtype_err(op, t.dtype())
    }
}

/// The bin of `x` among `edges` (`None` when outside or NaN).
fn bin_of(x: f64, edges: &[f64], how: Select, lin: impl Fn(f64) -> f64) -> Option<usize> {
    let n = edges.len();
    let (lo, hi) = (edges[0], edges[n - 1]);
    if !(x >= lo && x <= hi) {
        return None;
    }
    let upper = |from: usize, to: usize| from + edges[from..to].partition_point(|&e| e <= x);
    let mut pos = match how {
        Select::Search => upper(0, n) as i64 - 1,
        Select::Linear => lin(x) as i64,
        Select::LinearLocal => {
            let p = lin(x) as i64;
            let (a, b) = ((p - 1).max(0) as usize, ((p + 2).max(0) as usize).min(n));
            upper(a.min(b), b) as i64 - 1
        }
    };
    if pos == n as i64 - 1 {
        pos -= 1;
    }
    (pos >= 0 && (pos as usize) < n - 1).then_some(pos as usize)
}

/// The histogram of `points` (`M x N`, row-major, in the input dtype's values) over the per-dim
/// `edges`, in dtype `dt`; `lin` positions are computed in `dt` as ATen does.
fn hist_dd(
    points: &[f64],
    n_dims: usize,
    edges: &[Vec<f64>],
    weight: Option<&[f64]>,
    density: bool,
    how: Select,
    dt: DType,
) -> Result<Tensor> {
    let bins: Vec<usize> = edges.iter().map(|e| e.len() - 1).collect();
    let total: usize = bins.iter().product();
    let mut hist = vec![0f64; total];
    let m = points.len().checked_div(n_dims).unwrap_or(0);
    'points: for i in 0..m {
        let mut flat = 0usize;
        for (d, e) in edges.iter().enumerate() {
            let x = points[i * n_dims + d];
            let (lo, hi) = (e[0], e[e.len() - 1]);
            let nb = (e.len() - 1) as f64;
            let lin = |x: f64| {
                with_real!(dt, F => {
                    let (x, lo, hi, nb) = (F::lit(x), F::lit(lo), F::lit(hi), F::lit(nb));
                    ((x - lo) * nb / (hi - lo)).to_f64()
                })
            };
            let Some(b) = bin_of(x, e, how, lin) else {
                continue 'points;
            };
            flat = flat * bins[d] + b;
        }
        hist[flat] += weight.map_or(1.0, |w| w[i]);
    }
    if density {
        let sum: f64 = hist.iter().sum();
        for h in hist.iter_mut() {
            *h /= sum;
        }
        // Divide by each bin's length along every dim.
        let mut stride = total;
        for (d, e) in edges.iter().enumerate() {
            stride /= bins[d];
            for (j, h) in hist.iter_mut().enumerate() {
                let b = (j / stride) % bins[d];
                *h /= e[b + 1] - e[b];
            }
        }
    }
    Tensor::from_f64s(&hist, bins, dt)
}

/// `linspace(lo, hi, bins + 1)` in `dt`, as f64 values.
fn edges_of(lo: f64, hi: f64, bins: i64, dt: DType) -> Result<Vec<f64>> {
    Ok(linspace(Scalar::Float(lo), Scalar::Float(hi), bins + 1, Some(dt))?.to_f64_vec())
}

/// `aten.histc(self, bins, min, max)`.
pub fn histc(t: &Tensor, bins: i64, min: f64, max: f64) -> Result<Tensor> {
    const OP: &str = "histc";
    float_input(OP, t)?;
    if bins <= 0 {
        return invalid(OP, format!("bins must be > 0, got {bins}"));
    }
    let v = t.to_f64_vec();
    let (mut lo, mut hi) = (min, max);
    if lo == hi && !v.is_empty() {
        lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if v.iter().any(|x| x.is_nan()) {
            (lo, hi) = (f64::NAN, f64::NAN);
        }
    }
    if lo == hi {
        lo -= 1.0;
        hi += 1.0;
    }
    if !lo.is_finite() || !hi.is_finite() {
        return invalid(OP, format!("range of [{lo}, {hi}] is not finite"));
    }
    if lo >= hi {
        return invalid(OP, "max must be larger than min");
    }
    let edges = edges_of(lo, hi, bins, t.dtype())?;
    hist_dd(&v, 1, &[edges], None, false, Select::Linear, t.dtype())
}

/// The points of a `histogramdd` input `[.., N]` (`N` from the last dim) and the weights.
fn points_of(
    op: &'static str,
    t: &Tensor,
    weight: Option<&Tensor>,
) -> Result<(Vec<f64>, usize, Option<Vec<f64>>)> {
    float_input(op, t)?;
    if t.ndim() < 2 {
        return shape_err(op, "input tensor should have at least 2 dimensions");
    }
    let n = t.shape()[t.ndim() - 1];
    let m: usize = t.shape()[..t.ndim() - 1].iter().product();
    let w = match weight {
        None => None,
        Some(w) => {
            if w.dtype() != t.dtype() {
                return invalid(op, "weight must have the input's dtype");
            }
            if w.numel() != m || (w.ndim() > 0 && w.shape() != &t.shape()[..t.ndim() - 1]) {
                return shape_err(
                    op,
                    format!(
                        "weight {:?} must have the input's shape {:?} without its last dim",
                        w.shape(),
                        t.shape()
                    ),
                );
            }
            Some(w.to_f64_vec())
        }
    };
    Ok((t.to_f64_vec(), n, w))
}

/// The outer edges per dim: `range` pairs, or the data's extremes; an empty range widens by
/// 0.5 on each side.
fn outer_edges(
    op: &'static str,
    points: &[f64],
    n: usize,
    range: Option<&[f64]>,
) -> Result<Vec<(f64, f64)>> {
    let mut out = vec![(0.0, 1.0); n];
    if let Some(r) = range {
        if r.len() != 2 * n {
            return invalid(
                op,
                format!("range should have {} elements, got {}", 2 * n, r.len()),
            );
        }
        for (d, o) in out.iter_mut().enumerate() {
            *o = (r[2 * d], r[2 * d + 1]);
        }
    } else if !points.is_empty() && n > 0 {
        for (d, o) in out.iter_mut().enumerate() {
            let col = points.iter().skip(d).step_by(n).copied();
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for x in col {
                if x.is_nan() {
                    (lo, hi) = (f64::NAN, f64::NAN);
                    break;
                }
                lo = lo.min(x);
                hi = hi.max(x);
            }
            *o = (lo, hi);
        }
    }
    for (d, o) in out.iter_mut().enumerate() {
        let (lo, hi) = *o;
        if !lo.is_finite() || !hi.is_finite() {
            return invalid(
                op,
                format!("dimension {d}'s range [{lo}, {hi}] is not finite"),
            );
        }
        if lo > hi {
            return invalid(op, format!("min should not exceed max, got {lo} > {hi}"));
        }
        if lo == hi {
            *o = (lo - 0.5, hi + 0.5);
        }
    }
    Ok(out)
}

/// `_histogramdd_bin_edges`: the `N` edge tensors for `bins` equal bins per dim.
pub fn histogramdd_bin_edges(
    t: &Tensor,
    bins: &[i64],
    range: Option<&[f64]>,
) -> Result<Vec<Tensor>> {
    const OP: &str = "histogramdd";
    let (p, n, _) = points_of(OP, t, None)?;
    let bins = bins_per_dim(OP, bins, n)?;
    let outer = outer_edges(OP, &p, n, range)?;
    outer
        .iter()
        .zip(&bins)
        .map(|(&(lo, hi), &b)| {
            linspace(Scalar::Float(lo), Scalar::Float(hi), b + 1, Some(t.dtype()))
        })
        .collect()
}

fn bins_per_dim(op: &'static str, bins: &[i64], n: usize) -> Result<Vec<i64>> {
    let b = bins.to_vec();
    if b.len() != n {
        return invalid(
            op,
            format!(
                "expected {n} bin counts for a {n}-dimensional histogram, got {}",
                b.len()
            ),
        );
    }
    if let Some(bad) = b.iter().find(|&&x| x <= 0) {
        return invalid(op, format!("bins must be > 0, got {bad}"));
    }
    Ok(b)
}

/// `histogramdd(self, bins: int[])` → the histogram and its edge tensors.
pub fn histogramdd(
    t: &Tensor,
    bins: &[i64],
    range: Option<&[f64]>,
    weight: Option<&Tensor>,
    density: bool,
) -> Result<(Tensor, Vec<Tensor>)> {
    const OP: &str = "histogramdd";
    let (p, n, w) = points_of(OP, t, weight)?;
    let edges = histogramdd_bin_edges(t, bins, range)?;
    let ev: Vec<Vec<f64>> = edges.iter().map(|e| e.to_f64_vec()).collect();
    let h = hist_dd(
        &p,
        n,
        &ev,
        w.as_deref(),
        density,
        Select::LinearLocal,
        t.dtype(),
    )?;
    Ok((h, edges))
}

/// `histogramdd(self, bins: Tensor[])` (`_histogramdd_from_bin_tensors`): arbitrary
/// increasing edges per dim.
pub fn histogramdd_from_edges(
    t: &Tensor,
    edges: &[&Tensor],
    weight: Option<&Tensor>,
    density: bool,
) -> Result<Tensor> {
    const OP: &str = "histogramdd";
    let (p, n, w) = points_of(OP, t, weight)?;
    if edges.len() != n {
        return invalid(
            OP,
            format!("expected {n} sequences of bin edges, got {}", edges.len()),
        );
    }
    let mut ev = Vec::with_capacity(n);
    for e in edges {
        if e.dtype() != t.dtype() || e.ndim() != 1 || e.numel() == 0 {
            return invalid(
                OP,
                "bin edges must be non-empty 1-D tensors of the input's dtype",
            );
        }
        ev.push(e.to_f64_vec());
    }
    hist_dd(&p, n, &ev, w.as_deref(), density, Select::Search, t.dtype())
}

/// `histogram(self, bins: int)` → `(hist, bin_edges)`: the 1-D case of `histogramdd` over every
/// element.
pub fn histogram_bin_ct(
    t: &Tensor,
    bins: i64,
    range: Option<&[f64]>,
    weight: Option<&Tensor>,
    density: bool,
) -> Result<(Tensor, Tensor)> {
    let (x, w) = flat_1d(t, weight)?;
    let (h, mut e) = histogramdd(&x, &[bins], range, w.as_ref(), density)?;
    Ok((h, e.remove(0)))
}

/// `histogram(self, bins: Tensor)` → `(hist, bin_edges)` with the given edges.
pub fn histogram_bins_tensor(
    t: &Tensor,
    bins: &Tensor,
    weight: Option<&Tensor>,
    density: bool,
) -> Result<(Tensor, Tensor)> {
    let (x, w) = flat_1d(t, weight)?;
    let h = histogramdd_from_edges(&x, &[bins], w.as_ref(), density)?;
    Ok((h, bins.clone()))
}

/// The input as `[numel, 1]` points and the weights as `[numel]`.
fn flat_1d(t: &Tensor, weight: Option<&Tensor>) -> Result<(Tensor, Option<Tensor>)> {
    let x = t.with_shape(vec![t.numel(), 1])?;
    let w = match weight {
        None => None,
        Some(w) => {
            if w.shape() != t.shape() {
                return shape_err(
                    "histogram",
                    format!(
                        "weight {:?} must have the input's shape {:?}",
                        w.shape(),
                        t.shape()
                    ),
                );
            }
            Some(w.with_shape(vec![w.numel()])?)
        }
    };
    Ok((x, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(v: &[f32]) -> Tensor {
        Tensor::from_vec(v.to_vec(), vec![v.len()]).unwrap()
    }

    #[test]
    fn histc_counts_with_the_right_edge_in_the_last_bin() {
        // torch.histc(torch.tensor([1., 2, 1, 4]), bins=4, min=0, max=4) = [0, 2, 1, 1]
        let h = histc(&f32s(&[1., 2., 1., 4.]), 4, 0.0, 4.0).unwrap();
        assert_eq!(h.to_f64_vec(), [0., 2., 1., 1.]);
        // min == max: the data's extremes [1, 4], 3 bins (torch.histc(..., bins=3) = [1, 1, 2]).
        let h = histc(&f32s(&[1., 2., 3., 4.]), 3, 0.0, 0.0).unwrap();
        assert_eq!(h.to_f64_vec(), [1., 1., 2.]);
        // One distinct value widens to [v - 1, v + 1].
        let h = histc(&f32s(&[2., 2.]), 2, 0.0, 0.0).unwrap();
        assert_eq!(h.to_f64_vec(), [0., 2.]);
        assert!(histc(&f32s(&[f32::NAN]), 2, 0.0, 0.0).is_err());
        let i = Tensor::from_vec(vec![1i64], vec![1]).unwrap();
        assert!(histc(&i, 2, 0.0, 1.0).is_err());
    }

    #[test]
    fn histogram_density_and_weights() {
        // torch.histogram(torch.tensor([1., 2, 1]), bins=4, range=(0., 3.),
        //                 weight=torch.tensor([1., 2, 4])) = ([0, 5, 2, 0], [0, .75, 1.5, 2.25, 3])
        let x = f32s(&[1., 2., 1.]);
        let w = f32s(&[1., 2., 4.]);
        let (h, e) = histogram_bin_ct(&x, 4, Some(&[0.0, 3.0]), Some(&w), false).unwrap();
        assert_eq!(h.to_f64_vec(), [0., 5., 2., 0.]);
        assert_eq!(e.to_f64_vec(), [0., 0.75, 1.5, 2.25, 3.]);
        // density=True (PyTorch 2.11): [0, 5, 2, 0] / 7 / 0.75
        let (h, _) = histogram_bin_ct(&x, 4, Some(&[0.0, 3.0]), Some(&w), true).unwrap();
        let want = [0.0, 0.9523809552192688, 0.380952388048172, 0.0];
        for (a, b) in h.to_f64_vec().iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        // Given edges, binary search: [0, 1) [1, 3]; 4 is outside (PyTorch: [1, 2]).
        let (h, _) =
            histogram_bins_tensor(&f32s(&[0.5, 1., 3., 4.]), &f32s(&[0., 1., 3.]), None, false)
                .unwrap();
        assert_eq!(h.to_f64_vec(), [1., 2.]);
    }

    #[test]
    fn histogramdd_bins_points_per_dim() {
        // Points (0, 0), (1, 1), (1, 0) on a 2x2 grid over their own extremes [0, 1]²:
        // torch.histogramdd(torch.tensor([[0., 0], [1, 1], [1, 0]]), bins=[2, 2]).hist
        // = [[1, 0], [1, 1]]
        let x = Tensor::from_vec(vec![0f32, 0., 1., 1., 1., 0.], vec![3, 2]).unwrap();
        let (h, e) = histogramdd(&x, &[2, 2], None, None, false).unwrap();
        assert_eq!(h.shape(), [2, 2]);
        assert_eq!(h.to_f64_vec(), [1., 0., 1., 1.]);
        assert_eq!(e[0].to_f64_vec(), [0., 0.5, 1.]);
        assert!(histogramdd(&x, &[2], None, None, false).is_err());
        assert!(histogramdd(&x, &[2, 2, 2], None, None, false).is_err());
    }
}
