//! CPU emulator for a [`RecordedNetwork`]: runs every recorded layer on host tensors following
//! TensorRT's *documented* layer semantics (which differ from ATen's in places: no rank
//! broadcasting, truncating integer `kDIV`, bitmask axes, `0`/`-1` reshape placeholders, ...).
//!
//! The emulator is the oracle that converter tests compare against PyTorch (through the exec
//! crate's ATen kernels) without a GPU or a TensorRT library: if a converter emits a network
//! whose emulation disagrees with the ATen reference, the converter (or the emulator) is wrong.
//!
//! # Numerics
//! - Float tensors (f32, f16, bf16) are computed in f32 (reductions and normalization statistics
//!   accumulate in f64); f16/bf16 results are rounded to their type after every layer, roughly as
//!   TensorRT does with f32 accumulation inside kernels.
//! - Integer tensors are computed in i64; Int32 results wrap to 32 bits after every layer.
//!
//! # Semantic choices (where TensorRT's documentation leaves room)
//! - `ElementWise` `kDIV` on integers truncates toward zero, `kFLOOR_DIV` floors; integer
//!   division by zero is an error. Float `kMAX`/`kMIN` propagate NaN.
//! - `Cast` float → int truncates toward zero and saturates (NaN → 0), as in TensorRT's
//!   operator documentation example and its observed `+Inf → INT32_MAX, NaN → 0` behaviour;
//!   int → narrower int wraps; anything → bool is `!= 0`.
//! - `Shape` outputs Int64 (TensorRT 10+).
//! - Gather/scatter/one-hot indices may be negative (`-e..0` wraps once, as ONNX); indices out of
//!   `[-e, e)` are an error for gather/scatter (TensorRT's behaviour is undefined) and give an
//!   all-"off" row for one-hot.
//! - `Reduce` `kAVG` on integers truncates toward zero; `kMAX`/`kMIN` over no elements is an
//!   error.
//! - `TopK` orders NaN above every number and breaks ties by the lower index.
//! - Average pooling that counts padding counts the window positions inside the padded extent
//!   `[-pre, in + post)` (positions past it, possible with `kEXPLICIT_ROUND_UP`, never count).
//! - `Fill` linspace: a scalar `beta` is the delta of every dimension; integer outputs use
//!   integer arithmetic on `alpha`/`beta` truncated toward zero. Random fills are refused.
//! - `Resize` is separable over every dimension: nearest picks with the rounding mode, linear
//!   clamps the source coordinate to `[0, in - 1]`, cubic clamps taps to the edge (or drops and
//!   renormalizes them with `exclude_outside`). With `Scales`, the given scale maps coordinates.
//!
//! Every computed tensor is checked against the recorded type and (known) dims, so an emulator
//! or recording inconsistency surfaces as an error naming the layer instead of a wrong result.
//! Bad inputs never panic: they give an [`EmulatorError`] naming the input or the layer index
//! (position in [`RecordedNetwork::layers`], inputs included) and kind.

use std::cmp::Ordering;
use std::collections::HashMap;

use trtfx_exec::{DType, Tensor};

mod dense;

use crate::network::*;
use crate::recorded::{LayerOp, RecordedNetwork};

