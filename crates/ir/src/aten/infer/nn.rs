//! Neural-network operators: convolution, matrix products, normalization, attention, embedding,
//! pooling and resampling. Shape formulas are PyTorch's documented ones.

use super::{broadcast, div_dim, norm_dim, t, Call, Rule, R};
use crate::dim::Dim;
use crate::dtype::DType;
use crate::types::{static_shape, Shape, TensorType, Type};

/// Explicit rules of this family (by `base` or `base.overload`).
pub(crate) const RULES: &[(&str, Rule)] = &[
    ("convolution", convolution),
    ("_convolution", convolution),
    ("conv1d", conv_nd),
    ("conv2d", conv_nd),
    ("conv3d", conv_nd),
    ("conv_transpose1d", conv_transpose_nd),
    ("conv_transpose2d.input", conv_transpose_nd),
    ("conv_transpose3d.input", conv_transpose_nd),
    ("linear", linear),
    ("addmm", addmm),
    ("_addmm_activation", addmm),
    ("mm", mm),
    ("bmm", bmm),
    ("baddbmm", baddbmm),
    ("matmul", matmul),
    ("mv", mv),
    ("addmv", addmv),
    ("dot", dot),
    ("vdot", dot),
    ("outer", outer),
    ("ger", outer),
    ("batch_norm", same_as_input),
    ("instance_norm", same_as_input),
    ("native_batch_norm", native_batch_norm),
    ("_native_batch_norm_legit_no_training", native_batch_norm),
    ("_native_batch_norm_legit", native_batch_norm),
    ("_native_batch_norm_legit.no_stats", native_batch_norm),
    (
        "_native_batch_norm_legit_functional",
        native_batch_norm_functional,
    ),
    ("_batch_norm_with_update", batch_norm_with_update),
    (
        "_batch_norm_with_update_functional",
        batch_norm_with_update_functional,
    ),
    ("_batch_norm_no_update", batch_norm_with_update),
    ("layer_norm", same_as_input),
    ("native_layer_norm", native_layer_norm),
    ("rms_norm", same_as_input),
    ("_fused_rms_norm", fused_rms_norm),
    ("group_norm", same_as_input),
    ("native_group_norm", native_group_norm),
    ("scaled_dot_product_attention", sdpa),
    (
        "_scaled_dot_product_flash_attention_for_cpu",
        sdpa_flash_cpu,
    ),
    ("embedding", embedding),
    ("embedding_bag", embedding_bag),
    ("_embedding_bag", embedding_bag),
    ("_embedding_bag_forward_only", embedding_bag),
    ("max_pool1d", max_pool),
    ("max_pool2d", max_pool),
    ("max_pool3d", max_pool),
    ("max_pool1d_with_indices", max_pool_indices),
    ("max_pool2d_with_indices", max_pool_indices),
    ("max_unpool2d", max_unpool),
    ("max_unpool3d", max_unpool),
    ("max_pool3d_with_indices", max_pool_indices),
    ("avg_pool1d", avg_pool),
    ("avg_pool2d", avg_pool),
    ("avg_pool3d", avg_pool),
    ("adaptive_avg_pool1d", adaptive_pool),
    ("adaptive_avg_pool2d", adaptive_pool),
    ("adaptive_avg_pool3d", adaptive_pool),
    ("_adaptive_avg_pool2d", adaptive_pool),
    ("_adaptive_avg_pool3d", adaptive_pool),
    ("adaptive_max_pool1d", adaptive_max_pool),
    ("adaptive_max_pool2d", adaptive_max_pool),
    ("adaptive_max_pool3d", adaptive_max_pool),
    // `(self, kernel_size, output_size, random_samples)`: the output size is given, as for
    // adaptive pooling (values and i64 indices).
    ("fractional_max_pool2d", adaptive_max_pool),
    ("fractional_max_pool3d", adaptive_max_pool),
    ("upsample_nearest1d", upsample),
    ("upsample_nearest2d", upsample),
    ("upsample_nearest3d", upsample),
    ("_upsample_nearest_exact1d", upsample),
    ("_upsample_nearest_exact2d", upsample),
    ("_upsample_nearest_exact3d", upsample),
    ("upsample_linear1d", upsample),
    ("upsample_bilinear2d", upsample),
    ("_upsample_bilinear2d_aa", upsample),
    ("upsample_bicubic2d", upsample),
    ("_upsample_bicubic2d_aa", upsample),
    ("upsample_trilinear3d", upsample),
    ("pixel_shuffle", pixel_shuffle),
    ("pixel_unshuffle", pixel_unshuffle),
    ("grid_sampler_2d", grid_sampler),
    ("grid_sampler_3d", grid_sampler),
    ("grid_sampler", grid_sampler),
    ("cosine_similarity", cosine_similarity),
    ("_adaptive_avg_pool2d_backward", grad_self),
    ("_adaptive_avg_pool3d_backward", grad_self),
    ("avg_pool2d_backward", grad_self),
    ("avg_pool3d_backward", grad_self),
    ("max_pool2d_with_indices_backward", grad_self),
    ("max_pool3d_with_indices_backward", grad_self),
    ("embedding_dense_backward", embedding_dense_backward),
    ("convolution_backward", convolution_backward),
    ("native_layer_norm_backward", native_layer_norm_backward),
    ("native_group_norm_backward", native_group_norm_backward),
    ("_cdist_forward", cdist),
    ("_pdist_forward", pdist),
    ("cross_entropy_loss", loss),
    ("mse_loss", loss),
    ("l1_loss", loss),
    ("nll_loss", loss),
    ("binary_cross_entropy", loss),
    ("binary_cross_entropy_with_logits", loss),
];

