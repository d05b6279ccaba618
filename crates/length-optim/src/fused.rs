//! One fused pass over a parameter-sized array and its companions.
//!
//! Every optimizer here is element-wise: element `i` of the new parameter (or delta) depends only
//! on element `i` of the gradient and of the optimizer's state arrays. So an update is one pass
//! that visits each element once, reads the gradient, updates the state and writes the result
//! in place — no temporaries.
//!
//! The pass runs in parallel (rayon, [`CHUNK`]-element pieces of the contiguous slices) once an
//! array has at least [`PARALLEL_THRESHOLD`] elements; smaller arrays (biases) are not worth the
//! hand-off. Because each element is computed by the same expression whichever thread runs it,
//! the results are bit-identical for any number of threads. Arrays that are not all in standard
//! (row-major, contiguous) layout take a sequential [`ndarray::Zip`] instead, which pairs
//! elements by index whatever their strides.
//!
//! Each sequential loop is compiled three times, for AVX-512, AVX2 and the SSE2 baseline, and runs
//! the widest the CPU supports (`widest_simd`): Adam's pass (a square root, a division and some
//! twenty other operations per element) takes half the time with 16 lanes as with 4.
//!
//! The closures receive mutable references to the outputs and the gradient value, in that order.
//! Pass `move` closures: captured by value, their constants stay in registers.

use ndarray::{ArrayViewD, ArrayViewMutD, Zip};
use rayon::prelude::*;

/// State smaller in magnitude than this is set to zero by [`flush_tiny`].
pub(crate) const TINY: f32 = 1e-30;

/// `x`, or zero if `|x| < 1e-30` ([`TINY`]): for state that the update multiplies by the
/// learning rate (Adam's first moment, momentum's velocity).
///
/// Such state decays geometrically once its gradient has become 0 (`m ← β·m` for the weights of a
/// pixel that is almost always blank, or of a unit that ReLU switched off), and after some hundred
/// steps the product `η·m` falls below `f32::MIN_POSITIVE` (1.2·10⁻³⁸) into the subnormal
/// numbers, long before `m` itself does. x86 CPUs compute with subnormal numbers in microcode, a
/// hundred cycles or so per operation: with thousands of such moments, the later epochs of an MNIST
/// run with Adam took half as long again as the first. Below 10⁻³⁰ (`η·m` stays normal for any
/// learning rate from 10⁻⁸ up) the state is set to zero instead. That changes no parameter: such a
/// moment moves one by less than `η·10⁻³⁰/ε` = `η·10⁻²²`, far below the last bit of any weight
/// larger than 10⁻¹⁴. NaN and infinities pass unchanged; the comparison and the select
/// vectorise.
#[inline(always)]
pub(crate) fn flush_tiny(x: f32) -> f32 {
    if x.abs() < TINY { 0.0 } else { x }
}

/// `x`, or zero if `x` is subnormal (nonzero and smaller in magnitude than `f32::MIN_POSITIVE`):
/// for state that only decays and feeds a square root (Adam's second moment), which stays out of
/// the subnormal range then. See [`flush_tiny`] for why.
#[inline(always)]
pub(crate) fn flush_subnormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x }
}

/// Arrays with at least this many elements are updated in parallel.
pub(crate) const PARALLEL_THRESHOLD: usize = 1 << 15;

/// The number of elements one rayon task handles (32 KiB of `f32` per array).
pub(crate) const CHUNK: usize = 1 << 13;

/// `f(&mut a[i], gradient[i])` for every element `i`.
pub(crate) fn zip_1<F>(mut a: ArrayViewMutD<f32>, gradient: ArrayViewD<f32>, f: F)
where
    F: Fn(&mut f32, f32) + Sync + Copy,
{
    debug_assert_eq!(a.shape(), gradient.shape());
    if !(a.is_standard_layout() && gradient.is_standard_layout()) {
        Zip::from(&mut a).and(&gradient).for_each(|a, &g| f(a, g));
        return;
    }
    let a = a.as_slice_mut().expect("standard layout is contiguous");
    let gradient = gradient.to_slice().expect("standard layout is contiguous");
    if a.len() >= PARALLEL_THRESHOLD {
        a.par_chunks_mut(CHUNK)
            .zip(gradient.par_chunks(CHUNK))
            .for_each(|(a, g)| slices_1(f, a, g));
    } else {
        slices_1(f, a, gradient);
    }
}

/// `f(&mut a[i], &mut b[i], gradient[i])` for every element `i`.
pub(crate) fn zip_2<F>(
    mut a: ArrayViewMutD<f32>,
    mut b: ArrayViewMutD<f32>,
    gradient: ArrayViewD<f32>,
    f: F,
) where
    F: Fn(&mut f32, &mut f32, f32) + Sync + Copy,
{
    debug_assert_eq!(a.shape(), gradient.shape());
    debug_assert_eq!(b.shape(), gradient.shape());
    if !(a.is_standard_layout() && b.is_standard_layout() && gradient.is_standard_layout()) {
        Zip::from(&mut a)
            .and(&mut b)
            .and(&gradient)
            .for_each(|a, b, &g| f(a, b, g));
        return;
    }
    let a = a.as_slice_mut().expect("standard layout is contiguous");
    let b = b.as_slice_mut().expect("standard layout is contiguous");
    let gradient = gradient.to_slice().expect("standard layout is contiguous");
    if a.len() >= PARALLEL_THRESHOLD {
        a.par_chunks_mut(CHUNK)
            .zip(b.par_chunks_mut(CHUNK))
            .zip(gradient.par_chunks(CHUNK))
            .for_each(|((a, b), g)| slices_2(f, a, b, g));
    } else {
        slices_2(f, a, b, gradient);
    }
}

