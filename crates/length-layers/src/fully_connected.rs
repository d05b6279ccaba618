//! The fully connected (dense, linear) layer: `y = x · W + b`.
//!
//! For a batch `x` of shape (samples, inputs), weights `W` of shape (inputs, outputs) and a bias
//! `b` of length outputs:
//!
//! ```text
//! y     = x · W + b
//! ∂L/∂x = g · Wᵀ
//! ∂L/∂W = xᵀ · g
//! ∂L/∂b = Σ_samples g
//! ```
//!
//! As LENGTH recommends, the weights are *stored* transposed, as `Wᵀ` of shape (outputs,
//! inputs), which is also PyTorch's `nn.Linear.weight` layout: then every row of the storage is
//! contiguous in the dot products of the forward pass (`x · (Wᵀ)ᵀ`, the `matmul_a_bt` kernel,
//! with the bias added in the same pass), and the weight gradient `gᵀ · x` comes out in the
//! stored layout. [`FullyConnected::weights`] shows the (inputs, outputs) matrix of the formula.
//!
//! The layer keeps its parameter gradients in arrays of its own, overwritten every step, and so
//! the gradient through its activation; its output and its input's gradient are written into
//! buffers from `length_autograd::pool`, which the graph recycles when it is dropped. So a
//! training step allocates nothing here.
//!
//! A layer may carry its activation ([`FullyConnected::with_activation`], Keras'
//! `Dense(units, activation=...)`): `y = act(x · W + b)`, and the backward pass first turns the
//! gradient of `y` into that of `x · W + b` (for ReLU, `g · [y > 0]`). Fused so, ReLU is applied
//! to each tile of the product as it is finished, and its gradient is taken in the same pass
//! as the bias gradient: two passes over the batch's activations fewer per layer and step than
//! with a separate `ReLU` node, with the same numbers. [`MLP`](crate::MLP) builds its hidden
//! layers this way.
//!
//! Two such layers chained by a model ([`MLP`](crate::MLP)) can hand the gradient across the ReLU
//! between them in one pass instead of two: the upper layer takes its input gradient `g · W`
//! back through the ReLU whose output is its input x, gating each tile of the product by
//! `x > 0` in the microkernel's registers (`matmul_a_b_relu_backward_into`), and the lower layer
//! receives the gradient of its pre-activation, ready for its own products, and only sums it for
//! its bias gradient. The numbers are the same, bit for bit (see [`ReluHandoff`]).
//!
//! With an element-wise optimizer, the backward pass applies the step to the weights while it
//! computes their gradient, which then never reaches memory: [`FullyConnected::weight_gradient`]
//! says so with `None`. [`FullyConnected::keep_gradients`] asks for the gradient to be kept (the
//! update is then a second pass over the weights, with the same bits).

use length_autograd::{AutogradError, Initializer, Layer, LayerId, Optimizer, Value, inputs, pool};
use length_tensor::{
    Matrix, Tensor, column_sums_into, matmul_a_b_into, matmul_a_b_relu_backward_into,
    matmul_a_bt_into, matmul_a_bt_relu_into, matmul_at_b_descend_into, matmul_at_b_into,
    matmul_at_b_update_into, relu_backward_column_sums_into, sigmoid_backward_into,
};
use ndarray::{
    Array1, Array2, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMut1, ArrayViewMut2,
    ArrayViewMutD, Ix2,
};

use crate::{Activation, LayersError};

