//! Generated well-typed programs (`trtfx_ir::testgen`) round-trip through the text format.
//! Needs the `testgen` feature: `cargo test -p trtfx-ir --features testgen`.
#![cfg(feature = "testgen")]

use proptest::prelude::*;
use trtfx_ir::testgen::{arb_program, sample_program, GenConfig};
use trtfx_ir::text::{parse_program, parse_program_with_weights, print_program};

fn check(p: &trtfx_ir::Program) -> Result<(), TestCaseError> {
    let text = print_program(p);
    let parsed = parse_program_with_weights(&text, p.weights.clone())
        .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
    prop_assert!(parsed == *p, "parse(print(p)) != p\n{}", text);
    // Without weights the structure still matches and printing is stable.
    let bare = parse_program(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(print_program(&bare), text);
    Ok(())
}

#[test]
fn sample_program_round_trips() {
    check(&sample_program()).unwrap();
}

/// 64 cases unless `PROPTEST_CASES` says otherwise (`with_cases` alone would ignore it).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn generated_programs_round_trip(p in arb_program(GenConfig::default())) {
        check(&p)?;
    }
}

#[test]
#[ignore = "prints a generated program for eyeballing"]
fn show_sample() {
    println!("{}", print_program(&sample_program()));
}
