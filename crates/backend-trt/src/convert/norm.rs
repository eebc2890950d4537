//! Reductions, softmax, normalisations, pooling, resize, top-k and scans.

use trtfx_ir::{DType, TensorType};

use super::elementwise::float_result;
use super::{trt_dtype, CResult, ConvertCtx, ConverterRegistry, NodeArgs, OpConverter, Slot};
use crate::network::{
    CumulativeOp, ElementWiseOp as E, PaddingMode, PoolingParams, PoolingType, ReduceOp,
    ResizeCoordinateTransformation, ResizeMode, ResizeOutput, ResizeParams, ResizeRoundMode,
    TensorId, TopKOp, TrtDataType, UnaryOp as U,
};

fn one(t: TensorId) -> CResult<Vec<Slot>> {
    Ok(vec![Slot::Tensor(t)])
}

fn norm_dim(d: i64, rank: usize) -> Result<usize, String> {
    let r = rank.max(1) as i64;
    let x = if d < 0 { d + r } else { d };
    if x < 0 || x >= r {
        return Err(format!("dim {d} out of range for rank {rank}"));
    }
    Ok(x as usize)
}

/// Bitmask of the dims reduced over: those of argument `name` (`None` or empty: all), or all
/// for the overloads without a dim argument (`name = None`: `sum.default`).
fn axes_of(a: &NodeArgs<'_>, name: Option<&str>, rank: usize) -> Result<u32, String> {
    let dims = match name {
        Some(name) => a.opt_ints(name)?.unwrap_or_default(),
        None => vec![],
    };
    if dims.is_empty() {
        return Ok(((1u64 << rank) - 1) as u32);
    }
    let mut m = 0u32;
    for d in dims {
        m |= 1 << norm_dim(d, rank)?;
    }
    Ok(m)
}

