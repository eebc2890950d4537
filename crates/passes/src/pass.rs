//! The [`Pass`] trait, its outcome and errors, and the per-run context [`PassCx`].

use crate::analysis::{Analysis, AnalysisCache, AnalysisEvent};
use crate::options::PassOptions;
use crate::util::{node_effect, Effect};
use indexmap::IndexMap;
use std::any::TypeId;
use std::sync::Arc;
use std::time::Instant;
use trtfx_ir::{Graph, GraphId, NodeId, OpRegistry, Program};

/// A program transformation.
///
/// A pass works on the whole [`Program`]; graph-local passes iterate [`PassCx::graphs`], which
/// honours the enclosing adaptor (`each-subgraph(...)` limits it to subgraphs).
pub trait Pass: Send {
    /// The registered name (`cse`), used in pipelines, dumps, statistics and errors.
    fn name(&self) -> &str;

    /// The typed options with their defaults, printed back into pipeline text.
    fn options(&self) -> PassOptions {
        PassOptions::new()
    }

    /// Runs the pass. Report `changed=false` only if the program is exactly as before: the
    /// manager checks this with graph epochs ([`trtfx_ir::Graph::epoch`]) when verification is on.
    fn run(&mut self, program: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError>;
}

/// Which analyses a pass kept valid.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Preserved {
    /// Everything (the pass changed nothing, or nothing an analysis sees).
    All,
    /// Nothing.
    #[default]
    None,
    /// Exactly these analyses (by [`TypeId`]).
    Only(Vec<TypeId>),
}

impl Preserved {
    /// Only analysis `A`.
    pub fn only<A: 'static>() -> Self {
        Preserved::Only(vec![TypeId::of::<A>()])
    }

    /// Adds analysis `A` to the set.
    pub fn and<A: 'static>(self) -> Self {
        match self {
            Preserved::All => Preserved::All,
            Preserved::None => Preserved::only::<A>(),
            Preserved::Only(mut v) => {
                v.push(TypeId::of::<A>());
                Preserved::Only(v)
            }
        }
    }

    /// True if the analysis with this id is still valid.
    pub fn preserves(&self, id: TypeId) -> bool {
        match self {
            Preserved::All => true,
            Preserved::None => false,
            Preserved::Only(v) => v.contains(&id),
        }
    }
}

/// What a successful pass reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassOutcome {
    /// The program changed.
    pub changed: bool,
    /// Analyses still valid.
    pub preserved: Preserved,
}

impl PassOutcome {
    /// Nothing changed; every analysis stays valid.
    pub fn unchanged() -> Self {
        PassOutcome {
            changed: false,
            preserved: Preserved::All,
        }
    }

    /// The program changed; no analysis is kept.
    pub fn changed() -> Self {
        PassOutcome {
            changed: true,
            preserved: Preserved::None,
        }
    }

    /// [`PassOutcome::changed`] or [`PassOutcome::unchanged`].
    pub fn from_changed(changed: bool) -> Self {
        if changed {
            Self::changed()
        } else {
            Self::unchanged()
        }
    }
}

/// A pass failure, optionally anchored at a node.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", anchor.as_ref().map(|a| format!("\n  at {a}")).unwrap_or_default())]
pub struct PassError {
    /// What went wrong.
    pub message: String,
    /// Where: `@graph %node` (filled by [`PassError::at`]).
    pub anchor: Option<String>,
}

impl PassError {
    /// An error without a location.
    pub fn new(message: impl Into<String>) -> Self {
        PassError {
            message: message.into(),
            anchor: None,
        }
    }

    /// An error at node `n` of graph `g`.
    pub fn at(message: impl Into<String>, g: &Graph, n: NodeId) -> Self {
        PassError {
            message: message.into(),
            anchor: Some(format!("@{} node `{}`", g.name, g.node(n).name)),
        }
    }
}

/// The op registry a pass sees: the standard ATen registry or a user's extended copy.
#[derive(Clone)]
pub enum Ops {
    /// [`trtfx_ir::aten::registry`].
    Standard(&'static OpRegistry),
    /// A user registry (custom ops registered).
    Shared(Arc<OpRegistry>),
}

impl std::ops::Deref for Ops {
    type Target = OpRegistry;
    fn deref(&self) -> &OpRegistry {
        match self {
            Ops::Standard(r) => r,
            Ops::Shared(r) => r,
        }
    }
}

/// Which graphs graph-local passes visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GraphScope {
    /// Main graph and all subgraphs (the default).
    #[default]
    All,
    /// Only the subgraphs (inside `each-subgraph(...)`).
    Subgraphs,
}

