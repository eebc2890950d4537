//! Inference of the `torch.linalg` primitives (factorizations, solvers, spectral
//! decompositions) and of the composites through their decompositions. The expected types are
//! PyTorch 2.11's: those `torch.export` recorded for the OpInfo samples of the conformance
//! corpus (`torch.linalg.lu_factor_ex(x: f32[3,5])` is `(f32[3,5], i32[3], i32[])`,
//! `_linalg_solve_ex(f32[0,5,5], f32[0,5])` is `(f32[0,5], f32[0,5,5], i32[0,5], i32[0])`, and
//! so on) and its meta functions (`torch/_meta_registrations.py`).

mod infer_common;
use infer_common::*;
use trtfx_ir::Arg;

fn s(x: &str) -> Arg {
    Arg::Str(x.into())
}

fn b(x: bool) -> Arg {
    Arg::Bool(x)
}

/// An op, its input types, positional and keyword arguments, and the expected result.
type Case = (
    &'static str,
    Vec<&'static str>,
    Vec<Arg>,
    Vec<(&'static str, Arg)>,
    &'static str,
);

#[test]
fn factorizations_and_solvers() {
    let cases: Vec<Case> = vec![
        (
            "aten.linalg_lu_factor_ex.default",
            vec!["f32[3,5]"],
            vec![v(0)],
            vec![],
            "(f32[3,5], i32[3], i32[])",
        ),
        (
            "aten.linalg_lu_factor_ex.default",
            vec!["f64[s0,6,4]"],
            vec![v(0)],
            vec![],
            "(f64[s0,6,4], i32[s0,4], i32[s0])",
        ),
        (
            "aten.lu_unpack.default",
            vec!["f32[4,5]", "i32[4]"],
            vec![v(0), v(1)],
            vec![],
            "(f32[4,4], f32[4,4], f32[4,5])",
        ),
        (
            "aten.lu_unpack.default",
            vec!["f32[3,5]", "i32[3]"],
            vec![v(0), v(1), b(false)],
            vec![],
            "(f32[3,3], f32[0], f32[0])",
        ),
        (
            "aten.linalg_lu_solve.default",
            vec!["f32[3,3]", "i32[3]", "f32[1,3]"],
            vec![v(0), v(1), v(2)],
            vec![("left", b(false)), ("adjoint", b(true))],
            "f32[1,3]",
        ),
        (
            "aten.linalg_lu_solve.default",
            vec!["f32[0,3,3]", "i32[0,3]", "f32[0,3,4]"],
            vec![v(0), v(1), v(2)],
            vec![],
            "f32[0,3,4]",
        ),
        (
            "aten._linalg_det.default",
            vec!["f32[0,0,0]"],
            vec![v(0)],
            vec![],
            "(f32[0], f32[0,0,0], i32[0,0])",
        ),
        (
            "aten._linalg_slogdet.default",
            vec!["f32[0,0]"],
            vec![v(0)],
            vec![],
            "(f32[], f32[], f32[0,0], i32[0])",
        ),
        (
            "aten.linalg_inv_ex.default",
            vec!["f32[0,5,5]"],
            vec![v(0)],
            vec![],
            "(f32[0,5,5], i32[0])",
        ),
        // A batch of vectors (B has A's shape minus the last dim), and a matrix B.
        (
            "aten._linalg_solve_ex.default",
            vec!["f32[0,5,5]", "f32[0,5]"],
            vec![v(0), v(1)],
            vec![],
            "(f32[0,5], f32[0,5,5], i32[0,5], i32[0])",
        ),
        (
            "aten._linalg_solve_ex.default",
            vec!["f32[0,5,5]", "f32[0,5,1]"],
            vec![v(0), v(1)],
            vec![],
            "(f32[0,5,1], f32[0,5,5], i32[0,5], i32[0])",
        ),
        (
            "aten._linalg_solve_ex.default",
            vec!["f32[6,6]", "f32[6]"],
            vec![v(0), v(1)],
            vec![],
            "(f32[6], f32[6,6], i32[6], i32[])",
        ),
        // Batch dims broadcast.
        (
            "aten._linalg_solve_ex.default",
            vec!["f32[2,1,3,3]", "f32[4,3,2]"],
            vec![v(0), v(1)],
            vec![],
            "(f32[2,4,3,2], f32[2,1,3,3], i32[2,1,3], i32[2,1])",
        ),
        (
            "aten.linalg_cholesky_ex.default",
            vec!["f32[0,0]"],
            vec![v(0)],
            vec![("upper", b(true))],
            "(f32[0,0], i32[])",
        ),
        (
            "aten.cholesky_solve.default",
            vec!["f32[2,3,4]", "f32[3,3]"],
            vec![v(0), v(1)],
            vec![],
            "f32[2,3,4]",
        ),
        (
            "aten.cholesky_inverse.default",
            vec!["f64[2,4,4]"],
            vec![v(0)],
            vec![],
            "f64[2,4,4]",
        ),
        (
            "aten.linalg_solve_triangular.default",
            vec!["f32[1,1]", "f32[3,1]"],
            vec![v(0), v(1)],
            vec![("upper", b(true)), ("left", b(false))],
            "f32[3,1]",
        ),
        (
            "aten.triangular_solve.default",
            vec!["f32[0,5,3]", "f32[0,5,5]"],
            vec![v(0), v(1)],
            vec![],
            "(f32[0,5,3], f32[0,5,5])",
        ),
        (
            "aten.geqrf.default",
            vec!["f32[5,0]"],
            vec![v(0)],
            vec![],
            "(f32[5,0], f32[0])",
        ),
        (
            "aten.linalg_householder_product.default",
            vec!["f32[5,4]", "f32[3]"],
            vec![v(0), v(1)],
            vec![],
            "f32[5,4]",
        ),
        (
            "aten.ormqr.default",
            vec!["f32[5,2]", "f32[2]", "f32[5,2]"],
            vec![v(0), v(1), v(2), b(true), b(true)],
            vec![],
            "f32[5,2]",
        ),
        (
            "aten.linalg_qr.default",
            vec!["f32[5,3]"],
            vec![v(0)],
            vec![],
            "(f32[5,3], f32[3,3])",
        ),
        (
            "aten.linalg_qr.default",
            vec!["f32[5,3]"],
            vec![v(0), s("complete")],
            vec![],
            "(f32[5,5], f32[5,3])",
        ),
        (
            "aten.linalg_qr.default",
            vec!["f32[2,0]"],
            vec![v(0), s("r")],
            vec![],
            "(f32[0], f32[0,0])",
        ),
        (
            "aten.linalg_ldl_factor_ex.default",
            vec!["f32[0,2,2]"],
            vec![v(0)],
            vec![],
            "(f32[0,2,2], i32[0,2], i32[0])",
        ),
        (
            "aten.linalg_ldl_solve.default",
            vec!["f32[5,5]", "i32[5]", "f32[5,5]"],
            vec![v(0), v(1), v(2)],
            vec![],
            "f32[5,5]",
        ),
    ];
    for (op, inputs, args, kwargs, want) in cases {
        assert_eq!(show(op, &inputs, args, kwargs), want, "{op} on {inputs:?}");
    }
}

#[test]
fn spectral_decompositions() {
    let cases: Vec<(&str, Vec<&str>, Vec<Arg>, &str)> = vec![
        (
            "aten._linalg_eigh.default",
            vec!["f32[0,5,5]"],
            vec![v(0), s("U")],
            "(f32[0,5], f32[0,5,5])",
        ),
        (
            "aten._linalg_eigh.default",
            vec!["f64[4,4]"],
            vec![v(0), s("L"), b(false)],
            "(f64[4], f64[0])",
        ),
        (
            "aten._linalg_svd.default",
            vec!["f32[2,5,5]"],
            vec![v(0)],
            "(f32[2,5,5], f32[2,5], f32[2,5,5])",
        ),
        (
            "aten._linalg_svd.default",
            vec!["f32[5,0]"],
            vec![v(0)],
            "(f32[5,0], f32[0], f32[0,0])",
        ),
        (
            "aten._linalg_svd.default",
            vec!["f32[3,5]"],
            vec![v(0), b(true)],
            "(f32[3,3], f32[3], f32[5,5])",
        ),
        (
            "aten._linalg_svd.default",
            vec!["f32[3,5]"],
            vec![v(0), b(false), b(false)],
            "(f32[0], f32[3], f32[0])",
        ),
        (
            "aten._linalg_svd.default",
            vec!["f32[s0,7]"],
            vec![v(0)],
            "(f32[s0,min(s0, 7)], f32[min(s0, 7)], f32[min(s0, 7),7])",
        ),
        (
            "aten.linalg_matrix_exp.default",
            vec!["f32[5,5,5]"],
            vec![v(0)],
            "f32[5,5,5]",
        ),
    ];
    for (op, inputs, args, want) in cases {
        assert_eq!(show(op, &inputs, args, vec![]), want, "{op} on {inputs:?}");
    }
}

#[test]
fn composites_infer_through_their_decompositions() {
    let cases: Vec<Case> = vec![
        (
            "aten.linalg_lu.default",
            vec!["f32[3,5]"],
            vec![v(0)],
            vec![],
            "(f32[3,3], f32[3,3], f32[3,5])",
        ),
        (
            "aten._lu_with_info.default",
            vec!["f32[3,5]"],
            vec![v(0), b(true), b(false)],
            vec![],
            "(f32[3,5], i32[3], i32[])",
        ),
        (
            "aten.linalg_det.default",
            vec!["f32[0,0,0]"],
            vec![v(0)],
            vec![],
            "f32[0]",
        ),
        (
            "aten.logdet.default",
            vec!["f32[0,0]"],
            vec![v(0)],
            vec![],
            "f32[]",
        ),
        (
            "aten.linalg_slogdet.default",
            vec!["f32[0,0,0]"],
            vec![v(0)],
            vec![],
            "(f32[0], f32[0])",
        ),
        (
            "aten.linalg_solve_ex.default",
            vec!["f32[0,5,5]", "f32[0,5]"],
            vec![v(0), v(1)],
            vec![],
            "(f32[0,5], i32[0])",
        ),
        (
            "aten.lu_solve.default",
            vec!["f32[0,3,4]", "f32[0,3,3]", "i32[0,3]"],
            vec![v(0), v(1), v(2)],
            vec![],
            "f32[0,3,4]",
        ),
        (
            "aten.linalg_eigvalsh.default",
            vec!["f32[0,5,5]"],
            vec![v(0), s("U")],
            vec![],
            "f32[0,5]",
        ),
        (
            "aten.svd.default",
            vec!["f32[3,5]"],
            vec![v(0)],
            vec![],
            "(f32[3,3], f32[3], f32[5,3])",
        ),
        (
            "aten.svd.default",
            vec!["f32[3,5]"],
            vec![v(0), b(true), b(false)],
            vec![],
            "(f32[3,3], f32[3], f32[5,5])",
        ),
        (
            "aten.linalg_svdvals.default",
            vec!["f32[2,0]"],
            vec![v(0)],
            vec![],
            "f32[0]",
        ),
        (
            "aten.qr.default",
            vec!["f32[2,0]"],
            vec![v(0)],
            vec![],
            "(f32[2,0], f32[0,0])",
        ),
        (
            "aten.linalg_pinv.atol_rtol_tensor",
            vec!["f32[50,3]"],
            vec![v(0)],
            vec![],
            "f32[3,50]",
        ),
        (
            "aten.linalg_pinv.atol_rtol_tensor",
            vec!["f32[0,5,5]"],
            vec![v(0)],
            vec![("hermitian", b(true))],
            "f32[0,5,5]",
        ),
        (
            "aten.pinverse.default",
            vec!["f32[0,0]"],
            vec![v(0)],
            vec![],
            "f32[0,0]",
        ),
        (
            "aten.linalg_matrix_rank.atol_rtol_tensor",
            vec!["f32[0,5,5]"],
            vec![v(0)],
            vec![],
            "i64[0]",
        ),
        (
            "aten.linalg_matrix_rank.atol_rtol_tensor",
            vec!["f32[4,3]"],
            vec![v(0)],
            vec![("hermitian", b(false))],
            "i64[]",
        ),
        (
            "aten.linalg_matrix_norm.str_ord",
            vec!["f32[2,2]"],
            vec![v(0), s("fro"), ints(&[-2, -1]), b(true)],
            vec![],
            "f32[1,1]",
        ),
        (
            "aten.linalg_matrix_norm.str_ord",
            vec!["f32[5,5,5]"],
            vec![v(0), s("nuc"), ints(&[1, 2])],
            vec![],
            "f32[5]",
        ),
        (
            "aten.linalg_matrix_norm.default",
            vec!["f32[3,4,5]"],
            vec![v(0), Arg::Int(-1), ints(&[0, 2]), b(true)],
            vec![],
            "f32[1,4,1]",
        ),
        (
            "aten.linalg_norm.default",
            vec!["f32[5]"],
            vec![v(0), Arg::Int(0)],
            vec![],
            "f32[]",
        ),
        (
            "aten.linalg_cond.default",
            vec!["f32[2,5,5]"],
            vec![v(0)],
            vec![],
            "f32[2]",
        ),
        (
            "aten.linalg_tensorinv.default",
            vec!["f32[2,2,3,12,1]"],
            vec![v(0), Arg::Int(3)],
            vec![],
            "f32[12,1,2,2,3]",
        ),
        (
            "aten.linalg_tensorsolve.default",
            vec!["f32[2,3,6]", "f32[2,3]"],
            vec![v(0), v(1), ints(&[0, 2])],
            vec![],
            "f32[6]",
        ),
        (
            "aten.linalg_matrix_power.default",
            vec!["f32[0,2,2]"],
            vec![v(0), Arg::Int(3)],
            vec![],
            "f32[0,2,2]",
        ),
        (
            "aten.linalg_vecdot.default",
            vec!["f32[4,3]", "f32[4,3]"],
            vec![v(0), v(1)],
            vec![("dim", Arg::Int(0))],
            "f32[3]",
        ),
    ];
    for (op, inputs, args, kwargs, want) in cases {
        assert_eq!(show(op, &inputs, args, kwargs), want, "{op} on {inputs:?}");
    }
}

#[test]
fn what_aten_refuses() {
    for (op, inputs, args, needle) in [
        (
            "aten.linalg_lu_factor_ex.default",
            vec!["i64[3,3]"],
            vec![v(0)],
            "expected a float32 or float64 tensor",
        ),
        (
            "aten.linalg_inv_ex.default",
            vec!["f32[3,4]"],
            vec![v(0)],
            "square matrices",
        ),
        (
            "aten._linalg_solve_ex.default",
            vec!["f32[3,3]", "f32[4,2]"],
            vec![v(0), v(1)],
            "incompatible shapes",
        ),
        (
            "aten._linalg_solve_ex.default",
            vec!["f32[3,3]", "f64[3,2]"],
            vec![v(0), v(1)],
            "same dtype",
        ),
        (
            "aten.linalg_qr.default",
            vec!["f32[3,3]"],
            vec![v(0), s("full")],
            "unrecognized mode",
        ),
        (
            "aten._linalg_eigh.default",
            vec!["f32[3,3]"],
            vec![v(0), s("X")],
            "UPLO",
        ),
        (
            "aten.linalg_vecdot.default",
            vec!["i64[3]", "i64[3]"],
            vec![v(0), v(1)],
            "floating point",
        ),
    ] {
        let got = show(op, &inputs, args, vec![]);
        assert!(got.contains(needle), "{op}: {got}");
    }
}