/// A fully connected layer, LENGTH's `FullyConnected(num_inputs, num_outputs, weight_init)`.
///
/// ```
/// use length_autograd::{Layer, Value};
/// use length_layers::{FullyConnected, Xavier};
/// use ndarray::array;
///
/// let mut layer = FullyConnected::new(2, 3, &mut Xavier::new(0));
/// layer.set_weights(array![[1.0, 0.0, 1.0], [0.0, -1.0, 1.0]].view())?; // (inputs, outputs)
/// layer.set_bias(array![0.0, 0.0, 0.5].view())?;
/// let y = layer.forward(&[&Value::from(array![[1.0f32, 2.0]])])?;
/// assert_eq!(y, array![[1.0f32, -2.0, 3.5]].into_dyn());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FullyConnected {
    id: LayerId,
    /// `Wᵀ`, (outputs, inputs).
    weights: Matrix,
    bias: Array1<f32>,
    /// `∂L/∂Wᵀ` from the last backward pass that stored it, (outputs, inputs); reused from step
    /// to step. A pass that applied an element-wise optimizer's step on the way
    /// ([`Layer::backward_and_update`]) does not store it.
    weight_gradient: Matrix,
    bias_gradient: Array1<f32>,
    /// Whether `weight_gradient` and `bias_gradient` hold the last backward pass's gradients.
    weight_gradient_kept: bool,
    bias_gradient_kept: bool,
    /// Whether backward passes must keep the weight gradient (no fused step).
    keep_gradients: bool,
    /// Applied to the product: `y = activation(x · W + b)`.
    activation: Activation,
    /// `∂L/∂(x · W + b)` of the last backward pass when there is an activation, (batch,
    /// outputs) in its first elements; grown to the largest batch, reused from step to step
    /// (see [`FullyConnected::pre_activation_gradient`]).
    through_activation: Vec<f32>,
    /// How the gradient crosses the ReLUs next to this layer in the graph of the last forward
    /// pass (see [`ReluHandoff`]).
    handoff: ReluHandoff,
    /// The handoff the next forward pass records, set by the model just before it; taken, so a
    /// forward pass of anyone else's records the plain one.
    next_handoff: ReluHandoff,
}

/// How the gradient crosses the ReLU between two fully connected layers that a model chains,
/// `FC+ReLU → FC`: in one pass, by the upper layer, instead of one pass by each layer.
///
/// The upper layer's input x is the lower layer's output `relu(z)`, so `[x > 0] = [z > 0]`: the
/// upper layer can take its input gradient back through that ReLU as it computes it,
/// `∂L/∂z = (g · W) · [x > 0]`, with the gate applied to each tile of the product in the
/// microkernel's registers; the lower layer then receives `∂L/∂z` where it would receive
/// `∂L/∂x` and skips its own pass through the activation (the bias gradient is the column sums
/// of `∂L/∂z` either way). Gating twice changes nothing, so each element is the one the two
/// passes give. The node between the two layers then holds `∂L/∂z` as its gradient.
///
/// Only the model that records both layers knows that one's output is the other's only input,
/// through nothing but the ReLU; it sets the handoff just before each forward pass
/// ([`FullyConnected::hand_off_next_forward`]), and a layer's backward pass does what its last
/// forward pass recorded. A graph holds its layers borrowed until it is dropped, so no other
/// forward pass can come between.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReluHandoff {
    /// The input is a ReLU's output, and the input gradient goes back through that ReLU.
    pub gate_input_gradient: bool,
    /// The output gradient arrives already back through this layer's own ReLU.
    pub output_gradient_gated: bool,
}

const NAME: &str = "FullyConnected";

/// The first `rows · cols` elements of `buffer` as a (rows, cols) matrix, `buffer` grown to hold
/// them if it is shorter (it then allocates, once for each larger batch).
fn matrix_in(buffer: &mut Vec<f32>, (rows, cols): (usize, usize)) -> ArrayViewMut2<'_, f32> {
    let len = rows * cols;
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    ArrayViewMut2::from_shape((rows, cols), &mut buffer[..len]).expect("len elements")
}

/// The gradient of `x · W + b` for a layer whose output gradient is `g`: `g` itself when it
/// needs no pass through an activation (`through_activation` is `None`), else what
/// `pre_activation_gradient` wrote into the layer's buffer.
fn gradient_of_product<'a>(
    through_activation: Option<&'a [f32]>,
    g: ArrayView2<'a, f32>,
) -> ArrayView2<'a, f32> {
    match through_activation {
        None => g,
        Some(buffer) => ArrayView2::from_shape(g.dim(), &buffer[..g.len()])
            .expect("pre_activation_gradient wrote a matrix of g's shape"),
    }
}

/// The backward pass's operands: the layer's input x (batch, inputs) and the gradient g of its
/// output (batch, outputs).
fn backward_operands<'a>(
    inputs: &[&'a Value],
    output_gradient: &'a Tensor,
) -> (ArrayView2<'a, f32>, ArrayView2<'a, f32>) {
    let x = inputs::matrix(NAME, inputs, 0).expect("forward checked the input");
    let g = output_gradient
        .view()
        .into_dimensionality::<Ix2>()
        .expect("the output gradient has the output's shape");
    (x, g)
}

