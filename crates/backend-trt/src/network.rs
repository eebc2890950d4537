//! The network-builder interface that converters emit into.
//!
//! [`NetworkBuilder`] mirrors TensorRT's `INetworkDefinition` for the layers the converters need.
//! Tensors are opaque [`TensorId`] handles; every `add_*` method returns the handle(s) of the
//! layer's output tensor(s). Semantics (shapes, data types, broadcasting, `0`/`-1` reshape
//! placeholders, bitmask axes) are TensorRT's, in a strongly typed network: no implicit type
//! conversion happens anywhere, so converters insert [`NetworkBuilder::add_cast`] explicitly.
//!
//! Two implementations exist: [`crate::recorded::RecordedNetwork`] (records layers, infers
//! shapes, prints for snapshots, replays) and, with the `tensorrt` feature,
//! `crate::tensorrt::TrtNetworkBuilder` (the real TensorRT(-RTX) network).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// TensorRT's `nvinfer1::DataType`, with TensorRT's numeric values.
///
/// There is no 64-bit float in TensorRT: `f64` must be truncated to [`TrtDataType::Float`] (or
/// left to the fallback executor) before conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(i32)]
pub enum TrtDataType {
    /// `kFLOAT`: 32-bit IEEE float.
    Float = 0,
    /// `kHALF`: 16-bit IEEE float.
    Half = 1,
    /// `kINT8`: 8-bit signed integer; a *quantized* type (only through Q/DQ layers).
    Int8 = 2,
    /// `kINT32`: 32-bit signed integer.
    Int32 = 3,
    /// `kBOOL`: 8-bit boolean.
    Bool = 4,
    /// `kUINT8`: 8-bit unsigned integer; network I/O only, convert with a cast.
    Uint8 = 5,
    /// `kFP8`: FP8 E4M3; a quantized type.
    Fp8 = 6,
    /// `kBF16`: bfloat16.
    Bf16 = 7,
    /// `kINT64`: 64-bit signed integer (data movement, elementwise, reductions; no matmul).
    Int64 = 8,
    /// `kINT4`: 4-bit signed integer; a quantized type.
    Int4 = 9,
    /// `kFP4`: FP4 E2M1; a quantized type.
    Fp4 = 10,
    /// `kE8M0`: 8-bit exponent-only scale type for MX formats.
    E8m0 = 11,
}

impl TrtDataType {
    /// All data types, in TensorRT's numeric order.
    pub const ALL: [TrtDataType; 12] = [
        Self::Float,
        Self::Half,
        Self::Int8,
        Self::Int32,
        Self::Bool,
        Self::Uint8,
        Self::Fp8,
        Self::Bf16,
        Self::Int64,
        Self::Int4,
        Self::Fp4,
        Self::E8m0,
    ];

    /// Size of one element in bits (4 for the 4-bit types).
    pub const fn size_bits(self) -> usize {
        match self {
            Self::Float | Self::Int32 => 32,
            Self::Half | Self::Bf16 => 16,
            Self::Int8 | Self::Bool | Self::Uint8 | Self::Fp8 | Self::E8m0 => 8,
            Self::Int64 => 64,
            Self::Int4 | Self::Fp4 => 4,
        }
    }

