//! Xavier/Glorot normal initialization: `w ~ N(0, σ²)` with `σ = scale · √(2 / (fan_in + fan_out))`.

use length_autograd::Initializer;
use ndarray::ArrayViewMut2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal as Gaussian};

/// Xavier/Glorot normal initialization, LENGTH's `Xavier(scale=1.0)`.
///
/// ```
/// use length_autograd::Initializer;
/// use length_layers::Xavier;
/// use ndarray::Array2;
///
/// let mut weights = Array2::zeros((200, 300)); // (outputs, inputs)
/// Xavier::new(7).initialize(weights.view_mut());
/// let std = (weights.mapv(|w: f32| w * w).mean().unwrap()).sqrt();
/// let expected = (2.0f32 / (300.0 + 200.0)).sqrt();
/// assert!((std - expected).abs() < 0.02 * expected);
/// ```
#[derive(Debug, Clone)]
pub struct Xavier {
    scale: f32,
    rng: ChaCha8Rng,
}

impl Xavier {
    /// Xavier initialization with scale 1, drawing from a generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Xavier::with_scale(1.0, seed)
    }

    /// Xavier initialization with the standard deviation multiplied by `scale`.
    pub fn with_scale(scale: f32, seed: u64) -> Self {
        Xavier {
            scale,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The factor on the standard deviation.
    pub fn scale(&self) -> f32 {
        self.scale
    }
}

impl Initializer for Xavier {
    /// # Panics
    /// If `scale` is negative or not finite.
    fn initialize(&mut self, mut weights: ArrayViewMut2<f32>) {
        let (fan_out, fan_in) = weights.dim();
        let std_dev = self.scale * (2.0 / (fan_in + fan_out).max(1) as f32).sqrt();
        let normal = Gaussian::new(0.0, std_dev)
            .unwrap_or_else(|_| panic!("Xavier: scale {} gives no normal law", self.scale));
        weights.map_inplace(|w| *w = normal.sample(&mut self.rng));
    }
}
