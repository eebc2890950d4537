//! `partition{backend=...,min-block-size=5,...}`: plans the main graph's segments with a
//! backend's capability ([`crate::partition::plan`]) and records the assignment as node
//! metadata (`{segment = 0, backend = "trt"}`); `outline-segments` then turns the segments into
//! subgraphs. The nodes not on the backend, with reasons, are stored as a
//! [`PartitionReport`] product.
//!
//! With `truncate-double=true` or `int64=int32`, the capability judges every node as
//! `truncate-long-double` will make it inside a segment (f64 as f32, i64 as i32), so it sees
//! the post-truncation types; with `int64=fallback`, nodes with i64 values are refused. With
//! `small-int=int32` it judges u8/i8/i16/u16 nodes as i32 nodes, likewise.

use crate::declare_options;
use crate::options::{OptionError, OptionSet, PassOptions};
use crate::partition::{
    plan, report, Capability, InProgram, PartitionOptions, Placement, SegmentPlan,
    SharedCapability, FALLBACK,
};
use crate::pass::{Pass, PassCx, PassError, PassOutcome};
use crate::passes::truncate::{
    small_int_bits, widening_is_exact, DoublePolicy, Int64Policy, SmallIntPolicy, Truncation,
};
use crate::registry::PassRegistry;
use trtfx_ir::{DType, Graph, NodeId, Op, Program, SegmentTag, Type};

/// The registered name.
pub const NAME: &str = "partition";

declare_options! {
    /// Options of `partition`.
    pub struct PartitionPassOptions {
        /// Backend id whose capability decides (empty: the registry's default backend).
        backend: String = "backend", String::new();
        /// Backend segments with fewer compute nodes fall back.
        min_block_size: usize = "min-block-size", 5;
        /// Operators forced to fallback.
        fallback_ops: Vec<String> = "fallback-ops", Vec::new();
        /// Fail unless every node goes to the backend.
        require_full_compilation: bool = "require-full-compilation", false;
        /// Judge f64 nodes as the f32 nodes truncate-long-double makes them.
        truncate_double: bool = "truncate-double", false;
        /// i64 policy truncate-long-double will apply (`native`, `int32`, `fallback`).
        int64: Int64Policy = "int64", Int64Policy::Native;
        /// Judge u8/i8/i16/u16 nodes as i32 nodes (`int32`) or as they are (`native`).
        small_int: SmallIntPolicy = "small-int", SmallIntPolicy::Native;
        /// Only print the plan to stderr; change nothing.
        dry_run: bool = "dry-run", false;
    }
}

/// One node not on the backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FallbackNode {
    /// Node name.
    pub node: String,
    /// Operator (or opcode).
    pub op: String,
    /// Why.
    pub reason: String,
}

/// What `partition` reports besides the node tags (a [`crate::pass::Products`] entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionReport {
    /// The backend id.
    pub backend: String,
    /// The partition settings.
    pub options: PartitionOptions,
    /// Nodes not on the backend, in program order of planning.
    pub unsupported: Vec<FallbackNode>,
    /// The printed report (`segment 0: trt (5 nodes)`...).
    pub text: String,
}

/// The `partition` pass.
pub struct PartitionPass {
    options: PartitionPassOptions,
    backend: String,
    capability: SharedCapability,
    /// The report of the last run (also written to stderr on a dry run).
    pub last_report: Option<String>,
}

/// Refuses nodes with i64 tensor values (`int64=fallback`).
struct NoInt64<'a>(&'a dyn Capability);

impl Capability for NoInt64<'_> {
    fn supports(&self, g: &Graph, n: NodeId) -> Result<(), String> {
        let node = g.node(n);
        let i64s = node
            .inputs()
            .into_iter()
            .chain(node.results.iter().copied())
            .any(|v| match g.ty(v) {
                Type::Tensor(t) => t.dtype == DType::I64,
                Type::List(inner) => inner.as_tensor().is_some_and(|t| t.dtype == DType::I64),
                _ => false,
            });
        if i64s {
            return Err("i64 values stay on the executor (int64=fallback)".into());
        }
        self.0.supports(g, n)
    }
}

/// Refuses nodes with u8/i8/i16/u16 values whose operator widening cannot compute exactly
/// (`small-int=int32`; [`widening_is_exact`]). It judges the program as it was before the
/// truncation view (`original`: same node ids), where the narrow types are still visible.
struct SmallIntOps<'a> {
    original: &'a Graph,
    inner: &'a dyn Capability,
}

impl Capability for SmallIntOps<'_> {
    fn supports(&self, g: &Graph, n: NodeId) -> Result<(), String> {
        let o = self.original;
        let node = o.node(n);
        let narrow = node
            .inputs()
            .into_iter()
            .chain(node.results.iter().copied())
            .find_map(|v| {
                let t = match o.ty(v) {
                    Type::Tensor(t) => Some(t),
                    Type::List(inner) => inner.as_tensor(),
                    _ => None,
                }?;
                small_int_bits(t.dtype).map(|_| t.dtype)
            });
        if let Some(d) = narrow {
            // A called graph's narrow nodes would be retyped without their wraps.
            let target = match &node.op {
                Op::Call { .. } => node.op.target().unwrap_or_default(),
                Op::CallGraph { .. } => "call_graph",
                _ => return self.inner.supports(g, n),
            };
            if !widening_is_exact(target) {
                return Err(format!(
                    "{d} values: {target} wraps around inside itself, which widening to i32 \
                     (small-int=int32) cannot repair"
                ));
            }
        }
        self.inner.supports(g, n)
    }
}

