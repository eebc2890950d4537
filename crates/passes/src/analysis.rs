//! Analyses: lazily computed facts about the program, cached by [`TypeId`] and dropped when a
//! pass does not list them in its [`Preserved`] set (MLIR's analysis manager).

use crate::pass::{PassCx, Preserved};
use indexmap::IndexMap;
use std::any::{Any, TypeId};
use std::sync::Arc;
use std::time::Duration;
use trtfx_ir::{GraphId, Op, Program};

/// A fact computed from the program. Analyses may request other analyses through `cx`; they
/// are cached in request order, so dependencies sit before their users.
pub trait Analysis: Any + Send + Sync + Sized {
    /// Name shown in timing reports (`(A) op-histogram`).
    const NAME: &'static str;
    /// Computes the analysis.
    fn compute(p: &Program, cx: &mut PassCx) -> Self;
}

/// An analysis computation, reported to instrumentation (timing).
#[derive(Clone, Debug)]
pub struct AnalysisEvent {
    /// Analysis name.
    pub name: &'static str,
    /// Time spent computing it.
    pub elapsed: Duration,
}

type Entry = (&'static str, Arc<dyn Any + Send + Sync>);

/// Cached analyses by type, in insertion order.
#[derive(Default)]
pub struct AnalysisCache {
    entries: IndexMap<TypeId, Entry>,
}

impl AnalysisCache {
    /// The cached analysis `A`, if valid.
    pub fn get<A: Analysis>(&self) -> Option<Arc<A>> {
        let (_, a) = self.entries.get(&TypeId::of::<A>())?;
        a.clone().downcast::<A>().ok()
    }

    /// Caches `a`.
    pub fn insert<A: Analysis>(&mut self, a: Arc<A>) {
        self.entries.insert(TypeId::of::<A>(), (A::NAME, a));
    }

    /// Drops every analysis not preserved. A preserved analysis computed after (hence possibly
    /// from) a dropped one is dropped too: dependencies are inserted before their users, so
    /// one sweep in order is enough.
    pub fn invalidate(&mut self, preserved: &Preserved) {
        if *preserved == Preserved::All {
            return;
        }
        let mut dropped_any = false;
        self.entries.retain(|id, _| {
            let keep = !dropped_any && preserved.preserves(*id);
            dropped_any |= !keep;
            keep
        });
    }

    /// Drops everything (after compaction renumbered ids).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Number of cached analyses.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Names of cached analyses in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.values().map(|(n, _)| *n).collect()
    }
}

/// How many `call_function` nodes call each operator, per graph. Passes use it to skip graphs
/// quickly (`decompose` on a graph with nothing to decompose).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OpHistogram {
    /// Per graph: operator name → call count.
    pub per_graph: IndexMap<GraphId, IndexMap<String, usize>>,
}

impl OpHistogram {
    /// True if graph `g` calls any operator for which `pred` holds.
    pub fn any(&self, g: GraphId, pred: impl Fn(&str) -> bool) -> bool {
        self.per_graph
            .get(&g)
            .is_some_and(|m| m.keys().any(|k| pred(k)))
    }
}

impl Analysis for OpHistogram {
    const NAME: &'static str = "op-histogram";
    fn compute(p: &Program, _cx: &mut PassCx) -> Self {
        let mut per_graph = IndexMap::new();
        for (gid, g) in p.graphs.iter() {
            let mut m: IndexMap<String, usize> = IndexMap::new();
            for n in g.nodes() {
                if let Op::Call { target } = &g.node(n).op {
                    *m.entry(target.clone()).or_insert(0) += 1;
                }
            }
            per_graph.insert(gid, m);
        }
        OpHistogram { per_graph }
    }
}
