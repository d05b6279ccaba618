//! The graph, across crates: LENGTH's `test_graph.py` ported with its numbers, the layer and
//! function contract (layers are trained, functions are not), the table of `visualize`, and the
//! fixes over LENGTH (gradients of a value used twice are summed).

use length::autograd::functions::{
    Accuracy, Add, Dropout, MeanSquaredError, ReLU, Sigmoid, Softmax, SoftmaxCrossEntropy, Sum,
};
use length::autograd::{
    AutogradError, Function, Graph, LayerId, LearningRate, Optimizer, assert_allclose,
    compute_numerical_gradient,
};
use length::layers::{ActivatedMLP, FullyConnected, Loss, MLP, Model, Xavier};
use length::tensor::{Labels, Tensor};
use ndarray::{Array2, ArrayViewD, array};

/// Plain SGD, `delta = η · g`, local to the tests so they depend on no optimizer crate.
struct Sgd(f32);

impl Optimizer for Sgd {
    fn run_update_rule(&mut self, gradients: &[ArrayViewD<f32>], _layer: LayerId) -> Vec<Tensor> {
        gradients.iter().map(|g| g.mapv(|v| v * self.0)).collect()
    }
}

impl LearningRate for Sgd {
    fn learning_rate(&self) -> f32 {
        self.0
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.0 = learning_rate;
    }
}

/// Seeded uniform(low, high) data, a cheap stand-in for numpy's `random.uniform`.
fn uniform(rows: usize, columns: usize, seed: u64) -> Array2<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    Array2::from_shape_fn((rows, columns), |_| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    })
}

#[test]
fn an_input_without_creator_gets_no_gradient() {
    let mut graph = Graph::new();
    let x = graph.input(array![2.0f32]);
    graph.backward(x, &mut Sgd(0.1));
    assert!(graph.gradient(x).is_none());
    graph.backward_gradients_only(x);
    assert!(graph.gradient(x).is_none());
}

#[test]
fn gradients_of_only_functions_and_a_user_set_gradient() -> Result<(), AutogradError> {
    let mut graph = Graph::new();
    let a = graph.input(array![2.0f32]);
    let b = graph.input(array![2.0f32]);
    let c = graph.input(array![2.0f32]);
    let h = graph.apply(Add, &[a, c])?;
    let h = graph.apply(Add, &[h, b])?;
    assert_eq!(graph.scalar(h), 6.0);

    graph.backward(h, &mut Sgd(0.1));
    assert_eq!(graph.gradient(a), Some(&array![1.0f32].into_dyn()));
    assert_eq!(graph.gradient(b), Some(&array![1.0f32].into_dyn()));
    assert_eq!(graph.gradient(h), Some(&array![1.0f32].into_dyn()));

    graph.set_gradient(h, array![2.0f32].into_dyn());
    graph.backward(h, &mut Sgd(0.1));
    assert_eq!(graph.gradient(a), Some(&array![2.0f32].into_dyn()));
    assert_eq!(graph.gradient(b), Some(&array![2.0f32].into_dyn()));
    Ok(())
}

