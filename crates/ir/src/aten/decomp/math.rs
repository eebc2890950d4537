//! Math composites written as pointwise ops and reductions, following PyTorch's own formulas
//! (`torch/_refs`, `torch/_decomp` and the ATen C++ kernels) so that results agree to rounding:
//! distances and losses, `addr`, `addmv`, `_safe_softmax`, `aminmax`, angle conversions, float
//! classification (`isposinf`, `isclose`, ...), `lerp`, `float_power`, `xlogy`, `logit`,
//! `mvlgamma`, `cross`, `trapezoid` and the aliases of copies (`conj_physical`, `positive`, ...).

use super::layout::{const_shape, to_dtype};
use super::{one, Add};
use crate::aten::promote::{result_type, Operand, DEFAULT_FLOAT};
use crate::graph::{Arg, ValueId};
use crate::ops::decomp::{float, int, ints, val};
use crate::ops::DecompCx;
use crate::DType;
use std::f64::consts::PI;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.pairwise_distance.default", pairwise_distance);
    add("aten.cosine_embedding_loss.default", cosine_embedding_loss);
    add("aten.addr.default", addr);
    add("aten.addmv.default", addmv);
    add("aten._safe_softmax.default", safe_softmax);
    add("aten.aminmax.default", aminmax);
    // `zero` is what `functionalize` makes of `zero_` (Swin V2's relative-position tables).
    add("aten.zero.default", |c| {
        let x = c.tensor("self")?;
        one(c.call("aten.zeros_like.default", vec![val(x)])?)
    });
    add("aten.deg2rad.default", |c| scale_float(c, PI / 180.0));
    add("aten.rad2deg.default", |c| scale_float(c, 180.0 / PI));
    add("aten.isposinf.default", |c| {
        let x = c.tensor("self")?;
        one(c.call("aten.eq.Scalar", vec![val(x), float(f64::INFINITY)])?)
    });
    add("aten.isneginf.default", |c| {
        let x = c.tensor("self")?;
        one(c.call("aten.eq.Scalar", vec![val(x), float(f64::NEG_INFINITY)])?)
    });
    add("aten.isreal.default", |c| {
        // Every real tensor is real everywhere (complex inputs never reach the executor).
        let x = c.tensor("self")?;
        one(full_like(c, x, Arg::Bool(true), Some(DType::Bool))?)
    });
    add("aten.frac.default", |c| {
        let x = c.tensor("self")?;
        let t = c.call("aten.trunc.default", vec![val(x)])?;
        one(c.call("aten.sub.Tensor", vec![val(x), val(t)])?)
    });
    add("aten.heaviside.default", |c| {
        // `x == 0 ? values : x > 0`, in the input's dtype (NaN inputs give 0, as ATen's kernel).
        let (x, v) = (c.tensor("self")?, c.tensor("values")?);
        let dtype = c.tensor_type(x)?.dtype;
        let pos = c.call("aten.gt.Scalar", vec![val(x), int(0)])?;
        let pos = to_dtype(c, pos, dtype)?;
        let zero = c.call("aten.eq.Scalar", vec![val(x), int(0)])?;
        one(c.call("aten.where.self", vec![val(zero), val(v), val(pos)])?)
    });
    add("aten.hypot.default", |c| {
        let (a, b) = (c.tensor("self")?, c.tensor("other")?);
        let a2 = c.call("aten.mul.Tensor", vec![val(a), val(a)])?;
        let b2 = c.call("aten.mul.Tensor", vec![val(b), val(b)])?;
        let s = c.call("aten.add.Tensor", vec![val(a2), val(b2)])?;
        one(c.call("aten.sqrt.default", vec![val(s)])?)
    });
    add("aten.special_ndtr.default", |c| {
        // Φ(x) = erfc(-x / √2) / 2, in the default float dtype for integer and bool inputs.
        let x = c.tensor("self")?;
        let x = floating(c, x)?;
        let s = c.call(
            "aten.mul.Scalar",
            vec![val(x), float(-std::f64::consts::FRAC_1_SQRT_2)],
        )?;
        let e = c.call("aten.erfc.default", vec![val(s)])?;
        one(c.call("aten.mul.Scalar", vec![val(e), float(0.5)])?)
    });
    add("aten.special_polygamma.default", |c| {
        let (n, x) = (c.int("n")?, c.tensor("self")?);
        one(c.call("aten.polygamma.default", vec![int(n), val(x)])?)
    });
    add("aten.glu.default", glu);
    add("aten.linalg_vander.default", vander);
    add("aten.lerp.Scalar", lerp_scalar);
    add("aten.lerp.Tensor", lerp_tensor);
    add("aten.float_power.Tensor_Tensor", |c| {
        let (x, e) = (c.tensor("self")?, c.tensor("exponent")?);
        let (x, e) = (to_dtype(c, x, DType::F64)?, to_dtype(c, e, DType::F64)?);
        one(c.call("aten.pow.Tensor_Tensor", vec![val(x), val(e)])?)
    });
    add("aten.float_power.Tensor_Scalar", |c| {
        let x = c.tensor("self")?;
        let e = c.float("exponent")?;
        let x = to_dtype(c, x, DType::F64)?;
        one(c.call("aten.pow.Tensor_Scalar", vec![val(x), float(e)])?)
    });
    add("aten.float_power.Scalar", |c| {
        let s = c.float("self")?;
        let e = c.tensor("exponent")?;
        let e = to_dtype(c, e, DType::F64)?;
        one(c.call("aten.pow.Scalar", vec![float(s), val(e)])?)
    });
    add("aten.count_nonzero.default", |c| {
        let x = c.tensor("self")?;
        let dims = c.opt_int("dim")?.map(|d| vec![d]);
        count_nonzero(c, x, dims)
    });
    add("aten.count_nonzero.dim_IntList", |c| {
        let x = c.tensor("self")?;
        let dims = c.ints("dim")?;
        count_nonzero(c, x, Some(dims))
    });
    for name in [
        "aten.conj_physical.default",
        "aten.positive.default",
        "aten.resolve_conj.default",
        "aten.resolve_neg.default",
        "aten.real.default",
    ] {
        // Identities on real tensors.
        add(name, |c| {
            let x = c.tensor("self")?;
            one(c.call("aten.clone.default", vec![val(x)])?)
        });
    }
    add("aten.expand_copy.default", |c| {
        let x = c.tensor("self")?;
        let size = c.arg("size")?;
        let e = c.call("aten.expand.default", vec![val(x), size])?;
        one(c.call("aten.clone.default", vec![val(e)])?)
    });
    add("aten.fill.Scalar", |c| {
        let x = c.tensor("self")?;
        let v = c.arg("value")?;
        one(full_like(c, x, v, None)?)
    });
    add("aten.fill.Tensor", |c| {
        let (x, v) = (c.tensor("self")?, c.tensor("value")?);
        if c.rank(v)? != 0 {
            return Err("fill only supports a 0-dimension value tensor".into());
        }
        let dtype = c.tensor_type(x)?.dtype;
        let v = to_dtype(c, v, dtype)?;
        let shape = const_shape(c, x)?;
        let e = c.call("aten.expand.default", vec![val(v), ints(&shape)])?;
        one(c.call("aten.clone.default", vec![val(e)])?)
    });
    add("aten.argsort.default", |c| {
        let x = c.tensor("self")?;
        let (dim, desc) = (c.int("dim")?, c.bool("descending")?);
        let r = c.call_kw(
            "aten.sort.default",
            vec![val(x), int(dim), Arg::Bool(desc)],
            vec![],
        )?;
        one(r[1])
    });
    add("aten.argsort.stable", |c| {
        let x = c.tensor("self")?;
        let (stable, dim, desc) = (c.bool("stable")?, c.int("dim")?, c.bool("descending")?);
        let r = c.call_kw(
            "aten.sort.stable",
            vec![val(x)],
            vec![
                ("stable".into(), Arg::Bool(stable)),
                ("dim".into(), int(dim)),
                ("descending".into(), Arg::Bool(desc)),
            ],
        )?;
        one(r[1])
    });
    add("aten.msort.default", |c| {
        let x = c.tensor("self")?;
        let r = c.call_kw(
            "aten.sort.default",
            vec![val(x), int(0), Arg::Bool(false)],
            vec![],
        )?;
        one(r[0])
    });
    add("aten.linalg_cross.default", |c| {
        let dim = c.int("dim")?;
        cross(c, Some(dim))
    });
    add("aten.cross.default", |c| {
        let dim = c.opt_int("dim")?;
        cross(c, dim)
    });
    add("aten.angle.default", angle);
    add("aten._unsafe_masked_index.default", unsafe_masked_index);
    add(
        "aten._unsafe_masked_index_put_accumulate.default",
        unsafe_masked_index_put_accumulate,
    );
    add("aten.isclose.default", isclose);
    add("aten.logit.default", logit);
    add("aten.xlogy.Tensor", |c| xlogy(c, false));
    add("aten.special_xlog1py.default", |c| xlogy(c, true));
    add("aten.special_entr.default", entr);
    add("aten.sinc.default", sinc);
    add("aten.sgn.default", |c| {
        let x = c.tensor("self")?;
        one(c.call("aten.sign.default", vec![val(x)])?)
    });
    add("aten.nan_to_num.default", nan_to_num);
    add("aten.ravel.default", |c| {
        let x = c.tensor("self")?;
        one(c.call("aten.reshape.default", vec![val(x), ints(&[-1])])?)
    });
    add("aten.view_as.default", |c| {
        let (x, o) = (c.tensor("self")?, c.tensor("other")?);
        let shape = const_shape(c, o)?;
        one(c.call("aten.reshape.default", vec![val(x), ints(&shape)])?)
    });
    add("aten.narrow_copy.default", |c| {
        let x = c.tensor("self")?;
        let (d, s, l) = (c.arg("dim")?, c.arg("start")?, c.arg("length")?);
        let n = c.call("aten.narrow.default", vec![val(x), d, s, l])?;
        one(c.call("aten.clone.default", vec![val(n)])?)
    });
    add("aten.tile.default", |c| {
        let x = c.tensor("self")?;
        let mut dims = c.ints("dims")?;
        let r = c.rank(x)?;
        while dims.len() < r {
            dims.insert(0, 1);
        }
        one(c.call("aten.repeat.default", vec![val(x), ints(&dims)])?)
    });
    add("aten.rot90.default", rot90);
    add("aten.outer.default", |c| {
        let (a, b) = (c.tensor("self")?, c.tensor("vec2")?);
        one(outer(c, a, b)?)
    });
    add("aten.threshold.default", |c| {
        // `x <= threshold ? value : x`.
        let x = c.tensor("self")?;
        let (t, v) = (c.arg("threshold")?, c.arg("value")?);
        let m = c.call("aten.le.Scalar", vec![val(x), t])?;
        one(c.call("aten.masked_fill.Scalar", vec![val(x), val(m), v])?)
    });
    add("aten.selu.default", |c| {
        let x = c.tensor("self")?;
        one(c.call(
            "aten.elu.default",
            vec![
                val(x),
                float(1.673_263_242_354_377_3),
                float(1.050_700_987_355_480_5),
                int(1),
            ],
        )?)
    });
    add("aten.softshrink.default", |c| {
        // `x > l ? x - l : x < -l ? x + l : 0`.
        let x = c.tensor("self")?;
        let l = c.float("lambd")?;
        let hi = c.call("aten.gt.Scalar", vec![val(x), float(l)])?;
        let lo = c.call("aten.lt.Scalar", vec![val(x), float(-l)])?;
        let xm = c.call("aten.sub.Scalar", vec![val(x), float(l), int(1)])?;
        let xp = c.call("aten.add.Scalar", vec![val(x), float(l), int(1)])?;
        let z = c.call("aten.zeros_like.default", vec![val(x)])?;
        let r = c.call("aten.where.self", vec![val(lo), val(xp), val(z)])?;
        one(c.call("aten.where.self", vec![val(hi), val(xm), val(r)])?)
    });
    add("aten.rms_norm.default", rms_norm);
    add("aten.mse_loss.default", |c| {
        let (x, y) = (c.tensor("self")?, c.tensor("target")?);
        let d = c.call("aten.sub.Tensor", vec![val(x), val(y)])?;
        let l = c.call("aten.mul.Tensor", vec![val(d), val(d)])?;
        reduce(c, l)
    });
    add("aten.smooth_l1_loss.default", |c| {
        let (x, y) = (c.tensor("self")?, c.tensor("target")?);
        let beta = c.float("beta")?;
        let d = c.call("aten.sub.Tensor", vec![val(x), val(y)])?;
        let d = c.call("aten.abs.default", vec![val(d)])?;
        if beta == 0.0 {
            return reduce(c, d);
        }
        let sq = c.call("aten.mul.Tensor", vec![val(d), val(d)])?;
        let sq = c.call("aten.mul.Scalar", vec![val(sq), float(0.5)])?;
        let sq = c.call("aten.div.Scalar", vec![val(sq), float(beta)])?;
        let li = c.call("aten.sub.Scalar", vec![val(d), float(0.5 * beta), int(1)])?;
        let m = c.call("aten.lt.Scalar", vec![val(d), float(beta)])?;
        let l = c.call("aten.where.self", vec![val(m), val(sq), val(li)])?;
        reduce(c, l)
    });
    add("aten.soft_margin_loss.default", |c| {
        let (x, y) = (c.tensor("self")?, c.tensor("target")?);
        let p = c.call("aten.mul.Tensor", vec![val(y), val(x)])?;
        let p = c.call("aten.neg.default", vec![val(p)])?;
        let e = c.call("aten.exp.default", vec![val(p)])?;
        let l = c.call("aten.log1p.default", vec![val(e)])?;
        reduce(c, l)
    });
    add("aten.margin_ranking_loss.default", |c| {
        let (a, b, y) = (
            c.tensor("input1")?,
            c.tensor("input2")?,
            c.tensor("target")?,
        );
        let margin = c.float("margin")?;
        let d = c.call("aten.sub.Tensor", vec![val(a), val(b)])?;
        let p = c.call("aten.mul.Tensor", vec![val(y), val(d)])?;
        let p = c.call("aten.neg.default", vec![val(p)])?;
        let p = c.call("aten.add.Scalar", vec![val(p), float(margin), int(1)])?;
        let l = c.call("aten.clamp_min.default", vec![val(p), int(0)])?;
        reduce(c, l)
    });
    add("aten.triplet_margin_loss.default", triplet_margin_loss);
    add("aten.mvlgamma.default", mvlgamma);
    add("aten.trapezoid.dx", |c| trapezoid(c, "y"));
    add("aten.trapz.dx", |c| trapezoid(c, "y"));
    add("aten.cumulative_trapezoid.dx", cumulative_trapezoid);
    add("aten.take.default", |c| {
        let (x, i) = (c.tensor("self")?, c.tensor("index")?);
        let flat = c.call("aten.reshape.default", vec![val(x), ints(&[-1])])?;
        one(c.call(
            "aten.index.Tensor",
            vec![val(flat), Arg::List(vec![val(i)])],
        )?)
    });
    add("aten.take_along_dim.default", take_along_dim);
    add("aten.ldexp.Tensor", |c| {
        // `self * 2 ** other`, as ATen computes it (a float result for integer inputs).
        let (x, e) = (c.tensor("self")?, c.tensor("other")?);
        let p = c.call("aten.pow.Scalar", vec![float(2.0), val(e)])?;
        one(c.call("aten.mul.Tensor", vec![val(x), val(p)])?)
    });
}

