//! # Task 2: the fully connected layer
//!
//! A fully connected (dense, linear) layer multiplies its input by a weight matrix and adds a
//! bias. For a batch `x` of shape (samples, inputs), weights `W` of shape (inputs, outputs) and
//! a bias `b` of length outputs:
//!
//! ```text
//! forward    y     = x · W + b                  (samples, outputs); b is added to every row
//! backward   ∂L/∂x = g · Wᵀ                     (samples, inputs)
//!            ∂L/∂W = xᵀ · g                     (inputs, outputs), summed over the batch
//!            ∂L/∂b = Σ_samples g                (outputs): the column sums of g
//! update     W ← W − delta_W,   b ← b − delta_b
//! ```
//!
//! where `g = ∂L/∂y` is the gradient of the output, of shape (samples, outputs). Check each
//! formula by its shapes: a product `(a, b) · (b, c)` is `(a, c)`, and every gradient has the
//! shape of what it is the gradient of.
//!
//! The layer is a [`Layer`]: a step of the computation with parameters, recorded in the graph
//! with `graph.apply_layer(&mut layer, &[x])`. Its backward pass computes the gradients of its
//! parameters as well as its input's and keeps them; the graph then hands them to the optimizer
//! ([`Layer::parameter_gradients`]), and the layer applies the deltas it gets back
//! ([`Layer::apply_update`]). So you write four parts:
//!
//! 1. [`FullyConnected::new`]: the initialisation. The initializer (Xavier, or the notebook's
//!    normal(0, 0.01)) fills a matrix laid out as (outputs, inputs), the layout the library
//!    stores; your `W` is (inputs, outputs), so draw in its layout and transpose. The bias starts
//!    at zero; there are no gradients yet (`None`).
//! 2. [`FullyConnected::forward_matrix`]: `x · W + b`.
//! 3. [`Layer::backward`]: the three gradients; keep the parameters' gradients in the layer
//!    (`weight_gradient`, `bias_gradient`) and return the input's.
//! 4. [`Layer::apply_update`]: subtract the deltas, LENGTH's `internal_update`. (The trait has a
//!    default that does the same through [`Layer::parameters_mut`]; the course asks you to write
//!    it, so yours replaces it.)
//!
//! Hints from the notebook, in our words:
//! - `length_tensor` has the matrix products: `matmul_a_b(a, b)` is `a · b`, `matmul_a_bt(a, b)`
//!   is `a · bᵀ`, `matmul_at_b(a, b)` is `aᵀ · b`; they take views (`x.view()`). `a.t()` is the
//!   transpose of `a` as a view, and `.to_owned()` makes a view an array of its own.
//! - Adding an array of shape (outputs) to one of shape (samples, outputs) adds it to every row
//!   (broadcasting): `y += &self.bias`. `g.sum_axis(Axis(0))` sums the rows of `g`.
//!
//! Test it: `cargo test --release task2`.

use length_autograd::{AutogradError, Initializer, Layer, LayerId, Value, inputs};
use length_tensor::{Matrix, Tensor, as_matrix, matmul_a_b, matmul_a_bt, matmul_at_b};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewD, ArrayViewMutD, Axis, Ix1};

/// A fully connected layer `y = x · W + b`, LENGTH's `FullyConnected(num_inputs, num_outputs)`.
///
/// ```
/// use length_autograd::{Layer, Value};
/// use length_exercise::FullyConnected;
/// use length_layers::Xavier;
/// use ndarray::array;
///
/// let mut layer = FullyConnected::new(2, 3, &mut Xavier::new(0));
/// layer.weights = array![[1.0, 0.0, 1.0], [0.0, -1.0, 1.0]]; // (inputs, outputs)
/// layer.bias = array![0.0, 0.0, 0.5];
/// let y = layer.forward(&[&Value::from(array![[1.0f32, 2.0]])])?;
/// assert_eq!(y, array![[1.0f32, -2.0, 3.5]].into_dyn());
/// # Ok::<(), length_autograd::AutogradError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FullyConnected {
    /// The name the optimizer keeps this layer's state under (Adam needs it).
    id: LayerId,
    /// `W`, of shape (inputs, outputs).
    pub weights: Matrix,
    /// `b`, one value per output.
    pub bias: Array1<f32>,
    /// `∂L/∂W` from the last backward pass, (inputs, outputs); `None` before the first.
    pub weight_gradient: Option<Matrix>,
    /// `∂L/∂b` from the last backward pass, one value per output; `None` before the first.
    pub bias_gradient: Option<Array1<f32>>,
}

const NAME: &str = "FullyConnected";

