//! The e-graph language and its analysis.
//!
//! An e-node is an interned [`Key`] (an operator with its literal arguments, or an opaque leaf)
//! plus the e-classes of its value operands. Literal arguments live in the key, with each value
//! operand replaced by a *slot* (`Arg::Value(ValueId::new(i))` refers to child `i`), so two
//! calls are the same e-node exactly when they have the same target, the same literals and the
//! same operand classes: hash-consing is CSE.
//!
//! The analysis ([`TypeAnalysis`]) gives every class the IR [`Type`] of its values (dtype and
//! symbolic shape, from the op table's inference) and whether it depends on weights only. A
//! rule's result is added only when inference gives it exactly the type of the class it joins
//! (see [`crate::rules::apply_build`]), so a class never mixes types.

use egg::{DidMerge, Id, Language};
use indexmap::IndexSet;
use smallvec::SmallVec;
use trtfx_ir::{Arg, InferArgs, OpRegistry, Type, ValueId};
use trtfx_passes::pass::Ops;

/// What an e-node is, without its children.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// An opaque value of the source graph (a placeholder, a weight, the result of a barrier):
    /// its index into [`TypeAnalysis::leaves`].
    Leaf(u32),
    /// A pure call. `args`/`kwargs` are the node's arguments with value operands replaced by
    /// slots into the e-node's children.
    Call {
        /// Operator name (`aten.permute.default`).
        target: String,
        /// Positional arguments (values are slots).
        args: Vec<Arg>,
        /// Keyword arguments (values are slots).
        kwargs: Vec<(String, Arg)>,
        /// For an operator with several results: which one this e-node stands for (the others
        /// are unused in the source graph), with the total number of results.
        result: Option<(u32, u32)>,
    },
}

impl Key {
    /// The operator name of a call.
    pub fn target(&self) -> Option<&str> {
        match self {
            Key::Call { target, .. } => Some(target),
            Key::Leaf(_) => None,
        }
    }
}

/// An e-node: an interned [`Key`] and the operand classes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TNode {
    /// The interned operator name (index into [`TypeAnalysis::targets`]; leaves share one):
    /// egg's discriminant, so a rule searches only the classes holding its root operators.
    pub op: u32,
    /// Index into [`TypeAnalysis::keys`].
    pub key: u32,
    /// Operand classes, in slot order.
    pub kids: SmallVec<[Id; 3]>,
}

impl Language for TNode {
    type Discriminant = u32;

    fn discriminant(&self) -> u32 {
        self.op
    }

    fn matches(&self, other: &Self) -> bool {
        self.key == other.key && self.kids.len() == other.kids.len()
    }

    fn children(&self) -> &[Id] {
        &self.kids
    }

    fn children_mut(&mut self) -> &mut [Id] {
        &mut self.kids
    }
}

/// What the analysis knows about an e-class.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassData {
    /// The type of the class's values (`None` when inference could not type an e-node; such
    /// nodes are never added by rules).
    pub ty: Option<Type>,
    /// The class is computable from weights (parameters, buffers, constants) and literals only,
    /// so `fold-constants` can precompute it: the cost model counts it as almost free.
    pub weight_only: bool,
}

/// Information about one leaf.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// The source value.
    pub value: ValueId,
    /// Its type.
    pub ty: Type,
    /// True for parameters, buffers, constants and `get_attr`.
    pub weight: bool,
}

/// The e-class analysis: key interning, leaf table, type inference through the op table, and
/// counters the rules update.
pub struct TypeAnalysis {
    /// Interned keys; [`TNode::key`] indexes this set.
    pub keys: IndexSet<Key>,
    /// Interned operator names; [`TNode::op`] indexes this set (`""` for leaves).
    pub targets: IndexSet<String>,
    /// Leaves by index ([`Key::Leaf`]).
    pub leaves: Vec<Leaf>,
    /// The op table (inference functions).
    pub ops: Ops,
    /// Rule applications that were refused because the result's inferred type differed from
    /// the class's type.
    pub refused_type: u64,
    /// Rule applications that added something new (a node or a union).
    pub applied: u64,
    /// Merges of classes with different types (must stay 0: rules are type-checked).
    pub type_conflicts: u64,
}

/// The e-graph type used by the pass.
pub type EG = egg::EGraph<TNode, TypeAnalysis>;

impl TypeAnalysis {
    /// An empty analysis over the op table `ops`.
    pub fn new(ops: Ops) -> Self {
        TypeAnalysis {
            keys: IndexSet::new(),
            targets: IndexSet::new(),
            leaves: Vec::new(),
            ops,
            refused_type: 0,
            applied: 0,
            type_conflicts: 0,
        }
    }

