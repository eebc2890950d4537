//! The LAPACK-style kernels (`kernels::factor`, `kernels::spectral`) and the `torch.linalg`
//! composites that run through their decompositions.
//!
//! Expected values are either checked by hand (reconstructions `A = P L U`, `A = Q R`,
//! `L Lᵀ = A`, `A V = V diag(w)`, LAPACK's pivot rules traced step by step in the comments) or
//! PyTorch 2.11's on the CPU in float64 (`torch.linalg.lu_factor_ex(A)` and so on, printed to
//! 10 significant digits by a short script), which also pins LAPACK's conventions: pivots,
//! reflector signs, what a failed factorization leaves.

use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::kernels::{factor, spectral};
use trtfx_exec::{has_kernel, DType, Tensor};
use trtfx_ir::parse_program;

fn m(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec()).unwrap()
}

fn m32(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec()).unwrap()
}

/// `[[1, 2, 3], [-2, 4, 6], [2, 1, 1]]`: pivoting is needed at every step.
fn a3() -> Tensor {
    m(&[1., 2., 3., -2., 4., 6., 2., 1., 1.], &[3, 3])
}

/// `[[4, 2, 1], [2, 5, 3], [1, 3, 6]]`: symmetric positive definite.
fn s3() -> Tensor {
    m(&[4., 2., 1., 2., 5., 3., 1., 3., 6.], &[3, 3])
}

/// `[[1, 2, 0], [3, -1, 4], [0, 5, 2], [-2, 1, 1]]`.
fn r43() -> Tensor {
    m(&[1., 2., 0., 3., -1., 4., 0., 5., 2., -2., 1., 1.], &[4, 3])
}

/// `[[1, 2, 0, -1, 3], [4, -2, 1, 0, 1], [2, 2, 2, 1, -1]]`.
fn r35() -> Tensor {
    m(
        &[
            1., 2., 0., -1., 3., 4., -2., 1., 0., 1., 2., 2., 2., 1., -1.,
        ],
        &[3, 5],
    )
}

/// `[[1, -1], [2, 0], [0, 3]]`.
fn b32() -> Tensor {
    m(&[1., -1., 2., 0., 0., 3.], &[3, 2])
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= tol * b.abs().max(1.0)
}

#[track_caller]
fn assert_vals(got: &Tensor, shape: &[usize], want: &[f64]) {
    assert_eq!(got.shape(), shape, "shape");
    let g = got.to_f64_vec();
    assert!(
        g.len() == want.len() && g.iter().zip(want).all(|(&a, &b)| close(a, b, 1e-8)),
        "{g:?}\n vs {want:?}"
    );
}

#[track_caller]
fn assert_ints(got: &Tensor, shape: &[usize], want: &[i64]) {
    assert_eq!(got.dtype(), DType::I32);
    assert_eq!(got.shape(), shape);
    assert_eq!(got.to_i64_vec(), want);
}

/// Row-major `a (r × k) · b (k × c)`.
fn matmul(a: &[f64], b: &[f64], r: usize, k: usize, c: usize) -> Vec<f64> {
    let mut out = vec![0.0; r * c];
    for i in 0..r {
        for j in 0..c {
            out[i * c + j] = (0..k).map(|l| a[i * k + l] * b[l * c + j]).sum();
        }
    }
    out
}

fn transpose(a: &[f64], r: usize, c: usize) -> Vec<f64> {
    (0..c)
        .flat_map(|j| (0..r).map(move |i| a[i * c + j]))
        .collect()
}

#[track_caller]
fn assert_same(got: &[f64], want: &[f64]) {
    assert!(
        got.len() == want.len() && got.iter().zip(want).all(|(&a, &b)| close(a, b, 1e-10)),
        "{got:?}\n vs {want:?}"
    );
}

// ---- LU

#[test]
fn lu_factor_pivots_on_the_first_largest_entry_as_getrf() {
    // Column 0 of [[1,2,3],[-2,4,6],[2,1,1]]: |-2| and |2| tie, the first (row 2) wins;
    // after eliminating, column 1 holds [5, -1] below the diagonal... traced by PyTorch too.
    let (lu, piv, info) = factor::lu_factor_ex(&a3(), true, false).unwrap();
    assert_vals(&lu, &[3, 3], &[-2., 4., 6., -1., 5., 7., -0.5, 0.8, 0.4]);
    assert_ints(&piv, &[3], &[2, 3, 3]);
    assert_ints(&info, &[], &[0]);
    // P L U reconstructs A.
    let (p, l, u) = factor::lu_unpack(&lu, &piv, true, true).unwrap();
    let plu = matmul(
        &p.to_f64_vec(),
        &matmul(&l.to_f64_vec(), &u.to_f64_vec(), 3, 3, 3),
        3,
        3,
        3,
    );
    assert_same(&plu, &a3().to_f64_vec());
}

