//! Symbolic dimensions: integer expressions over program symbols, kept in a canonical form.
//!
//! A [`Dim`] is a polynomial with integer coefficients over *atoms*: symbols (`s0`, `batch`) and
//! the non-polynomial functions PyTorch's shape expressions use (`FloorDiv`, `Mod`, `Min`, `Max`).
//! Every constructor simplifies, so two expressions that are equal as polynomials are equal as
//! values (`2*s0 + s0` is `3*s0`), which makes shape comparison a plain `==`.
//!
//! Arithmetic wraps on `i64` overflow rather than panicking: shapes come from user files, and a
//! compiler must not abort on an absurd constant. [`Dim::eval`] uses the same wrapping semantics,
//! so simplification is exact with respect to evaluation.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A symbol name, shared. Symbols are interned by name in the program's symbol table.
pub type SymName = Arc<str>;

/// A non-polynomial building block of an expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Atom {
    /// A program symbol.
    Sym(SymName),
    /// Python floor division `a // b` (rounds toward negative infinity).
    FloorDiv(Dim, Dim),
    /// Python modulo `a % b` (result has the sign of `b`).
    Mod(Dim, Dim),
    /// Minimum of at least two operands, sorted and deduplicated.
    Min(Vec<Dim>),
    /// Maximum of at least two operands, sorted and deduplicated.
    Max(Vec<Dim>),
}

/// A product of atoms with positive exponents, sorted by atom.
pub type Monomial = Vec<(Atom, u32)>;

/// An integer expression in canonical form: `constant + Σ coeff·monomial`, with nonzero
/// coefficients and monomials sorted. A constant is a `Dim` with no terms.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dim {
    constant: i64,
    terms: Terms,
}

/// The terms of a [`Dim`]: shared, and not allocated at all when empty. Nearly every dim is a
/// constant, and an empty `Arc<[T]>` still allocates its counts, so building a static shape
/// cost one allocation per dim (and an atomic update per clone). Compares, hashes and
/// serializes exactly as the slice does (the same JSON as an `Arc<[T]>`).
#[derive(Clone, Default)]
struct Terms(Option<Arc<[(Monomial, i64)]>>);

impl std::ops::Deref for Terms {
    type Target = [(Monomial, i64)];
    fn deref(&self) -> &Self::Target {
        self.0.as_deref().unwrap_or(&[])
    }
}

impl From<Vec<(Monomial, i64)>> for Terms {
    fn from(v: Vec<(Monomial, i64)>) -> Self {
        if v.is_empty() {
            Terms(None)
        } else {
            Terms(Some(Arc::from(v)))
        }
    }
}

impl PartialEq for Terms {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Terms {}

impl PartialOrd for Terms {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Terms {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl std::hash::Hash for Terms {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl Serialize for Terms {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Terms {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::deserialize(d).map(Terms::from)
    }
}

impl Default for Dim {
    fn default() -> Self {
        Dim::constant(0)
    }
}

impl From<i64> for Dim {
    fn from(v: i64) -> Self {
        Dim::constant(v)
    }
}

fn empty_terms() -> Terms {
    Terms(None)
}

impl Dim {
    /// A constant.
    pub fn constant(v: i64) -> Dim {
        Dim {
            constant: v,
            terms: empty_terms(),
        }
    }

    /// A symbol.
    pub fn sym(name: impl Into<SymName>) -> Dim {
        Dim::atom(Atom::Sym(name.into()))
    }

    fn atom(a: Atom) -> Dim {
        Dim {
            constant: 0,
            terms: Terms::from(vec![(vec![(a, 1)], 1)]),
        }
    }

    fn from_map(constant: i64, map: BTreeMap<Monomial, i64>) -> Dim {
        let terms: Vec<_> = map.into_iter().filter(|(_, c)| *c != 0).collect();
        Dim {
            constant,
            terms: Terms::from(terms),
        }
    }

    /// The value, if this is a constant.
    pub fn as_const(&self) -> Option<i64> {
        self.terms.is_empty().then_some(self.constant)
    }

    /// True if this is a constant.
    pub fn is_const(&self) -> bool {
        self.terms.is_empty()
    }

