//! [`RecordedNetwork`]: a [`NetworkBuilder`] that records layers, infers their output shapes and
//! types as TensorRT does, prints deterministically (one line per layer) for snapshots, and
//! replays into any other [`NetworkBuilder`] (the real TensorRT builder, or another recording).
//!
//! Converters only ever emit into a recording; the real build replays it. The recording is
//! plain data (serde), so it is also what the CPU layer emulator executes.

use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

use crate::network::*;
use crate::settings::OptimizationProfile;

/// One recorded `add_*` call (network inputs included) with its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum LayerOp {
    /// `addInput`.
    Input {
        name: String,
        dtype: TrtDataType,
        dims: Vec<i64>,
    },
    /// `addConstant`.
    Constant { dims: Vec<i64>, weights: Weights },
    /// `addConvolutionNd`.
    Convolution {
        input: TensorId,
        params: ConvolutionParams,
        kernel: Weights,
        bias: Option<Weights>,
    },
    /// `addDeconvolutionNd`.
    Deconvolution {
        input: TensorId,
        params: ConvolutionParams,
        kernel: Weights,
        bias: Option<Weights>,
    },
    /// `addMatrixMultiply`.
    MatrixMultiply {
        a: TensorId,
        op_a: MatrixOp,
        b: TensorId,
        op_b: MatrixOp,
    },
    /// `addElementWise`.
    ElementWise {
        a: TensorId,
        b: TensorId,
        op: ElementWiseOp,
    },
    /// `addUnary`.
    Unary { input: TensorId, op: UnaryOp },
    /// `addActivation`.
    Activation {
        input: TensorId,
        activation: Activation,
    },
    /// `addReduce`.
    Reduce {
        input: TensorId,
        op: ReduceOp,
        axes: u32,
        keep_dims: bool,
    },
    /// `addSoftMax`.
    SoftMax { input: TensorId, axis: u32 },
    /// `addShuffle`.
    Shuffle {
        input: TensorId,
        params: ShuffleParams,
    },
    /// `addSlice`.
    Slice {
        input: TensorId,
        params: SliceParams,
    },
    /// `addConcatenation`.
    Concatenation { inputs: Vec<TensorId>, axis: u32 },
    /// `addGatherV2`.
    Gather {
        data: TensorId,
        indices: TensorId,
        axis: u32,
        mode: GatherMode,
    },
    /// `addSelect`.
    Select {
        condition: TensorId,
        then_value: TensorId,
        else_value: TensorId,
    },
    /// `addCast`.
    Cast { input: TensorId, dtype: TrtDataType },
    /// `addShape`.
    Shape { input: TensorId },
    /// `addIdentity`.
    Identity { input: TensorId },
    /// `addPoolingNd`.
    Pooling {
        input: TensorId,
        params: PoolingParams,
    },
    /// `addNormalization`.
    Normalization {
        input: TensorId,
        scale: TensorId,
        bias: TensorId,
        axes: u32,
        epsilon: f32,
        num_groups: i64,
    },
    /// `addTopK`.
    TopK {
        input: TensorId,
        op: TopKOp,
        k: i32,
        axes: u32,
        indices_dtype: TrtDataType,
    },
    /// `addResize`.
    Resize {
        input: TensorId,
        params: ResizeParams,
    },
    /// `addFill`.
    Fill { params: FillParams },
    /// `addScatter`.
    Scatter {
        data: TensorId,
        indices: TensorId,
        updates: TensorId,
        mode: ScatterMode,
        axis: u32,
    },
    /// `addOneHot`.
    OneHot {
        indices: TensorId,
        values: TensorId,
        depth: TensorId,
        axis: i32,
    },
    /// `addCumulative`.
    Cumulative {
        input: TensorId,
        axis: u32,
        op: CumulativeOp,
        exclusive: bool,
        reverse: bool,
    },
}

impl LayerOp {
    /// The layer kind as printed (`convolution`, `shuffle`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Input { .. } => "input",
            Self::Constant { .. } => "constant",
            Self::Convolution { .. } => "convolution",
            Self::Deconvolution { .. } => "deconvolution",
            Self::MatrixMultiply { .. } => "matrix_multiply",
            Self::ElementWise { .. } => "elementwise",
            Self::Unary { .. } => "unary",
            Self::Activation { .. } => "activation",
            Self::Reduce { .. } => "reduce",
            Self::SoftMax { .. } => "softmax",
            Self::Shuffle { .. } => "shuffle",
            Self::Slice { .. } => "slice",
            Self::Concatenation { .. } => "concatenation",
            Self::Gather { .. } => "gather",
            Self::Select { .. } => "select",
            Self::Cast { .. } => "cast",
            Self::Shape { .. } => "shape",
            Self::Identity { .. } => "identity",
            Self::Pooling { .. } => "pooling",
            Self::Normalization { .. } => "normalization",
            Self::TopK { .. } => "topk",
            Self::Resize { .. } => "resize",
            Self::Fill { .. } => "fill",
            Self::Scatter { .. } => "scatter",
            Self::OneHot { .. } => "one_hot",
            Self::Cumulative { .. } => "cumulative",
        }
    }

    /// The tensors this layer reads, in TensorRT's input order.
    pub fn inputs(&self) -> Vec<TensorId> {
        fn shape_arg(v: &mut Vec<TensorId>, a: &ShapeArg) {
            if let ShapeArg::Tensor(t) = a {
                v.push(*t);
            }
        }
        let mut v = Vec::new();
        match self {
            Self::Input { .. } | Self::Constant { .. } => {}
            Self::Convolution { input, .. }
            | Self::Deconvolution { input, .. }
            | Self::Unary { input, .. }
            | Self::Activation { input, .. }
            | Self::Reduce { input, .. }
            | Self::SoftMax { input, .. }
            | Self::Cast { input, .. }
            | Self::Shape { input }
            | Self::Identity { input }
            | Self::Pooling { input, .. }
            | Self::TopK { input, .. }
            | Self::Cumulative { input, .. } => v.push(*input),
            Self::MatrixMultiply { a, b, .. } | Self::ElementWise { a, b, .. } => {
                v.extend([*a, *b])
            }
            Self::Shuffle { input, params } => {
                v.push(*input);
                if let Some(r) = &params.reshape {
                    shape_arg(&mut v, r);
                }
            }
            Self::Slice { input, params } => {
                v.push(*input);
                shape_arg(&mut v, &params.start);
                shape_arg(&mut v, &params.size);
                shape_arg(&mut v, &params.stride);
                v.extend(params.fill_value);
            }
            Self::Concatenation { inputs, .. } => v.extend(inputs.iter().copied()),
            Self::Gather { data, indices, .. } => v.extend([*data, *indices]),
            Self::Select {
                condition,
                then_value,
                else_value,
            } => v.extend([*condition, *then_value, *else_value]),
            Self::Normalization {
                input, scale, bias, ..
            } => v.extend([*input, *scale, *bias]),
            Self::Resize { input, params } => {
                v.push(*input);
                if let ResizeOutput::Shape(t) = params.output {
                    v.push(t);
                }
            }
            Self::Fill { params } => {
                shape_arg(&mut v, &params.dims);
                for a in [&params.alpha, &params.beta] {
                    if let FillArg::Tensor(t) = a {
                        v.push(*t);
                    }
                }
            }
            Self::Scatter {
                data,
                indices,
                updates,
                ..
            } => v.extend([*data, *indices, *updates]),
            Self::OneHot {
                indices,
                values,
                depth,
                ..
            } => v.extend([*indices, *values, *depth]),
        }
        v
    }
}

/// One recorded layer: the call and the tensors it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedLayer {
    /// The call.
    pub op: LayerOp,
    /// Output tensors (two for TopK, one otherwise).
    pub outputs: Vec<TensorId>,
}

/// A network output: the marked tensor and its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedOutput {
    /// Output name.
    pub name: String,
    /// The marked tensor.
    pub tensor: TensorId,
}

/// A recorded TensorRT network: layers in creation order, each tensor's inferred type, the
/// marked outputs and the optimization profiles.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RecordedNetwork {
    /// Layers (and inputs) in creation order.
    pub layers: Vec<RecordedLayer>,
    /// Type of every tensor, indexed by [`TensorId`].
    pub tensors: Vec<TensorDesc>,
    /// Marked outputs, in marking order.
    pub outputs: Vec<RecordedOutput>,
    /// Optimization profiles.
    pub profiles: Vec<OptimizationProfile>,
    /// Known element values of small integer tensors (shape arithmetic): `None` when unknown,
    /// `Some(v)` with `v[i] = None` for an element unknown at build time.
    #[serde(default)]
    shape_values: Vec<Option<Vec<Option<i64>>>>,
}

impl RecordedNetwork {
    /// An empty network.
    pub fn new() -> Self {
        Self::default()
    }

