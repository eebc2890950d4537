//! Pass options: the `{key=value,list=[a,b]}` text, typed reading with errors that name the
//! pass and the option, and printing back to text.
//!
//! A pass reads its options with an [`OptionReader`] (so unknown keys, duplicates and bad values
//! are reported uniformly) and reports them back with [`PassOptions`], which the pipeline printer
//! uses to print the pass exactly as it will behave.

use crate::util::nearest;
use std::fmt;
use trtfx_ir::DType;

/// A value in options text: a scalar word (`1024`, `trt`, `aten.add.Tensor`, `"a b"`) or a
/// bracketed list (`[a,b]`), possibly nested.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionValue {
    /// A word or quoted string (unquoted here).
    Scalar(String),
    /// `[a,b,...]`
    List(Vec<OptionValue>),
}

/// True when `s` can be printed without quotes and read back as the same word.
fn is_bare(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| {
            !c.is_whitespace() && !matches!(c, ',' | '=' | '{' | '}' | '[' | ']' | '(' | ')' | '"')
        })
}

impl fmt::Display for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionValue::Scalar(s) if is_bare(s) => f.write_str(s),
            OptionValue::Scalar(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")
            }
            OptionValue::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// One `key=value` entry as written, with byte offsets into the pipeline text (for carets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionEntry {
    /// The key.
    pub key: String,
    /// The value.
    pub value: OptionValue,
    /// Byte offset of the key in the pipeline text.
    pub key_offset: usize,
    /// Byte offset of the value in the pipeline text.
    pub value_offset: usize,
}

/// Options as written after a pass name, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OptionMap {
    /// The entries in text order.
    pub entries: Vec<OptionEntry>,
}

impl OptionMap {
    /// An empty map (a pass written without braces).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an entry (for building options programmatically; offsets are 0).
    pub fn with(mut self, key: &str, value: OptionValue) -> Self {
        self.entries.push(OptionEntry {
            key: key.to_string(),
            value,
            key_offset: 0,
            value_offset: 0,
        });
        self
    }

    /// True when no option was written.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys in text order.
    pub fn keys(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.key.clone()).collect()
    }
}

/// A bad option: the message names the pass and the option; `offset` points into the
/// pipeline text when the option came from text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct OptionError {
    /// The pass the option belongs to.
    pub pass: String,
    /// The option key.
    pub option: String,
    /// Full message (names pass and option).
    pub message: String,
    /// Byte offset into the pipeline text, when known.
    pub offset: Option<usize>,
}

/// A type that can be read from and printed to option text.
pub trait OptionType: Sized + Clone + PartialEq {
    /// What the parser expects, for messages (`an unsigned integer`).
    const EXPECTED: &'static str;
    /// Reads a value.
    fn from_option(v: &OptionValue) -> Option<Self>;
    /// Prints a value.
    fn to_option(&self) -> OptionValue;
}

fn scalar(v: &OptionValue) -> Option<&str> {
    match v {
        OptionValue::Scalar(s) => Some(s),
        OptionValue::List(_) => None,
    }
}

macro_rules! int_option {
    ($t:ty, $what:literal) => {
        impl OptionType for $t {
            const EXPECTED: &'static str = $what;
            fn from_option(v: &OptionValue) -> Option<Self> {
                scalar(v)?.parse().ok()
            }
            fn to_option(&self) -> OptionValue {
                OptionValue::Scalar(self.to_string())
            }
        }
    };
}
int_option!(u64, "an unsigned integer");
int_option!(usize, "an unsigned integer");
int_option!(u32, "an unsigned integer");
int_option!(i64, "an integer");
int_option!(i32, "an integer");

