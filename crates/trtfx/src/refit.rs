//! Refit: new weights into a compiled program, without rebuilding its plans
//! (`ir-opt refit MODEL.trtfx --weights new.safetensors`).
//!
//! Every weight is stored once, in the artifact's weight store; TensorRT segments refer to the
//! ones they read by name ([`TrtSegment::weight_refs`]) and their plans are built
//! weight-stripped, so replacing a weight in the store is all a refit needs to do to them. The
//! checks: every new weight must be a weight of the program (a parameter, buffer or constant,
//! not a copy the compiler made) with the same dtype and shape, and, unless partial updates are
//! asked for, every parameter and buffer must be given.
//!
//! The compiler's own copies follow their source: an f16/bf16 copy made by `autocast`
//! (`w_f16`) or a 32-bit copy made by `truncate-long-double` (`w_f32`, `w_i32`) is recomputed
//! from the new weight. Then each TensorRT segment is converted again from the new weights
//! (conversion only; no TensorRT build) and compared with the stored network: when only the
//! named weights differ, a stripped plan stays valid (it is refitted with those names where it
//! runs); when a constant the converters derived from a weight changed (say a kernel slice of a
//! 3-D convolution), the plan baked in the old value and is dropped with the reason, as is a
//! plan built with its weights (not stripped) that reads a changed weight. The recorded
//! networks, which the layer emulator runs, are always the new ones.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use indexmap::IndexMap;
use trtfx_backend_trt::build_engines::convert_segment;
use trtfx_backend_trt::convert::ConverterRegistry;
use trtfx_backend_trt::refit::{refit_refs, weight_fields_mut};
use trtfx_backend_trt::{BuildSettings, RecordedNetwork};
use trtfx_ir::elements::{decode, encode};
use trtfx_ir::{DType, InputKind, Weight};

use crate::compile::{CompiledProgram, TrtSegment};

/// How [`CompiledProgram::refit`] treats weights the new set does not give.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefitOptions {
    /// Allow a subset: weights not given keep their values. Off (the default), every
    /// parameter and buffer of the program must be given, so a file missing one (a typo, a
    /// state dict of another model) is an error rather than a half-updated model.
    pub partial: bool,
}

/// What happened to one TensorRT segment's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanRefit {
    /// The segment reads none of the changed weights.
    Unchanged,
    /// A weight-stripped plan: it stays, and is refitted with its named weights (now the new
    /// ones) where it runs.
    Refitted {
        /// Changed weights among its refit weights.
        changed: usize,
    },
    /// The plan was dropped (recompile to rebuild it); the recorded network still runs.
    Dropped {
        /// Why.
        reason: String,
    },
    /// The segment had no plan.
    NoPlan,
}

/// The result of [`CompiledProgram::refit`].
#[derive(Debug, Clone, Default)]
pub struct RefitReport {
    /// Weights replaced, in the order given.
    pub updated: Vec<String>,
    /// Compiler-made copies recomputed from a new weight (`w_f16`).
    pub recomputed: Vec<String>,
    /// Per TensorRT segment (execution order): subgraph name and what happened to its plan.
    pub segments: Vec<(String, PlanRefit)>,
}

impl RefitReport {
    /// One line: `refitted 16 weights (2 copies recomputed); plans: 1 refitted, 0 dropped, ...`.
    pub fn summary(&self) -> String {
        let count = |f: fn(&PlanRefit) -> bool| self.segments.iter().filter(|(_, p)| f(p)).count();
        let mut s = format!("refitted {} weight(s)", self.updated.len());
        if !self.recomputed.is_empty() {
            s.push_str(&format!(" ({} copies recomputed)", self.recomputed.len()));
        }
        s.push_str(&format!(
            "; plans: {} refitted (weight-stripped), {} unchanged, {} dropped, {} segment(s) without a plan",
            count(|p| matches!(p, PlanRefit::Refitted { .. })),
            count(|p| matches!(p, PlanRefit::Unchanged)),
            count(|p| matches!(p, PlanRefit::Dropped { .. })),
            count(|p| matches!(p, PlanRefit::NoPlan)),
        ));
        s
    }
}

