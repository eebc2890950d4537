//! Special functions and reducing scatters: `digamma`, `polygamma`, `i0`, `erfcx`, `erfinv`,
//! Bessel functions, the orthogonal polynomials, `zeta`, `copysign`, `fmax`/`fmin`,
//! `signbit`, `igamma`/`igammac`, `nextafter`, `frexp`, `scatter_reduce`, `index_reduce`, `index_add`, `index_copy`, `index_fill`, `cummax`/`cummin`, `copy`, `empty_permuted`,
//! and the `_copy` forms of the views (the same values: views here are copies anyway).

use super::{many, one, two, KResult, KernelTable};
use crate::interp::{CallArgs, Value};
use crate::kernels::scatter::{self as sc, Reduce};
use crate::kernels::shape;
use crate::kernels::special::{self as sp, poly};
use crate::tensor::Tensor;

type F1 = fn(f64) -> f64;
type F2 = fn(f64, f64) -> f64;

fn unary(arg: &'static str, f: F1) -> impl Fn(&CallArgs<'_>) -> KResult + Clone {
    move |c| one(sp::map_f64(c.tensor(arg)?, f), c)
}

/// A binary special function over tensors, a Python number on either side.
fn binary(
    op: &'static str,
    lhs: &'static str,
    rhs: &'static str,
    f: F2,
) -> impl Fn(&CallArgs<'_>) -> KResult + Clone {
    move |c| {
        let (a, b) = super::elementwise::operands(c, lhs, rhs)?;
        one(sp::zip_f64(op, &a, &b, f), c)
    }
}

fn spherical_j0(x: f64) -> f64 {
    if x.is_infinite() {
        return 0.0;
    }
    if x.abs() < 0.5 {
        // sin(x)/x by its Taylor series: no cancellation near 0.
        let z = x * x;
        return 1.0 - z / 6.0 * (1.0 - z / 20.0 * (1.0 - z / 42.0 * (1.0 - z / 72.0)));
    }
    x.sin() / x
}

