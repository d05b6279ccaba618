//! A hidden layer's activation fused into the layer (`FullyConnected::with_activation`, what
//! `MLP` does by default) computes the numbers of the same activation as a function node after
//! the layer, bit for bit: outputs, losses, and weights after steps of every optimizer, on both
//! the fused-update path and the path that keeps the gradients. With ReLU, the MLP's layers also
//! hand the gradient across each ReLU in the upper layer's input-gradient product; that too
//! changes no bit, and a layer taken out of the MLP afterwards computes plain gradients again.

use length_autograd::{Graph, Layer, Optimizer, Tolerance, Value, check_layer_gradients};
use length_layers::{Activation, FullyConnected, MLP, MlpConfig, Model, Xavier, train_step};
use length_optim::{Adam, Momentum, Sgd};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A batch of `rows` samples in [-1, 1) and labels for three classes.
fn batch(rows: usize, cols: usize, seed: u64) -> (Array2<f32>, Array1<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((rows, cols), |_| rng.random_range(-1.0..1.0));
    let labels = Array1::from_shape_fn(rows, |i| (i % 3) as u32);
    (x, labels)
}

/// A model with `activation`, fused or as separate nodes.
fn model(activation: Activation, fused: bool) -> MLP {
    let mut model = MlpConfig::new([23, 70, 33, 3])
        .activation(activation)
        .seed(5)
        .build()
        .expect("a valid configuration");
    model.fuse_activations(fused);
    model
}

fn bits(model: &MLP) -> Vec<Vec<u32>> {
    model
        .parameters()
        .iter()
        .map(|(_, values)| values.iter().map(|v| v.to_bits()).collect())
        .collect()
}

#[test]
fn fused_and_separate_activations_train_to_the_same_bits() {
    let optimizers: [fn() -> Box<dyn Optimizer>; 3] = [
        || Box::new(Sgd::with_learning_rate(0.1)),
        || Box::new(Momentum::with_learning_rate(0.05)),
        || Box::new(Adam::with_learning_rate(0.01)),
    ];
    for activation in [Activation::ReLU, Activation::Sigmoid] {
        for (o, make_optimizer) in optimizers.iter().enumerate() {
            for keep_gradients in [false, true] {
                let mut runs = [true, false].map(|fused| {
                    let mut model = model(activation, fused);
                    for layer in model.layers_mut() {
                        layer.keep_gradients(keep_gradients);
                    }
                    let mut optimizer = make_optimizer();
                    let losses: Vec<u32> = (0..4)
                        .map(|step| {
                            let (x, labels) = batch(16, 23, step);
                            let outcome =
                                train_step(&mut model, optimizer.as_mut(), x.view(), labels.view())
                                    .expect("a step");
                            outcome.loss.to_bits()
                        })
                        .collect();
                    (losses, model)
                });
                let context = format!("{activation}, optimizer {o}, keep {keep_gradients}");
                let [(fused_losses, fused), (separate_losses, separate)] = &mut runs;
                assert_eq!(fused_losses, separate_losses, "{context}");
                assert_eq!(bits(fused), bits(separate), "{context}");
                let (x, _) = batch(5, 23, 9);
                assert_eq!(
                    fused.infer(x.view()).unwrap(),
                    separate.infer(x.view()).unwrap(),
                    "{context}"
                );
            }
        }
    }
}

#[test]
fn the_graph_shows_a_fused_activation_in_the_layer() {
    let (x, _) = batch(2, 23, 1);
    for (fused, expected) in [(true, "FullyConnected+ReLU"), (false, "| ReLU")] {
        let mut model = model(Activation::ReLU, fused);
        let mut graph = Graph::new();
        let input = graph.constant(x.clone());
        let logits = model.forward(&mut graph, input).unwrap();
        let table = graph.visualize(logits);
        assert_eq!(table.matches(expected).count(), 2, "{table}");
        assert_eq!(graph.len(), if fused { 4 } else { 6 }, "{table}");
    }
}

#[test]
fn a_fused_sigmoid_passes_the_gradient_check() {
    // Smooth, so the numerical gradient is exact to O(eps²) everywhere (ReLU's kink is not:
    // its fused form is checked against the `ReLU` function above instead).
    let mut rng = ChaCha8Rng::seed_from_u64(20);
    let x = ndarray::ArrayD::from_shape_fn(vec![10, 30], |_| rng.random_range(-1.0..1.0));
    let gradient = ndarray::ArrayD::from_shape_fn(vec![10, 20], |_| rng.random_range(-2.0..2.0));
    let mut layer =
        FullyConnected::new(30, 20, &mut Xavier::new(21)).with_activation(Activation::Sigmoid);
    assert_eq!(layer.name(), "FullyConnected+Sigmoid");
    let tolerance = Tolerance {
        eps: 1e-2,
        atol: 1e-4,
        rtol: 1e-4,
    };
    check_layer_gradients(&mut layer, &[Value::Tensor(x)], &gradient, tolerance).unwrap();
}

/// An MLP's hidden layer hands its input gradient back through the ReLU below it, and takes
/// its own output gradient as already through its ReLU, only inside the MLP's own graphs:
/// recorded in a graph of one's own, the same layer computes the plain gradients.
#[test]
fn a_layer_taken_out_of_the_mlp_computes_plain_gradients() {
    let mut model = model(Activation::ReLU, true);
    let mut sgd = Sgd::with_learning_rate(0.1);
    let (x, labels) = batch(16, 23, 3);
    train_step(&mut model, &mut sgd, x.view(), labels.view()).expect("a step");

    let layer = &mut model.layers_mut()[1];
    let (input, _) = batch(4, 70, 4); // negative inputs too, which a ReLU below would gate
    let g = Array2::from_shape_fn((4, 33), |(i, j)| (i * 33 + j) as f32 / 100.0 - 0.5);
    // ∂L/∂x = (g · [y > 0]) · Wᵀ for y = relu(x · W + b), W of shape (inputs, outputs).
    let y = layer.infer(input.view()).unwrap();
    let through_relu =
        Array2::from_shape_fn(
            g.dim(),
            |(i, j)| if y[[i, j]] > 0.0 { g[[i, j]] } else { 0.0 },
        );
    let expected = through_relu.dot(&layer.weights().t());

    let mut graph = Graph::new();
    let x = graph.input(input);
    let output = graph.apply_layer(layer, &[x]).expect("the layer's shapes");
    graph.set_gradient(output, g.into_dyn());
    graph.backward_gradients_only(output);
    let got = graph.gradient(x).expect("the input's gradient");
    assert!(
        got.iter()
            .zip(&expected)
            .all(|(a, b)| (a - b).abs() <= 1e-5 * (1.0 + b.abs())),
        "{got} against {expected}"
    );
}