#[test]
fn lu_factor_of_rectangular_matrices_matches_pytorch() {
    let (lu, piv, _) = factor::lu_factor_ex(&r35(), true, false).unwrap();
    assert_vals(
        &lu,
        &[3, 5],
        &[
            4.,
            -2.,
            1.,
            0.,
            1.,
            0.5,
            3.,
            1.5,
            1.,
            -1.5,
            0.25,
            0.8333333333,
            -1.5,
            -1.833333333,
            4.,
        ],
    );
    assert_ints(&piv, &[3], &[2, 3, 3]);
    let (p, l, u) = factor::lu_unpack(&lu, &piv, true, true).unwrap();
    assert_vals(&p, &[3, 3], &[0., 0., 1., 1., 0., 0., 0., 1., 0.]);
    assert_eq!(l.shape(), &[3, 3]);
    assert_eq!(u.shape(), &[3, 5]);
    let plu = matmul(
        &p.to_f64_vec(),
        &matmul(&l.to_f64_vec(), &u.to_f64_vec(), 3, 3, 5),
        3,
        3,
        5,
    );
    assert_same(&plu, &r35().to_f64_vec());
    // The tall transpose pivots on row 5 three times.
    let tall = m(&transpose(&r35().to_f64_vec(), 3, 5), &[5, 3]);
    let (lu, piv, _) = factor::lu_factor_ex(&tall, true, false).unwrap();
    assert_ints(&piv, &[3], &[5, 5, 5]);
    assert_vals(
        &lu,
        &[5, 3],
        &[
            3.,
            1.,
            -1.,
            0.3333333333,
            3.666666667,
            2.333333333,
            0.6666666667,
            -0.7272727273,
            4.363636364,
            -0.3333333333,
            0.09090909091,
            0.1041666667,
            0.,
            0.2727272727,
            0.3125,
        ],
    );
}

#[test]
fn singular_lu_reports_the_first_zero_pivot_and_goes_on() {
    // [[1,2,3],[2,4,6],[1,1,1]]: pivot row 2; the rows become [0, 0] and [-1, -2]; pivot
    // row 3 (|-1| > 0); U[2,2] = 0 - (-0)(-2) = 0, so info = 3 (as LAPACK and PyTorch).
    let a = m(&[1., 2., 3., 2., 4., 6., 1., 1., 1.], &[3, 3]);
    let (lu, piv, info) = factor::lu_factor_ex(&a, true, false).unwrap();
    assert_vals(&lu, &[3, 3], &[2., 4., 6., 0.5, -1., -2., 0.5, 0., 0.]);
    assert_ints(&piv, &[3], &[2, 3, 3]);
    assert_ints(&info, &[], &[3]);
    // A zero column keeps its row (no swap) and sets info.
    let z = m(&[0., 0., 0., 1.], &[2, 2]);
    let (lu, piv, info) = factor::lu_factor_ex(&z, true, false).unwrap();
    assert_vals(&lu, &[2, 2], &[0., 0., 0., 1.]);
    assert_ints(&piv, &[2], &[1, 2]);
    assert_ints(&info, &[], &[1]);
    let e = factor::lu_factor_ex(&a, true, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("U[3,3] is zero"), "{e}");
    let e = factor::lu_factor_ex(&a, false, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("without pivoting"), "{e}");
}

#[test]
fn lu_is_batched_and_f32_in_f32_out() {
    let mut v = a3().to_f64_vec();
    v.extend(s3().to_f64_vec());
    let v: Vec<f32> = v.into_iter().map(|x| x as f32).collect();
    let (lu, piv, info) = factor::lu_factor_ex(&m32(&v, &[2, 3, 3]), true, false).unwrap();
    assert_eq!(lu.dtype(), DType::F32);
    assert_eq!(lu.shape(), &[2, 3, 3]);
    // s3 needs no interchange: pivots 1, 2, 3.
    assert_ints(&piv, &[2, 3], &[2, 3, 3, 1, 2, 3]);
    assert_ints(&info, &[2], &[0, 0]);
}

#[test]
fn det_slogdet_and_their_lu_of_the_transpose() {
    let (d, lu, piv) = factor::det(&a3()).unwrap();
    assert_vals(&d, &[], &[-4.]);
    // PyTorch factors Aᵀ for a contiguous A.
    assert_vals(
        &lu,
        &[3, 3],
        &[
            3.,
            6.,
            1.,
            0.3333333333,
            -4.,
            1.666666667,
            0.6666666667,
            0.,
            0.3333333333,
        ],
    );
    assert_ints(&piv, &[3], &[3, 3, 3]);
    let (sign, logabs, _, _) = factor::slogdet(&a3()).unwrap();
    assert_vals(&sign, &[], &[-1.]);
    assert_vals(&logabs, &[], &[4f64.ln()]);
    // Singular: sign 0, log|det| = -inf.
    let (sign, logabs, _, _) = factor::slogdet(&m(&[1., 2., 2., 4.], &[2, 2])).unwrap();
    assert_vals(&sign, &[], &[0.]);
    assert_vals(&logabs, &[], &[f64::NEG_INFINITY]);
    // Empty batches and 0×0 matrices (det 1).
    let (d, lu, piv) = factor::det(&m(&[], &[2, 0, 0])).unwrap();
    assert_vals(&d, &[2], &[1., 1.]);
    assert_eq!(lu.shape(), &[2, 0, 0]);
    assert_eq!(piv.shape(), &[2, 0]);
}

