//! Reduced precision end to end on every fixture model (`tests/fixtures/*.pt2`, both dialects):
//! compile with `precision = fp16` and `bf16` (the `autocast` pass) → save → load → run on the
//! golden inputs (TensorRT segments on the layer emulator, which rounds every f16/bf16 tensor
//! per layer) and compare with PyTorch's f32 outputs.
//!
//! The tolerance (docs/precision.md): for each float output, the largest absolute error divided
//! by the output's range (largest finite |golden|) stays within [`FP16_TOL`] / [`BF16_TOL`]; integer and bool
//! outputs match exactly except for indices chosen by comparing reduced values (sort, topk,
//! argmax can swap near-ties): at most [`MAX_INDEX_MISMATCH_PERCENT`]% of an output's elements. Each run prints its measured error (`--nocapture`), and every model
//! whose TensorRT networks compute in f32 at full precision has reduced-precision tensors in
//! them when compiled reduced.

mod common;

use common::{fixtures, scale_shift};
use trtfx::backend::TrtDataType;
use trtfx::exec::{DType, Tensor};
use trtfx::{compile, CompileSettings, CompiledProgram, Precision};

/// fp16 (10-bit mantissa, unit roundoff 2^-11 ≈ 4.9e-4): about 20 roundings' worth.
const FP16_TOL: f64 = 1e-2;
/// bf16 (7-bit mantissa, unit roundoff 2^-8 ≈ 3.9e-3): eight times coarser than fp16.
const BF16_TOL: f64 = 5e-2;

/// Integer outputs: at most this share of elements may differ (index ties reordered).
const MAX_INDEX_MISMATCH_PERCENT: usize = 5;

fn archive(name: &str, dialect: &str) -> std::path::PathBuf {
    match dialect {
        "core" => fixtures().join(format!("{name}.core.pt2")),
        _ => fixtures().join(format!("{name}.pt2")),
    }
}

/// `(max |got - want|, max |want|)` of one float output (NaN where the golden is a number
/// counts as an infinite error; the golden's infinities do not count in its range).
fn abs_error_and_range(got: &Tensor, want: &Tensor) -> (f64, f64) {
    let g = got.to_dtype(DType::F64).to_vec::<f64>();
    let w = want.to_dtype(DType::F64).to_vec::<f64>();
    assert_eq!(g.len(), w.len(), "element count");
    let range = w
        .iter()
        .filter(|x| x.is_finite())
        .fold(0.0f64, |m, x| m.max(x.abs()));
    let mut err = 0.0f64;
    for (a, b) in g.iter().zip(&w) {
        let e = if (a.is_nan() && b.is_nan()) || a == b {
            0.0
        } else {
            (a - b).abs()
        };
        err = err.max(if e.is_nan() { f64::INFINITY } else { e });
    }
    (err, range)
}

/// (f32, f16 + bf16) tensors over the model's TensorRT networks.
fn float_tensors(c: &CompiledProgram) -> (usize, usize) {
    let (mut f32s, mut low) = (0, 0);
    for (_, t) in c.trt_segments() {
        for (d, k) in t.network.float_tensor_counts() {
            match d {
                TrtDataType::Float => f32s += k,
                _ => low += k,
            }
        }
    }
    (f32s, low)
}

