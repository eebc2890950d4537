//! Property: passes do not change what a program computes. For random well-typed programs
//! (`trtfx_ir::testgen`) and concrete inputs matching their input specs (sizes inside the
//! ranges, one value per symbol, values from a seeded RNG), the CPU executor's outputs are the
//! same before and after every registered pass, the `default` pipeline, and `partition` (alone
//! and after `default`, and followed by `freeze-params`).
//!
//! Comparison: integers and bools exactly; floats bit-for-bit up to NaN payloads and a tight
//! relative tolerance (a folded constant is computed in `f64` and rounded once, the executor
//! rounds per op, so the last bit may differ; for `f16`/`bf16` one ulp of the format).
//!
//! Programs the executor cannot run *before* any pass (an operator or argument it rejects,
//! e.g. the generator's deliberately odd `rounding_mode` strings) are skipped and counted; the
//! test fails if fewer than half of the programs ran. `PROPTEST_CASES` sets the count.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::Cell;
use std::collections::HashMap;
use trtfx::exec::interp::{exec_dtype, Executor, Value};
use trtfx::exec::{DType as ExecDType, Tensor};
use trtfx_ir::testgen::{arb_program, GenConfig};
use trtfx_ir::{DimSpec, InputSpec, Program};
use trtfx_passes::{PassManager, PassRegistry};

/// Every registered pass alone, then pipelines.
const PIPELINES: &[&str] = &[
    "dce",
    "cse",
    "canonicalize",
    "fold-constants",
    "decompose",
    "infer-types",
    "lift-params",
    "unlift-params",
    "unlift-params,lift-params",
    "partition",
    "partition{min-block-size=1}",
    "partition{min-block-size=1},freeze-params",
    "default",
    "default,partition{min-block-size=1}",
    "default,partition{min-block-size=1},freeze-params",
    "rewrite",
    "default,rewrite,partition{min-block-size=1}",
];

/// SplitMix64: small, seeded, good enough for test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }

    /// A float in [-4, 4) on a 1/64 grid, sometimes exactly zero or negative zero.
    fn value(&mut self) -> f64 {
        match self.next() % 16 {
            0 => 0.0,
            1 => -0.0,
            _ => (self.range(-256, 255) as f64) / 64.0,
        }
    }
}

/// Concrete user inputs for `p`'s input specs: every symbol gets one size inside its range
/// (kept small), every unbound dynamic dim its own.
fn make_inputs(p: &Program, seed: u64) -> Option<Vec<Value>> {
    let mut rng = Rng(seed);
    let mut sizes: HashMap<String, i64> = HashMap::new();
    let mut out = Vec::new();
    for spec in &p.input_specs {
        match spec {
            InputSpec::Tensor { dtype, dims, .. } => {
                let mut shape = Vec::new();
                for d in dims {
                    let s = match d {
                        DimSpec::Static(s) => *s,
                        DimSpec::Dynamic { sym, min, max, .. } => {
                            let pick = |rng: &mut Rng| rng.range(*min, (*max).min(*min + 3));
                            match sym {
                                Some(s) => {
                                    *sizes.entry(s.to_string()).or_insert_with(|| pick(&mut rng))
                                }
                                None => pick(&mut rng),
                            }
                        }
                    };
                    shape.push(usize::try_from(s).ok()?);
                }
                let numel: usize = shape.iter().product();
                let vals: Vec<f64> = (0..numel).map(|_| rng.value()).collect();
                let t = Tensor::from_f64s(&vals, shape, exec_dtype(*dtype)?).ok()?;
                out.push(Value::Tensor(t));
            }
            InputSpec::Scalar { range, .. } => {
                let (lo, hi) = range.unwrap_or((Some(0), Some(8)));
                let lo = lo.unwrap_or(0);
                let hi = hi.unwrap_or(lo + 8).min(lo + 8);
                out.push(Value::Int(rng.range(lo, hi)));
            }
        }
    }
    Some(out)
}

fn float_close(a: f64, b: f64, rtol: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return a.to_bits() == b.to_bits() || (a == 0.0 && b == 0.0);
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    (a - b).abs() <= rtol * a.abs().max(b.abs())
}

