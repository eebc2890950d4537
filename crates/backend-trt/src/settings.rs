//! Optimization profiles, builder settings and serialized plans.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::network::{NetworkError, TensorDesc};

/// min/opt/max dims of one network input (`IOptimizationProfile::setDimensions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileDims {
    /// Input name (as given to `add_input`).
    pub input: String,
    /// `kMIN`.
    pub min: Vec<i64>,
    /// `kOPT`: kernels are tuned for these dims.
    pub opt: Vec<i64>,
    /// `kMAX`.
    pub max: Vec<i64>,
}

/// One optimization profile: a shape range for every dynamic input.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OptimizationProfile {
    /// Per-input ranges, in the order they were set.
    pub inputs: Vec<ProfileDims>,
}

impl OptimizationProfile {
    /// An empty profile.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the range of one input.
    pub fn set_dimensions(
        &mut self,
        input: &str,
        min: &[i64],
        opt: &[i64],
        max: &[i64],
    ) -> &mut Self {
        let dims = ProfileDims {
            input: input.to_string(),
            min: min.to_vec(),
            opt: opt.to_vec(),
            max: max.to_vec(),
        };
        match self.inputs.iter_mut().find(|p| p.input == input) {
            Some(p) => *p = dims,
            None => self.inputs.push(dims),
        }
        self
    }

    /// The range of `input`, if set.
    pub fn get(&self, input: &str) -> Option<&ProfileDims> {
        self.inputs.iter().find(|p| p.input == input)
    }

    /// Checks the profile against the network inputs (name → desc), as TensorRT does at
    /// build time: every input with a `-1` extent has a range, ranks agree, fixed extents are
    /// equal in min/opt/max, and `1 <= min <= opt <= max` (0 allowed for min and opt).
    pub fn validate<'a>(
        &self,
        inputs: impl IntoIterator<Item = (&'a str, &'a TensorDesc)>,
    ) -> Result<(), NetworkError> {
        let inputs: Vec<(&str, &TensorDesc)> = inputs.into_iter().collect();
        for p in &self.inputs {
            if !inputs.iter().any(|(n, _)| *n == p.input) {
                return Err(NetworkError::layer(
                    "optimization profile",
                    format!("no network input named {:?}", p.input),
                ));
            }
        }
        for (name, desc) in inputs {
            let Some(p) = self.get(name) else {
                if desc.dims.iter().any(|&d| d < 0) {
                    return Err(NetworkError::layer(
                        "optimization profile",
                        format!("dynamic input {name:?} {desc} has no min/opt/max range"),
                    ));
                }
                continue;
            };
            for (what, dims) in [("min", &p.min), ("opt", &p.opt), ("max", &p.max)] {
                if dims.len() != desc.rank() {
                    return Err(NetworkError::layer(
                        "optimization profile",
                        format!(
                            "input {name:?} has rank {} but its {what} dims {dims:?} have rank {}",
                            desc.rank(),
                            dims.len()
                        ),
                    ));
                }
            }
            for (i, &d) in desc.dims.iter().enumerate() {
                let (lo, mid, hi) = (p.min[i], p.opt[i], p.max[i]);
                if d >= 0 && (lo != d || mid != d || hi != d) {
                    return Err(NetworkError::layer(
                        "optimization profile",
                        format!(
                            "input {name:?} dim {i} is fixed at {d} but the profile gives \
                             {lo}/{mid}/{hi}"
                        ),
                    ));
                }
                if lo < 0 || lo > mid || mid > hi || hi < 1 {
                    return Err(NetworkError::layer(
                        "optimization profile",
                        format!(
                            "input {name:?} dim {i}: need 0 <= min <= opt <= max and max >= 1, \
                             got {lo}/{mid}/{hi}"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// GPU architecture a TensorRT-RTX plan is built for (`IBuilderConfig::setComputeCapability`).
///
/// TensorRT-RTX 1.7 knows SM 7.5, 8.0, 8.6, 8.9, 12.0 and 12.1 (no Hopper); full TensorRT builds
/// for the GPU it runs on and ignores this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ComputeCapability {
    /// The GPU present at build time (`kCURRENT`); needs a GPU.
    Current,
    /// SM 7.5 (Turing). TensorRT-RTX refuses FP32 matrix multiply there.
    Sm75,
    /// SM 8.0 (A100).
    Sm80,
    /// SM 8.6 (Ampere consumer): the default target.
    Sm86,
    /// SM 8.9 (Ada).
    Sm89,
    /// SM 12.0 (Blackwell consumer).
    Sm120,
    /// SM 12.1.
    Sm121,
}

impl ComputeCapability {
    /// `"sm86"`-style name (`"current"` for [`ComputeCapability::Current`]).
    pub fn name(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Sm75 => "sm75",
            Self::Sm80 => "sm80",
            Self::Sm86 => "sm86",
            Self::Sm89 => "sm89",
            Self::Sm120 => "sm120",
            Self::Sm121 => "sm121",
        }
    }
}

impl fmt::Display for ComputeCapability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Builder configuration for one plan (`IBuilderConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildSettings {
    /// Target architectures (TensorRT-RTX `setComputeCapability`); default `[Sm86]`.
    pub compute_capabilities: Vec<ComputeCapability>,
    /// `setMemoryPoolLimit(kWORKSPACE, ..)` in bytes; `None` keeps TensorRT's default.
    pub workspace_limit: Option<usize>,
    /// `setBuilderOptimizationLevel` (0..=5, TensorRT's default 3); `None` keeps the default.
    pub optimization_level: Option<i32>,
    /// Timing cache file. Full TensorRT reads and updates it; TensorRT-RTX has no builder
    /// timing cache (it tunes at run time), so RTX builds ignore it.
    pub timing_cache_path: Option<PathBuf>,
    /// Build weight-stripped, refittable plans (`kSTRIP_PLAN` + `kREFIT_INDIVIDUAL`): the
    /// program weights a network reads (its [`crate::refit::WeightRefs`]) are named, marked
    /// refittable and left out of the plan, which is refitted from the artifact's weight store.
    /// Default off: TensorRT-RTX builds stripped plans only with a CUDA device. A manifest
    /// written before this setting existed reads as off, as its plans were built.
    #[serde(default)]
    pub strip_weights: bool,
}

impl Default for BuildSettings {
    fn default() -> Self {
        Self {
            compute_capabilities: vec![ComputeCapability::Sm86],
            workspace_limit: None,
            optimization_level: None,
            timing_cache_path: None,
            strip_weights: false,
        }
    }
}

/// A serialized TensorRT engine ("plan") with the settings it was built with.
///
/// Engines are kept as bytes, never as live runtime objects, so a compiled program can always
/// be saved.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerializedEngine {
    /// `IHostMemory` contents from `buildSerializedNetwork`.
    pub bytes: Vec<u8>,
    /// The settings used for the build.
    pub settings: BuildSettings,
    /// Library that built it, e.g. `"TensorRT-RTX 1.7.1"`.
    pub trt_version: String,
    /// Built weight-stripped: the plan holds no refittable weights and must be refitted with
    /// the named weights of its network before it runs.
    #[serde(default)]
    pub stripped: bool,
}

impl fmt::Debug for SerializedEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SerializedEngine")
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .field("settings", &self.settings)
            .field("trt_version", &self.trt_version)
            .field("stripped", &self.stripped)
            .finish()
    }
}
