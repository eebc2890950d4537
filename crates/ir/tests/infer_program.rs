//! Whole-program inference on hand-built programs, checked against shapes computed by hand from
//! PyTorch's documented formulas.

mod infer_common;
use infer_common::*;
use trtfx_ir::aten::{check_program, infer_program, registry, InferError};
use trtfx_ir::{
    Arg, DType, Graph, InputKind, NodeBuilder, Op, OutputKind, Program, SymKind, Symbol, Type,
    ValueId, Weight,
};

/// Builds the main graph of a program; node results start untyped (`Type::None`) unless given.
struct B {
    p: Program,
}

impl B {
    fn new() -> Self {
        let mut p = Program::new();
        p.declare_symbol(
            "s0",
            Symbol {
                kind: SymKind::Size,
                min: Some(1),
                max: Some(64),
                hint: Some(2),
            },
        );
        p.declare_symbol(
            "s1",
            Symbol {
                kind: SymKind::Size,
                min: Some(2),
                max: Some(512),
                hint: Some(8),
            },
        );
        B { p }
    }
    fn g(&mut self) -> &mut Graph {
        self.p.main_graph_mut()
    }
    fn input(&mut self, name: &str, t: &str) -> ValueId {
        let n = self
            .g()
            .append(NodeBuilder::new(Op::Placeholder).result(name, ty(t)));
        self.p
            .signature
            .inputs
            .push(InputKind::User { name: name.into() });
        self.g().node(n).results[0]
    }
    fn param(&mut self, name: &str, shape: &[i64]) -> ValueId {
        let numel: i64 = shape.iter().product();
        self.p.weights.insert(
            name.into(),
            Weight::from_bytes(DType::F32, shape.to_vec(), vec![0u8; numel as usize * 4]),
        );
        // Recorded as untyped: the type must come from the weight.
        let n = self
            .g()
            .append(NodeBuilder::new(Op::Placeholder).result(name.replace('.', "_"), Type::None));
        self.p.signature.inputs.push(InputKind::Parameter {
            target: name.into(),
        });
        self.g().node(n).results[0]
    }
    fn get_attr(&mut self, name: &str, shape: &[i64]) -> ValueId {
        let numel: i64 = shape.iter().product();
        self.p.weights.insert(
            name.into(),
            Weight::from_bytes(DType::F32, shape.to_vec(), vec![0u8; numel as usize * 4]),
        );
        let n = self.g().append(
            NodeBuilder::new(Op::GetAttr {
                target: name.into(),
            })
            .result(name.replace('.', "_"), Type::None),
        );
        self.g().node(n).results[0]
    }
    fn call(&mut self, name: &str, op: &str, args: Vec<Arg>, nres: usize) -> Vec<ValueId> {
        let mut b = NodeBuilder::call(op).args(args).name(name);
        for i in 0..nres {
            let rn = if i == 0 {
                name.to_string()
            } else {
                format!("{name}_{i}")
            };
            b = b.result(rn, Type::None);
        }
        let n = self.g().append(b);
        self.g().node(n).results.to_vec()
    }
    fn call1(&mut self, name: &str, op: &str, args: Vec<Arg>) -> Arg {
        Arg::Value(self.call(name, op, args, 1)[0])
    }
    fn output(&mut self, outs: Vec<Arg>) {
        for _ in &outs {
            self.p.signature.outputs.push(OutputKind::User);
        }
        self.g().append(NodeBuilder::new(Op::Output).args(outs));
    }
    fn types(&self) -> Vec<(String, String)> {
        let g = self.p.main_graph();
        g.nodes()
            .flat_map(|n| g.node(n).results.to_vec())
            .map(|v| (g.value(v).name.clone(), g.ty(v).to_string()))
            .collect()
    }
}

fn a(v: ValueId) -> Arg {
    Arg::Value(v)
}

