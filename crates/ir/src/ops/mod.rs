//! The op table: one entry per operator overload, keyed by its registry name
//! (`aten.add.Tensor`) and interned as an [`OpId`].
//!
//! An entry ([`OpDef`]) holds what the IR itself knows of an operator: the parsed schema, its
//! [`OpTags`], its [`Effects`], shape/dtype inference and an optional decomposition into other
//! operators. Backends attach their own slots (the executor's kernel, the TensorRT converter)
//! by the same id in an [`OpSlots`] side table, so the IR stays backend-agnostic and every
//! lookup is by id. Arguments are read by schema name through a [`Binding`] (see [`bind`]).
//!
//! ATen operators are registered from data (`aten/schemas.txt`, `aten/op_tags.txt`); custom
//! operators are registered at run time by users with [`OpRegistry::register`]. An operator that
//! is not registered is *opaque*: it keeps the result types recorded in the export.

pub mod bind;
pub mod decomp;
pub mod eval;
pub mod library;
mod slots;

pub use bind::{ArgSource, BindError, Binding, Bound, BoundArgs};
pub use decomp::{DecompCx, DecompFn};
pub use eval::{ConstEval, ConstValue, EvalRefusal};
pub use library::{LibraryError, LibraryOp, OpLibraries, OpLibrary};
pub use slots::{OpId, OpSlots};

use crate::graph::Arg;
use crate::types::Type;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
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

/// Operator tags, from `native_functions.yaml` (`core`, `pointwise`, ...) and the schema.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OpTags {
    /// In the Core ATen IR opset (`core` tag): what `run_decompositions()` leaves.
    pub core: bool,
    /// Elementwise over broadcast inputs (`pointwise` tag, plus a few untagged ones).
    pub pointwise: bool,
    /// The result aliases an input (`Tensor(a)` return annotation without `!`).
    pub view: bool,
    /// Writes one of its arguments in place (`Tensor(a!)` on a non-`out` argument).
    pub inplace: bool,
    /// Draws random numbers (`nondeterministic_seeded` tag).
    pub random: bool,
    /// May give different results for the same inputs (`nondeterministic_bitwise` tag).
    pub nondeterministic: bool,
}

/// What calling an operator does besides computing its results.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Effects {
    /// Schema indices of the arguments written to (`Tensor(a!)`).
    pub mutates: SmallVec<[u8; 2]>,
    /// Schema index of the argument the (first) result is a view of.
    pub view_of: Option<u8>,
    /// Draws random numbers: removable when unused, but two calls differ (never CSE'd).
    pub random: bool,
    /// Other side effects (asserts, printing, effect tokens): never removed or reordered.
    pub side_effect: bool,
}

impl Effects {
    /// No mutation, no randomness, no side effect.
    pub fn is_pure(&self) -> bool {
        self.mutates.is_empty() && !self.random && !self.side_effect
    }
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
    /// Properties (a summary of tags and effects that passes rely on).
    pub props: OpProps,
    /// Tags.
    pub tags: OpTags,
    /// Effects.
    pub effects: Effects,
    /// Inference, when registered.
    pub infer: Option<InferFn>,
    /// True when `infer` runs the decomposition in a scratch graph (the op has no rule of its
    /// own).
    pub infer_via_decomposition: bool,
    /// A decomposition into other operators: used by inference, the executor and the TensorRT
    /// converter whenever they have no direct implementation.
    pub decomposition: Option<DecompFn>,
}

impl OpDef {
    /// An entry with no schema, no inference and unknown effects (treated as side-effecting):
    /// what an unregistered custom operator is.
    pub fn opaque(name: impl Into<String>) -> OpDef {
        OpDef {
            name: name.into(),
            schema: None,
            props: OpProps::default(),
            tags: OpTags::default(),
            effects: Effects {
                side_effect: true,
                ..Effects::default()
            },
            infer: None,
            infer_via_decomposition: false,
            decomposition: None,
        }
    }
}

impl fmt::Debug for OpDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpDef")
            .field("name", &self.name)
            .field("schema", &self.schema)
            .field("props", &self.props)
            .field("tags", &self.tags)
            .field("effects", &self.effects)
            .field("infer", &self.infer.is_some())
            .field("decomposition", &self.decomposition.is_some())
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

    /// The interned id of operator `name`.
    pub fn id(&self, name: &str) -> Option<OpId> {
        self.ops.get_index_of(name).map(OpId::from_index)
    }

    /// The operator with id `id`.
    pub fn def(&self, id: OpId) -> Option<&OpDef> {
        self.ops.get_index(id.index()).map(|(_, d)| d)
    }

    /// The operator named `name`, for changing one of its slots (say, giving a custom op a
    /// decomposition or an inference rule after registering it).
    pub fn get_mut(&mut self, name: &str) -> Option<&mut OpDef> {
        self.ops.get_mut(name)
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
