//! The [`Model`] trait: what a training loop, an evaluation and a checkpoint need of a network.

use length_autograd::{AutogradError, Graph, NodeId};
use ndarray::{Array2, ArrayView2, ArrayViewD, ArrayViewMutD};

use crate::LayersError;

/// The nodes a training step reads: the network's output and the loss to differentiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardPass {
    /// The last layer's output, one row of class scores per sample.
    pub logits: NodeId,
    /// The scalar training loss.
    pub loss: NodeId,
}

/// A network that can be trained on a [`Graph`], evaluated without one, and saved.
///
/// `forward` lends the model to the graph for the graph's lifetime `'g` (the graph updates the
/// layers during backward), so the model cannot be used again until the graph is dropped; that
/// is why the loss is built in the same call, by [`forward_with_loss`](Model::forward_with_loss).
pub trait Model {
    /// Adds the network to `graph`, applied to the batch at node `x` (samples, inputs), and
    /// returns the node of the logits (samples, outputs).
    ///
    /// # Errors
    /// If `x` does not have the model's number of inputs as columns.
    fn forward<'g>(&'g mut self, graph: &mut Graph<'g>, x: NodeId)
    -> Result<NodeId, AutogradError>;

    /// [`forward`](Model::forward), then the model's training loss against `labels`.
    ///
    /// # Errors
    /// As `forward`, and if a label is out of range or there is not one per sample.
    fn forward_with_loss<'g>(
        &'g mut self,
        graph: &mut Graph<'g>,
        x: NodeId,
        labels: NodeId,
    ) -> Result<ForwardPass, AutogradError>;

    /// The logits for a batch, computed directly without a graph and without dropout: for
    /// evaluation and prediction (the predicted class is the argmax of each row).
    ///
    /// # Errors
    /// [`LayersError::ShapeMismatch`] if `x` has the wrong number of columns.
    fn infer(&self, x: ArrayView2<f32>) -> Result<Array2<f32>, LayersError>;

    /// Every parameter with its name, in a fixed order (for an MLP: `fc1.weight`, `fc1.bias`,
    /// `fc2.weight`, ...; weights in the (outputs, inputs) layout of PyTorch's `nn.Linear`).
    fn parameters(&self) -> Vec<(String, ArrayViewD<'_, f32>)>;

    /// The parameter called `name`, to change in place.
    ///
    /// # Errors
    /// [`LayersError::UnknownParameter`] if there is none by that name.
    fn parameter_mut(&mut self, name: &str) -> Result<ArrayViewMutD<'_, f32>, LayersError>;

    /// Replaces every parameter with the array of the same name. Nothing is changed unless all
    /// names are known, none is missing and all shapes fit.
    ///
    /// # Errors
    /// [`LayersError::UnknownParameter`], [`LayersError::MissingParameter`] or
    /// [`LayersError::ShapeMismatch`].
    fn load_parameters(
        &mut self,
        parameters: &[(String, ArrayViewD<f32>)],
    ) -> Result<(), LayersError> {
        let expected: Vec<(String, Vec<usize>)> = self
            .parameters()
            .into_iter()
            .map(|(name, value)| (name, value.shape().to_vec()))
            .collect();
        for (name, value) in parameters {
            let Some((_, shape)) = expected.iter().find(|(known, _)| known == name) else {
                let known: Vec<&str> = expected.iter().map(|(name, _)| name.as_str()).collect();
                return Err(LayersError::UnknownParameter {
                    name: name.clone(),
                    known: known.join(", "),
                });
            };
            if value.shape() != shape.as_slice() {
                return Err(LayersError::ShapeMismatch {
                    what: format!("parameter {name:?}"),
                    expected: shape.clone(),
                    got: value.shape().to_vec(),
                });
            }
        }
        if let Some((name, _)) = expected
            .iter()
            .find(|(name, _)| !parameters.iter().any(|(given, _)| given == name))
        {
            return Err(LayersError::MissingParameter { name: name.clone() });
        }
        for (name, value) in parameters {
            self.parameter_mut(name)?.assign(value);
        }
        Ok(())
    }

    /// The architecture as one line of text (for an MLP, its [`MlpConfig`](crate::MlpConfig)),
    /// to store next to the parameters.
    fn architecture(&self) -> String;

    /// Switches between training mode (dropout active) and evaluation mode.
    fn set_training(&mut self, training: bool);

    /// Whether the model is in training mode.
    fn is_training(&self) -> bool;
}
