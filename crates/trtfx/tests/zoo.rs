//! The model zoo (`tests/zoo`): public torchvision, timm and transformers architectures with
//! random weights, exported by `tests/zoo/gen.py` in both dialects with PyTorch's goldens.
//!
//! Every model and dialect goes through five stages, each recorded on its own (a failing stage
//! does not skip the later ones):
//! - `import`: `.pt2` import;
//! - `check`: the verifier, then every node re-inferred from its recorded inputs: no
//!   disagreement, no failed rule, and no node left without inference;
//! - `run`: the CPU executor on the golden inputs matches PyTorch (f32 rtol 1e-4 / atol 1e-5,
//!   integers and bools exactly);
//! - `compile-run`: `trtfx::compile` with the default settings (no plans built), saved to
//!   bytes and loaded back, then the compiled program run (TensorRT segments on the layer emulator) matches PyTorch
//!   (f32 rtol 1e-3 / atol 1e-4, the tolerance of the other TensorRT tests);
//! - `engine`: the whole program converts to one TensorRT network, and the emulator on it
//!   matches PyTorch (same tolerance).
//!
//! The results are rendered into `tests/zoo/STATUS.md` (per model: stages, segments, share of
//! compute nodes on TensorRT, the ops that block each stage; then per dialect totals and the
//! blocking ops with the models they block). The test fails when the file is stale and when a
//! stage listed in `tests/zoo/ratchet.txt` (every stage that passed when the file was last
//! written) fails now. `TRTFX_ZOO_UPDATE=1` rewrites both files; it refuses to drop ratchet
//! entries unless `TRTFX_ZOO_ALLOW_REGRESSION=1`.
//!
//! `TRTFX_ZOO_DIR=DIR` runs the models of another folder (the large tier of `gen.py`,
//! `target/zoo/models`, with `manifest.large.json` beside it) and writes `DIR/STATUS.md`,
//! without ratchet. `TRTFX_ZOO_ONLY=a,b` restricts the models (nothing is checked or written).
//! `TRTFX_ZOO_JOBS` sets the worker threads (default: the available parallelism).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use trtfx::backend::convert::ConverterRegistry;
use trtfx::backend::emulator::emulate;
use trtfx::backend::engine::{convert_graph_into, unsupported_nodes};
use trtfx::backend::RecordedNetwork;
use trtfx::exec::interp::{Executor, RunError, Value};
use trtfx::exec::Tensor;
use trtfx::ir::aten;
use trtfx::ir::graph::Op;
use trtfx::ir::Program;
use trtfx::{compile, CompileSettings, SegmentBackend};

/// Executor tolerance (like `ir-opt run`'s defaults).
const EXEC_RTOL: f64 = 1e-4;
const EXEC_ATOL: f64 = 1e-5;
/// TensorRT stages (emulated layers) tolerance, as in `compile_fixtures` / `engine_fixtures`.
const TRT_RTOL: f64 = 1e-3;
const TRT_ATOL: f64 = 1e-4;

const STAGES: [&str; 5] = ["import", "check", "run", "compile-run", "engine"];
const DIALECTS: [(&str, &str); 2] = [("export", ".pt2"), ("core", ".core.pt2")];

fn zoo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/zoo")
}

/// What happened to one model in one dialect.
#[derive(Default)]
struct Outcome {
    model: String,
    dialect: &'static str,
    /// Stage name -> `Ok(())` or a one-line reason.
    stages: BTreeMap<&'static str, Result<(), String>>,
    /// (TensorRT segments, fallback segments) of the compiled program.
    segments: Option<(usize, usize)>,
    /// (compute nodes on TensorRT, compute nodes) of the compiled program.
    on_trt: Option<(usize, usize)>,
    /// Stage -> ops that block it (with the number of nodes).
    blockers: BTreeMap<&'static str, BTreeMap<String, usize>>,
    /// Largest absolute error per stage that compared outputs (stderr only: machine-dependent).
    errors: Vec<(&'static str, f64)>,
    seconds: f64,
}

impl Outcome {
    fn passed(&self, stage: &str) -> bool {
        matches!(self.stages.get(stage), Some(Ok(())))
    }
    fn block(&mut self, stage: &'static str, op: &str) {
        *self
            .blockers
            .entry(stage)
            .or_default()
            .entry(op.to_string())
            .or_default() += 1;
    }
}

/// Runs `f`, turning a panic into an error that says so.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic".into());
            Err(format!("panic: {msg}"))
        }
    }
}

