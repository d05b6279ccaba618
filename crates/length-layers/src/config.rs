//! The description of an MLP: layer sizes, activation, loss, dropout, initializer and seed.
//!
//! An [`MlpConfig`] is everything needed to rebuild a model's architecture (the parameters are
//! saved separately), and it round-trips through a one-line text form, for example to sit in a
//! file's metadata:
//!
//! ```text
//! sizes=784,512,512,10 activation=relu loss=mse dropout=0 init=xavier:1 seed=0
//! ```
//!
//! Keys may come in any order; all but `sizes` may be left out and take their defaults, which
//! are those of LENGTH's `MLP` (no activation, MSE, no dropout, Xavier with scale 1, seed 0).

use std::fmt;
use std::str::FromStr;

use length_autograd::Initializer;

use crate::{Activation, LayersError, Loss, MLP, Normal, Xavier};

/// How the weights of each layer are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WeightInit {
    /// [`Xavier`] with this scale (the default, scale 1). Written `xavier:SCALE`.
    Xavier {
        /// The factor on Xavier's standard deviation.
        scale: f32,
    },
    /// [`Normal`] with this standard deviation (LENGTH's classic: 0.01). Written
    /// `normal:STD_DEV`.
    Normal {
        /// The standard deviation.
        std_dev: f32,
    },
}

impl Default for WeightInit {
    fn default() -> Self {
        WeightInit::Xavier { scale: 1.0 }
    }
}

impl WeightInit {
    /// The initializer, seeded with `seed`.
    pub fn initializer(self, seed: u64) -> Box<dyn Initializer> {
        match self {
            WeightInit::Xavier { scale } => Box::new(Xavier::with_scale(scale, seed)),
            WeightInit::Normal { std_dev } => Box::new(Normal::new(std_dev, seed)),
        }
    }

    fn parameter(self) -> f32 {
        match self {
            WeightInit::Xavier { scale } => scale,
            WeightInit::Normal { std_dev } => std_dev,
        }
    }
}

impl fmt::Display for WeightInit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightInit::Xavier { scale } => write!(f, "xavier:{scale}"),
            WeightInit::Normal { std_dev } => write!(f, "normal:{std_dev}"),
        }
    }
}

impl FromStr for WeightInit {
    type Err = LayersError;

    /// `xavier:SCALE` or `normal:STD_DEV` (`xavier` alone means scale 1, `normal` alone 0.01).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, number) = match s.split_once(':') {
            Some((kind, number)) => (kind, Some(number)),
            None => (s, None),
        };
        let number = |default: f32| match number {
            None => Ok(default),
            Some(text) => text.parse::<f32>().map_err(|_| {
                LayersError::InvalidConfig(format!("initializer {s:?}: {text:?} is not a number"))
            }),
        };
        match kind {
            "xavier" => Ok(WeightInit::Xavier {
                scale: number(1.0)?,
            }),
            "normal" => Ok(WeightInit::Normal {
                std_dev: number(Normal::CLASSIC_STD_DEV)?,
            }),
            _ => Err(LayersError::InvalidConfig(format!(
                "unknown initializer {s:?} (expected xavier:SCALE or normal:STD_DEV)"
            ))),
        }
    }
}

/// The architecture of a multi-layer perceptron, and a builder for it.
///
/// ```
/// use length_layers::{Activation, Loss, MlpConfig};
///
/// let config = MlpConfig::new([784, 256, 10])
///     .activation(Activation::ReLU)
///     .loss(Loss::SoftmaxCrossEntropy)
///     .dropout(0.2)
///     .seed(7);
/// let text = config.to_string();
/// assert_eq!(
///     text,
///     "sizes=784,256,10 activation=relu loss=softmax_cross_entropy dropout=0.2 init=xavier:1 seed=7"
/// );
/// assert_eq!(text.parse::<MlpConfig>()?, config);
/// let model = config.build()?;
/// assert_eq!(model.layers().len(), 2);
///
/// assert!(MlpConfig::new([784]).build().is_err()); // fewer than two sizes
/// assert!(MlpConfig::new([784, 10]).dropout(1.0).build().is_err());
/// # Ok::<(), length_layers::LayersError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MlpConfig {
    /// The number of values in each layer, input first: `[784, 512, 512, 10]` has three fully
    /// connected layers.
    pub sizes: Vec<usize>,
    /// The activation after each hidden layer (not after the last).
    pub activation: Activation,
    /// The training loss.
    pub loss: Loss,
    /// The dropout ratio after each hidden activation, in `[0, 1)`; 0 means no dropout.
    pub dropout: f32,
    /// How weights are drawn.
    pub init: WeightInit,
    /// The seed of every random choice: weights (stream 0) and each dropout mask (stream `i`
    /// for the `i`-th hidden layer).
    pub seed: u64,
}

