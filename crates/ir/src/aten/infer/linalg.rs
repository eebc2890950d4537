//! The LAPACK-backed primitives of `torch.linalg` that core ATen keeps (factorizations,
//! solvers, spectral decompositions). The rules follow PyTorch's meta functions
//! (`torch/_meta_registrations.py` and the `TORCH_META_FUNC`s of `BatchLinearAlgebra.cpp`):
//! real float inputs (f32/f64), pivots and `info` as int32, batch dims broadcast where the op
//! broadcasts. The composites (`linalg_inv`, `linalg_pinv`, norms, ...) infer through their
//! decompositions.

use super::{broadcast, t, Call, Rule, R};
use crate::dim::Dim;
use crate::dtype::DType;
use crate::types::{Shape, TensorType, Type};

/// Explicit rules of this family (by `base` or `base.overload`).
pub(crate) const RULES: &[(&str, Rule)] = &[
    ("linalg_lu_factor_ex.default", lu_factor_ex),
    ("lu_unpack.default", lu_unpack),
    ("linalg_lu_solve.default", lu_solve),
    ("_linalg_det.default", det),
    ("_linalg_slogdet.default", slogdet),
    ("linalg_inv_ex.default", inv_ex),
    ("_linalg_solve_ex.default", solve_ex),
    ("linalg_cholesky_ex.default", cholesky_ex),
    ("cholesky_solve.default", cholesky_solve),
    ("cholesky_inverse.default", square_same),
    ("linalg_solve_triangular.default", solve_triangular),
    ("triangular_solve.default", triangular_solve),
    ("geqrf.default", geqrf),
    ("linalg_householder_product.default", householder_product),
    ("ormqr.default", ormqr),
    ("linalg_qr.default", qr),
    ("linalg_ldl_factor_ex.default", ldl_factor_ex),
    ("linalg_ldl_solve.default", ldl_solve),
    ("_linalg_eigh.default", eigh),
    ("_linalg_svd.default", svd),
    ("linalg_matrix_exp.default", square_same),
];

/// A float matrix argument: at least 2 dims, f32 or f64 (the CPU LAPACK types).
fn matrix(c: &Call, name: &str) -> Result<TensorType, String> {
    let x = c.tensor(name)?;
    if x.rank() < 2 {
        return Err(format!(
            "{}: the input tensor {name} must have at least 2 dimensions, got {}",
            c.base(),
            x.rank()
        ));
    }
    if !matches!(x.dtype, DType::F32 | DType::F64) {
        return Err(format!(
            "{}: expected a float32 or float64 tensor as {name}, got {}",
            c.base(),
            x.dtype
        ));
    }
    Ok(x)
}

/// Whether two dims are known to differ.
fn differ(a: &Dim, b: &Dim) -> bool {
    matches!((a.as_const(), b.as_const()), (Some(x), Some(y)) if x != y)
}

/// A square float matrix argument.
fn square(c: &Call, name: &str) -> Result<TensorType, String> {
    let x = matrix(c, name)?;
    let (m, n) = (&x.shape[x.rank() - 2], &x.shape[x.rank() - 1]);
    if differ(m, n) {
        return Err(format!(
            "{}: {name} must be batches of square matrices, but they are {m} by {n} matrices",
            c.base()
        ));
    }
    Ok(x)
}

fn same_dtype(c: &Call, a: &TensorType, b: &TensorType) -> Result<(), String> {
    if a.dtype != b.dtype {
        return Err(format!(
            "{}: expected both operands to have the same dtype, got {} and {}",
            c.base(),
            a.dtype,
            b.dtype
        ));
    }
    Ok(())
}

/// The batch dims (all but the last two).
fn batch(x: &TensorType) -> Shape {
    x.shape[..x.rank() - 2].iter().cloned().collect()
}

/// `batch` followed by `tail`.
fn with(batch: &[Dim], tail: &[Dim]) -> Shape {
    batch.iter().chain(tail).cloned().collect()
}