    /// TensorRT's enumerator name, e.g. `kFLOAT`.
    pub const fn trt_name(self) -> &'static str {
        match self {
            Self::Float => "kFLOAT",
            Self::Half => "kHALF",
            Self::Int8 => "kINT8",
            Self::Int32 => "kINT32",
            Self::Bool => "kBOOL",
            Self::Uint8 => "kUINT8",
            Self::Fp8 => "kFP8",
            Self::Bf16 => "kBF16",
            Self::Int64 => "kINT64",
            Self::Int4 => "kINT4",
            Self::Fp4 => "kFP4",
            Self::E8m0 => "kE8M0",
        }
    }

    /// Short name used in printed networks (`f32`, `i64`, `bool`, ...).
    pub const fn short_name(self) -> &'static str {
        match self {
            Self::Float => "f32",
            Self::Half => "f16",
            Self::Int8 => "i8",
            Self::Int32 => "i32",
            Self::Bool => "bool",
            Self::Uint8 => "u8",
            Self::Fp8 => "fp8",
            Self::Bf16 => "bf16",
            Self::Int64 => "i64",
            Self::Int4 => "i4",
            Self::Fp4 => "fp4",
            Self::E8m0 => "e8m0",
        }
    }

    /// Whether this is a (non-quantized) floating-point type: f32, f16 or bf16.
    pub const fn is_float(self) -> bool {
        matches!(self, Self::Float | Self::Half | Self::Bf16)
    }

    /// Whether this is an integer type usable for arithmetic: i32 or i64 (i8 is quantized).
    pub const fn is_int(self) -> bool {
        matches!(self, Self::Int32 | Self::Int64)
    }

    /// The data type with TensorRT's numeric value `v`.
    pub fn from_i32(v: i32) -> Option<Self> {
        Self::ALL.get(usize::try_from(v).ok()?).copied()
    }
}

impl fmt::Display for TrtDataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

/// Opaque handle of a tensor in a network (index into the builder's tensor table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TensorId(pub u32);

impl TensorId {
    /// The index of this tensor in its network's tensor table.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for TensorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// Data type and dimensions of a tensor; `-1` marks a dimension unknown at build time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TensorDesc {
    /// Element type.
    pub dtype: TrtDataType,
    /// Extents (`Dims64`); `-1` for a dynamic extent. The rank is always known.
    pub dims: Vec<i64>,
}

impl TensorDesc {
    /// A descriptor from a data type and dims.
    pub fn new(dtype: TrtDataType, dims: impl Into<Vec<i64>>) -> Self {
        Self {
            dtype,
            dims: dims.into(),
        }
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.dims.len()
    }

    /// Number of elements, when every extent is known.
    pub fn volume(&self) -> Option<i64> {
        self.dims.iter().try_fold(
            1i64,
            |acc, &d| if d < 0 { None } else { acc.checked_mul(d) },
        )
    }
}

impl fmt::Display for TensorDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[", self.dtype)?;
        for (i, d) in self.dims.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if *d < 0 {
                f.write_str("?")?;
            } else {
                write!(f, "{d}")?;
            }
        }
        f.write_str("]")
    }
}

/// Host weights (TensorRT's `Weights`): raw little-endian element bytes of one data type.
///
/// The bytes are reference counted so converters and recordings can share large weights.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    /// Element type.
    pub dtype: TrtDataType,
    /// Number of elements.
    pub count: i64,
    /// `count` elements, densely packed, little endian.
    pub bytes: Arc<[u8]>,
}

impl Weights {
    /// Weights from raw bytes; checks that `bytes` holds a whole number of elements.
    pub fn from_bytes(
        dtype: TrtDataType,
        bytes: impl Into<Arc<[u8]>>,
    ) -> Result<Self, NetworkError> {
        let bytes: Arc<[u8]> = bytes.into();
        let bits = bytes.len() as u64 * 8;
        let elem = dtype.size_bits() as u64;
        if bits.checked_rem(elem) != Some(0) {
            return Err(NetworkError::invalid(format!(
                "{} bytes are not a whole number of {} elements",
                bytes.len(),
                dtype
            )));
        }
        Ok(Self {
            dtype,
            count: (bits / elem) as i64,
            bytes,
        })
    }

