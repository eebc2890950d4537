//! Partitioning must not change what a program computes: every fixture model (both dialects)
//! is partitioned with [`AtenCapability`] at min-block-size 1 and 3, outlined, verified, run on
//! the CPU executor and compared with PyTorch's outputs (`tests/fixtures/NAME.io.safetensors`),
//! with the tolerances of `exec_fixtures.rs` (f32 rtol 1e-4 / atol 1e-5, integers exactly).

mod common;

use common::{assert_matches_goldens, fixtures};
use trtfx::ir::{Op, Program};
use trtfx::passes::partition::{outline, plan, AtenCapability, PartitionOptions, Placement};

/// Partitions and outlines the main graph; checks the outlined program's shape.
fn partition(program: &mut Program, min_block_size: usize, what: &str) {
    let opts = PartitionOptions {
        min_block_size,
        ..Default::default()
    };
    let main = program.main;
    let pl = plan(&program.graphs[main], &AtenCapability, &opts)
        .unwrap_or_else(|e| panic!("{what}: plan: {e}"));
    // Every TensorRT segment holds only nodes the capability accepts.
    let g = &program.graphs[main];
    for s in pl
        .segments
        .iter()
        .filter(|s| s.placement == Placement::Backend)
    {
        for &n in &s.nodes {
            assert!(
                matches!(&g.node(n).op, Op::Call { target } if target.starts_with("aten.")),
                "{what}: {} in a TensorRT segment",
                g.node(n).name
            );
        }
    }
    let created =
        outline(program, main, &pl, "trt").unwrap_or_else(|e| panic!("{what}: outline: {e}"));
    assert_eq!(
        created.len(),
        pl.segments.len(),
        "{what}: one subgraph per segment"
    );
    let mg = program.main_graph();
    assert!(
        mg.nodes()
            .all(|n| !matches!(mg.node(n).op, Op::Call { .. })),
        "{what}: calls left in the main graph after outlining"
    );
    let registry = trtfx::ir::aten::standard_registry();
    if let Err(d) = trtfx::ir::verify_program(program, Some(&registry)) {
        panic!(
            "{what}: outlined program does not verify:\n{}",
            trtfx::ir::verify::render(&d)
        );
    }
}

fn run_fixture(name: &str, dialect: &str) {
    let dir = fixtures();
    let archive = if dialect == "core" {
        dir.join(format!("{name}.core.pt2"))
    } else {
        dir.join(format!("{name}.pt2"))
    };
    let io = trtfx::io::read_io(&dir.join(format!("{name}.io.safetensors"))).expect("io file");
    for min_block_size in [1, 3] {
        let what = format!("{name} ({dialect}, min-block-size {min_block_size})");
        let mut program = trtfx::frontend::import_pt2(&archive)
            .unwrap_or_else(|e| panic!("import {}: {e}", archive.display()));
        partition(&mut program, min_block_size, &what);
        assert_matches_goldens(&program, &what, &io);
    }
}

macro_rules! fixture_tests {
    ($($name:ident),* $(,)?) => {
        mod export_ir {
            $(#[test] fn $name() { super::run_fixture(stringify!($name), "export"); })*
        }
        mod core_aten {
            $(#[test] fn $name() { super::run_fixture(stringify!($name), "core"); })*
        }
    };
}

fixture_tests!(
    cnn,
    mlp,
    transformer,
    customop,
    intmath,
    cond,
    mobilenet_v3_small,
    ops
);

/// With the TensorRT converter registry as capability (`partition{backend=trt}`, then
/// `outline-segments`), the pass
/// checks `higher_order.cond` against its branch graphs: the cond fixture, whose branches are
/// convertible, becomes one TensorRT segment holding the cond, and still computes PyTorch's
/// outputs.
#[test]
fn cond_joins_a_trt_segment_through_the_partition_pass() {
    let dir = fixtures();
    let io = trtfx::io::read_io(&dir.join("cond.io.safetensors")).expect("io file");
    for file in ["cond.pt2", "cond.core.pt2"] {
        let mut program = trtfx::frontend::import_pt2(dir.join(file)).expect("imports");
        let reg = trtfx::pass_registry();
        let mut pm = trtfx::passes::PassManager::parse(
            &reg,
            "partition{backend=trt,min-block-size=1},outline-segments",
        )
        .expect("pipeline parses");
        pm.run(&mut program).expect("partitions");
        let segments: Vec<&str> = program
            .graphs
            .values()
            .map(|g| g.name.as_str())
            .filter(|n| n.contains("_seg"))
            .collect();
        assert_eq!(segments, ["main_seg0_trt"], "{file}");
        let seg = program.graph_by_name("main_seg0_trt").expect("segment");
        let g = &program.graphs[seg];
        assert!(
            g.nodes()
                .any(|n| g.node(n).op.target() == Some("higher_order.cond")),
            "{file}: the cond is inside the TensorRT segment"
        );
        assert_matches_goldens(&program, file, &io);
    }
}