/// `keepdim`; the overloads without it (`sum.default`) reduce to a scalar.
fn keepdim(a: &NodeArgs<'_>) -> Result<bool, String> {
    if a.has("keepdim") {
        a.bool("keepdim")
    } else {
        Ok(false)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Red {
    Sum,
    Mean,
    Max,
    Min,
    Prod,
    Any,
    All,
}

fn reduce(kind: Red, dim: Option<&'static str>) -> OpConverter {
    OpConverter::new(
        move |a| {
            let x = a.tensor("self")?;
            axes_of(a, dim, x.rank())?;
            keepdim(a)?;
            if kind == Red::Mean {
                float_result(a)?;
            }
            Ok(())
        },
        move |ctx, a| {
            let out = a.result_tensor(0)?;
            let dt = trt_dtype(out.dtype)?;
            let x = ctx.input(a, "self")?;
            let rank = ctx.rank(x)?;
            if rank == 0 {
                return one(ctx.cast(x, dt)?);
            }
            let axes = axes_of(a, dim, rank)?;
            let keep = keepdim(a)?;
            // TensorRT reduces numbers, not bools: any/all, and max/min of bools, reduce 0/1
            // as i32.
            let bool_max_min = dt == TrtDataType::Bool && matches!(kind, Red::Max | Red::Min);
            let (x, op) = match kind {
                Red::Any | Red::All => {
                    let x = ctx.cast(x, TrtDataType::Bool)?;
                    let x = ctx.cast(x, TrtDataType::Int32)?;
                    (
                        x,
                        if kind == Red::Any {
                            ReduceOp::Max
                        } else {
                            ReduceOp::Min
                        },
                    )
                }
                _ => {
                    let x = ctx.cast(x, dt)?;
                    let op = match kind {
                        Red::Sum => ReduceOp::Sum,
                        Red::Mean => ReduceOp::Avg,
                        Red::Max => ReduceOp::Max,
                        Red::Min => ReduceOp::Min,
                        _ => ReduceOp::Prod,
                    };
                    let x = if bool_max_min {
                        ctx.cast(x, TrtDataType::Int32)?
                    } else {
                        x
                    };
                    (x, op)
                }
            };
            let y = ctx.net.add_reduce(x, op, axes, keep)?;
            one(ctx.cast(y, dt)?)
        },
    )
}

fn var_op(unbiased_arg: bool) -> OpConverter {
    let correction = move |a: &NodeArgs<'_>| -> Result<f64, String> {
        if unbiased_arg {
            Ok(if a.bool("unbiased")? { 1.0 } else { 0.0 })
        } else {
            // `correction=None` is Bessel's correction.
            Ok(a.opt_f64("correction")?.unwrap_or(1.0))
        }
    };
    OpConverter::new(
        move |a| {
            float_result(a)?;
            correction(a)?;
            let x = a.tensor("self")?;
            let axes = axes_of(a, Some("dim"), x.rank())?;
            for (i, d) in x.shape.iter().enumerate() {
                if axes & (1 << i) != 0 && !d.is_const() {
                    return Err(format!("{}: reduced dim {i} of {x} is dynamic", a.op));
                }
            }
            Ok(())
        },
        move |ctx, a| {
            let x = ctx.input(a, "self")?;
            let d = ctx.desc(x)?;
            let axes = axes_of(a, Some("dim"), d.rank())?;
            let n: i64 = (0..d.rank())
                .filter(|i| axes & (1 << i) != 0)
                .map(|i| d.dims[i])
                .product();
            let m = ctx.net.add_reduce(x, ReduceOp::Avg, axes, true)?;
            let c = ctx.elementwise(x, m, E::Sub)?;
            let sq = ctx.elementwise(c, c, E::Prod)?;
            let s = ctx.net.add_reduce(sq, ReduceOp::Sum, axes, keepdim(a)?)?;
            let denom = (n as f64 - correction(a)?).max(0.0);
            let k = ctx.scalar(denom, d.dtype, ctx.rank(s)?)?;
            one(ctx.elementwise(s, k, E::Div)?)
        },
    )
}

fn softmax(log: bool) -> OpConverter {
    OpConverter::new(
        |a| {
            float_result(a)?;
            if a.has("half_to_float") && a.bool("half_to_float")? {
                return Err(format!("{}: half_to_float", a.op));
            }
            norm_dim(a.int("dim")?, a.tensor("self")?.rank()).map(|_| ())
        },
        move |ctx, a| {
            let dt = trt_dtype(a.result_tensor(0)?.dtype)?;
            let x = ctx.input(a, "self")?;
            let x = ctx.cast(x, dt)?;
            let rank = ctx.rank(x)?;
            let x = if rank == 0 {
                ctx.reshape_static(x, &[1])?
            } else {
                x
            };
            let axis = norm_dim(a.int("dim")?, rank)?;
            let y = if log {
                // x - max - log(sum(exp(x - max))): stable, unlike log(softmax(x)).
                let m = ctx.net.add_reduce(x, ReduceOp::Max, 1 << axis, true)?;
                let sh = ctx.elementwise(x, m, E::Sub)?;
                let e = ctx.unary(sh, U::Exp)?;
                let s = ctx.net.add_reduce(e, ReduceOp::Sum, 1 << axis, true)?;
                let l = ctx.unary(s, U::Log)?;
                ctx.elementwise(sh, l, E::Sub)?
            } else {
                ctx.net.add_softmax(x, axis as u32)?
            };
            let y = if rank == 0 {
                ctx.reshape_static(y, &[])?
            } else {
                y
            };
            one(y)
        },
    )
}

/// Extra results (mean/rstd of the norms, pool indices) must be unused.
fn only_first_used(a: &NodeArgs<'_>) -> Result<(), String> {
    for i in 1..a.results().len() {
        if a.result_used(i) {
            return Err(format!(
                "{}: result {i} is used (only the first is converted)",
                a.op
            ));
        }
    }
    Ok(())
}

fn extra_none(n: usize, t: TensorId) -> CResult<Vec<Slot>> {
    let mut v = vec![Slot::Tensor(t)];
    v.extend((1..n).map(|_| Slot::None));
    Ok(v)
}

/// Per-channel parameter `name` reshaped to `dims`, or a constant `fill` of that shape.
fn param(
    ctx: &mut ConvertCtx<'_>,
    a: &NodeArgs<'_>,
    name: &str,
    dims: &[i64],
    fill: f64,
    dt: TrtDataType,
) -> CResult<TensorId> {
    match ctx.opt_input(a, name)? {
        Some(t) => {
            let t = ctx.cast(t, dt)?;
            ctx.reshape_static(t, dims)
        }
        None => {
            let n: i64 = dims.iter().product();
            let w = super::ctx::weights_of(&vec![fill; n as usize], dt)?;
            ctx.constant(dims, w)
        }
    }
}

fn layer_norm(native: bool) -> OpConverter {
    OpConverter::new(
        move |a| {
            float_result(a)?;
            if native {
                only_first_used(a)?;
            }
            let ns = a.ints("normalized_shape")?;
            let x = a.tensor("input")?;
            if ns.is_empty() || ns.len() > x.rank() {
                return Err(format!("{}: normalized_shape {ns:?} for {x}", a.op));
            }
            Ok(())
        },
        move |ctx, a| {
            let x = ctx.input(a, "input")?;
            let d = ctx.desc(x)?;
            let ns = a.ints("normalized_shape")?;
            let r = d.rank();
            let mut dims = vec![1i64; r - ns.len()];
            dims.extend(&ns);
            let axes = (r - ns.len()..r).fold(0u32, |m, i| m | (1 << i));
            let s = param(ctx, a, "weight", &dims, 1.0, d.dtype)?;
            let b = param(ctx, a, "bias", &dims, 0.0, d.dtype)?;
            let eps = a.f64("eps")? as f32;
            let y = ctx.net.add_normalization(x, s, b, axes, eps, 1)?;
            extra_none(a.results().len(), y)
        },
    )
}

fn channels(x: &TensorType) -> Result<i64, String> {
    x.shape
        .get(1)
        .and_then(|d| d.as_const())
        .ok_or_else(|| format!("channel dim of {x} must be static"))
}

fn group_norm(native: bool) -> OpConverter {
    let groups = move |a: &NodeArgs<'_>| -> Result<i64, String> {
        a.int(if native { "group" } else { "num_groups" })
    };
    OpConverter::new(
        move |a| {
            float_result(a)?;
            if native {
                only_first_used(a)?;
            }
            let x = a.tensor("input")?;
            let c = channels(x)?;
            let g = groups(a)?;
            if x.rank() < 3 || g < 1 || c % g != 0 {
                return Err(format!("{}: {g} groups for {x}", a.op));
            }
            Ok(())
        },
        move |ctx, a| {
            let x = ctx.input(a, "input")?;
            let d = ctx.desc(x)?;
            let c = d.dims[1];
            let mut dims = vec![1i64; d.rank()];
            dims[1] = c;
            let s = param(ctx, a, "weight", &dims, 1.0, d.dtype)?;
            let b = param(ctx, a, "bias", &dims, 0.0, d.dtype)?;
            // TensorRT normalises each group over the channels of the group plus `axes`
            // when `num_groups > 1` (and then wants `axes` = the dims after the channel),
            // but over `axes` alone with one group: a single group must name the channel
            // dim itself, or the layer computes instance norm.
            let g = groups(a)?;
            let first = if g == 1 { 1 } else { 2 };
            let axes = (first..d.rank()).fold(0u32, |m, i| m | (1 << i));
            let y = ctx
                .net
                .add_normalization(x, s, b, axes, a.f64("eps")? as f32, g)?;
            extra_none(a.results().len(), y)
        },
    )
}

