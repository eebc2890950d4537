//! Matrix products: `mm`, `bmm`, `matmul`, `addmm`, `linear`, `dot`, `mv`, `baddbmm`.
//!
//! Float products go through `matrixmultiply`'s packed GEMM with arbitrary strides (so transposes
//! cost nothing); f16/bf16 are upcast to f32 and rounded once at the end, like PyTorch CPU.
//! Large products are split across rayon threads by batch or by row blocks. Integer products use
//! a plain loop (they are rare and PyTorch CPU supports them).

use crate::dtype::{DType, Real};
use crate::error::{dtype_err, invalid, shape_err, Result};
use crate::kernels::elementwise::broadcast_to;
use crate::tensor::{broadcast_shapes, numel, Tensor};
use crate::with_real;
use rayon::prelude::*;

/// A float type with a GEMM kernel.
pub(crate) trait Gemm: Real {
    /// `c = alpha * a @ b + beta * c` with element strides; `a` is m×k, `b` k×n, `c` m×n.
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: &[Self],
        rsa: isize,
        csa: isize,
        b: &[Self],
        rsb: isize,
        csb: isize,
        beta: Self,
        c: &mut [Self],
        rsc: isize,
        csc: isize,
    );
}

/// Largest element offset a strided m×n matrix can touch (for bounds checks).
fn extent(m: usize, n: usize, rs: isize, cs: isize) -> isize {
    if m == 0 || n == 0 {
        0
    } else {
        (m as isize - 1) * rs + (n as isize - 1) * cs
    }
}

macro_rules! impl_gemm {
    ($t:ty, $f:path) => {
        impl Gemm for $t {
            fn gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: &[Self],
                rsa: isize,
                csa: isize,
                b: &[Self],
                rsb: isize,
                csb: isize,
                beta: Self,
                c: &mut [Self],
                rsc: isize,
                csc: isize,
            ) {
                if m == 0 || n == 0 {
                    return;
                }
                // The unsafe call trusts the strides, so check every access range here.
                assert!(
                    k == 0
                        || (extent(m, k, rsa, csa) < a.len() as isize
                            && extent(k, n, rsb, csb) < b.len() as isize)
                );
                assert!(extent(m, n, rsc, csc) < c.len() as isize);
                assert!(rsa >= 0 && csa >= 0 && rsb >= 0 && csb >= 0 && rsc >= 0 && csc >= 0);
                // Few rows, or few columns (c^T = b^T a^T): no packing.
                if small_m_gemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
                    || small_m_gemm(n, k, m, alpha, b, csb, rsb, a, csa, rsa, beta, c, csc, rsc)
                {
                    return;
                }
                if use_faer_gemm(k, n) {
                    // SAFETY: as below. faer's convention is `dst = alpha * dst + beta * lhs
                    // @ rhs` with (column, row) strides; `read_dst == false` ignores `c` as
                    // matrixmultiply does for `beta == 0`.
                    unsafe {
                        gemm::gemm(
                            m,
                            n,
                            k,
                            c.as_mut_ptr(),
                            csc,
                            rsc,
                            beta != 0.0,
                            a.as_ptr(),
                            csa,
                            rsa,
                            b.as_ptr(),
                            csb,
                            rsb,
                            beta,
                            alpha,
                            false,
                            false,
                            false,
                            gemm::Parallelism::None,
                        );
                    }
                    return;
                }
                // SAFETY: all offsets addressed by (m, k, n, strides) were checked to lie inside
                // the slices above; `c` is uniquely borrowed.
                unsafe {
                    $f(
                        m,
                        k,
                        n,
                        alpha,
                        a.as_ptr(),
                        rsa,
                        csa,
                        b.as_ptr(),
                        rsb,
                        csb,
                        beta,
                        c.as_mut_ptr(),
                        rsc,
                        csc,
                    );
                }
            }
        }
    };
}
impl_gemm!(f32, matrixmultiply::sgemm);
impl_gemm!(f64, matrixmultiply::dgemm);

