//! The composites of `torch.linalg` (what the export dialect keeps and core ATen lowers), in
//! terms of the LAPACK-backed primitives the executor implements (`linalg_lu_factor_ex`,
//! `_linalg_solve_ex`, `linalg_inv_ex`, `_linalg_svd`, `_linalg_eigh`, ...) and pointwise ops,
//! written as ATen's `LinearAlgebra.cpp` / `BatchLinearAlgebra.cpp` write them so that rounding
//! and dtypes agree: `linalg_inv`, `linalg_solve`, `linalg_det`, `logdet`, `linalg_slogdet`,
//! `linalg_cholesky`, `linalg_lu`, `linalg_lu_factor`, `lu_solve`, `linalg_eigh`,
//! `linalg_eigvalsh`, `linalg_svd`, `svd`, `linalg_svdvals`, `qr`, `linalg_ldl_factor`,
//! `matrix_exp`, `linalg_matrix_power`, `linalg_vecdot`, `linalg_tensorinv`,
//! `linalg_tensorsolve`, `linalg_pinv` (every overload, `pinverse`), `linalg_matrix_rank`
//! (every overload), `linalg_matrix_norm`, `linalg_norm`, `nuclear_norm` and `linalg_cond`.
//!
//! Operations whose PyTorch counterpart raises on a singular input (`linalg_inv`,
//! `linalg_solve`, `linalg_cholesky`, `linalg_lu_factor`, ...) call the `_ex` primitive with
//! `check_errors = true`, so the executor raises the same error. Tolerances that depend on
//! the matrix size (`pinv`'s and `matrix_rank`'s default `rtol`) need its last two dims
//! static.

use super::{one, Add};
use crate::dtype::DType;
use crate::graph::{Arg, ValueId};
use crate::ops::decomp::{float, int, ints, val};
use crate::ops::DecompCx;
use crate::types::TensorType;

