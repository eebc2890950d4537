//! Pooling: `max_pool{1,2,3}d` (+ indices, ceil_mode, padding, dilation), `avg_pool{1,2,3}d`
//! (ceil_mode, count_include_pad, divisor_override), `adaptive_avg_pool{1,2,3}d` and
//! `adaptive_max_pool{1,2,3}d`, all through one N-d window engine.

use crate::dtype::{DType, Real};
use crate::error::{invalid, shape_err, Result};
use crate::kernels::linalg::float_only;
use crate::tensor::{numel, Tensor};
use crate::with_real;
use rayon::prelude::*;

/// Per spatial dim and output index: the valid input indices of the window, plus the divisor
/// contribution for average pooling.
struct Windows {
    out_sp: Vec<usize>,
    idx: Vec<Vec<Vec<usize>>>,
    div: Vec<Vec<usize>>,
}

fn param(
    op: &'static str,
    name: &str,
    v: &[i64],
    n: usize,
    default: Option<Vec<i64>>,
) -> Result<Vec<i64>> {
    match v.len() {
        0 => match default {
            Some(d) => Ok(d),
            None => invalid(op, format!("{name} must not be empty")),
        },
        1 => Ok(vec![v[0]; n]),
        l if l == n => Ok(v.to_vec()),
        _ => invalid(op, format!("{name} must have 1 or {n} values")),
    }
}

/// PyTorch's `pooling_output_shape`.
fn pool_out(
    op: &'static str,
    size: i64,
    k: i64,
    pad: i64,
    s: i64,
    d: i64,
    ceil: bool,
) -> Result<usize> {
    let num = size + 2 * pad - d * (k - 1) - 1 + if ceil { s - 1 } else { 0 };
    let mut o = num.div_euclid(s) + 1;
    // The last window must start inside the input or the left padding.
    if ceil && (o - 1) * s >= size + pad {
        o -= 1;
    }
    if o <= 0 {
        return shape_err(
            op,
            format!("output size is too small (input {size}, kernel {k}, padding {pad})"),
        );
    }
    Ok(o as usize)
}

#[allow(clippy::too_many_arguments)]
fn sliding(
    op: &'static str,
    in_sp: &[usize],
    k: &[i64],
    s: &[i64],
    p: &[i64],
    d: &[i64],
    ceil: bool,
    count_include_pad: bool,
) -> Result<Windows> {
    let nd = in_sp.len();
    let mut w = Windows {
        out_sp: vec![],
        idx: vec![],
        div: vec![],
    };
    for i in 0..nd {
        if k[i] <= 0 || s[i] <= 0 || d[i] <= 0 || p[i] < 0 {
            return invalid(
                op,
                "kernel, stride and dilation must be positive, padding non-negative",
            );
        }
        if p[i] * 2 > k[i] {
            return invalid(op, "pad should be at most half of effective kernel size");
        }
        let n = in_sp[i] as i64;
        let o = pool_out(op, n, k[i], p[i], s[i], d[i], ceil)?;
        let mut idx = Vec::with_capacity(o);
        let mut div = Vec::with_capacity(o);
        for oi in 0..o as i64 {
            let start = oi * s[i] - p[i];
            let v: Vec<usize> = (0..k[i])
                .map(|j| start + j * d[i])
                .filter(|&x| x >= 0 && x < n)
                .map(|x| x as usize)
                .collect();
            // Average pooling divisor: the window clipped to the padded input (include_pad) or
            // to the input itself.
            let end = (start + k[i]).min(n + p[i]);
            div.push(if count_include_pad {
                (end - start) as usize
            } else {
                v.len()
            });
            idx.push(v);
        }
        w.out_sp.push(o);
        w.idx.push(idx);
        w.div.push(div);
    }
    Ok(w)
}

