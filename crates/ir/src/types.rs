//! Value types: tensors with symbolic shapes, symbolic scalars, plain scalars, lists and `None`.

use crate::dim::Dim;
use crate::dtype::DType;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::fmt;

/// A tensor shape: one [`Dim`] per axis.
pub type Shape = SmallVec<[Dim; 4]>;

/// Builds a static shape from constants.
pub fn static_shape(dims: &[i64]) -> Shape {
    dims.iter().map(|&d| Dim::constant(d)).collect()
}

/// The type of a tensor value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TensorType {
    /// Element type.
    pub dtype: DType,
    /// Shape; rank is `shape.len()`.
    pub shape: Shape,
}

impl TensorType {
    /// A tensor type.
    pub fn new(dtype: DType, shape: impl Into<Shape>) -> Self {
        TensorType {
            dtype,
            shape: shape.into(),
        }
    }

    /// Rank (number of axes).
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// The static shape, if every dim is a constant.
    pub fn static_shape(&self) -> Option<Vec<i64>> {
        self.shape.iter().map(Dim::as_const).collect()
    }

    /// Number of elements as an expression.
    pub fn numel(&self) -> Dim {
        self.shape
            .iter()
            .fold(Dim::constant(1), |acc, d| acc.mul(d))
    }
}

/// The type of an IR value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Type {
    /// A tensor.
    Tensor(TensorType),
    /// A symbolic integer, with the expression it equals when known (`sym_size` of a dynamic dim
    /// is `SymInt(Some(s0))`).
    SymInt(Option<Dim>),
    /// A symbolic float.
    SymFloat,
    /// A symbolic bool.
    SymBool,
    /// A compile-time integer.
    Int,
    /// A compile-time float.
    Float,
    /// A compile-time bool.
    Bool,
    /// A string.
    Str,
    /// A list of values of one type (e.g. a `Tensor[]` input of a subgraph).
    List(Box<Type>),
    /// `None`, e.g. an undefined optional tensor output.
    None,
    /// An effect token (`with_effects` chains in the ATEN dialect).
    Token,
    /// A custom object (torchbind or opaque object) of the named class.
    Object(String),
}

impl Type {
    /// A tensor type.
    pub fn tensor(dtype: DType, shape: impl Into<Shape>) -> Type {
        Type::Tensor(TensorType::new(dtype, shape))
    }

    /// The tensor type, if this is a tensor.
    pub fn as_tensor(&self) -> Option<&TensorType> {
        match self {
            Type::Tensor(t) => Some(t),
            _ => None,
        }
    }

    /// Every symbolic dim mentioned by this type.
    pub fn dims(&self) -> Vec<&Dim> {
        match self {
            Type::Tensor(t) => t.shape.iter().collect(),
            Type::SymInt(Some(d)) => vec![d],
            Type::List(t) => t.dims(),
            _ => vec![],
        }
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[", self.dtype)?;
        for (i, d) in self.shape.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

/// Text form used by the `.fxir` format: `f32[s0,3]`, `symint`, `symint(2*s0)`, `list<f32[2]>`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Tensor(t) => write!(f, "{t}"),
            Type::SymInt(None) => f.write_str("symint"),
            Type::SymInt(Some(d)) => write!(f, "symint({d})"),
            Type::SymFloat => f.write_str("symfloat"),
            Type::SymBool => f.write_str("symbool"),
            Type::Int => f.write_str("int"),
            Type::Float => f.write_str("float"),
            Type::Bool => f.write_str("bool"),
            Type::Str => f.write_str("str"),
            Type::List(t) => write!(f, "list<{t}>"),
            Type::None => f.write_str("none"),
            Type::Token => f.write_str("token"),
            Type::Object(c) => write!(f, "object<{c:?}>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let t = Type::tensor(
            DType::F32,
            smallvec::smallvec![Dim::sym("s0"), Dim::constant(3)],
        );
        assert_eq!(t.to_string(), "f32[s0,3]");
        assert_eq!(Type::tensor(DType::I64, Shape::new()).to_string(), "i64[]");
        assert_eq!(
            Type::SymInt(Some(Dim::sym("s0").scale(2))).to_string(),
            "symint(2*s0)"
        );
        let t = TensorType::new(DType::F32, static_shape(&[2, 3, 4]));
        assert_eq!(t.numel(), Dim::constant(24));
    }
}
