//! LAPACK-style factorizations and solvers, batched over the leading dims: LU with partial
//! pivoting (`getrf`/`getrs`), Cholesky (`potrf`/`potrs`), triangular solves (`trsm`), Householder
//! QR (`geqrf`, `orgqr`, `ormqr`) and Bunch-Kaufman LDLᵀ (`sytrf`/`sytrs`), plus the ATen ops
//! built on them (`linalg_lu_factor_ex`, `_linalg_det`, `linalg_inv_ex`, `_linalg_solve_ex`,
//! `linalg_cholesky_ex`, `linalg_qr`, `linalg_ldl_factor_ex`, ...).
//!
//! PyTorch computes these with LAPACK, and several results are conventions rather than
//! mathematics: which row wins a pivot tie, how Householder reflectors are scaled and signed,
//! what a failed factorization leaves behind. So each routine here is a direct implementation
//! of the unblocked reference algorithm PyTorch's results follow (`dgetf2`, `dpotf2`, `dgeqr2`
//! with `dlarfg`, `dorg2r`, `dsytf2`, `dsytrs`), not a general-purpose crate whose conventions
//! differ (faer's QR, for one, stores blocked reflectors). Everything computes in f64 (f32 data
//! is widened and rounded once at the end); pivots and `info` are int32, 1-based, as LAPACK's.
//!
//! Matrices are row-major here, LAPACK's are column-major: the algorithms are written on
//! `(row, col)` indices, so only the storage differs.

use crate::dtype::DType;
use crate::error::{invalid, shape_err, ExecError, Result};
use crate::tensor::{broadcast_shapes, Tensor};

// ---------------------------------------------------------------------------------------------
// Batches of f64 matrices

/// A batch of dense row-major f64 matrices read from a tensor `(*, rows, cols)`.
#[derive(Clone, Debug)]
pub(crate) struct Batch {
    /// The leading (batch) dims.
    pub(crate) batch: Vec<usize>,
    /// Rows of each matrix.
    pub(crate) rows: usize,
    /// Columns of each matrix.
    pub(crate) cols: usize,
    /// `count() * rows * cols` values.
    pub(crate) data: Vec<f64>,
    /// The tensor's dtype (f32 or f64).
    pub(crate) dtype: DType,
}

impl Batch {
    /// The matrices of `t` (argument `name` of `op`): at least 2 dims, f32 or f64.
    pub(crate) fn of(op: &'static str, name: &str, t: &Tensor) -> Result<Batch> {
        let dtype = linalg_dtype(op, name, t)?;
        let s = t.shape();
        if s.len() < 2 {
            return shape_err(
                op,
                format!(
                    "the input tensor {name} must have at least 2 dimensions, got {}",
                    s.len()
                ),
            );
        }
        Ok(Batch {
            batch: s[..s.len() - 2].to_vec(),
            rows: s[s.len() - 2],
            cols: s[s.len() - 1],
            data: t.to_f64_vec(),
            dtype,
        })
    }

    /// Like [`Batch::of`], for square matrices.
    pub(crate) fn square(op: &'static str, name: &str, t: &Tensor) -> Result<Batch> {
        let b = Batch::of(op, name, t)?;
        if b.rows != b.cols {
            return shape_err(
                op,
                format!(
                    "{name} must be batches of square matrices, but they are {} by {} matrices",
                    b.rows, b.cols
                ),
            );
        }
        Ok(b)
    }

    /// Number of matrices.
    pub(crate) fn count(&self) -> usize {
        self.batch.iter().product()
    }

    /// Elements per matrix.
    pub(crate) fn size(&self) -> usize {
        self.rows * self.cols
    }

    /// Matrix `b`.
    pub(crate) fn mat(&self, b: usize) -> &[f64] {
        &self.data[b * self.size()..(b + 1) * self.size()]
    }

    /// The full shape `(*, rows, cols)`.
    pub(crate) fn shape(&self) -> Vec<usize> {
        let mut s = self.batch.clone();
        s.extend([self.rows, self.cols]);
        s
    }
}

/// The dtype of a linalg operand: f32 or f64 (LAPACK's real types; PyTorch has no CPU kernels
/// for the half types, complex inputs never reach a kernel here).
pub(crate) fn linalg_dtype(op: &'static str, name: &str, t: &Tensor) -> Result<DType> {
    match t.dtype() {
        d @ (DType::F32 | DType::F64) => Ok(d),
        d if d.is_float() => invalid(
            op,
            format!("low precision dtypes are not supported: {name} is {d}"),
        ),
        d => invalid(
            op,
            format!("expected a floating point tensor as {name}, got {d}"),
        ),
    }
}

/// A tensor of `dtype` (f32 or f64) from f64 values.
pub(crate) fn real_tensor(v: Vec<f64>, shape: Vec<usize>, dtype: DType) -> Tensor {
    if dtype == DType::F64 {
        Tensor::from_parts(v, shape)
    } else {
        Tensor::from_parts(v.into_iter().map(|x| x as f32).collect(), shape)
    }
}

/// An int32 tensor.
pub(crate) fn i32_tensor(v: Vec<i32>, shape: Vec<usize>) -> Tensor {
    Tensor::from_parts(v, shape)
}

/// `batch` followed by `tail`.
pub(crate) fn with_tail(batch: &[usize], tail: &[usize]) -> Vec<usize> {
    let mut s = batch.to_vec();
    s.extend_from_slice(tail);
    s
}