fn ndtr(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

fn log_ndtr(x: f64) -> f64 {
    let t = x / std::f64::consts::SQRT_2;
    if x < -1.0 {
        // log(erfc(-t) / 2) = log(erfcx(-t) / 2) - t², finite far into the tail.
        (sp::erfcx(-t) / 2.0).ln() - t * t
    } else {
        (-0.5 * libm::erfc(t)).ln_1p()
    }
}

fn ndtri(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    -std::f64::consts::SQRT_2 * erfcinv(2.0 * p)
}

/// erfc⁻¹(y) for `y` in `[0, 2]`, refined with Newton steps on `erfc` (accurate in both tails).
fn erfcinv(y: f64) -> f64 {
    if y == 0.0 {
        return f64::INFINITY;
    }
    if y == 2.0 {
        return f64::NEG_INFINITY;
    }
    let mut x = sp::erfinv(1.0 - y);
    if !x.is_finite() {
        x = if y < 1.0 { 5.0 } else { -5.0 };
    }
    for _ in 0..6 {
        let r = libm::erfc(x) - y;
        let d = -2.0 / std::f64::consts::PI.sqrt() * (-x * x).exp();
        if d == 0.0 || r == 0.0 {
            break;
        }
        x -= r / d;
    }
    x
}

pub(crate) fn register(t: &mut KernelTable) {
    let unaries: &[(&str, F1)] = &[
        ("aten.digamma.default", sp::digamma),
        ("aten.special_digamma.default", sp::digamma),
        ("aten.special_psi.default", sp::digamma),
        ("aten.i0.default", sp::i0),
        ("aten.special_i0.default", sp::i0),
        ("aten.special_modified_bessel_i0.default", sp::i0),
        ("aten.special_i0e.default", sp::i0e),
        ("aten.special_i1.default", sp::i1),
        ("aten.special_modified_bessel_i1.default", sp::i1),
        ("aten.special_i1e.default", sp::i1e),
        ("aten.special_modified_bessel_k0.default", sp::k0),
        ("aten.special_modified_bessel_k1.default", sp::k1),
        ("aten.special_erfcx.default", sp::erfcx),
        ("aten.erfinv.default", sp::erfinv),
        ("aten.special_erfinv.default", sp::erfinv),
        ("aten.special_bessel_j0.default", libm::j0),
        ("aten.special_bessel_j1.default", libm::j1),
        ("aten.special_bessel_y0.default", bessel_y0),
        ("aten.special_bessel_y1.default", bessel_y1),
        ("aten.special_ndtr.default", ndtr),
        ("aten.special_log_ndtr.default", log_ndtr),
        ("aten.special_ndtri.default", ndtri),
    ];
    for &(name, f) in unaries {
        t.add_with_inplace(&[name], unary("self", f));
    }
    t.add(
        "aten.special_spherical_bessel_j0.default",
        unary("x", spherical_j0),
    );
    // These schemas name their argument `x`.
    t.add("aten.special_airy_ai.default", unary("x", sp::airy_ai));
    t.add(
        "aten.special_scaled_modified_bessel_k0.default",
        unary("x", sp::k0e),
    );
    t.add(
        "aten.special_scaled_modified_bessel_k1.default",
        unary("x", sp::k1e),
    );
    let polys: &[(&str, F2)] = &[
        ("chebyshev_polynomial_t", poly::chebyshev_t),
        ("chebyshev_polynomial_u", poly::chebyshev_u),
        ("chebyshev_polynomial_v", poly::chebyshev_v),
        ("chebyshev_polynomial_w", poly::chebyshev_w),
        ("shifted_chebyshev_polynomial_t", |x, n| {
            poly::chebyshev_t(2.0 * x - 1.0, n)
        }),
        ("shifted_chebyshev_polynomial_u", |x, n| {
            poly::chebyshev_u(2.0 * x - 1.0, n)
        }),
        ("shifted_chebyshev_polynomial_v", |x, n| {
            poly::chebyshev_v(2.0 * x - 1.0, n)
        }),
        ("shifted_chebyshev_polynomial_w", |x, n| {
            poly::chebyshev_w(2.0 * x - 1.0, n)
        }),
        ("hermite_polynomial_h", poly::hermite_h),
        ("hermite_polynomial_he", poly::hermite_he),
        ("laguerre_polynomial_l", poly::laguerre_l),
        ("legendre_polynomial_p", poly::legendre_p),
    ];
    for &(base, f) in polys {
        let names = [
            format!("aten.special_{base}.default"),
            format!("aten.special_{base}.n_scalar"),
            format!("aten.special_{base}.x_scalar"),
        ];
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        t.add_all(&names, binary("special polynomial", "x", "n", f));
    }
    t.add_all(
        &[
            "aten.special_zeta.default",
            "aten.special_zeta.other_scalar",
            "aten.special_zeta.self_scalar",
        ],
        binary("zeta", "self", "other", sp::zeta),
    );
    t.add_all(
        &[
            "aten.polygamma.default",
            "aten.special_polygamma.default",
            "aten.polygamma_.default",
        ],
        polygamma,
    );
    t.add_all(&["aten.copysign.Tensor", "aten.copysign.Scalar"], |c| {
        let (a, b) = super::elementwise::operands(c, "self", "other")?;
        one(sp::copysign(&a, &b), c)
    });
    t.add("aten.fmax.default", |c| {
        one(
            sp::fmax_fmin(c.tensor("self")?, c.tensor("other")?, true),
            c,
        )
    });
    t.add("aten.fmin.default", |c| {
        one(
            sp::fmax_fmin(c.tensor("self")?, c.tensor("other")?, false),
            c,
        )
    });
    for (name, op, f) in [
        ("aten.igamma.default", "igamma", sp::igamma as F2),
        ("aten.special_gammainc.default", "igamma", sp::igamma),
        ("aten.igammac.default", "igammac", sp::igammac),
        ("aten.special_gammaincc.default", "igammac", sp::igammac),
    ] {
        t.add(name, move |c| {
            one(
                sp::float_binary(op, c.tensor("self")?, c.tensor("other")?, f),
                c,
            )
        });
    }
    t.add("aten.nextafter.default", |c| {
        one(sp::nextafter(c.tensor("self")?, c.tensor("other")?), c)
    });
    t.add("aten.frexp.Tensor", |c| {
        two(sp::frexp(c.tensor("self")?), c)
    });
    t.add("aten.signbit.default", |c| {
        one(sp::signbit(c.tensor("self")?), c)
    });

    // ---- reducing scatters, running extrema, copies
    t.add_with_inplace(&["aten.scatter_reduce.two"], |c| {
        let (x, idx, src) = (c.tensor("self")?, c.tensor("index")?, c.tensor("src")?);
        let how = Reduce::parse("scatter_reduce", c.str("reduce")?).map_err(|e| c.kernel_err(e))?;
        one(
            sc::scatter_reduce(x, c.int("dim")?, idx, src, how, c.bool("include_self")?),
            c,
        )
    });
    t.add_with_inplace(&["aten.index_reduce.default"], |c| {
        let (x, idx, src) = (c.tensor("self")?, c.tensor("index")?, c.tensor("source")?);
        let how = Reduce::parse("index_reduce", c.str("reduce")?).map_err(|e| c.kernel_err(e))?;
        one(
            sc::index_reduce(x, c.int("dim")?, idx, src, how, c.bool("include_self")?),
            c,
        )
    });
    t.add_with_inplace(&["aten.index_add.default"], |c| {
        let (x, idx, src) = (c.tensor("self")?, c.tensor("index")?, c.tensor("source")?);
        let alpha = c.opt_scalar("alpha")?.map_or(1.0, |a| a.to_f64());
        one(sc::index_add(x, c.int("dim")?, idx, src, alpha), c)
    });
    t.add_with_inplace(&["aten.index_copy.default"], |c| {
        let (x, idx, src) = (c.tensor("self")?, c.tensor("index")?, c.tensor("source")?);
        one(sc::index_copy(x, c.int("dim")?, idx, src), c)
    });
    t.add_with_inplace(&["aten.index_fill.int_Scalar"], |c| {
        let x = c.tensor("self")?;
        let v = Tensor::from_scalar(c.scalar("value")?, x.dtype());
        one(sc::index_fill(x, c.int("dim")?, c.tensor("index")?, &v), c)
    });
    t.add_with_inplace(&["aten.index_fill.int_Tensor"], |c| {
        let x = c.tensor("self")?;
        one(
            sc::index_fill(x, c.int("dim")?, c.tensor("index")?, c.tensor("value")?),
            c,
        )
    });
    t.add("aten.cummax.default", |c| {
        two(sc::cum_extremum(c.tensor("self")?, c.int("dim")?, true), c)
    });
    t.add("aten.cummin.default", |c| {
        two(sc::cum_extremum(c.tensor("self")?, c.int("dim")?, false), c)
    });
    t.add_all(&["aten.copy.default", "aten.copy_.default"], |c| {
        one(sc::copy(c.tensor("self")?, c.tensor("src")?), c)
    });
    t.add("aten.empty_permuted.default", |c| {
        // Uninitialized memory in PyTorch; zeros here (the layout is irrelevant to values).
        let size: Vec<usize> = c
            .ints("size")?
            .into_iter()
            .map(|s| s.max(0) as usize)
            .collect();
        let dt = c.opt_dtype("dtype")?.unwrap_or(crate::DType::F32);
        one(Ok(Tensor::zeros(&size, dt)), c)
    });
    t.add_all(&["aten.zero.default", "aten.zero_.default"], |c| {
        let x = c.tensor("self")?;
        one(Ok(Tensor::zeros(x.shape(), x.dtype())), c)
    });

    // ---- `_copy` forms of views
    t.add("aten.squeeze_copy.default", |c| {
        one(shape::squeeze(c.tensor("self")?, None), c)
    });
    t.add_all(&["aten.squeeze_copy.dim", "aten.squeeze_copy.dims"], |c| {
        one(shape::squeeze(c.tensor("self")?, Some(&c.ints("dim")?)), c)
    });
    t.add("aten.unsqueeze_copy.default", |c| {
        one(shape::unsqueeze(c.tensor("self")?, c.int("dim")?), c)
    });
    t.add("aten.transpose_copy.int", |c| {
        let x = c.tensor("self")?;
        one(shape::transpose(x, c.int("dim0")?, c.int("dim1")?), c)
    });
    t.add("aten.t_copy.default", |c| {
        one(shape::t(c.tensor("self")?), c)
    });
    t.add("aten.permute_copy.default", |c| {
        one(shape::permute(c.tensor("self")?, &c.ints("dims")?), c)
    });
    t.add("aten.detach_copy.default", |c| {
        Ok(vec![Value::Tensor(shape::clone(c.tensor("self")?))])
    });
    t.add("aten.unbind_copy.int", |c| {
        many(shape::unbind(c.tensor("self")?, c.int("dim")?), c)
    });
    t.add_all(
        &[
            "aten.split_with_sizes_copy.default",
            "aten.unsafe_split_with_sizes.default",
        ],
        |c| {
            let x = c.tensor("self")?;
            many(
                shape::split_with_sizes(x, &c.ints("split_sizes")?, c.int("dim")?),
                c,
            )
        },
    );
    t.add_all(
        &["aten.split_copy.Tensor", "aten.unsafe_split.Tensor"],
        |c| {
            let x = c.tensor("self")?;
            many(shape::split(x, c.int("split_size")?, c.int("dim")?), c)
        },
    );
    t.add("aten.unsafe_chunk.default", |c| {
        let x = c.tensor("self")?;
        many(shape::chunk(x, c.int("chunks")?, c.int("dim")?), c)
    });
}

/// `polygamma(n, x)`; trigamma of an f32 result follows ATen's f32 evaluation at the poles.
fn polygamma(c: &CallArgs<'_>) -> KResult {
    let n = c.int("n")?;
    let x = c.tensor("self")?;
    if n == 1 && x.dtype() != crate::DType::F64 {
        return one(sp::map_f64(x, sp::trigamma_f32), c);
    }
    one(sp::map_f64(x, move |v| sp::polygamma(n, v)), c)
}

/// Y₀ with its limits: `-inf` at 0, NaN below.
fn bessel_y0(x: f64) -> f64 {
    if x < 0.0 {
        f64::NAN
    } else if x == 0.0 {
        f64::NEG_INFINITY
    } else {
        libm::y0(x)
    }
}

/// Y₁ with its limits: `-inf` at 0, NaN below.
fn bessel_y1(x: f64) -> f64 {
    if x < 0.0 {
        f64::NAN
    } else if x == 0.0 {
        f64::NEG_INFINITY
    } else {
        libm::y1(x)
    }
}
