//! Complex tensors and the FFT family: `_fft_c2c`, `_fft_r2c`, `_fft_c2r`, conjugation and
//! the real/complex views, plus [`COMPLEX_OK`], the kernels that accept complex tensors.

use super::{one, KernelTable};
use crate::kernels::fft::{self, Norm};

/// Every kernel that takes or makes complex tensors. Any other kernel given a complex tensor
/// (or asked for a complex result) is refused by the interpreter with the op's name, rather
/// than computing on the real parts: most kernels are generic over the element type, and only
/// these have been checked to mean the same on complex values (pure data movement, casts,
/// conjugation and the transforms).
pub(crate) const COMPLEX_OK: &[&str] = &[
    // The transforms and complex-specific ops (this file).
    "aten._fft_c2c.default",
    "aten._fft_r2c.default",
    "aten._fft_c2r.default",
    "aten._conj.default",
    "aten.conj.default",
    "aten.conj_physical.default",
    "aten._conj_physical.default",
    "aten.resolve_conj.default",
    "aten.resolve_neg.default",
    "aten.view_as_real.default",
    "aten.view_as_complex.default",
    "aten.real.default",
    "aten.imag.default",
    // Casts and data movement (ops/shape.rs, ops/index.rs): element-type generic copies.
    "aten._to_copy.default",
    "aten.to.dtype",
    "aten.clone.default",
    "aten.contiguous.default",
    "aten.alias.default",
    "aten.detach.default",
    "aten.lift_fresh_copy.default",
    "aten.slice.Tensor",
    "aten.narrow.default",
    "aten.select.int",
    "aten.constant_pad_nd.default",
    "aten.view.default",
    "aten.reshape.default",
    "aten._unsafe_view.default",
    "aten.permute.default",
    "aten.transpose.int",
    "aten.unsqueeze.default",
    "aten.squeeze.dim",
    "aten.squeeze.dims",
    "aten.squeeze.default",
    "aten.expand.default",
    "aten.cat.default",
    "aten.stack.default",
    "aten.flip.default",
    "aten.roll.default",
    "aten.index_select.default",
];

pub(super) fn register(t: &mut KernelTable) {
    t.add("aten._fft_c2c.default", |c| {
        let norm =
            Norm::from_int("_fft_c2c", c.int("normalization")?).map_err(|e| c.kernel_err(e))?;
        one(
            fft::fft_c2c(c.tensor("self")?, &c.ints("dim")?, norm, c.bool("forward")?),
            c,
        )
    });
    t.add("aten._fft_r2c.default", |c| {
        let norm =
            Norm::from_int("_fft_r2c", c.int("normalization")?).map_err(|e| c.kernel_err(e))?;
        one(
            fft::fft_r2c(
                c.tensor("self")?,
                &c.ints("dim")?,
                norm,
                c.bool("onesided")?,
            ),
            c,
        )
    });
    t.add("aten._fft_c2r.default", |c| {
        let norm =
            Norm::from_int("_fft_c2r", c.int("normalization")?).map_err(|e| c.kernel_err(e))?;
        one(
            fft::fft_c2r(
                c.tensor("self")?,
                &c.ints("dim")?,
                norm,
                c.int("last_dim_size")?,
            ),
            c,
        )
    });
    // Conjugation is lazy in PyTorch (a conj bit on a view); the executor has no views, so
    // every form materializes the conjugate. `resolve_neg` has nothing to resolve here.
    t.add_all(
        &[
            "aten._conj.default",
            "aten.conj.default",
            "aten.conj_physical.default",
            "aten._conj_physical.default",
            "aten.resolve_conj.default",
        ],
        |c| one(fft::conj(c.tensor("self")?), c),
    );
    t.add("aten.resolve_neg.default", |c| {
        one(Ok(c.tensor("self")?.clone()), c)
    });
    t.add("aten.view_as_real.default", |c| {
        one(fft::view_as_real(c.tensor("self")?), c)
    });
    t.add("aten.view_as_complex.default", |c| {
        one(fft::view_as_complex(c.tensor("self")?), c)
    });
    t.add("aten.real.default", |c| {
        one(fft::real(c.tensor("self")?), c)
    });
    t.add("aten.imag.default", |c| {
        one(fft::imag(c.tensor("self")?), c)
    });
}
