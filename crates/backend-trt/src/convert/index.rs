//! Advanced indexing: `aten.index.Tensor` with any number of integer index tensors.
//!
//! PyTorch's rule (NumPy's "advanced indexing"): the index tensors broadcast to one shape
//! `B`; the indexed dims are replaced by `B`, in place when the indexed dims are adjacent,
//! else in front of the remaining dims. Negative indices count from the end of their dim.
//!
//! One index tensor is a plain gather on its dim. Several become one `kND` gather: the input
//! is permuted so that the indexed dims come first, the (wrapped, broadcast) index tensors
//! are stacked into `B + [m]` tuples, and the gather yields `B + rest`; for adjacent indexed
//! dims after a leading run of unindexed ones, a final permutation moves `B` back in place.
//! (Torch-TensorRT flattens the indexed dims and gathers a linear index computed with
//! elementwise arithmetic instead; the `kND` gather needs no flattening and no multiply-add
//! per index.)
//!
//! TensorRT documents gather indices as `0 <= i < extent`, so negative indices are wrapped
//! with a select layer (`i < 0 ? i + n : i`) unless they are constants known to be in range.
//! Boolean (mask) indices have a data-dependent result shape and are refused.

use trtfx_ir::{Arg, DType, Dim, TensorType, Type};

use super::{CResult, ConvertCtx, ConverterRegistry, NodeArgs, OpConverter, Slot};
use crate::network::{
    ElementWiseOp as E, GatherMode, ShapeArg, SliceMode, SliceParams, TensorId, TrtDataType,
};

/// The non-`None` entries of `indices`: (position, value type).
pub(super) fn index_entries<'a>(a: &NodeArgs<'a>) -> Result<Vec<(usize, &'a TensorType)>, String> {
    let Arg::List(items) = a.req("indices")? else {
        return Err(format!("{}: indices is not a list", a.op));
    };
    let x = a.tensor("self")?;
    if items.len() > x.rank() {
        return Err(format!(
            "{}: {} indices for {x} of rank {}",
            a.op,
            items.len(),
            x.rank()
        ));
    }
    let mut out = vec![];
    for (i, it) in items.iter().enumerate() {
        match it {
            Arg::None => {}
            Arg::Value(v) => match a.graph.ty(*v) {
                Type::Tensor(t) if t.dtype == DType::I64 || t.dtype == DType::I32 => {
                    out.push((i, t))
                }
                Type::Tensor(t) if t.dtype == DType::Bool || t.dtype == DType::U8 => {
                    return Err(format!(
                        "{}: boolean mask index {t} (the result shape depends on the mask's \
                         values)",
                        a.op
                    ))
                }
                t => return Err(format!("{}: index of type {t}", a.op)),
            },
            x => return Err(format!("{}: index {x}", a.op)),
        }
    }
    Ok(out)
}

/// The broadcast shape of the index tensors (NumPy rules over IR dims). Two different
/// symbolic extents cannot be told apart at build time and are refused.
pub(super) fn broadcast_shape(op: &str, ts: &[&TensorType]) -> Result<Vec<Dim>, String> {
    let r = ts.iter().map(|t| t.rank()).max().unwrap_or(0);
    let mut out = vec![Dim::constant(1); r];
    for t in ts {
        let k = r - t.rank();
        for (i, d) in t.shape.iter().enumerate() {
            let o = &mut out[k + i];
            if d.as_const() == Some(1) || d == o {
                continue;
            }
            if o.as_const() == Some(1) {
                *o = d.clone();
            } else {
                return Err(format!(
                    "{op}: index shapes do not broadcast ({d} against {o})"
                ));
            }
        }
    }
    Ok(out)
}

fn validate(a: &NodeArgs<'_>) -> Result<(), String> {
    let e = index_entries(a)?;
    let ts: Vec<&TensorType> = e.iter().map(|(_, t)| *t).collect();
    let b = broadcast_shape(a.op, &ts)?;
    let x = a.tensor("self")?;
    if e.len() > 1 && b.len() + x.rank() - e.len() > 8 {
        return Err(format!("{}: result rank above TensorRT's 8", a.op));
    }
    Ok(())
}