/// `full_like(x, value)`, optionally in another dtype.
fn full_like(
    c: &mut DecompCx<'_>,
    x: ValueId,
    value: Arg,
    dtype: Option<DType>,
) -> Result<ValueId, String> {
    let kw = dtype
        .map(|d| vec![("dtype".to_string(), Arg::DType(d))])
        .unwrap_or_default();
    let r = c.call_kw("aten.full_like.default", vec![val(x), value], kw)?;
    Ok(r[0])
}

/// `x` converted to the default float dtype unless it is floating already.
fn floating(c: &mut DecompCx<'_>, x: ValueId) -> Result<ValueId, String> {
    if c.tensor_type(x)?.dtype.is_float() {
        Ok(x)
    } else {
        to_dtype(c, x, DEFAULT_FLOAT)
    }
}

/// The float dtype two tensors compute in: their promoted type, the default float for integers.
fn float_of(c: &DecompCx<'_>, a: ValueId, b: ValueId) -> Result<DType, String> {
    let (ta, tb) = (c.tensor_type(a)?, c.tensor_type(b)?);
    let d = result_type(&[
        Operand::tensor(ta.dtype, ta.shape.len()),
        Operand::tensor(tb.dtype, tb.shape.len()),
    ])?;
    Ok(if d.is_float() { d } else { DEFAULT_FLOAT })
}

