//! Pipeline text, MLIR style.
//!
//! ```text
//! pipeline ::= element (',' element)*
//! element  ::= name options? ('(' pipeline ')')?
//! options  ::= '{' (key '=' value) ((',' | ' ') key '=' value)* '}'
//! value    ::= word | '"' chars '"' | '[' (value (',' value)*)? ']'
//! name     ::= [A-Za-z0-9_.-]+
//! ```
//!
//! Example: `dce,cse,fold-constants{max-elements=1024},fixpoint{max=4}(canonicalize,dce),each-subgraph(cse)`.
//! A name is a registered pass, a named pipeline (expanded in place), or an adaptor that takes
//! a nested pipeline (`fixpoint`, `each-subgraph`). A built [`Pipeline`] prints back to the
//! text it was parsed from (named pipelines print expanded).

use crate::options::{OptionEntry, OptionMap, OptionValue, PassOptions};
use crate::pass::Pass;
use std::fmt;

/// A pipeline text error: message, and the byte offset it points at.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct PipelineError {
    /// What is wrong, with the location (`unknown pass `cze` at 1:1; did you mean `cse`?`).
    pub message: String,
    /// Byte offset into `text`.
    pub offset: usize,
    /// The pipeline text.
    pub text: String,
}

impl PipelineError {
    /// An error at `offset` of `text`. `message` may contain `{loc}`, replaced by `line:col`.
    pub fn new(text: &str, offset: usize, message: impl Into<String>) -> Self {
        let offset = offset.min(text.len());
        let (line, col) = line_col(text, offset);
        PipelineError {
            message: message.into().replace("{loc}", &format!("{line}:{col}")),
            offset,
            text: text.to_string(),
        }
    }

    /// The message, the offending line and a caret under the offending byte.
    pub fn render(&self) -> String {
        let line_start = self.text[..self.offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[self.offset..]
            .find('\n')
            .map_or(self.text.len(), |i| self.offset + i);
        let col = self.text[line_start..self.offset].chars().count();
        format!(
            "{}\n  {}\n  {}^",
            self.message,
            &self.text[line_start..line_end],
            " ".repeat(col)
        )
    }
}

/// 1-based line and column (in chars) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// One parsed element, before name resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    /// The pass, pipeline or adaptor name.
    pub name: String,
    /// Byte offset of the name.
    pub offset: usize,
    /// Options as written.
    pub options: OptionMap,
    /// A nested pipeline `(...)`, if written.
    pub nested: Option<Vec<Element>>,
    /// Byte offset of the `(` of the nested pipeline.
    pub nested_offset: usize,
}

/// Parses pipeline text into elements (syntax only; names are resolved by the registry).
pub fn parse_elements(text: &str) -> Result<Vec<Element>, PipelineError> {
    let mut p = Parser { text, pos: 0 };
    p.skip_ws();
    if p.pos == text.len() {
        return Ok(Vec::new());
    }
    let items = p.list()?;
    p.skip_ws();
    if p.pos < text.len() {
        let msg = if p.peek() == Some(')') {
            "unbalanced `)` at {loc}"
        } else {
            "expected `,` between passes at {loc}"
        };
        return Err(p.err(msg));
    }
    Ok(items)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn err(&self, msg: &str) -> PipelineError {
        PipelineError::new(self.text, self.pos, msg)
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(c) => format!("`{c}`"),
            None => "end of text".to_string(),
        }
    }

    fn name(&mut self, what: &str) -> Result<(String, usize), PipelineError> {
        self.skip_ws();
        let start = self.pos;
        while self.peek().is_some_and(is_name_char) {
            self.bump();
        }
        if start == self.pos {
            return Err(self.err(&format!(
                "expected {what} at {{loc}}, found {}",
                self.found()
            )));
        }
        Ok((self.text[start..self.pos].to_string(), start))
    }

    fn list(&mut self) -> Result<Vec<Element>, PipelineError> {
        let mut items = vec![self.element()?];
        loop {
            self.skip_ws();
            if self.peek() == Some(',') {
                self.bump();
                items.push(self.element()?);
            } else {
                return Ok(items);
            }
        }
    }

    fn element(&mut self) -> Result<Element, PipelineError> {
        let (name, offset) = self.name("a pass name")?;
        self.skip_ws();
        let options = if self.peek() == Some('{') {
            self.options()?
        } else {
            OptionMap::new()
        };
        self.skip_ws();
        let nested_offset = self.pos;
        let nested = if self.peek() == Some('(') {
            self.bump();
            self.skip_ws();
            let inner = if self.peek() == Some(')') {
                Vec::new()
            } else {
                self.list()?
            };
            self.skip_ws();
            if self.peek() != Some(')') {
                let msg = if self.peek().is_none() {
                    "unbalanced parentheses: missing `)` at {loc}".to_string()
                } else {
                    format!("expected `,` or `)` at {{loc}}, found {}", self.found())
                };
                return Err(self.err(&msg));
            }
            self.bump();
            Some(inner)
        } else {
            None
        };
        Ok(Element {
            name,
            offset,
            options,
            nested,
            nested_offset,
        })
    }

    fn options(&mut self) -> Result<OptionMap, PipelineError> {
        self.bump(); // '{'
        let mut map = OptionMap::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some('}') => {
                    self.bump();
                    return Ok(map);
                }
                Some(',') if !map.is_empty() => {
                    self.bump();
                    continue;
                }
                None => return Err(self.err("unbalanced braces: missing `}` at {loc}")),
                _ => {}
            }
            let (key, key_offset) = self.name("an option name")?;
            self.skip_ws();
            if self.peek() != Some('=') {
                return Err(self.err(&format!(
                    "expected `=` after option `{key}` at {{loc}}, found {}",
                    self.found()
                )));
            }
            self.bump();
            self.skip_ws();
            let value_offset = self.pos;
            let value = self.value()?;
            map.entries.push(OptionEntry {
                key,
                value,
                key_offset,
                value_offset,
            });
        }
    }

    fn value(&mut self) -> Result<OptionValue, PipelineError> {
        match self.peek() {
            Some('[') => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(']') => {
                            self.bump();
                            return Ok(OptionValue::List(items));
                        }
                        Some(',') if !items.is_empty() => self.bump(),
                        None => return Err(self.err("unbalanced brackets: missing `]` at {loc}")),
                        _ => items.push(self.value()?),
                    }
                }
            }
            Some('"') => {
                self.bump();
                let mut s = String::new();
                loop {
                    match self.peek() {
                        None => return Err(self.err("unterminated string at {loc}")),
                        Some('"') => {
                            self.bump();
                            return Ok(OptionValue::Scalar(s));
                        }
                        Some('\\') => {
                            self.bump();
                            if let Some(c) = self.peek() {
                                s.push(c);
                                self.bump();
                            }
                        }
                        Some(c) => {
                            s.push(c);
                            self.bump();
                        }
                    }
                }
            }
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(|c| {
                    !c.is_whitespace()
                        && !matches!(c, ',' | '=' | '{' | '}' | '[' | ']' | '(' | ')' | '"')
                }) {
                    self.bump();
                }
                if start == self.pos {
                    return Err(self.err(&format!(
                        "expected a value at {{loc}}, found {}",
                        self.found()
                    )));
                }
                Ok(OptionValue::Scalar(self.text[start..self.pos].to_string()))
            }
        }
    }
}

