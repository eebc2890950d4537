//! Layout composites that core ATen writes as views, pads and concatenations: `meshgrid`,
//! `broadcast_tensors`, `cartesian_prod`, `block_diag`, `_chunk_cat`, `channel_shuffle`,
//! `{h,v,d}stack`, `column_stack`, `{h,v,d}split`, `diag`, `diag_embed`, `diagflat`,
//! `linalg_diagonal`, `trace`, `fliplr`, `flipud`, `fft_fftshift`, `fft_ifftshift`, `kron`,
//! `inner`.

use super::{one, Add};
use crate::graph::{Arg, ValueId};
use crate::ops::decomp::{int, ints, val};
use crate::ops::DecompCx;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.meshgrid.default", |c| meshgrid(c, "ij"));
    add("aten.meshgrid.indexing", |c| {
        let indexing = c.str("indexing")?;
        meshgrid(c, &indexing)
    });
    add("aten.broadcast_tensors.default", broadcast_tensors);
    add("aten.cartesian_prod.default", cartesian_prod);
    add("aten.block_diag.default", block_diag);
    add("aten._chunk_cat.default", chunk_cat);
    add("aten.channel_shuffle.default", channel_shuffle);
    add("aten.native_channel_shuffle.default", channel_shuffle);
    add("aten.hstack.default", |c| {
        let ts = each(c, "aten.atleast_1d.default")?;
        let dim = if c.rank(ts[0])? == 1 { 0 } else { 1 };
        one(cat(c, &ts, dim)?)
    });
    add("aten.vstack.default", |c| {
        let ts = each(c, "aten.atleast_2d.default")?;
        one(cat(c, &ts, 0)?)
    });
    add("aten.dstack.default", |c| {
        let ts = each(c, "aten.atleast_3d.default")?;
        one(cat(c, &ts, 2)?)
    });
    add("aten.column_stack.default", column_stack);
    add("aten.hsplit.int", |c| split(c, Split::H, true));
    add("aten.hsplit.array", |c| split(c, Split::H, false));
    add("aten.vsplit.int", |c| split(c, Split::V, true));
    add("aten.vsplit.array", |c| split(c, Split::V, false));
    add("aten.dsplit.int", |c| split(c, Split::D, true));
    add("aten.dsplit.array", |c| split(c, Split::D, false));
    add("aten.diag.default", diag);
    add("aten.diag_embed.default", diag_embed);
    add("aten.diagflat.default", |c| {
        let x = c.tensor("self")?;
        let offset = c.int("offset")?;
        let flat = c.call("aten.reshape.default", vec![val(x), ints(&[-1])])?;
        one(diag_of_vector(c, flat, offset)?)
    });
    add("aten.linalg_diagonal.default", |c| {
        let x = c.tensor("A")?;
        let (o, d1, d2) = (c.int("offset")?, c.int("dim1")?, c.int("dim2")?);
        one(c.call(
            "aten.diagonal.default",
            vec![val(x), int(o), int(d1), int(d2)],
        )?)
    });
    add("aten.trace.default", |c| {
        let x = c.tensor("self")?;
        if c.rank(x)? != 2 {
            return Err("trace needs a matrix".into());
        }
        let d = c.call(
            "aten.diagonal.default",
            vec![val(x), int(0), int(0), int(1)],
        )?;
        one(c.call("aten.sum.default", vec![val(d)])?)
    });
    add("aten.fliplr.default", |c| {
        let x = c.tensor("self")?;
        if c.rank(x)? < 2 {
            return Err("fliplr needs a tensor of rank 2 or more".into());
        }
        one(c.call("aten.flip.default", vec![val(x), ints(&[1])])?)
    });
    add("aten.flipud.default", |c| {
        let x = c.tensor("self")?;
        if c.rank(x)? < 1 {
            return Err("flipud needs a tensor of rank 1 or more".into());
        }
        one(c.call("aten.flip.default", vec![val(x), ints(&[0])])?)
    });
    add("aten.fft_fftshift.default", |c| fftshift(c, false));
    add("aten.fft_ifftshift.default", |c| fftshift(c, true));
    add("aten.kron.default", kron);
    add("aten.inner.default", inner);
}