fn c1(v: i64) -> Dim {
    Dim::constant(v)
}

fn same_as_input(c: &Call) -> R {
    Ok(vec![Type::Tensor(c.tensor("input")?)])
}

/// Spatial output size of a convolution or pooling window:
/// `(in + 2p - d*(k-1) - 1) // s + 1`.
fn window_out(input: &Dim, k: i64, s: i64, p: i64, d: i64) -> Result<Dim, String> {
    if s <= 0 {
        return Err(format!("stride must be positive, got {s}"));
    }
    let num = input.add(&c1(2 * p - d * (k - 1) - 1));
    Ok(div_dim(&num, &c1(s)).add(&c1(1)))
}

/// The entry `i` of a per-spatial-dim parameter list (ATen repeats a single value).
fn pick(v: &[i64], i: usize, default: i64) -> i64 {
    match v.len() {
        0 => default,
        1 => v[0],
        _ => v.get(i).copied().unwrap_or(default),
    }
}

#[allow(clippy::too_many_arguments)]
fn conv_shape(
    x: &TensorType,
    w: &TensorType,
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    transposed: bool,
    output_padding: &[i64],
    groups: i64,
) -> Result<Shape, String> {
    let k = w
        .rank()
        .checked_sub(2)
        .ok_or("conv weight needs rank >= 3")?;
    let batched = x.rank() == k + 2;
    if !batched && x.rank() != k + 1 {
        return Err(format!(
            "conv input of rank {} for a weight of rank {}",
            x.rank(),
            w.rank()
        ));
    }
    let off = if batched { 2 } else { 1 };
    let cout = if transposed {
        w.shape[1].scale(groups)
    } else {
        w.shape[0].clone()
    };
    let mut s = Shape::new();
    if batched {
        s.push(x.shape[0].clone());
    }
    s.push(cout);
    for i in 0..k {
        let kk = w.shape[2 + i]
            .as_const()
            .ok_or("conv kernel size must be static")?;
        let (st, p, d) = (
            pick(stride, i, 1),
            pick(padding, i, 0),
            pick(dilation, i, 1),
        );
        let input = &x.shape[off + i];
        s.push(if transposed {
            input
                .sub(&c1(1))
                .scale(st)
                .add(&c1(-2 * p + d * (kk - 1) + pick(output_padding, i, 0) + 1))
        } else {
            window_out(input, kk, st, p, d)?
        });
    }
    Ok(s)
}

fn convolution(c: &Call) -> R {
    let x = c.tensor("input")?;
    let w = c.tensor("weight")?;
    let s = conv_shape(
        &x,
        &w,
        &c.ints("stride")?,
        &c.ints("padding")?,
        &c.ints("dilation")?,
        c.bool_or("transposed", false),
        &c.opt_ints("output_padding")?.unwrap_or_default(),
        c.opt_int("groups")?.unwrap_or(1),
    )?;
    Ok(vec![t(x.dtype, s)])
}

/// `conv1d/2d/3d`, including the `.padding` overloads with `"same"`/`"valid"`.
fn conv_nd(c: &Call) -> R {
    let x = c.tensor("input")?;
    let w = c.tensor("weight")?;
    let stride = c.opt_ints("stride")?.unwrap_or_default();
    let dilation = c.opt_ints("dilation")?.unwrap_or_default();
    let groups = c.opt_int("groups")?.unwrap_or(1);
    if let Some(mode) = c.opt_str("padding") {
        return match mode {
            "valid" => Ok(vec![t(
                x.dtype,
                conv_shape(&x, &w, &stride, &[0], &dilation, false, &[], groups)?,
            )]),
            "same" => {
                // Same padding keeps the spatial size (stride must be 1).
                let s = conv_shape(&x, &w, &[1], &[0], &dilation, false, &[], groups)?;
                let mut out = x.shape.clone();
                let ch = if x.rank() == w.rank() { 1 } else { 0 };
                out[ch] = s[ch].clone();
                Ok(vec![t(x.dtype, out)])
            }
            other => Err(format!("unknown padding mode `{other}`")),
        };
    }
    let padding = c.opt_ints("padding")?.unwrap_or_default();
    Ok(vec![t(
        x.dtype,
        conv_shape(&x, &w, &stride, &padding, &dilation, false, &[], groups)?,
    )])
}

fn conv_transpose_nd(c: &Call) -> R {
    let x = c.tensor("input")?;
    let w = c.tensor("weight")?;
    let s = conv_shape(
        &x,
        &w,
        &c.opt_ints("stride")?.unwrap_or_default(),
        &c.opt_ints("padding")?.unwrap_or_default(),
        &c.opt_ints("dilation")?.unwrap_or_default(),
        true,
        &c.opt_ints("output_padding")?.unwrap_or_default(),
        c.opt_int("groups")?.unwrap_or(1),
    )?;
    Ok(vec![t(x.dtype, s)])
}

