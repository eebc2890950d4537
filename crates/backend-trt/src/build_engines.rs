//! The TensorRT backend's part of the pass pipeline: the `trt` backend (the converter
//! registry as capability) and the `build-engines` pass, registered into a
//! [`PassRegistry`] by [`register`].
//!
//! `build-engines` converts every outlined `trt` segment (`main_seg<i>_trt`) to a recorded
//! network (dynamic dims become `-1` with an optimization profile from the program's input
//! specs and symbol ranges) and, when the TensorRT library is available and `build-plans` is
//! on, builds its serialized engine. It leaves the program alone and stores the results as a
//! [`BuiltEngines`] product. A segment whose conversion fails is reported (it runs on the
//! executor), unless `require-full-compilation` is set.

use std::sync::Arc;
use std::time::Duration;

use trtfx_ir::{GraphId, Program};
use trtfx_passes::declare_options;
use trtfx_passes::options::{OptionSet, OptionType, OptionValue, PassOptions};
use trtfx_passes::partition::outlined_segments;
use trtfx_passes::{Pass, PassCx, PassError, PassOutcome, PassRegistry};

use crate::convert::ConverterRegistry;
use crate::engine::{build_plan_refittable, convert_graph_with_sources, PlanOutcome};
use crate::plan_cache::{CacheUse, PlanCache};
use crate::refit::{weight_refs, WeightRefs};
use crate::settings::{BuildSettings, ComputeCapability, SerializedEngine};
use crate::RecordedNetwork;

/// The backend id.
pub const BACKEND: &str = "trt";

/// The pass name.
pub const NAME: &str = "build-engines";

impl OptionType for ComputeCapability {
    const EXPECTED: &'static str = "a target (`sm86`, `sm89`, `current`, ...)";
    fn from_option(v: &OptionValue) -> Option<Self> {
        let OptionValue::Scalar(s) = v else {
            return None;
        };
        [
            ComputeCapability::Current,
            ComputeCapability::Sm75,
            ComputeCapability::Sm80,
            ComputeCapability::Sm86,
            ComputeCapability::Sm89,
            ComputeCapability::Sm120,
            ComputeCapability::Sm121,
        ]
        .into_iter()
        .find(|c| c.name() == s)
    }
    fn to_option(&self) -> OptionValue {
        OptionValue::Scalar(self.name().to_string())
    }
}

declare_options! {
    /// Options of `build-engines`.
    pub struct BuildEnginesOptions {
        /// Fail when a segment does not convert (instead of running it on the executor).
        require_full_compilation: bool = "require-full-compilation", false;
        /// Build plans when the TensorRT library is available (off: networks only).
        build_plans: bool = "build-plans", true;
        /// Target architectures of the plans.
        targets: Vec<ComputeCapability> = "targets", BuildSettings::default().compute_capabilities;
        /// Builder workspace limit in bytes.
        workspace_limit: Option<usize> = "workspace-limit", None;
        /// Builder optimization level.
        optimization_level: Option<i32> = "optimization-level", None;
        /// Timing cache file.
        timing_cache: Option<String> = "timing-cache", None;
        /// Plan cache directory: reuse plans built before for the same network and settings.
        plan_cache: Option<String> = "plan-cache", None;
        /// Weight-stripped, refittable plans (off: every plan holds its weights).
        strip_weights: bool = "strip-weights", false;
    }
}

impl BuildEnginesOptions {
    /// The builder settings these options describe.
    pub fn build_settings(&self) -> BuildSettings {
        BuildSettings {
            compute_capabilities: self.targets.clone(),
            workspace_limit: self.workspace_limit,
            optimization_level: self.optimization_level,
            timing_cache_path: self.timing_cache.as_ref().map(Into::into),
            strip_weights: self.strip_weights,
        }
    }

    /// The options that give `settings`.
    pub fn from_build_settings(settings: &BuildSettings) -> Self {
        BuildEnginesOptions {
            targets: settings.compute_capabilities.clone(),
            workspace_limit: settings.workspace_limit,
            optimization_level: settings.optimization_level,
            timing_cache: settings
                .timing_cache_path
                .as_ref()
                .map(|p| p.display().to_string()),
            strip_weights: settings.strip_weights,
            ..Default::default()
        }
    }
}

