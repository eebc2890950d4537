//! The `.trtfx` artifact: a zip with a versioned `manifest.json`, the partitioned program as
//! `.fxir` text, its weights as safetensors, and per TensorRT segment the recorded network
//! (`networks/<seg>.json`, constant payloads in `networks/<seg>.weights.safetensors`) and the
//! plan (`plans/<seg>.plan`). See `docs/artifact-format.md`.
//!
//! [`CompiledProgram::save`] needs no inputs; [`CompiledProgram::load`] validates the manifest
//! (format version, every member it names, consistency with the program);
//! [`CompiledProgram::run`] runs TensorRT segments on the layer emulator and the rest on the
//! executor.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Cursor, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use trtfx_backend_trt::emulator::emulate;
use trtfx_backend_trt::recorded::LayerOp;
use trtfx_backend_trt::refit::{referenced_weights, refit_refs, weight_fields, weight_fields_mut};
use trtfx_backend_trt::{BuildSettings, RecordedNetwork, SerializedEngine, Weights};
use trtfx_exec::interp::{Executor, GraphRunner, RunError, Value};
use trtfx_exec::Tensor;
use trtfx_ir::ops::{OpLibraries, OpLibrary};
use trtfx_ir::{InputSpec, OutputKind, Program};
use trtfx_passes::partition::PartitionOptions;

use crate::compile::{
    CompiledProgram, CompiledSegment, SegmentBackend, TrtSegment, UnsupportedNode,
};

/// The newest artifact format this build reads and writes. Version 2 adds embedded op
/// libraries (`op_libraries`); version 3 stores each weight once: a network's payloads that are
/// program weights are named in its `weight_refs` and read from `weights.safetensors` instead
/// of being copied into the network's payload member. An artifact is written with the oldest
/// version that can hold it (1 without libraries or refs), so older readers still load it.
pub const FORMAT_VERSION: u32 = 3;

/// The format version of artifacts without weight refs (but with op libraries).
pub const FORMAT_VERSION_NO_REFS: u32 = 2;

/// The format version of artifacts without op libraries.
pub const FORMAT_VERSION_NO_LIBRARIES: u32 = 1;

/// Errors saving, loading or running a compiled program.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// File system error. (Not a `#[source]`: the message already says it, and `anyhow`'s
    /// `{:#}` would print it twice.)
    #[error("{path}: {error}")]
    Fs {
        /// The file.
        path: String,
        /// The error.
        error: std::io::Error,
    },
    /// The artifact was written by a newer trtfx.
    #[error(
        "{path}: artifact format version {found} is newer than this trtfx ({trtfx}) supports \
         (up to {FORMAT_VERSION}); upgrade trtfx to load it"
    )]
    NewerFormat {
        /// The file.
        path: String,
        /// The manifest's version.
        found: u32,
        /// This build's version.
        trtfx: String,
    },
    /// A member the manifest names is not in the archive.
    #[error("{path}: `{member}` is missing from the archive (the manifest lists it)")]
    MissingMember {
        /// The file.
        path: String,
        /// The member.
        member: String,
    },
    /// Anything else malformed, with the member it concerns.
    #[error("{path}: {member}: {msg}")]
    Invalid {
        /// The file.
        path: String,
        /// The member (or `archive`).
        member: String,
        /// What is wrong.
        msg: String,
    },
    /// User inputs that do not match the input specs.
    #[error("{0}")]
    Input(String),
    /// Running failed.
    #[error("run failed: {0}")]
    Run(String),
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Artifact format version ([`FORMAT_VERSION`] when written by this build).
    pub format_version: u32,
    /// Version of the trtfx that wrote it.
    pub trtfx_version: String,
    /// Member holding the program text.
    pub program: String,
    /// Member holding the weights.
    pub weights: String,
    /// User input specs (name, dtype, per-dim static size or min/opt/max).
    pub inputs: Vec<InputSpec>,
    /// User outputs in order.
    pub outputs: Vec<OutputEntry>,
    /// Partition settings the program was compiled with.
    pub partition: PartitionEntry,
    /// Segments in execution order.
    pub segments: Vec<SegmentEntry>,
    /// Nodes not on TensorRT, with reasons.
    pub unsupported: Vec<UnsupportedEntry>,
    /// Op libraries of the custom operators the program calls (format version 2; absent in
    /// version 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub op_libraries: Vec<LibraryEntry>,
}

/// One embedded op library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryEntry {
    /// Member with the library in its canonical `.fxir` form (`libraries/0.fxir`).
    pub file: String,
    /// The file it was loaded from when compiling.
    pub source: String,
    /// The operators it defines (registry names).
    pub ops: Vec<String>,
}

