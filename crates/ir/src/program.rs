//! Programs: graphs, signature, weights, symbols and input specs.

use crate::dim::SymName;
use crate::dtype::DType;
use crate::graph::{Arg, Graph, GraphId};
use cranelift_entity::PrimaryMap;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Version of the JSON serialization of [`Program`]; bumped on incompatible changes.
pub const JSON_FORMAT_VERSION: u32 = 1;

/// What a symbol stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SymKind {
    /// A backed size of an input (`s0`): known when inputs are bound.
    Size,
    /// A dynamic integer input.
    Int,
    /// A data-dependent size (`u0`): known only while running (nonzero, item).
    Unbacked,
    /// A symbolic float.
    Float,
}

/// A program symbol with its inclusive value range (`None` = unbounded).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Symbol {
    /// What it stands for.
    pub kind: SymKind,
    /// Inclusive lower bound.
    pub min: Option<i64>,
    /// Inclusive upper bound.
    pub max: Option<i64>,
    /// The value seen at export time (an example, not a constraint).
    pub hint: Option<i64>,
}

/// What a placeholder of the main graph is, paired with it by position.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// A runtime input given by the user.
    User {
        /// The user-facing name.
        name: String,
    },
    /// A parameter from the weight store.
    Parameter {
        /// Weight name.
        target: String,
    },
    /// A buffer from the weight store.
    Buffer {
        /// Weight name.
        target: String,
        /// False for non-persistent buffers (not in the state dict).
        persistent: bool,
    },
    /// A lifted tensor constant from the weight store.
    Constant {
        /// Weight name.
        target: String,
    },
    /// A custom object (torchbind / opaque).
    CustomObj {
        /// Object name.
        target: String,
    },
    /// An input the export specialised to a literal (`constant_input`); the value is fixed.
    ConstantInput {
        /// The user-facing name.
        name: String,
        /// The literal.
        value: Arg,
    },
    /// An effect token.
    Token,
}

impl InputKind {
    /// The weight name for parameters, buffers and constants.
    pub fn weight_target(&self) -> Option<&str> {
        match self {
            InputKind::Parameter { target }
            | InputKind::Buffer { target, .. }
            | InputKind::Constant { target } => Some(target),
            _ => None,
        }
    }
}

/// What an output of the main graph is, paired with it by position.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    /// Returned to the user.
    User,
    /// New value of a buffer.
    BufferMutation {
        /// Buffer name.
        target: String,
    },
    /// New value of a parameter.
    ParameterMutation {
        /// Parameter name.
        target: String,
    },
    /// New value of a user input.
    UserInputMutation {
        /// User input name.
        input: String,
    },
    /// A loss output (training).
    Loss,
    /// A gradient (training).
    Gradient {
        /// Parameter or input name.
        target: String,
    },
    /// An effect token.
    Token,
}

/// The calling convention of the main graph.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Signature {
    /// One per placeholder of the main graph, in order.
    pub inputs: Vec<InputKind>,
    /// One per output of the main graph, in order.
    pub outputs: Vec<OutputKind>,
}

impl Signature {
    /// Positions of user inputs among the placeholders.
    pub fn user_input_positions(&self) -> Vec<usize> {
        self.inputs
            .iter()
            .enumerate()
            .filter(|(_, k)| matches!(k, InputKind::User { .. }))
            .map(|(i, _)| i)
            .collect()
    }

    /// Positions of user outputs among the outputs.
    pub fn user_output_positions(&self) -> Vec<usize> {
        self.outputs
            .iter()
            .enumerate()
            .filter(|(_, k)| matches!(k, OutputKind::User))
            .map(|(i, _)| i)
            .collect()
    }
}

/// The allowed range of one dim of a user input.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DimSpec {
    /// A fixed size.
    Static(i64),
    /// A dynamic size bound to a symbol, with min/opt/max (TensorRT's optimisation profile).
    Dynamic {
        /// The symbol the dim is (or `None` when the dim is an expression of other symbols).
        sym: Option<SymName>,
        /// Smallest size.
        min: i64,
        /// Size to optimise for.
        opt: i64,
        /// Largest size.
        max: i64,
    },
}

