//! Every TensorRT layer, declared once.
//!
//! [`decl`] holds one entry per layer (in the style of MLIR's ODS or Cranelift's instruction
//! definitions, but as a Rust declarative macro): the layer's kind name, its builder method and
//! arguments, its fields (which of them are input tensors and which are attributes), the data
//! types TensorRT accepts for each input (§1.3 of the TensorRT research notes), its shape rule
//! and, optionally, a printer. From that one entry the macro generates:
//!
//! - the [`LayerOp`] variant (plain data, serde; what a recording stores and an artifact holds);
//! - [`LayerOp::kind`], [`LayerOp::inputs`] (in TensorRT's input order) and
//!   [`LayerOp::map_tensors`] (used by replay);
//! - [`LayerOp::check_types`] (the declared type rule) and [`LayerOp::infer`] (type rule, then
//!   the shape rule from [`rules`]), which the recorder and the validator run and the real
//!   builder runs before calling TensorRT;
//! - [`LayerOp::render`], the printed form (a generic `kind(inputs, attr=value)` unless the
//!   entry names a printer);
//! - the [`NetworkBuilder`] trait's `add_*` method, which builds the variant and hands it to
//!   [`NetworkBuilder::add_layer`];
//! - [`DECLARATIONS`], the table of layers (kind, method, inputs, outputs, accepted types).
//!
//! So adding a layer touches its entry here (plus its shape rule), its emulator kernel
//! (`emulator.rs`) and its real builder call (`tensorrt.rs`); the recorder, replay, validation
//! and printing need nothing.

use std::fmt;

use crate::network::*;

pub mod decl;
pub(crate) mod print;
pub(crate) mod rules;

pub use decl::{LayerOp, NetworkBuilder, DECLARATIONS};

/// What a shape rule gives for one output: its type and dims, and (for small integer tensors
/// that feed shape arithmetic) its element values as far as known at build time.
pub type Inferred = (TensorDesc, Option<Vec<Option<i64>>>);

/// What a shape rule may ask of the network it is adding to.
pub trait LayerCx {
    /// Type and dims of a tensor of this network.
    fn desc(&self, t: TensorId) -> Result<TensorDesc, NetworkError>;
    /// Known element values of a small integer tensor (`None` when not tracked).
    fn value(&self, t: TensorId) -> Option<Vec<Option<i64>>>;
    /// Whether the network already has an input named `name`.
    fn has_input(&self, name: &str) -> bool;
}

/// A set of data types (bit `i` = [`TrtDataType`] with numeric value `i`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DTypes(pub u16);

impl DTypes {
    /// f32, f16, bf16.
    pub const FLOAT: DTypes =
        DTypes::of(&[TrtDataType::Float, TrtDataType::Half, TrtDataType::Bf16]);
    /// i32, i64.
    pub const INT: DTypes = DTypes::of(&[TrtDataType::Int32, TrtDataType::Int64]);
    /// bool.
    pub const BOOL: DTypes = DTypes::of(&[TrtDataType::Bool]);
    /// Float and integer arithmetic types (no bool).
    pub const NUMERIC: DTypes = DTypes(Self::FLOAT.0 | Self::INT.0);
    /// The data-movement types: f32, f16, bf16, i32, i64, bool.
    pub const MOVABLE: DTypes = DTypes(Self::NUMERIC.0 | Self::BOOL.0);
    /// What reductions take: numeric types and the quantized i8.
    pub const REDUCIBLE: DTypes = DTypes(Self::NUMERIC.0 | (1 << TrtDataType::Int8 as u16));
    /// Every data type.
    pub const ANY: DTypes = DTypes((1 << 12) - 1);

    /// The set of `types`.
    pub const fn of(types: &[TrtDataType]) -> DTypes {
        let mut bits = 0u16;
        let mut i = 0;
        while i < types.len() {
            bits |= 1 << types[i] as u16;
            i += 1;
        }
        DTypes(bits)
    }

    /// Whether `t` is in the set.
    pub const fn contains(self, t: TrtDataType) -> bool {
        self.0 & (1 << t as u16) != 0
    }

