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
//! The layer is a [`Function`] (forward and backward) with parameters, a [`Layer`]: during the
//! backward pass the graph hands the layer an optimizer, the layer gives it the gradients of its
//! parameters ([`Layer::parameter_gradients`]), and applies the deltas it gets back
//! ([`Layer::apply_update`]). So you write four parts:
//!
//! 1. [`FullyConnected::new`]: the initialisation. The initializer (Xavier, or the notebook's
//!    normal(0, 0.01)) fills a matrix laid out as (outputs, inputs), the layout the library
//!    stores; your `W` is (inputs, outputs), so draw in its layout and transpose. The bias starts
//!    at zero, and so do the gradients.
//! 2. [`FullyConnected::forward_matrix`]: `x · W + b`.
//! 3. [`Function::backward`]: the three gradients; keep the parameters' gradients in the layer
//!    (`weight_gradient`, `bias_gradient`) and return the input's.
//! 4. [`Layer::apply_update`]: subtract the deltas.
//!
//! Hints from the notebook, in our words:
//! - `length_tensor` has the matrix products: `matmul_a_b(a, b)` is `a · b`, `matmul_a_bt(a, b)`
//!   is `a · bᵀ`, `matmul_at_b(a, b)` is `aᵀ · b`; they take views (`x.view()`). `a.t()` is the
//!   transpose of `a` as a view, and `.to_owned()` makes a view an array of its own.
//! - Adding an array of shape (outputs) to one of shape (samples, outputs) adds it to every row
//!   (broadcasting): `y += &self.bias`. `g.sum_axis(Axis(0))` sums the rows of `g`.
//!
//! Test it: `cargo test --release task2`.

use length_autograd::{AutogradError, Function, Initializer, Layer, LayerId, Value, inputs};
use length_tensor::{Matrix, Tensor, matmul_a_b, matmul_a_bt, matmul_at_b};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewD, Axis, Ix1, Ix2};

/// A fully connected layer `y = x · W + b`, LENGTH's `FullyConnected(num_inputs, num_outputs)`.
///
/// ```
/// use length_autograd::{Function, Value};
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
    /// `∂L/∂W` from the last backward pass, (inputs, outputs).
    pub weight_gradient: Matrix,
    /// `∂L/∂b` from the last backward pass, one value per output.
    pub bias_gradient: Array1<f32>,
}

const NAME: &str = "FullyConnected";

impl FullyConnected {
    /// A layer from `num_inputs` to `num_outputs` values: weights drawn by `initializer`, bias
    /// and gradients zero.
    pub fn new<I: Initializer + ?Sized>(
        num_inputs: usize,
        num_outputs: usize,
        initializer: &mut I,
    ) -> Self {
        // SOLUTION BEGIN Task 2 (initialisation): draw W with the initializer (in its (outputs, inputs) layout, then transpose), bias and gradients zero
        let mut drawn = Matrix::zeros((num_outputs, num_inputs));
        initializer.initialize(drawn.view_mut());
        FullyConnected {
            id: LayerId::fresh(),
            weights: drawn.t().as_standard_layout().into_owned(),
            bias: Array1::zeros(num_outputs),
            weight_gradient: Matrix::zeros((num_inputs, num_outputs)),
            bias_gradient: Array1::zeros(num_outputs),
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
    /// (samples, outputs). [`Function::forward`] and the model's evaluation both call it.
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

impl Function for FullyConnected {
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
        let g = output_gradient
            .view()
            .into_dimensionality::<Ix2>()
            .expect("the output gradient has the output's shape (samples, outputs)");
        // SOLUTION BEGIN Task 2 (backward): store xᵀ · g and Σ g in the layer, return g · Wᵀ
        self.weight_gradient = matmul_at_b(x, g);
        self.bias_gradient = g.sum_axis(Axis(0));
        let input_gradient = matmul_a_bt(g, self.weights.view());
        vec![Some(input_gradient.into_dyn())]
        // SOLUTION END
    }

    fn as_layer(&self) -> Option<&dyn Layer> {
        Some(self)
    }

    fn as_layer_mut(&mut self) -> Option<&mut dyn Layer> {
        Some(self)
    }
}

impl Layer for FullyConnected {
    fn layer_id(&self) -> LayerId {
        self.id
    }

    /// The weights (inputs, outputs), then the bias.
    fn parameters(&self) -> Vec<ArrayViewD<'_, f32>> {
        vec![self.weights.view().into_dyn(), self.bias.view().into_dyn()]
    }

    /// The gradients from the last backward pass, in the order of `parameters`.
    fn parameter_gradients(&self) -> Vec<ArrayViewD<'_, f32>> {
        vec![
            self.weight_gradient.view().into_dyn(),
            self.bias_gradient.view().into_dyn(),
        ]
    }

    /// `W ← W − deltas[0]`, `b ← b − deltas[1]`.
    fn apply_update(&mut self, deltas: &[Tensor]) {
        assert_eq!(
            deltas.len(),
            2,
            "FullyConnected takes 2 deltas (weights, bias), got {}",
            deltas.len()
        );
        let weights_delta = deltas[0]
            .view()
            .into_dimensionality::<Ix2>()
            .expect("the weights' delta is a matrix");
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
