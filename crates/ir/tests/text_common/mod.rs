//! Hand-built programs shared by the `.fxir` text tests.
#![allow(dead_code)]

use indexmap::IndexMap;
use smallvec::smallvec;
use std::sync::Arc;
use trtfx_ir::{
    static_shape, Arg, DType, Dim, DimSpec, Graph, GraphId, InputKind, InputSpec, NodeBuilder,
    NodeId, Op, OutputKind, Program, SymKind, Symbol, Type, ValueId, Weight, WeightData, F64,
};

pub fn t(dtype: DType, dims: &[i64]) -> Type {
    Type::tensor(dtype, static_shape(dims))
}

pub fn res(g: &Graph, n: NodeId) -> ValueId {
    g.node(n).results[0]
}

pub fn v(g: &Graph, n: NodeId) -> Arg {
    Arg::Value(res(g, n))
}

pub fn placeholder(g: &mut Graph, name: &str, ty: Type) -> NodeId {
    g.append(NodeBuilder::new(Op::Placeholder).result(name, ty))
}

pub fn sym(kind: SymKind, min: Option<i64>, max: Option<i64>, hint: Option<i64>) -> Symbol {
    Symbol {
        kind,
        min,
        max,
        hint,
    }
}

/// conv → relu with a dynamic batch: the design document's example.
pub fn conv_relu() -> Program {
    let mut p = Program::new();
    p.meta.dialect = Some("ATEN".into());
    p.meta.torch_version = Some("2.11.0".into());
    p.declare_symbol("s0", sym(SymKind::Size, Some(1), Some(64), Some(4)));
    let s0 = Dim::sym("s0");
    let x_ty = Type::tensor(
        DType::F32,
        smallvec![s0.clone(), 3.into(), 16.into(), 16.into()],
    );
    let c_ty = Type::tensor(
        DType::F32,
        smallvec![s0.clone(), 8.into(), 16.into(), 16.into()],
    );
    p.input_specs.push(InputSpec::Tensor {
        name: "x".into(),
        dtype: DType::F32,
        dims: vec![
            DimSpec::Dynamic {
                sym: Some(Arc::from("s0")),
                min: 1,
                opt: 4,
                max: 64,
            },
            DimSpec::Static(3),
            DimSpec::Static(16),
            DimSpec::Static(16),
        ],
    });
    p.weights.insert(
        "conv.weight".into(),
        Weight::from_bytes(DType::F32, vec![8, 3, 3, 3], vec![0u8; 8 * 27 * 4]),
    );
    p.weights.insert(
        "conv.bias".into(),
        Weight::from_bytes(DType::F32, vec![8], vec![1u8; 32]),
    );
    let g = p.main_graph_mut();
    let x = placeholder(g, "x", x_ty);
    let w = placeholder(g, "p_conv_weight", t(DType::F32, &[8, 3, 3, 3]));
    let b = placeholder(g, "p_conv_bias", t(DType::F32, &[8]));
    let ints = |v: &[i64]| Arg::List(v.iter().map(|&i| Arg::Int(i)).collect());
    let c = g.append(
        NodeBuilder::call("aten.convolution.default")
            .args(vec![
                v(g, x),
                v(g, w),
                v(g, b),
                ints(&[1, 1]),
                ints(&[1, 1]),
                ints(&[1, 1]),
                Arg::Bool(false),
                ints(&[0, 0]),
                Arg::Int(1),
            ])
            .result("convolution", c_ty.clone()),
    );
    let r = g.append(
        NodeBuilder::call("aten.relu.default")
            .args(vec![v(g, c)])
            .result("relu", c_ty),
    );
    let out = v(g, r);
    g.append(NodeBuilder::new(Op::Output).args(vec![out]));
    p.signature.inputs = vec![
        InputKind::User { name: "x".into() },
        InputKind::Parameter {
            target: "conv.weight".into(),
        },
        InputKind::Parameter {
            target: "conv.bias".into(),
        },
    ];
    p.signature.outputs = vec![OutputKind::User];
    p
}