    /// `values` as weights of `dtype`: floats rounded (to f16/bf16 through f32, as PyTorch
    /// rounds a Python scalar for a half tensor), ints truncated toward zero, bools `!= 0`.
    /// The one encoder of converter constants.
    pub fn from_f64s(values: &[f64], dtype: TrtDataType) -> Result<Self, String> {
        use trtfx_ir::elements::encode;
        let bytes = match dtype {
            TrtDataType::Float => encode(&values.iter().map(|&v| v as f32).collect::<Vec<_>>()),
            TrtDataType::Half => encode(
                &values
                    .iter()
                    .map(|&v| half::f16::from_f32(v as f32))
                    .collect::<Vec<_>>(),
            ),
            TrtDataType::Bf16 => encode(
                &values
                    .iter()
                    .map(|&v| half::bf16::from_f32(v as f32))
                    .collect::<Vec<_>>(),
            ),
            TrtDataType::Int32 => encode(&values.iter().map(|&v| v as i32).collect::<Vec<_>>()),
            TrtDataType::Int64 => encode(&values.iter().map(|&v| v as i64).collect::<Vec<_>>()),
            TrtDataType::Bool => encode(&values.iter().map(|&v| v != 0.0).collect::<Vec<_>>()),
            d => return Err(format!("no constants of type {d}")),
        };
        Ok(Self {
            dtype,
            count: values.len() as i64,
            bytes: bytes.into(),
        })
    }

    /// `f32` weights.
    pub fn from_f32(values: &[f32]) -> Self {
        let bytes = trtfx_ir::elements::encode(values);
        Self {
            dtype: TrtDataType::Float,
            count: values.len() as i64,
            bytes: bytes.into(),
        }
    }

    /// `i32` weights.
    pub fn from_i32(values: &[i32]) -> Self {
        let bytes = trtfx_ir::elements::encode(values);
        Self {
            dtype: TrtDataType::Int32,
            count: values.len() as i64,
            bytes: bytes.into(),
        }
    }

    /// `i64` weights.
    pub fn from_i64(values: &[i64]) -> Self {
        let bytes = trtfx_ir::elements::encode(values);
        Self {
            dtype: TrtDataType::Int64,
            count: values.len() as i64,
            bytes: bytes.into(),
        }
    }

    /// `bool` weights (one byte each).
    pub fn from_bool(values: &[bool]) -> Self {
        let bytes = trtfx_ir::elements::encode(values);
        Self {
            dtype: TrtDataType::Bool,
            count: values.len() as i64,
            bytes: bytes.into(),
        }
    }

    /// The elements as `i64` when the type is i32 or i64 (used to track shape values).
    pub fn to_i64_vec(&self) -> Option<Vec<i64>> {
        let dtype = match self.dtype {
            TrtDataType::Int32 => trtfx_ir::DType::I32,
            TrtDataType::Int64 => trtfx_ir::DType::I64,
            _ => return None,
        };
        trtfx_ir::elements::to_i64s(dtype, &self.bytes)?.ok()
    }

    /// A short, stable fingerprint of the bytes (FNV-1a 64), for printing.
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.bytes.iter() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }
}

impl fmt::Debug for Weights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Weights({} x{}, #{:016x})",
            self.dtype,
            self.count,
            self.fingerprint()
        )
    }
}

/// `nvinfer1::ElementWiseOperation`. Both inputs have the same type and rank; extents broadcast
/// where one side is 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ElementWiseOp {
    /// `kSUM`: a + b.
    Sum,
    /// `kPROD`: a * b.
    Prod,
    /// `kMAX`: max(a, b).
    Max,
    /// `kMIN`: min(a, b).
    Min,
    /// `kSUB`: a - b.
    Sub,
    /// `kDIV`: a / b (integer division truncates toward zero).
    Div,
    /// `kPOW`: a ^ b.
    Pow,
    /// `kFLOOR_DIV`: floor(a / b).
    FloorDiv,
    /// `kAND`: logical and of bools.
    And,
    /// `kOR`: logical or of bools.
    Or,
    /// `kXOR`: logical xor of bools.
    Xor,
    /// `kEQUAL`: a == b, output bool.
    Equal,
    /// `kGREATER`: a > b, output bool.
    Greater,
    /// `kLESS`: a < b, output bool.
    Less,
}

