//! Reductions, arg-reductions, sorting and top-k.

use super::{norm_dim, t, Call, Rule, R};
use crate::aten::promote::to_real;
use crate::dim::Dim;
use crate::dtype::DType;
use crate::types::{Shape, TensorType};

/// Explicit rules of this family (by `base` or `base.overload`).
pub(crate) const RULES: &[(&str, Rule)] = &[
    ("sum", sum_like),
    ("nansum", sum_like),
    ("prod", sum_like),
    ("mean", mean_like),
    ("nanmean", mean_like),
    ("logsumexp", logsumexp),
    ("amax", keep_dtype),
    ("amin", keep_dtype),
    ("max.default", keep_dtype),
    ("min.default", keep_dtype),
    ("max.dim", minmax_dim),
    ("min.dim", minmax_dim),
    ("aminmax", aminmax),
    ("argmax", argminmax),
    ("argmin", argminmax),
    ("var", var_like),
    ("std", var_like),
    ("var_mean", var_mean),
    ("std_mean", var_mean),
    ("any", any_all),
    ("all", any_all),
    ("count_nonzero", count_nonzero),
    ("norm", norm),
    ("linalg_vector_norm", norm),
    ("topk", topk),
    ("sort", sort),
    ("sort.stable", sort),
    ("argsort", argsort),
    ("kthvalue", kthvalue),
    ("median.dim", minmax_dim),
    ("mode", minmax_dim),
    ("median.default", keep_dtype),
    ("nanmedian.default", keep_dtype),
    ("nanmedian.dim", minmax_dim),
    ("searchsorted", searchsorted),
];

/// The reduced dims: `dim` may be an int, a list, `None` or `[]` (all dims).
fn reduce_dims(c: &Call, x: &TensorType) -> Result<Vec<usize>, String> {
    let name = if c.schema.arg_index("dim").is_some() {
        "dim"
    } else {
        "dims"
    };
    if c.schema.arg_index(name).is_none() {
        return Ok((0..x.rank()).collect());
    }
    match c.opt_ints(name)? {
        None => Ok((0..x.rank()).collect()),
        Some(v) if v.is_empty() => Ok((0..x.rank()).collect()),
        Some(v) => v.into_iter().map(|d| norm_dim(d, x.rank())).collect(),
    }
}

/// The output shape of a reduction over `dims`.
pub(crate) fn reduced_shape(x: &TensorType, dims: &[usize], keepdim: bool) -> Shape {
    x.shape
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            if dims.contains(&i) {
                keepdim.then(|| Dim::constant(1))
            } else {
                Some(d.clone())
            }
        })
        .collect()
}

fn reduce_shape(c: &Call, x: &TensorType) -> Result<Shape, String> {
    let dims = reduce_dims(c, x)?;
    Ok(reduced_shape(x, &dims, c.bool_or("keepdim", false)))
}

/// `sum`/`prod`: integral and bool inputs accumulate in `i64` unless a dtype is given.
fn sum_like(c: &Call) -> R {
    let x = c.tensor("self")?;
    let s = reduce_shape(c, &x)?;
    let d = match c.opt_dtype("dtype")? {
        Some(d) => d,
        None if x.dtype.is_integral() || x.dtype == DType::Bool => DType::I64,
        None => x.dtype,
    };
    Ok(vec![t(d, s)])
}

fn mean_like(c: &Call) -> R {
    let x = c.tensor("self")?;
    let s = reduce_shape(c, &x)?;
    let d = c.opt_dtype("dtype")?.unwrap_or(x.dtype);
    if !(d.is_float() || d.is_complex()) {
        return Err(format!(
            "mean of a {d} tensor: needs a floating or complex dtype"
        ));
    }
    Ok(vec![t(d, s)])
}

fn logsumexp(c: &Call) -> R {
    let x = c.tensor("self")?;
    let s = reduce_shape(c, &x)?;
    let d = if x.dtype.is_integral() || x.dtype == DType::Bool {
        crate::aten::promote::DEFAULT_FLOAT
    } else {
        x.dtype
    };
    Ok(vec![t(d, s)])
}