#[test]
fn backward_with_a_layer_distributes_gradients() -> Result<(), AutogradError> {
    let data = uniform(2, 2, 1);
    let mut layer = FullyConnected::new(2, 2, &mut Xavier::new(0));
    layer.stored_weights_mut().fill(0.0);
    layer.bias_mut().assign(&array![-10.0f32, 10.0]);
    let mut optimizer = Sgd(0.001);

    let mut graph = Graph::new();
    let x = graph.input(data.clone());
    let labels = graph.labels(array![1, 1]);
    let scores = graph.apply_layer(&mut layer, &[x])?;
    let loss = graph.apply(SoftmaxCrossEntropy, &[scores, labels])?;
    graph.backward(loss, &mut optimizer);
    assert!(graph.gradient(labels).is_none());
    let input_gradient = graph
        .gradient(x)
        .expect("the input gets a gradient")
        .clone();
    drop(graph);
    assert_allclose(&input_gradient, &Tensor::zeros(vec![2, 2]));
    assert_allclose(&layer.weights(), &Array2::<f32>::zeros((2, 2)));
    assert_allclose(&layer.bias(), &array![-10.0f32, 10.0]);

    // With the first label changed, the first sample is badly wrong and the second still right:
    // the first sample's input gradient is larger in every element.
    let mut graph = Graph::new();
    let x = graph.input(data);
    let labels = graph.labels(array![0, 1]);
    let scores = graph.apply_layer(&mut layer, &[x])?;
    let loss = graph.apply(SoftmaxCrossEntropy, &[scores, labels])?;
    graph.backward(loss, &mut optimizer);
    assert!(graph.gradient(labels).is_none());
    let gradient = graph.gradient(x).expect("the input gets a gradient");
    for j in 0..2 {
        assert!(
            gradient[[0, j]].abs() > gradient[[1, j]].abs(),
            "input gradient {gradient:?}"
        );
    }
    Ok(())
}

#[test]
fn a_value_used_twice_gets_the_sum_of_both_gradients() -> Result<(), AutogradError> {
    // y = Σ (x + x) + Σ sigmoid(x): ∂y/∂x = 2 + σ(x)(1 − σ(x)), so x collects three gradients.
    let data = array![[0.5f32, -1.0, 2.0]];
    let mut graph = Graph::new();
    let x = graph.input(data.clone());
    let doubled = graph.apply(Add, &[x, x])?;
    let s = graph.apply(Sigmoid, &[x])?;
    let left = graph.apply(Sum, &[doubled])?;
    let right = graph.apply(Sum, &[s])?;
    let y = graph.apply(Add, &[left, right])?;
    graph.backward_gradients_only(y);
    let expected = data.mapv(|v| {
        let sigma = 1.0 / (1.0 + (-v).exp());
        2.0 + sigma * (1.0 - sigma)
    });
    assert_allclose(graph.gradient(x).unwrap(), &expected.into_dyn());
    Ok(())
}

#[test]
fn graph_gradients_match_the_numerical_gradient_of_a_network() -> Result<(), AutogradError> {
    // Two layers, ReLU, softmax cross-entropy: the whole backward pass against central differences.
    let data = uniform(4, 5, 2);
    let labels: Labels = array![0, 2, 1, 2];
    let mut fc1 = FullyConnected::new(5, 6, &mut Xavier::new(3));
    let mut fc2 = FullyConnected::new(6, 3, &mut Xavier::new(4));
    let mut graph = Graph::new();
    let x = graph.input(data.clone());
    let t = graph.labels(labels.clone());
    let h = graph.apply_layer(&mut fc1, &[x])?;
    let h = graph.apply(ReLU, &[h])?;
    let h = graph.apply_layer(&mut fc2, &[h])?;
    let loss = graph.apply(SoftmaxCrossEntropy, &[h, t])?;
    graph.backward_gradients_only(loss);
    let analytic = graph.gradient(x).unwrap().clone();
    drop(graph);

    let numerical = compute_numerical_gradient(
        |inputs| {
            let mut graph = Graph::new();
            let x = graph.input(inputs[0].clone());
            let t = graph.labels(labels.clone());
            let h = graph.apply_layer(&mut fc1, &[x]).unwrap();
            let h = graph.apply(ReLU, &[h]).unwrap();
            let h = graph.apply_layer(&mut fc2, &[h]).unwrap();
            let loss = graph.apply(SoftmaxCrossEntropy, &[h, t]).unwrap();
            graph.value(loss).clone()
        },
        &[data.into_dyn()],
        &Tensor::ones(vec![]),
        1e-2,
    );
    assert_allclose(&analytic, &numerical[0]);
    Ok(())
}

