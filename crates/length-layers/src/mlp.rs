//! The multi-layer perceptron: fully connected layers with an activation (and optionally
//! dropout) between them.
//!
//! ```text
//! h₀ = x
//! hᵢ = dropout(activation(FCᵢ(hᵢ₋₁)))      for the hidden layers
//! logits = FC_last(h)
//! ```
//!
//! LENGTH's `MLP` is 784-512-512-10 without activation, trained with mean squared error against
//! one-hot labels; the course notebook's `ActivatedMLP` adds ReLU after the hidden layers. Any
//! other shape comes from an [`MlpConfig`].
//!
//! Each hidden layer applies the activation itself, fused into its product
//! ([`FullyConnected::with_activation`]), unless [`MLP::fuse_activations`] asks for the
//! activation as a function node of its own after each layer, as the notebook draws the graph.
//! The numbers are the same either way, bit for bit. Fused ReLU also lets the gradient cross
//! each ReLU between two layers in one pass, inside the upper layer's input-gradient product
//! (see `FullyConnected`'s module documentation); the graph's node between the two layers then
//! holds the gradient of the lower layer's pre-activation.

use length_autograd::functions::Dropout;
use length_autograd::{AutogradError, Graph, NodeId};
use ndarray::{Array2, ArrayView2, ArrayViewD, ArrayViewMutD};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::fully_connected::ReluHandoff;
use crate::{Activation, ForwardPass, FullyConnected, LayersError, MlpConfig, Model};

/// A multi-layer perceptron built from an [`MlpConfig`]; [`MLP::new`] is LENGTH's.
///
/// ```
/// use length_layers::{MLP, Model};
/// use ndarray::Array2;
///
/// let model = MLP::new();
/// let names: Vec<String> = model.parameters().into_iter().map(|(name, _)| name).collect();
/// assert_eq!(names, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]);
/// assert_eq!(model.parameters()[0].1.shape(), &[512, 784]); // (outputs, inputs)
///
/// let logits = model.infer(Array2::zeros((2, 784)).view())?;
/// assert_eq!(logits.dim(), (2, 10));
/// # Ok::<(), length_layers::LayersError>(())
/// ```
#[derive(Debug)]
pub struct MLP {
    config: MlpConfig,
    layers: Vec<FullyConnected>,
    /// One per hidden layer when the config has dropout, else none.
    dropouts: Vec<Dropout>,
    training: bool,
    /// Whether the hidden layers apply the activation (else the graph records it after them).
    fused_activations: bool,
}

impl MLP {
    /// LENGTH's MLP: 784-512-512-10, no activation, mean squared error, Xavier, seed 0.
    pub fn new() -> Self {
        MLP::from_config(MlpConfig::length()).expect("LENGTH's configuration is valid")
    }

