//! Composites that keep whole models in one TensorRT engine: aliases (`swapaxes`, `swapdims`,
//! `numpy_T`, `expand_as`, `min.other`, `max.other`), `baddbmm`, `linalg_vector_norm`, `roll`,
//! batch norm with batch statistics (`batch_norm` in training mode, as weight
//! standardisation uses it, and `_native_batch_norm_legit.no_stats`), and the functional
//! copies of core ATen (`copy`, `slice_scatter` with step 1, `as_strided` of a contiguous
//! tensor), `native_dropout` in evaluation mode and the named reflection / replication
//! padding ops (as `pad`). The executor keeps its own kernels where it has them; these are what the
//! converters and inference fall back to.

use super::{one, Add};
use crate::graph::Arg;
use crate::ops::decomp::{float, int, ints, val};
use crate::ops::DecompCx;
use crate::ValueId;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.swapaxes.default", |c| {
        let x = c.tensor("self")?;
        let (a, b) = (c.int("axis0")?, c.int("axis1")?);
        one(c.call("aten.transpose.int", vec![val(x), int(a), int(b)])?)
    });
    add("aten.swapdims.default", |c| {
        let x = c.tensor("self")?;
        let (a, b) = (c.int("dim0")?, c.int("dim1")?);
        one(c.call("aten.transpose.int", vec![val(x), int(a), int(b)])?)
    });
    add("aten.numpy_T.default", |c| {
        let x = c.tensor("self")?;
        let r = c.rank(x)? as i64;
        let perm: Vec<i64> = (0..r).rev().collect();
        one(c.call("aten.permute.default", vec![val(x), ints(&perm)])?)
    });
    add("aten.expand_as.default", |c| {
        let (x, other) = (c.tensor("self")?, c.tensor("other")?);
        let shape = sizes(c, other)?;
        one(c.call("aten.expand.default", vec![val(x), shape])?)
    });
    add("aten.min.other", |c| {
        let (a, b) = (c.tensor("self")?, c.tensor("other")?);
        one(c.call("aten.minimum.default", vec![val(a), val(b)])?)
    });
    add("aten.max.other", |c| {
        let (a, b) = (c.tensor("self")?, c.tensor("other")?);
        one(c.call("aten.maximum.default", vec![val(a), val(b)])?)
    });
    add("aten.broadcast_to.default", |c| {
        let x = c.tensor("self")?;
        let size = c.arg("size")?;
        one(c.call("aten.expand.default", vec![val(x), size])?)
    });
    add("aten.dot.default", |c| {
        let (a, b) = (c.tensor("self")?, c.tensor("tensor")?);
        one(c.call("aten.matmul.default", vec![val(a), val(b)])?)
    });
    add("aten.mv.default", |c| {
        let (m, v) = (c.tensor("self")?, c.tensor("vec")?);
        one(c.call("aten.matmul.default", vec![val(m), val(v)])?)
    });
    add("aten.exp2.default", |c| {
        // 2 ** x; integer and bool inputs give the default float dtype, as pow.Scalar does.
        let x = c.tensor("self")?;
        one(c.call("aten.pow.Scalar", vec![float(2.0), val(x)])?)
    });
    add("aten.isfinite.default", isfinite);
    add("aten.fmax.default", |c| {
        fmax_fmin(c, "aten.maximum.default")
    });
    add("aten.fmin.default", |c| {
        fmax_fmin(c, "aten.minimum.default")
    });
    add("aten.clamp_min.Tensor", |c| {
        let (x, m) = (c.tensor("self")?, c.tensor("min")?);
        one(c.call("aten.maximum.default", vec![val(x), val(m)])?)
    });
    add("aten.clamp_max.Tensor", |c| {
        let (x, m) = (c.tensor("self")?, c.tensor("max")?);
        one(c.call("aten.minimum.default", vec![val(x), val(m)])?)
    });
    add("aten.round.decimals", round_decimals);
    add("aten.baddbmm.default", baddbmm);
    add("aten.linalg_vector_norm.default", vector_norm);
    add("aten.roll.default", roll);
    add("aten.batch_norm.default", batch_norm);
    add("aten.copy.default", |c| {
        // `self`'s shape and dtype with `src`'s values (broadcast).
        let (dst, src) = (c.tensor("self")?, c.tensor("src")?);
        let (dt, st) = (c.tensor_type(dst)?.clone(), c.tensor_type(src)?.clone());
        let mut y = if st.shape == dt.shape {
            src
        } else {
            let shape = sizes(c, dst)?;
            c.call("aten.expand.default", vec![val(src), shape])?
        };
        y = if st.dtype == dt.dtype {
            c.call("aten.clone.default", vec![val(y)])?
        } else {
            c.call_kw(
                "aten._to_copy.default",
                vec![val(y)],
                vec![("dtype".into(), Arg::DType(dt.dtype))],
            )?[0]
        };
        one(y)
    });
    add("aten.native_dropout.default", |c| {
        // Evaluation mode (or nothing dropped): the input and an all-true mask. `train=None`
        // means training, as in ATen; a training dropout is random and not decomposed.
        let train = !matches!(c.arg("train")?, Arg::Bool(false));
        if train && c.float("p")? != 0.0 {
            return Err("training-mode dropout is random".into());
        }
        let x = c.tensor("input")?;
        let y = c.call("aten.clone.default", vec![val(x)])?;
        let m = c.call_kw(
            "aten.ones_like.default",
            vec![val(x)],
            vec![("dtype".into(), Arg::DType(crate::DType::Bool))],
        )?[0];
        Ok(vec![val(y), val(m)])
    });
    // The named padding ops are `pad` with their mode.
    for (name, mode) in [
        ("aten.reflection_pad1d.default", "reflect"),
        ("aten.reflection_pad2d.default", "reflect"),
        ("aten.reflection_pad3d.default", "reflect"),
        ("aten.replication_pad1d.default", "replicate"),
        ("aten.replication_pad2d.default", "replicate"),
        ("aten.replication_pad3d.default", "replicate"),
    ] {
        let f: fn(&mut DecompCx<'_>) -> Result<Vec<Arg>, String> = match mode {
            "reflect" => |c| pad_mode(c, "reflect"),
            _ => |c| pad_mode(c, "replicate"),
        };
        add(name, f);
    }
    add("aten.slice_scatter.default", slice_scatter);
    add("aten.as_strided.default", as_strided);
    add("aten._native_batch_norm_legit.no_stats", |c| {
        if !c.bool("training")? {
            return Err("no running statistics in evaluation mode".into());
        }
        let x = c.tensor("input")?;
        let (w, b) = (c.opt_tensor("weight")?, c.opt_tensor("bias")?);
        let eps = c.float("eps")?;
        let (y, mean, rstd, _) = batch_stats_norm(c, x, w, b, eps)?;
        Ok(vec![val(y), val(mean), val(rstd)])
    });
}

