//! The tape: every value of one forward pass, and the functions that made them.
//!
//! A [`Graph`] is two vectors. `nodes` holds values (with their gradient once backward has run);
//! `ops` holds each applied function with the ids of its input nodes and of its output node. A
//! node's *creator* is the op that produced it; inputs and labels have none. Because an op can
//! only use nodes that exist when it is applied, the order of `ops` is already a topological
//! order, and the backward pass (in `backward.rs`) simply walks it in reverse.

use std::borrow::Cow;

use length_tensor::{Labels, Tensor};
use ndarray::{Array, Dimension};

use crate::{AutogradError, Function, Layer, Value, pool};

/// A handle to a node of a [`Graph`]: a plain index, cheap to copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) usize);

impl NodeId {
    /// The position of the node in its graph (0 for the first node added).
    pub fn index(self) -> usize {
        self.0
    }
}

/// One value of the computation: LENGTH's `Graph` object.
pub(crate) struct Node {
    /// The data: the input, or what the creator computed.
    pub(crate) value: Value,
    /// The gradient of the backward pass's output with respect to this value.
    pub(crate) gradient: Option<Tensor>,
    /// The op that computed this value; `None` for inputs and labels.
    pub(crate) creator: Option<usize>,
    /// Whether backward computes this node's gradient: true for tensors that are inputs with
    /// gradient, that depend on one, or that a layer produced.
    pub(crate) needs_gradient: bool,
    /// The name of an input, shown as `input[name]`; unused for computed values.
    pub(crate) name: Cow<'static, str>,
}

/// A node's arrays go back to the [`pool`] when the graph drops it, for the next
/// step's functions to fill again.
impl Drop for Node {
    fn drop(&mut self) {
        if let Value::Tensor(value) = &mut self.value {
            pool::recycle(std::mem::take(value));
        }
        if let Some(gradient) = self.gradient.take() {
            pool::recycle(gradient);
        }
    }
}

/// One application of a function or a layer: which nodes went in, which node came out.
pub(crate) struct Op<'a> {
    pub(crate) step: Step<'a>,
    pub(crate) inputs: Vec<NodeId>,
    pub(crate) output: NodeId,
}

/// What an op applied: a function (owned or borrowed), or a borrowed layer, which the backward
/// pass trains.
pub(crate) enum Step<'a> {
    Function(Box<dyn Function + 'a>),
    Layer(&'a mut dyn Layer),
}

impl Step<'_> {
    /// The name of the function or layer.
    pub(crate) fn name(&self) -> &str {
        match self {
            Step::Function(function) => function.name(),
            Step::Layer(layer) => layer.name(),
        }
    }
}

/// The computational graph of one training step (or one evaluation).
///
/// It owns every value computed in the step and borrows, for its lifetime `'a`, the layers it
/// applies: see the crate documentation for why. Build it with [`input`](Graph::input),
/// [`labels`](Graph::labels), [`apply`](Graph::apply) (functions) and
/// [`apply_layer`](Graph::apply_layer) (layers); run
/// [`backward`](Graph::backward) on the loss; read results with [`value`](Graph::value),
/// [`scalar`](Graph::scalar) and [`gradient`](Graph::gradient).
///
/// ```
/// use length_autograd::{functions::{Add, Sum}, Graph};
/// use ndarray::array;
///
/// let mut graph = Graph::new();
/// let a = graph.input(array![1.0f32, 2.0]);
/// let b = graph.input(array![3.0f32, 4.0]);
/// let c = graph.apply(Add, &[a, b])?;
/// let total = graph.apply(Sum, &[c])?;
/// assert_eq!(graph.scalar(total), 10.0);
///
/// graph.backward_gradients_only(total);
/// assert_eq!(graph.gradient(a).unwrap(), &array![1.0f32, 1.0].into_dyn());
/// # Ok::<(), length_autograd::AutogradError>(())
/// ```
#[derive(Default)]
pub struct Graph<'a> {
    pub(crate) nodes: Vec<Node>,
    pub(crate) ops: Vec<Op<'a>>,
}

impl<'a> Graph<'a> {
    /// An empty graph.
    pub fn new() -> Self {
        Graph::default()
    }

    /// Adds an input named `data` that receives a gradient in the backward pass. The array is
    /// moved in, not copied; any `f32` array works (`Matrix`, `Tensor`, `Array1`, ...).
    pub fn input<D: Dimension>(&mut self, data: Array<f32, D>) -> NodeId {
        self.input_named("data", data)
    }

