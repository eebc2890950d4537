//! Elementwise kernels: unary math, activations, binary arithmetic with broadcasting and type
//! promotion, comparisons, logical/bitwise ops, `where`, `masked_fill`, `clamp`.
//!
//! Every kernel dispatches on dtype once and then runs a monomorphized loop. f16/bf16 values are
//! upcast to f32, computed, and rounded back, like PyTorch's CPU kernels. Integer arithmetic is
//! done in i64 and wrapped back to the narrow type, which equals C++'s wrapping behaviour.

use crate::dtype::{DType, Real};
use crate::error::{dtype_err, invalid, Result};
use crate::promote::{result_type, result_type_tt, Operand};
use crate::tensor::{broadcast_shapes, broadcast_strides, gather_strided, numel, Scalar, Tensor};
use crate::with_dtype;
use rayon::prelude::*;

/// Below this many elements a map stays on one thread: spawning costs more than it saves.
const PAR_MIN: usize = 1 << 15;

/// Build a vector of `n` outputs by calling `f(start, chunk)` on disjoint chunks, on rayon
/// threads when `n * cost >= PAR_MIN`. `f` is a trait object on purpose: rayon's machinery is
/// then instantiated once per output type instead of once per kernel closure, which keeps
/// compile times sane; the dynamic call happens once per chunk, never per element.
pub(crate) fn par_fill<O: Copy + Default + Send>(
    n: usize,
    cost: usize,
    f: &(dyn Fn(usize, &mut [O]) + Sync),
) -> Vec<O> {
    let mut out = vec![O::default(); n];
    let threads = rayon::current_num_threads();
    if n.saturating_mul(cost.max(1)) < PAR_MIN || threads == 1 || n < 2 {
        f(0, &mut out);
    } else {
        let chunk = n
            .div_ceil(threads * 4)
            .max(PAR_MIN / 4 / cost.max(1))
            .max(1);
        out.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, c)| f(i * chunk, c));
    }
    out
}

/// Map a slice, in parallel when large.
pub(crate) fn par_map<A: Copy + Sync, O: Copy + Default + Send>(
    src: &[A],
    f: impl Fn(A) -> O + Sync + Send,
) -> Vec<O> {
    par_fill(src.len(), 1, &|start, out: &mut [O]| {
        for (o, &x) in out.iter_mut().zip(&src[start..]) {
            *o = f(x);
        }
    })
}

/// Apply `f` to two slices broadcast to `out` (their shapes must broadcast to it).
pub(crate) fn zip_broadcast<A: Copy + Sync, B: Copy + Sync, O: Copy + Default + Send>(
    a: &[A],
    ash: &[usize],
    b: &[B],
    bsh: &[usize],
    out: &[usize],
    f: impl Fn(A, B) -> O + Sync + Send,
) -> Vec<O> {
    let n = numel(out);
    if a.len() == n && b.len() == n {
        // Same shape (or same element count after broadcasting, which implies same layout).
        return par_fill(n, 1, &|start, out: &mut [O]| {
            for ((o, &x), &y) in out.iter_mut().zip(&a[start..]).zip(&b[start..]) {
                *o = f(x, y);
            }
        });
    }
    if b.len() == 1 && a.len() == n {
        let y = b[0];
        return par_map(a, |x| f(x, y));
    }
    if a.len() == 1 && b.len() == n {
        let x = a[0];
        return par_map(b, |y| f(x, y));
    }
    let mut res = Vec::with_capacity(n);
    if n == 0 {
        return res;
    }
    let sa = broadcast_strides(ash, out);
    let sb = broadcast_strides(bsh, out);
    let nd = out.len();
    let inner = out[nd - 1];
    let (ia, ib) = (sa[nd - 1], sb[nd - 1]);
    let mut idx = vec![0usize; nd];
    let (mut pa, mut pb) = (0isize, 0isize);
    loop {
        let (mut qa, mut qb) = (pa, pb);
        for _ in 0..inner {
            res.push(f(a[qa as usize], b[qb as usize]));
            qa += ia;
            qb += ib;
        }
        let mut d = nd - 1;
        loop {
            if d == 0 {
                return res;
            }
            d -= 1;
            idx[d] += 1;
            pa += sa[d];
            pb += sb[d];
            if idx[d] < out[d] {
                break;
            }
            pa -= sa[d] * out[d] as isize;
            pb -= sb[d] * out[d] as isize;
            idx[d] = 0;
        }
    }
}

/// Materialize `t` broadcast to `shape` (used by ternary ops).
pub(crate) fn broadcast_to(t: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if t.shape() == shape {
        return Ok(t.clone());
    }
    let s = broadcast_shapes("expand", t.shape(), shape)?;
    if s != shape {
        return crate::error::shape_err(
            "expand",
            format!("cannot expand {:?} to {:?}", t.shape(), shape),
        );
    }
    let st = broadcast_strides(t.shape(), shape);
    Ok(with_dtype!(t.dtype(), T => Tensor::from_parts(
        gather_strided(t.as_slice::<T>()?, shape, &st, 0),
        shape.to_vec(),
    )))
}

// ---------------------------------------------------------------------------------------------
// Unary
// ---------------------------------------------------------------------------------------------

/// Float unary map: f64 computes in f64, everything else in f32. Integer/bool inputs are
/// promoted to f32 when `int_ok`, else rejected.
fn map_float(
    op: &'static str,
    t: &Tensor,
    int_ok: bool,
    f32f: impl Fn(f32) -> f32 + Sync + Send,
    f64f: impl Fn(f64) -> f64 + Sync + Send,
) -> Result<Tensor> {
    let shape = t.shape().to_vec();
    Ok(match t.dtype() {
        DType::F64 => Tensor::from_parts(par_map(t.as_slice::<f64>()?, f64f), shape),
        DType::F32 => Tensor::from_parts(par_map(t.as_slice::<f32>()?, f32f), shape),
        DType::F16 => Tensor::from_parts(
            par_map(t.as_slice::<half::f16>()?, |x| {
                half::f16::from_f32(f32f(x.to_f32()))
            }),
            shape,
        ),
        DType::BF16 => Tensor::from_parts(
            par_map(t.as_slice::<half::bf16>()?, |x| {
                half::bf16::from_f32(f32f(x.to_f32()))
            }),
            shape,
        ),
        _ if int_ok => {
            let f = t.to_dtype(DType::F32);
            Tensor::from_parts(par_map(f.as_slice::<f32>()?, f32f), shape)
        }
        d => return dtype_err(op, d),
    })
}