impl FullyConnected {
    /// A layer from `num_inputs` to `num_outputs` values, its weights drawn by `initializer`
    /// and its bias zero.
    pub fn new<I: Initializer + ?Sized>(
        num_inputs: usize,
        num_outputs: usize,
        initializer: &mut I,
    ) -> Self {
        let mut weights = Matrix::zeros((num_outputs, num_inputs));
        initializer.initialize(weights.view_mut());
        FullyConnected {
            id: LayerId::fresh(),
            weights,
            bias: Array1::zeros(num_outputs),
            weight_gradient: Matrix::zeros((num_outputs, num_inputs)),
            bias_gradient: Array1::zeros(num_outputs),
            weight_gradient_kept: false,
            bias_gradient_kept: false,
            keep_gradients: false,
            activation: Activation::None,
            through_activation: Vec::new(),
            handoff: ReluHandoff::default(),
            next_handoff: ReluHandoff::default(),
        }
    }

    /// The same layer with `activation` applied to its output: `y = activation(x · W + b)`,
    /// Keras' `Dense(units, activation=...)`. ReLU is fused into the product and the bias
    /// gradient (see the module documentation); the numbers are those of a separate
    /// activation function after the layer.
    ///
    /// ```
    /// use length_autograd::{Layer, Value};
    /// use length_layers::{Activation, FullyConnected, Xavier};
    /// use ndarray::array;
    ///
    /// let mut layer = FullyConnected::new(2, 2, &mut Xavier::new(0)).with_activation(Activation::ReLU);
    /// layer.set_weights(array![[1.0, -1.0], [0.0, 0.0]].view())?; // (inputs, outputs)
    /// let y = layer.forward(&[&Value::from(array![[3.0f32, 1.0]])])?;
    /// assert_eq!(y, array![[3.0f32, 0.0]].into_dyn()); // max(3, 0), max(-3, 0)
    /// assert_eq!(layer.name(), "FullyConnected+ReLU");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_activation(mut self, activation: Activation) -> Self {
        self.set_activation(activation);
        self
    }

    /// Changes the activation applied to the layer's output (see
    /// [`with_activation`](FullyConnected::with_activation)).
    pub fn set_activation(&mut self, activation: Activation) {
        self.activation = activation;
    }

    /// The activation applied to the layer's output ([`Activation::None`] unless set with
    /// [`with_activation`](FullyConnected::with_activation)).
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The number of values each sample has going in.
    pub fn num_inputs(&self) -> usize {
        self.weights.ncols()
    }

    /// The number of values each sample has coming out.
    pub fn num_outputs(&self) -> usize {
        self.weights.nrows()
    }

    /// The weights `W` of `y = x · W + b`, (inputs, outputs): a transposed view of the storage.
    pub fn weights(&self) -> ArrayView2<'_, f32> {
        self.weights.t()
    }

    /// Replaces the weights with `weights` of shape (inputs, outputs), LENGTH's
    /// `layer.weights = ...`.
    ///
    /// # Errors
    /// [`LayersError::ShapeMismatch`] if the shape is not (inputs, outputs).
    pub fn set_weights(&mut self, weights: ArrayView2<f32>) -> Result<(), LayersError> {
        let expected = [self.num_inputs(), self.num_outputs()];
        if weights.shape() != expected {
            return Err(shape_error("weights", &expected, weights.shape()));
        }
        self.weights.assign(&weights.t());
        Ok(())
    }

    /// The weights as stored, `Wᵀ` of shape (outputs, inputs) (PyTorch's `nn.Linear.weight`).
    pub fn stored_weights(&self) -> ArrayView2<'_, f32> {
        self.weights.view()
    }

    /// The stored weights `Wᵀ`, (outputs, inputs), to change in place.
    pub fn stored_weights_mut(&mut self) -> ArrayViewMut2<'_, f32> {
        self.weights.view_mut()
    }

    /// The bias, one value per output.
    pub fn bias(&self) -> ArrayView1<'_, f32> {
        self.bias.view()
    }

    /// The bias, to change in place.
    pub fn bias_mut(&mut self) -> ArrayViewMut1<'_, f32> {
        self.bias.view_mut()
    }

    /// Replaces the bias.
    ///
    /// # Errors
    /// [`LayersError::ShapeMismatch`] unless `bias` has one value per output.
    pub fn set_bias(&mut self, bias: ArrayView1<f32>) -> Result<(), LayersError> {
        if bias.len() != self.num_outputs() {
            return Err(shape_error("bias", &[self.num_outputs()], bias.shape()));
        }
        self.bias.assign(&bias);
        Ok(())
    }

    /// `∂L/∂Wᵀ` from the last backward pass, in the stored (outputs, inputs) layout; `None`
    /// before the first backward pass, and after one that applied an element-wise optimizer's
    /// step while computing it (see [`keep_gradients`](FullyConnected::keep_gradients)).
    ///
    /// ```
    /// use length_autograd::{Graph, functions::Sum};
    /// use length_layers::{FullyConnected, Xavier};
    /// use length_optim::Sgd;
    ///
    /// let mut layer = FullyConnected::new(3, 2, &mut Xavier::new(0));
    /// for keep in [false, true] {
    ///     layer.keep_gradients(keep);
    ///     let mut graph = Graph::new();
    ///     let x = graph.constant(ndarray::array![[1.0f32, 2.0, 3.0]]);
    ///     let y = graph.apply_layer(&mut layer, &[x])?;
    ///     let loss = graph.apply(Sum, &[y])?;
    ///     graph.backward(loss, &mut Sgd::with_learning_rate(0.1));
    ///     drop(graph);
    ///     // Fused into the product, the step never stored the gradient; kept, it is xᵀ per row.
    ///     assert_eq!(layer.weight_gradient().is_some(), keep);
    /// }
    /// assert_eq!(layer.weight_gradient().unwrap().row(1).to_vec(), [1.0, 2.0, 3.0]);
    /// # Ok::<(), length_autograd::AutogradError>(())
    /// ```
    pub fn weight_gradient(&self) -> Option<ArrayView2<'_, f32>> {
        self.weight_gradient_kept
            .then(|| self.weight_gradient.view())
    }

    /// `∂L/∂b` from the last backward pass; `None` before the first.
    pub fn bias_gradient(&self) -> Option<ArrayView1<'_, f32>> {
        self.bias_gradient_kept.then(|| self.bias_gradient.view())
    }

    /// Whether backward passes keep the weight gradient when the optimizer is element-wise.
    /// Off (the default), the step is applied to the weights while the weight-gradient product
    /// finishes them, and the gradient is not stored; on, the gradient is stored and the step
    /// applied after it, one more pass over the weights, bit-identical.
    pub fn keep_gradients(&mut self, keep: bool) {
        self.keep_gradients = keep;
    }

    /// Whether backward passes keep the weight gradient (see
    /// [`keep_gradients`](FullyConnected::keep_gradients)).
    pub fn keeps_gradients(&self) -> bool {
        self.keep_gradients
    }

    /// `x · W + b` without a graph, for evaluation and prediction.
    ///
    /// # Errors
    /// [`LayersError::ShapeMismatch`] unless `x` has `num_inputs` columns.
    pub fn infer(&self, x: ArrayView2<f32>) -> Result<Array2<f32>, LayersError> {
        if x.ncols() != self.num_inputs() {
            return Err(shape_error(
                "input",
                &[x.nrows(), self.num_inputs()],
                x.shape(),
            ));
        }
        let mut y = Array2::zeros((x.nrows(), self.num_outputs()));
        self.activated_product(x, y.view_mut());
        Ok(y)
    }

    /// `y = activation(x · Wᵀ + b)` into `y`: ReLU fused into the product, sigmoid after it.
    fn activated_product(&self, x: ArrayView2<f32>, mut y: ArrayViewMut2<f32>) {
        let (weights, bias) = (self.weights.view(), Some(self.bias.view()));
        match self.activation {
            Activation::None => matmul_a_bt_into(x, weights, bias, y),
            Activation::ReLU => matmul_a_bt_relu_into(x, weights, bias, y),
            Activation::Sigmoid => {
                matmul_a_bt_into(x, weights, bias, y.view_mut());
                Activation::Sigmoid.apply_in_place(y);
            }
        }
    }

    /// The bias gradient (the column sums of the gradient of `x · Wᵀ + b`) into
    /// `self.bias_gradient`, and, when the layer takes `g` through its activation itself, that
    /// gradient into `self.through_activation` (read it with `gradient_of_product`); `g` is the
    /// gradient of the output `y`. Through ReLU it is `g · [y > 0]`, taken in one pass with the
    /// column sums. Handed over already through the ReLU ([`ReluHandoff`]), `g` is only summed.
    ///
    /// The layer keeps that buffer from step to step, as it keeps its parameter gradients, and
    /// each step the same threads write the same rows of it. Taken from the pool instead, it was
    /// the buffer the layer after this one had just used for the same purpose and its weight
    /// update had then read on both cores, so that its lines were likely still in the other
    /// core's cache. Inside a two-thread step of the course's MLP (AMD Zen 4), the first layer's
    /// ReLU backward pass took 4.7-5.2 µs so, against 15-16 µs with a pooled buffer (7 µs against
    /// 64 µs when the machine was disturbed); the second layer's took 9-10 µs either way. With
    /// the handoff, the two passes became column sums of 2.0-2.6 µs each (5 µs each when the
    /// machine was disturbed, against 43-82 µs for the passes through ReLU).
    fn pre_activation_gradient(&mut self, y: &Tensor, g: ArrayView2<f32>) {
        if !self.takes_gradient_through_activation() {
            column_sums_into(g, self.bias_gradient.view_mut());
            return;
        }
        let y = y
            .view()
            .into_dimensionality::<Ix2>()
            .expect("the output is a matrix");
        let bias_gradient = self.bias_gradient.view_mut();
        match self.activation {
            Activation::None => unreachable!("no activation to take the gradient through"),
            Activation::ReLU => {
                let through = matrix_in(&mut self.through_activation, g.dim());
                relu_backward_column_sums_into(y, g, through, bias_gradient);
            }
            Activation::Sigmoid => {
                let mut through = matrix_in(&mut self.through_activation, g.dim());
                sigmoid_backward_into(y.into_dyn(), g.into_dyn(), through.view_mut().into_dyn());
                column_sums_into(through.view(), bias_gradient);
            }
        }
    }

    /// Records how the gradient will cross the ReLUs next to this layer in the graph that the
    /// next forward pass goes into (see [`ReluHandoff`]); only the next forward pass.
    pub(crate) fn hand_off_next_forward(&mut self, handoff: ReluHandoff) {
        self.next_handoff = handoff;
    }

    /// Whether the backward pass takes the output gradient through the layer's activation itself
    /// (else there is none, or the layer above already did, [`ReluHandoff`]).
    fn takes_gradient_through_activation(&self) -> bool {
        self.activation != Activation::None && !self.handoff.output_gradient_gated
    }

    /// `g · W` (`∂L/∂x`) into a pooled buffer, if the input wants a gradient; back through the
    /// ReLU that made x when the handoff says so (`∂L/∂z = (g · W) · [x > 0]`). The parameter
    /// gradients come after it, so they are still in the cache when the optimizer needs them.
    fn input_gradient(
        &self,
        g: ArrayView2<f32>,
        x: ArrayView2<f32>,
        needs_gradient: &[bool],
    ) -> Option<Tensor> {
        needs_gradient[0].then(|| {
            let mut gradient = pool::take((g.nrows(), self.weights.ncols()));
            let (weights, out) = (self.weights.view(), gradient.view_mut());
            if self.handoff.gate_input_gradient {
                matmul_a_b_relu_backward_into(g, weights, x, out);
            } else {
                matmul_a_b_into(g, weights, out); // g · W = ∂L/∂x
            }
            gradient.into_dyn()
        })
    }
}

