//! The built-in passes.

pub mod autocast;
pub mod canonicalize;
pub mod cse;
pub mod dce;
pub mod decompose;
pub mod fold;
pub mod functionalize;
pub mod infer_types;
pub mod outline;
pub mod params;
pub mod partition;
pub mod repair_types;
pub mod truncate;

use crate::options::NoOptions;
use crate::registry::PassRegistry;
use trtfx_ir::{Arg, Graph, NodeBuilder, NodeId, Op, Type, ValueId};

pub use autocast::Autocast;
pub use canonicalize::Canonicalize;
pub use cse::Cse;
pub use dce::Dce;
pub use decompose::Decompose;
pub use fold::FoldConstants;
pub use infer_types::InferTypes;
pub use outline::OutlineSegments;
pub use partition::{PartitionPass, PartitionReport};
pub use repair_types::RepairTypes;
pub use truncate::TruncateLongDouble;

/// Registers every built-in pass, and the stand-in backend `aten` (every `aten.*` operator)
/// that `partition` uses when no real backend is registered.
pub fn register_builtins(r: &mut PassRegistry) {
    r.register_declared::<NoOptions>("dce", "remove unused side-effect-free nodes", |_, _| {
        Ok(Box::new(Dce))
    });
    r.register_declared::<NoOptions>("cse", "merge identical side-effect-free nodes", |_, _| {
        Ok(Box::new(Cse))
    });
    r.register_declared::<fold::FoldOptions>(
        "fold-constants",
        "evaluate calls whose operands are all constants (with the registry's evaluator)",
        |options, r| Ok(Box::new(FoldConstants::new(options, r.evaluator()))),
    );
    r.register_declared::<NoOptions>(
        "canonicalize",
        "local simplifications: view chains, no-op casts, identities, permutations",
        |_, _| Ok(Box::new(Canonicalize)),
    );
    r.register_declared::<NoOptions>(
        "functionalize",
        "rewrite in-place calls out of place, carrying writes through views back to their base",
        |_, _| Ok(Box::new(functionalize::Functionalize)),
    );
    r.register_declared::<NoOptions>(
        "decompose",
        "rewrite export-IR composite ops to core ATen",
        |_, _| Ok(Box::new(Decompose)),
    );
    r.register_pass(
        "infer-types",
        "recompute every value's type with the op registry's inference",
        |o| Ok(Box::new(InferTypes::from_options(o)?)),
    );
    params::register(r);
    r.register_backend(
        "aten",
        "stand-in: every aten.* operator, nothing else",
        std::sync::Arc::new(crate::partition::AtenCapability),
    );
    partition::register(r);
    r.register_declared::<truncate::TruncateOptions>(
        truncate::NAME,
        "f64 (and i64 under int64=int32) inside backend segments becomes 32-bit",
        |options, _| Ok(Box::new(TruncateLongDouble { options })),
    );
    r.register_declared::<NoOptions>(
        repair_types::NAME,
        "insert casts where segment boundaries disagree with type inference",
        |_, _| Ok(Box::new(RepairTypes)),
    );
    r.register_declared::<autocast::AutocastOptions>(
        autocast::NAME,
        "f32 inside backend segments becomes f16/bf16, sensitive ops stay f32 (policy table)",
        |options, r| Ok(Box::new(Autocast::new(options, r))),
    );
    r.register_declared::<NoOptions>(
        outline::NAME,
        "turn the segments partition recorded into called subgraphs",
        |_, _| Ok(Box::new(OutlineSegments)),
    );
}

/// Hands out node/value names not yet used in a graph (`t`, `t_1`, `t_2`, ...).
///
/// It keeps 64-bit hashes of the names in use rather than copies: building it is on the path
/// of every rewriting pass, and copying every name of a 10^6-node graph dominated them. A hash
/// collision can only make a free name look taken, so fresh names stay unique.
pub(crate) struct Namer {
    used: rustc_hash::FxHashSet<u64>,
}

fn name_hash(name: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    name.hash(&mut h);
    h.finish()
}

impl Namer {
    pub(crate) fn new(g: &Graph) -> Self {
        let mut used = rustc_hash::FxHashSet::default();
        used.reserve(2 * g.len());
        for n in g.nodes() {
            let d = g.node(n);
            used.insert(name_hash(&d.name));
            for &r in &d.results {
                used.insert(name_hash(&g.value(r).name));
            }
        }
        Namer { used }
    }

    pub(crate) fn fresh(&mut self, base: &str) -> String {
        if self.used.insert(name_hash(base)) {
            return base.to_string();
        }
        for i in 1.. {
            let c = format!("{base}_{i}");
            if self.used.insert(name_hash(&c)) {
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
