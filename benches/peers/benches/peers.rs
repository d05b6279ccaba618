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
//!
//! Under `cargo bench` the bench then compares the same products once more, interleaved:
//! [`INTERLEAVED_ROUNDS`] rounds, each timing about a millisecond of products by LENGTH and by
//! each peer in turn, and reports the quartiles of the per-round ratios. On a shared machine
//! whose speed drifts over seconds, these ratios are steadier than the ratio of two criterion
//! medians measured seconds apart.
//!
//! The groups, with their operands, are defined once for both benches, in
//! `benches/products/mod.rs`.

/// Allocated as the `length` command allocates: large blocks on a cache-line pair.
#[global_allocator]
static ALLOCATOR: length_tensor::CacheAligned = length_tensor::CacheAligned;

#[path = "../../products/mod.rs"]
mod products;

use std::time::Duration;

use criterion::Criterion;
use ndarray::{ArrayView2, ArrayViewMut2};
use products::Contenders;

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

    let contenders = Contenders {
        length: "length_vs_peers",
        peers: &[
            ("gemm", gemm_crate),
            ("matrixmultiply", matrixmultiply_crate),
        ],
    };
    contenders.bench(&mut c);
    c.final_summary();
    // `cargo bench` passes `--bench`; `cargo test` runs the benchmarks once without it, and
    // needs no interleaved rounds.
    if std::env::args().any(|arg| arg == "--bench") {
        interleave(&contenders);
    }
}

/// Rounds of the interleaved comparison: a few seconds in all.
const INTERLEAVED_ROUNDS: usize = 200;

/// Runs the interleaved comparison (see `Contenders::interleaved`) on the cases that match the
/// command line's filter, prints it, and writes it as tab-separated lines to the file
/// `LENGTH_BENCH_INTERLEAVED` names, if any (`cargo xtask bench` prints it under its table):
/// `group, length median ns, then per peer: id, lower quartile, median, upper quartile`.
fn interleave(contenders: &Contenders) {
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    let results = contenders.interleaved(INTERLEAVED_ROUNDS, filter.as_deref());
    let mut lines = String::new();
    for result in &results {
        let mut fields = vec![result.name.clone(), format!("{:.1}", result.length_ns)];
        for (id, [low, median, high]) in &result.ratios {
            fields.push(id.clone());
            fields.extend([low, median, high].map(|ratio| format!("{ratio:.4}")));
        }
        lines.push_str(&fields.join("\t"));
        lines.push('\n');
        println!(
            "interleaved {}: length {:.0} ns",
            result.name, result.length_ns
        );
        for (id, [low, median, high]) in &result.ratios {
            println!("    vs {id}: {median:.3}x (quartiles {low:.3} - {high:.3})");
        }
    }
    if let Some(path) = std::env::var_os("LENGTH_BENCH_INTERLEAVED")
        && let Err(error) = std::fs::write(&path, lines)
    {
        eprintln!("peers bench: could not write LENGTH_BENCH_INTERLEAVED: {error}");
    }
}
