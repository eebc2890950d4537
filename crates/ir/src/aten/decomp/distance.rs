//! Distances between rows: `_cdist_forward` / `cdist` (`torch.cdist`) and `_pdist_forward` /
//! `pdist` (`torch.nn.functional.pdist`) as differences and a `linalg_vector_norm` over the last dim
//! (which covers every `p`: 0 counts differing coordinates, inf takes the largest).
//!
//! PyTorch computes `p = 2` distances of more than 25 rows through a matrix product
//! (`|a|² + |b|² - 2ab`, `compute_mode`); the direct difference used here agrees with it to
//! rounding and never goes negative under the square root.

use super::{one, Add};
use crate::graph::{Arg, ValueId};
use crate::ops::decomp::{float, int, ints, val};
use crate::ops::DecompCx;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten._cdist_forward.default", cdist);
    add("aten._pdist_forward.default", pdist);
    // The export dialect keeps the public ops; `compute_mode` only picks PyTorch's kernel.
    add("aten.cdist.default", cdist);
    add("aten.pdist.default", pdist);
    add("aten.cosine_similarity.default", cosine_similarity);
}

/// ATen's `cosine_similarity`: both inputs broadcast, each divided by its 2-norm over `dim`
/// (clamped below at `eps`), and the product summed over `dim`. Dividing first keeps the
/// result within [-1, 1].
fn cosine_similarity(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (mut a, mut b) = (c.tensor("x1")?, c.tensor("x2")?);
    let (dim, eps) = (c.int("dim")?, c.float("eps")?);
    let (ta, tb) = (c.tensor_type(a)?.clone(), c.tensor_type(b)?.clone());
    let common = crate::aten::promote::result_type(&[
        crate::aten::promote::Operand::tensor(ta.dtype, ta.rank()),
        crate::aten::promote::Operand::tensor(tb.dtype, tb.rank()),
    ])?;
    if !common.is_float() {
        return Err(format!(
            "expected the common dtype to be floating point, got {common}"
        ));
    }
    for (v, t) in [(&mut a, &ta), (&mut b, &tb)] {
        if t.dtype != common {
            *v = super::layout::to_dtype(c, *v, common)?;
        }
    }
    if ta.shape != tb.shape {
        let shape = crate::aten::broadcast_shapes(&[&ta.shape, &tb.shape], &crate::aten::NoRanges)?;
        let sizes: Vec<i64> = shape
            .iter()
            .map(|d| {
                d.as_const()
                    .ok_or_else(|| format!("needs static sizes to broadcast {ta} and {tb}"))
            })
            .collect::<Result<_, _>>()?;
        if ta.shape.as_slice() != shape.as_slice() {
            a = c.call("aten.expand.default", vec![val(a), ints(&sizes)])?;
        }
        if tb.shape.as_slice() != shape.as_slice() {
            b = c.call("aten.expand.default", vec![val(b), ints(&sizes)])?;
        }
    }
    let unit = |c: &mut DecompCx<'_>, v: ValueId| -> Result<ValueId, String> {
        let n = c.call(
            "aten.linalg_vector_norm.default",
            vec![val(v), float(2.0), ints(&[dim]), Arg::Bool(true)],
        )?;
        let n = c.call("aten.clamp_min.default", vec![val(n), float(eps)])?;
        c.call("aten.div.Tensor", vec![val(v), val(n)])
    };
    let ua = unit(c, a)?;
    let ub = unit(c, b)?;
    let p = c.call("aten.mul.Tensor", vec![val(ua), val(ub)])?;
    one(c.call(
        "aten.sum.dim_IntList",
        vec![val(p), ints(&[dim]), Arg::Bool(false)],
    )?)
}

/// `p`-norm of `d` over its last dim.
fn norm_last(c: &mut DecompCx<'_>, d: ValueId, p: f64) -> Result<ValueId, String> {
    if p < 0.0 || p.is_nan() {
        return Err(format!("p = {p}: distances need p >= 0"));
    }
    c.call(
        "aten.linalg_vector_norm.default",
        vec![val(d), float(p), ints(&[-1]), Arg::Bool(false)],
    )
}

/// `[*, P, M]` and `[*, R, M]` to `[*, P, R]`: `x1[..., :, None, :] - x2[..., None, :, :]`
/// (batch dims broadcast) and the norm over `M`.
fn cdist(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (a, b) = (c.tensor("x1")?, c.tensor("x2")?);
    let p = c.float("p")?;
    if c.rank(a)? < 2 || c.rank(b)? < 2 {
        return Err("cdist needs inputs of rank >= 2".into());
    }
    let a3 = c.call("aten.unsqueeze.default", vec![val(a), int(-2)])?;
    let b3 = c.call("aten.unsqueeze.default", vec![val(b), int(-3)])?;
    let d = c.call("aten.sub.Tensor", vec![val(a3), val(b3)])?;
    one(norm_last(c, d, p)?)
}

/// `[N, M]` to the `N (N - 1) / 2` distances of rows `i < j`, in row-major order of `(i, j)`:
/// one slice pair per row `i` (`x[i]` against `x[i + 1..]`), concatenated. Needs a static `N`
/// (the pairs are laid out at build time).
fn pdist(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let p = c.float("p")?;
    let t = c.tensor_type(x)?.clone();
    if t.rank() != 2 {
        return Err(format!("pdist needs a 2-D input, got {t}"));
    }
    let n = t.shape[0]
        .as_const()
        .ok_or_else(|| format!("pdist needs a static number of rows, got {t}"))?;
    if n < 2 {
        // No pairs: an empty slice of a norm (keeps dtype and rank 1).
        let d = c.call("aten.sub.Tensor", vec![val(x), val(x)])?;
        let d = norm_last(c, d, p)?;
        return one(c.call(
            "aten.slice.Tensor",
            vec![val(d), int(0), int(0), int(0), int(1)],
        )?);
    }
    let mut parts = Vec::with_capacity(n as usize - 1);
    for i in 0..n - 1 {
        let row = c.call(
            "aten.slice.Tensor",
            vec![val(x), int(0), int(i), int(i + 1), int(1)],
        )?;
        let rest = c.call(
            "aten.slice.Tensor",
            vec![val(x), int(0), int(i + 1), int(n), int(1)],
        )?;
        let d = c.call("aten.sub.Tensor", vec![val(row), val(rest)])?;
        parts.push(norm_last(c, d, p)?);
    }
    if let [only] = parts[..] {
        return one(only);
    }
    let list = Arg::List(parts.into_iter().map(val).collect());
    one(c.call("aten.cat.default", vec![list, int(0)])?)
}
