//! `trtfx`: the library facade: import, compile, save/load and run programs.
//!
//! Today it offers the IO helpers used by `ir-opt run` and the end-to-end tests; `compile`,
//! `CompiledProgram::{save, load, run}` and settings land with the backend and artifact work.

pub mod io;

pub use trtfx_exec as exec;
pub use trtfx_frontend_fx as frontend;
pub use trtfx_ir as ir;
pub use trtfx_passes as passes;