    /// Adds an input shown as `input[name]` in [`visualize`](Graph::visualize); it receives a
    /// gradient in the backward pass.
    pub fn input_named<D: Dimension>(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        data: Array<f32, D>,
    ) -> NodeId {
        self.push_leaf(name.into(), Value::from(data), true)
    }

    /// Adds an input that gets *no* gradient, such as a batch of training images: the backward
    /// pass then skips computing the gradient of the first layer's input, a third of that
    /// layer's backward work. Shown as `input[data]`.
    pub fn constant<D: Dimension>(&mut self, data: Array<f32, D>) -> NodeId {
        self.push_leaf(Cow::Borrowed("data"), Value::from(data), false)
    }

    /// Adds integer class labels (never a gradient), shown as `input[labels]`.
    pub fn labels(&mut self, labels: Labels) -> NodeId {
        self.push_leaf(Cow::Borrowed("labels"), Value::Labels(labels), false)
    }

    fn push_leaf(&mut self, name: Cow<'static, str>, value: Value, needs_gradient: bool) -> NodeId {
        let needs_gradient = needs_gradient && matches!(value, Value::Tensor(_));
        self.nodes.push(Node {
            value,
            gradient: None,
            creator: None,
            needs_gradient,
            name,
        });
        NodeId(self.nodes.len() - 1)
    }

    /// Runs `function` forward on the values of `inputs` and records it, returning the node of
    /// its output.
    ///
    /// Pass functions by value (`graph.apply(ReLU, &[h])`) or, when they keep state from step
    /// to step, by mutable reference (`graph.apply(&mut dropout, &[h])`). A [`Layer`] is recorded
    /// with [`apply_layer`](Graph::apply_layer) instead, so that the backward pass trains it.
    ///
    /// # Errors
    /// Whatever the function's `forward` reports: shapes that do not fit, labels out of range.
    ///
    /// # Panics
    /// If an id belongs to no node of this graph, or the function takes another number of inputs.
    pub fn apply(
        &mut self,
        mut function: impl Function + 'a,
        inputs: &[NodeId],
    ) -> Result<NodeId, AutogradError> {
        let output = function.forward(&self.values(inputs))?;
        let needs_gradient = inputs.iter().any(|&id| self.nodes[id.0].needs_gradient);
        Ok(self.record(
            Step::Function(Box::new(function)),
            inputs,
            output,
            needs_gradient,
        ))
    }

    /// Runs `layer` forward on the values of `inputs` and records it, returning the node of its
    /// output: LENGTH's `layer(x)`. The graph borrows the layer until it is dropped, and
    /// [`backward`](Graph::backward) trains it (hands its parameter gradients to the optimizer
    /// and applies the update).
    ///
    /// ```
    /// use length_autograd::{Graph, Layer};
    /// # use length_autograd::{AutogradError, LayerId, Value};
    /// # use length_tensor::Tensor;
    /// # use ndarray::{ArrayViewD, ArrayViewMutD};
    /// # struct Double(LayerId, Tensor);
    /// # impl Layer for Double {
    /// #     fn name(&self) -> &str { "Double" }
    /// #     fn forward(&mut self, x: &[&Value]) -> Result<Tensor, AutogradError> { Ok(x[0].as_tensor().unwrap() * 2.0) }
    /// #     fn backward(&mut self, _: &[&Value], _: &Tensor, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> { vec![Some(g * 2.0)] }
    /// #     fn layer_id(&self) -> LayerId { self.0 }
    /// #     fn parameters(&self) -> Vec<ArrayViewD<'_, f32>> { vec![self.1.view()] }
    /// #     fn parameters_mut(&mut self) -> Vec<ArrayViewMutD<'_, f32>> { vec![self.1.view_mut()] }
    /// #     fn parameter_gradients(&self) -> Option<Vec<ArrayViewD<'_, f32>>> { None }
    /// # }
    /// # let mut layer = Double(LayerId::fresh(), Tensor::zeros(vec![1]));
    /// let mut graph = Graph::new();
    /// let x = graph.input(ndarray::array![1.0f32, 2.0]);
    /// let y = graph.apply_layer(&mut layer, &[x])?; // any type that implements `Layer`
    /// assert_eq!(graph.creator_name(y), Some("Double"));
    /// # Ok::<(), length_autograd::AutogradError>(())
    /// ```
    ///
    /// # Errors
    /// Whatever the layer's `forward` reports: shapes that do not fit.
    ///
    /// # Panics
    /// If an id belongs to no node of this graph, or the layer takes another number of inputs.
    pub fn apply_layer(
        &mut self,
        layer: &'a mut dyn Layer,
        inputs: &[NodeId],
    ) -> Result<NodeId, AutogradError> {
        let output = layer.forward(&self.values(inputs))?;
        // A layer's output always gets a gradient: its parameters need it.
        Ok(self.record(Step::Layer(layer), inputs, output, true))
    }