/// The constant sizes of tensor `v` (an error for symbolic ones: these composites compute new
/// shapes from the sizes).
pub(super) fn const_shape(c: &DecompCx<'_>, v: ValueId) -> Result<Vec<i64>, String> {
    c.tensor_type(v)?
        .shape
        .iter()
        .map(|d| {
            d.as_const()
                .ok_or_else(|| format!("needs static sizes, got the symbolic size {d}"))
        })
        .collect()
}

fn wrap(dim: i64, rank: usize) -> Result<usize, String> {
    let r = rank.max(1) as i64;
    let d = if dim < 0 { dim + r } else { dim };
    if !(0..r).contains(&d) {
        return Err(format!("dim {dim} is out of range for rank {rank}"));
    }
    Ok(d as usize)
}

fn cat(c: &mut DecompCx<'_>, ts: &[ValueId], dim: i64) -> Result<ValueId, String> {
    let list = Arg::List(ts.iter().map(|&t| val(t)).collect());
    c.call("aten.cat.default", vec![list, int(dim)])
}

/// `op` applied to each tensor of the `tensors` argument.
fn each(c: &mut DecompCx<'_>, op: &str) -> Result<Vec<ValueId>, String> {
    let ts = c.tensors("tensors")?;
    if ts.is_empty() {
        return Err("needs at least one tensor".into());
    }
    ts.into_iter().map(|t| c.call(op, vec![val(t)])).collect()
}

/// `torch.meshgrid`: every input (rank 0 or 1) viewed along its own dim of the grid and
/// expanded to the whole grid; `xy` indexing swaps the first two grid dims.
fn meshgrid(c: &mut DecompCx<'_>, indexing: &str) -> Result<Vec<Arg>, String> {
    let mut ts = c.tensors("tensors")?;
    let xy = match indexing {
        "ij" => false,
        "xy" => true,
        other => return Err(format!("indexing must be `ij` or `xy`, got `{other}`")),
    };
    let swap = xy && ts.len() >= 2;
    if swap {
        ts.swap(0, 1);
    }
    let mut sizes = Vec::with_capacity(ts.len());
    for &t in &ts {
        let shape = const_shape(c, t)?;
        if shape.len() > 1 {
            return Err(format!(
                "meshgrid expects 0-D or 1-D tensors, got rank {}",
                shape.len()
            ));
        }
        sizes.push(shape.first().copied().unwrap_or(1));
    }
    let mut outs = Vec::with_capacity(ts.len());
    for (i, &t) in ts.iter().enumerate() {
        let mut view = vec![1i64; ts.len()];
        view[i] = sizes[i];
        let v = c.call("aten.reshape.default", vec![val(t), ints(&view)])?;
        outs.push(c.call("aten.expand.default", vec![val(v), ints(&sizes)])?);
    }
    if swap {
        outs.swap(0, 1);
    }
    Ok(outs.into_iter().map(val).collect())
}

/// The broadcast of constant shapes (NumPy rules).
fn broadcast(shapes: &[Vec<i64>]) -> Result<Vec<i64>, String> {
    let n = shapes.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = vec![1i64; n];
    for s in shapes {
        for (i, &d) in s.iter().enumerate() {
            let o = &mut out[n - s.len() + i];
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                return Err(format!("shapes {shapes:?} do not broadcast"));
            }
        }
    }
    Ok(out)
}

fn broadcast_tensors(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let ts = c.tensors("tensors")?;
    let shapes = ts
        .iter()
        .map(|&t| const_shape(c, t))
        .collect::<Result<Vec<_>, _>>()?;
    let target = broadcast(&shapes)?;
    ts.iter()
        .map(|&t| {
            Ok(val(c.call(
                "aten.expand.default",
                vec![val(t), ints(&target)],
            )?))
        })
        .collect()
}

/// The rows of the Cartesian product: the `ij` meshgrid flattened and stacked as columns.
fn cartesian_prod(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let ts = c.tensors("tensors")?;
    for &t in &ts {
        if c.rank(t)? != 1 {
            return Err("cartesian_prod expects 1-D tensors".into());
        }
    }
    if ts.len() == 1 {
        return one(c.call("aten.alias.default", vec![val(ts[0])])?);
    }
    let list = Arg::List(ts.iter().map(|&t| val(t)).collect());
    let grid = c.call_kw(
        "aten.meshgrid.indexing",
        vec![list],
        vec![("indexing".into(), Arg::Str("ij".into()))],
    )?;
    let mut cols = Vec::with_capacity(grid.len());
    for g in grid {
        cols.push(c.call("aten.reshape.default", vec![val(g), ints(&[-1])])?);
    }
    let list = Arg::List(cols.into_iter().map(val).collect());
    one(c.call("aten.stack.default", vec![list, int(1)])?)
}