#[test]
fn conv_bn_relu_linear_with_symbolic_batch() {
    let mut b = B::new();
    let x = b.input("x", "f32[s0,3,32,32]");
    let w = b.param("conv.weight", &[8, 3, 3, 3]);
    let cb = b.param("conv.bias", &[8]);
    let bw = b.param("bn.weight", &[8]);
    let bb = b.param("bn.bias", &[8]);
    let rm = b.get_attr("bn.running_mean", &[8]);
    let rv = b.get_attr("bn.running_var", &[8]);
    let fw = b.param("fc.weight", &[10, 512]);
    let fb = b.param("fc.bias", &[10]);
    // conv2d(x, w, b, stride=2, padding=1): (32 + 2 - 2 - 1)//2 + 1 = 16
    let c = b.call1(
        "conv",
        "aten.conv2d.default",
        vec![a(x), a(w), a(cb), ints(&[2, 2]), ints(&[1, 1])],
    );
    let bn = b.call(
        "bn",
        "aten._native_batch_norm_legit_no_training.default",
        vec![c, a(bw), a(bb), a(rm), a(rv), f(0.1), f(1e-5)],
        3,
    );
    let r = b.call1("relu", "aten.relu.default", vec![a(bn[0])]);
    // max_pool2d(k=2): 16 -> 8
    let mp = b.call1("pool", "aten.max_pool2d.default", vec![r, ints(&[2, 2])]);
    let n = b.call1("sym_size_int", "aten.sym_size.int", vec![a(x), Arg::Int(0)]);
    let v = b.call1(
        "view",
        "aten.view.default",
        vec![mp, Arg::List(vec![n, Arg::Int(-1)])],
    );
    let l = b.call1("linear", "aten.linear.default", vec![v, a(fw), a(fb)]);
    b.output(vec![l]);

    let report = infer_program(&mut b.p, registry()).unwrap();
    assert_eq!(report.recorded, 0);
    insta::assert_snapshot!(b
        .types()
        .iter()
        .map(|(n, t)| format!("{n}: {t}"))
        .collect::<Vec<_>>()
        .join("\n"));
    let expected = [
        ("conv", "f32[s0,8,16,16]"),
        ("bn", "f32[s0,8,16,16]"),
        ("relu", "f32[s0,8,16,16]"),
        ("pool", "f32[s0,8,8,8]"),
        ("sym_size_int", "symint(s0)"),
        ("view", "f32[s0,512]"),
        ("linear", "f32[s0,10]"),
        ("conv_weight", "f32[8,3,3,3]"),
        ("bn_running_mean", "f32[8]"),
    ];
    let got = b.types();
    for (name, t) in expected {
        let g = got.iter().find(|(n, _)| n == name).unwrap();
        assert_eq!(g.1, t, "{name}");
    }

    // The inferred program checks clean; a corrupted record is reported at its node.
    let rep = check_program(&b.p, registry());
    assert!(rep.ok(), "{rep}");
    assert_eq!(rep.agree, rep.total);
    let g = b.p.main_graph_mut();
    let relu = g.nodes().find(|&n| g.node(n).name == "relu").unwrap();
    let rv = g.node(relu).results[0];
    g.set_ty(rv, ty("f32[s0,8,16,15]"));
    let rep = check_program(&b.p, registry());
    // Each node is checked from its inputs' *recorded* types: the corrupted value disagrees,
    // and so does its consumer (the pool reads the corrupted record).
    assert_eq!(rep.disagreements.len(), 2, "{rep}");
    assert_eq!(rep.disagreements[0].node, "relu");
    assert_eq!(rep.disagreements[1].node, "pool");
    assert_eq!(rep.agree + 2, rep.total);
    assert!(rep
        .to_string()
        .contains("recorded f32[s0,8,16,15], inferred f32[s0,8,16,16]"));
}

