//! Software prefetching: asking the CPU to start loading memory that will be needed soon.

/// Starts loading the cache lines of `data` into the L1 cache, without waiting for them; a hint
/// that changes no value (on CPUs without a prefetch instruction it does nothing).
///
/// Worth it where the hardware prefetchers cannot guess the next address: a tile of a large
/// matrix, whose rows are kilobytes apart, that will be read after some hundred cycles of other
/// work. The GEMM prefetches the tile of W an optimizer's step will update while the
/// microkernel computes that tile's gradient (see `gemm::epilogue`).
#[inline]
pub(crate) fn prefetch(data: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        const LINE_FLOATS: usize = 64 / size_of::<f32>();
        let lines = data
            .iter()
            .step_by(LINE_FLOATS)
            .chain(data.last())
            .map(|element| std::ptr::from_ref(element).cast::<i8>());
        for line in lines {
            // SAFETY: SSE is part of x86_64; a prefetch reads nothing the program can see, and
            // the address is inside `data`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(line) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}
