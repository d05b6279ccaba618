//! Element-wise activations: ReLU (forward and backward) and sigmoid.

use ndarray::{ArrayViewD, ArrayViewMutD, Zip};

use crate::Tensor;

/// `max(x, 0)` element by element.
pub fn relu(x: ArrayViewD<f32>) -> Tensor {
    x.mapv(|v| v.max(0.0))
}

/// `out = max(x, 0)`, writing into a caller-provided buffer of the same shape.
pub fn relu_into(x: ArrayViewD<f32>, mut out: ArrayViewMutD<f32>) {
    assert_eq!(
        x.shape(),
        out.shape(),
        "relu: x is {:?} but out is {:?}",
        x.shape(),
        out.shape()
    );
    Zip::from(&mut out)
        .and(&x)
        .for_each(|o, &v| *o = v.max(0.0));
}

/// The gradient of ReLU: `grad` where `x > 0`, zero elsewhere.
pub fn relu_backward(x: ArrayViewD<f32>, grad: ArrayViewD<f32>) -> Tensor {
    let mut out = Tensor::zeros(x.raw_dim());
    relu_backward_into(x, grad, out.view_mut());
    out
}

/// `out = grad * (x > 0)`, writing into a caller-provided buffer.
pub fn relu_backward_into(x: ArrayViewD<f32>, grad: ArrayViewD<f32>, mut out: ArrayViewMutD<f32>) {
    assert_eq!(
        x.shape(),
        grad.shape(),
        "relu_backward: x is {:?} but grad is {:?}",
        x.shape(),
        grad.shape()
    );
    assert_eq!(
        x.shape(),
        out.shape(),
        "relu_backward: x is {:?} but out is {:?}",
        x.shape(),
        out.shape()
    );
    Zip::from(&mut out)
        .and(&x)
        .and(&grad)
        .for_each(|o, &v, &g| *o = if v > 0.0 { g } else { 0.0 });
}

/// The logistic function `1 / (1 + e^-x)` element by element, stable for large `|x|`.
pub fn sigmoid(x: ArrayViewD<f32>) -> Tensor {
    x.mapv(|v| {
        if v >= 0.0 {
            1.0 / (1.0 + (-v).exp())
        } else {
            let e = v.exp();
            e / (1.0 + e)
        }
    })
}
