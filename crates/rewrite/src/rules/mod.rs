//! Rewrite rules, one family per file. Rules are data: each family is a table of [`Rule`]s
//! (name, soundness condition, matcher), and the pass turns the selected tables into egg
//! rewrites with [`to_rewrites`].
//!
//! A rule looks at one e-node of an e-class and, when it applies, returns a [`Build`]: the
//! equivalent term, over existing classes. Every rule is directional (its result is never
//! meant to be worse) and is checked generically before it is added: the result's type,
//! inferred through the op table, must equal the class's type, so a rule can never change a
//! dtype or a shape, even through broadcasting or promotion it did not foresee (TENSAT's
//! `CheckApply`). Dtype conditions that inference cannot see (floating-point identities, lossy
//! casts) are each rule's own check, stated in its doc comment.

pub mod algebra;
pub mod cast;
pub mod concat_slice;
pub mod conv_bn;
pub mod hoist;
pub mod layout;
pub mod linear;

use crate::egraph::{cranelift_index, slot, Key, TNode, EG};
use egg::{Applier, Id, PatternAst, Rewrite, SearchMatches, Searcher, Subst, Symbol};
use trtfx_ir::{Arg, DType, TensorType, Type};

/// A rewrite rule: a name, the condition under which it is sound, and the matcher.
#[derive(Clone, Copy)]
pub struct Rule {
    /// Unique name (`permute-permute`), used in statistics.
    pub name: &'static str,
    /// When the rewrite preserves what the program computes (the same text as the matcher's
    /// doc comment, for listings).
    pub soundness: &'static str,
    /// The operators the matched e-node can have: only classes holding one are searched.
    pub roots: &'static [&'static str],
    /// Looks at one e-node of class `class`; returns the equivalent term when the rule applies.
    pub matcher: fn(&EG, Id, &TNode) -> Option<Build>,
}

/// A rule family: a name (what the pass's `rules` option selects) and its rules.
pub struct Family {
    /// `algebra`, `layout`, ...
    pub name: &'static str,
    /// The rules.
    pub rules: &'static [Rule],
}

/// Every family, in application order.
pub fn families() -> [Family; 7] {
    [
        Family {
            name: "algebra",
            rules: algebra::RULES,
        },
        Family {
            name: "layout",
            rules: layout::RULES,
        },
        Family {
            name: "cast",
            rules: cast::RULES,
        },
        Family {
            name: "linear",
            rules: linear::RULES,
        },
        Family {
            name: "conv-bn",
            rules: conv_bn::RULES,
        },
        Family {
            name: "concat-slice",
            rules: concat_slice::RULES,
        },
        Family {
            name: "hoist",
            rules: hoist::RULES,
        },
    ]
}

/// A term to add: an existing class, or a call whose value operands are sub-terms.
#[derive(Clone, Debug)]
pub enum Build {
    /// An existing e-class.
    Class(Id),
    /// A call: `args`/`kwargs` with slots into `kids`.
    Call {
        /// Operator name.
        target: String,
        /// Positional arguments (values are slots into `kids`).
        args: Vec<Arg>,
        /// Keyword arguments (values are slots into `kids`).
        kwargs: Vec<(String, Arg)>,
        /// Operand terms.
        kids: Vec<Build>,
    },
}

/// An argument while building a [`Build::Call`]: a literal or an operand term.
pub enum A {
    /// A literal (no values inside).
    L(Arg),
    /// An operand.
    V(Build),
    /// A list of arguments (e.g. `cat`'s tensors).
    List(Vec<A>),
}

fn lower(a: A, kids: &mut Vec<Build>) -> Arg {
    match a {
        A::L(x) => x,
        A::V(b) => {
            kids.push(b);
            Arg::Value(slot(kids.len() - 1))
        }
        A::List(items) => Arg::List(items.into_iter().map(|x| lower(x, kids)).collect()),
    }
}

/// A call term.
pub fn call(target: &str, args: Vec<A>) -> Build {
    call_kw(target, args, Vec::new())
}

/// A call term with keyword arguments.
pub fn call_kw(target: &str, args: Vec<A>, kwargs: Vec<(&str, A)>) -> Build {
    let mut kids = Vec::new();
    let args = args.into_iter().map(|a| lower(a, &mut kids)).collect();
    let kwargs = kwargs
        .into_iter()
        .map(|(k, a)| (k.to_string(), lower(a, &mut kids)))
        .collect();
    Build::Call {
        target: target.to_string(),
        args,
        kwargs,
        kids,
    }
}

/// An existing class as an operand.
pub fn v(id: Id) -> A {
    A::V(Build::Class(id))
}