/// Dtype-preserving unary map: floats as in [`map_float`], ints in i64 (wrapping back),
/// bools through `boolf` (or an error when `None`).
fn map_numeric(
    op: &'static str,
    t: &Tensor,
    f32f: impl Fn(f32) -> f32 + Sync + Send,
    f64f: impl Fn(f64) -> f64 + Sync + Send,
    intf: impl Fn(i64) -> i64 + Sync + Send,
    boolf: Option<fn(bool) -> bool>,
) -> Result<Tensor> {
    let dt = t.dtype();
    if dt.is_float() {
        return map_float(op, t, false, f32f, f64f);
    }
    if dt == DType::Bool {
        let Some(bf) = boolf else {
            return dtype_err(op, dt);
        };
        return Ok(Tensor::from_parts(
            par_map(t.as_slice::<bool>()?, bf),
            t.shape().to_vec(),
        ));
    }
    Ok(with_dtype!(dt, T => Tensor::from_parts(
        par_map(t.as_slice::<T>()?, |x| T::from_i64(intf(x.to_i64()))),
        t.shape().to_vec(),
    )))
}

/// Map any dtype to bool.
fn map_to_bool(
    t: &Tensor,
    f32f: impl Fn(f32) -> bool + Sync + Send,
    f64f: impl Fn(f64) -> bool + Sync + Send,
    otherf: impl Fn(bool) -> bool + Sync + Send,
    int_val: bool,
) -> Result<Tensor> {
    let shape = t.shape().to_vec();
    Ok(match t.dtype() {
        DType::F64 => Tensor::from_parts(par_map(t.as_slice::<f64>()?, f64f), shape),
        DType::F32 => Tensor::from_parts(par_map(t.as_slice::<f32>()?, f32f), shape),
        DType::F16 => Tensor::from_parts(
            par_map(t.as_slice::<half::f16>()?, |x| f32f(x.to_f32())),
            shape,
        ),
        DType::BF16 => Tensor::from_parts(
            par_map(t.as_slice::<half::bf16>()?, |x| f32f(x.to_f32())),
            shape,
        ),
        d => with_dtype!(d, T => Tensor::from_parts(
            par_map(t.as_slice::<T>()?, |x| if int_val { otherf(x.to_bool()) } else { otherf(false) }),
            shape,
        )),
    })
}