/// `pad(self, padding, mode)`.
fn pad_mode(c: &mut DecompCx<'_>, mode: &str) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let p = c.arg("padding")?;
    one(c.call(
        "aten.pad.default",
        vec![val(x), p, Arg::Str(mode.to_string())],
    )?)
}

/// The sizes of tensor `v` as a list argument: literal ints where static, `sym_size` calls
/// where symbolic.
fn sizes(c: &mut DecompCx<'_>, v: ValueId) -> Result<Arg, String> {
    let shape = c.tensor_type(v)?.shape.clone();
    let mut out = Vec::with_capacity(shape.len());
    for (i, d) in shape.iter().enumerate() {
        out.push(match d.as_const() {
            Some(n) => int(n),
            None => val(c.call("aten.sym_size.int", vec![val(v), int(i as i64)])?),
        });
    }
    Ok(Arg::List(out))
}

/// `v`, or `v * k` unless `k` is the literal 1.
fn scaled(c: &mut DecompCx<'_>, v: ValueId, k: Arg) -> Result<ValueId, String> {
    if matches!(k, Arg::Int(1)) || k.as_f64() == Some(1.0) {
        return Ok(v);
    }
    c.call("aten.mul.Scalar", vec![val(v), k])
}

/// `beta * self + alpha * (batch1 @ batch2)`; with `beta = 0`, `self` is ignored (its NaNs
/// do not propagate), as in PyTorch.
fn baddbmm(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (s, b1, b2) = (c.tensor("self")?, c.tensor("batch1")?, c.tensor("batch2")?);
    let (beta, alpha) = (c.arg("beta")?, c.arg("alpha")?);
    let p = c.call("aten.bmm.default", vec![val(b1), val(b2)])?;
    let p = scaled(c, p, alpha)?;
    if beta.as_f64() == Some(0.0) {
        // The result still has the broadcast shape of `self` and the product, which is the
        // product's: `self` broadcasts to it.
        return one(p);
    }
    let s = scaled(c, s, beta)?;
    one(c.call("aten.add.Tensor", vec![val(s), val(p)])?)
}

