//! Cosine annealing: half a cosine from an initial rate down to a minimum over a number of
//! epochs, then the minimum (PyTorch's `CosineAnnealingLR` with `T_max = epochs`):
//!
//! ```text
//! η_e = η_min + (η₀ − η_min) · (1 + cos(π · e / epochs)) / 2     for e < epochs
//! η_e = η_min                                                     for e ≥ epochs
//! ```
//!
//! Epoch 0 uses `η₀`; the rate falls slowly at first, fastest half-way, and slowly again as it
//! nears `η_min`, which epoch `epochs` reaches. Training for exactly `epochs` epochs therefore
//! ends one step above the minimum, as in PyTorch.
//!
//! ```
//! use length_optim::{Cosine, LearningRateSchedule};
//!
//! let schedule = Cosine::new(0.1, 0.0, 4);
//! assert_eq!(schedule.learning_rate(0), 0.1);
//! assert!((schedule.learning_rate(2) - 0.05).abs() < 1e-8); // half-way: the mean
//! assert_eq!(schedule.learning_rate(4), 0.0);
//! ```

use std::f64::consts::PI;

use super::LearningRateSchedule;

/// Half a cosine from `initial` to `minimum` over `epochs` epochs; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cosine {
    /// `η₀`, the rate of epoch 0.
    pub initial: f64,
    /// `η_min`, the rate from epoch `epochs` on.
    pub minimum: f64,
    /// How many epochs the descent takes.
    pub epochs: usize,
}

impl Cosine {
    /// Anneal from `initial` to `minimum` over `epochs` epochs (with `epochs = 0`, every epoch
    /// uses `minimum`).
    pub fn new(initial: f64, minimum: f64, epochs: usize) -> Self {
        Cosine {
            initial,
            minimum,
            epochs,
        }
    }
}

impl LearningRateSchedule for Cosine {
    fn learning_rate(&self, epoch: usize) -> f32 {
        if epoch >= self.epochs {
            return self.minimum as f32;
        }
        let progress = epoch as f64 / self.epochs as f64;
        let rate =
            self.minimum + (self.initial - self.minimum) * (1.0 + (PI * progress).cos()) / 2.0;
        rate as f32
    }
}