    /// The set's types in TensorRT's numeric order.
    pub fn types(self) -> impl Iterator<Item = TrtDataType> {
        TrtDataType::ALL
            .into_iter()
            .filter(move |t| self.contains(*t))
    }
}

impl fmt::Display for DTypes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == DTypes::ANY {
            return f.write_str("any type");
        }
        let names: Vec<&str> = self.types().map(|t| t.short_name()).collect();
        f.write_str(&names.join("/"))
    }
}

impl fmt::Debug for DTypes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DTypes({self})")
    }
}

/// Fields of a layer that hold input tensors: visits them in TensorRT's input order.
pub trait TensorRefs {
    /// Calls `f` on every tensor, in order.
    fn each_tensor(&self, f: &mut dyn FnMut(TensorId));
    /// Replaces every tensor by `f(tensor)`.
    fn map_tensors(
        &mut self,
        f: &mut dyn FnMut(TensorId) -> Result<TensorId, NetworkError>,
    ) -> Result<(), NetworkError>;
}

impl TensorRefs for TensorId {
    fn each_tensor(&self, f: &mut dyn FnMut(TensorId)) {
        f(*self)
    }
    fn map_tensors(
        &mut self,
        f: &mut dyn FnMut(TensorId) -> Result<TensorId, NetworkError>,
    ) -> Result<(), NetworkError> {
        *self = f(*self)?;
        Ok(())
    }
}

impl<T: TensorRefs> TensorRefs for Vec<T> {
    fn each_tensor(&self, f: &mut dyn FnMut(TensorId)) {
        self.iter().for_each(|t| t.each_tensor(f))
    }
    fn map_tensors(
        &mut self,
        f: &mut dyn FnMut(TensorId) -> Result<TensorId, NetworkError>,
    ) -> Result<(), NetworkError> {
        self.iter_mut().try_for_each(|t| t.map_tensors(f))
    }
}

impl<T: TensorRefs> TensorRefs for Option<T> {
    fn each_tensor(&self, f: &mut dyn FnMut(TensorId)) {
        if let Some(t) = self {
            t.each_tensor(f)
        }
    }
    fn map_tensors(
        &mut self,
        f: &mut dyn FnMut(TensorId) -> Result<TensorId, NetworkError>,
    ) -> Result<(), NetworkError> {
        match self {
            Some(t) => t.map_tensors(f),
            None => Ok(()),
        }
    }
}

impl TensorRefs for ShapeArg {
    fn each_tensor(&self, f: &mut dyn FnMut(TensorId)) {
        if let ShapeArg::Tensor(t) = self {
            f(*t)
        }
    }
    fn map_tensors(
        &mut self,
        f: &mut dyn FnMut(TensorId) -> Result<TensorId, NetworkError>,
    ) -> Result<(), NetworkError> {
        if let ShapeArg::Tensor(t) = self {
            *t = f(*t)?;
        }
        Ok(())
    }
}

impl TensorRefs for FillArg {
    fn each_tensor(&self, f: &mut dyn FnMut(TensorId)) {
        if let FillArg::Tensor(t) = self {
            f(*t)
        }
    }
    fn map_tensors(
        &mut self,
        f: &mut dyn FnMut(TensorId) -> Result<TensorId, NetworkError>,
    ) -> Result<(), NetworkError> {
        if let FillArg::Tensor(t) = self {
            *t = f(*t)?;
        }
        Ok(())
    }
}

/// Implements [`TensorRefs`] for a parameter struct from the list of its tensor-holding fields.
macro_rules! tensor_fields {
    ($ty:ty: $($field:ident),*) => {
        impl TensorRefs for $ty {
            fn each_tensor(&self, f: &mut dyn FnMut(TensorId)) {
                $(self.$field.each_tensor(f);)*
            }
            fn map_tensors(
                &mut self,
                f: &mut dyn FnMut(TensorId) -> Result<TensorId, NetworkError>,
            ) -> Result<(), NetworkError> {
                $(self.$field.map_tensors(f)?;)*
                Ok(())
            }
        }
    };
}

tensor_fields!(ShuffleParams: reshape);
tensor_fields!(SliceParams: start, size, stride, fill_value);
tensor_fields!(FillParams: dims, alpha, beta);

