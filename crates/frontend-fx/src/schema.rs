//! Serde model of `models/<name>.json` (torch.export schema 8.x, spec §3).
//!
//! Why the shape of these types: real graphs reach 10^5–10^6 nodes, so everything borrows from
//! the JSON buffer ([`Str`]), node metadata (stack traces) is skipped with
//! [`serde::de::IgnoredAny`], unknown struct keys are ignored and missing ones defaulted, as
//! torch's own loader does. Unions are externally tagged enums: exactly one key, and an unknown
//! variant is an error (serde's default for externally tagged enums).

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use indexmap::IndexMap;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;

/// A string borrowed from the JSON buffer when it has no escapes, owned otherwise.
///
/// serde's own `Cow<str>` impl always allocates when nested in `Vec`/maps/`Option`; this newtype
/// borrows wherever it appears.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Str<'a>(pub Cow<'a, str>);

impl<'a> Str<'a> {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Converts to an owned `String`.
    pub fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

impl Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Str<'_> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Hash for Str<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Must agree with `str`'s hash for `Borrow<str>` lookups.
        self.0.as_ref().hash(state)
    }
}

impl fmt::Debug for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl<'a> From<&'a str> for Str<'a> {
    fn from(s: &'a str) -> Self {
        Str(Cow::Borrowed(s))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// Ordered map keyed by borrowed names (deterministic iteration, as the JSON lists them).
///
/// Hashed with foldhash: the value tables hold one entry per value and are probed once per
/// reference, and SipHash was a tenth of the import. foldhash's `RandomState` is seeded per
/// map, so keys chosen by an untrusted archive cannot be aimed at collisions ahead of time.
pub type Map<'a, V> = IndexMap<Str<'a>, V, foldhash::fast::RandomState>;

/// A float field: JSON numbers (integers too) or the strings `"Infinity"`, `"-Infinity"`,
/// `"NaN"` that torch ≥ 2.7 writes for non-finite values (spec §2).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Float(pub f64);

impl<'de> Deserialize<'de> for Float {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Float;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or \"Infinity\"/\"-Infinity\"/\"NaN\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Float, E> {
                Ok(Float(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Float, E> {
                Ok(Float(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Float, E> {
                Ok(Float(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Float, E> {
                match v {
                    "Infinity" | "inf" => Ok(Float(f64::INFINITY)),
                    "-Infinity" | "-inf" => Ok(Float(f64::NEG_INFINITY)),
                    "NaN" | "nan" => Ok(Float(f64::NAN)),
                    _ => Err(E::custom(format_args!("invalid float string {v:?}"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

macro_rules! int_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($(#[$vm:meta])* $var:ident = $code:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $var),* }
        impl $name {
            /// Maps the schema's integer code; `None` for an unknown code.
            pub fn from_code(code: i64) -> Option<Self> {
                match code { $($code => Some(Self::$var),)* _ => None }
            }
            /// The schema's integer code.
            pub fn code(self) -> i64 {
                match self { $(Self::$var => $code),* }
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = i64::deserialize(d)?;
                Self::from_code(code).ok_or_else(|| {
                    de::Error::custom(format_args!(concat!("unknown ", $what, " code {}"), code))
                })
            }
        }
    };
}

int_enum!(
    /// `ScalarType` with the schema's own numbering (spec §3.3), **not** c10's.
    ScalarType, "ScalarType" {
    /// 0: unknown (never a real tensor dtype).
    Unknown = 0,
    /// uint8.
    Byte = 1,
    /// int8.
    Char = 2,
    /// int16.
    Short = 3,
    /// int32.
    Int = 4,
    /// int64.
    Long = 5,
    /// float16.
    Half = 6,
    /// float32.
    Float = 7,
    /// float64.
    Double = 8,
    /// complex32.
    ComplexHalf = 9,
    /// complex64.
    ComplexFloat = 10,
    /// complex128.
    ComplexDouble = 11,
    /// bool.
    Bool = 12,
    /// bfloat16.
    BFloat16 = 13,
    /// uint16.
    UInt16 = 28,
    /// float8 e4m3fn.
    Float8E4M3FN = 29,
    /// float8 e5m2.
    Float8E5M2 = 30,
    /// float8 e4m3fnuz.
    Float8E4M3FNUZ = 31,
    /// float8 e5m2fnuz.
    Float8E5M2FNUZ = 32,
    /// float8 e8m0fnu.
    Float8E8M0FNU = 33,
    /// uint32.
    UInt32 = 34,
    /// uint64.
    UInt64 = 35,
});

impl ScalarType {
    /// Bytes per element; `None` for `Unknown`.
    pub fn size_bytes(self) -> Option<usize> {
        use ScalarType::*;
        Some(match self {
            Unknown => return None,
            Byte | Char | Bool | Float8E4M3FN | Float8E5M2 | Float8E4M3FNUZ | Float8E5M2FNUZ
            | Float8E8M0FNU => 1,
            Short | Half | BFloat16 | UInt16 => 2,
            Int | Float | UInt32 | ComplexHalf => 4,
            Long | Double | UInt64 | ComplexFloat => 8,
            ComplexDouble => 16,
        })
    }
    /// Size of the unit that a byte swap acts on: the element, or half of it for complex types.
    pub fn swap_unit(self) -> usize {
        match self {
            ScalarType::ComplexHalf | ScalarType::ComplexFloat | ScalarType::ComplexDouble => {
                self.size_bytes().unwrap_or(1) / 2
            }
            _ => self.size_bytes().unwrap_or(1),
        }
    }
    /// PyTorch spelling, e.g. `torch.float32`.
    pub fn torch_name(self) -> &'static str {
        use ScalarType::*;
        match self {
            Unknown => "unknown",
            Byte => "torch.uint8",
            Char => "torch.int8",
            Short => "torch.int16",
            Int => "torch.int32",
            Long => "torch.int64",
            Half => "torch.float16",
            Float => "torch.float32",
            Double => "torch.float64",
            ComplexHalf => "torch.complex32",
            ComplexFloat => "torch.complex64",
            ComplexDouble => "torch.complex128",
            Bool => "torch.bool",
            BFloat16 => "torch.bfloat16",
            UInt16 => "torch.uint16",
            Float8E4M3FN => "torch.float8_e4m3fn",
            Float8E5M2 => "torch.float8_e5m2",
            Float8E4M3FNUZ => "torch.float8_e4m3fnuz",
            Float8E5M2FNUZ => "torch.float8_e5m2fnuz",
            Float8E8M0FNU => "torch.float8_e8m0fnu",
            UInt32 => "torch.uint32",
            UInt64 => "torch.uint64",
        }
    }
}

int_enum!(
    /// Tensor layout (spec §3.3).
    Layout, "Layout" {
    /// 0.
    Unknown = 0,
    /// 1.
    SparseCoo = 1,
    /// 2.
    SparseCsr = 2,
    /// 3.
    SparseCsc = 3,
    /// 4.
    SparseBsr = 4,
    /// 5.
    SparseBsc = 5,
    /// 6.
    Mkldnn = 6,
    /// 7: dense strided, the only layout stored raw.
    Strided = 7,
});

int_enum!(
    /// Memory format (spec §3.3).
    MemoryFormat, "MemoryFormat" {
    /// 0.
    Unknown = 0,
    /// 1.
    ContiguousFormat = 1,
    /// 2.
    ChannelsLast = 2,
    /// 3.
    ChannelsLast3d = 3,
    /// 4.
    PreserveFormat = 4,
});

int_enum!(
    /// Whether an argument was passed positionally or by keyword (schema 8.7+).
    ArgumentKind, "ArgumentKind" {
    /// 0.
    Unknown = 0,
    /// 1.
    Positional = 1,
    /// 2.
    Keyword = 2,
});

fn default_layout() -> Layout {
    Layout::Strided
}

/// `{major, minor}`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct SchemaVersion {
    /// Breaking-change counter; must be 8.
    #[serde(default)]
    pub major: i64,
    /// Compatible-change counter.
    #[serde(default)]
    pub minor: i64,
}

/// Only the version, read first so that a major mismatch gives a version error rather than an
/// arbitrary schema error.
#[derive(Debug, Default, Deserialize)]
pub struct VersionProbe {
    /// Version, absent in unversioned files.
    #[serde(default)]
    pub schema_version: Option<SchemaVersion>,
}

/// Top-level `ExportedProgram` (spec §3.1).
#[derive(Debug, Deserialize)]
pub struct ExportedProgram<'a> {
    /// The main graph and signature.
    #[serde(borrow)]
    pub graph_module: GraphModule<'a>,
    /// `{"aten": 10}`, never validated.
    #[serde(borrow, default)]
    pub opset_version: Map<'a, i64>,
    /// Symbol name → inclusive range.
    #[serde(borrow, default)]
    pub range_constraints: Map<'a, RangeConstraint>,
    /// Schema version.
    #[serde(default)]
    pub schema_version: SchemaVersion,
    /// `TRAINING` / `ATEN` / empty (= ATEN).
    #[serde(borrow, default)]
    pub verifiers: Vec<Str<'a>>,
    /// E.g. `2.11.0+cu130`.
    #[serde(borrow, default = "default_torch_version")]
    pub torch_version: Str<'a>,
    /// Informational Python guards.
    #[serde(borrow, default)]
    pub guards_code: Vec<Str<'a>>,
}

fn default_torch_version() -> Str<'static> {
    Str(Cow::Borrowed("<=2.4"))
}

/// `GraphModule` (spec §3.1).
#[derive(Debug, Deserialize)]
pub struct GraphModule<'a> {
    /// The graph.
    #[serde(borrow)]
    pub graph: Graph<'a>,
    /// Input/output specs, by position.
    #[serde(borrow)]
    pub signature: GraphSignature<'a>,
    /// Not needed for execution; skipped.
    #[serde(default)]
    pub module_call_graph: IgnoredAny,
    /// Only key `custom` (JSON text).
    #[serde(borrow, default)]
    pub metadata: Map<'a, Str<'a>>,
    /// Not needed for execution; skipped.
    #[serde(default)]
    pub treespec_namedtuple_fields: IgnoredAny,
}

/// `RangeConstraint`: inclusive bounds, `None` = unbounded.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct RangeConstraint {
    /// Lower bound.
    #[serde(default)]
    pub min_val: Option<i64>,
    /// Upper bound.
    #[serde(default)]
    pub max_val: Option<i64>,
}

/// A graph with its own namespace and value tables (spec §3.2).
#[derive(Debug, Deserialize)]
pub struct Graph<'a> {
    /// Placeholders, in order.
    #[serde(borrow, default)]
    pub inputs: Vec<Argument<'a>>,
    /// Results, in order.
    #[serde(borrow, default)]
    pub outputs: Vec<Argument<'a>>,
    /// Nodes in topological order.
    #[serde(borrow, default)]
    pub nodes: Vec<Node<'a>>,
    /// Tensor value name → recorded meta.
    #[serde(borrow, default)]
    pub tensor_values: Map<'a, TensorMeta<'a>>,
    /// SymInt value name → value.
    #[serde(borrow, default)]
    pub sym_int_values: Map<'a, SymInt<'a>>,
    /// SymBool value name → value.
    #[serde(borrow, default)]
    pub sym_bool_values: Map<'a, SymBool<'a>>,
    /// Custom object value name → class.
    #[serde(borrow, default)]
    pub custom_obj_values: Map<'a, CustomObjArgument<'a>>,
    /// SymFloat value name → value.
    #[serde(borrow, default)]
    pub sym_float_values: Map<'a, SymFloat<'a>>,
    /// The graph returns one bare tensor rather than a tuple.
    #[serde(default)]
    pub is_single_tensor_return: bool,
}

/// One operator call (spec §3.2, §4).
#[derive(Debug, Deserialize)]
pub struct Node<'a> {
    /// `torch.ops.aten.add.Tensor`, `_operator.mul`, `torch.ops.higher_order.cond`, ...
    #[serde(borrow)]
    pub target: Str<'a>,
    /// Supplied arguments in schema order.
    #[serde(borrow, default)]
    pub inputs: Vec<NamedArgument<'a>>,
    /// Every result, named.
    #[serde(borrow, default)]
    pub outputs: Vec<Argument<'a>>,
    /// Stack traces etc.: skipped for speed.
    #[serde(default)]
    pub metadata: IgnoredAny,
    /// HOPs: true if the HOP returns one bare tensor.
    #[serde(default)]
    pub is_hop_single_tensor_return: Option<bool>,
    /// FX node name (2.11+).
    #[serde(borrow, default)]
    pub name: Option<Str<'a>>,
}

/// `NamedArgument`.
#[derive(Debug, Deserialize)]
pub struct NamedArgument<'a> {
    /// Schema argument name (`""` for HOP positional arguments).
    #[serde(borrow, default)]
    pub name: Str<'a>,
    /// The value.
    #[serde(borrow)]
    pub arg: Argument<'a>,
    /// Positional or keyword; absent in 2.6 files.
    #[serde(default)]
    pub kind: Option<ArgumentKind>,
}

/// `Device {type, index}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Device<'a> {
    /// `cpu`, `cuda`, `meta`...
    #[serde(borrow, rename = "type", default)]
    pub kind: Str<'a>,
    /// Device ordinal.
    #[serde(default)]
    pub index: Option<i64>,
}

/// Recorded tensor metadata.
#[derive(Clone, Debug, Deserialize)]
pub struct TensorMeta<'a> {
    /// Element type.
    pub dtype: ScalarType,
    /// Sizes (constant or symbolic).
    #[serde(borrow, default)]
    pub sizes: Vec<SymInt<'a>>,
    /// Autograd flag.
    #[serde(default)]
    pub requires_grad: bool,
    /// Original device.
    #[serde(borrow, default)]
    pub device: Device<'a>,
    /// Strides, in elements.
    #[serde(borrow, default)]
    pub strides: Vec<SymInt<'a>>,
    /// Storage offset, in elements.
    #[serde(borrow, default)]
    pub storage_offset: SymInt<'a>,
    /// Layout.
    #[serde(default = "default_layout")]
    pub layout: Layout,
}

/// `SymExpr {expr_str, hint}`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct SymExpr<'a> {
    /// sympy `srepr` text (spec §5).
    #[serde(borrow)]
    pub expr_str: Str<'a>,
    /// Value for the example inputs; `None` for unbacked symbols.
    #[serde(default)]
    pub hint: Option<SymExprHint>,
}

/// Hint union.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
pub enum SymExprHint {
    /// Integer hint.
    #[serde(rename = "as_int")]
    Int(i64),
    /// Bool hint.
    #[serde(rename = "as_bool")]
    Bool(bool),
    /// Float hint.
    #[serde(rename = "as_float")]
    Float(Float),
}

/// `SymInt` union.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub enum SymInt<'a> {
    /// Symbolic.
    #[serde(rename = "as_expr", borrow)]
    Expr(SymExpr<'a>),
    /// Constant.
    #[serde(rename = "as_int")]
    Int(i64),
}

impl Default for SymInt<'_> {
    fn default() -> Self {
        SymInt::Int(0)
    }
}

/// `SymFloat` union.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub enum SymFloat<'a> {
    /// Symbolic.
    #[serde(rename = "as_expr", borrow)]
    Expr(SymExpr<'a>),
    /// Constant.
    #[serde(rename = "as_float")]
    Float(Float),
}

/// `SymBool` union.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub enum SymBool<'a> {
    /// Symbolic.
    #[serde(rename = "as_expr", borrow)]
    Expr(SymExpr<'a>),
    /// Constant.
    #[serde(rename = "as_bool")]
    Bool(bool),
}

/// `TensorArgument {name}` (also `TokenArgument`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct TensorArgument<'a> {
    /// Value name.
    #[serde(borrow)]
    pub name: Str<'a>,
}

/// `TokenArgument {name}`.
pub type TokenArgument<'a> = TensorArgument<'a>;

/// `SymIntArgument` union.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub enum SymIntArgument<'a> {
    /// Reference to a `sym_int_values` entry.
    #[serde(rename = "as_name", borrow)]
    Name(Str<'a>),
    /// Constant.
    #[serde(rename = "as_int")]
    Int(i64),
}

/// `SymFloatArgument` union.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub enum SymFloatArgument<'a> {
    /// Reference to a `sym_float_values` entry.
    #[serde(rename = "as_name", borrow)]
    Name(Str<'a>),
    /// Constant.
    #[serde(rename = "as_float")]
    Float(Float),
}

/// `SymBoolArgument` union.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub enum SymBoolArgument<'a> {
    /// Reference to a `sym_bool_values` entry.
    #[serde(rename = "as_name", borrow)]
    Name(Str<'a>),
    /// Constant.
    #[serde(rename = "as_bool")]
    Bool(bool),
}

/// `OptionalTensorArgument` union.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub enum OptionalTensorArgument<'a> {
    /// A tensor.
    #[serde(rename = "as_tensor", borrow)]
    Tensor(TensorArgument<'a>),
    /// `None` (payload `true`).
    #[serde(rename = "as_none")]
    None(IgnoredAny),
}

/// `GraphArgument {name, graph}`: a complete nested graph (HOP subgraph).
#[derive(Debug, Deserialize)]
pub struct GraphArgument<'a> {
    /// Submodule attribute name (`true_graph_0`, `subgraph_0`...).
    #[serde(borrow)]
    pub name: Str<'a>,
    /// The subgraph.
    #[serde(borrow)]
    pub graph: Box<Graph<'a>>,
}

