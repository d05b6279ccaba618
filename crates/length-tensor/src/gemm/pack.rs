//! Packing: copying a block of an operand into the contiguous panel layout the microkernel reads.
//!
//! A panel of width `w` holds rows `p0 .. p0 + kc` and columns `j0 .. j0 + nr` of a matrix as
//! `panel[p * w + j] = M[p0 + p, j0 + j]`, zero for `nr <= j < w`. The microkernel then reads
//! one step of k as `w` consecutive floats, whatever the original layout was. Packing costs
//! O(kc · w) and is paid once per block, against O(m · kc · w) multiply-adds that reuse it.
//!
//! Three copies, fastest first: rows contiguous (a row copy per p), columns contiguous (a
//! transpose, four by four in registers), and general strides.

use super::layout::MatRef;

/// Panel rows per band of the transposing copy ([`transpose_columns`]): a band of a 64-float-wide
/// panel is 16 KiB, half of a Zen 4 core's L1. A multiple of 4.
const TRANSPOSE_BAND_ROWS: usize = 64;

/// Writes `panel[p * width + j] = m[p0 + p, j0 + j]` for `p < kc`, `j < nr`, and zero for
/// `nr <= j < width`.
///
/// # Panics
/// If `panel` is shorter than `kc * width` or the block is outside `m`.
pub(crate) fn pack_panel(
    m: MatRef,
    p0: usize,
    kc: usize,
    j0: usize,
    nr: usize,
    width: usize,
    panel: &mut [f32],
) {
    assert!(p0 + kc <= m.rows && j0 + nr <= m.cols && nr <= width);
    let panel = &mut panel[..kc * width];
    if nr == 0 {
        panel.fill(0.0);
        return;
    }
    if m.rows_are_contiguous() {
        // A full panel as wide as a tile (the kernels' mr or nr) is copied with a length known at
        // compile time: a few vector moves per row instead of a call to memcpy, which costs
        // more than moving one cache line. It matters for AVX2's 16-float panels (one line a
        // row): the 64x512 by 512x512 input gradient ran 1-4 % faster and the weight gradients
        // 3-4 % faster on one thread (alternating runs in one process, Zen 3); AVX-512's 48-float
        // rows measured no gain either way (its 64-float rows go to memcpy).
        match (nr == width).then_some(nr) {
            Some(4) => copy_full_rows::<4>(m, p0, j0, panel),
            Some(6) => copy_full_rows::<6>(m, p0, j0, panel),
            Some(8) => copy_full_rows::<8>(m, p0, j0, panel),
            Some(16) => copy_full_rows::<16>(m, p0, j0, panel),
            Some(48) => copy_full_rows::<48>(m, p0, j0, panel),
            _ => copy_rows(m, p0, j0, nr, width, panel),
        }
    } else if m.columns_are_contiguous() {
        transpose_columns(m, p0, j0, nr, width, panel);
    } else {
        for (p, panel_row) in panel.chunks_exact_mut(width).enumerate() {
            for (j, slot) in panel_row[..nr].iter_mut().enumerate() {
                // SAFETY: (p0 + p, j0 + j) is inside `m`.
                *slot = unsafe { *m.at(p0 + p, j0 + j) };
            }
            panel_row[nr..].fill(0.0);
        }
    }
}

