//! Shape and data-movement ops: reshapes, permutations, broadcasting, concatenation, slicing,
//! gathers, splits, flips and padding.

use trtfx_ir::Dim;

use super::{trt_dtype, CResult, ConvertCtx, ConverterRegistry, NodeArgs, OpConverter, Slot};
use crate::network::{GatherMode, ShapeArg, SliceMode, SliceParams, TensorId, Weights};

fn one(t: TensorId) -> CResult<Vec<Slot>> {
    Ok(vec![Slot::Tensor(t)])
}

fn ok(_: &NodeArgs<'_>) -> Result<(), String> {
    Ok(())
}

fn norm_dim(d: i64, rank: usize) -> Result<usize, String> {
    let r = rank.max(1) as i64;
    let x = if d < 0 { d + r } else { d };
    if x < 0 || x >= r {
        return Err(format!("dim {d} out of range for rank {rank}"));
    }
    Ok(x as usize)
}

/// Reshape of `self` (or `input`) to the result type's dims.
fn reshape_to_result(arg: &'static str) -> OpConverter {
    OpConverter::new(ok, move |ctx, a| {
        let x = ctx.input(a, arg)?;
        let out = a.result_tensor(0)?;
        one(ctx.reshape(x, &out.shape)?)
    })
}

fn slice_static_or_tensor(ctx: &mut ConvertCtx<'_>, dims: &[Dim]) -> CResult<ShapeArg> {
    ctx.shape_arg(dims, false)
}

/// A strict slice with per-dim start (IR dims), size (IR dims) and static stride.
fn slice(
    ctx: &mut ConvertCtx<'_>,
    x: TensorId,
    start: &[Dim],
    size: &[Dim],
    stride: &[i64],
    mode: SliceMode,
    fill: Option<TensorId>,
) -> CResult<TensorId> {
    let start = slice_static_or_tensor(ctx, start)?;
    let size = slice_static_or_tensor(ctx, size)?;
    Ok(ctx.net.add_slice(
        x,
        &SliceParams {
            start,
            size,
            stride: ShapeArg::Static(stride.to_vec()),
            mode,
            fill_value: fill,
        },
    )?)
}

fn expand(ctx: &mut ConvertCtx<'_>, a: &NodeArgs<'_>) -> CResult<Vec<Slot>> {
    let xt = a.tensor("self")?;
    let out = a.result_tensor(0)?;
    let r = out.rank();
    let x = ctx.input(a, "self")?;
    let x = ctx.to_rank(x, r)?;
    let mut ins: Vec<Dim> = vec![Dim::constant(1); r - xt.rank()];
    ins.extend(xt.shape.iter().cloned());
    if ins[..] == out.shape[..] {
        return one(x);
    }
    let stride: Vec<i64> = ins
        .iter()
        .zip(&out.shape)
        .map(|(i, o)| i64::from(i == o))
        .collect();
    let zeros = vec![Dim::constant(0); r];
    one(slice(
        ctx,
        x,
        &zeros,
        &out.shape,
        &stride,
        SliceMode::StrictBounds,
        None,
    )?)
}

fn expand_validate(a: &NodeArgs<'_>) -> Result<(), String> {
    let xt = a.tensor("self")?;
    let out = a.result_tensor(0)?;
    let k = out.rank() - xt.rank().min(out.rank());
    for (i, d) in xt.shape.iter().enumerate() {
        let o = &out.shape[k + i];
        if d != o && d.as_const() != Some(1) {
            return Err(format!(
                "{}: cannot tell how {xt} broadcasts to {out}",
                a.op
            ));
        }
    }
    Ok(())
}

fn slice_args(a: &NodeArgs<'_>) -> Result<(usize, i64, i64), String> {
    let x = a.tensor("self")?;
    let dim = norm_dim(a.int("dim")?, x.rank())?;
    let step = a.int("step")?;
    if step < 1 {
        return Err(format!("{}: step {step}", a.op));
    }
    // `start=None` slices from the beginning.
    let start = a.opt_int("start")?.unwrap_or(0);
    let start = match x.shape[dim].as_const() {
        Some(n) => {
            let s = if start < 0 { start + n } else { start };
            s.clamp(0, n)
        }
        None if start >= 0 => start,
        None => {
            return Err(format!(
                "{}: negative start {start} on dynamic dim {}",
                a.op, x.shape[dim]
            ))
        }
    };
    Ok((dim, start, step))
}

