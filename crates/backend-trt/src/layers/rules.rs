//! Shape rules of the declared layers: for each layer, the type, dims and known values of its
//! outputs, or why TensorRT would reject it (TensorRT's documented rules, in a strongly typed
//! network). The data types each input accepts are checked before, from the declaration.

// A rule receives every field of its layer, in declaration order; not every rule reads all.
#![allow(unused_variables)]

use super::{DTypes, Inferred, LayerCx};
use crate::network::*;

fn one(desc: TensorDesc) -> Vec<Inferred> {
    vec![(desc, None)]
}

fn err<T>(layer: &str, message: impl Into<String>) -> Result<T, NetworkError> {
    Err(NetworkError::layer(layer, message))
}

/// Broadcasts extents TensorRT-style: equal ranks, extents equal or 1; `-1` stays unknown
/// unless the other side fixes it.
fn broadcast(layer: &str, descs: &[&TensorDesc]) -> Result<Vec<i64>, NetworkError> {
    let rank = descs[0].rank();
    if descs.iter().any(|d| d.rank() != rank) {
        let shapes: Vec<String> = descs.iter().map(|d| d.to_string()).collect();
        return err(
            layer,
            format!(
                "inputs must have the same rank (TensorRT does not broadcast ranks): {}",
                shapes.join(", ")
            ),
        );
    }
    let mut out = Vec::with_capacity(rank);
    for i in 0..rank {
        let mut acc: i64 = 1;
        let mut unknown = false;
        for d in descs {
            let e = d.dims[i];
            if e == 1 {
                continue;
            }
            if e < 0 {
                unknown = true;
                continue;
            }
            if acc != 1 && acc != e {
                let shapes: Vec<String> = descs.iter().map(|d| d.to_string()).collect();
                return err(
                    layer,
                    format!("dim {i} does not broadcast: {}", shapes.join(", ")),
                );
            }
            acc = e;
        }
        out.push(if acc != 1 {
            acc
        } else if unknown {
            -1
        } else {
            1
        });
    }
    Ok(out)
}

fn check_axis(layer: &str, axis: u32, rank: usize) -> Result<usize, NetworkError> {
    let a = axis as usize;
    if a >= rank {
        return err(layer, format!("axis {axis} out of range for rank {rank}"));
    }
    Ok(a)
}

fn check_mask(layer: &str, axes: u32, rank: usize) -> Result<(), NetworkError> {
    if rank < 32 && axes >> rank != 0 {
        return err(
            layer,
            format!("axes mask {axes:#b} names dims beyond rank {rank}"),
        );
    }
    Ok(())
}

fn check_perm(layer: &str, perm: &[i32], rank: usize) -> Result<(), NetworkError> {
    let mut seen = vec![false; rank];
    if perm.len() != rank {
        return err(
            layer,
            format!("permutation {perm:?} does not have rank {rank}"),
        );
    }
    for &p in perm {
        let ok = p >= 0 && (p as usize) < rank && !seen[p as usize];
        if !ok {
            return err(layer, format!("{perm:?} is not a permutation of 0..{rank}"));
        }
        seen[p as usize] = true;
    }
    Ok(())
}

fn permute(dims: &[i64], perm: &[i32]) -> Vec<i64> {
    perm.iter().map(|&p| dims[p as usize]).collect()
}

/// Output extent of convolution/pooling along one dim.
fn window_out(
    input: i64,
    window: i64,
    stride: i64,
    pre: i64,
    post: i64,
    dilation: i64,
    mode: PaddingMode,
) -> i64 {
    if input < 0 {
        return -1;
    }
    let eff = dilation * (window - 1) + 1;
    match mode {
        PaddingMode::ExplicitRoundDown => (input + pre + post - eff).div_euclid(stride) + 1,
        PaddingMode::ExplicitRoundUp => {
            (input + pre + post - eff + stride - 1).div_euclid(stride) + 1
        }
        PaddingMode::SameUpper | PaddingMode::SameLower => (input + stride - 1) / stride,
    }
}

/// 1-D tensor length of a shape argument (`None` for static args).
fn shape_arg_len(
    net: &dyn LayerCx,
    layer: &str,
    a: &ShapeArg,
) -> Result<Option<usize>, NetworkError> {
    match a {
        ShapeArg::Static(v) => Ok(Some(v.len())),
        ShapeArg::Tensor(t) => {
            let d = net.desc(*t)?;
            if d.rank() != 1 || !d.dtype.is_int() {
                return err(
                    layer,
                    format!("shape tensor {t} must be 1-D i32/i64, got {d}"),
                );
            }
            if d.dims[0] < 0 {
                return err(
                    layer,
                    format!("shape tensor {t} must have a build-time length, got {d}"),
                );
            }
            Ok(Some(d.dims[0] as usize))
        }
    }
}

/// Values of a shape argument as far as known.
fn shape_arg_values(net: &dyn LayerCx, a: &ShapeArg) -> Option<Vec<Option<i64>>> {
    match a {
        ShapeArg::Static(v) => Some(v.iter().map(|&x| Some(x)).collect()),
        ShapeArg::Tensor(t) => net.value(*t),
    }
}