fn scale_float(c: &mut DecompCx<'_>, k: f64) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let x = floating(c, x)?;
    one(c.call("aten.mul.Scalar", vec![val(x), float(k)])?)
}

/// `apply_loss_reduction`: 0 none, 1 mean, 2 sum.
pub(super) fn reduce(c: &mut DecompCx<'_>, l: ValueId) -> Result<Vec<Arg>, String> {
    match c.int("reduction")? {
        0 => one(l),
        1 => one(c.call("aten.mean.default", vec![val(l)])?),
        2 => one(c.call("aten.sum.default", vec![val(l)])?),
        r => Err(format!("unknown reduction {r}")),
    }
}

/// `‖x1 - x2 + eps‖_p` over the last dim of the broadcast (ATen's `pairwise_distance`).
fn pairwise(
    c: &mut DecompCx<'_>,
    a: ValueId,
    b: ValueId,
    p: f64,
    eps: f64,
    keepdim: bool,
) -> Result<ValueId, String> {
    let inner = c.rank(a)?.max(c.rank(b)?) as i64 - 1;
    let d = c.call("aten.sub.Tensor", vec![val(a), val(b)])?;
    let d = c.call("aten.add.Scalar", vec![val(d), float(eps), int(1)])?;
    c.call(
        "aten.linalg_vector_norm.default",
        vec![val(d), float(p), ints(&[inner.max(-1)]), Arg::Bool(keepdim)],
    )
}

