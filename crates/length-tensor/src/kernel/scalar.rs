//! The portable microkernel: plain Rust on arrays, for CPUs without AVX2 and non-x86 targets.
//!
//! A 4 x 8 tile (`MR = 4` rows, `NV = 2` groups of `LANES = 4` columns) held in 32 `f32`
//! accumulators, which fit the 16 registers of baseline SSE2 or NEON; the compiler is free to
//! vectorise the innermost loop. Multiply and add are separate (no `mul_add`: without hardware
//! FMA it is a slow library call).

use super::{Finish, Init, Tile, TileShape, dispatch_tile_shape, run_of_tiles};
use crate::activation::{relu_gradient_scalar, relu_scalar};

/// Columns per (virtual) vector.
const LANES: usize = 4;

/// The scalar path's tile: 4 rows by 2 x 4 columns; micro-panels of 16 KiB.
pub(crate) const SHAPE: TileShape = TileShape {
    lanes: LANES,
    mr: 4,
    nv: 2,
    kc_b_resident: 512,
    kc_a_resident: 1024,
};

/// Runs the kernel instantiated for `mr` rows and `nv` vectors per row.
///
/// # Safety
/// See [`super::run_tiles`].
pub(super) unsafe fn tile(mr: usize, nv: usize, tile: &Tile) {
    // SAFETY: forwarded from the caller.
    unsafe { dispatch_tile_shape!(run, mr, nv, tile, rows = [1, 2, 3, 4], vectors = [1, 2]) }
}

run_of_tiles!();

/// `C = init + A · B` for one `MR x (NV * LANES)` tile.
///
/// # Safety
/// See [`super::run_tiles`].
#[inline]
unsafe fn kernel<const MR: usize, const NV: usize>(t: &Tile) {
    let mut acc = [[[0.0f32; LANES]; NV]; MR];
    let nr = t.nr;
    // SAFETY: the caller guarantees every address below is inside A, the packed panel or C.
    unsafe {
        match t.init {
            Init::Zero => {}
            Init::Accumulate => {
                for (i, row) in acc.iter_mut().enumerate() {
                    for j in 0..nr {
                        row[j / LANES][j % LANES] =
                            *t.c.offset(i as isize * t.c_rs + j as isize * t.c_cs);
                    }
                }
            }
            Init::BiasColumns(bias) => {
                for row in acc.iter_mut() {
                    for j in 0..nr {
                        row[j / LANES][j % LANES] = *bias.add(j);
                    }
                }
            }
            Init::BiasRows(bias) => {
                for (i, row) in acc.iter_mut().enumerate() {
                    *row = [[*bias.add(i); LANES]; NV];
                }
            }
        }
        for p in 0..t.kc {
            let b = t.b.add(p * t.b_ks);
            let a = t.a.offset(p as isize * t.a_ks);
            for (i, row) in acc.iter_mut().enumerate() {
                let a_ip = *a.offset(i as isize * t.a_rs);
                for (v, vector) in row.iter_mut().enumerate() {
                    for (l, lane) in vector.iter_mut().enumerate() {
                        *lane += a_ip * *b.add(v * LANES + l);
                    }
                }
            }
        }
        match t.finish {
            Finish::Store => {}
            Finish::StoreRelu => {
                for lane in acc.as_flattened_mut().as_flattened_mut() {
                    *lane = relu_scalar(*lane);
                }
            }
            Finish::StoreGated { gate, gate_rs, .. } => {
                for (i, row) in acc.iter_mut().enumerate() {
                    for j in 0..nr {
                        let gate = *gate.offset(i as isize * gate_rs + j as isize);
                        let lane = &mut row[j / LANES][j % LANES];
                        *lane = relu_gradient_scalar(gate, *lane);
                    }
                }
            }
            Finish::Descend(rate) => {
                for (i, row) in acc.iter_mut().enumerate() {
                    for j in 0..nr {
                        let old = *t.c.offset(i as isize * t.c_rs + j as isize * t.c_cs);
                        let lane = &mut row[j / LANES][j % LANES];
                        *lane = old - rate * *lane;
                    }
                }
            }
        }
        for (i, row) in acc.iter().enumerate() {
            for j in 0..nr {
                *t.c.offset(i as isize * t.c_rs + j as isize * t.c_cs) = row[j / LANES][j % LANES];
            }
        }
    }
}