#[test]
fn inverse_and_solve_match_pytorch() {
    let (inv, info) = factor::inv_ex(&a3(), false).unwrap();
    assert_vals(
        &inv,
        &[3, 3],
        &[0.5, -0.25, 0., -3.5, 1.25, 3., 2.5, -0.75, -2.],
    );
    assert_ints(&info, &[], &[0]);
    let (x, lu, piv, info) = factor::solve_ex(&a3(), &b32(), true, false).unwrap();
    assert_vals(&x, &[3, 2], &[0., -0.5, -1., 12.5, 1., -8.5]);
    assert_vals(&lu, &[3, 3], &[-2., 4., 6., -1., 5., 7., -0.5, 0.8, 0.4]);
    assert_ints(&piv, &[3], &[2, 3, 3]);
    assert_ints(&info, &[], &[0]);
    // X A = B.
    let bt = m(&transpose(&b32().to_f64_vec(), 3, 2), &[2, 3]);
    let (x, _, _, _) = factor::solve_ex(&a3(), &bt, false, false).unwrap();
    assert_vals(&x, &[2, 3], &[-6.5, 2.25, 6., 7., -2., -6.]);
    // Aᵀ X = B through lu_solve(adjoint).
    let (lu, piv, _) = factor::lu_factor_ex(&a3(), true, false).unwrap();
    let x = factor::lu_solve(&lu, &piv, &b32(), true, true).unwrap();
    assert_vals(&x, &[3, 2], &[-6.5, 7., 2.25, -2., 6., -6.]);
    // A vector right-hand side and a broadcast batch: A (2, 3, 3) with b (3,).
    let mut v = a3().to_f64_vec();
    v.extend(a3().to_f64_vec());
    let a2 = m(&v, &[2, 3, 3]);
    let (x, lu, _, info) = factor::solve_ex(&a2, &m(&[1., 2., 0.], &[3]), true, false).unwrap();
    assert_vals(&x, &[2, 3], &[0., -1., 1., 0., -1., 1.]);
    assert_eq!(lu.shape(), &[2, 3, 3]);
    assert_eq!(info.shape(), &[2]);
}

#[test]
fn singular_inverse_gives_lapacks_infinities_and_errors_when_checked() {
    // [[1,2],[2,4]]: LU = [[2,4],[0.5,0]], info 2; back substitution divides by the zero.
    let s = m(&[1., 2., 2., 4.], &[2, 2]);
    let (inv, info) = factor::inv_ex(&s, false).unwrap();
    assert_vals(
        &inv,
        &[2, 2],
        &[
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ],
    );
    assert_ints(&info, &[], &[2]);
    // PyTorch: inv(zeros(3, 3)) is NaN but for an inf at [2, 2].
    let (inv, _) = factor::inv_ex(&m(&[0.; 9], &[3, 3]), false).unwrap();
    let v = inv.to_f64_vec();
    assert!(
        v[..8].iter().all(|x| x.is_nan()) && v[8] == f64::INFINITY,
        "{v:?}"
    );
    let e = factor::inv_ex(&m(&[0.; 8], &[2, 2, 2]), true)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("(Batch element 0): The diagonal element 1 is zero"),
        "{e}"
    );
    let e = factor::solve_ex(&s, &m(&[1., 1.], &[2]), true, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("input matrix is singular"), "{e}");
}

// ---- Cholesky and triangular solves

#[test]
fn cholesky_lower_upper_solve_and_inverse() {
    let (l, info) = factor::cholesky_ex(&s3(), false, false).unwrap();
    assert_vals(
        &l,
        &[3, 3],
        &[2., 0., 0., 1., 2., 0., 0.5, 1.25, 2.046338193],
    );
    assert_ints(&info, &[], &[0]);
    // L Lᵀ = A.
    let lv = l.to_f64_vec();
    assert_same(
        &matmul(&lv, &transpose(&lv, 3, 3), 3, 3, 3),
        &s3().to_f64_vec(),
    );
    let (u, _) = factor::cholesky_ex(&s3(), true, false).unwrap();
    assert_same(&u.to_f64_vec(), &transpose(&lv, 3, 3));
    let x = factor::cholesky_solve(&b32(), &l, false).unwrap();
    assert_vals(
        &x,
        &[3, 2],
        &[
            0.0447761194,
            -0.2686567164,
            0.552238806,
            -0.3134328358,
            -0.2835820896,
            0.7014925373,
        ],
    );
    let xu = factor::cholesky_solve(&b32(), &u, true).unwrap();
    assert_same(&xu.to_f64_vec(), &x.to_f64_vec());
    let inv = factor::cholesky_inverse(&l, false).unwrap();
    assert_vals(
        &inv,
        &[3, 3],
        &[
            0.3134328358,
            -0.1343283582,
            0.01492537313,
            -0.1343283582,
            0.3432835821,
            -0.1492537313,
            0.01492537313,
            -0.1492537313,
            0.2388059701,
        ],
    );
}

#[test]
fn failed_cholesky_leaves_what_potf2_leaves() {
    // [[4,2,1],[2,1,5],[1,5,3]]: L00 = 2, L10 = 1, L20 = 0.5; then 1 - 1² = 0 is not positive:
    // info 2, the failed diagonal holds 0 and column 1 below it keeps A's 5 (PyTorch's result).
    let a = m(&[4., 2., 1., 2., 1., 5., 1., 5., 3.], &[3, 3]);
    let (l, info) = factor::cholesky_ex(&a, false, false).unwrap();
    assert_vals(&l, &[3, 3], &[2., 0., 0., 1., 0., 0., 0.5, 5., 3.]);
    assert_ints(&info, &[], &[2]);
    let (l, info) = factor::cholesky_ex(&m(&[1., 2., 2., 1.], &[2, 2]), false, false).unwrap();
    assert_vals(&l, &[2, 2], &[1., 0., 2., -3.]);
    assert_ints(&info, &[], &[2]);
    let e = factor::cholesky_ex(&a, false, true)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the leading minor of order 2 is not positive-definite"),
        "{e}"
    );
    // Only the chosen triangle is read.
    let lower_only = m(&[4., 99., 2., 3.], &[2, 2]);
    let (l, _) = factor::cholesky_ex(&lower_only, false, false).unwrap();
    assert_vals(&l, &[2, 2], &[2., 0., 1., 2f64.sqrt()]);
}