fn linear(c: &Call) -> R {
    let x = c.tensor("input")?;
    let w = c.tensor("weight")?;
    let mut s = x.shape.clone();
    let last = s.pop().ok_or("linear of a 0-dim input")?;
    if w.rank() == 2 {
        if let (Some(a), Some(b)) = (last.as_const(), w.shape[1].as_const()) {
            if a != b {
                return Err(format!("linear: input features {a} != weight features {b}"));
            }
        }
        s.push(w.shape[0].clone());
    } else if w.rank() != 1 {
        return Err("linear weight must have rank 1 or 2".into());
    }
    Ok(vec![t(x.dtype, s)])
}

fn mat2(x: &TensorType, name: &str) -> Result<(Dim, Dim), String> {
    if x.rank() != 2 {
        return Err(format!("`{name}` must be a matrix, got rank {}", x.rank()));
    }
    Ok((x.shape[0].clone(), x.shape[1].clone()))
}

fn check_inner(a: &Dim, b: &Dim) -> Result<(), String> {
    match (a.as_const(), b.as_const()) {
        (Some(x), Some(y)) if x != y => Err(format!("matrix inner dims differ: {x} vs {y}")),
        _ => Ok(()),
    }
}

fn mm(c: &Call) -> R {
    let a = c.tensor("self")?;
    let b = c.tensor("mat2")?;
    let (n, k1) = mat2(&a, "self")?;
    let (k2, m) = mat2(&b, "mat2")?;
    check_inner(&k1, &k2)?;
    Ok(vec![t(a.dtype, vec![n, m])])
}

fn addmm(c: &Call) -> R {
    let a = c.tensor("mat1")?;
    let b = c.tensor("mat2")?;
    let (n, k1) = mat2(&a, "mat1")?;
    let (k2, m) = mat2(&b, "mat2")?;
    check_inner(&k1, &k2)?;
    Ok(vec![t(a.dtype, vec![n, m])])
}

fn bmm(c: &Call) -> R {
    let a = c.tensor("self")?;
    let b = c.tensor("mat2")?;
    if a.rank() != 3 || b.rank() != 3 {
        return Err("bmm needs rank-3 tensors".into());
    }
    check_inner(&a.shape[2], &b.shape[1])?;
    Ok(vec![t(
        a.dtype,
        vec![a.shape[0].clone(), a.shape[1].clone(), b.shape[2].clone()],
    )])
}

fn baddbmm(c: &Call) -> R {
    let a = c.tensor("batch1")?;
    let b = c.tensor("batch2")?;
    if a.rank() != 3 || b.rank() != 3 {
        return Err("baddbmm needs rank-3 tensors".into());
    }
    Ok(vec![t(
        a.dtype,
        vec![a.shape[0].clone(), a.shape[1].clone(), b.shape[2].clone()],
    )])
}

/// `torch.matmul`'s rank cases: dot, mv, mm, and batched products with broadcast batch dims.
pub(crate) fn matmul_shape(a: &TensorType, b: &TensorType) -> Result<Shape, String> {
    let (ra, rb) = (a.rank(), b.rank());
    if ra == 0 || rb == 0 {
        return Err("matmul of a 0-dim tensor".into());
    }
    match (ra, rb) {
        (1, 1) => {
            check_inner(&a.shape[0], &b.shape[0])?;
            Ok(Shape::new())
        }
        (2, 1) => {
            check_inner(&a.shape[1], &b.shape[0])?;
            Ok(std::iter::once(a.shape[0].clone()).collect())
        }
        (1, 2) => {
            check_inner(&a.shape[0], &b.shape[0])?;
            Ok(std::iter::once(b.shape[1].clone()).collect())
        }
        _ => {
            // Promote 1-D operands to matrices, multiply, drop the added dims.
            let sa: Shape = if ra == 1 {
                [c1(1), a.shape[0].clone()].into_iter().collect()
            } else {
                a.shape.clone()
            };
            let sb: Shape = if rb == 1 {
                [b.shape[0].clone(), c1(1)].into_iter().collect()
            } else {
                b.shape.clone()
            };
            let (na, nb) = (sa.len(), sb.len());
            check_inner(&sa[na - 1], &sb[nb - 2])?;
            let mut s = broadcast(&[&sa[..na - 2], &sb[..nb - 2]])?;
            if ra > 1 {
                s.push(sa[na - 2].clone());
            }
            if rb > 1 {
                s.push(sb[nb - 1].clone());
            }
            Ok(s)
        }
    }
}

fn matmul(c: &Call) -> R {
    let a = c.tensor("self")?;
    let b = c.tensor("other")?;
    Ok(vec![t(a.dtype, matmul_shape(&a, &b)?)])
}

fn mv(c: &Call) -> R {
    let a = c.tensor("self")?;
    let (n, _) = mat2(&a, "self")?;
    Ok(vec![t(a.dtype, vec![n])])
}

fn addmv(c: &Call) -> R {
    let a = c.tensor("mat")?;
    let (n, _) = mat2(&a, "mat")?;
    Ok(vec![t(a.dtype, vec![n])])
}

fn dot(c: &Call) -> R {
    let a = c.tensor("self")?;
    Ok(vec![t(a.dtype, Shape::new())])
}

