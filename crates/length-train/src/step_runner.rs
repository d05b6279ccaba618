//! Where and how each training step runs.
//!
//! The trainer hands every step, as a closure, to a [`StepRunner`]. The default, [`Direct`], just
//! calls it on the current thread (and rayon pool). A runner can instead choose a thread pool per
//! step, as the `length` command's thread governor does (all cores, or one core while another
//! program keeps a core busy): the kernels give the same bits on any number of threads, so the
//! runner changes only the speed, never a number of the run.

use length_autograd::AutogradError;
use length_layers::StepOutcome;

/// What one training step gives back.
pub type StepResult = Result<StepOutcome, AutogradError>;

/// Runs training steps. Implement it to decide where each step runs.
///
/// ```
/// use length_train::{StepResult, StepRunner};
///
/// /// Counts the steps and runs them in place.
/// struct Counting(usize);
///
/// impl StepRunner for Counting {
///     fn run(&mut self, step: &mut (dyn FnMut() -> StepResult + Send)) -> StepResult {
///         self.0 += 1;
///         step()
///     }
/// }
/// ```
pub trait StepRunner {
    /// Runs `step` once and returns its result.
    fn run(&mut self, step: &mut (dyn FnMut() -> StepResult + Send)) -> StepResult;
}

/// Runs each step in place, on the calling thread.
#[derive(Clone, Copy, Debug, Default)]
pub struct Direct;

impl StepRunner for Direct {
    fn run(&mut self, step: &mut (dyn FnMut() -> StepResult + Send)) -> StepResult {
        step()
    }
}
