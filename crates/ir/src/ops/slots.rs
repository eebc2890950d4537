//! Interned operator ids and side tables keyed by them.
//!
//! The IR crate owns the op table ([`OpRegistry`]); other crates attach their own slot of an
//! entry (the executor's kernel, the TensorRT converter) in an [`OpSlots`] side table keyed by
//! the same [`OpId`], as TVM's attribute maps do. A lookup by id is an array index; a name is
//! resolved to an id once (per node, per plan), never matched in dispatch code.

use super::OpRegistry;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// An operator's interned id: its position in an [`OpRegistry`].
///
/// Ids are stable across clones of one registry: a clone extended with custom ops keeps every
/// existing id and appends new ones, so a side table built against the standard registry stays
/// valid for a user's extended copy (custom ops then miss the table and fall back to names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OpId(u32);

impl OpId {
    /// The id at position `i`.
    pub fn from_index(i: usize) -> OpId {
        OpId(i as u32)
    }

    /// The position in the registry.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One slot of every operator, filled by the crate that owns the slot.
///
/// Operators the registry does not know (custom ops registered only with a crate's own slot,
/// such as `Executor::register_kernel`) are kept by name.
#[derive(Clone, Debug)]
pub struct OpSlots<T> {
    by_id: Vec<Option<T>>,
    by_name: FxHashMap<String, T>,
    filled: usize,
}

impl<T> Default for OpSlots<T> {
    fn default() -> Self {
        OpSlots {
            by_id: Vec::new(),
            by_name: FxHashMap::default(),
            filled: 0,
        }
    }
}

impl<T> OpSlots<T> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fills the slot of operator `name` (replacing what was there); returns its id when the
    /// registry knows the operator.
    pub fn set(&mut self, reg: &OpRegistry, name: &str, value: T) -> Option<OpId> {
        match reg.id(name) {
            Some(id) => {
                let i = id.index();
                if self.by_id.len() <= i {
                    self.by_id.resize_with(i + 1, || None);
                }
                if self.by_id[i].is_none() {
                    self.filled += 1;
                }
                self.by_id[i] = Some(value);
                Some(id)
            }
            None => {
                if self.by_name.insert(name.to_string(), value).is_none() {
                    self.filled += 1;
                }
                None
            }
        }
    }

    /// The slot of operator `id`.
    pub fn get(&self, id: OpId) -> Option<&T> {
        self.by_id.get(id.index()).and_then(Option::as_ref)
    }

    /// The slot of operator `name`: by id when the registry knows it, else by name.
    pub fn get_by_name(&self, reg: &OpRegistry, name: &str) -> Option<&T> {
        match reg.id(name) {
            Some(id) => self.get(id).or_else(|| self.by_name.get(name)),
            None => self.by_name.get(name),
        }
    }

    /// True when operator `name` has a slot.
    pub fn contains(&self, reg: &OpRegistry, name: &str) -> bool {
        self.get_by_name(reg, name).is_some()
    }

    /// Number of filled slots.
    pub fn len(&self) -> usize {
        self.filled
    }

    /// True when no slot is filled.
    pub fn is_empty(&self) -> bool {
        self.filled == 0
    }

    /// The names of the operators with a slot, in registry order, then the unregistered ones
    /// sorted by name.
    pub fn names<'r>(&'r self, reg: &'r OpRegistry) -> Vec<&'r str> {
        let mut v: Vec<&str> = self
            .by_id
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .filter_map(|(i, _)| reg.def(OpId::from_index(i)).map(|d| d.name.as_str()))
            .collect();
        let mut extra: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
        extra.sort_unstable();
        v.extend(extra);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aten;

    #[test]
    fn ids_index_slots_and_unknown_ops_fall_back_to_names() {
        let reg = aten::registry();
        let mut s: OpSlots<&str> = OpSlots::new();
        let id = s
            .set(reg, "aten.relu.default", "relu")
            .expect("aten op has an id");
        assert_eq!(
            reg.def(id).map(|d| d.name.as_str()),
            Some("aten.relu.default")
        );
        assert_eq!(s.get(id), Some(&"relu"));
        assert_eq!(s.set(reg, "mylib.op.default", "custom"), None);
        assert_eq!(s.get_by_name(reg, "mylib.op.default"), Some(&"custom"));
        assert!(!s.contains(reg, "aten.add.Tensor"));
        assert_eq!(s.len(), 2);
        assert_eq!(s.names(reg), vec!["aten.relu.default", "mylib.op.default"]);
    }

    #[test]
    fn ids_survive_a_clone_extended_with_custom_ops() {
        let mut user = aten::standard_registry();
        let before = user.id("aten.add.Tensor");
        user.register(crate::ops::OpDef::opaque("mylib.op.default"));
        assert_eq!(user.id("aten.add.Tensor"), before);
        assert_eq!(
            user.id("mylib.op.default").map(OpId::index),
            Some(user.len() - 1)
        );
    }
}
