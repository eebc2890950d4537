//! Shape composites: `diff`, `gradient`, `mT` / `mH` / `adjoint` / `matrix_H` (real tensors),
//! `movedim`, `pixel_shuffle` / `pixel_unshuffle`, `sum_to_size`, `reshape_as`,
//! `atleast_{1,2,3}d`, `repeat_interleave` by an int, and the functional `resize` /
//! `resize_as` (that `functionalize` makes of `resize_` / `resize_as_`).

use super::{one, Add};
use crate::graph::Arg;
use crate::ops::decomp::{float, int, ints, val};
use crate::ops::DecompCx;
use crate::types::Type;
use crate::DType;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.diff.default", diff);
    add("aten.mT.default", |c| {
        let x = c.tensor("self")?;
        if c.rank(x)? < 2 {
            return Err("mT needs a tensor of rank 2 or more".into());
        }
        one(c.call("aten.transpose.int", vec![val(x), int(-2), int(-1)])?)
    });
    // On real tensors the conjugate transposes are transposes.
    add("aten.mH.default", |c| last_two_transposed(c, false));
    add("aten.adjoint.default", |c| last_two_transposed(c, false));
    add("aten.matrix_H.default", |c| last_two_transposed(c, true));
    add("aten.movedim.int", |c| {
        let (s, d) = (c.int("source")?, c.int("destination")?);
        movedim(c, &[s], &[d])
    });
    add("aten.movedim.intlist", |c| {
        let (s, d) = (c.ints("source")?, c.ints("destination")?);
        movedim(c, &s, &d)
    });
    add("aten.moveaxis.int", |c| {
        let (s, d) = (c.int("source")?, c.int("destination")?);
        movedim(c, &[s], &[d])
    });
    add("aten.moveaxis.intlist", |c| {
        let (s, d) = (c.ints("source")?, c.ints("destination")?);
        movedim(c, &s, &d)
    });
    add("aten.pixel_shuffle.default", |c| {
        let r = c.int("upscale_factor")?;
        pixel_shuffle(c, r, true)
    });
    add("aten.pixel_unshuffle.default", |c| {
        let r = c.int("downscale_factor")?;
        pixel_shuffle(c, r, false)
    });
    add("aten.sum_to_size.default", sum_to_size);
    add("aten.reshape_as.default", |c| {
        let (x, other) = (c.tensor("self")?, c.tensor("other")?);
        let shape = sizes(c, other)?;
        one(c.call("aten.reshape.default", vec![val(x), shape])?)
    });
    add("aten.atleast_1d.default", |c| atleast(c, 1));
    add("aten.atleast_2d.default", |c| atleast(c, 2));
    add("aten.atleast_3d.default", |c| atleast(c, 3));
    add("aten.repeat_interleave.self_int", repeat_interleave_int);
    add(
        "aten.repeat_interleave.self_Tensor",
        repeat_interleave_tensor,
    );
    add("aten.resize.default", |c| {
        let x = c.tensor("self")?;
        let size = c.ints("size")?;
        resize(c, x, &size)
    });
    add("aten.resize_as.default", |c| {
        let (x, t) = (c.tensor("self")?, c.tensor("the_template")?);
        let size = super::layout::const_shape(c, t)?;
        resize(c, x, &size)
    });
    add("aten.gradient.scalarint", |c| {
        let spacing = c.arg("spacing")?;
        let dims = c.opt_int("dim")?.map(|d| vec![d]);
        gradient(c, GradSpacing::One(spacing), dims)
    });
    add("aten.gradient.scalararray", |c| {
        let spacing = c.arg("spacing")?;
        let dims = c.ints("dim")?;
        gradient(c, GradSpacing::One(spacing), Some(dims))
    });
    add("aten.gradient.scalarrayint", |c| {
        let spacing = c.arg("spacing")?;
        let dims = c.opt_int("dim")?.map(|d| vec![d]);
        gradient(c, GradSpacing::Each(spacing), dims)
    });
    add("aten.gradient.scalarrayarray", |c| {
        let spacing = c.arg("spacing")?;
        let dims = c.ints("dim")?;
        gradient(c, GradSpacing::Each(spacing), Some(dims))
    });
    add("aten.gradient.array", |c| {
        let dims = c.ints("dim")?;
        gradient(c, GradSpacing::One(Arg::None), Some(dims))
    });
}

