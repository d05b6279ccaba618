//! Initializers: where a layer's weights start.
//!
//! - [`Xavier`] (Glorot & Bengio, 2010), the default: normal with standard deviation
//!   `scale · √(2 / (fan_in + fan_out))`, which keeps the variance of activations and gradients
//!   about the same from layer to layer.
//! - [`Normal`]: a fixed standard deviation; [`Normal::classic`] is LENGTH's `normal(0, 0.01)`.
//!
//! Both own a ChaCha8 generator seeded by the user: the same seed gives the same weights on every
//! machine.

mod normal;
mod xavier;

pub use normal::Normal;
pub use xavier::Xavier;