/// Why an emulation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmulatorError {
    /// A network input was not given.
    #[error("missing network input {name:?}")]
    MissingInput {
        /// Input name.
        name: String,
    },
    /// A tensor was given for a name that is not a network input.
    #[error("{name:?} is not an input of the network")]
    UnknownInput {
        /// The given name.
        name: String,
    },
    /// The same input was given twice.
    #[error("input {name:?} given more than once")]
    DuplicateInput {
        /// Input name.
        name: String,
    },
    /// An input tensor of the wrong element type.
    #[error("input {name:?}: expected {expected}, got {got}")]
    InputDType {
        /// Input name.
        name: String,
        /// Recorded type.
        expected: TrtDataType,
        /// Given type.
        got: DType,
    },
    /// An input tensor whose shape does not match the recorded dims or any optimization
    /// profile.
    #[error("input {name:?}: {message}")]
    InputShape {
        /// Input name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A layer could not be executed (bad values, unsupported mode, inconsistent recording).
    #[error("layer {index} ({kind}): {message}")]
    Layer {
        /// Position of the layer in [`RecordedNetwork::layers`] (inputs included).
        index: usize,
        /// Layer kind as printed (`convolution`, `shuffle`, ...).
        kind: &'static str,
        /// What went wrong.
        message: String,
    },
    /// A marked output that was never computed or cannot be represented as a tensor.
    #[error("output {name:?}: {message}")]
    Output {
        /// Output name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// Runs `net` on `inputs` (`(input name, tensor)`, every network input exactly once) and returns
/// the marked outputs as `(name, tensor)` in marking order.
///
/// Inputs must have the recorded element type (exec `F32` for `kFLOAT`, `F16` for `kHALF`, `I64`
/// for `kINT64`, ...) and rank; fixed extents must match, and dynamic (`-1`) extents must lie
/// within one optimization profile when the network has profiles.
pub fn emulate<S: AsRef<str>>(
    net: &RecordedNetwork,
    inputs: &[(S, Tensor)],
) -> Result<Vec<(String, Tensor)>, EmulatorError> {
    let bound = bind_inputs(net, inputs)?;
    let mut vals: Vec<Option<Val>> = vec![None; net.tensors.len()];
    // `TRTFX_EMULATOR_PROFILE=1`: per layer kind, the count and time, printed to stderr.
    let mut profile: Option<std::collections::BTreeMap<&str, (usize, std::time::Duration)>> =
        std::env::var_os("TRTFX_EMULATOR_PROFILE").map(|_| Default::default());
    for (index, layer) in net.layers.iter().enumerate() {
        let kind = layer.op.kind();
        let lerr = |message: String| EmulatorError::Layer {
            index,
            kind,
            message,
        };
        let outs = match &layer.op {
            LayerOp::Input { name, dtype, .. } => {
                let t = bound
                    .get(name.as_str())
                    .ok_or(EmulatorError::MissingInput { name: name.clone() })?;
                vec![val_from_tensor(t, *dtype).map_err(lerr)?]
            }
            op if profile.is_some() => {
                let t0 = std::time::Instant::now();
                let outs = run_layer(&vals, op).map_err(lerr)?;
                if let Some(p) = profile.as_mut() {
                    let e = p.entry(kind).or_insert((0, std::time::Duration::ZERO));
                    e.0 += 1;
                    e.1 += t0.elapsed();
                }
                outs
            }
            op => run_layer(&vals, op).map_err(lerr)?,
        };
        if outs.len() != layer.outputs.len() {
            return Err(lerr(format!(
                "produced {} outputs, {} recorded",
                outs.len(),
                layer.outputs.len()
            )));
        }
        for (id, v) in layer.outputs.iter().zip(outs) {
            let desc = net
                .tensors
                .get(id.index())
                .ok_or_else(|| lerr(format!("output {id} is not in the tensor table")))?;
            check_against_desc(&v, desc).map_err(lerr)?;
            vals[id.index()] = Some(v);
        }
    }
    if let Some(p) = profile {
        let parts: Vec<String> = p
            .iter()
            .map(|(k, (n, t))| format!("{k} x{n} {:.3} ms", t.as_secs_f64() * 1e3))
            .collect();
        eprintln!("emulator profile: {}", parts.join(", "));
    }
    net.outputs
        .iter()
        .map(|o| {
            let oerr = |message: String| EmulatorError::Output {
                name: o.name.clone(),
                message,
            };
            let v = vals
                .get(o.tensor.index())
                .and_then(|v| v.as_ref())
                .ok_or_else(|| oerr(format!("tensor {} was never computed", o.tensor)))?;
            Ok((o.name.clone(), val_to_tensor(v).map_err(oerr)?))
        })
        .collect()
}

// ------------------------------------------------------------------------------------------
// Input binding

fn bind_inputs<'a, S: AsRef<str>>(
    net: &RecordedNetwork,
    inputs: &'a [(S, Tensor)],
) -> Result<HashMap<&'a str, &'a Tensor>, EmulatorError> {
    let declared: HashMap<&str, &TensorDesc> = net
        .inputs()
        .filter_map(|(n, t)| Some((n, net.tensors.get(t.index())?)))
        .collect();
    let mut bound = HashMap::new();
    for (name, t) in inputs {
        let name = name.as_ref();
        let Some(desc) = declared.get(name) else {
            return Err(EmulatorError::UnknownInput { name: name.into() });
        };
        if bound.insert(name, t).is_some() {
            return Err(EmulatorError::DuplicateInput { name: name.into() });
        }
        if exec_dtype(desc.dtype) != Some(t.dtype()) {
            return Err(EmulatorError::InputDType {
                name: name.into(),
                expected: desc.dtype,
                got: t.dtype(),
            });
        }
        let shape = t.shape();
        let fits = shape.len() == desc.rank()
            && desc
                .dims
                .iter()
                .zip(shape)
                .all(|(&d, &s)| d < 0 || d as usize == s);
        if !fits {
            return Err(EmulatorError::InputShape {
                name: name.into(),
                message: format!("shape {shape:?} does not match the recorded {desc}"),
            });
        }
    }
    for name in declared.keys() {
        if !bound.contains_key(name) {
            return Err(EmulatorError::MissingInput {
                name: (*name).into(),
            });
        }
    }
    // Dynamic inputs must fit one profile together (an execution context runs one profile).
    let dynamic: Vec<&str> = declared
        .iter()
        .filter(|(_, d)| d.dims.iter().any(|&e| e < 0))
        .map(|(n, _)| *n)
        .collect();
    if !net.profiles.is_empty() && !dynamic.is_empty() {
        let in_profile = |p: &crate::settings::OptimizationProfile| {
            dynamic.iter().all(|n| {
                let shape = bound[n].shape();
                p.get(n).is_none_or(|r| {
                    r.min.len() == shape.len()
                        && shape.iter().enumerate().all(|(i, &s)| {
                            let s = s as i64;
                            r.min[i] <= s && s <= r.max.get(i).copied().unwrap_or(-1)
                        })
                })
            })
        };
        if !net.profiles.iter().any(in_profile) {
            let mut names = dynamic.clone();
            names.sort_unstable();
            let shapes: Vec<String> = names
                .iter()
                .map(|n| format!("{n:?} {:?}", bound[n].shape()))
                .collect();
            return Err(EmulatorError::InputShape {
                name: names[0].into(),
                message: format!(
                    "shapes {} lie outside every optimization profile",
                    shapes.join(", ")
                ),
            });
        }
    }
    Ok(bound)
}

fn check_against_desc(v: &Val, desc: &TensorDesc) -> Result<(), String> {
    let fits = v.dtype == desc.dtype
        && v.shape.len() == desc.rank()
        && desc
            .dims
            .iter()
            .zip(&v.shape)
            .all(|(&d, &s)| d < 0 || d as usize == s);
    if fits {
        Ok(())
    } else {
        Err(format!(
            "computed {}{:?} but the recording says {desc}",
            v.dtype, v.shape
        ))
    }
}

// ------------------------------------------------------------------------------------------
// Values

/// Element storage by domain: every float type as f32, every integer type as i64.
#[derive(Clone, Debug)]
enum Data {
    F(Vec<f32>),
    I(Vec<i64>),
    B(Vec<bool>),
}

impl Data {
    fn len(&self) -> usize {
        match self {
            Data::F(v) => v.len(),
            Data::I(v) => v.len(),
            Data::B(v) => v.len(),
        }
    }

    /// Elements at `idx` (indices computed by the emulator from checked shapes).
    fn take(&self, idx: &[usize]) -> Data {
        match self {
            Data::F(v) => Data::F(idx.iter().map(|&i| v[i]).collect()),
            Data::I(v) => Data::I(idx.iter().map(|&i| v[i]).collect()),
            Data::B(v) => Data::B(idx.iter().map(|&i| v[i]).collect()),
        }
    }

    /// Elements at `idx`, element 0 of `fill` where `None`.
    fn take_or(&self, idx: &[Option<usize>], fill: &Data) -> Result<Data, String> {
        Ok(match (self, fill) {
            (Data::F(v), Data::F(f)) => {
                Data::F(idx.iter().map(|i| i.map_or(f[0], |i| v[i])).collect())
            }
            (Data::I(v), Data::I(f)) => {
                Data::I(idx.iter().map(|i| i.map_or(f[0], |i| v[i])).collect())
            }
            (Data::B(v), Data::B(f)) => {
                Data::B(idx.iter().map(|i| i.map_or(f[0], |i| v[i])).collect())
            }
            _ => return Err("fill value has another type than the data".into()),
        })
    }

    /// Overwrites element `dst` with element `src` of `other` (same domain).
    fn set_from(&mut self, dst: usize, other: &Data, src: usize) -> Result<(), String> {
        match (self, other) {
            (Data::F(a), Data::F(b)) => a[dst] = b[src],
            (Data::I(a), Data::I(b)) => a[dst] = b[src],
            (Data::B(a), Data::B(b)) => a[dst] = b[src],
            _ => return Err("operands have different types".into()),
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dom {
    F,
    I,
    B,
}

fn domain(dt: TrtDataType) -> Result<Dom, String> {
    match dt {
        TrtDataType::Float | TrtDataType::Half | TrtDataType::Bf16 => Ok(Dom::F),
        TrtDataType::Int32 | TrtDataType::Int64 | TrtDataType::Uint8 | TrtDataType::Int8 => {
            Ok(Dom::I)
        }
        TrtDataType::Bool => Ok(Dom::B),
        other => Err(format!(
            "data type {other} is not supported by the emulator"
        )),
    }
}

fn exec_dtype(dt: TrtDataType) -> Option<DType> {
    Some(match dt {
        TrtDataType::Float => DType::F32,
        TrtDataType::Half => DType::F16,
        TrtDataType::Bf16 => DType::BF16,
        TrtDataType::Int32 => DType::I32,
        TrtDataType::Int64 => DType::I64,
        TrtDataType::Bool => DType::Bool,
        TrtDataType::Uint8 => DType::U8,
        TrtDataType::Int8 => DType::I8,
        _ => return None,
    })
}

/// Rounds/wraps freshly computed elements to what `dtype` can hold.
fn normalize(dtype: TrtDataType, data: &mut Data) {
    match (dtype, data) {
        (TrtDataType::Half | TrtDataType::Bf16, Data::F(v)) => {
            // Round to nearest even, as TensorRT stores f16/bf16 results.
            if dtype == TrtDataType::Half {
                v.iter_mut()
                    .for_each(|x| *x = half::f16::from_f32(*x).to_f32());
            } else {
                v.iter_mut()
                    .for_each(|x| *x = half::bf16::from_f32(*x).to_f32());
            }
        }
        (TrtDataType::Int32, Data::I(v)) => v.iter_mut().for_each(|x| *x = *x as i32 as i64),
        (TrtDataType::Uint8, Data::I(v)) => v.iter_mut().for_each(|x| *x = *x as u8 as i64),
        (TrtDataType::Int8, Data::I(v)) => v.iter_mut().for_each(|x| *x = *x as i8 as i64),
        _ => {}
    }
}

/// A computed tensor.
#[derive(Clone, Debug)]
struct Val {
    dtype: TrtDataType,
    shape: Vec<usize>,
    data: Data,
}

impl Val {
    fn new(dtype: TrtDataType, shape: Vec<usize>, mut data: Data) -> Result<Val, String> {
        let want = match data {
            Data::F(_) => Dom::F,
            Data::I(_) => Dom::I,
            Data::B(_) => Dom::B,
        };
        if domain(dtype)? != want {
            return Err(format!("internal: {dtype} data stored as {want:?}"));
        }
        if numel(&shape) != data.len() {
            return Err(format!(
                "internal: shape {shape:?} with {} elements",
                data.len()
            ));
        }
        normalize(dtype, &mut data);
        Ok(Val { dtype, shape, data })
    }

    fn f(&self) -> Result<&[f32], String> {
        match &self.data {
            Data::F(v) => Ok(v),
            _ => Err(format!("expected a float tensor, got {}", self.dtype)),
        }
    }

    fn i(&self) -> Result<&[i64], String> {
        match &self.data {
            Data::I(v) => Ok(v),
            _ => Err(format!("expected an integer tensor, got {}", self.dtype)),
        }
    }

    fn b(&self) -> Result<&[bool], String> {
        match &self.data {
            Data::B(v) => Ok(v),
            _ => Err(format!("expected a bool tensor, got {}", self.dtype)),
        }
    }

    /// Same type, new shape and data.
    fn with(&self, shape: Vec<usize>, data: Data) -> Result<Val, String> {
        Val::new(self.dtype, shape, data)
    }

    fn float(dtype: TrtDataType, shape: Vec<usize>, v: Vec<f32>) -> Result<Val, String> {
        Val::new(dtype, shape, Data::F(v))
    }
}

fn val_from_tensor(t: &Tensor, dtype: TrtDataType) -> Result<Val, String> {
    let data = match domain(dtype)? {
        Dom::F => Data::F(t.to_vec::<f32>()),
        Dom::I => Data::I(t.to_i64_vec()),
        Dom::B => Data::B(t.to_bool_vec()),
    };
    Val::new(dtype, t.shape().to_vec(), data)
}

fn val_to_tensor(v: &Val) -> Result<Tensor, String> {
    let dt = exec_dtype(v.dtype).ok_or_else(|| format!("no tensor type for {}", v.dtype))?;
    let t = match &v.data {
        Data::F(x) => Tensor::from_vec(x.clone(), v.shape.clone()),
        Data::I(x) => Tensor::from_vec(x.clone(), v.shape.clone()),
        Data::B(x) => Tensor::from_vec(x.clone(), v.shape.clone()),
    }
    .map_err(|e| e.to_string())?;
    Ok(t.to_dtype(dt))
}

// ------------------------------------------------------------------------------------------
// Index helpers

fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Calls `f` with every coordinate of `shape` in row-major order.
fn for_each_coord(shape: &[usize], mut f: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut c = vec![0usize; shape.len()];
    loop {
        f(&c);
        let mut d = shape.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            c[d] += 1;
            if c[d] < shape[d] {
                break;
            }
            c[d] = 0;
        }
    }
}

/// For each element of `out`, the linear index of the element of `inp` (same rank, extents
/// equal or 1) it reads under broadcasting.
fn bcast_index(out: &[usize], inp: &[usize]) -> Vec<usize> {
    let st = strides(inp);
    let eff: Vec<usize> = inp
        .iter()
        .zip(&st)
        .map(|(&e, &s)| if e == 1 { 0 } else { s })
        .collect();
    let mut v = Vec::with_capacity(numel(out));
    for_each_coord(out, |c| {
        v.push(c.iter().zip(&eff).map(|(a, b)| a * b).sum());
    });
    v
}

/// `f(x[i], y[j])` for every output element under broadcasting (`sa`/`sb` of the output's
/// rank, extents equal to the output's or 1), in row-major order. Runs along the innermost dim
/// with fixed strides, so no per-element index arithmetic or allocation happens.
fn broadcast_map<X: Copy, Y: Copy, R>(
    out: &[usize],
    sa: &[usize],
    x: &[X],
    sb: &[usize],
    y: &[Y],
    mut f: impl FnMut(X, Y) -> R,
) -> Vec<R> {
    let n = numel(out);
    let mut v = Vec::with_capacity(n);
    if n == 0 {
        return v;
    }
    if sa == out && sb == out {
        v.extend(x.iter().zip(y).map(|(&p, &q)| f(p, q)));
        return v;
    }
    let r = out.len();
    if r == 0 {
        v.push(f(x[0], y[0]));
        return v;
    }
    let eff = |s: &[usize]| -> Vec<usize> {
        strides(s)
            .iter()
            .zip(s)
            .map(|(&t, &e)| if e == 1 { 0 } else { t })
            .collect()
    };
    let (ta, tb) = (eff(sa), eff(sb));
    let inner = out[r - 1];
    let (ia, ib) = (ta[r - 1], tb[r - 1]);
    let mut coord = vec![0usize; r - 1];
    let (mut oa, mut ob) = (0usize, 0usize);
    for _ in 0..n / inner {
        match (ia, ib) {
            (1, 1) => v.extend(
                x[oa..oa + inner]
                    .iter()
                    .zip(&y[ob..ob + inner])
                    .map(|(&p, &q)| f(p, q)),
            ),
            (1, 0) => {
                let q = y[ob];
                v.extend(x[oa..oa + inner].iter().map(|&p| f(p, q)));
            }
            (0, 1) => {
                let p = x[oa];
                v.extend(y[ob..ob + inner].iter().map(|&q| f(p, q)));
            }
            _ => v.extend((0..inner).map(|i| f(x[oa + i * ia], y[ob + i * ib]))),
        }
        for d in (0..r - 1).rev() {
            coord[d] += 1;
            oa += ta[d];
            ob += tb[d];
            if coord[d] < out[d] {
                break;
            }
            oa -= ta[d] * out[d];
            ob -= tb[d] * out[d];
            coord[d] = 0;
        }
    }
    v
}

/// TensorRT broadcasting: equal ranks; per dim, extents other than 1 must agree.
fn broadcast(shapes: &[&[usize]]) -> Result<Vec<usize>, String> {
    let rank = shapes[0].len();
    if shapes.iter().any(|s| s.len() != rank) {
        return Err(format!(
            "inputs {shapes:?} differ in rank (TensorRT does not broadcast ranks)"
        ));
    }
    (0..rank)
        .map(|d| {
            let mut acc = 1usize;
            for s in shapes {
                let e = s[d];
                if e != 1 {
                    if acc != 1 && acc != e {
                        return Err(format!("inputs {shapes:?} do not broadcast in dim {d}"));
                    }
                    acc = e;
                }
            }
            Ok(acc)
        })
        .collect()
}

/// `(outer, len, inner)` around `axis`.
fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        numel(&shape[..axis]),
        shape[axis],
        numel(&shape[axis + 1..]),
    )
}

fn check_perm(perm: &[i32], rank: usize) -> Result<Vec<usize>, String> {
    let mut seen = vec![false; rank];
    if perm.len() != rank {
        return Err(format!("permutation {perm:?} does not have rank {rank}"));
    }
    perm.iter()
        .map(|&p| {
            let ok = p >= 0 && (p as usize) < rank && !seen[p as usize];
            if !ok {
                return Err(format!("{perm:?} is not a permutation of 0..{rank}"));
            }
            seen[p as usize] = true;
            Ok(p as usize)
        })
        .collect()
}

/// `out[i] = in[perm[i]]` on dims.
fn permute(v: &Val, perm: &[usize]) -> Result<Val, String> {
    let shape: Vec<usize> = perm.iter().map(|&p| v.shape[p]).collect();
    let st = strides(&v.shape);
    let eff: Vec<usize> = perm.iter().map(|&p| st[p]).collect();
    let mut idx = Vec::with_capacity(v.data.len());
    for_each_coord(&shape, |c| {
        idx.push(c.iter().zip(&eff).map(|(a, b)| a * b).sum());
    });
    v.with(shape, v.data.take(&idx))
}

/// Wraps one negative index (`-e..0`) and checks bounds.
fn wrap_index(i: i64, e: usize, what: &str) -> Result<usize, String> {
    let e = e as i64;
    let w = if i < 0 { i + e } else { i };
    if w < 0 || w >= e {
        return Err(format!("{what} index {i} out of range for extent {e}"));
    }
    Ok(w as usize)
}

fn get(vals: &[Option<Val>], t: TensorId) -> Result<&Val, String> {
    vals.get(t.index())
        .and_then(|v| v.as_ref())
        .ok_or_else(|| format!("input tensor {t} has not been computed"))
}

fn axis_of(axis: u32, rank: usize) -> Result<usize, String> {
    let a = axis as usize;
    if a >= rank {
        return Err(format!("axis {axis} out of range for rank {rank}"));
    }
    Ok(a)
}

fn mask_axes(axes: u32, rank: usize) -> Result<Vec<bool>, String> {
    if rank < 32 && axes >> rank != 0 {
        return Err(format!("axes mask {axes:#b} names dims beyond rank {rank}"));
    }
    Ok((0..rank).map(|d| axes & (1 << d) != 0).collect())
}

/// Values of a shape argument (static, or a 1-D integer tensor).
fn shape_arg(vals: &[Option<Val>], a: &ShapeArg) -> Result<Vec<i64>, String> {
    match a {
        ShapeArg::Static(v) => Ok(v.clone()),
        ShapeArg::Tensor(t) => {
            let v = get(vals, *t)?;
            if v.shape.len() != 1 {
                return Err(format!("shape tensor {t} must be 1-D, got {:?}", v.shape));
            }
            Ok(v.i()?.to_vec())
        }
    }
}

fn to_extents(v: &[i64], what: &str) -> Result<Vec<usize>, String> {
    v.iter()
        .map(|&e| usize::try_from(e).map_err(|_| format!("{what} {v:?} has a negative extent")))
        .collect()
}

// ------------------------------------------------------------------------------------------
// Layers

fn run_layer(vals: &[Option<Val>], op: &LayerOp) -> Result<Vec<Val>, String> {
    let g = |t: &TensorId| get(vals, *t);
    let one = |v: Val| Ok(vec![v]);
    match op {
        LayerOp::Input { .. } => Err("internal: inputs are bound separately".into()),
        LayerOp::Constant { dims, weights } => one(constant(dims, weights)?),
        LayerOp::Convolution {
            input,
            params,
            kernel,
            bias,
        } => one(convolution(
            g(input)?,
            params,
            kernel,
            bias.as_ref(),
            false,
        )?),
        LayerOp::Deconvolution {
            input,
            params,
            kernel,
            bias,
        } => one(convolution(g(input)?, params, kernel, bias.as_ref(), true)?),
        LayerOp::MatrixMultiply { a, op_a, b, op_b } => {
            one(matrix_multiply(g(a)?, *op_a, g(b)?, *op_b)?)
        }
        LayerOp::ElementWise { a, b, op } => one(elementwise(*op, g(a)?, g(b)?)?),
        LayerOp::Unary { input, op } => one(unary(*op, g(input)?)?),
        LayerOp::Activation { input, activation } => one(activation_layer(*activation, g(input)?)?),
        LayerOp::Reduce {
            input,
            op,
            axes,
            keep_dims,
        } => one(reduce(*op, g(input)?, *axes, *keep_dims)?),
        LayerOp::SoftMax { input, axis } => one(softmax(g(input)?, *axis)?),
        LayerOp::Shuffle { input, params } => one(shuffle(vals, g(input)?, params)?),
        LayerOp::Slice { input, params } => one(slice(vals, g(input)?, params)?),
        LayerOp::Concatenation { inputs, axis } => {
            let vs = inputs.iter().map(g).collect::<Result<Vec<_>, _>>()?;
            one(concatenation(&vs, *axis)?)
        }
        LayerOp::Gather {
            data,
            indices,
            axis,
            mode,
        } => one(gather(g(data)?, g(indices)?, *axis, *mode)?),
        LayerOp::Select {
            condition,
            then_value,
            else_value,
        } => one(select(g(condition)?, g(then_value)?, g(else_value)?)?),
        LayerOp::Cast { input, dtype } => one(cast(g(input)?, *dtype)?),
        LayerOp::Shape { input } => {
            let v = g(input)?;
            let dims = v.shape.iter().map(|&e| e as i64).collect();
            one(Val::new(
                TrtDataType::Int64,
                vec![v.shape.len()],
                Data::I(dims),
            )?)
        }
        LayerOp::Identity { input } => one(g(input)?.clone()),
        LayerOp::Pooling { input, params } => one(pooling(g(input)?, params)?),
        LayerOp::Normalization {
            input,
            scale,
            bias,
            axes,
            epsilon,
            num_groups,
        } => one(normalization(
            g(input)?,
            g(scale)?,
            g(bias)?,
            *axes,
            *epsilon,
            *num_groups,
        )?),
        LayerOp::TopK {
            input,
            op,
            k,
            axes,
            indices_dtype,
        } => {
            let (v, i) = topk(g(input)?, *op, *k, *axes, *indices_dtype)?;
            Ok(vec![v, i])
        }
        LayerOp::Resize { input, params } => one(resize(vals, g(input)?, params)?),
        LayerOp::Fill { params } => one(fill(vals, params)?),
        LayerOp::Scatter {
            data,
            indices,
            updates,
            mode,
            axis,
        } => one(scatter(g(data)?, g(indices)?, g(updates)?, *mode, *axis)?),
        LayerOp::OneHot {
            indices,
            values,
            depth,
            axis,
        } => one(one_hot(g(indices)?, g(values)?, g(depth)?, *axis)?),
        LayerOp::Cumulative {
            input,
            axis,
            op,
            exclusive,
            reverse,
        } => one(cumulative(g(input)?, *axis, *op, *exclusive, *reverse)?),
        LayerOp::GridSample {
            input,
            grid,
            mode,
            align_corners,
            sample_mode,
        } => one(grid_sample(
            g(input)?,
            g(grid)?,
            *mode,
            *align_corners,
            *sample_mode,
        )?),
        LayerOp::NonZero {
            input,
            indices_dtype,
        } => one(non_zero(g(input)?, *indices_dtype)?),
    }
}

fn weights_tensor(w: &Weights, shape: Vec<usize>) -> Result<Tensor, String> {
    let dt = exec_dtype(w.dtype)
        .filter(|d| *d != DType::U8)
        .ok_or_else(|| format!("{} weights are not supported by the emulator", w.dtype))?;
    Tensor::from_le_bytes(&w.bytes, dt, shape).map_err(|e| e.to_string())
}

fn constant(dims: &[i64], w: &Weights) -> Result<Val, String> {
    let shape = to_extents(dims, "constant dims")?;
    if numel(&shape) as i64 != w.count {
        return Err(format!("dims {dims:?} do not hold {} weights", w.count));
    }
    let data = match w.dtype {
        TrtDataType::Float => Data::F(decode_f32(w)?),
        TrtDataType::Int64 => Data::I(
            w.bytes
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()))
                .collect(),
        ),
        TrtDataType::Int32 => Data::I(
            w.bytes
                .chunks_exact(4)
                .map(|c| i64::from(i32::from_le_bytes(c.try_into().unwrap_or_default())))
                .collect(),
        ),
        _ => return val_from_tensor(&weights_tensor(w, shape)?, w.dtype),
    };
    Val::new(w.dtype, shape, data)
}