fn batch_norm(native: bool) -> OpConverter {
    OpConverter::new(
        move |a| {
            float_result(a)?;
            if native {
                only_first_used(a)?;
            } else if a.bool("training")? {
                return Err(format!("{}: training mode", a.op));
            }
            if a.is_none("running_mean")? || a.is_none("running_var")? {
                return Err(format!("{}: no running statistics", a.op));
            }
            let x = a.tensor("input")?;
            if x.rank() < 2 {
                return Err(format!("{}: input {x}", a.op));
            }
            channels(x).map(|_| ())
        },
        move |ctx, a| {
            // y = x * scale + shift, scale = w / sqrt(var + eps), shift = b - mean * scale;
            // the parameters are constants, so TensorRT folds everything but two layers.
            let x = ctx.input(a, "input")?;
            let d = ctx.desc(x)?;
            let mut dims = vec![1i64; d.rank()];
            dims[1] = d.dims[1];
            let w = param(ctx, a, "weight", &dims, 1.0, d.dtype)?;
            let b = param(ctx, a, "bias", &dims, 0.0, d.dtype)?;
            let mean = param(ctx, a, "running_mean", &dims, 0.0, d.dtype)?;
            let var = param(ctx, a, "running_var", &dims, 1.0, d.dtype)?;
            let eps = ctx.scalar(a.f64("eps")?, d.dtype, d.rank())?;
            let ve = ctx.elementwise(var, eps, E::Sum)?;
            let sd = ctx.unary(ve, U::Sqrt)?;
            let scale = ctx.elementwise(w, sd, E::Div)?;
            let ms = ctx.elementwise(mean, scale, E::Prod)?;
            let shift = ctx.elementwise(b, ms, E::Sub)?;
            let y = ctx.elementwise(x, scale, E::Prod)?;
            let y = ctx.elementwise(y, shift, E::Sum)?;
            extra_none(a.results().len(), y)
        },
    )
}

