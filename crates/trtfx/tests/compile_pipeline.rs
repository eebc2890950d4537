//! `trtfx::compile` is the registered `compile{...}` pipeline: on the 64-bit fixtures
//! (`intmath`, both dialects), without truncation f64 stays on the executor and the outputs
//! are exact; with it, the outputs are within f32 tolerance and every boundary cast is in the
//! printed IR (`--print-ir-after-all`). The library's `compile` and running the pipeline text
//! by hand (what `ir-opt opt --passes 'compile{...}' -o X.trtfx` does) give byte-identical
//! artifacts, and the verifier runs after every pass that changed the program.

mod common;

use std::sync::{Arc, Mutex};

use common::fixtures;
use trtfx::ir::{DType, Graph, Op, Program, Type};
use trtfx::passes::instrument::{Instrumentation, PassRun};
use trtfx::passes::{IrPrinter, PassManager, PassOutcome, PrintConfig, Sink};
use trtfx::{compile, CompileSettings, CompiledProgram, Int64Policy, SegmentBackend};

fn import(dialect: &str) -> Program {
    let file = match dialect {
        "core" => "intmath.core.pt2",
        _ => "intmath.pt2",
    };
    trtfx::frontend::import_pt2(fixtures().join(file)).expect("import")
}

fn has_f64(g: &Graph) -> bool {
    g.value_ids().any(|v| match g.ty(v) {
        Type::Tensor(t) => t.dtype == DType::F64,
        Type::List(inner) => inner.as_tensor().is_some_and(|t| t.dtype == DType::F64),
        _ => false,
    })
}

fn graph<'a>(c: &'a CompiledProgram, name: &str) -> &'a Graph {
    c.program
        .graphs
        .values()
        .find(|g| g.name == name)
        .expect("segment graph")
}

/// Runs `settings.pipeline_text()` by hand, the IR printed after every pass into a buffer,
/// and assembles the artifact as `ir-opt opt -o X.trtfx` does.
fn run_pipeline(p: &Program, settings: &CompileSettings) -> (CompiledProgram, String) {
    let reg = trtfx::pass_registry();
    let text = settings.pipeline_text();
    let (sink, buf) = Sink::buffer();
    let print = PrintConfig {
        after_all: true,
        ..Default::default()
    };
    let mut pm = PassManager::parse(&reg, &text)
        .expect("pipeline parses")
        .with_ops(Arc::new(trtfx::ir::aten::standard_registry()))
        .add_instrumentation(IrPrinter::new(print, sink));
    let mut q = p.clone();
    pm.run(&mut q).unwrap_or_else(|e| panic!("`{text}`: {e}"));
    let c = CompiledProgram::from_pipeline(q, pm.products()).expect("assembles");
    let dumps = buf.lock().unwrap().clone();
    (c, dumps)
}

fn off_exact(dialect: &str) {
    let p = import(dialect);
    let c = compile(&p, &CompileSettings::default()).expect("compile");
    let mut fallback_f64 = false;
    for s in &c.segments {
        let g = graph(&c, &s.graph);
        if s.backend == SegmentBackend::Trt {
            assert!(
                !has_f64(g),
                "{dialect}: TensorRT segment @{} has f64",
                s.graph
            );
        } else {
            fallback_f64 |= has_f64(g);
        }
    }
    assert!(
        fallback_f64,
        "{dialect}: the f64 computation should be on the executor"
    );
    let io = trtfx::io::read_io(&fixtures().join("intmath.io.safetensors")).expect("io");
    // Exact: the compiled program computes what the program computes on the executor.
    let want = common::run(&p, &io.inputs).expect("runs");
    let got = c.run(&io.inputs).expect("compiled runs").outputs;
    common::assert_outputs_close(
        &format!("intmath {dialect}, no truncation"),
        &got,
        &want,
        0.0,
        0.0,
    );
}

#[test]
fn intmath_truncation_off_is_exact_export() {
    off_exact("export");
}

#[test]
fn intmath_truncation_off_is_exact_core() {
    off_exact("core");
}