#[test]
fn triangular_solves_read_one_triangle() {
    let x = factor::solve_triangular(&a3(), &b32(), true, true, false).unwrap();
    assert_vals(&x, &[3, 2], &[0., -1., 0.5, -4.5, 0., 3.]);
    // X A = B with the unit lower triangle of A.
    let bt = m(&transpose(&b32().to_f64_vec(), 3, 2), &[2, 3]);
    let x = factor::solve_triangular(&a3(), &bt, false, false, true).unwrap();
    assert_vals(&x, &[2, 3], &[5., 2., 0., -13., -3., 3.]);
    let (x, coef) = factor::triangular_solve(&b32(), &a3(), true, true, false).unwrap();
    assert_vals(&x, &[3, 2], &[1., -1., 0., 0.5, -3., 3.]);
    assert_same(&coef.to_f64_vec(), &a3().to_f64_vec());
    // Batch dims broadcast: b (2, 3, 2) against A (3, 3).
    let mut v = b32().to_f64_vec();
    v.extend(b32().to_f64_vec());
    let (x, coef) = factor::triangular_solve(&m(&v, &[2, 3, 2]), &a3(), true, true, false).unwrap();
    assert_eq!(x.shape(), &[2, 3, 2]);
    assert_eq!(coef.shape(), &[2, 3, 3]);
}

// ---- Householder QR

#[test]
fn geqrf_follows_lapacks_reflector_convention() {
    // dlarfg on column 0 = [1, 3, 0, -2]: beta = -sign(1)·‖·‖ = -sqrt(14), tau = (beta - 1)/beta
    // = 1 + 1/sqrt(14), v = x / (1 - beta).
    let (a, tau) = factor::geqrf(&r43()).unwrap();
    let s14 = 14f64.sqrt();
    assert!(close(a.to_f64_vec()[0], -s14, 1e-12));
    assert!(close(tau.to_f64_vec()[0], 1.0 + 1.0 / s14, 1e-12));
    assert!(close(a.to_f64_vec()[3], 3.0 / (1.0 + s14), 1e-12));
    assert_vals(
        &a,
        &[4, 3],
        &[
            -3.741657387,
            0.8017837257,
            -2.672612419,
            0.6326901662,
            5.50973165,
            1.659401532,
            0.,
            -0.6879631338,
            -3.332195884,
            -0.4217934441,
            -0.2071319086,
            0.3913828548,
        ],
    );
    assert_vals(&tau, &[3], &[1.267261242, 1.319089888, 1.734333812]);
}

#[test]
fn householder_product_ormqr_and_qr_match_pytorch() {
    let (a, tau) = factor::geqrf(&r43()).unwrap();
    let q_want = [
        -0.2672612419,
        0.4018863086,
        0.414494381,
        -0.8017837257,
        -0.06482037236,
        -0.5896129611,
        0.,
        0.907485213,
        -0.1482858944,
        0.5345224838,
        0.1037125958,
        -0.6771722511,
    ];
    assert_vals(
        &factor::householder_product(&a, &tau).unwrap(),
        &[4, 3],
        &q_want,
    );
    let c = m(&[1., 0., 2., 1., -1., 3., 0., 2.], &[4, 2]);
    let qc = [
        0.1220169943,
        3.18842257,
        -0.3418115093,
        -1.688088207,
        1.96325632,
        -0.3234561344,
        1.419119926,
        -0.937921025,
    ];
    let qtc = [
        -1.870828693,
        0.2672612419,
        -0.6352396491,
        2.865060458,
        -0.6164456468,
        -2.388815147,
        1.31013944,
        -0.1164568391,
    ];
    assert_vals(
        &factor::ormqr(&a, &tau, &c, true, false).unwrap(),
        &[4, 2],
        &qc,
    );
    assert_vals(
        &factor::ormqr(&a, &tau, &c, true, true).unwrap(),
        &[4, 2],
        &qtc,
    );
    // From the right: Cᵀ Q = (Qᵀ C)ᵀ and Cᵀ Qᵀ = (Q C)ᵀ.
    let ct = m(&transpose(&c.to_f64_vec(), 4, 2), &[2, 4]);
    assert_vals(
        &factor::ormqr(&a, &tau, &ct, false, false).unwrap(),
        &[2, 4],
        &transpose(&qtc, 4, 2),
    );
    assert_vals(
        &factor::ormqr(&a, &tau, &ct, false, true).unwrap(),
        &[2, 4],
        &transpose(&qc, 4, 2),
    );
    // linalg_qr: reduced, complete (Q's last column completes the basis) and r.
    let (q, r) = factor::qr(&r43(), "reduced").unwrap();
    assert_vals(&q, &[4, 3], &q_want);
    let r_want = [
        -3.741657387,
        0.8017837257,
        -2.672612419,
        0.,
        5.50973165,
        1.659401532,
        0.,
        0.,
        -3.332195884,
    ];
    assert_vals(&r, &[3, 3], &r_want);
    assert_same(
        &matmul(&q.to_f64_vec(), &r.to_f64_vec(), 4, 3, 3),
        &r43().to_f64_vec(),
    );
    let (q, r) = factor::qr(&r43(), "complete").unwrap();
    assert_vals(
        &q,
        &[4, 4],
        &[
            -0.2672612419,
            0.4018863086,
            0.414494381,
            0.7715265592,
            -0.8017837257,
            -0.06482037236,
            -0.5896129611,
            0.07278552446,
            0.,
            0.907485213,
            -0.1482858944,
            -0.3930418321,
            0.5345224838,
            0.1037125958,
            -0.6771722511,
            0.4949415663,
        ],
    );
    assert_eq!(r.shape(), &[4, 3]);
    let (q, r) = factor::qr(&r43(), "r").unwrap();
    assert_eq!(q.shape(), &[0]);
    assert_vals(&r, &[3, 3], &r_want);
    // A wide matrix: the last column's reflector has no tail (tau 0).
    let (q, r) = factor::qr(&r35(), "reduced").unwrap();
    assert_vals(
        &q,
        &[3, 3],
        &[
            -0.2182178902,
            0.609701395,
            -0.762000762,
            -0.8728715609,
            -0.4711328962,
            -0.127000127,
            -0.4364357805,
            0.6374150948,
            0.635000635,
        ],
    );
    assert_vals(
        &r,
        &[3, 5],
        &[
            -4.582575695,
            0.4364357805,
            -1.745743122,
            -0.2182178902,
            -1.091089451,
            0.,
            3.436498772,
            0.8036972934,
            0.02771369977,
            0.7205561941,
            0.,
            0.,
            1.143001143,
            1.397001397,
            -3.048003048,
        ],
    );
    assert!(factor::qr(&r43(), "full").is_err());
}

