//! The pass manager: runs a [`Pipeline`] over a program with verification, change checks,
//! analysis invalidation, instrumentation, statistics and crash reproducers.

use crate::instrument::{Instrumentation, PassRun, Statistics, Timing};
use crate::pass::{GraphScope, PassCx, PassOutcome, Preserved};
use crate::pipeline::{Pipeline, PipelineItem};
use crate::registry::PassRegistry;
use crate::util::{fingerprint, print_ir, verify, ChangeStamp};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use trtfx_ir::{OpRegistry, Program};

/// Settings of a [`PassManager`].
#[derive(Clone, Debug)]
pub struct PassManagerOptions {
    /// Run the IR verifier after every pass that may have changed the program (default on).
    pub verify_each: bool,
    /// With `verify_each`, also re-run type inference and compare with the stored types
    /// (default off: inference coverage grows over time; the pass tests turn it on).
    pub verify_types: bool,
    /// Compare a [`ChangeStamp`] (graph epochs and program-level parts) around every pass
    /// and fail when a pass changed the program but reported `changed=false` or preserved
    /// every analysis. Costs O(#graphs + #weights) per pass. Defaults to `verify_each`.
    pub check_changes: Option<bool>,
    /// Decide "changed" by a full [`fingerprint`] (hash of the printed program) instead: it
    /// forgives a pass that mutated and then restored the IR, which the epoch stamp counts as
    /// a change. O(program size) per pass, so off by default. Neither check reads weight
    /// bytes, only weight names, dtypes and shapes.
    pub expensive_checks: bool,
    /// On failure, write the pipeline and the input program to this file.
    pub crash_reproducer: Option<PathBuf>,
    /// Collect per-pass statistics.
    pub statistics: bool,
    /// Collect timing.
    pub timing: bool,
}

impl Default for PassManagerOptions {
    fn default() -> Self {
        PassManagerOptions {
            verify_each: true,
            verify_types: false,
            check_changes: None,
            expensive_checks: false,
            crash_reproducer: None,
            statistics: false,
            timing: false,
        }
    }
}

/// Why a pipeline run failed. Every variant names the pass.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The pass returned an error.
    #[error("pass `{pass}` failed: {message}{}", reproducer_note(.reproducer))]
    PassFailed {
        /// The pass (with options).
        pass: String,
        /// Its error.
        message: String,
        /// Where the crash reproducer was written.
        reproducer: Option<PathBuf>,
    },
    /// The verifier rejected the program after the pass.
    #[error("verifier failed after pass `{pass}`: {message}{}", reproducer_note(.reproducer))]
    VerifyFailed {
        /// The pass (with options).
        pass: String,
        /// The verifier's diagnostics.
        message: String,
        /// Where the crash reproducer was written.
        reproducer: Option<PathBuf>,
    },
    /// The pass changed the program but reported otherwise.
    #[error("pass `{pass}` changed the IR but reported {claim}{}", reproducer_note(.reproducer))]
    UnreportedChange {
        /// The pass (with options).
        pass: String,
        /// What it claimed (`changed=false`, `preserved=all`).
        claim: String,
        /// Where the crash reproducer was written.
        reproducer: Option<PathBuf>,
    },
}

/// Compacts every graph with tombstones (`all`) or with more tombstones than live nodes.
/// Returns whether any graph was compacted.
fn compact_graphs(p: &mut Program, all: bool) -> bool {
    let mut compacted = false;
    for g in p.graphs.values_mut() {
        let dead = g.node_capacity() - g.len();
        if dead > 0 && (all || dead > g.len()) {
            g.compact();
            compacted = true;
        }
    }
    compacted
}

fn reproducer_note(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| format!("\n  crash reproducer written to {}", p.display()))
        .unwrap_or_default()
}

impl RunError {
    /// The failing pass.
    pub fn pass(&self) -> &str {
        match self {
            RunError::PassFailed { pass, .. }
            | RunError::VerifyFailed { pass, .. }
            | RunError::UnreportedChange { pass, .. } => pass,
        }
    }

