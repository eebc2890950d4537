//! `trtfx-frontend-fx`: imports `.pt2` archives written by `torch.export.save` into a
//! [`trtfx_ir::Program`].
//!
//! Layers, bottom up:
//! - [`archive`]: the zip container, prefix, versions, payload configs (lazy tensor locations);
//! - [`schema`]: borrowed serde model of `models/model.json` (schema 8.x);
//! - [`sympy`]: parser for symbolic size expressions;
//! - [`payload`]: rebuilding tensors from raw storage bytes;
//! - [`error`]: the single [`ImportError`].
//!
//! The format is described in `docs/pt2-format.md` of the shared docs.

pub mod archive;
pub mod error;
pub mod payload;
pub mod schema;
pub mod sympy;

pub use archive::{parse_exported_program, Pt2Archive};
pub use error::ImportError;
pub mod convert;

pub use convert::{import_archive, import_pt2, import_pt2_bytes, ImportOptions, Imported};