/// A multi-output node, symbolic shape expressions, awkward names and node metadata.
pub fn multi_output() -> Program {
    let mut p = Program::new();
    p.declare_symbol("s0", sym(SymKind::Size, Some(2), None, Some(8)));
    p.declare_symbol("s1", sym(SymKind::Size, Some(2), Some(1024), None));
    p.declare_symbol("u0", sym(SymKind::Unbacked, Some(0), None, None));
    let (s0, s1) = (Dim::sym("s0"), Dim::sym("s1"));
    let half = s1.floordiv(&Dim::constant(2));
    let expr = s0.scale(3).add(&half).sub(&Dim::constant(1));
    let g = p.main_graph_mut();
    let x = placeholder(
        g,
        "x",
        Type::tensor(DType::F32, smallvec![s0.clone(), s1.clone()]),
    );
    let m = g.append(
        NodeBuilder::call("aten.max.dim")
            .args(vec![v(g, x), Arg::Int(1)])
            .result("max_1", Type::tensor(DType::F32, smallvec![s0.clone()]))
            .result("max_2", Type::tensor(DType::I64, smallvec![s0.clone()]))
            .name("max"),
    );
    let vals = g.node(m).results.clone();
    let sz = g.append(
        NodeBuilder::call("aten.sym_size.int")
            .args(vec![v(g, x), Arg::Int(1)])
            .result("sym_size_int", Type::SymInt(Some(s1.clone()))),
    );
    // Awkward value names: not identifiers, duplicated, empty, numeric.
    let a = g.append(
        NodeBuilder::call("aten.view.default")
            .args(vec![Arg::Value(vals[0]), Arg::List(vec![Arg::Int(-1)])])
            .result(
                "weird name",
                Type::tensor(DType::F32, smallvec![expr.clone()]),
            ),
    );
    let b = g.append(
        NodeBuilder::call("aten.neg.default")
            .args(vec![v(g, a)])
            .result("dup", Type::tensor(DType::F32, smallvec![expr.clone()])),
    );
    let c = g.append(
        NodeBuilder::call("aten.neg.default")
            .args(vec![v(g, b)])
            .result("dup", Type::tensor(DType::F32, smallvec![expr.clone()])),
    );
    let d = g.append(
        NodeBuilder::call("aten.neg.default")
            .args(vec![v(g, c)])
            .result("", Type::tensor(DType::F32, smallvec![expr.clone()])),
    );
    let e = g.append(
        NodeBuilder::call("aten.neg.default")
            .args(vec![v(g, d)])
            .result("0", Type::tensor(DType::F32, smallvec![expr.clone()])),
    );
    let custom = g.append(
        NodeBuilder::call("mylib.opaque.default")
            .args(vec![v(g, e), v(g, sz)])
            .result(
                "opaque",
                Type::tensor(
                    DType::F16,
                    smallvec![
                        Dim::sym("u0"),
                        Dim::min_of([s0.clone(), s1.clone()]),
                        s0.modulo(&Dim::constant(4)),
                        s0.mul(&s1).mul(&s1),
                        Dim::max_of([s0.clone(), Dim::constant(1)]),
                    ],
                ),
            )
            .name("opaque_node"),
    );
    g.node_meta_mut(custom).recorded_types = true;
    let outs = vec![Arg::Value(vals[0]), Arg::Value(vals[1]), v(g, custom)];
    g.append(NodeBuilder::new(Op::Output).args(outs).name("out"));
    p
}

/// `torch.cond` with two branch subgraphs and an outlined partition called with `call_graph`;
/// the entry graph is not the first graph.
pub fn cond_program() -> Program {
    let mut p = Program::new();
    let f2 = || t(DType::F32, &[2]);
    // Graph 0 (first) is a branch, so the program needs an `entry` line.
    {
        let g = p.main_graph_mut();
        g.name = "true_graph_0".into();
        let x = placeholder(g, "x", f2());
        let s = g.append(
            NodeBuilder::call("aten.sin.default")
                .args(vec![v(g, x)])
                .result("sin", f2()),
        );
        let o = v(g, s);
        g.append(NodeBuilder::new(Op::Output).args(vec![o]));
    }
    let mut fg = Graph::new("false_graph_0");
    let x = placeholder(&mut fg, "x", f2());
    let c = fg.append(
        NodeBuilder::call("aten.cos.default")
            .args(vec![v(&fg, x)])
            .result("cos", f2()),
    );
    let o = v(&fg, c);
    fg.append(NodeBuilder::new(Op::Output).args(vec![o]));
    let false_id = p.add_graph(fg);

    let mut sub = Graph::new("trt_engine_0");
    let a = placeholder(&mut sub, "a", f2());
    let r = sub.append(
        NodeBuilder::call("aten.relu.default")
            .args(vec![v(&sub, a)])
            .result("relu", f2()),
    );
    let o = v(&sub, r);
    sub.append(NodeBuilder::new(Op::Output).args(vec![o]));
    let sub_id = p.add_graph(sub);

    let mut main = Graph::new("main");
    let pred = placeholder(&mut main, "pred", t(DType::Bool, &[]));
    let x = placeholder(&mut main, "x", f2());
    let cond = main.append(
        NodeBuilder::call("higher_order.cond")
            .args(vec![
                v(&main, pred),
                Arg::Graph(GraphId::from_u32(0)),
                Arg::Graph(false_id),
                Arg::List(vec![v(&main, x)]),
            ])
            .result("cond", f2()),
    );
    let call = main.append(
        NodeBuilder::new(Op::CallGraph { graph: sub_id })
            .args(vec![v(&main, cond)])
            .result("engine_out", f2())
            .result("engine_out_1", f2())
            .name("call_engine"),
    );
    let outs: Vec<Arg> = main
        .node(call)
        .results
        .iter()
        .map(|&r| Arg::Value(r))
        .collect();
    main.append(NodeBuilder::new(Op::Output).args(outs));
    p.main = p.add_graph(main);
    p.signature.inputs = vec![
        InputKind::User {
            name: "pred".into(),
        },
        InputKind::User { name: "x".into() },
    ];
    p.signature.outputs = vec![OutputKind::User, OutputKind::User];
    p
}