/// A sub-term as an operand.
pub fn t(b: Build) -> A {
    A::V(b)
}

/// A literal operand.
pub fn l(a: Arg) -> A {
    A::L(a)
}

/// An int list literal.
pub fn ints(v: &[i64]) -> A {
    A::L(Arg::List(v.iter().map(|&i| Arg::Int(i)).collect()))
}

/// Re-expresses an argument of e-node `n` (whose values are slots into `n.kids`) as an
/// operand of a new term: slot `i` becomes class `n.kids[i]`.
pub fn carry(n: &TNode, a: &Arg) -> A {
    match a {
        Arg::Value(s) => v(n.kids[cranelift_index(*s)]),
        Arg::List(items) => A::List(items.iter().map(|x| carry(n, x)).collect()),
        other => A::L(other.clone()),
    }
}

/// A call e-node's `(target, args, kwargs)`, args with slots.
pub type CallParts<'a> = (&'a str, &'a [Arg], &'a [(String, Arg)]);

/// The call key of an e-node: `(target, args, kwargs)`, for single-result calls.
pub fn call_of<'a>(eg: &'a EG, n: &TNode) -> Option<CallParts<'a>> {
    match eg.analysis.key(n) {
        Key::Call {
            target,
            args,
            kwargs,
            result: None,
        } => Some((target, args, kwargs)),
        _ => None,
    }
}

/// The argument at position `pos` or keyword `name` of a call e-node.
pub fn arg<'a>(eg: &'a EG, n: &TNode, pos: usize, name: &str) -> Option<&'a Arg> {
    let (_, args, kwargs) = call_of(eg, n)?;
    args.get(pos)
        .or_else(|| kwargs.iter().find(|(k, _)| k == name).map(|(_, a)| a))
}

/// The class an argument refers to (a slot).
pub fn arg_class(eg: &EG, n: &TNode, pos: usize, name: &str) -> Option<Id> {
    match arg(eg, n, pos, name)? {
        Arg::Value(s) => n.kids.get(cranelift_index(*s)).copied(),
        _ => None,
    }
}

/// True when the call e-node targets one of `targets`.
pub fn is(eg: &EG, n: &TNode, targets: &[&str]) -> bool {
    call_of(eg, n).is_some_and(|(t, _, _)| targets.contains(&t))
}

/// The tensor type of a class.
pub fn tensor_ty(eg: &EG, id: Id) -> Option<&TensorType> {
    eg[id].data.ty.as_ref()?.as_tensor()
}

/// The dtype of a class.
pub fn dtype(eg: &EG, id: Id) -> Option<DType> {
    tensor_ty(eg, id).map(|t| t.dtype)
}

/// The type of a class.
pub fn ty(eg: &EG, id: Id) -> Option<&Type> {
    eg[id].data.ty.as_ref()
}

/// The first e-node of class `id` that targets one of `targets`.
pub fn find<'a>(eg: &'a EG, id: Id, targets: &[&str]) -> Option<&'a TNode> {
    eg[id].nodes.iter().find(|n| is(eg, n, targets))
}

/// Kwargs other than `allowed` are absent (or at their neutral value `None`).
pub fn only_kwargs(eg: &EG, n: &TNode, allowed: &[&str]) -> bool {
    call_of(eg, n).is_some_and(|(_, _, kw)| {
        kw.iter()
            .all(|(k, a)| allowed.contains(&k.as_str()) || matches!(a, Arg::None))
    })
}

/// The inferred type of a term, without adding it.
pub fn build_type(eg: &EG, b: &Build) -> Option<Type> {
    match b {
        Build::Class(id) => eg[*id].data.ty.clone(),
        Build::Call {
            target,
            args,
            kwargs,
            kids,
        } => {
            let kid_ty: Vec<Option<Type>> = kids.iter().map(|k| build_type(eg, k)).collect();
            let key = Key::Call {
                target: target.clone(),
                args: args.clone(),
                kwargs: kwargs.clone(),
                result: None,
            };
            eg.analysis.infer(&key, &kid_ty)
        }
    }
}

fn add_build(eg: &mut EG, b: &Build) -> Id {
    match b {
        Build::Class(id) => *id,
        Build::Call {
            target,
            args,
            kwargs,
            kids,
        } => {
            let kids: smallvec::SmallVec<[Id; 3]> = kids.iter().map(|k| add_build(eg, k)).collect();
            let node = eg.analysis.node(
                Key::Call {
                    target: target.clone(),
                    args: args.clone(),
                    kwargs: kwargs.clone(),
                    result: None,
                },
                kids,
            );
            eg.add(node)
        }
    }
}

