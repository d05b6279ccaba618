//! A layer's input gradient `g · W` with k, the layer's outputs, cut in two halves that two
//! threads compute side by side, each from its own rows of W:
//!
//! ```text
//! C = A[:, ..h] · B[..h, :]  +  A[:, h..] · B[h.., :]        (B = W: one row per output unit)
//!     └─ tasks 0-3: into C ──┘     └─ tasks 4-7: into P ──┘   (each a band of C's columns)
//! then C += P                                                (parallel over rows of C)
//! ```
//!
//! Taken back through a ReLU (`gate`, the ReLU's output), the sum is gated as it is taken:
//! `C = (C + P) · [gate > 0]`, still one pass.
//!
//! Why: a step uses W three times. The forward pass (`x · Wᵀ`) and the update (`W -= η gᵀ · x`)
//! split W between threads by rows, and the kernels' team gives each thread the same rows every
//! step ([`crate::team`]), so they stay in that core's cache. Split by columns, as the other
//! products split their output, `g · W` would make each core read half of the other core's rows
//! every step, and the update would then have to take them back: on the 784-512-512-10 MLP, one
//! megabyte between two caches per step. Split along k, each half reads exactly the rows of W that
//! the same thread updates.
//!
//! Each half is cut into [`BANDS_PER_HALF`] bands of columns, so that the kernels' team deals
//! one half to each of two threads, and a thread done early takes the other's last band: with
//! one task per half, one thread's half often ran some 10 µs longer than the other's (AMD Zen 4;
//! some 60 µs when the machine was disturbed), and there was nothing to take.
//!
//! **Determinism.** The split is fixed by the shapes (always two halves, whatever the number of
//! threads), each half is an ordinary product, and `C + P` is added in the same order on any
//! thread: the result is bit-identical for 1, 2 or 16 threads. It differs in the last bits from
//! one unsplit sum over k, as any other blocking would.

use super::layout::{MatMut, MatRef};
use super::workspace::{Slot, Workspace};
use super::{Output, gemm_on_path};
use crate::activation::relu_gradient_scalar;
use crate::kernel::KernelPath;
use crate::team;

/// The shortest k worth splitting: each half then still has 256 multiply-adds per element.
const SPLIT_K_MIN: usize = 512;

/// Bands of columns each half is cut into, a whole number of the kernel's panels wide: 4 bands
/// of 128 columns for the 512 outputs of a hidden layer on AVX-512. Inside a training step (AMD
/// Zen 4, two threads, quiet) the 512-unit layer's input gradient took 160-162 µs in 8 tasks
/// against 173-178 µs in 2 (bands of 64 columns: 162-164 µs), and a step 10-29 µs less; when
/// the machine was disturbed, 179-199 µs against 235-257 µs. One thread's epochs took 0.998x.
const BANDS_PER_HALF: usize = 4;

/// The most rows of C (samples in a batch) for which k is split: beyond it, the two halves'
/// partial products would be more memory traffic than the rows of W they keep in place.
const SPLIT_K_MAX_ROWS: usize = 256;

/// Whether the input gradient `c = a · b` is worth computing in two halves of k: B read along
/// its rows (W itself), C's rows contiguous, not empty, few rows of C and a long k.
pub(crate) fn applies(a: MatRef, b: MatRef, c: MatMut) -> bool {
    let rows_of_c = 1..=SPLIT_K_MAX_ROWS;
    b.cs == 1
        && b.rs > 0
        && c.cs == 1
        && c.cols > 0
        && rows_of_c.contains(&c.rows)
        && a.cols >= SPLIT_K_MIN
}