    fn set_reproducer(&mut self, path: PathBuf) {
        match self {
            RunError::PassFailed { reproducer, .. }
            | RunError::VerifyFailed { reproducer, .. }
            | RunError::UnreportedChange { reproducer, .. } => *reproducer = Some(path),
        }
    }
}

/// Runs a pipeline.
///
/// ```
/// # use trtfx_passes::{PassManager, PassRegistry};
/// let reg = PassRegistry::with_builtins();
/// let pm = PassManager::parse(&reg, "dce,fixpoint{max=4}(canonicalize,cse)").unwrap();
/// assert_eq!(pm.pipeline().to_string(), "dce,fixpoint{max=4}(canonicalize,cse)");
/// ```
pub struct PassManager {
    pipeline: Pipeline,
    options: PassManagerOptions,
    ops: Option<Arc<OpRegistry>>,
    instrumentations: Vec<Box<dyn Instrumentation>>,
    timing: Option<Timing>,
    statistics: Statistics,
    products: crate::pass::Products,
}

impl PassManager {
    /// A manager for `pipeline` with default options.
    pub fn new(pipeline: Pipeline) -> Self {
        PassManager {
            pipeline,
            options: PassManagerOptions::default(),
            ops: None,
            instrumentations: Vec::new(),
            timing: None,
            statistics: Statistics::default(),
            products: Default::default(),
        }
    }