/// Adds `b` and unions it with `class`, if its inferred type is the class's type. Returns the
/// class when something changed.
pub fn apply_build(eg: &mut EG, class: Id, b: &Build) -> Option<Id> {
    let want = eg[class].data.ty.clone();
    if want.is_none() || build_type(eg, b) != want {
        eg.analysis.refused_type += 1;
        return None;
    }
    // A new e-node always makes a new class (before the union), and counting classes is O(1).
    let before = eg.number_of_classes();
    let id = add_build(eg, b);
    let added = eg.number_of_classes() != before;
    let unioned = eg.union(class, id);
    if unioned || added {
        eg.analysis.applied += 1;
        Some(eg.find(class))
    } else {
        None
    }
}

/// One rule as an egg searcher and applier. The searcher reports the classes where the rule
/// fires; the applier re-runs the matcher there (the matched node's literal data does not fit
/// egg's substitutions) and adds the results.
struct RuleRewrite(Rule);

impl Searcher<TNode, crate::egraph::TypeAnalysis> for RuleRewrite {
    fn search_eclass_with_limit(
        &self,
        egraph: &EG,
        eclass: Id,
        limit: usize,
    ) -> Option<SearchMatches<'_, TNode>> {
        let n = egraph[eclass]
            .nodes
            .iter()
            .filter(|n| {
                let t = egraph.analysis.targets.get_index(n.op as usize);
                t.is_some_and(|t| self.0.roots.contains(&t.as_str()))
                    && (self.0.matcher)(egraph, eclass, n).is_some()
            })
            .take(limit)
            .count();
        (n > 0).then(|| SearchMatches {
            eclass,
            substs: vec![Subst::default(); n],
            ast: None,
        })
    }

    fn search_with_limit(&self, egraph: &EG, limit: usize) -> Vec<SearchMatches<'_, TNode>> {
        let mut ids: Vec<Id> = Vec::new();
        for root in self.0.roots {
            if let Some(op) = egraph.analysis.op_id(root) {
                if let Some(it) = egraph.classes_for_op(&op) {
                    ids.extend(it);
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let mut out = Vec::new();
        let mut left = limit;
        for id in ids {
            if left == 0 {
                break;
            }
            if let Some(m) = self.search_eclass_with_limit(egraph, id, left) {
                left -= m.substs.len();
                out.push(m);
            }
        }
        out
    }

    fn vars(&self) -> Vec<egg::Var> {
        Vec::new()
    }
}

impl Applier<TNode, crate::egraph::TypeAnalysis> for RuleRewrite {
    fn apply_matches(
        &self,
        egraph: &mut EG,
        matches: &[SearchMatches<TNode>],
        _rule_name: Symbol,
    ) -> Vec<Id> {
        let mut changed = Vec::new();
        for m in matches {
            let class = egraph.find(m.eclass);
            let nodes = egraph[class].nodes.clone();
            for n in &nodes {
                let t = egraph.analysis.targets.get_index(n.op as usize);
                if !t.is_some_and(|t| self.0.roots.contains(&t.as_str())) {
                    continue;
                }
                if let Some(b) = (self.0.matcher)(egraph, class, n) {
                    changed.extend(apply_build(egraph, class, &b));
                }
            }
        }
        changed
    }

    fn apply_one(
        &self,
        _egraph: &mut EG,
        _eclass: Id,
        _subst: &Subst,
        _searcher_ast: Option<&PatternAst<TNode>>,
        _rule_name: Symbol,
    ) -> Vec<Id> {
        // `apply_matches` does the work.
        Vec::new()
    }
}

/// The egg rewrites of the given rules.
pub fn to_rewrites(rules: &[Rule]) -> Vec<Rewrite<TNode, crate::egraph::TypeAnalysis>> {
    rules
        .iter()
        .map(|r| {
            Rewrite::new(r.name, RuleRewrite(*r), RuleRewrite(*r))
                .expect("a rule binds no variables")
        })
        .collect()
}

/// Normalizes dim `d` for rank `r`.
pub fn norm_dim(d: i64, r: usize) -> Option<usize> {
    let r = r as i64;
    let j = if d < 0 { d + r } else { d };
    (0..r.max(1)).contains(&j).then_some(j as usize)
}

/// The literal value of an int or float argument.
pub fn lit(a: Option<&Arg>) -> Option<f64> {
    match a? {
        Arg::Int(i) => Some(*i as f64),
        Arg::Float(f) => Some(f.0),
        _ => None,
    }
}

/// `alpha` is absent or 1.
pub fn alpha_one(eg: &EG, n: &TNode) -> bool {
    match arg(eg, n, 2, "alpha") {
        None => true,
        a => lit(a) == Some(1.0),
    }
}