pub(super) fn register(add: &mut Add<'_>) {
    // Aliases and the `_ex` primitives with errors checked.
    add("aten.linalg_cholesky.default", |c| {
        let x = c.tensor("self")?;
        let upper = c.bool("upper")?;
        one(cholesky_ex(c, x, upper, true)?[0])
    });
    add("aten.cholesky.default", |c| {
        let x = c.tensor("self")?;
        let upper = c.bool("upper")?;
        one(cholesky_ex(c, x, upper, true)?[0])
    });
    add("aten.linalg_det.default", |c| {
        let a = c.tensor("A")?;
        one(c.call_kw("aten._linalg_det.default", vec![val(a)], vec![])?[0])
    });
    add("aten.det.default", |c| {
        let a = c.tensor("self")?;
        one(c.call_kw("aten._linalg_det.default", vec![val(a)], vec![])?[0])
    });
    add("aten.linalg_slogdet.default", |c| {
        let a = c.tensor("A")?;
        let r = c.call_kw("aten._linalg_slogdet.default", vec![val(a)], vec![])?;
        Ok(vec![val(r[0]), val(r[1])])
    });
    add("aten.slogdet.default", |c| {
        let a = c.tensor("self")?;
        let r = c.call_kw("aten._linalg_slogdet.default", vec![val(a)], vec![])?;
        Ok(vec![val(r[0]), val(r[1])])
    });
    add("aten.logdet.default", logdet);
    add("aten.linalg_inv.default", |c| {
        let a = c.tensor("A")?;
        one(inv(c, a)?)
    });
    add("aten.inverse.default", |c| {
        let a = c.tensor("self")?;
        one(inv(c, a)?)
    });
    add("aten.linalg_solve.default", |c| {
        let (a, b) = (c.tensor("A")?, c.tensor("B")?);
        let left = c.bool("left")?;
        one(solve_ex(c, a, b, left, true)?[0])
    });
    add("aten.linalg_solve_ex.default", |c| {
        let (a, b) = (c.tensor("A")?, c.tensor("B")?);
        let (left, check) = (c.bool("left")?, c.bool("check_errors")?);
        let r = solve_ex(c, a, b, left, check)?;
        Ok(vec![val(r[0]), val(r[3])])
    });
    add("aten.linalg_lu_factor.default", |c| {
        let a = c.tensor("A")?;
        let pivot = c.bool("pivot")?;
        let r = lu_factor_ex(c, a, pivot, true)?;
        Ok(vec![val(r[0]), val(r[1])])
    });
    add("aten._lu_with_info.default", |c| {
        let a = c.tensor("self")?;
        let (pivot, check) = (c.bool("pivot")?, c.bool("check_errors")?);
        let r = lu_factor_ex(c, a, pivot, check)?;
        Ok(r.into_iter().map(val).collect())
    });
    add("aten.linalg_lu.default", |c| {
        let a = c.tensor("A")?;
        let pivot = c.bool("pivot")?;
        let f = lu_factor_ex(c, a, pivot, false)?;
        let r = c.call_kw(
            "aten.lu_unpack.default",
            vec![val(f[0]), val(f[1]), Arg::Bool(true), Arg::Bool(pivot)],
            vec![],
        )?;
        Ok(r.into_iter().map(val).collect())
    });
    add("aten.lu_solve.default", |c| {
        let (b, lu, piv) = (
            c.tensor("self")?,
            c.tensor("LU_data")?,
            c.tensor("LU_pivots")?,
        );
        one(c.call(
            "aten.linalg_lu_solve.default",
            vec![val(lu), val(piv), val(b)],
        )?)
    });
    add("aten.linalg_ldl_factor.default", |c| {
        let a = c.tensor("self")?;
        let hermitian = c.bool("hermitian")?;
        let r = c.call_kw(
            "aten.linalg_ldl_factor_ex.default",
            vec![val(a)],
            vec![
                kw("hermitian", Arg::Bool(hermitian)),
                kw("check_errors", Arg::Bool(true)),
            ],
        )?;
        Ok(vec![val(r[0]), val(r[1])])
    });
    add("aten.matrix_exp.default", |c| {
        let a = c.tensor("self")?;
        one(c.call("aten.linalg_matrix_exp.default", vec![val(a)])?)
    });
    // Spectral decompositions.
    add("aten.linalg_eigh.default", |c| {
        let a = c.tensor("self")?;
        let uplo = c.str("UPLO")?;
        let r = eigh(c, a, &uplo, true)?;
        Ok(vec![val(r[0]), val(r[1])])
    });
    add("aten.linalg_eigvalsh.default", |c| {
        let a = c.tensor("self")?;
        let uplo = c.str("UPLO")?;
        one(eigh(c, a, &uplo, false)?[0])
    });
    add("aten.linalg_svd.default", |c| {
        let a = c.tensor("A")?;
        let full = c.bool("full_matrices")?;
        let driver = c.arg("driver")?;
        let r = c.call_kw(
            "aten._linalg_svd.default",
            vec![val(a), Arg::Bool(full), Arg::Bool(true)],
            vec![kw("driver", driver)],
        )?;
        Ok(r.into_iter().map(val).collect())
    });
    add("aten.linalg_svdvals.default", |c| {
        let a = c.tensor("A")?;
        let driver = c.arg("driver")?;
        let r = c.call_kw(
            "aten._linalg_svd.default",
            vec![val(a), Arg::Bool(false), Arg::Bool(false)],
            vec![kw("driver", driver)],
        )?;
        one(r[1])
    });
    add("aten.svd.default", svd_legacy);
    add("aten.qr.default", |c| {
        let a = c.tensor("self")?;
        let mode = if c.bool("some")? {
            "reduced"
        } else {
            "complete"
        };
        let r = c.call_kw(
            "aten.linalg_qr.default",
            vec![val(a), Arg::Str(mode.into())],
            vec![],
        )?;
        Ok(vec![val(r[0]), val(r[1])])
    });
    // Products, powers and tensor equations.
    add("aten.linalg_vecdot.default", vecdot);
    add("aten.linalg_matrix_power.default", |c| {
        let (a, n) = (c.tensor("self")?, c.int("n")?);
        one(matrix_power(c, a, n)?)
    });
    add("aten.matrix_power.default", |c| {
        let (a, n) = (c.tensor("self")?, c.int("n")?);
        one(matrix_power(c, a, n)?)
    });
    add("aten.linalg_tensorinv.default", tensorinv);
    add("aten.linalg_tensorsolve.default", tensorsolve);
    // Pseudo-inverse, rank, norms and condition numbers.
    add("aten.linalg_pinv.atol_rtol_tensor", |c| {
        let a = c.tensor("self")?;
        let (atol, rtol) = (c.opt_tensor("atol")?, c.opt_tensor("rtol")?);
        let hermitian = c.bool("hermitian")?;
        let (atol, rtol) = tol_tensors(c, a, atol, rtol)?;
        one(pinv(c, a, atol, rtol, hermitian)?)
    });
    add("aten.linalg_pinv.atol_rtol_float", |c| {
        let a = c.tensor("self")?;
        let (atol, rtol) = (opt_float(c, "atol")?, opt_float(c, "rtol")?);
        let hermitian = c.bool("hermitian")?;
        let (atol, rtol) = tol_floats(c, a, atol, rtol)?;
        one(pinv(c, a, atol, rtol, hermitian)?)
    });
    add("aten.linalg_pinv.default", |c| {
        let a = c.tensor("self")?;
        let rcond = c.float("rcond")?;
        let hermitian = c.bool("hermitian")?;
        let (atol, rtol) = tol_floats(c, a, Some(0.0), Some(rcond))?;
        one(pinv(c, a, atol, rtol, hermitian)?)
    });
    add("aten.linalg_pinv.rcond_tensor", |c| {
        let a = c.tensor("self")?;
        let rcond = c.tensor("rcond")?;
        let hermitian = c.bool("hermitian")?;
        let atol = f64_full(c, 0.0)?;
        one(pinv(c, a, atol, rcond, hermitian)?)
    });
    add("aten.pinverse.default", |c| {
        let a = c.tensor("self")?;
        let rcond = c.float("rcond")?;
        let (atol, rtol) = tol_floats(c, a, Some(0.0), Some(rcond))?;
        one(pinv(c, a, atol, rtol, false)?)
    });
    add("aten.linalg_matrix_rank.atol_rtol_tensor", |c| {
        let a = c.tensor("input")?;
        let (atol, rtol) = (c.opt_tensor("atol")?, c.opt_tensor("rtol")?);
        let hermitian = c.bool("hermitian")?;
        matrix_rank(c, a, |c| tol_tensors(c, a, atol, rtol), hermitian)
    });
    add("aten.linalg_matrix_rank.atol_rtol_float", |c| {
        let a = c.tensor("self")?;
        let (atol, rtol) = (opt_float(c, "atol")?, opt_float(c, "rtol")?);
        let hermitian = c.bool("hermitian")?;
        matrix_rank(c, a, |c| tol_floats(c, a, atol, rtol), hermitian)
    });
    add("aten.linalg_matrix_rank.default", |c| {
        let a = c.tensor("self")?;
        let tol = c.float("tol")?;
        let hermitian = c.bool("hermitian")?;
        matrix_rank(c, a, |c| tol_floats(c, a, Some(tol), Some(0.0)), hermitian)
    });
    add("aten.linalg_matrix_rank.tol_tensor", |c| {
        let a = c.tensor("input")?;
        let tol = c.tensor("tol")?;
        let hermitian = c.bool("hermitian")?;
        matrix_rank(
            c,
            a,
            |c| {
                // `rtol = zeros({}, tol.options())`.
                let dt = c.tensor_type(tol)?.dtype;
                let z = c.call_kw(
                    "aten.full.default",
                    vec![Arg::List(vec![]), float(0.0)],
                    vec![kw("dtype", Arg::DType(dt))],
                )?[0];
                Ok((tol, z))
            },
            hermitian,
        )
    });
    add("aten.linalg_matrix_norm.default", |c| {
        let a = c.tensor("self")?;
        let ord = c.float("ord")?;
        let (dim, keep, dtype) = (c.ints("dim")?, c.bool("keepdim")?, c.arg("dtype")?);
        one(matrix_norm(c, a, Ord::Num(ord), &dim, keep, dtype)?)
    });
    add("aten.linalg_matrix_norm.str_ord", |c| {
        let a = c.tensor("self")?;
        let ord = Ord::from_str(&c.str("ord")?)?;
        let (dim, keep, dtype) = (c.ints("dim")?, c.bool("keepdim")?, c.arg("dtype")?);
        one(matrix_norm(c, a, ord, &dim, keep, dtype)?)
    });
    add("aten.nuclear_norm.default", |c| {
        let a = c.tensor("self")?;
        let keep = c.bool("keepdim")?;
        one(matrix_norm(c, a, Ord::Nuc, &[-2, -1], keep, Arg::None)?)
    });
    add("aten.linalg_norm.default", |c| {
        let ord = match c.arg("ord")? {
            Arg::None => None,
            a => Some(
                a.as_f64()
                    .ok_or_else(|| format!("ord must be a number literal, got {a:?}"))?,
            ),
        };
        norm(c, ord.map(Ord::Num))
    });
    add("aten.linalg_norm.ord_str", |c| {
        let ord = Ord::from_str(&c.str("ord")?)?;
        norm(c, Some(ord))
    });
    add("aten.linalg_cond.default", |c| {
        let a = c.tensor("self")?;
        let p = match c.arg("p")? {
            Arg::None => 2.0,
            a => a
                .as_f64()
                .ok_or_else(|| format!("p must be a number literal, got {a:?}"))?,
        };
        one(cond(c, a, Ord::Num(p))?)
    });
    add("aten.linalg_cond.p_str", |c| {
        let a = c.tensor("self")?;
        let p = Ord::from_str(&c.str("p")?)?;
        one(cond(c, a, p)?)
    });
}

