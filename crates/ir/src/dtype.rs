//! Element types: every dtype `torch.export` can write.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A tensor element type. The text names follow PyTorch's short names (`f32`, `i64`, `bool`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// `torch.bool`
    Bool,
    /// `torch.uint8`
    U8,
    /// `torch.int8`
    I8,
    /// `torch.int16`
    I16,
    /// `torch.int32`
    I32,
    /// `torch.int64`
    I64,
    /// `torch.uint16`
    U16,
    /// `torch.uint32`
    U32,
    /// `torch.uint64`
    U64,
    /// `torch.float16`
    F16,
    /// `torch.bfloat16`
    BF16,
    /// `torch.float32`
    F32,
    /// `torch.float64`
    F64,
    /// `torch.complex32`
    C32,
    /// `torch.complex64`
    C64,
    /// `torch.complex128`
    C128,
    /// `torch.float8_e4m3fn`
    F8E4M3FN,
    /// `torch.float8_e5m2`
    F8E5M2,
    /// `torch.float8_e4m3fnuz`
    F8E4M3FNUZ,
    /// `torch.float8_e5m2fnuz`
    F8E5M2FNUZ,
    /// `torch.float8_e8m0fnu`
    F8E8M0FNU,
}

/// The promotion category of a dtype, as PyTorch orders them: bool < integral < floating < complex.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// `bool`
    Bool,
    /// signed and unsigned integers
    Integral,
    /// floating point, float8 included
    Floating,
    /// complex
    Complex,
}

impl DType {
    /// Every dtype, in a fixed order (for tests and tables).
    pub const ALL: [DType; 21] = [
        DType::Bool,
        DType::U8,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::F16,
        DType::BF16,
        DType::F32,
        DType::F64,
        DType::C32,
        DType::C64,
        DType::C128,
        DType::F8E4M3FN,
        DType::F8E5M2,
        DType::F8E4M3FNUZ,
        DType::F8E5M2FNUZ,
        DType::F8E8M0FNU,
    ];

    /// The short text name used by the `.fxir` format.
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "u8",
            DType::I8 => "i8",
            DType::I16 => "i16",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::U16 => "u16",
            DType::U32 => "u32",
            DType::U64 => "u64",
            DType::F16 => "f16",
            DType::BF16 => "bf16",
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::C32 => "c32",
            DType::C64 => "c64",
            DType::C128 => "c128",
            DType::F8E4M3FN => "f8e4m3fn",
            DType::F8E5M2 => "f8e5m2",
            DType::F8E4M3FNUZ => "f8e4m3fnuz",
            DType::F8E5M2FNUZ => "f8e5m2fnuz",
            DType::F8E8M0FNU => "f8e8m0fnu",
        }
    }

    /// PyTorch's name (`torch.float32` → `float32`), as used in safetensors-free contexts and reports.
    pub fn torch_name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "uint8",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::C32 => "complex32",
            DType::C64 => "complex64",
            DType::C128 => "complex128",
            DType::F8E4M3FN => "float8_e4m3fn",
            DType::F8E5M2 => "float8_e5m2",
            DType::F8E4M3FNUZ => "float8_e4m3fnuz",
            DType::F8E5M2FNUZ => "float8_e5m2fnuz",
            DType::F8E8M0FNU => "float8_e8m0fnu",
        }
    }

    /// Size of one element in bytes.
    pub fn itemsize(self) -> usize {
        match self {
            DType::Bool | DType::U8 | DType::I8 => 1,
            DType::F8E4M3FN
            | DType::F8E5M2
            | DType::F8E4M3FNUZ
            | DType::F8E5M2FNUZ
            | DType::F8E8M0FNU => 1,
            DType::I16 | DType::U16 | DType::F16 | DType::BF16 => 2,
            DType::I32 | DType::U32 | DType::F32 | DType::C32 => 4,
            DType::I64 | DType::U64 | DType::F64 | DType::C64 => 8,
            DType::C128 => 16,
        }
    }

    /// The promotion category.
    pub fn category(self) -> Category {
        match self {
            DType::Bool => Category::Bool,
            DType::U8
            | DType::I8
            | DType::I16
            | DType::I32
            | DType::I64
            | DType::U16
            | DType::U32
            | DType::U64 => Category::Integral,
            DType::C32 | DType::C64 | DType::C128 => Category::Complex,
            _ => Category::Floating,
        }
    }

    /// True for floating types (float8 included, complex excluded).
    pub fn is_float(self) -> bool {
        self.category() == Category::Floating
    }

    /// True for signed and unsigned integer types (bool excluded).
    pub fn is_integral(self) -> bool {
        self.category() == Category::Integral
    }

    /// True for complex types.
    pub fn is_complex(self) -> bool {
        self.category() == Category::Complex
    }

    /// True for 64-bit types that TensorRT cannot take as is (`i64`, `f64`, `u64`, `c128`).
    pub fn is_64bit(self) -> bool {
        matches!(self, DType::I64 | DType::F64 | DType::U64 | DType::C128)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an unknown dtype name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dtype `{0}`")]
pub struct UnknownDType(pub String);

impl FromStr for DType {
    type Err = UnknownDType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DType::ALL
            .iter()
            .copied()
            .find(|d| d.name() == s || d.torch_name() == s)
            .ok_or_else(|| UnknownDType(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in DType::ALL {
            assert_eq!(d.name().parse::<DType>().unwrap(), d);
            assert_eq!(d.torch_name().parse::<DType>().unwrap(), d);
        }
        assert!("f33".parse::<DType>().is_err());
    }

    #[test]
    fn categories_order_like_torch() {
        assert!(DType::Bool.category() < DType::I64.category());
        assert!(DType::I64.category() < DType::F16.category());
        assert!(DType::F64.category() < DType::C64.category());
        assert_eq!(DType::BF16.itemsize(), 2);
    }
}