/// `c = a · b` as two half-k products side by side, then their sum (gated by `gate > 0` when
/// given).
pub(crate) fn gemm(path: KernelPath, a: MatRef, b: MatRef, c: MatMut, gate: Option<MatRef>) {
    let (m, n, k) = (c.rows, c.cols, a.cols);
    let half = k / 2;
    let mut partial = Workspace::take(Slot::Partial, m * n);
    let p = MatMut {
        ptr: partial.as_mut_slice().as_mut_ptr(),
        rows: m,
        cols: n,
        rs: n as isize,
        cs: 1,
    };
    let halves = [(0, half, c), (half, k - half, p)];
    let shape = path.tile_shape();
    let band_width = n
        .div_ceil(BANDS_PER_HALF)
        .next_multiple_of(shape.lanes * shape.nv);
    let bands = n.div_ceil(band_width);
    team::for_each(2 * bands, |task| {
        let (k0, len, target) = halves[task / bands];
        let j0 = task % bands * band_width;
        let cols = band_width.min(n - j0);
        let a_half = MatRef {
            ptr: a.at(0, k0),
            cols: len,
            ..a
        };
        let b_band = MatRef {
            ptr: b.at(k0, j0),
            rows: len,
            cols,
            ..b
        };
        let target_band = MatMut {
            ptr: target.at(0, j0),
            cols,
            ..target
        };
        gemm_on_path(path, a_half, b_band, target_band, None, Output::Store);
    });
    let partial = &*partial.as_mut_slice();
    team::for_each(m, |i| {
        // SAFETY: row i of C is inside C, which the caller borrows exclusively, and each task
        // writes a different row.
        let row = unsafe { std::slice::from_raw_parts_mut(c.at(i, 0), n) };
        let addends = &partial[i * n..(i + 1) * n];
        match gate {
            None => {
                for (value, &addend) in row.iter_mut().zip(addends) {
                    *value += addend;
                }
            }
            Some(gate) if gate.rows_are_contiguous() => {
                // SAFETY: the gate has C's shape, so its row i holds n contiguous elements.
                let gate_row = unsafe { std::slice::from_raw_parts(gate.at(i, 0), n) };
                for ((value, &addend), &on) in row.iter_mut().zip(addends).zip(gate_row) {
                    *value = relu_gradient_scalar(on, *value + addend);
                }
            }
            Some(gate) => {
                for (j, (value, &addend)) in row.iter_mut().zip(addends).enumerate() {
                    // SAFETY: (i, j) is inside the gate, which has C's shape.
                    let on = unsafe { *gate.at(i, j) };
                    *value = relu_gradient_scalar(on, *value + addend);
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::supported_kernel_paths;
    use crate::team::test_pool as pool;
    use ndarray::Array2;

    #[test]
    fn the_input_gradient_is_split_and_the_forward_product_is_not() {
        let g = Array2::<f32>::zeros((64, 512));
        let w = Array2::<f32>::zeros((512, 512));
        let mut out = Array2::<f32>::zeros((64, 512));
        let (a, b) = (MatRef::from_view(&g.view()), MatRef::from_view(&w.view()));
        let c = MatMut::from_view(&mut out.view_mut());
        assert!(applies(a, b, c));
        // x · Wᵀ reads W along its columns: the forward pass keeps its split by rows of W.
        assert!(!applies(a, b.t(), c));
        // A short k is not worth two halves.
        let short = MatRef { cols: 256, ..a };
        assert!(!applies(short, MatRef { rows: 256, ..b }, c));
    }

    #[test]
    fn split_products_match_the_reference_and_any_thread_count() {
        for (m, n, k) in [(64, 512, 512), (3, 20, 515), (64, 10, 600), (5, 300, 520)] {
            let a = Array2::from_shape_fn((m, k), |(i, p)| ((i * 7 + p * 3) % 11) as f32 - 5.0);
            let b = Array2::from_shape_fn((k, n), |(p, j)| ((j * 5 + p) % 13) as f32 * 0.25 - 1.5);
            for path in supported_kernel_paths() {
                let mut results = Vec::new();
                for threads in [1, 2, 3] {
                    let mut out = Array2::<f32>::zeros((m, n));
                    let c = MatMut::from_view(&mut out.view_mut());
                    let (a, b) = (MatRef::from_view(&a.view()), MatRef::from_view(&b.view()));
                    assert!(applies(a, b, c));
                    pool(threads).install(|| gemm(path, a, b, c, None));
                    results.push(out);
                }
                let expected = a.dot(&b);
                // Small integers and quarters: every product and partial sum is exact in f32.
                assert_eq!(results[0], expected, "{path} ({m}, {n}, {k})");
                assert!(results.iter().all(|r| *r == results[0]), "{path}");
            }
        }
    }
}
