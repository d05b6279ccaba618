//! Element-wise maps over arrays, parallel over contiguous chunks when the arrays are large.
//!
//! An element-wise map reads and writes each element once, so it is bound by memory bandwidth
//! and cheap per element: splitting it over threads pays only when there is enough of it. Each
//! output element depends on its own inputs alone, so the result never depends on the split.

use ndarray::{ArrayViewD, ArrayViewMutD, Zip};
use rayon::prelude::*;

/// Below this many elements a cheap map (ReLU and its gradient) runs on the calling thread.
///
/// 2¹⁶ floats are 256 KiB per array; one core streams that through a max or a select in roughly
/// 10–20 µs, about what it costs to wake rayon's sleeping workers and join them again. Above it
/// (e.g. a 1024 x 1024 batch, 2²⁰ elements) the threads split the memory traffic.
pub(crate) const PARALLEL_MIN_CHEAP: usize = 1 << 16;

/// Below this many elements an expensive map (one `exp` per element: sigmoid, softmax) runs on
/// the calling thread: at ~10–20 cycles per element, 2¹² elements are already ~20 µs.
pub(crate) const PARALLEL_MIN_EXPENSIVE: usize = 1 << 12;

/// Elements per parallel chunk: 64 KiB of f32, big enough to amortise a rayon task.
const CHUNK: usize = 1 << 14;

/// `out[i] = f(x[i])` for every element; `threshold` is the parallel cut-off.
///
/// # Panics
/// If the shapes differ (`name` opens the message).
pub(crate) fn map_into(
    name: &str,
    x: ArrayViewD<f32>,
    mut out: ArrayViewMutD<f32>,
    threshold: usize,
    f: impl Fn(f32) -> f32 + Sync + Send,
) {
    assert_eq!(
        x.shape(),
        out.shape(),
        "{name}: x is {:?} but out is {:?}",
        x.shape(),
        out.shape()
    );
    let parallel = x.len() >= threshold;
    if x.strides() == out.strides()
        && let (Some(x), Some(out)) = (x.as_slice_memory_order(), out.as_slice_memory_order_mut())
    {
        if parallel {
            out.par_chunks_mut(CHUNK)
                .zip(x.par_chunks(CHUNK))
                .for_each(|(out, x)| map_slice(x, out, &f));
        } else {
            map_slice(x, out, &f);
        }
        return;
    }
    let zip = Zip::from(&mut out).and(&x);
    if parallel {
        zip.par_for_each(|o, &v| *o = f(v));
    } else {
        zip.for_each(|o, &v| *o = f(v));
    }
}

/// `out[i] = f(x[i], y[i])` for every element; `threshold` is the parallel cut-off.
///
/// # Panics
/// If the shapes differ (`name` opens the message).
pub(crate) fn map2_into(
    name: &str,
    x: ArrayViewD<f32>,
    y: ArrayViewD<f32>,
    mut out: ArrayViewMutD<f32>,
    threshold: usize,
    f: impl Fn(f32, f32) -> f32 + Sync + Send,
) {
    assert_eq!(
        x.shape(),
        y.shape(),
        "{name}: x is {:?} but the second operand is {:?}",
        x.shape(),
        y.shape()
    );
    assert_eq!(
        x.shape(),
        out.shape(),
        "{name}: x is {:?} but out is {:?}",
        x.shape(),
        out.shape()
    );
    let parallel = x.len() >= threshold;
    if x.strides() == out.strides()
        && y.strides() == out.strides()
        && let (Some(x), Some(y), Some(out)) = (
            x.as_slice_memory_order(),
            y.as_slice_memory_order(),
            out.as_slice_memory_order_mut(),
        )
    {
        if parallel {
            out.par_chunks_mut(CHUNK)
                .zip(x.par_chunks(CHUNK).zip(y.par_chunks(CHUNK)))
                .for_each(|(out, (x, y))| map2_slice(x, y, out, &f));
        } else {
            map2_slice(x, y, out, &f);
        }
        return;
    }
    let zip = Zip::from(&mut out).and(&x).and(&y);
    if parallel {
        zip.par_for_each(|o, &v, &w| *o = f(v, w));
    } else {
        zip.for_each(|o, &v, &w| *o = f(v, w));
    }
}

/// The serial inner loop over matching slices (vectorised by the compiler).
#[inline]
fn map_slice(x: &[f32], out: &mut [f32], f: &impl Fn(f32) -> f32) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = f(v);
    }
}

/// The serial inner loop over matching slices (vectorised by the compiler).
#[inline]
fn map2_slice(x: &[f32], y: &[f32], out: &mut [f32], f: &impl Fn(f32, f32) -> f32) {
    for ((o, &v), &w) in out.iter_mut().zip(x).zip(y) {
        *o = f(v, w);
    }
}
