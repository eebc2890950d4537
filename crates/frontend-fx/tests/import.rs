//! Conversion tests: every fixture imports, and imported types equal the recorded ones.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::*;
use trtfx_frontend_fx::archive::{parse_exported_program, Pt2Archive};
use trtfx_frontend_fx::convert::dtype_of;
use trtfx_frontend_fx::schema::{self, Argument, SymExprHint, SymInt};
use trtfx_frontend_fx::{import_archive, import_pt2, import_pt2_bytes, ImportError, ImportOptions};
use trtfx_ir::{
    Arg, DType, DimSpec, InputKind, InputSpec, Op, OutputKind, Program, SymKind, Type, WeightData,
};

fn collect<'g, 'j>(
    g: &'g schema::Graph<'j>,
    name: &str,
    out: &mut HashMap<String, &'g schema::Graph<'j>>,
) {
    out.entry(name.to_string()).or_insert(g);
    for n in &g.nodes {
        for a in &n.inputs {
            if let Argument::Graph(sub) = &a.arg {
                collect(&sub.graph, &sub.name, out);
            }
        }
    }
}

/// Checks every tensor value against `tensor_values`; returns how many were compared.
fn check_recorded_types(p: &Program, path: &std::path::Path) -> usize {
    let ar = Pt2Archive::open(path).unwrap();
    let json = ar.read_model_json("model").unwrap();
    let ep = parse_exported_program(&json, "x", "y", &mut vec![]).unwrap();
    let mut graphs = HashMap::new();
    collect(&ep.graph_module.graph, "main", &mut graphs);
    let hints: HashMap<&str, i64> = p
        .symbols
        .iter()
        .filter_map(|(k, s)| Some((&**k, s.hint?)))
        .collect();
    let mut compared = 0;
    for (_, g) in p.graphs.iter() {
        let Some(sg) = graphs.get(&g.name) else {
            panic!("IR graph {} has no schema graph", g.name)
        };
        for v in g.value_ids() {
            let vd = g.value(v);
            let Some(tm) = sg.tensor_values.get(vd.name.as_str()) else {
                continue;
            };
            let Type::Tensor(t) = &vd.ty else {
                assert_eq!(vd.ty, Type::Token, "{}: {}", g.name, vd.name);
                continue;
            };
            assert_eq!(Some(t.dtype), dtype_of(tm.dtype), "{}: {}", g.name, vd.name);
            assert_eq!(t.shape.len(), tm.sizes.len(), "{}: {}", g.name, vd.name);
            for (d, s) in t.shape.iter().zip(&tm.sizes) {
                match s {
                    SymInt::Int(c) => assert_eq!(d.as_const(), Some(*c), "{}: {}", g.name, vd.name),
                    SymInt::Expr(e) => {
                        assert!(!d.is_const(), "{}: {}", g.name, vd.name);
                        if let (Some(SymExprHint::Int(h)), Some(val)) =
                            (e.hint, d.eval(&|s: &str| hints.get(s).copied()))
                        {
                            assert_eq!(val, h, "{}: {} dim {}", g.name, vd.name, e.expr_str);
                        }
                    }
                }
            }
            compared += 1;
        }
    }
    compared
}

#[test]
fn every_fixture_imports_with_recorded_types() {
    for f in fixtures() {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if name == "sub.pt2" {
            continue; // checked below: has a pickled parameter
        }
        let p = import_pt2(&f).unwrap_or_else(|e| panic!("{e}"));
        let n = check_recorded_types(&p, &f);
        assert!(n > 0, "{name}");
        // Every weight reads.
        for (k, w) in &p.weights {
            let b = w.bytes().unwrap_or_else(|e| panic!("{name}: {k}: {e}"));
            assert_eq!(b.len(), w.nbytes(), "{name}: {k}");
        }
        eprintln!(
            "{name}: {} graphs, {n} tensor values checked",
            p.graphs.len()
        );
    }
}

#[test]
fn sub_imports_with_an_opaque_pickled_weight() {
    let Some(f) = fixture("sub.pt2") else { return };
    let p = import_pt2(&f).unwrap();
    check_recorded_types(&p, &f);
    match &p.weights["w"].data {
        WeightData::Opaque(why) => assert!(
            why.contains("use_pickle") && why.contains("sub/data/weights/weight_0"),
            "{why}"
        ),
        d => panic!("{d:?}"),
    }
    let a = p.weights["a"].bytes().unwrap();
    assert_eq!(a.len(), 16);
    assert_eq!(p.weights["e"].shape, [0, 3]);
}