fn pairwise_distance(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (a, b) = (c.tensor("x1")?, c.tensor("x2")?);
    let (p, eps, keepdim) = (c.float("p")?, c.float("eps")?, c.bool("keepdim")?);
    one(pairwise(c, a, b, p, eps, keepdim)?)
}

fn triplet_margin_loss(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (a, pos, neg) = (
        c.tensor("anchor")?,
        c.tensor("positive")?,
        c.tensor("negative")?,
    );
    let (margin, p, eps, swap) = (
        c.float("margin")?,
        c.float("p")?,
        c.float("eps")?,
        c.bool("swap")?,
    );
    let dp = pairwise(c, a, pos, p, eps, false)?;
    let mut dn = pairwise(c, a, neg, p, eps, false)?;
    if swap {
        let ds = pairwise(c, pos, neg, p, eps, false)?;
        dn = c.call("aten.minimum.default", vec![val(dn), val(ds)])?;
    }
    let d = c.call("aten.sub.Tensor", vec![val(dp), val(dn)])?;
    let d = c.call("aten.add.Scalar", vec![val(d), float(margin), int(1)])?;
    let l = c.call("aten.clamp_min.default", vec![val(d), int(0)])?;
    reduce(c, l)
}

/// ATen's `cosine_embedding_loss`: `1 - cos` where the target is 1, `max(0, cos - margin)`
/// where it is -1, 0 elsewhere; the cosine over dim `target.dim()` with `1e-12` added to each
/// squared magnitude.
fn cosine_embedding_loss(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    const EPS: f64 = 1e-12;
    let (a, b, y) = (
        c.tensor("input1")?,
        c.tensor("input2")?,
        c.tensor("target")?,
    );
    let margin = c.float("margin")?;
    let dim = ints(&[c.rank(y)? as i64]);
    let sum = |c: &mut DecompCx<'_>, p: ValueId| {
        c.call("aten.sum.dim_IntList", vec![val(p), dim.clone()])
    };
    let ab = c.call("aten.mul.Tensor", vec![val(a), val(b)])?;
    let prod = sum(c, ab)?;
    let aa = c.call("aten.mul.Tensor", vec![val(a), val(a)])?;
    let m1 = sum(c, aa)?;
    let m1 = c.call("aten.add.Scalar", vec![val(m1), float(EPS), int(1)])?;
    let bb = c.call("aten.mul.Tensor", vec![val(b), val(b)])?;
    let m2 = sum(c, bb)?;
    let m2 = c.call("aten.add.Scalar", vec![val(m2), float(EPS), int(1)])?;
    let den = c.call("aten.mul.Tensor", vec![val(m1), val(m2)])?;
    let den = c.call("aten.sqrt.default", vec![val(den)])?;
    let cos = c.call("aten.div.Tensor", vec![val(prod), val(den)])?;
    let zeros = c.call("aten.zeros_like.default", vec![val(cos)])?;
    let pos = c.call("aten.rsub.Scalar", vec![val(cos), int(1), int(1)])?;
    let neg = c.call("aten.sub.Scalar", vec![val(cos), float(margin), int(1)])?;
    let neg = c.call("aten.clamp_min.default", vec![val(neg), int(0)])?;
    let is_pos = c.call("aten.eq.Scalar", vec![val(y), int(1)])?;
    let is_neg = c.call("aten.eq.Scalar", vec![val(y), int(-1)])?;
    let op = c.call("aten.where.self", vec![val(is_pos), val(pos), val(zeros)])?;
    let on = c.call("aten.where.self", vec![val(is_neg), val(neg), val(zeros)])?;
    let l = c.call("aten.add.Tensor", vec![val(op), val(on)])?;
    reduce(c, l)
}

fn outer(c: &mut DecompCx<'_>, a: ValueId, b: ValueId) -> Result<ValueId, String> {
    let a1 = c.call("aten.unsqueeze.default", vec![val(a), int(1)])?;
    let b0 = c.call("aten.unsqueeze.default", vec![val(b), int(0)])?;
    c.call("aten.mul.Tensor", vec![val(a1), val(b0)])
}

fn is_zero(a: &Arg) -> bool {
    a.as_f64() == Some(0.0) || matches!(a, Arg::Bool(false))
}

fn is_one(a: &Arg) -> bool {
    a.as_f64() == Some(1.0) || matches!(a, Arg::Bool(true))
}

/// `beta * self + alpha * product`, with `self` ignored (NaN included) when `beta` is 0, and
/// for booleans `(beta and self) or (alpha and product)`.
fn scaled_sum(c: &mut DecompCx<'_>, s: ValueId, p: ValueId) -> Result<Vec<Arg>, String> {
    let (beta, alpha) = (c.arg("beta")?, c.arg("alpha")?);
    if c.tensor_type(p)?.dtype == DType::Bool {
        let p = if is_zero(&alpha) {
            c.call("aten.zeros_like.default", vec![val(p)])?
        } else {
            p
        };
        if is_zero(&beta) {
            return one(p);
        }
        return one(c.call("aten.logical_or.default", vec![val(s), val(p)])?);
    }
    let p = if is_one(&alpha) {
        p
    } else {
        c.call("aten.mul.Scalar", vec![val(p), alpha])?
    };
    if is_zero(&beta) {
        let shape = const_shape(c, p)?;
        let sd = c.tensor_type(s)?.dtype;
        let r = if c.tensor_type(p)?.dtype == sd {
            p
        } else {
            to_dtype(c, p, sd)?
        };
        return one(c.call("aten.expand.default", vec![val(r), ints(&shape)])?);
    }
    let s = if is_one(&beta) {
        s
    } else {
        c.call("aten.mul.Scalar", vec![val(s), beta])?
    };
    one(c.call("aten.add.Tensor", vec![val(s), val(p)])?)
}

fn addr(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (s, a, b) = (c.tensor("self")?, c.tensor("vec1")?, c.tensor("vec2")?);
    let p = outer(c, a, b)?;
    scaled_sum(c, s, p)
}