impl TensorRefs for ResizeParams {
    fn each_tensor(&self, f: &mut dyn FnMut(TensorId)) {
        if let ResizeOutput::Shape(t) = self.output {
            f(t)
        }
    }
    fn map_tensors(
        &mut self,
        f: &mut dyn FnMut(TensorId) -> Result<TensorId, NetworkError>,
    ) -> Result<(), NetworkError> {
        if let ResizeOutput::Shape(t) = &mut self.output {
            *t = f(*t)?;
        }
        Ok(())
    }
}

/// The return type of a builder method, from the layer's output tensors (its output arity).
pub trait FromOutputs: Sized {
    /// Number of outputs.
    const ARITY: usize;
    /// The handle(s) from exactly [`Self::ARITY`] outputs.
    fn from_outputs(kind: &str, outs: Vec<TensorId>) -> Result<Self, NetworkError>;
}

fn arity_error(kind: &str, want: usize, got: usize) -> NetworkError {
    NetworkError::layer(kind, format!("produced {got} outputs, declared {want}"))
}

impl FromOutputs for TensorId {
    const ARITY: usize = 1;
    fn from_outputs(kind: &str, outs: Vec<TensorId>) -> Result<Self, NetworkError> {
        match outs[..] {
            [t] => Ok(t),
            _ => Err(arity_error(kind, 1, outs.len())),
        }
    }
}

impl FromOutputs for (TensorId, TensorId) {
    const ARITY: usize = 2;
    fn from_outputs(kind: &str, outs: Vec<TensorId>) -> Result<Self, NetworkError> {
        match outs[..] {
            [a, b] => Ok((a, b)),
            _ => Err(arity_error(kind, 2, outs.len())),
        }
    }
}

/// One row of [`DECLARATIONS`].
#[derive(Debug, Clone, Copy)]
pub struct LayerDecl {
    /// Kind as printed (`convolution`).
    pub kind: &'static str,
    /// The [`NetworkBuilder`] method (`add_convolution_nd`).
    pub method: &'static str,
    /// Names of the fields that hold input tensors, in TensorRT's input order.
    pub inputs: &'static [&'static str],
    /// Names of the attribute fields.
    pub attrs: &'static [&'static str],
    /// Number of output tensors.
    pub outputs: usize,
}

/// Checks that every tensor of `field` has a type in `allowed`.
pub(crate) fn check_field_types(
    cx: &dyn LayerCx,
    kind: &str,
    field: &str,
    tensors: &dyn TensorRefs,
    allowed: DTypes,
) -> Result<(), NetworkError> {
    let mut ids = Vec::new();
    tensors.each_tensor(&mut |t| ids.push(t));
    for t in ids {
        let d = cx.desc(t)?;
        if !allowed.contains(d.dtype) {
            return Err(NetworkError::layer(
                kind,
                format!("input `{field}` is {d}, but TensorRT's {kind} takes {allowed}"),
            ));
        }
    }
    Ok(())
}