fn outer(c: &Call) -> R {
    let a = c.tensor("self")?;
    let b = c.tensor("vec2")?;
    Ok(vec![t(a.dtype, vec![a.numel(), b.numel()])])
}

/// The dtype of normalization statistics (batch/layer norm `mean`, `rstd`): PyTorch computes
/// them in the computation dtype (`f32` for reduced-precision inputs) and, on CPU, casts them
/// back to the input dtype (`if input.device.type == "cpu"` in the decompositions that serve as
/// meta functions).
fn stat_dtype(d: DType) -> DType {
    match d {
        DType::F16 | DType::BF16 if !super::on_cpu() => DType::F32,
        d => d,
    }
}

fn channels(x: &TensorType) -> Dim {
    x.shape.get(1).cloned().unwrap_or_else(|| c1(1))
}

/// `save_mean` / `save_invstd` of batch norm. In training they are per channel. In eval mode the
/// shape depends on the device (PyTorch: "Very annoying inconsistency where CPU and CUDA give
/// different shapes"): CPU returns empty `[0]` tensors, CUDA the running mean and the inverse std
/// per channel.
fn bn_stats(x: &TensorType, training: bool) -> Type {
    let shape = if training || !super::on_cpu() {
        vec![channels(x)]
    } else {
        vec![c1(0)]
    };
    t(stat_dtype(x.dtype), shape)
}

/// Whether a batch-norm overload runs in training mode: its `training` argument, or its name
/// (`_native_batch_norm_legit_no_training`, `_batch_norm_no_update` are eval-only).
fn bn_training(c: &Call) -> bool {
    match c.base() {
        "_native_batch_norm_legit_no_training" | "_batch_norm_no_update" => false,
        "_batch_norm_with_update" | "_batch_norm_with_update_functional" => true,
        _ => c.bool_or("training", true),
    }
}

fn native_batch_norm(c: &Call) -> R {
    let x = c.tensor("input")?;
    let st = bn_stats(&x, bn_training(c));
    Ok(vec![Type::Tensor(x), st.clone(), st])
}

fn native_batch_norm_functional(c: &Call) -> R {
    let x = c.tensor("input")?;
    let st = bn_stats(&x, bn_training(c));
    let rm = Type::Tensor(c.tensor("running_mean")?);
    let rv = Type::Tensor(c.tensor("running_var")?);
    Ok(vec![Type::Tensor(x), st.clone(), st, rm, rv])
}

/// `_batch_norm_with_update` (training) and `_batch_norm_no_update` (eval).
fn batch_norm_with_update(c: &Call) -> R {
    let x = c.tensor("input")?;
    let st = bn_stats(&x, bn_training(c));
    // The fourth result is the cuDNN reserve buffer: empty outside cuDNN.
    Ok(vec![
        Type::Tensor(x),
        st.clone(),
        st,
        t(DType::U8, static_shape(&[0])),
    ])
}

fn batch_norm_with_update_functional(c: &Call) -> R {
    let mut r = batch_norm_with_update(c)?;
    r.push(Type::Tensor(c.tensor("running_mean")?));
    r.push(Type::Tensor(c.tensor("running_var")?));
    Ok(r)
}

/// `native_layer_norm`: `(out, mean, rstd)`; statistics keep the rank with the normalized dims
/// set to 1, in the computation dtype (the input dtype on CPU, see [`stat_dtype`]).
fn native_layer_norm(c: &Call) -> R {
    let x = c.tensor("input")?;
    let n = c.syms("normalized_shape")?.len();
    if n > x.rank() {
        return Err("normalized_shape longer than the input rank".into());
    }
    let axis = x.rank() - n;
    let st: Shape = x
        .shape
        .iter()
        .enumerate()
        .map(|(i, d)| if i < axis { d.clone() } else { c1(1) })
        .collect();
    let sd = stat_dtype(x.dtype);
    Ok(vec![Type::Tensor(x), t(sd, st.clone()), t(sd, st)])
}

fn fused_rms_norm(c: &Call) -> R {
    let x = c.tensor("input")?;
    let n = c.syms("normalized_shape")?.len();
    let axis = x.rank().saturating_sub(n);
    let st: Shape = x
        .shape
        .iter()
        .enumerate()
        .map(|(i, d)| if i < axis { d.clone() } else { c1(1) })
        .collect();
    // The rstd stays in the computation dtype on every device.
    let sd = match x.dtype {
        DType::F16 | DType::BF16 => DType::F32,
        d => d,
    };
    Ok(vec![Type::Tensor(x.clone()), t(sd, st)])
}

/// `native_group_norm`: `(out, mean[N, group], rstd[N, group])` in the input dtype.
fn native_group_norm(c: &Call) -> R {
    let x = c.tensor("input")?;
    let n = c.sym("N")?;
    let g = c.sym("group")?;
    let st = t(x.dtype, vec![n, g]);
    Ok(vec![Type::Tensor(x), st.clone(), st])
}

