//! # length-autograd
//!
//! LENGTH's computational graph: values, the functions that compute them, and the backward pass
//! that differentiates them, in the spirit of micrograd: a tape and a reverse walk.
//!
//! - [`Graph`]: the tape of one step. [`Graph::input`], [`Graph::labels`], [`Graph::apply`]
//!   (functions) and [`Graph::apply_layer`] (layers) record the forward pass; [`Graph::backward`]
//!   computes gradients and trains the layers; [`Graph::visualize`] prints LENGTH's table and
//!   [`Graph::to_dot`] a Graphviz picture.
//! - LENGTH's functional API as graph methods, each one line over [`Graph::apply`]:
//!   `graph.relu(h)?` for `F.relu(h)`, and [`add`](Graph::add), [`sum`](Graph::sum),
//!   [`sigmoid`](Graph::sigmoid), [`softmax`](Graph::softmax),
//!   [`mean_squared_error`](Graph::mean_squared_error),
//!   [`softmax_cross_entropy`](Graph::softmax_cross_entropy), [`accuracy`](Graph::accuracy).
//!   [`Graph::matrix`] and [`Graph::gradient_matrix`] read a node as (rows, columns).
//! - [`Function`]: forward and backward of one step without parameters ([`functions`] has
//!   LENGTH's: add, sum, ReLU, sigmoid, softmax, softmax cross-entropy, mean squared error,
//!   accuracy, dropout).
//! - [`Layer`]: a step with parameters, which it updates with an [`Optimizer`] during the
//!   backward pass. It is a trait of its own, recorded with [`Graph::apply_layer`]: a layer handed
//!   to [`Graph::apply`] does not compile, so none can be recorded as a parameter-free function
//!   and silently stay untrained. [`Initializer`] gives parameters their first values. (Layers,
//!   initializers and models live in `length-layers`, optimizers in `length-optim`.)
//! - [`Optimizer`]: LENGTH's `run_update_rule(gradients, layer) -> deltas`. An element-wise rule
//!   implements [`ElementwiseOptimizer`] instead, stating its rule once per element, and gets the
//!   in-place and fused update paths from it; [`LayerStates`] keeps its per-layer state.
//! - The gradient checker: [`compute_numerical_gradient`], [`assert_allclose`],
//!   [`check_gradients`] (a function's input gradients) and [`check_layer_gradients`] (a layer's
//!   input and parameter gradients), to test any step against the definition of the derivative.
//!
//! ## Who owns what
//!
//! A [`Graph`] lives for one training step. It *owns* every value computed in that step (moved
//! in, never copied: `graph.input(batch)` takes the batch) and every gradient, in a vector of
//! nodes; [`NodeId`]s are plain indices into it, `Copy` and free to pass around. Stateless
//! functions (`ReLU`, the losses) are moved into the graph too. Layers are not: they live in the
//! model across steps, and the graph *borrows* them mutably
//! (`graph.apply_layer(&mut fc1, &[x])`) for its lifetime `'a`. So while a step runs, the borrow
//! checker guarantees that nothing else reads or writes the parameters the backward pass is
//! updating, and that no layer is applied twice in one step (LENGTH's update-during-backward
//! would be wrong then). When the graph is dropped, the values go with it and the layers are
//! free again, updated.
//!
//! There are no reference-counted cells: the backward pass walks the op list in reverse and
//! indexes the node vector.
//!
//! ## Where a step's arrays come from
//!
//! Every training step computes arrays of the same shapes again. Rather than allocating them
//! afresh, functions take their outputs from the [`pool`] (`pool::take(shape)`, contents to be
//! overwritten), and when a graph is dropped, each node hands its value and gradient back to the
//! pool (`pool::recycle`). The next step's functions get the same buffers, still warm in the
//! cache; after the first step a training loop allocates almost nothing. The pool is one per
//! thread, bounded in buffers and bytes; the [`Function`] trait does not change for it: a
//! function you write may allocate its output any way it likes, and its arrays are recycled too.
//!
//! ## Example
//!
//! ```
//! use length_autograd::{functions::{MeanSquaredError, ReLU}, Graph};
//! use ndarray::array;
//!
//! let mut graph = Graph::new();
//! let x = graph.input(array![[-1.0f32, 2.0], [3.0, -4.0]]);
//! let t = graph.labels(array![1, 0]);
//! let h = graph.apply(ReLU, &[x])?;
//! let loss = graph.apply(MeanSquaredError, &[h, t])?; // labels become one-hot targets
//! assert_eq!(graph.scalar(loss), (0.0 + 1.0 + 4.0 + 0.0) / 4.0);
//!
//! graph.backward_gradients_only(loss); // graph.backward(loss, &mut optimizer) also trains
//! // ∂L/∂x = 2 (relu(x) − t) / 4 where x > 0, else 0
//! assert_eq!(graph.gradient(x).unwrap(), &array![[0.0f32, 0.5], [1.0, 0.0]].into_dyn());
//! assert!(graph.gradient(t).is_none()); // labels get no gradient
//!
//! println!("{}", graph.visualize(loss));
//! # Ok::<(), length_autograd::AutogradError>(())
//! ```

mod backward;
mod elementwise;
mod error;
mod function;
mod functional;
pub mod functions;
mod gradient_check;
mod graph;
mod initializer;
pub mod inputs;
mod layer;
mod layer_states;
mod matrix_views;
mod optimizer;
pub mod pool;
mod value;
mod visualize;

pub use elementwise::{ElementState, ElementwiseOptimizer};
pub use error::AutogradError;
pub use function::Function;
pub use gradient_check::{
    Tolerance, assert_allclose, assert_allclose_tol, check_allclose, check_gradients,
    check_layer_gradients, compute_numerical_gradient,
};
pub use graph::{Graph, NodeId};
pub use initializer::Initializer;
pub use layer::Layer;
pub use layer_states::LayerStates;
pub use optimizer::{ElementwiseStep, LayerId, LearningRate, Optimizer};
pub use value::Value;