impl ElementWiseOp {
    /// Lower-case name used in printed networks.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sum => "sum",
            Self::Prod => "prod",
            Self::Max => "max",
            Self::Min => "min",
            Self::Sub => "sub",
            Self::Div => "div",
            Self::Pow => "pow",
            Self::FloorDiv => "floor_div",
            Self::And => "and",
            Self::Or => "or",
            Self::Xor => "xor",
            Self::Equal => "equal",
            Self::Greater => "greater",
            Self::Less => "less",
        }
    }

    /// Whether the output is bool (comparisons).
    pub fn is_comparison(self) -> bool {
        matches!(self, Self::Equal | Self::Greater | Self::Less)
    }

    /// Whether the inputs must be bool.
    pub fn is_logical(self) -> bool {
        matches!(self, Self::And | Self::Or | Self::Xor)
    }
}

/// `nvinfer1::UnaryOperation`. The output has the input's shape and type (bool for the
/// `Is*` tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum UnaryOp {
    Exp,
    Log,
    Sqrt,
    Recip,
    Abs,
    Neg,
    Sin,
    Cos,
    Tan,
    Sinh,
    Cosh,
    Asin,
    Acos,
    Atan,
    Asinh,
    Acosh,
    Atanh,
    Ceil,
    Floor,
    Erf,
    /// `kNOT`: logical not; bool only.
    Not,
    Sign,
    /// `kROUND`: round half to even.
    Round,
    /// `kISINF`: output bool.
    IsInf,
    /// `kISNAN`: output bool.
    IsNan,
}

impl UnaryOp {
    /// Lower-case name used in printed networks.
    pub fn name(self) -> &'static str {
        match self {
            Self::Exp => "exp",
            Self::Log => "log",
            Self::Sqrt => "sqrt",
            Self::Recip => "recip",
            Self::Abs => "abs",
            Self::Neg => "neg",
            Self::Sin => "sin",
            Self::Cos => "cos",
            Self::Tan => "tan",
            Self::Sinh => "sinh",
            Self::Cosh => "cosh",
            Self::Asin => "asin",
            Self::Acos => "acos",
            Self::Atan => "atan",
            Self::Asinh => "asinh",
            Self::Acosh => "acosh",
            Self::Atanh => "atanh",
            Self::Ceil => "ceil",
            Self::Floor => "floor",
            Self::Erf => "erf",
            Self::Not => "not",
            Self::Sign => "sign",
            Self::Round => "round",
            Self::IsInf => "isinf",
            Self::IsNan => "isnan",
        }
    }
}

/// `nvinfer1::ActivationType` with its `alpha`/`beta` parameters (TensorRT's formulas).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Activation {
    /// `kRELU`: max(x, 0). Also accepts i32/i64.
    Relu,
    /// `kSIGMOID`: 1 / (1 + exp(-x)).
    Sigmoid,
    /// `kTANH`: tanh(x).
    Tanh,
    /// `kLEAKY_RELU`: x >= 0 ? x : alpha * x.
    LeakyRelu {
        /// Negative slope.
        alpha: f32,
    },
    /// `kELU`: x >= 0 ? x : alpha * (exp(x) - 1).
    Elu {
        /// Scale of the negative part.
        alpha: f32,
    },
    /// `kSELU`: x > 0 ? beta * x : beta * alpha * (exp(x) - 1).
    Selu {
        /// alpha.
        alpha: f32,
        /// beta (the scale).
        beta: f32,
    },
    /// `kSOFTSIGN`: x / (1 + |x|).
    Softsign,
    /// `kSOFTPLUS`: alpha * log(exp(beta * x) + 1).
    Softplus {
        /// Output scale.
        alpha: f32,
        /// Input scale.
        beta: f32,
    },
    /// `kCLIP`: max(alpha, min(beta, x)).
    Clip {
        /// Lower bound.
        alpha: f32,
        /// Upper bound.
        beta: f32,
    },
    /// `kHARD_SIGMOID`: max(0, min(1, alpha * x + beta)).
    HardSigmoid {
        /// Slope.
        alpha: f32,
        /// Offset.
        beta: f32,
    },
    /// `kSCALED_TANH`: alpha * tanh(beta * x).
    ScaledTanh {
        /// Output scale.
        alpha: f32,
        /// Input scale.
        beta: f32,
    },
    /// `kTHRESHOLDED_RELU`: x > alpha ? x : 0.
    ThresholdedRelu {
        /// Threshold.
        alpha: f32,
    },
    /// `kGELU_ERF`: 0.5 * x * (1 + erf(x / sqrt(2))).
    GeluErf,
    /// `kGELU_TANH`: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))).
    GeluTanh,
}

