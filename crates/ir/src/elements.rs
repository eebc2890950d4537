//! Weight bytes as elements: the one place that turns the little-endian byte layout of weights
//! (safetensors, `.pt2` storages, `.trtfx` artifacts) into typed values and back.
//!
//! Every crate that reads weight bytes goes through here: the executor's tensors
//! ([`LeElement`] is the supertrait of its element type), the 64-bit truncation of weights,
//! constant folding, and the TensorRT network's shape constants. Keeping one decoder means one
//! definition of the layout (little-endian, `bool` as one byte, `f16`/`bf16` as IEEE halves)
//! and one length check with one error message.

use crate::dtype::DType;
use half::{bf16, f16};

/// An element type with a fixed little-endian byte layout.
pub trait LeElement: Copy {
    /// Bytes per element.
    const SIZE: usize;
    /// Reads one element from exactly [`LeElement::SIZE`] bytes.
    fn read_le(b: &[u8]) -> Self;
    /// Appends the element's bytes.
    fn write_le(self, out: &mut Vec<u8>);
}

macro_rules! le_element {
    ($($t:ty),*) => {$(
        impl LeElement for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            #[inline(always)]
            fn read_le(b: &[u8]) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(&b[..std::mem::size_of::<$t>()]);
                <$t>::from_le_bytes(a)
            }
            #[inline(always)]
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
le_element!(i64, i32, i16, i8, u8, u16, u32, u64, f32, f64, f16, bf16);

impl LeElement for bool {
    const SIZE: usize = 1;
    #[inline(always)]
    fn read_le(b: &[u8]) -> Self {
        // PyTorch stores bools as one byte; any nonzero byte reads as true.
        b[0] != 0
    }
    #[inline(always)]
    fn write_le(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
}

/// Decodes `bytes` as elements of `T`; the length must be a multiple of the element size.
pub fn decode<T: LeElement>(bytes: &[u8]) -> Result<Vec<T>, String> {
    if !bytes.len().is_multiple_of(T::SIZE) {
        return Err(format!(
            "{} bytes are not a whole number of {}-byte elements",
            bytes.len(),
            T::SIZE
        ));
    }
    Ok(bytes.chunks_exact(T::SIZE).map(T::read_le).collect())
}

/// Encodes elements as little-endian bytes.
pub fn encode<T: LeElement>(values: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * T::SIZE);
    for &v in values {
        v.write_le(&mut out);
    }
    out
}

/// Checks that `bytes` hold exactly `numel` elements of `dtype`.
pub fn check_len(dtype: DType, numel: usize, bytes: &[u8]) -> Result<(), String> {
    let want = numel.checked_mul(dtype.itemsize());
    if want != Some(bytes.len()) {
        return Err(format!(
            "{} bytes do not hold {numel} elements of {dtype}",
            bytes.len()
        ));
    }
    Ok(())
}

/// Integer (and bool) elements of `dtype` widened to `i64`; `None` for other dtypes (floats
/// would need a rounding rule, which is the caller's to choose).
pub fn to_i64s(dtype: DType, bytes: &[u8]) -> Option<Result<Vec<i64>, String>> {
    fn widen<T: LeElement + Into<i64>>(b: &[u8]) -> Result<Vec<i64>, String> {
        Ok(decode::<T>(b)?.into_iter().map(Into::into).collect())
    }
    Some(match dtype {
        DType::I64 => decode::<i64>(bytes),
        DType::I32 => widen::<i32>(bytes),
        DType::I16 => widen::<i16>(bytes),
        DType::I8 => widen::<i8>(bytes),
        DType::U8 => widen::<u8>(bytes),
        DType::U16 => widen::<u16>(bytes),
        DType::U32 => widen::<u32>(bytes),
        DType::Bool => decode::<bool>(bytes).map(|v| v.into_iter().map(i64::from).collect()),
        _ => return None,
    })
}

/// Real floating-point elements of `dtype` widened to `f64`; `None` for other dtypes.
pub fn to_f64s(dtype: DType, bytes: &[u8]) -> Option<Result<Vec<f64>, String>> {
    Some(match dtype {
        DType::F64 => decode::<f64>(bytes),
        DType::F32 => decode::<f32>(bytes).map(|v| v.into_iter().map(f64::from).collect()),
        DType::F16 => decode::<f16>(bytes).map(|v| v.into_iter().map(f64::from).collect()),
        DType::BF16 => decode::<bf16>(bytes).map(|v| v.into_iter().map(f64::from).collect()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_layout() {
        let i = [i64::MIN, -1, 0, 7, i64::MAX];
        assert_eq!(decode::<i64>(&encode(&i)).unwrap(), i);
        let f = [f32::MIN, -0.5, 0.0, 1.25, f32::INFINITY];
        assert_eq!(decode::<f32>(&encode(&f)).unwrap(), f);
        let h = [f16::from_f32(1.5), f16::from_f32(-2.0)];
        assert_eq!(decode::<f16>(&encode(&h)).unwrap(), h);
        let b = [true, false, true];
        assert_eq!(encode(&b), vec![1, 0, 1]);
        assert_eq!(
            decode::<bool>(&[0, 2, 255]).unwrap(),
            vec![false, true, true]
        );
    }

    #[test]
    fn widening_follows_the_dtype() {
        let bytes = encode(&[-3i8, 4]);
        assert_eq!(to_i64s(DType::I8, &bytes).unwrap().unwrap(), vec![-3, 4]);
        assert_eq!(to_i64s(DType::U8, &bytes).unwrap().unwrap(), vec![253, 4]);
        assert!(to_i64s(DType::F32, &bytes).is_none());
        let bytes = encode(&[1.5f32, -2.0]);
        assert_eq!(
            to_f64s(DType::F32, &bytes).unwrap().unwrap(),
            vec![1.5, -2.0]
        );
    }

    #[test]
    fn ragged_lengths_are_errors() {
        assert_eq!(
            decode::<i32>(&[0; 6]).unwrap_err(),
            "6 bytes are not a whole number of 4-byte elements"
        );
        assert_eq!(
            check_len(DType::F32, 2, &[0; 4]).unwrap_err(),
            "4 bytes do not hold 2 elements of f32"
        );
        assert!(check_len(DType::F32, 1, &[0; 4]).is_ok());
    }
}
