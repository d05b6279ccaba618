//! The course's network built from your parts: `ActivatedMLP`, 784-512-512-10.
//!
//! ```text
//! h₁     = ReLU(FC₁(x))          x: (samples, 784), h₁: (samples, 512)
//! h₂     = ReLU(FC₂(h₁))         (samples, 512)
//! logits = FC₃(h₂)               (samples, 10)
//! loss   = MeanSquaredError(logits, one_hot(labels))
//! ```
//!
//! Every piece is yours: [`FullyConnected`] (task 2), [`ReLU`] (task 4) and [`MeanSquaredError`]
//! (task 3), trained by your [`Sgd`](crate::Sgd) (task 1) or [`Adam`](crate::Adam) (task 5). It
//! implements the library's [`Model`] trait, so the library's training step
//! (`length_layers::train_step`) trains it exactly as it trains its own models. Nothing here is
//! a task; an unfinished part fails loudly with its `todo!` the first time it runs.

use std::fmt;
use std::str::FromStr;

use length_autograd::{AutogradError, Graph, Initializer, NodeId};
use length_layers::{ForwardPass, LayersError, Model, Normal, Xavier};
use ndarray::{Array2, ArrayView2, ArrayViewD, ArrayViewMutD};

use crate::task4_relu::relu;
use crate::{FullyConnected, MeanSquaredError, ReLU};

/// How the weights start: Xavier (the default) or the notebook's normal(0, 0.01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InitName {
    /// Xavier/Glorot normal, `N(0, 2 / (fan_in + fan_out))`. Written `xavier`.
    #[default]
    Xavier,
    /// The notebook's `normal(0, 0.01)`. Written `length`.
    Length,
}

impl InitName {
    /// The initializer, seeded with `seed` (the library's [`Xavier`] or [`Normal::classic`]).
    pub fn initializer(self, seed: u64) -> Box<dyn Initializer> {
        match self {
            InitName::Xavier => Box::new(Xavier::new(seed)),
            InitName::Length => Box::new(Normal::classic(seed)),
        }
    }
}

impl fmt::Display for InitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InitName::Xavier => "xavier",
            InitName::Length => "length",
        })
    }
}

impl FromStr for InitName {
    type Err = String;

    /// `xavier` or `length`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "xavier" => Ok(InitName::Xavier),
            "length" => Ok(InitName::Length),
            other => Err(format!(
                "unknown init {other:?} (expected xavier or length)"
            )),
        }
    }
}

/// The notebook's `ActivatedMLP`, 784-512-512-10 with ReLU, made of your parts.
///
/// ```
/// use length_exercise::{ActivatedMLP, InitName};
/// use length_layers::Model;
/// use ndarray::Array2;
///
/// let model = ActivatedMLP::new(InitName::Xavier, 0);
/// assert_eq!(model.infer(Array2::zeros((2, 784)).view())?.dim(), (2, 10));
/// # Ok::<(), length_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ActivatedMLP {
    /// The layers, input side first.
    pub layers: [FullyConnected; 3],
    init: InitName,
    seed: u64,
}

/// The layer sizes: 28·28 pixels in, two hidden layers of 512, ten classes out.
pub const SIZES: [usize; 4] = [784, 512, 512, 10];

impl ActivatedMLP {
    /// The network with weights drawn by one `init` initializer seeded with `seed`, layer by
    /// layer (the same weights as `length train --init ... --seed ...` starts from).
    pub fn new(init: InitName, seed: u64) -> Self {
        let mut initializer = init.initializer(seed);
        let mut layer =
            |i: usize| FullyConnected::new(SIZES[i], SIZES[i + 1], initializer.as_mut());
        let layers = [layer(0), layer(1), layer(2)];
        ActivatedMLP { layers, init, seed }
    }

    fn layer_of(&self, name: &str) -> Option<usize> {
        let number: usize = name.strip_prefix("fc")?.split('.').next()?.parse().ok()?;
        (1..=self.layers.len())
            .contains(&number)
            .then(|| number - 1)
    }
}

impl Model for ActivatedMLP {
    fn forward<'g>(
        &'g mut self,
        graph: &mut Graph<'g>,
        x: NodeId,
    ) -> Result<NodeId, AutogradError> {
        let [fc1, fc2, fc3] = &mut self.layers;
        let h = graph.apply(fc1, &[x])?;
        let h = graph.apply(ReLU, &[h])?;
        let h = graph.apply(fc2, &[h])?;
        let h = graph.apply(ReLU, &[h])?;
        graph.apply(fc3, &[h])
    }

    fn forward_with_loss<'g>(
        &'g mut self,
        graph: &mut Graph<'g>,
        x: NodeId,
        labels: NodeId,
    ) -> Result<ForwardPass, AutogradError> {
        let logits = self.forward(graph, x)?;
        let loss = graph.apply(MeanSquaredError, &[logits, labels])?;
        Ok(ForwardPass { logits, loss })
    }

    /// Your forward passes without a graph.
    fn infer(&self, x: ArrayView2<f32>) -> Result<Array2<f32>, LayersError> {
        if x.ncols() != SIZES[0] {
            return Err(LayersError::ShapeMismatch {
                what: "input".to_string(),
                expected: vec![x.nrows(), SIZES[0]],
                got: x.shape().to_vec(),
            });
        }
        let mut h = x.to_owned();
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward_matrix(h.view());
            if i + 1 < self.layers.len() {
                h = relu(h.into_dyn().view())
                    .into_dimensionality()
                    .expect("ReLU keeps the shape");
            }
        }
        Ok(h)
    }

    /// `fc1.weight`, `fc1.bias`, ...; weights in the library's (outputs, inputs) layout.
    fn parameters(&self) -> Vec<(String, ArrayViewD<'_, f32>)> {
        let mut parameters = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            let weights = layer.weights.t().into_dyn();
            parameters.push((format!("fc{}.weight", i + 1), weights));
            parameters.push((format!("fc{}.bias", i + 1), layer.bias.view().into_dyn()));
        }
        parameters
    }

    fn parameter_mut(&mut self, name: &str) -> Result<ArrayViewMutD<'_, f32>, LayersError> {
        let unknown = || LayersError::UnknownParameter {
            name: name.to_string(),
            known: "fc1.weight, fc1.bias, fc2.weight, fc2.bias, fc3.weight, fc3.bias".to_string(),
        };
        let index = self.layer_of(name).ok_or_else(unknown)?;
        let layer = &mut self.layers[index];
        match &name[4..] {
            "weight" => Ok(layer.weights.view_mut().reversed_axes().into_dyn()),
            "bias" => Ok(layer.bias.view_mut().into_dyn()),
            _ => Err(unknown()),
        }
    }

    fn architecture(&self) -> String {
        format!(
            "sizes=784,512,512,10 activation=relu loss=mse dropout=0 init={} seed={}",
            match self.init {
                InitName::Xavier => "xavier:1",
                InitName::Length => "normal:0.01",
            },
            self.seed
        )
    }

    /// The network has no dropout: training and evaluation compute the same.
    fn set_training(&mut self, _training: bool) {}

    fn is_training(&self) -> bool {
        true
    }
}
