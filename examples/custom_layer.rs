//! A layer of your own: a fully connected `Linear` layer written from scratch, checked against
//! numerical gradients, then trained in a small network.
//!
//! ```text
//! y     = x · Wᵀ + b          x: (samples, inputs), W: (outputs, inputs), b: (outputs)
//! ∂L/∂x = g · W               g = ∂L/∂y: (samples, outputs)
//! ∂L/∂W = gᵀ · x
//! ∂L/∂b = Σ over samples of g
//! ```
//!
//! A layer implements [`Layer`]: forward and backward as a function does, plus its parameters.
//! It is recorded with `graph.apply_layer(&mut layer, &[x])`, and that is all it takes to train
//! it: `graph.backward(loss, &mut optimizer)` hands its gradients to the optimizer and applies the
//! deltas (LENGTH's `run_update_rule`, then `parameter -= delta`; both are the trait's defaults).
//! Handing a layer to `graph.apply`, which records parameter-free functions, does not compile.
//!
//! Run it with `cargo run --release --example custom_layer`.

use length::autograd::{
    AutogradError, Graph, Initializer, Layer, LayerId, NodeId, Tolerance, Value,
    check_layer_gradients, inputs,
};
use length::layers::Xavier;
use length::optim::Sgd;
use length::tensor::ndarray::{Array1, Array2, ArrayViewD, ArrayViewMutD, array};
use length::tensor::{
    Matrix, Tensor, as_matrix, column_sums, matmul_a_b, matmul_a_bt, matmul_at_b,
};

/// `y = x · Wᵀ + b`, with its weights stored as (outputs, inputs), as PyTorch's `nn.Linear`.
struct Linear {
    id: LayerId, // the name the optimizer keeps this layer's state under
    weight: Matrix,
    bias: Array1<f32>,
    /// ∂L/∂W and ∂L/∂b of the last backward pass: `parameter_gradients` hands them out.
    gradients: Option<(Matrix, Array1<f32>)>,
}

impl Linear {
    fn new(inputs: usize, outputs: usize, initializer: &mut dyn Initializer) -> Linear {
        let mut weight = Matrix::zeros((outputs, inputs));
        initializer.initialize(weight.view_mut());
        Linear {
            id: LayerId::fresh(),
            weight,
            bias: Array1::zeros(outputs),
            gradients: None,
        }
    }
}

impl Layer for Linear {
    fn name(&self) -> &str {
        "Linear"
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        inputs::expect_count("Linear", inputs, 1);
        let x = inputs::matrix("Linear", inputs, 0)?; // an error for labels or a 3-D tensor
        if x.ncols() != self.weight.ncols() {
            let message = format!("x is {:?}, W is {:?}", x.shape(), self.weight.shape());
            return Err(AutogradError::shape("Linear", message));
        }
        Ok((matmul_a_bt(x, self.weight.view()) + &self.bias).into_dyn())
    }

    fn backward(
        &mut self,
        inputs: &[&Value],
        _output: &Tensor,
        output_gradient: &Tensor,
        needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        let x = inputs::matrix("Linear", inputs, 0).expect("forward checked x");
        let g = as_matrix(output_gradient); // (samples, outputs)
        self.gradients = Some((matmul_at_b(g, x), column_sums(g)));
        // ∂L/∂x only when asked: the first layer's x is a constant (the data), which needs none.
        let input_gradient =
            needs_gradient[0].then(|| matmul_a_b(g, self.weight.view()).into_dyn());
        vec![input_gradient]
    }

    fn layer_id(&self) -> LayerId {
        self.id
    }

    fn parameters(&self) -> Vec<ArrayViewD<'_, f32>> {
        vec![self.weight.view().into_dyn(), self.bias.view().into_dyn()]
    }

    fn parameters_mut(&mut self) -> Vec<ArrayViewMutD<'_, f32>> {
        vec![
            self.weight.view_mut().into_dyn(),
            self.bias.view_mut().into_dyn(),
        ]
    }

    fn parameter_gradients(&self) -> Option<Vec<ArrayViewD<'_, f32>>> {
        let (weight, bias) = self.gradients.as_ref()?;
        Some(vec![weight.view().into_dyn(), bias.view().into_dyn()])
    }
}

/// Two `Linear` layers with a ReLU between them.
struct Net {
    hidden: Linear,
    output: Linear,
}

impl Net {
    /// Records the forward pass on `graph`, which borrows the layers until it is dropped.
    fn forward<'g>(
        &'g mut self,
        graph: &mut Graph<'g>,
        x: NodeId,
    ) -> Result<NodeId, AutogradError> {
        let h = graph.apply_layer(&mut self.hidden, &[x])?;
        let h = graph.relu(h)?;
        graph.apply_layer(&mut self.output, &[h])
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Check the input, weight and bias gradients against central differences of the forward
    //    pass, with LENGTH's tolerances and the step LENGTH's own test of its fully connected
    //    layer takes, 1e-2 (the output is linear in every input and parameter, so a larger step
    //    costs no accuracy, and f32 rounding in the difference shrinks with it).
    let mut initializer = Xavier::new(1);
    let mut layer = Linear::new(3, 2, &mut initializer);
    let x = Value::from(array![[0.5f32, -1.0, 2.0], [1.5, 0.25, -0.75]]);
    let output_gradient = array![[1.0f32, -0.5], [0.25, 2.0]].into_dyn();
    let tolerance = Tolerance {
        eps: 1e-2,
        ..Tolerance::default()
    };
    check_layer_gradients(&mut layer, &[x], &output_gradient, tolerance)?;
    println!("gradient check: Linear's input, weight and bias gradients match the numerical ones");

    // 2. Train a 2-32-2 network of two Linear layers: is a point inside the circle of radius
    //    0.7? No straight line separates the classes; the hidden layer has to learn the curve.
    let (points, labels) = circle_points(12);
    let mut net = Net {
        hidden: Linear::new(2, 32, &mut initializer),
        output: Linear::new(32, 2, &mut initializer),
    };
    let initial_weights = net.hidden.weight.clone();
    let mut optimizer = Sgd::with_learning_rate(0.5);

    let steps = 300;
    let (mut first_loss, mut last_loss, mut last_accuracy) = (0.0, 0.0, 0.0);
    for step in 0..steps {
        let mut graph = Graph::new();
        let x = graph.constant(points.clone());
        let t = graph.labels(labels.clone());
        let scores = net.forward(&mut graph, x)?;
        let loss = graph.softmax_cross_entropy(scores, t)?;
        let accuracy = graph.accuracy(scores, t)?;
        graph.backward(loss, &mut optimizer); // both Linear layers update here

        (last_loss, last_accuracy) = (graph.scalar(loss), graph.scalar(accuracy));
        if step == 0 {
            first_loss = last_loss;
            println!("{}", graph.visualize(loss));
        }
        if step % 50 == 0 || step == steps - 1 {
            println!("step {step:3}: loss {last_loss:.4}, accuracy {last_accuracy:.3}");
        }
    }
    let moved = (&net.hidden.weight - &initial_weights).mapv(f32::abs).sum();
    println!(
        "trained {steps} steps on {} points: loss {first_loss:.4} -> {last_loss:.4}, \
         accuracy {last_accuracy:.3}; the hidden weights moved by {moved:.2} in total",
        labels.len()
    );
    assert!(
        last_loss < first_loss / 4.0,
        "the Linear layers did not train"
    );
    assert!(last_accuracy > 0.95, "accuracy {last_accuracy}");
    Ok(())
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
