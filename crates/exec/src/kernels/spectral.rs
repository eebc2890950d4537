//! Spectral decompositions and the matrix exponential, batched over the leading dims:
//! `aten._linalg_eigh` (symmetric eigendecomposition), `aten._linalg_svd` and
//! `aten.linalg_matrix_exp`.
//!
//! Eigenvalues and singular values come from Jacobi methods in f64 (cyclic two-sided Jacobi
//! for `eigh`, one-sided Hestenes Jacobi for the SVD), which are accurate to high relative
//! precision, so they agree with LAPACK's `syevd`/`gesdd` to f32 rounding. Eigenvectors and
//! singular vectors are unique only up to sign (and within repeated values, up to rotation);
//! LAPACK's signs come from its Householder reductions and follow no rule a different
//! algorithm could reproduce, so the vectors here are normalized deterministically instead:
//! the entry of largest magnitude of each eigenvector, and of each left singular vector, is
//! positive (the right singular vector follows). Results that depend only on sign-invariant
//! quantities (values, `pinv`, `matrix_rank`, norms, `cond`) match PyTorch; raw vectors may
//! differ from LAPACK's by a sign.

use super::factor::{identity, linalg_dtype, real_tensor, transpose, with_tail, Batch};
use crate::error::{invalid, Result};
use crate::tensor::Tensor;

/// Sweeps before a Jacobi iteration gives up (it converges quadratically: ~10 suffice).
const MAX_SWEEPS: usize = 80;

/// The rotation `(c, s)` that zeroes the off-diagonal entry of the symmetric 2×2 matrix
/// `[[app, apq], [apq, aqq]]` (`t = tan θ` the smaller root).
fn rotation(app: f64, aqq: f64, apq: f64) -> (f64, f64) {
    let theta = (aqq - app) / (2.0 * apq);
    let t = if theta.abs() > 1e150 {
        0.5 / theta
    } else {
        theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt())
    };
    let c = 1.0 / (t * t + 1.0).sqrt();
    (c, t * c)
}

/// Eigenvalues (ascending) and eigenvectors (the columns of a row-major `n × n` matrix) of
/// the symmetric `a`, by cyclic Jacobi rotations.
fn jacobi_eigh(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = identity(n);
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                let (app, aqq) = (a[p * n + p], a[q * n + q]);
                // Negligible next to both diagonal entries: relative accuracy is reached.
                if apq == 0.0 || apq.abs() <= f64::EPSILON * 0.5 * (app * aqq).abs().sqrt() {
                    if apq != 0.0 && apq.abs() <= f64::MIN_POSITIVE {
                        a[p * n + q] = 0.0;
                        a[q * n + p] = 0.0;
                    }
                    continue;
                }
                rotated = true;
                let (c, s) = rotation(app, aqq, apq);
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[i * n + i].total_cmp(&a[j * n + j]));
    let vals = order.iter().map(|&i| a[i * n + i]).collect();
    let mut vecs = vec![0.0; n * n];
    for (dst, &src) in order.iter().enumerate() {
        let mut col: Vec<f64> = (0..n).map(|k| v[k * n + src]).collect();
        normalize_sign(&mut col);
        for k in 0..n {
            vecs[k * n + dst] = col[k];
        }
    }
    (vals, vecs)
}

/// Flips `v` so that its entry of largest magnitude (the first of equals) is positive;
/// returns whether it flipped.
fn normalize_sign(v: &mut [f64]) -> bool {
    let mut best = 0usize;
    for (i, x) in v.iter().enumerate() {
        if x.abs() > v[best].abs() {
            best = i;
        }
    }
    if v.get(best).is_some_and(|&x| x < 0.0) {
        v.iter_mut().for_each(|x| *x = -*x);
        return true;
    }
    false
}

/// PyTorch's SVD refuses non-finite input.
fn finite(op: &'static str, b: &Batch) -> Result<()> {
    if b.data.iter().all(|x| x.is_finite()) {
        return Ok(());
    }
    invalid(
        op,
        "The algorithm failed to converge because the input matrix contained non-finite values.",
    )
}