impl Activation {
    /// Lower-case name used in printed networks.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Relu => "relu",
            Self::Sigmoid => "sigmoid",
            Self::Tanh => "tanh",
            Self::LeakyRelu { .. } => "leaky_relu",
            Self::Elu { .. } => "elu",
            Self::Selu { .. } => "selu",
            Self::Softsign => "softsign",
            Self::Softplus { .. } => "softplus",
            Self::Clip { .. } => "clip",
            Self::HardSigmoid { .. } => "hard_sigmoid",
            Self::ScaledTanh { .. } => "scaled_tanh",
            Self::ThresholdedRelu { .. } => "thresholded_relu",
            Self::GeluErf => "gelu_erf",
            Self::GeluTanh => "gelu_tanh",
        }
    }

    /// `(alpha, beta)` as TensorRT stores them (0 where unused).
    pub fn alpha_beta(&self) -> (f32, f32) {
        match *self {
            Self::LeakyRelu { alpha } | Self::Elu { alpha } | Self::ThresholdedRelu { alpha } => {
                (alpha, 0.0)
            }
            Self::Selu { alpha, beta }
            | Self::Softplus { alpha, beta }
            | Self::Clip { alpha, beta }
            | Self::HardSigmoid { alpha, beta }
            | Self::ScaledTanh { alpha, beta } => (alpha, beta),
            _ => (0.0, 0.0),
        }
    }
}

/// `nvinfer1::ReduceOperation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum ReduceOp {
    Sum,
    Prod,
    Max,
    Min,
    /// `kAVG`: mean; not on integer shape tensors.
    Avg,
}

impl ReduceOp {
    /// Lower-case name used in printed networks.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sum => "sum",
            Self::Prod => "prod",
            Self::Max => "max",
            Self::Min => "min",
            Self::Avg => "avg",
        }
    }
}

/// `nvinfer1::MatrixOperation`: how a matrix-multiply input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MatrixOp {
    /// `kNONE`: the last two dims are a matrix.
    None,
    /// `kTRANSPOSE`: the last two dims are a matrix, transposed.
    Transpose,
    /// `kVECTOR`: the last dim is a vector (a batch of vectors).
    Vector,
}

impl MatrixOp {
    /// Lower-case name used in printed networks.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Transpose => "transpose",
            Self::Vector => "vector",
        }
    }
}

/// `nvinfer1::GatherMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GatherMode {
    /// `kDEFAULT`: output dims = `data[:axis] ++ indices.dims ++ data[axis+1:]`.
    Default,
    /// `kELEMENT`: `output[i] = data[i with i[axis] = indices[i]]`; output has indices' dims
    /// (torch.gather).
    Element,
    /// `kND`: the last indices dim indexes the leading data dims (no elementwise dims).
    Nd,
}

