//! `--op-library` on the command line: the `customop` fixture runs, checks, compiles and its
//! artifact runs on its own; the four user errors (no library, schema mismatch, recursive
//! body, malformed library file) are one-line messages with exit code 1. And
//! `docs/custom-ops.md`: it quotes the committed export script verbatim, and every `ir-opt`
//! command it shows runs (with the output it shows).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

fn ir_opt_in(dir: &Path, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ir-opt"))
        .current_dir(dir)
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("ir-opt starts")
}

fn ir_opt(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    ir_opt_in(&root(), args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ir-opt-customop-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Asserts exit code 1 and exactly one line on stderr, `error: ...`; returns it.
fn one_error(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(1), "{}", describe(o));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{}", describe(o));
    assert!(err.starts_with("error: "), "{}", describe(o));
    assert!(!err.contains("panicked"), "{}", describe(o));
    err.trim_end().to_string()
}

#[test]
fn customop_runs_checks_compiles_and_its_artifact_runs_alone() {
    let dir = scratch("flow");
    let io = fixture("customop.io.safetensors");
    for lib in [
        "oplib/trtfx_test.scale_shift.pt2",
        "oplib/trtfx_test.scale_shift.fxir",
    ] {
        let lib = fixture(lib);
        for model in ["customop.pt2", "customop.core.pt2"] {
            let model = fixture(model);
            let o = ir_opt(&[
                &"run",
                &model,
                &"--op-library",
                &lib,
                &"--inputs",
                &io,
                &"--expect",
                &io,
            ]);
            assert!(o.status.success(), "{}", describe(&o));
            assert!(text(&o.stdout).starts_with("out_0: ok"), "{}", describe(&o));
            let o = ir_opt(&[&"check", &model, &"--op-library", &lib]);
            assert!(o.status.success(), "{}", describe(&o));
            let art = dir.join("customop.trtfx");
            let o = ir_opt(&[
                &"compile",
                &model,
                &"--op-library",
                &lib,
                &"-o",
                &art,
                &"--min-block-size",
                &"1",
            ]);
            assert!(o.status.success(), "{}", describe(&o));
            // No --op-library: the artifact carries it.
            let o = ir_opt(&[
                &"run",
                &art,
                &"--inputs",
                &io,
                &"--expect",
                &io,
                &"--atol",
                &"5e-3",
                &"--rtol",
                &"5e-3",
            ]);
            assert!(o.status.success(), "{}", describe(&o));
            assert!(
                text(&o.stderr).contains("1 TensorRT segment(s)"),
                "{}",
                describe(&o)
            );
            let o = ir_opt(&[&"inspect", &art]);
            assert!(
                text(&o.stdout).contains("op libraries:\n  libraries/0.fxir"),
                "{}",
                describe(&o)
            );
            // `opt --passes compile{...} -o X.trtfx` writes the same artifact.
            let art2 = dir.join("opt.trtfx");
            let o = ir_opt(&[
                &"opt",
                &model,
                &"--op-library",
                &lib,
                &"--passes",
                &"compile{min-block-size=1}",
                &"-o",
                &art2,
            ]);
            assert!(o.status.success(), "{}", describe(&o));
            assert_eq!(std::fs::read(&art).unwrap(), std::fs::read(&art2).unwrap());
        }
    }
}

#[test]
fn a_custom_op_without_a_library_names_the_op_and_the_flag() {
    let model = fixture("customop.pt2");
    let io = fixture("customop.io.safetensors");
    let want = format!(
        "error: {}: custom operator `trtfx_test.scale_shift.default` (node `scale_shift`) has \
         no implementation: pass the op library that defines it with --op-library FILE (a .pt2 \
         exported from its reference or a .fxir body; see docs/custom-ops.md)",
        model.display()
    );
    let o = ir_opt(&[&"run", &model, &"--inputs", &io]);
    assert_eq!(one_error(&o), want);
    let art = scratch("nolib").join("x.trtfx");
    let o = ir_opt(&[&"compile", &model, &"-o", &art]);
    assert_eq!(one_error(&o), want);
    assert!(!art.exists());
    let o = ir_opt(&[&"engine", &model, &"-o", &art]);
    assert_eq!(one_error(&o), want);
}

#[test]
fn library_errors_are_one_line() {
    let dir = scratch("errors");
    let model = fixture("customop.pt2");
    let io = fixture("customop.io.safetensors");
    let write = |name: &str, body: &str| {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    // Schema mismatch: the library's op has no `shift`.
    let lib = write(
        "mismatch.fxir",
        "graph @f \"trtfx_test::scale_shift(Tensor x, float scale, float bias) -> Tensor\"(\
         %x: f32[4], %s: float, %b: float) {\n  output (%x)\n}\n",
    );
    let o = ir_opt(&[&"run", &model, &"--op-library", &lib, &"--inputs", &io]);
    assert_eq!(
        one_error(&o),
        format!(
            "error: {}: schema mismatch: node `scale_shift` of @main calls \
             `trtfx_test.scale_shift.default` in a way the schema \
             `trtfx_test::scale_shift(Tensor x, float scale, float bias) -> Tensor` of op \
             library {} does not allow: unknown keyword argument `shift`",
            model.display(),
            lib.display()
        )
    );
    // Recursion.
    let lib = write(
        "rec.fxir",
        "graph @f \"trtfx_test::scale_shift(Tensor x, float scale, *, int shift=0) -> Tensor\"(\
         %x: f32[4], %s: float, %b: int) {\n  \
         %y: f32[4] = trtfx_test.scale_shift.default(%x, %s, shift=%b)\n  output (%y)\n}\n",
    );
    let o = ir_opt(&[&"check", &model, &"--op-library", &lib]);
    assert_eq!(
        one_error(&o),
        format!(
            "error: {}: op library: recursive body: the body of \
             `trtfx_test.scale_shift.default` calls `trtfx_test.scale_shift.default` itself (a \
             body is inlined, so it cannot call its own operator)",
            lib.display()
        )
    );
    // Malformed files: not a zip, a .pt2 without the schema, bad .fxir, unknown extension.
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            write("garbage.pt2", "garbage"),
            "op library: not a readable zip archive",
        ),
        (
            fixture("mlp.pt2"),
            "op library: the archive has no `extra/trtfx_op_schema`",
        ),
        (
            write("bad.fxir", "graph @f \"mylib::f("),
            "op library: not valid .fxir: 1:10:",
        ),
        (write("lib.txt", ""), "op library: unknown file type"),
    ];
    for (lib, want) in cases {
        for sub in ["import", "run", "compile", "ops"] {
            let o = match sub {
                "import" => ir_opt(&[&"import", &model, &"--op-library", &lib]),
                "run" => ir_opt(&[&"run", &model, &"--op-library", &lib, &"--inputs", &io]),
                "compile" => ir_opt(&[
                    &"compile",
                    &model,
                    &"-o",
                    &dir.join("o.trtfx"),
                    &"--op-library",
                    &lib,
                ]),
                _ => ir_opt(&[&"ops", &"--op-library", &lib]),
            };
            let e = one_error(&o);
            assert!(
                e.starts_with(&format!("error: {}: {want}", lib.display())),
                "{sub}: {e}"
            );
        }
    }
}