fn shape_error(what: &str, expected: &[usize], got: &[usize]) -> LayersError {
    LayersError::ShapeMismatch {
        what: what.to_string(),
        expected: expected.to_vec(),
        got: got.to_vec(),
    }
}

impl Layer for FullyConnected {
    fn name(&self) -> &str {
        match self.activation {
            Activation::None => NAME,
            Activation::ReLU => "FullyConnected+ReLU",
            Activation::Sigmoid => "FullyConnected+Sigmoid",
        }
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        self.handoff = std::mem::take(&mut self.next_handoff);
        inputs::expect_count(NAME, inputs, 1);
        let x = inputs::matrix(NAME, inputs, 0)?;
        if x.ncols() != self.num_inputs() {
            return Err(AutogradError::shape(
                NAME,
                format!(
                    "input of shape {:?} has {} columns but the layer takes {} inputs",
                    x.shape(),
                    x.ncols(),
                    self.num_inputs()
                ),
            ));
        }
        let mut y = pool::take((x.nrows(), self.num_outputs()));
        self.activated_product(x, y.view_mut());
        Ok(y.into_dyn())
    }

    fn backward(
        &mut self,
        inputs: &[&Value],
        output: &Tensor,
        output_gradient: &Tensor,
        needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        let (x, output_gradient) = backward_operands(inputs, output_gradient);
        self.pre_activation_gradient(output, output_gradient);
        let through = self.takes_gradient_through_activation();
        let g = gradient_of_product(through.then_some(&self.through_activation), output_gradient);
        let input_gradient = self.input_gradient(g, x, needs_gradient);
        matmul_at_b_into(g, x, self.weight_gradient.view_mut()); // gᵀ · x = ∂L/∂Wᵀ
        (self.weight_gradient_kept, self.bias_gradient_kept) = (true, true);
        vec![input_gradient]
    }

