//! `trtfx-backend-trt`: capability validators, converters, network builders (TensorRT FFI and a
//! recorded network with a CPU layer emulator) and engines.
//!
//! The foundation is the [`NetworkBuilder`] trait, a mirror of TensorRT's `INetworkDefinition`.
//! Converters emit into a [`RecordedNetwork`]; the recording is printed for snapshots, executed
//! by the layer emulator, or replayed into the real TensorRT(-RTX) builder (cargo feature
//! `tensorrt`, library loaded at run time; see [`tensorrt`](crate#the-tensorrt-feature)) to get a
//! serialized [`SerializedEngine`].
//!
//! # The `tensorrt` feature
//!
//! Enables `tensorrt::TrtLibrary` (loads `libtensorrt_rtx.so.1` from `TRTFX_TENSORRT_LIB` or
//! well-known locations, checking its version against the headers the binding was built with),
//! `tensorrt::TrtNetworkBuilder` and `tensorrt::build_serialized_plan`. Building it needs
//! libclang (for the `trtx` binding); `scripts/fetch-tensorrt-rtx.sh` installs that and fetches
//! the TensorRT-RTX wheel from PyPI into `target/tensorrt-rtx/`.

#![warn(missing_docs)]

pub mod build_engines;
pub mod emulator;
pub mod network;
pub mod plan_cache;
pub mod recorded;
pub mod refit;
pub mod settings;
#[cfg(feature = "tensorrt")]
pub mod tensorrt;

pub use network::{NetworkBuilder, NetworkError, TensorDesc, TensorId, TrtDataType, Weights};
pub use recorded::RecordedNetwork;
pub use settings::{BuildSettings, ComputeCapability, OptimizationProfile, SerializedEngine};
pub mod convert;
pub mod engine;
pub mod layers;