/// Whether a `k`-deep product with `n` columns goes to faer's `gemm` rather than
/// `matrixmultiply`. Measured on the convolution GEMMs of the conv-bound models
/// (`benches/conv_gemm.rs`, one thread, AVX-512 machine): `gemm` takes 0.41–0.5× the time
/// when `n` is small (9–16 output positions, where `matrixmultiply`'s packing of the whole
/// weight operand on every call costs about as much as the product), 0.7–0.95× at `n`
/// 49–256, but 1.1–1.45× when `k` is
/// small and `n` large (the first 3×3 convolution of a network, `k = 27`, `n = 4096`).
fn use_faer_gemm(k: usize, n: usize) -> bool {
    !(n > 512 && k < 256)
}

/// Products with at most this many rows (or columns) skip `matrixmultiply`, whose packing of the
/// large operand costs about as much as the product itself when `m` (`n`) is tiny: batch-1
/// `linear`, GEMV-like `addmm`, 1×1 convolutions on 1×1 maps (squeeze-excitation).
const SMALL_M: usize = 4;

/// `c = alpha * a @ b + beta * c` for `m <= SMALL_M` without packing, when `b` has unit row or
/// column stride; `false` (nothing done) otherwise. `beta == 0`
/// ignores `c`, like `matrixmultiply`. Strides were bounds-checked by the caller.
#[allow(clippy::too_many_arguments)]
fn small_m_gemm<F: Real>(
    m: usize,
    k: usize,
    n: usize,
    alpha: F,
    a: &[F],
    rsa: isize,
    csa: isize,
    b: &[F],
    rsb: isize,
    csb: isize,
    beta: F,
    c: &mut [F],
    rsc: isize,
    csc: isize,
) -> bool {
    if m > SMALL_M || k == 0 || (csb != 1 && rsb != 1) {
        return false;
    }
    let (rsa, csa, rsb, csb, rsc, csc) = (
        rsa as usize,
        csa as usize,
        rsb as usize,
        csb as usize,
        rsc as usize,
        csc as usize,
    );
    // Rows of `a`, contiguous.
    let mut arows = vec![F::zero(); m * k];
    for i in 0..m {
        for (kk, v) in arows[i * k..(i + 1) * k].iter_mut().enumerate() {
            *v = a[i * rsa + kk * csa];
        }
    }
    let mut acc = vec![F::zero(); m * n];
    if csb == 1 {
        // Rows of `b` are contiguous: acc[i, :] += a[i, kk] * b[kk, :], `b` streamed once.
        for kk in 0..k {
            let brow = &b[kk * rsb..kk * rsb + n];
            for i in 0..m {
                axpy(arows[i * k + kk], brow, &mut acc[i * n..(i + 1) * n]);
            }
        }
    } else {
        // Columns of `b` are contiguous (`b` is a transposed row-major matrix): dot products.
        for j in 0..n {
            let bcol = &b[j * csb..j * csb + k];
            for i in 0..m {
                acc[i * n + j] = dot_slices(&arows[i * k..(i + 1) * k], bcol);
            }
        }
    }
    for i in 0..m {
        for (j, &v) in acc[i * n..(i + 1) * n].iter().enumerate() {
            let o = &mut c[i * rsc + j * csc];
            *o = if beta == F::zero() {
                alpha * v
            } else {
                alpha * v + beta * *o
            };
        }
    }
    true
}

/// `y += a * x`.
#[inline]
pub(crate) fn axpy<F: Real>(a: F, x: &[F], y: &mut [F]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o += a * v;
    }
}

/// Dot product with 8 independent partial sums (so it vectorizes).
#[inline]
pub(crate) fn dot_slices<F: Real>(x: &[F], y: &[F]) -> F {
    let mut acc = [F::zero(); 8];
    let xc = x.chunks_exact(8);
    let yc = y.chunks_exact(8);
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for l in 0..8 {
            acc[l] += a[l] * b[l];
        }
    }
    let mut s = F::zero();
    for (&a, &b) in xr.iter().zip(yr) {
        s += a * b;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + s
}