/// `repeat_interleave(self, repeats: int, dim)`: each element (each slice along `dim`)
/// repeated `repeats` times in place; without `dim` the flattened tensor. ATen's
/// unsqueeze / expand / flatten.
fn repeat_interleave_int(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let r = match c.arg("repeats")? {
        Arg::Int(r) => r,
        a => return Err(format!("repeats must be an int literal, got {a:?}")),
    };
    if r < 0 {
        return Err(format!("repeats must be non-negative, got {r}"));
    }
    let (input, dim) = match c.opt_int("dim")? {
        None => (
            c.call("aten.reshape.default", vec![val(x), ints(&[-1])])?,
            0i64,
        ),
        Some(d) => {
            let rank = c.rank(x)? as i64;
            if rank == 0 {
                return Err("a dim of a zero-dim tensor cannot be repeated".into());
            }
            let w = if d < 0 { d + rank } else { d };
            if !(0..rank).contains(&w) {
                return Err(format!("dim {d} is out of range for rank {rank}"));
            }
            (x, w)
        }
    };
    let mut shape = super::layout::const_shape(c, input)?;
    let u = c.call("aten.unsqueeze.default", vec![val(input), int(dim + 1)])?;
    let mut e_shape = shape.clone();
    e_shape.insert(dim as usize + 1, r);
    let e = c.call("aten.expand.default", vec![val(u), ints(&e_shape)])?;
    shape[dim as usize] *= r;
    one(c.call("aten.reshape.default", vec![val(e), ints(&shape)])?)
}

/// `repeat_interleave(self, repeats: Tensor, dim)`: `index_select` along `dim` (of the
/// flattened tensor without `dim`) at `repeat_interleave(repeats)`; one repeat count applies
/// to every slice.
fn repeat_interleave_tensor(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (x, r) = (c.tensor("self")?, c.tensor("repeats")?);
    let out_size = c.arg("output_size")?;
    let (input, dim) = match c.opt_int("dim")? {
        None => (
            c.call("aten.reshape.default", vec![val(x), ints(&[-1])])?,
            0i64,
        ),
        Some(d) => {
            let rank = c.rank(x)? as i64;
            if rank == 0 {
                return Err("a dim of a zero-dim tensor cannot be repeated".into());
            }
            let w = if d < 0 { d + rank } else { d };
            if !(0..rank).contains(&w) {
                return Err(format!("dim {d} is out of range for rank {rank}"));
            }
            (x, w)
        }
    };
    let size = super::layout::const_shape(c, input)?[dim as usize];
    let rt = c.tensor_type(r)?.clone();
    let one_count = rt.shape.iter().all(|d| d.as_const() == Some(1));
    let r = if one_count && size != 1 {
        let r1 = c.call("aten.reshape.default", vec![val(r), ints(&[1])])?;
        c.call("aten.expand.default", vec![val(r1), ints(&[size])])?
    } else {
        r
    };
    let idx = c.call_kw(
        "aten.repeat_interleave.Tensor",
        vec![val(r)],
        vec![("output_size".into(), out_size)],
    )?[0];
    one(c.call(
        "aten.index_select.default",
        vec![val(input), int(dim), val(idx)],
    )?)
}

/// The functional `resize`: the first `numel(size)` elements of `x` (row-major) in the new
/// shape. Growing is refused: ATen leaves the added elements uninitialised, so their values
/// are whatever the allocator returned and no result can match them.
fn resize(c: &mut DecompCx<'_>, x: crate::ValueId, size: &[i64]) -> Result<Vec<Arg>, String> {
    if let Some(d) = size.iter().find(|&&d| d < 0) {
        return Err(format!("sizes must be non-negative, got {d}"));
    }
    let old: i64 = super::layout::const_shape(c, x)?.iter().product();
    let new: i64 = size.iter().product();
    if new > old {
        return Err(format!(
            "resizing {old} elements to {new} leaves {} of them uninitialised memory (their values \
             are unspecified, so they cannot be computed)",
            new - old
        ));
    }
    let flat = c.call("aten.reshape.default", vec![val(x), ints(&[-1])])?;
    let head = if new == old {
        flat
    } else {
        c.call(
            "aten.slice.Tensor",
            vec![val(flat), int(0), int(0), int(new), int(1)],
        )?
    };
    let head = c.call("aten.clone.default", vec![val(head)])?;
    one(c.call("aten.reshape.default", vec![val(head), ints(size)])?)
}

/// The spacing argument of a `gradient` overload: one value for every dim, or one per dim.
enum GradSpacing {
    One(Arg),
    Each(Arg),
}