fn one_line(s: impl ToString) -> String {
    let s = s.to_string();
    let first = s.lines().next().unwrap_or("").trim().to_string();
    if first.chars().count() > 160 {
        format!("{}…", first.chars().take(160).collect::<String>())
    } else {
        first
    }
}

/// Compares outputs with goldens; the largest absolute error, or the first mismatch.
fn compare_all(got: &[Tensor], want: &[Tensor], rtol: f64, atol: f64) -> Result<f64, String> {
    if got.len() != want.len() {
        return Err(format!("{} outputs, {} goldens", got.len(), want.len()));
    }
    let mut max_abs: f64 = 0.0;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let c = trtfx::io::compare(i, g, w, rtol, atol);
        if !c.ok {
            // Only the kind of mismatch and a rounded error: STATUS.md must not depend on the
            // last bits of a float.
            let detail = c.detail.unwrap_or_default();
            let what = if detail.starts_with("element") || detail.contains("got ") {
                format!("values differ, max abs error {:.0e}", c.max_abs)
            } else {
                one_line(detail)
            };
            return Err(format!("out_{i}: {what}"));
        }
        max_abs = max_abs.max(c.max_abs);
    }
    Ok(max_abs)
}

fn call_targets(p: &Program) -> Vec<String> {
    let mut out = vec![];
    for (_, g) in p.graphs.iter() {
        for n in g.nodes() {
            if let Op::Call { target } = &g.node(n).op {
                out.push(target.clone());
            }
        }
    }
    out
}

fn check_stage(p: &Program, o: &mut Outcome) -> Result<(), String> {
    if let Err(diags) = trtfx::ir::verify_program(p, Some(aten::registry())) {
        return Err(format!(
            "does not verify: {}",
            one_line(trtfx::ir::verify::render(&diags))
        ));
    }
    let report = aten::check_program(p, aten::registry());
    let reg = aten::registry();
    let mut without = 0;
    for t in call_targets(p) {
        if reg.get(&t).and_then(|d| d.infer.as_ref()).is_none() {
            o.block("check", &t);
            without += 1;
        }
    }
    for d in &report.disagreements {
        o.block("check", &d.op);
    }
    for e in &report.errors {
        let op = match e {
            aten::InferError::NoTypes { op, .. } | aten::InferError::Failed { op, .. } => op,
        };
        o.block("check", op);
    }
    if report.ok() && report.recorded == 0 && without == 0 {
        return Ok(());
    }
    let mut why = vec![];
    if !report.disagreements.is_empty() {
        let d = &report.disagreements[0];
        why.push(format!(
            "{} disagreement(s), first `{}` ({}): recorded {}, inferred {}",
            report.disagreements.len(),
            d.node,
            d.op,
            d.expected,
            d.got
        ));
    }
    if let Some(e) = report.errors.first() {
        why.push(format!(
            "{} failed rule(s), first {}",
            report.errors.len(),
            one_line(e)
        ));
    }
    if report.recorded > 0 || without > 0 {
        why.push(format!(
            "{} node(s) without inference",
            report.recorded.max(without)
        ));
    }
    Err(why.join("; "))
}