fn spread(v: Vec<i64>, n: usize) -> Vec<i64> {
    if v.len() == 1 {
        vec![v[0]; n]
    } else {
        v
    }
}

/// Pool parameters of an `n`-D pooling (`n` = 1, 2 or 3 spatial dims), checked against
/// PyTorch's output extents. A 1-D pooling runs as a 2-D one over `[N, C, L, 1]` (TensorRT
/// pools 2 or 3 dims), so its parameters come out 2-D.
fn pool_params(a: &NodeArgs<'_>, max: bool, n: usize) -> Result<PoolingParams, String> {
    let x = a.tensor("self")?;
    if x.rank() != n + 2 {
        return Err(format!(
            "{}: input {x} (only batched {n}-D pooling: [N, C, spatial...])",
            a.op
        ));
    }
    let k = spread(a.ints("kernel_size")?, n);
    let s = a.ints("stride")?;
    let s = if s.is_empty() {
        k.clone()
    } else {
        spread(s, n)
    };
    let p = spread(a.ints("padding")?, n);
    for (what, v) in [("kernel_size", &k), ("stride", &s), ("padding", &p)] {
        if v.len() != n {
            return Err(format!("{}: {what} {v:?} for {n}-D pooling", a.op));
        }
    }
    if k.iter().chain(&s).any(|&v| v < 1) || p.iter().any(|&v| v < 0) {
        return Err(format!(
            "{}: kernel {k:?}, stride {s:?}, padding {p:?}",
            a.op
        ));
    }
    if max && spread(a.ints("dilation")?, n).iter().any(|&d| d != 1) {
        return Err(format!("{}: dilation is not supported", a.op));
    }
    let ceil = a.bool("ceil_mode")?;
    let mut params = PoolingParams::new(
        if max {
            PoolingType::Max
        } else {
            PoolingType::Average
        },
        &k,
    );
    params.stride = s.clone();
    params.pre_padding = p.clone();
    params.post_padding = p.clone();
    let mut overhang = false;
    if ceil {
        params.padding_mode = PaddingMode::ExplicitRoundUp;
        for i in 0..n {
            let e = x.shape[2 + i]
                .as_const()
                .ok_or_else(|| format!("{}: ceil_mode with a dynamic spatial dim", a.op))?;
            let span = e + 2 * p[i] - k[i];
            let trt = (span + s[i] - 1).div_euclid(s[i]) + 1;
            // PyTorch drops a last window that would start in the right padding.
            let torch = if (trt - 1) * s[i] >= e + p[i] {
                trt - 1
            } else {
                trt
            };
            if torch != trt {
                return Err(format!(
                    "{}: ceil_mode output extent differs from TensorRT's",
                    a.op
                ));
            }
            overhang |= (trt - 1) * s[i] + k[i] > e + 2 * p[i];
        }
    }
    if !max {
        // `avg_pool1d` has no `divisor_override`.
        if a.has("divisor_override") && !a.is_none("divisor_override")? {
            return Err(format!("{}: divisor_override", a.op));
        }
        let include = a.bool("count_include_pad")?;
        if include && overhang && p.iter().any(|&x| x > 0) {
            return Err(format!(
                "{}: count_include_pad with padding and a ceil_mode overhang",
                a.op
            ));
        }
        params.average_count_excludes_padding = !include || p.iter().all(|&x| x == 0);
    }
    if n == 1 {
        params.window.push(1);
        params.stride.push(1);
        params.pre_padding.push(0);
        params.post_padding.push(0);
    }
    Ok(params)
}

