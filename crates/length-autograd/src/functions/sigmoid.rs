//! The logistic sigmoid: `y = 1 / (1 + e⁻ˣ)`, so `∂L/∂x = g · y · (1 − y)`.
//!
//! Backward reuses the output `y` instead of recomputing the exponential.

use length_tensor::{Tensor, sigmoid, sigmoid_backward_into};

use crate::{AutogradError, Function, Value, inputs, pool};

/// `1 / (1 + e⁻ˣ)` element by element, LENGTH's `sigmoid`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sigmoid;

impl Function for Sigmoid {
    fn name(&self) -> &str {
        "Sigmoid"
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        inputs::expect_count("Sigmoid", inputs, 1);
        Ok(sigmoid(inputs::tensor("Sigmoid", inputs, 0)?.view()))
    }

    fn backward(
        &mut self,
        _inputs: &[&Value],
        output: &Tensor,
        output_gradient: &Tensor,
        _needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        let mut gradient = pool::take(output.raw_dim());
        sigmoid_backward_into(output.view(), output_gradient.view(), gradient.view_mut());
        vec![Some(gradient)]
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::functions::uniform;
    use crate::{Tolerance, assert_allclose, check_gradients};

    fn lengths_data() -> Tensor {
        array![
            [-0.22342056f32, 0.6927312],
            [0.4227562, -0.59764487],
            [0.7870561, 0.372502]
        ]
        .into_dyn()
    }

    #[test]
    fn forward_matches_lengths_numbers() -> Result<(), AutogradError> {
        let y = Sigmoid.forward(&[&Value::Tensor(lengths_data())])?;
        let expected = array![
            [0.44437608f32, 0.66657424],
            [0.6041426, 0.3548827],
            [0.6871989, 0.5920634]
        ];
        assert_allclose(&y, &expected.into_dyn());
        Ok(())
    }

    #[test]
    fn backward_matches_numerical_gradient() {
        // LENGTH: uniform(-1, 1) data, random(0, 1) output gradient, atol 1e-4, rtol 1e-3.
        let data = uniform(&[3, 2], -1.0, 1.0, 5);
        let gradient = uniform(&[3, 2], 0.0, 1.0, 6);
        let tolerance = Tolerance {
            atol: 1e-4,
            rtol: 1e-3,
            ..Tolerance::default()
        };
        check_gradients(&mut Sigmoid, &[data.into()], &gradient, tolerance).unwrap();
    }
}
