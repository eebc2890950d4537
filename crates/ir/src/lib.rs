//! `trtfx-ir`: the typed FX-like IR every other trtfx crate builds on.
//!
//! - [`Program`]: graphs (main + subgraphs), signature, weights, symbols with ranges, and the
//!   user input specs that make example inputs unnecessary after import.
//! - [`Graph`]: arena storage of nodes and values with typed `u32` ids, an explicit node order
//!   (a linked list, O(1) insertion), use lists, tombstones and compaction.
//! - [`Type`] and [`Dim`]: tensor types with symbolic shapes in canonical form.
//! - [`OpRegistry`]: operator schemas, properties and inference functions.
//!
//! The IR knows nothing of TensorRT or of files on disk.

pub mod aten;
pub mod dim;
pub mod dtype;
pub mod elements;
pub mod functionalize;
pub mod graph;
pub mod limits;
pub mod ops;
pub mod program;
#[cfg(any(test, feature = "testgen"))]
pub mod testgen;
pub mod text;
pub mod types;
pub mod verify;

pub use dim::{Atom, Dim, SymName};
pub use dtype::{Category, DType};
pub use graph::{
    Arg, Graph, GraphError, GraphId, NodeBuilder, NodeData, NodeId, NodeMeta, Op, SegmentTag,
    ValueData, ValueId, F64,
};
pub use limits::{validate_program, Limits};
pub use ops::{
    BaseType, InferArgs, InferFn, OpDef, OpProps, OpRegistry, Schema, SchemaArg, SchemaType,
};
pub use program::{
    DimSpec, InputKind, InputSpec, OutputKind, Program, ProgramMeta, Signature, SymKind, Symbol,
    Weight, WeightData, WeightSource,
};
pub use text::{parse_program, parse_program_with_weights, print_graph, print_program, ParseError};
pub use types::{static_shape, Shape, TensorType, Type};
pub use verify::{verify_graph, verify_program, verify_types_with, Diagnostic};