/// Reads a safetensors file of weights (a PyTorch `state_dict` saved with
/// `safetensors.torch.save_file`), under the member-size limit.
pub fn read_weights(path: &Path) -> Result<IndexMap<String, Weight>, String> {
    let limits = trtfx_ir::Limits::from_env().map_err(|e| format!("{}: {e}", path.display()))?;
    let bytes = crate::store::read_limited(path, limits.max_member_bytes, "TRTFX_MAX_MEMBER_BYTES")
        .map_err(|e| e.to_string())?;
    let mut weights = crate::store::weights_from_safetensors(&bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // By name, so the weight an error names does not depend on the file's layout.
    weights.sort_keys();
    Ok(weights)
}

/// The dtype a compiler copy suffix stands for.
fn suffix_dtype(s: &str) -> Option<DType> {
    match s {
        "f16" => Some(DType::F16),
        "bf16" => Some(DType::BF16),
        "f32" => Some(DType::F32),
        "i32" => Some(DType::I32),
        _ => None,
    }
}

/// `w` converted to `to` the way the compiler's passes make their copies (round to nearest
/// even; `None` when a finite value does not fit, or an integer is out of range).
fn cast_copy(w: &Weight, to: DType) -> Result<Option<Vec<u8>>, String> {
    let bytes = w.bytes()?;
    Ok(match (w.dtype, to) {
        (DType::F32, DType::F16) => {
            let v = decode::<f32>(&bytes)?;
            let h: Vec<half::f16> = v.iter().map(|&x| half::f16::from_f32(x)).collect();
            let overflow = v
                .iter()
                .zip(&h)
                .any(|(x, y)| x.is_finite() && !y.is_finite());
            (!overflow).then(|| encode(&h))
        }
        (DType::F32, DType::BF16) => {
            let v = decode::<f32>(&bytes)?;
            let h: Vec<half::bf16> = v.iter().map(|&x| half::bf16::from_f32(x)).collect();
            let overflow = v
                .iter()
                .zip(&h)
                .any(|(x, y)| x.is_finite() && !y.is_finite());
            (!overflow).then(|| encode(&h))
        }
        (DType::F64, DType::F32) => {
            let v = decode::<f64>(&bytes)?;
            Some(encode(&v.iter().map(|&x| x as f32).collect::<Vec<_>>()))
        }
        (DType::I64, DType::I32) => {
            let v = decode::<i64>(&bytes)?;
            let w: Option<Vec<i32>> = v.iter().map(|&x| i32::try_from(x).ok()).collect();
            w.map(|w| encode(&w))
        }
        _ => None,
    })
}

/// The compiler-made copies among the program's weights: copy → (source, dtype). A weight is a
/// copy when its name is `<source>_<f16|bf16|f32|i32>` (optionally `_<n>`, the passes'
/// de-duplication), the source exists with the same shape, and its bytes are exactly the
/// source converted, so a user weight that merely has such a name is never taken for one.
fn derived_copies(weights: &IndexMap<String, Weight>) -> BTreeMap<String, (String, DType)> {
    let mut out = BTreeMap::new();
    for (name, w) in weights {
        let mut stem = name.as_str();
        if let Some((head, tail)) = stem.rsplit_once('_') {
            if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
                stem = head;
            }
        }
        let candidates = [name.as_str(), stem];
        for c in candidates {
            let Some((source, suffix)) = c.rsplit_once('_') else {
                continue;
            };
            let Some(to) = suffix_dtype(suffix) else {
                continue;
            };
            let Some(src) = weights.get(source) else {
                continue;
            };
            if w.dtype != to || src.shape != w.shape || src.dtype == to {
                continue;
            }
            if let (Ok(Some(copy)), Ok(have)) = (cast_copy(src, to), w.bytes()) {
                if copy == *have {
                    out.insert(name.clone(), (source.to_string(), to));
                    break;
                }
            }
        }
    }
    out
}

/// A changed weight that a stripped plan holds rather than refits (an integer weight), if any.
fn baked_in_changed<'a>(t: &'a TrtSegment, changed: &HashSet<String>) -> Option<&'a String> {
    let refit: HashSet<String> = refit_refs(&t.network, &t.weight_refs)
        .into_values()
        .collect();
    t.weight_refs
        .values()
        .find(|w| changed.contains(*w) && !refit.contains(*w))
}

/// `net` with the payloads of the fields in `refs` emptied: what must not change for a plan
/// to stay valid when only those weights do.
fn without_refs(net: &RecordedNetwork, refs: &BTreeMap<String, String>) -> RecordedNetwork {
    let mut net = net.clone();
    for (i, layer) in net.layers.iter_mut().enumerate() {
        for (field, w) in weight_fields_mut(&mut layer.op) {
            if refs.contains_key(&format!("{i}.{field}")) {
                w.bytes = std::sync::Arc::from(Vec::new());
            }
        }
    }
    net
}

