//! `trtfx::compile` end to end on every fixture model (`tests/fixtures/*.pt2`, both dialects):
//! compile with the default settings → save a `.trtfx` → load → run on the golden inputs of
//! `NAME.io.safetensors` (TensorRT segments on the layer emulator, the rest on the executor)
//! and compare with PyTorch's outputs (f32 rtol 1e-3 / atol 1e-4, integers and bools exactly).
//! The compile report of each fixture is snapshotted (plan lines redacted: they depend on
//! whether TensorRT is available).
//!
//! Then the artifact's user errors: a newer format version, a missing plan or network member,
//! a corrupt manifest, and inputs with the wrong dtype or a shape outside the input specs.

mod common;

use std::io::{Cursor, Read, Write};
use std::path::PathBuf;

use common::{assert_compiled_matches, fixtures, scale_shift};
use trtfx::backend::{BuildSettings, SerializedEngine};
use trtfx::exec::Tensor;
use trtfx::{compile, ArtifactError, CompileSettings, CompiledProgram, Runtime, SegmentBackend};

const RTOL: f64 = 1e-3;
const ATOL: f64 = 1e-4;

fn scratch(test: &str) -> PathBuf {
    common::scratch("compile", test)
}

fn archive(name: &str, dialect: &str) -> PathBuf {
    match dialect {
        "core" => fixtures().join(format!("{name}.core.pt2")),
        _ => fixtures().join(format!("{name}.pt2")),
    }
}

fn compile_fixture(name: &str, dialect: &str) -> CompiledProgram {
    let path = archive(name, dialect);
    let program = trtfx::frontend::import_pt2(&path)
        .unwrap_or_else(|e| panic!("import {}: {e}", path.display()));
    compile(&program, &CompileSettings::default())
        .unwrap_or_else(|e| panic!("compile {}: {e}", path.display()))
}

