//! The state an optimizer keeps per layer: how many updates the layer has had, and per parameter
//! the optimizer's arrays (momentum's velocity, Adam's two moments), zeros before the first
//! update.
//!
//! Layers are told apart by their [`LayerId`], so two layers never share moments or velocities
//! even when their parameters have the same shapes. Every [`ElementwiseOptimizer`] keeps one
//! [`LayerStates`]; the update paths it gets from the trait create, check and advance it.

use std::collections::HashMap;

use length_tensor::Tensor;

#[cfg(doc)]
use crate::ElementwiseOptimizer;
use crate::LayerId;

/// Per-layer optimizer state, keyed by [`LayerId`]: a step count, and `slots` arrays per
/// parameter, each of the parameter's shape.
///
/// ```
/// use length_autograd::{LayerId, LayerStates};
///
/// let mut states = LayerStates::new();
/// let layer = LayerId::fresh();
/// assert_eq!(states.steps(layer), 0);
/// let shapes: [&[usize]; 2] = [&[2, 3], &[3]];
/// let (t, slots) = states.begin_update("Momentum", layer, shapes.into_iter(), 1);
/// assert_eq!((t, slots.len()), (1, 2)); // first update; one velocity per parameter
/// assert_eq!(states.slot(layer, 1, 0).unwrap().shape(), &[3]);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayerStates {
    layers: HashMap<LayerId, LayerState>,
}

/// One layer's state.
#[derive(Debug, Clone, PartialEq)]
struct LayerState {
    /// How many updates the layer has had: `t` of its last update.
    steps: u64,
    /// The shapes of its parameters at the first update.
    shapes: Vec<Vec<usize>>,
    /// Slot `k` of parameter `i` at `i · slots + k`.
    slots: Vec<Tensor>,
}

impl LayerStates {
    /// No layer seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many updates `layer` has had; 0 for a layer never seen.
    pub fn steps(&self, layer: LayerId) -> u64 {
        self.layers.get(&layer).map_or(0, |state| state.steps)
    }

    /// State array number `slot` of parameter number `parameter` of `layer` (e.g. Adam's second
    /// moment of the bias is `slot(layer, 1, 1)`); `None` if the layer was never updated or there
    /// is no such array.
    pub fn slot(&self, layer: LayerId, parameter: usize, slot: usize) -> Option<&Tensor> {
        let state = self.layers.get(&layer)?;
        let per_parameter = state.slots.len() / state.shapes.len().max(1);
        (slot < per_parameter)
            .then(|| state.slots.get(parameter * per_parameter + slot))
            .flatten()
    }

    /// Counts one more update of `layer`, whose parameters have `shapes`, and returns its number
    /// `t` (1 on the first) with the layer's state arrays, `slots` per parameter (slot `k` of
    /// parameter `i` at `i · slots + k`), created as zeros on the first update. Allocates
    /// nothing after that.
    ///
    /// # Panics
    /// If the layer was first updated with parameters of other shapes (`optimizer` names the
    /// optimizer in the message).
    pub fn begin_update<'s>(
        &mut self,
        optimizer: &str,
        layer: LayerId,
        shapes: impl ExactSizeIterator<Item = &'s [usize]> + Clone,
        slots: usize,
    ) -> (u64, &mut [Tensor]) {
        let state = self.layers.entry(layer).or_insert_with(|| LayerState {
            steps: 0,
            shapes: shapes.clone().map(<[usize]>::to_vec).collect(),
            slots: shapes
                .clone()
                .flat_map(|shape| (0..slots).map(move |_| Tensor::zeros(shape)))
                .collect(),
        });
        let same = state.shapes.len() == shapes.len()
            && state.shapes.iter().zip(shapes.clone()).all(|(a, b)| a == b);
        if !same {
            // Collected only on failure: the check itself must not allocate.
            let shapes: Vec<&[usize]> = shapes.collect();
            panic!(
                "{optimizer}: {layer:?} was first updated with parameters of shapes {:?}, now \
                 with gradients of shapes {shapes:?}",
                state.shapes
            );
        }
        state.steps += 1;
        (state.steps, &mut state.slots)
    }
}
