//! Reductions written with others: `nansum` and `nanmean` (NaNs count as absent), `renorm`
//! (sub-tensors rescaled to a maximum norm) and `dist` (the norm of a difference).

use super::{one, Add};
use crate::graph::Arg;
use crate::ops::decomp::{float, int, ints, val};

pub(super) fn register(add: &mut Add<'_>) {
    // The executor has a kernel; this is what inference and the converters fall back to.
    add("aten.nansum.default", |c| {
        let x = c.tensor("self")?;
        let z = c.call("aten.isnan.default", vec![val(x)])?;
        let x0 = c.call("aten.masked_fill.Scalar", vec![val(x), val(z), int(0)])?;
        let (dim, keep, dtype) = (c.arg("dim")?, c.arg("keepdim")?, c.arg("dtype")?);
        let r = c.call_kw(
            "aten.sum.dim_IntList",
            vec![val(x0), dim, keep],
            vec![("dtype".into(), dtype)],
        )?;
        one(r[0])
    });
    add("aten.nanmean.default", |c| {
        // nansum / the number of non-NaN elements (NaN where all are NaN, as ATen).
        let x = c.tensor("self")?;
        let t = c.tensor_type(x)?.clone();
        if !t.dtype.is_float() {
            return Err(format!(
                "expected a floating point input, got {} (as ATen)",
                t.dtype
            ));
        }
        let (dim, keep, dtype) = (c.arg("dim")?, c.arg("keepdim")?, c.arg("dtype")?);
        let nan = c.call("aten.isnan.default", vec![val(x)])?;
        let x0 = c.call("aten.masked_fill.Scalar", vec![val(x), val(nan), int(0)])?;
        let s = c.call_kw(
            "aten.sum.dim_IntList",
            vec![val(x0), dim.clone(), keep.clone()],
            vec![("dtype".into(), dtype)],
        )?[0];
        let present = c.call("aten.logical_not.default", vec![val(nan)])?;
        let n = c.call("aten.sum.dim_IntList", vec![val(present), dim, keep])?;
        one(c.call("aten.div.Tensor", vec![val(s), val(n)])?)
    });
    add("aten.renorm.default", |c| {
        // Each slice along `dim` with a p-norm above maxnorm is scaled by
        // maxnorm / (norm + 1e-7); the others are kept.
        let x = c.tensor("self")?;
        let (p, dim, maxnorm) = (c.float("p")?, c.int("dim")?, c.float("maxnorm")?);
        let r = c.rank(x)? as i64;
        if r < 2 {
            return Err(format!("input needs at least 2 dimensions, got {r}"));
        }
        if p <= 0.0 || p.is_nan() {
            return Err(format!("non-positive norm p = {p} is not supported"));
        }
        if maxnorm < 0.0 {
            return Err(format!("expected maxnorm >= 0, got {maxnorm}"));
        }
        let d = if dim < 0 { dim + r } else { dim };
        if !(0..r).contains(&d) {
            return Err(format!("dim {dim} is out of range for rank {r}"));
        }
        let others: Vec<i64> = (0..r).filter(|&i| i != d).collect();
        let norm = c.call(
            "aten.linalg_vector_norm.default",
            vec![val(x), float(p), ints(&others), Arg::Bool(true)],
        )?;
        let big = c.call("aten.gt.Scalar", vec![val(norm), float(maxnorm)])?;
        let ne = c.call("aten.add.Scalar", vec![val(norm), float(1e-7), int(1)])?;
        let inv = c.call("aten.reciprocal.default", vec![val(ne)])?;
        let k = c.call("aten.mul.Scalar", vec![val(inv), float(maxnorm)])?;
        let one_ = c.call("aten.ones_like.default", vec![val(k)])?;
        let k = c.call("aten.where.self", vec![val(big), val(k), val(one_)])?;
        one(c.call("aten.mul.Tensor", vec![val(x), val(k)])?)
    });
    add("aten.dist.default", |c| {
        let (a, b) = (c.tensor("self")?, c.tensor("other")?);
        let p = c.float("p")?;
        let d = c.call("aten.sub.Tensor", vec![val(a), val(b)])?;
        one(c.call(
            "aten.linalg_vector_norm.default",
            vec![val(d), float(p), Arg::None, Arg::Bool(false)],
        )?)
    });
}
