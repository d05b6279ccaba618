//! One training step of the course notebook's ActivatedMLP (784-512-512-10, ReLU, MSE) on a
//! batch of 64, as `length train` runs it (`train_step`), with SGD and with Adam, against the bare
//! matrix products the step is made of: the difference is what the rest costs (graph
//! bookkeeping, element-wise passes, loss, the optimizer's update).
//!
//! Run: `cargo bench -p length-layers --bench train_step`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use length_layers::{ActivatedMLP, train_step};
use length_optim::{Adam, Sgd};
use length_tensor::{Labels, matmul_a_b, matmul_a_bt_into, matmul_at_b};
use ndarray::Array2;

const BATCH: usize = 64;

fn images() -> Array2<f32> {
    Array2::from_shape_fn((BATCH, 784), |(i, j)| {
        ((i * 31 + j * 7) % 255) as f32 / 255.0
    })
}

fn train_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("activated_mlp_batch_64");
    group.sample_size(20);
    let images = images();
    let labels = Labels::from_shape_fn(BATCH, |i| (i % 10) as u32);

    let mut model = ActivatedMLP::new();
    let mut sgd = Sgd::with_learning_rate(0.001);
    group.bench_function("train_step_sgd", |b| {
        b.iter(|| {
            let step = train_step(&mut *model, &mut sgd, images.view(), labels.view()).unwrap();
            black_box(step.loss)
        })
    });

    let mut model = ActivatedMLP::new();
    let mut adam = Adam::with_learning_rate(0.0001);
    group.bench_function("train_step_adam", |b| {
        b.iter(|| {
            let step = train_step(&mut *model, &mut adam, images.view(), labels.view()).unwrap();
            black_box(step.loss)
        })
    });

    // The same matrix products with no graph: forward x·Wᵀ+b per layer, backward gᵀ·x per layer
    // and g·W for the two upper layers (the first layer's input needs no gradient).
    let sizes = [784, 512, 512, 10];
    let weights: Vec<Array2<f32>> = sizes
        .windows(2)
        .map(|p| Array2::from_elem((p[1], p[0]), 0.01))
        .collect();
    group.bench_function("kernels_only", |b| {
        b.iter(|| {
            let mut activations = vec![images.clone()];
            for w in &weights {
                let mut y = Array2::zeros((BATCH, w.nrows()));
                matmul_a_bt_into(
                    activations.last().unwrap().view(),
                    w.view(),
                    None,
                    y.view_mut(),
                );
                activations.push(y);
            }
            let mut g = Array2::from_elem((BATCH, 10), 0.1f32);
            for (layer, w) in weights.iter().enumerate().rev() {
                black_box(matmul_at_b(g.view(), activations[layer].view()));
                if layer > 0 {
                    g = matmul_a_b(g.view(), w.view());
                }
            }
            black_box(g)
        })
    });
    group.finish();
}

criterion_group!(benches, train_steps);
criterion_main!(benches);
