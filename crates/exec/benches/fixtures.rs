//! CPU executor speed on every fixture model (`tests/fixtures/NAME.pt2` and `NAME.core.pt2`):
//! each archive is imported once, then `Executor::run` is timed on the golden inputs
//! (`NAME.io.safetensors`). Everything runs in a one-thread rayon pool, so the numbers compare
//! with PyTorch eager at `torch.set_num_threads(1)` (`benches/torch_eager.py`;
//! `benches/compare_exec.sh` runs both sides back to back and prints a table).
//!
//! `cargo bench -p trtfx-exec --bench fixtures` — criterion, one benchmark per fixture and
//! dialect (`fixtures/core/cnn`, `fixtures/export/cnn`, ...); a filter argument selects some.
//!
//! `TRTFX_BENCH_RAW=ITERS` switches criterion off: after a warm-up, each fixture is run
//! `ITERS` times and one tab-separated line per fixture is printed to stdout:
//! `trtfx <dialect> <name> <median wall ms> <median cpu ms> <iters>`, where cpu is the on-CPU
//! time of the executing thread (`CLOCK_THREAD_CPUTIME_ID`), not inflated by other processes
//! queueing for the cores. `TRTFX_BENCH_ONLY=cnn,mlp` restricts the fixtures in both modes.
//!
//! `TRTFX_BENCH_EXTRA=DIR/NAME,...` adds models outside `tests/fixtures` laid out the same way
//! (`DIR/NAME.pt2`, `DIR/NAME.core.pt2`, `DIR/NAME.io.safetensors`), e.g. zoo models
//! (`tests/zoo/models/squeezenet1_1`) or the convnets of `benches/convnets/gen.py`; they are
//! timed after the fixtures (`TRTFX_BENCH_ONLY` does not filter them).
//!
//! `TRTFX_BENCH_SIDE=emulator` (raw mode only) times the compiled program instead: each archive
//! is compiled with the default settings (no plans built), and `CompiledProgram::run` runs its
//! TensorRT segments on the layer emulator and the rest on the executor, as `ir-opt run` runs an
//! artifact here. Its lines start with `emulator` instead of `trtfx`.
//!
//! Before timing, a warmed-up run is checked against the golden outputs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use criterion::{black_box, Criterion};
use trtfx_exec::interp::{CallArgs, Executor, Value};
use trtfx_exec::kernels::elementwise;
use trtfx_exec::{Scalar, Tensor};
use trtfx_ir::Program;

const NAMES: &[&str] = &[
    "cnn",
    "mlp",
    "transformer",
    "customop",
    "intmath",
    "cond",
    "mobilenet_v3_small",
    "ops",
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// The user inputs `in_0, in_1, ...` and golden outputs `out_0, ...` of `NAME.io.safetensors`.
fn read_io(path: &Path) -> (Vec<Tensor>, Vec<Tensor>) {
    let io = trtfx::io::read_io(path).unwrap_or_else(|e| panic!("{e}"));
    (io.inputs, io.outputs)
}

/// Checks a run's outputs against the goldens (rtol 1e-4, atol 1e-5, as the e2e test): the
/// timed runs reuse state cached by earlier runs (decoded weights, folded weight layouts), so
/// this guards the steady state that the tests, running once, do not see.
fn check(c: &Case, outs: &[Value]) {
    assert_eq!(outs.len(), c.golden.len(), "{} ({})", c.name, c.dialect);
    for (i, (v, want)) in outs.iter().zip(&c.golden).enumerate() {
        let Value::Tensor(got) = v else {
            panic!("{} ({}): output {i} is a {}", c.name, c.dialect, v.kind());
        };
        assert_eq!(
            got.shape(),
            want.shape(),
            "{} ({}) out_{i}",
            c.name,
            c.dialect
        );
        for (g, w) in got.to_f64_vec().iter().zip(want.to_f64_vec()) {
            let ok = (g - w).abs() <= 1e-5 + 1e-4 * w.abs() || (g.is_nan() && w.is_nan());
            assert!(ok, "{} ({}) out_{i}: {g} vs {w}", c.name, c.dialect);
        }
    }
}

/// The custom op of the `customop` fixture: `trtfx_test::scale_shift(x, scale, *, shift=0)`
/// computes `x * scale + shift` (as in `crates/trtfx/tests/exec_fixtures.rs`).
fn scale_shift(c: &CallArgs<'_>) -> Result<Vec<Value>, String> {
    // A custom op without a schema: its kernel reads the call positionally (or by keyword).
    let x = c
        .raw(0, "x")
        .and_then(Value::as_tensor)
        .ok_or("missing tensor `x`")?;
    let scale = c
        .raw(1, "scale")
        .map_or(Some(1.0), Value::to_f64)
        .ok_or("`scale` must be a number")?;
    let shift = c
        .raw(2, "shift")
        .map_or(Some(0.0), Value::to_f64)
        .ok_or("`shift` must be a number")?;
    let y = elementwise::mul(x, &Tensor::scalar(scale as f32)).map_err(|e| e.to_string())?;
    let y = elementwise::add(&y, &Tensor::scalar(shift as f32), Scalar::Int(1))
        .map_err(|e| e.to_string())?;
    Ok(vec![Value::Tensor(y)])
}

struct Case {
    dialect: &'static str,
    name: String,
    program: Program,
    inputs: Vec<Value>,
    golden: Vec<Tensor>,
}

fn cases() -> Vec<Case> {
    let only: Option<Vec<String>> = std::env::var("TRTFX_BENCH_ONLY")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let dir = fixtures_dir();
    let mut models: Vec<(PathBuf, String)> = NAMES
        .iter()
        .filter(|&&name| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name)))
        .map(|&name| (dir.clone(), name.to_string()))
        .collect();
    if let Ok(extra) = std::env::var("TRTFX_BENCH_EXTRA") {
        for e in extra.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let p = Path::new(e);
            let name = p
                .file_name()
                .expect("TRTFX_BENCH_EXTRA entry")
                .to_string_lossy();
            let dir = p.parent().unwrap_or(Path::new("."));
            models.push((dir.to_path_buf(), name.into_owned()));
        }
    }
    let mut out = Vec::new();
    for (dir, name) in models {
        let (inputs, golden) = read_io(&dir.join(format!("{name}.io.safetensors")));
        let inputs: Vec<Value> = inputs.into_iter().map(Value::Tensor).collect();
        for (dialect, file) in [
            ("core", format!("{name}.core.pt2")),
            ("export", format!("{name}.pt2")),
        ] {
            let path = dir.join(file);
            let program = trtfx_frontend_fx::import_pt2(&path)
                .unwrap_or_else(|e| panic!("import {}: {e}", path.display()));
            out.push(Case {
                dialect,
                name: name.clone(),
                program,
                inputs: inputs.clone(),
                golden: golden.clone(),
            });
        }
    }
    out
}