#[test]
fn small_program_structure() {
    let Some(f) = fixture("small.pt2") else {
        return;
    };
    let p = import_pt2(&f).unwrap();
    assert_eq!(p.meta.dialect.as_deref(), Some("TRAINING"));
    assert_eq!(p.graphs.len(), 1);
    let sig = &p.signature;
    assert_eq!(sig.inputs.len(), 15);
    assert_eq!(
        sig.inputs[0],
        InputKind::Parameter {
            target: "tied".into()
        }
    );
    assert_eq!(
        sig.inputs[7],
        InputKind::Buffer {
            target: "nonpersist".into(),
            persistent: false
        }
    );
    assert_eq!(
        sig.inputs[11],
        InputKind::Constant {
            target: "const".into()
        }
    );
    assert_eq!(sig.inputs[12], InputKind::User { name: "x".into() });
    assert!(
        matches!(&sig.inputs[13], InputKind::ConstantInput { value: Arg::Float(v), .. } if v.0 == 2.0)
    );
    assert!(matches!(
        &sig.inputs[14],
        InputKind::ConstantInput {
            value: Arg::Bool(true),
            ..
        }
    ));
    assert_eq!(
        sig.outputs,
        [OutputKind::User, OutputKind::User, OutputKind::User]
    );
    assert_eq!(p.weights.len(), 12);
    assert_eq!(
        p.weights["tied"].bytes().unwrap(),
        p.weights["lin.weight"].bytes().unwrap()
    );
    assert_eq!(p.weights["const"].dtype, DType::F64);
    let s77 = &p.symbols["s77"];
    assert_eq!(
        (s77.kind, s77.min, s77.max, s77.hint),
        (SymKind::Size, Some(0), Some(64), Some(2))
    );
    assert_eq!(p.input_specs.len(), 1);
    match &p.input_specs[0] {
        InputSpec::Tensor { name, dtype, dims } => {
            assert_eq!((name.as_str(), *dtype), ("x", DType::F32));
            assert_eq!(
                dims[0],
                DimSpec::Dynamic {
                    sym: Some("s77".into()),
                    min: 0,
                    opt: 2,
                    max: 64
                }
            );
            assert!(dims[1..].iter().all(|d| matches!(d, DimSpec::Static(_))));
        }
        s => panic!("{s:?}"),
    }
    let g = p.main_graph();
    let conv = g
        .nodes()
        .find(|&n| {
            g.node(n).op
                == Op::Call {
                    target: "aten.conv2d.default".into(),
                }
        })
        .unwrap();
    let nd = g.node(conv);
    assert_eq!(nd.args.len(), 5);
    assert!(nd.kwargs.is_empty());
    let meta = g
        .nodes()
        .find(|&n| g.node(n).op.target() == Some("aten._assert_tensor_metadata.default"))
        .unwrap();
    let nd = g.node(meta);
    assert!(nd.results.is_empty());
    assert_eq!(
        nd.kwargs
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>(),
        ["dtype", "device", "layout"]
    );
    assert_eq!(nd.kwarg("dtype"), Some(&Arg::DType(DType::F64)));
    assert_eq!(nd.kwarg("device"), Some(&Arg::Device("cpu".into())));
    let outs = g.outputs();
    let last = outs[2].as_value().unwrap();
    assert_eq!(g.ty(last).to_string(), "symint(2*s77)");
}

