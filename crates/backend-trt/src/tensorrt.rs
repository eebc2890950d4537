//! The real TensorRT(-RTX) builder, through the `trtx` binding (cargo feature `tensorrt`).
//!
//! The library is loaded at run time from a path ([`TrtLibrary::load`]); its
//! `getInferLibVersion()` is checked against the header version the binding was compiled for
//! before any other call. [`TrtNetworkBuilder`] implements [`NetworkBuilder`] over a TensorRT
//! `INetworkDefinition`, and [`build_plan`] replays a [`RecordedNetwork`] into it and returns
//! the serialized [`SerializedEngine`].
//!
//! ```no_run
//! use trtfx_backend_trt::tensorrt::{build_plan, TrtLibrary};
//! use trtfx_backend_trt::{BuildSettings, RecordedNetwork};
//! # fn f(net: &RecordedNetwork) -> Result<(), Box<dyn std::error::Error>> {
//! let lib = TrtLibrary::load()?; // TRTFX_TENSORRT_LIB or target/tensorrt-rtx/...
//! let plan = build_plan(lib, net, &BuildSettings::default())?; // SM86 by default
//! std::fs::write("model.plan", &plan.bytes)?;
//! # Ok(()) }
//! ```
//!
//! Gaps of the binding (trtx 0.9.1) that this builder works around or reports as
//! [`NetworkError::Unsupported`]:
//! - `IActivationLayer::setAlpha/setBeta` are not exposed: parameterized activations
//!   (leaky ReLU, ELU, SELU, softplus, clip, hard sigmoid, scaled tanh, thresholded ReLU) are
//!   emitted as the equivalent elementwise/unary layers.
//! - `IConvolutionLayer` only exposes 2-D kernels and symmetric padding: asymmetric padding is
//!   emitted as an `IPaddingLayer` before the convolution; 3-D convolution and deconvolution are
//!   unsupported here (the converter unrolls a 3-D convolution into 2-D ones over the depth).
//! - `ISliceLayer::setMode` is not exposed: only strict-bounds slices.
//! - `IShuffleLayer::setZeroIsPlaceholder` is not exposed: `zero_is_placeholder = false` only
//!   works for static reshape dims without zeros.
//! - `IFillLayer::setAlpha/setBeta` are not exposed: alpha/beta are passed as constant inputs.
//! - No timing-cache API (TensorRT-RTX has no builder timing cache anyway).

use std::collections::HashMap;
use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use trtx::builder::MemoryPoolType;
use trtx::{Axes, Builder, Logger, NetworkDefinition, OwnedConvWeights, OwnedWeights, Severity};

use crate::layers::{LayerCx, LayerOp};
use crate::network::*;
use crate::recorded::RecordedNetwork;
use crate::refit::{names_by_payload, WeightRefs};
use crate::settings::{BuildSettings, ComputeCapability, OptimizationProfile, SerializedEngine};

/// Environment variable naming the TensorRT library file to load.
pub const LIB_ENV: &str = "TRTFX_TENSORRT_LIB";

/// Errors of loading TensorRT and building plans.
#[derive(Debug, thiserror::Error)]
pub enum TrtError {
    /// No library file was found.
    #[error(
        "TensorRT library not found (set {LIB_ENV} to libtensorrt_rtx.so.1, or run \
         scripts/fetch-tensorrt-rtx.sh); tried: {}",
        display_paths(tried)
    )]
    NotFound {
        /// Paths that were tried.
        tried: Vec<PathBuf>,
    },
    /// The file could not be loaded as a shared library.
    #[error("cannot load TensorRT library {}: {message}", path.display())]
    Load {
        /// The file.
        path: PathBuf,
        /// The loader's message.
        message: String,
    },
    /// The library lacks the TensorRT entry points (not TensorRT, or a runtime-only library).
    #[error("{} is not a TensorRT builder library: {message}", path.display())]
    NotTensorRt {
        /// The file.
        path: PathBuf,
        /// What is missing.
        message: String,
    },
    /// The library's version differs from the headers the binding was compiled for.
    #[error(
        "TensorRT version mismatch: {} reports {library} but trtfx was built against {headers} \
         headers; use a matching library (scripts/fetch-tensorrt-rtx.sh fetches {headers})",
        path.display()
    )]
    VersionMismatch {
        /// The file.
        path: PathBuf,
        /// Version the library reports.
        library: String,
        /// Version of the binding's headers.
        headers: String,
    },
    /// Another TensorRT library is already loaded in this process.
    #[error(
        "a TensorRT library is already loaded from {}; cannot also load {}",
        loaded.display(), requested.display()
    )]
    AlreadyLoaded {
        /// The loaded library.
        loaded: PathBuf,
        /// The one requested now.
        requested: PathBuf,
    },
    /// Building the network failed.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// TensorRT failed to create an object or build the plan.
    #[error("TensorRT {call} failed: {message}")]
    Build {
        /// The call.
        call: String,
        /// Errors TensorRT logged, or the binding's error.
        message: String,
    },
}

fn display_paths(p: &[PathBuf]) -> String {
    let v: Vec<String> = p.iter().map(|p| p.display().to_string()).collect();
    v.join(", ")
}

/// A TensorRT version `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrtVersion {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Patch.
    pub patch: u32,
}

impl TrtVersion {
    /// Decodes `NV_TENSORRT_VERSION` / `getInferLibVersion()`: `(major * 100 + minor) * 100 + patch`.
    pub fn from_encoded(v: u32) -> Self {
        Self {
            major: v / 10000,
            minor: (v / 100) % 100,
            patch: v % 100,
        }
    }

    /// The version of the headers the `trtx` binding was compiled against.
    pub fn headers() -> Self {
        // SAFETY: a plain function of the binding's C++ bridge returning a compile-time constant.
        Self::from_encoded(unsafe { trtx::trtx_sys::get_tensorrt_version() })
    }
}

