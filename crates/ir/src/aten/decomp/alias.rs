//! Operator aliases: `divide`, `multiply`, `subtract`, `true_divide` (the NumPy-style names)
//! and `alias_copy`, each as a call of the operator it names under another name.

use super::{one, Add};
use crate::graph::Arg;
use crate::ops::decomp::val;
use crate::ops::DecompCx;

pub(super) fn register(add: &mut Add<'_>) {
    add("aten.divide.Tensor", |c| {
        forward(c, "aten.div.Tensor", &["self", "other"], &[])
    });
    add("aten.divide.Scalar", |c| {
        forward(c, "aten.div.Scalar", &["self", "other"], &[])
    });
    add("aten.divide.Tensor_mode", |c| {
        forward(
            c,
            "aten.div.Tensor_mode",
            &["self", "other"],
            &["rounding_mode"],
        )
    });
    add("aten.divide.Scalar_mode", |c| {
        forward(
            c,
            "aten.div.Scalar_mode",
            &["self", "other"],
            &["rounding_mode"],
        )
    });
    add("aten.true_divide.Tensor", |c| {
        forward(c, "aten.div.Tensor", &["self", "other"], &[])
    });
    add("aten.true_divide.Scalar", |c| {
        forward(c, "aten.div.Scalar", &["self", "other"], &[])
    });
    add("aten.multiply.Tensor", |c| {
        forward(c, "aten.mul.Tensor", &["self", "other"], &[])
    });
    add("aten.multiply.Scalar", |c| {
        forward(c, "aten.mul.Scalar", &["self", "other"], &[])
    });
    add("aten.subtract.Tensor", |c| {
        forward(c, "aten.sub.Tensor", &["self", "other"], &["alpha"])
    });
    add("aten.subtract.Scalar", |c| {
        forward(c, "aten.sub.Scalar", &["self", "other", "alpha"], &[])
    });
    add("aten.alias_copy.default", |c| {
        let x = c.tensor("self")?;
        one(c.call("aten.clone.default", vec![val(x)])?)
    });
}

/// Calls `target` with the same arguments: `positional` in order, `keyword` by name (a keyword
/// the call leaves at its default is left out, so the target's own default applies).
fn forward(
    c: &mut DecompCx<'_>,
    target: &str,
    positional: &[&str],
    keyword: &[&str],
) -> Result<Vec<Arg>, String> {
    let args = positional
        .iter()
        .map(|n| c.arg(n))
        .collect::<Result<Vec<_>, _>>()?;
    let mut kwargs = Vec::new();
    for &k in keyword {
        match c.arg(k)? {
            Arg::None => {}
            a => kwargs.push((k.to_string(), a)),
        }
    }
    let rs = c.call_kw(target, args, kwargs)?;
    Ok(rs.into_iter().map(Arg::Value).collect())
}