/// The last two dims.
fn mn(x: &TensorType) -> (Dim, Dim) {
    (x.shape[x.rank() - 2].clone(), x.shape[x.rank() - 1].clone())
}

fn i32_t(shape: Shape) -> Type {
    t(DType::I32, shape)
}

/// An empty `[0]` tensor (the results LAPACK's modes leave uncomputed).
fn empty(dtype: DType) -> Type {
    t(dtype, vec![Dim::constant(0)])
}

/// `min(m, n)`, simplified when both are known.
fn min(m: &Dim, n: &Dim) -> Dim {
    match (m.as_const(), n.as_const()) {
        (Some(a), Some(b)) => Dim::constant(a.min(b)),
        _ => Dim::min_of([m.clone(), n.clone()]),
    }
}

/// The matrix a right-hand side `b` is solved against must have `n` rows (`left`) or columns.
fn check_rhs(c: &Call, n: &Dim, b: &TensorType, left: bool) -> Result<(), String> {
    let (r, k) = mn(b);
    let inner = if left { &r } else { &k };
    if differ(inner, n) {
        return Err(format!(
            "{}: incompatible shapes of A and B for the equation {} ({n}x{n} and {r}x{k})",
            c.base(),
            if left { "AX = B" } else { "XA = B" }
        ));
    }
    Ok(())
}

fn lu_factor_ex(c: &Call) -> R {
    let a = matrix(c, "A")?;
    let (m, n) = mn(&a);
    let b = batch(&a);
    Ok(vec![
        t(a.dtype, a.shape.clone()),
        i32_t(with(&b, &[min(&m, &n)])),
        i32_t(b),
    ])
}

fn lu_unpack(c: &Call) -> R {
    let lu = matrix(c, "LU_data")?;
    let (m, n) = mn(&lu);
    let k = min(&m, &n);
    let b = batch(&lu);
    let p = if c.bool_or("unpack_pivots", true) {
        let piv = c.tensor("LU_pivots")?;
        if piv.dtype != DType::I32 {
            return Err(format!(
                "lu_unpack: LU_pivots is expected to be an int32 tensor, got {}",
                piv.dtype
            ));
        }
        t(lu.dtype, with(&b, &[m.clone(), m.clone()]))
    } else {
        empty(lu.dtype)
    };
    let (l, u) = if c.bool_or("unpack_data", true) {
        (
            t(lu.dtype, with(&b, &[m, k.clone()])),
            t(lu.dtype, with(&b, &[k, n])),
        )
    } else {
        (empty(lu.dtype), empty(lu.dtype))
    };
    Ok(vec![p, l, u])
}

fn lu_solve(c: &Call) -> R {
    let lu = square(c, "LU")?;
    let rhs = matrix(c, "B")?;
    same_dtype(c, &lu, &rhs)?;
    let piv = c.tensor("pivots")?;
    if piv.dtype != DType::I32 {
        return Err("linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32".into());
    }
    let (n, _) = mn(&lu);
    check_rhs(c, &n, &rhs, c.bool_or("left", true))?;
    let out = broadcast(&[&batch(&rhs), &batch(&lu)])?;
    let (r, k) = mn(&rhs);
    Ok(vec![t(rhs.dtype, with(&out, &[r, k]))])
}

fn det(c: &Call) -> R {
    let a = square(c, "A")?;
    let b = batch(&a);
    let (n, _) = mn(&a);
    Ok(vec![
        t(a.dtype, b.clone()),
        t(a.dtype, a.shape.clone()),
        i32_t(with(&b, &[n])),
    ])
}

fn slogdet(c: &Call) -> R {
    let a = square(c, "A")?;
    let b = batch(&a);
    let (n, _) = mn(&a);
    Ok(vec![
        t(a.dtype, b.clone()),
        t(a.dtype, b.clone()),
        t(a.dtype, a.shape.clone()),
        i32_t(with(&b, &[n])),
    ])
}

fn inv_ex(c: &Call) -> R {
    let a = square(c, "A")?;
    Ok(vec![t(a.dtype, a.shape.clone()), i32_t(batch(&a))])
}

