//! The operator registry: one entry per operator overload, with its schema, properties and
//! (optionally) a shape/dtype inference function.
//!
//! ATen operators are registered from data (see the type-inference work); custom operators are
//! registered at run time by users with [`OpRegistry::register`]. An operator that is not
//! registered is *opaque*: it keeps the result types recorded in the export.

use crate::graph::Arg;
use crate::types::Type;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The base type of a schema argument, following ATen's schema language.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BaseType {
    /// `Tensor`
    Tensor,
    /// `int`
    Int,
    /// `SymInt`
    SymInt,
    /// `float`
    Float,
    /// `bool`
    Bool,
    /// `Scalar` (int, float, bool or complex)
    Scalar,
    /// `ScalarType` (a dtype)
    ScalarType,
    /// `str`
    Str,
    /// `Layout`
    Layout,
    /// `Device`
    Device,
    /// `MemoryFormat`
    MemoryFormat,
    /// `Generator`
    Generator,
    /// `Dimname`
    Dimname,
    /// `Storage`, `Stream`, `Any` and other rarely used types, by name.
    Other(String),
}

/// The type of a schema argument or return: a base type, optionally a list, optionally `?`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SchemaType {
    /// Element type.
    pub base: BaseType,
    /// `T[]` or `T[N]` (`Some(None)` for unsized lists, `Some(Some(n))` for fixed size).
    pub list: Option<Option<usize>>,
    /// `T?` (for lists, `T[]?`).
    pub optional: bool,
    /// `T?[]`: the list elements are optional (`Tensor?[]`).
    pub optional_elements: bool,
}

/// One argument of an operator schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemaArg {
    /// Argument name (`self`, `other`, `alpha`).
    pub name: String,
    /// Type.
    pub ty: SchemaType,
    /// Default value, if the argument may be omitted.
    pub default: Option<Arg>,
    /// True for arguments after `*` (keyword-only).
    pub kwarg_only: bool,
    /// True when the argument is written to (alias annotation with `!`).
    pub mutable: bool,
}

/// An operator schema: arguments and returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// Arguments in order.
    pub args: Vec<SchemaArg>,
    /// Return types in order.
    pub returns: Vec<SchemaType>,
}

impl Schema {
    /// Index of an argument by name.
    pub fn arg_index(&self, name: &str) -> Option<usize> {
        self.args.iter().position(|a| a.name == name)
    }
}

/// Properties passes rely on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OpProps {
    /// No side effects: may be removed when unused, merged by CSE, reordered.
    pub pure: bool,
    /// The result aliases an input (view ops); trtfx computes views as copies.
    pub view: bool,
    /// Elementwise over broadcast inputs.
    pub elementwise: bool,
    /// Mutates an argument in place.
    pub mutates: bool,
}

/// The argument types of a node, given to inference functions.
pub struct InferArgs<'a> {
    /// Positional arguments.
    pub args: &'a [Arg],
    /// Keyword arguments.
    pub kwargs: &'a [(String, Arg)],
    /// The type of a value referenced by an argument.
    pub type_of: &'a dyn Fn(crate::graph::ValueId) -> Type,
}

/// A shape/dtype inference function: the result types of a call, or a reason.
pub type InferFn = Arc<dyn Fn(&InferArgs<'_>) -> Result<Vec<Type>, String> + Send + Sync>;

/// A registered operator.
#[derive(Clone)]
pub struct OpDef {
    /// Registry name (`aten.add.Tensor`, `mylib.op.default`).
    pub name: String,
    /// Schema, when known.
    pub schema: Option<Schema>,
    /// Properties.
    pub props: OpProps,
    /// Inference, when registered.
    pub infer: Option<InferFn>,
}

impl fmt::Debug for OpDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpDef")
            .field("name", &self.name)
            .field("schema", &self.schema)
            .field("props", &self.props)
            .field("infer", &self.infer.is_some())
            .finish()
    }
}

/// Operators by name, in registration order.
#[derive(Clone, Debug, Default)]
pub struct OpRegistry {
    // Fx hashing: every pass and the verifier look up the target of every node.
    ops: IndexMap<String, OpDef, rustc_hash::FxBuildHasher>,
}

impl OpRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers (or replaces) an operator.
    pub fn register(&mut self, def: OpDef) {
        self.ops.insert(def.name.clone(), def);
    }

    /// Looks an operator up by name.
    pub fn get(&self, name: &str) -> Option<&OpDef> {
        self.ops.get(name)
    }

    /// All operators in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &OpDef> {
        self.ops.values()
    }

    /// Number of operators.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}