/// `torch.gradient` with uniform spacing: per dim, central differences
/// `(x[i+1] - x[i-1]) / (2h)` inside and one-sided differences of order `edge_order` (1 or 2)
/// at both ends, as ATen computes them (the differences in the input's dtype, so integers
/// subtract before they become floats). One result per dim (all dims without `dim`).
fn gradient(
    c: &mut DecompCx<'_>,
    spacing: GradSpacing,
    dims: Option<Vec<i64>>,
) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let edge = c.int("edge_order")?;
    if edge != 1 && edge != 2 {
        return Err(format!("edge_order must be 1 or 2, got {edge}"));
    }
    let shape = super::layout::const_shape(c, x)?;
    let rank = shape.len() as i64;
    let dims = dims.unwrap_or_else(|| (0..rank).collect());
    let hs: Vec<Arg> = match spacing {
        GradSpacing::One(Arg::None) => vec![float(1.0); dims.len()],
        GradSpacing::One(a) => vec![a; dims.len()],
        GradSpacing::Each(Arg::List(v)) => {
            if v.len() != dims.len() {
                return Err(format!(
                    "{} spacings for {} dims: expected one per dim",
                    v.len(),
                    dims.len()
                ));
            }
            v
        }
        GradSpacing::Each(a) => return Err(format!("spacing must be a list, got {a:?}")),
    };
    let mut out = Vec::with_capacity(dims.len());
    for (&d0, h) in dims.iter().zip(hs) {
        if h.as_f64().is_none() {
            return Err(format!("spacing must be a number, got {h:?}"));
        }
        let d = if d0 < 0 { d0 + rank } else { d0 };
        if !(0..rank).contains(&d) {
            return Err(format!("dim {d0} is out of range for rank {rank}"));
        }
        if shape[d as usize] < edge + 1 {
            return Err(format!(
                "each dim needs at least edge_order + 1 = {} elements, dim {d} has {}",
                edge + 1,
                shape[d as usize]
            ));
        }
        let sl = |c: &mut DecompCx<'_>, a: i64, b: i64| {
            c.call(
                "aten.slice.Tensor",
                vec![val(x), int(d), int(a), int(b), int(1)],
            )
        };
        let hi = sl(c, 2, i64::MAX)?;
        let lo = sl(c, 0, -2)?;
        let center = c.call("aten.sub.Tensor", vec![val(hi), val(lo)])?;
        let center = c.call("aten.div.Scalar", vec![val(center), h.clone()])?;
        let center = c.call("aten.div.Scalar", vec![val(center), int(2)])?;
        let (pre, app) = if edge == 1 {
            let (a, b) = (sl(c, 1, 2)?, sl(c, 0, 1)?);
            let pre = c.call("aten.sub.Tensor", vec![val(a), val(b)])?;
            let (a, b) = (sl(c, -1, i64::MAX)?, sl(c, -2, -1)?);
            let app = c.call("aten.sub.Tensor", vec![val(a), val(b)])?;
            (pre, app)
        } else {
            let comb = |c: &mut DecompCx<'_>, terms: [(f64, i64, i64); 3]| {
                let mut acc: Option<crate::ValueId> = None;
                for (k, a, b) in terms {
                    let s = sl(c, a, b)?;
                    let t = c.call("aten.mul.Scalar", vec![val(s), float(k)])?;
                    acc = Some(match acc {
                        None => t,
                        Some(p) => c.call("aten.add.Tensor", vec![val(p), val(t)])?,
                    });
                }
                acc.ok_or_else(|| "no terms".to_string())
            };
            let pre = comb(c, [(-1.5, 0, 1), (2.0, 1, 2), (-0.5, 2, 3)])?;
            let app = comb(c, [(0.5, -3, -2), (-2.0, -2, -1), (1.5, -1, i64::MAX)])?;
            (pre, app)
        };
        let pre = c.call("aten.div.Scalar", vec![val(pre), h.clone()])?;
        let app = c.call("aten.div.Scalar", vec![val(app), h])?;
        let r = c.call(
            "aten.cat.default",
            vec![Arg::List(vec![val(pre), val(center), val(app)]), int(d)],
        )?;
        out.push(val(r));
    }
    Ok(out)
}

