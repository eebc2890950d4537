//! Strided views and scatters: `as_strided`, `diagonal`, `unfold`, their `_copy` forms (the
//! same values: every view here is a copy) and `as_strided_scatter`, `diagonal_scatter`.

use super::{one, KernelTable};
use crate::kernels::strided as k;

pub(crate) fn register(t: &mut KernelTable) {
    t.add_all(
        &["aten.as_strided.default", "aten.as_strided_copy.default"],
        |c| {
            let x = c.tensor("self")?;
            let (size, stride) = (c.ints("size")?, c.ints("stride")?);
            one(
                k::as_strided(x, &size, &stride, c.opt_int("storage_offset")?),
                c,
            )
        },
    );
    t.add("aten.as_strided_scatter.default", |c| {
        let (x, src) = (c.tensor("self")?, c.tensor("src")?);
        let (size, stride) = (c.ints("size")?, c.ints("stride")?);
        one(
            k::as_strided_scatter(x, src, &size, &stride, c.opt_int("storage_offset")?),
            c,
        )
    });
    t.add_all(
        &["aten.diagonal.default", "aten.diagonal_copy.default"],
        |c| {
            let x = c.tensor("self")?;
            one(
                k::diagonal(x, c.int("offset")?, c.int("dim1")?, c.int("dim2")?),
                c,
            )
        },
    );
    t.add("aten.diagonal_scatter.default", |c| {
        let (x, src) = (c.tensor("self")?, c.tensor("src")?);
        one(
            k::diagonal_scatter(x, src, c.int("offset")?, c.int("dim1")?, c.int("dim2")?),
            c,
        )
    });
    t.add_all(&["aten.unfold.default", "aten.unfold_copy.default"], |c| {
        let x = c.tensor("self")?;
        one(
            k::unfold(x, c.int("dimension")?, c.int("size")?, c.int("step")?),
            c,
        )
    });
}