/// The transposing copy, for `m` whose columns are contiguous: column `j0 + j` of `m` (rows
/// `p0 ..`) becomes column j of the panel, zero-padded from `nr` to `width`.
///
/// In blocks of 4 x 4: four loads of four consecutive floats, one from each of four columns, a
/// transpose in registers, and four stores into the panel's rows. Against copying one float at a
/// time, the 64x784 and 64x512 forward products ran 4-6 % faster on one thread and 1-3 % on two
/// (alternating runs of both builds, Zen 3).
///
/// The blocks go down the columns: for each band of [`TRANSPOSE_BAND_ROWS`] panel rows, four
/// columns at a time, each read front to back through the band. The source is then read as a
/// few sequential runs, which the hardware prefetcher follows, while the band of the panel being
/// written stays in L1. A training step's transposing packs read operands written long before
/// (the batch, a layer's output), mostly from L3, and there the order counts more than L1 reuse
/// of the source: on two threads inside a step of the course's MLP (AMD Zen 4, quiet), packing x
/// (64 x 784) for the first layer's update took 9.9-10.0 µs against 15.6-16.0 µs walking the
/// panel row by row, and packing `h1ᵀ` (512 x 64) for the second layer's forward product 6.2-6.5
/// µs against 10.5-11.1 µs (bands of 32 and 128 rows gave the same).
fn transpose_columns(m: MatRef, p0: usize, j0: usize, nr: usize, width: usize, panel: &mut [f32]) {
    let kc = panel.len() / width;
    // The SSE blocks exist on x86-64 only; elsewhere every element is copied on its own.
    let blocks = cfg!(target_arch = "x86_64");
    let (full_rows, full_columns) = if blocks {
        (kc / 4 * 4, nr / 4 * 4)
    } else {
        (0, 0)
    };
    #[cfg(target_arch = "x86_64")]
    for band in (0..full_rows).step_by(TRANSPOSE_BAND_ROWS) {
        let band_rows = band..(band + TRANSPOSE_BAND_ROWS).min(full_rows);
        for j in (0..full_columns).step_by(4) {
            for p in band_rows.clone().step_by(4) {
                // SAFETY: columns j0 + j .. j0 + j + 4, rows p0 + p .. p0 + p + 4 are inside `m`
                // (asserted by `pack_panel`), each column's four rows adjacent in memory.
                unsafe {
                    transpose_4x4(
                        m.at(p0 + p, j0 + j),
                        m.cs,
                        &mut panel[p * width + j..],
                        width,
                    )
                };
            }
        }
    }
    for (p, panel_row) in panel.chunks_exact_mut(width).enumerate() {
        // The columns no 4 x 4 block wrote: the last `nr % 4` (all of them in the last `kc % 4`
        // rows).
        let first = if p < full_rows { full_columns } else { 0 };
        for (j, slot) in panel_row.iter_mut().enumerate().take(nr).skip(first) {
            // SAFETY: (p0 + p, j0 + j) is inside `m`.
            *slot = unsafe { *m.at(p0 + p, j0 + j) };
        }
        panel_row[nr..].fill(0.0);
    }
}

/// `rows[r * width + c] = column c's element r` for a 4 x 4 block: four columns that start at
/// `column`, `column_stride` floats apart, four adjacent elements each.
///
/// # Safety
/// `column + c * column_stride + r` must be valid for reads for `r, c < 4`.
#[cfg(target_arch = "x86_64")]
unsafe fn transpose_4x4(column: *const f32, column_stride: isize, rows: &mut [f32], width: usize) {
    use std::arch::x86_64::{
        _mm_loadu_ps, _mm_movehl_ps, _mm_movelh_ps, _mm_storeu_ps, _mm_unpackhi_ps, _mm_unpacklo_ps,
    };
    assert!(rows.len() >= 3 * width + 4, "four rows of four floats");
    // SAFETY: the reads are vouched for by the caller, the writes checked by the assertion;
    // SSE is part of every x86-64 CPU.
    unsafe {
        let c0 = _mm_loadu_ps(column);
        let c1 = _mm_loadu_ps(column.offset(column_stride));
        let c2 = _mm_loadu_ps(column.offset(2 * column_stride));
        let c3 = _mm_loadu_ps(column.offset(3 * column_stride));
        // Interleave pairs of columns, then join their halves: row r is (c0[r], c1[r], c2[r],
        // c3[r]).
        let (low01, low23) = (_mm_unpacklo_ps(c0, c1), _mm_unpacklo_ps(c2, c3));
        let (high01, high23) = (_mm_unpackhi_ps(c0, c1), _mm_unpackhi_ps(c2, c3));
        let out = rows.as_mut_ptr();
        _mm_storeu_ps(out, _mm_movelh_ps(low01, low23));
        _mm_storeu_ps(out.add(width), _mm_movehl_ps(low23, low01));
        _mm_storeu_ps(out.add(2 * width), _mm_movelh_ps(high01, high23));
        _mm_storeu_ps(out.add(3 * width), _mm_movehl_ps(high23, high01));
    }
}

/// The row copy for any width: columns `j0 .. j0 + nr` of each row, zero-padded to `width`.
fn copy_rows(m: MatRef, p0: usize, j0: usize, nr: usize, width: usize, panel: &mut [f32]) {
    for (p, panel_row) in panel.chunks_exact_mut(width).enumerate() {
        // SAFETY: row p0 + p, columns j0 .. j0 + nr are inside `m` (asserted by `pack_panel`)
        // and adjacent in memory.
        let source = unsafe { std::slice::from_raw_parts(m.at(p0 + p, j0), nr) };
        panel_row[..nr].copy_from_slice(source);
        panel_row[nr..].fill(0.0);
    }
}