/// Metadata of a user input: what compile and save need instead of example inputs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputSpec {
    /// A tensor input.
    Tensor {
        /// User-facing name.
        name: String,
        /// Element type.
        dtype: DType,
        /// One entry per axis.
        dims: Vec<DimSpec>,
    },
    /// A scalar input (SymInt, SymFloat, SymBool) with its range when integral.
    Scalar {
        /// User-facing name.
        name: String,
        /// `i64`, `f64` or `bool`.
        dtype: DType,
        /// Range of an integral scalar.
        range: Option<(Option<i64>, Option<i64>)>,
    },
}

impl InputSpec {
    /// The input's name.
    pub fn name(&self) -> &str {
        match self {
            InputSpec::Tensor { name, .. } | InputSpec::Scalar { name, .. } => name,
        }
    }
}

/// A source of weight bytes read on demand (an archive member, an mmapped file).
pub trait WeightSource: Send + Sync + fmt::Debug {
    /// Reads the tensor's contiguous little-endian bytes.
    fn read(&self) -> Result<Vec<u8>, String>;
    /// Where the bytes come from, for error messages.
    fn describe(&self) -> String;
}

/// Weight bytes: in memory, lazy, or not representable.
#[derive(Clone, Debug)]
pub enum WeightData {
    /// Contiguous little-endian bytes.
    Bytes(Arc<[u8]>),
    /// Read on first use.
    Lazy(Arc<dyn WeightSource>),
    /// A payload the IR cannot hold (a pickled tensor subclass), with the reason.
    Opaque(String),
}

/// A tensor in the weight store.
#[derive(Clone, Debug)]
pub struct Weight {
    /// Element type.
    pub dtype: DType,
    /// Static shape.
    pub shape: Vec<i64>,
    /// The data.
    pub data: WeightData,
}

impl Weight {
    /// A weight from contiguous little-endian bytes.
    pub fn from_bytes(dtype: DType, shape: Vec<i64>, bytes: impl Into<Arc<[u8]>>) -> Self {
        Weight {
            dtype,
            shape,
            data: WeightData::Bytes(bytes.into()),
        }
    }

    /// Number of elements.
    pub fn numel(&self) -> i64 {
        self.shape.iter().product()
    }

    /// Size in bytes.
    pub fn nbytes(&self) -> usize {
        self.numel().max(0) as usize * self.dtype.itemsize()
    }

    /// The bytes (reads a lazy source).
    pub fn bytes(&self) -> Result<Arc<[u8]>, String> {
        match &self.data {
            WeightData::Bytes(b) => Ok(b.clone()),
            WeightData::Lazy(src) => src.read().map(Arc::from),
            WeightData::Opaque(why) => Err(why.clone()),
        }
    }
}

impl PartialEq for Weight {
    fn eq(&self, other: &Self) -> bool {
        self.dtype == other.dtype
            && self.shape == other.shape
            && match (self.bytes(), other.bytes()) {
                (Ok(a), Ok(b)) => a == b,
                (Err(a), Err(b)) => a == b,
                _ => false,
            }
    }
}

#[derive(Serialize, Deserialize)]
struct WeightRepr {
    dtype: DType,
    shape: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bytes: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opaque: Option<String>,
}

impl Serialize for Weight {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (bytes, opaque) = match &self.data {
            WeightData::Opaque(why) => (None, Some(why.clone())),
            _ => (
                Some(self.bytes().map_err(serde::ser::Error::custom)?.to_vec()),
                None,
            ),
        };
        WeightRepr {
            dtype: self.dtype,
            shape: self.shape.clone(),
            bytes,
            opaque,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Weight {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = WeightRepr::deserialize(d)?;
        let data = match (r.bytes, r.opaque) {
            (Some(b), _) => WeightData::Bytes(b.into()),
            (None, Some(why)) => WeightData::Opaque(why),
            (None, None) => return Err(serde::de::Error::custom("weight without data")),
        };
        Ok(Weight {
            dtype: r.dtype,
            shape: r.shape,
            data,
        })
    }
}

/// Program-level facts from the export.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct ProgramMeta {
    /// `TRAINING` (export IR) or `ATEN` (core ATen after `run_decompositions`), if known.
    pub dialect: Option<String>,
    /// The torch version that wrote the archive.
    pub torch_version: Option<String>,
}