impl std::fmt::Display for TrtVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The binding is built for TensorRT-RTX (major 1) unless its `enterprise` feature is on.
        let name = if self.major < 8 {
            "TensorRT-RTX"
        } else {
            "TensorRT"
        };
        write!(f, "{name} {}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Checks a library version against the binding's headers: major and minor must be equal (the
/// ABI and enum values change between minor releases); patch releases are compatible.
pub fn check_version(path: &Path, library: TrtVersion) -> Result<(), TrtError> {
    let headers = TrtVersion::headers();
    if (library.major, library.minor) != (headers.major, headers.minor) {
        return Err(TrtError::VersionMismatch {
            path: path.to_path_buf(),
            library: library.to_string(),
            headers: headers.to_string(),
        });
    }
    Ok(())
}

/// The loaded TensorRT(-RTX) library. One per process (the binding keeps a global handle).
#[derive(Debug)]
pub struct TrtLibrary {
    path: PathBuf,
    version: TrtVersion,
    // Keeps our own reference to the library so it is never unloaded.
    _lib: libloading::Library,
}

static LOADED: Mutex<Option<&'static TrtLibrary>> = Mutex::new(None);

impl TrtLibrary {
    /// Paths tried by [`TrtLibrary::load`], in order: `$TRTFX_TENSORRT_LIB`, then
    /// `target/tensorrt-rtx/tensorrt_rtx_libs/libtensorrt_rtx.so.1` under the current directory
    /// and its ancestors (and under `$CARGO_TARGET_DIR`), then the loader's search path
    /// (`libtensorrt_rtx.so.1`).
    pub fn candidates() -> Vec<PathBuf> {
        let mut v = Vec::new();
        if let Some(p) = std::env::var_os(LIB_ENV) {
            if !p.is_empty() {
                v.push(PathBuf::from(p));
            }
        }
        let rel = Path::new("tensorrt-rtx/tensorrt_rtx_libs/libtensorrt_rtx.so.1");
        if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
            v.push(PathBuf::from(t).join(rel));
        }
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Ok(cwd) = std::env::current_dir() {
            dirs.extend(cwd.ancestors().map(Path::to_path_buf));
        }
        // The crate's own workspace, for tests run from anywhere.
        dirs.extend(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .map(Path::to_path_buf),
        );
        for d in dirs {
            let p = d.join("target").join(rel);
            if !v.contains(&p) {
                v.push(p);
            }
        }
        v.push(PathBuf::from("libtensorrt_rtx.so.1"));
        v
    }

    /// The library file that [`TrtLibrary::load`] would load, found without loading anything:
    /// the one loaded already, else `$TRTFX_TENSORRT_LIB`, else the first candidate that is a
    /// file. `None` when that is left to the dynamic loader's search path (or nothing is there).
    pub fn locate() -> Option<PathBuf> {
        if let Some(l) = *lock_loaded() {
            return Some(l.path.clone());
        }
        let explicit = std::env::var_os(LIB_ENV).is_some_and(|p| !p.is_empty());
        let mut cands = Self::candidates().into_iter();
        if explicit {
            return cands.next().filter(|p| p.is_file());
        }
        cands.find(|c| c.components().count() > 1 && c.is_file())
    }

    /// Loads the first library found among [`TrtLibrary::candidates`] (an explicit
    /// `$TRTFX_TENSORRT_LIB` that fails to load is an error, not skipped).
    pub fn load() -> Result<&'static TrtLibrary, TrtError> {
        if let Some(l) = *lock_loaded() {
            return Ok(l);
        }
        let cands = Self::candidates();
        let explicit = std::env::var_os(LIB_ENV).is_some_and(|p| !p.is_empty());
        for (i, c) in cands.iter().enumerate() {
            let bare = c.components().count() == 1;
            if i == 0 && explicit {
                return Self::load_from(c);
            }
            if bare {
                // A bare name goes to the dynamic loader's search path.
                match Self::load_from(c) {
                    Ok(l) => return Ok(l),
                    Err(TrtError::Load { .. }) => continue,
                    Err(e) => return Err(e),
                }
            }
            if c.is_file() {
                return Self::load_from(c);
            }
        }
        Err(TrtError::NotFound { tried: cands })
    }

    /// Loads the library at `path`, checking `getInferLibVersion()` against the binding's
    /// headers before anything else is called.
    pub fn load_from(path: impl AsRef<Path>) -> Result<&'static TrtLibrary, TrtError> {
        let path = path.as_ref();
        let mut loaded = lock_loaded();
        let same_as = |l: &TrtLibrary| {
            l.path == path
                || (std::fs::canonicalize(&l.path).ok())
                    .is_some_and(|a| std::fs::canonicalize(path).ok() == Some(a))
        };
        if let Some(l) = *loaded {
            if same_as(l) {
                return Ok(l);
            }
        }
        if path.components().count() > 1 && !path.exists() {
            return Err(TrtError::NotFound {
                tried: vec![path.to_path_buf()],
            });
        }
        // SAFETY: loading runs the library's initializers; TensorRT's are benign.
        let lib = unsafe { libloading::Library::new(path) }.map_err(|e| TrtError::Load {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let not_trt = |what: &str, e: libloading::Error| TrtError::NotTensorRt {
            path: path.to_path_buf(),
            message: format!("no {what} symbol ({e})"),
        };
        let version = {
            // SAFETY: `int32_t getInferLibVersion() noexcept` is an extern "C" TensorRT function.
            let f: libloading::Symbol<unsafe extern "C" fn() -> i32> =
                unsafe { lib.get(b"getInferLibVersion\0") }
                    .map_err(|e| not_trt("getInferLibVersion", e))?;
            let v = unsafe { f() };
            TrtVersion::from_encoded(u32::try_from(v).unwrap_or(0))
        };
        check_version(path, version)?;
        // SAFETY: only looks the symbol up.
        unsafe {
            lib.get::<*const c_void>(b"createInferBuilder_INTERNAL\0")
                .map_err(|e| not_trt("createInferBuilder_INTERNAL (a runtime-only library?)", e))?;
        }
        // The binding holds one global library handle: a second, different library cannot be
        // used in this process.
        if let Some(l) = *loaded {
            return Err(TrtError::AlreadyLoaded {
                loaded: l.path.clone(),
                requested: path.to_path_buf(),
            });
        }
        trtx::dynamically_load_tensorrt(Some(path)).map_err(|e| TrtError::Load {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let l: &'static TrtLibrary = Box::leak(Box::new(TrtLibrary {
            path: path.to_path_buf(),
            version,
            _lib: lib,
        }));
        *loaded = Some(l);
        Ok(l)
    }

    /// The loaded file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The version the library reports.
    pub fn version(&self) -> TrtVersion {
        self.version
    }
}

fn lock_loaded() -> std::sync::MutexGuard<'static, Option<&'static TrtLibrary>> {
    LOADED.lock().unwrap_or_else(|e| e.into_inner())
}

// ------------------------------------------------------------------------------------------
// Logger: one per process (TensorRT keeps the first logger it is given).

static MESSAGES: Mutex<Vec<(Severity, String)>> = Mutex::new(Vec::new());

struct Sink;

impl trtx::LogHandler for Sink {
    fn log(&self, severity: Severity, message: &str) {
        if std::env::var_os("TRTFX_TRT_LOG").is_some() {
            eprintln!("[TensorRT {severity:?}] {message}");
        }
        if severity <= Severity::Warning {
            let mut m = MESSAGES.lock().unwrap_or_else(|e| e.into_inner());
            if m.len() < 1000 {
                m.push((severity, message.to_string()));
            }
        }
    }
}

fn logger() -> Result<&'static Logger, TrtError> {
    static LOGGER: OnceLock<Result<&'static Logger, String>> = OnceLock::new();
    LOGGER
        .get_or_init(|| {
            Logger::new(Sink)
                .map(|l| &*Box::leak(Box::new(l)))
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|message| TrtError::Build {
            call: "logger creation".into(),
            message,
        })
}

/// Drains the logged errors (severity Error or worse), joined.
fn take_logged_errors() -> String {
    let mut m = MESSAGES.lock().unwrap_or_else(|e| e.into_inner());
    let errs: Vec<String> = m
        .drain(..)
        .filter(|(s, _)| *s <= Severity::Error)
        .map(|(_, s)| s)
        .collect();
    errs.join("; ")
}

fn trt_err(call: &str, e: impl std::fmt::Display) -> NetworkError {
    let logged = take_logged_errors();
    NetworkError::Trt {
        call: call.into(),
        message: if logged.is_empty() {
            e.to_string()
        } else {
            format!("{e}: {logged}")
        },
    }
}

fn unsupported(message: impl Into<String>) -> NetworkError {
    NetworkError::Unsupported {
        backend: "TensorRT builder (trtx 0.9.1)".into(),
        message: message.into(),
    }
}

// ------------------------------------------------------------------------------------------
// Enum mappings

fn dt(d: TrtDataType) -> trtx::DataType {
    use trtx::DataType as D;
    match d {
        TrtDataType::Float => D::kFLOAT,
        TrtDataType::Half => D::kHALF,
        TrtDataType::Int8 => D::kINT8,
        TrtDataType::Int32 => D::kINT32,
        TrtDataType::Bool => D::kBOOL,
        TrtDataType::Uint8 => D::kUINT8,
        TrtDataType::Fp8 => D::kFP8,
        TrtDataType::Bf16 => D::kBF16,
        TrtDataType::Int64 => D::kINT64,
        TrtDataType::Int4 => D::kINT4,
        TrtDataType::Fp4 => D::kFP4,
        TrtDataType::E8m0 => D::kE8M0,
    }
}

fn dt_back(d: trtx::DataType) -> TrtDataType {
    use trtx::DataType as D;
    match d {
        D::kFLOAT => TrtDataType::Float,
        D::kHALF => TrtDataType::Half,
        D::kINT8 => TrtDataType::Int8,
        D::kINT32 => TrtDataType::Int32,
        D::kBOOL => TrtDataType::Bool,
        D::kUINT8 => TrtDataType::Uint8,
        D::kFP8 => TrtDataType::Fp8,
        D::kBF16 => TrtDataType::Bf16,
        D::kINT64 => TrtDataType::Int64,
        D::kINT4 => TrtDataType::Int4,
        D::kFP4 => TrtDataType::Fp4,
        D::kE8M0 => TrtDataType::E8m0,
    }
}

fn ew(op: ElementWiseOp) -> trtx::ElementWiseOperation {
    use trtx::ElementWiseOperation as E;
    match op {
        ElementWiseOp::Sum => E::kSUM,
        ElementWiseOp::Prod => E::kPROD,
        ElementWiseOp::Max => E::kMAX,
        ElementWiseOp::Min => E::kMIN,
        ElementWiseOp::Sub => E::kSUB,
        ElementWiseOp::Div => E::kDIV,
        ElementWiseOp::Pow => E::kPOW,
        ElementWiseOp::FloorDiv => E::kFLOOR_DIV,
        ElementWiseOp::And => E::kAND,
        ElementWiseOp::Or => E::kOR,
        ElementWiseOp::Xor => E::kXOR,
        ElementWiseOp::Equal => E::kEQUAL,
        ElementWiseOp::Greater => E::kGREATER,
        ElementWiseOp::Less => E::kLESS,
    }
}

fn un(op: UnaryOp) -> trtx::UnaryOperation {
    use trtx::UnaryOperation as U;
    match op {
        UnaryOp::Exp => U::kEXP,
        UnaryOp::Log => U::kLOG,
        UnaryOp::Sqrt => U::kSQRT,
        UnaryOp::Recip => U::kRECIP,
        UnaryOp::Abs => U::kABS,
        UnaryOp::Neg => U::kNEG,
        UnaryOp::Sin => U::kSIN,
        UnaryOp::Cos => U::kCOS,
        UnaryOp::Tan => U::kTAN,
        UnaryOp::Sinh => U::kSINH,
        UnaryOp::Cosh => U::kCOSH,
        UnaryOp::Asin => U::kASIN,
        UnaryOp::Acos => U::kACOS,
        UnaryOp::Atan => U::kATAN,
        UnaryOp::Asinh => U::kASINH,
        UnaryOp::Acosh => U::kACOSH,
        UnaryOp::Atanh => U::kATANH,
        UnaryOp::Ceil => U::kCEIL,
        UnaryOp::Floor => U::kFLOOR,
        UnaryOp::Erf => U::kERF,
        UnaryOp::Not => U::kNOT,
        UnaryOp::Sign => U::kSIGN,
        UnaryOp::Round => U::kROUND,
        UnaryOp::IsInf => U::kISINF,
        UnaryOp::IsNan => U::kISNAN,
    }
}