#[test]
fn backward_trains_and_gradients_only_does_not() -> Result<(), AutogradError> {
    let data = uniform(3, 4, 5);
    let mut layer = FullyConnected::new(4, 2, &mut Xavier::new(6));
    let before = layer.stored_weights().to_owned();
    let bias_before = layer.bias().to_owned();

    let mut graph = Graph::new();
    let x = graph.constant(data.clone());
    let t = graph.labels(array![0, 1, 1]);
    let y = graph.apply_layer(&mut layer, &[x])?;
    let loss = graph.apply(MeanSquaredError, &[y, t])?;
    graph.backward_gradients_only(loss);
    assert!(graph.gradient(x).is_none(), "a constant gets no gradient");
    drop(graph);
    assert_eq!(layer.stored_weights(), before);
    let weight_gradient = layer.weight_gradient().expect("kept").to_owned();
    let bias_gradient = layer.bias_gradient().expect("kept").to_owned();
    assert!(weight_gradient.iter().any(|&g| g != 0.0));

    let mut graph = Graph::new();
    let x = graph.constant(data);
    let t = graph.labels(array![0, 1, 1]);
    let y = graph.apply_layer(&mut layer, &[x])?;
    let loss = graph.apply(MeanSquaredError, &[y, t])?;
    graph.backward(loss, &mut Sgd(0.5));
    drop(graph);
    assert_allclose(
        &layer.stored_weights(),
        &(&before - &(weight_gradient * 0.5)),
    );
    assert_allclose(&layer.bias(), &(&bias_before - &(bias_gradient * 0.5)));
    Ok(())
}

/// SGD that counts the layer updates it computes.
struct Counting(Sgd, usize);

impl Optimizer for Counting {
    fn run_update_rule(&mut self, gradients: &[ArrayViewD<f32>], layer: LayerId) -> Vec<Tensor> {
        self.1 += 1;
        self.0.run_update_rule(gradients, layer)
    }
}

impl LearningRate for Counting {
    fn learning_rate(&self) -> f32 {
        self.0.learning_rate()
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.0.set_learning_rate(learning_rate);
    }
}

#[test]
fn layers_are_trained_and_functions_are_not() -> Result<(), AutogradError> {
    let functions: Vec<Box<dyn Function>> = vec![
        Box::new(Add),
        Box::new(Sum),
        Box::new(ReLU),
        Box::new(Sigmoid),
        Box::new(Softmax),
        Box::new(Dropout::new(0.5, 0).unwrap()),
    ];
    let data = uniform(3, 4, 7);
    let mut optimizer = Counting(Sgd(0.1), 0);
    for mut function in functions {
        let name = function.name().to_string();
        let mut graph = Graph::new();
        let x = graph.input(data.clone());
        let inputs = if name == "Add" { vec![x, x] } else { vec![x] };
        let y = graph.apply(&mut *function, &inputs)?;
        let loss = graph.apply(Sum, &[y])?;
        graph.backward(loss, &mut optimizer);
        assert_eq!(optimizer.1, 0, "{name} asked the optimizer for an update");
    }
    for loss_function in [Loss::MeanSquaredError, Loss::SoftmaxCrossEntropy] {
        let mut graph = Graph::new();
        let x = graph.input(data.clone());
        let t = graph.labels(array![0, 1, 3]);
        let loss = graph.apply(loss_function, &[x, t])?;
        graph.backward(loss, &mut optimizer);
        assert_eq!(optimizer.1, 0, "{loss_function:?} asked for an update");
    }
    let mut graph = Graph::new();
    let x = graph.input(data.clone());
    let t = graph.labels(array![0, 1, 3]);
    let accuracy = graph.apply(Accuracy, &[x, t])?;
    graph.backward(accuracy, &mut optimizer);
    assert_eq!(optimizer.1, 0, "Accuracy asked for an update");
    // A layer is recorded with `apply_layer` (`graph.apply(&mut layer, ..)` does not compile)
    // and updated once per backward pass.
    let mut layer = FullyConnected::new(4, 2, &mut Xavier::new(0));
    let before = layer.stored_weights().to_owned();
    let mut graph = Graph::new();
    let x = graph.constant(data);
    let y = graph.apply_layer(&mut layer, &[x])?;
    let loss = graph.apply(Sum, &[y])?;
    graph.backward(loss, &mut optimizer);
    drop(graph);
    assert_eq!(optimizer.1, 1, "FullyConnected was not updated once");
    assert_ne!(layer.stored_weights(), before);
    Ok(())
}

