//! Narrow products: at most [`MAX_COLUMNS`] columns of C, with A's rows and B's columns both
//! contiguous along k. The output layer's forward pass `x · Wᵀ` (64 x 512 by 512 x 10) is one.
//!
//! For them the blocked GEMM does poorly: a 10-column panel fills 10 of a vector's 16 lanes, and
//! packing the 10 columns of B (a transposing copy of all of W) costs about as much as the
//! multiply. But each element of C is a dot product of two contiguous arrays, a row of A and a
//! column of B, so the vectors can run along k instead:
//!
//! ```text
//! for each row i of A:
//!     partial[j] = 0 (16 lanes)            for j < n
//!     for each chunk of 16 along k:        one load of A's chunk, reused n times
//!         partial[j] += A[i, chunk] * B[chunk, j]        lane by lane, j < n
//!     C[i, j] = bias[j] + (the 16 lanes of partial[j] added pairwise) + the last k mod 16 terms
//! ```
//!
//! No packing, n independent accumulators to hide the multiply-add latency, and the order of every
//! sum fixed by the shapes alone: rows are split between threads (for products of at least
//! `PARALLEL_MIN_FLOPS`), never k, so the result does not depend on the number of threads.

use rayon::prelude::*;

use super::epilogue::Output;
use super::layout::{MatMut, MatRef};
use super::plan::PARALLEL_MIN_FLOPS;
use crate::kernel::KernelPath;

/// The most columns of C this form handles.
pub(crate) const MAX_COLUMNS: usize = 16;

/// Floats per chunk of k: one AVX-512 vector (also the portable path's chunk, and the fewest
/// elements of k a narrow product has).
const LANES: usize = 16;

/// Floats per chunk of k on the AVX2 path: one `ymm` register.
const AVX2_LANES: usize = 8;

/// Rows of C per parallel task.
const ROWS_PER_TASK: usize = 16;

/// Whether `C = A · B` is narrow: few columns of C, and A's rows and B's columns contiguous along
/// k with at least one whole chunk.
pub(crate) fn applies(a: MatRef, b: MatRef, c: MatMut) -> bool {
    c.cols <= MAX_COLUMNS && a.cs == 1 && b.rs == 1 && a.cols >= LANES
}

/// The operands of one narrow product, as every row of it needs them.
#[derive(Clone, Copy)]
struct Operands<'a> {
    a: MatRef,
    b: MatRef,
    c: MatMut,
    bias: Option<&'a [f32]>,
    output: Output<'a>,
}

/// `c = a · b (+ bias on every row)`, or `c −= scale · (a · b)`, for a narrow product (see
/// [`applies`]).
pub(crate) fn gemm(
    path: KernelPath,
    a: MatRef,
    b: MatRef,
    c: MatMut,
    bias: Option<&[f32]>,
    output: Output,
) {
    debug_assert!(applies(a, b, c));
    let (m, n, k) = (c.rows, c.cols, a.cols);
    let operands = Operands {
        a,
        b,
        c,
        bias,
        output,
    };
    let rows = |first: usize| {
        for i in first..(first + ROWS_PER_TASK).min(m) {
            // SAFETY: row i of A and columns 0..n of B are inside their matrices, each k
            // contiguous floats (`applies`); row i of C is written by this task only.
            unsafe { row(path, &operands, i) };
        }
    };
    if rayon::current_num_threads() > 1 && 2 * m * n * k >= PARALLEL_MIN_FLOPS {
        (0..m).into_par_iter().step_by(ROWS_PER_TASK).for_each(rows);
    } else {
        (0..m).step_by(ROWS_PER_TASK).for_each(rows);
    }
}

/// Row `i` of C on `path`.
///
/// # Safety
/// As for [`gemm`]: row `i` exists and the operands satisfy [`applies`]; `path` is supported.
unsafe fn row(path: KernelPath, operands: &Operands, i: usize) {
    // SAFETY: forwarded from the caller; each wrapper runs only where its features exist.
    unsafe {
        match path {
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => row_avx512(operands, i),
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => row_avx2(operands, i),
            _ => row_generic::<false, LANES>(operands, i),
        }
    }
}

/// [`row_generic`] compiled for AVX-512 with fused multiply-adds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn row_avx512(operands: &Operands, i: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { row_generic::<true, LANES>(operands, i) }
}

/// [`row_generic`] compiled for AVX2 with fused multiply-adds, 8 lanes at a time (one `ymm`
/// register per column: with 16 lanes, ten columns' accumulators would not fit AVX2's sixteen
/// registers and would spill to the stack).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn row_avx2(operands: &Operands, i: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { row_generic::<true, AVX2_LANES>(operands, i) }
}

/// `x · y + z`, rounded once when `FUSED` (the caller enables FMA), else twice.
#[inline(always)]
fn multiply_add<const FUSED: bool>(x: f32, y: f32, z: f32) -> f32 {
    if FUSED { x.mul_add(y, z) } else { x * y + z }
}

/// Row `i` of C, dispatched to the instance of [`row_of`] for its exact number of columns, so
/// that the accumulators of every column live in registers.
///
/// # Safety
/// As for [`row`].
#[inline(always)]
unsafe fn row_generic<const FUSED: bool, const L: usize>(operands: &Operands, i: usize) {
    macro_rules! by_columns {
        ($($n:literal)+) => {
            match operands.c.cols {
                // SAFETY: forwarded from the caller.
                $($n => unsafe { row_of::<FUSED, $n, L>(operands, i) },)+
                other => unreachable!("a narrow product with {other} columns"),
            }
        };
    }
    by_columns!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
}

