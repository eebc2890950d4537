//! Every fixture (both dialects): import → lift → unlift → lift, and each of those saved as JSON
//! and as `.fxir` + weights sidecar, loaded back, and run in the executor with PyTorch's outputs.
//! User-facing runs take only the user inputs; the weights travel with the program.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use trtfx::exec::interp::{Executor, Value};
use trtfx::exec::Tensor;
use trtfx::ir::Program;
use trtfx::passes::passes::params::{check_weight_bindings, lift, unlift, WeightKinds};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn run(p: &Program, inputs: &[Tensor]) -> Result<Vec<Tensor>, String> {
    let mut ex = Executor::new(p);
    ex.register_kernel(
        "trtfx_test.scale_shift.default",
        Arc::new(|c| {
            let x = c.tensor(0, "x").map_err(|e| e.to_string())?;
            let scale = c.float_or(1, "scale", 1.0).map_err(|e| e.to_string())?;
            let shift = c.float_or(2, "shift", 0.0).map_err(|e| e.to_string())?;
            let s = Tensor::from_scalar(trtfx::exec::Scalar::Float(scale), x.dtype());
            let b = Tensor::from_scalar(trtfx::exec::Scalar::Float(shift), x.dtype());
            let y = trtfx::exec::kernels::elementwise::mul(x, &s).map_err(|e| e.to_string())?;
            let y = trtfx::exec::kernels::elementwise::add(&y, &b, trtfx::exec::Scalar::Int(1))
                .map_err(|e| e.to_string())?;
            Ok(vec![Value::Tensor(y)])
        }),
    );
    let ins: Vec<Value> = inputs.iter().cloned().map(Value::Tensor).collect();
    let outs = ex.run(&ins).map_err(|e| e.to_string())?;
    outs.into_iter()
        .map(|v| match v {
            Value::Tensor(t) => Ok(t),
            Value::Int(i) => Ok(Tensor::scalar(i)),
            Value::Float(f) => Ok(Tensor::scalar(f)),
            Value::Bool(b) => Ok(Tensor::scalar(b)),
            other => Err(format!("non-tensor output {}", other.kind())),
        })
        .collect()
}

fn check(p: &Program, what: &str, io: &trtfx::io::IoTensors) {
    check_weight_bindings(p).unwrap_or_else(|e| panic!("{what}: {}", e.join("\n")));
    let outs = run(p, &io.inputs).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(outs.len(), io.outputs.len(), "{what}");
    for (i, (got, want)) in outs.iter().zip(&io.outputs).enumerate() {
        let c = trtfx::io::compare(i, got, want, 1e-4, 1e-5);
        assert!(c.ok, "{what}: out_{i}: {c:?}");
    }
}

fn round_trip(name: &str, file: &str) {
    let dir = std::env::temp_dir().join(format!("trtfx-store-{}-{file}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let io = trtfx::io::read_io(&fixtures().join(format!("{name}.io.safetensors"))).unwrap();
    let imported = trtfx::frontend::import_pt2(&fixtures().join(file)).unwrap();
    let kinds = WeightKinds::new();
    let mut lifted = imported.clone();
    lift(&mut lifted, Some(&kinds)).unwrap();
    let mut unlifted = lifted.clone();
    unlift(&mut unlifted, Some(&kinds)).unwrap();
    let mut relifted = unlifted.clone();
    lift(&mut relifted, Some(&kinds)).unwrap();
    assert_eq!(
        relifted, lifted,
        "{file}: lift → unlift → lift is the identity"
    );
    for (form, p) in [
        ("imported", &imported),
        ("lifted", &lifted),
        ("unlifted", &unlifted),
        ("relifted", &relifted),
    ] {
        check(p, &format!("{file} {form}"), &io);
        for ext in ["json", "fxir"] {
            let path = dir.join(format!("{form}.{ext}"));
            trtfx::save_program(p, &path)
                .unwrap_or_else(|e| panic!("{file} {form} save {ext}: {e}"));
            let back = trtfx::load_program(&path)
                .unwrap_or_else(|e| panic!("{file} {form} load {ext}: {e}"));
            assert_eq!(&back, p, "{file} {form}: {ext} round trip");
            check(&back, &format!("{file} {form} via {ext}"), &io);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

macro_rules! fixtures {
    ($($name:ident),*) => {
        mod export_ir { $(#[test] fn $name() { super::round_trip(stringify!($name), concat!(stringify!($name), ".pt2")); })* }
        mod core_aten { $(#[test] fn $name() { super::round_trip(stringify!($name), concat!(stringify!($name), ".core.pt2")); })* }
    };
}

fixtures!(
    cnn,
    mlp,
    transformer,
    customop,
    intmath,
    cond,
    mobilenet_v3_small,
    ops
);

/// A `.fxir` whose sidecar lost a weight still loads (the weight is marked not loaded), and
/// running it names the missing weight instead of computing garbage.
#[test]
fn missing_sidecar_weight_is_named() {
    let dir = std::env::temp_dir().join(format!("trtfx-store-missing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = trtfx::frontend::import_pt2(&fixtures().join("cnn.pt2")).unwrap();
    let path = dir.join("cnn.fxir");
    trtfx::save_program(&p, &path).unwrap();
    std::fs::remove_file(trtfx::store::weights_sidecar(&path)).unwrap();
    let back = trtfx::load_program(&path).unwrap();
    let io = trtfx::io::read_io(&fixtures().join("cnn.io.safetensors")).unwrap();
    let err = run(&back, &io.inputs).unwrap_err();
    assert!(err.contains("weight `"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