macro_rules! float_unary {
    ($(#[$m:meta])* $name:ident, $int_ok:expr, |$x:ident| $e:expr) => {
        $(#[$m])*
        pub fn $name(t: &Tensor) -> Result<Tensor> {
            map_float(stringify!($name), t, $int_ok, |$x: f32| $e, |$x: f64| $e)
        }
    };
}

float_unary!(/// `aten.exp`
    exp, true, |x| x.exp());
float_unary!(/// `aten.exp2`
    exp2, true, |x| x.exp2());
float_unary!(/// `aten.log`
    log, true, |x| x.ln());
float_unary!(/// `aten.log2`
    log2, true, |x| x.log2());
float_unary!(/// `aten.log10`
    log10, true, |x| x.log10());
float_unary!(/// `aten.log1p`
    log1p, true, |x| x.ln_1p());
float_unary!(/// `aten.expm1`
    expm1, true, |x| x.exp_m1());
float_unary!(/// `aten.sqrt`
    sqrt, true, |x| x.sqrt());
float_unary!(/// `aten.rsqrt`
    rsqrt, true, |x| 1.0 / x.sqrt());
float_unary!(/// `aten.sin`
    sin, true, |x| x.sin());
float_unary!(/// `aten.cos`
    cos, true, |x| x.cos());
float_unary!(/// `aten.tan`
    tan, true, |x| x.tan());
float_unary!(/// `aten.asin`
    asin, true, |x| x.asin());
float_unary!(/// `aten.acos`
    acos, true, |x| x.acos());
float_unary!(/// `aten.atan`
    atan, true, |x| x.atan());
float_unary!(/// `aten.sinh`
    sinh, true, |x| x.sinh());
float_unary!(/// `aten.cosh`
    cosh, true, |x| x.cosh());
float_unary!(/// `aten.tanh`
    tanh, true, |x| x.tanh());
float_unary!(/// `aten.erf`
    erf, true, |x| Real::erf(x));
float_unary!(/// `aten.erfc`
    erfc, true, |x| Real::erfc(x));
float_unary!(/// `aten.lgamma`: `ln |Γ(x)|`
    lgamma, true, |x| Real::lgamma(x));
float_unary!(/// `aten.asinh`
    asinh, true, |x| x.asinh());
float_unary!(/// `aten.acosh`
    acosh, true, |x| x.acosh());
float_unary!(/// `aten.atanh`
    atanh, true, |x| x.atanh());
float_unary!(/// `aten.sigmoid`
    sigmoid, true, |x| 1.0 / (1.0 + (-x).exp()));
float_unary!(/// `aten.reciprocal` (ints → f32)
    reciprocal, true, |x| 1.0 / x);
float_unary!(/// `aten.silu`: `x * sigmoid(x)`
    silu, false, |x| x / (1.0 + (-x).exp()));
float_unary!(/// `aten.mish`: `x * tanh(softplus(x))`
    mish, false, |x| x * (x.exp().ln_1p()).tanh());
float_unary!(/// `aten.hardswish`: `x * relu6(x + 3) / 6`
    hardswish, false, |x| x * (x + 3.0).clamp(0.0, 6.0) / 6.0);
float_unary!(/// `aten.hardsigmoid`: `relu6(x + 3) / 6`
    hardsigmoid, false, |x| (x + 3.0).clamp(0.0, 6.0) / 6.0);

fn gelu_erf<F: Real>(x: F) -> F {
    x * F::lit(0.5) * (F::one() + Real::erf(x * F::lit(std::f64::consts::FRAC_1_SQRT_2)))
}
fn gelu_tanh<F: Real>(x: F) -> F {
    let k = F::lit((2.0 / std::f64::consts::PI).sqrt());
    F::lit(0.5) * x * (F::one() + (k * (x + F::lit(0.044715) * x * x * x)).tanh())
}

/// `aten.gelu` with `approximate` = `"none"` (erf) or `"tanh"`.
pub fn gelu(t: &Tensor, approximate: &str) -> Result<Tensor> {
    match approximate {
        "none" => map_float("gelu", t, false, gelu_erf::<f32>, gelu_erf::<f64>),
        "tanh" => map_float("gelu", t, false, gelu_tanh::<f32>, gelu_tanh::<f64>),
        a => invalid(
            "gelu",
            format!("approximate must be 'none' or 'tanh', got {a:?}"),
        ),
    }
}

/// `aten.leaky_relu`.
pub fn leaky_relu(t: &Tensor, negative_slope: f64) -> Result<Tensor> {
    let s32 = negative_slope as f32;
    map_float(
        "leaky_relu",
        t,
        false,
        move |x| if x > 0.0 { x } else { x * s32 },
        move |x| if x > 0.0 { x } else { x * negative_slope },
    )
}

/// `aten.elu(x, alpha, scale, input_scale)`.
pub fn elu(t: &Tensor, alpha: f64, scale: f64, input_scale: f64) -> Result<Tensor> {
    let (a, s, i) = (alpha as f32, scale as f32, input_scale as f32);
    map_float(
        "elu",
        t,
        false,
        move |x| {
            if x > 0.0 {
                x * s
            } else {
                a * s * ((x * i).exp_m1())
            }
        },
        move |x| {
            if x > 0.0 {
                x * scale
            } else {
                alpha * scale * ((x * input_scale).exp_m1())
            }
        },
    )
}

/// `aten.softplus(x, beta, threshold)`: linear above `threshold / beta`.
pub fn softplus(t: &Tensor, beta: f64, threshold: f64) -> Result<Tensor> {
    let (b, th) = (beta as f32, threshold as f32);
    map_float(
        "softplus",
        t,
        false,
        move |x| {
            if x * b > th {
                x
            } else {
                (x * b).exp().ln_1p() / b
            }
        },
        move |x| {
            if x * beta > threshold {
                x
            } else {
                (x * beta).exp().ln_1p() / beta
            }
        },
    )
}

/// `aten.hardtanh(x, min_val, max_val)` (dtype-preserving).
pub fn hardtanh(t: &Tensor, min_val: f64, max_val: f64) -> Result<Tensor> {
    clamp(
        t,
        Some(Scalar::Float(min_val)),
        Some(Scalar::Float(max_val)),
    )
    .map(|r| r.to_dtype(t.dtype()))
}

/// `aten.neg` (bool is an error, like PyTorch).
pub fn neg(t: &Tensor) -> Result<Tensor> {
    map_numeric("neg", t, |x| -x, |x| -x, |x| x.wrapping_neg(), None)
}

/// `aten.abs`.
pub fn abs(t: &Tensor) -> Result<Tensor> {
    map_numeric(
        "abs",
        t,
        |x| x.abs(),
        |x| x.abs(),
        |x| x.wrapping_abs(),
        None,
    )
}

/// `aten.relu` (ints keep their dtype).
pub fn relu(t: &Tensor) -> Result<Tensor> {
    map_numeric(
        "relu",
        t,
        |x| if x > 0.0 || x.is_nan() { x } else { 0.0 },
        |x| if x > 0.0 || x.is_nan() { x } else { 0.0 },
        |x| x.max(0),
        None,
    )
}

/// `aten.floor` (identity on ints).
pub fn floor(t: &Tensor) -> Result<Tensor> {
    map_numeric("floor", t, |x| x.floor(), |x| x.floor(), |x| x, Some(|b| b))
}

/// `aten.ceil` (identity on ints).
pub fn ceil(t: &Tensor) -> Result<Tensor> {
    map_numeric("ceil", t, |x| x.ceil(), |x| x.ceil(), |x| x, Some(|b| b))
}

/// `aten.trunc` (identity on ints).
pub fn trunc(t: &Tensor) -> Result<Tensor> {
    map_numeric("trunc", t, |x| x.trunc(), |x| x.trunc(), |x| x, Some(|b| b))
}

/// `aten.round` (half to even, like `nearbyint`; identity on ints).
pub fn round(t: &Tensor) -> Result<Tensor> {
    map_numeric(
        "round",
        t,
        |x| x.round_ties_even(),
        |x| x.round_ties_even(),
        |x| x,
        Some(|b| b),
    )
}

/// `aten.round.decimals`: `round(x * 10^d) / 10^d` with half-to-even (float only).
pub fn round_decimals(t: &Tensor, decimals: i64) -> Result<Tensor> {
    if !t.dtype().is_float() {
        return dtype_err("round", t.dtype());
    }
    let (neg, p) = (decimals < 0, 10f64.powi(decimals.unsigned_abs() as i32));
    let p32 = p as f32;
    map_float(
        "round",
        t,
        false,
        move |x| {
            if neg {
                (x / p32).round_ties_even() * p32
            } else {
                (x * p32).round_ties_even() / p32
            }
        },
        move |x| {
            if neg {
                (x / p).round_ties_even() * p
            } else {
                (x * p).round_ties_even() / p
            }
        },
    )
}

/// `aten.sign` (0 for 0, NaN stays NaN; identity on bools).
pub fn sign(t: &Tensor) -> Result<Tensor> {
    fn sg<F: Real>(x: F) -> F {
        if x > F::zero() {
            F::one()
        } else if x < F::zero() {
            -F::one()
        } else {
            x * F::zero()
        }
    }
    map_numeric("sign", t, sg::<f32>, sg::<f64>, |x| x.signum(), Some(|b| b))
}

/// `aten.square` (`x * x`; bool → int64 like PyTorch's `pow(x, 2)` promotion).
pub fn square(t: &Tensor) -> Result<Tensor> {
    let t = if t.dtype() == DType::Bool {
        t.to_dtype(DType::I64)
    } else {
        t.clone()
    };
    map_numeric(
        "square",
        &t,
        |x| x * x,
        |x| x * x,
        |x| x.wrapping_mul(x),
        None,
    )
}

/// `aten.logical_not` → bool.
pub fn logical_not(t: &Tensor) -> Result<Tensor> {
    map_to_bool(t, |x| x == 0.0, |x| x == 0.0, |b| !b, true)
}

/// `aten.isnan` → bool.
pub fn isnan(t: &Tensor) -> Result<Tensor> {
    map_to_bool(t, |x| x.is_nan(), |x| x.is_nan(), |_| false, false)
}

/// `aten.isinf` → bool.
pub fn isinf(t: &Tensor) -> Result<Tensor> {
    map_to_bool(
        t,
        |x| x.is_infinite(),
        |x| x.is_infinite(),
        |_| false,
        false,
    )
}

/// `aten.isfinite` → bool.
pub fn isfinite(t: &Tensor) -> Result<Tensor> {
    map_to_bool(t, |x| x.is_finite(), |x| x.is_finite(), |_| true, false)
}

/// `aten.bitwise_not` (ints and bools only).
pub fn bitwise_not(t: &Tensor) -> Result<Tensor> {
    if t.dtype().is_float() {
        return dtype_err("bitwise_not", t.dtype());
    }
    map_numeric("bitwise_not", t, |x| x, |x| x, |x| !x, Some(|b| !b))
}

// ---------------------------------------------------------------------------------------------
// Binary
// ---------------------------------------------------------------------------------------------

/// Turn a Python scalar into a 0-dim tensor that promotes with `t` exactly like the scalar would
/// (the dtype is `result_type(t, s)`). Use it to call tensor-tensor kernels for `.Scalar`
/// overloads, e.g. `add(&t, &scalar_operand(&t, s), alpha)`.
pub fn scalar_operand(t: &Tensor, s: Scalar) -> Tensor {
    let dt = result_type(&[Operand::Tensor(t), Operand::Scalar(s)]);
    Tensor::from_scalar(s, dt)
}

/// Core binary kernel: cast both operands to `dt`, broadcast, and apply the closure for `dt`'s
/// kind. `intf` returns `None` for an integer error (division by zero).
#[allow(clippy::too_many_arguments)]
fn binary_impl(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
    dt: DType,
    f32f: impl Fn(f32, f32) -> f32 + Sync + Send,
    f64f: impl Fn(f64, f64) -> f64 + Sync + Send,
    intf: impl Fn(i64, i64) -> Option<i64> + Sync + Send,
    boolf: Option<fn(bool, bool) -> bool>,
) -> Result<Tensor> {
    let out = broadcast_shapes(op, a.shape(), b.shape())?;
    let (a, b) = (a.to_dtype(dt), b.to_dtype(dt));
    let (ash, bsh) = (a.shape(), b.shape());
    Ok(match dt {
        DType::F64 => Tensor::from_parts(
            zip_broadcast(
                a.as_slice::<f64>()?,
                ash,
                b.as_slice::<f64>()?,
                bsh,
                &out,
                f64f,
            ),
            out,
        ),
        DType::F32 => Tensor::from_parts(
            zip_broadcast(
                a.as_slice::<f32>()?,
                ash,
                b.as_slice::<f32>()?,
                bsh,
                &out,
                f32f,
            ),
            out,
        ),
        DType::F16 | DType::BF16 => with_dtype!(dt, T => Tensor::from_parts(
            zip_broadcast(a.as_slice::<T>()?, ash, b.as_slice::<T>()?, bsh, &out,
                |x, y| T::from_f32(f32f(x.to_f32(), y.to_f32()))),
            out,
        )),
        DType::Bool => {
            let Some(bf) = boolf else {
                return dtype_err(op, dt);
            };
            Tensor::from_parts(
                zip_broadcast(
                    a.as_slice::<bool>()?,
                    ash,
                    b.as_slice::<bool>()?,
                    bsh,
                    &out,
                    bf,
                ),
                out,
            )
        }
        _ => {
            // Integer errors are rare; record them in a flag instead of making the hot loop
            // fallible. `Cell` is not `Sync`, so the int path runs with an atomic.
            let failed = std::sync::atomic::AtomicBool::new(false);
            let r = with_dtype!(dt, T => Tensor::from_parts(
                zip_broadcast(a.as_slice::<T>()?, ash, b.as_slice::<T>()?, bsh, &out, |x, y| {
                    match intf(x.to_i64(), y.to_i64()) {
                        Some(v) => T::from_i64(v),
                        None => {
                            failed.store(true, std::sync::atomic::Ordering::Relaxed);
                            T::default()
                        }
                    }
                }),
                out,
            ));
            if failed.into_inner() {
                return Err(crate::error::ExecError::Invalid {
                    op,
                    msg: "ZeroDivisionError: integer division by zero".into(),
                });
            }
            r
        }
    })
}

fn check_alpha(op: &'static str, dt: DType, alpha: Scalar) -> Result<()> {
    if !dt.is_float() && matches!(alpha, Scalar::Float(_)) {
        return invalid(
            op,
            "for integral input tensors, alpha must not be a floating point number",
        );
    }
    if dt != DType::Bool && matches!(alpha, Scalar::Bool(_)) {
        return invalid(op, "boolean alpha only supported for boolean results");
    }
    Ok(())
}

/// `aten.add.Tensor(a, b, alpha)`: `a + alpha * b` (bool + bool is logical or).
pub fn add(a: &Tensor, b: &Tensor, alpha: Scalar) -> Result<Tensor> {
    let dt = result_type_tt(a, b);
    check_alpha("add", dt, alpha)?;
    let (af, ai) = (alpha.to_f64(), alpha.to_i64());
    let af32 = af as f32;
    if ai == 1 && af == 1.0 {
        return binary_impl(
            "add",
            a,
            b,
            dt,
            |x, y| x + y,
            |x, y| x + y,
            |x, y| Some(x.wrapping_add(y)),
            Some(|x, y| x | y),
        );
    }
    let ab = alpha.to_bool();
    binary_impl(
        "add",
        a,
        b,
        dt,
        move |x, y| x + af32 * y,
        move |x, y| x + af * y,
        move |x, y| Some(x.wrapping_add(ai.wrapping_mul(y))),
        if ab {
            Some(|x, y| x | y)
        } else {
            Some(|x, _| x)
        },
    )
}

/// `aten.sub.Tensor(a, b, alpha)`: `a - alpha * b` (bool operands are an error).
pub fn sub(a: &Tensor, b: &Tensor, alpha: Scalar) -> Result<Tensor> {
    if a.dtype() == DType::Bool || b.dtype() == DType::Bool {
        return invalid(
            "sub",
            "subtraction with bool tensors is not supported; use logical_xor",
        );
    }
    let dt = result_type_tt(a, b);
    check_alpha("sub", dt, alpha)?;
    let (af, ai) = (alpha.to_f64(), alpha.to_i64());
    let af32 = af as f32;
    binary_impl(
        "sub",
        a,
        b,
        dt,
        move |x, y| x - af32 * y,
        move |x, y| x - af * y,
        move |x, y| Some(x.wrapping_sub(ai.wrapping_mul(y))),
        None,
    )
}

/// `aten.rsub.Tensor(a, b, alpha)`: `b - alpha * a`.
pub fn rsub(a: &Tensor, b: &Tensor, alpha: Scalar) -> Result<Tensor> {
    sub(b, a, alpha)
}

/// `aten.mul.Tensor` (bool * bool is logical and).
pub fn mul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = result_type_tt(a, b);
    binary_impl(
        "mul",
        a,
        b,
        dt,
        |x, y| x * y,
        |x, y| x * y,
        |x, y| Some(x.wrapping_mul(y)),
        Some(|x, y| x & y),
    )
}

fn div_floor_f<F: Real>(a: F, b: F) -> F {
    // c10::div_floor_floating: exact floor of the quotient using fmod.
    if b == F::zero() {
        return a / b;
    }
    let m = a % b;
    let mut div = (a - m) / b;
    if m != F::zero() && (b < F::zero()) != (m < F::zero()) {
        div -= F::one();
    }
    if div != F::zero() {
        let mut fl = div.floor();
        if div - fl > F::lit(0.5) {
            fl += F::one();
        }
        fl
    } else {
        F::zero().copysign(a / b)
    }
}

fn div_floor_i(a: i64, b: i64) -> Option<i64> {
    if b == 0 {
        return None;
    }
    let q = a.wrapping_div(b);
    let r = a.wrapping_rem(b);
    Some(if r != 0 && ((r < 0) != (b < 0)) {
        q - 1
    } else {
        q
    })
}

/// `aten.div.Tensor`: true division (ints → default float dtype).
pub fn div(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = result_type_tt(a, b).to_float_or_default();
    binary_impl(
        "div",
        a,
        b,
        dt,
        |x, y| x / y,
        |x, y| x / y,
        |_, _| None,
        None,
    )
}

/// `aten.div.Tensor_mode` with `rounding_mode` `None`, `Some("trunc")` or `Some("floor")`.
/// Integer division by zero is an error, like PyTorch's `ZeroDivisionError`.
pub fn div_mode(a: &Tensor, b: &Tensor, rounding_mode: Option<&str>) -> Result<Tensor> {
    let dt = result_type_tt(a, b);
    match rounding_mode {
        None => div(a, b),
        Some("trunc") => binary_impl(
            "div",
            a,
            b,
            dt,
            |x, y| (x / y).trunc(),
            |x, y| (x / y).trunc(),
            |x, y| {
                if y == 0 {
                    None
                } else {
                    Some(x.wrapping_div(y))
                }
            },
            None,
        ),
        Some("floor") => binary_impl(
            "div",
            a,
            b,
            dt,
            div_floor_f::<f32>,
            div_floor_f::<f64>,
            div_floor_i,
            None,
        ),
        Some(m) => invalid("div", format!("unknown rounding_mode {m:?}")),
    }
}

/// `aten.floor_divide` (floor rounding, like Python `//`).
pub fn floor_divide(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    div_mode(a, b, Some("floor"))
}

fn remainder_f<F: Real>(a: F, b: F) -> F {
    let m = a % b;
    if m != F::zero() && (b < F::zero()) != (m < F::zero()) {
        m + b
    } else {
        m
    }
}

/// `aten.remainder`: Python `%`, result has the sign of the divisor.
pub fn remainder(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = result_type_tt(a, b);
    binary_impl(
        "remainder",
        a,
        b,
        dt,
        remainder_f::<f32>,
        remainder_f::<f64>,
        |x, y| {
            if y == 0 {
                return None;
            }
            let r = x.wrapping_rem(y);
            Some(if r != 0 && ((r < 0) != (y < 0)) {
                r + y
            } else {
                r
            })
        },
        None,
    )
}

/// `aten.fmod`: C `fmod`, result has the sign of the dividend.
pub fn fmod(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = result_type_tt(a, b);
    binary_impl(
        "fmod",
        a,
        b,
        dt,
        |x, y| x % y,
        |x, y| x % y,
        |x, y| {
            if y == 0 {
                None
            } else {
                Some(x.wrapping_rem(y))
            }
        },
        None,
    )
}

fn ipow(base: i64, exp: i64) -> i64 {
    if exp < 0 {
        // PyTorch's integer pow for negative exponents: only ±1 survive.
        return match base {
            1 => 1,
            -1 => {
                if exp % 2 == 0 {
                    1
                } else {
                    -1
                }
            }
            _ => 0,
        };
    }
    let (mut r, mut b, mut e) = (1i64, base, exp as u64);
    while e > 0 {
        if e & 1 == 1 {
            r = r.wrapping_mul(b);
        }
        b = b.wrapping_mul(b);
        e >>= 1;
    }
    r
}

/// `aten.pow.Tensor_Tensor` (bool ** bool → int64? no: PyTorch keeps the promoted dtype; bool
/// bases are promoted to int64 since `pow` is undefined on bool).
pub fn pow(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let mut dt = result_type_tt(a, b);
    if dt == DType::Bool {
        dt = DType::I64;
    }
    binary_impl(
        "pow",
        a,
        b,
        dt,
        |x, y| x.powf(y),
        |x, y| x.powf(y),
        |x, y| Some(ipow(x, y)),
        None,
    )
}

/// `aten.pow.Tensor_Scalar`. Integer tensors with negative integer exponents are an error.
pub fn pow_scalar(a: &Tensor, exponent: Scalar) -> Result<Tensor> {
    if !a.dtype().is_float() && matches!(exponent, Scalar::Int(e) if e < 0) {
        return invalid("pow", "integers to negative integer powers are not allowed");
    }
    pow(a, &scalar_operand(a, exponent))
}

/// `aten.pow.Scalar(self: Scalar, exponent: Tensor)`.
pub fn pow_scalar_base(base: Scalar, exponent: &Tensor) -> Result<Tensor> {
    pow(&scalar_operand(exponent, base), exponent)
}

fn nan_max<F: Real>(x: F, y: F) -> F {
    if x.is_nan() || y.is_nan() {
        F::nan()
    } else if x > y {
        x
    } else {
        y
    }
}
fn nan_min<F: Real>(x: F, y: F) -> F {
    if x.is_nan() || y.is_nan() {
        F::nan()
    } else if x < y {
        x
    } else {
        y
    }
}

/// `aten.maximum` (NaN propagates).
pub fn maximum(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = result_type_tt(a, b);
    binary_impl(
        "maximum",
        a,
        b,
        dt,
        nan_max::<f32>,
        nan_max::<f64>,
        |x, y| Some(x.max(y)),
        Some(|x, y| x | y),
    )
}

/// `aten.minimum` (NaN propagates).
pub fn minimum(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = result_type_tt(a, b);
    binary_impl(
        "minimum",
        a,
        b,
        dt,
        nan_min::<f32>,
        nan_min::<f64>,
        |x, y| Some(x.min(y)),
        Some(|x, y| x & y),
    )
}

/// `aten.atan2` (ints → default float).
pub fn atan2(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = result_type_tt(a, b).to_float_or_default();
    binary_impl(
        "atan2",
        a,
        b,
        dt,
        |x, y| x.atan2(y),
        |x, y| x.atan2(y),
        |_, _| None,
        None,
    )
}

macro_rules! bitwise {
    ($(#[$m:meta])* $name:ident, $op:tt) => {
        $(#[$m])*
        pub fn $name(a: &Tensor, b: &Tensor) -> Result<Tensor> {
            let dt = result_type_tt(a, b);
            if dt.is_float() {
                return dtype_err(stringify!($name), dt);
            }
            binary_impl(stringify!($name), a, b, dt, |x, _| x, |x, _| x, |x, y| Some(x $op y), Some(|x, y| x $op y))
        }
    };
}
bitwise!(/// `aten.bitwise_and` (ints/bools).
    bitwise_and, &);
bitwise!(/// `aten.bitwise_or` (ints/bools).
    bitwise_or, |);
bitwise!(/// `aten.bitwise_xor` (ints/bools).
    bitwise_xor, ^);

fn int_only(op: &'static str, a: &Tensor, b: &Tensor) -> Result<DType> {
    let dt = result_type_tt(a, b);
    if dt.is_float() || dt == DType::Bool {
        return dtype_err(op, dt);
    }
    Ok(dt)
}

fn gcd_i64(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a as i64
}

/// `aten.gcd` (integers): the non-negative greatest common divisor, `gcd(0, 0) = 0`.
pub fn gcd(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = int_only("gcd", a, b)?;
    binary_impl(
        "gcd",
        a,
        b,
        dt,
        |x, _| x,
        |x, _| x,
        |x, y| Some(gcd_i64(x, y)),
        None,
    )
}

/// `aten.lcm` (integers): `|a b| / gcd(a, b)`, 0 when either is 0, wrapping like the dtype.
pub fn lcm(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = int_only("lcm", a, b)?;
    binary_impl(
        "lcm",
        a,
        b,
        dt,
        |x, _| x,
        |x, _| x,
        |x, y| {
            let g = gcd_i64(x, y);
            Some(if g == 0 {
                0
            } else {
                (x / g).wrapping_mul(y).wrapping_abs()
            })
        },
        None,
    )
}

/// `aten.bitwise_left_shift` (integers): a shift by a negative count or by the dtype's width or
/// more gives 0, as PyTorch defines it; otherwise the bits shifted out are lost.
pub fn bitwise_left_shift(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = int_only("bitwise_left_shift", a, b)?;
    let bits = (dt.size() * 8) as i64;
    binary_impl(
        "bitwise_left_shift",
        a,
        b,
        dt,
        |x, _| x,
        |x, _| x,
        move |x, s| {
            Some(if (0..bits).contains(&s) {
                x.wrapping_shl(s as u32)
            } else {
                0
            })
        },
        None,
    )
}

/// `aten.bitwise_right_shift` (integers): arithmetic for signed dtypes, logical for unsigned; a
/// negative count or one of the dtype's width or more gives 0 (or -1 for negative signed values).
pub fn bitwise_right_shift(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = int_only("bitwise_right_shift", a, b)?;
    let bits = (dt.size() * 8) as i64;
    let unsigned = dt.is_unsigned();
    binary_impl(
        "bitwise_right_shift",
        a,
        b,
        dt,
        |x, _| x,
        |x, _| x,
        move |x, s| {
            Some(if !(0..bits).contains(&s) {
                if !unsigned && x < 0 {
                    -1
                } else {
                    0
                }
            } else if unsigned {
                // Unsigned values arrive reinterpreted as i64; shift them logically.
                ((x as u64) >> s) as i64
            } else {
                x >> s
            })
        },
        None,
    )
}

macro_rules! logical {
    ($(#[$m:meta])* $name:ident, |$x:ident, $y:ident| $e:expr) => {
        $(#[$m])*
        pub fn $name(a: &Tensor, b: &Tensor) -> Result<Tensor> {
            let out = broadcast_shapes(stringify!($name), a.shape(), b.shape())?;
            let (a, b) = (a.to_dtype(DType::Bool), b.to_dtype(DType::Bool));
            let v = zip_broadcast(a.as_slice::<bool>()?, a.shape(), b.as_slice::<bool>()?, b.shape(), &out, |$x: bool, $y: bool| $e);
            Ok(Tensor::from_parts(v, out))
        }
    };
}
logical!(/// `aten.logical_and` → bool.
    logical_and, |x, y| x & y);
logical!(/// `aten.logical_or` → bool.
    logical_or, |x, y| x | y);
logical!(/// `aten.logical_xor` → bool.
    logical_xor, |x, y| x ^ y);

macro_rules! compare {
    ($(#[$m:meta])* $name:ident, $op:tt) => {
        $(#[$m])*
        pub fn $name(a: &Tensor, b: &Tensor) -> Result<Tensor> {
            let out = broadcast_shapes(stringify!($name), a.shape(), b.shape())?;
            // Compare in the promoted dtype, like PyTorch (so `int_tensor < 2.5` compares as f32).
            let dt = result_type_tt(a, b);
            let (a, b) = (a.to_dtype(dt), b.to_dtype(dt));
            Ok(with_dtype!(dt, T => Tensor::from_parts(
                zip_broadcast(a.as_slice::<T>()?, a.shape(), b.as_slice::<T>()?, b.shape(), &out, |x: T, y: T| x $op y),
                out,
            )))
        }
    };
}
compare!(/// `aten.eq.Tensor` → bool.
    eq, ==);
compare!(/// `aten.ne.Tensor` → bool.
    ne, !=);
compare!(/// `aten.lt.Tensor` → bool.
    lt, <);
compare!(/// `aten.le.Tensor` → bool.
    le, <=);
compare!(/// `aten.gt.Tensor` → bool.
    gt, >);
compare!(/// `aten.ge.Tensor` → bool.
    ge, >=);

/// `aten.where.self(cond, a, b)`: result dtype is `result_type(a, b)`.
pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dt = result_type_tt(a, b);
    let out = broadcast_shapes(
        "where",
        cond.shape(),
        &broadcast_shapes("where", a.shape(), b.shape())?,
    )?;
    let c = broadcast_to(&cond.to_dtype(DType::Bool), &out)?;
    let a = broadcast_to(&a.to_dtype(dt), &out)?;
    let b = broadcast_to(&b.to_dtype(dt), &out)?;
    let c = c.as_slice::<bool>()?;
    Ok(with_dtype!(dt, T => {
        let (x, y) = (a.as_slice::<T>()?, b.as_slice::<T>()?);
        Tensor::from_parts(
            c.iter().zip(x.iter().zip(y)).map(|(&c, (&x, &y))| if c { x } else { y }).collect::<Vec<T>>(),
            out,
        )
    }))
}

/// `aten.masked_fill.Scalar`: keeps `t`'s dtype; `mask` must broadcast to `t`'s shape.
pub fn masked_fill(t: &Tensor, mask: &Tensor, value: Scalar) -> Result<Tensor> {
    if mask.dtype() != DType::Bool {
        return dtype_err("masked_fill", mask.dtype());
    }
    let m = broadcast_to(mask, t.shape())?;
    let m = m.as_slice::<bool>()?;
    Ok(with_dtype!(t.dtype(), T => {
        let v = value.cast::<T>();
        Tensor::from_parts(
            t.as_slice::<T>()?.iter().zip(m).map(|(&x, &c)| if c { v } else { x }).collect::<Vec<T>>(),
            t.shape().to_vec(),
        )
    }))
}

/// `aten.masked_fill.Tensor`: `value` must be a 0-dim tensor.
pub fn masked_fill_tensor(t: &Tensor, mask: &Tensor, value: &Tensor) -> Result<Tensor> {
    if value.ndim() != 0 {
        return invalid("masked_fill", "value must be a 0-dimensional tensor");
    }
    masked_fill(t, mask, value.item()?)
}

/// `aten.clamp` with optional scalar bounds; result dtype is `result_type(t, min, max)`.
/// NaN in the input propagates.
pub fn clamp(t: &Tensor, min: Option<Scalar>, max: Option<Scalar>) -> Result<Tensor> {
    if min.is_none() && max.is_none() {
        return invalid("clamp", "at least one of min or max must not be None");
    }
    let mut ops = vec![Operand::Tensor(t)];
    ops.extend(min.map(Operand::Scalar));
    ops.extend(max.map(Operand::Scalar));
    let dt = result_type(&ops);
    let mut r = t.to_dtype(dt);
    if let Some(lo) = min {
        r = maximum(&r, &Tensor::from_scalar(lo, dt))?;
    }
    if let Some(hi) = max {
        r = minimum(&r, &Tensor::from_scalar(hi, dt))?;
    }
    Ok(r)
}

/// `aten.clamp.Tensor` with optional tensor bounds (broadcasting).
pub fn clamp_tensor(t: &Tensor, min: Option<&Tensor>, max: Option<&Tensor>) -> Result<Tensor> {
    if min.is_none() && max.is_none() {
        return invalid("clamp", "at least one of min or max must not be None");
    }
    let mut ops = vec![Operand::Tensor(t)];
    ops.extend(min.map(Operand::Tensor));
    ops.extend(max.map(Operand::Tensor));
    let dt = result_type(&ops);
    let mut r = t.to_dtype(dt);
    if let Some(lo) = min {
        r = maximum(&r, &lo.to_dtype(dt))?;
    }
    if let Some(hi) = max {
        r = minimum(&r, &hi.to_dtype(dt))?;
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i(v: &[i64]) -> Tensor {
        Tensor::from_slice(v)
    }
    fn f(v: &[f32]) -> Tensor {
        Tensor::from_slice(v)
    }

    #[test]
    fn integer_division_rules() {
        let a = i(&[-7, 7, -7, 7]);
        let b = i(&[2, 2, -2, -2]);
        assert_eq!(
            floor_divide(&a, &b).unwrap().to_i64_vec(),
            vec![-4, 3, 3, -4]
        );
        assert_eq!(
            div_mode(&a, &b, Some("trunc")).unwrap().to_i64_vec(),
            vec![-3, 3, 3, -3]
        );
        assert_eq!(remainder(&a, &b).unwrap().to_i64_vec(), vec![1, 1, -1, -1]);
        assert_eq!(fmod(&a, &b).unwrap().to_i64_vec(), vec![-1, 1, -1, 1]);
        let d = div(&a, &b).unwrap();
        assert_eq!(d.dtype(), DType::F32);
        assert_eq!(d.to_f64_vec(), vec![-3.5, 3.5, 3.5, -3.5]);
        assert!(floor_divide(&a, &i(&[0])).is_err());
        assert!(remainder(&a, &i(&[0])).is_err());
    }

    #[test]
    fn float_division_rules() {
        let a = f(&[-7.0, 7.5, -0.5]);
        let b = f(&[2.0, -2.0, 2.0]);
        assert_eq!(
            floor_divide(&a, &b).unwrap().to_f64_vec(),
            vec![-4.0, -4.0, -1.0]
        );
        assert_eq!(
            remainder(&a, &b).unwrap().to_f64_vec(),
            vec![1.0, -0.5, 1.5]
        );
        assert_eq!(fmod(&a, &b).unwrap().to_f64_vec(), vec![-1.0, 1.5, -0.5]);
        let z = div(&f(&[1.0, -1.0, 0.0]), &f(&[0.0, 0.0, 0.0]))
            .unwrap()
            .to_f64_vec();
        assert_eq!(z[0], f64::INFINITY);
        assert_eq!(z[1], f64::NEG_INFINITY);
        assert!(z[2].is_nan());
    }

    #[test]
    fn promotion_in_binary_ops() {
        let a = i(&[1, 2]);
        let r = add(&a, &scalar_operand(&a, Scalar::Float(2.5)), Scalar::Int(1)).unwrap();
        assert_eq!(r.dtype(), DType::F32);
        assert_eq!(r.to_f64_vec(), vec![3.5, 4.5]);
        let r = mul(
            &Tensor::from_slice(&[1i8, 2]),
            &scalar_operand(&a, Scalar::Int(3)),
        )
        .unwrap();
        assert_eq!(r.dtype(), DType::I8);
        let s = scalar_operand(&Tensor::from_slice(&[1i8]), Scalar::Int(3));
        assert_eq!(
            mul(&Tensor::from_slice(&[1i8, 2]), &s).unwrap().dtype(),
            DType::I8
        );
        let b = Tensor::from_slice(&[true, false]);
        let r = add(&b, &b, Scalar::Int(1)).unwrap();
        assert_eq!(r.dtype(), DType::Bool);
        assert_eq!(r.to_bool_vec(), vec![true, false]);
        assert!(sub(&b, &b, Scalar::Int(1)).is_err());
        let r = add(&a, &i(&[10, 20]), Scalar::Int(2)).unwrap();
        assert_eq!(r.to_i64_vec(), vec![21, 42]);
        assert!(add(&a, &a, Scalar::Float(0.5)).is_err());
    }

    #[test]
    fn broadcasting_and_zero_size() {
        let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], vec![3, 1]).unwrap();
        let b = Tensor::from_vec(vec![10.0f32, 20.0], vec![1, 2]).unwrap();
        let r = add(&a, &b, Scalar::Int(1)).unwrap();
        assert_eq!(r.shape(), &[3, 2]);
        assert_eq!(r.to_f64_vec(), vec![11.0, 21.0, 12.0, 22.0, 13.0, 23.0]);
        let e = Tensor::zeros(&[0, 1], DType::F32);
        assert_eq!(add(&e, &b, Scalar::Int(1)).unwrap().shape(), &[0, 2]);
        assert!(add(&f(&[1.0, 2.0]), &f(&[1.0, 2.0, 3.0]), Scalar::Int(1)).is_err());
    }

    #[test]
    fn nan_propagation() {
        let a = f(&[f32::NAN, 1.0, 3.0]);
        let b = f(&[0.0, f32::NAN, 2.0]);
        let m = maximum(&a, &b).unwrap().to_f64_vec();
        assert!(m[0].is_nan() && m[1].is_nan() && m[2] == 3.0);
        let m = minimum(&a, &b).unwrap().to_f64_vec();
        assert!(m[0].is_nan() && m[1].is_nan() && m[2] == 2.0);
        let c = clamp(&a, Some(Scalar::Float(0.0)), Some(Scalar::Float(2.0)))
            .unwrap()
            .to_f64_vec();
        assert!(c[0].is_nan() && c[1] == 1.0 && c[2] == 2.0);
        // min > max: everything becomes max.
        let c = clamp(&f(&[0.0, 5.0]), Some(Scalar::Int(3)), Some(Scalar::Int(1))).unwrap();
        assert_eq!(c.to_f64_vec(), vec![1.0, 1.0]);
        let c = clamp(&i(&[0, 5]), Some(Scalar::Int(1)), None).unwrap();
        assert_eq!((c.dtype(), c.to_i64_vec()), (DType::I64, vec![1, 5]));
    }

    #[test]
    fn unary_values() {
        let t = f(&[-1.5, 0.5, 2.5, -0.0]);
        assert_eq!(round(&t).unwrap().to_f64_vec(), vec![-2.0, 0.0, 2.0, 0.0]);
        assert_eq!(floor(&t).unwrap().to_f64_vec(), vec![-2.0, 0.0, 2.0, 0.0]);
        assert_eq!(relu(&t).unwrap().to_f64_vec(), vec![0.0, 0.5, 2.5, 0.0]);
        assert_eq!(sign(&t).unwrap().to_f64_vec(), vec![-1.0, 1.0, 1.0, 0.0]);
        assert_eq!(neg(&i(&[3, -4])).unwrap().to_i64_vec(), vec![-3, 4]);
        assert!(neg(&Tensor::from_slice(&[true])).is_err());
        let e = exp(&i(&[0, 1])).unwrap();
        assert_eq!(e.dtype(), DType::F32);
        assert!((e.to_f64_vec()[1] - std::f64::consts::E).abs() < 1e-6);
        let g = gelu(&f(&[1.0]), "none").unwrap().to_f64_vec()[0];
        assert!((g - 0.841_344_7).abs() < 1e-6);
        let g = gelu(&f(&[1.0]), "tanh").unwrap().to_f64_vec()[0];
        assert!((g - 0.841_192).abs() < 1e-5);
        assert_eq!(
            hardswish(&f(&[-4.0, 1.0, 4.0])).unwrap().to_f64_vec(),
            vec![0.0, (4.0f32 / 6.0) as f64, 4.0]
        );
        assert_eq!(bitwise_not(&i(&[0])).unwrap().to_i64_vec(), vec![-1]);
        assert_eq!(
            logical_not(&f(&[0.0, 2.0])).unwrap().to_bool_vec(),
            vec![true, false]
        );
        assert_eq!(
            pow_scalar(&i(&[2, 3]), Scalar::Int(3))
                .unwrap()
                .to_i64_vec(),
            vec![8, 27]
        );
        assert!(pow_scalar(&i(&[2]), Scalar::Int(-1)).is_err());
        let p = pow_scalar(&i(&[4]), Scalar::Float(0.5)).unwrap();
        assert_eq!((p.dtype(), p.to_f64_vec()), (DType::F32, vec![2.0]));
        let h = Tensor::from_f64s(&[1.0, 2.0], vec![2], DType::F16).unwrap();
        let s = sqrt(&h).unwrap();
        assert_eq!(s.dtype(), DType::F16);
        assert_eq!(s.to_f64_vec()[1], half::f16::from_f64(2f64.sqrt()).to_f64());
    }

    #[test]
    fn compare_where_fill() {
        let a = i(&[1, 2, 3]);
        let r = lt(&a, &scalar_operand(&a, Scalar::Float(2.5))).unwrap();
        assert_eq!(r.to_bool_vec(), vec![true, true, false]);
        let n = eq(&f(&[f32::NAN]), &f(&[f32::NAN])).unwrap();
        assert_eq!(n.to_bool_vec(), vec![false]);
        let c = Tensor::from_slice(&[true, false, true]);
        let w = where_(&c, &a, &f(&[0.5])).unwrap();
        assert_eq!(
            (w.dtype(), w.to_f64_vec()),
            (DType::F32, vec![1.0, 0.5, 3.0])
        );
        let m = masked_fill(&a, &c, Scalar::Float(9.7)).unwrap();
        assert_eq!(m.to_i64_vec(), vec![9, 2, 9]);
        assert_eq!(
            bitwise_xor(&i(&[6]), &i(&[3])).unwrap().to_i64_vec(),
            vec![5]
        );
        assert!(bitwise_and(&f(&[1.0]), &f(&[1.0])).is_err());
        // gcd / lcm / shifts, against torch's results for the same inputs.
        let a = Tensor::from_vec(vec![12i64, -12, 0, 7, -100], vec![5]).unwrap();
        let b = Tensor::from_vec(vec![18i64, 18, 5, 0, 3], vec![5]).unwrap();
        assert_eq!(gcd(&a, &b).unwrap().to_i64_vec(), vec![6, 6, 5, 7, 1]);
        assert_eq!(lcm(&a, &b).unwrap().to_i64_vec(), vec![36, 36, 0, 0, 300]);
        let l = lcm(&Tensor::from_slice(&[100i8]), &Tensor::from_slice(&[3i8])).unwrap();
        assert_eq!((l.dtype(), l.to_i64_vec()), (DType::I8, vec![44]));
        let x = Tensor::from_vec(vec![1i8, -8, 5, 100], vec![4]).unwrap();
        let s = Tensor::from_vec(vec![1i8, 1, 8, -1], vec![4]).unwrap();
        assert_eq!(
            bitwise_left_shift(&x, &s).unwrap().to_i64_vec(),
            vec![2, -16, 0, 0]
        );
        assert_eq!(
            bitwise_right_shift(&x, &s).unwrap().to_i64_vec(),
            vec![0, -4, 0, 0]
        );
        let big = Tensor::from_slice(&[3i64, 3]);
        let n = Tensor::from_slice(&[64i64, 63]);
        assert_eq!(
            bitwise_left_shift(&big, &n).unwrap().to_i64_vec(),
            vec![0, i64::MIN]
        );
        let neg = Tensor::from_slice(&[-3i64, -3]);
        let n = Tensor::from_slice(&[64i64, 70]);
        assert_eq!(
            bitwise_right_shift(&neg, &n).unwrap().to_i64_vec(),
            vec![-1, -1]
        );
        let u = Tensor::from_slice(&[200u8]);
        let one = Tensor::from_slice(&[1u8]);
        assert_eq!(
            bitwise_right_shift(&u, &one).unwrap().to_i64_vec(),
            vec![100]
        );
        assert_eq!(
            bitwise_left_shift(&u, &one).unwrap().to_i64_vec(),
            vec![144]
        );
        let top = Tensor::from_slice(&[u64::MAX]);
        let r = bitwise_right_shift(&top, &Tensor::from_slice(&[60u64])).unwrap();
        assert_eq!(r.as_slice::<u64>().unwrap(), &[15]);
        assert!(gcd(&f(&[1.0]), &f(&[2.0])).is_err());
    }
}
