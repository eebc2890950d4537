//! The `rewrite` pass on every fixture model (both dialects): after `default,rewrite` the
//! program verifies (structure and types, after every pass) and still reproduces PyTorch's
//! outputs (f32 rtol 1e-4 / atol 1e-5, integers exactly). The test also prints the table the
//! pass is judged by: nodes after `default` and after `default,rewrite`, TensorRT segments
//! from `partition` without and with `rewrite`, and the pass's saturation time:
//! `cargo test -p trtfx --test rewrite_fixtures -- --nocapture`.

mod common;

use common::{assert_matches_goldens, fixtures};
use trtfx::ir::Program;
use trtfx::passes::PassManager;

const FIXTURES: &[&str] = &[
    "cnn",
    "mlp",
    "transformer",
    "customop",
    "intmath",
    "cond",
    "mobilenet_v3_small",
    "ops",
];

fn nodes(p: &Program) -> usize {
    p.graphs.values().map(|g| g.len()).sum()
}

/// Calls that do not depend on weights only.
fn compute(p: &Program) -> usize {
    p.graphs
        .iter()
        .map(|(gid, g)| trtfx_rewrite::cost::compute_nodes(p, gid, g))
        .sum()
}

/// Runs `pipeline` on a copy; the result and a statistics counter lookup.
fn run(p: &Program, pipeline: &str) -> (Program, Vec<(String, String, u64)>) {
    let reg = trtfx::pass_registry();
    let mut q = p.clone();
    let mut pm = PassManager::parse(&reg, pipeline)
        .expect("pipeline parses")
        .verify_types(true)
        .enable_statistics();
    pm.run(&mut q)
        .unwrap_or_else(|e| panic!("`{pipeline}`: {e}"));
    let stats = pm
        .statistics()
        .per_pass
        .iter()
        .flat_map(|(pass, c)| c.iter().map(move |(k, v)| (pass.clone(), k.clone(), *v)))
        .collect();
    (q, stats)
}

fn stat(stats: &[(String, String, u64)], pass: &str, key: &str) -> u64 {
    stats
        .iter()
        .filter(|(p, k, _)| p == pass && k == key)
        .map(|(_, _, v)| v)
        .sum()
}

/// One table row per archive of `names` in `dir` (`NAME.pt2`, `NAME.core.pt2`, goldens in
/// `NAME.io.safetensors`). With `require_goldens`, every program must match PyTorch after
/// `default,rewrite`; otherwise only those that match after `default` alone must (zoo models
/// the executor cannot run yet are reported, not judged).
fn table(dir: &std::path::Path, names: &[String], require_goldens: bool) -> String {
    let mut table = String::from(
        "| model | nodes after default | after default,rewrite | compute calls before | after | TRT segments (partition) | with rewrite | saturation ms | stop |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for name in names {
        for file in [format!("{name}.pt2"), format!("{name}.core.pt2")] {
            let p = trtfx::frontend::import_pt2(dir.join(&file))
                .unwrap_or_else(|e| panic!("import {file}: {e}"));
            let io = trtfx::io::read_io(&dir.join(format!("{name}.io.safetensors"))).unwrap();
            let (base, _) = run(&p, "default");
            let (rw, st) = run(&p, "default,rewrite");
            let base_ok = require_goldens
                || common::run(&base, &io.inputs).is_ok_and(|outs| {
                    std::panic::catch_unwind(|| {
                        common::assert_outputs_close(&file, &outs, &io.outputs, 1e-4, 1e-5)
                    })
                    .is_ok()
                });
            if base_ok {
                assert_matches_goldens(&rw, &format!("{file} after default,rewrite"), &io);
            }
            let (_, part0) = run(&p, "default,partition");
            let (_, part1) = run(&p, "default,rewrite,partition");
            let stop = [
                "saturated",
                "iter-limit",
                "node-limit",
                "time-limit",
                "other",
            ]
            .into_iter()
            .find(|s| stat(&st, "rewrite", &format!("stop-{s}")) > 0)
            .unwrap_or("-");
            table.push_str(&format!(
                "| {file}{} | {} | {} | {} | {} | {} | {} | {:.2} | {stop} |\n",
                if base_ok { "" } else { " (not run)" },
                nodes(&base),
                nodes(&rw),
                compute(&base),
                compute(&rw),
                stat(&part0, "partition", "backend-segments"),
                stat(&part1, "partition", "backend-segments"),
                stat(&st, "rewrite", "saturation-us") as f64 / 1000.0,
            ));
        }
    }
    table
}

#[test]
fn rewrite_on_fixtures() {
    let names: Vec<String> = FIXTURES.iter().map(|s| s.to_string()).collect();
    eprintln!("{}", table(&fixtures(), &names, true));
}

/// The same table over the committed model zoo (`tests/zoo/models`).
#[test]
fn rewrite_on_zoo() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/zoo/models");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.ok()?.file_name().into_string().ok()?;
            n.strip_suffix(".io.safetensors").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 40, "{} zoo models", names.len());
    eprintln!("{}", table(&dir, &names, false));
}