/// Whether every element of constant `t` lies in `[0, n)` (`n = None`: only `>= 0`).
fn known_in_range(ctx: &ConvertCtx<'_>, t: TensorId, n: Option<i64>) -> bool {
    let Some(w) = ctx.const_weights(t) else {
        return false;
    };
    match w.to_i64_vec() {
        Some(v) => v.iter().all(|&i| i >= 0 && n.is_none_or(|n| i < n)),
        None => false,
    }
}

/// `i` as Int32/Int64 with negative entries wrapped by the extent `n` of the indexed dim.
pub(super) fn wrap_negative(ctx: &mut ConvertCtx<'_>, i: TensorId, n: &Dim) -> CResult<TensorId> {
    let d = ctx.desc(i)?;
    let dt = match d.dtype {
        TrtDataType::Int32 | TrtDataType::Int64 => d.dtype,
        _ => TrtDataType::Int64,
    };
    let i = ctx.cast(i, dt)?;
    if known_in_range(ctx, i, n.as_const()) {
        return Ok(i);
    }
    let r = d.rank();
    let zero = ctx.scalar(0.0, dt, r)?;
    let neg = ctx.elementwise(i, zero, E::Less)?;
    let ext = match n.as_const() {
        Some(c) => ctx.scalar(c as f64, dt, r)?,
        None => {
            let e = ctx.dim_tensor(n)?;
            let e = ctx.cast(e, dt)?;
            if r == 0 {
                ctx.reshape_static(e, &[])?
            } else {
                ctx.to_rank(e, r)?
            }
        }
    };
    let up = ctx.elementwise(i, ext, E::Sum)?;
    ctx.select(neg, up, i)
}

