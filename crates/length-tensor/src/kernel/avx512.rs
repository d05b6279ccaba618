//! The AVX-512F microkernel: a 6 x 64 tile in 24 of the 32 `zmm` registers.
//!
//! Each step of k loads four 16-float vectors of the packed B panel, broadcasts six elements of
//! A, and issues 24 fused multiply-adds: 10 loads for 24 FMAs keeps the two FMA ports busy with
//! load ports to spare. 64 columns are the batch LENGTH trains with: a forward product
//! `Cᵀ = W · xᵀ` (vectors along the batch) is one panel wide, so each weight is broadcast once,
//! and 512 columns are eight panels. Partial tiles use the AVX-512 lane masks, so edge columns
//! cost no scalar code when C is row-contiguous.
//!
//! Against the 8 x 48 tile it replaces, which split the batch into two 32-wide panels and so
//! broadcast every weight twice, SGD epochs of the course's MLP took 0.98x the time on one thread
//! and 0.94x on two (median per-round ratios of 13 alternating rounds of 2 epochs in two
//! sittings, Intel Xeon with AVX-512: 0.91x and 0.96x in a fast hour, 1.01x and 0.93x in a slow
//! one), with the same bits: the tile's shape does not change the order of any sum. The forward
//! products alone ran 2-12 % faster on one thread.

use std::arch::x86_64::{
    __m512, __mmask16, _CMP_GT_OQ, _mm512_cmp_ps_mask, _mm512_fmadd_ps, _mm512_loadu_ps,
    _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps, _mm512_maskz_mov_ps, _mm512_max_ps,
    _mm512_mul_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps, _mm512_sub_ps,
};

use super::{
    Finish, Init, Tile, TileShape, dispatch_tile_shape, gather_tile, run_of_tiles, scatter_tile,
};

/// Floats per `zmm` register.
const LANES: usize = 16;

/// Steps of k per pass of the kernel's loop. With four, the five large products of a training
/// step ran 1-6 % faster together on one thread (6 alternating rounds; each product 0-9 %) and
/// two-thread SGD epochs took 0.94x the time (6 alternating runs), Intel Xeon with AVX-512; the
/// kernel alone in L1 ran no faster, two steps per pass about as fast, eight slower.
const K_UNROLL: usize = 4;

/// The AVX-512 path's tile: 6 rows by 4 x 16 columns. A B micro-panel of 96 x 64 floats is
/// 24 KiB, which leaves room in a 32 KiB L1 (48 KiB on recent Intel cores: 128 measured no
/// different there); an A micro-panel of 6 x 1024 floats is 24 KiB.
pub(crate) const SHAPE: TileShape = TileShape {
    lanes: LANES,
    mr: 6,
    nv: 4,
    kc_b_resident: 96,
    kc_a_resident: 1024,
};

/// Runs the kernel instantiated for `mr` rows and `nv` vectors per row.
///
/// # Safety
/// See [`super::run_tiles`]; the CPU must support AVX-512F.
pub(super) unsafe fn tile(mr: usize, nv: usize, tile: &Tile) {
    // SAFETY: forwarded from the caller.
    unsafe {
        dispatch_tile_shape!(
            run,
            mr,
            nv,
            tile,
            rows = [1, 2, 3, 4, 5, 6],
            vectors = [1, 2, 3, 4]
        )
    }
}

/// The lanes of vector `v` that hold one of the first `nr` columns.
#[inline(always)]
fn lane_mask(nr: usize, v: usize) -> __mmask16 {
    let valid = nr.saturating_sub(v * LANES).min(LANES);
    ((1u32 << valid) - 1) as __mmask16
}

