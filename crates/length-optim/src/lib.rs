//! # length-optim
//!
//! LENGTH's optimizers and learning-rate schedules. Each optimizer states its rule once, per
//! element, as a [`length_autograd::ElementwiseOptimizer`], and gets from it the whole
//! [`length_autograd::Optimizer`]: LENGTH's `run_update_rule(gradients, layer) -> deltas`, the
//! fused in-place `update`, and the step a fully connected layer applies while it computes its
//! weight gradient.
//!
//! | optimizer    | module (file)    | update of `p` with gradient `g`              | state per parameter |
//! |--------------|------------------|----------------------------------------------|---------------------|
//! | [`Sgd`]      | [`sgd`]          | `p ← p − η·g`                                | none                |
//! | [`Momentum`] | [`momentum`]     | `v ← μ·v + g`, `p ← p − η·v` (or Nesterov)   | velocity `v`        |
//! | [`Adam`]     | [`adam`]         | `p ← p − η·m̂/(√v̂ + ε)`                      | moments `m`, `v`    |
//! | [`AdamW`]    | [`adamw`]        | `p ← p − η·λ·p − η·m̂/(√v̂ + ε)`              | moments `m`, `v`    |
//!
//! Each has a `…Config` with defaults (`Default`), `new(config)` (panics on an invalid config),
//! `try_new(config)` (returns a [`ConfigError`]), and `with_learning_rate(η)`. Optimizers with
//! state keep it per layer, keyed by [`LayerId`](length_autograd::LayerId), and per parameter
//! within the layer, created as zeros on the layer's first update.
//!
//! **Speed.** Every `update` is one pass per parameter array that reads the gradient, updates
//! the state and writes the parameter in place, allocating nothing after a layer's first update
//! (length-tensor's `update_pass`). Arrays of 32 768 elements or more are split into 8 192-element
//! pieces handled in parallel by rayon; the result is bit-identical for any number of threads,
//! and bit-identical to subtracting the deltas of `run_update_rule` (both use the one scalar
//! rule). The passes are compiled for the widest SIMD the CPU has (AVX-512, AVX2 or SSE2, chosen
//! at run time; the same bits on each), and optimizer state that decays towards the subnormal
//! numbers is flushed to zero, which x86 CPUs would otherwise compute with a hundred times slower.
//!
//! **Schedules** ([`schedule`]) give the learning rate of each epoch: [`Constant`],
//! [`StepDecay`] (with the course notebook's rule), [`Cosine`].
//!
//! ```
//! use length_autograd::{LayerId, Optimizer};
//! use length_optim::{Adam, AdamConfig, LearningRateSchedule, StepDecay};
//! use ndarray::array;
//!
//! let mut adam = Adam::new(AdamConfig { learning_rate: 0.01, ..AdamConfig::default() });
//! let schedule = StepDecay::notebook(0.01);
//! let layer = LayerId::fresh();
//! let mut weights = array![[1.0f32, -1.0], [0.5, 2.0]].into_dyn();
//!
//! for epoch in 0..3 {
//!     schedule.apply(epoch, &mut adam);
//!     // Gradient of ½·‖w‖² is w itself: Adam walks every weight towards 0.
//!     let gradient = weights.clone();
//!     adam.update(&mut [weights.view_mut()], &[gradient.view()], layer);
//! }
//! assert!(weights.iter().zip([1.0f32, -1.0, 0.5, 2.0]).all(|(w, w0)| w.abs() < w0.abs()));
//! assert_eq!(adam.steps(layer), 3);
//! ```

pub mod adam;
pub mod adamw;
mod error;
mod flush;
pub mod momentum;
pub mod schedule;
pub mod sgd;

pub use adam::{Adam, AdamConfig, AdamStep};
pub use adamw::{AdamW, AdamWConfig};
pub use error::ConfigError;
pub use momentum::{Momentum, MomentumConfig};
pub use schedule::{Constant, Cosine, LearningRateSchedule, StepDecay};
pub use sgd::{Sgd, SgdConfig};