/// Resolves reshape dims with TensorRT's placeholders (`0` copies, one `-1` inferred). An
/// unknown input extent copied by a `0` placeholder cancels out, so `[0, -1]` on `[?, 4, 8]`
/// gives `[?, 32]` as in TensorRT.
fn reshape_dims(
    input: &[i64],
    target: &[Option<i64>],
    zero_is_placeholder: bool,
) -> Result<Vec<i64>, NetworkError> {
    let mut out = Vec::with_capacity(target.len());
    let mut copied = vec![false; input.len()];
    let mut is_copy = vec![false; target.len()];
    let mut infer_at = None;
    for (i, t) in target.iter().enumerate() {
        match *t {
            None => out.push(-1),
            Some(0) if zero_is_placeholder => {
                let Some(&e) = input.get(i) else {
                    return err(
                        "shuffle",
                        format!(
                            "reshape placeholder 0 at dim {i} but the input has rank {}",
                            input.len()
                        ),
                    );
                };
                copied[i] = true;
                is_copy[i] = true;
                out.push(e);
            }
            Some(-1) => {
                if infer_at.is_some() {
                    return err("shuffle", "more than one -1 in reshape dims");
                }
                infer_at = Some(i);
                out.push(-1);
            }
            Some(e) if e < 0 => return err("shuffle", format!("negative reshape extent {e}")),
            Some(e) => out.push(e),
        }
    }
    fn known(mut it: impl Iterator<Item = i64>) -> Option<i64> {
        it.try_fold(1i64, |a, d| if d < 0 { None } else { Some(a * d) })
    }
    // Volumes without the extents that a placeholder copies unchanged.
    let in_rest = known(
        input
            .iter()
            .enumerate()
            .filter(|(i, _)| !copied[*i])
            .map(|(_, &d)| d),
    );
    let out_rest = known(
        out.iter()
            .enumerate()
            .filter(|(i, _)| !is_copy[*i] && Some(*i) != infer_at)
            .map(|(_, &d)| d),
    );
    match (infer_at, in_rest, out_rest) {
        (Some(i), Some(v), Some(r)) => {
            if r == 0 || v % r != 0 {
                return err(
                    "shuffle",
                    format!("cannot reshape {input:?} to {target:?}: volumes do not divide"),
                );
            }
            out[i] = v / r;
        }
        (None, Some(v), Some(r)) if v != r => {
            return err(
                "shuffle",
                format!("reshape changes the volume: {input:?} to {out:?}"),
            );
        }
        _ => {}
    }
    Ok(out)
}

fn check_weights(layer: &str, what: &str, w: &Weights) -> Result<(), NetworkError> {
    let need = (w.count as u128 * w.dtype.size_bits() as u128).div_ceil(8);
    if need != w.bytes.len() as u128 {
        return err(
            layer,
            format!(
                "{what} weights: {} {} elements need {need} bytes, got {}",
                w.count,
                w.dtype,
                w.bytes.len()
            ),
        );
    }
    Ok(())
}

fn conv_like(
    cx: &dyn LayerCx,
    deconv: bool,
    input: TensorId,
    params: ConvolutionParams,
    kernel: Weights,
    bias: Option<Weights>,
) -> Result<Vec<Inferred>, NetworkError> {
    let layer = if deconv {
        "deconvolution"
    } else {
        "convolution"
    };
    let d = cx.desc(input)?;
    let n = params.kernel_size.len();
    if !(n == 2 || n == 3) {
        return err(layer, format!("only 2-D and 3-D kernels exist, got {n}-D"));
    }
    for (what, v) in [
        ("stride", &params.stride),
        ("pre_padding", &params.pre_padding),
        ("post_padding", &params.post_padding),
        ("dilation", &params.dilation),
    ] {
        if v.len() != n {
            return err(layer, format!("{what} {v:?} must have {n} entries"));
        }
    }
    if params.stride.iter().chain(&params.dilation).any(|&s| s < 1) {
        return err(layer, "stride and dilation must be >= 1");
    }
    if d.rank() < n + 2 {
        return err(
            layer,
            format!("input {d} needs rank >= {} for a {n}-D kernel", n + 2),
        );
    }
    let g = params.groups;
    let k = params.num_output_maps;
    let c = d.dims[d.rank() - n - 1];
    if g < 1 || k < 1 || k % g != 0 || (c >= 0 && c % g != 0) {
        return err(
            layer,
            format!("channels {c} and output maps {k} must be divisible by groups {g}"),
        );
    }
    check_weights(layer, "kernel", &kernel)?;
    if c >= 0 {
        let kvol: i64 = params.kernel_size.iter().product();
        let want = if deconv {
            c * (k / g) * kvol
        } else {
            k * (c / g) * kvol
        };
        if kernel.count != want {
            return err(
                layer,
                format!("kernel has {} elements, expected {want}", kernel.count),
            );
        }
    }
    if let Some(b) = &bias {
        check_weights(layer, "bias", b)?;
        if b.count != k {
            return err(
                layer,
                format!("bias has {} elements, expected {k}", b.count),
            );
        }
    }
    let mut dims = d.dims.clone();
    let r = dims.len();
    dims[r - n - 1] = k;
    for i in 0..n {
        let x = d.dims[r - n + i];
        dims[r - n + i] = if deconv {
            if x < 0 {
                -1
            } else {
                (x - 1) * params.stride[i] + params.dilation[i] * (params.kernel_size[i] - 1) + 1
                    - params.pre_padding[i]
                    - params.post_padding[i]
            }
        } else {
            window_out(
                x,
                params.kernel_size[i],
                params.stride[i],
                params.pre_padding[i],
                params.post_padding[i],
                params.dilation[i],
                PaddingMode::ExplicitRoundDown,
            )
        };
        if dims[r - n + i] == 0 || dims[r - n + i] < -1 {
            return err(
                layer,
                format!("output extent {} <= 0 for input {d}", dims[r - n + i]),
            );
        }
    }
    Ok(one(TensorDesc::new(d.dtype, dims)))
}

