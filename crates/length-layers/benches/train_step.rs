//! One training step of the course notebook's ActivatedMLP (784-512-512-10, ReLU, MSE) on a
//! batch of 64, against the bare kernels the step is made of: the difference is what the graph
//! costs (bookkeeping, allocation, element-wise passes).
//!
//! Run: `cargo bench -p length-layers --bench train_step`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use length_autograd::Graph;
use length_layers::{ActivatedMLP, Model};
use length_optim::Sgd;
use length_tensor::{Labels, matmul_a_b, matmul_a_bt_into, matmul_at_b};
use ndarray::Array2;

const BATCH: usize = 64;

fn images() -> Array2<f32> {
    Array2::from_shape_fn((BATCH, 784), |(i, j)| {
        ((i * 31 + j * 7) % 255) as f32 / 255.0
    })
}

fn train_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("activated_mlp_batch_64");
    group.sample_size(20);
    let images = images();
    let labels = Labels::from_shape_fn(BATCH, |i| (i % 10) as u32);

    let mut model = ActivatedMLP::new();
    let mut optimizer = Sgd::with_learning_rate(0.001);
    group.bench_function("graph_train_step", |b| {
        b.iter(|| {
            let mut graph = Graph::new();
            let x = graph.constant(images.clone());
            let t = graph.labels(labels.clone());
            let pass = model.forward_with_loss(&mut graph, x, t).unwrap();
            graph.backward(pass.loss, &mut optimizer);
            black_box(graph.scalar(pass.loss))
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

criterion_group!(benches, train_step);
criterion_main!(benches);