fn solve_ex(c: &Call) -> R {
    let a = square(c, "A")?;
    let rhs = c.tensor("B")?;
    same_dtype(c, &a, &rhs)?;
    let left = c.bool_or("left", true);
    // PyTorch's `linalg_solve_is_vector_rhs`.
    let vector = rhs.rank() == 1
        || (a.rank() - 1 == rhs.rank() && rhs.shape.as_slice() == &a.shape[..a.rank() - 1]);
    if vector && !left {
        return Err(
            "linalg.solve: Vector broadcasting of the left hand side is not supported for left=False"
                .into(),
        );
    }
    let mut b2 = rhs.clone();
    if vector {
        b2.shape.push(Dim::constant(1));
    }
    if b2.rank() < 2 {
        return Err("linalg.solve: B must have at least 2 dimensions".into());
    }
    let (n, _) = mn(&a);
    check_rhs(c, &n, &b2, left)?;
    let out = broadcast(&[&batch(&b2), &batch(&a)])?;
    let (r, k) = mn(&b2);
    let mut shape = with(&out, &[r, k]);
    if vector {
        shape.pop();
    }
    let ab = batch(&a);
    Ok(vec![
        t(a.dtype, shape),
        t(a.dtype, a.shape.clone()),
        i32_t(with(&ab, &[n])),
        i32_t(ab),
    ])
}

fn cholesky_ex(c: &Call) -> R {
    let a = square(c, "self")?;
    Ok(vec![t(a.dtype, a.shape.clone()), i32_t(batch(&a))])
}

fn square_same(c: &Call) -> R {
    let a = square(c, "self")?;
    Ok(vec![t(a.dtype, a.shape)])
}

fn cholesky_solve(c: &Call) -> R {
    let rhs = matrix(c, "self")?;
    let f = square(c, "input2")?;
    same_dtype(c, &rhs, &f)?;
    let (n, _) = mn(&f);
    check_rhs(c, &n, &rhs, true)?;
    let out = broadcast(&[&batch(&rhs), &batch(&f)])?;
    let (r, k) = mn(&rhs);
    Ok(vec![t(rhs.dtype, with(&out, &[r, k]))])
}

fn solve_triangular(c: &Call) -> R {
    let a = square(c, "self")?;
    let rhs = matrix(c, "B")?;
    same_dtype(c, &a, &rhs)?;
    let (n, _) = mn(&a);
    check_rhs(c, &n, &rhs, c.bool_or("left", true))?;
    let out = broadcast(&[&batch(&rhs), &batch(&a)])?;
    let (r, k) = mn(&rhs);
    Ok(vec![t(rhs.dtype, with(&out, &[r, k]))])
}

fn triangular_solve(c: &Call) -> R {
    let rhs = matrix(c, "self")?;
    let a = square(c, "A")?;
    same_dtype(c, &a, &rhs)?;
    let (n, _) = mn(&a);
    check_rhs(c, &n, &rhs, true)?;
    let out = broadcast(&[&batch(&rhs), &batch(&a)])?;
    let (r, k) = mn(&rhs);
    Ok(vec![
        t(rhs.dtype, with(&out, &[r, k])),
        t(a.dtype, with(&out, &[n.clone(), n])),
    ])
}

fn geqrf(c: &Call) -> R {
    let a = matrix(c, "self")?;
    let (m, n) = mn(&a);
    Ok(vec![
        t(a.dtype, a.shape.clone()),
        t(a.dtype, with(&batch(&a), &[min(&m, &n)])),
    ])
}

/// `tau` of a product of reflectors: one dim less than `input`, the same batch dims and dtype.
fn check_tau(c: &Call, input: &TensorType, tau: &TensorType) -> Result<(), String> {
    if tau.rank() + 1 != input.rank() {
        return Err(format!(
            "{}: expected tau to have one dimension less than input, but got tau.ndim equal to {} and input.ndim is equal to {}",
            c.base(),
            tau.rank(),
            input.rank()
        ));
    }
    same_dtype(c, input, tau)
}

