//! End-to-end: every fixture model (both dialects) imported and run on the CPU executor must
//! reproduce PyTorch's own outputs (`tests/fixtures/NAME.io.safetensors`, written by
//! `tests/fixtures/gen.py` from the exported program). Tolerances: f32 rtol 1e-4 / atol 1e-5,
//! integers and bools exactly.

use std::path::{Path, PathBuf};
use trtfx::exec::interp::{Executor, Value};
use trtfx::exec::Tensor;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// The custom op of the `customop` fixture: `trtfx_test::scale_shift(x, scale, *, shift=0)`
/// computes `x * scale + shift` (see gen.py).
fn register_test_kernels(ex: &mut Executor<'_>) {
    ex.register_kernel(
        "trtfx_test.scale_shift.default",
        std::sync::Arc::new(|c| {
            let x = c.tensor(0, "x").map_err(|e| e.to_string())?;
            let scale = c.float_or(1, "scale", 1.0).map_err(|e| e.to_string())?;
            let shift = c.int_or(2, "shift", 0).map_err(|e| e.to_string())?;
            let s = Tensor::scalar(scale as f32);
            let y = trtfx::exec::kernels::elementwise::mul(x, &s).map_err(|e| e.to_string())?;
            let b = Tensor::scalar(shift as f32);
            let y = trtfx::exec::kernels::elementwise::add(&y, &b, trtfx::exec::Scalar::Int(1))
                .map_err(|e| e.to_string())?;
            Ok(vec![Value::Tensor(y)])
        }),
    );
}

fn run_fixture(name: &str, dialect: &str) {
    let dir = fixtures();
    let archive = if dialect == "core" {
        dir.join(format!("{name}.core.pt2"))
    } else {
        dir.join(format!("{name}.pt2"))
    };
    let program = trtfx::frontend::import_pt2(&archive)
        .unwrap_or_else(|e| panic!("import {}: {e}", archive.display()));
    let io = trtfx::io::read_io(&dir.join(format!("{name}.io.safetensors"))).expect("io file");
    let mut ex = Executor::new(&program);
    register_test_kernels(&mut ex);
    let inputs: Vec<Value> = io.inputs.iter().cloned().map(Value::Tensor).collect();
    let outs = ex
        .run(&inputs)
        .unwrap_or_else(|e| panic!("{name} ({dialect}): run failed: {e}"));
    assert_eq!(
        outs.len(),
        io.outputs.len(),
        "{name} ({dialect}): output count"
    );
    for (i, (got, want)) in outs.iter().zip(&io.outputs).enumerate() {
        let got = match got {
            Value::Tensor(t) => t.clone(),
            Value::Int(v) => Tensor::scalar(*v),
            Value::Float(v) => Tensor::scalar(*v),
            Value::Bool(v) => Tensor::scalar(*v),
            other => panic!("{name}: output {i} is a {}", other.kind()),
        };
        let c = trtfx::io::compare(i, &got, want, 1e-4, 1e-5);
        assert!(
            c.ok,
            "{name} ({dialect}) out_{i}: {} (max_abs {:.3e}, max_rel {:.3e})",
            c.detail.unwrap_or_default(),
            c.max_abs,
            c.max_rel
        );
    }
}

macro_rules! fixture_tests {
    ($($name:ident),* $(,)?) => {
        mod export_ir {
            $(#[test] fn $name() { super::run_fixture(stringify!($name), "export"); })*
        }
        mod core_aten {
            $(#[test] fn $name() { super::run_fixture(stringify!($name), "core"); })*
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

/// Inputs that do not match the input specs are refused before anything runs.
#[test]
fn wrong_inputs_are_refused() {
    let dir = fixtures();
    let program = trtfx::frontend::import_pt2(&dir.join("cnn.pt2")).expect("import");
    let ex = Executor::new(&program);
    let err = ex.run(&[]).unwrap_err().to_string();
    assert!(err.contains("takes 1 user input(s), got 0"), "{err}");
    let bad = Tensor::zeros(&[2, 3, 16, 16], trtfx::exec::DType::F64);
    let err = ex.run(&[Value::Tensor(bad)]).unwrap_err().to_string();
    assert!(err.contains("must have dtype f32"), "{err}");
    let big = Tensor::zeros(&[65, 3, 16, 16], trtfx::exec::DType::F32);
    let err = ex.run(&[Value::Tensor(big)]).unwrap_err().to_string();
    assert!(err.contains("outside its range"), "{err}");
}
