//! The GEMMs of the convolution-bound models (issue 20), one thread, side by side:
//! `matrixmultiply::sgemm` (the executor's GEMM before this bench) against faer's `gemm` crate,
//! with the weight operand row-major as stored (`[O, C*kh*kw]`) and transposed once
//! (`[C*kh*kw, O]`, column-major for the product). Each product is `C[M, N] = W[M, K] @ X[K, N]`
//! with `M` output channels, `K` input channels times kernel taps and `N` output positions:
//! the shapes of `squeezenet_full`, `vgg_small` and `vgg_wide` (`benches/convnets/gen.py`) and
//! of the zoo's `squeezenet1_1`, batch 1.
//!
//! `cargo bench -p trtfx-exec --bench conv_gemm` (criterion; a filter argument selects some,
//! e.g. `-- 'm256_k576'`). `TRTFX_BENCH_RAW=ITERS` prints, per shape, the median ns of each
//! variant over ITERS interleaved runs and the ratio to matrixmultiply, without criterion.

use std::hint::black_box;
use std::time::Instant;

use criterion::Criterion;

/// (M, K, N) of the im2col / pointwise GEMMs, largest work first.
const SHAPES: &[(usize, usize, usize)] = &[
    // vgg_wide
    (128, 1152, 256),
    (256, 2304, 64),
    (64, 288, 1024),
    (128, 576, 256),
    (256, 1152, 64),
    (256, 2304, 16),
    (32, 27, 4096),
    // vgg_small
    (64, 576, 256),
    (128, 1152, 64),
    (32, 144, 1024),
    (64, 288, 256),
    (128, 576, 64),
    (128, 1152, 16),
    (16, 27, 4096),
    // squeezenet_full (3x3 expand, 1x1 squeeze / expand, first conv)
    (64, 144, 225),
    (128, 288, 49),
    (64, 27, 961),
    (256, 576, 9),
    (192, 432, 9),
    (16, 128, 225),
    (32, 256, 49),
    (64, 512, 9),
    (128, 32, 49),
    (256, 64, 9),
    // zoo squeezenet1_1 (widths / 4)
    (16, 36, 225),
    (32, 72, 49),
    (64, 144, 9),
];

struct Case {
    m: usize,
    k: usize,
    n: usize,
    /// `[M, K]` row-major.
    w: Vec<f32>,
    /// `[K, M]` row-major (the weight transposed once).
    wt: Vec<f32>,
    /// `[K, N]` row-major.
    x: Vec<f32>,
}

fn case(m: usize, k: usize, n: usize) -> Case {
    // Deterministic values in [-1, 1).
    let mut s = 0x2545_f491_u32;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        (s as f32 / u32::MAX as f32) * 2.0 - 1.0
    };
    let w: Vec<f32> = (0..m * k).map(|_| next()).collect();
    let x: Vec<f32> = (0..k * n).map(|_| next()).collect();
    let mut wt = vec![0.0; k * m];
    for i in 0..m {
        for j in 0..k {
            wt[j * m + i] = w[i * k + j];
        }
    }
    Case { m, k, n, w, wt, x }
}

fn mm(c: &Case, out: &mut [f32]) {
    // SAFETY: w is m×k, x is k×n, out is m×n, all row-major and in bounds.
    unsafe {
        matrixmultiply::sgemm(
            c.m,
            c.k,
            c.n,
            1.0,
            c.w.as_ptr(),
            c.k as isize,
            1,
            c.x.as_ptr(),
            c.n as isize,
            1,
            0.0,
            out.as_mut_ptr(),
            c.n as isize,
            1,
        );
    }
}

/// faer's gemm; `transposed`: read the weight from `wt` (column-major `W`).
fn faer(c: &Case, out: &mut [f32], transposed: bool) {
    let (lhs, lhs_cs, lhs_rs) = if transposed {
        (c.wt.as_ptr(), c.m as isize, 1)
    } else {
        (c.w.as_ptr(), 1, c.k as isize)
    };
    // SAFETY: as in `mm`; `read_dst` is false, so `out` is only written.
    unsafe {
        gemm::gemm(
            c.m,
            c.n,
            c.k,
            out.as_mut_ptr(),
            1,
            c.n as isize,
            false,
            lhs,
            lhs_cs,
            lhs_rs,
            c.x.as_ptr(),
            1,
            c.n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

type Variant = (&'static str, fn(&Case, &mut [f32]));
const VARIANTS: &[Variant] = &[
    ("matrixmultiply", |c, o| mm(c, o)),
    ("gemm", |c, o| faer(c, o, false)),
    ("gemm_wt", |c, o| faer(c, o, true)),
];

fn check(c: &Case) {
    let mut want = vec![0.0; c.m * c.n];
    mm(c, &mut want);
    for (name, f) in &VARIANTS[1..] {
        let mut got = vec![f32::NAN; c.m * c.n];
        f(c, &mut got);
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                "{name} m{} k{} n{}: {g} vs {w}",
                c.m,
                c.k,
                c.n
            );
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn raw(iters: usize) {
    println!("shape\tmatrixmultiply ns\tgemm ns\tgemm_wt ns\tgemm/mm\tgemm_wt/mm");
    for &(m, k, n) in SHAPES {
        let c = case(m, k, n);
        check(&c);
        let mut out = vec![0.0; m * n];
        let mut t = vec![Vec::with_capacity(iters); VARIANTS.len()];
        // Interleaved, so load changes hit every variant alike.
        for _ in 0..iters {
            for (vi, (_, f)) in VARIANTS.iter().enumerate() {
                let t0 = Instant::now();
                f(black_box(&c), black_box(&mut out));
                t[vi].push(t0.elapsed().as_secs_f64() * 1e9);
            }
        }
        let meds: Vec<f64> = t.iter_mut().map(|v| median(v)).collect();
        println!(
            "m{m}_k{k}_n{n}\t{:.0}\t{:.0}\t{:.0}\t{:.2}\t{:.2}",
            meds[0],
            meds[1],
            meds[2],
            meds[1] / meds[0],
            meds[2] / meds[0]
        );
    }
}

fn main() {
    if let Some(iters) = std::env::var("TRTFX_BENCH_RAW")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return raw(iters);
    }
    let mut cr = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1))
        .configure_from_args();
    for &(m, k, n) in SHAPES {
        let c = case(m, k, n);
        check(&c);
        let mut g = cr.benchmark_group(format!("conv_gemm/m{m}_k{k}_n{n}"));
        let mut out = vec![0.0; m * n];
        for (name, f) in VARIANTS {
            g.bench_function(*name, |b| b.iter(|| f(black_box(&c), black_box(&mut out))));
        }
        g.finish();
    }
    cr.final_summary();
}
