//! The activation between the layers of an MLP: ReLU, sigmoid, or none (LENGTH's MLP).

use std::fmt;
use std::str::FromStr;

use length_autograd::functions::{ReLU, Sigmoid};
use length_autograd::{AutogradError, Graph, NodeId};
use length_tensor::{relu_in_place, sigmoid_in_place};
use ndarray::ArrayViewMut2;

use crate::LayersError;

/// The non-linearity after each hidden layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// No activation: the network is one linear map (LENGTH's `MLP`). Written `none`.
    #[default]
    None,
    /// `max(x, 0)`. Written `relu`.
    ReLU,
    /// `1 / (1 + e⁻ˣ)`. Written `sigmoid`.
    Sigmoid,
}

impl Activation {
    /// Applies the activation to node `h` of `graph` (for `None`, returns `h`).
    ///
    /// # Errors
    /// Those of the activation function (labels where a tensor was expected).
    pub fn apply(self, graph: &mut Graph<'_>, h: NodeId) -> Result<NodeId, AutogradError> {
        match self {
            Activation::None => Ok(h),
            Activation::ReLU => graph.apply(ReLU, &[h]),
            Activation::Sigmoid => graph.apply(Sigmoid, &[h]),
        }
    }

    /// Applies the activation to a matrix in place, without a graph and without allocating.
    pub fn apply_in_place(self, h: ArrayViewMut2<f32>) {
        match self {
            Activation::None => {}
            Activation::ReLU => relu_in_place(h.into_dyn()),
            Activation::Sigmoid => sigmoid_in_place(h.into_dyn()),
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Activation::None => "none",
            Activation::ReLU => "relu",
            Activation::Sigmoid => "sigmoid",
        })
    }
}

impl FromStr for Activation {
    type Err = LayersError;

    /// `none`, `relu` or `sigmoid`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Activation::None),
            "relu" => Ok(Activation::ReLU),
            "sigmoid" => Ok(Activation::Sigmoid),
            other => Err(LayersError::InvalidConfig(format!(
                "unknown activation {other:?} (expected none, relu or sigmoid)"
            ))),
        }
    }
}
