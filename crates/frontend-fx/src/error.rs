//! The single error type of the importer.
//!
//! Every variant names the archive it came from and the item (member, FQN, value name, node) so
//! that a user with a 10^5-node graph can find the offending piece without a debugger.

use crate::sympy::SymParseError;

/// Everything that can go wrong while reading a `.pt2` archive or converting it to the IR.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be opened or read.
    #[error("{archive}: cannot read: {source}")]
    Io {
        /// Archive path (or `<bytes>`).
        archive: String,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The zip container itself is broken (truncated file, bad central directory, bad CRC, ...).
    #[error("{archive}: not a readable zip archive{}: {source}", member.as_ref().map(|m| format!(" (member `{m}`)")).unwrap_or_default())]
    Zip {
        /// Archive path.
        archive: String,
        /// Member being read, if any.
        member: Option<String>,
        /// Underlying zip error.
        #[source]
        source: zip::result::ZipError,
    },
    /// The zip is fine but is not a `.pt2` archive.
    #[error("{archive}: not a torch.export .pt2 archive: {reason}")]
    NotPt2 {
        /// Archive path.
        archive: String,
        /// Why.
        reason: String,
    },
    /// A layout that this importer recognises but does not read.
    #[error("{archive}: unsupported: {what} (member `{member}`)")]
    UnsupportedLayout {
        /// Archive path.
        archive: String,
        /// The member that identified the layout.
        member: String,
        /// Description, e.g. "legacy archive (torch <= 2.7)".
        what: String,
    },
    /// The archive is structurally incomplete, e.g. a save that failed part-way.
    #[error("{archive}: corrupt archive: {reason}")]
    Corrupt {
        /// Archive path.
        archive: String,
        /// Why.
        reason: String,
    },
    /// A member that the archive itself refers to is missing.
    #[error("{archive}: missing member `{member}` (needed for {needed_for})")]
    MissingMember {
        /// Archive path.
        archive: String,
        /// Full member name.
        member: String,
        /// Who referenced it.
        needed_for: String,
    },
    /// A JSON member does not match the schema (bad JSON, unknown variant, unknown enum code).
    #[error("{archive}: member `{member}`: {source}")]
    Json {
        /// Archive path.
        archive: String,
        /// Full member name.
        member: String,
        /// serde_json error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// `schema_version.major` is not 8.
    #[error("{archive}: member `{member}`: unsupported schema version {major}.{minor} (this importer reads schema 8.x, torch 2.6-2.15)")]
    SchemaVersion {
        /// Archive path.
        archive: String,
        /// Full member name.
        member: String,
        /// Major version found.
        major: i64,
        /// Minor version found.
        minor: i64,
    },
    /// A symbolic expression (`expr_str`) could not be parsed.
    #[error("{archive}: {item}: {source}")]
    SymExpr {
        /// Archive path.
        archive: String,
        /// The value or constraint the expression belongs to.
        item: String,
        /// Parser error with position.
        #[source]
        source: SymParseError,
    },
    /// A tensor payload cannot be rebuilt (bounds, dtype, symbolic size...).
    #[error("{archive}: tensor `{fqn}`: {reason}")]
    Payload {
        /// Archive path.
        archive: String,
        /// Tensor FQN from the payload config.
        fqn: String,
        /// Why.
        reason: String,
    },
    /// A payload saved with `use_pickle: true` (tensor subclass or script object): reading it
    /// needs a Python pickle VM and the classes involved.
    #[error("{archive}: tensor `{fqn}`: pickled payload in member `{member}` (tensor subclass or script object, use_pickle=true) is not supported")]
    PickledPayload {
        /// Archive path.
        archive: String,
        /// Tensor FQN.
        fqn: String,
        /// Full member name.
        member: String,
    },
    /// A resource limit was exceeded (member size, total inflated size, element count...).
    #[error("{archive}: {reason}")]
    Limit {
        /// Archive path.
        archive: String,
        /// What exceeded which limit (names the environment variable that raises it).
        reason: String,
    },
    /// The program is well-formed JSON but inconsistent (dangling name, bad signature...).
    #[error("{archive}: {item}: {reason}")]
    Invalid {
        /// Archive path.
        archive: String,
        /// What is wrong (node, value, spec).
        item: String,
        /// Why.
        reason: String,
    },
    /// The program uses a feature this importer does not handle.
    #[error("{archive}: {item}: unsupported: {reason}")]
    Unsupported {
        /// Archive path.
        archive: String,
        /// The node, value or spec involved.
        item: String,
        /// What is unsupported.
        reason: String,
    },
}
