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