/// The elements of f32 weights, decoded in one pass.
fn decode_f32(w: &Weights) -> Result<Vec<f32>, String> {
    if w.bytes.len() as i64 != w.count * 4 {
        return Err(format!(
            "{} f32 weights need {} bytes, got {}",
            w.count,
            w.count * 4,
            w.bytes.len()
        ));
    }
    Ok(w.bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect())
}

/// Weights as f32 elements (the emulator computes every float type in f32).
fn weights_f32(w: &Weights, what: &str) -> Result<Vec<f32>, String> {
    if w.dtype == TrtDataType::Float {
        return decode_f32(w);
    }
    let n = usize::try_from(w.count).map_err(|_| format!("{what} has a negative count"))?;
    let v = weights_tensor(w, vec![n])?;
    if !w.dtype.is_float() {
        return Err(format!("{what} weights must be float, got {}", w.dtype));
    }
    Ok(v.to_vec::<f32>())
}

/// `IConvolutionLayer` / `IDeconvolutionLayer` on the emulator's own kernels
/// ([`dense::convolution`], [`dense::deconvolution`]): leading dims beyond one batch dim are
/// folded into the batch, 2-D layers run as 3-D ones with depth 1, and TensorRT's asymmetric
/// pre/post padding is applied while packing (convolution) or by dropping what lands outside
/// the output (deconvolution).
fn convolution(
    x: &Val,
    p: &ConvolutionParams,
    kernel: &Weights,
    bias: Option<&Weights>,
    deconv: bool,
) -> Result<Val, String> {
    let n = p.kernel_size.len();
    if !(n == 2 || n == 3) {
        return Err(format!("only 2-D and 3-D kernels exist, got {n}-D"));
    }
    for (what, v) in [
        ("stride", &p.stride),
        ("pre_padding", &p.pre_padding),
        ("post_padding", &p.post_padding),
        ("dilation", &p.dilation),
    ] {
        if v.len() != n {
            return Err(format!("{what} {v:?} must have {n} entries"));
        }
    }
    let r = x.shape.len();
    if r < n + 2 {
        return Err(format!("input {:?} needs rank >= {}", x.shape, n + 2));
    }
    let c = x.shape[r - n - 1];
    let (k, groups) = (p.num_output_maps, p.groups);
    if k < 1 || groups < 1 || k % groups != 0 || c as i64 % groups != 0 {
        return Err(format!(
            "channels {c} and output maps {k} must be divisible by groups {groups}"
        ));
    }
    let (k, groups) = (k as usize, groups as usize);
    let pad3 = |v: &[i64], fill: i64| -> [i64; 3] {
        let mut a = [fill; 3];
        a[3 - n..].copy_from_slice(v);
        a
    };
    let pos3 = |v: &[i64], what: &str| -> Result<[usize; 3], String> {
        let a = pad3(v, 1);
        let mut out = [1usize; 3];
        for (o, &e) in out.iter_mut().zip(&a) {
            *o = usize::try_from(e)
                .ok()
                .filter(|&e| e >= 1)
                .ok_or_else(|| format!("{what} {v:?} must be >= 1"))?;
        }
        Ok(out)
    };
    let kernel3 = pos3(&p.kernel_size, "kernel size")?;
    let stride = pos3(&p.stride, "stride")?;
    let dilation = pos3(&p.dilation, "dilation")?;
    let (pre, post) = (pad3(&p.pre_padding, 0), pad3(&p.post_padding, 0));
    let mut input = [1usize; 3];
    input[3 - n..].copy_from_slice(&x.shape[r - n..]);
    let mut output = [1usize; 3];
    for i in 0..3 {
        let (e, kk) = (input[i] as i64, kernel3[i] as i64);
        let (s, d) = (stride[i] as i64, dilation[i] as i64);
        let o = if deconv {
            (e - 1) * s + d * (kk - 1) + 1 - pre[i] - post[i]
        } else {
            (e + pre[i] + post[i] - d * (kk - 1) - 1).div_euclid(s) + 1
        };
        output[i] = usize::try_from(o)
            .ok()
            .filter(|&o| o >= 1 || e == 0)
            .ok_or_else(|| format!("output extent {o} <= 0 for input {:?}", x.shape))?;
    }
    let lead = &x.shape[..r - n - 1];
    let geom = dense::ConvGeom {
        batch: numel(lead),
        c,
        k,
        groups,
        input,
        output,
        kernel: kernel3,
        stride,
        dilation,
        pre,
    };
    let kvol: usize = kernel3.iter().product();
    let want = if deconv {
        c * (k / groups)
    } else {
        k * (c / groups)
    } * kvol;
    let w = weights_f32(kernel, "kernel")?;
    if w.len() != want {
        return Err(format!("kernel has {} elements, expected {want}", w.len()));
    }
    let b = bias.map(|b| weights_f32(b, "bias")).transpose()?;
    if let Some(b) = &b {
        if b.len() != k {
            return Err(format!("bias has {} elements, expected {k}", b.len()));
        }
    }
    let data = if deconv {
        dense::deconvolution(&geom, x.f()?, &w, b.as_deref())
    } else {
        dense::convolution(&geom, x.f()?, &w, b.as_deref())
    };
    let mut shape = lead.to_vec();
    shape.push(k);
    shape.extend(&output[3 - n..]);
    Val::float(x.dtype, shape, data)
}