/// A keyword argument.
fn kw(name: &str, a: Arg) -> (String, Arg) {
    (name.to_string(), a)
}

/// An optional float literal argument.
fn opt_float(c: &DecompCx<'_>, name: &str) -> Result<Option<f64>, String> {
    match c.arg(name)? {
        Arg::None => Ok(None),
        _ => c.float(name).map(Some),
    }
}

fn ty(c: &DecompCx<'_>, v: ValueId) -> Result<TensorType, String> {
    c.tensor_type(v).cloned()
}

/// The static size of dim `d` (negative counts from the end) of `v`.
fn static_dim(c: &DecompCx<'_>, v: ValueId, d: i64) -> Result<i64, String> {
    let t = ty(c, v)?;
    let r = t.rank() as i64;
    let i = if d < 0 { d + r } else { d };
    t.shape
        .get(usize::try_from(i).map_err(|_| format!("dim {d} out of range"))?)
        .and_then(|s| s.as_const())
        .ok_or_else(|| format!("dim {d} of {t} must have a static size"))
}

/// Requires a float matrix (or batch of them).
fn float_matrix(c: &DecompCx<'_>, v: ValueId, what: &str) -> Result<TensorType, String> {
    let t = ty(c, v)?;
    if t.rank() < 2 {
        return Err(format!(
            "{what}: The input tensor must have at least 2 dimensions."
        ));
    }
    if !t.dtype.is_float() {
        return Err(format!(
            "{what}: Expected a floating point or complex tensor as input. Got {}",
            t.dtype
        ));
    }
    Ok(t)
}

/// Whether `v` is statically known to have no elements.
fn statically_empty(c: &DecompCx<'_>, v: ValueId) -> Result<bool, String> {
    Ok(ty(c, v)?.shape.iter().any(|d| d.as_const() == Some(0)))
}

/// A 0-dim f64 tensor holding `x` (ATen's tolerance tensors are double).
fn f64_full(c: &mut DecompCx<'_>, x: f64) -> Result<ValueId, String> {
    Ok(c.call_kw(
        "aten.full.default",
        vec![Arg::List(vec![]), float(x)],
        vec![kw("dtype", Arg::DType(DType::F64))],
    )?[0])
}

/// `zeros(shape, dtype)` with literal sizes.
fn zeros(c: &mut DecompCx<'_>, shape: &[i64], dtype: DType) -> Result<ValueId, String> {
    Ok(c.call_kw(
        "aten.zeros.default",
        vec![ints(shape)],
        vec![kw("dtype", Arg::DType(dtype))],
    )?[0])
}

/// The static batch dims of `t` (all but the last two).
fn static_batch(t: &TensorType) -> Result<Vec<i64>, String> {
    t.shape[..t.rank() - 2]
        .iter()
        .map(|d| {
            d.as_const()
                .ok_or_else(|| format!("the batch dims of {t} must be static"))
        })
        .collect()
}

fn cholesky_ex(
    c: &mut DecompCx<'_>,
    x: ValueId,
    upper: bool,
    check: bool,
) -> Result<Vec<ValueId>, String> {
    c.call_kw(
        "aten.linalg_cholesky_ex.default",
        vec![val(x)],
        vec![
            kw("upper", Arg::Bool(upper)),
            kw("check_errors", Arg::Bool(check)),
        ],
    )
}

