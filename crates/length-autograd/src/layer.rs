//! The [`Layer`] trait: a step of the computation with trainable parameters.
//!
//! As in LENGTH, a layer's backward pass computes the gradients of its inputs *and* of its
//! parameters; the graph then hands the parameter gradients to the optimizer, which turns them
//! into deltas, and the layer applies them (`parameter = parameter - delta`) before the backward
//! pass moves on. So `graph.backward(loss, &mut optimizer)` trains.
//!
//! A layer is not a [`Function`](crate::Function): it is recorded with its own entry point,
//! [`Graph::apply_layer`](crate::Graph::apply_layer), which is how the graph knows to train it.
//! Handing a layer to [`Graph::apply`](crate::Graph::apply), which records parameter-free
//! functions, does not compile, so a layer can never be recorded as a function with no
//! parameters and silently stay untrained:
//!
//! ```compile_fail,E0277
//! # use length_autograd::{AutogradError, Graph, Layer, LayerId, Value};
//! # use length_tensor::Tensor;
//! # use ndarray::{ArrayViewD, ArrayViewMutD};
//! struct Scale { id: LayerId, scale: Tensor }
//!
//! impl Layer for Scale {
//!     fn name(&self) -> &str { "Scale" }
//!     fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> { unimplemented!() }
//!     fn backward(&mut self, _: &[&Value], _: &Tensor, _: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> { unimplemented!() }
//!     fn layer_id(&self) -> LayerId { self.id }
//!     fn parameters(&self) -> Vec<ArrayViewD<'_, f32>> { vec![self.scale.view()] }
//!     fn parameters_mut(&mut self) -> Vec<ArrayViewMutD<'_, f32>> { vec![self.scale.view_mut()] }
//!     fn parameter_gradients(&self) -> Option<Vec<ArrayViewD<'_, f32>>> { None }
//! }
//!
//! let mut layer = Scale { id: LayerId::fresh(), scale: Tensor::ones(vec![2]) };
//! let mut graph = Graph::new();
//! let x = graph.input(ndarray::array![[1.0f32, 2.0]]);
//! // error[E0277]: `Scale` is not a `Function`
//! //   = note: if `Scale` is a `Layer` (a function with parameters), record it with
//! //           `graph.apply_layer(&mut layer, &[x])`, so that the backward pass trains it
//! let y = graph.apply(&mut layer, &[x]);
//! ```

use length_tensor::Tensor;
use ndarray::{ArrayViewD, ArrayViewMutD};

use crate::{AutogradError, LayerId, Optimizer, Value};