/// A strided matrix operand: data, row stride, column stride, batch stride (0 = broadcast).
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a, F> {
    pub data: &'a [F],
    pub rs: isize,
    pub cs: isize,
    pub bs: usize,
}

/// `c[b] = alpha * a[b] @ b[b] + beta * c[b]` for `batch` contiguous m×n outputs, threaded over
/// batches, or over row blocks for a single large product.
#[allow(clippy::too_many_arguments)]
pub(crate) fn batched_gemm<F: Gemm>(
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    alpha: F,
    a: Mat<F>,
    b: Mat<F>,
    beta: F,
    c: &mut [F],
) {
    let mn = m * n;
    if mn == 0 {
        return;
    }
    let work = batch * m * n * k.max(1);
    let run = |bi: usize, c: &mut [F]| {
        F::gemm(
            m,
            k,
            n,
            alpha,
            &a.data[bi * a.bs..],
            a.rs,
            a.cs,
            &b.data[bi * b.bs..],
            b.rs,
            b.cs,
            beta,
            c,
            n as isize,
            1,
        );
    };
    if work < 1 << 18 || rayon::current_num_threads() == 1 {
        c.chunks_mut(mn).enumerate().for_each(|(bi, c)| run(bi, c));
    } else if batch > 1 {
        c.par_chunks_mut(mn)
            .enumerate()
            .for_each(|(bi, c)| run(bi, c));
    } else {
        // One big product: split rows into blocks.
        let rows = m.div_ceil(rayon::current_num_threads() * 2).max(32);
        c.par_chunks_mut(rows * n).enumerate().for_each(|(ci, cb)| {
            let r0 = ci * rows;
            let mr = cb.len() / n;
            F::gemm(
                mr,
                k,
                n,
                alpha,
                &a.data[(r0 as isize * a.rs) as usize..],
                a.rs,
                a.cs,
                b.data,
                b.rs,
                b.cs,
                beta,
                cb,
                n as isize,
                1,
            );
        });
    }
}

#[allow(clippy::too_many_arguments)]
/// Integer (and exact) product: `c[b] = a[b] @ b[b]` in i64 with wrapping.
fn batched_int(
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    a: &[i64],
    abs: usize,
    b: &[i64],
    bbs: usize,
) -> Vec<i64> {
    let mut c = vec![0i64; batch * m * n];
    for bi in 0..batch {
        let (a, b) = (&a[bi * abs..], &b[bi * bbs..]);
        let c = &mut c[bi * m * n..];
        for i in 0..m {
            for p in 0..k {
                let x = a[i * k + p];
                for j in 0..n {
                    c[i * n + j] = c[i * n + j].wrapping_add(x.wrapping_mul(b[p * n + j]));
                }
            }
        }
    }
    c
}

fn common_dtype(op: &'static str, a: &Tensor, b: &Tensor) -> Result<DType> {
    if a.dtype() != b.dtype() {
        return invalid(
            op,
            format!(
                "expected both operands to have the same dtype, got {} and {}",
                a.dtype(),
                b.dtype()
            ),
        );
    }
    if a.dtype() == DType::Bool {
        return dtype_err(op, a.dtype());
    }
    Ok(a.dtype())
}

/// Batched product of contiguous `[batch?, m, k]` × `[batch?, k, n]` operands where a batch
/// stride of 0 broadcasts. Result `[batch, m, n]` flattened, in `dt`.
#[allow(clippy::too_many_arguments)]
fn bmm_core(
    dt: DType,
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    a: &Tensor,
    abs: usize,
    b: &Tensor,
    bbs: usize,
) -> Result<Tensor> {
    if dt.is_float() {
        with_real!(dt, F => {
            let (af, bf) = (a.to_dtype(F::DTYPE), b.to_dtype(F::DTYPE));
            let mut c = vec![F::zero(); batch * m * n];
            batched_gemm(batch, m, k, n, F::one(),
                Mat { data: af.as_slice::<F>()?, rs: k as isize, cs: 1, bs: abs },
                Mat { data: bf.as_slice::<F>()?, rs: n as isize, cs: 1, bs: bbs },
                F::zero(), &mut c);
            Ok(Tensor::from_parts(c, vec![batch, m, n]).to_dtype(dt))
        })
    } else {
        let c = batched_int(batch, m, k, n, &a.to_i64_vec(), abs, &b.to_i64_vec(), bbs);
        Ok(Tensor::from_parts(c, vec![batch, m, n]).to_dtype(dt))
    }
}