fn addmv(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (s, m, v) = (c.tensor("self")?, c.tensor("mat")?, c.tensor("vec")?);
    let p = c.call("aten.mv.default", vec![val(m), val(v)])?;
    scaled_sum(c, s, p)
}

/// `softmax`, with 0 for slices that are entirely `-inf` (instead of NaN).
fn safe_softmax(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let dim = c.int("dim")?;
    let dtype = c.arg("dtype")?;
    let s = c.call("aten.softmax.int", vec![val(x), int(dim), dtype])?;
    let m = c.call("aten.eq.Scalar", vec![val(x), float(f64::NEG_INFINITY)])?;
    let all = c.call("aten.all.dim", vec![val(m), int(dim), Arg::Bool(true)])?;
    one(c.call("aten.masked_fill.Scalar", vec![val(s), val(all), int(0)])?)
}

fn aminmax(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let keep = Arg::Bool(c.bool("keepdim")?);
    let dims = match c.opt_int("dim")? {
        Some(d) => ints(&[d]),
        None => ints(&[]),
    };
    let lo = c.call(
        "aten.amin.default",
        vec![val(x), dims.clone(), keep.clone()],
    )?;
    let hi = c.call("aten.amax.default", vec![val(x), dims, keep])?;
    Ok(vec![val(lo), val(hi)])
}

fn count_nonzero(
    c: &mut DecompCx<'_>,
    x: ValueId,
    dims: Option<Vec<i64>>,
) -> Result<Vec<Arg>, String> {
    let nz = c.call("aten.ne.Scalar", vec![val(x), int(0)])?;
    match dims {
        None => one(c.call("aten.sum.default", vec![val(nz)])?),
        Some(d) => one(c.call("aten.sum.dim_IntList", vec![val(nz), ints(&d)])?),
    }
}

/// ATen's `lerp`: `start + w * (end - start)` for `|w| < 0.5`, else
/// `end - (end - start) * (1 - w)` (exact at both ends).
fn lerp_scalar(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (s, e) = (c.tensor("self")?, c.tensor("end")?);
    let w = c.float("weight")?;
    let d = c.call("aten.sub.Tensor", vec![val(e), val(s)])?;
    if w.abs() < 0.5 {
        let t = c.call("aten.mul.Scalar", vec![val(d), float(w)])?;
        one(c.call("aten.add.Tensor", vec![val(s), val(t)])?)
    } else {
        let t = c.call("aten.mul.Scalar", vec![val(d), float(1.0 - w)])?;
        one(c.call("aten.sub.Tensor", vec![val(e), val(t)])?)
    }
}

fn lerp_tensor(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (s, e, w) = (c.tensor("self")?, c.tensor("end")?, c.tensor("weight")?);
    let d = c.call("aten.sub.Tensor", vec![val(e), val(s)])?;
    let t = c.call("aten.mul.Tensor", vec![val(d), val(w)])?;
    let lo = c.call("aten.add.Tensor", vec![val(s), val(t)])?;
    let w1 = c.call("aten.rsub.Scalar", vec![val(w), int(1), int(1)])?;
    let t = c.call("aten.mul.Tensor", vec![val(d), val(w1)])?;
    let hi = c.call("aten.sub.Tensor", vec![val(e), val(t)])?;
    let aw = c.call("aten.abs.default", vec![val(w)])?;
    let small = c.call("aten.lt.Scalar", vec![val(aw), float(0.5)])?;
    one(c.call("aten.where.self", vec![val(small), val(lo), val(hi)])?)
}

/// The cross product along `dim` (the first dim of size 3 when `None`), after broadcasting.
fn cross(c: &mut DecompCx<'_>, dim: Option<i64>) -> Result<Vec<Arg>, String> {
    let (a, b) = (c.tensor("self")?, c.tensor("other")?);
    let (sa, sb) = (const_shape(c, a)?, const_shape(c, b)?);
    let r = sa.len().max(sb.len());
    let mut shape = vec![1i64; r];
    for s in [&sa, &sb] {
        for (i, &d) in s.iter().enumerate() {
            let o = &mut shape[r - s.len() + i];
            if *o == 1 {
                *o = d;
            }
        }
    }
    let d = match dim {
        Some(d) => {
            let d = if d < 0 { d + r as i64 } else { d };
            if !(0..r as i64).contains(&d) {
                return Err(format!("dim {d} is out of range for rank {r}"));
            }
            d as usize
        }
        None => shape
            .iter()
            .position(|&n| n == 3)
            .ok_or("no dimension of size 3 in input")?,
    };
    if shape[d] != 3 {
        return Err(format!(
            "inputs dimension {d} must have length 3, got {}",
            shape[d]
        ));
    }
    let a = c.call("aten.expand.default", vec![val(a), ints(&shape)])?;
    let b = c.call("aten.expand.default", vec![val(b), ints(&shape)])?;
    let comp = |c: &mut DecompCx<'_>, t: ValueId, i: i64| {
        c.call(
            "aten.slice.Tensor",
            vec![val(t), int(d as i64), int(i), int(i + 1), int(1)],
        )
    };
    let (a0, a1, a2) = (comp(c, a, 0)?, comp(c, a, 1)?, comp(c, a, 2)?);
    let (b0, b1, b2) = (comp(c, b, 0)?, comp(c, b, 1)?, comp(c, b, 2)?);
    let term = |c: &mut DecompCx<'_>, x: ValueId, y: ValueId, z: ValueId, w: ValueId| {
        let p = c.call("aten.mul.Tensor", vec![val(x), val(y)])?;
        let q = c.call("aten.mul.Tensor", vec![val(z), val(w)])?;
        c.call("aten.sub.Tensor", vec![val(p), val(q)])
    };
    let x = term(c, a1, b2, a2, b1)?;
    let y = term(c, a2, b0, a0, b2)?;
    let z = term(c, a0, b1, a1, b0)?;
    let list = Arg::List(vec![val(x), val(y), val(z)]);
    one(c.call("aten.cat.default", vec![list, int(d as i64)])?)
}