fn red(op: ReduceOp) -> trtx::ReduceOperation {
    use trtx::ReduceOperation as R;
    match op {
        ReduceOp::Sum => R::kSUM,
        ReduceOp::Prod => R::kPROD,
        ReduceOp::Max => R::kMAX,
        ReduceOp::Min => R::kMIN,
        ReduceOp::Avg => R::kAVG,
    }
}

fn mat(op: MatrixOp) -> trtx::MatrixOperation {
    match op {
        MatrixOp::None => trtx::MatrixOperation::kNONE,
        MatrixOp::Transpose => trtx::MatrixOperation::kTRANSPOSE,
        MatrixOp::Vector => trtx::MatrixOperation::kVECTOR,
    }
}

fn cc(c: ComputeCapability) -> trtx::ComputeCapability {
    use trtx::ComputeCapability as C;
    match c {
        ComputeCapability::Current => C::kCURRENT,
        ComputeCapability::Sm75 => C::kSM75,
        ComputeCapability::Sm80 => C::kSM80,
        ComputeCapability::Sm86 => C::kSM86,
        ComputeCapability::Sm89 => C::kSM89,
        ComputeCapability::Sm120 => C::kSM120,
        ComputeCapability::Sm121 => C::kSM121,
    }
}

/// `values` as elements of `d` (float and integer types only).
fn encode_values(d: TrtDataType, values: &[f64]) -> Result<Vec<u8>, NetworkError> {
    if !matches!(
        d,
        TrtDataType::Float
            | TrtDataType::Half
            | TrtDataType::Bf16
            | TrtDataType::Int32
            | TrtDataType::Int64
    ) {
        return Err(unsupported(format!("scalar constants of type {d}")));
    }
    Weights::from_f64s(values, d)
        .map(|w| w.bytes.to_vec())
        .map_err(unsupported)
}

// ------------------------------------------------------------------------------------------
// The network builder

/// A TensorRT `INetworkDefinition` (strongly typed) behind the [`NetworkBuilder`] trait, plus
/// the `IBuilder` that will build it.
pub struct TrtNetworkBuilder {
    // Field order is drop order: tensors and network go before the builder.
    tensors: Vec<trtx::Tensor<'static>>,
    inputs: Vec<(String, TensorId)>,
    output_names: Vec<String>,
    profiles: Vec<OptimizationProfile>,
    /// Weight-stripped build: payload (address, length) → program weight name, for the
    /// payloads to name, mark refittable and strip (empty otherwise).
    weight_names: HashMap<(usize, usize), String>,
    /// Named weights already in the network: name → (dims, tensor), so every use of one
    /// weight shares one named constant (TensorRT refuses a name given to two payloads).
    named: HashMap<String, (Vec<i64>, TensorId)>,
    network: NetworkDefinition<'static>,
    builder: Builder<'static>,
    library: &'static TrtLibrary,
}

impl std::fmt::Debug for TrtNetworkBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrtNetworkBuilder")
            .field("tensors", &self.tensors.len())
            .field("inputs", &self.inputs)
            .field("library", &self.library.path)
            .finish_non_exhaustive()
    }
}

impl TrtNetworkBuilder {
    /// Creates a builder and an empty strongly typed network.
    pub fn new(library: &'static TrtLibrary) -> Result<Self, TrtError> {
        let logger = logger()?;
        take_logged_errors();
        let mut builder = Builder::new(logger).map_err(|e| TrtError::Build {
            call: "createInferBuilder".into(),
            message: format!("{e} {}", take_logged_errors()),
        })?;
        // kSTRONGLY_TYPED = bit 0 (always on, and deprecated, in TensorRT-RTX and TensorRT 11).
        let network = builder
            .create_network(1 << 0)
            .map_err(|e| TrtError::Build {
                call: "createNetworkV2".into(),
                message: format!("{e} {}", take_logged_errors()),
            })?;
        Ok(Self {
            tensors: Vec::new(),
            inputs: Vec::new(),
            output_names: Vec::new(),
            profiles: Vec::new(),
            weight_names: HashMap::new(),
            named: HashMap::new(),
            network,
            builder,
            library,
        })
    }

    /// Creates a builder for a weight-stripped, refittable plan and replays `recording` into
    /// it: the layer weights `refs` names are named after their program weights and marked
    /// refittable, so [`TrtNetworkBuilder::build_serialized_plan`] with
    /// [`BuildSettings::strip_weights`] leaves them out of the plan.
    pub fn from_recording_with_refs(
        library: &'static TrtLibrary,
        recording: &RecordedNetwork,
        refs: &WeightRefs,
    ) -> Result<Self, TrtError> {
        let mut b = Self::new(library)?;
        b.weight_names = names_by_payload(recording, refs);
        recording.replay_into(&mut b)?;
        Ok(b)
    }

    /// The names given to refittable weights so far, sorted.
    pub fn refittable_weights(&self) -> Vec<String> {
        let mut v: Vec<String> = self.named.keys().cloned().collect();
        v.sort();
        v
    }

    /// The network tensor of a weight payload: a constant layer (named and marked refittable
    /// when the payload is a program weight of a stripped build), or the tensor of the same
    /// named weight made before (reshaped when a layer reads it with other dims).
    fn weights_tensor(&mut self, dims: &[i64], w: &Weights) -> Result<TensorId, NetworkError> {
        let name = self
            .weight_names
            .get(&(w.bytes.as_ptr() as usize, w.bytes.len()))
            .cloned();
        let Some(name) = name else {
            let layer = self
                .network
                .add_constant_owned(dims, w.bytes.to_vec(), dt(w.dtype), None)
                .map_err(|e| trt_err("addConstant", e))?;
            return self.push_layer_output("addConstant", &layer, 0);
        };
        if let Some((have, id)) = self.named.get(&name).cloned() {
            if have == dims {
                return Ok(id);
            }
            let t = self.t(id)?;
            let mut layer = self
                .network
                .add_shuffle(&t)
                .map_err(|e| trt_err("addShuffle", e))?;
            layer
                .set_reshape_dimensions(&mut self.network, dims)
                .map_err(|e| trt_err("setReshapeDimensions", e))?;
            return self.push_layer_output("addShuffle", &layer, 0);
        }
        let layer = self
            .network
            .add_constant_owned(dims, w.bytes.to_vec(), dt(w.dtype), Some(&name))
            .map_err(|e| trt_err("addConstant", e))?;
        let id = self.push_layer_output("addConstant", &layer, 0)?;
        self.network
            .mark_weights_refittable(&name)
            .map_err(|e| trt_err("markWeightsRefittable", e))?;
        self.named.insert(name, (dims.to_vec(), id));
        Ok(id)
    }

    /// Whether a (de)convolution's kernel or bias is a named program weight (then it is wired
    /// as a constant tensor input, so it can share the weight's named constant).
    fn has_named(&self, kernel: &Weights, bias: Option<&Weights>) -> bool {
        !self.weight_names.is_empty()
            && std::iter::once(kernel).chain(bias).any(|w| {
                self.weight_names
                    .contains_key(&(w.bytes.as_ptr() as usize, w.bytes.len()))
            })
    }

    /// Creates a builder and replays `recording` into it.
    pub fn from_recording(
        library: &'static TrtLibrary,
        recording: &RecordedNetwork,
    ) -> Result<Self, TrtError> {
        let mut b = Self::new(library)?;
        recording.replay_into(&mut b)?;
        Ok(b)
    }

    /// Number of TensorRT layers in the network.
    pub fn num_layers(&self) -> usize {
        self.network.nb_layers().max(0) as usize
    }