/// The report without what depends on the machine (plan status, build times).
fn redacted(report: &str) -> String {
    report
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("plan:") {
                "  plan: [redacted]".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn run_fixture(name: &str, dialect: &str) {
    let what = format!("{name} ({dialect})");
    let compiled = compile_fixture(name, dialect);
    let report = compiled.report();
    insta::assert_snapshot!(format!("{name}.{dialect}"), redacted(&report));

    let dir = scratch(&format!("{name}-{dialect}"));
    let path = dir.join(format!("{name}.trtfx"));
    compiled
        .save(&path)
        .unwrap_or_else(|e| panic!("{what}: save: {e}"));
    let mut loaded = CompiledProgram::load(&path).unwrap_or_else(|e| panic!("{what}: load: {e}"));
    assert_eq!(
        redacted(&loaded.report()),
        redacted(&report),
        "{what}: the loaded artifact reports differently"
    );
    assert_eq!(loaded.manifest(), compiled.manifest(), "{what}: manifest");
    loaded.register_kernel("trtfx_test.scale_shift.default", scale_shift());

    let io =
        trtfx::io::read_io(&fixtures().join(format!("{name}.io.safetensors"))).expect("io file");
    let run = assert_compiled_matches(&loaded, &io, &what, RTOL, ATOL);
    for (g, rt) in &run.runtimes {
        let seg = loaded.segments.iter().find(|s| &s.graph == g).unwrap();
        let want = match seg.backend {
            SegmentBackend::Trt => Runtime::LayerEmulator,
            SegmentBackend::Fallback => Runtime::Executor,
        };
        assert_eq!(*rt, want, "{what}: runtime of @{g}");
    }
    eprintln!(
        "{what}: {} segment(s), {} on TensorRT; outputs match",
        loaded.segments.len(),
        run.trt_calls.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

macro_rules! fixture_tests {
    ($($name:ident),* $(,)?) => {
        mod export_ir {
            $(#[test] fn $name() { super::run_fixture(stringify!($name), "export"); })*
        }
        mod core_aten {
            $(#[test] fn $name() { super::run_fixture(stringify!($name), "core"); })*
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

/// Rewrites a zip: `f(name, bytes)` returns the new bytes, or `None` to drop the member.
fn rewrite_zip(bytes: &[u8], f: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>) -> Vec<u8> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..z.len() {
        let mut m = z.by_index(i).unwrap();
        let name = m.name().to_string();
        let mut buf = Vec::new();
        m.read_to_end(&mut buf).unwrap();
        if let Some(new) = f(&name, buf) {
            w.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(&new).unwrap();
        }
    }
    w.finish().unwrap().into_inner()
}

/// `mlp` compiled, with a (fake) plan on its first TensorRT segment so that the artifact has a
/// plan member whatever the build (plans are only built with the `tensorrt` feature).
fn mlp_with_plan() -> CompiledProgram {
    let mut c = compile_fixture("mlp", "export");
    let seg = c
        .segments
        .iter_mut()
        .find_map(|s| s.trt.as_mut())
        .expect("mlp has a TensorRT segment");
    if seg.plan.is_none() {
        seg.plan = Some(SerializedEngine {
            bytes: b"not a real plan".to_vec(),
            settings: BuildSettings::default(),
            trt_version: "TensorRT-RTX 0.0.0 (test)".into(),
            stripped: false,
        });
        seg.plan_skipped = None;
    }
    c
}

fn load_err(bytes: Vec<u8>, name: &str) -> String {
    let dir = scratch(name);
    let path = dir.join("bad.trtfx");
    std::fs::write(&path, bytes).unwrap();
    let e = CompiledProgram::load(&path).expect_err("load must fail");
    let msg = e.to_string();
    assert!(msg.contains("bad.trtfx"), "the error names the file: {msg}");
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("{name}: {msg}");
    msg
}

#[test]
fn plan_round_trips() {
    let c = mlp_with_plan();
    let bytes = c.to_bytes().unwrap();
    let back = CompiledProgram::from_bytes(&bytes, "mem.trtfx".as_ref()).unwrap();
    let (a, b) = (
        c.trt_segments().next().unwrap().1,
        back.trt_segments().next().unwrap().1,
    );
    assert_eq!(a.plan, b.plan);
    assert_eq!(a.network, b.network, "network (weights restored)");
    // Saving is deterministic.
    assert_eq!(back.to_bytes().unwrap(), bytes);
}

#[test]
fn newer_format_version_is_refused() {
    let bytes = mlp_with_plan().to_bytes().unwrap();
    let bad = rewrite_zip(&bytes, |name, b| {
        Some(if name == "manifest.json" {
            let mut v: serde_json::Value = serde_json::from_slice(&b).unwrap();
            v["format_version"] = serde_json::json!(trtfx::FORMAT_VERSION + 1);
            // A future layout: the version error must win over parse errors.
            v["segments"] = serde_json::json!("changed");
            serde_json::to_vec(&v).unwrap()
        } else {
            b
        })
    });
    let msg = load_err(bad, "newer");
    assert!(
        msg.contains(&format!(
            "format version {} is newer",
            trtfx::FORMAT_VERSION + 1
        )),
        "{msg}"
    );
}

#[test]
fn missing_plan_is_refused() {
    let bytes = mlp_with_plan().to_bytes().unwrap();
    let bad = rewrite_zip(&bytes, |name, b| (!name.starts_with("plans/")).then_some(b));
    let msg = load_err(bad, "missing-plan");
    assert!(
        msg.contains("`plans/") && msg.contains("is missing"),
        "{msg}"
    );
}

#[test]
fn missing_network_is_refused() {
    let bytes = mlp_with_plan().to_bytes().unwrap();
    let bad = rewrite_zip(&bytes, |name, b| {
        (!(name.starts_with("networks/") && name.ends_with(".json"))).then_some(b)
    });
    let msg = load_err(bad, "missing-network");
    assert!(
        msg.contains("`networks/") && msg.contains("is missing"),
        "{msg}"
    );
}

#[test]
fn corrupt_manifest_is_refused() {
    let bytes = mlp_with_plan().to_bytes().unwrap();
    let bad = rewrite_zip(&bytes, |name, b| {
        Some(if name == "manifest.json" {
            b[..b.len() / 2].to_vec()
        } else {
            b
        })
    });
    let msg = load_err(bad, "corrupt");
    assert!(msg.contains("manifest.json: invalid JSON"), "{msg}");
    let msg = load_err(b"not a zip".to_vec(), "not-zip");
    assert!(msg.contains("not a .trtfx (zip) file"), "{msg}");
}

#[test]
fn wrong_inputs_are_refused() {
    let c = compile_fixture("mlp", "export");
    let io = trtfx::io::read_io(&fixtures().join("mlp.io.safetensors")).unwrap();
    let x = &io.inputs[0];
    let as_f64 =
        Tensor::from_f64s(&x.to_f64_vec(), x.shape().to_vec(), trtfx::exec::DType::F64).unwrap();
    let e = c.run(&[as_f64]).expect_err("wrong dtype");
    assert!(matches!(e, ArtifactError::Input(_)), "{e:?}");
    assert!(
        e.to_string().contains("must have dtype f32, got f64"),
        "{e}"
    );

    let mut shape = x.shape().to_vec();
    *shape.last_mut().unwrap() += 1;
    let n: usize = shape.iter().product();
    let wide = Tensor::from_f64s(&vec![0.0; n], shape, trtfx::exec::DType::F32).unwrap();
    let e = c.run(&[wide]).expect_err("wrong shape");
    assert!(matches!(e, ArtifactError::Input(_)), "{e:?}");

    let e = c.run(&[]).expect_err("no inputs");
    assert!(
        e.to_string().contains("takes 1 user input(s), got 0"),
        "{e}"
    );
}

#[test]
fn full_compilation_lists_unsupported_nodes() {
    let path = archive("customop", "export");
    let program = trtfx::frontend::import_pt2(&path).unwrap();
    let settings = CompileSettings {
        require_full_compilation: true,
        ..Default::default()
    };
    let e = compile(&program, &settings).expect_err("customop has a custom op");
    assert!(
        e.to_string().contains("trtfx_test.scale_shift"),
        "the custom op is named: {e}"
    );
}