/// `linalg_vector_norm` for real tensors: 2 → sqrt(sum(x²)), 1 → sum|x|, ±inf → max/min |x|,
/// 0 → the count of non-zeros, p → (sum |x|^p)^(1/p); `dim = None` reduces every dim.
fn vector_norm(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let mut x = c.tensor("self")?;
    let ord = c
        .arg("ord")?
        .as_f64()
        .ok_or("ord must be a number literal")?;
    let keep = c.bool("keepdim")?;
    let t = c.tensor_type(x)?.clone();
    if t.dtype.is_complex() {
        return Err("complex input".into());
    }
    if let Arg::DType(d) = c.arg("dtype")? {
        x = c.call_kw(
            "aten._to_copy.default",
            vec![val(x)],
            vec![("dtype".into(), Arg::DType(d))],
        )?[0];
    } else if !t.dtype.is_float() {
        return Err(format!(
            "{} input (the norm of a non-float tensor)",
            t.dtype
        ));
    }
    let r = t.rank() as i64;
    let dims = match c.arg("dim")? {
        Arg::None => (0..r).collect(),
        a => a.as_int_list().ok_or("dim must be an int list literal")?,
    };
    let dims = if dims.is_empty() {
        (0..r).collect()
    } else {
        dims
    };
    let red = |c: &mut DecompCx<'_>, op: &str, v: ValueId| -> Result<ValueId, String> {
        if r == 0 {
            return Ok(v);
        }
        c.call(op, vec![val(v), ints(&dims), Arg::Bool(keep)])
    };
    let y = if ord == 2.0 {
        let sq = c.call("aten.mul.Tensor", vec![val(x), val(x)])?;
        let s = red(c, "aten.sum.dim_IntList", sq)?;
        c.call("aten.sqrt.default", vec![val(s)])?
    } else if ord == 0.0 {
        let nz = c.call("aten.ne.Scalar", vec![val(x), int(0)])?;
        let dt = c.tensor_type(x)?.dtype;
        let nz = c.call_kw(
            "aten._to_copy.default",
            vec![val(nz)],
            vec![("dtype".into(), Arg::DType(dt))],
        )?[0];
        red(c, "aten.sum.dim_IntList", nz)?
    } else {
        let a = c.call("aten.abs.default", vec![val(x)])?;
        if ord == f64::INFINITY {
            red(c, "aten.amax.default", a)?
        } else if ord == f64::NEG_INFINITY {
            red(c, "aten.amin.default", a)?
        } else if ord == 1.0 {
            red(c, "aten.sum.dim_IntList", a)?
        } else {
            let p = c.call("aten.pow.Tensor_Scalar", vec![val(a), float(ord)])?;
            let s = red(c, "aten.sum.dim_IntList", p)?;
            c.call("aten.pow.Tensor_Scalar", vec![val(s), float(1.0 / ord)])?
        }
    };
    one(y)
}