/// The TensorRT part of a segment: its network and, if built, its serialized engine.
#[derive(Debug, Clone)]
pub struct TrtSegment {
    /// The recorded network (printable, emulatable, replayable into TensorRT).
    pub network: RecordedNetwork,
    /// The network's weight fields that are program weights, by name
    /// ([`crate::refit`]): what the artifact stores once, and what a stripped plan is
    /// refitted with.
    pub weight_refs: WeightRefs,
    /// For each placeholder of the segment subgraph, the network input it feeds (`None` for
    /// placeholders converted to constants or symbolic sizes).
    pub input_bindings: Vec<Option<String>>,
    /// Network output names, in the subgraph's output order.
    pub outputs: Vec<String>,
    /// The serialized engine, when TensorRT was available.
    pub plan: Option<SerializedEngine>,
    /// Why there is no plan.
    pub plan_skipped: Option<String>,
    /// Build wall time (known only in the process that built the plan).
    pub build_time: Option<Duration>,
    /// What the plan cache did for this segment, when one was used (this process only).
    pub plan_cache: Option<CacheUse>,
}

/// One `trt` segment after `build-engines`.
#[derive(Debug, Clone)]
pub struct BuiltSegment {
    /// The segment subgraph's name.
    pub graph: String,
    /// The network and plan, or why the conversion failed.
    pub result: Result<TrtSegment, String>,
}

/// The [`trtfx_passes::Products`] entry `build-engines` stores.
#[derive(Debug, Clone, Default)]
pub struct BuiltEngines {
    /// Per `trt` segment, in execution order.
    pub segments: Vec<BuiltSegment>,
}

impl BuiltEngines {
    /// The entry of segment subgraph `graph`.
    pub fn get(&self, graph: &str) -> Option<&BuiltSegment> {
        self.segments.iter().find(|s| s.graph == graph)
    }
}

/// What `build-engines` reports while it works (see [`BuildProgress`]).
#[derive(Debug, Clone)]
pub enum ProgressEvent {
    /// The pass starts: `segments` TensorRT segments to convert (and build).
    Start {
        /// How many.
        segments: usize,
    },
    /// Segment `index` (0-based among the TensorRT segments) starts converting and building.
    Segment {
        /// Its position.
        index: usize,
        /// Its subgraph.
        graph: String,
    },
    /// Segment `index` is done.
    Done {
        /// Its position.
        index: usize,
        /// Its subgraph.
        graph: String,
        /// One line: `plan built in 1.20 s`, `plan cache hit`, `no plan (...)`,
        /// `conversion failed: ...`.
        outcome: String,
    },
    /// Every segment is done.
    Finish,
}

/// A progress callback for `build-engines`: insert one into the pass manager's products
/// ([`trtfx_passes::PassManager::products_mut`]) before running a pipeline, and the pass
/// calls it per segment (`ir-opt compile` draws a progress bar with it).
#[derive(Clone)]
pub struct BuildProgress(pub Arc<dyn Fn(&ProgressEvent) + Send + Sync>);

impl std::fmt::Debug for BuildProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BuildProgress")
    }
}

/// The one-line outcome of a segment for [`ProgressEvent::Done`].
fn outcome_line(result: &Result<TrtSegment, String>) -> String {
    match result {
        Err(e) => format!(
            "conversion failed: {}",
            e.lines().next().unwrap_or_default()
        ),
        Ok(t) => match (&t.plan, &t.plan_cache) {
            (Some(_), Some(CacheUse::Hit { .. })) => "plan cache hit".into(),
            (Some(p), used) => {
                let mut s = format!(
                    "plan built in {:.2} s",
                    t.build_time.unwrap_or_default().as_secs_f64()
                );
                if p.stripped {
                    s.push_str(", weight-stripped");
                }
                if let Some(u) = used {
                    s.push_str(&format!(", cache {}", u.describe()));
                }
                s
            }
            (None, _) => format!(
                "no plan ({})",
                t.plan_skipped.as_deref().unwrap_or("skipped")
            ),
        },
    }
}