fn adaptive(in_sp: &[usize], out: &[usize]) -> Windows {
    let mut w = Windows {
        out_sp: out.to_vec(),
        idx: vec![],
        div: vec![],
    };
    for (i, &o) in out.iter().enumerate() {
        let n = in_sp[i];
        let idx: Vec<Vec<usize>> = (0..o)
            .map(|j| {
                let a = j * n / o;
                let b = ((j + 1) * n).div_ceil(o);
                (a..b).collect()
            })
            .collect();
        w.div.push(idx.iter().map(|v| v.len()).collect());
        w.idx.push(idx);
    }
    w
}

/// Run `f(offsets, divisor)` for every output position of every plane; returns values and the
/// flat spatial input index chosen by `f` (for max pooling).
fn run_windows<F: Real>(
    x: &[F],
    planes: usize,
    in_sp: &[usize],
    w: &Windows,
    f: impl Fn(&[F], &[usize], usize) -> (F, usize) + Sync + Send,
) -> (Vec<F>, Vec<i64>) {
    let nd = in_sp.len();
    let l_in = numel(in_sp);
    let l_out = numel(&w.out_sp);
    let mut st = vec![1usize; nd];
    for i in (0..nd.saturating_sub(1)).rev() {
        st[i] = st[i + 1] * in_sp[i + 1];
    }
    let mut vals = vec![F::zero(); planes * l_out];
    let mut inds = vec![0i64; planes * l_out];
    let plane = |(pi, (vo, io)): (usize, (&mut [F], &mut [i64]))| {
        let xp = &x[pi * l_in..(pi + 1) * l_in];
        let mut oidx = vec![0usize; nd];
        // Two buffers swapped per dim, so a window's offsets allocate nothing after the first.
        let mut offs: Vec<usize> = Vec::new();
        let mut prev: Vec<usize> = Vec::new();
        for (v, ix) in vo.iter_mut().zip(io.iter_mut()) {
            offs.clear();
            offs.push(0);
            let mut div = 1usize;
            for i in 0..nd {
                let lst = &w.idx[i][oidx[i]];
                div *= w.div[i][oidx[i]];
                std::mem::swap(&mut offs, &mut prev);
                offs.clear();
                for &o in &prev {
                    for &e in lst {
                        offs.push(o + e * st[i]);
                    }
                }
            }
            let (val, at) = f(xp, &offs, div);
            *v = val;
            *ix = at as i64;
            for i in (0..nd).rev() {
                oidx[i] += 1;
                if oidx[i] < w.out_sp[i] {
                    break;
                }
                oidx[i] = 0;
            }
        }
    };
    run_planes(&mut vals, &mut inds, planes, l_out, plane);
    (vals, inds)
}

/// Runs `plane` on each plane's output values and indices (`l_out` of each), in parallel when
/// there are several planes and enough work to pay for the threads.
fn run_planes<T: Send>(
    vals: &mut [T],
    inds: &mut [i64],
    planes: usize,
    l_out: usize,
    plane: impl Fn((usize, (&mut [T], &mut [i64]))) + Send + Sync,
) {
    if l_out == 0 {
        return;
    }
    if planes > 1 && planes * l_out >= 1 << 14 {
        vals.par_chunks_mut(l_out)
            .zip(inds.par_chunks_mut(l_out))
            .enumerate()
            .for_each(plane);
    } else {
        vals.chunks_mut(l_out)
            .zip(inds.chunks_mut(l_out))
            .enumerate()
            .for_each(plane);
    }
}

/// Split `[N, C, *sp]` / `[C, *sp]` into (planes, spatial, leading dims).
fn planes_of(op: &'static str, t: &Tensor, nd: usize) -> Result<(usize, Vec<usize>, Vec<usize>)> {
    if t.ndim() != nd + 1 && t.ndim() != nd + 2 {
        return shape_err(
            op,
            format!(
                "expected {}-D or {}-D input, got {:?}",
                nd + 1,
                nd + 2,
                t.shape()
            ),
        );
    }
    let lead = t.shape()[..t.ndim() - nd].to_vec();
    let sp = t.shape()[t.ndim() - nd..].to_vec();
    if sp.contains(&0) {
        return shape_err(op, "spatial dims must be non-empty");
    }
    Ok((numel(&lead), sp, lead))
}