    fn layer_id(&self) -> LayerId {
        self.id
    }

    /// The stored weights `Wᵀ` (outputs, inputs), then the bias.
    fn parameters(&self) -> Vec<ArrayViewD<'_, f32>> {
        vec![self.weights.view().into_dyn(), self.bias.view().into_dyn()]
    }

    fn parameters_mut(&mut self) -> Vec<ArrayViewMutD<'_, f32>> {
        vec![
            self.weights.view_mut().into_dyn(),
            self.bias.view_mut().into_dyn(),
        ]
    }

    /// The weight gradient, then the bias gradient; `None` unless the last backward pass kept
    /// both (see [`FullyConnected::weight_gradient`]).
    fn parameter_gradients(&self) -> Option<Vec<ArrayViewD<'_, f32>>> {
        Some(vec![
            self.weight_gradient()?.into_dyn(),
            self.bias_gradient()?.into_dyn(),
        ])
    }

    /// With an element-wise optimizer (all of length-optim's), the step is applied to the
    /// weights a band of rows at a time as the weight-gradient product `gᵀ · x` finishes them
    /// (`matmul_at_b_update_into`), and the weight gradient is never stored: bit-identical to
    /// `backward` then `update`, with one pass over the weights instead of three. With plain SGD
    /// ([`ElementwiseStep::descent_rate`](length_autograd::ElementwiseStep::descent_rate)) the
    /// microkernel applies the step to each tile of the weights itself
    /// (`matmul_at_b_descend_into`). Not when the layer
    /// [keeps its gradients](FullyConnected::keep_gradients).
    fn backward_and_update(
        &mut self,
        inputs: &[&Value],
        output: &Tensor,
        output_gradient: &Tensor,
        needs_gradient: &[bool],
        optimizer: &mut dyn Optimizer,
    ) -> Option<Vec<Option<Tensor>>> {
        if self.keep_gradients {
            return None;
        }
        let step = optimizer
            .begin_elementwise_step(self.id, &[self.weights.shape(), self.bias.shape()])?;
        let (x, output_gradient) = backward_operands(inputs, output_gradient);
        self.pre_activation_gradient(output, output_gradient);
        let through = self.takes_gradient_through_activation();
        let g = gradient_of_product(through.then_some(&self.through_activation), output_gradient);
        // Before the weights move: g · W needs the weights of the forward pass.
        let input_gradient = self.input_gradient(g, x, needs_gradient);
        if let Some(rate) = step.descent_rate() {
            // Plain SGD: the microkernel subtracts each finished tile of η·gᵀx from W itself.
            matmul_at_b_descend_into(g, x, self.weights.view_mut(), rate);
        } else {
            let row_length = self.weights.ncols();
            matmul_at_b_update_into(
                g,
                x,
                self.weights.view_mut(),
                &|i, j0, weights, gradient| {
                    step.apply(0, i * row_length + j0, weights, gradient);
                },
            );
        }
        let bias = self.bias.as_slice_mut().expect("the bias is contiguous");
        let bias_gradient = self.bias_gradient.as_slice().expect("contiguous");
        step.apply(1, 0, bias, bias_gradient);
        (self.weight_gradient_kept, self.bias_gradient_kept) = (false, true);
        Some(vec![input_gradient])
    }

    /// Updates weights and bias in place with [`Optimizer::update`].
    ///
    /// # Panics
    /// If the last backward pass did not keep the gradients.
    fn update(&mut self, optimizer: &mut dyn Optimizer) {
        assert!(
            self.weight_gradient_kept && self.bias_gradient_kept,
            "FullyConnected::update: no gradients kept; run a backward pass first"
        );
        optimizer.update(
            &mut [
                self.weights.view_mut().into_dyn(),
                self.bias.view_mut().into_dyn(),
            ],
            &[
                self.weight_gradient.view().into_dyn(),
                self.bias_gradient.view().into_dyn(),
            ],
            self.id,
        );
    }
}

