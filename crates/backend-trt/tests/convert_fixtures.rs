//! Whole-program conversion of every fixture model (`tests/fixtures/*.pt2`, both dialects):
//! convertible ones are converted, emulated against the fixture's golden outputs and built
//! into TensorRT-RTX plans (when the library is present); the others list every unsupported
//! node with its reason (snapshotted).

use std::fmt::Write as _;
use std::path::PathBuf;

use trtfx_backend_trt::convert::ConverterRegistry;
use trtfx_backend_trt::engine::{convert_to_engine, EngineError, PlanOutcome};
use trtfx_backend_trt::BuildSettings;
use trtfx_frontend_fx::import_pt2;

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pt2"))
        .collect();
    v.sort();
    v
}

#[test]
fn fixture_models() {
    let reg = ConverterRegistry::standard();
    let mut snap = String::new();
    let mut report = String::new();
    let mut errors = vec![];
    for path in fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let program = import_pt2(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ops: std::collections::BTreeSet<&str> = program
            .main_graph()
            .nodes()
            .filter_map(|n| program.main_graph().node(n).op.target())
            .collect();
        let covered = ops.iter().filter(|o| reg.get(o).is_some()).count();
        match convert_to_engine(&program, &reg, &BuildSettings::default()) {
            Ok(engine) => {
                writeln!(
                    snap,
                    "{name}: convertible ({} layers)",
                    engine.network.num_layers()
                )
                .unwrap();
                match &engine.plan {
                    PlanOutcome::Built { plan, build_time } => writeln!(
                        report,
                        "{name}: ops {covered}/{} covered; {} layers; plan {} bytes in {:.2?}",
                        ops.len(),
                        engine.network.num_layers(),
                        plan.bytes.len(),
                        build_time
                    )
                    .unwrap(),
                    PlanOutcome::Skipped { reason } => writeln!(
                        report,
                        "{name}: ops {covered}/{} covered; {} layers; plan skipped: {reason}",
                        ops.len(),
                        engine.network.num_layers()
                    )
                    .unwrap(),
                }
            }
            Err(EngineError::Unsupported(nodes)) => {
                writeln!(snap, "{name}: {} unsupported node(s)", nodes.len()).unwrap();
                for n in &nodes {
                    writeln!(snap, "  {n}").unwrap();
                }
                writeln!(
                    report,
                    "{name}: ops {covered}/{} covered; {} unsupported node(s)",
                    ops.len(),
                    nodes.len()
                )
                .unwrap();
            }
            Err(e) => errors.push(format!("{name}: {e}")),
        }
    }
    eprintln!("{report}");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    insta::assert_snapshot!("fixtures", snap);
}
