//! Instrumentation: hooks around passes and nested pipelines, with the built-ins `ir-opt`
//! exposes: IR printing (`--print-ir-*`), timing (`--timing`) and statistics (`--statistics`).

use crate::pass::PassOutcome;
use crate::util::{fingerprint, print_ir};
use indexmap::IndexMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use trtfx_ir::Program;

/// The pass being run, as instrumentation sees it.
#[derive(Clone, Debug)]
pub struct PassRun<'a> {
    /// Registered name (`fold-constants`).
    pub name: &'a str,
    /// Name with printed options (`fold-constants{max-elements=1024}`).
    pub text: &'a str,
    /// Nesting depth (0 at top level, 1 inside `fixpoint(...)`).
    pub depth: usize,
}

/// Hooks called by the [`crate::PassManager`]. Every method has an empty default.
pub trait Instrumentation: Send {
    /// A nested pipeline (`fixpoint{max=4}`, `each-subgraph`) starts.
    fn before_pipeline(&mut self, _name: &str, _depth: usize, _p: &Program) {}
    /// A nested pipeline ended.
    fn after_pipeline(&mut self, _name: &str, _depth: usize, _p: &Program) {}
    /// Before a pass runs.
    fn before_pass(&mut self, _pass: &PassRun<'_>, _p: &Program) {}
    /// After a pass succeeded (and the program verified).
    fn after_pass(&mut self, _pass: &PassRun<'_>, _p: &Program, _outcome: &PassOutcome) {}
    /// After a pass failed, or its result failed verification or the change check.
    fn after_pass_failed(&mut self, _pass: &PassRun<'_>, _p: &Program, _error: &str) {}
    /// An analysis was computed while `pass` ran.
    fn analysis(&mut self, _pass: &PassRun<'_>, _name: &str, _elapsed: Duration) {}
    /// The verifier ran after `pass`.
    fn verified(&mut self, _pass: &PassRun<'_>, _elapsed: Duration) {}
    /// A pass finished (success or not) after `elapsed`.
    fn pass_time(&mut self, _pass: &PassRun<'_>, _elapsed: Duration) {}
}

/// Where printed text goes: stderr, or a shared buffer (tests, the `ir-opt` driver).
#[derive(Clone, Debug, Default)]
pub enum Sink {
    /// Standard error.
    #[default]
    Stderr,
    /// A shared string buffer.
    Buffer(Arc<Mutex<String>>),
}

impl Sink {
    /// A new buffer sink and its handle.
    pub fn buffer() -> (Sink, Arc<Mutex<String>>) {
        let b = Arc::new(Mutex::new(String::new()));
        (Sink::Buffer(b.clone()), b)
    }

    /// Writes text.
    pub fn write(&self, s: &str) {
        match self {
            Sink::Stderr => eprint!("{s}"),
            Sink::Buffer(b) => {
                if let Ok(mut b) = b.lock() {
                    b.push_str(s);
                }
            }
        }
    }
}

/// When to print the IR (MLIR's `-mlir-print-ir-*` flags).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrintConfig {
    /// `--print-ir-before=PASS` (pass names).
    pub before: Vec<String>,
    /// `--print-ir-after=PASS`.
    pub after: Vec<String>,
    /// `--print-ir-before-all`.
    pub before_all: bool,
    /// `--print-ir-after-all`.
    pub after_all: bool,
    /// `--print-ir-after-change`: only after passes that changed the IR (by fingerprint).
    pub after_change: bool,
    /// `--print-ir-after-failure`.
    pub after_failure: bool,
}

/// Prints the IR around passes with MLIR-style headers
/// (`// -----// IR Dump After cse //----- //`).
pub struct IrPrinter {
    config: PrintConfig,
    sink: Sink,
    before_hash: Option<u64>,
}

impl IrPrinter {
    /// A printer writing to `sink`.
    pub fn new(config: PrintConfig, sink: Sink) -> Self {
        IrPrinter {
            config,
            sink,
            before_hash: None,
        }
    }

    fn dump(&self, what: &str, pass: &PassRun<'_>, p: &Program) {
        let mut s = format!("// -----// IR Dump {what} {} //----- //\n", pass.text);
        s.push_str(&print_ir(p));
        if !s.ends_with('\n') {
            s.push('\n');
        }
        s.push('\n');
        self.sink.write(&s);
    }

    fn wants_after(&self, name: &str) -> bool {
        self.config.after_all || self.config.after.iter().any(|x| x == name)
    }
}

impl Instrumentation for IrPrinter {
    fn before_pass(&mut self, pass: &PassRun<'_>, p: &Program) {
        if self.config.before_all || self.config.before.iter().any(|x| x == pass.name) {
            self.dump("Before", pass, p);
        }
        self.before_hash = self.config.after_change.then(|| fingerprint(p));
    }

    fn after_pass(&mut self, pass: &PassRun<'_>, p: &Program, _outcome: &PassOutcome) {
        let changed = self.before_hash.take().is_some_and(|h| h != fingerprint(p));
        if self.wants_after(pass.name) || changed {
            self.dump("After", pass, p);
        }
    }

    fn after_pass_failed(&mut self, pass: &PassRun<'_>, p: &Program, _error: &str) {
        self.before_hash = None;
        if self.config.after_failure || self.wants_after(pass.name) {
            self.dump("After Failure", pass, p);
        }
    }
}

#[derive(Default, Debug)]
struct TimerNode {
    name: String,
    kind: char, // 'P' pass or pipeline, 'A' analysis, 'V' verifier
    total: Duration,
    count: u64,
    children: Vec<usize>,
}

/// Wall-time per pass as a tree: nested pipelines contain their passes; analyses (`(A)`) and
/// the verifier (`(V)`) appear under the pass that triggered them. Repeated runs of the same
/// step (fixpoint iterations) are merged, with a run count.
#[derive(Debug)]
pub struct Timing {
    nodes: Vec<TimerNode>,
    stack: Vec<usize>,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            nodes: vec![TimerNode {
                name: "root".into(),
                kind: 'P',
                ..Default::default()
            }],
            stack: vec![0],
        }
    }
}

impl Timing {
    /// An empty timer.
    pub fn new() -> Self {
        Self::default()
    }

    fn child(&mut self, name: &str, kind: char) -> usize {
        let parent = *self.stack.last().unwrap_or(&0);
        if let Some(&c) = self.nodes[parent]
            .children
            .iter()
            .find(|&&c| self.nodes[c].name == name && self.nodes[c].kind == kind)
        {
            return c;
        }
        self.nodes.push(TimerNode {
            name: name.to_string(),
            kind,
            ..Default::default()
        });
        let id = self.nodes.len() - 1;
        self.nodes[parent].children.push(id);
        id
    }

    fn add(&mut self, name: &str, kind: char, d: Duration) {
        let c = self.child(name, kind);
        self.nodes[c].total += d;
        self.nodes[c].count += 1;
    }

    /// Renders the report. With `show_times=false` the durations are left out (stable
    /// snapshots).
    pub fn report(&self, show_times: bool) -> String {
        let total: Duration = self.nodes[0]
            .children
            .iter()
            .map(|&c| self.nodes[c].total)
            .sum();
        let mut s = String::new();
        let rule =
            "===-------------------------------------------------------------------------===";
        let _ = writeln!(s, "{rule}");
        let _ = writeln!(s, "                         ... Execution time report ...");
        let _ = writeln!(s, "{rule}");
        if show_times {
            let _ = writeln!(
                s,
                "  Total Execution Time: {:.4} seconds\n",
                total.as_secs_f64()
            );
            let _ = writeln!(s, "  ----Wall Time----  ----Name----");
        } else {
            let _ = writeln!(s, "  ----Name----");
        }
        self.render(0, 0, total, show_times, &mut s);
        if show_times {
            let _ = writeln!(s, "  {:>8.4} (100.0%)  Total", total.as_secs_f64());
        } else {
            let _ = writeln!(s, "  Total");
        }
        s
    }

    fn render(&self, id: usize, depth: usize, total: Duration, show: bool, s: &mut String) {
        for &c in &self.nodes[id].children {
            let n = &self.nodes[c];
            let prefix = match n.kind {
                'A' => "(A) ",
                'V' => "(V) ",
                _ => "",
            };
            let count = if n.count > 1 {
                format!(" ({} runs)", n.count)
            } else {
                String::new()
            };
            let indent = "  ".repeat(depth);
            if show {
                let pct = if total.is_zero() {
                    0.0
                } else {
                    100.0 * n.total.as_secs_f64() / total.as_secs_f64()
                };
                let _ = writeln!(
                    s,
                    "  {:>8.4} ({pct:>5.1}%)  {indent}{prefix}{}{count}",
                    n.total.as_secs_f64(),
                    n.name
                );
            } else {
                let _ = writeln!(s, "  {indent}{prefix}{}{count}", n.name);
            }
            self.render(c, depth + 1, total, show, s);
        }
    }
}

impl Instrumentation for Timing {
    fn before_pipeline(&mut self, name: &str, _depth: usize, _p: &Program) {
        let c = self.child(name, 'P');
        self.nodes[c].count += 1;
        self.stack.push(c);
    }

    fn after_pipeline(&mut self, _name: &str, _depth: usize, _p: &Program) {
        if self.stack.len() > 1 {
            let c = self.stack.pop().unwrap_or(0);
            let sum: Duration = self.nodes[c]
                .children
                .iter()
                .map(|&k| self.nodes[k].total)
                .sum();
            self.nodes[c].total = sum;
        }
    }

    fn before_pass(&mut self, pass: &PassRun<'_>, _p: &Program) {
        let c = self.child(pass.text, 'P');
        self.stack.push(c);
    }

    fn analysis(&mut self, _pass: &PassRun<'_>, name: &str, elapsed: Duration) {
        self.add(name, 'A', elapsed);
    }

    fn verified(&mut self, _pass: &PassRun<'_>, elapsed: Duration) {
        self.add("verifier", 'V', elapsed);
    }

    fn pass_time(&mut self, _pass: &PassRun<'_>, elapsed: Duration) {
        if let Some(c) = self.stack.pop() {
            self.nodes[c].total += elapsed;
            self.nodes[c].count += 1;
        }
    }
}

/// Per-pass counters reported with `PassCx::stat`, summed over runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Statistics {
    /// Pass name → counter name → value, in first-report order.
    pub per_pass: IndexMap<String, IndexMap<String, u64>>,
}

impl Statistics {
    /// Adds counters of one pass run.
    pub fn merge(&mut self, pass: &str, counters: IndexMap<String, u64>) {
        if counters.is_empty() {
            return;
        }
        let e = self.per_pass.entry(pass.to_string()).or_default();
        for (k, v) in counters {
            *e.entry(k).or_insert(0) += v;
        }
    }

    /// A counter's value (0 when never reported).
    pub fn get(&self, pass: &str, counter: &str) -> u64 {
        self.per_pass
            .get(pass)
            .and_then(|m| m.get(counter))
            .copied()
            .unwrap_or(0)
    }

    /// The MLIR-style report.
    pub fn report(&self) -> String {
        let rule =
            "===-------------------------------------------------------------------------===";
        let mut s =
            format!("{rule}\n                         ... Pass statistics report ...\n{rule}\n");
        for (pass, counters) in &self.per_pass {
            let _ = writeln!(s, "{pass}");
            for (k, v) in counters {
                let _ = writeln!(s, "  (S) {v} {k}");
            }
        }
        s
    }
}