/// `roll` as two slices per rolled dim, concatenated in swapped order; with `dims = []` the
/// flattened tensor rolls and is reshaped back. Rolled dims must be static.
fn roll(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let shifts = c.ints("shifts")?;
    let dims = c.ints("dims")?;
    let t = c.tensor_type(x)?.clone();
    if dims.is_empty() {
        if shifts.len() != 1 {
            return Err(format!("{} shifts without dims", shifts.len()));
        }
        let n = t.numel().as_const().ok_or("roll of a dynamic shape")?;
        let flat = c.call("aten.reshape.default", vec![val(x), ints(&[n])])?;
        let y = roll_dim(c, flat, n, 0, shifts[0])?;
        let shape = sizes(c, x)?;
        return one(c.call("aten.reshape.default", vec![val(y), shape])?);
    }
    if shifts.len() != dims.len() {
        return Err(format!("{} shifts for {} dims", shifts.len(), dims.len()));
    }
    let r = t.rank() as i64;
    let mut y = x;
    for (&s, &d) in shifts.iter().zip(&dims) {
        let dd = if d < 0 { d + r } else { d };
        if !(0..r).contains(&dd) {
            return Err(format!("dim {d} out of range for rank {r}"));
        }
        let n = t.shape[dd as usize]
            .as_const()
            .ok_or_else(|| format!("rolled dim {d} is dynamic"))?;
        y = roll_dim(c, y, n, dd, s)?;
    }
    if y == x {
        // Every shift is a multiple of its extent: still a fresh tensor.
        y = c.call("aten.clone.default", vec![val(x)])?;
    }
    one(y)
}

/// `x` rolled by `shift` along `dim` of static extent `n`.
fn roll_dim(
    c: &mut DecompCx<'_>,
    x: ValueId,
    n: i64,
    dim: i64,
    shift: i64,
) -> Result<ValueId, String> {
    if n == 0 {
        return Ok(x);
    }
    let s = shift.rem_euclid(n);
    if s == 0 {
        return Ok(x);
    }
    let tail = c.call(
        "aten.slice.Tensor",
        vec![val(x), int(dim), int(n - s), int(n), int(1)],
    )?;
    let head = c.call(
        "aten.slice.Tensor",
        vec![val(x), int(dim), int(0), int(n - s), int(1)],
    )?;
    c.call(
        "aten.cat.default",
        vec![Arg::List(vec![val(tail), val(head)]), int(dim)],
    )
}

/// `batch_norm`: running statistics in evaluation mode, batch statistics in training mode
/// or without running statistics (the running buffers are not updated: a compiled graph has
/// no state to write them to, and the training-mode uses export keeps, weight
/// standardisation, pass none).
fn batch_norm(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("input")?;
    let (w, b) = (c.opt_tensor("weight")?, c.opt_tensor("bias")?);
    let (rm, rv) = (c.opt_tensor("running_mean")?, c.opt_tensor("running_var")?);
    let training = c.bool("training")?;
    let eps = c.float("eps")?;
    let momentum = c.float("momentum")?;
    if c.tensor_type(x)?
        .shape
        .iter()
        .any(|d| d.as_const() == Some(0))
    {
        // ATen returns a copy of an empty input before any check (an empty 1-D input too).
        return one(c.call("aten.clone.default", vec![val(x)])?);
    }
    match (training, rm, rv) {
        (false, Some(rm), Some(rv)) => {
            let opt = |v: Option<ValueId>| v.map_or(Arg::None, val);
            let r = c.call_kw(
                "aten._native_batch_norm_legit_no_training.default",
                vec![
                    val(x),
                    opt(w),
                    opt(b),
                    val(rm),
                    val(rv),
                    float(momentum),
                    float(eps),
                ],
                vec![],
            )?;
            one(r[0])
        }
        (true, None, None) => Ok(vec![val(batch_stats_norm(c, x, w, b, eps)?.0)]),
        (true, _, _) => Err("training mode with running statistics (they would be updated)".into()),
        (false, _, _) => Err("evaluation mode without running statistics".into()),
    }
}