    /// Network inputs as `(name, tensor)` in creation order.
    pub fn inputs(&self) -> impl Iterator<Item = (&str, TensorId)> {
        self.layers.iter().filter_map(|l| match &l.op {
            LayerOp::Input { name, .. } => Some((name.as_str(), l.outputs[0])),
            _ => None,
        })
    }

    /// Number of layers (inputs excluded), as TensorRT counts them.
    pub fn num_layers(&self) -> usize {
        self.layers
            .iter()
            .filter(|l| !matches!(l.op, LayerOp::Input { .. }))
            .count()
    }

    /// How many tensors of each floating-point type (f32, f16, bf16; those with none left out)
    /// the network has: a strongly typed network's precision is the types of its tensors.
    pub fn float_tensor_counts(&self) -> Vec<(TrtDataType, usize)> {
        [TrtDataType::Float, TrtDataType::Half, TrtDataType::Bf16]
            .into_iter()
            .map(|d| (d, self.tensors.iter().filter(|t| t.dtype == d).count()))
            .filter(|&(_, k)| k > 0)
            .collect()
    }

    /// Known values of an integer shape tensor (see the field docs), if tracked.
    pub fn shape_value(&self, t: TensorId) -> Option<&[Option<i64>]> {
        self.shape_values.get(t.index())?.as_deref()
    }

    /// Checks a network read from outside (an artifact) as thoroughly as one built here: every
    /// call is replayed through the recording builder, which applies TensorRT's shape and type
    /// rules to each layer, and the result must be this network exactly (same tensor ids, types,
    /// outputs, profiles and tracked shape values). A network that passes is one the converters
    /// could have produced, so the emulator and the real builder can trust its ids and types.
    pub fn validate(&self) -> Result<(), NetworkError> {
        let produced: usize = self.layers.iter().map(|l| l.outputs.len()).sum();
        if produced != self.tensors.len() {
            return Err(NetworkError::invalid(format!(
                "{} tensor types are recorded, but the layers produce {produced} tensors",
                self.tensors.len()
            )));
        }
        let mut replayed = RecordedNetwork::new();
        self.replay_into(&mut replayed)?;
        if let Some(i) = (0..self.tensors.len().max(replayed.tensors.len()))
            .find(|&i| self.tensors.get(i) != replayed.tensors.get(i))
        {
            let show = |d: Option<&TensorDesc>| d.map_or("nothing".to_string(), |d| d.to_string());
            return Err(NetworkError::invalid(format!(
                "tensor {i} is recorded as {}, but its layer produces {}",
                show(self.tensors.get(i)),
                show(replayed.tensors.get(i))
            )));
        }
        if *self != replayed {
            return Err(NetworkError::invalid(
                "the recorded layers, outputs or shape values differ from what replaying them gives",
            ));
        }
        Ok(())
    }

    /// Replays every call into `target`, marks the same outputs and adds the same profiles.
    /// Returns the target's tensor for each recorded tensor (indexed by recorded id).
    pub fn replay_into<B: NetworkBuilder + ?Sized>(
        &self,
        target: &mut B,
    ) -> Result<Vec<TensorId>, NetworkError> {
        let mut map: Vec<Option<TensorId>> = vec![None; self.tensors.len()];
        let m = |map: &Vec<Option<TensorId>>, t: TensorId| -> Result<TensorId, NetworkError> {
            map.get(t.index())
                .copied()
                .flatten()
                .ok_or(NetworkError::UnknownTensor(t))
        };
        let ms = |map: &Vec<Option<TensorId>>, a: &ShapeArg| -> Result<ShapeArg, NetworkError> {
            Ok(match a {
                ShapeArg::Static(v) => ShapeArg::Static(v.clone()),
                ShapeArg::Tensor(t) => ShapeArg::Tensor(m(map, *t)?),
            })
        };
        let mf = |map: &Vec<Option<TensorId>>, a: &FillArg| -> Result<FillArg, NetworkError> {
            Ok(match a {
                FillArg::Tensor(t) => FillArg::Tensor(m(map, *t)?),
                other => other.clone(),
            })
        };
        for layer in &self.layers {
            let outs: Vec<TensorId> = match &layer.op {
                LayerOp::Input { name, dtype, dims } => vec![target.add_input(name, *dtype, dims)?],
                LayerOp::Constant { dims, weights } => {
                    vec![target.add_constant(dims, weights.clone())?]
                }
                LayerOp::Convolution {
                    input,
                    params,
                    kernel,
                    bias,
                } => vec![target.add_convolution_nd(
                    m(&map, *input)?,
                    params,
                    kernel.clone(),
                    bias.clone(),
                )?],
                LayerOp::Deconvolution {
                    input,
                    params,
                    kernel,
                    bias,
                } => vec![target.add_deconvolution_nd(
                    m(&map, *input)?,
                    params,
                    kernel.clone(),
                    bias.clone(),
                )?],
                LayerOp::MatrixMultiply { a, op_a, b, op_b } => {
                    vec![target.add_matrix_multiply(m(&map, *a)?, *op_a, m(&map, *b)?, *op_b)?]
                }
                LayerOp::ElementWise { a, b, op } => {
                    vec![target.add_elementwise(m(&map, *a)?, m(&map, *b)?, *op)?]
                }
                LayerOp::Unary { input, op } => vec![target.add_unary(m(&map, *input)?, *op)?],
                LayerOp::Activation { input, activation } => {
                    vec![target.add_activation(m(&map, *input)?, *activation)?]
                }
                LayerOp::Reduce {
                    input,
                    op,
                    axes,
                    keep_dims,
                } => vec![target.add_reduce(m(&map, *input)?, *op, *axes, *keep_dims)?],
                LayerOp::SoftMax { input, axis } => {
                    vec![target.add_softmax(m(&map, *input)?, *axis)?]
                }
                LayerOp::Shuffle { input, params } => {
                    let mut p = params.clone();
                    if let Some(r) = &params.reshape {
                        p.reshape = Some(ms(&map, r)?);
                    }
                    vec![target.add_shuffle(m(&map, *input)?, &p)?]
                }
                LayerOp::Slice { input, params } => {
                    let p = SliceParams {
                        start: ms(&map, &params.start)?,
                        size: ms(&map, &params.size)?,
                        stride: ms(&map, &params.stride)?,
                        mode: params.mode,
                        fill_value: params.fill_value.map(|t| m(&map, t)).transpose()?,
                    };
                    vec![target.add_slice(m(&map, *input)?, &p)?]
                }
                LayerOp::Concatenation { inputs, axis } => {
                    let ins = inputs
                        .iter()
                        .map(|t| m(&map, *t))
                        .collect::<Result<Vec<_>, _>>()?;
                    vec![target.add_concatenation(&ins, *axis)?]
                }
                LayerOp::Gather {
                    data,
                    indices,
                    axis,
                    mode,
                } => vec![target.add_gather(m(&map, *data)?, m(&map, *indices)?, *axis, *mode)?],
                LayerOp::Select {
                    condition,
                    then_value,
                    else_value,
                } => vec![target.add_select(
                    m(&map, *condition)?,
                    m(&map, *then_value)?,
                    m(&map, *else_value)?,
                )?],
                LayerOp::Cast { input, dtype } => vec![target.add_cast(m(&map, *input)?, *dtype)?],
                LayerOp::Shape { input } => vec![target.add_shape(m(&map, *input)?)?],
                LayerOp::Identity { input } => vec![target.add_identity(m(&map, *input)?)?],
                LayerOp::Pooling { input, params } => {
                    vec![target.add_pooling_nd(m(&map, *input)?, params)?]
                }
                LayerOp::Normalization {
                    input,
                    scale,
                    bias,
                    axes,
                    epsilon,
                    num_groups,
                } => vec![target.add_normalization(
                    m(&map, *input)?,
                    m(&map, *scale)?,
                    m(&map, *bias)?,
                    *axes,
                    *epsilon,
                    *num_groups,
                )?],
                LayerOp::TopK {
                    input,
                    op,
                    k,
                    axes,
                    indices_dtype,
                } => {
                    let (v, i) =
                        target.add_topk(m(&map, *input)?, *op, *k, *axes, *indices_dtype)?;
                    vec![v, i]
                }
                LayerOp::Resize { input, params } => {
                    let mut p = params.clone();
                    if let ResizeOutput::Shape(t) = params.output {
                        p.output = ResizeOutput::Shape(m(&map, t)?);
                    }
                    vec![target.add_resize(m(&map, *input)?, &p)?]
                }
                LayerOp::Fill { params } => {
                    let p = FillParams {
                        dims: ms(&map, &params.dims)?,
                        op: params.op,
                        dtype: params.dtype,
                        alpha: mf(&map, &params.alpha)?,
                        beta: mf(&map, &params.beta)?,
                    };
                    vec![target.add_fill(&p)?]
                }
                LayerOp::Scatter {
                    data,
                    indices,
                    updates,
                    mode,
                    axis,
                } => vec![target.add_scatter(
                    m(&map, *data)?,
                    m(&map, *indices)?,
                    m(&map, *updates)?,
                    *mode,
                    *axis,
                )?],
                LayerOp::OneHot {
                    indices,
                    values,
                    depth,
                    axis,
                } => vec![target.add_one_hot(
                    m(&map, *indices)?,
                    m(&map, *values)?,
                    m(&map, *depth)?,
                    *axis,
                )?],
                LayerOp::Cumulative {
                    input,
                    axis,
                    op,
                    exclusive,
                    reverse,
                } => vec![target.add_cumulative(
                    m(&map, *input)?,
                    *axis,
                    *op,
                    *exclusive,
                    *reverse,
                )?],
            };
            if outs.len() != layer.outputs.len() {
                return Err(NetworkError::invalid(format!(
                    "replaying {}: {} outputs recorded, {} produced",
                    layer.op.kind(),
                    layer.outputs.len(),
                    outs.len()
                )));
            }
            for (rec, new) in layer.outputs.iter().zip(outs) {
                map[rec.index()] = Some(new);
            }
        }
        for o in &self.outputs {
            target.mark_output(m(&map, o.tensor)?, &o.name)?;
        }
        for p in &self.profiles {
            target.add_optimization_profile(p)?;
        }
        map.into_iter()
            .enumerate()
            .map(|(i, t)| t.ok_or(NetworkError::UnknownTensor(TensorId(i as u32))))
            .collect()
    }

