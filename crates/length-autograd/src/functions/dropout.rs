//! Inverted dropout (Srivastava et al., 2014) with ratio `p`:
//!
//! ```text
//! training:  mask_k = [u_k ≥ p] / (1 − p),  u_k ~ uniform[0, 1)
//!            y = x · mask,   ∂L/∂x = g · mask
//! test:      y = x,          ∂L/∂x = g
//! ```
//!
//! Each value survives with probability `1 − p` and is scaled up so the expected output equals
//! the input; at test time nothing is dropped and nothing needs rescaling. The mask is drawn from
//! a seeded ChaCha8 generator that the `Dropout` owns, so a run is reproducible, and kept (in a
//! buffer reused from step to step) for the backward pass.

use length_tensor::Tensor;
use ndarray::Zip;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{AutogradError, Function, Value, inputs, pool};

/// Dropout with a fixed ratio, LENGTH's `dropout(x, dropout_ratio, train)`.
///
/// Keep one `Dropout` per place in the network for the whole training (apply it with
/// `graph.apply(&mut dropout, &[h])`) so its generator moves on from step to step.
///
/// ```
/// use length_autograd::{functions::Dropout, Function, Value};
/// use ndarray::array;
///
/// let mut dropout = Dropout::new(0.5, 42)?;
/// let x = Value::from(array![[1.0f32, 1.0, 1.0, 1.0]]);
/// let y = dropout.forward(&[&x])?;
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0)); // dropped, or scaled by 1 / (1 - 0.5)
///
/// dropout.set_training(false);
/// assert_eq!(dropout.forward(&[&x])?, x.as_tensor().unwrap());
/// assert!(Dropout::new(1.0, 42).is_err());
/// # Ok::<(), length_autograd::AutogradError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dropout {
    ratio: f32,
    training: bool,
    rng: ChaCha8Rng,
    mask: Tensor,
}

const NAME: &str = "Dropout";

impl Dropout {
    /// Dropout that zeroes each value with probability `ratio`, in training mode, its mask drawn
    /// from a generator seeded with `seed`.
    ///
    /// # Errors
    /// [`InvalidDropoutRatio`](AutogradError::InvalidDropoutRatio) unless `0 ≤ ratio < 1`.
    pub fn new(ratio: f32, seed: u64) -> Result<Self, AutogradError> {
        Dropout::with_rng(ratio, ChaCha8Rng::seed_from_u64(seed))
    }

    /// Like [`new`](Dropout::new), with a generator you seeded (say, one stream of a model's
    /// seed).
    ///
    /// # Errors
    /// [`InvalidDropoutRatio`](AutogradError::InvalidDropoutRatio) unless `0 ≤ ratio < 1`.
    pub fn with_rng(ratio: f32, rng: ChaCha8Rng) -> Result<Self, AutogradError> {
        if !(0.0..1.0).contains(&ratio) {
            return Err(AutogradError::InvalidDropoutRatio { ratio });
        }
        Ok(Dropout {
            ratio,
            training: true,
            rng,
            mask: Tensor::zeros(vec![0]),
        })
    }

    /// The probability of dropping a value.
    pub fn ratio(&self) -> f32 {
        self.ratio
    }

    /// Switches between training (drop values) and test mode (the identity).
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// Whether values are dropped (training mode).
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// The mask of the last forward pass in training mode: `0` where a value was dropped,
    /// `1 / (1 − ratio)` where it was kept. The output was `x · mask`.
    pub fn mask(&self) -> &Tensor {
        &self.mask
    }

    /// Draws a new mask of the given shape into the reused buffer.
    fn draw_mask(&mut self, shape: &[usize]) {
        if self.mask.shape() != shape {
            self.mask = Tensor::zeros(shape);
        }
        let (ratio, scale) = (self.ratio, 1.0 / (1.0 - self.ratio));
        for m in &mut self.mask {
            *m = if self.rng.random::<f32>() >= ratio {
                scale
            } else {
                0.0
            };
        }
    }
}

