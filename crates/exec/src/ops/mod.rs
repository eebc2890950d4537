//! The executor's slot of the op table: one CPU kernel per operator overload, keyed by the
//! overload's registry name (`aten.add.Tensor`) and looked up by [`OpId`].
//!
//! Each family file (`elementwise`, `reduce`, `shape`, ...) has a `register` function that
//! fills its entries; the table is built once per process. An entry names exactly the
//! overloads it serves (an in-place overload such as `add_.Tensor` computes functionally and is
//! registered next to its functional one by [`KernelTable::add_with_inplace`]). Kernels read
//! their arguments by schema name through [`CallArgs`].
//!
//! Ops outside the table with a decomposition run through it (see [`crate::interp`]).

mod create;
mod elementwise;
mod factor;
mod fft;
mod higher_order;
mod index;
mod linalg;
mod nn;
mod order;
mod prims;
mod reduce;
mod shape;
mod special;
mod strided;
mod sym;

use crate::interp::{CallArgs, RunResult, Signature, Value};
use crate::tensor::Tensor;
use std::sync::OnceLock;
use trtfx_ir::ops::{OpRegistry, OpSlots};

/// A kernel's result: one value per result of the call.
pub(crate) type KResult = RunResult<Vec<Value>>;

/// A kernel function.
pub(crate) type KernelFn = Box<dyn Fn(&CallArgs<'_>) -> KResult + Send + Sync>;

/// One entry of the kernel table.
pub(crate) struct Kernel {
    /// The kernel.
    pub(crate) f: KernelFn,
    /// Deterministic, side-effect-free and only rearranging or converting its input: applied
    /// to weights, the interpreter computes it once per executor.
    pub(crate) foldable: bool,
    /// Takes complex tensors (the op is in [`fft::COMPLEX_OK`]).
    pub(crate) complex: bool,
}

impl Kernel {
    /// Runs the kernel, refusing a call that involves complex tensors (an operand, a dtype
    /// argument or the result) unless the kernel declares complex support: a kernel generic
    /// over the element type would otherwise compute on the real parts alone.
    pub(crate) fn run(&self, c: &CallArgs<'_>) -> KResult {
        if !self.complex && c.touches_complex() {
            return Err(c.err(
                "complex tensors are not supported by this kernel (the executor computes on \
                 complex values only in the FFT family, conjugation, casts and layout ops)",
            ));
        }
        (self.f)(c)
    }
}

/// The kernel table under construction.
pub(crate) struct KernelTable {
    reg: &'static OpRegistry,
    slots: OpSlots<Kernel>,
}

impl KernelTable {
    fn put(&mut self, name: &str, f: KernelFn, foldable: bool) {
        // Every entry names a real overload: a typo is a bug caught when the table is built
        // (the table tests build it). Only higher-order ops live outside the registry.
        assert!(
            self.reg.get(name).is_some() || name.starts_with("higher_order."),
            "kernel table: `{name}` is not a registered operator"
        );
        assert!(
            !self.slots.contains(self.reg, name),
            "kernel table: `{name}` registered twice"
        );
        let complex = fft::COMPLEX_OK.contains(&name);
        self.slots.set(
            self.reg,
            name,
            Kernel {
                f,
                foldable,
                complex,
            },
        );
    }

    /// Registers `f` for the overload `name`.
    pub(crate) fn add(
        &mut self,
        name: &str,
        f: impl Fn(&CallArgs<'_>) -> KResult + Send + Sync + 'static,
    ) {
        self.put(name, Box::new(f), false);
    }

    /// Registers `f` for each overload in `names`.
    pub(crate) fn add_all(
        &mut self,
        names: &[&str],
        f: impl Fn(&CallArgs<'_>) -> KResult + Clone + Send + Sync + 'static,
    ) {
        for n in names {
            self.put(n, Box::new(f.clone()), false);
        }
    }

    /// Registers `f` for each overload in `names`, flagged foldable (see [`Kernel::foldable`]).
    pub(crate) fn add_foldable(
        &mut self,
        names: &[&str],
        f: impl Fn(&CallArgs<'_>) -> KResult + Clone + Send + Sync + 'static,
    ) {
        for n in names {
            self.put(n, Box::new(f.clone()), true);
        }
    }

    /// Registers `f` for each overload in `names` and for its in-place sibling
    /// (`aten.add.Tensor` → `aten.add_.Tensor`) when the registry has one: the interpreter
    /// never aliases, so an in-place call computes the new value functionally.
    pub(crate) fn add_with_inplace(
        &mut self,
        names: &[&str],
        f: impl Fn(&CallArgs<'_>) -> KResult + Clone + Send + Sync + 'static,
    ) {
        for n in names {
            self.put(n, Box::new(f.clone()), false);
            if let Some(ip) = inplace_name(n).filter(|ip| self.reg.get(ip).is_some()) {
                self.put(&ip, Box::new(f.clone()), false);
            }
        }
    }
}

/// `aten.add.Tensor` → `aten.add_.Tensor`.
fn inplace_name(name: &str) -> Option<String> {
    let mut parts = name.splitn(3, '.');
    let (ns, base, ov) = (parts.next()?, parts.next()?, parts.next()?);
    Some(format!("{ns}.{base}_.{ov}"))
}

fn build() -> OpSlots<Kernel> {
    let mut t = KernelTable {
        reg: trtfx_ir::aten::registry(),
        slots: OpSlots::new(),
    };
    elementwise::register(&mut t);
    fft::register(&mut t);
    reduce::register(&mut t);
    shape::register(&mut t);
    strided::register(&mut t);
    special::register(&mut t);
    nn::register(&mut t);
    order::register(&mut t);
    index::register(&mut t);
    create::register(&mut t);
    linalg::register(&mut t);
    factor::register(&mut t);
    sym::register(&mut t);
    higher_order::register(&mut t);
    prims::register(&mut t);
    t.slots
}

fn table() -> &'static OpSlots<Kernel> {
    static TABLE: OnceLock<OpSlots<Kernel>> = OnceLock::new();
    TABLE.get_or_init(build)
}

/// The kernel of operator `op` (by its registry name).
pub(crate) fn kernel(op: &str) -> Option<&'static Kernel> {
    table().get_by_name(trtfx_ir::aten::registry(), op)
}

/// True when the executor has a direct CPU kernel for operator overload `op`
/// (`aten.add.Tensor`); an op without one may still run through its decomposition.
pub fn has_kernel(op: &str) -> bool {
    kernel(op).is_some()
}

/// The names of every overload with a direct kernel, in registry order.
pub fn kernel_names() -> Vec<&'static str> {
    table().names(trtfx_ir::aten::registry())
}

/// The signature (schema with converted defaults) of operator `op` of the standard registry,
/// built once per operator.
pub(crate) fn signature(op: &str) -> Option<&'static Signature> {
    static SIGS: OnceLock<Vec<OnceLock<Option<Signature>>>> = OnceLock::new();
    let reg = trtfx_ir::aten::registry();
    let id = reg.id(op)?;
    let sigs = SIGS.get_or_init(|| (0..reg.len()).map(|_| OnceLock::new()).collect());
    sigs.get(id.index())?
        .get_or_init(|| {
            reg.def(id)
                .and_then(|d| d.schema.clone())
                .map(Signature::new)
        })
        .as_ref()
}

// ---- helpers shared by the family files

/// One tensor result.
pub(crate) fn one(r: crate::Result<Tensor>, c: &CallArgs<'_>) -> KResult {
    r.map(|t| vec![Value::Tensor(t)])
        .map_err(|e| c.kernel_err(e))
}

/// A `Tensor[]` result.
pub(crate) fn many(r: crate::Result<Vec<Tensor>>, c: &CallArgs<'_>) -> KResult {
    r.map(|ts| vec![Value::List(ts.into_iter().map(Value::Tensor).collect())])
        .map_err(|e| c.kernel_err(e))
}

/// Two tensor results.
pub(crate) fn two(r: crate::Result<(Tensor, Tensor)>, c: &CallArgs<'_>) -> KResult {
    r.map(|(a, b)| vec![Value::Tensor(a), Value::Tensor(b)])
        .map_err(|e| c.kernel_err(e))
}

/// Three tensor results.
pub(crate) fn three(r: crate::Result<(Tensor, Tensor, Tensor)>, c: &CallArgs<'_>) -> KResult {
    r.map(|(a, b, d)| vec![Value::Tensor(a), Value::Tensor(b), Value::Tensor(d)])
        .map_err(|e| c.kernel_err(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_builds_and_names_exact_overloads() {
        // Building checks every name against the registry (a typo panics).
        let names = kernel_names();
        assert!(names.len() > 300, "{}", names.len());
        assert!(has_kernel("aten.add.Tensor"));
        assert!(has_kernel("aten.add_.Tensor"));
        assert!(has_kernel("_operator.add"));
        assert!(has_kernel("higher_order.cond"));
        // `out=` overloads and ops served only by a decomposition have no kernel.
        assert!(!has_kernel("aten.add.out"));
        assert!(!has_kernel("aten.__and__.Tensor"));
        assert!(!has_kernel("aten.diff.default"));
        assert!(!has_kernel("aten.nope.default"));
    }

    #[test]
    fn every_complex_op_has_a_kernel_and_arithmetic_refuses_complex() {
        for op in fft::COMPLEX_OK {
            assert!(kernel(op).is_some_and(|k| k.complex), "{op}");
        }
        for op in ["aten.add.Tensor", "aten.mul.Tensor", "aten.sum.dim_IntList"] {
            assert!(kernel(op).is_some_and(|k| !k.complex), "{op}");
        }
    }

    #[test]
    fn layout_ops_are_foldable_and_arithmetic_is_not() {
        for op in [
            "aten.permute.default",
            "aten.view.default",
            "aten._to_copy.default",
        ] {
            assert!(kernel(op).is_some_and(|k| k.foldable), "{op}");
        }
        for op in [
            "aten.add.Tensor",
            "aten.transpose_.default",
            "aten.view_copy.default",
        ] {
            assert!(kernel(op).is_some_and(|k| !k.foldable), "{op}");
        }
    }
}