fn dims(shape: &[i64]) -> String {
    format!(
        "[{}]",
        shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

impl CompiledProgram {
    /// The parameters and buffers of the program (signature order): what a full refit must
    /// give.
    pub fn state_weights(&self) -> Vec<String> {
        self.program
            .signature
            .inputs
            .iter()
            .filter_map(|k| match k {
                InputKind::Parameter { target } | InputKind::Buffer { target, .. } => {
                    Some(target.clone())
                }
                _ => None,
            })
            .filter(|t| self.program.weights.contains_key(t))
            .collect()
    }

    /// Replaces weights without rebuilding plans (see the module docs). `new` maps weight names
    /// to their new values; each must name a weight of the program with the same dtype and
    /// shape. On error nothing is changed; the message is one line naming the weight and the
    /// mismatch.
    pub fn refit(
        &mut self,
        new: &IndexMap<String, Weight>,
        options: &RefitOptions,
    ) -> Result<RefitReport, String> {
        let copies = derived_copies(&self.program.weights);
        for (name, w) in new {
            if let Some((source, _)) = copies.get(name) {
                return Err(format!(
                    "weight `{name}` is a copy the compiler made of `{source}`; give `{source}` \
                     instead"
                ));
            }
            let Some(old) = self.program.weights.get(name) else {
                return Err(format!(
                    "unknown weight `{name}`: the program has no weight of that name ({} \
                     weights, e.g. {})",
                    self.program.weights.len(),
                    self.program
                        .weights
                        .keys()
                        .filter(|k| !copies.contains_key(*k))
                        .take(3)
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            };
            if w.dtype != old.dtype {
                return Err(format!(
                    "weight `{name}`: dtype {} does not match the program's {}",
                    w.dtype, old.dtype
                ));
            }
            if w.shape != old.shape {
                return Err(format!(
                    "weight `{name}`: shape {} does not match the program's {}",
                    dims(&w.shape),
                    dims(&old.shape)
                ));
            }
            w.bytes().map_err(|e| format!("weight `{name}`: {e}"))?;
        }
        if !options.partial {
            let missing: Vec<String> = self
                .state_weights()
                .into_iter()
                .filter(|n| !new.contains_key(n))
                .collect();
            if let Some(first) = missing.first() {
                let more = match missing.len() {
                    1 => String::new(),
                    n => format!(" and {} more", n - 1),
                };
                return Err(format!(
                    "missing weight `{first}`{more}: a refit gives every parameter and buffer \
                     (or use partial updates, `--partial`)"
                ));
            }
        }

        // Work on a copy so that an error leaves `self` as it was.
        let mut program = self.program.clone();
        let mut report = RefitReport::default();
        let mut changed: HashSet<String> = HashSet::new();
        for (name, w) in new {
            let differs = program.weights.get(name) != Some(w);
            program.weights.insert(name.clone(), w.clone());
            if differs {
                changed.insert(name.clone());
            }
            report.updated.push(name.clone());
        }
        for (copy, (source, to)) in &copies {
            if !changed.contains(source) {
                continue;
            }
            let src = &program.weights[source.as_str()];
            let bytes = cast_copy(src, *to)?.ok_or_else(|| {
                format!(
                    "weight `{source}`: the new values do not fit {to}, the type of its copy \
                     `{copy}` that the compiled program reads; recompile instead"
                )
            })?;
            let shape = src.shape.clone();
            program
                .weights
                .insert(copy.clone(), Weight::from_bytes(*to, shape, bytes));
            changed.insert(copy.clone());
            report.recomputed.push(copy.clone());
        }

        let registry = match &self.ops {
            Some(ops) => ConverterRegistry::standard().with_ops(ops.clone()),
            None => ConverterRegistry::standard(),
        };
        let mut segments: Vec<(usize, TrtSegment)> = Vec::new();
        for (si, s) in self.segments.iter().enumerate() {
            let Some(t) = &s.trt else { continue };
            let reads_changed = t.weight_refs.values().any(|w| changed.contains(w));
            let gid = program
                .graph_by_name(&s.graph)
                .ok_or_else(|| format!("segment @{}: no such graph in the program", s.graph))?;
            // Conversion only: the network the emulator runs, from the new weights.
            let fresh = convert_segment(
                &program,
                gid,
                &registry,
                false,
                &BuildSettings::default(),
                None,
            )
            .map_err(|e| format!("segment @{}: converting with the new weights: {e}", s.graph))?;
            let same_shape = fresh.weight_refs == t.weight_refs
                && without_refs(&fresh.network, &fresh.weight_refs)
                    == without_refs(&t.network, &t.weight_refs);
            let mut out = t.clone();
            out.network = fresh.network;
            out.weight_refs = fresh.weight_refs;
            let status = match &t.plan {
                None => PlanRefit::NoPlan,
                Some(_) if !same_shape => {
                    out.plan = None;
                    let reason = "refit: constants in the plan were derived from changed \
                                  weights; recompile to rebuild it"
                        .to_string();
                    out.plan_skipped = Some(reason.clone());
                    PlanRefit::Dropped { reason }
                }
                Some(_) if !reads_changed => PlanRefit::Unchanged,
                Some(p) if p.stripped && baked_in_changed(t, &changed).is_none() => {
                    PlanRefit::Refitted {
                        changed: t
                            .weight_refs
                            .values()
                            .collect::<HashSet<_>>()
                            .into_iter()
                            .filter(|w| changed.contains(*w))
                            .count(),
                    }
                }
                Some(p) => {
                    out.plan = None;
                    let reason = if p.stripped {
                        format!(
                            "refit: the plan holds weight `{}` (not refittable: an integer \
                             weight); recompile to rebuild it",
                            baked_in_changed(t, &changed).map_or("?", |w| w.as_str())
                        )
                    } else {
                        "refit: the plan was built with its weights (not weight-stripped); \
                         recompile to rebuild it"
                            .to_string()
                    };
                    out.plan_skipped = Some(reason.clone());
                    PlanRefit::Dropped { reason }
                }
            };
            out.build_time = None;
            out.plan_cache = None;
            report.segments.push((s.graph.clone(), status));
            segments.push((si, out));
        }
        for (si, t) in segments {
            self.segments[si].trt = Some(t);
        }
        self.program = program;
        Ok(report)
    }
}
