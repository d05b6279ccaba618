//! Element-wise addition: `y = a + b`, so `∂L/∂a = ∂L/∂b = g`.
//!
//! Both inputs must have the same shape (no broadcasting).

use length_tensor::Tensor;
use ndarray::Zip;

use crate::{AutogradError, Function, Value, inputs, pool};

/// `a + b` element by element, LENGTH's `add`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Add;

impl Function for Add {
    fn name(&self) -> &str {
        "Add"
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        inputs::expect_count("Add", inputs, 2);
        let a = inputs::tensor("Add", inputs, 0)?;
        let b = inputs::tensor("Add", inputs, 1)?;
        if a.shape() != b.shape() {
            return Err(AutogradError::shape(
                "Add",
                format!("cannot add shapes {:?} and {:?}", a.shape(), b.shape()),
            ));
        }
        let mut sum = pool::take(a.raw_dim());
        Zip::from(&mut sum)
            .and(a)
            .and(b)
            .for_each(|s, &a, &b| *s = a + b);
        Ok(sum)
    }

    fn backward(
        &mut self,
        _inputs: &[&Value],
        _output: &Tensor,
        output_gradient: &Tensor,
        needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        needs_gradient
            .iter()
            .map(|&needed| needed.then(|| pool::copied(output_gradient.view())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::functions::uniform;
    use crate::{Graph, Tolerance, check_gradients};

    #[test]
    fn forward_adds() -> Result<(), AutogradError> {
        let mut graph = Graph::new();
        let a = graph.input(array![2.0f32]);
        let b = graph.input(array![2.0f32]);
        let sum = graph.apply(Add, &[a, b])?;
        assert_eq!(graph.value(sum), &array![4.0f32].into_dyn());
        Ok(())
    }

    #[test]
    fn backward_matches_numerical_gradient() {
        let a = uniform(&[3, 2], -1.0, 1.0, 1);
        let b = uniform(&[3, 2], -1.0, 1.0, 2);
        let g = uniform(&[3, 2], -1.0, 1.0, 3);
        check_gradients(&mut Add, &[a.into(), b.into()], &g, Tolerance::default()).unwrap();
    }

    #[test]
    fn different_shapes_are_an_error() {
        let a = Value::from(array![1.0f32, 2.0]);
        let b = Value::from(array![1.0f32, 2.0, 3.0]);
        let error = Add.forward(&[&a, &b]).unwrap_err();
        assert!(error.to_string().contains("[2] and [3]"), "{error}");
    }
}
