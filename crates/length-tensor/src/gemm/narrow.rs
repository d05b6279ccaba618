//! Narrow products: at most [`MAX_COLUMNS`] columns of C, with A's rows and B's columns both
//! contiguous along k. The output layer's forward pass `x · Wᵀ` (64 x 512 by 512 x 10) is one.
//!
//! For them the blocked GEMM does poorly: a 10-column panel fills 10 of a vector's 16 lanes, and
//! packing the 10 columns of B (a transposing copy of all of W) costs about as much as the
//! multiply. But each element of C is a dot product of two contiguous arrays, a row of A and a
//! column of B, so the vectors can run along k instead:
//!
//! ```text
//! for each pair of rows i, i + 1 of A:
//!     for each group of at most 6 columns J:       (10 columns: two groups of 5)
//!         partial[r][j] = 0 (L lanes)              for r < 2, j in J
//!         for each chunk of L along k:             L = 8 on AVX2, 16 elsewhere
//!             load A's two chunks once; for each j in J, load B's chunk once:
//!             partial[r][j] += A[i + r, chunk] * B[chunk, j]     lane by lane
//!     C[i + r, j] = bias[j] + (the L lanes of partial[r][j] added pairwise)
//!                 + the last k mod L terms
//! ```
//!
//! No packing, up to 12 independent accumulators to hide the multiply-add latency, and the order
//! of every sum fixed by the shapes alone: rows are split between threads (for products of at
//! least [`PARALLEL_MIN_FLOPS`]), never k, so the result does not depend on the number of threads;
//! nor does it depend on how rows and columns are grouped, since each element is summed alone.

use super::epilogue::Output;
use super::layout::{MatMut, MatRef};
use crate::kernel::KernelPath;
use crate::team;

/// Below this many floating-point operations (2·m·n·k) a narrow product runs on the calling
/// thread alone. Lower than the packed products' threshold: a narrow product has no packing
/// phase, and its input, the previous layer's output, was written by every thread, so each
/// thread reading its own rows of it is cheaper than one thread reading all. The course MLP's
/// output layer (64x512 by 10x512ᵀ, 655,360 flops) took 10 µs on two threads against 17 µs on
/// one inside a two-thread training step (AVX-512).
pub(crate) const PARALLEL_MIN_FLOPS: usize = 1 << 18;

/// The most columns of C this form handles.
pub(crate) const MAX_COLUMNS: usize = 16;

/// Floats per chunk of k: one AVX-512 vector (also the portable path's chunk, and the fewest
/// elements of k a narrow product has).
const LANES: usize = 16;

/// Floats per chunk of k on the AVX2 path: one `ymm` register.
const AVX2_LANES: usize = 8;

/// Rows of C per parallel task (an even number: rows go through the kernel in pairs).
const ROWS_PER_TASK: usize = 16;

/// Rows of A that share each load of a chunk of B's column.
const ROW_PAIR: usize = 2;

/// The most columns one pass over a pair of rows handles: 2 x 6 accumulators, two chunks of A
/// and one of B fit AVX2's sixteen registers. Wider products take several passes, over groups of
/// near-equal width (10 columns: two groups of 5).
const GROUP_COLUMNS: usize = 6;

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
        let end = (first + ROWS_PER_TASK).min(m);
        for i in (first..end).step_by(ROW_PAIR) {
            // SAFETY: rows i .. i + count of A and columns 0..n of B are inside their matrices,
            // each k contiguous floats (`applies`); those rows of C are written by this task only.
            unsafe { rows_of_c(path, &operands, i, ROW_PAIR.min(end - i)) };
        }
    };
    if team::threads() > 1 && 2 * m * n * k >= PARALLEL_MIN_FLOPS {
        team::for_each(m.div_ceil(ROWS_PER_TASK), |task| rows(task * ROWS_PER_TASK));
    } else {
        (0..m).step_by(ROWS_PER_TASK).for_each(rows);
    }
}

/// Rows `i .. i + count` of C (`count` is 1 or 2) on `path`.
///
/// # Safety
/// As for [`gemm`]: the rows exist and the operands satisfy [`applies`]; `path` is supported.
unsafe fn rows_of_c(path: KernelPath, operands: &Operands, i: usize, count: usize) {
    // SAFETY: forwarded from the caller; each wrapper runs only where its features exist.
    unsafe {
        match path {
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => rows_avx512(operands, i, count),
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => rows_avx2(operands, i, count),
            _ => rows_generic::<false, LANES>(operands, i, count),
        }
    }
}

/// [`rows_generic`] compiled for AVX-512 with fused multiply-adds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn rows_avx512(operands: &Operands, i: usize, count: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { rows_generic::<true, LANES>(operands, i, count) }
}

/// [`rows_generic`] compiled for AVX2 with fused multiply-adds, 8 lanes at a time (one `ymm`
/// register per accumulator: with 16 lanes, the accumulators would not fit AVX2's sixteen
/// registers and would spill to the stack).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn rows_avx2(operands: &Operands, i: usize, count: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { rows_generic::<true, AVX2_LANES>(operands, i, count) }
}

/// `x · y + z`, rounded once when `FUSED` (the caller enables FMA), else twice.
#[inline(always)]
fn multiply_add<const FUSED: bool>(x: f32, y: f32, z: f32) -> f32 {
    if FUSED { x.mul_add(y, z) } else { x * y + z }
}

