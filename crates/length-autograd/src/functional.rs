//! LENGTH's functional API as methods of [`Graph`]: `graph.relu(h)?` for `F.relu(h)`.
//!
//! LENGTH's users write `F.relu(x)` and `F.mean_squared_error(y, t)`; here every stateless
//! function of [`functions`](crate::functions) has a method of the same name on the graph that
//! applies it, so a forward pass reads like the Python one. Each method is one line over
//! [`Graph::apply`]: the function's definition stays in its own file, and
//! `graph.relu(h)?` records exactly what `graph.apply(ReLU, &[h])?` records.
//!
//! [`Dropout`](crate::functions::Dropout) has no method here: it keeps a random generator and a
//! training switch between steps, so it lives in the model and is applied with
//! `graph.apply(&mut dropout, &[h])`.

use crate::functions::{
    Accuracy, Add, MeanSquaredError, ReLU, Sigmoid, Softmax, SoftmaxCrossEntropy, Sum,
};
use crate::{AutogradError, Graph, NodeId};

/// # LENGTH's functional API
///
/// | LENGTH | here | computes |
/// |---|---|---|
/// | `F.add(a, b)` | [`graph.add(a, b)?`](Graph::add) | `a + b` element-wise |
/// | `F.sum(x)` | [`graph.sum(x)?`](Graph::sum) | `Σ x`, a scalar |
/// | `F.relu(x)` | [`graph.relu(x)?`](Graph::relu) | `max(x, 0)` |
/// | `F.sigmoid(x)` | [`graph.sigmoid(x)?`](Graph::sigmoid) | `1 / (1 + e⁻ˣ)` |
/// | `F.softmax(x)` | [`graph.softmax(x)?`](Graph::softmax) | `eˣ / Σ eˣ` per row |
/// | `F.mean_squared_error(x, t)` | [`graph.mean_squared_error(x, t)?`](Graph::mean_squared_error) | `mean (x − t)²` |
/// | `F.softmax_cross_entropy(x, t)` | [`graph.softmax_cross_entropy(x, t)?`](Graph::softmax_cross_entropy) | `mean −log softmax(x)[t]` |
/// | `F.accuracy(x, t)` | [`graph.accuracy(x, t)?`](Graph::accuracy) | `mean [argmax x = t]` |
///
/// Each is `graph.apply(Function, &[inputs])` for the function of the same name in
/// [`functions`](crate::functions), whose page has the formulas of its backward pass.
///
/// ```
/// use length_autograd::Graph;
/// use ndarray::array;
///
/// let mut graph = Graph::new();
/// let x = graph.input(array![[1.0f32, -2.0], [-1.5, 3.0]]);
/// let bias = graph.input(array![[0.5f32, 0.5], [0.5, 0.5]]);
/// let t = graph.labels(array![0, 1]);
///
/// let h = graph.add(x, bias)?; // [[1.5, -1.5], [-1.0, 3.5]]
/// let h = graph.relu(h)?; //      [[1.5,  0.0], [ 0.0, 3.5]]
/// assert_eq!(graph.matrix(h), array![[1.5f32, 0.0], [0.0, 3.5]]);
/// let total = graph.sum(h)?;
/// assert_eq!(graph.scalar(total), 5.0);
/// let accuracy = graph.accuracy(h, t)?;
/// assert_eq!(graph.scalar(accuracy), 1.0); // both rows peak at their label
///
/// let probabilities = graph.softmax(h)?;
/// let squashed = graph.sigmoid(h)?;
/// assert_eq!(graph.matrix(squashed)[(0, 1)], 0.5); // sigmoid(0)
/// let mse = graph.mean_squared_error(probabilities, t)?; // labels stand for one-hot targets
/// assert!(graph.scalar(mse) > 0.0 && graph.scalar(mse) < 0.25);
///
/// let loss = graph.softmax_cross_entropy(h, t)?;
/// graph.backward_gradients_only(loss);
/// // ∂L/∂h = (softmax(h) − onehot(t)) / 2, which is negative at each label.
/// let dh = graph.gradient_matrix(h).expect("h is on the path to the loss");
/// assert!(dh[(0, 0)] < 0.0 && dh[(1, 1)] < 0.0);
/// // The bias was added, so it gets ReLU's gradient of h.
/// assert_eq!(graph.gradient_matrix(bias).unwrap()[(0, 1)], 0.0);
/// # Ok::<(), length_autograd::AutogradError>(())
/// ```
impl Graph<'_> {
    /// `a + b` element by element ([`Add`]), LENGTH's `F.add(a, b)`.
    ///
    /// # Errors
    /// If the shapes differ (there is no broadcasting) or an input is labels.
    pub fn add(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, AutogradError> {
        self.apply(Add, &[a, b])
    }

    /// The sum of every element, a scalar ([`Sum`]), LENGTH's `F.sum(x)`.
    ///
    /// # Errors
    /// If `x` is labels.
    pub fn sum(&mut self, x: NodeId) -> Result<NodeId, AutogradError> {
        self.apply(Sum, &[x])
    }

    /// `max(x, 0)` element by element ([`ReLU`]), LENGTH's `F.relu(x)`.
    ///
    /// # Errors
    /// If `x` is labels.
    pub fn relu(&mut self, x: NodeId) -> Result<NodeId, AutogradError> {
        self.apply(ReLU, &[x])
    }

    /// `1 / (1 + e⁻ˣ)` element by element ([`Sigmoid`]), LENGTH's `F.sigmoid(x)`.
    ///
    /// # Errors
    /// If `x` is labels.
    pub fn sigmoid(&mut self, x: NodeId) -> Result<NodeId, AutogradError> {
        self.apply(Sigmoid, &[x])
    }

    /// The softmax of each row of a (samples, classes) matrix ([`Softmax`]), LENGTH's
    /// `F.softmax(x)`.
    ///
    /// # Errors
    /// If `x` is labels or not two-dimensional.
    pub fn softmax(&mut self, x: NodeId) -> Result<NodeId, AutogradError> {
        self.apply(Softmax, &[x])
    }

    /// The mean of `(x − target)²` over all elements, a scalar ([`MeanSquaredError`]),
    /// LENGTH's `F.mean_squared_error(x, t)`. The target is a tensor of `x`'s shape, or one
    /// label per row of `x`, which stands for the one-hot matrix.
    ///
    /// # Errors
    /// If the shapes do not fit or a label is out of range.
    pub fn mean_squared_error(
        &mut self,
        x: NodeId,
        target: NodeId,
    ) -> Result<NodeId, AutogradError> {
        self.apply(MeanSquaredError, &[x, target])
    }

    /// The mean over the batch of `−log softmax(scores)[label]`, a scalar
    /// ([`SoftmaxCrossEntropy`]), LENGTH's `F.softmax_cross_entropy(x, t)`.
    ///
    /// # Errors
    /// If `scores` is not (samples, classes), there is not one label per sample, or a label is
    /// out of range.
    pub fn softmax_cross_entropy(
        &mut self,
        scores: NodeId,
        labels: NodeId,
    ) -> Result<NodeId, AutogradError> {
        self.apply(SoftmaxCrossEntropy, &[scores, labels])
    }

    /// The fraction of samples whose highest score is at their label, a scalar in `[0, 1]`
    /// ([`Accuracy`]), LENGTH's `F.accuracy(x, t)`. It passes no gradient back.
    ///
    /// # Errors
    /// As [`softmax_cross_entropy`](Graph::softmax_cross_entropy).
    pub fn accuracy(&mut self, scores: NodeId, labels: NodeId) -> Result<NodeId, AutogradError> {
        self.apply(Accuracy, &[scores, labels])
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::Function;

    /// A graph with a (2, 3) tensor `x`, a second tensor `y` of its shape and labels `t`.
    fn graph_with_inputs() -> (Graph<'static>, [NodeId; 3]) {
        let mut graph = Graph::new();
        let x = graph.input(array![[0.5f32, -1.0, 2.0], [-0.25, 1.5, 0.0]]);
        let y = graph.input(array![[1.0f32, 2.0, -3.0], [0.5, -0.5, 4.0]]);
        let t = graph.labels(array![2, 1]);
        (graph, [x, y, t])
    }

    /// Checks that `helper` records exactly what `graph.apply(function, inputs)` records: the
    /// same function, the same inputs, the same value, and the same gradients after backward.
    fn assert_same_as_apply(
        function: impl Function + Copy + 'static,
        inputs: &[usize],
        helper: impl Fn(&mut Graph<'static>, &[NodeId]) -> Result<NodeId, AutogradError>,
    ) {
        let (mut by_helper, ids) = graph_with_inputs();
        let (mut by_apply, _) = graph_with_inputs();
        let inputs: Vec<NodeId> = inputs.iter().map(|&i| ids[i]).collect();
        let a = helper(&mut by_helper, &inputs).unwrap();
        let b = by_apply.apply(function, &inputs).unwrap();
        assert_eq!(by_helper.creator_name(a), Some(function.name()));
        assert_eq!(by_helper.creator_inputs(a), by_apply.creator_inputs(b));
        assert_eq!(by_helper.value(a), by_apply.value(b));
        if by_helper.value(a).ndim() == 0 && function.name() != "Accuracy" {
            by_helper.backward_gradients_only(a);
            by_apply.backward_gradients_only(b);
            for &input in &inputs {
                assert_eq!(by_helper.gradient(input), by_apply.gradient(input));
            }
        }
    }

    #[test]
    fn each_helper_records_what_apply_records() {
        assert_same_as_apply(Add, &[0, 1], |g, n| g.add(n[0], n[1]));
        assert_same_as_apply(Sum, &[0], |g, n| g.sum(n[0]));
        assert_same_as_apply(ReLU, &[0], |g, n| g.relu(n[0]));
        assert_same_as_apply(Sigmoid, &[0], |g, n| g.sigmoid(n[0]));
        assert_same_as_apply(Softmax, &[0], |g, n| g.softmax(n[0]));
        assert_same_as_apply(MeanSquaredError, &[0, 1], |g, n| {
            g.mean_squared_error(n[0], n[1])
        });
        assert_same_as_apply(MeanSquaredError, &[0, 2], |g, n| {
            g.mean_squared_error(n[0], n[1])
        });
        assert_same_as_apply(SoftmaxCrossEntropy, &[0, 2], |g, n| {
            g.softmax_cross_entropy(n[0], n[1])
        });
        assert_same_as_apply(Accuracy, &[0, 2], |g, n| g.accuracy(n[0], n[1]));
    }

    #[test]
    fn helpers_report_the_errors_of_their_function() {
        let (mut graph, [x, _, t]) = graph_with_inputs();
        let scalar = graph.sum(x).unwrap();
        assert!(matches!(
            graph.relu(t),
            Err(AutogradError::WrongInputKind {
                expected: "a tensor",
                got: "labels",
                ..
            })
        ));
        assert!(matches!(
            graph.add(x, scalar),
            Err(AutogradError::ShapeMismatch { .. })
        ));
        let wide = graph.labels(array![3, 0]); // x has 3 columns: label 3 names none
        assert!(matches!(
            graph.softmax_cross_entropy(x, wide),
            Err(AutogradError::LabelOutOfRange {
                label: 3,
                sample: 0,
                classes: 3,
                ..
            })
        ));
    }
}