    /// The symbol name, if this is exactly one symbol.
    pub fn as_sym(&self) -> Option<&SymName> {
        if self.constant != 0 || self.terms.len() != 1 {
            return None;
        }
        match &self.terms[0] {
            (m, 1) if m.len() == 1 && m[0].1 == 1 => match &m[0].0 {
                Atom::Sym(s) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// The constant term.
    pub fn constant_term(&self) -> i64 {
        self.constant
    }

    /// The non-constant terms `(monomial, coefficient)`.
    pub fn terms(&self) -> &[(Monomial, i64)] {
        &self.terms
    }

    fn to_map(&self) -> BTreeMap<Monomial, i64> {
        self.terms.iter().cloned().collect()
    }

    /// `self + other`
    pub fn add(&self, other: &Dim) -> Dim {
        if other.terms.is_empty() {
            return Dim {
                constant: self.constant.wrapping_add(other.constant),
                terms: self.terms.clone(),
            };
        }
        let mut map = self.to_map();
        for (m, c) in other.terms.iter() {
            let e = map.entry(m.clone()).or_insert(0);
            *e = e.wrapping_add(*c);
        }
        Dim::from_map(self.constant.wrapping_add(other.constant), map)
    }

    /// `-self`
    pub fn neg(&self) -> Dim {
        self.scale(-1)
    }

    /// `self - other`
    pub fn sub(&self, other: &Dim) -> Dim {
        self.add(&other.neg())
    }

    /// `k * self`
    pub fn scale(&self, k: i64) -> Dim {
        if k == 0 {
            return Dim::constant(0);
        }
        let map = self
            .terms
            .iter()
            .map(|(m, c)| (m.clone(), c.wrapping_mul(k)))
            .collect();
        Dim::from_map(self.constant.wrapping_mul(k), map)
    }

    /// `self * other`, distributing.
    pub fn mul(&self, other: &Dim) -> Dim {
        if let Some(k) = other.as_const() {
            return self.scale(k);
        }
        if let Some(k) = self.as_const() {
            return other.scale(k);
        }
        let mut map: BTreeMap<Monomial, i64> = BTreeMap::new();
        let mut add_term = |m: Monomial, c: i64| {
            let e = map.entry(m).or_insert(0);
            *e = e.wrapping_add(c);
        };
        // (c1 + Σ a_i m_i)(c2 + Σ b_j n_j)
        for (m, c) in self.terms.iter() {
            add_term(m.clone(), c.wrapping_mul(other.constant));
        }
        for (n, c) in other.terms.iter() {
            add_term(n.clone(), c.wrapping_mul(self.constant));
        }
        for (m, a) in self.terms.iter() {
            for (n, b) in other.terms.iter() {
                add_term(mul_monomials(m, n), a.wrapping_mul(*b));
            }
        }
        Dim::from_map(self.constant.wrapping_mul(other.constant), map)
    }

    /// Python floor division `self // other`.
    pub fn floordiv(&self, other: &Dim) -> Dim {
        if let (Some(a), Some(b)) = (self.as_const(), other.as_const()) {
            if let Some(q) = py_floordiv(a, b) {
                return Dim::constant(q);
            }
        }
        if let Some(c) = other.as_const() {
            if c == 1 {
                return self.clone();
            }
            if c > 1 {
                // floor((c*q + r) / c) = q + floor(r / c) for integer q: pull out every term whose
                // coefficient is a multiple of c.
                let (q, r) = split_divisible(self, c);
                if !q.is_zero() {
                    return q.add(&r.floordiv(other));
                }
                // (x // a) // c = x // (a*c) for positive a, c.
                if let Some(Atom::FloorDiv(x, a)) = self.single_atom() {
                    if let Some(a) = a.as_const().filter(|a| *a > 0) {
                        return x.floordiv(&Dim::constant(a.wrapping_mul(c)));
                    }
                }
            }
        }
        if self.is_zero() {
            return Dim::constant(0);
        }
        Dim::atom(Atom::FloorDiv(self.clone(), other.clone()))
    }

    /// Python modulo `self % other`.
    pub fn modulo(&self, other: &Dim) -> Dim {
        if let (Some(a), Some(b)) = (self.as_const(), other.as_const()) {
            if let Some(r) = py_mod(a, b) {
                return Dim::constant(r);
            }
        }
        if let Some(c) = other.as_const() {
            if c == 1 || c == -1 {
                return Dim::constant(0);
            }
            if c > 1 {
                let (q, r) = split_divisible(self, c);
                if !q.is_zero() {
                    return r.modulo(other);
                }
            }
        }
        if self.is_zero() {
            return Dim::constant(0);
        }
        Dim::atom(Atom::Mod(self.clone(), other.clone()))
    }

    /// `min(self, other)`
    pub fn minimum(&self, other: &Dim) -> Dim {
        Dim::min_of([self.clone(), other.clone()])
    }

    /// `max(self, other)`
    pub fn maximum(&self, other: &Dim) -> Dim {
        Dim::max_of([self.clone(), other.clone()])
    }

    /// Minimum of a non-empty list (an empty list gives 0).
    pub fn min_of(items: impl IntoIterator<Item = Dim>) -> Dim {
        minmax(items, false)
    }

    /// Maximum of a non-empty list (an empty list gives 0).
    pub fn max_of(items: impl IntoIterator<Item = Dim>) -> Dim {
        minmax(items, true)
    }

    /// `self ** k` for a natural exponent.
    pub fn pow(&self, k: u32) -> Dim {
        let mut r = Dim::constant(1);
        for _ in 0..k.min(64) {
            r = r.mul(self);
        }
        r
    }

    /// True if this is the constant 0.
    pub fn is_zero(&self) -> bool {
        self.as_const() == Some(0)
    }

    fn single_atom(&self) -> Option<&Atom> {
        if self.constant != 0 || self.terms.len() != 1 {
            return None;
        }
        let (m, c) = &self.terms[0];
        (*c == 1 && m.len() == 1 && m[0].1 == 1).then(|| &m[0].0)
    }

    /// Evaluates with symbol values from `env`; `None` if a symbol is unbound or a division or
    /// modulo by zero happens.
    pub fn eval(&self, env: &dyn Fn(&str) -> Option<i64>) -> Option<i64> {
        let mut acc = self.constant;
        for (m, c) in self.terms.iter() {
            let mut p: i64 = *c;
            for (a, e) in m {
                let v = a.eval(env)?;
                for _ in 0..*e {
                    p = p.wrapping_mul(v);
                }
            }
            acc = acc.wrapping_add(p);
        }
        Some(acc)
    }

    /// Every symbol the expression mentions, in sorted order.
    pub fn symbols(&self) -> Vec<SymName> {
        let mut out = Vec::new();
        self.collect_symbols(&mut out);
        out.sort();
        out.dedup();
        out
    }

    fn collect_symbols(&self, out: &mut Vec<SymName>) {
        for (m, _) in self.terms.iter() {
            for (a, _) in m {
                match a {
                    Atom::Sym(s) => out.push(s.clone()),
                    Atom::FloorDiv(x, y) | Atom::Mod(x, y) => {
                        x.collect_symbols(out);
                        y.collect_symbols(out);
                    }
                    Atom::Min(v) | Atom::Max(v) => v.iter().for_each(|d| d.collect_symbols(out)),
                }
            }
        }
    }

    /// Replaces symbols by expressions (`subst(s)` returns `None` to keep a symbol), simplifying.
    pub fn substitute(&self, subst: &dyn Fn(&str) -> Option<Dim>) -> Dim {
        let mut acc = Dim::constant(self.constant);
        for (m, c) in self.terms.iter() {
            let mut p = Dim::constant(*c);
            for (a, e) in m {
                let v = a.substitute(subst);
                p = p.mul(&v.pow(*e));
            }
            acc = acc.add(&p);
        }
        acc
    }

    /// Nesting depth of the expression (for limits in parsers and generators).
    pub fn depth(&self) -> usize {
        self.terms
            .iter()
            .flat_map(|(m, _)| m.iter())
            .map(|(a, _)| match a {
                Atom::Sym(_) => 1,
                Atom::FloorDiv(x, y) | Atom::Mod(x, y) => 1 + x.depth().max(y.depth()),
                Atom::Min(v) | Atom::Max(v) => 1 + v.iter().map(Dim::depth).max().unwrap_or(0),
            })
            .max()
            .unwrap_or(0)
    }
}

impl Atom {
    fn eval(&self, env: &dyn Fn(&str) -> Option<i64>) -> Option<i64> {
        match self {
            Atom::Sym(s) => env(s),
            Atom::FloorDiv(a, b) => py_floordiv(a.eval(env)?, b.eval(env)?),
            Atom::Mod(a, b) => py_mod(a.eval(env)?, b.eval(env)?),
            Atom::Min(v) => v
                .iter()
                .map(|d| d.eval(env))
                .collect::<Option<Vec<_>>>()?
                .into_iter()
                .min(),
            Atom::Max(v) => v
                .iter()
                .map(|d| d.eval(env))
                .collect::<Option<Vec<_>>>()?
                .into_iter()
                .max(),
        }
    }

    fn substitute(&self, subst: &dyn Fn(&str) -> Option<Dim>) -> Dim {
        match self {
            Atom::Sym(s) => subst(s).unwrap_or_else(|| Dim::sym(s.clone())),
            Atom::FloorDiv(a, b) => a.substitute(subst).floordiv(&b.substitute(subst)),
            Atom::Mod(a, b) => a.substitute(subst).modulo(&b.substitute(subst)),
            Atom::Min(v) => Dim::min_of(v.iter().map(|d| d.substitute(subst))),
            Atom::Max(v) => Dim::max_of(v.iter().map(|d| d.substitute(subst))),
        }
    }
}

/// Python `a // b`; `None` when `b == 0`.
pub fn py_floordiv(a: i64, b: i64) -> Option<i64> {
    if b == 0 {
        return None;
    }
    let q = a.wrapping_div(b);
    // wrapping_rem avoids the i64::MIN % -1 overflow panic.
    let r = a.wrapping_rem(b);
    Some(if r != 0 && ((r < 0) != (b < 0)) {
        q.wrapping_sub(1)
    } else {
        q
    })
}

/// Python `a % b` (sign of `b`); `None` when `b == 0`.
pub fn py_mod(a: i64, b: i64) -> Option<i64> {
    if b == 0 {
        return None;
    }
    let r = a.wrapping_rem(b);
    Some(if r != 0 && ((r < 0) != (b < 0)) {
        r.wrapping_add(b)
    } else {
        r
    })
}

fn mul_monomials(a: &Monomial, b: &Monomial) -> Monomial {
    let mut map: BTreeMap<Atom, u32> = a.iter().cloned().collect();
    for (atom, e) in b {
        *map.entry(atom.clone()).or_insert(0) += e;
    }
    map.into_iter().collect()
}

/// Splits `d` into `(q, r)` with `d = c*q + r`, where `q` collects every term (and the part of the
/// constant) that is a multiple of `c`, and `r` keeps the rest with `0 <= r.constant < c`.
fn split_divisible(d: &Dim, c: i64) -> (Dim, Dim) {
    let mut q = BTreeMap::new();
    let mut r = BTreeMap::new();
    for (m, k) in d.terms.iter() {
        if k % c == 0 {
            q.insert(m.clone(), k / c);
        } else {
            r.insert(m.clone(), *k);
        }
    }
    let qc = py_floordiv(d.constant, c).unwrap_or(0);
    let rc = py_mod(d.constant, c).unwrap_or(d.constant);
    (Dim::from_map(qc, q), Dim::from_map(rc, r))
}

fn minmax(items: impl IntoIterator<Item = Dim>, is_max: bool) -> Dim {
    let mut flat: Vec<Dim> = Vec::new();
    let mut best_const: Option<i64> = None;
    for d in items {
        match (d.single_atom(), is_max) {
            (Some(Atom::Max(v)), true) | (Some(Atom::Min(v)), false) => {
                for x in v {
                    push_minmax(&mut flat, &mut best_const, x.clone(), is_max)
                }
            }
            _ => push_minmax(&mut flat, &mut best_const, d, is_max),
        }
    }
    if let Some(c) = best_const {
        flat.push(Dim::constant(c));
    }
    flat.sort();
    flat.dedup();
    match flat.len() {
        0 => Dim::constant(0),
        1 => flat.pop().unwrap_or_default(),
        _ => Dim::atom(if is_max {
            Atom::Max(flat)
        } else {
            Atom::Min(flat)
        }),
    }
}

fn push_minmax(flat: &mut Vec<Dim>, best: &mut Option<i64>, d: Dim, is_max: bool) {
    if let Some(c) = d.as_const() {
        *best = Some(match *best {
            None => c,
            Some(b) if is_max => b.max(c),
            Some(b) => b.min(c),
        });
    } else {
        flat.push(d);
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Atom::Sym(s) => f.write_str(s),
            Atom::FloorDiv(a, b) => write!(f, "floordiv({a}, {b})"),
            Atom::Mod(a, b) => write!(f, "mod({a}, {b})"),
            Atom::Min(v) | Atom::Max(v) => {
                f.write_str(if matches!(self, Atom::Min(_)) {
                    "min("
                } else {
                    "max("
                })?;
                for (i, d) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{d}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Text form: `3*s0 + floordiv(s1, 2) - 1`. Terms print in canonical order, the constant last,
/// so printing is deterministic. Powers print as repeated products (`s0*s0`).
impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return write!(f, "{}", self.constant);
        }
        let mut first = true;
        for (m, c) in self.terms.iter() {
            let (neg, mag) = if *c < 0 {
                (true, c.unsigned_abs())
            } else {
                (false, *c as u64)
            };
            if first {
                if neg {
                    f.write_str("-")?;
                }
            } else {
                f.write_str(if neg { " - " } else { " + " })?;
            }
            first = false;
            let mut parts = Vec::new();
            if mag != 1 {
                parts.push(mag.to_string());
            }
            for (a, e) in m {
                for _ in 0..*e {
                    parts.push(a.to_string());
                }
            }
            f.write_str(&parts.join("*"))?;
        }
        if self.constant != 0 {
            let neg = self.constant < 0;
            write!(
                f,
                "{}{}",
                if neg { " - " } else { " + " },
                self.constant.unsigned_abs()
            )?;
        }
        Ok(())
    }
}

impl fmt::Debug for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dim({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(n: &str) -> Dim {
        Dim::sym(n)
    }

    #[test]
    fn like_terms_combine() {
        let e = s("s0").scale(2).add(&s("s0"));
        assert_eq!(e, s("s0").scale(3));
        assert_eq!(e.to_string(), "3*s0");
        assert_eq!(s("s0").sub(&s("s0")), Dim::constant(0));
    }

    #[test]
    fn floordiv_rules() {
        // (6*s0 + 4) // 2 = 3*s0 + 2
        let e = s("s0").scale(6).add(&Dim::constant(4));
        assert_eq!(e.floordiv(&Dim::constant(2)).to_string(), "3*s0 + 2");
        // (4*s0 + 3) // 4 = s0 + 3 // 4 = s0
        let e = s("s0").scale(4).add(&Dim::constant(3));
        assert_eq!(e.floordiv(&Dim::constant(4)).to_string(), "s0");
        // (s0 // 2) // 3 = s0 // 6
        let e = s("s0")
            .floordiv(&Dim::constant(2))
            .floordiv(&Dim::constant(3));
        assert_eq!(e.to_string(), "floordiv(s0, 6)");
        assert_eq!(
            Dim::constant(-7).floordiv(&Dim::constant(2)),
            Dim::constant(-4)
        );
        assert_eq!(
            Dim::constant(-7).modulo(&Dim::constant(2)),
            Dim::constant(1)
        );
    }

    #[test]
    fn minmax_fold() {
        let e = Dim::max_of([s("s0"), Dim::constant(2), Dim::constant(5), s("s0")]);
        assert_eq!(e.to_string(), "max(s0, 5)");
        assert_eq!(
            Dim::min_of([Dim::constant(3), Dim::constant(1)]),
            Dim::constant(1)
        );
        let nested = Dim::max_of([e.clone(), s("s1")]);
        assert_eq!(nested.to_string(), "max(s0, s1, 5)");
    }

    #[test]
    fn display_signs() {
        let e = s("s1").sub(&s("s0").scale(2)).sub(&Dim::constant(1));
        assert_eq!(e.to_string(), "-2*s0 + s1 - 1");
    }

    #[derive(Debug, Clone)]
    enum Tree {
        C(i64),
        S(usize),
        Add(Box<Tree>, Box<Tree>),
        Mul(Box<Tree>, Box<Tree>),
        Div(Box<Tree>, Box<Tree>),
        Mod(Box<Tree>, Box<Tree>),
        Min(Box<Tree>, Box<Tree>),
        Max(Box<Tree>, Box<Tree>),
    }

    const NAMES: [&str; 3] = ["s0", "s1", "u0"];

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = prop_oneof![(-6i64..7).prop_map(Tree::C), (0usize..3).prop_map(Tree::S)];
        leaf.prop_recursive(4, 24, 2, |inner| {
            let pair = (inner.clone(), inner);
            prop_oneof![
                pair.clone()
                    .prop_map(|(a, b)| Tree::Add(a.into(), b.into())),
                pair.clone()
                    .prop_map(|(a, b)| Tree::Mul(a.into(), b.into())),
                pair.clone()
                    .prop_map(|(a, b)| Tree::Div(a.into(), b.into())),
                pair.clone()
                    .prop_map(|(a, b)| Tree::Mod(a.into(), b.into())),
                pair.clone()
                    .prop_map(|(a, b)| Tree::Min(a.into(), b.into())),
                pair.prop_map(|(a, b)| Tree::Max(a.into(), b.into())),
            ]
        })
    }

    /// Direct evaluation of the unsimplified tree: the reference.
    fn eval_tree(t: &Tree, env: &[i64; 3]) -> Option<i64> {
        Some(match t {
            Tree::C(c) => *c,
            Tree::S(i) => env[*i],
            Tree::Add(a, b) => eval_tree(a, env)?.wrapping_add(eval_tree(b, env)?),
            Tree::Mul(a, b) => eval_tree(a, env)?.wrapping_mul(eval_tree(b, env)?),
            Tree::Div(a, b) => py_floordiv(eval_tree(a, env)?, eval_tree(b, env)?)?,
            Tree::Mod(a, b) => py_mod(eval_tree(a, env)?, eval_tree(b, env)?)?,
            Tree::Min(a, b) => eval_tree(a, env)?.min(eval_tree(b, env)?),
            Tree::Max(a, b) => eval_tree(a, env)?.max(eval_tree(b, env)?),
        })
    }

    fn build(t: &Tree) -> Dim {
        match t {
            Tree::C(c) => Dim::constant(*c),
            Tree::S(i) => Dim::sym(NAMES[*i]),
            Tree::Add(a, b) => build(a).add(&build(b)),
            Tree::Mul(a, b) => build(a).mul(&build(b)),
            Tree::Div(a, b) => build(a).floordiv(&build(b)),
            Tree::Mod(a, b) => build(a).modulo(&build(b)),
            Tree::Min(a, b) => build(a).minimum(&build(b)),
            Tree::Max(a, b) => build(a).maximum(&build(b)),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Simplification preserves the value: evaluating the tree directly equals evaluating the
        /// simplified Dim, for every assignment where the direct evaluation is defined.
        #[test]
        fn simplification_preserves_value(t in tree(), env in proptest::array::uniform3(-20i64..20)) {
            let d = build(&t);
            if let Some(expected) = eval_tree(&t, &env) {
                let got = d.eval(&|n| NAMES.iter().position(|x| *x == n).map(|i| env[i]));
                prop_assert_eq!(got, Some(expected), "expr {}", d);
            }
        }

        /// Substituting symbols by constants and simplifying gives the evaluated constant.
        #[test]
        fn substitution_folds(t in tree(), env in proptest::array::uniform3(-20i64..20)) {
            let d = build(&t);
            let lookup = |n: &str| NAMES.iter().position(|x| *x == n).map(|i| env[i]);
            if let Some(v) = d.eval(&lookup) {
                let folded = d.substitute(&|n| lookup(n).map(Dim::constant));
                // Folding may stop at a division by a symbol that became zero elsewhere; when
                // it fully folds it must agree.
                if let Some(c) = folded.as_const() {
                    prop_assert_eq!(c, v);
                }
            }
        }
    }
}
