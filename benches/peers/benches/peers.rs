//! LENGTH's matrix multiplies next to the two fastest pure-Rust SGEMMs, in the same process, at
//! the shapes of one training step of the 784-512-512-10 MLP with batch 64.
//!
//! Run with `cargo bench -p length-peer-benches` (optionally followed by a filter), or
//! `cargo xtask bench`, which runs this after the `kernels` bench of the `length` package and
//! prints one table.
//!
//! The peers, each as fast as its features make it:
//! - `gemm` 0.19 with its `x86-v4` feature, which turns on the AVX-512 microkernels
//!   (`gemm-common/x86-v4` -> `pulp/x86-v4`; stable since Rust 1.89) next to the default AVX2+FMA
//!   ones; it picks the widest the CPU supports at run time. Parallel on rayon's global pool
//!   (`Parallelism::Rayon(0)`: all of rayon's threads, as LENGTH uses).
//! - `matrixmultiply` 0.3 with `avx512` and `threading`; `MATMUL_NUM_THREADS` is set to the number
//!   of cores unless already set (its own default is the number of physical cores).
//!
//! Benchmark ids are `<group>/<implementation>`: the group is the one the `kernels` bench uses
//! for the same form and shape (`forward_64x784_by_512x784T`); the implementations are
//! `length_vs_peers` (LENGTH measured again in this process, so that each ratio compares two
//! numbers from one run), `gemm` and `matrixmultiply`. Throughput is counted in flops (2·m·n·k
//! "elements"). In `cargo test` criterion runs each benchmark once, as a smoke test.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use length_tensor::{matmul_a_b_into, matmul_a_bt_into, matmul_at_b_into};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

/// A deterministic pseudo-random matrix with values in [-1, 1) (the same as the `kernels` bench).
fn matrix(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Array2::from_shape_simple_fn((rows, cols), || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    })
}

/// `c = a · b` by the `gemm` crate on all rayon threads, for any strides.
fn gemm_crate(a: ArrayView2<f32>, b: ArrayView2<f32>, mut c: ArrayViewMut2<f32>) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the pointers and strides come from live views of the stated shapes; `c` is
    // exclusively borrowed and does not overlap `a` or `b`; `read_dst = false` means `c` is only
    // written.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cs,
            c_rs,
            false,
            a.as_ptr(),
            a.strides()[1],
            a.strides()[0],
            b.as_ptr(),
            b.strides()[1],
            b.strides()[0],
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(0),
        );
    }
}

/// `c = a · b` by `matrixmultiply` (`MATMUL_NUM_THREADS` threads).
fn matrixmultiply_crate(a: ArrayView2<f32>, b: ArrayView2<f32>, mut c: ArrayViewMut2<f32>) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    // SAFETY: as for `gemm_crate`; beta = 0 means `c` is only written.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            a.strides()[0],
            a.strides()[1],
            b.as_ptr(),
            b.strides()[0],
            b.strides()[1],
            0.0,
            c.as_mut_ptr(),
            c_rs,
            c_cs,
        );
    }
}

/// Benchmarks `C = lhs · rhs` (both views in the layout the layer really has) by LENGTH's
/// `length_kernel` and by the two peers.
fn bench_product(
    group: &mut BenchmarkGroup<'_, WallTime>,
    lhs: ArrayView2<f32>,
    rhs: ArrayView2<f32>,
    length_kernel: &dyn Fn(ArrayViewMut2<f32>),
) {
    let (m, k) = lhs.dim();
    let n = rhs.ncols();
    group.throughput(Throughput::Elements((2 * m * n * k) as u64));
    let mut out = Array2::<f32>::zeros((m, n));
    group.bench_function("length_vs_peers", |bench| {
        bench.iter(|| length_kernel(black_box(out.view_mut())))
    });
    group.bench_function("gemm", |bench| {
        bench.iter(|| gemm_crate(black_box(lhs), black_box(rhs), out.view_mut()))
    });
    group.bench_function("matrixmultiply", |bench| {
        bench.iter(|| matrixmultiply_crate(black_box(lhs), black_box(rhs), out.view_mut()))
    });
}

/// Forward `x · Wᵀ + b` for x (batch, inputs), W (outputs, inputs).
fn forward(c: &mut Criterion, batch: usize, inputs: usize, outputs: usize) {
    let x = matrix(batch, inputs, 1);
    let w = matrix(outputs, inputs, 2);
    let bias = Array1::from_elem(outputs, 0.1f32);
    let name = format!("forward_{batch}x{inputs}_by_{outputs}x{inputs}T");
    let mut group = c.benchmark_group(name);
    bench_product(&mut group, x.view(), w.t(), &|out| {
        matmul_a_bt_into(x.view(), w.view(), Some(bias.view()), out)
    });
    group.finish();
}

/// Input gradient `g · W` for g (batch, outputs), W (outputs, inputs).
fn input_gradient(c: &mut Criterion, batch: usize, inputs: usize, outputs: usize) {
    let g = matrix(batch, outputs, 3);
    let w = matrix(outputs, inputs, 2);
    let name = format!("input_gradient_{batch}x{outputs}_by_{outputs}x{inputs}");
    let mut group = c.benchmark_group(name);
    bench_product(&mut group, g.view(), w.view(), &|out| {
        matmul_a_b_into(g.view(), w.view(), out)
    });
    group.finish();
}

/// Weight gradient `gᵀ · x` for g (batch, outputs), x (batch, inputs).
fn weight_gradient(c: &mut Criterion, batch: usize, inputs: usize, outputs: usize) {
    let g = matrix(batch, outputs, 3);
    let x = matrix(batch, inputs, 1);
    let name = format!("weight_gradient_{batch}x{outputs}T_by_{batch}x{inputs}");
    let mut group = c.benchmark_group(name);
    bench_product(&mut group, g.t(), x.view(), &|out| {
        matmul_at_b_into(g.view(), x.view(), out)
    });
    group.finish();
}

fn main() {
    if std::env::var_os("MATMUL_NUM_THREADS").is_none() {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // SAFETY: no other thread exists yet; matrixmultiply reads the variable on first use.
        unsafe { std::env::set_var("MATMUL_NUM_THREADS", threads.to_string()) };
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
        .configure_from_args();

    for (inputs, outputs) in [(784, 512), (512, 512), (512, 10)] {
        forward(&mut c, 64, inputs, outputs);
    }
    for (inputs, outputs) in [(512, 512), (512, 10)] {
        input_gradient(&mut c, 64, inputs, outputs);
    }
    for (inputs, outputs) in [(784, 512), (512, 512), (512, 10)] {
        weight_gradient(&mut c, 64, inputs, outputs);
    }
    c.final_summary();
}
