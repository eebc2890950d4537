//! Resampling: `upsample_nearest{1,2,3}d` (nearest and nearest-exact), `upsample_linear1d`,
//! `upsample_bilinear2d`, `upsample_trilinear3d`, `upsample_bicubic2d`, with `align_corners` and
//! scale factors. All modes are separable, so the N-d op applies a 1-d resampling per spatial
//! dim (nearest uses index_select and so works for every dtype).

use crate::dtype::Real;
use crate::error::{invalid, shape_err, Result};
use crate::kernels::index::index_select;
use crate::kernels::linalg::float_only;
use crate::tensor::{numel, Tensor};
use crate::with_real;

/// Interpolation mode, as `torch.nn.functional.interpolate` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterpMode {
    /// `"nearest"` (legacy: `floor(dst * scale)`).
    Nearest,
    /// `"nearest-exact"`: `floor((dst + 0.5) * scale)`.
    NearestExact,
    /// `"linear"` / `"bilinear"` / `"trilinear"`.
    Linear,
    /// `"bicubic"` (A = -0.75).
    Cubic,
}

/// PyTorch's `area_pixel_compute_scale`.
fn compute_scale(input: usize, output: usize, align_corners: bool, scale: Option<f64>) -> f64 {
    if align_corners {
        if output > 1 {
            (input as f64 - 1.0) / (output as f64 - 1.0)
        } else {
            0.0
        }
    } else {
        match scale {
            Some(s) if s > 0.0 => 1.0 / s,
            _ => input as f64 / output as f64,
        }
    }
}

/// Weights for one dim: for each output index, (input index, weight) taps.
fn taps(
    mode: InterpMode,
    input: usize,
    output: usize,
    align_corners: bool,
    scale: Option<f64>,
) -> Vec<Vec<(usize, f64)>> {
    let last = input as i64 - 1;
    let clampi = |i: i64| i.clamp(0, last) as usize;
    match mode {
        InterpMode::Nearest | InterpMode::NearestExact => {
            let sc = compute_scale(input, output, false, scale);
            let off = if mode == InterpMode::NearestExact {
                0.5
            } else {
                0.0
            };
            (0..output)
                .map(|o| vec![(clampi(((o as f64 + off) * sc).floor() as i64), 1.0)])
                .collect()
        }
        InterpMode::Linear => {
            let sc = compute_scale(input, output, align_corners, scale);
            (0..output)
                .map(|o| {
                    let src = if align_corners {
                        sc * o as f64
                    } else {
                        (sc * (o as f64 + 0.5) - 0.5).max(0.0)
                    };
                    let i0 = (src.floor() as i64).min(last);
                    let i1 = (i0 + 1).min(last);
                    let l1 = src - i0 as f64;
                    vec![(i0 as usize, 1.0 - l1), (i1 as usize, l1)]
                })
                .collect()
        }
        InterpMode::Cubic => {
            let sc = compute_scale(input, output, align_corners, scale);
            const A: f64 = -0.75;
            let cc1 = |x: f64| ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
            let cc2 = |x: f64| ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
            (0..output)
                .map(|o| {
                    let src = if align_corners {
                        sc * o as f64
                    } else {
                        sc * (o as f64 + 0.5) - 0.5
                    };
                    let fl = src.floor();
                    let t = src - fl;
                    let i = fl as i64;
                    let w = [cc2(t + 1.0), cc1(t), cc1(1.0 - t), cc2(2.0 - t)];
                    (0..4).map(|k| (clampi(i - 1 + k as i64), w[k])).collect()
                })
                .collect()
        }
    }
}

/// Resample dim `d` of `[outer, n, inner]`-shaped data with the given taps.
fn resample_dim<F: Real>(
    x: &[F],
    outer: usize,
    n: usize,
    inner: usize,
    taps: &[Vec<(usize, f64)>],
) -> Vec<F> {
    let m = taps.len();
    let mut out = vec![F::zero(); outer * m * inner];
    let tf: Vec<Vec<(usize, F)>> = taps
        .iter()
        .map(|t| t.iter().map(|&(i, w)| (i, F::lit(w))).collect())
        .collect();
    for o in 0..outer {
        for (j, tj) in tf.iter().enumerate() {
            let dst = &mut out[(o * m + j) * inner..(o * m + j + 1) * inner];
            for &(i, w) in tj {
                let src = &x[(o * n + i) * inner..(o * n + i + 1) * inner];
                for (y, &v) in dst.iter_mut().zip(src) {
                    *y += w * v;
                }
            }
        }
    }
    out
}

/// N-d interpolation of the trailing `size.len()` dims of `x` (`[N, C, *spatial]`). Give either
/// `size` or `scale_factors` (then the output size is `floor(in * scale)` and the scale is used for
/// the coordinate mapping, like `recompute_scale_factor=False`).
pub fn interpolate(
    x: &Tensor,
    size: Option<&[i64]>,
    scale_factors: Option<&[f64]>,
    mode: InterpMode,
    align_corners: bool,
) -> Result<Tensor> {
    const OP: &str = "upsample";
    let nd = match (size, scale_factors) {
        (Some(s), _) => s.len(),
        (None, Some(s)) => s.len(),
        (None, None) => return invalid(OP, "either output_size or scale_factors must be given"),
    };
    if nd == 0 || x.ndim() < nd + 1 {
        return shape_err(
            OP,
            format!(
                "input {:?} has too few dims for {nd}-d interpolation",
                x.shape()
            ),
        );
    }
    let sp0 = x.ndim() - nd;
    let in_sp = &x.shape()[sp0..];
    let out_sp: Vec<usize> = match size {
        Some(s) => {
            if s.iter().any(|&v| v <= 0) {
                return invalid(OP, "output size must be positive");
            }
            s.iter().map(|&v| v as usize).collect()
        }
        None => {
            let sf = scale_factors.expect("checked");
            in_sp
                .iter()
                .zip(sf)
                .map(|(&i, &s)| (i as f64 * s).floor() as usize)
                .collect()
        }
    };
    let out: Vec<i64> = out_sp.iter().map(|&v| v as i64).collect();
    interpolate_with(x, &out, scale_factors, mode, align_corners)
}

