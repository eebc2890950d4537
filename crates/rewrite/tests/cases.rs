//! Snapshot cases of the `rewrite` pass: every `tests/cases/<family>/<case>.fxir` starts with
//! `# RUN: <pipeline>`; the harness parses it, runs the pipeline with verification (structure
//! and types) after every pass, and snapshots the printed result and the pass statistics
//! (the saturation time is redacted: it is the only counter that is not deterministic).
//!
//! Regenerate with `INSTA_UPDATE=always cargo test -p trtfx-rewrite --test cases`, then read
//! every changed `.snap` before keeping it.

use std::fmt::Write as _;
use trtfx_ir::text::{parse_program, print_program};
use trtfx_passes::{PassManager, PassRegistry};

fn registry() -> PassRegistry {
    let mut r = PassRegistry::with_builtins();
    trtfx_rewrite::register(&mut r);
    r
}

fn run_case(src: &str) -> String {
    let pipeline = src
        .lines()
        .find_map(|l| l.trim().strip_prefix("# RUN:"))
        .expect("case file must start with `# RUN: <pipeline>`")
        .trim()
        .to_string();
    let mut p = parse_program(src).unwrap_or_else(|e| panic!("case does not parse:\n{e}"));
    trtfx_ir::verify_program(&p, Some(trtfx_ir::aten::registry())).unwrap_or_else(|d| {
        panic!(
            "case input does not verify:\n{}",
            trtfx_ir::verify::render(&d)
        )
    });
    let reg = registry();
    let mut pm = PassManager::parse(&reg, &pipeline)
        .unwrap_or_else(|e| panic!("bad pipeline:\n{e}"))
        .verify_types(true)
        .enable_statistics();
    pm.run(&mut p)
        .unwrap_or_else(|e| panic!("pipeline failed:\n{e}\n{}", print_program(&p)));
    let mut out = format!("# RUN: {}\n", pm.pipeline());
    out.push_str(&print_program(&p));
    for (pass, counters) in &pm.statistics().per_pass {
        for (k, v) in counters {
            if k == "saturation-us" {
                let _ = writeln!(out, "# stat {pass}: {k} = <time>");
            } else {
                let _ = writeln!(out, "# stat {pass}: {k} = {v}");
            }
        }
    }
    out
}

#[test]
fn cases() {
    insta::glob!("cases/**/*.fxir", |path| {
        let src = std::fs::read_to_string(path).unwrap();
        insta::assert_snapshot!(run_case(&src));
    });
}