    fn desc(&self, t: TensorId) -> Result<&TensorDesc, NetworkError> {
        self.tensors
            .get(t.index())
            .ok_or(NetworkError::UnknownTensor(t))
    }

    fn push(
        &mut self,
        op: LayerOp,
        outs: Vec<(TensorDesc, Option<Vec<Option<i64>>>)>,
    ) -> Vec<TensorId> {
        let mut ids = Vec::with_capacity(outs.len());
        for (desc, value) in outs {
            let id = TensorId(self.tensors.len() as u32);
            self.tensors.push(desc);
            self.shape_values.push(value);
            ids.push(id);
        }
        self.layers.push(RecordedLayer {
            op,
            outputs: ids.clone(),
        });
        ids
    }

    fn push1(&mut self, op: LayerOp, desc: TensorDesc) -> TensorId {
        self.push(op, vec![(desc, None)])[0]
    }

    fn sv(&self, t: TensorId) -> Option<Vec<Option<i64>>> {
        self.shape_values.get(t.index()).cloned().flatten()
    }
}

fn err<T>(layer: &str, message: impl Into<String>) -> Result<T, NetworkError> {
    Err(NetworkError::layer(layer, message))
}

/// Broadcasts extents TensorRT-style: equal ranks, extents equal or 1; `-1` stays unknown
/// unless the other side fixes it.
fn broadcast(layer: &str, descs: &[&TensorDesc]) -> Result<Vec<i64>, NetworkError> {
    let rank = descs[0].rank();
    if descs.iter().any(|d| d.rank() != rank) {
        let shapes: Vec<String> = descs.iter().map(|d| d.to_string()).collect();
        return err(
            layer,
            format!(
                "inputs must have the same rank (TensorRT does not broadcast ranks): {}",
                shapes.join(", ")
            ),
        );
    }
    let mut out = Vec::with_capacity(rank);
    for i in 0..rank {
        let mut acc: i64 = 1;
        let mut unknown = false;
        for d in descs {
            let e = d.dims[i];
            if e == 1 {
                continue;
            }
            if e < 0 {
                unknown = true;
                continue;
            }
            if acc != 1 && acc != e {
                let shapes: Vec<String> = descs.iter().map(|d| d.to_string()).collect();
                return err(
                    layer,
                    format!("dim {i} does not broadcast: {}", shapes.join(", ")),
                );
            }
            acc = e;
        }
        out.push(if acc != 1 {
            acc
        } else if unknown {
            -1
        } else {
            1
        });
    }
    Ok(out)
}

fn check_axis(layer: &str, axis: u32, rank: usize) -> Result<usize, NetworkError> {
    let a = axis as usize;
    if a >= rank {
        return err(layer, format!("axis {axis} out of range for rank {rank}"));
    }
    Ok(a)
}

fn check_mask(layer: &str, axes: u32, rank: usize) -> Result<(), NetworkError> {
    if rank < 32 && axes >> rank != 0 {
        return err(
            layer,
            format!("axes mask {axes:#b} names dims beyond rank {rank}"),
        );
    }
    Ok(())
}

fn check_perm(layer: &str, perm: &[i32], rank: usize) -> Result<(), NetworkError> {
    let mut seen = vec![false; rank];
    if perm.len() != rank {
        return err(
            layer,
            format!("permutation {perm:?} does not have rank {rank}"),
        );
    }
    for &p in perm {
        let ok = p >= 0 && (p as usize) < rank && !seen[p as usize];
        if !ok {
            return err(layer, format!("{perm:?} is not a permutation of 0..{rank}"));
        }
        seen[p as usize] = true;
    }
    Ok(())
}

fn permute(dims: &[i64], perm: &[i32]) -> Vec<i64> {
    perm.iter().map(|&p| dims[p as usize]).collect()
}

/// Output extent of convolution/pooling along one dim.
fn window_out(
    input: i64,
    window: i64,
    stride: i64,
    pre: i64,
    post: i64,
    dilation: i64,
    mode: PaddingMode,
) -> i64 {
    if input < 0 {
        return -1;
    }
    let eff = dilation * (window - 1) + 1;
    match mode {
        PaddingMode::ExplicitRoundDown => (input + pre + post - eff).div_euclid(stride) + 1,
        PaddingMode::ExplicitRoundUp => {
            (input + pre + post - eff + stride - 1).div_euclid(stride) + 1
        }
        PaddingMode::SameUpper | PaddingMode::SameLower => (input + stride - 1) / stride,
    }
}

/// 1-D tensor length of a shape argument (`None` for static args).
fn shape_arg_len(
    net: &RecordedNetwork,
    layer: &str,
    a: &ShapeArg,
) -> Result<Option<usize>, NetworkError> {
    match a {
        ShapeArg::Static(v) => Ok(Some(v.len())),
        ShapeArg::Tensor(t) => {
            let d = net.desc(*t)?;
            if d.rank() != 1 || !d.dtype.is_int() {
                return err(
                    layer,
                    format!("shape tensor {t} must be 1-D i32/i64, got {d}"),
                );
            }
            if d.dims[0] < 0 {
                return err(
                    layer,
                    format!("shape tensor {t} must have a build-time length, got {d}"),
                );
            }
            Ok(Some(d.dims[0] as usize))
        }
    }
}

/// Values of a shape argument as far as known.
fn shape_arg_values(net: &RecordedNetwork, a: &ShapeArg) -> Option<Vec<Option<i64>>> {
    match a {
        ShapeArg::Static(v) => Some(v.iter().map(|&x| Some(x)).collect()),
        ShapeArg::Tensor(t) => net.sv(*t),
    }
}

/// Resolves reshape dims with TensorRT's placeholders (`0` copies, one `-1` inferred). An
/// unknown input extent copied by a `0` placeholder cancels out, so `[0, -1]` on `[?, 4, 8]`
/// gives `[?, 32]` as in TensorRT.
fn reshape_dims(
    input: &[i64],
    target: &[Option<i64>],
    zero_is_placeholder: bool,
) -> Result<Vec<i64>, NetworkError> {
    let mut out = Vec::with_capacity(target.len());
    let mut copied = vec![false; input.len()];
    let mut is_copy = vec![false; target.len()];
    let mut infer_at = None;
    for (i, t) in target.iter().enumerate() {
        match *t {
            None => out.push(-1),
            Some(0) if zero_is_placeholder => {
                let Some(&e) = input.get(i) else {
                    return err(
                        "shuffle",
                        format!(
                            "reshape placeholder 0 at dim {i} but the input has rank {}",
                            input.len()
                        ),
                    );
                };
                copied[i] = true;
                is_copy[i] = true;
                out.push(e);
            }
            Some(-1) => {
                if infer_at.is_some() {
                    return err("shuffle", "more than one -1 in reshape dims");
                }
                infer_at = Some(i);
                out.push(-1);
            }
            Some(e) if e < 0 => return err("shuffle", format!("negative reshape extent {e}")),
            Some(e) => out.push(e),
        }
    }
    fn known(mut it: impl Iterator<Item = i64>) -> Option<i64> {
        it.try_fold(1i64, |a, d| if d < 0 { None } else { Some(a * d) })
    }
    // Volumes without the extents that a placeholder copies unchanged.
    let in_rest = known(
        input
            .iter()
            .enumerate()
            .filter(|(i, _)| !copied[*i])
            .map(|(_, &d)| d),
    );
    let out_rest = known(
        out.iter()
            .enumerate()
            .filter(|(i, _)| !is_copy[*i] && Some(*i) != infer_at)
            .map(|(_, &d)| d),
    );
    match (infer_at, in_rest, out_rest) {
        (Some(i), Some(v), Some(r)) => {
            if r == 0 || v % r != 0 {
                return err(
                    "shuffle",
                    format!("cannot reshape {input:?} to {target:?}: volumes do not divide"),
                );
            }
            out[i] = v / r;
        }
        (None, Some(v), Some(r)) if v != r => {
            return err(
                "shuffle",
                format!("reshape changes the volume: {input:?} to {out:?}"),
            );
        }
        _ => {}
    }
    Ok(out)
}