run_of_tiles!(#[target_feature(enable = "avx512f")]);

/// `C = init + A · B` for one `MR x (NV * 16)` tile.
///
/// # Safety
/// See [`super::run_tiles`]; the CPU must support AVX-512F.
#[inline]
#[target_feature(enable = "avx512f")]
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
    let mut acc = [[_mm512_setzero_ps(); NV]; MR];
    // SAFETY: the caller guarantees every address below is inside A, the packed panel or C;
    // masked loads and stores do not touch the masked-off lanes.
    unsafe {
        match init {
            Init::Zero => {}
            Init::Accumulate if c_cs == 1 => {
                for (i, row) in acc.iter_mut().enumerate() {
                    let c_row = c.offset(i as isize * c_rs);
                    for (v, vector) in row.iter_mut().enumerate() {
                        *vector = _mm512_maskz_loadu_ps(lane_mask(nr, v), c_row.add(v * LANES));
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
                        *vector = _mm512_loadu_ps(lanes.as_ptr());
                    }
                }
            }
            Init::BiasColumns(bias) => {
                for v in 0..NV {
                    let bias_v = _mm512_maskz_loadu_ps(lane_mask(nr, v), bias.add(v * LANES));
                    for row in acc.iter_mut() {
                        row[v] = bias_v;
                    }
                }
            }
            Init::BiasRows(bias) => {
                for (i, row) in acc.iter_mut().enumerate() {
                    *row = [_mm512_set1_ps(*bias.add(i)); NV];
                }
            }
        }

        // The k loop for A's strides `$a_rs`, `$a_ks` and B's `$b_ks`. One base pointer per row
        // of A and one shared offset along k: each broadcast is a single `[row + offset]` load,
        // whatever A's row stride. Each step of k: NV vectors of B's row, MR broadcasts of A's
        // column, MR x NV multiply-adds; K_UNROLL steps per pass, then the rest one by one (the
        // same multiply-adds in the same order).
        macro_rules! walk_k {
            ($a_rs:expr, $a_ks:expr, $b_ks:expr) => {{
                let (a_rs, a_ks, b_ks): (isize, isize, usize) = ($a_rs, $a_ks, $b_ks);
                let a_rows: [*const f32; MR] = std::array::from_fn(|i| a.offset(i as isize * a_rs));
                let step = |acc: &mut [[__m512; NV]; MR], b_p: *const f32, a_offset: isize| {
                    let mut b_vectors = [_mm512_setzero_ps(); NV];
                    for (v, vector) in b_vectors.iter_mut().enumerate() {
                        *vector = _mm512_loadu_ps(b_p.add(v * LANES));
                    }
                    for (row, a_row) in acc.iter_mut().zip(&a_rows) {
                        let a_ip = _mm512_set1_ps(*a_row.offset(a_offset));
                        for (vector, &b_v) in row.iter_mut().zip(&b_vectors) {
                            *vector = _mm512_fmadd_ps(a_ip, b_v, *vector);
                        }
                    }
                };
                let mut b_p = b;
                let mut a_offset = 0isize;
                for _ in 0..kc / K_UNROLL {
                    for u in 0..K_UNROLL {
                        step(&mut acc, b_p.add(u * b_ks), a_offset + u as isize * a_ks);
                    }
                    b_p = b_p.add(K_UNROLL * b_ks);
                    a_offset += K_UNROLL as isize * a_ks;
                }
                for _ in 0..kc % K_UNROLL {
                    step(&mut acc, b_p, a_offset);
                    b_p = b_p.add(b_ks);
                    a_offset += a_ks;
                }
            }};
        }
        // The large products read a packed panel of B (NV vectors a row) and A either packed
        // (MR floats a step) or by rows (one float a step). With those strides known at compile
        // time, a step's loads are constant offsets from a few pointers; with all three unknown,
        // the compiler rebuilt A's row pointers with a chain of 24 integer adds per pass of four
        // steps (against 2-3), and the kernel alone in L1 ran 4-7 % slower than a minimal loop
        // (1.5-2 % so). The step's five large products ran 1.03x as fast on one thread (faster in
        // 5 of 6 alternating rounds), Intel Xeon with AVX-512.
        let packed_b = NV * LANES;
        match (a_rs, a_ks, b_ks) {
            (1, ks, bs) if ks == MR as isize && bs == packed_b => walk_k!(1, MR as isize, packed_b),
            (rs, 1, bs) if bs == packed_b => walk_k!(rs, 1, packed_b),
            _ => walk_k!(a_rs, a_ks, b_ks),
        }

        // Read only now: taken apart with the other fields before the k loop, the gated
        // finish's pointers made the large products 2-3 % slower (inside a two-thread training
        // step, AMD Zen 4: the 512-unit layer's input gradient 161-162 µs against 156-157 µs).
        match t.finish {
            Finish::Store => {}
            Finish::StoreRelu => {
                // max(c, 0) takes the second operand for NaN and for ±0: +0, as `relu` gives.
                for vector in acc.as_flattened_mut() {
                    *vector = _mm512_max_ps(*vector, _mm512_setzero_ps());
                }
            }
            Finish::StoreGated { gate, gate_rs, .. } => {
                // Kept where gate > 0 (an ordered comparison: false for NaN), else +0.
                for (i, row) in acc.iter_mut().enumerate() {
                    let gate_row = gate.offset(i as isize * gate_rs);
                    for (v, vector) in row.iter_mut().enumerate() {
                        let gate = _mm512_maskz_loadu_ps(lane_mask(nr, v), gate_row.add(v * LANES));
                        let on = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(gate, _mm512_setzero_ps());
                        *vector = _mm512_maskz_mov_ps(on, *vector);
                    }
                }
            }
            Finish::Descend(rate) => {
                debug_assert_eq!(c_cs, 1, "a descending tile's rows are contiguous");
                let rate = _mm512_set1_ps(rate);
                for (i, row) in acc.iter_mut().enumerate() {
                    let c_row = c.offset(i as isize * c_rs);
                    for (v, vector) in row.iter_mut().enumerate() {
                        let old = _mm512_maskz_loadu_ps(lane_mask(nr, v), c_row.add(v * LANES));
                        *vector = _mm512_sub_ps(old, _mm512_mul_ps(rate, *vector));
                    }
                }
            }
        }

        if c_cs == 1 {
            for (i, row) in acc.iter().enumerate() {
                let c_row = c.offset(i as isize * c_rs);
                for (v, &vector) in row.iter().enumerate() {
                    let mask = lane_mask(nr, v);
                    if mask == __mmask16::MAX {
                        _mm512_storeu_ps(c_row.add(v * LANES), vector);
                    } else if mask != 0 {
                        _mm512_mask_storeu_ps(c_row.add(v * LANES), mask, vector);
                    }
                }
            }
        } else {
            let mut staged = [[[0.0f32; LANES]; NV]; MR];
            for (row, staged_row) in acc.iter().zip(staged.iter_mut()) {
                for (&vector, lanes) in row.iter().zip(staged_row.iter_mut()) {
                    _mm512_storeu_ps(lanes.as_mut_ptr(), vector);
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