    /// Builds the serialized plan (`buildSerializedNetwork`) with `settings`.
    pub fn build_serialized_plan(
        &mut self,
        settings: &BuildSettings,
    ) -> Result<SerializedEngine, TrtError> {
        let build_err = |call: &str, e: &dyn std::fmt::Display| TrtError::Build {
            call: call.into(),
            message: {
                let logged = take_logged_errors();
                if logged.is_empty() {
                    e.to_string()
                } else {
                    format!("{e}: {logged}")
                }
            },
        };
        take_logged_errors();
        let mut config = self
            .builder
            .create_config()
            .map_err(|e| build_err("createBuilderConfig", &e))?;
        if let Some(w) = settings.workspace_limit {
            config.set_memory_pool_limit(MemoryPoolType::kWORKSPACE, w);
        }
        // Weight-stripped plans: only the weights marked refittable (the named program
        // weights) are left out; converter constants (shapes, scalars) stay in the plan and
        // can still be folded. kREFIT_INDIVIDUAL rather than kREFIT_IDENTICAL, because
        // `ir-opt refit` supplies *different* weights.
        let stripped = settings.strip_weights && !self.named.is_empty();
        if stripped {
            config.set_flag(trtx::BuilderFlag::kSTRIP_PLAN);
            config.set_flag(trtx::BuilderFlag::kREFIT_INDIVIDUAL);
        }
        if let Some(level) = settings.optimization_level {
            if !(0..=5).contains(&level) {
                return Err(NetworkError::invalid(format!(
                    "optimization level {level} is outside 0..=5"
                ))
                .into());
            }
            config.set_builder_optimization_level(level);
        }
        if !settings.compute_capabilities.is_empty() {
            let n = settings.compute_capabilities.len() as i32;
            config
                .set_nb_compute_capabilities(n)
                .map_err(|e| build_err("setNbComputeCapabilities", &e))?;
            for (i, c) in settings.compute_capabilities.iter().enumerate() {
                config
                    .set_compute_capability(cc(*c), i as i32)
                    .map_err(|e| {
                        build_err(
                            &format!("setComputeCapability({c})"),
                            &format!("{e} (TensorRT-RTX supports sm75/80/86/89/120/121)"),
                        )
                    })?;
            }
        }
        for p in &self.profiles {
            let mut prof = self
                .builder
                .creata_optimization_profile()
                .map_err(|e| build_err("createOptimizationProfile", &e))?;
            let mut result = Ok(());
            for d in &p.inputs {
                for (sel, dims) in [
                    (trtx::OptProfileSelector::kMIN, &d.min),
                    (trtx::OptProfileSelector::kOPT, &d.opt),
                    (trtx::OptProfileSelector::kMAX, &d.max),
                ] {
                    if result.is_ok() {
                        result = prof
                            .set_dimensions(
                                &d.input,
                                sel,
                                &trtx::trtx_sys::Dims64::from_slice(dims),
                            )
                            .map_err(|e| build_err("IOptimizationProfile::setDimensions", &e));
                    }
                }
            }
            if result.is_ok() {
                result = config
                    .add_optimization_profile(&mut prof)
                    .map(|_| ())
                    .map_err(|e| build_err("addOptimizationProfile", &e));
            }
            // The builder owns its profiles; the binding's Drop would destroy it a second time.
            std::mem::forget(prof);
            result?;
        }
        let start = Instant::now();
        let host = self
            .builder
            .build_serialized_network(&mut self.network, &mut config)
            .map_err(|e| build_err("buildSerializedNetwork", &e))?;
        let bytes = host.to_vec();
        drop(host);
        if bytes.is_empty() {
            return Err(build_err("buildSerializedNetwork", &"empty plan"));
        }
        log_build_time(start);
        Ok(SerializedEngine {
            bytes,
            settings: settings.clone(),
            trt_version: self.library.version.to_string(),
            stripped,
        })
    }

    fn t(&self, id: TensorId) -> Result<trtx::Tensor<'static>, NetworkError> {
        self.tensors
            .get(id.index())
            .copied()
            .ok_or(NetworkError::UnknownTensor(id))
    }

    fn push(&mut self, t: trtx::Tensor<'static>) -> TensorId {
        self.tensors.push(t);
        TensorId(self.tensors.len() as u32 - 1)
    }

    fn push_layer_output<L: trtx::trtx_sys::AsLayer>(
        &mut self,
        call: &str,
        layer: &trtx::network::Layer<'static, L>,
        index: i32,
    ) -> Result<TensorId, NetworkError> {
        let t = layer
            .output(&self.network, index)
            .map_err(|e| trt_err(call, e))?;
        Ok(self.push(t))
    }

    /// A constant of `dtype` with `rank` dims of extent 1 (broadcasts against any tensor of
    /// that rank).
    fn scalar_like(
        &mut self,
        dtype: TrtDataType,
        rank: usize,
        v: f64,
    ) -> Result<TensorId, NetworkError> {
        let bytes = encode_values(dtype, &[v])?;
        let dims = vec![1i64; rank];
        let layer = self
            .network
            .add_constant_owned(&dims, bytes, dt(dtype), None)
            .map_err(|e| trt_err("addConstant", e))?;
        self.push_layer_output("addConstant", &layer, 0)
    }

    /// A constant 1-D (or 0-D when `scalar`) tensor of `dtype` holding `values`.
    fn constant_values(
        &mut self,
        dtype: TrtDataType,
        values: &[f64],
        scalar: bool,
    ) -> Result<TensorId, NetworkError> {
        let bytes = encode_values(dtype, values)?;
        let dims: Vec<i64> = if scalar {
            vec![]
        } else {
            vec![values.len() as i64]
        };
        let layer = self
            .network
            .add_constant_owned(&dims, bytes, dt(dtype), None)
            .map_err(|e| trt_err("addConstant", e))?;
        self.push_layer_output("addConstant", &layer, 0)
    }

    fn ew(
        &mut self,
        a: TensorId,
        b: TensorId,
        op: ElementWiseOp,
    ) -> Result<TensorId, NetworkError> {
        self.add_elementwise(a, b, op)
    }

    /// Parameterized activations as elementwise/unary layers (the binding cannot set alpha/beta).
    fn decomposed_activation(
        &mut self,
        x: TensorId,
        act: Activation,
    ) -> Result<TensorId, NetworkError> {
        use ElementWiseOp as E;
        let d = self.tensor_desc(x)?;
        let (ty, r) = (d.dtype, d.rank());
        let (alpha, beta) = act.alpha_beta();
        let (alpha, beta) = (f64::from(alpha), f64::from(beta));
        let zero = self.scalar_like(ty, r, 0.0)?;
        let out = match act {
            Activation::LeakyRelu { .. } => {
                let a = self.scalar_like(ty, r, alpha)?;
                let pos = self.ew(x, zero, E::Max)?;
                let neg = self.ew(x, zero, E::Min)?;
                let neg = self.ew(neg, a, E::Prod)?;
                self.ew(pos, neg, E::Sum)?
            }
            Activation::Elu { .. } | Activation::Selu { .. } => {
                let one = self.scalar_like(ty, r, 1.0)?;
                let a = self.scalar_like(ty, r, alpha)?;
                let neg = self.ew(x, zero, E::Min)?;
                let e = self.add_unary(neg, UnaryOp::Exp)?;
                let em1 = self.ew(e, one, E::Sub)?;
                let negpart = self.ew(em1, a, E::Prod)?;
                let cond = self.ew(x, zero, E::Greater)?;
                let y = self.add_select(cond, x, negpart)?;
                if matches!(act, Activation::Selu { .. }) {
                    let b = self.scalar_like(ty, r, beta)?;
                    self.ew(y, b, E::Prod)?
                } else {
                    y
                }
            }
            Activation::Softplus { .. } => {
                // alpha * (max(bx, 0) + log(1 + exp(-|bx|))), stable for large |bx|.
                let b = self.scalar_like(ty, r, beta)?;
                let a = self.scalar_like(ty, r, alpha)?;
                let one = self.scalar_like(ty, r, 1.0)?;
                let bx = self.ew(x, b, E::Prod)?;
                let pos = self.ew(bx, zero, E::Max)?;
                let abs = self.add_unary(bx, UnaryOp::Abs)?;
                let nabs = self.add_unary(abs, UnaryOp::Neg)?;
                let e = self.add_unary(nabs, UnaryOp::Exp)?;
                let s = self.ew(e, one, E::Sum)?;
                let l = self.add_unary(s, UnaryOp::Log)?;
                let y = self.ew(pos, l, E::Sum)?;
                self.ew(y, a, E::Prod)?
            }
            Activation::Clip { .. } => {
                let lo = self.scalar_like(ty, r, alpha)?;
                let hi = self.scalar_like(ty, r, beta)?;
                let y = self.ew(x, hi, E::Min)?;
                self.ew(y, lo, E::Max)?
            }
            Activation::HardSigmoid { .. } => {
                let a = self.scalar_like(ty, r, alpha)?;
                let b = self.scalar_like(ty, r, beta)?;
                let one = self.scalar_like(ty, r, 1.0)?;
                let ax = self.ew(x, a, E::Prod)?;
                let y = self.ew(ax, b, E::Sum)?;
                let y = self.ew(y, one, E::Min)?;
                self.ew(y, zero, E::Max)?
            }
            Activation::ScaledTanh { .. } => {
                let a = self.scalar_like(ty, r, alpha)?;
                let b = self.scalar_like(ty, r, beta)?;
                let bx = self.ew(x, b, E::Prod)?;
                let t = self.add_activation(bx, Activation::Tanh)?;
                self.ew(t, a, E::Prod)?
            }
            Activation::ThresholdedRelu { .. } => {
                let a = self.scalar_like(ty, r, alpha)?;
                let cond = self.ew(x, a, E::Greater)?;
                let z = self.ew(x, zero, E::Prod)?;
                self.add_select(cond, x, z)?
            }
            _ => unreachable!("only parameterized activations are decomposed"),
        };
        Ok(out)
    }

    fn set_shape_input<L: trtx::trtx_sys::AsLayer>(
        &mut self,
        layer: &mut trtx::network::Layer<'static, L>,
        index: i32,
        arg: &ShapeArg,
    ) -> Result<(), NetworkError> {
        if let ShapeArg::Tensor(t) = arg {
            let t = self.t(*t)?;
            layer
                .set_input(&mut self.network, index, &t)
                .map_err(|e| trt_err("ILayer::setInput", e))?;
        }
        Ok(())
    }
}