/// `f(&mut a[i], &mut b[i], &mut c[i], gradient[i])` for every element `i`.
pub(crate) fn zip_3<F>(
    mut a: ArrayViewMutD<f32>,
    mut b: ArrayViewMutD<f32>,
    mut c: ArrayViewMutD<f32>,
    gradient: ArrayViewD<f32>,
    f: F,
) where
    F: Fn(&mut f32, &mut f32, &mut f32, f32) + Sync + Copy,
{
    debug_assert_eq!(a.shape(), gradient.shape());
    debug_assert_eq!(b.shape(), gradient.shape());
    debug_assert_eq!(c.shape(), gradient.shape());
    let standard = a.is_standard_layout()
        && b.is_standard_layout()
        && c.is_standard_layout()
        && gradient.is_standard_layout();
    if !standard {
        Zip::from(&mut a)
            .and(&mut b)
            .and(&mut c)
            .and(&gradient)
            .for_each(|a, b, c, &g| f(a, b, c, g));
        return;
    }
    let a = a.as_slice_mut().expect("standard layout is contiguous");
    let b = b.as_slice_mut().expect("standard layout is contiguous");
    let c = c.as_slice_mut().expect("standard layout is contiguous");
    let gradient = gradient.to_slice().expect("standard layout is contiguous");
    if a.len() >= PARALLEL_THRESHOLD {
        a.par_chunks_mut(CHUNK)
            .zip(b.par_chunks_mut(CHUNK))
            .zip(c.par_chunks_mut(CHUNK))
            .zip(gradient.par_chunks(CHUNK))
            .for_each(|(((a, b), c), g)| slices_3(f, a, b, c, g));
    } else {
        slices_3(f, a, b, c, gradient);
    }
}

// The sequential loops over equal-length slices. `f` comes by value (it is `Copy`, and the
// optimizers pass `move` closures holding a few `f32` constants), so the constants live in
// registers and the compiler can vectorise the loop: nothing it reads can alias what it writes.
// Each loop is compiled for the widest vectors the CPU has (see `widest_simd`).

pub(crate) fn slices_1<F: Fn(&mut f32, f32)>(f: F, a: &mut [f32], gradient: &[f32]) {
    widest_simd(
        #[inline(always)]
        || {
            for (a, &g) in a.iter_mut().zip(gradient) {
                f(a, g);
            }
        },
    );
}

pub(crate) fn slices_2<F: Fn(&mut f32, &mut f32, f32)>(
    f: F,
    a: &mut [f32],
    b: &mut [f32],
    gradient: &[f32],
) {
    widest_simd(
        #[inline(always)]
        || {
            for ((a, b), &g) in a.iter_mut().zip(b).zip(gradient) {
                f(a, b, g);
            }
        },
    );
}

pub(crate) fn slices_3<F: Fn(&mut f32, &mut f32, &mut f32, f32)>(
    f: F,
    a: &mut [f32],
    b: &mut [f32],
    c: &mut [f32],
    gradient: &[f32],
) {
    widest_simd(
        #[inline(always)]
        || {
            for (((a, b), c), &g) in a.iter_mut().zip(b).zip(c).zip(gradient) {
                f(a, b, c, g);
            }
        },
    );
}

/// Runs `pass` compiled for the widest SIMD instructions this CPU has: AVX-512 (16 floats at a
/// time), AVX2 (8), or the x86-64 baseline SSE2 (4) that the crate is built for.
///
/// The update rules are a handful of multiplies, adds, a square root and a division per element;
/// with 16 lanes instead of 4, Adam's pass runs about twice as fast. The results are the same bits
/// on every path: each lane does the same IEEE-754 operations, and Rust never fuses a multiply
/// and an add into an FMA on its own. (On other architectures `pass` simply runs as compiled.)
#[inline(always)]
fn widest_simd(pass: impl FnOnce()) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F: it was detected just above.
            return unsafe { with_avx512(pass) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2: it was detected just above.
            return unsafe { with_avx2(pass) };
        }
    }
    pass()
}

/// `pass()`, with `pass` inlined and compiled for AVX-512F.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn with_avx512(pass: impl FnOnce()) {
    pass()
}