/// For each index of the broadcast batch `out` (row-major), the index of the matrix of `batch`
/// it reads (`batch` right-aligned against `out`, size-1 dims stretched).
pub(crate) fn broadcast_index(out: &[usize], batch: &[usize]) -> Vec<usize> {
    let total: usize = out.iter().product();
    let off = out.len() - batch.len();
    let mut res = Vec::with_capacity(total);
    let mut idx = vec![0usize; out.len()];
    for _ in 0..total {
        let mut src = 0;
        for (d, &n) in batch.iter().enumerate() {
            let i = if n == 1 { 0 } else { idx[off + d] };
            src = src * n + i;
        }
        res.push(src);
        for d in (0..out.len()).rev() {
            idx[d] += 1;
            if idx[d] < out[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    res
}

/// The broadcast of two batch shapes.
pub(crate) fn broadcast_batch(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    broadcast_shapes(op, a, b).map_err(|_| ExecError::Shape {
        op,
        msg: format!("the batch dims {a:?} and {b:?} cannot be broadcast"),
    })
}

/// `m` (rows × cols, row-major) transposed.
pub(crate) fn transpose(m: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut t = vec![0.0; m.len()];
    for i in 0..rows {
        for j in 0..cols {
            t[j * rows + i] = m[i * cols + j];
        }
    }
    t
}

/// The `n × n` identity.
pub(crate) fn identity(n: usize) -> Vec<f64> {
    let mut m = vec![0.0; n * n];
    for i in 0..n {
        m[i * n + i] = 1.0;
    }
    m
}

/// The error PyTorch's `_linalg_check_errors` raises for a positive `info` of matrix `b` of a
/// batch (`batched`: the input had batch dims).
fn info_error(op: &'static str, kind: InfoKind, info: i32, b: usize, batched: bool) -> ExecError {
    let at = if batched {
        format!("(Batch element {b}): ")
    } else {
        String::new()
    };
    let msg = match kind {
        InfoKind::Inverse => format!(
            "{at}The diagonal element {info} is zero, the inversion could not be completed \
             because the input matrix is singular."
        ),
        InfoKind::Solve => {
            format!("{at}The solver failed because the input matrix is singular.")
        }
        InfoKind::Cholesky => format!(
            "{at}The factorization could not be completed because the input is not \
             positive-definite (the leading minor of order {info} is not positive-definite)."
        ),
        InfoKind::LuFactor => format!(
            "{at}U[{info},{info}] is zero and using it on lu_solve would result in a division \
             by zero. If you still want to perform the factorization, consider calling \
             linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)"
        ),
        InfoKind::Ldl => {
            format!("{at}D[{info},{info}] is exactly zero: the block diagonal factor is singular")
        }
    };
    ExecError::Invalid { op, msg }
}

/// What a positive `info` means, for [`info_error`].
#[derive(Clone, Copy)]
enum InfoKind {
    Inverse,
    Solve,
    Cholesky,
    LuFactor,
    Ldl,
}

/// Fails on the first positive `info` when `check` is set.
fn check_infos(
    op: &'static str,
    kind: InfoKind,
    infos: &[i32],
    batched: bool,
    check: bool,
) -> Result<()> {
    if !check {
        return Ok(());
    }
    match infos.iter().position(|&i| i > 0) {
        Some(b) => Err(info_error(op, kind, infos[b], b, batched)),
        None => Ok(()),
    }
}

/// Pivots of a `(*, k)` int tensor, checked to lie in `1..=limit`.
fn read_pivots(op: &'static str, piv: &Tensor, limit: usize) -> Result<Vec<i32>> {
    if piv.dtype() != DType::I32 {
        return invalid(
            op,
            format!(
                "pivots must be an int32 tensor (as linalg.lu_factor makes them), got {}",
                piv.dtype()
            ),
        );
    }
    let v: Vec<i32> = piv.as_slice::<i32>()?.to_vec();
    if let Some(&p) = v.iter().find(|&&p| p < 1 || p as usize > limit) {
        return invalid(op, format!("pivot {p} is out of range 1..={limit}"));
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// LU: dgetf2 / dgetrs

/// LU factorization with partial pivoting of the `m × n` matrix `a` in place (`dgetf2`):
/// `A = P L U` with unit lower `L` below the diagonal and `U` on and above it. Returns the
/// `min(m, n)` 1-based pivots (row `i` was swapped with row `piv[i]`) and `info`: 0, or the
/// 1-based index of the first exactly-zero diagonal of `U` (the factorization goes on past it).
/// The pivot is the first entry of largest magnitude (`idamax`).
pub(crate) fn getrf(a: &mut [f64], m: usize, n: usize) -> (Vec<i32>, i32) {
    let k = m.min(n);
    let mut piv = Vec::with_capacity(k);
    let mut info = 0;
    for j in 0..k {
        let mut p = j;
        let mut best = a[j * n + j].abs();
        for i in j + 1..m {
            let v = a[i * n + j].abs();
            if v > best {
                best = v;
                p = i;
            }
        }
        piv.push(p as i32 + 1);
        if a[p * n + j] != 0.0 {
            if p != j {
                for c in 0..n {
                    a.swap(j * n + c, p * n + c);
                }
            }
            let d = a[j * n + j];
            if d.abs() >= f64::MIN_POSITIVE {
                let r = 1.0 / d;
                for i in j + 1..m {
                    a[i * n + j] *= r;
                }
            } else {
                for i in j + 1..m {
                    a[i * n + j] /= d;
                }
            }
        } else if info == 0 {
            info = j as i32 + 1;
        }
        // Rank-1 update of the trailing block (`dger`, which skips zero entries of the row).
        for c in j + 1..n {
            let y = a[j * n + c];
            if y != 0.0 {
                for i in j + 1..m {
                    a[i * n + c] -= a[i * n + j] * y;
                }
            }
        }
    }
    (piv, info)
}

/// Applies the row interchanges of `piv` to the `nrhs` columns of `b`: in order (`P^T b`), or
/// in reverse order (`P b`).
fn laswp(b: &mut [f64], nrhs: usize, piv: &[i32], forward: bool) {
    let mut apply = |i: usize| {
        let p = piv[i] as usize - 1;
        if p != i {
            for c in 0..nrhs {
                b.swap(i * nrhs + c, p * nrhs + c);
            }
        }
    };
    if forward {
        (0..piv.len()).for_each(&mut apply);
    } else {
        (0..piv.len()).rev().for_each(&mut apply);
    }
}

/// Solves `op(T) X = B` in place for the `n × nrhs` matrix `b`, with `t` an `n × n` triangular
/// matrix (only its `upper` or lower triangle is read; `unit` takes its diagonal as ones) and
/// `op` the transpose when `trans`. Plain substitution with no skipping of zero entries, so a
/// zero pivot gives the infinities and NaNs LAPACK gives.
pub(crate) fn trsm(
    t: &[f64],
    n: usize,
    upper: bool,
    trans: bool,
    unit: bool,
    b: &mut [f64],
    nrhs: usize,
) {
    // Entry (i, k) of op(T).
    let at = |i: usize, k: usize| if trans { t[k * n + i] } else { t[i * n + k] };
    let forward = upper == trans; // op(T) is lower triangular
    for c in 0..nrhs {
        if forward {
            for i in 0..n {
                let mut x = b[i * nrhs + c];
                for k in 0..i {
                    x -= at(i, k) * b[k * nrhs + c];
                }
                if !unit {
                    x /= at(i, i);
                }
                b[i * nrhs + c] = x;
            }
        } else {
            for i in (0..n).rev() {
                let mut x = b[i * nrhs + c];
                for k in i + 1..n {
                    x -= at(i, k) * b[k * nrhs + c];
                }
                if !unit {
                    x /= at(i, i);
                }
                b[i * nrhs + c] = x;
            }
        }
    }
}

/// Solves `A X = B` (or `Aᵀ X = B` with `trans`) from the LU factorization of `A` (`dgetrs`).
pub(crate) fn getrs(lu: &[f64], piv: &[i32], n: usize, b: &mut [f64], nrhs: usize, trans: bool) {
    if trans {
        trsm(lu, n, true, true, false, b, nrhs);
        trsm(lu, n, false, true, true, b, nrhs);
        laswp(b, nrhs, piv, false);
    } else {
        laswp(b, nrhs, piv, true);
        trsm(lu, n, false, false, true, b, nrhs);
        trsm(lu, n, true, false, false, b, nrhs);
    }
}

/// Solves `A X = B` (`left`) or `X A = B` for `X` (`rows × cols`, row-major) from the LU
/// factorization of the square `A` (`n × n`, `n` pivots); `adjoint` solves with `Aᵀ` instead.
fn lu_solve_one(
    lu: &[f64],
    piv: &[i32],
    b: &[f64],
    (rows, cols): (usize, usize),
    left: bool,
    adjoint: bool,
) -> Vec<f64> {
    let n = piv.len();
    if left {
        let mut x = b.to_vec();
        getrs(lu, piv, n, &mut x, cols, adjoint);
        x
    } else {
        // X A = B  ⇔  Aᵀ Xᵀ = Bᵀ.
        let mut xt = transpose(b, rows, cols);
        getrs(lu, piv, n, &mut xt, rows, !adjoint);
        transpose(&xt, cols, rows)
    }
}

/// The LU factorizations of every matrix of `a`: the factors, the pivots and the infos.
fn lu_batch(a: &Batch) -> (Vec<f64>, Vec<i32>, Vec<i32>) {
    let (m, n) = (a.rows, a.cols);
    let k = m.min(n);
    let mut lu = a.data.clone();
    let mut pivs = Vec::with_capacity(a.count() * k);
    let mut infos = Vec::with_capacity(a.count());
    for b in 0..a.count() {
        // An empty matrix (k = 0) has no pivots and info 0.
        let (p, info) = getrf(&mut lu[b * m * n..(b + 1) * m * n], m, n);
        pivs.extend(p);
        infos.push(info);
    }
    (lu, pivs, infos)
}

/// `aten.linalg_lu_factor_ex`: `(LU, pivots, info)` of `A (*, m, n)` with partial pivoting.
pub fn lu_factor_ex(
    a: &Tensor,
    pivot: bool,
    check_errors: bool,
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "linalg.lu_factor_ex";
    let b = Batch::of(OP, "A", a)?;
    if !pivot {
        return invalid(OP, "LU without pivoting is not implemented on the CPU");
    }
    let (lu, pivs, infos) = lu_batch(&b);
    check_infos(
        "torch.linalg.lu_factor",
        InfoKind::LuFactor,
        &infos,
        !b.batch.is_empty(),
        check_errors,
    )?;
    let k = b.rows.min(b.cols);
    Ok((
        real_tensor(lu, b.shape(), b.dtype),
        i32_tensor(pivs, with_tail(&b.batch, &[k])),
        i32_tensor(infos, b.batch.clone()),
    ))
}

/// `aten.lu_unpack`: `(P, L, U)` with `A = P L U` from `linalg_lu_factor`'s `(LU, pivots)`:
/// `P (*, m, m)`, `L (*, m, k)` unit lower, `U (*, k, n)` upper. Without `unpack_data` `L`
/// and `U` are empty (`[0]`), without `unpack_pivots` `P` is.
pub fn lu_unpack(
    lu: &Tensor,
    pivots: &Tensor,
    unpack_data: bool,
    unpack_pivots: bool,
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "lu_unpack";
    let b = Batch::of(OP, "LU_data", lu)?;
    let (m, n) = (b.rows, b.cols);
    let k = m.min(n);
    let empty = || real_tensor(vec![], vec![0], b.dtype);
    let p = if unpack_pivots {
        if pivots.shape() != with_tail(&b.batch, &[k]).as_slice() {
            return shape_err(
                OP,
                format!(
                    "pivots of shape {:?} do not match LU_data of shape {:?} (expected {:?})",
                    pivots.shape(),
                    lu.shape(),
                    with_tail(&b.batch, &[k])
                ),
            );
        }
        let piv = read_pivots(OP, pivots, m)?;
        let mut out = vec![0.0; b.count() * m * m];
        for bi in 0..b.count() {
            let mat = &mut out[bi * m * m..(bi + 1) * m * m];
            // perm[i]: the row of A that row i of Pᵀ A is.
            let mut perm: Vec<usize> = (0..m).collect();
            for (i, &pv) in piv[bi * k..(bi + 1) * k].iter().enumerate() {
                perm.swap(i, pv as usize - 1);
            }
            for (i, &r) in perm.iter().enumerate() {
                mat[r * m + i] = 1.0;
            }
        }
        real_tensor(out, with_tail(&b.batch, &[m, m]), b.dtype)
    } else {
        empty()
    };
    let (l, u) = if unpack_data {
        let mut l = vec![0.0; b.count() * m * k];
        let mut u = vec![0.0; b.count() * k * n];
        for bi in 0..b.count() {
            let a = b.mat(bi);
            for i in 0..m {
                for j in 0..k {
                    l[bi * m * k + i * k + j] = match i.cmp(&j) {
                        std::cmp::Ordering::Greater => a[i * n + j],
                        std::cmp::Ordering::Equal => 1.0,
                        std::cmp::Ordering::Less => 0.0,
                    };
                }
            }
            for i in 0..k {
                for j in i..n {
                    u[bi * k * n + i * n + j] = a[i * n + j];
                }
            }
        }
        (
            real_tensor(l, with_tail(&b.batch, &[m, k]), b.dtype),
            real_tensor(u, with_tail(&b.batch, &[k, n]), b.dtype),
        )
    } else {
        (empty(), empty())
    };
    Ok((p, l, u))
}

/// `aten.linalg_lu_solve`: `X` with `A X = B` (`left`) or `X A = B`, from `A`'s `(LU,
/// pivots)`; `adjoint` solves with `Aᵀ`. Batch dims broadcast.
pub fn lu_solve(
    lu: &Tensor,
    pivots: &Tensor,
    b: &Tensor,
    left: bool,
    adjoint: bool,
) -> Result<Tensor> {
    const OP: &str = "linalg.lu_solve";
    let a = Batch::square(OP, "LU", lu)?;
    let rhs = Batch::of(OP, "B", b)?;
    if a.dtype != rhs.dtype {
        return invalid(
            OP,
            format!(
                "expected LU and B to have the same dtype, but found LU of type {} and B of type {} instead",
                a.dtype, rhs.dtype
            ),
        );
    }
    let n = a.rows;
    let inner = if left { rhs.rows } else { rhs.cols };
    if inner != n {
        return shape_err(
            OP,
            format!(
                "incompatible shapes of A and B for the equation {} ({n}x{n} and {}x{})",
                if left { "AX = B" } else { "XA = B" },
                rhs.rows,
                rhs.cols
            ),
        );
    }
    if pivots.shape() != with_tail(&a.batch, &[n]).as_slice() {
        return shape_err(
            OP,
            format!(
                "expected LU.shape[:-1] and pivots.shape to be the same, but got pivots with shape {:?} instead",
                pivots.shape()
            ),
        );
    }
    let piv = read_pivots(OP, pivots, n)?;
    let out_batch = broadcast_batch(OP, &a.batch, &rhs.batch)?;
    let ia = broadcast_index(&out_batch, &a.batch);
    let ib = broadcast_index(&out_batch, &rhs.batch);
    let mut out = Vec::with_capacity(ia.len() * rhs.size());
    for (&x, &y) in ia.iter().zip(&ib) {
        out.extend(lu_solve_one(
            a.mat(x),
            &piv[x * n..(x + 1) * n],
            rhs.mat(y),
            (rhs.rows, rhs.cols),
            left,
            adjoint,
        ));
    }
    Ok(real_tensor(
        out,
        with_tail(&out_batch, &[rhs.rows, rhs.cols]),
        rhs.dtype,
    ))
}

/// `det(P)` of a pivot vector: -1 for an odd number of interchanges.
fn pivot_sign(piv: &[i32]) -> f64 {
    let swaps = piv
        .iter()
        .enumerate()
        .filter(|&(i, &p)| p as usize != i + 1)
        .count();
    if swaps % 2 == 1 {
        -1.0
    } else {
        1.0
    }
}

/// The LU factorization `_linalg_det` and `_linalg_slogdet` return: that of `Aᵀ` (PyTorch
/// factors the transpose of a contiguous input, whose determinant is the same; the executor's
/// tensors are contiguous).
fn lu_of_transpose(op: &'static str, a: &Tensor) -> Result<(Batch, Vec<f64>, Vec<i32>)> {
    let mut b = Batch::square(op, "A", a)?;
    let n = b.rows;
    if n > 0 {
        for chunk in b.data.chunks_exact_mut(n * n) {
            let t = transpose(chunk, n, n);
            chunk.copy_from_slice(&t);
        }
    }
    let (lu, piv, _) = lu_batch(&b);
    Ok((b, lu, piv))
}

/// `aten._linalg_det`: `(det, LU, pivots)`; `det = det(P) · prod(diag(U))`.
pub fn det(a: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "linalg.det";
    let (b, lu, piv) = lu_of_transpose(OP, a)?;
    let n = b.rows;
    let dets = (0..b.count())
        .map(|i| {
            let p = &piv[i * n..(i + 1) * n];
            let d: f64 = (0..n).map(|j| lu[i * n * n + j * n + j]).product();
            pivot_sign(p) * d
        })
        .collect();
    Ok((
        real_tensor(dets, b.batch.clone(), b.dtype),
        real_tensor(lu, b.shape(), b.dtype),
        i32_tensor(piv, with_tail(&b.batch, &[n])),
    ))
}

/// `aten._linalg_slogdet`: `(sign, logabsdet, LU, pivots)`; a singular matrix has sign 0 and
/// `logabsdet = -inf`.
pub fn slogdet(a: &Tensor) -> Result<(Tensor, Tensor, Tensor, Tensor)> {
    const OP: &str = "linalg.slogdet";
    let (b, lu, piv) = lu_of_transpose(OP, a)?;
    let n = b.rows;
    let mut signs = Vec::with_capacity(b.count());
    let mut logs = Vec::with_capacity(b.count());
    for i in 0..b.count() {
        let diag = (0..n).map(|j| lu[i * n * n + j * n + j]);
        let sgn = |x: f64| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else if x == 0.0 {
                0.0
            } else {
                f64::NAN
            }
        };
        signs.push(diag.clone().map(sgn).product::<f64>() * pivot_sign(&piv[i * n..(i + 1) * n]));
        logs.push(diag.map(|x| x.abs().ln()).sum());
    }
    Ok((
        real_tensor(signs, b.batch.clone(), b.dtype),
        real_tensor(logs, b.batch.clone(), b.dtype),
        real_tensor(lu, b.shape(), b.dtype),
        i32_tensor(piv, with_tail(&b.batch, &[n])),
    ))
}

/// `aten.linalg_inv_ex`: `(inverse, info)`, the inverse solved from the LU factorization (as
/// PyTorch does: `linalg_solve(A, I)`), so a singular matrix gives infinities and NaNs and a
/// positive `info`, an error with `check_errors`.
pub fn inv_ex(a: &Tensor, check_errors: bool) -> Result<(Tensor, Tensor)> {
    const OP: &str = "linalg.inv";
    let b = Batch::square(OP, "A", a)?;
    let n = b.rows;
    let (lu, piv, infos) = lu_batch(&b);
    check_infos(
        OP,
        InfoKind::Inverse,
        &infos,
        !b.batch.is_empty(),
        check_errors,
    )?;
    let mut out = Vec::with_capacity(b.data.len());
    for i in 0..b.count() {
        let mut x = identity(n);
        getrs(
            &lu[i * n * n..(i + 1) * n * n],
            &piv[i * n..(i + 1) * n],
            n,
            &mut x,
            n,
            false,
        );
        out.extend(x);
    }
    Ok((
        real_tensor(out, b.shape(), b.dtype),
        i32_tensor(infos, b.batch.clone()),
    ))
}

/// `aten._linalg_solve_ex`: `(result, LU, pivots, info)` for `A X = B` (`left`) or `X A = B`.
/// `B` is a batch of vectors when it is 1-d or has `A`'s shape minus the last dim (PyTorch's
/// `linalg_solve_is_vector_rhs`); batch dims broadcast; `LU`/`pivots`/`info` are `A`'s.
pub fn solve_ex(
    a: &Tensor,
    b: &Tensor,
    left: bool,
    check_errors: bool,
) -> Result<(Tensor, Tensor, Tensor, Tensor)> {
    const OP: &str = "linalg.solve";
    let am = Batch::square(OP, "A", a)?;
    let bt = linalg_dtype(OP, "B", b)?;
    if am.dtype != bt {
        return invalid(
            OP,
            format!(
                "expected A and B to have the same dtype, but found A of type {} and B of type {} instead",
                am.dtype, bt
            ),
        );
    }
    let n = am.rows;
    let vector =
        b.ndim() == 1 || (a.ndim() - 1 == b.ndim() && b.shape() == &a.shape()[..a.ndim() - 1]);
    if vector && !left {
        return invalid(
            OP,
            "vector broadcasting of the left hand side is not supported for left=False. In this \
             case linalg.solve is equivalent to B / A.squeeze(-1)",
        );
    }
    let b2 = if vector {
        let mut s = b.shape().to_vec();
        s.push(1);
        b.with_shape(s)?
    } else {
        b.clone()
    };
    let rhs = Batch::of(OP, "B", &b2)?;
    let inner = if left { rhs.rows } else { rhs.cols };
    if inner != n {
        return shape_err(
            OP,
            format!(
                "incompatible shapes of A and B for the equation {} ({n}x{n} and {}x{})",
                if left { "AX = B" } else { "XA = B" },
                rhs.rows,
                rhs.cols
            ),
        );
    }
    let (lu, piv, infos) = lu_batch(&am);
    check_infos(
        "torch.linalg.solve",
        InfoKind::Solve,
        &infos,
        !am.batch.is_empty(),
        check_errors,
    )?;
    let out_batch = broadcast_batch(OP, &am.batch, &rhs.batch)?;
    let ia = broadcast_index(&out_batch, &am.batch);
    let ib = broadcast_index(&out_batch, &rhs.batch);
    let mut out = Vec::with_capacity(ia.len() * rhs.size());
    for (&x, &y) in ia.iter().zip(&ib) {
        out.extend(lu_solve_one(
            &lu[x * n * n..(x + 1) * n * n],
            &piv[x * n..(x + 1) * n],
            rhs.mat(y),
            (rhs.rows, rhs.cols),
            left,
            false,
        ));
    }
    let mut shape = with_tail(&out_batch, &[rhs.rows, rhs.cols]);
    if vector {
        shape.pop();
    }
    Ok((
        real_tensor(out, shape, am.dtype),
        real_tensor(lu, am.shape(), am.dtype),
        i32_tensor(piv, with_tail(&am.batch, &[n])),
        i32_tensor(infos, am.batch.clone()),
    ))
}

// ---------------------------------------------------------------------------------------------
// Cholesky: dpotf2 / dpotrs

/// Cholesky factorization `A = L Lᵀ` of the `n × n` matrix `a` in place, reading and writing
/// its lower triangle (`dpotf2`, left-looking). Returns `info`: 0, or the order of the first
/// leading minor that is not positive definite; the failed diagonal holds the non-positive
/// value found and the columns after it are left as they were. The upper triangle is not
/// touched.
pub(crate) fn potrf_lower(a: &mut [f64], n: usize) -> i32 {
    for j in 0..n {
        let mut ajj = a[j * n + j];
        for k in 0..j {
            ajj -= a[j * n + k] * a[j * n + k];
        }
        if ajj <= 0.0 || ajj.is_nan() {
            a[j * n + j] = ajj;
            return j as i32 + 1;
        }
        let ajj = ajj.sqrt();
        a[j * n + j] = ajj;
        let r = 1.0 / ajj;
        for i in j + 1..n {
            let mut x = a[i * n + j];
            for k in 0..j {
                x -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = x * r;
        }
    }
    0
}

/// The Cholesky factor of one matrix: lower `L` (`A = L Lᵀ`, lower triangle read) or upper
/// `U` (`A = Uᵀ U`, upper triangle read), the other triangle zero; and `info`.
fn cholesky_one(m: &[f64], n: usize, upper: bool) -> (Vec<f64>, i32) {
    let mut a = if upper {
        transpose(m, n, n)
    } else {
        m.to_vec()
    };
    let info = potrf_lower(&mut a, n);
    for i in 0..n {
        for j in i + 1..n {
            a[i * n + j] = 0.0;
        }
    }
    if upper {
        a = transpose(&a, n, n);
    }
    (a, info)
}

/// `aten.linalg_cholesky_ex`: `(L, info)`; with `upper`, `U = Lᵀ` from the upper triangle.
pub fn cholesky_ex(a: &Tensor, upper: bool, check_errors: bool) -> Result<(Tensor, Tensor)> {
    const OP: &str = "linalg.cholesky";
    let b = Batch::square(OP, "A", a)?;
    let n = b.rows;
    let mut out = Vec::with_capacity(b.data.len());
    let mut infos = Vec::with_capacity(b.count());
    for i in 0..b.count() {
        let (l, info) = cholesky_one(b.mat(i), n, upper);
        out.extend(l);
        infos.push(info);
    }
    check_infos(
        OP,
        InfoKind::Cholesky,
        &infos,
        !b.batch.is_empty(),
        check_errors,
    )?;
    Ok((
        real_tensor(out, b.shape(), b.dtype),
        i32_tensor(infos, b.batch.clone()),
    ))
}

/// Solves `L Lᵀ X = B` (or `Uᵀ U X = B`) for the `n × nrhs` matrix `b` in place (`dpotrs`).
fn potrs(f: &[f64], n: usize, upper: bool, b: &mut [f64], nrhs: usize) {
    if upper {
        trsm(f, n, true, true, false, b, nrhs);
        trsm(f, n, true, false, false, b, nrhs);
    } else {
        trsm(f, n, false, false, false, b, nrhs);
        trsm(f, n, false, true, false, b, nrhs);
    }
}

/// `aten.cholesky_solve(B, L, upper)`: `X` with `A X = B` for `A = L Lᵀ` (or `Uᵀ U`), from
/// the factor; batch dims broadcast.
pub fn cholesky_solve(b: &Tensor, factor: &Tensor, upper: bool) -> Result<Tensor> {
    const OP: &str = "cholesky_solve";
    let rhs = Batch::of(OP, "b", b)?;
    let f = Batch::square(OP, "u", factor)?;
    if rhs.dtype != f.dtype {
        return invalid(
            OP,
            format!(
                "expected b and A to have the same dtype, but found b of type {} and A of type {} instead",
                rhs.dtype, f.dtype
            ),
        );
    }
    let n = f.rows;
    if rhs.rows != n {
        return shape_err(
            OP,
            format!(
                "incompatible matrix sizes for cholesky_solve: each A matrix is {n} by {n} but each b matrix is {} by {}",
                rhs.rows, rhs.cols
            ),
        );
    }
    let out_batch = broadcast_batch(OP, &rhs.batch, &f.batch)?;
    let ib = broadcast_index(&out_batch, &rhs.batch);
    let ifa = broadcast_index(&out_batch, &f.batch);
    let mut out = Vec::with_capacity(ib.len() * rhs.size());
    for (&y, &x) in ib.iter().zip(&ifa) {
        let mut v = rhs.mat(y).to_vec();
        potrs(f.mat(x), n, upper, &mut v, rhs.cols);
        out.extend(v);
    }
    Ok(real_tensor(
        out,
        with_tail(&out_batch, &[n, rhs.cols]),
        rhs.dtype,
    ))
}

/// `aten.cholesky_inverse(L, upper)`: `(L Lᵀ)⁻¹` (or `(Uᵀ U)⁻¹`) from the factor.
pub fn cholesky_inverse(factor: &Tensor, upper: bool) -> Result<Tensor> {
    const OP: &str = "cholesky_inverse";
    let f = Batch::square(OP, "input", factor)?;
    let n = f.rows;
    let mut out = Vec::with_capacity(f.data.len());
    for i in 0..f.count() {
        let mut x = identity(n);
        potrs(f.mat(i), n, upper, &mut x, n);
        // The inverse is symmetric: mirror the lower triangle (what LAPACK's `potri` computes)
        // so that rounding leaves no asymmetry.
        for r in 0..n {
            for c in r + 1..n {
                x[r * n + c] = x[c * n + r];
            }
        }
        out.extend(x);
    }
    Ok(real_tensor(out, f.shape(), f.dtype))
}

// ---------------------------------------------------------------------------------------------
// Triangular solves

/// `aten.linalg_solve_triangular(A, B, upper, left, unitriangular)`: `X` with `A X = B`
/// (`left`) or `X A = B` for triangular `A` (only the `upper` or lower triangle read); batch
/// dims broadcast.
pub fn solve_triangular(
    a: &Tensor,
    b: &Tensor,
    upper: bool,
    left: bool,
    unitriangular: bool,
) -> Result<Tensor> {
    const OP: &str = "linalg.solve_triangular";
    let t = Batch::square(OP, "A", a)?;
    let rhs = Batch::of(OP, "B", b)?;
    if t.dtype != rhs.dtype {
        return invalid(
            OP,
            format!(
                "expected A and B to have the same dtype, but found A of type {} and B of type {} instead",
                t.dtype, rhs.dtype
            ),
        );
    }
    let n = t.rows;
    let inner = if left { rhs.rows } else { rhs.cols };
    if inner != n {
        return shape_err(
            OP,
            format!(
                "incompatible shapes of A and B for the equation {} ({n}x{n} and {}x{})",
                if left { "AX = B" } else { "XA = B" },
                rhs.rows,
                rhs.cols
            ),
        );
    }
    let out_batch = broadcast_batch(OP, &rhs.batch, &t.batch)?;
    let ia = broadcast_index(&out_batch, &t.batch);
    let ib = broadcast_index(&out_batch, &rhs.batch);
    let mut out = Vec::with_capacity(ib.len() * rhs.size());
    for (&x, &y) in ia.iter().zip(&ib) {
        if left {
            let mut v = rhs.mat(y).to_vec();
            trsm(t.mat(x), n, upper, false, unitriangular, &mut v, rhs.cols);
            out.extend(v);
        } else {
            let mut v = transpose(rhs.mat(y), rhs.rows, rhs.cols);
            trsm(t.mat(x), n, upper, true, unitriangular, &mut v, rhs.rows);
            out.extend(transpose(&v, rhs.cols, rhs.rows));
        }
    }
    Ok(real_tensor(
        out,
        with_tail(&out_batch, &[rhs.rows, rhs.cols]),
        rhs.dtype,
    ))
}

/// `aten.triangular_solve(b, A, upper, transpose, unitriangular)`: `(X, A)` with
/// `op(A) X = b`, both broadcast over the batch dims (the second result is `A`'s copy).
pub fn triangular_solve(
    b: &Tensor,
    a: &Tensor,
    upper: bool,
    transpose_a: bool,
    unitriangular: bool,
) -> Result<(Tensor, Tensor)> {
    const OP: &str = "triangular_solve";
    let rhs = Batch::of(OP, "b", b)?;
    let t = Batch::square(OP, "A", a)?;
    if t.dtype != rhs.dtype {
        return invalid(
            OP,
            format!(
                "expected b and A to have the same dtype, but found b of type {} and A of type {} instead",
                rhs.dtype, t.dtype
            ),
        );
    }
    let n = t.rows;
    if rhs.rows != n {
        return shape_err(
            OP,
            format!(
                "incompatible matrix sizes for triangular_solve: each A matrix is {n} by {n} but each b matrix is {} by {}",
                rhs.rows, rhs.cols
            ),
        );
    }
    let out_batch = broadcast_batch(OP, &rhs.batch, &t.batch)?;
    let ia = broadcast_index(&out_batch, &t.batch);
    let ib = broadcast_index(&out_batch, &rhs.batch);
    let mut x = Vec::with_capacity(ib.len() * rhs.size());
    let mut coef = Vec::with_capacity(ia.len() * t.size());
    for (&i, &j) in ia.iter().zip(&ib) {
        let mut v = rhs.mat(j).to_vec();
        trsm(
            t.mat(i),
            n,
            upper,
            transpose_a,
            unitriangular,
            &mut v,
            rhs.cols,
        );
        x.extend(v);
        coef.extend_from_slice(t.mat(i));
    }
    Ok((
        real_tensor(x, with_tail(&out_batch, &[n, rhs.cols]), rhs.dtype),
        real_tensor(coef, with_tail(&out_batch, &[n, n]), t.dtype),
    ))
}

// ---------------------------------------------------------------------------------------------
// Householder QR: dgeqr2 / dorg2r / dorm2r

/// Applies `H = I - tau v vᵀ` from the left to rows `j..` of the `rows × cols` matrix `c`,
/// where `v` (length `rows`) is zero above `j`.
fn reflect_left(
    v: &[f64],
    tau: f64,
    j: usize,
    c: &mut [f64],
    rows: usize,
    cols: usize,
    from_col: usize,
) {
    if tau == 0.0 {
        return;
    }
    for col in from_col..cols {
        let mut w = 0.0;
        for i in j..rows {
            w += v[i] * c[i * cols + col];
        }
        let tw = tau * w;
        for i in j..rows {
            c[i * cols + col] -= tw * v[i];
        }
    }
}

/// Applies `H = I - tau v vᵀ` from the right to the `rows × cols` matrix `c` (`v` of length
/// `cols`, zero before `j`).
fn reflect_right(v: &[f64], tau: f64, j: usize, c: &mut [f64], rows: usize, cols: usize) {
    if tau == 0.0 {
        return;
    }
    for r in 0..rows {
        let mut w = 0.0;
        for i in j..cols {
            w += c[r * cols + i] * v[i];
        }
        let tw = tau * w;
        for i in j..cols {
            c[r * cols + i] -= tw * v[i];
        }
    }
}

/// Reflector `j` of a QR factorization stored in the `rows × cols` matrix `a`: zeros above
/// row `j`, 1 at `j`, `a[i][j]` below.
fn reflector(a: &[f64], rows: usize, cols: usize, j: usize) -> Vec<f64> {
    let mut v = vec![0.0; rows];
    v[j] = 1.0;
    for i in j + 1..rows {
        v[i] = a[i * cols + j];
    }
    v
}

/// `sqrt(x² + y²)` without needless overflow (`dlapy2`).
fn hypot(x: f64, y: f64) -> f64 {
    x.hypot(y)
}

/// Householder QR of the `m × n` matrix `a` in place (`dgeqr2`): `R` on and above the
/// diagonal, reflector `j` below it with the implicit unit at `(j, j)`; returns the `min(m, n)`
/// scalars `tau`. Reflectors follow `dlarfg`: `beta = -sign(alpha) · ‖(alpha, x)‖`,
/// `tau = (beta - alpha) / beta`, `v = x / (alpha - beta)`, and `tau = 0` (`H = I`) when `x` is
/// zero, so `R`'s diagonal signs are LAPACK's.
pub(crate) fn geqrf_in_place(a: &mut [f64], m: usize, n: usize) -> Vec<f64> {
    let k = m.min(n);
    let mut taus = Vec::with_capacity(k);
    for j in 0..k {
        let alpha = a[j * n + j];
        let xnorm = (j + 1..m).map(|i| a[i * n + j]).fold(0.0f64, hypot);
        let tau = if m - j <= 1 || xnorm == 0.0 {
            0.0
        } else {
            let beta = -hypot(alpha, xnorm).copysign(alpha);
            let scale = 1.0 / (alpha - beta);
            for i in j + 1..m {
                a[i * n + j] *= scale;
            }
            a[j * n + j] = beta;
            (beta - alpha) / beta
        };
        taus.push(tau);
        if j + 1 < n {
            let v = reflector(a, m, n, j);
            reflect_left(&v, tau, j, a, m, n, j + 1);
        }
    }
    taus
}

/// `Q[:, :ncols]` for `Q = H_0 H_1 … H_{k-1}` from the reflectors stored in the `rows × cols`
/// matrix `a` (`dorg2r`): the product applied to the first `ncols` columns of the identity.
fn orgqr(a: &[f64], rows: usize, cols: usize, tau: &[f64], ncols: usize) -> Vec<f64> {
    let mut q = vec![0.0; rows * ncols];
    for i in 0..rows.min(ncols) {
        q[i * ncols + i] = 1.0;
    }
    for j in (0..tau.len()).rev() {
        let v = reflector(a, rows, cols, j);
        reflect_left(&v, tau[j], j, &mut q, rows, ncols, j.min(ncols));
    }
    q
}

/// `aten.geqrf`: `(a, tau)`, LAPACK's compact QR.
pub fn geqrf(a: &Tensor) -> Result<(Tensor, Tensor)> {
    const OP: &str = "geqrf";
    let mut b = Batch::of(OP, "input", a)?;
    let (m, n) = (b.rows, b.cols);
    let k = m.min(n);
    let mut taus = Vec::with_capacity(b.count() * k);
    if b.size() > 0 {
        for chunk in b.data.chunks_exact_mut(m * n) {
            taus.extend(geqrf_in_place(chunk, m, n));
        }
    }
    Ok((
        real_tensor(b.data.clone(), b.shape(), b.dtype),
        real_tensor(taus, with_tail(&b.batch, &[k]), b.dtype),
    ))
}

/// Checks `tau`'s dtype and batch dims against `input`'s (`householder_product`, `ormqr`).
fn check_tau(op: &'static str, input: &Batch, tau: &Tensor) -> Result<Batch> {
    if tau.ndim() + 1 != input.batch.len() + 2 {
        return shape_err(
            op,
            format!(
                "expected tau to have one dimension less than input, but got tau.ndim equal to {} and input.ndim is equal to {}",
                tau.ndim(),
                input.batch.len() + 2
            ),
        );
    }
    if &tau.shape()[..tau.ndim() - 1] != input.batch.as_slice() {
        return shape_err(
            op,
            format!(
                "expected batch dimensions of tau to be equal to input.shape[:-2], but got {:?}",
                &tau.shape()[..tau.ndim() - 1]
            ),
        );
    }
    let td = linalg_dtype(op, "tau", tau)?;
    if td != input.dtype {
        return invalid(
            op,
            format!("tau dtype {td} does not match input dtype {}", input.dtype),
        );
    }
    // tau as a batch of 1-row matrices.
    let k = tau.shape()[tau.ndim() - 1];
    Ok(Batch {
        batch: input.batch.clone(),
        rows: 1,
        cols: k,
        data: tau.to_f64_vec(),
        dtype: td,
    })
}

/// `aten.linalg_householder_product(input, tau)`: the first `n` columns of
/// `H_0 … H_{k-1}` (`orgqr`), for `input (*, m, n)` with `m >= n >= k`.
pub fn householder_product(input: &Tensor, tau: &Tensor) -> Result<Tensor> {
    const OP: &str = "torch.linalg.householder_product";
    let a = Batch::of(OP, "input", input)?;
    let t = check_tau(OP, &a, tau)?;
    let (m, n, k) = (a.rows, a.cols, t.cols);
    if m < n {
        return shape_err(
            OP,
            "input.shape[-2] must be greater than or equal to input.shape[-1]",
        );
    }
    if n < k {
        return shape_err(
            OP,
            "input.shape[-1] must be greater than or equal to tau.shape[-1]",
        );
    }
    let mut out = Vec::with_capacity(a.data.len());
    for i in 0..a.count() {
        out.extend(orgqr(a.mat(i), m, n, t.mat(i), n));
    }
    Ok(real_tensor(out, a.shape(), a.dtype))
}

/// `aten.ormqr(input, tau, other, left, transpose)`: `other` multiplied by `Q = H_0 … H_{k-1}`
/// (the reflectors of `input`, as `geqrf` stores them): `Q C`, `Qᵀ C`, `C Q` or `C Qᵀ`.
pub fn ormqr(
    input: &Tensor,
    tau: &Tensor,
    other: &Tensor,
    left: bool,
    transpose_q: bool,
) -> Result<Tensor> {
    const OP: &str = "torch.ormqr";
    let a = Batch::of(OP, "input", input)?;
    let t = check_tau(OP, &a, tau)?;
    let c = Batch::of(OP, "other", other)?;
    if c.batch != a.batch {
        return shape_err(
            OP,
            format!(
                "expected batch dimensions of other to be equal to input.shape[:-2], but got {:?}",
                c.batch
            ),
        );
    }
    if c.dtype != a.dtype {
        return invalid(
            OP,
            format!(
                "expected input and other to have the same dtype, but input has dtype {} and other has dtype {}",
                a.dtype, c.dtype
            ),
        );
    }
    let k = t.cols;
    let (mn, ka) = (a.rows, a.cols);
    let side = if left { c.rows } else { c.cols };
    let which = if left { -2 } else { -1 };
    if side < k {
        return shape_err(
            OP,
            format!("other.shape[{which}] must be greater than or equal to tau.shape[-1]"),
        );
    }
    if side != mn {
        return shape_err(
            OP,
            format!("other.shape[{which}] must be equal to input.shape[-2]"),
        );
    }
    if k > ka {
        return shape_err(
            OP,
            "tau.shape[-1] must be less than or equal to input.shape[-1]",
        );
    }
    let mut out = Vec::with_capacity(c.data.len());
    for i in 0..c.count() {
        let mut m = c.mat(i).to_vec();
        let refl = a.mat(i);
        let taus = t.mat(i);
        // Q C = H_0 (… (H_{k-1} C)), Qᵀ C = H_{k-1} (… (H_0 C)), and mirrored from the right.
        let forward = left == transpose_q;
        let order: Vec<usize> = if forward {
            (0..k).collect()
        } else {
            (0..k).rev().collect()
        };
        for j in order {
            let v = reflector(refl, mn, ka, j);
            if left {
                reflect_left(&v, taus[j], j, &mut m, c.rows, c.cols, 0);
            } else {
                reflect_right(&v, taus[j], j, &mut m, c.rows, c.cols);
            }
        }
        out.extend(m);
    }
    Ok(real_tensor(out, c.shape(), c.dtype))
}

/// `aten.linalg_qr(A, mode)`: `(Q, R)` from Householder QR; `reduced`: `Q (*, m, k)`,
/// `R (*, k, n)`; `complete`: `Q (*, m, m)`, `R (*, m, n)`; `r`: an empty `Q` and `R (*, k, n)`.
pub fn qr(a: &Tensor, mode: &str) -> Result<(Tensor, Tensor)> {
    const OP: &str = "linalg.qr";
    let (compute_q, reduced) = match mode {
        "reduced" => (true, true),
        "complete" => (true, false),
        "r" => (false, true),
        _ => {
            return invalid(
                OP,
                format!("qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'"),
            )
        }
    };
    let b = Batch::of(OP, "A", a)?;
    let (m, n) = (b.rows, b.cols);
    let k = m.min(n);
    let r_rows = if reduced { k } else { m };
    let q_cols = if reduced { k } else { m };
    let mut qs = Vec::new();
    let mut rs = Vec::with_capacity(b.count() * r_rows * n);
    for i in 0..b.count() {
        let mut f = b.mat(i).to_vec();
        let tau = if f.is_empty() {
            vec![]
        } else {
            geqrf_in_place(&mut f, m, n)
        };
        for r in 0..r_rows {
            for c in 0..n {
                rs.push(if c >= r { f[r * n + c] } else { 0.0 });
            }
        }
        if compute_q {
            qs.extend(orgqr(&f, m, n, &tau, q_cols));
        }
    }
    let q = if compute_q {
        real_tensor(qs, with_tail(&b.batch, &[m, q_cols]), b.dtype)
    } else {
        real_tensor(vec![], vec![0], b.dtype)
    };
    Ok((
        q,
        real_tensor(rs, with_tail(&b.batch, &[r_rows, n]), b.dtype),
    ))
}

// ---------------------------------------------------------------------------------------------
// Bunch-Kaufman LDLᵀ: dsytf2 / dsytrs (lower)

/// Bunch-Kaufman factorization `A = P L D Lᵀ Pᵀ` of the symmetric `n × n` matrix `a` in
/// place, from and into its lower triangle (`dsytf2` with `uplo = 'L'`): `D` block diagonal
/// with 1×1 and 2×2 blocks, `L` unit lower. Pivots are LAPACK's: `piv[k] > 0` a 1×1 block
/// with rows `k` and `piv[k]` interchanged; `piv[k] = piv[k+1] < 0` a 2×2 block with rows
/// `k+1` and `-piv[k]` interchanged. `info` is the first 1-based `k` with `D[k,k]` exactly
/// zero.
pub(crate) fn sytrf_lower(a: &mut [f64], n: usize) -> (Vec<i32>, i32) {
    let alpha = (1.0 + 17f64.sqrt()) / 8.0;
    let at = |a: &[f64], i: usize, j: usize| a[i * n + j];
    let mut piv = vec![0i32; n];
    let mut info = 0;
    let mut k = 0;
    while k < n {
        let mut kstep = 1;
        let absakk = at(a, k, k).abs();
        // Largest off-diagonal entry of column k (first of equals, as idamax).
        let (mut imax, mut colmax) = (k, 0.0);
        if k + 1 < n {
            imax = k + 1;
            colmax = at(a, k + 1, k).abs();
            for i in k + 2..n {
                if at(a, i, k).abs() > colmax {
                    colmax = at(a, i, k).abs();
                    imax = i;
                }
            }
        }
        let kp;
        if absakk.max(colmax) == 0.0 || absakk.is_nan() {
            if info == 0 {
                info = k as i32 + 1;
            }
            kp = k;
        } else {
            if absakk >= alpha * colmax {
                kp = k;
            } else {
                // Largest off-diagonal entry of row/column imax.
                let mut rowmax = at(a, imax, k).abs();
                for j in k + 1..imax {
                    rowmax = rowmax.max(at(a, imax, j).abs());
                }
                if imax + 1 < n {
                    let mut best = at(a, imax + 1, imax).abs();
                    for i in imax + 2..n {
                        if at(a, i, imax).abs() > best {
                            best = at(a, i, imax).abs();
                        }
                    }
                    rowmax = rowmax.max(best);
                }
                if absakk >= alpha * colmax * (colmax / rowmax) {
                    kp = k;
                } else if at(a, imax, imax).abs() >= alpha * rowmax {
                    kp = imax;
                } else {
                    kp = imax;
                    kstep = 2;
                }
            }
            let kk = k + kstep - 1;
            if kp != kk {
                // Interchange rows and columns kk and kp of the trailing submatrix.
                for i in kp + 1..n {
                    a.swap(i * n + kk, i * n + kp);
                }
                for j in kk + 1..kp {
                    a.swap(j * n + kk, kp * n + j);
                }
                a.swap(kk * n + kk, kp * n + kp);
                if kstep == 2 {
                    a.swap((k + 1) * n + k, kp * n + k);
                }
            }
            if kstep == 1 {
                if k + 1 < n {
                    // Rank-1 update (`dsyr` on the lower triangle, skipping zero entries),
                    // then L's column k.
                    let d11 = 1.0 / at(a, k, k);
                    for j in k + 1..n {
                        let xj = at(a, j, k);
                        if xj != 0.0 {
                            let t = -d11 * xj;
                            for i in j..n {
                                a[i * n + j] += at(a, i, k) * t;
                            }
                        }
                    }
                    for i in k + 1..n {
                        a[i * n + k] *= d11;
                    }
                }
            } else if k + 2 < n {
                // Rank-2 update with the inverse of the 2×2 block.
                let d21 = at(a, k + 1, k);
                let d11 = at(a, k + 1, k + 1) / d21;
                let d22 = at(a, k, k) / d21;
                let t = 1.0 / (d11 * d22 - 1.0);
                let d21 = t / d21;
                for j in k + 2..n {
                    let wk = d21 * (d11 * at(a, j, k) - at(a, j, k + 1));
                    let wkp1 = d21 * (d22 * at(a, j, k + 1) - at(a, j, k));
                    for i in j..n {
                        a[i * n + j] -= at(a, i, k) * wk + at(a, i, k + 1) * wkp1;
                    }
                    a[j * n + k] = wk;
                    a[j * n + k + 1] = wkp1;
                }
            }
        }
        if kstep == 1 {
            piv[k] = kp as i32 + 1;
        } else {
            piv[k] = -(kp as i32 + 1);
            piv[k + 1] = -(kp as i32 + 1);
        }
        k += kstep;
    }
    (piv, info)
}

/// Solves `A X = B` for the `n × nrhs` matrix `b` in place from `A`'s lower Bunch-Kaufman
/// factorization (`dsytrs` with `uplo = 'L'`).
fn sytrs_lower(ld: &[f64], piv: &[i32], n: usize, b: &mut [f64], nrhs: usize) {
    let at = |i: usize, j: usize| ld[i * n + j];
    let swap_rows = |b: &mut [f64], r: usize, s: usize| {
        if r != s {
            for c in 0..nrhs {
                b.swap(r * nrhs + c, s * nrhs + c);
            }
        }
    };
    // L D Y = P B.
    let mut k = 0;
    while k < n {
        if piv[k] > 0 {
            swap_rows(b, k, piv[k] as usize - 1);
            for i in k + 1..n {
                for c in 0..nrhs {
                    b[i * nrhs + c] -= at(i, k) * b[k * nrhs + c];
                }
            }
            let r = 1.0 / at(k, k);
            for c in 0..nrhs {
                b[k * nrhs + c] *= r;
            }
            k += 1;
        } else {
            swap_rows(b, k + 1, (-piv[k]) as usize - 1);
            for i in k + 2..n {
                for c in 0..nrhs {
                    b[i * nrhs + c] -= at(i, k) * b[k * nrhs + c];
                    b[i * nrhs + c] -= at(i, k + 1) * b[(k + 1) * nrhs + c];
                }
            }
            let akm1k = at(k + 1, k);
            let akm1 = at(k, k) / akm1k;
            let ak = at(k + 1, k + 1) / akm1k;
            let denom = akm1 * ak - 1.0;
            for c in 0..nrhs {
                let bkm1 = b[k * nrhs + c] / akm1k;
                let bk = b[(k + 1) * nrhs + c] / akm1k;
                b[k * nrhs + c] = (ak * bkm1 - bk) / denom;
                b[(k + 1) * nrhs + c] = (akm1 * bk - bkm1) / denom;
            }
            k += 2;
        }
    }
    // Lᵀ X = Y, then the interchanges back.
    let mut k = n;
    while k > 0 {
        let kk = k - 1;
        if piv[kk] > 0 {
            for c in 0..nrhs {
                let mut s = 0.0;
                for i in kk + 1..n {
                    s += b[i * nrhs + c] * at(i, kk);
                }
                b[kk * nrhs + c] -= s;
            }
            swap_rows(b, kk, piv[kk] as usize - 1);
            k -= 1;
        } else {
            for c in 0..nrhs {
                let mut s = 0.0;
                let mut s1 = 0.0;
                for i in kk + 1..n {
                    s += b[i * nrhs + c] * at(i, kk);
                    s1 += b[i * nrhs + c] * at(i, kk - 1);
                }
                b[kk * nrhs + c] -= s;
                b[(kk - 1) * nrhs + c] -= s1;
            }
            swap_rows(b, kk, (-piv[kk]) as usize - 1);
            k -= 2;
        }
    }
}

/// `aten.linalg_ldl_factor_ex(A, hermitian, check_errors)`: `(LD, pivots, info)`, the lower
/// Bunch-Kaufman factorization (`sytrf`); `LD`'s strict upper triangle is zero. `hermitian`
/// changes nothing for real matrices.
pub fn ldl_factor_ex(a: &Tensor, check_errors: bool) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "torch.linalg.ldl_factor_ex";
    let b = Batch::square(OP, "A", a)?;
    let n = b.rows;
    let mut out = b.data.clone();
    let mut pivs = Vec::with_capacity(b.count() * n);
    let mut infos = Vec::with_capacity(b.count());
    if n > 0 {
        for chunk in out.chunks_exact_mut(n * n) {
            let (p, info) = sytrf_lower(chunk, n);
            for i in 0..n {
                for j in i + 1..n {
                    chunk[i * n + j] = 0.0;
                }
            }
            pivs.extend(p);
            infos.push(info);
        }
    } else {
        infos.resize(b.count(), 0);
    }
    check_infos(
        "torch.linalg.ldl_factor",
        InfoKind::Ldl,
        &infos,
        !b.batch.is_empty(),
        check_errors,
    )?;
    Ok((
        real_tensor(out, b.shape(), b.dtype),
        i32_tensor(pivs, with_tail(&b.batch, &[n])),
        i32_tensor(infos, b.batch.clone()),
    ))
}

/// `aten.linalg_ldl_solve(LD, pivots, B, hermitian)`: `X` with `A X = B` from `A`'s
/// `ldl_factor`; batch dims broadcast.
pub fn ldl_solve(ld: &Tensor, pivots: &Tensor, b: &Tensor) -> Result<Tensor> {
    const OP: &str = "torch.linalg.ldl_solve";
    let f = Batch::square(OP, "LD", ld)?;
    let rhs = Batch::of(OP, "B", b)?;
    if f.dtype != rhs.dtype {
        return invalid(
            OP,
            format!("LD dtype {} does not match b dtype {}", f.dtype, rhs.dtype),
        );
    }
    let n = f.rows;
    if rhs.rows != n {
        return shape_err(
            OP,
            format!(
                "incompatible shapes of LD ({n}x{n}) and B ({}x{})",
                rhs.rows, rhs.cols
            ),
        );
    }
    if pivots.shape() != with_tail(&f.batch, &[n]).as_slice() {
        return shape_err(
            OP,
            format!(
                "expected LD.shape[:-1] and pivots.shape to be the same, but got pivots with shape {:?} instead",
                pivots.shape()
            ),
        );
    }
    if !pivots.dtype().is_int() {
        return invalid(
            OP,
            format!("expected pivots to be integers, got {}", pivots.dtype()),
        );
    }
    let piv: Vec<i32> = pivots.to_i64_vec().into_iter().map(|p| p as i32).collect();
    // Validate the pivot structure: LAPACK reads out of bounds on bad pivots.
    for bi in 0..f.count() {
        let p = &piv[bi * n..(bi + 1) * n];
        let mut k = 0;
        while k < n {
            let v = p[k];
            let ok = if v > 0 {
                v as usize <= n
            } else {
                v < 0 && k + 1 < n && p[k + 1] == v && (-v) as usize <= n
            };
            if !ok {
                return invalid(
                    OP,
                    format!("pivots {p:?} are not a valid LDL pivot sequence"),
                );
            }
            k += if v > 0 { 1 } else { 2 };
        }
    }
    let out_batch = broadcast_batch(OP, &rhs.batch, &f.batch)?;
    let ifa = broadcast_index(&out_batch, &f.batch);
    let ib = broadcast_index(&out_batch, &rhs.batch);
    let mut out = Vec::with_capacity(ib.len() * rhs.size());
    for (&x, &y) in ifa.iter().zip(&ib) {
        let mut v = rhs.mat(y).to_vec();
        sytrs_lower(f.mat(x), &piv[x * n..(x + 1) * n], n, &mut v, rhs.cols);
        out.extend(v);
    }
    Ok(real_tensor(
        out,
        with_tail(&out_batch, &[n, rhs.cols]),
        rhs.dtype,
    ))
}
