//! The loss an MLP trains with: mean squared error against one-hot labels (LENGTH's choice) or
//! softmax cross-entropy.

use std::fmt;
use std::str::FromStr;

use length_autograd::functions::{MeanSquaredError, SoftmaxCrossEntropy};
use length_autograd::{AutogradError, Function, Value};
use length_tensor::Tensor;

use crate::LayersError;

/// Which loss function compares the network's output with the labels. It is itself a
/// [`Function`], so `graph.apply(Loss::SoftmaxCrossEntropy, &[logits, labels])` works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Loss {
    /// [`MeanSquaredError`] against one-hot labels (LENGTH's `MLP`). Written `mse`.
    #[default]
    MeanSquaredError,
    /// [`SoftmaxCrossEntropy`]. Written `softmax_cross_entropy`.
    SoftmaxCrossEntropy,
}

impl Function for Loss {
    fn name(&self) -> &str {
        match self {
            Loss::MeanSquaredError => MeanSquaredError.name(),
            Loss::SoftmaxCrossEntropy => SoftmaxCrossEntropy.name(),
        }
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        match self {
            Loss::MeanSquaredError => MeanSquaredError.forward(inputs),
            Loss::SoftmaxCrossEntropy => SoftmaxCrossEntropy.forward(inputs),
        }
    }

    fn backward(
        &mut self,
        inputs: &[&Value],
        output: &Tensor,
        output_gradient: &Tensor,
        needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        match self {
            Loss::MeanSquaredError => {
                MeanSquaredError.backward(inputs, output, output_gradient, needs_gradient)
            }
            Loss::SoftmaxCrossEntropy => {
                SoftmaxCrossEntropy.backward(inputs, output, output_gradient, needs_gradient)
            }
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Loss::MeanSquaredError => "mse",
            Loss::SoftmaxCrossEntropy => "softmax_cross_entropy",
        })
    }
}

impl FromStr for Loss {
    type Err = LayersError;

    /// `mse` or `softmax_cross_entropy`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mse" => Ok(Loss::MeanSquaredError),
            "softmax_cross_entropy" => Ok(Loss::SoftmaxCrossEntropy),
            other => Err(LayersError::InvalidConfig(format!(
                "unknown loss {other:?} (expected mse or softmax_cross_entropy)"
            ))),
        }
    }
}
