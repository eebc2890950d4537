//! Normalization: `native_layer_norm`, `batch_norm` (inference with running stats, or training
//! with batch stats), `_native_batch_norm_legit_no_training`, `native_group_norm`, `group_norm`.
//! Statistics are computed in f64 and outputs rounded to the input dtype.

use crate::error::{invalid, shape_err, Result};
use crate::kernels::linalg::float_only;
use crate::tensor::{numel, Tensor};

fn opt_vec(t: Option<&Tensor>, n: usize, what: &str, op: &'static str) -> Result<Option<Vec<f64>>> {
    match t {
        None => Ok(None),
        Some(t) if t.numel() == n => Ok(Some(t.to_f64_vec())),
        Some(t) => shape_err(
            op,
            format!("{what} has shape {:?}, expected {n} elements", t.shape()),
        ),
    }
}

/// `aten.native_layer_norm(x, normalized_shape, weight, bias, eps)` → (out, mean, rstd) with
/// mean/rstd of shape `x.shape[:axis] + [1] * len(normalized_shape)`.
pub fn native_layer_norm(
    x: &Tensor,
    normalized_shape: &[i64],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "native_layer_norm";
    float_only(OP, x.dtype())?;
    let k = normalized_shape.len();
    if k == 0
        || k > x.ndim()
        || x.shape()[x.ndim() - k..]
            .iter()
            .zip(normalized_shape)
            .any(|(&a, &b)| a as i64 != b)
    {
        return shape_err(
            OP,
            format!(
                "normalized_shape {normalized_shape:?} does not match input {:?}",
                x.shape()
            ),
        );
    }
    let axis = x.ndim() - k;
    let inner = numel(&x.shape()[axis..]);
    let outer = numel(&x.shape()[..axis]);
    let w = opt_vec(weight, inner, "weight", OP)?;
    let b = opt_vec(bias, inner, "bias", OP)?;
    let xs = x.to_f64_vec();
    let mut out = vec![0f64; xs.len()];
    let mut means = vec![0f64; outer];
    let mut rstds = vec![0f64; outer];
    if inner > 0 {
        for o in 0..outer {
            let lane = &xs[o * inner..(o + 1) * inner];
            let m = lane.iter().sum::<f64>() / inner as f64;
            let v = lane.iter().map(|x| (x - m).powi(2)).sum::<f64>() / inner as f64;
            let r = 1.0 / (v + eps).sqrt();
            means[o] = m;
            rstds[o] = r;
            for (i, (y, &xv)) in out[o * inner..(o + 1) * inner]
                .iter_mut()
                .zip(lane)
                .enumerate()
            {
                let mut z = (xv - m) * r;
                if let Some(w) = &w {
                    z *= w[i];
                }
                if let Some(b) = &b {
                    z += b[i];
                }
                *y = z;
            }
        }
    }
    let dt = x.dtype();
    let mut sshape = x.shape()[..axis].to_vec();
    sshape.extend(std::iter::repeat_n(1, k));
    Ok((
        Tensor::from_parts(out, x.shape().to_vec()).to_dtype(dt),
        Tensor::from_parts(means, sshape.clone()).to_dtype(dt),
        Tensor::from_parts(rstds, sshape).to_dtype(dt),
    ))
}

