//! Convolution, matrix products and attention.

use super::elementwise::float_result;
use super::{CResult, ConvertCtx, ConverterRegistry, NodeArgs, OpConverter, Slot};
use crate::network::{
    ConvolutionParams, ElementWiseOp as E, FillArg, FillOp, FillParams, GatherMode, MatrixOp,
    ShapeArg, TensorId, TrtDataType, Weights,
};
use trtfx_ir::{Arg, Dim, TensorType};

fn one(t: TensorId) -> CResult<Vec<Slot>> {
    Ok(vec![Slot::Tensor(t)])
}

/// `v` repeated to `n` entries when it has one (ATen's `int[2]` broadcasting).
fn spread(v: Vec<i64>, n: usize) -> Vec<i64> {
    if v.len() == 1 {
        vec![v[0]; n]
    } else {
        v
    }
}

/// Most 2-D convolutions (output depth × kernel depth) that a decomposed 3-D convolution may
/// emit: each is a network layer, and a huge unrolled network builds slowly.
const CONV3D_MAX_TAPS: i64 = 4096;

fn conv_validate(a: &NodeArgs<'_>) -> Result<(), String> {
    float_result(a)?;
    // `convolution` says whether it is transposed; `conv1d`..`conv3d` never are.
    let transposed = is_transposed(a)?;
    let x = a.tensor("input")?;
    let w = a.tensor("weight")?;
    let n = w.rank().saturating_sub(2);
    if !(1..=3).contains(&n) {
        return Err(format!("{}: {n}-D convolution", a.op));
    }
    if x.rank() != n + 2 {
        return Err(format!(
            "{}: unbatched input {x} (TensorRT needs [N, C, spatial...])",
            a.op
        ));
    }
    for k in ["stride", "padding", "dilation"] {
        let v = a.ints(k)?;
        if v.len() != 1 && v.len() != n {
            return Err(format!("{}: `{k}` {v:?} for a {n}-D kernel", a.op));
        }
    }
    if a.has("output_padding") {
        let out_pad = spread(a.ints("output_padding")?, n);
        let pad = spread(a.ints("padding")?, n);
        if !transposed && out_pad.iter().any(|&p| p != 0) {
            return Err(format!("{}: output_padding", a.op));
        }
        // The extra output rows come from trimming less at the end (post padding
        // `padding - output_padding`), which TensorRT needs to be non-negative.
        if out_pad.iter().zip(&pad).any(|(&o, &p)| o > p || o < 0) {
            return Err(format!(
                "{}: output_padding {out_pad:?} larger than padding {pad:?}",
                a.op
            ));
        }
    }
    if transposed
        && spread(a.ints("stride")?, n).iter().any(|&s| s > 1)
        && spread(a.ints("dilation")?, n).iter().any(|&d| d > 1)
    {
        // TensorRT-RTX's builder refuses these ("Strided & Dilated Deconv are currently not
        // supported").
        return Err(format!(
            "{}: transposed convolution with both a stride and a dilation above 1",
            a.op
        ));
    }
    let Some(wshape) = w.static_shape() else {
        return Err(format!("{}: the kernel shape {w} must be static", a.op));
    };
    if n == 3 {
        if transposed {
            return Err(format!(
                "{}: 3-D transposed convolution (the binding has 2-D deconvolution \
                 parameters only)",
                a.op
            ));
        }
        conv3d_validate(a, x, &wshape)?;
    }
    super::fold::check_build_time(a, "weight")?;
    Ok(())
}