/// `pass()`, with `pass` inlined and compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn with_avx2(pass: impl FnOnce()) {
    pass()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ArrayD, ShapeBuilder};

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a rayon pool")
    }

    /// A deterministic, irregular array of `len` values in [-1, 1).
    fn wiggle(len: usize, seed: u32) -> ArrayD<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        ArrayD::from_shape_fn(vec![len], |_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state as f32 / u32::MAX as f32) * 2.0 - 1.0
        })
    }

    #[test]
    fn parallel_pass_visits_every_element_once_for_any_thread_count() {
        let len = 3 * PARALLEL_THRESHOLD + 17;
        let gradient = wiggle(len, 1);
        let run = |threads: usize| {
            let mut a = wiggle(len, 2);
            let mut b = ArrayD::<f32>::zeros(vec![len]);
            let mut c = ArrayD::<f32>::zeros(vec![len]);
            pool(threads).install(|| {
                zip_3(
                    a.view_mut(),
                    b.view_mut(),
                    c.view_mut(),
                    gradient.view(),
                    |a, b, c, g| {
                        *b += 1.0;
                        *c = g.sqrt().max(0.5) * 1.5;
                        *a -= 0.3 * g / (*c + 1e-3);
                    },
                )
            });
            (a, b, c)
        };
        let (a1, b1, c1) = run(1);
        let (a2, b2, c2) = run(2);
        assert!(b1.iter().all(|&x| x == 1.0), "some element visited != once");
        assert_eq!(a1, a2);
        assert_eq!(b1, b2);
        assert_eq!(c1, c2);
    }

    #[test]
    fn tiny_state_flushes_to_zero_and_everything_else_passes() {
        assert_eq!(flush_tiny(9e-31), 0.0);
        assert_eq!(flush_tiny(-1e-35), 0.0);
        for x in [TINY, -TINY, 1e-20, -3.0, 0.0, f32::NEG_INFINITY] {
            assert_eq!(flush_tiny(x), x);
        }
        assert!(flush_tiny(f32::NAN).is_nan());
    }

    #[test]
    fn subnormals_flush_to_zero_and_everything_else_passes() {
        let smallest_normal = f32::MIN_POSITIVE;
        assert_eq!(flush_subnormal(smallest_normal / 2.0), 0.0);
        assert_eq!(flush_subnormal(-smallest_normal / 1024.0), 0.0);
        for x in [
            smallest_normal,
            -smallest_normal,
            1.0,
            -3e-20,
            0.0,
            f32::INFINITY,
        ] {
            assert_eq!(flush_subnormal(x), x);
        }
        assert!(flush_subnormal(f32::NAN).is_nan());
    }

    #[test]
    fn every_simd_path_gives_the_same_bits() {
        // The loops take the widest path the CPU has; the same element-wise formula on a plain
        // scalar loop must give the same bits (no fused multiply-add, exact sqrt and division).
        let len = 1000;
        let gradient = wiggle(len, 5);
        let formula = |a: &mut f32, b: &mut f32, g: f32| {
            *b = 0.999 * *b + 0.001 * (g * g);
            *a -= 0.01 * g / (b.sqrt() / 0.3 + 1e-8);
        };
        let (mut a, mut b) = (wiggle(len, 6), wiggle(len, 7).mapv(f32::abs));
        let (mut a_scalar, mut b_scalar) = (a.clone(), b.clone());
        zip_2(a.view_mut(), b.view_mut(), gradient.view(), formula);
        for ((a, b), &g) in a_scalar.iter_mut().zip(&mut b_scalar).zip(&gradient) {
            formula(a, b, g);
        }
        assert_eq!(a, a_scalar);
        assert_eq!(b, b_scalar);
    }

    #[test]
    fn strided_arrays_pair_elements_by_index() {
        // `a` is column-major, so the contiguous fast path must not be taken.
        let mut a = Array2::<f32>::zeros((3, 4).f());
        let mut b = Array2::<f32>::zeros((3, 4));
        let gradient = Array2::from_shape_fn((3, 4), |(i, j)| (10 * i + j) as f32);
        zip_2(
            a.view_mut().into_dyn(),
            b.view_mut().into_dyn(),
            gradient.view().into_dyn(),
            |a, b, g| {
                *a = g;
                *b = 2.0 * g;
            },
        );
        assert_eq!(a, gradient);
        assert_eq!(b, &gradient * 2.0);
    }

    #[test]
    fn small_and_large_arrays_agree() {
        let gradient = wiggle(PARALLEL_THRESHOLD + 5, 3);
        let mut large = ArrayD::<f32>::zeros(gradient.raw_dim());
        zip_1(large.view_mut(), gradient.view(), |a, g| *a = 0.25 * g);
        // The same values, visited sequentially in pieces below the threshold.
        let mut small = ArrayD::<f32>::zeros(gradient.raw_dim());
        for (piece, gradient_piece) in small
            .as_slice_mut()
            .unwrap()
            .chunks_mut(100)
            .zip(gradient.as_slice().unwrap().chunks(100))
        {
            let n = piece.len();
            zip_1(
                ArrayViewMutD::from_shape(vec![n], piece).unwrap(),
                ArrayViewD::from_shape(vec![n], gradient_piece).unwrap(),
                |a, g| *a = 0.25 * g,
            );
        }
        assert_eq!(large, small);
    }
}
