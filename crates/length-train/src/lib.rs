//! # length-train
//!
//! Training as library calls: a training loop over epochs with a learning-rate schedule,
//! evaluation on a test set, callbacks for progress and metrics, and checkpoints (safetensors
//! files with the architecture in their metadata).

pub mod checkpoint;

pub use checkpoint::{Checkpoint, CheckpointError, LoadedMlp, load_mlp};
