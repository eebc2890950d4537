//! A 10k-node graph finishes within the pass's default limits in under a second (the time
//! bound is asserted in optimized builds only: `cargo test --release -p trtfx-rewrite --test
//! scale -- --nocapture`; debug builds print the time).
//!
//! The graph repeats an attention-like block of layout noise: permute/transpose pairs,
//! view/reshape chains, double negations, `x*1`, cast round trips and a matmul with a
//! transposed weight, each block feeding the next.

use std::time::Instant;
use trtfx_passes::{PassManager, PassRegistry};

fn block_program(blocks: usize) -> String {
    let mut s = String::from(
        "input \"x\": f32[8,16]\nweight \"w\": f32[16,16]\nweight \"b\": f32[16]\n\
         graph @main(%x: f32[8,16] = user \"x\", %w: f32[16,16] = param \"w\", %b: f32[16] = param \"b\") -> (user) {\n",
    );
    let mut cur = "x".to_string();
    for i in 0..blocks {
        let lines = [
            format!("  %p{i}: f32[16,8] = aten.permute.default(%{cur}, [1, 0])"),
            format!("  %q{i}: f32[8,16] = aten.transpose.int(%p{i}, 0, 1)"),
            format!("  %v{i}: f32[128] = aten.view.default(%q{i}, [128])"),
            format!("  %r{i}: f32[2,4,16] = aten.reshape.default(%v{i}, [2, 4, 16])"),
            format!("  %s{i}: f32[8,16] = aten.view.default(%r{i}, [8, 16])"),
            format!("  %n{i}: f32[8,16] = aten.neg.default(%s{i})"),
            format!("  %m{i}: f32[8,16] = aten.neg.default(%n{i})"),
            format!("  %o{i}: f32[8,16] = aten.mul.Tensor(%m{i}, 1)"),
            format!("  %c{i}: f64[8,16] = aten._to_copy.default(%o{i}, dtype=f64)"),
            format!("  %d{i}: f32[8,16] = aten._to_copy.default(%c{i}, dtype=f32)"),
            format!("  %wt{i}: f32[16,16] = aten.permute.default(%w, [1, 0])"),
            format!("  %a{i}: f32[8,16] = aten.addmm.default(%b, %d{i}, %wt{i})"),
            format!("  %t{i}: f32[8,16] = aten.tanh.default(%a{i})"),
        ];
        for l in lines {
            s.push_str(&l);
            s.push('\n');
        }
        cur = format!("t{i}");
    }
    s.push_str(&format!("  output (%{cur})\n}}\n"));
    s
}

#[test]
fn ten_thousand_nodes_within_default_limits() {
    let src = block_program(770); // 13 calls per block: 10,010 calls
    let mut p = trtfx_ir::parse_program(&src).expect("generated program parses");
    let before = p.graphs[p.main].len();
    assert!(before >= 10_000, "{before} nodes");
    let mut reg = PassRegistry::with_builtins();
    trtfx_rewrite::register(&mut reg);
    let mut pm = PassManager::parse(&reg, "rewrite")
        .unwrap()
        .verify_each(false)
        .enable_statistics();
    let t0 = Instant::now();
    pm.run(&mut p).expect("rewrite runs");
    let dt = t0.elapsed();
    let stats = &pm.statistics().per_pass;
    let counters: Vec<String> = stats
        .iter()
        .flat_map(|(_, c)| c.iter().map(|(k, v)| format!("{k}={v}")))
        .collect();
    let after = p.graphs[p.main].len();
    eprintln!(
        "10k-node graph: {before} -> {after} nodes in {:.1} ms; {}",
        dt.as_secs_f64() * 1e3,
        counters.join(" ")
    );
    let c = |k: &str| {
        stats
            .iter()
            .flat_map(|(_, c)| c.iter())
            .find(|(n, _)| n.as_str() == k)
            .map(|(_, v)| *v)
    };
    // Saturated (not cut off by a limit) and every block's noise removed: a block becomes
    // linear + tanh.
    assert_eq!(c("stop-saturated"), Some(1), "{counters:?}");
    assert_eq!(after, before - 770 * 11, "{counters:?}");
    trtfx_passes::util::verify(&p, trtfx_ir::aten::registry(), true).expect("verifies");
    #[cfg(not(debug_assertions))]
    assert!(dt.as_secs_f64() < 1.0, "took {dt:?}");
}
