//! Packing: copying a block of an operand into the contiguous panel layout the microkernel reads.
//!
//! A panel of width `w` holds rows `p0 .. p0 + kc` and columns `j0 .. j0 + nr` of a matrix as
//! `panel[p * w + j] = M[p0 + p, j0 + j]`, zero for `nr <= j < w`. The microkernel then reads
//! one step of k as `w` consecutive floats, whatever the original layout was. Packing costs
//! O(kc · w) and is paid once per block, against O(m · kc · w) multiply-adds that reuse it.
//!
//! Three copies, fastest first: rows contiguous (a row copy per p), columns contiguous (a
//! transpose, done in small blocks so reads and writes both stay in L1), and general strides.

use super::layout::MatRef;

/// Rows of the source read per block by the transposing copy: one 64-byte cache line of floats.
const TRANSPOSE_BLOCK: usize = 16;

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
        // rows measured no gain either way.
        match (nr == width).then_some(nr) {
            Some(4) => copy_full_rows::<4>(m, p0, j0, panel),
            Some(6) => copy_full_rows::<6>(m, p0, j0, panel),
            Some(8) => copy_full_rows::<8>(m, p0, j0, panel),
            Some(16) => copy_full_rows::<16>(m, p0, j0, panel),
            Some(48) => copy_full_rows::<48>(m, p0, j0, panel),
            _ => copy_rows(m, p0, j0, nr, width, panel),
        }
    } else if m.columns_are_contiguous() {
        for (block, panel_block) in panel.chunks_mut(TRANSPOSE_BLOCK * width).enumerate() {
            let p_start = p0 + block * TRANSPOSE_BLOCK;
            let rows = panel_block.len() / width;
            for j in 0..nr {
                // SAFETY: column j0 + j, rows p_start .. p_start + rows are inside `m` and
                // adjacent in memory.
                let column = unsafe { std::slice::from_raw_parts(m.at(p_start, j0 + j), rows) };
                for (q, &value) in column.iter().enumerate() {
                    panel_block[q * width + j] = value;
                }
            }
            for panel_row in panel_block.chunks_exact_mut(width) {
                panel_row[nr..].fill(0.0);
            }
        }
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