/// `f` on `x` seen as `[N, C, L, 1]` when it is a 1-D signal `[N, C, L]` (`n == 1`), back to
/// `[N, C, L']` after.
fn as_2d(
    ctx: &mut ConvertCtx<'_>,
    x: TensorId,
    n: usize,
    f: impl FnOnce(&mut ConvertCtx<'_>, TensorId) -> CResult<TensorId>,
) -> CResult<TensorId> {
    if n != 1 {
        return f(ctx, x);
    }
    let x = ctx.reshape_static(x, &[0, 0, 0, 1])?;
    let y = f(ctx, x)?;
    ctx.reshape_static(y, &[0, 0, 0])
}

fn pool(max: bool, n: usize) -> OpConverter {
    OpConverter::new(
        move |a| {
            float_result(a)?;
            only_first_used(a)?;
            pool_params(a, max, n).map(|_| ())
        },
        move |ctx, a| {
            let p = pool_params(a, max, n)?;
            let x = ctx.input(a, "self")?;
            let y = as_2d(ctx, x, n, |ctx, x| Ok(ctx.net.add_pooling_nd(x, &p)?))?;
            extra_none(a.results().len(), y)
        },
    )
}

/// The window of an adaptive average pooling over `n` spatial dims (`None`: a global
/// average), when every input extent is a multiple of its output extent (then the windows
/// are uniform and do not overlap).
fn adaptive_window(a: &NodeArgs<'_>, n: usize) -> Result<Option<Vec<i64>>, String> {
    let x = a.tensor("self")?;
    let out = spread(a.ints("output_size")?, n);
    if x.rank() != n + 2 || out.len() != n {
        return Err(format!(
            "{}: input {x} with output size {out:?} (only batched {n}-D pooling)",
            a.op
        ));
    }
    if out.iter().all(|&o| o == 1) {
        return Ok(None);
    }
    let mut w = vec![];
    for (d, &o) in x.shape[2..].iter().zip(&out) {
        let e = d
            .as_const()
            .ok_or_else(|| format!("{}: dynamic spatial dim", a.op))?;
        if o < 1 || e % o != 0 {
            return Err(format!("{}: {e} is not divisible by {o}", a.op));
        }
        w.push(e / o);
    }
    if n == 1 {
        w.push(1);
    }
    Ok(Some(w))
}

fn adaptive_avg(n: usize) -> OpConverter {
    OpConverter::new(
        move |a| {
            float_result(a)?;
            adaptive_window(a, n).map(|_| ())
        },
        move |ctx, a| {
            let x = ctx.input(a, "self")?;
            let y = match adaptive_window(a, n)? {
                None => {
                    // Every spatial dim (2..) reduced, kept as extent 1.
                    let axes = ((1u32 << (n + 2)) - 1) & !0b11;
                    ctx.net.add_reduce(x, ReduceOp::Avg, axes, true)?
                }
                Some(w) => as_2d(ctx, x, n, |ctx, x| {
                    Ok(ctx
                        .net
                        .add_pooling_nd(x, &PoolingParams::new(PoolingType::Average, &w))?)
                })?,
            };
            one(y)
        },
    )
}

/// The `.vec` resize overloads name their tensor `input`, the others `self`.
fn resize_input(a: &NodeArgs<'_>) -> &'static str {
    if a.has("input") {
        "input"
    } else {
        "self"
    }
}

/// `upsample_*{n}d`: TensorRT's resize of the `n` innermost dims of an `[N, C, spatial...]`
/// input (linear mode is separable, so 1-D linear, bilinear and trilinear are one mode).
fn resize(mode: ResizeMode) -> OpConverter {
    resize_nd(mode, 2)
}

fn resize_nd(mode: ResizeMode, n: usize) -> OpConverter {
    OpConverter::new(
        move |a| {
            float_result(a)?;
            let x = a.tensor(resize_input(a))?;
            if x.rank() != n + 2 {
                return Err(format!("{}: input {x}", a.op));
            }
            Ok(())
        },
        move |ctx, a| {
            let x = ctx.input(a, resize_input(a))?;
            let out = a.result_tensor(0)?;
            let output = match out.static_shape() {
                Some(d) => ResizeOutput::Dims(d),
                None => ResizeOutput::Shape(ctx.shape_tensor(&out.shape)?),
            };
            let align = mode == ResizeMode::Linear && a.bool("align_corners")?;
            let p = ResizeParams {
                output,
                mode,
                coordinate_transformation: if mode == ResizeMode::Nearest {
                    ResizeCoordinateTransformation::Asymmetric
                } else if align {
                    ResizeCoordinateTransformation::AlignCorners
                } else {
                    ResizeCoordinateTransformation::HalfPixel
                },
                nearest_rounding: ResizeRoundMode::Floor,
                cubic_coeff: -0.75,
                exclude_outside: false,
            };
            one(ctx.net.add_resize(x, &p)?)
        },
    )
}

/// TopK along one axis: (values, indices) with indices of the result's type.
fn topk(
    ctx: &mut ConvertCtx<'_>,
    x: TensorId,
    k: i64,
    axis: usize,
    largest: bool,
    idx: DType,
) -> CResult<(TensorId, TensorId)> {
    let op = if largest { TopKOp::Max } else { TopKOp::Min };
    let it = trt_dtype(idx)?;
    let it = if it == TrtDataType::Int32 || it == TrtDataType::Int64 {
        it
    } else {
        TrtDataType::Int32
    };
    if ctx.rank(x)? == 1 {
        // TensorRT's TopK needs at least 2-D input: run it on a [1, n] view.
        let x2 = ctx.reshape_static(x, &[1, -1])?;
        let (v, i) = ctx.net.add_topk(x2, op, k as i32, 1 << 1, it)?;
        return Ok((ctx.reshape_static(v, &[-1])?, ctx.reshape_static(i, &[-1])?));
    }
    Ok(ctx.net.add_topk(x, op, k as i32, 1 << axis, it)?)
}

fn topk_validate(a: &NodeArgs<'_>) -> Result<(), String> {
    let x = a.tensor("self")?;
    if x.dtype == DType::Bool {
        return Err(format!("{}: bool input", a.op));
    }
    if x.rank() == 0 {
        return Err(format!("{}: 0-D input", a.op));
    }
    Ok(())
}

/// `argmax`/`argmin`/`max.dim`/`min.dim`: as TopK, except that a 0-D input is its own answer.
fn arg_reduce_validate(a: &NodeArgs<'_>) -> Result<(), String> {
    let x = a.tensor("self")?;
    if x.rank() == 0 {
        return match x.dtype {
            DType::Bool => Err(format!("{}: bool input", a.op)),
            _ => Ok(()),
        };
    }
    topk_validate(a)
}

pub(super) fn register(r: &mut ConverterRegistry) {
    for (name, kind, dim) in [
        ("aten.sum.dim_IntList", Red::Sum, Some("dim")),
        ("aten.sum.default", Red::Sum, None),
        ("aten.mean.dim", Red::Mean, Some("dim")),
        ("aten.mean.default", Red::Mean, None),
        ("aten.amax.default", Red::Max, Some("dim")),
        ("aten.amin.default", Red::Min, Some("dim")),
        ("aten.max.default", Red::Max, None),
        ("aten.min.default", Red::Min, None),
        ("aten.prod.dim_int", Red::Prod, Some("dim")),
        ("aten.prod.default", Red::Prod, None),
        ("aten.any.dim", Red::Any, Some("dim")),
        ("aten.any.dims", Red::Any, Some("dim")),
        ("aten.any.default", Red::Any, None),
        ("aten.all.dim", Red::All, Some("dim")),
        ("aten.all.dims", Red::All, Some("dim")),
        ("aten.all.default", Red::All, None),
    ] {
        r.register(name, reduce(kind, dim));
    }
    r.register("aten.var.correction", var_op(false));
    r.register("aten.var.dim", var_op(true));
    r.register("aten.softmax.int", softmax(false));
    r.register("aten._softmax.default", softmax(false));
    r.register("aten.log_softmax.int", softmax(true));
    r.register("aten._log_softmax.default", softmax(true));
    r.register("aten.layer_norm.default", layer_norm(false));
    r.register("aten.native_layer_norm.default", layer_norm(true));
    r.register("aten.group_norm.default", group_norm(false));
    r.register("aten.native_group_norm.default", group_norm(true));
    r.register("aten.batch_norm.default", batch_norm(false));
    r.register(
        "aten._native_batch_norm_legit_no_training.default",
        batch_norm(true),
    );
    for n in 1..=3 {
        r.register(format!("aten.max_pool{n}d.default"), pool(true, n));
        // The indices must be unused (Torch-TensorRT rewrites these to `max_poolNd`).
        r.register(
            format!("aten.max_pool{n}d_with_indices.default"),
            pool(true, n),
        );
        r.register(format!("aten.avg_pool{n}d.default"), pool(false, n));
    }
    r.register("aten.adaptive_avg_pool1d.default", adaptive_avg(1));
    r.register("aten.adaptive_avg_pool2d.default", adaptive_avg(2));
    r.register("aten._adaptive_avg_pool2d.default", adaptive_avg(2));
    r.register("aten.adaptive_avg_pool3d.default", adaptive_avg(3));
    r.register("aten._adaptive_avg_pool3d.default", adaptive_avg(3));
    r.register("aten.upsample_nearest2d.vec", resize(ResizeMode::Nearest));
    r.register(
        "aten.upsample_nearest2d.default",
        resize(ResizeMode::Nearest),
    );
    for (name, mode, n) in [
        ("aten.upsample_nearest1d", ResizeMode::Nearest, 1),
        ("aten.upsample_nearest3d", ResizeMode::Nearest, 3),
        ("aten.upsample_linear1d", ResizeMode::Linear, 1),
        ("aten.upsample_trilinear3d", ResizeMode::Linear, 3),
    ] {
        r.register(format!("{name}.vec"), resize_nd(mode, n));
        r.register(format!("{name}.default"), resize_nd(mode, n));
    }
    r.register("aten.upsample_bilinear2d.vec", resize(ResizeMode::Linear));
    r.register(
        "aten.upsample_bilinear2d.default",
        resize(ResizeMode::Linear),
    );
    r.register(
        "aten.topk.default",
        OpConverter::new(topk_validate, |ctx, a| {
            let x = ctx.input(a, "self")?;
            let axis = norm_dim(a.int("dim")?, ctx.rank(x)?)?;
            let idx = a.result_tensor(1)?.dtype;
            let (v, i) = topk(ctx, x, a.int("k")?, axis, a.bool("largest")?, idx)?;
            let i = ctx.cast(i, trt_dtype(idx)?)?;
            Ok(vec![Slot::Tensor(v), Slot::Tensor(i)])
        }),
    );
    r.register(
        "aten.sort.default",
        OpConverter::new(
            |a| {
                topk_validate(a)?;
                let x = a.tensor("self")?;
                let axis = norm_dim(a.int("dim")?, x.rank())?;
                match x.shape[axis].as_const() {
                    Some(n) if n <= 3840 => Ok(()),
                    _ => Err(format!("{}: sorted dim must be static and <= 3840", a.op)),
                }
            },
            |ctx, a| {
                let x = ctx.input(a, "self")?;
                let d = ctx.desc(x)?;
                let axis = norm_dim(a.int("dim")?, d.rank())?;
                let idx = a.result_tensor(1)?.dtype;
                let (v, i) = topk(ctx, x, d.dims[axis], axis, a.bool("descending")?, idx)?;
                let i = ctx.cast(i, trt_dtype(idx)?)?;
                Ok(vec![Slot::Tensor(v), Slot::Tensor(i)])
            },
        ),
    );
    for (name, largest, values) in [
        ("aten.argmax.default", true, false),
        ("aten.argmin.default", false, false),
        ("aten.max.dim", true, true),
        ("aten.min.dim", false, true),
    ] {
        r.register(
            name,
            OpConverter::new(arg_reduce_validate, move |ctx, a| {
                let mut x = ctx.input(a, "self")?;
                let rank = ctx.rank(x)?;
                if rank == 0 {
                    // The one element is its own extreme, at index 0.
                    let ii = if values { 1 } else { 0 };
                    let idx = trt_dtype(a.result_tensor(ii)?.dtype)?;
                    let zero = ctx.scalar(0.0, idx, 0)?;
                    return Ok(if values {
                        vec![Slot::Tensor(x), Slot::Tensor(zero)]
                    } else {
                        vec![Slot::Tensor(zero)]
                    });
                }
                let axis = match a.opt_int("dim")? {
                    Some(d) => norm_dim(d, rank)?,
                    None => {
                        x = ctx.reshape_static(x, &[-1])?;
                        0
                    }
                };
                let ii = if values { 1 } else { 0 };
                let idx = a.result_tensor(ii)?.clone();
                let (v, i) = topk(ctx, x, 1, axis, largest, idx.dtype)?;
                let i = ctx.cast(i, trt_dtype(idx.dtype)?)?;
                let i = ctx.reshape(i, &idx.shape)?;
                if values {
                    let v = ctx.reshape(v, &a.result_tensor(0)?.shape)?;
                    Ok(vec![Slot::Tensor(v), Slot::Tensor(i)])
                } else {
                    one(i)
                }
            }),
        );
    }
    r.register(
        "aten.cumsum.default",
        OpConverter::new(
            |a| {
                if a.tensor("self")?.rank() == 0 {
                    return Err(format!("{}: 0-D input", a.op));
                }
                Ok(())
            },
            |ctx, a| {
                let dt = trt_dtype(a.result_tensor(0)?.dtype)?;
                let x = ctx.input(a, "self")?;
                let x = ctx.cast(x, dt)?;
                let axis = norm_dim(a.int("dim")?, ctx.rank(x)?)?;
                one(ctx
                    .net
                    .add_cumulative(x, axis as u32, CumulativeOp::Sum, false, false)?)
            },
        ),
    );
}
