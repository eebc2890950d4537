//! `trtfx-passes`: the pass manager, text pipelines, instrumentation, analyses and all passes.
//!
//! - [`Pass`]: a program transformation with typed options; [`PassOutcome`] says whether it
//!   changed anything and which analyses survive ([`Preserved`]).
//! - [`PassRegistry`]: pass names → constructors, named pipelines (`default`), and the
//!   MLIR-style pipeline text (`dce,fixpoint{max=4}(canonicalize,cse),each-subgraph(dce)`).
//! - [`PassManager`]: runs a [`Pipeline`] with verification after each pass, a graph-epoch
//!   check that catches passes misreporting `changed`, analysis invalidation, instrumentation
//!   ([`IrPrinter`], [`Timing`]), [`Statistics`] and crash reproducers.
//! - The passes: `dce`, `cse`, `fold-constants`, `canonicalize`, `decompose`, `infer-types`,
//!   the parameter passes, and the compile steps `partition`, `truncate-long-double`,
//!   `repair-types`, `outline-segments` (a backend crate adds `build-engines`).
//!
//! See `docs/writing-a-pass.md` for a walkthrough.

pub mod analysis;
pub mod compile;
pub mod instrument;
pub mod manager;
pub mod options;
pub mod partition;
pub mod pass;
pub mod passes;
pub mod pipeline;
pub mod registry;
pub mod util;

pub use analysis::{Analysis, AnalysisCache, OpHistogram};
pub use instrument::{Instrumentation, IrPrinter, PassRun, PrintConfig, Sink, Statistics, Timing};
pub use manager::{PassManager, PassManagerOptions, RunError};
pub use options::{
    NoOptions, OptionError, OptionHelp, OptionMap, OptionReader, OptionSet, OptionType,
    OptionValue, PassOptions,
};
pub use pass::{GraphScope, Pass, PassCx, PassError, PassOutcome, Preserved, Products};
pub use pipeline::{Pipeline, PipelineError, PipelineItem};
pub use registry::{PassRegistry, DEFAULT_PIPELINE};
