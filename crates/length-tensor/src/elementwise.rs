//! Element-wise maps over arrays, parallel over contiguous chunks when the arrays are large.
//!
//! An element-wise map reads and writes each element once, so it is bound by memory bandwidth
//! and cheap per element: splitting it over threads pays only when there is enough of it. Each
//! output element depends on its own inputs alone, so the result never depends on the split.

use ndarray::{ArrayViewD, ArrayViewMutD, Zip};

use crate::team;

/// Below this many elements a cheap map (ReLU and its gradient) runs on the calling thread.
///
/// 2¹⁴ floats are 64 KiB per array, a few microseconds for one core, against the microsecond or
/// so that a parallel phase of the kernels' team costs ([`crate::team`]). Split, each thread also
/// reads the rows of a product's output that it wrote itself where it has them, in its own cache.
pub(crate) const PARALLEL_MIN_CHEAP: usize = 1 << 14;

/// Below this many elements an expensive map (one `exp` per element: sigmoid, softmax) runs on
/// the calling thread: at ~10–20 cycles per element, 2¹² elements are already ~20 µs.
pub(crate) const PARALLEL_MIN_EXPENSIVE: usize = 1 << 12;

/// Elements per parallel chunk: 16 KiB of f32, so that a 64 x 512 batch (2¹⁵ elements) gives
/// each of two threads a share of its own.
const CHUNK: usize = 1 << 12;

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
    let parallel = team::split_pays(x.len(), threshold);
    if x.strides() == out.strides()
        && let (Some(x), Some(out)) = (x.as_slice_memory_order(), out.as_slice_memory_order_mut())
    {
        if parallel {
            team::for_each_chunk_mut(out, CHUNK, |chunk, out| {
                let start = chunk * CHUNK;
                map_slice(&x[start..start + out.len()], out, &f);
            });
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

/// `x[i] = f(x[i])` for every element, in place; `threshold` is the parallel cut-off.
pub(crate) fn map_in_place(
    mut x: ArrayViewMutD<f32>,
    threshold: usize,
    f: impl Fn(f32) -> f32 + Sync + Send,
) {
    let parallel = team::split_pays(x.len(), threshold);
    if let Some(x) = x.as_slice_memory_order_mut() {
        let apply = |values: &mut [f32]| values.iter_mut().for_each(|v| *v = f(*v));
        if parallel {
            team::for_each_chunk_mut(x, CHUNK, |_, chunk| apply(chunk));
        } else {
            apply(x);
        }
        return;
    }
    if parallel {
        x.par_map_inplace(|v| *v = f(*v));
    } else {
        x.map_inplace(|v| *v = f(*v));
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
    let parallel = team::split_pays(x.len(), threshold);
    if x.strides() == out.strides()
        && y.strides() == out.strides()
        && let (Some(x), Some(y), Some(out)) = (
            x.as_slice_memory_order(),
            y.as_slice_memory_order(),
            out.as_slice_memory_order_mut(),
        )
    {
        if parallel {
            team::for_each_chunk_mut(out, CHUNK, |chunk, out| {
                let range = chunk * CHUNK..chunk * CHUNK + out.len();
                map2_slice(&x[range.clone()], &y[range], out, &f);
            });
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::thread::{self, ThreadId};

    use ndarray::Array2;

    use super::*;
    use crate::team::test_pool as pool;

    /// Maps a strided view (the path that uses rayon's iterators) with `f` recording the threads
    /// it ran on.
    fn threads_of_a_strided_map() -> Vec<ThreadId> {
        let x = Array2::<f32>::ones((256, 256));
        let mut out = Array2::<f32>::zeros((256, 256));
        let seen = Mutex::new(Vec::new());
        map_into(
            "test",
            x.t().into_dyn(),
            out.view_mut().into_dyn(),
            1,
            |v| {
                seen.lock().unwrap().push(thread::current().id());
                v
            },
        );
        assert!(out.iter().all(|&v| v == 1.0));
        seen.into_inner().unwrap()
    }

    #[test]
    fn a_strided_map_inside_alone_stays_on_the_calling_thread() {
        pool(2).install(|| {
            let caller = thread::current().id();
            let seen = team::alone(threads_of_a_strided_map);
            assert!(seen.iter().all(|&id| id == caller));
        });
    }
}