impl OptionType for bool {
    const EXPECTED: &'static str = "`true` or `false`";
    fn from_option(v: &OptionValue) -> Option<Self> {
        match scalar(v)? {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }
    fn to_option(&self) -> OptionValue {
        OptionValue::Scalar(self.to_string())
    }
}

impl OptionType for String {
    const EXPECTED: &'static str = "a string";
    fn from_option(v: &OptionValue) -> Option<Self> {
        scalar(v).map(str::to_string)
    }
    fn to_option(&self) -> OptionValue {
        OptionValue::Scalar(self.clone())
    }
}

impl OptionType for DType {
    const EXPECTED: &'static str = "a dtype (`f32`, `i64`, ...)";
    fn from_option(v: &OptionValue) -> Option<Self> {
        scalar(v)?.parse().ok()
    }
    fn to_option(&self) -> OptionValue {
        OptionValue::Scalar(self.to_string())
    }
}

impl<T: OptionType> OptionType for Vec<T> {
    const EXPECTED: &'static str = "a list `[a,b]`";
    fn from_option(v: &OptionValue) -> Option<Self> {
        match v {
            OptionValue::List(items) => items.iter().map(T::from_option).collect(),
            // A single word is a one-element list, as in MLIR's list options.
            OptionValue::Scalar(_) => T::from_option(v).map(|x| vec![x]),
        }
    }
    fn to_option(&self) -> OptionValue {
        OptionValue::List(self.iter().map(T::to_option).collect())
    }
}

/// Reads a pass's options from an [`OptionMap`], checking types, duplicates and unknown keys.
///
/// ```
/// # use trtfx_passes::options::{OptionMap, OptionReader, OptionValue};
/// let map = OptionMap::new().with("max", OptionValue::Scalar("4".into()));
/// let mut r = OptionReader::new("fixpoint", &map);
/// let max: usize = r.get("max", 8).unwrap();
/// r.finish().unwrap();
/// assert_eq!(max, 4);
/// ```
pub struct OptionReader<'a> {
    pass: &'a str,
    map: &'a OptionMap,
    known: Vec<&'static str>,
}

impl<'a> OptionReader<'a> {
    /// A reader for the options of `pass`.
    pub fn new(pass: &'a str, map: &'a OptionMap) -> Self {
        OptionReader {
            pass,
            map,
            known: Vec::new(),
        }
    }

    /// Reads option `key`, or `default` when absent.
    pub fn get<T: OptionType>(&mut self, key: &'static str, default: T) -> Result<T, OptionError> {
        self.known.push(key);
        let mut found: Option<&OptionEntry> = None;
        for e in self.map.entries.iter().filter(|e| e.key == key) {
            if found.is_some() {
                return Err(OptionError {
                    pass: self.pass.to_string(),
                    option: key.to_string(),
                    message: format!("option `{key}` of pass `{}` is given twice", self.pass),
                    offset: Some(e.key_offset),
                });
            }
            found = Some(e);
        }
        match found {
            None => Ok(default),
            Some(e) => T::from_option(&e.value).ok_or_else(|| OptionError {
                pass: self.pass.to_string(),
                option: key.to_string(),
                message: format!(
                    "invalid value `{}` for option `{key}` of pass `{}`: expected {}",
                    e.value,
                    self.pass,
                    T::EXPECTED
                ),
                offset: Some(e.value_offset),
            }),
        }
    }

    /// Fails on keys that were never read, suggesting the nearest known key.
    pub fn finish(self) -> Result<(), OptionError> {
        for e in &self.map.entries {
            if !self.known.contains(&e.key.as_str()) {
                let hint = match nearest(&e.key, self.known.iter().copied()) {
                    Some(k) => format!("; did you mean `{k}`?"),
                    None if self.known.is_empty() => "; it takes no options".to_string(),
                    None => format!(
                        "; its options are {}",
                        self.known
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                return Err(OptionError {
                    pass: self.pass.to_string(),
                    option: e.key.clone(),
                    message: format!("pass `{}` has no option `{}`{hint}", self.pass, e.key),
                    offset: Some(e.key_offset),
                });
            }
        }
        Ok(())
    }
}

/// A pass's typed options as it reports them: key, current value and default, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassOptions {
    entries: Vec<(String, OptionValue, OptionValue)>,
}

impl PassOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an option with its value and default.
    pub fn with<T: OptionType>(mut self, key: &str, value: &T, default: &T) -> Self {
        self.entries
            .push((key.to_string(), value.to_option(), default.to_option()));
        self
    }

    /// `(key, value, default)` entries in order.
    pub fn entries(&self) -> &[(String, OptionValue, OptionValue)] {
        &self.entries
    }

    /// The `{k=v,...}` suffix: options that differ from their default or that were written
    /// explicitly (`explicit`), so a parsed pipeline prints back as written. Empty when none.
    pub fn to_text(&self, explicit: &[String]) -> String {
        let shown: Vec<String> = self
            .entries
            .iter()
            .filter(|(k, v, d)| v != d || explicit.contains(k))
            .map(|(k, v, _)| format!("{k}={v}"))
            .collect();
        if shown.is_empty() {
            String::new()
        } else {
            format!("{{{}}}", shown.join(","))
        }
    }
}

/// `none` or a value: optional settings (`workspace-limit=none`).
impl<T: OptionType> OptionType for Option<T> {
    const EXPECTED: &'static str = "a value or `none`";
    fn from_option(v: &OptionValue) -> Option<Self> {
        match v {
            OptionValue::Scalar(s) if s == "none" => Some(None),
            v => T::from_option(v).map(Some),
        }
    }
    fn to_option(&self) -> OptionValue {
        match self {
            None => OptionValue::Scalar("none".into()),
            Some(v) => v.to_option(),
        }
    }
}

