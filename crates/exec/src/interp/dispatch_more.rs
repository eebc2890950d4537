//! Dispatch for reductions, linear algebra, convolution, pooling, normalization, attention,
//! interpolation, indexing and creation ops. Argument positions and names follow the ATen
//! schemas (`aten::sum.dim_IntList(Tensor self, int[1]? dim, bool keepdim=False, *, ...)`).

use super::{exec_dtype, CallArgs, Executor, RunError, RunResult, Value};
use crate::kernels::{attention, conv, create, index, linalg, norm, pool, reduce, shape, upsample};
use crate::tensor::{Scalar, Tensor};
use crate::DType;
use trtfx_ir::Type;

type KResult = RunResult<Vec<Value>>;

/// Reflect/replicate/circular padding as an index gather per padded dim (last dim first, as
/// `pad` lists `(left, right)` pairs from the last dim backwards).
fn pad_by_index(x: &Tensor, pad: &[i64], mode: &str) -> crate::Result<Tensor> {
    let mut t = x.clone();
    for (k, lr) in pad.chunks(2).enumerate() {
        let (left, right) = (lr[0], lr.get(1).copied().unwrap_or(0));
        let dim = t.ndim() as i64 - 1 - k as i64;
        if dim < 0 {
            return Err(crate::ExecError::Invalid {
                op: "pad",
                msg: format!("padding {pad:?} has more dims than the input"),
            });
        }
        let n = t.shape()[dim as usize] as i64;
        if mode == "reflect" && (left >= n || right >= n) {
            return Err(crate::ExecError::Invalid {
                op: "pad",
                msg: format!(
                    "reflect padding ({left}, {right}) must be smaller than the dim size {n}"
                ),
            });
        }
        if n == 0 {
            return Err(crate::ExecError::Invalid {
                op: "pad",
                msg: "cannot pad an empty dim by reflection or replication".into(),
            });
        }
        let idx: Vec<i64> = (-left..n + right)
            .map(|i| match mode {
                "reflect" => {
                    let period = 2 * (n - 1).max(1);
                    let m = i.rem_euclid(period);
                    if m < n {
                        m
                    } else {
                        period - m
                    }
                }
                "replicate" => i.clamp(0, n - 1),
                _ => i.rem_euclid(n),
            })
            .collect();
        let len = idx.len();
        let idx = Tensor::from_vec(idx, vec![len])?;
        t = index::index_select(&t, dim, &idx)?;
    }
    Ok(t)
}

fn one(r: crate::Result<Tensor>, c: &CallArgs<'_>) -> KResult {
    r.map(|t| vec![Value::Tensor(t)])
        .map_err(|e| c.kernel_err(e))
}

fn two(r: crate::Result<(Tensor, Tensor)>, c: &CallArgs<'_>) -> KResult {
    r.map(|(a, b)| vec![Value::Tensor(a), Value::Tensor(b)])
        .map_err(|e| c.kernel_err(e))
}

fn three(r: crate::Result<(Tensor, Tensor, Tensor)>, c: &CallArgs<'_>) -> KResult {
    r.map(|(a, b, d)| vec![Value::Tensor(a), Value::Tensor(b), Value::Tensor(d)])
        .map_err(|e| c.kernel_err(e))
}

/// The dtype of the node's first result, when it is a tensor the executor handles: creation
/// ops use it so defaults (int64 vs float32 for `arange`, the default dtype) match the export.
fn result_dtype(result_types: &[&Type]) -> Option<DType> {
    result_types
        .first()
        .and_then(|t| t.as_tensor())
        .and_then(|t| exec_dtype(t.dtype))
}

/// Spatial rank from an op name such as `max_pool2d` or `adaptive_avg_pool3d`.
fn spatial_rank(name: &str) -> Option<usize> {
    ["1d", "2d", "3d"]
        .iter()
        .position(|s| name.contains(s))
        .map(|i| i + 1)
}

