//! The AVX2 + FMA microkernel: a 6 x 16 tile in 12 of the 16 `ymm` registers.
//!
//! Each step of k loads two 8-float vectors of the packed B panel, broadcasts six elements of A
//! and issues 12 fused multiply-adds; the remaining registers hold the B vectors and one
//! broadcast. Partial tiles use `vmaskmovps`, so edge columns need no scalar code when C is
//! row-contiguous.

use std::arch::x86_64::{
    __m256i, _CMP_GT_OQ, _MM_HINT_ET0, _mm_prefetch, _mm256_and_ps, _mm256_cmp_ps,
    _mm256_cmpgt_epi32, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_maskload_ps, _mm256_maskstore_ps,
    _mm256_max_ps, _mm256_mul_ps, _mm256_set1_epi32, _mm256_set1_ps, _mm256_setr_epi32,
    _mm256_setzero_ps, _mm256_storeu_ps, _mm256_sub_ps,
};

use super::{
    Finish, Init, Tile, TileShape, dispatch_tile_shape, gather_tile, run_of_tiles, scatter_tile,
};

/// Floats per `ymm` register.
const LANES: usize = 8;

/// The longest k block for which the kernel prefetches its tile of C before the k loop. A short
/// loop (the weight gradients' k = 64) leaves little time to hide the misses of the tile's six
/// rows, 2-3 KiB apart, when it stores them: prefetched, the 512x64x784 weight gradient ran 1-7 %
/// faster (alternating runs in one process). Longer loops hide them anyway.
const PREFETCH_C_MAX_K: usize = 128;

/// The AVX2 path's tile: 6 rows by 2 x 8 columns. A B micro-panel of 384 x 16 floats is
/// 24 KiB; an A micro-panel of 6 x 1024 floats is 24 KiB.
pub(crate) const SHAPE: TileShape = TileShape {
    lanes: LANES,
    mr: 6,
    nv: 2,
    kc_b_resident: 384,
    kc_a_resident: 1024,
};

/// Runs the kernel instantiated for `mr` rows and `nv` vectors per row.
///
/// # Safety
/// See [`super::run_tiles`]; the CPU must support AVX2 and FMA.
pub(super) unsafe fn tile(mr: usize, nv: usize, tile: &Tile) {
    // SAFETY: forwarded from the caller.
    unsafe {
        dispatch_tile_shape!(
            run,
            mr,
            nv,
            tile,
            rows = [1, 2, 3, 4, 5, 6],
            vectors = [1, 2]
        )
    }
}

/// All-ones in the lanes of vector `v` that hold one of the first `nr` columns.
#[inline]
#[target_feature(enable = "avx2")]
fn lane_mask(nr: usize, v: usize) -> (__m256i, usize) {
    let valid = nr.saturating_sub(v * LANES).min(LANES);
    let mask = _mm256_cmpgt_epi32(
        _mm256_set1_epi32(valid as i32),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    );
    (mask, valid)
}

