//! Pass manager behaviour: change checks, analysis caching, instrumentation, statistics,
//! timing and crash reproducers.

use std::sync::atomic::{AtomicUsize, Ordering};
use trtfx_ir::{parse_program, Program};
use trtfx_passes::pipeline::PipelineItem;
use trtfx_passes::{
    Analysis, IrPrinter, Pass, PassCx, PassError, PassManager, PassOutcome, PassRegistry, Pipeline,
    Preserved, PrintConfig, RunError, Sink,
};

fn program() -> Program {
    parse_program(
        "input \"x\": f32[2]\n\
         graph @main(%x: f32[2] = user \"x\") -> (user) {\n\
           %a: f32[2] = aten.relu.default(%x)\n\
           %b: f32[2] = aten.relu.default(%x)\n\
           %dead: f32[2] = aten.neg.default(%x)\n\
           %c: f32[2] = aten.add.Tensor(%a, %b)\n\
           output (%c)\n\
         }\n",
    )
    .unwrap()
}

/// Renames a node but claims nothing changed (or preserves everything).
struct Liar {
    claim_changed: bool,
}

impl Pass for Liar {
    fn name(&self) -> &str {
        "liar"
    }
    fn run(&mut self, p: &mut Program, _: &mut PassCx) -> Result<PassOutcome, PassError> {
        let g = p.main_graph_mut();
        let n = g.node_ids()[1];
        let v = g.node(n).results[0];
        g.set_value_name(v, "renamed");
        Ok(PassOutcome {
            changed: self.claim_changed,
            preserved: Preserved::All,
        })
    }
}

#[test]
fn misreported_change_is_caught() {
    for (claim_changed, claim) in [(false, "changed=false"), (true, "preserved=all")] {
        let mut pm = PassManager::new(Pipeline::new().with_pass(Liar { claim_changed }));
        let e = pm.run(&mut program()).unwrap_err();
        assert!(matches!(e, RunError::UnreportedChange { .. }));
        assert_eq!(
            e.to_string(),
            format!("pass `liar` changed the IR but reported {claim}")
        );
    }
    // With checks off, nothing is computed and nothing is caught.
    let mut pm = PassManager::new(Pipeline::new().with_pass(Liar {
        claim_changed: false,
    }))
    .verify_each(false);
    pm.run(&mut program()).unwrap();
}

/// Renames a value and renames it back, reporting no change.
struct Restorer;

impl Pass for Restorer {
    fn name(&self) -> &str {
        "restorer"
    }
    fn run(&mut self, p: &mut Program, _: &mut PassCx) -> Result<PassOutcome, PassError> {
        let g = p.main_graph_mut();
        let v = g.node(g.node_ids()[1]).results[0];
        let old = g.value(v).name.clone();
        g.set_value_name(v, "tmp");
        g.set_value_name(v, old);
        Ok(PassOutcome::unchanged())
    }
}

/// The default check compares graph epochs, so a mutation that is undone still counts as a
/// change; `expensive_checks` compares the printed program and accepts it.
#[test]
fn epoch_check_sees_undone_mutations_expensive_check_forgives_them() {
    let mut pm = PassManager::new(Pipeline::new().with_pass(Restorer));
    let e = pm.run(&mut program()).unwrap_err();
    assert!(matches!(e, RunError::UnreportedChange { .. }), "{e}");
    let mut pm = PassManager::new(Pipeline::new().with_pass(Restorer)).expensive_checks(true);
    pm.run(&mut program()).unwrap();
}

static COMPUTED: AtomicUsize = AtomicUsize::new(0);

struct Counted;
impl Analysis for Counted {
    const NAME: &'static str = "counted";
    fn compute(_: &Program, _: &mut PassCx) -> Self {
        COMPUTED.fetch_add(1, Ordering::SeqCst);
        Counted
    }
}

/// Requests `Counted`, then reports a (pretend) change preserving it or not.
struct UseAnalysis {
    keep: bool,
}
impl Pass for UseAnalysis {
    fn name(&self) -> &str {
        if self.keep {
            "use-keep"
        } else {
            "use-drop"
        }
    }
    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        cx.analysis::<Counted>(p);
        Ok(PassOutcome {
            changed: true,
            preserved: if self.keep {
                Preserved::only::<Counted>()
            } else {
                Preserved::None
            },
        })
    }
}