fn gather_idx(ctx: &mut ConvertCtx<'_>, i: i64) -> CResult<TensorId> {
    ctx.constant(&[], Weights::from_i32(&[i as i32]))
}

/// Splits `x` along `axis` into the node's results (their extents along `axis` are read
/// from the result types).
fn split_results(ctx: &mut ConvertCtx<'_>, a: &NodeArgs<'_>, axis: usize) -> CResult<Vec<Slot>> {
    let x = ctx.input(a, "self")?;
    let r = ctx.rank(x)?;
    let mut start = Dim::constant(0);
    let mut out = vec![];
    for i in 0..a.results().len() {
        let t = a.result_tensor(i)?;
        let mut st = vec![Dim::constant(0); r];
        st[axis] = start.clone();
        let y = slice(
            ctx,
            x,
            &st,
            &t.shape,
            &vec![1; r],
            SliceMode::StrictBounds,
            None,
        )?;
        start = start.add(&t.shape[axis]);
        out.push(Slot::Tensor(y));
    }
    Ok(out)
}

fn split_validate(a: &NodeArgs<'_>) -> Result<(), String> {
    a.tensor("self")?;
    for i in 0..a.results().len() {
        a.result_tensor(i)?;
    }
    Ok(())
}

/// Pads per dim (first dim first) from ATen's `pad` list (last dim first, (left, right)).
fn pads(a: &NodeArgs<'_>) -> Result<Vec<(i64, i64)>, String> {
    let x = a.tensor("self")?;
    // `reflection_pad2d` and friends name the list `padding`.
    let p = a.ints(if a.has("padding") { "padding" } else { "pad" })?;
    if p.len() % 2 != 0 || p.len() / 2 > x.rank() {
        return Err(format!("{}: pad {p:?} for {x}", a.op));
    }
    let mut v = vec![(0, 0); x.rank()];
    for (i, c) in p.chunks(2).enumerate() {
        v[x.rank() - 1 - i] = (c[0], c[1]);
    }
    Ok(v)
}

fn pad_mode(a: &NodeArgs<'_>) -> Result<SliceMode, String> {
    // `constant_pad_nd` has no `mode`: it always pads with a constant; the
    // `reflection_padNd` / `replication_padNd` ops are named after theirs.
    let mode = if a.has("mode") {
        a.str("mode")?
    } else if a.op.starts_with("aten.reflection_pad") {
        "reflect"
    } else if a.op.starts_with("aten.replication_pad") {
        "replicate"
    } else {
        "constant"
    };
    Ok(match mode {
        "constant" => SliceMode::Fill,
        "reflect" => SliceMode::Reflect,
        "replicate" => SliceMode::Clamp,
        "circular" => SliceMode::Wrap,
        m => return Err(format!("{}: pad mode {m:?}", a.op)),
    })
}

fn pad_convert(ctx: &mut ConvertCtx<'_>, a: &NodeArgs<'_>) -> CResult<Vec<Slot>> {
    let p = pads(a)?;
    let mode = pad_mode(a)?;
    let x = ctx.input(a, "self")?;
    let out = a.result_tensor(0)?;
    let dt = trt_dtype(out.dtype)?;
    if mode == SliceMode::Fill {
        // Constant padding as concatenation with constant blocks: TensorRT builders do not
        // all expose the slice layer's fill mode.
        // `pad(..., value=None)` pads with zeros; `constant_pad_nd`'s `value` defaults to 0.
        let v = a.opt_f64("value")?.unwrap_or(0.0);
        let mut y = x;
        for (axis, &(l, r)) in p.iter().enumerate() {
            if l < 0 || r < 0 {
                return Err("negative padding".into());
            }
            let mut parts = vec![];
            let dims = ctx.desc(y)?.dims;
            for (n, before) in [(l, true), (r, false)] {
                if n == 0 {
                    continue;
                }
                let mut d = dims.clone();
                d[axis] = n;
                let count: i64 = d.iter().product();
                let w = super::ctx::weights_of(&vec![v; count as usize], dt)?;
                let c = ctx.constant(&d, w)?;
                if before {
                    parts.insert(0, c);
                } else {
                    parts.push(c);
                }
            }
            if parts.is_empty() {
                continue;
            }
            let pos = if l > 0 { 1 } else { 0 };
            parts.insert(pos, y);
            y = ctx.net.add_concatenation(&parts, axis as u32)?;
        }
        return one(y);
    }
    one(pad_by_slices(ctx, x, &a.tensor("self")?.shape, &p, mode)?)
}

