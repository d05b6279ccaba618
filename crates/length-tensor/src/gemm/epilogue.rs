//! What a GEMM does with each finished tile of the product: store it, or subtract a multiple of
//! it from C — a plain gradient step, `W ← W − η·(gᵀ·x)`, folded into the product that
//! computes the gradient.
//!
//! Folded, the gradient never reaches memory: the microkernel leaves each tile in a small staging
//! array that stays in L1, and the tile of W is read and written once, right away. Computed in two
//! passes instead, the gradient (as large as W) is written, then read again with W, and W is
//! written: three passes over arrays that do not fit in L2 rather than one.
//!
//! The arithmetic is that of the two-pass version, bit for bit: the product of each element is
//! the same sum in the same order, then `c − (η·p)` with the multiply and the subtraction each
//! rounded to `f32` (no fused multiply-add), as `length-optim`'s SGD computes `p -= η·g`.

use crate::kernel::KernelPath;

/// An element-wise update of C from a piece of the product: `update(i, j0, c, product)` with
/// `c` = C's row i, columns `j0 .. j0 + c.len()`, and `product` the same elements of `A · B`.
pub type TileUpdate<'a> = &'a (dyn Fn(usize, usize, &mut [f32], &[f32]) + Sync);

/// What happens to C.
#[derive(Clone, Copy)]
pub(crate) enum Output<'a> {
    /// `C = A · B (+ bias)`.
    Store,
    /// `C = C − scale · (A · B)`, rounding the product, then the scaled product, to `f32`.
    SubtractScaled(f32),
    /// Each piece of C updated from the same piece of the product, by the caller's rule (an
    /// optimizer's step), each element exactly once, pieces possibly on several threads at once.
    Update(TileUpdate<'a>),
}

impl Output<'_> {
    /// Whether C is simply overwritten with the product.
    pub(crate) fn is_store(self) -> bool {
        matches!(self, Output::Store)
    }

    /// Applies the output's rule to C's row `i`, columns `j0 ..`, from the same elements of the
    /// product. Not for [`Output::Store`].
    pub(crate) fn apply(
        self,
        path: KernelPath,
        i: usize,
        j0: usize,
        c: &mut [f32],
        product: &[f32],
    ) {
        match self {
            Output::Store => unreachable!("a stored product has no epilogue"),
            Output::SubtractScaled(scale) => subtract_scaled(path, c, product, scale),
            Output::Update(update) => update(i, j0, c, product),
        }
    }
}

/// The most floats of one register tile on any kernel path (AVX-512: 8 rows by 48 columns).
pub(crate) const MAX_TILE: usize = 8 * 48;

/// `c[j] -= scale * product[j]` for every `j`, compiled for the widest vectors of `path`.
pub(crate) fn subtract_scaled(path: KernelPath, c: &mut [f32], product: &[f32], scale: f32) {
    debug_assert_eq!(c.len(), product.len());
    match path {
        // SAFETY: a kernel path is only ever chosen on a CPU that supports it.
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 => unsafe { subtract_scaled_avx512(c, product, scale) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 => unsafe { subtract_scaled_avx2(c, product, scale) },
        _ => subtract_scaled_portable(c, product, scale),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn subtract_scaled_avx512(c: &mut [f32], product: &[f32], scale: f32) {
    subtract_scaled_portable(c, product, scale);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn subtract_scaled_avx2(c: &mut [f32], product: &[f32], scale: f32) {
    subtract_scaled_portable(c, product, scale);
}

/// The loop itself; inlined into each wrapper, which the compiler vectorises for its features.
#[inline(always)]
fn subtract_scaled_portable(c: &mut [f32], product: &[f32], scale: f32) {
    for (c, &p) in c.iter_mut().zip(product) {
        *c -= scale * p;
    }
}
