//! The [`Initializer`] trait: how a layer's weights get their first values.

use ndarray::ArrayViewMut2;

/// Fills a weight matrix with starting values, LENGTH's `Initializer`.
///
/// Initializers own their random number generator, so the same seed gives the same weights, and
/// successive layers initialized by one initializer get different weights.
pub trait Initializer {
    /// Overwrites every element of `weights`, stored as (outputs, inputs): the fan-in is the
    /// number of columns, the fan-out the number of rows.
    fn initialize(&mut self, weights: ArrayViewMut2<f32>);
}