run_of_tiles!(#[target_feature(enable = "avx2,fma")]);

/// `C = init + A · B` for one `MR x (NV * 8)` tile.
///
/// # Safety
/// See [`super::run_tiles`]; the CPU must support AVX2 and FMA.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel<const MR: usize, const NV: usize>(t: &Tile) {
    let Tile {
        kc,
        a,
        a_rs,
        a_ks,
        b,
        b_ks,
        c,
        c_rs,
        c_cs,
        nr,
        init,
        ..
    } = *t;
    let width = NV * LANES;
    let mut acc = [[_mm256_setzero_ps(); NV]; MR];
    // SAFETY: the caller guarantees every address below is inside A, the packed panel or C;
    // masked loads and stores do not touch the masked-off lanes.
    unsafe {
        match init {
            Init::Zero => {}
            Init::Accumulate if c_cs == 1 && nr == width => {
                for (i, row) in acc.iter_mut().enumerate() {
                    let c_row = c.offset(i as isize * c_rs);
                    for (v, vector) in row.iter_mut().enumerate() {
                        *vector = _mm256_loadu_ps(c_row.add(v * LANES));
                    }
                }
            }
            Init::Accumulate if c_cs == 1 => {
                for (i, row) in acc.iter_mut().enumerate() {
                    let c_row = c.offset(i as isize * c_rs);
                    for (v, vector) in row.iter_mut().enumerate() {
                        let (mask, _) = lane_mask(nr, v);
                        *vector = _mm256_maskload_ps(c_row.add(v * LANES), mask);
                    }
                }
            }
            Init::Accumulate => {
                let mut staged = [[[0.0f32; LANES]; NV]; MR];
                gather_tile(
                    staged.as_flattened_mut().as_flattened_mut(),
                    width,
                    MR,
                    nr,
                    c,
                    c_rs,
                    c_cs,
                );
                for (row, staged_row) in acc.iter_mut().zip(&staged) {
                    for (vector, lanes) in row.iter_mut().zip(staged_row) {
                        *vector = _mm256_loadu_ps(lanes.as_ptr());
                    }
                }
            }
            Init::BiasColumns(bias) => {
                for v in 0..NV {
                    let (mask, _) = lane_mask(nr, v);
                    let bias_v = _mm256_maskload_ps(bias.add(v * LANES), mask);
                    for row in acc.iter_mut() {
                        row[v] = bias_v;
                    }
                }
            }
            Init::BiasRows(bias) => {
                for (i, row) in acc.iter_mut().enumerate() {
                    *row = [_mm256_set1_ps(*bias.add(i)); NV];
                }
            }
        }

        // The tile of C is written after the k loop: ask for its lines now, so that they arrive
        // while the loop runs instead of stalling the stores one line at a time. (A prefetch of
        // an address outside C is harmless: it faults nothing and is dropped.)
        if c_cs == 1 && kc <= PREFETCH_C_MAX_K {
            for i in 0..MR {
                let c_row = c.wrapping_offset(i as isize * c_rs);
                _mm_prefetch::<_MM_HINT_ET0>(c_row.cast::<i8>());
                _mm_prefetch::<_MM_HINT_ET0>(c_row.wrapping_add(width - 1).cast::<i8>());
            }
        }

        // Each step of k: NV vectors of B's row, MR broadcasts of A's column (`$a(i)` is row
        // i's element at this step), MR x NV multiply-adds; then `$advance` moves A on.
        let mut b_p = b;
        macro_rules! walk_k {
            ($a:expr, $advance:expr) => {
                for _ in 0..kc {
                    let mut b_vectors = [_mm256_setzero_ps(); NV];
                    for (v, vector) in b_vectors.iter_mut().enumerate() {
                        *vector = _mm256_loadu_ps(b_p.add(v * LANES));
                    }
                    for (i, row) in acc.iter_mut().enumerate() {
                        let a_ip = _mm256_set1_ps(*$a(i));
                        for (vector, &b_v) in row.iter_mut().zip(&b_vectors) {
                            *vector = _mm256_fmadd_ps(a_ip, b_v, *vector);
                        }
                    }
                    b_p = b_p.add(b_ks);
                    $advance;
                }
            };
        }
        if a_rs == 1 {
            // The tile's column of A is contiguous (packed column panels, or a small A read in
            // place): one pointer walks k and the rows are constant offsets from it. Against the
            // general form below, the 512- and 784-wide weight gradients ran 1-2 % faster on one
            // thread and 4-5 % on two (alternating runs of both builds).
            let mut a_p = a;
            walk_k!(|i| a_p.add(i), a_p = a_p.offset(a_ks));
        } else {
            // One base pointer per row of A and one shared offset along k: each broadcast is a
            // single `[row + offset]` load, whatever A's row stride.
            let a_rows: [*const f32; MR] = std::array::from_fn(|i| a.offset(i as isize * a_rs));
            let mut a_offset = 0isize;
            walk_k!(|i: usize| a_rows[i].offset(a_offset), a_offset += a_ks);
        }

        // Read only now, as on AVX-512 (where reading it before the k loop cost 2-3 %).
        match t.finish {
            Finish::Store => {}
            Finish::StoreRelu => {
                // max(c, 0) takes the second operand for NaN and for ±0: +0, as `relu` gives.
                for vector in acc.as_flattened_mut() {
                    *vector = _mm256_max_ps(*vector, _mm256_setzero_ps());
                }
            }
            Finish::StoreGated { gate, gate_rs, .. } => {
                // Kept where gate > 0 (an ordered comparison: false for NaN), else +0.
                for (i, row) in acc.iter_mut().enumerate() {
                    let gate_row = gate.offset(i as isize * gate_rs);
                    for (v, vector) in row.iter_mut().enumerate() {
                        let (mask, _) = lane_mask(nr, v);
                        let gate = _mm256_maskload_ps(gate_row.add(v * LANES), mask);
                        let on = _mm256_cmp_ps::<_CMP_GT_OQ>(gate, _mm256_setzero_ps());
                        *vector = _mm256_and_ps(*vector, on);
                    }
                }
            }
            Finish::Descend(rate) => {
                debug_assert_eq!(c_cs, 1, "a descending tile's rows are contiguous");
                let rate = _mm256_set1_ps(rate);
                for (i, row) in acc.iter_mut().enumerate() {
                    let c_row = c.offset(i as isize * c_rs);
                    for (v, vector) in row.iter_mut().enumerate() {
                        let (mask, _) = lane_mask(nr, v);
                        let old = _mm256_maskload_ps(c_row.add(v * LANES), mask);
                        *vector = _mm256_sub_ps(old, _mm256_mul_ps(rate, *vector));
                    }
                }
            }
        }

        if c_cs == 1 && nr == width {
            // A full tile: every vector whole, no masks.
            for (i, row) in acc.iter().enumerate() {
                let c_row = c.offset(i as isize * c_rs);
                for (v, &vector) in row.iter().enumerate() {
                    _mm256_storeu_ps(c_row.add(v * LANES), vector);
                }
            }
        } else if c_cs == 1 {
            for (i, row) in acc.iter().enumerate() {
                let c_row = c.offset(i as isize * c_rs);
                for (v, &vector) in row.iter().enumerate() {
                    let (mask, valid) = lane_mask(nr, v);
                    if valid == LANES {
                        _mm256_storeu_ps(c_row.add(v * LANES), vector);
                    } else if valid != 0 {
                        _mm256_maskstore_ps(c_row.add(v * LANES), mask, vector);
                    }
                }
            }
        } else {
            let mut staged = [[[0.0f32; LANES]; NV]; MR];
            for (row, staged_row) in acc.iter().zip(staged.iter_mut()) {
                for (&vector, lanes) in row.iter().zip(staged_row.iter_mut()) {
                    _mm256_storeu_ps(lanes.as_mut_ptr(), vector);
                }
            }
            scatter_tile(
                staged.as_flattened().as_flattened(),
                width,
                MR,
                nr,
                c,
                c_rs,
                c_cs,
            );
        }
    }
}