#[test]
fn attention_block() {
    let mut b = B::new();
    let x = b.input("x", "f32[s0,s1,64]");
    let wq = b.param("q.weight", &[64, 64]);
    let wk = b.param("k.weight", &[64, 64]);
    let wv = b.param("v.weight", &[64, 64]);
    let wo = b.param("o.weight", &[64, 64]);
    let lw = b.param("ln.weight", &[64]);
    let bsz = b.call1("sym_size_int", "aten.sym_size.int", vec![a(x), Arg::Int(0)]);
    let seq = b.call1(
        "sym_size_int_1",
        "aten.sym_size.int",
        vec![a(x), Arg::Int(1)],
    );
    let mut heads = Vec::new();
    for (nm, w) in [("q", wq), ("k", wk), ("v", wv)] {
        let l = b.call1(nm, "aten.linear.default", vec![a(x), a(w)]);
        let vw = b.call1(
            &format!("{nm}_view"),
            "aten.view.default",
            vec![
                l,
                Arg::List(vec![bsz.clone(), seq.clone(), Arg::Int(4), Arg::Int(16)]),
            ],
        );
        heads.push(b.call1(
            &format!("{nm}_t"),
            "aten.transpose.int",
            vec![vw, Arg::Int(1), Arg::Int(2)],
        ));
    }
    let att = b.call1(
        "sdpa",
        "aten.scaled_dot_product_attention.default",
        vec![heads[0].clone(), heads[1].clone(), heads[2].clone()],
    );
    let back = b.call1(
        "att_t",
        "aten.transpose.int",
        vec![att, Arg::Int(1), Arg::Int(2)],
    );
    let merged = b.call1(
        "merge",
        "aten.reshape.default",
        vec![back, Arg::List(vec![bsz, seq, Arg::Int(-1)])],
    );
    let o = b.call1("o", "aten.linear.default", vec![merged, a(wo)]);
    let res = b.call1("residual", "aten.add.Tensor", vec![o, a(x)]);
    let ln = b.call1(
        "ln",
        "aten.layer_norm.default",
        vec![res, ints(&[64]), a(lw)],
    );
    let sm = b.call1("probs", "aten.softmax.int", vec![ln.clone(), Arg::Int(-1)]);
    let am = b.call1("top", "aten.argmax.default", vec![sm, Arg::Int(-1)]);
    b.output(vec![ln, am]);

    infer_program(&mut b.p, registry()).unwrap();
    let got = b.types();
    let expected = [
        ("q", "f32[s0,s1,64]"),
        ("q_view", "f32[s0,s1,4,16]"),
        ("q_t", "f32[s0,4,s1,16]"),
        ("sdpa", "f32[s0,4,s1,16]"),
        ("att_t", "f32[s0,s1,4,16]"),
        ("merge", "f32[s0,s1,64]"),
        ("o", "f32[s0,s1,64]"),
        ("residual", "f32[s0,s1,64]"),
        ("ln", "f32[s0,s1,64]"),
        ("probs", "f32[s0,s1,64]"),
        ("top", "i64[s0,s1]"),
    ];
    for (name, t) in expected {
        let g = got.iter().find(|(n, _)| n == name).unwrap();
        assert_eq!(g.1, t, "{name}");
    }
    assert!(check_program(&b.p, registry()).ok());
}

#[test]
fn op_without_inference_and_without_types_is_an_error() {
    let mut b = B::new();
    let x = b.input("x", "f32[s0,3]");
    b.call1("my_op", "mylib.frobnicate.default", vec![a(x)]);
    let err = infer_program(&mut b.p, registry()).unwrap_err();
    assert_eq!(
        err,
        InferError::NoTypes {
            graph: "main".into(),
            node: "my_op".into(),
            op: "mylib.frobnicate.default".into()
        }
    );
    let msg = err.to_string();
    assert!(
        msg.contains("mylib.frobnicate.default") && msg.contains("my_op"),
        "{msg}"
    );
}

#[test]
fn op_without_inference_keeps_recorded_types() {
    let mut b = B::new();
    let x = b.input("x", "f32[s0,3]");
    let n = b.g().append(
        NodeBuilder::call("mylib.frobnicate.default")
            .args(vec![a(x)])
            .result("my_op", ty("f32[s0,7]")),
    );
    let out = b.g().node(n).results[0];
    let r = b.call1("relu", "aten.relu.default", vec![a(out)]);
    b.output(vec![r]);
    let report = infer_program(&mut b.p, registry()).unwrap();
    assert_eq!(report.recorded, 1);
    assert!(b.p.main_graph().node(n).meta.recorded_types);
    assert!(b.types().contains(&("relu".into(), "f32[s0,7]".into())));
}

#[test]
fn inference_failure_names_op_and_node() {
    let mut b = B::new();
    let x = b.input("x", "f32[4,5]");
    let y = b.input("y", "f32[6,7]");
    b.call1("bad_mm", "aten.mm.default", vec![a(x), a(y)]);
    let err = infer_program(&mut b.p, registry()).unwrap_err().to_string();
    assert!(
        err.contains("bad_mm") && err.contains("aten.mm.default") && err.contains("5 vs 6"),
        "{err}"
    );
}

