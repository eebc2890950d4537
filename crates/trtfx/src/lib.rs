//! `trtfx`: the library facade: `compile`, `CompiledProgram::{save, load, run}` and settings.