    /// The e-node of `key` over `kids` (interning the key and its operator name).
    pub fn node(&mut self, key: Key, kids: SmallVec<[Id; 3]>) -> TNode {
        let op = match &key {
            Key::Leaf(_) => self.targets.insert_full(String::new()).0,
            Key::Call { target, .. } => match self.targets.get_index_of(target.as_str()) {
                Some(i) => i,
                None => self.targets.insert_full(target.clone()).0,
            },
        } as u32;
        let key = self.keys.insert_full(key).0 as u32;
        TNode { op, key, kids }
    }

    /// The interned id of an operator name, if any e-node has it.
    pub fn op_id(&self, target: &str) -> Option<u32> {
        self.targets.get_index_of(target).map(|i| i as u32)
    }

    /// The key of an e-node.
    pub fn key(&self, n: &TNode) -> &Key {
        &self.keys[n.key as usize]
    }

    /// The inferred result type of a call with operand types `kid_ty` (`None` when the op has
    /// no inference, inference fails, or an operand is untyped).
    pub fn infer(&self, key: &Key, kid_ty: &[Option<Type>]) -> Option<Type> {
        let Key::Call {
            target,
            args,
            kwargs,
            result,
        } = key
        else {
            return None;
        };
        if kid_ty.iter().any(Option::is_none) {
            return None;
        }
        let reg: &OpRegistry = &self.ops;
        let f = reg.get(target)?.infer.as_ref()?;
        let type_of = |v: ValueId| -> Type {
            kid_ty
                .get(cranelift_index(v))
                .cloned()
                .flatten()
                .unwrap_or(Type::None)
        };
        let ia = InferArgs {
            args,
            kwargs,
            type_of: &type_of,
        };
        let tys = f(&ia).ok()?;
        match result {
            None if tys.len() == 1 => tys.into_iter().next(),
            Some((i, n)) if tys.len() == *n as usize => tys.into_iter().nth(*i as usize),
            _ => None,
        }
    }

    /// Every result type of a multi-result call (for materializing it).
    pub fn infer_all(&self, key: &Key, kid_ty: &[Option<Type>]) -> Option<Vec<Type>> {
        let Key::Call {
            target,
            args,
            kwargs,
            ..
        } = key
        else {
            return None;
        };
        let reg: &OpRegistry = &self.ops;
        let f = reg.get(target)?.infer.as_ref()?;
        let type_of = |v: ValueId| -> Type {
            kid_ty
                .get(cranelift_index(v))
                .cloned()
                .flatten()
                .unwrap_or(Type::None)
        };
        f(&InferArgs {
            args,
            kwargs,
            type_of: &type_of,
        })
        .ok()
    }
}

/// The slot number of a slot value.
pub fn cranelift_index(v: ValueId) -> usize {
    use cranelift_entity::EntityRef;
    v.index()
}

/// The slot value for child `i`.
pub fn slot(i: usize) -> ValueId {
    use cranelift_entity::EntityRef;
    ValueId::new(i)
}

impl egg::Analysis<TNode> for TypeAnalysis {
    type Data = ClassData;

    fn make(egraph: &mut EG, enode: &TNode) -> ClassData {
        let a = &egraph.analysis;
        match a.key(enode) {
            Key::Leaf(i) => {
                let l = &a.leaves[*i as usize];
                ClassData {
                    ty: Some(l.ty.clone()),
                    weight_only: l.weight,
                }
            }
            k => {
                let kid_ty: Vec<Option<Type>> = enode
                    .kids
                    .iter()
                    .map(|&c| egraph[c].data.ty.clone())
                    .collect();
                ClassData {
                    ty: a.infer(k, &kid_ty),
                    weight_only: enode.kids.iter().all(|&c| egraph[c].data.weight_only),
                }
            }
        }
    }

    fn merge(&mut self, a: &mut ClassData, b: ClassData) -> DidMerge {
        let mut changed_a = false;
        if a.ty.is_none() && b.ty.is_some() {
            a.ty = b.ty.clone();
            changed_a = true;
        } else if b.ty.is_some() && a.ty != b.ty {
            self.type_conflicts += 1;
        }
        let changed_b = a.weight_only && !b.weight_only || a.ty.is_some() && b.ty.is_none();
        if b.weight_only && !a.weight_only {
            a.weight_only = true;
            changed_a = true;
        }
        DidMerge(changed_a, changed_b)
    }
}