fn check_float(layer: &str, d: &TensorDesc) -> Result<(), NetworkError> {
    if !d.dtype.is_float() {
        return err(
            layer,
            format!("input must be f32, f16 or bf16, got {d} (TensorRT has no integer {layer})"),
        );
    }
    Ok(())
}

fn check_weights(layer: &str, what: &str, w: &Weights) -> Result<(), NetworkError> {
    let need = (w.count as u128 * w.dtype.size_bits() as u128).div_ceil(8);
    if need != w.bytes.len() as u128 {
        return err(
            layer,
            format!(
                "{what} weights: {} {} elements need {need} bytes, got {}",
                w.count,
                w.dtype,
                w.bytes.len()
            ),
        );
    }
    Ok(())
}

impl RecordedNetwork {
    fn conv_like(
        &mut self,
        deconv: bool,
        input: TensorId,
        params: &ConvolutionParams,
        kernel: Weights,
        bias: Option<Weights>,
    ) -> Result<TensorId, NetworkError> {
        let layer = if deconv {
            "deconvolution"
        } else {
            "convolution"
        };
        let d = self.desc(input)?.clone();
        check_float(layer, &d)?;
        let n = params.kernel_size.len();
        if !(n == 2 || n == 3) {
            return err(layer, format!("only 2-D and 3-D kernels exist, got {n}-D"));
        }
        for (what, v) in [
            ("stride", &params.stride),
            ("pre_padding", &params.pre_padding),
            ("post_padding", &params.post_padding),
            ("dilation", &params.dilation),
        ] {
            if v.len() != n {
                return err(layer, format!("{what} {v:?} must have {n} entries"));
            }
        }
        if params.stride.iter().chain(&params.dilation).any(|&s| s < 1) {
            return err(layer, "stride and dilation must be >= 1");
        }
        if d.rank() < n + 2 {
            return err(
                layer,
                format!("input {d} needs rank >= {} for a {n}-D kernel", n + 2),
            );
        }
        let g = params.groups;
        let k = params.num_output_maps;
        let c = d.dims[d.rank() - n - 1];
        if g < 1 || k < 1 || k % g != 0 || (c >= 0 && c % g != 0) {
            return err(
                layer,
                format!("channels {c} and output maps {k} must be divisible by groups {g}"),
            );
        }
        check_weights(layer, "kernel", &kernel)?;
        if c >= 0 {
            let kvol: i64 = params.kernel_size.iter().product();
            let want = if deconv {
                c * (k / g) * kvol
            } else {
                k * (c / g) * kvol
            };
            if kernel.count != want {
                return err(
                    layer,
                    format!("kernel has {} elements, expected {want}", kernel.count),
                );
            }
        }
        if let Some(b) = &bias {
            check_weights(layer, "bias", b)?;
            if b.count != k {
                return err(
                    layer,
                    format!("bias has {} elements, expected {k}", b.count),
                );
            }
        }
        let mut dims = d.dims.clone();
        let r = dims.len();
        dims[r - n - 1] = k;
        for i in 0..n {
            let x = d.dims[r - n + i];
            dims[r - n + i] = if deconv {
                if x < 0 {
                    -1
                } else {
                    (x - 1) * params.stride[i]
                        + params.dilation[i] * (params.kernel_size[i] - 1)
                        + 1
                        - params.pre_padding[i]
                        - params.post_padding[i]
                }
            } else {
                window_out(
                    x,
                    params.kernel_size[i],
                    params.stride[i],
                    params.pre_padding[i],
                    params.post_padding[i],
                    params.dilation[i],
                    PaddingMode::ExplicitRoundDown,
                )
            };
            if dims[r - n + i] == 0 || dims[r - n + i] < -1 {
                return err(
                    layer,
                    format!("output extent {} <= 0 for input {d}", dims[r - n + i]),
                );
            }
        }
        let op = if deconv {
            LayerOp::Deconvolution {
                input,
                params: params.clone(),
                kernel,
                bias,
            }
        } else {
            LayerOp::Convolution {
                input,
                params: params.clone(),
                kernel,
                bias,
            }
        };
        Ok(self.push1(op, TensorDesc::new(d.dtype, dims)))
    }
}

impl NetworkBuilder for RecordedNetwork {
    fn tensor_desc(&self, tensor: TensorId) -> Result<TensorDesc, NetworkError> {
        self.desc(tensor).cloned()
    }

    fn add_input(
        &mut self,
        name: &str,
        dtype: TrtDataType,
        dims: &[i64],
    ) -> Result<TensorId, NetworkError> {
        if self.inputs().any(|(n, _)| n == name) {
            return err("input", format!("duplicate input name {name:?}"));
        }
        if dims.len() > 8 || dims.iter().any(|&d| d < -1) {
            return err(
                "input",
                format!("dims {dims:?}: at most 8 dims, each >= 0 or -1"),
            );
        }
        Ok(self.push1(
            LayerOp::Input {
                name: name.to_string(),
                dtype,
                dims: dims.to_vec(),
            },
            TensorDesc::new(dtype, dims),
        ))
    }

    fn mark_output(&mut self, tensor: TensorId, name: &str) -> Result<(), NetworkError> {
        self.desc(tensor)?;
        if self.outputs.iter().any(|o| o.name == name) {
            return err("output", format!("duplicate output name {name:?}"));
        }
        self.outputs.push(RecordedOutput {
            name: name.to_string(),
            tensor,
        });
        Ok(())
    }

    fn add_constant(&mut self, dims: &[i64], weights: Weights) -> Result<TensorId, NetworkError> {
        if dims.iter().any(|&d| d < 0) || dims.len() > 8 {
            return err(
                "constant",
                format!("dims {dims:?} must be static, rank <= 8"),
            );
        }
        if weights.dtype == TrtDataType::Uint8 {
            return err("constant", "Uint8 constants are not allowed; use a cast");
        }
        check_weights("constant", "constant", &weights)?;
        let vol: i64 = dims.iter().product();
        if vol != weights.count {
            return err(
                "constant",
                format!(
                    "dims {dims:?} hold {vol} elements, weights have {}",
                    weights.count
                ),
            );
        }
        let value = if dims.len() <= 1 && vol <= 8 {
            weights
                .to_i64_vec()
                .map(|v| v.into_iter().map(Some).collect())
        } else {
            None
        };
        let desc = TensorDesc::new(weights.dtype, dims);
        Ok(self.push(
            LayerOp::Constant {
                dims: dims.to_vec(),
                weights,
            },
            vec![(desc, value)],
        )[0])
    }

    fn add_convolution_nd(
        &mut self,
        input: TensorId,
        params: &ConvolutionParams,
        kernel: Weights,
        bias: Option<Weights>,
    ) -> Result<TensorId, NetworkError> {
        self.conv_like(false, input, params, kernel, bias)
    }

    fn add_deconvolution_nd(
        &mut self,
        input: TensorId,
        params: &ConvolutionParams,
        kernel: Weights,
        bias: Option<Weights>,
    ) -> Result<TensorId, NetworkError> {
        self.conv_like(true, input, params, kernel, bias)
    }