/// A whole program: main graph and subgraphs, signature, weights, symbols and input specs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// All graphs; subgraphs are referenced by [`GraphId`].
    pub graphs: PrimaryMap<GraphId, Graph>,
    /// The entry graph.
    pub main: GraphId,
    /// Symbols by name, with ranges, in declaration order.
    pub symbols: IndexMap<SymName, Symbol>,
    /// Calling convention of the main graph.
    pub signature: Signature,
    /// Weights (parameters, buffers, constants) by name.
    pub weights: IndexMap<String, Weight>,
    /// One per user input, in signature order.
    pub input_specs: Vec<InputSpec>,
    /// Facts from the export.
    pub meta: ProgramMeta,
}

impl Program {
    /// A program with an empty main graph.
    pub fn new() -> Self {
        let mut graphs = PrimaryMap::new();
        let main = graphs.push(Graph::new("main"));
        Program {
            graphs,
            main,
            symbols: IndexMap::new(),
            signature: Signature::default(),
            weights: IndexMap::new(),
            input_specs: Vec::new(),
            meta: ProgramMeta::default(),
        }
    }

    /// The main graph.
    pub fn main_graph(&self) -> &Graph {
        &self.graphs[self.main]
    }

    /// The main graph, mutable.
    pub fn main_graph_mut(&mut self) -> &mut Graph {
        &mut self.graphs[self.main]
    }

    /// Adds a graph, returning its id.
    pub fn add_graph(&mut self, g: Graph) -> GraphId {
        self.graphs.push(g)
    }

    /// A graph by name.
    pub fn graph_by_name(&self, name: &str) -> Option<GraphId> {
        self.graphs
            .iter()
            .find(|(_, g)| g.name == name)
            .map(|(id, _)| id)
    }

    /// Declares (or updates) a symbol.
    pub fn declare_symbol(&mut self, name: impl Into<SymName>, sym: Symbol) {
        self.symbols.insert(name.into(), sym);
    }

    /// Serializes to JSON with a format version field.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&JsonEnvelope {
            format_version: JSON_FORMAT_VERSION,
            program: std::borrow::Cow::Borrowed(self),
        })
    }

    /// Deserializes from JSON written by [`Program::to_json`]; refuses other format versions
    /// and, through [`crate::limits::validate_program`] with the default [`Limits`], any
    /// program that does not verify structurally or exceeds the limits.
    ///
    /// [`Limits`]: crate::limits::Limits
    pub fn from_json(s: &str) -> Result<Program, JsonError> {
        Program::from_json_with_limits(s, &crate::limits::Limits::default())
    }

    /// [`Program::from_json`] with explicit limits.
    pub fn from_json_with_limits(
        s: &str,
        limits: &crate::limits::Limits,
    ) -> Result<Program, JsonError> {
        if s.len() as u64 > limits.max_metadata_bytes {
            return Err(JsonError::Invalid(format!(
                "{} bytes of JSON, more than the limit of {} (TRTFX_MAX_METADATA_BYTES)",
                s.len(),
                limits.max_metadata_bytes
            )));
        }
        let p = Program::from_json_unchecked(s)?;
        crate::limits::validate_program(&p, limits).map_err(JsonError::Invalid)?;
        Ok(p)
    }

    /// Deserializes without [`crate::limits::validate_program`] (graphs are still checked for
    /// dangling ids and links, which no `Graph` may have): for tools that want to report every
    /// problem with the verifier.
    pub fn from_json_unchecked(s: &str) -> Result<Program, JsonError> {
        #[derive(Deserialize)]
        struct Version {
            format_version: u32,
        }
        let v: Version = serde_json::from_str(s).map_err(JsonError::Json)?;
        if v.format_version != JSON_FORMAT_VERSION {
            return Err(JsonError::Version(v.format_version));
        }
        let env: JsonEnvelope<'static> = serde_json::from_str(s).map_err(JsonError::Json)?;
        Ok(env.program.into_owned())
    }
}

impl Default for Program {
    fn default() -> Self {
        Program::new()
    }
}

#[derive(Serialize, Deserialize)]
struct JsonEnvelope<'a> {
    format_version: u32,
    program: std::borrow::Cow<'a, Program>,
}

/// Errors reading a JSON program.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// Malformed JSON or structure.
    #[error("invalid program JSON: {0}")]
    Json(serde_json::Error),
    /// Well-formed JSON of a program that is invalid or exceeds the limits.
    #[error("{0}")]
    Invalid(String),
    /// A format version this build does not read.
    #[error("program JSON has format version {0}, this trtfx reads version {JSON_FORMAT_VERSION}")]
    Version(u32),
}
