//! The fused in-place `update` of every optimizer against LENGTH's path (`run_update_rule`, then
//! `parameter -= delta`): bit-identical, for small arrays, arrays large enough to be updated in
//! parallel, strided views, and any number of threads.

mod common;

use common::{assert_bits_eq, views, wiggle};
use length_autograd::{LayerId, Optimizer};
use length_optim::{Adam, AdamW, AdamWConfig, Momentum, MomentumConfig, Sgd};
use length_tensor::Tensor;
use ndarray::ArrayViewMutD;
use proptest::prelude::*;

/// Builds a fresh optimizer.
type MakeOptimizer = fn() -> Box<dyn Optimizer>;

/// Optimizers whose `run_update_rule` returns the complete delta. (AdamW's leaves out the decay,
/// which needs the parameters; with `λ = 0` it has none. AdamW with decay is checked below.)
fn optimizers() -> Vec<(&'static str, MakeOptimizer)> {
    vec![
        ("SGD", || Box::new(Sgd::with_learning_rate(0.05))),
        ("Momentum", || Box::new(Momentum::with_learning_rate(0.05))),
        ("Nesterov", || Box::new(Momentum::nesterov(0.05, 0.8))),
        ("Adam", || Box::new(Adam::with_learning_rate(0.05))),
        ("AdamW(λ=0)", || {
            Box::new(AdamW::new(AdamWConfig {
                learning_rate: 0.05,
                weight_decay: 0.0,
                ..AdamWConfig::default()
            }))
        }),
    ]
}

/// Trains one copy of the parameters with `update` and one with `run_update_rule` for `steps`
/// steps, and checks they stay bit-identical. `strided` hands `update` transposed views.
fn check_update_matches_rule(make: MakeOptimizer, name: &str, shapes: &[Vec<usize>], steps: u64) {
    let layer = LayerId::fresh();
    let mut fused = make();
    let mut rule = make();
    let start: Vec<Tensor> = shapes
        .iter()
        .enumerate()
        .map(|(i, shape)| wiggle(shape, 100 + i as u64, -1.0, 1.0))
        .collect();
    let mut by_update = start.clone();
    let mut by_rule = start;
    for step in 0..steps {
        let gradients: Vec<Tensor> = shapes
            .iter()
            .enumerate()
            .map(|(i, shape)| wiggle(shape, 1000 * step + i as u64, -2.0, 2.0))
            .collect();
        let mut parameters: Vec<ArrayViewMutD<f32>> =
            by_update.iter_mut().map(|p| p.view_mut()).collect();
        fused.update(&mut parameters, &views(&gradients), layer);
        let deltas = rule.run_update_rule(&views(&gradients), layer);
        for (parameter, delta) in by_rule.iter_mut().zip(&deltas) {
            *parameter -= delta;
        }
        for (a, b) in by_update.iter().zip(&by_rule) {
            assert_bits_eq(a.view(), b.view(), &format!("{name}, step {step}"));
        }
    }
}

#[test]
fn update_matches_run_update_rule_on_small_arrays() {
    for (name, make) in optimizers() {
        check_update_matches_rule(make, name, &[vec![3, 5], vec![3]], 4);
    }
}

#[test]
fn update_matches_run_update_rule_on_parallel_sized_arrays() {
    // 512 × 100 = 51 200 elements: above the parallel threshold (32 768).
    for (name, make) in optimizers() {
        check_update_matches_rule(make, name, &[vec![512, 100], vec![512]], 3);
    }
}

#[test]
fn update_on_strided_views_matches_run_update_rule() {
    // Parameters stored transposed: `update` sees non-contiguous views and must pair elements by
    // index, not by memory order.
    for (name, make) in optimizers() {
        let layer = LayerId::fresh();
        let (mut fused, mut rule) = (make(), make());
        let mut stored = wiggle(&[5, 3], 1, -1.0, 1.0); // the parameter is stored.t(): (3, 5)
        let mut by_rule = stored.t().to_owned();
        for step in 0..3 {
            let gradient = wiggle(&[3, 5], 50 + step, -1.0, 1.0);
            fused.update(
                &mut [stored.view_mut().reversed_axes()],
                &[gradient.view()],
                layer,
            );
            let deltas = rule.run_update_rule(&[gradient.view()], layer);
            by_rule -= &deltas[0];
            assert_bits_eq(stored.t(), by_rule.view(), name);
        }
    }
}