/// One option of a declared option set, for help listings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionHelp {
    /// The key (`min-block-size`).
    pub key: &'static str,
    /// What values it takes (`an unsigned integer`).
    pub expected: &'static str,
    /// The default, as option text.
    pub default: String,
    /// One line on what it does.
    pub doc: &'static str,
}

/// A pass's (or named pipeline's) options declared once with [`declare_options!`]: reading
/// from text, printing back and help are all derived from that declaration.
pub trait OptionSet: Sized + Clone + Default {
    /// Reads the options of `pass` (unknown keys, duplicates and bad values are errors).
    fn read(pass: &str, map: &OptionMap) -> Result<Self, OptionError>;
    /// The values with their defaults, for the pipeline printer.
    fn to_pass_options(&self) -> PassOptions;
    /// One entry per option, in declaration order.
    fn help() -> Vec<OptionHelp>;
}

/// The empty option set, for passes without options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoOptions;

impl OptionSet for NoOptions {
    fn read(pass: &str, map: &OptionMap) -> Result<Self, OptionError> {
        OptionReader::new(pass, map).finish()?;
        Ok(NoOptions)
    }
    fn to_pass_options(&self) -> PassOptions {
        PassOptions::new()
    }
    fn help() -> Vec<OptionHelp> {
        Vec::new()
    }
}

/// Declares an option struct: each field with its key, type, default and doc line. The
/// struct gets `Default` and [`OptionSet`] (reading, printing, help), so a pass names each
/// option exactly once.
///
/// ```
/// trtfx_passes::declare_options! {
///     /// Options of `my-pass`.
///     pub struct MyOptions {
///         /// How many times.
///         limit: u64 = "limit", 8;
///     }
/// }
/// # use trtfx_passes::options::{OptionMap, OptionSet, OptionValue};
/// let o = MyOptions::read("my-pass", &OptionMap::new().with("limit", OptionValue::Scalar("4".into()))).unwrap();
/// assert_eq!(o.limit, 4);
/// assert_eq!(o.to_pass_options().to_text(&[]), "{limit=4}");
/// ```
#[macro_export]
macro_rules! declare_options {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( #[doc = $doc:literal] $field:ident : $ty:ty = $key:literal, $default:expr; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        $vis struct $name {
            $( #[doc = $doc] pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $( $field: $default, )* }
            }
        }

        impl $crate::options::OptionSet for $name {
            fn read(
                pass: &str,
                map: &$crate::options::OptionMap,
            ) -> Result<Self, $crate::options::OptionError> {
                let mut r = $crate::options::OptionReader::new(pass, map);
                let d = <$name as Default>::default();
                let o = $name { $( $field: r.get($key, d.$field)?, )* };
                r.finish()?;
                Ok(o)
            }
            fn to_pass_options(&self) -> $crate::options::PassOptions {
                let d = <$name as Default>::default();
                $crate::options::PassOptions::new()
                    $( .with($key, &self.$field, &d.$field) )*
            }
            fn help() -> Vec<$crate::options::OptionHelp> {
                let d = <$name as Default>::default();
                vec![ $( $crate::options::OptionHelp {
                    key: $key,
                    expected: <$ty as $crate::options::OptionType>::EXPECTED,
                    default: $crate::options::OptionType::to_option(&d.$field).to_string(),
                    doc: $doc.trim(),
                }, )* ]
            }
        }
    };
}

/// Declares an enum option type whose values are words (`int64=native|int32|fallback`).
#[macro_export]
macro_rules! option_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $( #[doc = $doc:literal] $variant:ident = $word:literal, )* }
        expected $expected:literal
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name { $( #[doc = $doc] $variant, )* }

        impl $name {
            /// The option word.
            pub fn word(self) -> &'static str {
                match self { $( $name::$variant => $word, )* }
            }
        }

        impl $crate::options::OptionType for $name {
            const EXPECTED: &'static str = $expected;
            fn from_option(v: &$crate::options::OptionValue) -> Option<Self> {
                match v {
                    $crate::options::OptionValue::Scalar(s) => match s.as_str() {
                        $( $word => Some($name::$variant), )*
                        _ => None,
                    },
                    _ => None,
                }
            }
            fn to_option(&self) -> $crate::options::OptionValue {
                $crate::options::OptionValue::Scalar(self.word().to_string())
            }
        }
    };
}
