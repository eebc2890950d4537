//! Which layer weights of a recorded network are program weights, by name.
//!
//! A converted network holds its weights as payloads of constant and convolution layers. Most of
//! them are the program's own weights (read by `get_attr` or bound to a weight placeholder), the
//! rest are small constants the converters made (scalars, shapes, derived kernels). [`WeightRefs`]
//! names the first kind: `"<layer index>.<field>"` (`"3.kernel"`, `"12.weights"`) → the program
//! weight. The artifact uses it to store each weight once (the network member refers to the
//! program's weight store instead of holding a copy), and the TensorRT builder uses it to name
//! those weights, mark them refittable and strip them from the plan (`kSTRIP_PLAN` with
//! `kREFIT_INDIVIDUAL`), so a plan needs exactly the weights the refs name to be refitted.
//!
//! Provenance is tracked by identity, not by content: the converter context records the
//! payload (`Arc<[u8]>`) it made for each program weight ([`WeightSources`]), and a layer field
//! is a ref only when it holds that very payload. Two weights with equal bytes (two zero biases)
//! keep their own names, and a converter's derived payload (a kernel slice) is never mistaken
//! for the weight it came from.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::network::Weights;
use crate::recorded::{LayerOp, RecordedNetwork};

/// Layer weight field (`"<layer index>.<field>"`) → program weight name.
pub type WeightRefs = BTreeMap<String, String>;

/// The payloads the converters made from program weights, by name. Holding the `Arc`s keeps
/// their addresses from being reused while a conversion runs.
#[derive(Debug, Clone, Default)]
pub struct WeightSources {
    by_ptr: HashMap<(usize, usize), String>,
    keep: Vec<Arc<[u8]>>,
}

impl WeightSources {
    /// Records that `bytes` is the payload of program weight `name`.
    pub fn note(&mut self, bytes: &Arc<[u8]>, name: &str) {
        if bytes.is_empty() {
            return;
        }
        self.by_ptr
            .entry(key(bytes))
            .or_insert_with(|| name.to_string());
        self.keep.push(bytes.clone());
    }

    /// The program weight whose payload `bytes` is.
    pub fn name_of(&self, bytes: &Arc<[u8]>) -> Option<&str> {
        self.by_ptr.get(&key(bytes)).map(String::as_str)
    }

    /// No payload recorded.
    pub fn is_empty(&self) -> bool {
        self.by_ptr.is_empty()
    }
}

fn key(bytes: &Arc<[u8]>) -> (usize, usize) {
    (bytes.as_ptr() as usize, bytes.len())
}

/// The weight fields of a layer with their names (`weights` of a constant, `kernel` and `bias`
/// of a (de)convolution), in a fixed order.
pub fn weight_fields(op: &LayerOp) -> Vec<(&'static str, &Weights)> {
    match op {
        LayerOp::Constant { weights, .. } => vec![("weights", weights)],
        LayerOp::Convolution { kernel, bias, .. } | LayerOp::Deconvolution { kernel, bias, .. } => {
            std::iter::once(("kernel", kernel))
                .chain(bias.as_ref().map(|b| ("bias", b)))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// [`weight_fields`], mutable.
pub fn weight_fields_mut(op: &mut LayerOp) -> Vec<(&'static str, &mut Weights)> {
    match op {
        LayerOp::Constant { weights, .. } => vec![("weights", weights)],
        LayerOp::Convolution { kernel, bias, .. } | LayerOp::Deconvolution { kernel, bias, .. } => {
            std::iter::once(("kernel", kernel))
                .chain(bias.as_mut().map(|b| ("bias", b)))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The refs of `net`: each layer field holding a payload recorded in `sources`.
pub fn weight_refs(net: &RecordedNetwork, sources: &WeightSources) -> WeightRefs {
    let mut refs = WeightRefs::new();
    if sources.is_empty() {
        return refs;
    }
    for (i, layer) in net.layers.iter().enumerate() {
        for (field, w) in weight_fields(&layer.op) {
            if let Some(name) = sources.name_of(&w.bytes) {
                refs.insert(format!("{i}.{field}"), name.to_string());
            }
        }
    }
    refs
}

/// The distinct program weights `refs` names, sorted.
pub fn referenced_weights(refs: &WeightRefs) -> Vec<String> {
    let names: BTreeSet<&String> = refs.values().collect();
    names.into_iter().cloned().collect()
}

/// The refs a weight-stripped plan is refitted with: those of floating-point payloads.
/// Integer and bool weights (index tables, masks) stay in the plan, where TensorRT can use their
/// values at build time; they are still stored once in the artifact.
pub fn refit_refs(net: &RecordedNetwork, refs: &WeightRefs) -> WeightRefs {
    let mut out = WeightRefs::new();
    if refs.is_empty() {
        return out;
    }
    for (i, layer) in net.layers.iter().enumerate() {
        for (field, w) in weight_fields(&layer.op) {
            let k = format!("{i}.{field}");
            if let Some(name) = refs.get(&k) {
                if w.dtype.is_float() {
                    out.insert(k, name.clone());
                }
            }
        }
    }
    out
}

/// The payload address → name table the TensorRT builder looks weights up in while `net` is
/// replayed (the replay hands each layer the recording's own `Arc`s): the [`refit_refs`].
pub fn names_by_payload(
    net: &RecordedNetwork,
    refs: &WeightRefs,
) -> HashMap<(usize, usize), String> {
    let refs = refit_refs(net, refs);
    let mut out = HashMap::new();
    for (i, layer) in net.layers.iter().enumerate() {
        for (field, w) in weight_fields(&layer.op) {
            if let Some(name) = refs.get(&format!("{i}.{field}")) {
                out.insert(key(&w.bytes), name.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{ElementWiseOp, NetworkBuilder, TrtDataType};

    #[test]
    fn refs_follow_identity_not_content() {
        let mut net = RecordedNetwork::new();
        let x = net.add_input("x", TrtDataType::Float, &[2]).unwrap();
        let a = Weights::from_f64s(&[0.0, 0.0], TrtDataType::Float).unwrap();
        // Same bytes, another payload: a converter's own constant.
        let b = Weights::from_f64s(&[0.0, 0.0], TrtDataType::Float).unwrap();
        let ca = net.add_constant(&[2], a.clone()).unwrap();
        let cb = net.add_constant(&[2], b).unwrap();
        let y = net.add_elementwise(x, ca, ElementWiseOp::Sum).unwrap();
        let z = net.add_elementwise(y, cb, ElementWiseOp::Sum).unwrap();
        net.mark_output(z, "z").unwrap();
        let mut sources = WeightSources::default();
        sources.note(&a.bytes, "bias");
        let refs = weight_refs(&net, &sources);
        assert_eq!(
            refs,
            WeightRefs::from([("1.weights".to_string(), "bias".to_string())])
        );
        assert_eq!(referenced_weights(&refs), vec!["bias".to_string()]);
        let by_payload = names_by_payload(&net, &refs);
        assert_eq!(by_payload.len(), 1);
        assert_eq!(
            by_payload.get(&key(&a.bytes)).map(String::as_str),
            Some("bias")
        );
    }
}
