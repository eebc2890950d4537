//! Neural-network composites the export dialect keeps whole: the activations `celu`, `prelu`
//! (and its `_prelu_kernel`), `hardshrink`; `instance_norm`; batch norm that updates running
//! statistics (`_batch_norm_with_update`, `_batch_norm_with_update_functional`,
//! `_batch_norm_no_update`); the softmax backward ops; and the max-pooling backward ops (a
//! `scatter_add` of the gradient at the saved indices). Formulas follow ATen's kernels.

use super::engine::batch_stats_norm;
use super::layout::{const_shape, to_dtype};
use super::{one, Add};
use crate::graph::{Arg, ValueId};
use crate::ops::decomp::{float, int, ints, val};
use crate::ops::DecompCx;
use crate::DType;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.celu.default", |c| {
        // elu(x, alpha, scale 1, input_scale 1 / alpha): max(0, x) + min(0, alpha (e^(x/alpha) - 1)).
        let x = c.tensor("self")?;
        let alpha = c.float("alpha")?;
        if alpha == 0.0 {
            return Err("ZeroDivisionError: alpha cannot be 0 for CELU".into());
        }
        one(c.call(
            "aten.elu.default",
            vec![val(x), float(alpha), int(1), float(1.0 / alpha)],
        )?)
    });
    add("aten.prelu.default", prelu);
    add("aten._prelu_kernel.default", |c| {
        let (x, w) = (c.tensor("self")?, c.tensor("weight")?);
        one(prelu_kernel(c, x, w)?)
    });
    add("aten.hardshrink.default", |c| {
        // -lambd <= x <= lambd ? 0 : x (NaN stays NaN).
        let x = c.tensor("self")?;
        let l = c.float("lambd")?;
        let a = c.call("aten.abs.default", vec![val(x)])?;
        let m = c.call("aten.le.Scalar", vec![val(a), float(l)])?;
        one(c.call("aten.masked_fill.Scalar", vec![val(x), val(m), int(0)])?)
    });
    add("aten.instance_norm.default", instance_norm);
    add("aten._batch_norm_with_update.default", |c| {
        batch_norm_with_update(c, false)
    });
    add("aten._batch_norm_with_update_functional.default", |c| {
        batch_norm_with_update(c, true)
    });
    add("aten._batch_norm_no_update.default", |c| {
        // Evaluation mode: the running statistics, nothing saved.
        let x = c.tensor("input")?;
        let (w, b) = (c.opt_tensor("weight")?, c.opt_tensor("bias")?);
        let (rm, rv) = (c.opt_tensor("running_mean")?, c.opt_tensor("running_var")?);
        let (Some(rm), Some(rv)) = (rm, rv) else {
            return Err("running_mean and running_var are required in evaluation mode".into());
        };
        let opt = |v: Option<ValueId>| v.map_or(Arg::None, val);
        let r = c.call_kw(
            "aten._native_batch_norm_legit_no_training.default",
            vec![
                val(x),
                opt(w),
                opt(b),
                val(rm),
                val(rv),
                float(c.float("momentum")?),
                float(c.float("eps")?),
            ],
            vec![],
        )?;
        let reserve = empty_u8(c)?;
        Ok(vec![val(r[0]), val(r[1]), val(r[2]), val(reserve)])
    });
    add("aten._softmax_backward_data.default", |c| {
        // output * (grad - sum(grad * output, dim)).
        let (g, y) = (c.tensor("grad_output")?, c.tensor("output")?);
        let dim = c.int("dim")?;
        let gy = c.call("aten.mul.Tensor", vec![val(g), val(y)])?;
        let s = c.call(
            "aten.sum.dim_IntList",
            vec![val(gy), ints(&[dim]), Arg::Bool(true)],
        )?;
        let ys = c.call("aten.mul.Tensor", vec![val(y), val(s)])?;
        let r = c.call("aten.sub.Tensor", vec![val(gy), val(ys)])?;
        one(to_input_dtype(c, r)?)
    });
    add("aten._log_softmax_backward_data.default", |c| {
        // grad - exp(output) * sum(grad, dim).
        let (g, y) = (c.tensor("grad_output")?, c.tensor("output")?);
        let dim = c.int("dim")?;
        let s = c.call(
            "aten.sum.dim_IntList",
            vec![val(g), ints(&[dim]), Arg::Bool(true)],
        )?;
        let e = c.call("aten.exp.default", vec![val(y)])?;
        let es = c.call("aten.mul.Tensor", vec![val(e), val(s)])?;
        let r = c.call("aten.sub.Tensor", vec![val(g), val(es)])?;
        one(to_input_dtype(c, r)?)
    });
    add("aten.max_pool2d_with_indices_backward.default", |c| {
        max_pool_backward(c, 2)
    });
    add("aten.max_pool3d_with_indices_backward.default", |c| {
        max_pool_backward(c, 3)
    });
}