pub(crate) fn input(
    cx: &dyn LayerCx,
    name: String,
    dtype: TrtDataType,
    dims: Vec<i64>,
) -> Result<Vec<Inferred>, NetworkError> {
    if cx.has_input(&name) {
        return err("input", format!("duplicate input name {name:?}"));
    }
    if dims.len() > 8 || dims.iter().any(|&d| d < -1) {
        return err(
            "input",
            format!("dims {dims:?}: at most 8 dims, each >= 0 or -1"),
        );
    }
    Ok(one(TensorDesc::new(dtype, dims)))
}

pub(crate) fn constant(
    cx: &dyn LayerCx,
    dims: Vec<i64>,
    weights: Weights,
) -> Result<Vec<Inferred>, NetworkError> {
    if dims.iter().any(|&d| d < 0) || dims.len() > 8 {
        return err(
            "constant",
            format!("dims {dims:?} must be static, rank <= 8"),
        );
    }
    if weights.dtype == TrtDataType::Uint8 {
        return err("constant", "Uint8 constants are not allowed; use a cast");
    }
    check_weights("constant", "constant", &weights)?;
    let vol: i64 = dims.iter().product();
    if vol != weights.count {
        return err(
            "constant",
            format!(
                "dims {dims:?} hold {vol} elements, weights have {}",
                weights.count
            ),
        );
    }
    let value = if dims.len() <= 1 && vol <= 8 {
        weights
            .to_i64_vec()
            .map(|v| v.into_iter().map(Some).collect())
    } else {
        None
    };
    let desc = TensorDesc::new(weights.dtype, dims);
    Ok(vec![(desc, value)])
}

pub(crate) fn convolution(
    cx: &dyn LayerCx,
    input: TensorId,
    params: ConvolutionParams,
    kernel: Weights,
    bias: Option<Weights>,
) -> Result<Vec<Inferred>, NetworkError> {
    conv_like(cx, false, input, params, kernel, bias)
}

pub(crate) fn deconvolution(
    cx: &dyn LayerCx,
    input: TensorId,
    params: ConvolutionParams,
    kernel: Weights,
    bias: Option<Weights>,
) -> Result<Vec<Inferred>, NetworkError> {
    conv_like(cx, true, input, params, kernel, bias)
}

pub(crate) fn matrix_multiply(
    cx: &dyn LayerCx,
    a: TensorId,
    op_a: MatrixOp,
    b: TensorId,
    op_b: MatrixOp,
) -> Result<Vec<Inferred>, NetworkError> {
    let l = "matrix_multiply";
    let (da, db) = (cx.desc(a)?, cx.desc(b)?);
    if da.dtype != db.dtype {
        return err(l, format!("input types differ: {da} x {db}"));
    }
    // (batch dims, rows, cols) of each operand; a vector is (batch, None, len).
    let split =
        |d: &TensorDesc, op: MatrixOp| -> Result<(Vec<i64>, Option<i64>, i64), NetworkError> {
            match op {
                MatrixOp::Vector => {
                    if d.rank() < 1 {
                        return err(l, format!("vector operand {d} needs rank >= 1"));
                    }
                    Ok((d.dims[..d.rank() - 1].to_vec(), None, d.dims[d.rank() - 1]))
                }
                _ => {
                    if d.rank() < 2 {
                        return err(l, format!("matrix operand {d} needs rank >= 2"));
                    }
                    let (r, c) = (d.dims[d.rank() - 2], d.dims[d.rank() - 1]);
                    let (r, c) = if op == MatrixOp::Transpose {
                        (c, r)
                    } else {
                        (r, c)
                    };
                    Ok((d.dims[..d.rank() - 2].to_vec(), Some(r), c))
                }
            }
        };
    let (ba, ra, ca) = split(&da, op_a)?;
    let (bb, rb, cb) = split(&db, op_b)?;
    // Inner dims: a's columns against b's rows (a vector b is a column).
    let (ka, kb) = (ca, rb.unwrap_or(cb));
    if ka >= 0 && kb >= 0 && ka != kb {
        return err(
            l,
            format!("inner dims differ: {da} ({op_a:?}) x {db} ({op_b:?})"),
        );
    }
    let batch = broadcast(
        l,
        &[
            &TensorDesc::new(da.dtype, ba),
            &TensorDesc::new(db.dtype, bb),
        ],
    )?;
    let mut dims = batch;
    if let Some(r) = ra {
        dims.push(r);
    }
    if rb.is_some() {
        dims.push(cb);
    }
    Ok(one(TensorDesc::new(da.dtype, dims)))
}

