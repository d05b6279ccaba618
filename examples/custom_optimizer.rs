//! Optimizers of your own: RMSprop, an element-wise rule stated once per element, and a
//! normalised gradient descent that looks at a whole layer at once. Both train the same network.
//!
//! ```text
//! RMSprop, per element:      v ← ρ · v + (1 − ρ) · g²        delta = η · g / (√v + ε)
//! normalised, per layer:     ‖g‖ = the norm of all the layer's gradients together
//!                            delta = η · g / ‖g‖             (each layer steps by η)
//! ```
//!
//! An element-wise rule implements [`ElementwiseOptimizer`] and gets all of [`Optimizer`] from
//! it: LENGTH's `run_update_rule`, the in-place update, and the step a `FullyConnected` layer
//! fuses into its weight-gradient product, so the gradient never reaches memory. Any other rule
//! implements `Optimizer::run_update_rule` alone.
//!
//! Run it with `cargo run --release --example custom_optimizer`.

use length::autograd::{
    ElementwiseOptimizer, Graph, LayerId, LayerStates, LearningRate, Optimizer,
};
use length::layers::{Activation, Loss, MLP, MlpConfig, Model};
use length::tensor::Tensor;
use length::tensor::ndarray::{Array1, Array2, ArrayViewD, array};

/// RMSprop (Hinton, 2012): each element's step is divided by a running average of the size of
/// its recent gradients.
struct RmsProp {
    learning_rate: f32,
    /// The decay `ρ` of the running average of `g²`.
    rho: f32,
    /// Per layer, per parameter: `v`, zero before the layer's first update.
    states: LayerStates,
}

/// What every element of one update shares.
#[derive(Clone, Copy)]
struct RmsPropStep {
    learning_rate: f32,
    rho: f32,
}

impl ElementwiseOptimizer for RmsProp {
    const NAME: &'static str = "RMSprop";
    type State = [f32; 1]; // v, one number per parameter element
    type Step = RmsPropStep;

    fn step(&self, _t: u64) -> RmsPropStep {
        RmsPropStep {
            learning_rate: self.learning_rate,
            rho: self.rho,
        }
    }

    fn delta(step: RmsPropStep, _p: f32, g: f32, [v]: &mut [f32; 1]) -> f32 {
        *v = step.rho * *v + (1.0 - step.rho) * g * g;
        step.learning_rate * g / (v.sqrt() + 1e-8)
    }

    fn layer_states(&self) -> &LayerStates {
        &self.states
    }

    fn layer_states_mut(&mut self) -> &mut LayerStates {
        &mut self.states
    }
}

impl LearningRate for RmsProp {
    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
}

/// Gradient descent normalised per layer: not element-wise (every delta depends on the whole
/// layer's gradient), so it states LENGTH's `run_update_rule` and layers hand it whole gradients.
struct LayerNormalized {
    learning_rate: f32,
}

impl Optimizer for LayerNormalized {
    fn run_update_rule(&mut self, gradients: &[ArrayViewD<f32>], _layer: LayerId) -> Vec<Tensor> {
        let squares: f32 = gradients.iter().flatten().map(|g| g * g).sum();
        let scale = self.learning_rate / squares.sqrt().max(1e-12);
        gradients.iter().map(|g| g.mapv(|g| scale * g)).collect()
    }
}

impl LearningRate for LayerNormalized {
    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The one rule gives LENGTH's run_update_rule: RMSprop's first step moves each element by
    //    about η / √(1 − ρ), whatever the size of its gradient.
    let mut rmsprop = RmsProp {
        learning_rate: 0.01,
        rho: 0.9,
        states: LayerStates::new(),
    };
    let gradient = array![2.0f32, -0.5].into_dyn();
    let deltas = rmsprop.run_update_rule(&[gradient.view()], LayerId::fresh());
    println!(
        "RMSprop's first deltas for gradients {gradient}: {}",
        deltas[0]
    );
    let expected = 0.01 / 0.1f32.sqrt();
    assert!((deltas[0][0] - expected).abs() < 1e-6 && (deltas[0][1] + expected).abs() < 1e-6);