/// Reflect, replicate and circular padding as strided slices of the edges concatenated
/// around the input, one padded axis at a time. TensorRT's slice modes would do this in
/// one layer, but the binding (trtx 0.9.1) has no `ISliceLayer::setMode`. Padded axes must
/// be static (checked by [`pad_validate`]); other axes may be dynamic.
fn pad_by_slices(
    ctx: &mut ConvertCtx<'_>,
    x: TensorId,
    shape: &[Dim],
    pads: &[(i64, i64)],
    mode: SliceMode,
) -> CResult<TensorId> {
    let r = shape.len();
    let mut shape = shape.to_vec();
    let mut y = x;
    for (axis, &(l, rt)) in pads.iter().enumerate() {
        if l == 0 && rt == 0 {
            continue;
        }
        let n = shape[axis].as_const().ok_or("padded dim is dynamic")?;
        // (start, stride) of each edge block along `axis`; the block has `l` or `rt` items.
        let (left, right) = match mode {
            // x[l], x[l-1], ..., x[1] | x | x[n-2], ..., x[n-1-rt]
            SliceMode::Reflect => ((l, -1), (n - 2, -1)),
            // x[0] repeated | x | x[n-1] repeated (stride 0 broadcasts one element).
            SliceMode::Clamp => ((0, 0), (n - 1, 0)),
            // x[n-l..n] | x | x[0..rt]
            SliceMode::Wrap => ((n - l, 1), (0, 1)),
            m => return Err(format!("pad mode {m:?}").into()),
        };
        let mut parts = vec![];
        for (count, (start, step), before) in [(l, left, true), (rt, right, false)] {
            if count == 0 {
                continue;
            }
            let mut st = vec![Dim::constant(0); r];
            st[axis] = Dim::constant(start);
            let mut size = shape.clone();
            size[axis] = Dim::constant(count);
            let mut stride = vec![1; r];
            stride[axis] = step;
            let part = slice(ctx, y, &st, &size, &stride, SliceMode::StrictBounds, None)?;
            if before {
                parts.push(part);
                parts.push(y);
            } else {
                if parts.is_empty() {
                    parts.push(y);
                }
                parts.push(part);
            }
        }
        y = ctx.net.add_concatenation(&parts, axis as u32)?;
        shape[axis] = Dim::constant(n + l + rt);
    }
    Ok(y)
}

/// Validator of the pad ops: constant padding needs a static shape and pads >= 0 (it
/// concatenates constant blocks); the other modes need static padded dims, pads >= 0 and
/// PyTorch's bounds (reflect: pad < size, circular: pad <= size).
fn pad_validate(a: &NodeArgs<'_>) -> Result<(), String> {
    let p = pads(a)?;
    let mode = pad_mode(a)?;
    let x = a.tensor("self")?;
    if p.iter().any(|&(l, r)| l < 0 || r < 0) {
        return Err(format!("{}: negative padding {p:?}", a.op));
    }
    if mode == SliceMode::Fill {
        if x.static_shape().is_none() {
            return Err(format!("{}: constant padding needs a static shape", a.op));
        }
        return Ok(());
    }
    for (axis, &(l, r)) in p.iter().enumerate() {
        if l == 0 && r == 0 {
            continue;
        }
        let n = x.shape[axis]
            .as_const()
            .ok_or_else(|| format!("{}: {mode:?} padding of dynamic dim {axis}", a.op))?;
        let limit = if mode == SliceMode::Reflect { n - 1 } else { n };
        if mode != SliceMode::Clamp && (l > limit || r > limit) {
            return Err(format!(
                "{}: {mode:?} padding ({l}, {r}) of dim {axis} of size {n}",
                a.op
            ));
        }
    }
    Ok(())
}

