//! Snapshots of verifier diagnostics for hand-built broken programs.
//!
//! Each case starts from [`sample_program`] (which verifies) and breaks one or a few things; the
//! snapshot shows the rendered report, node text included.

use trtfx_ir::testgen::{sample_program, test_registry};
use trtfx_ir::verify::{render, verify_program, verify_types_with};
use trtfx_ir::{
    Arg, DType, DimSpec, GraphId, InputSpec, NodeBuilder, NodeId, Op, OutputKind, Program, SymKind,
    Symbol, Type, ValueId,
};

fn node(p: &Program, g: GraphId, name: &str) -> NodeId {
    let graph = &p.graphs[g];
    graph
        .nodes()
        .find(|&n| graph.node(n).name == name)
        .unwrap_or_else(|| panic!("no node {name}"))
}

fn result(p: &Program, name: &str) -> ValueId {
    let n = node(p, p.main, name);
    p.main_graph().node(n).results[0]
}

fn report(p: &Program) -> String {
    match verify_program(p, Some(&test_registry())) {
        Ok(()) => "ok".into(),
        Err(d) => render(&d),
    }
}

#[test]
fn sample_is_valid() {
    assert_eq!(report(&sample_program()), "ok");
}

#[test]
fn dangling_and_nonexistent_arguments() {
    let mut p = sample_program();
    let main = p.main;
    let relu = node(&p, main, "relu");
    let add = node(&p, main, "add");
    let x = result(&p, "x");
    // A node inserted and removed again: its value id stays allocated but dead.
    let g = p.main_graph_mut();
    let tmp = g.insert_before(
        relu,
        NodeBuilder::call("aten.neg.default")
            .args(vec![Arg::Value(x)])
            .result("tmp", g.ty(x).clone()),
    );
    let dead = g.node(tmp).results[0];
    g.remove_node(tmp).unwrap();
    g.set_args(relu, vec![Arg::Value(dead)], vec![]);
    let bogus = ValueId::from_u32(999);
    g.set_args(add, vec![Arg::Value(x), Arg::Value(bogus)], vec![]);
    insta::assert_snapshot!(report(&p));
}

#[test]
fn use_before_definition() {
    let mut p = sample_program();
    let main = p.main;
    let add = node(&p, main, "add");
    let mul = node(&p, main, "mul");
    p.main_graph_mut().move_before(add, mul);
    insta::assert_snapshot!(report(&p));
}

#[test]
fn order_and_names() {
    let mut p = sample_program();
    let main = p.main;
    let mul = node(&p, main, "mul");
    let x = node(&p, main, "x");
    let out = node(&p, main, "output");
    let relu = node(&p, main, "relu");
    let g = p.main_graph_mut();
    // A placeholder after a call, a second output in the middle, a duplicate node name.
    g.move_before(x, mul);
    g.move_before(mul, x);
    g.insert_before(relu, NodeBuilder::new(Op::Output).name("output_1"));
    g.set_node_name(relu, "add");
    let _ = out;
    insta::assert_snapshot!(report(&p));
}

#[test]
fn signature_weights_and_specs() {
    let mut p = sample_program();
    // The weight's dtype no longer matches the placeholder; its bytes are short.
    let w = p.weights.get_mut("bias").unwrap();
    w.dtype = DType::F16;
    w.shape = vec![4];
    // The input spec disagrees on dtype and a static dim; a symbol it names is undeclared.
    p.input_specs[0] = InputSpec::Tensor {
        name: "x".into(),
        dtype: DType::F32,
        dims: vec![
            DimSpec::Dynamic {
                sym: Some("s9".into()),
                min: 8,
                opt: 4,
                max: 64,
            },
            DimSpec::Static(5),
        ],
    };
    // One output too many in the signature, and a get_attr of a missing weight.
    p.signature.outputs.push(OutputKind::User);
    let main = p.main;
    let relu = node(&p, main, "relu");
    let ty = Type::tensor(DType::F32, trtfx_ir::static_shape(&[3]));
    p.main_graph_mut().insert_before(
        relu,
        NodeBuilder::new(Op::GetAttr {
            target: "missing".into(),
        })
        .result("c0", ty),
    );
    insta::assert_snapshot!(report(&p));
}

#[test]
fn schema_violations() {
    let mut p = sample_program();
    let main = p.main;
    let add = node(&p, main, "add");
    let relu = node(&p, main, "relu");
    let mul = node(&p, main, "mul");
    let x = result(&p, "x");
    let m = result(&p, "mul");
    let g = p.main_graph_mut();
    // Extra positional, an unknown keyword, a keyword repeating a positional.
    g.set_args(
        add,
        vec![Arg::Value(x), Arg::Value(m), Arg::Int(1)],
        vec![
            ("beta".into(), Arg::Int(2)),
            ("other".into(), Arg::Value(m)),
        ],
    );
    // A missing required argument.
    g.set_args(relu, vec![], vec![]);
    // A literal of the wrong kind in a tensor slot.
    g.set_args(mul, vec![Arg::Str("oops".into()), Arg::None], vec![]);
    insta::assert_snapshot!(report(&p));
}