fn log_build_time(start: Instant) {
    if std::env::var_os("TRTFX_TRT_LOG").is_some() {
        eprintln!("[trtfx] buildSerializedNetwork took {:?}", start.elapsed());
    }
}

fn static_or_zeros(a: &ShapeArg, rank: usize) -> Vec<i64> {
    match a {
        ShapeArg::Static(v) => v.clone(),
        ShapeArg::Tensor(_) => vec![0; rank],
    }
}

fn arr2(v: &[i64], what: &str) -> Result<[i64; 2], NetworkError> {
    match v {
        [a, b] => Ok([*a, *b]),
        _ => Err(unsupported(format!(
            "{what} {v:?}: the binding exposes only 2-D convolution parameters"
        ))),
    }
}

impl NetworkBuilder for TrtNetworkBuilder {
    fn tensor_desc(&self, tensor: TensorId) -> Result<TensorDesc, NetworkError> {
        let t = self.t(tensor)?;
        let dims = t
            .dimensions(&self.network)
            .map_err(|e| trt_err("ITensor::getDimensions", e))?;
        Ok(TensorDesc::new(dt_back(t.data_type(&self.network)), dims))
    }

    fn add_layer(&mut self, op: LayerOp) -> Result<Vec<TensorId>, NetworkError> {
        op.check_types(self)?;
        Ok(match op {
            LayerOp::Input { name, dtype, dims } => vec![self.add_input(&name, dtype, &dims)?],
            LayerOp::Constant { dims, weights } => vec![self.add_constant(&dims, weights)?],
            LayerOp::Convolution {
                input,
                params,
                kernel,
                bias,
            } => vec![self.add_convolution_nd(input, &params, kernel, bias)?],
            LayerOp::Deconvolution {
                input,
                params,
                kernel,
                bias,
            } => vec![self.add_deconvolution_nd(input, &params, kernel, bias)?],
            LayerOp::MatrixMultiply { a, op_a, b, op_b } => {
                vec![self.add_matrix_multiply(a, op_a, b, op_b)?]
            }
            LayerOp::ElementWise { a, b, op } => vec![self.add_elementwise(a, b, op)?],
            LayerOp::Unary { input, op } => vec![self.add_unary(input, op)?],
            LayerOp::Activation { input, activation } => {
                vec![self.add_activation(input, activation)?]
            }
            LayerOp::Reduce {
                input,
                op,
                axes,
                keep_dims,
            } => vec![self.add_reduce(input, op, axes, keep_dims)?],
            LayerOp::SoftMax { input, axis } => vec![self.add_softmax(input, axis)?],
            LayerOp::Shuffle { input, params } => vec![self.add_shuffle(input, &params)?],
            LayerOp::Slice { input, params } => vec![self.add_slice(input, &params)?],
            LayerOp::Concatenation { inputs, axis } => {
                vec![self.add_concatenation(&inputs, axis)?]
            }
            LayerOp::Gather {
                data,
                indices,
                axis,
                mode,
            } => vec![self.add_gather(data, indices, axis, mode)?],
            LayerOp::Select {
                condition,
                then_value,
                else_value,
            } => vec![self.add_select(condition, then_value, else_value)?],
            LayerOp::Cast { input, dtype } => vec![self.add_cast(input, dtype)?],
            LayerOp::Shape { input } => vec![self.add_shape(input)?],
            LayerOp::Identity { input } => vec![self.add_identity(input)?],
            LayerOp::Pooling { input, params } => vec![self.add_pooling_nd(input, &params)?],
            LayerOp::Normalization {
                input,
                scale,
                bias,
                axes,
                epsilon,
                num_groups,
            } => vec![self.add_normalization(input, scale, bias, axes, epsilon, num_groups)?],
            LayerOp::TopK {
                input,
                op,
                k,
                axes,
                indices_dtype,
            } => {
                let (v, i) = self.add_topk(input, op, k, axes, indices_dtype)?;
                vec![v, i]
            }
            LayerOp::Resize { input, params } => vec![self.add_resize(input, &params)?],
            LayerOp::Fill { params } => vec![self.add_fill(&params)?],
            LayerOp::Scatter {
                data,
                indices,
                updates,
                mode,
                axis,
            } => vec![self.add_scatter(data, indices, updates, mode, axis)?],
            LayerOp::OneHot {
                indices,
                values,
                depth,
                axis,
            } => vec![self.add_one_hot(indices, values, depth, axis)?],
            LayerOp::Cumulative {
                input,
                axis,
                op,
                exclusive,
                reverse,
            } => vec![self.add_cumulative(input, axis, op, exclusive, reverse)?],
            LayerOp::GridSample {
                input,
                grid,
                mode,
                align_corners,
                sample_mode,
            } => vec![self.add_grid_sample(input, grid, mode, align_corners, sample_mode)?],
            LayerOp::NonZero {
                input,
                indices_dtype,
            } => vec![self.add_non_zero(input, indices_dtype)?],
        })
    }

    fn mark_output(&mut self, tensor: TensorId, name: &str) -> Result<(), NetworkError> {
        let mut t = self.t(tensor)?;
        // Renaming an input (or an already marked output) would change its name: copy it first.
        if t.is_network_input(&self.network) || t.is_network_output(&self.network) {
            let id = self.add_identity(tensor)?;
            t = self.t(id)?;
        }
        if self.output_names.iter().any(|n| n == name) {
            return Err(NetworkError::layer(
                "output",
                format!("duplicate output name {name:?}"),
            ));
        }
        t.set_name(&mut self.network, name)
            .map_err(|e| trt_err("ITensor::setName", e))?;
        self.network.mark_output(&t);
        self.output_names.push(name.to_string());
        Ok(())
    }

    fn add_optimization_profile(
        &mut self,
        profile: &OptimizationProfile,
    ) -> Result<usize, NetworkError> {
        let descs: Vec<(String, TensorDesc)> = self
            .inputs
            .iter()
            .map(|(n, t)| Ok((n.clone(), self.tensor_desc(*t)?)))
            .collect::<Result<_, NetworkError>>()?;
        profile.validate(descs.iter().map(|(n, d)| (n.as_str(), d)))?;
        self.profiles.push(profile.clone());
        Ok(self.profiles.len() - 1)
    }
}

impl LayerCx for TrtNetworkBuilder {
    fn desc(&self, t: TensorId) -> Result<TensorDesc, NetworkError> {
        self.tensor_desc(t)
    }

    /// TensorRT computes shape values itself; the declared type rule does not need them.
    fn value(&self, _t: TensorId) -> Option<Vec<Option<i64>>> {
        None
    }

    fn has_input(&self, name: &str) -> bool {
        self.inputs.iter().any(|(n, _)| n == name)
    }
}

// The layers' builder calls, dispatched from `add_layer`: one per declared layer
// (`crate::layers::decl`), each after the declared type rule has passed.
impl TrtNetworkBuilder {
    pub(crate) fn add_input(
        &mut self,
        name: &str,
        dtype: TrtDataType,
        dims: &[i64],
    ) -> Result<TensorId, NetworkError> {
        let t = self
            .network
            .add_input(name, dt(dtype), dims)
            .map_err(|e| trt_err("addInput", e))?;
        let id = self.push(t);
        self.inputs.push((name.to_string(), id));
        Ok(id)
    }

    pub(crate) fn add_constant(
        &mut self,
        dims: &[i64],
        weights: Weights,
    ) -> Result<TensorId, NetworkError> {
        let vol: i64 = dims.iter().product();
        let need = (vol.max(0) as usize * weights.dtype.size_bits()).div_ceil(8);
        if dims.iter().any(|&d| d < 0) || vol != weights.count || weights.bytes.len() != need {
            return Err(NetworkError::layer(
                "constant",
                format!(
                    "dims {dims:?} do not match {} weights of {} bytes",
                    weights.count,
                    weights.bytes.len()
                ),
            ));
        }
        self.weights_tensor(dims, &weights)
    }

