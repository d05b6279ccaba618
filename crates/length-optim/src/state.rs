//! Per-layer optimizer state: one array per parameter, created as zeros on the layer's first
//! update, and the shape checks that keep parameters, gradients and state in step.
//!
//! Optimizers keep their state in a `HashMap<LayerId, _>`, so two layers never share moments or
//! velocities even when their parameters have the same shapes.

use length_autograd::LayerId;
use length_tensor::Tensor;
use ndarray::{ArrayViewD, ArrayViewMutD};

/// One zero array per gradient, each of that gradient's shape (standard layout).
pub(crate) fn zeros_like(gradients: &[ArrayViewD<f32>]) -> Vec<Tensor> {
    zeros_of_shapes(gradients.iter().map(|gradient| gradient.shape()))
}

/// One zero array per shape (standard layout).
pub(crate) fn zeros_of_shapes<'s>(shapes: impl Iterator<Item = &'s [usize]>) -> Vec<Tensor> {
    shapes.map(Tensor::zeros).collect()
}

/// Panics unless `state` holds one array per shape of `shapes` (the parameters' or the
/// gradients'), of that shape: a layer must hand the optimizer the same parameters, in the same
/// order, on every update.
pub(crate) fn assert_state_shapes<'s>(
    optimizer: &str,
    state: &[Tensor],
    shapes: impl ExactSizeIterator<Item = &'s [usize]> + Clone,
    layer: LayerId,
) {
    let matches = state.len() == shapes.len()
        && state
            .iter()
            .zip(shapes.clone())
            .all(|(array, shape)| array.shape() == shape);
    if !matches {
        // Collected only on failure: the check itself must not allocate.
        let state_shapes: Vec<&[usize]> = state.iter().map(|array| array.shape()).collect();
        let shapes: Vec<&[usize]> = shapes.collect();
        panic!(
            "{optimizer}: {layer:?} was first updated with parameters of shapes {state_shapes:?}, \
             now with gradients of shapes {shapes:?}"
        );
    }
}

/// Panics unless there is one gradient per parameter, of the parameter's shape. `method` names
/// the caller in the message, e.g. `"Adam::update"`.
pub(crate) fn assert_parameters_match(
    method: &str,
    parameters: &[ArrayViewMutD<f32>],
    gradients: &[ArrayViewD<f32>],
) {
    assert_eq!(
        parameters.len(),
        gradients.len(),
        "{method}: {} parameters but {} gradients",
        parameters.len(),
        gradients.len()
    );
    for (index, (parameter, gradient)) in parameters.iter().zip(gradients).enumerate() {
        assert_eq!(
            parameter.shape(),
            gradient.shape(),
            "{method}: parameter {index} is {:?} but its gradient is {:?}",
            parameter.shape(),
            gradient.shape()
        );
    }
}
