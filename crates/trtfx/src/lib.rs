//! `trtfx`: the library facade over the trtfx crates.
//!
//! - [`frontend`] imports `.pt2` archives; [`ir`] is the IR; [`passes`] transforms it;
//!   [`exec`] runs it on CPU; [`backend`] converts to TensorRT.
//! - [`pass_registry`] is the pass registry with every built-in pass, the one `ir-opt` uses.
//! - [`io`] reads and writes the `in_N`/`out_N` safetensors files and compares outputs.
//! - [`conform`] runs the OpInfo conformance corpus (`tests/conformance/`) and reports coverage.
//! - [`dot`] renders graphs for Graphviz.
//! - [`oplib`] loads op libraries (custom operators' schemas and bodies, from `.pt2` or
//!   `.fxir`); [`compile_with_libraries`] compiles with them and the artifact embeds them.
//! - [`ops_table`] is the op table as `ir-opt ops` and `docs/ops.md` show it.
//! - [`store`] saves and loads programs (`.json`, or `.fxir` with a weights sidecar).
//! - [`compile()`] turns a program into a [`CompiledProgram`] by running the registered
//!   `compile{...}` pipeline: preparation passes, partitioning with the TensorRT converters as
//!   capability, truncation and boundary casts, outlining, a recorded network and (with
//!   TensorRT) a plan per TensorRT segment.
//! - [`artifact`]: [`CompiledProgram::save`]/[`CompiledProgram::load`] the `.trtfx` zip and
//!   [`CompiledProgram::run`] it (TensorRT segments on the layer emulator, the rest on `exec`).

pub mod artifact;
pub mod compile;
pub mod conform;
pub mod dot;
pub mod io;
pub mod oplib;
pub mod ops_table;
pub mod refit;
pub mod store;

pub use artifact::{ArtifactError, Manifest, RunOutput, Runtime, FORMAT_VERSION};
pub use compile::{
    compile, compile_with_libraries, compile_with_progress, CompileError, CompileSettings,
    CompiledProgram, CompiledSegment, Int64Policy, Precision, SegmentBackend, SmallIntPolicy,
    TrtSegment, UnsupportedNode,
};
pub use store::{load_program, save_program};

pub use trtfx_backend_trt as backend;
pub use trtfx_exec as exec;
pub use trtfx_frontend_fx as frontend;
pub use trtfx_ir as ir;
pub use trtfx_passes as passes;

/// The pass registry with every built-in pass and named pipeline, plus the TensorRT backend:
/// the `trt` backend (the converter registry as capability, the default of `partition`) and
/// its `build-engines` pass, so `compile{...}` ends with building engines; the
/// equality-saturation `rewrite` pass (`trtfx-rewrite`); and the executor's kernels as the
/// constant evaluator of `fold-constants`.
pub fn pass_registry() -> trtfx_passes::PassRegistry {
    pass_registry_with(trtfx_backend_trt::convert::ConverterRegistry::standard())
}

/// [`pass_registry`] whose `trt` backend and `build-engines` pass look custom operators up in
/// `ops` (the standard registry extended by op libraries, [`oplib::OpLibraries::registry`]),
/// so a custom operator whose library body converts is taken by TensorRT and inlined into the
/// network. Pair it with `PassManager::with_ops(ops)`.
pub fn pass_registry_with_ops(
    ops: std::sync::Arc<trtfx_ir::OpRegistry>,
) -> trtfx_passes::PassRegistry {
    pass_registry_with(trtfx_backend_trt::convert::ConverterRegistry::standard().with_ops(ops))
}

fn pass_registry_with(
    converters: trtfx_backend_trt::convert::ConverterRegistry,
) -> trtfx_passes::PassRegistry {
    let mut r = trtfx_passes::PassRegistry::with_builtins();
    r.set_evaluator(std::sync::Arc::new(trtfx_exec::KernelEvaluator));
    trtfx_backend_trt::build_engines::register_with(&mut r, converters);
    trtfx_rewrite::register(&mut r);
    r
}

/// User inputs, parameters, buffers and constants of a program, with sizes.
pub fn param_report(p: &trtfx_ir::Program) -> String {
    trtfx_passes::passes::params::param_report(p)
}
