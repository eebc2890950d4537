//! Element types: the [`DType`] enum, the [`Element`] trait that ties each Rust element type to
//! its `DType` and storage variant, and the dispatch macros that turn a runtime dtype into a
//! monomorphized code path (so inner loops never dispatch per element).

use half::{bf16, f16};
use std::fmt;
pub use trtfx_ir::elements::LeElement;

/// Element type of a [`crate::Tensor`]. Mirrors the subset of `torch.dtype` the executor supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// `torch.float64`
    F64,
    /// `torch.float32`
    F32,
    /// `torch.float16`
    F16,
    /// `torch.bfloat16`
    BF16,
    /// `torch.int64`
    I64,
    /// `torch.int32`
    I32,
    /// `torch.int16`
    I16,
    /// `torch.int8`
    I8,
    /// `torch.uint8`
    U8,
    /// `torch.bool`
    Bool,
    /// `torch.uint16` (one of PyTorch's limited-support unsigned types: stored, copied, cast
    /// and compared; arithmetic with other dtypes is refused by promotion)
    U16,
    /// `torch.uint32` (limited support, like [`DType::U16`])
    U32,
    /// `torch.uint64` (limited support, like [`DType::U16`])
    U64,
    /// `torch.complex64` (stored, copied, sliced and cast; only the kernels that declare
    /// complex support take it, see [`crate::ops`]: the FFT family, conjugation, layout ops)
    C64,
    /// `torch.complex128` (like [`DType::C64`])
    C128,
}

/// Type-promotion category (`bool < int < float`), as used by `torch.result_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// `torch.bool`
    Bool,
    /// Signed or unsigned integers.
    Int,
    /// Floating point types.
    Float,
    /// Complex types.
    Complex,
}

impl DType {
    /// PyTorch's limited-support unsigned dtypes, which promote with nothing but themselves and
    /// floats; not in [`DType::ALL`].
    pub const LIMITED_UNSIGNED: [DType; 3] = [DType::U16, DType::U32, DType::U64];

    /// The fully supported dtypes (every op takes them), handy for tests.
    pub const ALL: [DType; 10] = [
        DType::F64,
        DType::F32,
        DType::F16,
        DType::BF16,
        DType::I64,
        DType::I32,
        DType::I16,
        DType::I8,
        DType::U8,
        DType::Bool,
    ];

    /// Size of one element in bytes (bool is stored as one byte, like PyTorch).
    pub fn size(self) -> usize {
        match self {
            DType::C128 => 16,
            DType::F64 | DType::I64 | DType::U64 | DType::C64 => 8,
            DType::F32 | DType::I32 | DType::U32 => 4,
            DType::F16 | DType::BF16 | DType::I16 | DType::U16 => 2,
            DType::I8 | DType::U8 | DType::Bool => 1,
        }
    }