#[test]
fn symbols() {
    let mut p = sample_program();
    p.symbols.shift_remove("s0");
    p.declare_symbol(
        "u0",
        Symbol {
            kind: SymKind::Unbacked,
            min: Some(10),
            max: Some(2),
            hint: None,
        },
    );
    insta::assert_snapshot!(report(&p));
}

#[test]
fn graph_references() {
    let mut p = sample_program();
    let main = p.main;
    let t = p.graph_by_name("true_graph_0").unwrap();
    let relu = node(&p, main, "relu");
    let cond = node(&p, main, "cond");
    let x = result(&p, "x");
    let xt = p.main_graph().ty(x).clone();
    // call_graph with the wrong arity and result count; a cond naming a missing graph.
    let g = p.main_graph_mut();
    g.insert_before(
        relu,
        NodeBuilder::new(Op::CallGraph { graph: t })
            .args(vec![Arg::Value(x), Arg::Value(x)])
            .result("r0", xt.clone())
            .result("r1", xt)
            .name("call_true"),
    );
    let args = g.node(cond).args.clone();
    let mut args2 = args;
    args2[2] = Arg::Graph(GraphId::from_u32(17));
    g.set_args(cond, args2, vec![]);
    // The true branch calls main: recursion.
    let tg = &mut p.graphs[t];
    let out = tg.output_node().unwrap();
    tg.insert_before(
        out,
        NodeBuilder::new(Op::CallGraph { graph: main }).name("back_to_main"),
    );
    insta::assert_snapshot!(report(&p));
}

#[test]
fn reinference_mismatch() {
    let mut p = sample_program();
    let relu = result(&p, "relu");
    p.main_graph_mut().set_ty(
        relu,
        Type::tensor(DType::F16, trtfx_ir::static_shape(&[2, 3])),
    );
    let reg = test_registry();
    // Structurally valid (the types are only compared by re-inference)...
    let structural = verify_program(&p, Some(&reg));
    // ...except that cond's branch now disagrees; the report shows both layers.
    let text = match verify_types_with(&p, &reg) {
        Ok(()) => "ok".into(),
        Err(d) => render(&d),
    };
    insta::assert_snapshot!(format!(
        "structural: {}\nwith types:\n{}",
        if structural.is_ok() { "ok" } else { "errors" },
        text
    ));
}

/// Use lists can only go wrong through a bug or a hand-edited file; edit the JSON. The reader
/// refuses it: a `Graph` never holds use lists that disagree with its arguments.
#[test]
fn inconsistent_use_list_from_json() {
    let p = sample_program();
    let mut v: serde_json::Value = serde_json::from_str(&p.to_json().unwrap()).unwrap();
    let values = v["program"]["graphs"]["elems"][0]["values"]["elems"]
        .as_array_mut()
        .unwrap();
    // Value 1 is x: claim it has no uses.
    values[1]["uses"] = serde_json::json!([]);
    let err = Program::from_json(&v.to_string()).unwrap_err();
    insta::assert_snapshot!(err.to_string());
}

type Edit = dyn Fn(&mut serde_json::Value);

/// A corrupt node list (a cycle, a link to a missing node, a missing result value) is refused
/// by the JSON reader itself, not looped on or panicked over; what the verifier would say about
/// such a graph can no longer arise from a file.
#[test]
fn corrupt_node_list_from_json() {
    let p = sample_program();
    let base: serde_json::Value = serde_json::from_str(&p.to_json().unwrap()).unwrap();
    let mut out = String::new();
    let cases: [(&str, &Edit); 4] = [
        ("cyclic order list", &|v| {
            v["program"]["graphs"]["elems"][0]["nodes"]["elems"][4]["next"] = 2.into()
        }),
        ("link to a missing node", &|v| {
            v["program"]["graphs"]["elems"][1]["nodes"]["elems"][1]["next"] = 40.into()
        }),
        ("missing result value and bad def", &|v| {
            v["program"]["graphs"]["elems"][0]["nodes"]["elems"][2]["results"] =
                serde_json::json!([77]);
            v["program"]["graphs"]["elems"][0]["values"]["elems"][3]["def"] = 55.into();
        }),
        ("dead node still linked", &|v| {
            v["program"]["graphs"]["elems"][0]["nodes"]["elems"][4]["dead"] = true.into()
        }),
    ];
    for (what, edit) in cases {
        let mut v = base.clone();
        edit(&mut v);
        let err = Program::from_json(&v.to_string()).unwrap_err();
        out.push_str(&format!("== {what}\n{err}\n"));
    }
    insta::assert_snapshot!(out);
}