#[test]
fn hop_subgraphs_and_dedup() {
    let Some(f) = fixture("hop2.pt2") else { return };
    let p = import_pt2(&f).unwrap();
    let mut names: Vec<&str> = p.graphs.values().map(|g| g.name.as_str()).collect();
    names.sort();
    let ar = Pt2Archive::open(&f).unwrap();
    let json = ar.read_model_json("model").unwrap();
    let ep = parse_exported_program(&json, "x", "y", &mut vec![]).unwrap();
    let mut uses = 0;
    let mut distinct = std::collections::HashSet::new();
    fn walk<'a>(
        g: &'a schema::Graph<'a>,
        uses: &mut usize,
        d: &mut std::collections::HashSet<String>,
    ) {
        for n in &g.nodes {
            for a in &n.inputs {
                if let Argument::Graph(s) = &a.arg {
                    *uses += 1;
                    d.insert(s.name.to_string());
                    walk(&s.graph, uses, d);
                }
            }
        }
    }
    walk(&ep.graph_module.graph, &mut uses, &mut distinct);
    assert!(
        uses > distinct.len(),
        "fixture should reuse a subgraph name ({uses} uses)"
    );
    assert_eq!(p.graphs.len(), 1 + distinct.len(), "{names:?}");
    // Every as_graph argument points at a graph of the program.
    for g in p.graphs.values() {
        for n in g.nodes() {
            for a in &g.node(n).args {
                if let Arg::Graph(id) = a {
                    assert!(p.graphs.get(*id).is_some());
                }
            }
        }
    }
}

#[test]
fn condsym_operands_resolve_symints() {
    let Some(f) = fixture("condsym.pt2") else {
        return;
    };
    let p = import_pt2(&f).unwrap();
    let g = p.main_graph();
    let cond = g
        .nodes()
        .find(|&n| g.node(n).op.target() == Some("higher_order.cond"))
        .unwrap();
    let Arg::List(ops) = &g.node(cond).args[3] else {
        panic!()
    };
    let tys: Vec<String> = ops
        .iter()
        .map(|a| g.ty(a.as_value().unwrap()).to_string())
        .collect();
    assert!(tys.iter().any(|t| t.starts_with("symint")), "{tys:?}");
}

#[test]
fn misc_aten_tokens_and_mutations() {
    let Some(f) = fixture("misc_aten.pt2") else {
        return;
    };
    let p = import_pt2(&f).unwrap();
    assert_eq!(p.signature.inputs[0], InputKind::Token);
    assert_eq!(p.signature.outputs[0], OutputKind::Token);
    assert!(p
        .signature
        .outputs
        .contains(&OutputKind::ParameterMutation { target: "p".into() }));
    assert!(p
        .signature
        .outputs
        .contains(&OutputKind::UserInputMutation { input: "x".into() }));
    let g = p.main_graph();
    assert_eq!(g.ty(g.input_values()[0]), &Type::Token);
    let we = g
        .nodes()
        .find(|&n| g.node(n).op.target() == Some("higher_order.with_effects"))
        .unwrap();
    let nd = g.node(we);
    assert_eq!(g.ty(nd.results[0]), &Type::Token);
    assert_eq!(g.ty(nd.results[1]), &Type::None);
    assert_eq!(nd.args[1], Arg::OpRef("aten._print.default".into()));
    assert!(p.input_specs.iter().any(|s| matches!(
        s,
        InputSpec::Scalar {
            dtype: DType::I64,
            ..
        }
    )));
}

#[test]
fn custom_ops_keep_recorded_types() {
    let Some(f) = fixture("hop.pt2") else { return };
    let p = import_pt2(&f).unwrap();
    let mut custom = 0;
    for g in p.graphs.values() {
        for n in g.nodes() {
            let nd = g.node(n);
            if nd.op.target().is_some_and(|t| t.starts_with("mylib.")) {
                assert!(nd.meta.recorded_types);
                custom += 1;
            }
        }
    }
    assert!(custom > 0);
}

#[test]
fn import_errors_name_the_item() {
    let mut m = minimal_model();
    m["graph_module"]["graph"]["tensor_values"]["x"]["sizes"][0]["as_expr"]["expr_str"] =
        "Mul(Integer(2), Symbol('s0')".into();
    let e = import_pt2_bytes(make_pt2(&m), "bad.pt2").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ImportError::SymExpr { .. }), "{msg}");
    assert!(
        msg.contains("bad.pt2")
            && msg.contains("value `x`")
            && msg.contains("malformed symbolic expression"),
        "{msg}"
    );

    let mut m = minimal_model();
    m["graph_module"]["graph"]["nodes"][0]["inputs"][0]["arg"]["as_tensor"]["name"] = "nope".into();
    let msg = import_pt2_bytes(make_pt2(&m), "bad.pt2")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("`nope`") && msg.contains("relu"), "{msg}");

    let mut m = minimal_model();
    m["graph_module"]["signature"]["input_specs"] = serde_json::json!([]);
    let msg = import_pt2_bytes(make_pt2(&m), "bad.pt2")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("0 input specs for 1 graph inputs"), "{msg}");

    let mut m = minimal_model();
    m["graph_module"]["signature"]["input_specs"] =
        serde_json::json!([{"parameter": {"arg": {"name": "x"}, "parameter_name": "missing"}}]);
    let msg = import_pt2_bytes(make_pt2(&m), "bad.pt2")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("`missing` is not in the weights or constants config"),
        "{msg}"
    );
}