/// Rows `i .. i + count` of C: the dot products of each group of columns (computed by the
/// instance of [`dot_products`] for the group's exact width and row count, so that every
/// accumulator lives in a register), then the bias and the store or update, row by row.
///
/// Against one row at a time (ten accumulators, eleven loads per ten multiply-adds), the pair
/// shares each load of B between two rows: 64x512 by 512x10 took 9.8-10.6 µs instead of
/// 13.3-14.1 (alternating runs of both builds, AVX2, one and two threads), from even with the
/// `gemm` crate to 1.30-1.36x faster.
///
/// # Safety
/// As for [`rows_of_c`].
#[inline(always)]
unsafe fn rows_generic<const FUSED: bool, const L: usize>(
    operands: &Operands,
    i: usize,
    count: usize,
) {
    let n = operands.c.cols;
    let mut sums = [[0.0f32; MAX_COLUMNS]; ROW_PAIR];
    let groups = n.div_ceil(GROUP_COLUMNS);
    let (base, extra) = (n / groups, n % groups);
    let mut j0 = 0;
    for group in 0..groups {
        let width = base + usize::from(group < extra);
        macro_rules! by_width {
            ($($g:literal)+) => {
                match (count, width) {
                    // SAFETY: forwarded from the caller; j0 + width <= n.
                    $(
                        (1, $g) => unsafe {
                            dot_products::<FUSED, 1, $g, L>(operands, i, j0, &mut sums)
                        },
                        (2, $g) => unsafe {
                            dot_products::<FUSED, 2, $g, L>(operands, i, j0, &mut sums)
                        },
                    )+
                    other => unreachable!("a narrow block of (rows, columns) {other:?}"),
                }
            };
        }
        by_width!(1 2 3 4 5 6);
        j0 += width;
    }
    for (r, row_sums) in sums.iter().enumerate().take(count) {
        // SAFETY: row i + r is one of the caller's rows.
        unsafe { finish_row(operands, i + r, &row_sums[..n]) };
    }
}

/// The dot products of rows `i .. i + R` of A with columns `j0 .. j0 + G` of B, into
/// `sums[r][j0 + g]`: `L` lanes at a time along k, each chunk of a column loaded once for the
/// `R` rows, then the lanes added pairwise and the last `k mod L` terms one by one.
///
/// # Safety
/// As for [`rows_of_c`], with `j0 + G <= c.cols` and `R <= count`.
#[inline(always)]
unsafe fn dot_products<const FUSED: bool, const R: usize, const G: usize, const L: usize>(
    operands: &Operands,
    i: usize,
    j0: usize,
    sums: &mut [[f32; MAX_COLUMNS]; ROW_PAIR],
) {
    let Operands { a, b, .. } = *operands;
    let k = a.cols;
    let a_rows: [*const f32; R] = std::array::from_fn(|r| a.at(i + r, 0));
    let columns: [*const f32; G] = std::array::from_fn(|g| b.at(0, j0 + g));
    let chunks = k / L;
    // partial[g][r]: column j0 + g, row i + r.
    let mut partial = [[[0.0f32; L]; R]; G];
    for chunk in 0..chunks {
        let offset = chunk * L;
        // SAFETY: offset + L <= k: inside A's rows and every column of B.
        let a_chunks: [[f32; L]; R] = std::array::from_fn(|r| {
            std::array::from_fn(|lane| unsafe { *a_rows[r].add(offset + lane) })
        });
        for (column_partial, &column) in partial.iter_mut().zip(&columns) {
            // SAFETY: as above.
            let b_chunk: [f32; L] =
                std::array::from_fn(|lane| unsafe { *column.add(offset + lane) });
            for (lanes, a_chunk) in column_partial.iter_mut().zip(&a_chunks) {
                for (lane, accumulator) in lanes.iter_mut().enumerate() {
                    *accumulator =
                        multiply_add::<FUSED>(a_chunk[lane], b_chunk[lane], *accumulator);
                }
            }
        }
    }
    for (g, (column_partial, &column)) in partial.iter().zip(&columns).enumerate() {
        for (r, (lanes, &a_row)) in column_partial.iter().zip(&a_rows).enumerate() {
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
                sum =
                    multiply_add::<FUSED>(unsafe { *a_row.add(p) }, unsafe { *column.add(p) }, sum);
            }
            sums[r][j0 + g] = sum;
        }
    }
}

/// Row `i` of C from its dot products `sums` (one per column): plus the bias, stored (through
/// ReLU or gated when the output says so), or C's row updated from them.
///
/// # Safety
/// Row `i` of C exists and is written by this call only; `sums.len() == c.cols`.
#[inline(always)]
unsafe fn finish_row(operands: &Operands, i: usize, sums: &[f32]) {
    let Operands {
        c, bias, output, ..
    } = *operands;
    let n = sums.len();
    let mut values = [0.0f32; MAX_COLUMNS];
    for (j, (value, &sum)) in values.iter_mut().zip(sums).enumerate() {
        // Without a bias, 0 + sum: a sum of -0 is stored as +0, whatever the output.
        *value = bias.map_or(0.0, |bias| bias[j]) + sum;
    }
    let values = &values[..n];
    if output.is_store() {
        for (j, &value) in values.iter().enumerate() {
            // SAFETY: (i, j) is inside C, and row i is written by this call only.
            unsafe { *c.at(i, j) = output.stored(i, j, value) };
        }
        return;
    }
    // An update: C's row i (gathered when strided) from the row of the product. The element-wise
    // rules give the same bits on every path, so the portable one serves.
    let mut c_row = [0.0f32; MAX_COLUMNS];
    let c_row = &mut c_row[..n];
    for (j, element) in c_row.iter_mut().enumerate() {
        // SAFETY: (i, j) is inside C.
        *element = unsafe { *c.at(i, j) };
    }
    output.apply(i, 0, c_row, values);
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
