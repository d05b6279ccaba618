//! Flushing optimizer state that decays towards the subnormal numbers to zero.
//!
//! x86 CPUs compute with subnormal numbers (smaller in magnitude than `f32::MIN_POSITIVE`) in
//! microcode, a hundred times slower; momentum's velocity and Adam's moments decay into them
//! when their gradients stay zero. The update rules pass such state through these functions.

/// State smaller in magnitude than this is set to zero by [`flush_tiny`].
pub(crate) const TINY: f32 = 1e-30;

/// `x`, or zero if `|x| < 1e-30` ([`TINY`]): for state that the update multiplies by the
/// learning rate (Adam's first moment, momentum's velocity).
///
/// Such state decays geometrically once its gradient has become 0 (`m ← β·m` for the weights of a
/// pixel that is almost always blank, or of a unit that ReLU switched off), and after some hundred
/// steps the product `η·m` falls below `f32::MIN_POSITIVE` (1.2·10⁻³⁸) into the subnormal
/// numbers, long before `m` itself does. x86 CPUs compute with subnormal numbers in microcode, a
/// hundred cycles or so per operation: with thousands of such moments, the later epochs of an MNIST
/// run with Adam took half as long again as the first. Below 10⁻³⁰ (`η·m` stays normal for any
/// learning rate from 10⁻⁸ up) the state is set to zero instead. That changes no parameter: such a
/// moment moves one by less than `η·10⁻³⁰/ε` = `η·10⁻²²`, far below the last bit of any weight
/// larger than 10⁻¹⁴. NaN and infinities pass unchanged; the comparison and the select
/// vectorise.
#[inline(always)]
pub(crate) fn flush_tiny(x: f32) -> f32 {
    if x.abs() < TINY { 0.0 } else { x }
}

/// `x`, or zero if `x` is subnormal (nonzero and smaller in magnitude than `f32::MIN_POSITIVE`):
/// for state that only decays and feeds a square root (Adam's second moment), which stays out of
/// the subnormal range then. See [`flush_tiny`] for why.
#[inline(always)]
pub(crate) fn flush_subnormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_state_flushes_to_zero_and_everything_else_passes() {
        assert_eq!(flush_tiny(9e-31), 0.0);
        assert_eq!(flush_tiny(-1e-35), 0.0);
        for x in [TINY, -TINY, 1e-20, -3.0, 0.0, f32::NEG_INFINITY] {
            assert_eq!(flush_tiny(x), x);
        }
        assert!(flush_tiny(f32::NAN).is_nan());
    }

    #[test]
    fn subnormals_flush_to_zero_and_everything_else_passes() {
        let smallest_normal = f32::MIN_POSITIVE;
        assert_eq!(flush_subnormal(smallest_normal / 2.0), 0.0);
        assert_eq!(flush_subnormal(-smallest_normal / 1024.0), 0.0);
        for x in [
            smallest_normal,
            -smallest_normal,
            1.0,
            -3e-20,
            0.0,
            f32::INFINITY,
        ] {
            assert_eq!(flush_subnormal(x), x);
        }
        assert!(flush_subnormal(f32::NAN).is_nan());
    }
}
