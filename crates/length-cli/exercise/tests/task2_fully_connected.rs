//! Task 2: the fully connected layer. Run it with `cargo test --release task2`.
//!
//! The forward numbers and the gradient check (a 50 → 20 layer on a batch of 10, output gradient
//! 2, eps 1e-2, tolerances 1e-4) are LENGTH's own tests of `FullyConnected`. The gradients are
//! checked one by one with messages that name their formulas, then all together through the
//! `Layer` trait by the library's own checker, `check_layer_gradients`.

use length_autograd::{
    Graph, Initializer, Layer, Tolerance, Value, check_layer_gradients, compute_numerical_gradient,
    functions,
};
use length_exercise::FullyConnected;
use length_exercise::check::{self, expect, expect_close, expect_gradient, expect_shape};
use length_layers::Xavier;
use length_optim::Sgd;
use length_tensor::{Matrix, Tensor};
use ndarray::{Array2, array};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn initialisation() {
    let layer = FullyConnected::new(50, 42, &mut Xavier::new(0));
    expect_shape(
        "the weights of FullyConnected::new(50, 42)",
        layer.weights.shape(),
        &[50, 42],
    );
    expect_shape(
        "the bias of FullyConnected::new(50, 42)",
        layer.bias.shape(),
        &[42],
    );
    expect(
        layer.weight_gradient.is_none() && layer.bias_gradient.is_none(),
        || {
            "a new layer has no gradients yet: expected weight_gradient and bias_gradient None"
                .into()
        },
    );
    expect(layer.bias.iter().all(|&b| b == 0.0), || {
        "the bias of a new layer: expected all zeros".into()
    });
    // The initializer draws in its (outputs, inputs) layout; W is that, transposed.
    let mut drawn = Matrix::zeros((42, 50));
    Xavier::new(0).initialize(drawn.view_mut());
    expect_close(
        "the weights of FullyConnected::new(50, 42, Xavier seed 0): the initializer's (42, 50) \
         draw, transposed to (50, 42)",
        layer.weights.view().into_dyn(),
        drawn.t().into_dyn(),
        0.0,
        0.0,
    );
}

fn forward() {
    let x = array![
        [0.44f32, 0.06, 0.33, 0.76],
        [0.53, 0.65, 0.06, -0.35],
        [0.29, -0.90, 0.86, 0.76]
    ];
    let mut layer = FullyConnected::new(4, 2, &mut Xavier::new(0));
    layer.weights = array![
        [-0.74f32, -0.44],
        [-0.51, 0.63],
        [0.73, -0.38],
        [0.24, -0.43]
    ];
    layer.bias = array![0.86f32, 0.63];
    let y = layer
        .forward(&[&Value::from(x)])
        .unwrap_or_else(|error| panic!("FullyConnected's forward returned an error: {error}"));
    let expected = array![[0.9271f32, 0.022], [0.0961, 0.934], [1.9146, -0.7182]].into_dyn();
    expect_close(
        "the forward pass x · W + b on LENGTH's numbers",
        y.view(),
        expected.view(),
        1e-5,
        1e-4,
    );
}

