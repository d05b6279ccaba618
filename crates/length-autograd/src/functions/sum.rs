//! The sum of all elements: `y = Σ_i x_i`, a scalar, so `∂L/∂x_i = g` for every `i`.

use length_tensor::Tensor;

use super::scalar;
use crate::{AutogradError, Function, Value, inputs, pool};

/// The sum of every element of a tensor, as a scalar (shape `()`), LENGTH's `sum`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sum;

impl Function for Sum {
    fn name(&self) -> &str {
        "Sum"
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        inputs::expect_count("Sum", inputs, 1);
        let x = inputs::tensor("Sum", inputs, 0)?;
        let total: f64 = x.iter().map(|&v| f64::from(v)).sum();
        Ok(scalar(total as f32))
    }

    fn backward(
        &mut self,
        inputs: &[&Value],
        _output: &Tensor,
        output_gradient: &Tensor,
        _needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        let g = output_gradient.iter().next().copied().unwrap_or_default();
        let mut gradient = pool::take(inputs[0].shape());
        gradient.fill(g);
        vec![Some(gradient)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::uniform;
    use crate::{Graph, Tolerance, check_gradients};

    #[test]
    fn forward_sums_everything() -> Result<(), AutogradError> {
        let data = uniform(&[3, 2], -1.0, 1.0, 2);
        let mut graph = Graph::new();
        let x = graph.input(data.clone());
        let total = graph.apply(Sum, &[x])?;
        assert!((graph.scalar(total) - data.sum()).abs() < 1e-6);
        assert_eq!(graph.value(total).shape(), &[] as &[usize]);
        Ok(())
    }

    #[test]
    fn backward_matches_numerical_gradient() {
        // LENGTH: output gradient 2, atol 1e-4, rtol 1e-3.
        let data = uniform(&[3, 2], -1.0, 1.0, 3);
        let gradient = Tensor::from_elem(vec![], 2.0);
        let tolerance = Tolerance {
            atol: 1e-4,
            rtol: 1e-3,
            ..Tolerance::default()
        };
        check_gradients(&mut Sum, &[data.into()], &gradient, tolerance).unwrap();
    }
}