/// The sizes of tensor `v` as a list argument: literal ints where static, `sym_size` calls
/// where symbolic.
fn sizes(c: &mut DecompCx<'_>, v: crate::ValueId) -> Result<Arg, String> {
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

/// `n`-th forward difference along `dim`, after concatenating `prepend` and `append`;
/// booleans differ by `logical_xor`, as in PyTorch.
fn diff(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let mut x = c.tensor("self")?;
    let n = c.int("n")?;
    let dim = c.int("dim")?;
    if n < 0 {
        return Err(format!("order must be non-negative, got {n}"));
    }
    let rank = c.rank(x)? as i64;
    if rank == 0 {
        return Err("diff needs a tensor of rank 1 or more".into());
    }
    let d = if dim < 0 { dim + rank } else { dim };
    if !(0..rank).contains(&d) {
        return Err(format!("dim {dim} is out of range for rank {rank}"));
    }
    let (pre, app) = (c.opt_tensor("prepend")?, c.opt_tensor("append")?);
    if pre.is_some() || app.is_some() {
        let parts: Vec<Arg> = pre.into_iter().chain([x]).chain(app).map(val).collect();
        x = c.call("aten.cat.default", vec![Arg::List(parts), int(d)])?;
    }
    let is_bool = matches!(c.ty(x), Type::Tensor(t) if t.dtype == DType::Bool);
    for _ in 0..n {
        let hi = c.call(
            "aten.slice.Tensor",
            vec![val(x), int(d), int(1), int(i64::MAX), int(1)],
        )?;
        let lo = c.call(
            "aten.slice.Tensor",
            vec![val(x), int(d), int(0), int(-1), int(1)],
        )?;
        x = if is_bool {
            c.call("aten.logical_xor.default", vec![val(hi), val(lo)])?
        } else {
            c.call("aten.sub.Tensor", vec![val(hi), val(lo)])?
        };
    }
    one(x)
}

/// Unsqueezes a tensor of rank below `n` as `torch.atleast_{n}d` does: a scalar becomes
/// `[1]`, `[1, 1]` or `[1, 1, 1]`; a vector `[k]` becomes `[1, k]` or `[1, k, 1]`; a matrix
/// `[a, b]` becomes `[a, b, 1]`.
fn atleast(c: &mut DecompCx<'_>, n: usize) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let r = c.rank(x)?;
    if r >= n {
        return one(c.call("aten.alias.default", vec![val(x)])?);
    }
    let shape: Vec<i64> = match (n, r) {
        (_, 0) => vec![1; n],
        _ => Vec::new(),
    };
    if !shape.is_empty() {
        return one(c.call("aten.reshape.default", vec![val(x), ints(&shape)])?);
    }
    let y = match (n, r) {
        (2, 1) => c.call("aten.unsqueeze.default", vec![val(x), int(0)])?,
        (3, 1) => {
            let y = c.call("aten.unsqueeze.default", vec![val(x), int(0)])?;
            c.call("aten.unsqueeze.default", vec![val(y), int(2)])?
        }
        (3, 2) => c.call("aten.unsqueeze.default", vec![val(x), int(2)])?,
        _ => return Err(format!("atleast_{n}d of rank {r}")),
    };
    one(y)
}

/// `x.transpose(-2, -1)`; `matrix_H` (`exact2`) insists on a matrix.
fn last_two_transposed(c: &mut DecompCx<'_>, exact2: bool) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let r = c.rank(x)?;
    if r < 2 || (exact2 && r != 2) {
        return Err(format!(
            "needs a {} tensor, got rank {r}",
            if exact2 { "rank-2" } else { "rank 2 or more" }
        ));
    }
    one(c.call("aten.transpose.int", vec![val(x), int(-2), int(-1)])?)
}

/// `movedim(x, source, destination)` as a permutation, built as ATen builds it: the moved
/// dims go to their destinations, the others keep their order in the remaining places.
fn movedim(c: &mut DecompCx<'_>, src: &[i64], dst: &[i64]) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let rank = c.rank(x)?;
    if src.len() != dst.len() {
        return Err(format!(
            "movedim: {} source dims and {} destination dims",
            src.len(),
            dst.len()
        ));
    }
    let r = rank.max(1) as i64;
    let norm = |d: i64| -> Result<usize, String> {
        let w = if d < 0 { d + r } else { d };
        if (0..r).contains(&w) {
            Ok(w as usize)
        } else {
            Err(format!("movedim: dim {d} is out of range for rank {rank}"))
        }
    };
    let src: Vec<usize> = src.iter().map(|&d| norm(d)).collect::<Result<_, _>>()?;
    let dst: Vec<usize> = dst.iter().map(|&d| norm(d)).collect::<Result<_, _>>()?;
    for (what, ds) in [("source", &src), ("destination", &dst)] {
        let mut seen = ds.clone();
        seen.sort_unstable();
        seen.dedup();
        if seen.len() != ds.len() {
            return Err(format!("movedim: repeated dim in {what}"));
        }
    }
    if rank == 0 {
        return one(c.call("aten.alias.default", vec![val(x)])?);
    }
    let mut perm: Vec<Option<usize>> = vec![None; rank];
    for (&s, &d) in src.iter().zip(&dst) {
        perm[d] = Some(s);
    }
    let mut rest = (0..rank).filter(|i| !src.contains(i));
    let perm: Vec<i64> = perm
        .into_iter()
        .map(|p| p.or_else(|| rest.next()).expect("one dim per place") as i64)
        .collect();
    one(c.call("aten.permute.default", vec![val(x), ints(&perm)])?)
}

/// `pixel_shuffle` (`up`) `(*, C r², H, W) -> (*, C, H r, W r)` and `pixel_unshuffle`
/// `(*, C, H r, W r) -> (*, C r², H, W)`: a reshape, a permutation and a reshape.
fn pixel_shuffle(c: &mut DecompCx<'_>, r: i64, up: bool) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let shape = c.tensor_type(x)?.shape.clone();
    if shape.len() < 3 {
        return Err(format!(
            "needs a tensor of rank 3 or more, got rank {}",
            shape.len()
        ));
    }
    if r <= 0 {
        return Err(format!("the factor must be positive, got {r}"));
    }
    let b = shape.len() - 3;
    let lead: Vec<Arg> = match sizes(c, x)? {
        Arg::List(l) => l[..b].to_vec(),
        _ => unreachable!("sizes gives a list"),
    };
    let last3: Vec<i64> = shape[b..]
        .iter()
        .map(|d| {
            d.as_const()
                .ok_or_else(|| format!("needs static channel and spatial sizes, got {d}"))
        })
        .collect::<Result<_, _>>()?;
    let (ch, h, w) = (last3[0], last3[1], last3[2]);
    let with_lead = |tail: &[i64]| {
        let mut l = lead.clone();
        l.extend(tail.iter().map(|&d| int(d)));
        Arg::List(l)
    };
    let bi = b as i64;
    let lead_perm: Vec<i64> = (0..bi).collect();
    let (split, perm, merged) = if up {
        if ch % (r * r) != 0 {
            return Err(format!("{ch} channels are not divisible by {r}²"));
        }
        let c2 = ch / (r * r);
        (
            vec![c2, r, r, h, w],
            [0, 3, 1, 4, 2],
            vec![c2, h * r, w * r],
        )
    } else {
        if h % r != 0 || w % r != 0 {
            return Err(format!("spatial sizes {h}x{w} are not divisible by {r}"));
        }
        (
            vec![ch, h / r, r, w / r, r],
            [0, 2, 4, 1, 3],
            vec![ch * r * r, h / r, w / r],
        )
    };
    let s = c.call("aten.reshape.default", vec![val(x), with_lead(&split)])?;
    let mut p = lead_perm;
    p.extend(perm.iter().map(|&i| bi + i));
    let t = c.call("aten.permute.default", vec![val(s), ints(&p)])?;
    one(c.call("aten.reshape.default", vec![val(t), with_lead(&merged)])?)
}

/// `sum_to_size(x, size)` as ATen's `sum_to`: one `sum` (keepdim) over the leading dims and
/// the dims `size` has as 1, then a reshape to `size`; nothing to reduce returns `x` as is
/// (an empty `size` always sums). Like `sum`, integer and bool sums give `i64`.
fn sum_to_size(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let size = c.ints("size")?;
    let shape = c.tensor_type(x)?.shape.clone();
    if size.len() > shape.len() {
        return Err(format!(
            "size {size:?} has more dims than the tensor's {}",
            shape.len()
        ));
    }
    let lead = shape.len() - size.len();
    let mut dims: Vec<i64> = (0..lead as i64).collect();
    for (i, &s) in size.iter().enumerate() {
        let d = &shape[lead + i];
        if s == 1 && d.as_const() != Some(1) {
            dims.push((lead + i) as i64);
        } else if d.as_const().is_some_and(|n| n != s) {
            return Err(format!(
                "size {size:?} is not expandable to the tensor's shape"
            ));
        }
    }
    if size.is_empty() {
        // `sum_to(x, [])` is `x.sum()`, also of a 0-dim tensor.
        return one(c.call("aten.sum.default", vec![val(x)])?);
    }
    if dims.is_empty() {
        return one(c.call("aten.alias.default", vec![val(x)])?);
    }
    let s = c.call(
        "aten.sum.dim_IntList",
        vec![val(x), ints(&dims), Arg::Bool(true)],
    )?;
    one(c.call("aten.reshape.default", vec![val(s), ints(&size)])?)
}
