//! One fused pass over a parameter-sized array, its gradient and `N` state arrays: the engine of
//! every element-wise optimizer.
//!
//! An element-wise update rule computes element `i` of its result from element `i` of the
//! gradient and of its state arrays alone (SGD has no state, momentum one velocity, Adam two
//! moments). So an update is one pass that visits each element once, reads the gradient, updates
//! the state and writes the result in place: no temporaries. The rule comes as a closure
//! `f(&mut out[i], gradient[i], &mut [state_0[i], …, state_N−1[i]])`.
//!
//! [`update_pass`] documents how the pass runs: in parallel, with SIMD, in any layout.

use ndarray::{ArrayViewD, ArrayViewMutD};

use crate::team;

/// Arrays with at least this many elements are updated in parallel.
pub const UPDATE_PARALLEL_MIN: usize = 1 << 15;

/// The number of elements one task updates (32 KiB of `f32` per array).
pub const UPDATE_CHUNK: usize = 1 << 13;

/// `f(&mut out[i], gradient[i], &mut [states[0][i], …])` for every element `i` of `out`. The
/// state arrays are row-major and hold one element per element of `out`.
///
/// - **Parallel**: arrays of at least [`UPDATE_PARALLEL_MIN`] elements are split into
///   [`UPDATE_CHUNK`]-element pieces handled by the kernels' threads. Each element is computed
///   by the same expression whichever thread runs it, so the results are bit-identical for any
///   number of threads.
/// - **SIMD**: each sequential loop is compiled three times, for AVX-512, AVX2 and the SSE2
///   baseline, and runs the widest the CPU supports: Adam's pass (a square root, a division and
///   some twenty other operations per element) takes half the time with 16 lanes as with 4. The
///   bits are the same on every path: each lane does the same IEEE-754 operations, and Rust never
///   fuses a multiply and an add into an FMA on its own.
/// - **Layouts**: an output or gradient that is not in standard (row-major, contiguous) layout is
///   paired with the state by logical index, sequentially.
///
/// Pass `move` closures that hold a few `f32` constants: captured by value, they stay in
/// registers.
///
/// ```
/// use length_tensor::{update_pass, update_slices};
/// use ndarray::array;
///
/// // Momentum: v ← 0.9·v + g, p ← p − 0.1·v, on a parameter with one state array.
/// let rule = |p: &mut f32, g: f32, [v]: &mut [f32; 1]| {
///     *v = 0.9 * *v + g;
///     *p -= 0.1 * *v;
/// };
/// let mut parameter = array![1.0f32, 2.0].into_dyn();
/// let mut velocity = [0.5f32, 0.0];
/// let gradient = array![1.0f32, -1.0].into_dyn();
/// update_pass(parameter.view_mut(), [&mut velocity[..]], gradient.view(), rule);
/// assert_eq!(velocity, [0.9 * 0.5 + 1.0, -1.0]);
/// assert_eq!(parameter, array![1.0 - 0.1 * velocity[0], 2.0 - 0.1 * velocity[1]].into_dyn());
///
/// // The same rule on a piece of contiguous memory (the step fused into a matrix product).
/// let (mut piece, mut v) = ([1.0f32], [0.0f32]);
/// update_slices(&mut piece, [&mut v[..]], &[2.0], rule);
/// assert_eq!((piece, v), ([1.0 - 0.1 * 2.0], [2.0]));
/// ```
///
/// # Panics
/// If `gradient` does not have the shape of `out`, or a state array has another length.
pub fn update_pass<const N: usize, F>(
    mut out: ArrayViewMutD<f32>,
    states: [&mut [f32]; N],
    gradient: ArrayViewD<f32>,
    f: F,
) where
    F: Fn(&mut f32, f32, &mut [f32; N]) + Sync + Copy,
{
    assert_eq!(
        out.shape(),
        gradient.shape(),
        "update_pass: output {:?} but gradient {:?}",
        out.shape(),
        gradient.shape()
    );
    let len = out.len();
    assert_state_lengths(&states, len);
    if !(out.is_standard_layout() && gradient.is_standard_layout()) {
        // Strided views: pair by logical (row-major) index, which is the state's order.
        let states = states.map(<[f32]>::as_mut_ptr);
        for (i, (out, &g)) in out.iter_mut().zip(gradient.iter()).enumerate() {
            // SAFETY: i < len, every state's length (asserted), and the states are distinct
            // `&mut` slices, so the pointers neither dangle nor alias one another.
            unsafe { update_element(&f, out, g, states, i) };
        }
        return;
    }
    let out = out.as_slice_mut().expect("standard layout is contiguous");
    let gradient = gradient.to_slice().expect("standard layout is contiguous");
    if len < UPDATE_PARALLEL_MIN {
        return update_slices(out, states, gradient, f);
    }
    let states = SendPointers(states.map(<[f32]>::as_mut_ptr));
    team::for_each_chunk_mut(out, UPDATE_CHUNK, |chunk, out| {
        let offset = chunk * UPDATE_CHUNK;
        let gradient = &gradient[offset..offset + out.len()];
        let states = states.pointers().map(|state| {
            // SAFETY: the chunks of the states lie inside them (their lengths are `len`) and
            // are disjoint across tasks, as the chunks of `out` are.
            unsafe { std::slice::from_raw_parts_mut(state.add(offset), out.len()) }
        });
        update_slices(out, states, gradient, f);
    });
}