/// The checks of [`conv3d_by_slices`]: the binding (trtx 0.9.1) only takes 2-D convolution
/// parameters, so a 3-D convolution is unrolled over the depth axis, which needs a static
/// input depth and a bounded number of taps.
fn conv3d_validate(a: &NodeArgs<'_>, x: &TensorType, wshape: &[i64]) -> Result<(), String> {
    let Some(depth) = x.shape[2].as_const() else {
        return Err(format!(
            "{}: 3-D convolution over the dynamic depth of {x}: it is unrolled into 2-D \
             convolutions per depth slice, which needs a static depth",
            a.op
        ));
    };
    let kd = wshape[2];
    let (sd, pd, dd) = (
        spread(a.ints("stride")?, 3)[0],
        spread(a.ints("padding")?, 3)[0],
        spread(a.ints("dilation")?, 3)[0],
    );
    if sd < 1 || dd < 1 || pd < 0 {
        return Err(format!(
            "{}: depth stride {sd}, padding {pd}, dilation {dd}",
            a.op
        ));
    }
    let span = depth + 2 * pd - dd * (kd - 1) - 1;
    if span < 0 {
        return Err(format!(
            "{}: the kernel depth {kd} (dilation {dd}) exceeds the padded input depth {}",
            a.op,
            depth + 2 * pd
        ));
    }
    let out_depth = span / sd + 1;
    if out_depth.saturating_mul(kd) > CONV3D_MAX_TAPS {
        return Err(format!(
            "{}: 3-D convolution unrolls into {out_depth} output depth slices × kernel \
             depth {kd} 2-D convolutions, over the limit of {CONV3D_MAX_TAPS}",
            a.op
        ));
    }
    Ok(())
}

/// Whether a convolution node is transposed: `aten.convolution`'s `transposed`, or one of
/// the `conv_transposeNd` ops.
fn is_transposed(a: &NodeArgs<'_>) -> Result<bool, String> {
    Ok(a.op.starts_with("aten.conv_transpose") || (a.has("transposed") && a.bool("transposed")?))
}

fn conv_convert(ctx: &mut ConvertCtx<'_>, a: &NodeArgs<'_>) -> CResult<Vec<Slot>> {
    let wt = a.tensor("weight")?;
    let wshape = wt.static_shape().ok_or("dynamic kernel shape")?;
    let n = wshape.len() - 2;
    let transposed = is_transposed(a)?;
    let x = ctx.input(a, "input")?;
    let wtid = ctx.input(a, "weight")?;
    let dt = ctx.desc(x)?.dtype;
    // A kernel computed from weights (weight standardisation) is evaluated at build time.
    let kernel = match ctx.const_weights(wtid) {
        Some(w) => w.clone(),
        None => {
            let Some(Arg::Value(v)) = a.arg("weight")? else {
                return Err("the convolution kernel is not a tensor".into());
            };
            super::fold::build_time_weights(ctx, a.graph, *v)?.ok_or(
                "the convolution kernel must be known at build time (a weight, or computed \
                 from weights) for TensorRT",
            )?
        }
    };
    if kernel.dtype != dt {
        return Err(format!(
            "kernel type {} differs from the input type {dt}",
            kernel.dtype
        )
        .into());
    }
    let bias_t = ctx.opt_input(a, "bias")?;
    let bias = match bias_t {
        Some(b) => ctx.const_weights(b).cloned(),
        None => None,
    };
    let stride = spread(a.ints("stride")?, n);
    let pad = spread(a.ints("padding")?, n);
    let dil = spread(a.ints("dilation")?, n);
    let groups = a.int("groups")?;
    // A transposed kernel is `[C, K / groups, k...]` (TensorRT's deconvolution layout too);
    // the output rows that `output_padding` adds are trimmed less at the end.
    let (maps, post) = if transposed {
        let out_pad = if a.has("output_padding") {
            spread(a.ints("output_padding")?, n)
        } else {
            vec![0; n]
        };
        let post = pad.iter().zip(&out_pad).map(|(p, o)| p - o).collect();
        (wshape[1] * groups, post)
    } else {
        (wshape[0], pad.clone())
    };
    // A 1-D convolution runs as 2-D with a unit width; a 3-D one is unrolled into 2-D ones
    // (the binding has no 3-D convolution parameters).
    let (x, mut p) = if n == 1 {
        let x = ctx.reshape_static(x, &[0, 0, 0, 1])?;
        let mut p = ConvolutionParams::new(maps, &[wshape[2], 1]);
        p.stride = vec![stride[0], 1];
        p.pre_padding = vec![pad[0], 0];
        p.post_padding = vec![post[0], 0];
        p.dilation = vec![dil[0], 1];
        (x, p)
    } else {
        let mut p = ConvolutionParams::new(maps, &wshape[2..]);
        p.stride = stride;
        p.pre_padding = pad;
        p.post_padding = post;
        p.dilation = dil;
        (x, p)
    };
    p.groups = groups;
    let const_bias = bias.filter(|b| b.dtype == dt);
    if n == 3 {
        return conv3d_by_slices(ctx, a, x, &p, &kernel, bias_t, const_bias);
    }
    let use_layer_bias = const_bias.is_some();
    let mut y = if transposed {
        ctx.net.add_deconvolution_nd(x, &p, kernel, const_bias)?
    } else {
        ctx.net.add_convolution_nd(x, &p, kernel, const_bias)?
    };
    if let (Some(b), false) = (bias_t, use_layer_bias) {
        let b = ctx.cast(b, dt)?;
        let rank = ctx.rank(y)?;
        let mut dims = vec![1i64; rank];
        dims[1] = maps;
        let b = ctx.reshape_static(b, &dims)?;
        y = ctx.elementwise(y, b, E::Sum)?;
    }
    if n == 1 {
        y = ctx.reshape_static(y, &[0, 0, 0])?;
    }
    one(y)
}