fn max_window<F: Real>(xp: &[F], offs: &[usize], _: usize) -> (F, usize) {
    let mut best = F::neg_infinity();
    let mut at = offs.first().copied().unwrap_or(0);
    for &o in offs {
        let v = xp[o];
        if v > best || v.is_nan() {
            best = v;
            at = o;
            if v.is_nan() {
                break;
            }
        }
    }
    (best, at)
}

/// [`run_windows`] with [`max_window`] for 2-d windows, reading the two index lists directly
/// instead of building each window's offsets (the generic engine's cost dominated 2-d max
/// pooling in convolution networks). Same visiting order, so the same values and indices
/// (first maximum, first NaN).
fn max_windows_2d<F: Real>(
    x: &[F],
    planes: usize,
    in_sp: &[usize],
    w: &Windows,
) -> (Vec<F>, Vec<i64>) {
    let (l_in, iw) = (in_sp[0] * in_sp[1], in_sp[1]);
    let l_out = w.out_sp[0] * w.out_sp[1];
    let mut vals = vec![F::zero(); planes * l_out];
    let mut inds = vec![0i64; planes * l_out];
    let plane = |(pi, (vo, io)): (usize, (&mut [F], &mut [i64]))| {
        let xp = &x[pi * l_in..(pi + 1) * l_in];
        let mut o = 0;
        for ys in &w.idx[0] {
            for xs in &w.idx[1] {
                let mut best = F::neg_infinity();
                let mut at = match (ys.first(), xs.first()) {
                    (Some(&y), Some(&x)) => y * iw + x,
                    _ => 0,
                };
                'win: for &y in ys {
                    let row = &xp[y * iw..(y + 1) * iw];
                    for &x in xs {
                        let v = row[x];
                        if v > best || v.is_nan() {
                            best = v;
                            at = y * iw + x;
                            if v.is_nan() {
                                break 'win;
                            }
                        }
                    }
                }
                vo[o] = best;
                io[o] = at as i64;
                o += 1;
            }
        }
    };
    run_planes(&mut vals, &mut inds, planes, l_out, plane);
    (vals, inds)
}

/// `aten.max_pool{1,2,3}d_with_indices(x, kernel, stride, padding, dilation, ceil_mode)` → (values,
/// int64 indices into each plane's flattened spatial input). The rank comes from `kernel.len()`
/// unless `nd` says otherwise (for 1-value kernels).
#[allow(clippy::too_many_arguments)]
pub fn max_pool_with_indices(
    x: &Tensor,
    nd: usize,
    kernel: &[i64],
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    ceil_mode: bool,
) -> Result<(Tensor, Tensor)> {
    const OP: &str = "max_pool";
    if !x.dtype().is_int() {
        float_only(OP, x.dtype())?;
    }
    let k = param(OP, "kernel_size", kernel, nd, None)?;
    let s = param(OP, "stride", stride, nd, Some(k.clone()))?;
    let p = param(OP, "padding", padding, nd, Some(vec![0; nd]))?;
    let d = param(OP, "dilation", dilation, nd, Some(vec![1; nd]))?;
    let (planes, sp, mut shape) = planes_of(OP, x, nd)?;
    let w = sliding(OP, &sp, &k, &s, &p, &d, ceil_mode, true)?;
    shape.extend_from_slice(&w.out_sp);
    if x.dtype().is_int() {
        // Integers are compared in f64 to find each window's index; the values are then taken
        // from the input itself, so they stay exact even past f64's 2^53.
        let xf = x.to_dtype(DType::F64);
        let (_, i) = run_windows(xf.as_slice::<f64>()?, planes, &sp, &w, max_window::<f64>);
        let l_in = sp.iter().product::<usize>();
        let l_out = w.out_sp.iter().product::<usize>();
        let flat = x.with_shape(vec![planes, l_in])?;
        let idx = Tensor::from_parts(i, vec![planes, l_out]);
        let v = crate::kernels::index::gather(&flat, 1, &idx)?;
        return Ok((v.with_shape(shape.clone())?, idx.with_shape(shape)?));
    }
    with_real!(x.dtype(), F => {
        let xf = x.to_dtype(F::DTYPE);
        let (v, i) = if sp.len() == 2 {
            max_windows_2d(xf.as_slice::<F>()?, planes, &sp, &w)
        } else {
            run_windows(xf.as_slice::<F>()?, planes, &sp, &w, max_window::<F>)
        };
        Ok((Tensor::from_parts(v, shape.clone()).to_dtype(x.dtype()), Tensor::from_parts(i, shape)))
    })
}

