//! The layer declarations: one entry per TensorRT layer (see the [module docs](super)).
//!
//! An entry reads:
//!
//! ```text
//! /// docs (on the LayerOp variant and on the builder method)
//! Variant "kind"
//!     fn add_method(builder arguments) -> TensorId;          // or (TensorId, TensorId)
//!     { tensor input: TensorId, attr params: Params = params.clone(), ... }  // the fields
//!     types { input: DTypes::FLOAT }                          // accepted types per input
//!     print print::printer;                                   // optional printer
//!     infer rules::shape_rule;                                // shape rule (fields by value)
//! ```
//!
//! `tensor` fields hold input tensors (visited in declaration order: TensorRT's input order);
//! `attr` fields are attributes. A field without `= expr` takes the builder argument of the
//! same name. The `types` expressions may read the fields (as references).

use super::{print, rules, DTypes};
use crate::network::*;
use crate::settings::OptimizationProfile;

super::declare_layers! {
    /// `addInput`: a network input named `name`. Use `-1` for dynamic extents; each dynamic
    /// input then needs an optimization profile.
    Input "input"
        fn add_input(name: &str, dtype: TrtDataType, dims: &[i64]) -> TensorId;
        { attr name: String = name.to_string(), attr dtype: TrtDataType, attr dims: Vec<i64> = dims.to_vec() }
        types {}
        print print::input;
        infer rules::input;

    /// `addConstant`: a tensor of `dims` holding `weights` (element count must match; any type
    /// but Uint8).
    Constant "constant"
        fn add_constant(dims: &[i64], weights: Weights) -> TensorId;
        { attr dims: Vec<i64> = dims.to_vec(), attr weights: Weights }
        types {}
        print print::constant;
        infer rules::constant;

    /// `addConvolutionNd` (2-D or 3-D; float types only). `kernel` is `[K, C/groups, k...]`,
    /// `bias` has `K` elements. Output `[N, K, out...]` with
    /// `out = floor((in + pre + post - dilation * (k - 1) - 1) / stride) + 1`.
    Convolution "convolution"
        fn add_convolution_nd(input: TensorId, params: &ConvolutionParams, kernel: Weights, bias: Option<Weights>) -> TensorId;
        { tensor input: TensorId, attr params: ConvolutionParams = params.clone(), attr kernel: Weights, attr bias: Option<Weights> }
        types { input: DTypes::FLOAT }
        print print::convolution;
        infer rules::convolution;

    /// `addDeconvolutionNd` (transposed convolution). `kernel` is `[C, K/groups, k...]`.
    /// Output extent `(in - 1) * stride + dilation * (k - 1) + 1 - pre - post`.
    Deconvolution "deconvolution"
        fn add_deconvolution_nd(input: TensorId, params: &ConvolutionParams, kernel: Weights, bias: Option<Weights>) -> TensorId;
        { tensor input: TensorId, attr params: ConvolutionParams = params.clone(), attr kernel: Weights, attr bias: Option<Weights> }
        types { input: DTypes::FLOAT }
        print print::convolution;
        infer rules::deconvolution;

    /// `addMatrixMultiply`: batched `op_a(a) x op_b(b)` over the last two dims (or last dim for
    /// [`MatrixOp::Vector`]); batch dims must have equal rank and broadcast where 1. Float
    /// types only.
    MatrixMultiply "matrix_multiply"
        fn add_matrix_multiply(a: TensorId, op_a: MatrixOp, b: TensorId, op_b: MatrixOp) -> TensorId;
        { tensor a: TensorId, attr op_a: MatrixOp, tensor b: TensorId, attr op_b: MatrixOp }
        types { a: DTypes::FLOAT, b: DTypes::FLOAT }
        print print::matrix_multiply;
        infer rules::matrix_multiply;

    /// `addElementWise`: both inputs of equal type and rank, broadcasting extents of 1.
    /// Comparisons output bool; logical ops take bool.
    ElementWise "elementwise"
        fn add_elementwise(a: TensorId, b: TensorId, op: ElementWiseOp) -> TensorId;
        { tensor a: TensorId, tensor b: TensorId, attr op: ElementWiseOp }
        types { a: rules::elementwise_types(*op), b: rules::elementwise_types(*op) }
        print print::elementwise;
        infer rules::elementwise;

    /// `addUnary`: shape and type kept (bool for `IsInf`/`IsNan`; `Not` takes bool).
    Unary "unary"
        fn add_unary(input: TensorId, op: UnaryOp) -> TensorId;
        { tensor input: TensorId, attr op: UnaryOp }
        types { input: rules::unary_types(*op) }
        print print::unary;
        infer rules::unary;

    /// `addActivation` with `setAlpha`/`setBeta` from the variant's parameters.
    Activation "activation"
        fn add_activation(input: TensorId, activation: Activation) -> TensorId;
        { tensor input: TensorId, attr activation: Activation }
        types { input: rules::activation_types(*activation) }
        print print::activation;
        infer rules::activation;

    /// `addReduce`: reduce the dims whose bit is set in `axes` (bit i = dim i); with
    /// `keep_dims` they stay as extent 1.
    Reduce "reduce"
        fn add_reduce(input: TensorId, op: ReduceOp, axes: u32, keep_dims: bool) -> TensorId;
        { tensor input: TensorId, attr op: ReduceOp, attr axes: u32, attr keep_dims: bool }
        types { input: DTypes::REDUCIBLE }
        print print::reduce;
        infer rules::reduce;

    /// `addSoftMax` + `setAxes(1 << axis)`.
    SoftMax "softmax"
        fn add_softmax(input: TensorId, axis: u32) -> TensorId;
        { tensor input: TensorId, attr axis: u32 }
        types { input: DTypes::FLOAT }
        print print::softmax;
        infer rules::softmax;

    /// `addShuffle`: transpose, reshape (static with 0/-1 placeholders, or from a shape
    /// tensor as input 1), transpose.
    Shuffle "shuffle"
        fn add_shuffle(input: TensorId, params: &ShuffleParams) -> TensorId;
        { tensor input: TensorId, tensor params: ShuffleParams = params.clone() }
        types { input: DTypes::ANY, params: DTypes::INT }
        print print::shuffle;
        infer rules::shuffle;

    /// `addSlice` with static or tensor start/size/stride and a sample mode.
    Slice "slice"
        fn add_slice(input: TensorId, params: &SliceParams) -> TensorId;
        { tensor input: TensorId, tensor params: SliceParams = params.clone() }
        types { input: DTypes::ANY }
        print print::slice;
        infer rules::slice;

    /// `addConcatenation` + `setAxis`: all inputs of one type and rank, equal except on `axis`.
    Concatenation "concatenation"
        fn add_concatenation(inputs: &[TensorId], axis: u32) -> TensorId;
        { tensor inputs: Vec<TensorId> = inputs.to_vec(), attr axis: u32 }
        types { inputs: DTypes::ANY }
        print print::concatenation;
        infer rules::concatenation;

    /// `addGatherV2(data, indices, mode)` + `setGatherAxis(axis)`; indices are Int32 or Int64.
    Gather "gather"
        fn add_gather(data: TensorId, indices: TensorId, axis: u32, mode: GatherMode) -> TensorId;
        { tensor data: TensorId, tensor indices: TensorId, attr axis: u32, attr mode: GatherMode }
        types { data: DTypes::ANY, indices: DTypes::INT }
        print print::gather;
        infer rules::gather;

    /// `addSelect`: `condition ? then : else` with broadcasting; condition is bool.
    Select "select"
        fn add_select(condition: TensorId, then_value: TensorId, else_value: TensorId) -> TensorId;
        { tensor condition: TensorId, tensor then_value: TensorId, tensor else_value: TensorId }
        types { condition: DTypes::BOOL }
        print print::select;
        infer rules::select;

    /// `addCast` to `dtype`.
    Cast "cast"
        fn add_cast(input: TensorId, dtype: TrtDataType) -> TensorId;
        { tensor input: TensorId, attr dtype: TrtDataType }
        types {}
        print print::cast;
        infer rules::cast;

    /// `addShape`: a 1-D Int64 tensor holding the input's dims.
    Shape "shape"
        fn add_shape(input: TensorId) -> TensorId;
        { tensor input: TensorId }
        types {}
        print print::plain;
        infer rules::shape;

    /// `addIdentity`: a copy.
    Identity "identity"
        fn add_identity(input: TensorId) -> TensorId;
        { tensor input: TensorId }
        types {}
        print print::plain;
        infer rules::identity;

    /// `addPoolingNd` with window, stride, pre/post padding, padding mode and average rules.
    Pooling "pooling"
        fn add_pooling_nd(input: TensorId, params: &PoolingParams) -> TensorId;
        { tensor input: TensorId, attr params: PoolingParams = params.clone() }
        types { input: DTypes::FLOAT }
        print print::pooling;
        infer rules::pooling;

    /// `addNormalizationV2(input, scale, bias, axes)` + `setEpsilon` + `setNbGroups`:
    /// `(x - mean) / sqrt(var + eps) * scale + bias` with mean/variance over the `axes` bitmask.
    /// Layer norm: trailing dims, scale/bias shaped like them (with leading 1s). Group norm
    /// with `num_groups > 1`: groups of the channel dim 1, statistics over the group's
    /// channels and `axes`, which must be every dim after the channel; with one group the
    /// statistics are over `axes` only (so a one-group norm names the channel dim in `axes`,
    /// instance norm does not). Scale/bias `[1, C, 1, ...]` (per channel, as PyTorch;
    /// TensorRT 10.15's V2 semantics).
    Normalization "normalization"
        fn add_normalization(input: TensorId, scale: TensorId, bias: TensorId, axes: u32, epsilon: f32, num_groups: i64) -> TensorId;
        { tensor input: TensorId, tensor scale: TensorId, tensor bias: TensorId, attr axes: u32, attr epsilon: f32, attr num_groups: i64 }
        types { input: DTypes::FLOAT, scale: DTypes::FLOAT, bias: DTypes::FLOAT }
        print print::normalization;
        infer rules::normalization;

    /// `addTopK` (`addTopK` with an indices type): returns `(values, indices)`; `axes` has one
    /// bit; indices are Int32 or Int64.
    TopK "topk"
        fn add_topk(input: TensorId, op: TopKOp, k: i32, axes: u32, indices_dtype: TrtDataType) -> (TensorId, TensorId);
        { tensor input: TensorId, attr op: TopKOp, attr k: i32, attr axes: u32, attr indices_dtype: TrtDataType }
        types { input: DTypes::NUMERIC }
        print print::topk;
        infer rules::topk;

    /// `addResize` with its mode settings.
    Resize "resize"
        fn add_resize(input: TensorId, params: &ResizeParams) -> TensorId;
        { tensor input: TensorId, tensor params: ResizeParams = params.clone() }
        types { params: DTypes::INT }
        print print::resize;
        infer rules::resize;

    /// `addFill`: linspace (used for `arange`) or random fill.
    Fill "fill"
        fn add_fill(params: &FillParams) -> TensorId;
        { tensor params: FillParams = params.clone() }
        types {}
        print print::fill;
        infer rules::fill;

    /// `addScatter` (+ `setAxis` for element mode): `data` with `updates` written at `indices`.
    Scatter "scatter"
        fn add_scatter(data: TensorId, indices: TensorId, updates: TensorId, mode: ScatterMode, axis: u32) -> TensorId;
        { tensor data: TensorId, tensor indices: TensorId, tensor updates: TensorId, attr mode: ScatterMode, attr axis: u32 }
        types { data: DTypes::MOVABLE, indices: DTypes::INT, updates: DTypes::MOVABLE }
        print print::scatter;
        infer rules::scatter;

    /// `addOneHot(indices, values, depth, axis)`: `values` is `[off, on]`, `depth` a scalar
    /// Int32 tensor; a new dim of extent depth is inserted at `axis` (-1 appends).
    OneHot "one_hot"
        fn add_one_hot(indices: TensorId, values: TensorId, depth: TensorId, axis: i32) -> TensorId;
        { tensor indices: TensorId, tensor values: TensorId, tensor depth: TensorId, attr axis: i32 }
        types { indices: DTypes::INT, depth: DTypes::of(&[TrtDataType::Int32]) }
        print print::one_hot;
        infer rules::one_hot;

    /// `addCumulative`: cumulative sum along `axis` (exclusive/reverse variants).
    Cumulative "cumulative"
        fn add_cumulative(input: TensorId, axis: u32, op: CumulativeOp, exclusive: bool, reverse: bool) -> TensorId;
        { tensor input: TensorId, attr axis: u32, attr op: CumulativeOp, attr exclusive: bool, attr reverse: bool }
        types { input: DTypes::NUMERIC }
        print print::cumulative;
        infer rules::cumulative;

    /// `addGridSample(input, grid)` + `setInterpolationMode` + `setAlignCorners` +
    /// `setSampleMode`: samples `input` `[N, C, D...]` at the normalized positions of `grid`
    /// `[N, D_out..., r]` (r = 2 or 3 spatial dims, x (innermost dim) first, -1 and 1 the
    /// outer edges, or with `align_corners` the centers of the corner elements). Output
    /// `[N, C, D_out...]`. `sample_mode` is `Fill` (zeros), `Clamp` (border) or `Reflect`.
    GridSample "grid_sample"
        fn add_grid_sample(input: TensorId, grid: TensorId, mode: ResizeMode, align_corners: bool, sample_mode: SliceMode) -> TensorId;
        { tensor input: TensorId, tensor grid: TensorId, attr mode: ResizeMode, attr align_corners: bool, attr sample_mode: SliceMode }
        types { input: DTypes::FLOAT, grid: DTypes::FLOAT }
        infer rules::grid_sample;

    /// `addNonZero(input, indicesType)`: the coordinates of the nonzero (for bool, true)
    /// elements of `input` as a `[rank, n]` matrix of `indices_dtype` (Int32 or Int64), one
    /// column per element in row-major (lexicographic) order. `n` depends on the data: it is
    /// `-1` at build time (0 when the input has statically no elements). NvInfer.h lists
    /// kFLOAT, kHALF, kINT32 and kBOOL inputs.
    NonZero "non_zero"
        fn add_non_zero(input: TensorId, indices_dtype: TrtDataType) -> TensorId;
        { tensor input: TensorId, attr indices_dtype: TrtDataType }
        types { input: DTypes::of(&[TrtDataType::Float, TrtDataType::Half, TrtDataType::Int32, TrtDataType::Bool]) }
        infer rules::non_zero;
}