    /// The network `config` describes, its weights drawn from `config.seed`.
    ///
    /// # Errors
    /// [`LayersError::InvalidConfig`] if the configuration does not validate.
    pub fn from_config(config: MlpConfig) -> Result<Self, LayersError> {
        config.validate()?;
        let mut initializer = config.init.initializer(config.seed);
        let layers = config
            .sizes
            .windows(2)
            .map(|pair| FullyConnected::new(pair[0], pair[1], initializer.as_mut()))
            .collect();
        let hidden = config.sizes.len() - 2;
        let dropouts = if config.dropout > 0.0 {
            (0..hidden)
                .map(|i| {
                    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
                    rng.set_stream(i as u64 + 1);
                    Dropout::with_rng(config.dropout, rng)
                })
                .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        let mut mlp = MLP {
            config,
            layers,
            dropouts,
            training: true,
            fused_activations: false,
        };
        mlp.fuse_activations(true);
        Ok(mlp)
    }

    /// Sets whether each hidden layer applies the activation inside its product (`true`, the
    /// default) or the graph records the activation as a function node of its own after each
    /// hidden layer (`false`, as the course notebook draws the graph: `FullyConnected`, `ReLU`,
    /// `FullyConnected`, ...). The numbers are the same either way, bit for bit; fused, ReLU
    /// costs no pass of its own over the layer's output (see [`FullyConnected::with_activation`]).
    ///
    /// ```
    /// use length_autograd::Graph;
    /// use length_layers::{MlpConfig, Model};
    /// use ndarray::Array2;
    ///
    /// let mut model = MlpConfig::activated().build()?;
    /// for fused in [true, false] {
    ///     model.fuse_activations(fused);
    ///     let mut graph = Graph::new();
    ///     let x = graph.constant(Array2::<f32>::zeros((2, 784)));
    ///     let logits = model.forward(&mut graph, x)?;
    ///     let table = graph.visualize(logits);
    ///     assert_eq!(table.contains("FullyConnected+ReLU"), fused);
    ///     assert_eq!(table.matches("| ReLU").count(), if fused { 0 } else { 2 });
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fuse_activations(&mut self, fused: bool) {
        self.fused_activations = fused;
        let activation = if fused {
            self.config.activation
        } else {
            Activation::None
        };
        let last = self.layers.len() - 1;
        for layer in &mut self.layers[..last] {
            layer.set_activation(activation);
        }
    }

    /// Whether the hidden layers apply the activation themselves (see
    /// [`fuse_activations`](MLP::fuse_activations)).
    pub fn fuses_activations(&self) -> bool {
        self.fused_activations
    }

    /// The configuration the model was built from.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// The fully connected layers, input side first.
    pub fn layers(&self) -> &[FullyConnected] {
        &self.layers
    }

    /// The fully connected layers, to change (say, to set weights for a test).
    pub fn layers_mut(&mut self) -> &mut [FullyConnected] {
        &mut self.layers
    }

    /// The number of values each sample has going in.
    pub fn num_inputs(&self) -> usize {
        self.config.sizes[0]
    }

    /// The number of classes (values coming out per sample).
    pub fn num_outputs(&self) -> usize {
        self.config.sizes[self.config.sizes.len() - 1]
    }
}

impl Default for MLP {
    fn default() -> Self {
        MLP::new()
    }
}

impl Model for MLP {
    fn forward<'g>(
        &'g mut self,
        graph: &mut Graph<'g>,
        x: NodeId,
    ) -> Result<NodeId, AutogradError> {
        let MLP {
            config,
            layers,
            dropouts,
            training,
            fused_activations,
        } = self;
        let last = layers.len() - 1;
        // Fused ReLU with nothing after it: the gradient crosses each ReLU between two layers
        // in the upper layer's input-gradient product (see `ReluHandoff`).
        let dropout_between = *training && !dropouts.is_empty();
        let hand_off =
            *fused_activations && config.activation == Activation::ReLU && !dropout_between;
        let mut dropouts = dropouts.iter_mut();
        let mut h = x;
        for (i, layer) in layers.iter_mut().enumerate() {
            layer.hand_off_next_forward(ReluHandoff {
                gate_input_gradient: hand_off && i > 0,
                output_gradient_gated: hand_off && i < last,
            });
            // A hidden layer applies the activation itself when fused.
            h = graph.apply_layer(layer, &[h])?;
            if i < last {
                if !*fused_activations {
                    h = config.activation.apply(graph, h)?;
                }
                match dropouts.next() {
                    Some(dropout) if *training => h = graph.apply(dropout, &[h])?,
                    _ => {}
                }
            }
        }
        Ok(h)
    }

    fn forward_with_loss<'g>(
        &'g mut self,
        graph: &mut Graph<'g>,
        x: NodeId,
        labels: NodeId,
    ) -> Result<ForwardPass, AutogradError> {
        let loss = self.config.loss;
        let logits = self.forward(graph, x)?;
        let loss = graph.apply(loss, &[logits, labels])?;
        Ok(ForwardPass { logits, loss })
    }

    fn infer(&self, x: ArrayView2<f32>) -> Result<Array2<f32>, LayersError> {
        // Each layer's `infer` applies the activation it carries (when fused).
        let mut h = self.layers[0].infer(x)?;
        for layer in &self.layers[1..] {
            if !self.fused_activations {
                self.config.activation.apply_in_place(h.view_mut());
            }
            h = layer.infer(h.view())?;
        }
        Ok(h)
    }

    fn parameters(&self) -> Vec<(String, ArrayViewD<'_, f32>)> {
        let mut parameters = Vec::with_capacity(2 * self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            parameters.push((
                format!("fc{}.weight", i + 1),
                layer.stored_weights().into_dyn(),
            ));
            parameters.push((format!("fc{}.bias", i + 1), layer.bias().into_dyn()));
        }
        parameters
    }

    fn parameter_mut(&mut self, name: &str) -> Result<ArrayViewMutD<'_, f32>, LayersError> {
        let count = self.layers.len();
        let unknown = || LayersError::UnknownParameter {
            name: name.to_string(),
            known: (1..=count)
                .map(|i| format!("fc{i}.weight, fc{i}.bias"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let parsed = name
            .strip_prefix("fc")
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(number, kind)| Some((number.parse::<usize>().ok()?, kind)));
        let Some((number, kind)) = parsed else {
            return Err(unknown());
        };
        if number == 0 || number > count || format!("fc{number}.{kind}") != name {
            return Err(unknown());
        }
        match kind {
            "weight" => Ok(self.layers[number - 1].stored_weights_mut().into_dyn()),
            "bias" => Ok(self.layers[number - 1].bias_mut().into_dyn()),
            _ => Err(unknown()),
        }
    }

    fn architecture(&self) -> String {
        self.config.to_string()
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
        for dropout in &mut self.dropouts {
            dropout.set_training(training);
        }
    }

    fn is_training(&self) -> bool {
        self.training
    }
}