#[test]
fn minimal_import_and_kind_fallback() {
    let mut m = minimal_model();
    m["graph_module"]["graph"]["nodes"][0]["inputs"][0]
        .as_object_mut()
        .unwrap()
        .remove("kind");
    let ar = Arc::new(Pt2Archive::from_bytes(make_pt2(&m), "mem.pt2").unwrap());
    let p = import_archive(ar, &ImportOptions::default())
        .unwrap()
        .program;
    let g = p.main_graph();
    let relu = g
        .nodes()
        .find(|&n| g.node(n).op.target() == Some("aten.relu.default"))
        .unwrap();
    // Without `kind` and without a schema the argument is passed by keyword (unambiguous).
    assert_eq!(g.node(relu).kwargs.len(), 1);
    assert_eq!(g.ty(g.node(relu).results[0]).to_string(), "f32[s0,3]");
    assert_eq!(p.symbols["s0"].min, Some(1));
    // With the standard registry (the default of `import_pt2_bytes`) the schema says `self` is
    // a required positional argument.
    let p = import_pt2_bytes(make_pt2(&m), "mem.pt2").unwrap();
    let g = p.main_graph();
    let relu = g
        .nodes()
        .find(|&n| g.node(n).op.target() == Some("aten.relu.default"))
        .unwrap();
    assert_eq!(g.node(relu).args.len(), 1);
    assert!(g.node(relu).kwargs.is_empty());
}

/// A program `conv2d(x, w, <inputs>)` with x: f32[1,4,6,6], w: f32[4,2,3,3] (2 groups);
/// `extra` are the node's NamedArguments after `input` and `weight`.
fn conv_model(extra: &[serde_json::Value]) -> serde_json::Value {
    let tm = |sizes: &[i64]| {
        let mut strides = vec![1i64; sizes.len()];
        for i in (0..sizes.len().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * sizes[i + 1];
        }
        serde_json::json!({"dtype": 7,
            "sizes": sizes.iter().map(|s| serde_json::json!({"as_int": s})).collect::<Vec<_>>(),
            "requires_grad": false, "device": {"type": "cpu", "index": null},
            "strides": strides.iter().map(|s| serde_json::json!({"as_int": s})).collect::<Vec<_>>(),
            "storage_offset": {"as_int": 0}, "layout": 7})
    };
    let mut m = minimal_model();
    let g = &mut m["graph_module"]["graph"];
    g["inputs"] = serde_json::json!([{"as_tensor": {"name": "x"}}, {"as_tensor": {"name": "w"}}]);
    g["outputs"] = serde_json::json!([{"as_tensor": {"name": "conv2d"}}]);
    let mut inputs = vec![
        serde_json::json!({"name": "input", "arg": {"as_tensor": {"name": "x"}}, "kind": 1}),
        serde_json::json!({"name": "weight", "arg": {"as_tensor": {"name": "w"}}, "kind": 1}),
    ];
    inputs.extend(extra.iter().cloned());
    g["nodes"] = serde_json::json!([{
        "target": "torch.ops.aten.conv2d.default",
        "inputs": inputs,
        "outputs": [{"as_tensor": {"name": "conv2d"}}],
        "metadata": {},
        "is_hop_single_tensor_return": null,
        "name": "conv2d"
    }]);
    g["tensor_values"] = serde_json::json!({
        "x": tm(&[1, 4, 6, 6]), "w": tm(&[4, 2, 3, 3]), "conv2d": tm(&[1, 4, 4, 4])});
    m["graph_module"]["signature"]["input_specs"] = serde_json::json!([
        {"user_input": {"arg": {"as_tensor": {"name": "x"}}}},
        {"user_input": {"arg": {"as_tensor": {"name": "w"}}}}
    ]);
    m["graph_module"]["signature"]["output_specs"] =
        serde_json::json!([{"user_output": {"arg": {"as_tensor": {"name": "conv2d"}}}}]);
    m["range_constraints"] = serde_json::json!({});
    m
}

