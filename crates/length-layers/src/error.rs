//! The errors of layers and models: bad configurations, parameters that do not fit, inputs of
//! the wrong width.

use length_autograd::AutogradError;
use thiserror::Error;

/// Why a layer or a model refused what it was given.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LayersError {
    /// A model description that cannot be built (fewer than two sizes, a zero size, a dropout
    /// ratio outside `[0, 1)`, a string that does not parse).
    #[error("invalid model configuration: {0}")]
    InvalidConfig(String),

    /// A parameter name the model does not have.
    #[error("no parameter named {name:?}; the model has {known}")]
    UnknownParameter {
        /// The name asked for.
        name: String,
        /// The model's parameter names, comma-separated.
        known: String,
    },

    /// A parameter the model needs but was not given.
    #[error("parameter {name:?} is missing")]
    MissingParameter {
        /// The name of the missing parameter.
        name: String,
    },

    /// A parameter or input array of the wrong shape.
    #[error("{what} must have shape {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// What was given (a parameter name, "weights", "input").
        what: String,
        /// The shape needed.
        expected: Vec<usize>,
        /// The shape given.
        got: Vec<usize>,
    },

    /// An error of the graph or of a function.
    #[error(transparent)]
    Autograd(#[from] AutogradError),
}