/// `torch.block_diag`: each input (rank 0, 1 or 2, as a matrix) padded with zeros to the full
/// width at its column offset, the padded rows concatenated, all in the promoted dtype.
fn block_diag(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    use crate::aten::promote::{result_type, Operand};
    let ts = c.tensors("tensors")?;
    if ts.is_empty() {
        return Err("block_diag of no tensors".into());
    }
    let mut ops = Vec::with_capacity(ts.len());
    for &t in &ts {
        let tt = c.tensor_type(t)?;
        // Every input counts as a tensor with dims: block_diag promotes like `torch.cat`.
        ops.push(Operand::tensor(tt.dtype, 1));
    }
    let dtype = result_type(&ops)?;
    let mut mats = Vec::with_capacity(ts.len());
    for &t in &ts {
        let shape = const_shape(c, t)?;
        let m = match shape.len() {
            0 => c.call("aten.reshape.default", vec![val(t), ints(&[1, 1])])?,
            1 => c.call("aten.reshape.default", vec![val(t), ints(&[1, shape[0]])])?,
            2 => t,
            r => {
                return Err(format!(
                    "block_diag expects tensors of rank 2 or less, got {r}"
                ))
            }
        };
        let m = if c.tensor_type(m)?.dtype == dtype {
            m
        } else {
            to_dtype(c, m, dtype)?
        };
        mats.push(m);
    }
    let widths: Vec<i64> = mats
        .iter()
        .map(|&m| const_shape(c, m).map(|s| s[1]))
        .collect::<Result<_, _>>()?;
    let total: i64 = widths.iter().sum();
    let mut rows = Vec::with_capacity(mats.len());
    let mut left = 0;
    for (&m, &w) in mats.iter().zip(&widths) {
        let right = total - left - w;
        rows.push(c.call(
            "aten.constant_pad_nd.default",
            vec![val(m), ints(&[left, right, 0, 0]), int(0)],
        )?);
        left += w;
    }
    one(cat(c, &rows, 0)?)
}

/// A copy of `v` converted to `dtype`.
pub(super) fn to_dtype(
    c: &mut DecompCx<'_>,
    v: ValueId,
    dtype: crate::DType,
) -> Result<ValueId, String> {
    let r = c.call_kw(
        "aten._to_copy.default",
        vec![val(v)],
        vec![("dtype".into(), Arg::DType(dtype))],
    )?;
    Ok(r[0])
}

/// `_chunk_cat` (FSDP's gradient packing): each tensor padded along `dim` to a multiple of
/// `num_chunks`, viewed as `[..dim, num_chunks, -1]`, and the views concatenated on `dim + 1`.
fn chunk_cat(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let ts = c.tensors("tensors")?;
    let (dim, n) = (c.int("dim")?, c.int("num_chunks")?);
    if n < 1 {
        return Err(format!("num_chunks must be at least 1, got {n}"));
    }
    if ts.is_empty() {
        return Err("_chunk_cat of no tensors".into());
    }
    let mut parts = Vec::with_capacity(ts.len());
    let mut at = None;
    for &t in &ts {
        let shape = const_shape(c, t)?;
        let d = wrap(dim, shape.len())?;
        at.get_or_insert(d);
        let s = shape.get(d).copied().unwrap_or(1);
        let padded = (s + n - 1) / n * n;
        let mut x = t;
        if padded != s {
            let mut pad = vec![0i64; 2 * (shape.len() - 1 - d)];
            pad.extend([0, padded - s]);
            x = c.call(
                "aten.constant_pad_nd.default",
                vec![val(x), ints(&pad), int(0)],
            )?;
        }
        let mut view = shape[..d].to_vec();
        view.extend([n, -1]);
        parts.push(c.call("aten.reshape.default", vec![val(x), ints(&view)])?);
    }
    let d = at.unwrap_or(0) as i64;
    one(cat(c, &parts, d + 1)?)
}

