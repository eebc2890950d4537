//! Conversion through the op table's decompositions.
//!
//! An operator without a converter of its own but with a decomposition in the op table
//! (`aten.addcmul.default` → `mul`, `add`) converts when every node of its expansion does. The
//! node is expanded into a scratch graph that holds one placeholder per value it reads (typed
//! like the node's inputs), a copy of the node, and the calls its decomposition inserts in
//! front of the copy. The validator checks each inserted call with its own converter (or,
//! recursively, its own decomposition); the converter converts them inline, with the scratch
//! placeholders bound to the node's input tensors.

use std::collections::HashMap;
use trtfx_ir::ops::decomp::expand;
use trtfx_ir::{Arg, Graph, NodeBuilder, NodeId, Op, OpRegistry, Type, ValueId};

/// How deep decompositions may nest (a decomposition calling an op that decomposes, ...):
/// far more than any real one needs, and a bound on a table whose entries call themselves.
pub(crate) const MAX_DEPTH: usize = 8;

/// A node expanded by its decomposition into a scratch graph.
pub struct Expansion {
    /// Placeholders, the copied node, and in front of it the decomposition's calls.
    pub graph: Graph,
    /// Per value the node reads: the value in the node's graph and its scratch placeholder.
    pub inputs: Vec<(ValueId, ValueId)>,
    /// The copy of the decomposed node (not converted itself).
    pub node: NodeId,
    /// Per result of the node, what replaces it (a scratch value, or a literal).
    pub outs: Vec<Arg>,
}

impl Expansion {
    /// The decomposition's calls, in order.
    pub fn calls(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.graph
            .nodes()
            .filter(move |&n| n != self.node && matches!(self.graph.node(n).op, Op::Call { .. }))
    }
}

/// Expands call node `node` of `graph` with its decomposition in `reg`. `Ok(None)` when the
/// operator has none.
pub fn expand_node(
    graph: &Graph,
    node: NodeId,
    reg: &OpRegistry,
) -> Result<Option<Expansion>, String> {
    let data = graph.node(node);
    let Op::Call { target } = &data.op else {
        return Ok(None);
    };
    if reg.get(target).is_none_or(|d| d.decomposition.is_none()) {
        return Ok(None);
    }
    let mut g = Graph::new(format!("{}_decomposed", data.name));
    let mut map: HashMap<ValueId, ValueId> = HashMap::new();
    let mut inputs = vec![];
    for v in data.inputs() {
        if map.contains_key(&v) {
            continue;
        }
        let ph = g.append(
            NodeBuilder::new(Op::Placeholder)
                .name(graph.value(v).name.clone())
                .result(graph.value(v).name.clone(), graph.ty(v).clone()),
        );
        let s = g.node(ph).results[0];
        map.insert(v, s);
        inputs.push((v, s));
    }
    let remap = |a: &Arg| {
        let mut a = a.clone();
        a.map_values(&mut |v| map[&v]);
        a
    };
    let mut b = NodeBuilder::call(target.clone())
        .name(data.name.clone())
        .args(data.args.iter().map(remap).collect());
    for (k, a) in &data.kwargs {
        b = b.kwarg(k.clone(), remap(a));
    }
    for r in &data.results {
        b = b.result(graph.value(*r).name.clone(), graph.ty(*r).clone());
    }
    let copy = g.append(b);
    let Some(outs) = expand(&mut g, copy, reg)? else {
        return Ok(None);
    };
    Ok(Some(Expansion {
        graph: g,
        inputs,
        node: copy,
        outs,
    }))
}

/// Whether the expansion's result `got` can stand for a node result of type `want`: the
/// same dtype and rank, and the same extents where both are static.
pub(crate) fn fits(want: &Type, got: &Type) -> bool {
    match (want, got) {
        (Type::Tensor(w), Type::Tensor(g)) => {
            w.dtype == g.dtype
                && w.rank() == g.rank()
                && w.shape
                    .iter()
                    .zip(&g.shape)
                    .all(|(a, b)| a == b || a.as_const().is_none() || b.as_const().is_none())
        }
        (w, g) => w == g || trtfx_ir::aten::types_agree(w, g),
    }
}
