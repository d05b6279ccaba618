//! Task 3: mean squared error. Run it with `cargo test --release task3`.
//!
//! The numbers are LENGTH's own test: this output and target give a loss of 0.583, and with an
//! output gradient of 2 the backward pass must match the numerical gradient for both inputs.

use length_autograd::{Function, Value, compute_numerical_gradient};
use length_exercise::check::{self, expect, expect_close, expect_gradient};
use length_exercise::{MeanSquaredError, one_hot};
use length_tensor::Tensor;
use ndarray::array;

fn lengths_case() -> (Tensor, Tensor) {
    let x = array![
        [0.0f32, 0.0, 0.0, 1.0],
        [1.0, 0.0, 0.0, 1.0],
        [2.0, 0.0, 1.0, 0.0]
    ];
    let target = array![
        [1.0f32, 0.0, 0.0, 1.0],
        [0.0, 0.0, 0.0, 1.0],
        [0.0, 0.0, 0.0, 0.0]
    ];
    (x.into_dyn(), target.into_dyn())
}

fn loss(x: &Tensor, target: Value) -> Tensor {
    MeanSquaredError
        .forward(&[&Value::Tensor(x.clone()), &target])
        .unwrap_or_else(|error| panic!("MeanSquaredError's forward returned an error: {error}"))
}

#[test]
fn task3_mean_squared_error() {
    check::task(3, || {
        expect_close(
            "one_hot([3, 0, 1], 4)",
            one_hot(array![3u32, 0, 1].view(), 4).into_dyn().view(),
            array![
                [0.0f32, 0.0, 0.0, 1.0],
                [1.0, 0.0, 0.0, 0.0],
                [0.0, 1.0, 0.0, 0.0]
            ]
            .into_dyn()
            .view(),
            0.0,
            0.0,
        );

        let (x, target) = lengths_case();
        let same = loss(&x, Value::Tensor(x.clone()));
        check::expect_shape("the loss", same.shape(), &[]);
        expect(same[[]] == 0.0, || {
            format!(
                "the loss of an output against itself: expected 0, got {}",
                same[[]]
            )
        });
        let lengths = loss(&x, Value::Tensor(target.clone()));
        expect((lengths[[]] - 0.583).abs() <= 1e-3, || {
            format!(
                "the loss on LENGTH's output and target: expected 0.583, got {}",
                lengths[[]]
            )
        });
        let labels = loss(&x, Value::from(array![3u32, 0, 1]));
        expect((labels[[]] - 0.583).abs() <= 1e-3, || {
            format!(
                "the loss against the labels [3, 0, 1] (one-hot: LENGTH's target): expected \
                 0.583, got {}",
                labels[[]]
            )
        });

        // Backward against the numerical gradient, for both inputs: output gradient 2.
        let output_gradient = Tensor::from_elem(vec![], 2.0);
        let inputs = [Value::Tensor(x.clone()), Value::Tensor(target.clone())];
        let gradients = MeanSquaredError.backward(
            &[&inputs[0], &inputs[1]],
            &lengths,
            &output_gradient,
            &[true, true],
        );
        expect(gradients.len() == 2, || {
            format!(
                "MeanSquaredError's backward: expected 2 gradients (x, target), got {}",
                gradients.len()
            )
        });
        let numerical = compute_numerical_gradient(
            |p| loss(&p[0], Value::Tensor(p[1].clone())),
            &[x.clone(), target],
            &output_gradient,
            1e-3,
        );
        expect_gradient(
            "MeanSquaredError's backward: the gradient of x",
            gradients[0].as_ref(),
            &numerical[0],
            1e-5,
            1e-4,
        );
        expect_gradient(
            "MeanSquaredError's backward: the gradient of the target",
            gradients[1].as_ref(),
            &numerical[1],
            1e-5,
            1e-4,
        );

        // With labels: the same gradient for x, and none for the labels.
        let labels = [Value::Tensor(x.clone()), Value::from(array![3u32, 0, 1])];
        let gradients = MeanSquaredError.backward(
            &[&labels[0], &labels[1]],
            &lengths,
            &output_gradient,
            &[true, false],
        );
        expect(gradients.len() == 2, || {
            format!(
                "MeanSquaredError's backward with labels: expected 2 entries (x, labels), got {}",
                gradients.len()
            )
        });
        let numerical = compute_numerical_gradient(
            |p| loss(&p[0], Value::from(array![3u32, 0, 1])),
            std::slice::from_ref(&x),
            &output_gradient,
            1e-3,
        );
        expect_gradient(
            "MeanSquaredError's backward with labels: the gradient of x",
            gradients[0].as_ref(),
            &numerical[0],
            1e-5,
            1e-4,
        );
        expect(gradients[1].is_none(), || {
            "MeanSquaredError's backward with labels: labels get no gradient (None), got one"
                .to_string()
        });
    });
}