/// `aten.max_pool{1,2,3}d` (values only).
pub fn max_pool(
    x: &Tensor,
    nd: usize,
    kernel: &[i64],
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    ceil_mode: bool,
) -> Result<Tensor> {
    Ok(max_pool_with_indices(x, nd, kernel, stride, padding, dilation, ceil_mode)?.0)
}

/// `aten.avg_pool{1,2,3}d(x, kernel, stride, padding, ceil_mode, count_include_pad,
/// divisor_override)`.
#[allow(clippy::too_many_arguments)]
pub fn avg_pool(
    x: &Tensor,
    nd: usize,
    kernel: &[i64],
    stride: &[i64],
    padding: &[i64],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<i64>,
) -> Result<Tensor> {
    const OP: &str = "avg_pool";
    // PyTorch's CPU kernel takes int64 (not the narrower integers) and divides truncating.
    if x.dtype() != DType::I64 {
        float_only(OP, x.dtype())?;
    }
    if divisor_override == Some(0) {
        return invalid(OP, "divisor must be not zero");
    }
    let k = param(OP, "kernel_size", kernel, nd, None)?;
    let s = param(OP, "stride", stride, nd, Some(k.clone()))?;
    let p = param(OP, "padding", padding, nd, Some(vec![0; nd]))?;
    let (planes, sp, mut shape) = planes_of(OP, x, nd)?;
    let w = sliding(
        OP,
        &sp,
        &k,
        &s,
        &p,
        &vec![1; nd],
        ceil_mode,
        count_include_pad,
    )?;
    shape.extend_from_slice(&w.out_sp);
    if x.dtype() == DType::I64 {
        // Sums are exact in f64 below 2^53, and so is the truncated quotient.
        let xf = x.to_dtype(DType::F64);
        let (v, _) = run_windows(
            xf.as_slice::<f64>()?,
            planes,
            &sp,
            &w,
            |xp: &[f64], offs: &[usize], div: usize| {
                let sum: f64 = offs.iter().map(|&o| xp[o]).sum();
                let div = divisor_override.map_or(div as f64, |d| d as f64);
                ((sum / div).trunc(), 0)
            },
        );
        return Ok(Tensor::from_parts(v, shape).to_dtype(DType::I64));
    }
    with_real!(x.dtype(), F => {
        let xf = x.to_dtype(F::DTYPE);
        let (v, _) = run_windows(xf.as_slice::<F>()?, planes, &sp, &w, |xp: &[F], offs: &[usize], div: usize| {
            let sum = offs.iter().fold(F::zero(), |a, &o| a + xp[o]);
            let div = divisor_override.map_or(div as f64, |d| d as f64);
            (sum / F::lit(div), 0)
        });
        Ok(Tensor::from_parts(v, shape).to_dtype(x.dtype()))
    })
}

