//! A [`Tensor`] seen as a [`Matrix`]: the two-dimensional views user code needs around every
//! product.
//!
//! A graph stores every value as a [`Tensor`] of dynamic rank, because functions of any shape
//! share one node type; the kernels work on matrices of fixed rank 2. Going from one to the other
//! is ndarray's `into_dimensionality::<Ix2>()`, which returns a `Result` that user code can only
//! `unwrap`. The three functions here do that conversion and, when the tensor is not 2-D, panic
//! with a message that names its shape (a tensor of the wrong rank at this point is a mistake in
//! the code, not in its input):
//!
//! | function | from | to |
//! |---|---|---|
//! | [`as_matrix`] | `&Tensor` (or any dynamic-rank array) | `ArrayView2` |
//! | [`as_matrix_mut`] | `&mut Tensor` (or any dynamic-rank array) | `ArrayViewMut2` |
//! | [`into_matrix`] | `Tensor` | `Matrix` (no copy) |
//!
//! The checks are on the number of dimensions only; no element is copied or moved.

use ndarray::{ArrayBase, ArrayView2, ArrayViewMut2, Data, DataMut, Ix2, IxDyn};

use crate::{Matrix, Tensor};

/// Views a tensor as a matrix (rows, columns), without copying.
///
/// Works for [`Tensor`], `ArrayViewD<f32>` and every other dynamic-rank `f32` array.
///
/// ```
/// use length_tensor::{as_matrix, matmul_a_bt, Tensor};
///
/// let x = Tensor::from_shape_vec(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
/// let w = Tensor::ones(vec![1, 3]);
/// let y = matmul_a_bt(as_matrix(&x), as_matrix(&w)); // x · wᵀ: the row sums
/// assert_eq!(y.column(0).to_vec(), vec![6.0, 15.0]);
/// ```
///
/// # Panics
/// If the tensor does not have exactly two dimensions; the message names its shape.
#[track_caller]
pub fn as_matrix<S: Data<Elem = f32>>(tensor: &ArrayBase<S, IxDyn>) -> ArrayView2<'_, f32> {
    expect_matrix(tensor.shape());
    tensor
        .view()
        .into_dimensionality::<Ix2>()
        .expect("the rank was checked")
}

/// Views a tensor as a matrix (rows, columns) that can be written, without copying.
///
/// ```
/// use length_tensor::{as_matrix_mut, Tensor};
///
/// let mut x = Tensor::zeros(vec![2, 3]);
/// as_matrix_mut(&mut x).row_mut(1).fill(1.0);
/// assert_eq!(x.sum(), 3.0);
/// ```
///
/// # Panics
/// If the tensor does not have exactly two dimensions; the message names its shape.
#[track_caller]
pub fn as_matrix_mut<S: DataMut<Elem = f32>>(
    tensor: &mut ArrayBase<S, IxDyn>,
) -> ArrayViewMut2<'_, f32> {
    expect_matrix(tensor.shape());
    tensor
        .view_mut()
        .into_dimensionality::<Ix2>()
        .expect("the rank was checked")
}

/// Turns a tensor into a matrix, moving its data (no copy).
///
/// ```
/// use length_tensor::{into_matrix, relu_backward, Tensor};
///
/// let z = Tensor::from_shape_vec(vec![2, 2], vec![-1.0, 2.0, 3.0, -4.0]).unwrap();
/// let g = Tensor::ones(vec![2, 2]);
/// let dz = into_matrix(relu_backward(z.view(), g.view())); // a Matrix, ready for the products
/// assert_eq!(dz.row(0).to_vec(), vec![0.0, 1.0]);
/// ```
///
/// # Panics
/// If the tensor does not have exactly two dimensions; the message names its shape.
#[track_caller]
pub fn into_matrix(tensor: Tensor) -> Matrix {
    expect_matrix(tensor.shape());
    tensor
        .into_dimensionality::<Ix2>()
        .expect("the rank was checked")
}

/// The one rule of this module: a matrix has two dimensions.
#[track_caller]
fn expect_matrix(shape: &[usize]) {
    assert_eq!(
        shape.len(),
        2,
        "expected a matrix (rows, columns), got a tensor of shape {shape:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_share_the_data_of_the_tensor() {
        let mut x = Tensor::from_shape_fn(vec![2, 3], |index| (index[0] * 3 + index[1]) as f32);
        assert_eq!(as_matrix(&x).dim(), (2, 3));
        assert_eq!(as_matrix(&x)[(1, 2)], 5.0);
        assert_eq!(as_matrix(&x.view())[(0, 1)], 1.0);
        as_matrix_mut(&mut x)[(0, 0)] = 7.0;
        assert_eq!(x[[0, 0]], 7.0);
        let pointer = x.as_ptr();
        let matrix = into_matrix(x);
        assert_eq!(matrix.as_ptr(), pointer, "into_matrix must not copy");
        assert_eq!(matrix[(0, 0)], 7.0);
    }

    #[test]
    fn a_transposed_tensor_gives_a_transposed_view() {
        let x = Tensor::from_shape_fn(vec![2, 3], |index| (index[0] * 3 + index[1]) as f32);
        let transposed = x.t();
        assert_eq!(as_matrix(&transposed).dim(), (3, 2));
        assert_eq!(as_matrix(&transposed)[(2, 1)], 5.0);
    }

    #[test]
    #[should_panic(expected = "expected a matrix (rows, columns), got a tensor of shape [2, 3, 4]")]
    fn a_three_dimensional_tensor_is_refused_with_its_shape() {
        let _ = as_matrix(&Tensor::zeros(vec![2, 3, 4]));
    }

    #[test]
    #[should_panic(expected = "got a tensor of shape [5]")]
    fn a_vector_is_not_a_matrix_to_write() {
        let _ = as_matrix_mut(&mut Tensor::zeros(vec![5]));
    }

    #[test]
    #[should_panic(expected = "got a tensor of shape []")]
    fn a_scalar_is_not_a_matrix_to_move() {
        let _ = into_matrix(Tensor::zeros(vec![]));
    }
}