fn executor(p: &Program) -> Executor<'_> {
    let mut ex = Executor::new(p);
    ex.register_kernel("trtfx_test.scale_shift.default", Arc::new(scale_shift));
    ex
}

/// On-CPU time of the calling thread in ns (`CLOCK_THREAD_CPUTIME_ID`, exact, unlike
/// `/proc/thread-self/schedstat`, which only advances at scheduler ticks while running).
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Times `run` (after a warm-up and a check of its outputs): median wall and on-CPU ms.
fn time_runs(c: &Case, iters: usize, run: impl Fn() -> Vec<Value>) -> (f64, f64) {
    // Warm-up: decodes the weights, faults the allocator in.
    let warm = Instant::now();
    while warm.elapsed().as_secs_f64() < 0.2 {
        black_box(run());
    }
    check(c, &run());
    let mut wall = Vec::with_capacity(iters);
    let mut cpu = Vec::with_capacity(iters);
    for _ in 0..iters {
        let c0 = thread_cpu_ns();
        let t0 = Instant::now();
        black_box(run());
        wall.push(t0.elapsed().as_secs_f64() * 1e3);
        cpu.push((thread_cpu_ns() - c0) as f64 / 1e6);
    }
    (median(&mut wall), median(&mut cpu))
}

/// The compiled program of a case (default settings, no plans), as an artifact runs it, or why
/// it cannot be compiled.
fn compiled(c: &Case) -> Result<trtfx::CompiledProgram, String> {
    let settings = trtfx::CompileSettings {
        build_plans: false,
        ..Default::default()
    };
    let mut compiled = trtfx::compile(&c.program, &settings).map_err(|e| e.to_string())?;
    compiled.register_kernel("trtfx_test.scale_shift.default", Arc::new(scale_shift));
    Ok(compiled)
}

/// Plain timing loop: median wall and on-CPU ms per run, of the executor (`trtfx` lines) or
/// of the compiled program on the layer emulator (`emulator` lines).
fn raw(cases: &[Case], iters: usize, emulator: bool) {
    for c in cases {
        let (wall, cpu) = if emulator {
            let inputs: Vec<Tensor> = c
                .inputs
                .iter()
                .map(|v| v.as_tensor().expect("tensor input").clone())
                .collect();
            // A model that does not compile or run compiled has no emulator time (the tests
            // report such failures); the others are still timed.
            let compiled = match compiled(c).and_then(|p| {
                p.run(&inputs).map_err(|e| e.to_string())?;
                Ok(p)
            }) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("emulator: {} ({}): skipped: {e}", c.name, c.dialect);
                    continue;
                }
            };
            time_runs(c, iters, || {
                let out = compiled.run(&inputs).expect("compiled run");
                out.outputs.into_iter().map(Value::Tensor).collect()
            })
        } else {
            let ex = executor(&c.program);
            time_runs(c, iters, || ex.run(&c.inputs).expect("run"))
        };
        let side = if emulator { "emulator" } else { "trtfx" };
        println!(
            "{side}\t{}\t{}\t{wall:.4}\t{cpu:.4}\t{iters}",
            c.dialect, c.name
        );
    }
}

fn criterion_bench(cases: &[Case]) {
    let mut cr = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
        .configure_from_args();
    let mut g = cr.benchmark_group("fixtures");
    for c in cases {
        let ex = executor(&c.program);
        ex.run(&c.inputs).expect("run");
        check(c, &ex.run(&c.inputs).expect("run"));
        g.bench_function(format!("{}/{}", c.dialect, c.name), |b| {
            b.iter(|| black_box(ex.run(black_box(&c.inputs)).expect("run")))
        });
    }
    g.finish();
    cr.final_summary();
}

fn main() {
    // One thread, like `torch.set_num_threads(1)`: every kernel runs on this pool's only worker.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("rayon pool");
    pool.install(|| {
        let cases = cases();
        match std::env::var("TRTFX_BENCH_RAW")
            .ok()
            .and_then(|s| s.parse().ok())
        {
            Some(iters) => raw(
                &cases,
                iters,
                std::env::var("TRTFX_BENCH_SIDE").is_ok_and(|s| s == "emulator"),
            ),
            None => criterion_bench(&cases),
        }
    });
}
