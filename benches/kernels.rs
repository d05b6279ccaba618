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
//! throughput in bytes read plus written. The matrix-multiply groups, with their operands, are
//! defined once for this bench and the peer benchmarks, in `benches/products/mod.rs`.
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
//! The group `step_product_1thread` times the same eight products as one training step runs them
//! (ids `step_product_1thread/<form>_<shape>`), on a rayon pool of one thread: the weight
//! gradients in the form fused with SGD's step (`matmul_at_b_descend_into`, ids
//! `weight_gradient_sgd_update_...`), the hidden layers' forward products through ReLU
//! (`matmul_a_bt_relu_into`, ids `forward_relu_...`) and the input gradients back through ReLU
//! (`matmul_a_b_relu_backward_into`, ids `input_gradient_relu_...`), since that is what a step
//! runs. Before any benchmark, the bench measures one core's FMA peak (`benches/peak/mod.rs`),
//! prints it, and, when `LENGTH_BENCH_PEAK` names a file, writes it there as
//! `path<TAB>chains<TAB>GFLOP/s`; `cargo xtask bench` then prints each one-thread product's
//! share of that peak. The group `step_product_kernel_in_l1` times the microkernel alone on one
//! tile with its operands in L1 (`length_tensor::run_microkernel_in_cache`): what the products
//! could reach without packing, edge tiles and cache misses, printed beside the peak. After
//! criterion, the bench times the peak and the step's products once more, in turn, round after
//! round (`interleaved_share`), and writes the step's share of the peak to the file
//! `LENGTH_BENCH_SHARE` names. The filter `step_product` runs only these (`cargo xtask bench
//! step_product --quick`).
//!
//! LENGTH runs on rayon's global pool (all cores unless `RAYON_NUM_THREADS` says otherwise) with
//! the kernel path `LENGTH_KERNEL` or CPU detection picks. When `LENGTH_BENCH_INFO` names a file,
//! the bench writes one line there stating both (`cargo xtask bench` prints it under the table).

/// Allocated as the `length` command allocates: large blocks on a cache-line pair.
#[global_allocator]
static ALLOCATOR: length::tensor::CacheAligned = length::tensor::CacheAligned;

mod peak;
mod products;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use length::tensor::ndarray::{ArrayView2, ArrayViewMut2};
use length::tensor::{kernel_path, relu_backward_into, relu_into, run_microkernel_in_cache};
use products::{Contenders, cases, matrix};