/// Normalises `x` (`[N, C, ...]`) per channel with the biased mean and variance over every
/// other dim; returns the result, the mean `[C]`, `1 / sqrt(var + eps)` `[C]` and the biased
/// variance `[C]`.
pub(super) fn batch_stats_norm(
    c: &mut DecompCx<'_>,
    x: ValueId,
    w: Option<ValueId>,
    b: Option<ValueId>,
    eps: f64,
) -> Result<(ValueId, ValueId, ValueId, ValueId), String> {
    let t = c.tensor_type(x)?.clone();
    let r = t.rank();
    if r < 2 {
        return Err(format!("input {t} needs a channel dim"));
    }
    if !t.dtype.is_float() {
        return Err(format!("{} input", t.dtype));
    }
    let dims: Vec<i64> = (0..r as i64).filter(|&d| d != 1).collect();
    let mean = c.call("aten.mean.dim", vec![val(x), ints(&dims), Arg::Bool(true)])?;
    let d = c.call("aten.sub.Tensor", vec![val(x), val(mean)])?;
    let sq = c.call("aten.mul.Tensor", vec![val(d), val(d)])?;
    let var = c.call("aten.mean.dim", vec![val(sq), ints(&dims), Arg::Bool(true)])?;
    let ve = c.call("aten.add.Scalar", vec![val(var), float(eps)])?;
    let rstd = c.call("aten.rsqrt.default", vec![val(ve)])?;
    let mut y = c.call("aten.mul.Tensor", vec![val(d), val(rstd)])?;
    // `[C]` parameters as `[C, 1, ...]`, which broadcasts against `[N, C, ...]`.
    let mut pshape = vec![-1i64];
    pshape.extend(std::iter::repeat_n(1, r - 2));
    if let Some(w) = w {
        let w = c.call("aten.reshape.default", vec![val(w), ints(&pshape)])?;
        y = c.call("aten.mul.Tensor", vec![val(y), val(w)])?;
    }
    if let Some(b) = b {
        let b = c.call("aten.reshape.default", vec![val(b), ints(&pshape)])?;
        y = c.call("aten.add.Tensor", vec![val(y), val(b)])?;
    }
    let mean = c.call("aten.reshape.default", vec![val(mean), ints(&[-1])])?;
    let rstd = c.call("aten.reshape.default", vec![val(rstd), ints(&[-1])])?;
    let var = c.call("aten.reshape.default", vec![val(var), ints(&[-1])])?;
    Ok((y, mean, rstd, var))
}

/// An optional SymInt argument that must be a literal here.
fn opt_lit(c: &DecompCx<'_>, name: &str) -> Result<Option<i64>, String> {
    match c.arg(name)? {
        Arg::None => Ok(None),
        Arg::Int(i) => Ok(Some(i)),
        a => Err(format!("`{name}` must be an int literal, got {a:?}")),
    }
}