#[cfg(test)]
mod tests {
    use length_autograd::{Tolerance, assert_allclose, check_layer_gradients};
    use ndarray::array;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::Xavier;

    #[test]
    fn forward_matches_lengths_numbers() -> Result<(), Box<dyn std::error::Error>> {
        let x = array![
            [0.44f32, 0.06, 0.33, 0.76],
            [0.53, 0.65, 0.06, -0.35],
            [0.29, -0.90, 0.86, 0.76]
        ];
        let weights = array![
            [-0.74f32, -0.44],
            [-0.51, 0.63],
            [0.73, -0.38],
            [0.24, -0.43]
        ];
        let mut layer = FullyConnected::new(4, 2, &mut Xavier::new(0));
        layer.set_weights(weights.view())?;
        layer.set_bias(array![0.86f32, 0.63].view())?;
        let y = layer.forward(&[&Value::from(x)])?;
        let expected = array![[0.9271f32, 0.022], [0.0961, 0.934], [1.9146, -0.7182]];
        assert_allclose(&y, &expected.into_dyn());
        Ok(())
    }

    #[test]
    fn backward_matches_numerical_gradient() {
        // LENGTH: x ~ uniform(-1, 1) of 10×50, output gradient all 2s, eps 1e-2, atol 1e-4.
        let mut rng = ChaCha8Rng::seed_from_u64(20);
        let x = Tensor::from_shape_fn(vec![10, 50], |_| rng.random_range(-1.0..1.0));
        let gradient = Tensor::from_elem(vec![10, 20], 2.0);
        let mut layer = FullyConnected::new(50, 20, &mut Xavier::new(21));
        let tolerance = Tolerance {
            eps: 1e-2,
            atol: 1e-4,
            rtol: 1e-4,
        };
        check_layer_gradients(&mut layer, &[Value::Tensor(x)], &gradient, tolerance).unwrap();
    }

