//! The pass registry: pass names → constructors that parse options, named pipelines (with
//! options of their own, like `compile{min-block-size=5}`), and the backends that `partition`
//! and the compile pipeline can target, known only by id and capability.

use crate::options::{OptionError, OptionHelp, OptionMap, OptionReader, OptionSet};
use crate::partition::SharedCapability;
use crate::pass::Pass;
use crate::pipeline::{
    parse_elements, Element, Pipeline, PipelineError, PipelineItem, FIXPOINT_DEFAULT_MAX,
};
use crate::util::nearest;
use indexmap::IndexMap;
use std::sync::Arc;
use trtfx_ir::ops::ConstEval;

/// Builds a pass from its options (unknown keys and bad values are errors); it sees the
/// registry, for passes that look up a backend.
pub type PassCtor =
    Arc<dyn Fn(&OptionMap, &PassRegistry) -> Result<Box<dyn Pass>, OptionError> + Send + Sync>;

/// A registered pass.
#[derive(Clone)]
pub struct PassEntry {
    /// One-line description (for `--help`-style listings).
    pub description: String,
    /// The constructor.
    pub ctor: PassCtor,
    /// Its options, when declared with [`crate::declare_options!`] (empty otherwise).
    pub options: Vec<OptionHelp>,
}

/// Expands a named pipeline's options to pipeline text.
pub type PipelineExpander =
    Arc<dyn Fn(&OptionMap, &PassRegistry) -> Result<String, OptionError> + Send + Sync>;

/// A registered named pipeline.
#[derive(Clone)]
pub struct NamedPipeline {
    /// One-line description.
    pub description: String,
    /// The pipeline text it expands to (with default options, for a pipeline with options).
    pub text: String,
    /// For a pipeline with options: builds the text from them.
    pub expand: Option<PipelineExpander>,
    /// Its options (empty for a fixed pipeline).
    pub options: Vec<OptionHelp>,
}

impl std::fmt::Debug for NamedPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamedPipeline")
            .field("description", &self.description)
            .field("text", &self.text)
            .finish_non_exhaustive()
    }
}

/// A backend as the passes see it: an id (`trt`) and a capability (which nodes it takes).
/// Everything else about a backend (how it builds engines) lives in the backend's crate, which
/// registers its own passes (`build-engines`).
#[derive(Clone)]
pub struct BackendEntry {
    /// One-line description.
    pub description: String,
    /// Which nodes it can run.
    pub capability: SharedCapability,
}

/// Adaptor names the parser knows besides registered passes.
pub const ADAPTORS: &[&str] = &["fixpoint", "each-subgraph"];

/// Pass names → constructors, and named pipelines.
#[derive(Clone, Default)]
pub struct PassRegistry {
    passes: IndexMap<String, PassEntry>,
    pipelines: IndexMap<String, NamedPipeline>,
    backends: IndexMap<String, BackendEntry>,
    evaluator: Option<Arc<dyn ConstEval>>,
}

impl PassRegistry {
    /// An empty registry (only the adaptors).
    pub fn new() -> Self {
        Self::default()
    }

    /// Every built-in pass and the `default` pipeline.
    pub fn with_builtins() -> Self {
        let mut r = Self::new();
        crate::passes::register_builtins(&mut r);
        r.register_pipeline(
            "default",
            "the standard cleanup pipeline run before partitioning",
            DEFAULT_PIPELINE,
        );
        crate::compile::register(&mut r);
        r
    }

    /// Registers a pass under `name` whose constructor reads its options itself.
    pub fn register_pass(
        &mut self,
        name: &str,
        description: &str,
        ctor: impl Fn(&OptionMap) -> Result<Box<dyn Pass>, OptionError> + Send + Sync + 'static,
    ) {
        self.passes.insert(
            name.to_string(),
            PassEntry {
                description: description.to_string(),
                ctor: Arc::new(move |o, _| ctor(o)),
                options: Vec::new(),
            },
        );
    }