/// One step of a built pipeline.
pub enum PipelineItem {
    /// Run a pass. `explicit` lists the option keys written in the text, so they print back.
    Pass {
        /// The pass.
        pass: Box<dyn Pass>,
        /// Option keys given explicitly.
        explicit: Vec<String>,
    },
    /// Run `body` until no pass in it reports a change, at most `max` times.
    Fixpoint {
        /// Iteration limit.
        max: usize,
        /// `max` was written explicitly.
        explicit_max: bool,
        /// The loop body.
        body: Pipeline,
    },
    /// Run `body` with graph-local passes limited to subgraphs.
    EachSubgraph {
        /// The nested pipeline.
        body: Pipeline,
    },
}

/// Default iteration limit of `fixpoint`.
pub const FIXPOINT_DEFAULT_MAX: usize = 8;

impl PipelineItem {
    /// A pass step with no explicit options.
    pub fn pass(p: impl Pass + 'static) -> Self {
        PipelineItem::Pass {
            pass: Box::new(p),
            explicit: Vec::new(),
        }
    }

    /// The element's text without its nested pipeline (`fold-constants{max-elements=1024}`,
    /// `fixpoint{max=4}`), as shown in dumps and timing.
    pub fn head(&self) -> String {
        match self {
            PipelineItem::Pass { pass, explicit } => {
                format!("{}{}", pass.name(), pass.options().to_text(explicit))
            }
            PipelineItem::Fixpoint {
                max, explicit_max, ..
            } => {
                let opts = PassOptions::new().with("max", max, &FIXPOINT_DEFAULT_MAX);
                let explicit = if *explicit_max {
                    vec!["max".to_string()]
                } else {
                    vec![]
                };
                format!("fixpoint{}", opts.to_text(&explicit))
            }
            PipelineItem::EachSubgraph { .. } => "each-subgraph".to_string(),
        }
    }
}

impl fmt::Display for PipelineItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.head())?;
        match self {
            PipelineItem::Pass { .. } => Ok(()),
            PipelineItem::Fixpoint { body, .. } | PipelineItem::EachSubgraph { body } => {
                write!(f, "({body})")
            }
        }
    }
}

/// A built pipeline: passes and adaptors in order. `Display` prints the text form.
#[derive(Default)]
pub struct Pipeline {
    /// The steps.
    pub items: Vec<PipelineItem>,
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a step.
    pub fn push(&mut self, item: PipelineItem) -> &mut Self {
        self.items.push(item);
        self
    }

    /// Appends a pass.
    pub fn with_pass(mut self, p: impl Pass + 'static) -> Self {
        self.items.push(PipelineItem::pass(p));
        self
    }

    /// Number of top-level steps.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there is no step.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl fmt::Display for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pipeline({self})")
    }
}