    pub(crate) fn add_convolution_nd(
        &mut self,
        input: TensorId,
        params: &ConvolutionParams,
        kernel: Weights,
        bias: Option<Weights>,
    ) -> Result<TensorId, NetworkError> {
        let k = arr2(&params.kernel_size, "kernel")?;
        let stride = arr2(&params.stride, "stride")?;
        let dilation = arr2(&params.dilation, "dilation")?;
        let pre = arr2(&params.pre_padding, "pre_padding")?;
        let post = arr2(&params.post_padding, "post_padding")?;
        let common = [pre[0].min(post[0]), pre[1].min(post[1])];
        let mut x = self.t(input)?;
        let d = self.tensor_desc(input)?;
        if pre != common || post != common {
            let layer = self
                .network
                .add_padding(
                    &x,
                    &[pre[0] - common[0], pre[1] - common[1]],
                    &[post[0] - common[0], post[1] - common[1]],
                )
                .map_err(|e| trt_err("addPaddingNd", e))?;
            x = layer
                .output(&self.network, 0)
                .map_err(|e| trt_err("addPaddingNd", e))?;
        }
        let c = d.dims.get(d.rank().wrapping_sub(3)).copied().unwrap_or(-1);
        if c < 0 || params.groups < 1 {
            return Err(NetworkError::layer(
                "convolution",
                format!("input {d} needs a known channel dim"),
            ));
        }
        let kernel_dims = vec![params.num_output_maps, c / params.groups, k[0], k[1]];
        if self.has_named(&kernel, bias.as_ref()) {
            let kt = self.weights_tensor(&kernel_dims, &kernel)?;
            let bt = match &bias {
                Some(b) => Some(self.weights_tensor(&[params.num_output_maps], b)?),
                None => None,
            };
            let mut layer = self
                .network
                .add_convolution_deferrred_weights(
                    &x,
                    params.num_output_maps as i32,
                    &[k[0] as i32, k[1] as i32],
                )
                .map_err(|e| trt_err("addConvolutionNd", e))?;
            let kt = self.t(kt)?;
            layer
                .set_input(&mut self.network, 1, &kt)
                .map_err(|e| trt_err("IConvolutionLayer::setInput", e))?;
            if let Some(bt) = bt {
                let bt = self.t(bt)?;
                layer
                    .set_input(&mut self.network, 2, &bt)
                    .map_err(|e| trt_err("IConvolutionLayer::setInput", e))?;
            }
            layer.set_stride(&mut self.network, &stride);
            layer.set_padding(&mut self.network, &common);
            layer.set_dilation(&mut self.network, &dilation);
            layer.set_num_groups(&mut self.network, params.groups);
            return self.push_layer_output("addConvolutionNd", &layer, 0);
        }
        let weights = OwnedConvWeights {
            kernel: OwnedWeights {
                shape: kernel_dims,
                data_type: dt(kernel.dtype),
                values: kernel.bytes.to_vec(),
                name: None,
            },
            bias: bias.map(|b| OwnedWeights {
                shape: vec![params.num_output_maps],
                data_type: dt(b.dtype),
                values: b.bytes.to_vec(),
                name: None,
            }),
        };
        let mut layer = self
            .network
            .add_convolution_owned_weights(
                &x,
                params.num_output_maps as i32,
                &[k[0] as i32, k[1] as i32],
                weights,
            )
            .map_err(|e| trt_err("addConvolutionNd", e))?;
        layer.set_stride(&mut self.network, &stride);
        layer.set_padding(&mut self.network, &common);
        layer.set_dilation(&mut self.network, &dilation);
        layer.set_num_groups(&mut self.network, params.groups);
        self.push_layer_output("addConvolutionNd", &layer, 0)
    }

    pub(crate) fn add_deconvolution_nd(
        &mut self,
        input: TensorId,
        params: &ConvolutionParams,
        kernel: Weights,
        bias: Option<Weights>,
    ) -> Result<TensorId, NetworkError> {
        let k = arr2(&params.kernel_size, "kernel")?;
        let x = self.t(input)?;
        let d = self.tensor_desc(input)?;
        let c = d.dims.get(d.rank().wrapping_sub(3)).copied().unwrap_or(-1);
        if c < 0 || params.groups < 1 {
            return Err(NetworkError::layer(
                "deconvolution",
                format!("input {d} needs a known channel dim"),
            ));
        }
        let kernel_dims = vec![c, params.num_output_maps / params.groups, k[0], k[1]];
        let mut layer = if self.has_named(&kernel, bias.as_ref()) {
            let kt = self.weights_tensor(&kernel_dims, &kernel)?;
            let bt = match &bias {
                Some(b) => Some(self.weights_tensor(&[params.num_output_maps], b)?),
                None => None,
            };
            let mut layer = self
                .network
                .add_deconvolution_deferred_weights(&x, params.num_output_maps, &k)
                .map_err(|e| trt_err("addDeconvolutionNd", e))?;
            let kt = self.t(kt)?;
            layer
                .set_input(&mut self.network, 1, &kt)
                .map_err(|e| trt_err("IDeconvolutionLayer::setInput", e))?;
            if let Some(bt) = bt {
                let bt = self.t(bt)?;
                layer
                    .set_input(&mut self.network, 2, &bt)
                    .map_err(|e| trt_err("IDeconvolutionLayer::setInput", e))?;
            }
            layer
        } else {
            let weights = OwnedConvWeights {
                kernel: OwnedWeights {
                    shape: kernel_dims,
                    data_type: dt(kernel.dtype),
                    values: kernel.bytes.to_vec(),
                    name: None,
                },
                bias: bias.map(|b| OwnedWeights {
                    shape: vec![params.num_output_maps],
                    data_type: dt(b.dtype),
                    values: b.bytes.to_vec(),
                    name: None,
                }),
            };
            self.network
                .add_deconvolution_owned_weights(&x, params.num_output_maps, &k, weights)
                .map_err(|e| trt_err("addDeconvolutionNd", e))?
        };
        let stride = arr2(&params.stride, "stride")?;
        let pre = arr2(&params.pre_padding, "pre_padding")?;
        let post = arr2(&params.post_padding, "post_padding")?;
        let dilation = arr2(&params.dilation, "dilation")?;
        let net = &mut self.network;
        let r = layer
            .set_stride(net, &stride)
            .and_then(|_| layer.set_pre_padding(net, &pre))
            .and_then(|_| layer.set_post_padding(net, &post))
            .and_then(|_| layer.set_dilation(net, &dilation))
            .and_then(|_| layer.set_num_groups(net, params.groups));
        r.map_err(|e| trt_err("IDeconvolutionLayer", e))?;
        self.push_layer_output("addDeconvolutionNd", &layer, 0)
    }

    pub(crate) fn add_matrix_multiply(
        &mut self,
        a: TensorId,
        op_a: MatrixOp,
        b: TensorId,
        op_b: MatrixOp,
    ) -> Result<TensorId, NetworkError> {
        let (ta, tb) = (self.t(a)?, self.t(b)?);
        let layer = self
            .network
            .add_matrix_multiply(&ta, mat(op_a), &tb, mat(op_b))
            .map_err(|e| trt_err("addMatrixMultiply", e))?;
        self.push_layer_output("addMatrixMultiply", &layer, 0)
    }

    pub(crate) fn add_elementwise(
        &mut self,
        a: TensorId,
        b: TensorId,
        op: ElementWiseOp,
    ) -> Result<TensorId, NetworkError> {
        let (ta, tb) = (self.t(a)?, self.t(b)?);
        let layer = self
            .network
            .add_elementwise(&ta, &tb, ew(op))
            .map_err(|e| trt_err("addElementWise", e))?;
        self.push_layer_output("addElementWise", &layer, 0)
    }

    pub(crate) fn add_unary(
        &mut self,
        input: TensorId,
        op: UnaryOp,
    ) -> Result<TensorId, NetworkError> {
        let t = self.t(input)?;
        let layer = self
            .network
            .add_unary(&t, un(op))
            .map_err(|e| trt_err("addUnary", e))?;
        self.push_layer_output("addUnary", &layer, 0)
    }

    pub(crate) fn add_activation(
        &mut self,
        input: TensorId,
        activation: Activation,
    ) -> Result<TensorId, NetworkError> {
        use trtx::ActivationType as A;
        let kind = match activation {
            Activation::Relu => A::kRELU,
            Activation::Sigmoid => A::kSIGMOID,
            Activation::Tanh => A::kTANH,
            Activation::Softsign => A::kSOFTSIGN,
            Activation::GeluErf => A::kGELU_ERF,
            Activation::GeluTanh => A::kGELU_TANH,
            _ => return self.decomposed_activation(input, activation),
        };
        let t = self.t(input)?;
        let layer = self
            .network
            .add_activation(&t, kind)
            .map_err(|e| trt_err("addActivation", e))?;
        self.push_layer_output("addActivation", &layer, 0)
    }

    pub(crate) fn add_reduce(
        &mut self,
        input: TensorId,
        op: ReduceOp,
        axes: u32,
        keep_dims: bool,
    ) -> Result<TensorId, NetworkError> {
        let t = self.t(input)?;
        let layer = self
            .network
            .add_reduce(&t, red(op), Axes::from_bits(axes), keep_dims)
            .map_err(|e| trt_err("addReduce", e))?;
        self.push_layer_output("addReduce", &layer, 0)
    }

    pub(crate) fn add_softmax(
        &mut self,
        input: TensorId,
        axis: u32,
    ) -> Result<TensorId, NetworkError> {
        let t = self.t(input)?;
        if axis >= 32 {
            return Err(NetworkError::layer(
                "softmax",
                format!("axis {axis} out of range"),
            ));
        }
        let layer = self
            .network
            .add_softmax(&t, Axes::from_bits(1 << axis))
            .map_err(|e| trt_err("addSoftMax", e))?;
        self.push_layer_output("addSoftMax", &layer, 0)
    }

