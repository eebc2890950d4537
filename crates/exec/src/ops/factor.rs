//! Factorizations, solvers and spectral decompositions (`kernels::factor`,
//! `kernels::spectral`): the LAPACK-backed primitives of `torch.linalg` that core ATen keeps.
//! The composites (`linalg_inv`, `linalg_pinv`, `linalg_matrix_norm`, ...) run through their
//! decompositions in `trtfx_ir::aten::decomp::linalg`.

use super::{one, three, two, KResult, KernelTable};
use crate::interp::{CallArgs, Value};
use crate::kernels::{factor, spectral};
use crate::tensor::Tensor;

/// Four tensor results.
fn four(r: crate::Result<(Tensor, Tensor, Tensor, Tensor)>, c: &CallArgs<'_>) -> KResult {
    r.map(|(a, b, d, e)| {
        vec![
            Value::Tensor(a),
            Value::Tensor(b),
            Value::Tensor(d),
            Value::Tensor(e),
        ]
    })
    .map_err(|e| c.kernel_err(e))
}

pub(super) fn register(t: &mut KernelTable) {
    // LU.
    t.add("aten.linalg_lu_factor_ex.default", |c| {
        three(
            factor::lu_factor_ex(c.tensor("A")?, c.bool("pivot")?, c.bool("check_errors")?),
            c,
        )
    });
    t.add("aten.lu_unpack.default", |c| {
        three(
            factor::lu_unpack(
                c.tensor("LU_data")?,
                c.tensor("LU_pivots")?,
                c.bool("unpack_data")?,
                c.bool("unpack_pivots")?,
            ),
            c,
        )
    });
    t.add("aten.linalg_lu_solve.default", |c| {
        one(
            factor::lu_solve(
                c.tensor("LU")?,
                c.tensor("pivots")?,
                c.tensor("B")?,
                c.bool("left")?,
                c.bool("adjoint")?,
            ),
            c,
        )
    });
    t.add("aten._linalg_det.default", |c| {
        three(factor::det(c.tensor("A")?), c)
    });
    t.add("aten._linalg_slogdet.default", |c| {
        four(factor::slogdet(c.tensor("A")?), c)
    });
    t.add("aten.linalg_inv_ex.default", |c| {
        two(factor::inv_ex(c.tensor("A")?, c.bool("check_errors")?), c)
    });
    t.add("aten._linalg_solve_ex.default", |c| {
        four(
            factor::solve_ex(
                c.tensor("A")?,
                c.tensor("B")?,
                c.bool("left")?,
                c.bool("check_errors")?,
            ),
            c,
        )
    });
    // Cholesky.
    t.add("aten.linalg_cholesky_ex.default", |c| {
        two(
            factor::cholesky_ex(c.tensor("self")?, c.bool("upper")?, c.bool("check_errors")?),
            c,
        )
    });
    t.add("aten.cholesky_solve.default", |c| {
        one(
            factor::cholesky_solve(c.tensor("self")?, c.tensor("input2")?, c.bool("upper")?),
            c,
        )
    });
    t.add("aten.cholesky_inverse.default", |c| {
        one(
            factor::cholesky_inverse(c.tensor("self")?, c.bool("upper")?),
            c,
        )
    });
    // Triangular solves.
    t.add("aten.linalg_solve_triangular.default", |c| {
        one(
            factor::solve_triangular(
                c.tensor("self")?,
                c.tensor("B")?,
                c.bool("upper")?,
                c.bool("left")?,
                c.bool("unitriangular")?,
            ),
            c,
        )
    });
    t.add("aten.triangular_solve.default", |c| {
        two(
            factor::triangular_solve(
                c.tensor("self")?,
                c.tensor("A")?,
                c.bool("upper")?,
                c.bool("transpose")?,
                c.bool("unitriangular")?,
            ),
            c,
        )
    });
    // Householder QR.
    t.add("aten.geqrf.default", |c| {
        two(factor::geqrf(c.tensor("self")?), c)
    });
    t.add("aten.linalg_householder_product.default", |c| {
        one(
            factor::householder_product(c.tensor("input")?, c.tensor("tau")?),
            c,
        )
    });
    t.add("aten.ormqr.default", |c| {
        one(
            factor::ormqr(
                c.tensor("self")?,
                c.tensor("input2")?,
                c.tensor("input3")?,
                c.bool("left")?,
                c.bool("transpose")?,
            ),
            c,
        )
    });
    t.add("aten.linalg_qr.default", |c| {
        two(factor::qr(c.tensor("A")?, c.str("mode")?), c)
    });
    // LDLᵀ (`hermitian` is the same as symmetric for real matrices).
    t.add("aten.linalg_ldl_factor_ex.default", |c| {
        c.bool("hermitian")?;
        three(
            factor::ldl_factor_ex(c.tensor("self")?, c.bool("check_errors")?),
            c,
        )
    });
    t.add("aten.linalg_ldl_solve.default", |c| {
        c.bool("hermitian")?;
        one(
            factor::ldl_solve(c.tensor("LD")?, c.tensor("pivots")?, c.tensor("B")?),
            c,
        )
    });
    // Spectral.
    t.add("aten._linalg_eigh.default", |c| {
        two(
            spectral::eigh(c.tensor("A")?, c.str("UPLO")?, c.bool("compute_v")?),
            c,
        )
    });
    t.add("aten._linalg_svd.default", |c| {
        three(
            spectral::svd(
                c.tensor("A")?,
                c.bool("full_matrices")?,
                c.bool("compute_uv")?,
                c.opt_str("driver")?,
            ),
            c,
        )
    });
    t.add("aten.linalg_matrix_exp.default", |c| {
        one(spectral::matrix_exp(c.tensor("self")?), c)
    });
}
