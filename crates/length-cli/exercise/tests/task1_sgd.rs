//! Task 1: SGD. Run it with `cargo test --release task1`.
//!
//! The numbers are LENGTH's own test (`test_sgd`): `SGD(0.0017)` turns these gradients into
//! these deltas.

// LENGTH's test values, verbatim (more digits than an f32 holds).
#![allow(clippy::excessive_precision)]

use length_autograd::{LayerId, LearningRate, Optimizer};
use length_exercise::Sgd;
use length_exercise::check::{self, expect, expect_close};
use ndarray::array;

#[test]
fn task1_sgd() {
    check::task(1, || {
        let gradients = array![
            [
                0.78266141f32,
                0.87160521,
                0.91545263,
                0.41808932,
                0.63775016
            ],
            [0.16893565, 0.25077806, 0.88390805, 0.92372049, 0.0741453],
            [0.63734837, 0.28873811, 0.20229677, 0.12343409, 0.08427269],
        ]
        .into_dyn();
        let expected = array![
            [
                0.00133052f32,
                0.00148173,
                0.00155627,
                0.00071075,
                0.00108418
            ],
            [0.00028719, 0.00042632, 0.00150264, 0.00157032, 0.00012605],
            [0.00108349, 0.00049085, 0.0003439, 0.00020984, 0.00014326],
        ]
        .into_dyn();
        let mut sgd = Sgd::new(0.0017);
        let deltas = sgd.run_update_rule(&[gradients.view()], LayerId::fresh());
        expect(deltas.len() == 1, || {
            format!(
                "SGD's deltas for one gradient: expected 1 delta, got {}",
                deltas.len()
            )
        });
        expect_close(
            "SGD(0.0017)'s delta for LENGTH's gradients",
            deltas[0].view(),
            expected.view(),
            1e-5,
            1e-4,
        );
        // The same with the precision the 8-digit reference values allow.
        expect_close(
            "SGD(0.0017)'s delta, to 8 digits",
            deltas[0].view(),
            expected.view(),
            6e-9,
            0.0,
        );

        // A layer hands over several gradients (weights, then bias): one delta each, in order.
        let weights = array![[1.0f32, -2.0], [0.5, 4.0]].into_dyn();
        let bias = array![-8.0f32, 2.0].into_dyn();
        let mut sgd = Sgd::new(0.25);
        let deltas = sgd.run_update_rule(&[weights.view(), bias.view()], LayerId::fresh());
        expect(deltas.len() == 2, || {
            format!(
                "SGD's deltas for the gradients of weights and bias: expected 2 deltas, got {}",
                deltas.len()
            )
        });
        let expected = [
            array![[0.25f32, -0.5], [0.125, 1.0]].into_dyn(),
            array![-2.0f32, 0.5].into_dyn(),
        ];
        expect_close(
            "SGD(0.25)'s first delta (weights)",
            deltas[0].view(),
            expected[0].view(),
            0.0,
            0.0,
        );
        expect_close(
            "SGD(0.25)'s second delta (bias)",
            deltas[1].view(),
            expected[1].view(),
            0.0,
            0.0,
        );

        // The schedule changes the learning rate between epochs.
        sgd.set_learning_rate(0.5);
        let deltas = sgd.run_update_rule(&[bias.view()], LayerId::fresh());
        expect_close(
            "the delta after set_learning_rate(0.5)",
            deltas[0].view(),
            array![-4.0f32, 1.0].into_dyn().view(),
            0.0,
            0.0,
        );
    });
}