    pub(crate) fn add_shuffle(
        &mut self,
        input: TensorId,
        params: &ShuffleParams,
    ) -> Result<TensorId, NetworkError> {
        if !params.zero_is_placeholder {
            let ok = params.reshape.is_none()
                || matches!(&params.reshape, Some(ShapeArg::Static(v)) if !v.contains(&0));
            if !ok {
                return Err(unsupported(
                    "IShuffleLayer::setZeroIsPlaceholder(false) with zeros or a shape tensor",
                ));
            }
        }
        let t = self.t(input)?;
        let mut layer = self
            .network
            .add_shuffle(&t)
            .map_err(|e| trt_err("addShuffle", e))?;
        if let Some(p) = &params.first_transpose {
            layer
                .set_first_transpose(&mut self.network, p)
                .map_err(|e| trt_err("setFirstTranspose", e))?;
        }
        match &params.reshape {
            Some(ShapeArg::Static(v)) => layer
                .set_reshape_dimensions(&mut self.network, v)
                .map_err(|e| trt_err("setReshapeDimensions", e))?,
            Some(arg @ ShapeArg::Tensor(_)) => self.set_shape_input(&mut layer, 1, arg)?,
            None => {}
        }
        if let Some(p) = &params.second_transpose {
            layer
                .set_second_transpose(&mut self.network, p)
                .map_err(|e| trt_err("setSecondTranspose", e))?;
        }
        self.push_layer_output("addShuffle", &layer, 0)
    }

    pub(crate) fn add_slice(
        &mut self,
        input: TensorId,
        params: &SliceParams,
    ) -> Result<TensorId, NetworkError> {
        if params.mode != SliceMode::StrictBounds || params.fill_value.is_some() {
            return Err(unsupported(format!(
                "ISliceLayer::setMode({:?}) is not exposed",
                params.mode
            )));
        }
        let t = self.t(input)?;
        let rank = self.tensor_desc(input)?.rank();
        let mut layer = self
            .network
            .add_slice(
                &t,
                &static_or_zeros(&params.start, rank),
                &static_or_zeros(&params.size, rank),
                &static_or_zeros(&params.stride, rank),
            )
            .map_err(|e| trt_err("addSlice", e))?;
        self.set_shape_input(&mut layer, 1, &params.start)?;
        self.set_shape_input(&mut layer, 2, &params.size)?;
        self.set_shape_input(&mut layer, 3, &params.stride)?;
        self.push_layer_output("addSlice", &layer, 0)
    }

    pub(crate) fn add_concatenation(
        &mut self,
        inputs: &[TensorId],
        axis: u32,
    ) -> Result<TensorId, NetworkError> {
        let ts = inputs
            .iter()
            .map(|t| self.t(*t))
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&trtx::Tensor<'static>> = ts.iter().collect();
        let mut layer = self
            .network
            .add_concatenation(&refs)
            .map_err(|e| trt_err("addConcatenation", e))?;
        layer.set_axis(&mut self.network, axis as i32);
        self.push_layer_output("addConcatenation", &layer, 0)
    }

    pub(crate) fn add_gather(
        &mut self,
        data: TensorId,
        indices: TensorId,
        axis: u32,
        mode: GatherMode,
    ) -> Result<TensorId, NetworkError> {
        let (td, ti) = (self.t(data)?, self.t(indices)?);
        let mut layer = self
            .network
            .add_gather(&td, &ti, axis as i32)
            .map_err(|e| trt_err("addGather", e))?;
        let m = match mode {
            GatherMode::Default => None,
            GatherMode::Element => Some(trtx::GatherMode::kELEMENT),
            GatherMode::Nd => Some(trtx::GatherMode::kND),
        };
        if let Some(m) = m {
            layer.set_gather_mode(&mut self.network, m);
        }
        self.push_layer_output("addGather", &layer, 0)
    }

    pub(crate) fn add_select(
        &mut self,
        condition: TensorId,
        then_value: TensorId,
        else_value: TensorId,
    ) -> Result<TensorId, NetworkError> {
        let (c, a, b) = (self.t(condition)?, self.t(then_value)?, self.t(else_value)?);
        let layer = self
            .network
            .add_select(&c, &a, &b)
            .map_err(|e| trt_err("addSelect", e))?;
        self.push_layer_output("addSelect", &layer, 0)
    }

    pub(crate) fn add_cast(
        &mut self,
        input: TensorId,
        dtype: TrtDataType,
    ) -> Result<TensorId, NetworkError> {
        let t = self.t(input)?;
        let layer = self
            .network
            .add_cast(&t, dt(dtype))
            .map_err(|e| trt_err("addCast", e))?;
        self.push_layer_output("addCast", &layer, 0)
    }

    pub(crate) fn add_shape(&mut self, input: TensorId) -> Result<TensorId, NetworkError> {
        let t = self.t(input)?;
        let layer = self
            .network
            .add_shape(&t)
            .map_err(|e| trt_err("addShape", e))?;
        self.push_layer_output("addShape", &layer, 0)
    }

    pub(crate) fn add_identity(&mut self, input: TensorId) -> Result<TensorId, NetworkError> {
        let t = self.t(input)?;
        let layer = self
            .network
            .add_identity(&t)
            .map_err(|e| trt_err("addIdentity", e))?;
        self.push_layer_output("addIdentity", &layer, 0)
    }

    pub(crate) fn add_pooling_nd(
        &mut self,
        input: TensorId,
        params: &PoolingParams,
    ) -> Result<TensorId, NetworkError> {
        use trtx::PaddingMode as P;
        use trtx::PoolingType as T;
        let t = self.t(input)?;
        let kind = match params.kind {
            PoolingType::Max => T::kMAX,
            PoolingType::Average => T::kAVERAGE,
            PoolingType::MaxAverageBlend => T::kMAX_AVERAGE_BLEND,
        };
        if params.window.len() < 2 {
            return Err(NetworkError::layer("pooling", "window needs 2 or 3 dims"));
        }
        let mut layer = self
            .network
            .add_pooling(&t, kind, &[params.window[0], params.window[1]])
            .map_err(|e| trt_err("addPoolingNd", e))?;
        let net = &mut self.network;
        layer.set_window_size_nd(net, &params.window);
        layer.set_stride_nd(net, &params.stride);
        layer.set_pre_padding(net, &params.pre_padding);
        layer.set_post_padding(net, &params.post_padding);
        layer.set_padding_mode(
            net,
            match params.padding_mode {
                PaddingMode::ExplicitRoundDown => P::kEXPLICIT_ROUND_DOWN,
                PaddingMode::ExplicitRoundUp => P::kEXPLICIT_ROUND_UP,
                PaddingMode::SameUpper => P::kSAME_UPPER,
                PaddingMode::SameLower => P::kSAME_LOWER,
            },
        );
        layer.set_average_count_excludes_padding(net, params.average_count_excludes_padding);
        if params.kind == PoolingType::MaxAverageBlend {
            layer.set_blend_factor(net, params.blend_factor);
        }
        self.push_layer_output("addPoolingNd", &layer, 0)
    }

    pub(crate) fn add_normalization(
        &mut self,
        input: TensorId,
        scale: TensorId,
        bias: TensorId,
        axes: u32,
        epsilon: f32,
        num_groups: i64,
    ) -> Result<TensorId, NetworkError> {
        let (x, s, b) = (self.t(input)?, self.t(scale)?, self.t(bias)?);
        let mut layer = self
            .network
            .add_normalization_v2(&x, &s, &b, Axes::from_bits(axes))
            .map_err(|e| trt_err("addNormalizationV2", e))?;
        layer.set_epsilon(&mut self.network, epsilon);
        layer.set_num_groups(&mut self.network, num_groups);
        let t = layer
            .output(&self.network, 0)
            .map_err(|e| trt_err("addNormalization", e))?;
        Ok(self.push(t))
    }

    pub(crate) fn add_topk(
        &mut self,
        input: TensorId,
        op: TopKOp,
        k: i32,
        axes: u32,
        indices_dtype: TrtDataType,
    ) -> Result<(TensorId, TensorId), NetworkError> {
        let t = self.t(input)?;
        let op = match op {
            TopKOp::Max => trtx::TopKOperation::kMAX,
            TopKOp::Min => trtx::TopKOperation::kMIN,
        };
        let layer = self
            .network
            .add_topk_with_indices(&t, op, k, Axes::from_bits(axes), dt(indices_dtype))
            .map_err(|e| trt_err("addTopK", e))?;
        let v = self.push_layer_output("addTopK", &layer, 0)?;
        let i = self.push_layer_output("addTopK", &layer, 1)?;
        Ok((v, i))
    }

    pub(crate) fn add_resize(
        &mut self,
        input: TensorId,
        params: &ResizeParams,
    ) -> Result<TensorId, NetworkError> {
        let t = self.t(input)?;
        let mut layer = self
            .network
            .add_resize(&t)
            .map_err(|e| trt_err("addResize", e))?;
        match &params.output {
            ResizeOutput::Dims(d) => layer.set_output_dimensions(&mut self.network, d),
            ResizeOutput::Scales(s) => layer.set_scales(&mut self.network, s),
            ResizeOutput::Shape(s) => self.set_shape_input(&mut layer, 1, &ShapeArg::Tensor(*s))?,
        }
        let net = &mut self.network;
        layer.set_resize_mode(
            net,
            match params.mode {
                ResizeMode::Nearest => trtx::InterpolationMode::kNEAREST,
                ResizeMode::Linear => trtx::InterpolationMode::kLINEAR,
                ResizeMode::Cubic => trtx::InterpolationMode::kCUBIC,
            },
        );
        layer.set_coordinate_transformation(
            net,
            match params.coordinate_transformation {
                ResizeCoordinateTransformation::AlignCorners => {
                    trtx::ResizeCoordinateTransformation::kALIGN_CORNERS
                }
                ResizeCoordinateTransformation::Asymmetric => {
                    trtx::ResizeCoordinateTransformation::kASYMMETRIC
                }
                ResizeCoordinateTransformation::HalfPixel => {
                    trtx::ResizeCoordinateTransformation::kHALF_PIXEL
                }
            },
        );
        layer.set_nearest_rounding(
            net,
            match params.nearest_rounding {
                ResizeRoundMode::HalfUp => trtx::ResizeRoundMode::kHALF_UP,
                ResizeRoundMode::HalfDown => trtx::ResizeRoundMode::kHALF_DOWN,
                ResizeRoundMode::Floor => trtx::ResizeRoundMode::kFLOOR,
                ResizeRoundMode::Ceil => trtx::ResizeRoundMode::kCEIL,
            },
        );
        layer.set_cubic_coeff(net, params.cubic_coeff);
        layer.set_exclude_outside(net, params.exclude_outside);
        self.push_layer_output("addResize", &layer, 0)
    }

