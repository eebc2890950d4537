//! Matrix products.

use super::{one, KernelTable};
use crate::kernels::linalg;
use crate::tensor::Tensor;

type MatFn = fn(&Tensor, &Tensor) -> crate::Result<Tensor>;
type AddMatFn = fn(&Tensor, &Tensor, &Tensor, f64, f64) -> crate::Result<Tensor>;

pub(crate) fn register(t: &mut KernelTable) {
    let products: &[(&str, &'static str, MatFn)] = &[
        ("aten.mm.default", "mat2", linalg::mm),
        ("aten.bmm.default", "mat2", linalg::bmm),
        ("aten.matmul.default", "other", linalg::matmul),
        ("aten.dot.default", "tensor", linalg::dot),
        ("aten.mv.default", "vec", linalg::mv),
    ];
    for &(name, rhs, f) in products {
        t.add(name, move |c| one(f(c.tensor("self")?, c.tensor(rhs)?), c));
    }
    let fused: &[(&str, &'static str, &'static str, AddMatFn)] = &[
        ("aten.addmm.default", "mat1", "mat2", linalg::addmm),
        ("aten.baddbmm.default", "batch1", "batch2", linalg::baddbmm),
    ];
    for &(name, a, b, f) in fused {
        t.add_with_inplace(&[name], move |c| {
            one(
                f(
                    c.tensor("self")?,
                    c.tensor(a)?,
                    c.tensor(b)?,
                    c.float("beta")?,
                    c.float("alpha")?,
                ),
                c,
            )
        });
    }
    t.add("aten.linear.default", |c| {
        one(
            linalg::linear(
                c.tensor("input")?,
                c.tensor("weight")?,
                c.opt_tensor("bias")?,
            ),
            c,
        )
    });
}