fn backward() {
    let mut rng = ChaCha8Rng::seed_from_u64(20);
    let x = Tensor::from_shape_fn(vec![10, 50], |_| rng.random_range(-1.0..1.0));
    let output_gradient = Tensor::from_elem(vec![10, 20], 2.0);
    let mut layer = FullyConnected::new(50, 20, &mut Xavier::new(21));
    let input = Value::Tensor(x.clone());
    let output = layer
        .forward(&[&input])
        .expect("the forward pass worked above");
    let gradients = layer.backward(&[&input], &output, &output_gradient, &[true]);
    expect(gradients.len() == 1, || {
        format!(
            "FullyConnected's backward: expected 1 gradient (for x), got {}",
            gradients.len()
        )
    });
    let numerical = compute_numerical_gradient(
        |p| {
            let mut probe = layer.clone();
            probe.weights = p[1].clone().into_dimensionality().expect("2-D");
            probe.bias = p[2].clone().into_dimensionality().expect("1-D");
            probe
                .forward_matrix(p[0].view().into_dimensionality().expect("2-D"))
                .into_dyn()
        },
        &[
            x,
            layer.weights.clone().into_dyn(),
            layer.bias.clone().into_dyn(),
        ],
        &output_gradient,
        1e-2,
    );
    let (atol, rtol) = (1e-4, 1e-4);
    expect_gradient(
        "FullyConnected's backward: the gradient of x, g · Wᵀ",
        gradients[0].as_ref(),
        &numerical[0],
        atol,
        rtol,
    );
    expect_gradient(
        "FullyConnected's backward: the weight gradient xᵀ · g",
        layer.weight_gradient.clone().map(|w| w.into_dyn()).as_ref(),
        &numerical[1],
        atol,
        rtol,
    );
    expect_gradient(
        "FullyConnected's backward: the bias gradient Σ g",
        layer.bias_gradient.clone().map(|b| b.into_dyn()).as_ref(),
        &numerical[2],
        atol,
        rtol,
    );
    // The same through the Layer trait, as the graph and the optimizer see the layer: the
    // parameters (W, then b) moved element by element, the gradients the layer hands over.
    let tolerance = Tolerance {
        eps: 1e-2,
        atol,
        rtol,
    };
    if let Err(report) = check_layer_gradients(&mut layer, &[input], &output_gradient, tolerance) {
        panic!(
            "FullyConnected as a Layer, checked by length_autograd::check_layer_gradients \
             (parameter 0 is W, parameter 1 is b): {report}"
        );
    }
}

fn update() {
    let mut layer = FullyConnected::new(2, 2, &mut Xavier::new(0));
    layer.weights = array![[1.0f32, 2.0], [3.0, 4.0]];
    layer.bias = array![1.0f32, -1.0];
    layer.weight_gradient = Some(array![[4.0f32, 0.0], [-4.0, 2.0]]);
    layer.bias_gradient = Some(array![2.0f32, 2.0]);
    layer.update(&mut Sgd::with_learning_rate(0.25)); // the optimizer's deltas: 0.25 · gradient
    expect_close(
        "the weights after an update with deltas 0.25 · [[4, 0], [-4, 2]]",
        layer.weights.view().into_dyn(),
        array![[0.0f32, 2.0], [4.0, 3.5]].into_dyn().view(),
        0.0,
        0.0,
    );
    expect_close(
        "the bias after an update with deltas 0.25 · [2, 2]",
        layer.bias.view().into_dyn(),
        array![0.5f32, -1.5].into_dyn().view(),
        0.0,
        0.0,
    );
}

/// The layer in a graph: a few steps of gradient descent on a tiny regression lower the loss.
fn trains_in_a_graph() {
    let mut layer = FullyConnected::new(3, 2, &mut Xavier::new(5));
    let x = Array2::from_shape_fn((8, 3), |(i, j)| ((i * 3 + j) % 5) as f32 / 4.0 - 0.5);
    let target = x.dot(&array![[1.0f32, -1.0], [0.5, 2.0], [-1.5, 0.0]]) + &array![0.25f32, -0.5];
    let mut optimizer = Sgd::with_learning_rate(0.1);
    let mut losses = Vec::new();
    for _ in 0..30 {
        let mut graph = Graph::new();
        let input = graph.constant(x.clone());
        let t = graph.constant(target.clone());
        let y = graph
            .apply_layer(&mut layer, &[input])
            .expect("forward worked above");
        let loss = graph
            .apply(functions::MeanSquaredError, &[y, t])
            .expect("same shapes");
        losses.push(graph.scalar(loss));
        graph.backward(loss, &mut optimizer);
    }
    expect(losses[29] < 0.5 * losses[0], || {
        format!(
            "30 steps of SGD on a small regression: expected the loss to halve, it went from {} to {}",
            losses[0], losses[29]
        )
    });
}

#[test]
fn task2_fully_connected() {
    check::task(2, || {
        initialisation();
        forward();
        backward();
        update();
        trains_in_a_graph();
    });
}
