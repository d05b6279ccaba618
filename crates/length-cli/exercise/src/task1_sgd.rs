//! # Task 1: stochastic gradient descent
//!
//! An optimizer turns the gradients of a layer's parameters into *deltas*; the layer then
//! subtracts them, `parameter = parameter − delta`. Stochastic gradient descent (SGD) takes a
//! small step against the gradient, the same size for every parameter:
//!
//! ```text
//! delta = learning_rate · gradient          (one delta per gradient, of the gradient's shape)
//! ```
//!
//! The gradient points to where the loss *grows*; the layer subtracts the delta, so the step
//! goes downhill. That is why the delta itself has the gradient's sign.
//!
//! You write [`Optimizer::run_update_rule`] for [`Sgd`]: it gets the gradients of one layer's
//! parameters (for a fully connected layer: the weights' gradient, then the bias's) and returns
//! one delta for each, in the same order. The layer's [`LayerId`] tells layers apart; SGD keeps
//! no state per layer, so it does not need it (Adam, in task 5, does). The learning rate lives
//! in the [`LearningRate`] trait, written for you: the schedule lowers it between epochs.
//!
//! `run_update_rule` is LENGTH's own method, and the clearest way to see what an optimizer does.
//! The library's optimizers (`length_optim::Sgd`, `Adam`, ...) state the same rule once more
//! compactly, as the delta of *one* element, through the trait `ElementwiseOptimizer`; the
//! library then runs that rule over every parameter in place, in parallel, without building a
//! delta array. Once your SGD passes, compare it with `length_optim::Sgd`.
//!
//! Hints from the notebook, in our words:
//! - ndarray does arithmetic on whole arrays: `&gradient * 2.0` or `gradient.mapv(|g| 2.0 * g)`
//!   is a new array of the same shape.
//! - Collect the deltas into a `Vec`: `gradients.iter().map(...).collect()`.
//!
//! Test it: `cargo test --release task1`.

use length_autograd::{LayerId, LearningRate, Optimizer};
use length_tensor::Tensor;
use ndarray::ArrayViewD;

/// Stochastic gradient descent: `delta = learning_rate · gradient`, LENGTH's `SGD`.
///
/// ```
/// use length_autograd::{LayerId, Optimizer};
/// use length_exercise::Sgd;
/// use ndarray::array;
///
/// let mut sgd = Sgd::new(0.5);
/// let gradient = array![1.0f32, -2.0].into_dyn();
/// let deltas = sgd.run_update_rule(&[gradient.view()], LayerId::fresh());
/// assert_eq!(deltas[0], array![0.5f32, -1.0].into_dyn());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Sgd {
    /// The step size. The course trains with 0.1.
    pub learning_rate: f32,
}

impl Sgd {
    /// SGD with the given learning rate.
    pub fn new(learning_rate: f32) -> Self {
        Sgd { learning_rate }
    }
}

impl Optimizer for Sgd {
    /// Returns `learning_rate · gradient` for every gradient, in the order given.
    fn run_update_rule(&mut self, gradients: &[ArrayViewD<f32>], _layer: LayerId) -> Vec<Tensor> {
        // SOLUTION BEGIN Task 1: return one delta per gradient, delta = learning_rate · gradient
        let learning_rate = self.learning_rate;
        gradients
            .iter()
            .map(|gradient| gradient.mapv(|g| learning_rate * g))
            .collect()
        // SOLUTION END
    }
}

/// The learning rate, which the schedule changes between epochs.
impl LearningRate for Sgd {
    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
}
