//! The cost of one optimizer update of the MLP's largest layer (512 × 784 weights + 512 biases):
//! the fused in-place `update` (on the global rayon pool and on a 1-thread pool) against LENGTH's
//! path, `run_update_rule` followed by `parameter -= delta` (which allocates one delta array per
//! parameter and reads everything twice).
//!
//! Run with `cargo bench -p length-optim --bench update`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use length_autograd::{LayerId, Optimizer};
use length_optim::{Adam, AdamW, Momentum, Sgd};
use length_tensor::Tensor;

const OUTPUTS: usize = 512;
const INPUTS: usize = 784;

/// Weights and biases of a 784 → 512 layer, and gradients for them.
fn layer() -> (Vec<Tensor>, Vec<Tensor>) {
    let value = |i: usize| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5;
    let weights = Tensor::from_shape_fn(vec![OUTPUTS, INPUTS], |index| {
        value(index[0] * INPUTS + index[1])
    });
    let biases = Tensor::from_shape_fn(vec![OUTPUTS], |index| value(index[0]));
    let gradients = vec![weights.mapv(|w| 0.01 * w), biases.mapv(|b| 0.01 * b)];
    (vec![weights, biases], gradients)
}

fn bench_optimizer(c: &mut Criterion, name: &str, make: fn() -> Box<dyn Optimizer + Send>) {
    let mut group = c.benchmark_group(format!("{name}_update_512x784"));
    group.throughput(Throughput::Elements((OUTPUTS * INPUTS + OUTPUTS) as u64));
    let single_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a rayon pool");

    let (mut parameters, gradients) = layer();
    let gradient_views: Vec<_> = gradients.iter().map(|g| g.view()).collect();
    let layer_id = LayerId::fresh();

    let mut optimizer = make();
    group.bench_function("fused_update", |b| {
        b.iter(|| {
            let mut views: Vec<_> = parameters.iter_mut().map(|p| p.view_mut()).collect();
            optimizer.update(black_box(&mut views), black_box(&gradient_views), layer_id);
        })
    });

    let mut optimizer = make();
    group.bench_function("fused_update_1_thread", |b| {
        b.iter(|| {
            single_thread.install(|| {
                let mut views: Vec<_> = parameters.iter_mut().map(|p| p.view_mut()).collect();
                optimizer.update(black_box(&mut views), black_box(&gradient_views), layer_id);
            })
        })
    });

    let mut optimizer = make();
    group.bench_function("run_update_rule_then_subtract", |b| {
        b.iter(|| {
            let deltas = optimizer.run_update_rule(black_box(&gradient_views), layer_id);
            for (parameter, delta) in parameters.iter_mut().zip(&deltas) {
                *parameter -= delta;
            }
        })
    });
    group.finish();
}

fn optimizers(c: &mut Criterion) {
    bench_optimizer(c, "sgd", || Box::new(Sgd::with_learning_rate(1e-6)));
    bench_optimizer(c, "momentum", || {
        Box::new(Momentum::with_learning_rate(1e-6))
    });
    bench_optimizer(c, "adam", || Box::new(Adam::with_learning_rate(1e-6)));
    bench_optimizer(c, "adamw", || Box::new(AdamW::with_learning_rate(1e-6)));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = optimizers
}
criterion_main!(benches);
