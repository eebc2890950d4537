//! Convolution composites: `conv{1,2,3}d.padding` (`padding="same"` / `"valid"`).

use super::{one, Add};
use crate::graph::Arg;
use crate::ops::decomp::{ints, val};
use crate::ops::DecompCx;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.conv1d.padding", |c| conv_padding(c, 1));
    add("aten.conv2d.padding", |c| conv_padding(c, 2));
    add("aten.conv3d.padding", |c| conv_padding(c, 3));
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