fn channel_shuffle(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let g = c.int("groups")?;
    let shape = const_shape(c, x)?;
    if shape.len() < 3 {
        return Err(format!(
            "channel_shuffle expects a tensor of rank 3 or more, got {}",
            shape.len()
        ));
    }
    if g <= 0 || shape[1] % g != 0 {
        return Err(format!(
            "the number of channels {} must be divisible by groups {g}",
            shape[1]
        ));
    }
    let mut split = vec![shape[0], g, shape[1] / g];
    split.extend(&shape[2..]);
    let v = c.call("aten.reshape.default", vec![val(x), ints(&split)])?;
    let t = c.call("aten.transpose.int", vec![val(v), int(1), int(2)])?;
    one(c.call("aten.reshape.default", vec![val(t), ints(&shape)])?)
}

fn column_stack(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let ts = c.tensors("tensors")?;
    if ts.is_empty() {
        return Err("column_stack of no tensors".into());
    }
    let mut cols = Vec::with_capacity(ts.len());
    for t in ts {
        cols.push(match c.rank(t)? {
            0 => c.call("aten.reshape.default", vec![val(t), ints(&[1, 1])])?,
            1 => c.call("aten.unsqueeze.default", vec![val(t), int(1)])?,
            _ => t,
        });
    }
    one(cat(c, &cols, 1)?)
}

#[derive(Clone, Copy)]
enum Split {
    H,
    V,
    D,
}

/// `hsplit` / `vsplit` / `dsplit`: `tensor_split` along dim 1 (0 for vectors), 0 or 2; an int
/// number of sections must divide the size.
fn split(c: &mut DecompCx<'_>, which: Split, sections: bool) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let rank = c.rank(x)?;
    let (dim, min_rank, name) = match which {
        Split::H => (if rank == 1 { 0 } else { 1 }, 1, "hsplit"),
        Split::V => (0, 2, "vsplit"),
        Split::D => (2, 3, "dsplit"),
    };
    if rank < min_rank {
        return Err(format!(
            "{name} needs a tensor of rank {min_rank} or more, got rank {rank}"
        ));
    }
    let rs = if sections {
        let n = c.int("sections")?;
        let size = const_shape(c, x)?[dim];
        if n <= 0 || size % n != 0 {
            return Err(format!(
                "{name}: size {size} of dim {dim} is not divisible by the split count {n}"
            ));
        }
        c.call_kw(
            "aten.tensor_split.sections",
            vec![val(x), int(n), int(dim as i64)],
            vec![],
        )?
    } else {
        let idx = c.ints("indices")?;
        c.call_kw(
            "aten.tensor_split.indices",
            vec![val(x), ints(&idx), int(dim as i64)],
            vec![],
        )?
    };
    Ok(rs.into_iter().map(val).collect())
}

/// The square matrix with vector `v` on diagonal `offset` and zeros elsewhere.
fn diag_of_vector(c: &mut DecompCx<'_>, v: ValueId, offset: i64) -> Result<ValueId, String> {
    let n = const_shape(c, v)?[0];
    let m = n + offset.abs();
    let z = c.call("aten.new_zeros.default", vec![val(v), ints(&[m, m])])?;
    c.call(
        "aten.diagonal_scatter.default",
        vec![val(z), val(v), int(offset), int(0), int(1)],
    )
}

fn diag(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let k = c.int("diagonal")?;
    match c.rank(x)? {
        1 => one(diag_of_vector(c, x, k)?),
        2 => one(c.call(
            "aten.diagonal_copy.default",
            vec![val(x), int(k), int(0), int(1)],
        )?),
        r => Err(format!("diag expects a tensor of rank 1 or 2, got {r}")),
    }
}

/// `diag_embed`: the last dim of the input becomes diagonal `offset` of new dims `dim1`, `dim2`
/// (size `n + |offset|`) of a zero tensor.
fn diag_embed(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let (offset, dim1, dim2) = (c.int("offset")?, c.int("dim1")?, c.int("dim2")?);
    let shape = const_shape(c, x)?;
    let r = shape.len() + 1;
    let (d1, d2) = (wrap(dim1, r)?, wrap(dim2, r)?);
    if d1 == d2 {
        return Err(format!(
            "diagonal dimensions cannot be identical {dim1}, {dim2}"
        ));
    }
    let n = shape.last().copied().unwrap_or(1);
    let m = n + offset.abs();
    let mut rest = shape[..shape.len().saturating_sub(1)].iter();
    let out: Vec<i64> = (0..r)
        .map(|d| {
            if d == d1 || d == d2 {
                m
            } else {
                *rest.next().unwrap_or(&1)
            }
        })
        .collect();
    let src = if shape.is_empty() {
        c.call("aten.reshape.default", vec![val(x), ints(&[1])])?
    } else {
        x
    };
    let z = c.call("aten.new_zeros.default", vec![val(src), ints(&out)])?;
    one(c.call(
        "aten.diagonal_scatter.default",
        vec![
            val(z),
            val(src),
            int(offset),
            int(d1 as i64),
            int(d2 as i64),
        ],
    )?)
}