    pub(crate) fn add_fill(&mut self, params: &FillParams) -> Result<TensorId, NetworkError> {
        let op = match params.op {
            FillOp::Linspace => trtx::FillOperation::kLINSPACE,
            FillOp::RandomUniform => trtx::FillOperation::kRANDOM_UNIFORM,
            FillOp::RandomNormal => trtx::FillOperation::kRANDOM_NORMAL,
        };
        let rank = match &params.dims {
            ShapeArg::Static(v) => v.len(),
            ShapeArg::Tensor(t) => {
                let d = self.tensor_desc(*t)?;
                d.dims.first().copied().unwrap_or(0).max(0) as usize
            }
        };
        let alpha = match &params.alpha {
            FillArg::Scalar(a) => self.constant_values(params.dtype, &[*a], true)?,
            FillArg::PerDim(v) => self.constant_values(params.dtype, v, true)?,
            FillArg::Tensor(t) => *t,
        };
        let linspace = params.op == FillOp::Linspace;
        let beta = match &params.beta {
            // Linspace's beta is one delta per output dim; random fills take a scalar.
            FillArg::Scalar(b) if linspace => {
                self.constant_values(params.dtype, &vec![*b; rank], false)?
            }
            FillArg::Scalar(b) => self.constant_values(params.dtype, &[*b], true)?,
            FillArg::PerDim(v) => self.constant_values(params.dtype, v, !linspace)?,
            FillArg::Tensor(t) => *t,
        };
        let mut layer = self
            .network
            .add_fill(&static_or_zeros(&params.dims, rank), op, dt(params.dtype))
            .map_err(|e| trt_err("addFill", e))?;
        self.set_shape_input(&mut layer, 0, &params.dims)?;
        let (ta, tb) = (self.t(alpha)?, self.t(beta)?);
        layer
            .set_input(&mut self.network, 1, &ta)
            .and_then(|_| layer.set_input(&mut self.network, 2, &tb))
            .map_err(|e| trt_err("IFillLayer::setInput", e))?;
        self.push_layer_output("addFill", &layer, 0)
    }

    pub(crate) fn add_scatter(
        &mut self,
        data: TensorId,
        indices: TensorId,
        updates: TensorId,
        mode: ScatterMode,
        axis: u32,
    ) -> Result<TensorId, NetworkError> {
        let (d, i, u) = (self.t(data)?, self.t(indices)?, self.t(updates)?);
        let m = match mode {
            ScatterMode::Element => trtx::ScatterMode::kELEMENT,
            ScatterMode::Nd => trtx::ScatterMode::kND,
        };
        let mut layer = self
            .network
            .add_scatter(&d, &i, &u, m)
            .map_err(|e| trt_err("addScatter", e))?;
        if mode == ScatterMode::Element {
            layer.set_axis(&mut self.network, axis as i32);
        }
        self.push_layer_output("addScatter", &layer, 0)
    }

    pub(crate) fn add_one_hot(
        &mut self,
        indices: TensorId,
        values: TensorId,
        depth: TensorId,
        axis: i32,
    ) -> Result<TensorId, NetworkError> {
        let (i, v, d) = (self.t(indices)?, self.t(values)?, self.t(depth)?);
        let layer = self
            .network
            .add_one_hot(&i, &v, &d, axis)
            .map_err(|e| trt_err("addOneHot", e))?;
        self.push_layer_output("addOneHot", &layer, 0)
    }

    pub(crate) fn add_cumulative(
        &mut self,
        input: TensorId,
        axis: u32,
        op: CumulativeOp,
        exclusive: bool,
        reverse: bool,
    ) -> Result<TensorId, NetworkError> {
        let t = self.t(input)?;
        let CumulativeOp::Sum = op;
        let layer = self
            .network
            .add_cumulative(
                &t,
                axis as i32,
                trtx::CumulativeOperation::kSUM,
                exclusive,
                reverse,
            )
            .map_err(|e| trt_err("addCumulative", e))?;
        self.push_layer_output("addCumulative", &layer, 0)
    }

    pub(crate) fn add_grid_sample(
        &mut self,
        input: TensorId,
        grid: TensorId,
        mode: ResizeMode,
        align_corners: bool,
        sample_mode: SliceMode,
    ) -> Result<TensorId, NetworkError> {
        let (t, g) = (self.t(input)?, self.t(grid)?);
        let sample = match sample_mode {
            SliceMode::Fill => trtx::SampleMode::kFILL,
            SliceMode::Clamp => trtx::SampleMode::kCLAMP,
            SliceMode::Reflect => trtx::SampleMode::kREFLECT,
            other => {
                return Err(unsupported(format!(
                    "IGridSampleLayer::setSampleMode({other:?}) is not a grid sample mode"
                )))
            }
        };
        let mut layer = self
            .network
            .add_grid_sample(&t, &g)
            .map_err(|e| trt_err("addGridSample", e))?;
        let net = &mut self.network;
        layer.set_interpolation_mode(
            net,
            match mode {
                ResizeMode::Nearest => trtx::InterpolationMode::kNEAREST,
                ResizeMode::Linear => trtx::InterpolationMode::kLINEAR,
                ResizeMode::Cubic => trtx::InterpolationMode::kCUBIC,
            },
        );
        layer.set_align_corners(net, align_corners);
        layer.set_sample_mode(net, sample);
        self.push_layer_output("addGridSample", &layer, 0)
    }

    pub(crate) fn add_non_zero(
        &mut self,
        input: TensorId,
        indices_dtype: TrtDataType,
    ) -> Result<TensorId, NetworkError> {
        let t = self.t(input)?;
        let layer = self
            .network
            .add_non_zero(&t, dt(indices_dtype))
            .map_err(|e| trt_err("addNonZero", e))?;
        self.push_layer_output("addNonZero", &layer, 0)
    }
}

/// Replays `recording` into a fresh TensorRT network and builds its plan with `settings`.
pub fn build_plan(
    library: &'static TrtLibrary,
    recording: &RecordedNetwork,
    settings: &BuildSettings,
) -> Result<SerializedEngine, TrtError> {
    let mut b = TrtNetworkBuilder::from_recording(library, recording)?;
    b.build_serialized_plan(settings)
}

/// Set once a weight-stripped build failed in a way that is not the network's fault: the
/// refittable build path JIT-compiles with Myelin, which needs a CUDA device, so on a machine
/// without one (this project's CI) every stripped build fails. Later segments then build with
/// their weights at once instead of failing a second build each.
static STRIP_UNAVAILABLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// [`build_plan`] of a network whose weight fields `refs` are program weights: with
/// [`BuildSettings::strip_weights`] (and at least one ref) the plan is weight-stripped and
/// refittable by those names ([`SerializedEngine::stripped`]). When the stripped build fails
/// (no CUDA device for TensorRT's JIT, or a weight TensorRT cannot refit, say one that feeds a
/// shape), the plan is built again with its weights, is not stripped, and a `warning:` line
/// says why (once per process for the missing device).
pub fn build_plan_with_refs(
    library: &'static TrtLibrary,
    recording: &RecordedNetwork,
    settings: &BuildSettings,
    refs: &WeightRefs,
) -> Result<SerializedEngine, TrtError> {
    use std::sync::atomic::Ordering;
    if !settings.strip_weights || refs.is_empty() || STRIP_UNAVAILABLE.load(Ordering::Relaxed) {
        return build_plan(library, recording, settings);
    }
    let stripped = TrtNetworkBuilder::from_recording_with_refs(library, recording, refs)
        .and_then(|mut b| b.build_serialized_plan(settings));
    match stripped {
        Ok(plan) => Ok(plan),
        Err(e) => {
            let message = e.to_string();
            let no_device = message.contains("CUDA_SUCCESS");
            if !no_device {
                eprintln!(
                    "warning: weight-stripped build failed, building with weights: {message}"
                );
            } else if !STRIP_UNAVAILABLE.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "warning: weight-stripped plans need a CUDA device for TensorRT's JIT \
                     ({}); building plans with their weights",
                    message.lines().next().unwrap_or_default()
                );
            }
            build_plan(library, recording, settings)
        }
    }
}