/// `nvinfer1::SampleMode` of a slice: what out-of-bounds coordinates read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SliceMode {
    /// `kSTRICT_BOUNDS`: out of bounds is an error (the default).
    StrictBounds,
    /// `kWRAP`: coordinates wrap around.
    Wrap,
    /// `kCLAMP`: coordinates are clamped.
    Clamp,
    /// `kFILL`: out of bounds reads the fill value (input 4, default 0).
    Fill,
    /// `kREFLECT`: coordinates reflect.
    Reflect,
}

/// `nvinfer1::PoolingType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PoolingType {
    /// `kMAX`.
    Max,
    /// `kAVERAGE`.
    Average,
    /// `kMAX_AVERAGE_BLEND`: (1 - blend) * max + blend * average.
    MaxAverageBlend,
}

/// `nvinfer1::PaddingMode`: how pooling/convolution output extents are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaddingMode {
    /// `kEXPLICIT_ROUND_DOWN`: floor((in + pre + post - window) / stride) + 1 (the default).
    ExplicitRoundDown,
    /// `kEXPLICIT_ROUND_UP`: ceil(...) + 1 (PyTorch's `ceil_mode=True`).
    ExplicitRoundUp,
    /// `kSAME_UPPER`: out = ceil(in / stride), extra padding at the end.
    SameUpper,
    /// `kSAME_LOWER`: out = ceil(in / stride), extra padding at the start.
    SameLower,
}

/// `nvinfer1::TopKOperation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TopKOp {
    /// `kMAX`: the k largest.
    Max,
    /// `kMIN`: the k smallest.
    Min,
}

/// `nvinfer1::FillOperation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FillOp {
    /// `kLINSPACE`: `out[i] = alpha + sum_d(i_d * beta[d])` (arange is a 1-D linspace).
    Linspace,
    /// `kRANDOM_UNIFORM` in [alpha, beta].
    RandomUniform,
    /// `kRANDOM_NORMAL` with mean alpha and standard deviation beta.
    RandomNormal,
}

/// `nvinfer1::ScatterMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScatterMode {
    /// `kELEMENT`: torch.scatter along an axis.
    Element,
    /// `kND`: ONNX ScatterND.
    Nd,
}

/// `nvinfer1::CumulativeOperation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CumulativeOp {
    /// `kSUM`.
    Sum,
}

/// `nvinfer1::InterpolationMode` of a resize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResizeMode {
    /// `kNEAREST`.
    Nearest,
    /// `kLINEAR` (bilinear/trilinear on the innermost dims).
    Linear,
    /// `kCUBIC` (bicubic, innermost two dims).
    Cubic,
}

/// `nvinfer1::ResizeCoordinateTransformation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResizeCoordinateTransformation {
    /// `kALIGN_CORNERS`.
    AlignCorners,
    /// `kASYMMETRIC`.
    Asymmetric,
    /// `kHALF_PIXEL`.
    HalfPixel,
}

/// `nvinfer1::ResizeRoundMode` for nearest resize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResizeRoundMode {
    /// `kHALF_UP`.
    HalfUp,
    /// `kHALF_DOWN`.
    HalfDown,
    /// `kFLOOR` (PyTorch's `nearest`).
    Floor,
    /// `kCEIL`.
    Ceil,
}

/// A list of integers given either at build time or as a 1-D Int32/Int64 shape tensor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShapeArg {
    /// Known at build time.
    Static(Vec<i64>),
    /// A 1-D shape tensor computed in the network.
    Tensor(TensorId),
}

/// A scalar or per-dimension parameter of a fill layer (alpha/beta).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FillArg {
    /// One value (`setAlpha`/`setBeta` with a double).
    Scalar(f64),
    /// One value per output dimension (linspace `beta`: the delta along each dim).
    PerDim(Vec<f64>),
    /// A tensor input (input 1 for alpha, input 2 for beta), of the output's type.
    Tensor(TensorId),
}