/// The angle of a real number: π for negatives, 0 otherwise, NaN for NaN; in float.
fn angle(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let x = floating(c, x)?;
    let dtype = c.tensor_type(x)?.dtype;
    let neg = c.call("aten.lt.Scalar", vec![val(x), int(0)])?;
    let neg = to_dtype(c, neg, dtype)?;
    let r = c.call("aten.mul.Scalar", vec![val(neg), float(PI)])?;
    let nan = c.call("aten.isnan.default", vec![val(x)])?;
    one(c.call("aten.where.self", vec![val(nan), val(x), val(r)])?)
}

/// The `indices` argument with every index clamped into range of its dim of `x` (the masked
/// positions may hold any index: they are never read).
fn clamped_indices(c: &mut DecompCx<'_>, x: ValueId) -> Result<Arg, String> {
    let shape = const_shape(c, x)?;
    let Arg::List(items) = c.arg("indices")? else {
        return Err("indices must be a list".into());
    };
    let mut out = Vec::with_capacity(items.len());
    for (d, a) in items.into_iter().enumerate() {
        out.push(match a {
            Arg::Value(i) => {
                let n = *shape.get(d).ok_or("too many indices")?;
                val(c.call("aten.clamp.default", vec![val(i), int(-n), int(n - 1)])?)
            }
            other => other,
        });
    }
    Ok(Arg::List(out))
}

fn unsafe_masked_index(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (x, mask) = (c.tensor("self")?, c.tensor("mask")?);
    let fill = c.arg("fill")?;
    let idx = clamped_indices(c, x)?;
    let v = c.call("aten.index.Tensor", vec![val(x), idx])?;
    let off = c.call("aten.logical_not.default", vec![val(mask)])?;
    one(c.call("aten.masked_fill.Scalar", vec![val(v), val(off), fill])?)
}

fn unsafe_masked_index_put_accumulate(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (x, mask, values) = (c.tensor("self")?, c.tensor("mask")?, c.tensor("values")?);
    let idx = clamped_indices(c, x)?;
    let off = c.call("aten.logical_not.default", vec![val(mask)])?;
    let v = c.call(
        "aten.masked_fill.Scalar",
        vec![val(values), val(off), int(0)],
    )?;
    one(c.call(
        "aten.index_put.default",
        vec![val(x), idx, val(v), Arg::Bool(true)],
    )?)
}

/// ATen's `isclose`: equal, or both NaN with `equal_nan`, or a finite `|a - b|` within
/// `atol + |rtol * b|` (booleans compare in the default float dtype).
fn isclose(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (a, b) = (c.tensor("self")?, c.tensor("other")?);
    let (rtol, atol, equal_nan) = (c.float("rtol")?, c.float("atol")?, c.bool("equal_nan")?);
    let mut close = c.call("aten.eq.Tensor", vec![val(a), val(b)])?;
    if equal_nan && c.tensor_type(a)?.dtype.is_float() {
        let na = c.call("aten.isnan.default", vec![val(a)])?;
        let nb = c.call("aten.isnan.default", vec![val(b)])?;
        let both = c.call("aten.logical_and.default", vec![val(na), val(nb)])?;
        close = c.call("aten.logical_or.default", vec![val(close), val(both)])?;
    }
    if rtol == 0.0 && atol == 0.0 {
        return one(close);
    }
    let cast = |c: &mut DecompCx<'_>, v: ValueId| -> Result<ValueId, String> {
        if c.tensor_type(v)?.dtype == DType::Bool {
            to_dtype(c, v, DEFAULT_FLOAT)
        } else {
            Ok(v)
        }
    };
    let (ca, cb) = (cast(c, a)?, cast(c, b)?);
    let allowed = c.call("aten.mul.Scalar", vec![val(cb), float(rtol)])?;
    let allowed = c.call("aten.abs.default", vec![val(allowed)])?;
    let allowed = c.call("aten.add.Scalar", vec![val(allowed), float(atol), int(1)])?;
    let actual = c.call("aten.sub.Tensor", vec![val(ca), val(cb)])?;
    let actual = c.call("aten.abs.default", vec![val(actual)])?;
    let fin = c.call("aten.isfinite.default", vec![val(actual)])?;
    let within = c.call("aten.le.Tensor", vec![val(actual), val(allowed)])?;
    let ok = c.call("aten.logical_and.default", vec![val(fin), val(within)])?;
    one(c.call("aten.logical_or.default", vec![val(close), val(ok)])?)
}

/// `log(x / (1 - x))`, `x` clamped to `[eps, 1 - eps]` when `eps` is given.
fn logit(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let mut x = floating(c, x)?;
    if let Arg::Float(_) | Arg::Int(_) = c.arg("eps")? {
        let eps = c.float("eps")?;
        x = c.call(
            "aten.clamp.default",
            vec![val(x), float(eps), float(1.0 - eps)],
        )?;
    }
    let d = c.call("aten.rsub.Scalar", vec![val(x), int(1), int(1)])?;
    let q = c.call("aten.div.Tensor", vec![val(x), val(d)])?;
    one(c.call("aten.log.default", vec![val(q)])?)
}

/// `xlogy(x, y)`: NaN where `y` is NaN, else 0 where `x` is 0, else `x * log(y)`
/// (`log1p` for `xlog1py`).
fn xlogy(c: &mut DecompCx<'_>, log1p: bool) -> Result<Vec<Arg>, String> {
    let (a, b) = (c.tensor("self")?, c.tensor("other")?);
    let dt = float_of(c, a, b)?;
    let (a, b) = (to_dtype(c, a, dt)?, to_dtype(c, b, dt)?);
    let l = c.call(
        if log1p {
            "aten.log1p.default"
        } else {
            "aten.log.default"
        },
        vec![val(b)],
    )?;
    let p = c.call("aten.mul.Tensor", vec![val(a), val(l)])?;
    let z = c.call("aten.eq.Scalar", vec![val(a), int(0)])?;
    let zeros = c.call("aten.zeros_like.default", vec![val(p)])?;
    let r = c.call("aten.where.self", vec![val(z), val(zeros), val(p)])?;
    let nan = c.call("aten.isnan.default", vec![val(b)])?;
    one(c.call("aten.where.self", vec![val(nan), val(b), val(r)])?)
}

