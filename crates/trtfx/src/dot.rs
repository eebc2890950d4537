//! Graphviz output of a program's main graph: one box per node, edges labelled with the tensor
//! type that flows along them, and outlined partitions coloured by backend (TensorRT segments
//! green, fallback segments orange), so a partition can be read at a glance.

use std::fmt::Write as _;
use trtfx_ir::{Op, Program};

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Renders the main graph of `p` as a `digraph`.
pub fn program_to_dot(p: &Program) -> String {
    let g = p.main_graph();
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", escape(&g.name));
    let _ = writeln!(
        out,
        "  rankdir=TB;\n  node [shape=box, fontname=\"monospace\", fontsize=10];"
    );
    for n in g.nodes() {
        let node = g.node(n);
        let (label, style) = match &node.op {
            Op::Placeholder => (format!("input {}", node.name), "shape=ellipse"),
            Op::GetAttr { target } => (format!("weight {target}"), "shape=note"),
            Op::Output => ("output".to_string(), "shape=ellipse"),
            Op::Call { target } => (format!("{}\\n{target}", node.name), ""),
            Op::CallGraph { graph } => {
                let callee = &p.graphs[*graph];
                let color = if callee.name.ends_with("_trt") {
                    "style=filled, fillcolor=\"#b7e1a1\""
                } else if callee.name.ends_with("_fallback") {
                    "style=filled, fillcolor=\"#f9c98b\""
                } else {
                    "style=filled, fillcolor=\"#dddddd\""
                };
                (
                    format!("{}\\n@{} ({} nodes)", node.name, callee.name, callee.len()),
                    color,
                )
            }
        };
        let _ = writeln!(
            out,
            "  n{} [label=\"{}\"{}{}];",
            n.as_u32(),
            escape(&label).replace("\\\\n", "\\n"),
            if style.is_empty() { "" } else { ", " },
            style
        );
    }
    for n in g.nodes() {
        g.node(n).for_each_input(|v| {
            let vd = g.value(v);
            let _ = writeln!(
                out,
                "  n{} -> n{} [label=\"{}\", fontsize=8];",
                vd.def.as_u32(),
                n.as_u32(),
                escape(&vd.ty.to_string())
            );
        });
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use trtfx_ir::{static_shape, Arg, DType, NodeBuilder, Type};

    #[test]
    fn dot_has_nodes_edges_and_types() {
        let mut p = Program::new();
        let t = Type::tensor(DType::F32, static_shape(&[2, 3]));
        let g = p.main_graph_mut();
        let x = g.append(NodeBuilder::new(Op::Placeholder).result("x", t.clone()));
        let xv = g.node(x).results[0];
        let r = g.append(
            NodeBuilder::call("aten.relu.default")
                .args(vec![Arg::Value(xv)])
                .result("r", t),
        );
        let rv = g.node(r).results[0];
        g.append(NodeBuilder::new(Op::Output).args(vec![Arg::Value(rv)]));
        let dot = program_to_dot(&p);
        assert!(dot.starts_with("digraph \"main\""));
        assert!(dot.contains("aten.relu.default"));
        assert!(dot.contains("label=\"f32[2,3]\""));
        assert_eq!(dot.matches(" -> ").count(), 2);
    }
}