/// [`update_pass`] on equal-length slices, sequentially, compiled for the widest SIMD the CPU
/// has: the form a matrix product uses to step the rows it has just finished.
///
/// # Panics
/// If the lengths differ.
#[inline]
pub fn update_slices<const N: usize, F>(
    out: &mut [f32],
    states: [&mut [f32]; N],
    gradient: &[f32],
    f: F,
) where
    F: Fn(&mut f32, f32, &mut [f32; N]),
{
    assert_eq!(
        out.len(),
        gradient.len(),
        "update_slices: {} outputs but {} gradients",
        out.len(),
        gradient.len()
    );
    assert_state_lengths(&states, out.len());
    let states = states.map(<[f32]>::as_mut_ptr);
    widest_simd(
        #[inline(always)]
        move || {
            // The pointers as locals, read once: read from the closure in every iteration, they
            // might change with any store through them, and the loop ran unvectorised.
            let (states, out, gradient, f) = (states, out, gradient, f);
            for (i, (out, &g)) in out.iter_mut().zip(gradient).enumerate() {
                // SAFETY: i < out.len(), every state's length (asserted); distinct `&mut` slices.
                unsafe { update_element(&f, out, g, states, i) };
            }
        },
    );
}

/// Loads element `i` of every state, applies `f`, stores the state back.
///
/// # Safety
/// Every pointer must be valid for `i + 1` elements, and none may alias another or `out`.
#[inline(always)]
unsafe fn update_element<const N: usize, F>(
    f: &F,
    out: &mut f32,
    g: f32,
    states: [*mut f32; N],
    i: usize,
) where
    F: Fn(&mut f32, f32, &mut [f32; N]),
{
    // Plain loops over the constant N, which the compiler unrolls into registers.
    let mut state = [0.0f32; N];
    for k in 0..N {
        // SAFETY: as the caller promises.
        state[k] = unsafe { *states[k].add(i) };
    }
    f(out, g, &mut state);
    for k in 0..N {
        // SAFETY: as the caller promises.
        unsafe { *states[k].add(i) = state[k] };
    }
}

fn assert_state_lengths<const N: usize>(states: &[&mut [f32]; N], len: usize) {
    for (k, state) in states.iter().enumerate() {
        assert_eq!(
            state.len(),
            len,
            "update pass: state {k} has {} elements but the output has {len}",
            state.len()
        );
    }
}

/// The states' pointers, shared by the tasks of one parallel pass; each task touches a chunk of
/// its own.
#[derive(Clone, Copy)]
struct SendPointers<const N: usize>([*mut f32; N]);

impl<const N: usize> SendPointers<N> {
    /// The pointers (a method, so that closures capture the whole `Send` wrapper).
    fn pointers(self) -> [*mut f32; N] {
        self.0
    }
}