    /// True for floating point dtypes.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F64 | DType::F32 | DType::F16 | DType::BF16)
    }

    /// True for integer dtypes (not bool).
    pub fn is_int(self) -> bool {
        matches!(
            self,
            DType::I64
                | DType::I32
                | DType::I16
                | DType::I8
                | DType::U8
                | DType::U16
                | DType::U32
                | DType::U64
        )
    }

    /// True for the unsigned integer dtypes.
    pub fn is_unsigned(self) -> bool {
        matches!(self, DType::U8 | DType::U16 | DType::U32 | DType::U64)
    }

    /// True for the complex dtypes.
    pub fn is_complex(self) -> bool {
        matches!(self, DType::C64 | DType::C128)
    }

    /// The real dtype of a complex dtype's components (`c64` → `f32`, `c128` → `f64`);
    /// other dtypes map to themselves (`torch`'s `toRealValueType`).
    pub fn to_real(self) -> DType {
        match self {
            DType::C64 => DType::F32,
            DType::C128 => DType::F64,
            d => d,
        }
    }

    /// The complex dtype with components of this float dtype (`f64` → `c128`, every other
    /// dtype → `c64`, as `torch`'s `toComplexType` after the FFT's promotion to the default
    /// float); complex dtypes map to themselves.
    pub fn to_complex(self) -> DType {
        match self {
            DType::F64 | DType::C128 => DType::C128,
            _ => DType::C64,
        }
    }

    /// Promotion category of this dtype.
    pub fn category(self) -> Category {
        if self.is_complex() {
            Category::Complex
        } else if self.is_float() {
            Category::Float
        } else if self == DType::Bool {
            Category::Bool
        } else {
            Category::Int
        }
    }

    /// The PyTorch name, e.g. `"float32"`.
    pub fn name(self) -> &'static str {
        match self {
            DType::F64 => "float64",
            DType::F32 => "float32",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::I64 => "int64",
            DType::I32 => "int32",
            DType::I16 => "int16",
            DType::I8 => "int8",
            DType::U8 => "uint8",
            DType::Bool => "bool",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::C64 => "complex64",
            DType::C128 => "complex128",
        }
    }

    /// The float dtype PyTorch computes this dtype's float math in: f64 for f64, f32 otherwise
    /// (f16/bf16 are upcast on CPU; ints/bools are promoted to the default dtype f32).
    pub fn compute_float(self) -> DType {
        if self == DType::F64 {
            DType::F64
        } else {
            DType::F32
        }
    }

    /// `self` if it is a float dtype, else the default float dtype (f32), which is what ops like
    /// `exp`, `sqrt` or true division produce for integer inputs.
    pub fn to_float_or_default(self) -> DType {
        if self.is_float() {
            self
        } else {
            DType::F32
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Typed contiguous storage of a tensor.
#[derive(Clone, Debug, PartialEq)]
pub enum Storage {
    /// f64 data
    F64(Vec<f64>),
    /// f32 data
    F32(Vec<f32>),
    /// f16 data
    F16(Vec<f16>),
    /// bf16 data
    BF16(Vec<bf16>),
    /// i64 data
    I64(Vec<i64>),
    /// i32 data
    I32(Vec<i32>),
    /// i16 data
    I16(Vec<i16>),
    /// i8 data
    I8(Vec<i8>),
    /// u8 data
    U8(Vec<u8>),
    /// bool data
    Bool(Vec<bool>),
    /// u16 data
    U16(Vec<u16>),
    /// u32 data
    U32(Vec<u32>),
    /// u64 data
    U64(Vec<u64>),
    /// complex64 data
    C64(Vec<C64>),
    /// complex128 data
    C128(Vec<C128>),
}

impl Storage {
    /// The dtype of the stored elements.
    pub fn dtype(&self) -> DType {
        match self {
            Storage::F64(_) => DType::F64,
            Storage::F32(_) => DType::F32,
            Storage::F16(_) => DType::F16,
            Storage::BF16(_) => DType::BF16,
            Storage::I64(_) => DType::I64,
            Storage::I32(_) => DType::I32,
            Storage::I16(_) => DType::I16,
            Storage::I8(_) => DType::I8,
            Storage::U8(_) => DType::U8,
            Storage::Bool(_) => DType::Bool,
            Storage::U16(_) => DType::U16,
            Storage::U32(_) => DType::U32,
            Storage::U64(_) => DType::U64,
            Storage::C64(_) => DType::C64,
            Storage::C128(_) => DType::C128,
        }
    }

    /// Number of stored elements.
    pub fn len(&self) -> usize {
        match self {
            Storage::F64(v) => v.len(),
            Storage::F32(v) => v.len(),
            Storage::F16(v) => v.len(),
            Storage::BF16(v) => v.len(),
            Storage::I64(v) => v.len(),
            Storage::I32(v) => v.len(),
            Storage::I16(v) => v.len(),
            Storage::I8(v) => v.len(),
            Storage::U8(v) => v.len(),
            Storage::Bool(v) => v.len(),
            Storage::U16(v) => v.len(),
            Storage::U32(v) => v.len(),
            Storage::U64(v) => v.len(),
            Storage::C64(v) => v.len(),
            Storage::C128(v) => v.len(),
        }
    }

    /// True when no elements are stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A Rust type that can be a tensor element. Conversions follow PyTorch's `static_cast`-like
/// casting: float → int truncates toward zero (saturating here instead of C++ UB), int → narrower
/// int wraps, anything → bool is `!= 0`.
///
/// The byte layout (`read_le`/`write_le`) is the IR's one weight decoder,
/// [`trtfx_ir::elements::LeElement`].
pub trait Element:
    LeElement + Copy + Send + Sync + PartialEq + PartialOrd + Default + fmt::Debug + 'static
{
    /// The dtype of this element type.
    const DTYPE: DType;
    /// Borrow the storage's data if it holds this type.
    fn slice(s: &Storage) -> Option<&[Self]>;
    /// Wrap a vector into storage.
    fn into_storage(v: Vec<Self>) -> Storage;
    /// Cast to f64 (exact for everything but huge i64).
    fn to_f64(self) -> f64;
    /// Cast from f64 with PyTorch semantics.
    fn from_f64(v: f64) -> Self;
    /// Cast to f32; for f16/bf16 this is the exact upcast used for computation.
    fn to_f32(self) -> f32;
    /// Cast from f32 (rounds for f16/bf16).
    fn from_f32(v: f32) -> Self;
    /// Cast to i64 (floats truncate toward zero).
    fn to_i64(self) -> i64;
    /// Cast from i64 (narrower ints wrap).
    fn from_i64(v: i64) -> Self;
    /// `self != 0`.
    fn to_bool(self) -> bool;
    /// `0` or `1`.
    fn from_bool(b: bool) -> Self;
    /// The imaginary part as f64 (0 for every real type).
    #[inline(always)]
    fn imag_f64(self) -> f64 {
        0.0
    }
    /// From a complex value given as f64 parts: a complex type keeps both, a real type keeps
    /// the real part (PyTorch's complex → real cast).
    #[inline(always)]
    fn from_complex_f64(re: f64, _im: f64) -> Self {
        Self::from_f64(re)
    }
}

macro_rules! impl_int_element {
    ($t:ty, $dt:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$dt;
            fn slice(s: &Storage) -> Option<&[Self]> {
                match s {
                    Storage::$dt(v) => Some(v),
                    _ => None,
                }
            }
            fn into_storage(v: Vec<Self>) -> Storage {
                Storage::$dt(v)
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                // Truncate toward zero first (like C++), then wrap into the narrow type like
                // PyTorch does via int64 for out-of-range values.
                (v as i64) as $t
            }
            #[inline(always)]
            fn to_f32(self) -> f32 {
                self as f32
            }
            #[inline(always)]
            fn from_f32(v: f32) -> Self {
                (v as i64) as $t
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_bool(self) -> bool {
                self != 0
            }
            #[inline(always)]
            fn from_bool(b: bool) -> Self {
                b as $t
            }
        }
    };
}
impl_int_element!(i64, I64);
impl_int_element!(i32, I32);
impl_int_element!(i16, I16);
impl_int_element!(i8, I8);
impl_int_element!(u8, U8);
impl_int_element!(u16, U16);
impl_int_element!(u32, U32);
impl_int_element!(u64, U64);

macro_rules! impl_float_element {
    ($t:ty, $dt:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$dt;
            fn slice(s: &Storage) -> Option<&[Self]> {
                match s {
                    Storage::$dt(v) => Some(v),
                    _ => None,
                }
            }
            fn into_storage(v: Vec<Self>) -> Storage {
                Storage::$dt(v)
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f32(self) -> f32 {
                self as f32
            }
            #[inline(always)]
            fn from_f32(v: f32) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_bool(self) -> bool {
                self != 0.0
            }
            #[inline(always)]
            fn from_bool(b: bool) -> Self {
                if b {
                    1.0
                } else {
                    0.0
                }
            }
        }
    };
}
impl_float_element!(f64, F64);
impl_float_element!(f32, F32);

macro_rules! impl_half_element {
    ($t:ty, $dt:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$dt;
            fn slice(s: &Storage) -> Option<&[Self]> {
                match s {
                    Storage::$dt(v) => Some(v),
                    _ => None,
                }
            }
            fn into_storage(v: Vec<Self>) -> Storage {
                Storage::$dt(v)
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                <$t>::to_f64(self)
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                <$t>::from_f64(v)
            }
            #[inline(always)]
            fn to_f32(self) -> f32 {
                <$t>::to_f32(self)
            }
            #[inline(always)]
            fn from_f32(v: f32) -> Self {
                <$t>::from_f32(v)
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                <$t>::to_f32(self) as i64
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                <$t>::from_f64(v as f64)
            }
            #[inline(always)]
            fn to_bool(self) -> bool {
                <$t>::to_f32(self) != 0.0
            }
            #[inline(always)]
            fn from_bool(b: bool) -> Self {
                if b {
                    <$t>::ONE
                } else {
                    <$t>::ZERO
                }
            }
        }
    };
}
impl_half_element!(f16, F16);
impl_half_element!(bf16, BF16);

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    fn slice(s: &Storage) -> Option<&[Self]> {
        match s {
            Storage::Bool(v) => Some(v),
            _ => None,
        }
    }
    fn into_storage(v: Vec<Self>) -> Storage {
        Storage::Bool(v)
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as u8 as f32
    }
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        v != 0.0
    }
    #[inline(always)]
    fn to_i64(self) -> i64 {
        self as i64
    }
    #[inline(always)]
    fn from_i64(v: i64) -> Self {
        v != 0
    }
    #[inline(always)]
    fn to_bool(self) -> bool {
        self
    }
    #[inline(always)]
    fn from_bool(b: bool) -> Self {
        b
    }
}

