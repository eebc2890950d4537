//! The conversion context: IR values → network tensors, and the layer helpers converters
//! share (casts, rank broadcasting, scalar constants, reshapes with symbolic dims).

use std::collections::HashMap;

use trtfx_ir::{Arg, Atom, DType, Dim, SymName, TensorType, Type, ValueId};

use super::{CResult, ConvertError, NodeArgs, Slot};
use crate::network::{
    Activation, ElementWiseOp, NetworkBuilder, ShapeArg, ShuffleParams, SliceParams, TensorDesc,
    TensorId, TrtDataType, UnaryOp, Weights,
};

/// TensorRT data type of an IR dtype, or why there is none.
///
/// `f64` has no TensorRT type at all; the other unsupported types are quantized or unsigned.
pub fn trt_dtype(d: DType) -> Result<TrtDataType, String> {
    Ok(match d {
        DType::F32 => TrtDataType::Float,
        DType::F16 => TrtDataType::Half,
        DType::BF16 => TrtDataType::Bf16,
        DType::I32 => TrtDataType::Int32,
        DType::I64 => TrtDataType::Int64,
        DType::Bool => TrtDataType::Bool,
        DType::F64 => {
            return Err("f64 tensors: TensorRT has no f64 (run truncate-long-double)".into())
        }
        other => return Err(format!("{other} tensors are not supported by TensorRT")),
    })
}

/// `values` as weights of `dtype` ([`Weights::from_f64s`]).
pub(crate) fn weights_of(values: &[f64], dtype: TrtDataType) -> CResult<Weights> {
    Ok(Weights::from_f64s(values, dtype)?)
}

/// State of one conversion: the network being built and what every IR value became.
pub struct ConvertCtx<'a> {
    /// The network layers are emitted into.
    pub net: &'a mut dyn NetworkBuilder,
    slots: HashMap<ValueId, Slot>,
    consts: HashMap<TensorId, Weights>,
    sym_sources: HashMap<SymName, (TensorId, usize)>,
    shapes: HashMap<TensorId, TensorId>,
    dims: HashMap<Dim, TensorId>,
    /// The payloads made from program weights (see [`crate::refit`]).
    pub weight_sources: crate::refit::WeightSources,
}

impl<'a> ConvertCtx<'a> {
    /// A context emitting into `net`.
    pub fn new(net: &'a mut dyn NetworkBuilder) -> Self {
        Self {
            net,
            slots: HashMap::new(),
            consts: HashMap::new(),
            sym_sources: HashMap::new(),
            shapes: HashMap::new(),
            dims: HashMap::new(),
            weight_sources: Default::default(),
        }
    }

    /// Binds an IR value.
    pub fn set(&mut self, v: ValueId, slot: Slot) {
        self.slots.insert(v, slot);
    }