fn run_stage(p: &Program, io: &trtfx::io::IoTensors, o: &mut Outcome) -> Result<(), String> {
    // Ops that have neither a kernel nor a decomposition cannot run, wherever they are.
    let reg = aten::registry();
    for t in call_targets(p) {
        let known = t.starts_with("aten.") || t.starts_with("prims.");
        if known
            && !trtfx::exec::has_kernel(&t)
            && reg.get(&t).is_none_or(|d| d.decomposition.is_none())
        {
            o.block("run", &t);
        }
    }
    let ins: Vec<Value> = io.inputs.iter().cloned().map(Value::Tensor).collect();
    let outs = match Executor::new(p).run(&ins) {
        Ok(v) => v,
        Err(e) => {
            let op = match &e {
                RunError::Kernel { op, .. }
                | RunError::BadArgument { op, .. }
                | RunError::Unsupported { op, .. } => Some(op.clone()),
                _ => None,
            };
            if let Some(op) = op {
                let known = o.blockers.get("run").is_some_and(|b| b.contains_key(&op));
                if !known {
                    o.block("run", &op);
                }
            }
            return Err(one_line(e));
        }
    };
    let outs: Vec<Tensor> = outs
        .into_iter()
        .map(|v| match v {
            Value::Tensor(t) => Ok(t),
            Value::Int(i) => Ok(Tensor::scalar(i)),
            Value::Float(f) => Ok(Tensor::scalar(f)),
            Value::Bool(b) => Ok(Tensor::scalar(b)),
            other => Err(format!("output of kind {} is not a tensor", other.kind())),
        })
        .collect::<Result<_, _>>()?;
    let err = compare_all(&outs, &io.outputs, EXEC_RTOL, EXEC_ATOL)?;
    o.errors.push(("run", err));
    Ok(())
}

fn compile_stage(p: &Program, io: &trtfx::io::IoTensors, o: &mut Outcome) -> Result<(), String> {
    let settings = CompileSettings {
        build_plans: false,
        ..Default::default()
    };
    let c = compile(p, &settings).map_err(|e| format!("compile: {}", one_line(e)))?;
    let (mut total, mut on) = (0, 0);
    let mut trt = 0;
    for s in &c.segments {
        total += s.compute_nodes;
        if s.backend == SegmentBackend::Trt {
            on += s.compute_nodes;
            trt += 1;
        }
    }
    o.segments = Some((trt, c.segments.len() - trt));
    o.on_trt = Some((on, total));
    // The saved artifact is what users run: round-trip it, so every zoo network also passes
    // the loader's validation (recorded networks replayed, bindings checked).
    let bytes = c.to_bytes().map_err(|e| format!("save: {}", one_line(e)))?;
    let c = trtfx::CompiledProgram::from_bytes(&bytes, std::path::Path::new("zoo.trtfx"))
        .map_err(|e| format!("load: {}", one_line(e)))?;
    let run = c
        .run(&io.inputs)
        .map_err(|e| format!("run: {}", one_line(e)))?;
    let err = compare_all(&run.outputs, &io.outputs, TRT_RTOL, TRT_ATOL)?;
    o.errors.push(("compile-run", err));
    Ok(())
}

fn engine_stage(p: &Program, io: &trtfx::io::IoTensors, o: &mut Outcome) -> Result<(), String> {
    let reg = ConverterRegistry::standard();
    // As `convert_to_engine` does: in-place calls are made out of place first.
    let p = &*trtfx::backend::engine::functional_program(p, &reg);
    let bad = unsupported_nodes(p, p.main, &reg);
    if !bad.is_empty() {
        for u in &bad {
            o.block("engine", &u.op);
        }
        return Err(format!(
            "{} node(s) not convertible, first {}",
            bad.len(),
            one_line(&bad[0])
        ));
    }
    let mut net = RecordedNetwork::new();
    let (input_names, output_names) = convert_graph_into(p, p.main, &reg, &mut net)
        .map_err(|e| format!("convert: {}", one_line(e)))?;
    if input_names.len() != io.inputs.len() {
        return Err(format!(
            "{} network inputs, {} user inputs",
            input_names.len(),
            io.inputs.len()
        ));
    }
    let inputs: Vec<(&str, Tensor)> = input_names
        .iter()
        .map(String::as_str)
        .zip(io.inputs.iter().cloned())
        .collect();
    let outs = emulate(&net, &inputs).map_err(|e| format!("emulate: {}", one_line(e)))?;
    let mut got = vec![];
    for name in &output_names {
        let t = outs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| format!("network output {name} missing"))?;
        got.push(t);
    }
    let err = compare_all(&got, &io.outputs, TRT_RTOL, TRT_ATOL)?;
    o.errors.push(("engine", err));
    Ok(())
}