/// `aten.layer_norm`.
pub fn layer_norm(
    x: &Tensor,
    normalized_shape: &[i64],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<Tensor> {
    Ok(native_layer_norm(x, normalized_shape, weight, bias, eps)?.0)
}

/// Apply per-channel `y = x * scale[c] + shift[c]` to `[N, C, *]` in f64.
fn channel_affine(x: &Tensor, scale: &[f64], shift: &[f64]) -> Tensor {
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let inner = numel(&x.shape()[2..]);
    let mut v = x.to_f64_vec();
    for ni in 0..n {
        for ci in 0..c {
            for y in &mut v[(ni * c + ci) * inner..(ni * c + ci + 1) * inner] {
                *y = *y * scale[ci] + shift[ci];
            }
        }
    }
    Tensor::from_parts(v, x.shape().to_vec()).to_dtype(x.dtype())
}

/// `aten._native_batch_norm_legit(x, weight, bias, running_mean, running_var, training,
/// momentum, eps)` → (out, save_mean, save_invstd). In inference mode the running stats are used
/// and the saved stats are empty (shape `[0]`), like `_native_batch_norm_legit_no_training`; in
/// training mode batch statistics are used (biased variance) and returned. Running stats are not
/// updated (tensors are immutable here).
#[allow(clippy::too_many_arguments)]
pub fn native_batch_norm(
    x: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    training: bool,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "batch_norm";
    float_only(OP, x.dtype())?;
    if x.ndim() < 2 {
        return shape_err(OP, "input must have at least 2 dims [N, C, ...]");
    }
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let inner = numel(&x.shape()[2..]);
    let w = opt_vec(weight, c, "weight", OP)?.unwrap_or_else(|| vec![1.0; c]);
    let b = opt_vec(bias, c, "bias", OP)?.unwrap_or_else(|| vec![0.0; c]);
    let (mean, var) = if training {
        let xs = x.to_f64_vec();
        let cnt = (n * inner) as f64;
        let mut mean = vec![0f64; c];
        let mut var = vec![0f64; c];
        for ci in 0..c {
            let it = || {
                (0..n).flat_map(|ni| xs[(ni * c + ci) * inner..(ni * c + ci + 1) * inner].iter())
            };
            let m = it().sum::<f64>() / cnt;
            mean[ci] = m;
            var[ci] = it().map(|v| (v - m).powi(2)).sum::<f64>() / cnt;
        }
        (mean, var)
    } else {
        match (
            opt_vec(running_mean, c, "running_mean", OP)?,
            opt_vec(running_var, c, "running_var", OP)?,
        ) {
            (Some(m), Some(v)) => (m, v),
            _ => {
                return invalid(
                    OP,
                    "running_mean and running_var are required in inference mode",
                )
            }
        }
    };
    let invstd: Vec<f64> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
    let scale: Vec<f64> = (0..c).map(|i| w[i] * invstd[i]).collect();
    let shift: Vec<f64> = (0..c).map(|i| b[i] - mean[i] * scale[i]).collect();
    let out = channel_affine(x, &scale, &shift);
    let dt = x.dtype();
    if training {
        Ok((
            out,
            Tensor::from_parts(mean, vec![c]).to_dtype(dt),
            Tensor::from_parts(invstd, vec![c]).to_dtype(dt),
        ))
    } else {
        Ok((out, Tensor::zeros(&[0], dt), Tensor::zeros(&[0], dt)))
    }
}

/// `aten._native_batch_norm_legit_no_training(x, weight, bias, running_mean, running_var,
/// momentum, eps)`.
pub fn native_batch_norm_legit_no_training(
    x: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    running_mean: &Tensor,
    running_var: &Tensor,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    native_batch_norm(
        x,
        weight,
        bias,
        Some(running_mean),
        Some(running_var),
        false,
        eps,
    )
}

/// `aten.batch_norm` (output only).
#[allow(clippy::too_many_arguments)]
pub fn batch_norm(
    x: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    training: bool,
    eps: f64,
) -> Result<Tensor> {
    // ATen's `batch_norm` returns a copy of an empty input before any shape check (so an
    // empty 1-D input is fine); the product with `weight[0]` and sum with `bias[0]` it then
    // takes leave an empty tensor as it is.
    if x.numel() == 0 {
        return Ok(x.clone());
    }
    Ok(native_batch_norm(x, weight, bias, running_mean, running_var, training, eps)?.0)
}

/// `aten.native_group_norm(x, weight, bias, N, C, HxW, group, eps)` → (out, mean `[N, G]`,
/// rstd `[N, G]`). `N`, `C`, `HxW` are taken from `x`'s shape.
pub fn native_group_norm(
    x: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    groups: i64,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "group_norm";
    float_only(OP, x.dtype())?;
    if x.ndim() < 2 {
        return shape_err(OP, "input must have at least 2 dims [N, C, ...]");
    }
    let (n, c) = (x.shape()[0], x.shape()[1]);
    if groups <= 0 || c % groups as usize != 0 {
        return invalid(
            OP,
            format!("number of channels {c} must be divisible by groups {groups}"),
        );
    }
    let g = groups as usize;
    let inner = numel(&x.shape()[2..]);
    let w = opt_vec(weight, c, "weight", OP)?.unwrap_or_else(|| vec![1.0; c]);
    let b = opt_vec(bias, c, "bias", OP)?.unwrap_or_else(|| vec![0.0; c]);
    let xs = x.to_f64_vec();
    let cg = c / g;
    let len = cg * inner;
    let mut out = vec![0f64; xs.len()];
    let mut means = vec![0f64; n * g];
    let mut rstds = vec![0f64; n * g];
    for ni in 0..n {
        for gi in 0..g {
            let base = (ni * c + gi * cg) * inner;
            let lane = &xs[base..base + len];
            let m = if len > 0 {
                lane.iter().sum::<f64>() / len as f64
            } else {
                0.0
            };
            let v = if len > 0 {
                lane.iter().map(|x| (x - m).powi(2)).sum::<f64>() / len as f64
            } else {
                0.0
            };
            let r = 1.0 / (v + eps).sqrt();
            means[ni * g + gi] = m;
            rstds[ni * g + gi] = r;
            for (j, &xv) in lane.iter().enumerate() {
                let ch = gi * cg + j / inner.max(1);
                out[base + j] = (xv - m) * r * w[ch] + b[ch];
            }
        }
    }
    let dt = x.dtype();
    Ok((
        Tensor::from_parts(out, x.shape().to_vec()).to_dtype(dt),
        Tensor::from_parts(means, vec![n, g]).to_dtype(dt),
        Tensor::from_parts(rstds, vec![n, g]).to_dtype(dt),
    ))
}

/// `aten.group_norm(x, num_groups, weight, bias, eps)`.
pub fn group_norm(
    x: &Tensor,
    num_groups: i64,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<Tensor> {
    Ok(native_group_norm(x, weight, bias, num_groups, eps)?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: &[f32], s: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), s.to_vec()).unwrap()
    }

    #[test]
    fn layer_norm_values() {
        let x = f(&[1., 3., 0., 4.], &[2, 2]);
        let (o, m, r) = native_layer_norm(&x, &[2], None, None, 0.0).unwrap();
        assert_eq!(o.to_f64_vec(), vec![-1., 1., -1., 1.]);
        assert_eq!(m.shape(), &[2, 1]);
        assert_eq!(m.to_f64_vec(), vec![2., 2.]);
        assert_eq!(r.to_f64_vec(), vec![1.0, 0.5]);
        let o = layer_norm(
            &x,
            &[2],
            Some(&f(&[2., 2.], &[2])),
            Some(&f(&[1., 1.], &[2])),
            1e-5,
        )
        .unwrap();
        assert!((o.to_f64_vec()[0] + 1.0).abs() < 1e-4);
        assert!(layer_norm(&x, &[3], None, None, 1e-5).is_err());
    }

    #[test]
    fn batch_and_group_norm() {
        let x = f(&[1., 2., 3., 4.], &[1, 2, 2]);
        let rm = f(&[1., 2.], &[2]);
        let rv = f(&[4., 1.], &[2]);
        let (o, sm, _) =
            native_batch_norm_legit_no_training(&x, None, Some(&f(&[0., 1.], &[2])), &rm, &rv, 0.0)
                .unwrap();
        assert_eq!(o.to_f64_vec(), vec![0., 0.5, 2., 3.]);
        assert_eq!(sm.shape(), &[0]);
        let (o, m, _) = native_batch_norm(&x, None, None, None, None, true, 0.0).unwrap();
        assert_eq!(m.to_f64_vec(), vec![1.5, 3.5]);
        assert_eq!(o.to_f64_vec(), vec![-1., 1., -1., 1.]);
        let (o, m, r) = native_group_norm(&x, None, None, 1, 0.0).unwrap();
        assert_eq!(m.to_f64_vec(), vec![2.5]);
        assert!((r.to_f64_vec()[0] - 1.0 / 1.25f64.sqrt()).abs() < 1e-6);
        assert!((o.to_f64_vec()[0] + 1.5 / 1.25f64.sqrt()).abs() < 1e-6);
    }
}