#[test]
fn the_table_of_an_mlp_loss_lists_every_node_in_equal_columns() -> Result<(), AutogradError> {
    let mut model = ActivatedMLP::new();
    let mut graph = Graph::new();
    let x = graph.constant(Array2::<f32>::zeros((64, 784)));
    let t = graph.labels(Labels::zeros(64));
    let pass = model.forward_with_loss(&mut graph, x, t)?;
    let table = graph.visualize(pass.loss);
    println!("{table}");

    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), graph.len() + 1, "a header and one row per node");
    let width = rows[0].chars().count();
    assert!(
        rows.iter().all(|row| row.chars().count() == width),
        "{table}"
    );
    let columns: Vec<Vec<&str>> = rows.iter().map(|row| row.split(" | ").collect()).collect();
    assert_eq!(
        columns[0].iter().map(|c| c.trim()).collect::<Vec<_>>(),
        ["id", "layer", "next"]
    );
    for expected in [
        "input[data] (64, 784)",
        "FullyConnected (64, 512)",
        "ReLU (64, 512)",
        "FullyConnected (64, 10)",
        "input[labels] (64,)",
        "MeanSquaredError ()",
    ] {
        assert!(table.contains(expected), "{expected} missing from\n{table}");
    }
    assert_eq!(table.matches("FullyConnected").count(), 3);
    assert_eq!(table.matches("ReLU").count(), 2);
    // The loss is the last row, and every other row names a later row as its user.
    let last = columns.last().unwrap();
    assert!(last[1].starts_with("MeanSquaredError") && last[2].trim() == "-");
    for (row, cells) in columns.iter().enumerate().skip(1).take(rows.len() - 2) {
        let id: usize = cells[0].trim().parse().unwrap();
        let next: usize = cells[2].trim().parse().unwrap();
        assert_eq!(id, row);
        assert!(next > id && next < rows.len(), "{table}");
    }

    let dot = graph.to_dot(pass.loss);
    assert_eq!(dot.matches("[label=").count(), graph.len());
    assert_eq!(
        dot.matches(" -> ").count(),
        3 + 2 + 2,
        "3 layers, 2 ReLUs, the loss's 2 inputs"
    );
    Ok(())
}

#[test]
fn lengths_mlp_trains_under_mse() -> Result<(), AutogradError> {
    // A small batch of LENGTH's MLP: the loss must fall when backward trains with SGD.
    let mut model = MLP::new();
    let images = uniform(8, 784, 7).mapv(|v| v.abs());
    let labels: Labels = array![0, 1, 2, 3, 4, 5, 6, 7];
    // Inputs in [0, 1) with ‖x‖² ≈ 260, so a small step, as LENGTH's default 0.001.
    let mut optimizer = Sgd(0.001);
    let mut losses = Vec::new();
    for _ in 0..5 {
        let mut graph = Graph::new();
        let x = graph.constant(images.clone());
        let t = graph.labels(labels.clone());
        let pass = model.forward_with_loss(&mut graph, x, t)?;
        graph.backward(pass.loss, &mut optimizer);
        losses.push(graph.scalar(pass.loss));
    }
    assert!(
        losses.windows(2).all(|pair| pair[1] < pair[0]),
        "losses {losses:?}"
    );
    Ok(())
}