// SAFETY: the tasks of `update_pass` write disjoint chunks through these pointers, and the
// arrays outlive the pass (they are borrowed mutably for its duration).
unsafe impl<const N: usize> Send for SendPointers<N> {}
// SAFETY: as for `Send`.
unsafe impl<const N: usize> Sync for SendPointers<N> {}

/// Runs `pass` compiled for the widest SIMD instructions this CPU has: AVX-512 (16 floats at a
/// time), AVX2 (8), or the x86-64 baseline SSE2 (4) that the crate is built for. (On other
/// architectures `pass` simply runs as compiled.)
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
    use crate::team::test_pool as pool;
    use ndarray::{Array2, ArrayD, ShapeBuilder};

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
        let len = 3 * UPDATE_PARALLEL_MIN + 17;
        let gradient = wiggle(len, 1);
        let run = |threads: usize| {
            let mut a = wiggle(len, 2);
            let mut b = vec![0.0f32; len];
            let mut c = vec![0.0f32; len];
            pool(threads).install(|| {
                update_pass(
                    a.view_mut(),
                    [&mut b[..], &mut c[..]],
                    gradient.view(),
                    |a, g, [b, c]| {
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
    fn every_simd_path_gives_the_same_bits() {
        // The loops take the widest path the CPU has; the same element-wise formula on a plain
        // scalar loop must give the same bits (no fused multiply-add, exact sqrt and division).
        let len = 1000;
        let gradient = wiggle(len, 5);
        let formula = |a: &mut f32, g: f32, [b]: &mut [f32; 1]| {
            *b = 0.999 * *b + 0.001 * (g * g);
            *a -= 0.01 * g / (b.sqrt() / 0.3 + 1e-8);
        };
        let (mut a, b) = (wiggle(len, 6), wiggle(len, 7).mapv(f32::abs));
        let mut b = b.into_raw_vec_and_offset().0;
        let (mut a_scalar, mut b_scalar) = (a.clone(), b.clone());
        update_pass(a.view_mut(), [&mut b[..]], gradient.view(), formula);
        for ((a, b), &g) in a_scalar.iter_mut().zip(&mut b_scalar).zip(&gradient) {
            let mut state = [*b];
            formula(a, g, &mut state);
            *b = state[0];
        }
        assert_eq!(a, a_scalar);
        assert_eq!(b, b_scalar);
    }

    #[test]
    fn strided_arrays_pair_elements_by_index() {
        // `a` is column-major, so the contiguous fast path must not be taken.
        let mut a = Array2::<f32>::zeros((3, 4).f());
        let mut b = vec![0.0f32; 12];
        let gradient = Array2::from_shape_fn((3, 4), |(i, j)| (10 * i + j) as f32);
        update_pass(
            a.view_mut().into_dyn(),
            [&mut b[..]],
            gradient.view().into_dyn(),
            |a, g, [b]| {
                *a = g;
                *b = 2.0 * g;
            },
        );
        assert_eq!(a, gradient);
        let gradient_row_major: Vec<f32> = gradient.iter().map(|g| 2.0 * g).collect();
        assert_eq!(b, gradient_row_major);
    }

    #[test]
    fn small_and_large_arrays_agree() {
        let gradient = wiggle(UPDATE_PARALLEL_MIN + 5, 3);
        let mut large = ArrayD::<f32>::zeros(gradient.raw_dim());
        update_pass(large.view_mut(), [], gradient.view(), |a, g, _| {
            *a = 0.25 * g
        });
        // The same values, visited sequentially in pieces below the threshold.
        let mut small = ArrayD::<f32>::zeros(gradient.raw_dim());
        for (piece, gradient_piece) in small
            .as_slice_mut()
            .unwrap()
            .chunks_mut(100)
            .zip(gradient.as_slice().unwrap().chunks(100))
        {
            update_slices(piece, [], gradient_piece, |a, g, _| *a = 0.25 * g);
        }
        assert_eq!(large, small);
    }

    #[test]
    #[should_panic(expected = "state 1 has 2 elements but the output has 3")]
    fn a_short_state_is_refused() {
        let (mut a, mut b, mut c) = ([0.0f32; 3], [0.0f32; 3], [0.0f32; 2]);
        update_slices(&mut a, [&mut b[..], &mut c[..]], &[1.0; 3], |_, _, _| {});
    }
}
