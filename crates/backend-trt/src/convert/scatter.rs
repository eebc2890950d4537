//! `aten.scatter.src` / `aten.scatter.value`: TensorRT's `IScatterLayer` in element mode.
//!
//! `out = self; out[..., index[i], ...] = src[i]` along `dim` (PyTorch's `scatter_`, no
//! reduction). TensorRT's element-mode scatter takes updates of the indices' shape, so `src`
//! is cut to `index`'s shape (PyTorch reads only that corner of `src`), and a scalar `value`
//! becomes a constant of that shape; both need a static `index` shape. Duplicate indices write
//! an unspecified one of their updates in both PyTorch and TensorRT.

use super::{CResult, ConvertCtx, ConverterRegistry, NodeArgs, OpConverter, Slot};
use crate::network::{ScatterMode, SliceParams, TrtDataType};

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

pub(super) fn register(r: &mut ConverterRegistry) {
    for name in ["aten.scatter.src", "aten.scatter.value"] {
        r.register(name, OpConverter::new(validate, convert));
    }
}
