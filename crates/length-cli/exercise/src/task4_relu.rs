//! # Task 4: ReLU
//!
//! The rectified linear unit keeps the positive values and replaces the others by zero. Between
//! two fully connected layers it makes the network more than one linear map.
//!
//! ```text
//! forward    y     = max(x, 0)                 element by element, x's shape
//! backward   ∂L/∂x = g · [x > 0]               g where x was positive, 0 elsewhere
//! ```
//!
//! (At `x = 0` the derivative is taken to be 0.) You write [`relu`], the forward pass as a
//! plain function, which [`Function::forward`] and the model's evaluation call, and
//! [`Function::backward`].
//!
//! Hints from the notebook, in our words:
//! - `x.mapv(|v| ...)` applies a function to every element.
//! - The backward pass needs to know where `x` was positive: the forward's input is in
//!   `inputs`, and its output is handed in too, as `_output` (`y > 0` exactly where `x > 0`).
//! - `ndarray::Zip::from(&a).and(&b).map_collect(|&a, &b| ...)` walks two arrays together.
//!
//! Test it: `cargo test --release task4`.

use length_autograd::{AutogradError, Function, Value, inputs};
use length_tensor::Tensor;
use ndarray::{ArrayD, ArrayViewD, Zip};

/// `max(x, 0)` element by element.
///
/// ```
/// use length_exercise::task4_relu::relu;
/// use ndarray::array;
///
/// let y = relu(array![-1.0f32, 0.0, 2.5].into_dyn().view());
/// assert_eq!(y, array![0.0f32, 0.0, 2.5].into_dyn());
/// ```
pub fn relu(x: ArrayViewD<f32>) -> ArrayD<f32> {
    // SOLUTION BEGIN Task 4 (forward): max(x, 0) element by element
    x.mapv(|v| if v > 0.0 { v } else { 0.0 })
    // SOLUTION END
}

/// The ReLU function, LENGTH's `relu`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReLU;

const NAME: &str = "ReLU";

impl Function for ReLU {
    fn name(&self) -> &str {
        NAME
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        inputs::expect_count(NAME, inputs, 1);
        let x = inputs::tensor(NAME, inputs, 0)?;
        Ok(relu(x.view()))
    }

    /// `g · [x > 0]`.
    fn backward(
        &mut self,
        inputs: &[&Value],
        _output: &Tensor,
        output_gradient: &Tensor,
        _needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        let x = inputs::tensor(NAME, inputs, 0).expect("forward checked the input");
        // SOLUTION BEGIN Task 4 (backward): the output gradient where x > 0, zero elsewhere
        let gradient = Zip::from(x)
            .and(output_gradient)
            .map_collect(|&x, &g| if x > 0.0 { g } else { 0.0 });
        vec![Some(gradient)]
        // SOLUTION END
    }
}