/// `aten.mm`.
pub fn mm(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = common_dtype("mm", a, b)?;
    if a.ndim() != 2 || b.ndim() != 2 {
        return invalid("mm", "both arguments must be 2-D");
    }
    let (m, k, k2, n) = (a.shape()[0], a.shape()[1], b.shape()[0], b.shape()[1]);
    if k != k2 {
        return shape_err(
            "mm",
            format!("mat1 and mat2 shapes cannot be multiplied ({m}x{k} and {k2}x{n})"),
        );
    }
    bmm_core(dt, 1, m, k, n, a, 0, b, 0)?.with_shape(vec![m, n])
}

/// `aten.bmm`.
pub fn bmm(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = common_dtype("bmm", a, b)?;
    if a.ndim() != 3 || b.ndim() != 3 {
        return invalid("bmm", "both arguments must be 3-D");
    }
    let (bt, m, k) = (a.shape()[0], a.shape()[1], a.shape()[2]);
    let (bt2, k2, n) = (b.shape()[0], b.shape()[1], b.shape()[2]);
    if bt != bt2 || k != k2 {
        return shape_err(
            "bmm",
            format!("cannot multiply {:?} and {:?}", a.shape(), b.shape()),
        );
    }
    bmm_core(dt, bt, m, k, n, a, m * k, b, k * n)
}

/// `aten.dot` (1-d · 1-d → 0-dim).
pub fn dot(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.ndim() != 1 || b.ndim() != 1 || a.numel() != b.numel() {
        return shape_err("dot", "expects 1-D tensors of the same size");
    }
    let dt = common_dtype("dot", a, b)?;
    bmm_core(dt, 1, 1, a.numel(), 1, a, 0, b, 0)?.with_shape(vec![])
}

/// `aten.mv`.
pub fn mv(a: &Tensor, v: &Tensor) -> Result<Tensor> {
    if a.ndim() != 2 || v.ndim() != 1 || a.shape()[1] != v.numel() {
        return shape_err(
            "mv",
            format!("cannot multiply {:?} and {:?}", a.shape(), v.shape()),
        );
    }
    let dt = common_dtype("mv", a, v)?;
    bmm_core(dt, 1, a.shape()[0], a.shape()[1], 1, a, 0, v, 0)?.with_shape(vec![a.shape()[0]])
}