impl FullyConnected {
    /// A layer from `num_inputs` to `num_outputs` values: weights drawn by `initializer`, bias
    /// zero, no gradients yet.
    pub fn new<I: Initializer + ?Sized>(
        num_inputs: usize,
        num_outputs: usize,
        initializer: &mut I,
    ) -> Self {
        // SOLUTION BEGIN Task 2 (initialisation): draw W with the initializer (in its (outputs, inputs) layout, then transpose), bias zero, no gradients
        let mut drawn = Matrix::zeros((num_outputs, num_inputs));
        initializer.initialize(drawn.view_mut());
        FullyConnected {
            id: LayerId::fresh(),
            weights: drawn.t().as_standard_layout().into_owned(),
            bias: Array1::zeros(num_outputs),
            weight_gradient: None,
            bias_gradient: None,
        }
        // SOLUTION END
    }

    /// The number of values each sample has going in.
    pub fn num_inputs(&self) -> usize {
        self.weights.nrows()
    }

    /// The number of values each sample has coming out.
    pub fn num_outputs(&self) -> usize {
        self.weights.ncols()
    }

    /// The forward pass on a batch `x` of shape (samples, inputs): `x · W + b`, of shape
    /// (samples, outputs). [`Layer::forward`] and the model's evaluation both call it.
    ///
    /// # Panics
    /// If `x` does not have `num_inputs` columns (`forward` checks that first).
    pub fn forward_matrix(&self, x: ArrayView2<f32>) -> Array2<f32> {
        // SOLUTION BEGIN Task 2 (forward): y = x · W + b
        let mut y = matmul_a_b(x, self.weights.view());
        y += &self.bias;
        y
        // SOLUTION END
    }
}

impl Layer for FullyConnected {
    fn name(&self) -> &str {
        NAME
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        inputs::expect_count(NAME, inputs, 1);
        let x = inputs::matrix(NAME, inputs, 0)?;
        if x.ncols() != self.num_inputs() {
            return Err(AutogradError::shape(
                NAME,
                format!(
                    "the input has shape {:?} but the layer takes {} inputs",
                    x.shape(),
                    self.num_inputs()
                ),
            ));
        }
        Ok(self.forward_matrix(x).into_dyn())
    }

    /// Stores `∂L/∂W = xᵀ · g` and `∂L/∂b = Σ g` in the layer and returns `∂L/∂x = g · Wᵀ`.
    fn backward(
        &mut self,
        inputs: &[&Value],
        _output: &Tensor,
        output_gradient: &Tensor,
        _needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        let x = inputs::matrix(NAME, inputs, 0).expect("forward checked the input");
        let g = as_matrix(output_gradient); // (samples, outputs), as the output
        // SOLUTION BEGIN Task 2 (backward): store xᵀ · g and Σ g in the layer, return g · Wᵀ
        self.weight_gradient = Some(matmul_at_b(x, g));
        self.bias_gradient = Some(g.sum_axis(Axis(0)));
        let input_gradient = matmul_a_bt(g, self.weights.view());
        vec![Some(input_gradient.into_dyn())]
        // SOLUTION END
    }

    fn layer_id(&self) -> LayerId {
        self.id
    }

    /// The weights (inputs, outputs), then the bias.
    fn parameters(&self) -> Vec<ArrayViewD<'_, f32>> {
        vec![self.weights.view().into_dyn(), self.bias.view().into_dyn()]
    }

    /// The weights, then the bias, to change in place (the gradient checker does).
    fn parameters_mut(&mut self) -> Vec<ArrayViewMutD<'_, f32>> {
        vec![
            self.weights.view_mut().into_dyn(),
            self.bias.view_mut().into_dyn(),
        ]
    }

    /// The gradients from the last backward pass, in the order of `parameters`; `None` before
    /// the first.
    fn parameter_gradients(&self) -> Option<Vec<ArrayViewD<'_, f32>>> {
        let (Some(weight_gradient), Some(bias_gradient)) =
            (&self.weight_gradient, &self.bias_gradient)
        else {
            return None;
        };
        Some(vec![
            weight_gradient.view().into_dyn(),
            bias_gradient.view().into_dyn(),
        ])
    }

    /// `W ← W − deltas[0]`, `b ← b − deltas[1]`.
    fn apply_update(&mut self, deltas: &[Tensor]) {
        assert_eq!(
            deltas.len(),
            2,
            "FullyConnected takes 2 deltas (weights, bias), got {}",
            deltas.len()
        );
        let weights_delta = as_matrix(&deltas[0]);
        let bias_delta = deltas[1]
            .view()
            .into_dimensionality::<Ix1>()
            .expect("the bias's delta is a vector");
        // SOLUTION BEGIN Task 2 (update): subtract the deltas from the weights and the bias
        self.weights -= &weights_delta;
        self.bias -= &bias_delta;
        // SOLUTION END
    }
}