#[test]
fn adamw_update_matches_its_complete_deltas() {
    for shapes in [vec![vec![4, 3], vec![4]], vec![vec![300, 150], vec![300]]] {
        let config = AdamWConfig {
            learning_rate: 0.01,
            weight_decay: 0.3,
            ..AdamWConfig::default()
        };
        let (mut fused, mut rule) = (AdamW::new(config), AdamW::new(config));
        let layer = LayerId::fresh();
        let mut by_update: Vec<Tensor> = shapes
            .iter()
            .map(|shape| wiggle(shape, 3, -1.0, 1.0))
            .collect();
        let mut by_rule = by_update.clone();
        for step in 0..3 {
            let gradients: Vec<Tensor> = shapes
                .iter()
                .map(|shape| wiggle(shape, 20 + step, -1.0, 1.0))
                .collect();
            let mut parameters: Vec<_> = by_update.iter_mut().map(|p| p.view_mut()).collect();
            fused.update(&mut parameters, &views(&gradients), layer);
            let deltas =
                rule.run_update_rule_with_decay(&views(&by_rule), &views(&gradients), layer);
            for (parameter, delta) in by_rule.iter_mut().zip(&deltas) {
                *parameter -= delta;
            }
            for (a, b) in by_update.iter().zip(&by_rule) {
                assert_bits_eq(a.view(), b.view(), "AdamW with decay");
            }
        }
    }
}

/// One training run of three updates on a 784 → 512 layer inside a pool of `threads` threads.
fn train_in_pool(make: MakeOptimizer, threads: usize) -> (Vec<Tensor>, Vec<Tensor>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool");
    pool.install(|| {
        let layer = LayerId::fresh();
        let mut optimizer = make();
        let mut parameters = vec![
            wiggle(&[512, 784], 7, -0.1, 0.1),
            wiggle(&[512], 8, -0.1, 0.1),
        ];
        let mut last_deltas = Vec::new();
        for step in 0..3 {
            let gradients = vec![
                wiggle(&[512, 784], 30 + step, -1.0, 1.0),
                wiggle(&[512], 40 + step, -1.0, 1.0),
            ];
            let mut views_mut: Vec<_> = parameters.iter_mut().map(|p| p.view_mut()).collect();
            optimizer.update(&mut views_mut, &views(&gradients), layer);
            last_deltas = optimizer.run_update_rule(&views(&gradients), layer);
        }
        (parameters, last_deltas)
    })
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let mut all = optimizers();
    all.push(("AdamW", || Box::new(AdamW::with_learning_rate(0.01))));
    for (name, make) in all {
        let (parameters_1, deltas_1) = train_in_pool(make, 1);
        let (parameters_2, deltas_2) = train_in_pool(make, 2);
        for (a, b) in parameters_1.iter().zip(&parameters_2) {
            assert_bits_eq(
                a.view(),
                b.view(),
                &format!("{name}: parameters, 1 vs 2 threads"),
            );
        }
        for (a, b) in deltas_1.iter().zip(&deltas_2) {
            assert_bits_eq(
                a.view(),
                b.view(),
                &format!("{name}: deltas, 1 vs 2 threads"),
            );
        }
    }
}

fn momentum_config() -> impl Strategy<Value = MomentumConfig> {
    (0.0f32..1.0, 0.0f32..0.99, any::<bool>()).prop_map(|(learning_rate, momentum, nesterov)| {
        MomentumConfig {
            learning_rate,
            momentum,
            nesterov,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// For any shapes, gradients and (valid) hyperparameters, `update` and `run_update_rule`
    /// agree bit for bit, step after step.
    #[test]
    fn update_is_run_update_rule_in_place(
        rows in 1usize..20,
        columns in 1usize..20,
        gradients in proptest::collection::vec(proptest::collection::vec(-10.0f32..10.0, 400), 1..4),
        start in proptest::collection::vec(-10.0f32..10.0, 400),
        config in momentum_config(),
        learning_rate in 1e-4f32..1.0,
        which in 0usize..3,
    ) {
        let shape = vec![rows, columns];
        let take = |values: &[f32]| Tensor::from_shape_vec(shape.clone(), values[..rows * columns].to_vec()).unwrap();
        let make = || -> Box<dyn Optimizer> {
            match which {
                0 => Box::new(Sgd::with_learning_rate(learning_rate)),
                1 => Box::new(Momentum::new(config)),
                _ => Box::new(Adam::with_learning_rate(learning_rate)),
            }
        };
        let (mut fused, mut rule) = (make(), make());
        let layer = LayerId::fresh();
        let mut by_update = take(&start);
        let mut by_rule = by_update.clone();
        for gradient in &gradients {
            let gradient = take(gradient);
            fused.update(&mut [by_update.view_mut()], &[gradient.view()], layer);
            by_rule -= &rule.run_update_rule(&[gradient.view()], layer)[0];
            let same = by_update.iter().zip(&by_rule).all(|(a, b)| a.to_bits() == b.to_bits());
            prop_assert!(same, "update and run_update_rule differ:\n{}\n{}", by_update, by_rule);
        }
    }
}