fn conv_node(p: &Program) -> (Vec<Arg>, Vec<(String, Arg)>) {
    let g = p.main_graph();
    let n = g
        .nodes()
        .find(|&n| g.node(n).op.target() == Some("aten.conv2d.default"))
        .unwrap();
    (g.node(n).args.to_vec(), g.node(n).kwargs.to_vec())
}

#[test]
fn positional_argument_after_an_omitted_default_becomes_a_keyword() {
    let ints = |v: &[i64]| Arg::List(v.iter().map(|&x| Arg::Int(x)).collect());
    // conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1): torch omits
    // `dilation` (left at its default) but passes `groups` positionally.
    let m = conv_model(&[
        serde_json::json!({"name": "bias", "arg": {"as_none": true}, "kind": 1}),
        serde_json::json!({"name": "stride", "arg": {"as_ints": [1, 1]}, "kind": 1}),
        serde_json::json!({"name": "padding", "arg": {"as_ints": [0, 0]}, "kind": 1}),
        serde_json::json!({"name": "groups", "arg": {"as_int": 2}, "kind": 1}),
    ]);
    let p = import_pt2_bytes(make_pt2(&m), "conv.pt2").unwrap();
    let (args, kwargs) = conv_node(&p);
    assert_eq!(args.len(), 5, "{args:?}");
    assert_eq!(
        (&args[2], &args[3], &args[4]),
        (&Arg::None, &ints(&[1, 1]), &ints(&[0, 0]))
    );
    assert_eq!(kwargs, [("groups".to_string(), Arg::Int(2))]);
    assert_eq!(g_ty(&p), "f32[1,4,4,4]");

    // An earlier gap moves every later argument to keywords, in order.
    let m = conv_model(&[
        serde_json::json!({"name": "padding", "arg": {"as_ints": [1, 1]}, "kind": 1}),
        serde_json::json!({"name": "dilation", "arg": {"as_ints": [1, 1]}, "kind": 1}),
        serde_json::json!({"name": "groups", "arg": {"as_int": 2}, "kind": 1}),
    ]);
    let p = import_pt2_bytes(make_pt2(&m), "conv.pt2").unwrap();
    let (args, kwargs) = conv_node(&p);
    assert_eq!(args.len(), 2);
    let names: Vec<&str> = kwargs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["padding", "dilation", "groups"]);
    assert_eq!(kwargs[0].1, ints(&[1, 1]));

    // Without a registry there is no schema to place arguments by: kept positional, in order
    // (the pre-registry behaviour; ambiguous, hence the registry default).
    let ar = Arc::new(Pt2Archive::from_bytes(make_pt2(&m), "conv.pt2").unwrap());
    let p = import_archive(ar, &ImportOptions::default())
        .unwrap()
        .program;
    let (args, kwargs) = conv_node(&p);
    assert_eq!((args.len(), kwargs.len()), (5, 0));

    // Contiguous positional arguments stay positional.
    let m = conv_model(&[
        serde_json::json!({"name": "bias", "arg": {"as_none": true}, "kind": 1}),
        serde_json::json!({"name": "stride", "arg": {"as_ints": [1, 1]}, "kind": 1}),
        serde_json::json!({"name": "padding", "arg": {"as_ints": [0, 0]}, "kind": 1}),
        serde_json::json!({"name": "dilation", "arg": {"as_ints": [1, 1]}, "kind": 1}),
        serde_json::json!({"name": "groups", "arg": {"as_int": 2}, "kind": 1}),
    ]);
    let p = import_pt2_bytes(make_pt2(&m), "conv.pt2").unwrap();
    let (args, kwargs) = conv_node(&p);
    assert_eq!((args.len(), kwargs.len()), (7, 0));
    assert_eq!(args[6], Arg::Int(2));
}

fn g_ty(p: &Program) -> String {
    let g = p.main_graph();
    let out = g.outputs()[0].as_value().unwrap();
    g.ty(out).to_string()
}

#[test]
fn small_printed_snapshot() {
    let Some(f) = fixture("small.pt2") else {
        return;
    };
    let p = import_pt2(&f).unwrap();
    insta::assert_snapshot!(trtfx_ir::print_program(&p));
}