/// `r` converted to the `input_dtype` argument when that differs.
fn to_input_dtype(c: &mut DecompCx<'_>, r: ValueId) -> Result<ValueId, String> {
    match c.arg("input_dtype")? {
        Arg::DType(d) if d != c.tensor_type(r)?.dtype => to_dtype(c, r, d),
        _ => Ok(r),
    }
}

/// `x > 0 ? x : w x`.
fn prelu_kernel(c: &mut DecompCx<'_>, x: ValueId, w: ValueId) -> Result<ValueId, String> {
    let pos = c.call("aten.gt.Scalar", vec![val(x), int(0)])?;
    let wx = c.call("aten.mul.Tensor", vec![val(w), val(x)])?;
    c.call("aten.where.self", vec![val(pos), val(x), val(wx)])
}

/// `prelu`: the weight (one value, or one per channel, dim 1) reshaped to the input's rank
/// with its values on dim 1, then `_prelu_kernel`.
fn prelu(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (x, w) = (c.tensor("self")?, c.tensor("weight")?);
    let (xt, wt) = (c.tensor_type(x)?.clone(), c.tensor_type(w)?.clone());
    if wt.rank() > 1 {
        return Err(format!("expected a scalar or 1-D weight, got {wt}"));
    }
    let wn: i64 = const_shape(c, w)?.iter().product();
    if wn != 1 {
        if xt.rank() == 0 {
            return Err("a zero-dim input takes a single weight".into());
        }
        let channels = if xt.rank() > 1 {
            xt.shape[1].as_const()
        } else {
            Some(1)
        };
        if channels != Some(wn) {
            return Err(format!(
                "{wn} weights do not match the channel size of input {xt}"
            ));
        }
    }
    let w = if wt.rank() != xt.rank() {
        let mut shape = vec![1i64; xt.rank()];
        if xt.rank() > 1 {
            shape[1] = wn;
        }
        c.call("aten.reshape.default", vec![val(w), ints(&shape)])?
    } else {
        w
    };
    one(prelu_kernel(c, x, w)?)
}

/// `instance_norm`: each `(n, c)` plane normalised with its own biased statistics
/// (`use_input_stats`), or every plane of channel `c` with the running statistics of `c`
/// (ATen repeats them over the batch, which is the same). The running buffers are not
/// updated (a compiled graph has no state to write them to).
fn instance_norm(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("input")?;
    let (w, b) = (c.opt_tensor("weight")?, c.opt_tensor("bias")?);
    let (rm, rv) = (c.opt_tensor("running_mean")?, c.opt_tensor("running_var")?);
    let eps = c.float("eps")?;
    let t = c.tensor_type(x)?.clone();
    let r = t.rank();
    if r < 2 {
        return Err(format!("input {t} needs batch and channel dims"));
    }
    if !t.dtype.is_float() {
        return Err(format!("{} input", t.dtype));
    }
    if !c.bool("use_input_stats")? {
        let (Some(rm), Some(rv)) = (rm, rv) else {
            return Err("running_mean and running_var are required without use_input_stats".into());
        };
        let opt = |v: Option<ValueId>| v.map_or(Arg::None, val);
        let r = c.call_kw(
            "aten._native_batch_norm_legit_no_training.default",
            vec![
                val(x),
                opt(w),
                opt(b),
                val(rm),
                val(rv),
                float(0.0),
                float(eps),
            ],
            vec![],
        )?;
        return one(r[0]);
    }
    let mut pshape = vec![-1i64];
    pshape.extend(std::iter::repeat_n(1, r - 2));
    let normed = if r == 2 {
        // One element per plane: it is its own mean, the variance is 0.
        let d = c.call("aten.sub.Tensor", vec![val(x), val(x)])?;
        c.call("aten.mul.Scalar", vec![val(d), float(1.0 / eps.sqrt())])?
    } else {
        let dims: Vec<i64> = (2..r as i64).collect();
        let mean = c.call("aten.mean.dim", vec![val(x), ints(&dims), Arg::Bool(true)])?;
        let d = c.call("aten.sub.Tensor", vec![val(x), val(mean)])?;
        let sq = c.call("aten.mul.Tensor", vec![val(d), val(d)])?;
        let var = c.call("aten.mean.dim", vec![val(sq), ints(&dims), Arg::Bool(true)])?;
        let ve = c.call("aten.add.Scalar", vec![val(var), float(eps)])?;
        let rstd = c.call("aten.rsqrt.default", vec![val(ve)])?;
        c.call("aten.mul.Tensor", vec![val(d), val(rstd)])?
    };
    let mut y = normed;
    if let Some(w) = w {
        let w = c.call("aten.reshape.default", vec![val(w), ints(&pshape)])?;
        y = c.call("aten.mul.Tensor", vec![val(y), val(w)])?;
    }
    if let Some(b) = b {
        let b = c.call("aten.reshape.default", vec![val(b), ints(&pshape)])?;
        y = c.call("aten.add.Tensor", vec![val(y), val(b)])?;
    }
    one(y)
}