fn run_model(dir: &Path, model: &str, dialect: &'static str, suffix: &str) -> Outcome {
    let start = Instant::now();
    let mut o = Outcome {
        model: model.to_string(),
        dialect,
        ..Default::default()
    };
    let path = dir.join(format!("{model}{suffix}"));
    let io = trtfx::io::read_io(&dir.join(format!("{model}.io.safetensors")));
    let program = guarded(|| trtfx::frontend::import_pt2(&path).map_err(one_line));
    let io = match io {
        Ok(io) => io,
        Err(e) => {
            o.stages
                .insert("import", Err(format!("io file: {}", one_line(e))));
            return o;
        }
    };
    let p = match program {
        Ok(p) => {
            o.stages.insert("import", Ok(()));
            p
        }
        Err(e) => {
            o.stages.insert("import", Err(e));
            return o;
        }
    };
    let r = guarded(|| check_stage(&p, &mut o));
    o.stages.insert("check", r);
    let r = guarded(|| run_stage(&p, &io, &mut o));
    o.stages.insert("run", r);
    let r = guarded(|| compile_stage(&p, &io, &mut o));
    o.stages.insert("compile-run", r);
    let r = guarded(|| engine_stage(&p, &io, &mut o));
    o.stages.insert("engine", r);
    o.seconds = start.elapsed().as_secs_f64();
    o
}

/// One manifest entry: status and error of the export.
struct Entry {
    name: String,
    family: String,
    task: String,
    status: String,
    error: Option<String>,
}

fn read_manifest(path: &Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run tests/zoo/gen.py)", path.display()));
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let models = v["models"].as_object().expect("manifest: models");
    models
        .iter()
        .map(|(name, m)| Entry {
            name: name.clone(),
            family: m["family"].as_str().unwrap_or("?").to_string(),
            task: m["task"].as_str().unwrap_or("?").to_string(),
            status: m["status"].as_str().unwrap_or("?").to_string(),
            error: m["error"].as_str().map(str::to_string),
        })
        .collect()
}

fn mark(o: &Outcome, stage: &str) -> &'static str {
    match o.stages.get(stage) {
        Some(Ok(())) => "✅",
        Some(Err(_)) => "❌",
        None => "·",
    }
}