fn lu_factor_ex(
    c: &mut DecompCx<'_>,
    a: ValueId,
    pivot: bool,
    check: bool,
) -> Result<Vec<ValueId>, String> {
    c.call_kw(
        "aten.linalg_lu_factor_ex.default",
        vec![val(a)],
        vec![
            kw("pivot", Arg::Bool(pivot)),
            kw("check_errors", Arg::Bool(check)),
        ],
    )
}

fn solve_ex(
    c: &mut DecompCx<'_>,
    a: ValueId,
    b: ValueId,
    left: bool,
    check: bool,
) -> Result<Vec<ValueId>, String> {
    c.call_kw(
        "aten._linalg_solve_ex.default",
        vec![val(a), val(b)],
        vec![
            kw("left", Arg::Bool(left)),
            kw("check_errors", Arg::Bool(check)),
        ],
    )
}

/// `linalg_inv`: the inverse, an error for a singular matrix.
fn inv(c: &mut DecompCx<'_>, a: ValueId) -> Result<ValueId, String> {
    Ok(c.call_kw(
        "aten.linalg_inv_ex.default",
        vec![val(a)],
        vec![kw("check_errors", Arg::Bool(true))],
    )?[0])
}

fn eigh(
    c: &mut DecompCx<'_>,
    a: ValueId,
    uplo: &str,
    compute_v: bool,
) -> Result<Vec<ValueId>, String> {
    c.call_kw(
        "aten._linalg_eigh.default",
        vec![val(a), Arg::Str(uplo.into()), Arg::Bool(compute_v)],
        vec![],
    )
}

/// The singular values (`linalg_svdvals`).
fn svdvals(c: &mut DecompCx<'_>, a: ValueId) -> Result<ValueId, String> {
    Ok(c.call_kw(
        "aten._linalg_svd.default",
        vec![val(a), Arg::Bool(false), Arg::Bool(false)],
        vec![],
    )?[1])
}

fn transpose_last(c: &mut DecompCx<'_>, x: ValueId) -> Result<ValueId, String> {
    c.call("aten.transpose.int", vec![val(x), int(-2), int(-1)])
}

/// `logdet`: `where(sign == -1, nan, logabsdet)` from `slogdet`.
fn logdet(c: &mut DecompCx<'_>) -> Result<Vec<crate::graph::Arg>, String> {
    let a = c.tensor("self")?;
    float_matrix(c, a, "logdet")?;
    let r = c.call_kw("aten._linalg_slogdet.default", vec![val(a)], vec![])?;
    let (sign, logabs) = (r[0], r[1]);
    let neg = c.call("aten.eq.Scalar", vec![val(sign), float(-1.0)])?;
    let dt = ty(c, logabs)?.dtype;
    let nan = c.call_kw(
        "aten.scalar_tensor.default",
        vec![float(f64::NAN)],
        vec![kw("dtype", Arg::DType(dt))],
    )?[0];
    one(c.call("aten.where.self", vec![val(neg), val(nan), val(logabs)])?)
}

/// `svd(self, some, compute_uv) -> (U, S, V)`: `linalg_svd` with `V = Vhᵀ`; without
/// `compute_uv`, `U (*, m, m)` and `V (*, n, n)` are zeros.
fn svd_legacy(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let a = c.tensor("self")?;
    let (some, compute_uv) = (c.bool("some")?, c.bool("compute_uv")?);
    let t = float_matrix(c, a, "svd")?;
    if compute_uv {
        let r = c.call_kw(
            "aten._linalg_svd.default",
            vec![val(a), Arg::Bool(!some), Arg::Bool(true)],
            vec![],
        )?;
        let v = transpose_last(c, r[2])?;
        return Ok(vec![val(r[0]), val(r[1]), val(v)]);
    }
    let s = svdvals(c, a)?;
    let batch = static_batch(&t)?;
    let (m, n) = (static_dim(c, a, -2)?, static_dim(c, a, -1)?);
    let mut us = batch.clone();
    us.extend([m, m]);
    let mut vs = batch;
    vs.extend([n, n]);
    let u = zeros(c, &us, t.dtype)?;
    let v = zeros(c, &vs, t.dtype)?;
    Ok(vec![val(u), val(s), val(v)])
}

/// `linalg_vecdot(x, y, dim)`: `sum(x * y, dim)` for real floats.
fn vecdot(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (x, y) = (c.tensor("x")?, c.tensor("y")?);
    let dim = c.int("dim")?;
    let (tx, ty_) = (ty(c, x)?, ty(c, y)?);
    if !tx.dtype.is_float() {
        return Err(format!(
            "linalg.vecdot: Expected a floating point or complex tensor as input. Got {}",
            tx.dtype
        ));
    }
    if tx.dtype != ty_.dtype {
        return Err(format!(
            "linalg.vecdot: Expected x and y to have the same dtype, but found x of type {} and y of type {} instead",
            tx.dtype, ty_.dtype
        ));
    }
    let p = c.call("aten.mul.Tensor", vec![val(x), val(y)])?;
    one(c.call(
        "aten.sum.dim_IntList",
        vec![val(p), ints(&[dim]), Arg::Bool(false)],
    )?)
}

