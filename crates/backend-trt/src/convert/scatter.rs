//! `aten.scatter.src` / `aten.scatter.value`: TensorRT's `IScatterLayer` in element mode;
//! `aten.index_put` (`x[i, j] = v`): the same layer in ND mode.
//!
//! `out = self; out[..., index[i], ...] = src[i]` along `dim` (PyTorch's `scatter_`, no
//! reduction). TensorRT's element-mode scatter takes updates of the indices' shape, so `src`
//! is cut to `index`'s shape (PyTorch reads only that corner of `src`), and a scalar `value`
//! becomes a constant of that shape; both need a static `index` shape. Duplicate indices write
//! an unspecified one of their updates in both PyTorch and TensorRT.

use trtfx_ir::{Dim, TensorType};

use super::index::{
    broadcast_shape, broadcast_to, index_entries, index_front, index_tensors, IndexFront,
};
use super::{CResult, ConvertCtx, ConverterRegistry, NodeArgs, OpConverter, Slot};
use crate::network::{ElementWiseOp, ReduceOp, ScatterMode, SliceParams, TensorId, TrtDataType};

fn norm_dim(d: i64, rank: usize) -> Result<usize, String> {
    let r = rank.max(1) as i64;
    let x = if d < 0 { d + r } else { d };
    if x < 0 || x >= r {
        return Err(format!("dim {d} out of range for rank {rank}"));
    }
    Ok(x as usize)
}

fn validate(a: &NodeArgs<'_>) -> Result<(), String> {
    let x = a.tensor("self")?;
    let i = a.tensor("index")?;
    if i.rank() != x.rank() {
        return Err(format!("{}: index rank differs from input rank", a.op));
    }
    if ConvertCtx::trt_dims(i).iter().any(|&d| d < 0) {
        return Err(format!("{}: index shape {i} must be static", a.op));
    }
    if a.has("src") {
        let s = a.tensor("src")?;
        if s.dtype != x.dtype || s.rank() != x.rank() {
            return Err(format!(
                "{}: src {s} must have the type and rank of {x}",
                a.op
            ));
        }
        if ConvertCtx::trt_dims(s).iter().any(|&d| d < 0) {
            return Err(format!("{}: src shape {s} must be static", a.op));
        }
    }
    norm_dim(a.int("dim")?, x.rank())?;
    Ok(())
}

fn convert(ctx: &mut ConvertCtx<'_>, a: &NodeArgs<'_>) -> CResult<Vec<Slot>> {
    let x = ctx.input(a, "self")?;
    let mut i = ctx.input(a, "index")?;
    let d = ctx.desc(x)?;
    let dim = norm_dim(a.int("dim")?, d.rank())?;
    let idims = ctx.desc(i)?.dims;
    let updates = if a.has("src") {
        let s = ctx.input(a, "src")?;
        if ctx.desc(s)?.dims == idims {
            s
        } else {
            let zeros = vec![0; idims.len()];
            let ones = vec![1; idims.len()];
            ctx.net
                .add_slice(s, &SliceParams::new(&zeros, &idims, &ones))?
        }
    } else {
        let v = a.f64("value")?;
        let n: i64 = idims.iter().product();
        let w = super::ctx::weights_of(&vec![v; n as usize], d.dtype)?;
        ctx.constant(&idims, w)?
    };
    if !ctx.desc(i)?.dtype.is_int() {
        i = ctx.cast(i, TrtDataType::Int64)?;
    }
    let out = ctx
        .net
        .add_scatter(x, i, updates, ScatterMode::Element, dim as u32)?;
    Ok(vec![Slot::Tensor(out)])
}