/// `aten._linalg_eigh(A, UPLO, compute_v)`: `(eigenvalues, eigenvectors)` of the symmetric
/// matrices `A`, read from their lower (`UPLO = "L"`) or upper triangle; eigenvalues ascending,
/// eigenvectors the columns (an empty `[0]` tensor without `compute_v`).
pub fn eigh(a: &Tensor, uplo: &str, compute_v: bool) -> Result<(Tensor, Tensor)> {
    const OP: &str = "linalg.eigh";
    let lower = match uplo {
        "L" | "l" => true,
        "U" | "u" => false,
        _ => {
            return invalid(
                OP,
                format!("Expected UPLO argument to be 'L' or 'U', but got {uplo}"),
            )
        }
    };
    let b = Batch::square(OP, "A", a)?;
    let n = b.rows;
    // Only the chosen triangle is read, as LAPACK does.
    let mut sym = b.clone();
    for i in 0..b.count() {
        let m = &mut sym.data[i * n * n..(i + 1) * n * n];
        for r in 0..n {
            for c in r + 1..n {
                if lower {
                    m[r * n + c] = m[c * n + r];
                } else {
                    m[c * n + r] = m[r * n + c];
                }
            }
        }
    }
    let mut vals = Vec::with_capacity(b.count() * n);
    let mut vecs = Vec::with_capacity(if compute_v { b.data.len() } else { 0 });
    for i in 0..b.count() {
        let m = sym.mat(i);
        // LAPACK returns garbage eigenvalues and NaN eigenvectors for non-finite input
        // (PyTorch raises nothing); NaNs throughout say as much.
        let (w, v) = if m.iter().all(|x| x.is_finite()) {
            jacobi_eigh(m.to_vec(), n)
        } else {
            (vec![f64::NAN; n], vec![f64::NAN; n * n])
        };
        vals.extend(w);
        if compute_v {
            vecs.extend(v);
        }
    }
    let vecs = if compute_v {
        real_tensor(vecs, b.shape(), b.dtype)
    } else {
        real_tensor(vec![], vec![0], b.dtype)
    };
    Ok((real_tensor(vals, with_tail(&b.batch, &[n]), b.dtype), vecs))
}

/// Dot product.
fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

/// Appends to the orthonormal `basis` (vectors of length `d`) unit vectors orthogonal to it,
/// taken from the standard basis in order, until it has `want` vectors.
fn complete_basis(basis: &mut Vec<Vec<f64>>, d: usize, want: usize) {
    let mut e = 0;
    while basis.len() < want && e < d {
        let mut v = vec![0.0; d];
        v[e] = 1.0;
        e += 1;
        // Twice is enough (Kahan's "twice is enough" for Gram-Schmidt).
        for _ in 0..2 {
            for u in basis.iter() {
                let p = dot(u, &v);
                v.iter_mut().zip(u).for_each(|(x, y)| *x -= p * y);
            }
        }
        let norm = dot(&v, &v).sqrt();
        if norm > 0.5 {
            v.iter_mut().for_each(|x| *x /= norm);
            basis.push(v);
        }
    }
}

/// The thin SVD of the `m × n` matrix `a` with `m >= n` by one-sided Jacobi: singular values
/// (descending), `U`'s and `V`'s first `n` columns (as column vectors).
fn jacobi_svd_tall(a: &[f64], m: usize, n: usize) -> (Vec<f64>, Vec<Vec<f64>>, Vec<Vec<f64>>) {
    // Work on columns.
    let mut w: Vec<Vec<f64>> = (0..n)
        .map(|j| (0..m).map(|i| a[i * n + j]).collect())
        .collect();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|j| {
            let mut e = vec![0.0; n];
            e[j] = 1.0;
            e
        })
        .collect();
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let alpha = dot(&w[p], &w[p]);
                let beta = dot(&w[q], &w[q]);
                let gamma = dot(&w[p], &w[q]);
                if gamma == 0.0 || gamma.abs() <= f64::EPSILON * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let (c, s) = rotation(alpha, beta, gamma);
                let (wp, wq) = (w[p].clone(), w[q].clone());
                for i in 0..m {
                    w[p][i] = c * wp[i] - s * wq[i];
                    w[q][i] = s * wp[i] + c * wq[i];
                }
                let (vp, vq) = (v[p].clone(), v[q].clone());
                for i in 0..n {
                    v[p][i] = c * vp[i] - s * vq[i];
                    v[q][i] = s * vp[i] + c * vq[i];
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let norms: Vec<f64> = w.iter().map(|c| dot(c, c).sqrt()).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| norms[j].total_cmp(&norms[i]));
    let s: Vec<f64> = order.iter().map(|&i| norms[i]).collect();
    let smax = s.first().copied().unwrap_or(0.0);
    // U's columns: the normalized columns of W, re-orthogonalized (Jacobi leaves the columns
    // of tiny singular values orthogonal only to working precision relative to the largest);
    // a column too small to give a direction is replaced by a completing vector.
    let mut u: Vec<Vec<f64>> = Vec::with_capacity(n);
    let mut vs: Vec<Vec<f64>> = Vec::with_capacity(n);
    let mut missing = Vec::new();
    for (j, &src) in order.iter().enumerate() {
        let sj = s[j];
        let mut col = w[src].clone();
        let usable = sj > 0.0 && sj > smax * f64::EPSILON * (m as f64);
        if usable {
            col.iter_mut().for_each(|x| *x /= sj);
            for _ in 0..2 {
                for b in u.iter().filter(|c| !c.is_empty()) {
                    let p = dot(b, &col);
                    col.iter_mut().zip(b).for_each(|(x, y)| *x -= p * y);
                }
            }
            let norm = dot(&col, &col).sqrt();
            col.iter_mut().for_each(|x| *x /= norm);
            u.push(col);
        } else {
            missing.push(j);
            u.push(vec![]);
        }
        vs.push(v[src].clone());
    }
    if !missing.is_empty() {
        let mut basis: Vec<Vec<f64>> = u.iter().filter(|c| !c.is_empty()).cloned().collect();
        let have = basis.len();
        complete_basis(&mut basis, m, have + missing.len());
        for (slot, vec) in missing.iter().zip(basis.drain(have..)) {
            u[*slot] = vec;
        }
    }
    for (uj, vj) in u.iter_mut().zip(vs.iter_mut()) {
        if normalize_sign(uj) {
            vj.iter_mut().for_each(|x| *x = -*x);
        }
    }
    (s, u, vs)
}