/// The row copy of a panel exactly `N` columns wide (no padding).
fn copy_full_rows<const N: usize>(m: MatRef, p0: usize, j0: usize, panel: &mut [f32]) {
    for (p, panel_row) in panel.chunks_exact_mut(N).enumerate() {
        // SAFETY: row p0 + p, columns j0 .. j0 + N are inside `m` (asserted by `pack_panel`,
        // with nr = N) and adjacent in memory.
        let source = unsafe { &*m.at(p0 + p, j0).cast::<[f32; N]>() };
        // In pieces of one cache line: a longer copy would become a call to memcpy again.
        for (to, from) in panel_row.chunks_mut(16).zip(source.chunks(16)) {
            to.copy_from_slice(from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Packs a block of `m` with each copy routine and checks every element and the padding.
    fn check(m: ndarray::ArrayView2<f32>) {
        let (p0, kc, j0, nr, width) = (1, 3, 2, 3, 8);
        let mut panel = vec![f32::NAN; kc * width];
        pack_panel(MatRef::from_view(&m), p0, kc, j0, nr, width, &mut panel);
        for p in 0..kc {
            for j in 0..width {
                let expected = if j < nr { m[[p0 + p, j0 + j]] } else { 0.0 };
                assert_eq!(panel[p * width + j], expected, "({p}, {j})");
            }
        }
    }

    #[test]
    fn every_layout_packs_the_same_block() {
        let m = Array2::from_shape_fn((5, 7), |(i, j)| (10 * i + j) as f32);
        check(m.view());
        let transposed = m.t().as_standard_layout().into_owned();
        check(transposed.t());
        let wide = Array2::from_shape_fn((5, 14), |(i, j)| (10 * i + j / 2) as f32);
        check(wide.slice(ndarray::s![.., ..;2]));
    }

    #[test]
    fn full_panels_of_tile_widths_copy_every_element() {
        let m = Array2::from_shape_fn((6, 60), |(i, j)| (100 * i + j) as f32);
        for width in [4, 6, 8, 16, 32, 48, 5] {
            let mut panel = vec![f32::NAN; 4 * width];
            pack_panel(
                MatRef::from_view(&m.view()),
                1,
                4,
                7,
                width,
                width,
                &mut panel,
            );
            for p in 0..4 {
                assert_eq!(
                    &panel[p * width..][..width],
                    m.slice(ndarray::s![p + 1, 7..7 + width])
                        .as_slice()
                        .unwrap(),
                    "width {width}, row {p}"
                );
            }
        }
    }

    #[test]
    fn transposes_cover_blocks_and_edges() {
        // Every mix of whole 4 x 4 blocks and edges: kc and nr from 1 to 9, padded widths.
        let m = Array2::from_shape_fn((12, 11), |(i, j)| (100 * i + j) as f32);
        let column_major = m.t().as_standard_layout().into_owned();
        let source = MatRef::from_view(&column_major.t());
        for kc in 1..10 {
            for nr in 1usize..10 {
                let width = nr.next_multiple_of(8);
                let mut panel = vec![f32::NAN; kc * width];
                pack_panel(source, 2, kc, 1, nr, width, &mut panel);
                for p in 0..kc {
                    for j in 0..width {
                        let expected = if j < nr { m[[p + 2, j + 1]] } else { 0.0 };
                        assert_eq!(
                            panel[p * width + j],
                            expected,
                            "kc {kc}, nr {nr}: ({p}, {j})"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn transposes_cross_bands_of_rows() {
        // kc of 150 = two whole bands of 64 rows and 22 more (not a multiple of 4).
        let (kc, nr, width) = (150, 7, 8);
        let m = Array2::from_shape_fn((kc + 1, nr + 2), |(i, j)| (100 * i + j) as f32);
        let column_major = m.t().as_standard_layout().into_owned();
        let mut panel = vec![f32::NAN; kc * width];
        pack_panel(
            MatRef::from_view(&column_major.t()),
            1,
            kc,
            2,
            nr,
            width,
            &mut panel,
        );
        for p in 0..kc {
            for j in 0..width {
                let expected = if j < nr { m[[p + 1, j + 2]] } else { 0.0 };
                assert_eq!(panel[p * width + j], expected, "({p}, {j})");
            }
        }
    }

    #[test]
    fn long_transposes_cross_block_boundaries() {
        let m = Array2::from_shape_fn((40, 3), |(i, j)| (i * 3 + j) as f32);
        let column_major = m.t().as_standard_layout().into_owned();
        let mut panel = vec![f32::NAN; 37 * 4];
        pack_panel(
            MatRef::from_view(&column_major.t()),
            2,
            37,
            0,
            3,
            4,
            &mut panel,
        );
        for p in 0..37 {
            assert_eq!(
                &panel[p * 4..p * 4 + 4],
                &[m[[p + 2, 0]], m[[p + 2, 1]], m[[p + 2, 2]], 0.0]
            );
        }
    }
}
