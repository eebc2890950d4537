//! Use lists stay exact under long sequences of edits, including values with long use lists
//! (which switch to an indexed representation past a threshold): after every edit the
//! verifier, which recomputes every use list from the arguments, must accept the graph.

use proptest::prelude::*;
use trtfx_ir::verify::verify_program;
use trtfx_ir::{
    static_shape, Arg, DType, DimSpec, Graph, InputKind, InputSpec, NodeBuilder, NodeId, Op,
    OutputKind, Program, Type,
};

fn t() -> Type {
    Type::tensor(DType::F32, static_shape(&[2]))
}

/// `x` and `w` placeholders, then `n` nodes each reading `w` (some twice) and `x`.
fn fan_out(n: usize) -> (Program, Vec<NodeId>) {
    let mut p = Program::new();
    for name in ["x", "w"] {
        p.signature
            .inputs
            .push(InputKind::User { name: name.into() });
        p.input_specs.push(InputSpec::Tensor {
            name: name.into(),
            dtype: DType::F32,
            dims: vec![DimSpec::Static(2)],
        });
    }
    p.signature.outputs.push(OutputKind::User);
    let g: &mut Graph = p.main_graph_mut();
    let x = g.append(NodeBuilder::new(Op::Placeholder).result("x", t()));
    let w = g.append(NodeBuilder::new(Op::Placeholder).result("w", t()));
    let (x, w) = (g.node(x).results[0], g.node(w).results[0]);
    let mut users = vec![];
    for i in 0..n {
        let mut args = vec![Arg::Value(w), Arg::Value(x)];
        if i % 3 == 0 {
            args.push(Arg::Value(w));
        }
        users.push(
            g.append(
                NodeBuilder::call("aten.add.Tensor")
                    .args(args)
                    .result(format!("u{i}"), t()),
            ),
        );
    }
    g.append(NodeBuilder::new(Op::Output).args(vec![Arg::Value(x)]));
    (p, users)
}

fn check(p: &Program) -> Result<(), TestCaseError> {
    verify_program(p, None).map_err(|d| TestCaseError::fail(format!("{d:?}")))
}

// Case count: proptest's default, or `PROPTEST_CASES` (CI sets a modest one).
proptest! {
    /// Removes, re-targets and re-adds users of a widely used value in random order.
    #[test]
    fn use_lists_survive_random_edits(
        n in 1usize..120,
        ops in proptest::collection::vec((0u8..3, any::<prop::sample::Index>()), 0..200),
    ) {
        let (mut p, mut users) = fan_out(n);
        let x = p.main_graph().input_values()[0];
        let w = p.main_graph().input_values()[1];
        for (kind, pick) in ops {
            if users.is_empty() {
                break;
            }
            let g = p.main_graph_mut();
            let i = pick.index(users.len());
            let u = users[i];
            match kind {
                // Remove the user.
                0 => {
                    g.remove_node(u).unwrap();
                    users.swap_remove(i);
                }
                // Re-point its arguments (drops and re-adds its uses of `w`).
                1 => {
                    let args = vec![Arg::Value(x), Arg::Value(w)];
                    g.set_args(u, args, vec![]);
                }
                // Add a new user of `w` before it.
                _ => {
                    let new = g.insert_before(
                        u,
                        NodeBuilder::call("aten.mul.Tensor")
                            .args(vec![Arg::Value(w), Arg::Value(w)])
                            .result(format!("m{}", g.node_capacity()), t()),
                    );
                    users.push(new);
                }
            }
            check(&p)?;
        }
        // Finally move every use of `w` over to `x`.
        let g = p.main_graph_mut();
        let moved = g.replace_all_uses(w, x);
        prop_assert_eq!(moved, users.len());
        prop_assert!(g.value(w).uses().is_empty());
        check(&p)?;
    }
}