// ---- LDLᵀ

#[test]
fn ldl_factor_pivots_as_sytf2() {
    // [[0,1,2],[1,0,3],[2,3,0]]: a(0,0) = 0 < alpha·2, row 2's largest off-diagonal is 3 and
    // a(2,2) = 0: a 2×2 block with rows 1 and 2 interchanged (pivots -3, -3), then D = -3.
    let a = m(&[0., 1., 2., 1., 0., 3., 2., 3., 0.], &[3, 3]);
    let (ld, piv, info) = factor::ldl_factor_ex(&a, false).unwrap();
    assert_vals(&ld, &[3, 3], &[0., 0., 0., 2., 0., 0., 1.5, 0.5, -3.]);
    assert_ints(&piv, &[3], &[-3, -3, 3]);
    assert_ints(&info, &[], &[0]);
    let x = factor::ldl_solve(&ld, &piv, &m(&[1., 2., 3.], &[3, 1])).unwrap();
    assert_vals(&x, &[3, 1], &[1., 0.3333333333, 0.3333333333]);
    // 1×1 pivots throughout; the upper triangle is ignored.
    let b = m(&[4., 100., 200., 1., -3., 300., 2., 3., 1.], &[3, 3]);
    let (ld, piv, _) = factor::ldl_factor_ex(&b, false).unwrap();
    assert_vals(
        &ld,
        &[3, 3],
        &[4., 0., 0., 0.25, -3.25, 0., 0.5, -0.7692307692, 1.923076923],
    );
    assert_ints(&piv, &[3], &[1, 2, 3]);
    // Two 2×2 blocks.
    let c = m(
        &[
            1., 5., 0., 2., 5., 1., 3., 0., 0., 3., -2., 4., 2., 0., 4., 1.,
        ],
        &[4, 4],
    );
    let (ld, piv, _) = factor::ldl_factor_ex(&c, false).unwrap();
    assert_vals(
        &ld,
        &[4, 4],
        &[
            1.,
            0.,
            0.,
            0.,
            5.,
            1.,
            0.,
            0.,
            0.625,
            -0.125,
            -1.625,
            0.,
            -0.08333333333,
            0.4166666667,
            2.75,
            1.166666667,
        ],
    );
    assert_ints(&piv, &[4], &[-2, -2, -4, -4]);
    let x = factor::ldl_solve(&ld, &piv, &m(&[1., 2., 3., 4.], &[4, 1])).unwrap();
    assert_vals(
        &x,
        &[4, 1],
        &[0.09691629956, -0.3480176211, 0.6211453744, 1.321585903],
    );
    // A zero matrix: info 1; bad pivots are an error, not an out-of-bounds read.
    let (_, _, info) = factor::ldl_factor_ex(&m(&[0.; 4], &[2, 2]), false).unwrap();
    assert_ints(&info, &[], &[1]);
    let bad = Tensor::from_vec(vec![7i32, 1], vec![2]).unwrap();
    assert!(
        factor::ldl_solve(&m(&[1., 0., 0., 1.], &[2, 2]), &bad, &m(&[1., 1.], &[2, 1])).is_err()
    );
}

// ---- Spectral

