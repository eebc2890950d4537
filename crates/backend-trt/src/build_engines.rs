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
use crate::engine::{build_plan_cached, convert_graph_into, PlanOutcome};
use crate::plan_cache::{CacheUse, PlanCache};
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
            ..Default::default()
        }
    }
}

/// The TensorRT part of a segment: its network and, if built, its serialized engine.
#[derive(Debug, Clone)]
pub struct TrtSegment {
    /// The recorded network (printable, emulatable, replayable into TensorRT).
    pub network: RecordedNetwork,
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
    let (inputs, outputs) =
        convert_graph_into(program, gid, registry, &mut network).map_err(|e| e.to_string())?;
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
    match build_plan_cached(&seg.network, settings, cache) {
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
        for (gid, backend) in outlined_segments(p, p.main) {
            if backend != BACKEND {
                continue;
            }
            let graph = p.graphs[gid].name.clone();
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
            built.segments.push(BuiltSegment { graph, result });
        }
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
