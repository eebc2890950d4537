//! `CompileSettings::truncate_double`: f64 computation moves onto TensorRT as f32, with casts at
//! the TensorRT segment boundaries so the main graph and fallback segments keep f64.
//!
//! On the `intmath` fixture (both dialects): more compute nodes land on TensorRT, no TensorRT
//! segment has an f64 value, the outputs stay f64, and the artifact (also after save/load)
//! matches PyTorch's goldens. The f64 outputs are compared at f32 level (rtol 1e-4 / atol 1e-5)
//! because part of their computation now runs in f32; integers exactly.

mod common;

use std::path::PathBuf;

use common::fixtures;
use trtfx::exec::Tensor;
use trtfx::ir::{Arg, DType, Graph, Op, Program, Type};
use trtfx::{compile, CompileSettings, CompiledProgram, SegmentBackend};

/// Tolerance for outputs computed partly in f32 instead of f64 (the price of truncation).
const RTOL: f64 = 1e-4;
const ATOL: f64 = 1e-5;

fn settings(truncate: bool) -> CompileSettings {
    CompileSettings {
        truncate_double: truncate,
        ..Default::default()
    }
}

/// Compute nodes in TensorRT segments.
fn trt_compute(c: &CompiledProgram) -> usize {
    c.segments
        .iter()
        .filter(|s| s.backend == SegmentBackend::Trt)
        .map(|s| s.compute_nodes)
        .sum()
}

fn graph<'a>(c: &'a CompiledProgram, name: &str) -> &'a Graph {
    c.program
        .graphs
        .values()
        .find(|g| g.name == name)
        .unwrap_or_else(|| panic!("no graph @{name}"))
}

fn has_f64(g: &Graph) -> bool {
    g.value_ids().any(|v| match g.ty(v) {
        Type::Tensor(t) => t.dtype == DType::F64,
        Type::List(inner) => inner.as_tensor().is_some_and(|t| t.dtype == DType::F64),
        _ => false,
    })
}

fn output_dtypes(p: &Program) -> Vec<Option<DType>> {
    let g = p.main_graph();
    g.outputs()
        .iter()
        .map(|a| {
            a.as_value()
                .and_then(|v| g.ty(v).as_tensor().map(|t| t.dtype))
        })
        .collect()
}

fn scratch(test: &str) -> PathBuf {
    common::scratch("truncate", test)
}

/// Golden match, and each output keeps the golden's dtype (f64 outputs stay f64).
fn check_goldens(c: &CompiledProgram, what: &str) {
    let io = trtfx::io::read_io(&fixtures().join("intmath.io.safetensors")).expect("io file");
    let run = common::assert_compiled_matches(c, &io, what, RTOL, ATOL);
    for (i, (got, want)) in run.outputs.iter().zip(&io.outputs).enumerate() {
        assert_eq!(got.dtype(), want.dtype(), "{what} out_{i}: dtype");
    }
}

