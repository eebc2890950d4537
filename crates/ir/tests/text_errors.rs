//! Parse-error diagnostics: position, message and rendering.

use trtfx_ir::text::{parse_bytes, parse_program};

const CASES: &[(&str, &str)] = &[
    (
        "missing colon",
        "program {\n  graph @main(%x: f32[2]) {\n    %y f32[2] = aten.relu.default(%x)\n    output (%y)\n  }\n}\n",
    ),
    (
        "undefined value",
        "graph @main(%x: f32[2]) {\n  %y: f32[2] = aten.add.Tensor(%x, %z)\n  output (%y)\n}\n",
    ),
    (
        "use before definition",
        "graph @main(%x: f32[2]) {\n  %y: f32[2] = aten.neg.default(%y)\n  output (%y)\n}\n",
    ),
    (
        "duplicate value",
        "graph @main(%x: f32[2]) {\n  %x: f32[2] = aten.relu.default(%x)\n  output (%x)\n}\n",
    ),
    (
        "unknown dtype",
        "graph @main(%x: f33[2]) {\n  output (%x)\n}\n",
    ),
    (
        "unknown graph",
        "graph @main(%x: f32[2]) {\n  %y: f32[2] = call_graph @nope(%x)\n  output (%y)\n}\n",
    ),
    (
        "duplicate graph",
        "graph @g() { output () }\ngraph @g() { output () }\n",
    ),
    (
        "undeclared symbol",
        "sym s0: size in 1..=8\ngraph @main(%x: f32[s0, s1]) {\n  output (%x)\n}\n",
    ),
    (
        "integer too large",
        "graph @main(%x: f32[2]) {\n  %y: f32[2] = aten.mul.Scalar(%x, 99999999999999999999)\n  output (%y)\n}\n",
    ),
    (
        "integer out of i64 range",
        "graph @main(%x: f32[2]) {\n  %y: f32[2] = aten.mul.Scalar(%x, 9223372036854775808)\n  output (%y)\n}\n",
    ),
    (
        "unterminated string",
        "program {\n  dialect \"ATEN\n}\n",
    ),
    (
        "unexpected character",
        "graph @main(%x: f32[2]) {\n  %y: f32[2] = aten.relu.default(%x) ; \n}\n",
    ),
    (
        "missing call parens",
        "graph @main(%x: f32[2]) {\n  %y: f32[2] = aten.relu.default %x\n}\n",
    ),
    (
        "positional after keyword",
        "graph @main(%x: f32[2]) {\n  %y: f32[2] = aten.sum.dim_IntList(%x, dim=[0], true)\n  output (%y)\n}\n",
    ),
    (
        "truncated",
        "program {\n  graph @main(%x: f32[2]) {\n    %y: f32[2] = aten.relu.default(",
    ),
    (
        "unclosed program",
        "program {\n  sym s0: size\n",
    ),
    (
        "signature kind outside the entry graph",
        "graph @main() { output () }\ngraph @sub(%x: f32[2] = user \"x\") { output (%x) }\n",
    ),
    (
        "exclusive range",
        "sym s0: size in 1..<8\n",
    ),
    (
        "unknown literal",
        "graph @main(%x: f32[2]) {\n  %y: f32[2] = aten.fill.Scalar(%x, x)\n  output (%y)\n}\n",
    ),
    (
        "bad escape",
        "graph @main() {\n  aten.print(\"a\\qb\")\n  output ()\n}\n",
    ),
    (
        "tab before error",
        "graph @main(%x: f32[2]) {\n\t%y: f32[2] = aten.relu.default(%q)\n}\n",
    ),
];

fn deep_list(n: usize) -> String {
    format!(
        "graph @main() {{\n  aten.f({}{})\n  output ()\n}}\n",
        "[".repeat(n),
        "]".repeat(n)
    )
}

#[test]
fn diagnostics_snapshot() {
    let mut report = String::new();
    for (name, src) in CASES {
        let e = parse_program(src).expect_err(name);
        report.push_str(&format!("## {name}\n{e}\n\n"));
    }
    let e = parse_program(&deep_list(10_000)).unwrap_err();
    report.push_str(&format!("## deep nesting\n{e}\n\n"));
    let long = format!(
        "graph @main(%x: f32[2]) {{ %y: f32[2] = aten.f({}%nope) output (%y) }}",
        "1, ".repeat(100)
    );
    let e = parse_program(&long).unwrap_err();
    report.push_str(&format!("## long line\n{e}\n\n"));
    let e = parse_bytes(b"program {\n  dialect \"\xff\"\n}").unwrap_err();
    report.push_str(&format!("## invalid utf-8\n{e}\n"));
    insta::assert_snapshot!(report);
}

#[test]
fn error_positions() {
    let e = parse_program(CASES[0].1).unwrap_err();
    assert_eq!((e.line, e.column), (3, 8));
    assert_eq!(
        e.message,
        "expected ':' after value name, found an identifier"
    );
    let e = parse_program(CASES[1].1).unwrap_err();
    assert_eq!((e.line, e.column), (2, 36));
    let e = parse_program("").unwrap();
    assert_eq!(e.graphs.len(), 0);
}

#[test]
fn nesting_just_under_the_limit_parses() {
    assert!(parse_program(&deep_list(90)).is_ok());
    assert!(parse_program(&deep_list(200)).is_err());
}
