//! The `ir-opt` binary end to end: `opt --passes default --print-ir-after-all --timing` on
//! every fixture, `import`, `check`, `run`, `--dump-pipeline`, and the user errors (bad
//! pipeline, missing file, garbage `.fxir`, type mismatch, golden mismatch): exit code 1 with
//! one clear message; `compile`/`inspect`/`run` of `.trtfx` artifacts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

fn ir_opt(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ir-opt"))
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("ir-opt starts")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ir-opt-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout (first 2000 chars)\n{}\n--- stderr (last 4000 chars)\n{}",
        o.status.code(),
        text(&o.stdout).chars().take(2000).collect::<String>(),
        {
            let e = text(&o.stderr);
            let skip = e.chars().count().saturating_sub(4000);
            e.chars().skip(skip).collect::<String>()
        }
    )
}

/// Every `.pt2` archive in the fixtures folder (both dialects), sorted.
fn all_archives() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".pt2"))
        .collect();
    v.sort();
    v
}

/// `ir-opt opt MODEL --passes default --print-ir-after-all --timing`: exit 0, the program on
/// stdout, an IR dump after every pass and the timing report on stderr.
fn opt_default(archive: &str) {
    let path = fixture(archive);
    let o = ir_opt(&[
        &"opt",
        &path,
        &"--passes",
        &"default",
        &"--print-ir-after-all",
        &"--timing",
    ]);
    assert!(o.status.success(), "{archive}: {}", describe(&o));
    let out = text(&o.stdout);
    let err = text(&o.stderr);
    assert!(out.contains("graph @"), "{archive}: no program on stdout");
    for pass in ["decompose", "infer-types", "canonicalize", "cse", "dce"] {
        assert!(
            err.contains(&format!("IR Dump After {pass}")),
            "{archive}: no IR dump after {pass}"
        );
    }
    assert!(
        err.contains("Execution time report") && err.contains("Total Execution Time"),
        "{archive}: no timing report:\n{}",
        describe(&o)
    );
    // The optimized program parses back and verifies.
    let p = trtfx_ir::parse_program(&out).unwrap_or_else(|e| panic!("{archive}: {e}"));
    trtfx_ir::verify_program(&p, Some(trtfx_ir::aten::registry()))
        .unwrap_or_else(|d| panic!("{archive}: {}", trtfx_ir::verify::render(&d)));
}

