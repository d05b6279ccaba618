//! The [`Function`] trait: one step of a computation, with its derivative.
//!
//! A function maps its inputs to one output (`forward`) and, given the gradient of the loss with
//! respect to that output, returns the gradient with respect to each input (`backward`): the
//! chain rule, one link at a time. LENGTH calls these `internal_forward` and
//! `internal_backward`.

use length_tensor::Tensor;

#[cfg(doc)]
use crate::Layer;
use crate::{AutogradError, Value};

/// One differentiable step of a computation without parameters, such as ReLU or a loss.
///
/// Implement `name`, `forward` and `backward`. A step with trainable parameters is a [`Layer`]
/// instead, a trait of its own that the graph records with
/// [`Graph::apply_layer`](crate::Graph::apply_layer), so that the backward pass trains it: a
/// layer passed to [`Graph::apply`](crate::Graph::apply) does not compile.
///
/// Functions are applied to nodes with [`Graph::apply`](crate::Graph::apply), either by value
/// (`graph.apply(ReLU, &[h])`, the graph keeps it until the backward pass) or by mutable
/// reference (`graph.apply(&mut dropout, &[h])`, the graph borrows it), thanks to the blanket
/// implementation for `&mut F`.
///
/// Here is a function of your own, `y = 3·x`, and its gradient check:
///
/// ```
/// use length_autograd::{check_gradients, inputs, AutogradError, Function, Tolerance, Value};
/// use length_tensor::Tensor;
/// use ndarray::array;
///
/// struct Triple;
///
/// impl Function for Triple {
///     fn name(&self) -> &str {
///         "Triple"
///     }
///
///     fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
///         inputs::expect_count("Triple", inputs, 1);
///         Ok(inputs::tensor("Triple", inputs, 0)? * 3.0)
///     }
///
///     fn backward(
///         &mut self,
///         _inputs: &[&Value],
///         _output: &Tensor,
///         output_gradient: &Tensor,
///         _needs_gradient: &[bool],
///     ) -> Vec<Option<Tensor>> {
///         vec![Some(output_gradient * 3.0)]
///     }
/// }
///
/// let x = Value::from(array![[0.5f32, -1.0], [2.0, 0.25]]);
/// let output_gradient = array![[1.0f32, 2.0], [-1.0, 0.5]].into_dyn();
/// check_gradients(&mut Triple, &[x], &output_gradient, Tolerance::default()).unwrap();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Function`",
    label = "not a `Function`",
    note = "if `{Self}` is a `Layer` (a function with parameters), record it with \
            `graph.apply_layer(&mut layer, &[x])`, so that the backward pass trains it"
)]
pub trait Function {
    /// The name shown by [`Graph::visualize`](crate::Graph::visualize), LENGTH's `name`
    /// (e.g. `"ReLU"`, `"FullyConnected"`).
    fn name(&self) -> &str;

    /// Computes the output from the inputs.
    ///
    /// Returns an error when the inputs do not fit (shapes, labels out of range); panics when
    /// given the wrong number of inputs.
    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError>;

    /// Computes one gradient per input from the gradient of the output (the chain rule).
    ///
    /// - `inputs` and `output` are the values of the forward pass (use `output` when it is
    ///   cheaper than recomputing, as ReLU and sigmoid do);
    /// - `output_gradient` has the shape of `output`;
    /// - `needs_gradient[i]` is false when nobody will read input `i`'s gradient (labels, or a
    ///   batch of data the caller asked no gradient for): skip that work and return `None` there.
    ///   Returning a gradient anyway is allowed; it is dropped.
    ///
    /// Return `None` for inputs that get no gradient (integer labels, or every input of a
    /// function that is not differentiable, like accuracy). Each `Some` must have the shape of
    /// its input.
    fn backward(
        &mut self,
        inputs: &[&Value],
        output: &Tensor,
        output_gradient: &Tensor,
        needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>>;
}

/// A borrowed function is a function, so a graph can borrow a function that keeps state across
/// steps (`graph.apply(&mut dropout, &[h])`) instead of owning it.
impl<F: Function + ?Sized> Function for &mut F {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        (**self).forward(inputs)
    }

    fn backward(
        &mut self,
        inputs: &[&Value],
        output: &Tensor,
        output_gradient: &Tensor,
        needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        (**self).backward(inputs, output, output_gradient, needs_gradient)
    }
}
