//! The error an optimizer configuration from outside (a command line, a file) can be rejected
//! with, and the checks that produce it.

use thiserror::Error;

/// A hyperparameter outside the range its optimizer is defined for.
///
/// ```
/// use length_optim::{Adam, AdamConfig, ConfigError};
///
/// let error = Adam::try_new(AdamConfig { beta2: 1.0, ..AdamConfig::default() }).unwrap_err();
/// assert_eq!(error.to_string(), "Adam: beta2 must be in [0, 1), got 1");
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    /// A value that must be finite and at least zero (learning rate, epsilon, momentum, weight
    /// decay) was negative, infinite or NaN.
    #[error("{optimizer}: {name} must be a finite number >= 0, got {value}")]
    Negative {
        /// The optimizer being configured, e.g. `"Adam"`.
        optimizer: &'static str,
        /// The hyperparameter's field name, e.g. `"learning_rate"`.
        name: &'static str,
        /// The rejected value.
        value: f32,
    },
    /// A decay rate (Adam's betas) was outside `[0, 1)`.
    #[error("{optimizer}: {name} must be in [0, 1), got {value}")]
    NotADecayRate {
        /// The optimizer being configured, e.g. `"Adam"`.
        optimizer: &'static str,
        /// The hyperparameter's field name, e.g. `"beta1"`.
        name: &'static str,
        /// The rejected value.
        value: f32,
    },
}

/// `Ok` if `value` is finite and `>= 0`.
pub(crate) fn non_negative(
    optimizer: &'static str,
    name: &'static str,
    value: f32,
) -> Result<(), ConfigError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(ConfigError::Negative {
            optimizer,
            name,
            value,
        })
    }
}

/// `Ok` if `value` is in `[0, 1)`.
pub(crate) fn decay_rate(
    optimizer: &'static str,
    name: &'static str,
    value: f32,
) -> Result<(), ConfigError> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::NotADecayRate {
            optimizer,
            name,
            value,
        })
    }
}