    fn add_matrix_multiply(
        &mut self,
        a: TensorId,
        op_a: MatrixOp,
        b: TensorId,
        op_b: MatrixOp,
    ) -> Result<TensorId, NetworkError> {
        let l = "matrix_multiply";
        let (da, db) = (self.desc(a)?.clone(), self.desc(b)?.clone());
        check_float(l, &da)?;
        if da.dtype != db.dtype {
            return err(l, format!("input types differ: {da} x {db}"));
        }
        // (batch dims, rows, cols) of each operand; a vector is (batch, None, len).
        let split =
            |d: &TensorDesc, op: MatrixOp| -> Result<(Vec<i64>, Option<i64>, i64), NetworkError> {
                match op {
                    MatrixOp::Vector => {
                        if d.rank() < 1 {
                            return err(l, format!("vector operand {d} needs rank >= 1"));
                        }
                        Ok((d.dims[..d.rank() - 1].to_vec(), None, d.dims[d.rank() - 1]))
                    }
                    _ => {
                        if d.rank() < 2 {
                            return err(l, format!("matrix operand {d} needs rank >= 2"));
                        }
                        let (r, c) = (d.dims[d.rank() - 2], d.dims[d.rank() - 1]);
                        let (r, c) = if op == MatrixOp::Transpose {
                            (c, r)
                        } else {
                            (r, c)
                        };
                        Ok((d.dims[..d.rank() - 2].to_vec(), Some(r), c))
                    }
                }
            };
        let (ba, ra, ca) = split(&da, op_a)?;
        let (bb, rb, cb) = split(&db, op_b)?;
        // Inner dims: a's columns against b's rows (a vector b is a column).
        let (ka, kb) = (ca, rb.unwrap_or(cb));
        if ka >= 0 && kb >= 0 && ka != kb {
            return err(
                l,
                format!("inner dims differ: {da} ({op_a:?}) x {db} ({op_b:?})"),
            );
        }
        let batch = broadcast(
            l,
            &[
                &TensorDesc::new(da.dtype, ba),
                &TensorDesc::new(db.dtype, bb),
            ],
        )?;
        let mut dims = batch;
        if let Some(r) = ra {
            dims.push(r);
        }
        if rb.is_some() {
            dims.push(cb);
        }
        Ok(self.push1(
            LayerOp::MatrixMultiply { a, op_a, b, op_b },
            TensorDesc::new(da.dtype, dims),
        ))
    }

    fn add_elementwise(
        &mut self,
        a: TensorId,
        b: TensorId,
        op: ElementWiseOp,
    ) -> Result<TensorId, NetworkError> {
        let l = "elementwise";
        let (da, db) = (self.desc(a)?.clone(), self.desc(b)?.clone());
        if da.dtype != db.dtype {
            return err(
                l,
                format!(
                    "{} of {da} and {db}: types differ (strongly typed network; cast first)",
                    op.name()
                ),
            );
        }
        if op.is_logical() != (da.dtype == TrtDataType::Bool) {
            return err(
                l,
                format!("{} is not defined for {} inputs", op.name(), da.dtype),
            );
        }
        let dims = broadcast(l, &[&da, &db])?;
        let dtype = if op.is_comparison() {
            TrtDataType::Bool
        } else {
            da.dtype
        };
        // Track shape arithmetic on small integer tensors.
        let value = match (self.sv(a), self.sv(b)) {
            (Some(x), Some(y)) if x.len() == y.len() || x.len() == 1 || y.len() == 1 => {
                let n = x.len().max(y.len());
                let get = |v: &Vec<Option<i64>>, i: usize| if v.len() == 1 { v[0] } else { v[i] };
                let f = |p: i64, q: i64| -> Option<i64> {
                    match op {
                        ElementWiseOp::Sum => p.checked_add(q),
                        ElementWiseOp::Sub => p.checked_sub(q),
                        ElementWiseOp::Prod => p.checked_mul(q),
                        ElementWiseOp::Max => Some(p.max(q)),
                        ElementWiseOp::Min => Some(p.min(q)),
                        ElementWiseOp::FloorDiv if q != 0 => Some(p.div_euclid(q)),
                        _ => None,
                    }
                };
                if dtype.is_int() {
                    Some(
                        (0..n)
                            .map(|i| match (get(&x, i), get(&y, i)) {
                                (Some(p), Some(q)) => f(p, q),
                                _ => None,
                            })
                            .collect(),
                    )
                } else {
                    None
                }
            }
            _ => None,
        };
        Ok(self.push(
            LayerOp::ElementWise { a, b, op },
            vec![(TensorDesc::new(dtype, dims), value)],
        )[0])
    }

    fn add_unary(&mut self, input: TensorId, op: UnaryOp) -> Result<TensorId, NetworkError> {
        let d = self.desc(input)?.clone();
        let ok = match op {
            UnaryOp::Not => d.dtype == TrtDataType::Bool,
            UnaryOp::Abs | UnaryOp::Neg | UnaryOp::Sign => d.dtype.is_float() || d.dtype.is_int(),
            _ => d.dtype.is_float(),
        };
        if !ok {
            return err(
                "unary",
                format!("{} is not defined for {} inputs", op.name(), d.dtype),
            );
        }
        let dtype = match op {
            UnaryOp::IsInf | UnaryOp::IsNan => TrtDataType::Bool,
            _ => d.dtype,
        };
        Ok(self.push1(LayerOp::Unary { input, op }, TensorDesc::new(dtype, d.dims)))
    }

    fn add_activation(
        &mut self,
        input: TensorId,
        activation: Activation,
    ) -> Result<TensorId, NetworkError> {
        let d = self.desc(input)?.clone();
        let ok = d.dtype.is_float() || (activation == Activation::Relu && d.dtype.is_int());
        if !ok {
            return err(
                "activation",
                format!(
                    "{} is not defined for {} inputs",
                    activation.name(),
                    d.dtype
                ),
            );
        }
        Ok(self.push1(LayerOp::Activation { input, activation }, d))
    }

    fn add_reduce(
        &mut self,
        input: TensorId,
        op: ReduceOp,
        axes: u32,
        keep_dims: bool,
    ) -> Result<TensorId, NetworkError> {
        let d = self.desc(input)?.clone();
        check_mask("reduce", axes, d.rank())?;
        if d.dtype == TrtDataType::Bool {
            return err("reduce", "bool inputs cannot be reduced; cast first");
        }
        let mut dims = Vec::new();
        for (i, &e) in d.dims.iter().enumerate() {
            if axes & (1 << i) != 0 {
                if keep_dims {
                    dims.push(1);
                }
            } else {
                dims.push(e);
            }
        }
        Ok(self.push1(
            LayerOp::Reduce {
                input,
                op,
                axes,
                keep_dims,
            },
            TensorDesc::new(d.dtype, dims),
        ))
    }

    fn add_softmax(&mut self, input: TensorId, axis: u32) -> Result<TensorId, NetworkError> {
        let d = self.desc(input)?.clone();
        check_float("softmax", &d)?;
        check_axis("softmax", axis, d.rank())?;
        Ok(self.push1(LayerOp::SoftMax { input, axis }, d))
    }

    fn add_shuffle(
        &mut self,
        input: TensorId,
        params: &ShuffleParams,
    ) -> Result<TensorId, NetworkError> {
        let d = self.desc(input)?.clone();
        let mut dims = d.dims.clone();
        if let Some(p) = &params.first_transpose {
            check_perm("shuffle", p, dims.len())?;
            dims = permute(&dims, p);
        }
        if let Some(r) = &params.reshape {
            let len = shape_arg_len(self, "shuffle", r)?.unwrap_or(0);
            let target = shape_arg_values(self, r).unwrap_or_else(|| vec![None; len]);
            dims = reshape_dims(&dims, &target, params.zero_is_placeholder)?;
        }
        if let Some(p) = &params.second_transpose {
            check_perm("shuffle", p, dims.len())?;
            dims = permute(&dims, p);
        }
        // Reshapes of known shape values keep them (e.g. a 0-D scalar to [1]).
        let value = if params.first_transpose.is_none() && params.second_transpose.is_none() {
            self.sv(input)
        } else {
            None
        };
        Ok(self.push(
            LayerOp::Shuffle {
                input,
                params: params.clone(),
            },
            vec![(TensorDesc::new(d.dtype, dims), value)],
        )[0])
    }

    fn add_slice(
        &mut self,
        input: TensorId,
        params: &SliceParams,
    ) -> Result<TensorId, NetworkError> {
        let l = "slice";
        let d = self.desc(input)?.clone();
        for a in [&params.start, &params.size, &params.stride] {
            if let Some(n) = shape_arg_len(self, l, a)? {
                if n != d.rank() {
                    return err(
                        l,
                        format!("start/size/stride must have rank {} entries", d.rank()),
                    );
                }
            }
        }
        if let Some(f) = params.fill_value {
            let fd = self.desc(f)?;
            if params.mode != SliceMode::Fill || fd.dtype != d.dtype || fd.rank() != 0 {
                return err(
                    l,
                    format!(
                        "fill value {f} must be a 0-D {} tensor with SliceMode::Fill",
                        d.dtype
                    ),
                );
            }
        }
        let size = shape_arg_values(self, &params.size).unwrap_or_else(|| vec![None; d.rank()]);
        if let (Some(start), Some(stride), true) = (
            shape_arg_values(self, &params.start),
            shape_arg_values(self, &params.stride),
            params.mode == SliceMode::StrictBounds,
        ) {
            for i in 0..d.rank() {
                if let (Some(s0), Some(n), Some(st), e) = (start[i], size[i], stride[i], d.dims[i])
                {
                    if e >= 0 && n > 0 {
                        let last = s0 + (n - 1) * st;
                        if s0 < 0 || s0 >= e || last < 0 || last >= e {
                            return err(
                                l,
                                format!(
                                    "dim {i}: start {s0}, size {n}, stride {st} read outside \
                                     extent {e} (strict bounds)"
                                ),
                            );
                        }
                    }
                }
            }
        }
        let dims: Vec<i64> = size.iter().map(|s| s.unwrap_or(-1)).collect();
        if dims.iter().any(|&x| x < -1) {
            return err(l, format!("negative size {dims:?}"));
        }
        let value = match (self.sv(input), &params.start, &params.size, &params.stride) {
            (Some(v), ShapeArg::Static(s), ShapeArg::Static(n), ShapeArg::Static(st))
                if d.rank() == 1 && params.mode == SliceMode::StrictBounds =>
            {
                Some(
                    (0..n[0])
                        .map(|i| v.get((s[0] + i * st[0]) as usize).copied().flatten())
                        .collect(),
                )
            }
            _ => None,
        };
        Ok(self.push(
            LayerOp::Slice {
                input,
                params: params.clone(),
            },
            vec![(TensorDesc::new(d.dtype, dims), value)],
        )[0])
    }