fn keep_dtype(c: &Call) -> R {
    let x = c.tensor("self")?;
    let s = reduce_shape(c, &x)?;
    Ok(vec![t(x.dtype, s)])
}

fn minmax_dim(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.opt_int("dim")?.unwrap_or(-1), x.rank())?;
    let s = reduced_shape(&x, &[d], c.bool_or("keepdim", false));
    Ok(vec![t(x.dtype, s.clone()), t(DType::I64, s)])
}

fn aminmax(c: &Call) -> R {
    let x = c.tensor("self")?;
    let s = reduce_shape(c, &x)?;
    Ok(vec![t(x.dtype, s.clone()), t(x.dtype, s)])
}

fn argminmax(c: &Call) -> R {
    let x = c.tensor("self")?;
    let keep = c.bool_or("keepdim", false);
    let s = match c.opt_int("dim")? {
        None if keep => x.shape.iter().map(|_| Dim::constant(1)).collect(),
        None => Shape::new(),
        Some(d) => reduced_shape(&x, &[norm_dim(d, x.rank())?], keep),
    };
    Ok(vec![t(DType::I64, s)])
}

/// `var`/`std`: complex inputs give their real type.
fn var_like(c: &Call) -> R {
    let x = c.tensor("self")?;
    let s = reduce_shape(c, &x)?;
    Ok(vec![t(to_real(x.dtype), s)])
}

fn var_mean(c: &Call) -> R {
    let x = c.tensor("self")?;
    let s = reduce_shape(c, &x)?;
    Ok(vec![t(to_real(x.dtype), s.clone()), t(x.dtype, s)])
}

/// `any`/`all` give `bool`, except on `uint8`, which they keep (PyTorch's legacy rule).
fn any_all(c: &Call) -> R {
    let x = c.tensor("self")?;
    let s = reduce_shape(c, &x)?;
    let d = if x.dtype == DType::U8 {
        DType::U8
    } else {
        DType::Bool
    };
    Ok(vec![t(d, s)])
}

fn count_nonzero(c: &Call) -> R {
    let x = c.tensor("self")?;
    let s = reduce_shape(c, &x)?;
    Ok(vec![t(DType::I64, s)])
}

fn norm(c: &Call) -> R {
    let x = c.tensor("self")?;
    let s = reduce_shape(c, &x)?;
    let d = c.opt_dtype("dtype")?.unwrap_or(to_real(x.dtype));
    Ok(vec![t(d, s)])
}

fn topk(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.opt_int("dim")?.unwrap_or(-1), x.rank())?;
    let k = c.sym("k")?;
    let mut s = x.shape;
    if !s.is_empty() {
        s[d] = k;
    }
    Ok(vec![t(x.dtype, s.clone()), t(DType::I64, s)])
}

fn sort(c: &Call) -> R {
    let x = c.tensor("self")?;
    norm_dim(c.opt_int("dim")?.unwrap_or(-1), x.rank())?;
    Ok(vec![t(x.dtype, x.shape.clone()), t(DType::I64, x.shape)])
}

fn argsort(c: &Call) -> R {
    let x = c.tensor("self")?;
    Ok(vec![t(DType::I64, x.shape)])
}

/// `searchsorted`: one int64 (`out_int32`: int32) position per value; a Scalar value gives a
/// 0-d result.
fn searchsorted(c: &Call) -> R {
    let dtype = if c.bool_or("out_int32", false) {
        DType::I32
    } else {
        DType::I64
    };
    let shape = match c.overload() {
        "Scalar" => Shape::new(),
        _ => c.tensor("self")?.shape,
    };
    Ok(vec![t(dtype, shape)])
}

fn kthvalue(c: &Call) -> R {
    let x = c.tensor("self")?;
    let d = norm_dim(c.opt_int("dim")?.unwrap_or(-1), x.rank())?;
    let s = reduced_shape(&x, &[d], c.bool_or("keepdim", false));
    Ok(vec![t(x.dtype, s.clone()), t(DType::I64, s)])
}
