//! Shared helpers for the end-to-end tests over `tests/fixtures`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use trtfx::exec::interp::{CustomKernel, Executor, Value};
use trtfx::exec::{Scalar, Tensor};
use trtfx::ir::Program;

/// The fixture directory of the repository.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// The fixture names in the folder (`cnn` for `cnn.pt2` and `cnn.core.pt2`), for the tests that
/// list every fixture to check that none is missed.
#[allow(dead_code)] // not every test crate lists the fixtures
pub fn fixture_names() -> std::collections::BTreeSet<String> {
    std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".pt2"))
        .map(|n| {
            n.trim_end_matches(".pt2")
                .trim_end_matches(".core")
                .to_string()
        })
        .collect()
}

/// The custom op of the `customop` fixture: `trtfx_test::scale_shift(x, scale, *, shift=0)`
/// computes `x * scale + shift` (see `tests/fixtures/gen.py`).
pub fn scale_shift() -> CustomKernel {
    Arc::new(|c| {
        // A custom op without a schema: its kernel reads the call positionally (or by
        // keyword).
        let x = c
            .raw(0, "x")
            .and_then(Value::as_tensor)
            .ok_or("missing tensor `x`")?;
        let scale = c
            .raw(1, "scale")
            .map_or(Some(1.0), Value::to_f64)
            .ok_or("`scale` must be a number")?;
        let shift = c
            .raw(2, "shift")
            .map_or(Some(0.0), Value::to_f64)
            .ok_or("`shift` must be a number")?;
        let s = Tensor::from_scalar(Scalar::Float(scale), x.dtype());
        let b = Tensor::from_scalar(Scalar::Float(shift), x.dtype());
        let y = trtfx::exec::kernels::elementwise::mul(x, &s).map_err(|e| e.to_string())?;
        let y = trtfx::exec::kernels::elementwise::add(&y, &b, Scalar::Int(1))
            .map_err(|e| e.to_string())?;
        Ok(vec![Value::Tensor(y)])
    })
}

/// An executor for `p` with the fixtures' custom-op kernels registered.
pub fn executor(p: &Program) -> Executor<'_> {
    let mut ex = Executor::new(p);
    ex.register_kernel("trtfx_test.scale_shift.default", scale_shift());
    ex
}

/// Runs `p` on tensors and returns its user outputs as tensors (scalars become 0-dim).
pub fn run(p: &Program, inputs: &[Tensor]) -> Result<Vec<Tensor>, String> {
    let ins: Vec<Value> = inputs.iter().cloned().map(Value::Tensor).collect();
    let outs = executor(p).run(&ins).map_err(|e| e.to_string())?;
    outs.into_iter()
        .map(|v| match v {
            Value::Tensor(t) => Ok(t),
            Value::Int(i) => Ok(Tensor::scalar(i)),
            Value::Float(f) => Ok(Tensor::scalar(f)),
            Value::Bool(b) => Ok(Tensor::scalar(b)),
            other => Err(format!("output of kind {} is not a tensor", other.kind())),
        })
        .collect()
}

/// Asserts that `p` reproduces the goldens (f32 rtol 1e-4 / atol 1e-5; ints and bools exact).
pub fn assert_matches_goldens(p: &Program, what: &str, io: &trtfx::io::IoTensors) {
    let outs = run(p, &io.inputs).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_outputs_close(what, &outs, &io.outputs, 1e-4, 1e-5);
}

/// Asserts as many outputs as goldens, each close like `torch.allclose(rtol, atol)` (ints and
/// bools exactly), naming the first that is not.
pub fn assert_outputs_close(what: &str, got: &[Tensor], want: &[Tensor], rtol: f64, atol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: output count");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let c = trtfx::io::compare(i, g, w, rtol, atol);
        assert!(
            c.ok,
            "{what} out_{i}: {} (max_abs {:.3e}, max_rel {:.3e})",
            c.detail.unwrap_or_default(),
            c.max_abs,
            c.max_rel
        );
    }
}

/// Runs a compiled program on the goldens' inputs, asserts its outputs match them and that
/// every TensorRT segment was called; returns the run for further checks.
pub fn assert_compiled_matches(
    c: &trtfx::compile::CompiledProgram,
    io: &trtfx::io::IoTensors,
    what: &str,
    rtol: f64,
    atol: f64,
) -> trtfx::artifact::RunOutput {
    let run = c
        .run(&io.inputs)
        .unwrap_or_else(|e| panic!("{what}: run: {e}"));
    assert_outputs_close(what, &run.outputs, &io.outputs, rtol, atol);
    let trt: Vec<&str> = c
        .segments
        .iter()
        .filter(|s| s.backend == trtfx::compile::SegmentBackend::Trt)
        .map(|s| s.graph.as_str())
        .collect();
    assert_eq!(run.trt_calls, trt, "{what}: TensorRT segment calls");
    run
}

/// A fresh scratch directory for one test (`prefix` names the test file).
pub fn scratch(prefix: &str, test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("trtfx-{prefix}-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