    /// Parses `text` with `registry` and makes a manager for it.
    pub fn parse(
        registry: &PassRegistry,
        text: &str,
    ) -> Result<Self, crate::pipeline::PipelineError> {
        Ok(Self::new(registry.parse_pipeline(text)?))
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Sets all options.
    pub fn with_options(mut self, options: PassManagerOptions) -> Self {
        self.options = options;
        self
    }

    /// Turns verification after each pass on or off.
    pub fn verify_each(mut self, on: bool) -> Self {
        self.options.verify_each = on;
        self
    }

    /// Also re-infers types after each pass (see [`PassManagerOptions::verify_types`]).
    pub fn verify_types(mut self, on: bool) -> Self {
        self.options.verify_types = on;
        self
    }

    /// Uses the full-fingerprint change check (see [`PassManagerOptions::expensive_checks`]).
    pub fn expensive_checks(mut self, on: bool) -> Self {
        self.options.expensive_checks = on;
        self
    }

    /// Gives passes an op registry (purity, inference) and the verifier its schemas.
    pub fn with_ops(mut self, ops: Arc<OpRegistry>) -> Self {
        self.ops = Some(ops);
        self
    }

    /// Writes a crash reproducer to `path` when the pipeline fails.
    pub fn crash_reproducer(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.crash_reproducer = Some(path.into());
        self
    }

    /// Collects timing (see [`PassManager::timing_report`]).
    pub fn enable_timing(mut self) -> Self {
        self.options.timing = true;
        self
    }

    /// Collects statistics (see [`PassManager::statistics`]).
    pub fn enable_statistics(mut self) -> Self {
        self.options.statistics = true;
        self
    }

    /// Adds an instrumentation; hooks run in insertion order before a pass and in reverse
    /// order after it.
    pub fn add_instrumentation(mut self, i: impl Instrumentation + 'static) -> Self {
        self.instrumentations.push(Box::new(i));
        self
    }

    /// What the passes of the last [`PassManager::run`] produced besides the program
    /// (the partition report, built engines).
    pub fn products(&self) -> &crate::pass::Products {
        &self.products
    }

    /// The products, mutable: what is inserted before [`PassManager::run`] is visible to the
    /// passes (a progress callback, say), and the run's products are added to it.
    pub fn products_mut(&mut self) -> &mut crate::pass::Products {
        &mut self.products
    }

    /// Statistics collected so far.
    pub fn statistics(&self) -> &Statistics {
        &self.statistics
    }

    /// The timing report (when timing is on), with or without the durations.
    pub fn timing_report(&self, show_times: bool) -> Option<String> {
        self.timing.as_ref().map(|t| t.report(show_times))
    }

    /// Runs the pipeline on `p`. On failure `p` holds the program as the failing pass left it.
    pub fn run(&mut self, p: &mut Program) -> Result<(), RunError> {
        let input = self.options.crash_reproducer.is_some().then(|| print_ir(p));
        if self.options.timing && self.timing.is_none() {
            self.timing = Some(Timing::new());
        }
        let mut pipeline = std::mem::take(&mut self.pipeline);
        let mut cx = PassCx::new(self.ops.clone());
        cx.products = std::mem::take(&mut self.products);
        let mut result = self.run_items(&mut pipeline.items, p, &mut cx, 0);
        if result.is_ok() {
            compact_graphs(p, true);
        }
        // A deferred type check (see `PassCx::defer_type_check`) that no pass ended.
        if let (Ok(_), Some(why)) = (&result, &cx.types_pending) {
            if self.options.verify_each && self.options.verify_types {
                if let Err(message) = verify(p, cx.ops(), true) {
                    result = Err(RunError::VerifyFailed {
                        pass: format!("end of pipeline ({why})"),
                        message,
                        reproducer: None,
                    });
                }
            }
        }
        self.products = std::mem::take(&mut cx.products);
        let text = pipeline.to_string();
        self.pipeline = pipeline;
        match result {
            Ok(_) => Ok(()),
            Err(mut e) => {
                if let (Some(path), Some(input)) = (&self.options.crash_reproducer, input) {
                    let body = format!("# RUN: {text}\n# failed: {}\n{input}", e.pass());
                    if std::fs::write(path, body).is_ok() {
                        e.set_reproducer(path.clone());
                    }
                }
                Err(e)
            }
        }
    }

    fn each_instr(&mut self, mut f: impl FnMut(&mut dyn Instrumentation)) {
        if let Some(t) = self.timing.as_mut() {
            f(t);
        }
        for i in self.instrumentations.iter_mut() {
            f(i.as_mut());
        }
    }

    fn each_instr_rev(&mut self, mut f: impl FnMut(&mut dyn Instrumentation)) {
        for i in self.instrumentations.iter_mut().rev() {
            f(i.as_mut());
        }
        if let Some(t) = self.timing.as_mut() {
            f(t);
        }
    }

    /// Runs steps; returns whether any pass reported a change.
    fn run_items(
        &mut self,
        items: &mut [PipelineItem],
        p: &mut Program,
        cx: &mut PassCx,
        depth: usize,
    ) -> Result<bool, RunError> {
        let mut changed = false;
        for item in items.iter_mut() {
            let head = item.head();
            match item {
                PipelineItem::Pass { .. } => {
                    changed |= self.run_pass(item, &head, p, cx, depth)?;
                }
                PipelineItem::Fixpoint { max, body, .. } => {
                    self.each_instr(|i| i.before_pipeline(&head, depth, p));
                    let mut iterations = 0u64;
                    let mut converged = false;
                    for _ in 0..*max {
                        iterations += 1;
                        if !self.run_items(&mut body.items, p, cx, depth + 1)? {
                            converged = true;
                            break;
                        }
                        changed = true;
                    }
                    self.each_instr_rev(|i| i.after_pipeline(&head, depth, p));
                    if self.options.statistics {
                        let mut c = indexmap::IndexMap::new();
                        c.insert("iterations".to_string(), iterations);
                        if !converged {
                            c.insert("not-converged".to_string(), 1);
                        }
                        self.statistics.merge("fixpoint", c);
                    }
                }
                PipelineItem::EachSubgraph { body } => {
                    self.each_instr(|i| i.before_pipeline(&head, depth, p));
                    let saved = cx.scope;
                    cx.scope = GraphScope::Subgraphs;
                    let r = self.run_items(&mut body.items, p, cx, depth + 1);
                    cx.scope = saved;
                    self.each_instr_rev(|i| i.after_pipeline(&head, depth, p));
                    changed |= r?;
                }
            }
        }
        Ok(changed)
    }

    fn run_pass(
        &mut self,
        item: &mut PipelineItem,
        head: &str,
        p: &mut Program,
        cx: &mut PassCx,
        depth: usize,
    ) -> Result<bool, RunError> {
        let PipelineItem::Pass { pass, .. } = item else {
            return Ok(false);
        };
        let name = pass.name().to_string();
        let run = PassRun {
            name: &name,
            text: head,
            depth,
        };
        let check = self
            .options
            .check_changes
            .unwrap_or(self.options.verify_each);
        let expensive = check && self.options.expensive_checks;
        let before = check.then(|| ChangeStamp::of(p));
        let before_print = expensive.then(|| fingerprint(p));
        self.each_instr(|i| i.before_pass(&run, p));
        cx.stats.clear();
        let t0 = Instant::now();
        let result = pass.run(p, cx);
        let elapsed = t0.elapsed();
        let events = std::mem::take(&mut cx.analysis_events);
        for ev in &events {
            self.each_instr(|i| i.analysis(&run, ev.name, ev.elapsed));
        }
        let fail = |this: &mut Self, p: &Program, e: RunError| -> RunError {
            let msg = e.to_string();
            this.each_instr_rev(|i| i.after_pass_failed(&run, p, &msg));
            this.each_instr_rev(|i| i.pass_time(&run, elapsed));
            e
        };
        // Taken before compaction below, which bumps epochs without changing the program.
        let after = check.then(|| ChangeStamp::of(p));
        let outcome: PassOutcome = match result {
            Ok(o) => o,
            Err(err) => {
                let e = RunError::PassFailed {
                    pass: head.to_string(),
                    message: err.to_string(),
                    reproducer: None,
                };
                return Err(fail(self, p, e));
            }
        };
        if self.options.statistics {
            let stats = std::mem::take(&mut cx.stats);
            self.statistics.merge(&name, stats);
        }
        // Compaction renumbers ids, so analyses holding ids are dropped with it. It costs a
        // pass over the graph, so it waits until tombstones outnumber live nodes (amortized
        // O(removed nodes)); `run` compacts what is left at the end.
        let compacted = compact_graphs(p, false);
        if compacted {
            cx.analyses.clear();
        } else {
            cx.analyses.invalidate(&outcome.preserved);
        }
        if let Some(before) = before {
            let claims_unchanged = !outcome.changed || outcome.preserved == Preserved::All;
            let changed = match before_print {
                Some(h) => h != fingerprint(p),
                None => after != Some(before),
            };
            if claims_unchanged && changed {
                let claim = if !outcome.changed {
                    "changed=false"
                } else {
                    "preserved=all"
                };
                let e = RunError::UnreportedChange {
                    pass: head.to_string(),
                    claim: claim.to_string(),
                    reproducer: None,
                };
                return Err(fail(self, p, e));
            }
        }
        // MLIR skips the verifier when everything is preserved: the IR cannot have changed.
        if self.options.verify_each && outcome.changed {
            let t0 = Instant::now();
            let types = self.options.verify_types && cx.types_pending.is_none();
            let r = verify(p, cx.ops(), types);
            let vt = t0.elapsed();
            self.each_instr(|i| i.verified(&run, vt));
            if let Err(message) = r {
                let e = RunError::VerifyFailed {
                    pass: head.to_string(),
                    message,
                    reproducer: None,
                };
                return Err(fail(self, p, e));
            }
        }
        self.each_instr_rev(|i| i.after_pass(&run, p, &outcome));
        self.each_instr_rev(|i| i.pass_time(&run, elapsed));
        Ok(outcome.changed)
    }
}
