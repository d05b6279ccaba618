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
//! implements the library's [`Model`] trait, so the library's training loop (`length_train`,
//! which `cargo run --release -- train` runs through `length train`'s own code) trains it
//! exactly as it trains its own models. Nothing here is a task; an unfinished part fails loudly
//! with its `todo!` the first time it runs.

use length_autograd::{AutogradError, Graph, NodeId};
use length_layers::{ForwardPass, LayersError, MlpConfig, Model, WeightInit};
use ndarray::{Array2, ArrayView2, ArrayViewD, ArrayViewMutD};

use crate::task4_relu::relu;
use crate::{FullyConnected, MeanSquaredError, ReLU};

/// The notebook's `ActivatedMLP`, 784-512-512-10 with ReLU, made of your parts.
///
/// ```
/// use length_exercise::ActivatedMLP;
/// use length_layers::{Model, WeightInit};
/// use ndarray::Array2;
///
/// let model = ActivatedMLP::new(WeightInit::default(), 0); // Xavier, seed 0
/// assert_eq!(model.infer(Array2::zeros((2, 784)).view())?.dim(), (2, 10));
/// # Ok::<(), length_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ActivatedMLP {
    /// The layers, input side first.
    pub layers: [FullyConnected; 3],
    /// The library's description of this network: `MlpConfig::activated()` with the
    /// initializer and the seed the weights were drawn with.
    config: MlpConfig,
}

impl ActivatedMLP {
    /// The network with weights drawn by `init` seeded with `seed`, layer by layer: the same
    /// weights as the library's `MlpConfig::activated().init(init).seed(seed).build()` (and so
    /// as `length train --init ... --seed ...`) starts from.
    pub fn new(init: WeightInit, seed: u64) -> Self {
        let config = MlpConfig::activated().init(init).seed(seed);
        let mut initializer = init.initializer(seed);
        let sizes = &config.sizes;
        let mut layer =
            |i: usize| FullyConnected::new(sizes[i], sizes[i + 1], initializer.as_mut());
        let layers = [layer(0), layer(1), layer(2)];
        ActivatedMLP { layers, config }
    }

    /// The network `config` describes, if it is the notebook's ActivatedMLP (784-512-512-10,
    /// ReLU, mean squared error, no dropout) with some initializer and seed; the training binary
    /// builds the model the flags ask for so.
    ///
    /// # Errors
    /// [`LayersError::InvalidConfig`] for any other architecture: naming what was asked for.
    pub fn from_config(config: &MlpConfig) -> Result<Self, LayersError> {
        let notebook = MlpConfig::activated().init(config.init).seed(config.seed);
        if *config != notebook {
            return Err(LayersError::InvalidConfig(format!(
                "your ActivatedMLP is 784-512-512-10 with relu, mse and no dropout; the flags \
                 asked for {config}"
            )));
        }
        Ok(ActivatedMLP::new(config.init, config.seed))
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
        let h = graph.apply_layer(fc1, &[x])?;
        let h = graph.apply(ReLU, &[h])?;
        let h = graph.apply_layer(fc2, &[h])?;
        let h = graph.apply(ReLU, &[h])?;
        graph.apply_layer(fc3, &[h])
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
        let inputs = self.layers[0].num_inputs();
        if x.ncols() != inputs {
            return Err(LayersError::ShapeMismatch {
                what: "input".to_string(),
                expected: vec![x.nrows(), inputs],
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

    /// The library's one-line form of the architecture, `sizes=784,512,512,10 activation=relu
    /// loss=mse dropout=0 init=... seed=...`: a saved model loads into `length evaluate`.
    fn architecture(&self) -> String {
        self.config.to_string()
    }

    /// The network has no dropout: training and evaluation compute the same.
    fn set_training(&mut self, _training: bool) {}

    fn is_training(&self) -> bool {
        true
    }
}