impl PartitionPass {
    /// The pass for declared options; the backend is looked up in `registry`.
    pub fn new(
        options: PartitionPassOptions,
        registry: &PassRegistry,
    ) -> Result<Self, OptionError> {
        let backend = if options.backend.is_empty() {
            registry.default_backend().unwrap_or_default().to_string()
        } else {
            options.backend.clone()
        };
        let Some(entry) = registry.backend(&backend) else {
            let known: Vec<String> = registry.backends().map(|(k, _)| format!("`{k}`")).collect();
            return Err(OptionError {
                pass: NAME.into(),
                option: "backend".into(),
                message: format!(
                    "pass `partition` has no backend `{backend}` registered (this registry has {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
                offset: None,
            });
        };
        Ok(PartitionPass {
            capability: entry.capability.clone(),
            backend,
            options,
            last_report: None,
        })
    }

    fn partition_options(&self) -> PartitionOptions {
        PartitionOptions {
            min_block_size: self.options.min_block_size,
            fallback_ops: self.options.fallback_ops.clone(),
            require_full_compilation: self.options.require_full_compilation,
        }
    }

    /// Plans the main graph of `p` as the pass does (post-truncation view included).
    pub fn plan(&self, p: &Program) -> Result<SegmentPlan, PassError> {
        let tr = Truncation::new(
            if self.options.truncate_double {
                DoublePolicy::F32
            } else {
                DoublePolicy::Native
            },
            self.options.int64,
        )
        .with_small_ints(self.options.small_int);
        let view;
        let judged = if tr.is_noop() {
            p
        } else {
            view = tr.view(p);
            &view
        };
        let cap = InProgram {
            capability: self.capability.as_ref(),
            program: judged,
        };
        let no_i64;
        let cap: &dyn Capability = if self.options.int64 == Int64Policy::Fallback {
            no_i64 = NoInt64(&cap);
            &no_i64
        } else {
            &cap
        };
        let small;
        let cap: &dyn Capability = if self.options.small_int == SmallIntPolicy::Int32 {
            small = SmallIntOps {
                original: &p.graphs[p.main],
                inner: cap,
            };
            &small
        } else {
            cap
        };
        plan(&judged.graphs[p.main], cap, &self.partition_options())
            .map_err(|e| PassError::new(e.to_string()))
    }
}

impl Pass for PartitionPass {
    fn name(&self) -> &str {
        NAME
    }

    fn options(&self) -> PassOptions {
        self.options.to_pass_options()
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let main = p.main;
        let g = &p.graphs[main];
        // Already outlined: the main graph only calls segments.
        if g.nodes().all(|n| !matches!(g.node(n).op, Op::Call { .. }))
            && g.nodes()
                .any(|n| matches!(g.node(n).op, Op::CallGraph { .. }))
        {
            return Ok(PassOutcome::unchanged());
        }
        let pl = self.plan(p)?;
        let g = &p.graphs[main];
        let text = report(g, &pl, &self.backend);
        cx.stat("segments", pl.segments.len() as u64);
        cx.stat(
            "backend-segments",
            pl.segments
                .iter()
                .filter(|s| s.placement == Placement::Backend)
                .count() as u64,
        );
        let unsupported = pl
            .reasons
            .iter()
            .map(|(&n, why)| {
                let node = g.node(n);
                FallbackNode {
                    node: node.name.clone(),
                    op: node.op.target().unwrap_or(node.op.opcode()).to_string(),
                    reason: why.clone(),
                }
            })
            .collect();
        cx.products_mut().insert(PartitionReport {
            backend: self.backend.clone(),
            options: self.partition_options(),
            unsupported,
            text: text.clone(),
        });
        if self.options.dry_run {
            eprint!("{text}");
            self.last_report = Some(text);
            return Ok(PassOutcome::unchanged());
        }
        self.last_report = Some(text);
        let g = &mut p.graphs[main];
        let mut changed = false;
        let mut tagged = vec![false; g.node_capacity()];
        for (i, s) in pl.segments.iter().enumerate() {
            let backend = match s.placement {
                Placement::Backend => self.backend.clone(),
                Placement::Fallback => FALLBACK.to_string(),
            };
            for &n in &s.nodes {
                tagged[n.as_u32() as usize] = true;
                let mut meta = g.node(n).meta.clone();
                meta.segment = Some(SegmentTag {
                    index: i as u32,
                    backend: backend.clone(),
                });
                changed |= meta != g.node(n).meta;
                g.set_node_meta(n, meta);
            }
        }
        // Stale tags of an earlier run on nodes no longer in a segment.
        for n in g.node_ids() {
            if !tagged[n.as_u32() as usize] && g.node(n).meta.segment.is_some() {
                let mut meta = g.node(n).meta.clone();
                meta.segment = None;
                g.set_node_meta(n, meta);
                changed = true;
            }
        }
        Ok(PassOutcome::from_changed(changed))
    }
}

/// Registers `partition` (the backends come from the registry, see
/// [`PassRegistry::register_backend`]).
pub fn register(r: &mut PassRegistry) {
    r.register_declared::<PartitionPassOptions>(
        NAME,
        "plan backend and fallback segments; record them as node metadata",
        |o, reg| Ok(Box::new(PartitionPass::new(o, reg)?)),
    );
}