/// Row `i` of C with `N` columns: N dot products of A's row i with B's columns, `L` lanes at a
/// time.
///
/// # Safety
/// As for [`row`], with `c.cols == N`.
#[inline(always)]
unsafe fn row_of<const FUSED: bool, const N: usize, const L: usize>(operands: &Operands, i: usize) {
    let Operands {
        a,
        b,
        c,
        bias,
        output,
    } = *operands;
    let k = a.cols;
    let a_row = a.at(i, 0);
    let columns: [*const f32; N] = std::array::from_fn(|j| b.at(0, j));
    let chunks = k / L;
    let mut partial = [[0.0f32; L]; N];
    for chunk in 0..chunks {
        let offset = chunk * L;
        // SAFETY: offset + L <= k: inside A's row and every column of B.
        let a_chunk: [f32; L] = std::array::from_fn(|lane| unsafe { *a_row.add(offset + lane) });
        for (lanes, &column) in partial.iter_mut().zip(&columns) {
            for (lane, accumulator) in lanes.iter_mut().enumerate() {
                // SAFETY: as above.
                let b_value = unsafe { *column.add(offset + lane) };
                *accumulator = multiply_add::<FUSED>(a_chunk[lane], b_value, *accumulator);
            }
        }
    }
    let mut values = [0.0f32; N];
    for (j, ((value, lanes), &column)) in values.iter_mut().zip(&partial).zip(&columns).enumerate()
    {
        let mut lanes = *lanes;
        let mut width = L / 2;
        while width > 0 {
            for lane in 0..width {
                lanes[lane] += lanes[lane + width];
            }
            width /= 2;
        }
        let mut sum = lanes[0];
        for p in chunks * L..k {
            // SAFETY: p < k.
            sum = multiply_add::<FUSED>(unsafe { *a_row.add(p) }, unsafe { *column.add(p) }, sum);
        }
        // Without a bias, 0 + sum: a sum of -0 is stored as +0, whatever the output.
        *value = bias.map_or(0.0, |bias| bias[j]) + sum;
    }
    if output.is_store() {
        for (j, &value) in values.iter().enumerate() {
            // SAFETY: (i, j) is inside C, and row i is written by this call only.
            unsafe { *c.at(i, j) = value };
        }
        return;
    }
    // An update: C's row i (gathered when strided) from the row of the product. The element-wise
    // rules give the same bits on every path, so the portable one serves.
    let mut c_row = [0.0f32; N];
    for (j, element) in c_row.iter_mut().enumerate() {
        // SAFETY: (i, j) is inside C.
        *element = unsafe { *c.at(i, j) };
    }
    output.apply(i, 0, &mut c_row, &values);
    for (j, &element) in c_row.iter().enumerate() {
        // SAFETY: (i, j) is inside C, and row i is written by this call only.
        unsafe { *c.at(i, j) = element };
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::kernel::supported_kernel_paths;

    /// `x · wᵀ + bias` in f64, the reference.
    fn reference(x: &Array2<f32>, w: &Array2<f32>, bias: &[f32]) -> Array2<f64> {
        Array2::from_shape_fn((x.nrows(), w.nrows()), |(i, j)| {
            let dot: f64 = (0..x.ncols())
                .map(|p| f64::from(x[[i, p]]) * f64::from(w[[j, p]]))
                .sum();
            dot + f64::from(bias[j])
        })
    }

    #[test]
    fn narrow_products_match_the_reference_on_every_path_and_thread_count() {
        for (m, n, k) in [(64, 10, 512), (3, 1, 16), (17, 16, 37), (200, 7, 100)] {
            let x = Array2::from_shape_fn((m, k), |(i, p)| ((i * 7 + p * 3) % 11) as f32 - 5.0);
            let w = Array2::from_shape_fn((n, k), |(j, p)| ((j * 5 + p) % 13) as f32 * 0.25 - 1.5);
            let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.5).collect();
            let expected = reference(&x, &w, &bias);
            let a = MatRef::from_view(&x.view());
            let b = MatRef::from_view(&w.view()).t();
            for path in supported_kernel_paths() {
                let mut results = Vec::new();
                for threads in [1, 2, 3] {
                    let mut out = Array2::<f32>::zeros((m, n));
                    let c = MatMut::from_view(&mut out.view_mut());
                    assert!(applies(a, b, c));
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    pool.install(|| gemm(path, a, b, c, Some(&bias), Output::Store));
                    results.push(out);
                }
                for (got, want) in results[0].iter().zip(&expected) {
                    // Small integers and quarters: every product and sum here is exact in f32.
                    assert_eq!(f64::from(*got), *want, "{path} ({m}, {n}, {k})");
                }
                assert!(results.iter().all(|r| *r == results[0]), "{path}");
            }
        }
    }

    #[test]
    fn wide_or_strided_products_are_not_narrow() {
        let x = Array2::<f32>::zeros((4, 32));
        let w = Array2::<f32>::zeros((17, 32));
        let mut out = Array2::<f32>::zeros((4, 17));
        let a = MatRef::from_view(&x.view());
        let b = MatRef::from_view(&w.view()).t();
        assert!(!applies(a, b, MatMut::from_view(&mut out.view_mut())));
        let w = Array2::<f32>::zeros((32, 10)); // B's columns strided
        let mut out = Array2::<f32>::zeros((4, 10));
        let b = MatRef::from_view(&w.view());
        assert!(!applies(a, b, MatMut::from_view(&mut out.view_mut())));
    }
}