/// Converts one outlined segment; builds its plan when asked and possible.
pub fn convert_segment(
    program: &Program,
    gid: GraphId,
    registry: &ConverterRegistry,
    build_plans: bool,
    settings: &BuildSettings,
    cache: Option<&PlanCache>,
) -> Result<TrtSegment, String> {
    let mut network = RecordedNetwork::new();
    let (inputs, outputs, sources) =
        convert_graph_with_sources(program, gid, registry, &mut network)
            .map_err(|e| e.to_string())?;
    let weight_refs = weight_refs(&network, &sources);
    drop(sources);
    let g = &program.graphs[gid];
    let input_bindings = g
        .placeholders()
        .iter()
        .map(|&n| {
            let name = &g.value(g.node(n).results[0]).name;
            inputs.contains(name).then(|| name.clone())
        })
        .collect();
    let mut seg = TrtSegment {
        network,
        weight_refs,
        input_bindings,
        outputs,
        plan: None,
        plan_skipped: None,
        build_time: None,
        plan_cache: None,
    };
    if !build_plans {
        seg.plan_skipped = Some("plan builds were turned off".into());
        return Ok(seg);
    }
    // A failed build keeps the network (it still runs on the emulator) and says why, rather
    // than failing the whole compile: the report shows it.
    match build_plan_refittable(&seg.network, settings, cache, &seg.weight_refs) {
        Ok((PlanOutcome::Built { plan, build_time }, used)) => {
            seg.plan = Some(plan);
            // A cache hit built nothing: no build time to report.
            if !matches!(used, Some(CacheUse::Hit { .. })) {
                seg.build_time = Some(build_time);
            }
            seg.plan_cache = used;
        }
        Ok((PlanOutcome::Skipped { reason }, _)) => seg.plan_skipped = Some(reason),
        Err(e) => seg.plan_skipped = Some(e.to_string()),
    }
    Ok(seg)
}

/// The `build-engines` pass.
pub struct BuildEngines {
    /// The options.
    pub options: BuildEnginesOptions,
    converters: Arc<ConverterRegistry>,
}

impl Pass for BuildEngines {
    fn name(&self) -> &str {
        NAME
    }

    fn options(&self) -> PassOptions {
        self.options.to_pass_options()
    }

    fn run(&mut self, p: &mut Program, cx: &mut PassCx) -> Result<PassOutcome, PassError> {
        let settings = self.options.build_settings();
        let cache = self.options.plan_cache.as_ref().map(PlanCache::new);
        let mut built = BuiltEngines::default();
        let (mut ok, mut failed, mut plans) = (0u64, 0u64, 0u64);
        let progress = cx.products().get::<BuildProgress>().cloned();
        let report = |e: ProgressEvent| {
            if let Some(p) = &progress {
                (p.0)(&e);
            }
        };
        let trt: Vec<GraphId> = outlined_segments(p, p.main)
            .into_iter()
            .filter(|(_, backend)| backend == BACKEND)
            .map(|(gid, _)| gid)
            .collect();
        report(ProgressEvent::Start {
            segments: trt.len(),
        });
        for (index, gid) in trt.into_iter().enumerate() {
            let graph = p.graphs[gid].name.clone();
            report(ProgressEvent::Segment {
                index,
                graph: graph.clone(),
            });
            let result = convert_segment(
                p,
                gid,
                &self.converters,
                self.options.build_plans,
                &settings,
                cache.as_ref(),
            );
            match &result {
                Ok(t) => {
                    ok += 1;
                    plans += t.plan.is_some() as u64;
                }
                Err(message) if self.options.require_full_compilation => {
                    return Err(PassError::new(format!(
                        "full compilation required, but segment @{graph} did not convert: \
                         {message}"
                    )));
                }
                Err(_) => failed += 1,
            }
            report(ProgressEvent::Done {
                index,
                graph: graph.clone(),
                outcome: outcome_line(&result),
            });
            built.segments.push(BuiltSegment { graph, result });
        }
        report(ProgressEvent::Finish);
        cx.stat("networks", ok);
        cx.stat("conversion-failures", failed);
        cx.stat("plans", plans);
        cx.products_mut().insert(built);
        Ok(PassOutcome::unchanged())
    }
}

/// Registers the `trt` backend (the standard converter registry as capability) and the
/// `build-engines` pass.
pub fn register(r: &mut PassRegistry) {
    register_with(r, ConverterRegistry::standard());
}

/// [`register`] with another converter registry (say the standard one with a user's
/// extended op table, [`ConverterRegistry::with_ops`], so custom operators with op-library
/// bodies convert inline).
pub fn register_with(r: &mut PassRegistry, converters: ConverterRegistry) {
    let converters = Arc::new(converters);
    r.register_backend(
        BACKEND,
        "TensorRT: nodes the converter registry's validators accept",
        converters.clone(),
    );
    r.register_declared::<BuildEnginesOptions>(
        NAME,
        "convert each outlined trt segment to a TensorRT network and build its plan",
        move |options, _| {
            Ok(Box::new(BuildEngines {
                options,
                converters: converters.clone(),
            }))
        },
    );
}