/// `aten.matmul`: NumPy-style products with broadcast batch dims and the 1-d cases (a 1-d left
/// operand is a row vector, a 1-d right operand a column vector; the added dim is removed).
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = common_dtype("matmul", a, b)?;
    match (a.ndim(), b.ndim()) {
        (0, _) | (_, 0) => return invalid("matmul", "both arguments need at least 1 dimension"),
        (1, 1) => return dot(a, b),
        (2, 1) => return mv(a, b),
        (1, 2) => return mm(&a.with_shape(vec![1, a.numel()])?, b)?.with_shape(vec![b.shape()[1]]),
        (2, 2) => return mm(a, b),
        _ => {}
    }
    let a_vec = a.ndim() == 1;
    let b_vec = b.ndim() == 1;
    let a2 = if a_vec {
        a.with_shape(vec![1, a.numel()])?
    } else {
        a.clone()
    };
    let b2 = if b_vec {
        b.with_shape(vec![b.numel(), 1])?
    } else {
        b.clone()
    };
    let (ra, rb) = (a2.ndim(), b2.ndim());
    let (m, k) = (a2.shape()[ra - 2], a2.shape()[ra - 1]);
    let (k2, n) = (b2.shape()[rb - 2], b2.shape()[rb - 1]);
    if k != k2 {
        return shape_err(
            "matmul",
            format!("cannot multiply {:?} and {:?}", a.shape(), b.shape()),
        );
    }
    let batch = broadcast_shapes("matmul", &a2.shape()[..ra - 2], &b2.shape()[..rb - 2])?;
    let nb = numel(&batch);
    let out = if rb == 2 {
        // [..., m, k] @ [k, n]: fold the batch into rows for one big GEMM.
        let rows = numel(&a2.shape()[..ra - 1]);
        bmm_core(dt, 1, rows, k, n, &a2, 0, &b2, 0)?
    } else {
        let mut ash = batch.clone();
        ash.extend([m, k]);
        let mut bsh = batch.clone();
        bsh.extend([k, n]);
        let ae = if a2.shape()[..ra - 2].iter().product::<usize>() == 1 {
            a2.with_shape(vec![m, k])?
        } else {
            broadcast_to(&a2, &ash)?
        };
        let be = if b2.shape()[..rb - 2].iter().product::<usize>() == 1 {
            b2.with_shape(vec![k, n])?
        } else {
            broadcast_to(&b2, &bsh)?
        };
        let abs = if ae.ndim() == 2 { 0 } else { m * k };
        let bbs = if be.ndim() == 2 { 0 } else { k * n };
        bmm_core(dt, nb, m, k, n, &ae, abs, &be, bbs)?
    };
    let mut shape = batch;
    if !a_vec {
        shape.push(m);
    }
    if !b_vec {
        shape.push(n);
    }
    out.with_shape(shape)
}

/// `aten.addmm(input, m1, m2, beta, alpha)`: `beta * input + alpha * m1 @ m2` (input broadcasts;
/// `beta = 0` ignores it, NaNs included).
pub fn addmm(input: &Tensor, m1: &Tensor, m2: &Tensor, beta: f64, alpha: f64) -> Result<Tensor> {
    let dt = common_dtype("addmm", m1, m2)?;
    if m1.ndim() != 2 || m2.ndim() != 2 || m1.shape()[1] != m2.shape()[0] {
        return shape_err(
            "addmm",
            format!("cannot multiply {:?} and {:?}", m1.shape(), m2.shape()),
        );
    }
    let (m, k, n) = (m1.shape()[0], m1.shape()[1], m2.shape()[1]);
    let inp = broadcast_to(input, &[m, n])?;
    if !dt.is_float() {
        let p = mm(m1, m2)?;
        let (bi, ai) = (beta as i64, alpha as i64);
        let v: Vec<i64> = p
            .to_i64_vec()
            .iter()
            .zip(inp.to_i64_vec())
            .map(|(&x, c)| {
                if bi == 0 {
                    ai.wrapping_mul(x)
                } else {
                    ai.wrapping_mul(x).wrapping_add(bi.wrapping_mul(c))
                }
            })
            .collect();
        return Ok(Tensor::from_parts(v, vec![m, n]).to_dtype(dt));
    }
    with_real!(dt, F => {
        let (af, bf) = (m1.to_dtype(F::DTYPE), m2.to_dtype(F::DTYPE));
        let mut c = if beta == 0.0 { vec![F::zero(); m * n] } else { inp.to_dtype(F::DTYPE).as_slice::<F>()?.to_vec() };
        batched_gemm(1, m, k, n, F::lit(alpha),
            Mat { data: af.as_slice::<F>()?, rs: k as isize, cs: 1, bs: 0 },
            Mat { data: bf.as_slice::<F>()?, rs: n as isize, cs: 1, bs: 0 },
            F::lit(beta), &mut c);
        Ok(Tensor::from_parts(c, vec![m, n]).to_dtype(dt))
    })
}

