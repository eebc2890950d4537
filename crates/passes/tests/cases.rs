//! Snapshot-driven pass tests: every `tests/cases/<pass>/<case>.fxir` starts with
//! `# RUN: <pipeline>` (and optionally `# EXPECT-ERROR`); the harness parses the program, runs
//! the pipeline with verification (structure and types) after every pass, and snapshots the
//! printed result followed by the pass statistics and the values of weights the pipeline
//! created, or the diagnostic when an error is expected.
//!
//! Regenerate with `INSTA_UPDATE=always cargo test -p trtfx-passes --test cases`, then read
//! every changed `.snap` before keeping it.

use std::fmt::Write as _;
use trtfx_ir::text::{parse_program, print_program};
use trtfx_ir::{DType, Program, WeightData};
use trtfx_passes::{PassManager, PassRegistry};

/// The `# RUN:` pipeline and whether an error is expected.
fn header(src: &str) -> (String, bool) {
    let mut run = None;
    let mut expect_error = false;
    for line in src.lines() {
        let Some(comment) = line.trim().strip_prefix('#') else {
            if !line.trim().is_empty() {
                break;
            }
            continue;
        };
        let comment = comment.trim();
        if let Some(p) = comment.strip_prefix("RUN:") {
            run = Some(p.trim().to_string());
        } else if comment == "EXPECT-ERROR" {
            expect_error = true;
        }
    }
    (
        run.expect("case file must start with `# RUN: <pipeline>`"),
        expect_error,
    )
}

/// Small in-memory weights printed as values (folded constants); others are left out.
fn weight_values(p: &Program) -> String {
    let mut s = String::new();
    for (name, w) in &p.weights {
        let WeightData::Bytes(b) = &w.data else {
            continue;
        };
        if w.numel() > 64 {
            let _ = writeln!(s, "# weight {name:?} = <{} elements>", w.numel());
            continue;
        }
        let vals: Vec<String> = match w.dtype {
            DType::F32 => b
                .chunks_exact(4)
                .map(|c| format!("{:?}", f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
            DType::I64 => b
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()).to_string())
                .collect(),
            DType::I32 => b
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]).to_string())
                .collect(),
            _ => b.iter().map(|x| x.to_string()).collect(),
        };
        let _ = writeln!(s, "# weight {name:?} = [{}]", vals.join(", "));
    }
    s
}

fn run_case(src: &str) -> String {
    let (pipeline, expect_error) = header(src);
    let mut p = parse_program(src).unwrap_or_else(|e| panic!("case does not parse:\n{e}"));
    trtfx_ir::verify_program(&p, Some(trtfx_ir::aten::registry())).unwrap_or_else(|d| {
        panic!(
            "case input does not verify:\n{}",
            trtfx_ir::verify::render(&d)
        )
    });
    let reg = PassRegistry::with_builtins();
    let mut pm = match PassManager::parse(&reg, &pipeline) {
        Ok(pm) => pm.verify_types(true).enable_statistics(),
        Err(e) if expect_error => return format!("# RUN: {pipeline}\n# error:\n{e}\n"),
        Err(e) => panic!("bad pipeline:\n{e}"),
    };
    match pm.run(&mut p) {
        Ok(()) if expect_error => panic!("expected an error, got:\n{}", print_program(&p)),
        Ok(()) => {
            let mut out = format!("# RUN: {}\n", pm.pipeline());
            out.push_str(&print_program(&p));
            let stats = pm.statistics();
            for (pass, counters) in &stats.per_pass {
                for (k, v) in counters {
                    let _ = writeln!(out, "# stat {pass}: {k} = {v}");
                }
            }
            out.push_str(&weight_values(&p));
            out
        }
        Err(e) if expect_error => format!("# RUN: {}\n# error:\n{e}\n", pm.pipeline()),
        Err(e) => panic!("pipeline failed:\n{e}\n{}", print_program(&p)),
    }
}

#[test]
fn cases() {
    insta::glob!("cases/**/*.fxir", |path| {
        let src = std::fs::read_to_string(path).unwrap();
        insta::assert_snapshot!(run_case(&src));
    });
}