/// `Ok(())` when the outputs agree; otherwise where they first differ.
fn compare(before: &[Value], after: &[Value]) -> Result<(), String> {
    if before.len() != after.len() {
        return Err(format!(
            "{} output(s) before, {} after",
            before.len(),
            after.len()
        ));
    }
    for (i, (a, b)) in before.iter().zip(after).enumerate() {
        match (a, b) {
            (Value::Tensor(x), Value::Tensor(y)) => {
                if x.dtype() != y.dtype() || x.shape() != y.shape() {
                    return Err(format!(
                        "output {i}: {:?}{:?} before, {:?}{:?} after",
                        x.dtype(),
                        x.shape(),
                        y.dtype(),
                        y.shape()
                    ));
                }
                let rtol = match x.dtype() {
                    ExecDType::F16 => 1e-3,
                    ExecDType::BF16 => 8e-3,
                    ExecDType::F32 => 1e-6,
                    ExecDType::F64 => 1e-12,
                    _ => 0.0,
                };
                if x.dtype().is_float() {
                    let (xv, yv) = (x.to_f64_vec(), y.to_f64_vec());
                    if let Some(k) = (0..xv.len()).find(|&k| !float_close(xv[k], yv[k], rtol)) {
                        return Err(format!(
                            "output {i}[{k}]: {} before, {} after",
                            xv[k], yv[k]
                        ));
                    }
                } else if x.to_i64_vec() != y.to_i64_vec() {
                    return Err(format!("output {i}: integer values differ"));
                }
            }
            (Value::Float(x), Value::Float(y)) if float_close(*x, *y, 1e-12) => {}
            (x, y) if format!("{x:?}") == format!("{y:?}") => {}
            (x, y) => return Err(format!("output {i}: {x:?} before, {y:?} after")),
        }
    }
    Ok(())
}

fn run(p: &Program, inputs: &[Value]) -> Result<Vec<Value>, String> {
    Executor::new(p).run(inputs).map_err(|e| e.to_string())
}

#[test]
fn passes_preserve_exec_results() {
    let config = Config {
        cases: Config::default().cases.max(96),
        ..Config::default()
    };
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let reg = trtfx::pass_registry();
    let ran = Cell::new(0usize);
    let skipped = Cell::new(0usize);
    let mut skip_reasons: std::cell::RefCell<HashMap<String, usize>> = Default::default();
    let strategy = (arb_program(GenConfig::default()), any::<u64>());
    let result = runner.run(&strategy, |(p, seed)| {
        let Some(inputs) = make_inputs(&p, seed) else {
            skipped.set(skipped.get() + 1);
            return Ok(());
        };
        let before = match run(&p, &inputs) {
            Ok(v) => v,
            Err(e) => {
                skipped.set(skipped.get() + 1);
                let key: String = e.chars().take(60).collect();
                *skip_reasons.borrow_mut().entry(key).or_default() += 1;
                return Ok(());
            }
        };
        ran.set(ran.get() + 1);
        for pipeline in PIPELINES {
            check_pipeline(&reg, pipeline, &p, &inputs, &before)?;
        }
        Ok(())
    });
    let (ran, skipped) = (ran.get(), skipped.get());
    eprintln!("pass_exec_props: {ran} program(s) run, {skipped} skipped (the executor could not run them before any pass)");
    for (why, n) in skip_reasons.get_mut().iter() {
        eprintln!("  skipped {n}: {why}");
    }
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(
        ran * 2 >= cases as usize,
        "only {ran} of {cases} random programs could be run"
    );
}

fn check_pipeline(
    reg: &PassRegistry,
    pipeline: &str,
    p: &Program,
    inputs: &[Value],
    before: &[Value],
) -> Result<(), TestCaseError> {
    let mut q = p.clone();
    let mut pm = PassManager::parse(reg, pipeline).expect("pipeline parses");
    pm.run(&mut q).map_err(|e| {
        TestCaseError::fail(format!(
            "`{pipeline}` failed: {e}\non\n{}",
            trtfx_ir::print_program(p)
        ))
    })?;
    let after = run(&q, inputs).map_err(|e| {
        TestCaseError::fail(format!(
            "after `{pipeline}` the program no longer runs: {e}\nbefore:\n{}\nafter:\n{}",
            trtfx_ir::print_program(p),
            trtfx_ir::print_program(&q)
        ))
    })?;
    compare(before, &after).map_err(|e| {
        TestCaseError::fail(format!(
            "`{pipeline}` changed the results: {e}\ninputs: {inputs:?}\nbefore:\n{}\nafter:\n{}",
            trtfx_ir::print_program(p),
            trtfx_ir::print_program(&q)
        ))
    })
}

