//! The `.fxir` text format: a deterministic printer and a robust parser.
//!
//! The syntax is documented in `docs/ir-format.md`. In short:
//!
//! ```text
//! program {
//!   sym s0: size in 2..=64 hint 8
//!   input "x": f32[s0(min=2, opt=8, max=64), 3]
//!   weight "w": f32[3]
//!   graph @main(%x: f32[s0,3] = user "x", %w: f32[3] = param "w") -> (user) {
//!     %add: f32[s0,3] = aten.add.Tensor(%x, %w)
//!     output (%add)
//!   }
//! }
//! ```
//!
//! Printing then parsing gives back an equal [`Program`] (`parse(print(p)) == p`), except for
//! weight bytes: the text carries weight metadata only, and the parser creates each weight as
//! [`WeightData::Opaque`] with [`not_loaded_message`] unless the caller supplies the weights
//! through [`parse_program_with_weights`].

mod lexer;
mod parser;
mod printer;

use crate::graph::{GraphId, NodeId};
use crate::program::{Program, Weight};
use indexmap::IndexMap;
use std::fmt;

#[allow(unused_imports)] // referenced by the module docs
use crate::program::WeightData;

/// Deepest nesting of lists, dicts, types and dim expressions the parser accepts. Recursive
/// descent uses the native stack, so hostile input must not be able to nest without bound.
pub const MAX_NESTING: usize = 100;

/// Prints a whole program in `.fxir` syntax. Deterministic: equal programs print equal text.
pub fn print_program(program: &Program) -> String {
    printer::print_program(program)
}

/// Prints one graph of a program (`graph @name(...) { ... }`). Graph references resolve against
/// the program, and the entry graph carries the signature annotations.
pub fn print_graph(program: &Program, graph: GraphId) -> String {
    printer::print_graph(program, graph)
}

/// Prints one node as its `.fxir` statement, without indentation (for diagnostics). Values are
/// named exactly as [`print_graph`] names them.
pub fn print_node(program: &Program, graph: GraphId, node: NodeId) -> String {
    printer::print_node(program, graph, node)
}

/// Parses a program. Weights are created with [`WeightData::Opaque`] holding
/// [`not_loaded_message`]; use [`parse_program_with_weights`] or fill `program.weights`
/// afterwards to attach data.
pub fn parse_program(src: &str) -> Result<Program, ParseError> {
    parser::parse(src, None)
}

/// Parses a program and attaches weight data: each weight the text declares is taken from
/// `weights` when present there (its dtype and shape must match the declaration). A supplied
/// weight the text does not declare is an error, so a stale sidecar cannot go unnoticed.
pub fn parse_program_with_weights(
    src: &str,
    weights: IndexMap<String, Weight>,
) -> Result<Program, ParseError> {
    parser::parse(src, Some(weights))
}

/// Parses a program from bytes, reporting invalid UTF-8 as a parse error at its position.
pub fn parse_bytes(bytes: &[u8]) -> Result<Program, ParseError> {
    match std::str::from_utf8(bytes) {
        Ok(src) => parse_program(src),
        Err(e) => {
            let lossy = String::from_utf8_lossy(bytes);
            Err(ParseError::new(
                &lossy,
                e.valid_up_to(),
                "invalid UTF-8 in .fxir text".to_string(),
            ))
        }
    }
}

/// The reason stored in [`WeightData::Opaque`] for a weight the text declares but whose bytes
/// nobody supplied. The printer recognises exactly this message and prints no `opaque` clause
/// for it, so `print(parse(text)) == text`.
pub fn not_loaded_message(name: &str) -> String {
    format!("not loaded: weight {name:?} has no data in .fxir text")
}

/// A parse error with its position and a rendered, human-readable diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What went wrong, without position.
    pub message: String,
    rendered: String,
}

impl ParseError {
    /// Builds an error at byte `offset` of `src` and renders it.
    pub(crate) fn new(src: &str, offset: usize, message: String) -> Self {
        let mut offset = offset.min(src.len());
        while !src.is_char_boundary(offset) {
            offset -= 1;
        }
        let line_start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line = src[..line_start].matches('\n').count() + 1;
        let line_end = src[offset..].find('\n').map_or(src.len(), |i| offset + i);
        let text = src[line_start..line_end].trim_end_matches('\r');
        let before = &src[line_start..offset];
        let column = before.chars().count() + 1;
        let rendered = render(line, column, &message, text, before);
        ParseError {
            line,
            column,
            message,
            rendered,
        }
    }

    /// The diagnostic: message, position, the source line and a caret under the error.
    pub fn rendered(&self) -> &str {
        &self.rendered
    }
}

/// Longest stretch of a source line shown in a diagnostic; garbage input may be one huge line.
const MAX_SHOWN: usize = 120;

fn render(line: usize, column: usize, message: &str, text: &str, before: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let col0 = column - 1;
    // Show a window around the column when the line is long.
    let (start, end) = if chars.len() <= MAX_SHOWN {
        (0, chars.len())
    } else {
        let start = col0.saturating_sub(MAX_SHOWN / 2);
        (start, (start + MAX_SHOWN).min(chars.len()))
    };
    let mut shown: String = chars[start..end]
        .iter()
        .map(|&c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect();
    let mut caret_pad: String = before
        .chars()
        .skip(start)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    if start > 0 {
        shown.insert_str(0, "...");
        caret_pad.insert_str(0, "   ");
    }
    if end < chars.len() {
        shown.push_str("...");
    }
    let num = line.to_string();
    let pad = " ".repeat(num.len());
    format!(
        "error: {message}\n{pad}--> {line}:{column}\n{pad} |\n{num} | {shown}\n{pad} | {caret_pad}^"
    )
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered)
    }
}

impl std::error::Error for ParseError {}

/// A fast non-cryptographic hasher (FxHash's mixing) for the name tables of the printer and
/// parser: SipHash dominated profiles of 10^5-node graphs. Names come from the user's own file,
/// so flooding resistance buys nothing here.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

/// True for names printed bare after `%` and `@`: letters, digits and `_`.
pub(crate) fn is_ref_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// True for identifiers as the lexer reads them: `[A-Za-z_][A-Za-z0-9_]*` segments joined by
/// `.` (operator names such as `aten.add.Tensor` are one identifier).
pub(crate) fn is_ident(s: &str) -> bool {
    let mut first = true;
    for seg in s.split('.') {
        let mut bytes = seg.bytes();
        match bytes.next() {
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
            Some(b) if !first && b.is_ascii_digit() => {}
            _ => return false,
        }
        if !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return false;
        }
        first = false;
    }
    !s.is_empty()
}

/// Words that start or shape statements; a call target spelled like one is printed quoted.
pub(crate) const RESERVED_TARGETS: &[&str] = &[
    "output",
    "get_attr",
    "call_graph",
    "placeholder",
    "user",
    "param",
    "buffer",
    "constant",
    "custom_obj",
    "constant_input",
    "token",
    "graph",
];

/// Formats an `f64` so that parsing gives back the same bits: Rust's shortest round-trip
/// representation, `inf`/`-inf`, `nan` for the canonical NaN and `nan(0x...)` for any other NaN
/// (sign and payload are kept).
pub(crate) fn format_f64(x: f64) -> String {
    if x.is_nan() {
        if x.to_bits() == f64::NAN.to_bits() {
            "nan".to_string()
        } else {
            format!("nan(0x{:016x})", x.to_bits())
        }
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        format!("{x:?}")
    }
}