#[test]
fn eigh_values_vectors_and_triangles() {
    let (w, v) = spectral::eigh(&s3(), "L", true).unwrap();
    assert_vals(&w, &[3], &[1.921346942, 3.730159124, 9.348493934]);
    let (vv, wv) = (v.to_f64_vec(), w.to_f64_vec());
    // A V = V diag(w), Vᵀ V = I.
    let av = matmul(&s3().to_f64_vec(), &vv, 3, 3, 3);
    let vw: Vec<f64> = (0..9).map(|i| vv[i] * wv[i % 3]).collect();
    assert_same(&av, &vw);
    let vtv = matmul(&transpose(&vv, 3, 3), &vv, 3, 3, 3);
    assert_same(&vtv, &[1., 0., 0., 0., 1., 0., 0., 0., 1.]);
    // The largest entry of each eigenvector is positive.
    for j in 0..3 {
        let col: Vec<f64> = (0..3).map(|i| vv[i * 3 + j]).collect();
        let big = col
            .iter()
            .copied()
            .fold(0.0f64, |a, x| if x.abs() > a.abs() { x } else { a });
        assert!(big > 0.0, "{col:?}");
    }
    // Indefinite; only the upper triangle read with "U".
    let l4 = [
        1., 5., 0., 2., 5., 1., 3., 0., 0., 3., -2., 4., 2., 0., 4., 1.,
    ];
    let mut upper_only = l4;
    for i in 0..4 {
        for j in 0..i {
            upper_only[i * 4 + j] = 99.0;
        }
    }
    let (w, v) = spectral::eigh(&m(&upper_only, &[4, 4]), "U", false).unwrap();
    assert_vals(
        &w,
        &[4],
        &[-7.005743143, -1.859239658, 2.305340086, 7.559642716],
    );
    assert_eq!(v.shape(), &[0]);
    assert!(spectral::eigh(&s3(), "X", true).is_err());
}

#[test]
fn svd_values_and_reconstruction() {
    for (a, (mm, nn), s_want) in [
        (r43(), (4, 3), vec![5.903236917, 5.092080881, 2.285280333]),
        (r35(), (3, 5), vec![5.060329126, 3.727836659, 3.390619852]),
    ] {
        let k = mm.min(nn);
        let (u, s, vh) = spectral::svd(&a, false, true, None).unwrap();
        assert_vals(&s, &[k], &s_want);
        assert_eq!(u.shape(), &[mm, k]);
        assert_eq!(vh.shape(), &[k, nn]);
        let sv = s.to_f64_vec();
        let us: Vec<f64> = u
            .to_f64_vec()
            .iter()
            .enumerate()
            .map(|(i, x)| x * sv[i % k])
            .collect();
        assert_same(&matmul(&us, &vh.to_f64_vec(), mm, k, nn), &a.to_f64_vec());
        // Full matrices are orthogonal.
        let (u, _, vh) = spectral::svd(&a, true, true, None).unwrap();
        assert_eq!(u.shape(), &[mm, mm]);
        assert_eq!(vh.shape(), &[nn, nn]);
        let uv = u.to_f64_vec();
        let eye: Vec<f64> = (0..mm * mm)
            .map(|i| if i % (mm + 1) == 0 { 1. } else { 0. })
            .collect();
        assert_same(&matmul(&transpose(&uv, mm, mm), &uv, mm, mm, mm), &eye);
        let vv = vh.to_f64_vec();
        let eye: Vec<f64> = (0..nn * nn)
            .map(|i| if i % (nn + 1) == 0 { 1. } else { 0. })
            .collect();
        assert_same(&matmul(&vv, &transpose(&vv, nn, nn), nn, nn, nn), &eye);
    }
    // A rank-1 matrix: one nonzero singular value, U still orthonormal.
    let (u, s, _) = spectral::svd(&m(&[1., 2., 2., 4.], &[2, 2]), false, true, None).unwrap();
    let sv = s.to_f64_vec();
    assert!(close(sv[0], 5.0, 1e-12) && sv[1].abs() < 1e-12, "{sv:?}");
    let uv = u.to_f64_vec();
    assert_same(
        &matmul(&transpose(&uv, 2, 2), &uv, 2, 2, 2),
        &[1., 0., 0., 1.],
    );
    let (u, s, vh) = spectral::svd(&r43(), false, false, None).unwrap();
    assert_eq!(
        (u.shape(), s.shape(), vh.shape()),
        (&[0][..], &[3][..], &[0][..])
    );
    assert!(spectral::svd(&r43(), false, true, Some("gesvd")).is_err());
    assert!(spectral::svd(&m(&[f64::NAN, 1., 1., 1.], &[2, 2]), false, true, None).is_err());
}

#[test]
fn matrix_exp_matches_pytorch() {
    let a = m(&[0., 1., 0.5, -1., 0., 2., 0.3, -0.2, 0.1], &[3, 3]);
    assert_vals(
        &spectral::matrix_exp(&a).unwrap(),
        &[3, 3],
        &[
            0.7283900793,
            0.7836324101,
            1.382167068,
            -0.5478345855,
            0.4690124722,
            1.520105255,
            0.3577045918,
            -0.03411161321,
            1.099142623,
        ],
    );
    // A norm above the scaling threshold (squared 4 times).
    assert_vals(
        &spectral::matrix_exp(&m(&[1., 2., 3., 4.], &[2, 2])).unwrap(),
        &[2, 2],
        &[51.9689562, 74.73656457, 112.1048469, 164.073803],
    );
    // exp of a diagonal matrix and of 1×1 matrices is elementwise.
    assert_vals(
        &spectral::matrix_exp(&m(&[2., -1.], &[2, 1, 1])).unwrap(),
        &[2, 1, 1],
        &[2f64.exp(), (-1f64).exp()],
    );
}