/// `index_put(self, indices, values, accumulate)`: integer index tensors (negative ones
/// count from the end) select like `aten.index`, and `values` (broadcast to the selection's
/// shape) is written there. TensorRT's scatter has no reducing mode and overwrites repeated
/// indices, so `accumulate=True` is a one-hot sum instead ([`accumulate_updates`]), which
/// needs static shapes and a bounded one-hot product.
fn index_put_validate(a: &NodeArgs<'_>) -> Result<(), String> {
    let op = a.op;
    let x = a.tensor("self")?;
    if accumulates(a)? {
        if x.dtype == trtfx_ir::DType::Bool {
            return Err(format!("{op}: accumulate=True on bool {x}"));
        }
        let e = index_entries(a)?;
        let statics = std::iter::once(x)
            .chain(e.iter().map(|(_, t)| *t))
            .chain(std::iter::once(a.tensor("values")?));
        for t in statics {
            if ConvertCtx::trt_dims(t).iter().any(|&d| d < 0) {
                return Err(format!(
                    "{op}: accumulate=True needs static shapes, {t} is dynamic"
                ));
            }
        }
        let ts: Vec<&TensorType> = e.iter().map(|(_, t)| *t).collect();
        let b = broadcast_shape(op, &ts)?;
        let n_updates: i64 = b.iter().filter_map(Dim::as_const).product();
        let elems: i64 = ConvertCtx::trt_dims(x).iter().product();
        if n_updates.saturating_mul(elems) > ONE_HOT_LIMIT {
            return Err(format!(
                "{op}: accumulate=True over {n_updates} updates of {x} exceeds the one-hot \
                 limit of {ONE_HOT_LIMIT} elements"
            ));
        }
    }
    let v = a.tensor("values")?;
    if v.dtype != x.dtype {
        return Err(format!("{op}: values {v} and self {x} differ in dtype"));
    }
    let e = index_entries(a)?;
    if e.is_empty() {
        return Err(format!("{op}: no index tensor"));
    }
    let ts: Vec<&TensorType> = e.iter().map(|(_, t)| *t).collect();
    let b = broadcast_shape(op, &ts)?;
    let sel = selection_shape(x, &e, &b);
    if v.rank() > sel.len() {
        return Err(format!(
            "{op}: values {v} have more dims than the selection"
        ));
    }
    for (vd, sd) in v.shape.iter().rev().zip(sel.iter().rev()) {
        if vd.as_const() != Some(1) && vd != sd {
            return Err(format!(
                "{op}: values {v} do not broadcast to the selection ({vd} against {sd})"
            ));
        }
    }
    if b.len() + x.rank() - e.len() > 8 {
        return Err(format!("{op}: update rank above TensorRT's 8"));
    }
    Ok(())
}

/// Shape of `x[indices]`: the broadcast index shape `b` in place of adjacent indexed dims
/// that follow unindexed ones, else in front.
fn selection_shape(x: &TensorType, e: &[(usize, &TensorType)], b: &[Dim]) -> Vec<Dim> {
    let pos: Vec<usize> = e.iter().map(|(p, _)| *p).collect();
    let rest: Vec<Dim> = (0..x.rank())
        .filter(|d| !pos.contains(d))
        .map(|d| x.shape[d].clone())
        .collect();
    let lead = in_place_lead(&pos);
    let mut out = rest[..lead].to_vec();
    out.extend(b.iter().cloned());
    out.extend(rest[lead..].iter().cloned());
    out
}

/// How many unindexed dims precede the index shape in `x[indices]` (non-zero only for
/// adjacent indexed dims after a leading unindexed run).
fn in_place_lead(pos: &[usize]) -> usize {
    let adjacent = pos.windows(2).all(|w| w[1] == w[0] + 1);
    if adjacent {
        pos[0]
    } else {
        0
    }
}

/// The indexed dims are moved to the front (`xp`), the wrapped, broadcast index tensors
/// stacked into `B + [m]` tuples, the values broadcast to the selection and moved to
/// `B + rest`, one ND scatter writes them, and the inverse permutation restores the layout.
fn index_put(ctx: &mut ConvertCtx<'_>, a: &NodeArgs<'_>) -> CResult<Vec<Slot>> {
    let entries = index_entries(a)?;
    let xt = a.tensor("self")?;
    let vt = a.tensor("values")?;
    let x = ctx.input(a, "self")?;
    let v = ctx.input(a, "values")?;
    let idx = index_tensors(ctx, a, &entries, xt)?;
    let r = xt.rank();
    let IndexFront {
        b,
        pos,
        perm,
        xp,
        tuples,
        ..
    } = index_front(ctx, a, x, r, &idx)?;
    let identity = perm.iter().enumerate().all(|(i, &p)| i as i32 == p);
    // Values: broadcast to the selection, then `B` to the front.
    let sel = selection_shape(xt, &entries, &b);
    let mut u = broadcast_to(ctx, v, &vt.shape, &sel)?;
    let lead = in_place_lead(&pos);
    let nb = b.len();
    if lead > 0 {
        let to_front: Vec<i32> = (lead..lead + nb)
            .chain(0..lead)
            .chain(lead + nb..sel.len())
            .map(|d| d as i32)
            .collect();
        u = ctx.transpose(u, &to_front)?;
    }
    let yp = if accumulates(a)? {
        let dims = ConvertCtx::trt_dims(xt);
        let front: Vec<i64> = perm.iter().map(|&p| dims[p as usize]).collect();
        accumulate_updates(ctx, xp, tuples, u, &front, entries.len(), &b)?
    } else {
        ctx.net.add_scatter(xp, tuples, u, ScatterMode::Nd, 0)?
    };
    if identity {
        return Ok(vec![Slot::Tensor(yp)]);
    }
    let mut inverse = vec![0i32; r];
    for (i, &p) in perm.iter().enumerate() {
        inverse[p as usize] = i as i32;
    }
    Ok(vec![Slot::Tensor(ctx.transpose(yp, &inverse)?)])
}