#[doc(hidden)]
#[macro_export]
macro_rules! __layer_init {
    ($f:ident) => {
        $f
    };
    ($f:ident, $e:expr) => {
        $e
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __layer_role {
    (tensor, $f:expr, each, $cb:expr) => {
        $crate::layers::TensorRefs::each_tensor($f, $cb)
    };
    (attr, $f:expr, each, $cb:expr) => {};
    (tensor, $f:expr, map, $cb:expr) => {
        $crate::layers::TensorRefs::map_tensors($f, $cb)?
    };
    (attr, $f:expr, map, $cb:expr) => {};
    (tensor, $name:ident, names) => {
        Some(stringify!($name))
    };
    (attr, $name:ident, names) => {
        None
    };
    (attr, $name:ident, attr_names) => {
        Some(stringify!($name))
    };
    (tensor, $name:ident, attr_names) => {
        None
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __layer_print {
    ($s:ident, $k:ident, [$($role:ident $field:ident),*], ) => {{
        use std::fmt::Write as _;
        let mut ins: Vec<String> = Vec::new();
        let mut attrs: Vec<String> = Vec::new();
        $(
            $crate::__layer_print!(@one $role $field ins attrs);
        )*
        let all: Vec<String> = ins.into_iter().chain(attrs).collect();
        write!($s, "{}({})", $k, all.join(", "))
    }};
    ($s:ident, $k:ident, [$($role:ident $field:ident),*], $print:path) => {
        $print($s, $k, $($field),*)
    };
    (@one tensor $field:ident $ins:ident $attrs:ident) => {
        $crate::layers::TensorRefs::each_tensor($field, &mut |t| $ins.push(t.to_string()))
    };
    (@one attr $field:ident $ins:ident $attrs:ident) => {
        $attrs.push(format!("{}={:?}", stringify!($field), $field))
    };
}

/// Declares the layers: see the module docs and [`decl`].
macro_rules! declare_layers {
    ($(
        $(#[$meta:meta])*
        $variant:ident $kind:literal
            fn $method:ident ( $($arg:ident : $aty:ty),* $(,)? ) -> $ret:ty;
            { $( $role:ident $field:ident : $fty:ty $(= $init:expr)? ),* $(,)? }
            types { $( $tfield:ident : $tset:expr ),* $(,)? }
            $(print $print:path;)?
            infer $infer:path;
    )*) => {
        /// One recorded `add_*` call (network inputs included) with its arguments: one variant
        /// per declared layer.
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[allow(missing_docs)]
        pub enum LayerOp {
            $(
                $(#[$meta])*
                $variant { $($field: $fty),* },
            )*
        }

        /// The declared layers, in declaration order.
        pub const DECLARATIONS: &[$crate::layers::LayerDecl] = &[$(
            $crate::layers::LayerDecl {
                kind: $kind,
                method: stringify!($method),
                inputs: {
                    const N: &[Option<&str>] = &[$($crate::__layer_role!($role, $field, names)),*];
                    const fn count(v: &[Option<&str>]) -> usize {
                        let mut i = 0;
                        let mut n = 0;
                        while i < v.len() {
                            if v[i].is_some() { n += 1; }
                            i += 1;
                        }
                        n
                    }
                    const M: usize = count(N);
                    const fn pick(v: &[Option<&'static str>]) -> [&'static str; M] {
                        let mut out = [""; M];
                        let (mut i, mut j) = (0, 0);
                        while i < v.len() {
                            if let Some(s) = v[i] { out[j] = s; j += 1; }
                            i += 1;
                        }
                        out
                    }
                    const P: [&str; M] = pick(N);
                    &P
                },
                attrs: {
                    const N: &[Option<&str>] = &[$($crate::__layer_role!($role, $field, attr_names)),*];
                    const fn count(v: &[Option<&str>]) -> usize {
                        let mut i = 0;
                        let mut n = 0;
                        while i < v.len() {
                            if v[i].is_some() { n += 1; }
                            i += 1;
                        }
                        n
                    }
                    const M: usize = count(N);
                    const fn pick(v: &[Option<&'static str>]) -> [&'static str; M] {
                        let mut out = [""; M];
                        let (mut i, mut j) = (0, 0);
                        while i < v.len() {
                            if let Some(s) = v[i] { out[j] = s; j += 1; }
                            i += 1;
                        }
                        out
                    }
                    const P: [&str; M] = pick(N);
                    &P
                },
                outputs: <$ret as $crate::layers::FromOutputs>::ARITY,
            },
        )*];

        impl LayerOp {
            /// The layer kind as printed (`convolution`, `shuffle`, ...).
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Self::$variant { .. } => $kind,)*
                }
            }

            /// Number of output tensors the layer produces.
            pub fn num_outputs(&self) -> usize {
                match self {
                    $(Self::$variant { .. } => <$ret as $crate::layers::FromOutputs>::ARITY,)*
                }
            }

            /// The tensors this layer reads, in TensorRT's input order.
            #[allow(unused_variables)]
            pub fn inputs(&self) -> Vec<TensorId> {
                let mut v = Vec::new();
                match self {
                    $(Self::$variant { $($field),* } => {
                        $($crate::__layer_role!($role, $field, each, &mut |t| v.push(t));)*
                    })*
                }
                v
            }

            /// Replaces every input tensor `t` by `f(t)` (replay into another network).
            #[allow(unused_variables)]
            pub fn map_tensors(
                &mut self,
                f: &mut dyn FnMut(TensorId) -> Result<TensorId, NetworkError>,
            ) -> Result<(), NetworkError> {
                match self {
                    $(Self::$variant { $($field),* } => {
                        $($crate::__layer_role!($role, $field, map, f);)*
                    })*
                }
                Ok(())
            }

            /// The declared type rule: every input's type is one TensorRT accepts.
            #[allow(unused_variables)]
            pub fn check_types(&self, cx: &dyn $crate::layers::LayerCx) -> Result<(), NetworkError> {
                match self {
                    $(Self::$variant { $($field),* } => {
                        $($crate::layers::check_field_types(
                            cx, $kind, stringify!($tfield), $tfield, $tset,
                        )?;)*
                    })*
                }
                Ok(())
            }

            /// The declared type rule, then the layer's shape rule: the type, dims and known
            /// values of each output, or why TensorRT would reject the layer.
            pub fn infer(
                &self,
                cx: &dyn $crate::layers::LayerCx,
            ) -> Result<Vec<$crate::layers::Inferred>, NetworkError> {
                self.check_types(cx)?;
                let outs = match self {
                    $(Self::$variant { $($field),* } => $infer(cx, $(::core::clone::Clone::clone($field)),*)?,)*
                };
                if outs.len() != self.num_outputs() {
                    return Err($crate::layers::arity_error_pub(self.kind(), self.num_outputs(), outs.len()));
                }
                Ok(outs)
            }

            /// The call as printed after `=`: `kind(inputs, attr=value, ...)`.
            pub fn render(&self) -> String {
                let mut s = String::new();
                let _ = self.render_into(&mut s);
                s
            }

            fn render_into(&self, s: &mut String) -> std::fmt::Result {
                let k = self.kind();
                match self {
                    $(Self::$variant { $($field),* } => {
                        $crate::__layer_print!(s, k, [$($role $field),*], $($print)?)
                    })*
                }
            }
        }

        /// Mirror of TensorRT's `INetworkDefinition` (plus the builder's optimization profiles)
        /// that converters emit into.
        ///
        /// Implementations provide [`NetworkBuilder::add_layer`] (one declared layer), outputs,
        /// profiles and tensor types; the `add_*` methods are generated from the layer
        /// declarations and build a [`LayerOp`] for `add_layer`. Every method returns the
        /// handle(s) of the new layer's output(s) or an error when TensorRT would reject the
        /// layer (wrong rank, types that differ in a strongly typed network, ...).
        pub trait NetworkBuilder {
            /// Data type and dims of a tensor (dims `-1` where unknown at build time).
            fn tensor_desc(&self, tensor: TensorId) -> Result<TensorDesc, NetworkError>;

            /// Adds one layer (or network input) and returns its output tensors
            /// ([`LayerOp::num_outputs`] of them).
            fn add_layer(&mut self, op: LayerOp) -> Result<Vec<TensorId>, NetworkError>;

            /// `markOutput` after `ITensor::setName(name)`: makes `tensor` a network output.
            /// Output types are inferred (strong typing); cast before marking when another
            /// type is wanted.
            fn mark_output(&mut self, tensor: TensorId, name: &str) -> Result<(), NetworkError>;

            /// `createOptimizationProfile` + `setDimensions(kMIN/kOPT/kMAX)` per input +
            /// `addOptimizationProfile`. Returns the profile's index. Checked against the
            /// inputs: every dynamic input covered, `min <= opt <= max`, fixed extents equal.
            fn add_optimization_profile(
                &mut self,
                profile: &OptimizationProfile,
            ) -> Result<usize, NetworkError>;

            $(
                $(#[$meta])*
                fn $method(&mut self, $($arg: $aty),*) -> Result<$ret, NetworkError> {
                    let op = LayerOp::$variant {
                        $($field: $crate::__layer_init!($field $(, $init)?)),*
                    };
                    <$ret as $crate::layers::FromOutputs>::from_outputs($kind, self.add_layer(op)?)
                }
            )*
        }
    };
}

pub(crate) use declare_layers;

#[doc(hidden)]
pub fn arity_error_pub(kind: &str, want: usize, got: usize) -> NetworkError {
    arity_error(kind, want, got)
}