#[test]
fn bad_inputs_are_errors() {
    let int = Tensor::from_vec(vec![1i64, 2, 3, 4], vec![2, 2]).unwrap();
    assert!(factor::lu_factor_ex(&int, true, false).is_err());
    assert!(factor::inv_ex(&r43(), false).is_err());
    assert!(factor::cholesky_ex(&m(&[1., 2.], &[2]), false, false).is_err());
    assert!(factor::solve_ex(&a3(), &m(&[1., 2.], &[2, 1]), true, false).is_err());
    assert!(factor::lu_solve(
        &a3(),
        &Tensor::from_vec(vec![4i32, 1, 1], vec![3]).unwrap(),
        &b32(),
        true,
        false
    )
    .is_err());
    let (a, tau) = factor::geqrf(&r43()).unwrap();
    assert!(
        factor::householder_product(&m(&transpose(&a.to_f64_vec(), 4, 3), &[3, 4]), &tau).is_err()
    );
}

// ---- Composites through their decompositions

fn run(src: &str, inputs: Vec<Tensor>) -> Result<Vec<Tensor>, String> {
    let p = parse_program(src).unwrap_or_else(|e| panic!("{e}"));
    let ins: Vec<Value> = inputs.into_iter().map(Value::Tensor).collect();
    Ok(Executor::new(&p)
        .run(&ins)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|v| v.as_tensor().expect("tensor output").clone())
        .collect())
}

/// One call on one input.
fn one_op(input_ty: &str, out_ty: &str, call: &str) -> String {
    format!(
        r#"input "x": {input_ty}
graph @main(%x: {input_ty} = user "x") -> (user) {{
  %y: {out_ty} = {call}
  output (%y)
}}"#
    )
}

#[test]
fn composites_have_no_kernel_and_primitives_do() {
    for op in [
        "aten.linalg_inv.default",
        "aten.linalg_pinv.atol_rtol_tensor",
        "aten.linalg_matrix_rank.atol_rtol_tensor",
        "aten.linalg_matrix_norm.str_ord",
        "aten.linalg_cond.default",
        "aten.linalg_lu.default",
        "aten.svd.default",
    ] {
        assert!(!has_kernel(op), "{op}");
    }
    for op in [
        "aten.linalg_lu_factor_ex.default",
        "aten._linalg_svd.default",
        "aten._linalg_eigh.default",
        "aten.geqrf.default",
        "aten.linalg_ldl_factor_ex.default",
    ] {
        assert!(has_kernel(op), "{op}");
    }
}

#[test]
fn pinv_matrix_rank_and_cond_through_decompositions() {
    let r = run(
        &one_op(
            "f64[4,3]",
            "f64[3,4]",
            "aten.linalg_pinv.atol_rtol_tensor(%x)",
        ),
        vec![r43()],
    )
    .unwrap();
    assert_vals(
        &r[0],
        &[3, 4],
        &[
            0.1839372748,
            0.07395634668,
            0.0006357279085,
            -0.2970968426,
            0.1104047468,
            -0.06505615597,
            0.1513032422,
            -0.04238186056,
            -0.1243907608,
            0.1769442679,
            0.04450095359,
            0.2032210214,
        ],
    );
    // A rank-2 matrix: the zero singular value is dropped by the default tolerance.
    let sing = m(&[1., 2., 3., 2., 4., 6., 1., 0., 1.], &[3, 3]);
    let r = run(
        &one_op("f64[3,3]", "f64[3,3]", "aten.pinverse.default(%x)"),
        vec![sing.clone()],
    )
    .unwrap();
    let want = [
        -0.03333333333,
        -0.06666666667,
        0.8333333333,
        0.06666666667,
        0.1333333333,
        -0.6666666667,
        0.03333333333,
        0.06666666667,
        0.1666666667,
    ];
    // pinverse's rcond = 1e-15 keeps singular values of ~1e-16·s_max out too.
    assert_vals(&r[0], &[3, 3], &want);
    let r = run(
        &one_op(
            "f64[3,3]",
            "i64[]",
            "aten.linalg_matrix_rank.atol_rtol_tensor(%x)",
        ),
        vec![sing.clone()],
    )
    .unwrap();
    assert_eq!(r[0].to_i64_vec(), vec![2]);
    let r = run(
        &one_op(
            "f64[3,3]",
            "i64[]",
            "aten.linalg_matrix_rank.atol_rtol_tensor(%x, hermitian=true)",
        ),
        vec![s3()],
    )
    .unwrap();
    assert_eq!(r[0].to_i64_vec(), vec![3]);
    // pinv(hermitian) of an SPD matrix is its inverse.
    let r = run(
        &one_op(
            "f64[3,3]",
            "f64[3,3]",
            "aten.linalg_pinv.atol_rtol_tensor(%x, hermitian=true)",
        ),
        vec![s3()],
    )
    .unwrap();
    assert_vals(
        &r[0],
        &[3, 3],
        &[
            0.3134328358,
            -0.1343283582,
            0.01492537313,
            -0.1343283582,
            0.3432835821,
            -0.1492537313,
            0.01492537313,
            -0.1492537313,
            0.2388059701,
        ],
    );
    for (p, want) in [
        ("", 47.94676427),
        (", 1", 65.0),
        (", -2", 1.0 / 47.94676427),
    ] {
        let r = run(
            &one_op(
                "f64[3,3]",
                "f64[]",
                &format!("aten.linalg_cond.default(%x{p})"),
            ),
            vec![a3()],
        )
        .unwrap();
        assert_vals(&r[0], &[], &[want]);
    }
    for (p, want) in [("fro", 50.78631705), ("nuc", 70.68707711)] {
        let r = run(
            &one_op(
                "f64[3,3]",
                "f64[]",
                &format!("aten.linalg_cond.p_str(%x, \"{p}\")"),
            ),
            vec![a3()],
        )
        .unwrap();
        assert_vals(&r[0], &[], &[want]);
    }
    // A singular matrix has an infinite 1-norm condition number.
    let r = run(
        &one_op("f64[3,3]", "f64[]", "aten.linalg_cond.default(%x, 1)"),
        vec![sing],
    )
    .unwrap();
    assert_vals(&r[0], &[], &[f64::INFINITY]);
}

