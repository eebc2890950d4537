//! The legacy reducing scatters, `scatter.reduce` and `scatter.value_reduce`
//! (`reduce="add"` / `"multiply"`), as `scatter_reduce.two` (`"sum"` / `"prod"`) with
//! `include_self=True`: both fold `src` into `self` at `index` the same way.

use super::{one, Add};
use crate::graph::Arg;
use crate::ops::decomp::val;
use crate::ops::DecompCx;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.scatter.reduce", |c| {
        let src = c.tensor("src")?;
        scatter_reduce(c, src)
    });
    add("aten.scatter.value_reduce", |c| {
        // The value as a tensor of `index`'s shape in `self`'s dtype.
        let (x, idx) = (c.tensor("self")?, c.tensor("index")?);
        let dtype = c.tensor_type(x)?.dtype;
        let v = c.arg("value")?;
        let src = c.call_kw(
            "aten.full_like.default",
            vec![val(idx), v],
            vec![("dtype".into(), Arg::DType(dtype))],
        )?[0];
        scatter_reduce(c, src)
    });
}

fn scatter_reduce(c: &mut DecompCx<'_>, src: crate::ValueId) -> Result<Vec<Arg>, String> {
    let (x, idx) = (c.tensor("self")?, c.tensor("index")?);
    let dim = c.arg("dim")?;
    let how = match c.str("reduce")?.as_str() {
        "add" => "sum",
        "multiply" => "prod",
        r => {
            return Err(format!(
                "reduce argument must be either add or multiply, got {r:?}"
            ))
        }
    };
    let r = c.call_kw(
        "aten.scatter_reduce.two",
        vec![val(x), dim, val(idx), val(src), Arg::Str(how.into())],
        vec![("include_self".into(), Arg::Bool(true))],
    )?;
    one(r[0])
}
