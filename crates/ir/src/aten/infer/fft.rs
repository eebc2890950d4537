//! The FFT primitives of ATen: `_fft_c2c`, `_fft_r2c`, `_fft_c2r` (what `torch.fft.*` lowers
//! to in core ATen). The rules follow PyTorch's meta functions (`torch/_meta_registrations.py`):
//! `c2c` keeps the complex type and shape, `r2c` makes the complex type of a float input with
//! the last transformed dim halved plus one when one-sided, `c2r` makes the real type with the
//! last transformed dim set to `last_dim_size`.

use super::{norm_dim, t, Call, Rule, R};
use crate::aten::promote::{to_complex, to_real};
use crate::dim::Dim;

/// Explicit rules of this family (by `base` or `base.overload`).
pub(crate) const RULES: &[(&str, Rule)] = &[
    ("_fft_c2c.default", c2c),
    ("_fft_r2c.default", r2c),
    ("_fft_c2r.default", c2r),
];

/// The transformed dims, wrapped and checked: in range and unique.
fn dims(c: &Call, rank: usize) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for d in c.ints("dim")? {
        let w = norm_dim(d, rank)?;
        if out.contains(&w) {
            return Err(format!("FFT dims must be unique, got dim {w} twice"));
        }
        out.push(w);
    }
    Ok(out)
}

fn normalization(c: &Call) -> Result<(), String> {
    match c.int("normalization")? {
        0..=2 => Ok(()),
        v => Err(format!("normalization must be 0, 1 or 2, got {v}")),
    }
}

fn c2c(c: &Call) -> R {
    let x = c.tensor("self")?;
    if !x.dtype.is_complex() {
        return Err(format!("expects a complex input tensor, got {}", x.dtype));
    }
    dims(c, x.rank())?;
    normalization(c)?;
    Ok(vec![t(x.dtype, x.shape)])
}

fn r2c(c: &Call) -> R {
    let x = c.tensor("self")?;
    if !x.dtype.is_float() {
        return Err(format!(
            "expects a floating point input tensor, got {}",
            x.dtype
        ));
    }
    let ds = dims(c, x.rank())?;
    normalization(c)?;
    let mut s = x.shape;
    if c.bool_or("onesided", true) {
        if let Some(&last) = ds.last() {
            s[last] = super::div_dim(&s[last], &Dim::constant(2)).add(&Dim::constant(1));
        }
    }
    Ok(vec![t(to_complex(x.dtype), s)])
}

fn c2r(c: &Call) -> R {
    let x = c.tensor("self")?;
    if !x.dtype.is_complex() {
        return Err(format!("expects a complex input tensor, got {}", x.dtype));
    }
    let ds = dims(c, x.rank())?;
    normalization(c)?;
    let n = c.sym("last_dim_size")?;
    if n.as_const().is_some_and(|n| n < 1) {
        return Err(format!("Invalid number of data points ({n}) specified"));
    }
    let mut s = x.shape;
    let Some(&last) = ds.last() else {
        return Err("expects at least one dim to transform".into());
    };
    s[last] = n;
    Ok(vec![t(to_real(x.dtype), s)])
}
