//! Kernel benchmarks: LENGTH's matrix multiplies and ReLU at the shapes of the 784-512-512-10
//! MLP with batch 64, each next to ndarray's `dot`, the `gemm` crate and `matrixmultiply` on the
//! same data and layout.
//!
//! Run with `cargo bench -p length --bench kernels` (optionally followed by a filter such as
//! `forward`), or `cargo xtask bench`, which also prints one table of GFLOP/s, GB/s and ratios.
//!
//! Benchmark ids are `<group>/<implementation>`: the group names the form and the shape
//! (`forward_64x784_by_512x784T`), the implementation is `length`, `ndarray_dot`, `gemm` or
//! `matrixmultiply`. Matrix-multiply throughput is counted in flops (2·m·n·k "elements"), ReLU
//! throughput in bytes read plus written.
//!
//! Threads: rayon (LENGTH, `gemm`) uses all cores; `matrixmultiply` (also behind ndarray's
//! `dot`) is told to do the same through `MATMUL_NUM_THREADS` unless that is already set.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use length::tensor::ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};
use length::tensor::{
    matmul_a_b_into, matmul_a_bt_into, matmul_at_b_into, relu_backward_into, relu_into,
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

/// `c = a · b` by the `gemm` crate, all rayon threads, for any strides.
fn gemm_crate(a: ArrayView2<f32>, b: ArrayView2<f32>, mut c: ArrayViewMut2<f32>) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the pointers and strides come from live views of the stated shapes; `c` is
    // exclusively borrowed and does not overlap `a` or `b`.
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

/// `c = a · b` by `matrixmultiply` (threading feature, `MATMUL_NUM_THREADS` threads).
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

/// The three operand roles of one benchmark: `C = lhs · rhs` with both given as views in the
/// layout the layer really has.
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
    relu(&mut c, 64, 512);
    relu(&mut c, 1024, 1024);
    c.final_summary();
}