/// `op ×n` lists, short.
fn op_list(m: Option<&BTreeMap<String, usize>>) -> String {
    let Some(m) = m else { return String::new() };
    m.iter()
        .map(|(op, n)| {
            if *n > 1 {
                format!("`{op}` ×{n}")
            } else {
                format!("`{op}`")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn render(
    source: &str,
    entries: &[Entry],
    outcomes: &BTreeMap<(String, &'static str), Outcome>,
) -> String {
    let mut s = String::new();
    let exported: Vec<&Entry> = entries.iter().filter(|e| e.status == "ok").collect();
    let _ = writeln!(
        s,
        "# Model zoo status\n\n\
         Generated by `crates/trtfx/tests/zoo.rs` from the models of `{source}` \
         (`tests/zoo/gen.py`); do not edit. Regenerate with\n\
         `TRTFX_ZOO_UPDATE=1 cargo test -p trtfx --test zoo`.\n\n\
         Stages: **import**; **check** (verifier, every node re-inferred, none without \
         inference); **run** (CPU executor vs PyTorch, f32 rtol 1e-4 / atol 1e-5); \
         **compile-run** (`trtfx::compile`, default settings, no plans; TensorRT segments on the \
         layer emulator; rtol 1e-3 / atol 1e-4); **engine** (whole program as one TensorRT \
         network, emulated; rtol 1e-3 / atol 1e-4). Segments are `trt+fallback` of the compiled \
         program; \"on TRT\" is the share of its compute nodes in TensorRT segments.\n"
    );
    let _ = writeln!(
        s,
        "{} models in the manifest, {} exported in both dialects.\n",
        entries.len(),
        exported.len()
    );
    let _ = writeln!(s, "## Totals\n");
    let _ = writeln!(s, "| stage | export IR | core ATen |\n|---|---|---|");
    for st in STAGES {
        let count = |d: &str| {
            outcomes
                .values()
                .filter(|o| o.dialect == d && o.passed(st))
                .count()
        };
        let _ = writeln!(
            s,
            "| {st} | {}/{} | {}/{} |",
            count("export"),
            exported.len(),
            count("core"),
            exported.len()
        );
    }
    let _ = writeln!(
        s,
        "\n## Blocking ops\n\nPer stage and dialect: the op, the number of models it blocks, \
         and the models.\n"
    );
    for st in ["check", "run", "engine"] {
        for (d, _) in DIALECTS {
            let mut by_op: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
            for o in outcomes.values().filter(|o| o.dialect == d) {
                if o.passed(st) {
                    continue;
                }
                for op in o.blockers.get(st).into_iter().flatten().map(|(k, _)| k) {
                    by_op.entry(op).or_default().insert(&o.model);
                }
            }
            if by_op.is_empty() {
                continue;
            }
            let mut rows: Vec<_> = by_op.into_iter().collect();
            rows.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
            let _ = writeln!(
                s,
                "### {st}, {}\n\n| op | models | which |\n|---|---|---|",
                if d == "export" {
                    "export IR"
                } else {
                    "core ATen"
                }
            );
            for (op, ms) in rows {
                let ms: Vec<&str> = ms.into_iter().collect();
                let _ = writeln!(s, "| `{op}` | {} | {} |", ms.len(), ms.join(", "));
            }
            let _ = writeln!(s);
        }
    }
    let _ = writeln!(s, "## Per model\n");
    let _ = writeln!(
        s,
        "| model | family | task | dialect | import | check | run | compile-run | engine | \
         segments | on TRT | blocking ops |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for e in entries {
        if e.status != "ok" {
            let _ = writeln!(
                s,
                "| {} | {} | {} | — | export failed ({}) | | | | | | | {} |",
                e.name,
                e.family,
                e.task,
                e.status,
                e.error.as_deref().map(one_line).unwrap_or_default()
            );
            continue;
        }
        for (d, _) in DIALECTS {
            let Some(o) = outcomes.get(&(e.name.clone(), d)) else {
                continue;
            };
            let seg = o
                .segments
                .map(|(t, f)| format!("{t}+{f}"))
                .unwrap_or_default();
            let share = o
                .on_trt
                .map(|(on, total)| {
                    if total == 0 {
                        "—".to_string()
                    } else {
                        format!("{:.0}%", 100.0 * on as f64 / total as f64)
                    }
                })
                .unwrap_or_default();
            let mut blocking = vec![];
            for st in ["check", "run", "engine"] {
                if !o.passed(st) {
                    let l = op_list(o.blockers.get(st));
                    if !l.is_empty() {
                        blocking.push(format!("{st}: {l}"));
                    }
                }
            }
            let _ = writeln!(
                s,
                "| {} | {} | {} | {d} | {} | {} | {} | {} | {} | {seg} | {share} | {} |",
                e.name,
                e.family,
                e.task,
                mark(o, "import"),
                mark(o, "check"),
                mark(o, "run"),
                mark(o, "compile-run"),
                mark(o, "engine"),
                blocking.join("; ")
            );
        }
    }
    let _ = writeln!(s, "\n## Failures\n\nThe first reason per failing stage.\n");
    for o in outcomes.values() {
        for st in STAGES {
            if let Some(Err(why)) = o.stages.get(st) {
                let why = why.replace('|', "\\|");
                let _ = writeln!(s, "- {} ({}), {st}: {why}", o.model, o.dialect);
            }
        }
    }
    s
}

/// `model dialect stage` for every passed stage.
fn ratchet_lines(outcomes: &BTreeMap<(String, &'static str), Outcome>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for o in outcomes.values() {
        for st in STAGES {
            if o.passed(st) {
                out.insert(format!("{} {} {st}", o.model, o.dialect));
            }
        }
    }
    out
}

fn read_ratchet(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn zoo() {
    // A relative TRTFX_ZOO_DIR is taken from the repository root (tests run in the crate's
    // folder).
    let extra = std::env::var_os("TRTFX_ZOO_DIR").map(|d| {
        let d = PathBuf::from(d);
        if d.is_absolute() {
            d
        } else {
            zoo_root().join("../..").join(d)
        }
    });
    let (dir, manifest) = match &extra {
        Some(d) => (d.clone(), d.join("../manifest.large.json")),
        None => (zoo_root().join("models"), zoo_root().join("manifest.json")),
    };
    let only: Option<BTreeSet<String>> = std::env::var("TRTFX_ZOO_ONLY")
        .ok()
        .map(|s| s.split(',').map(str::to_string).collect());
    let entries: Vec<Entry> = read_manifest(&manifest)
        .into_iter()
        .filter(|e| only.as_ref().is_none_or(|o| o.contains(&e.name)))
        .collect();
    let mut work: Vec<(String, &'static str, &'static str)> = vec![];
    for e in entries.iter().filter(|e| e.status == "ok") {
        for (d, suffix) in DIALECTS {
            work.push((e.name.clone(), d, suffix));
        }
    }
    let jobs = std::env::var("TRTFX_ZOO_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let start = Instant::now();
    let queue = Mutex::new(work.into_iter());
    let results = Mutex::new(BTreeMap::new());
    // A panic inside a stage is caught and recorded; keep the default hook's message short.
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let Some((m, d, suffix)) = queue.lock().unwrap().next() else {
                    break;
                };
                let o = run_model(&dir, &m, d, suffix);
                let errs: Vec<String> = o
                    .errors
                    .iter()
                    .map(|(st, e)| format!("{st} {e:.1e}"))
                    .collect();
                eprintln!(
                    "zoo: {m} ({d}): {} in {:.2} s [{}]",
                    STAGES
                        .iter()
                        .map(|st| format!("{st} {}", mark(&o, st)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    o.seconds,
                    errs.join(", ")
                );
                results.lock().unwrap().insert((m, d), o);
            });
        }
    });
    let outcomes = results.into_inner().unwrap();
    eprintln!(
        "zoo: {} model runs in {:.1} s with {jobs} thread(s)",
        outcomes.len(),
        start.elapsed().as_secs_f64()
    );
    let source = match &extra {
        Some(_) => std::env::var("TRTFX_ZOO_DIR").unwrap_or_default(),
        None => "tests/zoo/models".to_string(),
    };
    let status = render(&source, &entries, &outcomes);
    let update = std::env::var("TRTFX_ZOO_UPDATE").is_ok_and(|v| v == "1");
    if let Some(d) = &extra {
        let out = d.join("STATUS.md");
        std::fs::write(&out, &status).unwrap();
        eprintln!("zoo: wrote {}", out.display());
        return;
    }
    if only.is_some() {
        eprintln!("{status}");
        return;
    }
    let status_path = zoo_root().join("STATUS.md");
    let ratchet_path = zoo_root().join("ratchet.txt");
    let now = ratchet_lines(&outcomes);
    let before = read_ratchet(&ratchet_path);
    let regressions: Vec<String> = before
        .difference(&now)
        .map(|line| {
            // `model dialect stage`, with why it fails now.
            let mut it = line.split_whitespace();
            let (m, d, st) = (it.next(), it.next(), it.next());
            let why = outcomes
                .values()
                .find(|o| Some(o.model.as_str()) == m && Some(o.dialect) == d)
                .and_then(|o| o.stages.iter().find(|(k, _)| Some(**k) == st))
                .map_or("not run (model or stage missing)".to_string(), |(_, r)| {
                    r.clone().err().unwrap_or_default()
                });
            format!("{line}: {why}")
        })
        .collect();
    let allow = std::env::var("TRTFX_ZOO_ALLOW_REGRESSION").is_ok_and(|v| v == "1");
    if !regressions.is_empty() && !allow {
        panic!(
            "{} zoo stage(s) passed before and fail now (tests/zoo/ratchet.txt):\n{}",
            regressions.len(),
            regressions.join("\n")
        );
    }
    if update {
        std::fs::write(&status_path, &status).unwrap();
        let mut r = String::from(
            "# Zoo stages that passed (model dialect stage); written by \
             `TRTFX_ZOO_UPDATE=1 cargo test -p trtfx --test zoo`.\n\
             # Any of these failing fails the test: a stage that passed cannot silently regress.\n",
        );
        for l in &now {
            r.push_str(l);
            r.push('\n');
        }
        std::fs::write(&ratchet_path, r).unwrap();
        eprintln!("zoo: wrote STATUS.md and ratchet.txt");
        return;
    }
    let old = std::fs::read_to_string(&status_path).unwrap_or_default();
    assert!(
        old == status,
        "tests/zoo/STATUS.md is stale; rerun with TRTFX_ZOO_UPDATE=1 \
         (cargo test -p trtfx --test zoo)"
    );
    assert_eq!(
        before, now,
        "tests/zoo/ratchet.txt is stale (more stages pass); rerun with TRTFX_ZOO_UPDATE=1"
    );
}