/// Largest one-hot product (updates × elements of `self`) `index_put(accumulate=True)`
/// builds: beyond it the network's memory would dwarf the tensors it computes.
const ONE_HOT_LIMIT: i64 = 1 << 24;

fn accumulates(a: &NodeArgs<'_>) -> Result<bool, String> {
    Ok(a.has("accumulate") && a.bool("accumulate")?)
}

/// `xp + Σ_k onehot(tuples[k]) ⊗ u[k]`: the sum of the updates at their (possibly repeated)
/// positions. `xp` is `self` with the `m` indexed dims in front (static dims `front`), `tuples`
/// the `B + [m]` index tuples, `u` the updates `B + rest`. The tuples become linear positions
/// in the indexed block (`N` of them), compared with `0..N` into a `[nB, N]` one-hot, which
/// times the updates `[nB, 1, R]`, summed over the updates, is the `[N, R]` contribution.
fn accumulate_updates(
    ctx: &mut ConvertCtx<'_>,
    xp: TensorId,
    tuples: TensorId,
    u: TensorId,
    front: &[i64],
    m: usize,
    b: &[Dim],
) -> CResult<TensorId> {
    let n_updates: i64 = b.iter().filter_map(Dim::as_const).product();
    let (block, rest) = front.split_at(m);
    let n: i64 = block.iter().product();
    let r: i64 = rest.iter().product();
    let int = ctx.desc(tuples)?.dtype;
    let dtype = ctx.desc(xp)?.dtype;
    // Linear position of each tuple: Σ_j t_j · stride_j (row-major strides of the block).
    let mut strides = vec![1i64; m];
    for j in (0..m.saturating_sub(1)).rev() {
        strides[j] = strides[j + 1] * block[j + 1];
    }
    let t = ctx.reshape_static(tuples, &[n_updates, m as i64])?;
    let sw = super::ctx::weights_of(&strides.iter().map(|&v| v as f64).collect::<Vec<_>>(), int)?;
    let sc = ctx.constant(&[1, m as i64], sw)?;
    let scaled = ctx.elementwise(t, sc, ElementWiseOp::Prod)?;
    let linear = ctx.net.add_reduce(scaled, ReduceOp::Sum, 1 << 1, true)?; // [nB, 1]
    let positions = (0..n).map(|v| v as f64).collect::<Vec<_>>();
    let pw = super::ctx::weights_of(&positions, int)?;
    let range = ctx.constant(&[1, n], pw)?;
    let hit = ctx.elementwise(linear, range, ElementWiseOp::Equal)?; // [nB, N] bool
    let one_hot = ctx.cast(hit, dtype)?;
    let one_hot = ctx.reshape_static(one_hot, &[n_updates, n, 1])?;
    let updates = ctx.reshape_static(u, &[n_updates, 1, r])?;
    let parts = ctx.elementwise(one_hot, updates, ElementWiseOp::Prod)?; // [nB, N, R]
    let sum = ctx.net.add_reduce(parts, ReduceOp::Sum, 1, false)?; // [N, R]
    let sum = ctx.reshape_static(sum, front)?;
    ctx.elementwise(xp, sum, ElementWiseOp::Sum)
}

pub(super) fn register(r: &mut ConverterRegistry) {
    for name in ["aten.scatter.src", "aten.scatter.value"] {
        r.register(name, OpConverter::new(validate, convert));
    }
    for name in ["aten.index_put.default", "aten.index_put.hacked_twin"] {
        r.register(name, OpConverter::new(index_put_validate, index_put));
    }
}