/// `IMatrixMultiplyLayer`: batched `op_a(a) x op_b(b)` on the emulator's GEMM
/// ([`dense::batched_matmul`]), with TensorRT's equal-rank batch broadcasting; transposes are
/// strides and a vector operand is a one-row (a) or one-column (b) matrix whose dim is dropped.
fn matrix_multiply(a: &Val, op_a: MatrixOp, b: &Val, op_b: MatrixOp) -> Result<Val, String> {
    if a.dtype != b.dtype {
        return Err(format!("input types differ: {} x {}", a.dtype, b.dtype));
    }
    let operand = |v: &'_ Val,
                   op: MatrixOp,
                   is_a: bool|
     -> Result<(Vec<usize>, usize, usize, usize, usize), String> {
        let r = v.shape.len();
        match op {
            MatrixOp::Vector => {
                if r < 1 {
                    return Err("a vector operand needs rank >= 1".into());
                }
                let len = v.shape[r - 1];
                let batch = v.shape[..r - 1].to_vec();
                // (batch, rows, cols, row stride, col stride)
                Ok(if is_a {
                    (batch, 1, len, len, 1)
                } else {
                    (batch, len, 1, 1, 1)
                })
            }
            _ => {
                if r < 2 {
                    return Err("a matrix operand needs rank >= 2".into());
                }
                let (rows, cols) = (v.shape[r - 2], v.shape[r - 1]);
                let batch = v.shape[..r - 2].to_vec();
                Ok(if op == MatrixOp::Transpose {
                    (batch, cols, rows, 1, cols)
                } else {
                    (batch, rows, cols, cols, 1)
                })
            }
        }
    };
    let (ba, ma, ka, rsa, csa) = operand(a, op_a, true)?;
    let (bb, kb, nb, rsb, csb) = operand(b, op_b, false)?;
    if ba.len() != bb.len() {
        return Err(format!(
            "batch ranks differ: {:?} x {:?} (TensorRT does not broadcast ranks)",
            a.shape, b.shape
        ));
    }
    if ka != kb {
        return Err(format!(
            "inner dims differ: {:?} ({op_a:?}) x {:?} ({op_b:?})",
            a.shape, b.shape
        ));
    }
    let batch = broadcast(&[&ba, &bb])?;
    let oa = dense::MatOperand {
        data: a.f()?,
        batch: ba,
        rows: ma,
        cols: ka,
        rs: rsa,
        cs: csa,
    };
    let ob = dense::MatOperand {
        data: b.f()?,
        batch: bb,
        rows: kb,
        cols: nb,
        rs: rsb,
        cs: csb,
    };
    let data = dense::batched_matmul(&oa, &ob, &batch);
    let mut shape = batch;
    if op_a != MatrixOp::Vector {
        shape.push(ma);
    }
    if op_b != MatrixOp::Vector {
        shape.push(nb);
    }
    Val::float(a.dtype, shape, data)
}

fn nan_max(p: f32, q: f32) -> f32 {
    if p.is_nan() || q.is_nan() {
        f32::NAN
    } else {
        p.max(q)
    }
}

fn nan_min(p: f32, q: f32) -> f32 {
    if p.is_nan() || q.is_nan() {
        f32::NAN
    } else {
        p.min(q)
    }
}

fn floor_div_i(p: i64, q: i64) -> i64 {
    let d = p.wrapping_div(q);
    if p.wrapping_rem(q) != 0 && ((p < 0) != (q < 0)) {
        d - 1
    } else {
        d
    }
}

fn pow_i(p: i64, q: i64) -> i64 {
    if q < 0 {
        match p {
            1 => 1,
            -1 if q % 2 == 0 => 1,
            -1 => -1,
            _ => 0,
        }
    } else {
        p.wrapping_pow(q.min(u32::MAX as i64) as u32)
    }
}

fn elementwise(op: ElementWiseOp, a: &Val, b: &Val) -> Result<Val, String> {
    use ElementWiseOp as E;
    if a.dtype != b.dtype {
        return Err(format!(
            "{} of {} and {}: types differ",
            op.name(),
            a.dtype,
            b.dtype
        ));
    }
    let shape = broadcast(&[a.shape.as_slice(), b.shape.as_slice()])?;
    let out_dtype = if op.is_comparison() {
        TrtDataType::Bool
    } else {
        a.dtype
    };
    let bad = || format!("{} is not defined for {} inputs", op.name(), a.dtype);
    let (sa, sb) = (a.shape.as_slice(), b.shape.as_slice());
    // One monomorphic loop per operation (no per-element dispatch).
    macro_rules! bm {
        ($x:expr, $y:expr, $f:expr) => {
            broadcast_map(&shape, sa, $x, sb, $y, $f)
        };
    }
    let data = match (&a.data, &b.data) {
        (Data::F(x), Data::F(y)) => match op {
            E::Equal => Data::B(bm!(x, y, |p, q| p == q)),
            E::Greater => Data::B(bm!(x, y, |p, q| p > q)),
            E::Less => Data::B(bm!(x, y, |p, q| p < q)),
            E::And | E::Or | E::Xor => return Err(bad()),
            E::Sum => Data::F(bm!(x, y, |p, q| p + q)),
            E::Prod => Data::F(bm!(x, y, |p, q| p * q)),
            E::Max => Data::F(bm!(x, y, nan_max)),
            E::Min => Data::F(bm!(x, y, nan_min)),
            E::Sub => Data::F(bm!(x, y, |p, q| p - q)),
            E::Div => Data::F(bm!(x, y, |p, q| p / q)),
            E::Pow => Data::F(bm!(x, y, f32::powf)),
            E::FloorDiv => Data::F(bm!(x, y, |p: f32, q: f32| (p / q).floor())),
        },
        (Data::I(x), Data::I(y)) => match op {
            E::Equal => Data::B(bm!(x, y, |p, q| p == q)),
            E::Greater => Data::B(bm!(x, y, |p, q| p > q)),
            E::Less => Data::B(bm!(x, y, |p, q| p < q)),
            E::And | E::Or | E::Xor => return Err(bad()),
            E::Sum => Data::I(bm!(x, y, i64::wrapping_add)),
            E::Prod => Data::I(bm!(x, y, i64::wrapping_mul)),
            E::Max => Data::I(bm!(x, y, i64::max)),
            E::Min => Data::I(bm!(x, y, i64::min)),
            E::Sub => Data::I(bm!(x, y, i64::wrapping_sub)),
            E::Pow => Data::I(bm!(x, y, pow_i)),
            E::Div | E::FloorDiv => {
                let mut zero = None;
                let v = bm!(x, y, |p: i64, q: i64| {
                    if q == 0 {
                        zero.get_or_insert(p);
                        0
                    } else if op == E::Div {
                        p.wrapping_div(q)
                    } else {
                        floor_div_i(p, q)
                    }
                });
                if let Some(p) = zero {
                    return Err(format!("integer division by zero ({p} {} 0)", op.name()));
                }
                Data::I(v)
            }
        },
        (Data::B(x), Data::B(y)) => Data::B(match op {
            E::And => bm!(x, y, |p, q| p && q),
            E::Or => bm!(x, y, |p, q| p || q),
            E::Xor => bm!(x, y, |p, q| p != q),
            E::Equal => bm!(x, y, |p, q| p == q),
            _ => return Err(bad()),
        }),
        _ => return Err("internal: operand storage differs".into()),
    };
    Val::new(out_dtype, shape, data)
}

/// erf in f64 (the exec crate's libm-backed implementation).
fn erf64(x: f64) -> f64 {
    libm::erf(x)
}

fn unary(op: UnaryOp, v: &Val) -> Result<Val, String> {
    use UnaryOp as U;
    let bad = || format!("{} is not defined for {} inputs", op.name(), v.dtype);
    let data = match &v.data {
        Data::F(x) => {
            if matches!(op, U::IsInf | U::IsNan) {
                let f = if op == U::IsInf {
                    f32::is_infinite
                } else {
                    f32::is_nan
                };
                return Val::new(
                    TrtDataType::Bool,
                    v.shape.clone(),
                    Data::B(x.iter().map(|&p| f(p)).collect()),
                );
            }
            let f: fn(f32) -> f32 = match op {
                U::Exp => f32::exp,
                U::Log => f32::ln,
                U::Sqrt => f32::sqrt,
                U::Recip => |p| 1.0 / p,
                U::Abs => f32::abs,
                U::Neg => |p| -p,
                U::Sin => f32::sin,
                U::Cos => f32::cos,
                U::Tan => f32::tan,
                U::Sinh => f32::sinh,
                U::Cosh => f32::cosh,
                U::Asin => f32::asin,
                U::Acos => f32::acos,
                U::Atan => f32::atan,
                U::Asinh => f32::asinh,
                U::Acosh => f32::acosh,
                U::Atanh => f32::atanh,
                U::Ceil => f32::ceil,
                U::Floor => f32::floor,
                U::Erf => |p| erf64(p as f64) as f32,
                U::Sign => |p| {
                    if p > 0.0 {
                        1.0
                    } else if p < 0.0 {
                        -1.0
                    } else {
                        p
                    }
                },
                U::Round => f32::round_ties_even,
                U::Not | U::IsInf | U::IsNan => return Err(bad()),
            };
            Data::F(x.iter().map(|&p| f(p)).collect())
        }
        Data::I(x) => Data::I(match op {
            U::Abs => x.iter().map(|p| p.wrapping_abs()).collect(),
            U::Neg => x.iter().map(|p| p.wrapping_neg()).collect(),
            U::Sign => x.iter().map(|p| p.signum()).collect(),
            _ => return Err(bad()),
        }),
        Data::B(x) => match op {
            U::Not => Data::B(x.iter().map(|p| !p).collect()),
            _ => return Err(bad()),
        },
    };
    v.with(v.shape.clone(), data)
}