#[test]
fn data_dependent_sizes_mint_unbacked_symbols() {
    let mut b = B::new();
    let x = b.input("x", "f32[s0,3]");
    let nz = b.call1("nz", "aten.nonzero.default", vec![a(x)]);
    let s = b.call1("cnt", "aten.sym_size.int", vec![nz, Arg::Int(0)]);
    let z = b.call1(
        "z",
        "aten.zeros.default",
        vec![Arg::List(vec![s, Arg::Int(2)])],
    );
    b.output(vec![z]);
    let report = infer_program(&mut b.p, registry()).unwrap();
    assert_eq!(report.minted, vec!["u0".to_string()]);
    assert_eq!(b.p.symbols["u0"].kind, SymKind::Unbacked);
    assert!(b.types().contains(&("z".into(), "f32[u0,2]".into())));
    // Re-running keeps the recorded symbol instead of minting another.
    let report = infer_program(&mut b.p, registry()).unwrap();
    assert!(report.minted.is_empty());
    assert!(check_program(&b.p, registry()).ok());
}

/// Eval-mode batch-norm statistics depend on the device PyTorch traced on: CPU gives empty `[0]`
/// tensors in the input dtype, CUDA per-channel `f32` (the computation dtype).
#[test]
fn batch_norm_eval_statistics_follow_the_device() {
    for cuda in [false, true] {
        let mut b = B::new();
        let x = b.input("x", "f16[s0,3,8,8]");
        let w = b.input("w", "f16[3]");
        let rm = b.input("rm", "f32[3]");
        if cuda {
            // The only trace of the device in the IR: a `device=` argument.
            b.g().append(
                NodeBuilder::call("aten.zeros.default")
                    .args(vec![ints(&[2])])
                    .kwarg("device", Arg::Device("cuda:0".into()))
                    .result("z", Type::None),
            );
        }
        let bn = b.call(
            "bn",
            "aten._native_batch_norm_legit_no_training.default",
            vec![a(x), a(w), a(w), a(rm), a(rm), f(0.1), f(1e-5)],
            3,
        );
        b.output(vec![a(bn[0])]);
        infer_program(&mut b.p, registry()).unwrap();
        let types = b.types();
        let stat = &types.iter().find(|(n, _)| n == "bn_1").unwrap().1;
        assert_eq!(stat, if cuda { "f32[3]" } else { "f16[0]" }, "cuda={cuda}");
    }
}

/// The body of `wrap_with_autocast(device_type, dtype, enabled, cache_enabled, body, *operands)`
/// runs `mm` (on autocast's lower-precision list) with its inputs cast to the region's dtype;
/// other ops keep their input dtypes.
#[test]
fn autocast_region_casts_lower_precision_ops() {
    for enabled in [true, false] {
        let mut b = B::new();
        let x = b.input("x", "f32[s0,3]");
        let mut body = Graph::new("submod_1");
        let n = body.append(NodeBuilder::new(Op::Placeholder).result("arg", ty("f32[s0,3]")));
        let arg = body.node(n).results[0];
        let n = body.append(
            NodeBuilder::call("aten.t.default")
                .args(vec![a(arg)])
                .result("t", Type::None),
        );
        let tt = body.node(n).results[0];
        let n = body.append(
            NodeBuilder::call("aten.mm.default")
                .args(vec![a(arg), a(tt)])
                .result("mm", Type::None),
        );
        let mm = body.node(n).results[0];
        let n = body.append(
            NodeBuilder::call("aten.relu.default")
                .args(vec![a(mm)])
                .result("relu", Type::None),
        );
        let relu = body.node(n).results[0];
        body.append(NodeBuilder::new(Op::Output).args(vec![a(relu), a(tt)]));
        let gid = b.p.add_graph(body);
        let out_ty = if enabled { "bf16[s0,s0]" } else { "f32[s0,s0]" };
        let n = b.g().append(
            NodeBuilder::call("higher_order.wrap_with_autocast")
                .args(vec![
                    Arg::Str("cpu".into()),
                    Arg::DType(DType::BF16),
                    Arg::Bool(enabled),
                    Arg::Bool(false),
                    Arg::Graph(gid),
                    a(x),
                ])
                .result("wrap", ty(out_ty))
                .result("wrap_1", ty("f32[3,s0]")),
        );
        let r = b.g().node(n).results[0];
        b.output(vec![a(r)]);
        let report = infer_program(&mut b.p, registry()).unwrap();
        assert_eq!(report.recorded, 1);
        let g = &b.p.graphs[gid];
        let got: Vec<String> = g
            .nodes()
            .flat_map(|n| g.node(n).results.to_vec())
            .map(|v| format!("{}: {}", g.value(v).name, g.ty(v)))
            .collect();
        let want = [
            "arg: f32[s0,3]".to_string(),
            "t: f32[3,s0]".to_string(),
            format!("mm: {out_ty}"),
            format!("relu: {out_ty}"),
        ];
        assert_eq!(got, want, "enabled={enabled}");
        assert!(check_program(&b.p, registry()).ok());
    }
}