/// A step of the computation with parameters that an [`Optimizer`] trains, recorded with
/// [`Graph::apply_layer`](crate::Graph::apply_layer).
///
/// Implement `name`, `forward` and `backward` as for a [`Function`](crate::Function) (backward
/// also computes the parameter gradients and keeps them), then say what the parameters are:
/// [`layer_id`](Layer::layer_id), [`parameters`](Layer::parameters),
/// [`parameters_mut`](Layer::parameters_mut) and
/// [`parameter_gradients`](Layer::parameter_gradients). The update itself has defaults (LENGTH's
/// `run_update_rule`, then `parameter -= delta`).
///
/// Here is a layer of your own, a per-feature scale and shift `y = x·s + t`, checked against
/// numerical gradients and trained towards `y = 2x + 1`:
///
/// ```
/// use length_autograd::functions::MeanSquaredError;
/// use length_autograd::{
///     check_layer_gradients, inputs, AutogradError, Graph, Layer, LayerId, Tolerance, Value,
/// };
/// use length_tensor::Tensor;
/// use ndarray::{array, ArrayViewD, ArrayViewMutD, Axis};
/// # use length_autograd::{ElementwiseOptimizer, LayerStates, LearningRate};
/// # struct Sgd(f32, LayerStates);
/// # impl ElementwiseOptimizer for Sgd {
/// #     const NAME: &'static str = "SGD";
/// #     type State = [f32; 0];
/// #     type Step = f32;
/// #     fn step(&self, _: u64) -> f32 { self.0 }
/// #     fn delta(learning_rate: f32, _: f32, g: f32, _: &mut [f32; 0]) -> f32 { learning_rate * g }
/// #     fn layer_states(&self) -> &LayerStates { &self.1 }
/// #     fn layer_states_mut(&mut self) -> &mut LayerStates { &mut self.1 }
/// # }
/// # impl LearningRate for Sgd {
/// #     fn learning_rate(&self) -> f32 { self.0 }
/// #     fn set_learning_rate(&mut self, learning_rate: f32) { self.0 = learning_rate }
/// # }
///
/// struct ScaleShift {
///     id: LayerId,
///     scale: Tensor,                     // s, one per feature
///     shift: Tensor,                     // t, one per feature
///     gradients: Option<[Tensor; 2]>,    // ∂L/∂s and ∂L/∂t of the last backward pass
/// }
///
/// impl Layer for ScaleShift {
///     fn name(&self) -> &str {
///         "ScaleShift"
///     }
///
///     fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
///         inputs::expect_count("ScaleShift", inputs, 1);
///         let x = inputs::tensor("ScaleShift", inputs, 0)?;
///         Ok(x * &self.scale + &self.shift)
///     }
///
///     fn backward(
///         &mut self,
///         inputs: &[&Value],
///         _output: &Tensor,
///         g: &Tensor,
///         _needs_gradient: &[bool],
///     ) -> Vec<Option<Tensor>> {
///         let x = inputs[0].as_tensor().expect("forward checked it");
///         let scale_gradient = (g * x).sum_axis(Axis(0)); // Σ over samples of g·x
///         let shift_gradient = g.sum_axis(Axis(0)); // Σ over samples of g
///         self.gradients = Some([scale_gradient, shift_gradient]);
///         vec![Some(g * &self.scale)] // ∂L/∂x = g·s
///     }
///
///     fn layer_id(&self) -> LayerId {
///         self.id
///     }
///
///     fn parameters(&self) -> Vec<ArrayViewD<'_, f32>> {
///         vec![self.scale.view(), self.shift.view()]
///     }
///
///     fn parameters_mut(&mut self) -> Vec<ArrayViewMutD<'_, f32>> {
///         vec![self.scale.view_mut(), self.shift.view_mut()]
///     }
///
///     fn parameter_gradients(&self) -> Option<Vec<ArrayViewD<'_, f32>>> {
///         self.gradients.as_ref().map(|[s, t]| vec![s.view(), t.view()])
///     }
/// }
///
/// let mut layer = ScaleShift {
///     id: LayerId::fresh(),
///     scale: array![0.5f32, -0.5].into_dyn(),
///     shift: array![0.0f32, 0.0].into_dyn(),
///     gradients: None,
/// };
/// let x = array![[1.0f32, -1.0], [0.5, 2.0], [-1.5, 0.0]].into_dyn();
/// let target = x.mapv(|x| 2.0 * x + 1.0);
///
/// // Its input and parameter gradients agree with the numerical ones ...
/// let g = array![[1.0f32, 2.0], [-1.0, 0.5], [0.25, 1.0]].into_dyn();
/// check_layer_gradients(&mut layer, &[Value::from(x.clone())], &g, Tolerance::default())
///     .unwrap();
///
/// // ... and it trains.
/// let mut sgd = Sgd(0.1, LayerStates::new());
/// let mut losses = Vec::new();
/// for _ in 0..50 {
///     let mut graph = Graph::new();
///     let input = graph.constant(x.clone());
///     let t = graph.constant(target.clone());
///     let y = graph.apply_layer(&mut layer, &[input])?;
///     let loss = graph.apply(MeanSquaredError, &[y, t])?;
///     losses.push(graph.scalar(loss));
///     graph.backward(loss, &mut sgd);
/// }
/// assert!(losses[49] < 0.01 * losses[0], "{} -> {}", losses[0], losses[49]);
/// assert!((layer.scale[0] - 2.0).abs() < 0.1 && (layer.shift[0] - 1.0).abs() < 0.1);
/// # Ok::<(), AutogradError>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Layer`",
    label = "not a `Layer`",
    note = "a function without parameters is recorded with `graph.apply(function, &[x])`"
)]
pub trait Layer {
    /// The name shown by [`Graph::visualize`](crate::Graph::visualize), e.g.
    /// `"FullyConnected"`.
    fn name(&self) -> &str;

