//! How fast training runs: samples per second, and the effective speed of the matrix
//! multiplications in GFLOP/s.
//!
//! A fully connected layer from `in` to `out` values does three matrix products per sample of a
//! training step, each of `in·out` multiply-adds (2 flops):
//!
//! ```text
//! forward            y  = x · Wᵀ + b     2 · in · out
//! weight gradient    ∂W = gᵀ · x         2 · in · out
//! input gradient     ∂x = g · W          2 · in · out    (not for the first layer: the batch
//!                                                         needs no gradient)
//! ```
//!
//! So an epoch's matmul work is `samples · 2 · (2·Σ in·out + Σ_{layers after the first} in·out)`.
//! For the course's 784-512-512-10 MLP and 937 batches of 64 that is 192.45 GFLOP. Dividing it by
//! the seconds of the training loop gives the *effective* GFLOP/s: everything else the step does
//! (activations, loss, optimizer, data) counts as time but not as work, so it is the figure to
//! compare with the kernels' own speed and with other libraries.

/// The flops of matrix multiplication one sample costs in one training step of an MLP with the
/// given layer sizes (inputs first, classes last).
pub fn matmul_flops_per_sample(sizes: &[usize]) -> u64 {
    let products: Vec<u64> = sizes
        .windows(2)
        .map(|pair| (pair[0] * pair[1]) as u64)
        .collect();
    let all: u64 = products.iter().sum();
    let after_first: u64 = products.iter().skip(1).sum();
    2 * (2 * all + after_first)
}

/// Work done and time taken by some training: an epoch, or a whole run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Throughput {
    /// Wall-clock seconds of the training loop (test evaluation excluded).
    pub seconds: f64,
    /// Training samples processed.
    pub samples: usize,
    /// Matrix-multiplication flops of those samples.
    pub flops: f64,
}

impl Throughput {
    /// `samples` trained in `seconds` by an MLP with layer sizes `sizes`.
    pub fn new(seconds: f64, samples: usize, sizes: &[usize]) -> Self {
        Throughput {
            seconds,
            samples,
            flops: samples as f64 * matmul_flops_per_sample(sizes) as f64,
        }
    }

    /// Training samples per second (0 when no time was measured).
    pub fn samples_per_second(&self) -> f64 {
        self.per_second(self.samples as f64)
    }

    /// Effective matmul speed: the epoch's matmul flops over its seconds, in GFLOP/s.
    pub fn gflop_per_second(&self) -> f64 {
        self.per_second(self.flops) / 1e9
    }

    fn per_second(&self, amount: f64) -> f64 {
        if self.seconds > 0.0 {
            amount / self.seconds
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTEBOOK: [usize; 4] = [784, 512, 512, 10];

    #[test]
    fn one_step_of_the_notebook_mlp_splits_as_forward_weights_inputs() {
        let batch = 64;
        let forward = 2 * batch * (784 * 512 + 512 * 512 + 512 * 10);
        let input_gradients = 2 * batch * (512 * 512 + 512 * 10);
        assert_eq!(forward, 85_590_016); // 85.6 MFLOP, and as much for the weight gradients
        assert_eq!(input_gradients, 34_209_792); // 34.2 MFLOP
        assert_eq!(
            batch as u64 * matmul_flops_per_sample(&NOTEBOOK),
            (2 * forward + input_gradients) as u64
        );
    }

    #[test]
    fn an_mnist_epoch_of_the_notebook_mlp_is_192_45_gflop() {
        let epoch = Throughput::new(2.0, 937 * 64, &NOTEBOOK);
        assert_eq!(epoch.flops, 192_450_265_088.0);
        assert!((epoch.gflop_per_second() - 96.225_132_544).abs() < 1e-9);
        assert_eq!(epoch.samples_per_second(), 29_984.0);
    }

    #[test]
    fn a_single_layer_needs_no_input_gradient() {
        // A linear model: forward and weight gradient only.
        assert_eq!(matmul_flops_per_sample(&[784, 10]), 2 * 2 * 7840);
    }

    #[test]
    fn no_time_gives_no_rate() {
        let nothing = Throughput::new(0.0, 0, &NOTEBOOK);
        assert_eq!(nothing.samples_per_second(), 0.0);
        assert_eq!(nothing.gflop_per_second(), 0.0);
    }
}
