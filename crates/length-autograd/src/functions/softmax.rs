//! Softmax along each row: `y_ij = e^{x_ij} / Σ_k e^{x_ik}`.
//!
//! Its Jacobian per row is `∂y_j/∂x_i = y_j (δ_ij − y_i)`, so the gradient is
//! `∂L/∂x_i = y_i · (g_i − Σ_j g_j y_j)`: one dot product per row, no matrix.

use length_tensor::{Tensor, softmax_rows};
use ndarray::{Axis, Ix2, Zip};

use crate::{AutogradError, Function, Value, inputs};

/// The softmax of each row of a (samples, classes) matrix, LENGTH's `softmax`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Softmax;

impl Function for Softmax {
    fn name(&self) -> &str {
        "Softmax"
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        inputs::expect_count("Softmax", inputs, 1);
        Ok(softmax_rows(inputs::matrix("Softmax", inputs, 0)?).into_dyn())
    }

    fn backward(
        &mut self,
        _inputs: &[&Value],
        output: &Tensor,
        output_gradient: &Tensor,
        _needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        let y = output
            .view()
            .into_dimensionality::<Ix2>()
            .expect("softmax output is 2-D");
        let g = output_gradient
            .view()
            .into_dimensionality::<Ix2>()
            .expect("softmax output gradient is 2-D");
        let mut gradient = y.to_owned();
        Zip::from(gradient.axis_iter_mut(Axis(0)))
            .and(g.axis_iter(Axis(0)))
            .for_each(|mut dx, g| {
                let dot = dx.dot(&g); // Σ_j y_j g_j (dx still holds y)
                Zip::from(&mut dx).and(&g).for_each(|d, &g| *d *= g - dot);
            });
        vec![Some(gradient.into_dyn())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::uniform;
    use crate::{Tolerance, assert_allclose, check_gradients};

    #[test]
    fn forward_is_exp_over_row_sum() -> Result<(), AutogradError> {
        let data = uniform(&[3, 10], -1.0, 1.0, 7);
        let y = Softmax.forward(&[&Value::Tensor(data.clone())])?;
        let mut expected = data.mapv(f32::exp);
        for mut row in expected.axis_iter_mut(Axis(0)) {
            let total = row.sum();
            row /= total;
        }
        assert_allclose(&y, &expected);
        Ok(())
    }

    #[test]
    fn backward_matches_numerical_gradient() {
        let data = uniform(&[3, 10], -1.0, 1.0, 8);
        let gradient = uniform(&[3, 10], -1.0, 1.0, 9);
        let tolerance = Tolerance {
            eps: 1e-2,
            ..Tolerance::default()
        };
        check_gradients(&mut Softmax, &[data.into()], &gradient, tolerance).unwrap();
    }

    #[test]
    fn a_vector_is_an_error() {
        let error = Softmax.forward(&[&Value::from(ndarray::array![1.0f32, 2.0])]);
        assert!(matches!(error, Err(AutogradError::ShapeMismatch { .. })));
    }
}
