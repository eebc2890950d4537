//! The interpreter runs `higher_order.while_loop` (and `call_graph`) subgraphs: a loop that
//! counts `i` to 3 and doubles `x` each time must return `(3, 8*x)`.

use trtfx_exec::interp::{Executor, Value};
use trtfx_exec::Tensor;
use trtfx_ir::{
    static_shape, Arg, DType, Graph, InputKind, NodeBuilder, Op, OutputKind, Program, Type, F64,
};

fn ty_i() -> Type {
    Type::tensor(DType::I64, static_shape(&[]))
}
fn ty_x() -> Type {
    Type::tensor(DType::F32, static_shape(&[2]))
}

/// A graph `(i, x) -> body(i, x)` built from `f`.
fn graph(name: &str, f: impl FnOnce(&mut Graph, Arg, Arg) -> Vec<Arg>) -> Graph {
    let mut g = Graph::new(name);
    let i = g.append(NodeBuilder::new(Op::Placeholder).result("i", ty_i()));
    let x = g.append(NodeBuilder::new(Op::Placeholder).result("x", ty_x()));
    let (i, x) = (
        Arg::Value(g.node(i).results[0]),
        Arg::Value(g.node(x).results[0]),
    );
    let outs = f(&mut g, i, x);
    g.append(NodeBuilder::new(Op::Output).args(outs));
    g
}

fn program() -> Program {
    let mut p = Program::new();
    let cond = p.add_graph(graph("cond_fn", |g, i, _| {
        let c = g.append(
            NodeBuilder::call("aten.lt.Scalar")
                .args(vec![i, Arg::Int(3)])
                .result("c", Type::tensor(DType::Bool, static_shape(&[]))),
        );
        vec![Arg::Value(g.node(c).results[0])]
    }));
    let body = p.add_graph(graph("body_fn", |g, i, x| {
        let j = g.append(
            NodeBuilder::call("aten.add.Tensor")
                .args(vec![i, Arg::Int(1)])
                .result("j", ty_i()),
        );
        let y = g.append(
            NodeBuilder::call("aten.mul.Tensor")
                .args(vec![x, Arg::Float(F64(2.0))])
                .result("y", ty_x()),
        );
        vec![
            Arg::Value(g.node(j).results[0]),
            Arg::Value(g.node(y).results[0]),
        ]
    }));
    let main = p.main;
    let g = &mut p.graphs[main];
    let i = g.append(NodeBuilder::new(Op::Placeholder).result("i0", ty_i()));
    let x = g.append(NodeBuilder::new(Op::Placeholder).result("x0", ty_x()));
    let carried = vec![
        Arg::Value(g.node(i).results[0]),
        Arg::Value(g.node(x).results[0]),
    ];
    let w = g.append(
        NodeBuilder::call("higher_order.while_loop")
            .args(vec![
                Arg::Graph(cond),
                Arg::Graph(body),
                Arg::List(carried),
                Arg::List(vec![]),
            ])
            .result("i_out", ty_i())
            .result("x_out", ty_x()),
    );
    let outs = g.node(w).results.iter().map(|&v| Arg::Value(v)).collect();
    g.append(NodeBuilder::new(Op::Output).args(outs));
    p.signature.inputs = vec![
        InputKind::User { name: "i0".into() },
        InputKind::User { name: "x0".into() },
    ];
    p.signature.outputs = vec![OutputKind::User, OutputKind::User];
    p
}

#[test]
fn while_loop_iterates_until_cond_is_false() {
    let p = program();
    let x = Tensor::from_vec(vec![1.0f32, -0.5], vec![2]).unwrap();
    let outs = Executor::new(&p)
        .run(&[Value::Tensor(Tensor::scalar(0i64)), Value::Tensor(x)])
        .unwrap();
    let i = match &outs[0] {
        Value::Tensor(t) => t.to_i64_vec(),
        other => panic!("{other:?}"),
    };
    assert_eq!(i, vec![3]);
    match &outs[1] {
        Value::Tensor(t) => assert_eq!(t.to_f64_vec(), vec![8.0, -4.0]),
        other => panic!("{other:?}"),
    }
    // Starting past the bound runs the body zero times.
    let x = Tensor::from_vec(vec![1.0f32, 2.0], vec![2]).unwrap();
    let outs = Executor::new(&p)
        .run(&[
            Value::Tensor(Tensor::scalar(5i64)),
            Value::Tensor(x.clone()),
        ])
        .unwrap();
    assert_eq!(outs[1], Value::Tensor(x));
}