/// Kernel tap `k` of a dense `[O, C/g, kd, kh, kw]` kernel: its `[O, C/g, kh, kw]` weights at
/// depth `k`.
fn kernel_tap(w: &Weights, kd: usize, plane: usize, k: usize) -> CResult<Weights> {
    let chunk = plane * w.dtype.size_bits() / 8;
    if chunk == 0 || !w.bytes.len().is_multiple_of(kd * chunk) {
        return Err(format!(
            "{} kernel bytes are not [.., {kd}, {plane} elements]",
            w.bytes.len()
        )
        .into());
    }
    let outer = w.bytes.len() / (kd * chunk);
    let mut bytes = Vec::with_capacity(outer * chunk);
    for i in 0..outer {
        let s = (i * kd + k) * chunk;
        bytes.extend_from_slice(&w.bytes[s..s + chunk]);
    }
    Ok(Weights::from_bytes(w.dtype, bytes)?)
}

/// A 3-D convolution as 2-D ones, since the binding (trtx 0.9.1) only takes 2-D convolution
/// parameters: output depth slice `od` is the bias plus, for each kernel tap `k` whose input
/// slice `id = od*sd - pd + k*dd` lies inside the input (padding contributes zeros), the 2-D
/// convolution of `x[:, :, id]` with `w[:, :, k]`; the slices are stacked along the depth axis.
/// `p` holds the 3-D parameters (depth first); `const_bias` is the bias as layer weights when
/// it is a constant of the input type, else `bias_t` is added as a tensor.
fn conv3d_by_slices(
    ctx: &mut ConvertCtx<'_>,
    a: &NodeArgs<'_>,
    x: TensorId,
    p: &ConvolutionParams,
    kernel: &Weights,
    bias_t: Option<TensorId>,
    const_bias: Option<Weights>,
) -> CResult<Vec<Slot>> {
    let out = a.result_tensor(0)?;
    let dt = kernel.dtype;
    let depth = ctx.desc(x)?.dims[2];
    if depth < 0 {
        return Err("3-D convolution needs a static input depth".into());
    }
    let (kd, sd, pd, dd) = (
        p.kernel_size[0],
        p.stride[0],
        p.pre_padding[0],
        p.dilation[0],
    );
    let out_depth = (depth + 2 * pd - dd * (kd - 1) - 1) / sd + 1;
    if out_depth < 1 || out.shape[2].as_const().is_some_and(|d| d != out_depth) {
        return Err(format!("output depth {out_depth} does not match the result {out}").into());
    }
    let mut p2 = ConvolutionParams::new(p.num_output_maps, &p.kernel_size[1..]);
    p2.stride = p.stride[1..].to_vec();
    p2.pre_padding = p.pre_padding[1..].to_vec();
    p2.post_padding = p.post_padding[1..].to_vec();
    p2.dilation = p.dilation[1..].to_vec();
    p2.groups = p.groups;
    let plane = (p.kernel_size[1] * p.kernel_size[2]) as usize;
    let taps: Vec<Weights> = (0..kd as usize)
        .map(|k| kernel_tap(kernel, kd as usize, plane, k))
        .collect::<CResult<_>>()?;
    // IR dims of one output slice ([N, O, Ho, Wo]) and of it with a unit depth axis.
    let mut plane_dims = out.shape.clone();
    plane_dims.remove(2);
    let mut slice_dims = out.shape.clone();
    slice_dims[2] = Dim::constant(1);
    // The input depth slices, each gathered once however many taps read it.
    let mut inputs: Vec<Option<TensorId>> = vec![None; depth as usize];
    // The bias as a [1, O, 1, 1] tensor, made when first needed (a non-constant bias, or a
    // slice that only reads padding).
    let mut bias4: Option<TensorId> = None;
    // Every slice that only reads depth padding is the same (zeros plus the bias): made once.
    let mut padding_slice: Option<TensorId> = None;
    let mut slices = Vec::with_capacity(out_depth as usize);
    for od in 0..out_depth {
        let mut acc: Option<TensorId> = None;
        for k in 0..kd {
            let id = od * sd - pd + k * dd;
            if !(0..depth).contains(&id) {
                continue;
            }
            let xi = match inputs[id as usize] {
                Some(t) => t,
                None => {
                    let idx = ctx.constant(&[], Weights::from_i32(&[id as i32]))?;
                    let t = ctx.net.add_gather(x, idx, 2, GatherMode::Default)?;
                    inputs[id as usize] = Some(t);
                    t
                }
            };
            // The layer bias goes on the first term only: it is added once per slice.
            let b = if acc.is_none() {
                const_bias.clone()
            } else {
                None
            };
            let y = ctx
                .net
                .add_convolution_nd(xi, &p2, taps[k as usize].clone(), b)?;
            acc = Some(match acc {
                None => y,
                Some(s) => ctx.elementwise(s, y, E::Sum)?,
            });
        }
        if acc.is_none() {
            if let Some(t) = padding_slice {
                slices.push(t);
                continue;
            }
        }
        // A constant bias rides on the first convolution; otherwise it is added here.
        let need_bias = acc.is_none() || const_bias.is_none();
        let mut y = match acc {
            Some(y) => y,
            None => {
                // Only padding under the kernel: zeros (plus the bias below).
                let dims = ctx.shape_arg(&plane_dims, false)?;
                let z = ctx.net.add_fill(&FillParams {
                    dims,
                    op: FillOp::Linspace,
                    dtype: TrtDataType::Float,
                    alpha: FillArg::Scalar(0.0),
                    beta: FillArg::Scalar(0.0),
                })?;
                ctx.cast(z, dt)?
            }
        };
        if let (true, Some(bt)) = (need_bias, bias_t) {
            let b = match bias4 {
                Some(b) => b,
                None => {
                    let b = ctx.cast(bt, dt)?;
                    let b = ctx.reshape_static(b, &[1, p.num_output_maps, 1, 1])?;
                    bias4 = Some(b);
                    b
                }
            };
            y = ctx.elementwise(y, b, E::Sum)?;
        }
        let y = ctx.reshape(y, &slice_dims)?;
        if acc.is_none() {
            padding_slice = Some(y);
        }
        slices.push(y);
    }
    if slices.len() == 1 {
        return one(slices[0]);
    }
    one(ctx.net.add_concatenation(&slices, 2)?)
}