    // 2. Both optimizers train the same 2-32-2 network (FullyConnected layers, ReLU, softmax
    //    cross-entropy, the same initial weights) on the same points.
    let (points, labels) = circle_points(12);
    let mut rmsprop = RmsProp {
        states: LayerStates::new(),
        ..rmsprop
    };
    let mut normalized = LayerNormalized { learning_rate: 0.1 };
    let (mut model_a, mut model_b) = (network()?, network()?);
    let rmsprop_run = train(&mut model_a, &mut rmsprop, &points, &labels)?;
    let normalized_run = train(&mut model_b, &mut normalized, &points, &labels)?;
    for (name, (first, last, accuracy)) in [
        ("RMSprop", rmsprop_run),
        ("LayerNormalized", normalized_run),
    ] {
        println!(
            "{name:>15}: loss {first:.4} -> {last:.4}, accuracy {accuracy:.3} after {STEPS} steps"
        );
        assert!(last < first / 4.0, "{name} did not train");
    }

    // 3. RMSprop's step ran inside the weight-gradient product, which therefore stored no
    //    gradient; the normalised rule was handed the whole gradient, which the layer kept.
    assert!(model_a.layers()[0].weight_gradient().is_none());
    assert!(model_b.layers()[0].weight_gradient().is_some());
    // Asked to keep its gradients, a layer takes the separate pass instead: the same rule, the
    // same weights to the last bit.
    let mut model_c = network()?;
    for layer in model_c.layers_mut() {
        layer.keep_gradients(true);
    }
    let mut rmsprop_again = RmsProp {
        states: LayerStates::new(),
        ..rmsprop
    };
    train(&mut model_c, &mut rmsprop_again, &points, &labels)?;
    assert_eq!(model_c.parameters(), model_a.parameters());
    println!(
        "RMSprop ran fused into FullyConnected's backward pass (the same weights, bit for bit, \
         as the separate pass); LayerNormalized got whole gradients"
    );
    Ok(())
}

const STEPS: usize = 300;

/// The network both optimizers train, with the same weights each time (seed 1).
fn network() -> Result<MLP, Box<dyn std::error::Error>> {
    Ok(MlpConfig::new([2, 32, 2])
        .activation(Activation::ReLU)
        .loss(Loss::SoftmaxCrossEntropy)
        .seed(1)
        .build()?)
}

/// Trains `model` on the whole set for [`STEPS`] steps; returns the first and the last loss and
/// the last accuracy.
fn train(
    model: &mut MLP,
    optimizer: &mut dyn Optimizer,
    points: &Array2<f32>,
    labels: &Array1<u32>,
) -> Result<(f32, f32, f32), Box<dyn std::error::Error>> {
    let (mut first, mut last, mut accuracy) = (0.0, 0.0, 0.0);
    for step in 0..STEPS {
        let mut graph = Graph::new();
        let x = graph.constant(points.clone());
        let t = graph.labels(labels.clone());
        let pass = model.forward_with_loss(&mut graph, x, t)?;
        let correct = graph.accuracy(pass.logits, t)?;
        graph.backward(pass.loss, optimizer);
        (last, accuracy) = (graph.scalar(pass.loss), graph.scalar(correct));
        if step == 0 {
            first = last;
        }
    }
    Ok((first, last, accuracy))
}

/// A `side` x `side` grid of points in (-1, 1)², labelled 1 inside the circle of radius 0.7.
fn circle_points(side: usize) -> (Array2<f32>, Array1<u32>) {
    let coordinate = |i: usize| (2 * i + 1) as f32 / side as f32 - 1.0;
    let points = Array2::from_shape_fn((side * side, 2), |(sample, axis)| {
        coordinate(if axis == 0 {
            sample / side
        } else {
            sample % side
        })
    });
    let labels = points
        .rows()
        .into_iter()
        .map(|point| u32::from(point[0] * point[0] + point[1] * point[1] < 0.49))
        .collect();
    (points, labels)
}
