//! Bit-identical results for 1, 2 and 16 rayon threads: the matrix multiplies (every form, every
//! kernel path, shapes large enough to run in parallel with several k blocks), ReLU (also fused
//! into the product and into the column sums), softmax, log-softmax and column sums.

mod common;

use common::SplitMix;
use length_tensor::ndarray::{Array, Array1, Array2, Dimension, s};
use length_tensor::{
    column_sums, log_softmax_rows, matmul_a_b, matmul_a_b_relu_backward_into, matmul_a_bt_into,
    matmul_a_bt_relu_into, matmul_at_b, matmul_at_b_descend_into, matmul_at_b_update_into, relu,
    relu_backward, relu_backward_column_sums_into, softmax_rows, supported_kernel_paths,
    with_kernel_path,
};
use rayon::ThreadPoolBuilder;
use std::sync::atomic::{AtomicUsize, Ordering};

const THREAD_COUNTS: [usize; 3] = [1, 2, 16];

fn random(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut rng = SplitMix(seed);
    Array2::from_shape_simple_fn((rows, cols), || rng.next_f32())
}

/// Runs `f` on pools of 1, 2 and 16 threads and asserts all results have the same shape and the
/// same bits (so 0.0 and -0.0, or two NaNs, would count as different).
fn assert_thread_independent<D: Dimension>(what: &str, f: impl Fn() -> Array<f32, D> + Sync) {
    let results: Vec<(Vec<usize>, Vec<u32>)> = THREAD_COUNTS
        .iter()
        .map(|&threads| {
            let pool = ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let result = pool.install(&f);
            (
                result.shape().to_vec(),
                result.iter().map(|v| v.to_bits()).collect(),
            )
        })
        .collect();
    for (threads, result) in THREAD_COUNTS.iter().zip(&results).skip(1) {
        assert!(
            results[0] == *result,
            "{what}: 1 thread and {threads} threads differ"
        );
    }
}

#[test]
fn matmuls_are_thread_count_independent() {
    // MLP shapes plus odd ones: several k blocks (k > 512), edge tiles, the transposed orientation.
    let shapes = [(64, 784, 512), (64, 512, 10), (67, 1031, 131)];
    for (batch, inputs, outputs) in shapes {
        let x = random(batch, inputs, 1);
        let w = random(outputs, inputs, 2);
        let g = random(batch, outputs, 3);
        let bias = Array1::from_shape_fn(outputs, |j| j as f32 / 100.0);
        for path in supported_kernel_paths() {
            let shape = format!("{batch}x{inputs}x{outputs} on {path}");
            assert_thread_independent(&format!("forward {shape}"), || {
                with_kernel_path(path, || {
                    let mut y = Array2::zeros((batch, outputs));
                    matmul_a_bt_into(x.view(), w.view(), Some(bias.view()), y.view_mut());
                    y
                })
            });
            assert_thread_independent(&format!("forward through ReLU {shape}"), || {
                with_kernel_path(path, || {
                    let mut y = Array2::zeros((batch, outputs));
                    matmul_a_bt_relu_into(x.view(), w.view(), Some(bias.view()), y.view_mut());
                    y
                })
            });
            assert_thread_independent(&format!("input gradient {shape}"), || {
                with_kernel_path(path, || matmul_a_b(g.view(), w.view()))
            });
            assert_thread_independent(&format!("input gradient back through ReLU {shape}"), || {
                let y = x.mapv(|v| v - 0.5); // the input, as a ReLU's output would gate it
                with_kernel_path(path, || {
                    let mut dz = Array2::zeros((batch, inputs));
                    matmul_a_b_relu_backward_into(g.view(), w.view(), y.view(), dz.view_mut());
                    dz
                })
            });
            assert_thread_independent(&format!("weight gradient {shape}"), || {
                with_kernel_path(path, || matmul_at_b(g.view(), x.view()))
            });
            assert_thread_independent(&format!("SGD step inside the product {shape}"), || {
                with_kernel_path(path, || {
                    let mut w = w.clone();
                    matmul_at_b_update_into(g.view(), x.view(), w.view_mut(), &|_, _, w, p| {
                        for (w, &p) in w.iter_mut().zip(p) {
                            *w -= 0.1 * p;
                        }
                    });
                    w
                })
            });
            assert_thread_independent(&format!("SGD step in the microkernel {shape}"), || {
                with_kernel_path(path, || {
                    let mut w = w.clone();
                    matmul_at_b_descend_into(g.view(), x.view(), w.view_mut(), 0.1);
                    w
                })
            });
            // Strided operands take the packing paths.
            assert_thread_independent(&format!("transposed operands {shape}"), || {
                with_kernel_path(path, || matmul_a_b(x.t(), g.view()))
            });
        }
    }
}

/// An update that depends on where each element is (as Adam's moment estimates do) sees every
/// element once, at its own indices, whichever way the threads split C: by rows of tiles for a
/// hidden layer, by columns for an output layer of 10 units (no more tile rows than threads).
#[test]
fn updates_see_every_element_once_at_its_indices_for_any_thread_count() {
    for (batch, inputs, outputs) in [(64, 512, 10), (64, 784, 512), (64, 1000, 3)] {
        let x = random(batch, inputs, 10);
        let g = random(batch, outputs, 11);
        let w = random(outputs, inputs, 12);
        for path in supported_kernel_paths() {
            let shape = format!("{batch}x{inputs}x{outputs} on {path}");
            assert_thread_independent(&format!("index-dependent update {shape}"), || {
                with_kernel_path(path, || {
                    let mut w = w.clone();
                    let visits = AtomicUsize::new(0);
                    let rule = |i: usize, j0: usize, w: &mut [f32], p: &[f32]| {
                        visits.fetch_add(w.len(), Ordering::Relaxed);
                        for (j, (w, &p)) in (j0..).zip(w.iter_mut().zip(p)) {
                            *w -= 0.1 * p * (1 + i * inputs + j) as f32;
                        }
                    };
                    matmul_at_b_update_into(g.view(), x.view(), w.view_mut(), &rule);
                    assert_eq!(visits.into_inner(), outputs * inputs, "{shape}");
                    w
                })
            });
        }
    }
}

#[test]
fn element_wise_and_row_kernels_are_thread_count_independent() {
    let x = random(1024, 1024, 4).into_dyn();
    let g = random(1024, 1024, 5).into_dyn();
    assert_thread_independent("relu", || relu(x.view()));
    assert_thread_independent("relu_backward", || relu_backward(x.view(), g.view()));
    let logits = random(4096, 10, 6) * 30.0;
    assert_thread_independent("softmax_rows", || softmax_rows(logits.view()));
    assert_thread_independent("log_softmax_rows", || log_softmax_rows(logits.view()));
    let a = random(700, 1500, 7);
    assert_thread_independent("column_sums", || column_sums(a.view()));
    assert_thread_independent("column_sums of a transpose", || column_sums(a.t()));
    let (y, g) = (random(700, 1500, 8), random(700, 1500, 9));
    assert_thread_independent("relu_backward_column_sums", || {
        let (mut out, mut sums) = (Array2::zeros((700, 1500)), Array1::zeros(1500));
        relu_backward_column_sums_into(y.view(), g.view(), out.view_mut(), sums.view_mut());
        // Both results in one array: the gradient's rows, then the sums as one more row.
        let mut both = Array2::zeros((701, 1500));
        both.slice_mut(s![..700, ..]).assign(&out);
        both.row_mut(700).assign(&sums);
        both
    });
}