/// `CustomObjArgument {name, class_fqn}`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct CustomObjArgument<'a> {
    /// Value name.
    #[serde(borrow)]
    pub name: Str<'a>,
    /// E.g. `__torch__.torch.classes.ns.Cls`.
    #[serde(borrow, default)]
    pub class_fqn: Str<'a>,
}

/// `ComplexValue {real, imag}`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
pub struct ComplexValue {
    /// Real part.
    pub real: Float,
    /// Imaginary part.
    pub imag: Float,
}

/// The `Argument` union (spec §3.4), complete for schema 8.20.
#[derive(Debug, Deserialize)]
pub enum Argument<'a> {
    /// `None` (payload always `true`).
    #[serde(rename = "as_none")]
    None(IgnoredAny),
    /// Tensor reference.
    #[serde(rename = "as_tensor", borrow)]
    Tensor(TensorArgument<'a>),
    /// `Tensor[]` (in HOP operand lists it may also name SymInt values).
    #[serde(rename = "as_tensors", borrow)]
    Tensors(Vec<TensorArgument<'a>>),
    /// int.
    #[serde(rename = "as_int")]
    Int(i64),
    /// int[].
    #[serde(rename = "as_ints")]
    Ints(Vec<i64>),
    /// float.
    #[serde(rename = "as_float")]
    Float(Float),
    /// float[].
    #[serde(rename = "as_floats")]
    Floats(Vec<Float>),
    /// str.
    #[serde(rename = "as_string", borrow)]
    String(Str<'a>),
    /// str[].
    #[serde(rename = "as_strings", borrow)]
    Strings(Vec<Str<'a>>),
    /// bool.
    #[serde(rename = "as_bool")]
    Bool(bool),
    /// bool[].
    #[serde(rename = "as_bools")]
    Bools(Vec<bool>),
    /// SymInt.
    #[serde(rename = "as_sym_int", borrow)]
    SymInt(SymIntArgument<'a>),
    /// SymInt[] (mixed names and constants).
    #[serde(rename = "as_sym_ints", borrow)]
    SymInts(Vec<SymIntArgument<'a>>),
    /// SymFloat.
    #[serde(rename = "as_sym_float", borrow)]
    SymFloat(SymFloatArgument<'a>),
    /// SymFloat[].
    #[serde(rename = "as_sym_floats", borrow)]
    SymFloats(Vec<SymFloatArgument<'a>>),
    /// SymBool.
    #[serde(rename = "as_sym_bool", borrow)]
    SymBool(SymBoolArgument<'a>),
    /// SymBool[].
    #[serde(rename = "as_sym_bools", borrow)]
    SymBools(Vec<SymBoolArgument<'a>>),
    /// torch.dtype.
    #[serde(rename = "as_scalar_type")]
    ScalarType(ScalarType),
    /// torch.memory_format.
    #[serde(rename = "as_memory_format")]
    MemoryFormat(MemoryFormat),
    /// torch.layout.
    #[serde(rename = "as_layout")]
    Layout(Layout),
    /// torch.device.
    #[serde(rename = "as_device", borrow)]
    Device(Device<'a>),
    /// `Tensor?[]`.
    #[serde(rename = "as_optional_tensors", borrow)]
    OptionalTensors(Vec<OptionalTensorArgument<'a>>),
    /// HOP subgraph.
    #[serde(rename = "as_graph", borrow)]
    Graph(GraphArgument<'a>),
    /// Torchbind / opaque object.
    #[serde(rename = "as_custom_obj", borrow)]
    CustomObj(CustomObjArgument<'a>),
    /// Operator passed as a value (`torch.ops.mylib.f.default`).
    #[serde(rename = "as_operator", borrow)]
    Operator(Str<'a>),
    /// `Tensor?` (8.8+, never written by 2.11).
    #[serde(rename = "as_optional_tensor", borrow)]
    OptionalTensor(OptionalTensorArgument<'a>),
    /// Complex scalar (8.14+).
    #[serde(rename = "as_complex")]
    Complex(ComplexValue),
    /// int[][] (8.15+).
    #[serde(rename = "as_int_lists")]
    IntLists(Vec<Vec<i64>>),
    /// Dict argument (8.15+).
    #[serde(rename = "as_string_to_argument", borrow)]
    StringToArgument(Map<'a, Argument<'a>>),
    /// Tensor[][] (8.17+).
    #[serde(rename = "as_nested_tensors", borrow)]
    NestedTensors(Vec<Vec<TensorArgument<'a>>>),
    /// float[][] (8.20).
    #[serde(rename = "as_float_lists")]
    FloatLists(Vec<Vec<Float>>),
}

impl Argument<'_> {
    /// The JSON variant key, for error messages.
    pub fn variant_name(&self) -> &'static str {
        use Argument::*;
        match self {
            None(_) => "as_none",
            Tensor(_) => "as_tensor",
            Tensors(_) => "as_tensors",
            Int(_) => "as_int",
            Ints(_) => "as_ints",
            Float(_) => "as_float",
            Floats(_) => "as_floats",
            String(_) => "as_string",
            Strings(_) => "as_strings",
            Bool(_) => "as_bool",
            Bools(_) => "as_bools",
            SymInt(_) => "as_sym_int",
            SymInts(_) => "as_sym_ints",
            SymFloat(_) => "as_sym_float",
            SymFloats(_) => "as_sym_floats",
            SymBool(_) => "as_sym_bool",
            SymBools(_) => "as_sym_bools",
            ScalarType(_) => "as_scalar_type",
            MemoryFormat(_) => "as_memory_format",
            Layout(_) => "as_layout",
            Device(_) => "as_device",
            OptionalTensors(_) => "as_optional_tensors",
            Graph(_) => "as_graph",
            CustomObj(_) => "as_custom_obj",
            Operator(_) => "as_operator",
            OptionalTensor(_) => "as_optional_tensor",
            Complex(_) => "as_complex",
            IntLists(_) => "as_int_lists",
            StringToArgument(_) => "as_string_to_argument",
            NestedTensors(_) => "as_nested_tensors",
            FloatLists(_) => "as_float_lists",
        }
    }
}

/// `GraphSignature` (spec §3.6).
#[derive(Debug, Default, Deserialize)]
pub struct GraphSignature<'a> {
    /// One per graph input, by position.
    #[serde(borrow, default)]
    pub input_specs: Vec<InputSpec<'a>>,
    /// One per graph output, by position.
    #[serde(borrow, default)]
    pub output_specs: Vec<OutputSpec<'a>>,
}

/// `ConstantValue` union.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub enum ConstantValue<'a> {
    /// None.
    #[serde(rename = "as_none")]
    None(IgnoredAny),
    /// int.
    #[serde(rename = "as_int")]
    Int(i64),
    /// float.
    #[serde(rename = "as_float")]
    Float(Float),
    /// str.
    #[serde(rename = "as_string", borrow)]
    String(Str<'a>),
    /// bool.
    #[serde(rename = "as_bool")]
    Bool(bool),
}

fn default_true() -> bool {
    true
}

/// `InputSpec` union.
#[derive(Debug, Deserialize)]
pub enum InputSpec<'a> {
    /// Runtime input (tensor, sym value or custom object).
    #[serde(rename = "user_input")]
    UserInput {
        /// The graph input.
        #[serde(borrow)]
        arg: Argument<'a>,
    },
    /// Parameter, stored in the weights config.
    #[serde(rename = "parameter")]
    Parameter {
        /// The graph input.
        #[serde(borrow)]
        arg: TensorArgument<'a>,
        /// FQN (weights config key).
        #[serde(borrow)]
        parameter_name: Str<'a>,
    },
    /// Buffer: weights if persistent, constants otherwise.
    #[serde(rename = "buffer")]
    Buffer {
        /// The graph input.
        #[serde(borrow)]
        arg: TensorArgument<'a>,
        /// FQN.
        #[serde(borrow)]
        buffer_name: Str<'a>,
        /// Persistent (in the state dict).
        #[serde(default = "default_true")]
        persistent: bool,
    },
    /// Lifted tensor constant, stored in the constants config.
    #[serde(rename = "tensor_constant")]
    TensorConstant {
        /// The graph input.
        #[serde(borrow)]
        arg: TensorArgument<'a>,
        /// FQN.
        #[serde(borrow)]
        tensor_constant_name: Str<'a>,
    },
    /// Script object.
    #[serde(rename = "custom_obj")]
    CustomObj {
        /// The graph input.
        #[serde(borrow)]
        arg: CustomObjArgument<'a>,
        /// FQN.
        #[serde(borrow)]
        custom_obj_name: Str<'a>,
    },
    /// Effect token.
    #[serde(rename = "token")]
    Token {
        /// The graph input.
        #[serde(borrow)]
        arg: TokenArgument<'a>,
    },
    /// Specialised constant input; the graph input is the literal.
    #[serde(rename = "constant_input")]
    ConstantInput {
        /// Input name.
        #[serde(borrow)]
        name: Str<'a>,
        /// Value.
        #[serde(borrow)]
        value: ConstantValue<'a>,
    },
}

/// `OutputSpec` union.
#[derive(Debug, Deserialize)]
pub enum OutputSpec<'a> {
    /// Returned to the user.
    #[serde(rename = "user_output")]
    UserOutput {
        /// Tensor, sym value or literal.
        #[serde(borrow)]
        arg: Argument<'a>,
    },
    /// Loss.
    #[serde(rename = "loss_output")]
    LossOutput {
        /// The value.
        #[serde(borrow)]
        arg: TensorArgument<'a>,
    },
    /// New value of a buffer.
    #[serde(rename = "buffer_mutation")]
    BufferMutation {
        /// The value.
        #[serde(borrow)]
        arg: TensorArgument<'a>,
        /// Buffer FQN.
        #[serde(borrow)]
        buffer_name: Str<'a>,
    },
    /// New value of a parameter (8.14+).
    #[serde(rename = "parameter_mutation")]
    ParameterMutation {
        /// The value.
        #[serde(borrow)]
        arg: TensorArgument<'a>,
        /// Parameter FQN.
        #[serde(borrow)]
        parameter_name: Str<'a>,
    },
    /// Gradient of a parameter.
    #[serde(rename = "gradient_to_parameter")]
    GradientToParameter {
        /// The value.
        #[serde(borrow)]
        arg: TensorArgument<'a>,
        /// Parameter FQN.
        #[serde(borrow)]
        parameter_name: Str<'a>,
    },
    /// Gradient of a user input.
    #[serde(rename = "gradient_to_user_input")]
    GradientToUserInput {
        /// The value.
        #[serde(borrow)]
        arg: TensorArgument<'a>,
        /// Graph-input name.
        #[serde(borrow)]
        user_input_name: Str<'a>,
    },
    /// New value of a user input.
    #[serde(rename = "user_input_mutation")]
    UserInputMutation {
        /// The value.
        #[serde(borrow)]
        arg: TensorArgument<'a>,
        /// Graph-input name.
        #[serde(borrow)]
        user_input_name: Str<'a>,
    },
    /// Effect token.
    #[serde(rename = "token")]
    Token {
        /// The value.
        #[serde(borrow)]
        arg: TokenArgument<'a>,
    },
}

/// One entry of a payload config (spec §1.4).
#[derive(Debug, Deserialize)]
pub struct PayloadMeta<'a> {
    /// File under `data/weights/` or `data/constants/`.
    #[serde(borrow)]
    pub path_name: Str<'a>,
    /// Wrap as a Parameter.
    #[serde(default)]
    pub is_param: bool,
    /// `torch.save` blob instead of raw bytes.
    #[serde(default)]
    pub use_pickle: bool,
    /// Meta of the tensor; `None` for script objects.
    #[serde(borrow, default)]
    pub tensor_meta: Option<TensorMeta<'a>>,
}

/// `{"config": {FQN: PayloadMeta}}`.
#[derive(Debug, Default, Deserialize)]
pub struct PayloadConfig<'a> {
    /// FQN → entry.
    #[serde(borrow, default)]
    pub config: Map<'a, PayloadMeta<'a>>,
}