    fn add_concatenation(
        &mut self,
        inputs: &[TensorId],
        axis: u32,
    ) -> Result<TensorId, NetworkError> {
        let l = "concatenation";
        if inputs.is_empty() {
            return err(l, "needs at least one input");
        }
        let descs: Vec<TensorDesc> = inputs
            .iter()
            .map(|t| self.desc(*t).cloned())
            .collect::<Result<_, _>>()?;
        let first = &descs[0];
        let a = check_axis(l, axis, first.rank())?;
        let mut dims = first.dims.clone();
        for d in &descs[1..] {
            if d.dtype != first.dtype || d.rank() != first.rank() {
                return err(l, format!("inputs differ in type or rank: {first} and {d}"));
            }
            for (i, (acc, &e)) in dims.iter_mut().zip(&d.dims).enumerate() {
                if i == a {
                    *acc = if *acc < 0 || e < 0 { -1 } else { *acc + e };
                } else if *acc >= 0 && e >= 0 && *acc != e {
                    return err(l, format!("dim {i} differs: {first} and {d}"));
                } else if *acc < 0 {
                    *acc = e;
                }
            }
        }
        let value = if first.rank() == 1 {
            inputs
                .iter()
                .map(|t| self.sv(*t))
                .collect::<Option<Vec<_>>>()
                .map(|vs| vs.concat())
        } else {
            None
        };
        Ok(self.push(
            LayerOp::Concatenation {
                inputs: inputs.to_vec(),
                axis,
            },
            vec![(TensorDesc::new(first.dtype, dims), value)],
        )[0])
    }

    fn add_gather(
        &mut self,
        data: TensorId,
        indices: TensorId,
        axis: u32,
        mode: GatherMode,
    ) -> Result<TensorId, NetworkError> {
        let l = "gather";
        let (d, ix) = (self.desc(data)?.clone(), self.desc(indices)?.clone());
        if !ix.dtype.is_int() {
            return err(l, format!("indices must be i32/i64, got {ix}"));
        }
        let dims = match mode {
            GatherMode::Default => {
                let a = check_axis(l, axis, d.rank())?;
                let mut v = d.dims[..a].to_vec();
                v.extend(&ix.dims);
                v.extend(&d.dims[a + 1..]);
                v
            }
            GatherMode::Element => {
                check_axis(l, axis, d.rank())?;
                if ix.rank() != d.rank() {
                    return err(l, format!("element mode needs equal ranks: {d} and {ix}"));
                }
                ix.dims.clone()
            }
            GatherMode::Nd => {
                let q = ix.rank();
                let Some(&last) = ix.dims.last() else {
                    return err(l, "nd mode needs indices of rank >= 1");
                };
                if last < 0 || last as usize > d.rank() {
                    return err(
                        l,
                        format!("nd mode: last indices dim of {ix} must index {d}"),
                    );
                }
                let mut v = ix.dims[..q - 1].to_vec();
                v.extend(&d.dims[last as usize..]);
                v
            }
        };
        let value = match (mode, self.sv(data), self.sv(indices)) {
            (GatherMode::Default, Some(v), Some(ids)) if d.rank() == 1 && ix.rank() <= 1 => Some(
                ids.iter()
                    .map(|i| {
                        i.and_then(|i| {
                            let i = if i < 0 { i + v.len() as i64 } else { i };
                            v.get(usize::try_from(i).ok()?).copied().flatten()
                        })
                    })
                    .collect(),
            ),
            _ => None,
        };
        Ok(self.push(
            LayerOp::Gather {
                data,
                indices,
                axis,
                mode,
            },
            vec![(TensorDesc::new(d.dtype, dims), value)],
        )[0])
    }

    fn add_select(
        &mut self,
        condition: TensorId,
        then_value: TensorId,
        else_value: TensorId,
    ) -> Result<TensorId, NetworkError> {
        let l = "select";
        let (c, t, e) = (
            self.desc(condition)?.clone(),
            self.desc(then_value)?.clone(),
            self.desc(else_value)?.clone(),
        );
        if c.dtype != TrtDataType::Bool {
            return err(l, format!("condition must be bool, got {c}"));
        }
        if t.dtype != e.dtype {
            return err(l, format!("branch types differ: {t} and {e}"));
        }
        let dims = broadcast(l, &[&c, &t, &e])?;
        Ok(self.push1(
            LayerOp::Select {
                condition,
                then_value,
                else_value,
            },
            TensorDesc::new(t.dtype, dims),
        ))
    }

    fn add_cast(&mut self, input: TensorId, dtype: TrtDataType) -> Result<TensorId, NetworkError> {
        let d = self.desc(input)?.clone();
        let value = if dtype.is_int() { self.sv(input) } else { None };
        Ok(self.push(
            LayerOp::Cast { input, dtype },
            vec![(TensorDesc::new(dtype, d.dims), value)],
        )[0])
    }

    fn add_shape(&mut self, input: TensorId) -> Result<TensorId, NetworkError> {
        let d = self.desc(input)?.clone();
        let value = d
            .dims
            .iter()
            .map(|&e| if e < 0 { None } else { Some(e) })
            .collect();
        Ok(self.push(
            LayerOp::Shape { input },
            vec![(
                TensorDesc::new(TrtDataType::Int64, vec![d.rank() as i64]),
                Some(value),
            )],
        )[0])
    }

    fn add_identity(&mut self, input: TensorId) -> Result<TensorId, NetworkError> {
        let d = self.desc(input)?.clone();
        let value = self.sv(input);
        Ok(self.push(LayerOp::Identity { input }, vec![(d, value)])[0])
    }

    fn add_pooling_nd(
        &mut self,
        input: TensorId,
        params: &PoolingParams,
    ) -> Result<TensorId, NetworkError> {
        let l = "pooling";
        let d = self.desc(input)?.clone();
        check_float(l, &d)?;
        let n = params.window.len();
        if !(n == 2 || n == 3) {
            return err(l, format!("only 2-D and 3-D windows exist, got {n}-D"));
        }
        for (what, v) in [
            ("stride", &params.stride),
            ("pre_padding", &params.pre_padding),
            ("post_padding", &params.post_padding),
        ] {
            if v.len() != n {
                return err(l, format!("{what} {v:?} must have {n} entries"));
            }
        }
        if d.rank() < n + 1 {
            return err(l, format!("input {d} has rank < {}", n + 1));
        }
        for i in 0..n {
            if params.pre_padding[i] >= params.window[i]
                || params.post_padding[i] >= params.window[i]
            {
                return err(l, "padding must be smaller than the window");
            }
        }
        let mut dims = d.dims.clone();
        let r = dims.len();
        for i in 0..n {
            dims[r - n + i] = window_out(
                d.dims[r - n + i],
                params.window[i],
                params.stride[i],
                params.pre_padding[i],
                params.post_padding[i],
                1,
                params.padding_mode,
            );
        }
        Ok(self.push1(
            LayerOp::Pooling {
                input,
                params: params.clone(),
            },
            TensorDesc::new(d.dtype, dims),
        ))
    }

    fn add_normalization(
        &mut self,
        input: TensorId,
        scale: TensorId,
        bias: TensorId,
        axes: u32,
        epsilon: f32,
        num_groups: i64,
    ) -> Result<TensorId, NetworkError> {
        let l = "normalization";
        let d = self.desc(input)?.clone();
        let (s, b) = (self.desc(scale)?.clone(), self.desc(bias)?.clone());
        check_float(l, &d)?;
        check_mask(l, axes, d.rank())?;
        if s.rank() != d.rank() || b.rank() != d.rank() {
            return err(
                l,
                format!(
                    "scale {s} and bias {b} must have the input's rank {}",
                    d.rank()
                ),
            );
        }
        if num_groups < 1 {
            return err(l, "num_groups must be >= 1");
        }
        if s.dims != b.dims || broadcast(l, &[&d, &s]).ok().as_ref() != Some(&d.dims) {
            return err(
                l,
                format!("scale {s} and bias {b} must be equal and broadcast to the input {d}"),
            );
        }
        if num_groups > 1 {
            let c = d.dims.get(1).copied().unwrap_or(-1);
            let after_channel = if d.rank() >= 2 {
                ((1u32 << d.rank()) - 1) & !0b11
            } else {
                0
            };
            if (c >= 0 && c % num_groups != 0) || axes != after_channel {
                return err(
                    l,
                    format!(
                        "{num_groups} groups need channels {c} divisible by them and axes = every \
                         dim after the channel ({after_channel:#b}), got {axes:#b}"
                    ),
                );
            }
        }
        Ok(self.push1(
            LayerOp::Normalization {
                input,
                scale,
                bias,
                axes,
                epsilon,
                num_groups,
            },
            d,
        ))
    }