/// Batched matrix multiply after equalising the batch ranks.
pub(super) fn matmul(
    ctx: &mut ConvertCtx<'_>,
    x: TensorId,
    opx: MatrixOp,
    y: TensorId,
    opy: MatrixOp,
) -> CResult<TensorId> {
    let core = |op: MatrixOp| if op == MatrixOp::Vector { 1 } else { 2 };
    let bx = ctx.rank(x)? - core(opx);
    let by = ctx.rank(y)? - core(opy);
    let b = bx.max(by);
    let x = ctx.to_rank(x, b + core(opx))?;
    let y = ctx.to_rank(y, b + core(opy))?;
    Ok(ctx.net.add_matrix_multiply(x, opx, y, opy)?)
}

fn scale_by(ctx: &mut ConvertCtx<'_>, t: TensorId, k: f64) -> CResult<TensorId> {
    if k == 1.0 {
        return Ok(t);
    }
    let d = ctx.desc(t)?;
    let c = ctx.scalar(k, d.dtype, d.rank())?;
    ctx.elementwise(t, c, E::Prod)
}

/// A float matrix product; `mm` and `addmm` (`need2`) give matrices.
fn mm_validate(need2: bool) -> impl Fn(&NodeArgs<'_>) -> Result<(), String> {
    move |a| {
        float_result(a)?;
        let r = a.result_tensor(0)?.rank();
        if need2 && r != 2 {
            return Err(format!("{}: rank {r} result", a.op));
        }
        Ok(())
    }
}

