//! Custom operators from op libraries, end to end (issue 18): the `customop` fixture's
//! `trtfx_test::scale_shift` with its library as an exported `.pt2` and as hand-written
//! `.fxir`, in both dialects, through the executor, `compile` (the body inlined in a TensorRT
//! segment), the saved artifact (libraries embedded) and lift → unlift → lift; and
//! `lgamma_gate`, whose body has an op with no TensorRT converter, so that call alone falls
//! back. Goldens are PyTorch's (`tests/fixtures/gen.py`, `tests/fixtures/oplib/gen.py`).

mod common;

use common::{assert_compiled_matches, assert_outputs_close, fixtures, scratch};
use std::path::PathBuf;
use std::sync::Arc;
use trtfx::exec::interp::{Executor, Value};
use trtfx::exec::Tensor;
use trtfx::ir::Program;
use trtfx::oplib::{load_libraries, OpLibraries};
use trtfx::{compile_with_libraries, CompileSettings, CompiledProgram, SegmentBackend};

fn oplib(name: &str) -> PathBuf {
    fixtures().join("oplib").join(name)
}

/// The two forms of the `customop` fixture's library.
const SCALE_SHIFT_FORMS: [&str; 2] = ["trtfx_test.scale_shift.pt2", "trtfx_test.scale_shift.fxir"];