/// `entr(x)`: `-x ln x` for `x > 0`, 0 at 0, `-inf` below, NaN for NaN.
fn entr(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let x = floating(c, x)?;
    let l = c.call("aten.log.default", vec![val(x)])?;
    let p = c.call("aten.mul.Tensor", vec![val(x), val(l)])?;
    let p = c.call("aten.neg.default", vec![val(p)])?;
    let z = c.call("aten.eq.Scalar", vec![val(x), int(0)])?;
    let p = c.call("aten.masked_fill.Scalar", vec![val(p), val(z), int(0)])?;
    let n = c.call("aten.lt.Scalar", vec![val(x), int(0)])?;
    one(c.call(
        "aten.masked_fill.Scalar",
        vec![val(p), val(n), float(f64::NEG_INFINITY)],
    )?)
}

/// `sinc(x) = sin(πx) / (πx)`, 1 at 0.
fn sinc(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let x = floating(c, x)?;
    let px = c.call("aten.mul.Scalar", vec![val(x), float(PI)])?;
    let s = c.call("aten.sin.default", vec![val(px)])?;
    let q = c.call("aten.div.Tensor", vec![val(s), val(px)])?;
    let z = c.call("aten.eq.Scalar", vec![val(x), int(0)])?;
    one(c.call("aten.masked_fill.Scalar", vec![val(q), val(z), int(1)])?)
}

fn nan_to_num(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let dtype = c.tensor_type(x)?.dtype;
    if !dtype.is_float() {
        return one(c.call("aten.clone.default", vec![val(x)])?);
    }
    let (max, min) = match dtype {
        DType::F64 => (f64::MAX, f64::MIN),
        DType::F16 => (65504.0, -65504.0),
        DType::BF16 => (3.389_531_389_251_535_5e38, -3.389_531_389_251_535_5e38),
        _ => (f32::MAX as f64, f32::MIN as f64),
    };
    let pick = |a: Arg, d: f64| match a {
        Arg::None => d,
        a => a.as_f64().unwrap_or(d),
    };
    let nan = pick(c.arg("nan")?, 0.0);
    let pinf = pick(c.arg("posinf")?, max);
    let ninf = pick(c.arg("neginf")?, min);
    let m = c.call("aten.isnan.default", vec![val(x)])?;
    let y = c.call("aten.masked_fill.Scalar", vec![val(x), val(m), float(nan)])?;
    let m = c.call("aten.eq.Scalar", vec![val(x), float(f64::INFINITY)])?;
    let y = c.call("aten.masked_fill.Scalar", vec![val(y), val(m), float(pinf)])?;
    let m = c.call("aten.eq.Scalar", vec![val(x), float(f64::NEG_INFINITY)])?;
    one(c.call("aten.masked_fill.Scalar", vec![val(y), val(m), float(ninf)])?)
}

/// `rot90(x, k, dims)`: `k` quarter turns from `dims[0]` towards `dims[1]`.
fn rot90(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let k = c.int("k")?.rem_euclid(4);
    let dims = c.ints("dims")?;
    if dims.len() != 2 {
        return Err(format!("expected 2 dims, got {}", dims.len()));
    }
    let (d0, d1) = (dims[0], dims[1]);
    match k {
        1 => {
            let f = c.call("aten.flip.default", vec![val(x), ints(&[d1])])?;
            one(c.call("aten.transpose.int", vec![val(f), int(d0), int(d1)])?)
        }
        2 => one(c.call("aten.flip.default", vec![val(x), ints(&[d0, d1])])?),
        3 => {
            let f = c.call("aten.flip.default", vec![val(x), ints(&[d0])])?;
            one(c.call("aten.transpose.int", vec![val(f), int(d0), int(d1)])?)
        }
        _ => one(c.call("aten.clone.default", vec![val(x)])?),
    }
}

/// `x * rsqrt(mean(x², last dims) + eps) [* weight]`; `eps` defaults to the dtype's epsilon.
fn rms_norm(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("input")?;
    let n = c.ints("normalized_shape")?.len();
    let w = c.opt_tensor("weight")?;
    let r = c.rank(x)?;
    let dtype = c.tensor_type(x)?.dtype;
    let eps = match c.arg("eps")? {
        Arg::None => match dtype {
            DType::F64 => f64::EPSILON,
            DType::F16 => 0.000_976_562_5,
            DType::BF16 => 0.007_812_5,
            _ => f32::EPSILON as f64,
        },
        _ => c.float("eps")?,
    };
    let dims: Vec<i64> = (r - n..r).map(|d| d as i64).collect();
    let sq = c.call("aten.mul.Tensor", vec![val(x), val(x)])?;
    let m = c.call("aten.mean.dim", vec![val(sq), ints(&dims), Arg::Bool(true)])?;
    let m = c.call("aten.add.Scalar", vec![val(m), float(eps), int(1)])?;
    let rs = c.call("aten.rsqrt.default", vec![val(m)])?;
    let y = c.call("aten.mul.Tensor", vec![val(x), val(rs)])?;
    match w {
        Some(w) => one(c.call("aten.mul.Tensor", vec![val(y), val(w)])?),
        None => one(y),
    }
}

/// `mvlgamma(x, p) = Σ_{j<p} lgamma(x - j/2) + p(p-1)/4 · ln π`.
fn mvlgamma(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let p = c.int("p")?;
    if p < 1 {
        return Err(format!("p has to be greater than or equal to 1, got {p}"));
    }
    let x = floating(c, x)?;
    let mut acc = c.call("aten.lgamma.default", vec![val(x)])?;
    for j in 1..p {
        let s = c.call(
            "aten.sub.Scalar",
            vec![val(x), float(j as f64 / 2.0), int(1)],
        )?;
        let l = c.call("aten.lgamma.default", vec![val(s)])?;
        acc = c.call("aten.add.Tensor", vec![val(acc), val(l)])?;
    }
    let k = (p * (p - 1)) as f64 / 4.0 * PI.ln();
    one(c.call("aten.add.Scalar", vec![val(acc), float(k), int(1)])?)
}

