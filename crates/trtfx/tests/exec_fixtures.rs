//! End-to-end: every fixture model (both dialects) imported and run on the CPU executor must
//! reproduce PyTorch's own outputs (`tests/fixtures/NAME.io.safetensors`, written by
//! `tests/fixtures/gen.py` from the exported program). Tolerances: f32 rtol 1e-4 / atol 1e-5,
//! integers and bools exactly.

mod common;

use common::{assert_matches_goldens, fixtures};
use trtfx::exec::interp::{Executor, Value};
use trtfx::exec::Tensor;

fn run_fixture(name: &str, file: &str) {
    let dir = fixtures();
    let program = trtfx::frontend::import_pt2(dir.join(file))
        .unwrap_or_else(|e| panic!("import {file}: {e}"));
    let io = trtfx::io::read_io(&dir.join(format!("{name}.io.safetensors"))).expect("io file");
    assert_matches_goldens(&program, file, &io);
}

macro_rules! fixture_tests {
    ($($name:ident),* $(,)?) => {
        mod export_ir {
            $(#[test] fn $name() { super::run_fixture(stringify!($name), concat!(stringify!($name), ".pt2")); })*
        }
        mod core_aten {
            $(#[test] fn $name() { super::run_fixture(stringify!($name), concat!(stringify!($name), ".core.pt2")); })*
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
    let program = trtfx::frontend::import_pt2(fixtures().join("cnn.pt2")).expect("import");
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

/// A custom op without a registered kernel is an error that names it and says how to fix it.
#[test]
fn custom_op_without_kernel_is_named() {
    let program = trtfx::frontend::import_pt2(fixtures().join("customop.pt2")).expect("import");
    let io = trtfx::io::read_io(&fixtures().join("customop.io.safetensors")).expect("io");
    let ins: Vec<Value> = io.inputs.into_iter().map(Value::Tensor).collect();
    let err = Executor::new(&program).run(&ins).unwrap_err().to_string();
    assert!(err.contains("trtfx_test.scale_shift.default"), "{err}");
    assert!(err.contains("register_kernel"), "{err}");
}