/// `aten._linalg_svd(A, full_matrices, compute_uv, driver)`: `(U, S, Vh)` with `A = U S Vh`;
/// `S` descending, `U (*, m, m or k)`, `Vh (*, n or k, n)`; without `compute_uv` `U` and `Vh`
/// are empty `[0]` tensors.
pub fn svd(
    a: &Tensor,
    full_matrices: bool,
    compute_uv: bool,
    driver: Option<&str>,
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "linalg.svd";
    if driver.is_some() {
        return invalid(
            OP,
            "keyword argument `driver=` is only supported on CUDA inputs with cuSOLVER backend.",
        );
    }
    let b = Batch::of(OP, "A", a)?;
    linalg_dtype(OP, "A", a)?;
    finite(OP, &b)?;
    let (m, n) = (b.rows, b.cols);
    let k = m.min(n);
    let (ucols, vrows) = if full_matrices { (m, n) } else { (k, k) };
    let mut us = Vec::new();
    let mut ss = Vec::with_capacity(b.count() * k);
    let mut vhs = Vec::new();
    for i in 0..b.count() {
        let mat = b.mat(i);
        // A = U S Vᵀ; for a wide A take the SVD of Aᵀ = V S Uᵀ.
        let (s, mut u, mut v) = if m >= n {
            jacobi_svd_tall(mat, m, n)
        } else {
            let (s, u, v) = jacobi_svd_tall(&transpose(mat, m, n), n, m);
            (s, v, u)
        };
        ss.extend(&s);
        if compute_uv {
            complete_basis(&mut u, m, ucols);
            complete_basis(&mut v, n, vrows);
            for r in 0..m {
                for col in u.iter().take(ucols) {
                    us.push(col[r]);
                }
            }
            for row in v.iter().take(vrows) {
                vhs.extend_from_slice(row);
            }
        }
    }
    if !compute_uv {
        let empty = || real_tensor(vec![], vec![0], b.dtype);
        return Ok((
            empty(),
            real_tensor(ss, with_tail(&b.batch, &[k]), b.dtype),
            empty(),
        ));
    }
    Ok((
        real_tensor(us, with_tail(&b.batch, &[m, ucols]), b.dtype),
        real_tensor(ss, with_tail(&b.batch, &[k]), b.dtype),
        real_tensor(vhs, with_tail(&b.batch, &[vrows, n]), b.dtype),
    ))
}

/// `x · y` for `n × n` row-major matrices.
fn matmul(x: &[f64], y: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let a = x[i * n + k];
            if a == 0.0 {
                continue;
            }
            for j in 0..n {
                out[i * n + j] += a * y[k * n + j];
            }
        }
    }
    out
}

/// `exp(A)` of one `n × n` matrix: scaled so that `‖A / 2^s‖₁ ≤ 1/2`, a Taylor polynomial
/// (truncated when the terms fall below f64 resolution), squared `s` times. A non-finite input
/// gives NaNs, as PyTorch's.
fn expm(a: &[f64], n: usize) -> Vec<f64> {
    let norm1 = (0..n)
        .map(|j| (0..n).map(|i| a[i * n + j].abs()).sum::<f64>())
        .fold(0.0f64, f64::max);
    if !norm1.is_finite() || a.iter().any(|x| x.is_nan()) {
        return vec![f64::NAN; n * n];
    }
    let s = if norm1 > 0.5 {
        (norm1 / 0.5).log2().ceil() as i32
    } else {
        0
    };
    let scale = 0.5f64.powi(s);
    let x: Vec<f64> = a.iter().map(|v| v * scale).collect();
    let mut e = identity(n);
    let mut term = identity(n);
    for k in 1..=30 {
        term = matmul(&term, &x, n);
        let inv = 1.0 / k as f64;
        term.iter_mut().for_each(|t| *t *= inv);
        let mut biggest = 0.0f64;
        for (ei, ti) in e.iter_mut().zip(&term) {
            *ei += ti;
            biggest = biggest.max(ti.abs());
        }
        if biggest <= f64::EPSILON * 1e-3 {
            break;
        }
    }
    for _ in 0..s {
        e = matmul(&e, &e, n);
    }
    e
}

/// `aten.linalg_matrix_exp`: the matrix exponential of square matrices.
pub fn matrix_exp(a: &Tensor) -> Result<Tensor> {
    const OP: &str = "linalg.matrix_exp";
    let b = Batch::square(OP, "A", a)?;
    let n = b.rows;
    let mut out = Vec::with_capacity(b.data.len());
    for i in 0..b.count() {
        out.extend(expm(b.mat(i), n));
    }
    Ok(real_tensor(out, b.shape(), b.dtype))
}