/// `linalg_matrix_power(A, n)` as ATen computes it: the identity for 0, a copy for 1, the
/// inverse for -1, `A·A` and `(A·A)·A` for 2 and 3, else binary powering from the least
/// significant bit (the inverse first for negative `n`).
fn matrix_power(c: &mut DecompCx<'_>, a: ValueId, n: i64) -> Result<ValueId, String> {
    let t = ty(c, a)?;
    if t.rank() < 2 {
        return Err(format!(
            "linalg.matrix_power: The input tensor A must have at least 2 dimensions, got {}",
            t.rank()
        ));
    }
    let mm = |c: &mut DecompCx<'_>, x: ValueId, y: ValueId| {
        c.call("aten.matmul.default", vec![val(x), val(y)])
    };
    match n {
        0 => {
            let k = static_dim(c, a, -1)?;
            let eye = c.call_kw(
                "aten.eye.default",
                vec![int(k)],
                vec![kw("dtype", Arg::DType(t.dtype))],
            )?[0];
            return c.call("aten.copy.default", vec![val(a), val(eye)]);
        }
        1 => return c.call("aten.clone.default", vec![val(a)]),
        -1 => return inv(c, a),
        _ => {}
    }
    let base = if n < 0 { inv(c, a)? } else { a };
    let mut n = n.unsigned_abs();
    if n == 2 {
        return mm(c, base, base);
    }
    if n == 3 {
        let sq = mm(c, base, base)?;
        return mm(c, sq, base);
    }
    let (mut z, mut result): (Option<ValueId>, Option<ValueId>) = (None, None);
    while n > 0 {
        let bit = n % 2;
        n /= 2;
        z = Some(match z {
            Some(z) => mm(c, z, z)?,
            None => base,
        });
        if bit == 1 {
            let zz = z.ok_or("matrix_power: no factor")?;
            result = Some(match result {
                Some(r) => mm(c, r, zz)?,
                None => zz,
            });
        }
    }
    result.ok_or_else(|| "matrix_power: empty product".into())
}

/// The product of static sizes.
fn prod(c: &DecompCx<'_>, v: ValueId, dims: std::ops::Range<usize>) -> Result<i64, String> {
    let t = ty(c, v)?;
    dims.map(|d| {
        t.shape[d]
            .as_const()
            .ok_or_else(|| format!("dim {d} of {t} must have a static size"))
    })
    .product()
}

/// `linalg_tensorinv(self, ind)`: the inverse of `self` reshaped to a square matrix,
/// reshaped to `self.shape[ind:] + self.shape[:ind]`.
fn tensorinv(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let ind = c.int("ind")?;
    let t = ty(c, x)?;
    if ind <= 0 {
        return Err(format!(
            "Expected a strictly positive integer for 'ind', but got {ind}"
        ));
    }
    let ind = (ind as usize).min(t.rank());
    let (front, back) = (prod(c, x, 0..ind)?, prod(c, x, ind..t.rank())?);
    if front != back {
        return Err(format!(
            "Expected self to satisfy the requirement prod(self.shape[ind:]) == prod(self.shape[:ind]), but got {back} != {front}"
        ));
    }
    let sq = c.call("aten.reshape.default", vec![val(x), ints(&[back, back])])?;
    let i = inv(c, sq)?;
    let mut shape = Vec::with_capacity(t.rank());
    for d in (ind..t.rank()).chain(0..ind) {
        shape.push(static_dim(c, x, d as i64)?);
    }
    one(c.call("aten.reshape.default", vec![val(i), ints(&shape)])?)
}

/// `linalg_tensorsolve(self, other, dims)`: `dims` moved to the end, `self` reshaped to a
/// square matrix and solved against the flattened `other`, the result shaped as
/// `self.shape[other.ndim:]`.
fn tensorsolve(c: &mut DecompCx<'_>) -> Result<Vec<Arg>, String> {
    let (x, other) = (c.tensor("self")?, c.tensor("other")?);
    let rank = c.rank(x)?;
    let mut x_ = x;
    if let Arg::List(_) | Arg::Int(_) = c.arg("dims")? {
        let dims: Vec<usize> = c
            .ints("dims")?
            .into_iter()
            .map(|d| {
                let w = if d < 0 { d + rank as i64 } else { d };
                usize::try_from(w)
                    .ok()
                    .filter(|&w| w < rank)
                    .ok_or_else(|| format!("dim {d} out of range for rank {rank}"))
            })
            .collect::<Result<_, _>>()?;
        let mut perm: Vec<i64> = (0..rank)
            .filter(|d| !dims.contains(d))
            .map(|d| d as i64)
            .collect();
        perm.extend(dims.iter().map(|&d| d as i64));
        x_ = c.call("aten.permute.default", vec![val(x), ints(&perm)])?;
    }
    let on = c.rank(other)?;
    if on > rank {
        return Err(format!("other has {on} dims, more than self's {rank}"));
    }
    let result_shape: Vec<i64> = (on..rank)
        .map(|d| static_dim(c, x_, d as i64))
        .collect::<Result<_, _>>()?;
    let p: i64 = result_shape.iter().product();
    let po = prod(c, other, 0..on)?;
    if p != po {
        return Err(format!(
            "Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == prod(self.shape[:other.ndim]), but got {p} != {po}"
        ));
    }
    let sq = c.call("aten.reshape.default", vec![val(x_), ints(&[p, p])])?;
    let flat = c.call("aten.reshape.default", vec![val(other), ints(&[po])])?;
    let r = solve_ex(c, sq, flat, true, true)?[0];
    one(c.call("aten.reshape.default", vec![val(r), ints(&result_shape)])?)
}

/// ATen's `_get_epsilon` of a real dtype.
fn epsilon(dt: DType) -> Result<f64, String> {
    match dt {
        DType::F32 => Ok(f32::EPSILON as f64),
        DType::F64 => Ok(f64::EPSILON),
        d => Err(format!("no LAPACK kernels for {d}")),
    }
}

/// The default relative tolerance `eps · max(m, n)` (static sizes).
fn default_rtol(c: &DecompCx<'_>, a: ValueId) -> Result<f64, String> {
    let t = ty(c, a)?;
    let (m, n) = (static_dim(c, a, -2)?, static_dim(c, a, -1)?);
    Ok(epsilon(t.dtype)? * m.max(n) as f64)
}