fn householder_product(c: &Call) -> R {
    let a = matrix(c, "input")?;
    let tau = c.tensor("tau")?;
    check_tau(c, &a, &tau)?;
    Ok(vec![t(a.dtype, a.shape)])
}

fn ormqr(c: &Call) -> R {
    let a = matrix(c, "self")?;
    let tau = c.tensor("input2")?;
    check_tau(c, &a, &tau)?;
    let other = matrix(c, "input3")?;
    same_dtype(c, &a, &other)?;
    if other.rank() != a.rank() {
        return Err(format!(
            "ormqr: expected other to have the same number of dimensions as input, but got other.ndim equal to {} and input.ndim is equal to {}",
            other.rank(),
            a.rank()
        ));
    }
    Ok(vec![t(other.dtype, other.shape)])
}

fn qr(c: &Call) -> R {
    let a = matrix(c, "A")?;
    let (m, n) = mn(&a);
    let k = min(&m, &n);
    let b = batch(&a);
    let mode = c.opt_str("mode").unwrap_or("reduced");
    let (q, r_rows) = match mode {
        "reduced" => (t(a.dtype, with(&b, &[m, k.clone()])), k),
        "complete" => (t(a.dtype, with(&b, &[m.clone(), m.clone()])), m),
        "r" => (empty(a.dtype), k),
        _ => {
            return Err(format!(
                "qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'"
            ))
        }
    };
    Ok(vec![q, t(a.dtype, with(&b, &[r_rows, n]))])
}

fn ldl_factor_ex(c: &Call) -> R {
    let a = square(c, "self")?;
    let (n, _) = mn(&a);
    let b = batch(&a);
    Ok(vec![
        t(a.dtype, a.shape.clone()),
        i32_t(with(&b, &[n])),
        i32_t(b),
    ])
}

fn ldl_solve(c: &Call) -> R {
    let ld = square(c, "LD")?;
    let rhs = matrix(c, "B")?;
    same_dtype(c, &ld, &rhs)?;
    let piv = c.tensor("pivots")?;
    if !piv.dtype.is_integral() {
        return Err(format!(
            "torch.linalg.ldl_solve: Expected pivots to be integers. Got {}",
            piv.dtype
        ));
    }
    let (n, _) = mn(&ld);
    check_rhs(c, &n, &rhs, true)?;
    let out = broadcast(&[&batch(&rhs), &batch(&ld)])?;
    let (r, k) = mn(&rhs);
    Ok(vec![t(rhs.dtype, with(&out, &[r, k]))])
}

fn eigh(c: &Call) -> R {
    let a = square(c, "A")?;
    let uplo = c.opt_str("UPLO").unwrap_or("L");
    if !matches!(uplo, "L" | "U" | "l" | "u") {
        return Err(format!(
            "Expected UPLO argument to be 'L' or 'U', but got {uplo}"
        ));
    }
    let (n, _) = mn(&a);
    let vecs = if c.bool_or("compute_v", true) {
        t(a.dtype, a.shape.clone())
    } else {
        empty(a.dtype)
    };
    Ok(vec![t(a.dtype, with(&batch(&a), &[n])), vecs])
}

fn svd(c: &Call) -> R {
    let a = matrix(c, "A")?;
    let (m, n) = mn(&a);
    let k = min(&m, &n);
    let b = batch(&a);
    let s = t(a.dtype, with(&b, std::slice::from_ref(&k)));
    if !c.bool_or("compute_uv", true) {
        return Ok(vec![empty(a.dtype), s, empty(a.dtype)]);
    }
    let full = c.bool_or("full_matrices", false);
    let (uc, vr) = if full {
        (m.clone(), n.clone())
    } else {
        (k.clone(), k)
    };
    Ok(vec![
        t(a.dtype, with(&b, &[m, uc])),
        s,
        t(a.dtype, with(&b, &[vr, n])),
    ])
}
