//! Snapshot-driven pass tests: every `tests/cases/<pass>/<case>.fxir` starts with
//! `# RUN: <pipeline>` (and optionally `# EXPECT-ERROR`, and `# DATA "w" = 1, 2` lines giving
//! weight values); the harness parses the program, runs
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
    use trtfx_ir::elements::{decode, to_i64s};
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
            // Shortest round-trip form of the element type itself: 0.35f32 reads `0.35`.
            DType::F32 => decode::<f32>(b)
                .unwrap()
                .iter()
                .map(|x| format!("{x:?}"))
                .collect(),
            DType::F64 => decode::<f64>(b)
                .unwrap()
                .iter()
                .map(|x| format!("{x:?}"))
                .collect(),
            // Reduced-precision copies (autocast): the exact value each element rounded to.
            DType::F16 => decode::<half::f16>(b)
                .unwrap()
                .iter()
                .map(|x| format!("{:?}", x.to_f32()))
                .collect(),
            DType::BF16 => decode::<half::bf16>(b)
                .unwrap()
                .iter()
                .map(|x| format!("{:?}", x.to_f32()))
                .collect(),
            dt => match to_i64s(dt, b) {
                Some(v) => v.unwrap().iter().map(|x| x.to_string()).collect(),
                None => b.iter().map(|x| format!("{x:#04x}")).collect(),
            },
        };
        let _ = writeln!(s, "# weight {name:?} = [{}]", vals.join(", "));
    }
    s
}

/// Weight data given in the case header: `# DATA "name" = v, v, ...`, in the dtype and shape the
/// program declares for `name` (the IR text carries weight metadata only).
fn attach_data(src: &str, p: &mut Program) {
    use trtfx_ir::elements::encode;
    fn parse<T: std::str::FromStr>(vals: &[&str]) -> Vec<T> {
        vals.iter()
            .map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("# DATA: bad value {v:?}"))
            })
            .collect()
    }
    for line in src.lines() {
        let Some(rest) = line.trim().strip_prefix("# DATA ") else {
            continue;
        };
        let (name, vals) = rest.split_once('=').expect("`# DATA \"name\" = values`");
        let name = name.trim().trim_matches('"');
        let w = p
            .weights
            .get_mut(name)
            .unwrap_or_else(|| panic!("# DATA for undeclared weight {name:?}"));
        let vals: Vec<&str> = vals.split(',').map(str::trim).collect();
        assert_eq!(
            vals.len() as i64,
            w.numel(),
            "# DATA {name:?}: element count"
        );
        let bytes = match w.dtype {
            DType::F32 => encode(&parse::<f32>(&vals)),
            DType::F64 => encode(&parse::<f64>(&vals)),
            DType::I64 => encode(&parse::<i64>(&vals)),
            DType::I32 => encode(&parse::<i32>(&vals)),
            DType::Bool => encode(&parse::<bool>(&vals)),
            dt => panic!("# DATA {name:?}: dtype {dt} is not supported by the harness"),
        };
        *w = trtfx_ir::Weight::from_bytes(w.dtype, w.shape.clone(), bytes);
    }
}

fn run_case(src: &str) -> String {
    let (pipeline, expect_error) = header(src);
    let mut p = parse_program(src).unwrap_or_else(|e| panic!("case does not parse:\n{e}"));
    attach_data(src, &mut p);
    trtfx_ir::verify_program(&p, Some(trtfx_ir::aten::registry())).unwrap_or_else(|d| {
        panic!(
            "case input does not verify:\n{}",
            trtfx_ir::verify::render(&d)
        )
    });
    let mut reg = PassRegistry::with_builtins();
    // fold-constants evaluates with the executor's kernels, as in `trtfx::pass_registry()`.
    reg.set_evaluator(std::sync::Arc::new(trtfx_exec::KernelEvaluator));
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