fn activation_layer(act: Activation, v: &Val) -> Result<Val, String> {
    use Activation as A;
    if let Data::I(x) = &v.data {
        if act == A::Relu {
            return v.with(
                v.shape.clone(),
                Data::I(x.iter().map(|&p| p.max(0)).collect()),
            );
        }
        return Err(format!("{} is not defined for {}", act.name(), v.dtype));
    }
    let x = v.f()?;
    let (alpha, beta) = act.alpha_beta();
    let f = |p: f32| -> f32 {
        match act {
            A::Relu => {
                if p.is_nan() {
                    p
                } else {
                    p.max(0.0)
                }
            }
            A::Sigmoid => 1.0 / (1.0 + (-p).exp()),
            A::Tanh => p.tanh(),
            A::LeakyRelu { .. } => {
                if p >= 0.0 {
                    p
                } else {
                    alpha * p
                }
            }
            A::Elu { .. } => {
                if p >= 0.0 {
                    p
                } else {
                    alpha * p.exp_m1()
                }
            }
            A::Selu { .. } => {
                if p > 0.0 {
                    beta * p
                } else {
                    beta * alpha * p.exp_m1()
                }
            }
            A::Softsign => p / (1.0 + p.abs()),
            A::Softplus { .. } => {
                // alpha * log(exp(beta x) + 1), without overflow for large beta x.
                let t = (beta * p) as f64;
                (alpha as f64 * (t.max(0.0) + (-t.abs()).exp().ln_1p())) as f32
            }
            A::Clip { .. } => alpha.max(beta.min(p)),
            A::HardSigmoid { .. } => 0f32.max(1f32.min(alpha * p + beta)),
            A::ScaledTanh { .. } => alpha * (beta * p).tanh(),
            A::ThresholdedRelu { .. } => {
                if p > alpha {
                    p
                } else {
                    0.0
                }
            }
            A::GeluErf => {
                let p = p as f64;
                (0.5 * p * (1.0 + erf64(p / std::f64::consts::SQRT_2))) as f32
            }
            A::GeluTanh => {
                let p = p as f64;
                let c = (2.0 / std::f64::consts::PI).sqrt();
                (0.5 * p * (1.0 + (c * (p + 0.044715 * p * p * p)).tanh())) as f32
            }
        }
    };
    v.with(v.shape.clone(), Data::F(x.iter().map(|&p| f(p)).collect()))
}

fn reduce(op: ReduceOp, v: &Val, axes: u32, keep_dims: bool) -> Result<Val, String> {
    let mask = mask_axes(axes, v.shape.len())?;
    let keep: Vec<usize> = v
        .shape
        .iter()
        .zip(&mask)
        .map(|(&e, &m)| if m { 1 } else { e })
        .collect();
    let out_shape: Vec<usize> = if keep_dims {
        keep.clone()
    } else {
        v.shape
            .iter()
            .zip(&mask)
            .filter(|&(_, &m)| !m)
            .map(|(&e, _)| e)
            .collect()
    };
    let nout = numel(&keep);
    let count = v
        .shape
        .iter()
        .zip(&mask)
        .filter(|&(_, &m)| m)
        .map(|(&e, _)| e)
        .product::<usize>();
    if count == 0 && matches!(op, ReduceOp::Max | ReduceOp::Min) && nout > 0 {
        return Err(format!("{} over no elements", op.name()));
    }
    let map = bcast_index(&v.shape, &keep);
    let data = match &v.data {
        Data::F(x) => {
            let init = match op {
                ReduceOp::Sum | ReduceOp::Avg => 0.0,
                ReduceOp::Prod => 1.0,
                ReduceOp::Max => f64::NEG_INFINITY,
                ReduceOp::Min => f64::INFINITY,
            };
            let mut acc = vec![init; nout];
            for (&p, &o) in x.iter().zip(&map) {
                let p = p as f64;
                let a = &mut acc[o];
                *a = match op {
                    ReduceOp::Sum | ReduceOp::Avg => *a + p,
                    ReduceOp::Prod => *a * p,
                    ReduceOp::Max if p.is_nan() || a.is_nan() => f64::NAN,
                    ReduceOp::Min if p.is_nan() || a.is_nan() => f64::NAN,
                    ReduceOp::Max => a.max(p),
                    ReduceOp::Min => a.min(p),
                };
            }
            if op == ReduceOp::Avg {
                acc.iter_mut().for_each(|a| *a /= count as f64);
            }
            Data::F(acc.into_iter().map(|a| a as f32).collect())
        }
        Data::I(x) => {
            let init = match op {
                ReduceOp::Sum | ReduceOp::Avg => 0,
                ReduceOp::Prod => 1,
                ReduceOp::Max => i64::MIN,
                ReduceOp::Min => i64::MAX,
            };
            if op == ReduceOp::Avg && count == 0 && nout > 0 {
                return Err("avg over no elements".into());
            }
            let mut acc = vec![init; nout];
            for (&p, &o) in x.iter().zip(&map) {
                let a = &mut acc[o];
                *a = match op {
                    ReduceOp::Sum | ReduceOp::Avg => a.wrapping_add(p),
                    ReduceOp::Prod => a.wrapping_mul(p),
                    ReduceOp::Max => (*a).max(p),
                    ReduceOp::Min => (*a).min(p),
                };
            }
            if op == ReduceOp::Avg {
                acc.iter_mut().for_each(|a| *a /= count as i64);
            }
            Data::I(acc)
        }
        Data::B(_) => return Err("bool inputs cannot be reduced".into()),
    };
    v.with(out_shape, data)
}

fn softmax(v: &Val, axis: u32) -> Result<Val, String> {
    let x = v.f()?;
    let a = axis_of(axis, v.shape.len())?;
    let (outer, len, inner) = split_at_axis(&v.shape, a);
    let mut out = vec![0f32; x.len()];
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| o * len * inner + j * inner + i;
            let m = (0..len).map(|j| x[at(j)]).fold(f32::NEG_INFINITY, f32::max);
            let s: f64 = (0..len).map(|j| ((x[at(j)] - m) as f64).exp()).sum();
            for j in 0..len {
                out[at(j)] = (((x[at(j)] - m) as f64).exp() / s) as f32;
            }
        }
    }
    v.with(v.shape.clone(), Data::F(out))
}

/// Resolves reshape dims at run time: `0` copies the input extent (placeholder mode), one `-1`
/// takes the rest of the volume.
fn reshape_dims(
    input: &[usize],
    target: &[i64],
    zero_is_placeholder: bool,
) -> Result<Vec<usize>, String> {
    let mut out = Vec::with_capacity(target.len());
    let mut infer_at = None;
    for (i, &t) in target.iter().enumerate() {
        match t {
            0 if zero_is_placeholder => out.push(*input.get(i).ok_or_else(|| {
                format!(
                    "reshape placeholder 0 at dim {i} but the input has rank {}",
                    input.len()
                )
            })?),
            -1 => {
                if infer_at.replace(i).is_some() {
                    return Err(format!("more than one -1 in reshape dims {target:?}"));
                }
                out.push(1);
            }
            t if t < 0 => return Err(format!("negative reshape extent in {target:?}")),
            t => out.push(t as usize),
        }
    }
    let vol = numel(input);
    let rest = numel(&out);
    if let Some(i) = infer_at {
        if rest == 0 || !vol.is_multiple_of(rest) {
            return Err(format!(
                "cannot reshape {input:?} to {target:?}: the -1 extent is not determined"
            ));
        }
        out[i] = vol / rest;
    } else if rest != vol {
        return Err(format!(
            "reshape {input:?} to {target:?} changes the volume"
        ));
    }
    Ok(out)
}

fn shuffle(vals: &[Option<Val>], v: &Val, p: &ShuffleParams) -> Result<Val, String> {
    let mut cur = v.clone();
    if let Some(perm) = &p.first_transpose {
        cur = permute(&cur, &check_perm(perm, cur.shape.len())?)?;
    }
    if let Some(r) = &p.reshape {
        let target = shape_arg(vals, r)?;
        let shape = reshape_dims(&cur.shape, &target, p.zero_is_placeholder)?;
        cur = cur.with(shape, cur.data.clone())?;
    }
    if let Some(perm) = &p.second_transpose {
        cur = permute(&cur, &check_perm(perm, cur.shape.len())?)?;
    }
    Ok(cur)
}