fn linear_validate(a: &NodeArgs<'_>) -> Result<(), String> {
    float_result(a)?;
    if a.tensor("input")?.rank() < 2 || a.tensor("weight")?.rank() != 2 {
        return Err(format!("{}: needs input rank >= 2 and a 2-D weight", a.op));
    }
    Ok(())
}

fn sdpa_validate(a: &NodeArgs<'_>) -> Result<(), String> {
    float_result(a)?;
    if a.f64("dropout_p")? != 0.0 {
        return Err(format!("{}: dropout_p != 0", a.op));
    }
    if a.has("enable_gqa") && a.bool("enable_gqa")? {
        return Err(format!("{}: enable_gqa", a.op));
    }
    let q = a.tensor("query")?;
    let k = a.tensor("key")?;
    let v = a.tensor("value")?;
    if q.rank() < 2 || q.rank() != k.rank() || k.rank() != v.rank() {
        return Err(format!("{}: ranks of q/k/v {q} {k} {v}", a.op));
    }
    let r = q.rank();
    if q.shape[..r - 2] != k.shape[..r - 2] {
        return Err(format!("{}: q/k batch dims differ (GQA)", a.op));
    }
    if a.is_none("scale")? && q.shape[r - 1].as_const().is_none() {
        return Err(format!("{}: dynamic head size without `scale`", a.op));
    }
    if !a.is_none("attn_mask")? && a.bool("is_causal")? {
        return Err(format!("{}: attn_mask together with is_causal", a.op));
    }
    Ok(())
}