pub(super) fn aten_more(
    _ex: &Executor<'_>,
    c: &CallArgs<'_>,
    name: &str,
    overload: &str,
    result_types: &[&Type],
) -> KResult {
    let self_t = || c.tensor(0, "self");
    match name {
        // ---- reductions
        "sum" | "mean" | "prod" | "nansum" => {
            let x = self_t()?;
            let (dims, keepdim) = match overload {
                "default" => (None, false),
                "dim_int" => (
                    Some(vec![c.int(1, "dim")?]),
                    c.bool_or(2, "keepdim", false)?,
                ),
                _ => (c.opt_ints(1, "dim")?, c.bool_or(2, "keepdim", false)?),
            };
            let dtype = c.opt_dtype(usize::MAX, "dtype")?;
            let dims = dims.filter(|d| !d.is_empty());
            let r = match name {
                "mean" => reduce::mean(x, dims.as_deref(), keepdim, dtype),
                "prod" => reduce::prod(x, dims.as_deref(), keepdim, dtype),
                _ => reduce::sum(x, dims.as_deref(), keepdim, dtype),
            };
            one(r, c)
        }
        "amax" | "amin" => {
            let x = self_t()?;
            let dims = c.ints_or(1, "dim", &[])?;
            let keepdim = c.bool_or(2, "keepdim", false)?;
            one(
                if name == "amax" {
                    reduce::amax(x, &dims, keepdim)
                } else {
                    reduce::amin(x, &dims, keepdim)
                },
                c,
            )
        }
        "max" | "min" => {
            let x = self_t()?;
            match overload {
                "default" => one(
                    if name == "max" {
                        reduce::max_all(x)
                    } else {
                        reduce::min_all(x)
                    },
                    c,
                ),
                "dim" => {
                    let (d, k) = (c.int(1, "dim")?, c.bool_or(2, "keepdim", false)?);
                    two(
                        if name == "max" {
                            reduce::max_dim(x, d, k)
                        } else {
                            reduce::min_dim(x, d, k)
                        },
                        c,
                    )
                }
                _ => {
                    let o = c.tensor(1, "other")?;
                    one(
                        if name == "max" {
                            crate::kernels::elementwise::maximum(x, o)
                        } else {
                            crate::kernels::elementwise::minimum(x, o)
                        },
                        c,
                    )
                }
            }
        }
        "argmax" | "argmin" => {
            let x = self_t()?;
            let (d, k) = (c.opt_int(1, "dim")?, c.bool_or(2, "keepdim", false)?);
            one(
                if name == "argmax" {
                    reduce::argmax(x, d, k)
                } else {
                    reduce::argmin(x, d, k)
                },
                c,
            )
        }
        "var" | "std" | "var_mean" | "std_mean" => {
            let x = self_t()?;
            let (dims, correction, keepdim) = match overload {
                "correction" => (
                    c.opt_ints(1, "dim")?,
                    c.opt_float(usize::MAX, "correction")?.unwrap_or(1.0),
                    c.bool_or(usize::MAX, "keepdim", false)?,
                ),
                "default" => (
                    None,
                    if c.bool_or(1, "unbiased", true)? {
                        1.0
                    } else {
                        0.0
                    },
                    false,
                ),
                _ => (
                    c.opt_ints(1, "dim")?,
                    if c.bool_or(2, "unbiased", true)? {
                        1.0
                    } else {
                        0.0
                    },
                    c.bool_or(3, "keepdim", false)?,
                ),
            };
            let dims = dims.filter(|d| !d.is_empty());
            match name {
                "var" => one(reduce::var(x, dims.as_deref(), correction, keepdim), c),
                "std" => one(reduce::std(x, dims.as_deref(), correction, keepdim), c),
                "var_mean" => two(reduce::var_mean(x, dims.as_deref(), correction, keepdim), c),
                _ => {
                    let r = reduce::var_mean(x, dims.as_deref(), correction, keepdim)
                        .and_then(|(v, m)| Ok((crate::kernels::elementwise::sqrt(&v)?, m)));
                    two(r, c)
                }
            }
        }
        "any" | "all" => {
            let x = self_t()?;
            let (dims, keepdim) = match overload {
                "default" => (None, false),
                "dim" => (
                    Some(vec![c.int(1, "dim")?]),
                    c.bool_or(2, "keepdim", false)?,
                ),
                _ => (c.opt_ints(1, "dim")?, c.bool_or(2, "keepdim", false)?),
            };
            let dims = dims.filter(|d| !d.is_empty());
            one(
                if name == "any" {
                    reduce::any(x, dims.as_deref(), keepdim)
                } else {
                    reduce::all(x, dims.as_deref(), keepdim)
                },
                c,
            )
        }
        "logsumexp" => {
            let x = self_t()?;
            one(
                reduce::logsumexp(x, &c.ints(1, "dim")?, c.bool_or(2, "keepdim", false)?),
                c,
            )
        }
        "norm" | "linalg_vector_norm" => {
            let x = self_t()?;
            let p = c.float_or(1, if name == "norm" { "p" } else { "ord" }, 2.0)?;
            let dims = c.opt_ints(2, "dim")?.filter(|d| !d.is_empty());
            one(
                reduce::norm(x, p, dims.as_deref(), c.bool_or(3, "keepdim", false)?),
                c,
            )
        }
        "cumsum" | "cumprod" => {
            let x = self_t()?;
            let d = c.int(1, "dim")?;
            let dt = c.opt_dtype(usize::MAX, "dtype")?;
            one(
                if name == "cumsum" {
                    reduce::cumsum(x, d, dt)
                } else {
                    reduce::cumprod(x, d, dt)
                },
                c,
            )
        }
        "softmax" | "_softmax" | "log_softmax" | "_log_softmax" => {
            let x = self_t()?;
            let d = c.int(1, "dim")?;
            let half_to_float = name.starts_with('_') && c.bool_or(2, "half_to_float", false)?;
            // `_softmax(self, dim, half_to_float)` vs `softmax.int(self, dim, dtype=None)`.
            let cast = if name.starts_with('_') {
                None
            } else {
                c.opt_dtype(2, "dtype")?
            };
            let x = match cast {
                Some(dt) => x.to_dtype(dt),
                None => x.clone(),
            };
            one(
                if name.contains("log") {
                    reduce::log_softmax(&x, d, half_to_float)
                } else {
                    reduce::softmax(&x, d, half_to_float)
                },
                c,
            )
        }
        "sort" => {
            let x = self_t()?;
            let (dim, desc) = if overload == "stable" {
                (
                    c.int_or(usize::MAX, "dim", -1)?,
                    c.bool_or(usize::MAX, "descending", false)?,
                )
            } else {
                (c.int_or(1, "dim", -1)?, c.bool_or(2, "descending", false)?)
            };
            two(reduce::sort(x, dim, desc), c)
        }
        "topk" => {
            let x = self_t()?;
            two(
                reduce::topk(
                    x,
                    c.int(1, "k")?,
                    c.int_or(2, "dim", -1)?,
                    c.bool_or(3, "largest", true)?,
                ),
                c,
            )
        }
        // ---- linear algebra
        "mm" => one(linalg::mm(self_t()?, c.tensor(1, "mat2")?), c),
        "bmm" => one(linalg::bmm(self_t()?, c.tensor(1, "mat2")?), c),
        "matmul" => one(linalg::matmul(self_t()?, c.tensor(1, "other")?), c),
        "dot" => one(linalg::dot(self_t()?, c.tensor(1, "tensor")?), c),
        "mv" => one(linalg::mv(self_t()?, c.tensor(1, "vec")?), c),
        "addmm" | "baddbmm" => {
            let x = self_t()?;
            let (m1, m2) = if name == "addmm" {
                (c.tensor(1, "mat1")?, c.tensor(2, "mat2")?)
            } else {
                (c.tensor(1, "batch1")?, c.tensor(2, "batch2")?)
            };
            let beta = c.float_or(usize::MAX, "beta", 1.0)?;
            let alpha = c.float_or(usize::MAX, "alpha", 1.0)?;
            one(
                if name == "addmm" {
                    linalg::addmm(x, m1, m2, beta, alpha)
                } else {
                    linalg::baddbmm(x, m1, m2, beta, alpha)
                },
                c,
            )
        }
        "linear" => one(
            linalg::linear(
                c.tensor(0, "input")?,
                c.tensor(1, "weight")?,
                c.opt_tensor(2, "bias")?,
            ),
            c,
        ),
        // ---- convolution
        "convolution" | "_convolution" => {
            let x = c.tensor(0, "input")?;
            one(
                conv::convolution(
                    x,
                    c.tensor(1, "weight")?,
                    c.opt_tensor(2, "bias")?,
                    &c.ints(3, "stride")?,
                    &c.ints(4, "padding")?,
                    &c.ints(5, "dilation")?,
                    c.bool_or(6, "transposed", false)?,
                    &c.ints_or(7, "output_padding", &[])?,
                    c.int_or(8, "groups", 1)?,
                ),
                c,
            )
        }
        "conv1d" | "conv2d" | "conv3d" => {
            let x = c.tensor(0, "input")?;
            let w = c.tensor(1, "weight")?;
            let nd = w.ndim().saturating_sub(2).max(1);
            if matches!(c.get(4, "padding"), Some(Value::Str(_))) {
                return Err(RunError::BadArgument {
                    node: c.node.to_string(),
                    op: c.op.to_string(),
                    msg: "string padding ('same'/'valid') is not supported by the CPU executor"
                        .into(),
                });
            }
            one(
                conv::conv(
                    x,
                    w,
                    c.opt_tensor(2, "bias")?,
                    &c.ints_or(3, "stride", &vec![1; nd])?,
                    &c.ints_or(4, "padding", &vec![0; nd])?,
                    &c.ints_or(5, "dilation", &vec![1; nd])?,
                    c.int_or(6, "groups", 1)?,
                ),
                c,
            )
        }
        "conv_transpose1d" | "conv_transpose2d" | "conv_transpose3d" => {
            let x = c.tensor(0, "input")?;
            let w = c.tensor(1, "weight")?;
            let nd = w.ndim().saturating_sub(2).max(1);
            one(
                conv::conv_transpose(
                    x,
                    w,
                    c.opt_tensor(2, "bias")?,
                    &c.ints_or(3, "stride", &vec![1; nd])?,
                    &c.ints_or(4, "padding", &vec![0; nd])?,
                    &c.ints_or(5, "output_padding", &vec![0; nd])?,
                    c.int_or(6, "groups", 1)?,
                    &c.ints_or(7, "dilation", &vec![1; nd])?,
                ),
                c,
            )
        }
        // ---- pooling
        "max_pool1d"
        | "max_pool2d"
        | "max_pool3d"
        | "max_pool1d_with_indices"
        | "max_pool2d_with_indices"
        | "max_pool3d_with_indices" => {
            let x = self_t()?;
            let nd = spatial_rank(name).unwrap_or(2);
            let k = c.ints(1, "kernel_size")?;
            let s = c.ints_or(2, "stride", &[])?;
            let s = if s.is_empty() { k.clone() } else { s };
            let p = c.ints_or(3, "padding", &[0])?;
            let d = c.ints_or(4, "dilation", &[1])?;
            let ceil = c.bool_or(5, "ceil_mode", false)?;
            if name.ends_with("with_indices") {
                two(pool::max_pool_with_indices(x, nd, &k, &s, &p, &d, ceil), c)
            } else {
                one(pool::max_pool(x, nd, &k, &s, &p, &d, ceil), c)
            }
        }
        "avg_pool1d" | "avg_pool2d" | "avg_pool3d" => {
            let x = self_t()?;
            let nd = spatial_rank(name).unwrap_or(2);
            let k = c.ints(1, "kernel_size")?;
            let s = c.ints_or(2, "stride", &[])?;
            let s = if s.is_empty() { k.clone() } else { s };
            one(
                pool::avg_pool(
                    x,
                    nd,
                    &k,
                    &s,
                    &c.ints_or(3, "padding", &[0])?,
                    c.bool_or(4, "ceil_mode", false)?,
                    c.bool_or(5, "count_include_pad", true)?,
                    c.opt_int(6, "divisor_override")?,
                ),
                c,
            )
        }
        "adaptive_avg_pool1d"
        | "adaptive_avg_pool2d"
        | "adaptive_avg_pool3d"
        | "_adaptive_avg_pool2d"
        | "_adaptive_avg_pool3d" => one(
            pool::adaptive_avg_pool(self_t()?, &c.ints(1, "output_size")?),
            c,
        ),
        "adaptive_max_pool1d" | "adaptive_max_pool2d" | "adaptive_max_pool3d" => two(
            pool::adaptive_max_pool(self_t()?, &c.ints(1, "output_size")?),
            c,
        ),
        // ---- normalization
        "native_layer_norm" => three(
            norm::native_layer_norm(
                c.tensor(0, "input")?,
                &c.ints(1, "normalized_shape")?,
                c.opt_tensor(2, "weight")?,
                c.opt_tensor(3, "bias")?,
                c.float_or(4, "eps", 1e-5)?,
            ),
            c,
        ),
        "layer_norm" => one(
            norm::layer_norm(
                c.tensor(0, "input")?,
                &c.ints(1, "normalized_shape")?,
                c.opt_tensor(2, "weight")?,
                c.opt_tensor(3, "bias")?,
                c.float_or(4, "eps", 1e-5)?,
            ),
            c,
        ),
        "_native_batch_norm_legit_no_training" => three(
            norm::native_batch_norm_legit_no_training(
                c.tensor(0, "input")?,
                c.opt_tensor(1, "weight")?,
                c.opt_tensor(2, "bias")?,
                c.tensor(3, "running_mean")?,
                c.tensor(4, "running_var")?,
                c.float_or(6, "eps", 1e-5)?,
            ),
            c,
        ),
        "_native_batch_norm_legit"
        | "_native_batch_norm_legit_functional"
        | "native_batch_norm" => {
            let r = norm::native_batch_norm(
                c.tensor(0, "input")?,
                c.opt_tensor(1, "weight")?,
                c.opt_tensor(2, "bias")?,
                c.opt_tensor(3, "running_mean")?,
                c.opt_tensor(4, "running_var")?,
                c.bool_or(5, "training", false)?,
                c.float_or(7, "eps", 1e-5)?,
            );
            let mut out = three(r, c)?;
            // The functional variant also returns the (unchanged, here) running stats.
            if name == "_native_batch_norm_legit_functional" {
                for (i, n) in [(3, "running_mean"), (4, "running_var")] {
                    out.push(c.get(i, n).cloned().unwrap_or(Value::None));
                }
            }
            Ok(out)
        }
        "batch_norm" => one(
            norm::batch_norm(
                c.tensor(0, "input")?,
                c.opt_tensor(1, "weight")?,
                c.opt_tensor(2, "bias")?,
                c.opt_tensor(3, "running_mean")?,
                c.opt_tensor(4, "running_var")?,
                c.bool_or(5, "training", false)?,
                c.float_or(7, "eps", 1e-5)?,
            ),
            c,
        ),
        "native_group_norm" => three(
            norm::native_group_norm(
                c.tensor(0, "input")?,
                c.opt_tensor(1, "weight")?,
                c.opt_tensor(2, "bias")?,
                c.int(6, "group")?,
                c.float_or(7, "eps", 1e-5)?,
            ),
            c,
        ),
        "group_norm" => one(
            norm::group_norm(
                c.tensor(0, "input")?,
                c.int(1, "num_groups")?,
                c.opt_tensor(2, "weight")?,
                c.opt_tensor(3, "bias")?,
                c.float_or(4, "eps", 1e-5)?,
            ),
            c,
        ),
        "scaled_dot_product_attention" => one(
            attention::scaled_dot_product_attention(
                c.tensor(0, "query")?,
                c.tensor(1, "key")?,
                c.tensor(2, "value")?,
                c.opt_tensor(3, "attn_mask")?,
                c.float_or(4, "dropout_p", 0.0)?,
                c.bool_or(5, "is_causal", false)?,
                c.opt_float(usize::MAX, "scale")?,
                c.bool_or(usize::MAX, "enable_gqa", false)?,
            ),
            c,
        ),
        // ---- interpolation
        "upsample_nearest1d"
        | "upsample_nearest2d"
        | "upsample_nearest3d"
        | "_upsample_nearest_exact1d"
        | "_upsample_nearest_exact2d"
        | "_upsample_nearest_exact3d" => {
            let x = c.tensor(0, if overload == "vec" { "input" } else { "self" })?;
            let exact = name.contains("exact");
            let (size, scales) = if overload == "vec" {
                (
                    c.opt_ints(1, "output_size")?,
                    c.opt_floats(2, "scale_factors")?,
                )
            } else {
                (Some(c.ints(1, "output_size")?), None)
            };
            let mode = if exact {
                upsample::InterpMode::NearestExact
            } else {
                upsample::InterpMode::Nearest
            };
            one(
                upsample::interpolate(x, size.as_deref(), scales.as_deref(), mode, false),
                c,
            )
        }
        "upsample_linear1d"
        | "upsample_bilinear2d"
        | "upsample_trilinear3d"
        | "upsample_bicubic2d" => {
            let x = c.tensor(0, if overload == "vec" { "input" } else { "self" })?;
            let (size, align, scales) = if overload == "vec" {
                (
                    c.opt_ints(1, "output_size")?,
                    c.bool_or(2, "align_corners", false)?,
                    c.opt_floats(3, "scale_factors")?,
                )
            } else {
                (
                    Some(c.ints(1, "output_size")?),
                    c.bool_or(2, "align_corners", false)?,
                    None,
                )
            };
            let mode = if name.contains("bicubic") {
                upsample::InterpMode::Cubic
            } else {
                upsample::InterpMode::Linear
            };
            one(
                upsample::interpolate(x, size.as_deref(), scales.as_deref(), mode, align),
                c,
            )
        }
        // ---- creation
        "arange" => {
            let dt = c
                .opt_dtype(usize::MAX, "dtype")?
                .or(result_dtype(result_types));
            let (start, end, step) = match overload {
                "default" => (Scalar::Int(0), c.scalar(0, "end")?, Scalar::Int(1)),
                "start" => (c.scalar(0, "start")?, c.scalar(1, "end")?, Scalar::Int(1)),
                _ => (
                    c.scalar(0, "start")?,
                    c.scalar(1, "end")?,
                    c.scalar_or(2, "step", Scalar::Int(1))?,
                ),
            };
            one(create::arange(start, end, step, dt), c)
        }
        "full" | "zeros" | "ones" | "empty" | "new_full" | "new_zeros" | "new_ones"
        | "new_empty" => {
            let off = usize::from(name.starts_with("new_"));
            let size = c.ints(off, "size")?;
            let dt = c
                .opt_dtype(usize::MAX, "dtype")?
                .or(result_dtype(result_types));
            let r = match name.trim_start_matches("new_") {
                "full" => create::full(&size, c.scalar(off + 1, "fill_value")?, dt),
                "ones" => create::ones(&size, dt),
                _ => create::zeros(&size, dt),
            };
            one(r, c)
        }
        "full_like" | "zeros_like" | "ones_like" | "empty_like" => {
            let x = self_t()?;
            let dt = c
                .opt_dtype(usize::MAX, "dtype")?
                .or(result_dtype(result_types));
            let t = match name {
                "full_like" => create::full_like(x, c.scalar(1, "fill_value")?, dt),
                "ones_like" => create::ones_like(x, dt),
                _ => create::zeros_like(x, dt),
            };
            Ok(vec![Value::Tensor(t)])
        }
        "eye" => {
            let dt = c
                .opt_dtype(usize::MAX, "dtype")?
                .or(result_dtype(result_types));
            let m = if overload == "m" {
                Some(c.int(1, "m")?)
            } else {
                None
            };
            one(create::eye(c.int(0, "n")?, m, dt), c)
        }
        "linspace" => {
            let dt = c
                .opt_dtype(usize::MAX, "dtype")?
                .or(result_dtype(result_types));
            one(
                create::linspace(
                    c.scalar(0, "start")?,
                    c.scalar(1, "end")?,
                    c.int(2, "steps")?,
                    dt,
                ),
                c,
            )
        }
        // ---- indexing
        "index_select" => one(
            index::index_select(self_t()?, c.int(1, "dim")?, c.tensor(2, "index")?),
            c,
        ),
        "gather" => one(
            index::gather(self_t()?, c.int(1, "dim")?, c.tensor(2, "index")?),
            c,
        ),
        "scatter" => {
            let (x, d, idx) = (self_t()?, c.int(1, "dim")?, c.tensor(2, "index")?);
            match c.get(3, "src") {
                Some(Value::Tensor(src)) => one(index::scatter(x, d, idx, src), c),
                _ => one(index::scatter_value(x, d, idx, c.scalar(3, "value")?), c),
            }
        }
        "scatter_add" => one(
            index::scatter_add(
                self_t()?,
                c.int(1, "dim")?,
                c.tensor(2, "index")?,
                c.tensor(3, "src")?,
            ),
            c,
        ),
        "index" | "_unsafe_index" => {
            let x = self_t()?;
            let idx: Vec<Option<Tensor>> = c
                .opt_tensors(1, "indices")?
                .into_iter()
                .map(|t| t.cloned())
                .collect();
            one(index::index(x, &idx), c)
        }
        "index_put" | "_unsafe_index_put" => {
            let x = self_t()?;
            let idx: Vec<Option<Tensor>> = c
                .opt_tensors(1, "indices")?
                .into_iter()
                .map(|t| t.cloned())
                .collect();
            one(
                index::index_put(
                    x,
                    &idx,
                    c.tensor(2, "values")?,
                    c.bool_or(3, "accumulate", false)?,
                ),
                c,
            )
        }
        "slice_scatter" => one(
            index::slice_scatter(
                self_t()?,
                c.tensor(1, "src")?,
                c.int_or(2, "dim", 0)?,
                c.opt_int(3, "start")?,
                c.opt_int(4, "end")?,
                c.int_or(5, "step", 1)?,
            ),
            c,
        ),
        "select_scatter" => one(
            index::select_scatter(
                self_t()?,
                c.tensor(1, "src")?,
                c.int(2, "dim")?,
                c.int(3, "index")?,
            ),
            c,
        ),
        "embedding" => one(
            index::embedding(c.tensor(0, "weight")?, c.tensor(1, "indices")?),
            c,
        ),
        "one_hot" => one(
            index::one_hot(self_t()?, c.int_or(1, "num_classes", -1)?),
            c,
        ),
        "nonzero" => one(index::nonzero(self_t()?), c),
        "masked_select" => one(index::masked_select(self_t()?, c.tensor(1, "mask")?), c),
        "pad" => {
            let x = self_t()?;
            let mode = c.opt_str(2, "mode")?.unwrap_or("constant");
            let pad = c.ints(1, "pad")?;
            match mode {
                "constant" => {
                    let v = c.opt_scalar(3, "value")?.unwrap_or(Scalar::Int(0));
                    one(shape::constant_pad_nd(x, &pad, v), c)
                }
                "reflect" | "replicate" | "circular" => one(pad_by_index(x, &pad, mode), c),
                other => Err(RunError::Unsupported {
                    node: c.node.to_string(),
                    op: c.op.to_string(),
                    hint: format!(" in mode `{other}`"),
                }),
            }
        }
        _ => Err(RunError::Unsupported {
            node: c.node.to_string(),
            op: c.op.to_string(),
            hint: String::new(),
        }),
    }
}