/// The index tensors of `indices` with their positions and types (the tensor entries of
/// [`index_entries`]), negative indices wrapped.
pub(super) fn index_tensors<'a>(
    ctx: &mut ConvertCtx<'_>,
    a: &NodeArgs<'a>,
    entries: &[(usize, &'a TensorType)],
    xt: &TensorType,
) -> CResult<Vec<(usize, &'a TensorType, TensorId)>> {
    let Arg::List(items) = a.req("indices")? else {
        return Err("indices is not a list".into());
    };
    let mut idx = vec![];
    for &(p, t) in entries {
        let i = match ctx.arg_slot(&items[p])? {
            Slot::Tensor(i) => i,
            s => return Err(format!("index {s:?}").into()),
        };
        let i = wrap_negative(ctx, i, &xt.shape[p])?;
        idx.push((p, t, i));
    }
    Ok(idx)
}

/// What multi-tensor indexing (gather and scatter alike) works on: the indexed dims moved to
/// the front.
pub(super) struct IndexFront {
    /// The broadcast shape `B` of the index tensors.
    pub b: Vec<Dim>,
    /// The indexed dims, in order.
    pub pos: Vec<usize>,
    /// The other dims, in order.
    pub rest: Vec<usize>,
    /// `pos` then `rest`: the permutation that made `xp`.
    pub perm: Vec<i32>,
    /// The input with `perm` applied.
    pub xp: TensorId,
    /// The index tuples `B + [m]`, all of one integer type (one tensor needs no concatenation).
    pub tuples: TensorId,
}

/// [`IndexFront`] of input `x` (rank `rank`) indexed by `idx` (from [`index_tensors`]).
pub(super) fn index_front(
    ctx: &mut ConvertCtx<'_>,
    a: &NodeArgs<'_>,
    x: TensorId,
    rank: usize,
    idx: &[(usize, &TensorType, TensorId)],
) -> CResult<IndexFront> {
    let ts: Vec<&TensorType> = idx.iter().map(|(_, t, _)| *t).collect();
    let b = broadcast_shape(a.op, &ts)?;
    let pos: Vec<usize> = idx.iter().map(|(p, _, _)| *p).collect();
    let rest: Vec<usize> = (0..rank).filter(|d| !pos.contains(d)).collect();
    let perm: Vec<i32> = pos.iter().chain(&rest).map(|&d| d as i32).collect();
    let xp = ctx.transpose(x, &perm)?;
    let mut dt = TrtDataType::Int32;
    for &(_, _, i) in idx {
        if ctx.desc(i)?.dtype != TrtDataType::Int32 {
            dt = TrtDataType::Int64;
        }
    }
    let mut unit = b.clone();
    unit.push(Dim::constant(1));
    let mut parts = vec![];
    for &(_, t, i) in idx {
        let i = ctx.cast(i, dt)?;
        let i = broadcast_to(ctx, i, &t.shape, &b)?;
        parts.push(ctx.reshape(i, &unit)?);
    }
    let tuples = if parts.len() == 1 {
        parts[0]
    } else {
        ctx.net.add_concatenation(&parts, b.len() as u32)?
    };
    Ok(IndexFront {
        b,
        pos,
        rest,
        perm,
        xp,
        tuples,
    })
}

/// `t` (IR shape `from`) broadcast to the IR dims `to` (a stride-0 slice on unit dims).
pub(super) fn broadcast_to(
    ctx: &mut ConvertCtx<'_>,
    t: TensorId,
    from: &[Dim],
    to: &[Dim],
) -> CResult<TensorId> {
    let r = to.len();
    let t = ctx.to_rank(t, r)?;
    let mut ins: Vec<Dim> = vec![Dim::constant(1); r - from.len()];
    ins.extend(from.iter().cloned());
    if ins[..] == to[..] {
        return Ok(t);
    }
    let stride: Vec<i64> = ins.iter().zip(to).map(|(i, o)| i64::from(i == o)).collect();
    let size = ctx.shape_arg(to, false)?;
    Ok(ctx.net.add_slice(
        t,
        &SliceParams {
            start: ShapeArg::Static(vec![0; r]),
            size,
            stride: ShapeArg::Static(stride),
            mode: SliceMode::StrictBounds,
            fill_value: None,
        },
    )?)
}

fn convert(ctx: &mut ConvertCtx<'_>, a: &NodeArgs<'_>) -> CResult<Vec<Slot>> {
    let entries = index_entries(a)?;
    let xt = a.tensor("self")?;
    let x = ctx.input(a, "self")?;
    let idx = index_tensors(ctx, a, &entries, xt)?;
    match idx.len() {
        // `x[None, ...]`-style lists without a tensor select everything.
        0 => return Ok(vec![Slot::Tensor(ctx.net.add_identity(x)?)]),
        1 => {
            // One index tensor replaces its dim in place (a 0-d one drops it, as a 0-d
            // gather index does).
            let (p, _, i) = idx[0];
            let g = ctx.net.add_gather(x, i, p as u32, GatherMode::Default)?;
            return Ok(vec![Slot::Tensor(g)]);
        }
        _ => {}
    }
    let IndexFront {
        b,
        pos,
        rest,
        xp,
        tuples,
        ..
    } = index_front(ctx, a, x, xt.rank(), &idx)?;
    let g = ctx.net.add_gather(xp, tuples, 0, GatherMode::Nd)?;
    // `g` is `B + rest`; adjacent indexed dims go back after the unindexed dims before them.
    let adjacent = pos.windows(2).all(|w| w[1] == w[0] + 1);
    let lead = pos[0];
    if !adjacent || lead == 0 {
        return Ok(vec![Slot::Tensor(g)]);
    }
    let nb = b.len();
    let out_perm: Vec<i32> = (nb..nb + lead)
        .chain(0..nb)
        .chain(nb + lead..nb + rest.len())
        .map(|d| d as i32)
        .collect();
    Ok(vec![Slot::Tensor(ctx.transpose(g, &out_perm)?)])
}

pub(super) fn register(r: &mut ConverterRegistry) {
    r.register("aten.index.Tensor", OpConverter::new(validate, convert));
}
