//! `trtfx-exec`: the reference/fallback executor, running any IR graph on CPU with ATen semantics.
