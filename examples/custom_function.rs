//! A function of your own: a leaky ReLU, checked against numerical gradients, then trained in a
//! small network.
//!
//! ```text
//! y     = x            where x > 0,   slope · x   elsewhere
//! ∂L/∂x = g            where x > 0,   slope · g   elsewhere
//! ```
//!
//! Run it with `cargo run --release --example custom_function`.

use length::autograd::{AutogradError, Function, Graph, Tolerance, Value, check_gradients, inputs};
use length::layers::{FullyConnected, Xavier};
use length::optim::Sgd;
use length::tensor::Tensor;
use length::tensor::ndarray::{Array1, Array2, Zip, array};

/// `max(x, slope · x)` element by element: a ReLU that lets a little gradient through below zero.
struct LeakyReLU {
    slope: f32,
}

impl Function for LeakyReLU {
    fn name(&self) -> &str {
        "LeakyReLU"
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        inputs::expect_count("LeakyReLU", inputs, 1);
        let x = inputs::tensor("LeakyReLU", inputs, 0)?;
        Ok(x.mapv(|x| if x > 0.0 { x } else { self.slope * x }))
    }

    fn backward(
        &mut self,
        inputs: &[&Value],
        _output: &Tensor,
        output_gradient: &Tensor,
        _needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        let x = inputs[0]
            .as_tensor()
            .expect("forward checked that x is a tensor");
        let gradient = Zip::from(x)
            .and(output_gradient)
            .map_collect(|&x, &g| if x > 0.0 { g } else { self.slope * g });
        vec![Some(gradient)]
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Check the backward pass against the central difference of the forward pass, with
    //    LENGTH's tolerances (away from the kink at 0, where there is no derivative).
    let x = Value::from(array![[-1.5f32, -0.5, 0.25], [2.0, -0.125, 0.75]]);
    let output_gradient = array![[1.0f32, -2.0, 0.5], [0.25, 1.0, -1.0]].into_dyn();
    check_gradients(
        &mut LeakyReLU { slope: 0.1 },
        &[x],
        &output_gradient,
        Tolerance::default(),
    )?;
    println!("gradient check: LeakyReLU's backward matches the numerical gradient");

    // 2. Train a 2-16-2 network with it on XOR: the class of a point is whether its two
    //    coordinates have the same sign, which no straight line separates.
    let (points, labels) = xor_points(8);
    let mut initializer = Xavier::new(1);
    let mut hidden = FullyConnected::new(2, 16, &mut initializer);
    let mut output = FullyConnected::new(16, 2, &mut initializer);
    let mut optimizer = Sgd::with_learning_rate(0.5);

    let steps = 300;
    let (mut first_loss, mut last_loss, mut last_accuracy) = (0.0, 0.0, 0.0);
    for step in 0..steps {
        let mut graph = Graph::new();
        let x = graph.constant(points.clone());
        let t = graph.labels(labels.clone());
        let h = graph.apply_layer(&mut hidden, &[x])?;
        let h = graph.apply(LeakyReLU { slope: 0.1 }, &[h])?;
        let scores = graph.apply_layer(&mut output, &[h])?;
        let loss = graph.softmax_cross_entropy(scores, t)?;
        let accuracy = graph.accuracy(scores, t)?;
        graph.backward(loss, &mut optimizer);

        (last_loss, last_accuracy) = (graph.scalar(loss), graph.scalar(accuracy));
        if step == 0 {
            first_loss = last_loss;
            println!("{}", graph.visualize(loss));
        }
        if step % 50 == 0 || step == steps - 1 {
            println!("step {step:3}: loss {last_loss:.4}, accuracy {last_accuracy:.3}");
        }
    }
    println!(
        "trained {steps} steps on {} points: loss {first_loss:.4} -> {last_loss:.4}, \
         accuracy {last_accuracy:.3}",
        labels.len()
    );
    assert!(
        last_loss < first_loss / 2.0,
        "training with LeakyReLU did not lower the loss"
    );
    Ok(())
}

/// A `side` x `side` grid of points in (-1, 1)², none on an axis, labelled 1 where both
/// coordinates have the same sign.
fn xor_points(side: usize) -> (Array2<f32>, Array1<u32>) {
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
        .map(|point| u32::from(point[0] * point[1] > 0.0))
        .collect();
    (points, labels)
}