pub(crate) fn elementwise(
    cx: &dyn LayerCx,
    a: TensorId,
    b: TensorId,
    op: ElementWiseOp,
) -> Result<Vec<Inferred>, NetworkError> {
    let l = "elementwise";
    let (da, db) = (cx.desc(a)?, cx.desc(b)?);
    if da.dtype != db.dtype {
        return err(
            l,
            format!(
                "{} of {da} and {db}: types differ (strongly typed network; cast first)",
                op.name()
            ),
        );
    }
    let dims = broadcast(l, &[&da, &db])?;
    let dtype = if op.is_comparison() {
        TrtDataType::Bool
    } else {
        da.dtype
    };
    // Track shape arithmetic on small integer tensors.
    let value = match (cx.value(a), cx.value(b)) {
        (Some(x), Some(y)) if x.len() == y.len() || x.len() == 1 || y.len() == 1 => {
            // Broadcasting: a one-element side repeats; an empty side makes the result empty.
            let n = if x.len() == 1 { y.len() } else { x.len() };
            let get = |v: &Vec<Option<i64>>, i: usize| if v.len() == 1 { v[0] } else { v[i] };
            let f = |p: i64, q: i64| -> Option<i64> {
                match op {
                    ElementWiseOp::Sum => p.checked_add(q),
                    ElementWiseOp::Sub => p.checked_sub(q),
                    ElementWiseOp::Prod => p.checked_mul(q),
                    ElementWiseOp::Max => Some(p.max(q)),
                    ElementWiseOp::Min => Some(p.min(q)),
                    ElementWiseOp::FloorDiv if q != 0 => Some(p.div_euclid(q)),
                    _ => None,
                }
            };
            if dtype.is_int() {
                Some(
                    (0..n)
                        .map(|i| match (get(&x, i), get(&y, i)) {
                            (Some(p), Some(q)) => f(p, q),
                            _ => None,
                        })
                        .collect(),
                )
            } else {
                None
            }
        }
        _ => None,
    };
    Ok(vec![(TensorDesc::new(dtype, dims), value)])
}

pub(crate) fn unary(
    cx: &dyn LayerCx,
    input: TensorId,
    op: UnaryOp,
) -> Result<Vec<Inferred>, NetworkError> {
    let d = cx.desc(input)?;
    let dtype = match op {
        UnaryOp::IsInf | UnaryOp::IsNan => TrtDataType::Bool,
        _ => d.dtype,
    };
    Ok(one(TensorDesc::new(dtype, d.dims)))
}

pub(crate) fn activation(
    cx: &dyn LayerCx,
    input: TensorId,
    _activation: Activation,
) -> Result<Vec<Inferred>, NetworkError> {
    Ok(one(cx.desc(input)?))
}

pub(crate) fn reduce(
    cx: &dyn LayerCx,
    input: TensorId,
    op: ReduceOp,
    axes: u32,
    keep_dims: bool,
) -> Result<Vec<Inferred>, NetworkError> {
    let d = cx.desc(input)?;
    check_mask("reduce", axes, d.rank())?;
    let mut dims = Vec::new();
    for (i, &e) in d.dims.iter().enumerate() {
        if axes & (1 << i) != 0 {
            if keep_dims {
                dims.push(1);
            }
        } else {
            dims.push(e);
        }
    }
    Ok(one(TensorDesc::new(d.dtype, dims)))
}

pub(crate) fn softmax(
    cx: &dyn LayerCx,
    input: TensorId,
    axis: u32,
) -> Result<Vec<Inferred>, NetworkError> {
    let d = cx.desc(input)?;
    check_axis("softmax", axis, d.rank())?;
    Ok(one(d))
}

pub(crate) fn shuffle(
    cx: &dyn LayerCx,
    input: TensorId,
    params: ShuffleParams,
) -> Result<Vec<Inferred>, NetworkError> {
    let d = cx.desc(input)?;
    let mut dims = d.dims.clone();
    if let Some(p) = &params.first_transpose {
        check_perm("shuffle", p, dims.len())?;
        dims = permute(&dims, p);
    }
    if let Some(r) = &params.reshape {
        let len = shape_arg_len(cx, "shuffle", r)?.unwrap_or(0);
        let target = shape_arg_values(cx, r).unwrap_or_else(|| vec![None; len]);
        dims = reshape_dims(&dims, &target, params.zero_is_placeholder)?;
    }
    if let Some(p) = &params.second_transpose {
        check_perm("shuffle", p, dims.len())?;
        dims = permute(&dims, p);
    }
    // Reshapes of known shape values keep them (e.g. a 0-D scalar to [1]).
    let value = if params.first_transpose.is_none() && params.second_transpose.is_none() {
        cx.value(input)
    } else {
        None
    };
    Ok(vec![(TensorDesc::new(d.dtype, dims), value)])
}