/// `fftshift` rolls each dim by `n / 2`, `ifftshift` by `(n + 1) / 2` (its inverse); all dims
/// when `dim` is `None`.
fn fftshift(c: &mut DecompCx<'_>, inverse: bool) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let shape = const_shape(c, x)?;
    let dims: Vec<usize> = match c.arg("dim")? {
        Arg::None => (0..shape.len()).collect(),
        a => a
            .as_int_list()
            .ok_or("dim must be a list of ints")?
            .iter()
            .map(|&d| wrap(d, shape.len()))
            .collect::<Result<_, _>>()?,
    };
    if dims.is_empty() || shape.is_empty() {
        return one(c.call("aten.clone.default", vec![val(x)])?);
    }
    let shifts: Vec<i64> = dims
        .iter()
        .map(|&d| {
            let n = shape[d];
            if inverse {
                (n + 1) / 2
            } else {
                n / 2
            }
        })
        .collect();
    let dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
    one(c.call(
        "aten.roll.default",
        vec![val(x), ints(&shifts), ints(&dims)],
    )?)
}

/// `kron(a, b)`: with both ranks padded to the larger, `a` viewed as `[a0, 1, a1, 1, ..]`
/// times `b` viewed as `[1, b0, 1, b1, ..]`, merged pairwise into `[a0 * b0, a1 * b1, ..]`.
fn kron(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (a, b) = (c.tensor("self")?, c.tensor("other")?);
    let (sa, sb) = (const_shape(c, a)?, const_shape(c, b)?);
    let r = sa.len().max(sb.len());
    let pad = |s: &[i64]| {
        let mut p = vec![1i64; r - s.len()];
        p.extend(s);
        p
    };
    let (pa, pb) = (pad(&sa), pad(&sb));
    let va: Vec<i64> = pa.iter().flat_map(|&d| [d, 1]).collect();
    let vb: Vec<i64> = pb.iter().flat_map(|&d| [1, d]).collect();
    let out: Vec<i64> = pa.iter().zip(&pb).map(|(x, y)| x * y).collect();
    let a2 = c.call("aten.reshape.default", vec![val(a), ints(&va)])?;
    let b2 = c.call("aten.reshape.default", vec![val(b), ints(&vb)])?;
    let p = c.call("aten.mul.Tensor", vec![val(a2), val(b2)])?;
    one(c.call("aten.reshape.default", vec![val(p), ints(&out)])?)
}

/// `inner(a, b)`: the product over the last dims, `a.shape[:-1] + b.shape[:-1]`; a scalar
/// operand multiplies.
fn inner(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (a, b) = (c.tensor("self")?, c.tensor("other")?);
    let (sa, sb) = (const_shape(c, a)?, const_shape(c, b)?);
    if sa.is_empty() || sb.is_empty() {
        return one(c.call("aten.mul.Tensor", vec![val(a), val(b)])?);
    }
    let (ka, kb) = (sa[sa.len() - 1], sb[sb.len() - 1]);
    if ka != kb {
        return Err(format!(
            "inner: the last dims must match, got {sa:?} and {sb:?}"
        ));
    }
    let a2 = c.call("aten.reshape.default", vec![val(a), ints(&[-1, ka])])?;
    let b2 = c.call("aten.reshape.default", vec![val(b), ints(&[-1, kb])])?;
    let bt = c.call("aten.t.default", vec![val(b2)])?;
    let m = c.call("aten.mm.default", vec![val(a2), val(bt)])?;
    let mut out = sa[..sa.len() - 1].to_vec();
    out.extend(&sb[..sb.len() - 1]);
    one(c.call("aten.reshape.default", vec![val(m), ints(&out)])?)
}
