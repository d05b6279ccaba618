//! Kernel benchmarks: LENGTH's matrix multiplies and ReLU at the shapes of the 784-512-512-10
//! MLP with batch 64, each next to ndarray's `dot` (or `Zip`) on the same data and layout.
//!
//! Run with `cargo bench -p length --bench kernels` (optionally followed by a filter such as
//! `forward`), or `cargo xtask bench`, which also runs the peer benchmarks (`benches/peers`: the
//! `gemm` and `matrixmultiply` crates) and prints one table of GFLOP/s, GB/s and ratios.
//!
//! Benchmark ids are `<group>/<implementation>`: the group names the form and the shape
//! (`forward_64x784_by_512x784T`), the implementation is `length`, `ndarray_dot` or
//! `ndarray_zip`. Matrix-multiply throughput is counted in flops (2·m·n·k "elements"), ReLU
//! throughput in bytes read plus written.
//!
//! The baseline is ndarray's `dot` as a user of ndarray gets it: ndarray's default features,
//! under which its matrixmultiply backend has neither `threading` nor `avx512` and runs on the
//! calling thread (AVX2+FMA microkernel). `cargo bench -p length` resolves features for the
//! `length` package alone, whose graph holds no other user of matrixmultiply; check with
//! `cargo tree -p length -e features -i matrixmultiply` (features `cgemm` and `std` only). A
//! whole-workspace `cargo bench` unifies features with `benches/peers`, which turns on
//! matrixmultiply's `threading` and `avx512`; this bench then pins `MATMUL_NUM_THREADS=1` so that
//! `dot` stays single-threaded (its AVX-512 kernel cannot be turned off at run time).
//!
//! LENGTH runs on rayon's global pool (all cores unless `RAYON_NUM_THREADS` says otherwise) with
//! the kernel path `LENGTH_KERNEL` or CPU detection picks. When `LENGTH_BENCH_INFO` names a file,
//! the bench writes one line there stating both (`cargo xtask bench` prints it under the table).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use length::tensor::ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};
use length::tensor::{
    kernel_path, matmul_a_b_into, matmul_a_bt_into, matmul_at_b_into, relu_backward_into, relu_into,
};

/// A deterministic pseudo-random matrix with values in [-1, 1).
fn matrix(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Array2::from_shape_simple_fn((rows, cols), || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    })
}

/// Benchmarks `C = lhs · rhs` (both views in the layout the layer really has) by LENGTH's
/// `length_kernel` and by ndarray's `dot`.
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
    group.bench_function("length", |bench| {
        bench.iter(|| length_kernel(black_box(out.view_mut())))
    });
    group.bench_function("ndarray_dot", |bench| {
        bench.iter(|| black_box(lhs).dot(&black_box(rhs)))
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

/// ReLU forward and backward on a (rows, cols) batch, next to ndarray's element-wise `Zip`.
fn relu(c: &mut Criterion, rows: usize, cols: usize) {
    let x = matrix(rows, cols, 4).into_dyn();
    let grad = matrix(rows, cols, 5).into_dyn();
    let mut out = x.clone();
    let elements = (rows * cols) as u64;
    let float = size_of::<f32>() as u64;

    let mut group = c.benchmark_group(format!("relu_forward_{rows}x{cols}"));
    group.throughput(Throughput::Bytes(2 * elements * float));
    group.bench_function("length", |bench| {
        bench.iter(|| relu_into(black_box(x.view()), out.view_mut()))
    });
    group.bench_function("ndarray_zip", |bench| {
        bench.iter(|| {
            ndarray::Zip::from(&mut out)
                .and(black_box(&x))
                .for_each(|o, &v| *o = v.max(0.0))
        })
    });
    group.finish();

    let mut group = c.benchmark_group(format!("relu_backward_{rows}x{cols}"));
    group.throughput(Throughput::Bytes(3 * elements * float));
    group.bench_function("length", |bench| {
        bench.iter(|| relu_backward_into(black_box(x.view()), grad.view(), out.view_mut()))
    });
    group.bench_function("ndarray_zip", |bench| {
        bench.iter(|| {
            ndarray::Zip::from(&mut out)
                .and(black_box(&x))
                .and(&grad)
                .for_each(|o, &v, &g| *o = if v > 0.0 { g } else { 0.0 })
        })
    });
    group.finish();
}

/// The line `cargo xtask bench` prints under its table: the kernel path and the thread count.
fn environment_line() -> String {
    format!(
        "length: kernel path {}, {} rayon threads, on {} cores",
        kernel_path(),
        rayon::current_num_threads(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    )
}

fn main() {
    // SAFETY: no other thread exists yet; matrixmultiply (with `threading`, which only a
    // whole-workspace build turns on) reads the variable on first use.
    unsafe { std::env::set_var("MATMUL_NUM_THREADS", "1") };
    if let Some(path) = std::env::var_os("LENGTH_BENCH_INFO")
        && let Err(error) = std::fs::write(&path, environment_line() + "\n")
    {
        eprintln!("kernels bench: could not write LENGTH_BENCH_INFO: {error}");
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
    relu(&mut c, 64, 512);
    relu(&mut c, 1024, 1024);
    c.final_summary();
}