#[test]
fn matrix_norms_through_decompositions() {
    for (call, want) in [
        ("aten.linalg_matrix_norm.str_ord(%x, \"nuc\")", 13.28059813),
        ("aten.linalg_matrix_norm.default(%x, 2)", 5.903236917),
        ("aten.linalg_matrix_norm.default(%x, -2)", 2.285280333),
        ("aten.linalg_matrix_norm.default(%x, inf)", 8.0),
        ("aten.linalg_matrix_norm.default(%x, 1)", 9.0),
        ("aten.linalg_norm.ord_str(%x, \"nuc\")", 13.28059813),
        ("aten.linalg_norm.default(%x, -1)", 6.0),
        ("aten.linalg_norm.default(%x)", 66f64.sqrt()),
    ] {
        let r = run(&one_op("f64[4,3]", "f64[]", call), vec![r43()]).unwrap();
        assert_vals(&r[0], &[], &[want]);
    }
    // keepdim restores both dims; the nuclear norm of a batch.
    let r = run(
        &one_op(
            "f64[4,3]",
            "f64[1,1]",
            "aten.linalg_matrix_norm.str_ord(%x, \"nuc\", [0, 1], true)",
        ),
        vec![r43()],
    )
    .unwrap();
    assert_vals(&r[0], &[1, 1], &[13.28059813]);
}

#[test]
fn det_logdet_inverse_power_and_tensor_ops_through_decompositions() {
    let r = run(
        &one_op("f64[3,3]", "f64[]", "aten.linalg_det.default(%x)"),
        vec![a3()],
    )
    .unwrap();
    assert_vals(&r[0], &[], &[-4.]);
    // logdet of a matrix with a negative determinant is NaN.
    let r = run(
        &one_op("f64[3,3]", "f64[]", "aten.logdet.default(%x)"),
        vec![a3()],
    )
    .unwrap();
    assert!(r[0].to_f64_vec()[0].is_nan());
    let r = run(
        &one_op("f64[3,3]", "f64[]", "aten.logdet.default(%x)"),
        vec![s3()],
    )
    .unwrap();
    assert_vals(&r[0], &[], &[67f64.ln()]);
    let e = run(
        &one_op("f64[2,2]", "f64[2,2]", "aten.linalg_inv.default(%x)"),
        vec![m(&[1., 2., 2., 4.], &[2, 2])],
    )
    .unwrap_err();
    assert!(e.contains("The diagonal element 2 is zero"), "{e}");
    for (n, want) in [
        (
            -3,
            vec![
                0.21875, -0.265625, 0.1875, -5.59375, 1.578125, 5.0625, 4.03125, -1.109375, -3.6875,
            ],
        ),
        (
            5,
            vec![401., 2482., 3423., 518., 3224., 4446., 282., 1741., 2401.],
        ),
        (0, vec![1., 0., 0., 0., 1., 0., 0., 0., 1.]),
    ] {
        let r = run(
            &one_op(
                "f64[3,3]",
                "f64[3,3]",
                &format!("aten.linalg_matrix_power.default(%x, {n})"),
            ),
            vec![a3()],
        )
        .unwrap();
        assert_vals(&r[0], &[3, 3], &want);
    }
    // tensorinv of a (3, 1, 3) view of A: A⁻¹ reshaped to (3, 3, 1).
    let r = run(
        &one_op(
            "f64[3,1,3]",
            "f64[3,3,1]",
            "aten.linalg_tensorinv.default(%x, 2)",
        ),
        vec![m(&a3().to_f64_vec(), &[3, 1, 3])],
    )
    .unwrap();
    assert_vals(
        &r[0],
        &[3, 3, 1],
        &[0.5, -0.25, 0., -3.5, 1.25, 3., 2.5, -0.75, -2.],
    );
    // vecdot over the last dim.
    let src = r#"input "x": f64[2,3]
input "y": f64[2,3]
graph @main(%x: f64[2,3] = user "x", %y: f64[2,3] = user "y") -> (user) {
  %v: f64[2] = aten.linalg_vecdot.default(%x, %y)
  output (%v)
}"#;
    let x = m(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let y = m(&[1., 0., -1., 2., 2., 2.], &[2, 3]);
    let r = run(src, vec![x, y]).unwrap();
    assert_vals(&r[0], &[2], &[-2., 30.]);
}