/// `p` with every f32 made f64 (values, dtype literals, input specs, weights), types re-inferred:
/// a random program with 64-bit floats (its i64 values come from the generator: indices,
/// argmax, integer inputs). `None` when inference fails on the widened program.
fn widened(p: &Program) -> Option<Program> {
    use trtfx_ir::{Arg, DType, Type, Weight};
    fn arg(a: &mut Arg) {
        match a {
            Arg::DType(d) if *d == DType::F32 => *d = DType::F64,
            Arg::List(items) => items.iter_mut().for_each(arg),
            _ => {}
        }
    }
    let mut q = p.clone();
    for (_, g) in q.graphs.iter_mut() {
        let values: Vec<_> = g.value_ids().collect();
        for v in values {
            if let Type::Tensor(t) = g.ty(v) {
                if t.dtype == DType::F32 {
                    let ty = Type::tensor(DType::F64, t.shape.clone());
                    g.set_ty(v, ty);
                }
            }
        }
        for n in g.node_ids() {
            let node = g.node(n);
            let (mut args, mut kwargs) = (node.args.clone(), node.kwargs.clone());
            args.iter_mut().for_each(arg);
            kwargs.iter_mut().for_each(|(_, a)| arg(a));
            g.set_args(n, args, kwargs);
        }
    }
    for spec in &mut q.input_specs {
        if let InputSpec::Tensor { dtype, .. } = spec {
            if *dtype == DType::F32 {
                *dtype = DType::F64;
            }
        }
    }
    for (_, w) in q.weights.iter_mut() {
        if w.dtype == DType::F32 {
            let b = w.bytes().ok()?;
            let wide: Vec<u8> = b
                .chunks_exact(4)
                .flat_map(|c| (f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).to_le_bytes())
                .collect();
            *w = Weight::from_bytes(DType::F64, w.shape.clone(), wide);
        }
    }
    trtfx_ir::aten::infer_program(&mut q, trtfx_ir::aten::registry()).ok()?;
    trtfx_ir::verify_program(&q, Some(trtfx_ir::aten::registry())).ok()?;
    Some(q)
}

/// True when a float literal of `p` is large enough to leave the f32 range after a doubling or
/// a product (the generator uses 3.4e38 and 2.5e300):
/// under `truncate-double` such values become infinite, outside the policy's domain.
fn has_huge_literal(p: &Program) -> bool {
    fn huge(a: &trtfx_ir::Arg) -> bool {
        match a {
            // Not only literals beyond f32: one near f32::MAX overflows as soon as it is
            // doubled (`add(x, x, alpha=2)`), and two of 1e19 overflow when multiplied.
            trtfx_ir::Arg::Float(x) => x.0.is_finite() && x.0.abs() > 1e18,
            trtfx_ir::Arg::List(items) => items.iter().any(huge),
            _ => false,
        }
    }
    p.graphs.values().any(|g| {
        g.nodes().any(|n| {
            let d = g.node(n);
            d.args
                .iter()
                .chain(d.kwargs.iter().map(|(_, a)| a))
                .any(huge)
        })
    })
}