/// One user output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputEntry {
    /// Value name in the main graph.
    pub name: String,
    /// IR type (`f32[s0,10]`).
    #[serde(rename = "type")]
    pub ty: String,
}

/// Partition settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionEntry {
    /// `min-block-size`.
    pub min_block_size: usize,
    /// `fallback-ops`.
    pub fallback_ops: Vec<String>,
    /// `require-full-compilation`.
    pub require_full_compilation: bool,
}

/// One segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentEntry {
    /// Subgraph name in the program.
    pub graph: String,
    /// `trt` or `fallback`.
    pub backend: String,
    /// Operator nodes.
    pub nodes: usize,
    /// Compute nodes (producing a tensor).
    pub compute_nodes: usize,
    /// Why a TensorRT segment runs on the executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The recorded network (TensorRT segments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkEntry>,
    /// The plan, when one was built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanEntry>,
    /// Why no plan was built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_skipped: Option<String>,
}

/// A segment's recorded network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkEntry {
    /// Member with the network JSON (constant payloads removed).
    pub file: String,
    /// Member with the constant payloads (`<layer>.<field>` → bytes) that are not program
    /// weights.
    pub weights: String,
    /// (format version 3) Layer weight fields that are program weights: `<layer>.<field>` →
    /// the weight's name in `weights.safetensors`. They are not in the payload member.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub weight_refs: BTreeMap<String, String>,
    /// Layers (inputs excluded).
    pub layers: usize,
    /// Per subgraph placeholder, the network input it feeds.
    pub input_bindings: Vec<Option<String>>,
    /// Network outputs in subgraph output order.
    pub outputs: Vec<String>,
}

/// A segment's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEntry {
    /// Member with the serialized engine.
    pub file: String,
    /// Its size in bytes.
    pub bytes: usize,
    /// Library that built it (`TensorRT-RTX 1.7.1`).
    pub tensorrt_version: String,
    /// Target architectures (`sm86`).
    pub targets: Vec<String>,
    /// Builder settings.
    pub settings: BuildSettings,
    /// (format version 3) Built weight-stripped: the plan must be refitted with
    /// `refit_weights` before it runs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stripped: bool,
    /// (format version 3) The program weights (names in `weights.safetensors`) a stripped plan
    /// is refitted with: TensorRT's refit names (`IRefitter::setNamedWeights`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refit_weights: Vec<String>,
}

/// A node not on TensorRT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsupportedEntry {
    /// Node name.
    pub node: String,
    /// Operator.
    pub op: String,
    /// Why.
    pub reason: String,
}

/// Only the version, read first so that a newer manifest with another layout still gives the
/// version error rather than a parse error.
#[derive(Deserialize)]
struct VersionProbe {
    format_version: u32,
}

/// Which runtime ran a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Runtime {
    /// The CPU executor.
    Executor,
    /// The TensorRT layer emulator on the recorded network. Plans are not executed by this
    /// build (running one needs the TensorRT runtime and a GPU it supports).
    LayerEmulator,
}

impl Runtime {
    /// `executor` or `layer-emulator`.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Executor => "executor",
            Runtime::LayerEmulator => "layer-emulator",
        }
    }
}

/// The outputs of [`CompiledProgram::run`] and which runtime ran each segment.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// User outputs in order (scalars as 0-dim tensors).
    pub outputs: Vec<Tensor>,
    /// Per segment (in execution order): subgraph name and runtime.
    pub runtimes: Vec<(String, Runtime)>,
    /// TensorRT segments actually called during the run, in call order.
    pub trt_calls: Vec<String>,
}

fn zip_err(path: &Path, member: &str, msg: impl ToString) -> ArtifactError {
    ArtifactError::Invalid {
        path: path.display().to_string(),
        member: member.to_string(),
        msg: msg.to_string(),
    }
}

/// Weight payloads taken out of a network: `(<layer>.<field>, bytes)`.
type Blobs = Vec<(String, Arc<[u8]>)>;