fn run_fixture(name: &str, dialect: &str, precision: Precision) {
    let what = format!("{name} ({dialect}, {})", precision.word());
    let path = archive(name, dialect);
    let program = trtfx::frontend::import_pt2(&path)
        .unwrap_or_else(|e| panic!("import {}: {e}", path.display()));
    // customop's convolutions are single-node segments: without min-block-size 1 nothing would
    // run on TensorRT.
    let min_block_size = if name == "customop" {
        1
    } else {
        CompileSettings::default().min_block_size
    };
    let full_settings = CompileSettings {
        min_block_size,
        ..Default::default()
    };
    let settings = CompileSettings {
        precision,
        ..full_settings.clone()
    };
    let compiled = compile(&program, &settings).unwrap_or_else(|e| panic!("{what}: compile: {e}"));
    let full =
        compile(&program, &full_settings).unwrap_or_else(|e| panic!("{what}: compile f32: {e}"));
    let (full_f32, _) = float_tensors(&full);
    let (kept, low) = float_tensors(&compiled);
    if full_f32 > 0 {
        assert!(low > 0, "{what}: no TensorRT tensor is reduced");
    }

    let dir = common::scratch(
        "precision",
        &format!("{name}-{dialect}-{}", precision.word()),
    );
    let file = dir.join(format!("{name}.trtfx"));
    compiled
        .save(&file)
        .unwrap_or_else(|e| panic!("{what}: save: {e}"));
    let mut loaded = CompiledProgram::load(&file).unwrap_or_else(|e| panic!("{what}: load: {e}"));
    loaded.register_kernel("trtfx_test.scale_shift.default", scale_shift());
    let io =
        trtfx::io::read_io(&fixtures().join(format!("{name}.io.safetensors"))).expect("io file");
    let run = loaded
        .run(&io.inputs)
        .unwrap_or_else(|e| panic!("{what}: run: {e}"));
    assert_eq!(run.outputs.len(), io.outputs.len(), "{what}: output count");
    let tol = match precision {
        Precision::Bf16 => BF16_TOL,
        _ => FP16_TOL,
    };
    let mut worst = 0.0f64;
    let mut mismatched = 0usize;
    let mut worst_abs = 0.0f64;
    for (i, (g, w)) in run.outputs.iter().zip(&io.outputs).enumerate() {
        assert_eq!(
            g.dtype(),
            w.dtype(),
            "{what} out_{i}: outputs keep their dtypes"
        );
        assert_eq!(g.shape(), w.shape(), "{what} out_{i}: shape");
        if w.dtype().is_float() {
            let (abs, range) = abs_error_and_range(g, w);
            // An all-zero golden output is held to an absolute 1e-6 * tolerance.
            let e = abs / range.max(1e-6);
            assert!(
                e <= tol,
                "{what} out_{i}: max error / range {e:.3e} > {tol:.0e} (max abs error {abs:.3e})"
            );
            worst = worst.max(e);
            worst_abs = worst_abs.max(abs);
        } else {
            // Integer and bool outputs: exact, except that indices chosen by comparing
            // reduced-precision values (sort, topk, argmax) may swap near-ties.
            let gv = g.to_dtype(DType::I64).to_vec::<i64>();
            let wv = w.to_dtype(DType::I64).to_vec::<i64>();
            let k = gv.iter().zip(&wv).filter(|(a, b)| a != b).count();
            assert!(
                k * 100 <= MAX_INDEX_MISMATCH_PERCENT * wv.len(),
                "{what} out_{i}: {k} of {} elements differ",
                wv.len()
            );
            mismatched += k;
        }
    }
    eprintln!(
        "precision {what}: max error / range {worst:.3e} (tolerance {tol:.0e}), max abs error \
         {worst_abs:.3e}; {mismatched} \
         integer element(s) differ; TensorRT tensors: {low} reduced, {kept} f32; {} TensorRT \
         call(s)",
        run.trt_calls.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

macro_rules! fixture_tests {
    ($($name:ident),* $(,)?) => {
        mod fp16 {
            $(#[test] fn $name() {
                super::run_fixture(stringify!($name), "export", trtfx::Precision::Fp16);
                super::run_fixture(stringify!($name), "core", trtfx::Precision::Fp16);
            })*
        }
        mod bf16 {
            $(#[test] fn $name() {
                super::run_fixture(stringify!($name), "export", trtfx::Precision::Bf16);
                super::run_fixture(stringify!($name), "core", trtfx::Precision::Bf16);
            })*
        }

        /// The list covers every fixture in the folder.
        #[test]
        fn covers_every_fixture() {
            let listed: std::collections::BTreeSet<String> =
                [$(stringify!($name)),*].iter().map(|s| s.to_string()).collect();
            assert_eq!(common::fixture_names(), listed, "add the new fixture to fixture_tests!");
        }
    };
}

fixture_tests!(
    cnn,
    mlp,
    transformer,
    customop,
    intmath,
    cond,
    mobilenet_v3_small,
    ops
);
