//! One core's peak arithmetic rate: how many GFLOP/s a single thread reaches with fused
//! multiply-adds and nothing else, the ceiling the kernels bench holds the training step's
//! products against.
//!
//! The loop runs [`CHAINS`] independent accumulators, `acc = acc · a + b`, on the widest vector
//! path the CPU has (checked at run time): AVX-512 (16 lanes), else AVX2 with FMA (8 lanes), else
//! plain `f32` code. Each fused multiply-add counts 2 flops per lane. One chain alone would wait
//! for its previous result (an FMA takes about 4 cycles and a core starts up to 2 per cycle), so
//! 12 chains keep every FMA unit busy; they stay in registers (AVX2 has 16, AVX-512 32).
//!
//! Included by `benches/kernels.rs` as `mod peak;` (a directory module, like `products`).

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Independent accumulators: more than FMA latency (4 cycles) times FMA units (2).
pub const CHAINS: usize = 12;

/// One measured peak.
pub struct Peak {
    /// The vector path that ran: `AVX-512`, `AVX2+FMA` or `scalar`.
    pub path: &'static str,
    /// The best rate of all repetitions.
    pub gflop_per_second: f64,
}

/// One vector path: its name, its lanes, and its loop (`iterations` rounds of one FMA on each
/// chain, returning the sum of the accumulators).
struct Path {
    name: &'static str,
    lanes: usize,
    run: fn(iterations: u64) -> f32,
}

/// Measures the peak on the calling thread: the loop is sized to take about `window`, then
/// timed `repetitions` times; the fastest repetition counts (slower ones were interrupted).
pub fn measure(window: Duration, repetitions: usize) -> Peak {
    let path = widest_path();
    let time = |iterations: u64| {
        let start = Instant::now();
        black_box((path.run)(black_box(iterations)));
        start.elapsed()
    };
    // Calibrate: double until a run takes a tenth of the window, then scale.
    let mut iterations = 1_000;
    let mut elapsed = time(iterations);
    while elapsed < window / 10 {
        iterations *= 2;
        elapsed = time(iterations);
    }
    let iterations =
        ((iterations as f64 * window.as_secs_f64() / elapsed.as_secs_f64()) as u64).max(1);
    let best = (0..repetitions.max(1))
        .map(|_| time(iterations))
        .min()
        .expect("at least one repetition");
    let flops = iterations as f64 * (CHAINS * path.lanes * 2) as f64;
    Peak {
        path: path.name,
        gflop_per_second: flops / best.as_secs_f64() / 1e9,
    }
}

/// The widest path this CPU runs.
fn widest_path() -> Path {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            return Path {
                name: "AVX-512",
                lanes: 16,
                // SAFETY: the CPU has AVX-512F, checked just above.
                run: |iterations| unsafe { x86::avx512(iterations) },
            };
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return Path {
                name: "AVX2+FMA",
                lanes: 8,
                // SAFETY: the CPU has AVX2 and FMA, checked just above.
                run: |iterations| unsafe { x86::avx2(iterations) },
            };
        }
    }
    Path {
        name: "scalar",
        lanes: 1,
        run: scalar,
    }
}

/// The factor and the term of every chain's `acc · a + b`, hidden from the optimizer: with
/// `a` just under 1 the accumulators approach `b / (1 - a)` = 1 and never overflow or become
/// subnormal.
fn factor_and_term() -> (f32, f32) {
    black_box((0.999_999, 1e-6))
}

/// Plain `f32`: a multiply and an add per chain (the compiler may vectorize them; the flops are
/// the same).
fn scalar(iterations: u64) -> f32 {
    let (a, b) = factor_and_term();
    // Different starting values, so no two chains are the same computation.
    let mut accumulators: [f32; CHAINS] = std::array::from_fn(|chain| chain as f32);
    for _ in 0..iterations {
        for accumulator in &mut accumulators {
            *accumulator = *accumulator * a + b;
        }
    }
    accumulators.iter().sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{CHAINS, factor_and_term};
    use std::arch::x86_64::*;

    /// 16 lanes per FMA.
    #[target_feature(enable = "avx512f")]
    pub fn avx512(iterations: u64) -> f32 {
        let (a, b) = factor_and_term();
        let (a, b) = (_mm512_set1_ps(a), _mm512_set1_ps(b));
        let mut accumulators: [__m512; CHAINS] =
            std::array::from_fn(|chain| _mm512_set1_ps(chain as f32));
        for _ in 0..iterations {
            for accumulator in &mut accumulators {
                *accumulator = _mm512_fmadd_ps(*accumulator, a, b);
            }
        }
        let sum = accumulators
            .into_iter()
            .fold(_mm512_setzero_ps(), |sum, accumulator| {
                _mm512_add_ps(sum, accumulator)
            });
        _mm512_reduce_add_ps(sum)
    }

    /// 8 lanes per FMA.
    #[target_feature(enable = "avx2,fma")]
    pub fn avx2(iterations: u64) -> f32 {
        let (a, b) = factor_and_term();
        let (a, b) = (_mm256_set1_ps(a), _mm256_set1_ps(b));
        let mut accumulators: [__m256; CHAINS] =
            std::array::from_fn(|chain| _mm256_set1_ps(chain as f32));
        for _ in 0..iterations {
            for accumulator in &mut accumulators {
                *accumulator = _mm256_fmadd_ps(*accumulator, a, b);
            }
        }
        let sum = accumulators
            .into_iter()
            .fold(_mm256_setzero_ps(), |sum, accumulator| {
                _mm256_add_ps(sum, accumulator)
            });
        let mut lanes = [0.0f32; 8];
        // SAFETY: `lanes` holds 8 floats; the unaligned store needs no alignment.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
        lanes.iter().sum()
    }
}