/// What passes produce besides the program, by type: the partition report, built engines.
/// They live for one [`crate::PassManager::run`] and are handed back by
/// [`crate::PassManager::products`], so a pipeline's by-products (what `compile` turns into
/// an artifact) need no side channel outside the pass framework.
#[derive(Clone, Default)]
pub struct Products {
    map: IndexMap<TypeId, Arc<dyn std::any::Any + Send + Sync>>,
}

impl Products {
    /// Stores `value`, replacing an earlier product of its type.
    pub fn insert<T: std::any::Any + Send + Sync>(&mut self, value: T) {
        self.map.insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The product of type `T`, if a pass stored one.
    pub fn get<T: std::any::Any + Send + Sync>(&self) -> Option<&T> {
        self.map.get(&TypeId::of::<T>())?.downcast_ref()
    }

    /// Number of products.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no pass stored anything.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// What a pass gets besides the program: the op registry, the graphs in scope, cached
/// analyses, statistics counters and the pipeline's [`Products`].
pub struct PassCx {
    ops: Ops,
    pub(crate) scope: GraphScope,
    pub(crate) analyses: AnalysisCache,
    pub(crate) stats: IndexMap<String, u64>,
    pub(crate) analysis_events: Vec<AnalysisEvent>,
    pub(crate) products: Products,
    pub(crate) types_pending: Option<String>,
}

impl Default for PassCx {
    fn default() -> Self {
        Self::new(None)
    }
}

impl PassCx {
    /// A context with an op registry (for purity and inference); `None` means the standard
    /// ATen registry ([`trtfx_ir::aten::registry`]).
    pub fn new(ops: Option<Arc<OpRegistry>>) -> Self {
        PassCx {
            ops: match ops {
                Some(r) => Ops::Shared(r),
                None => Ops::Standard(trtfx_ir::aten::registry()),
            },
            scope: GraphScope::All,
            analyses: AnalysisCache::default(),
            stats: IndexMap::new(),
            analysis_events: Vec::new(),
            products: Products::default(),
            types_pending: None,
        }
    }

    /// The pipeline's products so far.
    pub fn products(&self) -> &Products {
        &self.products
    }

    /// The pipeline's products, to add one.
    pub fn products_mut(&mut self) -> &mut Products {
        &mut self.products
    }

    /// Declares that the pass left stored types that type inference will not reproduce until a
    /// later pass repairs them (`truncate-long-double` leaves segment boundaries to
    /// `repair-types`). Until [`PassCx::types_repaired`], the manager's `verify_types` check
    /// runs the structural verifier only; at the end of the pipeline it runs in full.
    pub fn defer_type_check(&mut self, why: impl Into<String>) {
        self.types_pending = Some(why.into());
    }

    /// Ends a [`PassCx::defer_type_check`].
    pub fn types_repaired(&mut self) {
        self.types_pending = None;
    }

    /// The op registry.
    pub fn ops(&self) -> &OpRegistry {
        &self.ops
    }

    /// A handle on the op registry that does not borrow the context (for passes that mutate
    /// the program while consulting the registry).
    pub fn ops_handle(&self) -> Ops {
        self.ops.clone()
    }

    /// The current graph scope.
    pub fn scope(&self) -> GraphScope {
        self.scope
    }

    /// The graphs a graph-local pass should visit, main first.
    pub fn graphs(&self, p: &Program) -> Vec<GraphId> {
        let mut ids: Vec<GraphId> = Vec::new();
        if self.scope == GraphScope::All {
            ids.push(p.main);
        }
        ids.extend(p.graphs.keys().filter(|&g| g != p.main));
        ids
    }

    /// Adds `n` to the current pass's counter `name` (shown by `--statistics`).
    pub fn stat(&mut self, name: &str, n: u64) {
        *self.stats.entry(name.to_string()).or_insert(0) += n;
    }

    /// The effect of node `n` of graph `g` (see [`crate::util::node_effect`]).
    pub fn effect(&self, p: &Program, g: &Graph, n: NodeId) -> Effect {
        node_effect(p, g, n, Some(self.ops()))
    }

    /// Analysis `A` of the program, computed on first request and cached until a pass does not
    /// preserve it.
    pub fn analysis<A: Analysis>(&mut self, p: &Program) -> Arc<A> {
        if let Some(a) = self.analyses.get::<A>() {
            return a;
        }
        let t0 = Instant::now();
        let a = Arc::new(A::compute(p, self));
        self.analysis_events.push(AnalysisEvent {
            name: A::NAME,
            elapsed: t0.elapsed(),
        });
        self.analyses.insert(a.clone());
        a
    }

    /// Number of cached analyses (for tests of invalidation).
    pub fn cached_analyses(&self) -> usize {
        self.analyses.len()
    }
}