/// An empty `u8[0]` (the `reserve` result of the batch-norm ops, unused on CPU).
fn empty_u8(c: &mut DecompCx<'_>) -> Result<ValueId, String> {
    let r = c.call_kw(
        "aten.zeros.default",
        vec![ints(&[0])],
        vec![("dtype".into(), Arg::DType(DType::U8))],
    )?;
    Ok(r[0])
}

/// `_batch_norm_with_update`: batch norm with the batch statistics; returns the output, the
/// batch mean, `1 / sqrt(var + eps)` and an empty reserve. The functional variant also
/// returns the updated running statistics, `(1 - momentum) running + momentum batch` with the
/// unbiased batch variance (`n / (n - 1)` times the biased one; NaN for `n = 1`, as ATen).
fn batch_norm_with_update(c: &mut DecompCx<'_>, functional: bool) -> Result<Vec<Arg>, String> {
    let x = c.tensor("input")?;
    let (w, b) = (c.opt_tensor("weight")?, c.opt_tensor("bias")?);
    let (rm, rv) = (c.tensor("running_mean")?, c.tensor("running_var")?);
    let (momentum, eps) = (c.float("momentum")?, c.float("eps")?);
    let (y, mean, rstd, var) = batch_stats_norm(c, x, w, b, eps)?;
    let reserve = empty_u8(c)?;
    let mut out = vec![val(y), val(mean), val(rstd), val(reserve)];
    if functional {
        let n: i64 = const_shape(c, x)?
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != 1)
            .map(|(_, &s)| s)
            .product();
        let unbias = n as f64 / (n as f64 - 1.0);
        let blend = |c: &mut DecompCx<'_>, run: ValueId, batch: ValueId, k: f64| {
            let a = c.call("aten.mul.Scalar", vec![val(run), float(1.0 - momentum)])?;
            let bb = c.call("aten.mul.Scalar", vec![val(batch), float(momentum * k)])?;
            c.call("aten.add.Tensor", vec![val(a), val(bb)])
        };
        let new_mean = blend(c, rm, mean, 1.0)?;
        // `var * (n / (n - 1))` first, so that n = 1 gives 0 * inf = NaN as in ATen.
        let uv = c.call("aten.mul.Scalar", vec![val(var), float(unbias)])?;
        let new_var = blend(c, rv, uv, 1.0)?;
        out.push(val(new_mean));
        out.push(val(new_var));
    }
    Ok(out)
}

/// `max_pool{2,3}d_with_indices_backward`: the gradient of each window added at its saved
/// argmax (a flat index into the input plane), zeros elsewhere.
fn max_pool_backward(c: &mut DecompCx<'_>, nd: usize) -> Result<Vec<Arg>, String> {
    let (g, x, idx) = (
        c.tensor("grad_output")?,
        c.tensor("self")?,
        c.tensor("indices")?,
    );
    let xs = const_shape(c, x)?;
    let gs = const_shape(c, g)?;
    if xs.len() < nd + 1 || gs.len() != xs.len() || const_shape(c, idx)? != gs {
        return Err(format!(
            "grad_output {gs:?}, indices and input {xs:?} must have the same rank (at least {})",
            nd + 1
        ));
    }
    let lead = xs.len() - nd;
    let mut flat_x: Vec<i64> = xs[..lead].to_vec();
    flat_x.push(xs[lead..].iter().product());
    let mut flat_g: Vec<i64> = gs[..lead].to_vec();
    flat_g.push(gs[lead..].iter().product());
    let zeros = c.call("aten.zeros_like.default", vec![val(x)])?;
    let zeros = c.call("aten.reshape.default", vec![val(zeros), ints(&flat_x)])?;
    let g2 = c.call("aten.reshape.default", vec![val(g), ints(&flat_g)])?;
    let i2 = c.call("aten.reshape.default", vec![val(idx), ints(&flat_g)])?;
    let s = c.call(
        "aten.scatter_add.default",
        vec![val(zeros), int(lead as i64), val(i2), val(g2)],
    )?;
    one(c.call("aten.reshape.default", vec![val(s), ints(&xs)])?)
}