fn slice(vals: &[Option<Val>], v: &Val, p: &SliceParams) -> Result<Val, String> {
    let r = v.shape.len();
    let start = shape_arg(vals, &p.start)?;
    let size = to_extents(&shape_arg(vals, &p.size)?, "slice size")?;
    let stride = shape_arg(vals, &p.stride)?;
    if start.len() != r || size.len() != r || stride.len() != r {
        return Err(format!(
            "start {start:?}, size {size:?} and stride {stride:?} must have {r} entries"
        ));
    }
    let fill = match p.fill_value {
        Some(t) => {
            let f = get(vals, t)?;
            if f.data.len() != 1 || f.dtype != v.dtype {
                return Err(format!("fill value must be one {} element", v.dtype));
            }
            f.data.clone()
        }
        None => match &v.data {
            Data::F(_) => Data::F(vec![0.0]),
            Data::I(_) => Data::I(vec![0]),
            Data::B(_) => Data::B(vec![false]),
        },
    };
    // Per dim, the source coordinate of each output coordinate (None: the fill value).
    let mut maps: Vec<Vec<Option<usize>>> = Vec::with_capacity(r);
    for d in 0..r {
        let e = v.shape[d] as i64;
        let col = (0..size[d])
            .map(|j| {
                let x = start[d] + j as i64 * stride[d];
                if (0..e).contains(&x) {
                    return Ok(Some(x as usize));
                }
                let empty = || format!("dim {d}: coordinate {x} in an empty extent");
                Ok(match p.mode {
                    SliceMode::StrictBounds => {
                        return Err(format!(
                            "dim {d}: coordinate {x} outside extent {e} (strict bounds)"
                        ))
                    }
                    SliceMode::Fill => None,
                    _ if e == 0 => return Err(empty()),
                    SliceMode::Wrap => Some(x.rem_euclid(e) as usize),
                    SliceMode::Clamp => Some(x.clamp(0, e - 1) as usize),
                    SliceMode::Reflect => {
                        if e == 1 {
                            Some(0)
                        } else {
                            let period = 2 * (e - 1);
                            let m = x.rem_euclid(period);
                            Some((if m >= e { period - m } else { m }) as usize)
                        }
                    }
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        maps.push(col);
    }
    let st = strides(&v.shape);
    let mut idx = Vec::with_capacity(numel(&size));
    for_each_coord(&size, |c| {
        let mut off = Some(0usize);
        for d in 0..r {
            off = match (off, maps[d][c[d]]) {
                (Some(o), Some(x)) => Some(o + x * st[d]),
                _ => None,
            };
        }
        idx.push(off);
    });
    v.with(size, v.data.take_or(&idx, &fill)?)
}

fn concatenation(vs: &[&Val], axis: u32) -> Result<Val, String> {
    let first = vs.first().ok_or("needs at least one input")?;
    let a = axis_of(axis, first.shape.len())?;
    let mut shape = first.shape.clone();
    shape[a] = 0;
    for v in vs {
        let same = v.dtype == first.dtype
            && v.shape.len() == first.shape.len()
            && v.shape
                .iter()
                .zip(&first.shape)
                .enumerate()
                .all(|(d, (x, y))| d == a || x == y);
        if !same {
            return Err(format!(
                "inputs {} {:?} and {} {:?} differ outside axis {a}",
                first.dtype, first.shape, v.dtype, v.shape
            ));
        }
        shape[a] += v.shape[a];
    }
    // Gather from a virtual stack: (input, element) pairs in output order.
    let (outer, _, inner) = split_at_axis(&shape, a);
    let mut src: Vec<(usize, usize)> = Vec::with_capacity(numel(&shape));
    for o in 0..outer {
        for (k, v) in vs.iter().enumerate() {
            let chunk = v.shape[a] * inner;
            src.extend((o * chunk..(o + 1) * chunk).map(|i| (k, i)));
        }
    }
    let data = match &first.data {
        Data::F(_) => Data::F(
            src.iter()
                .map(|&(k, i)| vs[k].f().map(|x| x[i]))
                .collect::<Result<_, _>>()?,
        ),
        Data::I(_) => Data::I(
            src.iter()
                .map(|&(k, i)| vs[k].i().map(|x| x[i]))
                .collect::<Result<_, _>>()?,
        ),
        Data::B(_) => Data::B(
            src.iter()
                .map(|&(k, i)| vs[k].b().map(|x| x[i]))
                .collect::<Result<_, _>>()?,
        ),
    };
    first.with(shape, data)
}

fn gather(data: &Val, indices: &Val, axis: u32, mode: GatherMode) -> Result<Val, String> {
    let ix = indices.i()?;
    let r = data.shape.len();
    match mode {
        GatherMode::Default => {
            let a = axis_of(axis, r)?;
            let (outer, len, inner) = split_at_axis(&data.shape, a);
            let wrapped = ix
                .iter()
                .map(|&i| wrap_index(i, len, "gather"))
                .collect::<Result<Vec<_>, _>>()?;
            let mut shape = data.shape[..a].to_vec();
            shape.extend(&indices.shape);
            shape.extend(&data.shape[a + 1..]);
            let mut idx = Vec::with_capacity(numel(&shape));
            for o in 0..outer {
                for &j in &wrapped {
                    let base = (o * len + j) * inner;
                    idx.extend(base..base + inner);
                }
            }
            data.with(shape, data.data.take(&idx))
        }
        GatherMode::Element => {
            let a = axis_of(axis, r)?;
            if indices.shape.len() != r {
                return Err(format!(
                    "element mode needs equal ranks: {:?} and {:?}",
                    data.shape, indices.shape
                ));
            }
            if (0..r).any(|d| d != a && indices.shape[d] > data.shape[d]) {
                return Err(format!(
                    "indices {:?} exceed data {:?} outside axis {a}",
                    indices.shape, data.shape
                ));
            }
            let st = strides(&data.shape);
            let mut idx = Vec::with_capacity(ix.len());
            let mut k = 0;
            let mut failure = None;
            for_each_coord(&indices.shape, |c| {
                match wrap_index(ix[k], data.shape[a], "gather") {
                    Ok(j) => idx.push(
                        c.iter()
                            .enumerate()
                            .map(|(d, &x)| (if d == a { j } else { x }) * st[d])
                            .sum(),
                    ),
                    Err(e) => {
                        if failure.is_none() {
                            failure = Some(e);
                        }
                        idx.push(0);
                    }
                }
                k += 1;
            });
            if let Some(e) = failure {
                return Err(e);
            }
            data.with(indices.shape.clone(), data.data.take(&idx))
        }
        GatherMode::Nd => {
            let q = indices.shape.len();
            let depth = *indices
                .shape
                .last()
                .ok_or("nd mode needs indices of rank >= 1")?;
            if depth > r {
                return Err(format!(
                    "nd mode: index tuples of {depth} for data of rank {r}"
                ));
            }
            let mut shape = indices.shape[..q - 1].to_vec();
            shape.extend(&data.shape[depth..]);
            let st = strides(&data.shape);
            let inner = numel(&data.shape[depth..]);
            let tuples = numel(&indices.shape[..q - 1]);
            let mut idx = Vec::with_capacity(tuples * inner);
            for t in 0..tuples {
                let mut base = 0;
                for d in 0..depth {
                    base += wrap_index(ix[t * depth + d], data.shape[d], "gather")? * st[d];
                }
                idx.extend(base..base + inner);
            }
            data.with(shape, data.data.take(&idx))
        }
    }
}

fn select(c: &Val, t: &Val, e: &Val) -> Result<Val, String> {
    let cond = c.b()?;
    if t.dtype != e.dtype {
        return Err(format!("branch types differ: {} and {}", t.dtype, e.dtype));
    }
    let shape = broadcast(&[c.shape.as_slice(), t.shape.as_slice(), e.shape.as_slice()])?;
    let (ic, it, ie) = (
        bcast_index(&shape, &c.shape),
        bcast_index(&shape, &t.shape),
        bcast_index(&shape, &e.shape),
    );
    let mut out = t.data.take(&it);
    for (k, (&ci, &ei)) in ic.iter().zip(&ie).enumerate() {
        if !cond[ci] {
            out.set_from(k, &e.data, ei)?;
        }
    }
    t.with(shape, out)
}

fn cast(v: &Val, to: TrtDataType) -> Result<Val, String> {
    let data = match (&v.data, domain(to)?) {
        (Data::F(x), Dom::F) => Data::F(x.clone()),
        (Data::F(x), Dom::I) => Data::I(
            x.iter()
                .map(|&p| match to {
                    // `as` truncates toward zero and saturates (NaN → 0).
                    TrtDataType::Int32 => p as i32 as i64,
                    TrtDataType::Uint8 => p as u8 as i64,
                    TrtDataType::Int8 => p as i8 as i64,
                    _ => p as i64,
                })
                .collect(),
        ),
        (Data::F(x), Dom::B) => Data::B(x.iter().map(|&p| p != 0.0).collect()),
        (Data::I(x), Dom::F) => Data::F(x.iter().map(|&p| p as f32).collect()),
        (Data::I(x), Dom::I) => Data::I(x.clone()),
        (Data::I(x), Dom::B) => Data::B(x.iter().map(|&p| p != 0).collect()),
        (Data::B(x), Dom::F) => Data::F(x.iter().map(|&p| f32::from(u8::from(p))).collect()),
        (Data::B(x), Dom::I) => Data::I(x.iter().map(|&p| i64::from(p)).collect()),
        (Data::B(x), Dom::B) => Data::B(x.clone()),
    };
    Val::new(to, v.shape.clone(), data)
}

fn pooling(v: &Val, p: &PoolingParams) -> Result<Val, String> {
    let x = v.f()?;
    let n = p.window.len();
    if !(n == 2 || n == 3)
        || p.stride.len() != n
        || p.pre_padding.len() != n
        || p.post_padding.len() != n
    {
        return Err(format!(
            "window {:?}, stride {:?}, padding {:?}/{:?} must all have 2 or 3 entries",
            p.window, p.stride, p.pre_padding, p.post_padding
        ));
    }
    let r = v.shape.len();
    if r < n + 1 {
        return Err(format!("input {:?} has rank < {}", v.shape, n + 1));
    }
    if p.window.iter().chain(&p.stride).any(|&w| w < 1) {
        return Err("window and stride must be >= 1".into());
    }
    let sp_in: Vec<i64> = v.shape[r - n..].iter().map(|&e| e as i64).collect();
    let (mut out_sp, mut pre, mut post) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &inn) in sp_in.iter().enumerate() {
        let (w, s) = (p.window[i], p.stride[i]);
        let (o, a, b) = match p.padding_mode {
            PaddingMode::ExplicitRoundDown | PaddingMode::ExplicitRoundUp => {
                let (a, b) = (p.pre_padding[i], p.post_padding[i]);
                let span = inn + a + b - w;
                let o = if p.padding_mode == PaddingMode::ExplicitRoundDown {
                    span.div_euclid(s) + 1
                } else {
                    (span + s - 1).div_euclid(s) + 1
                };
                (o, a, b)
            }
            PaddingMode::SameUpper | PaddingMode::SameLower => {
                let o = (inn + s - 1) / s;
                let total = ((o - 1) * s + w - inn).max(0);
                let a = if p.padding_mode == PaddingMode::SameUpper {
                    total / 2
                } else {
                    total - total / 2
                };
                (o, a, total - a)
            }
        };
        out_sp.push(usize::try_from(o).map_err(|_| "window larger than the padded input")?);
        pre.push(a);
        post.push(b);
    }
    let outer = numel(&v.shape[..r - n]);
    let in_sp: Vec<usize> = v.shape[r - n..].to_vec();
    let in_st = strides(&in_sp);
    let in_vol = numel(&in_sp);
    let win: Vec<usize> = p.window.iter().map(|&w| w as usize).collect();
    let mut res = Vec::with_capacity(outer * numel(&out_sp));
    for o in 0..outer {
        let base = o * in_vol;
        for_each_coord(&out_sp, |oc| {
            let (mut mx, mut sum, mut valid, mut padded) =
                (f32::NEG_INFINITY, 0f64, 0usize, 0usize);
            for_each_coord(&win, |wc| {
                let mut inside = true;
                let mut in_pad = true;
                let mut off = 0usize;
                for d in 0..n {
                    let pos = oc[d] as i64 * p.stride[d] - pre[d] + wc[d] as i64;
                    if pos < -pre[d] || pos >= sp_in[d] + post[d] {
                        in_pad = false;
                    }
                    if pos < 0 || pos >= sp_in[d] {
                        inside = false;
                    } else {
                        off += pos as usize * in_st[d];
                    }
                }
                if in_pad {
                    padded += 1;
                }
                if inside {
                    let val = x[base + off];
                    if !mx.is_nan() && (val.is_nan() || val > mx) {
                        mx = val;
                    }
                    sum += val as f64;
                    valid += 1;
                }
            });
            let denom = if p.average_count_excludes_padding {
                valid
            } else {
                padded
            };
            let avg = if denom == 0 {
                0.0
            } else {
                (sum / denom as f64) as f32
            };
            res.push(match p.kind {
                PoolingType::Max => mx,
                PoolingType::Average => avg,
                PoolingType::MaxAverageBlend => (1.0 - p.blend_factor) * mx + p.blend_factor * avg,
            });
        });
    }
    let mut shape = v.shape[..r - n].to_vec();
    shape.extend(&out_sp);
    v.with(shape, Data::F(res))
}

fn normalization(
    x: &Val,
    scale: &Val,
    bias: &Val,
    axes: u32,
    eps: f32,
    groups: i64,
) -> Result<Val, String> {
    let xs = x.f()?;
    let (ss, bs) = (scale.f()?, bias.f()?);
    let r = x.shape.len();
    let mask = mask_axes(axes, r)?;
    for (what, t) in [("scale", scale), ("bias", bias)] {
        if broadcast(&[x.shape.as_slice(), t.shape.as_slice()])
            .ok()
            .as_ref()
            != Some(&x.shape)
        {
            return Err(format!(
                "{what} {:?} does not broadcast to the input {:?}",
                t.shape, x.shape
            ));
        }
    }
    if groups < 1 {
        return Err(format!("num_groups {groups} must be >= 1"));
    }
    let g = groups as usize;
    let mut stat_shape: Vec<usize> = x
        .shape
        .iter()
        .zip(&mask)
        .map(|(&e, &m)| if m { 1 } else { e })
        .collect();
    let per_group = if g > 1 {
        if r < 2 || !x.shape[1].is_multiple_of(g) {
            return Err(format!(
                "{g} groups need a channel dim 1 divisible by them, input {:?}",
                x.shape
            ));
        }
        stat_shape[1] = g;
        x.shape[1] / g
    } else {
        1
    };
    let sst = strides(&stat_shape);
    let mut keys = Vec::with_capacity(xs.len());
    for_each_coord(&x.shape, |c| {
        let mut k = 0;
        for d in 0..r {
            let cd = if g > 1 && d == 1 {
                c[1] / per_group
            } else if mask[d] {
                0
            } else {
                c[d]
            };
            k += cd * sst[d];
        }
        keys.push(k);
    });
    let ns = numel(&stat_shape);
    let (mut mean, mut var, mut cnt) = (vec![0f64; ns], vec![0f64; ns], vec![0usize; ns]);
    for (&p, &k) in xs.iter().zip(&keys) {
        mean[k] += p as f64;
        cnt[k] += 1;
    }
    for (m, &c) in mean.iter_mut().zip(&cnt) {
        *m /= c.max(1) as f64;
    }
    for (&p, &k) in xs.iter().zip(&keys) {
        let d = p as f64 - mean[k];
        var[k] += d * d;
    }
    for (v, &c) in var.iter_mut().zip(&cnt) {
        *v /= c.max(1) as f64;
    }
    let (is, ib) = (
        bcast_index(&x.shape, &scale.shape),
        bcast_index(&x.shape, &bias.shape),
    );
    let out = xs
        .iter()
        .zip(&keys)
        .enumerate()
        .map(|(i, (&p, &k))| {
            let n = (p as f64 - mean[k]) / (var[k] + eps as f64).sqrt();
            (n * ss[is[i]] as f64 + bs[ib[i]] as f64) as f32
        })
        .collect();
    x.with(x.shape.clone(), Data::F(out))
}

/// Total order with NaN above every number.
fn fcmp(p: f32, q: f32) -> Ordering {
    match (p.is_nan(), q.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => p.partial_cmp(&q).unwrap_or(Ordering::Equal),
    }
}

fn topk(
    v: &Val,
    op: TopKOp,
    k: i32,
    axes: u32,
    indices_dtype: TrtDataType,
) -> Result<(Val, Val), String> {
    let r = v.shape.len();
    mask_axes(axes, r)?;
    if axes.count_ones() != 1 {
        return Err(format!("axes {axes:#b} must name exactly one dim"));
    }
    let a = axes.trailing_zeros() as usize;
    let (outer, len, inner) = split_at_axis(&v.shape, a);
    let k = usize::try_from(k)
        .ok()
        .filter(|&k| k <= len)
        .ok_or_else(|| format!("k = {k} out of range for extent {len}"))?;
    let cmp = |p: usize, q: usize| -> Ordering {
        match &v.data {
            Data::F(x) => fcmp(x[p], x[q]),
            Data::I(x) => x[p].cmp(&x[q]),
            Data::B(x) => x[p].cmp(&x[q]),
        }
    };
    let mut shape = v.shape.clone();
    shape[a] = k;
    let mut src = vec![0usize; numel(&shape)];
    let mut pos = vec![0i64; numel(&shape)];
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| (o * len + j) * inner + i;
            let mut order: Vec<usize> = (0..len).collect();
            // Stable sort: equal values keep the lower index first.
            order.sort_by(|&p, &q| match op {
                TopKOp::Max => cmp(at(q), at(p)),
                TopKOp::Min => cmp(at(p), at(q)),
            });
            for (j, &s) in order.iter().take(k).enumerate() {
                let dst = (o * k + j) * inner + i;
                src[dst] = at(s);
                pos[dst] = s as i64;
            }
        }
    }
    let values = v.with(shape.clone(), v.data.take(&src))?;
    if !indices_dtype.is_int() {
        return Err(format!("indices type {indices_dtype} must be i32 or i64"));
    }
    let indices = Val::new(indices_dtype, shape, Data::I(pos))?;
    Ok((values, indices))
}

/// Cubic convolution kernel with coefficient `a` (Keys).
fn cubic_weight(a: f64, s: f64) -> f64 {
    let s = s.abs();
    if s <= 1.0 {
        (a + 2.0) * s * s * s - (a + 3.0) * s * s + 1.0
    } else if s < 2.0 {
        a * s * s * s - 5.0 * a * s * s + 8.0 * a * s - 4.0 * a
    } else {
        0.0
    }
}

fn resize(vals: &[Option<Val>], v: &Val, p: &ResizeParams) -> Result<Val, String> {
    v.f()?;
    let r = v.shape.len();
    let (out_shape, scales): (Vec<usize>, Option<&Vec<f32>>) = match &p.output {
        ResizeOutput::Dims(d) => (to_extents(d, "resize dims")?, None),
        ResizeOutput::Scales(s) => {
            if s.len() != r {
                return Err(format!("{} scales for rank {r}", s.len()));
            }
            let dims = v
                .shape
                .iter()
                .zip(s)
                .map(|(&e, &f)| (e as f64 * f as f64).floor().max(0.0) as usize)
                .collect();
            (dims, Some(s))
        }
        ResizeOutput::Shape(t) => (
            to_extents(&shape_arg(vals, &ShapeArg::Tensor(*t))?, "resize shape")?,
            None,
        ),
    };
    if out_shape.len() != r {
        return Err(format!("output dims {out_shape:?} must have rank {r}"));
    }
    let mut cur = v.clone();
    for d in 0..r {
        let (inn, out) = (cur.shape[d], out_shape[d]);
        if inn == 0 && out > 0 {
            return Err(format!("dim {d}: cannot resize an empty extent to {out}"));
        }
        let scale = match scales {
            Some(s) => s[d] as f64,
            None if inn > 0 => out as f64 / inn as f64,
            None => 1.0,
        };
        // Taps (source index, weight) of every output position along `d`.
        let taps: Vec<Vec<(usize, f64)>> = (0..out)
            .map(|o| {
                let x = match p.coordinate_transformation {
                    ResizeCoordinateTransformation::AlignCorners => {
                        if out <= 1 {
                            0.0
                        } else {
                            o as f64 * (inn - 1) as f64 / (out - 1) as f64
                        }
                    }
                    ResizeCoordinateTransformation::Asymmetric => o as f64 / scale,
                    ResizeCoordinateTransformation::HalfPixel => (o as f64 + 0.5) / scale - 0.5,
                };
                let last = (inn - 1) as f64;
                match p.mode {
                    ResizeMode::Nearest => {
                        let n = match p.nearest_rounding {
                            ResizeRoundMode::HalfUp => (x + 0.5).floor(),
                            ResizeRoundMode::HalfDown => (x - 0.5).ceil(),
                            ResizeRoundMode::Floor => x.floor(),
                            ResizeRoundMode::Ceil => x.ceil(),
                        };
                        vec![(n.clamp(0.0, last) as usize, 1.0)]
                    }
                    ResizeMode::Linear => {
                        let x = x.clamp(0.0, last);
                        let lo = x.floor();
                        let w = x - lo;
                        let hi = (lo + 1.0).min(last);
                        vec![(lo as usize, 1.0 - w), (hi as usize, w)]
                    }
                    ResizeMode::Cubic => {
                        let x0 = x.floor();
                        let t = x - x0;
                        let mut taps: Vec<(i64, f64)> = (-1..=2)
                            .map(|k| {
                                (
                                    x0 as i64 + k,
                                    cubic_weight(p.cubic_coeff as f64, t - k as f64),
                                )
                            })
                            .collect();
                        if p.exclude_outside {
                            taps.retain(|&(i, _)| (0..inn as i64).contains(&i));
                            let s: f64 = taps.iter().map(|t| t.1).sum();
                            if s != 0.0 {
                                taps.iter_mut().for_each(|t| t.1 /= s);
                            }
                        }
                        taps.into_iter()
                            .map(|(i, w)| (i.clamp(0, inn as i64 - 1) as usize, w))
                            .collect()
                    }
                }
            })
            .collect();
        let x = cur.f()?;
        let (outer, _, inner) = split_at_axis(&cur.shape, d);
        let mut res = Vec::with_capacity(outer * out * inner);
        for o in 0..outer {
            for t in &taps {
                for i in 0..inner {
                    let s: f64 = t
                        .iter()
                        .map(|&(j, w)| w * x[(o * inn + j) * inner + i] as f64)
                        .sum();
                    res.push(s as f32);
                }
            }
        }
        let mut shape = cur.shape.clone();
        shape[d] = out;
        cur = Val::float(TrtDataType::Float, shape, res)?;
    }
    let Data::F(data) = cur.data else {
        return Err("internal: resize produced non-float data".into());
    };
    Val::float(v.dtype, cur.shape, data)
}

fn fill(vals: &[Option<Val>], p: &FillParams) -> Result<Val, String> {
    if p.op != FillOp::Linspace {
        return Err(format!(
            "{:?} fills are random; the emulator only runs deterministic layers",
            p.op
        ));
    }
    let shape = to_extents(&shape_arg(vals, &p.dims)?, "fill dims")?;
    let r = shape.len();
    let dom = domain(p.dtype)?;
    // (float, int) views of alpha and the per-dim deltas.
    let scalar = |a: &FillArg, what: &str| -> Result<Vec<(f64, i64)>, String> {
        Ok(match a {
            FillArg::Scalar(x) => vec![(*x, *x as i64)],
            FillArg::PerDim(v) => v.iter().map(|&x| (x, x as i64)).collect(),
            FillArg::Tensor(t) => {
                let v = get(vals, *t)?;
                match &v.data {
                    Data::F(x) => x.iter().map(|&x| (x as f64, x as i64)).collect(),
                    Data::I(x) => x.iter().map(|&x| (x as f64, x)).collect(),
                    Data::B(_) => return Err(format!("{what} tensor {t} must be numeric")),
                }
            }
        })
    };
    let alpha = scalar(&p.alpha, "alpha")?;
    let alpha = *alpha
        .first()
        .filter(|_| alpha.len() == 1)
        .ok_or("alpha must be one value")?;
    let mut beta = scalar(&p.beta, "beta")?;
    if beta.len() == 1 && r != 1 {
        beta = vec![beta[0]; r];
    }
    if beta.len() != r {
        return Err(format!("beta has {} entries for rank {r}", beta.len()));
    }
    let mut fv = Vec::new();
    let mut iv = Vec::new();
    for_each_coord(&shape, |c| {
        if dom == Dom::F {
            fv.push(
                (alpha.0
                    + c.iter()
                        .zip(&beta)
                        .map(|(&i, b)| i as f64 * b.0)
                        .sum::<f64>()) as f32,
            );
        } else {
            iv.push(c.iter().zip(&beta).fold(alpha.1, |acc, (&i, b)| {
                acc.wrapping_add((i as i64).wrapping_mul(b.1))
            }));
        }
    });
    let data = match dom {
        Dom::F => Data::F(fv),
        Dom::I => Data::I(iv),
        Dom::B => return Err("linspace cannot produce bool".into()),
    };
    Val::new(p.dtype, shape, data)
}

fn scatter(
    data: &Val,
    indices: &Val,
    updates: &Val,
    mode: ScatterMode,
    axis: u32,
) -> Result<Val, String> {
    let ix = indices.i()?;
    if updates.dtype != data.dtype {
        return Err(format!(
            "updates {} must have data's type {}",
            updates.dtype, data.dtype
        ));
    }
    let r = data.shape.len();
    let st = strides(&data.shape);
    let mut out = data.data.clone();
    match mode {
        ScatterMode::Element => {
            let a = axis_of(axis, r)?;
            if indices.shape.len() != r || updates.shape.len() != r {
                return Err("element mode needs equal ranks".into());
            }
            if (0..r).any(|d| {
                indices.shape[d] > updates.shape[d] || (d != a && indices.shape[d] > data.shape[d])
            }) {
                return Err(format!(
                    "indices {:?} exceed updates {:?} or data {:?}",
                    indices.shape, updates.shape, data.shape
                ));
            }
            let ust = strides(&updates.shape);
            let mut writes = Vec::with_capacity(ix.len());
            let mut k = 0;
            let mut failure = None;
            for_each_coord(&indices.shape, |c| {
                match wrap_index(ix[k], data.shape[a], "scatter") {
                    Ok(j) => {
                        let dst: usize = c
                            .iter()
                            .enumerate()
                            .map(|(d, &x)| (if d == a { j } else { x }) * st[d])
                            .sum();
                        let src: usize = c.iter().zip(&ust).map(|(x, s)| x * s).sum();
                        writes.push((dst, src));
                    }
                    Err(e) => {
                        if failure.is_none() {
                            failure = Some(e);
                        }
                    }
                }
                k += 1;
            });
            if let Some(e) = failure {
                return Err(e);
            }
            for (dst, src) in writes {
                out.set_from(dst, &updates.data, src)?;
            }
        }
        ScatterMode::Nd => {
            let q = indices.shape.len();
            let depth = *indices
                .shape
                .last()
                .ok_or("nd mode needs indices of rank >= 1")?;
            if depth > r {
                return Err(format!("index tuples of {depth} for data of rank {r}"));
            }
            let mut want = indices.shape[..q - 1].to_vec();
            want.extend(&data.shape[depth..]);
            if updates.shape != want {
                return Err(format!(
                    "updates {:?} must have shape {want:?}",
                    updates.shape
                ));
            }
            let inner = numel(&data.shape[depth..]);
            for t in 0..numel(&indices.shape[..q - 1]) {
                let mut base = 0;
                for d in 0..depth {
                    base += wrap_index(ix[t * depth + d], data.shape[d], "scatter")? * st[d];
                }
                for i in 0..inner {
                    out.set_from(base + i, &updates.data, t * inner + i)?;
                }
            }
        }
    }
    data.with(data.shape.clone(), out)
}

fn one_hot(indices: &Val, values: &Val, depth: &Val, axis: i32) -> Result<Val, String> {
    let ix = indices.i()?;
    if values.data.len() != 2 {
        return Err(format!(
            "values must hold [off, on], got {:?}",
            values.shape
        ));
    }
    let dv = depth.i()?;
    let d = *dv
        .first()
        .filter(|_| dv.len() == 1)
        .ok_or("depth must be a scalar")?;
    let d = usize::try_from(d).map_err(|_| format!("negative depth {d}"))?;
    let r = indices.shape.len() as i32;
    let a = if axis < 0 { axis + r + 1 } else { axis };
    if !(0..=r).contains(&a) {
        return Err(format!("axis {axis} out of range for rank {r}"));
    }
    let a = a as usize;
    let mut shape = indices.shape.clone();
    shape.insert(a, d);
    let ist = strides(&indices.shape);
    let mut pick = Vec::with_capacity(numel(&shape));
    for_each_coord(&shape, |c| {
        let src: usize = c
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != a)
            .zip(&ist)
            .map(|((_, &x), s)| x * s)
            .sum();
        let mut i = ix[src];
        if i < 0 {
            i += d as i64;
        }
        pick.push(usize::from(i == c[a] as i64));
    });
    values.with(shape, values.data.take(&pick))
}

