//! The [`Layer`] trait: a function with trainable parameters.
//!
//! As in LENGTH, a layer's backward pass computes the gradients of its inputs *and* of its
//! parameters; the graph then hands the parameter gradients to the optimizer, which turns them
//! into deltas, and the layer applies them (`parameter = parameter - delta`) before the backward
//! pass moves on. So `graph.backward(loss, &mut optimizer)` trains.

use length_tensor::Tensor;
use ndarray::ArrayViewD;

use crate::{Function, LayerId, Optimizer, Value};

/// A [`Function`] with parameters that an [`Optimizer`] trains.
///
/// Implementors store the parameter gradients computed by [`Function::backward`] and return
/// them from [`parameter_gradients`](Layer::parameter_gradients), in the same order as
/// [`parameters`](Layer::parameters). They also override [`Function::as_layer`] and
/// [`Function::as_layer_mut`] to return `Some(self)`.
pub trait Layer: Function {
    /// The name an optimizer keeps this layer's state under.
    fn layer_id(&self) -> LayerId;

    /// The parameters, in a fixed order (for a fully connected layer: weights, then bias).
    fn parameters(&self) -> Vec<ArrayViewD<'_, f32>>;

    /// The gradients of the parameters from the last backward pass, in the order of
    /// [`parameters`](Layer::parameters).
    fn parameter_gradients(&self) -> Vec<ArrayViewD<'_, f32>>;

    /// LENGTH's `internal_update`: `parameter[i] -= deltas[i]` for every parameter.
    ///
    /// # Panics
    /// If the number or the shapes of the deltas differ from the parameters'.
    fn apply_update(&mut self, deltas: &[Tensor]);

    /// The backward pass and the update in one, when the layer can apply `optimizer`'s step
    /// while it computes its parameter gradients (see [`Optimizer::begin_elementwise_step`]):
    /// returns the input gradients as [`Function::backward`] does, with the parameters already
    /// updated. `None` (the default) when it cannot; the graph then calls `backward` and
    /// [`update`](Layer::update).
    fn backward_and_update(
        &mut self,
        inputs: &[&Value],
        output: &Tensor,
        output_gradient: &Tensor,
        needs_gradient: &[bool],
        optimizer: &mut dyn Optimizer,
    ) -> Option<Vec<Option<Tensor>>> {
        let _ = (inputs, output, output_gradient, needs_gradient, optimizer);
        None
    }

    /// Hands the parameter gradients to `optimizer` and applies its update.
    ///
    /// The default asks for deltas with [`Optimizer::run_update_rule`] and applies them with
    /// [`apply_update`](Layer::apply_update), exactly as LENGTH does. Layers override it to call
    /// [`Optimizer::update`] on their parameters in place, which allocates nothing.
    fn update(&mut self, optimizer: &mut dyn Optimizer) {
        let deltas = optimizer.run_update_rule(&self.parameter_gradients(), self.layer_id());
        self.apply_update(&deltas);
    }
}
