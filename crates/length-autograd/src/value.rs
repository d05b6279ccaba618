//! What a node of the graph holds: an `f32` tensor, or integer class labels.
//!
//! LENGTH stores any numpy array in a node and checks its dtype where it matters (integer labels
//! get no gradient). Here the two kinds are the two variants of [`Value`], so a function sees at
//! a glance which of its inputs can receive a gradient: only tensors can.

use length_tensor::{Labels, Tensor, as_matrix};
use ndarray::{Array, ArrayView2, Dimension};

/// The data of one node: a tensor (inputs, activations, losses) or class labels.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An `f32` array of any shape. Tensors can receive gradients.
    Tensor(Tensor),
    /// One class index per sample. Labels never receive a gradient.
    Labels(Labels),
}

impl Value {
    /// The tensor, or `None` for labels.
    pub fn as_tensor(&self) -> Option<&Tensor> {
        match self {
            Value::Tensor(tensor) => Some(tensor),
            Value::Labels(_) => None,
        }
    }

    /// The labels, or `None` for a tensor.
    pub fn as_labels(&self) -> Option<&Labels> {
        match self {
            Value::Labels(labels) => Some(labels),
            Value::Tensor(_) => None,
        }
    }

    /// The tensor as a matrix (rows, columns), without copying.
    ///
    /// ```
    /// use length_autograd::Value;
    /// use ndarray::array;
    ///
    /// let scores = Value::from(array![[0.1f32, 0.9], [0.8, 0.2]]);
    /// assert_eq!(scores.matrix().row(1).to_vec(), vec![0.8, 0.2]);
    /// ```
    ///
    /// # Panics
    /// If the value is labels, or a tensor that is not two-dimensional (the message names its
    /// shape). Inside a [`Function`](crate::Function), read inputs with
    /// [`inputs::matrix`](crate::inputs::matrix) instead, which returns an error.
    #[track_caller]
    pub fn matrix(&self) -> ArrayView2<'_, f32> {
        match self {
            Value::Tensor(tensor) => as_matrix(tensor),
            Value::Labels(labels) => panic!(
                "expected a matrix (rows, columns), got labels of shape {:?}",
                labels.shape()
            ),
        }
    }

    /// The shape of the array inside.
    ///
    /// ```
    /// use length_autograd::Value;
    /// use ndarray::array;
    ///
    /// assert_eq!(Value::from(array![[1.0f32, 2.0]]).shape(), &[1, 2]);
    /// assert_eq!(Value::from(array![3u32, 1, 4]).shape(), &[3]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        match self {
            Value::Tensor(tensor) => tensor.shape(),
            Value::Labels(labels) => labels.shape(),
        }
    }

    /// `"a tensor"` or `"labels"`, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Tensor(_) => "a tensor",
            Value::Labels(_) => "labels",
        }
    }
}

impl<D: Dimension> From<Array<f32, D>> for Value {
    /// Moves an `f32` array of any dimension into a value (no copy).
    fn from(array: Array<f32, D>) -> Self {
        Value::Tensor(array.into_dyn())
    }
}

impl From<Labels> for Value {
    /// Moves class labels into a value (no copy).
    fn from(labels: Labels) -> Self {
        Value::Labels(labels)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn matrix_views_a_two_dimensional_tensor() {
        let value = Value::from(array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        assert_eq!(value.matrix().dim(), (2, 3));
        assert_eq!(value.matrix()[(1, 2)], 6.0);
    }

    #[test]
    #[should_panic(expected = "expected a matrix (rows, columns), got labels of shape [3]")]
    fn matrix_of_labels_names_them() {
        let _ = Value::from(array![3u32, 1, 4]).matrix();
    }

    #[test]
    #[should_panic(expected = "expected a matrix (rows, columns), got a tensor of shape [1, 1, 2]")]
    fn matrix_of_a_three_dimensional_tensor_names_its_shape() {
        let _ = Value::from(array![[[1.0f32, 2.0]]]).matrix();
    }
}