/// Parameters of `addConvolutionNd` / `addDeconvolutionNd`.
///
/// Input is `[N, C, spatial...]` with 2 or 3 spatial dims; the kernel weights are
/// `[K, C / groups, kernel...]` for convolution and `[C, K / groups, kernel...]` for
/// deconvolution; the bias has `K` elements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvolutionParams {
    /// Number of output maps `K`.
    pub num_output_maps: i64,
    /// Kernel extents (2 or 3 dims).
    pub kernel_size: Vec<i64>,
    /// Strides per spatial dim.
    pub stride: Vec<i64>,
    /// Padding before each spatial dim (`setPrePadding`; for deconvolution, trimmed from the
    /// output).
    pub pre_padding: Vec<i64>,
    /// Padding after each spatial dim (`setPostPadding`).
    pub post_padding: Vec<i64>,
    /// Dilation per spatial dim.
    pub dilation: Vec<i64>,
    /// Number of groups (`setNbGroups`).
    pub groups: i64,
}

impl ConvolutionParams {
    /// Stride 1, no padding, dilation 1, one group, for a kernel of the given extents.
    pub fn new(num_output_maps: i64, kernel_size: &[i64]) -> Self {
        let n = kernel_size.len();
        Self {
            num_output_maps,
            kernel_size: kernel_size.to_vec(),
            stride: vec![1; n],
            pre_padding: vec![0; n],
            post_padding: vec![0; n],
            dilation: vec![1; n],
            groups: 1,
        }
    }
}

/// Parameters of `addPoolingNd` (2 or 3 spatial dims, the innermost of the input).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolingParams {
    /// Max, average or blend.
    pub kind: PoolingType,
    /// Window extents.
    pub window: Vec<i64>,
    /// Strides (default: the window).
    pub stride: Vec<i64>,
    /// Padding before each spatial dim.
    pub pre_padding: Vec<i64>,
    /// Padding after each spatial dim.
    pub post_padding: Vec<i64>,
    /// Output-extent rule (`kEXPLICIT_ROUND_UP` for ceil mode).
    pub padding_mode: PaddingMode,
    /// For average pooling: divide by the count of non-padding elements
    /// (`setAverageCountExcludesPadding`, TensorRT's default true; PyTorch's
    /// `count_include_pad=True` means false).
    pub average_count_excludes_padding: bool,
    /// Blend factor for `MaxAverageBlend`.
    pub blend_factor: f32,
}

impl PoolingParams {
    /// Pooling with stride = window, no padding, round-down extents.
    pub fn new(kind: PoolingType, window: &[i64]) -> Self {
        let n = window.len();
        Self {
            kind,
            window: window.to_vec(),
            stride: window.to_vec(),
            pre_padding: vec![0; n],
            post_padding: vec![0; n],
            padding_mode: PaddingMode::ExplicitRoundDown,
            average_count_excludes_padding: true,
            blend_factor: 0.0,
        }
    }
}

/// Parameters of `addShuffle`: first transpose, then reshape, then second transpose.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShuffleParams {
    /// Permutation applied first (`setFirstTranspose`): `out[i] = in[perm[i]]`.
    pub first_transpose: Option<Vec<i32>>,
    /// New dims (`setReshapeDimensions`, or input 1 as a shape tensor). In static dims `0`
    /// copies the corresponding input extent (when `zero_is_placeholder`) and one `-1` is
    /// inferred from the volume.
    pub reshape: Option<ShapeArg>,
    /// Permutation applied last (`setSecondTranspose`).
    pub second_transpose: Option<Vec<i32>>,
    /// `setZeroIsPlaceholder` (TensorRT's default is true; false means `0` is a real zero extent).
    pub zero_is_placeholder: bool,
}

impl ShuffleParams {
    /// A pure reshape to static dims (with TensorRT's `0`/`-1` placeholders).
    pub fn reshape(dims: &[i64]) -> Self {
        Self {
            reshape: Some(ShapeArg::Static(dims.to_vec())),
            zero_is_placeholder: true,
            ..Self::default()
        }
    }

