//! The pass registry: pass names → constructors that parse options, and named pipelines.

use crate::options::{OptionError, OptionMap, OptionReader};
use crate::pass::Pass;
use crate::pipeline::{
    parse_elements, Element, Pipeline, PipelineError, PipelineItem, FIXPOINT_DEFAULT_MAX,
};
use crate::util::nearest;
use indexmap::IndexMap;
use std::sync::Arc;

/// Builds a pass from its options (unknown keys and bad values are errors).
pub type PassCtor = Arc<dyn Fn(&OptionMap) -> Result<Box<dyn Pass>, OptionError> + Send + Sync>;

/// A registered pass.
#[derive(Clone)]
pub struct PassEntry {
    /// One-line description (for `--help`-style listings).
    pub description: String,
    /// The constructor.
    pub ctor: PassCtor,
}

/// A registered named pipeline.
#[derive(Clone, Debug)]
pub struct NamedPipeline {
    /// One-line description.
    pub description: String,
    /// The pipeline text it expands to.
    pub text: String,
}

/// Adaptor names the parser knows besides registered passes.
pub const ADAPTORS: &[&str] = &["fixpoint", "each-subgraph"];

/// Pass names → constructors, and named pipelines.
#[derive(Clone, Default)]
pub struct PassRegistry {
    passes: IndexMap<String, PassEntry>,
    pipelines: IndexMap<String, NamedPipeline>,
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
        r
    }

    /// Registers a pass under `name`.
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
                ctor: Arc::new(ctor),
            },
        );
    }

    /// Registers a named pipeline that expands to `text` wherever `name` is written.
    pub fn register_pipeline(&mut self, name: &str, description: &str, text: &str) {
        self.pipelines.insert(
            name.to_string(),
            NamedPipeline {
                description: description.to_string(),
                text: text.to_string(),
            },
        );
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
            Some(e) => (e.ctor)(options),
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
                    let pass = (entry.ctor)(&e.options).map_err(opt_err)?;
                    out.push(PipelineItem::Pass {
                        pass,
                        explicit: e.options.keys(),
                    });
                } else if let Some(named) = self.pipelines.get(name) {
                    no_nested("pipeline")?;
                    if !e.options.is_empty() {
                        return Err(PipelineError::new(
                            text,
                            e.options.entries[0].key_offset,
                            format!("named pipeline `{name}` takes no options at {{loc}}"),
                        ));
                    }
                    if expanding.iter().any(|x| x == name) {
                        return Err(PipelineError::new(
                            text,
                            e.offset,
                            format!("named pipeline `{name}` expands to itself at {{loc}}"),
                        ));
                    }
                    expanding.push(name.to_string());
                    let inner = parse_elements(&named.text)
                        .and_then(|els| self.build(&named.text, &els, expanding))
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
    "decompose,infer-types,fixpoint{max=4}(canonicalize,fold-constants,cse,dce)";
