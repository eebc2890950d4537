//! Reductions, arg-reductions, sorting and top-k.

use super::{norm_dim, t, Call, Rule, R};
use crate::aten::promote::to_real;
use crate::dim::Dim;
use crate::dtype::DType;
use crate::types::{Shape, TensorType, Type};

/// Explicit rules of this family (by `base` or `base.overload`).
pub(crate) const RULES: &[(&str, Rule)] = &[
    ("segment_reduce", segment_reduce),
    ("histc", histc),
    ("histogram.bin_ct", histogram_bin_ct),
    ("histogram.bins_tensor", histogram_bins_tensor),
    ("histogramdd.default", histogramdd),
    ("histogramdd.int_bins", histogramdd),
    ("histogramdd.TensorList_bins", histogramdd),
    ("_histogramdd_bin_edges", histogramdd_edges),
    ("_histogramdd_from_bin_cts", histogramdd_hist),
    ("_histogramdd_from_bin_tensors", histogramdd_hist),
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

/// `histc`: `[bins]` in the input's dtype.
fn histc(c: &Call) -> R {
    let x = c.tensor("self")?;
    let bins = c.opt_int("bins")?.unwrap_or(100);
    Ok(vec![t(x.dtype, vec![Dim::constant(bins)])])
}

/// `histogram(self, bins: int)`: `[bins]` counts and `[bins + 1]` edges.
fn histogram_bin_ct(c: &Call) -> R {
    let x = c.tensor("self")?;
    let bins = c.opt_int("bins")?.unwrap_or(100);
    Ok(vec![
        t(x.dtype, vec![Dim::constant(bins)]),
        t(x.dtype, vec![Dim::constant(bins + 1)]),
    ])
}

/// `histogram(self, bins: Tensor)`: one count per pair of edges, and the edges.
fn histogram_bins_tensor(c: &Call) -> R {
    let x = c.tensor("self")?;
    let e = c.tensor("bins")?;
    let n = e
        .shape
        .first()
        .cloned()
        .ok_or("bins must be a 1-D tensor")?;
    Ok(vec![
        t(x.dtype, vec![n.add(&Dim::constant(-1))]),
        Type::Tensor(e),
    ])
}

/// The per-dim edge counts (bins + 1) of a `histogramdd` call: from an `int[]`, one `int`
/// for every dim of the points, or the edge tensors.
fn dd_edges(c: &Call) -> Result<Vec<Dim>, String> {
    let x = c.tensor("self")?;
    if let Ok(es) = c.tensors("bins") {
        return es
            .iter()
            .map(|e| {
                e.shape
                    .first()
                    .cloned()
                    .ok_or_else(|| "bins must be 1-D".to_string())
            })
            .collect();
    }
    let n = x
        .shape
        .last()
        .and_then(|d| d.as_const())
        .ok_or("histogramdd needs a static last dim")?;
    let bins = match c.ints("bins") {
        Ok(b) if c.overload() != "int_bins" => b,
        _ => vec![c.int("bins")?; n as usize],
    };
    Ok(bins.iter().map(|&b| Dim::constant(b + 1)).collect())
}

/// `histogramdd`: the histogram (one dim per point dim) and the edge tensors.
fn histogramdd(c: &Call) -> R {
    let x = c.tensor("self")?;
    let edges = dd_edges(c)?;
    let hist: Shape = edges.iter().map(|e| e.add(&Dim::constant(-1))).collect();
    let mut out = vec![t(x.dtype, hist)];
    out.extend(edges.into_iter().map(|e| t(x.dtype, vec![e])));
    Ok(out)
}

fn histogramdd_edges(c: &Call) -> R {
    let x = c.tensor("self")?;
    Ok(dd_edges(c)?
        .into_iter()
        .map(|e| t(x.dtype, vec![e]))
        .collect())
}

fn histogramdd_hist(c: &Call) -> R {
    let x = c.tensor("self")?;
    let hist: Shape = dd_edges(c)?
        .iter()
        .map(|e| e.add(&Dim::constant(-1)))
        .collect();
    Ok(vec![t(x.dtype, hist)])
}

/// `segment_reduce`: `data` with dim `axis` replaced by the segment count (the last size of
/// `lengths`, or of `offsets` minus one).
fn segment_reduce(c: &Call) -> R {
    let x = c.tensor("data")?;
    let axis = norm_dim(c.opt_int("axis")?.unwrap_or(0), x.rank())?;
    let n = if let Some(l) = c.opt_tensor("lengths")? {
        l.shape.last().cloned().ok_or("lengths must have a dim")?
    } else if let Some(o) = c.opt_tensor("offsets")? {
        o.shape
            .last()
            .ok_or("offsets must have a dim")?
            .add(&Dim::constant(-1))
    } else {
        return Err("segment_reduce needs lengths or offsets".into());
    };
    let mut s = x.shape.clone();
    if s.is_empty() {
        return Err("data must have at least one dim".into());
    }
    s[axis] = n;
    Ok(vec![t(x.dtype, s)])
}
