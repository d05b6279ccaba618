//! The constant schedule: `η_e = η` for every epoch `e`.
//!
//! ```
//! use length_optim::{Constant, LearningRateSchedule};
//!
//! let schedule = Constant::new(0.1);
//! assert_eq!(schedule.learning_rate(0), 0.1);
//! assert_eq!(schedule.learning_rate(1000), 0.1);
//! ```

use super::LearningRateSchedule;

/// The same learning rate every epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Constant {
    /// The learning rate of every epoch.
    pub learning_rate: f64,
}

impl Constant {
    /// A schedule that always gives `learning_rate`.
    pub fn new(learning_rate: f64) -> Self {
        Constant { learning_rate }
    }
}

impl LearningRateSchedule for Constant {
    fn learning_rate(&self, _epoch: usize) -> f32 {
        self.learning_rate as f32
    }
}