pub(crate) fn slice(
    cx: &dyn LayerCx,
    input: TensorId,
    params: SliceParams,
) -> Result<Vec<Inferred>, NetworkError> {
    let l = "slice";
    let d = cx.desc(input)?;
    for a in [&params.start, &params.size, &params.stride] {
        if let Some(n) = shape_arg_len(cx, l, a)? {
            if n != d.rank() {
                return err(
                    l,
                    format!("start/size/stride must have rank {} entries", d.rank()),
                );
            }
        }
    }
    if let Some(f) = params.fill_value {
        let fd = cx.desc(f)?;
        if params.mode != SliceMode::Fill || fd.dtype != d.dtype || fd.rank() != 0 {
            return err(
                l,
                format!(
                    "fill value {f} must be a 0-D {} tensor with SliceMode::Fill",
                    d.dtype
                ),
            );
        }
    }
    let size = shape_arg_values(cx, &params.size).unwrap_or_else(|| vec![None; d.rank()]);
    if let (Some(start), Some(stride), true) = (
        shape_arg_values(cx, &params.start),
        shape_arg_values(cx, &params.stride),
        params.mode == SliceMode::StrictBounds,
    ) {
        for i in 0..d.rank() {
            if let (Some(s0), Some(n), Some(st), e) = (start[i], size[i], stride[i], d.dims[i]) {
                if e >= 0 && n > 0 {
                    let last = s0 + (n - 1) * st;
                    if s0 < 0 || s0 >= e || last < 0 || last >= e {
                        return err(
                            l,
                            format!(
                                "dim {i}: start {s0}, size {n}, stride {st} read outside \
                                 extent {e} (strict bounds)"
                            ),
                        );
                    }
                }
            }
        }
    }
    let dims: Vec<i64> = size.iter().map(|s| s.unwrap_or(-1)).collect();
    if dims.iter().any(|&x| x < -1) {
        return err(l, format!("negative size {dims:?}"));
    }
    let value = match (cx.value(input), &params.start, &params.size, &params.stride) {
        (Some(v), ShapeArg::Static(s), ShapeArg::Static(n), ShapeArg::Static(st))
            if d.rank() == 1 && params.mode == SliceMode::StrictBounds =>
        {
            Some(
                (0..n[0])
                    .map(|i| v.get((s[0] + i * st[0]) as usize).copied().flatten())
                    .collect(),
            )
        }
        _ => None,
    };
    Ok(vec![(TensorDesc::new(d.dtype, dims), value)])
}

pub(crate) fn concatenation(
    cx: &dyn LayerCx,
    inputs: Vec<TensorId>,
    axis: u32,
) -> Result<Vec<Inferred>, NetworkError> {
    let l = "concatenation";
    if inputs.is_empty() {
        return err(l, "needs at least one input");
    }
    let descs: Vec<TensorDesc> = inputs
        .iter()
        .map(|t| cx.desc(*t))
        .collect::<Result<_, _>>()?;
    let first = &descs[0];
    let a = check_axis(l, axis, first.rank())?;
    let mut dims = first.dims.clone();
    for d in &descs[1..] {
        if d.dtype != first.dtype || d.rank() != first.rank() {
            return err(l, format!("inputs differ in type or rank: {first} and {d}"));
        }
        for (i, (acc, &e)) in dims.iter_mut().zip(&d.dims).enumerate() {
            if i == a {
                *acc = if *acc < 0 || e < 0 { -1 } else { *acc + e };
            } else if *acc >= 0 && e >= 0 && *acc != e {
                return err(l, format!("dim {i} differs: {first} and {d}"));
            } else if *acc < 0 {
                *acc = e;
            }
        }
    }
    let value = if first.rank() == 1 {
        inputs
            .iter()
            .map(|t| cx.value(*t))
            .collect::<Option<Vec<_>>>()
            .map(|vs| vs.concat())
    } else {
        None
    };
    Ok(vec![(TensorDesc::new(first.dtype, dims), value)])
}

pub(crate) fn gather(
    cx: &dyn LayerCx,
    data: TensorId,
    indices: TensorId,
    axis: u32,
    mode: GatherMode,
) -> Result<Vec<Inferred>, NetworkError> {
    let l = "gather";
    let (d, ix) = (cx.desc(data)?, cx.desc(indices)?);
    if !ix.dtype.is_int() {
        return err(l, format!("indices must be i32/i64, got {ix}"));
    }
    let dims = match mode {
        GatherMode::Default => {
            let a = check_axis(l, axis, d.rank())?;
            let mut v = d.dims[..a].to_vec();
            v.extend(&ix.dims);
            v.extend(&d.dims[a + 1..]);
            v
        }
        GatherMode::Element => {
            check_axis(l, axis, d.rank())?;
            if ix.rank() != d.rank() {
                return err(l, format!("element mode needs equal ranks: {d} and {ix}"));
            }
            ix.dims.clone()
        }
        GatherMode::Nd => {
            let q = ix.rank();
            let Some(&last) = ix.dims.last() else {
                return err(l, "nd mode needs indices of rank >= 1");
            };
            if last < 0 || last as usize > d.rank() {
                return err(
                    l,
                    format!("nd mode: last indices dim of {ix} must index {d}"),
                );
            }
            let mut v = ix.dims[..q - 1].to_vec();
            v.extend(&d.dims[last as usize..]);
            v
        }
    };
    let value = match (mode, cx.value(data), cx.value(indices)) {
        (GatherMode::Default, Some(v), Some(ids)) if d.rank() == 1 && ix.rank() <= 1 => Some(
            ids.iter()
                .map(|i| {
                    i.and_then(|i| {
                        let i = if i < 0 { i + v.len() as i64 } else { i };
                        v.get(usize::try_from(i).ok()?).copied().flatten()
                    })
                })
                .collect(),
        ),
        _ => None,
    };
    Ok(vec![(TensorDesc::new(d.dtype, dims), value)])
}