/// `aten._adaptive_avg_pool{1,2,3}d(x, output_size)`.
pub fn adaptive_avg_pool(x: &Tensor, output_size: &[i64]) -> Result<Tensor> {
    const OP: &str = "adaptive_avg_pool";
    float_only(OP, x.dtype())?;
    let nd = output_size.len();
    let (planes, sp, mut shape) = planes_of(OP, x, nd)?;
    if output_size.iter().any(|&o| o < 0) {
        return invalid(OP, "output_size must be non-negative");
    }
    let out: Vec<usize> = output_size.iter().map(|&o| o as usize).collect();
    let w = adaptive(&sp, &out);
    shape.extend_from_slice(&out);
    with_real!(x.dtype(), F => {
        let xf = x.to_dtype(F::DTYPE);
        let (v, _) = run_windows(xf.as_slice::<F>()?, planes, &sp, &w, |xp: &[F], offs: &[usize], div: usize| {
            (offs.iter().fold(F::zero(), |a, &o| a + xp[o]) / F::lit(div as f64), 0)
        });
        Ok(Tensor::from_parts(v, shape).to_dtype(x.dtype()))
    })
}

/// `aten.adaptive_max_pool{1,2,3}d(x, output_size)` → (values, int64 indices).
pub fn adaptive_max_pool(x: &Tensor, output_size: &[i64]) -> Result<(Tensor, Tensor)> {
    const OP: &str = "adaptive_max_pool";
    float_only(OP, x.dtype())?;
    let nd = output_size.len();
    let (planes, sp, mut shape) = planes_of(OP, x, nd)?;
    if output_size.iter().any(|&o| o <= 0) {
        return invalid(OP, "output_size must be positive");
    }
    let out: Vec<usize> = output_size.iter().map(|&o| o as usize).collect();
    let w = adaptive(&sp, &out);
    shape.extend_from_slice(&out);
    with_real!(x.dtype(), F => {
        let xf = x.to_dtype(F::DTYPE);
        let (v, i) = if sp.len() == 2 {
            max_windows_2d(xf.as_slice::<F>()?, planes, &sp, &w)
        } else {
            run_windows(xf.as_slice::<F>()?, planes, &sp, &w, max_window::<F>)
        };
        Ok((Tensor::from_parts(v, shape.clone()).to_dtype(x.dtype()), Tensor::from_parts(i, shape)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: &[f32], s: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), s.to_vec()).unwrap()
    }

    #[test]
    fn max_pool_1d() {
        let x = f(&[1., 3., 2., 5., 4.], &[1, 1, 5]);
        let (v, i) = max_pool_with_indices(&x, 1, &[2], &[], &[], &[], false).unwrap();
        assert_eq!((v.to_f64_vec(), i.to_i64_vec()), (vec![3., 5.], vec![1, 3]));
        let (v, i) = max_pool_with_indices(&x, 1, &[2], &[2], &[0], &[1], true).unwrap();
        assert_eq!(
            (v.to_f64_vec(), i.to_i64_vec()),
            (vec![3., 5., 4.], vec![1, 3, 4])
        );
        let v = max_pool(&x, 1, &[2], &[2], &[1], &[1], false).unwrap();
        assert_eq!(v.to_f64_vec(), vec![1., 3., 5.]);
        let v = max_pool(&x, 1, &[2], &[1], &[0], &[2], false).unwrap();
        assert_eq!(v.to_f64_vec(), vec![2., 5., 4.]);
        let n = max_pool(
            &f(&[1., f32::NAN, 2.], &[1, 3]),
            1,
            &[3],
            &[],
            &[],
            &[],
            false,
        )
        .unwrap();
        assert!(n.to_f64_vec()[0].is_nan());
    }

    #[test]
    fn max_pool_of_integers_is_exact() {
        // 2^53 + 1 is not an f64: the value must still come back exactly, with its index.
        let big = (1i64 << 53) + 1;
        let x = Tensor::from_vec(vec![3i64, big, 1 << 53, -4], vec![1, 4]).unwrap();
        let (v, i) = max_pool_with_indices(&x, 1, &[2], &[2], &[0], &[1], false).unwrap();
        assert_eq!(
            (v.dtype(), v.to_i64_vec()),
            (DType::I64, vec![big, 1 << 53])
        );
        assert_eq!(i.to_i64_vec(), vec![1, 2]);
        // Padding never wins, even against negative values (uint8 too).
        let x = Tensor::from_vec(vec![-5i8, -7, -1], vec![1, 3]).unwrap();
        let v = max_pool(&x, 1, &[2], &[2], &[1], &[1], false).unwrap();
        assert_eq!((v.dtype(), v.to_i64_vec()), (DType::I8, vec![-5, -1]));
        let x = Tensor::from_vec(vec![200u8, 7], vec![1, 2]).unwrap();
        assert_eq!(
            max_pool(&x, 1, &[2], &[], &[], &[], false)
                .unwrap()
                .to_i64_vec(),
            vec![200]
        );
        assert!(max_pool(
            &Tensor::from_slice(&[true, false]),
            1,
            &[1],
            &[],
            &[],
            &[],
            false
        )
        .is_err());
    }

    #[test]
    fn avg_pool_of_int64_truncates() {
        // torch.nn.functional.avg_pool1d on int64 [-7, 2, 3, -1, 5].
        let x = Tensor::from_vec(vec![-7i64, 2, 3, -1, 5], vec![1, 5]).unwrap();
        let a = avg_pool(&x, 1, &[2], &[2], &[0], false, true, None).unwrap();
        assert_eq!((a.dtype(), a.to_i64_vec()), (DType::I64, vec![-2, 1]));
        let a = avg_pool(&x, 1, &[3], &[1], &[1], false, true, None).unwrap();
        assert_eq!(a.to_i64_vec(), vec![-1, 0, 1, 2, 1]);
        let a = avg_pool(&x, 1, &[3], &[1], &[1], false, false, None).unwrap();
        assert_eq!(a.to_i64_vec(), vec![-2, 0, 1, 2, 2]);
        // PyTorch has no avg_pool for the narrower integers.
        let x = Tensor::from_vec(vec![1i32, 2], vec![1, 2]).unwrap();
        assert!(avg_pool(&x, 1, &[2], &[], &[], false, true, None).is_err());
    }

    #[test]
    fn avg_pool_rules() {
        let x = f(&[1., 2., 3., 4., 5.], &[1, 5]);
        assert_eq!(
            avg_pool(&x, 1, &[2], &[], &[], false, true, None)
                .unwrap()
                .to_f64_vec(),
            vec![1.5, 3.5]
        );
        // ceil_mode: last window covers only element 5 (divisor 1 since it is past the padding).
        assert_eq!(
            avg_pool(&x, 1, &[2], &[2], &[0], true, true, None)
                .unwrap()
                .to_f64_vec(),
            vec![1.5, 3.5, 5.0]
        );
        // padding with count_include_pad: first window is [pad, 1] / 2.
        assert_eq!(
            avg_pool(&x, 1, &[2], &[2], &[1], false, true, None)
                .unwrap()
                .to_f64_vec(),
            vec![0.5, 2.5, 4.5]
        );
        assert_eq!(
            avg_pool(&x, 1, &[2], &[2], &[1], false, false, None)
                .unwrap()
                .to_f64_vec(),
            vec![1.0, 2.5, 4.5]
        );
        assert_eq!(
            avg_pool(&x, 1, &[2], &[2], &[0], false, true, Some(1))
                .unwrap()
                .to_f64_vec(),
            vec![3.0, 7.0]
        );
        let a = adaptive_avg_pool(&f(&[1., 2., 3., 4., 5.], &[1, 5]), &[3]).unwrap();
        assert_eq!(a.to_f64_vec(), vec![1.5, 3.0, 4.5]);
        let x2 = f(&[1., 2., 3., 4.], &[1, 1, 2, 2]);
        assert_eq!(
            adaptive_avg_pool(&x2, &[1, 1]).unwrap().to_f64_vec(),
            vec![2.5]
        );
        let (v, i) = adaptive_max_pool(&x2, &[1, 1]).unwrap();
        assert_eq!((v.to_f64_vec(), i.to_i64_vec()), (vec![4.], vec![3]));
    }
}
