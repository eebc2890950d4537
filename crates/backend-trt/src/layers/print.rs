//! Printers of the layers whose printed form is not the generic `kind(inputs, attr=value)`
//! (they keep the form the snapshots have always had). Each takes the output string, the
//! layer kind and the layer's fields by reference, in declaration order.

use std::fmt::{self, Write as _};

use crate::network::*;

pub(crate) fn list<T: fmt::Display>(v: &[T]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(","))
}

fn weights_str(w: &Weights) -> String {
    format!("{}x{}#{:08x}", w.dtype, w.count, w.fingerprint() as u32)
}

fn shape_arg_str(a: &ShapeArg) -> String {
    match a {
        ShapeArg::Static(v) => list(v),
        ShapeArg::Tensor(t) => t.to_string(),
    }
}

fn fill_arg_str(a: &FillArg) -> String {
    match a {
        FillArg::Scalar(x) => format!("{x}"),
        FillArg::PerDim(v) => list(v),
        FillArg::Tensor(t) => t.to_string(),
    }
}

fn axes_str(axes: u32) -> String {
    let v: Vec<u32> = (0..32).filter(|i| axes & (1 << i) != 0).collect();
    list(&v)
}

type R = fmt::Result;

pub(crate) fn input(s: &mut String, _k: &str, name: &str, _d: &TrtDataType, _v: &[i64]) -> R {
    write!(s, "input {name:?}")
}

pub(crate) fn constant(s: &mut String, k: &str, _dims: &[i64], weights: &Weights) -> R {
    write!(s, "{k}({})", weights_str(weights))
}

pub(crate) fn convolution(
    s: &mut String,
    k: &str,
    input: &TensorId,
    p: &ConvolutionParams,
    kernel: &Weights,
    bias: &Option<Weights>,
) -> R {
    write!(
        s,
        "{k}({input}, maps={}, kernel={}, stride={}, pre={}, post={}, dilation={}, \
         groups={}, w={}, b={})",
        p.num_output_maps,
        list(&p.kernel_size),
        list(&p.stride),
        list(&p.pre_padding),
        list(&p.post_padding),
        list(&p.dilation),
        p.groups,
        weights_str(kernel),
        bias.as_ref().map_or("none".to_string(), weights_str)
    )
}

pub(crate) fn matrix_multiply(
    s: &mut String,
    k: &str,
    a: &TensorId,
    op_a: &MatrixOp,
    b: &TensorId,
    op_b: &MatrixOp,
) -> R {
    write!(s, "{k}({a} {}, {b} {})", op_a.name(), op_b.name())
}

pub(crate) fn elementwise(
    s: &mut String,
    k: &str,
    a: &TensorId,
    b: &TensorId,
    op: &ElementWiseOp,
) -> R {
    write!(s, "{k}.{}({a}, {b})", op.name())
}

pub(crate) fn unary(s: &mut String, k: &str, input: &TensorId, op: &UnaryOp) -> R {
    write!(s, "{k}.{}({input})", op.name())
}

pub(crate) fn activation(s: &mut String, k: &str, input: &TensorId, activation: &Activation) -> R {
    let (a, b) = activation.alpha_beta();
    match activation {
        Activation::LeakyRelu { .. }
        | Activation::Elu { .. }
        | Activation::ThresholdedRelu { .. } => {
            write!(s, "{k}.{}({input}, alpha={a})", activation.name())
        }
        Activation::Selu { .. }
        | Activation::Softplus { .. }
        | Activation::Clip { .. }
        | Activation::HardSigmoid { .. }
        | Activation::ScaledTanh { .. } => {
            write!(s, "{k}.{}({input}, alpha={a}, beta={b})", activation.name())
        }
        _ => write!(s, "{k}.{}({input})", activation.name()),
    }
}

pub(crate) fn reduce(
    s: &mut String,
    k: &str,
    input: &TensorId,
    op: &ReduceOp,
    axes: &u32,
    keep_dims: &bool,
) -> R {
    write!(
        s,
        "{k}.{}({input}, axes={}, keep_dims={keep_dims})",
        op.name(),
        axes_str(*axes)
    )
}

pub(crate) fn softmax(s: &mut String, k: &str, input: &TensorId, axis: &u32) -> R {
    write!(s, "{k}({input}, axis={axis})")
}

pub(crate) fn shuffle(s: &mut String, k: &str, input: &TensorId, params: &ShuffleParams) -> R {
    write!(s, "{k}({input}")?;
    if let Some(p) = &params.first_transpose {
        write!(s, ", first={}", list(p))?;
    }
    if let Some(r) = &params.reshape {
        write!(s, ", reshape={}", shape_arg_str(r))?;
        if !params.zero_is_placeholder {
            s.push_str(", zero_is_placeholder=false");
        }
    }
    if let Some(p) = &params.second_transpose {
        write!(s, ", second={}", list(p))?;
    }
    s.push(')');
    Ok(())
}

