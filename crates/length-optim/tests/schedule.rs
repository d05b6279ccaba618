//! Learning-rate schedules: the notebook's step rule, constant, cosine.

use length_autograd::LearningRate;
use length_optim::{Adam, Constant, Cosine, LearningRateSchedule, Sgd, StepDecay};
use proptest::prelude::*;

/// The numbers: from 0.1, the rates used during epochs 0..=4 are exactly these.
#[test]
fn notebook_step_rule_from_0_1() {
    let schedule = StepDecay::notebook(0.1);
    let rates: Vec<f32> = (0..5).map(|epoch| schedule.learning_rate(epoch)).collect();
    assert_eq!(rates, [0.1, 0.01, 0.01, 0.01, 0.001]);
}

/// The notebook's loop, replayed: train epoch e with the current rate, then multiply by 0.1 if
/// e % 3 == 0 (in f64, as Python does). The schedule must give the rate each epoch trained with.
#[test]
fn step_rule_replays_the_notebook_loop() {
    for initial in [0.1f64, 0.5, 1e-3, 0.02] {
        let schedule = StepDecay::notebook(initial);
        let mut learning_rate = initial;
        for epoch in 0..20 {
            assert_eq!(
                schedule.learning_rate(epoch),
                learning_rate as f32,
                "epoch {epoch}"
            );
            if epoch % 3 == 0 {
                learning_rate *= 0.1;
            }
        }
    }
}

#[test]
fn step_decay_counts_decays() {
    let schedule = StepDecay::new(1.0, 0.5, 2);
    let decays: Vec<usize> = (0..6).map(|e| schedule.decays_before(e)).collect();
    assert_eq!(decays, [0, 1, 1, 2, 2, 3]); // decays after epochs 0, 2, 4
    let rates: Vec<f32> = (0..6).map(|e| schedule.learning_rate(e)).collect();
    assert_eq!(rates, [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]);
}

#[test]
#[should_panic(expected = "`every` must be at least 1 epoch")]
fn step_decay_needs_a_period() {
    StepDecay::new(0.1, 0.1, 0);
}

#[test]
fn constant_is_constant() {
    let schedule = Constant::new(0.0017);
    for epoch in [0, 1, 2, 3, 99, usize::MAX] {
        assert_eq!(schedule.learning_rate(epoch), 0.0017);
    }
}

#[test]
fn cosine_endpoints() {
    let schedule = Cosine::new(0.1, 0.001, 10);
    assert_eq!(schedule.learning_rate(0), 0.1);
    assert_eq!(schedule.learning_rate(10), 0.001);
    assert_eq!(schedule.learning_rate(11), 0.001);
    assert_eq!(schedule.learning_rate(usize::MAX), 0.001);
    // Half-way the rate is the mean of the endpoints.
    assert!((schedule.learning_rate(5) - 0.0505).abs() < 1e-8);
    // Symmetry of the half cosine around the middle.
    let (a, b) = (schedule.learning_rate(2), schedule.learning_rate(8));
    assert!(((a - 0.0505) + (b - 0.0505)).abs() < 1e-7, "{a} {b}");
    assert!(schedule.learning_rate(9) > 0.001);
}

#[test]
fn cosine_with_no_epochs_is_the_minimum() {
    let schedule = Cosine::new(0.1, 0.01, 0);
    assert_eq!(schedule.learning_rate(0), 0.01);
}

#[test]
fn apply_sets_the_optimizers_learning_rate() {
    let schedule = StepDecay::notebook(0.1);
    let mut sgd = Sgd::with_learning_rate(0.5);
    assert_eq!(schedule.apply(1, &mut sgd), 0.01);
    assert_eq!(sgd.learning_rate(), 0.01);
    let mut adam = Adam::default();
    let boxed: Box<dyn LearningRateSchedule> = Box::new(Cosine::new(0.002, 0.0, 4));
    boxed.apply(0, &mut adam);
    assert_eq!(adam.learning_rate(), 0.002);
}

proptest! {
    #[test]
    fn cosine_is_monotone_and_bounded(
        initial in 1e-6f64..1.0,
        fraction in 0.0f64..1.0,
        epochs in 1usize..200,
    ) {
        let minimum = initial * fraction;
        let schedule = Cosine::new(initial, minimum, epochs);
        let rates: Vec<f32> = (0..=epochs + 2).map(|e| schedule.learning_rate(e)).collect();
        prop_assert_eq!(rates[0], initial as f32);
        prop_assert_eq!(rates[epochs], minimum as f32);
        for pair in rates.windows(2) {
            prop_assert!(pair[1] <= pair[0], "rose from {} to {}", pair[0], pair[1]);
        }
        for &rate in &rates {
            prop_assert!(rate >= minimum as f32 && rate <= initial as f32);
        }
    }

    #[test]
    fn step_decay_is_monotone(initial in 1e-6f64..1.0, factor in 0.0f64..=1.0, every in 1usize..6) {
        let schedule = StepDecay::new(initial, factor, every);
        prop_assert_eq!(schedule.learning_rate(0), initial as f32);
        for epoch in 0..30 {
            prop_assert!(schedule.learning_rate(epoch + 1) <= schedule.learning_rate(epoch));
        }
    }
}