/// Constant payloads of a network's layers, as `(key, bytes)`; the network keeps the payloads'
/// dtype and count, with empty bytes. Weights are large and JSON number arrays are ~4x their
/// size, so they go into safetensors instead. Fields in `refs` are program weights, stored
/// once in `weights.safetensors`: they are emptied but not returned.
fn split_weights(
    net: &RecordedNetwork,
    refs: &BTreeMap<String, String>,
) -> (RecordedNetwork, Blobs) {
    let mut net = net.clone();
    let mut blobs = Vec::new();
    for (i, layer) in net.layers.iter_mut().enumerate() {
        for_each_weights(&mut layer.op, |field, w| {
            if !w.bytes.is_empty() {
                let bytes = std::mem::replace(&mut w.bytes, Arc::from(Vec::new()));
                let key = format!("{i}.{field}");
                if !refs.contains_key(&key) {
                    blobs.push((key, bytes));
                }
            }
        });
    }
    (net, blobs)
}

/// The layer fields that hold weights.
fn for_each_weights(op: &mut LayerOp, mut f: impl FnMut(&str, &mut Weights)) {
    for (field, w) in weight_fields_mut(op) {
        f(field, w);
    }
}

/// Fills the fields of `net` that `refs` names with the program weights' payloads (shared, not
/// copied: the emulator reads the artifact's weight store). A ref to a missing weight, or to
/// one whose type or size differs from the field's, is an error naming both.
pub(crate) fn resolve_refs(
    net: &mut RecordedNetwork,
    refs: &BTreeMap<String, String>,
    program: &Program,
) -> Result<(), String> {
    if refs.is_empty() {
        return Ok(());
    }
    let mut err = None;
    for (i, layer) in net.layers.iter_mut().enumerate() {
        for_each_weights(&mut layer.op, |field, w| {
            if err.is_some() {
                return;
            }
            let key = format!("{i}.{field}");
            let Some(name) = refs.get(&key) else { return };
            let Some(pw) = program.weights.get(name) else {
                err = Some(format!(
                    "`{key}` refers to weight `{name}`, which is not in the program"
                ));
                return;
            };
            let want = trtfx_backend_trt::convert::trt_dtype(pw.dtype).ok();
            let bytes = match pw.bytes() {
                Ok(b) => b,
                Err(e) => {
                    err = Some(format!("weight `{name}` (for `{key}`): {e}"));
                    return;
                }
            };
            if want != Some(w.dtype) || pw.numel() != w.count {
                err = Some(format!(
                    "`{key}` holds {} {} elements, weight `{name}` is {}{:?}",
                    w.count, w.dtype, pw.dtype, pw.shape
                ));
                return;
            }
            w.bytes = bytes;
        });
    }
    err.map_or(Ok(()), Err)
}

/// The refs of the manifest's fields that hold a payload member's key (the rest are refs).
fn check_refs_keys(net: &RecordedNetwork, refs: &BTreeMap<String, String>) -> Result<(), String> {
    let mut fields = HashSet::new();
    for (i, layer) in net.layers.iter().enumerate() {
        for (field, _) in weight_fields(&layer.op) {
            fields.insert(format!("{i}.{field}"));
        }
    }
    match refs.keys().find(|k| !fields.contains(*k)) {
        Some(k) => Err(format!("weight ref `{k}` names no layer weight field")),
        None => Ok(()),
    }
}

