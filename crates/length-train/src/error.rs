//! What can go wrong while training or evaluating.

use length_autograd::AutogradError;
use length_layers::LayersError;
use thiserror::Error;

/// An error of [`Trainer::fit`](crate::Trainer::fit) or [`evaluate`](crate::evaluate()).
#[derive(Debug, Error)]
pub enum TrainError {
    /// The training loss stopped being a finite number; the step that found it did not update
    /// the model.
    #[error(
        "training diverged: the loss became {loss} in epoch {epoch}, iteration {iteration} \
         (learning rate {learning_rate})"
    )]
    Diverged {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based iteration within the epoch.
        iteration: usize,
        /// The loss that was not finite (NaN or ±inf).
        loss: f32,
        /// The learning rate of that epoch.
        learning_rate: f32,
    },
    /// A training step failed (the model and the data do not fit together).
    #[error("training step {iteration} of epoch {epoch} failed: {source}")]
    Step {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based iteration within the epoch.
        iteration: usize,
        /// What the graph reported.
        source: AutogradError,
    },
    /// The model could not run on the evaluation samples.
    #[error("evaluation failed: {0}")]
    Model(#[from] LayersError),
    /// The loss could not be computed on the evaluation samples.
    #[error("evaluation failed: {0}")]
    Loss(#[from] AutogradError),
    /// A sample's label is not one of the classes the model predicts.
    #[error("label {label} of an evaluation sample is not one of the model's {classes} classes")]
    LabelOutOfRange {
        /// The label.
        label: usize,
        /// The number of classes (columns of the model's output).
        classes: usize,
    },
    /// A setting makes no sense (for example an evaluation batch size of 0).
    #[error("invalid setting: {0}")]
    Setting(String),
}
