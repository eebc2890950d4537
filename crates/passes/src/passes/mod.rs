//! The built-in passes.

pub mod canonicalize;
pub mod cse;
pub mod dce;
pub mod decompose;
pub mod fold;
pub mod infer_types;
pub mod params;

use crate::options::{OptionMap, OptionReader};
use crate::registry::PassRegistry;
use std::collections::HashSet;
use trtfx_ir::{Arg, Graph, NodeBuilder, NodeId, Op, Type, ValueId};

pub use canonicalize::Canonicalize;
pub use cse::Cse;
pub use dce::Dce;
pub use decompose::Decompose;
pub use fold::FoldConstants;
pub use infer_types::InferTypes;

/// Registers every built-in pass.
pub fn register_builtins(r: &mut PassRegistry) {
    fn no_options(name: &str, o: &OptionMap) -> Result<(), crate::options::OptionError> {
        OptionReader::new(name, o).finish()
    }
    r.register_pass("dce", "remove unused side-effect-free nodes", |o| {
        no_options("dce", o)?;
        Ok(Box::new(Dce))
    });
    r.register_pass("cse", "merge identical side-effect-free nodes", |o| {
        no_options("cse", o)?;
        Ok(Box::new(Cse))
    });
    r.register_pass(
        "fold-constants",
        "evaluate nodes whose inputs are all constants",
        |o| Ok(Box::new(FoldConstants::from_options(o)?)),
    );
    r.register_pass(
        "canonicalize",
        "local simplifications: view chains, no-op casts, identities, permutations",
        |o| {
            no_options("canonicalize", o)?;
            Ok(Box::new(Canonicalize))
        },
    );
    r.register_pass(
        "decompose",
        "rewrite export-IR composite ops to core ATen",
        |o| {
            no_options("decompose", o)?;
            Ok(Box::new(Decompose))
        },
    );
    r.register_pass(
        "infer-types",
        "recompute every value's type with the op registry's inference",
        |o| Ok(Box::new(InferTypes::from_options(o)?)),
    );
    params::register(r);
    // Without a backend, `partition` uses the ATen stand-in capability; the trtfx facade
    // registers the TensorRT converter registry's capability under the same name.
    crate::partition::register_partition(
        r,
        "aten",
        std::sync::Arc::new(crate::partition::AtenCapability),
    );
}

/// Hands out node/value names not yet used in a graph (`t`, `t_1`, `t_2`, ...).
pub(crate) struct Namer {
    used: HashSet<String>,
}

impl Namer {
    pub(crate) fn new(g: &Graph) -> Self {
        let mut used = HashSet::new();
        for n in g.nodes() {
            let d = g.node(n);
            used.insert(d.name.clone());
            for &r in &d.results {
                used.insert(g.value(r).name.clone());
            }
        }
        Namer { used }
    }

    pub(crate) fn fresh(&mut self, base: &str) -> String {
        if self.used.insert(base.to_string()) {
            return base.to_string();
        }
        for i in 1.. {
            let c = format!("{base}_{i}");
            if self.used.insert(c.clone()) {
                return c;
            }
        }
        unreachable!()
    }
}

/// The value a positional arg (or the named kwarg) refers to.
pub(crate) fn arg<'a>(g: &'a Graph, n: NodeId, pos: usize, name: &str) -> Option<&'a Arg> {
    let d = g.node(n);
    d.args.get(pos).or_else(|| d.kwarg(name))
}

/// The single result of a node.
pub(crate) fn result(g: &Graph, n: NodeId) -> Option<ValueId> {
    let r = &g.node(n).results;
    (r.len() == 1).then(|| r[0])
}

/// Inserts a call before `before` with one result named from `base`.
pub(crate) fn insert_call(
    g: &mut Graph,
    namer: &mut Namer,
    before: NodeId,
    target: &str,
    args: Vec<Arg>,
    base: &str,
    ty: Type,
) -> ValueId {
    let name = namer.fresh(base);
    let b = NodeBuilder::call(target).args(args).result(name, ty);
    let n = g.insert_before(before, b);
    g.node(n).results[0]
}

/// True when the node is a `call_function` of one of `targets`.
pub(crate) fn is_call(g: &Graph, n: NodeId, targets: &[&str]) -> bool {
    matches!(&g.node(n).op, Op::Call { target } if targets.contains(&target.as_str()))
}