    fn add_topk(
        &mut self,
        input: TensorId,
        op: TopKOp,
        k: i32,
        axes: u32,
        indices_dtype: TrtDataType,
    ) -> Result<(TensorId, TensorId), NetworkError> {
        let l = "topk";
        let d = self.desc(input)?.clone();
        check_mask(l, axes, d.rank())?;
        if axes.count_ones() != 1 {
            return err(l, format!("axes {axes:#b} must name exactly one dim"));
        }
        if !indices_dtype.is_int() {
            return err(l, "indices type must be i32 or i64");
        }
        let a = axes.trailing_zeros() as usize;
        if k < 1 || (d.dims[a] >= 0 && i64::from(k) > d.dims[a]) {
            return err(l, format!("k = {k} out of range for {d} axis {a}"));
        }
        let mut dims = d.dims.clone();
        dims[a] = i64::from(k);
        let ids = self.push(
            LayerOp::TopK {
                input,
                op,
                k,
                axes,
                indices_dtype,
            },
            vec![
                (TensorDesc::new(d.dtype, dims.clone()), None),
                (TensorDesc::new(indices_dtype, dims), None),
            ],
        );
        Ok((ids[0], ids[1]))
    }

    fn add_resize(
        &mut self,
        input: TensorId,
        params: &ResizeParams,
    ) -> Result<TensorId, NetworkError> {
        let l = "resize";
        let d = self.desc(input)?.clone();
        let dims = match &params.output {
            ResizeOutput::Dims(v) => v.clone(),
            ResizeOutput::Scales(s) => {
                if s.len() != d.rank() {
                    return err(l, format!("{} scales for rank {}", s.len(), d.rank()));
                }
                d.dims
                    .iter()
                    .zip(s)
                    .map(|(&e, &f)| {
                        if e < 0 {
                            -1
                        } else {
                            (e as f64 * f as f64).floor() as i64
                        }
                    })
                    .collect()
            }
            ResizeOutput::Shape(t) => {
                let len = shape_arg_len(self, l, &ShapeArg::Tensor(*t))?.unwrap_or(0);
                self.sv(*t)
                    .map(|v| v.iter().map(|x| x.unwrap_or(-1)).collect())
                    .unwrap_or_else(|| vec![-1; len])
            }
        };
        if dims.len() != d.rank() {
            return err(
                l,
                format!("output dims {dims:?} must have rank {}", d.rank()),
            );
        }
        Ok(self.push1(
            LayerOp::Resize {
                input,
                params: params.clone(),
            },
            TensorDesc::new(d.dtype, dims),
        ))
    }

    fn add_fill(&mut self, params: &FillParams) -> Result<TensorId, NetworkError> {
        let l = "fill";
        let ok = match params.op {
            FillOp::Linspace => matches!(
                params.dtype,
                TrtDataType::Int32 | TrtDataType::Int64 | TrtDataType::Float
            ),
            _ => matches!(params.dtype, TrtDataType::Float | TrtDataType::Half),
        };
        if !ok {
            return err(
                l,
                format!("{:?} cannot produce {}", params.op, params.dtype),
            );
        }
        let len = shape_arg_len(self, l, &params.dims)?.unwrap_or(0);
        let dims: Vec<i64> = shape_arg_values(self, &params.dims)
            .unwrap_or_else(|| vec![None; len])
            .iter()
            .map(|x| x.unwrap_or(-1))
            .collect();
        if let FillArg::PerDim(v) = &params.beta {
            if v.len() != dims.len() {
                return err(
                    l,
                    format!("beta has {} entries for rank {}", v.len(), dims.len()),
                );
            }
        }
        for a in [&params.alpha, &params.beta] {
            if let FillArg::Tensor(t) = a {
                let td = self.desc(*t)?;
                if td.dtype != params.dtype {
                    return err(
                        l,
                        format!("alpha/beta tensor {t} must be {}, got {td}", params.dtype),
                    );
                }
            }
        }
        let value = match (params.op, &params.alpha, &params.beta, dims.as_slice()) {
            (FillOp::Linspace, FillArg::Scalar(a), beta, &[n])
                if params.dtype.is_int() && (0..=64).contains(&n) =>
            {
                let step = match beta {
                    FillArg::Scalar(b) => Some(*b),
                    FillArg::PerDim(v) => v.first().copied(),
                    FillArg::Tensor(_) => None,
                };
                step.map(|b| (0..n).map(|i| Some((a + b * i as f64) as i64)).collect())
            }
            _ => None,
        };
        Ok(self.push(
            LayerOp::Fill {
                params: params.clone(),
            },
            vec![(TensorDesc::new(params.dtype, dims), value)],
        )[0])
    }

    fn add_scatter(
        &mut self,
        data: TensorId,
        indices: TensorId,
        updates: TensorId,
        mode: ScatterMode,
        axis: u32,
    ) -> Result<TensorId, NetworkError> {
        let l = "scatter";
        let (d, ix, u) = (
            self.desc(data)?.clone(),
            self.desc(indices)?.clone(),
            self.desc(updates)?.clone(),
        );
        if !ix.dtype.is_int() {
            return err(l, format!("indices must be i32/i64, got {ix}"));
        }
        if u.dtype != d.dtype {
            return err(l, format!("updates {u} must have data's type {}", d.dtype));
        }
        if mode == ScatterMode::Element {
            check_axis(l, axis, d.rank())?;
            if ix.rank() != d.rank() || u.rank() != d.rank() {
                return err(l, format!("element mode needs equal ranks: {d}, {ix}, {u}"));
            }
        }
        Ok(self.push1(
            LayerOp::Scatter {
                data,
                indices,
                updates,
                mode,
                axis,
            },
            d,
        ))
    }

    fn add_one_hot(
        &mut self,
        indices: TensorId,
        values: TensorId,
        depth: TensorId,
        axis: i32,
    ) -> Result<TensorId, NetworkError> {
        let l = "one_hot";
        let (ix, v, dp) = (
            self.desc(indices)?.clone(),
            self.desc(values)?.clone(),
            self.desc(depth)?.clone(),
        );
        if !ix.dtype.is_int() || v.dims != [2] || dp.rank() != 0 || dp.dtype != TrtDataType::Int32 {
            return err(
                l,
                format!("needs int indices, values [2] and a 0-D i32 depth; got {ix}, {v}, {dp}"),
            );
        }
        let r = ix.rank() as i32;
        let a = if axis < 0 { axis + r + 1 } else { axis };
        if !(0..=r).contains(&a) {
            return err(l, format!("axis {axis} out of range for rank {r}"));
        }
        let depth_v = self
            .sv(depth)
            .and_then(|v| v.first().copied().flatten())
            .unwrap_or(-1);
        let mut dims = ix.dims.clone();
        dims.insert(a as usize, depth_v);
        Ok(self.push1(
            LayerOp::OneHot {
                indices,
                values,
                depth,
                axis,
            },
            TensorDesc::new(v.dtype, dims),
        ))
    }

    fn add_cumulative(
        &mut self,
        input: TensorId,
        axis: u32,
        op: CumulativeOp,
        exclusive: bool,
        reverse: bool,
    ) -> Result<TensorId, NetworkError> {
        let d = self.desc(input)?.clone();
        check_axis("cumulative", axis, d.rank())?;
        if !(d.dtype.is_float() || d.dtype.is_int()) {
            return err("cumulative", format!("not defined for {}", d.dtype));
        }
        Ok(self.push1(
            LayerOp::Cumulative {
                input,
                axis,
                op,
                exclusive,
                reverse,
            },
            d,
        ))
    }

    fn add_optimization_profile(
        &mut self,
        profile: &OptimizationProfile,
    ) -> Result<usize, NetworkError> {
        let inputs: Vec<(String, TensorDesc)> = self
            .inputs()
            .map(|(n, t)| (n.to_string(), self.tensors[t.index()].clone()))
            .collect();
        profile.validate(inputs.iter().map(|(n, d)| (n.as_str(), d)))?;
        self.profiles.push(profile.clone());
        Ok(self.profiles.len() - 1)
    }
}

// ------------------------------------------------------------------------------------------
// Printing

