//! `parse(print(p)) == p` and `print(parse(print(p))) == print(p)` on hand-built programs.

mod text_common;

use trtfx_ir::text::{
    not_loaded_message, parse_program, parse_program_with_weights, print_program,
};
use trtfx_ir::{Program, WeightData};

/// `p` with every weight replaced by what the parser creates when no data is supplied.
fn without_weight_data(p: &Program) -> Program {
    let mut q = p.clone();
    for (name, w) in q.weights.iter_mut() {
        if !matches!(w.data, WeightData::Opaque(_)) {
            w.data = WeightData::Opaque(not_loaded_message(name));
        }
    }
    q
}

#[test]
fn round_trip_hand_built_programs() {
    for (name, p) in text_common::all() {
        let text = print_program(&p);
        let parsed = parse_program(&text).unwrap_or_else(|e| panic!("{name}:\n{e}\n{text}"));
        assert!(
            parsed == without_weight_data(&p),
            "{name}: parse(print(p)) != p\n{text}"
        );
        let reprinted = print_program(&parsed);
        assert_eq!(reprinted, text, "{name}: printing is not stable");
        // With the weights supplied, the round trip is exact, bytes included.
        let with = parse_program_with_weights(&text, text_common::weights_of(&p)).unwrap();
        assert!(with == p, "{name}: parse_with_weights(print(p)) != p");
    }
}

#[test]
fn floats_round_trip_bit_exactly() {
    use trtfx_ir::text::print_program;
    let p = text_common::everything();
    let parsed = parse_program(&print_program(&p)).unwrap();
    // Graph equality compares literals by bit pattern (F64), so NaN payloads and -0.0 count.
    assert!(parsed.main_graph() == p.main_graph());
}

#[test]
fn supplied_weights_are_checked() {
    let p = text_common::conv_relu();
    let text = print_program(&p);
    let mut ws = text_common::weights_of(&p);
    ws.get_mut("conv.bias").unwrap().shape = vec![9];
    let e = parse_program_with_weights(&text, ws).unwrap_err();
    assert!(e.message.contains("conv.bias"), "{e}");
    let mut ws = text_common::weights_of(&p);
    ws.insert("extra".into(), ws["conv.bias"].clone());
    let e = parse_program_with_weights(&text, ws).unwrap_err();
    assert!(e.message.contains("not declare"), "{e}");
}

#[test]
fn unwrapped_text_and_run_header_parse() {
    let text = "# RUN: ir-opt --passes dce\n\
                sym s0: size in 1..=8\n\
                graph @main(%x: f32[s0] = user \"x\") -> (user) {\n\
                  %y: f32[s0] = aten.relu.default(%x)  # trailing comment\n\
                  output (%y)\n\
                }\n";
    let p = parse_program(text).unwrap();
    assert_eq!(p.main_graph().len(), 3);
    assert_eq!(p.signature.inputs.len(), 1);
    let again = parse_program(&print_program(&p)).unwrap();
    assert!(again == p);
}

#[test]
fn dims_come_back_canonical() {
    // Non-canonical spellings are accepted and normalised by Dim's arithmetic.
    let text = "sym s0: size\nsym s1: size\n\
                graph @g(%x: f32[s0 + s0 + 1, 2*s1*3, max(s0, 2, s0), floordiv(floordiv(s0, 2), 3)]) { output (%x) }";
    let p = parse_program(text).unwrap();
    let g = p.main_graph();
    let ty = g.ty(g.input_values()[0]).to_string();
    assert_eq!(ty, "f32[2*s0 + 1,6*s1,max(s0, 2),floordiv(s0, 6)]");
}

#[test]
fn print_node_matches_graph_printing() {
    let p = text_common::multi_output();
    let g = p.main_graph();
    let text = trtfx_ir::print_graph(&p, p.main);
    for n in g.nodes() {
        let line = trtfx_ir::text::print_node(&p, p.main, n);
        assert!(
            text.contains(&line) || g.node(n).op == trtfx_ir::Op::Placeholder,
            "{line} not in\n{text}"
        );
    }
}

#[test]
fn documented_example_parses_and_prints_back() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/ir-format.md"
    ))
    .expect("docs/ir-format.md");
    let after = &doc[doc.find("## Example").expect("example section")..];
    let start = after.find("```\n").expect("code block") + 4;
    let len = after[start..].find("```").expect("end of code block");
    let example = &after[start..start + len];
    let p = parse_program(example).unwrap_or_else(|e| panic!("{e}"));
    // The block is printer output plus a leading comment line.
    let body: String = example.lines().skip(1).map(|l| format!("{l}\n")).collect();
    assert_eq!(print_program(&p), body);
}

/// Printing and parsing stay linear: a 200k-node chain takes well under a second each in an
/// optimised build. Ignored by default (debug builds are slow); run with `--ignored`.
#[test]
#[ignore = "timing check"]
fn large_graph_timing() {
    use trtfx_ir::{Arg, NodeBuilder, Op};
    let mut p = text_common::conv_relu();
    let g = p.main_graph_mut();
    let out = g.output_node().unwrap();
    let mut last = g.node(g.prev_node(out).unwrap()).results[0];
    let ty = g.ty(last).clone();
    for i in 0..200_000 {
        let n = g.insert_before(
            out,
            NodeBuilder::call("aten.neg.default")
                .args(vec![Arg::Value(last)])
                .result(format!("neg_{i}"), ty.clone()),
        );
        last = g.node(n).results[0];
    }
    g.set_args(out, vec![Arg::Value(last)], vec![]);
    let _ = Op::Output;
    let t0 = std::time::Instant::now();
    let text = print_program(&p);
    let t1 = std::time::Instant::now();
    let q = parse_program(&text).unwrap();
    let t2 = std::time::Instant::now();
    eprintln!(
        "{} bytes: print {:?}, parse {:?}",
        text.len(),
        t1 - t0,
        t2 - t1
    );
    assert_eq!(q.main_graph().len(), p.main_graph().len());
}
