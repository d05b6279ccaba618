//! The course notebook's `ActivatedMLP`: LENGTH's MLP with ReLU after each hidden layer.

use std::ops::{Deref, DerefMut};

use length_autograd::{AutogradError, Graph, NodeId};
use ndarray::{Array2, ArrayView2, ArrayViewD, ArrayViewMutD};

use crate::{ForwardPass, LayersError, MLP, MlpConfig, Model};

/// 784-512-512-10 with ReLU after both hidden layers, trained with mean squared error: an
/// [`MLP`] built from [`MlpConfig::activated`], under the notebook's name. It dereferences to
/// the [`MLP`] inside. Its graph records each ReLU as a node of its own, as the notebook draws
/// it ([`MLP::fuse_activations`] set to `false`; set it to `true` to fuse them into the layers,
/// with the same numbers).
///
/// ```
/// use length_layers::{Activation, ActivatedMLP};
///
/// let model = ActivatedMLP::new();
/// assert_eq!(model.config().activation, Activation::ReLU);
/// assert_eq!(model.config().sizes, [784, 512, 512, 10]);
/// ```
#[derive(Debug)]
pub struct ActivatedMLP {
    mlp: MLP,
}

impl ActivatedMLP {
    /// The notebook's model with weights from seed 0.
    pub fn new() -> Self {
        ActivatedMLP::with_seed(0)
    }

    /// The notebook's model with weights from `seed`.
    pub fn with_seed(seed: u64) -> Self {
        let mut mlp = MlpConfig::activated()
            .seed(seed)
            .build()
            .expect("the notebook's configuration is valid");
        mlp.fuse_activations(false);
        ActivatedMLP { mlp }
    }

    /// The [`MLP`] inside.
    pub fn into_inner(self) -> MLP {
        self.mlp
    }
}

impl Default for ActivatedMLP {
    fn default() -> Self {
        ActivatedMLP::new()
    }
}

impl Deref for ActivatedMLP {
    type Target = MLP;

    fn deref(&self) -> &MLP {
        &self.mlp
    }
}

impl DerefMut for ActivatedMLP {
    fn deref_mut(&mut self) -> &mut MLP {
        &mut self.mlp
    }
}

impl Model for ActivatedMLP {
    fn forward<'g>(
        &'g mut self,
        graph: &mut Graph<'g>,
        x: NodeId,
    ) -> Result<NodeId, AutogradError> {
        self.mlp.forward(graph, x)
    }

    fn forward_with_loss<'g>(
        &'g mut self,
        graph: &mut Graph<'g>,
        x: NodeId,
        labels: NodeId,
    ) -> Result<ForwardPass, AutogradError> {
        self.mlp.forward_with_loss(graph, x, labels)
    }

    fn infer(&self, x: ArrayView2<f32>) -> Result<Array2<f32>, LayersError> {
        self.mlp.infer(x)
    }

    fn parameters(&self) -> Vec<(String, ArrayViewD<'_, f32>)> {
        self.mlp.parameters()
    }

    fn parameter_mut(&mut self, name: &str) -> Result<ArrayViewMutD<'_, f32>, LayersError> {
        self.mlp.parameter_mut(name)
    }

    fn architecture(&self) -> String {
        self.mlp.architecture()
    }

    fn set_training(&mut self, training: bool) {
        self.mlp.set_training(training);
    }

    fn is_training(&self) -> bool {
        self.mlp.is_training()
    }
}