/// `aten.upsample_nearest{1,2,3}d(x, output_size, scales)`.
pub fn upsample_nearest(x: &Tensor, output_size: &[i64], scales: Option<&[f64]>) -> Result<Tensor> {
    interpolate_with(x, output_size, scales, InterpMode::Nearest, false)
}

/// `aten._upsample_nearest_exact{1,2,3}d(x, output_size, scales)`.
pub fn upsample_nearest_exact(
    x: &Tensor,
    output_size: &[i64],
    scales: Option<&[f64]>,
) -> Result<Tensor> {
    interpolate_with(x, output_size, scales, InterpMode::NearestExact, false)
}

/// `aten.upsample_linear1d` / `upsample_bilinear2d` / `upsample_trilinear3d(x, output_size,
/// align_corners, scales)`.
pub fn upsample_linear(
    x: &Tensor,
    output_size: &[i64],
    align_corners: bool,
    scales: Option<&[f64]>,
) -> Result<Tensor> {
    interpolate_with(x, output_size, scales, InterpMode::Linear, align_corners)
}

/// `aten.upsample_bicubic2d(x, output_size, align_corners, scales)`.
pub fn upsample_bicubic2d(
    x: &Tensor,
    output_size: &[i64],
    align_corners: bool,
    scales: Option<&[f64]>,
) -> Result<Tensor> {
    interpolate_with(x, output_size, scales, InterpMode::Cubic, align_corners)
}

/// Explicit output size plus optional scales used only for the coordinate mapping.
fn interpolate_with(
    x: &Tensor,
    output_size: &[i64],
    scales: Option<&[f64]>,
    mode: InterpMode,
    align_corners: bool,
) -> Result<Tensor> {
    let nd = output_size.len();
    if nd == 0 || x.ndim() < nd + 1 {
        return shape_err("upsample", "output_size does not fit the input rank");
    }
    if scales.is_some_and(|s| s.len() != nd) {
        return invalid("upsample", "scales must have one value per spatial dim");
    }
    let sp0 = x.ndim() - nd;
    if output_size.iter().any(|&v| v <= 0) || x.shape()[sp0..].contains(&0) {
        return shape_err("upsample", "input and output sizes must be non-zero");
    }
    let out_sp: Vec<usize> = output_size.iter().map(|&v| v as usize).collect();
    let in_sp = x.shape()[sp0..].to_vec();
    if matches!(mode, InterpMode::Nearest | InterpMode::NearestExact) {
        let mut r = x.clone();
        for i in 0..nd {
            let t = taps(mode, in_sp[i], out_sp[i], false, scales.map(|s| s[i]));
            let idx: Vec<i64> = t.iter().map(|v| v[0].0 as i64).collect();
            r = index_select(&r, (sp0 + i) as i64, &Tensor::from_slice(&idx))?;
        }
        return Ok(r);
    }
    float_only("upsample", x.dtype())?;
    with_real!(x.dtype(), F => {
        let mut shape = x.shape().to_vec();
        let mut data: Vec<F> = x.to_dtype(F::DTYPE).as_slice::<F>()?.to_vec();
        for i in 0..nd {
            let d = sp0 + i;
            let t = taps(mode, in_sp[i], out_sp[i], align_corners, scales.map(|s| s[i]));
            data = resample_dim(&data, numel(&shape[..d]), shape[d], numel(&shape[d + 1..]), &t);
            shape[d] = out_sp[i];
        }
        Ok(Tensor::from_parts(data, shape).to_dtype(x.dtype()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: &[f32], s: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), s.to_vec()).unwrap()
    }

    #[test]
    fn modes_1d() {
        let x = f(&[1., 2., 3.], &[1, 1, 3]);
        let n = upsample_nearest(&x, &[6], None).unwrap();
        assert_eq!(n.to_f64_vec(), vec![1., 1., 2., 2., 3., 3.]);
        let n = upsample_nearest(&x, &[2], None).unwrap();
        assert_eq!(n.to_f64_vec(), vec![1., 2.]);
        let n = upsample_nearest_exact(&x, &[2], None).unwrap();
        assert_eq!(n.to_f64_vec(), vec![1., 3.]);
        let l = upsample_linear(&x, &[5], true, None).unwrap();
        assert_eq!(l.to_f64_vec(), vec![1., 1.5, 2., 2.5, 3.]);
        let l = upsample_linear(&f(&[0., 4.], &[1, 1, 2]), &[4], false, None).unwrap();
        assert_eq!(l.to_f64_vec(), vec![0., 1., 3., 4.]);
        let c =
            upsample_bicubic2d(&f(&[1., 1., 1., 1.], &[1, 1, 2, 2]), &[3, 3], false, None).unwrap();
        assert!(c.to_f64_vec().iter().all(|&v| (v - 1.0).abs() < 1e-6));
        let s = interpolate(&x, None, Some(&[2.0]), InterpMode::Nearest, false).unwrap();
        assert_eq!(s.shape(), &[1, 1, 6]);
        let i = upsample_nearest(
            &Tensor::from_vec(vec![1i64, 2], vec![1, 1, 2]).unwrap(),
            &[4],
            None,
        )
        .unwrap();
        assert_eq!(i.to_i64_vec(), vec![1, 1, 2, 2]);
    }
}