    /// Registers a pass whose options are the declared set `O` ([`crate::declare_options!`]):
    /// the registry reads them (so the pass cannot disagree with its help) and hands them to
    /// `ctor` with the registry (for backend lookups).
    pub fn register_declared<O: OptionSet + 'static>(
        &mut self,
        name: &'static str,
        description: &str,
        ctor: impl Fn(O, &PassRegistry) -> Result<Box<dyn Pass>, OptionError> + Send + Sync + 'static,
    ) {
        self.passes.insert(
            name.to_string(),
            PassEntry {
                description: description.to_string(),
                ctor: Arc::new(move |o, r| ctor(O::read(name, o)?, r)),
                options: O::help(),
            },
        );
    }

    /// Installs the constant evaluator that `fold-constants` evaluates calls with (the `trtfx`
    /// facade installs the executor's kernels). Without one, `fold-constants` folds only
    /// values whose type is already a known constant.
    pub fn set_evaluator(&mut self, evaluator: Arc<dyn ConstEval>) {
        self.evaluator = Some(evaluator);
    }

    /// The installed constant evaluator.
    pub fn evaluator(&self) -> Option<Arc<dyn ConstEval>> {
        self.evaluator.clone()
    }

    /// Registers a named pipeline that expands to `text` wherever `name` is written.
    pub fn register_pipeline(&mut self, name: &str, description: &str, text: &str) {
        self.pipelines.insert(
            name.to_string(),
            NamedPipeline {
                description: description.to_string(),
                text: text.to_string(),
                expand: None,
                options: Vec::new(),
            },
        );
    }

    /// Registers a named pipeline with declared options `O`: `name{key=value}` expands to
    /// `expand(options, registry)`.
    pub fn register_pipeline_with<O: OptionSet + 'static>(
        &mut self,
        name: &'static str,
        description: &str,
        expand: impl Fn(&O, &PassRegistry) -> String + Send + Sync + 'static,
    ) {
        let text = expand(&O::default(), self);
        self.pipelines.insert(
            name.to_string(),
            NamedPipeline {
                description: description.to_string(),
                text,
                expand: Some(Arc::new(move |o, r| Ok(expand(&O::read(name, o)?, r)))),
                options: O::help(),
            },
        );
    }

    /// Registers (or replaces) a backend under `id`. The first registered backend is the
    /// default of `partition` until another is registered: the last one wins.
    pub fn register_backend(&mut self, id: &str, description: &str, capability: SharedCapability) {
        self.backends.shift_remove(id);
        self.backends.insert(
            id.to_string(),
            BackendEntry {
                description: description.to_string(),
                capability,
            },
        );
    }

    /// A backend by id.
    pub fn backend(&self, id: &str) -> Option<&BackendEntry> {
        self.backends.get(id)
    }

    /// The default backend: the most recently registered one.
    pub fn default_backend(&self) -> Option<&str> {
        self.backends.keys().last().map(String::as_str)
    }

    /// Registered backend ids, in registration order.
    pub fn backends(&self) -> impl Iterator<Item = (&str, &BackendEntry)> {
        self.backends.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// True when a pass of this name is registered.
    pub fn has_pass(&self, name: &str) -> bool {
        self.passes.contains_key(name)
    }

    /// A listing of every pass, named pipeline and backend with their options (what
    /// `ir-opt passes` prints), derived from the declarations.
    pub fn help(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let opts = |out: &mut String, o: &[OptionHelp]| {
            for h in o {
                let _ = writeln!(
                    out,
                    "      {}={}  ({}) {}",
                    h.key, h.default, h.expected, h.doc
                );
            }
        };
        let _ = writeln!(out, "passes:");
        for (name, e) in &self.passes {
            let _ = writeln!(out, "  {name:<22} {}", e.description);
            opts(&mut out, &e.options);
        }
        let _ = writeln!(out, "pipelines:");
        for (name, e) in &self.pipelines {
            let _ = writeln!(out, "  {name:<22} {}", e.description);
            opts(&mut out, &e.options);
            // Expanded now: the text may depend on passes registered after the pipeline.
            let text = match &e.expand {
                Some(f) => f(&OptionMap::new(), self).unwrap_or_else(|_| e.text.clone()),
                None => e.text.clone(),
            };
            let _ = writeln!(out, "      = {text}");
        }
        let _ = writeln!(out, "backends:");
        for (name, e) in &self.backends {
            let _ = writeln!(out, "  {name:<22} {}", e.description);
        }
        out
    }

    /// Registered passes in registration order.
    pub fn passes(&self) -> impl Iterator<Item = (&str, &PassEntry)> {
        self.passes.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Registered named pipelines.
    pub fn pipelines(&self) -> impl Iterator<Item = (&str, &NamedPipeline)> {
        self.pipelines.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Builds one pass by name with options.
    pub fn create(&self, name: &str, options: &OptionMap) -> Result<Box<dyn Pass>, OptionError> {
        match self.passes.get(name) {
            Some(e) => (e.ctor)(options, self),
            None => Err(OptionError {
                pass: name.to_string(),
                option: String::new(),
                message: format!("unknown pass `{name}`"),
                offset: None,
            }),
        }
    }

    /// Parses and builds a pipeline. Errors point at the offending byte.
    pub fn parse_pipeline(&self, text: &str) -> Result<Pipeline, PipelineError> {
        let elements = parse_elements(text)?;
        self.build(text, &elements, &mut Vec::new())
    }

    fn build(
        &self,
        text: &str,
        elements: &[Element],
        expanding: &mut Vec<String>,
    ) -> Result<Pipeline, PipelineError> {
        let mut out = Pipeline::new();
        for e in elements {
            self.build_element(text, e, expanding, &mut out)?;
        }
        Ok(out)
    }

    fn build_element(
        &self,
        text: &str,
        e: &Element,
        expanding: &mut Vec<String>,
        out: &mut Pipeline,
    ) -> Result<(), PipelineError> {
        let opt_err = |err: OptionError| {
            // The location goes right after the main clause, before any hint.
            let msg = match err.message.split_once("; ") {
                Some((head, hint)) => format!("{head} at {{loc}}; {hint}"),
                None => format!("{} at {{loc}}", err.message),
            };
            PipelineError::new(text, err.offset.unwrap_or(e.offset), msg)
        };
        let no_nested = |what: &str| -> Result<(), PipelineError> {
            if e.nested.is_some() {
                return Err(PipelineError::new(
                    text,
                    e.nested_offset,
                    format!(
                        "{what} `{}` does not take a nested pipeline at {{loc}}",
                        e.name
                    ),
                ));
            }
            Ok(())
        };
        let nested = |expanding: &mut Vec<String>| -> Result<Pipeline, PipelineError> {
            match &e.nested {
                Some(inner) => self.build(text, inner, expanding),
                None => Err(PipelineError::new(
                    text,
                    e.offset,
                    format!(
                        "`{}` needs a nested pipeline at {{loc}}: `{}(pass,...)`",
                        e.name, e.name
                    ),
                )),
            }
        };
        match e.name.as_str() {
            "fixpoint" => {
                let mut r = OptionReader::new("fixpoint", &e.options);
                let max: usize = r.get("max", FIXPOINT_DEFAULT_MAX).map_err(opt_err)?;
                r.finish().map_err(opt_err)?;
                if max == 0 {
                    return Err(opt_err(OptionError {
                        pass: "fixpoint".into(),
                        option: "max".into(),
                        message: "option `max` of `fixpoint` must be at least 1".into(),
                        offset: e.options.entries.first().map(|x| x.value_offset),
                    }));
                }
                let body = nested(expanding)?;
                out.push(PipelineItem::Fixpoint {
                    max,
                    explicit_max: !e.options.is_empty(),
                    body,
                });
            }
            "each-subgraph" => {
                OptionReader::new("each-subgraph", &e.options)
                    .finish()
                    .map_err(opt_err)?;
                let body = nested(expanding)?;
                out.push(PipelineItem::EachSubgraph { body });
            }
            name => {
                if let Some(entry) = self.passes.get(name) {
                    no_nested("pass")?;
                    let pass = (entry.ctor)(&e.options, self).map_err(opt_err)?;
                    out.push(PipelineItem::Pass {
                        pass,
                        explicit: e.options.keys(),
                    });
                } else if let Some(named) = self.pipelines.get(name) {
                    no_nested("pipeline")?;
                    let body = match &named.expand {
                        Some(expand) => expand(&e.options, self).map_err(opt_err)?,
                        None if !e.options.is_empty() => {
                            return Err(PipelineError::new(
                                text,
                                e.options.entries[0].key_offset,
                                format!("named pipeline `{name}` takes no options at {{loc}}"),
                            ));
                        }
                        None => named.text.clone(),
                    };
                    if expanding.iter().any(|x| x == name) {
                        return Err(PipelineError::new(
                            text,
                            e.offset,
                            format!("named pipeline `{name}` expands to itself at {{loc}}"),
                        ));
                    }
                    expanding.push(name.to_string());
                    let inner = parse_elements(&body)
                        .and_then(|els| self.build(&body, &els, expanding))
                        .map_err(|inner| {
                            PipelineError::new(
                                text,
                                e.offset,
                                format!(
                                    "in named pipeline `{name}` (used at {{loc}}): {}",
                                    inner.message
                                ),
                            )
                        })?;
                    expanding.pop();
                    out.items.extend(inner.items);
                } else {
                    let names = self
                        .passes
                        .keys()
                        .chain(self.pipelines.keys())
                        .map(String::as_str)
                        .chain(ADAPTORS.iter().copied());
                    let hint = nearest(name, names)
                        .map(|n| format!("; did you mean `{n}`?"))
                        .unwrap_or_default();
                    return Err(PipelineError::new(
                        text,
                        e.offset,
                        format!("unknown pass `{name}` at {{loc}}{hint}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The `default` named pipeline.
pub const DEFAULT_PIPELINE: &str =
    "functionalize,decompose,infer-types,fixpoint{max=4}(canonicalize,fold-constants,cse,dce)";