/// `aten.baddbmm(input, b1, b2, beta, alpha)`.
pub fn baddbmm(input: &Tensor, b1: &Tensor, b2: &Tensor, beta: f64, alpha: f64) -> Result<Tensor> {
    let p = bmm(b1, b2)?;
    let dt = p.dtype();
    let pa = crate::kernels::elementwise::mul(
        &p,
        &Tensor::from_scalar(crate::Scalar::Float(alpha), dt),
    )?;
    if beta == 0.0 {
        return Ok(pa);
    }
    let ib = crate::kernels::elementwise::mul(
        &input.to_dtype(dt),
        &Tensor::from_scalar(crate::Scalar::Float(beta), dt),
    )?;
    crate::kernels::elementwise::add(&pa, &ib, crate::Scalar::Int(1))
}

/// `aten.linear(x, weight, bias)`: `x @ weight.T + bias` with `weight` `[out, in]`; the
/// transpose is free (strided GEMM).
pub fn linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let dt = common_dtype("linear", x, weight)?;
    if weight.ndim() != 2 || x.ndim() == 0 {
        return invalid("linear", "weight must be 2-D and input at least 1-D");
    }
    let (o, i) = (weight.shape()[0], weight.shape()[1]);
    let inf = *x.shape().last().expect("ndim >= 1");
    if inf != i {
        return shape_err(
            "linear",
            format!(
                "input features {inf} do not match weight {:?}",
                weight.shape()
            ),
        );
    }
    let rows = x.numel() / i.max(1);
    let rows = if i == 0 {
        numel(&x.shape()[..x.ndim() - 1])
    } else {
        rows
    };
    let mut shape = x.shape()[..x.ndim() - 1].to_vec();
    shape.push(o);
    let out = if dt.is_float() {
        with_real!(dt, F => {
            let (xf, wf) = (x.to_dtype(F::DTYPE), weight.to_dtype(F::DTYPE));
            let (mut c, beta) = match bias {
                Some(b) => (broadcast_to(&b.to_dtype(F::DTYPE), &[rows, o])?.as_slice::<F>()?.to_vec(), F::one()),
                None => (vec![F::zero(); rows * o], F::zero()),
            };
            batched_gemm(1, rows, i, o, F::one(),
                Mat { data: xf.as_slice::<F>()?, rs: i as isize, cs: 1, bs: 0 },
                Mat { data: wf.as_slice::<F>()?, rs: 1, cs: i as isize, bs: 0 },
                beta, &mut c);
            Tensor::from_parts(c, shape).to_dtype(dt)
        })
    } else {
        let wt = crate::kernels::shape::t(weight)?;
        let p = bmm_core(dt, 1, rows, i, o, x, 0, &wt, 0)?.with_shape(shape)?;
        match bias {
            Some(b) => crate::kernels::elementwise::add(&p, b, crate::Scalar::Int(1))?,
            None => p,
        }
    };
    Ok(out)
}