fn cumulative(
    v: &Val,
    axis: u32,
    op: CumulativeOp,
    exclusive: bool,
    reverse: bool,
) -> Result<Val, String> {
    let CumulativeOp::Sum = op;
    let a = axis_of(axis, v.shape.len())?;
    let (outer, len, inner) = split_at_axis(&v.shape, a);
    let order: Vec<usize> = if reverse {
        (0..len).rev().collect()
    } else {
        (0..len).collect()
    };
    let data = match &v.data {
        Data::F(x) => {
            let mut out = vec![0f32; x.len()];
            for o in 0..outer {
                for i in 0..inner {
                    let mut acc = 0f64;
                    for &j in &order {
                        let at = (o * len + j) * inner + i;
                        if exclusive {
                            out[at] = acc as f32;
                            acc += x[at] as f64;
                        } else {
                            acc += x[at] as f64;
                            out[at] = acc as f32;
                        }
                    }
                }
            }
            Data::F(out)
        }
        Data::I(x) => {
            let mut out = vec![0i64; x.len()];
            for o in 0..outer {
                for i in 0..inner {
                    let mut acc = 0i64;
                    for &j in &order {
                        let at = (o * len + j) * inner + i;
                        if exclusive {
                            out[at] = acc;
                            acc = acc.wrapping_add(x[at]);
                        } else {
                            acc = acc.wrapping_add(x[at]);
                            out[at] = acc;
                        }
                    }
                }
            }
            Data::I(out)
        }
        Data::B(_) => return Err("bool inputs cannot be summed".into()),
    };
    v.with(v.shape.clone(), data)
}

