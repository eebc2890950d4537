//! Binding a call's arguments to its schema: the one place that turns positional and keyword
//! arguments into "schema argument `k` comes from here".
//!
//! Every consumer (inference, the executor's kernels, TensorRT converters, decompositions)
//! reads arguments by schema name through a [`Binding`], so no code reads arguments by
//! position and no code re-types a schema default.

use super::Schema;
use crate::graph::Arg;
use smallvec::SmallVec;
use std::fmt;

/// Where one schema argument of a call comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgSource {
    /// The call's positional argument at this index.
    Positional(u16),
    /// The call's keyword argument at this index (of its keyword list).
    Keyword(u16),
    /// Omitted: the schema's default applies.
    Default,
    /// Omitted, and the schema has no default (only for optional `T?` arguments, which then
    /// read as `None`).
    Absent,
}

/// The binding of one call to its schema: per schema argument, where its value comes from.
///
/// A binding depends only on the number of positional arguments and the keyword names, so a
/// consumer computes it once per node and reuses it on every run.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Binding {
    sources: SmallVec<[ArgSource; 8]>,
}

/// Why a call does not fit its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindError {
    /// More positional arguments than the schema has positional parameters.
    TooMany {
        /// Positional arguments given.
        given: usize,
        /// Positional parameters in the schema.
        max: usize,
    },
    /// A keyword that names no schema argument.
    UnknownKeyword {
        /// The keyword.
        name: String,
        /// The closest schema argument name, when one is close.
        suggestion: Option<String>,
    },
    /// An argument given both by position and by keyword, or twice by keyword.
    Duplicate(String),
    /// A required argument (no default, not optional) was not given.
    Missing(String),
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindError::TooMany { given, max } => write!(
                f,
                "{given} positional argument(s) given, the schema takes at most {max}"
            ),
            BindError::UnknownKeyword { name, suggestion } => {
                write!(f, "unknown keyword argument `{name}`")?;
                if let Some(s) = suggestion {
                    write!(f, " (did you mean `{s}`?)")?;
                }
                Ok(())
            }
            BindError::Duplicate(n) => write!(f, "argument `{n}` is given twice"),
            BindError::Missing(n) => write!(f, "missing required argument `{n}`"),
        }
    }
}

impl std::error::Error for BindError {}

impl Binding {
    /// Binds a call with `positional` positional arguments and the keyword arguments named
    /// `keywords` (in the call's order) to `schema`.
    ///
    /// Keyword-only schema arguments may still be given positionally when the call has more
    /// positional arguments than the schema's positional parameters but no more than all of
    /// its parameters: export writes such calls (`empty.memory_format` with `dtype` by
    /// position) and PyTorch's own argument parser accepts them.
    pub fn new<'k>(
        schema: &Schema,
        positional: usize,
        keywords: impl IntoIterator<Item = &'k str>,
    ) -> Result<Binding, BindError> {
        let n = schema.args.len();
        if positional > n {
            let max = schema.args.iter().filter(|a| !a.kwarg_only).count();
            return Err(BindError::TooMany {
                given: positional,
                max,
            });
        }
        let mut sources: SmallVec<[ArgSource; 8]> = SmallVec::with_capacity(n);
        for (i, _) in schema.args.iter().enumerate() {
            sources.push(if i < positional {
                ArgSource::Positional(i as u16)
            } else {
                ArgSource::Default
            });
        }
        for (k, name) in keywords.into_iter().enumerate() {
            let Some(i) = schema.arg_index(name) else {
                return Err(BindError::UnknownKeyword {
                    name: name.to_string(),
                    suggestion: nearest_name(name, schema),
                });
            };
            if !matches!(sources[i], ArgSource::Default) {
                return Err(BindError::Duplicate(name.to_string()));
            }
            sources[i] = ArgSource::Keyword(k as u16);
        }
        for (i, a) in schema.args.iter().enumerate() {
            if sources[i] == ArgSource::Default && a.default.is_none() {
                if a.ty.optional {
                    sources[i] = ArgSource::Absent;
                } else {
                    return Err(BindError::Missing(a.name.clone()));
                }
            }
        }
        Ok(Binding { sources })
    }

    /// Binds a node's `args` and `kwargs` to `schema`.
    pub fn of_call<T>(
        schema: &Schema,
        args: &[T],
        kwargs: &[(String, T)],
    ) -> Result<Binding, BindError> {
        Binding::new(schema, args.len(), kwargs.iter().map(|(k, _)| k.as_str()))
    }

    /// Per schema argument, its source.
    pub fn sources(&self) -> &[ArgSource] {
        &self.sources
    }

    /// The source of schema argument `i`.
    pub fn source(&self, i: usize) -> Option<ArgSource> {
        self.sources.get(i).copied()
    }
}