fn on_casts_visible(dialect: &str) {
    let p = import(dialect);
    let settings = CompileSettings {
        truncate_double: true,
        ..Default::default()
    };
    let (c, dumps) = run_pipeline(&p, &settings);
    let io = trtfx::io::read_io(&fixtures().join("intmath.io.safetensors")).expect("io");
    common::assert_compiled_matches(
        &c,
        &io,
        &format!("intmath {dialect}, truncated"),
        1e-4,
        1e-5,
    );
    // Every cast the pipeline added (a `_to_copy` whose result is new) is in a dump after
    // truncate-long-double or repair-types, with its types.
    let old: std::collections::HashSet<String> = p
        .graphs
        .values()
        .flat_map(|g| {
            g.value_ids()
                .map(|v| g.value(v).name.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    let steps: String = dumps
        .split("// -----// IR Dump After ")
        .filter(|d| d.starts_with("truncate-long-double") || d.starts_with("repair-types"))
        .collect();
    let mut casts = 0;
    for g in c.program.graphs.values() {
        for n in g.nodes() {
            let node = g.node(n);
            if !matches!(&node.op, Op::Call { target } if target == "aten._to_copy.default") {
                continue;
            }
            let r = node.results[0];
            let name = &g.value(r).name;
            if old.contains(name) {
                continue;
            }
            casts += 1;
            let line = format!("%{name}: {} = aten._to_copy.default(", g.ty(r));
            assert!(
                steps.contains(&line),
                "{dialect}: cast `{line}` is not in the dumps"
            );
        }
    }
    assert!(casts > 0, "{dialect}: truncation inserted no boundary cast");
    // And f64 never enters a TensorRT segment.
    for s in c
        .segments
        .iter()
        .filter(|s| s.backend == SegmentBackend::Trt)
    {
        assert!(
            !has_f64(graph(&c, &s.graph)),
            "{dialect}: @{} has f64",
            s.graph
        );
    }
}

#[test]
fn intmath_truncation_on_within_f32_and_casts_printed_export() {
    on_casts_visible("export");
}

#[test]
fn intmath_truncation_on_within_f32_and_casts_printed_core() {
    on_casts_visible("core");
}

#[test]
fn compile_and_pipeline_text_give_identical_artifacts() {
    let p = import("export");
    let variants = [
        CompileSettings::default(),
        CompileSettings {
            truncate_double: true,
            ..Default::default()
        },
        CompileSettings {
            truncate_double: true,
            int64: Int64Policy::Int32,
            min_block_size: 2,
            ..Default::default()
        },
        CompileSettings {
            int64: Int64Policy::Fallback,
            fallback_ops: vec!["aten.exp.default".into()],
            ..Default::default()
        },
        CompileSettings {
            build: trtfx::backend::BuildSettings {
                compute_capabilities: vec![trtfx::backend::ComputeCapability::Sm89],
                ..Default::default()
            },
            ..Default::default()
        },
    ];
    for s in &variants {
        let a = compile(&p, s).expect("compile").to_bytes().expect("bytes");
        let (c, _) = run_pipeline(&p, s);
        let b = c.to_bytes().expect("bytes");
        assert!(a == b, "`{}`: artifacts differ", s.pipeline_text());
    }
    assert_eq!(
        variants[2].pipeline_text(),
        "compile{min-block-size=2,truncate-double=true,int64=int32}"
    );
    assert_eq!(
        variants[4].pipeline_text(),
        "compile{engines=false},build-engines{targets=[sm89]}"
    );
}

/// Passes that ran with whether they changed the program, and passes that were verified.
type Log = (Vec<(String, bool)>, Vec<String>);

/// Records which passes ran, which changed the program and which were verified.
#[derive(Default)]
struct Seen(Arc<Mutex<Log>>);

impl Instrumentation for Seen {
    fn after_pass(&mut self, pass: &PassRun<'_>, _p: &Program, outcome: &PassOutcome) {
        self.0
            .lock()
            .unwrap()
            .0
            .push((pass.name.to_string(), outcome.changed));
    }
    fn verified(&mut self, pass: &PassRun<'_>, _elapsed: std::time::Duration) {
        self.0.lock().unwrap().1.push(pass.name.to_string());
    }
}

#[test]
fn verifier_runs_after_every_changing_pass_of_compile() {
    let p = import("export");
    let reg = trtfx::pass_registry();
    let seen = Seen::default();
    let log = seen.0.clone();
    let text = CompileSettings {
        truncate_double: true,
        ..Default::default()
    }
    .pipeline_text();
    let mut pm = PassManager::parse(&reg, &text)
        .unwrap()
        .verify_types(true)
        .add_instrumentation(seen);
    let mut q = p.clone();
    pm.run(&mut q).expect("runs with type verification");
    let (ran, verified) = log.lock().unwrap().clone();
    let names: Vec<&str> = ran.iter().map(|(n, _)| n.as_str()).collect();
    for step in [
        "partition",
        "truncate-long-double",
        "repair-types",
        "outline-segments",
        "build-engines",
    ] {
        assert!(names.contains(&step), "{step} did not run: {names:?}");
    }
    let changed: Vec<&str> = ran
        .iter()
        .filter(|(_, c)| *c)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        changed.len(),
        verified.len(),
        "ran {ran:?}, verified {verified:?}"
    );
    for (c, v) in changed.iter().zip(&verified) {
        assert_eq!(c, v);
    }
    assert!(changed.contains(&"truncate-long-double") && changed.contains(&"outline-segments"));
}