macro_rules! impl_complex_element {
    ($t:ident, $f:ty, $dt:ident, $doc:literal) => {
        #[doc = $doc]
        ///
        /// A newtype over [`num_complex::Complex`] so that it can be an [`Element`]. Casts
        /// follow PyTorch: to a real dtype keeps the real part, to bool is "either part is
        /// nonzero", from a real value the imaginary part is 0. The order ([`PartialOrd`]) is
        /// lexicographic on (re, im) and exists only to satisfy the trait bound: PyTorch has
        /// no order on complex numbers, and the kernels that compare refuse complex tensors.
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        #[repr(transparent)]
        pub struct $t(pub num_complex::Complex<$f>);

        impl $t {
            /// `re + im·i`.
            pub fn new(re: $f, im: $f) -> Self {
                $t(num_complex::Complex::new(re, im))
            }
        }

        impl PartialOrd for $t {
            fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
                (self.0.re, self.0.im).partial_cmp(&(o.0.re, o.0.im))
            }
        }

        impl LeElement for $t {
            const SIZE: usize = 2 * std::mem::size_of::<$f>();
            #[inline(always)]
            fn read_le(b: &[u8]) -> Self {
                let h = std::mem::size_of::<$f>();
                $t::new(<$f>::read_le(&b[..h]), <$f>::read_le(&b[h..2 * h]))
            }
            #[inline(always)]
            fn write_le(self, out: &mut Vec<u8>) {
                self.0.re.write_le(out);
                self.0.im.write_le(out);
            }
        }

        impl Element for $t {
            const DTYPE: DType = DType::$dt;
            fn slice(s: &Storage) -> Option<&[Self]> {
                match s {
                    Storage::$dt(v) => Some(v),
                    _ => None,
                }
            }
            fn into_storage(v: Vec<Self>) -> Storage {
                Storage::$dt(v)
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self.0.re as f64
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                $t::new(v as $f, 0.0)
            }
            #[inline(always)]
            fn to_f32(self) -> f32 {
                self.0.re as f32
            }
            #[inline(always)]
            fn from_f32(v: f32) -> Self {
                $t::new(v as $f, 0.0)
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                self.0.re as i64
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                $t::new(v as $f, 0.0)
            }
            #[inline(always)]
            fn to_bool(self) -> bool {
                self.0.re != 0.0 || self.0.im != 0.0
            }
            #[inline(always)]
            fn from_bool(b: bool) -> Self {
                $t::new(if b { 1.0 } else { 0.0 }, 0.0)
            }
            #[inline(always)]
            fn imag_f64(self) -> f64 {
                self.0.im as f64
            }
            #[inline(always)]
            fn from_complex_f64(re: f64, im: f64) -> Self {
                $t::new(re as $f, im as $f)
            }
        }
    };
}
impl_complex_element!(C64, f32, C64, "A `torch.complex64` element (two f32).");
impl_complex_element!(C128, f64, C128, "A `torch.complex128` element (two f64).");