/// `scaled_dot_product_attention`: `q[..., L, E]`, `v[..., S, Ev]` → `[..., L, Ev]`.
fn sdpa(c: &Call) -> R {
    let q = c.tensor("query")?;
    let k = c.tensor("key")?;
    let v = c.tensor("value")?;
    if q.rank() < 2 || k.rank() < 2 || v.rank() < 2 {
        return Err("attention inputs need rank >= 2".into());
    }
    check_inner(&q.shape[q.rank() - 1], &k.shape[k.rank() - 1])?;
    let mut s = q.shape.clone();
    let last = s.len() - 1;
    s[last] = v.shape[v.rank() - 1].clone();
    Ok(vec![t(q.dtype, s)])
}

fn sdpa_flash_cpu(c: &Call) -> R {
    let out = sdpa(c)?;
    let q = c.tensor("query")?;
    let mut lse = q.shape.clone();
    lse.pop();
    Ok(vec![out[0].clone(), t(DType::F32, lse)])
}

fn embedding(c: &Call) -> R {
    let w = c.tensor("weight")?;
    let i = c.tensor("indices")?;
    if w.rank() != 2 {
        return Err("embedding weight must be a matrix".into());
    }
    let mut s = i.shape.clone();
    s.push(w.shape[1].clone());
    Ok(vec![t(w.dtype, s)])
}

/// The arguments of an embedding-bag call that decide its results.
pub(crate) struct BagSpec<'a> {
    /// `[V, D]` float rows.
    pub weight: &'a TensorType,
    /// `[n]` int32/int64 row numbers.
    pub indices: &'a TensorType,
    /// `[B']` int32/int64 bag starts (`B' = B + 1` with `include_last_offset`).
    pub offsets: &'a TensorType,
    /// 0 sum, 1 mean, 2 max.
    pub mode: i64,
    /// `[n]` weights of the rows (sum mode only).
    pub per_sample_weights: Option<&'a TensorType>,
    /// Whether `offsets` ends with the end of the last bag.
    pub include_last_offset: bool,
    /// The row left out of every bag, or negative for none (already wrapped).
    pub padding_idx: i64,
}

/// The shapes and dtype PyTorch gives the four results (`output`, `offset2bag`, `bag_size`,
/// `max_indices`).
pub(crate) struct BagLayout {
    /// `B`, the number of bags.
    pub bags: Dim,
    /// Length of `offset2bag` (`n`, or 0 where PyTorch's CPU sum path skips it).
    pub offset2bag: Dim,
    /// Length of `bag_size`.
    pub bag_size: Dim,
    /// Shape of `max_indices`.
    pub max_indices: Vec<Dim>,
    /// The dtype of the three auxiliary results.
    pub aux: DType,
}

/// `padding_idx` of `embedding_bag.padding_idx` as its kernel sees it: `None` is -1 (no
/// padding row), a negative index counts from the end of the weight's rows.
pub(crate) fn wrap_padding_idx(p: Option<i64>, rows: &Dim) -> Result<i64, String> {
    let Some(p) = p else { return Ok(-1) };
    match rows.as_const() {
        Some(v) if p < -v || p >= v => Err(format!(
            "padding_idx {p} is out of range for {v} embeddings"
        )),
        Some(v) if p < 0 => Ok(p + v),
        None if p < 0 => Err(format!(
            "padding_idx {p} counts from the end of a symbolic number of rows {rows}"
        )),
        _ => Ok(p),
    }
}

/// PyTorch's meta function of `_embedding_bag` (`forward_only = false`) and
/// `_embedding_bag_forward_only` (`meta_embedding_bag`, `_meta_registrations.py`), with its
/// checks. On the CPU, `offset2bag` is empty on the sum fast path (f32/f16 rows, no padding
/// row), `bag_size` has `B` entries (`B'` for the forward-only op) and `max_indices` is
/// `[B, D]` in max mode, else as long as the `B`-entry `bag_size`; the aux dtype is
/// `offsets`'. Elsewhere (CUDA) they are `[n]`, `[B']` and `[B, D]` or `[0]`, of `indices`'
/// dtype.
pub(crate) fn bag_layout(
    b: &BagSpec<'_>,
    forward_only: bool,
    cpu: bool,
) -> Result<BagLayout, String> {
    let (w, i, o) = (b.weight, b.indices, b.offsets);
    if !w.dtype.is_float() || w.rank() != 2 {
        return Err(format!(
            "embedding_bag: weight must be a float matrix, got {w}"
        ));
    }
    for (name, x) in [("indices", i), ("offsets", o)] {
        if !matches!(x.dtype, DType::I32 | DType::I64) || x.rank() != 1 {
            return Err(format!(
                "embedding_bag: {name} must be a 1-d int32/int64 tensor, got {x}"
            ));
        }
    }
    if !(0..=2).contains(&b.mode) {
        return Err(format!(
            "embedding_bag: mode {} is not 0 (sum), 1 (mean) or 2 (max)",
            b.mode
        ));
    }
    if let Some(p) = b.per_sample_weights {
        if b.mode != 0 {
            return Err("embedding_bag: per_sample_weights only supported with mode='sum'".into());
        }
        if p.rank() != 1 || p.shape[0] != i.shape[0] || p.dtype != w.dtype {
            return Err(format!(
                "embedding_bag: per_sample_weights {p} must be a 1-d {} tensor of one weight \
                 per index ({i})",
                w.dtype
            ));
        }
    }
    let all = o.shape[0].clone();
    let bags = if b.include_last_offset {
        if all.as_const() == Some(0) {
            return Err("embedding_bag: include_last_offset: numBags should be at least 1".into());
        }
        all.add(&Dim::constant(-1))
    } else {
        all.clone()
    };
    let n = i.shape[0].clone();
    let d = w.shape[1].clone();
    let max = b.mode == 2;
    Ok(if cpu {
        let fast_sum = matches!(w.dtype, DType::F32 | DType::F16) && b.padding_idx < 0;
        BagLayout {
            offset2bag: if b.mode != 0 || !fast_sum {
                n
            } else {
                Dim::constant(0)
            },
            bag_size: if forward_only { all } else { bags.clone() },
            max_indices: if max {
                vec![bags.clone(), d]
            } else {
                vec![bags.clone()]
            },
            bags,
            aux: o.dtype,
        }
    } else {
        BagLayout {
            offset2bag: n,
            bag_size: all,
            max_indices: if max {
                vec![bags.clone(), d]
            } else {
                vec![Dim::constant(0)]
            },
            bags,
            aux: i.dtype,
        }
    })
}