pub fn literal_args(sub: GraphId) -> Vec<Arg> {
    let f = |x: f64| Arg::Float(F64(x));
    vec![
        Arg::None,
        Arg::Bool(true),
        Arg::Bool(false),
        Arg::Int(0),
        Arg::Int(-7),
        Arg::Int(i64::MAX),
        Arg::Int(i64::MIN),
        f(0.0),
        f(-0.0),
        f(1.0),
        f(0.1),
        f(-2.5e-8),
        f(1e300),
        f(5e-324),
        f(f64::MAX),
        f(f64::INFINITY),
        f(f64::NEG_INFINITY),
        f(f64::NAN),
        f(-f64::NAN),
        Arg::Float(F64(f64::from_bits(0x7ff0_0000_0000_0001))),
        Arg::Str(String::new()),
        Arg::Str(
            "quote \" backslash \\ newline \n tab \t nul \0 bell \u{7} é ✓ #not-a-comment".into(),
        ),
        Arg::List(vec![]),
        Arg::List(vec![Arg::Int(1), Arg::List(vec![Arg::None, f(2.0)])]),
        Arg::DType(DType::BF16),
        Arg::DType(DType::Bool),
        Arg::Device("cuda:0".into()),
        Arg::Layout("strided".into()),
        Arg::MemoryFormat("channels_last".into()),
        Arg::Graph(sub),
        Arg::OpRef("aten.add.Tensor".into()),
        Arg::Complex(F64(1.5), F64(-0.0)),
        Arg::Complex(F64(f64::NAN), F64(f64::INFINITY)),
        Arg::Dict(vec![]),
        Arg::Dict(vec![
            ("a".into(), Arg::Int(1)),
            ("weird key\"".into(), Arg::List(vec![Arg::Str("x".into())])),
        ]),
    ]
}