/// ndarray's `dot` as its users call it: allocating the result, which `c` is not.
fn ndarray_dot(a: ArrayView2<f32>, b: ArrayView2<f32>, _c: ArrayViewMut2<f32>) {
    black_box(a.dot(&b));
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

/// The products of one training step as the step runs them (see [`products::Case::length_in_step`]),
/// each on a rayon pool of one thread: what one core achieves, for the share of its peak.
fn step_products_one_thread(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a rayon pool of one thread");
    let mut group = c.benchmark_group("step_product_1thread");
    for case in cases() {
        let mut out = case.output();
        group.throughput(Throughput::Elements(case.flops() as u64));
        group.bench_function(case.step_name(), |bench| {
            pool.install(|| bench.iter(|| case.length_in_step(black_box(out.view_mut()))))
        });
    }
    group.finish();
}

/// The microkernel alone on one tile whose operands sit in L1 (k = [`KERNEL_IN_L1_KC`]), group
/// `step_product_kernel_in_l1`: the ceiling of the products above, between them and the FMA peak.
fn microkernel_in_l1(c: &mut Criterion) {
    const CALLS: usize = 64;
    let path = kernel_path();
    let flops = run_microkernel_in_cache(path, KERNEL_IN_L1_KC, 1) * CALLS as u64;
    let mut group = c.benchmark_group("step_product_kernel_in_l1");
    group.throughput(Throughput::Elements(flops));
    group.bench_function(path.name(), |bench| {
        bench.iter(|| run_microkernel_in_cache(path, black_box(KERNEL_IN_L1_KC), CALLS))
    });
    group.finish();
}

/// The k of [`microkernel_in_l1`], the products' k block when B's panel stays in L1: on AVX-512
/// the packed B panel (96 x 64 floats) is 24 KiB and A's (6 x 96) 2.25 KiB.
const KERNEL_IN_L1_KC: usize = 96;

/// Measures one core's FMA peak, prints it, and writes it to the file `LENGTH_BENCH_PEAK` names,
/// if any. Under `cargo test` (no `--bench`), one short repetition only checks that it runs.
fn fma_peak() {
    let peak = if benchmarking() {
        peak::measure(Duration::from_millis(80), 7)
    } else {
        peak::measure(Duration::from_millis(1), 1)
    };
    println!(
        "one core's FMA peak ({}, {} chains): {:.1} GFLOP/s",
        peak.path,
        peak::CHAINS,
        peak.gflop_per_second
    );
    if let Some(path) = std::env::var_os("LENGTH_BENCH_PEAK") {
        let line = format!(
            "{}\t{}\t{:.3}\n",
            peak.path,
            peak::CHAINS,
            peak.gflop_per_second
        );
        if let Err(error) = std::fs::write(&path, line) {
            eprintln!("kernels bench: could not write LENGTH_BENCH_PEAK: {error}");
        }
    }
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
    fma_peak();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
        .configure_from_args();

    let contenders = Contenders {
        length: "length",
        peers: &[("ndarray_dot", ndarray_dot)],
    };
    contenders.bench(&mut c);
    relu(&mut c, 64, 512);
    relu(&mut c, 1024, 1024);
    step_products_one_thread(&mut c);
    microkernel_in_l1(&mut c);
    c.final_summary();
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    if benchmarking() && filter.is_none_or(|filter| "step_product_1thread".contains(&filter)) {
        interleaved_share(SHARE_ROUNDS);
    }
}

/// Whether this is a benchmark run: `cargo bench` passes `--bench`; `cargo test` runs the
/// benchmarks once without it.
fn benchmarking() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

/// Rounds of [`interleaved_share`]: about 12 ms each (the peak, best of three ~1 ms runs, and
/// about a millisecond of each product).
const SHARE_ROUNDS: usize = 100;

/// One core's FMA peak and the step's eight products, timed in turn round after round on a rayon
/// pool of one thread; each round's share is the products' flops over their summed times, over
/// that round's peak. The criterion figures above time each product for seconds, minutes apart
/// from the peak; on a shared machine whose speed drifts that moves the step's share by several
/// points from run to run, while the rounds here see the same machine for the peak and every
/// product. Prints the share's median and quartiles and writes
/// `rounds<TAB>lower quartile<TAB>median<TAB>upper quartile<TAB>median peak GFLOP/s` to the file
/// `LENGTH_BENCH_SHARE` names, if any (`cargo xtask bench` prints it under the products).
fn interleaved_share(rounds: usize) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a rayon pool of one thread");
    let cases = cases();
    let mut outputs: Vec<_> = cases.iter().map(|case| case.output()).collect();
    // About a millisecond of each product per round at 100 GFLOP/s.
    let batches: Vec<usize> = cases
        .iter()
        .map(|case| (100_000_000 / case.flops()).clamp(4, 10_000))
        .collect();
    let step_flops: f64 = cases.iter().map(|case| case.flops() as f64).sum();
    let (shares, peaks): (Vec<f64>, Vec<f64>) = pool.install(|| {
        (0..rounds)
            .map(|_| {
                let peak = peak::measure(Duration::from_millis(1), 3).gflop_per_second;
                let mut step_seconds = 0.0;
                for ((case, out), &batch) in cases.iter().zip(&mut outputs).zip(&batches) {
                    let start = std::time::Instant::now();
                    for _ in 0..batch {
                        case.length_in_step(black_box(out.view_mut()));
                    }
                    step_seconds += start.elapsed().as_secs_f64() / batch as f64;
                }
                (step_flops / step_seconds / 1e9 / peak, peak)
            })
            .unzip()
    });
    let [low, median, high] = products::quartiles(shares);
    let peak = products::quartiles(peaks)[1];
    println!(
        "interleaved, {rounds} rounds of the peak and the step's products in turn: the step's \
         products {:.1}% of the peak (quartiles {:.1}% - {:.1}%), peak {peak:.1} GFLOP/s",
        100.0 * median,
        100.0 * low,
        100.0 * high
    );
    if let Some(path) = std::env::var_os("LENGTH_BENCH_SHARE") {
        let line = format!("{rounds}\t{low:.5}\t{median:.5}\t{high:.5}\t{peak:.3}\n");
        if let Err(error) = std::fs::write(&path, line) {
            eprintln!("kernels bench: could not write LENGTH_BENCH_SHARE: {error}");
        }
    }
}