/// Dispatch helper used by conv: float compute type of `dt` with a GEMM.
pub(crate) fn float_only(op: &'static str, dt: DType) -> Result<()> {
    if dt.is_float() {
        Ok(())
    } else {
        dtype_err(op, dt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: &[f32], s: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), s.to_vec()).unwrap()
    }

    #[test]
    fn products() {
        let a = f(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
        let b = f(&[1., 0., 0., 1., 1., 1.], &[3, 2]);
        assert_eq!(mm(&a, &b).unwrap().to_f64_vec(), vec![4., 5., 10., 11.]);
        assert!(mm(&a, &a).is_err());
        let v = f(&[1., 1., 1.], &[3]);
        assert_eq!(matmul(&a, &v).unwrap().to_f64_vec(), vec![6., 15.]);
        assert_eq!(matmul(&v, &b).unwrap().to_f64_vec(), vec![2., 2.]);
        assert_eq!(matmul(&v, &v).unwrap().to_f64_vec(), vec![3.]);
        let ai = a.to_dtype(DType::I64);
        assert_eq!(
            mm(&ai, &b.to_dtype(DType::I64)).unwrap().to_i64_vec(),
            vec![4, 5, 10, 11]
        );
        let r = addmm(&f(&[10., 20.], &[2]), &a, &b, 1.0, 2.0).unwrap();
        assert_eq!(r.to_f64_vec(), vec![18., 30., 30., 42.]);
        let l = linear(
            &a,
            &f(&[1., 0., 0., 0., 1., 0.], &[2, 3]),
            Some(&f(&[0.5, 0.5], &[2])),
        )
        .unwrap();
        assert_eq!(l.to_f64_vec(), vec![1.5, 2.5, 4.5, 5.5]);
        // Batched broadcast: [2,1,2,3] @ [3,3,2] → [2,3,2,2].
        let x = Tensor::ones(&[2, 1, 2, 3], DType::F32);
        let y = Tensor::ones(&[3, 3, 2], DType::F32);
        let r = matmul(&x, &y).unwrap();
        assert_eq!(r.shape(), &[2, 3, 2, 2]);
        assert!(r.to_f64_vec().iter().all(|&v| v == 3.0));
        let z = matmul(
            &Tensor::zeros(&[2, 0], DType::F32),
            &Tensor::zeros(&[0, 3], DType::F32),
        )
        .unwrap();
        assert_eq!(z.to_f64_vec(), vec![0.; 6]);
    }

    /// `c = alpha * a @ b + beta * c` on small integers (exact in f32), `a` and `b` read
    /// row- or column-major, checked against a naive loop: covers both GEMM backends
    /// ([`use_faer_gemm`]), whose result must not depend on which one ran.
    fn check_gemm(m: usize, k: usize, n: usize, ta: bool, tb: bool, alpha: f32, beta: f32) {
        let val = |i: usize, s: usize| ((i * 7 + s * 13) % 9) as f32 - 4.0;
        let a: Vec<f32> = (0..m * k).map(|i| val(i, 1)).collect();
        let b: Vec<f32> = (0..k * n).map(|i| val(i, 2)).collect();
        // Element (i, j) of an r×c operand stored row-major, or transposed (column-major).
        let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
        let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
        let at = |i: usize, j: usize| a[i * rsa as usize + j * csa as usize];
        let bt = |i: usize, j: usize| b[i * rsb as usize + j * csb as usize];
        let c0: Vec<f32> = (0..m * n)
            .map(|i| if beta == 0.0 { f32::NAN } else { val(i, 3) })
            .collect();
        let mut c = c0.clone();
        f32::gemm(
            m, k, n, alpha, &a, rsa, csa, &b, rsb, csb, beta, &mut c, n as isize, 1,
        );
        for i in 0..m {
            for j in 0..n {
                let dot: f32 = (0..k).map(|p| at(i, p) * bt(p, j)).sum();
                let want = if beta == 0.0 {
                    alpha * dot
                } else {
                    alpha * dot + beta * c0[i * n + j]
                };
                assert_eq!(
                    c[i * n + j],
                    want,
                    "m{m} k{k} n{n} ta{ta} tb{tb} ({i}, {j})"
                );
            }
        }
    }

    #[test]
    fn gemm_backends_match_naive() {
        // faer's gemm (small n), matrixmultiply (n > 512, small k), and the unpacked small-m
        // path; beta == 0 must ignore the NaNs in c.
        for &(m, k, n) in &[
            (9, 27, 600),
            (6, 5, 513),
            (17, 40, 9),
            (33, 7, 64),
            (5, 0, 7),
        ] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                check_gemm(m, k, n, ta, tb, 1.0, 0.0);
                check_gemm(m, k, n, ta, tb, 2.0, -1.0);
            }
        }
        assert!(use_faer_gemm(27, 9) && !use_faer_gemm(27, 600));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(32)
        ))]
        #[test]
        fn gemm_matches_naive(m in 5usize..24, k in 0usize..24, n in 5usize..40, ta: bool, tb: bool, beta_zero: bool) {
            check_gemm(m, k, n, ta, tb, 1.5, if beta_zero { 0.0 } else { 0.5 });
        }
    }
}