macro_rules! opt_default_tests {
    ($($test:ident => $archive:literal),* $(,)?) => {
        $(#[test] fn $test() { opt_default($archive); })*

        /// The list above covers every archive in the fixtures folder.
        #[test]
        fn opt_default_covers_every_fixture() {
            let listed: Vec<&str> = vec![$($archive),*];
            assert_eq!(all_archives(), listed, "add the new fixture to opt_default_tests!");
        }
    };
}

opt_default_tests! {
    opt_default_cnn => "cnn.core.pt2",
    opt_default_cnn_export => "cnn.pt2",
    opt_default_cond => "cond.core.pt2",
    opt_default_cond_export => "cond.pt2",
    opt_default_customop => "customop.core.pt2",
    opt_default_customop_export => "customop.pt2",
    opt_default_intmath => "intmath.core.pt2",
    opt_default_intmath_export => "intmath.pt2",
    opt_default_mlp => "mlp.core.pt2",
    opt_default_mlp_export => "mlp.pt2",
    opt_default_mobilenet => "mobilenet_v3_small.core.pt2",
    opt_default_mobilenet_export => "mobilenet_v3_small.pt2",
    opt_default_ops => "ops.core.pt2",
    opt_default_ops_export => "ops.pt2",
    opt_default_transformer => "transformer.core.pt2",
    opt_default_transformer_export => "transformer.pt2",
}

#[test]
fn opt_statistics_and_emit_formats() {
    let path = fixture("cnn.pt2");
    let o = ir_opt(&[&"opt", &path, &"--passes", &"default", &"--statistics"]);
    assert!(o.status.success(), "{}", describe(&o));
    assert!(text(&o.stderr).contains("decompose"), "{}", describe(&o));
    for (emit, marker) in [("json", "{"), ("dot", "digraph")] {
        let o = ir_opt(&[&"opt", &path, &"--passes", &"dce", &"--emit", &emit]);
        assert!(o.status.success(), "{emit}: {}", describe(&o));
        assert!(text(&o.stdout).trim_start().starts_with(marker), "{emit}");
    }
}

#[test]
fn import_prints_and_writes() {
    let path = fixture("mlp.pt2");
    let o = ir_opt(&[&"import", &path]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = text(&o.stdout);
    assert!(out.contains("graph @") && out.contains("aten.linear.default"));
    let p = trtfx_ir::parse_program(&out).expect("import output parses");
    assert!(!p.signature.inputs.is_empty());

    // -o writes a file; the file can be fed back to `opt`.
    let dir = scratch("import");
    let file = dir.join("mlp.fxir");
    let o = ir_opt(&[&"import", &path, &"-o", &file]);
    assert!(o.status.success(), "{}", describe(&o));
    assert!(o.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), out);
    let o = ir_opt(&[&"opt", &file, &"--passes", &"default"]);
    assert!(o.status.success(), "{}", describe(&o));
    assert!(!text(&o.stdout).contains("aten.linear.default"));

    // JSON round trip through `opt`.
    let json = dir.join("mlp.json");
    let o = ir_opt(&[&"import", &path, &"--emit", &"json", &"-o", &json]);
    assert!(o.status.success(), "{}", describe(&o));
    let o = ir_opt(&[&"opt", &json]);
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(text(&o.stdout), out);
}

#[test]
fn check_fixture_ok() {
    for archive in ["mlp.pt2", "cnn.core.pt2"] {
        let o = ir_opt(&[&"check", &fixture(archive)]);
        assert!(o.status.success(), "{archive}: {}", describe(&o));
        assert!(!o.stdout.is_empty(), "{archive}: no report");
    }
}

#[test]
fn check_wrong_stored_type_fails() {
    let dir = scratch("check");
    let file = dir.join("wrong.fxir");
    // relu of f32[2,3] stored as f32[3,2]: the recorded type disagrees with inference.
    std::fs::write(
        &file,
        r#"input "x": f32[2,3]
graph @main(%x: f32[2,3] = user "x") -> (user) {
  %r: f32[3,2] = aten.relu.default(%x)
  output (%r)
}
"#,
    )
    .unwrap();
    let o = ir_opt(&[&"check", &file]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let all = text(&o.stdout) + &text(&o.stderr);
    assert!(
        all.contains("relu") || all.contains("%r"),
        "{}",
        describe(&o)
    );
    assert!(!all.contains("panicked"), "{}", describe(&o));
}

#[test]
fn run_matches_goldens() {
    for name in ["mlp", "cnn", "intmath"] {
        let io = fixture(&format!("{name}.io.safetensors"));
        let o = ir_opt(&[
            &"run",
            &fixture(&format!("{name}.pt2")),
            &"--inputs",
            &io,
            &"--expect",
            &io,
        ]);
        assert!(o.status.success(), "{name}: {}", describe(&o));
        let out = text(&o.stdout);
        assert!(out.contains("out_0: ok"), "{name}: {out}");
        assert!(!out.contains("MISMATCH"), "{name}: {out}");
    }
}

#[test]
fn run_after_default_pipeline_matches_goldens() {
    let dir = scratch("run-opt");
    // `.fxir` text holds no weight bytes; JSON does.
    let json = dir.join("cnn.json");
    let o = ir_opt(&[
        &"opt",
        &fixture("cnn.pt2"),
        &"--passes",
        &"default",
        &"--emit",
        &"json",
        &"-o",
        &json,
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let io = fixture("cnn.io.safetensors");
    let o = ir_opt(&[&"run", &json, &"--inputs", &io, &"--expect", &io]);
    assert!(o.status.success(), "{}", describe(&o));
}

/// `mlp.io.safetensors` with `out_0[0]` increased by 1.
fn corrupted_golden(dir: &Path) -> PathBuf {
    use safetensors::tensor::{Dtype, SafeTensors, TensorView};
    let bytes = std::fs::read(fixture("mlp.io.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    let out0 = owned.iter_mut().find(|t| t.0 == "out_0").unwrap();
    assert_eq!(out0.1, Dtype::F32);
    let x = f32::from_le_bytes(out0.3[0..4].try_into().unwrap()) + 1.0;
    out0.3[0..4].copy_from_slice(&x.to_le_bytes());
    let views: Vec<(String, TensorView<'_>)> = owned
        .iter()
        .map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let out = safetensors::serialize(views, None).unwrap();
    let path = dir.join("mlp.bad.io.safetensors");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn run_mismatch_fails() {
    let dir = scratch("run-mismatch");
    let model = fixture("mlp.pt2");
    let inputs = fixture("mlp.io.safetensors");
    let bad = corrupted_golden(&dir);
    let o = ir_opt(&[&"run", &model, &"--inputs", &inputs, &"--expect", &bad]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        text(&o.stdout).contains("out_0: MISMATCH"),
        "{}",
        describe(&o)
    );

    // Another model's goldens: the output count or shapes differ.
    let other = fixture("transformer.io.safetensors");
    let o = ir_opt(&[&"run", &model, &"--inputs", &inputs, &"--expect", &other]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));

    // Inputs that do not match the program's input specs: a clear error, exit 1.
    let o = ir_opt(&[&"run", &model, &"--inputs", &other]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(text(&o.stderr).starts_with("error: "), "{}", describe(&o));
}

#[test]
fn dump_pipeline_expands_named_pipelines() {
    let o = ir_opt(&[
        &"opt",
        &"no-such-file.fxir",
        &"--passes",
        &"default",
        &"--dump-pipeline",
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(
        text(&o.stdout).trim(),
        "functionalize,decompose,infer-types,fixpoint{max=4}(canonicalize,fold-constants,cse,dce)"
    );
    let o = ir_opt(&[
        &"opt",
        &"x.fxir",
        &"--passes",
        &"dce, fold-constants{max-elements=8},partition{min-block-size=2}",
        &"--dump-pipeline",
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = text(&o.stdout);
    assert!(
        out.contains("fold-constants{max-elements=8}") && out.contains("min-block-size=2"),
        "{out}"
    );
}

#[test]
fn bad_pipeline_points_at_the_error() {
    let o = ir_opt(&[&"opt", &fixture("mlp.pt2"), &"--passes", &"dce,cze"]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let err = text(&o.stderr);
    assert!(err.contains("did you mean `cse`"), "{err}");
    assert!(err.contains("dce,cze\n"), "{err}");
    // The caret sits under the `c` of `cze` (column 5, after the two-space indent).
    assert!(err.contains("\n      ^"), "{err}");

    // A bad option name also suggests the right one.
    let o = ir_opt(&[
        &"opt",
        &fixture("mlp.pt2"),
        &"--passes",
        &"fold-constants{max-element=4}",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        text(&o.stderr).contains("did you mean `max-elements`"),
        "{}",
        describe(&o)
    );
}

#[test]
fn missing_file_is_one_line() {
    for cmd in ["opt", "import", "check"] {
        let o = ir_opt(&[&cmd, &"/nonexistent/model.pt2"]);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {}", describe(&o));
        let err = text(&o.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{cmd}: {err}");
        assert!(err.starts_with("error: "), "{cmd}: {err}");
        assert!(err.contains("/nonexistent/model.pt2"), "{cmd}: {err}");
    }
    let o = ir_opt(&[&"opt", &"/nonexistent/prog.fxir"]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert_eq!(text(&o.stderr).trim_end().lines().count(), 1);
}

#[test]
fn garbage_fxir_reports_line_and_column() {
    let dir = scratch("garbage");
    let file = dir.join("bad.fxir");
    std::fs::write(
        &file,
        "input \"x\": f32[2]\ngraph @main(%x: f32[2] = user \"x\") -> (user) {\n  %r: f32[2] = aten.relu.default(%x\n  output (%r)\n}\n",
    )
    .unwrap();
    let o = ir_opt(&[&"opt", &file, &"--passes", &"dce"]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let err = text(&o.stderr);
    assert!(err.contains("bad.fxir"), "{err}");
    // A `line:col` location: digits, a colon, digits.
    let has_loc = err.split(|c: char| !c.is_ascii_digit() && c != ':').any(|w| {
        let mut it = w.split(':');
        matches!((it.next(), it.next()), (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() && a.chars().all(|c| c.is_ascii_digit()) && b.chars().all(|c| c.is_ascii_digit()))
    });
    assert!(has_loc, "no line:col in\n{err}");
    assert!(!err.contains("panicked"), "{err}");

    // Binary garbage is an error too, not a panic.
    std::fs::write(&file, [0xff, 0xfe, 0x00, 0x12, b'{']).unwrap();
    let o = ir_opt(&[&"opt", &file]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(!text(&o.stderr).contains("panicked"));
}

#[test]
fn params_reports_weights() {
    let o = ir_opt(&[&"params", &fixture("cnn.pt2")]);
    assert!(o.status.success(), "{}", describe(&o));
    assert!(text(&o.stdout).contains("parameter"));
}

/// `compile -o X.trtfx --report`, `inspect X.trtfx`, `run X.trtfx --expect`: the artifact runs
/// (TensorRT segments on the layer emulator) and matches PyTorch.
#[test]
fn compile_inspect_run_artifact() {
    let dir = scratch("compile");
    let art = dir.join("cnn.trtfx");
    let o = ir_opt(&[
        &"compile",
        &fixture("cnn.pt2"),
        &"-o",
        &art,
        &"--min-block-size",
        &"3",
        &"--report",
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = text(&o.stdout);
    assert!(out.contains("segment 0: trt @"), "{}", describe(&o));
    assert!(
        out.contains("compute nodes on TensorRT"),
        "{}",
        describe(&o)
    );
    assert!(text(&o.stderr).contains("wrote "), "{}", describe(&o));

    let o = ir_opt(&[&"inspect", &art]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = text(&o.stdout);
    for want in [
        "format version 3",
        "min-block-size 3",
        "inputs:\n  x: f32[",
        "outputs:",
        "segments:\n  0: trt @",
        "layers",
    ] {
        assert!(out.contains(want), "inspect lacks {want:?}:\n{out}");
    }

    let io = fixture("cnn.io.safetensors");
    let o = ir_opt(&[
        &"run",
        &art,
        &"--inputs",
        &io,
        &"--expect",
        &io,
        &"--rtol",
        &"1e-3",
        &"--atol",
        &"1e-4",
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    assert!(text(&o.stdout).contains("out_0: ok"), "{}", describe(&o));
    assert!(
        text(&o.stderr).contains("on the layer emulator"),
        "{}",
        describe(&o)
    );
}

/// `compile --truncate-double`: intmath's f64 nodes run on TensorRT in f32 (with casts at the
/// segment boundary), and the artifact still matches PyTorch at f32 precision.
#[test]
fn compile_truncate_double() {
    let dir = scratch("truncate");
    let art = dir.join("intmath.trtfx");
    let o = ir_opt(&[
        &"compile",
        &fixture("intmath.pt2"),
        &"-o",
        &art,
        &"--truncate-double",
        &"--report",
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = text(&o.stdout);
    assert!(!out.contains("TensorRT has no f64"), "{}", describe(&o));
    let io = fixture("intmath.io.safetensors");
    let o = ir_opt(&[
        &"run",
        &art,
        &"--inputs",
        &io,
        &"--expect",
        &io,
        &"--rtol",
        &"1e-4",
        &"--atol",
        &"1e-5",
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    assert!(text(&o.stdout).contains("out_3: ok"), "{}", describe(&o));
}

/// User errors of `compile`, `inspect` and `run X.trtfx`: exit 1, one `error:` line, nothing
/// written.
#[test]
fn compile_errors_write_nothing() {
    let dir = scratch("compile-errors");
    let art = dir.join("out.trtfx");
    let one_error = |o: &Output| {
        assert_eq!(o.status.code(), Some(1), "{}", describe(o));
        let err = text(&o.stderr);
        assert!(err.starts_with("error: "), "{}", describe(o));
        assert!(!err.contains("panicked"), "{}", describe(o));
        assert!(!art.exists(), "nothing is written on failure");
    };
    let o = ir_opt(&[
        &"compile",
        &fixture("customop.pt2"),
        &"-o",
        &art,
        &"--require-full-compilation",
    ]);
    one_error(&o);
    assert!(text(&o.stderr).contains("scale_shift"), "{}", describe(&o));

    // Not an artifact.
    let o = ir_opt(&[&"inspect", &fixture("mlp.io.safetensors")]);
    one_error(&o);
    assert_eq!(text(&o.stderr).lines().count(), 1, "{}", describe(&o));

    // Inputs of another model: a clear input error.
    let good = dir.join("mlp.trtfx");
    let o = ir_opt(&[&"compile", &fixture("mlp.pt2"), &"-o", &good]);
    assert!(o.status.success(), "{}", describe(&o));
    let o = ir_opt(&[
        &"run",
        &good,
        &"--inputs",
        &fixture("transformer.io.safetensors"),
    ]);
    one_error(&o);
    assert!(text(&o.stderr).contains("input"), "{}", describe(&o));
}

/// `--expensive-checks` adds the printed-program fingerprint around every pass: the default
/// pipeline still succeeds and prints the same program as without it.
#[test]
fn opt_expensive_checks_gives_the_same_result() {
    let model = fixture("mlp.core.pt2");
    let plain = ir_opt(&[&"opt", &model, &"--passes", &"default"]);
    let checked = ir_opt(&[
        &"opt",
        &model,
        &"--passes",
        &"default",
        &"--expensive-checks",
    ]);
    assert!(plain.status.success(), "{}", describe(&plain));
    assert!(checked.status.success(), "{}", describe(&checked));
    assert_eq!(text(&plain.stdout), text(&checked.stdout));
    assert!(text(&checked.stdout).contains("graph @main"));
}

/// `ir-opt compile` is the `compile{...}` pipeline plus writing the artifact: `--dump-pipeline`
/// prints the pipeline, and `ir-opt opt --passes <that pipeline> -o X.trtfx` writes a
/// byte-identical artifact; `--print-ir-after-all` shows every step, boundary casts included.
#[test]
fn compile_equals_opt_compile_pipeline() {
    let dir = scratch("compile-pipeline");
    let a = dir.join("a.trtfx");
    let b = dir.join("b.trtfx");
    let model = fixture("intmath.pt2");
    let flags = [
        &"--truncate-double" as &dyn AsRef<std::ffi::OsStr>,
        &"--int64",
        &"int32",
    ];
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"compile", &model, &"--dump-pipeline"];
    args.extend(flags);
    let o = ir_opt(&args);
    assert!(o.status.success(), "{}", describe(&o));
    let pipeline = text(&o.stdout).trim().to_string();
    assert_eq!(pipeline, "compile{truncate-double=true,int64=int32}");
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"compile", &model, &"-o", &a];
    args.extend(flags);
    let o = ir_opt(&args);
    assert!(o.status.success(), "{}", describe(&o));
    let o = ir_opt(&[
        &"opt",
        &model,
        &"--passes",
        &pipeline,
        &"--print-ir-after-all",
        &"-o",
        &b,
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let dumps = text(&o.stderr);
    for step in [
        "partition",
        "truncate-long-double",
        "repair-types",
        "outline-segments",
        "build-engines",
    ] {
        assert!(
            dumps.contains(&format!("IR Dump After {step}")),
            "no dump after {step}:\n{dumps}"
        );
    }
    assert!(
        dumps.contains("aten._to_copy.default"),
        "no cast in the dumps"
    );
    let (x, y) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(
        x == y,
        "ir-opt compile and ir-opt opt -o wrote different artifacts"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ir-opt opt --passes 'rewrite{...}'` runs the equality-saturation pass like any other:
/// options parse, statistics report the stop reason and node counts, the layout noise
/// before the classifier's matrix multiply is gone (a `linear` instead of permute + addmm),
/// and an unknown rule family is a one-line user error.
#[test]
fn opt_rewrite_pass() {
    let path = fixture("mlp.core.pt2");
    let o = ir_opt(&[
        &"opt",
        &path,
        &"--passes",
        &"default,rewrite{iter=8,nodes=10000,time-ms=2000,rules=[linear,layout]}",
        &"--statistics",
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let err = text(&o.stderr);
    for counter in [
        "stop-saturated",
        "nodes-before",
        "nodes-after",
        "saturation-us",
    ] {
        assert!(err.contains(counter), "{counter}: {}", describe(&o));
    }
    let out = text(&o.stdout);
    assert!(out.contains("aten.linear.default"), "{}", describe(&o));
    assert!(!out.contains("aten.permute.default"), "{}", describe(&o));

    let o = ir_opt(&[&"opt", &path, &"--passes", &"rewrite{rules=[nope]}"]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        text(&o.stderr).contains("unknown rule family `nope`"),
        "{}",
        describe(&o)
    );
}

#[test]
fn run_iterations_print_a_latency_summary() {
    let io = fixture("mlp.io.safetensors");
    let o = ir_opt(&[
        &"run",
        &fixture("mlp.pt2"),
        &"--inputs",
        &io,
        &"--expect",
        &io,
        &"--warmup",
        &"2",
        &"--iterations",
        &"5",
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = text(&o.stdout);
    assert!(out.contains("out_0: ok"), "{out}");
    assert!(
        out.contains("timing: 2 warm-up run(s), 5 timed run(s)"),
        "{out}"
    );
    let latency = out
        .lines()
        .find(|l| l.starts_with("latency: "))
        .unwrap_or_else(|| panic!("no latency line: {out}"));
    // min <= median <= p90 <= p99 <= max, each a number of milliseconds.
    let values: Vec<f64> = ["min", "median", "p90", "p99", "max"]
        .iter()
        .map(|k| {
            let at = latency.find(&format!("{k} = ")).expect(k) + k.len() + 3;
            latency[at..].split(' ').next().unwrap().parse().unwrap()
        })
        .collect();
    assert!(values.windows(2).all(|w| w[0] <= w[1]), "{latency}");
    assert!(out
        .lines()
        .any(|l| l.starts_with("throughput: ") && l.ends_with(" qps")));

    // No summary without --iterations; --warmup alone and zero iterations are usage errors.
    let plain = ir_opt(&[&"run", &fixture("mlp.pt2"), &"--inputs", &io]);
    assert!(plain.status.success(), "{}", describe(&plain));
    assert!(!text(&plain.stdout).contains("latency:"));
    let model = fixture("mlp.pt2");
    for bad in [["--warmup", "3"], ["--iterations", "0"]] {
        let o = ir_opt(&[&"run", &model, &"--inputs", &io, &bad[0], &bad[1]]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", describe(&o));
    }
}

/// `ir-opt compile --precision fp16`: the pipeline gains `autocast{precision=fp16}`, the report
/// shows the f16 tensors of the network, and the artifact still matches PyTorch's f32 goldens
/// within the fp16 tolerance of docs/precision.md (and not within the f32 one: the emulator
/// really computes in f16).
#[test]
fn compile_precision_fp16() {
    let dir = scratch("compile-precision");
    let a = dir.join("mlp.trtfx");
    let model = fixture("mlp.pt2");
    let o = ir_opt(&[
        &"compile",
        &model,
        &"--precision",
        &"fp16",
        &"--keep-f32",
        &"aten.gelu",
        &"--dump-pipeline",
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(
        text(&o.stdout).trim(),
        "compile{precision=fp16,keep-f32=[aten.gelu]}"
    );
    let o = ir_opt(&[
        &"compile",
        &model,
        &"--precision",
        &"fp16",
        &"--report",
        &"-o",
        &a,
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let report = text(&o.stdout) + &text(&o.stderr);
    assert!(report.contains(" f16 tensors"), "{report}");
    let io = fixture("mlp.io.safetensors");
    let run = |rtol: &str, atol: &str| {
        ir_opt(&[
            &"run",
            &a,
            &"--inputs",
            &io,
            &"--expect",
            &io,
            &"--rtol",
            &rtol,
            &"--atol",
            &atol,
        ])
    };
    let o = run("1e-2", "1e-2");
    assert!(o.status.success(), "{}", describe(&o));
    let o = run("1e-6", "1e-7");
    assert!(
        !o.status.success(),
        "f16 results match f32 to 1e-6?\n{}",
        describe(&o)
    );
    let o = ir_opt(&[&"compile", &model, &"--precision", &"fp8", &"-o", &a]);
    assert!(!o.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ir-opt refit`: compile with the original weights, refit with PyTorch-made new weights,
/// run against PyTorch's outputs with those weights; bad weight files give one line naming the
/// weight, and leave the artifact alone; `--quiet` compiles print nothing.
#[test]
fn refit_replaces_weights_without_rebuilding() {
    let dir = scratch("refit");
    let art = dir.join("cnn.trtfx");
    let out = dir.join("cnn.new.trtfx");
    let o = ir_opt(&[&"compile", &fixture("cnn.pt2"), &"-o", &art, &"--quiet"]);
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(text(&o.stderr), "", "--quiet compile prints nothing");
    let refit = fixtures().join("refit");
    let o = ir_opt(&[
        &"refit",
        &art,
        &"--weights",
        &refit.join("cnn.new.safetensors"),
        &"-o",
        &out,
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    assert!(
        text(&o.stderr).contains("refitted 16 weight(s)"),
        "{}",
        describe(&o)
    );
    let io = refit.join("cnn.new.io.safetensors");
    let o = ir_opt(&[
        &"run",
        &out,
        &"--inputs",
        &io,
        &"--expect",
        &io,
        &"--rtol",
        &"1e-3",
        &"--atol",
        &"1e-4",
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    // The original artifact still gives the old outputs, not the new ones.
    let o = ir_opt(&[
        &"run",
        &art,
        &"--inputs",
        &io,
        &"--expect",
        &io,
        &"--rtol",
        &"1e-3",
        &"--atol",
        &"1e-4",
    ]);
    assert!(!o.status.success(), "{}", describe(&o));

    // A weight file of another model: one line, exit 1, nothing written.
    let before = std::fs::read(&art).unwrap();
    let o = ir_opt(&[
        &"refit",
        &art,
        &"--weights",
        &refit.join("mlp.new.safetensors"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("mlp.new.safetensors: unknown weight `fc1."),
        "{err}"
    );
    assert_eq!(std::fs::read(&art).unwrap(), before, "artifact unchanged");
    // In place, and partially.
    let o = ir_opt(&[
        &"refit",
        &art,
        &"--weights",
        &refit.join("cnn.new.safetensors"),
        &"--partial",
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let o = ir_opt(&[
        &"run",
        &art,
        &"--inputs",
        &io,
        &"--expect",
        &io,
        &"--rtol",
        &"1e-3",
        &"--atol",
        &"1e-4",
    ]);
    assert!(o.status.success(), "{}", describe(&o));
}