fn libs(files: &[&str]) -> OpLibraries {
    let paths: Vec<PathBuf> = files.iter().map(|f| oplib(f)).collect();
    load_libraries(&paths).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `p` on the executor with `libs`' op table.
fn run_with(p: &Program, libs: &OpLibraries, inputs: &[Tensor]) -> Result<Vec<Tensor>, String> {
    let mut ex = Executor::new(p);
    ex.set_ops(Arc::new(libs.registry().map_err(|e| e.to_string())?));
    let ins: Vec<Value> = inputs.iter().cloned().map(Value::Tensor).collect();
    let outs = ex.run(&ins).map_err(|e| e.to_string())?;
    outs.into_iter()
        .map(|v| match v {
            Value::Tensor(t) => Ok(t),
            other => Err(format!("output of kind {}", other.kind())),
        })
        .collect()
}

fn customop(dialect: &str) -> (Program, trtfx::io::IoTensors) {
    let file = if dialect == "core" {
        "customop.core.pt2"
    } else {
        "customop.pt2"
    };
    let p = trtfx::frontend::import_pt2(fixtures().join(file)).expect("import");
    let io = trtfx::io::read_io(&fixtures().join("customop.io.safetensors")).expect("goldens");
    (p, io)
}

fn lgamma_gate(dialect: &str) -> (Program, trtfx::io::IoTensors) {
    let file = if dialect == "core" {
        "lgamma_gate.core.pt2"
    } else {
        "lgamma_gate.pt2"
    };
    let p = trtfx::frontend::import_pt2(oplib(file)).expect("import");
    let io = trtfx::io::read_io(&oplib("lgamma_gate.io.safetensors")).expect("goldens");
    (p, io)
}

#[test]
fn customop_runs_with_its_library_in_both_forms_and_dialects() {
    for form in SCALE_SHIFT_FORMS {
        let l = libs(&[form]);
        for dialect in ["export", "core"] {
            let (p, io) = customop(dialect);
            l.check_program(&p)
                .expect("the fixture's call fits the schema");
            let what = format!("customop {dialect} with {form}");
            let outs = run_with(&p, &l, &io.inputs).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_outputs_close(&what, &outs, &io.outputs, 1e-4, 1e-4);
            // Inference through the body agrees with the types PyTorch recorded.
            let report = trtfx::ir::aten::check_program(&p, &l.registry().unwrap());
            assert!(report.ok(), "{what}: {report}");
        }
    }
}

#[test]
fn without_a_library_the_op_names_the_fix() {
    let (p, io) = customop("export");
    let e = run_with(&p, &OpLibraries::new(), &io.inputs).unwrap_err();
    assert!(
        e.contains("trtfx_test.scale_shift.default") && e.contains("--op-library"),
        "{e}"
    );
    let reg = trtfx::ir::aten::registry();
    assert_eq!(
        trtfx::oplib::missing_library_error("customop.pt2", &p, reg).as_deref(),
        Some(
            "customop.pt2: custom operator `trtfx_test.scale_shift.default` (node `scale_shift`) \
             has no implementation: pass the op library that defines it with --op-library FILE \
             (a .pt2 exported from its reference or a .fxir body; see docs/custom-ops.md)"
        )
    );
    let l = libs(&[SCALE_SHIFT_FORMS[0]]);
    assert_eq!(
        trtfx::oplib::missing_library_error("customop.pt2", &p, &l.registry().unwrap()),
        None
    );
}

/// The settings of the custom-op compiles: `customop` has four compute nodes in all, fewer
/// than the default `min-block-size`.
fn settings() -> CompileSettings {
    CompileSettings {
        min_block_size: 1,
        ..Default::default()
    }
}

fn segment_ops(c: &CompiledProgram) -> Vec<(SegmentBackend, Vec<String>)> {
    c.segments
        .iter()
        .map(|s| (s.backend, s.ops.keys().cloned().collect()))
        .collect()
}

#[test]
fn compiled_customop_inlines_the_body_in_one_trt_segment_and_the_artifact_runs_alone() {
    for form in SCALE_SHIFT_FORMS {
        let l = libs(&[form]);
        for dialect in ["export", "core"] {
            let (p, io) = customop(dialect);
            let what = format!("customop {dialect} with {form}");
            let c = compile_with_libraries(&p, &settings(), &l)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            // One TensorRT segment holding the custom op: its body converted inline.
            let segs = segment_ops(&c);
            assert_eq!(segs.len(), 1, "{what}: {segs:?}\n{}", c.report());
            assert_eq!(segs[0].0, SegmentBackend::Trt, "{what}: {}", c.report());
            assert!(
                segs[0]
                    .1
                    .iter()
                    .any(|o| o == "trtfx_test.scale_shift.default"),
                "{what}: {segs:?}"
            );
            assert!(c.unsupported.is_empty(), "{what}: {:?}", c.unsupported);
            let net = &c.segments[0].trt.as_ref().unwrap().network;
            let layers = net.to_string();
            assert!(
                !layers.contains("scale_shift"),
                "{what}: the network has only layers"
            );
            assert_compiled_matches(&c, &io, &what, 5e-3, 5e-3);

            // Saved and loaded: the library travels in the artifact.
            let dir = scratch(
                "custom_ops",
                &format!("{dialect}-{}", form.replace('.', "_")),
            );
            let path = dir.join("customop.trtfx");
            c.save(&path).unwrap();
            let loaded = CompiledProgram::load(&path).unwrap_or_else(|e| panic!("{what}: {e}"));
            let m = loaded.manifest();
            // 2 for the library, 3 when its networks also refer to weights.
            assert!(m.format_version >= 2, "{what}: {}", m.format_version);
            assert_eq!(m.op_libraries.len(), 1, "{what}");
            assert_eq!(m.op_libraries[0].ops, ["trtfx_test.scale_shift.default"]);
            assert_compiled_matches(&loaded, &io, &format!("{what}, loaded"), 5e-3, 5e-3);
            // And byte-identical when saved again.
            assert_eq!(loaded.to_bytes().unwrap(), c.to_bytes().unwrap(), "{what}");
        }
    }
}

#[test]
fn artifacts_without_libraries_have_no_library_field() {
    let p = trtfx::frontend::import_pt2(fixtures().join("mlp.pt2")).unwrap();
    let c = trtfx::compile(&p, &CompileSettings::default()).unwrap();
    // Version 3 for its weight refs (crates/trtfx/tests/refit.rs checks that an artifact
    // without refs or libraries is still written as version 1).
    assert_eq!(c.manifest().format_version, trtfx::FORMAT_VERSION);
    let json = serde_json::to_value(c.manifest()).unwrap();
    assert!(json.get("op_libraries").is_none(), "{json}");
}

#[test]
fn fallback_segments_run_the_body_on_the_executor() {
    // Forced to the executor, the custom op runs its body there; the artifact still runs alone.
    let l = libs(&[SCALE_SHIFT_FORMS[1]]);
    let (p, io) = customop("core");
    let s = CompileSettings {
        fallback_ops: vec!["trtfx_test.scale_shift.default".into()],
        ..settings()
    };
    let c = compile_with_libraries(&p, &s, &l).unwrap();
    let fallback: Vec<_> = segment_ops(&c)
        .into_iter()
        .filter(|(b, _)| *b == SegmentBackend::Fallback)
        .collect();
    assert_eq!(
        fallback,
        [(
            SegmentBackend::Fallback,
            vec!["trtfx_test.scale_shift.default".to_string()]
        )]
    );
    let dir = scratch("custom_ops", "fallback");
    c.save(dir.join("c.trtfx")).unwrap();
    let loaded = CompiledProgram::load(dir.join("c.trtfx")).unwrap();
    assert_compiled_matches(&loaded, &io, "scale_shift on the executor", 1e-4, 1e-4);
}

#[test]
fn a_body_with_an_unconvertible_op_falls_back_alone() {
    let l = libs(&["trtfx_test.lgamma_gate.pt2"]);
    // The premise: TensorRT has no lgamma, and trtfx no converter for it.
    assert!(!trtfx::backend::convert::ConverterRegistry::standard()
        .has_converter("aten.lgamma.default"));
    for dialect in ["export", "core"] {
        let (p, io) = lgamma_gate(dialect);
        let what = format!("lgamma_gate {dialect}");
        let outs = run_with(&p, &l, &io.inputs).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_outputs_close(&what, &outs, &io.outputs, 1e-4, 1e-4);

        let c = compile_with_libraries(&p, &CompileSettings::default(), &l)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let segs = segment_ops(&c);
        let backends: Vec<SegmentBackend> = segs.iter().map(|s| s.0).collect();
        assert_eq!(
            backends,
            [
                SegmentBackend::Trt,
                SegmentBackend::Fallback,
                SegmentBackend::Trt
            ],
            "{what}:\n{}",
            c.report()
        );
        assert_eq!(segs[1].1, ["trtfx_test.lgamma_gate.default"], "{what}");
        assert_eq!(c.unsupported.len(), 1, "{what}: {:?}", c.unsupported);
        let u = &c.unsupported[0];
        assert_eq!(u.op, "trtfx_test.lgamma_gate.default");
        assert!(
            u.reason.contains("aten.lgamma.default"),
            "{what}: {}",
            u.reason
        );
        // Everything but the custom op is on TensorRT.
        let total: usize = c.segments.iter().map(|s| s.compute_nodes).sum();
        let on_trt: usize = c
            .segments
            .iter()
            .filter(|s| s.backend == SegmentBackend::Trt)
            .map(|s| s.compute_nodes)
            .sum();
        assert_eq!(on_trt, total - 1, "{what}: {}", c.report());
        assert_compiled_matches(&c, &io, &what, 5e-3, 5e-3);
        let dir = scratch("custom_ops", &format!("lgamma-{dialect}"));
        c.save(dir.join("g.trtfx")).unwrap();
        let loaded = CompiledProgram::load(dir.join("g.trtfx")).unwrap();
        assert_compiled_matches(&loaded, &io, &format!("{what}, loaded"), 5e-3, 5e-3);
    }
}

#[test]
fn lift_unlift_lift_keeps_it_runnable_with_user_inputs_only() {
    use trtfx::passes::passes::params::{lift, unlift, WeightKinds};
    let l = libs(&[SCALE_SHIFT_FORMS[0]]);
    for dialect in ["export", "core"] {
        let (p, io) = customop(dialect);
        assert_eq!(io.inputs.len(), 1, "the user passes only x");
        let kinds = WeightKinds::new();
        let mut lifted = p.clone();
        lift(&mut lifted, Some(&kinds)).unwrap();
        let mut unlifted = lifted.clone();
        assert_eq!(unlift(&mut unlifted, Some(&kinds)).unwrap(), 4);
        let mut again = unlifted.clone();
        lift(&mut again, Some(&kinds)).unwrap();
        assert_eq!(again, lifted, "{dialect}: lift ∘ unlift is the identity");
        for (what, q) in [
            ("lifted", &lifted),
            ("unlifted", &unlifted),
            ("lifted again", &again),
        ] {
            let what = format!("customop {dialect} {what}");
            let outs = run_with(q, &l, &io.inputs).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_outputs_close(&what, &outs, &io.outputs, 1e-4, 1e-4);
            let c = compile_with_libraries(q, &settings(), &l)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_compiled_matches(&c, &io, &what, 5e-3, 5e-3);
        }
    }
}

#[test]
fn the_pass_pipeline_with_the_library_verifies_and_keeps_the_op() {
    // `default` with the library's op table: the verifier re-infers the custom op through its
    // body after every pass, and nothing decomposes it at the program level.
    let l = libs(&[SCALE_SHIFT_FORMS[1]]);
    let ops = Arc::new(l.registry().unwrap());
    let reg = trtfx::pass_registry_with_ops(ops.clone());
    let pipeline = reg.parse_pipeline("default").unwrap();
    let mut pm = trtfx::passes::PassManager::new(pipeline).with_ops(ops);
    let (mut p, io) = customop("export");
    pm.run(&mut p).unwrap();
    let text = trtfx::ir::print_program(&p);
    assert!(text.contains("trtfx_test.scale_shift.default"), "{text}");
    let outs = run_with(&p, &l, &io.inputs).unwrap();
    assert_outputs_close("after default", &outs, &io.outputs, 1e-4, 1e-4);
}

#[test]
fn the_two_library_forms_define_the_same_op() {
    let pt2 = libs(&[SCALE_SHIFT_FORMS[0]]);
    let fxir = libs(&[SCALE_SHIFT_FORMS[1]]);
    let a = &pt2.iter().next().unwrap().ops()[0];
    let b = &fxir.iter().next().unwrap().ops()[0];
    assert_eq!(a.name, b.name);
    assert_eq!(a.schema, b.schema);
    let targets = |g: &trtfx::ir::Graph| -> Vec<String> {
        g.nodes()
            .filter_map(|n| g.node(n).op.target().map(str::to_string))
            .collect()
    };
    assert_eq!(targets(&a.body), targets(&b.body));
}

/// A copy of the zip `bytes` with member `drop` left out and member `replace.0` replaced by
/// `replace.1`.
fn rewrite_zip(bytes: &[u8], drop: &str, replace: Option<(&str, &[u8])>) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().to_string();
        if name == drop {
            continue;
        }
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        if let Some((r, new)) = replace {
            if r == name {
                data = new.to_vec();
            }
        }
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(&data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn a_broken_embedded_library_is_a_clear_load_error() {
    let l = libs(&[SCALE_SHIFT_FORMS[1]]);
    let (p, _) = customop("export");
    let c = compile_with_libraries(&p, &settings(), &l).unwrap();
    let bytes = c.to_bytes().unwrap();
    let origin = std::path::Path::new("c.trtfx");
    let load = |b: &[u8]| {
        CompiledProgram::from_bytes(b, origin)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        load(&rewrite_zip(&bytes, "libraries/0.fxir", None)),
        "c.trtfx: `libraries/0.fxir` is missing from the archive (the manifest lists it)"
    );
    let e = load(&rewrite_zip(
        &bytes,
        "",
        Some(("libraries/0.fxir", b"graph @f \"x::y(".as_slice())),
    ));
    assert!(
        e.starts_with("c.trtfx: libraries/0.fxir: not valid .fxir: 1:10:"),
        "{e}"
    );
    let recursive = l.iter().next().unwrap().to_text().replace(
        "aten.add.Tensor(%mul, %shift)",
        "trtfx_test.scale_shift.default(%mul, %scale, shift=%shift)",
    );
    let e = load(&rewrite_zip(
        &bytes,
        "",
        Some(("libraries/0.fxir", recursive.as_bytes())),
    ));
    assert!(e.starts_with("c.trtfx: manifest.json: "), "{e}");
    assert!(e.contains("recursive body"), "{e}");
}

/// The artifact bytes of `c` with its embedded libraries removed (as a version-1 artifact).
fn without_libraries(c: &CompiledProgram) -> Vec<u8> {
    let bytes = c.to_bytes().unwrap();
    let mut m = serde_json::to_value(c.manifest()).unwrap();
    m.as_object_mut().unwrap().remove("op_libraries");
    m["format_version"] = serde_json::json!(1);
    let m = serde_json::to_vec(&m).unwrap();
    rewrite_zip(&bytes, "libraries/0.fxir", Some(("manifest.json", &m)))
}

#[test]
fn an_artifact_needs_libraries_only_for_calls_outside_tensorrt_segments() {
    let l = libs(&[SCALE_SHIFT_FORMS[0]]);
    let (p, io) = customop("core");
    let origin = std::path::Path::new("c.trtfx");
    // On TensorRT the body is inside the network: the artifact runs without the library.
    let on_trt = compile_with_libraries(&p, &settings(), &l).unwrap();
    let stripped = CompiledProgram::from_bytes(&without_libraries(&on_trt), origin).unwrap();
    assert!(stripped.libraries().is_empty());
    assert_eq!(
        trtfx::oplib::missing_library_error_compiled("c.trtfx", &stripped),
        None
    );
    assert_compiled_matches(&stripped, &io, "no library, op on TensorRT", 5e-3, 5e-3);
    // On the executor it needs one, and says so.
    let s = CompileSettings {
        fallback_ops: vec!["trtfx_test.scale_shift.default".into()],
        ..settings()
    };
    let on_cpu = compile_with_libraries(&p, &s, &l).unwrap();
    let mut stripped = CompiledProgram::from_bytes(&without_libraries(&on_cpu), origin).unwrap();
    let e = trtfx::oplib::missing_library_error_compiled("c.trtfx", &stripped).unwrap();
    assert!(
        e.starts_with("c.trtfx: custom operator `trtfx_test.scale_shift.default`"),
        "{e}"
    );
    assert!(stripped.run(&io.inputs).is_err());
    // Adding the library back (`ir-opt run X.trtfx --op-library FILE`) makes it run.
    stripped.add_libraries(&l).unwrap();
    assert_compiled_matches(&stripped, &io, "library added to the artifact", 1e-4, 1e-4);
}