/// The fenced blocks of a Markdown file: (info string, content).
fn fenced_blocks(md: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, String)> = None;
    for line in md.lines() {
        match (&mut cur, line.strip_prefix("```")) {
            (None, Some(info)) => cur = Some((info.trim().to_string(), String::new())),
            (Some(_), Some("")) => out.push(cur.take().unwrap()),
            (Some((_, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

#[test]
fn the_document_quotes_the_committed_script() {
    let md = std::fs::read_to_string(root().join("docs/custom-ops.md")).unwrap();
    let script = std::fs::read_to_string(fixture("oplib/gen.py")).unwrap();
    let blocks = fenced_blocks(&md);
    assert!(
        blocks
            .iter()
            .any(|(info, body)| info == "python" && *body == script),
        "docs/custom-ops.md must quote tests/fixtures/oplib/gen.py verbatim in a ```python block"
    );
}

/// Lines of a shown output that depend on the build (plans exist only with TensorRT) or the
/// clock.
fn volatile(line: &str) -> bool {
    line.contains("plan") || line.contains("ran in") || line.starts_with("wrote ")
}

/// A shown line as compared: error sizes (`max_abs=...`) are left out, the verdict is kept.
fn normalize(line: &str) -> &str {
    line.split(" max_abs=").next().unwrap_or(line)
}

#[test]
fn the_documented_commands_run_and_print_what_the_document_shows() {
    let md = std::fs::read_to_string(root().join("docs/custom-ops.md")).unwrap();
    let blocks = fenced_blocks(&md);
    std::fs::create_dir_all(root().join("target/custom-ops")).unwrap();
    let mut ran = 0;
    for (i, (info, body)) in blocks.iter().enumerate() {
        if info != "sh" {
            continue;
        }
        let mut last: Option<(String, Output)> = None;
        for line in body.lines() {
            // `ir-opt ARGS  # fails`: a command the document shows failing.
            let (cmd, comment) = line.split_once(" #").unwrap_or((line, ""));
            let Some(args) = cmd.strip_prefix("ir-opt ") else {
                continue;
            };
            let args: Vec<&str> = args.split_whitespace().collect();
            let argv: Vec<&dyn AsRef<std::ffi::OsStr>> = args
                .iter()
                .map(|a| a as &dyn AsRef<std::ffi::OsStr>)
                .collect();
            let o = ir_opt(&argv);
            if comment.trim() == "fails" {
                assert_eq!(o.status.code(), Some(1), "{line}\n{}", describe(&o));
            } else {
                assert!(o.status.success(), "{line}\n{}", describe(&o));
            }
            ran += 1;
            last = Some((line.to_string(), o));
        }
        // A ```text block right after shows the last command's output (stdout, then stderr).
        if let (Some((line, o)), Some((next_info, shown))) = (last, blocks.get(i + 1)) {
            if next_info == "text" {
                let got = format!("{}{}", text(&o.stdout), text(&o.stderr));
                let got: Vec<&str> = got
                    .lines()
                    .filter(|l| !volatile(l))
                    .map(normalize)
                    .collect();
                let want: Vec<&str> = shown
                    .lines()
                    .filter(|l| !volatile(l))
                    .map(normalize)
                    .collect();
                assert_eq!(
                    got, want,
                    "the output docs/custom-ops.md shows for `{line}`"
                );
            }
        }
    }
    assert!(ran >= 8, "only {ran} documented commands");
}
