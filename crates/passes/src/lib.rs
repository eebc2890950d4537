//! `trtfx-passes`: the pass manager, text pipelines, instrumentation, analyses and all passes.
