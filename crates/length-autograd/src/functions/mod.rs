//! The functions of LENGTH, one file each, forward and backward side by side.
//!
//! | function | formula | gradient |
//! |---|---|---|
//! | [`Add`] | `a + b` | `g`, `g` |
//! | [`Sum`] | `Σ x` | `g` everywhere |
//! | [`ReLU`] | `max(x, 0)` | `g · [x > 0]` |
//! | [`Sigmoid`] | `1 / (1 + e⁻ˣ)` | `g · y · (1 − y)` |
//! | [`Softmax`] | `eˣ / Σ eˣ` per row | `y · (g − Σ g·y)` per row |
//! | [`SoftmaxCrossEntropy`] | `mean −log softmax(x)[t]` | `g · (softmax(x) − onehot(t)) / n` |
//! | [`MeanSquaredError`] | `mean (x − t)²` | `g · 2 (x − t) / size` |
//! | [`Accuracy`] | `mean [argmax x = t]` | none |
//! | [`Dropout`] | `x · mask / (1 − p)` | `g · mask / (1 − p)` |

mod accuracy;
mod add;
mod dropout;
mod mean_squared_error;
mod relu;
mod sigmoid;
mod softmax;
mod softmax_cross_entropy;
mod sum;

pub use accuracy::Accuracy;
pub use add::Add;
pub use dropout::Dropout;
pub use mean_squared_error::MeanSquaredError;
pub use relu::ReLU;
pub use sigmoid::Sigmoid;
pub use softmax::Softmax;
pub use softmax_cross_entropy::SoftmaxCrossEntropy;
pub use sum::Sum;

/// A scalar (shape `()`) holding `value`, in a buffer from the [`pool`](crate::pool): the output
/// of the losses, of [`Sum`] and of [`Accuracy`].
pub(crate) fn scalar(value: f32) -> length_tensor::Tensor {
    let mut tensor = crate::pool::take(ndarray::IxDyn(&[]));
    tensor.fill(value);
    tensor
}

/// Seeded random data for the tests, like LENGTH's `np.random.uniform(low, high, shape)`.
#[cfg(test)]
pub(crate) fn uniform(shape: &[usize], low: f32, high: f32, seed: u64) -> length_tensor::Tensor {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    length_tensor::Tensor::from_shape_fn(shape, |_| rng.random_range(low..high))
}