fn intmath(dialect: &str) {
    let file = match dialect {
        "core" => "intmath.core.pt2",
        _ => "intmath.pt2",
    };
    let what = format!("intmath ({dialect})");
    let program = trtfx::frontend::import_pt2(fixtures().join(file)).expect("import");
    let plain = compile(&program, &settings(false)).expect("compile");
    let trunc = compile(&program, &settings(true))
        .unwrap_or_else(|e| panic!("{what}: compile --truncate-double: {e}"));

    assert!(
        trt_compute(&trunc) > trt_compute(&plain),
        "{what}: truncation should move f64 nodes onto TensorRT ({} vs {} compute nodes)\n{}",
        trt_compute(&trunc),
        trt_compute(&plain),
        trunc.report()
    );
    assert!(
        trunc.unsupported.iter().all(|u| !u.reason.contains("f64")),
        "{what}: f64 is still a reason\n{}",
        trunc.report()
    );
    for s in &trunc.segments {
        let g = graph(&trunc, &s.graph);
        if s.backend == SegmentBackend::Trt {
            assert!(!has_f64(g), "{what}: @{} has an f64 value", s.graph);
        }
    }
    // Outside TensorRT nothing changed type: the outputs keep their f64 dtypes, and the f64
    // values of the plain compile's main graph and fallback segments are still there (the
    // main graph now holds the casts back to f64).
    assert_eq!(output_dtypes(&trunc.program), output_dtypes(&plain.program));
    assert!(output_dtypes(&trunc.program).contains(&Some(DType::F64)));
    assert!(has_f64(trunc.program.main_graph()), "{what}: main lost f64");
    for s in trunc
        .segments
        .iter()
        .filter(|s| s.backend == SegmentBackend::Fallback)
    {
        let before = plain.segments.iter().find(|p| p.graph == s.graph);
        if let Some(before) = before.filter(|b| b.backend == SegmentBackend::Fallback) {
            assert_eq!(
                has_f64(graph(&trunc, &s.graph)),
                has_f64(graph(&plain, &before.graph)),
                "{what}: fallback @{} changed its f64 values",
                s.graph
            );
        }
    }

    check_goldens(&trunc, &what);

    let dir = scratch(dialect);
    let path = dir.join("intmath.trtfx");
    trunc.save(&path).expect("save");
    let loaded = CompiledProgram::load(&path).expect("load");
    assert_eq!(loaded.manifest(), trunc.manifest(), "{what}: manifest");
    check_goldens(&loaded, &format!("{what}, loaded"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn intmath_export() {
    intmath("export");
}

#[test]
fn intmath_core() {
    intmath("core");
}

/// An f64 chain between f32 ops, with an f64 user input and an f64 output: truncated, the whole
/// chain is one TensorRT segment, the f64 input is cast to f32 before the call and the f64
/// output cast back after it.
const CHAIN: &str = r#"input "x": f32[4]
input "y": f64[4]
graph @main(%x: f32[4] = user "x", %y: f64[4] = user "y") -> (user, user) {
  %a: f32[4] = aten.relu.default(%x)
  %b: f64[4] = aten._to_copy.default(%a, dtype=f64)
  %c: f64[4] = aten.mul.Tensor(%b, %y)
  %d: f64[4] = aten.exp.default(%c)
  %e: f32[4] = aten._to_copy.default(%d, dtype=f32)
  %f: f32[4] = aten.relu.default(%e)
  output (%f, %d)
}
"#;

/// The `dtype` literal of a `_to_copy` node, if `n` is one.
fn cast_dtype(g: &Graph, n: trtfx::ir::NodeId) -> Option<DType> {
    let node = g.node(n);
    if node.op.target() != Some("aten._to_copy.default") {
        return None;
    }
    match node.kwarg("dtype") {
        Some(Arg::DType(d)) => Some(*d),
        _ => None,
    }
}

#[test]
fn casts_at_the_boundary() {
    let program = trtfx::ir::parse_program(CHAIN).expect("parse");
    let s = |t| CompileSettings {
        min_block_size: 1,
        ..settings(t)
    };
    let plain = compile(&program, &s(false)).expect("compile");
    assert!(
        plain
            .segments
            .iter()
            .any(|s| s.backend == SegmentBackend::Fallback),
        "without truncation the f64 chain falls back\n{}",
        plain.report()
    );

    let c = compile(&program, &s(true)).expect("compile --truncate-double");
    assert_eq!(c.segments.len(), 1, "{}", c.report());
    assert_eq!(c.segments[0].backend, SegmentBackend::Trt);
    assert!(!has_f64(graph(&c, &c.segments[0].graph)));

    let g = c.program.main_graph();
    let call = g
        .nodes()
        .find(|&n| matches!(g.node(n).op, Op::CallGraph { .. }))
        .expect("call");
    // Operands: `y` reaches the call through a cast to f32; nothing f64 goes in.
    let operands = g.node(call).inputs();
    assert!(operands.iter().all(|&v| !matches!(g.ty(v),
        Type::Tensor(t) if t.dtype == DType::F64)));
    let y = g.input_values()[1];
    let cast_in = operands
        .iter()
        .map(|&v| g.value(v).def)
        .find(|&n| cast_dtype(g, n) == Some(DType::F32))
        .expect("a cast to f32 before the call");
    assert_eq!(g.node(cast_in).args[0].as_value(), Some(y));
    // Results: the f64 output `d` comes from a cast back to f64 of the call's f32 result.
    let out_d = g.outputs()[1].as_value().unwrap();
    assert_eq!(g.ty(out_d).as_tensor().map(|t| t.dtype), Some(DType::F64));
    let cast_out = g.value(out_d).def;
    assert_eq!(cast_dtype(g, cast_out), Some(DType::F64));
    let r = g.node(cast_out).args[0].as_value().unwrap();
    assert_eq!(g.value(r).def, call);
    assert_eq!(g.ty(r).as_tensor().map(|t| t.dtype), Some(DType::F32));

    // It runs, before and after a save/load round trip; `d` is f64 at f32 precision.
    let x = Tensor::from_vec(vec![-1.0f32, 0.5, 1.0, 2.0], vec![4]).unwrap();
    let yv = [0.25f64, -0.5, 1.5, 0.1];
    let y = Tensor::from_vec(yv.to_vec(), vec![4]).unwrap();
    let want_d: Vec<f64> = [-1.0f64, 0.5, 1.0, 2.0]
        .iter()
        .zip(yv)
        .map(|(x, y)| (x.max(0.0) * y).exp())
        .collect();
    let dir = scratch("chain");
    let path = dir.join("chain.trtfx");
    c.save(&path).expect("save");
    let loaded = CompiledProgram::load(&path).expect("load");
    for (what, cp) in [("compiled", &c), ("loaded", &loaded)] {
        let out = cp.run(&[x.clone(), y.clone()]).expect("run");
        assert_eq!(out.outputs[1].dtype(), trtfx::exec::DType::F64, "{what}");
        let got = out.outputs[1].to_f64_vec();
        for (g, w) in got.iter().zip(&want_d) {
            assert!(
                (g - w).abs() <= ATOL + RTOL * w.abs(),
                "{what}: {got:?} vs {want_d:?}"
            );
        }
        let f = out.outputs[0].to_f64_vec();
        for (g, w) in f.iter().zip(&want_d) {
            assert!(
                (g - w).abs() <= ATOL + RTOL * w.abs(),
                "{what}: {f:?} vs {want_d:?}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `cond` whose branch reads an f64 weight, on TensorRT: the branch is replaced by a truncated
/// copy that reads an f32 copy of the weight, and the original weight and branch keep f64.
const COND: &str = r#"input "x": f32[4]
weight "w": f64[4]
graph @main(%x: f32[4] = user "x") -> (user) {
  %a: f32[4] = aten.relu.default(%x)
  %s: f32[] = aten.sum.default(%a)
  %p: bool[] = aten.gt.Scalar(%s, 0)
  %c: f32[4] = higher_order.cond(%p, @true_graph_0, @false_graph_0, [%a])
  %d: f32[4] = aten.neg.default(%c)
  output (%d)
}
graph @true_graph_0(%y: f32[4]) {
  %w: f64[4] = get_attr "w"
  %y64: f64[4] = aten._to_copy.default(%y, dtype=f64)
  %z: f64[4] = aten.add.Tensor(%y64, %w)
  %r: f32[4] = aten._to_copy.default(%z, dtype=f32)
  output (%r)
}
graph @false_graph_0(%y: f32[4]) {
  %cos: f32[4] = aten.cos.default(%y)
  output (%cos)
}
"#;

#[test]
fn cond_branch_weights() {
    let mut program = trtfx::ir::parse_program(COND).expect("parse");
    let w: Vec<u8> = [0.5f64, -1.0, 2.0, 0.25]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    program.weights.insert(
        "w".into(),
        trtfx::ir::Weight::from_bytes(DType::F64, vec![4], w),
    );
    let s = CompileSettings {
        min_block_size: 1,
        ..settings(true)
    };
    let c = compile(&program, &s).unwrap_or_else(|e| panic!("compile: {e}"));
    assert!(c.segments.iter().all(|s| s.backend == SegmentBackend::Trt));
    // The original weight and branch keep f64 (other code may read them); the segment's cond
    // calls a truncated copy that reads the f32 copy of the weight.
    assert_eq!(c.program.weights["w"].dtype, DType::F64);
    assert_eq!(c.program.weights["w_f32"].dtype, DType::F32);
    assert!(has_f64(graph(&c, "true_graph_0")));
    let copy = graph(&c, "true_graph_0_f32");
    assert!(!has_f64(copy));
    assert!(copy
        .nodes()
        .any(|n| matches!(&copy.node(n).op, Op::GetAttr { target } if target == "w_f32")));

    // relu(x) + w, negated; the values are exact in f32.
    let want = vec![-0.5, 0.5, -3.0, -2.25];
    let x = Tensor::from_vec(vec![-1.0f32, 0.5, 1.0, 2.0], vec![4]).unwrap();
    let dir = scratch("cond");
    let path = dir.join("cond.trtfx");
    c.save(&path).expect("save");
    let loaded = CompiledProgram::load(&path).expect("load");
    for cp in [&c, &loaded] {
        let out = cp.run(std::slice::from_ref(&x)).expect("run");
        assert_eq!(out.outputs[0].to_f64_vec(), want);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