/// ATen's `get_atol_rtol` for tensor tolerances: `atol` defaults to 0; `rtol` to
/// `eps · max(m, n)`, or to 0 where a given `atol` is positive.
fn tol_tensors(
    c: &mut DecompCx<'_>,
    a: ValueId,
    atol: Option<ValueId>,
    rtol: Option<ValueId>,
) -> Result<(ValueId, ValueId), String> {
    float_matrix(c, a, "linalg")?;
    let atol_t = match atol {
        Some(v) => v,
        None => f64_full(c, 0.0)?,
    };
    let rtol_t = match rtol {
        Some(v) => v,
        None => {
            let d = default_rtol(c, a)?;
            let def = f64_full(c, d)?;
            match atol {
                None => def,
                Some(at) => {
                    let pos = c.call("aten.gt.Scalar", vec![val(at), int(0)])?;
                    let z = f64_full(c, 0.0)?;
                    c.call("aten.where.self", vec![val(pos), val(z), val(def)])?
                }
            }
        }
    };
    Ok((atol_t, rtol_t))
}

/// ATen's `get_atol_rtol` for float tolerances, as 0-dim f64 tensors.
fn tol_floats(
    c: &mut DecompCx<'_>,
    a: ValueId,
    atol: Option<f64>,
    rtol: Option<f64>,
) -> Result<(ValueId, ValueId), String> {
    float_matrix(c, a, "linalg")?;
    let at = atol.unwrap_or(0.0);
    let rt = match rtol {
        Some(r) => r,
        None if atol.is_some_and(|x| x > 0.0) => 0.0,
        None => default_rtol(c, a)?,
    };
    Ok((f64_full(c, at)?, f64_full(c, rt)?))
}

/// `max(atol.unsqueeze(-1), rtol.unsqueeze(-1) * max_s)`.
fn threshold(
    c: &mut DecompCx<'_>,
    atol: ValueId,
    rtol: ValueId,
    max_s: ValueId,
) -> Result<ValueId, String> {
    let au = c.call("aten.unsqueeze.default", vec![val(atol), int(-1)])?;
    let ru = c.call("aten.unsqueeze.default", vec![val(rtol), int(-1)])?;
    let rel = c.call("aten.mul.Tensor", vec![val(ru), val(max_s)])?;
    c.call("aten.maximum.default", vec![val(au), val(rel)])
}

/// `linalg_pinv(A, atol, rtol, hermitian)`: `V diag(1/s) Uᵀ` over the singular values above
/// `max(atol, rtol · s_max)` (from the SVD, or for `hermitian` from the eigendecomposition
/// with `s = |λ|`).
fn pinv(
    c: &mut DecompCx<'_>,
    a: ValueId,
    atol: ValueId,
    rtol: ValueId,
    hermitian: bool,
) -> Result<ValueId, String> {
    let t = float_matrix(c, a, "linalg.pinv")?;
    if !matches!(t.dtype, DType::F32 | DType::F64) {
        return Err(format!(
            "linalg.pinv({}): expected a tensor with 2 or more dimensions of float, double, cfloat or cdouble types",
            t.dtype
        ));
    }
    let zero = |c: &mut DecompCx<'_>| -> Result<ValueId, String> {
        Ok(c.call_kw(
            "aten.scalar_tensor.default",
            vec![float(0.0)],
            vec![kw("dtype", Arg::DType(t.dtype))],
        )?[0])
    };
    if !hermitian || statically_empty(c, a)? {
        let r = c.call_kw(
            "aten._linalg_svd.default",
            vec![val(a), Arg::Bool(false), Arg::Bool(true)],
            vec![],
        )?;
        let (u, s, vh) = (r[0], r[1], r[2]);
        let s_inv = c.call("aten.reciprocal.default", vec![val(s)])?;
        let s_pinv = if statically_empty(c, a)? {
            // ATen returns early here: no tolerance is computed for an empty input.
            s_inv
        } else {
            let max_s = c.call("aten.slice.Tensor", vec![val(s), int(-1), int(0), int(1)])?;
            let tol = threshold(c, atol, rtol, max_s)?;
            let keep = c.call("aten.gt.Tensor", vec![val(s), val(tol)])?;
            let z = zero(c)?;
            c.call("aten.where.self", vec![val(keep), val(s_inv), val(z)])?
        };
        let v = transpose_last(c, vh)?;
        let su = c.call("aten.unsqueeze.default", vec![val(s_pinv), int(-2)])?;
        let vs = c.call("aten.mul.Tensor", vec![val(v), val(su)])?;
        let ut = transpose_last(c, u)?;
        return c.call("aten.matmul.default", vec![val(vs), val(ut)]);
    }
    let r = eigh(c, a, "L", true)?;
    let (s, u) = (r[0], r[1]);
    let s_abs = c.call("aten.abs.default", vec![val(s)])?;
    let max_s = c.call(
        "aten.amax.default",
        vec![val(s_abs), ints(&[-1]), Arg::Bool(true)],
    )?;
    let tol = threshold(c, atol, rtol, max_s)?;
    let keep = c.call("aten.gt.Tensor", vec![val(s_abs), val(tol)])?;
    let s_inv = c.call("aten.reciprocal.default", vec![val(s)])?;
    let z = zero(c)?;
    let s_pinv = c.call("aten.where.self", vec![val(keep), val(s_inv), val(z)])?;
    let su = c.call("aten.unsqueeze.default", vec![val(s_pinv), int(-2)])?;
    let us = c.call("aten.mul.Tensor", vec![val(u), val(su)])?;
    let ut = transpose_last(c, u)?;
    c.call("aten.matmul.default", vec![val(us), val(ut)])
}