pub(crate) fn select(
    cx: &dyn LayerCx,
    condition: TensorId,
    then_value: TensorId,
    else_value: TensorId,
) -> Result<Vec<Inferred>, NetworkError> {
    let l = "select";
    let (c, t, e) = (
        cx.desc(condition)?,
        cx.desc(then_value)?,
        cx.desc(else_value)?,
    );
    if c.dtype != TrtDataType::Bool {
        return err(l, format!("condition must be bool, got {c}"));
    }
    if t.dtype != e.dtype {
        return err(l, format!("branch types differ: {t} and {e}"));
    }
    let dims = broadcast(l, &[&c, &t, &e])?;
    Ok(one(TensorDesc::new(t.dtype, dims)))
}

pub(crate) fn cast(
    cx: &dyn LayerCx,
    input: TensorId,
    dtype: TrtDataType,
) -> Result<Vec<Inferred>, NetworkError> {
    let d = cx.desc(input)?;
    let value = if dtype.is_int() {
        cx.value(input)
    } else {
        None
    };
    Ok(vec![(TensorDesc::new(dtype, d.dims), value)])
}

pub(crate) fn shape(cx: &dyn LayerCx, input: TensorId) -> Result<Vec<Inferred>, NetworkError> {
    let d = cx.desc(input)?;
    let value = d
        .dims
        .iter()
        .map(|&e| if e < 0 { None } else { Some(e) })
        .collect();
    Ok(vec![(
        TensorDesc::new(TrtDataType::Int64, vec![d.rank() as i64]),
        Some(value),
    )])
}

pub(crate) fn identity(cx: &dyn LayerCx, input: TensorId) -> Result<Vec<Inferred>, NetworkError> {
    let d = cx.desc(input)?;
    let value = cx.value(input);
    Ok(vec![(d, value)])
}

pub(crate) fn pooling(
    cx: &dyn LayerCx,
    input: TensorId,
    params: PoolingParams,
) -> Result<Vec<Inferred>, NetworkError> {
    let l = "pooling";
    let d = cx.desc(input)?;
    let n = params.window.len();
    if !(n == 2 || n == 3) {
        return err(l, format!("only 2-D and 3-D windows exist, got {n}-D"));
    }
    for (what, v) in [
        ("stride", &params.stride),
        ("pre_padding", &params.pre_padding),
        ("post_padding", &params.post_padding),
    ] {
        if v.len() != n {
            return err(l, format!("{what} {v:?} must have {n} entries"));
        }
    }
    if d.rank() < n + 1 {
        return err(l, format!("input {d} has rank < {}", n + 1));
    }
    for i in 0..n {
        if params.pre_padding[i] >= params.window[i] || params.post_padding[i] >= params.window[i] {
            return err(l, "padding must be smaller than the window");
        }
    }
    let mut dims = d.dims.clone();
    let r = dims.len();
    for i in 0..n {
        dims[r - n + i] = window_out(
            d.dims[r - n + i],
            params.window[i],
            params.stride[i],
            params.pre_padding[i],
            params.post_padding[i],
            1,
            params.padding_mode,
        );
    }
    Ok(one(TensorDesc::new(d.dtype, dims)))
}

pub(crate) fn normalization(
    cx: &dyn LayerCx,
    input: TensorId,
    scale: TensorId,
    bias: TensorId,
    axes: u32,
    epsilon: f32,
    num_groups: i64,
) -> Result<Vec<Inferred>, NetworkError> {
    let l = "normalization";
    let d = cx.desc(input)?;
    let (s, b) = (cx.desc(scale)?, cx.desc(bias)?);
    check_mask(l, axes, d.rank())?;
    if s.rank() != d.rank() || b.rank() != d.rank() {
        return err(
            l,
            format!(
                "scale {s} and bias {b} must have the input's rank {}",
                d.rank()
            ),
        );
    }
    if num_groups < 1 {
        return err(l, "num_groups must be >= 1");
    }
    if s.dims != b.dims || broadcast(l, &[&d, &s]).ok().as_ref() != Some(&d.dims) {
        return err(
            l,
            format!("scale {s} and bias {b} must be equal and broadcast to the input {d}"),
        );
    }
    if num_groups > 1 {
        let c = d.dims.get(1).copied().unwrap_or(-1);
        let after_channel = if d.rank() >= 2 {
            ((1u32 << d.rank()) - 1) & !0b11
        } else {
            0
        };
        if (c >= 0 && c % num_groups != 0) || axes != after_channel {
            return err(
                l,
                format!(
                    "{num_groups} groups need channels {c} divisible by them and axes = every \
                     dim after the channel ({after_channel:#b}), got {axes:#b}"
                ),
            );
        }
    }
    Ok(one(d))
}

pub(crate) fn topk(
    cx: &dyn LayerCx,
    input: TensorId,
    op: TopKOp,
    k: i32,
    axes: u32,
    indices_dtype: TrtDataType,
) -> Result<Vec<Inferred>, NetworkError> {
    let l = "topk";
    let d = cx.desc(input)?;
    check_mask(l, axes, d.rank())?;
    if axes.count_ones() != 1 {
        return err(l, format!("axes {axes:#b} must name exactly one dim"));
    }
    if !indices_dtype.is_int() {
        return err(l, "indices type must be i32 or i64");
    }
    let a = axes.trailing_zeros() as usize;
    if k < 1 || (d.dims[a] >= 0 && i64::from(k) > d.dims[a]) {
        return err(l, format!("k = {k} out of range for {d} axis {a}"));
    }
    let mut dims = d.dims.clone();
    dims[a] = i64::from(k);
    Ok(vec![
        (TensorDesc::new(d.dtype, dims.clone()), None),
        (TensorDesc::new(indices_dtype, dims), None),
    ])
}