/// A node without inference whose results are recorded next to `None` slots (the outputs of
/// `with_effects` / `auto_functionalized_v2`) keeps its types; it is not "untyped".
#[test]
fn none_slots_next_to_recorded_results_are_kept() {
    let mut b = B::new();
    let x = b.input("x", "f32[s0,3]");
    let n = b.g().append(
        NodeBuilder::call("higher_order.auto_functionalized_v2")
            .args(vec![Arg::OpRef("mylib.inplace_fill.default".into())])
            .kwarg("_all_bases", Arg::List(vec![a(x)]))
            .result("af", Type::None)
            .result("af_1", ty("f32[s0,3]")),
    );
    let r = b.g().node(n).results[1];
    let relu = b.call1("relu", "aten.relu.default", vec![a(r)]);
    b.output(vec![relu]);
    let report = infer_program(&mut b.p, registry()).unwrap();
    assert_eq!(report.recorded, 1);
    assert!(b.types().contains(&("relu".into(), "f32[s0,3]".into())));
}

/// Node-level inference (what `repair-types` and `fold-constants` ask) names a data-dependent
/// size as the node records it, whatever was inferred before on the same thread: the answer of
/// one program's node may not depend on the programs the thread saw earlier (the conformance
/// runner's compile-run used to fail on `masked_select` only when other cases ran first).
#[test]
fn node_inference_does_not_depend_on_earlier_programs() {
    let src = |sym: &str| {
        format!(
            "program {{\n  sym {sym}: unbacked in 0..=9223372036854775806\n  input \"x\": f32[3]\n  input \"m\": bool[3]\n\n  graph @main(%x: f32[3] = user \"x\", %m: bool[3] = user \"m\") -> (user) {{\n    %ms: f32[{sym}] = aten.masked_select.default(%x, %m)\n    output (%ms)\n  }}\n}}\n"
        )
    };
    let reg = registry();
    let node_of = |p: &Program| {
        let g = &p.graphs[p.main];
        let n = g
            .nodes()
            .find(|&n| g.node(n).op.target() == Some("aten.masked_select.default"))
            .unwrap();
        trtfx_ir::aten::infer_node(g, n, reg).unwrap().unwrap()
    };
    let fresh = trtfx_ir::text::parse_program(&src("u0")).unwrap();
    let want = node_of(&fresh);
    assert_eq!(want[0].to_string(), "f32[u0]");
    // Leave this thread's inference state behind a different program that mints symbols.
    let mut other = trtfx_ir::text::parse_program(&src("u7")).unwrap();
    infer_program(&mut other, reg).unwrap();
    let _ = node_of(&other);
    assert_eq!(node_of(&fresh), want);
    // Operand types overridden (as repair-types asks): still the recorded symbol.
    let g = &fresh.graphs[fresh.main];
    let n = g
        .nodes()
        .find(|&n| g.node(n).op.target().is_some())
        .unwrap();
    let got = trtfx_ir::aten::infer_node_with(g, n, reg, &|v| g.ty(v).clone())
        .unwrap()
        .unwrap();
    assert_eq!(got, want);
}
