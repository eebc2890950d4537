//! `scaled_dot_product_attention` (math reference semantics).

use crate::dtype::DType;
use crate::error::{invalid, shape_err, Result};
use crate::kernels::linalg::{float_only, matmul};
use crate::kernels::{elementwise, reduce, shape};
use crate::tensor::{Scalar, Tensor};

/// `aten.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale,
/// enable_gqa)`: `softmax(q @ k^T * scale + mask) @ v` with `q` `[..., L, E]`, `k` `[..., S, E]`,
/// `v` `[..., S, Ev]`. A bool mask marks positions to keep; a float mask is added. `scale`
/// defaults to `1/sqrt(E)`. Computed in f32 (f64 for f64) and rounded to the input dtype. Rows
/// with every position masked come out NaN, like PyTorch's math reference.
#[allow(clippy::too_many_arguments)]
pub fn scaled_dot_product_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    attn_mask: Option<&Tensor>,
    dropout_p: f64,
    is_causal: bool,
    scale: Option<f64>,
    enable_gqa: bool,
) -> Result<Tensor> {
    const OP: &str = "scaled_dot_product_attention";
    let dt = q.dtype();
    float_only(OP, dt)?;
    if k.dtype() != dt || v.dtype() != dt {
        return invalid(OP, "query, key and value must have the same dtype");
    }
    if dropout_p != 0.0 {
        return invalid(
            OP,
            "dropout is not supported by the executor (inference only)",
        );
    }
    if q.ndim() < 2 || k.ndim() < 2 || v.ndim() < 2 {
        return shape_err(OP, "query, key and value must be at least 2-D");
    }
    let ct = dt.compute_float();
    let (mut q2, mut k2, mut v2) = (q.to_dtype(ct), k.to_dtype(ct), v.to_dtype(ct));
    if enable_gqa && q.ndim() >= 3 && k.ndim() >= 3 {
        let (hq, hk) = (q.shape()[q.ndim() - 3], k.shape()[k.ndim() - 3]);
        if hk == 0 || hq % hk != 0 {
            return shape_err(
                OP,
                format!("query heads {hq} not divisible by key heads {hk}"),
            );
        }
        let rep = hq / hk;
        if rep > 1 {
            k2 = repeat_interleave_heads(&k2, rep)?;
            v2 = repeat_interleave_heads(&v2, rep)?;
        }
    }
    let e = *q.shape().last().expect("ndim >= 2");
    let (l, s) = (q.shape()[q.ndim() - 2], k.shape()[k.ndim() - 2]);
    let sc = scale.unwrap_or(1.0 / (e as f64).sqrt());
    // Scale q and k by sqrt(scale) each, like the math reference, for similar rounding.
    let sq = Tensor::from_scalar(Scalar::Float(sc.sqrt()), ct);
    q2 = elementwise::mul(&q2, &sq)?;
    let kt = shape::transpose(&elementwise::mul(&k2, &sq)?, -2, -1)?;
    let mut attn = matmul(&q2, &kt)?;
    if is_causal {
        let keep = shape::tril(&Tensor::ones(&[l, s], DType::Bool), 0)?;
        attn = elementwise::masked_fill(
            &attn,
            &elementwise::logical_not(&keep)?,
            Scalar::Float(f64::NEG_INFINITY),
        )?;
    }
    if let Some(m) = attn_mask {
        attn = if m.dtype() == DType::Bool {
            let b = elementwise::broadcast_to(m, attn.shape())?;
            elementwise::masked_fill(
                &attn,
                &elementwise::logical_not(&b)?,
                Scalar::Float(f64::NEG_INFINITY),
            )?
        } else {
            elementwise::add(&attn, &m.to_dtype(ct), Scalar::Int(1))?
        };
    }
    let p = reduce::softmax(&attn, -1, false)?;
    Ok(matmul(&p, &v2)?.to_dtype(dt))
}

/// Repeat each head `rep` times along dim -3 (`repeat_interleave`).
fn repeat_interleave_heads(t: &Tensor, rep: usize) -> Result<Tensor> {
    let nd = t.ndim();
    let u = shape::unsqueeze(t, (nd - 2) as i64)?;
    let mut sz: Vec<i64> = u.shape().iter().map(|&x| x as i64).collect();
    sz[nd - 2] = rep as i64;
    let e = shape::expand(&u, &sz)?;
    shape::flatten(&e, (nd - 3) as i64, (nd - 2) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: &[f32], s: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), s.to_vec()).unwrap()
    }

    #[test]
    fn sdpa_by_hand() {
        // Equal scores → uniform average of v.
        let q = f(&[0., 0.], &[1, 1, 2]);
        let k = f(&[1., 0., 0., 1.], &[1, 2, 2]);
        let v = f(&[1., 2., 3., 4.], &[1, 2, 2]);
        let o = scaled_dot_product_attention(&q, &k, &v, None, 0.0, false, None, false).unwrap();
        assert_eq!(o.to_f64_vec(), vec![2., 3.]);
        // Causal with L = S = 2: row 0 sees only key 0.
        let q = f(&[1., 1., 1., 1.], &[1, 2, 2]);
        let o = scaled_dot_product_attention(&q, &k, &v, None, 0.0, true, None, false).unwrap();
        assert_eq!(o.to_f64_vec()[..2], [1., 2.]);
        let mask = Tensor::from_vec(vec![false, true], vec![1, 2]).unwrap();
        let o =
            scaled_dot_product_attention(&q, &k, &v, Some(&mask), 0.0, false, None, false).unwrap();
        assert_eq!(o.to_f64_vec(), vec![3., 4., 3., 4.]);
        // GQA: 2 query heads share 1 kv head.
        let q = Tensor::zeros(&[2, 1, 2], DType::F32);
        let o = scaled_dot_product_attention(&q, &k, &v, None, 0.0, false, None, true).unwrap();
        assert_eq!(o.to_f64_vec(), vec![2., 3., 2., 3.]);
    }
}