/// Every literal kind, every type, every signature kind, every program-level item.
pub fn everything() -> Program {
    let mut p = Program::new();
    p.meta.dialect = Some("TRAINING".into());
    p.declare_symbol("s0", sym(SymKind::Size, Some(2), Some(128), Some(16)));
    p.declare_symbol("n", sym(SymKind::Int, None, None, None));
    p.declare_symbol("u0", sym(SymKind::Unbacked, Some(0), None, None));
    p.declare_symbol("f0", sym(SymKind::Float, None, Some(-3), None));
    p.declare_symbol(
        "big",
        sym(SymKind::Int, Some(i64::MIN), Some(i64::MAX), Some(-1)),
    );
    p.input_specs.push(InputSpec::Tensor {
        name: "x".into(),
        dtype: DType::F16,
        dims: vec![
            DimSpec::Dynamic {
                sym: Some(Arc::from("s0")),
                min: 2,
                opt: 16,
                max: 128,
            },
            DimSpec::Dynamic {
                sym: None,
                min: 1,
                opt: 2,
                max: 3,
            },
            DimSpec::Static(-1),
        ],
    });
    p.input_specs.push(InputSpec::Scalar {
        name: "n".into(),
        dtype: DType::I64,
        range: Some((Some(1), None)),
    });
    p.input_specs.push(InputSpec::Scalar {
        name: "flag".into(),
        dtype: DType::Bool,
        range: None,
    });
    p.weights.insert(
        "w".into(),
        Weight {
            dtype: DType::F8E4M3FN,
            shape: vec![4, 0],
            data: WeightData::Opaque(trtfx_ir::text::not_loaded_message("w")),
        },
    );
    p.weights.insert(
        "subclass \"q\"".into(),
        Weight {
            dtype: DType::C64,
            shape: vec![],
            data: WeightData::Opaque("pickled tensor subclass".into()),
        },
    );
    let mut sub = Graph::new("my graph!");
    let a = placeholder(&mut sub, "a", Type::List(Box::new(t(DType::F32, &[2]))));
    let o = v(&sub, a);
    sub.append(NodeBuilder::new(Op::Output).args(vec![o]));
    let sub_id = p.add_graph(sub);
    let mut dup = Graph::new("my graph!");
    dup.append(NodeBuilder::new(Op::Output));
    p.add_graph(dup);

    let s0 = Dim::sym("s0");
    let types = vec![
        Type::tensor(
            DType::F16,
            smallvec![
                s0.clone(),
                Dim::constant(i64::MIN),
                s0.scale(i64::MIN).add(&Dim::constant(i64::MIN))
            ],
        ),
        t(DType::F32, &[]),
        t(DType::F64, &[2]),
        t(DType::Bool, &[3]),
        Type::SymInt(None),
        Type::SymInt(Some(Dim::sym("u0").add(&Dim::sym("n")))),
        Type::SymFloat,
        Type::SymBool,
        Type::Int,
        Type::Float,
        Type::Bool,
        Type::Str,
        Type::List(Box::new(Type::List(Box::new(t(DType::U8, &[1]))))),
        Type::None,
        Type::Token,
        Type::Object("__torch__.torch.classes.my.Obj \"q\"".into()),
    ];
    let kinds = vec![
        InputKind::User { name: "x".into() },
        InputKind::Parameter { target: "w".into() },
        InputKind::Buffer {
            target: "bn.running_mean".into(),
            persistent: true,
        },
        InputKind::Buffer {
            target: "bn.tmp".into(),
            persistent: false,
        },
        InputKind::Constant {
            target: "c0".into(),
        },
        InputKind::CustomObj {
            target: "obj".into(),
        },
        InputKind::ConstantInput {
            name: "k".into(),
            value: Arg::List(vec![Arg::Int(1), Arg::Float(F64(0.5)), Arg::None]),
        },
        InputKind::Token,
        InputKind::User {
            name: "renamed".into(),
        },
        // This one annotates the body placeholder below.
        InputKind::User {
            name: "late".into(),
        },
    ];
    let g = p.main_graph_mut();
    let mut ph = Vec::new();
    for (i, ty) in types.iter().take(8).enumerate() {
        ph.push(placeholder(g, &format!("in{i}"), ty.clone()));
    }
    // A placeholder with a custom node name: still a header parameter.
    let named = g.append(
        NodeBuilder::new(Op::Placeholder)
            .result("renamed", t(DType::I8, &[1]))
            .name("ph_node"),
    );
    let _ = named;
    let w = g.append(
        NodeBuilder::new(Op::GetAttr { target: "w".into() })
            .result("w", t(DType::F8E4M3FN, &[4, 0])),
    );
    // A placeholder after another node prints in the body.
    let late = placeholder(g, "late", Type::Str);
    let mut lit = NodeBuilder::call("test.literals")
        .args(literal_args(sub_id))
        .kwarg("alpha", Arg::Float(F64(2.0)))
        .kwarg("weird key", Arg::Int(3))
        .kwarg("None", Arg::None)
        .kwarg("input", v(g, w));
    for (i, ty) in types.iter().enumerate() {
        lit = lit.result(format!("r{i}"), ty.clone());
    }
    let l = g.append(lit);
    // No results; a target that needs quoting; an `output`-named op.
    g.append(
        NodeBuilder::call("mylib::side_effect")
            .args(vec![v(g, late)])
            .name("side"),
    );
    g.append(NodeBuilder::call("output").args(vec![]));
    // Recorded types, node named like nothing else, call with no args.
    let rt = g.append(NodeBuilder::call("mylib.rand.default").result("rand", t(DType::F32, &[2])));
    g.node_meta_mut(rt).recorded_types = true;
    let lres = g.node(l).results.clone();
    let outs = vec![
        Arg::Value(lres[0]),
        Arg::Value(lres[4]),
        v(g, rt),
        Arg::None,
        Arg::List(vec![v(g, ph[0]), Arg::Int(1)]),
        v(g, ph[7]),
        v(g, ph[0]),
    ];
    g.append(NodeBuilder::new(Op::Output).args(outs));
    p.signature.inputs = kinds;
    p.signature.outputs = vec![
        OutputKind::User,
        OutputKind::BufferMutation {
            target: "bn.running_mean".into(),
        },
        OutputKind::ParameterMutation { target: "w".into() },
        OutputKind::UserInputMutation { input: "x".into() },
        OutputKind::Loss,
        OutputKind::Gradient { target: "w".into() },
        OutputKind::Token,
    ];
    p
}

/// All hand-built programs, by name.
pub fn all() -> Vec<(&'static str, Program)> {
    vec![
        ("conv_relu", conv_relu()),
        ("multi_output", multi_output()),
        ("cond", cond_program()),
        ("everything", everything()),
    ]
}

/// Weights of a program, for `parse_program_with_weights`.
pub fn weights_of(p: &Program) -> IndexMap<String, Weight> {
    p.weights.clone()
}
