//! Every fixture (both dialects): import → lift → unlift → lift, and each of those saved as JSON
//! and as `.fxir` + weights sidecar, loaded back, and run in the executor with PyTorch's outputs.
//! User-facing runs take only the user inputs; the weights travel with the program.

mod common;

use common::{assert_matches_goldens, fixtures, run};
use trtfx::ir::Program;
use trtfx::passes::passes::params::{check_weight_bindings, lift, unlift, WeightKinds};

fn check(p: &Program, what: &str, io: &trtfx::io::IoTensors) {
    check_weight_bindings(p).unwrap_or_else(|e| panic!("{what}: {}", e.join("\n")));
    assert_matches_goldens(p, what, io);
}

fn round_trip(name: &str, file: &str) {
    let dir = std::env::temp_dir().join(format!("trtfx-store-{}-{file}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let io = trtfx::io::read_io(&fixtures().join(format!("{name}.io.safetensors"))).unwrap();
    let imported = trtfx::frontend::import_pt2(fixtures().join(file)).unwrap();
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
    let p = trtfx::frontend::import_pt2(fixtures().join("cnn.pt2")).unwrap();
    let path = dir.join("cnn.fxir");
    trtfx::save_program(&p, &path).unwrap();
    std::fs::remove_file(trtfx::store::weights_sidecar(&path)).unwrap();
    let back = trtfx::load_program(&path).unwrap();
    let io = trtfx::io::read_io(&fixtures().join("cnn.io.safetensors")).unwrap();
    let err = run(&back, &io.inputs).unwrap_err();
    assert!(err.contains("weight `"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