/// Where a tap at integer position `i` of an extent `e` reads under `mode` (`None`: zero).
/// Reflection mirrors at the borders of the sampled range, repeatedly: at the outer edges
/// (`-0.5`, `e - 0.5`) or, with aligned corners, at the corner centers (`0`, `e - 1`).
fn grid_tap(i: i64, e: usize, mode: SliceMode, align_corners: bool) -> Option<usize> {
    let e = e as i64;
    let inside = (0..e).contains(&i);
    match mode {
        SliceMode::Clamp => Some(i.clamp(0, e - 1) as usize),
        SliceMode::Reflect if !inside => {
            // Mirror the doubled coordinate 2i about 2lo and 2hi (integers, so half-integer
            // and integer borders are both exact; i128 so no extent overflows). The result
            // is always even: an element.
            let (i, e) = (i128::from(i), i128::from(e));
            let (lo2, hi2) = if align_corners {
                (0, 2 * (e - 1))
            } else {
                (-1, 2 * e - 1)
            };
            let span = hi2 - lo2;
            if span == 0 {
                return Some(0);
            }
            let m = (2 * i - lo2).rem_euclid(2 * span);
            let x2 = lo2 + if m > span { 2 * span - m } else { m };
            Some((x2 / 2).clamp(0, e - 1) as usize)
        }
        _ => inside.then_some(i as usize),
    }
}

/// `IGridSampleLayer`, written from TensorRT's operator description (the ONNX GridSample
/// semantics): each output position reads `grid[n, p..., :]`, the normalized coordinates
/// (x for the innermost spatial dim first), maps each to element coordinates
/// (`(g + 1) / 2 * (e - 1)` with aligned corners, else `((g + 1) * e - 1) / 2`) and
/// interpolates: nearest (round half to even), linear (2 taps per dim) or cubic (4 taps per
/// dim, Keys' kernel with A = -0.75). Taps out of range read per `sample_mode`: zero
/// (`Fill`), the nearest border element (`Clamp`) or the mirrored element (`Reflect`).
/// Accumulates in f64.
fn grid_sample(
    v: &Val,
    grid: &Val,
    mode: ResizeMode,
    align_corners: bool,
    sample_mode: SliceMode,
) -> Result<Val, String> {
    let (x, gv) = (v.f()?, grid.f()?);
    let r = v.shape.len();
    if !matches!(r, 4 | 5) || grid.shape.len() != r {
        return Err(format!(
            "input {:?} and grid {:?} must have rank 4 or 5",
            v.shape, grid.shape
        ));
    }
    let sp = r - 2;
    if grid.shape[0] != v.shape[0] || grid.shape[r - 1] != sp {
        return Err(format!(
            "grid {:?} does not fit input {:?}",
            grid.shape, v.shape
        ));
    }
    if !matches!(
        sample_mode,
        SliceMode::Fill | SliceMode::Clamp | SliceMode::Reflect
    ) {
        return Err(format!(
            "sample mode {sample_mode:?} is not a grid sample mode"
        ));
    }
    let (n, c) = (v.shape[0], v.shape[1]);
    let in_sp = &v.shape[2..];
    let out_sp = &grid.shape[1..r - 1];
    let (in_vol, out_vol) = (numel(in_sp), numel(out_sp));
    let in_st = strides(in_sp);
    let mut out = vec![0f32; n * c * out_vol];
    for b in 0..n {
        for p in 0..out_vol {
            let coords = &gv[(b * out_vol + p) * sp..][..sp];
            // Per spatial dim (outermost first) the (element, weight) taps; the grid lists
            // x (innermost) first.
            let mut taps: Vec<Vec<(Option<usize>, f64)>> = Vec::with_capacity(sp);
            for d in 0..sp {
                let e = in_sp[d];
                let g = coords[sp - 1 - d] as f64;
                let pos = if align_corners {
                    (g + 1.0) / 2.0 * (e as f64 - 1.0)
                } else {
                    ((g + 1.0) * e as f64 - 1.0) / 2.0
                };
                let t = |i: i64| grid_tap(i, e, sample_mode, align_corners);
                let dim_taps = if !pos.is_finite() {
                    vec![(None, f64::NAN)]
                } else {
                    match mode {
                        ResizeMode::Nearest => vec![(t(pos.round_ties_even() as i64), 1.0)],
                        ResizeMode::Linear => {
                            let lo = pos.floor();
                            let w = pos - lo;
                            vec![
                                (t(lo as i64), 1.0 - w),
                                (t((lo as i64).saturating_add(1)), w),
                            ]
                        }
                        ResizeMode::Cubic => {
                            let lo = pos.floor();
                            let w = pos - lo;
                            (-1..=2)
                                .map(|k| {
                                    let i = (lo as i64).saturating_add(k);
                                    (t(i), cubic_weight(-0.75, w - k as f64))
                                })
                                .collect()
                        }
                    }
                };
                taps.push(dim_taps);
            }
            // Every combination of one tap per dim: offset and product weight.
            let mut comb: Vec<(Option<usize>, f64)> = vec![(Some(0), 1.0)];
            for (dim_taps, &stride) in taps.iter().zip(&in_st) {
                comb = comb
                    .iter()
                    .flat_map(|&(off, w)| {
                        dim_taps
                            .iter()
                            .map(move |&(i, wi)| (off.zip(i).map(|(o, i)| o + i * stride), w * wi))
                    })
                    .collect();
            }
            for ch in 0..c {
                let base = (b * c + ch) * in_vol;
                let s: f64 = comb
                    .iter()
                    .map(|&(off, w)| match off {
                        Some(o) => w * x[base + o] as f64,
                        // A zero-padded tap adds nothing (but a NaN weight still poisons).
                        None if w.is_nan() => f64::NAN,
                        None => 0.0,
                    })
                    .sum();
                out[(b * c + ch) * out_vol + p] = s as f32;
            }
        }
    }
    let mut shape = vec![n, c];
    shape.extend(out_sp);
    v.with(shape, Data::F(out))
}

/// `INonZeroLayer`: the `[rank, n]` coordinates of the nonzero elements, one column per
/// element in row-major order (NvInfer.h: "The columns are lexically ordered"). Floats are
/// nonzero when `!= 0` (so NaN counts and `-0.0` does not), bools when true.
fn non_zero(v: &Val, indices_dtype: TrtDataType) -> Result<Val, String> {
    let r = v.shape.len();
    if r == 0 {
        return Err("a 0-d input has no NonZero result".into());
    }
    if !indices_dtype.is_int() {
        return Err(format!("indices type {indices_dtype} is not i32 or i64"));
    }
    let hits: Vec<usize> = match &v.data {
        Data::F(x) => (0..x.len()).filter(|&i| x[i] != 0.0).collect(),
        Data::I(x) => (0..x.len()).filter(|&i| x[i] != 0).collect(),
        Data::B(x) => (0..x.len()).filter(|&i| x[i]).collect(),
    };
    let n = hits.len();
    let st = strides(&v.shape);
    let mut out = vec![0i64; r * n];
    for (k, &flat) in hits.iter().enumerate() {
        let mut rest = flat;
        for d in 0..r {
            out[d * n + k] = (rest / st[d]) as i64;
            rest %= st[d];
        }
    }
    Val::new(indices_dtype, vec![r, n], Data::I(out))
}