/// `linalg_matrix_rank`: the number of singular values (or `|λ|` for `hermitian`) above
/// `max(atol, rtol · s_max)`, as int64; 0 for empty matrices.
fn matrix_rank(
    c: &mut DecompCx<'_>,
    a: ValueId,
    tols: impl FnOnce(&mut DecompCx<'_>) -> Result<(ValueId, ValueId), String>,
    hermitian: bool,
) -> Result<Vec<Arg>, String> {
    let t = float_matrix(c, a, "torch.linalg.matrix_rank")?;
    let (atol, rtol) = tols(c)?;
    if statically_empty(c, a)? {
        let batch = static_batch(&t)?;
        return one(zeros(c, &batch, DType::I64)?);
    }
    let (s, max_s) = if hermitian {
        let w = eigh(c, a, "L", false)?[0];
        let s = c.call("aten.abs.default", vec![val(w)])?;
        let m = c.call(
            "aten.amax.default",
            vec![val(s), ints(&[-1]), Arg::Bool(true)],
        )?;
        (s, m)
    } else {
        let s = svdvals(c, a)?;
        let m = c.call("aten.slice.Tensor", vec![val(s), int(-1), int(0), int(1)])?;
        (s, m)
    };
    let tol = threshold(c, atol, rtol, max_s)?;
    let above = c.call("aten.gt.Tensor", vec![val(s), val(tol)])?;
    one(c.call(
        "aten.sum.dim_IntList",
        vec![val(above), ints(&[-1]), Arg::Bool(false)],
    )?)
}

/// The order of a matrix norm.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ord {
    Fro,
    Nuc,
    Num(f64),
}

impl Ord {
    fn from_str(s: &str) -> Result<Ord, String> {
        match s {
            "fro" => Ok(Ord::Fro),
            "nuc" => Ok(Ord::Nuc),
            _ => Err(format!("linalg.matrix_norm: Order {s} not supported.")),
        }
    }
}

/// `dtype` applied to `a` (`A.to(dtype)`), or `a`.
fn maybe_cast(c: &mut DecompCx<'_>, a: ValueId, dtype: &Arg) -> Result<ValueId, String> {
    match dtype {
        Arg::DType(d) if *d != ty(c, a)?.dtype => Ok(c.call_kw(
            "aten._to_copy.default",
            vec![val(a)],
            vec![kw("dtype", Arg::DType(*d))],
        )?[0]),
        _ => Ok(a),
    }
}

/// `linalg_vector_norm(a, ord, dim, keepdim, dtype=dtype)`.
fn vector_norm(
    c: &mut DecompCx<'_>,
    a: ValueId,
    ord: f64,
    dim: Arg,
    keep: bool,
    dtype: &Arg,
) -> Result<ValueId, String> {
    let kws = match dtype {
        Arg::DType(_) => vec![kw("dtype", dtype.clone())],
        _ => vec![],
    };
    Ok(c.call_kw(
        "aten.linalg_vector_norm.default",
        vec![val(a), float(ord), dim, Arg::Bool(keep)],
        kws,
    )?[0])
}

/// `linalg_matrix_norm(A, ord, dim, keepdim, dtype)` as ATen writes it: `fro` is the vector
/// 2-norm over `dim`; `nuc` and ±2 reduce the singular values of `A` with `dim` moved to the
/// end; ±1 and ±inf take the max/min over one dim of the absolute sums over the other.
fn matrix_norm(
    c: &mut DecompCx<'_>,
    a: ValueId,
    ord: Ord,
    dim: &[i64],
    keep: bool,
    dtype: Arg,
) -> Result<ValueId, String> {
    let t = float_matrix(c, a, "linalg.matrix_norm")?;
    if let Ord::Num(o) = ord {
        if !matches!(o.abs(), 1.0 | 2.0) && o.abs() != f64::INFINITY {
            return Err(format!("linalg.matrix_norm: Order {o} not supported."));
        }
    }
    if dim.len() != 2 {
        return Err(format!(
            "linalg.matrix_norm: dim must be a 2-tuple. Got {dim:?}"
        ));
    }
    let r = t.rank() as i64;
    let wrap = |d: i64| -> Result<i64, String> {
        let w = if d < 0 { d + r } else { d };
        if !(0..r).contains(&w) {
            return Err(format!("dim {d} out of range for rank {r}"));
        }
        Ok(w)
    };
    let (mut d0, mut d1) = (wrap(dim[0])?, wrap(dim[1])?);
    if d0 == d1 {
        return Err(format!(
            "linalg.matrix_norm: dims must be different. Got ({d0}, {d1})"
        ));
    }
    let spectral = |c: &mut DecompCx<'_>, reduce: &str| -> Result<ValueId, String> {
        let a_ = maybe_cast(c, a, &dtype)?;
        // Move the two dims to the end.
        let mut perm: Vec<i64> = (0..r).filter(|&d| d != d0 && d != d1).collect();
        perm.extend([d0, d1]);
        let p = c.call("aten.permute.default", vec![val(a_), ints(&perm)])?;
        let s = svdvals(c, p)?;
        let mut res = c.call(reduce, vec![val(s), ints(&[-1]), Arg::Bool(keep)])?;
        if keep {
            let u = c.call("aten.unsqueeze.default", vec![val(res), int(-1)])?;
            let mut inv = vec![0i64; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                inv[p as usize] = i as i64;
            }
            res = c.call("aten.permute.default", vec![val(u), ints(&inv)])?;
        }
        Ok(res)
    };
    match ord {
        Ord::Fro => vector_norm(c, a, 2.0, ints(&[d0, d1]), keep, &dtype),
        Ord::Nuc => spectral(c, "aten.sum.dim_IntList"),
        Ord::Num(o) if o.abs() == 2.0 => spectral(
            c,
            if o > 0.0 {
                "aten.amax.default"
            } else {
                "aten.amin.default"
            },
        ),
        Ord::Num(o) => {
            if o.abs() == f64::INFINITY {
                std::mem::swap(&mut d0, &mut d1);
            }
            if !keep && d0 < d1 {
                d1 -= 1;
            }
            let s = vector_norm(c, a, 1.0, ints(&[d0]), keep, &dtype)?;
            let op = if o > 0.0 {
                "aten.amax.default"
            } else {
                "aten.amin.default"
            };
            c.call(op, vec![val(s), ints(&[d1]), Arg::Bool(keep)])
        }
    }
}