/// Float type used for computation (f32 or f64): f16/bf16 are upcast to f32 like PyTorch CPU.
pub trait Real:
    Element
    + num_traits::Float
    + num_traits::FloatConst
    + std::iter::Sum
    + std::ops::AddAssign
    + std::ops::MulAssign
    + std::ops::SubAssign
    + std::ops::DivAssign
{
    /// Convert from f64 (rounding for f32).
    fn lit(v: f64) -> Self {
        <Self as Element>::from_f64(v)
    }
    /// The error function (std has none).
    fn erf(self) -> Self;
    /// The complementary error function `1 - erf(x)`, accurate where `erf(x)` is near 1.
    fn erfc(self) -> Self;
    /// `ln |Γ(x)|`.
    fn lgamma(self) -> Self;
}
impl Real for f32 {
    fn erf(self) -> Self {
        libm::erff(self)
    }
    fn erfc(self) -> Self {
        libm::erfcf(self)
    }
    fn lgamma(self) -> Self {
        libm::lgammaf(self)
    }
}
impl Real for f64 {
    fn erf(self) -> Self {
        libm::erf(self)
    }
    fn erfc(self) -> Self {
        libm::erfc(self)
    }
    fn lgamma(self) -> Self {
        libm::lgamma(self)
    }
}