/// `slice_scatter` with step 1: the parts of `self` before and after the slice concatenated
/// around `src`. The sliced dim must be static.
fn slice_scatter(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (x, src) = (c.tensor("self")?, c.tensor("src")?);
    let t = c.tensor_type(x)?.clone();
    let r = t.rank() as i64;
    let d = c.int("dim")?;
    let d = if d < 0 { d + r } else { d };
    if !(0..r).contains(&d) {
        return Err(format!("dim {d} out of range for rank {r}"));
    }
    if opt_lit(c, "step")?.unwrap_or(1) != 1 {
        return Err("a step other than 1".into());
    }
    let n = t.shape[d as usize]
        .as_const()
        .ok_or("the scattered dim is dynamic")?;
    let clamp = |v: i64| (if v < 0 { v + n } else { v }).clamp(0, n);
    let start = clamp(opt_lit(c, "start")?.unwrap_or(0));
    let end = clamp(opt_lit(c, "end")?.unwrap_or(n)).max(start);
    let mut parts = vec![];
    if start > 0 {
        parts.push(c.call(
            "aten.slice.Tensor",
            vec![val(x), int(d), int(0), int(start), int(1)],
        )?);
    }
    parts.push(src);
    if end < n {
        parts.push(c.call(
            "aten.slice.Tensor",
            vec![val(x), int(d), int(end), int(n), int(1)],
        )?);
    }
    if parts.len() == 1 {
        return one(c.call("aten.clone.default", vec![val(src)])?);
    }
    let parts = parts.into_iter().map(val).collect();
    one(c.call("aten.cat.default", vec![Arg::List(parts), int(d)])?)
}

/// `as_strided` of a tensor taken as contiguous (the executor's values are): a reshape when
/// the view walks the elements in order, else a gather of the flattened tensor at
/// `offset + sum_k i_k * stride_k`, the indices built from `arange`s. Static sizes only.
fn as_strided(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let t = c.tensor_type(x)?.clone();
    let size = c.ints("size")?;
    let stride = c.ints("stride")?;
    let offset = opt_lit(c, "storage_offset")?.unwrap_or(0);
    if size.len() != stride.len() {
        return Err(format!("{} sizes for {} strides", size.len(), stride.len()));
    }
    if size.iter().any(|&s| s < 0) || stride.iter().any(|&s| s < 0) || offset < 0 {
        return Err("negative size, stride or offset".into());
    }
    let numel = t
        .numel()
        .as_const()
        .ok_or("as_strided of a dynamic shape")?;
    let count: i64 = size.iter().product();
    if count > 0 {
        let last: i64 = offset
            + size
                .iter()
                .zip(&stride)
                .map(|(&n, &s)| (n - 1) * s)
                .sum::<i64>();
        if last >= numel {
            return Err(format!(
                "the view reaches element {last} of a tensor of {numel}"
            ));
        }
    }
    // Contiguous strides of `size`; dims of extent 1 may have any stride.
    let mut want = 1i64;
    let mut in_order = offset == 0 && count == numel;
    for (&n, &s) in size.iter().zip(&stride).rev() {
        if n != 1 && s != want {
            in_order = false;
        }
        want *= n;
    }
    if in_order {
        return one(c.call("aten.reshape.default", vec![val(x), ints(&size)])?);
    }
    let flat = c.call("aten.reshape.default", vec![val(x), ints(&[numel])])?;
    let r = size.len();
    let mut idx: Option<ValueId> = None;
    for (k, (&n, &s)) in size.iter().zip(&stride).enumerate() {
        if n == 1 {
            continue;
        }
        let i64t = || vec![("dtype".to_string(), Arg::DType(crate::DType::I64))];
        let a = if s == 0 {
            // A zero stride repeats one element; `arange` cannot step by 0.
            let a = c.call_kw(
                "aten.arange.start_step",
                vec![int(0), int(n), int(1)],
                i64t(),
            )?[0];
            c.call("aten.mul.Scalar", vec![val(a), int(0)])?
        } else {
            c.call_kw(
                "aten.arange.start_step",
                vec![int(0), int(n * s), int(s)],
                i64t(),
            )?[0]
        };
        let mut shape = vec![1i64; r];
        shape[k] = n;
        let a = c.call("aten.reshape.default", vec![val(a), ints(&shape)])?;
        idx = Some(match idx {
            None => a,
            Some(p) => c.call("aten.add.Tensor", vec![val(p), val(a)])?,
        });
    }
    let idx = match idx {
        Some(i) => i,
        None => c.call_kw(
            "aten.zeros.default",
            vec![ints(&vec![1; r])],
            vec![("dtype".into(), Arg::DType(crate::DType::I64))],
        )?[0],
    };
    let idx = if offset != 0 {
        c.call("aten.add.Scalar", vec![val(idx), int(offset)])?
    } else {
        idx
    };
    // Broadcast the index to the full size (dims of extent 1 were skipped).
    let idx = c.call("aten.expand.default", vec![val(idx), ints(&size)])?;
    one(c.call(
        "aten.index.Tensor",
        vec![val(flat), Arg::List(vec![val(idx)])],
    )?)
}

