//! Normal initialization with a fixed standard deviation: `w ~ N(0, σ²)`.

use length_autograd::Initializer;
use ndarray::ArrayViewMut2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal as Gaussian};

/// Normal initialization with mean 0 and a fixed standard deviation.
///
/// ```
/// use length_autograd::Initializer;
/// use length_layers::Normal;
/// use ndarray::Array2;
///
/// let mut weights = Array2::zeros((100, 100));
/// Normal::classic(1).initialize(weights.view_mut()); // LENGTH's normal(0, 0.01)
/// assert!(weights.iter().all(|w: &f32| w.abs() < 0.1));
/// ```
#[derive(Debug, Clone)]
pub struct Normal {
    std_dev: f32,
    rng: ChaCha8Rng,
}

impl Normal {
    /// LENGTH's classic initialization: standard deviation 0.01.
    pub const CLASSIC_STD_DEV: f32 = 0.01;

    /// Normal initialization with standard deviation `std_dev`, seeded with `seed`.
    pub fn new(std_dev: f32, seed: u64) -> Self {
        Normal {
            std_dev,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// LENGTH's `normal(0, 0.01)`, seeded with `seed`.
    pub fn classic(seed: u64) -> Self {
        Normal::new(Self::CLASSIC_STD_DEV, seed)
    }

    /// The standard deviation.
    pub fn std_dev(&self) -> f32 {
        self.std_dev
    }
}

impl Initializer for Normal {
    /// # Panics
    /// If the standard deviation is negative or not finite.
    fn initialize(&mut self, mut weights: ArrayViewMut2<f32>) {
        let normal = Gaussian::new(0.0, self.std_dev).unwrap_or_else(|_| {
            panic!(
                "Normal: standard deviation {} gives no normal law",
                self.std_dev
            )
        });
        weights.map_inplace(|w| *w = normal.sample(&mut self.rng));
    }
}