/// Run `$body` with `$T` bound to the Rust element type of `$dt` (any of the 15 dtypes).
#[macro_export]
macro_rules! with_dtype {
    ($dt:expr, $T:ident => $body:expr) => {{
        use $crate::dtype::DType as __D;
        #[allow(unused_imports)]
        use $crate::dtype::Element as _;
        match $dt {
            __D::F64 => {
                type $T = f64;
                $body
            }
            __D::F32 => {
                type $T = f32;
                $body
            }
            __D::F16 => {
                type $T = ::half::f16;
                $body
            }
            __D::BF16 => {
                type $T = ::half::bf16;
                $body
            }
            __D::I64 => {
                type $T = i64;
                $body
            }
            __D::I32 => {
                type $T = i32;
                $body
            }
            __D::I16 => {
                type $T = i16;
                $body
            }
            __D::I8 => {
                type $T = i8;
                $body
            }
            __D::U8 => {
                type $T = u8;
                $body
            }
            __D::Bool => {
                type $T = bool;
                $body
            }
            __D::U16 => {
                type $T = u16;
                $body
            }
            __D::U32 => {
                type $T = u32;
                $body
            }
            __D::U64 => {
                type $T = u64;
                $body
            }
            __D::C64 => {
                type $T = $crate::dtype::C64;
                $body
            }
            __D::C128 => {
                type $T = $crate::dtype::C128;
                $body
            }
        }
    }};
}

/// Run `$body` with `$F` bound to the compute float type (f32 or f64) for dtype `$dt`.
#[macro_export]
macro_rules! with_real {
    ($dt:expr, $F:ident => $body:expr) => {{
        #[allow(unused_imports)]
        use ::num_traits::{Float as _, One as _, Zero as _};
        #[allow(unused_imports)]
        use $crate::dtype::{Element as _, Real as _};
        if $dt == $crate::dtype::DType::F64 {
            type $F = f64;
            $body
        } else {
            type $F = f32;
            $body
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_follow_torch() {
        assert_eq!(<i32 as Element>::from_f64(-2.7), -2);
        assert_eq!(<i64 as Element>::from_f64(2.7), 2);
        assert_eq!(<u8 as Element>::from_i64(300), 44);
        assert!(<bool as Element>::from_f64(0.1));
        assert!(!<bool as Element>::from_f64(0.0));
        assert_eq!(<f16 as Element>::from_f32(1.0).to_f32(), 1.0);
        assert_eq!(DType::F16.compute_float(), DType::F32);
        assert_eq!(DType::I8.category(), Category::Int);
    }
}