/// A read of one bound argument: the call's own value, the schema's default literal, or
/// nothing (an omitted optional argument).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound<'a, T> {
    /// The call gave it.
    Given(&'a T),
    /// The schema's default (a literal).
    Default(&'a Arg),
    /// Omitted optional argument: reads as `None`.
    Absent,
}

/// A call's arguments viewed through its schema: read by name, defaults applied.
///
/// Generic over the value type, so the IR (literal [`Arg`]s with value references), the
/// executor (runtime values) and the TensorRT converter (network tensors) share the binder.
#[derive(Clone, Copy)]
pub struct BoundArgs<'a, T> {
    /// The schema the call is bound to.
    pub schema: &'a Schema,
    /// Where each schema argument comes from.
    pub binding: &'a Binding,
    /// The call's positional arguments.
    pub args: &'a [T],
    /// The call's keyword arguments.
    pub kwargs: &'a [(String, T)],
}

impl<'a, T> BoundArgs<'a, T> {
    /// Schema argument `i`.
    pub fn at(&self, i: usize) -> Bound<'a, T> {
        match self.binding.source(i) {
            Some(ArgSource::Positional(p)) => self
                .args
                .get(p as usize)
                .map_or(Bound::Absent, Bound::Given),
            Some(ArgSource::Keyword(k)) => self
                .kwargs
                .get(k as usize)
                .map_or(Bound::Absent, |(_, v)| Bound::Given(v)),
            Some(ArgSource::Default) => self.schema.args[i]
                .default
                .as_ref()
                .map_or(Bound::Absent, Bound::Default),
            Some(ArgSource::Absent) | None => Bound::Absent,
        }
    }

    /// The schema argument named `name`, or `None` when the schema has no such argument.
    pub fn get(&self, name: &str) -> Option<Bound<'a, T>> {
        self.schema.arg_index(name).map(|i| self.at(i))
    }
}

fn nearest_name(word: &str, schema: &Schema) -> Option<String> {
    // A keyword a letter or two off is almost always a typo of a real parameter.
    schema
        .args
        .iter()
        .map(|a| (strsim_distance(word, &a.name), &a.name))
        .filter(|(d, n)| *d <= (n.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.clone())
}

fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(ca != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aten::parse_schema;

    fn schema(s: &str) -> Schema {
        parse_schema(s).expect("schema parses").schema
    }

    #[test]
    fn positional_keyword_and_defaults() {
        let s = schema("aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor");
        let b = Binding::new(&s, 2, []).unwrap();
        assert_eq!(
            b.sources(),
            &[
                ArgSource::Positional(0),
                ArgSource::Positional(1),
                ArgSource::Default
            ]
        );
        let b = Binding::new(&s, 1, ["alpha", "other"]).unwrap();
        assert_eq!(
            b.sources(),
            &[
                ArgSource::Positional(0),
                ArgSource::Keyword(1),
                ArgSource::Keyword(0)
            ]
        );
        let args = [10, 20];
        let kwargs: [(String, i32); 0] = [];
        let b = Binding::of_call(&s, &args, &kwargs).unwrap();
        let v = BoundArgs {
            schema: &s,
            binding: &b,
            args: &args,
            kwargs: &kwargs,
        };
        assert_eq!(v.get("other"), Some(Bound::Given(&20)));
        assert_eq!(v.get("alpha"), Some(Bound::Default(&Arg::Int(1))));
        assert_eq!(v.get("beta"), None);
    }

    #[test]
    fn optional_without_default_is_absent_and_required_is_missing() {
        let s = schema("aten::diff(Tensor self, int n=1, int dim=-1, Tensor? prepend=None, Tensor? append=None) -> Tensor");
        let b = Binding::new(&s, 1, []).unwrap();
        assert_eq!(b.source(3), Some(ArgSource::Default));
        let s2 = schema("aten::f(Tensor self, Tensor? w) -> Tensor");
        assert_eq!(
            Binding::new(&s2, 1, []).unwrap().source(1),
            Some(ArgSource::Absent)
        );
        assert_eq!(
            Binding::new(&s2, 0, []),
            Err(BindError::Missing("self".into()))
        );
    }

    #[test]
    fn errors_name_the_argument() {
        let s = schema("aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor");
        assert_eq!(
            Binding::new(&s, 4, []).unwrap_err().to_string(),
            "4 positional argument(s) given, the schema takes at most 2"
        );
        assert_eq!(
            Binding::new(&s, 2, ["alpah"]).unwrap_err().to_string(),
            "unknown keyword argument `alpah` (did you mean `alpha`?)"
        );
        assert_eq!(
            Binding::new(&s, 2, ["other"]).unwrap_err().to_string(),
            "argument `other` is given twice"
        );
    }
}
