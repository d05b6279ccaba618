//! Step decay: multiply the learning rate by `factor` after every epoch whose index is a multiple
//! of `every`.
//!
//! The decays that have happened before epoch `e` are those after epochs `0, every, 2·every, …`
//! below `e`, which number `⌈e / every⌉`, so the rate used during epoch `e` is
//!
//! ```text
//! η_e = η₀ · factor^⌈e / every⌉
//! ```
//!
//! [`StepDecay::notebook`] is the course notebook's rule, `factor = 0.1`, `every = 3`: the
//! notebook trains epoch `e`, then multiplies its learning rate by 0.1 if `e % 3 == 0`. From 0.1
//! that trains epochs 0, 1, 2, 3, 4, … with 0.1, 0.01, 0.01, 0.01, 0.001, ….
//!
//! ```
//! use length_optim::{LearningRateSchedule, StepDecay};
//!
//! let schedule = StepDecay::notebook(0.1);
//! let rates: Vec<f32> = (0..8).map(|epoch| schedule.learning_rate(epoch)).collect();
//! assert_eq!(rates, [0.1, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001, 0.0001]);
//! ```

use super::LearningRateSchedule;

/// Multiply by `factor` after epochs `0, every, 2·every, …`; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepDecay {
    /// `η₀`, the rate of epoch 0.
    pub initial: f64,
    /// What each decay multiplies the rate by (0.1 in the notebook).
    pub factor: f64,
    /// A decay follows every epoch whose index is a multiple of this (3 in the notebook).
    pub every: usize,
}

impl StepDecay {
    /// Start at `initial`; multiply by `factor` after every epoch whose index is a multiple of
    /// `every`.
    ///
    /// # Panics
    /// If `every` is 0.
    pub fn new(initial: f64, factor: f64, every: usize) -> Self {
        assert!(every > 0, "StepDecay: `every` must be at least 1 epoch");
        StepDecay {
            initial,
            factor,
            every,
        }
    }

    /// The course notebook's rule: start at `initial`, multiply by 0.1 after epochs 0, 3, 6, ….
    pub fn notebook(initial: f64) -> Self {
        Self::new(initial, 0.1, 3)
    }

    /// How many decays happen before epoch `epoch`: `⌈epoch / every⌉`.
    pub fn decays_before(&self, epoch: usize) -> usize {
        epoch.div_ceil(self.every)
    }
}

impl LearningRateSchedule for StepDecay {
    fn learning_rate(&self, epoch: usize) -> f32 {
        let decays = i32::try_from(self.decays_before(epoch)).unwrap_or(i32::MAX);
        (self.initial * self.factor.powi(decays)) as f32
    }
}
