//! A node's value and gradient as matrices: [`Graph::matrix`] and [`Graph::gradient_matrix`].
//!
//! Nodes hold tensors of dynamic rank ([`Graph::value`], [`Graph::gradient`]); the values a
//! network passes along are (samples, features) matrices, and user code that reads them wants
//! rows and columns. These two accessors give an `ArrayView2` without copying, and when the node
//! is not two-dimensional they panic with a message that names the node, what made it and its
//! shape. The conversion itself is `length_tensor::as_matrix`.

use length_tensor::as_matrix;
use ndarray::ArrayView2;

use crate::{Graph, NodeId};

impl Graph<'_> {
    /// The value of a node as a matrix (rows, columns), such as a batch of logits.
    ///
    /// ```
    /// use length_autograd::Graph;
    /// use ndarray::array;
    ///
    /// let mut graph = Graph::new();
    /// let x = graph.input(array![[-1.0f32, 2.0], [3.0, -4.0]]);
    /// let h = graph.relu(x)?;
    /// assert_eq!(graph.matrix(h).row(1).to_vec(), vec![3.0, 0.0]);
    /// # Ok::<(), length_autograd::AutogradError>(())
    /// ```
    ///
    /// # Panics
    /// If the node holds labels or a tensor that is not two-dimensional; the message names the
    /// node and its shape.
    #[track_caller]
    pub fn matrix(&self, id: NodeId) -> ArrayView2<'_, f32> {
        let value = self.value(id);
        self.expect_matrix(id, "value", value.shape());
        as_matrix(value)
    }

    /// The gradient a node received in the last backward pass, as a matrix (rows, columns);
    /// `None` when [`gradient`](Graph::gradient) is `None` (before backward, for labels and
    /// constants, and for nodes the output does not depend on).
    ///
    /// ```
    /// use length_autograd::Graph;
    /// use ndarray::array;
    ///
    /// let mut graph = Graph::new();
    /// let x = graph.input(array![[-1.0f32, 2.0], [3.0, -4.0]]);
    /// let h = graph.relu(x)?;
    /// let total = graph.sum(h)?;
    /// assert!(graph.gradient_matrix(x).is_none()); // no backward pass yet
    /// graph.backward_gradients_only(total);
    /// assert_eq!(graph.gradient_matrix(x).unwrap(), array![[0.0f32, 1.0], [1.0, 0.0]]);
    /// # Ok::<(), length_autograd::AutogradError>(())
    /// ```
    ///
    /// # Panics
    /// If the gradient is not two-dimensional (it has the shape of the node's value); the
    /// message names the node and its shape.
    #[track_caller]
    pub fn gradient_matrix(&self, id: NodeId) -> Option<ArrayView2<'_, f32>> {
        let gradient = self.gradient(id)?;
        self.expect_matrix(id, "gradient", gradient.shape());
        Some(as_matrix(gradient))
    }

    /// Panics, naming the node, unless `shape` (of the node's value or gradient) is 2-D.
    #[track_caller]
    fn expect_matrix(&self, id: NodeId, what: &str, shape: &[usize]) {
        if shape.len() != 2 {
            let origin = match self.creator_name(id) {
                Some(function) => format!("the output of {function}"),
                None => format!("input[{}]", self.node(id).name),
            };
            panic!(
                "node {} ({origin}) has a {what} of shape {shape:?}, not a matrix (rows, columns)",
                id.index()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use crate::Graph;

    #[test]
    fn matrix_views_the_value_without_copying() {
        let mut graph = Graph::new();
        let x = graph.input(array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        assert_eq!(graph.matrix(x).dim(), (2, 3));
        assert_eq!(graph.matrix(x).as_ptr(), graph.value(x).as_ptr());
        assert_eq!(graph.matrix(x)[(1, 0)], 4.0);
    }

    #[test]
    fn gradient_matrix_is_none_where_gradient_is_none() {
        let mut graph = Graph::new();
        let x = graph.input(array![[1.0f32, -2.0]]);
        let c = graph.constant(array![[3.0f32, 4.0]]);
        let unused = graph.input(array![[0.0f32, 0.0]]);
        let h = graph.add(x, c).unwrap();
        let total = graph.sum(h).unwrap();
        graph.backward_gradients_only(total);
        assert_eq!(graph.gradient_matrix(x).unwrap(), array![[1.0f32, 1.0]]);
        assert!(graph.gradient_matrix(c).is_none());
        assert!(graph.gradient_matrix(unused).is_none());
    }

    #[test]
    #[should_panic(
        expected = "node 1 (the output of Sum) has a value of shape [], not a matrix (rows, columns)"
    )]
    fn matrix_of_a_scalar_names_the_node_and_its_shape() {
        let mut graph = Graph::new();
        let x = graph.input(array![[1.0f32, 2.0]]);
        let total = graph.sum(x).unwrap();
        let _ = graph.matrix(total);
    }

    #[test]
    #[should_panic(expected = "node 0 (input[pixels]) has a value of shape [3]")]
    fn matrix_of_a_vector_names_the_input() {
        let mut graph = Graph::new();
        let x = graph.input_named("pixels", array![1.0f32, 2.0, 3.0]);
        let _ = graph.matrix(x);
    }

    #[test]
    #[should_panic(expected = "node 0 (input[data]) has a gradient of shape [2]")]
    fn gradient_matrix_of_a_vector_names_the_node() {
        let mut graph = Graph::new();
        let x = graph.input(array![1.0f32, 2.0]);
        let total = graph.sum(x).unwrap();
        graph.backward_gradients_only(total);
        let _ = graph.gradient_matrix(x);
    }

    #[test]
    #[should_panic(expected = "holds labels")]
    fn matrix_of_labels_panics() {
        let mut graph = Graph::new();
        let t = graph.labels(array![0, 1]);
        let _ = graph.matrix(t);
    }
}