pub(crate) fn resize(
    cx: &dyn LayerCx,
    input: TensorId,
    params: ResizeParams,
) -> Result<Vec<Inferred>, NetworkError> {
    let l = "resize";
    let d = cx.desc(input)?;
    let dims = match &params.output {
        ResizeOutput::Dims(v) => v.clone(),
        ResizeOutput::Scales(s) => {
            if s.len() != d.rank() {
                return err(l, format!("{} scales for rank {}", s.len(), d.rank()));
            }
            d.dims
                .iter()
                .zip(s)
                .map(|(&e, &f)| {
                    if e < 0 {
                        -1
                    } else {
                        (e as f64 * f as f64).floor() as i64
                    }
                })
                .collect()
        }
        ResizeOutput::Shape(t) => {
            let len = shape_arg_len(cx, l, &ShapeArg::Tensor(*t))?.unwrap_or(0);
            cx.value(*t)
                .map(|v| v.iter().map(|x| x.unwrap_or(-1)).collect())
                .unwrap_or_else(|| vec![-1; len])
        }
    };
    if dims.len() != d.rank() {
        return err(
            l,
            format!("output dims {dims:?} must have rank {}", d.rank()),
        );
    }
    Ok(one(TensorDesc::new(d.dtype, dims)))
}

pub(crate) fn fill(cx: &dyn LayerCx, params: FillParams) -> Result<Vec<Inferred>, NetworkError> {
    let l = "fill";
    let ok = match params.op {
        FillOp::Linspace => matches!(
            params.dtype,
            TrtDataType::Int32 | TrtDataType::Int64 | TrtDataType::Float
        ),
        _ => matches!(params.dtype, TrtDataType::Float | TrtDataType::Half),
    };
    if !ok {
        return err(
            l,
            format!("{:?} cannot produce {}", params.op, params.dtype),
        );
    }
    let len = shape_arg_len(cx, l, &params.dims)?.unwrap_or(0);
    let dims: Vec<i64> = shape_arg_values(cx, &params.dims)
        .unwrap_or_else(|| vec![None; len])
        .iter()
        .map(|x| x.unwrap_or(-1))
        .collect();
    if let FillArg::PerDim(v) = &params.beta {
        if v.len() != dims.len() {
            return err(
                l,
                format!("beta has {} entries for rank {}", v.len(), dims.len()),
            );
        }
    }
    for a in [&params.alpha, &params.beta] {
        if let FillArg::Tensor(t) = a {
            let td = cx.desc(*t)?;
            if td.dtype != params.dtype {
                return err(
                    l,
                    format!("alpha/beta tensor {t} must be {}, got {td}", params.dtype),
                );
            }
        }
    }
    let value = match (params.op, &params.alpha, &params.beta, dims.as_slice()) {
        (FillOp::Linspace, FillArg::Scalar(a), beta, &[n])
            if params.dtype.is_int() && (0..=64).contains(&n) =>
        {
            let step = match beta {
                FillArg::Scalar(b) => Some(*b),
                FillArg::PerDim(v) => v.first().copied(),
                FillArg::Tensor(_) => None,
            };
            step.map(|b| (0..n).map(|i| Some((a + b * i as f64) as i64)).collect())
        }
        _ => None,
    };
    Ok(vec![(TensorDesc::new(params.dtype, dims), value)])
}

pub(crate) fn scatter(
    cx: &dyn LayerCx,
    data: TensorId,
    indices: TensorId,
    updates: TensorId,
    mode: ScatterMode,
    axis: u32,
) -> Result<Vec<Inferred>, NetworkError> {
    let l = "scatter";
    let (d, ix, u) = (cx.desc(data)?, cx.desc(indices)?, cx.desc(updates)?);
    if !ix.dtype.is_int() {
        return err(l, format!("indices must be i32/i64, got {ix}"));
    }
    if u.dtype != d.dtype {
        return err(l, format!("updates {u} must have data's type {}", d.dtype));
    }
    if mode == ScatterMode::Element {
        check_axis(l, axis, d.rank())?;
        if ix.rank() != d.rank() || u.rank() != d.rank() {
            return err(l, format!("element mode needs equal ranks: {d}, {ix}, {u}"));
        }
    }
    Ok(one(d))
}

pub(crate) fn one_hot(
    cx: &dyn LayerCx,
    indices: TensorId,
    values: TensorId,
    depth: TensorId,
    axis: i32,
) -> Result<Vec<Inferred>, NetworkError> {
    let l = "one_hot";
    let (ix, v, dp) = (cx.desc(indices)?, cx.desc(values)?, cx.desc(depth)?);
    if !ix.dtype.is_int() || v.dims != [2] || dp.rank() != 0 || dp.dtype != TrtDataType::Int32 {
        return err(
            l,
            format!("needs int indices, values [2] and a 0-D i32 depth; got {ix}, {v}, {dp}"),
        );
    }
    let r = ix.rank() as i32;
    let a = if axis < 0 { axis + r + 1 } else { axis };
    if !(0..=r).contains(&a) {
        return err(l, format!("axis {axis} out of range for rank {r}"));
    }
    let depth_v = cx
        .value(depth)
        .and_then(|v| v.first().copied().flatten())
        .unwrap_or(-1);
    let mut dims = ix.dims.clone();
    dims.insert(a as usize, depth_v);
    Ok(one(TensorDesc::new(v.dtype, dims)))
}