    /// Computes the output from the inputs, as [`Function::forward`](crate::Function::forward).
    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError>;

    /// Computes one gradient per input, as [`Function::backward`](crate::Function::backward),
    /// and the gradients of the parameters, which the layer keeps for
    /// [`parameter_gradients`](Layer::parameter_gradients).
    fn backward(
        &mut self,
        inputs: &[&Value],
        output: &Tensor,
        output_gradient: &Tensor,
        needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>>;

    /// The name an optimizer keeps this layer's state under.
    fn layer_id(&self) -> LayerId;

    /// The parameters, in a fixed order (for a fully connected layer: weights, then bias).
    fn parameters(&self) -> Vec<ArrayViewD<'_, f32>>;

    /// The parameters in the order of [`parameters`](Layer::parameters), to change in place (by
    /// an update, or by [`check_layer_gradients`](crate::check_layer_gradients)).
    fn parameters_mut(&mut self) -> Vec<ArrayViewMutD<'_, f32>>;

    /// The gradients of the parameters from the last backward pass, in the order of
    /// [`parameters`](Layer::parameters); `None` when the layer has not kept them (before its
    /// first backward pass, or after a pass that applied the optimizer's step on the way without
    /// storing them, see [`backward_and_update`](Layer::backward_and_update)).
    fn parameter_gradients(&self) -> Option<Vec<ArrayViewD<'_, f32>>>;

    /// LENGTH's `internal_update`: `parameter[i] -= deltas[i]` for every parameter.
    ///
    /// # Panics
    /// If the number or the shapes of the deltas differ from the parameters'.
    fn apply_update(&mut self, deltas: &[Tensor]) {
        let name = self.name().to_string();
        let mut parameters = self.parameters_mut();
        assert_eq!(
            parameters.len(),
            deltas.len(),
            "{name} has {} parameters but got {} deltas",
            parameters.len(),
            deltas.len()
        );
        for (index, (parameter, delta)) in parameters.iter_mut().zip(deltas).enumerate() {
            assert_eq!(
                parameter.shape(),
                delta.shape(),
                "{name}: parameter {index} is {:?} but its delta is {:?}",
                parameter.shape(),
                delta.shape()
            );
            *parameter -= delta;
        }
    }

    /// The backward pass and the update in one, when the layer can apply `optimizer`'s step
    /// while it computes its parameter gradients (see [`Optimizer::begin_elementwise_step`]):
    /// returns the input gradients as [`backward`](Layer::backward) does, with the parameters
    /// already updated. `None` (the default) when it cannot; the graph then calls `backward` and
    /// [`update`](Layer::update).
    fn backward_and_update(
        &mut self,
        inputs: &[&Value],
        output: &Tensor,
        output_gradient: &Tensor,
        needs_gradient: &[bool],
        optimizer: &mut dyn Optimizer,
    ) -> Option<Vec<Option<Tensor>>> {
        let _ = (inputs, output, output_gradient, needs_gradient, optimizer);
        None
    }

    /// Hands the parameter gradients of the last backward pass to `optimizer` and applies its
    /// update.
    ///
    /// The default asks for deltas with [`Optimizer::run_update_rule`] and applies them with
    /// [`apply_update`](Layer::apply_update), exactly as LENGTH does. Layers may override it to
    /// call [`Optimizer::update`] on their parameters in place, which allocates nothing.
    ///
    /// # Panics
    /// If the layer has kept no parameter gradients.
    fn update(&mut self, optimizer: &mut dyn Optimizer) {
        let deltas = {
            let gradients = self.parameter_gradients().unwrap_or_else(|| {
                panic!(
                    "{}::update: no parameter gradients kept; run a backward pass first",
                    self.name()
                )
            });
            optimizer.run_update_rule(&gradients, self.layer_id())
        };
        self.apply_update(&deltas);
    }
}