pub(crate) fn slice(s: &mut String, k: &str, input: &TensorId, params: &SliceParams) -> R {
    write!(
        s,
        "{k}({input}, start={}, size={}, stride={}",
        shape_arg_str(&params.start),
        shape_arg_str(&params.size),
        shape_arg_str(&params.stride)
    )?;
    if params.mode != SliceMode::StrictBounds {
        write!(s, ", mode={:?}", params.mode)?;
    }
    if let Some(f) = params.fill_value {
        write!(s, ", fill={f}")?;
    }
    s.push(')');
    Ok(())
}

pub(crate) fn concatenation(s: &mut String, k: &str, inputs: &[TensorId], axis: &u32) -> R {
    let ins: Vec<String> = inputs.iter().map(|t| t.to_string()).collect();
    write!(s, "{k}({}, axis={axis})", ins.join(", "))
}

pub(crate) fn gather(
    s: &mut String,
    k: &str,
    data: &TensorId,
    indices: &TensorId,
    axis: &u32,
    mode: &GatherMode,
) -> R {
    write!(s, "{k}({data}, {indices}, axis={axis}, mode={mode:?})")
}

pub(crate) fn select(
    s: &mut String,
    k: &str,
    condition: &TensorId,
    then_value: &TensorId,
    else_value: &TensorId,
) -> R {
    write!(s, "{k}({condition}, {then_value}, {else_value})")
}

pub(crate) fn cast(s: &mut String, k: &str, input: &TensorId, dtype: &TrtDataType) -> R {
    write!(s, "{k}({input}, to={dtype})")
}

pub(crate) fn plain(s: &mut String, k: &str, input: &TensorId) -> R {
    write!(s, "{k}({input})")
}

pub(crate) fn pooling(s: &mut String, k: &str, input: &TensorId, p: &PoolingParams) -> R {
    let kind = match p.kind {
        PoolingType::Max => "max",
        PoolingType::Average => "avg",
        PoolingType::MaxAverageBlend => "blend",
    };
    write!(
        s,
        "{k}.{kind}({input}, window={}, stride={}, pre={}, post={}, mode={:?}",
        list(&p.window),
        list(&p.stride),
        list(&p.pre_padding),
        list(&p.post_padding),
        p.padding_mode
    )?;
    if p.kind != PoolingType::Max {
        write!(s, ", exclude_pad={}", p.average_count_excludes_padding)?;
    }
    if p.kind == PoolingType::MaxAverageBlend {
        write!(s, ", blend={}", p.blend_factor)?;
    }
    s.push(')');
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn normalization(
    s: &mut String,
    k: &str,
    input: &TensorId,
    scale: &TensorId,
    bias: &TensorId,
    axes: &u32,
    epsilon: &f32,
    num_groups: &i64,
) -> R {
    write!(
        s,
        "{k}({input}, {scale}, {bias}, axes={}, eps={epsilon:e}, groups={num_groups})",
        axes_str(*axes)
    )
}

pub(crate) fn topk(
    s: &mut String,
    k: &str,
    input: &TensorId,
    op: &TopKOp,
    kk: &i32,
    axes: &u32,
    indices_dtype: &TrtDataType,
) -> R {
    write!(
        s,
        "{k}.{}({input}, k={kk}, axes={}, indices={indices_dtype})",
        if *op == TopKOp::Max { "max" } else { "min" },
        axes_str(*axes)
    )
}

pub(crate) fn resize(s: &mut String, k: &str, input: &TensorId, p: &ResizeParams) -> R {
    let out = match &p.output {
        ResizeOutput::Dims(v) => format!("dims={}", list(v)),
        ResizeOutput::Scales(v) => format!("scales={}", list(v)),
        ResizeOutput::Shape(t) => format!("shape={t}"),
    };
    write!(
        s,
        "{k}({input}, {out}, mode={:?}, coord={:?}, round={:?}, cubic={}, exclude_outside={})",
        p.mode, p.coordinate_transformation, p.nearest_rounding, p.cubic_coeff, p.exclude_outside
    )
}

pub(crate) fn fill(s: &mut String, k: &str, p: &FillParams) -> R {
    write!(
        s,
        "{k}.{:?}(dims={}, alpha={}, beta={})",
        p.op,
        shape_arg_str(&p.dims),
        fill_arg_str(&p.alpha),
        fill_arg_str(&p.beta)
    )
}

pub(crate) fn scatter(
    s: &mut String,
    k: &str,
    data: &TensorId,
    indices: &TensorId,
    updates: &TensorId,
    mode: &ScatterMode,
    axis: &u32,
) -> R {
    write!(
        s,
        "{k}({data}, {indices}, {updates}, mode={mode:?}, axis={axis})"
    )
}

pub(crate) fn one_hot(
    s: &mut String,
    k: &str,
    indices: &TensorId,
    values: &TensorId,
    depth: &TensorId,
    axis: &i32,
) -> R {
    write!(s, "{k}({indices}, {values}, {depth}, axis={axis})")
}

pub(crate) fn cumulative(
    s: &mut String,
    k: &str,
    input: &TensorId,
    axis: &u32,
    op: &CumulativeOp,
    exclusive: &bool,
    reverse: &bool,
) -> R {
    write!(
        s,
        "{k}.{op:?}({input}, axis={axis}, exclusive={exclusive}, reverse={reverse})"
    )
}