impl Function for Dropout {
    fn name(&self) -> &str {
        NAME
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        inputs::expect_count(NAME, inputs, 1);
        let x = inputs::tensor(NAME, inputs, 0)?;
        if !self.training {
            return Ok(pool::copied(x.view()));
        }
        self.draw_mask(x.shape());
        let mut y = pool::take(x.raw_dim());
        Zip::from(&mut y)
            .and(x)
            .and(&self.mask)
            .for_each(|y, &x, &m| *y = x * m);
        Ok(y)
    }

    fn backward(
        &mut self,
        _inputs: &[&Value],
        _output: &Tensor,
        output_gradient: &Tensor,
        _needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        if !self.training {
            return vec![Some(pool::copied(output_gradient.view()))];
        }
        let mut gradient = pool::take(output_gradient.raw_dim());
        Zip::from(&mut gradient)
            .and(output_gradient)
            .and(&self.mask)
            .for_each(|d, &g, &m| *d = g * m);
        vec![Some(gradient)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::uniform;
    use crate::{assert_allclose, compute_numerical_gradient};

    fn lengths_data() -> Tensor {
        uniform(&[4, 5], 0.0, 1.0, 12)
    }

    fn run(dropout: &mut Dropout, data: &Tensor) -> Tensor {
        dropout.forward(&[&Value::Tensor(data.clone())]).unwrap()
    }

    #[test]
    fn ratio_zero_is_the_identity() {
        let data = lengths_data();
        assert_allclose(&run(&mut Dropout::new(0.0, 1).unwrap(), &data), &data);
    }

    #[test]
    fn ratio_one_is_an_error() {
        assert_eq!(
            Dropout::new(1.0, 1).unwrap_err(),
            AutogradError::InvalidDropoutRatio { ratio: 1.0 }
        );
        assert!(Dropout::new(-0.1, 1).is_err());
        assert!(Dropout::new(f32::NAN, 1).is_err());
    }

    #[test]
    fn ratio_half_zeroes_about_half() {
        let data = lengths_data();
        let output = run(&mut Dropout::new(0.5, 2).unwrap(), &data);
        let non_zero = output.iter().filter(|&&v| v != 0.0).count();
        let size = data.len();
        assert!(
            (non_zero as f32 - (size / 2) as f32).abs() <= size as f32 * 0.1,
            "{non_zero} of {size} survived"
        );
        for (&y, &x) in output.iter().zip(&data) {
            assert!(y == 0.0 || (y - 2.0 * x).abs() < 1e-6);
        }
    }

    #[test]
    fn backward_matches_numerical_gradient_of_x_times_mask() {
        let data = lengths_data();
        let gradient = uniform(&[4, 5], 0.0, 1.0, 13);
        let mut dropout = Dropout::new(0.5, 3).unwrap();
        let output = run(&mut dropout, &data);
        let computed = dropout.backward(&[], &output, &gradient, &[true]);
        let mask = dropout.mask().clone();
        // LENGTH: eps 0.1 (x · mask is linear), default tolerances.
        let numerical = compute_numerical_gradient(|x| &x[0] * &mask, &[data], &gradient, 0.1);
        assert_allclose(computed[0].as_ref().unwrap(), &numerical[0]);
    }

    #[test]
    fn test_mode_is_the_identity() {
        let data = lengths_data();
        let mut dropout = Dropout::new(0.5, 4).unwrap();
        dropout.set_training(false);
        assert_allclose(&run(&mut dropout, &data), &data);
    }

    #[test]
    fn same_seed_same_mask_and_masks_change_between_steps() {
        let data = lengths_data();
        let (mut a, mut b) = (Dropout::new(0.5, 5).unwrap(), Dropout::new(0.5, 5).unwrap());
        let first = run(&mut a, &data);
        assert_eq!(first, run(&mut b, &data));
        assert_ne!(first, run(&mut a, &data));
    }
}