    /// A pure transpose.
    pub fn transpose(perm: &[i32]) -> Self {
        Self {
            first_transpose: Some(perm.to_vec()),
            zero_is_placeholder: true,
            ..Self::default()
        }
    }
}

/// Parameters of `addSlice`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceParams {
    /// Start coordinate per dim (may be negative with wrap/fill modes).
    pub start: ShapeArg,
    /// Output extent per dim.
    pub size: ShapeArg,
    /// Stride per dim (may be negative).
    pub stride: ShapeArg,
    /// What out-of-bounds coordinates read.
    pub mode: SliceMode,
    /// Fill value tensor (scalar of the input's type) for `SliceMode::Fill`; 0 when absent.
    pub fill_value: Option<TensorId>,
}

impl SliceParams {
    /// A static strict-bounds slice.
    pub fn new(start: &[i64], size: &[i64], stride: &[i64]) -> Self {
        Self {
            start: ShapeArg::Static(start.to_vec()),
            size: ShapeArg::Static(size.to_vec()),
            stride: ShapeArg::Static(stride.to_vec()),
            mode: SliceMode::StrictBounds,
            fill_value: None,
        }
    }
}

/// How the output extents of a resize are given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ResizeOutput {
    /// Explicit output dims (`setOutputDimensions`).
    Dims(Vec<i64>),
    /// Scale per dim (`setScales`); output = floor(in * scale).
    Scales(Vec<f32>),
    /// A shape tensor with the output dims (input 1).
    Shape(TensorId),
}

/// Parameters of `addResize`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResizeParams {
    /// Output extents.
    pub output: ResizeOutput,
    /// Interpolation.
    pub mode: ResizeMode,
    /// Coordinate transformation.
    pub coordinate_transformation: ResizeCoordinateTransformation,
    /// Rounding for nearest.
    pub nearest_rounding: ResizeRoundMode,
    /// Cubic coefficient (PyTorch uses -0.75).
    pub cubic_coeff: f32,
    /// Exclude outside pixels in cubic interpolation.
    pub exclude_outside: bool,
}

/// Parameters of `addFill`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FillParams {
    /// Output dims, static or a shape tensor (input 0).
    pub dims: ShapeArg,
    /// Linspace or random.
    pub op: FillOp,
    /// Output type (Int32, Int64 or Float for linspace; Float or Half for random).
    pub dtype: TrtDataType,
    /// Linspace start / random min or mean.
    pub alpha: FillArg,
    /// Linspace delta per dim / random max or standard deviation.
    pub beta: FillArg,
}

/// Errors from building a network: invalid arguments, shape/type errors, or a layer the
/// implementation cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// An argument does not satisfy TensorRT's rules for the layer.
    #[error("invalid {layer} layer: {message}")]
    Invalid {
        /// The layer kind (`convolution`, `shuffle`, ...), or `network`.
        layer: String,
        /// What is wrong.
        message: String,
    },
    /// A tensor handle that this network did not create.
    #[error("unknown tensor {0}")]
    UnknownTensor(TensorId),
    /// The implementation cannot express this layer or setting.
    #[error("unsupported by {backend}: {message}")]
    Unsupported {
        /// Which builder.
        backend: String,
        /// What is missing.
        message: String,
    },
    /// TensorRT refused the call.
    #[error("TensorRT error in {call}: {message}")]
    Trt {
        /// The TensorRT call.
        call: String,
        /// TensorRT's message (from its logger or error), if any.
        message: String,
    },
}

impl NetworkError {
    /// An invalid-argument error not tied to a layer.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid {
            layer: "network".into(),
            message: message.into(),
        }
    }

    /// An invalid-argument error of one layer kind.
    pub fn layer(layer: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            layer: layer.into(),
            message: message.into(),
        }
    }
}

pub use crate::layers::NetworkBuilder;
