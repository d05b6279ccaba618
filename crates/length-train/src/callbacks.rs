//! Hooks into a training run: what happened at each step and after each epoch, and whether to go
//! on.
//!
//! [`Trainer::fit`](crate::Trainer::fit) calls a [`Callbacks`] value at fixed points of the loop:
//!
//! ```text
//! for each epoch:
//!     on_epoch_start(EpochStart)
//!     for each batch:   step, then on_step(StepReport)     -> Continue | Stop (ends the epoch)
//!     test pass, then   on_epoch_end(EpochReport)          -> Continue | Stop (ends the run)
//! ```
//!
//! Every method has a default that does nothing and continues, so a progress display implements
//! only `on_step`, a metrics writer only `on_epoch_end`. A stop request (Ctrl-C) is an `on_step`
//! that returns [`Flow::Stop`]: the current epoch ends after that step, the model is still tested,
//! and `on_epoch_end` reports the shortened epoch before the run ends.

use crate::{Evaluation, Tally};

/// Whether the loop goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop: after a step, end the epoch (it is still tested and reported); after an epoch, end
    /// the run.
    Stop,
}

/// An epoch is about to start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochStart {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Epochs in the run.
    pub epochs: usize,
    /// Training steps this epoch will take (fewer with a batch limit).
    pub steps: usize,
    /// The learning rate the schedule set for the epoch.
    pub learning_rate: f32,
}

/// One training step is done.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// 1-based step number within the epoch.
    pub iteration: usize,
    /// Steps in the epoch.
    pub steps: usize,
    /// The step's mean loss over its batch.
    pub loss: f32,
    /// Samples in the batch.
    pub samples: usize,
    /// Of those, how many the model classified correctly (before its update).
    pub correct: usize,
    /// The epoch's figures so far, this step included.
    pub running: Tally,
}

/// One epoch is done and tested.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Epochs in the run.
    pub epochs: usize,
    /// The learning rate used during the epoch.
    pub learning_rate: f32,
    /// Loss and accuracy over the epoch's training batches.
    pub train: Tally,
    /// The test pass after the epoch, when the trainer has a test set.
    pub test: Option<Evaluation>,
    /// Training steps that ran.
    pub steps: usize,
    /// Training steps the epoch would have taken without a stop.
    pub planned_steps: usize,
    /// Wall-clock seconds of the epoch's training steps (callbacks included, test pass excluded).
    pub seconds: f64,
    /// True when an `on_step` callback ended the epoch early.
    pub stopped_early: bool,
}

/// What a training run tells its watchers. Every method has a no-op default.
pub trait Callbacks {
    /// An epoch is about to start.
    fn on_epoch_start(&mut self, _start: &EpochStart) {}

    /// A step is done; [`Flow::Stop`] ends the epoch after it.
    fn on_step(&mut self, _report: &StepReport) -> Flow {
        Flow::Continue
    }

    /// An epoch is done and tested; [`Flow::Stop`] ends the run.
    fn on_epoch_end(&mut self, _report: &EpochReport) -> Flow {
        Flow::Continue
    }
}

/// No callbacks: train silently to the end.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Callbacks for Silent {}