    /// Runs `f` with an empty value map, then restores the current one.
    ///
    /// Value ids are per graph, so a subgraph converted inline (a `cond` branch) needs its
    /// own map; everything keyed by network tensors or symbols (constants, shape layers,
    /// symbol sources) stays shared, since the branch's layers live in the same network.
    pub fn with_value_scope<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let outer = std::mem::take(&mut self.slots);
        // Symbols a scope's results define (a decomposition's own unbacked names) are the
        // scope's; the outer graph's sources and size tensors come back afterwards.
        let sources = self.sym_sources.clone();
        let dims = self.dims.clone();
        let r = f(self);
        self.slots = outer;
        self.sym_sources = sources;
        self.dims = dims;
        r
    }

    /// What an IR value became.
    pub fn slot(&self, v: ValueId) -> CResult<&Slot> {
        self.slots
            .get(&v)
            .ok_or_else(|| ConvertError::Other(format!("value {v} was not converted")))
    }

    /// Remembers that the dims of network input `t` (of IR type `ty`) define the symbols that
    /// appear there alone, so symbolic sizes can later be read back with a shape layer.
    pub fn add_sym_sources(&mut self, t: TensorId, ty: &TensorType) {
        for (axis, d) in ty.shape.iter().enumerate() {
            if let Some(s) = d.as_sym() {
                self.sym_sources.entry(s.clone()).or_insert((t, axis));
            }
        }
    }

    /// Remembers that the dims of result tensor `t` (of IR type `ty`) define the symbols that
    /// appear there alone. A data-dependent size (`u0` of `nonzero`) has no network input to
    /// be read from: the first result carrying it is its source. `backed` says which symbols
    /// are sizes of the program's inputs: those keep the input they were read from, while any
    /// other symbol takes the latest result that carries it, since a decomposition's scratch
    /// graph mints its own unbacked names (`u0`, ...) that may repeat a name of the program
    /// (the expansion's scope, [`ConvertCtx::with_value_scope`], restores the outer sources).
    pub fn add_result_sym_sources(
        &mut self,
        t: TensorId,
        ty: &TensorType,
        backed: &dyn Fn(&SymName) -> bool,
    ) {
        for (axis, d) in ty.shape.iter().enumerate() {
            let Some(s) = d.as_sym() else { continue };
            if backed(s) {
                self.sym_sources.entry(s.clone()).or_insert((t, axis));
            } else if self.sym_sources.insert(s.clone(), (t, axis)) != Some((t, axis)) {
                // Cached size tensors may have read the symbol from its previous source.
                self.dims.clear();
            }
        }
    }

    /// The slot of an argument (literals become build-time slots).
    pub fn arg_slot(&self, a: &Arg) -> CResult<Slot> {
        Ok(match a {
            Arg::Value(v) => self.slot(*v)?.clone(),
            Arg::None => Slot::None,
            Arg::Bool(b) => Slot::Bool(*b),
            Arg::Int(i) => Slot::Int(*i),
            Arg::Float(f) => Slot::Float(f.0),
            Arg::List(items) => Slot::List(
                items
                    .iter()
                    .map(|x| self.arg_slot(x))
                    .collect::<CResult<_>>()?,
            ),
            other => return Err(format!("argument {other} has no network value").into()),
        })
    }

    /// The tensor of argument `name`.
    pub fn input(&self, args: &NodeArgs<'_>, name: &str) -> CResult<TensorId> {
        match self.arg_slot(args.req(name)?)? {
            Slot::Tensor(t) => Ok(t),
            s => Err(format!("{}: argument `{name}` is {s:?}, not a tensor", args.op).into()),
        }
    }

    /// The tensor of an optional tensor argument.
    pub fn opt_input(&self, args: &NodeArgs<'_>, name: &str) -> CResult<Option<TensorId>> {
        if args.is_none(name)? {
            Ok(None)
        } else {
            self.input(args, name).map(Some)
        }
    }

    /// The tensors of a `Tensor[]` argument.
    pub fn inputs(&self, args: &NodeArgs<'_>, name: &str) -> CResult<Vec<TensorId>> {
        match self.arg_slot(args.req(name)?)? {
            Slot::List(items) => items
                .into_iter()
                .filter(|s| *s != Slot::None)
                .map(|s| {
                    s.as_tensor()
                        .ok_or_else(|| format!("{}: argument `{name}` holds {s:?}", args.op).into())
                })
                .collect(),
            s => Err(format!("{}: argument `{name}` is {s:?}, not a list", args.op).into()),
        }
    }

    /// The slot of argument `name` (a tensor, a build-time number, a list, or `None`).
    pub fn input_slot(&self, args: &NodeArgs<'_>, name: &str) -> CResult<Slot> {
        match args.arg(name)? {
            Some(a) => self.arg_slot(a),
            None => Ok(Slot::None),
        }
    }

    /// Type and dims of a network tensor.
    pub fn desc(&self, t: TensorId) -> CResult<TensorDesc> {
        Ok(self.net.tensor_desc(t)?)
    }

    /// Rank of a network tensor.
    pub fn rank(&self, t: TensorId) -> CResult<usize> {
        Ok(self.desc(t)?.rank())
    }

    /// A constant layer; the weights are remembered so layers that need build-time data
    /// (convolution kernels) can find them.
    pub fn constant(&mut self, dims: &[i64], w: Weights) -> CResult<TensorId> {
        let t = self.net.add_constant(dims, w.clone())?;
        self.consts.insert(t, w);
        Ok(t)
    }

    /// The build-time data of a tensor made by [`ConvertCtx::constant`], looking through
    /// reshapes recorded with [`ConvertCtx::alias_const`].
    pub fn const_weights(&self, t: TensorId) -> Option<&Weights> {
        self.consts.get(&t)
    }

    /// Records that `t` holds the same data as constant `src` (after a reshape or identity).
    pub fn alias_const(&mut self, t: TensorId, src: TensorId) {
        if let Some(w) = self.consts.get(&src).cloned() {
            self.consts.insert(t, w);
        }
    }

    /// A constant holding `v` (converted to `dtype`) with `rank` unit dims, for broadcasting.
    pub fn scalar(&mut self, v: f64, dtype: TrtDataType, rank: usize) -> CResult<TensorId> {
        let w = weights_of(&[v], dtype)?;
        self.constant(&vec![1; rank], w)
    }

    /// A 1-D Int64 constant.
    pub fn const_i64(&mut self, v: &[i64]) -> CResult<TensorId> {
        self.constant(&[v.len() as i64], Weights::from_i64(v))
    }

    /// A cast, or `t` itself when it already has `dtype`.
    pub fn cast(&mut self, t: TensorId, dtype: TrtDataType) -> CResult<TensorId> {
        if self.desc(t)?.dtype == dtype {
            return Ok(t);
        }
        Ok(self.net.add_cast(t, dtype)?)
    }

    /// A static reshape (TensorRT's `0`/`-1` placeholders apply).
    pub fn reshape_static(&mut self, t: TensorId, dims: &[i64]) -> CResult<TensorId> {
        let r = self.net.add_shuffle(t, &ShuffleParams::reshape(dims))?;
        self.alias_const(r, t);
        Ok(r)
    }

    /// A reshape to the IR dims `dims`: static (with one `-1`) when at most one dim is
    /// symbolic, else through a shape tensor built from the symbols.
    pub fn reshape(&mut self, t: TensorId, dims: &[Dim]) -> CResult<TensorId> {
        let d = self.desc(t)?;
        let target: Vec<Option<i64>> = dims.iter().map(Dim::as_const).collect();
        if target.iter().zip(&d.dims).all(|(a, b)| *a == Some(*b)) && d.rank() == dims.len() {
            return Ok(t);
        }
        let arg = self.shape_arg(dims, true)?;
        let r = self.net.add_shuffle(
            t,
            &ShuffleParams {
                reshape: Some(arg),
                // No real zero extents occur here, and TensorRT builders reject
                // `setZeroIsPlaceholder(false)` with shape tensors.
                zero_is_placeholder: true,
                ..ShuffleParams::default()
            },
        )?;
        self.alias_const(r, t);
        Ok(r)
    }

    /// A permutation (`out[i] = in[perm[i]]`).
    pub fn transpose(&mut self, t: TensorId, perm: &[i32]) -> CResult<TensorId> {
        if perm.iter().enumerate().all(|(i, &p)| p as usize == i) {
            return Ok(t);
        }
        Ok(self.net.add_shuffle(t, &ShuffleParams::transpose(perm))?)
    }

    /// Dims for a layer parameter: static when every dim is constant (or, with
    /// `allow_infer`, when exactly one is symbolic: it becomes `-1`), else a shape tensor.
    pub fn shape_arg(&mut self, dims: &[Dim], allow_infer: bool) -> CResult<ShapeArg> {
        let n_sym = dims.iter().filter(|d| !d.is_const()).count();
        if n_sym == 0 || (allow_infer && n_sym == 1) {
            return Ok(ShapeArg::Static(
                dims.iter().map(|d| d.as_const().unwrap_or(-1)).collect(),
            ));
        }
        Ok(ShapeArg::Tensor(self.shape_tensor(dims)?))
    }

    /// A 1-D Int64 tensor holding `dims` (symbols read from the network inputs' shapes).
    pub fn shape_tensor(&mut self, dims: &[Dim]) -> CResult<TensorId> {
        if dims.iter().all(Dim::is_const) {
            let v: Vec<i64> = dims.iter().map(|d| d.as_const().unwrap_or(0)).collect();
            return self.const_i64(&v);
        }
        let parts: Vec<TensorId> = dims
            .iter()
            .map(|d| self.dim_tensor(d))
            .collect::<CResult<_>>()?;
        if parts.len() == 1 {
            return Ok(parts[0]);
        }
        Ok(self.net.add_concatenation(&parts, 0)?)
    }

    /// The `Shape` layer of `t` (cached).
    pub fn shape_of(&mut self, t: TensorId) -> CResult<TensorId> {
        if let Some(s) = self.shapes.get(&t) {
            return Ok(*s);
        }
        let s = self.net.add_shape(t)?;
        self.shapes.insert(t, s);
        Ok(s)
    }

    /// Extent `axis` of `t` as a 1-D Int64 tensor of one element.
    pub fn dim_of(&mut self, t: TensorId, axis: usize) -> CResult<TensorId> {
        let d = self.desc(t)?;
        if d.dims[axis] >= 0 {
            return self.const_i64(&[d.dims[axis]]);
        }
        let s = self.shape_of(t)?;
        Ok(self
            .net
            .add_slice(s, &SliceParams::new(&[axis as i64], &[1], &[1]))?)
    }

    /// A symbolic size as a 1-D Int64 tensor of one element, computed from the inputs' shapes.
    pub fn dim_tensor(&mut self, d: &Dim) -> CResult<TensorId> {
        if let Some(c) = d.as_const() {
            return self.const_i64(&[c]);
        }
        if let Some(t) = self.dims.get(d) {
            return Ok(*t);
        }
        let mut acc: Option<TensorId> = None;
        for (mono, coef) in d.terms() {
            let mut term: Option<TensorId> = None;
            for (atom, pow) in mono {
                let a = self.atom_tensor(atom)?;
                for _ in 0..*pow {
                    term = Some(match term {
                        None => a,
                        Some(p) => self.net.add_elementwise(p, a, ElementWiseOp::Prod)?,
                    });
                }
            }
            let mut term = match term {
                Some(t) => t,
                None => self.const_i64(&[1])?,
            };
            if *coef != 1 {
                let c = self.const_i64(&[*coef])?;
                term = self.net.add_elementwise(term, c, ElementWiseOp::Prod)?;
            }
            acc = Some(match acc {
                None => term,
                Some(a) => self.net.add_elementwise(a, term, ElementWiseOp::Sum)?,
            });
        }
        let mut t = match acc {
            Some(t) => t,
            None => self.const_i64(&[0])?,
        };
        if d.constant_term() != 0 {
            let c = self.const_i64(&[d.constant_term()])?;
            t = self.net.add_elementwise(t, c, ElementWiseOp::Sum)?;
        }
        self.dims.insert(d.clone(), t);
        Ok(t)
    }

    fn atom_tensor(&mut self, a: &Atom) -> CResult<TensorId> {
        Ok(match a {
            Atom::Sym(s) => {
                let (t, axis) = *self.sym_sources.get(s).ok_or_else(|| {
                    format!("symbol {s} is not the size of any network input dim")
                })?;
                self.dim_of(t, axis)?
            }
            Atom::FloorDiv(x, y) => {
                let (x, y) = (self.dim_tensor(x)?, self.dim_tensor(y)?);
                self.net.add_elementwise(x, y, ElementWiseOp::FloorDiv)?
            }
            Atom::Mod(x, y) => {
                let (x, y) = (self.dim_tensor(x)?, self.dim_tensor(y)?);
                let q = self.net.add_elementwise(x, y, ElementWiseOp::FloorDiv)?;
                let p = self.net.add_elementwise(q, y, ElementWiseOp::Prod)?;
                self.net.add_elementwise(x, p, ElementWiseOp::Sub)?
            }
            Atom::Min(items) | Atom::Max(items) => {
                let op = if matches!(a, Atom::Min(_)) {
                    ElementWiseOp::Min
                } else {
                    ElementWiseOp::Max
                };
                let mut acc: Option<TensorId> = None;
                for d in items {
                    let t = self.dim_tensor(d)?;
                    acc = Some(match acc {
                        None => t,
                        Some(p) => self.net.add_elementwise(p, t, op)?,
                    });
                }
                acc.ok_or("empty min/max")?
            }
        })
    }

    /// `t` with leading unit dims added up to `rank` (TensorRT does not broadcast ranks).
    pub fn to_rank(&mut self, t: TensorId, rank: usize) -> CResult<TensorId> {
        let d = self.desc(t)?;
        if d.rank() >= rank {
            return Ok(t);
        }
        let k = rank - d.rank();
        let n_dyn = d.dims.iter().filter(|&&x| x < 0).count();
        let r = if n_dyn <= 1 {
            let mut dims = vec![1; k];
            dims.extend(&d.dims);
            self.net.add_shuffle(
                t,
                &ShuffleParams {
                    reshape: Some(ShapeArg::Static(dims)),
                    // No real zero extents occur here, and TensorRT builders reject
                    // `setZeroIsPlaceholder(false)` with shape tensors.
                    zero_is_placeholder: true,
                    ..ShuffleParams::default()
                },
            )?
        } else {
            let ones = self.const_i64(&vec![1; k])?;
            let s = self.shape_of(t)?;
            let shape = self.net.add_concatenation(&[ones, s], 0)?;
            self.net.add_shuffle(
                t,
                &ShuffleParams {
                    reshape: Some(ShapeArg::Tensor(shape)),
                    // No real zero extents occur here, and TensorRT builders reject
                    // `setZeroIsPlaceholder(false)` with shape tensors.
                    zero_is_placeholder: true,
                    ..ShuffleParams::default()
                },
            )?
        };
        self.alias_const(r, t);
        Ok(r)
    }

    /// An elementwise layer after bringing both operands to the same rank.
    pub fn elementwise(
        &mut self,
        a: TensorId,
        b: TensorId,
        op: ElementWiseOp,
    ) -> CResult<TensorId> {
        let r = self.rank(a)?.max(self.rank(b)?);
        let a = self.to_rank(a, r)?;
        let b = self.to_rank(b, r)?;
        Ok(self.net.add_elementwise(a, b, op)?)
    }

    /// A unary layer.
    pub fn unary(&mut self, t: TensorId, op: UnaryOp) -> CResult<TensorId> {
        Ok(self.net.add_unary(t, op)?)
    }

    /// An activation layer.
    pub fn activation(&mut self, t: TensorId, a: Activation) -> CResult<TensorId> {
        Ok(self.net.add_activation(t, a)?)
    }

    /// A select layer after bringing the three operands to one rank.
    pub fn select(&mut self, c: TensorId, a: TensorId, b: TensorId) -> CResult<TensorId> {
        let r = self.rank(c)?.max(self.rank(a)?).max(self.rank(b)?);
        let c = self.to_rank(c, r)?;
        let a = self.to_rank(a, r)?;
        let b = self.to_rank(b, r)?;
        Ok(self.net.add_select(c, a, b)?)
    }

    /// An operand as a tensor of `dtype`: tensors are cast, numbers become constants with
    /// `rank` unit dims, symbolic ints are computed from the input shapes.
    pub fn operand(&mut self, s: &Slot, dtype: TrtDataType, rank: usize) -> CResult<TensorId> {
        match s {
            Slot::Tensor(t) => self.cast(*t, dtype),
            Slot::Int(v) => self.scalar(*v as f64, dtype, rank),
            Slot::Float(v) => self.scalar(*v, dtype, rank),
            Slot::Bool(v) => self.scalar(f64::from(u8::from(*v)), dtype, rank),
            Slot::Sym(d) => {
                let t = self.dim_tensor(d)?;
                let t = self.reshape_static(t, &vec![1; rank])?;
                self.cast(t, dtype)
            }
            other => Err(format!("{other:?} is not a number or tensor").into()),
        }
    }

    /// The IR dims of `ty` as TensorRT dims (`-1` for symbolic).
    pub fn trt_dims(ty: &TensorType) -> Vec<i64> {
        ty.shape
            .iter()
            .map(|d| d.as_const().unwrap_or(-1))
            .collect()
    }

    /// TensorRT type of an IR tensor type.
    pub fn trt_type(ty: &Type) -> CResult<TrtDataType> {
        let t = ty.as_tensor().ok_or("not a tensor")?;
        Ok(trt_dtype(t.dtype)?)
    }
}
