//! [`RecordedNetwork`]: a [`NetworkBuilder`] that records layers, infers their output shapes and
//! types as TensorRT does, prints deterministically (one line per layer) for snapshots, and
//! replays into any other [`NetworkBuilder`] (the real TensorRT builder, or another recording).
//!
//! Converters only ever emit into a recording; the real build replays it. The recording is
//! plain data (serde), so it is also what the CPU layer emulator executes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::layers::print::list;
use crate::layers::LayerCx;
pub use crate::layers::LayerOp;
use crate::network::*;
use crate::settings::OptimizationProfile;

/// One recorded layer: the call and the tensors it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedLayer {
    /// The call.
    pub op: LayerOp,
    /// Output tensors (two for TopK, one otherwise).
    pub outputs: Vec<TensorId>,
}

/// A network output: the marked tensor and its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedOutput {
    /// Output name.
    pub name: String,
    /// The marked tensor.
    pub tensor: TensorId,
}

/// A recorded TensorRT network: layers in creation order, each tensor's inferred type, the
/// marked outputs and the optimization profiles.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RecordedNetwork {
    /// Layers (and inputs) in creation order.
    pub layers: Vec<RecordedLayer>,
    /// Type of every tensor, indexed by [`TensorId`].
    pub tensors: Vec<TensorDesc>,
    /// Marked outputs, in marking order.
    pub outputs: Vec<RecordedOutput>,
    /// Optimization profiles.
    pub profiles: Vec<OptimizationProfile>,
    /// Known element values of small integer tensors (shape arithmetic): `None` when unknown,
    /// `Some(v)` with `v[i] = None` for an element unknown at build time.
    #[serde(default)]
    shape_values: Vec<Option<Vec<Option<i64>>>>,
}

impl RecordedNetwork {
    /// An empty network.
    pub fn new() -> Self {
        Self::default()
    }

    /// Network inputs as `(name, tensor)` in creation order.
    pub fn inputs(&self) -> impl Iterator<Item = (&str, TensorId)> {
        self.layers.iter().filter_map(|l| match &l.op {
            LayerOp::Input { name, .. } => Some((name.as_str(), l.outputs[0])),
            _ => None,
        })
    }

    /// Number of layers (inputs excluded), as TensorRT counts them.
    pub fn num_layers(&self) -> usize {
        self.layers
            .iter()
            .filter(|l| !matches!(l.op, LayerOp::Input { .. }))
            .count()
    }

    /// How many tensors of each floating-point type (f32, f16, bf16; those with none left out)
    /// the network has: a strongly typed network's precision is the types of its tensors.
    pub fn float_tensor_counts(&self) -> Vec<(TrtDataType, usize)> {
        [TrtDataType::Float, TrtDataType::Half, TrtDataType::Bf16]
            .into_iter()
            .map(|d| (d, self.tensors.iter().filter(|t| t.dtype == d).count()))
            .filter(|&(_, k)| k > 0)
            .collect()
    }

    /// Known values of an integer shape tensor (see the field docs), if tracked.
    pub fn shape_value(&self, t: TensorId) -> Option<&[Option<i64>]> {
        self.shape_values.get(t.index())?.as_deref()
    }

    /// Checks a network read from outside (an artifact) as thoroughly as one built here: every
    /// call is replayed through the recording builder, which applies TensorRT's shape and type
    /// rules to each layer, and the result must be this network exactly (same tensor ids, types,
    /// outputs, profiles and tracked shape values). A network that passes is one the converters
    /// could have produced, so the emulator and the real builder can trust its ids and types.
    pub fn validate(&self) -> Result<(), NetworkError> {
        let produced: usize = self.layers.iter().map(|l| l.outputs.len()).sum();
        if produced != self.tensors.len() {
            return Err(NetworkError::invalid(format!(
                "{} tensor types are recorded, but the layers produce {produced} tensors",
                self.tensors.len()
            )));
        }
        let mut replayed = RecordedNetwork::new();
        self.replay_into(&mut replayed)?;
        if let Some(i) = (0..self.tensors.len().max(replayed.tensors.len()))
            .find(|&i| self.tensors.get(i) != replayed.tensors.get(i))
        {
            let show = |d: Option<&TensorDesc>| d.map_or("nothing".to_string(), |d| d.to_string());
            return Err(NetworkError::invalid(format!(
                "tensor {i} is recorded as {}, but its layer produces {}",
                show(self.tensors.get(i)),
                show(replayed.tensors.get(i))
            )));
        }
        if *self != replayed {
            return Err(NetworkError::invalid(
                "the recorded layers, outputs or shape values differ from what replaying them gives",
            ));
        }
        Ok(())
    }