/// ATen's `trapezoid` with spacing `dx`: `(sum(y) - (y[0] + y[-1]) * 0.5) * dx` along `dim`.
fn trapezoid(c: &mut DecompCx<'_>, y: &str) -> Result<Vec<Arg>, String> {
    let y = c.tensor(y)?;
    let dx = c.arg("dx")?;
    let dim = c.int("dim")?;
    let shape = const_shape(c, y)?;
    let d = if dim < 0 {
        dim + shape.len() as i64
    } else {
        dim
    };
    if !(0..shape.len() as i64).contains(&d) {
        return Err(format!(
            "dim {dim} is out of range for rank {}",
            shape.len()
        ));
    }
    if shape[d as usize] == 0 {
        let mut out = shape.clone();
        out.remove(d as usize);
        let s = c.call("aten.sum.dim_IntList", vec![val(y), ints(&[d])])?;
        return one(c.call("aten.mul.Scalar", vec![val(s), dx])?);
    }
    let s = c.call("aten.sum.dim_IntList", vec![val(y), ints(&[d])])?;
    let first = c.call("aten.select.int", vec![val(y), int(d), int(0)])?;
    let last = c.call("aten.select.int", vec![val(y), int(d), int(-1)])?;
    let ends = c.call("aten.add.Tensor", vec![val(first), val(last)])?;
    let ends = c.call("aten.mul.Scalar", vec![val(ends), float(0.5)])?;
    let r = c.call("aten.sub.Tensor", vec![val(s), val(ends)])?;
    one(c.call("aten.mul.Scalar", vec![val(r), dx])?)
}

/// ATen's `cumulative_trapezoid` with spacing `dx`: `cumsum(dx / 2 * (y[1:] + y[:-1]))`.
fn cumulative_trapezoid(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let y = c.tensor("y")?;
    let dx = c.float("dx")?;
    let dim = c.int("dim")?;
    let hi = c.call(
        "aten.slice.Tensor",
        vec![val(y), int(dim), int(1), int(i64::MAX), int(1)],
    )?;
    let lo = c.call(
        "aten.slice.Tensor",
        vec![val(y), int(dim), int(0), int(-1), int(1)],
    )?;
    let s = c.call("aten.add.Tensor", vec![val(hi), val(lo)])?;
    let s = c.call("aten.mul.Scalar", vec![val(s), float(dx / 2.0)])?;
    one(c.call("aten.cumsum.default", vec![val(s), int(dim)])?)
}

/// `take_along_dim`: `gather` after broadcasting every dim but `dim` (flattened when `None`).
fn take_along_dim(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (x, i) = (c.tensor("self")?, c.tensor("indices")?);
    let Some(dim) = c.opt_int("dim")? else {
        let fx = c.call("aten.reshape.default", vec![val(x), ints(&[-1])])?;
        let fi = c.call("aten.reshape.default", vec![val(i), ints(&[-1])])?;
        return one(c.call("aten.gather.default", vec![val(fx), int(0), val(fi)])?);
    };
    let (sx, si) = (const_shape(c, x)?, const_shape(c, i)?);
    if sx.len() != si.len() {
        return Err("take_along_dim: input and indices must have the same rank".into());
    }
    let r = sx.len();
    let d = if dim < 0 { dim + r as i64 } else { dim } as usize;
    if d >= r {
        return Err(format!("dim {dim} is out of range for rank {r}"));
    }
    let mut bx = Vec::with_capacity(r);
    let mut bi = Vec::with_capacity(r);
    for k in 0..r {
        if k == d {
            bx.push(sx[k]);
            bi.push(si[k]);
        } else {
            let b = if sx[k] == 1 { si[k] } else { sx[k] };
            bx.push(b);
            bi.push(b);
        }
    }
    let x = c.call("aten.expand.default", vec![val(x), ints(&bx)])?;
    let i = c.call("aten.expand.default", vec![val(i), ints(&bi)])?;
    one(c.call("aten.gather.default", vec![val(x), int(d as i64), val(i)])?)
}

/// `glu(x, dim)`: the first half of `x` along `dim` times the sigmoid of the second half.
fn glu(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let shape = const_shape(c, x)?;
    let dim = c.int("dim")?;
    let r = shape.len() as i64;
    let d = if dim < 0 { dim + r } else { dim };
    if !(0..r).contains(&d) {
        return Err(format!("dim {dim} is out of range for rank {r}"));
    }
    let n = shape[d as usize];
    if n % 2 != 0 {
        return Err(format!("glu halves dim {dim}, of odd size {n}"));
    }
    let h = n / 2;
    let a = c.call(
        "aten.slice.Tensor",
        vec![val(x), int(d), int(0), int(h), int(1)],
    )?;
    let b = c.call(
        "aten.slice.Tensor",
        vec![val(x), int(d), int(h), int(n), int(1)],
    )?;
    let g = c.call("aten.sigmoid.default", vec![val(b)])?;
    one(c.call("aten.mul.Tensor", vec![val(a), val(g)])?)
}

/// `linalg_vander(x, N)` as ATen computes it: the cumulative product of `x` repeated `N - 1`
/// times along a new last dim, after a column of ones (so integer inputs give `i64`, as
/// `cumprod` widens them).
fn vander(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let mut x = c.tensor("x")?;
    if c.rank(x)? == 0 {
        x = c.call("aten.unsqueeze.default", vec![val(x), int(-1)])?;
    }
    let shape = const_shape(c, x)?;
    let n = match c.opt_int("N")? {
        Some(n) => n,
        None => *shape.last().expect("rank >= 1"),
    };
    if n <= 1 {
        return Err(format!("N must be greater than 1, got {n}"));
    }
    let mut big = shape.clone();
    big.push(n - 1);
    let col = c.call("aten.unsqueeze.default", vec![val(x), int(-1)])?;
    let rep = c.call("aten.expand.default", vec![val(col), ints(&big)])?;
    let pows = c.call("aten.cumprod.default", vec![val(rep), int(-1)])?;
    let first = c.call(
        "aten.slice.Tensor",
        vec![val(pows), int(-1), int(0), int(1), int(1)],
    )?;
    let ones = full_like(c, first, int(1), None)?;
    let list = Arg::List(vec![val(ones), val(pows)]);
    one(c.call("aten.cat.default", vec![list, int(-1)])?)
}
