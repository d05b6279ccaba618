//! The rectified linear unit: `y = max(x, 0)`, so `∂L/∂x = g · [x > 0]`.
//!
//! Backward reads the mask from the output: `y > 0` exactly where `x > 0`. Both directions write
//! into buffers from the [`pool`], one pass each.

use length_tensor::{Tensor, relu_backward_into, relu_into};

use crate::{AutogradError, Function, Value, inputs, pool};

/// `max(x, 0)` element by element, LENGTH's `relu`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReLU;

impl Function for ReLU {
    fn name(&self) -> &str {
        "ReLU"
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        inputs::expect_count("ReLU", inputs, 1);
        let x = inputs::tensor("ReLU", inputs, 0)?;
        let mut y = pool::take(x.raw_dim());
        relu_into(x.view(), y.view_mut());
        Ok(y)
    }

    fn backward(
        &mut self,
        _inputs: &[&Value],
        output: &Tensor,
        output_gradient: &Tensor,
        _needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        let mut gradient = pool::take(output.raw_dim());
        relu_backward_into(output.view(), output_gradient.view(), gradient.view_mut());
        vec![Some(gradient)]
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::{Tolerance, assert_allclose, check_gradients};

    fn lengths_data() -> Tensor {
        array![
            [-0.620304f32, -0.1285682, 0.4867715, 0.09824127],
            [-0.37919873, -0.9272095, -0.0704312, 0.35593647],
            [0.19380952, 0.06425636, 0.21729442, -0.3168534],
            [-0.62586236, -0.4846, 0.84347826, 0.22025743],
            [0.02966821, -0.2127131, -0.33760294, -0.9477733],
        ]
        .into_dyn()
    }

    #[test]
    fn forward_keeps_positives_and_zeroes_the_rest() -> Result<(), AutogradError> {
        let data = lengths_data();
        let y = ReLU.forward(&[&Value::Tensor(data.clone())])?;
        let expected = data.mapv(|v| if v > 0.0 { v } else { 0.0 });
        assert_allclose(&y, &expected);
        assert_eq!(y[[0, 2]], 0.4867715);
        assert_eq!(y[[0, 0]], 0.0);
        Ok(())
    }

    #[test]
    fn backward_matches_numerical_gradient() {
        // LENGTH: output gradient 2, default tolerances.
        let gradient = Tensor::from_elem(vec![5, 4], 2.0);
        // Every |x| here is above 0.02 ≫ ε = 1e-3, so no difference straddles the kink at 0.
        check_gradients(
            &mut ReLU,
            &[lengths_data().into()],
            &gradient,
            Tolerance::default(),
        )
        .unwrap();
    }
}