fn list<T: fmt::Display>(v: &[T]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(","))
}

fn weights_str(w: &Weights) -> String {
    format!("{}x{}#{:08x}", w.dtype, w.count, w.fingerprint() as u32)
}

fn shape_arg_str(a: &ShapeArg) -> String {
    match a {
        ShapeArg::Static(v) => list(v),
        ShapeArg::Tensor(t) => t.to_string(),
    }
}

fn fill_arg_str(a: &FillArg) -> String {
    match a {
        FillArg::Scalar(x) => format!("{x}"),
        FillArg::PerDim(v) => list(v),
        FillArg::Tensor(t) => t.to_string(),
    }
}

fn axes_str(axes: u32) -> String {
    let v: Vec<u32> = (0..32).filter(|i| axes & (1 << i) != 0).collect();
    list(&v)
}

impl LayerOp {
    /// The call as printed after `=`: `kind(inputs, attr=value, ...)`.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = self.render_into(&mut s);
        s
    }

    fn render_into(&self, s: &mut String) -> fmt::Result {
        let k = self.kind();
        match self {
            Self::Input { name, .. } => write!(s, "input {name:?}"),
            Self::Constant { weights, .. } => write!(s, "{k}({})", weights_str(weights)),
            Self::Convolution {
                input,
                params: p,
                kernel,
                bias,
            }
            | Self::Deconvolution {
                input,
                params: p,
                kernel,
                bias,
            } => write!(
                s,
                "{k}({input}, maps={}, kernel={}, stride={}, pre={}, post={}, dilation={}, \
                 groups={}, w={}, b={})",
                p.num_output_maps,
                list(&p.kernel_size),
                list(&p.stride),
                list(&p.pre_padding),
                list(&p.post_padding),
                list(&p.dilation),
                p.groups,
                weights_str(kernel),
                bias.as_ref().map_or("none".to_string(), weights_str)
            ),
            Self::MatrixMultiply { a, op_a, b, op_b } => {
                write!(s, "{k}({a} {}, {b} {})", op_a.name(), op_b.name())
            }
            Self::ElementWise { a, b, op } => write!(s, "{k}.{}({a}, {b})", op.name()),
            Self::Unary { input, op } => write!(s, "{k}.{}({input})", op.name()),
            Self::Activation { input, activation } => {
                let (a, b) = activation.alpha_beta();
                match activation {
                    Activation::LeakyRelu { .. }
                    | Activation::Elu { .. }
                    | Activation::ThresholdedRelu { .. } => {
                        write!(s, "{k}.{}({input}, alpha={a})", activation.name())
                    }
                    Activation::Selu { .. }
                    | Activation::Softplus { .. }
                    | Activation::Clip { .. }
                    | Activation::HardSigmoid { .. }
                    | Activation::ScaledTanh { .. } => {
                        write!(s, "{k}.{}({input}, alpha={a}, beta={b})", activation.name())
                    }
                    _ => write!(s, "{k}.{}({input})", activation.name()),
                }
            }
            Self::Reduce {
                input,
                op,
                axes,
                keep_dims,
            } => write!(
                s,
                "{k}.{}({input}, axes={}, keep_dims={keep_dims})",
                op.name(),
                axes_str(*axes)
            ),
            Self::SoftMax { input, axis } => write!(s, "{k}({input}, axis={axis})"),
            Self::Shuffle { input, params } => {
                write!(s, "{k}({input}")?;
                if let Some(p) = &params.first_transpose {
                    write!(s, ", first={}", list(p))?;
                }
                if let Some(r) = &params.reshape {
                    write!(s, ", reshape={}", shape_arg_str(r))?;
                    if !params.zero_is_placeholder {
                        s.push_str(", zero_is_placeholder=false");
                    }
                }
                if let Some(p) = &params.second_transpose {
                    write!(s, ", second={}", list(p))?;
                }
                s.push(')');
                Ok(())
            }
            Self::Slice { input, params } => {
                write!(
                    s,
                    "{k}({input}, start={}, size={}, stride={}",
                    shape_arg_str(&params.start),
                    shape_arg_str(&params.size),
                    shape_arg_str(&params.stride)
                )?;
                if params.mode != SliceMode::StrictBounds {
                    write!(s, ", mode={:?}", params.mode)?;
                }
                if let Some(f) = params.fill_value {
                    write!(s, ", fill={f}")?;
                }
                s.push(')');
                Ok(())
            }
            Self::Concatenation { inputs, axis } => {
                let ins: Vec<String> = inputs.iter().map(|t| t.to_string()).collect();
                write!(s, "{k}({}, axis={axis})", ins.join(", "))
            }
            Self::Gather {
                data,
                indices,
                axis,
                mode,
            } => write!(s, "{k}({data}, {indices}, axis={axis}, mode={mode:?})"),
            Self::Select {
                condition,
                then_value,
                else_value,
            } => write!(s, "{k}({condition}, {then_value}, {else_value})"),
            Self::Cast { input, dtype } => write!(s, "{k}({input}, to={dtype})"),
            Self::Shape { input } | Self::Identity { input } => write!(s, "{k}({input})"),
            Self::Pooling { input, params: p } => {
                let kind = match p.kind {
                    PoolingType::Max => "max",
                    PoolingType::Average => "avg",
                    PoolingType::MaxAverageBlend => "blend",
                };
                write!(
                    s,
                    "{k}.{kind}({input}, window={}, stride={}, pre={}, post={}, mode={:?}",
                    list(&p.window),
                    list(&p.stride),
                    list(&p.pre_padding),
                    list(&p.post_padding),
                    p.padding_mode
                )?;
                if p.kind != PoolingType::Max {
                    write!(s, ", exclude_pad={}", p.average_count_excludes_padding)?;
                }
                if p.kind == PoolingType::MaxAverageBlend {
                    write!(s, ", blend={}", p.blend_factor)?;
                }
                s.push(')');
                Ok(())
            }
            Self::Normalization {
                input,
                scale,
                bias,
                axes,
                epsilon,
                num_groups,
            } => write!(
                s,
                "{k}({input}, {scale}, {bias}, axes={}, eps={epsilon:e}, groups={num_groups})",
                axes_str(*axes)
            ),
            Self::TopK {
                input,
                op,
                k: kk,
                axes,
                indices_dtype,
            } => write!(
                s,
                "{k}.{}({input}, k={kk}, axes={}, indices={indices_dtype})",
                if *op == TopKOp::Max { "max" } else { "min" },
                axes_str(*axes)
            ),
            Self::Resize { input, params: p } => {
                let out = match &p.output {
                    ResizeOutput::Dims(v) => format!("dims={}", list(v)),
                    ResizeOutput::Scales(v) => format!("scales={}", list(v)),
                    ResizeOutput::Shape(t) => format!("shape={t}"),
                };
                write!(
                    s,
                    "{k}({input}, {out}, mode={:?}, coord={:?}, round={:?}, cubic={}, \
                     exclude_outside={})",
                    p.mode,
                    p.coordinate_transformation,
                    p.nearest_rounding,
                    p.cubic_coeff,
                    p.exclude_outside
                )
            }
            Self::Fill { params: p } => write!(
                s,
                "{k}.{:?}(dims={}, alpha={}, beta={})",
                p.op,
                shape_arg_str(&p.dims),
                fill_arg_str(&p.alpha),
                fill_arg_str(&p.beta)
            ),
            Self::Scatter {
                data,
                indices,
                updates,
                mode,
                axis,
            } => write!(
                s,
                "{k}({data}, {indices}, {updates}, mode={mode:?}, axis={axis})"
            ),
            Self::OneHot {
                indices,
                values,
                depth,
                axis,
            } => write!(s, "{k}({indices}, {values}, {depth}, axis={axis})"),
            Self::Cumulative {
                input,
                axis,
                op,
                exclusive,
                reverse,
            } => write!(
                s,
                "{k}.{op:?}({input}, axis={axis}, exclusive={exclusive}, reverse={reverse})"
            ),
        }
    }
}

impl fmt::Display for RecordedNetwork {
    /// One line per layer: `%out: type = kind(args)`, then outputs and profiles.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for layer in &self.layers {
            let outs: Vec<String> = layer
                .outputs
                .iter()
                .map(|t| format!("{t}: {}", self.tensors[t.index()]))
                .collect();
            writeln!(f, "{} = {}", outs.join(", "), layer.op.render())?;
        }
        for o in &self.outputs {
            writeln!(
                f,
                "output {:?} = {}: {}",
                o.name,
                o.tensor,
                self.tensors[o.tensor.index()]
            )?;
        }
        for (i, p) in self.profiles.iter().enumerate() {
            for d in &p.inputs {
                writeln!(
                    f,
                    "profile {i} {:?}: min={} opt={} max={}",
                    d.input,
                    list(&d.min),
                    list(&d.opt),
                    list(&d.max)
                )?;
            }
        }
        Ok(())
    }
}