#[test]
fn analyses_are_cached_until_invalidated() {
    COMPUTED.store(0, Ordering::SeqCst);
    let pipeline = Pipeline::new()
        .with_pass(UseAnalysis { keep: true })
        .with_pass(UseAnalysis { keep: true })
        .with_pass(UseAnalysis { keep: false })
        .with_pass(UseAnalysis { keep: true });
    let mut pm = PassManager::new(pipeline).enable_timing();
    pm.run(&mut program()).unwrap();
    // keep, keep (cached), drop (cached, then dropped), keep (recomputed).
    assert_eq!(COMPUTED.load(Ordering::SeqCst), 2);
    insta::assert_snapshot!(pm.timing_report(false).unwrap(), @r"
    ===-------------------------------------------------------------------------===
                             ... Execution time report ...
    ===-------------------------------------------------------------------------===
      ----Name----
      use-keep (3 runs)
        (A) counted (2 runs)
        (V) verifier (3 runs)
      use-drop
        (V) verifier
      Total
    ");
}

#[test]
fn print_ir_after_change_and_statistics() {
    let reg = PassRegistry::with_builtins();
    let (sink, buf) = Sink::buffer();
    let config = PrintConfig {
        after_change: true,
        before: vec!["dce".into()],
        ..Default::default()
    };
    let mut pm = PassManager::parse(&reg, "cse,canonicalize,dce")
        .unwrap()
        .add_instrumentation(IrPrinter::new(config, sink))
        .enable_statistics();
    pm.run(&mut program()).unwrap();
    let dump = buf.lock().unwrap().clone();
    insta::assert_snapshot!(dump, @r#"
    // -----// IR Dump After cse //----- //
    program {
      input "x": f32[2]

      graph @main(%x: f32[2] = user "x") -> (user) {
        %a: f32[2] = aten.relu.default(%x)
        %dead: f32[2] = aten.neg.default(%x)
        %c: f32[2] = aten.add.Tensor(%a, %a)
        output (%c)
      }
    }

    // -----// IR Dump Before dce //----- //
    program {
      input "x": f32[2]

      graph @main(%x: f32[2] = user "x") -> (user) {
        %a: f32[2] = aten.relu.default(%x)
        %dead: f32[2] = aten.neg.default(%x)
        %c: f32[2] = aten.add.Tensor(%a, %a)
        output (%c)
      }
    }

    // -----// IR Dump After dce //----- //
    program {
      input "x": f32[2]

      graph @main(%x: f32[2] = user "x") -> (user) {
        %a: f32[2] = aten.relu.default(%x)
        %c: f32[2] = aten.add.Tensor(%a, %a)
        output (%c)
      }
    }
    "#);
    insta::assert_snapshot!(pm.statistics().report(), @r"
    ===-------------------------------------------------------------------------===
                             ... Pass statistics report ...
    ===-------------------------------------------------------------------------===
    cse
      (S) 1 nodes-merged
    dce
      (S) 1 nodes-removed
    ");
}

struct Fails;
impl Pass for Fails {
    fn name(&self) -> &str {
        "fails"
    }
    fn run(&mut self, p: &mut Program, _: &mut PassCx) -> Result<PassOutcome, PassError> {
        let g = p.main_graph();
        Err(PassError::at("cannot handle this", g, g.node_ids()[1]))
    }
}

#[test]
fn crash_reproducer_replays() {
    let dir = std::env::temp_dir().join(format!("trtfx-passes-repro-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("repro.fxir");
    let (sink, buf) = Sink::buffer();
    let mut pipeline = Pipeline::new();
    pipeline.push(PipelineItem::pass(trtfx_passes::passes::Cse));
    pipeline.push(PipelineItem::pass(Fails));
    let config = PrintConfig {
        after_failure: true,
        ..Default::default()
    };
    let mut pm = PassManager::new(pipeline)
        .crash_reproducer(&path)
        .add_instrumentation(IrPrinter::new(config, sink));
    let input = program();
    let e = pm.run(&mut input.clone()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "pass `fails` failed: cannot handle this\n  at @main node `a`\n  crash reproducer written to {}",
            path.display()
        )
    );
    assert!(buf
        .lock()
        .unwrap()
        .starts_with("// -----// IR Dump After Failure fails //----- //\n"));
    // The reproducer is the input program with the pipeline in its RUN line; it parses back.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("# RUN: cse,fails\n# failed: fails\n"),
        "{text}"
    );
    let replay = parse_program(&text).unwrap();
    assert!(replay == input);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn verifier_failure_names_the_pass() {
    /// Breaks the graph: an output referring to a removed value is impossible via the API, so
    /// duplicate a node name instead.
    struct Breaks;
    impl Pass for Breaks {
        fn name(&self) -> &str {
            "breaks"
        }
        fn run(&mut self, p: &mut Program, _: &mut PassCx) -> Result<PassOutcome, PassError> {
            let g = p.main_graph_mut();
            let ids = g.node_ids();
            g.set_node_name(ids[2], "a");
            Ok(PassOutcome::changed())
        }
    }
    let mut pm = PassManager::new(Pipeline::new().with_pass(Breaks));
    let e = pm.run(&mut program()).unwrap_err().to_string();
    assert!(e.starts_with("verifier failed after pass `breaks`:"), "{e}");
}

#[test]
fn each_subgraph_limits_scope() {
    struct Count(std::sync::Arc<AtomicUsize>);
    impl Pass for Count {
        fn name(&self) -> &str {
            "count"
        }
        fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
            self.0.store(cx.graphs(p).len(), Ordering::SeqCst);
            Ok(PassOutcome::unchanged())
        }
    }
    let n = std::sync::Arc::new(AtomicUsize::new(99));
    let mut inner = Pipeline::new();
    inner.push(PipelineItem::pass(Count(n.clone())));
    let mut pipeline = Pipeline::new();
    pipeline.push(PipelineItem::EachSubgraph { body: inner });
    assert_eq!(pipeline.to_string(), "each-subgraph(count)");
    PassManager::new(pipeline).run(&mut program()).unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 0);
}