impl MlpConfig {
    /// A configuration with the given sizes and LENGTH's defaults for everything else.
    pub fn new(sizes: impl Into<Vec<usize>>) -> Self {
        MlpConfig {
            sizes: sizes.into(),
            activation: Activation::None,
            loss: Loss::MeanSquaredError,
            dropout: 0.0,
            init: WeightInit::default(),
            seed: 0,
        }
    }

    /// LENGTH's `MLP`: 784-512-512-10, no activation, mean squared error.
    pub fn length() -> Self {
        MlpConfig::new([784, 512, 512, 10])
    }

    /// The course notebook's `ActivatedMLP`: LENGTH's MLP with ReLU after both hidden layers.
    pub fn activated() -> Self {
        MlpConfig::length().activation(Activation::ReLU)
    }

    /// Sets the activation.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Sets the loss.
    pub fn loss(mut self, loss: Loss) -> Self {
        self.loss = loss;
        self
    }

    /// Sets the dropout ratio (checked by [`validate`](MlpConfig::validate)).
    pub fn dropout(mut self, ratio: f32) -> Self {
        self.dropout = ratio;
        self
    }

    /// Sets the weight initialization.
    pub fn init(mut self, init: WeightInit) -> Self {
        self.init = init;
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks that the configuration describes a network.
    ///
    /// # Errors
    /// [`LayersError::InvalidConfig`] for fewer than two sizes, a zero size, a dropout ratio
    /// outside `[0, 1)`, or an initializer parameter that is negative or not finite.
    pub fn validate(&self) -> Result<(), LayersError> {
        let invalid = |message: String| Err(LayersError::InvalidConfig(message));
        if self.sizes.len() < 2 {
            return invalid(format!(
                "an MLP needs at least two sizes (inputs and outputs), got {:?}",
                self.sizes
            ));
        }
        if self.sizes.contains(&0) {
            return invalid(format!(
                "layer sizes must be positive, got {:?}",
                self.sizes
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return invalid(format!(
                "dropout ratio must be in [0, 1), got {}",
                self.dropout
            ));
        }
        let parameter = self.init.parameter();
        if !(parameter.is_finite() && parameter >= 0.0) {
            return invalid(format!(
                "initializer {} needs a finite number ≥ 0",
                self.init
            ));
        }
        Ok(())
    }

    /// Validates the configuration and builds the model.
    ///
    /// # Errors
    /// See [`validate`](MlpConfig::validate).
    pub fn build(self) -> Result<MLP, LayersError> {
        MLP::from_config(self)
    }

    /// The names and shapes of the model's parameters, from the sizes alone (without building
    /// it): `fc{k}.weight` of shape (n_k, n_{k−1}) and `fc{k}.bias` of shape (n_k), in the order
    /// [`Model::parameters`](crate::Model::parameters) lists them. A checkpoint loader compares a
    /// file against this before allocating anything.
    ///
    /// ```
    /// use length_layers::MlpConfig;
    ///
    /// let shapes = MlpConfig::new([4, 3, 2]).parameter_shapes();
    /// assert_eq!(shapes[0], ("fc1.weight".to_string(), vec![3, 4]));
    /// assert_eq!(shapes[3], ("fc2.bias".to_string(), vec![2]));
    /// ```
    pub fn parameter_shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.sizes
            .windows(2)
            .enumerate()
            .flat_map(|(i, pair)| {
                let (inputs, outputs) = (pair[0], pair[1]);
                [
                    (format!("fc{}.weight", i + 1), vec![outputs, inputs]),
                    (format!("fc{}.bias", i + 1), vec![outputs]),
                ]
            })
            .collect()
    }
}

impl fmt::Display for MlpConfig {
    /// The one-line text form, `sizes=... activation=... loss=... dropout=... init=... seed=...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes: Vec<String> = self.sizes.iter().map(usize::to_string).collect();
        write!(
            f,
            "sizes={} activation={} loss={} dropout={} init={} seed={}",
            sizes.join(","),
            self.activation,
            self.loss,
            self.dropout,
            self.init,
            self.seed
        )
    }
}

impl FromStr for MlpConfig {
    type Err = LayersError;