pub(super) fn register(r: &mut ConverterRegistry) {
    for name in [
        "aten.view.default",
        "aten.reshape.default",
        "aten._unsafe_view.default",
        "aten.view_copy.default",
        "aten.squeeze.dim",
        "aten.squeeze.dims",
        "aten.squeeze.default",
        "aten.unsqueeze.default",
        "aten.flatten.using_ints",
        "aten.unflatten.int",
    ] {
        r.register(name, reshape_to_result("self"));
    }
    r.register(
        "aten.permute.default",
        OpConverter::new(
            |a| {
                let x = a.tensor("self")?;
                for d in a.ints("dims")? {
                    norm_dim(d, x.rank())?;
                }
                Ok(())
            },
            |ctx, a| {
                let x = ctx.input(a, "self")?;
                let r = ctx.rank(x)?;
                let perm: Vec<i32> = a
                    .ints("dims")?
                    .into_iter()
                    .map(|d| norm_dim(d, r).map(|d| d as i32))
                    .collect::<Result<_, _>>()?;
                one(ctx.transpose(x, &perm)?)
            },
        ),
    );
    let transpose =
        |ctx: &mut ConvertCtx<'_>, x: TensorId, d0: i64, d1: i64| -> CResult<TensorId> {
            let r = ctx.rank(x)?;
            if r < 2 {
                return Ok(x);
            }
            let (d0, d1) = (norm_dim(d0, r)?, norm_dim(d1, r)?);
            let mut perm: Vec<i32> = (0..r as i32).collect();
            perm.swap(d0, d1);
            ctx.transpose(x, &perm)
        };
    r.register(
        "aten.transpose.int",
        OpConverter::new(ok, move |ctx, a| {
            let x = ctx.input(a, "self")?;
            one(transpose(ctx, x, a.int("dim0")?, a.int("dim1")?)?)
        }),
    );
    r.register(
        "aten.t.default",
        OpConverter::new(ok, move |ctx, a| {
            let x = ctx.input(a, "self")?;
            one(transpose(ctx, x, 0, 1)?)
        }),
    );
    r.register(
        "aten.expand.default",
        OpConverter::new(expand_validate, expand),
    );
    r.register(
        "aten.cat.default",
        OpConverter::new(
            |a| {
                let out = a.result_tensor(0)?;
                norm_dim(a.int("dim")?, out.rank()).map(|_| ())
            },
            |ctx, a| {
                let out = a.result_tensor(0)?;
                let dt = trt_dtype(out.dtype)?;
                let axis = norm_dim(a.int("dim")?, out.rank())?;
                let mut parts = vec![];
                for t in ctx.inputs(a, "tensors")? {
                    let d = ctx.desc(t)?;
                    // Legacy: 1-D empty tensors are skipped by torch.cat.
                    if d.rank() == 1 && d.dims[0] == 0 && out.rank() != 1 {
                        continue;
                    }
                    parts.push(ctx.cast(t, dt)?);
                }
                if parts.len() == 1 {
                    return one(parts[0]);
                }
                one(ctx.net.add_concatenation(&parts, axis as u32)?)
            },
        ),
    );
    r.register(
        "aten.stack.default",
        OpConverter::new(
            |a| {
                let out = a.result_tensor(0)?;
                norm_dim(a.int("dim")?, out.rank()).map(|_| ())
            },
            |ctx, a| {
                let out = a.result_tensor(0)?;
                let dt = trt_dtype(out.dtype)?;
                let axis = norm_dim(a.int("dim")?, out.rank())?;
                let mut unit = out.shape.clone();
                unit[axis] = Dim::constant(1);
                let mut parts = vec![];
                for t in ctx.inputs(a, "tensors")? {
                    let t = ctx.cast(t, dt)?;
                    parts.push(ctx.reshape(t, &unit)?);
                }
                if parts.len() == 1 {
                    return one(parts[0]);
                }
                one(ctx.net.add_concatenation(&parts, axis as u32)?)
            },
        ),
    );
    r.register(
        "aten.slice.Tensor",
        OpConverter::new(
            |a| slice_args(a).map(|_| ()),
            |ctx, a| {
                let (dim, start, step) = slice_args(a)?;
                let x = ctx.input(a, "self")?;
                let out = a.result_tensor(0)?;
                let r = out.rank();
                let mut st = vec![Dim::constant(0); r];
                st[dim] = Dim::constant(start);
                let mut stride = vec![1; r];
                stride[dim] = step;
                one(slice(
                    ctx,
                    x,
                    &st,
                    &out.shape,
                    &stride,
                    SliceMode::StrictBounds,
                    None,
                )?)
            },
        ),
    );
    let select_index = |a: &NodeArgs<'_>| -> Result<(usize, i64), String> {
        let x = a.tensor("self")?;
        let dim = norm_dim(a.int("dim")?, x.rank())?;
        let i = a.int("index")?;
        if i >= 0 {
            return Ok((dim, i));
        }
        match x.shape[dim].as_const() {
            Some(n) if i + n >= 0 => Ok((dim, i + n)),
            _ => Err(format!("{}: index {i} on dim {}", a.op, x.shape[dim])),
        }
    };
    r.register(
        "aten.select.int",
        OpConverter::new(
            move |a| select_index(a).map(|_| ()),
            move |ctx, a| {
                let (dim, i) = select_index(a)?;
                let x = ctx.input(a, "self")?;
                let idx = gather_idx(ctx, i)?;
                one(ctx
                    .net
                    .add_gather(x, idx, dim as u32, GatherMode::Default)?)
            },
        ),
    );
    r.register(
        "aten.unbind.int",
        OpConverter::new(
            |a| {
                let x = a.tensor("self")?;
                let d = norm_dim(a.int("dim")?, x.rank())?;
                x.shape[d]
                    .as_const()
                    .map(|_| ())
                    .ok_or_else(|| format!("{}: dynamic dim", a.op))
            },
            |ctx, a| {
                let x = ctx.input(a, "self")?;
                let d = norm_dim(a.int("dim")?, ctx.rank(x)?)?;
                let mut out = vec![];
                for i in 0..a.results().len() {
                    let idx = gather_idx(ctx, i as i64)?;
                    out.push(Slot::Tensor(ctx.net.add_gather(
                        x,
                        idx,
                        d as u32,
                        GatherMode::Default,
                    )?));
                }
                Ok(out)
            },
        ),
    );
    r.register(
        "aten.index_select.default",
        OpConverter::new(ok, |ctx, a| {
            let x = ctx.input(a, "self")?;
            let i = ctx.input(a, "index")?;
            let d = norm_dim(a.int("dim")?, ctx.rank(x)?)?;
            let i = if ctx.rank(i)? == 0 {
                ctx.reshape_static(i, &[1])?
            } else {
                i
            };
            one(ctx.net.add_gather(x, i, d as u32, GatherMode::Default)?)
        }),
    );
    r.register(
        "aten.gather.default",
        OpConverter::new(
            |a| {
                if a.tensor("self")?.rank() != a.tensor("index")?.rank() {
                    return Err(format!("{}: index rank differs from input rank", a.op));
                }
                Ok(())
            },
            |ctx, a| {
                let x = ctx.input(a, "self")?;
                let i = ctx.input(a, "index")?;
                let d = norm_dim(a.int("dim")?, ctx.rank(x)?)?;
                one(ctx.net.add_gather(x, i, d as u32, GatherMode::Element)?)
            },
        ),
    );
    r.register(
        "aten.embedding.default",
        OpConverter::new(ok, |ctx, a| {
            let w = ctx.input(a, "weight")?;
            let i = ctx.input(a, "indices")?;
            one(ctx.net.add_gather(w, i, 0, GatherMode::Default)?)
        }),
    );
    for (name, dim) in [
        ("aten.split_with_sizes.default", "dim"),
        ("aten.split.Tensor", "dim"),
        ("aten.chunk.default", "dim"),
        ("aten.tensor_split.sections", "dim"),
    ] {
        r.register(
            name,
            OpConverter::new(split_validate, move |ctx, a| {
                let x = a.tensor("self")?;
                let d = norm_dim(a.int(dim)?, x.rank())?;
                split_results(ctx, a, d)
            }),
        );
    }
    r.register(
        "aten.flip.default",
        OpConverter::new(
            |a| {
                let x = a.tensor("self")?;
                for d in a.ints("dims")? {
                    let d = norm_dim(d, x.rank())?;
                    if !x.shape[d].is_const() {
                        return Err(format!("{}: flipped dim {d} is dynamic", a.op));
                    }
                }
                Ok(())
            },
            |ctx, a| {
                let xt = a.tensor("self")?;
                let x = ctx.input(a, "self")?;
                let r = xt.rank();
                let mut start = vec![Dim::constant(0); r];
                let mut stride = vec![1; r];
                for d in a.ints("dims")? {
                    let d = norm_dim(d, r)?;
                    start[d] = Dim::constant(xt.shape[d].as_const().unwrap_or(1) - 1);
                    stride[d] = -1;
                }
                one(slice(
                    ctx,
                    x,
                    &start,
                    &xt.shape,
                    &stride,
                    SliceMode::StrictBounds,
                    None,
                )?)
            },
        ),
    );
    for name in [
        "aten.constant_pad_nd.default",
        "aten.pad.default",
        "aten.reflection_pad1d.default",
        "aten.reflection_pad2d.default",
        "aten.reflection_pad3d.default",
        "aten.replication_pad1d.default",
        "aten.replication_pad2d.default",
        "aten.replication_pad3d.default",
    ] {
        r.register(name, OpConverter::new(pad_validate, pad_convert));
    }
}