    /// The values of `inputs`, for a forward pass.
    fn values(&self, inputs: &[NodeId]) -> Vec<&Value> {
        inputs.iter().map(|&id| &self.node(id).value).collect()
    }

    /// Appends the output node and the op that computed it.
    fn record(
        &mut self,
        step: Step<'a>,
        inputs: &[NodeId],
        output: Tensor,
        needs_gradient: bool,
    ) -> NodeId {
        self.nodes.push(Node {
            value: Value::Tensor(output),
            gradient: None,
            creator: Some(self.ops.len()),
            needs_gradient,
            name: Cow::Borrowed(""),
        });
        let output = NodeId(self.nodes.len() - 1);
        self.ops.push(Op {
            step,
            inputs: inputs.to_vec(),
            output,
        });
        output
    }

    /// The value of a node: its tensor.
    ///
    /// # Panics
    /// If the node holds labels (read them with [`data`](Graph::data)).
    pub fn value(&self, id: NodeId) -> &Tensor {
        match &self.node(id).value {
            Value::Tensor(tensor) => tensor,
            Value::Labels(_) => panic!("node {} holds labels, not a tensor", id.0),
        }
    }

    /// The data of a node, tensor or labels.
    pub fn data(&self, id: NodeId) -> &Value {
        &self.node(id).value
    }

    /// The single number a node holds, such as a loss or an accuracy.
    ///
    /// # Panics
    /// If the node holds labels or more than one number.
    pub fn scalar(&self, id: NodeId) -> f32 {
        let tensor = self.value(id);
        assert_eq!(
            tensor.len(),
            1,
            "node {} has shape {:?}, not a single number",
            id.0,
            tensor.shape()
        );
        tensor.iter().next().copied().unwrap_or_default()
    }

    /// The gradient a node received in the last backward pass; `None` before backward, for
    /// labels and constants, and for nodes the output does not depend on.
    pub fn gradient(&self, id: NodeId) -> Option<&Tensor> {
        self.node(id).gradient.as_ref()
    }

    /// Sets the gradient the next backward pass starts from at `id` (LENGTH's `h.grad = 2`);
    /// without it, backward starts from 1.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn set_gradient(&mut self, id: NodeId, gradient: Tensor) {
        let node = self.node_mut(id);
        assert_eq!(
            node.value.shape(),
            gradient.shape(),
            "set_gradient: node {} has shape {:?} but the gradient has shape {:?}",
            id.0,
            node.value.shape(),
            gradient.shape()
        );
        node.gradient = Some(gradient);
    }

    /// The number of nodes (inputs, labels and computed values).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the graph has no nodes yet.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The name of the function that computed a node, or `None` for inputs and labels.
    pub fn creator_name(&self, id: NodeId) -> Option<&str> {
        self.node(id).creator.map(|op| self.ops[op].step.name())
    }

    /// The inputs of the function that computed a node (empty for inputs and labels).
    pub fn creator_inputs(&self, id: NodeId) -> &[NodeId] {
        match self.node(id).creator {
            Some(op) => &self.ops[op].inputs,
            None => &[],
        }
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node {
        self.nodes.get(id.0).unwrap_or_else(|| {
            panic!(
                "node {} does not exist: this graph has {} nodes (an id from another graph?)",
                id.0,
                self.nodes.len()
            )
        })
    }

    fn node_mut(&mut self, id: NodeId) -> &mut Node {
        let count = self.nodes.len();
        self.nodes.get_mut(id.0).unwrap_or_else(|| {
            panic!(
                "node {} does not exist: this graph has {count} nodes (an id from another graph?)",
                id.0
            )
        })
    }
}