pub(crate) fn cumulative(
    cx: &dyn LayerCx,
    input: TensorId,
    axis: u32,
    op: CumulativeOp,
    exclusive: bool,
    reverse: bool,
) -> Result<Vec<Inferred>, NetworkError> {
    let d = cx.desc(input)?;
    check_axis("cumulative", axis, d.rank())?;
    if !(d.dtype.is_float() || d.dtype.is_int()) {
        return err("cumulative", format!("not defined for {}", d.dtype));
    }
    Ok(one(d))
}

/// Types `addElementWise` takes for `op` (TensorRT §1.3): logical ops bool; comparisons
/// int32/int64/f16/f32/bf16; arithmetic also int8.
pub(crate) fn elementwise_types(op: ElementWiseOp) -> DTypes {
    if op.is_logical() {
        DTypes::BOOL
    } else if op.is_comparison() {
        DTypes::NUMERIC
    } else {
        DTypes(DTypes::NUMERIC.0 | DTypes::of(&[TrtDataType::Int8]).0)
    }
}

/// Types `addUnary` takes for `op`: `kNOT` bool; `kABS`/`kNEG`/`kSIGN` also i32/i64;
/// everything else float.
pub(crate) fn unary_types(op: UnaryOp) -> DTypes {
    match op {
        UnaryOp::Not => DTypes::BOOL,
        UnaryOp::Abs | UnaryOp::Neg | UnaryOp::Sign => DTypes::NUMERIC,
        _ => DTypes::FLOAT,
    }
}

/// Types `addActivation` takes: float, and i32/i64 for `kRELU` only.
pub(crate) fn activation_types(a: Activation) -> DTypes {
    if a == Activation::Relu {
        DTypes::NUMERIC
    } else {
        DTypes::FLOAT
    }
}

/// `IGridSampleLayer` (NvInfer.h: input and grid of rank 4 or 5; sample modes kCLAMP, kFILL,
/// kREFLECT only). Input `[N, C, D...]`, grid `[N, D_out..., r]` with `r` the number of
/// spatial dims, both of one float type; output `[N, C, D_out...]`. Cubic sampling is only
/// taken for 2-D (bicubic, as ONNX and PyTorch define it): the 3-D case is not documented.
pub(crate) fn grid_sample(
    cx: &dyn LayerCx,
    input: TensorId,
    grid: TensorId,
    mode: ResizeMode,
    align_corners: bool,
    sample_mode: SliceMode,
) -> Result<Vec<Inferred>, NetworkError> {
    let l = "grid_sample";
    let (d, g) = (cx.desc(input)?, cx.desc(grid)?);
    if !matches!(d.rank(), 4 | 5) || g.rank() != d.rank() {
        return err(
            l,
            format!("input {d} and grid {g} must both have rank 4 or both rank 5"),
        );
    }
    if d.dtype != g.dtype {
        return err(l, format!("input {d} and grid {g} must have one type"));
    }
    let spatial = d.rank() - 2;
    let last = g.dims[g.rank() - 1];
    if last >= 0 && last != spatial as i64 {
        return err(
            l,
            format!("grid {g} must end in {spatial} coordinates for input {d}"),
        );
    }
    let (n, gn) = (d.dims[0], g.dims[0]);
    if n >= 0 && gn >= 0 && n != gn {
        return err(l, format!("batch of input {d} and grid {g} differ"));
    }
    if !matches!(
        sample_mode,
        SliceMode::Fill | SliceMode::Clamp | SliceMode::Reflect
    ) {
        return err(
            l,
            format!("sample mode {sample_mode:?}: only Fill, Clamp and Reflect exist"),
        );
    }
    if mode == ResizeMode::Cubic && spatial != 2 {
        return err(l, "cubic sampling is bicubic: 2-D (rank 4) inputs only");
    }
    let mut dims = vec![if n >= 0 { n } else { gn }, d.dims[1]];
    dims.extend(&g.dims[1..g.rank() - 1]);
    Ok(one(TensorDesc::new(d.dtype, dims)))
}

/// `INonZeroLayer` (NvInfer.h: "For an input with dimensions [L1, L2, ..., Lm], the output has
/// dimensions [m, n], where n is the number of non-zero elements"; indices kINT32 or kINT64).
/// `n` is data-dependent: `-1`, or 0 when an input extent is statically 0. A 0-d input has
/// no documented result and is refused (converters reshape it to `[1]`).
pub(crate) fn non_zero(
    cx: &dyn LayerCx,
    input: TensorId,
    indices_dtype: TrtDataType,
) -> Result<Vec<Inferred>, NetworkError> {
    let l = "non_zero";
    let d = cx.desc(input)?;
    if d.rank() == 0 {
        return err(l, format!("input {d} must have rank >= 1"));
    }
    if !indices_dtype.is_int() {
        return err(l, "indices type must be i32 or i64");
    }
    let n = if d.dims.contains(&0) { 0 } else { -1 };
    Ok(one(TensorDesc::new(
        indices_dtype,
        vec![d.rank() as i64, n],
    )))
}