fn blobs_to_safetensors(blobs: &Blobs) -> Result<Vec<u8>, String> {
    let views = blobs
        .iter()
        .map(|(k, b)| {
            TensorView::new(Dtype::U8, vec![b.len()], b)
                .map(|v| (k.clone(), v))
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize(views, None).map_err(|e| e.to_string())
}

/// Puts the payloads of `bytes` (written by [`blobs_to_safetensors`]) back into `net`; the
/// fields in `refs` are left for [`resolve_refs`].
fn restore_weights(
    net: &mut RecordedNetwork,
    bytes: &[u8],
    refs: &BTreeMap<String, String>,
) -> Result<(), String> {
    let st =
        SafeTensors::deserialize(bytes).map_err(|e| crate::io::safetensors_error(bytes, &e))?;
    let mut err = None;
    for (i, layer) in net.layers.iter_mut().enumerate() {
        for_each_weights(&mut layer.op, |field, w| {
            let key = format!("{i}.{field}");
            if refs.contains_key(&key) {
                return;
            }
            let elem_bits = w.dtype.size_bits() as u64;
            let want = (w.count.max(0) as u64 * elem_bits).div_ceil(8) as usize;
            if w.bytes.is_empty() && want > 0 {
                match st.tensor(&key) {
                    Ok(v) if v.data().len() == want => w.bytes = Arc::from(v.data()),
                    Ok(v) => {
                        err.get_or_insert(format!(
                            "`{key}` has {} bytes, the network expects {want}",
                            v.data().len()
                        ));
                    }
                    Err(_) => {
                        err.get_or_insert(format!("no payload `{key}` for layer {i}"));
                    }
                }
            }
        });
    }
    err.map_or(Ok(()), Err)
}

fn member_name(graph: &str) -> String {
    // Graph names are identifiers, but keep member names safe whatever they hold.
    graph
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The user outputs of the main graph with their types.
fn output_entries(p: &Program) -> Vec<OutputEntry> {
    let g = p.main_graph();
    g.outputs()
        .iter()
        .zip(
            p.signature
                .outputs
                .iter()
                .chain(std::iter::repeat(&OutputKind::User)),
        )
        .filter(|(_, k)| matches!(k, OutputKind::User))
        .map(|(a, _)| match a.as_value() {
            Some(v) => OutputEntry {
                name: g.value(v).name.clone(),
                ty: g.ty(v).to_string(),
            },
            None => OutputEntry {
                name: a.to_string(),
                ty: "constant".into(),
            },
        })
        .collect()
}

impl CompiledProgram {
    /// The manifest [`CompiledProgram::save`] writes.
    pub fn manifest(&self) -> Manifest {
        let segments = self
            .segments
            .iter()
            .map(|s| {
                let m = member_name(&s.graph);
                let t = s.trt.as_ref();
                SegmentEntry {
                    graph: s.graph.clone(),
                    backend: s.backend.name().to_string(),
                    nodes: s.nodes,
                    compute_nodes: s.compute_nodes,
                    note: s.note.clone(),
                    network: t.map(|t| NetworkEntry {
                        file: format!("networks/{m}.json"),
                        weights: format!("networks/{m}.weights.safetensors"),
                        weight_refs: t.weight_refs.clone(),
                        layers: t.network.num_layers(),
                        input_bindings: t.input_bindings.clone(),
                        outputs: t.outputs.clone(),
                    }),
                    plan: t.and_then(|t| t.plan.as_ref()).map(|p| PlanEntry {
                        file: format!("plans/{m}.plan"),
                        bytes: p.bytes.len(),
                        tensorrt_version: p.trt_version.clone(),
                        targets: p
                            .settings
                            .compute_capabilities
                            .iter()
                            .map(|c| c.name().to_string())
                            .collect(),
                        settings: p.settings.clone(),
                        stripped: p.stripped,
                        refit_weights: match (p.stripped, t) {
                            (true, Some(t)) => {
                                referenced_weights(&refit_refs(&t.network, &t.weight_refs))
                            }
                            _ => Vec::new(),
                        },
                    }),
                    plan_skipped: t.and_then(|t| t.plan_skipped.clone()),
                }
            })
            .collect();
        let op_libraries: Vec<LibraryEntry> = self
            .libraries
            .iter()
            .enumerate()
            .map(|(i, l)| LibraryEntry {
                file: format!("libraries/{i}.fxir"),
                source: l.origin().to_string(),
                ops: l.ops().iter().map(|o| o.name.clone()).collect(),
            })
            .collect();
        let has_refs = self.trt_segments().any(|(_, t)| !t.weight_refs.is_empty());
        Manifest {
            format_version: if has_refs {
                FORMAT_VERSION
            } else if !op_libraries.is_empty() {
                FORMAT_VERSION_NO_REFS
            } else {
                FORMAT_VERSION_NO_LIBRARIES
            },
            trtfx_version: env!("CARGO_PKG_VERSION").to_string(),
            program: "program.fxir".into(),
            weights: "weights.safetensors".into(),
            inputs: self.program.input_specs.clone(),
            outputs: output_entries(&self.program),
            partition: PartitionEntry {
                min_block_size: self.partition.min_block_size,
                fallback_ops: self.partition.fallback_ops.clone(),
                require_full_compilation: self.partition.require_full_compilation,
            },
            segments,
            unsupported: self
                .unsupported
                .iter()
                .map(|u| UnsupportedEntry {
                    node: u.node.clone(),
                    op: u.op.clone(),
                    reason: u.reason.clone(),
                })
                .collect(),
            op_libraries,
        }
    }

    /// The artifact as zip bytes (what [`CompiledProgram::save`] writes).
    pub fn to_bytes(&self) -> Result<Vec<u8>, ArtifactError> {
        let here = Path::new("<artifact>");
        let manifest = self.manifest();
        let mut members: Vec<(String, Vec<u8>, bool)> = Vec::new();
        let json =
            serde_json::to_vec_pretty(&manifest).map_err(|e| zip_err(here, "manifest.json", e))?;
        members.push(("manifest.json".into(), json, true));
        members.push((
            manifest.program.clone(),
            trtfx_ir::text::print_program(&self.program).into_bytes(),
            true,
        ));
        let weights = crate::store::weights_to_safetensors(&self.program, here)
            .map_err(|e| zip_err(here, &manifest.weights, e))?;
        members.push((manifest.weights.clone(), weights, false));
        for (l, e) in self.libraries.iter().zip(&manifest.op_libraries) {
            members.push((e.file.clone(), l.to_text().into_bytes(), true));
        }
        for (s, entry) in self.segments.iter().zip(&manifest.segments) {
            let (Some(t), Some(n)) = (&s.trt, &entry.network) else {
                continue;
            };
            let (net, blobs) = split_weights(&t.network, &t.weight_refs);
            let json = serde_json::to_vec(&net).map_err(|e| zip_err(here, &n.file, e))?;
            members.push((n.file.clone(), json, true));
            let st = blobs_to_safetensors(&blobs).map_err(|e| zip_err(here, &n.weights, e))?;
            members.push((n.weights.clone(), st, false));
            if let (Some(plan), Some(pe)) = (&t.plan, &entry.plan) {
                members.push((pe.file.clone(), plan.bytes.clone(), false));
            }
        }
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes, deflate) in &members {
            // A fixed timestamp keeps artifacts byte-for-byte reproducible.
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(if *deflate {
                    zip::CompressionMethod::Deflated
                } else {
                    zip::CompressionMethod::Stored
                })
                .last_modified_time(zip::DateTime::default())
                .large_file(bytes.len() as u64 >= u32::MAX as u64);
            w.start_file(name.as_str(), opts)
                .and_then(|_| w.write_all(bytes).map_err(Into::into))
                .map_err(|e| zip_err(here, name, e))?;
        }
        let out = w.finish().map_err(|e| zip_err(here, "archive", e))?;
        Ok(out.into_inner())
    }

    /// Saves the artifact to `path` (a zip, conventionally `.trtfx`). Nothing is written when
    /// assembling it fails.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ArtifactError> {
        let path = path.as_ref();
        let bytes = self.to_bytes().map_err(|e| match e {
            ArtifactError::Invalid { member, msg, .. } => ArtifactError::Invalid {
                path: path.display().to_string(),
                member,
                msg,
            },
            e => e,
        })?;
        std::fs::write(path, bytes).map_err(|error| ArtifactError::Fs {
            path: path.display().to_string(),
            error,
        })
    }

    /// Loads an artifact written by [`CompiledProgram::save`], validating the manifest: its
    /// format version, every member it names (program, weights, networks, plans), that the
    /// program has every segment subgraph and the same input specs.
    pub fn load(path: impl AsRef<Path>) -> Result<CompiledProgram, ArtifactError> {
        let path = path.as_ref();
        let limits = trtfx_ir::Limits::from_env().map_err(|e| zip_err(path, "archive", e))?;
        let fs_err = |error| ArtifactError::Fs {
            path: path.display().to_string(),
            error,
        };
        let len = std::fs::metadata(path).map_err(fs_err)?.len();
        if len > limits.max_total_bytes {
            return Err(zip_err(
                path,
                "archive",
                format!(
                    "file too large: {len} bytes, more than the limit of {} \
                     (TRTFX_MAX_TOTAL_BYTES)",
                    limits.max_total_bytes
                ),
            ));
        }
        let bytes = std::fs::read(path).map_err(fs_err)?;
        Self::from_bytes_with_limits(&bytes, path, &limits)
    }

    /// [`CompiledProgram::load`] from bytes with the default limits; `origin` names the
    /// artifact in errors.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<CompiledProgram, ArtifactError> {
        Self::from_bytes_with_limits(bytes, origin, &trtfx_ir::Limits::default())
    }

    /// [`CompiledProgram::from_bytes`] with explicit limits: JSON and text members are read
    /// under [`trtfx_ir::Limits::max_metadata_bytes`], weights and plans under
    /// [`trtfx_ir::Limits::max_member_bytes`], all of them streaming (a member that inflates
    /// past its declared size stops there), and the program is validated.
    pub fn from_bytes_with_limits(
        bytes: &[u8],
        origin: &Path,
        limits: &trtfx_ir::Limits,
    ) -> Result<CompiledProgram, ArtifactError> {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| zip_err(origin, "archive", format!("not a .trtfx (zip) file: {e}")))?;
        let mut total = 0u64;
        let mut read = |name: &str| -> Result<Vec<u8>, ArtifactError> {
            let f = zip.by_name(name).map_err(|e| match e {
                zip::result::ZipError::FileNotFound => ArtifactError::MissingMember {
                    path: origin.display().to_string(),
                    member: name.to_string(),
                },
                e => zip_err(origin, name, e),
            })?;
            let metadata = name.ends_with(".json") || name.ends_with(".fxir");
            let (cap, var) = if metadata {
                (limits.max_metadata_bytes, "TRTFX_MAX_METADATA_BYTES")
            } else {
                (limits.max_member_bytes, "TRTFX_MAX_MEMBER_BYTES")
            };
            let size = f.size();
            if size > cap {
                return Err(zip_err(
                    origin,
                    name,
                    format!("inflates to {size} bytes, more than the limit of {cap} ({var})"),
                ));
            }
            total = total.saturating_add(size);
            if total > limits.max_total_bytes {
                return Err(zip_err(
                    origin,
                    name,
                    format!(
                        "the artifact inflates to more than the limit of {} bytes \
                         (TRTFX_MAX_TOTAL_BYTES)",
                        limits.max_total_bytes
                    ),
                ));
            }
            let mut buf = Vec::with_capacity(size.min(1 << 30) as usize);
            f.take(size + 1)
                .read_to_end(&mut buf)
                .map_err(|e| zip_err(origin, name, e))?;
            if buf.len() as u64 != size {
                return Err(zip_err(
                    origin,
                    name,
                    format!("inflates to more than the {size} bytes its directory entry declares"),
                ));
            }
            Ok(buf)
        };
        let mbytes = read("manifest.json")?;
        let probe: VersionProbe = serde_json::from_slice(&mbytes)
            .map_err(|e| zip_err(origin, "manifest.json", format!("invalid JSON: {e}")))?;
        if probe.format_version > FORMAT_VERSION {
            return Err(ArtifactError::NewerFormat {
                path: origin.display().to_string(),
                found: probe.format_version,
                trtfx: env!("CARGO_PKG_VERSION").to_string(),
            });
        }
        let manifest: Manifest = serde_json::from_slice(&mbytes)
            .map_err(|e| zip_err(origin, "manifest.json", format!("invalid manifest: {e}")))?;

        let text = read(&manifest.program)?;
        let text = String::from_utf8(text)
            .map_err(|_| zip_err(origin, &manifest.program, "not UTF-8 text"))?;
        let wbytes = read(&manifest.weights)?;
        let weights = crate::store::weights_from_safetensors(&wbytes)
            .map_err(|e| zip_err(origin, &manifest.weights, e))?;
        let program = trtfx_ir::text::parse_program_with_weights(&text, weights)
            .map_err(|e| zip_err(origin, &manifest.program, crate::store::parse_error(&e)))?;
        trtfx_ir::validate_program(&program, limits)
            .map_err(|e| zip_err(origin, &manifest.program, e))?;
        if program.input_specs != manifest.inputs {
            return Err(zip_err(
                origin,
                "manifest.json",
                "the input specs differ from the program's",
            ));
        }

        let mut libraries = OpLibraries::new();
        for e in &manifest.op_libraries {
            let text = String::from_utf8(read(&e.file)?)
                .map_err(|_| zip_err(origin, &e.file, "not UTF-8 text"))?;
            let lib = OpLibrary::parse(&text, &e.source)
                .map_err(|err| zip_err(origin, &e.file, err.message))?;
            libraries
                .add(lib)
                .map_err(|err| zip_err(origin, &e.file, err.message))?;
        }

        let mut segments = Vec::with_capacity(manifest.segments.len());
        for e in &manifest.segments {
            let gid = program
                .graphs
                .iter()
                .find(|(_, g)| g.name == e.graph)
                .map(|(id, _)| id)
                .ok_or_else(|| {
                    zip_err(
                        origin,
                        &manifest.program,
                        format!("no graph @{} (a segment in the manifest)", e.graph),
                    )
                })?;
            let backend = match e.backend.as_str() {
                "trt" => SegmentBackend::Trt,
                "fallback" => SegmentBackend::Fallback,
                other => {
                    return Err(zip_err(
                        origin,
                        "manifest.json",
                        format!("segment @{}: unknown backend `{other}`", e.graph),
                    ))
                }
            };
            let trt = match (&e.network, backend) {
                (Some(n), SegmentBackend::Trt) => {
                    let mut network: RecordedNetwork = serde_json::from_slice(&read(&n.file)?)
                        .map_err(|err| zip_err(origin, &n.file, format!("invalid JSON: {err}")))?;
                    check_refs_keys(&network, &n.weight_refs).map_err(|err| {
                        zip_err(
                            origin,
                            "manifest.json",
                            format!("segment @{}: {err}", e.graph),
                        )
                    })?;
                    restore_weights(&mut network, &read(&n.weights)?, &n.weight_refs)
                        .map_err(|err| zip_err(origin, &n.weights, err))?;
                    resolve_refs(&mut network, &n.weight_refs, &program).map_err(|err| {
                        zip_err(
                            origin,
                            "manifest.json",
                            format!("segment @{}: {err}", e.graph),
                        )
                    })?;
                    network.validate().map_err(|err| {
                        zip_err(origin, &n.file, format!("invalid recorded network: {err}"))
                    })?;
                    let inputs: HashSet<&str> = network.inputs().map(|(name, _)| name).collect();
                    let marked: HashSet<&str> =
                        network.outputs.iter().map(|o| o.name.as_str()).collect();
                    let unknown_input = n
                        .input_bindings
                        .iter()
                        .flatten()
                        .find(|b| !inputs.contains(b.as_str()));
                    let unknown_output = n.outputs.iter().find(|o| !marked.contains(o.as_str()));
                    if let Some(b) = unknown_input {
                        return Err(zip_err(
                            origin,
                            "manifest.json",
                            format!(
                                "segment @{}: input binding `{b}` is not a network input",
                                e.graph
                            ),
                        ));
                    }
                    if let Some(o) = unknown_output {
                        return Err(zip_err(
                            origin,
                            "manifest.json",
                            format!("segment @{}: output `{o}` is not a network output", e.graph),
                        ));
                    }
                    let placeholders = program.graphs[gid].placeholders().len();
                    if n.input_bindings.len() != placeholders {
                        return Err(zip_err(
                            origin,
                            "manifest.json",
                            format!(
                                "segment @{}: {} input bindings for {placeholders} placeholders",
                                e.graph,
                                n.input_bindings.len()
                            ),
                        ));
                    }
                    let plan = match &e.plan {
                        Some(pe) => {
                            let bytes = read(&pe.file)?;
                            if bytes.len() != pe.bytes {
                                return Err(zip_err(
                                    origin,
                                    &pe.file,
                                    format!(
                                        "{} bytes, the manifest says {}",
                                        bytes.len(),
                                        pe.bytes
                                    ),
                                ));
                            }
                            if pe.stripped {
                                let want =
                                    referenced_weights(&refit_refs(&network, &n.weight_refs));
                                if pe.refit_weights != want {
                                    return Err(zip_err(
                                        origin,
                                        "manifest.json",
                                        format!(
                                            "segment @{}: the stripped plan's refit weights \
                                             differ from the network's weight refs",
                                            e.graph
                                        ),
                                    ));
                                }
                            }
                            Some(SerializedEngine {
                                bytes,
                                settings: pe.settings.clone(),
                                trt_version: pe.tensorrt_version.clone(),
                                stripped: pe.stripped,
                            })
                        }
                        None => None,
                    };
                    Some(TrtSegment {
                        network,
                        weight_refs: n.weight_refs.clone(),
                        input_bindings: n.input_bindings.clone(),
                        outputs: n.outputs.clone(),
                        plan,
                        plan_skipped: e.plan_skipped.clone(),
                        build_time: None,
                        plan_cache: None,
                    })
                }
                (None, SegmentBackend::Fallback) => None,
                _ => {
                    return Err(zip_err(
                        origin,
                        "manifest.json",
                        format!(
                            "segment @{}: a {} segment {} a network",
                            e.graph,
                            e.backend,
                            if e.network.is_some() {
                                "with"
                            } else {
                                "without"
                            }
                        ),
                    ))
                }
            };
            let (_, _, ops) = crate::compile::census(&program.graphs[gid]);
            segments.push(CompiledSegment {
                graph: e.graph.clone(),
                backend,
                nodes: e.nodes,
                compute_nodes: e.compute_nodes,
                ops,
                trt,
                note: e.note.clone(),
            });
        }
        let ops = if libraries.is_empty() {
            None
        } else {
            libraries
                .check_program(&program)
                .map_err(|err| zip_err(origin, "manifest.json", err.to_string()))?;
            Some(Arc::new(libraries.registry().map_err(|err| {
                zip_err(origin, "manifest.json", err.to_string())
            })?))
        };
        Ok(CompiledProgram {
            program,
            segments,
            unsupported: manifest
                .unsupported
                .iter()
                .map(|u| UnsupportedNode {
                    node: u.node.clone(),
                    op: u.op.clone(),
                    reason: u.reason.clone(),
                })
                .collect(),
            partition: PartitionOptions {
                min_block_size: manifest.partition.min_block_size,
                fallback_ops: manifest.partition.fallback_ops.clone(),
                require_full_compilation: manifest.partition.require_full_compilation,
            },
            kernels: HashMap::new(),
            libraries,
            ops,
        })
    }

    /// Checks user inputs against the program's input specs (count, dtype, rank, static sizes,
    /// dynamic ranges, one value per symbol).
    pub fn check_inputs(&self, inputs: &[Tensor]) -> Result<(), ArtifactError> {
        let values: Vec<Value> = inputs.iter().cloned().map(Value::Tensor).collect();
        Executor::new(&self.program)
            .check_inputs(&values)
            .map_err(|e| ArtifactError::Input(e.to_string()))
    }

    /// Runs the program on user inputs (signature order): TensorRT segments on the layer
    /// emulator over their recorded networks, everything else on the executor. The result says
    /// which runtime ran each segment.
    pub fn run(&self, inputs: &[Tensor]) -> Result<RunOutput, ArtifactError> {
        self.check_inputs(inputs)?;
        let mut ex = Executor::new(&self.program);
        if let Some(ops) = &self.ops {
            ex.set_ops(ops.clone());
        }
        for (op, k) in &self.kernels {
            ex.register_kernel(op.clone(), k.clone());
        }
        let calls: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut runtimes = Vec::with_capacity(self.segments.len());
        for s in &self.segments {
            let Some(t) = &s.trt else {
                runtimes.push((s.graph.clone(), Runtime::Executor));
                continue;
            };
            let gid = self
                .program
                .graphs
                .iter()
                .find(|(_, g)| g.name == s.graph)
                .map(|(id, _)| id)
                .ok_or_else(|| ArtifactError::Run(format!("no graph @{}", s.graph)))?;
            ex.override_graph(gid, emulator_runner(&s.graph, t, calls.clone()));
            runtimes.push((s.graph.clone(), Runtime::LayerEmulator));
        }
        let values: Vec<Value> = inputs.iter().cloned().map(Value::Tensor).collect();
        let outs = ex.run(&values).map_err(|e| match e {
            RunError::Input(m) => ArtifactError::Input(format!("input error: {m}")),
            e => ArtifactError::Run(e.to_string()),
        })?;
        let outputs = outs
            .into_iter()
            .map(|v| match v {
                Value::Tensor(t) => Ok(t),
                Value::Int(i) => Ok(Tensor::scalar(i)),
                Value::Float(f) => Ok(Tensor::scalar(f)),
                Value::Bool(b) => Ok(Tensor::scalar(b)),
                other => Err(ArtifactError::Run(format!(
                    "an output of kind {} is not a tensor",
                    other.kind()
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let trt_calls = calls.lock().map(|c| c.clone()).unwrap_or_default();
        Ok(RunOutput {
            outputs,
            runtimes,
            trt_calls,
        })
    }
}

/// Runs one TensorRT segment's recorded network on the layer emulator: the subgraph's
/// placeholders bound to network inputs are passed by name, the rest (weights, symbolic sizes)
/// are already inside the network.
fn emulator_runner(graph: &str, t: &TrtSegment, calls: Arc<Mutex<Vec<String>>>) -> GraphRunner {
    let net = Arc::new(t.network.clone());
    let bindings = t.input_bindings.clone();
    let outputs = t.outputs.clone();
    let graph = graph.to_string();
    Arc::new(move |args: &[Value]| {
        if let Ok(mut c) = calls.lock() {
            c.push(graph.clone());
        }
        let mut inputs: Vec<(&str, Tensor)> = Vec::new();
        for (i, b) in bindings.iter().enumerate() {
            let Some(name) = b else { continue };
            match args.get(i) {
                Some(Value::Tensor(t)) => inputs.push((name.as_str(), t.clone())),
                Some(v) => {
                    return Err(format!(
                        "network input {name:?} needs a tensor, got {}",
                        v.kind()
                    ))
                }
                None => return Err(format!("no value for network input {name:?}")),
            }
        }
        let outs = emulate(&net, &inputs).map_err(|e| format!("layer emulator: {e}"))?;
        let mut by_name: HashMap<String, Tensor> = outs.into_iter().collect();
        outputs
            .iter()
            .map(|o| {
                by_name
                    .remove(o)
                    .map(Value::Tensor)
                    .ok_or_else(|| format!("layer emulator: output {o:?} missing"))
            })
            .collect()
    })
}