/// `Ok` when `after` agrees with `before` within the truncation tolerance: floats like
/// `allclose(rtol, atol)`, integers and bools exactly, same dtypes and shapes (the compile
/// pipeline never changes the signature).
fn compare_tol(before: &[Value], after: &[Value], rtol: f64, atol: f64) -> Result<(), String> {
    if before.len() != after.len() {
        return Err("output counts differ".into());
    }
    for (i, (a, b)) in before.iter().zip(after).enumerate() {
        match (a, b) {
            (Value::Tensor(x), Value::Tensor(y)) => {
                if x.dtype() != y.dtype() || x.shape() != y.shape() {
                    return Err(format!("output {i}: dtype or shape changed"));
                }
                if x.dtype().is_float() {
                    let (xv, yv) = (x.to_f64_vec(), y.to_f64_vec());
                    for (k, (p, q)) in xv.iter().zip(&yv).enumerate() {
                        let ok = (p.is_nan() && q.is_nan())
                            || p == q
                            || (p - q).abs() <= atol + rtol * p.abs();
                        if !ok {
                            return Err(format!("output {i}[{k}]: {p} before, {q} after"));
                        }
                    }
                } else if x.to_i64_vec() != y.to_i64_vec() {
                    return Err(format!("output {i}: integer values differ"));
                }
            }
            (x, y) => compare(std::slice::from_ref(x), std::slice::from_ref(y))?,
        }
    }
    Ok(())
}

/// Property: for random programs with 64-bit values, the executor's outputs before and after
/// the `compile{...}` pipeline (without building engines: every segment, TensorRT ones
/// included, runs on the executor, which is what truncation changes) agree within the policy's
/// tolerance: exactly (as `compare`) without truncation, within f32 tolerance with
/// `truncate-double=true` (integers exact under every int64 policy: the inputs are small).
#[test]
fn compile_pipeline_preserves_64bit_results() {
    let config = Config {
        cases: Config::default().cases.max(64),
        ..Config::default()
    };
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let reg = trtfx::pass_registry();
    let ran = Cell::new(0usize);
    let truncated_runs = Cell::new(0usize);
    let strategy = (arb_program(GenConfig::default()), any::<u64>(), 0usize..3);
    let result = runner.run(&strategy, |(p, seed, policy)| {
        let Some(p) = widened(&p) else { return Ok(()) };
        let Some(inputs) = make_inputs(&p, seed) else {
            return Ok(());
        };
        let Ok(before) = run(&p, &inputs) else {
            return Ok(());
        };
        ran.set(ran.get() + 1);
        let int64 = ["native", "int32", "fallback"][policy];
        for truncate in [false, true] {
            let pipeline = format!(
                "compile{{min-block-size=1,truncate-double={truncate},int64={int64},engines=false}}"
            );
            let mut q = p.clone();
            let mut pm = PassManager::parse(&reg, &pipeline)
                .expect("pipeline parses")
                .verify_types(true);
            match pm.run(&mut q) {
                Ok(()) => {}
                // int32 with a compile-time value outside i32 is a clear error, not a bug.
                Err(e) if e.to_string().contains("outside the int32 range") => continue,
                Err(e) => {
                    return Err(TestCaseError::fail(format!(
                        "`{pipeline}` failed: {e}\non\n{}",
                        trtfx_ir::print_program(&p)
                    )))
                }
            }
            let after = run(&q, &inputs).map_err(|e| {
                TestCaseError::fail(format!(
                    "after `{pipeline}` the program no longer runs: {e}\n{}",
                    trtfx_ir::print_program(&q)
                ))
            })?;
            // Results beyond the f32 range cannot survive f32 computation (the generator's
            // constants reach 1e300): outside the truncation policy's domain.
            let huge = before.iter().any(|v| match v {
                Value::Tensor(t) if t.dtype().is_float() => {
                    t.to_f64_vec().iter().any(|x| x.is_finite() && x.abs() > f32::MAX as f64)
                }
                _ => false,
            });
            if truncate && (huge || has_huge_literal(&p)) {
                continue;
            }
            let r = if truncate || int64 == "int32" {
                truncated_runs.set(truncated_runs.get() + 1);
                compare_tol(&before, &after, 1e-3, 1e-4)
            } else {
                compare(&before, &after)
            };
            r.map_err(|e| {
                TestCaseError::fail(format!(
                    "`{pipeline}` changed the results: {e}\ninputs: {inputs:?}\nbefore:\n{}\nafter:\n{}",
                    trtfx_ir::print_program(&p),
                    trtfx_ir::print_program(&q)
                ))
            })?;
        }
        Ok(())
    });
    eprintln!(
        "compile_pipeline_preserves_64bit_results: {} of {cases} program(s) run, {} truncated",
        ran.get(),
        truncated_runs.get()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(
        ran.get() * 4 >= cases as usize,
        "only {} of {cases} widened random programs could be run",
        ran.get()
    );
}
