//! Task 4: ReLU. Run it with `cargo test --release task4`.
//!
//! The numbers are LENGTH's own test of ReLU: its input data, an output gradient of 2, and the
//! gradient checker's default tolerances.

use length_autograd::{Function, Value, compute_numerical_gradient};
use length_exercise::ReLU;
use length_exercise::check::{self, expect_close, expect_gradient};
use length_tensor::Tensor;
use ndarray::array;

fn lengths_data() -> Tensor {
    array![
        [-0.620304f32, -0.1285682, 0.4867715, 0.09824127],
        [-0.37919873, -0.9272095, -0.0704312, 0.35593647],
        [0.19380952, 0.06425636, 0.21729442, -0.3168534],
        [-0.62586236, -0.4846, 0.84347826, 0.22025743],
        [0.02966821, -0.2127131, -0.33760294, -0.9477733],
    ]
    .into_dyn()
}

#[test]
fn task4_relu() {
    check::task(4, || {
        let x = lengths_data();
        let y = ReLU
            .forward(&[&Value::Tensor(x.clone())])
            .unwrap_or_else(|error| panic!("ReLU's forward returned an error: {error}"));
        let expected = x.mapv(|v| if v > 0.0 { v } else { 0.0 });
        expect_close(
            "ReLU's forward on LENGTH's data (positives kept, the rest zero)",
            y.view(),
            expected.view(),
            0.0,
            0.0,
        );

        // Backward, against the numerical gradient: output gradient 2, LENGTH's eps 1e-3.
        // Every |x| here is above 0.02, far from the kink at 0.
        let output_gradient = Tensor::from_elem(vec![5, 4], 2.0);
        let input = Value::Tensor(x.clone());
        let gradients = ReLU.backward(&[&input], &y, &output_gradient, &[true]);
        check::expect(gradients.len() == 1, || {
            format!(
                "ReLU's backward: expected 1 gradient (for x), got {}",
                gradients.len()
            )
        });
        let numerical = compute_numerical_gradient(
            |x| {
                ReLU.forward(&[&Value::Tensor(x[0].clone())])
                    .expect("forward worked above")
            },
            &[x],
            &output_gradient,
            1e-3,
        );
        expect_gradient(
            "ReLU's backward: the gradient of x",
            gradients[0].as_ref(),
            &numerical[0],
            1e-5,
            1e-4,
        );
    });
}
