//! # length-train
//!
//! Training as library calls: a training loop over epochs with a learning-rate schedule,
//! evaluation on a test set, callbacks for progress and metrics, and checkpoints (safetensors
//! files with the architecture in their metadata).
//!
//! - [`Trainer`]: the loop (`fit`), generic over any [`Model`](length_layers::Model); a clean
//!   stop with [`TrainError::Diverged`] when the loss stops being finite.
//! - [`Callbacks`]: per-step and per-epoch hooks for progress, metrics and stop requests.
//! - [`StepRunner`]: where each step runs (in place by default).
//! - [`evaluate()`]: loss, accuracy and confusion matrix of a model on a set of samples.
//! - [`Tally`]: per-sample averages of loss and accuracy.
//! - [`checkpoint`]: save a model and load it back (safetensors, the architecture in the
//!   metadata), refusing hostile or damaged files before allocating anything.
//!
//! See [`Trainer`] for a complete, runnable example.

pub mod callbacks;
pub mod checkpoint;
pub mod error;
pub mod evaluate;
pub mod step_runner;
pub mod tally;
pub mod trainer;

pub use callbacks::{Callbacks, EpochReport, EpochStart, Flow, Silent, StepReport};
pub use checkpoint::{Checkpoint, CheckpointError, LoadedMlp, load_mlp};
pub use error::TrainError;
pub use evaluate::{ConfusionMatrix, Evaluation, evaluate};
pub use step_runner::{Direct, StepResult, StepRunner};
pub use tally::Tally;
pub use trainer::{DEFAULT_TEST_BATCH_SIZE, FitReport, Trainer};
