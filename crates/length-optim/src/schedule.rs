//! Learning-rate schedules: the learning rate to train each epoch with.
//!
//! A schedule is a pure function of the epoch index, counted from 0:
//! [`LearningRateSchedule::learning_rate`]`(e)` is the rate used *during* epoch `e`, for every
//! batch of it. Call [`LearningRateSchedule::apply`] before each epoch's first update. Schedules
//! do their arithmetic in `f64`, as the course notebook's Python floats do, and round to `f32`
//! once at the end — so a decay by 0.1 from 0.1 gives exactly `0.01f32`, not `0.010000001`.
//!
//! - [`Constant`]: the same rate every epoch.
//! - [`StepDecay`]: multiply by a factor every few epochs; [`StepDecay::notebook`] is the course
//!   notebook's rule (×0.1 after epochs 0, 3, 6, …).
//! - [`Cosine`]: half a cosine from an initial rate down to a minimum.
//!
//! ```
//! use length_autograd::LearningRate;
//! use length_optim::{LearningRateSchedule, Sgd, StepDecay};
//!
//! let schedule = StepDecay::notebook(0.1);
//! let mut sgd = Sgd::with_learning_rate(0.1);
//! let mut used = Vec::new();
//! for epoch in 0..5 {
//!     schedule.apply(epoch, &mut sgd);
//!     used.push(sgd.learning_rate()); // ... train one epoch with it ...
//! }
//! assert_eq!(used, [0.1, 0.01, 0.01, 0.01, 0.001]);
//! ```

pub mod constant;
pub mod cosine;
pub mod step_decay;

pub use constant::Constant;
pub use cosine::Cosine;
pub use step_decay::StepDecay;

use length_autograd::Optimizer;

/// A rule giving the learning rate for each epoch.
pub trait LearningRateSchedule {
    /// The learning rate to use during epoch `epoch` (0-based).
    fn learning_rate(&self, epoch: usize) -> f32;

    /// Sets `optimizer`'s learning rate for `epoch` and returns it. Call it before the epoch's
    /// first update.
    fn apply(&self, epoch: usize, optimizer: &mut dyn Optimizer) -> f32 {
        let learning_rate = self.learning_rate(epoch);
        optimizer.set_learning_rate(learning_rate);
        learning_rate
    }
}