/// `isfinite(x)`: `|x| < inf` for floats (false for infinities, and for NaN, which compares
/// false with everything; unlike `x - x == 0`, no algebraic simplification can fold it away);
/// integers and bools are always finite (`x == x`).
fn isfinite(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    if c.tensor_type(x)?.dtype.is_float() {
        let m = c.call("aten.abs.default", vec![val(x)])?;
        one(c.call("aten.lt.Scalar", vec![val(m), float(f64::INFINITY)])?)
    } else {
        one(c.call("aten.eq.Tensor", vec![val(x), val(x)])?)
    }
}

/// `fmax`/`fmin`: `maximum`/`minimum`, except that a NaN operand yields the other one (NaN
/// only where both are): `where(isnan(b), a, where(isnan(a), b, max(a, b)))`.
fn fmax_fmin(c: &mut DecompCx<'_>, op: &str) -> Result<Vec<Arg>, String> {
    let (a, b) = (c.tensor("self")?, c.tensor("other")?);
    let m = c.call(op, vec![val(a), val(b)])?;
    let float = |c: &DecompCx<'_>, v| c.tensor_type(v).map(|t| t.dtype.is_float());
    if !float(c, a)? && !float(c, b)? {
        return one(m);
    }
    // The promoted operands, so that `where` picks values of the result's dtype.
    let dt = c.tensor_type(m)?.dtype;
    let cast = |c: &mut DecompCx<'_>, v: ValueId| -> Result<ValueId, String> {
        if c.tensor_type(v)?.dtype == dt {
            return Ok(v);
        }
        c.call_kw(
            "aten._to_copy.default",
            vec![val(v)],
            vec![("dtype".into(), Arg::DType(dt))],
        )
        .map(|r| r[0])
    };
    let (a, b) = (cast(c, a)?, cast(c, b)?);
    let a_nan = c.call("aten.isnan.default", vec![val(a)])?;
    let inner = c.call("aten.where.self", vec![val(a_nan), val(b), val(m)])?;
    let b_nan = c.call("aten.isnan.default", vec![val(b)])?;
    one(c.call("aten.where.self", vec![val(b_nan), val(a), val(inner)])?)
}

/// `round(x, decimals=d)` as ATen computes it: `round(x * 10^d) / 10^d`, or for `d < 0`
/// `round(x / 10^-d) * 10^-d`, with the power taken in the input's float type. Integers are
/// returned unchanged for `d >= 0`.
fn round_decimals(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let d = c.int("decimals")?;
    if !c.tensor_type(x)?.dtype.is_float() {
        return Err("round with decimals of an integer tensor".into());
    }
    if d.unsigned_abs() > 300 {
        return Err(format!("decimals={d}: 10^{d} is outside the float range"));
    }
    let p = 10f64.powi(d.unsigned_abs() as i32);
    let (scale, unscale) = if d >= 0 {
        ("aten.mul.Tensor", "aten.div.Tensor")
    } else {
        ("aten.div.Tensor", "aten.mul.Tensor")
    };
    let s = c.call(scale, vec![val(x), float(p)])?;
    let r = c.call("aten.round.default", vec![val(s)])?;
    one(c.call(unscale, vec![val(r), float(p)])?)
}
