//! Task 5 (bonus): Adam. Run it with `cargo test --release task5`.
//!
//! LENGTH's own tests of Adam: a first step on positive gradients moves each parameter by less
//! than the learning rate, and after five positive steps one negative gradient does not turn the
//! first moment around, five more do. Then two steps against the formula, computed here in f64,
//! and one state per layer.

// LENGTH's test values, verbatim (more digits than an f32 holds).
#![allow(clippy::excessive_precision)]

use length_autograd::{LayerId, Optimizer};
use length_exercise::Adam;
use length_exercise::check::{self, expect, expect_close};
use length_tensor::Tensor;
use ndarray::array;

/// LENGTH's SGD test matrix: positive gradients.
fn positive_gradient() -> Tensor {
    array![
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
    .into_dyn()
}

fn first_step_is_below_the_learning_rate() {
    let mut adam = Adam::default();
    // Gradients small enough for ε to register in f32: bias-corrected, the first step is
    // η·g/(g + ε), just below η.
    let small = positive_gradient().mapv(|g| 1e-3 * g);
    let deltas = adam.run_update_rule(&[small.view()], LayerId::fresh());
    expect(deltas.len() == 1, || {
        format!(
            "Adam's deltas for one gradient: expected 1, got {}",
            deltas.len()
        )
    });
    check::expect_shape("Adam's delta", deltas[0].shape(), small.shape());
    let worst = deltas[0].iter().copied().fold(f32::NEG_INFINITY, f32::max);
    expect(deltas[0].iter().all(|&d| d > 0.0 && d < 0.001), || {
        format!(
            "the first step of Adam(0.001) on positive gradients: expected every delta between 0 and \
             the learning rate 0.001 (bias correction), got up to {worst}"
        )
    });
}

fn first_moment_turns_around_slowly() {
    let mut adam = Adam::default();
    let layer = LayerId::fresh();
    let positive = positive_gradient();
    let negative = -&positive;
    for step in 1..=5 {
        let deltas = adam.run_update_rule(&[positive.view()], layer);
        expect(deltas[0].iter().all(|&d| d > 0.0), || {
            format!(
                "Adam's step {step} on positive gradients: expected positive deltas, got {}",
                deltas[0]
            )
        });
    }
    let deltas = adam.run_update_rule(&[negative.view()], layer);
    expect(deltas[0].iter().all(|&d| d > 0.0), || {
        format!(
            "after 5 positive steps, one negative gradient must not turn Adam around (its first \
             moment still points the old way): expected positive deltas, got {}",
            deltas[0]
        )
    });
    let mut deltas = deltas;
    for _ in 0..5 {
        deltas = adam.run_update_rule(&[negative.view()], layer);
    }
    expect(deltas[0].iter().all(|&d| d < 0.0), || {
        format!(
            "after 6 negative steps Adam must have turned around: expected negative deltas, got {}",
            deltas[0]
        )
    });
}

/// Two steps of Adam(0.01) with the formula computed in f64.
fn two_steps_match_the_formula() {
    let gradients = [
        array![0.5f32, -0.2, 0.01].into_dyn(),
        array![0.3f32, 0.4, -0.05].into_dyn(),
    ];
    let (learning_rate, beta1, beta2, eps) = (0.01f64, 0.9f64, 0.999f64, 1e-8f64);
    let mut m = [0.0f64; 3];
    let mut v = [0.0f64; 3];
    let mut adam = Adam::new(0.01);
    let layer = LayerId::fresh();
    for (t, gradient) in gradients.iter().enumerate() {
        let t = t as i32 + 1;
        let mut expected = Vec::new();
        for (k, &g) in gradient.iter().enumerate() {
            let g = f64::from(g);
            m[k] = beta1 * m[k] + (1.0 - beta1) * g;
            v[k] = beta2 * v[k] + (1.0 - beta2) * g * g;
            let m_hat = m[k] / (1.0 - beta1.powi(t));
            let v_hat = v[k] / (1.0 - beta2.powi(t));
            expected.push((learning_rate * m_hat / (v_hat.sqrt() + eps)) as f32);
        }
        let deltas = adam.run_update_rule(&[gradient.view()], layer);
        expect_close(
            &format!("Adam(0.01)'s delta in step {t} (m, v, bias correction)"),
            deltas[0].view(),
            Tensor::from_shape_vec(vec![3], expected)
                .expect("3 values")
                .view(),
            1e-8,
            1e-5,
        );
    }
}

fn layers_keep_their_own_state() {
    let gradient = positive_gradient();
    let (first, second) = (LayerId::fresh(), LayerId::fresh());
    let negative = -&gradient;
    let mut shared = Adam::default();
    for _ in 0..5 {
        shared.run_update_rule(&[negative.view()], first);
    }
    // The second layer's first step is a first step, whatever the first layer did before.
    let second_deltas = shared.run_update_rule(&[gradient.view()], second);
    let fresh_deltas = Adam::default().run_update_rule(&[gradient.view()], LayerId::fresh());
    expect_close(
        "the first step of a second layer (state is kept per layer, by LayerId)",
        second_deltas[0].view(),
        fresh_deltas[0].view(),
        0.0,
        0.0,
    );
    // Weights and bias of one layer each have their own moments.
    let bias = array![0.5f32, -0.5].into_dyn();
    let mut adam = Adam::default();
    let layer = LayerId::fresh();
    adam.run_update_rule(&[gradient.view(), bias.view()], layer);
    let both = adam.run_update_rule(&[gradient.view(), (-&bias).view()], layer);
    let mut alone = Adam::default();
    alone.run_update_rule(&[bias.view()], layer);
    let bias_only = alone.run_update_rule(&[(-&bias).view()], layer);
    expect_close(
        "the bias's delta in a layer's second step (one m and v per parameter)",
        both[1].view(),
        bias_only[0].view(),
        0.0,
        0.0,
    );
}

#[test]
fn task5_adam() {
    check::task(5, || {
        first_step_is_below_the_learning_rate();
        first_moment_turns_around_slowly();
        two_steps_match_the_formula();
        layers_keep_their_own_state();
    });
}