    #[test]
    fn a_wrong_weight_gradient_is_caught() {
        /// A fully connected layer whose weight gradient is off by 1 % in one element.
        struct Off(FullyConnected);
        impl Layer for Off {
            fn name(&self) -> &str {
                "Off"
            }
            fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
                self.0.forward(inputs)
            }
            fn backward(
                &mut self,
                inputs: &[&Value],
                output: &Tensor,
                g: &Tensor,
                needs: &[bool],
            ) -> Vec<Option<Tensor>> {
                let gradients = self.0.backward(inputs, output, g, needs);
                self.0.weight_gradient[[1, 2]] *= 1.01;
                gradients
            }
            fn layer_id(&self) -> LayerId {
                self.0.layer_id()
            }
            fn parameters(&self) -> Vec<ArrayViewD<'_, f32>> {
                self.0.parameters()
            }
            fn parameters_mut(&mut self) -> Vec<ArrayViewMutD<'_, f32>> {
                self.0.parameters_mut()
            }
            fn parameter_gradients(&self) -> Option<Vec<ArrayViewD<'_, f32>>> {
                self.0.parameter_gradients()
            }
        }
        let x = Array2::from_shape_fn((4, 5), |(i, j)| (i as f32 - j as f32) / 4.0).into_dyn();
        let gradient = Tensor::from_elem(vec![4, 3], 1.0);
        let mut layer = Off(FullyConnected::new(5, 3, &mut Xavier::new(3)));
        let weights_before = layer.0.stored_weights().to_owned();
        let tolerance = Tolerance {
            eps: 1e-2,
            atol: 1e-4,
            rtol: 1e-4,
        };
        let report = check_layer_gradients(&mut layer, &[Value::Tensor(x)], &gradient, tolerance)
            .unwrap_err();
        assert!(report.contains("gradient of parameter 0"), "{report}");
        assert!(report.contains("[1, 2]"), "{report}");
        assert_eq!(
            layer.0.stored_weights(),
            weights_before,
            "parameters restored"
        );
    }

    #[test]
    fn gradients_are_none_until_a_backward_pass_keeps_them() {
        let mut layer = FullyConnected::new(3, 2, &mut Xavier::new(0));
        assert!(layer.weight_gradient().is_none() && layer.bias_gradient().is_none());
        assert!(layer.parameter_gradients().is_none());
        let x = Value::from(array![[1.0f32, -1.0, 0.5]]);
        let y = layer.forward(&[&x]).unwrap();
        layer.backward(&[&x], &y, &Tensor::ones(vec![1, 2]), &[false]);
        assert_eq!(
            layer.weight_gradient().unwrap().row(0).to_vec(),
            [1.0, -1.0, 0.5]
        );
        assert_eq!(layer.bias_gradient().unwrap().to_vec(), [1.0, 1.0]);
        assert_eq!(layer.parameter_gradients().unwrap().len(), 2);
    }

    #[test]
    fn the_kept_gradient_through_the_activation_fits_any_batch() {
        // Batches of 4, then 2, then 4 rows through one ReLU layer, each backward pass against a
        // fresh layer's: a longer batch's leftovers in the kept buffer must not leak into a
        // shorter one's gradients, nor a shorter one's into the next longer one.
        let batch = |rows: usize, seed: usize| {
            Array2::from_shape_fn((rows, 3), |(i, j)| {
                ((i * 5 + j * 3 + seed) % 7) as f32 - 3.0
            })
        };
        let relu_layer =
            || FullyConnected::new(3, 4, &mut Xavier::new(1)).with_activation(Activation::ReLU);
        let mut reused = relu_layer();
        for (rows, seed) in [(4, 0), (2, 1), (4, 2)] {
            let x = Value::from(batch(rows, seed));
            let g = Tensor::from_shape_fn(vec![rows, 4], |i| (i[0] * 4 + i[1]) as f32 * 0.5 - 2.0);
            let mut fresh = relu_layer();
            let mut gradients = Vec::new();
            for layer in [&mut reused, &mut fresh] {
                let y = layer.forward(&[&x]).unwrap();
                let input_gradient = layer.backward(&[&x], &y, &g, &[true]);
                gradients.push((
                    input_gradient[0].clone().unwrap(),
                    layer.weight_gradient().unwrap().to_owned(),
                    layer.bias_gradient().unwrap().to_owned(),
                ));
            }
            assert_eq!(gradients[0], gradients[1], "batch of {rows}");
        }
    }

    #[test]
    fn fresh_weights_are_not_all_zero() {
        let layer = FullyConnected::new(50, 42, &mut Xavier::new(0));
        assert!(layer.weights().iter().any(|&w| w != 0.0));
        assert!(layer.bias().iter().all(|&b| b == 0.0));
    }

    #[test]
    fn weights_are_stored_transposed() -> Result<(), LayersError> {
        let mut layer = FullyConnected::new(3, 2, &mut Xavier::new(0));
        let weights = array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]];
        layer.set_weights(weights.view())?;
        assert_eq!(layer.weights(), weights);
        assert_eq!(layer.stored_weights(), weights.t());
        assert!(layer.set_weights(weights.t()).is_err());
        Ok(())
    }

    #[test]
    fn same_seed_same_weights() {
        let a = FullyConnected::new(30, 20, &mut Xavier::new(9));
        let b = FullyConnected::new(30, 20, &mut Xavier::new(9));
        let c = FullyConnected::new(30, 20, &mut Xavier::new(10));
        assert_eq!(a.weights(), b.weights());
        assert_ne!(a.weights(), c.weights());
    }

    #[test]
    fn wrong_input_width_is_an_error() {
        let mut layer = FullyConnected::new(3, 2, &mut Xavier::new(0));
        let error = layer
            .forward(&[&Value::from(array![[1.0f32, 2.0]])])
            .unwrap_err();
        assert!(error.to_string().contains("[1, 2]"), "{error}");
        assert!(layer.infer(array![[1.0f32, 2.0]].view()).is_err());
    }

    #[test]
    fn infer_equals_forward() -> Result<(), Box<dyn std::error::Error>> {
        let mut layer = FullyConnected::new(4, 3, &mut Xavier::new(2));
        layer.set_bias(array![0.1f32, -0.2, 0.3].view())?;
        let x = array![[0.5f32, -1.0, 2.0, 0.0], [1.0, 1.0, 1.0, 1.0]];
        let y = layer.forward(&[&Value::from(x.clone())])?;
        assert_eq!(layer.infer(x.view())?.into_dyn(), y);
        Ok(())
    }
}