fn sdpa_convert(ctx: &mut ConvertCtx<'_>, a: &NodeArgs<'_>) -> CResult<Vec<Slot>> {
    let qt = a.tensor("query")?;
    let r = qt.rank();
    let q = ctx.input(a, "query")?;
    let k = ctx.input(a, "key")?;
    let v = ctx.input(a, "value")?;
    let dt = ctx.desc(q)?.dtype;
    let scale = match a.opt_f64("scale")? {
        Some(s) => s,
        None => {
            let e = qt.shape[r - 1]
                .as_const()
                .ok_or("dynamic head size without `scale`")?;
            1.0 / (e as f64).sqrt()
        }
    };
    let s = ctx
        .net
        .add_matrix_multiply(q, MatrixOp::None, k, MatrixOp::Transpose)?;
    let mut s = scale_by(ctx, s, scale)?;
    let neg_inf = ctx.scalar(f64::NEG_INFINITY, dt, r)?;
    if let Some(m) = ctx.opt_input(a, "attn_mask")? {
        if ctx.desc(m)?.dtype == TrtDataType::Bool {
            s = ctx.select(m, s, neg_inf)?;
        } else {
            let m = ctx.cast(m, dt)?;
            s = ctx.elementwise(s, m, E::Sum)?;
        }
    }
    if a.bool("is_causal")? {
        // future[i, j] = j > i, from two linspace fills over [L, S].
        let (l, sd) = (ctx.desc(q)?.dims[r - 2], ctx.desc(k)?.dims[r - 2]);
        let dims = if l >= 0 && sd >= 0 {
            ShapeArg::Static(vec![l, sd])
        } else {
            let lt = ctx.dim_of(q, r - 2)?;
            let st = ctx.dim_of(k, r - 2)?;
            ShapeArg::Tensor(ctx.net.add_concatenation(&[lt, st], 0)?)
        };
        let fill = |beta: Vec<f64>| FillParams {
            dims: dims.clone(),
            op: FillOp::Linspace,
            dtype: TrtDataType::Float,
            alpha: FillArg::Scalar(0.0),
            beta: FillArg::PerDim(beta),
        };
        let rows = ctx.net.add_fill(&fill(vec![1.0, 0.0]))?;
        let cols = ctx.net.add_fill(&fill(vec![0.0, 1.0]))?;
        let future = ctx.elementwise(cols, rows, E::Greater)?;
        s = ctx.select(future, neg_inf, s)?;
    }
    let p = ctx.net.add_softmax(s, (r - 1) as u32)?;
    one(ctx
        .net
        .add_matrix_multiply(p, MatrixOp::None, v, MatrixOp::None)?)
}

pub(super) fn register(r: &mut ConverterRegistry) {
    for name in [
        "aten.convolution.default",
        "aten.conv1d.default",
        "aten.conv2d.default",
        "aten.conv3d.default",
        "aten.conv_transpose1d.default",
        "aten.conv_transpose2d.input",
        "aten.conv_transpose3d.input",
    ] {
        r.register(name, OpConverter::new(conv_validate, conv_convert).no_i64());
    }
    r.register(
        "aten.linear.default",
        OpConverter::new(linear_validate, |ctx, a| {
            let x = ctx.input(a, "input")?;
            let w = ctx.input(a, "weight")?;
            let mut y = matmul(ctx, x, MatrixOp::None, w, MatrixOp::Transpose)?;
            if let Some(b) = ctx.opt_input(a, "bias")? {
                y = ctx.elementwise(y, b, E::Sum)?;
            }
            one(y)
        })
        .no_i64(),
    );
    r.register(
        "aten.addmm.default",
        OpConverter::new(mm_validate(true), |ctx, a| {
            let x = ctx.input(a, "mat1")?;
            let w = ctx.input(a, "mat2")?;
            let y = matmul(ctx, x, MatrixOp::None, w, MatrixOp::None)?;
            let y = scale_by(ctx, y, a.f64("alpha")?)?;
            let b = ctx.input(a, "self")?;
            let b = scale_by(ctx, b, a.f64("beta")?)?;
            one(ctx.elementwise(y, b, E::Sum)?)
        })
        .no_i64(),
    );
    for (name, need2) in [("aten.mm.default", true), ("aten.bmm.default", false)] {
        r.register(
            name,
            OpConverter::new(mm_validate(need2), |ctx, a| {
                let x = ctx.input(a, "self")?;
                let y = ctx.input(a, "mat2")?;
                one(matmul(ctx, x, MatrixOp::None, y, MatrixOp::None)?)
            })
            .no_i64(),
        );
    }
    r.register(
        "aten.matmul.default",
        OpConverter::new(mm_validate(false), |ctx, a| {
            let x = ctx.input(a, "self")?;
            let y = ctx.input(a, "other")?;
            let op = |r: usize| {
                if r == 1 {
                    MatrixOp::Vector
                } else {
                    MatrixOp::None
                }
            };
            let (ox, oy) = (op(ctx.rank(x)?), op(ctx.rank(y)?));
            one(matmul(ctx, x, ox, y, oy)?)
        })
        .no_i64(),
    );
    r.register(
        "aten.scaled_dot_product_attention.default",
        OpConverter::new(sdpa_validate, sdpa_convert).no_i64(),
    );
}
