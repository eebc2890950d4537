//! `trtfx-ir`: the typed FX-like IR.
