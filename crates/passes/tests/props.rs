//! Properties on random well-typed programs (`trtfx_ir::testgen`): the verifier holds after
//! every pass, and every pass is idempotent (a second run reports `changed=false`).

use proptest::prelude::*;
use trtfx_ir::testgen::{arb_program, GenConfig};
use trtfx_passes::{PassCx, PassManager, PassRegistry};

const PASSES: &[&str] = &["dce", "cse", "canonicalize", "fold-constants", "decompose"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn verifier_holds_and_passes_are_idempotent(p in arb_program(GenConfig::default())) {
        let reg = PassRegistry::with_builtins();
        for name in PASSES {
            let mut q = p.clone();
            let mut pm = PassManager::parse(&reg, name).unwrap();
            if let Err(e) = pm.run(&mut q) {
                panic!("{e}\n{}", trtfx_ir::print_program(&p));
            }
            let mut pass = reg.create(name, &Default::default()).unwrap();
            let mut cx = PassCx::default();
            let out = pass.run(&mut q, &mut cx).unwrap();
            prop_assert!(!out.changed, "`{}` is not idempotent on\n{}", name, trtfx_ir::print_program(&p));
        }
        // The whole cleanup pipeline, including the change check on every pass.
        let mut q = p.clone();
        let mut pm = PassManager::parse(&reg, "fixpoint{max=4}(canonicalize,fold-constants,cse,dce)").unwrap();
        pm.run(&mut q).unwrap();
    }
}