    /// Replays every call into `target`, marks the same outputs and adds the same profiles.
    /// Returns the target's tensor for each recorded tensor (indexed by recorded id).
    pub fn replay_into<B: NetworkBuilder + ?Sized>(
        &self,
        target: &mut B,
    ) -> Result<Vec<TensorId>, NetworkError> {
        let mut map: Vec<Option<TensorId>> = vec![None; self.tensors.len()];
        let m = |map: &Vec<Option<TensorId>>, t: TensorId| -> Result<TensorId, NetworkError> {
            map.get(t.index())
                .copied()
                .flatten()
                .ok_or(NetworkError::UnknownTensor(t))
        };
        for layer in &self.layers {
            let mut op = layer.op.clone();
            op.map_tensors(&mut |t| m(&map, t))?;
            let outs = target.add_layer(op)?;
            if outs.len() != layer.outputs.len() {
                return Err(NetworkError::invalid(format!(
                    "replaying {}: {} outputs recorded, {} produced",
                    layer.op.kind(),
                    layer.outputs.len(),
                    outs.len()
                )));
            }
            for (rec, new) in layer.outputs.iter().zip(outs) {
                map[rec.index()] = Some(new);
            }
        }
        for o in &self.outputs {
            target.mark_output(m(&map, o.tensor)?, &o.name)?;
        }
        for p in &self.profiles {
            target.add_optimization_profile(p)?;
        }
        map.into_iter()
            .enumerate()
            .map(|(i, t)| t.ok_or(NetworkError::UnknownTensor(TensorId(i as u32))))
            .collect()
    }

    fn desc(&self, t: TensorId) -> Result<&TensorDesc, NetworkError> {
        self.tensors
            .get(t.index())
            .ok_or(NetworkError::UnknownTensor(t))
    }

    fn push(
        &mut self,
        op: LayerOp,
        outs: Vec<(TensorDesc, Option<Vec<Option<i64>>>)>,
    ) -> Vec<TensorId> {
        let mut ids = Vec::with_capacity(outs.len());
        for (desc, value) in outs {
            let id = TensorId(self.tensors.len() as u32);
            self.tensors.push(desc);
            self.shape_values.push(value);
            ids.push(id);
        }
        self.layers.push(RecordedLayer {
            op,
            outputs: ids.clone(),
        });
        ids
    }

    fn sv(&self, t: TensorId) -> Option<Vec<Option<i64>>> {
        self.shape_values.get(t.index()).cloned().flatten()
    }
}

impl NetworkBuilder for RecordedNetwork {
    fn tensor_desc(&self, tensor: TensorId) -> Result<TensorDesc, NetworkError> {
        self.desc(tensor).cloned()
    }

    fn add_layer(&mut self, op: LayerOp) -> Result<Vec<TensorId>, NetworkError> {
        let outs = op.infer(self)?;
        Ok(self.push(op, outs))
    }

    fn mark_output(&mut self, tensor: TensorId, name: &str) -> Result<(), NetworkError> {
        self.desc(tensor)?;
        if self.outputs.iter().any(|o| o.name == name) {
            return Err(NetworkError::layer(
                "output",
                format!("duplicate output name {name:?}"),
            ));
        }
        self.outputs.push(RecordedOutput {
            name: name.to_string(),
            tensor,
        });
        Ok(())
    }

    fn add_optimization_profile(
        &mut self,
        profile: &OptimizationProfile,
    ) -> Result<usize, NetworkError> {
        let inputs: Vec<(String, TensorDesc)> = self
            .inputs()
            .map(|(n, t)| (n.to_string(), self.tensors[t.index()].clone()))
            .collect();
        profile.validate(inputs.iter().map(|(n, d)| (n.as_str(), d)))?;
        self.profiles.push(profile.clone());
        Ok(self.profiles.len() - 1)
    }
}

impl fmt::Display for RecordedNetwork {
    /// One line per layer: `%out: type = kind(args)`, then outputs and profiles.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for layer in &self.layers {
            let outs: Vec<String> = layer
                .outputs
                .iter()
                .map(|t| format!("{t}: {}", self.tensors[t.index()]))
                .collect();
            writeln!(f, "{} = {}", outs.join(", "), layer.op.render())?;
        }
        for o in &self.outputs {
            writeln!(
                f,
                "output {:?} = {}: {}",
                o.name,
                o.tensor,
                self.tensors[o.tensor.index()]
            )?;
        }
        for (i, p) in self.profiles.iter().enumerate() {
            for d in &p.inputs {
                writeln!(
                    f,
                    "profile {i} {:?}: min={} opt={} max={}",
                    d.input,
                    list(&d.min),
                    list(&d.opt),
                    list(&d.max)
                )?;
            }
        }
        Ok(())
    }
}

impl LayerCx for RecordedNetwork {
    fn desc(&self, t: TensorId) -> Result<TensorDesc, NetworkError> {
        RecordedNetwork::desc(self, t).cloned()
    }

    fn value(&self, t: TensorId) -> Option<Vec<Option<i64>>> {
        self.sv(t)
    }

    fn has_input(&self, name: &str) -> bool {
        self.inputs().any(|(n, _)| n == name)
    }
}