/// `embedding_bag(.padding_idx)`, `_embedding_bag`, `_embedding_bag_forward_only`: `[B, D]`
/// bags of the weight's dtype and the three auxiliary results of [`bag_layout`]. The public
/// op runs `_embedding_bag_forward_only` when the weight needs no gradient (the export's
/// usual case) and `_embedding_bag` otherwise; the IR does not say which, so the recorded
/// `bag_size` picks (forward-only unless it has `B` entries where they differ).
fn embedding_bag(c: &Call) -> R {
    let (w, i, o) = (
        c.tensor("weight")?,
        c.tensor("indices")?,
        c.tensor("offsets")?,
    );
    let psw = c.opt_tensor("per_sample_weights")?;
    let rows = w.shape.first().cloned().unwrap_or(Dim::constant(0));
    let padding_idx = match c.base() {
        "embedding_bag" if c.overload() == "padding_idx" => {
            wrap_padding_idx(c.opt_int("padding_idx")?, &rows)?
        }
        "embedding_bag" => -1,
        _ => c.opt_int("padding_idx")?.unwrap_or(-1),
    };
    let spec = BagSpec {
        weight: &w,
        indices: &i,
        offsets: &o,
        mode: c.int("mode")?,
        per_sample_weights: psw.as_ref(),
        include_last_offset: c.bool_or("include_last_offset", false),
        padding_idx,
    };
    let cpu = super::on_cpu();
    let forward_only = match c.base() {
        "_embedding_bag_forward_only" => true,
        "_embedding_bag" => false,
        _ => {
            let grad = bag_layout(&spec, false, cpu)?;
            !matches!(super::recorded_type(2), Some(Type::Tensor(t))
                if t.shape.first() == Some(&grad.bag_size) && t.shape.first() != Some(&o.shape[0]))
        }
    };
    let l = bag_layout(&spec, forward_only, cpu)?;
    Ok(vec![
        t(w.dtype, vec![l.bags, w.shape[1].clone()]),
        t(l.aux, vec![l.offset2bag]),
        t(l.aux, vec![l.bag_size]),
        t(l.aux, l.max_indices),
    ])
}

/// Spatial output of max pooling, with `ceil_mode`: rounds up, but the last window must start
/// inside the input or left padding.
fn pool_out(input: &Dim, k: i64, s: i64, p: i64, d: i64, ceil: bool) -> Result<Dim, String> {
    if !ceil {
        return window_out(input, k, s, p, d);
    }
    let num = input.add(&c1(2 * p - d * (k - 1) - 1 + (s - 1)));
    let out = div_dim(&num, &c1(s)).add(&c1(1));
    if let (Some(o), Some(n)) = (out.as_const(), input.as_const()) {
        if (o - 1) * s >= n + p {
            return Ok(c1(o - 1));
        }
        return Ok(out);
    }
    // Symbolic input: the correction applies only when the last window would start in the
    // right padding, impossible when `s <= d*(k-1) + 1 - p`... keep PyTorch's guard-free case.
    if p == 0 && s <= d * (k - 1) + 1 {
        return Ok(out);
    }
    Err(format!(
        "ceil_mode pooling of symbolic size {input} needs a case split PyTorch guards on"
    ))
}

fn pool_shape(
    x: &TensorType,
    n: usize,
    kernel: &[i64],
    stride: &[i64],
    padding: &[i64],
    dilation: &[i64],
    ceil: bool,
) -> Result<Shape, String> {
    if x.rank() < n + 1 {
        return Err(format!(
            "pooling over {n} dims of a rank-{} tensor",
            x.rank()
        ));
    }
    let off = x.rank() - n;
    let mut s: Shape = x.shape[..off].iter().cloned().collect();
    for i in 0..n {
        let k = pick(kernel, i, 1);
        // An empty stride means "same as the kernel".
        let st = if stride.is_empty() {
            k
        } else {
            pick(stride, i, k)
        };
        s.push(pool_out(
            &x.shape[off + i],
            k,
            st,
            pick(padding, i, 0),
            pick(dilation, i, 1),
            ceil,
        )?);
    }
    Ok(s)
}