    /// Parses the text form; see the module documentation. The result is validated.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |message: String| LayersError::InvalidConfig(message);
        let mut config = MlpConfig::new(Vec::new());
        let mut has_sizes = false;
        for pair in s.split_whitespace() {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| invalid(format!("expected key=value, got {pair:?}")))?;
            let number = |what: &str| invalid(format!("{what} {value:?} is not a number"));
            match key {
                "sizes" => {
                    has_sizes = true;
                    config.sizes = value
                        .split(',')
                        .map(|size| size.parse::<usize>().map_err(|_| number("size")))
                        .collect::<Result<_, _>>()?;
                }
                "activation" => config.activation = value.parse()?,
                "loss" => config.loss = value.parse()?,
                "dropout" => config.dropout = value.parse().map_err(|_| number("dropout"))?,
                "init" => config.init = value.parse()?,
                "seed" => config.seed = value.parse().map_err(|_| number("seed"))?,
                other => return Err(invalid(format!("unknown key {other:?}"))),
            }
        }
        if !has_sizes {
            return Err(invalid(format!("no sizes=... in {s:?}")));
        }
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Model;

    #[test]
    fn the_shapes_from_the_sizes_are_the_ones_the_mlp_has() {
        for sizes in [vec![784, 512, 512, 10], vec![3, 1], vec![5, 4, 3, 2, 1]] {
            let config = MlpConfig::new(sizes);
            let built: Vec<(String, Vec<usize>)> = config
                .clone()
                .build()
                .unwrap()
                .parameters()
                .into_iter()
                .map(|(name, value)| (name, value.shape().to_vec()))
                .collect();
            assert_eq!(config.parameter_shapes(), built);
        }
    }

    #[test]
    fn presets_round_trip_through_text() -> Result<(), LayersError> {
        for config in [
            MlpConfig::length(),
            MlpConfig::activated(),
            MlpConfig::new([3, 1])
                .activation(Activation::Sigmoid)
                .init(WeightInit::Normal { std_dev: 0.01 })
                .dropout(0.125)
                .seed(u64::MAX),
        ] {
            assert_eq!(config.to_string().parse::<MlpConfig>()?, config);
        }
        Ok(())
    }

    #[test]
    fn missing_keys_take_lengths_defaults() -> Result<(), LayersError> {
        assert_eq!(
            "sizes=784,512,512,10".parse::<MlpConfig>()?,
            MlpConfig::length()
        );
        Ok(())
    }

    #[test]
    fn bad_text_is_an_error() {
        for text in [
            "",
            "sizes=784",
            "sizes=784,0,10",
            "sizes=784,x",
            "sizes=2,2 activation=tanh",
            "sizes=2,2 loss=hinge",
            "sizes=2,2 dropout=1",
            "sizes=2,2 dropout=-0.5",
            "sizes=2,2 init=uniform:1",
            "sizes=2,2 init=normal:-1",
            "sizes=2,2 colour=blue",
            "sizes=2,2 seed",
        ] {
            let result = text.parse::<MlpConfig>();
            assert!(
                matches!(result, Err(LayersError::InvalidConfig(_))),
                "{text:?} gave {result:?}"
            );
        }
    }
}
