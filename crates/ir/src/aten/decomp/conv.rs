//! Convolution composites: `conv{1,2,3}d.padding` (`padding="same"` / `"valid"`) and
//! `im2col` (`nn.functional.unfold`) as a gather of the padded input.

use super::{one, Add};
use crate::graph::Arg;
use crate::ops::decomp::{int, ints, val};
use crate::ops::DecompCx;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.conv1d.padding", |c| conv_padding(c, 1));
    add("aten.conv2d.padding", |c| conv_padding(c, 2));
    add("aten.conv3d.padding", |c| conv_padding(c, 3));
    add("aten.im2col.default", im2col);
}

/// `im2col(x [N, C, H, W] or [C, H, W], kernel, dilation, padding, stride)` to
/// `[N, C * kh * kw, oh * ow]`: the zero-padded input indexed at rows
/// `i * sh + a * dh` (`[kh, oh]`) and columns `j * sw + b * dw` (`[kw, ow]`), giving
/// `[N, C, kh, oh, kw, ow]`, then ordered `(c, a, b)` by `(i, j)` as ATen lays the columns out.
fn im2col(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let k = spatial(c, "kernel_size", 2)?;
    let d = spatial(c, "dilation", 2)?;
    let p = spatial(c, "padding", 2)?;
    let s = spatial(c, "stride", 2)?;
    if k.iter().chain(&d).chain(&s).any(|&v| v <= 0) || p.iter().any(|&v| v < 0) {
        return Err(format!(
            "kernel {k:?}, dilation {d:?} and stride {s:?} must be positive and padding {p:?} non-negative"
        ));
    }
    let shape = super::layout::const_shape(c, x)?;
    let batched = match shape.len() {
        4 => true,
        3 => false,
        r => return Err(format!("expected a 3-D or 4-D input, got rank {r}")),
    };
    let x4 = if batched {
        x
    } else {
        c.call("aten.unsqueeze.default", vec![val(x), int(0)])?
    };
    let (n, ch) = if batched {
        (shape[0], shape[1])
    } else {
        (1, shape[0])
    };
    let (h, w) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let out = |len: i64, i: usize| (len + 2 * p[i] - d[i] * (k[i] - 1) - 1) / s[i] + 1;
    let (oh, ow) = (out(h, 0), out(w, 1));
    if oh <= 0 || ow <= 0 {
        return Err(format!(
            "the {h}x{w} input (padded by {p:?}) is smaller than the dilated {k:?} kernel"
        ));
    }
    let padded = c.call(
        "aten.constant_pad_nd.default",
        vec![val(x4), ints(&[p[1], p[1], p[0], p[0]]), int(0)],
    )?;
    // `[k, o]` positions `o * stride + a * dilation`.
    let positions = |c: &mut DecompCx<'_>, i: usize, o: i64| -> Result<crate::ValueId, String> {
        let i64_ = vec![("dtype".to_string(), Arg::DType(crate::DType::I64))];
        let outs = c.call_kw(
            "aten.arange.start_step",
            vec![int(0), int(o * s[i]), int(s[i])],
            i64_.clone(),
        )?[0];
        let taps = c.call_kw(
            "aten.arange.start_step",
            vec![int(0), int(k[i] * d[i]), int(d[i])],
            i64_,
        )?[0];
        let outs = c.call("aten.unsqueeze.default", vec![val(outs), int(0)])?;
        let taps = c.call("aten.unsqueeze.default", vec![val(taps), int(-1)])?;
        c.call("aten.add.Tensor", vec![val(outs), val(taps)])
    };
    let rows = positions(c, 0, oh)?;
    let rows = c.call(
        "aten.reshape.default",
        vec![val(rows), ints(&[k[0], oh, 1, 1])],
    )?;
    let cols = positions(c, 1, ow)?;
    let g = c.call(
        "aten.index.Tensor",
        vec![
            val(padded),
            Arg::List(vec![Arg::None, Arg::None, val(rows), val(cols)]),
        ],
    )?;
    let g = c.call(
        "aten.permute.default",
        vec![val(g), ints(&[0, 1, 2, 4, 3, 5])],
    )?;
    let mut out_shape = vec![n, ch * k[0] * k[1], oh * ow];
    if !batched {
        out_shape.remove(0);
    }
    one(c.call("aten.reshape.default", vec![val(g), ints(&out_shape)])?)
}

/// An `int[N]` argument, a single value broadcast to all `n` spatial dims.
fn spatial(c: &DecompCx<'_>, name: &str, n: usize) -> Result<Vec<i64>, String> {
    let v = c.ints(name)?;
    match v.len() {
        1 => Ok(vec![v[0]; n]),
        k if k == n => Ok(v),
        k => Err(format!("`{name}` has {k} values for {n} spatial dims")),
    }
}

/// `convN(input, weight, bias, stride, padding="same"|"valid", dilation, groups)` as
/// `aten.convolution`. `"valid"` is no padding. `"same"` pads `dilation * (kernel - 1)` per
/// spatial dim: half on each side in the convolution itself, and the odd element at the end
/// through `constant_pad_nd` first, as ATen's `_convolution_mode` does. `"same"` needs
/// stride 1 and a static kernel size.
fn conv_padding(c: &mut DecompCx<'_>, n: usize) -> Result<Vec<Arg>, String> {
    let input = c.tensor("input")?;
    let weight = c.tensor("weight")?;
    let bias = c.arg("bias")?;
    let stride = spatial(c, "stride", n)?;
    let dilation = spatial(c, "dilation", n)?;
    let groups = c.arg("groups")?;
    let mode = match c.arg("padding")? {
        Arg::Str(s) => s,
        other => return Err(format!("`padding` must be a string, got {other:?}")),
    };
    let mut x = input;
    let padding = match mode.as_str() {
        "valid" => vec![0; n],
        "same" => {
            if stride.iter().any(|&s| s != 1) {
                return Err(format!(
                    "padding='same' needs stride 1 in every dim, got {stride:?}"
                ));
            }
            let wt = c.tensor_type(weight)?;
            if wt.rank() != n + 2 {
                return Err(format!(
                    "the weight has rank {}, conv{n}d needs {}",
                    wt.rank(),
                    n + 2
                ));
            }
            let mut left = Vec::with_capacity(n);
            // constant_pad_nd lists (before, after) pairs from the last dim backwards.
            let mut extra = vec![0i64; 2 * n];
            for i in 0..n {
                let k = wt.shape[2 + i].as_const().ok_or_else(|| {
                    format!("padding='same' needs a static kernel size (dim {})", 2 + i)
                })?;
                let total = dilation[i] * (k - 1);
                left.push(total / 2);
                extra[2 * (n - 1 - i) + 1] = total - 2 * (total / 2);
            }
            if extra.iter().any(|&e| e != 0) {
                x = c.call("aten.constant_pad_nd.default", vec![val(x), ints(&extra)])?;
            }
            left
        }
        other => return Err(format!("padding must be 'same' or 'valid', got {other:?}")),
    };
    one(c.call(
        "aten.convolution.default",
        vec![
            val(x),
            val(weight),
            bias,
            ints(&stride),
            ints(&padding),
            ints(&dilation),
            Arg::Bool(false),
            ints(&vec![0; n]),
            groups,
        ],
    )?)
}