fn spatial_dims(c: &Call) -> usize {
    let b = c.base();
    if b.contains("1d") || b.contains("linear1d") {
        1
    } else if b.contains("3d") {
        3
    } else {
        2
    }
}

fn max_pool(c: &Call) -> R {
    let x = c.tensor("self")?;
    let s = pool_shape(
        &x,
        spatial_dims(c),
        &c.ints("kernel_size")?,
        &c.opt_ints("stride")?.unwrap_or_default(),
        &c.opt_ints("padding")?.unwrap_or_default(),
        &c.opt_ints("dilation")?.unwrap_or_default(),
        c.bool_or("ceil_mode", false),
    )?;
    Ok(vec![t(x.dtype, s)])
}

fn max_pool_indices(c: &Call) -> R {
    let out = max_pool(c)?;
    let s = out[0]
        .as_tensor()
        .map(|t| t.shape.clone())
        .unwrap_or_default();
    Ok(vec![out[0].clone(), t(DType::I64, s)])
}

fn avg_pool(c: &Call) -> R {
    let x = c.tensor("self")?;
    let s = pool_shape(
        &x,
        spatial_dims(c),
        &c.ints("kernel_size")?,
        &c.opt_ints("stride")?.unwrap_or_default(),
        &c.opt_ints("padding")?.unwrap_or_default(),
        &[1],
        c.bool_or("ceil_mode", false),
    )?;
    Ok(vec![t(x.dtype, s)])
}

fn adaptive_shape(c: &Call) -> Result<(TensorType, Shape), String> {
    let x = c.tensor("self")?;
    let out = c.syms("output_size")?;
    let n = spatial_dims(c);
    if x.rank() < n + 1 {
        return Err("adaptive pooling input rank too small".into());
    }
    let off = x.rank() - n;
    let mut s: Shape = x.shape[..off].iter().cloned().collect();
    for i in 0..n {
        let o = out
            .get(i)
            .or(out.first())
            .cloned()
            .ok_or("empty output_size")?;
        // `None` entries (encoded as -1 by some callers) keep the input size.
        s.push(if o.as_const() == Some(-1) {
            x.shape[off + i].clone()
        } else {
            o
        });
    }
    Ok((x, s))
}

fn adaptive_pool(c: &Call) -> R {
    let (x, s) = adaptive_shape(c)?;
    Ok(vec![t(x.dtype, s)])
}

fn adaptive_max_pool(c: &Call) -> R {
    let (x, s) = adaptive_shape(c)?;
    Ok(vec![t(x.dtype, s.clone()), t(DType::I64, s)])
}

/// Resampling: `output_size` when given, else `floor(in * scale)` per spatial dim (exact for
/// integral scales on symbolic sizes).
fn upsample(c: &Call) -> R {
    let x = c.tensor(if c.schema.arg_index("input").is_some() {
        "input"
    } else {
        "self"
    })?;
    let n = spatial_dims(c);
    if x.rank() < n {
        return Err("upsample input rank too small".into());
    }
    let off = x.rank() - n;
    let mut s: Shape = x.shape[..off].iter().cloned().collect();
    if let Some(out) = c.opt_syms("output_size")?.filter(|v| !v.is_empty()) {
        for i in 0..n {
            s.push(
                out.get(i)
                    .or(out.first())
                    .cloned()
                    .ok_or("bad output_size")?,
            );
        }
        return Ok(vec![t(x.dtype, s)]);
    }
    let mut scales = c.opt_floats("scale_factors").unwrap_or_default();
    if scales.is_empty() {
        for name in ["scales", "scales_d", "scales_h", "scales_w"] {
            if let Some(f) = c.opt_float(name) {
                scales.push(f);
            }
        }
    }
    if scales.is_empty() {
        return Err("upsample needs output_size or scale_factors".into());
    }
    for i in 0..n {
        let f = scales.get(i).or(scales.first()).copied().unwrap_or(1.0);
        let d = &x.shape[off + i];
        s.push(match d.as_const() {
            Some(v) => c1((v as f64 * f).floor() as i64),
            None if f.fract() == 0.0 => d.scale(f as i64),
            None => return Err(format!("non-integral scale {f} of symbolic size {d}")),
        });
    }
    Ok(vec![t(x.dtype, s)])
}

fn pixel_shuffle(c: &Call) -> R {
    let x = c.tensor("self")?;
    let r = c.int("upscale_factor")?;
    let n = x.rank();
    if n < 3 {
        return Err("pixel_shuffle needs rank >= 3".into());
    }
    let mut s = x.shape.clone();
    s[n - 3] = div_dim(&s[n - 3], &c1(r * r));
    s[n - 2] = s[n - 2].scale(r);
    s[n - 1] = s[n - 1].scale(r);
    Ok(vec![t(x.dtype, s)])
}

fn pixel_unshuffle(c: &Call) -> R {
    let x = c.tensor("self")?;
    let r = c.int("downscale_factor")?;
    let n = x.rank();
    if n < 3 {
        return Err("pixel_unshuffle needs rank >= 3".into());
    }
    let mut s = x.shape.clone();
    s[n - 3] = s[n - 3].scale(r * r);
    s[n - 2] = div_dim(&s[n - 2], &c1(r));
    s[n - 1] = div_dim(&s[n - 1], &c1(r));
    Ok(vec![t(x.dtype, s)])
}