/// `linalg_norm(A, ord, dim, keepdim, dtype)`: a matrix norm for a given `ord` over two dims
/// (or of a 2-d input without `dim`), else the vector norm (`ord` 2 by default).
fn norm(c: &mut DecompCx<'_>, ord: Option<Ord>) -> Result<Vec<Arg>, String> {
    let x = c.tensor("self")?;
    let (keep, dtype) = (c.bool("keepdim")?, c.arg("dtype")?);
    let dim = match c.arg("dim")? {
        Arg::None => None,
        _ => Some(c.ints("dim")?),
    };
    let rank = c.rank(x)?;
    if let Some(d) = &dim {
        if d.len() != 1 && d.len() != 2 {
            return Err(format!(
                "linalg.norm: If dim is specified, it must be of length 1 or 2. Got {d:?}"
            ));
        }
    } else if ord.is_some() && rank != 1 && rank != 2 {
        return Err(format!(
            "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {rank}D."
        ));
    }
    let matrix = match (&ord, &dim) {
        (Some(Ord::Fro | Ord::Nuc), _) => true,
        (Some(_), Some(d)) => d.len() == 2,
        (Some(_), None) => rank == 2,
        (None, _) => false,
    };
    if matrix {
        let d = dim.unwrap_or_else(|| vec![0, 1]);
        return one(matrix_norm(c, x, ord.unwrap_or(Ord::Fro), &d, keep, dtype)?);
    }
    let o = match ord {
        Some(Ord::Num(o)) => o,
        _ => 2.0,
    };
    let dim_arg = match dim {
        Some(d) => ints(&d),
        None => Arg::None,
    };
    one(vector_norm(c, x, o, dim_arg, keep, &dtype)?)
}

/// `linalg_cond(A, p)`: `s_max / s_min` for 2 (its inverse for -2), `sum(s) · sum(1/s)` for
/// `nuc`, else `‖A‖_p · ‖A⁻¹‖_p` with an infinite inverse for singular matrices; 0 for empty
/// matrices.
fn cond(c: &mut DecompCx<'_>, a: ValueId, p: Ord) -> Result<ValueId, String> {
    let t = float_matrix(c, a, "linalg.cond")?;
    if let Ord::Num(o) = p {
        if !matches!(o.abs(), 1.0 | 2.0) && o.abs() != f64::INFINITY {
            return Err(format!("linalg.cond got an invalid norm type: {o}"));
        }
    }
    if statically_empty(c, a)? {
        let batch = static_batch(&t)?;
        return zeros(c, &batch, t.dtype);
    }
    match p {
        Ord::Num(o) if o.abs() == 2.0 => {
            let s = svdvals(c, a)?;
            let k = static_dim(c, s, -1)?;
            let smax = c.call("aten.slice.Tensor", vec![val(s), int(-1), int(0), int(1)])?;
            let smin = c.call(
                "aten.slice.Tensor",
                vec![val(s), int(-1), int(k - 1), int(k)],
            )?;
            let q = if o < 0.0 {
                c.call("aten.div.Tensor", vec![val(smin), val(smax)])?
            } else {
                c.call("aten.div.Tensor", vec![val(smax), val(smin)])?
            };
            c.call("aten.squeeze.dims", vec![val(q), ints(&[-1])])
        }
        Ord::Nuc => {
            let s = svdvals(c, a)?;
            let sum = c.call(
                "aten.sum.dim_IntList",
                vec![val(s), ints(&[-1]), Arg::Bool(false)],
            )?;
            let r = c.call("aten.reciprocal.default", vec![val(s)])?;
            let rsum = c.call(
                "aten.sum.dim_IntList",
                vec![val(r), ints(&[-1]), Arg::Bool(false)],
            )?;
            c.call("aten.mul.Tensor", vec![val(sum), val(rsum)])
        }
        _ => {
            let r = c.call_kw("aten.linalg_inv_ex.default", vec![val(a)], vec![])?;
            let (inverse, info) = (r[0], r[1]);
            let i1 = c.call("aten.unsqueeze.default", vec![val(info), int(-1)])?;
            let i2 = c.call("aten.unsqueeze.default", vec![val(i1), int(-1)])?;
            let bad = c.call("aten.gt.Scalar", vec![val(i2), int(0)])?;
            let inverse = c.call(
                "aten.masked_fill.Scalar",
                vec![val(inverse), val(bad), float(f64::INFINITY)],
            )?;
            let na = matrix_norm(c, a, p, &[-2, -1], false, Arg::None)?;
            let ni = matrix_norm(c, inverse, p, &[-2, -1], false, Arg::None)?;
            let prod = c.call("aten.mul.Tensor", vec![val(na), val(ni)])?;
            c.call(
                "aten.nan_to_num.default",
                vec![
                    val(prod),
                    float(f64::INFINITY),
                    float(f64::INFINITY),
                    float(f64::NEG_INFINITY),
                ],
            )
        }
    }
}