fn grid_sampler(c: &Call) -> R {
    let x = c.tensor("input")?;
    let g = c.tensor("grid")?;
    if x.rank() < 3 || g.rank() != x.rank() {
        return Err("grid_sampler: bad ranks".into());
    }
    let mut s: Shape = [x.shape[0].clone(), x.shape[1].clone()]
        .into_iter()
        .collect();
    s.extend(g.shape[1..g.rank() - 1].iter().cloned());
    Ok(vec![t(x.dtype, s)])
}

fn cosine_similarity(c: &Call) -> R {
    let a = c.tensor("x1")?;
    let b = c.tensor("x2")?;
    let mut s = broadcast(&[&a.shape, &b.shape])?;
    let d = norm_dim(c.opt_int("dim")?.unwrap_or(1), s.len())?;
    // A scalar's dim 0 is the scalar itself: the result stays a scalar.
    if !s.is_empty() {
        s.remove(d);
    }
    Ok(vec![t(a.dtype, s)])
}

/// Losses: `reduction` 0 = none keeps the shape, else a scalar.
fn loss(c: &Call) -> R {
    let x = c.tensor("self")?;
    let red = c.opt_int("reduction")?.unwrap_or(1);
    if red == 0 {
        let mut s = x.shape.clone();
        if c.base().starts_with("nll") || c.base().starts_with("cross_entropy") {
            if s.len() >= 2 {
                s.remove(1);
            } else {
                s.clear();
            }
        }
        Ok(vec![t(x.dtype, s)])
    } else {
        Ok(vec![t(x.dtype, Shape::new())])
    }
}

/// Backward of a pooling op: the gradient has the input's type.
fn grad_self(c: &Call) -> R {
    Ok(vec![Type::Tensor(c.tensor("self")?)])
}

fn embedding_dense_backward(c: &Call) -> R {
    let g = c.tensor("grad_output")?;
    let n = c.sym("num_weights")?;
    let d = g.shape.last().cloned().ok_or("0-dim grad_output")?;
    Ok(vec![t(g.dtype, vec![n, d])])
}

/// The gradients a backward op computes, per `output_mask` (masked ones are `None`).
fn masked(c: &Call, tys: Vec<Type>) -> Result<Vec<Type>, String> {
    let mask: Vec<bool> = match c.arg("output_mask") {
        Some(crate::graph::Arg::List(v)) => v
            .iter()
            .map(|a| !matches!(a, crate::graph::Arg::Bool(false)))
            .collect(),
        _ => vec![true; tys.len()],
    };
    Ok(tys
        .into_iter()
        .zip(mask.into_iter().chain(std::iter::repeat(true)))
        .map(|(t, m)| if m { t } else { Type::None })
        .collect())
}

fn convolution_backward(c: &Call) -> R {
    let x = c.tensor("input")?;
    let w = c.tensor("weight")?;
    let bias = match c.opt_syms("bias_sizes")? {
        Some(b) => t(x.dtype, b),
        None => Type::None,
    };
    masked(c, vec![Type::Tensor(x), Type::Tensor(w), bias])
}

fn native_layer_norm_backward(c: &Call) -> R {
    let x = c.tensor("input")?;
    let w = c
        .opt_tensor("weight")?
        .map(Type::Tensor)
        .unwrap_or(Type::None);
    let b = c
        .opt_tensor("bias")?
        .map(Type::Tensor)
        .unwrap_or(Type::None);
    masked(c, vec![Type::Tensor(x), w, b])
}

fn native_group_norm_backward(c: &Call) -> R {
    let x = c.tensor("input")?;
    let ch = c.sym("C")?;
    let st = t(x.dtype, vec![ch]);
    masked(c, vec![Type::Tensor(x), st.clone(), st])
}

fn cdist(c: &Call) -> R {
    let a = c.tensor("x1")?;
    let b = c.tensor("x2")?;
    if a.rank() < 2 || b.rank() < 2 {
        return Err("cdist needs rank >= 2".into());
    }
    let (ra, rb) = (a.rank(), b.rank());
    let mut s = broadcast(&[&a.shape[..ra - 2], &b.shape[..rb - 2]])?;
    s.push(a.shape[ra - 2].clone());
    s.push(b.shape[rb - 2].clone());
    Ok(vec![t(a.dtype, s)])
}

fn pdist(c: &Call) -> R {
    let x = c.tensor("self")?;
    let n = x.shape.first().cloned().ok_or("pdist needs a matrix")?;
    let pairs = div_dim(&n.mul(&n.sub(&c1(1))), &c1(2));
    Ok(vec![t(x.dtype, vec![pairs])])
}

/// `max_unpool2d` / `max_unpool3d`: `self`'s leading dims followed by `output_size`.
fn max_unpool(c: &Call) -> R {
    let x = c.tensor("self")?;
    let size = c.syms("output_size")?;
    if size.len() > x.rank() {
        return Err(format!(
            "output_size {size:?} has more dims than the input (rank {})",
            x.rank()
        ));
    }
    let mut shape: Vec<Dim> = x.shape[..x.rank() - size.len()].to_vec();
    shape.extend(size);
    Ok(vec![t(x.dtype, shape)])
}
